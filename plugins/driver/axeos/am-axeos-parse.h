/* The axeos driver's normalizer: the JSON that AxeOS (ESP-Miner, the
 * firmware of the Bitaxe and its relatives NerdAxe, NerdQAxe and
 * LuckyMiner) serves at /api/system/info and /api/system/asic in, one
 * AmSample out. Pure: no I/O, no global state, so it is tested
 * table-driven against recorded replies (tests/fixtures/bitaxe/) and
 * fuzzed.
 *
 * /api/system/info is one flat object: hashRate in GH/s, power in W, temp
 * (the ASIC) and vrTemp (the voltage regulator) in degrees C, fanrpm,
 * uptimeSeconds, the primary and fallback stratum settings, the session's
 * share counters and the identity (macAddr, hostname, version, ASICModel,
 * boardVersion). /api/system/asic (ESP-Miner 2.9 and later) adds
 * deviceModel and asicCount. Which field goes where, and why, is in
 * README.md next to this file. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_AXEOS_INFO_PATH "/api/system/info"
#define AM_AXEOS_ASIC_PATH "/api/system/asic"

/* The parsed replies of one poll. @info is required; @asic may be NULL
 * (not asked, or HTTP 404 on firmware before 2.9). */
typedef struct {
  JsonObject *info; /* /api/system/info */
  JsonObject *asic; /* /api/system/asic */
} AmAxeosReplies;

/* From the shared fingerprint (plugin.h): SUPPORTED when the page title of
 * GET / names AxeOS, NerdAxe, NerdQAxe or LuckyMiner; LIKELY for another
 * "Nerd" title; MAYBE for any other page that answered 2xx (or 401 without
 * an auth realm: AxeOS refuses clients outside private networks), so a
 * unit with a renamed title is still tried after the likelier drivers;
 * UNSUPPORTED when the RPC port answered, nothing answered on HTTP, a
 * realm asks for credentials, or the status is anything else. */
AmMatch am_axeos_match(const AmFingerprint *fp);

/* Parses the body of @path (AM_AXEOS_INFO_PATH, ...) strictly as JSON: the
 * firmware writes it with cJSON, so a body that needs repairs is not an
 * AxeOS reply, and a truncated one must not pass as a short one.
 * Errors: AM_ERROR_PARSE naming @path ("empty reply", "not JSON: ...",
 * "not a JSON object").
 * Returns: (transfer full) the root object, or NULL with @error. */
JsonObject *am_axeos_parse_body(const char *path, const char *data, gsize len, GError **error);

/* TRUE when @info lacks what /api/system/asic would add (deviceModel, or
 * the asicCount the nominal hashrate needs), so asking it is worth a
 * request. */
gboolean am_axeos_wants_asic(JsonObject *info);

/* Normalizes one poll's replies into a new sample whose driver is "axeos";
 * host, port and when are left for the core, and am_sample_finish() is
 * not called. A missing or unreadable hashRate leaves the hashrate
 * unknown and records a problem naming the key, so a renamed field does
 * not hide the rest of the reading.
 * Errors: AM_ERROR_UNSUPPORTED (no info reply), AM_ERROR_PARSE (an object
 * with none of the keys an AxeOS reply always has).
 * Returns: (transfer full) the sample, or NULL with @error. */
AmSample *am_axeos_parse(const AmAxeosReplies *replies, GError **error);

G_END_DECLS
