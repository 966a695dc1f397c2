/* Tests of the epic driver: the parser table on the recorded replies in
 * tests/fixtures/epic/ (one Antminer S19 XP on UMC OS, PowerPlay-BMS
 * v1.5.13), field by field with values read by hand from the files, and
 * hand-made variations (marked HAND-MADE: an overlay of top-level /summary
 * members replaced, added or, with null, removed); bodies a broken or
 * foreign server gives; match() on fingerprints; and the built module
 * against an in-process SoupServer on 127.0.0.1:0 that serves the same
 * files the way PowerPlay does (open reads, no login). */
#include "../common/am-driver-test-util.h"
#include "am-epic-parse.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"

#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#define U AM_UNKNOWN
#define FIXTURE_DIR "fixtures/epic/"

/* ---- the recorded replies, by path -------------------------------------- */

typedef enum {
  R_SUMMARY,
  R_CAPABILITIES,
  R_TEMPS,
  R_NETWORK,
  R_HASHRATE,
  R_CHIP_TEMPS,
  N_R,
} Reply;

static const struct {
  const char *path;
  const char *file;
} recorded[N_R] = {
    [R_SUMMARY] = {AM_EPIC_SUMMARY_PATH, "asicrs-v1_summary.json"},
    [R_CAPABILITIES] = {AM_EPIC_CAPABILITIES_PATH, "asicrs-v1_capabilities.json"},
    [R_TEMPS] = {AM_EPIC_TEMPS_PATH, "asicrs-v1_temps.json"},
    [R_NETWORK] = {AM_EPIC_NETWORK_PATH, "asicrs-v1_network.json"},
    [R_HASHRATE] = {AM_EPIC_HASHRATE_PATH, "asicrs-v1_chip_hashrates.json"},
    [R_CHIP_TEMPS] = {AM_EPIC_CHIP_TEMPS_PATH, "asicrs-v1_chip_temps.json"},
};

static char *
fixture_text(Reply r, gsize *len)
{
  g_autofree char *rel = g_strconcat(FIXTURE_DIR, recorded[r].file, NULL);
  g_autofree char *path = am_test_path(rel);
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, len, &error))
    g_error("fixture %s: %s", path, error->message);
  return text;
}

/* The recorded reply through the module's own reader. (transfer full) */
static JsonNode *
fixture_node(Reply r)
{
  gsize len = 0;
  g_autofree char *text = fixture_text(r, &len);
  g_autoptr(GError) error = NULL;
  JsonNode *node = am_epic_parse_body(recorded[r].path, text, len, &error);
  g_assert_no_error(error);
  return node;
}

static void
overlay_member(JsonObject *overlay, const char *name, JsonNode *node, gpointer user_data)
{
  JsonObject *target = user_data;
  if (JSON_NODE_HOLDS_NULL(node))
    json_object_remove_member(target, name);
  else
    json_object_set_member(target, name, json_node_copy(node));
}

/* One poll's replies: the recorded ones, /summary with @overlay applied,
 * minus those in @drop (a bit per Reply). */
typedef struct {
  JsonNode *nodes[N_R];
  AmEpicReplies r;
} Replies;

static void
replies_load(Replies *x, const char *overlay, guint drop, const char *network)
{
  memset(x, 0, sizeof(*x));
  for (guint i = 0; i < N_R; i++)
    if (!(drop & (1u << i)))
      x->nodes[i] = fixture_node((Reply)i);
  if (network != NULL && x->nodes[R_NETWORK] != NULL) {
    json_node_unref(x->nodes[R_NETWORK]);
    x->nodes[R_NETWORK] =
        json_node_init_object(json_node_alloc(), am_test_object_from_string(network));
    json_object_unref(json_node_get_object(x->nodes[R_NETWORK]));
  }
  JsonObject *summary = json_node_get_object(x->nodes[R_SUMMARY]);
  if (overlay != NULL) {
    g_autoptr(JsonObject) edits = am_test_object_from_string(overlay);
    json_object_foreach_member(edits, overlay_member, summary);
  }
#define OBJ(i) (x->nodes[i] != NULL ? json_node_get_object(x->nodes[i]) : NULL)
#define ARR(i) (x->nodes[i] != NULL ? json_node_get_array(x->nodes[i]) : NULL)
  x->r = (AmEpicReplies){.summary = summary,
                         .capabilities = OBJ(R_CAPABILITIES),
                         .temps = ARR(R_TEMPS),
                         .network = OBJ(R_NETWORK),
                         .hashrate = ARR(R_HASHRATE),
                         .chip_temps = ARR(R_CHIP_TEMPS)};
#undef OBJ
#undef ARR
}

static void
replies_clear(Replies *x)
{
  for (guint i = 0; i < N_R; i++)
    if (x->nodes[i] != NULL)
      json_node_unref(x->nodes[i]);
}

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

static void
assert_problems(AmSample *s, const char *const *expected)
{
  guint n = 0;
  for (; expected[n] != NULL; n++) {
    gboolean found = FALSE;
    for (guint i = 0; i < s->problems->len && !found; i++)
      found = g_str_equal(s->problems->pdata[i], expected[n]);
    if (!found)
      g_error("problem '%s' missing", expected[n]);
  }
  if (s->problems->len != n) {
    for (guint i = 0; i < s->problems->len; i++)
      g_printerr("problem: %s\n", (char *)s->problems->pdata[i]);
    g_error("expected %u problems, got %u", n, s->problems->len);
  }
}

static void
assert_prefix(const char *message, const char *prefix)
{
  if (!g_str_has_prefix(message, prefix))
    g_error("expected '%s...', got '%s'", prefix, message);
}

/* ---- the fixture table -------------------------------------------------- */

/* Values read by hand from tests/fixtures/epic/: */
#define MAC "e6:d4:41:51:64:28" /* network.dhcp.mac_address */
#define BOARD1_THS 49.440724    /* HBs[0].Hashrate[0] 49440724.0 MH/s */
#define BOARD2_THS 49.925124    /* HBs[1].Hashrate[0] 49925124.0 MH/s */
#define TOTAL_THS 99.365848     /* their sum */
#define AVG_THS 90.07199        /* Session."Average MHs" 90071990.0 */
#define POWER 2166.6174         /* "Power Supply Stats"."Input Power" */
#define POOL "stratum+tcp://mine.ocean.xyz:3334"
#define WORKER "randomuser.randomworker-0x81x19" /* Stratum."Current User" */
#define LOGIN "randomuser.randomworker"          /* StratumConfigs[0].login */
#define SERIAL1 "YNAHYPDBCJEBC0D6S"
#define SERIAL2 "YNAHYPDBCJEBC0C6R"

