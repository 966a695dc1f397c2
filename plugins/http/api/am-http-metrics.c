/* GET /metrics in the Prometheus text format (pure; see the header). */
#include "am-http-metrics.h"

#include <math.h>
#include <string.h>

/* One metric family: all its samples must follow its HELP and TYPE lines
 * together, so samples are gathered per family and written at the end. */
typedef struct {
  char *name;
  const char *type;
  char *help;
  GString *samples;
} Family;

struct _AmHttpMetrics {
  GPtrArray *families; /* Family*, in the order first used */
  GHashTable *by_name; /* name -> Family* (borrowed) */
};

static void
family_free(Family *f)
{
  g_free(f->name);
  g_free(f->help);
  g_string_free(f->samples, TRUE);
  g_free(f);
}

AmHttpMetrics *
am_http_metrics_new(void)
{
  AmHttpMetrics *m = g_new0(AmHttpMetrics, 1);
  m->families = g_ptr_array_new_with_free_func((GDestroyNotify)family_free);
  m->by_name = g_hash_table_new(g_str_hash, g_str_equal);
  return m;
}

void
am_http_metrics_free(AmHttpMetrics *m)
{
  if (m == NULL)
    return;
  g_hash_table_unref(m->by_name);
  g_ptr_array_unref(m->families);
  g_free(m);
}

static Family *
family(AmHttpMetrics *m, const char *name, const char *type, const char *help)
{
  Family *f = g_hash_table_lookup(m->by_name, name);
  if (f != NULL)
    return f;
  f = g_new0(Family, 1);
  f->name = g_strdup(name);
  f->type = type;
  f->help = g_strdup(help);
  f->samples = g_string_new(NULL);
  g_ptr_array_add(m->families, f);
  g_hash_table_insert(m->by_name, f->name, f);
  return f;
}

void
am_http_metrics_escape_label(GString *out, const char *value)
{
  for (const char *p = value != NULL ? value : ""; *p != '\0'; p++) {
    if (*p == '\\')
      g_string_append(out, "\\\\");
    else if (*p == '"')
      g_string_append(out, "\\\"");
    else if (*p == '\n')
      g_string_append(out, "\\n");
    else
      g_string_append_c(out, *p);
  }
}

/* Appends ,name="value" (or name="value" first). */
static void
label(GString *out, const char *name, const char *value)
{
  if (out->len > 0)
    g_string_append_c(out, ',');
  g_string_append_printf(out, "%s=\"", name);
  am_http_metrics_escape_label(out, value);
  g_string_append_c(out, '"');
}

/* One sample line; unknown values (NAN) are left out, not written as 0. */
static void
sample(AmHttpMetrics *m, const char *name, const char *type, const char *help, const char *labels,
       double value)
{
  Family *f = family(m, name, type, help);
  if (!isfinite(value))
    return;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append(f->samples, name);
  if (labels != NULL && *labels != '\0')
    g_string_append_printf(f->samples, "{%s}", labels);
  g_string_append_printf(f->samples, " %s\n", g_ascii_dtostr(buf, sizeof buf, value));
}

/* @base plus one or two more labels. (transfer full) */
static char *
with_labels(const char *base, const char *n1, const char *v1, const char *n2, const char *v2)
{
  GString *out = g_string_new(base);
  if (n1 != NULL)
    label(out, n1, v1);
  if (n2 != NULL)
    label(out, n2, v2);
  return g_string_free(out, FALSE);
}

static double
count_or_nan(gint64 value)
{
  return value >= 0 ? (double)value : NAN;
}

/* ---- miners ------------------------------------------------------------------------- */

#define HS_PER_THS 1e12

