/* Braiins OS REST replies -> AmSample. Pure: see am-braiins-rest-parse.h.
 *
 * What the recorded replies show (tests/fixtures/braiins-rest/, BOS 25.11
 * with API 1.1.0 and BOS 26.04 with API 1.3.0):
 *  - every quantity is an object naming its unit: {"gigahash_per_second":
 *    x}, {"degree_c": x}, {"hertz": x}, {"volt": x}, {"watt": x};
 *  - power is only approximated_consumption: the firmware's estimate;
 *  - miner/errors is a history (entries weeks old, many repeated), not the
 *    present state, and carries no severity;
 *  - enums are numbers: miner/details status follows the gRPC MinerStatus
 *    (2 normal, 3 paused, ...), overall_tuner_state the TunerState. */
#include "am-braiins-rest-parse.h"

#include "../common/am-cgminer-common.h"

#include <math.h>
#include <string.h>

#define DRIVER_NAME "braiins"
/* miner/errors repeats the same sensor message dozens of times: the newest
 * distinct messages are kept, at most this many. */
#define MAX_ERRORS 16

static const struct {
  const char *path, *name;
} endpoints[AM_BRAIINS_REST_N_ENDPOINTS] = {
    [AM_BRAIINS_REST_DETAILS] = {"/api/v1/miner/details", "miner/details"},
    [AM_BRAIINS_REST_STATS] = {"/api/v1/miner/stats", "miner/stats"},
    [AM_BRAIINS_REST_HASHBOARDS] = {"/api/v1/miner/hw/hashboards", "miner/hw/hashboards"},
    [AM_BRAIINS_REST_COOLING] = {"/api/v1/cooling/state", "cooling/state"},
    [AM_BRAIINS_REST_POOLS] = {"/api/v1/pools", "pools"},
    [AM_BRAIINS_REST_ERRORS] = {"/api/v1/miner/errors", "miner/errors"},
    [AM_BRAIINS_REST_TUNER] = {"/api/v1/performance/tuner-state", "performance/tuner-state"},
    [AM_BRAIINS_REST_LOCATE] = {"/api/v1/actions/locate", "actions/locate"},
};

const char *
am_braiins_rest_path(AmBraiinsRestEndpoint endpoint)
{
  return endpoint < AM_BRAIINS_REST_N_ENDPOINTS ? endpoints[endpoint].path : NULL;
}

const char *
am_braiins_rest_name(AmBraiinsRestEndpoint endpoint)
{
  return endpoint < AM_BRAIINS_REST_N_ENDPOINTS ? endpoints[endpoint].name : NULL;
}

/* ---- bodies ------------------------------------------------------------- */

JsonNode *
am_braiins_rest_parse_body(const char *path, const char *data, gsize len, GError **error)
{
  if (data == NULL || len == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: empty reply", path);
    return NULL;
  }
  if (memchr(data, '\0', len) != NULL || len > G_MAXSSIZE) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not JSON (a NUL byte)", path);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not JSON: %s", path, local->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  /* actions/locate is the one endpoint that answers a bare boolean. */
  gboolean bare_ok = root != NULL && JSON_NODE_HOLDS_VALUE(root) &&
                     json_node_get_value_type(root) == G_TYPE_BOOLEAN &&
                     g_strcmp0(path, am_braiins_rest_path(AM_BRAIINS_REST_LOCATE)) == 0;
  if (root == NULL || (!JSON_NODE_HOLDS_OBJECT(root) && !JSON_NODE_HOLDS_ARRAY(root) && !bare_ok)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not a JSON object or array", path);
    return NULL;
  }
  return json_node_ref(root);
}

