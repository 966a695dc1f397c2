/* The generic parser: what a plain cgminer reader gets from the recorded
 * replies in tests/fixtures/cgminer/ and tests/fixtures/btminer/, and from
 * hand-made devs and summary replies (labelled where they appear). */
#include "../common/am-driver-test-util.h"
#include "am-generic-parse.h"
#include "am-test-util.h"

#include <math.h>

static AmSample *
parse_ok(const AmGenericReplies *r)
{
  g_autoptr(GError) error = NULL;
  AmSample *s = am_generic_parse(r, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  am_sample_finish(s);
  return s;
}

/* Stats-only replies: the plain reader takes sensors and Elapsed from the
 * data block and never a hashrate (the GHS keys of these scrypt/X11/ethash/
 * equihash models hold MH/s or Sol/s). */
static void
assert_no_hashrate(AmSample *s)
{
  g_assert_true(isnan(s->hashrate_ths));
  g_assert_true(isnan(s->hashrate_avg_ths));
  g_assert_null(s->algorithm);
  g_assert_cmpuint(s->chains->len, ==, 0);
  g_assert_cmpint(s->accepted, ==, AM_UNKNOWN);
  g_assert_true(isnan(s->power_w));
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
}

static void
test_d3_blissz(void)
{
  g_autoptr(JsonObject) version = am_test_fixture_object("cgminer/d3_version.json");
  g_autoptr(JsonObject) stats = am_test_fixture_object("cgminer/d3-blissz_stats.json");
  g_autoptr(JsonObject) pools = am_test_fixture_object("cgminer/d3-blissz_pools.json");
  AmGenericReplies r = {.version = version, .stats = stats, .pools = pools};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->driver, ==, "generic");
  g_assert_cmpstr(s->firmware, ==, "cgminer");
  g_assert_cmpstr(s->firmware_version, ==, "4.9.0");
  g_assert_cmpstr(s->model, ==, "Antminer D3");
  assert_no_hashrate(s);
  g_assert_cmpint(s->elapsed_s, ==, 54422);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 6030, 5790);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 46, 46, 48); /* temp4:0 is an empty slot */
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 69, 67, 62);

  /* Five entries: two empty slots (no URL) and two dev-fee pools. */
  g_assert_cmpuint(s->pools->len, ==, 3);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://dash-eu.coinmine.pl:6099", "Dash.default",
                      "Alive", 0, 3038, 8, 5, TRUE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://dash.suprnova.cc:9991", "devFeeMiner.9",
                      "Alive", 9998, 0, 0, 0, FALSE);
  am_test_assert_pool(s->pools->pdata[2], "stratum+tcp://dash-eu.coinmine.pl:6099", "devFeeMiner.1",
                      "Alive", 9999, 0, 0, 0, FALSE);
  g_assert_cmpfloat(s->temp_max_c, ==, 69);
  g_assert_cmpfloat_with_epsilon(s->avg_temp_c, (46.0 + 46 + 48) / 3, 1e-9);
  g_assert_cmpfloat(s->avg_fan_rpm, ==, 5910);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

static void
test_e3(void)
{
  g_autoptr(JsonObject) stats = am_test_fixture_object("cgminer/e3_stats.json");
  g_autoptr(JsonObject) pools = am_test_fixture_object("cgminer/e3_pools.json");
  AmGenericReplies r = {.stats = stats, .pools = pools};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->firmware, ==, "cgminer");
  g_assert_cmpstr(s->firmware_version, ==, "4.9.0"); /* from Description */
  g_assert_cmpstr(s->model, ==, "Antminer E3");      /* from the STATS version block */
  assert_no_hashrate(s);
  g_assert_cmpint(s->elapsed_s, ==, 556);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 3600, 3720); /* fan5, fan6; fan1-4 are 0 */
  /* Keys come out of order (temp1, temp8, temp9, temp2...): read by slot. */
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 49, 50, 50, 45, 39, 46, 39, 45, 39);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 63, 68, 68, 63, 56, 59, 56, 63, 58);
  g_assert_cmpuint(s->pools->len, ==, 1);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://us1.ethpool.org:3333",
                      "#0x65CdB0EE9Ba1D9eFe2566965F8B089c2B9ffCE63.00B4C08382A1", "Alive", 0, 38, 0,
                      0, TRUE);
  g_assert_cmpfloat(s->temp_max_c, ==, 68);
}

