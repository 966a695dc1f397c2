/* Whatsminer API v3 replies -> AmSample. Pure: see am-whatsminer-v3-parse.h.
 *
 * What the recorded replies show (tests/fixtures/whatsminer-v3/, the test
 * replies of asic-rs; its summary has round numbers and is a format sample,
 * not a reading from a unit):
 *  - every reply is {"code":0,"desc":"<cmd>","msg":{...},"when":<epoch>};
 *  - get.miner.status summary: msg.summary with hash-realtime, hash-average
 *    and factory-hash in TH/s, power-realtime and power-limit in W, elapsed
 *    in s, fan-speed-in/out in RPM, board-temperature[] (one per board),
 *    chip-temp-min/avg/max and environment-temperature in degC;
 *  - get.miner.status edevs: msg.edevs[] per board: id, hash-realtime,
 *    hash-average, factory-hash (TH/s), effective-chips, chip-temp-*, freq
 *    (MHz), status ("alive");
 *  - get.miner.status pools: msg.pools[] with url, account, status,
 *    pool-priority, stratum-active (a boolean);
 *  - get.device.info: msg.miner (type "M60S_VK40", miner-sn, board-num and
 *    working as strings, pcbsnN), msg.network (mac, hostname), msg.power
 *    (the PSU: fanspeed in RPM, model, sn, swversion, mode), msg.system
 *    (fwversion, api, platform, control-board-version) and, when the unit
 *    has any, msg.error-code[]: objects holding one "<code>":"<time>" pair
 *    and a "reason".
 *
 * Not told anywhere in v3: share counters, hardware errors, per-pool
 * accepted/rejected, whether the unit is liquid-cooled. Those stay unknown.
 * A unit whose two fans both read 0 may be a hydro or immersion one: no fan
 * count is expected of it (a fan that stopped beside one that spins is a
 * problem as usual). */
#include "am-whatsminer-v3-parse.h"

#include "../common/am-cgminer-common.h"
#include "am-whatsminer-parse.h"

#include <math.h>
#include <string.h>

#define DRIVER_NAME "whatsminer"

/* A single unit hashing more than 100 PH/s, or drawing more than 100 kW, is
 * a garbled reply, not a reading. */
#define MAX_THS 1e5
#define MAX_WATTS 1e5

typedef struct {
  AmSample *sample;
  JsonArray *partial; /* what failed, for x_whatsminer_partial */
} Parse;

static void
set_double(AmSample *s, const char *extra, double value)
{
  if (!isnan(value))
    am_sample_set_extra(s, extra, json_node_init_double(json_node_alloc(), value));
}

static void
set_string(AmSample *s, const char *extra, const char *value)
{
  if (value != NULL)
    am_sample_set_extra(s, extra, json_node_init_string(json_node_alloc(), value));
}

static const char *
nonblank(JsonObject *obj, const char *key)
{
  const char *text = am_json_string(obj, key);
  if (text == NULL)
    return NULL;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isspace(*p))
      return text;
  return NULL;
}

static void
fail(Parse *p, const char *what, const char *why)
{
  json_array_add_string_element(p->partial, what);
  am_sample_add_problem(p->sample, "partial reply: %s: %s", what, why);
}

/* msg.<member> of a reply, or NULL (naming what is missing) when the reply
 * came without it. */
static gpointer
reply_part(Parse *p, JsonObject *reply, const char *what, const char *member, gboolean array)
{
  if (reply == NULL)
    return NULL;
  JsonObject *msg = am_json_object(reply, "msg");
  gpointer part = NULL;
  if (member == NULL)
    part = msg;
  else if (array)
    part = am_json_array(msg, member);
  else
    part = am_json_object(msg, member);
  if (part == NULL) {
    g_autofree char *why = g_strdup_printf("the reply has no msg%s%s %s", member ? "." : "",
                                           member ? member : "", array ? "list" : "object");
    fail(p, what, why);
  }
  return part;
}

/* ---- summary ----------------------------------------------------------- */

