/* The firmware write calls: what a miner does when told to reboot, sleep,
 * change pools, ...
 *
 * HTTP writes are routes like any other (their reply file is the firmware's
 * success reply, and the section's login guards them), named in the
 * profile's [write] section with the action they take:
 *
 *   [write]
 *   PUT /api/v1/actions/pause=pause
 *   PUT /api/v1/actions/locate=locate @body        a JSON true/false body
 *   PUT /api/v1/performance/power-target=power_target watt
 *   POST /cgi-bin/set_miner_conf.cgi=antminer_conf
 *
 * RPC writes take parameters, sessions and replies of their own, so they are
 * written here per family ([write] family=antminer, luxos or avalon).
 */
#include "am-fakeminer.h"
#include <json-glib/json-glib.h>
#include <string.h>

/* ---- helpers ---- */

static void
append_text(GByteArray *out, const char *text)
{
  g_byte_array_append(out, (const guint8 *)text, (guint)strlen(text));
}

static gboolean
truthy(const char *text)
{
  if (text == NULL)
    return FALSE;
  g_autofree char *copy = g_strdup(text);
  g_autofree char *t = g_ascii_strdown(g_strstrip(copy), -1);
  return g_str_equal(t, "true") || g_str_equal(t, "1") || g_str_equal(t, "on") ||
         g_str_equal(t, "\"true\"");
}

/* Every accepted write is counted, even when ignore_actions drops it. */
static void
count_write(AmFmMiner *miner)
{
  miner->state.writes++;
}

static char *
escape_json(const char *text)
{
  GString *s = g_string_new(NULL);
  for (const char *p = text; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(s, '\\');
    if ((guchar)*p >= 0x20)
      g_string_append_c(s, *p);
  }
  return g_string_free(s, FALSE);
}

/* A cgminer-style reply: one STATUS entry and an optional extra member. */
static void
status_reply(GByteArray *out, const char *status, int code, const char *msg,
             const char *description, gint64 when, const char *extra)
{
  g_autofree char *m = escape_json(msg);
  g_autofree char *text =
      g_strdup_printf("{\"STATUS\":[{\"STATUS\":\"%s\",\"When\":%" G_GINT64_FORMAT
                      ",\"Code\":%d,\"Msg\":\"%s\",\"Description\":\"%s\"}],%s%s\"id\":1}",
                      status, when, code, m, description, extra ? extra : "", extra ? "," : "");
  append_text(out, text);
}

/* ---- pools in a request body ---- */

static const char *
member_string(JsonObject *object, const char *const *names)
{
  for (gsize i = 0; names[i] != NULL; i++) {
    JsonNode *node = json_object_get_member(object, names[i]);
    if (node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
        json_node_get_value_type(node) == G_TYPE_STRING)
      return json_node_get_string(node);
  }
  return NULL;
}

static const char *const url_names[] = {"url", "URL", "Url", NULL};
static const char *const user_names[] = {"user", "username", "User", "worker", NULL};
static const char *const pass_names[] = {"pass", "password", "Password", NULL};

/* The first array of objects with a "url" (depth first): [{url,user,pass}]
 * (Antminer, Auradine), Braiins' [{name, pools:[{url,user,password}]}]. */
static GPtrArray *
find_pools(JsonNode *node)
{
  if (node == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *array = json_node_get_array(node);
    GPtrArray *pools = g_ptr_array_new_with_free_func(am_fm_pool_free);
    for (guint i = 0; i < json_array_get_length(array); i++) {
      JsonNode *item = json_array_get_element(array, i);
      const char *url = JSON_NODE_HOLDS_OBJECT(item)
                            ? member_string(json_node_get_object(item), url_names)
                            : NULL;
      if (url == NULL)
        continue;
      JsonObject *object = json_node_get_object(item);
      const char *user = member_string(object, user_names);
      const char *pass = member_string(object, pass_names);
      AmFmPool *pool = g_new0(AmFmPool, 1);
      pool->url = g_strdup(url);
      pool->user = g_strdup(user ? user : "");
      pool->password = g_strdup(pass ? pass : "");
      g_ptr_array_add(pools, pool);
    }
    if (pools->len > 0)
      return pools;
    g_ptr_array_unref(pools);
    for (guint i = 0; i < json_array_get_length(array); i++) {
      GPtrArray *found = find_pools(json_array_get_element(array, i));
      if (found != NULL)
        return found;
    }
    return NULL;
  }
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    JsonObject *object = json_node_get_object(node);
    g_autoptr(GList) members = json_object_get_members(object);
    for (GList *l = members; l != NULL; l = l->next) {
      GPtrArray *found = find_pools(json_object_get_member(object, l->data));
      if (found != NULL)
        return found;
    }
  }
  return NULL;
}

