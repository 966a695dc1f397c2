/* MicroBT Whatsminer (btminer), read-only cgminer-style API: the pure
 * normalizer. JSON replies in, AmSample out; no I/O. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* The replies one poll gathers; any may be NULL (not answered). */
typedef struct {
  JsonObject *version; /* cgminer layout, or the Whatsminer one (Msg object) */
  JsonObject *summary; /* required */
  JsonObject *pools;
  JsonObject *status;     /* Whatsminer layout: STATUS a string, Msg an object */
  JsonObject *devs;       /* per-board detail, where answered */
  JsonObject *devdetails; /* the model, where answered */
} AmWhatsminerReplies;

/* SUPPORTED for the Whatsminer reply layout or a mention of btminer/bitmicro;
 * LIKELY for a mention of Whatsminer; MAYBE for the plain "cgminer 4.9.2"
 * that btminer reports; else UNSUPPORTED. Pure. */
AmMatch am_whatsminer_match(const AmFingerprint *fp);

/* Returns: (transfer full) the sample, or NULL with AM_ERROR_UNSUPPORTED (no
 * summary answer) or AM_ERROR_PARSE (a summary reply without SUMMARY). */
AmSample *am_whatsminer_parse(const AmWhatsminerReplies *replies, GError **error);

G_END_DECLS
