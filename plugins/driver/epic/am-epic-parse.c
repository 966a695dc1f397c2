/* The epic normalizer, part one: the reply bodies, match(), identity,
 * hashrates, pools, the operating state and the firmware's errors. Which
 * rules rest on real replies and which are assumptions is listed in
 * README.md next to this file. */
#include "../common/am-cgminer-common.h"
#include "am-epic-private.h"

#include <math.h>
#include <string.h>

#define FIRMWARE_NAME "ePIC UMC OS"
#define MAX_HASHRATE_THS 1.0e6 /* 1 EH/s: beyond any one miner */

/* ---- bodies ------------------------------------------------------------- */

JsonNode *
am_epic_parse_body(const char *path, const char *data, gsize len, GError **error)
{
  g_return_val_if_fail(path != NULL, NULL);
  if (data == NULL || len == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: empty reply", path);
    return NULL;
  }
  if (len > (gsize)G_MAXSSIZE) {
    g_set_error(error, AM_ERROR, AM_ERROR_TOO_LARGE, "%s: reply too large", path);
    return NULL;
  }
  /* A JSON writer never emits a NUL; a parser could stop at one and take
   * what precedes it for the whole reply. */
  const char *nul = memchr(data, '\0', len);
  if (nul != NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not JSON: a NUL byte at offset %td", path,
                nul - data);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not JSON: %s", path, local->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: empty reply", path);
    return NULL;
  }
  return json_node_copy(root);
}

JsonObject *
am_epic_root_object(const char *path, JsonNode *node, GError **error)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not a JSON object", path);
    return NULL;
  }
  return json_object_ref(json_node_get_object(node));
}

JsonArray *
am_epic_root_array(const char *path, JsonNode *node, GError **error)
{
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not a JSON array", path);
    return NULL;
  }
  return json_array_ref(json_node_get_array(node));
}

/* ---- match -------------------------------------------------------------- */

/* What names PowerPlay in GET /: its web UI's page title, and the names a
 * rebranded or newer page still carries. */
