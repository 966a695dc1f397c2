/* The antminer-web normalizer. Which rules rest on real replies and which
 * are assumptions is listed in README.md next to this file. */
#include "am-antminer-web-parse.h"

#include "am-antminer-web-action.h"
#include "../common/am-cgminer-common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DRIVER_NAME "antminer-web"

/* No single miner draws this much; a larger "watt" is not a reading. */
#define MAX_POWER_W 100000.0

/* ---- small readers ------------------------------------------------------ */

/* @reply when it is there and its STATUS is not an error, else NULL. */
static JsonObject *
usable(JsonObject *reply)
{
  return reply != NULL && am_rpc_check_status(reply, NULL) ? reply : NULL;
}

/* A string member with something other than blanks in it, else NULL. */
static const char *
nonblank_string(JsonObject *obj, const char *key)
{
  const char *s = am_json_string(obj, key);
  if (s == NULL)
    return NULL;
  for (const char *p = s; *p != '\0'; p++)
    if (!g_ascii_isspace(*p))
      return s;
  return NULL;
}

/* A JSON number element, else NAN (strings and nulls are not readings). */
static double
number_element(JsonArray *array, guint i)
{
  JsonNode *node = json_array_get_element(array, i);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return NAN;
  GType type = json_node_get_value_type(node);
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return NAN;
  return json_node_get_double(node);
}

/* The hottest plausible reading of a temp_pcb/temp_chip array: the S23
 * reports four sensors per board ([44, 44, 52, 52]); a board is as hot as
 * its hottest spot, and a 0 or -83 from a broken sensor is not a reading. */
static double
hottest(JsonArray *readings)
{
  double max = NAN;
  guint n = readings != NULL ? json_array_get_length(readings) : 0;
  for (guint i = 0; i < n; i++) {
    double v = number_element(readings, i);
    if (am_temp_is_valid(v) && (isnan(max) || v > max))
      max = v;
  }
  return max;
}

/* @value as a count, or AM_UNKNOWN when it is not one. */
static gint
count_or_unknown(gint64 value)
{
  return value >= 0 && value <= G_MAXINT ? (gint)value : AM_UNKNOWN;
}

/* ---- hashrate ----------------------------------------------------------- */

/* The unit of a block's rate keys. Every reply we hold says "GH/s"; a block
 * without rate_unit is taken as GH/s only on SHA-256 models, where the RPC
 * API's GHS keys are GH/s too. Elsewhere the unit is unknown. */
static const char *
rate_unit(JsonObject *block, const char *algorithm)
{
  const char *unit = am_json_string(block, "rate_unit");
  if (unit != NULL)
    return unit;
  return g_strcmp0(algorithm, "sha256d") == 0 ? "GH" : NULL;
}

/* Member @key of @block in TH/s, NAN when absent, negative or unit-less. */
static double
rate_ths(JsonObject *block, const char *key, const char *unit)
{
  double value = am_json_double(block, key);
  if (unit == NULL || isnan(value) || value < 0)
    return NAN;
  return am_hashrate_to_ths(value, unit);
}

/* The first of @key in the stats block, then the summary block. */
static double
first_rate(JsonObject *stats, const char *stats_unit, JsonObject *summary, const char *summary_unit,
           const char *key)
{
  double value = rate_ths(stats, key, stats_unit);
  return !isnan(value) ? value : rate_ths(summary, key, summary_unit);
}

/* ---- identity ----------------------------------------------------------- */

/* SHA-256 Antminers are named S or T and a digit ("Antminer S23 Hyd."). */
static const char *
guess_algorithm(const char *model)
{
  if (model != NULL && g_str_has_prefix(model, "Antminer ") &&
      (model[9] == 'S' || model[9] == 'T') && g_ascii_isdigit(model[10]))
    return "sha256d";
  return NULL;
}

static void
set_model(AmSample *sample, const char *type)
{
  g_autofree char *model = am_cgminer_clean_model(type);
  if (model != NULL && sample->model == NULL)
    am_sample_set(sample, &sample->model, model);
}

/* The INFO object both summary.cgi and stats.cgi carry: the model in
 * "type" and the image's build time, which the RPC driver also reports as
 * the stock firmware's version. */
