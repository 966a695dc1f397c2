/* The epic driver's normalizer: the JSON that ePIC UMC OS (the PowerPlay
 * API, HTTP on TCP 4028) serves at /summary, /capabilities, /temps and
 * /network in, one AmSample out. Pure: no I/O, no global state, so it is
 * tested table-driven against recorded replies (tests/fixtures/epic/) and
 * fuzzed.
 *
 * /summary carries nearly everything: per-board hashrate in MH/s
 * (HBs[].Hashrate[0]), the PSU's input power, fans, the session's shares
 * and uptime, the stratum state and the operating state. /capabilities
 * names the model, its nominal hashrate and the board serials; /temps has
 * every board sensor (also for a disabled board); /network the MAC;
 * /hashrate one row per chip found; /temps/chip the chip sensors where a
 * model has them. Which field goes where, and why, is in README.md next
 * to this file. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_EPIC_SUMMARY_PATH "/summary"
#define AM_EPIC_CAPABILITIES_PATH "/capabilities"
#define AM_EPIC_TEMPS_PATH "/temps"
#define AM_EPIC_NETWORK_PATH "/network"
#define AM_EPIC_HASHRATE_PATH "/hashrate"
#define AM_EPIC_CHIP_TEMPS_PATH "/temps/chip"

/* The parsed replies of one poll. @summary is required; each of the others
 * may be NULL (it failed to arrive or to parse: the sample is then partial,
 * see am_epic_parse()). */
typedef struct {
  JsonObject *summary;      /* /summary: an object */
  JsonObject *capabilities; /* /capabilities: an object */
  JsonArray *temps;         /* /temps: an array of {Index, Data[]} */
  JsonObject *network;      /* /network: {"dhcp": {...}} or {"static": {...}} */
  JsonArray *hashrate;      /* /hashrate: per board, per chip [MH/s, %, ?] */
  JsonArray *chip_temps;    /* /temps/chip: per board, per chip C (0: no sensor) */
  /* Why an optional reply is NULL, naming its path ("/temps: not JSON:
   * ..."), for the partial sample's problem; NULL says "<path>: no reply". */
  const char *capabilities_error;
  const char *temps_error;
  const char *network_error;
  const char *hashrate_error;
  const char *chip_temps_error;
} AmEpicReplies;

/* From the shared fingerprint (plugin.h), pure: UNSUPPORTED when a cgminer
 * "version" reply came back (that is cgminer's RPC, not PowerPlay);
 * SUPPORTED when the RPC port answered HTTP and GET / names ePIC (the page
 * title "Miner Web Dashboard", or "ePIC", "umcOS", "PowerPlay" in the
 * title, body or Server header); LIKELY for such a page on another port;
 * MAYBE for any other HTTP on the RPC port; UNSUPPORTED otherwise. */
AmMatch am_epic_match(const AmFingerprint *fp);

/* Parses the body of @path strictly as JSON (PowerPlay writes it with
 * serde, so a body that needs repairs is not a PowerPlay reply).
 * Errors: AM_ERROR_PARSE naming @path ("empty reply", "not JSON: ...").
 * Returns: (transfer full) the root node, or NULL with @error. */
JsonNode *am_epic_parse_body(const char *path, const char *data, gsize len, GError **error);

/* The root of @node as the object (or array) a PowerPlay path returns.
 * Errors: AM_ERROR_PARSE naming @path ("not a JSON object" / "array").
 * Returns: (transfer full) a new reference, or NULL with @error. */
JsonObject *am_epic_root_object(const char *path, JsonNode *node, GError **error);
JsonArray *am_epic_root_array(const char *path, JsonNode *node, GError **error);

/* Normalizes one poll's replies into a new sample whose driver is "epic";
 * host, port and when are left for the core, and am_sample_finish() is
 * not called. An optional reply that is missing marks the sample partial
 * naming the path; a missing board hashrate leaves that board's (and the
 * total) unknown with a problem naming the key.
 * Errors: AM_ERROR_UNSUPPORTED (no /summary reply), AM_ERROR_PARSE (an
 * object with none of the members a /summary always has).
 * Returns: (transfer full) the sample, or NULL with @error. */
AmSample *am_epic_parse(const AmEpicReplies *replies, GError **error);

G_END_DECLS
