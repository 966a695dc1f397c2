/* The braiins parser against the recorded Braiins OS replies in
 * tests/fixtures/bosminer/, field by field as a user sees them. */
#include "test-braiins.h"
#include "../common/am-driver-test-util.h"
#include "am-braiins-parse.h"
#include "am-test-util.h"

#include <math.h>

/* Loads the recorded replies of one miner; NULL where none was recorded. */
typedef struct {
  JsonObject *objects[6];
  AmBraiinsReplies replies;
} Fixture;

static JsonObject *
load(Fixture *f, guint slot, const char *relpath)
{
  f->objects[slot] = relpath != NULL ? am_test_fixture_object(relpath) : NULL;
  return f->objects[slot];
}

static void
fixture_load(Fixture *f, const char *version, const char *summary, const char *pools,
             const char *temps, const char *fans)
{
  f->replies.version = load(f, 0, version);
  f->replies.summary = load(f, 1, summary);
  f->replies.pools = load(f, 2, pools);
  f->replies.temps = load(f, 3, temps);
  f->replies.fans = load(f, 4, fans);
  f->replies.devs = NULL;
}

static void
fixture_clear(Fixture *f)
{
  for (guint i = 0; i < G_N_ELEMENTS(f->objects); i++)
    g_clear_pointer(&f->objects[i], json_object_unref);
}

static AmSample *
parse_ok(Fixture *f)
{
  g_autoptr(GError) error = NULL;
  AmSample *s = am_braiins_parse(&f->replies, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  am_sample_finish(s);
  return s;
}

static void
assert_chain(AmSample *s, guint i, gint index, double board)
{
  const AmChain *c = &g_array_index(s->chains, AmChain, i);
  g_assert_cmpint(c->index, ==, index);
  g_assert_cmpfloat_with_epsilon(c->temp_board_c, board, 1e-9);
  /* Chip 0.0 on the S9 means "no chip sensor": unknown, not 0 degC. */
  g_assert_true(isnan(c->temp_chip_c));
  g_assert_true(isnan(c->hashrate_ths));
}

static void
test_bos_s9(void)
{
  Fixture f = {0};
  fixture_load(&f, "bosminer/s9-bos-0.2.0_version.json", "bosminer/s9-bos-0.2.0_summary.json",
               "bosminer/s9-bos-0.2.0_pools.json", "bosminer/s9-bos-0.2.0_temps.json",
               "bosminer/s9-bos-0.2.0_fans.json");
  g_autoptr(AmSample) s = parse_ok(&f);

  g_assert_cmpstr(s->driver, ==, "braiins");
  g_assert_cmpstr(s->firmware, ==, "BOSminer");
  g_assert_cmpstr(s->firmware_version, ==, "0.2.0-d360818");
  g_assert_null(s->model); /* 0.2.0 sends no model: unknown, never guessed */
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  /* "MHS 5s":14274425.317759488 MH/s and "MHS av":16698158.653278796 MH/s */
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 14.274425317759488, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 16.698158653278796, 1e-12);
  g_assert_true(isnan(s->hashrate_ideal_ths));
  g_assert_cmpint(s->elapsed_s, ==, 92);
  g_assert_cmpint(s->accepted, ==, 68);
  g_assert_cmpint(s->rejected, ==, 2);
  g_assert_cmpint(s->hw_errors, ==, 0);

  AM_TEST_ASSERT_DOUBLES(s->temps_c, 53, 46, 52);
  g_assert_cmpuint(s->chip_temps_c->len, ==, 0);
  g_assert_cmpuint(s->chains->len, ==, 3);
  assert_chain(s, 0, 6, 53);
  assert_chain(s, 1, 7, 46);
  assert_chain(s, 2, 8, 52);

  /* Four fan headers, two with RPM 0 (nothing connected). */
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 1560, 1560);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_braiins_fan_speed_pct")), ==, 1);
  g_assert_false(s->liquid_cooled);

  g_assert_cmpuint(s->pools->len, ==, 2);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://stratum.antpool.com:3333", "antminer_1",
                      "Alive", 0, 68, 2, 0, TRUE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://stratum.slushpool.com:3333",
                      "!non-existent-user!", "Dead", 1, 0, 0, 0, FALSE);
  g_assert_true(json_node_get_boolean(am_test_extra(s, "x_braiins_asicboost")));

  /* No power reading in the cgminer API of 0.2.0: unknown, not estimated here. */
  g_assert_true(isnan(s->power_w));
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_true(isnan(s->efficiency_jth));

  g_assert_cmpfloat_with_epsilon(s->temp_max_c, 53, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->avg_temp_c, (53.0 + 46 + 52) / 3, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->avg_fan_rpm, 1560, 1e-9);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  g_assert_cmpuint(s->problems->len, ==, 0);
  fixture_clear(&f);
}

