/* AmSample: construction, validated adders, derived fields and JSON. */
#include <antmon/sample.h>
#include <math.h>

/* The 1.2 fields of AmChain took the place of four reserved pointers: the
 * 1.1 layout, to prove the size did not change where pointers are 8 bytes. */
typedef struct {
  gint index;
  double hashrate_ths;
  gint chips, chips_expected, chips_ok, chips_failed;
  gint64 hw_errors;
  double temp_board_c, temp_chip_c, power_w;
  gpointer reserved[4];
} AmChainAbi11;
#if GLIB_SIZEOF_VOID_P == 8
G_STATIC_ASSERT(sizeof(AmChain) == sizeof(AmChainAbi11));
#endif

static void
miner_error_free(AmMinerError *error)
{
  g_free(error->code);
  g_free(error->message);
  g_free(error->component);
  g_free(error);
}

AmSample *
am_sample_new(void)
{
  AmSample *s = g_new0(AmSample, 1);
  s->ref_count = 1;
  s->when_us = g_get_real_time();
  s->hashrate_ths = s->hashrate_avg_ths = s->hashrate_ideal_ths = NAN;
  s->power_w = NAN;
  s->elapsed_s = AM_UNKNOWN;
  s->temps_c = g_array_new(FALSE, FALSE, sizeof(double));
  s->chip_temps_c = g_array_new(FALSE, FALSE, sizeof(double));
  s->fans_rpm = g_array_new(FALSE, FALSE, sizeof(double));
  s->chains = g_array_new(FALSE, TRUE, sizeof(AmChain));
  s->pools = g_ptr_array_new_with_free_func(NULL);
  s->accepted = s->rejected = s->hw_errors = AM_UNKNOWN;
  s->chains_expected = s->fans_expected = AM_UNKNOWN;
  s->extras = json_object_new();
  s->efficiency_jth = s->temp_max_c = s->avg_temp_c = s->avg_fan_rpm = NAN;
  s->problems = g_ptr_array_new_with_free_func(g_free);
  s->power_limit_w = NAN;
  s->water_temp_in_c = s->water_temp_out_c = NAN;
  s->psu_power_in_w = s->psu_power_out_w = s->psu_fan_rpm = NAN;
  s->best_share = NAN;
  s->found_blocks = AM_UNKNOWN;
  s->locate = AM_UNKNOWN;
  s->errors = g_ptr_array_new_with_free_func((GDestroyNotify)miner_error_free);
  s->chain_serials = g_ptr_array_new_with_free_func(g_free);
  return s;
}

AmSample *
am_sample_ref(AmSample *sample)
{
  g_return_val_if_fail(sample != NULL, NULL);
  g_atomic_int_inc(&sample->ref_count);
  return sample;
}

static void
pool_free(AmPool *pool)
{
  g_free(pool->url);
  g_free(pool->user);
  g_free(pool->status);
  g_free(pool);
}

void
am_sample_unref(AmSample *s)
{
  if (s == NULL || !g_atomic_int_dec_and_test(&s->ref_count))
    return;
  char **strings[] = {&s->host,      &s->driver,    &s->firmware,  &s->firmware_version,
                      &s->model,     &s->mac,       &s->serial,    &s->hostname,
                      &s->algorithm, &s->work_mode, &s->psu_serial};
  for (gsize i = 0; i < G_N_ELEMENTS(strings); i++)
    g_free(*strings[i]);
  g_array_unref(s->temps_c);
  g_array_unref(s->chip_temps_c);
  g_array_unref(s->fans_rpm);
  g_array_unref(s->chains);
  g_ptr_array_foreach(s->pools, (GFunc)pool_free, NULL);
  g_ptr_array_unref(s->pools);
  json_object_unref(s->extras);
  g_ptr_array_unref(s->problems);
  g_ptr_array_unref(s->errors);
  g_ptr_array_unref(s->chain_serials);
  g_free(s);
}

void
am_sample_set(AmSample *sample, char **field, const char *value)
{
  (void)sample;
  char *copy = g_strdup(value);
  g_free(*field);
  *field = copy;
}

gboolean
am_temp_is_valid(double celsius)
{
  return isfinite(celsius) && celsius > AM_TEMP_MIN_C && celsius < AM_TEMP_MAX_C;
}

