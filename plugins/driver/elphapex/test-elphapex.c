/* Tests of the elphapex driver: the parser table on every recorded read
 * reply in tests/fixtures/elphapex/ (asic-rs' DG Home 1 captures), field by
 * field with values read by hand from the files; hand-made variations of
 * those replies (marked HAND-MADE); and the built module against an
 * in-process SoupServer on 127.0.0.1:0 that asks for digest auth with the
 * firmware's realm and serves the same files. */
#include "../common/am-driver-test-util.h"
#include "am-elphapex-parse.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#define U AM_UNKNOWN
#define DIR "fixtures/elphapex/"

/* The recorded reply of each endpoint. */
static const char *const recorded[AM_ELPHAPEX_N_ENDPOINTS] = {
    [AM_ELPHAPEX_STATS] = DIR "asicrs-v1_stats.json",
    [AM_ELPHAPEX_SUMMARY] = DIR "asicrs-v1_summary.json",
    [AM_ELPHAPEX_POOLS] = DIR "asicrs-v1_pools.json",
    [AM_ELPHAPEX_SYSTEM_INFO] = DIR "asicrs-v1_get_system_info.json",
    [AM_ELPHAPEX_POWER] = DIR "asicrs-v1_get_power.json",
    [AM_ELPHAPEX_BLINK] = DIR "asicrs-v1_get_blink_status.json",
    [AM_ELPHAPEX_MINER_CONF] = DIR "asicrs-v1_get_miner_conf.json",
};

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

/* A recorded reply as the firmware served it. */
static char *
fixture_text(const char *name, gsize *len)
{
  g_autofree char *path = am_test_path(name);
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, len, &error))
    g_error("fixture %s: %s", path, error->message);
  return text;
}

/* The recorded reply of @e through the module's body reader. */
static JsonObject *
recorded_object(AmElphapexEndpoint e)
{
  gsize len = 0;
  g_autofree char *text = fixture_text(recorded[e], &len);
  g_autoptr(GError) error = NULL;
  JsonObject *obj = am_elphapex_parse_body(e, text, len, &error);
  g_assert_no_error(error);
  return obj;
}

static void
replies_clear(AmElphapexReplies *r)
{
  for (guint i = 0; i < AM_ELPHAPEX_N_ENDPOINTS; i++)
    if (r->reply[i] != NULL)
      json_object_unref(r->reply[i]);
  memset(r, 0, sizeof *r);
}

static gboolean
has_problem(AmSample *sample, const char *text)
{
  for (guint i = 0; i < sample->problems->len; i++)
    if (g_str_equal(sample->problems->pdata[i], text))
      return TRUE;
  return FALSE;
}

static void
dump_problems(AmSample *sample)
{
  for (guint i = 0; i < sample->problems->len; i++)
    g_test_message("problem: %s", (const char *)sample->problems->pdata[i]);
}

/* ---- the table ---------------------------------------------------------- */

/* Which recorded replies a case feeds, as a bit per endpoint. */
#define ONLY(e) (1u << (e))
#define ALL ((1u << AM_ELPHAPEX_N_ENDPOINTS) - 1)

typedef struct {
  const char *name;
  guint replies;
  /* identity */
  const char *model, *serial, *mac, *hostname, *firmware_version, *algorithm;
  /* rates (TH/s), counters */
  double hashrate, hashrate_avg, hashrate_ideal;
  gint64 elapsed, hw_errors, accepted, rejected;
  double best_share;
  /* power and PSU */
  double power;
  AmPowerSource power_source;
  double psu_out;
  const char *psu_serial;
  /* boards and fans */
  guint n_chains;
  guint n_fans;
  gint fans_expected;
  guint n_pools;
  const char *work_mode;
  AmMiningState mining;
} Case;

/* Values read by hand from the files (asicrs-v1_*.json, a DG Home 1 at
 * boot: rate_5s 0 of rate_ideal 3003.75 MH/s, elapsed 0). */
