/* Table-driven tests of the antminer driver against every recorded reply in
 * tests/fixtures/{bmminer,cgminer,hiveon,vnish}: field by field, the values a
 * user sees, read by hand from the fixture files. Then match() on every
 * version reply, the error paths, hand-made variations of real replies, and
 * the built module polling a local fake miner on 127.0.0.1. */
#include "am-antminer-parse.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"

#include <math.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

#define U AM_UNKNOWN

/* Exact conversions compared to 1e-9 relative: the only error allowed is
 * the last bits of a double. NAN expects unknown. */
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

static JsonObject *
fixture_or_null(const char *relpath)
{
  return relpath != NULL ? am_test_fixture_object(relpath) : NULL;
}

static void
unref_or_null(JsonObject *obj)
{
  if (obj != NULL)
    json_object_unref(obj);
}

/* Parses the named fixtures and finishes the sample as the core does. */
static AmSample *
parse_fixtures(const char *version, const char *stats, const char *pools, const char *summary,
               const AmAntminerOptions *options)
{
  JsonObject *v = fixture_or_null(version);
  JsonObject *s = fixture_or_null(stats);
  JsonObject *p = fixture_or_null(pools);
  JsonObject *m = fixture_or_null(summary);
  g_autoptr(GError) error = NULL;
  AmSample *sample = am_antminer_parse(v, s, p, m, options, &error);
  g_assert_no_error(error);
  g_assert_nonnull(sample);
  am_sample_finish(sample);
  unref_or_null(v);
  unref_or_null(s);
  unref_or_null(p);
  unref_or_null(m);
  return sample;
}