gboolean
am_braiins_rest_parse_login(const char *data, gsize len, char **token, gint64 *timeout_s,
                            GError **error)
{
  g_autoptr(JsonNode) root = am_braiins_rest_parse_body(AM_BRAIINS_REST_LOGIN, data, len, error);
  if (root == NULL)
    return FALSE;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  const char *value = am_json_string(o, "token");
  if (value == NULL || *value == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: no token in the answer",
                AM_BRAIINS_REST_LOGIN);
    return FALSE;
  }
  *token = g_strdup(value);
  *timeout_s = am_json_int(o, "timeout_s", AM_UNKNOWN);
  return TRUE;
}

char *
am_braiins_rest_login_body(const char *user, const char *password)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "username");
  json_builder_add_string_value(b, user != NULL ? user : "");
  json_builder_set_member_name(b, "password");
  json_builder_add_string_value(b, password != NULL ? password : "");
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

/* ---- small readers -------------------------------------------------------- */

static JsonObject *
reply_object(const AmBraiinsRestReplies *r, AmBraiinsRestEndpoint e)
{
  JsonNode *n = r->replies[e];
  return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* @o[@member][@unit]: the API wraps every quantity in an object naming its
 * unit ({"watt": 3480}). NAN when absent or null. */
static double
quantity(JsonObject *o, const char *member, const char *unit)
{
  return am_json_double(am_json_object(o, member), unit);
}

static double
ghs_to_ths(JsonObject *o, const char *member)
{
  double ghs = quantity(o, member, "gigahash_per_second");
  return isnan(ghs) ? NAN : ghs / 1000.0;
}

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

/* ---- miner/details ---------------------------------------------------------- */

/* miner/details "status": the gRPC MinerStatus numbers. */
static const char *const miner_status_names[] = {"unspecified", "not_started", "normal",
                                                 "paused",      "suspended",   "restricted"};

static void
read_status(AmSample *s, JsonObject *details)
{
  gint64 status = am_json_int(details, "status", AM_UNKNOWN);
  if (status < 0 || status >= (gint64)G_N_ELEMENTS(miner_status_names))
    return;
  set_extra_string(s, "status", miner_status_names[status]);
  /* "restricted" still mines (a limited licence); "not_started" and
   * "suspended" do not say why, so the state stays unknown. */
  if (status == 2 || status == 5)
    s->mining = AM_MINING_HASHING;
  else if (status == 3)
    s->mining = AM_MINING_PAUSED;
}

/* "Braiins OS+" or "Braiins OS" from bos_plus; without it, from the build
 * string, which ends in "-plus" on Braiins OS+ (as GraphQL reads it).
 * NULL when neither is there: the plain name would claim the edition. */
static const char *
firmware_name(JsonObject *version)
{
  JsonNode *plus = version != NULL ? json_object_get_member(version, "bos_plus") : NULL;
  if (plus != NULL && JSON_NODE_HOLDS_VALUE(plus) &&
      json_node_get_value_type(plus) == G_TYPE_BOOLEAN)
    return json_node_get_boolean(plus) ? "Braiins OS+" : "Braiins OS";
  const char *current = am_json_string(version, "current");
  if (current != NULL && g_str_has_suffix(current, "-plus"))
    return "Braiins OS+";
  return NULL;
}

static void
read_details(AmSample *s, JsonObject *d)
{
  JsonObject *identity = am_json_object(d, "miner_identity");
  const char *model = am_json_string(identity, "miner_model");
  g_autofree char *clean =
      am_cgminer_clean_model(model != NULL ? model : am_json_string(identity, "name"));
  am_sample_set(s, &s->model, clean);
  g_autofree char *mac = am_cgminer_format_mac(am_json_string(d, "mac_address"));
  am_sample_set(s, &s->mac, mac);
  am_sample_set(s, &s->serial, am_json_string(d, "serial_number"));
  am_sample_set(s, &s->hostname, am_json_string(d, "hostname"));

  JsonObject *version = am_json_object(d, "bos_version");
  am_sample_set(s, &s->firmware, firmware_name(version));
  am_sample_set(s, &s->firmware_version, am_json_string(version, "current"));

  /* The mining program's uptime, like cgminer's Elapsed; 0 means it is not
   * running. The system's own uptime is kept as an extra. */
  s->elapsed_s = am_json_int(d, "bosminer_uptime_s", AM_UNKNOWN);
  gint64 system = am_json_int(d, "system_uptime_s", AM_UNKNOWN);
  if (system >= 0)
    am_sample_set_extra(s, "system_uptime_s", json_node_init_int(json_node_alloc(), system));
  set_extra_double(s, "sticker_hashrate_ths", ghs_to_ths(d, "sticker_hashrate"));

  JsonObject *psu = am_json_object(d, "psu_info");
  am_sample_set(s, &s->psu_serial, am_json_string(psu, "serial_number"));
  set_extra_string(s, "psu_model", am_json_string(psu, "model_name"));
  read_status(s, d);
}

/* ---- miner/stats -------------------------------------------------------------- */

static void
read_stats(AmSample *s, JsonObject *reply)
{
  JsonObject *miner = am_json_object(reply, "miner_stats");
  JsonObject *real = am_json_object(miner, "real_hashrate");
  s->hashrate_ths = ghs_to_ths(real, "last_5s");
  s->hashrate_avg_ths = ghs_to_ths(real, "since_restart");
  s->hashrate_ideal_ths = ghs_to_ths(miner, "nominal_hashrate");
  s->best_share = am_json_double(miner, "best_share");
  s->found_blocks = am_json_int(miner, "found_blocks", AM_UNKNOWN);

  JsonObject *shares = am_json_object(reply, "pool_stats");
  s->accepted = am_json_int(shares, "accepted_shares", AM_UNKNOWN);
  s->rejected = am_json_int(shares, "rejected_shares", AM_UNKNOWN);

  /* "approximated_consumption": BOS computes it from its tuning model; no
   * meter is read, so it is an estimate. */
  double watt = quantity(am_json_object(reply, "power_stats"), "approximated_consumption", "watt");
  if (!isnan(watt) && watt > 0) {
    s->power_w = watt;
    s->power_source = AM_POWER_SOURCE_ESTIMATED;
  }
}

/* ---- miner/hw/hashboards ------------------------------------------------------ */

static double
valid_temp(double celsius)
{
  return am_temp_is_valid(celsius) ? celsius : NAN;
}

/* The board's slot from its "id" ("1".."3" on the recorded units), else
 * AM_UNKNOWN: the ids start at 1, so the list position would name the
 * neighbouring slot. */
static gint
board_index(JsonObject *b)
{
  const char *id = am_json_string(b, "id");
  if (id == NULL)
    return AM_UNKNOWN;
  char *end = NULL;
  gint64 parsed = g_ascii_strtoll(id, &end, 10);
  return end != id && *end == '\0' && parsed >= 0 && parsed <= G_MAXINT ? (gint)parsed : AM_UNKNOWN;
}

static void
read_board(AmSample *s, JsonObject *b)
{
  AmChain *c = am_sample_add_chain(s, board_index(b));
  guint pos = s->chains->len - 1;
  c->hashrate_ths =
      ghs_to_ths(am_json_object(am_json_object(b, "stats"), "real_hashrate"), "last_5s");
  gint64 chips = am_json_int(b, "chips_count", AM_UNKNOWN);
  c->chips = chips >= 0 && chips <= G_MAXINT ? (gint)chips : AM_UNKNOWN;
  c->temp_board_c = valid_temp(quantity(b, "board_temp", "degree_c"));
  c->temp_chip_c =
      valid_temp(quantity(am_json_object(b, "highest_chip_temp"), "temperature", "degree_c"));
  c->temp_inlet_c = valid_temp(quantity(b, "lowest_inlet_temp", "degree_c"));
  c->temp_outlet_c = valid_temp(quantity(b, "highest_outlet_temp", "degree_c"));
  c->voltage_v = quantity(b, "current_voltage", "volt");
  double hertz = quantity(b, "current_frequency", "hertz");
  c->frequency_mhz = isnan(hertz) ? NAN : hertz / 1e6;
  am_sample_add_temp(s, c->temp_board_c);
  am_sample_add_chip_temp(s, c->temp_chip_c);
  am_sample_set_chain_serial(s, pos, am_json_string(b, "serial_number"));
}

static void
read_hashboards(AmSample *s, JsonObject *reply)
{
  JsonArray *boards = am_json_array(reply, "hashboards");
  guint n = boards != NULL ? MIN(json_array_get_length(boards), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *b = am_json_array_object(boards, i);
    if (b != NULL)
      read_board(s, b);
  }
}

/* ---- cooling/state -------------------------------------------------------------- */

static void
read_cooling(AmSample *s, JsonObject *reply)
{
  JsonArray *fans = am_json_array(reply, "fans");
  guint n = fans != NULL ? json_array_get_length(fans) : 0;
  for (guint i = 0; i < n; i++)
    am_sample_add_fan(s, am_json_double(am_json_array_object(fans, i), "rpm"));
  /* Every fan slot is listed, spinning or not, so the list is the count a
   * dead fan is measured against. An empty list says nothing (hydro). */
  if (n > 0 && n <= G_MAXINT)
    s->fans_expected = (gint)n;
}

/* ---- pools ----------------------------------------------------------------------- */

/* A JSON boolean member: 1, 0, or AM_UNKNOWN when absent or not a boolean. */
static gint
boolean_member(JsonObject *o, const char *key)
{
  JsonNode *n = o != NULL ? json_object_get_member(o, key) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
    return AM_UNKNOWN;
  return json_node_get_boolean(n) ? 1 : 0;
}

/* "Disabled", "Alive", "Dead", or NULL: a pool whose alive flag is missing
 * is of unknown state, not dead; one not alive is dead only when it is
 * known to be enabled (a disabled pool is not alive either). */
static const char *
pool_status(JsonObject *p)
{
  gint enabled = boolean_member(p, "enabled");
  gint alive = boolean_member(p, "alive");
  if (enabled == 0)
    return "Disabled";
  if (alive == 1)
    return "Alive";
  if (alive == 0 && enabled == 1)
    return "Dead";
  return NULL;
}

static void
read_pool(AmSample *s, JsonObject *p, gint priority)
{
  AmPool *pool = am_sample_add_pool(s, am_json_string(p, "url"), am_json_string(p, "user"));
  g_free(pool->status);
  pool->status = g_strdup(pool_status(p));
  pool->priority = priority;
  pool->active = json_object_get_boolean_member_with_default(p, "active", FALSE);
  JsonObject *stats = am_json_object(p, "stats");
  pool->accepted = am_json_int(stats, "accepted_shares", AM_UNKNOWN);
  pool->rejected = am_json_int(stats, "rejected_shares", AM_UNKNOWN);
  pool->stale = am_json_int(stats, "stale_shares", AM_UNKNOWN);
}

/* An array of pool groups, each with its pools; priority counts across
 * groups in the order given. */
static void
read_pools(AmSample *s, JsonNode *reply)
{
  JsonArray *groups = JSON_NODE_HOLDS_ARRAY(reply) ? json_node_get_array(reply) : NULL;
  if (groups == NULL) {
    am_sample_add_problem(s, "pools: not an array of pool groups");
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

/* ---- miner/errors ------------------------------------------------------------------ */

typedef struct {
  JsonObject *entry;
  gint64 since_us; /* entries a few microseconds apart are told apart */
  guint order;     /* position in the list, for equal times */
} ErrorEntry;

static gint
newest_first(gconstpointer a, gconstpointer b)
{
  const ErrorEntry *x = a, *y = b;
  if (x->since_us != y->since_us)
    return x->since_us > y->since_us ? -1 : 1;
  return x->order > y->order ? -1 : x->order < y->order ? 1 : 0;
}

/* Microseconds since the epoch of an RFC 3339 time, AM_UNKNOWN if none. */
static gint64
parse_timestamp_us(const char *text)
{
  g_autoptr(GDateTime) t = text != NULL ? g_date_time_new_from_iso8601(text, NULL) : NULL;
  if (t == NULL)
    return AM_UNKNOWN;
  return g_date_time_to_unix(t) * G_USEC_PER_SEC + g_date_time_get_microsecond(t);
}

/* "Hashboard 1" from components[0] {"name": "Hashboard", "index": 1}; the
 * name alone when index is null. A component whose index member is missing
 * is unknown (NULL): "Hashboard" alone would stand for every board. */
static char *
error_component(JsonObject *entry)
{
  JsonObject *c = am_json_array_object(am_json_array(entry, "components"), 0);
  const char *name = am_json_string(c, "name");
  if (name == NULL || !json_object_has_member(c, "index"))
    return NULL;
  gint64 index = am_json_int(c, "index", AM_UNKNOWN);
  return index >= 0 ? g_strdup_printf("%s %" G_GINT64_FORMAT, name, index) : g_strdup(name);
}

/* Distinct messages, each with its newest time, newest first. */
static GArray *
distinct_errors(JsonArray *errors)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(ErrorEntry));
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal); /* message -> slot+1 */
  for (guint i = 0; i < json_array_get_length(errors); i++) {
    JsonObject *e = am_json_array_object(errors, i);
    const char *message = am_json_string(e, "message");
    if (message == NULL)
      continue;
    ErrorEntry entry = {e, parse_timestamp_us(am_json_string(e, "timestamp")), i};
    guint slot = GPOINTER_TO_UINT(g_hash_table_lookup(seen, message));
    if (slot == 0) {
      g_array_append_val(out, entry);
      g_hash_table_insert(seen, (gpointer)message, GUINT_TO_POINTER(out->len));
    } else if (entry.since_us >= g_array_index(out, ErrorEntry, slot - 1).since_us) {
      g_array_index(out, ErrorEntry, slot - 1) = entry;
    }
  }
  g_array_sort(out, newest_first);
  return out;
}