static const Case cases[] = {
    {
        .name = "all",
        .replies = ALL,
        .model = "Elphapex DG-Home1", /* INFO.type "DG-Home1" */
        .serial = "13HY24B056N300037C11B",
        .mac = "b8:4c:87:e0:66:b2",
        .hostname = "DG-Home1",
        .firmware_version = "DG-Home1_V1.0.5", /* system_filesystem_version */
        .algorithm = "scrypt",                 /* Algorithm "Scrypt" */
        .hashrate = 0,
        .hashrate_avg = 0,
        .hashrate_ideal = 0.00300375, /* 3003.75 MH/s */
        .elapsed = 0,
        .hw_errors = 0, /* SUMMARY hw_all */
        .accepted = 0,  /* three pools, 0 each */
        .rejected = 0,
        .best_share = 0, /* bestshare */
        .power = 25,     /* get_power power_output "25" */
        .power_source = AM_POWER_SOURCE_REPORTED,
        .psu_out = 25,
        .psu_serial = "BC10FP1041115S04624J000061A",
        .n_chains = 1, /* slot 3; slots 0..2 are empty */
        .n_fans = 4,
        .fans_expected = 4,
        .n_pools = 3,
        .work_mode = "normal", /* fc-work-mode 0 */
        .mining = AM_MINING_UNKNOWN,
    },
    {
        .name = "stats-only",
        .replies = ONLY(AM_ELPHAPEX_STATS),
        .model = "Elphapex DG-Home1",
        .serial = "13HY24B056N300037C11B",
        .firmware_version = "DG-Home1_V1.0.5", /* INFO.miner_version */
        .algorithm = "scrypt",
        .hashrate = 0,
        .hashrate_avg = 0,
        .hashrate_ideal = 0.00300375,
        .elapsed = 0,
        .hw_errors = U,
        .accepted = U,
        .rejected = U,
        .best_share = NAN,
        .power = NAN,
        .psu_out = NAN,
        .n_chains = 1,
        .n_fans = 4,
        .fans_expected = 4,
    },
    {
        .name = "summary-only",
        .replies = ONLY(AM_ELPHAPEX_SUMMARY),
        .model = "Elphapex DG-Home1",
        .serial = "13HY24B056N300037C11B",
        .firmware_version = "DG-Home1_V1.0.5",
        .algorithm = "scrypt",
        .hashrate = 0,
        .hashrate_avg = 0,
        .hashrate_ideal = 0.00300375,
        .elapsed = 0,
        .hw_errors = 0,
        .accepted = U,
        .rejected = U,
        .best_share = 0,
        .power = NAN,
        .psu_out = NAN,
        .fans_expected = U,
    },
    {
        .name = "summary-pools-system-power",
        .replies = ONLY(AM_ELPHAPEX_SUMMARY) | ONLY(AM_ELPHAPEX_POOLS) |
                   ONLY(AM_ELPHAPEX_SYSTEM_INFO) | ONLY(AM_ELPHAPEX_POWER),
        .model = "Elphapex DG-Home1",
        .serial = "13HY24B056N300037C11B",
        .mac = "b8:4c:87:e0:66:b2",
        .hostname = "DG-Home1",
        .firmware_version = "DG-Home1_V1.0.5",
        .algorithm = "scrypt",
        .hashrate = 0,
        .hashrate_avg = 0,
        .hashrate_ideal = 0.00300375,
        .elapsed = 0,
        .hw_errors = 0,
        .accepted = 0,
        .rejected = 0,
        .best_share = 0,
        .power = 25,
        .power_source = AM_POWER_SOURCE_REPORTED,
        .psu_out = 25,
        .psu_serial = "BC10FP1041115S04624J000061A",
        .n_pools = 3,
        .fans_expected = U,
    },
};

static void
assert_case(AmSample *s, const Case *c)
{
  g_assert_cmpstr(s->driver, ==, "elphapex");
  g_assert_cmpstr(s->firmware, ==, "Elphapex");
  g_assert_cmpstr(s->model, ==, c->model);
  g_assert_cmpstr(s->serial, ==, c->serial);
  g_assert_cmpstr(s->mac, ==, c->mac);
  g_assert_cmpstr(s->hostname, ==, c->hostname);
  g_assert_cmpstr(s->firmware_version, ==, c->firmware_version);
  g_assert_cmpstr(s->algorithm, ==, c->algorithm);
  assert_close(s->hashrate_ths, c->hashrate, "hashrate");
  assert_close(s->hashrate_avg_ths, c->hashrate_avg, "hashrate_avg");
  assert_close(s->hashrate_ideal_ths, c->hashrate_ideal, "hashrate_ideal");
  g_assert_cmpint(s->elapsed_s, ==, c->elapsed);
  g_assert_cmpint(s->hw_errors, ==, c->hw_errors);
  g_assert_cmpint(s->accepted, ==, c->accepted);
  g_assert_cmpint(s->rejected, ==, c->rejected);
  assert_close(s->best_share, c->best_share, "best_share");
  assert_close(s->power_w, c->power, "power");
  g_assert_cmpint(s->power_source, ==, c->power_source);
  assert_close(s->psu_power_out_w, c->psu_out, "psu_power_out");
  assert_close(s->psu_power_in_w, NAN, "psu_power_in");
  assert_close(s->psu_fan_rpm, NAN, "psu_fan");
  g_assert_cmpstr(s->psu_serial, ==, c->psu_serial);
  g_assert_cmpuint(s->chains->len, ==, c->n_chains);
  g_assert_cmpuint(s->fans_rpm->len, ==, c->n_fans);
  g_assert_cmpint(s->fans_expected, ==, c->fans_expected);
  g_assert_false(s->liquid_cooled);
  g_assert_cmpint(s->chains_expected, ==, U);
  g_assert_cmpuint(s->pools->len, ==, c->n_pools);
  g_assert_cmpstr(s->work_mode, ==, c->work_mode);
  g_assert_cmpint(s->mining, ==, c->mining);
  /* Nothing Elphapex reports fills these. */
  assert_close(s->power_limit_w, NAN, "power_limit");
  assert_close(s->water_temp_in_c, NAN, "water_in");
  assert_close(s->water_temp_out_c, NAN, "water_out");
  g_assert_cmpint(s->found_blocks, ==, U);
  g_assert_cmpuint(s->errors->len, ==, 0);
  g_assert_false(s->partial);
}

