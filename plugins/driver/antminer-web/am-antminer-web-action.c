/* The antminer-web driver's requests, built and judged without I/O. The
 * request shapes follow the stock web UI and asic-rs's v2023_07 web
 * backend; see README.md for the table and the sources. */
#include "am-antminer-web-action.h"
#include "am-antminer-web-parse.h"

#include "../antminer/am-antminer-validate.h"

#include <stdlib.h>
#include <string.h>

/* The web UI posts its form as text/plain with a JSON body; the CGI reads
 * stdin whatever the type, and a field report (S19 XP) saw mode changes
 * honoured with exactly this request. */
#define CONF_CONTENT_TYPE "text/plain;charset=UTF-8"

void
am_antminer_web_write_clear(AmAntminerWebWrite *write)
{
  g_clear_pointer(&write->body, g_free);
}

AmActionSet
am_antminer_web_actions(const AmSample *sample)
{
  AmActionSet set = AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_LOCATE);
  AmActionSet conf = AM_ACTION_BIT(AM_ACTION_PAUSE) | AM_ACTION_BIT(AM_ACTION_RESUME) |
                     AM_ACTION_BIT(AM_ACTION_WORK_MODE) | AM_ACTION_BIT(AM_ACTION_POOLS);
  /* The poll sets mining only from get_miner_conf's mode: without it the
   * unit's configuration CGI is one this driver cannot rewrite safely. */
  if (sample == NULL || sample->mining != AM_MINING_UNKNOWN)
    set |= conf;
  return set;
}

gboolean
am_antminer_web_check_request(const AmActionRequest *request, GError **error)
{
  switch (request->kind) {
  case AM_ACTION_REBOOT:
  case AM_ACTION_LOCATE:
  case AM_ACTION_PAUSE:
  case AM_ACTION_RESUME:
    return TRUE;
  case AM_ACTION_WORK_MODE:
    return am_antminer_check_work_mode(request->mode, error);
  case AM_ACTION_POOLS:
    return am_antminer_check_pools(request, error);
  case AM_ACTION_POWER_TARGET:
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                        "Antminer stock firmware has no power target: use work_mode "
                        "low, normal or high");
    return FALSE;
  case AM_ACTION_RESTART:
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                        "Antminer stock firmware's web API cannot restart the miner "
                        "process alone: use reboot");
    return FALSE;
  default:
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "unknown action %d", request->kind);
    return FALSE;
  }
}

gboolean
am_antminer_web_needs_conf(AmActionKind kind)
{
  return kind == AM_ACTION_PAUSE || kind == AM_ACTION_RESUME || kind == AM_ACTION_WORK_MODE ||
         kind == AM_ACTION_POOLS;
}

static gboolean
conf_has_mode_field(JsonObject *conf)
{
  return json_object_has_member(conf, "miner-mode") ||
         json_object_has_member(conf, "bitmain-work-mode");
}

/* conf[@key] copied, else the first of @alt_key, else a string @fallback. */
static JsonNode *
kept(JsonObject *conf, const char *key, const char *alt_key, const char *fallback)
{
  JsonNode *node = json_object_get_member(conf, key);
  if (node == NULL && alt_key != NULL)
    node = json_object_get_member(conf, alt_key);
  if (node != NULL && !JSON_NODE_HOLDS_NULL(node))
    return json_node_copy(node);
  JsonNode *value = json_node_new(JSON_NODE_VALUE);
  json_node_set_string(value, fallback);
  return value;
}

static JsonObject *
pool_row(const char *url, const char *user, const char *pass)
{
  JsonObject *row = json_object_new();
  json_object_set_string_member(row, "url", url != NULL ? url : "");
  json_object_set_string_member(row, "user", user != NULL ? user : "");
  json_object_set_string_member(row, "pass", pass != NULL ? pass : "");
  return row;
}

/* The three rows the web UI posts: the asked-for pools, then empty rows
 * so a pool set before is cleared rather than left as a fallback. A pool
 * without a password gets "x", as stratum pools expect one. */
static JsonNode *
new_pools(const AmActionRequest *request)
{
  JsonArray *rows = json_array_new();
  for (guint i = 0; i < 3; i++) {
    const AmPoolSetting *pool = i < request->n_pools ? &request->pools[i] : NULL;
    json_array_add_object_element(
        rows, pool != NULL
                  ? pool_row(pool->url, pool->user, pool->password != NULL ? pool->password : "x")
                  : pool_row("", "", ""));
  }
  JsonNode *node = json_node_new(JSON_NODE_ARRAY);
  json_node_take_array(node, rows);
  return node;
}

static gint
target_mode(const AmActionRequest *request, JsonObject *conf)
{
  switch (request->kind) {
  case AM_ACTION_PAUSE:
    return AM_ANTMINER_MODE_SLEEP;
  case AM_ACTION_RESUME:
    return AM_ANTMINER_MODE_NORMAL;
  case AM_ACTION_WORK_MODE:
    if (g_strcmp0(request->mode, AM_WORK_MODE_LOW) == 0)
      return AM_ANTMINER_MODE_LOW;
    return g_strcmp0(request->mode, AM_WORK_MODE_HIGH) == 0 ? AM_ANTMINER_MODE_HIGH
                                                            : AM_ANTMINER_MODE_NORMAL;
  default:
    return am_antminer_web_conf_mode(conf); /* pools: the mode stays */
  }
}