/* The firmware gives no severity and the list is a history: each entry is
 * a WARNING, so a miner hashing normally is not marked degraded by a sensor
 * message from weeks ago. */
static void
read_errors(AmSample *s, JsonObject *reply)
{
  JsonArray *errors = am_json_array(reply, "errors");
  if (errors == NULL) {
    am_sample_add_problem(s, "miner/errors: no errors list");
    return;
  }
  g_autoptr(GArray) distinct = distinct_errors(errors);
  for (guint i = 0; i < MIN(distinct->len, MAX_ERRORS); i++) {
    const ErrorEntry *e = &g_array_index(distinct, ErrorEntry, i);
    JsonObject *code = am_json_array_object(am_json_array(e->entry, "error_codes"), 0);
    g_autofree char *component = error_component(e->entry);
    AmMinerError *err =
        am_sample_add_error(s, am_json_string(code, "code"), am_json_string(e->entry, "message"),
                            component, AM_ERROR_SEVERITY_WARNING);
    err->since_s = e->since_us >= 0 ? e->since_us / G_USEC_PER_SEC : AM_UNKNOWN;
  }
}

/* ---- performance/tuner-state --------------------------------------------------------- */

/* overall_tuner_state: the gRPC TunerState numbers. */
static const char *const tuner_state_names[] = {"unspecified", "disabled",   "stable", "tuning",
                                                "error",       "continuous", "preheat"};

