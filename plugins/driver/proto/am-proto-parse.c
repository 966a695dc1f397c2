/* Proto Rig replies -> AmSample. See am-proto-parse.h and README.md. */
#include "am-proto-parse.h"

#include "../common/am-cgminer-common.h"
#include "am-rest-call.h"

#include <math.h>
#include <string.h>

/* No rig has more hashboards, fans, PSUs, pools or errors than this; a
 * garbled reply with thousands of entries costs linear time. */
#define MAX_ITEMS 64
/* The firmware's own name for itself (system-info os.name), also when
 * that reply is missing: the dashboard's "Proto OS" would make the name
 * change with whether /api/v1/system came. */
#define FIRMWARE_NAME "ProtoOS"

static const struct {
  const char *path;
  const char *name;
} endpoints[AM_PROTO_N_ENDPOINTS] = {
    [AM_PROTO_MINING] = {"/api/v1/mining", "mining"},
    /* Without level= only the miner totals come; asic-rs asks for these
     * three, which is what tests/fixtures/proto/ holds. */
    [AM_PROTO_TELEMETRY] = {"/api/v1/telemetry?level=miner,hashboard,psu", "telemetry"},
    [AM_PROTO_HARDWARE] = {"/api/v1/hardware", "hardware"},
    [AM_PROTO_COOLING] = {"/api/v1/cooling", "cooling"},
    [AM_PROTO_POOLS] = {"/api/v1/pools", "pools"},
    [AM_PROTO_ERRORS] = {"/api/v1/errors", "errors"},
    [AM_PROTO_SYSTEM] = {"/api/v1/system", "system"},
    [AM_PROTO_NETWORK] = {"/api/v1/network", "network"},
};

const char *
am_proto_endpoint_path(AmProtoEndpoint endpoint)
{
  g_return_val_if_fail(endpoint < AM_PROTO_N_ENDPOINTS, NULL);
  return endpoints[endpoint].path;
}

const char *
am_proto_endpoint_name(AmProtoEndpoint endpoint)
{
  g_return_val_if_fail(endpoint < AM_PROTO_N_ENDPOINTS, NULL);
  return endpoints[endpoint].name;
}

AmMatch
am_proto_match(const AmFingerprint *fp)
{
  /* The dashboard's <title> is "Proto OS"; the JSON API never says it. */
  if (fp->http_title != NULL && strstr(fp->http_title, "Proto OS") != NULL)
    return AM_MATCH_SUPPORTED;
  if (fp->http_body != NULL && strstr(fp->http_body, "<title>Proto OS") != NULL)
    return AM_MATCH_SUPPORTED;
  return AM_MATCH_UNSUPPORTED;
}

/* ---- bodies ------------------------------------------------------------- */

JsonNode *
am_proto_parse_body(AmProtoEndpoint endpoint, const char *data, gsize len, GError **error)
{
  g_return_val_if_fail(endpoint < AM_PROTO_N_ENDPOINTS, NULL);
  g_autofree char *what = g_strdup_printf("GET %s", endpoints[endpoint].path);
  g_autoptr(JsonNode) root = am_rest_parse_json(what, data, len, error);
  if (root == NULL)
    return NULL;
  gboolean want_array = endpoint == AM_PROTO_ERRORS;
  if (want_array ? !JSON_NODE_HOLDS_ARRAY(root) : !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not a JSON %s", what,
                want_array ? "array" : "object");
    return NULL;
  }
  return g_steal_pointer(&root);
}

char *
am_proto_parse_login(const char *data, gsize len, GError **error)
{
  g_autoptr(JsonNode) root = am_rest_parse_json("POST " AM_PROTO_LOGIN_PATH, data, len, error);
  if (root == NULL)
    return NULL;
  const char *token = JSON_NODE_HOLDS_OBJECT(root)
                          ? am_json_string(json_node_get_object(root), "access_token")
                          : NULL;
  if (token == NULL || *token == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "POST " AM_PROTO_LOGIN_PATH ": no access_token in the reply");
    return NULL;
  }
  return g_strdup(token);
}