/* stats.cgi's one populated board, field by field. */
static void
assert_board(AmSample *s)
{
  const AmChain *c = &g_array_index(s->chains, AmChain, 0);
  g_assert_cmpint(c->index, ==, 3);
  assert_close(c->hashrate_ths, 0, "chain hashrate"); /* rate_real 0 */
  g_assert_cmpint(c->chips, ==, 120);                 /* asic_num */
  g_assert_cmpint(c->chips_expected, ==, U);
  g_assert_cmpint(c->chips_ok, ==, U); /* the chip map is not read */
  g_assert_cmpint(c->chips_failed, ==, U);
  g_assert_cmpint(c->hw_errors, ==, 120);       /* hw */
  assert_close(c->temp_board_c, 67, "pcb");     /* max of 47, 46, 67, 66 */
  assert_close(c->temp_chip_c, 25.687, "chip"); /* max of "25687" ... milli-C */
  assert_close(c->frequency_mhz, 89.0, "freq"); /* freq_avg 89000 kHz */
  assert_close(c->voltage_v, NAN, "voltage");
  assert_close(c->temp_inlet_c, NAN, "inlet");
  assert_close(c->temp_outlet_c, NAN, "outlet");
  assert_close(c->power_w, NAN, "chain power");
  g_assert_cmpuint(s->chain_serials->len, ==, 1);
  g_assert_cmpstr(s->chain_serials->pdata[0], ==, "10HY24B046N300036H10JC53");
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 67);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 25.687);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 420, 420, 420, 1020); /* fan[] strings */
}

static AmSample *
parse_case(const Case *c)
{
  AmElphapexReplies r = {0};
  for (guint e = 0; e < AM_ELPHAPEX_N_ENDPOINTS; e++)
    if (c->replies & (1u << e))
      r.reply[e] = recorded_object(e);
  g_autoptr(GError) error = NULL;
  AmSample *s = am_elphapex_parse(&r, &error);
  g_assert_no_error(error);
  replies_clear(&r);
  return s;
}

static void
test_fixture_case(gconstpointer data)
{
  const Case *c = data;
  g_autoptr(AmSample) s = parse_case(c);
  assert_case(s, c);
  if (c->n_chains > 0)
    assert_board(s);
}

/* Everything else of the full set: pools, extras, the summary's checks. */
static void
test_all_details(void)
{
  g_autoptr(AmSample) s = parse_case(&cases[0]);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://pool.invalid:3333", "worker",
                      "Unreachable", 0, 0, 0, 0, FALSE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://backup.invalid:3333", "worker",
                      "Unreachable", 1, 0, 0, 0, FALSE);
  am_test_assert_pool(s->pools->pdata[2], "stratum+tcp://tertiary.invalid:3333", "worker",
                      "Unreachable", 2, 0, 0, 0, FALSE);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_elphapex_hw_version")), ==,
                  "DG-Home1_HW_V1.0");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_elphapex_miner_version")), ==,
                  "DG-Home1_V1.0.5");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_elphapex_api_version")), ==, "1.0.0");
  assert_close(json_node_get_double(am_test_extra(s, "x_elphapex_hw_percent")), 0.1155, "hwp");
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_elphapex_chain_slots")), ==, 4);
  assert_close(json_node_get_double(am_test_extra(s, "x_elphapex_psu_temp_raw")), 270, "psu t");
  assert_close(json_node_get_double(am_test_extra(s, "x_elphapex_freq_level_pct")), 100, "lvl");
  g_assert_false(json_node_get_boolean(am_test_extra(s, "x_elphapex_blink")));
  JsonObject *checks = json_node_get_object(am_test_extra(s, "x_elphapex_checks"));
  g_assert_cmpuint(json_object_get_size(checks), ==, 4);
  g_assert_cmpstr(json_object_get_string_member(checks, "rate"), ==, "");
  g_assert_cmpstr(json_object_get_string_member(checks, "network"), ==, "");
  g_assert_cmpstr(json_object_get_string_member(checks, "fans"), ==, "s");
  g_assert_cmpstr(json_object_get_string_member(checks, "temp"), ==, "s");
  g_assert_cmpuint(json_object_get_size(s->extras), ==, 9);

  /* The core's view: a unit at boot, hashing 0 of 3 GH/s. */
  am_sample_finish(s);
  dump_problems(s);
  assert_close(s->temp_max_c, 67, "temp_max");
  assert_close(s->avg_fan_rpm, 570, "avg fan"); /* (420 * 3 + 1020) / 4 */
  assert_close(s->efficiency_jth, NAN, "efficiency");
  g_assert_true(has_problem(s, "hashrate 0% of ideal"));
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
}

/* ---- hand-made variations ----------------------------------------------- */

/* HAND-MADE: the recorded stats.cgi of a hashing unit: rate_5s and the
 * board's rate_real 2950.5 MH/s, rate_avg 2990 MH/s, elapsed one hour. */
