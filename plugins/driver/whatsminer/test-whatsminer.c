/* The whatsminer v1/v2 parser against the recorded btminer replies in
 * tests/fixtures/btminer/ (Foreman's M20S and M3, asic-rs's v1 and v2
 * replies), field by field as a user sees them. API v3 is tested in
 * test-whatsminer-v3.c. */
#include "../common/am-driver-test-util.h"
#include "am-test-util.h"
#include "am-whatsminer-parse.h"

#include <math.h>

static AmSample *
parse_ok(const AmWhatsminerReplies *r)
{
  g_autoptr(GError) error = NULL;
  AmSample *s = am_whatsminer_parse(r, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  am_sample_finish(s);
  return s;
}

static double
extra_double(AmSample *s, const char *name)
{
  return json_node_get_double(am_test_extra(s, name));
}

static void
test_m20s(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object("btminer/m20s_summary.json");
  g_autoptr(JsonObject) pools = am_test_fixture_object("btminer/m20s_pools.json");
  AmWhatsminerReplies r = {.summary = summary, .pools = pools};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->driver, ==, "whatsminer");
  g_assert_cmpstr(s->firmware, ==, "btminer");
  g_assert_null(s->firmware_version); /* only "cgminer 4.9.2", the API's base */
  g_assert_null(s->model);
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 65.37130278, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 65.49208933, 1e-12);
  g_assert_cmpint(s->elapsed_s, ==, 97139); /* Elapsed, not the system Uptime */
  g_assert_cmpint(s->accepted, ==, 33825);
  g_assert_cmpint(s->rejected, ==, 185);
  g_assert_cmpint(s->hw_errors, ==, 1601);

  AM_TEST_ASSERT_DOUBLES(s->temps_c, 75);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_temperature_c"), ==, 75);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 4590, 4560);
  g_assert_cmpint(s->fans_expected, ==, 2);
  g_assert_false(s->liquid_cooled);
  g_assert_cmpuint(s->chains->len, ==, 0);

  /* "Power Current":258 is not watts (see am-whatsminer-parse.c): power is
   * unknown and the raw value is kept. */
  g_assert_true(isnan(s->power_w));
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_power_current"), ==, 258);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_psu_fan_rpm"), ==, 8160);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_uptime_s"), ==, 98801);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_voltage"), ==, 1170);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_freq_avg_mhz"), ==, 636);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_whatsminer_chip_data")), ==,
                  "K46K241-1918 BIN2-B");
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_whatsminer_error_code_count")), ==, 0);

  g_assert_cmpuint(s->pools->len, ==, 2);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://us-east.stratum.slushpool.com:3333",
                      "002m20s", "Alive", 0, 33825, 185, 27, TRUE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://us-central01.miningrigrentals.com:50194",
                      "2", "Alive", 1, 0, 0, 0, FALSE);

  g_assert_cmpfloat_with_epsilon(s->temp_max_c, 75, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->avg_fan_rpm, 4575, 1e-9);
  g_assert_true(isnan(s->efficiency_jth));
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  g_assert_cmpuint(s->problems->len, ==, 0);
}

static void
test_m3(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object("btminer/m3_summary.json");
  g_autoptr(JsonObject) pools = am_test_fixture_object("btminer/m3_pools.json");
  AmWhatsminerReplies r = {.summary = summary, .pools = pools};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 12.28681978, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 11.76361545, 1e-12);
  g_assert_cmpint(s->elapsed_s, ==, 43685);
  g_assert_cmpint(s->accepted, ==, 218);
  g_assert_cmpint(s->rejected, ==, 0);
  g_assert_cmpint(s->hw_errors, ==, 394);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 85.5);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 5730, 5880);
  g_assert_cmpint(s->fans_expected, ==, 2);
  g_assert_false(s->liquid_cooled); /* the M3 has no "Liquid Cooling" key */
  g_assert_true(isnan(s->power_w));
  /* The M3 has none of the M20S's power keys. */
  g_assert_false(json_object_has_member(s->extras, "x_whatsminer_power_current"));
  g_assert_false(json_object_has_member(s->extras, "x_whatsminer_uptime_s"));
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_voltage"), ==, 8);

  g_assert_cmpuint(s->pools->len, ==, 3);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://bitcoin.1viabtc.com:3333", "xxxxxxxxxx",
                      "Dead", 0, 0, 0, 0, FALSE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://sha256.eu.nicehash.com:3334",
                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "Alive", 1, 2628, 1, 2, TRUE);
  am_test_assert_pool(s->pools->pdata[2], "stratum+tcp://sha256.usa.nicehash.com:3334",
                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "Alive", 2, 0, 0, 0, FALSE);
  g_assert_cmpfloat_with_epsilon(s->temp_max_c, 85.5, 1e-9);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

