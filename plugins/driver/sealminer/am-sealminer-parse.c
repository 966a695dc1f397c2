/* SealMiner (BDMiner) replies -> AmSample. See am-sealminer-parse.h and
 * README.md. */
#include "am-sealminer-parse.h"

#include "../common/am-cgminer-common.h"
#include "../proto/am-rest-call.h"

#include <math.h>
#include <string.h>

/* The stats block numbers boards and fans from 0; a garbled "Board Count"
 * must not make us look up millions of keys. */
#define MAX_BOARDS 16
#define MAX_FANS 16

AmMatch
am_sealminer_match(const AmFingerprint *fp)
{
  if (fp->version != NULL && json_object_has_member(fp->version, "BDMiner"))
    return AM_MATCH_SUPPORTED;
  if (am_cgminer_contains_ci(fp->description, "bdminer"))
    return AM_MATCH_SUPPORTED;
  return AM_MATCH_UNSUPPORTED;
}

JsonObject *
am_sealminer_parse_web(const char *path, const char *data, gsize len, GError **error)
{
  g_autofree char *what = g_strdup_printf("GET %s", path);
  g_autoptr(JsonNode) root = am_rest_parse_json(what, data, len, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not a JSON object", what);
    return NULL;
  }
  return json_object_ref(json_node_get_object(root));
}

/* ---- small readers ------------------------------------------------------ */

/* Member "<board> <name>" of the stats block ("0 MHS(Sample)"). */
static double
board_double(JsonObject *stats, guint board, const char *name)
{
  g_autofree char *key = g_strdup_printf("%u %s", board, name);
  return am_json_double(stats, key);
}

static gint64
board_int(JsonObject *stats, guint board, const char *name)
{
  g_autofree char *key = g_strdup_printf("%u %s", board, name);
  return am_json_int(stats, key, AM_UNKNOWN);
}

static const char *
board_string(JsonObject *stats, guint board, const char *name)
{
  g_autofree char *key = g_strdup_printf("%u %s", board, name);
  return am_json_string(stats, key);
}

/* BDMiner's hashrates are in MH/s, as the key says ("MHS(Ideal)"). */
static double
mhs_to_ths(double mhs)
{
  return isnan(mhs) ? NAN : am_hashrate_to_ths(mhs, "MH");
}

static void
set_extra_string(AmSample *s, const char *key, const char *value)
{
  if (value != NULL && *value != '\0')
    am_sample_set_extra(s, key, json_node_init_string(json_node_alloc(), value));
}

static void
set_extra_double(AmSample *s, const char *key, double value)
{
  if (!isnan(value))
    am_sample_set_extra(s, key, json_node_init_double(json_node_alloc(), value));
}

/* ---- stats: identity, totals, PSU --------------------------------------- */

static void
read_identity(AmSample *s, JsonObject *stats)
{
  const char *model = am_json_string(stats, "Model");
  if (model != NULL && *model != '\0') {
    g_autofree char *full = g_strdup_printf("SealMiner %s", model);
    am_sample_set(s, &s->model, full);
  }
  am_sample_set(s, &s->firmware_version, am_json_string(stats, "Firmware"));
  am_sample_set(s, &s->serial, am_json_string(stats, "Ctrl Board SN"));
  g_autofree char *mac = am_cgminer_format_mac(am_json_string(stats, "MAC"));
  am_sample_set(s, &s->mac, mac);
  set_extra_string(s, "software_version", am_json_string(stats, "Software Version"));
  set_extra_string(s, "control_board", am_json_string(stats, "Ctrl Board"));
  set_extra_string(s, "asic", am_json_string(stats, "ASIC"));
  set_extra_string(s, "tune_status", am_json_string(stats, "Tune Status"));
}

/* "Normal" -> "normal": the house words for the three stock modes, the
 * firmware's own name for any other. */
static void
read_work_mode(AmSample *s, const char *mode)
{
  if (mode == NULL || *mode == '\0')
    return;
  static const char *const known[] = {"low", "normal", "high"};
  for (guint i = 0; i < G_N_ELEMENTS(known); i++)
    if (g_ascii_strcasecmp(mode, known[i]) == 0) {
      am_sample_set(s, &s->work_mode, known[i]);
      return;
    }
  am_sample_set(s, &s->work_mode, mode);
}

static void
read_totals(AmSample *s, JsonObject *stats)
{
  s->hashrate_ideal_ths = mhs_to_ths(am_json_double(stats, "MHS(Ideal)"));
  set_extra_double(s, "rated_ths", mhs_to_ths(am_json_double(stats, "MHS(Rated)")));
  s->power_limit_w = am_json_double(stats, "Power Limit");
  read_work_mode(s, am_json_string(stats, "Mining Mode"));
  const char *pm_state = am_json_string(stats, "PM State");
  set_extra_string(s, "pm_state", pm_state);
  /* "Running" is the only state the recorded replies and asic-rs show. */
  if (g_strcmp0(pm_state, "Running") == 0)
    s->mining = AM_MINING_HASHING;
  gint64 uptime = am_json_int(stats, "System Uptime", AM_UNKNOWN);
  if (uptime >= 0)
    am_sample_set_extra(s, "system_uptime_s", json_node_init_int(json_node_alloc(), uptime));
  gboolean liquid = FALSE;
  if (am_cgminer_get_bool(stats, "Liquid Cooling", &liquid))
    s->liquid_cooled = liquid;
}

