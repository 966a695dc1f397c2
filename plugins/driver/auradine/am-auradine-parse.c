/* The Auradine normalizer; see am-auradine-parse.h and README.md. */
#include "am-auradine-parse.h"
#include "../common/am-cgminer-common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- match -------------------------------------------------------------- */

static gboolean
names_auradine(const char *text)
{
  return am_cgminer_contains_ci(text, "Auradine") || am_cgminer_contains_ci(text, "FluxOS");
}

AmMatch
am_auradine_match(const AmFingerprint *fp)
{
  if (fp == NULL)
    return AM_MATCH_UNSUPPORTED;
  /* GCMiner is Auradine's own cgminer; FluxOS its operating system, whose
   * name newer builds put in STATUS Description. */
  if (am_cgminer_contains_ci(fp->description, "GCMiner") ||
      am_cgminer_contains_ci(fp->description, "FluxOS") ||
      (fp->version != NULL && json_object_has_member(fp->version, "GCMiner")))
    return AM_MATCH_SUPPORTED;
  if (names_auradine(fp->http_title) || names_auradine(fp->http_body) ||
      names_auradine(fp->http_server))
    return AM_MATCH_LIKELY;
  return AM_MATCH_UNSUPPORTED;
}

/* ---- web bodies --------------------------------------------------------- */

/* Words of a STATUS E that mean "log in again" rather than "cannot do". */
static gboolean
is_login_problem(const char *message)
{
  static const char *const words[] = {"token",     "login",   "password",
                                      "unauthori", "session", "expired"};
  for (gsize i = 0; i < G_N_ELEMENTS(words); i++)
    if (am_cgminer_contains_ci(message, words[i]))
      return TRUE;
  return FALSE;
}

JsonObject *
am_auradine_parse_body(const char *command, const char *data, gsize len, GError **error)
{
  if (data == NULL || len == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "web %s: empty reply", command);
    return NULL;
  }
  if (len > G_MAXSSIZE) {
    g_set_error(error, AM_ERROR, AM_ERROR_TOO_LARGE, "web %s: reply too large", command);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "web %s: not JSON: %s", command, local->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "web %s: not a JSON object", command);
    return NULL;
  }
  JsonObject *reply = json_node_get_object(root);
  if (!am_rpc_check_status(reply, &local)) {
    gint code = is_login_problem(local->message) ? AM_ERROR_AUTH : AM_ERROR_API;
    g_set_error(error, AM_ERROR, code, "web %s: %s", command, local->message);
    return NULL;
  }
  return json_object_ref(reply);
}

const char *
am_auradine_token(JsonObject *reply, GError **error)
{
  JsonObject *entry = am_cgminer_section(reply, "Token");
  const char *token = am_json_string(entry, "Token");
  if (token == NULL || *token == '\0') {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_AUTH, "web token: the reply holds no Token");
    return NULL;
  }
  return token;
}

gboolean
am_auradine_read_unit(JsonObject *obj, const char *key, const char *unit, double *out)
{
  const char *text = am_json_string(obj, key);
  if (text == NULL)
    return am_json_get_double(obj, key, out);
  char *end = NULL;
  double value = g_ascii_strtod(text, &end);
  if (end == text || !isfinite(value))
    return FALSE;
  while (*end == ' ')
    end++;
  if (*end != '\0' && g_ascii_strcasecmp(end, unit) != 0)
    return FALSE;
  *out = value;
  return TRUE;
}

/* ---- sections ----------------------------------------------------------- */

static void
set_extra_double(AmSample *s, const char *key, double value)
{
  if (!isnan(value))
    am_sample_set_extra(s, key, json_node_init_double(json_node_alloc(), value));
}

static void
set_extra_string(AmSample *s, const char *key, const char *value)
{
  if (value != NULL)
    am_sample_set_extra(s, key, json_node_init_string(json_node_alloc(), value));
}

/* A reply that came but lacks its section: the firmware changed. */
static JsonArray *
section_array(AmSample *s, JsonObject *reply, const char *section)
{
  if (reply == NULL)
    return NULL;
  JsonArray *array = am_json_array(reply, section);
  if (array == NULL)
    am_sample_add_problem(s, "the %s reply has no %s array", section, section);
  return array;
}

static void
read_version(AmSample *s, JsonObject *reply)
{
  JsonObject *version = am_cgminer_section(reply, "VERSION");
  const char *gcminer = am_json_string(version, "GCMiner");
  if (gcminer != NULL)
    am_sample_set(s, &s->firmware_version, gcminer);
  set_extra_string(s, "api_version", am_json_string(version, "API"));
}

