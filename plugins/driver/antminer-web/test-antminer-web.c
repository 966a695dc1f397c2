/* Tests of the antminer-web driver: the parser table on every recorded reply
 * in tests/fixtures/http-cgi/, field by field with values read by hand from
 * the files; hand-made variations of those replies (marked HAND-MADE); and
 * the built module against an in-process SoupServer on 127.0.0.1:0 that
 * asks for digest auth with Bitmain's realm and serves the same files. */
#include "../common/am-driver-test-util.h"
#include "am-antminer-web-parse.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#define U AM_UNKNOWN

/* ---- helpers ------------------------------------------------------------ */

/* Exact conversions compared to 1e-9 relative; NAN expects unknown. */
static void
assert_close(double actual, double expected, const char *what)
{
  if (isnan(expected)) {
    if (!isnan(actual))
      g_error("%s: expected unknown, got %.12g", what, actual);
    return;
  }
  if (!(fabs(actual - expected) <= 1e-9 * fabs(expected)))
    g_error("%s: expected %.12g, got %.12g", what, expected, actual);
}

static void
assert_doubles(GArray *values, const double *expected, guint n, const char *what)
{
  if (values->len != n)
    g_error("%s: expected %u values, got %u", what, n, values->len);
  for (guint i = 0; i < n; i++) {
    g_autofree char *item = g_strdup_printf("%s[%u]", what, i);
    assert_close(g_array_index(values, double, i), expected[i], item);
  }
}

/* A recorded CGI reply as the firmware served it (no trailing NUL: HTTP
 * bodies have none), or NULL for NULL. */
static char *
fixture_text(const char *name, gsize *len)
{
  if (name == NULL)
    return NULL;
  g_autofree char *path = am_test_path(name);
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, len, &error))
    g_error("fixture %s: %s", path, error->message);
  return text;
}

/* Parses a fixture (through the same repairs the module applies), or NULL. */
static JsonObject *
fixture_object(const char *name)
{
  gsize len = 0;
  g_autofree char *text = fixture_text(name, &len);
  if (text == NULL)
    return NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = am_rpc_parse(text, len, &error);
  g_assert_no_error(error);
  return json_object_ref(json_node_get_object(root));
}