typedef struct {
  const char *name;
  /* inputs */
  const char *overlay; /* on /summary */
  guint drop;          /* replies left out, 1 << Reply */
  const char *network; /* instead of the recorded /network */
  /* what a user sees */
  const char *model, *mac;
  double hashrate_ths, ideal_ths, power_w, power_limit_w;
  AmMiningState mining;
  const char *work_mode;
  gint chips; /* per board, from /hashrate */
  gint n_serials;
  const char *pool_status;
  gboolean partial;
  const char *status; /* "ok" or "degraded" */
  const char *problems[8];
  /* the firmware's errors beyond the disabled board 0 (code, message) */
  const char *error_code, *error_message;
  AmErrorSeverity error_severity;
} Case;

#define FANS "3 of 4 fans spinning"
#define SLOW "hashrate 69% of ideal" /* 99.37 of 143 TH/s */
#define ALL_OPTIONAL                                                                               \
  (1u << R_CAPABILITIES | 1u << R_TEMPS | 1u << R_NETWORK | 1u << R_HASHRATE | 1u << R_CHIP_TEMPS)

static const Case cases[] = {
    {
        .name = "recorded",
        .model = "Antminer S19 XP",
        .mac = MAC,
        .hashrate_ths = TOTAL_THS,
        .ideal_ths = 143, /* PerpetualTune VoltageOptimizer Target, TH/s */
        .power_w = POWER,
        .power_limit_w = NAN,
        .mining = AM_MINING_HASHING,
        .work_mode = "VoltageOptimizer",
        .chips = 110,
        .n_serials = 2,
        .pool_status = "Alive",
        .status = "degraded",
        /* fan 2 reads 0 RPM; board 0 is disabled, so two boards do 69 % */
        .problems = {FANS, SLOW},
    },
    {
        /* Only /summary came: every other reply is missing, named. */
        .name = "summary only",
        .drop = ALL_OPTIONAL,
        .hashrate_ths = TOTAL_THS,
        .ideal_ths = 143,
        .power_w = POWER,
        .power_limit_w = NAN,
        .mining = AM_MINING_HASHING,
        .work_mode = "VoltageOptimizer",
        .chips = U,
        .pool_status = "Alive",
        .partial = TRUE,
        .status = "degraded",
        .problems = {"/capabilities: no reply", "/temps: no reply", "/network: no reply",
                     "/hashrate: no reply", "/temps/chip: no reply", FANS, SLOW},
    },
    {
        /* HAND-MADE: the tuner stopped: the ideal is the model's stock
         * "Default Hashrate" (143 TH/s as well). */
        .name = "no tuner",
        .overlay = "{\"PerpetualTune\":{\"Running\":false,\"Algorithm\":{}}}",
        .model = "Antminer S19 XP",
        .mac = MAC,
        .hashrate_ths = TOTAL_THS,
        .ideal_ths = 143,
        .power_w = POWER,
        .power_limit_w = NAN,
        .mining = AM_MINING_HASHING,
        .chips = 110,
        .n_serials = 2,
        .pool_status = "Alive",
        .status = "degraded",
        .problems = {FANS, SLOW},
    },
    {
        /* HAND-MADE: the power tuner: its Target is a power limit in W. */
        .name = "power tuner",
        .overlay = "{\"PerpetualTune\":{\"Running\":true,\"Algorithm\":{\"Power\":{\"Target\":"
                   "3000,\"Unit\":\"W\",\"Optimized\":true}}}}",
        .model = "Antminer S19 XP",
        .mac = MAC,
        .hashrate_ths = TOTAL_THS,
        .ideal_ths = 143, /* capabilities."Default Hashrate" */
        .power_w = POWER,
        .power_limit_w = 3000,
        .mining = AM_MINING_HASHING,
        .work_mode = "Power",
        .chips = 110,
        .n_serials = 2,
        .pool_status = "Alive",
        .status = "degraded",
        .problems = {FANS, SLOW},
    },
    {
        /* HAND-MADE: stopped by the owner (POST /miner Stop): no alert. */
        .name = "idling",
        .overlay = "{\"Status\":{\"Operating State\":\"Idling\",\"Last Error\":null},"
                   "\"HBs\":[]}",
        .model = "Antminer S19 XP",
        .mac = MAC,
        .hashrate_ths = 0,
        .ideal_ths = 143,
        .power_w = POWER,
        .power_limit_w = NAN,
        .mining = AM_MINING_PAUSED,
        .work_mode = "VoltageOptimizer",
        .chips = U,
        .pool_status = "Alive",
        .status = "ok",
        .problems = {NULL},
    },
    {
        /* HAND-MADE: idle because the pool is gone (IdleOnConnectionLost):
         * a fault, with the firmware's last error as an error. */
        .name = "idle without pool",
        .overlay = "{\"Status\":{\"Operating State\":\"Idling\",\"Last Error\":"
                   "\"NoNewWorkError\"},\"HBs\":[],\"Stratum\":{\"Config Id\":0,"
                   "\"Current Pool\":\"mine.ocean.xyz:3334\",\"Current User\":\"" WORKER "\","
                   "\"IsPoolConnected\":false}}",
        .model = "Antminer S19 XP",
        .mac = MAC,
        .hashrate_ths = 0,
        .ideal_ths = 143,
        .power_w = POWER,
        .power_limit_w = NAN,
        .mining = AM_MINING_UNKNOWN,
        .work_mode = "VoltageOptimizer",
        .chips = U,
        .pool_status = "Dead",
        .status = "degraded",
        .problems = {"idling: no pool connection", "error NoNewWorkError", "0 of 2 chains present",
                     FANS, "hashrate 0% of ideal"},
        .error_code = "NoNewWorkError",
        .error_severity = AM_ERROR_SEVERITY_ERROR,
    },
    {
        /* HAND-MADE: a past error with details while mining: a warning. */
        .name = "last error while mining",
        .overlay = "{\"Status\":{\"Operating State\":\"Mining\",\"Last Error\":"
                   "{\"MinimumFansError\":3}}}",
        .model = "Antminer S19 XP",
        .mac = MAC,
        .hashrate_ths = TOTAL_THS,
        .ideal_ths = 143,
        .power_w = POWER,
        .power_limit_w = NAN,
        .mining = AM_MINING_HASHING,
        .work_mode = "VoltageOptimizer",
        .chips = 110,
        .n_serials = 2,
        .pool_status = "Alive",
        .status = "degraded",
        .problems = {FANS, SLOW},
        .error_code = "MinimumFansError",
        .error_message = "3",
        .error_severity = AM_ERROR_SEVERITY_WARNING,
    },
    {
        /* HAND-MADE: a static address, written as PowerPlay's POST takes it. */
        .name = "static network",
        .network = "{\"static\":{\"address\":\"10.0.81.19\",\"netmask\":\"255.255.255.0\","
                   "\"gateway\":\"10.0.81.1\",\"dns\":\"8.8.8.8\",\"mac_address\":"
                   "\"E2:FA:20:0A:43:1D\"}}",
        .model = "Antminer S19 XP",
        .mac = "e2:fa:20:0a:43:1d",
        .hashrate_ths = TOTAL_THS,
        .ideal_ths = 143,
        .power_w = POWER,
        .power_limit_w = NAN,
        .mining = AM_MINING_HASHING,
        .work_mode = "VoltageOptimizer",
        .chips = 110,
        .n_serials = 2,
        .pool_status = "Alive",
        .status = "degraded",
        .problems = {FANS, SLOW},
    },
};