static JsonObject *
object_from_string(const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  json_parser_load_from_data(parser, json, -1, &error);
  g_assert_no_error(error);
  return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

/* The STATS data block of a parsed stats reply, to vary a real reply. */
static JsonObject *
data_block(JsonObject *stats_reply)
{
  JsonObject *data = am_json_array_find_with_key(am_json_array(stats_reply, "STATS"), "Elapsed");
  g_assert_nonnull(data);
  return data;
}

static JsonNode *
extra(AmSample *sample, const char *name)
{
  JsonNode *node = json_object_get_member(sample->extras, name);
  if (node == NULL)
    g_error("extra %s missing", name);
  return node;
}

static gboolean
has_problem(AmSample *sample, const char *text)
{
  for (guint i = 0; i < sample->problems->len; i++)
    if (g_str_equal(sample->problems->pdata[i], text))
      return TRUE;
  return FALSE;
}

/* ---- the fixture table -------------------------------------------------- */

typedef struct {
  gint index;
  double hashrate_ths;
  gint chips, chips_expected, chips_ok, chips_failed;
  gint64 hw_errors;
  double temp_board_c, temp_chip_c, power_w;
} ExpectChain;

typedef struct {
  const char *url, *user, *status;
  gint priority;
  gint64 accepted, rejected, stale;
  gboolean active;
} ExpectPool;

#define MAX_ITEMS 10

typedef struct {
  const char *name;
  /* Fixtures of one recorded case. SOURCES.md says which pairs were
   * copy-paste errors in the original tests; those are not paired here
   * (d3_version is not D3 Blissz's, the L3+ and S19 Pro have no
   * version/pools of their own). */
  const char *version_file, *stats_file, *pools_file, *summary_file;
  const char *model, *firmware, *firmware_version, *algorithm;
  double hashrate_ths, hashrate_avg_ths, hashrate_ideal_ths;
  gint chains_expected;
  guint n_chains;
  ExpectChain chains[MAX_ITEMS];
  guint n_temps;
  double temps_c[MAX_ITEMS];
  double chip_temps_c[MAX_ITEMS];
  guint n_fans;
  double fans_rpm[MAX_ITEMS];
  gint fans_expected;
  double power_w;
  AmPowerSource power_source;
  gint64 elapsed_s;
  guint n_pools;
  ExpectPool pools[MAX_ITEMS];
  gint64 accepted, rejected, hw_errors;
  const char *problems[4]; /* NULL-ended; none means status ok */
  /* With a summary_file only (else unknown): since start. */
  double best_share;
  gint64 found_blocks;
  double chain_mhz[MAX_ITEMS]; /* 0: not checked (older rows) */
} FixtureCase;

static const FixtureCase fixture_cases[] = {
    {
        .name = "bmminer/s9",
        .version_file = "bmminer/s9_version.json",
        .stats_file = "bmminer/s9_stats.json",
        .pools_file = "bmminer/s9_pools.json",
        .model = "Antminer S9",
        .firmware = "bmminer",
        .firmware_version = "V1.3.58", /* the Type's second line */
        .algorithm = "sha256d",
        .hashrate_ths = 13.88381, /* "GHS 5s":"13883.81" (a string) */
        .hashrate_avg_ths = 13.89036,
        .hashrate_ideal_ths = 13.86252,
        .chains_expected = 3,
        .n_chains = 3, /* slots 6..8; slots 1..5 and 9..16 are zero padding */
        .chains = {{6, 4.61885, 63, 63, 63, 0, 3085, 75, 62, NAN},
                   /* temp7:0 and temp2_7:-83 are a dead sensor: unknown */
                   {7, 4.62455, 63, 63, 63, 0, 289, NAN, NAN, NAN},
                   {8, 4.64041, 63, 63, 63, 0, 175165, 73, 62, NAN}},
        .n_temps = 2,
        .temps_c = {75, 73},
        .chip_temps_c = {62, 62},
        .n_fans = 2, /* fan5, fan6 */
        .fans_rpm = {3720, 2400},
        .fans_expected = 2,
        .power_w = 13.88381 * 1323.0 / 13.5, /* S9 spec: 1323 W at 13.5 TH/s */
        .power_source = AM_POWER_SOURCE_ESTIMATED,
        .elapsed_s = 293628,
        .n_pools = 2, /* the third is an empty, Dead slot */
        .pools = {{"stratum+tcp://ss.antpool.com:3333", "xxx", "Alive", 0, 22673, 8, 0, TRUE},
                  {"stratum+tcp://ss.antpool.com:443", "xxx", "Alive", 1, 0, 0, 0, FALSE}},
        .accepted = 22673,
        .rejected = 8,
        .hw_errors = 3085 + 289 + 175165,
        .problems = {"chain 7: no valid temperature reading"},
    },
    {
        .name = "bmminer/s17pro",
        .stats_file = "bmminer/s17pro_stats.json",
        .pools_file = "bmminer/s17pro_pools.json",
        .model = "Antminer S17 Pro",
        .firmware = "bmminer", /* the BMMiner key, though STATUS says "cgminer 1.0.0" */
        .firmware_version = "Tue Aug 20 10:37:07 CST 2019",
        .algorithm = "sha256d",
        .hashrate_ths = 54.99701,
        .hashrate_avg_ths = 54.51207,
        .hashrate_ideal_ths = 53.619, /* total_rateideal 53619.00, rate_unit GH */
        .chains_expected = 3,
        .n_chains = 3,
        /* Board: the hottest of temp1 (50) and temp_pcb1 "22-53-21-50" (53). */
        .chains = {{1, 17.96826, 48, 48, 48, 0, 731, 53, 80, NAN},
                   {2, 18.418, 48, 48, 48, 0, 1074, 53, 75, NAN},
                   {3, 18.61075, 48, 48, 48, 0, 1080, 45, 63, NAN}},
        .n_temps = 3,
        .temps_c = {53, 53, 45},
        .chip_temps_c = {80, 75, 63},
        .n_fans = 4,
        .fans_rpm = {2400, 3000, 3120, 2400},
        .fans_expected = 4,
        .power_w = 54.99701 * 2094.0 / 53.0,
        .power_source = AM_POWER_SOURCE_ESTIMATED,
        .elapsed_s = 253447,
        .n_pools = 3,
        /* All three say "Stratum Active": the best priority one works. */
        .pools = {{"stratum+tcp://xxxxxx:3333", "CosmosCapitalFund.COSMOSxCNKxS17Px00001", "Alive",
                   0, 86241, 411, 116, TRUE},
                  {"stratum+tcp://xxxxxx:3333", "CosmosCapitalFund.COSMOSxCNKxS17Px00001", "Alive",
                   1, 63, 0, 2, FALSE},
                  {"stratum+tcp://stratum.slushpool.com:3333",
                   "CosmosCapitalFund.COSMOSxCNKxS17Px00001", "Alive", 2, 196, 5, 4, FALSE}},
        .accepted = 86241 + 63 + 196,
        .rejected = 411 + 0 + 5,
        .hw_errors = 731 + 1074 + 1080, /* equals the reply's no_matching_work 2885 */
    },
    {
        .name = "bmminer/s19pro",
        .version_file = "bmminer/s19pro_version.json",
        .stats_file = "bmminer/s19pro_stats.json",
        .model = "Antminer S19 Pro",
        .firmware = "bmminer",
        .firmware_version = "Wed Oct 21 10:18:10 CST 2020",
        .algorithm = "sha256d",
        .hashrate_ths = 110.78679, /* "GHS 5s" is a number here */
        .hashrate_avg_ths = 111.73011,
        .hashrate_ideal_ths = 111.859,
        .chains_expected = 3,
        .n_chains = 3,
        /* temp_pcb1 "2--1-20-22" reads 2, -1, 20, 22: -1 dropped, hottest 22. */
        .chains = {{1, 37.73524, 114, 114, 114, 0, 1527, 22, 27, NAN},
                   {2, 38.10907, 114, 114, 114, 0, 2752, 20, 25, NAN},
                   {3, 34.94248, 114, 114, 114, 0, 269, 21, 26, NAN}},
        .n_temps = 3,
        .temps_c = {22, 20, 21},
        .chip_temps_c = {27, 25, 26},
        .n_fans = 4,
        .fans_rpm = {5520, 5400, 5040, 5040},
        .fans_expected = 4,
        .power_w = 110.78679 * 3250.0 / 110.0,
        .power_source = AM_POWER_SOURCE_ESTIMATED,
        .elapsed_s = 82852,
        .n_pools = 0,
        .accepted = U,
        .rejected = U,
        .hw_errors = 1527 + 2752 + 269,
    },
    {
        .name = "cgminer/d3-blissz",
        .stats_file = "cgminer/d3-blissz_stats.json",
        .pools_file = "cgminer/d3-blissz_pools.json",
        .model = "Antminer D3",
        .firmware = "Blissz",
        .firmware_version = "v2.06 beta",
        .algorithm = "x11",
        .hashrate_ths = 16346.64e-6, /* "GHS 5s" holds MH/s */
        .hashrate_avg_ths = 16868.38e-6,
        .hashrate_ideal_ths = 19.3e-3, /* no total_rateideal: the D3's nominal */
        .chains_expected = 3,
        .n_chains = 3,
        .chains = {{1, 5287.83e-6, 60, 60, 60, 0, 0, 46, 69, NAN},
                   {2, 5631.41e-6, 60, 60, 60, 0, 0, 46, 67, NAN},
                   {3, 5427.41e-6, 60, 60, 60, 0, 0, 48, 62, NAN}},
        .n_temps = 3,
        .temps_c = {46, 46, 48},
        .chip_temps_c = {69, 67, 62},
        .n_fans = 2,
        .fans_rpm = {6030, 5790},
        .fans_expected = 2,
        .power_w = 16346.64e-6 * 1350.0 / 19.3e-3,
        .power_source = AM_POWER_SOURCE_ESTIMATED,
        .elapsed_s = 54422,
        .n_pools = 3, /* two empty slots skipped; the dev-fee pools stay */
        .pools = {{"stratum+tcp://dash-eu.coinmine.pl:6099", "Dash.default", "Alive", 0, 3038, 8, 5,
                   TRUE},
                  {"stratum+tcp://dash.suprnova.cc:9991", "devFeeMiner.9", "Alive", 9998, 0, 0, 0,
                   FALSE},
                  {"stratum+tcp://dash-eu.coinmine.pl:6099", "devFeeMiner.1", "Alive", 9999, 0,
                   0, 0, FALSE}},
        .accepted = 3038,
        .rejected = 8,
        .hw_errors = 0,
    },
    {
        .name = "cgminer/e3",
        .stats_file = "cgminer/e3_stats.json",
        .pools_file = "cgminer/e3_pools.json",
        .model = "Antminer E3",
        .firmware = "cgminer",
        .firmware_version = "Wed Jul 4 18:21:00 CST 2018", /* "Miner" is empty */
        .algorithm = "ethash",
        .hashrate_ths = 197.30e-6,
        .hashrate_avg_ths = 199.56e-6,
        .hashrate_ideal_ths = 190e-6,
        .chains_expected = U,
        .n_chains = 9, /* keys come out of order (1, 8, 9, 2, ...): sorted by slot */
        .chains = {{1, 20.97e-6, 2, U, 2, 0, 0, 49, 63, NAN},
                   {2, 24.49e-6, 2, U, 2, 0, 0, 50, 68, NAN},
                   {3, 21.14e-6, 2, U, 2, 0, 0, 50, 68, NAN},
                   {8, 21.81e-6, 2, U, 2, 0, 0, 45, 63, NAN},
                   {9, 22.98e-6, 2, U, 2, 0, 0, 39, 56, NAN},
                   {10, 18.79e-6, 2, U, 2, 0, 0, 46, 59, NAN},
                   {11, 22.98e-6, 2, U, 2, 0, 0, 39, 56, NAN},
                   {12, 23.99e-6, 2, U, 2, 0, 0, 45, 63, NAN},
                   {13, 20.13e-6, 2, U, 2, 0, 0, 39, 58, NAN}},
        .n_temps = 9,
        .temps_c = {49, 50, 50, 45, 39, 46, 39, 45, 39},
        .chip_temps_c = {63, 68, 68, 63, 56, 59, 56, 63, 58},
        .n_fans = 2,
        .fans_rpm = {3600, 3720},
        .fans_expected = 2,
        .power_w = 197.30e-6 * 760.0 / 190e-6,
        .power_source = AM_POWER_SOURCE_ESTIMATED,
        .elapsed_s = 556,
        .n_pools = 1,
        .pools = {{"stratum+tcp://us1.ethpool.org:3333",
                   "#0x65CdB0EE9Ba1D9eFe2566965F8B089c2B9ffCE63.00B4C08382A1", "Alive", 0, 38, 0, 0,
                   TRUE}},
        .accepted = 38,
        .rejected = 0,
        .hw_errors = 0,
    },
    {
        .name = "cgminer/l3plus",
        .stats_file = "cgminer/l3plus_stats.json",
        .pools_file = "cgminer/l3plus_pools.json",
        .model = "Antminer L3+",
        .firmware = "cgminer",
        .firmware_version = "Fri Aug 25 17:28:57 CST 2017",
        .algorithm = "scrypt",
        .hashrate_ths = 0.00050456, /* "GHS 5s":"504.56" is MH/s */
        .hashrate_avg_ths = 0.00050028,
        .hashrate_ideal_ths = 504e-6,
        .chains_expected = 4,
        .n_chains = 4,
        /* temp31..34 are 0 (dropped); chips from temp2_N. */
        .chains = {{1, 126.12e-6, 72, 72, 72, 0, 0, 46, 54, NAN},
                   {2, 125.79e-6, 72, 72, 72, 0, 0, 46, 56, NAN},
                   {3, 126.06e-6, 72, 72, 72, 0, 153, 46, 56, NAN},
                   {4, 126.59e-6, 72, 72, 72, 0, 0, 45, 53, NAN}},
        .n_temps = 4,
        .temps_c = {46, 46, 46, 45},
        .chip_temps_c = {54, 56, 56, 53},
        .n_fans = 2,
        .fans_rpm = {3840, 3810},
        .fans_expected = 2,
        .power_w = 0.00050456 * 800.0 / 504e-6,
        .power_source = AM_POWER_SOURCE_ESTIMATED,
        .elapsed_s = 393983,
        .n_pools = 1,
        .pools = {{"stratum+tcp://us.litecoinpool.org:3333", "obmllc.l3_1", "Alive", 0, 47384, 212,
                   15, TRUE}},
        .accepted = 47384,
        .rejected = 212,
        .hw_errors = 153,
    },
    {
        .name = "cgminer/z11-chipless",
        .stats_file = "cgminer/z11-chipless_stats.json",
        .model = "Antminer Z11",
        .firmware = "cgminer",
        .firmware_version = "Sat May 23 19:07:17 CST 2020 (Chipless v3.0 Auto Paid)",
        .algorithm = "equihash",
        .hashrate_ths = 145474.39e-12, /* Sol/s in "GHS 5s"; reported in 1e12 Sol/s */
        .hashrate_avg_ths = 143682.17e-12,
        .hashrate_ideal_ths = 135e3 * 1e-12,
        .chains_expected = 3,
        .n_chains = 3,
        /* chain_rateN are kSol/s: 42.59 + 47.84 + 55.04 = 145.47 */
        .chains = {{1, 42.59e-9, 3, U, 3, 0, 0, 37, 56, NAN},
                   {2, 47.84e-9, 3, U, 3, 0, 0, 38, 60, NAN},
                   {3, 55.04e-9, 3, U, 3, 0, 0, 34, 54, NAN}},
        .n_temps = 3,
        .temps_c = {37, 38, 34},
        .chip_temps_c = {56, 60, 54},
        .n_fans = 2,
        .fans_rpm = {3000, 3000},
        .fans_expected = 2,
        .power_w = 145474.39e-12 * 1418.0 / (135e3 * 1e-12),
        .power_source = AM_POWER_SOURCE_ESTIMATED,
        .elapsed_s = 20578,
        .n_pools = 0,
        .accepted = U,
        .rejected = U,
        .hw_errors = 0,
    },
    {
        .name = "hiveon/s9",
        .version_file = "hiveon/s9_version.json",
        .stats_file = "hiveon/s9_stats.json",
        .model = "Antminer S9",
        .firmware = "Hiveon",
        .firmware_version = "Tue Nov 20 10:12:30 UTC 2019",
        .algorithm = "sha256d",
        .hashrate_ths = 11.7814,
        .hashrate_avg_ths = 11.60955,
        .hashrate_ideal_ths = 11.8503,
        .chains_expected = 3,
        .n_chains = 3,
        /* chain_powerN 11.55 cannot be watts at 3.9 TH/s a board: not used. */
        .chains = {{6, 3.91164, 63, 63, 63, 0, 0, 59, 74, NAN},
                   {7, 3.9137, 63, 63, 63, 0, 0, 50, 65, NAN},
                   {8, 3.95605, 63, 63, 63, 0, 0, 57, 72, NAN}},
        .n_temps = 3,
        .temps_c = {59, 50, 57},
        .chip_temps_c = {74, 65, 72},
        .n_fans = 2,
        .fans_rpm = {3840, 4920},
        .fans_expected = 2,
        .power_w = 11.7814 * 1323.0 / 13.5,
        .power_source = AM_POWER_SOURCE_ESTIMATED,
        .elapsed_s = 69,
        .n_pools = 0,
        .accepted = U,
        .rejected = U,
        .hw_errors = 0,
    },
    {
        .name = "vnish/s9-3.8.6",
        .version_file = "vnish/s9-3.8.6_version.json",
        .stats_file = "vnish/s9-3.8.6_stats.json",
        .model = "Antminer S9",
        .firmware = "VNish",
        .firmware_version = "3.8.6",
        .algorithm = "sha256d",
        .hashrate_ths = 12.79548,
        .hashrate_avg_ths = 12.90071,
        .hashrate_ideal_ths = 12.9276,
        .chains_expected = 3,
        .n_chains = 3,
        .chains = {{6, 4.26448, 63, 63, 63, 0, 1, 65, 80, 495},
                   {7, 4.29832, 63, 63, 63, 0, 3, 56, 71, 495},
                   {8, 4.23267, 63, 63, 63, 0, 293, 63, 78, 495}},
        .n_temps = 3,
        .temps_c = {65, 56, 63},
        .chip_temps_c = {80, 71, 78},
        .n_fans = 2,
        .fans_rpm = {5400, 5880},
        .fans_expected = 2,
        .power_w = 3 * 495, /* chain_consumption6..8 */
        .power_source = AM_POWER_SOURCE_REPORTED,
        .elapsed_s = 3617,
        .n_pools = 0,
        .accepted = U,
        .rejected = U,
        .hw_errors = 1 + 3 + 293,
    },
    {
        /* asic-rs's recording of a stock S19 Pro (BMMiner 1.0.0, Miner
         * 49.0.1.3). Its summary is also tests/fixtures/bmminer/
         * s19pro_rpc-summary.json, byte for byte. */
        .name = "bmminer/asicrs-v2020",
        .version_file = "bmminer/asicrs-v2020_version.json",
        .stats_file = "bmminer/asicrs-v2020_stats.json",
        .pools_file = "bmminer/asicrs-v2020_pools.json",
        .summary_file = "bmminer/asicrs-v2020_summary.json",
        .model = "Antminer S19 Pro",
        .firmware = "bmminer",
        .firmware_version = "Tue Dec  6 16:12:30 CST 2022",
        .algorithm = "sha256d",
        .hashrate_ths = 110.56689,     /* "GHS 5s", STATS and SUMMARY alike */
        .hashrate_avg_ths = 111.83463, /* STATS "GHS av" first (SUMMARY: 111834.85) */
        .hashrate_ideal_ths = 110.0,   /* total_rateideal 110000.0 */
        .chains_expected = 3,
        .n_chains = 3, /* slot 4: 0 chips, rate "" */
        .chains = {{1, 37.6033, 114, 114, 114, 0, 183, 73, 78, NAN},
                   {2, 35.53622, 114, 114, 114, 0, 195, 66, 71, NAN},
                   {3, 37.42738, 114, 114, 114, 0, 184, 64, 69, NAN}},
        .n_temps = 3,
        .temps_c = {73, 66, 64},
        .chip_temps_c = {78, 71, 69},
        .n_fans = 4,
        .fans_rpm = {6000, 5880, 5040, 5040},
        .fans_expected = 4,
        .power_w = 110.56689 * 3250.0 / 110.0, /* no reading: the S19 Pro spec */
        .power_source = AM_POWER_SOURCE_ESTIMATED,
        .elapsed_s = 50474,
        .n_pools = 3,
        .pools = {{"stratum+tcp://btc.global.luxor.tech:700", "satokierepair.H04YK", "Alive", 0,
                   4057, 11, 1, TRUE},
                  {"stratum+tcp://btc.global.luxor.tech:700", "satokierepair.H04YK", "Alive", 1, 0,
                   0, 0, FALSE},
                  {"stratum+tcp://btc.global.luxor.tech:700", "satokierepair.H04YK", "Alive", 2, 0,
                   0, 0, FALSE}},
        .accepted = 4057,
        .rejected = 11,
        .hw_errors = 562, /* SUMMARY, not the chains' 183 + 195 + 184 */
        .best_share = 12904207043.0,
        .found_blocks = 0,
        .chain_mhz = {525, 525, 525},
    },
};

static void
assert_chain(const AmChain *c, const ExpectChain *e, const char *name)
{
  g_autofree char *what = g_strdup_printf("%s chain %d", name, e->index);
  g_assert_cmpint(c->index, ==, e->index);
  assert_close(c->hashrate_ths, e->hashrate_ths, what);
  g_assert_cmpint(c->chips, ==, e->chips);
  g_assert_cmpint(c->chips_expected, ==, e->chips_expected);
  g_assert_cmpint(c->chips_ok, ==, e->chips_ok);
  g_assert_cmpint(c->chips_failed, ==, e->chips_failed);
  g_assert_cmpint(c->hw_errors, ==, e->hw_errors);
  assert_close(c->temp_board_c, e->temp_board_c, what);
  assert_close(c->temp_chip_c, e->temp_chip_c, what);
  assert_close(c->power_w, e->power_w, what);
}

static void
assert_pool(const AmPool *p, const ExpectPool *e)
{
  g_assert_cmpstr(p->url, ==, e->url);
  g_assert_cmpstr(p->user, ==, e->user);
  g_assert_cmpstr(p->status, ==, e->status);
  g_assert_cmpint(p->priority, ==, e->priority);
  g_assert_cmpint(p->accepted, ==, e->accepted);
  g_assert_cmpint(p->rejected, ==, e->rejected);
  g_assert_cmpint(p->stale, ==, e->stale);
  g_assert_cmpint(p->active, ==, e->active);
}

static void
test_fixture(gconstpointer data)
{
  const FixtureCase *fc = data;
  g_autoptr(AmSample) s =
      parse_fixtures(fc->version_file, fc->stats_file, fc->pools_file, fc->summary_file, NULL);

  g_assert_cmpstr(s->driver, ==, "antminer");
  g_assert_cmpstr(s->model, ==, fc->model);
  g_assert_cmpstr(s->firmware, ==, fc->firmware);
  g_assert_cmpstr(s->firmware_version, ==, fc->firmware_version);
  g_assert_cmpstr(s->algorithm, ==, fc->algorithm);
  assert_close(s->hashrate_ths, fc->hashrate_ths, "hashrate_ths");
  assert_close(s->hashrate_avg_ths, fc->hashrate_avg_ths, "hashrate_avg_ths");
  assert_close(s->hashrate_ideal_ths, fc->hashrate_ideal_ths, "hashrate_ideal_ths");

  g_assert_cmpint(s->chains_expected, ==, fc->chains_expected);
  g_assert_cmpuint(s->chains->len, ==, fc->n_chains);
  for (guint i = 0; i < fc->n_chains; i++)
    assert_chain(&g_array_index(s->chains, AmChain, i), &fc->chains[i], fc->name);

  assert_doubles(s->temps_c, fc->temps_c, fc->n_temps, "temps_c");
  assert_doubles(s->chip_temps_c, fc->chip_temps_c, fc->n_temps, "chip_temps_c");
  assert_doubles(s->fans_rpm, fc->fans_rpm, fc->n_fans, "fans_rpm");
  g_assert_cmpint(s->fans_expected, ==, fc->fans_expected);
  g_assert_false(s->liquid_cooled);

  assert_close(s->power_w, fc->power_w, "power_w");
  g_assert_cmpint(s->power_source, ==, fc->power_source);
  assert_close(s->efficiency_jth, fc->power_w / fc->hashrate_ths, "efficiency_jth");
  g_assert_cmpint(s->elapsed_s, ==, fc->elapsed_s);

  g_assert_cmpuint(s->pools->len, ==, fc->n_pools);
  for (guint i = 0; i < fc->n_pools; i++)
    assert_pool(s->pools->pdata[i], &fc->pools[i]);
  g_assert_cmpint(s->accepted, ==, fc->accepted);
  g_assert_cmpint(s->rejected, ==, fc->rejected);
  g_assert_cmpint(s->hw_errors, ==, fc->hw_errors);

  guint n_problems = 0;
  while (n_problems < G_N_ELEMENTS(fc->problems) && fc->problems[n_problems] != NULL)
    n_problems++;
  for (guint i = 0; i < s->problems->len; i++)
    g_test_message("%s problem: %s", fc->name, (const char *)s->problems->pdata[i]);
  g_assert_cmpuint(s->problems->len, ==, n_problems);
  for (guint i = 0; i < n_problems; i++)
    g_assert_cmpstr(s->problems->pdata[i], ==, fc->problems[i]);
  g_assert_cmpint(s->status, ==, n_problems > 0 ? AM_SAMPLE_STATUS_DEGRADED : AM_SAMPLE_STATUS_OK);

  assert_close(s->best_share, fc->summary_file != NULL ? fc->best_share : NAN, "best_share");
  g_assert_cmpint(s->found_blocks, ==, fc->summary_file != NULL ? fc->found_blocks : U);
  for (guint i = 0; i < fc->n_chains && fc->chain_mhz[0] > 0; i++)
    assert_close(g_array_index(s->chains, AmChain, i).frequency_mhz, fc->chain_mhz[i], "mhz");
}

/* ---- extras ------------------------------------------------------------- */

static void
test_extras_s9(void)
{
  g_autoptr(AmSample) s =
      parse_fixtures("bmminer/s9_version.json", "bmminer/s9_stats.json", NULL, NULL, NULL);
  assert_close(json_node_get_double(extra(s, "x_antminer_frequency_mhz")), 645.90, "freq");
  JsonObject *freqs = json_node_get_object(extra(s, "x_antminer_chain_frequency_mhz"));
  g_assert_cmpuint(json_object_get_size(freqs), ==, 3);
  assert_close(json_object_get_double_member(freqs, "6"), 649.10, "freq 6");
  assert_close(json_object_get_double_member(freqs, "7"), 650.40, "freq 7");
  assert_close(json_object_get_double_member(freqs, "8"), 647.00, "freq 8");
  g_assert_cmpstr(json_node_get_string(extra(s, "x_antminer_miner_version")), ==, "30.0.1.3");
  g_assert_cmpstr(json_node_get_string(extra(s, "x_antminer_compile_time")), ==,
                  "Wed Jul 31 16:18:27 CST 2019");
  g_assert_false(json_object_has_member(s->extras, "x_antminer_rejected_power_w"));
}

static void
test_extras_s17(void)
{
  g_autoptr(AmSample) s = parse_fixtures(NULL, "bmminer/s17pro_stats.json", NULL, NULL, NULL);
  g_assert_cmpint(json_node_get_int(extra(s, "x_antminer_mode")), ==, 1);
  g_assert_cmpstr(json_node_get_string(extra(s, "x_antminer_miner_id")), ==, "801085242b104814");
  /* "frequency":"" and total_freqavg 0.00 say nothing; freq1..3 do. */
  g_assert_false(json_object_has_member(s->extras, "x_antminer_frequency_mhz"));
  JsonObject *freqs = json_node_get_object(extra(s, "x_antminer_chain_frequency_mhz"));
  assert_close(json_object_get_double_member(freqs, "1"), 570, "freq 1");
  assert_close(json_object_get_double_member(freqs, "3"), 566, "freq 3");
}

static void
test_extras_e3(void)
{
  g_autoptr(AmSample) s = parse_fixtures(NULL, "cgminer/e3_stats.json", NULL, NULL, NULL);
  /* "frequency":"1600M" is MHz with a unit, not 1.6e9. */
  assert_close(json_node_get_double(extra(s, "x_antminer_frequency_mhz")), 1600, "freq");
}

static void
test_extras_vnish(void)
{
  g_autoptr(AmSample) s =
      parse_fixtures("vnish/s9-3.8.6_version.json", "vnish/s9-3.8.6_stats.json", NULL, NULL, NULL);
  JsonObject *volts = json_node_get_object(extra(s, "x_antminer_chain_voltage"));
  g_assert_cmpuint(json_object_get_size(volts), ==, 3);
  assert_close(json_object_get_double_member(volts, "6"), 920, "vol 6");
  g_assert_false(json_node_get_boolean(extra(s, "x_antminer_manual_fan_mode")));
}

/* Hiveon's "34.65 (AB)" on an S9 hashing 11.78 TH/s would be 2.9 J/TH,
 * impossible for its chips (the spec sheet says 98): kept for the user to
 * see, never reported as the power. */
static void
test_hiveon_power_not_claimed(void)
{
  g_autoptr(AmSample) s =
      parse_fixtures("hiveon/s9_version.json", "hiveon/s9_stats.json", NULL, NULL, NULL);
  g_assert_cmpstr(json_node_get_string(extra(s, "x_antminer_chain_power")), ==, "34.65 (AB)");
  assert_close(json_node_get_double(extra(s, "x_antminer_rejected_power_w")), 34.65, "rejected");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_ESTIMATED);
}

