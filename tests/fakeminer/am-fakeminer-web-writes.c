/* HTTP writes that answer in the firmware's own words rather than with a
 * fixed reply file: ePIC PowerPlay (the password in the body, {"result":...}
 * answers) and Auradine FluxOS (a "command" body on a path shared with the
 * read of the same name, STATUS answers).
 *
 *   [write]
 *   family=epic
 *   password=letmein
 *   POST /miner=epic_miner
 *
 * The routes and the login are the [http] section's as for every write;
 * these functions only decide what the request does and what it answers.
 */
#include "am-fakeminer.h"
#include <stdlib.h>
#include <string.h>

static void
answer(AmFmHttpReply *reply, int status, const char *body)
{
  reply->answered = TRUE;
  reply->status = status;
  reply->content_type = "application/json";
  g_byte_array_set_size(reply->body, 0);
  g_byte_array_append(reply->body, (const guint8 *)body, (guint)strlen(body));
}

static GPtrArray *
body_pools(const AmFmHttpRequest *request)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  if (request->body_len == 0 ||
      !json_parser_load_from_data(parser, request->body, (gssize)request->body_len, NULL))
    return NULL;
  return am_fm_find_pools(json_parser_get_root(parser));
}

static const char *
param(const AmFmHttpRequest *request, const char *name)
{
  return g_hash_table_lookup(request->params, name);
}

/* ---- ePIC PowerPlay ---- */

/* POST /reboot {"param":"0",...}, /softreboot, /miner {"param":"Stop"|
 * "Autostart"}, /identify {"param":true|false}, /coin {"param":{"coin":...,
 * "stratum_configs":[{pool,login,password}]}}; each with "password". */
static gboolean
epic_write(AmFmMiner *miner, const char *action, const AmFmHttpRequest *request,
           AmFmHttpReply *reply)
{
  const char *want = am_fm_profile_get_write_setting(miner->profile, "password");
  if (g_strcmp0(param(request, "password"), want ? want : "letmein") != 0) {
    answer(reply, 401, "{\"result\":false,\"error\":\"Invalid password\"}");
    return TRUE;
  }
  AmFmState *st = &miner->state;
  const char *value = param(request, "param");
  if (g_str_equal(action, "epic_reboot")) {
    am_fm_state_act(st, AM_FM_ACT_REBOOT);
  } else if (g_str_equal(action, "epic_restart")) {
    am_fm_state_act(st, AM_FM_ACT_RESTART);
  } else if (g_str_equal(action, "epic_miner")) {
    if (g_strcmp0(value, "Stop") != 0 && g_strcmp0(value, "Autostart") != 0 &&
        g_strcmp0(value, "Start") != 0) {
      answer(reply, 200, "{\"result\":false,\"error\":\"Invalid miner state\"}");
      return TRUE;
    }
    am_fm_state_act(st, g_str_equal(value, "Stop") ? AM_FM_ACT_PAUSE : AM_FM_ACT_RESUME);
  } else if (g_str_equal(action, "epic_identify")) {
    am_fm_state_act(st, g_strcmp0(value, "true") == 0 ? AM_FM_ACT_LOCATE_ON : AM_FM_ACT_LOCATE_OFF);
  } else if (g_str_equal(action, "epic_coin")) {
    GPtrArray *pools = body_pools(request);
    if (pools == NULL) {
      answer(reply, 200, "{\"result\":false,\"error\":\"No stratum configs\"}");
      return TRUE;
    }
    am_fm_state_set_pools(st, pools);
  } else {
    g_warning("%s: [write] %s: unknown ePIC action", miner->label, action);
  }
  st->writes++;
  answer(reply, 200, "{\"result\":true}");
  return TRUE;
}

/* ---- Auradine FluxOS ---- */

#define AURADINE_DESCRIPTION "FluxOS-2023-12.27-9bf070ee4408866329c93a70f2dfdc6248938aaa"

