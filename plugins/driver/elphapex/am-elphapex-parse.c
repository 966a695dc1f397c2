/* The elphapex normalizer. Which rules rest on real replies and which are
 * assumptions is listed in README.md next to this file. */
#include "am-elphapex-parse.h"

#include "../antminer-web/am-antminer-web-parse.h"
#include "../common/am-cgminer-common.h"

#include <math.h>
#include <string.h>

#define DRIVER_NAME "elphapex"
#define FIRMWARE_NAME "Elphapex"
#define MAKER "Elphapex"

/* No single miner draws this much; a larger reading is not one. */
#define MAX_POWER_W 100000.0

static const struct {
  const char *path;
  const char *name;
} endpoints[AM_ELPHAPEX_N_ENDPOINTS] = {
    [AM_ELPHAPEX_STATS] = {"/cgi-bin/stats.cgi", "stats.cgi"},
    [AM_ELPHAPEX_SUMMARY] = {"/cgi-bin/summary.cgi", "summary.cgi"},
    [AM_ELPHAPEX_POOLS] = {"/cgi-bin/pools.cgi", "pools.cgi"},
    [AM_ELPHAPEX_SYSTEM_INFO] = {"/cgi-bin/get_system_info.cgi", "get_system_info.cgi"},
    [AM_ELPHAPEX_POWER] = {"/cgi-bin/get_power.cgi", "get_power.cgi"},
    [AM_ELPHAPEX_BLINK] = {"/cgi-bin/get_blink_status.cgi", "get_blink_status.cgi"},
    [AM_ELPHAPEX_MINER_CONF] = {"/cgi-bin/get_miner_conf.cgi", "get_miner_conf.cgi"},
};

const char *
am_elphapex_path(AmElphapexEndpoint e)
{
  g_return_val_if_fail(e < AM_ELPHAPEX_N_ENDPOINTS, NULL);
  return endpoints[e].path;
}

const char *
am_elphapex_name(AmElphapexEndpoint e)
{
  g_return_val_if_fail(e < AM_ELPHAPEX_N_ENDPOINTS, NULL);
  return endpoints[e].name;
}

/* ---- small readers ------------------------------------------------------ */

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

/* A whole number from 0 up (a JSON number or a numeric string), else
 * AM_UNKNOWN. Read through a double with a bound, so a huge value is
 * unknown rather than an overflow. */
static gint64
count(JsonObject *obj, const char *key)
{
  double value = am_json_double(obj, key);
  if (isnan(value) || value < 0 || value >= 9.0e18)
    return AM_UNKNOWN;
  return (gint64)value;
}

static gint
small_count(JsonObject *obj, const char *key)
{
  gint64 n = count(obj, key);
  return n >= 0 && n <= G_MAXINT ? (gint)n : AM_UNKNOWN;
}

/* Element @i of @array read as a number: the firmware writes some readings
 * as numbers (temp_pcb) and some as strings (temp_chip, fan); an empty
 * string is a sensor that did not answer. NAN when not a number. */
static double
element_number(JsonArray *array, guint i)
{
  JsonNode *node = json_array_get_element(array, i);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return NAN;
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE) {
    double v = json_node_get_double(node);
    return isfinite(v) ? v : NAN;
  }
  double value = NAN;
  if (type == G_TYPE_STRING && am_parse_number(json_node_get_string(node), &value))
    return value;
  return NAN;
}

/* The hottest plausible reading of a temperature array after dividing by
 * @scale (1 for degrees, 1000 for milli-degrees). A board is as hot as its
 * hottest spot; 0, "" and out-of-range values are not readings. */
static double
hottest(JsonArray *readings, double scale)
{
  double max = NAN;
  guint n = readings != NULL ? json_array_get_length(readings) : 0;
  for (guint i = 0; i < n; i++) {
    double v = element_number(readings, i) / scale;
    if (am_temp_is_valid(v) && v > 0 && (isnan(max) || v > max))
      max = v;
  }
  return max;
}

static void
set_extra_string(AmSample *sample, const char *key, const char *value)
{
  if (value != NULL)
    am_sample_set_extra(sample, key, json_node_init_string(json_node_alloc(), value));
}

static void
set_extra_double(AmSample *sample, const char *key, double value)
{
  if (!isnan(value))
    am_sample_set_extra(sample, key, json_node_init_double(json_node_alloc(), value));
}

