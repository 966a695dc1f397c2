/* The [alert:NAME] rules (see am-alert-rules.h).
 *
 * A rule turns one look at a miner into a Check: FIRING (over a raise
 * limit), HOLD (between the raise and the clear limit: hysteresis), CLEAR
 * (at or under the clear limit) or UNKNOWN (nothing to judge by: no
 * reading, warm-up). am_alert_rule_step() then runs the same small state
 * machine for every type, so hits, cooldown and resolve behave alike. */
#include "am-alert-rules.h"
#include "am-alert-window.h"
#include <antmon/config.h>
#include <antmon/error.h>
#include <math.h>
#include <string.h>

#define ALERT_PREFIX "alert:"
#define MODEL_PREFIX "model:"
/* The hashrate baseline needs a few readings before a median means much. */
#define MIN_BASELINE_READINGS 3
/* Clear limits when the group sets none: a few degrees or points back. */
#define TEMP_CLEAR_MARGIN_C 5.0
#define RATIO_CLEAR_MARGIN 0.05
/* cgminer counts one nonce of difficulty 1 per 2^32 hashes: "Device
 * Hardware%" is errors / (errors + that work). */
#define HASHES_PER_DIFF1 4294967296.0
#define US_PER_MS 1000

static const char *const type_names[] = {
    [AM_RULE_TEMPERATURE] = "temperature",
    [AM_RULE_HASHRATE_DROP] = "hashrate_drop",
    [AM_RULE_OFFLINE] = "offline",
    [AM_RULE_HARDWARE] = "hardware",
    [AM_RULE_POOL] = "pool",
};

/* The keys each type reads besides the common ones, and which of them a
 * "KEY.MODEL-GLOB" override may change (the numbers). */
typedef struct {
  const char *const *keys;
  const char *const *overridable;
} TypeKeys;

static const char *const common_keys[] = {"type", "enabled",  "scope", "severity",
                                          "hits", "cooldown", NULL};
static const char *const temperature_keys[] = {"sensor", "warning", "critical", "clear", NULL};
static const char *const temperature_overrides[] = {"warning", "critical", "clear", NULL};
static const char *const hashrate_keys[] = {"baseline", "threshold", "clear",
                                            "window",   "warmup",    NULL};
static const char *const hashrate_overrides[] = {"threshold", "clear", NULL};
static const char *const offline_keys[] = {"after", NULL};
static const char *const no_overrides[] = {NULL};
static const char *const hardware_keys[] = {
    "chains", "fans", "max_failed_chips", "max_hw_error_rate", "clear", NULL};
static const char *const hardware_overrides[] = {"max_failed_chips", "max_hw_error_rate", "clear",
                                                 NULL};
static const char *const pool_keys[] = {"no_alive_pool", "max_rejected_ratio", "min_shares",
                                        "clear", NULL};
static const char *const pool_overrides[] = {"max_rejected_ratio", "clear", NULL};

static const TypeKeys type_keys[] = {
    [AM_RULE_TEMPERATURE] = {temperature_keys, temperature_overrides},
    [AM_RULE_HASHRATE_DROP] = {hashrate_keys, hashrate_overrides},
    [AM_RULE_OFFLINE] = {offline_keys, no_overrides},
    [AM_RULE_HARDWARE] = {hardware_keys, hardware_overrides},
    [AM_RULE_POOL] = {pool_keys, pool_overrides},
};

/* A "KEY.GLOB=value" line: KEY's value for models matching GLOB. */
typedef struct {
  const char *key; /* static, from the overridable table */
  char *glob;      /* lower case */
  double value;
} Override;

struct _AmAlertRule {
  char *name;
  AmRuleType type;
  gboolean enabled;
  char **scope; /* lower-case items; NULL means every miner */
  AmSeverity severity;
  guint hits;
  guint64 cooldown_ms;
  double clear; /* NAN: derived from the raise limit */
  /* temperature */
  gboolean chip_sensor;
  double warning, critical; /* NAN when not set */
  /* hashrate_drop */
  gboolean baseline_ideal;
  double threshold;
  guint64 window_ms, warmup_ms;
  /* offline */
  guint64 after_ms;
  /* hardware */
  gboolean check_chains, check_fans;
  double max_failed_chips, max_hw_error_rate;
  /* pool */
  gboolean no_alive_pool;
  double max_rejected_ratio;
  guint min_shares;
  GArray *overrides; /* Override, in file order: the first match wins */
};

struct _AmAlertTrack {
  guint hits;
  gboolean active;
  gboolean notified; /* the raise reached the sinks */
  AmSeverity severity;
  AmSeverity sent_severity;
  gint64 since_us;
  gint64 last_sent_us; /* the last raise sent, for cooldown; 0 never */
  double value, threshold;
  const char *unit;
  char *message;
  /* hashrate_drop's memory of the miner */
  AmAlertWindow *window;
  gint64 last_elapsed_s;
  gint64 restart_us;
  gint64 first_sample_us;
};

const char *
am_rule_type_to_string(AmRuleType type)
{
  return (guint)type < G_N_ELEMENTS(type_names) ? type_names[type] : "unknown";
}

/* ---- parsing ----------------------------------------------------------- */

static gboolean bad_value(GError **error, const char *group, const char *key, const char *value,
                          const char *format, ...) G_GNUC_PRINTF(5, 6);

static gboolean
bad_value(GError **error, const char *group, const char *key, const char *value, const char *format,
          ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *expected = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] %s=%s: expected %s", group, key,
              value != NULL ? value : "", expected);
  return FALSE;
}

