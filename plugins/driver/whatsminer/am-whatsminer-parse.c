/* Whatsminer replies -> AmSample. Pure: see am-whatsminer-parse.h.
 *
 * What the recorded replies show (tests/fixtures/btminer/):
 *  - SUMMARY carries what other firmware keeps in STATS: "Temperature",
 *    "Fan Speed In", "Fan Speed Out", plus "MHS 5s"/"MHS av" and the usual
 *    cgminer counters; Description is a plain "cgminer 4.9.2";
 *  - the M20S adds "Power Current" 258, "Power Fanspeed" 8160, "Uptime"
 *    (system uptime, not the miner's Elapsed) and "Liquid Cooling";
 *  - the "status" reply uses another layout: STATUS a string, Msg an object
 *    whose values are all strings ("mineroff":"false").
 *
 * Power: "Power Current" is not read as watts. An M20S hashing 65.4 TH/s
 * draws about 3.1-3.4 kW (48 J/TH class), so 258 cannot be W; it fits the
 * PSU's output current in A (258 A x ~12.5 V ~ 3.2 kW), but no document
 * confirms that, so it is kept raw as an extra and power stays unknown.
 * Newer firmware sends "Power" in W (the asic-rs v1 summary: "Power":3417
 * beside "Power Current":261, which fits 261 A at about 13 V): that one is
 * taken as reported power.
 *
 * The asic-rs v1/v2 replies (tests/fixtures/btminer/asicrs-*) add:
 *  - SUMMARY "Factory GHS" (the ideal, GH/s), "MAC", "Env Temp", "Power
 *    Limit", "Power_RT", "Chip Temp Max/Min/Avg", quoted "Firmware Version"
 *    ('20210322.22.REL'), "Error Code N" beside "Error Code Count"; the v2
 *    summary has no "MHS 5s", only "HS RT" (MH/s: it equals "MHS 5m" in the
 *    v1 reply) and "MHS av";
 *  - DEVS per board "Effective Chips" and "Chip Temp Max" (v2 has no
 *    "MHS 5s" there either, only "MHS av");
 *  - get_psu Msg: the PSU's name, model, sw_version and (v2) "fan_speed" as
 *    a string. Neither recorded get_psu reply has the PSU's input or output
 *    power, so none is read;
 *  - get_error_code Msg.error_code: [{"218":"2024-06-15 10:30:00"}, ...];
 *  - the v1 status Msg: "Firmware Version" (quoted) and "btmineroff". */
#include "am-whatsminer-parse.h"

#include "../common/am-cgminer-common.h"

#include <math.h>
#include <string.h>

#define DRIVER_NAME "whatsminer"

/* ---- match ------------------------------------------------------------- */

/* The Whatsminer API's own layout: STATUS a string, not the cgminer array. */
static gboolean
whatsminer_layout(JsonObject *reply)
{
  return am_json_string(reply, "STATUS") != NULL;
}

static gboolean
mentions(const AmFingerprint *fp, const char *word)
{
  return am_cgminer_contains_ci(fp->description, word) ||
         am_cgminer_object_mentions(fp->version, word);
}

/* Another vendor's model in the version reply rules Whatsminer out. */
static gboolean
other_vendor(const AmFingerprint *fp)
{
  const char *type = am_json_string(fp->version, "Type");
  return am_cgminer_contains_ci(type, "antminer") || mentions(fp, "avalon");
}

AmMatch
am_whatsminer_match(const AmFingerprint *fp)
{
  if (fp == NULL)
    return AM_MATCH_UNSUPPORTED;
  if (whatsminer_layout(fp->version_reply) || mentions(fp, "btminer") || mentions(fp, "bitmicro"))
    return AM_MATCH_SUPPORTED;
  if (other_vendor(fp))
    return AM_MATCH_UNSUPPORTED;
  /* A model or description naming Whatsminer: probe early, but the version
   * reply alone has not shown the btminer API. */
  if (mentions(fp, "whatsminer"))
    return AM_MATCH_LIKELY;
  /* Every recorded btminer reply says only "cgminer 4.9.2": worth a probe
   * before the generic driver, not a claim. */
  if (g_strcmp0(fp->description, "cgminer 4.9.2") == 0 ||
      g_strcmp0(am_json_string(fp->version, "CGMiner"), "4.9.2") == 0)
    return AM_MATCH_MAYBE;
  return AM_MATCH_UNSUPPORTED;
}