static void
read_fans(AmSample *s, JsonObject *summary)
{
  static const char *const keys[] = {"fan-speed-in", "fan-speed-out"};
  gint slots = 0, spinning = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
    double rpm;
    if (!am_json_get_double(summary, keys[i], &rpm))
      continue;
    slots++;
    spinning += am_sample_add_fan(s, rpm);
  }
  /* Both at 0: a hydro or immersion unit, or a unit whose fans are off;
   * v3 does not say which, so no fan count is expected. */
  if (spinning > 0)
    s->fans_expected = slots;
}

static void
read_summary(AmSample *s, JsonObject *summary)
{
  s->hashrate_ths = am_whatsminer_reading(summary, "hash-realtime", 0, MAX_THS);
  s->hashrate_avg_ths = am_whatsminer_reading(summary, "hash-average", 0, MAX_THS);
  s->hashrate_ideal_ths = am_whatsminer_reading(summary, "factory-hash", 1e-9, MAX_THS);
  double watts = am_whatsminer_reading(summary, "power-realtime", 1e-9, MAX_WATTS);
  if (!isnan(watts)) {
    s->power_w = watts;
    s->power_source = AM_POWER_SOURCE_REPORTED;
  }
  /* Twenty years of uptime is a garbled counter. */
  double elapsed = am_whatsminer_reading(summary, "elapsed", 0, 20.0 * 365 * 86400);
  if (!isnan(elapsed))
    s->elapsed_s = (gint64)elapsed;

  JsonArray *boards = am_json_array(summary, "board-temperature");
  guint n = boards != NULL ? MIN(json_array_get_length(boards), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element(boards, i);
    if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) != G_TYPE_STRING &&
        json_node_get_value_type(node) != G_TYPE_BOOLEAN)
      am_sample_add_temp(s, json_node_get_double(node));
  }
  read_fans(s, summary);

  set_double(s, "power_limit_w", am_whatsminer_reading(summary, "power-limit", 1e-9, MAX_WATTS));
  /* The limit set.miner.power_limit sets. */
  s->power_limit_w = am_whatsminer_reading(summary, "power-limit", 1, MAX_WATTS);
  set_double(s, "power_5min_w", am_whatsminer_reading(summary, "power-5min", 1e-9, MAX_WATTS));
  set_double(s, "power_rate", am_whatsminer_reading(summary, "power-rate", 0, 1e6));
  set_double(s, "hash_1min_ths", am_whatsminer_reading(summary, "hash-1min", 0, MAX_THS));
  set_double(s, "hash_15min_ths", am_whatsminer_reading(summary, "hash-15min", 0, MAX_THS));
  set_double(s, "freq_avg_mhz", am_whatsminer_reading(summary, "freq-avg", 1e-9, 1e5));
  set_double(s, "environment_temp_c",
             am_whatsminer_reading(summary, "environment-temperature", -50, 100));
  double chip_min = am_json_double(summary, "chip-temp-min");
  double chip_avg = am_json_double(summary, "chip-temp-avg");
  set_double(s, "chip_temp_min_c", am_temp_is_valid(chip_min) ? chip_min : NAN);
  set_double(s, "chip_temp_avg_c", am_temp_is_valid(chip_avg) ? chip_avg : NAN);
}

/* ---- edevs ------------------------------------------------------------- */

static AmChain *
find_chain(AmSample *s, gint index)
{
  for (guint i = 0; i < s->chains->len; i++) {
    AmChain *c = &g_array_index(s->chains, AmChain, i);
    if (c->index == index)
      return c;
  }
  return NULL;
}