static JsonParser *
parse_body(const AmFmHttpRequest *request)
{
  JsonParser *parser = json_parser_new();
  if (request->body_len == 0 ||
      !json_parser_load_from_data(parser, request->body, (gssize)request->body_len, NULL)) {
    g_object_unref(parser);
    return NULL;
  }
  return parser;
}

/* ---- HTTP writes ---- */

/* set_miner_conf.cgi: "miner-mode"/"bitmain-work-mode" 1 sleeps, 0 runs
 * normally, 2 high, 3 low (FIRMWARE-NOTES-2 section 3); "pools" replaces
 * the pools. */
static void
antminer_conf(AmFmMiner *miner, const AmFmHttpRequest *request)
{
  g_autoptr(JsonParser) parser = parse_body(request);
  if (parser == NULL || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    return;
  JsonObject *conf = json_node_get_object(json_parser_get_root(parser));
  const char *mode_keys[] = {"miner-mode", "bitmain-work-mode"};
  for (gsize i = 0; i < G_N_ELEMENTS(mode_keys); i++) {
    JsonNode *node = json_object_get_member(conf, mode_keys[i]);
    if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
      continue;
    gint64 mode = json_node_get_value_type(node) == G_TYPE_STRING
                      ? g_ascii_strtoll(json_node_get_string(node), NULL, 10)
                      : json_node_get_int(node);
    if (mode == 1) {
      am_fm_state_act(&miner->state, AM_FM_ACT_PAUSE);
    } else {
      am_fm_state_act(&miner->state, AM_FM_ACT_RESUME);
      am_fm_state_set_work_mode(&miner->state, mode == 2 ? "high" : mode == 3 ? "low" : "normal");
    }
    break;
  }
  JsonNode *pools = json_object_get_member(conf, "pools");
  GPtrArray *found = find_pools(pools);
  if (found != NULL)
    am_fm_state_set_pools(&miner->state, found);
}

/* AxeOS PATCH /api/system: stratumURL, stratumPort, stratumUser. */
static void
axeos_system(AmFmMiner *miner, const AmFmHttpRequest *request)
{
  const char *url = g_hash_table_lookup(request->params, "stratumURL");
  if (url == NULL)
    return;
  const char *user = g_hash_table_lookup(request->params, "stratumUser");
  const char *pass = g_hash_table_lookup(request->params, "stratumPassword");
  GPtrArray *pools = g_ptr_array_new_with_free_func(am_fm_pool_free);
  AmFmPool *pool = g_new0(AmFmPool, 1);
  pool->url = g_strdup(url);
  pool->user = g_strdup(user ? user : "");
  pool->password = g_strdup(pass ? pass : "");
  g_ptr_array_add(pools, pool);
  am_fm_state_set_pools(&miner->state, pools);
}

/* The value of @param: a request parameter, or the whole body for "@body". */
static const char *
param_value(const AmFmHttpRequest *request, const char *param)
{
  if (param == NULL)
    return NULL;
  if (g_str_equal(param, "@body"))
    return request->body;
  return g_hash_table_lookup(request->params, param);
}

gboolean
am_fm_actions_http(AmFmMiner *miner, const char *route_key, const AmFmHttpRequest *request,
                   AmFmHttpReply *reply)
{
  const char *spec = am_fm_profile_get_write_action(miner->profile, route_key);
  if (spec == NULL)
    return FALSE;
  (void)reply;
  g_auto(GStrv) words = g_strsplit(spec, " ", 3);
  const char *action = words[0];
  const char *param = words[0] ? words[1] : NULL;
  const char *value = param_value(request, param);
  AmFmState *st = &miner->state;
  count_write(miner);
  if (g_str_equal(action, "reboot"))
    am_fm_state_act(st, AM_FM_ACT_REBOOT);
  else if (g_str_equal(action, "restart"))
    am_fm_state_act(st, AM_FM_ACT_RESTART);
  else if (g_str_equal(action, "pause"))
    am_fm_state_act(st, AM_FM_ACT_PAUSE);
  else if (g_str_equal(action, "resume"))
    am_fm_state_act(st, AM_FM_ACT_RESUME);
  else if (g_str_equal(action, "locate_on"))
    am_fm_state_act(st, AM_FM_ACT_LOCATE_ON);
  else if (g_str_equal(action, "locate_off"))
    am_fm_state_act(st, AM_FM_ACT_LOCATE_OFF);
  else if (g_str_equal(action, "locate"))
    am_fm_state_act(st, truthy(value) ? AM_FM_ACT_LOCATE_ON : AM_FM_ACT_LOCATE_OFF);
  else if (g_str_equal(action, "power_target") && value != NULL)
    am_fm_state_set_power(st, g_ascii_strtod(value, NULL));
  else if (g_str_equal(action, "antminer_conf"))
    antminer_conf(miner, request);
  else if (g_str_equal(action, "axeos_system"))
    axeos_system(miner, request);
  else if (g_str_equal(action, "pools")) {
    g_autoptr(JsonParser) parser = parse_body(request);
    GPtrArray *pools = parser ? find_pools(json_parser_get_root(parser)) : NULL;
    if (pools != NULL)
      am_fm_state_set_pools(st, pools);
  }
  return TRUE;
}

/* ---- RPC writes ---- */

/* cgminer's reply to "restart", which the Avalon and Antminer firmware
 * keep: asic-rs checks STATUS == "RESTART". */
static void
restart_reply(AmFmMiner *miner, GByteArray *out)
{
  count_write(miner);
  am_fm_state_act(&miner->state, AM_FM_ACT_RESTART);
  append_text(out, "{\"STATUS\":\"RESTART\"}");
}

static gboolean
antminer_rpc(AmFmMiner *miner, const char *command, gint64 when, GByteArray *out)
{
  if (!g_str_equal(command, "restart"))
    return FALSE;
  if (!miner->state.write_access) { /* api-allow without W: */
    am_fm_reply_access_denied(command, when, out);
    return TRUE;
  }
  restart_reply(miner, out);
  return TRUE;
}

/* ---- LuxOS: sessions ---- */

#define LUX_DESCRIPTION "LUXminer 2024.5.1.122049-8a0f8e04"

static void
lux_session_reply(AmFmMiner *miner, const char *msg, int code, gint64 when, GByteArray *out)
{
  g_autofree char *extra = g_strdup_printf("\"SESSION\":[{\"SessionID\":\"%s\"}]",
                                           miner->state.session ? miner->state.session : "");
  status_reply(out, "S", code, msg, LUX_DESCRIPTION, when, extra);
}

static gboolean
luxos_rpc(AmFmMiner *miner, const char *command, const char *parameter, gint64 when,
          GByteArray *out)
{
  static const char *const privileged[] = {
      "logoff", "curtail", "rebootdevice", "resetminer", "ledset", "profileset", NULL};
  AmFmState *st = &miner->state;
  if (g_str_equal(command, "session")) {
    lux_session_reply(miner, "Session", 8, when, out);
    return TRUE;
  }
  if (g_str_equal(command, "logon")) {
    /* One session at a time: a new logon replaces the old one. */
    g_free(st->session);
    st->session = g_strdup_printf("%08x", g_random_int());
    lux_session_reply(miner, "Logon", 8, when, out);
    return TRUE;
  }
  if (!g_strv_contains(privileged, command))
    return FALSE;
  g_auto(GStrv) args = g_strsplit(parameter ? parameter : "", ",", -1);
  if (st->session == NULL || args[0] == NULL || !g_str_equal(args[0], st->session)) {
    status_reply(out, "E", 401, "Invalid session id", LUX_DESCRIPTION, when, NULL);
    return TRUE;
  }
  const char *arg1 = args[1];
  if (g_str_equal(command, "logoff")) {
    g_clear_pointer(&st->session, g_free);
    status_reply(out, "S", 8, "Logoff", LUX_DESCRIPTION, when, NULL);
    return TRUE;
  }
  if (g_str_equal(command, "curtail")) {
    if (g_strcmp0(arg1, "sleep") != 0 && g_strcmp0(arg1, "wakeup") != 0) {
      status_reply(out, "E", 400, "Invalid curtail mode", LUX_DESCRIPTION, when, NULL);
      return TRUE;
    }
    count_write(miner);
    am_fm_state_act(st, g_str_equal(arg1, "sleep") ? AM_FM_ACT_PAUSE : AM_FM_ACT_RESUME);
    status_reply(out, "S", 8, g_str_equal(arg1, "sleep") ? "Curtail sleep" : "Curtail wakeup",
                 LUX_DESCRIPTION, when, NULL);
    return TRUE;
  }
  count_write(miner);
  if (g_str_equal(command, "rebootdevice")) {
    am_fm_state_act(st, AM_FM_ACT_REBOOT);
    status_reply(out, "S", 8, "Reboot", LUX_DESCRIPTION, when, NULL);
  } else if (g_str_equal(command, "resetminer")) {
    am_fm_state_act(st, AM_FM_ACT_RESTART);
    status_reply(out, "S", 8, "Resetminer", LUX_DESCRIPTION, when, NULL);
  } else if (g_str_equal(command, "ledset")) {
    /* ledset <sid>,red,on|off|blink */
    const char *mode = arg1 ? args[2] : NULL;
    am_fm_state_act(st, g_strcmp0(mode, "off") == 0 || mode == NULL ? AM_FM_ACT_LOCATE_OFF
                                                                    : AM_FM_ACT_LOCATE_ON);
    status_reply(out, "S", 8, "LED set", LUX_DESCRIPTION, when, NULL);
  } else { /* profileset <sid>,NAME: "default", or a step "-2" / "+1" */
    const char *mode = arg1 == NULL                  ? "normal"
                       : arg1[0] == '-'              ? "low"
                       : arg1[0] == '+'              ? "high"
                       : strstr(arg1, "low") != NULL ? "low"
                                                     : "normal";
    am_fm_state_set_work_mode(st, mode);
    status_reply(out, "S", 8, "Profile set", LUX_DESCRIPTION, when, NULL);
  }
  return TRUE;
}

/* ---- Avalon: ascset ---- */

#define AVALON_DESCRIPTION "cgminer 4.11.1"

static gboolean
avalon_rpc(AmFmMiner *miner, const char *command, const char *parameter, gint64 when,
           GByteArray *out)
{
  if (g_str_equal(command, "restart")) {
    restart_reply(miner, out);
    return TRUE;
  }
  if (!g_str_equal(command, "ascset"))
    return FALSE;
  /* "0,softoff,1:TS", "0,softon,1:TS", "0,worklevel,set,N", "0,led,1-1",
   * "0,reboot,0": the first word is the device. */
  g_auto(GStrv) args = g_strsplit(parameter ? parameter : "", ",", 4);
  const char *what = args[0] && args[1] ? args[1] : "";
  const char *arg = args[0] && args[1] ? args[2] : NULL;
  AmFmState *st = &miner->state;
  if (g_str_equal(what, "softoff") || g_str_equal(what, "softon")) {
    /* "1:TS": the time to act; the reply echoes it (recorded replies). */
    const char *colon = arg ? strchr(arg, ':') : NULL;
    count_write(miner);
    am_fm_state_act(st, g_str_equal(what, "softoff") ? AM_FM_ACT_PAUSE : AM_FM_ACT_RESUME);
    g_autofree char *msg =
        g_strdup_printf("ASC 0 set info: success %s:%s", what, colon ? colon + 1 : "0");
    status_reply(out, "I", 118, msg, AVALON_DESCRIPTION, when, NULL);
    return TRUE;
  }
  if (g_str_equal(what, "worklevel") && g_strcmp0(arg, "set") == 0 && args[3] != NULL) {
    /* asic-rs sends the power limit in watts here; small values are the
     * levels 0 (low), 1 (normal), 2 (high). */
    gint64 level = g_ascii_strtoll(args[3], NULL, 10);
    count_write(miner);
    if (level >= 100)
      am_fm_state_set_power(st, (double)level);
    else
      am_fm_state_set_work_mode(st, level <= 0 ? "low" : level == 1 ? "normal" : "high");
    status_reply(out, "S", 119, "ASC 0 set OK", AVALON_DESCRIPTION, when, NULL);
    return TRUE;
  }
  if (g_str_equal(what, "led") && arg != NULL) {
    count_write(miner);
    am_fm_state_act(st, g_str_has_suffix(arg, "-1") ? AM_FM_ACT_LOCATE_ON : AM_FM_ACT_LOCATE_OFF);
    status_reply(out, "S", 119, "ASC 0 set OK", AVALON_DESCRIPTION, when, NULL);
    return TRUE;
  }
  if (g_str_equal(what, "reboot")) {
    count_write(miner);
    am_fm_state_act(st, AM_FM_ACT_REBOOT);
    status_reply(out, "S", 119, "ASC 0 set OK", AVALON_DESCRIPTION, when, NULL);
    return TRUE;
  }
  status_reply(out, "E", 120, "ASC 0 set failed", AVALON_DESCRIPTION, when, NULL);
  return TRUE;
}

gboolean
am_fm_actions_rpc(AmFmMiner *miner, const char *command, const char *parameter, gint64 when,
                  GByteArray *out)
{
  const char *family = miner->profile ? am_fm_profile_get_write_family(miner->profile) : NULL;
  if (family == NULL)
    return FALSE;
  if (g_str_equal(family, "antminer"))
    return antminer_rpc(miner, command, when, out);
  if (g_str_equal(family, "luxos"))
    return luxos_rpc(miner, command, parameter, when, out);
  if (g_str_equal(family, "avalon"))
    return avalon_rpc(miner, command, parameter, when, out);
  return FALSE;
}