static void
test_l3plus(void)
{
  g_autoptr(JsonObject) stats = am_test_fixture_object("cgminer/l3plus_stats.json");
  g_autoptr(JsonObject) pools = am_test_fixture_object("cgminer/l3plus_pools.json");
  AmGenericReplies r = {.stats = stats, .pools = pools};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->model, ==, "Antminer L3+");
  assert_no_hashrate(s);
  g_assert_cmpint(s->elapsed_s, ==, 393983);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 3840, 3810);
  /* temp31..temp34 are 0 (no sensor): dropped, not averaged. */
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 46, 46, 46, 45);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 54, 56, 56, 53);
  g_assert_cmpuint(s->pools->len, ==, 1);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://us.litecoinpool.org:3333", "obmllc.l3_1",
                      "Alive", 0, 47384, 212, 15, TRUE);
}

static void
test_z11_chipless(void)
{
  g_autoptr(JsonObject) stats = am_test_fixture_object("cgminer/z11-chipless_stats.json");
  AmGenericReplies r = {.stats = stats};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->model, ==, "Antminer Z11");
  g_assert_cmpstr(s->firmware_version, ==, "4.9.0");
  assert_no_hashrate(s);
  g_assert_cmpint(s->elapsed_s, ==, 20578);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 3000, 3000);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 37, 38, 34);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 56, 60, 54);
  g_assert_cmpuint(s->pools->len, ==, 0);
}

/* The btminer summaries through the plain reader: the cgminer keys only,
 * none of the Whatsminer additions (Temperature, fans, power). */
static void
test_btminer_m20s(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object("btminer/m20s_summary.json");
  g_autoptr(JsonObject) pools = am_test_fixture_object("btminer/m20s_pools.json");
  AmGenericReplies r = {.summary = summary, .pools = pools};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->firmware, ==, "cgminer");
  g_assert_cmpstr(s->firmware_version, ==, "4.9.2");
  g_assert_null(s->model);
  g_assert_null(s->algorithm);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 65.37130278, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 65.49208933, 1e-12);
  g_assert_cmpint(s->elapsed_s, ==, 97139);
  g_assert_cmpint(s->accepted, ==, 33825);
  g_assert_cmpint(s->rejected, ==, 185);
  g_assert_cmpint(s->hw_errors, ==, 1601);
  g_assert_cmpuint(s->temps_c->len, ==, 0);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  g_assert_true(isnan(s->power_w));
  g_assert_cmpuint(json_object_get_size(s->extras), ==, 0);
  g_assert_cmpuint(s->pools->len, ==, 2);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://us-east.stratum.slushpool.com:3333",
                      "002m20s", "Alive", 0, 33825, 185, 27, TRUE);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

static void
test_btminer_m3(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object("btminer/m3_summary.json");
  g_autoptr(JsonObject) pools = am_test_fixture_object("btminer/m3_pools.json");
  AmGenericReplies r = {.summary = summary, .pools = pools};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 12.28681978, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 11.76361545, 1e-12);
  g_assert_cmpint(s->elapsed_s, ==, 43685);
  g_assert_cmpint(s->accepted, ==, 218);
  g_assert_cmpint(s->hw_errors, ==, 394);
  g_assert_cmpuint(s->pools->len, ==, 3);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://sha256.eu.nicehash.com:3334",
                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "Alive", 1, 2628, 1, 2, TRUE);
}

