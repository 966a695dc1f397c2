/* The REST normalizer against every recorded Braiins OS REST reply in
 * tests/fixtures/braiins-rest/ (BOS 25.11 and 26.04), field by field. The
 * expected values were read off the fixture files by hand. */
#include "../common/am-driver-test-util.h"
#include "am-braiins-rest-parse.h"
#include "test-braiins.h"

#include <math.h>
#include <string.h>

/* The fixture file of each endpoint: "asicrs-<version>_<this>.json". */
static const char *const fixture_names[AM_BRAIINS_REST_N_ENDPOINTS] = {
    [AM_BRAIINS_REST_DETAILS] = "miner_details",
    [AM_BRAIINS_REST_STATS] = "miner_stats",
    [AM_BRAIINS_REST_HASHBOARDS] = "miner_hw_hashboards",
    [AM_BRAIINS_REST_COOLING] = "cooling_state",
    [AM_BRAIINS_REST_POOLS] = "pools",
    [AM_BRAIINS_REST_ERRORS] = "miner_errors",
    [AM_BRAIINS_REST_TUNER] = "performance_tuner_state",
    /* NULL: asic-rs recorded actions_locate as the bare "false"
     * (v25_11 and v26_04), which is written here rather than copied. */
    [AM_BRAIINS_REST_LOCATE] = NULL,
};

typedef struct {
  gint index, chips;
  double hashrate_ths, board_c, chip_c, inlet_c, outlet_c, volt, mhz;
  const char *serial;
} Board;

typedef struct {
  const char *code, *message, *component;
  gint64 since_s;
} Error;

typedef struct {
  const char *version; /* fixture prefix */
  const char *model, *mac, *serial, *firmware_version, *psu_serial, *psu_model;
  gint64 elapsed_s, system_uptime_s;
  double sticker_ths, hashrate_ths, avg_ths, ideal_ths, power_w, best_share;
  gint64 accepted, rejected;
  Board boards[3];
  double fans[4];
  gint64 pool0_accepted, pool0_rejected;
  guint n_errors;
  Error errors[3]; /* the newest three, newest first */
  double power_limit_w;
  const char *tuner_state;
  double temp_max_c;
} Case;