/* @reply when its STATUS (an object here, "S" for success) is not an
 * error, else NULL. */
static JsonObject *
usable(JsonObject *reply)
{
  return reply != NULL && am_rpc_check_status(reply, NULL) ? reply : NULL;
}

/* ---- identity ----------------------------------------------------------- */

/* INFO.type is the bare model ("DG-Home1"); the maker goes in front, as
 * other drivers' models read "Antminer S19", unless it is there already. */
static void
set_model(AmSample *sample, const char *type)
{
  g_autofree char *model = am_cgminer_clean_model(type);
  if (model == NULL || sample->model != NULL)
    return;
  if (am_cgminer_contains_ci(model, MAKER))
    am_sample_set(sample, &sample->model, model);
  else {
    g_autofree char *full = g_strdup_printf(MAKER " %s", model);
    am_sample_set(sample, &sample->model, full);
  }
}

/* The INFO object stats.cgi, summary.cgi and pools.cgi all carry: the model
 * (type), the unit's serial (dev_sn), the control board (hw_version) and
 * the miner program's version (miner_version). */
static void
read_info(AmSample *sample, JsonObject *reply)
{
  JsonObject *info = am_json_object(reply, "INFO");
  if (info == NULL)
    return;
  set_model(sample, am_json_string(info, "type"));
  if (sample->serial == NULL)
    am_sample_set(sample, &sample->serial, nonblank_string(info, "dev_sn"));
  if (!json_object_has_member(sample->extras, "x_" DRIVER_NAME "_hw_version"))
    set_extra_string(sample, "hw_version", nonblank_string(info, "hw_version"));
  if (!json_object_has_member(sample->extras, "x_" DRIVER_NAME "_miner_version"))
    set_extra_string(sample, "miner_version", nonblank_string(info, "miner_version"));
}

/* get_system_info.cgi: MAC, host name and firmware version through
 * antminer-web's reader (same layout), plus the algorithm it names. */
static void
read_system_info(AmSample *sample, JsonObject *reply)
{
  if (reply == NULL)
    return;
  am_antminer_web_read_system_info(sample, reply);
  /* The reader sets a bare minertype when no INFO gave a model. */
  if (sample->model != NULL && !am_cgminer_contains_ci(sample->model, MAKER)) {
    g_autofree char *bare = g_strdup(sample->model);
    am_sample_set(sample, &sample->model, NULL);
    set_model(sample, bare);
  }
  const char *algorithm = nonblank_string(reply, "Algorithm");
  if (algorithm != NULL) {
    g_autofree char *lower = g_ascii_strdown(algorithm, -1);
    am_sample_set(sample, &sample->algorithm, g_strstrip(lower));
  }
}

/* ---- hashrate ----------------------------------------------------------- */

/* Member @key of @block in TH/s using the block's rate_unit ("MH/s" on
 * every recorded reply). Without a unit the value is not guessed. */
static double
rate_ths(JsonObject *block, const char *key)
{
  const char *unit = am_json_string(block, "rate_unit");
  double value = am_json_double(block, key);
  if (unit == NULL || isnan(value) || value < 0)
    return NAN;
  return am_hashrate_to_ths(value, unit);
}

/* stats.cgi's value, else summary.cgi's (both carry the same rates). */
static double
first_rate(JsonObject *stats_block, JsonObject *summary_block, const char *key)
{
  double value = rate_ths(stats_block, key);
  return !isnan(value) ? value : rate_ths(summary_block, key);
}

static void
read_rates(AmSample *sample, JsonObject *stats_block, JsonObject *summary_block)
{
  sample->hashrate_ths = first_rate(stats_block, summary_block, "rate_5s");
  sample->hashrate_avg_ths = first_rate(stats_block, summary_block, "rate_avg");
  sample->hashrate_ideal_ths = first_rate(stats_block, summary_block, "rate_ideal");
  sample->elapsed_s = count(stats_block, "elapsed");
  if (sample->elapsed_s < 0)
    sample->elapsed_s = count(summary_block, "elapsed");
  sample->hw_errors = count(summary_block, "hw_all");
  double best = am_json_double(summary_block, "bestshare");
  sample->best_share = !isnan(best) && best >= 0 ? best : NAN;
  /* hwp_total: the hardware-error share the web page shows, as given. */
  set_extra_double(sample, "hw_percent", am_json_double(stats_block, "hwp_total"));
}

/* ---- hash boards -------------------------------------------------------- */