static void
test_estimate_power_off(void)
{
  const AmAntminerOptions options = {.estimate_power = FALSE};
  g_autoptr(AmSample) s = parse_fixtures(NULL, "bmminer/s9_stats.json", NULL, NULL, &options);
  g_assert_true(isnan(s->power_w));
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_true(isnan(s->efficiency_jth));

  /* A firmware reading does not depend on the option. */
  g_autoptr(AmSample) v = parse_fixtures(NULL, "vnish/s9-3.8.6_stats.json", NULL, NULL, &options);
  assert_close(v->power_w, 1485, "vnish power");
  g_assert_cmpint(v->power_source, ==, AM_POWER_SOURCE_REPORTED);
}

/* ---- identity ----------------------------------------------------------- */

static void
test_identity_s19jpro_hiveon(void)
{
  g_autoptr(JsonObject) reply = am_test_fixture_object("hiveon/s19jpro_version.json");
  JsonObject *version = am_json_array_object(am_json_array(reply, "VERSION"), 0);
  AmAntminerIdentity id;
  am_antminer_identify(version, NULL, "bmminer 1.0.0", &id);
  /* "Antminer S19JPRO Hiveon": the suffix is the firmware, the model is the
   * table's spelling of S19JPRO. */
  g_assert_cmpstr(id.model, ==, "Antminer S19j Pro");
  g_assert_cmpstr(id.firmware, ==, "Hiveon");
  g_assert_cmpstr(id.firmware_version, ==, "Fri Apr 19 10:58:21 UTC 2024");
  g_assert_cmpstr(id.algorithm, ==, "sha256d");
  g_assert_nonnull(id.entry);
  g_assert_cmpint(id.entry->chips_per_chain, ==, 126);
  am_antminer_identity_clear(&id);
}