/* The Whatsminer status layout has nothing a plain reader can use. */
static void
test_btminer_status(void)
{
  g_autoptr(JsonObject) status = am_test_fixture_object("btminer/unknown-model_status.json");
  g_autoptr(GError) error = NULL;
  AmGenericReplies r = {.summary = status};
  g_assert_null(am_generic_parse(&r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_clear_error(&error);
  AmGenericReplies none = {.version = status};
  g_assert_null(am_generic_parse(&none, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
}

/* HAND-MADE devs reply in the cgminer DEVS shape (three ASCs, one sensor
 * reading 0), with no summary: chains carry the detail and the total is
 * derived from them. */
static const char hand_made_devs[] =
    "{\"STATUS\":[{\"STATUS\":\"S\",\"When\":1700000000,\"Code\":9,\"Msg\":\"3 ASC(s)\","
    "\"Description\":\"cgminer 4.11.1\"}],\"DEVS\":["
    "{\"ASC\":0,\"Name\":\"BTM\",\"ID\":0,\"Enabled\":\"Y\",\"Status\":\"Alive\","
    "\"Temperature\":62.5,\"MHS av\":4500000.0,\"MHS 5s\":4600000.0,\"Hardware Errors\":3},"
    "{\"ASC\":1,\"Name\":\"BTM\",\"ID\":1,\"Enabled\":\"Y\",\"Status\":\"Alive\","
    "\"Temperature\":0.0,\"MHS av\":4400000.0,\"MHS 5s\":4500000.0,\"Hardware Errors\":0},"
    "{\"ASC\":2,\"Name\":\"BTM\",\"ID\":2,\"Enabled\":\"Y\",\"Status\":\"Alive\","
    "\"Temperature\":64.0,\"MHS av\":4300000.0,\"MHS 5s\":\"4400000.00\",\"Hardware Errors\":1}],"
    "\"id\":1}";

static void
test_hand_made_devs(void)
{
  g_autoptr(JsonObject) devs = am_test_object_from_string(hand_made_devs);
  AmGenericReplies r = {.devs = devs};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->firmware, ==, "cgminer");
  g_assert_cmpstr(s->firmware_version, ==, "4.11.1");
  g_assert_cmpuint(s->chains->len, ==, 3);
  const double rates[] = {4.6, 4.5, 4.4};
  const double temps[] = {62.5, NAN, 64};
  const gint64 hw[] = {3, 0, 1};
  for (guint i = 0; i < 3; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    g_assert_cmpint(c->index, ==, (gint)i);
    g_assert_cmpfloat_with_epsilon(c->hashrate_ths, rates[i], 1e-12);
    if (isnan(temps[i]))
      g_assert_true(isnan(c->temp_board_c));
    else
      g_assert_cmpfloat(c->temp_board_c, ==, temps[i]);
    g_assert_cmpint(c->hw_errors, ==, hw[i]);
  }
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 62.5, 64);
  /* No summary: am_sample_finish() sums the chains. */
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 13.5, 1e-12);
  g_assert_true(isnan(s->hashrate_avg_ths));
  g_assert_cmpint(s->elapsed_s, ==, AM_UNKNOWN);
  g_assert_cmpfloat(s->temp_max_c, ==, 64);
}

/* HAND-MADE summary with GHS keys (a string and a number, as stock cgminer
 * sends them): the unit comes from the key. */
static void
test_hand_made_ghs_summary(void)
{
  g_autoptr(JsonObject) summary = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\",\"Description\":\"bmminer 1.0.0\"}],\"SUMMARY\":[{"
      "\"Elapsed\":1000,\"GHS 5s\":\"13883.81\",\"GHS av\":13900.5,\"Accepted\":10,"
      "\"Rejected\":1,\"Hardware Errors\":2}]}");
  g_autoptr(JsonObject) version = am_test_fixture_object("bmminer/s9_version.json");
  AmGenericReplies r = {.version = version, .summary = summary};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 13.88381, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 13.9005, 1e-12);
  /* Description says bmminer 1.0.0; VERSION's BMMiner key is more precise. */
  g_assert_cmpstr(s->firmware, ==, "bmminer");
  g_assert_cmpstr(s->firmware_version, ==, "2.0.0");
  /* "Antminer S9\nV1.3.58": the model is the first line. */
  g_assert_cmpstr(s->model, ==, "Antminer S9");
}

static void
test_match(void)
{
  g_autoptr(GPtrArray) files = am_test_version_fixtures();
  g_assert_cmpuint(files->len, >=, 10);
  for (guint i = 0; i < files->len; i++) {
    g_autoptr(JsonObject) reply = am_test_fixture_object(files->pdata[i]);
    AmFingerprint fp;
    am_test_fingerprint_init(&fp, reply);
    if (am_generic_match(&fp) != AM_MATCH_MAYBE)
      g_error("%s: generic must answer MAYBE", (const char *)files->pdata[i]);
  }
  /* An open port with an unreadable version reply is still worth a try. */
  AmFingerprint fp;
  am_test_fingerprint_init(&fp, NULL);
  g_assert_cmpint(am_generic_match(&fp), ==, AM_MATCH_MAYBE);
  fp.rpc_open = FALSE; /* only HTTP answered */
  g_assert_cmpint(am_generic_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  g_assert_cmpint(am_generic_match(NULL), ==, AM_MATCH_UNSUPPORTED);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/generic/cgminer-d3-blissz", test_d3_blissz);
  g_test_add_func("/generic/cgminer-e3", test_e3);
  g_test_add_func("/generic/cgminer-l3plus", test_l3plus);
  g_test_add_func("/generic/cgminer-z11-chipless", test_z11_chipless);
  g_test_add_func("/generic/btminer-m20s", test_btminer_m20s);
  g_test_add_func("/generic/btminer-m3", test_btminer_m3);
  g_test_add_func("/generic/btminer-status", test_btminer_status);
  g_test_add_func("/generic/hand-made-devs", test_hand_made_devs);
  g_test_add_func("/generic/hand-made-ghs-summary", test_hand_made_ghs_summary);
  g_test_add_func("/generic/match", test_match);
  return g_test_run();
}