/* The firmware lists every board slot (chain_num, four on the DG Home 1).
 * An empty slot has no chips, no serial and no chip readings; its temp_pcb
 * repeats the unit's sensors. It is skipped, so it shows as no board rather
 * than a dead one. */
static gboolean
is_empty_slot(JsonObject *board)
{
  return count(board, "asic_num") <= 0 && nonblank_string(board, "sn") == NULL &&
         isnan(hottest(am_json_array(board, "temp_chip"), 1000.0));
}

/* One board: rate_real (rate_unit of the block), asic_num, the hottest of
 * temp_pcb (degrees) and of temp_chip (milli-degree strings), freq_avg
 * (kHz), hw and the board's serial. The chip map "asic" is not read: the
 * recorded reply shows the same 37 'o' on boards with 0 and 120 chips. */
static void
read_chain(AmSample *sample, JsonObject *block, JsonObject *board, guint position)
{
  gint64 index = count(board, "index");
  AmChain *chain = am_cgminer_chain(
      sample, index >= 0 && index < AM_CGMINER_MAX_CHAINS ? (gint)index : (gint)position);
  double rate = am_json_double(board, "rate_real");
  const char *unit = am_json_string(block, "rate_unit");
  chain->hashrate_ths =
      unit != NULL && !isnan(rate) && rate >= 0 ? am_hashrate_to_ths(rate, unit) : NAN;
  chain->chips = small_count(board, "asic_num");
  chain->hw_errors = count(board, "hw");
  chain->temp_board_c = hottest(am_json_array(board, "temp_pcb"), 1.0);
  chain->temp_chip_c = hottest(am_json_array(board, "temp_chip"), 1000.0);
  double khz = am_json_double(board, "freq_avg");
  chain->frequency_mhz = !isnan(khz) && khz > 0 ? khz / 1000.0 : NAN;
  if (!isnan(chain->temp_board_c))
    am_sample_add_temp(sample, chain->temp_board_c);
  if (!isnan(chain->temp_chip_c))
    am_sample_add_chip_temp(sample, chain->temp_chip_c);
  const char *sn = nonblank_string(board, "sn");
  if (sn != NULL) {
    /* am_cgminer_chain() may have found an existing chain: its position. */
    for (guint i = 0; i < sample->chains->len; i++)
      if (&g_array_index(sample->chains, AmChain, i) == chain)
        am_sample_set_chain_serial(sample, i, sn);
  }
}

static void
read_chains(AmSample *sample, JsonObject *block)
{
  JsonArray *boards = am_json_array(block, "chain");
  guint n = boards != NULL ? MIN(json_array_get_length(boards), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *board = am_json_array_object(boards, i);
    if (board != NULL && !is_empty_slot(board))
      read_chain(sample, block, board, i);
  }
  gint slots = small_count(block, "chain_num");
  if (slots >= 0)
    am_sample_set_extra(sample, "chain_slots", json_node_init_int(json_node_alloc(), slots));
}

/* fan[] holds RPM as strings ("420"); fan_num is how many headers the
 * firmware watches. A stopped fan (0) is dropped by am_sample_add_fan. */
static void
read_fans(AmSample *sample, JsonObject *block)
{
  JsonArray *fans = am_json_array(block, "fan");
  guint n = fans != NULL ? json_array_get_length(fans) : 0;
  for (guint i = 0; i < n; i++)
    am_sample_add_fan(sample, element_number(fans, i));
  sample->liquid_cooled = FALSE;
  sample->fans_expected = small_count(block, "fan_num");
}

/* ---- power, light, mode ------------------------------------------------- */

/* get_power.cgi: the PSU's own output reading (W, a string), its serial
 * and its temperature (a string in an undocumented unit: kept as given). */
static void
read_power(AmSample *sample, JsonObject *reply)
{
  if (reply == NULL)
    return;
  double watts = am_json_double(reply, "power_output");
  if (!isnan(watts) && watts > 0 && watts < MAX_POWER_W) {
    sample->power_w = watts;
    sample->power_source = AM_POWER_SOURCE_REPORTED;
    sample->psu_power_out_w = watts;
  }
  am_sample_set(sample, &sample->psu_serial, nonblank_string(reply, "power_sn"));
  set_extra_double(sample, "psu_temp_raw", am_json_double(reply, "power_temp"));
}