static void
read_info(AmSample *sample, JsonObject *reply)
{
  JsonObject *info = am_json_object(reply, "INFO");
  if (info == NULL)
    return;
  set_model(sample, am_json_string(info, "type"));
  if (sample->firmware_version == NULL)
    am_sample_set(sample, &sample->firmware_version, nonblank_string(info, "CompileTime"));
  if (json_object_get_member(sample->extras, "x_" DRIVER_NAME "_miner_version") == NULL &&
      nonblank_string(info, "miner_version") != NULL) {
    JsonNode *node = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(node, am_json_string(info, "miner_version"));
    am_sample_set_extra(sample, "miner_version", node);
  }
}

gboolean
am_antminer_web_read_system_info(AmSample *sample, JsonObject *reply)
{
  if (reply == NULL ||
      (am_json_string(reply, "macaddr") == NULL && am_json_string(reply, "minertype") == NULL))
    return FALSE;
  set_model(sample, am_json_string(reply, "minertype"));
  /* A MAC that is not 12 hex digits (the recorded S21's "02:55:97:22:3M:72")
   * stays unknown rather than passed on as garbage. */
  g_autofree char *mac = am_cgminer_format_mac(am_json_string(reply, "macaddr"));
  if (mac != NULL)
    am_sample_set(sample, &sample->mac, mac);
  const char *serial = nonblank_string(reply, "serinum");
  if (serial != NULL)
    am_sample_set(sample, &sample->serial, serial);
  /* get_network_info.cgi names the configured host name conf_hostname. */
  const char *hostname = nonblank_string(reply, "hostname");
  if (hostname == NULL)
    hostname = nonblank_string(reply, "conf_hostname");
  if (hostname != NULL)
    am_sample_set(sample, &sample->hostname, hostname);
  if (sample->firmware_version == NULL)
    am_sample_set(sample, &sample->firmware_version,
                  nonblank_string(reply, "system_filesystem_version"));
  return TRUE;
}

/* ---- hash boards -------------------------------------------------------- */

/* Counts the chip map: 'o' a working chip, 'x' a failed one, as in the RPC
 * API's chain_acsN; '-' and blanks are empty positions. */
static void
read_chip_map(AmChain *chain, const char *map)
{
  if (map == NULL)
    return;
  gint ok = 0, failed = 0;
  for (const char *p = map; *p != '\0'; p++) {
    if (*p == 'o')
      ok++;
    else if (*p == 'x' || *p == 'X')
      failed++;
  }
  chain->chips_ok = ok;
  chain->chips_failed = failed;
  if (chain->chips == AM_UNKNOWN)
    chain->chips = ok + failed;
}

static void
read_chain(AmSample *sample, JsonObject *board, guint position, const char *unit,
           const AmAntminerModel *entry)
{
  gint index = count_or_unknown(am_json_int(board, "index", position));
  AmChain *chain = am_cgminer_chain(sample, index != AM_UNKNOWN ? index : (gint)position);
  chain->hashrate_ths = rate_ths(board, "rate_real", unit);
  chain->chips = count_or_unknown(am_json_int(board, "asic_num", AM_UNKNOWN));
  read_chip_map(chain, am_json_string(board, "asic"));
  if (entry != NULL && entry->chips_per_chain > 0)
    chain->chips_expected = entry->chips_per_chain;
  chain->temp_board_c = hottest(am_json_array(board, "temp_pcb"));
  chain->temp_chip_c = hottest(am_json_array(board, "temp_chip"));
  if (!isnan(chain->temp_board_c))
    am_sample_add_temp(sample, chain->temp_board_c);
  if (!isnan(chain->temp_chip_c))
    am_sample_add_chip_temp(sample, chain->temp_chip_c);
}

static void
read_chains(AmSample *sample, JsonObject *block, const char *unit, const AmAntminerModel *entry)
{
  JsonArray *boards = am_json_array(block, "chain");
  guint n = boards != NULL ? MIN(json_array_get_length(boards), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *board = am_json_array_object(boards, i);
    if (board != NULL)
      read_chain(sample, board, i, unit, entry);
  }
}

/* ---- fans and power ----------------------------------------------------- */