static void
add_hashrate(AmHttpMetrics *m, const char *base, const AmSample *s)
{
  const char *algo = s->algorithm != NULL ? s->algorithm : "sha256d";
  g_autofree char *labels = with_labels(base, "algorithm", algo, NULL, NULL);
  sample(m, "antmon_miner_hashrate_hashes_per_second", "gauge",
         "Current hashrate of the miner's algorithm, in hashes per second", labels,
         s->hashrate_ths * HS_PER_THS);
  sample(m, "antmon_miner_hashrate_ideal_hashes_per_second", "gauge",
         "Nominal (ideal) hashrate, in hashes per second", labels,
         s->hashrate_ideal_ths * HS_PER_THS);
}

static void
add_temperature(AmHttpMetrics *m, const char *base, const char *board, const char *sensor,
                double value)
{
  g_autofree char *labels = with_labels(base, "board", board, "sensor", sensor);
  sample(m, "antmon_miner_temperature_celsius", "gauge",
         "Hottest valid reading of a board's sensor (board: PCB, chip: ASIC), in degrees Celsius",
         labels, value);
}

static gboolean
chains_have_temps(const AmSample *s)
{
  for (guint i = 0; s->chains != NULL && i < s->chains->len; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    if (isfinite(c->temp_board_c) || isfinite(c->temp_chip_c))
      return TRUE;
  }
  return FALSE;
}

/* Per chain where the firmware says which board is which; otherwise the
 * sample's plain lists, numbered in order. */
static void
add_temperatures(AmHttpMetrics *m, const char *base, const AmSample *s)
{
  if (chains_have_temps(s)) {
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < s->chains->len; i++) {
      const AmChain *c = &g_array_index(s->chains, AmChain, i);
      /* A firmware that repeats a slot number must not produce duplicate series. */
      if (!g_hash_table_add(seen, GINT_TO_POINTER(c->index + 1)))
        continue;
      char board[16];
      g_snprintf(board, sizeof board, "%d", c->index);
      add_temperature(m, base, board, "board", c->temp_board_c);
      add_temperature(m, base, board, "chip", c->temp_chip_c);
      add_temperature(m, base, board, "inlet", c->temp_inlet_c);
      add_temperature(m, base, board, "outlet", c->temp_outlet_c);
    }
    return;
  }
  for (guint i = 0; s->temps_c != NULL && i < s->temps_c->len; i++) {
    char board[16];
    g_snprintf(board, sizeof board, "%u", i);
    add_temperature(m, base, board, "board", g_array_index(s->temps_c, double, i));
  }
  for (guint i = 0; s->chip_temps_c != NULL && i < s->chip_temps_c->len; i++) {
    char board[16];
    g_snprintf(board, sizeof board, "%u", i);
    add_temperature(m, base, board, "chip", g_array_index(s->chip_temps_c, double, i));
  }
}

static void
add_fans(AmHttpMetrics *m, const char *base, const AmSample *s)
{
  for (guint i = 0; s->fans_rpm != NULL && i < s->fans_rpm->len; i++) {
    char fan[16];
    g_snprintf(fan, sizeof fan, "%u", i);
    g_autofree char *labels = with_labels(base, "fan", fan, NULL, NULL);
    sample(m, "antmon_miner_fan_rpm", "gauge", "Fan speed, in revolutions per minute", labels,
           g_array_index(s->fans_rpm, double, i));
  }
}

static void
add_chain_chips(AmHttpMetrics *m, const char *base, const AmChain *c)
{
  char chain[16];
  g_snprintf(chain, sizeof chain, "%d", c->index);
  double failed = count_or_nan(c->chips_failed);
  double ok = count_or_nan(c->chips_ok);
  if (isnan(ok) && c->chips >= 0)
    ok = c->chips - (isnan(failed) ? 0 : failed);
  double missing =
      c->chips >= 0 && c->chips_expected >= 0 ? (double)MAX(c->chips_expected - c->chips, 0) : NAN;
  const struct {
    const char *state;
    double value;
  } states[] = {{"ok", ok}, {"failed", failed}, {"missing", missing}};
  for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
    g_autofree char *labels = with_labels(base, "chain", chain, "state", states[i].state);
    sample(m, "antmon_miner_chain_chips", "gauge",
           "ASIC chips of a chain: ok, failed, or missing (expected but not found)", labels,
           states[i].value);
  }
}