/* ---- helpers shared with the v3 normalizer ----------------------------- */

double
am_whatsminer_reading(JsonObject *obj, const char *key, double min, double max)
{
  double value;
  if (!am_json_get_double(obj, key, &value) || !isfinite(value) || value < min || value > max)
    return NAN;
  return value;
}

void
am_whatsminer_extra_double(AmSample *s, JsonObject *obj, const char *key, const char *extra)
{
  double value;
  if (am_json_get_double(obj, key, &value) && isfinite(value))
    am_sample_set_extra(s, extra, json_node_init_double(json_node_alloc(), value));
}

void
am_whatsminer_extra_string(AmSample *s, JsonObject *obj, const char *key, const char *extra)
{
  const char *value = am_json_string(obj, key);
  if (value != NULL)
    am_sample_set_extra(s, extra, json_node_init_string(json_node_alloc(), value));
}

/* ---- vendor error codes ------------------------------------------------ */

static gboolean
has_code(JsonArray *errors, gint64 code)
{
  for (guint i = 0; i < json_array_get_length(errors); i++)
    if (am_json_int(am_json_array_object(errors, i), "code", -1) == code)
      return TRUE;
  return FALSE;
}

/* A member name that is a vendor code: 1 to 9 digits. */
static gboolean
code_name(const char *name, gint64 *code)
{
  gsize n = strlen(name);
  if (n == 0 || n > 9)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit(name[i]))
      return FALSE;
  *code = (gint64)g_ascii_strtoull(name, NULL, 10);
  return TRUE;
}

static void
add_error(JsonArray *errors, gint64 code, const char *time, const char *reason)
{
  if (json_array_get_length(errors) >= AM_WHATSMINER_MAX_ERRORS || has_code(errors, code))
    return;
  JsonObject *e = json_object_new();
  json_object_set_int_member(e, "code", code);
  if (time != NULL)
    json_object_set_string_member(e, "time", time);
  if (reason != NULL)
    json_object_set_string_member(e, "reason", reason);
  json_array_add_object_element(errors, e);
}

void
am_whatsminer_add_error_code(JsonArray *errors, gint64 code)
{
  add_error(errors, code, NULL, NULL);
}

void
am_whatsminer_read_error_list(JsonArray *errors, JsonArray *list)
{
  guint n = list != NULL ? json_array_get_length(list) : 0;
  for (guint i = 0; i < n && json_array_get_length(errors) < AM_WHATSMINER_MAX_ERRORS; i++) {
    JsonObject *entry = am_json_array_object(list, i);
    if (entry == NULL)
      continue;
    const char *reason = am_json_string(entry, "reason");
    g_autoptr(GList) names = json_object_get_members(entry);
    for (GList *l = names; l != NULL; l = l->next) {
      gint64 code;
      if (code_name(l->data, &code))
        add_error(errors, code, am_json_string(entry, l->data), reason);
    }
  }
}

void
am_whatsminer_report_errors(AmSample *s, JsonArray *errors, gint64 count_only)
{
  guint n = json_array_get_length(errors);
  if (n == 0) {
    if (count_only > 0)
      am_sample_add_problem(s, "the miner reports %" G_GINT64_FORMAT " error code(s)", count_only);
    return;
  }
  g_autoptr(GString) codes = g_string_new(NULL);
  for (guint i = 0; i < n; i++) {
    if (i == 10) {
      g_string_append(codes, ", ...");
      break;
    }
    g_string_append_printf(codes, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "",
                           am_json_int(am_json_array_object(errors, i), "code", -1));
  }
  am_sample_add_problem(s, "the miner reports %u error code(s): %s", MAX(n, (guint)count_only),
                        codes->str);
  JsonNode *node = json_node_alloc();
  json_node_init_array(node, errors);
  am_sample_set_extra(s, "errors", node);
}

/* ---- summary ----------------------------------------------------------- */

/* Fans: the two summary keys are the unit's intake and exhaust fans. */
static void
read_fans(AmSample *s, JsonObject *summary)
{
  static const char *const keys[] = {"Fan Speed In", "Fan Speed Out"};
  gint slots = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
    double rpm;
    if (!am_json_get_double(summary, keys[i], &rpm))
      continue;
    slots++;
    am_sample_add_fan(s, rpm);
  }
  gboolean liquid = FALSE;
  if (am_cgminer_get_bool(summary, "Liquid Cooling", &liquid))
    s->liquid_cooled = liquid;
  /* An air-cooled unit that reports a fan slot at 0 RPM has a stopped fan;
   * a liquid-cooled one has none to expect. */
  if (s->liquid_cooled)
    s->fans_expected = 0;
  else if (slots > 0)
    s->fans_expected = slots;
}