static void
test_identity_d3_version(void)
{
  g_autoptr(JsonObject) reply = am_test_fixture_object("cgminer/d3_version.json");
  JsonObject *version = am_json_array_object(am_json_array(reply, "VERSION"), 0);
  AmAntminerIdentity id;
  am_antminer_identify(version, NULL, "cgminer 4.9.0", &id);
  g_assert_cmpstr(id.model, ==, "Antminer D3");
  g_assert_cmpstr(id.firmware, ==, "cgminer");
  g_assert_cmpstr(id.firmware_version, ==, "Fri Aug 25 17:28:57 CST 2017");
  g_assert_cmpstr(id.algorithm, ==, "x11");
  am_antminer_identity_clear(&id);
}

/* Every table name must find itself, whatever the case and spacing. */
static void
test_model_table(void)
{
  guint n = 0;
  const AmAntminerModel *models = am_antminer_models(&n);
  g_assert_cmpuint(n, >, 30);
  for (guint i = 0; i < n; i++) {
    g_autofree char *upper = g_ascii_strup(models[i].name, -1);
    g_assert_true(am_antminer_model_lookup(models[i].name) == &models[i]);
    g_assert_true(am_antminer_model_lookup(upper) == &models[i]);
    g_assert_true(models[i].nominal_ths > 0 && models[i].nominal_w > 0);
    g_assert_nonnull(models[i].algorithm);
  }
  g_assert_null(am_antminer_model_lookup("Antminer S19k"));
  g_assert_null(am_antminer_model_lookup(NULL));
  assert_close(am_antminer_model_jth(am_antminer_model_lookup("Antminer S9")), 98, "S9 J/TH");
}

