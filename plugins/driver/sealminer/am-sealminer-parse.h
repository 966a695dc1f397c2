/* The sealminer driver's normalizer: Bitdeer SealMiner (BDMiner firmware)
 * replies in, one AmSample out. Pure: no I/O, no global state, so it is
 * tested table-driven against recorded replies (tests/fixtures/sealminer/)
 * and fuzzed.
 *
 * BDMiner speaks the cgminer API on TCP 4028 ("stats", "summary", "pools",
 * "version"); its "stats" block is flat, with per-board keys prefixed by
 * the board number ("0 MHS(Sample)", "1 Temp 2") and the PSU's own
 * readings ("PSU Input Power"). The web UI's PHP API, behind a login
 * cookie, adds get_system_info and miner-psu-status. Which field goes
 * where, and why, is in README.md next to this file. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_SEALMINER_LOGIN_PATH "/cgi-bin/login.php"
#define AM_SEALMINER_SYSTEM_INFO_PATH "/cgi-bin/get_system_info.php"
#define AM_SEALMINER_PSU_STATUS_PATH "/cgi-bin/miner-psu-status.php"

/* The parsed replies of one poll; NULL where one did not arrive. The RPC
 * ones are whole replies (STATUS and the named section). */
typedef struct {
  JsonObject *stats;
  JsonObject *summary;
  JsonObject *pools;
  JsonObject *version;
  JsonObject *system_info; /* web: get_system_info.php */
  JsonObject *psu_status;  /* web: miner-psu-status.php */
} AmSealminerReplies;

/* From the shared fingerprint: SUPPORTED when the RPC "version" reply is
 * BDMiner's (a "BDMiner" member in VERSION, or "bdminer" in the STATUS
 * description); UNSUPPORTED otherwise. */
AmMatch am_sealminer_match(const AmFingerprint *fp);

/* Parses the body of a web reply (@path names it) strictly as a JSON
 * object. Errors: AM_ERROR_PARSE naming the path.
 * Returns: (transfer full) the object, or NULL with @error. */
JsonObject *am_sealminer_parse_web(const char *path, const char *data, gsize len, GError **error);

/* Normalizes one poll's replies into a new sample whose driver is
 * "sealminer"; host, port and when are left for the core, and
 * am_sample_finish() is not called.
 * Errors: AM_ERROR_UNSUPPORTED when neither "stats" nor "summary" came (no
 * reading to report).
 * Returns: (transfer full) the sample, or NULL with @error. */
AmSample *am_sealminer_parse(const AmSealminerReplies *replies, GError **error);

G_END_DECLS