/* ---- small readers ------------------------------------------------------ */

/* The object a reply wraps its content in ("mining-status"), or NULL. */
static JsonObject *
wrapped(const AmProtoReplies *r, AmProtoEndpoint endpoint, const char *member)
{
  JsonNode *node = r->replies[endpoint];
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
    return NULL;
  return member != NULL ? am_json_object(json_node_get_object(node), member)
                        : json_node_get_object(node);
}

/* A telemetry MetricValue {"value": 1.5, "unit": "W"}: the value when the
 * unit is the one expected (or not given), else NAN, so a unit the driver
 * does not know never passes for another. */
static double
metric(JsonObject *obj, const char *key, const char *unit)
{
  JsonObject *value = am_json_object(obj, key);
  const char *given = am_json_string(value, "unit");
  if (given != NULL && g_ascii_strcasecmp(given, unit) != 0)
    return NAN;
  return am_json_double(value, "value");
}

/* A hashrate MetricValue, converted by its own unit ("TH/s"). */
static double
metric_hashrate(JsonObject *obj, const char *key)
{
  JsonObject *value = am_json_object(obj, key);
  const char *unit = am_json_string(value, "unit");
  double v = am_json_double(value, "value");
  return isnan(v) ? NAN : am_hashrate_to_ths(v, unit != NULL ? unit : "TH/s");
}

static double
ghs_to_ths(JsonObject *obj, const char *key)
{
  double ghs = am_json_double(obj, key);
  return isnan(ghs) ? NAN : am_hashrate_to_ths(ghs, "GH");
}

/* ---- /api/v1/system and /api/v1/network --------------------------------- */

static void
set_string_extra(AmSample *s, const char *key, const char *value)
{
  if (value != NULL)
    am_sample_set_extra(s, key, json_node_init_string(json_node_alloc(), value));
}

static void
read_system(AmSample *s, JsonObject *sys)
{
  JsonObject *os = am_json_object(sys, "os");
  const char *os_name = am_json_string(os, "name");
  am_sample_set(s, &s->firmware, os_name != NULL ? os_name : FIRMWARE_NAME);
  am_sample_set(s, &s->firmware_version, am_json_string(os, "version"));
  const char *product = am_json_string(sys, "product_name");
  const char *model = am_json_string(sys, "model");
  if (product != NULL)
    am_sample_set(s, &s->model, product);
  else if (model != NULL) {
    g_autofree char *full = g_strdup_printf("Proto %s", model);
    am_sample_set(s, &s->model, full);
  }
  am_sample_set(s, &s->serial, am_json_string(sys, "cb_sn"));
  am_sample_set(s, &s->hostname, am_json_string(os, "hostname"));
  set_string_extra(s, "control_board", am_json_string(sys, "board"));
  set_string_extra(s, "api_version", am_json_string(am_json_object(sys, "web_server"), "version"));
  set_string_extra(s, "hashboard_firmware",
                   am_json_string(am_json_object(sys, "hashboard_firmware"), "version"));
  set_string_extra(s, "update_status",
                   am_json_string(am_json_object(sys, "sw_update_status"), "status"));
}

static void
read_network(AmSample *s, JsonObject *net)
{
  g_autofree char *mac = am_cgminer_format_mac(am_json_string(net, "mac"));
  if (mac != NULL)
    am_sample_set(s, &s->mac, mac);
  const char *hostname = am_json_string(net, "hostname");
  if (hostname != NULL)
    am_sample_set(s, &s->hostname, hostname);
}

/* ---- /api/v1/mining ----------------------------------------------------- */

