/* The auradine driver's normalizer: the replies of an Auradine Teraflux
 * (GCMiner on FluxOS) in, one AmSample out. Pure: no I/O, no global state,
 * so it is tested table-driven against recorded replies
 * (tests/fixtures/auradine/) and fuzzed.
 *
 * The miner speaks two APIs. The cgminer RPC on TCP 4028 gives hashrate,
 * shares, uptime, boards (devs) and pools; the web API on TCP 8080 gives
 * identity (ipreport), temperatures, fans, the PSU, the operating mode,
 * the LED and per-chip voltage and frequency. Both answer in the cgminer
 * layout (a STATUS array, then one named section). Which field goes where,
 * and why, is in README.md next to this file. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_AURADINE_WEB_PORT 8080

/* The web API's read commands, in the order a poll asks them. Each is a
 * GET of "/<command>" carrying the header "Token: <token>". */
#define AM_AURADINE_WEB_COMMANDS                                                                   \
  {                                                                                                \
    "ipreport", "temperature", "fan", "psu", "mode", "led", "voltage", "frequency", NULL           \
  }

/* The parsed replies of one poll; any may be NULL (not asked, not answered,
 * or not parsed). The RPC ones are whole reply roots. */
typedef struct {
  /* RPC, TCP 4028 */
  JsonObject *version;
  JsonObject *summary;
  JsonObject *devs;
  JsonObject *pools;
  JsonObject *asccount;
  /* web, TCP 8080 */
  JsonObject *ipreport;
  JsonObject *temperature;
  JsonObject *fan;
  JsonObject *psu;
  JsonObject *mode;
  JsonObject *led;
  JsonObject *voltage;
  JsonObject *frequency;
} AmAuradineReplies;

/* From the shared fingerprint (plugin.h): SUPPORTED when the RPC "version"
 * reply names GCMiner or FluxOS (STATUS Description "GCMiner-...", or a
 * VERSION member "GCMiner"); LIKELY when the web page (title, body or
 * Server header) names Auradine or FluxOS; else UNSUPPORTED. */
AmMatch am_auradine_match(const AmFingerprint *fp);

/* Parses the body of web command @command strictly as JSON and checks its
 * STATUS: the firmware's errors arrive as HTTP 200 with STATUS "E".
 * Errors: AM_ERROR_PARSE naming @command ("empty reply", "not JSON: ...",
 * "not a JSON object"); AM_ERROR_AUTH when STATUS E speaks of the token or
 * the login (so the caller logs in again); AM_ERROR_API for other E/F.
 * Returns: (transfer full) the root object, or NULL with @error. */
JsonObject *am_auradine_parse_body(const char *command, const char *data, gsize len,
                                   GError **error);

/* Reads Token[0].Token from a parsed POST /token reply.
 * Errors: AM_ERROR_AUTH when the reply has no token.
 * Returns: (transfer none) the token, or NULL with @error. */
const char *am_auradine_token(JsonObject *reply, GError **error);

/* Reads "58.94W", "245.00V", "4052.00 RPM" or a plain number: the number,
 * when the text after it is empty or @unit (case-insensitive, spaces
 * allowed). FALSE for anything else, so a changed unit is not misread. */
gboolean am_auradine_read_unit(JsonObject *obj, const char *key, const char *unit, double *out);

/* Normalizes one poll's replies into a new sample whose driver is
 * "auradine"; host, port and when are left for the core, and
 * am_sample_finish() is not called. A reply that is there but lacks its
 * section records a problem naming it.
 * Errors: AM_ERROR_UNSUPPORTED when no reply at all was given.
 * Returns: (transfer full) the sample, or NULL with @error. */
AmSample *am_auradine_parse(const AmAuradineReplies *replies, GError **error);

G_END_DECLS
