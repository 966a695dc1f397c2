/* The goldshell driver's normalizer: a Goldshell unit's cgminer RPC replies
 * (summary, devs, devdetails, pools) and its web server's /mcb/status in,
 * one AmSample out. Pure: no I/O, no global state, so it is tested
 * table-driven against the recorded replies (tests/fixtures/goldshell/)
 * and fuzzed.
 *
 * The RPC gives the hashrate in MH/s under "MHS 20s" (SUMMARY and each
 * DEVS entry), per board tstemp-2 (the PCB) and tstemp-0/1 (chip
 * sensors), the fans as fan0..fan3 repeated in every DEVS entry, and
 * DEVDETAILS[]."chips-nr". /mcb/status names the model and the firmware
 * version. There is no power reading. README.md next to this file says
 * which field goes where and why. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_GOLDSHELL_LOGIN_PATH "/user/login"
#define AM_GOLDSHELL_STATUS_PATH "/mcb/status"

/* One poll's replies; any may be NULL (not answered, or unreadable). */
typedef struct {
  JsonObject *summary;    /* RPC summary (the whole reply) */
  JsonObject *devs;       /* RPC devs */
  JsonObject *devdetails; /* RPC devdetails */
  JsonObject *pools;      /* RPC pools */
  JsonObject *status;     /* GET /mcb/status */
} AmGoldshellReplies;

/* From the shared fingerprint: SUPPORTED when the web page (title or text)
 * says "cloud-box" or "Goldshell", or the RPC version reply names
 * Goldshell; LIKELY when it names the miner programs Goldshell units run
 * (KDAMiner, intchains_qomo); UNSUPPORTED otherwise. */
AmMatch am_goldshell_match(const AmFingerprint *fp);

/* Parses the body of @path strictly as one JSON object.
 * Errors: AM_ERROR_PARSE naming @path. Returns: (transfer full). */
JsonObject *am_goldshell_parse_body(const char *path, const char *data, gsize len, GError **error);

/* Returns: (transfer full) the "JWT Token" of a login reply, or NULL with
 * AM_ERROR_AUTH (no token: the credentials were refused) or
 * AM_ERROR_PARSE. Never names the token or the password. */
char *am_goldshell_token(const char *data, gsize len, GError **error);

/* Returns: (transfer full) "Goldshell ARI31" from /mcb/status's
 * "Goldshell-ARI31", or NULL. */
char *am_goldshell_model(const char *raw);

/* Normalizes one poll's replies into a new sample whose driver is
 * "goldshell"; host, port and when are left for the core. A reply that is
 * missing is left to the caller to report (am_sample_mark_partial()).
 * Errors: AM_ERROR_UNSUPPORTED when none of summary, devs and status is
 * there. Returns: (transfer full) the sample, or NULL with @error. */
AmSample *am_goldshell_parse(const AmGoldshellReplies *replies, GError **error);

G_END_DECLS