/* Identity, and the hashboards' serials in board order (board ID i+1). */
static void
read_ipreport(AmSample *s, JsonObject *reply)
{
  if (section_array(s, reply, "IPReport") == NULL)
    return;
  JsonObject *ip = am_cgminer_section(reply, "IPReport");
  const char *model = am_json_string(ip, "model");
  if (model != NULL && *model != '\0') {
    g_autofree char *name = g_strdup_printf("Auradine %s", model);
    am_sample_set(s, &s->model, name);
  }
  g_autofree char *mac = am_cgminer_format_mac(am_json_string(ip, "mac"));
  am_sample_set(s, &s->mac, mac);
  am_sample_set(s, &s->serial, am_json_string(ip, "SerialNo"));
  am_sample_set(s, &s->hostname, am_json_string(ip, "hostname"));
  set_extra_string(s, "fluxos_version", am_json_string(ip, "version"));
  set_extra_string(s, "control_board_serial", am_json_string(ip, "CBSerialNo"));
  set_extra_string(s, "chassis_serial", am_json_string(ip, "ChassisSerialNo"));
  set_extra_string(s, "internal_type", am_json_string(ip, "InternalType"));

  JsonArray *serials = am_json_array(ip, "HBSerialNo");
  guint n = serials != NULL ? MIN(json_array_get_length(serials), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element(serials, i);
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
      continue;
    am_cgminer_chain(s, (gint)i + 1);
    /* The chain may not be the last one added: find its position. */
    for (guint pos = 0; pos < s->chains->len; pos++)
      if (g_array_index(s->chains, AmChain, pos).index == (gint)i + 1)
        am_sample_set_chain_serial(s, pos, json_node_get_string(node));
  }
}

/* Highest valid "Temperature" of the objects in @readings, else NAN. */
static double
hottest(JsonArray *readings)
{
  double max = NAN;
  guint n = readings != NULL ? json_array_get_length(readings) : 0;
  for (guint i = 0; i < n; i++) {
    double t = am_json_double(am_json_array_object(readings, i), "Temperature");
    if (am_temp_is_valid(t) && (isnan(max) || t > max))
      max = t;
  }
  return max;
}

/* Temperature[]: ID 0 is the control board, IDs 1.. the hashboards, each
 * with its PCB sensors (BoardTemp) and chip sensors (ChipTemp, null on the
 * control board). A board's temperature is its hottest sensor. */
static void
read_temperature(AmSample *s, JsonObject *reply)
{
  JsonArray *boards = section_array(s, reply, "Temperature");
  guint n = boards != NULL ? MIN(json_array_get_length(boards), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *board = am_json_array_object(boards, i);
    gint64 id = am_json_int(board, "ID", -1);
    double pcb = hottest(am_json_array(board, "BoardTemp"));
    double chip = hottest(am_json_array(board, "ChipTemp"));
    if (id == 0) {
      set_extra_double(s, "control_board_temp_c", pcb);
      continue;
    }
    if (id < 1 || id > G_MAXINT)
      continue;
    AmChain *chain = am_cgminer_chain(s, (gint)id);
    chain->temp_board_c = pcb;
    chain->temp_chip_c = chip;
    am_sample_add_temp(s, pcb);
    am_sample_add_chip_temp(s, chip);
  }
}

/* DEVS[]: one hashboard each, ID 1.. as in Temperature[]. A board's
 * temperature is Temperature[]'s hottest sensor; DEVS's single
 * "Temperature" is another reading, read only when the temperature command
 * was not answered at all (the poll is then partial), never in place of a
 * key that reply lost. A board whose ID is gone is left out: its place in
 * the list is no board number. */
static void
read_devs(AmSample *s, JsonObject *reply, gboolean with_temperature)
{
  static const char *const windows[] = {"5s", "30s", "1m", NULL};
  JsonArray *devs = section_array(s, reply, "DEVS");
  guint n = devs != NULL ? MIN(json_array_get_length(devs), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *dev = am_json_array_object(devs, i);
    gint64 id = am_json_int(dev, "ID", -1);
    if (id < 1 || id > G_MAXINT)
      continue;
    AmChain *chain = am_cgminer_chain(s, (gint)id);
    chain->hashrate_ths = am_cgminer_hashrate(dev, windows);
    chain->hw_errors = am_json_int(dev, "Hardware Errors", chain->hw_errors);
    double temp = am_json_double(dev, "Temperature");
    if (with_temperature && am_temp_is_valid(temp)) {
      chain->temp_board_c = temp;
      am_sample_add_temp(s, temp);
    }
  }
}