static void
read_psu_stats(AmSample *s, JsonObject *stats)
{
  s->psu_power_in_w = am_json_double(stats, "PSU Input Power");
  s->psu_power_out_w = am_json_double(stats, "PSU Output Power");
  s->psu_fan_rpm = am_json_double(stats, "PSU Fan Speed");
  am_sample_set(s, &s->psu_serial, am_json_string(stats, "PSU SN"));
  set_extra_string(s, "psu_model", am_json_string(stats, "PSU Model"));
  set_extra_string(s, "psu_firmware", am_json_string(stats, "PSU Firmware"));
  set_extra_double(s, "psu_input_voltage_v", am_json_double(stats, "PSU Input Voltage"));
  set_extra_double(s, "psu_output_voltage_v", am_json_double(stats, "PSU Output Voltage"));
  set_extra_double(s, "psu_output_current_a", am_json_double(stats, "PSU Output Current"));
  set_extra_double(s, "psu_temp_c", am_json_double(stats, "PSU Temp AMB"));
}

/* ---- stats: boards and fans --------------------------------------------- */

/* Four sensors per board whose places the firmware does not name: the
 * hottest valid one is the board's reading. Unknown when the board lacks a
 * sensor key another board has: the hottest of the rest is another number. */
static double
board_temp(JsonObject *stats, guint b, guint boards)
{
  double hottest = NAN;
  for (guint t = 0; t < 4; t++) {
    g_autofree char *name = g_strdup_printf("Temp %u", t);
    g_autofree char *key = g_strdup_printf("%u %s", b, name);
    if (!json_object_has_member(stats, key)) {
      for (guint other = 0; other < boards; other++) {
        g_autofree char *theirs = g_strdup_printf("%u %s", other, name);
        if (json_object_has_member(stats, theirs))
          return NAN;
      }
      continue;
    }
    double c = board_double(stats, b, name);
    if (am_temp_is_valid(c) && (isnan(hottest) || c > hottest))
      hottest = c;
  }
  return hottest;
}

static void
read_board(AmSample *s, JsonObject *stats, guint b, guint boards)
{
  AmChain *chain = am_sample_add_chain(s, (gint)b);
  chain->hashrate_ths = mhs_to_ths(board_double(stats, b, "MHS(Sample)"));
  chain->frequency_mhz = board_double(stats, b, "Freq");
  gint64 chips = board_int(stats, b, "Chip Count");
  gint64 bad = board_int(stats, b, "Bad Chip Count");
  chain->chips = chips >= 0 && chips <= G_MAXINT ? (gint)chips : AM_UNKNOWN;
  chain->chips_failed = bad >= 0 && bad <= G_MAXINT ? (gint)bad : AM_UNKNOWN;
  if (chain->chips >= 0 && chain->chips_failed >= 0 && chain->chips_failed <= chain->chips)
    chain->chips_ok = chain->chips - chain->chips_failed;
  chain->temp_board_c = board_temp(stats, b, boards);
  double board_temp = chain->temp_board_c;
  const char *serial = board_string(stats, b, "SN");
  if (serial != NULL)
    am_sample_set_chain_serial(s, s->chains->len - 1, serial);
  if (!isnan(board_temp))
    am_sample_add_temp(s, board_temp);
}

static void
read_boards(AmSample *s, JsonObject *stats)
{
  gint64 boards = am_json_int(stats, "Board Count", AM_UNKNOWN);
  for (gint64 b = 0; b < MIN(boards, MAX_BOARDS); b++)
    read_board(s, stats, (guint)b, (guint)MIN(boards, MAX_BOARDS));
}

static void
read_fans(AmSample *s, JsonObject *stats)
{
  gint64 fans = am_json_int(stats, "Fan Count", AM_UNKNOWN);
  if (fans < 0)
    return;
  s->fans_expected = (gint)MIN(fans, MAX_FANS);
  for (gint64 f = 0; f < s->fans_expected; f++)
    am_sample_add_fan(s, board_double(stats, (guint)f, "Speed"));
}

