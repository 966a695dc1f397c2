/* The epic driver's actions: see am-epic-action.h. */
#include "am-epic-action.h"

#include <string.h>

#define SUPPORTED                                                                                  \
  (AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_RESTART) |                            \
   AM_ACTION_BIT(AM_ACTION_PAUSE) | AM_ACTION_BIT(AM_ACTION_RESUME) |                              \
   AM_ACTION_BIT(AM_ACTION_LOCATE) | AM_ACTION_BIT(AM_ACTION_POOLS))

void
am_epic_action_call_clear(AmEpicActionCall *call)
{
  /* The body holds the password: wipe it before freeing. */
  if (call->body != NULL)
    memset(call->body, 0, strlen(call->body));
  g_clear_pointer(&call->body, g_free);
}

AmActionSet
am_epic_actions(const AmSample *sample)
{
  return SUPPORTED;
}

/* The "param" of @request; FALSE with @error for a bad pool list. */
static gboolean
add_param(JsonBuilder *b, const AmActionRequest *request, GError **error)
{
  switch (request->kind) {
  case AM_ACTION_RESTART:
    return TRUE; /* /softreboot takes the password only */
  case AM_ACTION_REBOOT:
    json_builder_set_member_name(b, "param");
    json_builder_add_string_value(b, "0"); /* seconds of delay */
    return TRUE;
  case AM_ACTION_PAUSE:
  case AM_ACTION_RESUME:
    json_builder_set_member_name(b, "param");
    json_builder_add_string_value(b, request->kind == AM_ACTION_PAUSE ? "Stop" : "Autostart");
    return TRUE;
  case AM_ACTION_LOCATE:
    json_builder_set_member_name(b, "param");
    json_builder_add_boolean_value(b, request->on);
    return TRUE;
  case AM_ACTION_POOLS:
    break;
  default:
    g_assert_not_reached();
  }
  if (request->pools == NULL || request->n_pools == 0 || request->n_pools > 3) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "ePIC takes 1 to 3 pools, not %u",
                request->n_pools);
    return FALSE;
  }
  json_builder_set_member_name(b, "param");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "coin");
  json_builder_add_string_value(b, "Btc");
  json_builder_set_member_name(b, "stratum_configs");
  json_builder_begin_array(b);
  for (guint i = 0; i < request->n_pools; i++) {
    const AmPoolSetting *pool = &request->pools[i];
    if (pool->url == NULL || *pool->url == '\0' || pool->user == NULL || *pool->user == '\0') {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "pool %u: a URL and a user are needed", i + 1);
      return FALSE;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "pool");
    json_builder_add_string_value(b, pool->url);
    json_builder_set_member_name(b, "login");
    json_builder_add_string_value(b, pool->user);
    json_builder_set_member_name(b, "password");
    json_builder_add_string_value(b, pool->password != NULL ? pool->password : "x");
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  /* The user is sent as given, without the unit's id appended. */
  json_builder_set_member_name(b, "unique_id");
  json_builder_add_boolean_value(b, FALSE);
  json_builder_end_object(b);
  return TRUE;
}

static const char *
path_of(AmActionKind kind)
{
  switch (kind) {
  case AM_ACTION_REBOOT:
    return "/reboot";
  case AM_ACTION_RESTART:
    return "/softreboot";
  case AM_ACTION_PAUSE:
  case AM_ACTION_RESUME:
    return "/miner";
  case AM_ACTION_LOCATE:
    return "/identify";
  case AM_ACTION_POOLS:
    return "/coin";
  default:
    return NULL;
  }
}

gboolean
am_epic_action_build(const AmActionRequest *request, const char *password, AmEpicActionCall *out,
                     GError **error)
{
  *out = (AmEpicActionCall){.path = path_of(request->kind)};
  if (out->path == NULL) {
    const char *name = am_action_kind_to_string(request->kind);
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "ePIC has no %s action",
                name != NULL ? name : "such");
    return FALSE;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  if (!add_param(b, request, error))
    return FALSE;
  json_builder_set_member_name(b, "password");
  json_builder_add_string_value(b, password != NULL ? password : AM_EPIC_DEFAULT_PASSWORD);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  out->body = json_to_string(root, FALSE);
  return TRUE;
}

gboolean
am_epic_action_check(const char *path, const char *data, gsize len, GError **error)
{
  g_autofree char *text = g_strndup(data != NULL ? data : "", len);
  g_strstrip(text);
  if (*text == '\0')
    return TRUE;
  g_autoptr(JsonParser) parser = json_parser_new();
  /* A text json-glib reads as nothing (a lone byte-order mark) has no root. */
  if (!json_parser_load_from_data(parser, text, -1, NULL) || json_parser_get_root(parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: the answer is not a JSON object", path);
    return FALSE;
  }
  JsonObject *reply = json_node_get_object(json_parser_get_root(parser));
  JsonNode *result = json_object_get_member(reply, "result");
  if (result == NULL || !JSON_NODE_HOLDS_VALUE(result) ||
      json_node_get_value_type(result) != G_TYPE_BOOLEAN || json_node_get_boolean(result))
    return TRUE;
  const char *why = am_json_string(reply, "error");
  if (why == NULL || *why == '\0')
    why = "no reason given";
  g_autofree char *lower = g_ascii_strdown(why, -1);
  if (strstr(lower, "password") != NULL || strstr(lower, "auth") != NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_AUTH,
                "%s: %s was refused by ePIC (wrong web password): %s", path, AM_EPIC_WEB_USER, why);
    return FALSE;
  }
  g_set_error(error, AM_ERROR, AM_ERROR_API, "%s: ePIC refused the command: %s", path, why);
  return FALSE;
}
