/* Braiins OS action requests, built without I/O. The paths and bodies are
 * the ones the firmware's public REST API (/api/v1, v26.04) and its older
 * GraphQL API (21.09 to 25.05) take; see README.md for the table. */
#include "am-braiins-action.h"

#include <string.h>

#define BIT(kind) AM_ACTION_BIT(AM_ACTION_##kind)

AmActionSet
am_braiins_actions_for(AmBraiinsApiKind api)
{
  switch (api) {
  case AM_BRAIINS_API_REST:
    /* No work modes: Braiins tunes to a power (or hashrate) target. */
    return BIT(REBOOT) | BIT(RESTART) | BIT(PAUSE) | BIT(RESUME) | BIT(POWER_TARGET) | BIT(LOCATE) |
           BIT(POOLS);
  case AM_BRAIINS_API_GRAPHQL:
    /* The GraphQL API restarts by rebooting and has no pool-list write
     * antmon trusts, so restart and pools are left out. */
    return BIT(REBOOT) | BIT(PAUSE) | BIT(RESUME) | BIT(POWER_TARGET) | BIT(LOCATE);
  case AM_BRAIINS_API_RPC:
  default:
    /* BOSminer's cgminer API is read only; writes need the web API. */
    return 0;
  }
}

static gboolean
validate_pools(const AmActionRequest *request, GError **error)
{
  if (request->pools == NULL || request->n_pools < 1 || request->n_pools > 3) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "pools: expected 1 to 3 pools, got %u",
                request->pools != NULL ? request->n_pools : 0);
    return FALSE;
  }
  for (guint i = 0; i < request->n_pools; i++) {
    const AmPoolSetting *p = &request->pools[i];
    if (p->url == NULL || *p->url == '\0' || p->user == NULL || *p->user == '\0') {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "pools: pool %u needs a URL and a user", i + 1);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
am_braiins_action_validate(const AmActionRequest *request, GError **error)
{
  switch (request->kind) {
  case AM_ACTION_POWER_TARGET:
    if (request->watts < AM_BRAIINS_MIN_WATTS || request->watts > AM_BRAIINS_MAX_WATTS) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "power_target: %u W is outside %u..%u W, the range of Antminers running "
                  "Braiins OS",
                  request->watts, AM_BRAIINS_MIN_WATTS, AM_BRAIINS_MAX_WATTS);
      return FALSE;
    }
    return TRUE;
  case AM_ACTION_POOLS:
    return validate_pools(request, error);
  default:
    return TRUE;
  }
}

static gboolean
unsupported(const AmActionRequest *request, const char *api, GError **error)
{
  const char *name = am_action_kind_to_string(request->kind);
  g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "Braiins OS has no %s action over its %s",
              name != NULL ? name : "such", api);
  return FALSE;
}

/* [{"name":"Default","pools":[{url,user,password}...],
 *   "load_balance_strategy":{"quota":{"value":1}}}]: one group holding the
 * pools in priority order, replacing the miner's groups. */