/* The recorded status reply (Whatsminer layout) is from an unknown model;
 * it is paired with the M20S summary, which any poll needs. */
static void
test_status_reply(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object("btminer/m20s_summary.json");
  g_autoptr(JsonObject) status = am_test_fixture_object("btminer/unknown-model_status.json");
  AmWhatsminerReplies r = {.summary = summary, .status = status};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->firmware, ==, "btminer");
  g_assert_cmpstr(s->firmware_version, ==, "20210322.22.REL");
  /* All values are strings there: "false" is read as a boolean. */
  g_assert_false(json_node_get_boolean(am_test_extra(s, "x_whatsminer_mineroff")));
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_whatsminer_power_mode")), ==, "normal");
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_hash_percent"), ==, 0);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_whatsminer_api")), ==,
                  "whatsminer v1.4.0");
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  g_assert_cmpuint(s->problems->len, ==, 0);
}

/* HAND-MADE edits of the recorded M20S summary, for keys and values no
 * recorded reply has. *body receives SUMMARY[0] to edit. */
static JsonObject *
m20s_summary_copy(JsonObject **body)
{
  JsonObject *reply = am_test_fixture_object("btminer/m20s_summary.json");
  *body = json_array_get_object_element(json_object_get_array_member(reply, "SUMMARY"), 0);
  return reply;
}

static void
test_hand_made_liquid_with_power(void)
{
  JsonObject *body;
  g_autoptr(JsonObject) summary = m20s_summary_copy(&body);
  /* A hydro unit: no fans, and a firmware that reports "Power" in W. */
  json_object_set_boolean_member(body, "Liquid Cooling", TRUE);
  json_object_set_int_member(body, "Fan Speed In", 0);
  json_object_set_int_member(body, "Fan Speed Out", 0);
  json_object_set_int_member(body, "Power", 3360);
  AmWhatsminerReplies r = {.summary = summary};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_true(s->liquid_cooled);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  g_assert_cmpint(s->fans_expected, ==, 0);
  g_assert_cmpfloat(s->power_w, ==, 3360);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpfloat_with_epsilon(s->efficiency_jth, 3360 / 65.37130278, 1e-9);
  g_assert_true(isnan(s->avg_fan_rpm));
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK); /* no fans is normal here */
}

static void
test_hand_made_faults(void)
{
  JsonObject *body;
  g_autoptr(JsonObject) summary = m20s_summary_copy(&body);
  /* An air-cooled unit with a dead exhaust fan and two error codes. */
  json_object_set_int_member(body, "Fan Speed Out", 0);
  json_object_set_int_member(body, "Error Code Count", 2);
  g_autoptr(JsonObject) status = am_test_object_from_string(
      "{\"STATUS\":\"S\",\"When\":1761061371,\"Code\":131,\"Msg\":{\"mineroff\":\"true\","
      "\"FirmwareVersion\":\"20210322.22.REL\",\"power_mode\":\"normal\",\"hash_percent\":\"0\"},"
      "\"Description\":\"whatsminer v1.4.0\"}");
  AmWhatsminerReplies r = {.summary = summary, .status = status};
  g_autoptr(AmSample) s = parse_ok(&r);

  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 4590);
  g_assert_true(json_node_get_boolean(am_test_extra(s, "x_whatsminer_mineroff")));
  /* Switched off on purpose (power_off): paused, not a problem. */
  g_assert_cmpint(s->mining, ==, AM_MINING_PAUSED);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  /* ... and a paused unit's stopped fan is no fault (the core's rule). */
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_assert_cmpstr(s->problems->pdata[0], ==, "the miner reports 2 error code(s)");
}

