/* `antmon action HOST ACTION [KEY=VALUE...]`: the words after HOST read
 * into an AmActionRequest, and that request as JSON. */
#include "am-actions.h"
#include "am-cli-action.h"
#include <antmon/error.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POOLS 3
/* Far above any miner's draw (a large hydro unit takes about 12 kW): a
 * typo, not a target. */
#define MAX_WATTS 100000

/* Reboots take minutes (the control board boots, then the hashboards
 * warm up); everything else shows within a couple of polls. */
#define REBOOT_TIMEOUT_S 300.0
#define OTHER_TIMEOUT_S 120.0

static const char *
keep(AmCliActionArgs *args, const char *text)
{
  char *copy = g_strdup(text);
  g_ptr_array_add(args->strings, copy);
  return copy;
}

static gboolean
parse_watts(const char *value, guint *watts, GError **error)
{
  char *end = NULL;
  errno = 0;
  long long n = strtoll(value, &end, 10);
  if (*value == '\0' || *end != '\0' || errno != 0 || n < 1 || n > MAX_WATTS) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "watts=%s: expected a whole number of watts from 1 to %d", value, MAX_WATTS);
    return FALSE;
  }
  *watts = (guint)n;
  return TRUE;
}

static gboolean
parse_mode(AmCliActionArgs *args, const char *value, GError **error)
{
  static const char *const modes[] = {AM_WORK_MODE_LOW, AM_WORK_MODE_NORMAL, AM_WORK_MODE_HIGH,
                                      NULL};
  if (!g_strv_contains(modes, value)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "mode=%s: expected low, normal or high", value);
    return FALSE;
  }
  g_free(args->mode);
  args->mode = g_strdup(value);
  args->request.mode = args->mode;
  return TRUE;
}

static gboolean
parse_on(const char *value, gboolean *on, GError **error)
{
  static const char *const yes[] = {"true", "on", "1", "yes", NULL};
  static const char *const no[] = {"false", "off", "0", "no", NULL};
  if (g_strv_contains(yes, value))
    *on = TRUE;
  else if (g_strv_contains(no, value))
    *on = FALSE;
  else {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "on=%s: expected true or false", value);
    return FALSE;
  }
  return TRUE;
}

/* pool=URL,USER[,PASS]: the password is everything after the second comma,
 * so it may hold commas itself. */
static gboolean
parse_pool(AmCliActionArgs *args, const char *value, GError **error)
{
  g_auto(GStrv) parts = g_strsplit(value, ",", 3);
  guint n = g_strv_length(parts);
  if (n < 2 || *parts[0] == '\0' || *parts[1] == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "pool=%s: expected pool=URL,USER or pool=URL,USER,PASSWORD", value);
    return FALSE;
  }
  if (strstr(parts[0], "://") == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "pool=%s: the URL needs its scheme, e.g. stratum+tcp://pool.example:3333",
                parts[0]);
    return FALSE;
  }
  if (args->pools->len == MAX_POOLS) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "at most %d pools (pool= given more often)",
                MAX_POOLS);
    return FALSE;
  }
  AmPoolSetting pool = {
      .url = keep(args, parts[0]),
      .user = keep(args, parts[1]),
      .password = n == 3 ? keep(args, parts[2]) : NULL,
  };
  g_array_append_val(args->pools, pool);
  return TRUE;
}

/* The one KEY=VALUE word @word, which @kind must take. */
static gboolean
parse_param(AmCliActionArgs *args, const char *word, GError **error)
{
  const char *eq = strchr(word, '=');
  AmActionKind kind = args->request.kind;
  const char *name = am_action_kind_to_string(kind);
  if (eq == NULL || eq == word) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "'%s': expected KEY=VALUE", word);
    return FALSE;
  }
  g_autofree char *key = g_strndup(word, (gsize)(eq - word));
  const char *value = eq + 1;
  if (kind == AM_ACTION_POWER_TARGET && g_str_equal(key, "watts"))
    return parse_watts(value, &args->request.watts, error);
  if (kind == AM_ACTION_WORK_MODE && g_str_equal(key, "mode"))
    return parse_mode(args, value, error);
  if (kind == AM_ACTION_LOCATE && g_str_equal(key, "on"))
    return parse_on(value, &args->request.on, error);
  if (kind == AM_ACTION_POOLS && g_str_equal(key, "pool"))
    return parse_pool(args, value, error);
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "%s takes no parameter '%s'", name, key);
  return FALSE;
}

