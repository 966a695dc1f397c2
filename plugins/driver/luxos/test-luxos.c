/* The luxos parser. The recorded LuxOS replies (tests/fixtures/luxminer/)
 * are upstream placeholders: version (Type "A model"), atm and groups.
 * Everything else below is HAND-MADE in the cgminer shapes the driver reads
 * and says so; no real LuxOS summary, stats, fans or power reply was found. */
#include "../common/am-driver-test-util.h"
#include "am-luxos-parse.h"
#include "am-test-util.h"

#include <math.h>

/* HAND-MADE summary in the cgminer shape, hashrate in GHS keys. */
static const char hand_made_summary[] =
    "{\"STATUS\":[{\"STATUS\":\"S\",\"When\":1520678397,\"Code\":11,\"Msg\":\"Summary\","
    "\"Description\":\"LUXminer\"}],\"SUMMARY\":[{\"Elapsed\":3600,\"GHS 5s\":101234.5,"
    "\"GHS av\":100111.25,\"Accepted\":1200,\"Rejected\":3,\"Hardware Errors\":12}],\"id\":1}";

/* HAND-MADE stats: an Antminer-style data block after the version block. */
static const char hand_made_stats[] =
    "{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":70,\"Description\":\"LUXminer\"}],\"STATS\":["
    "{\"LUXminer\":\"2000.1.1.12345-aaabbbc\",\"Type\":\"A model\"},"
    "{\"STATS\":0,\"ID\":\"BC50\",\"Elapsed\":3605,\"rate_unit\":\"GH\","
    "\"total_rateideal\":104000.0,\"fan_num\":4,\"fan1\":5400,\"fan2\":5460,\"fan3\":0,"
    "\"temp_num\":3,\"temp1\":61,\"temp2\":63,\"temp3\":0,\"temp2_1\":76,\"temp2_2\":78,"
    "\"temp2_3\":0,\"temp_max\":78,\"chain_acn1\":8,\"chain_acn2\":8,\"chain_acn3\":0,"
    "\"chain_acs1\":\" oooo oooo\",\"chain_acs2\":\" ooxo oooo\",\"chain_acs3\":\"\","
    "\"chain_hw1\":5,\"chain_hw2\":7,\"chain_hw3\":0,\"chain_rate1\":\"50617.25\","
    "\"chain_rate2\":\"50617.25\",\"chain_rate3\":\"\"}],\"id\":1}";

static const char hand_made_fans[] =
    "{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":202,\"Description\":\"LUXminer\"}],\"FANS\":["
    "{\"FAN\":0,\"ID\":0,\"RPM\":5410,\"Speed\":60},{\"FAN\":1,\"ID\":1,\"RPM\":5470,\"Speed\":60},"
    "{\"FAN\":2,\"ID\":2,\"RPM\":0,\"Speed\":60},{\"FAN\":3,\"ID\":3,\"RPM\":0,\"Speed\":60}],"
    "\"id\":1}";

static const char hand_made_power[] =
    "{\"STATUS\":[{\"STATUS\":\"S\",\"Description\":\"LUXminer\"}],"
    "\"POWER\":[{\"PSU\":true,\"Watts\":3250}],\"id\":1}";

static const char hand_made_config[] =
    "{\"STATUS\":[{\"STATUS\":\"S\",\"Description\":\"LUXminer\"}],"
    "\"CONFIG\":[{\"MACAddr\":\"02:AB:cd:00:11:22\"}],\"id\":1}";

static AmSample *
parse_ok(const AmLuxosReplies *r)
{
  g_autoptr(GError) error = NULL;
  AmSample *s = am_luxos_parse(r, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  am_sample_finish(s);
  return s;
}

/* The recorded version reply: firmware, version and the placeholder model. */
static void
test_version_fixture(void)
{
  g_autoptr(JsonObject) version = am_test_fixture_object("luxminer/unknown-model_version.json");
  g_autoptr(JsonObject) summary = am_test_object_from_string(hand_made_summary);
  AmLuxosReplies r = {.version = version, .summary = summary};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->driver, ==, "luxos");
  g_assert_cmpstr(s->firmware, ==, "LUXminer");
  g_assert_cmpstr(s->firmware_version, ==, "2000.1.1.12345-aaabbbc");
  /* Upstream's placeholder, passed on as given: the driver does not invent
   * or rewrite a model. */
  g_assert_cmpstr(s->model, ==, "A model");
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
}