static void
add_chains(AmHttpMetrics *m, const char *base, const AmSample *s)
{
  g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; s->chains != NULL && i < s->chains->len; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    if (!g_hash_table_add(seen, GINT_TO_POINTER(c->index + 1)))
      continue;
    add_chain_chips(m, base, c);
    char chain[16];
    g_snprintf(chain, sizeof chain, "%d", c->index);
    g_autofree char *labels = with_labels(base, "chain", chain, NULL, NULL);
    sample(m, "antmon_miner_chain_hashrate_hashes_per_second", "gauge",
           "Current hashrate of one chain, in hashes per second", labels,
           c->hashrate_ths * HS_PER_THS);
    sample(m, "antmon_miner_chain_voltage_volts", "gauge", "Supply voltage of one chain, in volts",
           labels, c->voltage_v);
    sample(m, "antmon_miner_chain_frequency_hertz", "gauge",
           "Average chip clock of one chain, in hertz", labels, c->frequency_mhz * 1e6);
  }
}

static gint64
pools_stale(const AmSample *s)
{
  gint64 total = AM_UNKNOWN;
  for (guint i = 0; s->pools != NULL && i < s->pools->len; i++) {
    const AmPool *p = s->pools->pdata[i];
    if (p->stale >= 0)
      total = MAX(total, 0) + p->stale;
  }
  return total;
}

static void
add_counters(AmHttpMetrics *m, const char *base, const AmSample *s)
{
  const struct {
    const char *result;
    gint64 value;
  } shares[] = {{"accepted", s->accepted}, {"rejected", s->rejected}, {"stale", pools_stale(s)}};
  for (guint i = 0; i < G_N_ELEMENTS(shares); i++) {
    g_autofree char *labels = with_labels(base, "result", shares[i].result, NULL, NULL);
    sample(m, "antmon_miner_shares_total", "counter",
           "Shares since the miner started, by result (resets when it restarts)", labels,
           count_or_nan(shares[i].value));
  }
  sample(m, "antmon_miner_hardware_errors_total", "counter",
         "Hardware errors since the miner started", base, count_or_nan(s->hw_errors));
  sample(m, "antmon_miner_uptime_seconds", "gauge", "Time since the mining software started", base,
         count_or_nan(s->elapsed_s));
}

/* One series per state, 1 for the current one (the enum convention), when
 * the firmware says what it is doing. */
static void
add_mining(AmHttpMetrics *m, const char *base, const AmSample *s)
{
  static const AmMiningState states[] = {AM_MINING_HASHING, AM_MINING_PAUSED, AM_MINING_SLEEPING,
                                         AM_MINING_STARTING};
  for (guint i = 0; s->mining != AM_MINING_UNKNOWN && i < G_N_ELEMENTS(states); i++) {
    g_autofree char *labels =
        with_labels(base, "state", am_mining_state_name(states[i]), NULL, NULL);
    sample(m, "antmon_miner_mining", "gauge",
           "1 for what the miner says it is doing: hashing, paused, sleeping or starting", labels,
           s->mining == states[i] ? 1 : 0);
  }
}

static void
add_errors(AmHttpMetrics *m, const char *base, const AmSample *s)
{
  static const AmErrorSeverity severities[] = {AM_ERROR_SEVERITY_ERROR, AM_ERROR_SEVERITY_WARNING,
                                               AM_ERROR_SEVERITY_INFO};
  for (guint i = 0; i < G_N_ELEMENTS(severities); i++) {
    guint n = 0;
    for (guint j = 0; s->errors != NULL && j < s->errors->len; j++)
      n += ((const AmMinerError *)s->errors->pdata[j])->severity == severities[i];
    g_autofree char *labels =
        with_labels(base, "severity", am_error_severity_name(severities[i]), NULL, NULL);
    sample(m, "antmon_miner_errors", "gauge", "Errors the firmware reports now, by severity",
           labels, n);
  }
}