/* The status enum of Proto's API (MiningStatus.status). */
static void
read_mining_state(AmSample *s, const char *status)
{
  static const struct {
    const char *status;
    AmMiningState state;
    const char *problem; /* the firmware itself reports a fault */
  } states[] = {
      {"Mining", AM_MINING_HASHING, NULL},
      {"DegradedMining", AM_MINING_HASHING, "Proto reports DegradedMining"},
      {"PoweringOn", AM_MINING_STARTING, NULL},
      {"Uninitialized", AM_MINING_STARTING, NULL},
      /* mining/stop, or on its way there: on purpose, not a fault. */
      {"PoweringOff", AM_MINING_PAUSED, NULL},
      {"Stopped", AM_MINING_PAUSED, NULL},
      {"NoPools", AM_MINING_UNKNOWN, "Proto reports NoPools: no pool is configured"},
      {"Error", AM_MINING_UNKNOWN, "Proto reports mining status Error"},
  };
  if (status == NULL)
    return;
  set_string_extra(s, "status", status);
  for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
    if (!g_str_equal(status, states[i].status))
      continue;
    s->mining = states[i].state;
    if (states[i].problem != NULL)
      am_sample_add_problem(s, "%s", states[i].problem);
    return;
  }
}

static void
read_mining(AmSample *s, JsonObject *m)
{
  read_mining_state(s, am_json_string(m, "status"));
  s->hashrate_ths = ghs_to_ths(m, "hashrate_ghs");
  s->hashrate_avg_ths = ghs_to_ths(m, "average_hashrate_ghs");
  s->hashrate_ideal_ths = ghs_to_ths(m, "ideal_hashrate_ghs");
  s->power_w = am_json_double(m, "power_usage_watts");
  s->power_limit_w = am_json_double(m, "power_target_watts");
  s->elapsed_s = am_json_int(m, "reboot_uptime_s", AM_UNKNOWN);
  s->hw_errors = am_json_int(m, "hw_errors", AM_UNKNOWN);
  s->chains_expected = (gint)am_json_int(m, "hashboards_installed", AM_UNKNOWN);
  gint64 mining_uptime = am_json_int(m, "mining_uptime_s", AM_UNKNOWN);
  if (mining_uptime >= 0)
    am_sample_set_extra(s, "mining_uptime_s", json_node_init_int(json_node_alloc(), mining_uptime));
  double asic_temp = am_json_double(m, "average_asic_temp_c");
  if (!isnan(asic_temp))
    am_sample_set_extra(s, "average_asic_temp_c",
                        json_node_init_double(json_node_alloc(), asic_temp));
  gint64 boards_mining = am_json_int(m, "hashboards_mining", AM_UNKNOWN);
  if (boards_mining >= 0)
    am_sample_set_extra(s, "hashboards_mining",
                        json_node_init_int(json_node_alloc(), boards_mining));
}

/* ---- /api/v1/telemetry: the miner totals -------------------------------- */

/* Telemetry is the rig's live reading; /api/v1/mining's figures stand when
 * telemetry did not come. */
static void
read_miner_telemetry(AmSample *s, JsonObject *miner)
{
  double ths = metric_hashrate(miner, "hashrate");
  if (!isnan(ths))
    s->hashrate_ths = ths;
  double watts = metric(miner, "power", "W");
  if (!isnan(watts))
    s->power_w = watts;
}

/* ---- hashboards: /api/v1/hardware joined with telemetry ---------------- */

/* The telemetry entry of a board: by serial, else by index, which Proto
 * counts from 0 where hardware slots count from 1 (the recorded replies
 * pair index 0 with slot 1 by serial). */
static JsonObject *
board_telemetry(JsonArray *boards, const char *serial, gint slot)
{
  guint n = boards != NULL ? MIN(json_array_get_length(boards), MAX_ITEMS) : 0;
  for (guint i = 0; serial != NULL && i < n; i++) {
    JsonObject *b = am_json_array_object(boards, i);
    if (g_strcmp0(am_json_string(b, "serial_number"), serial) == 0)
      return b;
  }
  for (guint i = 0; slot > 0 && i < n; i++) {
    JsonObject *b = am_json_array_object(boards, i);
    if (am_json_int(b, "index", G_MININT64) == slot - 1)
      return b;
  }
  return NULL;
}