static void
read_power(AmSample *s, JsonObject *summary)
{
  double watts;
  if (am_json_get_double(summary, "Power", &watts) && watts > 0 && watts < 100000) {
    s->power_w = watts;
    s->power_source = AM_POWER_SOURCE_REPORTED;
  }
  /* Unit unverified (see the top of this file): kept as the firmware says. */
  am_whatsminer_extra_double(s, summary, "Power Current", "power_current");
  double psu_fan = am_whatsminer_reading(summary, "Power Fanspeed", 1, 100000);
  if (!isnan(psu_fan))
    am_sample_set_extra(s, "psu_fan_rpm", json_node_init_double(json_node_alloc(), psu_fan));
}

/* The v2 summary has no "MHS 5s": its current rate is "HS RT", in MH/s. */
static void
read_rates(AmSample *s, JsonObject *summary)
{
  if (isnan(s->hashrate_ths)) {
    double rt = am_whatsminer_reading(summary, "HS RT", 0, 1e10);
    if (!isnan(rt))
      s->hashrate_ths = am_hashrate_to_ths(rt, "MH");
  }
  if (s->hashrate_ths < 0)
    s->hashrate_ths = NAN;
  double factory = am_whatsminer_reading(summary, "Factory GHS", 1e-9, 1e7);
  if (!isnan(factory))
    s->hashrate_ideal_ths = am_hashrate_to_ths(factory, "GH");
}

/* "'20210322.22.REL'" -> "20210322.22.REL": v1 quotes its versions. */
static char *
unquote(const char *text)
{
  if (text == NULL)
    return NULL;
  g_autofree char *copy = g_strstrip(g_strdup(text));
  gsize n = strlen(copy);
  if (n >= 2 && copy[0] == '\'' && copy[n - 1] == '\'') {
    copy[n - 1] = '\0';
    memmove(copy, copy + 1, n - 1);
  }
  return *copy != '\0' ? g_steal_pointer(&copy) : NULL;
}

static void
read_summary_identity(AmSample *s, JsonObject *summary)
{
  g_autofree char *mac = am_cgminer_format_mac(am_json_string(summary, "MAC"));
  if (mac != NULL)
    am_sample_set(s, &s->mac, mac);
  g_autofree char *firmware = unquote(am_json_string(summary, "Firmware Version"));
  if (firmware != NULL && s->firmware_version == NULL)
    am_sample_set(s, &s->firmware_version, firmware);
}

static void
read_summary_extras(AmSample *s, JsonObject *summary)
{
  /* The summary's one Temperature stands for the unit only when no board
   * reported its own (devs), so it is never averaged with them. */
  double temperature = am_json_double(summary, "Temperature");
  if (s->temps_c->len == 0)
    am_sample_add_temp(s, temperature);
  am_whatsminer_extra_double(s, summary, "Temperature", "temperature_c");
  am_whatsminer_extra_double(s, summary, "Uptime", "uptime_s");
  am_whatsminer_extra_double(s, summary, "Voltage", "voltage");
  am_whatsminer_extra_double(s, summary, "freq_avg", "freq_avg_mhz");
  am_whatsminer_extra_string(s, summary, "Chip Data", "chip_data");
  am_whatsminer_extra_double(s, summary, "Power Limit", "power_limit_w");
  am_whatsminer_extra_double(s, summary, "Power_RT", "power_realtime_w");
  am_whatsminer_extra_string(s, summary, "Power Mode", "power_mode");
  am_whatsminer_set_work_mode(s, am_json_string(summary, "Power Mode"));
  /* The limit the firmware works to, in W (set by adjust_power_limit). */
  s->power_limit_w = am_whatsminer_reading(summary, "Power Limit", 1, 100000);
  am_whatsminer_extra_double(s, summary, "Chip Temp Avg", "chip_temp_avg_c");
  am_whatsminer_extra_double(s, summary, "Chip Temp Min", "chip_temp_min_c");
  double env = am_whatsminer_reading(summary, "Env Temp", -50, 100);
  if (!isnan(env))
    am_sample_set_extra(s, "environment_temp_c", json_node_init_double(json_node_alloc(), env));
}