static void
auradine_status(AmFmHttpReply *reply, const char *status, int code, const char *msg)
{
  g_autofree char *text =
      g_strdup_printf("{\"STATUS\":[{\"STATUS\":\"%s\",\"When\":%" G_GINT64_FORMAT
                      ",\"Code\":%d,\"Msg\":\"%s\",\"Description\":\"%s\"}],\"id\":1}",
                      status, g_get_real_time() / G_USEC_PER_SEC, code, msg, AURADINE_DESCRIPTION);
  answer(reply, 200, text);
}

/* /mode: {"sleep":"on"|"off"}, {"mode":"custom","tune":"power","power":W},
 * {"mode":"eco"|"normal"|"turbo"}. Without any of them it is the read. */
static gboolean
auradine_mode(AmFmMiner *miner, const AmFmHttpRequest *request, AmFmHttpReply *reply)
{
  AmFmState *st = &miner->state;
  const char *sleep = param(request, "sleep");
  const char *mode = param(request, "mode");
  if (sleep == NULL && mode == NULL)
    return FALSE;
  if (sleep != NULL && (g_str_equal(sleep, "on") || g_str_equal(sleep, "off"))) {
    am_fm_state_act(st, g_str_equal(sleep, "on") ? AM_FM_ACT_PAUSE : AM_FM_ACT_RESUME);
  } else if (g_strcmp0(mode, "custom") == 0 && g_strcmp0(param(request, "tune"), "power") == 0 &&
             param(request, "power") != NULL && atoi(param(request, "power")) > 0) {
    /* A power target replaces the profile: Mode[0] shows custom and Power. */
    am_fm_state_set_work_mode(st, NULL);
    am_fm_state_set_power(st, g_ascii_strtod(param(request, "power"), NULL));
  } else if (g_strcmp0(mode, "eco") == 0 || g_strcmp0(mode, "normal") == 0 ||
             g_strcmp0(mode, "turbo") == 0) {
    am_fm_state_set_power(st, 0);
    am_fm_state_set_work_mode(st, g_str_equal(mode, "eco")     ? "low"
                                  : g_str_equal(mode, "turbo") ? "high"
                                                               : "normal");
  } else {
    auradine_status(reply, "E", 541, "Invalid mode setting");
    return TRUE;
  }
  st->writes++;
  auradine_status(reply, "S", 540, "Mode set");
  return TRUE;
}

static gboolean
auradine_write(AmFmMiner *miner, const char *action, const AmFmHttpRequest *request,
               AmFmHttpReply *reply)
{
  AmFmState *st = &miner->state;
  if (g_str_equal(action, "auradine_mode"))
    return auradine_mode(miner, request, reply);
  if (g_str_equal(action, "auradine_led")) {
    const char *code = param(request, "code");
    if (code == NULL)
      return FALSE; /* the read */
    if (!g_str_equal(code, "2") && !g_str_equal(code, "3")) {
      auradine_status(reply, "E", 531, "Invalid LED code");
      return TRUE;
    }
    /* 3 blinks the locate pattern, 2 is the normal light */
    am_fm_state_act(st, g_str_equal(code, "3") ? AM_FM_ACT_LOCATE_ON : AM_FM_ACT_LOCATE_OFF);
    st->writes++;
    auradine_status(reply, "S", 530, "LED set");
    return TRUE;
  }
  if (g_str_equal(action, "auradine_restart")) {
    am_fm_state_act(st, AM_FM_ACT_RESTART);
    st->writes++;
    auradine_status(reply, "S", 0, "Restarting miner");
    return TRUE;
  }
  if (g_str_equal(action, "auradine_pools")) {
    GPtrArray *pools = body_pools(request);
    if (pools == NULL) {
      auradine_status(reply, "E", 0, "No pools given");
      return TRUE;
    }
    am_fm_state_set_pools(st, pools);
    st->writes++;
    auradine_status(reply, "S", 0, "Pools updated");
    return TRUE;
  }
  g_warning("%s: [write] %s: unknown Auradine action", miner->label, action);
  return FALSE;
}

gboolean
am_fm_web_write(AmFmMiner *miner, const char *action, const char *param_name,
                const AmFmHttpRequest *request, AmFmHttpReply *reply)
{
  (void)param_name;
  if (g_str_has_prefix(action, "epic_"))
    return epic_write(miner, action, request, reply);
  return auradine_write(miner, action, request, reply);
}
