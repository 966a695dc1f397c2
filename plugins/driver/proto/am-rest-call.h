/* The strict JSON reader of the REST drivers (proto, sealminer): their
 * APIs are written by JSON libraries, so a body that needs the cgminer
 * repairs is not theirs. The HTTP request itself is the web drivers'
 * shared common/am-web-call.c. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Parses @len bytes of a reply body strictly as JSON. @what names the
 * reply in messages ("GET /api/v1/mining").
 * Errors: AM_ERROR_PARSE ("empty reply", "not JSON: ...").
 * Returns: (transfer full) the root node, or NULL with @error. */
JsonNode *am_rest_parse_json(const char *what, const char *data, gsize len, GError **error);

G_END_DECLS