static const Case cases[] = {
    {
        .version = "v25_11",
        .model = "Antminer S19 XP",
        .mac = "90:34:86:54:14:c0",
        .serial = "YNAHEAUBCJCBA03GL",
        .firmware_version = "2025-11-21-0-eb658dcd-25.11-plus",
        .psu_serial = NULL, /* "serial_number": null */
        .psu_model = "APW121215f",
        .elapsed_s = 20359,
        .system_uptime_s = 21448,
        .sticker_ths = 141.0,
        .hashrate_ths = 121.0154090279137,
        .avg_ths = 143.38698274880322,
        .ideal_ths = 119.96784610414201,
        .power_w = 2472,
        .best_share = 2713716437,
        .accepted = 5048,
        .rejected = 10,
        .boards = {{1, 110, 44.37260535253056, 56.5, 71.5, 42.0, 56.5, 12.606122448979592, 406.25,
                    "YNAHYPDBCJEJD00MJ"},
                   {2, 110, 41.17504749154851, 54.5, 69.5, 42.0, 54.5, 12.606122448979592,
                    402.727272, "YNAHYPDBCJEJD00MV"},
                   {3, 110, 38.24462948209911, 56.0, 71.0, 44.0, 56.0, 12.606122448979592,
                    401.53409, "YNAHYPDBCJEJD00MY"}},
        .fans = {5879, 5819, 5909, 5909},
        .pool0_accepted = 5048,
        .pool0_rejected = 10,
        .n_errors = 5, /* 54 entries, 5 distinct messages */
        .errors = {{NULL, "Failed to resolve (\"mine.ocean.xyz\", 3334)", NULL, 1775808595},
                   {NULL, "Failed to resolve (\"a830bcc3.bos.braiins.com\", 3336)", NULL,
                    1775636203},
                   {"V2",
                    "Tuner error: Stage 4: Stage 4: PSU shut down during the experiment: "
                    "{ERR:V2} LOW VOLTAGE - measured voltage 0.20612244897959262 V - PSU "
                    "overcurrent protection switched voltage off or short circuit",
                    NULL, 1775085548}},
        .power_limit_w = 2431, /* current_target; the configured 3031 is the profile's */
        .tuner_state = "stable",
        .temp_max_c = 71.5,
    },
    {
        .version = "v26_04",
        .model = "Antminer S21 Pro",
        .mac = "02:8f:77:ec:e7:e0",
        .serial = "THQGFKUBDJIAH0E9G",
        .firmware_version = "2026-04-14-0-912d084c-26.04-plus",
        .psu_serial = "OLTT335BCAJBE3545",
        .psu_model = "APW171215a/c",
        .elapsed_s = 7039,
        .system_uptime_s = 7206,
        .sticker_ths = 234.0,
        .hashrate_ths = 248.18667720002498,
        .avg_ths = 244.6012757139522,
        .ideal_ths = 252.59758314720003,
        .power_w = 3480,
        .best_share = 499065300,
        .accepted = 848,
        .rejected = 0,
        .boards = {{1, 65, 83.16843130521843, 50.375, 65.375, 35.625, 50.375, 13.738724999999999,
                    625.865384, "THQGYSCBDJIAH11S3"},
                   {2, 65, 86.69932552387427, 48.5625, 63.5625, 36.625, 48.5625, 13.738724999999999,
                    635.384615, "THQGYSCBDJIAH120Z"},
                   {3, 65, 84.13826274583308, 48.5, 63.5, 35.125, 48.5, 13.738724999999999,
                    634.423076, "THQGYSCBDJIAH12AD"}},
        .fans = {5943, 5943, 5943, 5973},
        .pool0_accepted = 848,
        .pool0_rejected = 0,
        .n_errors = 16, /* 23 distinct messages, the newest 16 kept */
        .errors = {{NULL, "Failed to resolve (\"a830bcc3.bos.braiins.com\", 3336)", NULL,
                    1775636208},
                   {NULL,
                    "Tuner error: Disabled hashboard 1 {HB:1}: Hashchip: number of responses 0 "
                    "of read_register(reg=0x0) doesn't match chip count 65: reply 0x0 missing",
                    "Hashboard 1", 1774194315},
                   {"H1",
                    "{ERR:H1} Hashboard 1 has a problem, but this is a NoPIC miner and bosminer "
                    "can't disable it individually for safety reasons",
                    NULL, 1774194315}},
        .power_limit_w = 3500,
        .tuner_state = "continuous",
        .temp_max_c = 65.375,
    },
};

static JsonNode *
load_reply(const char *version, AmBraiinsRestEndpoint e)
{
  if (fixture_names[e] == NULL) {
    g_autoptr(GError) error = NULL;
    JsonNode *node = am_braiins_rest_parse_body(am_braiins_rest_path(e), "false", 5, &error);
    g_assert_no_error(error);
    return node;
  }
  g_autofree char *rel =
      g_strdup_printf("braiins-rest/asicrs-%s_%s.json", version, fixture_names[e]);
  g_autoptr(GBytes) bytes = am_braiins_test_fixture(rel);
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  g_autoptr(GError) error = NULL;
  JsonNode *node = am_braiins_rest_parse_body(am_braiins_rest_path(e), data, len, &error);
  g_assert_no_error(error);
  return node;
}

static void
replies_load(AmBraiinsRestReplies *r, const char *version)
{
  for (guint e = 0; e < AM_BRAIINS_REST_N_ENDPOINTS; e++)
    r->replies[e] = load_reply(version, e);
}

static void
replies_clear(AmBraiinsRestReplies *r)
{
  for (guint e = 0; e < AM_BRAIINS_REST_N_ENDPOINTS; e++)
    g_clear_pointer(&r->replies[e], json_node_unref);
}

static void
assert_close(double actual, double expected)
{
  g_assert_cmpfloat_with_epsilon(actual, expected, 1e-9);
}

