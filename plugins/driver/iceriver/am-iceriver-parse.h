/* The iceriver driver's normalizer: the JSON an Iceriver KS/AL unit
 * serves to POST /user/userpanel (form post=4) in, one AmSample out.
 * Pure: no I/O, no global state, so it is tested table-driven against the
 * recorded reply (tests/fixtures/iceriver/) and fuzzed.
 *
 * The reply is {"error":0,"data":{...},"message":""}. data holds the
 * hashrate as strings with a unit letter ("rtpow":"15011G", "unit":"G"),
 * boards[] with their own rates, chip counts, frequency and the inlet and
 * outlet chip temperatures, fans[] in RPM, runtime "dd:hh:mm:ss", pools[],
 * the identity (mac, host, softver1 whose suffix names the model) and
 * state flags (powstate, locate). No power reading. README.md next to
 * this file says which field goes where and why. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_ICERIVER_LOGIN_PATH "/user/loginpost"
#define AM_ICERIVER_PANEL_PATH "/user/userpanel"
/* The page title of GET / on every Iceriver unit ("user interface"). */
#define AM_ICERIVER_TITLE "用户界面"

/* From the shared fingerprint: SUPPORTED when the title of GET / (or,
 * without a parsed title, the page text) is 用户界面 and the RPC port is
 * closed, as on Iceriver units; LIKELY for that title with the RPC port
 * open (other firmware may use this generic Chinese title);
 * UNSUPPORTED otherwise. */
AmMatch am_iceriver_match(const AmFingerprint *fp);

/* Parses the body of @path strictly as one JSON object.
 * Errors: AM_ERROR_PARSE naming @path ("empty reply", "not JSON: ...",
 * "not a JSON object"); AM_ERROR_AUTH when the body is a web page, which
 * is what the unit serves instead of data to a client it has not logged
 * in. Returns: (transfer full) the root object, or NULL with @error. */
JsonObject *am_iceriver_parse_body(const char *path, const char *data, gsize len, GError **error);

/* Checks the reply to the login POST: a JSON object whose "error" is not
 * 0 means the credentials were refused (AM_ERROR_AUTH); anything else is
 * left to the userpanel reply to judge. Never names the password. */
gboolean am_iceriver_check_login(const char *data, gsize len, GError **error);

/* Returns: (transfer full) the model from softver1's suffix
 * ("ICM168_3_2_10_ks5L_miner" -> "KS5L", "..._10306miner" -> "AL3"),
 * or NULL when it has none. */
char *am_iceriver_model(const char *softver1);

/* "dd:hh:mm:ss" -> seconds. Returns FALSE for anything else. */
gboolean am_iceriver_parse_runtime(const char *text, gint64 *out_s);

/* A rate string such as "15011G" or "5160.37G" in TH/s: the trailing
 * letters are the unit (K, M, G, T, P; @unit when there are none).
 * Returns NAN when unreadable. */
double am_iceriver_rate_ths(const char *text, const char *unit);

/* Normalizes the userpanel reply into a new sample whose driver is
 * "iceriver"; host, port and when are left for the core. An unreadable
 * data.rtpow leaves the hashrate unknown and records a problem naming it.
 * Errors: AM_ERROR_API ("error" not 0), AM_ERROR_PARSE (no data object).
 * Returns: (transfer full) the sample, or NULL with @error. */
AmSample *am_iceriver_parse(JsonObject *panel, GError **error);

G_END_DECLS
