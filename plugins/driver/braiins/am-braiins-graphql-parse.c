/* Braiins OS GraphQL answers -> AmSample. Pure: see am-braiins-graphql-parse.h.
 *
 * What the recorded answers show (tests/fixtures/braiins-graphql/, BOS
 * 22.08, 24.09, 25.03 and 25.05.1, asic-rs):
 *  - hashrates are MH/s, power W, temperatures C, frequency MHz, voltage V;
 *  - temperature names changed: "Board"/"Chip" (22.08, 24.09), "Max Board",
 *    "Max Chip", "Inlet", "Outlet" (25.03), MAX_BOARD ... (25.05's enum);
 *  - every fan header is listed: an S9 lists four with two at 0 RPM, so
 *    the list's length is not the fan count;
 *  - power is approxConsumptionW, the firmware's estimate. */
#include "am-braiins-graphql-parse.h"

#include "../common/am-cgminer-common.h"

#include <math.h>
#include <string.h>

#define DRIVER_NAME "braiins"
#define MAX_ERRORS 16

/* The selections are asic-rs's (what the recorded answers answer), one
 * line each. */
static const struct {
  const char *name, *query;
} queries[AM_BRAIINS_GQL_N_QUERIES] = {
    [AM_BRAIINS_GQL_SYSTEM] = {"system",
                               "{ bos { hostname faultLight info { version { full } } uptime { "
                               "durationS } } bosminer { info { workSolver { realHashrate { mhs5S "
                               "} nominalMhs } fans { name speed rpm } summary { power { limitW "
                               "approxConsumptionW } } } } }"},
    [AM_BRAIINS_GQL_MODEL] = {"model", "{ bosminer { info { modelName } } }"},
    [AM_BRAIINS_GQL_BOARDS] = {"boards", NULL /* board_query() */},
    [AM_BRAIINS_GQL_POOLS] = {"pools", "{ bosminer { config { ... on BosminerConfig { groups { id "
                                       "strategy { ... on QuotaStrategy { quota } } } } } info { "
                                       "poolGroups { name pools { url user status active shares { "
                                       "acceptedSolutions rejectedSolutions } } } } } }"},
    [AM_BRAIINS_GQL_TUNING] = {"tuning",
                               "{ bosminer { config { ... on BosminerConfig { autotuning { mode "
                               "powerTarget hashrateTarget } } } info { summary { power { limitW "
                               "} } } } }"},
    [AM_BRAIINS_GQL_EVENTS] = {"events", "{ events { appeals { id kind message timestamp } } }"},
};

const char *
am_braiins_gql_name(AmBraiinsGqlQuery query)
{
  return query < AM_BRAIINS_GQL_N_QUERIES ? queries[query].name : NULL;
}

static char *
board_query(gboolean serials)
{
  return g_strdup_printf("{ bosminer { info { workSolver { childSolvers { name realHashrate { "
                         "mhs5S } nominalMhs hwDetails { chips frequencyMhz voltageV%s } "
                         "temperatures { name degreesC } } } } } }",
                         serials ? " hbSerialNumber" : "");
}

static char *
body_to_string(JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

char *
am_braiins_gql_request_body(AmBraiinsGqlQuery query, gboolean board_serials)
{
  g_return_val_if_fail(query < AM_BRAIINS_GQL_N_QUERIES, NULL);
  g_autofree char *boards = query == AM_BRAIINS_GQL_BOARDS ? board_query(board_serials) : NULL;
  g_autoptr(JsonBuilder) b = json_builder_new_immutable();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "query");
  json_builder_add_string_value(b, boards != NULL ? boards : queries[query].query);
  json_builder_end_object(b);
  return body_to_string(b);
}