static gboolean
names_epic(const char *text)
{
  static const char *const names[] = {"Miner Web Dashboard", "ePIC", "umcOS", "PowerPlay"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    if (am_cgminer_contains_ci(text, names[i]))
      return TRUE;
  return FALSE;
}

AmMatch
am_epic_match(const AmFingerprint *fp)
{
  if (fp == NULL || fp->version != NULL)
    return AM_MATCH_UNSUPPORTED;
  gboolean named =
      names_epic(fp->http_title) || names_epic(fp->http_body) || names_epic(fp->http_server);
  if (fp->http_on_rpc_port)
    return named ? AM_MATCH_SUPPORTED : AM_MATCH_MAYBE;
  /* The page on another port (the user named host:port, or a NAT): the
   * API sits beside the page on the same server. */
  if (fp->http_open && named)
    return AM_MATCH_LIKELY;
  return AM_MATCH_UNSUPPORTED;
}

/* ---- identity ----------------------------------------------------------- */

/* capabilities.Model spells the maker "AntMiner"; the other drivers (and
 * Bitmain's own firmware) say "Antminer". (transfer full) */
static char *
model_name(JsonObject *capabilities)
{
  char *model = am_cgminer_clean_model(am_epic_nonblank(capabilities, "Model"));
  if (model != NULL && g_str_has_prefix(model, "AntMiner"))
    memcpy(model, "Antminer", strlen("Antminer"));
  return model;
}

/* /network is {"dhcp": {...}} or {"static": {...}}; both carry
 * mac_address. (transfer full) */
static char *
network_mac(JsonObject *network)
{
  JsonObject *mode = am_json_object(network, "dhcp");
  if (mode == NULL)
    mode = am_json_object(network, "static");
  return am_cgminer_format_mac(am_json_string(mode, "mac_address"));
}

/* Mining.Algorithm names it as people write it ("SHA-256"). */
static const char *
algorithm_name(JsonObject *summary)
{
  const char *algo = am_epic_nonblank(am_json_object(summary, "Mining"), "Algorithm");
  if (algo == NULL || g_ascii_strcasecmp(algo, "SHA-256") == 0 ||
      g_ascii_strcasecmp(algo, "SHA256") == 0)
    return "sha256d"; /* UMC OS runs on SHA-256 miners (Antminer, ePIC's own) */
  return algo;
}

static void
read_identity(AmSample *sample, const AmEpicReplies *r)
{
  am_sample_set(sample, &sample->firmware, FIRMWARE_NAME);
  am_sample_set(sample, &sample->firmware_version, am_epic_nonblank(r->summary, "Software"));
  am_sample_set(sample, &sample->hostname, am_epic_nonblank(r->summary, "Hostname"));
  g_autofree char *algo = g_ascii_strdown(algorithm_name(r->summary), -1);
  am_sample_set(sample, &sample->algorithm, algo);
  g_autofree char *model = model_name(r->capabilities);
  am_sample_set(sample, &sample->model, model);
  /* Firmware from 1.30 names the miner's own serial; cpuSerial is the
   * control board's, which moves with a board swap: an extra. */
  am_sample_set(sample, &sample->serial, am_epic_nonblank(r->capabilities, "Miner Serial Number"));
  g_autofree char *mac = network_mac(r->network);
  am_sample_set(sample, &sample->mac, mac);
}

/* ---- hashrate and tuning ------------------------------------------------ */

/* PerpetualTune.Algorithm holds the one tuner in use, keyed by its name
 * ("VoltageOptimizer", "ChipTune", "BoardTune", "Power"), with the owner's
 * Target in its Unit ("TH/s", or "W" for the power tuner). */
static JsonObject *
tuner(JsonObject *summary, const char **name)
{
  JsonObject *tune = am_json_object(summary, "PerpetualTune");
  gboolean running = FALSE;
  if (!am_epic_bool(tune, "Running", &running) || !running)
    return NULL;
  JsonObject *algos = am_json_object(tune, "Algorithm");
  g_autoptr(GList) members = algos != NULL ? json_object_get_members(algos) : NULL;
  if (members == NULL || members->next != NULL)
    return NULL;
  *name = members->data;
  return am_json_object(algos, *name);
}

/* The ideal hashrate is what the running tuner aims at: the owner's
 * Target, not Throttle Target (the firmware's own cut when it runs hot,
 * which the hashrate alert should show), else capabilities."Default
 * Hashrate", the model's stock rate in TH/s. A power tuner's Target is
 * the power limit. */
static void
read_tuning(AmSample *sample, const AmEpicReplies *r)
{
  const char *name = NULL;
  JsonObject *algo = tuner(r->summary, &name);
  const char *unit = am_json_string(algo, "Unit");
  double target = am_epic_positive(algo, "Target");
  if (algo != NULL)
    am_sample_set(sample, &sample->work_mode, name);
  if (g_strcmp0(unit, "TH/s") == 0 && target <= MAX_HASHRATE_THS)
    sample->hashrate_ideal_ths = target;
  else if (g_strcmp0(unit, "W") == 0)
    sample->power_limit_w = target;
  if (isnan(sample->hashrate_ideal_ths)) {
    double stock = am_epic_positive(r->capabilities, "Default Hashrate");
    sample->hashrate_ideal_ths = stock <= MAX_HASHRATE_THS ? stock : NAN;
  }
}

/* ---- pools -------------------------------------------------------------- */

/* StratumConfigs[] are the configured pools in order, each with the login
 * its owner set; Stratum."Config Id" is the one in use, IsPoolConnected
 * its state. "Current User" is the worker name as sent (PowerPlay may
 * append a unique id to the login): an extra, so that a pool's user does
 * not change with whether the pool in use is known. The session's share
 * counters belong to whichever pool took the shares, so they are the
 * sample's totals and no pool's own. */
static void
read_pools(AmSample *sample, JsonObject *summary)
{
  JsonObject *stratum = am_json_object(summary, "Stratum");
  gint64 active_id = am_epic_count(stratum, "Config Id");
  gboolean connected = FALSE;
  gboolean known = am_epic_bool(stratum, "IsPoolConnected", &connected);
  JsonArray *configs = am_json_array(summary, "StratumConfigs");
  guint n = configs != NULL ? json_array_get_length(configs) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *config = am_json_array_object(configs, i);
    const char *url = am_epic_nonblank(config, "pool");
    if (url == NULL)
      continue;
    gboolean active = (gint64)i == active_id;
    AmPool *pool = am_sample_add_pool(sample, url, am_epic_nonblank(config, "login"));
    pool->priority = (gint)i;
    pool->active = active;
    if (active && known)
      pool->status = g_strdup(connected ? "Alive" : "Dead");
  }
  const char *current = am_epic_nonblank(stratum, "Current User");
  if (current != NULL)
    am_sample_set_extra(sample, "current_user", json_node_init_string(json_node_alloc(), current));
  JsonObject *session = am_json_object(summary, "Session");
  sample->accepted = am_epic_count(session, "Accepted");
  sample->rejected = am_epic_count(session, "Rejected");
}

