/* The elphapex driver's normalizer: the JSON that Elphapex stock firmware
 * (DG1, DG Home; scrypt) serves from /cgi-bin/NAME.cgi in, one AmSample out.
 * Pure: no I/O, no global state, so it is tested table-driven against the
 * recorded replies (tests/fixtures/elphapex/) and fuzzed.
 *
 * The CGI is Antminer-like (STATUS an object, INFO.type the model, STATS[0]
 * with chain[] and fan[]), with Elphapex's own quirks: rates in rate_unit
 * "MH/s", chip temperatures as milli-degree strings, freq_avg in kHz, fan
 * speeds as strings, and the power in a separate get_power.cgi. Which field
 * goes where, and why, is in README.md next to this file. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* The realms Elphapex web servers put in their 401 challenge. */
#define AM_ELPHAPEX_REALM_DAOGE "Daoge Miner"
#define AM_ELPHAPEX_REALM_NAME "Elphapex"

/* The endpoints of one poll, in the order they are asked. */
typedef enum {
  AM_ELPHAPEX_STATS,
  AM_ELPHAPEX_SUMMARY,
  AM_ELPHAPEX_POOLS,
  AM_ELPHAPEX_SYSTEM_INFO,
  AM_ELPHAPEX_POWER,
  AM_ELPHAPEX_BLINK,
  AM_ELPHAPEX_MINER_CONF,
  AM_ELPHAPEX_N_ENDPOINTS,
} AmElphapexEndpoint;

/* "/cgi-bin/stats.cgi", ... for @e. */
const char *am_elphapex_path(AmElphapexEndpoint e);
/* "stats.cgi", ...: the name in messages and in the API's raw view. */
const char *am_elphapex_name(AmElphapexEndpoint e);

/* The parsed root objects of one poll, indexed by endpoint; any may be NULL
 * (not served, failed, or not JSON). */
typedef struct {
  JsonObject *reply[AM_ELPHAPEX_N_ENDPOINTS];
} AmElphapexReplies;

/* From the shared fingerprint: SUPPORTED when GET / answered 401 with the
 * realm "Daoge Miner" (any realm starting "Daoge") or one containing
 * "Elphapex", else UNSUPPORTED. */
AmMatch am_elphapex_match(const AmFingerprint *fp);

/* Parses the body of endpoint @e as a JSON object, through the same
 * firmware repairs as the cgminer API.
 * Errors: AM_ERROR_PARSE naming the endpoint ("empty reply", "not JSON",
 * "not a JSON object").
 * Returns: (transfer full) the root object, or NULL with @error. */
JsonObject *am_elphapex_parse_body(AmElphapexEndpoint e, const char *data, gsize len,
                                   GError **error);

/* Normalizes one poll's replies into a new sample whose driver is
 * "elphapex"; host, port and when are left for the core, and
 * am_sample_finish() is not called. A reply that is there but unusable (an
 * error STATUS, no data block) marks the sample partial and names it.
 * Errors: AM_ERROR_UNSUPPORTED (neither stats nor summary), AM_ERROR_API
 * (both carry an error STATUS), AM_ERROR_PARSE (neither has its data
 * block).
 * Returns: (transfer full) the sample, or NULL with @error. */
AmSample *am_elphapex_parse(const AmElphapexReplies *replies, GError **error);

G_END_DECLS