static void
assert_board(AmSample *s, guint pos, const Board *b)
{
  const AmChain *c = &g_array_index(s->chains, AmChain, pos);
  g_assert_cmpint(c->index, ==, b->index);
  g_assert_cmpint(c->chips, ==, b->chips);
  assert_close(c->hashrate_ths, b->hashrate_ths);
  assert_close(c->temp_board_c, b->board_c);
  assert_close(c->temp_chip_c, b->chip_c);
  assert_close(c->temp_inlet_c, b->inlet_c);
  assert_close(c->temp_outlet_c, b->outlet_c);
  assert_close(c->voltage_v, b->volt);
  assert_close(c->frequency_mhz, b->mhz);
  g_assert_cmpstr(s->chain_serials->pdata[pos], ==, b->serial);
  /* The REST API has no per-board hardware error count. */
  g_assert_cmpint(c->hw_errors, ==, AM_UNKNOWN);
}

static void
assert_error(AmSample *s, guint i, const Error *e)
{
  const AmMinerError *err = s->errors->pdata[i];
  g_assert_cmpstr(err->code, ==, e->code);
  g_assert_cmpstr(err->message, ==, e->message);
  g_assert_cmpstr(err->component, ==, e->component);
  g_assert_cmpint(err->severity, ==, AM_ERROR_SEVERITY_WARNING);
  g_assert_cmpint(err->since_s, ==, e->since_s);
}

static void
assert_case(AmSample *s, const Case *c)
{
  g_assert_cmpstr(s->driver, ==, "braiins");
  g_assert_cmpstr(s->firmware, ==, "Braiins OS+"); /* "bos_plus": true */
  g_assert_cmpstr(s->firmware_version, ==, c->firmware_version);
  g_assert_cmpstr(s->model, ==, c->model);
  g_assert_cmpstr(s->mac, ==, c->mac);
  g_assert_cmpstr(s->serial, ==, c->serial);
  g_assert_cmpstr(s->hostname, ==, "Antminer");
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  g_assert_cmpint(s->elapsed_s, ==, c->elapsed_s);
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_braiins_system_uptime_s")), ==,
                  c->system_uptime_s);
  assert_close(json_node_get_double(am_test_extra(s, "x_braiins_sticker_hashrate_ths")),
               c->sticker_ths);
  g_assert_cmpstr(s->psu_serial, ==, c->psu_serial);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_braiins_psu_model")), ==, c->psu_model);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_braiins_status")), ==, "normal");

  assert_close(s->hashrate_ths, c->hashrate_ths);
  assert_close(s->hashrate_avg_ths, c->avg_ths);
  assert_close(s->hashrate_ideal_ths, c->ideal_ths);
  assert_close(s->power_w, c->power_w);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_ESTIMATED);
  assert_close(s->best_share, c->best_share);
  g_assert_cmpint(s->found_blocks, ==, 0);
  g_assert_cmpint(s->accepted, ==, c->accepted);
  g_assert_cmpint(s->rejected, ==, c->rejected);
  g_assert_cmpint(s->hw_errors, ==, AM_UNKNOWN);

  g_assert_cmpuint(s->chains->len, ==, 3);
  g_assert_cmpuint(s->chain_serials->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    assert_board(s, i, &c->boards[i]);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, c->boards[0].board_c, c->boards[1].board_c,
                         c->boards[2].board_c);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, c->boards[0].chip_c, c->boards[1].chip_c,
                         c->boards[2].chip_c);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, c->fans[0], c->fans[1], c->fans[2], c->fans[3]);
  g_assert_cmpint(s->fans_expected, ==, 4);
  g_assert_false(s->liquid_cooled);

  g_assert_cmpuint(s->pools->len, ==, 2);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://example.pool.com:3333", "asic_rs.test",
                      "Alive", 0, c->pool0_accepted, c->pool0_rejected, 0, TRUE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://example.pool2.com:3333", "asic_rs.test",
                      "Alive", 1, 0, 0, 0, FALSE);

  g_assert_cmpuint(s->errors->len, ==, c->n_errors);
  for (guint i = 0; i < 3; i++)
    assert_error(s, i, &c->errors[i]);

  assert_close(s->power_limit_w, c->power_limit_w);
  g_assert_cmpstr(s->work_mode, ==, "power target");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_braiins_tuner_state")), ==,
                  c->tuner_state);
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING);

  /* Not reported by this API: unknown, never 0. */
  g_assert_true(isnan(s->water_temp_in_c));
  g_assert_true(isnan(s->psu_power_in_w));
  g_assert_true(isnan(s->psu_fan_rpm));
  g_assert_false(s->partial);

  /* What the core derives: warnings do not degrade a hashing miner. */
  assert_close(s->temp_max_c, c->temp_max_c);
  assert_close(s->efficiency_jth, c->power_w / c->hashrate_ths);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