static char *
raw_value(GKeyFile *kf, const char *group, const char *key)
{
  char *value = g_key_file_get_value(kf, group, key, NULL);
  return value != NULL ? g_strstrip(value) : NULL;
}

/* A number that may be left out (or empty): NAN then. */
static gboolean
get_optional_double(GKeyFile *kf, const char *group, const char *key, double min, double max,
                    double *out, GError **error)
{
  g_autofree char *raw = raw_value(kf, group, key);
  if (raw == NULL || raw[0] == '\0') {
    *out = NAN;
    return TRUE;
  }
  return am_config_get_double(kf, group, key, NAN, min, max, out, error);
}

static gboolean
get_choice(GKeyFile *kf, const char *group, const char *key, const char *const *choices,
           guint fallback, guint *out, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *value = am_config_get_string(kf, group, key, NULL, &local);
  if (local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  if (value == NULL) {
    *out = fallback;
    return TRUE;
  }
  for (guint i = 0; choices[i] != NULL; i++)
    if (g_ascii_strcasecmp(value, choices[i]) == 0) {
      *out = i;
      return TRUE;
    }
  g_autofree char *list = g_strjoinv(", ", (char **)choices);
  return bad_value(error, group, key, value, "one of %s", list);
}

static gboolean
parse_type(GKeyFile *kf, const char *group, AmRuleType *out, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *value = am_config_get_string(kf, group, "type", NULL, &local);
  if (local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  if (value == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] type is missing: expected type=temperature, hashrate_drop, offline, "
                "hardware or pool",
                group);
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS(type_names); i++)
    if (g_ascii_strcasecmp(value, type_names[i]) == 0) {
      *out = i;
      return TRUE;
    }
  return bad_value(error, group, "type", value,
                   "one of temperature, hashrate_drop, offline, hardware, pool");
}

static gboolean
parse_scope(AmAlertRule *rule, GKeyFile *kf, const char *group, GError **error)
{
  g_auto(GStrv) items = am_config_get_list(kf, group, "scope", error);
  if (items == NULL)
    return FALSE;
  for (guint i = 0; items[i] != NULL; i++) {
    if (g_ascii_strcasecmp(items[i], "all") == 0)
      return TRUE; /* "all" anywhere: every miner */
    if (g_ascii_strncasecmp(items[i], MODEL_PREFIX, strlen(MODEL_PREFIX)) == 0 &&
        items[i][strlen(MODEL_PREFIX)] == '\0') {
      g_autofree char *raw = raw_value(kf, group, "scope");
      return bad_value(error, group, "scope", raw,
                       "all, or a ';' list of hosts, addresses, names (globs allowed) and "
                       "model:GLOB items");
    }
  }
  if (items[0] == NULL)
    return TRUE;
  rule->scope = g_new0(char *, g_strv_length(items) + 1);
  for (guint i = 0; items[i] != NULL; i++)
    rule->scope[i] = g_utf8_strdown(items[i], -1);
  return TRUE;
}

static gboolean
parse_common(AmAlertRule *rule, GKeyFile *kf, const char *group, GError **error)
{
  static const char *const severities[] = {"info", "warning", "critical", NULL};
  /* Losing a miner is the one thing that cannot wait. */
  guint default_severity =
      rule->type == AM_RULE_OFFLINE ? AM_SEVERITY_CRITICAL : AM_SEVERITY_WARNING;
  guint severity = 0;
  if (!am_config_get_bool(kf, group, "enabled", TRUE, &rule->enabled, error) ||
      !get_choice(kf, group, "severity", severities, default_severity, &severity, error) ||
      !am_config_get_uint(kf, group, "hits", 1, 1, 1000, &rule->hits, error) ||
      !am_config_get_duration_ms(kf, group, "cooldown", 30 * 60 * 1000, 0,
                                 (guint64)7 * 24 * 3600 * 1000, &rule->cooldown_ms, error) ||
      !parse_scope(rule, kf, group, error))
    return FALSE;
  rule->severity = severity;
  return TRUE;
}

/* The clear limit must sit on the safe side of the raise limit. */
static gboolean
check_clear_below(const AmAlertRule *rule, const char *group, const char *limit_key, double limit,
                  GError **error)
{
  if (isnan(rule->clear) || isnan(limit) || rule->clear < limit)
    return TRUE;
  g_autofree char *text = g_strdup_printf("%g", rule->clear);
  return bad_value(error, group, "clear", text, "a value below %s=%g", limit_key, limit);
}

static gboolean
parse_temperature(AmAlertRule *rule, GKeyFile *kf, const char *group, GError **error)
{
  static const char *const sensors[] = {"board", "chip", NULL};
  guint sensor = 0;
  if (!get_choice(kf, group, "sensor", sensors, 0, &sensor, error) ||
      !get_optional_double(kf, group, "warning", 1, 149, &rule->warning, error) ||
      !get_optional_double(kf, group, "critical", 1, 149, &rule->critical, error) ||
      !get_optional_double(kf, group, "clear", 1, 149, &rule->clear, error))
    return FALSE;
  rule->chip_sensor = sensor == 1;
  if (isnan(rule->warning) && isnan(rule->critical)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] type=temperature: expected warning= or critical= (degrees C)", group);
    return FALSE;
  }
  if (!isnan(rule->warning) && !isnan(rule->critical) && rule->critical <= rule->warning) {
    g_autofree char *text = g_strdup_printf("%g", rule->critical);
    return bad_value(error, group, "critical", text, "a value above warning=%g", rule->warning);
  }
  gboolean has_warning = !isnan(rule->warning);
  return check_clear_below(rule, group, has_warning ? "warning" : "critical",
                           has_warning ? rule->warning : rule->critical, error);
}

