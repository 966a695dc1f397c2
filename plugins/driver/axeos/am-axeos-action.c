/* The axeos driver's actions: see am-axeos-action.h. */
#include "am-axeos-action.h"

#include <stdlib.h>
#include <string.h>

#define SUPPORTED                                                                                  \
  (AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_RESTART) |                            \
   AM_ACTION_BIT(AM_ACTION_POOLS))

void
am_axeos_action_call_free(AmAxeosActionCall *call)
{
  if (call == NULL)
    return;
  g_free(call->body);
  g_free(call);
}

AmActionSet
am_axeos_actions(const AmSample *sample)
{
  return SUPPORTED;
}

static AmAxeosActionCall *
call_new(const char *method, const char *path, char *body)
{
  AmAxeosActionCall *call = g_new0(AmAxeosActionCall, 1);
  call->method = method;
  call->path = path;
  call->body = body;
  return call;
}

gboolean
am_axeos_split_pool_url(const char *url, char **host_out, guint16 *port_out, GError **error)
{
  const char *rest = url != NULL ? url : "";
  const char *scheme_end = strstr(rest, "://");
  if (scheme_end != NULL) {
    if (g_ascii_strncasecmp(rest, "stratum+tcp://", strlen("stratum+tcp://")) != 0) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "pool '%s': AxeOS takes stratum+tcp:// pools only", rest);
      return FALSE;
    }
    rest = scheme_end + 3;
  }
  const char *colon = strrchr(rest, ':');
  char *end = NULL;
  unsigned long port = colon != NULL ? strtoul(colon + 1, &end, 10) : 0;
  if (colon == NULL || colon == rest || end == colon + 1 || *end != '\0' || port == 0 ||
      port > 65535 || strchr(rest, '/') != NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "pool '%s': AxeOS needs host:port (e.g. stratum+tcp://pool.example:3333)",
                url != NULL ? url : "");
    return FALSE;
  }
  *host_out = g_strndup(rest, (gsize)(colon - rest));
  *port_out = (guint16)port;
  return TRUE;
}

/* Adds one pool's four members, prefixed "stratum" or "fallbackStratum". */
static gboolean
add_pool(JsonBuilder *b, const char *prefix, const AmPoolSetting *pool, GError **error)
{
  g_autofree char *host = NULL;
  guint16 port = 0;
  if (!am_axeos_split_pool_url(pool->url, &host, &port, error))
    return FALSE;
  if (pool->user == NULL || *pool->user == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "pool '%s': no user (worker) given", pool->url);
    return FALSE;
  }
  g_autofree char *url_key = g_strconcat(prefix, "URL", NULL);
  g_autofree char *port_key = g_strconcat(prefix, "Port", NULL);
  g_autofree char *user_key = g_strconcat(prefix, "User", NULL);
  g_autofree char *password_key = g_strconcat(prefix, "Password", NULL);
  json_builder_set_member_name(b, url_key);
  json_builder_add_string_value(b, host);
  json_builder_set_member_name(b, port_key);
  json_builder_add_int_value(b, port);
  json_builder_set_member_name(b, user_key);
  json_builder_add_string_value(b, pool->user);
  /* Pools take any password; ESP-Miner's own default is "x". */
  json_builder_set_member_name(b, password_key);
  json_builder_add_string_value(b, pool->password != NULL ? pool->password : "x");
  return TRUE;
}

/* PATCH /api/system with the primary and, when given, the fallback pool.
 * AxeOS holds exactly these two; with one pool the fallback is left as it
 * is (AxeOS cannot hold "no fallback"). */
static char *
pools_body(const AmActionRequest *request, GError **error)
{
  if (request->pools == NULL || request->n_pools == 0 || request->n_pools > 2) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "AxeOS holds one or two pools (primary and fallback), not %u", request->n_pools);
    return NULL;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  if (!add_pool(b, "stratum", &request->pools[0], error))
    return NULL;
  if (request->n_pools == 2 && !add_pool(b, "fallbackStratum", &request->pools[1], error))
    return NULL;
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

GPtrArray *
am_axeos_action_build(const AmActionRequest *request, GError **error)
{
  g_autoptr(GPtrArray) calls =
      g_ptr_array_new_with_free_func((GDestroyNotify)am_axeos_action_call_free);
  if (request->kind <= AM_ACTION_NONE || request->kind >= AM_ACTION_LAST ||
      !(SUPPORTED & AM_ACTION_BIT(request->kind))) {
    const char *name = am_action_kind_to_string(request->kind);
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "AxeOS has no %s action",
                name != NULL ? name : "such");
    return NULL;
  }
  if (request->kind == AM_ACTION_POOLS) {
    char *body = pools_body(request, error);
    if (body == NULL)
      return NULL;
    g_ptr_array_add(calls, call_new("PATCH", AM_AXEOS_SYSTEM_PATH, body));
  }
  /* Reboot and restart are the same on an ESP32; pools apply at start. */
  g_ptr_array_add(calls, call_new("POST", AM_AXEOS_RESTART_PATH, NULL));
  return g_steal_pointer(&calls);
}