/* "Error Code" and "PSU Error" are empty or zero when all is well. */
static void
read_stats_errors(AmSample *s, JsonObject *stats)
{
  const char *code = am_json_string(stats, "Error Code");
  if (code != NULL && *code != '\0') {
    const char *chip = am_json_string(stats, "Error Chip");
    g_autofree char *message = chip != NULL && *chip != '\0'
                                   ? g_strdup_printf("BDMiner error %s (chip %s)", code, chip)
                                   : g_strdup_printf("BDMiner error %s", code);
    am_sample_add_error(s, code, message, NULL, AM_ERROR_SEVERITY_ERROR);
  }
  const char *psu = am_json_string(stats, "PSU Error");
  if (psu != NULL && g_ascii_strtoull(psu, NULL, 0) != 0) {
    g_autofree char *message = g_strdup_printf("PSU error %s", psu);
    am_sample_add_error(s, psu, message, "psu", AM_ERROR_SEVERITY_ERROR);
  }
}

/* ---- summary ------------------------------------------------------------ */

static void
read_summary_extras(AmSample *s, JsonObject *reply)
{
  JsonObject *summary = am_cgminer_section(reply, "SUMMARY");
  s->best_share = am_json_double(summary, "Best Share");
  s->found_blocks = am_json_int(summary, "Found Blocks", AM_UNKNOWN);
}

/* ---- the web replies ---------------------------------------------------- */

static void
read_system_info(AmSample *s, JsonObject *info)
{
  if (s->serial == NULL)
    am_sample_set(s, &s->serial, am_json_string(info, "crtl_sn"));
  if (s->mac == NULL) {
    g_autofree char *mac = am_cgminer_format_mac(am_json_string(info, "macaddr"));
    am_sample_set(s, &s->mac, mac);
  }
  if (s->firmware_version == NULL)
    am_sample_set(s, &s->firmware_version, am_json_string(info, "firmware_version"));
  const char *type = am_json_string(info, "miner_type");
  if (s->model == NULL && type != NULL && *type != '\0') {
    g_autofree char *full = g_strdup_printf("SealMiner %s", type);
    am_sample_set(s, &s->model, full);
  }
  set_extra_string(s, "led", am_json_string(info, "led"));
}

/* miner-psu-status: the PSU's word on its own state; "Power" stands in when
 * the stats block did not come. */
static void
read_psu_status(AmSample *s, JsonObject *psu)
{
  if (isnan(s->psu_power_in_w))
    s->psu_power_in_w = am_json_double(psu, "Power");
  set_extra_double(s, "psu_status_temp_c", am_json_double(psu, "Temp"));
  const char *code = am_json_string(psu, "StatusCode");
  set_extra_string(s, "psu_status_code", code);
  if (code != NULL && g_ascii_strtoull(code, NULL, 0) != 0) {
    g_autofree char *message = g_strdup_printf("PSU status %s", code);
    am_sample_add_error(s, code, message, "psu", AM_ERROR_SEVERITY_ERROR);
  }
}

/* ---- the whole poll ----------------------------------------------------- */

AmSample *
am_sealminer_parse(const AmSealminerReplies *r, GError **error)
{
  JsonObject *stats = am_cgminer_stats_block(r->stats);
  gboolean has_summary = am_cgminer_section(r->summary, "SUMMARY") != NULL;
  if (stats == NULL && !has_summary) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "neither \"stats\" nor \"summary\" gave a reading");
    return NULL;
  }
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, "sealminer");
  am_sample_set(s, &s->firmware, "BDMiner");
  am_sample_set(s, &s->algorithm, "sha256d");
  if (has_summary) {
    am_cgminer_read_summary(s, r->summary);
    read_summary_extras(s, r->summary);
  }
  if (stats != NULL) {
    /* The stats block's own windows only when "summary" was not answered
     * at all (the poll is then marked partial): they are other counters
     * (MHS(Avg) 218.7 TH/s beside the summary's "MHS av" 206.9 at the same
     * Elapsed), so they never fill a key a summary reply lost. */
    if (r->summary == NULL) {
      s->hashrate_ths = mhs_to_ths(am_json_double(stats, "MHS(30s)"));
      s->hashrate_avg_ths = mhs_to_ths(am_json_double(stats, "MHS(Avg)"));
    }
    read_identity(s, stats);
    read_totals(s, stats);
    read_psu_stats(s, stats);
    read_boards(s, stats);
    read_fans(s, stats);
    read_stats_errors(s, stats);
  }
  if (r->pools != NULL)
    am_cgminer_read_pools(s, r->pools);
  JsonObject *version = am_cgminer_section(r->version, "VERSION");
  set_extra_string(s, "bdminer_version", am_json_string(version, "BDMiner"));
  set_extra_string(s, "api_version", am_json_string(version, "API"));
  if (r->system_info != NULL)
    read_system_info(s, r->system_info);
  if (r->psu_status != NULL)
    read_psu_status(s, r->psu_status);
  /* The PSU's input is the miner's draw. */
  s->power_w = s->psu_power_in_w;
  if (!isnan(s->power_w))
    s->power_source = AM_POWER_SOURCE_REPORTED;
  return g_steal_pointer(&s);
}