/* HAND-MADE devs, devdetails and version replies: no recorded Whatsminer
 * reply has them. devs in the cgminer DEVS shape with a Slot per board;
 * devdetails with a Model; version in the Whatsminer layout. */
static const char hand_made_devs[] =
    "{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":9,\"Description\":\"cgminer 4.9.2\"}],"
    "\"DEVS\":[{\"ASC\":0,\"Slot\":0,\"Temperature\":76.5,\"MHS 5s\":21800000.5,"
    "\"Hardware Errors\":500},{\"ASC\":1,\"Slot\":1,\"Temperature\":74.0,"
    "\"MHS 5s\":21700000.0,\"Hardware Errors\":601},{\"ASC\":2,\"Slot\":2,"
    "\"Temperature\":75.25,\"MHS 5s\":21871302.28,\"Hardware Errors\":500}]}";

static void
test_hand_made_devs_and_identity(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object("btminer/m20s_summary.json");
  g_autoptr(JsonObject) devs = am_test_object_from_string(hand_made_devs);
  g_autoptr(JsonObject) devdetails = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\"}],\"DEVDETAILS\":[{\"DEVDETAILS\":0,\"Name\":\"SM\","
      "\"ID\":0,\"Driver\":\"bitmicro\",\"Model\":\"M20S.V10\"}]}");
  g_autoptr(JsonObject) version = am_test_object_from_string(
      "{\"STATUS\":\"S\",\"When\":1700000000,\"Code\":131,\"Msg\":{\"api_ver\":\"2.0.5\","
      "\"fw_ver\":\"20230911.12.Rel\"},\"Description\":\"\"}");
  AmWhatsminerReplies r = {
      .version = version, .summary = summary, .devs = devs, .devdetails = devdetails};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->model, ==, "M20S.V10");
  g_assert_cmpstr(s->firmware_version, ==, "20230911.12.Rel");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_whatsminer_api_version")), ==, "2.0.5");
  g_assert_cmpuint(s->chains->len, ==, 3);
  const double rates[] = {21.8000005, 21.7, 21.87130228};
  const double temps[] = {76.5, 74.0, 75.25};
  for (guint i = 0; i < 3; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    g_assert_cmpint(c->index, ==, (gint)i);
    g_assert_cmpfloat_with_epsilon(c->hashrate_ths, rates[i], 1e-12);
    g_assert_cmpfloat(c->temp_board_c, ==, temps[i]);
  }
  /* Board temperatures only; the summary's overall 75 is kept as an extra
   * and not averaged in with them. */
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 76.5, 74.0, 75.25);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_temperature_c"), ==, 75);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 65.37130278, 1e-12); /* the summary's */
}

/* ---- the asic-rs v1/v2 replies (tests/fixtures/btminer/asicrs-*) -------- */

#define ASICRS(name) "btminer/asicrs-" name ".json"

static const AmChain *
chain_at(AmSample *s, guint i)
{
  g_assert_cmpuint(i, <, s->chains->len);
  return &g_array_index(s->chains, AmChain, i);
}

static void
assert_chain(AmSample *s, guint i, gint index, double ths, gint chips, gint64 hw_errors,
             double board_c, double chip_c)
{
  const AmChain *c = chain_at(s, i);
  g_assert_cmpint(c->index, ==, index);
  g_assert_cmpfloat_with_epsilon(c->hashrate_ths, ths, 1e-9);
  g_assert_cmpint(c->chips, ==, chips);
  g_assert_cmpint(c->chips_expected, ==, AM_UNKNOWN);
  g_assert_cmpint(c->hw_errors, ==, hw_errors);
  g_assert_cmpfloat(c->temp_board_c, ==, board_c);
  g_assert_cmpfloat(c->temp_chip_c, ==, chip_c);
}

static const char *
extra_string(AmSample *s, const char *name)
{
  return json_node_get_string(am_test_extra(s, name));
}