char *
am_braiins_gql_login_body(const char *user, const char *password)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "query");
  json_builder_add_string_value(
      b, "mutation ($username: String!, $password: String!) { auth { login(username: $username, "
         "password: $password) { ... on VoidResult { void } ... on AuthError { message } } } }");
  json_builder_set_member_name(b, "variables");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "username");
  json_builder_add_string_value(b, user != NULL ? user : "");
  json_builder_set_member_name(b, "password");
  json_builder_add_string_value(b, password != NULL ? password : "");
  json_builder_end_object(b);
  json_builder_end_object(b);
  return body_to_string(b);
}

/* ---- answers ------------------------------------------------------------- */

/* Strict JSON object, or NULL with AM_ERROR_PARSE naming @name. */
static JsonNode *
parse_object(const char *name, const char *data, gsize len, GError **error)
{
  if (data == NULL || len == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "graphql/%s: empty reply", name);
    return NULL;
  }
  if (memchr(data, '\0', len) != NULL || len > G_MAXSSIZE) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "graphql/%s: not JSON (a NUL byte)", name);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "graphql/%s: not JSON: %s", name, local->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "graphql/%s: not a JSON object", name);
    return NULL;
  }
  return json_node_ref(root);
}

/* The first entry of a non-empty "errors" list, or NULL. */
static JsonObject *
first_graphql_error(JsonObject *root, gboolean *any)
{
  JsonArray *errors = am_json_array(root, "errors");
  *any = errors != NULL && json_array_get_length(errors) > 0;
  return *any ? am_json_array_object(errors, 0) : NULL;
}

gboolean
am_braiins_gql_parse_login(const char *data, gsize len, gboolean *refused, GError **error)
{
  g_autoptr(JsonNode) root = parse_object("login", data, len, error);
  if (root == NULL)
    return FALSE;
  JsonObject *o = json_node_get_object(root);
  gboolean any_error = FALSE;
  (void)first_graphql_error(o, &any_error);
  JsonObject *login = am_json_object(am_json_object(am_json_object(o, "data"), "auth"), "login");
  if (login == NULL && !any_error) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "graphql/login: not a GraphQL login answer");
    return FALSE;
  }
  /* AuthError carries a message; VoidResult does not. */
  *refused = any_error || login == NULL || json_object_has_member(login, "message");
  return TRUE;
}

JsonNode *
am_braiins_gql_parse_body(const char *name, const char *data, gsize len, GError **error)
{
  g_autoptr(JsonNode) root = parse_object(name, data, len, error);
  if (root == NULL)
    return NULL;
  JsonObject *o = json_node_get_object(root);
  gboolean any_error = FALSE;
  JsonObject *first = first_graphql_error(o, &any_error);
  if (any_error) {
    const char *message = am_json_string(first, "message");
    g_set_error(error, AM_ERROR, AM_ERROR_API, "graphql/%s: GraphQL error: %s", name,
                message != NULL ? message : "(no message)");
    return NULL;
  }
  JsonNode *d = json_object_get_member(o, "data");
  if (d == NULL || !JSON_NODE_HOLDS_OBJECT(d)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "graphql/%s: no data object", name);
    return NULL;
  }
  return json_node_ref(d);
}

/* ---- small readers -------------------------------------------------------- */