/* ---- state and errors --------------------------------------------------- */

static const struct {
  const char *state;
  AmMiningState mining;
} states[] = {
    {"Mining", AM_MINING_HASHING},
    /* Stop (POST /miner) leaves it Idling */
    {"Idling", AM_MINING_PAUSED},
    {"Stopping", AM_MINING_PAUSED},
    {"Initializing", AM_MINING_STARTING},
    {"Loading", AM_MINING_STARTING},
    {"PreInitCooldown", AM_MINING_STARTING},
    {"AdjustingClockVoltage", AM_MINING_STARTING},
    {"Testing", AM_MINING_STARTING},
    /* a reboot or an update ends in a fresh start */
    {"Rebooting", AM_MINING_STARTING},
    {"SoftRebooting", AM_MINING_STARTING},
    {"UpdatingFirmware", AM_MINING_STARTING},
};

/* Status."Operating State" (PowerPlay's MinerState). Idling is a pause
 * only when asked for: with IdleOnConnectionLost the firmware also idles
 * when the pool is gone, which is a fault to alert on. */
static void
read_state(AmSample *sample, JsonObject *summary)
{
  const char *state = am_epic_nonblank(am_json_object(summary, "Status"), "Operating State");
  if (state == NULL)
    return;
  am_sample_set_extra(sample, "operating_state", json_node_init_string(json_node_alloc(), state));
  for (guint i = 0; i < G_N_ELEMENTS(states); i++)
    if (g_str_equal(state, states[i].state))
      sample->mining = states[i].mining;
  gboolean connected = TRUE;
  if (g_str_equal(state, "Idling") &&
      am_epic_bool(am_json_object(summary, "Stratum"), "IsPoolConnected", &connected) &&
      !connected) {
    sample->mining = AM_MINING_UNKNOWN;
    am_sample_add_problem(sample, "idling: no pool connection");
  }
}

/* A MinerError is a bare name ("NoHashboardsConnected") or an object with
 * one member, the name, holding details ({"UartReadError": 3}). */
static void
add_miner_error(AmSample *sample, JsonNode *node, const char *component, AmErrorSeverity severity)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL(node))
    return;
  if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING) {
    am_sample_add_error(sample, json_node_get_string(node), NULL, component, severity);
    return;
  }
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    JsonObject *obj = json_node_get_object(node);
    g_autoptr(GList) members = json_object_get_members(obj);
    if (members == NULL)
      return;
    g_autofree char *details = json_to_string(json_object_get_member(obj, members->data), FALSE);
    am_sample_add_error(sample, members->data, details, component, severity);
    return;
  }
  g_autofree char *text = json_to_string(node, FALSE);
  am_sample_add_error(sample, NULL, text, component, severity);
}

/* Status."Last Error" stays after the miner recovered: while it mines the
 * error is history (a warning); otherwise it is why it does not. */
static void
read_errors(AmSample *sample, JsonObject *summary)
{
  JsonObject *status = am_json_object(summary, "Status");
  AmErrorSeverity severity =
      sample->mining == AM_MINING_HASHING ? AM_ERROR_SEVERITY_WARNING : AM_ERROR_SEVERITY_ERROR;
  if (status != NULL)
    add_miner_error(sample, json_object_get_member(status, "Last Error"), NULL, severity);
  add_miner_error(sample, json_object_get_member(summary, "Last License Error"), "license",
                  AM_ERROR_SEVERITY_WARNING);
}

/* ---- extras ------------------------------------------------------------- */

static void
set_string_extra(AmSample *sample, const char *key, const char *value)
{
  if (value != NULL)
    am_sample_set_extra(sample, key, json_node_init_string(json_node_alloc(), value));
}

static void
set_number_extra(AmSample *sample, const char *key, double value)
{
  if (!isnan(value))
    am_sample_set_extra(sample, key, json_node_init_double(json_node_alloc(), value));
}