/* The readings of ABI 1.2: power target, PSU, coolant, luck. */
static void
add_extended(AmHttpMetrics *m, const char *base, const AmSample *s)
{
  add_mining(m, base, s);
  add_errors(m, base, s);
  sample(m, "antmon_miner_power_limit_watts", "gauge",
         "The power target the firmware works to, in watts", base, s->power_limit_w);
  const struct {
    const char *name, *help, *label, *value;
    double reading;
  } pairs[] = {
      {"antmon_miner_water_temperature_celsius", "Coolant temperature of a hydro model", "side",
       "in", s->water_temp_in_c},
      {"antmon_miner_water_temperature_celsius", "Coolant temperature of a hydro model", "side",
       "out", s->water_temp_out_c},
      {"antmon_miner_psu_power_watts", "The power supply's own reading, in watts", "direction",
       "in", s->psu_power_in_w},
      {"antmon_miner_psu_power_watts", "The power supply's own reading, in watts", "direction",
       "out", s->psu_power_out_w},
  };
  for (guint i = 0; i < G_N_ELEMENTS(pairs); i++) {
    g_autofree char *labels = with_labels(base, pairs[i].label, pairs[i].value, NULL, NULL);
    sample(m, pairs[i].name, "gauge", pairs[i].help, labels, pairs[i].reading);
  }
  sample(m, "antmon_miner_psu_fan_rpm", "gauge", "The power supply's fan, in RPM", base,
         s->psu_fan_rpm);
  sample(m, "antmon_miner_best_share_difficulty", "gauge", "Best share difficulty since start",
         base, s->best_share);
  sample(m, "antmon_miner_found_blocks_total", "counter", "Blocks the miner has found", base,
         count_or_nan(s->found_blocks));
  sample(m, "antmon_miner_sample_partial", "gauge",
         "1 when some replies of the last poll could not be read", base, s->partial ? 1 : 0);
}

static void
add_sample(AmHttpMetrics *m, const char *base, const AmSample *s)
{
  add_hashrate(m, base, s);
  const char *source = s->power_source == AM_POWER_SOURCE_REPORTED    ? "reported"
                       : s->power_source == AM_POWER_SOURCE_ESTIMATED ? "estimated"
                                                                      : "unknown";
  g_autofree char *power_labels = with_labels(base, "source", source, NULL, NULL);
  sample(m, "antmon_miner_power_watts", "gauge",
         "Power draw, in watts (source: reported by the firmware, or estimated from J/TH)",
         power_labels, s->power_w);
  add_temperatures(m, base, s);
  add_fans(m, base, s);
  add_chains(m, base, s);
  add_counters(m, base, s);
  add_extended(m, base, s);
}

void
am_http_metrics_add_miner(AmHttpMetrics *m, const AmHttpMiner *miner)
{
  const AmSample *s = miner->sample;
  g_autoptr(GString) base = g_string_new(NULL);
  label(base, "miner", miner->address);
  label(base, "model", s != NULL ? s->model : NULL);
  label(base, "firmware", s != NULL ? s->firmware : NULL);
  /* A paused miner answers its polls: up, with its (idle) readings. */
  gboolean up = miner->state == AM_HTTP_STATE_ONLINE || miner->state == AM_HTTP_STATE_DEGRADED ||
                miner->state == AM_HTTP_STATE_PAUSED;

  g_autofree char *info =
      with_labels(base->str, "name", miner->name, "state", am_http_state_to_string(miner->state));
  sample(m, "antmon_miner_info", "gauge", "Always 1: the miner's name and state as labels", info,
         1);
  sample(m, "antmon_miner_up", "gauge", "1 when the last poll of the miner succeeded", base->str,
         up ? 1 : 0);
  sample(m, "antmon_miner_consecutive_poll_failures", "gauge",
         "Polls that failed in a row (0 while the miner answers)", base->str, miner->failures);
  if (miner->last_seen_us > 0)
    sample(m, "antmon_miner_last_seen_timestamp_seconds", "gauge",
           "When the miner last answered, as Unix time", base->str,
           (double)(miner->last_seen_us / G_USEC_PER_SEC));
  if (up && s != NULL)
    add_sample(m, base->str, s);
}