static void
test_bosplus_s9(void)
{
  Fixture f = {0};
  fixture_load(&f, "bosminer/s9-bosplus-0.2.0_version.json",
               "bosminer/s9-bosplus-0.2.0_summary.json", NULL,
               "bosminer/s9-bosplus-0.2.0_temps.json", "bosminer/s9-bosplus-0.2.0_fans.json");
  g_autoptr(AmSample) s = parse_ok(&f);

  g_assert_cmpstr(s->firmware, ==, "BOSminer+");
  g_assert_cmpstr(s->firmware_version, ==, "0.2.0-36c56a9363");
  g_assert_null(s->model);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 15.740915842676325, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 11.988299650652435, 1e-12);
  g_assert_cmpint(s->elapsed_s, ==, 3680);
  g_assert_cmpint(s->accepted, ==, 153);
  g_assert_cmpint(s->rejected, ==, 0);
  g_assert_cmpint(s->hw_errors, ==, 186);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 75, 63, 70);
  g_assert_cmpuint(s->chains->len, ==, 3);
  assert_chain(s, 0, 6, 75);
  assert_chain(s, 1, 7, 63);
  assert_chain(s, 2, 8, 70);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 2820, 3780);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_braiins_fan_speed_pct")), ==, 40);
  g_assert_cmpuint(s->pools->len, ==, 0); /* no pools reply recorded for this miner */
  g_assert_false(json_object_has_member(s->extras, "x_braiins_asicboost"));
  g_assert_cmpfloat_with_epsilon(s->temp_max_c, 75, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->avg_fan_rpm, 3300, 1e-9);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  fixture_clear(&f);
}

/* BOSer (Braiins OS 25.05) names itself differently; only its version reply
 * was recorded, so it is paired with the 0.2.0 summary here. */
static void
test_boser_identity(void)
{
  Fixture f = {0};
  fixture_load(&f, "bosminer/unknown-model-bos-25.05_version.json",
               "bosminer/s9-bos-0.2.0_summary.json", NULL, NULL, NULL);
  g_autoptr(AmSample) s = parse_ok(&f);
  g_assert_cmpstr(s->firmware, ==, "BOSer");
  g_assert_cmpstr(s->firmware_version, ==, "boser-buildroot 0.1.0-45f356ea");
  g_assert_null(s->model);
  g_assert_cmpuint(s->temps_c->len, ==, 0);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  g_assert_cmpuint(s->chains->len, ==, 0);
  fixture_clear(&f);
}

/* When "version" was not answered, the Description of the other replies
 * still names the firmware. */
static void
test_identity_from_description(void)
{
  Fixture f = {0};
  fixture_load(&f, NULL, "bosminer/s9-bosplus-0.2.0_summary.json", NULL, NULL, NULL);
  g_autoptr(AmSample) s = parse_ok(&f);
  g_assert_cmpstr(s->firmware, ==, "BOSminer+");
  g_assert_cmpstr(s->firmware_version, ==, "0.2.0-36c56a9363");
  fixture_clear(&f);
}