static void
fill_chain(AmChain *chain, JsonObject *t)
{
  chain->hashrate_ths = metric_hashrate(t, "hashrate");
  chain->power_w = metric(t, "power", "W");
  chain->voltage_v = metric(t, "voltage", "V");
  JsonObject *temp = am_json_object(t, "temperature");
  const char *unit = am_json_string(temp, "unit");
  if (unit != NULL && !g_str_equal(unit, "\u00b0C") && g_ascii_strcasecmp(unit, "C") != 0)
    return; /* a unit we do not know: no temperatures rather than wrong ones */
  double average = am_json_double(temp, "average");
  double inlet = am_json_double(temp, "inlet");
  double outlet = am_json_double(temp, "outlet");
  /* The board's only reading is its sensors' average. */
  chain->temp_board_c = am_temp_is_valid(average) ? average : NAN;
  chain->temp_inlet_c = am_temp_is_valid(inlet) ? inlet : NAN;
  chain->temp_outlet_c = am_temp_is_valid(outlet) ? outlet : NAN;
}

static void
add_chain(AmSample *s, gint slot, const char *serial, gint64 chips, JsonObject *telemetry)
{
  AmChain *chain = am_sample_add_chain(s, slot);
  chain->chips = chips >= 0 && chips <= G_MAXINT ? (gint)chips : AM_UNKNOWN;
  if (telemetry != NULL)
    fill_chain(chain, telemetry);
  double board_temp = chain->temp_board_c;
  guint pos = s->chains->len - 1;
  if (serial == NULL)
    serial = am_json_string(telemetry, "serial_number");
  if (serial != NULL)
    am_sample_set_chain_serial(s, pos, serial);
  if (!isnan(board_temp))
    am_sample_add_temp(s, board_temp);
}

static void
read_chains(AmSample *s, JsonObject *hardware, JsonObject *telemetry)
{
  JsonArray *installed = am_json_array(hardware, "hashboards-info");
  JsonArray *live = am_json_array(telemetry, "hashboards");
  if (installed != NULL) {
    guint n = MIN(json_array_get_length(installed), MAX_ITEMS);
    for (guint i = 0; i < n; i++) {
      JsonObject *hb = am_json_array_object(installed, i);
      gint64 slot = am_json_int(hb, "slot", AM_UNKNOWN);
      if (hb == NULL || slot < 0 || slot > G_MAXINT)
        continue;
      const char *serial = am_json_string(hb, "hb_sn");
      add_chain(s, (gint)slot, serial, am_json_int(hb, "mining_asic_count", AM_UNKNOWN),
                board_telemetry(live, serial, (gint)slot));
    }
    return;
  }
  /* No hardware reply: the boards telemetry knows, at slot index + 1. */
  guint n = live != NULL ? MIN(json_array_get_length(live), MAX_ITEMS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *t = am_json_array_object(live, i);
    gint64 index = am_json_int(t, "index", AM_UNKNOWN);
    if (t != NULL && index >= 0 && index < G_MAXINT)
      add_chain(s, (gint)index + 1, NULL, AM_UNKNOWN, t);
  }
}

/* ---- PSUs --------------------------------------------------------------- */

/* The rig's PSUs together: input and output power summed when every PSU
 * reports it; the serial when there is one PSU, all serials in extras. */
