/* LuxOS action commands, built without I/O. Command names and parameter
 * formats are LuxOS's own (docs.luxor.tech, "sessions" and the command
 * pages); see README.md for the table. */
#include "am-luxos-action.h"

#include "../common/am-cgminer-common.h"

#include <string.h>

#define BIT(kind) AM_ACTION_BIT(AM_ACTION_##kind)

AmActionSet
am_luxos_actions(const AmSample *sample)
{
  return BIT(REBOOT) | BIT(RESTART) | BIT(PAUSE) | BIT(RESUME) | BIT(POWER_TARGET) |
         BIT(WORK_MODE) | BIT(LOCATE) | BIT(POOLS);
}

/* addpool takes "url,user,pass" split at commas, with no escape that the
 * LuxOS documentation describes: a comma inside a field is refused here
 * rather than sent as a different pool. */
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
    if (p->url == NULL || *p->url == '\0') {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "pools: pool %u has no url", i + 1);
      return FALSE;
    }
    const char *fields[] = {p->url, p->user, p->password};
    const char *names[] = {"url", "user", "password"};
    for (guint f = 0; f < G_N_ELEMENTS(fields); f++) {
      if (fields[f] != NULL && strchr(fields[f], ',') != NULL) {
        g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                    "pools: the %s of pool %u has a comma, which LuxOS's addpool cannot take",
                    names[f], i + 1);
        return FALSE;
      }
    }
  }
  return TRUE;
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
    return validate_pools(request, error);
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
  case AM_ACTION_POOLS:
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                        "pools: LuxOS sets pools in several commands (am_luxos_pool_writes)");
    return FALSE;
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

static void
append_write(GArray *writes, const char *command, char *parameter)
{
  AmLuxosWrite w = {.command = command, .parameter = parameter};
  g_array_append_val(writes, w);
}

GArray *
am_luxos_pool_writes(const AmActionRequest *request, guint old_count)
{
  GArray *writes = g_array_new(FALSE, TRUE, sizeof(AmLuxosWrite));
  g_array_set_clear_func(writes, (GDestroyNotify)am_luxos_write_clear);
  /* New pools go in after the old ones (indexes old_count...), so the
   * miner always has a pool to mine on. */
  for (guint i = 0; i < request->n_pools; i++) {
    const AmPoolSetting *p = &request->pools[i];
    append_write(writes, "addpool",
                 g_strdup_printf("%s,%s,%s", p->url, p->user != NULL ? p->user : "",
                                 p->password != NULL ? p->password : "x"));
  }
  /* The active pool cannot be removed: move to the first new one first. */
  append_write(writes, "switchpool", g_strdup_printf("%u", old_count));
  /* Removing pool 0 renumbers the rest: the old ones are 0 each time. */
  for (guint i = 0; i < old_count; i++)
    append_write(writes, "removepool", g_strdup("0"));
  return writes;
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