static gboolean
parse_hashrate(AmAlertRule *rule, GKeyFile *kf, const char *group, GError **error)
{
  static const char *const baselines[] = {"median", "ideal", NULL};
  guint baseline = 0;
  if (!get_choice(kf, group, "baseline", baselines, 0, &baseline, error) ||
      !am_config_get_double(kf, group, "threshold", 0.9, 0.01, 1.0, &rule->threshold, error) ||
      !get_optional_double(kf, group, "clear", 0.01, 1.0, &rule->clear, error) ||
      !am_config_get_duration_ms(kf, group, "window", 3600 * 1000, 60 * 1000,
                                 (guint64)7 * 24 * 3600 * 1000, &rule->window_ms, error) ||
      !am_config_get_duration_ms(kf, group, "warmup", 15 * 60 * 1000, 0, 24 * 3600 * 1000,
                                 &rule->warmup_ms, error))
    return FALSE;
  rule->baseline_ideal = baseline == 1;
  if (!isnan(rule->clear) && rule->clear <= rule->threshold) {
    g_autofree char *text = g_strdup_printf("%g", rule->clear);
    return bad_value(error, group, "clear", text, "a value above threshold=%g", rule->threshold);
  }
  return TRUE;
}

/* after= empty or absent: what [core] calls offline (offline_after polls
 * of interval), so the alert and the miner's state agree by default. */
static gboolean
parse_offline(AmAlertRule *rule, GKeyFile *kf, const char *group, guint64 default_ms,
              GError **error)
{
  g_autofree char *raw = raw_value(kf, group, "after");
  if (raw == NULL || raw[0] == '\0') {
    rule->after_ms = default_ms;
    return TRUE;
  }
  return am_config_get_duration_ms(kf, group, "after", default_ms, 1000,
                                   (guint64)7 * 24 * 3600 * 1000, &rule->after_ms, error);
}

static gboolean
parse_hardware(AmAlertRule *rule, GKeyFile *kf, const char *group, GError **error)
{
  guint max_chips = 0;
  if (!am_config_get_bool(kf, group, "chains", TRUE, &rule->check_chains, error) ||
      !am_config_get_bool(kf, group, "fans", TRUE, &rule->check_fans, error) ||
      !am_config_get_uint(kf, group, "max_failed_chips", 0, 0, 100000, &max_chips, error) ||
      !am_config_get_double(kf, group, "max_hw_error_rate", 1.0, 0.0, 100.0,
                            &rule->max_hw_error_rate, error) ||
      !get_optional_double(kf, group, "clear", 0.0, 100.0, &rule->clear, error))
    return FALSE;
  rule->max_failed_chips = max_chips;
  return check_clear_below(rule, group, "max_hw_error_rate", rule->max_hw_error_rate, error);
}

static gboolean
parse_pool(AmAlertRule *rule, GKeyFile *kf, const char *group, GError **error)
{
  if (!am_config_get_bool(kf, group, "no_alive_pool", TRUE, &rule->no_alive_pool, error) ||
      !am_config_get_double(kf, group, "max_rejected_ratio", 0.05, 0.0, 1.0,
                            &rule->max_rejected_ratio, error) ||
      !am_config_get_uint(kf, group, "min_shares", 20, 1, 1000000, &rule->min_shares, error) ||
      !get_optional_double(kf, group, "clear", 0.0, 1.0, &rule->clear, error))
    return FALSE;
  return check_clear_below(rule, group, "max_rejected_ratio", rule->max_rejected_ratio, error);
}

static gboolean
in_list(const char *const *list, const char *key)
{
  for (guint i = 0; list[i] != NULL; i++)
    if (g_str_equal(list[i], key))
      return TRUE;
  return FALSE;
}

/* The valid range of an overridable key, the same as the key itself. */
static void
override_range(AmRuleType type, const char *key, double *min, double *max)
{
  *min = 0.0, *max = 1.0;
  if (type == AM_RULE_TEMPERATURE)
    *min = 1.0, *max = 149.0;
  else if (type == AM_RULE_HASHRATE_DROP)
    *min = 0.01;
  else if (type == AM_RULE_HARDWARE)
    *max = g_str_equal(key, "max_failed_chips") ? 100000.0 : 100.0;
}

static gboolean
parse_override(AmAlertRule *rule, GKeyFile *kf, const char *group, const char *line_key,
               GError **error)
{
  const char *dot = strchr(line_key, '.');
  g_autofree char *stem = g_strndup(line_key, dot - line_key);
  const char *const *allowed = type_keys[rule->type].overridable;
  const char *key = NULL;
  for (guint i = 0; allowed[i] != NULL; i++)
    if (g_str_equal(allowed[i], stem))
      key = allowed[i];
  g_autofree char *raw = raw_value(kf, group, line_key);
  if (key == NULL || dot[1] == '\0') {
    g_autofree char *list = g_strjoinv(", ", (char **)allowed);
    return bad_value(error, group, line_key, raw,
                     "KEY.MODEL-GLOB with KEY one of the numbers type=%s takes per model (%s)",
                     type_names[rule->type], list[0] != '\0' ? list : "none");
  }
  double min, max;
  Override o = {.key = key};
  override_range(rule->type, key, &min, &max);
  if (!am_config_get_double(kf, group, line_key, NAN, min, max, &o.value, error))
    return FALSE;
  o.glob = g_utf8_strdown(dot + 1, -1);
  g_array_append_val(rule->overrides, o);
  return TRUE;
}