/* ---- the agent itself --------------------------------------------------------------- */

/* "failed_batches" -> "failed_batches"; anything outside [a-z0-9_] -> '_'. */
static char *
metric_word(const char *key)
{
  char *word = g_ascii_strdown(key, -1);
  for (char *p = word; *p != '\0'; p++)
    if (!g_ascii_isalnum(*p))
      *p = '_';
  return word;
}

static gboolean
node_number(JsonNode *node, double *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return FALSE;
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_INT64)
    *out = (double)json_node_get_int(node);
  else if (type == G_TYPE_DOUBLE)
    *out = json_node_get_double(node);
  else if (type == G_TYPE_BOOLEAN)
    *out = json_node_get_boolean(node) ? 1 : 0;
  else
    return FALSE;
  return TRUE;
}

/* Every number in @obj as antmon_<prefix>_<key>{labels}: the store, alert
 * and discovery plugins choose their own counters, so they are exported as
 * they come rather than from a fixed list. */
static void
add_numbers(AmHttpMetrics *m, const char *prefix, const char *what, JsonObject *obj,
            const char *labels)
{
  JsonObjectIter it;
  const char *key;
  JsonNode *node;
  double value;
  if (obj == NULL)
    return;
  json_object_iter_init(&it, obj);
  while (json_object_iter_next(&it, &key, &node)) {
    if (!node_number(node, &value))
      continue;
    g_autofree char *word = metric_word(key);
    g_autofree char *name = g_strdup_printf("antmon_%s_%s", prefix, word);
    g_autofree char *help =
        g_strdup_printf("%s: %s, as the agent's health report gives it", what, key);
    sample(m, name, "gauge", help, labels, value);
  }
}

static void
add_poll(AmHttpMetrics *m, JsonObject *poll)
{
  static const char *const states[] = {"online", "degraded", "paused", "offline", "unreachable"};
  for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
    g_autofree char *labels = with_labels("", "state", states[i], NULL, NULL);
    sample(m, "antmon_miners", "gauge", "Miners the agent knows, by state", labels,
           (double)am_json_int(poll, states[i], 0));
  }
  sample(m, "antmon_polls_in_flight", "gauge", "Polls running now", NULL,
         (double)am_json_int(poll, "in_flight", 0));
  JsonObject *pass = am_json_object(poll, "last_pass");
  if (pass == NULL)
    return;
  const char *const results[] = {"succeeded", "failed"};
  for (guint i = 0; i < G_N_ELEMENTS(results); i++) {
    g_autofree char *labels = with_labels("", "result", results[i], NULL, NULL);
    sample(m, "antmon_poll_last_pass_polls", "gauge",
           "Polls in the last completed pass (one interval), by result", labels,
           (double)am_json_int(pass, results[i], 0));
  }
  JsonObject *reasons = am_json_object(pass, "failed_by_reason");
  JsonObjectIter it;
  const char *reason;
  JsonNode *node;
  double value;
  if (reasons != NULL) {
    json_object_iter_init(&it, reasons);
    while (json_object_iter_next(&it, &reason, &node))
      if (node_number(node, &value)) {
        g_autofree char *labels = with_labels("", "reason", reason, NULL, NULL);
        sample(m, "antmon_poll_last_pass_failures", "gauge",
               "Failed polls in the last completed pass, by reason", labels, value);
      }
  }
  sample(m, "antmon_poll_last_pass_duration_seconds", "gauge",
         "From the first poll to the last answer of the last completed pass", NULL,
         (double)am_json_int(pass, "duration_ms", 0) / 1000.0);
}

