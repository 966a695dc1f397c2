/* RPC writes per firmware family ([write] family=): stock Antminer and
 * plain cgminer (restart, the pool commands), LuxOS (sessions, curtail,
 * ledset, profileset), Avalon (ascset). Codes and messages are cgminer's
 * api.c where it has the command, else the firmware's as the drivers cite
 * them (plugins/driver/NAME/README.md "Actions").
 */
#include "am-fakeminer.h"
#include <string.h>

static void
append_text(GByteArray *out, const char *text)
{
  g_byte_array_append(out, (const guint8 *)text, (guint)strlen(text));
}

/* ---- stock Antminer and cgminer ---- */

/* cgminer's reply to "restart", which the Avalon and Antminer firmware
 * keep: asic-rs checks STATUS == "RESTART". */
static void
restart_reply(AmFmMiner *miner, GByteArray *out)
{
  miner->state.writes++;
  am_fm_state_act(&miner->state, AM_FM_ACT_RESTART);
  append_text(out, "{\"STATUS\":\"RESTART\"}");
}

/* "url,user,pass" with "\," and "\\" escaped, as cgminer's addpool reads it. */
static GPtrArray *
split_escaped(const char *text)
{
  GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
  GString *field = g_string_new(NULL);
  for (const char *p = text; *p != '\0'; p++) {
    if (*p == '\\' && p[1] != '\0') {
      g_string_append_c(field, *++p);
    } else if (*p == ',') {
      g_ptr_array_add(fields, g_string_free(field, FALSE));
      field = g_string_new(NULL);
    } else {
      g_string_append_c(field, *p);
    }
  }
  g_ptr_array_add(fields, g_string_free(field, FALSE));
  return fields;
}

static gboolean
pool_index(const char *parameter, guint len, guint *index)
{
  char *end = NULL;
  gint64 n = parameter ? g_ascii_strtoll(parameter, &end, 10) : -1;
  if (parameter == NULL || end == parameter || n < 0 || n >= len)
    return FALSE;
  *index = (guint)n;
  return TRUE;
}

/* addpool, switchpool and removepool on the pool list (the recorded one
 * until a write changes it). switchpool makes pool N the active one without
 * renumbering; removepool renumbers the rest and refuses the active pool. */
static void
antminer_pools(AmFmMiner *miner, const char *command, const char *parameter, gint64 when,
               GByteArray *out)
{
  AmFmState *st = &miner->state;
  g_autoptr(GPtrArray) pools = am_fm_current_pools(miner);
  guint index = 0;
  g_autofree char *msg = NULL;
  if (g_str_equal(command, "addpool")) {
    g_autoptr(GPtrArray) f = split_escaped(parameter ? parameter : "");
    if (f->len != 3 || *(char *)f->pdata[0] == '\0') {
      am_fm_write_status(out, "E", 25, "Missing addpool details", "cgminer", when, NULL);
      return;
    }
    g_ptr_array_add(pools, am_fm_pool_new(f->pdata[0], f->pdata[1], f->pdata[2]));
    msg = g_strdup_printf("Added pool %u: '%s'", pools->len - 1, (char *)f->pdata[0]);
    st->writes++;
    am_fm_state_set_pools(st, g_steal_pointer(&pools));
    am_fm_write_status(out, "S", 55, msg, "cgminer", when, NULL);
    return;
  }
  if (!pool_index(parameter, pools->len, &index)) {
    msg = g_strdup_printf("Invalid pool id %s - range is 0 - %d", parameter ? parameter : "",
                          (int)pools->len - 1);
    am_fm_write_status(out, "E", 26, msg, "cgminer", when, NULL);
    return;
  }
  const AmFmPool *pool = pools->pdata[index];
  if (g_str_equal(command, "switchpool")) {
    msg = g_strdup_printf("Switching to pool %u:'%s'", index, pool->url);
    st->writes++;
    if (!st->ignore_actions)
      st->pool_active = index;
    am_fm_write_status(out, "S", 27, msg, "cgminer", when, NULL);
    return;
  }
  if (index == st->pool_active) {
    msg = g_strdup_printf("Cannot remove active pool %u:'%s'", index, pool->url);
    am_fm_write_status(out, "E", 67, msg, "cgminer", when, NULL);
    return;
  }
  msg = g_strdup_printf("Removed pool %u:'%s'", index, pool->url);
  st->writes++;
  guint active = st->pool_active;
  g_ptr_array_remove_index(pools, index);
  am_fm_state_set_pools(st, g_steal_pointer(&pools));
  if (!st->ignore_actions)
    st->pool_active = index < active ? active - 1 : active;
  am_fm_write_status(out, "S", 68, msg, "cgminer", when, NULL);
}

