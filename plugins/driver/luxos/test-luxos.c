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
/* LuxOS's "default" profile is the normal work mode (what a work_mode
 * normal action sets); its Watts are still the power target. */
static void
test_default_profile_is_normal(void)
{
  g_autoptr(JsonObject) summary = am_test_object_from_string(hand_made_summary);
  g_autoptr(JsonObject) config = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\"}],\"CONFIG\":[{\"Profile\":\"default\"}],\"id\":1}");
  g_autoptr(JsonObject) profiles = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\"}],\"PROFILES\":[{\"Profile Name\":\"265MHz\","
      "\"Watts\":1000},{\"Profile Name\":\"default\",\"Watts\":3010}],\"id\":1}");
  AmLuxosReplies r = {.summary = summary, .config = config, .profiles = profiles};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpstr(s->work_mode, ==, "normal");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_luxos_profile")), ==, "default");
  g_assert_cmpfloat(s->power_limit_w, ==, 3010);
}

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

/* ---- the recorded replies of a LuxOS S19k Pro (asic-rs) ---------------- */

static JsonObject *
lux_fixture(const char *name)
{
  g_autofree char *path = g_strdup_printf("luxminer/asicrs-v1_%s.json", name);
  return am_test_fixture_object(path);
}

/* Every reply of one poll plus voltageget 0..2, each value read off the
 * files by hand. */
static void
test_asicrs_s19k_pro(void)
{
  g_autoptr(JsonObject) version = lux_fixture("version");
  g_autoptr(JsonObject) summary = lux_fixture("summary");
  g_autoptr(JsonObject) pools = lux_fixture("pools");
  g_autoptr(JsonObject) stats = lux_fixture("stats");
  g_autoptr(JsonObject) fans = lux_fixture("fans");
  g_autoptr(JsonObject) power = lux_fixture("power");
  g_autoptr(JsonObject) config = lux_fixture("config");
  g_autoptr(JsonObject) devs = lux_fixture("devs");
  g_autoptr(JsonObject) temps = lux_fixture("temps");
  g_autoptr(JsonObject) profiles = lux_fixture("profiles");
  g_autoptr(JsonObject) events = lux_fixture("events");
  g_autoptr(JsonObject) v0 = lux_fixture("voltageget_0");
  g_autoptr(JsonObject) v1 = lux_fixture("voltageget_1");
  g_autoptr(JsonObject) v2 = lux_fixture("voltageget_2");
  AmLuxosReplies r = {.version = version,
                      .summary = summary,
                      .pools = pools,
                      .stats = stats,
                      .fans = fans,
                      .power = power,
                      .config = config,
                      .devs = devs,
                      .temps = temps,
                      .profiles = profiles,
                      .events = events,
                      .voltages = {v0, v1, v2}};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->firmware, ==, "LUXminer");
  g_assert_cmpstr(s->firmware_version, ==, "2025.4.8.220305-57b389c7");
  g_assert_cmpstr(s->model, ==, "Antminer S19k Pro");
  g_assert_cmpstr(s->mac, ==, "62:f7:5e:b7:10:46");
  g_assert_cmpstr(s->serial, ==, "JYZZB0UBDJABF06RB");
  g_assert_cmpstr(s->hostname, ==, "UrlacherS19k");
  g_assert_cmpstr(s->algorithm, ==, "sha256d");

  /* SUMMARY: GHS 5s 59756.06, GHS av 56917.91; STATS total_rateideal. */
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 59.75606, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 56.91791, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 61.9542, 1e-9);
  g_assert_cmpint(s->elapsed_s, ==, 3453);
  g_assert_cmpint(s->accepted, ==, 1483);
  g_assert_cmpint(s->rejected, ==, 1);
  g_assert_cmpint(s->hw_errors, ==, 0);
  g_assert_cmpfloat(s->best_share, ==, 32768);
  g_assert_cmpint(s->found_blocks, ==, 0);

  /* power: Watts 1051, PSU false; profile 290MHz at 1188 W. */
  g_assert_cmpfloat(s->power_w, ==, 1051);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_false(json_node_get_boolean(am_test_extra(s, "x_luxos_power_from_psu")));
  g_assert_cmpstr(s->work_mode, ==, "290MHz");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_luxos_profile")), ==, "290MHz");
  g_assert_cmpfloat(s->power_limit_w, ==, 1188);
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING); /* CurtailMode "None" */
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_luxos_curtail_mode")), ==, "None");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_luxos_psu_label")), ==, "APW121215e");
  g_assert_true(isnan(s->psu_power_in_w));

  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 1920, 1920, 2340, 2340);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 47, 47, 47);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 47, 47, 47);

  /* Slots 1..3 (slot 4: 0 chips, rate "0", no board). Boards 0..2 of
   * devs/temps/voltageget are slots 1..3. */
  const double rates[] = {18.91028, 18.93995, 19.06767};
  const char *serials[] = {"JYZZYRSBDJEBI06Z5", "JYZZYRSBDJEBI06ZM", "JYZZYRSBDJEBI06ZR"};
  const double inlet[] = {34, 33, 34};
  g_assert_cmpuint(s->chains->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    g_assert_cmpint(c->index, ==, (gint)i + 1);
    g_assert_cmpfloat_with_epsilon(c->hashrate_ths, rates[i], 1e-9);
    g_assert_cmpint(c->chips, ==, 77);
    g_assert_cmpint(c->chips_ok, ==, 77);
    g_assert_cmpint(c->chips_failed, ==, 0);
    g_assert_cmpint(c->hw_errors, ==, 0);
    g_assert_cmpfloat(c->temp_board_c, ==, 47);
    g_assert_cmpfloat(c->temp_chip_c, ==, 47);
    g_assert_cmpfloat(c->frequency_mhz, ==, 300);
    g_assert_cmpfloat(c->voltage_v, ==, 11.88);
    g_assert_cmpfloat(c->temp_inlet_c, ==, inlet[i]);
    g_assert_cmpfloat(c->temp_outlet_c, ==, 47);
    g_assert_cmpstr(s->chain_serials->pdata[i], ==, serials[i]);
  }

  /* Two groups of two pools each. */
  g_assert_cmpuint(s->pools->len, ==, 4);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://ca.stratum.braiins.com:3333",
                      "asic-rs.user1", "Alive", 0, 724, 0, 0, TRUE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://stratum.braiins.com:3333", "asic-rs.user1",
                      "Dead", 1, 0, 0, 0, FALSE);
  am_test_assert_pool(s->pools->pdata[2], "stratum+tcp://ca.stratum.braiins.com:3333",
                      "asic-rs.user2", "Alive", 2, 759, 1, 0, TRUE);
  am_test_assert_pool(s->pools->pdata[3], "stratum+tcp://stratum.braiins.com:3333", "asic-rs.user2",
                      "Dead", 3, 0, 0, 0, FALSE);

  /* events: two warnings (a protection, a board reboot). */
  g_assert_cmpuint(s->errors->len, ==, 2);
  const AmMinerError *e0 = s->errors->pdata[0];
  g_assert_cmpstr(e0->code, ==, "NOPIC_PROTECTION");
  g_assert_cmpstr(e0->message, ==, "Miner shutdown due to NOPIC protection.");
  g_assert_cmpstr(e0->component, ==, "miner");
  g_assert_cmpint(e0->severity, ==, AM_ERROR_SEVERITY_WARNING);
  g_assert_cmpint(e0->since_s, ==, 1775619507); /* 2026-04-08T03:38:27+00:00 */
  const AmMinerError *e1 = s->errors->pdata[1];
  g_assert_cmpstr(e1->code, ==, "REBOOT_NOT_HASHING");
  g_assert_cmpstr(e1->message, ==, "Board reboot due to it not hashing.");
  g_assert_cmpstr(e1->component, ==, "hashboard 0");
  g_assert_cmpint(e1->severity, ==, AM_ERROR_SEVERITY_WARNING);
  g_assert_cmpint(e1->since_s, ==, 1775619507);

  g_assert_false(s->partial);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

