/* Whatsminer API v3 replies -> AmSample: the pure normalizer. Decoded
 * replies in (am-whatsminer-v3.h), a sample out; no I/O. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* The replies one v3 poll gathers, each the whole reply object
 * ({"code":0,"msg":{...},"desc":...}); any but summary may be NULL. */
typedef struct {
  JsonObject *summary;     /* get.miner.status, param "summary": required */
  JsonObject *device_info; /* get.device.info: identity, PSU, error codes */
  JsonObject *edevs;       /* get.miner.status, param "edevs": per board */
  JsonObject *pools;       /* get.miner.status, param "pools" */
  /* What the poll asked for and could not read, one "what: why" line each
   * (NULL-terminated, or NULL): the sample is then partial. */
  const char *const *failed;
} AmWhatsminerV3Replies;

/* Returns: (transfer full) the sample, or NULL with AM_ERROR_UNSUPPORTED
 * (no summary reply) or AM_ERROR_PARSE (a summary reply without a
 * msg.summary object). Every other reply is optional: one that is missing
 * leaves its fields unknown, and one that was asked for but failed (in
 * @replies->failed, or present without its msg member) makes the sample
 * partial: x_whatsminer_partial lists what failed and each adds a problem
 * "partial reply: <what>: <why>". */
AmSample *am_whatsminer_v3_parse(const AmWhatsminerV3Replies *replies, GError **error);

/* What a fingerprint says of API v3, which the core's one "version" call
 * cannot see: MAYBE for a miner configured on @v3_port whose port gave no
 * cgminer answer; else UNSUPPORTED. Pure. (The core's identification and
 * scan never look at 4433 themselves.) */
AmMatch am_whatsminer_v3_match(const AmFingerprint *fp, guint16 v3_port);

G_END_DECLS