static void
read_psus(AmSample *s, JsonObject *telemetry, JsonObject *hardware)
{
  JsonArray *psus = am_json_array(telemetry, "psus");
  gboolean live = psus != NULL;
  const char *serial_key = "serial_number";
  if (!live) {
    psus = am_json_array(hardware, "psus-info");
    serial_key = "psu_sn";
  }
  guint n = psus != NULL ? MIN(json_array_get_length(psus), MAX_ITEMS) : 0;
  if (n == 0)
    return;
  double in = 0, out = 0;
  g_autoptr(JsonArray) serials = json_array_new();
  for (guint i = 0; i < n; i++) {
    JsonObject *psu = am_json_array_object(psus, i);
    JsonObject *power = am_json_object(psu, "power");
    const char *unit = am_json_string(power, "unit");
    gboolean watts = unit == NULL || g_str_equal(unit, "W");
    in += watts ? am_json_double(power, "input") : NAN;
    out += watts ? am_json_double(power, "output") : NAN;
    const char *serial = am_json_string(psu, serial_key);
    if (serial != NULL)
      json_array_add_string_element(serials, serial);
  }
  if (live) {
    s->psu_power_in_w = in;
    s->psu_power_out_w = out;
  }
  if (n == 1 && json_array_get_length(serials) == 1)
    am_sample_set(s, &s->psu_serial, json_array_get_string_element(serials, 0));
  if (json_array_get_length(serials) > 0)
    am_sample_set_extra(s, "psu_serials", json_node_init_array(json_node_alloc(), serials));
}

/* ---- /api/v1/cooling ---------------------------------------------------- */

static void
read_cooling(AmSample *s, JsonObject *cooling, JsonObject *hardware)
{
  JsonArray *fans = am_json_array(cooling, "fans");
  guint n = fans != NULL ? MIN(json_array_get_length(fans), MAX_ITEMS) : 0;
  for (guint i = 0; i < n; i++)
    am_sample_add_fan(s, am_json_double(am_json_array_object(fans, i), "rpm"));
  JsonArray *slots = am_json_array(hardware, "fans-info");
  if (slots != NULL)
    s->fans_expected = (gint)MIN(json_array_get_length(slots), MAX_ITEMS);
  set_string_extra(s, "fan_mode", am_json_string(cooling, "fan_mode"));
  double pct = am_json_double(cooling, "speed_percentage");
  if (!isnan(pct))
    am_sample_set_extra(s, "fan_speed_pct", json_node_init_double(json_node_alloc(), pct));
  double target = am_json_double(cooling, "target_temperature_c");
  if (!isnan(target))
    am_sample_set_extra(s, "target_temp_c", json_node_init_double(json_node_alloc(), target));
}

/* ---- /api/v1/pools ------------------------------------------------------ */

static void
read_pools(AmSample *s, JsonArray *pools)
{
  guint n = pools != NULL ? MIN(json_array_get_length(pools), MAX_ITEMS) : 0;
  gint64 accepted = 0, rejected = 0;
  gboolean counted = n > 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *p = am_json_array_object(pools, i);
    const char *url = am_json_string(p, "url");
    if (p == NULL || url == NULL || *url == '\0')
      continue;
    AmPool *pool = am_sample_add_pool(s, url, am_json_string(p, "user"));
    const char *status = am_json_string(p, "status");
    pool->status = g_strdup(status);
    pool->priority = (gint)CLAMP(am_json_int(p, "priority", AM_UNKNOWN), AM_UNKNOWN, G_MAXINT);
    pool->accepted = am_json_int(p, "accepted", AM_UNKNOWN);
    pool->rejected = am_json_int(p, "rejected", AM_UNKNOWN);
    /* "Active" is the pool in use; "Idle" waits by priority. */
    pool->active = g_strcmp0(status, "Active") == 0;
    double best = am_json_double(p, "best_difficulty_share");
    if (!isnan(best) && (isnan(s->best_share) || best > s->best_share))
      s->best_share = best;
    if (pool->accepted < 0 || pool->rejected < 0)
      counted = FALSE;
    accepted += MAX(pool->accepted, 0);
    rejected += MAX(pool->rejected, 0);
  }
  /* The rig keeps no total of its own: the pools' counters are all of it. */
  if (counted && s->pools->len > 0) {
    s->accepted = accepted;
    s->rejected = rejected;
  }
}

/* ---- /api/v1/errors ----------------------------------------------------- */