/* Overrides, and a warning for keys another type would read: a rule that
 * silently ignores threshold= is worse than a noisy one. */
static gboolean
parse_extra_keys(AmAlertRule *rule, GKeyFile *kf, const char *group, GError **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
    if (strchr(keys[i], '.') != NULL) {
      if (!parse_override(rule, kf, group, keys[i], error))
        return FALSE;
      continue;
    }
    if (in_list(common_keys, keys[i]) || in_list(type_keys[rule->type].keys, keys[i]))
      continue;
    for (guint t = 0; t < G_N_ELEMENTS(type_keys); t++)
      if (in_list(type_keys[t].keys, keys[i])) {
        g_warning("[%s] %s= is not used by type=%s", group, keys[i], type_names[rule->type]);
        break;
      }
  }
  return TRUE;
}

static void
override_clear(gpointer data)
{
  g_free(((Override *)data)->glob);
}

AmAlertRule *
am_alert_rule_new(GKeyFile *kf, const char *group, guint64 default_offline_ms, GError **error)
{
  g_return_val_if_fail(g_str_has_prefix(group, ALERT_PREFIX), NULL);
  g_autoptr(AmAlertRule) rule = g_new0(AmAlertRule, 1);
  rule->name = g_strdup(group + strlen(ALERT_PREFIX));
  rule->warning = rule->critical = rule->clear = rule->threshold = NAN;
  rule->overrides = g_array_new(FALSE, FALSE, sizeof(Override));
  g_array_set_clear_func(rule->overrides, override_clear);
  if (rule->name[0] == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] expected a name after '%s'", group,
                ALERT_PREFIX);
    return NULL;
  }
  if (!parse_type(kf, group, &rule->type, error) || !parse_common(rule, kf, group, error))
    return NULL;

  gboolean ok = FALSE;
  switch (rule->type) {
  case AM_RULE_TEMPERATURE:
    ok = parse_temperature(rule, kf, group, error);
    break;
  case AM_RULE_HASHRATE_DROP:
    ok = parse_hashrate(rule, kf, group, error);
    break;
  case AM_RULE_OFFLINE:
    ok = parse_offline(rule, kf, group, default_offline_ms, error);
    break;
  case AM_RULE_HARDWARE:
    ok = parse_hardware(rule, kf, group, error);
    break;
  case AM_RULE_POOL:
    ok = parse_pool(rule, kf, group, error);
    break;
  }
  if (!ok || !parse_extra_keys(rule, kf, group, error))
    return NULL;
  return g_steal_pointer(&rule);
}

void
am_alert_rule_free(AmAlertRule *rule)
{
  if (rule == NULL)
    return;
  g_free(rule->name);
  g_strfreev(rule->scope);
  g_array_unref(rule->overrides);
  g_free(rule);
}

gboolean
am_alert_rule_is_enabled(const AmAlertRule *rule)
{
  return rule->enabled;
}

const char *
am_alert_rule_get_name(const AmAlertRule *rule)
{
  return rule->name;
}

AmRuleType
am_alert_rule_get_rule_type(const AmAlertRule *rule)
{
  return rule->type;
}

guint64
am_alert_rule_get_offline_ms(const AmAlertRule *rule)
{
  return rule->type == AM_RULE_OFFLINE ? rule->after_ms : 0;
}

/* ---- scope and per-model numbers --------------------------------------- */

static gboolean
glob_matches(const char *glob, const char *text)
{
  if (text == NULL)
    return FALSE;
  g_autofree char *lower = g_utf8_strdown(text, -1);
  return g_pattern_match_simple(glob, lower);
}

gboolean
am_alert_rule_in_scope(const AmAlertRule *rule, const AmAlertSubject *s)
{
  if (rule->scope == NULL)
    return TRUE;
  for (guint i = 0; rule->scope[i] != NULL; i++) {
    const char *item = rule->scope[i];
    if (g_str_has_prefix(item, MODEL_PREFIX)) {
      if (glob_matches(item + strlen(MODEL_PREFIX), s->model))
        return TRUE;
    } else if (glob_matches(item, s->address) || glob_matches(item, s->host) ||
               glob_matches(item, s->name)) {
      return TRUE;
    }
  }
  return FALSE;
}

/* @key's value for @model: the first matching override, else @base. */
static double
number_for(const AmAlertRule *rule, const char *key, const char *model, double base)
{
  for (guint i = 0; model != NULL && i < rule->overrides->len; i++) {
    const Override *o = &g_array_index(rule->overrides, Override, i);
    if (g_str_equal(o->key, key) && glob_matches(o->glob, model))
      return o->value;
  }
  return base;
}

/* ---- checks ------------------------------------------------------------ */

typedef enum {
  CHECK_UNKNOWN = 0,
  CHECK_CLEAR,
  CHECK_HOLD,
  CHECK_FIRING,
} CheckState;

typedef struct {
  CheckState state;
  AmSeverity severity;
  double value, threshold;
  const char *unit;
  char *message;
} Check;

static void
check_clear(Check *c)
{
  g_free(c->message);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Check, check_clear)

