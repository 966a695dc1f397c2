/* The auradine driver's actions: see am-auradine-action.h. */
#include "am-auradine-action.h"

#define SUPPORTED                                                                                  \
  (AM_ACTION_BIT(AM_ACTION_RESTART) | AM_ACTION_BIT(AM_ACTION_PAUSE) |                             \
   AM_ACTION_BIT(AM_ACTION_RESUME) | AM_ACTION_BIT(AM_ACTION_POWER_TARGET) |                       \
   AM_ACTION_BIT(AM_ACTION_WORK_MODE) | AM_ACTION_BIT(AM_ACTION_LOCATE) |                          \
   AM_ACTION_BIT(AM_ACTION_POOLS))

void
am_auradine_action_call_clear(AmAuradineActionCall *call)
{
  g_clear_pointer(&call->body, g_free);
}

AmActionSet
am_auradine_actions(const AmSample *sample)
{
  return SUPPORTED;
}

static void
add_string(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value);
}

/* low, normal, high: FluxOS's eco, normal, turbo. */
static const char *
flux_mode(const char *mode)
{
  if (g_strcmp0(mode, AM_WORK_MODE_LOW) == 0)
    return "eco";
  if (g_strcmp0(mode, AM_WORK_MODE_NORMAL) == 0)
    return "normal";
  if (g_strcmp0(mode, AM_WORK_MODE_HIGH) == 0)
    return "turbo";
  return NULL;
}

static gboolean
add_pools(JsonBuilder *b, const AmActionRequest *request, GError **error)
{
  if (request->pools == NULL || request->n_pools == 0 || request->n_pools > 3) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "Auradine takes 1 to 3 pools, not %u",
                request->n_pools);
    return FALSE;
  }
  json_builder_set_member_name(b, "pools");
  json_builder_begin_array(b);
  for (guint i = 0; i < request->n_pools; i++) {
    const AmPoolSetting *pool = &request->pools[i];
    if (pool->url == NULL || *pool->url == '\0' || pool->user == NULL || *pool->user == '\0') {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "pool %u: a URL and a user are needed", i + 1);
      return FALSE;
    }
    json_builder_begin_object(b);
    add_string(b, "url", pool->url);
    add_string(b, "user", pool->user);
    /* FluxOS wants a password; pools take any, "x" by custom. */
    add_string(b, "pass", pool->password != NULL && *pool->password ? pool->password : "x");
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  return TRUE;
}

/* The members after "command"; FALSE with @error for a bad request. */
static gboolean
add_members(JsonBuilder *b, const AmActionRequest *request, GError **error)
{
  switch (request->kind) {
  case AM_ACTION_RESTART:
    return TRUE;
  case AM_ACTION_PAUSE:
  case AM_ACTION_RESUME:
    add_string(b, "sleep", request->kind == AM_ACTION_PAUSE ? "on" : "off");
    return TRUE;
  case AM_ACTION_POWER_TARGET:
    if (request->watts < AM_AURADINE_MIN_WATTS || request->watts > AM_AURADINE_MAX_WATTS) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "power target %u W: a Teraflux takes %u to %u W", request->watts,
                  AM_AURADINE_MIN_WATTS, AM_AURADINE_MAX_WATTS);
      return FALSE;
    }
    add_string(b, "mode", "custom");
    add_string(b, "tune", "power");
    json_builder_set_member_name(b, "power");
    json_builder_add_int_value(b, request->watts);
    return TRUE;
  case AM_ACTION_WORK_MODE: {
    const char *mode = flux_mode(request->mode);
    if (mode == NULL) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "work mode '%s': Auradine takes low, normal or high",
                  request->mode != NULL ? request->mode : "");
      return FALSE;
    }
    add_string(b, "mode", mode);
    return TRUE;
  }
  case AM_ACTION_LOCATE:
    /* 3 blinks the locate pattern; 2 is the normal light. */
    json_builder_set_member_name(b, "code");
    json_builder_add_int_value(b, request->on ? 3 : 2);
    return TRUE;
  case AM_ACTION_POOLS:
    return add_pools(b, request, error);
  default:
    g_assert_not_reached();
  }
}

static const char *
command_of(AmActionKind kind)
{
  switch (kind) {
  case AM_ACTION_RESTART:
    return "restart";
  case AM_ACTION_PAUSE:
  case AM_ACTION_RESUME:
  case AM_ACTION_POWER_TARGET:
  case AM_ACTION_WORK_MODE:
    return "mode";
  case AM_ACTION_LOCATE:
    return "led";
  case AM_ACTION_POOLS:
    return "updatepools";
  default:
    return NULL;
  }
}

gboolean
am_auradine_action_build(const AmActionRequest *request, AmAuradineActionCall *out, GError **error)
{
  *out = (AmAuradineActionCall){.command = command_of(request->kind)};
  if (out->command == NULL) {
    const char *name = am_action_kind_to_string(request->kind);
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "Auradine has no %s action",
                name != NULL ? name : "such");
    return FALSE;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "command", out->command);
  if (!add_members(b, request, error))
    return FALSE;
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  out->body = json_to_string(root, FALSE);
  return TRUE;
}