static void
read_tuner(AmSample *s, JsonObject *reply)
{
  JsonObject *mode = am_json_object(reply, "mode_state");
  JsonObject *power = am_json_object(mode, "powertargetmodestate");
  JsonObject *hashrate = am_json_object(mode, "hashratetargetmodestate");
  if (power != NULL) {
    am_sample_set(s, &s->work_mode, "power target");
    /* current_target is what the tuner works to now (scaled by DPS), which
     * may differ from the configured target. */
    s->power_limit_w = quantity(power, "current_target", "watt");
  } else if (hashrate != NULL) {
    am_sample_set(s, &s->work_mode, "hashrate target");
    set_extra_double(s, "hashrate_target_ths",
                     quantity(hashrate, "current_target", "terahash_per_second"));
  }
  gint64 state = am_json_int(reply, "overall_tuner_state", AM_UNKNOWN);
  if (state < 0 || state >= (gint64)G_N_ELEMENTS(tuner_state_names))
    return;
  set_extra_string(s, "tuner_state", tuner_state_names[state]);
  /* Tuning and preheating run below the nominal hashrate on purpose. */
  if ((state == 3 || state == 6) && s->mining == AM_MINING_HASHING)
    s->mining = AM_MINING_STARTING;
}

/* ---- the whole poll ------------------------------------------------------------------- */