/* v1 (API 1.4.0): summary, devs, pools, status and get_psu of one unit. */
static void
test_asicrs_v1(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object(ASICRS("v1_summary"));
  g_autoptr(JsonObject) devs = am_test_fixture_object(ASICRS("v1_devs"));
  g_autoptr(JsonObject) pools = am_test_fixture_object(ASICRS("v1_pools"));
  g_autoptr(JsonObject) status = am_test_fixture_object(ASICRS("v1_status"));
  g_autoptr(JsonObject) psu = am_test_fixture_object(ASICRS("v1_get_psu"));
  AmWhatsminerReplies r = {
      .summary = summary, .devs = devs, .pools = pools, .status = status, .get_psu = psu};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->driver, ==, "whatsminer");
  g_assert_cmpstr(s->firmware, ==, "btminer");
  /* The status reply's version, its quotes taken off ('20220919.15.REL');
   * the summary names another ('20210322.22.REL': a different capture). */
  g_assert_cmpstr(s->firmware_version, ==, "20220919.15.REL");
  g_assert_null(s->model);
  g_assert_cmpstr(s->mac, ==, "c4:08:28:00:a4:19");
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 70.66811452, 1e-9);     /* MHS 5s */
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 67.75325119, 1e-9); /* MHS av */
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 68.796, 1e-9);    /* Factory GHS */
  g_assert_cmpfloat(s->power_w, ==, 3417);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpfloat_with_epsilon(s->efficiency_jth, 3417 / 70.66811452, 1e-9);
  g_assert_cmpint(s->elapsed_s, ==, 10154);
  g_assert_cmpint(s->accepted, ==, 2338);
  g_assert_cmpint(s->rejected, ==, 0);
  g_assert_cmpint(s->hw_errors, ==, 69);

  /* Boards from devs (Slot 0..2); the summary's Temperature is not added. */
  g_assert_cmpuint(s->chains->len, ==, 3);
  assert_chain(s, 0, 0, 20.05343874, 105, 15, 70.0, 90.0);
  assert_chain(s, 1, 1, 25.56731781, 105, 47, 69.5, 90.11);
  assert_chain(s, 2, 2, 24.35129228, 105, 7, 71.5, 92.5);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 70.0, 69.5, 71.5);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 90.0, 90.11, 92.5);
  g_assert_cmpfloat(s->temp_max_c, ==, 92.5);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 6450, 6480);
  g_assert_cmpint(s->fans_expected, ==, 2);
  g_assert_false(s->liquid_cooled);

  g_assert_cmpfloat(extra_double(s, "x_whatsminer_power_current"), ==, 261);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_power_realtime_w"), ==, 3427);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_power_limit_w"), ==, 3500);
  g_assert_cmpstr(extra_string(s, "x_whatsminer_power_mode"), ==, "Normal");
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_psu_fan_rpm"), ==, 9060);
  g_assert_cmpstr(extra_string(s, "x_whatsminer_psu_model"), ==, "P21-12-3600-E");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_psu_name"), ==, "P21");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_psu_firmware"), ==, "102220.009");
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_chip_temp_avg_c"), ==, 84.11);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_chip_temp_min_c"), ==, 71.0);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_temperature_c"), ==, 71.5);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_uptime_s"), ==, 10792);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_voltage"), ==, 1180);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_freq_avg_mhz"), ==, 648);
  g_assert_cmpstr(extra_string(s, "x_whatsminer_chip_data"), ==,
                  "HP5A01-19101436   BINV04-192101D");
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_whatsminer_error_code_count")), ==, 0);
  g_assert_false(json_object_has_member(s->extras, "x_whatsminer_errors"));
  /* btmineroff "false" is v1's mineroff. */
  g_assert_false(json_node_get_boolean(am_test_extra(s, "x_whatsminer_mineroff")));
  g_assert_cmpstr(extra_string(s, "x_whatsminer_api"), ==, "whatsminer v1.4.0");
  g_assert_false(json_object_has_member(s->extras, "x_whatsminer_environment_temp_c"));

  g_assert_cmpuint(s->pools->len, ==, 3);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://btc.example.pool:3333", "asic-rs.test",
                      "Alive", 0, 2338, 0, 0, TRUE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://btc2.example.pool:3333", "asic-rs.test",
                      "Alive", 1, 0, 0, 0, FALSE);
  am_test_assert_pool(s->pools->pdata[2], "stratum+tcp://btc3.example.pool:3333", "asic-rs.test",
                      "Alive", 2, 0, 0, 0, FALSE);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  g_assert_cmpuint(s->problems->len, ==, 0);
}