/* Hydro units say fan:[] and fan_num:0. That is their normal state, so no
 * fan count is expected of them; an air-cooled unit whose fans all died
 * still lists its fan slots (fan_num > 0) with zeros. */
static void
read_cooling(AmSample *sample, JsonObject *block, const AmAntminerModel *entry)
{
  JsonArray *fans = am_json_array(block, "fan");
  guint n = fans != NULL ? json_array_get_length(fans) : 0;
  for (guint i = 0; i < n; i++) {
    double rpm = number_element(fans, i);
    if (!isnan(rpm))
      am_sample_add_fan(sample, rpm);
  }
  gint fan_num = count_or_unknown(am_json_int(block, "fan_num", AM_UNKNOWN));
  sample->liquid_cooled = (entry != NULL && entry->hydro) || (fan_num == 0 && n == 0);
  if (sample->liquid_cooled)
    sample->fans_expected = 0;
  else if (entry != NULL && entry->fans >= 0)
    sample->fans_expected = entry->fans;
  else
    sample->fans_expected = fan_num;
}

/* stats.cgi's "watt" is the PSU's own reading (5525 W on the S23 Hyd., 9.6
 * J/TH at its 573 TH/s), so it is reported, never estimated. */
static void
read_power(AmSample *sample, JsonObject *block)
{
  double watts = am_json_double(block, "watt");
  if (watts > 0 && watts < MAX_POWER_W) {
    sample->power_w = watts;
    sample->power_source = AM_POWER_SOURCE_REPORTED;
  }
}

/* ---- pools and health checks ------------------------------------------- */

/* Lower priority numbers come first; an unknown priority ranks last. */
static gboolean
ranks_before(const AmPool *a, const AmPool *b)
{
  if (b == NULL)
    return TRUE;
  if (a->priority < 0)
    return FALSE;
  return b->priority < 0 || a->priority < b->priority;
}

static AmPool *
read_pool(AmSample *sample, JsonObject *entry)
{
  const char *url = nonblank_string(entry, "url");
  if (url == NULL)
    return NULL; /* an empty slot of the firmware's three-pool table */
  AmPool *pool = am_sample_add_pool(sample, url, nonblank_string(entry, "user"));
  pool->status = g_strdup(am_json_string(entry, "status"));
  pool->priority = count_or_unknown(am_json_int(entry, "priority", AM_UNKNOWN));
  pool->accepted = am_json_int(entry, "accepted", AM_UNKNOWN);
  pool->rejected = am_json_int(entry, "rejected", AM_UNKNOWN);
  pool->stale = am_json_int(entry, "stale", AM_UNKNOWN);
  return pool;
}

/* pools.cgi has no "Stratum Active": the pool receiving work is taken to be
 * the best-priority Alive one, as cgminer's failover does. The sample's
 * share totals are the pools' sums, which is how cgminer counts them. */
static void
read_pools(AmSample *sample, JsonObject *reply)
{
  JsonArray *pools = am_json_array(reply, "POOLS");
  guint n = pools != NULL ? json_array_get_length(pools) : 0;
  AmPool *active = NULL;
  gint64 accepted = 0, rejected = 0;
  gboolean totals = n > 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *entry = am_json_array_object(pools, i);
    AmPool *pool = entry != NULL ? read_pool(sample, entry) : NULL;
    if (pool == NULL)
      continue;
    if (g_strcmp0(pool->status, "Alive") == 0 && ranks_before(pool, active))
      active = pool;
    if (pool->accepted < 0 || pool->rejected < 0 || pool->accepted > G_MAXINT64 - accepted ||
        pool->rejected > G_MAXINT64 - rejected)
      totals = FALSE;
    else {
      accepted += pool->accepted;
      rejected += pool->rejected;
    }
  }
  if (active != NULL)
    active->active = TRUE;
  if (totals && sample->pools->len > 0) {
    sample->accepted = accepted;
    sample->rejected = rejected;
  }
}

/* One failed check as a vendor error: "e" an error, "w" a warning, any
 * other letter of unknown weight. The codes are not documented; the
 * firmware's own code and msg are passed on, the area is the component. */
