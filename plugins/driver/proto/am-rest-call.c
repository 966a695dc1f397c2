/* The strict JSON reader; see am-rest-call.h. */
#include "am-rest-call.h"

JsonNode *
am_rest_parse_json(const char *what, const char *data, gsize len, GError **error)
{
  if (data == NULL || len == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: empty reply", what);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) local = NULL;
  if (len > G_MAXSSIZE || !json_parser_load_from_data(parser, data, (gssize)len, &local)) {
    g_autofree char *start = g_utf8_make_valid(data, MIN(len, 60));
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not JSON: %s (starts \"%s\")", what,
                local != NULL ? local->message : "too long", start);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: empty reply", what);
    return NULL;
  }
  return json_node_ref(root);
}