static void check_set(Check *c, CheckState state, double value, double threshold, const char *unit,
                      const char *format, ...) G_GNUC_PRINTF(6, 7);

static void
check_set(Check *c, CheckState state, double value, double threshold, const char *unit,
          const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_free(c->message);
  c->message = g_strdup_vprintf(format, args);
  va_end(args);
  c->state = state;
  c->value = value;
  c->threshold = threshold;
  c->unit = unit;
}

static double
hottest(GArray *temps)
{
  double max = NAN;
  for (guint i = 0; temps != NULL && i < temps->len; i++) {
    double t = g_array_index(temps, double, i);
    if (isnan(max) || t > max)
      max = t;
  }
  return max;
}

static void
check_temperature(const AmAlertRule *rule, const AmAlertSubject *s, Check *c)
{
  if (s->sample == NULL)
    return;
  const char *what = rule->chip_sensor ? "chip" : "board";
  double t = hottest(rule->chip_sensor ? s->sample->chip_temps_c : s->sample->temps_c);
  if (isnan(t))
    return;
  double warning = number_for(rule, "warning", s->model, rule->warning);
  double critical = number_for(rule, "critical", s->model, rule->critical);
  double lowest = isnan(warning) || (!isnan(critical) && critical < warning) ? critical : warning;
  double clear = number_for(rule, "clear", s->model, rule->clear);
  clear = isnan(clear) ? lowest - TEMP_CLEAR_MARGIN_C : MIN(clear, lowest);

  if (!isnan(critical) && t > critical) {
    check_set(c, CHECK_FIRING, t, critical, "degC",
              "hottest %s temperature %.1f °C is over the critical limit %.1f °C", what, t,
              critical);
    c->severity = AM_SEVERITY_CRITICAL;
  } else if (!isnan(warning) && t > warning) {
    check_set(c, CHECK_FIRING, t, warning, "degC",
              "hottest %s temperature %.1f °C is over the warning limit %.1f °C", what, t, warning);
    c->severity = AM_SEVERITY_WARNING;
  } else if (t <= clear) {
    check_set(c, CHECK_CLEAR, t, clear, "degC",
              "hottest %s temperature %.1f °C is back at or under %.1f °C", what, t, clear);
  } else {
    check_set(c, CHECK_HOLD, t, clear, "degC",
              "hottest %s temperature %.1f °C, not yet at or under %.1f °C", what, t, clear);
  }
}

/* Warm-up: a miner that just (re)started hashes low for a while; that is
 * not a drop. A restart shows as elapsed_s going down; without elapsed_s,
 * the warm-up counts from the first sample antmon saw. */
static gboolean
in_warmup(const AmAlertRule *rule, AmAlertTrack *track, const AmSample *x, gint64 now_us)
{
  gint64 warmup_us = (gint64)rule->warmup_ms * US_PER_MS;
  if (x->elapsed_s >= 0 && track->last_elapsed_s >= 0 && x->elapsed_s < track->last_elapsed_s) {
    track->restart_us = now_us;
    /* The old baseline may be of another configuration: learn it again. */
    am_alert_window_clear(track->window);
  }
  if (x->elapsed_s >= 0)
    track->last_elapsed_s = x->elapsed_s;
  if (track->first_sample_us == 0)
    track->first_sample_us = now_us;
  if (track->restart_us != 0 && now_us - track->restart_us < warmup_us)
    return TRUE;
  if (x->elapsed_s >= 0)
    return x->elapsed_s * 1000 < (gint64)rule->warmup_ms;
  return now_us - track->first_sample_us < warmup_us;
}

/* The hashrate to compare against, or NAN while there is none yet. */
static double
hashrate_baseline(const AmAlertRule *rule, AmAlertTrack *track, const AmSample *x, gint64 now_us)
{
  if (rule->baseline_ideal)
    return x->hashrate_ideal_ths > 0 ? x->hashrate_ideal_ths : NAN;
  /* While a drop is reported its baseline stays as it was: hours at the
   * lower rate must not become the "normal" that resolves it. A restart
   * (which clears the window) lets a new normal be learnt. */
  if (!track->active)
    am_alert_window_prune(track->window, now_us - (gint64)rule->window_ms * US_PER_MS);
  if (am_alert_window_length(track->window) < MIN_BASELINE_READINGS)
    return NAN;
  double median = am_alert_window_median(track->window);
  return median > 0 ? median : NAN;
}

static void
check_hashrate(const AmAlertRule *rule, AmAlertTrack *track, const AmAlertSubject *s, gint64 now_us,
               Check *c)
{
  AmSample *x = s->sample;
  if (x == NULL || isnan(x->hashrate_ths) || in_warmup(rule, track, x, now_us))
    return;
  double current = x->hashrate_ths;
  double base = hashrate_baseline(rule, track, x, now_us);
  if (isnan(base)) {
    if (!rule->baseline_ideal)
      am_alert_window_add(track->window, now_us, current);
    return;
  }
  double threshold = number_for(rule, "threshold", s->model, rule->threshold);
  double clear = number_for(rule, "clear", s->model, rule->clear);
  clear = isnan(clear) ? MIN(threshold + RATIO_CLEAR_MARGIN, 1.0) : MAX(clear, threshold);
  const char *of = rule->baseline_ideal ? "its ideal" : "its median";
  double ratio = current / base;
  if (ratio < threshold) {
    check_set(c, CHECK_FIRING, current, threshold * base, "TH/s",
              "hashrate %.2f TH/s is %.0f%% of %s %.2f TH/s (alert under %.0f%%)", current,
              ratio * 100, of, base, threshold * 100);
    c->severity = rule->severity;
    return; /* a drop never lowers the baseline it is measured against */
  }
  CheckState state = ratio >= clear ? CHECK_CLEAR : CHECK_HOLD;
  check_set(c, state, current, clear * base, "TH/s", "hashrate %.2f TH/s is %.0f%% of %s %.2f TH/s",
            current, ratio * 100, of, base);
  if (!rule->baseline_ideal && (state == CHECK_CLEAR || !track->active))
    am_alert_window_add(track->window, now_us, current);
}