/* The mean of the positive @key values of @array's objects, else NAN. */
static double
positive_mean(JsonArray *array, const char *key)
{
  double sum = 0;
  guint count = 0;
  guint n = array != NULL ? json_array_get_length(array) : 0;
  for (guint i = 0; i < n; i++) {
    double v = am_json_double(am_json_array_object(array, i), key);
    if (v > 0 && isfinite(v)) {
      sum += v;
      count++;
    }
  }
  return count > 0 ? sum / count : NAN;
}

/* Voltage[] and Frequency[] list one board each (ID 1..) with its chips;
 * the chain gets the mean over chips that report (0 is a chip not read). */
static void
read_per_chip(AmSample *s, JsonObject *reply, const char *section, const char *chips,
              const char *key, gsize offset)
{
  JsonArray *boards = section_array(s, reply, section);
  guint n = boards != NULL ? MIN(json_array_get_length(boards), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *board = am_json_array_object(boards, i);
    gint64 id = am_json_int(board, "ID", -1);
    double mean = positive_mean(am_json_array(board, chips), key);
    if (id < 1 || id > G_MAXINT || isnan(mean))
      continue;
    AmChain *chain = am_cgminer_chain(s, (gint)id);
    *(double *)((char *)chain + offset) = mean;
  }
}

static void
read_fans(AmSample *s, JsonObject *reply)
{
  JsonArray *fans = section_array(s, reply, "Fan");
  if (fans == NULL)
    return;
  guint n = MIN(json_array_get_length(fans), AM_CGMINER_MAX_CHAINS);
  /* Every fan header the firmware lists is a slot of this model. */
  s->fans_expected = (gint)n;
  for (guint i = 0; i < n; i++)
    am_sample_add_fan(s, am_json_double(am_json_array_object(fans, i), "Speed"));
}

/* The PSU's own readings are strings with units ("58.94W", "245.00V"). */
static void
read_psu(AmSample *s, JsonObject *reply)
{
  if (section_array(s, reply, "PSU") == NULL)
    return;
  JsonObject *psu = am_cgminer_section(reply, "PSU");
  double v = NAN;
  if (am_auradine_read_unit(psu, "PowerIn", "W", &v))
    s->psu_power_in_w = v;
  if (am_auradine_read_unit(psu, "PowerOut", "W", &v))
    s->psu_power_out_w = v;
  /* Two PSU fans; the sample has one field: the first (never the second
   * standing in for it), both in extras. */
  JsonArray *fans = json_array_new();
  static const char *const fan_keys[] = {"FanSpeed1", "FanSpeed2"};
  for (gsize i = 0; i < G_N_ELEMENTS(fan_keys); i++)
    if (am_auradine_read_unit(psu, fan_keys[i], "RPM", &v)) {
      json_array_add_double_element(fans, v);
      if (i == 0)
        s->psu_fan_rpm = v;
    }
  if (json_array_get_length(fans) > 0)
    am_sample_set_extra(s, "psu_fans_rpm", json_node_init_array(json_node_alloc(), fans));
  json_array_unref(fans);

  static const struct {
    const char *key, *unit, *extra;
  } more[] = {{"Vin", "V", "psu_vin_v"},          {"Iin", "A", "psu_iin_a"},
              {"Vout", "V", "psu_vout_v"},        {"Iout", "A", "psu_iout_a"},
              {"VoutSet", "V", "psu_vout_set_v"}, {"PoutMax", "W", "psu_pout_max_w"}};
  for (gsize i = 0; i < G_N_ELEMENTS(more); i++)
    if (am_auradine_read_unit(psu, more[i].key, more[i].unit, &v))
      set_extra_double(s, more[i].extra, v);
}

/* The input power: SUMMARY Wattage where the firmware has it, else the
 * PSU's PowerIn; both are measured, not estimated. */
static void
read_power(AmSample *s, JsonObject *summary_reply)
{
  double watts = am_json_double(am_cgminer_section(summary_reply, "SUMMARY"), "Wattage");
  if (isnan(watts))
    watts = s->psu_power_in_w;
  if (!isnan(watts) && watts >= 0) {
    s->power_w = watts;
    s->power_source = AM_POWER_SOURCE_REPORTED;
  }
}

/* Sleep is "on"/"off" in the recorded reply; a JSON boolean is read too. */
static void
read_sleep(AmSample *s, JsonObject *mode)
{
  const char *text = am_json_string(mode, "Sleep");
  gboolean asleep = FALSE;
  if (text != NULL && g_ascii_strcasecmp(text, "on") == 0)
    asleep = TRUE;
  else if (text != NULL && g_ascii_strcasecmp(text, "off") == 0)
    asleep = FALSE;
  else if (!am_cgminer_get_bool(mode, "Sleep", &asleep))
    return;
  s->mining = asleep ? AM_MINING_SLEEPING : AM_MINING_HASHING;
}