/* An empty or blank Type is unknown, not "". */
static void
test_model_placeholders(void)
{
  g_autoptr(JsonObject) summary = am_test_object_from_string(hand_made_summary);
  const char *versions[] = {
      "{\"VERSION\":[{\"LUXminer\":\"1.0\",\"Type\":\"\"}]}",
      "{\"VERSION\":[{\"LUXminer\":\"1.0\",\"Type\":\"  \\n\"}]}",
      "{\"VERSION\":[{\"LUXminer\":\"1.0\"}]}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(versions); i++) {
    g_autoptr(JsonObject) version = am_test_object_from_string(versions[i]);
    AmLuxosReplies r = {.version = version, .summary = summary};
    g_autoptr(AmSample) s = parse_ok(&r);
    g_assert_null(s->model);
    g_assert_cmpstr(s->firmware_version, ==, "1.0");
  }
  g_autoptr(JsonObject) version =
      am_test_object_from_string("{\"VERSION\":[{\"LUXminer\":\"1.0\",\"Type\":\" Antminer "
                                 "S19j Pro\\nextra\"}]}");
  AmLuxosReplies r = {.version = version, .summary = summary};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpstr(s->model, ==, "Antminer S19j Pro");
}

static void
test_hand_made_summary(void)
{
  g_autoptr(JsonObject) summary = am_test_object_from_string(hand_made_summary);
  AmLuxosReplies r = {.summary = summary};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpstr(s->firmware, ==, "LUXminer");
  g_assert_null(s->firmware_version);
  g_assert_null(s->model);
  /* "GHS 5s":101234.5 GH/s */
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 101.2345, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 100.11125, 1e-12);
  g_assert_cmpint(s->elapsed_s, ==, 3600);
  g_assert_cmpint(s->accepted, ==, 1200);
  g_assert_cmpint(s->rejected, ==, 3);
  g_assert_cmpint(s->hw_errors, ==, 12);
  g_assert_cmpuint(s->chains->len, ==, 0);
  g_assert_true(isnan(s->power_w));
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

static void
test_hand_made_full(void)
{
  g_autoptr(JsonObject) version = am_test_fixture_object("luxminer/unknown-model_version.json");
  g_autoptr(JsonObject) atm = am_test_fixture_object("luxminer/unknown-model_atm.json");
  g_autoptr(JsonObject) summary = am_test_object_from_string(hand_made_summary);
  g_autoptr(JsonObject) stats = am_test_object_from_string(hand_made_stats);
  g_autoptr(JsonObject) fans = am_test_object_from_string(hand_made_fans);
  g_autoptr(JsonObject) power = am_test_object_from_string(hand_made_power);
  g_autoptr(JsonObject) config = am_test_object_from_string(hand_made_config);
  AmLuxosReplies r = {.version = version,
                      .summary = summary,
                      .stats = stats,
                      .fans = fans,
                      .power = power,
                      .config = config,
                      .atm = atm};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->mac, ==, "02:ab:cd:00:11:22");
  g_assert_cmpfloat(s->power_w, ==, 3250);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpfloat_with_epsilon(s->efficiency_jth, 3250 / 101.2345, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 104.0, 1e-12);
  /* The recorded atm reply: "Enabled": false. */
  g_assert_false(json_node_get_boolean(am_test_extra(s, "x_luxos_atm_enabled")));

  /* Fans from the fans command; STATS fanN is not counted again. */
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 5410, 5470);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 61, 63);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 76, 78);
  g_assert_cmpint(s->elapsed_s, ==, 3600); /* the summary's, not STATS' */

  g_assert_cmpuint(s->chains->len, ==, 2); /* slot 3: 0 chips and no rate */
  for (guint i = 0; i < 2; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    g_assert_cmpint(c->index, ==, (gint)i + 1);
    g_assert_cmpfloat_with_epsilon(c->hashrate_ths, 50.61725, 1e-12);
    g_assert_cmpint(c->chips, ==, 8);
    g_assert_cmpint(c->chips_ok, ==, i == 0 ? 8 : 7);
    g_assert_cmpint(c->chips_failed, ==, i == 0 ? 0 : 1);
    g_assert_cmpint(c->hw_errors, ==, i == 0 ? 5 : 7);
    g_assert_cmpfloat(c->temp_board_c, ==, i == 0 ? 61 : 63);
    g_assert_cmpfloat(c->temp_chip_c, ==, i == 0 ? 76 : 78);
  }
  g_assert_cmpfloat(s->temp_max_c, ==, 78);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_assert_cmpstr(s->problems->pdata[0], ==, "chain 2: 1 failed chips");
}

