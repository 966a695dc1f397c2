/* Readers for the parts of the cgminer RPC API that every cgminer-derived
 * firmware shares: the STATUS header, SUMMARY hashrate and share counters,
 * the POOLS array, the DEVS array and the Antminer-style fanN/tempN keys of
 * a STATS block. Several drivers compile this file in; it does no I/O.
 *
 * Every reader takes a whole reply object (the root, with STATUS and the
 * named section) or NULL, fills only what the reply tells, and leaves
 * everything else unknown. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* No miner has more hashboards or devices than this; readers stop there so
 * a garbled reply with thousands of entries costs linear time, not
 * quadratic (chains are found by index). */
#define AM_CGMINER_MAX_CHAINS 64

/* Returns element 0 of @reply[@section] ("SUMMARY", "VERSION", ...) when it
 * is an object, else NULL. (transfer none) */
JsonObject *am_cgminer_section(JsonObject *reply, const char *section);

/* Returns @reply's STATUS[0].Description, or the top-level Description of the
 * Whatsminer layout (STATUS a string), else NULL. (transfer none) */
const char *am_cgminer_description(JsonObject *reply);

/* Reads member @key as a boolean: JSON true/false, or the strings
 * "true"/"false"/"Y"/"N" (case-insensitive). Returns FALSE and leaves *out
 * alone when the member is absent or not one of those. */
gboolean am_cgminer_get_bool(JsonObject *obj, const char *key, gboolean *out);

/* Reads a hashrate held in a key named "<UNIT> <window>" ("MHS 5s",
 * "GHS av"): the unit comes from the key, never from a guess. Tries each of
 * @windows (NULL-terminated, e.g. {"5s", "30s", "1m", NULL}) in order with
 * each unit KHS/MHS/GHS/THS. Returns TH/s, or NAN when none is there. */
double am_cgminer_hashrate(JsonObject *obj, const char *const *windows);

/* Fills hashrate_ths (5s, else 30s, else 1m), hashrate_avg_ths ("av"),
 * elapsed_s, accepted, rejected and hw_errors from a SUMMARY reply.
 * Returns FALSE when @reply has no SUMMARY object at all. */
gboolean am_cgminer_read_summary(AmSample *sample, JsonObject *reply);

/* As am_cgminer_read_summary() for drivers that cannot do without it:
 * AM_ERROR_UNSUPPORTED when @reply is NULL (the command was not answered),
 * AM_ERROR_PARSE when it has no SUMMARY object. */
gboolean am_cgminer_require_summary(AmSample *sample, JsonObject *reply, GError **error);

/* Adds one AmPool per configured entry of a POOLS reply. Entries with no
 * URL at all are empty slots of the firmware's fixed pool table, not pools,
 * and are skipped ("Stratum URL", the connected host, never stands in for
 * it). "Stratum Active" marks the active pool. Returns how many
 * pools were added. */
guint am_cgminer_read_pools(AmSample *sample, JsonObject *reply);

/* Adds or completes one chain per DEVS entry (index from "Slot", else "ID",
 * else "ASC"/"PGA"/"GPU", else the position): hashrate from its MHS/GHS keys,
 * "Temperature" as the board temperature (sensor faults dropped) and
 * "Hardware Errors". A chain already in @sample with the same index (e.g.
 * made from a temperature reply) is completed rather than duplicated.
 * At most AM_CGMINER_MAX_CHAINS entries are read. Returns how many. */
guint am_cgminer_read_devs(AmSample *sample, JsonObject *reply);

/* Reads the Antminer-style temperature keys of one STATS data block:
 * "tempN" (board temperatures) and "temp2_N" (chip temperatures), N being
 * digits only, so "temp_max" and "temp_num" are never mistaken for readings.
 * Sensor faults are dropped. Returns how many readings were kept. */
guint am_cgminer_read_stats_temps(AmSample *sample, JsonObject *block);

/* Reads the "fanN" keys of one STATS data block ("fan_num" is not a fan);
 * 0 RPM is an empty header and dropped. Returns how many were kept. */
guint am_cgminer_read_stats_fans(AmSample *sample, JsonObject *block);

/* Reads a FANS reply (Braiins OS, LuxOS): one RPM per fan header, 0 being
 * nothing connected. Returns how many FANS entries there were. */
guint am_cgminer_read_fans_reply(AmSample *sample, JsonObject *reply);

/* Returns the first STATS element that is a data block (has "Elapsed" or an
 * "ID"), never assuming an index, else NULL. (transfer none) */
JsonObject *am_cgminer_stats_block(JsonObject *reply);

/* Returns: (transfer full) the first line of @type with surrounding blanks
 * removed ("Antminer S9\nV1.3.58" -> "Antminer S9"), or NULL when empty. */
char *am_cgminer_clean_model(const char *type);

/* TRUE when @haystack contains @needle, ignoring ASCII case. */
gboolean am_cgminer_contains_ci(const char *haystack, const char *needle);

/* TRUE when any member name or string value of @obj contains @needle,
 * ignoring ASCII case (one level deep). */
gboolean am_cgminer_object_mentions(JsonObject *obj, const char *needle);

/* Returns: (transfer full) "aa:bb:cc:dd:ee:ff" from 12 hex digits with or
 * without separators, else NULL. */
char *am_cgminer_format_mac(const char *text);

/* Finds the chain with @index in @sample, adding it when absent.
 * (transfer none, valid until the next chain is added) */
AmChain *am_cgminer_chain(AmSample *sample, gint index);

G_END_DECLS