/* Mode[0]: the profile ("eco", "normal", "turbo", "custom"), the power
 * target in W, the hashrate target in TH/s and Sleep "on"/"off". */
static void
read_mode(AmSample *s, JsonObject *reply)
{
  if (section_array(s, reply, "Mode") == NULL)
    return;
  JsonObject *mode = am_cgminer_section(reply, "Mode");
  /* eco and turbo are what antmon calls low and high (POST /mode sets
   * them so); normal and custom keep their names. */
  const char *name = am_json_string(mode, "Mode");
  if (g_strcmp0(name, "eco") == 0)
    name = AM_WORK_MODE_LOW;
  else if (g_strcmp0(name, "turbo") == 0)
    name = AM_WORK_MODE_HIGH;
  am_sample_set(s, &s->work_mode, name);
  double power = am_json_double(mode, "Power");
  if (power > 0)
    s->power_limit_w = power;
  /* A target, not what the boards can do: kept out of hashrate_ideal so
   * a power-limited unit is not called degraded. */
  set_extra_double(s, "target_ths", am_json_double(mode, "Ths"));
  read_sleep(s, mode);
}

/* LED[0].Code: 2 is normal, 3 the locate blink; any other code is the
 * firmware signalling a fault, reported with its own words. */
static void
read_led(AmSample *s, JsonObject *reply)
{
  if (section_array(s, reply, "LED") == NULL)
    return;
  JsonObject *led = am_cgminer_section(reply, "LED");
  gint64 code = am_json_int(led, "Code", AM_UNKNOWN);
  if (code == AM_UNKNOWN)
    return;
  const char *message = am_json_string(led, "Msg");
  am_sample_set_extra(s, "led_code", json_node_init_int(json_node_alloc(), code));
  set_extra_string(s, "led_message", message);
  am_sample_set_extra(s, "locate", json_node_init_boolean(json_node_alloc(), code == 3));
  /* 3 is the blink POST /led {"code":3} starts; a fault code is not it. */
  s->locate = code == 3;
  if (code != 2 && code != 3) {
    g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT, code);
    am_sample_add_error(s, text, message, "led", AM_ERROR_SEVERITY_WARNING);
  }
}

static void
read_asccount(AmSample *s, JsonObject *reply)
{
  JsonObject *count = am_cgminer_section(reply, "ASCCount");
  gint64 boards = am_json_int(count, "BoardCount", AM_UNKNOWN);
  gint64 asics = am_json_int(count, "AsicCount", AM_UNKNOWN);
  if (boards >= 0)
    am_sample_set_extra(s, "board_count", json_node_init_int(json_node_alloc(), boards));
  if (asics >= 0)
    am_sample_set_extra(s, "asic_count", json_node_init_int(json_node_alloc(), asics));
}

/* ---- the whole poll ----------------------------------------------------- */

static gboolean
any_reply(const AmAuradineReplies *r)
{
  const JsonObject *all[] = {r->version,  r->summary,     r->devs,     r->pools, r->asccount,
                             r->ipreport, r->temperature, r->fan,      r->psu,   r->mode,
                             r->led,      r->voltage,     r->frequency};
  for (gsize i = 0; i < G_N_ELEMENTS(all); i++)
    if (all[i] != NULL)
      return TRUE;
  return FALSE;
}

AmSample *
am_auradine_parse(const AmAuradineReplies *r, GError **error)
{
  if (r == NULL || !any_reply(r)) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "no reply to read");
    return NULL;
  }
  AmSample *s = am_sample_new();
  am_sample_set(s, &s->driver, "auradine");
  am_sample_set(s, &s->firmware, "GCMiner");
  am_sample_set(s, &s->algorithm, "sha256d");

  read_version(s, r->version);
  read_ipreport(s, r->ipreport);
  /* Before devs: a board temperature from here is not counted twice. */
  read_temperature(s, r->temperature);
  if (r->summary != NULL && !am_cgminer_read_summary(s, r->summary))
    am_sample_add_problem(s, "the summary reply has no SUMMARY");
  read_devs(s, r->devs, r->temperature == NULL);
  if (section_array(s, r->pools, "POOLS") != NULL)
    am_cgminer_read_pools(s, r->pools);
  read_asccount(s, r->asccount);
  read_per_chip(s, r->voltage, "Voltage", "ChipVoltage", "Voltage",
                G_STRUCT_OFFSET(AmChain, voltage_v));
  read_per_chip(s, r->frequency, "Frequency", "ChipFrequency", "Frequency",
                G_STRUCT_OFFSET(AmChain, frequency_mhz));
  read_fans(s, r->fan);
  read_psu(s, r->psu);
  read_power(s, r->summary);
  read_mode(s, r->mode);
  read_led(s, r->led);
  return s;
}