static void
add_plugins(AmHttpMetrics *m, JsonObject *plugins)
{
  JsonArray *loaded = am_json_array(plugins, "loaded");
  JsonArray *rejected = am_json_array(plugins, "rejected");
  sample(m, "antmon_plugins_loaded", "gauge", "Plugins loaded", NULL,
         loaded != NULL ? json_array_get_length(loaded) : 0);
  sample(m, "antmon_plugins_rejected", "gauge",
         "Plugin files skipped (wrong ABI, missing symbol, wrong kind)", NULL,
         rejected != NULL ? json_array_get_length(rejected) : 0);
}

static void
add_discovery(AmHttpMetrics *m, JsonObject *discovery)
{
  JsonObjectIter it;
  const char *group;
  JsonNode *node;
  if (discovery == NULL)
    return;
  json_object_iter_init(&it, discovery);
  while (json_object_iter_next(&it, &group, &node)) {
    if (!JSON_NODE_HOLDS_OBJECT(node))
      continue;
    g_autofree char *labels = with_labels("", "instance", group, NULL, NULL);
    add_numbers(m, "discovery", "Discovery", json_node_get_object(node), labels);
  }
}

void
am_http_metrics_add_health(AmHttpMetrics *m, JsonNode *health)
{
  if (health == NULL || !JSON_NODE_HOLDS_OBJECT(health))
    return;
  JsonObject *h = json_node_get_object(health);
  g_autofree char *build = with_labels("", "version", am_json_string(h, "version"), NULL, NULL);
  sample(m, "antmon_build_info", "gauge", "Always 1: the agent's version as a label", build, 1);
  sample(m, "antmon_uptime_seconds", "gauge", "Time since the agent started", NULL,
         (double)am_json_int(h, "uptime_s", 0));
  add_plugins(m, am_json_object(h, "plugins"));
  JsonObject *poll = am_json_object(h, "poll");
  if (poll != NULL)
    add_poll(m, poll);
  add_discovery(m, am_json_object(h, "discovery"));
  add_numbers(m, "store", "Store queue", am_json_object(h, "store"), NULL);
  JsonObject *store = am_json_object(h, "store");
  if (store != NULL)
    add_numbers(m, "store_engine", "Store", am_json_object(store, "engine"), NULL);
  add_numbers(m, "alerts", "Alerts", am_json_object(h, "alerts"), NULL);
  add_numbers(m, "process", "The agent's process", am_json_object(h, "process"), NULL);
  add_numbers(m, "http_connections", "HTTP connections", am_json_object(h, "http"), NULL);
}

/* HELP text escapes only backslash and newline. */
static void
append_help(GString *out, const char *help)
{
  for (const char *p = help; *p != '\0'; p++) {
    if (*p == '\\')
      g_string_append(out, "\\\\");
    else if (*p == '\n')
      g_string_append(out, "\\n");
    else
      g_string_append_c(out, *p);
  }
}

/* Each family as two chunks, its HELP and TYPE lines then its samples,
 * handed over without copying: at 10,000 miners the text is some 40 MB,
 * and a copy into one buffer (then another into the reply) tripled it. */
void
am_http_metrics_render_to(AmHttpMetrics *m, SoupMessageBody *body)
{
  for (guint i = 0; i < m->families->len; i++) {
    Family *f = m->families->pdata[i];
    if (f->samples->len == 0)
      continue;
    GString *head = g_string_new("# HELP ");
    g_string_append_printf(head, "%s ", f->name);
    append_help(head, f->help);
    g_string_append_printf(head, "\n# TYPE %s %s\n", f->name, f->type);
    g_autoptr(GBytes) head_bytes = g_string_free_to_bytes(head);
    g_autoptr(GBytes) samples = g_string_free_to_bytes(f->samples);
    f->samples = g_string_new(NULL);
    soup_message_body_append_bytes(body, head_bytes);
    soup_message_body_append_bytes(body, samples);
  }
}

GBytes *
am_http_metrics_render(AmHttpMetrics *m)
{
  SoupMessageBody *body = soup_message_body_new();
  am_http_metrics_render_to(m, body);
  GBytes *text = soup_message_body_flatten(body);
  soup_message_body_unref(body);
  return text;
}