/* What the ePIC dashboard shows that the canonical sample has no field
 * for, as x_epic_<key>. */
static void
read_extras(AmSample *sample, const AmEpicReplies *r)
{
  set_string_extra(sample, "os_type", am_epic_nonblank(r->summary, "OS Type"));
  set_string_extra(sample, "chip_type", am_epic_nonblank(r->capabilities, "Chip Type"));
  set_string_extra(sample, "model_subtype", am_epic_nonblank(r->capabilities, "Model Subtype"));
  set_string_extra(
      sample, "control_board_serial",
      am_epic_nonblank(am_json_object(r->capabilities, "Control Board Version"), "cpuSerial"));
  JsonObject *misc = am_json_object(r->summary, "Misc");
  set_number_extra(sample, "shutdown_temp_c", am_epic_positive(misc, "Shutdown Temp"));
  set_number_extra(sample, "critical_temp_c", am_epic_positive(misc, "Critical Temp"));
  gboolean locate = FALSE;
  if (am_epic_bool(misc, "Locate Miner State", &locate)) {
    am_sample_set_extra(sample, "locate", json_node_init_boolean(json_node_alloc(), locate));
    /* What confirms POST /identify. */
    sample->locate = locate;
  }
  set_number_extra(sample, "preset_target_power_w",
                   am_epic_positive(am_json_object(r->summary, "PresetInfo"), "Target Power"));
  set_number_extra(
      sample, "pool_latency_s",
      am_epic_number_in(am_json_object(r->summary, "Stratum"), "Average Latency", 0, G_MAXDOUBLE));
}

/* ---- the whole sample --------------------------------------------------- */

/* Members every /summary has (PowerPlay's SummaryResponse requires them);
 * an object with none of them is some other web API's reply. */
static gboolean
looks_like_summary(JsonObject *summary)
{
  static const char *const keys[] = {"HBs", "Session", "Status", "Software", "Stratum"};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    if (json_object_has_member(summary, keys[i]))
      return TRUE;
  return FALSE;
}

static void
mark_one(AmSample *sample, gconstpointer reply, const char *path, const char *why)
{
  if (reply != NULL)
    return;
  if (why != NULL)
    am_sample_mark_partial(sample, "%s", why);
  else
    am_sample_mark_partial(sample, "%s: no reply", path);
}

/* The optional replies that did not come: the rest stands, partial. */
static void
mark_missing(AmSample *sample, const AmEpicReplies *r)
{
  mark_one(sample, r->capabilities, AM_EPIC_CAPABILITIES_PATH, r->capabilities_error);
  mark_one(sample, r->temps, AM_EPIC_TEMPS_PATH, r->temps_error);
  mark_one(sample, r->network, AM_EPIC_NETWORK_PATH, r->network_error);
  mark_one(sample, r->hashrate, AM_EPIC_HASHRATE_PATH, r->hashrate_error);
  mark_one(sample, r->chip_temps, AM_EPIC_CHIP_TEMPS_PATH, r->chip_temps_error);
}

AmSample *
am_epic_parse(const AmEpicReplies *r, GError **error)
{
  g_return_val_if_fail(r != NULL, NULL);
  if (r->summary == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "no %s reply", AM_EPIC_SUMMARY_PATH);
    return NULL;
  }
  if (!looks_like_summary(r->summary)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "%s: not a PowerPlay reply (no HBs, Session, Status, Software or Stratum)",
                AM_EPIC_SUMMARY_PATH);
    return NULL;
  }
  g_autoptr(AmSample) sample = am_sample_new();
  am_sample_set(sample, &sample->driver, AM_EPIC_DRIVER_NAME);
  read_identity(sample, r);

  JsonObject *session = am_json_object(r->summary, "Session");
  double avg_mhs = am_epic_number_in(session, "Average MHs", 0, MAX_HASHRATE_THS * 1.0e6);
  sample->hashrate_avg_ths = avg_mhs / 1.0e6;
  sample->elapsed_s = am_epic_count(session, "Uptime");

  read_tuning(sample, r);
  am_epic_read_boards(sample, r);
  am_epic_read_power(sample, r->summary);
  am_epic_read_fans(sample, r->summary);
  read_pools(sample, r->summary);
  read_state(sample, r->summary);
  read_errors(sample, r->summary);
  read_extras(sample, r);
  mark_missing(sample, r);
  return g_steal_pointer(&sample);
}