/* The v1 summary alone: its own quoted firmware version, and its one chip
 * maximum standing in for the boards'. */
static void
test_asicrs_v1_summary_alone(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object(ASICRS("v1_summary"));
  AmWhatsminerReplies r = {.summary = summary};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpstr(s->firmware_version, ==, "20210322.22.REL");
  g_assert_cmpuint(s->chains->len, ==, 0);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 71.5);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 92.5);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_psu_fan_rpm"), ==, 9060); /* Power Fanspeed */
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

/* "Error Code Count" 2 with the codes in "Error Code 0" and "Error Code 1". */
static void
test_asicrs_v1_summary_with_errors(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object(ASICRS("v1_summary_with_errors"));
  AmWhatsminerReplies r = {.summary = summary};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_whatsminer_error_code_count")), ==, 2);
  JsonArray *errors = json_node_get_array(am_test_extra(s, "x_whatsminer_errors"));
  g_assert_cmpuint(json_array_get_length(errors), ==, 2);
  JsonObject *e0 = json_array_get_object_element(errors, 0);
  JsonObject *e1 = json_array_get_object_element(errors, 1);
  g_assert_cmpint(json_object_get_int_member(e0, "code"), ==, 110);
  g_assert_cmpint(json_object_get_int_member(e1, "code"), ==, 600);
  g_assert_false(json_object_has_member(e0, "time")); /* the summary gives none */
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_assert_cmpstr(s->problems->pdata[0], ==, "the miner reports 2 error code(s): 110, 600");
}

/* v2 (reduced by asic-rs): no "MHS 5s" anywhere, get_psu's fan as a string. */
static void
test_asicrs_v2(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object(ASICRS("v2_summary"));
  g_autoptr(JsonObject) devs = am_test_fixture_object(ASICRS("v2_devs"));
  g_autoptr(JsonObject) pools = am_test_fixture_object(ASICRS("v2_pools"));
  g_autoptr(JsonObject) status = am_test_fixture_object(ASICRS("v2_status"));
  g_autoptr(JsonObject) psu = am_test_fixture_object(ASICRS("v2_get_psu"));
  g_autoptr(JsonObject) errors = am_test_fixture_object(ASICRS("v2_get_error_code"));
  AmWhatsminerReplies r = {.summary = summary,
                           .devs = devs,
                           .pools = pools,
                           .status = status,
                           .get_psu = psu,
                           .get_error_code = errors};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->firmware_version, ==, "20240624.18.REL");
  g_assert_cmpstr(s->mac, ==, "d4:01:02:03:04:05");
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 124.5, 1e-9); /* HS RT, MH/s */
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 125.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 126.0, 1e-9);
  g_assert_cmpfloat(s->power_w, ==, 3200);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpint(s->elapsed_s, ==, 25000);
  g_assert_cmpint(s->accepted, ==, 5412);
  g_assert_cmpint(s->rejected, ==, AM_UNKNOWN); /* not in this reply */
  g_assert_cmpint(s->hw_errors, ==, AM_UNKNOWN);

  /* Per board only "MHS av" is told: it stands for the board's rate. */
  g_assert_cmpuint(s->chains->len, ==, 3);
  assert_chain(s, 0, 0, 41.5, 135, AM_UNKNOWN, 65.0, 80.0);
  assert_chain(s, 1, 1, 41.8, 135, AM_UNKNOWN, 66.0, 81.0);
  assert_chain(s, 2, 2, 41.7, 135, AM_UNKNOWN, 67.0, 81.0);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 65.0, 66.0, 67.0);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 80.0, 81.0, 81.0);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 5400, 5280);
  g_assert_cmpint(s->fans_expected, ==, 2);

  g_assert_cmpfloat(extra_double(s, "x_whatsminer_environment_temp_c"), ==, 28.5);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_power_limit_w"), ==, 3300);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_power_limit_set_w"), ==, 3600);
  g_assert_cmpstr(extra_string(s, "x_whatsminer_power_mode"), ==, "low"); /* status wins */
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_hash_percent"), ==, 0);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_uptime_s"), ==, 25500);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_chip_temp_avg_c"), ==, 72.5);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_psu_fan_rpm"), ==, 6000); /* "6000" */
  g_assert_cmpstr(extra_string(s, "x_whatsminer_psu_model"), ==, "P222B");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_psu_firmware"), ==, "230208.220429");
  g_assert_false(json_node_get_boolean(am_test_extra(s, "x_whatsminer_mineroff")));
  /* The empty Description is not an API name; an empty error list no error. */
  g_assert_false(json_object_has_member(s->extras, "x_whatsminer_api"));
  g_assert_false(json_object_has_member(s->extras, "x_whatsminer_errors"));
  g_assert_false(json_object_has_member(s->extras, "x_whatsminer_error_code_count"));

  g_assert_cmpuint(s->pools->len, ==, 3);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://btc.example.pool:3333", "asic-rs.test",
                      "Alive", 0, 5412, 0, AM_UNKNOWN, TRUE);
  am_test_assert_pool(s->pools->pdata[2], "stratum+tcp://btc3.example.pool:3333", "asic-rs.test",
                      "Alive", 2, 0, 0, AM_UNKNOWN, FALSE);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  g_assert_cmpuint(s->problems->len, ==, 0);
}

