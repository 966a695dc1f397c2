/* LuxOS action commands, built without I/O. Command names and parameter
 * formats are LuxOS's own (docs.luxor.tech, "sessions" and the command
 * pages); see README.md for the table. */
#include "am-luxos-action.h"

#include "../common/am-cgminer-common.h"

#define BIT(kind) AM_ACTION_BIT(AM_ACTION_##kind)

AmActionSet
am_luxos_actions(const AmSample *sample)
{
  /* Pools are left out: LuxOS edits the list one pool at a time by index
   * (addpool, removepool, switchpool), which antmon does not do yet. */
  return BIT(REBOOT) | BIT(RESTART) | BIT(PAUSE) | BIT(RESUME) | BIT(POWER_TARGET) |
         BIT(WORK_MODE) | BIT(LOCATE);
}

gboolean
am_luxos_action_validate(const AmActionRequest *request, GError **error)
{
  switch (request->kind) {
  case AM_ACTION_POWER_TARGET:
    if (request->watts < AM_LUXOS_MIN_WATTS || request->watts > AM_LUXOS_MAX_WATTS) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "power_target: %u W is outside %u..%u W, the range of Antminers running LuxOS",
                  request->watts, AM_LUXOS_MIN_WATTS, AM_LUXOS_MAX_WATTS);
      return FALSE;
    }
    return TRUE;
  case AM_ACTION_WORK_MODE:
    if (g_strcmp0(request->mode, AM_WORK_MODE_NORMAL) == 0)
      return TRUE;
    if (g_strcmp0(request->mode, AM_WORK_MODE_LOW) == 0 ||
        g_strcmp0(request->mode, AM_WORK_MODE_HIGH) == 0) {
      /* LuxOS profiles are clock steps, not modes: a low or high step
       * differs per model, so the watts are asked for instead. */
      g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                  "work_mode %s: LuxOS has only its \"default\" profile as a mode; set a "
                  "power_target instead, which picks the profile for those watts",
                  request->mode);
      return FALSE;
    }
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "work_mode: expected low, normal or high, got %s",
                request->mode != NULL ? request->mode : "nothing");
    return FALSE;
  case AM_ACTION_POOLS:
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                        "pools: antmon does not set LuxOS pools yet (LuxOS edits them one by "
                        "one with addpool and removepool)");
    return FALSE;
  default:
    return TRUE;
  }
}

gboolean
am_luxos_action_build(const AmActionRequest *request, const char *sid, const char *profile,
                      AmLuxosWrite *out, GError **error)
{
  *out = (AmLuxosWrite){0};
  if (!am_luxos_action_validate(request, error))
    return FALSE;
  switch (request->kind) {
  case AM_ACTION_REBOOT:
    out->command = "rebootdevice";
    out->parameter = g_strdup(sid);
    return TRUE;
  case AM_ACTION_RESTART:
    out->command = "resetminer";
    out->parameter = g_strdup(sid);
    return TRUE;
  case AM_ACTION_PAUSE:
    out->command = "curtail";
    out->parameter = g_strconcat(sid, ",sleep", NULL);
    return TRUE;
  case AM_ACTION_RESUME:
    out->command = "curtail";
    out->parameter = g_strconcat(sid, ",wakeup", NULL);
    return TRUE;
  case AM_ACTION_LOCATE:
    /* "auto" gives the red LED back to the firmware (it lights on faults);
     * LuxOS reports it as config RedLed. */
    out->command = "ledset";
    out->parameter = g_strconcat(sid, request->on ? ",red,blink" : ",red,auto", NULL);
    return TRUE;
  case AM_ACTION_WORK_MODE:
    out->command = "profileset";
    out->parameter = g_strconcat(sid, ",", AM_LUXOS_DEFAULT_PROFILE, NULL);
    return TRUE;
  case AM_ACTION_POWER_TARGET:
    if (profile == NULL || *profile == '\0') {
      g_set_error_literal(error, AM_ERROR, AM_ERROR_CONFIG,
                          "power_target: no LuxOS profile was chosen");
      return FALSE;
    }
    out->command = "profileset";
    out->parameter = g_strconcat(sid, ",", profile, NULL);
    return TRUE;
  default:
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "LuxOS has no %s action",
                am_action_kind_to_string(request->kind) != NULL
                    ? am_action_kind_to_string(request->kind)
                    : "such");
    return FALSE;
  }
}

void
am_luxos_write_clear(AmLuxosWrite *write)
{
  g_clear_pointer(&write->parameter, g_free);
}

char *
am_luxos_pick_profile(JsonObject *profiles, guint watts, GError **error)
{
  JsonArray *list = profiles != NULL ? am_json_array(profiles, "PROFILES") : NULL;
  guint n = list != NULL ? json_array_get_length(list) : 0;
  const char *best = NULL, *lowest = NULL;
  double best_w = 0, lowest_w = 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *p = am_json_array_object(list, i);
    const char *name = am_json_string(p, "Profile Name");
    double w = am_json_double(p, "Watts");
    if (name == NULL || *name == '\0' || !(w > 0))
      continue;
    if (lowest == NULL || w < lowest_w) {
      lowest = name;
      lowest_w = w;
    }
    if (w <= watts && (best == NULL || w > best_w)) {
      best = name;
      best_w = w;
    }
  }
  if (lowest == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        "LuxOS listed no profiles with watts (\"profiles\" command)");
    return NULL;
  }
  if (best == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "power_target: %u W is below the lowest LuxOS profile of this miner (%s, %.0f W)",
                watts, lowest, lowest_w);
    return NULL;
  }
  return g_strdup(best);
}

char *
am_luxos_session_id(JsonObject *reply)
{
  JsonObject *session = reply != NULL ? am_cgminer_section(reply, "SESSION") : NULL;
  const char *id = am_json_string(session, "SessionID");
  return id != NULL && *id != '\0' ? g_strdup(id) : NULL;
}
