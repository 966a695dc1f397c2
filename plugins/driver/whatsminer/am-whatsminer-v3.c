/* Whatsminer API v3 framing; see am-whatsminer-v3.h. Pure: no I/O. */
#include "am-whatsminer-v3.h"

#include <string.h>

GBytes *
am_whatsminer_v3_encode(const char *cmd, const char *param)
{
  g_return_val_if_fail(cmd != NULL, NULL);

  /* Built by json-glib, so quoting is right whatever the strings hold. */
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "cmd");
  json_builder_add_string_value(b, cmd);
  if (param != NULL) {
    json_builder_set_member_name(b, "param");
    json_builder_add_string_value(b, param);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return am_whatsminer_v3_encode_node(root);
}

GBytes *
am_whatsminer_v3_encode_node(JsonNode *root)
{
  g_return_val_if_fail(root != NULL, NULL);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  gsize len = 0;
  g_autofree char *text = json_generator_to_data(gen, &len);

  guint32 n = (guint32)len;
  guint8 *frame = g_malloc(AM_WHATSMINER_V3_HEADER_SIZE + len);
  frame[0] = n & 0xff;
  frame[1] = (n >> 8) & 0xff;
  frame[2] = (n >> 16) & 0xff;
  frame[3] = (n >> 24) & 0xff;
  memcpy(frame + AM_WHATSMINER_V3_HEADER_SIZE, text, len);
  return g_bytes_new_take(frame, AM_WHATSMINER_V3_HEADER_SIZE + len);
}

gboolean
am_whatsminer_v3_body_length(const guint8 *header, gsize max_body, guint32 *body_len,
                             GError **error)
{
  g_return_val_if_fail(header != NULL && body_len != NULL, FALSE);
  guint32 n = (guint32)header[0] | (guint32)header[1] << 8 | (guint32)header[2] << 16 |
              (guint32)header[3] << 24;
  if (n == 0) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE, "empty v3 frame (length 0)");
    return FALSE;
  }
  if (n > max_body) {
    g_set_error(error, AM_ERROR, AM_ERROR_TOO_LARGE,
                "v3 reply of %" G_GUINT32_FORMAT " bytes is over the %" G_GSIZE_FORMAT "-byte cap",
                n, max_body);
    return FALSE;
  }
  *body_len = n;
  return TRUE;
}

JsonObject *
am_whatsminer_v3_parse_body(const char *body, gsize len, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonNode) root = am_rpc_parse(body, len, &local);
  if (root == NULL) {
    /* am_rpc_parse() reads a text banner ("Socket connect failed") as the
     * cgminer API saying no; inside a v3 frame it is just not JSON. */
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "v3 %s", local->message);
    return NULL;
  }
  return json_object_ref(json_node_get_object(root));
}

JsonObject *
am_whatsminer_v3_decode(const guint8 *data, gsize len, gsize max_body, GError **error)
{
  g_return_val_if_fail(data != NULL || len == 0, NULL);
  if (len < AM_WHATSMINER_V3_HEADER_SIZE) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "short v3 frame: %" G_GSIZE_FORMAT " bytes, the length header alone is %d", len,
                AM_WHATSMINER_V3_HEADER_SIZE);
    return NULL;
  }
  guint32 body_len = 0;
  if (!am_whatsminer_v3_body_length(data, max_body, &body_len, error))
    return NULL;
  gsize have = len - AM_WHATSMINER_V3_HEADER_SIZE;
  if (have < body_len) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "short v3 frame: the header says %" G_GUINT32_FORMAT " bytes, %" G_GSIZE_FORMAT
                " came",
                body_len, have);
    return NULL;
  }
  return am_whatsminer_v3_parse_body((const char *)data + AM_WHATSMINER_V3_HEADER_SIZE, body_len,
                                     error);
}

gboolean
am_whatsminer_v3_check(JsonObject *reply, GError **error)
{
  JsonNode *code_node = reply != NULL ? json_object_get_member(reply, "code") : NULL;
  if (code_node == NULL || !JSON_NODE_HOLDS_VALUE(code_node) ||
      json_node_get_value_type(code_node) != G_TYPE_INT64) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE, "not a v3 reply (no integer \"code\")");
    return FALSE;
  }
  gint64 code = json_node_get_int(code_node);
  if (code == 0)
    return TRUE;
  const char *why = am_json_string(reply, "msg");
  if (why == NULL)
    why = am_json_string(reply, "desc");
  g_set_error(error, AM_ERROR, AM_ERROR_API, "API error code %" G_GINT64_FORMAT ": %s", code,
              why != NULL ? why : "(no message)");
  return FALSE;
}