/* ---- match() ------------------------------------------------------------ */

typedef struct {
  const char *fixture;
  AmMatch expected;
} MatchCase;

static const MatchCase match_cases[] = {
    {"bmminer/s9_version.json", AM_MATCH_SUPPORTED},
    {"bmminer/s19pro_version.json", AM_MATCH_SUPPORTED},
    {"cgminer/d3_version.json", AM_MATCH_SUPPORTED},
    {"hiveon/s9_version.json", AM_MATCH_LIKELY},
    {"hiveon/s19jpro_version.json", AM_MATCH_LIKELY},
    {"vnish/s9-3.8.6_version.json", AM_MATCH_LIKELY},
    {"bosminer/s9-bos-0.2.0_version.json", AM_MATCH_UNSUPPORTED},
    {"bosminer/s9-bosplus-0.2.0_version.json", AM_MATCH_UNSUPPORTED},
    {"bosminer/unknown-model-bos-25.05_version.json", AM_MATCH_UNSUPPORTED},
    {"luxminer/unknown-model_version.json", AM_MATCH_UNSUPPORTED},
    /* Not version replies at all: Whatsminer and Avalon summaries. */
    {"btminer/m20s_summary.json", AM_MATCH_UNSUPPORTED},
    {"avalon/avalon7xx_summary.json", AM_MATCH_UNSUPPORTED},
};

/* As the selector fills it from one "version" reply. */
static void
fingerprint_from(AmFingerprint *fp, JsonObject *reply)
{
  memset(fp, 0, sizeof(*fp));
  fp->struct_size = sizeof(*fp);
  fp->host = "127.0.0.1";
  fp->port = AM_RPC_DEFAULT_PORT;
  fp->rpc_open = TRUE;
  fp->version_reply = reply;
  fp->version = am_json_array_object(am_json_array(reply, "VERSION"), 0);
  fp->description =
      am_json_string(am_json_array_object(am_json_array(reply, "STATUS"), 0), "Description");
}

static void
test_match(gconstpointer data)
{
  const MatchCase *mc = data;
  g_autoptr(JsonObject) reply = am_test_fixture_object(mc->fixture);
  AmFingerprint fp;
  fingerprint_from(&fp, reply);
  g_assert_cmpint(am_antminer_match(&fp), ==, mc->expected);
}

static void
test_match_partial(void)
{
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint)};
  g_assert_cmpint(am_antminer_match(NULL), ==, AM_MATCH_UNSUPPORTED);
  g_assert_cmpint(am_antminer_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  /* Port 4028 closed, but the web server has Bitmain's realm. */
  fp.http_open = TRUE;
  fp.http_status = 401;
  fp.http_realm = "antMiner Configuration";
  g_assert_cmpint(am_antminer_match(&fp), ==, AM_MATCH_MAYBE);
  /* Only a STATUS Description came back. */
  fp.rpc_open = TRUE;
  fp.description = "bmminer 1.0.0";
  g_assert_cmpint(am_antminer_match(&fp), ==, AM_MATCH_SUPPORTED);
  /* A cgminer that is not an Antminer. */
  g_autoptr(JsonObject) avalon =
      object_from_string("{\"CGMiner\":\"4.11.1\",\"API\":\"3.7\",\"PROD\":\"AvalonMiner 1246\"}");
  fp.version = avalon;
  fp.description = "cgminer 4.11.1";
  g_assert_cmpint(am_antminer_match(&fp), ==, AM_MATCH_UNSUPPORTED);
}

/* ---- errors and variations ---------------------------------------------- */

static void
test_no_stats(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) version = am_test_fixture_object("bmminer/s9_version.json");
  g_assert_null(am_antminer_parse(version, NULL, NULL, NULL, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "stats"));
}