/* get_blink_status.cgi: whether the locate light is flashing. */
static void
read_blink(AmSample *sample, JsonObject *reply)
{
  gboolean blink = FALSE;
  if (am_cgminer_get_bool(reply, "blink", &blink))
    am_sample_set_extra(sample, "blink", json_node_init_boolean(json_node_alloc(), blink));
}

/* get_miner_conf.cgi fc-work-mode, numbered as on Bitmain's stock
 * firmware: 0 normal, 1 sleep, 2 high, 3 low. Sleep means the unit is
 * idle on purpose. fc-freq-level is the tuning percentage. */
static void
read_miner_conf(AmSample *sample, JsonObject *reply)
{
  static const char *const modes[] = {"normal", "sleep", "high", "low"};
  gint64 mode = count(reply, "fc-work-mode");
  if (mode >= 0 && mode < (gint64)G_N_ELEMENTS(modes))
    am_sample_set(sample, &sample->work_mode, modes[mode]);
  if (mode == 1)
    sample->mining = AM_MINING_SLEEPING;
  set_extra_double(sample, "freq_level_pct", am_json_double(reply, "fc-freq-level"));
}

/* Hashing is what a unit with a current hashrate does; without one the
 * state is not guessed (a unit at boot and a stuck one both read 0). */
static void
read_mining_state(AmSample *sample)
{
  if (sample->mining == AM_MINING_UNKNOWN && !isnan(sample->hashrate_ths) &&
      sample->hashrate_ths > 0)
    sample->mining = AM_MINING_HASHING;
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
    return NULL; /* an empty slot of the three-pool table */
  AmPool *pool = am_sample_add_pool(sample, url, nonblank_string(entry, "user"));
  pool->status = g_strdup(nonblank_string(entry, "status"));
  pool->priority = small_count(entry, "priority");
  pool->accepted = count(entry, "accepted");
  pool->rejected = count(entry, "rejected");
  pool->stale = count(entry, "stale");
  return pool;
}

/* pools.cgi has no "Stratum Active": the pool receiving work is the
 * best-priority Alive one, as cgminer's failover picks it. The sample's
 * share totals are the pools' sums. */
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
    if (g_ascii_strcasecmp(pool->status != NULL ? pool->status : "", "Alive") == 0 &&
        ranks_before(pool, active))
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

/* summary.cgi's status[]: the firmware's own check per area ("rate",
 * "network", "fans", "temp"). "s" is success and "" a check not run (the
 * recorded unit at boot). Anything else is a failed check, kept as a
 * vendor error with the firmware's code and words; its codes are not
 * documented, so it is a warning, not an error that degrades the sample. */
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
    if (status[0] == '\0' || g_ascii_strcasecmp(status, "s") == 0)
      continue;
    gint64 code = am_json_int(check, "code", AM_UNKNOWN);
    g_autofree char *code_text =
        code != AM_UNKNOWN ? g_strdup_printf("%" G_GINT64_FORMAT, code) : NULL;
    const char *msg = nonblank_string(check, "msg");
    g_autofree char *fallback = g_strdup_printf("%s check: %s", type, status);
    am_sample_add_error(sample, code_text, msg != NULL ? msg : fallback, type,
                        AM_ERROR_SEVERITY_WARNING);
  }
  JsonNode *node = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(node, out);
  am_sample_set_extra(sample, "checks", node);
}

/* ---- the whole sample --------------------------------------------------- */

JsonObject *
am_elphapex_parse_body(AmElphapexEndpoint e, const char *data, gsize len, GError **error)
{
  g_return_val_if_fail(e < AM_ELPHAPEX_N_ENDPOINTS, NULL);
  if (data == NULL || len == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: empty reply", endpoints[e].name);
    return NULL;
  }
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonNode) root = am_rpc_parse(data, len, &local);
  if (root == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not JSON: %s", endpoints[e].name,
                local->message);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not a JSON object", endpoints[e].name);
    return NULL;
  }
  return json_object_ref(json_node_get_object(root));
}

AmMatch
am_elphapex_match(const AmFingerprint *fp)
{
  if (fp == NULL || !fp->http_open || fp->http_status != 401 || fp->http_realm == NULL)
    return AM_MATCH_UNSUPPORTED;
  /* DG1 and DG Home units ask for "Daoge Miner" (Daoge is the maker's
   * former name); newer images are said to name Elphapex itself. */
  if (g_str_has_prefix(fp->http_realm, "Daoge") ||
      am_cgminer_contains_ci(fp->http_realm, AM_ELPHAPEX_REALM_NAME))
    return AM_MATCH_SUPPORTED;
  return AM_MATCH_UNSUPPORTED;
}