static JsonObject *
board_extra(JsonObject *dev, gint index)
{
  JsonObject *b = json_object_new();
  json_object_set_int_member(b, "id", index);
  const char *status = am_json_string(dev, "status");
  if (status != NULL)
    json_object_set_string_member(b, "status", status);
  static const struct {
    const char *key, *name;
    double min, max;
  } numbers[] = {
      {"factory-hash", "factory_hash_ths", 1e-9, MAX_THS},
      {"hash-average", "hash_average_ths", 0, MAX_THS},
      {"freq", "freq_mhz", 1e-9, 1e5},
      {"chip-temp-min", "chip_temp_min_c", AM_TEMP_MIN_C + 1e-9, AM_TEMP_MAX_C - 1e-9},
      {"chip-temp-avg", "chip_temp_avg_c", AM_TEMP_MIN_C + 1e-9, AM_TEMP_MAX_C - 1e-9},
  };
  for (gsize k = 0; k < G_N_ELEMENTS(numbers); k++) {
    double v = am_whatsminer_reading(dev, numbers[k].key, numbers[k].min, numbers[k].max);
    if (!isnan(v))
      json_object_set_double_member(b, numbers[k].name, v);
  }
  return b;
}

/* Returns the per-board extras, or NULL when there is no board. */
static JsonArray *
read_edevs(AmSample *s, JsonArray *edevs)
{
  guint n = MIN(json_array_get_length(edevs), AM_CGMINER_MAX_CHAINS);
  JsonArray *boards = json_array_new();
  for (guint i = 0; i < n; i++) {
    JsonObject *dev = am_json_array_object(edevs, i);
    if (dev == NULL)
      continue;
    gint64 id = am_json_int(dev, "id", -1);
    gint index = id >= 0 && id <= G_MAXINT ? (gint)id : (gint)i;
    AmChain *chain = am_cgminer_chain(s, index);
    chain->hashrate_ths = am_whatsminer_reading(dev, "hash-realtime", 0, MAX_THS);
    double chips = am_whatsminer_reading(dev, "effective-chips", 0, 10000);
    if (!isnan(chips))
      chain->chips = (gint)chips;
    double chip = am_json_double(dev, "chip-temp-max");
    if (am_temp_is_valid(chip) && isnan(chain->temp_chip_c)) {
      chain->temp_chip_c = chip;
      am_sample_add_chip_temp(s, chip);
    }
    json_array_add_object_element(boards, board_extra(dev, index));
  }
  if (json_array_get_length(boards) == 0) {
    json_array_unref(boards);
    return NULL;
  }
  return boards;
}

/* The summary's board-temperature[] in board order: the k-th value is the
 * board whose id is k (three values for ids 0..2 in the recorded replies). */
static void
board_temperatures(AmSample *s, JsonObject *summary)
{
  JsonArray *temps = am_json_array(summary, "board-temperature");
  guint n = temps != NULL ? MIN(json_array_get_length(temps), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    AmChain *chain = find_chain(s, (gint)i);
    JsonNode *node = json_array_get_element(temps, i);
    if (chain == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
        json_node_get_value_type(node) == G_TYPE_STRING ||
        json_node_get_value_type(node) == G_TYPE_BOOLEAN)
      continue;
    double t = json_node_get_double(node);
    if (am_temp_is_valid(t))
      chain->temp_board_c = t;
  }
}

/* ---- pools ------------------------------------------------------------- */

static void
read_pools(AmSample *s, JsonArray *pools)
{
  guint n = MIN(json_array_get_length(pools), 64);
  for (guint i = 0; i < n; i++) {
    JsonObject *p = am_json_array_object(pools, i);
    const char *url = nonblank(p, "url");
    if (url == NULL)
      continue; /* an empty slot */
    AmPool *pool = am_sample_add_pool(s, url, am_json_string(p, "account"));
    pool->status = g_strdup(am_json_string(p, "status"));
    gint64 priority = am_json_int(p, "pool-priority", AM_UNKNOWN);
    pool->priority = priority >= 0 && priority <= G_MAXINT ? (gint)priority : AM_UNKNOWN;
    gboolean active = FALSE;
    pool->active = am_cgminer_get_bool(p, "stratum-active", &active) && active;
  }
}

/* ---- get.device.info --------------------------------------------------- */