static char *
pools_body(const AmActionRequest *request)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, "Default");
  json_builder_set_member_name(b, "pools");
  json_builder_begin_array(b);
  for (guint i = 0; i < request->n_pools; i++) {
    const AmPoolSetting *p = &request->pools[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "url");
    json_builder_add_string_value(b, p->url);
    json_builder_set_member_name(b, "user");
    json_builder_add_string_value(b, p->user);
    json_builder_set_member_name(b, "password");
    json_builder_add_string_value(b, p->password != NULL ? p->password : "");
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "load_balance_strategy");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "quota");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "value");
  json_builder_add_int_value(b, 1);
  json_builder_end_object(b);
  json_builder_end_object(b);
  json_builder_end_object(b);
  json_builder_end_array(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

gboolean
am_braiins_rest_action(const AmActionRequest *request, AmBraiinsRestWrite *out, GError **error)
{
  *out = (AmBraiinsRestWrite){.method = "PUT"};
  if (!am_braiins_action_validate(request, error))
    return FALSE;
  switch (request->kind) {
  case AM_ACTION_REBOOT:
    out->path = g_strdup("/api/v1/actions/reboot");
    return TRUE;
  case AM_ACTION_RESTART:
    out->path = g_strdup("/api/v1/actions/restart");
    return TRUE;
  case AM_ACTION_PAUSE:
    out->path = g_strdup("/api/v1/actions/pause");
    return TRUE;
  case AM_ACTION_RESUME:
    out->path = g_strdup("/api/v1/actions/resume");
    return TRUE;
  case AM_ACTION_LOCATE:
    out->path = g_strdup("/api/v1/actions/locate");
    out->body = g_strdup(request->on ? "true" : "false");
    return TRUE;
  case AM_ACTION_POWER_TARGET:
    out->path = g_strdup("/api/v1/performance/power-target");
    out->body = g_strdup_printf("{\"watt\":%u}", request->watts);
    return TRUE;
  case AM_ACTION_POOLS:
    out->path = g_strdup("/api/v1/pools/batch");
    out->body = pools_body(request);
    return TRUE;
  default:
    return unsupported(request, "REST API", error);
  }
}

void
am_braiins_rest_write_clear(AmBraiinsRestWrite *write)
{
  g_clear_pointer(&write->path, g_free);
  g_clear_pointer(&write->body, g_free);
}

/* ---- GraphQL -------------------------------------------------------------- */

static const char reboot_mutation[] = "mutation { bos { reboot { ... on VoidResult { void } } } }";
static const char stop_mutation[] = "mutation { bosminer { stop { ... on VoidResult { void } } } }";
static const char start_mutation[] =
    "mutation { bosminer { start { ... on VoidResult { void } } } }";
static const char locate_mutation[] =
    "mutation ($enable: Boolean!) { bos { setFaultLight(enable: $enable) { enabled } } }";
static const char power_mutation[] =
    "mutation ($limit: Int!) { bosminer { config { updateAutotuning(input: {powerTarget: "
    "$limit}, apply: true) { ... on AutotuningOut { autotuning { powerTarget enabled } } } } } }";

/* {"query": @query, "variables": {@name: <value>}} (no variables when
 * @name is NULL). */
static char *
gql_body(const char *query, const char *name, JsonNode *value)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "query");
  json_builder_add_string_value(b, query);
  if (name != NULL) {
    json_builder_set_member_name(b, "variables");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, name);
    json_builder_add_value(b, value);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

char *
am_braiins_gql_action(const AmActionRequest *request, GError **error)
{
  if (!am_braiins_action_validate(request, error))
    return NULL;
  switch (request->kind) {
  case AM_ACTION_REBOOT:
    return gql_body(reboot_mutation, NULL, NULL);
  case AM_ACTION_PAUSE:
    return gql_body(stop_mutation, NULL, NULL);
  case AM_ACTION_RESUME:
    return gql_body(start_mutation, NULL, NULL);
  case AM_ACTION_LOCATE:
    return gql_body(locate_mutation, "enable",
                    json_node_init_boolean(json_node_alloc(), request->on));
  case AM_ACTION_POWER_TARGET:
    return gql_body(power_mutation, "limit", json_node_init_int(json_node_alloc(), request->watts));
  default:
    unsupported(request, "GraphQL API", error);
    return NULL;
  }
}

gboolean
am_braiins_gql_parse_mutation(const char *data, gsize len, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  /* An empty or blank text parses with no root at all. */
  if (!json_parser_load_from_data(parser, data, (gssize)len, NULL) ||
      json_parser_get_root(parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        "the answer to the GraphQL mutation is not a JSON object");
    return FALSE;
  }
  JsonObject *root = json_node_get_object(json_parser_get_root(parser));
  JsonArray *errors = am_json_array(root, "errors");
  if (errors != NULL && json_array_get_length(errors) > 0) {
    const char *message = am_json_string(am_json_array_object(errors, 0), "message");
    g_set_error(error, AM_ERROR, AM_ERROR_API, "%s",
                message != NULL ? message : "the mutation failed without a message");
    return FALSE;
  }
  JsonNode *d = json_object_get_member(root, "data");
  if (d == NULL || !JSON_NODE_HOLDS_OBJECT(d)) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        "the answer to the GraphQL mutation has no data");
    return FALSE;
  }
  return TRUE;
}