/* The parameters an action cannot do without. */
static gboolean
check_complete(AmCliActionArgs *args, GError **error)
{
  const char *missing = NULL;
  if (args->request.kind == AM_ACTION_POWER_TARGET && args->request.watts == 0)
    missing = "watts=N";
  else if (args->request.kind == AM_ACTION_WORK_MODE && args->mode == NULL)
    missing = "mode=low|normal|high";
  else if (args->request.kind == AM_ACTION_POOLS && args->pools->len == 0)
    missing = "pool=URL,USER[,PASSWORD]";
  if (missing != NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "%s needs %s",
                am_action_kind_to_string(args->request.kind), missing);
    return FALSE;
  }
  args->request.pools = (const AmPoolSetting *)(gpointer)args->pools->data;
  args->request.n_pools = args->pools->len;
  /* The same limits the agent applies (watts range, pool URLs). */
  return am_action_request_check(&args->request, error);
}

gboolean
am_cli_action_args_parse(AmCliActionArgs *args, const char *action, const char *const *params,
                         guint n_params, GError **error)
{
  memset(args, 0, sizeof *args);
  args->request.struct_size = sizeof args->request;
  args->pools = g_array_new(FALSE, TRUE, sizeof(AmPoolSetting));
  args->strings = g_ptr_array_new_with_free_func(g_free);
  args->request.kind = am_action_kind_from_string(action);
  if (args->request.kind == AM_ACTION_NONE) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "unknown action '%s' (reboot, restart, pause, resume, power_target, work_mode, "
                "locate, pools)",
                action);
    return FALSE;
  }
  /* "antmon action HOST locate" turns the light on. */
  args->request.on = TRUE;
  args->timeout_s = args->request.kind == AM_ACTION_REBOOT ? REBOOT_TIMEOUT_S : OTHER_TIMEOUT_S;
  for (guint i = 0; i < n_params; i++)
    if (!parse_param(args, params[i], error))
      return FALSE;
  return check_complete(args, error);
}

void
am_cli_action_args_clear(AmCliActionArgs *args)
{
  g_clear_pointer(&args->mode, g_free);
  g_clear_pointer(&args->pools, g_array_unref);
  g_clear_pointer(&args->strings, g_ptr_array_unref);
}

/* Adds the parameters of @args to @b, an open object. */
static void
add_params(JsonBuilder *b, const AmCliActionArgs *args, gboolean with_passwords)
{
  switch (args->request.kind) {
  case AM_ACTION_POWER_TARGET:
    json_builder_set_member_name(b, "watts");
    json_builder_add_int_value(b, args->request.watts);
    break;
  case AM_ACTION_WORK_MODE:
    json_builder_set_member_name(b, "mode");
    json_builder_add_string_value(b, args->mode);
    break;
  case AM_ACTION_LOCATE:
    json_builder_set_member_name(b, "on");
    json_builder_add_boolean_value(b, args->request.on);
    break;
  case AM_ACTION_POOLS:
    json_builder_set_member_name(b, "pools");
    json_builder_begin_array(b);
    for (guint i = 0; i < args->pools->len; i++) {
      const AmPoolSetting *p = &g_array_index(args->pools, AmPoolSetting, i);
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "url");
      json_builder_add_string_value(b, p->url);
      json_builder_set_member_name(b, "user");
      json_builder_add_string_value(b, p->user);
      if (with_passwords && p->password != NULL) {
        json_builder_set_member_name(b, "password");
        json_builder_add_string_value(b, p->password);
      }
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    break;
  default:
    break;
  }
}

JsonNode *
am_cli_action_params_json(const AmCliActionArgs *args)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_params(b, args, FALSE);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *
am_cli_action_body_json(const AmCliActionArgs *args)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "action");
  json_builder_add_string_value(b, am_action_kind_to_string(args->request.kind));
  add_params(b, args, TRUE);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