static const char hashing_stats[] =
    "{\"INFO\":{\"type\":\"DG1+\",\"dev_sn\":\"SN1\"},"
    "\"STATS\":[{\"chain\":[{\"index\":0,\"asic_num\":204,\"rate_real\":2950.5,"
    "\"freq_avg\":\"1850000\",\"hw\":\"3\",\"sn\":\"B0\",\"temp_pcb\":[40,\"52\"],"
    "\"temp_chip\":[\"61000\",\"\",\"abc\",\"-5000\",\"999999\",\"60500\"]}],"
    "\"chain_num\":1,\"elapsed\":3600,\"fan\":[\"5000\",\"0\",\"x\",4980],\"fan_num\":4,"
    "\"rate_5s\":2950.5,\"rate_avg\":\"2990\",\"rate_ideal\":3003.75,\"rate_unit\":\"MH/s\"}],"
    "\"STATUS\":{\"STATUS\":\"S\"}}";

static AmSample *
parse_one(AmElphapexEndpoint e, const char *json, AmElphapexEndpoint e2, const char *json2)
{
  AmElphapexReplies r = {0};
  r.reply[e] = am_test_object_from_string(json);
  if (json2 != NULL)
    r.reply[e2] = am_test_object_from_string(json2);
  g_autoptr(GError) error = NULL;
  AmSample *s = am_elphapex_parse(&r, &error);
  g_assert_no_error(error);
  replies_clear(&r);
  return s;
}

static void
test_hashing(void)
{
  g_autoptr(AmSample) s =
      parse_one(AM_ELPHAPEX_STATS, hashing_stats, AM_ELPHAPEX_MINER_CONF, "{\"fc-work-mode\":2}");
  g_assert_cmpstr(s->model, ==, "Elphapex DG1+");
  assert_close(s->hashrate_ths, 0.0029505, "hashrate");
  assert_close(s->hashrate_avg_ths, 0.00299, "avg"); /* a numeric string */
  g_assert_cmpint(s->elapsed_s, ==, 3600);
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING);
  g_assert_cmpstr(s->work_mode, ==, "high");
  const AmChain *c = &g_array_index(s->chains, AmChain, 0);
  g_assert_cmpint(c->index, ==, 0);
  g_assert_cmpint(c->chips, ==, 204);
  g_assert_cmpint(c->hw_errors, ==, 3);
  assert_close(c->hashrate_ths, 0.0029505, "chain");
  assert_close(c->frequency_mhz, 1850, "freq");
  assert_close(c->temp_board_c, 52, "pcb");
  /* "", "abc", -5 C and 999.999 C are not readings. */
  assert_close(c->temp_chip_c, 61, "chip");
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 5000, 4980); /* "0" and "x" dropped */
  g_assert_cmpint(s->fans_expected, ==, 4);
  am_sample_finish(s);
  dump_problems(s);
  g_assert_true(has_problem(s, "2 of 4 fans spinning"));
}

/* HAND-MADE: fc-work-mode 1 is sleep; the miner is idle on purpose. */
static void
test_sleep(void)
{
  g_autoptr(AmSample) s = parse_one(AM_ELPHAPEX_STATS, hashing_stats, AM_ELPHAPEX_MINER_CONF,
                                    "{\"fc-work-mode\":\"1\"}");
  g_assert_cmpint(s->mining, ==, AM_MINING_SLEEPING);
  g_assert_cmpstr(s->work_mode, ==, "sleep");
  /* An unknown mode number is no mode at all. */
  g_autoptr(AmSample) odd =
      parse_one(AM_ELPHAPEX_STATS, hashing_stats, AM_ELPHAPEX_MINER_CONF, "{\"fc-work-mode\":7}");
  g_assert_null(odd->work_mode);
  g_assert_cmpint(odd->mining, ==, AM_MINING_HASHING);
}

/* HAND-MADE: a failed check in summary.cgi's status[] is a vendor error
 * with the firmware's code and words; "" (not run) and "s" are not. */
static void
test_failed_check(void)
{
  g_autoptr(AmSample) s =
      parse_one(AM_ELPHAPEX_SUMMARY,
                "{\"SUMMARY\":[{\"rate_5s\":1,\"rate_unit\":\"MH/s\",\"status\":["
                "{\"code\":0,\"msg\":\"\",\"status\":\"s\",\"type\":\"rate\"},"
                "{\"code\":0,\"msg\":\"\",\"status\":\"\",\"type\":\"network\"},"
                "{\"code\":131,\"msg\":\"fan speed low\",\"status\":\"e\",\"type\":\"fans\"},"
                "{\"code\":\"x\",\"msg\":\"\",\"status\":\"f\",\"type\":\"temp\"}]}],"
                "\"STATUS\":{\"STATUS\":\"S\"}}",
                0, NULL);
  g_assert_cmpuint(s->errors->len, ==, 2);
  const AmMinerError *fan = s->errors->pdata[0];
  g_assert_cmpstr(fan->code, ==, "131");
  g_assert_cmpstr(fan->message, ==, "fan speed low");
  g_assert_cmpstr(fan->component, ==, "fans");
  g_assert_cmpint(fan->severity, ==, AM_ERROR_SEVERITY_WARNING);
  const AmMinerError *temp = s->errors->pdata[1];
  g_assert_null(temp->code);
  g_assert_cmpstr(temp->message, ==, "temp check: f");
  g_assert_cmpstr(temp->component, ==, "temp");
  assert_close(s->hashrate_ths, 1e-6, "1 MH/s");
}