static void
add_check_error(AmSample *sample, JsonObject *check, const char *type, const char *status)
{
  AmErrorSeverity severity = AM_ERROR_SEVERITY_UNKNOWN;
  if (g_ascii_strcasecmp(status, "e") == 0)
    severity = AM_ERROR_SEVERITY_ERROR;
  else if (g_ascii_strcasecmp(status, "w") == 0)
    severity = AM_ERROR_SEVERITY_WARNING;
  gint64 code = am_json_int(check, "code", AM_UNKNOWN);
  g_autofree char *code_text = code >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT, code) : NULL;
  const char *msg = nonblank_string(check, "msg");
  g_autofree char *message =
      msg != NULL ? g_strdup(msg) : g_strdup_printf("%s check: %s", type, status);
  am_sample_add_error(sample, code_text, message, type, severity);
}

/* summary.cgi's status[] is the firmware's own health check per area
 * ("rate", "network", "fans", "temp", each with code and msg); "s" is
 * success and a hydro unit's fans check is "". Kept as an extra
 * {type: status}; any other status becomes a vendor error. */
static void
read_checks(AmSample *sample, JsonObject *summary_block)
{
  JsonArray *checks = am_json_array(summary_block, "status");
  guint n = checks != NULL ? json_array_get_length(checks) : 0;
  if (n == 0)
    return;
  JsonObject *out = json_object_new();
  for (guint i = 0; i < n; i++) {
    JsonObject *check = am_json_array_object(checks, i);
    const char *type = am_json_string(check, "type");
    const char *status = am_json_string(check, "status");
    if (type == NULL || status == NULL)
      continue;
    json_object_set_string_member(out, type, status);
    if (*status != '\0' && g_ascii_strcasecmp(status, "s") != 0)
      add_check_error(sample, check, type, status);
  }
  JsonNode *node = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(node, out);
  am_sample_set_extra(sample, "checks", node);
}

/* ---- mode and light (the confirmations of actions) ---------------------- */

gboolean
am_antminer_web_read_miner_conf(AmSample *sample, JsonObject *conf)
{
  gint mode = am_antminer_web_conf_mode(conf);
  static const char *const names[] = {
      [AM_ANTMINER_MODE_NORMAL] = AM_WORK_MODE_NORMAL,
      [AM_ANTMINER_MODE_HIGH] = AM_WORK_MODE_HIGH,
      [AM_ANTMINER_MODE_LOW] = AM_WORK_MODE_LOW,
  };
  if (mode < 0)
    return FALSE;
  if (mode == AM_ANTMINER_MODE_SLEEP) {
    sample->mining = AM_MINING_SLEEPING;
    return TRUE;
  }
  /* A mode the table does not know is still not sleep. */
  sample->mining = AM_MINING_HASHING;
  if (mode < (gint)G_N_ELEMENTS(names) && names[mode] != NULL)
    am_sample_set(sample, &sample->work_mode, names[mode]);
  return TRUE;
}

/* true/false, or the strings "true"/"false"/"1"/"0" some images write. */
static gboolean
read_flag(JsonObject *obj, const char *key, gboolean *out)
{
  JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return FALSE;
  if (json_node_get_value_type(node) == G_TYPE_BOOLEAN) {
    *out = json_node_get_boolean(node);
    return TRUE;
  }
  if (json_node_get_value_type(node) != G_TYPE_STRING)
    return FALSE;
  const char *s = json_node_get_string(node);
  if (g_ascii_strcasecmp(s, "true") == 0 || g_str_equal(s, "1"))
    *out = TRUE;
  else if (g_ascii_strcasecmp(s, "false") == 0 || g_str_equal(s, "0"))
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

gboolean
am_antminer_web_read_blink(AmSample *sample, JsonObject *reply)
{
  gboolean on = FALSE;
  if (!read_flag(reply, "blink", &on) && !read_flag(reply, "isBlinking", &on))
    return FALSE;
  sample->locate = on ? TRUE : FALSE;
  return TRUE;
}

/* ---- the whole sample --------------------------------------------------- */

static gboolean
check_replies(const AmAntminerWebReplies *r, GError **error)
{
  if (r->summary == NULL && r->stats == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "no summary.cgi or stats.cgi reply");
    return FALSE;
  }
  if (usable(r->summary) == NULL && usable(r->stats) == NULL) {
    /* Both answered with an error STATUS: say what the firmware said. */
    am_rpc_check_status(r->stats != NULL ? r->stats : r->summary, error);
    return FALSE;
  }
  return TRUE;
}

