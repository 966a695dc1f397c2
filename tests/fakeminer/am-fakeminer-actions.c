/* The firmware write calls: what a miner does when told to reboot, sleep,
 * change pools, ...
 *
 * HTTP writes are routes like any other (their reply file is the firmware's
 * success reply, and the section's login guards them), named in the
 * profile's [write] section with the action they take:
 *
 *   [write]
 *   PUT /api/v1/actions/pause=pause status:204     answered 204, no body
 *   PUT /api/v1/actions/locate=locate @body        a JSON true/false body
 *   PUT /api/v1/performance/power-target=power_target watt
 *   POST /cgi-bin/set_miner_conf.cgi=antminer_conf
 *
 * RPC writes take parameters, sessions and replies of their own: they are
 * in am-fakeminer-rpc-writes.c per family ([write] family=antminer,
 * cgminer, luxos or avalon), the Whatsminer ones in am-fakeminer-whatsminer.c
 * and the HTTP writes that answer in their own words (ePIC, Auradine) in
 * am-fakeminer-web-writes.c.
 */
#include "am-fakeminer.h"
#include <stdlib.h>
#include <string.h>

/* ---- helpers shared by the families ---- */

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

char *
am_fm_json_escape(const char *text)
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

void
am_fm_write_status(GByteArray *out, const char *status, int code, const char *msg,
                   const char *description, gint64 when, const char *extra)
{
  g_autofree char *m = am_fm_json_escape(msg);
  g_autofree char *text =
      g_strdup_printf("{\"STATUS\":[{\"STATUS\":\"%s\",\"When\":%" G_GINT64_FORMAT
                      ",\"Code\":%d,\"Msg\":\"%s\",\"Description\":\"%s\"}],%s%s\"id\":1}",
                      status, when, code, m, description, extra ? extra : "", extra ? "," : "");
  append_text(out, text);
}

AmFmPool *
am_fm_pool_new(const char *url, const char *user, const char *password)
{
  AmFmPool *pool = g_new0(AmFmPool, 1);
  pool->url = g_strdup(url);
  pool->user = g_strdup(user ? user : "");
  pool->password = g_strdup(password ? password : "");
  return pool;
}

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

/* The member names of a pool across the firmwares: Antminer and Auradine
 * {url,user,pass}, Braiins {url,user,password}, ePIC {pool,login,password},
 * Whatsminer v3 {pool,worker,passwd}. */
static const char *const url_names[] = {"url", "URL", "Url", "pool", NULL};
static const char *const user_names[] = {"user", "username", "User", "worker", "login", NULL};
static const char *const pass_names[] = {"pass", "password", "Password", "passwd", NULL};

static GPtrArray *
pools_of_array(JsonArray *array)
{
  GPtrArray *pools = g_ptr_array_new_with_free_func(am_fm_pool_free);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonNode *item = json_array_get_element(array, i);
    if (!JSON_NODE_HOLDS_OBJECT(item))
      continue;
    JsonObject *object = json_node_get_object(item);
    const char *url = member_string(object, url_names);
    if (url != NULL)
      g_ptr_array_add(pools, am_fm_pool_new(url, member_string(object, user_names),
                                            member_string(object, pass_names)));
  }
  if (pools->len > 0)
    return pools;
  g_ptr_array_unref(pools);
  return NULL;
}

GPtrArray *
am_fm_find_pools(JsonNode *node)
{
  if (node == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *array = json_node_get_array(node);
    GPtrArray *pools = pools_of_array(array);
    for (guint i = 0; pools == NULL && i < json_array_get_length(array); i++)
      pools = am_fm_find_pools(json_array_get_element(array, i));
    return pools;
  }
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    JsonObject *object = json_node_get_object(node);
    g_autoptr(GList) members = json_object_get_members(object);
    for (GList *l = members; l != NULL; l = l->next) {
      GPtrArray *found = am_fm_find_pools(json_object_get_member(object, l->data));
      if (found != NULL)
        return found;
    }
  }
  return NULL;
}