static gboolean
add_temp(GArray *array, double celsius)
{
  if (!am_temp_is_valid(celsius))
    return FALSE;
  g_array_append_val(array, celsius);
  return TRUE;
}

gboolean
am_sample_add_temp(AmSample *sample, double celsius)
{
  return add_temp(sample->temps_c, celsius);
}

gboolean
am_sample_add_chip_temp(AmSample *sample, double celsius)
{
  return add_temp(sample->chip_temps_c, celsius);
}

gboolean
am_sample_add_fan(AmSample *sample, double rpm)
{
  /* 0 is an empty slot or a stopped fan; either way not a reading to average. */
  if (!isfinite(rpm) || rpm <= 0 || rpm > 100000)
    return FALSE;
  g_array_append_val(sample->fans_rpm, rpm);
  return TRUE;
}

AmChain *
am_sample_add_chain(AmSample *sample, gint index)
{
  AmChain chain = {
      .index = index,
      .hashrate_ths = NAN,
      .chips = AM_UNKNOWN,
      .chips_expected = AM_UNKNOWN,
      .chips_ok = AM_UNKNOWN,
      .chips_failed = AM_UNKNOWN,
      .hw_errors = AM_UNKNOWN,
      .temp_board_c = NAN,
      .temp_chip_c = NAN,
      .power_w = NAN,
      .voltage_v = NAN,
      .frequency_mhz = NAN,
      .temp_inlet_c = NAN,
      .temp_outlet_c = NAN,
  };
  g_array_append_val(sample->chains, chain);
  return &g_array_index(sample->chains, AmChain, sample->chains->len - 1);
}

void
am_sample_set_chain_serial(AmSample *sample, guint pos, const char *serial)
{
  g_return_if_fail(pos < sample->chains->len);
  if (sample->chain_serials->len <= pos)
    g_ptr_array_set_size(sample->chain_serials, (gint)pos + 1);
  g_free(sample->chain_serials->pdata[pos]);
  sample->chain_serials->pdata[pos] = g_strdup(serial);
}

AmMinerError *
am_sample_add_error(AmSample *sample, const char *code, const char *message, const char *component,
                    AmErrorSeverity severity)
{
  AmMinerError *error = g_new0(AmMinerError, 1);
  error->code = g_strdup(code);
  error->message = g_strdup(message);
  error->component = g_strdup(component);
  error->severity = severity;
  error->since_s = AM_UNKNOWN;
  g_ptr_array_add(sample->errors, error);
  return error;
}

void
am_sample_mark_partial(AmSample *sample, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *text = g_strdup_vprintf(format, args);
  va_end(args);
  sample->partial = TRUE;
  am_sample_add_problem(sample, "%s", text);
}

const char *
am_mining_state_name(AmMiningState state)
{
  switch (state) {
  case AM_MINING_HASHING:
    return "hashing";
  case AM_MINING_PAUSED:
    return "paused";
  case AM_MINING_SLEEPING:
    return "sleeping";
  case AM_MINING_STARTING:
    return "starting";
  case AM_MINING_UNKNOWN:
    break;
  }
  return NULL;
}

const char *
am_error_severity_name(AmErrorSeverity severity)
{
  switch (severity) {
  case AM_ERROR_SEVERITY_INFO:
    return "info";
  case AM_ERROR_SEVERITY_WARNING:
    return "warning";
  case AM_ERROR_SEVERITY_ERROR:
    return "error";
  case AM_ERROR_SEVERITY_UNKNOWN:
    break;
  }
  return NULL;
}

AmPool *
am_sample_add_pool(AmSample *sample, const char *url, const char *user)
{
  AmPool *pool = g_new0(AmPool, 1);
  pool->url = g_strdup(url);
  pool->user = g_strdup(user);
  pool->priority = AM_UNKNOWN;
  pool->accepted = pool->rejected = pool->stale = AM_UNKNOWN;
  g_ptr_array_add(sample->pools, pool);
  return pool;
}

void
am_sample_set_extra(AmSample *sample, const char *key, JsonNode *node)
{
  g_autofree char *name =
      g_strdup_printf("x_%s_%s", sample->driver ? sample->driver : "driver", key);
  json_object_set_member(sample->extras, name, node);
}