/* Every case: the same unit, so identity, session and cooling are fixed. */
static void
assert_common(AmSample *s)
{
  g_assert_cmpstr(s->driver, ==, "epic");
  g_assert_cmpstr(s->firmware, ==, "ePIC UMC OS");
  g_assert_cmpstr(s->firmware_version, ==, "PowerPlay-BMS v1.5.13");
  g_assert_cmpstr(s->hostname, ==, "cminer32092035");
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  g_assert_null(s->serial);
  assert_close(s->hashrate_avg_ths, AVG_THS, "hashrate avg");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  assert_close(s->psu_power_in_w, POWER, "psu in");
  assert_close(s->psu_power_out_w, NAN, "psu out"); /* "Output Power" 0.0 */
  g_assert_cmpint(s->elapsed_s, ==, 23170);
  g_assert_cmpint(s->accepted, ==, 1862);
  g_assert_cmpint(s->rejected, ==, 2);
  g_assert_cmpint(s->hw_errors, ==, U);
  /* "Fans Speed 1..4" = 5971, 0, 5942, 5745; 5..12 null */
  const double fans[] = {5971, 5942, 5745};
  assert_doubles(s->fans_rpm, fans, G_N_ELEMENTS(fans), "fans");
  g_assert_cmpint(s->fans_expected, ==, 4);
  g_assert_false(s->liquid_cooled);
  /* HBStatus: board 0 detected, disabled; boards 1 and 2 enabled */
  g_assert_cmpint(s->chains_expected, ==, 2);
  assert_close(s->water_temp_in_c, NAN, "water in");
  assert_close(s->best_share, NAN, "best share");
  g_assert_cmpint(s->found_blocks, ==, U);
  g_assert_null(s->psu_serial);
}

/* The two hashing boards of the recorded /summary (when HBs is kept). */
static void
assert_boards(AmSample *s, const Case *c)
{
  g_assert_cmpuint(s->chains->len, ==, 2);
  const double ths[] = {BOARD1_THS, BOARD2_THS};
  const double temps[] = {67.0, 64.312}; /* HBs[].Temperature */
  const char *serials[] = {SERIAL1, SERIAL2};
  for (guint i = 0; i < 2; i++) {
    const AmChain *chain = &g_array_index(s->chains, AmChain, i);
    g_autofree char *what = g_strdup_printf("chain %u", i);
    g_assert_cmpint(chain->index, ==, (gint)i + 1);
    assert_close(chain->hashrate_ths, ths[i], what);
    assert_close(chain->frequency_mhz, 487.5, "Core Clock Avg");
    assert_close(chain->voltage_v, 12.6, "Input Voltage");
    assert_close(chain->power_w, NAN, "board power"); /* "Input Power" 0.0 */
    assert_close(chain->temp_board_c, temps[i], "board temp");
    /* /temps/chip is all 0.0: this model has board sensors only */
    assert_close(chain->temp_chip_c, NAN, "chip temp");
    assert_close(chain->temp_inlet_c, NAN, "inlet");
    assert_close(chain->temp_outlet_c, NAN, "outlet");
    /* /hashrate: 110 rows per board, none at 0 MH/s */
    g_assert_cmpint(chain->chips, ==, c->chips);
    g_assert_cmpint(chain->chips_ok, ==, c->chips);
    g_assert_cmpint(chain->chips_failed, ==, c->chips == U ? U : 0);
    g_assert_cmpint(chain->chips_expected, ==, U);
    g_assert_cmpint(chain->hw_errors, ==, U);
    const char *serial =
        i < s->chain_serials->len ? (const char *)s->chain_serials->pdata[i] : NULL;
    g_assert_cmpstr(serial, ==, c->n_serials == 2 ? serials[i] : NULL);
  }
  assert_doubles(s->temps_c, temps, 2, "board temps");
  g_assert_cmpuint(s->chip_temps_c->len, ==, 0);
}

static void
assert_errors(AmSample *s, const Case *c)
{
  guint n = c->error_code != NULL ? 2 : 1;
  g_assert_cmpuint(s->errors->len, ==, n);
  const AmMinerError *board = s->errors->pdata[0];
  g_assert_null(board->code);
  g_assert_cmpstr(board->message, ==, "hashboard 0 is detected but disabled");
  g_assert_cmpstr(board->component, ==, "hashboard 0");
  g_assert_cmpint(board->severity, ==, AM_ERROR_SEVERITY_WARNING);
  if (c->error_code == NULL)
    return;
  const AmMinerError *e = s->errors->pdata[1];
  g_assert_cmpstr(e->code, ==, c->error_code);
  g_assert_cmpstr(e->message, ==, c->error_message);
  g_assert_null(e->component);
  g_assert_cmpint(e->severity, ==, c->error_severity);
}

