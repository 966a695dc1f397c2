/* Whatsminer API v2 write replies; see am-whatsminer-v2-client.h. The
 * exchange itself is the core's (am_rpc_send_async). */
#include "am-whatsminer-v2-client.h"

JsonObject *
am_whatsminer_v2_call_finish(GAsyncResult *result, const char *address, gboolean *sent_out,
                             GError **error)
{
  if (sent_out != NULL)
    *sent_out = am_rpc_send_was_sent(result);
  g_autoptr(GBytes) bytes = am_rpc_send_finish(result, error);
  if (bytes == NULL)
    return NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(JsonNode) root = am_rpc_parse(data, len, &parse_error);
  if (root == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: %s", address, parse_error->message);
    return NULL;
  }
  return json_object_ref(json_node_get_object(root));
}