/* "M60S_VK40" -> "Whatsminer M60S": the part before '_' is the model, the
 * rest the hashboard variant (kept raw in x_whatsminer_type). */
static char *
model_name(const char *type)
{
  if (type == NULL)
    return NULL;
  const char *end = strchr(type, '_');
  g_autofree char *base = end != NULL ? g_strndup(type, end - type) : g_strdup(type);
  g_strstrip(base);
  if (*base == '\0')
    return NULL;
  return g_strdup_printf("Whatsminer %s", base);
}

static const char *
power_mode(const char *mode)
{
  /* 0, 1, 2 as asic-rs reads them; any other value is kept as told. */
  if (g_strcmp0(mode, "0") == 0)
    return "low";
  if (g_strcmp0(mode, "1") == 0)
    return "normal";
  if (g_strcmp0(mode, "2") == 0)
    return "high";
  return mode;
}

static void
read_device_info(AmSample *s, JsonObject *msg, JsonArray *errors)
{
  JsonObject *miner = am_json_object(msg, "miner");
  JsonObject *network = am_json_object(msg, "network");
  JsonObject *power = am_json_object(msg, "power");
  JsonObject *system = am_json_object(msg, "system");

  const char *type = nonblank(miner, "type");
  g_autofree char *model = model_name(type);
  if (model != NULL)
    am_sample_set(s, &s->model, model);
  set_string(s, "type", type);
  if (nonblank(miner, "miner-sn") != NULL)
    am_sample_set(s, &s->serial, am_json_string(miner, "miner-sn"));
  gboolean working = TRUE;
  if (am_cgminer_get_bool(miner, "working", &working)) {
    am_sample_set_extra(s, "working", json_node_init_boolean(json_node_alloc(), working));
    /* set.miner.service stop (antmon's pause, or WhatsMinerTool) leaves
     * "working" false: stopped on purpose, so paused, not a problem. A
     * fault still shows through its error codes. */
    s->mining = working ? AM_MINING_HASHING : AM_MINING_PAUSED;
  }

  g_autofree char *mac = am_cgminer_format_mac(am_json_string(network, "mac"));
  if (mac != NULL)
    am_sample_set(s, &s->mac, mac);
  if (nonblank(network, "hostname") != NULL)
    am_sample_set(s, &s->hostname, am_json_string(network, "hostname"));

  if (nonblank(system, "fwversion") != NULL)
    am_sample_set(s, &s->firmware_version, am_json_string(system, "fwversion"));
  set_string(s, "api_version", nonblank(system, "api"));
  set_string(s, "platform", nonblank(system, "platform"));
  set_string(s, "control_board", nonblank(system, "control-board-version"));
  /* "0": the API takes no writes (the driver's actions() reads it). */
  set_string(s, "apiswitch", nonblank(system, "apiswitch"));
  /* set.system.led: "auto" is the firmware's own light; anything else is a
   * pattern set by a write, which antmon sets only to locate. */
  const char *led = nonblank(system, "ledstatus");
  if (led != NULL)
    s->locate = g_ascii_strcasecmp(led, "auto") != 0;

  set_double(s, "psu_fan_rpm", am_whatsminer_reading(power, "fanspeed", 1, 100000));
  set_string(s, "psu_model", nonblank(power, "model"));
  set_string(s, "psu_serial", nonblank(power, "sn"));
  set_string(s, "psu_firmware", nonblank(power, "swversion"));
  set_string(s, "power_mode", power_mode(nonblank(power, "mode")));
  am_whatsminer_set_work_mode(s, nonblank(power, "mode"));

  am_whatsminer_read_error_list(errors, am_json_array(msg, "error-code"));
}

/* pcbsnN of get.device.info is the serial of board N. */
static void
board_serials(JsonArray *boards, JsonObject *device_msg)
{
  JsonObject *miner = am_json_object(device_msg, "miner");
  for (guint i = 0; boards != NULL && miner != NULL && i < json_array_get_length(boards); i++) {
    JsonObject *b = json_array_get_object_element(boards, i);
    g_autofree char *key =
        g_strdup_printf("pcbsn%" G_GINT64_FORMAT, json_object_get_int_member(b, "id"));
    const char *serial = nonblank(miner, key);
    if (serial != NULL)
      json_object_set_string_member(b, "serial", serial);
  }
}