static char *
format_span(gint64 us)
{
  gint64 s = us / G_USEC_PER_SEC;
  if (s < 120)
    return g_strdup_printf("%" G_GINT64_FORMAT " s", s);
  if (s < 2 * 3600)
    return g_strdup_printf("%" G_GINT64_FORMAT " min", s / 60);
  return g_strdup_printf("%.1f h", s / 3600.0);
}

static void
check_offline(const AmAlertRule *rule, const AmAlertSubject *s, gint64 now_us, Check *c)
{
  if (!s->failing) {
    check_set(c, CHECK_CLEAR, NAN, NAN, "", "answering polls again");
    return;
  }
  gint64 down_us = MAX(now_us - s->last_ok_us, 0);
  gint64 after_us = (gint64)rule->after_ms * US_PER_MS;
  g_autofree char *span = format_span(down_us);
  const char *reason = s->reason != NULL ? s->reason : "no reason given";
  CheckState state = down_us >= after_us ? CHECK_FIRING : CHECK_HOLD;
  if (s->error_kind != NULL)
    check_set(c, state, down_us / 1e6, after_us / 1e6, "s", "no answer for %s (%s: %s)", span,
              s->error_kind, reason);
  else
    check_set(c, state, down_us / 1e6, after_us / 1e6, "s", "no answer for %s (%s)", span, reason);
  c->severity = rule->severity;
}

/* Chains with no chips are as good as gone. */
static guint
chains_present(const AmSample *x)
{
  guint present = 0;
  for (guint i = 0; i < x->chains->len; i++)
    if (g_array_index(x->chains, AmChain, i).chips != 0)
      present++;
  return present;
}

/* Failed chips plus chips missing from a chain that reports how many it
 * should have. */
static gint
bad_chips(const AmSample *x)
{
  gint bad = 0;
  for (guint i = 0; i < x->chains->len; i++) {
    const AmChain *chain = &g_array_index(x->chains, AmChain, i);
    if (chain->chips_failed > 0)
      bad += chain->chips_failed;
    if (chain->chips >= 0 && chain->chips_expected > chain->chips)
      bad += chain->chips_expected - chain->chips;
  }
  return bad;
}

/* The firmware's "Device Hardware%": errors over errors plus the work done
 * since start, in difficulty-1 nonces. NAN when a number is missing. */
static double
hw_error_rate(const AmSample *x)
{
  double ths = !isnan(x->hashrate_avg_ths) ? x->hashrate_avg_ths : x->hashrate_ths;
  if (x->hw_errors < 0 || x->elapsed_s <= 0 || isnan(ths) || ths <= 0)
    return NAN;
  double work = ths * 1e12 * (double)x->elapsed_s / HASHES_PER_DIFF1;
  return 100.0 * (double)x->hw_errors / ((double)x->hw_errors + work);
}

/* Adds one problem; the first one found gives the alert its value. */
static void
add_problem(Check *c, GString *text, double value, double threshold, const char *unit,
            const char *problem)
{
  if (text->len == 0) {
    c->value = value;
    c->threshold = threshold;
    c->unit = unit;
  } else {
    g_string_append(text, "; ");
  }
  g_string_append(text, problem);
}

static void
check_hardware(const AmAlertRule *rule, const AmAlertSubject *s, Check *c)
{
  const AmSample *x = s->sample;
  if (x == NULL)
    return;
  g_autoptr(GString) text = g_string_new(NULL);
  guint present = chains_present(x);
  if (rule->check_chains && x->chains_expected > 0 && present < (guint)x->chains_expected) {
    g_autofree char *p = g_strdup_printf("%u of %d chains present", present, x->chains_expected);
    add_problem(c, text, present, x->chains_expected, "chains", p);
  }
  double max_chips = number_for(rule, "max_failed_chips", s->model, rule->max_failed_chips);
  gint chips = bad_chips(x);
  if (chips > max_chips) {
    g_autofree char *p =
        g_strdup_printf("%d failed or missing chips (limit %.0f)", chips, max_chips);
    add_problem(c, text, chips, max_chips, "chips", p);
  }
  if (rule->check_fans && !x->liquid_cooled && x->fans_expected > 0 &&
      x->fans_rpm->len < (guint)x->fans_expected) {
    g_autofree char *p =
        g_strdup_printf("%u of %d fans spinning", x->fans_rpm->len, x->fans_expected);
    add_problem(c, text, x->fans_rpm->len, x->fans_expected, "fans", p);
  }
  double rate = hw_error_rate(x);
  double max_rate = number_for(rule, "max_hw_error_rate", s->model, rule->max_hw_error_rate);
  double clear = number_for(rule, "clear", s->model, rule->clear);
  clear = isnan(clear) ? max_rate / 2 : MIN(clear, max_rate);
  if (!isnan(rate) && rate > max_rate) {
    g_autofree char *p =
        g_strdup_printf("hardware error rate %.3g %% (limit %g %%)", rate, max_rate);
    add_problem(c, text, rate, max_rate, "%", p);
  }

  if (text->len > 0) {
    c->state = CHECK_FIRING;
    c->severity = rule->severity;
    c->message = g_strdup(text->str);
  } else if (!isnan(rate) && rate > clear) {
    check_set(c, CHECK_HOLD, rate, clear, "%", "hardware error rate %.3g %%, not yet under %g %%",
              rate, clear);
  } else {
    check_set(c, CHECK_CLEAR, NAN, NAN, "", "no hardware problem left");
  }
}