GPtrArray *
am_fm_current_pools(AmFmMiner *miner)
{
  GPtrArray *pools = g_ptr_array_new_with_free_func(am_fm_pool_free);
  if (miner->state.pools != NULL) {
    for (guint i = 0; i < miner->state.pools->len; i++) {
      const AmFmPool *p = miner->state.pools->pdata[i];
      g_ptr_array_add(pools, am_fm_pool_new(p->url, p->user, p->password));
    }
    return pools;
  }
  /* As recorded: the "pools" reply without any state applied. */
  AmFmVary vary = {.hashrate_scale = 1};
  guint64 rng = 1;
  vary.rng = &rng;
  g_autoptr(GByteArray) text = g_byte_array_new();
  g_autoptr(JsonParser) parser = json_parser_new();
  if (miner->profile == NULL || !am_fm_profile_render(miner->profile, "pools", &vary, text) ||
      !json_parser_load_from_data(parser, (const char *)text->data, (gssize)text->len, NULL))
    return pools;
  JsonNode *root = json_parser_get_root(parser);
  JsonNode *list = JSON_NODE_HOLDS_OBJECT(root)
                       ? json_object_get_member(json_node_get_object(root), "POOLS")
                       : NULL;
  g_autoptr(GPtrArray) found = list != NULL ? am_fm_find_pools(list) : NULL;
  for (guint i = 0; found != NULL && i < found->len; i++) {
    const AmFmPool *p = found->pdata[i];
    g_ptr_array_add(pools, am_fm_pool_new(p->url, p->user, p->password));
  }
  return pools;
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

/* set_miner_conf.cgi: "miner-mode" (a number, as the antminer-web driver
 * and asic-rs send it; "bitmain-work-mode" as a fallback) 1 sleeps, 0 runs
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
  GPtrArray *found = am_fm_find_pools(json_object_get_member(conf, "pools"));
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
  GPtrArray *pools = g_ptr_array_new_with_free_func(am_fm_pool_free);
  g_ptr_array_add(pools, am_fm_pool_new(url, g_hash_table_lookup(request->params, "stratumUser"),
                                        g_hash_table_lookup(request->params, "stratumPassword")));
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

static void
answer(AmFmHttpReply *reply, int status, const char *content_type, const char *body)
{
  reply->answered = TRUE;
  reply->status = status;
  reply->content_type = content_type;
  g_byte_array_set_size(reply->body, 0);
  append_text(reply->body, body);
}

/* Actions that only change the state, whatever the firmware. */
static gboolean
plain_action(AmFmMiner *miner, const char *action, const char *value,
             const AmFmHttpRequest *request)
{
  AmFmState *st = &miner->state;
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
    GPtrArray *pools = parser ? am_fm_find_pools(json_parser_get_root(parser)) : NULL;
    if (pools != NULL)
      am_fm_state_set_pools(st, pools);
  } else
    return FALSE;
  return TRUE;
}

gboolean
am_fm_actions_http(AmFmMiner *miner, const char *route_key, const AmFmHttpRequest *request,
                   AmFmHttpReply *reply)
{
  const char *spec = am_fm_profile_get_write_action(miner->profile, route_key);
  if (spec == NULL)
    return FALSE;
  /* "ACTION [PARAM] [status:N]" */
  g_auto(GStrv) words = g_strsplit(spec, " ", -1);
  const char *action = words[0];
  const char *param = NULL;
  int status = 0;
  for (gsize i = 1; words[i] != NULL; i++) {
    if (g_str_has_prefix(words[i], "status:"))
      status = atoi(words[i] + 7);
    else if (param == NULL)
      param = words[i];
  }
  const char *value = param_value(request, param);
  AmFmState *st = &miner->state;
  if (g_str_equal(action, "locate_status")) {
    /* Braiins GET actions/locate: the last body PUT there (a bare boolean). */
    answer(reply, 200, "application/json",
           st->locate_body ? st->locate_body
           : st->locate    ? "true"
                           : "false");
    return TRUE;
  }
  if (g_str_has_prefix(action, "epic_") || g_str_has_prefix(action, "auradine_"))
    return am_fm_web_write(miner, action, param, request, reply);
  st->writes++; /* every accepted write counts, even when ignore_actions drops it */
  if (g_str_equal(action, "antminer_blink")) {
    /* blink.cgi {"blink":"true"}: B000 the light blinks, B100 it stopped. */
    gboolean on = truthy(value);
    am_fm_state_act(st, on ? AM_FM_ACT_LOCATE_ON : AM_FM_ACT_LOCATE_OFF);
    answer(reply, 200, "application/json", on ? "{\"code\":\"B000\"}" : "{\"code\":\"B100\"}");
    return TRUE;
  }
  if (!plain_action(miner, action, value, request))
    g_warning("%s: [write] %s: unknown action", miner->label, spec);
  if (g_str_equal(action, "locate") && g_str_equal(param ? param : "", "@body") &&
      !st->ignore_actions) {
    g_free(st->locate_body);
    st->locate_body = g_strstrip(g_strdup(request->body));
  }
  if (status == 204)
    answer(reply, 204, "application/json", "");
  return TRUE;
}

/* ---- RPC writes ---- */

gboolean
am_fm_actions_rpc(AmFmMiner *miner, const char *command, const char *parameter, gint64 when,
                  GByteArray *out)
{
  const char *family = miner->profile ? am_fm_profile_get_write_family(miner->profile) : NULL;
  if (family == NULL)
    return FALSE;
  if (g_str_equal(family, "antminer") || g_str_equal(family, "cgminer"))
    return am_fm_rpc_writes_antminer(miner, command, parameter, when, out);
  if (g_str_equal(family, "luxos"))
    return am_fm_rpc_writes_luxos(miner, command, parameter, when, out);
  if (g_str_equal(family, "avalon"))
    return am_fm_rpc_writes_avalon(miner, command, parameter, when, out);
  return FALSE;
}