/* get_error_code with two dated codes: both kept with their times, and the
 * sample degraded naming them. */
static void
test_asicrs_v2_error_codes(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object(ASICRS("v2_summary"));
  g_autoptr(JsonObject) errors = am_test_fixture_object(ASICRS("v2_get_error_code_with_errors"));
  AmWhatsminerReplies r = {.summary = summary, .get_error_code = errors};
  g_autoptr(AmSample) s = parse_ok(&r);
  JsonArray *list = json_node_get_array(am_test_extra(s, "x_whatsminer_errors"));
  g_assert_cmpuint(json_array_get_length(list), ==, 2);
  JsonObject *e0 = json_array_get_object_element(list, 0);
  JsonObject *e1 = json_array_get_object_element(list, 1);
  g_assert_cmpint(json_object_get_int_member(e0, "code"), ==, 218);
  g_assert_cmpstr(json_object_get_string_member(e0, "time"), ==, "2024-06-15 10:30:00");
  g_assert_cmpint(json_object_get_int_member(e1, "code"), ==, 110);
  g_assert_cmpstr(json_object_get_string_member(e1, "time"), ==, "2024-06-15 09:15:00");
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_assert_cmpstr(s->problems->pdata[0], ==, "the miner reports 2 error code(s): 218, 110");
}

/* HAND-MADE edits of the v2 replies: readings of 0, negative or absurd are
 * dropped, never taken. */
static void
test_hand_made_bad_readings(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object(ASICRS("v2_summary"));
  JsonObject *body =
      json_array_get_object_element(json_object_get_array_member(summary, "SUMMARY"), 0);
  json_object_set_double_member(body, "HS RT", -5);
  json_object_set_int_member(body, "Factory GHS", 0);
  json_object_set_int_member(body, "Power", 0);
  json_object_set_int_member(body, "Env Temp", 500);
  json_object_set_int_member(body, "Chip Temp Max", 255);
  g_autoptr(JsonObject) psu = am_test_object_from_string(
      "{\"STATUS\":\"S\",\"Code\":131,\"Msg\":{\"fan_speed\":\"0\",\"model\":\"P222B\"}}");
  AmWhatsminerReplies r = {.summary = summary, .get_psu = psu};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_true(isnan(s->hashrate_ths));
  g_assert_true(isnan(s->hashrate_ideal_ths));
  g_assert_true(isnan(s->power_w));
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_false(json_object_has_member(s->extras, "x_whatsminer_environment_temp_c"));
  g_assert_false(json_object_has_member(s->extras, "x_whatsminer_psu_fan_rpm"));
  g_assert_cmpuint(s->chip_temps_c->len, ==, 0);
}