static AmErrorSeverity
severity_of(JsonObject *e)
{
  const char *severity = am_json_string(e, "severity");
  if (severity == NULL)
    return AM_ERROR_SEVERITY_WARNING; /* the API's errors carry no severity */
  if (g_ascii_strcasecmp(severity, "error") == 0 || g_ascii_strcasecmp(severity, "critical") == 0)
    return AM_ERROR_SEVERITY_ERROR;
  if (g_ascii_strcasecmp(severity, "info") == 0)
    return AM_ERROR_SEVERITY_INFO;
  return AM_ERROR_SEVERITY_WARNING;
}

/* "hashboard 2", "fan 3", "psu 1", "rig": the source and its slot. */
static char *
component_of(JsonObject *e)
{
  const char *source = am_json_string(e, "source");
  if (source == NULL)
    return NULL;
  g_autofree char *lower = g_ascii_strdown(source, -1);
  gint64 slot = am_json_int(e, "slot", AM_UNKNOWN);
  if (slot < 0 || g_str_equal(lower, "rig"))
    return g_steal_pointer(&lower);
  return g_strdup_printf("%s %" G_GINT64_FORMAT, lower, slot);
}

static void
read_errors(AmSample *s, JsonArray *errors)
{
  guint n = errors != NULL ? MIN(json_array_get_length(errors), MAX_ITEMS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *e = am_json_array_object(errors, i);
    if (e == NULL)
      continue;
    g_autofree char *component = component_of(e);
    AmMinerError *error =
        am_sample_add_error(s, am_json_string(e, "error_code"), am_json_string(e, "message"),
                            component, severity_of(e));
    gint64 since = am_json_int(e, "timestamp", AM_UNKNOWN);
    error->since_s = since > 0 ? since : AM_UNKNOWN;
  }
}

/* ---- the whole poll ----------------------------------------------------- */

static JsonArray *
reply_array(const AmProtoReplies *r, AmProtoEndpoint endpoint, const char *member)
{
  JsonNode *node = r->replies[endpoint];
  if (node == NULL)
    return NULL;
  if (member == NULL)
    return JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
  return JSON_NODE_HOLDS_OBJECT(node) ? am_json_array(json_node_get_object(node), member) : NULL;
}

AmSample *
am_proto_parse(const AmProtoReplies *r, GError **error)
{
  JsonObject *mining = wrapped(r, AM_PROTO_MINING, "mining-status");
  JsonObject *telemetry = wrapped(r, AM_PROTO_TELEMETRY, NULL);
  JsonObject *miner = am_json_object(telemetry, "miner");
  if (mining == NULL && miner == NULL && am_json_array(telemetry, "hashboards") == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "neither /api/v1/mining nor /api/v1/telemetry gave a reading");
    return NULL;
  }
  JsonObject *hardware = wrapped(r, AM_PROTO_HARDWARE, "hardware-info");
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, "proto");
  am_sample_set(s, &s->firmware, FIRMWARE_NAME);
  am_sample_set(s, &s->algorithm, "sha256d");
  if (mining != NULL)
    read_mining(s, mining);
  if (miner != NULL)
    read_miner_telemetry(s, miner);
  if (!isnan(s->power_w))
    s->power_source = AM_POWER_SOURCE_REPORTED;
  read_chains(s, hardware, telemetry);
  read_psus(s, telemetry, hardware);
  read_cooling(s, wrapped(r, AM_PROTO_COOLING, "cooling-status"), hardware);
  read_pools(s, reply_array(r, AM_PROTO_POOLS, "pools"));
  read_errors(s, reply_array(r, AM_PROTO_ERRORS, NULL));
  JsonObject *system = wrapped(r, AM_PROTO_SYSTEM, "system-info");
  if (system != NULL)
    read_system(s, system);
  JsonObject *cb = am_json_object(hardware, "cb-info");
  if (s->serial == NULL)
    am_sample_set(s, &s->serial, am_json_string(cb, "serial_number"));
  JsonObject *network = wrapped(r, AM_PROTO_NETWORK, "network-info");
  if (network != NULL)
    read_network(s, network);
  return g_steal_pointer(&s);
}