/* The unit's hottest chip stands in for the boards' only when no board
 * told its own (devs). */
static void
read_summary_chip_temp(AmSample *s, JsonObject *summary)
{
  if (s->chip_temps_c->len == 0)
    am_sample_add_chip_temp(s, am_json_double(summary, "Chip Temp Max"));
}

/* "Error Code Count" and the "Error Code N" keys of the v1 summary. */
static gint64
read_summary_errors(JsonArray *errors, JsonObject *summary)
{
  double count;
  gint64 told = 0;
  if (am_json_get_double(summary, "Error Code Count", &count) && isfinite(count) && count >= 0 &&
      count < 1e6)
    told = (gint64)count;
  for (gint64 i = 0; i < MIN(told, AM_WHATSMINER_MAX_ERRORS); i++) {
    g_autofree char *key = g_strdup_printf("Error Code %" G_GINT64_FORMAT, i);
    double code;
    if (am_json_get_double(summary, key, &code) && code >= 0 && code < 1e9)
      am_whatsminer_add_error_code(errors, (gint64)code);
  }
  return told;
}

/* ---- devs (the whatsminer keys the shared reader does not know) -------- */

/* The same index the shared reader gives a DEVS entry. */
static gint
dev_index(JsonObject *dev, guint position)
{
  static const char *const keys[] = {"Slot", "ID", "ASC", "PGA", "GPU"};
  for (gsize k = 0; k < G_N_ELEMENTS(keys); k++) {
    gint64 index = am_json_int(dev, keys[k], -1);
    if (index >= 0 && index <= G_MAXINT)
      return (gint)index;
  }
  return (gint)position;
}

static void
read_devs_extras(AmSample *s, JsonObject *reply)
{
  JsonArray *devs = am_json_array(reply, "DEVS");
  guint n = devs != NULL ? MIN(json_array_get_length(devs), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *dev = am_json_array_object(devs, i);
    if (dev == NULL)
      continue;
    AmChain *chain = am_cgminer_chain(s, dev_index(dev, i));
    double chips = am_whatsminer_reading(dev, "Effective Chips", 0, 10000);
    if (!isnan(chips))
      chain->chips = (gint)chips;
    /* v2 gives only the average per board. */
    if (isnan(chain->hashrate_ths)) {
      double av = am_whatsminer_reading(dev, "MHS av", 0, 1e10);
      if (!isnan(av))
        chain->hashrate_ths = am_hashrate_to_ths(av, "MH");
    }
    double chip = am_json_double(dev, "Chip Temp Max");
    if (am_temp_is_valid(chip) && isnan(chain->temp_chip_c)) {
      chain->temp_chip_c = chip;
      am_sample_add_chip_temp(s, chip);
    }
  }
}

/* ---- get_psu and get_error_code (Whatsminer layout) -------------------- */

static void
read_psu(AmSample *s, JsonObject *reply)
{
  JsonObject *msg = am_json_object(reply, "Msg");
  if (msg == NULL)
    return;
  double fan = am_whatsminer_reading(msg, "fan_speed", 1, 100000);
  if (!isnan(fan))
    am_sample_set_extra(s, "psu_fan_rpm", json_node_init_double(json_node_alloc(), fan));
  am_whatsminer_extra_string(s, msg, "model", "psu_model");
  am_whatsminer_extra_string(s, msg, "name", "psu_name");
  am_whatsminer_extra_string(s, msg, "sw_version", "psu_firmware");
}

/* ---- status (Whatsminer layout) ---------------------------------------- */

static void
read_status(AmSample *s, JsonObject *reply)
{
  JsonObject *msg = am_json_object(reply, "Msg");
  if (msg == NULL)
    return;
  g_autofree char *firmware = unquote(am_json_string(msg, "FirmwareVersion"));
  if (firmware == NULL)
    firmware = unquote(am_json_string(msg, "Firmware Version")); /* v1 */
  if (firmware != NULL)
    am_sample_set(s, &s->firmware_version, firmware);

  gboolean off = FALSE;
  if (am_cgminer_get_bool(msg, "mineroff", &off) || am_cgminer_get_bool(msg, "btmineroff", &off)) {
    am_sample_set_extra(s, "mineroff", json_node_init_boolean(json_node_alloc(), off));
    /* Switched off by power_off (antmon's pause, or WhatsMinerTool): on
     * purpose, so paused rather than a problem. */
    s->mining = off ? AM_MINING_PAUSED : AM_MINING_HASHING;
  }
  am_whatsminer_extra_string(s, msg, "power_mode", "power_mode");
  am_whatsminer_set_work_mode(s, am_json_string(msg, "power_mode"));
  am_whatsminer_extra_double(s, msg, "hash_percent", "hash_percent");
  am_whatsminer_extra_double(s, msg, "power_limit_set", "power_limit_set_w");
  const char *api = am_json_string(reply, "Description");
  if (api != NULL && *api != '\0') /* v2 sends "" */
    am_sample_set_extra(s, "api", json_node_init_string(json_node_alloc(), api));
}