gboolean
am_fm_rpc_writes_antminer(AmFmMiner *miner, const char *command, const char *parameter, gint64 when,
                          GByteArray *out)
{
  static const char *const writes[] = {"restart", "addpool", "switchpool", "removepool", NULL};
  if (!g_strv_contains(writes, command))
    return FALSE;
  if (!miner->state.write_access) { /* api-allow without W: */
    am_fm_reply_access_denied(command, when, out);
    return TRUE;
  }
  if (g_str_equal(command, "restart"))
    restart_reply(miner, out);
  else
    antminer_pools(miner, command, parameter, when, out);
  return TRUE;
}

/* ---- LuxOS: sessions ---- */

#define LUX_DESCRIPTION "LUXminer 2024.5.1.122049-8a0f8e04"

static void
lux_reply(GByteArray *out, const char *status, int code, const char *msg, gint64 when,
          const char *extra)
{
  am_fm_write_status(out, status, code, msg, LUX_DESCRIPTION, when, extra);
}

static void
lux_session_reply(AmFmMiner *miner, const char *msg, int code, gint64 when, GByteArray *out)
{
  g_autofree char *extra = g_strdup_printf("\"SESSION\":[{\"SessionID\":\"%s\"}]",
                                           miner->state.session ? miner->state.session : "");
  lux_reply(out, "S", code, msg, when, extra);
}