static guint
pools_alive(const AmSample *x, GString *statuses)
{
  guint alive = 0;
  for (guint i = 0; i < x->pools->len; i++) {
    const AmPool *p = x->pools->pdata[i];
    if (p->status != NULL && g_ascii_strcasecmp(p->status, "alive") == 0)
      alive++;
    g_string_append_printf(statuses, "%s%s", i > 0 ? ", " : "",
                           p->status != NULL ? p->status : "unknown");
  }
  return alive;
}

/* The rejected share of all shares since the miner started, or NAN with
 * fewer than min_shares (a handful of shares says nothing). */
static double
rejected_ratio(const AmAlertRule *rule, const AmSample *x)
{
  gint64 accepted = x->accepted, rejected = x->rejected;
  if (accepted < 0 || rejected < 0) {
    accepted = rejected = 0;
    for (guint i = 0; i < x->pools->len; i++) {
      const AmPool *p = x->pools->pdata[i];
      accepted += MAX(p->accepted, 0);
      rejected += MAX(p->rejected, 0);
    }
  }
  gint64 total = accepted + rejected;
  return total >= (gint64)rule->min_shares ? (double)rejected / (double)total : NAN;
}

static void
check_pool(const AmAlertRule *rule, const AmAlertSubject *s, Check *c)
{
  const AmSample *x = s->sample;
  if (x == NULL)
    return;
  g_autoptr(GString) text = g_string_new(NULL);
  g_autoptr(GString) statuses = g_string_new(NULL);
  guint alive = pools_alive(x, statuses);
  if (rule->no_alive_pool && x->pools->len > 0 && alive == 0) {
    g_autofree char *p = g_strdup_printf("no pool is alive (%s)", statuses->str);
    add_problem(c, text, 0, 1, "pools", p);
  }
  double ratio = rejected_ratio(rule, x);
  double max = number_for(rule, "max_rejected_ratio", s->model, rule->max_rejected_ratio);
  double clear = number_for(rule, "clear", s->model, rule->clear);
  clear = isnan(clear) ? max / 2 : MIN(clear, max);
  if (!isnan(ratio) && ratio > max) {
    g_autofree char *p =
        g_strdup_printf("%.1f %% of shares rejected (limit %.1f %%)", ratio * 100, max * 100);
    add_problem(c, text, ratio * 100, max * 100, "%", p);
  }

  if (text->len > 0) {
    c->state = CHECK_FIRING;
    c->severity = rule->severity;
    c->message = g_strdup(text->str);
  } else if (!isnan(ratio) && ratio > clear) {
    check_set(c, CHECK_HOLD, ratio * 100, clear * 100, "%",
              "%.1f %% of shares rejected, not yet under %.1f %%", ratio * 100, clear * 100);
  } else {
    check_set(c, CHECK_CLEAR, NAN, NAN, "", "pools alive and shares accepted");
  }
}

/* A miner paused or asleep on purpose (it says so) hashes nothing and may
 * have its boards, fans and pool connections off: that is what was asked
 * of it, so the rules about those stand down and clear. Temperature still
 * counts; a miner that stops answering is still offline, unless antmon
 * paused or is rebooting it. */
static gboolean
stands_down(const AmAlertRule *rule, const AmAlertSubject *s, Check *c)
{
  /* What antmon itself asked for (a pause, a reboot) is no outage either,
   * even while the miner does not answer. */
  if (s->on_purpose && rule->type != AM_RULE_TEMPERATURE) {
    check_set(c, CHECK_CLEAR, NAN, NAN, "", "paused or rebooting by an antmon action");
    return TRUE;
  }
  const AmSample *x = s->sample;
  if (x == NULL || (x->mining != AM_MINING_PAUSED && x->mining != AM_MINING_SLEEPING))
    return FALSE;
  if (rule->type != AM_RULE_HASHRATE_DROP && rule->type != AM_RULE_HARDWARE &&
      rule->type != AM_RULE_POOL)
    return FALSE;
  check_set(c, CHECK_CLEAR, NAN, NAN, "", "mining %s on purpose", am_mining_state_name(x->mining));
  return TRUE;
}

static void
evaluate(const AmAlertRule *rule, AmAlertTrack *track, const AmAlertSubject *s, gint64 now_us,
         Check *c)
{
  c->value = c->threshold = NAN;
  c->unit = "";
  if (stands_down(rule, s, c))
    return;
  switch (rule->type) {
  case AM_RULE_TEMPERATURE:
    check_temperature(rule, s, c);
    break;
  case AM_RULE_HASHRATE_DROP:
    check_hashrate(rule, track, s, now_us, c);
    break;
  case AM_RULE_OFFLINE:
    check_offline(rule, s, now_us, c);
    break;
  case AM_RULE_HARDWARE:
    check_hardware(rule, s, c);
    break;
  case AM_RULE_POOL:
    check_pool(rule, s, c);
    break;
  }
}