/* The STATS[0] / SUMMARY[0] data block of a usable reply, else NULL; a
 * reply that is there without one marks the sample partial. */
static JsonObject *
data_block(AmSample *sample, JsonObject *reply, const char *section, AmElphapexEndpoint e)
{
  if (reply == NULL)
    return NULL;
  g_autoptr(GError) error = NULL;
  if (!am_rpc_check_status(reply, &error)) {
    am_sample_mark_partial(sample, "%s: %s", endpoints[e].name, error->message);
    return NULL;
  }
  JsonObject *block = am_json_array_object(am_json_array(reply, section), 0);
  if (block == NULL)
    am_sample_mark_partial(sample, "%s: no %s data", endpoints[e].name, section);
  return block;
}

static gboolean
check_replies(const AmElphapexReplies *r, GError **error)
{
  JsonObject *stats = r->reply[AM_ELPHAPEX_STATS], *summary = r->reply[AM_ELPHAPEX_SUMMARY];
  if (stats == NULL && summary == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "no stats.cgi or summary.cgi reply");
    return FALSE;
  }
  if (usable(stats) == NULL && usable(summary) == NULL) {
    /* Both answered with an error STATUS: say what the firmware said. */
    am_rpc_check_status(stats != NULL ? stats : summary, error);
    return FALSE;
  }
  if (am_json_array_object(am_json_array(stats, "STATS"), 0) == NULL &&
      am_json_array_object(am_json_array(summary, "SUMMARY"), 0) == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        "neither stats.cgi nor summary.cgi has its data block");
    return FALSE;
  }
  return TRUE;
}

AmSample *
am_elphapex_parse(const AmElphapexReplies *r, GError **error)
{
  g_return_val_if_fail(r != NULL, NULL);
  if (!check_replies(r, error))
    return NULL;

  g_autoptr(AmSample) sample = am_sample_new();
  am_sample_set(sample, &sample->driver, DRIVER_NAME);
  am_sample_set(sample, &sample->firmware, FIRMWARE_NAME);
  /* Every Elphapex model (DG1, DG1+, DG Home) mines scrypt;
   * get_system_info's Algorithm overrides this when given. */
  am_sample_set(sample, &sample->algorithm, "scrypt");
  JsonObject *stats_block =
      data_block(sample, r->reply[AM_ELPHAPEX_STATS], "STATS", AM_ELPHAPEX_STATS);
  JsonObject *summary_block =
      data_block(sample, r->reply[AM_ELPHAPEX_SUMMARY], "SUMMARY", AM_ELPHAPEX_SUMMARY);

  read_info(sample, usable(r->reply[AM_ELPHAPEX_STATS]));
  read_info(sample, usable(r->reply[AM_ELPHAPEX_SUMMARY]));
  read_info(sample, usable(r->reply[AM_ELPHAPEX_POOLS]));
  read_system_info(sample, r->reply[AM_ELPHAPEX_SYSTEM_INFO]);
  /* The image version (system_filesystem_version) wins; else the miner
   * program's own (INFO.miner_version), the same string on the recording. */
  if (sample->firmware_version == NULL) {
    JsonNode *v = json_object_get_member(sample->extras, "x_" DRIVER_NAME "_miner_version");
    am_sample_set(sample, &sample->firmware_version, v != NULL ? json_node_get_string(v) : NULL);
  }
  const char *api =
      am_json_string(am_json_object(r->reply[AM_ELPHAPEX_SUMMARY], "STATUS"), "api_version");
  set_extra_string(sample, "api_version", api);

  read_rates(sample, stats_block, summary_block);
  if (stats_block != NULL) {
    read_chains(sample, stats_block);
    read_fans(sample, stats_block);
  }
  read_power(sample, r->reply[AM_ELPHAPEX_POWER]);
  read_pools(sample, usable(r->reply[AM_ELPHAPEX_POOLS]));
  read_checks(sample, summary_block);
  read_blink(sample, r->reply[AM_ELPHAPEX_BLINK]);
  read_miner_conf(sample, r->reply[AM_ELPHAPEX_MINER_CONF]);
  read_mining_state(sample);
  return g_steal_pointer(&sample);
}