static void
test_summary_required(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) status = am_test_fixture_object("btminer/unknown-model_status.json");
  AmWhatsminerReplies r = {.status = status};
  g_assert_null(am_whatsminer_parse(&r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  /* The status reply in the summary slot has no SUMMARY. */
  AmWhatsminerReplies wrong = {.summary = status};
  g_assert_null(am_whatsminer_parse(&wrong, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
}

static AmMatch
match_reply(JsonObject *reply)
{
  AmFingerprint fp;
  am_test_fingerprint_init(&fp, reply);
  return am_whatsminer_match(&fp);
}

static void
test_match_all_versions(void)
{
  /* No recorded version reply is a Whatsminer's: none may be claimed. */
  g_autoptr(GPtrArray) files = am_test_version_fixtures();
  g_assert_cmpuint(files->len, >=, 10);
  for (guint i = 0; i < files->len; i++) {
    g_autoptr(JsonObject) reply = am_test_fixture_object(files->pdata[i]);
    if (match_reply(reply) != AM_MATCH_UNSUPPORTED)
      g_error("%s: claimed by whatsminer", (const char *)files->pdata[i]);
  }
}

static void
test_match_whatsminer_shapes(void)
{
  /* The Whatsminer layout (STATUS a string) as a fingerprint. */
  g_autoptr(JsonObject) status = am_test_fixture_object("btminer/unknown-model_status.json");
  g_assert_cmpint(match_reply(status), ==, AM_MATCH_SUPPORTED);
  /* A plain "cgminer 4.9.2" (the recorded btminer Description): a probe. */
  g_autoptr(JsonObject) summary = am_test_fixture_object("btminer/m20s_summary.json");
  g_assert_cmpint(match_reply(summary), ==, AM_MATCH_MAYBE);
  /* Plain cgminer 4.9.2 of another vendor: not ours. */
  AmFingerprint fp;
  g_autoptr(JsonObject) antminer = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\",\"Description\":\"cgminer 4.9.2\"}],"
      "\"VERSION\":[{\"CGMiner\":\"4.9.2\",\"Type\":\"Antminer S9\"}]}");
  g_assert_cmpint(match_reply(antminer), ==, AM_MATCH_UNSUPPORTED);
  /* HAND-MADE version replies naming btminer / Whatsminer. */
  g_autoptr(JsonObject) btminer = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\",\"Description\":\"btminer 2.0.1\"}],"
      "\"VERSION\":[{\"API\":\"3.7\"}]}");
  g_assert_cmpint(match_reply(btminer), ==, AM_MATCH_SUPPORTED);
  g_autoptr(JsonObject) named = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\",\"Description\":\"cgminer 4.9.2\"}],"
      "\"VERSION\":[{\"CGMiner\":\"4.9.2\",\"Type\":\"Whatsminer M30S\"}]}");
  g_assert_cmpint(match_reply(named), ==, AM_MATCH_LIKELY);
  am_test_fingerprint_init(&fp, NULL);
  g_assert_cmpint(am_whatsminer_match(&fp), ==, AM_MATCH_UNSUPPORTED);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/whatsminer/m20s", test_m20s);
  g_test_add_func("/whatsminer/m3", test_m3);
  g_test_add_func("/whatsminer/status-reply", test_status_reply);
  g_test_add_func("/whatsminer/hand-made-liquid-with-power", test_hand_made_liquid_with_power);
  g_test_add_func("/whatsminer/hand-made-faults", test_hand_made_faults);
  g_test_add_func("/whatsminer/hand-made-devs-and-identity", test_hand_made_devs_and_identity);
  g_test_add_func("/whatsminer/asicrs/v1", test_asicrs_v1);
  g_test_add_func("/whatsminer/asicrs/v1-summary-alone", test_asicrs_v1_summary_alone);
  g_test_add_func("/whatsminer/asicrs/v1-summary-with-errors", test_asicrs_v1_summary_with_errors);
  g_test_add_func("/whatsminer/asicrs/v2", test_asicrs_v2);
  g_test_add_func("/whatsminer/asicrs/v2-error-codes", test_asicrs_v2_error_codes);
  g_test_add_func("/whatsminer/hand-made-bad-readings", test_hand_made_bad_readings);
  g_test_add_func("/whatsminer/summary-required", test_summary_required);
  g_test_add_func("/whatsminer/match-all-version-fixtures", test_match_all_versions);
  g_test_add_func("/whatsminer/match-whatsminer-shapes", test_match_whatsminer_shapes);
  return g_test_run();
}
