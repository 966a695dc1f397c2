/* Any cgminer-compatible API: the plain reader the core falls back to when
 * no firmware driver fits. JSON replies in, AmSample out; no I/O. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* The replies one poll gathers; any may be NULL (not answered). At least
 * one of summary, devs and stats must carry its section. */
typedef struct {
  JsonObject *version;
  JsonObject *summary;
  JsonObject *pools;
  JsonObject *devs;
  JsonObject *stats;
} AmGenericReplies;

/* MAYBE whenever something answered on the RPC port; else UNSUPPORTED. */
AmMatch am_generic_match(const AmFingerprint *fp);

/* Returns: (transfer full) the sample, or NULL with AM_ERROR_UNSUPPORTED
 * when none of summary, devs and stats was answered, or AM_ERROR_PARSE when
 * they were but carry no SUMMARY, DEVS or STATS data. */
AmSample *am_generic_parse(const AmGenericReplies *replies, GError **error);

G_END_DECLS