/* Curtailed: any CurtailMode but "None" is LuxOS's sleep. */
static void
test_curtailed(void)
{
  g_autoptr(JsonObject) summary = lux_fixture("summary");
  g_autoptr(JsonObject) config = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\"}],\"CONFIG\":[{\"CurtailMode\":\"Sleep\"}]}");
  AmLuxosReplies r = {.summary = summary, .config = config};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpint(s->mining, ==, AM_MINING_SLEEPING);
  g_assert_null(s->work_mode);
  g_assert_true(isnan(s->power_limit_w));
}

/* The recorded replies other than summary cannot stand in for it. */
static void
test_asicrs_without_summary(void)
{
  g_autoptr(JsonObject) stats = lux_fixture("stats");
  g_autoptr(JsonObject) healthchip = lux_fixture("healthchipget_0");
  g_autoptr(GError) error = NULL;
  AmLuxosReplies none = {.stats = stats};
  g_assert_null(am_luxos_parse(&none, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  AmLuxosReplies wrong = {.summary = healthchip};
  g_assert_null(am_luxos_parse(&wrong, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/luxos/version-fixture", test_version_fixture);
  g_test_add_func("/luxos/model-placeholders", test_model_placeholders);
  g_test_add_func("/luxos/hand-made-summary", test_hand_made_summary);
  g_test_add_func("/luxos/hand-made-full", test_hand_made_full);
  g_test_add_func("/luxos/default-profile-is-normal", test_default_profile_is_normal);
  g_test_add_func("/luxos/stats-fans-fallback", test_stats_fans_fallback);
  g_test_add_func("/luxos/unrelated-replies", test_unrelated_replies);
  g_test_add_func("/luxos/match", test_match);
  g_test_add_func("/luxos/asicrs-s19k-pro", test_asicrs_s19k_pro);
  g_test_add_func("/luxos/asicrs-curtailed", test_curtailed);
  g_test_add_func("/luxos/asicrs-without-summary", test_asicrs_without_summary);
  return g_test_run();
}