/* A reply that should be an object but is not is named as a problem. */
static JsonObject *
object_or_problem(AmSample *s, const AmBraiinsRestReplies *r, AmBraiinsRestEndpoint e)
{
  if (r->replies[e] == NULL)
    return NULL;
  JsonObject *o = reply_object(r, e);
  if (o == NULL)
    am_sample_add_problem(s, "%s: not a JSON object", am_braiins_rest_name(e));
  return o;
}

/* actions/locate answers a bare true or false: the locate light that
 * PUT actions/locate switches. */
static void
read_locate(AmSample *s, JsonNode *reply)
{
  if (reply == NULL)
    return;
  if (!JSON_NODE_HOLDS_VALUE(reply) || json_node_get_value_type(reply) != G_TYPE_BOOLEAN) {
    am_sample_add_problem(s, "%s: not true or false", am_braiins_rest_name(AM_BRAIINS_REST_LOCATE));
    return;
  }
  s->locate = json_node_get_boolean(reply) ? TRUE : FALSE;
}

AmSample *
am_braiins_rest_parse(const AmBraiinsRestReplies *r, GError **error)
{
  gboolean any = FALSE;
  for (guint i = 0; i < AM_BRAIINS_REST_N_ENDPOINTS; i++)
    any = any || r->replies[i] != NULL;
  if (!any) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "no REST reply to read");
    return NULL;
  }
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, DRIVER_NAME);
  /* Braiins OS only runs on SHA-256 machines. */
  am_sample_set(s, &s->algorithm, "sha256d");

  JsonObject *o;
  if ((o = object_or_problem(s, r, AM_BRAIINS_REST_DETAILS)) != NULL)
    read_details(s, o);
  if ((o = object_or_problem(s, r, AM_BRAIINS_REST_STATS)) != NULL)
    read_stats(s, o);
  if ((o = object_or_problem(s, r, AM_BRAIINS_REST_HASHBOARDS)) != NULL)
    read_hashboards(s, o);
  if ((o = object_or_problem(s, r, AM_BRAIINS_REST_COOLING)) != NULL)
    read_cooling(s, o);
  if (r->replies[AM_BRAIINS_REST_POOLS] != NULL)
    read_pools(s, r->replies[AM_BRAIINS_REST_POOLS]);
  if ((o = object_or_problem(s, r, AM_BRAIINS_REST_ERRORS)) != NULL)
    read_errors(s, o);
  /* After details: the tuner refines the mining state. */
  if ((o = object_or_problem(s, r, AM_BRAIINS_REST_TUNER)) != NULL)
    read_tuner(s, o);
  read_locate(s, r->replies[AM_BRAIINS_REST_LOCATE]);
  return g_steal_pointer(&s);
}