static JsonObject *
object_from_string(const char *json)
{
  if (json == NULL)
    return NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  json_parser_load_from_data(parser, json, -1, &error);
  g_assert_no_error(error);
  return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static void
unref_or_null(JsonObject *obj)
{
  if (obj != NULL)
    json_object_unref(obj);
}

static gboolean
has_problem(AmSample *sample, const char *text)
{
  for (guint i = 0; i < sample->problems->len; i++)
    if (g_str_equal(sample->problems->pdata[i], text))
      return TRUE;
  return FALSE;
}

static JsonNode *
extra(AmSample *sample, const char *name)
{
  JsonNode *node = json_object_get_member(sample->extras, name);
  if (node == NULL)
    g_error("extra %s missing", name);
  return node;
}

/* HAND-MADE: pools.cgi in the layout Bitmain's CGI uses (field names as in
 * asic-rs' PoolStat; no recorded pools.cgi reply was found): lowercase keys,
 * STATUS an object, and the firmware's fixed three-slot table with the third
 * slot empty. The second pool has the better priority but is dead. */
static const char pools_cgi[] =
    "{\"STATUS\":{\"STATUS\":\"S\",\"when\":1791401146,\"Msg\":\"pools\",\"api_version\":"
    "\"1.0.0\"},\"INFO\":{\"miner_version\":\"platform[AML]\",\"CompileTime\":\"Fri Jun 26 "
    "09:24:23 CST 2026\",\"type\":\"Antminer S23 Hyd.\"},\"POOLS\":["
    "{\"index\":0,\"url\":\"stratum+tcp://pool.example:3333\",\"user\":\"farm.s23\","
    "\"status\":\"Alive\",\"priority\":1,\"getworks\":4120,\"accepted\":81234,\"rejected\":17,"
    "\"discarded\":0,\"stale\":3,\"diff\":\"65.5K\",\"diff1\":0,\"diffa\":0,\"diffr\":0,"
    "\"diffs\":0,\"lsdiff\":65536,\"lstime\":\"0:00:04\"},"
    "{\"index\":1,\"url\":\"stratum+tcp://backup.example:3333\",\"user\":\"farm.s23b\","
    "\"status\":\"Dead\",\"priority\":0,\"getworks\":0,\"accepted\":0,\"rejected\":0,"
    "\"discarded\":0,\"stale\":0,\"diff\":\"\",\"diff1\":0,\"diffa\":0,\"diffr\":0,"
    "\"diffs\":0,\"lsdiff\":0,\"lstime\":\"0\"},"
    "{\"index\":2,\"url\":\"\",\"user\":\"\",\"status\":\"\",\"priority\":2,\"accepted\":0,"
    "\"rejected\":0,\"stale\":0}]}";

/* ---- the fixture table -------------------------------------------------- */

typedef struct {
  gint index;
  double hashrate_ths;
  gint chips, chips_expected, chips_ok, chips_failed;
  double temp_board_c, temp_chip_c;
} ChainExpect;

typedef struct {
  const char *name;
  /* inputs: fixture paths under tests/, or inline JSON for pools */
  const char *summary, *stats, *system_info, *pools_json;
  /* what a user sees */
  const char *model, *firmware, *firmware_version, *algorithm, *mac, *hostname;
  double hashrate_ths, hashrate_avg_ths, hashrate_ideal_ths;
  double power_w;
  AmPowerSource power_source;
  gint64 elapsed_s, hw_errors, accepted, rejected;
  gint chains_expected, fans_expected;
  gboolean liquid_cooled;
  double temps[4];
  guint n_temps;
  double chip_temps[4];
  guint n_chip_temps;
  ChainExpect chains[4];
  guint n_chains;
  guint n_pools;
  const char *status; /* "ok" or "degraded" */
} Case;

#define S23_SUMMARY "fixtures/http-cgi/s23hyd_summary.json"
#define S23_STATS "fixtures/http-cgi/s23hyd_stats.json"
#define S23_BUILD "Fri Jun 26 09:24:23 CST 2026"

/* The S23 Hyd. boards: rate_real (GH/s) / 1000, asic_num 84 with 84 'o'
 * in each chip map, hottest temp_pcb 52, hottest temp_chip 56/55/56. */
#define S23_CHAINS                                                                                 \
  {{0, 188.8961, 84, U, 84, 0, 52, 56},                                                            \
   {1, 192.19463, 84, U, 84, 0, 52, 55},                                                           \
   {2, 191.75483, 84, U, 84, 0, 52, 56}},                                                          \
      3

static const Case cases[] = {
    {
        /* The whole S23 Hyd. capture: stats first for rates and elapsed,
         * summary for hw_all; watt 5525 is the PSU's reading. */
        .name = "s23hyd summary+stats+pools",
        .summary = S23_SUMMARY,
        .stats = S23_STATS,
        .pools_json = pools_cgi,
        .model = "Antminer S23 Hyd.",
        .firmware = "stock",
        .firmware_version = S23_BUILD,
        .algorithm = "sha256d",
        .hashrate_ths = 572.84556,
        .hashrate_avg_ths = 576.1539,
        .hashrate_ideal_ths = 581.9727,
        .power_w = 5525,
        .power_source = AM_POWER_SOURCE_REPORTED,
        .elapsed_s = 167430,
        .hw_errors = 551,
        .accepted = 81234,
        .rejected = 17,
        .chains_expected = U,
        .fans_expected = 0,
        .liquid_cooled = TRUE,
        .temps = {52, 52, 52},
        .n_temps = 3,
        .chip_temps = {56, 55, 56},
        .n_chip_temps = 3,
        .chains = S23_CHAINS,
        .n_pools = 2,
        .status = "ok",
    },
    {
        /* summary.cgi alone: its own rates and elapsed, and no guess about
         * boards, cooling or power. */
        .name = "s23hyd summary only",
        .summary = S23_SUMMARY,
        .model = "Antminer S23 Hyd.",
        .firmware = "stock",
        .firmware_version = S23_BUILD,
        .algorithm = "sha256d",
        .hashrate_ths = 572.84556,
        .hashrate_avg_ths = 576.15267,
        .hashrate_ideal_ths = 581.9727,
        .power_w = NAN,
        .power_source = AM_POWER_SOURCE_UNKNOWN,
        .elapsed_s = 167431,
        .hw_errors = 551,
        .accepted = U,
        .rejected = U,
        .chains_expected = U,
        .fans_expected = U,
        .liquid_cooled = FALSE,
        .status = "ok",
    },
    {
        .name = "s23hyd stats only",
        .stats = S23_STATS,
        .model = "Antminer S23 Hyd.",
        .firmware = "stock",
        .firmware_version = S23_BUILD,
        .algorithm = "sha256d",
        .hashrate_ths = 572.84556,
        .hashrate_avg_ths = 576.1539,
        .hashrate_ideal_ths = 581.9727,
        .power_w = 5525,
        .power_source = AM_POWER_SOURCE_REPORTED,
        .elapsed_s = 167430,
        .hw_errors = U,
        .accepted = U,
        .rejected = U,
        .chains_expected = U,
        .fans_expected = 0,
        .liquid_cooled = TRUE,
        .temps = {52, 52, 52},
        .n_temps = 3,
        .chip_temps = {56, 55, 56},
        .n_chip_temps = 3,
        .chains = S23_CHAINS,
        .status = "ok",
    },
    {
        /* Identity from get_network_info.cgi (the D3 capture): the MAC and
         * the configured host name; the CompileTime still wins as version. */
        .name = "s23hyd stats + d3 get_network_info",
        .stats = S23_STATS,
        .system_info = "fixtures/http-cgi/antminer-d3_get_network_info.json",
        .model = "Antminer S23 Hyd.",
        .firmware = "stock",
        .firmware_version = S23_BUILD,
        .algorithm = "sha256d",
        .mac = "c4:f3:12:b3:9f:fc",
        .hostname = "antMiner",
        .hashrate_ths = 572.84556,
        .hashrate_avg_ths = 576.1539,
        .hashrate_ideal_ths = 581.9727,
        .power_w = 5525,
        .power_source = AM_POWER_SOURCE_REPORTED,
        .elapsed_s = 167430,
        .hw_errors = U,
        .accepted = U,
        .rejected = U,
        .chains_expected = U,
        .fans_expected = 0,
        .liquid_cooled = TRUE,
        .temps = {52, 52, 52},
        .n_temps = 3,
        .chip_temps = {56, 55, 56},
        .n_chip_temps = 3,
        .chains = S23_CHAINS,
        .status = "ok",
    },
};

static void
assert_chain(const AmChain *c, const ChainExpect *e, const char *name)
{
  g_autofree char *what = g_strdup_printf("%s chain %d", name, e->index);
  g_assert_cmpint(c->index, ==, e->index);
  assert_close(c->hashrate_ths, e->hashrate_ths, what);
  g_assert_cmpint(c->chips, ==, e->chips);
  g_assert_cmpint(c->chips_expected, ==, e->chips_expected);
  g_assert_cmpint(c->chips_ok, ==, e->chips_ok);
  g_assert_cmpint(c->chips_failed, ==, e->chips_failed);
  assert_close(c->temp_board_c, e->temp_board_c, what);
  assert_close(c->temp_chip_c, e->temp_chip_c, what);
  assert_close(c->power_w, NAN, what);
}

/* Everything a user sees of @s against @c (the sample already finished). */
static void
assert_case(AmSample *s, const Case *c)
{
  g_assert_cmpstr(s->driver, ==, "antminer-web");
  g_assert_cmpstr(s->model, ==, c->model);
  g_assert_cmpstr(s->firmware, ==, c->firmware);
  g_assert_cmpstr(s->firmware_version, ==, c->firmware_version);
  g_assert_cmpstr(s->algorithm, ==, c->algorithm);
  g_assert_cmpstr(s->mac, ==, c->mac);
  g_assert_cmpstr(s->hostname, ==, c->hostname);
  g_assert_null(s->serial);
  assert_close(s->hashrate_ths, c->hashrate_ths, "hashrate");
  assert_close(s->hashrate_avg_ths, c->hashrate_avg_ths, "hashrate_avg");
  assert_close(s->hashrate_ideal_ths, c->hashrate_ideal_ths, "hashrate_ideal");
  assert_close(s->power_w, c->power_w, "power");
  g_assert_cmpint(s->power_source, ==, c->power_source);
  assert_close(s->efficiency_jth, isnan(c->power_w) ? NAN : c->power_w / c->hashrate_ths,
               "efficiency");
  g_assert_cmpint(s->elapsed_s, ==, c->elapsed_s);
  g_assert_cmpint(s->hw_errors, ==, c->hw_errors);
  g_assert_cmpint(s->accepted, ==, c->accepted);
  g_assert_cmpint(s->rejected, ==, c->rejected);
  g_assert_cmpint(s->chains_expected, ==, c->chains_expected);
  g_assert_cmpint(s->fans_expected, ==, c->fans_expected);
  g_assert_cmpint(s->liquid_cooled, ==, c->liquid_cooled);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  assert_doubles(s->temps_c, c->temps, c->n_temps, "temps");
  assert_doubles(s->chip_temps_c, c->chip_temps, c->n_chip_temps, "chip temps");
  g_assert_cmpuint(s->chains->len, ==, c->n_chains);
  for (guint i = 0; i < c->n_chains; i++)
    assert_chain(&g_array_index(s->chains, AmChain, i), &c->chains[i], c->name);
  g_assert_cmpuint(s->pools->len, ==, c->n_pools);
  g_assert_cmpstr(s->status == AM_SAMPLE_STATUS_OK ? "ok" : "degraded", ==, c->status);
}

static AmSample *
parse_case(const Case *c)
{
  AmAntminerWebReplies r = {
      .summary = fixture_object(c->summary),
      .stats = fixture_object(c->stats),
      .pools = object_from_string(c->pools_json),
      .system_info = fixture_object(c->system_info),
  };
  g_autoptr(GError) error = NULL;
  AmSample *sample = am_antminer_web_parse(&r, &error);
  g_assert_no_error(error);
  am_sample_finish(sample);
  unref_or_null(r.summary);
  unref_or_null(r.stats);
  unref_or_null(r.pools);
  unref_or_null(r.system_info);
  return sample;
}

static void
test_fixture_case(gconstpointer data)
{
  const Case *c = data;
  g_autoptr(AmSample) sample = parse_case(c);
  assert_case(sample, c);
}

/* ---- details of the real replies --------------------------------------- */

static void
test_s23_extras(void)
{
  g_autoptr(AmSample) s = parse_case(&cases[0]);
  g_assert_cmpstr(json_node_get_string(extra(s, "x_antminer-web_miner_version")), ==,
                  "platform[AML]");
  /* summary.cgi's health checks as the firmware states them: the hydro
   * unit's fans check is "", not a failure. */
  JsonObject *checks = json_node_get_object(extra(s, "x_antminer-web_checks"));
  g_assert_cmpuint(json_object_get_size(checks), ==, 4);
  g_assert_cmpstr(json_object_get_string_member(checks, "rate"), ==, "s");
  g_assert_cmpstr(json_object_get_string_member(checks, "network"), ==, "s");
  g_assert_cmpstr(json_object_get_string_member(checks, "fans"), ==, "");
  g_assert_cmpstr(json_object_get_string_member(checks, "temp"), ==, "s");
  g_assert_cmpuint(s->problems->len, ==, 0);
  /* The derived figures a user reads on the dashboard. */
  assert_close(s->temp_max_c, 56, "temp_max");
  assert_close(s->avg_temp_c, 52, "avg_temp");
  assert_close(s->avg_fan_rpm, NAN, "avg_fan");
}

/* The hand-made pools: the slot without a URL is not a pool, the better
 * priority is dead, so the Alive one receives the work. */
static void
test_pools(void)
{
  g_autoptr(AmSample) s = parse_case(&cases[0]);
  const AmPool *p0 = s->pools->pdata[0];
  const AmPool *p1 = s->pools->pdata[1];
  g_assert_cmpstr(p0->url, ==, "stratum+tcp://pool.example:3333");
  g_assert_cmpstr(p0->user, ==, "farm.s23");
  g_assert_cmpstr(p0->status, ==, "Alive");
  g_assert_cmpint(p0->priority, ==, 1);
  g_assert_cmpint(p0->accepted, ==, 81234);
  g_assert_cmpint(p0->rejected, ==, 17);
  g_assert_cmpint(p0->stale, ==, 3);
  g_assert_true(p0->active);
  g_assert_cmpstr(p1->url, ==, "stratum+tcp://backup.example:3333");
  g_assert_cmpstr(p1->user, ==, "farm.s23b");
  g_assert_cmpstr(p1->status, ==, "Dead");
  g_assert_cmpint(p1->priority, ==, 0);
  g_assert_cmpint(p1->accepted, ==, 0);
  g_assert_false(p1->active);
}

/* get_system_info.cgi (the S19j capture) on its own: minertype is a model
 * the table knows, the MAC is normalised, the image date is the version. */
static void
test_system_info_s19j(void)
{
  g_autoptr(JsonObject) reply = fixture_object("fixtures/http-cgi/s19j_get_system_info.json");
  g_autoptr(AmSample) s = am_sample_new();
  g_assert_true(am_antminer_web_read_system_info(s, reply));
  g_assert_cmpstr(s->model, ==, "Antminer S19j");
  g_assert_cmpstr(s->mac, ==, "a2:e1:2a:d0:11:a2");
  g_assert_cmpstr(s->hostname, ==, "Antminer");
  g_assert_cmpstr(s->firmware_version, ==, "Fri Sep 15 14:39:20 CST 2023");
}

/* get_system_info.cgi of an S21 whose MAC the source sanitised to
 * "02:55:97:22:3M:72": not 12 hex digits, so the MAC stays unknown. */
static void
test_system_info_s21_bad_mac(void)
{
  g_autoptr(JsonObject) reply = fixture_object("fixtures/http-cgi/s21_cgi-get_system_info.json");
  g_autoptr(AmSample) s = am_sample_new();
  g_assert_true(am_antminer_web_read_system_info(s, reply));
  g_assert_null(s->mac);
  g_assert_cmpstr(s->model, ==, "Antminer S21");
  g_assert_cmpstr(s->serial, ==, "THQING0BDJAB024NF");
  g_assert_cmpstr(s->hostname, ==, "Antminer");
  g_assert_cmpstr(s->firmware_version, ==, "FR-1.12(251009-S21)");
}

/* The newer summary.cgi of an S21 XP Hyd.: STATUS an object, lower-case
 * keys, rate_unit "GH/s", bestshare and status[] checks with code and msg.
 * Alone: no stats.cgi. */
static void
test_s21xphyd_summary(void)
{
  g_autoptr(JsonObject) summary = fixture_object("fixtures/http-cgi/s21xphyd_cgi-summary.json");
  AmAntminerWebReplies r = {.summary = summary};
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_antminer_web_parse(&r, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  g_assert_cmpstr(s->driver, ==, "antminer-web");
  g_assert_cmpstr(s->model, ==, "Antminer S21 XP Hyd.");
  g_assert_cmpstr(s->firmware_version, ==, "Thu Jan 8 15:44:15 CST 20266"); /* as given */
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_antminer-web_miner_version")), ==,
                  "71.0.1.3");
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 483.97925, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 487.12915, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 473.0, 1e-9);
  g_assert_cmpint(s->elapsed_s, ==, 602534);
  g_assert_cmpint(s->hw_errors, ==, 26925);
  g_assert_cmpfloat(s->best_share, ==, 101071456685.0);
  g_assert_cmpint(s->found_blocks, ==, AM_UNKNOWN);
  /* No water temperatures in this reply: unknown, not 0. */
  g_assert_true(isnan(s->water_temp_in_c));
  g_assert_true(isnan(s->water_temp_out_c));
  g_assert_cmpuint(s->chains->len, ==, 0);
  /* Four checks, all "s": no errors. */
  g_assert_cmpuint(s->errors->len, ==, 0);
  JsonObject *checks = json_node_get_object(am_test_extra(s, "x_antminer-web_checks"));
  g_assert_cmpuint(json_object_get_size(checks), ==, 4);
  g_assert_cmpstr(json_object_get_string_member(checks, "rate"), ==, "s");
  g_assert_cmpstr(json_object_get_string_member(checks, "network"), ==, "s");
  g_assert_cmpstr(json_object_get_string_member(checks, "fans"), ==, "s");
  g_assert_cmpstr(json_object_get_string_member(checks, "temp"), ==, "s");
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

/* HAND-MADE from the capture above: two checks failing. */
static void
test_s21xphyd_failed_checks(void)
{
  g_autoptr(JsonObject) summary = fixture_object("fixtures/http-cgi/s21xphyd_cgi-summary.json");
  JsonObject *block =
      json_array_get_object_element(json_object_get_array_member(summary, "SUMMARY"), 0);
  JsonArray *checks = json_object_get_array_member(block, "status");
  JsonObject *network = json_array_get_object_element(checks, 1);
  json_object_set_string_member(network, "status", "e");
  json_object_set_int_member(network, "code", 131);
  json_object_set_string_member(network, "msg", "pool connection lost");
  JsonObject *temp = json_array_get_object_element(checks, 3);
  json_object_set_string_member(temp, "status", "w");
  json_object_set_int_member(temp, "code", 7);
  AmAntminerWebReplies r = {.summary = summary};
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_antminer_web_parse(&r, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  g_assert_cmpuint(s->errors->len, ==, 2);
  const AmMinerError *e0 = s->errors->pdata[0];
  g_assert_cmpstr(e0->code, ==, "131");
  g_assert_cmpstr(e0->message, ==, "pool connection lost");
  g_assert_cmpstr(e0->component, ==, "network");
  g_assert_cmpint(e0->severity, ==, AM_ERROR_SEVERITY_ERROR);
  const AmMinerError *e1 = s->errors->pdata[1];
  g_assert_cmpstr(e1->code, ==, "7");
  g_assert_cmpstr(e1->message, ==, "temp check: w"); /* empty msg */
  g_assert_cmpstr(e1->component, ==, "temp");
  g_assert_cmpint(e1->severity, ==, AM_ERROR_SEVERITY_WARNING);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
}

static void
test_network_info_d3(void)
{
  g_autoptr(JsonObject) reply =
      fixture_object("fixtures/http-cgi/antminer-d3_get_network_info.json");
  g_autoptr(AmSample) s = am_sample_new();
  g_assert_true(am_antminer_web_read_system_info(s, reply));
  g_assert_null(s->model);
  g_assert_cmpstr(s->mac, ==, "c4:f3:12:b3:9f:fc");
  g_assert_cmpstr(s->hostname, ==, "antMiner");
  g_assert_null(s->firmware_version);
  /* A reply of another kind (summary.cgi) is not identity. */
  g_autoptr(JsonObject) summary = fixture_object(S23_SUMMARY);
  g_assert_false(am_antminer_web_read_system_info(s, summary));
  g_assert_false(am_antminer_web_read_system_info(s, NULL));
}

/* ---- hand-made variations ---------------------------------------------- */

/* HAND-MADE from the S23 capture: an air-cooled unit of a model the table
 * knows (S19j: 3 boards of 114 chips, 4 fans) with one stopped fan, one
 * failed chip on board 1 and board 2 missing. */
static void
test_air_cooled_degraded(void)
{
  g_autoptr(JsonObject) stats = fixture_object(S23_STATS);
  JsonObject *block =
      json_array_get_object_element(json_object_get_array_member(stats, "STATS"), 0);
  json_object_set_string_member(json_object_get_object_member(stats, "INFO"), "type",
                                "Antminer S19j");
  JsonArray *fans = json_array_new();
  json_array_add_int_element(fans, 5400);
  json_array_add_int_element(fans, 0);
  json_array_add_int_element(fans, 5460);
  json_array_add_int_element(fans, 5520);
  json_object_set_array_member(block, "fan", fans);
  json_object_set_int_member(block, "fan_num", 4);
  JsonArray *chains = json_object_get_array_member(block, "chain");
  json_array_remove_element(chains, 2);
  json_object_set_string_member(json_array_get_object_element(chains, 1), "asic",
                                " ooooxoooooo ooooooo----");

  AmAntminerWebReplies r = {.stats = stats};
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_antminer_web_parse(&r, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  g_assert_cmpstr(s->model, ==, "Antminer S19j");
  g_assert_false(s->liquid_cooled);
  g_assert_cmpint(s->fans_expected, ==, 4);
  double fans_expected[] = {5400, 5460, 5520};
  assert_doubles(s->fans_rpm, fans_expected, 3, "fans");
  g_assert_cmpint(s->chains_expected, ==, 3);
  const AmChain *c1 = &g_array_index(s->chains, AmChain, 1);
  g_assert_cmpint(c1->chips, ==, 84);
  g_assert_cmpint(c1->chips_ok, ==, 17);
  g_assert_cmpint(c1->chips_failed, ==, 1);
  g_assert_cmpint(c1->chips_expected, ==, 114);
  g_assert_cmpstr(s->status == AM_SAMPLE_STATUS_DEGRADED ? "degraded" : "ok", ==, "degraded");
  g_assert_true(has_problem(s, "2 of 3 chains present"));
  g_assert_true(has_problem(s, "3 of 4 fans spinning"));
  g_assert_true(has_problem(s, "chain 1: 1 failed chips"));
  g_assert_true(has_problem(s, "chain 0: 84 of 114 chips found"));
}

/* HAND-MADE: sensor faults and junk where numbers belong. */
static void
test_bad_readings(void)
{
  g_autoptr(JsonObject) stats = object_from_string(
      "{\"STATUS\":{\"STATUS\":\"S\"},\"INFO\":{\"type\":\"Antminer S19j\"},"
      "\"STATS\":[{\"rate_unit\":\"GH/s\",\"rate_5s\":-5,\"watt\":0,\"fan_num\":2,"
      "\"fan\":[\"6000\",null],\"chain\":[{\"index\":7,\"rate_real\":\"x\","
      "\"temp_pcb\":[0,-83,255,\"60\"],\"temp_chip\":[]},42,{\"index\":-1}]}]}");
  AmAntminerWebReplies r = {.stats = stats};
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_antminer_web_parse(&r, &error);
  g_assert_no_error(error);
  assert_close(s->hashrate_ths, NAN, "negative rate");
  assert_close(s->power_w, NAN, "watt 0");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  g_assert_cmpuint(s->temps_c->len, ==, 0);
  g_assert_cmpuint(s->chains->len, ==, 2);
  const AmChain *c = &g_array_index(s->chains, AmChain, 0);
  g_assert_cmpint(c->index, ==, 7);
  assert_close(c->hashrate_ths, NAN, "chain rate");
  assert_close(c->temp_board_c, NAN, "chain pcb");
  /* An index that is not a slot number falls back to the position. */
  g_assert_cmpint(g_array_index(s->chains, AmChain, 1).index, ==, 2);
}

/* HAND-MADE: a reply without rate_unit is GH/s on a SHA-256 model only. */
static void
test_rate_unit(void)
{
  g_autoptr(JsonObject) sha = object_from_string(
      "{\"INFO\":{\"type\":\"Antminer S19j\"},\"SUMMARY\":[{\"rate_5s\":90000}]}");
  AmAntminerWebReplies r = {.summary = sha};
  g_autoptr(AmSample) s = am_antminer_web_parse(&r, NULL);
  assert_close(s->hashrate_ths, 90, "sha256d GH");
  g_autoptr(JsonObject) scrypt =
      object_from_string("{\"INFO\":{\"type\":\"Antminer L3+\"},\"SUMMARY\":[{\"rate_5s\":504}]}");
  r.summary = scrypt;
  g_autoptr(AmSample) l3 = am_antminer_web_parse(&r, NULL);
  g_assert_cmpstr(l3->algorithm, ==, "scrypt");
  assert_close(l3->hashrate_ths, NAN, "scrypt without unit");
  g_autoptr(JsonObject) mh =
      object_from_string("{\"INFO\":{\"type\":\"Antminer L3+\"},\"SUMMARY\":[{\"rate_5s\":504,"
                         "\"rate_unit\":\"MH/s\"}]}");
  r.summary = mh;
  g_autoptr(AmSample) l3mh = am_antminer_web_parse(&r, NULL);
  assert_close(l3mh->hashrate_ths, 504e-6, "scrypt MH/s");
}

static void
test_errors(void)
{
  g_autoptr(GError) error = NULL;
  AmAntminerWebReplies none = {0};
  g_assert_null(am_antminer_web_parse(&none, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);

  /* Identity alone is not a reading. */
  g_autoptr(JsonObject) info = fixture_object("fixtures/http-cgi/s19j_get_system_info.json");
  AmAntminerWebReplies only_info = {.system_info = info};
  g_assert_null(am_antminer_web_parse(&only_info, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);

  /* HAND-MADE: both data endpoints answer with an error STATUS. */
  g_autoptr(JsonObject) denied = object_from_string(
      "{\"STATUS\":{\"STATUS\":\"E\",\"when\":1,\"Msg\":\"not ready\",\"Code\":7}}");
  AmAntminerWebReplies errors = {.summary = denied, .stats = denied};
  g_assert_null(am_antminer_web_parse(&errors, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "not ready"));
  g_clear_error(&error);

  /* HAND-MADE: STATUS fine, no SUMMARY/STATS data block. */
  g_autoptr(JsonObject) empty = object_from_string("{\"STATUS\":{\"STATUS\":\"S\"}}");
  AmAntminerWebReplies hollow = {.summary = empty};
  g_assert_null(am_antminer_web_parse(&hollow, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
}

static void
test_match(void)
{
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint), .host = "127.0.0.1", .port = 80};
  g_assert_cmpint(am_antminer_web_match(NULL), ==, AM_MATCH_UNSUPPORTED);
  g_assert_cmpint(am_antminer_web_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  fp.http_open = TRUE;
  fp.http_status = 401;
  fp.http_realm = "antMiner Configuration";
  g_assert_cmpint(am_antminer_web_match(&fp), ==, AM_MATCH_SUPPORTED);
  /* Hammer and Elphapex clones use their own realms. */
  fp.http_realm = "blackMiner Configuration";
  g_assert_cmpint(am_antminer_web_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  fp.http_realm = NULL;
  g_assert_cmpint(am_antminer_web_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  /* An open page is not the stock web server. */
  fp.http_status = 200;
  fp.http_realm = "antMiner Configuration";
  fp.http_title = "Braiins OS";
  g_assert_cmpint(am_antminer_web_match(&fp), ==, AM_MATCH_UNSUPPORTED);
}

/* ---- the module against a local web server ------------------------------ */

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *password; /* the miner's root password */
  gboolean hang;        /* answer nothing, ever */
  gboolean no_system_info;
  guint requests;
  GPtrArray *paused; /* SoupServerMessage* held by hang */
} FakeWeb;

static char *
digest_password(SoupAuthDomain *domain, SoupServerMessage *msg, const char *username,
                gpointer user_data)
{
  FakeWeb *web = user_data;
  if (g_strcmp0(username, "root") != 0)
    return NULL;
  return soup_auth_domain_digest_encode_password(username, AM_ANTMINER_WEB_REALM, web->password);
}

static const char *
fixture_for(FakeWeb *web, const char *path)
{
  if (g_str_equal(path, "/cgi-bin/summary.cgi"))
    return S23_SUMMARY;
  if (g_str_equal(path, "/cgi-bin/stats.cgi"))
    return S23_STATS;
  if (g_str_equal(path, "/cgi-bin/get_system_info.cgi") && !web->no_system_info)
    return "fixtures/http-cgi/s19j_get_system_info.json";
  if (g_str_equal(path, "/cgi-bin/get_network_info.cgi"))
    return "fixtures/http-cgi/antminer-d3_get_network_info.json";
  return NULL;
}

static void
serve_cgi(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer user_data)
{
  FakeWeb *web = user_data;
  web->requests++;
  if (web->hang) {
    soup_server_message_pause(msg);
    g_ptr_array_add(web->paused, g_object_ref(msg));
    return;
  }
  if (g_str_equal(path, "/cgi-bin/pools.cgi")) {
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_STATIC, pools_cgi,
                                     strlen(pools_cgi));
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    return;
  }
  const char *fixture = fixture_for(web, path);
  if (fixture == NULL) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  gsize len = 0;
  char *text = fixture_text(fixture, &len);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, len);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
fake_web_start(FakeWeb *web, const char *password)
{
  *web = (FakeWeb){.password = password, .paused = g_ptr_array_new_with_free_func(g_object_unref)};
  web->server = soup_server_new(NULL, NULL);
  SoupAuthDomain *domain = soup_auth_domain_digest_new("realm", AM_ANTMINER_WEB_REALM, NULL);
  soup_auth_domain_digest_set_auth_callback(domain, digest_password, web, NULL);
  soup_auth_domain_add_path(domain, "/");
  soup_server_add_auth_domain(web->server, domain);
  g_object_unref(domain);
  soup_server_add_handler(web->server, "/cgi-bin", serve_cgi, web, NULL);
  web->port = am_test_soup_listen_loopback(web->server);
}

static void
fake_web_stop(FakeWeb *web)
{
  am_test_soup_stop(web->server, web->paused);
}

static const AmPluginInfo *
load_module(AmLoadedPlugin **plugin)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-antminer-web.so", NULL);
  g_autoptr(GError) error = NULL;
  *plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  return (*plugin)->info;
}

static void
on_poll_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref(result);
}

/* Polls @miner once with a driver made from @ini (NULL: defaults). */
static AmSample *
poll_once(const char *ini, AmMiner *miner, GError **error)
{
  AmLoadedPlugin *plugin = NULL;
  const AmPluginInfo *info = load_module(&plugin);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (ini != NULL)
    g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  g_autoptr(GError) local = NULL;
  gpointer self = info->create(NULL, ini != NULL ? kf : NULL, "driver:antminer-web", &local);
  g_assert_no_error(local);
  GAsyncResult *result = NULL;
  info->vtable.driver->poll_async(self, miner, NULL, on_poll_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmSample *sample = info->vtable.driver->poll_finish(self, result, error);
  g_object_unref(result);
  info->destroy(self);
  am_loaded_plugin_free(plugin);
  return sample;
}

static void
test_module_config(void)
{
  AmLoadedPlugin *plugin = NULL;
  const AmPluginInfo *info = load_module(&plugin);
  g_assert_cmpstr(info->name, ==, "antminer-web");
  g_assert_cmpint(info->kind, ==, AM_PLUGIN_KIND_DRIVER);
  /* sample.ini is the plugin's sample_config, with the keys it documents,
   * and create() accepts it. */
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, info->sample_config, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  const char *keys[] = {"enabled", "port", "username", "password", "timeout"};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_true(g_key_file_has_key(kf, "driver:antminer-web", keys[i], NULL));
  gpointer self = info->create(NULL, kf, "driver:antminer-web", &error);
  g_assert_no_error(error);
  info->destroy(self);
  /* A wrong value is a configuration error naming the key. */
  g_key_file_set_string(kf, "driver:antminer-web", "port", "0");
  g_assert_null(info->create(NULL, kf, "driver:antminer-web", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "port"));
  am_loaded_plugin_free(plugin);
}

static AmMiner *
local_miner(FakeWeb *web, guint timeout_ms)
{
  AmMiner *miner = am_miner_new("127.0.0.1", web->port);
  am_miner_set_timeout_ms(miner, timeout_ms);
  return miner;
}

/* Default credentials root/root against a stock unit: every endpoint read,
 * each raw body kept for the API's raw view. */
static void
test_module_poll(void)
{
  FakeWeb web;
  fake_web_start(&web, "root");
  g_autoptr(AmMiner) miner = local_miner(&web, 5000);
  /* Someone opened the raw view: the poll's bodies are kept for it. */
  g_autoptr(JsonNode) before = am_miner_raw_to_json(miner);
  g_assert_cmpuint(json_object_get_size(json_node_get_object(before)), ==, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  /* The S23 capture with the S19j's identity reply (the only
   * get_system_info we hold): INFO.type names the model, the identity
   * reply adds MAC and host name. */
  Case expected = cases[0];
  expected.mac = "a2:e1:2a:d0:11:a2";
  expected.hostname = "Antminer";
  assert_case(s, &expected);

  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  JsonObject *views = json_node_get_object(raw);
  const char *names[] = {"stats.cgi", "summary.cgi", "pools.cgi", "get_system_info.cgi"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    g_assert_true(json_object_has_member(views, names[i]));
  /* get_network_info is asked only when get_system_info is missing. */
  g_assert_false(json_object_has_member(views, "get_network_info.cgi"));
  JsonObject *summary = json_object_get_object_member(views, "summary.cgi");
  g_assert_nonnull(strstr(json_object_get_string_member(summary, "text"), "\"rate_5s\""));
  fake_web_stop(&web);
}

/* An older image without get_system_info.cgi: identity from
 * get_network_info.cgi. The miner's own credentials beat the driver's. */
static void
test_module_network_info_and_miner_credentials(void)
{
  FakeWeb web;
  fake_web_start(&web, "s3cret");
  web.no_system_info = TRUE;
  g_autoptr(AmMiner) miner = local_miner(&web, 5000);
  am_miner_set_credentials(miner, "root", "s3cret");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s =
      poll_once("[driver:antminer-web]\nusername=root\npassword=wrong\n", miner, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s->mac, ==, "c4:f3:12:b3:9f:fc");
  g_assert_cmpstr(s->hostname, ==, "antMiner");
  g_assert_cmpstr(s->model, ==, "Antminer S23 Hyd.");
  fake_web_stop(&web);
}

/* The driver's password (here from password_file=) serves miners without
 * their own; a wrong one is an AUTH error saying so. */
static void
test_module_wrong_password(void)
{
  FakeWeb web;
  fake_web_start(&web, "s3cret");
  g_autoptr(AmMiner) miner = local_miner(&web, 5000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_autofree char *expected = g_strdup_printf("127.0.0.1:%u: wrong username or password", web.port);
  if (!g_str_has_prefix(error->message, expected))
    g_error("expected '%s...', got '%s'", expected, error->message);
  g_clear_error(&error);

  g_autofree char *dir = g_dir_make_tmp("antmon-web-XXXXXX", NULL);
  g_autofree char *file = g_build_filename(dir, "pass", NULL);
  g_assert_true(g_file_set_contents(file, "s3cret\n", -1, NULL));
  g_autofree char *ini = g_strdup_printf("[driver:antminer-web]\npassword_file=%s\n", file);
  g_autoptr(AmSample) good = poll_once(ini, miner, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(good->model, ==, "Antminer S23 Hyd.");
  g_remove(file);
  g_rmdir(dir);
  fake_web_stop(&web);
}

/* A web server that accepts the request and never answers: the miner's
 * timeout ends the poll with TIMEOUT, not a hang. */
static void
test_module_hang(void)
{
  FakeWeb web;
  fake_web_start(&web, "root");
  web.hang = TRUE;
  g_autoptr(AmMiner) miner = local_miner(&web, 300);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_nonnull(strstr(error->message, "timed out after 0.3 s"));
  g_assert_cmpuint(web.requests, ==, 1);
  fake_web_stop(&web);
}

/* A web server without the CGI API (every path 404) is not this driver's. */
static void
test_module_no_cgi(void)
{
  FakeWeb web;
  fake_web_start(&web, "root");
  soup_server_remove_handler(web.server, "/cgi-bin");
  g_autoptr(AmMiner) miner = local_miner(&web, 5000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  fake_web_stop(&web);
}

/* Nothing listens: the error says refused. */
static void
test_module_refused(void)
{
  FakeWeb web;
  fake_web_start(&web, "root");
  guint16 port = web.port;
  fake_web_stop(&web);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", port);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = g_strdup_printf("/antminer-web/fixture/%s", cases[i].name);
    g_strdelimit(path + strlen("/antminer-web/fixture/"), " /", '-');
    g_test_add_data_func(path, &cases[i], test_fixture_case);
  }
  g_test_add_func("/antminer-web/s23/extras", test_s23_extras);
  g_test_add_func("/antminer-web/pools", test_pools);
  g_test_add_func("/antminer-web/system-info/s19j", test_system_info_s19j);
  g_test_add_func("/antminer-web/system-info/d3-network", test_network_info_d3);
  g_test_add_func("/antminer-web/system-info/s21-bad-mac", test_system_info_s21_bad_mac);
  g_test_add_func("/antminer-web/s21xphyd-summary", test_s21xphyd_summary);
  g_test_add_func("/antminer-web/s21xphyd-failed-checks", test_s21xphyd_failed_checks);
  g_test_add_func("/antminer-web/air-cooled-degraded", test_air_cooled_degraded);
  g_test_add_func("/antminer-web/bad-readings", test_bad_readings);
  g_test_add_func("/antminer-web/rate-unit", test_rate_unit);
  g_test_add_func("/antminer-web/errors", test_errors);
  g_test_add_func("/antminer-web/match", test_match);
  g_test_add_func("/antminer-web/module/config", test_module_config);
  g_test_add_func("/antminer-web/module/poll", test_module_poll);
  g_test_add_func("/antminer-web/module/network-info-miner-credentials",
                  test_module_network_info_and_miner_credentials);
  g_test_add_func("/antminer-web/module/wrong-password", test_module_wrong_password);
  g_test_add_func("/antminer-web/module/hang", test_module_hang);
  g_test_add_func("/antminer-web/module/no-cgi", test_module_no_cgi);
  g_test_add_func("/antminer-web/module/refused", test_module_refused);
  return g_test_run();
}