static void
assert_case(AmSample *s, const Case *c)
{
  assert_common(s);
  g_assert_cmpstr(s->model, ==, c->model);
  g_assert_cmpstr(s->mac, ==, c->mac);
  assert_close(s->hashrate_ths, c->hashrate_ths, "hashrate");
  assert_close(s->hashrate_ideal_ths, c->ideal_ths, "hashrate ideal");
  assert_close(s->power_w, c->power_w, "power");
  assert_close(s->power_limit_w, c->power_limit_w, "power limit");
  g_assert_cmpint(s->mining, ==, c->mining);
  g_assert_cmpstr(s->work_mode, ==, c->work_mode);
  if (c->hashrate_ths > 0)
    assert_boards(s, c);
  else
    g_assert_cmpuint(s->chains->len, ==, 0);
  g_assert_cmpuint(s->pools->len, ==, 1);
  /* the session's shares are the sample's, not the pool's; the user is
   * the configured login (Current User is an extra) */
  am_test_assert_pool(s->pools->pdata[0], POOL, LOGIN, c->pool_status, 0, U, U, U, TRUE);
  assert_errors(s, c);
  g_assert_cmpint(s->partial, ==, c->partial);
  g_assert_cmpstr(s->status == AM_SAMPLE_STATUS_DEGRADED ? "degraded" : "ok", ==, c->status);
  assert_problems(s, c->problems);
}

static AmSample *
parse_case(const Case *c)
{
  Replies x;
  replies_load(&x, c->overlay, c->drop, c->network);
  g_autoptr(GError) error = NULL;
  AmSample *s = am_epic_parse(&x.r, &error);
  g_assert_no_error(error);
  replies_clear(&x);
  am_sample_finish(s);
  return s;
}

static void
test_fixture_case(gconstpointer data)
{
  g_autoptr(AmSample) s = parse_case(data);
  assert_case(s, data);
}

/* x_epic_* extras of the recorded unit. */
static void
test_extras(void)
{
  g_autoptr(AmSample) s = parse_case(&cases[0]);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_epic_os_type")), ==, "umcOS");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_epic_operating_state")), ==, "Mining");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_epic_chip_type")), ==, "BM1366");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_epic_model_subtype")), ==, "BHB56801");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_epic_control_board_serial")), ==,
                  "002000353232510933363631");
  assert_close(json_node_get_double(am_test_extra(s, "x_epic_shutdown_temp_c")), 85, "shutdown");
  assert_close(json_node_get_double(am_test_extra(s, "x_epic_critical_temp_c")), 100, "critical");
  g_assert_false(json_node_get_boolean(am_test_extra(s, "x_epic_locate")));
  assert_close(json_node_get_double(am_test_extra(s, "x_epic_preset_target_power_w")), 3000,
               "preset");
  assert_close(json_node_get_double(am_test_extra(s, "x_epic_pool_latency_s")), 0.038288616,
               "latency");
  assert_close(json_node_get_double(am_test_extra(s, "x_epic_psu_output_voltage_v")), 12.595,
               "psu volts");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_epic_current_user")), ==, WORKER);
  g_assert_cmpuint(json_object_get_size(s->extras), ==, 12);
  /* what the API prints for the ABI 1.2 fields */
  g_autoptr(JsonNode) node = am_sample_to_json(s);
  JsonObject *json = json_node_get_object(node);
  g_assert_cmpstr(json_object_get_string_member(json, "mining"), ==, "hashing");
  g_assert_cmpstr(json_object_get_string_member(json, "work_mode"), ==, "VoltageOptimizer");
}

/* Replaces row @i of board @pos's /hashrate Data (order does not
 * matter for the counts) with @row. */
static void
replace_chip_row(JsonArray *hashrate, guint pos, guint i, JsonArray *row)
{
  JsonArray *rows =
      json_object_get_array_member(json_array_get_object_element(hashrate, pos), "Data");
  json_array_remove_element(rows, i);
  json_array_add_array_element(rows, row);
}

static JsonArray *
row_of(double mhs, const char *text)
{
  JsonArray *row = json_array_new();
  if (text != NULL)
    json_array_add_string_element(row, text);
  else
    json_array_add_double_element(row, mhs);
  json_array_add_double_element(row, 0.0);
  json_array_add_double_element(row, 0.0);
  return row;
}

/* HAND-MADE: a board whose summary temperature is null (PowerPlay's schema
 * allows it) takes the hottest /temps sensor; an unreadable board hashrate
 * makes the total unknown, named; a chip sensor; a chip at 0 MH/s is found
 * but failed, a row without a number is neither. */
