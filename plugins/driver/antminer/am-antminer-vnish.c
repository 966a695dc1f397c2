/* VNish's web API calls, built and read without I/O; see
 * am-antminer-vnish.h. */
#include "am-antminer-vnish.h"

#include <string.h>

gboolean
am_antminer_is_vnish(const AmSample *sample)
{
  /* am-antminer-parse.c names the firmware "VNish" from its version. */
  return sample != NULL && g_strcmp0(sample->firmware, "VNish") == 0;
}

AmActionSet
am_antminer_vnish_actions(void)
{
  return AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_PAUSE) |
         AM_ACTION_BIT(AM_ACTION_RESUME) | AM_ACTION_BIT(AM_ACTION_LOCATE);
}

const char *
am_antminer_vnish_path(AmActionKind kind)
{
  switch (kind) {
  case AM_ACTION_PAUSE:
    return "/api/v1/mining/pause";
  case AM_ACTION_RESUME:
    return "/api/v1/mining/resume";
  case AM_ACTION_REBOOT:
    return "/api/v1/system/reboot";
  case AM_ACTION_LOCATE:
    return "/api/v1/find-miner";
  default:
    return NULL;
  }
}

/* Serialises @object as compact JSON; takes @object. */
static char *
to_json(JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), object);
  json_object_unref(object);
  return json_to_string(node, FALSE);
}

char *
am_antminer_vnish_unlock_body(const char *password)
{
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "pw", password != NULL ? password : "");
  return to_json(o);
}

char *
am_antminer_vnish_body(const AmActionRequest *request)
{
  if (request->kind != AM_ACTION_LOCATE)
    return NULL;
  JsonObject *o = json_object_new();
  json_object_set_boolean_member(o, "on", request->on);
  return to_json(o);
}

/* Returns: (transfer full) @reply's JSON object, or NULL. */
static JsonNode *
parse_object(GBytes *reply)
{
  gsize len = 0;
  const char *data = reply != NULL ? g_bytes_get_data(reply, &len) : NULL;
  if (data == NULL || len == 0)
    return NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, data, (gssize)len, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_copy(root) : NULL;
}

char *
am_antminer_vnish_token(const char *address, GBytes *reply, GError **error)
{
  g_autoptr(JsonNode) root = parse_object(reply);
  const char *token = root != NULL ? am_json_string(json_node_get_object(root), "token") : NULL;
  if (token == NULL || *token == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "%s: the VNish unlock answer has no token (POST " AM_ANTMINER_VNISH_UNLOCK_PATH ")",
                address);
    return NULL;
  }
  return g_strdup(token);
}

gboolean
am_antminer_vnish_light(GBytes *reply, gboolean *on)
{
  g_autoptr(JsonNode) root = parse_object(reply);
  if (root == NULL)
    return FALSE;
  JsonObject *o = json_node_get_object(root);
  static const char *const names[] = {"on", "is_enabled"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    JsonNode *member = json_object_get_member(o, names[i]);
    if (member != NULL && JSON_NODE_HOLDS_VALUE(member) &&
        json_node_get_value_type(member) == G_TYPE_BOOLEAN) {
      *on = json_node_get_boolean(member);
      return TRUE;
    }
  }
  return FALSE;
}