AmMatch
am_antminer_web_match(const AmFingerprint *fp)
{
  if (fp == NULL || !fp->http_open || fp->http_status != 401)
    return AM_MATCH_UNSUPPORTED;
  return g_strcmp0(fp->http_realm, AM_ANTMINER_WEB_REALM) == 0 ? AM_MATCH_SUPPORTED
                                                               : AM_MATCH_UNSUPPORTED;
}

AmSample *
am_antminer_web_parse(const AmAntminerWebReplies *r, GError **error)
{
  g_return_val_if_fail(r != NULL, NULL);
  if (!check_replies(r, error))
    return NULL;
  JsonObject *summary = usable(r->summary), *stats = usable(r->stats);
  JsonObject *summary_block = am_json_array_object(am_json_array(summary, "SUMMARY"), 0);
  JsonObject *stats_block = am_json_array_object(am_json_array(stats, "STATS"), 0);
  if (summary_block == NULL && stats_block == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        "neither summary.cgi nor stats.cgi has its data block");
    return NULL;
  }

  g_autoptr(AmSample) sample = am_sample_new();
  am_sample_set(sample, &sample->driver, DRIVER_NAME);
  am_sample_set(sample, &sample->firmware, "stock");
  read_info(sample, stats);
  read_info(sample, summary);
  am_antminer_web_read_system_info(sample, usable(r->system_info));
  const AmAntminerModel *entry = am_antminer_model_lookup(sample->model);
  if (entry != NULL)
    am_sample_set(sample, &sample->model, entry->name);
  am_sample_set(sample, &sample->algorithm,
                entry != NULL ? entry->algorithm : guess_algorithm(sample->model));

  const char *stats_unit = rate_unit(stats_block, sample->algorithm);
  const char *summary_unit = rate_unit(summary_block, sample->algorithm);
  sample->hashrate_ths =
      first_rate(stats_block, stats_unit, summary_block, summary_unit, "rate_5s");
  sample->hashrate_avg_ths =
      first_rate(stats_block, stats_unit, summary_block, summary_unit, "rate_avg");
  sample->hashrate_ideal_ths =
      first_rate(stats_block, stats_unit, summary_block, summary_unit, "rate_ideal");
  sample->elapsed_s = am_json_int(stats_block, "elapsed", AM_UNKNOWN);
  if (sample->elapsed_s < 0)
    sample->elapsed_s = am_json_int(summary_block, "elapsed", AM_UNKNOWN);
  sample->hw_errors = am_json_int(summary_block, "hw_all", AM_UNKNOWN);
  double best = am_json_double(summary_block, "bestshare");
  if (best >= 0)
    sample->best_share = best;
  if (entry != NULL && entry->chains > 0)
    sample->chains_expected = entry->chains;

  if (stats_block != NULL) {
    read_chains(sample, stats_block, stats_unit, entry);
    read_cooling(sample, stats_block, entry);
    read_power(sample, stats_block);
  }
  read_pools(sample, usable(r->pools));
  read_checks(sample, summary_block);
  am_antminer_web_read_miner_conf(sample, r->miner_conf);
  am_antminer_web_read_blink(sample, r->blink);
  return g_steal_pointer(&sample);
}

/* A mode value: 1, or "1" as older images write it. -1 otherwise. */
static gint
mode_value(JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return -1;
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_INT64) {
    gint64 v = json_node_get_int(node);
    return v >= 0 && v <= 99 ? (gint)v : -1;
  }
  if (type != G_TYPE_STRING)
    return -1;
  const char *s = json_node_get_string(node);
  char *end = NULL;
  long v = strtol(s, &end, 10);
  return end != s && *end == '\0' && v >= 0 && v <= 99 ? (gint)v : -1;
}

gint
am_antminer_web_conf_mode(JsonObject *conf)
{
  if (conf == NULL)
    return -1;
  gint mode = mode_value(json_object_get_member(conf, "miner-mode"));
  return mode >= 0 ? mode : mode_value(json_object_get_member(conf, "bitmain-work-mode"));
}