AmMatch
am_whatsminer_v3_match(const AmFingerprint *fp, guint16 v3_port)
{
  if (fp == NULL)
    return AM_MATCH_UNSUPPORTED;
  /* The core's v3 probe got a framed reply on 4433: only Whatsminers speak
   * that. */
  if (fp->v3_open)
    return AM_MATCH_SUPPORTED;
  /* Otherwise only for a miner configured on the v3 port: a fingerprint
   * where nothing answered on 4028 and HTTP is no evidence of any miner, and
   * the core ranks no driver for it (tests/test-selector.c,
   * test_rank_web_only). */
  if (fp->rpc_open || v3_port == 0 || fp->port != v3_port)
    return AM_MATCH_UNSUPPORTED;
  return AM_MATCH_MAYBE;
}

AmSample *
am_whatsminer_v3_parse(const AmWhatsminerV3Replies *replies, GError **error)
{
  g_return_val_if_fail(replies != NULL, NULL);
  if (replies->summary == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                        "no answer to 'get.miner.status summary'");
    return NULL;
  }
  JsonObject *summary = am_json_object(am_json_object(replies->summary, "msg"), "summary");
  if (summary == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        "the get.miner.status summary reply has no msg.summary object");
    return NULL;
  }

  g_autoptr(AmSample) s = am_sample_new();
  g_autoptr(JsonArray) partial = json_array_new();
  Parse p = {s, partial};
  am_sample_set(s, &s->driver, DRIVER_NAME);
  am_sample_set(s, &s->firmware, "btminer");
  am_sample_set(s, &s->algorithm, "sha256d");
  set_string(s, "api", "v3");

  for (guint i = 0; replies->failed != NULL && replies->failed[i] != NULL; i++) {
    const char *line = replies->failed[i];
    const char *colon = strstr(line, ": ");
    g_autofree char *what = colon != NULL ? g_strndup(line, colon - line) : g_strdup(line);
    fail(&p, what, colon != NULL ? colon + 2 : "no answer");
  }

  read_summary(s, summary);

  JsonObject *device = reply_part(&p, replies->device_info, "get.device.info", NULL, FALSE);
  JsonArray *edevs = reply_part(&p, replies->edevs, "get.miner.status edevs", "edevs", TRUE);
  JsonArray *pools = reply_part(&p, replies->pools, "get.miner.status pools", "pools", TRUE);

  g_autoptr(JsonArray) boards = edevs != NULL ? read_edevs(s, edevs) : NULL;
  if (edevs != NULL) {
    /* The board count means something only beside the boards' own list. */
    double expected = am_whatsminer_reading(am_json_object(device, "miner"), "board-num", 1,
                                            AM_CGMINER_MAX_CHAINS);
    if (!isnan(expected))
      s->chains_expected = (gint)expected;
    board_temperatures(s, summary);
  }
  /* The unit's hottest chip stands in only when no board told its own. */
  if (s->chip_temps_c->len == 0)
    am_sample_add_chip_temp(s, am_json_double(summary, "chip-temp-max"));

  g_autoptr(JsonArray) errors = json_array_new();
  if (device != NULL)
    read_device_info(s, device, errors);
  am_whatsminer_report_errors(s, errors, 0);
  if (boards != NULL) {
    board_serials(boards, device);
    JsonNode *node = json_node_alloc();
    json_node_init_array(node, boards);
    am_sample_set_extra(s, "boards", node);
  }
  if (pools != NULL)
    read_pools(s, pools);

  if (json_array_get_length(partial) > 0) {
    JsonNode *node = json_node_alloc();
    json_node_init_array(node, partial);
    am_sample_set_extra(s, "partial", node);
  }
  return g_steal_pointer(&s);
}