/* The Watts of LuxOS profile @name in the recorded "profiles" reply, or 0. */
static double
lux_profile_watts(AmFmMiner *miner, const char *name)
{
  AmFmVary vary = {.hashrate_scale = 1};
  guint64 rng = 1;
  vary.rng = &rng;
  g_autoptr(GByteArray) text = g_byte_array_new();
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!am_fm_profile_render(miner->profile, "profiles", &vary, text) ||
      !json_parser_load_from_data(parser, (const char *)text->data, (gssize)text->len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    return 0;
  JsonObject *root = json_node_get_object(json_parser_get_root(parser));
  JsonArray *list = json_object_has_member(root, "PROFILES")
                        ? json_object_get_array_member(root, "PROFILES")
                        : NULL;
  for (guint i = 0; list != NULL && i < json_array_get_length(list); i++) {
    JsonObject *p = json_array_get_object_element(list, i);
    if (p != NULL &&
        g_strcmp0(json_object_get_string_member_with_default(p, "Profile Name", ""), name) == 0)
      return json_object_get_double_member_with_default(p, "Watts", 0);
  }
  return 0;
}

/* curtail, rebootdevice, resetminer, ledset, profileset with a valid
 * session; @args[0] is the session, @args[1...] the rest. */
static void
lux_write(AmFmMiner *miner, const char *command, char **args, gint64 when, GByteArray *out)
{
  AmFmState *st = &miner->state;
  const char *arg1 = args[1];
  if (g_str_equal(command, "curtail")) {
    if (g_strcmp0(arg1, "sleep") != 0 && g_strcmp0(arg1, "wakeup") != 0) {
      lux_reply(out, "E", 400, "Invalid curtail mode", when, NULL);
      return;
    }
    st->writes++;
    am_fm_state_act(st, g_str_equal(arg1, "sleep") ? AM_FM_ACT_PAUSE : AM_FM_ACT_RESUME);
    g_autofree char *extra = g_strdup_printf("\"CURTAIL\":[{\"Action\":\"%s\"}]", arg1);
    lux_reply(out, "S", 335, "Curtailment command sent", when, extra);
    return;
  }
  if (g_str_equal(command, "ledset")) {
    /* ledset <sid>,red,blink|on|auto|off */
    const char *mode = arg1 ? args[2] : NULL;
    if (g_strcmp0(arg1, "red") != 0 && g_strcmp0(arg1, "green") != 0) {
      lux_reply(out, "E", 400, "Invalid LED color", when, NULL);
      return;
    }
    st->writes++;
    gboolean on = g_strcmp0(mode, "blink") == 0 || g_strcmp0(mode, "on") == 0;
    if (g_str_equal(arg1, "red"))
      am_fm_state_act(st, on ? AM_FM_ACT_LOCATE_ON : AM_FM_ACT_LOCATE_OFF);
    lux_reply(out, "S", 8, "LED set", when, NULL);
    return;
  }
  if (g_str_equal(command, "profileset")) {
    if (arg1 == NULL || *arg1 == '\0') {
      lux_reply(out, "E", 400, "Missing profile", when, NULL);
      return;
    }
    /* The profile's Watts drive the power model; "default" has none listed. */
    st->writes++;
    double watts = lux_profile_watts(miner, arg1);
    am_fm_state_set_work_mode(st, arg1);
    am_fm_state_set_power(st, watts);
    lux_reply(out, "S", 321, "Profile Set", when, NULL);
    return;
  }
  st->writes++;
  if (g_str_equal(command, "rebootdevice")) {
    am_fm_state_act(st, AM_FM_ACT_REBOOT);
    lux_reply(out, "S", 8, "Reboot", when, NULL);
  } else {
    am_fm_state_act(st, AM_FM_ACT_RESTART);
    lux_reply(out, "S", 8, "Resetminer", when, NULL);
  }
}

gboolean
am_fm_rpc_writes_luxos(AmFmMiner *miner, const char *command, const char *parameter, gint64 when,
                       GByteArray *out)
{
  static const char *const privileged[] = {
      "logoff", "curtail", "rebootdevice", "resetminer", "ledset", "profileset", NULL};
  AmFmState *st = &miner->state;
  if (g_str_equal(command, "session")) {
    lux_session_reply(miner, "Session information", 319, when, out);
    return TRUE;
  }
  if (g_str_equal(command, "logon")) {
    /* One session at a time: LuxOS refuses a second logon while one is open. */
    if (st->session != NULL) {
      lux_reply(out, "E", 317, "Another session is active", when, NULL);
      return TRUE;
    }
    st->session = g_strdup_printf("%08x", g_random_int());
    lux_session_reply(miner, "Session created", 316, when, out);
    return TRUE;
  }
  /* The pool commands are cgminer's, without a session id (asic-rs's
   * luxminer client sends them so); the pool list then follows them. */
  if (g_str_equal(command, "addpool") || g_str_equal(command, "switchpool") ||
      g_str_equal(command, "removepool")) {
    antminer_pools(miner, command, parameter, when, out);
    return TRUE;
  }
  if (!g_strv_contains(privileged, command))
    return FALSE;
  g_auto(GStrv) args = g_strsplit(parameter ? parameter : "", ",", -1);
  if (st->session == NULL || args[0] == NULL || !g_str_equal(args[0], st->session)) {
    lux_reply(out, "E", 401, "Invalid session id", when, NULL);
    return TRUE;
  }
  if (g_str_equal(command, "logoff")) {
    g_clear_pointer(&st->session, g_free);
    lux_reply(out, "S", 8, "Logoff", when, NULL);
    return TRUE;
  }
  lux_write(miner, command, args, when, out);
  return TRUE;
}

/* ---- Avalon: ascset ---- */

#define AVALON_DESCRIPTION "cgminer 4.11.1"

static void
avalon_ok(AmFmMiner *miner, gint64 when, GByteArray *out)
{
  miner->state.writes++;
  am_fm_write_status(out, "S", 119, "ASC 0 set OK", AVALON_DESCRIPTION, when, NULL);
}

gboolean
am_fm_rpc_writes_avalon(AmFmMiner *miner, const char *command, const char *parameter, gint64 when,
                        GByteArray *out)
{
  if (g_str_equal(command, "restart")) {
    restart_reply(miner, out);
    return TRUE;
  }
  if (!g_str_equal(command, "ascset"))
    return FALSE;
  /* "0,softoff,1:TS", "0,softon,1:TS", "0,workmode,set,N", "0,led,1-1",
   * "0,reboot,0": the first word is the device. */
  g_auto(GStrv) args = g_strsplit(parameter ? parameter : "", ",", 4);
  const char *what = args[0] && args[1] ? args[1] : "";
  const char *arg = args[0] && args[1] ? args[2] : NULL;
  AmFmState *st = &miner->state;
  if (g_str_equal(what, "softoff") || g_str_equal(what, "softon")) {
    /* "1:TS": the time to act; the reply echoes it (recorded replies). */
    const char *colon = arg ? strchr(arg, ':') : NULL;
    st->writes++;
    am_fm_state_act(st, g_str_equal(what, "softoff") ? AM_FM_ACT_PAUSE : AM_FM_ACT_RESUME);
    g_autofree char *msg =
        g_strdup_printf("ASC 0 set info: success %s:%s", what, colon ? colon + 1 : "0");
    am_fm_write_status(out, "I", 118, msg, AVALON_DESCRIPTION, when, NULL);
    return TRUE;
  }
  if (g_str_equal(what, "workmode") && g_strcmp0(arg, "set") == 0 && args[3] != NULL &&
      (g_str_equal(args[3], "0") || g_str_equal(args[3], "1") || g_str_equal(args[3], "2"))) {
    /* 0 low (eco), 1 normal, 2 high (the driver's reading of WORKMODE[n]) */
    static const char *const modes[] = {"low", "normal", "high"};
    am_fm_state_set_work_mode(st, modes[args[3][0] - '0']);
    avalon_ok(miner, when, out);
    return TRUE;
  }
  if (g_str_equal(what, "led") && (g_strcmp0(arg, "1-1") == 0 || g_strcmp0(arg, "1-0") == 0)) {
    am_fm_state_act(st, g_str_equal(arg, "1-1") ? AM_FM_ACT_LOCATE_ON : AM_FM_ACT_LOCATE_OFF);
    avalon_ok(miner, when, out);
    return TRUE;
  }
  if (g_str_equal(what, "reboot")) {
    am_fm_state_act(st, AM_FM_ACT_REBOOT);
    avalon_ok(miner, when, out);
    return TRUE;
  }
  am_fm_write_status(out, "E", 120, "ASC 0 set failed", AVALON_DESCRIPTION, when, NULL);
  return TRUE;
}
