/* Tolerant JSON lookups for firmware replies.
 *
 * Firmware sends numbers as numbers, as strings ("13883.81", " 69.2461"),
 * with SI suffixes ("65.5K") or units ("1600M"). These helpers read a value
 * whatever its JSON type and say plainly when it is absent or unreadable,
 * so drivers never turn "unknown" into 0. All are pure (no I/O). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Reads member @key of @obj as a double: a JSON number, or a string holding
 * a number (leading/trailing spaces allowed, an SI suffix k/K/M/G/T/P
 * multiplies). Returns FALSE (and leaves *out alone) when @obj is NULL, the
 * key is absent, null, or not a number. */
gboolean am_json_get_double(JsonObject *obj, const char *key, double *out);

/* As am_json_get_double() but returns NAN when the value is not there. */
double am_json_double(JsonObject *obj, const char *key);

/* Reads member @key as an integer (numbers, numeric strings, "true"/"false"
 * are not integers). Returns @fallback when absent or unreadable. */
gint64 am_json_int(JsonObject *obj, const char *key, gint64 fallback);

/* Returns member @key when it is a JSON string, else NULL. (transfer none) */
const char *am_json_string(JsonObject *obj, const char *key);

/* Returns member @key when it is an array / object, else NULL. (transfer none) */
JsonArray *am_json_array(JsonObject *obj, const char *key);
JsonObject *am_json_object(JsonObject *obj, const char *key);

/* Returns the first object element of @array that has member @key, else
 * NULL. Used to find a STATS data block by its content, never by index.
 * (transfer none) */
JsonObject *am_json_array_find_with_key(JsonArray *array, const char *key);

/* Returns element @index of @array when it is an object, else NULL. */
JsonObject *am_json_array_object(JsonArray *array, guint index);

/* Parses a number with an optional SI suffix ("65.5K" -> 65500, " 12 " -> 12).
 * Returns FALSE for anything else, including an empty string. */
gboolean am_parse_number(const char *text, double *out);

/* Splits a dash-joined reading list such as "38-48-47-52", "2--1-20-22"
 * (2, -1, 20, 22) or "-8--11-10-12" into @out (at most @max values). A lone
 * "-" or an empty field is skipped. Returns how many values were stored. */
guint am_parse_dash_list(const char *text, double *out, guint max);

/* Converts @value in @unit ("H", "KH", "MH", "GH", "TH", "PH", case-insensitive,
 * an optional "/s" allowed) to TH/s. Returns NAN for an unknown unit. */
double am_hashrate_to_ths(double value, const char *unit);

/* ---- writing (ABI 1.4) -------------------------------------------------- */

/* Adds member @name to the object being built: @value, or null when it is
 * not finite (NAN is antmon's "unknown"). */
void am_json_add_number(JsonBuilder *b, const char *name, double value);
/* Adds member @name: @value, or null when it is NULL. */
void am_json_add_string(JsonBuilder *b, const char *name, const char *value);

G_END_DECLS