/* The version reply in the Whatsminer layout names firmware and API
 * versions in Msg; in the cgminer layout it adds nothing btminer-specific. */
static void
read_version(AmSample *s, JsonObject *reply)
{
  JsonObject *msg = am_json_object(reply, "Msg");
  const char *fw = am_json_string(msg, "fw_ver");
  if (fw != NULL && s->firmware_version == NULL)
    am_sample_set(s, &s->firmware_version, fw);
  am_whatsminer_extra_string(s, msg, "api_ver", "api_version");
}

/* get_miner_info Msg.ledstat: "auto" is the firmware's own light; any other
 * value is a pattern set through set_led, which antmon sets only to locate. */
static void
read_miner_info(AmSample *s, JsonObject *reply)
{
  const char *ledstat = am_json_string(am_json_object(reply, "Msg"), "ledstat");
  if (ledstat == NULL || *ledstat == '\0')
    return;
  s->locate = g_ascii_strcasecmp(ledstat, "auto") != 0;
  am_sample_set_extra(s, "ledstat", json_node_init_string(json_node_alloc(), ledstat));
}

static void
read_model(AmSample *s, JsonObject *devdetails)
{
  g_autofree char *model =
      am_cgminer_clean_model(am_json_string(am_cgminer_section(devdetails, "DEVDETAILS"), "Model"));
  am_sample_set(s, &s->model, model);
}

AmSample *
am_whatsminer_parse(const AmWhatsminerReplies *replies, GError **error)
{
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, DRIVER_NAME);
  am_sample_set(s, &s->firmware, "btminer");
  /* Whatsminers are SHA-256 machines. */
  am_sample_set(s, &s->algorithm, "sha256d");

  if (!am_cgminer_require_summary(s, replies->summary, error))
    return NULL;
  JsonObject *summary = am_cgminer_section(replies->summary, "SUMMARY");
  read_rates(s, summary);
  am_cgminer_read_devs(s, replies->devs);
  read_devs_extras(s, replies->devs);
  read_fans(s, summary);
  read_power(s, summary);
  read_summary_extras(s, summary);
  read_summary_chip_temp(s, summary);

  /* The dated list first, so a code also in the summary keeps its time. */
  g_autoptr(JsonArray) errors = json_array_new();
  am_whatsminer_read_error_list(
      errors, am_json_array(am_json_object(replies->get_error_code, "Msg"), "error_code"));
  gint64 count = read_summary_errors(errors, summary);
  if (json_object_has_member(summary, "Error Code Count"))
    am_sample_set_extra(s, "error_code_count", json_node_init_int(json_node_alloc(), count));
  am_whatsminer_report_errors(s, errors, count);

  read_status(s, replies->status);
  read_version(s, replies->version);
  read_summary_identity(s, summary);
  read_model(s, replies->devdetails);
  read_psu(s, replies->get_psu);
  read_miner_info(s, replies->get_miner_info);
  am_cgminer_read_pools(s, replies->pools);
  return g_steal_pointer(&s);
}

void
am_whatsminer_set_work_mode(AmSample *sample, const char *mode)
{
  if (mode == NULL || *mode == '\0')
    return;
  /* "Low"/"Normal"/"High" (summary), "low" (status), "0".."2" (v3). */
  static const char *const names[] = {"low", "normal", "high"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    char digit[2] = {(char)('0' + i), '\0'};
    if (g_ascii_strcasecmp(mode, names[i]) == 0 || strcmp(mode, digit) == 0) {
      am_sample_set(sample, &sample->work_mode, names[i]);
      return;
    }
  }
  am_sample_set(sample, &sample->work_mode, mode);
}
