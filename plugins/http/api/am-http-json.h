/* Writing JSON text directly into a GString: the miner list is the API's
 * largest reply, and building a JsonNode tree of 1,000 miners only to print
 * it costs more than the rest of the request. Pure. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* @value as a JSON string (quotes included; control characters, quote and
 * backslash escaped; invalid UTF-8 replaced), or null when NULL. */
void am_http_json_string(GString *out, const char *value);

/* "name": before a value; a comma first unless @first. */
void am_http_json_member(GString *out, const char *name, gboolean first);

/* A finite double (shortest round-trip form) or null. */
void am_http_json_double(GString *out, double value);

/* @when_us (Unix time in microseconds) as a JSON string in ISO 8601 UTC,
 * "2026-11-24T10:00:00Z", like am_time_to_iso8601() without building a
 * GDateTime per miner. */
void am_http_json_time(GString *out, gint64 when_us);

/* (transfer full) A node holding @object, taking the caller's reference:
 * json_node_init_object() adds one of its own, which leaked the object. */
JsonNode *am_http_object_node(JsonObject *object);

G_END_DECLS
