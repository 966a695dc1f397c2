/* Braiins OS / OS+ (BOSminer, BOSminer+, BOSer): the pure normalizer.
 * JSON replies in, AmSample out; no I/O. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* The replies one poll gathers; any may be NULL (not answered). Each is the
 * whole reply object (STATUS plus its section). */
typedef struct {
  JsonObject *version;
  JsonObject *summary; /* required */
  JsonObject *pools;
  JsonObject *temps;
  JsonObject *fans;
  JsonObject *devs;
} AmBraiinsReplies;

/* SUPPORTED when the version reply carries a BOSminer, BOSminer+ or BOSer
 * key, or the Description names one of them, or the web page (http_body,
 * http_title) contains "Braiins OS"; else UNSUPPORTED. Pure. */
AmMatch am_braiins_match(const AmFingerprint *fp);

/* Returns: (transfer full) the sample, or NULL with AM_ERROR_UNSUPPORTED (no
 * summary answer) or AM_ERROR_PARSE (a summary reply without SUMMARY). */
AmSample *am_braiins_parse(const AmBraiinsReplies *replies, GError **error);

G_END_DECLS