/* The web UI's form: fan control, fan PWM, frequency level, the mode under
 * both names as a number (S19 XP images read "bitmain-work-mode" but only
 * act on "miner-mode"; others use one name both ways), and the pools. */
static char *
conf_body(const AmActionRequest *request, JsonObject *conf, gint mode)
{
  g_autoptr(JsonObject) body = json_object_new();
  JsonNode *fan_ctrl = json_object_get_member(conf, "bitmain-fan-ctrl");
  if (fan_ctrl != NULL && !JSON_NODE_HOLDS_NULL(fan_ctrl))
    json_object_set_member(body, "bitmain-fan-ctrl", json_node_copy(fan_ctrl));
  else
    json_object_set_boolean_member(body, "bitmain-fan-ctrl", FALSE);
  json_object_set_member(body, "bitmain-fan-pwm", kept(conf, "bitmain-fan-pwm", NULL, "100"));
  json_object_set_member(body, "freq-level", kept(conf, "freq-level", "bitmain-freq-level", "100"));
  if (mode >= 0) {
    json_object_set_int_member(body, "miner-mode", mode);
    json_object_set_int_member(body, "bitmain-work-mode", mode);
  }
  JsonNode *pools = json_object_get_member(conf, "pools");
  if (request->kind == AM_ACTION_POOLS)
    json_object_set_member(body, "pools", new_pools(request));
  else if (pools != NULL && JSON_NODE_HOLDS_ARRAY(pools))
    json_object_set_member(body, "pools", json_node_copy(pools));
  else
    json_object_set_array_member(body, "pools", json_array_new());
  g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(root, body);
  return json_to_string(root, FALSE);
}

gboolean
am_antminer_web_build_write(const AmActionRequest *request, JsonObject *conf,
                            AmAntminerWebWrite *out, GError **error)
{
  *out = (AmAntminerWebWrite){.method = "POST", .content_type = "application/json"};
  switch (request->kind) {
  case AM_ACTION_REBOOT:
    out->path = "/cgi-bin/reboot.cgi";
    out->body = g_strdup("{}");
    return TRUE;
  case AM_ACTION_LOCATE:
    out->path = "/cgi-bin/blink.cgi";
    out->body = g_strdup(request->on ? "{\"blink\":\"true\"}" : "{\"blink\":\"false\"}");
    return TRUE;
  default:
    break;
  }
  if (!am_antminer_web_needs_conf(request->kind)) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "unsupported action %d", request->kind);
    return FALSE;
  }
  if (conf == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        AM_ANTMINER_WEB_GET_CONF " did not return an object");
    return FALSE;
  }
  if (request->kind != AM_ACTION_POOLS && !conf_has_mode_field(conf)) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                        "this firmware's configuration has no work mode (no miner-mode or "
                        "bitmain-work-mode in " AM_ANTMINER_WEB_GET_CONF "): it cannot sleep "
                        "or change mode");
    return FALSE;
  }
  out->path = AM_ANTMINER_WEB_SET_CONF;
  out->content_type = CONF_CONTENT_TYPE;
  out->body = conf_body(request, conf, target_mode(request, conf));
  return TRUE;
}

/* The reply's root object, or NULL when it is not JSON. */
static JsonObject *
reply_object(const char *body, gsize len, JsonNode **root_out)
{
  *root_out = body != NULL && len > 0 ? am_rpc_parse(body, len, NULL) : NULL;
  if (*root_out != NULL && JSON_NODE_HOLDS_OBJECT(*root_out))
    return json_node_get_object(*root_out);
  return NULL;
}

static gboolean
check_conf_reply(JsonObject *reply, GError **error)
{
  if (reply == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        AM_ANTMINER_WEB_SET_CONF " answered something other than JSON");
    return FALSE;
  }
  const char *stats = am_json_string(reply, "stats");
  if (g_strcmp0(stats, "success") == 0)
    return TRUE;
  const char *msg = am_json_string(reply, "msg");
  const char *code = am_json_string(reply, "code");
  g_set_error(error, AM_ERROR, AM_ERROR_API,
              "the miner refused the setting: %s (stats %s, code %s)",
              msg != NULL ? msg : "no message", stats != NULL ? stats : "missing",
              code != NULL ? code : "none");
  return FALSE;
}

/* B000: the light is blinking; B100: it stopped (pyasic reads the same). */
static gboolean
check_blink_reply(JsonObject *reply, gboolean on, GError **error)
{
  const char *code = reply != NULL ? am_json_string(reply, "code") : NULL;
  if (code == NULL || g_str_equal(code, on ? "B000" : "B100"))
    return TRUE;
  g_set_error(error, AM_ERROR, AM_ERROR_API, "the miner refused to turn the light %s (code %s)",
              on ? "on" : "off", code);
  return FALSE;
}

gboolean
am_antminer_web_check_reply(AmActionKind kind, gboolean on, const char *body, gsize len,
                            GError **error)
{
  if (kind == AM_ACTION_REBOOT)
    return TRUE; /* the unit is going down; whatever it said is not news */
  g_autoptr(JsonNode) root = NULL;
  JsonObject *reply = reply_object(body, len, &root);
  if (kind == AM_ACTION_LOCATE)
    return check_blink_reply(reply, on, error);
  return check_conf_reply(reply, error);
}