/* Without a fans reply, the STATS fanN keys stand in. */
static void
test_stats_fans_fallback(void)
{
  g_autoptr(JsonObject) summary = am_test_object_from_string(hand_made_summary);
  g_autoptr(JsonObject) stats = am_test_object_from_string(hand_made_stats);
  AmLuxosReplies r = {.summary = summary, .stats = stats};
  g_autoptr(AmSample) s = parse_ok(&r);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 5400, 5460);
  g_assert_true(isnan(s->power_w));
  g_assert_null(s->mac);
}

/* The recorded atm and groups replies in every optional slot: nothing is
 * made up from replies that do not carry the data. */
static void
test_unrelated_replies(void)
{
  g_autoptr(JsonObject) atm = am_test_fixture_object("luxminer/unknown-model_atm.json");
  g_autoptr(JsonObject) groups = am_test_fixture_object("luxminer/unknown-model_groups.json");
  g_autoptr(JsonObject) summary = am_test_object_from_string(hand_made_summary);
  JsonObject *others[] = {atm, groups};
  for (gsize i = 0; i < G_N_ELEMENTS(others); i++) {
    JsonObject *o = others[i];
    AmLuxosReplies r = {.version = o,
                        .summary = summary,
                        .pools = o,
                        .stats = o,
                        .fans = o,
                        .power = o,
                        .config = o};
    g_autoptr(AmSample) s = parse_ok(&r);
    g_assert_null(s->firmware_version);
    g_assert_null(s->model);
    g_assert_cmpuint(s->pools->len, ==, 0);
    g_assert_cmpuint(s->chains->len, ==, 0);
    g_assert_cmpuint(s->fans_rpm->len, ==, 0);
    g_assert_cmpuint(s->temps_c->len, ==, 0);
    g_assert_true(isnan(s->power_w));
    g_assert_null(s->mac);
  }
  /* groups in the summary slot: no SUMMARY. */
  g_autoptr(GError) error = NULL;
  AmLuxosReplies wrong = {.summary = groups};
  g_assert_null(am_luxos_parse(&wrong, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_clear_error(&error);
  AmLuxosReplies none = {.version = atm};
  g_assert_null(am_luxos_parse(&none, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
}

static void
test_match(void)
{
  g_autoptr(GPtrArray) files = am_test_version_fixtures();
  g_assert_cmpuint(files->len, >=, 10);
  for (guint i = 0; i < files->len; i++) {
    const char *path = files->pdata[i];
    g_autoptr(JsonObject) reply = am_test_fixture_object(path);
    AmFingerprint fp;
    am_test_fingerprint_init(&fp, reply);
    AmMatch expected =
        g_str_has_prefix(path, "luxminer/") ? AM_MATCH_SUPPORTED : AM_MATCH_UNSUPPORTED;
    if (am_luxos_match(&fp) != expected)
      g_error("%s: match %d, expected %d", path, am_luxos_match(&fp), expected);
  }
  /* The recorded LuxOS replies say just "LUXminer" in Description. */
  g_autoptr(JsonObject) atm = am_test_fixture_object("luxminer/unknown-model_atm.json");
  AmFingerprint fp;
  am_test_fingerprint_init(&fp, atm);
  g_assert_null(fp.version);
  g_assert_cmpint(am_luxos_match(&fp), ==, AM_MATCH_SUPPORTED);
  fp.description = "LUXminerish 1.0";
  g_assert_cmpint(am_luxos_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  g_assert_cmpint(am_luxos_match(NULL), ==, AM_MATCH_UNSUPPORTED);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/luxos/version-fixture", test_version_fixture);
  g_test_add_func("/luxos/model-placeholders", test_model_placeholders);
  g_test_add_func("/luxos/hand-made-summary", test_hand_made_summary);
  g_test_add_func("/luxos/hand-made-full", test_hand_made_full);
  g_test_add_func("/luxos/stats-fans-fallback", test_stats_fans_fallback);
  g_test_add_func("/luxos/unrelated-replies", test_unrelated_replies);
  g_test_add_func("/luxos/match", test_match);
  return g_test_run();
}