void
am_sample_add_problem(AmSample *sample, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  char *text = g_strdup_vprintf(format, args);
  va_end(args);
  for (guint i = 0; i < sample->problems->len; i++)
    if (g_str_equal(sample->problems->pdata[i], text)) {
      g_free(text);
      return;
    }
  g_ptr_array_add(sample->problems, text);
}

/* ---- derived fields ---------------------------------------------------- */

static double
array_max(GArray *values, double current)
{
  for (guint i = 0; i < values->len; i++) {
    double v = g_array_index(values, double, i);
    if (isnan(current) || v > current)
      current = v;
  }
  return current;
}

static double
array_mean(GArray *values)
{
  if (values->len == 0)
    return NAN;
  double sum = 0;
  for (guint i = 0; i < values->len; i++)
    sum += g_array_index(values, double, i);
  return sum / values->len;
}

static void
derive_hashrate_from_chains(AmSample *s)
{
  double sum = 0;
  gboolean any = FALSE;
  for (guint i = 0; i < s->chains->len; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    if (!isnan(c->hashrate_ths)) {
      sum += c->hashrate_ths;
      any = TRUE;
    }
  }
  if (any && isnan(s->hashrate_ths))
    s->hashrate_ths = sum;
}

static void
derive_temperatures(AmSample *s)
{
  double max = array_max(s->temps_c, NAN);
  max = array_max(s->chip_temps_c, max);
  for (guint i = 0; i < s->chains->len; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    if (am_temp_is_valid(c->temp_board_c) && (isnan(max) || c->temp_board_c > max))
      max = c->temp_board_c;
    if (am_temp_is_valid(c->temp_chip_c) && (isnan(max) || c->temp_chip_c > max))
      max = c->temp_chip_c;
  }
  s->temp_max_c = max;
  /* Board temperatures describe the unit; chip temperatures only stand in
   * when a firmware reports nothing else. */
  s->avg_temp_c = s->temps_c->len > 0 ? array_mean(s->temps_c) : array_mean(s->chip_temps_c);
}

static gboolean
is_resting(const AmSample *s)
{
  return s->mining == AM_MINING_PAUSED || s->mining == AM_MINING_SLEEPING;
}

static void
derive_error_problems(AmSample *s)
{
  for (guint i = 0; i < s->errors->len; i++) {
    const AmMinerError *e = s->errors->pdata[i];
    if (e->severity != AM_ERROR_SEVERITY_ERROR)
      continue;
    if (e->code != NULL && e->message != NULL)
      am_sample_add_problem(s, "error %s: %s", e->code, e->message);
    else
      am_sample_add_problem(s, "error %s", e->code != NULL ? e->code : e->message);
  }
}

static void
derive_problems(AmSample *s)
{
  derive_error_problems(s);
  /* A miner paused or asleep on purpose has no hashrate, and may have its
   * boards and fans off: that is what was asked of it, not a fault. */
  if (is_resting(s)) {
    s->status = s->problems->len > 0 ? AM_SAMPLE_STATUS_DEGRADED : AM_SAMPLE_STATUS_OK;
    return;
  }
  guint chains_present = s->chains->len;
  if (s->chains_expected > 0 && chains_present < (guint)s->chains_expected)
    am_sample_add_problem(s, "%u of %d chains present", chains_present, s->chains_expected);

  for (guint i = 0; i < s->chains->len; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    if (c->chips_failed > 0)
      am_sample_add_problem(s, "chain %d: %d failed chips", c->index, c->chips_failed);
    if (c->chips_expected > 0 && c->chips >= 0 && c->chips < c->chips_expected)
      am_sample_add_problem(s, "chain %d: %d of %d chips found", c->index, c->chips,
                            c->chips_expected);
  }

  if (!s->liquid_cooled && s->fans_expected > 0 && s->fans_rpm->len < (guint)s->fans_expected)
    am_sample_add_problem(s, "%u of %d fans spinning", s->fans_rpm->len, s->fans_expected);

  if (!isnan(s->hashrate_ths) && !isnan(s->hashrate_ideal_ths) && s->hashrate_ideal_ths > 0 &&
      s->hashrate_ths < AM_DEGRADED_HASHRATE_RATIO * s->hashrate_ideal_ths)
    am_sample_add_problem(s, "hashrate %.0f%% of ideal",
                          100.0 * s->hashrate_ths / s->hashrate_ideal_ths);

  s->status = s->problems->len > 0 ? AM_SAMPLE_STATUS_DEGRADED : AM_SAMPLE_STATUS_OK;
}