static void
test_summary_required(void)
{
  g_autoptr(GError) error = NULL;
  AmBraiinsReplies none = {0};
  g_assert_null(am_braiins_parse(&none, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);

  /* A reply without SUMMARY (here the temps reply) is a parse error. */
  g_autoptr(JsonObject) temps = am_test_fixture_object("bosminer/s9-bos-0.2.0_temps.json");
  AmBraiinsReplies wrong = {.summary = temps};
  g_assert_null(am_braiins_parse(&wrong, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
}

/* HAND-MADE: no BOSminer "devs" reply was found (SOURCES.md). This one has
 * the cgminer DEVS shape with the S9 slot numbers as ID, to show that per-
 * board hashrate lands on the chains made from TEMPS, without duplicates. */
static const char hand_made_devs[] =
    "{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":9,\"Msg\":\"3 ASC(s)\",\"Description\":\"BOSminer "
    "0.2.0-d360818\"}],\"DEVS\":["
    "{\"ASC\":0,\"ID\":6,\"MHS 5s\":4800000.0,\"Hardware Errors\":1,\"Temperature\":53.0},"
    "{\"ASC\":1,\"ID\":7,\"MHS 5s\":4700000.0,\"Hardware Errors\":0,\"Temperature\":46.0},"
    "{\"ASC\":2,\"ID\":8,\"MHS 5s\":4774425.5,\"Hardware "
    "Errors\":2,\"Temperature\":52.0}],\"id\":1}";

static void
test_devs_hand_made(void)
{
  Fixture f = {0};
  fixture_load(&f, "bosminer/s9-bos-0.2.0_version.json", "bosminer/s9-bos-0.2.0_summary.json", NULL,
               "bosminer/s9-bos-0.2.0_temps.json", NULL);
  g_autoptr(JsonObject) devs = am_test_object_from_string(hand_made_devs);
  f.replies.devs = devs;
  g_autoptr(AmSample) s = parse_ok(&f);

  g_assert_cmpuint(s->chains->len, ==, 3);
  const double rates[] = {4.8, 4.7, 4.7744255};
  const gint64 hw[] = {1, 0, 2};
  for (guint i = 0; i < 3; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    g_assert_cmpint(c->index, ==, 6 + (gint)i);
    g_assert_cmpfloat_with_epsilon(c->hashrate_ths, rates[i], 1e-9);
    g_assert_cmpint(c->hw_errors, ==, hw[i]);
  }
  /* Board temperatures are counted once although both replies carry them. */
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 53, 46, 52);
  /* The summary's own total stays; chains are detail. */
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 14.274425317759488, 1e-12);
  fixture_clear(&f);
}

/* match() on every recorded version reply: only Braiins firmware is claimed
 * (a bmminer S9, Hiveon, VNish or LuxOS is not). */
static void
test_match_all_versions(void)
{
  g_autoptr(GPtrArray) files = am_test_version_fixtures();
  g_assert_cmpuint(files->len, >=, 10);
  for (guint i = 0; i < files->len; i++) {
    const char *path = files->pdata[i];
    g_autoptr(JsonObject) reply = am_test_fixture_object(path);
    AmFingerprint fp;
    am_test_fingerprint_init(&fp, reply);
    gboolean ours =
        g_str_has_prefix(path, "bosminer/") || g_str_has_prefix(path, "braiins-graphql/");
    AmMatch expected = ours ? AM_MATCH_SUPPORTED : AM_MATCH_UNSUPPORTED;
    if (am_braiins_match(&fp) != expected)
      g_error("%s: match %d, expected %d", path, am_braiins_match(&fp), expected);
  }
}

static void
test_match_description_only(void)
{
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint), .rpc_open = TRUE};
  fp.description = "BOSminer+ 0.2.0-36c56a9363";
  g_assert_cmpint(am_braiins_match(&fp), ==, AM_MATCH_SUPPORTED);
  /* A prefix of the name is not the name. */
  fp.description = "BOSminerX 1.0";
  g_assert_cmpint(am_braiins_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  fp.description = NULL;
  g_assert_cmpint(am_braiins_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  g_assert_cmpint(am_braiins_match(NULL), ==, AM_MATCH_UNSUPPORTED);
}

/* A miner whose RPC port is closed: the web page names Braiins OS (LuCI
 * footer of old BOS, the title of the current web app). */
static void
test_match_web(void)
{
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint), .http_open = TRUE, .http_status = 200};
  fp.http_body = "<html><head><title>Miner</title></head><body>Powered by Braiins OS</body>";
  g_assert_cmpint(am_braiins_match(&fp), ==, AM_MATCH_SUPPORTED);
  fp.http_body = NULL;
  fp.http_title = "Braiins OS";
  g_assert_cmpint(am_braiins_match(&fp), ==, AM_MATCH_SUPPORTED);
  /* Other web UIs are not claimed. */
  fp.http_title = "AxeOS";
  fp.http_body = "<title>AxeOS</title>";
  g_assert_cmpint(am_braiins_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  fp.http_title = NULL;
  fp.http_body = NULL;
  fp.http_realm = "antMiner Configuration";
  g_assert_cmpint(am_braiins_match(&fp), ==, AM_MATCH_UNSUPPORTED);
}

GBytes *
am_braiins_test_fixture(const char *relpath)
{
  g_autofree char *rel = g_build_filename("fixtures", relpath, NULL);
  g_autofree char *path = am_test_path(rel);
  char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  g_file_get_contents(path, &data, &len, &error);
  g_assert_no_error(error);
  return g_bytes_new_take(data, len);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/braiins/bos-0.2.0-s9", test_bos_s9);
  g_test_add_func("/braiins/bosplus-0.2.0-s9", test_bosplus_s9);
  g_test_add_func("/braiins/boser-25.05-identity", test_boser_identity);
  g_test_add_func("/braiins/identity-from-description", test_identity_from_description);
  g_test_add_func("/braiins/summary-required", test_summary_required);
  g_test_add_func("/braiins/devs-hand-made", test_devs_hand_made);
  g_test_add_func("/braiins/match-all-version-fixtures", test_match_all_versions);
  g_test_add_func("/braiins/match-description", test_match_description_only);
  g_test_add_func("/braiins/match-web", test_match_web);
  am_braiins_rest_tests_add();
  am_braiins_graphql_tests_add();
  am_braiins_module_tests_add();
  am_braiins_module_graphql_tests_add();
  am_braiins_action_tests_add();
  return g_test_run();
}