/* HAND-MADE: one data reply broken, the other fine: a partial sample that
 * names the broken one. */
static void
test_partial_replies(void)
{
  g_autoptr(JsonObject) summary = recorded_object(AM_ELPHAPEX_SUMMARY);
  AmElphapexReplies r = {0};
  r.reply[AM_ELPHAPEX_SUMMARY] = json_object_ref(summary);
  r.reply[AM_ELPHAPEX_STATS] =
      am_test_object_from_string("{\"STATUS\":{\"STATUS\":\"E\",\"Msg\":\"busy\"}}");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_elphapex_parse(&r, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  dump_problems(s);
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_assert_true(g_str_has_prefix(s->problems->pdata[0], "stats.cgi: "));
  assert_close(s->hashrate_ideal_ths, 0.00300375, "ideal from summary");
  replies_clear(&r);

  r.reply[AM_ELPHAPEX_SUMMARY] = json_object_ref(summary);
  r.reply[AM_ELPHAPEX_STATS] = am_test_object_from_string("{\"STATUS\":{\"STATUS\":\"S\"}}");
  g_autoptr(AmSample) t = am_elphapex_parse(&r, &error);
  g_assert_no_error(error);
  g_assert_true(t->partial);
  g_assert_true(has_problem(t, "stats.cgi: no STATS data"));
  replies_clear(&r);
}

/* HAND-MADE: no rate_unit: the rates are not guessed. Zero and absurd
 * power readings are not readings. */
static void
test_bad_readings(void)
{
  g_autoptr(AmSample) s = parse_one(
      AM_ELPHAPEX_STATS,
      "{\"STATS\":[{\"rate_5s\":5,\"rate_ideal\":6,\"chain\":[{\"index\":1,\"asic_num\":\"7\","
      "\"rate_real\":5,\"freq_avg\":0,\"temp_pcb\":[0,-83,255],\"temp_chip\":[]}],"
      "\"fan\":[],\"fan_num\":0}]}",
      AM_ELPHAPEX_POWER, "{\"power_output\":\"0\",\"power_sn\":\" \",\"power_temp\":\"\"}");
  assert_close(s->hashrate_ths, NAN, "no unit");
  assert_close(s->hashrate_ideal_ths, NAN, "no unit");
  const AmChain *c = &g_array_index(s->chains, AmChain, 0);
  g_assert_cmpint(c->chips, ==, 7);
  assert_close(c->hashrate_ths, NAN, "chain, no unit");
  assert_close(c->frequency_mhz, NAN, "freq 0");
  assert_close(c->temp_board_c, NAN, "pcb faults");
  assert_close(c->temp_chip_c, NAN, "no chip");
  g_assert_cmpuint(s->temps_c->len, ==, 0);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  g_assert_cmpint(s->fans_expected, ==, 0);
  assert_close(s->power_w, NAN, "power 0");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_null(s->psu_serial);
  g_assert_null(json_object_get_member(s->extras, "x_elphapex_psu_temp_raw"));

  g_autoptr(AmSample) big = parse_one(AM_ELPHAPEX_SUMMARY, "{\"SUMMARY\":[{}]}", AM_ELPHAPEX_POWER,
                                      "{\"power_output\":\"1e9\"}");
  assert_close(big->power_w, NAN, "absurd power");
}

/* Firmware drift: each member of STATS[0] removed in turn still gives a
 * sample with the rest read. */
static void
test_drift_members(void)
{
  g_autoptr(JsonObject) stats = recorded_object(AM_ELPHAPEX_STATS);
  JsonObject *block =
      json_array_get_object_element(json_object_get_array_member(stats, "STATS"), 0);
  g_autoptr(GList) keys = json_object_get_members(block);
  guint n = 0;
  for (GList *k = keys; k != NULL; k = k->next) {
    /* The name belongs to the member: removing it frees the name. */
    g_autofree char *key = g_strdup(k->data);
    g_autoptr(JsonNode) saved = json_node_copy(json_object_get_member(block, key));
    json_object_remove_member(block, key);
    AmElphapexReplies r = {0};
    r.reply[AM_ELPHAPEX_STATS] = stats;
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = am_elphapex_parse(&r, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(s->model, ==, "Elphapex DG-Home1");
    json_object_set_member(block, key, g_steal_pointer(&saved));
    n++;
  }
  g_assert_cmpuint(n, ==, 12);
}

static void
test_errors(void)
{
  AmElphapexReplies r = {0};
  g_autoptr(GError) error = NULL;
  g_assert_null(am_elphapex_parse(&r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_cmpstr(error->message, ==, "no stats.cgi or summary.cgi reply");
  g_clear_error(&error);

  /* Only identity replies: still nothing to report. */
  r.reply[AM_ELPHAPEX_SYSTEM_INFO] = recorded_object(AM_ELPHAPEX_SYSTEM_INFO);
  g_assert_null(am_elphapex_parse(&r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);

  r.reply[AM_ELPHAPEX_STATS] =
      am_test_object_from_string("{\"STATUS\":{\"STATUS\":\"E\",\"Msg\":\"denied\"}}");
  g_assert_null(am_elphapex_parse(&r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_clear_error(&error);
  replies_clear(&r);

  r.reply[AM_ELPHAPEX_STATS] = am_test_object_from_string("{\"STATS\":[]}");
  r.reply[AM_ELPHAPEX_SUMMARY] = am_test_object_from_string("{\"SUMMARY\":\"x\"}");
  g_assert_null(am_elphapex_parse(&r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_assert_cmpstr(error->message, ==, "neither stats.cgi nor summary.cgi has its data block");
  g_clear_error(&error);
  replies_clear(&r);

  /* Bodies: empty, HTML, an array, a bare string (the cgminer reader
   * takes only objects). */
  static const struct {
    const char *body;
    const char *message_start;
  } bodies[] = {
      {"", "pools.cgi: empty reply"},
      {"<html><body>401</body></html>", "pools.cgi: not JSON: "},
      {"[1,2]", "pools.cgi: not JSON: "},
      {"\"ok\"", "pools.cgi: not"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bodies); i++) {
    g_assert_null(
        am_elphapex_parse_body(AM_ELPHAPEX_POOLS, bodies[i].body, strlen(bodies[i].body), &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
    if (!g_str_has_prefix(error->message, bodies[i].message_start))
      g_error("body %u: expected '%s...', got '%s'", i, bodies[i].message_start, error->message);
    g_clear_error(&error);
  }
}

static void
test_match(void)
{
  AmFingerprint fp = {.struct_size = sizeof fp, .http_open = TRUE, .http_status = 401};
  fp.http_realm = "Daoge Miner";
  g_assert_cmpint(am_elphapex_match(&fp), ==, AM_MATCH_SUPPORTED);
  fp.http_realm = "Elphapex";
  g_assert_cmpint(am_elphapex_match(&fp), ==, AM_MATCH_SUPPORTED);
  fp.http_realm = "Elphapex DG Home";
  g_assert_cmpint(am_elphapex_match(&fp), ==, AM_MATCH_SUPPORTED);
  fp.http_realm = "antMiner Configuration";
  g_assert_cmpint(am_elphapex_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  fp.http_realm = "blackMiner Configuration";
  g_assert_cmpint(am_elphapex_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  fp.http_realm = NULL;
  g_assert_cmpint(am_elphapex_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  /* A realm without a 401 (no challenge) or without HTTP at all. */
  fp.http_realm = "Daoge Miner";
  fp.http_status = 200;
  g_assert_cmpint(am_elphapex_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  fp.http_status = 401;
  fp.http_open = FALSE;
  g_assert_cmpint(am_elphapex_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  g_assert_cmpint(am_elphapex_match(NULL), ==, AM_MATCH_UNSUPPORTED);
  /* Every recorded RPC "version" reply: none is an Elphapex. */
  g_autoptr(GPtrArray) versions = am_test_version_fixtures();
  for (guint i = 0; i < versions->len; i++) {
    g_autoptr(JsonObject) reply = am_test_fixture_object(versions->pdata[i]);
    AmFingerprint v;
    am_test_fingerprint_init(&v, reply);
    g_assert_cmpint(am_elphapex_match(&v), ==, AM_MATCH_UNSUPPORTED);
  }
}

/* ---- the module against a local web server ------------------------------ */

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *realm;
  const char *password;  /* the miner's root password */
  gboolean hang;         /* answer nothing, ever */
  const char *hang_path; /* answer nothing on this path only */
  const char *fail_path; /* HTTP 500 on this path */
  const char *junk_path; /* a body that is not JSON on this path */
  gboolean no_optional;  /* get_blink_status and get_miner_conf: 404 */
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
  return soup_auth_domain_digest_encode_password(username, web->realm, web->password);
}

static const char *
fixture_for(FakeWeb *web, const char *path)
{
  for (guint e = 0; e < AM_ELPHAPEX_N_ENDPOINTS; e++)
    if (g_str_equal(path, am_elphapex_path(e))) {
      if (web->no_optional && (e == AM_ELPHAPEX_BLINK || e == AM_ELPHAPEX_MINER_CONF))
        return NULL;
      return recorded[e];
    }
  return NULL;
}

static void
serve_cgi(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer user_data)
{
  FakeWeb *web = user_data;
  web->requests++;
  if (web->hang || g_strcmp0(path, web->hang_path) == 0) {
    soup_server_message_pause(msg);
    g_ptr_array_add(web->paused, g_object_ref(msg));
    return;
  }
  if (g_strcmp0(path, web->fail_path) == 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
    return;
  }
  if (g_strcmp0(path, web->junk_path) == 0) {
    static const char junk[] = "<html>busy</html>";
    soup_server_message_set_response(msg, "text/html", SOUP_MEMORY_STATIC, junk, strlen(junk));
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
fake_web_start(FakeWeb *web, const char *realm, const char *password)
{
  *web = (FakeWeb){.realm = realm,
                   .password = password,
                   .paused = g_ptr_array_new_with_free_func(g_object_unref)};
  web->server = soup_server_new(NULL, NULL);
  SoupAuthDomain *domain = soup_auth_domain_digest_new("realm", realm, NULL);
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
  g_autofree char *path = g_build_filename(dir, "driver-elphapex.so", NULL);
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
  gpointer self = info->create(NULL, ini != NULL ? kf : NULL, "driver:elphapex", &local);
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
  g_assert_cmpstr(info->name, ==, "elphapex");
  g_assert_cmpint(info->kind, ==, AM_PLUGIN_KIND_DRIVER);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, info->sample_config, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  const char *keys[] = {"enabled", "http_port", "user", "password", "timeout"};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_true(g_key_file_has_key(kf, "driver:elphapex", keys[i], NULL));
  g_autofree char *user = g_key_file_get_string(kf, "driver:elphapex", "user", NULL);
  g_autofree char *password = g_key_file_get_string(kf, "driver:elphapex", "password", NULL);
  g_assert_cmpstr(user, ==, "root");
  g_assert_cmpstr(password, ==, "root");
  gpointer self = info->create(NULL, kf, "driver:elphapex", &error);
  g_assert_no_error(error);
  info->destroy(self);
  g_key_file_set_string(kf, "driver:elphapex", "http_port", "0");
  g_assert_null(info->create(NULL, kf, "driver:elphapex", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "http_port"));
  am_loaded_plugin_free(plugin);
}

static AmMiner *
local_miner(FakeWeb *web, guint timeout_ms)
{
  AmMiner *miner = am_miner_new("127.0.0.1", web->port);
  am_miner_set_timeout_ms(miner, timeout_ms);
  return miner;
}

/* Factory credentials root/root, realm "Daoge Miner": every endpoint read,
 * the sample as the parser table's full case, each raw body kept except
 * get_miner_conf's (it holds the pools' passwords). */
static void
test_module_poll(void)
{
  FakeWeb web;
  fake_web_start(&web, AM_ELPHAPEX_REALM_DAOGE, "root");
  g_autoptr(AmMiner) miner = local_miner(&web, 5000);
  /* Someone opened the raw view: the poll's bodies are kept for it. */
  g_autoptr(JsonNode) before = am_miner_raw_to_json(miner);
  g_assert_cmpuint(json_object_get_size(json_node_get_object(before)), ==, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_no_error(error);
  assert_case(s, &cases[0]);
  assert_board(s);
  g_assert_cmpuint(web.requests, ==, AM_ELPHAPEX_N_ENDPOINTS);

  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  JsonObject *views = json_node_get_object(raw);
  for (guint e = 0; e < AM_ELPHAPEX_N_ENDPOINTS; e++)
    g_assert_cmpint(json_object_has_member(views, am_elphapex_name(e)), ==,
                    e != AM_ELPHAPEX_MINER_CONF);
  JsonObject *power = json_object_get_object_member(views, "get_power.cgi");
  g_assert_nonnull(strstr(json_object_get_string_member(power, "text"), "\"power_output\""));
  fake_web_stop(&web);
}

/* The other realm, the miner's own credentials over the driver's, and a
 * web port named in the ini for a miner configured on 4028 is not tested
 * here (it would need port 80). */
static void
test_module_realm_and_credentials(void)
{
  FakeWeb web;
  fake_web_start(&web, AM_ELPHAPEX_REALM_NAME, "s3cret");
  g_autoptr(AmMiner) miner = local_miner(&web, 5000);
  am_miner_set_credentials(miner, "root", "s3cret");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s =
      poll_once("[driver:elphapex]\nuser=root\npassword=wrong\n", miner, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s->mac, ==, "b8:4c:87:e0:66:b2");
  g_assert_false(s->partial);
  fake_web_stop(&web);

  /* The driver's user=/password= serve a miner without its own. */
  fake_web_start(&web, AM_ELPHAPEX_REALM_DAOGE, "s3cret");
  g_autoptr(AmMiner) plain = local_miner(&web, 5000);
  g_autoptr(AmSample) t =
      poll_once("[driver:elphapex]\nuser=root\npassword=s3cret\n", plain, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(t->model, ==, "Elphapex DG-Home1");
  fake_web_stop(&web);
}

/* A changed password: an AUTH error that says so and where to fix it,
 * after one request, and never shows a password. */
static void
test_module_wrong_password(void)
{
  FakeWeb web;
  fake_web_start(&web, AM_ELPHAPEX_REALM_DAOGE, "s3cret");
  g_autoptr(AmMiner) miner = local_miner(&web, 5000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once("[driver:elphapex]\npassword=hunter2\n", miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: wrong username or password (HTTP 401 Unauthorized from GET "
                      "/cgi-bin/stats.cgi) (user \"root\"; set user=/password= in [miner:NAME] or "
                      "[driver:elphapex])",
                      web.port);
  g_assert_cmpstr(error->message, ==, expected);
  g_assert_null(strstr(error->message, "hunter2"));
  g_assert_null(strstr(error->message, "s3cret"));
  g_assert_cmpuint(web.requests, ==, 0); /* the auth domain answered, never the CGI */
  fake_web_stop(&web);
}

/* Firmware drift: get_power.cgi fails, pools.cgi is not JSON, the optional
 * endpoints are missing: a partial sample with the rest, naming each
 * failure once; the missing optional ones are not failures. */
static void
test_module_partial(void)
{
  FakeWeb web;
  fake_web_start(&web, AM_ELPHAPEX_REALM_DAOGE, "root");
  web.fail_path = "/cgi-bin/get_power.cgi";
  web.junk_path = "/cgi-bin/pools.cgi";
  web.no_optional = TRUE;
  g_autoptr(AmMiner) miner = local_miner(&web, 5000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_no_error(error);
  dump_problems(s);
  g_assert_true(s->partial);
  g_assert_cmpuint(s->problems->len, ==, 2);
  g_assert_true(g_str_has_prefix(s->problems->pdata[0], "pools.cgi: not JSON: "));
  g_assert_cmpstr(s->problems->pdata[1], ==,
                  "get_power.cgi: HTTP 500 Internal Server Error from GET /cgi-bin/get_power.cgi");
  g_assert_cmpuint(s->pools->len, ==, 0);
  assert_close(s->power_w, NAN, "no power");
  g_assert_null(s->work_mode);
  g_assert_cmpuint(s->chains->len, ==, 1);
  g_assert_cmpstr(s->mac, ==, "b8:4c:87:e0:66:b2");
  fake_web_stop(&web);
}

/* A reply that never comes after others did: partial, and the poll stops
 * asking (its time is spent). */
static void
test_module_timeout_midway(void)
{
  FakeWeb web;
  fake_web_start(&web, AM_ELPHAPEX_REALM_DAOGE, "root");
  web.hang_path = "/cgi-bin/pools.cgi";
  g_autoptr(AmMiner) miner = local_miner(&web, 300);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  g_assert_true(has_problem(s, "pools.cgi: timed out after 0.3 s (GET /cgi-bin/pools.cgi)"));
  g_assert_null(s->mac); /* get_system_info was not asked */
  assert_close(s->hashrate_ideal_ths, 0.00300375, "ideal");
  fake_web_stop(&web);
}

/* Both data replies broken: the poll fails, saying why. */
static void
test_module_nothing_usable(void)
{
  FakeWeb web;
  fake_web_start(&web, AM_ELPHAPEX_REALM_DAOGE, "root");
  web.fail_path = "/cgi-bin/stats.cgi";
  web.junk_path = "/cgi-bin/summary.cgi";
  g_autoptr(AmMiner) miner = local_miner(&web, 5000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_autofree char *start = g_strdup_printf(
      "127.0.0.1:%u: no stats.cgi or summary.cgi reply (stats.cgi: HTTP 500 Internal Server "
      "Error from GET /cgi-bin/stats.cgi; summary.cgi: not JSON: ",
      web.port);
  if (!g_str_has_prefix(error->message, start))
    g_error("expected '%s...', got '%s'", start, error->message);
  fake_web_stop(&web);
}

/* A server that never answers: TIMEOUT after the first request. */
static void
test_module_hang(void)
{
  FakeWeb web;
  fake_web_start(&web, AM_ELPHAPEX_REALM_DAOGE, "root");
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
  fake_web_start(&web, AM_ELPHAPEX_REALM_DAOGE, "root");
  soup_server_remove_handler(web.server, "/cgi-bin");
  g_autoptr(AmMiner) miner = local_miner(&web, 5000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  fake_web_stop(&web);
}

static void
test_module_refused(void)
{
  FakeWeb web;
  fake_web_start(&web, AM_ELPHAPEX_REALM_DAOGE, "root");
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
    g_autofree char *path = g_strdup_printf("/elphapex/fixture/%s", cases[i].name);
    g_test_add_data_func(path, &cases[i], test_fixture_case);
  }
  g_test_add_func("/elphapex/fixture/all-details", test_all_details);
  g_test_add_func("/elphapex/hashing", test_hashing);
  g_test_add_func("/elphapex/sleep", test_sleep);
  g_test_add_func("/elphapex/failed-check", test_failed_check);
  g_test_add_func("/elphapex/partial-replies", test_partial_replies);
  g_test_add_func("/elphapex/bad-readings", test_bad_readings);
  g_test_add_func("/elphapex/drift-members", test_drift_members);
  g_test_add_func("/elphapex/errors", test_errors);
  g_test_add_func("/elphapex/match", test_match);
  g_test_add_func("/elphapex/module/config", test_module_config);
  g_test_add_func("/elphapex/module/poll", test_module_poll);
  g_test_add_func("/elphapex/module/realm-and-credentials", test_module_realm_and_credentials);
  g_test_add_func("/elphapex/module/wrong-password", test_module_wrong_password);
  g_test_add_func("/elphapex/module/partial", test_module_partial);
  g_test_add_func("/elphapex/module/timeout-midway", test_module_timeout_midway);
  g_test_add_func("/elphapex/module/nothing-usable", test_module_nothing_usable);
  g_test_add_func("/elphapex/module/hang", test_module_hang);
  g_test_add_func("/elphapex/module/no-cgi", test_module_no_cgi);
  g_test_add_func("/elphapex/module/refused", test_module_refused);
  return g_test_run();
}