void
am_sample_finish(AmSample *s)
{
  derive_hashrate_from_chains(s);
  derive_temperatures(s);
  s->avg_fan_rpm = array_mean(s->fans_rpm);
  s->efficiency_jth = NAN;
  if (!isnan(s->power_w) && !isnan(s->hashrate_ths) && s->hashrate_ths > 0)
    s->efficiency_jth = s->power_w / s->hashrate_ths;
  derive_problems(s);
}

/* ---- JSON -------------------------------------------------------------- */

char *
am_time_to_iso8601(gint64 when_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(when_us / G_USEC_PER_SEC);
  if (dt == NULL)
    return g_strdup("1970-01-01T00:00:00Z");
  return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

static void
add_double(JsonBuilder *b, const char *key, double value)
{
  json_builder_set_member_name(b, key);
  if (isfinite(value))
    json_builder_add_double_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
add_int(JsonBuilder *b, const char *key, gint64 value)
{
  json_builder_set_member_name(b, key);
  if (value >= 0)
    json_builder_add_int_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
add_string(JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name(b, key);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
add_double_array(JsonBuilder *b, const char *key, GArray *values)
{
  json_builder_set_member_name(b, key);
  json_builder_begin_array(b);
  for (guint i = 0; i < values->len; i++)
    json_builder_add_double_value(b, g_array_index(values, double, i));
  json_builder_end_array(b);
}

static void
add_chains(JsonBuilder *b, GArray *chains, GPtrArray *serials)
{
  json_builder_set_member_name(b, "chains");
  json_builder_begin_array(b);
  for (guint i = 0; i < chains->len; i++) {
    const AmChain *c = &g_array_index(chains, AmChain, i);
    const char *serial = i < serials->len ? serials->pdata[i] : NULL;
    json_builder_begin_object(b);
    add_int(b, "index", c->index); /* AM_UNKNOWN when the firmware does not number it */
    add_double(b, "hashrate_ths", c->hashrate_ths);
    add_int(b, "chips", c->chips);
    add_int(b, "chips_expected", c->chips_expected);
    add_int(b, "chips_ok", c->chips_ok);
    add_int(b, "chips_failed", c->chips_failed);
    add_int(b, "hw_errors", c->hw_errors);
    add_double(b, "temp_board_c", c->temp_board_c);
    add_double(b, "temp_chip_c", c->temp_chip_c);
    add_double(b, "power_w", c->power_w);
    add_double(b, "voltage_v", c->voltage_v);
    add_double(b, "frequency_mhz", c->frequency_mhz);
    add_double(b, "temp_inlet_c", c->temp_inlet_c);
    add_double(b, "temp_outlet_c", c->temp_outlet_c);
    add_string(b, "serial", serial);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static void
add_pools(JsonBuilder *b, GPtrArray *pools)
{
  json_builder_set_member_name(b, "pools");
  json_builder_begin_array(b);
  for (guint i = 0; i < pools->len; i++) {
    const AmPool *p = pools->pdata[i];
    json_builder_begin_object(b);
    add_string(b, "url", p->url);
    add_string(b, "user", p->user);
    add_string(b, "status", p->status);
    add_int(b, "priority", p->priority);
    add_int(b, "accepted", p->accepted);
    add_int(b, "rejected", p->rejected);
    add_int(b, "stale", p->stale);
    json_builder_set_member_name(b, "active");
    json_builder_add_boolean_value(b, p->active);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static void
add_psu(JsonBuilder *b, const AmSample *s)
{
  json_builder_set_member_name(b, "psu");
  if (isnan(s->psu_power_in_w) && isnan(s->psu_power_out_w) && isnan(s->psu_fan_rpm) &&
      s->psu_serial == NULL) {
    json_builder_add_null_value(b);
    return;
  }
  json_builder_begin_object(b);
  add_double(b, "power_in_w", s->psu_power_in_w);
  add_double(b, "power_out_w", s->psu_power_out_w);
  add_double(b, "fan_rpm", s->psu_fan_rpm);
  add_string(b, "serial", s->psu_serial);
  json_builder_end_object(b);
}

static void
add_errors(JsonBuilder *b, GPtrArray *errors)
{
  json_builder_set_member_name(b, "errors");
  json_builder_begin_array(b);
  for (guint i = 0; i < errors->len; i++) {
    const AmMinerError *e = errors->pdata[i];
    json_builder_begin_object(b);
    add_string(b, "code", e->code);
    add_string(b, "message", e->message);
    add_string(b, "component", e->component);
    add_string(b, "severity", am_error_severity_name(e->severity));
    add_int(b, "since", e->since_s);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static const char *
power_source_name(AmPowerSource source)
{
  switch (source) {
  case AM_POWER_SOURCE_REPORTED:
    return "reported";
  case AM_POWER_SOURCE_ESTIMATED:
    return "estimated";
  case AM_POWER_SOURCE_UNKNOWN:
    break;
  }
  return NULL;
}

JsonNode *
am_sample_to_json(const AmSample *s)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree char *when = am_time_to_iso8601(s->when_us);

  json_builder_begin_object(b);
  add_string(b, "host", s->host);
  add_int(b, "port", s->port > 0 ? s->port : AM_UNKNOWN);
  add_string(b, "when", when);
  add_string(b, "driver", s->driver);
  add_string(b, "firmware", s->firmware);
  add_string(b, "firmware_version", s->firmware_version);
  add_string(b, "model", s->model);
  add_string(b, "mac", s->mac);
  add_string(b, "serial", s->serial);
  add_string(b, "hostname", s->hostname);
  add_string(b, "algorithm", s->algorithm);
  add_double(b, "hashrate_ths", s->hashrate_ths);
  add_double(b, "hashrate_avg_ths", s->hashrate_avg_ths);
  add_double(b, "hashrate_ideal_ths", s->hashrate_ideal_ths);
  add_double(b, "power_w", s->power_w);
  add_string(b, "power_source", power_source_name(s->power_source));
  add_double(b, "efficiency_jth", s->efficiency_jth);
  add_int(b, "elapsed_s", s->elapsed_s);
  add_double_array(b, "temps_c", s->temps_c);
  add_double_array(b, "chip_temps_c", s->chip_temps_c);
  add_double(b, "temp_max_c", s->temp_max_c);
  add_double(b, "avg_temp_c", s->avg_temp_c);
  add_double_array(b, "fans_rpm", s->fans_rpm);
  add_double(b, "avg_fan_rpm", s->avg_fan_rpm);
  json_builder_set_member_name(b, "liquid_cooled");
  json_builder_add_boolean_value(b, s->liquid_cooled);
  add_chains(b, s->chains, s->chain_serials);
  add_pools(b, s->pools);
  add_int(b, "accepted", s->accepted);
  add_int(b, "rejected", s->rejected);
  add_int(b, "hw_errors", s->hw_errors);
  add_string(b, "mining", am_mining_state_name(s->mining));
  add_double(b, "power_limit_w", s->power_limit_w);
  add_string(b, "work_mode", s->work_mode);
  add_double(b, "water_temp_in_c", s->water_temp_in_c);
  add_double(b, "water_temp_out_c", s->water_temp_out_c);
  add_psu(b, s);
  add_double(b, "best_share", s->best_share);
  add_int(b, "found_blocks", s->found_blocks);
  add_errors(b, s->errors);
  json_builder_set_member_name(b, "partial");
  json_builder_add_boolean_value(b, s->partial);
  json_builder_set_member_name(b, "locate");
  if (s->locate == AM_UNKNOWN)
    json_builder_add_null_value(b);
  else
    json_builder_add_boolean_value(b, s->locate != 0);
  add_string(b, "status", s->status == AM_SAMPLE_STATUS_DEGRADED ? "degraded" : "ok");
  json_builder_set_member_name(b, "problems");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->problems->len; i++)
    json_builder_add_string_value(b, s->problems->pdata[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "extras");
  json_builder_add_value(b, json_node_init_object(json_node_alloc(), s->extras));
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