/* The version block alone, as STATS[0]: the data block is what counts. */
static void
test_no_data_block(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) stats = object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\",\"When\":1605578750,\"Code\":70,\"Msg\":\"BMMiner stats\","
      "\"Description\":\"bmminer "
      "1.0.0\"}],\"STATS\":[{\"BMMiner\":\"2.0.0\",\"Miner\":\"30.0.1.3\","
      "\"CompileTime\":\"Wed Jul 31 16:18:27 CST 2019\",\"Type\":\"Antminer S9\"}],\"id\":1}");
  g_assert_null(am_antminer_parse(NULL, stats, NULL, NULL, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_assert_nonnull(strstr(error->message, "no data block"));

  g_clear_error(&error);
  g_autoptr(JsonObject) empty = object_from_string("{\"id\":1}");
  g_assert_null(am_antminer_parse(NULL, empty, NULL, NULL, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
}

/* The access-denied reply (STATUS E, Code 45): as stats it is the error;
 * as an optional reply it counts as absent. */
static void
test_access_denied(void)
{
  g_autoptr(JsonObject) denied =
      am_test_fixture_object("hiveon/s19jpro_devdetails-access-denied.json");
  g_autoptr(GError) error = NULL;
  g_assert_false(am_rpc_check_status(denied, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_clear_error(&error);

  g_assert_null(am_antminer_parse(NULL, denied, NULL, NULL, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "stats: "));
  g_assert_nonnull(strstr(error->message, "Access denied"));
  g_clear_error(&error);

  g_autoptr(JsonObject) stats = am_test_fixture_object("hiveon/s9_stats.json");
  g_autoptr(AmSample) s = am_antminer_parse(denied, stats, denied, denied, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(s->pools->len, ==, 0);
  g_assert_cmpint(s->accepted, ==, AM_UNKNOWN);
  /* The identity still comes from the version block inside STATS. */
  g_assert_cmpstr(s->model, ==, "Antminer S9");
  g_assert_cmpstr(s->firmware, ==, "Hiveon");
}

/* A board that vanished: bmminer zero-pads its slot like the unused ones. */
static void
test_zero_slots_skipped(void)
{
  g_autoptr(JsonObject) stats = am_test_fixture_object("bmminer/s9_stats.json");
  JsonObject *data = data_block(stats);
  json_object_set_int_member(data, "chain_acn8", 0);
  json_object_set_string_member(data, "chain_acs8", "");
  json_object_set_string_member(data, "chain_rate8", "");
  json_object_set_int_member(data, "chain_hw8", 0);
  json_object_set_int_member(data, "temp8", 0);
  json_object_set_int_member(data, "temp2_8", 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_antminer_parse(NULL, stats, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  g_assert_cmpuint(s->chains->len, ==, 2);
  g_assert_cmpint(g_array_index(s->chains, AmChain, 0).index, ==, 6);
  g_assert_cmpint(g_array_index(s->chains, AmChain, 1).index, ==, 7);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_true(has_problem(s, "2 of 3 chains present"));
}

/* Failed ('x') and missing ('-') chips in chain_acsN. */
static void
test_failed_chips(void)
{
  g_autoptr(JsonObject) stats = am_test_fixture_object("bmminer/s17pro_stats.json");
  JsonObject *data = data_block(stats);
  json_object_set_string_member(data, "chain_acs2",
                                " oooooxoo oooooooo oooo-ooo oooooooo oooooooo ooxooooo");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_antminer_parse(NULL, stats, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  const AmChain *c = &g_array_index(s->chains, AmChain, 1);
  g_assert_cmpint(c->index, ==, 2);
  g_assert_cmpint(c->chips_ok, ==, 45);
  g_assert_cmpint(c->chips_failed, ==, 2);
  g_assert_true(has_problem(s, "chain 2: 2 failed chips"));
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
}

/* A stopped fan on an air-cooled S9 (fan_num would not say so). */
static void
test_stopped_fan(void)
{
  g_autoptr(JsonObject) stats = am_test_fixture_object("vnish/s9-3.8.6_stats.json");
  JsonObject *data = data_block(stats);
  json_object_set_int_member(data, "fan6", 0);
  json_object_set_int_member(data, "fan_num", 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_antminer_parse(NULL, stats, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  const double fans[] = {5400};
  assert_doubles(s->fans_rpm, fans, 1, "fans");
  g_assert_cmpint(s->fans_expected, ==, 2);
  g_assert_true(has_problem(s, "1 of 2 fans spinning"));
}

/* "GHS 5s" wins over "MHS 5s"; "MHS 5s" serves when it is all there is;
 * then "total_rate" in rate_unit, but never the S19's "total rate". */
static void
test_hashrate_fallbacks(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) s9 = am_test_fixture_object("bmminer/s9_stats.json");
  JsonObject *data = data_block(s9);
  json_object_set_double_member(data, "MHS 5s", 1.0);
  g_autoptr(AmSample) a = am_antminer_parse(NULL, s9, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  assert_close(a->hashrate_ths, 13.88381, "GHS first");

  json_object_remove_member(data, "GHS 5s");
  json_object_set_string_member(data, "MHS 5s", "13883810.00");
  g_autoptr(AmSample) b = am_antminer_parse(NULL, s9, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  assert_close(b->hashrate_ths, 13.88381, "MHS fallback");

  /* The S17's "total_rate" (54997.0) is its chains' current rates summed. */
  g_autoptr(JsonObject) s17 = am_test_fixture_object("bmminer/s17pro_stats.json");
  json_object_remove_member(data_block(s17), "GHS 5s");
  g_autoptr(AmSample) c = am_antminer_parse(NULL, s17, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  assert_close(c->hashrate_ths, 54.997, "total_rate");

  /* The S19's "total rate" (111730.11) is its "GHS av", not a current rate:
   * with "GHS 5s" gone the current rate is unknown, and so is the power
   * estimated from it. */
  g_autoptr(JsonObject) s19 = am_test_fixture_object("bmminer/s19pro_stats.json");
  json_object_remove_member(data_block(s19), "GHS 5s");
  g_autoptr(AmSample) d = am_antminer_parse(NULL, s19, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(isnan(d->hashrate_ths));
  g_assert_true(isnan(d->power_w));
  assert_close(d->hashrate_avg_ths, 111.73011, "GHS av");
}

/* A key a firmware update renamed makes a reading unknown, never another
 * number (tests/drift): values read by hand from the fixtures. */
static void
test_lost_keys(void)
{
  g_autoptr(GError) error = NULL;
  /* S9: chain_hw6..8 are 3085+289+175165 = 178539 in all; one lost leaves
   * the total unknown, not 178250. total_rateideal lost: not the table's
   * 13.5. total_freqavg lost: not the 645 setting. */
  g_autoptr(JsonObject) s9 = am_test_fixture_object("bmminer/s9_stats.json");
  json_object_remove_member(data_block(s9), "chain_hw7");
  json_object_remove_member(data_block(s9), "total_rateideal");
  json_object_remove_member(data_block(s9), "total_freqavg");
  g_autoptr(AmSample) a = am_antminer_parse(NULL, s9, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(a->hw_errors, ==, AM_UNKNOWN);
  g_assert_true(isnan(a->hashrate_ideal_ths));
  g_assert_false(json_object_has_member(a->extras, "x_antminer_frequency_mhz"));

  /* VNish S9: chain_consumption6..8 are 495 W each; one lost leaves the
   * power unknown (not 990 W, nor an estimate). */
  g_autoptr(JsonObject) vnish = am_test_fixture_object("vnish/s9-3.8.6_stats.json");
  json_object_remove_member(data_block(vnish), "chain_consumption7");
  g_autoptr(AmSample) b = am_antminer_parse(NULL, vnish, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(isnan(b->power_w));
  g_assert_cmpint(b->power_source, ==, AM_POWER_SOURCE_UNKNOWN);

  /* E3: temp2_10 (59) lost: chain 10's chip temperature is unknown, not
   * its temp3_10 (44). Type lost: the firmware is unknown, not "cgminer";
   * CompileTime lost: not the CGMiner version "4.9.0". */
  g_autoptr(JsonObject) e3 = am_test_fixture_object("cgminer/e3_stats.json");
  json_object_remove_member(data_block(e3), "temp2_10");
  g_autoptr(AmSample) c = am_antminer_parse(NULL, e3, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  for (guint i = 0; i < c->chains->len; i++) {
    const AmChain *chain = &g_array_index(c->chains, AmChain, i);
    if (chain->index == 10)
      g_assert_true(isnan(chain->temp_chip_c));
    else if (chain->index == 1)
      g_assert_cmpfloat(chain->temp_chip_c, ==, 63); /* temp2_1 63, temp3_1 48 */
  }
  JsonObject *version_block = am_json_array_find_with_key(am_json_array(e3, "STATS"), "Type");
  json_object_remove_member(version_block, "Type");
  json_object_remove_member(version_block, "CompileTime");
  g_autoptr(AmSample) d = am_antminer_parse(NULL, e3, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_null(d->firmware);
  g_assert_null(d->firmware_version);
  g_assert_false(json_object_has_member(d->extras, "x_antminer_raw_hashrate"));
}

/* No Antminer SUMMARY was recorded; this one is made by hand in the cgminer
 * layout to show that its totals win over sums of pools and chains. */
static void
test_summary_counters(void)
{
  g_autoptr(JsonObject) summary = object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\",\"When\":1605578750,\"Code\":11,\"Msg\":\"Summary\","
      "\"Description\":\"bmminer 1.0.0\"}],\"SUMMARY\":[{\"Elapsed\":293630,\"GHS "
      "5s\":\"13883.81\","
      "\"GHS av\":13890.36,\"Accepted\":22680,\"Rejected\":9,\"Hardware "
      "Errors\":178600}],\"id\":1}");
  g_autoptr(JsonObject) stats = am_test_fixture_object("bmminer/s9_stats.json");
  g_autoptr(JsonObject) pools = am_test_fixture_object("bmminer/s9_pools.json");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_antminer_parse(NULL, stats, pools, summary, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(s->accepted, ==, 22680);
  g_assert_cmpint(s->rejected, ==, 9);
  g_assert_cmpint(s->hw_errors, ==, 178600);
  g_assert_cmpint(s->elapsed_s, ==, 293628); /* stats first */
}

/* Models the table lacks: an S/T is SHA-256 and reads as such; any other
 * letter leaves the unit, hence the hashrate, unknown. */
static void
test_unknown_models(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) stats = am_test_fixture_object("bmminer/s9_stats.json");
  JsonObject *version = am_json_array_find_with_key(am_json_array(stats, "STATS"), "Type");
  JsonObject *data = data_block(stats);

  json_object_set_string_member(version, "Type", "Antminer S99");
  g_autoptr(AmSample) s = am_antminer_parse(NULL, stats, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  g_assert_cmpstr(s->model, ==, "Antminer S99");
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  assert_close(s->hashrate_ths, 13.88381, "S99 hashrate");
  g_assert_cmpint(s->chains_expected, ==, AM_UNKNOWN);
  g_assert_cmpint(g_array_index(s->chains, AmChain, 0).chips_expected, ==, AM_UNKNOWN);
  g_assert_cmpint(s->fans_expected, ==, 2); /* fan_num */
  g_assert_true(isnan(s->power_w));         /* no J/TH to estimate with */

  json_object_set_string_member(version, "Type", "Antminer K99");
  json_object_set_string_member(version, "CGMiner", "4.9.0");
  json_object_remove_member(version, "BMMiner");
  json_object_set_int_member(data, "fan_num", 0);
  g_autoptr(AmSample) k = am_antminer_parse(NULL, stats, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(k->model, ==, "Antminer K99");
  g_assert_cmpstr(k->firmware, ==, "cgminer");
  g_assert_null(k->algorithm);
  g_assert_true(isnan(k->hashrate_ths));
  g_assert_true(isnan(g_array_index(k->chains, AmChain, 0).hashrate_ths));
  g_assert_cmpstr(json_node_get_string(extra(k, "x_antminer_raw_hashrate")), ==, "GHS 5s=13883.8");
  g_assert_cmpint(k->fans_expected, ==, AM_UNKNOWN);
}

/* No hydro reply was recorded: the S19 Pro's, renamed "Hyd." and with its
 * fans at 0 as a water-cooled unit reports them. No fans is normal there. */
static void
test_hydro_model(void)
{
  g_autoptr(JsonObject) stats = am_test_fixture_object("bmminer/s19pro_stats.json");
  JsonObject *version = am_json_array_find_with_key(am_json_array(stats, "STATS"), "Type");
  JsonObject *data = data_block(stats);
  json_object_set_string_member(version, "Type", "Antminer S19 Pro Hyd.");
  for (guint i = 1; i <= 4; i++) {
    g_autofree char *key = g_strdup_printf("fan%u", i);
    json_object_set_int_member(data, key, 0);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_antminer_parse(NULL, stats, NULL, NULL, NULL, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  g_assert_cmpstr(s->model, ==, "Antminer S19 Pro Hydro");
  g_assert_true(s->liquid_cooled);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  g_assert_cmpint(s->fans_expected, ==, 0);
  g_assert_cmpint(s->chains_expected, ==, 4);
  g_assert_false(has_problem(s, "0 of 4 fans spinning"));
  g_assert_true(has_problem(s, "3 of 4 chains present"));
}

/* ---- the module, polling a fake miner on 127.0.0.1 ---------------------- */

typedef struct {
  GHashTable *replies; /* command -> GBytes (read-only once serving) */
  GBytes *unknown;     /* what cgminer answers to a command it lacks */
} FakeMiner;

static gboolean
on_fake_connection(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
                   gpointer user_data)
{
  FakeMiner *fake = user_data;
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
  char request[1024];
  gsize len = 0;
  while (len < sizeof(request) - 1) {
    gssize n = g_input_stream_read(in, request + len, sizeof(request) - 1 - len, NULL, NULL);
    if (n <= 0)
      break;
    len += n;
    request[len] = '\0';
    if (strchr(request, '}') != NULL)
      break;
  }
  request[len] = '\0';
  g_autoptr(JsonParser) parser = json_parser_new();
  const char *command = NULL;
  if (json_parser_load_from_data(parser, request, len, NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    command = am_json_string(json_node_get_object(json_parser_get_root(parser)), "command");
  GBytes *reply = command != NULL ? g_hash_table_lookup(fake->replies, command) : NULL;
  if (reply == NULL)
    reply = fake->unknown;
  gsize size = 0;
  const void *bytes = g_bytes_get_data(reply, &size);
  g_output_stream_write_all(out, bytes, size, NULL, NULL, NULL);
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  return TRUE;
}

static GSocketService *
fake_miner_start(FakeMiner *fake, guint16 *port)
{
  GSocketService *service = g_threaded_socket_service_new(4);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(service), any_port, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  *port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(service, "run", G_CALLBACK(on_fake_connection), fake);
  g_socket_service_start(service);
  return service;
}

static void
fake_miner_stop(GSocketService *service)
{
  g_socket_service_stop(service);
  g_socket_listener_close(G_SOCKET_LISTENER(service));
  g_object_unref(service);
}

static void
fake_miner_init(FakeMiner *fake)
{
  fake->replies =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_bytes_unref);
  static const char invalid[] =
      "{\"STATUS\":[{\"STATUS\":\"E\",\"When\":1605578750,\"Code\":14,\"Msg\":\"Invalid command\","
      "\"Description\":\"bmminer 1.0.0\"}],\"id\":1}";
  fake->unknown = g_bytes_new_static(invalid, sizeof(invalid)); /* NUL included */
}

static void
fake_miner_clear(FakeMiner *fake)
{
  g_hash_table_unref(fake->replies);
  g_bytes_unref(fake->unknown);
}

static const AmPluginInfo *
load_module(AmLoadedPlugin **plugin)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-antminer.so", NULL);
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

static AmSample *
poll_once(const AmPluginInfo *info, gpointer instance, guint16 port, GError **error)
{
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", port);
  am_miner_set_timeout_ms(miner, 5000);
  GAsyncResult *result = NULL;
  info->vtable.driver->poll_async(instance, miner, NULL, on_poll_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmSample *sample = info->vtable.driver->poll_finish(instance, result, error);
  g_object_unref(result);
  return sample;
}

static void
test_module(void)
{
  AmLoadedPlugin *plugin = NULL;
  const AmPluginInfo *info = load_module(&plugin);
  g_assert_cmpstr(info->name, ==, "antminer");
  g_assert_cmpint(info->kind, ==, AM_PLUGIN_KIND_DRIVER);

  /* sample.ini is the plugin's sample_config, and create() accepts it. */
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, info->sample_config, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  g_assert_true(g_key_file_has_key(kf, "driver:antminer", "estimate_power", NULL));
  gpointer instance = info->create(NULL, kf, "driver:antminer", &error);
  g_assert_no_error(error);
  g_assert_nonnull(instance);

  g_autoptr(JsonObject) version = am_test_fixture_object("bmminer/s9_version.json");
  AmFingerprint fp;
  fingerprint_from(&fp, version);
  g_assert_cmpint(info->vtable.driver->match(instance, &fp), ==, AM_MATCH_SUPPORTED);
  info->destroy(instance);

  /* A wrong value is a configuration error naming the key. */
  g_key_file_set_string(kf, "driver:antminer", "estimate_power", "maybe");
  g_assert_null(info->create(NULL, kf, "driver:antminer", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "estimate_power"));
  am_loaded_plugin_free(plugin);
}

/* The whole path: four commands to a fake S9 that lacks "summary"
 * (cgminer's "Invalid command" is an API error the glue leaves out). */
static void
test_module_poll(void)
{
  AmLoadedPlugin *plugin = NULL;
  const AmPluginInfo *info = load_module(&plugin);
  g_autoptr(GError) error = NULL;
  gpointer instance = info->create(NULL, NULL, "driver:antminer", &error);
  g_assert_no_error(error);

  FakeMiner fake;
  fake_miner_init(&fake);
  g_hash_table_insert(fake.replies, "version", am_test_fixture_bytes("bmminer/s9_version.json"));
  g_hash_table_insert(fake.replies, "stats", am_test_fixture_bytes("bmminer/s9_stats.json"));
  g_hash_table_insert(fake.replies, "pools", am_test_fixture_bytes("bmminer/s9_pools.json"));
  guint16 port = 0;
  GSocketService *service = fake_miner_start(&fake, &port);

  g_autoptr(AmSample) s = poll_once(info, instance, port, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s->model, ==, "Antminer S9");
  g_assert_cmpstr(s->firmware_version, ==, "V1.3.58");
  assert_close(s->hashrate_ths, 13.88381, "polled hashrate");
  g_assert_cmpuint(s->chains->len, ==, 3);
  g_assert_cmpuint(s->pools->len, ==, 2);
  g_assert_cmpint(s->accepted, ==, 22673);
  g_assert_false(s->partial);

  /* A "pools" reply that does not parse leaves the rest standing: the
   * sample is partial, names the command, and has no pools. */
  static const char garbage[] = "{\"STATUS\":[{\"STATUS\":\"S\"}],\"POOLS\":[{\x01\x02 <html>";
  g_hash_table_insert(fake.replies, "pools", g_bytes_new_static(garbage, sizeof(garbage) - 1));
  g_autoptr(AmSample) part = poll_once(info, instance, port, &error);
  g_assert_no_error(error);
  g_assert_true(part->partial);
  g_assert_cmpuint(part->problems->len, >, 0);
  g_assert_nonnull(strstr(g_ptr_array_index(part->problems, part->problems->len - 1), "pools"));
  g_assert_cmpuint(part->pools->len, ==, 0);
  assert_close(part->hashrate_ths, 13.88381, "hashrate beside a lost pools reply");
  g_hash_table_insert(fake.replies, "pools", am_test_fixture_bytes("bmminer/s9_pools.json"));

  /* Without "stats" there is nothing to report: a clear error naming the
   * miner. */
  g_hash_table_remove(fake.replies, "stats");
  g_autoptr(AmSample) none = poll_once(info, instance, port, &error);
  g_assert_null(none);
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_autofree char *address = g_strdup_printf("127.0.0.1:%u", port);
  g_assert_nonnull(strstr(error->message, address));
  g_clear_error(&error);

  fake_miner_stop(service);
  /* Nothing listens now: the transport's error comes through. */
  g_autoptr(AmSample) refused = poll_once(info, instance, port, &error);
  g_assert_null(refused);
  g_assert_nonnull(error);
  g_assert_true(error->domain == AM_ERROR);

  fake_miner_clear(&fake);
  info->destroy(instance);
  am_loaded_plugin_free(plugin);
}

/* The stock S19 Pro's RPC summary (SOURCES.md: s19pro_rpc-summary.json)
 * with the recorded S19 Pro stats: its totals, best share and found blocks
 * win over the sums of pools and chains. */
static void
test_s19pro_rpc_summary(void)
{
  g_autoptr(AmSample) s = parse_fixtures(NULL, "bmminer/s19pro_stats.json", NULL,
                                         "bmminer/s19pro_rpc-summary.json", NULL);
  g_assert_cmpint(s->accepted, ==, 4057);
  g_assert_cmpint(s->rejected, ==, 11);
  g_assert_cmpint(s->hw_errors, ==, 562);
  g_assert_cmpfloat(s->best_share, ==, 12904207043.0);
  g_assert_cmpint(s->found_blocks, ==, 0);
  /* STATS keeps precedence for rates and uptime (its own 82852 s). */
  g_assert_cmpint(s->elapsed_s, ==, 82852);
  assert_close(s->hashrate_ths, 110.78679, "hashrate_ths");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS(fixture_cases); i++) {
    g_autofree char *path = g_strdup_printf("/antminer/fixture/%s", fixture_cases[i].name);
    g_test_add_data_func(path, &fixture_cases[i], test_fixture);
  }
  g_test_add_func("/antminer/s19pro-rpc-summary", test_s19pro_rpc_summary);
  g_test_add_func("/antminer/extras/s9", test_extras_s9);
  g_test_add_func("/antminer/extras/s17pro", test_extras_s17);
  g_test_add_func("/antminer/extras/e3", test_extras_e3);
  g_test_add_func("/antminer/extras/vnish", test_extras_vnish);
  g_test_add_func("/antminer/power/hiveon-not-claimed", test_hiveon_power_not_claimed);
  g_test_add_func("/antminer/power/estimate-off", test_estimate_power_off);
  g_test_add_func("/antminer/identity/hiveon-s19jpro", test_identity_s19jpro_hiveon);
  g_test_add_func("/antminer/identity/d3-version", test_identity_d3_version);
  g_test_add_func("/antminer/models/table", test_model_table);
  for (gsize i = 0; i < G_N_ELEMENTS(match_cases); i++) {
    g_autofree char *path = g_strdup_printf("/antminer/match/%s", match_cases[i].fixture);
    g_test_add_data_func(path, &match_cases[i], test_match);
  }
  g_test_add_func("/antminer/match/partial-fingerprints", test_match_partial);
  g_test_add_func("/antminer/errors/no-stats", test_no_stats);
  g_test_add_func("/antminer/errors/no-data-block", test_no_data_block);
  g_test_add_func("/antminer/errors/access-denied", test_access_denied);
  g_test_add_func("/antminer/variations/zero-slots-skipped", test_zero_slots_skipped);
  g_test_add_func("/antminer/variations/failed-chips", test_failed_chips);
  g_test_add_func("/antminer/variations/stopped-fan", test_stopped_fan);
  g_test_add_func("/antminer/variations/hashrate-fallbacks", test_hashrate_fallbacks);
  g_test_add_func("/antminer/lost-keys", test_lost_keys);
  g_test_add_func("/antminer/variations/summary-counters", test_summary_counters);
  g_test_add_func("/antminer/variations/unknown-models", test_unknown_models);
  g_test_add_func("/antminer/variations/hydro-model", test_hydro_model);
  g_test_add_func("/antminer/module/create-and-match", test_module);
  g_test_add_func("/antminer/module/poll-fake-miner", test_module_poll);
  return g_test_run();
}