static JsonObject *
node_object(JsonNode *n)
{
  return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* data.bosminer.info */
static JsonObject *
bosminer_info(JsonObject *data)
{
  return am_json_object(am_json_object(data, "bosminer"), "info");
}

static double
mhs_to_ths(double mhs)
{
  return isnan(mhs) ? NAN : mhs / 1e6;
}

static void
set_extra_double(AmSample *s, const char *key, double value)
{
  if (!isnan(value))
    am_sample_set_extra(s, key, json_node_init_double(json_node_alloc(), value));
}

/* ---- system ------------------------------------------------------------------ */

/* "2025-06-25-0-45f356ea-25.05.1-plus" -> 25, 5: the last dash-separated
 * part with a dot. FALSE when there is none. */
static gboolean
release_of(const char *full, guint *year, guint *month)
{
  if (full == NULL)
    return FALSE;
  g_auto(GStrv) parts = g_strsplit(full, "-", -1);
  for (gint i = (gint)g_strv_length(parts) - 1; i >= 0; i--) {
    if (strchr(parts[i], '.') == NULL)
      continue;
    char *end = NULL;
    guint64 y = g_ascii_strtoull(parts[i], &end, 10);
    if (end == parts[i] || *end != '.')
      return FALSE;
    const char *m_start = end + 1;
    guint64 m = g_ascii_strtoull(m_start, &end, 10);
    if (end == m_start || y > 99 || m > 12)
      return FALSE;
    *year = (guint)y;
    *month = (guint)m;
    return TRUE;
  }
  return FALSE;
}

static const char *
version_full(JsonObject *data)
{
  JsonObject *info = am_json_object(am_json_object(data, "bos"), "info");
  return am_json_string(am_json_object(info, "version"), "full");
}

gboolean
am_braiins_gql_knows_board_serials(JsonNode *system_data)
{
  guint year = 0, month = 0;
  if (!release_of(version_full(node_object(system_data)), &year, &month))
    return FALSE;
  return year > 25 || (year == 25 && month >= 3);
}

static void
read_bos(AmSample *s, JsonObject *bos, const char *full)
{
  am_sample_set(s, &s->hostname, am_json_string(bos, "hostname"));
  if (full != NULL) {
    /* The build string ends in "-plus" on Braiins OS+. */
    am_sample_set(s, &s->firmware, g_str_has_suffix(full, "-plus") ? "Braiins OS+" : "Braiins OS");
    am_sample_set(s, &s->firmware_version, full);
  }
  /* The system's uptime, not the mining program's: an extra, as on REST. */
  gint64 uptime = am_json_int(am_json_object(bos, "uptime"), "durationS", AM_UNKNOWN);
  if (uptime >= 0)
    am_sample_set_extra(s, "system_uptime_s", json_node_init_int(json_node_alloc(), uptime));
  JsonNode *light = json_object_get_member(bos, "faultLight");
  if (light != NULL && JSON_NODE_HOLDS_VALUE(light) &&
      json_node_get_value_type(light) == G_TYPE_BOOLEAN) {
    am_sample_set_extra(s, "fault_light",
                        json_node_init_boolean(json_node_alloc(), json_node_get_boolean(light)));
    /* The fault light is what setFaultLight (locate) turns on. */
    s->locate = json_node_get_boolean(light) ? TRUE : FALSE;
  }
}

static void
read_fans(AmSample *s, JsonArray *fans)
{
  guint n = fans != NULL ? json_array_get_length(fans) : 0;
  for (guint i = 0; i < n; i++)
    am_sample_add_fan(s, am_json_double(am_json_array_object(fans, i), "rpm"));
  /* One PWM drives them all; fans_expected stays unknown (see the top). */
  set_extra_double(s, "fan_speed_pct", am_json_double(am_json_array_object(fans, 0), "speed"));
}

static void
read_system(AmSample *s, JsonObject *data)
{
  JsonObject *bos = am_json_object(data, "bos");
  if (bos != NULL)
    read_bos(s, bos, version_full(data));
  JsonObject *info = bosminer_info(data);
  JsonObject *solver = am_json_object(info, "workSolver");
  s->hashrate_ths = mhs_to_ths(am_json_double(am_json_object(solver, "realHashrate"), "mhs5S"));
  s->hashrate_ideal_ths = mhs_to_ths(am_json_double(solver, "nominalMhs"));
  read_fans(s, am_json_array(info, "fans"));
  JsonObject *power = am_json_object(am_json_object(info, "summary"), "power");
  /* BOS computes it from its tuning model; no meter is read. */
  double watt = am_json_double(power, "approxConsumptionW");
  if (!isnan(watt) && watt > 0) {
    s->power_w = watt;
    s->power_source = AM_POWER_SOURCE_ESTIMATED;
  }
  s->power_limit_w = am_json_double(power, "limitW");
}

static void
read_model(AmSample *s, JsonObject *data)
{
  g_autofree char *model = am_cgminer_clean_model(am_json_string(bosminer_info(data), "modelName"));
  am_sample_set(s, &s->model, model);
}

/* ---- boards ---------------------------------------------------------------- */

typedef enum { TEMP_NONE, TEMP_BOARD, TEMP_CHIP, TEMP_INLET, TEMP_OUTLET } TempKind;

/* "Board", "Max Board", "MAX_BOARD" are one sensor under three spellings;
 * AMBIENT, CONTROL_BOARD and UNDEFINED are not the board's. */
static TempKind
temp_kind(const char *name)
{
  if (name == NULL)
    return TEMP_NONE;
  g_autofree char *n = g_ascii_strdown(name, -1);
  g_strdelimit(n, "_", ' ');
  if (g_str_equal(n, "board") || g_str_equal(n, "max board"))
    return TEMP_BOARD;
  if (g_str_equal(n, "chip") || g_str_equal(n, "max chip"))
    return TEMP_CHIP;
  if (g_str_equal(n, "inlet"))
    return TEMP_INLET;
  if (g_str_equal(n, "outlet"))
    return TEMP_OUTLET;
  return TEMP_NONE;
}

static void
read_board_temps(AmChain *c, JsonArray *temps)
{
  for (guint i = 0; temps != NULL && i < json_array_get_length(temps); i++) {
    JsonObject *t = am_json_array_object(temps, i);
    double v = am_json_double(t, "degreesC");
    if (!am_temp_is_valid(v))
      continue;
    switch (temp_kind(am_json_string(t, "name"))) {
    case TEMP_BOARD:
      c->temp_board_c = v;
      break;
    case TEMP_CHIP:
      c->temp_chip_c = v;
      break;
    case TEMP_INLET:
      c->temp_inlet_c = v;
      break;
    case TEMP_OUTLET:
      c->temp_outlet_c = v;
      break;
    case TEMP_NONE:
      break;
    }
  }
}

/* "name" is the slot ("6".."8" on an S9, "1".."3" on newer): the index
 * when it is a number, else the position. */
static gint
board_index(JsonObject *b, guint position)
{
  const char *name = am_json_string(b, "name");
  if (name != NULL) {
    char *end = NULL;
    gint64 parsed = g_ascii_strtoll(name, &end, 10);
    if (end != name && *end == '\0' && parsed >= 0 && parsed <= G_MAXINT)
      return (gint)parsed;
  }
  return (gint)position;
}

static void
read_board(AmSample *s, JsonObject *b, guint position)
{
  AmChain *c = am_sample_add_chain(s, board_index(b, position));
  guint pos = s->chains->len - 1;
  c->hashrate_ths = mhs_to_ths(am_json_double(am_json_object(b, "realHashrate"), "mhs5S"));
  JsonObject *hw = am_json_object(b, "hwDetails");
  gint64 chips = am_json_int(hw, "chips", AM_UNKNOWN);
  c->chips = chips >= 0 && chips <= G_MAXINT ? (gint)chips : AM_UNKNOWN;
  c->voltage_v = am_json_double(hw, "voltageV");
  c->frequency_mhz = am_json_double(hw, "frequencyMhz");
  read_board_temps(c, am_json_array(b, "temperatures"));
  am_sample_add_temp(s, c->temp_board_c);
  am_sample_add_chip_temp(s, c->temp_chip_c);
  am_sample_set_chain_serial(s, pos, am_json_string(hw, "hbSerialNumber"));
}

static void
read_boards(AmSample *s, JsonObject *data)
{
  JsonObject *solver = am_json_object(bosminer_info(data), "workSolver");
  JsonArray *boards = am_json_array(solver, "childSolvers");
  if (boards == NULL) {
    am_sample_add_problem(s, "graphql/boards: no childSolvers list");
    return;
  }
  guint n = MIN(json_array_get_length(boards), AM_CGMINER_MAX_CHAINS);
  for (guint i = 0; i < n; i++) {
    JsonObject *b = am_json_array_object(boards, i);
    if (b != NULL)
      read_board(s, b, i);
  }
}

/* ---- pools ------------------------------------------------------------------- */

static const char *
pool_status(const char *status)
{
  if (g_strcmp0(status, "ALIVE") == 0)
    return "Alive";
  if (g_strcmp0(status, "DEAD") == 0)
    return "Dead";
  if (g_strcmp0(status, "DISABLED") == 0)
    return "Disabled";
  return status;
}

static void
add_count(gint64 *total, gint64 value)
{
  if (value < 0)
    return;
  *total = *total < 0 ? value : *total + value;
}

static void
read_pool(AmSample *s, JsonObject *p, gint priority)
{
  AmPool *pool = am_sample_add_pool(s, am_json_string(p, "url"), am_json_string(p, "user"));
  g_free(pool->status);
  pool->status = g_strdup(pool_status(am_json_string(p, "status")));
  pool->priority = priority;
  pool->active = json_object_get_boolean_member_with_default(p, "active", FALSE);
  JsonObject *shares = am_json_object(p, "shares");
  pool->accepted = am_json_int(shares, "acceptedSolutions", AM_UNKNOWN);
  pool->rejected = am_json_int(shares, "rejectedSolutions", AM_UNKNOWN);
  /* The API has no totals: each pool counts since bosminer started, and
   * groups mine side by side (quota), so the miner's are the sums. */
  add_count(&s->accepted, pool->accepted);
  add_count(&s->rejected, pool->rejected);
}

static void
read_pools(AmSample *s, JsonObject *data)
{
  JsonArray *groups = am_json_array(bosminer_info(data), "poolGroups");
  if (groups == NULL) {
    am_sample_add_problem(s, "graphql/pools: no poolGroups list");
    return;
  }
  gint priority = 0;
  for (guint g = 0; g < json_array_get_length(groups); g++) {
    JsonArray *pools = am_json_array(am_json_array_object(groups, g), "pools");
    for (guint i = 0; pools != NULL && i < json_array_get_length(pools); i++) {
      JsonObject *p = am_json_array_object(pools, i);
      if (p != NULL && am_json_string(p, "url") != NULL)
        read_pool(s, p, priority++);
    }
  }
}

/* ---- tuning ------------------------------------------------------------------- */

static void
read_tuning(AmSample *s, JsonObject *data)
{
  JsonObject *bosminer = am_json_object(data, "bosminer");
  JsonObject *autotuning = am_json_object(am_json_object(bosminer, "config"), "autotuning");
  const char *mode = am_json_string(autotuning, "mode");
  if (g_strcmp0(mode, "POWER_TARGET") == 0)
    am_sample_set(s, &s->work_mode, "power target");
  else if (g_strcmp0(mode, "HASHRATE_TARGET") == 0)
    am_sample_set(s, &s->work_mode, "hashrate target");
  set_extra_double(s, "power_target_w", am_json_double(autotuning, "powerTarget"));
  set_extra_double(s, "hashrate_target_ths", am_json_double(autotuning, "hashrateTarget"));
  /* limitW is what bosminer works to now (DPS may scale it below the
   * configured target); it wins over the system query's copy. */
  double limit = am_json_double(
      am_json_object(am_json_object(am_json_object(bosminer, "info"), "summary"), "power"),
      "limitW");
  if (!isnan(limit))
    s->power_limit_w = limit;
}

/* ---- events ------------------------------------------------------------------- */

static AmErrorSeverity
appeal_severity(const char *kind)
{
  if (g_strcmp0(kind, "ERROR") == 0)
    return AM_ERROR_SEVERITY_ERROR;
  if (g_strcmp0(kind, "WARNING") == 0)
    return AM_ERROR_SEVERITY_WARNING;
  if (g_strcmp0(kind, "INFO") == 0 || g_strcmp0(kind, "SUCCESS") == 0)
    return AM_ERROR_SEVERITY_INFO;
  return AM_ERROR_SEVERITY_UNKNOWN;
}

/* The Timestamp scalar: Unix seconds (asic-rs reads a number), or an
 * RFC 3339 text. AM_UNKNOWN when neither. */
static gint64
appeal_time(JsonObject *appeal)
{
  const char *text = am_json_string(appeal, "timestamp");
  if (text != NULL) {
    g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(text, NULL);
    if (t != NULL)
      return g_date_time_to_unix(t);
  }
  gint64 seconds = am_json_int(appeal, "timestamp", AM_UNKNOWN);
  return seconds >= 0 ? seconds : AM_UNKNOWN;
}

/* Appeals are the notices the web UI shows now (dismissed ones go away),
 * not a history: their kind is the severity, so an ERROR degrades. */
static void
read_events(AmSample *s, JsonObject *data)
{
  JsonArray *appeals = am_json_array(am_json_object(data, "events"), "appeals");
  if (appeals == NULL) {
    am_sample_add_problem(s, "graphql/events: no appeals list");
    return;
  }
  guint added = 0;
  for (guint i = 0; i < json_array_get_length(appeals) && added < MAX_ERRORS; i++) {
    JsonObject *a = am_json_array_object(appeals, i);
    const char *message = am_json_string(a, "message");
    if (message == NULL)
      continue;
    AmMinerError *err =
        am_sample_add_error(s, NULL, message, NULL, appeal_severity(am_json_string(a, "kind")));
    err->since_s = appeal_time(a);
    added++;
  }
}

/* ---- the whole poll ------------------------------------------------------------ */

AmSample *
am_braiins_gql_parse(const AmBraiinsGqlReplies *r, GError **error)
{
  gboolean any = FALSE;
  for (guint i = 0; i < AM_BRAIINS_GQL_N_QUERIES; i++)
    any = any || r->replies[i] != NULL;
  if (!any) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "no GraphQL reply to read");
    return NULL;
  }
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, DRIVER_NAME);
  /* Braiins OS only runs on SHA-256 machines. */
  am_sample_set(s, &s->algorithm, "sha256d");

  static void (*const readers[AM_BRAIINS_GQL_N_QUERIES])(AmSample *, JsonObject *) = {
      [AM_BRAIINS_GQL_SYSTEM] = read_system, [AM_BRAIINS_GQL_MODEL] = read_model,
      [AM_BRAIINS_GQL_BOARDS] = read_boards, [AM_BRAIINS_GQL_POOLS] = read_pools,
      [AM_BRAIINS_GQL_TUNING] = read_tuning, [AM_BRAIINS_GQL_EVENTS] = read_events,
  };
  /* In order: tuning's power limit overrides the system's copy. */
  for (guint i = 0; i < AM_BRAIINS_GQL_N_QUERIES; i++) {
    if (r->replies[i] == NULL)
      continue;
    JsonObject *data = node_object(r->replies[i]);
    if (data == NULL)
      am_sample_add_problem(s, "graphql/%s: not a JSON object", queries[i].name);
    else
      readers[i](s, data);
  }
  return g_steal_pointer(&s);
}

/* ---- LuCI ---------------------------------------------------------------------- */

char *
am_braiins_gql_parse_lan_mac(const char *data, gsize len)
{
  if (data == NULL || len == 0 || len > G_MAXSSIZE || memchr(data, '\0', len) != NULL)
    return NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, data, (gssize)len, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  JsonArray *a = root != NULL && JSON_NODE_HOLDS_ARRAY(root) ? json_node_get_array(root) : NULL;
  return a != NULL ? am_cgminer_format_mac(am_json_string(am_json_array_object(a, 0), "macaddr"))
                   : NULL;
}