static void
test_board_variations(void)
{
  Replies x;
  replies_load(&x, NULL, 0, NULL);
  JsonArray *hbs = json_object_get_array_member(x.r.summary, "HBs");
  json_object_set_null_member(json_array_get_object_element(hbs, 0), "Temperature");
  json_object_set_string_member(json_array_get_object_element(hbs, 1), "Hashrate", "lots");
  JsonArray *chip2 =
      json_object_get_array_member(json_array_get_object_element(x.r.chip_temps, 1), "Data");
  json_array_remove_element(chip2, 5);
  json_array_add_double_element(chip2, 71.5);
  replace_chip_row(x.r.hashrate, 0, 0, row_of(0, "n/a"));
  replace_chip_row(x.r.hashrate, 1, 3, row_of(0.0, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_epic_parse(&x.r, &error);
  g_assert_no_error(error);
  /* /temps Index 1: [55.062, 67.0] */
  const AmChain *one = &g_array_index(s->chains, AmChain, 0);
  assert_close(one->temp_board_c, 67.0, "board 1 from /temps");
  assert_close(one->hashrate_ths, BOARD1_THS, "board 1");
  g_assert_cmpint(one->chips, ==, 110);
  g_assert_cmpint(one->chips_ok, ==, 109);
  g_assert_cmpint(one->chips_failed, ==, 0);
  const AmChain *two = &g_array_index(s->chains, AmChain, 1);
  assert_close(two->hashrate_ths, NAN, "board 2");
  assert_close(two->temp_chip_c, 71.5, "board 2 chip");
  g_assert_cmpint(two->chips, ==, 110);
  g_assert_cmpint(two->chips_ok, ==, 109);
  g_assert_cmpint(two->chips_failed, ==, 1);
  assert_close(s->hashrate_ths, NAN, "total");
  const double chips[] = {71.5};
  assert_doubles(s->chip_temps_c, chips, 1, "chip temps");
  const char *problems[] = {"/summary: board 2: no usable Hashrate", NULL};
  assert_problems(s, problems);
  replies_clear(&x);
}

/* When board serials and hashing boards differ in number, which serial is
 * whose is unknown: none is given. */
static void
test_serial_mismatch(void)
{
  Replies x;
  replies_load(&x, NULL, 0, NULL);
  JsonArray *serials = json_object_get_array_member(x.r.capabilities, "Board Serial Numbers");
  json_array_add_string_element(serials, "THIRD");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_epic_parse(&x.r, &error);
  g_assert_no_error(error);
  for (guint i = 0; i < s->chain_serials->len; i++)
    g_assert_null(s->chain_serials->pdata[i]);
  replies_clear(&x);
}

/* Removes @key from every object of the array @name of @summary. */
static void
drop_in_each(JsonObject *summary, const char *name, const char *key)
{
  JsonArray *list = json_object_get_array_member(summary, name);
  for (guint i = 0; i < json_array_get_length(list); i++)
    json_object_remove_member(json_array_get_object_element(list, i), key);
}

/* HAND-MADE: keys a firmware update could lose make readings unknown,
 * never another value (tests/drift/). Without HBs[].Index the running
 * boards are HBStatus's enabled slots 1 and 2 in order (as many as HBs);
 * without HBStatus[].Index its entries are slots 0, 1, 2 in order; with
 * neither count agreeing, the slots are unknown. Without Stratum the pool
 * in use is unknown, its user still the login. */
static void
test_lost_keys(void)
{
  Replies x;
  replies_load(&x, NULL, 0, NULL);
  drop_in_each(x.r.summary, "HBs", "Index");
  drop_in_each(x.r.summary, "HBStatus", "Index");
  json_object_remove_member(x.r.summary, "Stratum");
  g_autoptr(AmSample) s = am_epic_parse(&x.r, NULL);
  g_assert_cmpuint(s->chains->len, ==, 2);
  g_assert_cmpint(g_array_index(s->chains, AmChain, 0).index, ==, 1);
  g_assert_cmpint(g_array_index(s->chains, AmChain, 1).index, ==, 2);
  /* the slot found, /hashrate's rows are found too: 110 per board */
  g_assert_cmpint(g_array_index(s->chains, AmChain, 1).chips, ==, 110);
  const AmMinerError *board = s->errors->pdata[0];
  g_assert_cmpstr(board->message, ==, "hashboard 0 is detected but disabled");
  g_assert_cmpstr(board->component, ==, "hashboard 0");
  am_test_assert_pool(s->pools->pdata[0], POOL, LOGIN, NULL, 0, U, U, U, FALSE);
  g_assert_false(json_object_has_member(s->extras, "x_epic_current_user"));

  /* A third slot enabled: three slots for two boards, which is which is
   * unknown. */
  JsonArray *status = json_object_get_array_member(x.r.summary, "HBStatus");
  json_object_set_boolean_member(json_array_get_object_element(status, 0), "Enabled", TRUE);
  g_autoptr(AmSample) t = am_epic_parse(&x.r, NULL);
  g_assert_cmpuint(t->chains->len, ==, 2);
  for (guint i = 0; i < 2; i++) {
    const AmChain *c = &g_array_index(t->chains, AmChain, i);
    g_assert_cmpint(c->index, ==, U);
    g_assert_cmpint(c->chips, ==, U);
    assert_close(c->temp_board_c, i == 0 ? 67.0 : 64.312, "HBs[].Temperature");
  }
  replies_clear(&x);
}

/* The bodies a broken or foreign server gives. */
static void
test_bad_bodies(void)
{
  static const struct {
    const char *body;
    const char *prefix;
  } bad[] = {
      {"", "/summary: empty reply"},
      {"<html><body>captive portal</body></html>", "/summary: not JSON: "},
      {"{\"HBs\": [", "/summary: not JSON: "},
      {"{\"a\":1}\0{}", "/summary: not JSON: a NUL byte at offset 7"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    gsize len = i == 3 ? 10 : strlen(bad[i].body);
    g_autoptr(JsonNode) node = am_epic_parse_body(AM_EPIC_SUMMARY_PATH, bad[i].body, len, &error);
    g_assert_null(node);
    g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
    assert_prefix(error->message, bad[i].prefix);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) array = am_epic_parse_body(AM_EPIC_SUMMARY_PATH, "[1]", 3, &error);
  g_assert_no_error(error);
  g_assert_null(am_epic_root_object(AM_EPIC_SUMMARY_PATH, array, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_assert_cmpstr(error->message, ==, "/summary: not a JSON object");
  g_clear_error(&error);
  g_autoptr(JsonNode) object = am_epic_parse_body(AM_EPIC_TEMPS_PATH, "{}", 2, &error);
  g_assert_null(am_epic_root_array(AM_EPIC_TEMPS_PATH, object, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_assert_cmpstr(error->message, ==, "/temps: not a JSON array");
}

/* No /summary, or an object from some other API: clear errors. */
static void
test_errors(void)
{
  g_autoptr(GError) error = NULL;
  AmEpicReplies none = {0};
  g_assert_null(am_epic_parse(&none, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_cmpstr(error->message, ==, "no /summary reply");
  g_clear_error(&error);
  g_autoptr(JsonObject) foreign = am_test_object_from_string("{\"status\":\"ok\"}");
  AmEpicReplies other = {.summary = foreign};
  g_assert_null(am_epic_parse(&other, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  assert_prefix(error->message, "/summary: not a PowerPlay reply");
  g_clear_error(&error);
  /* A minimal /summary: everything unknown, nothing invented. */
  g_autoptr(JsonObject) bare = am_test_object_from_string("{\"Software\":\"PowerPlay-BMS\"}");
  AmEpicReplies minimal = {.summary = bare,
                           .capabilities = bare,
                           .network = bare,
                           .temps = NULL,
                           .temps_error = "127.0.0.1:4028: HTTP 404 Not Found from /temps"};
  g_autoptr(AmSample) s = am_epic_parse(&minimal, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  assert_close(s->hashrate_ths, NAN, "hashrate");
  assert_close(s->hashrate_avg_ths, NAN, "avg");
  assert_close(s->hashrate_ideal_ths, NAN, "ideal");
  assert_close(s->power_w, NAN, "power");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_cmpint(s->elapsed_s, ==, U);
  g_assert_cmpint(s->accepted, ==, U);
  g_assert_cmpint(s->fans_expected, ==, U);
  g_assert_cmpint(s->chains_expected, ==, U);
  g_assert_cmpint(s->mining, ==, AM_MINING_UNKNOWN);
  g_assert_null(s->model);
  g_assert_null(s->mac);
  g_assert_null(s->work_mode);
  g_assert_cmpuint(s->pools->len, ==, 0);
  g_assert_true(s->partial);
  const char *problems[] = {"/summary: no HBs", "127.0.0.1:4028: HTTP 404 Not Found from /temps",
                            "/hashrate: no reply", "/temps/chip: no reply", NULL};
  assert_problems(s, problems);
}

/* match() on the fingerprints the core makes. */
static void
test_match(void)
{
  static const char page[] = "<!DOCTYPE html><html><head><title>Miner Web Dashboard</title>";
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint)};
  g_assert_cmpint(am_epic_match(NULL), ==, AM_MATCH_UNSUPPORTED);
  g_assert_cmpint(am_epic_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  /* HTTP on 4028 with ePIC's page: certain */
  fp = (AmFingerprint){.struct_size = sizeof(AmFingerprint),
                       .rpc_open = TRUE,
                       .http_open = TRUE,
                       .http_on_rpc_port = TRUE,
                       .http_status = 200,
                       .http_port = 4028,
                       .http_title = "Miner Web Dashboard",
                       .http_body = page};
  g_assert_cmpint(am_epic_match(&fp), ==, AM_MATCH_SUPPORTED);
  fp.http_title = NULL;
  g_assert_cmpint(am_epic_match(&fp), ==, AM_MATCH_SUPPORTED); /* the body names it */
  fp.http_body = "<html>something else</html>";
  g_assert_cmpint(am_epic_match(&fp), ==, AM_MATCH_MAYBE);
  fp.http_server = "ePIC PowerPlay";
  g_assert_cmpint(am_epic_match(&fp), ==, AM_MATCH_SUPPORTED);
  fp.http_server = NULL;
  /* the page on another port: likely; no ePIC name and no 4028: no */
  fp.http_on_rpc_port = FALSE;
  fp.http_port = 80;
  fp.http_title = "Miner Web Dashboard";
  g_assert_cmpint(am_epic_match(&fp), ==, AM_MATCH_LIKELY);
  fp.http_title = "AxeOS";
  g_assert_cmpint(am_epic_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  /* a cgminer "version" reply on 4028: not PowerPlay, whatever the page */
  g_autoptr(GPtrArray) versions = am_test_version_fixtures();
  g_assert_cmpuint(versions->len, >, 0);
  for (guint i = 0; i < versions->len; i++) {
    g_autoptr(JsonObject) reply = am_test_fixture_object(versions->pdata[i]);
    AmFingerprint v;
    am_test_fingerprint_init(&v, reply);
    v.http_open = TRUE;
    v.http_title = "Miner Web Dashboard";
    if (v.version != NULL)
      g_assert_cmpint(am_epic_match(&v), ==, AM_MATCH_UNSUPPORTED);
  }
}

/* ---- the module against a local PowerPlay ------------------------------- */

typedef struct {
  SoupServer *server;
  guint16 port;
  guint status[N_R];       /* 0: 200 with the recorded reply */
  const char *bodies[N_R]; /* instead of the recorded reply */
  gboolean hang;           /* answer nothing, ever */
  gboolean deny;           /* 401 to everything, as a proxy asking a login */
  guint requests[N_R];
  guint with_credentials; /* requests that carried an Authorization header */
  GPtrArray *paused;      /* SoupServerMessage* held by hang */
} FakeEpic;

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer user_data)
{
  FakeEpic *fake = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
  if (soup_message_headers_get_one(headers, "Authorization") != NULL)
    fake->with_credentials++;
  if (fake->hang) {
    soup_server_message_pause(msg);
    g_ptr_array_add(fake->paused, g_object_ref(msg));
    return;
  }
  if (fake->deny) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                                 "Basic realm=\"proxy\"");
    soup_server_message_set_status(msg, SOUP_STATUS_UNAUTHORIZED, NULL);
    return;
  }
  if (g_str_equal(path, "/")) {
    gsize len = 0;
    g_autofree char *rel = am_test_path("fakeminer/profiles/epic-umc/index.html");
    char *page = NULL;
    g_assert_true(g_file_get_contents(rel, &page, &len, NULL));
    soup_server_message_set_response(msg, "text/html", SOUP_MEMORY_TAKE, page, len);
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    return;
  }
  for (guint i = 0; i < N_R; i++) {
    if (!g_str_equal(path, recorded[i].path))
      continue;
    fake->requests[i]++;
    if (fake->status[i] != 0) {
      soup_server_message_set_status(msg, fake->status[i], NULL);
      return;
    }
    gsize len = 0;
    char *text = fake->bodies[i] != NULL ? g_strdup(fake->bodies[i]) : fixture_text(i, &len);
    if (fake->bodies[i] != NULL)
      len = strlen(text);
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, len);
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    return;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
fake_start(FakeEpic *fake)
{
  *fake = (FakeEpic){.paused = g_ptr_array_new_with_free_func(g_object_unref)};
  fake->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(fake->server, NULL, serve, fake, NULL);
  fake->port = am_test_soup_listen_loopback(fake->server);
}

static void
fake_stop(FakeEpic *fake)
{
  am_test_soup_stop(fake->server, fake->paused);
}

/* One driver instance, as the daemon holds it across polls. */
typedef struct {
  AmLoadedPlugin *plugin;
  const AmPluginInfo *info;
  gpointer self;
} Driver;

static void
driver_open(Driver *d, const char *ini)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-epic.so", NULL);
  g_autoptr(GError) error = NULL;
  d->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  d->info = d->plugin->info;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (ini != NULL)
    g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  d->self = d->info->create(NULL, ini != NULL ? kf : NULL, "driver:epic", &error);
  g_assert_no_error(error);
}

static void
driver_close(Driver *d)
{
  d->info->destroy(d->self);
  am_loaded_plugin_free(d->plugin);
}

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref(result);
}

static AmSample *
driver_poll(Driver *d, AmMiner *miner, GCancellable *cancellable, GError **error)
{
  GAsyncResult *result = NULL;
  d->info->vtable.driver->poll_async(d->self, miner, cancellable, on_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmSample *sample = d->info->vtable.driver->poll_finish(d->self, result, error);
  g_object_unref(result);
  return sample;
}

/* Polls @miner once with a driver made from @ini (NULL: defaults). */
static AmSample *
poll_once(const char *ini, AmMiner *miner, GError **error)
{
  Driver d;
  driver_open(&d, ini);
  AmSample *sample = driver_poll(&d, miner, NULL, error);
  driver_close(&d);
  return sample;
}

static AmMiner *
local_miner(guint16 port, guint timeout_ms)
{
  AmMiner *miner = am_miner_new("127.0.0.1", port);
  am_miner_set_timeout_ms(miner, timeout_ms);
  return miner;
}

static void
test_module_config(void)
{
  Driver d;
  driver_open(&d, NULL);
  g_assert_cmpstr(d.info->name, ==, "epic");
  g_assert_cmpint(d.info->kind, ==, AM_PLUGIN_KIND_DRIVER);
  /* The plugin's match() is the parser file's. */
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint),
                      .http_open = TRUE,
                      .http_on_rpc_port = TRUE,
                      .http_status = 200,
                      .http_title = "Miner Web Dashboard"};
  g_assert_cmpint(d.info->vtable.driver->match(d.self, &fp), ==, AM_MATCH_SUPPORTED);
  /* sample.ini is the plugin's sample_config, with the keys it documents,
   * and create() accepts it. */
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, d.info->sample_config, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  const char *keys[] = {"enabled", "password", "port", "timeout"};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_true(g_key_file_has_key(kf, "driver:epic", keys[i], NULL));
  g_auto(GStrv) all = g_key_file_get_keys(kf, "driver:epic", NULL, NULL);
  g_assert_cmpuint(g_strv_length(all), ==, G_N_ELEMENTS(keys));
  g_assert_cmpint(g_key_file_get_integer(kf, "driver:epic", "port", NULL), ==, 4028);
  gpointer self = d.info->create(NULL, kf, "driver:epic", &error);
  g_assert_no_error(error);
  d.info->destroy(self);
  /* A wrong value is a configuration error naming the key. */
  g_key_file_set_string(kf, "driver:epic", "port", "0");
  g_assert_null(d.info->create(NULL, kf, "driver:epic", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "port"));
  g_clear_error(&error);
  g_key_file_set_string(kf, "driver:epic", "port", "4028");
  g_key_file_set_string(kf, "driver:epic", "timeout", "soon");
  g_assert_null(d.info->create(NULL, kf, "driver:epic", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "timeout"));
  driver_close(&d);
}

/* Six GETs, no credentials, every raw body kept; the sample is the
 * table's recorded case. */
static void
test_module_poll(void)
{
  FakeEpic fake;
  fake_start(&fake);
  g_autoptr(AmMiner) miner = local_miner(fake.port, 5000);
  /* Someone opened the raw view: the poll's bodies are kept for it. */
  g_autoptr(JsonNode) before = am_miner_raw_to_json(miner);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  assert_case(s, &cases[0]);
  for (guint i = 0; i < N_R; i++)
    g_assert_cmpuint(fake.requests[i], ==, 1);
  g_assert_cmpuint(fake.with_credentials, ==, 0);
  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  JsonObject *views = json_node_get_object(raw);
  const char *names[] = {"summary", "capabilities", "temps", "network", "hashrate", "temps/chip"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    g_assert_true(json_object_has_member(views, names[i]));
  fake_stop(&fake);
}

/* A miner configured on the RPC port (found by a scan) is read on port=. */
static void
test_module_port(void)
{
  FakeEpic fake;
  fake_start(&fake);
  g_autoptr(AmMiner) miner = local_miner(AM_RPC_DEFAULT_PORT, 5000);
  g_autofree char *ini = g_strdup_printf("[driver:epic]\nport=%u\n", fake.port);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(ini, miner, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  assert_case(s, &cases[0]);
  fake_stop(&fake);
}

/* Firmware drift: a reply that does not come or does not parse leaves the
 * rest standing, partial, the problems naming what failed. */
static void
test_module_partial(void)
{
  FakeEpic fake;
  fake_start(&fake);
  fake.status[R_CHIP_TEMPS] = SOUP_STATUS_NOT_FOUND;
  fake.bodies[R_NETWORK] = "<html>no</html>";
  fake.bodies[R_TEMPS] = "{\"not\":\"a list\"}";
  g_autoptr(AmMiner) miner = local_miner(fake.port, 5000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  g_assert_true(s->partial);
  g_assert_null(s->mac);
  g_assert_cmpstr(s->model, ==, "Antminer S19 XP");
  assert_close(s->hashrate_ths, TOTAL_THS, "hashrate");
  g_autofree char *chip =
      g_strdup_printf("127.0.0.1:%u: HTTP 404 Not Found from GET /temps/chip", fake.port);
  g_autofree char *temps = g_strdup_printf("127.0.0.1:%u: /temps: not a JSON array", fake.port);
  g_autofree char *network = g_strdup_printf("127.0.0.1:%u: /network: not JSON: ", fake.port);
  gboolean seen_network = FALSE;
  for (guint i = 0; i < s->problems->len; i++)
    seen_network |= g_str_has_prefix(s->problems->pdata[i], network);
  g_assert_true(seen_network);
  const char *expected[] = {chip, temps, FANS, SLOW, NULL};
  /* the /network problem is checked by prefix above */
  g_assert_cmpuint(s->problems->len, ==, 5);
  for (guint i = 0; expected[i] != NULL; i++) {
    gboolean found = FALSE;
    for (guint j = 0; j < s->problems->len; j++)
      found |= g_str_equal(s->problems->pdata[j], expected[i]);
    if (!found)
      g_error("problem '%s' missing", expected[i]);
  }
  fake_stop(&fake);
}

/* /summary decides: without it the poll fails, clearly. */
static void
test_module_summary_errors(void)
{
  FakeEpic fake;
  fake_start(&fake);
  g_autoptr(AmMiner) miner = local_miner(fake.port, 5000);
  fake.status[R_SUMMARY] = SOUP_STATUS_NOT_FOUND;
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_autofree char *missing =
      g_strdup_printf("127.0.0.1:%u: HTTP 404 Not Found from GET /summary", fake.port);
  g_assert_cmpstr(error->message, ==, missing);
  g_clear_error(&error);

  fake.status[R_SUMMARY] = 0;
  fake.bodies[R_SUMMARY] = "<html><body>captive portal</body></html>";
  g_autoptr(AmSample) t = poll_once(NULL, miner, &error);
  g_assert_null(t);
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_autofree char *garbage = g_strdup_printf("127.0.0.1:%u: /summary: not JSON: ", fake.port);
  assert_prefix(error->message, garbage);
  g_clear_error(&error);

  fake.bodies[R_SUMMARY] = "{\"status\":\"ok\"}";
  g_autoptr(AmSample) u = poll_once(NULL, miner, &error);
  g_assert_null(u);
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_autofree char *foreign =
      g_strdup_printf("127.0.0.1:%u: /summary: not a PowerPlay reply", fake.port);
  assert_prefix(error->message, foreign);
  fake_stop(&fake);
}

/* PowerPlay's reads need no login; a server that asks for one (a proxy,
 * or not an ePIC unit) gets no credentials and a message saying so. */
static void
test_module_401(void)
{
  FakeEpic fake;
  fake_start(&fake);
  fake.deny = TRUE;
  g_autoptr(AmMiner) miner = local_miner(fake.port, 5000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_autofree char *expected = g_strdup_printf(
      "127.0.0.1:%u: HTTP 401 from /summary: PowerPlay serves its reads without a login, so "
      "something else asks for one",
      fake.port);
  g_assert_cmpstr(error->message, ==, expected);
  g_assert_cmpuint(fake.with_credentials, ==, 0);
  fake_stop(&fake);
}

/* A server that accepts the requests and never answers: the miner's
 * timeout ends the poll with TIMEOUT (the six wait side by side). */
static void
test_module_hang(void)
{
  FakeEpic fake;
  fake_start(&fake);
  fake.hang = TRUE;
  g_autoptr(AmMiner) miner = local_miner(fake.port, 300);
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time();
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_nonnull(strstr(error->message, "timed out after 0.3 s"));
  g_assert_cmpint(g_get_monotonic_time() - start, <, 3 * G_USEC_PER_SEC);
  fake_stop(&fake);
}

/* The driver's timeout= caps a longer miner timeout. */
static void
test_module_timeout_key(void)
{
  FakeEpic fake;
  fake_start(&fake);
  fake.hang = TRUE;
  g_autoptr(AmMiner) miner = local_miner(fake.port, 10000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once("[driver:epic]\ntimeout=200ms\n", miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_nonnull(strstr(error->message, "timed out after 0.2 s"));
  fake_stop(&fake);
}

static gboolean
cancel_soon(gpointer user_data)
{
  g_cancellable_cancel(user_data);
  return G_SOURCE_REMOVE;
}

/* The poll's cancellable ends it at once, as a cancel. */
static void
test_module_cancel(void)
{
  FakeEpic fake;
  fake_start(&fake);
  fake.hang = TRUE;
  g_autoptr(AmMiner) miner = local_miner(fake.port, 10000);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_timeout_add(100, cancel_soon, cancellable);
  Driver d;
  driver_open(&d, NULL);
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time();
  g_autoptr(AmSample) s = driver_poll(&d, miner, cancellable, &error);
  g_assert_null(s);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint(g_get_monotonic_time() - start, <, 3 * G_USEC_PER_SEC);
  driver_close(&d);
  fake_stop(&fake);
}

/* Nothing listens: the error says refused. */
static void
test_module_refused(void)
{
  FakeEpic fake;
  fake_start(&fake);
  guint16 port = fake.port;
  fake_stop(&fake);
  g_autoptr(AmMiner) miner = local_miner(port, 5000);
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
    g_autofree char *path = g_strdup_printf("/epic/fixture/%s", cases[i].name);
    g_strdelimit(path + strlen("/epic/fixture/"), " /+", '-');
    g_test_add_data_func(path, &cases[i], test_fixture_case);
  }
  g_test_add_func("/epic/extras", test_extras);
  g_test_add_func("/epic/board-variations", test_board_variations);
  g_test_add_func("/epic/serial-mismatch", test_serial_mismatch);
  g_test_add_func("/epic/lost-keys", test_lost_keys);
  g_test_add_func("/epic/bad-bodies", test_bad_bodies);
  g_test_add_func("/epic/errors", test_errors);
  g_test_add_func("/epic/match", test_match);
  g_test_add_func("/epic/module/config", test_module_config);
  g_test_add_func("/epic/module/poll", test_module_poll);
  g_test_add_func("/epic/module/port", test_module_port);
  g_test_add_func("/epic/module/partial", test_module_partial);
  g_test_add_func("/epic/module/summary-errors", test_module_summary_errors);
  g_test_add_func("/epic/module/401", test_module_401);
  g_test_add_func("/epic/module/hang", test_module_hang);
  g_test_add_func("/epic/module/timeout-key", test_module_timeout_key);
  g_test_add_func("/epic/module/cancel", test_module_cancel);
  g_test_add_func("/epic/module/refused", test_module_refused);
  return g_test_run();
}