static void
test_recorded(gconstpointer data)
{
  const Case *c = data;
  AmBraiinsRestReplies r = {0};
  replies_load(&r, c->version);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_braiins_rest_parse(&r, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  assert_case(s, c);
  replies_clear(&r);
}

/* Each endpoint alone still gives its own fields and leaves the others
 * unknown: what a partial poll builds on. */
static void
test_each_alone(void)
{
  for (guint e = 0; e < AM_BRAIINS_REST_N_ENDPOINTS; e++) {
    AmBraiinsRestReplies r = {0};
    r.replies[e] = load_reply("v26_04", e);
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = am_braiins_rest_parse(&r, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(s->problems->len, ==, 0);
    g_assert_cmpint(!isnan(s->hashrate_ths), ==, e == AM_BRAIINS_REST_STATS);
    g_assert_cmpint(s->model != NULL, ==, e == AM_BRAIINS_REST_DETAILS);
    g_assert_cmpint(s->chains->len > 0, ==, e == AM_BRAIINS_REST_HASHBOARDS);
    g_assert_cmpint(s->fans_rpm->len > 0, ==, e == AM_BRAIINS_REST_COOLING);
    g_assert_cmpint(s->pools->len > 0, ==, e == AM_BRAIINS_REST_POOLS);
    g_assert_cmpint(s->errors->len > 0, ==, e == AM_BRAIINS_REST_ERRORS);
    g_assert_cmpint(!isnan(s->power_limit_w), ==, e == AM_BRAIINS_REST_TUNER);
    g_assert_cmpint(s->locate, ==, e == AM_BRAIINS_REST_LOCATE ? FALSE : AM_UNKNOWN);
    /* Without details the state is unknown, whatever the tuner says. */
    g_assert_cmpint(s->mining, ==,
                    e == AM_BRAIINS_REST_DETAILS ? AM_MINING_HASHING : AM_MINING_UNKNOWN);
    replies_clear(&r);
  }
}

static void
test_nothing(void)
{
  AmBraiinsRestReplies none = {0};
  g_autoptr(GError) error = NULL;
  g_assert_null(am_braiins_rest_parse(&none, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
}

/* Replies of the wrong shape name their endpoint as a problem. */
static void
test_wrong_shapes(void)
{
  AmBraiinsRestReplies r = {0};
  r.replies[AM_BRAIINS_REST_STATS] = json_from_string("[1, 2]", NULL);
  r.replies[AM_BRAIINS_REST_POOLS] = json_from_string("{\"pools\": []}", NULL);
  r.replies[AM_BRAIINS_REST_ERRORS] = json_from_string("{\"errors\": 5}", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_braiins_rest_parse(&r, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(s->problems->len, ==, 3);
  g_assert_cmpstr(s->problems->pdata[0], ==, "miner/stats: not a JSON object");
  g_assert_cmpstr(s->problems->pdata[1], ==, "pools: not an array of pool groups");
  g_assert_cmpstr(s->problems->pdata[2], ==, "miner/errors: no errors list");
  g_assert_true(isnan(s->hashrate_ths));
  replies_clear(&r);
}

/* HAND-MADE: the states the recorded replies do not show. A paused miner
 * (MinerStatus 3); a tuning one (TunerState 3) in hashrate-target mode,
 * with a board whose sensors read 0 (no sensor), a null voltage, and an
 * id that is not a number. */
static void
test_states_hand_made(void)
{
  AmBraiinsRestReplies r = {0};
  r.replies[AM_BRAIINS_REST_DETAILS] = json_from_string(
      "{\"status\": 3, \"bos_version\": {\"bos_plus\": false, \"current\": \"x\"}}", NULL);
  g_autoptr(AmSample) paused = am_braiins_rest_parse(&r, NULL);
  g_assert_cmpint(paused->mining, ==, AM_MINING_PAUSED);
  g_assert_cmpstr(paused->firmware, ==, "Braiins OS");
  replies_clear(&r);

  r.replies[AM_BRAIINS_REST_DETAILS] = json_from_string("{\"status\": 2}", NULL);
  r.replies[AM_BRAIINS_REST_TUNER] =
      json_from_string("{\"overall_tuner_state\": 3, \"mode_state\": {\"hashratetargetmodestate\": "
                       "{\"current_target\": {\"terahash_per_second\": 100.5}}}}",
                       NULL);
  r.replies[AM_BRAIINS_REST_HASHBOARDS] = json_from_string(
      "{\"hashboards\": [{\"id\": \"A\", \"board_temp\": {\"degree_c\": 0.0}, "
      "\"highest_chip_temp\": {\"temperature\": {\"degree_c\": 0.0}}, \"current_voltage\": null, "
      "\"chips_count\": 0}]}",
      NULL);
  g_autoptr(AmSample) tuning = am_braiins_rest_parse(&r, NULL);
  g_assert_cmpint(tuning->mining, ==, AM_MINING_STARTING);
  g_assert_cmpstr(tuning->work_mode, ==, "hashrate target");
  g_assert_true(isnan(tuning->power_limit_w));
  assert_close(json_node_get_double(am_test_extra(tuning, "x_braiins_hashrate_target_ths")), 100.5);
  const AmChain *c = &g_array_index(tuning->chains, AmChain, 0);
  g_assert_cmpint(c->index, ==, AM_UNKNOWN); /* not its position: ids count from 1 */
  g_assert_cmpint(c->chips, ==, 0);          /* a reported 0 chips is a real 0 */
  g_assert_true(isnan(c->temp_board_c));
  g_assert_true(isnan(c->temp_chip_c));
  g_assert_true(isnan(c->voltage_v));
  g_assert_cmpuint(tuning->temps_c->len, ==, 0);
  g_assert_null(tuning->chain_serials->pdata[0]);
  replies_clear(&r);
}

/* HAND-MADE: keys a firmware update could lose make their readings
 * unknown, never another value (the drift test's rule, tests/drift/). */
static void
test_lost_keys(void)
{
  AmBraiinsRestReplies r = {0};
  /* bos_plus lost: the build string's "-plus" still names BOS+; neither
   * there: the edition is unknown, not plain Braiins OS. */
  r.replies[AM_BRAIINS_REST_DETAILS] = json_from_string(
      "{\"bos_version\": {\"current\": \"2026-04-14-0-912d084c-26.04-plus\"}}", NULL);
  r.replies[AM_BRAIINS_REST_HASHBOARDS] =
      json_from_string("{\"hashboards\": [{\"chips_count\": 65}, {\"id\": \"2\"}]}", NULL);
  r.replies[AM_BRAIINS_REST_POOLS] =
      json_from_string("[{\"pools\": [{\"url\": \"stratum+tcp://a:3333\", \"enabled\": true},"
                       " {\"url\": \"stratum+tcp://b:3333\", \"alive\": false},"
                       " {\"url\": \"stratum+tcp://c:3333\", \"enabled\": true, \"alive\": false},"
                       " {\"url\": \"stratum+tcp://d:3333\", \"enabled\": false}]}]",
                       NULL);
  r.replies[AM_BRAIINS_REST_ERRORS] = json_from_string(
      "{\"errors\": [{\"message\": \"m1\", \"timestamp\": \"2026-03-22T15:45:15Z\","
      " \"components\": [{\"name\": \"Hashboard\"}]},"
      " {\"message\": \"m2\", \"timestamp\": \"2026-03-22T15:45:14Z\","
      " \"components\": [{\"name\": \"Hashboard\", \"index\": null}]}]}",
      NULL);
  g_autoptr(AmSample) s = am_braiins_rest_parse(&r, NULL);
  g_assert_cmpstr(s->firmware, ==, "Braiins OS+");
  g_assert_cmpuint(s->chains->len, ==, 2);
  g_assert_cmpint(g_array_index(s->chains, AmChain, 0).index, ==, AM_UNKNOWN);
  g_assert_cmpint(g_array_index(s->chains, AmChain, 0).chips, ==, 65);
  g_assert_cmpint(g_array_index(s->chains, AmChain, 1).index, ==, 2);
  g_assert_cmpuint(s->pools->len, ==, 4);
  const char *statuses[] = {NULL, NULL, "Dead", "Disabled"};
  for (guint i = 0; i < 4; i++)
    g_assert_cmpstr(((AmPool *)s->pools->pdata[i])->status, ==, statuses[i]);
  g_assert_cmpuint(s->errors->len, ==, 2);
  g_assert_null(((AmMinerError *)s->errors->pdata[0])->component);
  g_assert_cmpstr(((AmMinerError *)s->errors->pdata[1])->component, ==, "Hashboard");
  replies_clear(&r);

  r.replies[AM_BRAIINS_REST_DETAILS] = json_from_string("{\"bos_version\": {}}", NULL);
  g_autoptr(AmSample) bare = am_braiins_rest_parse(&r, NULL);
  g_assert_null(bare->firmware);
  g_assert_null(bare->firmware_version);
  replies_clear(&r);
}

static void
test_bodies(void)
{
  static const struct {
    const char *body;
    const char *message;
  } bad[] = {
      {"", "/api/v1/pools: empty reply"},
      {"<html>404</html>", "/api/v1/pools: not JSON: "},
      {"{\"fans\": [", "/api/v1/pools: not JSON: "},
      {"42", "/api/v1/pools: not a JSON object or array"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(
        am_braiins_rest_parse_body("/api/v1/pools", bad[i].body, strlen(bad[i].body), &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
    g_assert_true(g_str_has_prefix(error->message, bad[i].message));
  }
  /* A NUL inside is not JSON either. */
  g_autoptr(GError) error = NULL;
  g_assert_null(am_braiins_rest_parse_body("/p", "{}\0{}", 5, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_clear_error(&error);
  /* A bare boolean is actions/locate's answer, and only its. */
  g_assert_null(am_braiins_rest_parse_body("/api/v1/pools", "true", 4, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_clear_error(&error);
  g_assert_null(am_braiins_rest_parse_body("/api/v1/actions/locate", "42", 2, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_clear_error(&error);
  g_autoptr(JsonNode) on = am_braiins_rest_parse_body("/api/v1/actions/locate", "true", 4, &error);
  g_assert_no_error(error);
  AmBraiinsRestReplies r = {.replies[AM_BRAIINS_REST_LOCATE] = on};
  g_autoptr(AmSample) s = am_braiins_rest_parse(&r, &error);
  g_assert_no_error(error);
  g_assert_cmpint(s->locate, ==, TRUE);
}

static void
test_login(void)
{
  static const char good[] = "{\"token\": \"eyJhbGciOi.secret\", \"timeout_s\": 3600}";
  char *token = NULL;
  gint64 timeout_s = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_braiins_rest_parse_login(good, strlen(good), &token, &timeout_s, &error));
  g_assert_cmpstr(token, ==, "eyJhbGciOi.secret");
  g_assert_cmpint(timeout_s, ==, 3600);
  g_free(token);

  /* No token: an error that does not repeat the body (it may hold secrets). */
  static const char no_token[] = "{\"password\": \"hunter2\"}";
  g_assert_false(
      am_braiins_rest_parse_login(no_token, strlen(no_token), &token, &timeout_s, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_assert_null(strstr(error->message, "hunter2"));
  g_clear_error(&error);

  /* The login body escapes what it carries. */
  g_autofree char *body = am_braiins_rest_login_body("root", "a\"b\\c");
  g_autoptr(JsonNode) parsed = json_from_string(body, &error);
  g_assert_no_error(error);
  JsonObject *o = json_node_get_object(parsed);
  g_assert_cmpstr(json_object_get_string_member(o, "username"), ==, "root");
  g_assert_cmpstr(json_object_get_string_member(o, "password"), ==, "a\"b\\c");
}

void
am_braiins_rest_tests_add(void)
{
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *name = g_strdup_printf("/braiins/rest/recorded-%s", cases[i].version);
    g_test_add_data_func(name, &cases[i], test_recorded);
  }
  g_test_add_func("/braiins/rest/each-endpoint-alone", test_each_alone);
  g_test_add_func("/braiins/rest/nothing", test_nothing);
  g_test_add_func("/braiins/rest/wrong-shapes", test_wrong_shapes);
  g_test_add_func("/braiins/rest/states-hand-made", test_states_hand_made);
  g_test_add_func("/braiins/rest/lost-keys", test_lost_keys);
  g_test_add_func("/braiins/rest/bodies", test_bodies);
  g_test_add_func("/braiins/rest/login", test_login);
}