/* ---- the state machine ------------------------------------------------- */

AmAlertTrack *
am_alert_track_new(void)
{
  AmAlertTrack *t = g_new0(AmAlertTrack, 1);
  t->window = am_alert_window_new();
  t->last_elapsed_s = -1;
  t->value = t->threshold = NAN;
  t->unit = "";
  return t;
}

void
am_alert_track_free(AmAlertTrack *t)
{
  if (t == NULL)
    return;
  am_alert_window_free(t->window);
  g_free(t->message);
  g_free(t);
}

gboolean
am_alert_track_is_active(const AmAlertTrack *t)
{
  return t->active;
}

AmSeverity
am_alert_track_get_severity(const AmAlertTrack *t)
{
  return t->severity;
}

gint64
am_alert_track_get_since(const AmAlertTrack *t)
{
  return t->since_us;
}

const char *
am_alert_track_get_message(const AmAlertTrack *t)
{
  return t->active ? t->message : NULL;
}

void
am_alert_track_restore(AmAlertTrack *t, AmSeverity severity, gint64 since_us, gboolean notified,
                       const char *message)
{
  t->active = TRUE;
  t->hits = 0;
  t->severity = t->sent_severity = severity;
  t->since_us = since_us;
  t->notified = notified;
  /* Its cooldown ran from when it was raised, as if antmon had not stopped. */
  t->last_sent_us = notified ? since_us : 0;
  g_free(t->message);
  t->message = g_strdup(message);
}

void
am_alert_outcome_clear(AmAlertOutcome *out)
{
  g_clear_pointer(&out->message, g_free);
}

static void
remember(AmAlertTrack *t, const Check *c)
{
  t->value = c->value;
  t->threshold = c->threshold;
  t->unit = c->unit;
  g_free(t->message);
  t->message = g_strdup(c->message);
}

static void
tell(AmAlertOutcome *out, AmAlertChange change, gboolean notify, AmSeverity severity,
     const AmAlertTrack *t)
{
  out->change = change;
  out->notify = notify;
  out->severity = severity;
  out->value = t->value;
  out->threshold = t->threshold;
  out->unit = t->unit;
  out->message = g_strdup(t->message);
}

static void
mark_sent(AmAlertTrack *t, gint64 now_us)
{
  t->notified = TRUE;
  t->sent_severity = t->severity;
  t->last_sent_us = now_us;
}

static gboolean
cooling_down(const AmAlertRule *rule, const AmAlertTrack *t, gint64 now_us)
{
  return t->last_sent_us != 0 && now_us - t->last_sent_us < (gint64)rule->cooldown_ms * US_PER_MS;
}

/* Not active: count consecutive firing looks; at hits, raise. */
static void
step_idle(const AmAlertRule *rule, AmAlertTrack *t, const Check *c, gint64 now_us,
          AmAlertOutcome *out)
{
  if (c->state != CHECK_FIRING) {
    t->hits = 0;
    return;
  }
  /* The offline rule counts time (after=), not looks: ticks would race. */
  guint needed = rule->type == AM_RULE_OFFLINE ? 1 : rule->hits;
  if (++t->hits < needed)
    return;
  t->hits = 0;
  t->active = TRUE;
  t->since_us = now_us;
  t->severity = c->severity;
  t->notified = FALSE;
  remember(t, c);
  /* Inside the cooldown the alert is kept but not sent (yet). */
  gboolean send = !cooling_down(rule, t, now_us);
  if (send)
    mark_sent(t, now_us);
  tell(out, AM_ALERT_RAISED, send, t->severity, t);
}

static void
step_active(const AmAlertRule *rule, AmAlertTrack *t, const Check *c, gint64 now_us,
            AmAlertOutcome *out)
{
  if (c->state == CHECK_CLEAR) {
    remember(t, c);
    /* A raise nobody was told about is resolved quietly. */
    tell(out, AM_ALERT_RESOLVED, t->notified, t->severity, t);
    t->active = t->notified = FALSE;
    t->hits = 0;
    return;
  }
  if (c->state == CHECK_FIRING || c->state == CHECK_HOLD)
    remember(t, c);
  if (c->state == CHECK_FIRING && c->severity > t->severity) {
    /* Worse news is sent at once, cooldown or not. */
    t->severity = c->severity;
    if (t->severity > t->sent_severity || !t->notified) {
      mark_sent(t, now_us);
      tell(out, AM_ALERT_RAISED, TRUE, t->severity, t);
    }
    return;
  }
  if (!t->notified && !cooling_down(rule, t, now_us)) {
    /* Held back by the cooldown, and still there when it ran out. */
    mark_sent(t, now_us);
    tell(out, AM_ALERT_RAISED, TRUE, t->severity, t);
  }
}

void
am_alert_rule_step(const AmAlertRule *rule, AmAlertTrack *track, const AmAlertSubject *subject,
                   gint64 now_us, AmAlertOutcome *out)
{
  memset(out, 0, sizeof *out);
  out->value = out->threshold = NAN;
  out->unit = "";
  g_auto(Check) c = {0};
  evaluate(rule, track, subject, now_us, &c);
  if (track->active)
    step_active(rule, track, &c, now_us, out);
  else
    step_idle(rule, track, &c, now_us, out);
}
