/* Tests of the proto driver: the parser on the eight recorded replies in
 * tests/fixtures/proto/ (one poll of a Proto Rig), field by field with
 * values read by hand from the files; each reply alone or missing;
 * hand-made variations (marked HAND-MADE) for what the recorded rig did not
 * show (errors, other mining states, units); bad bodies; match(); and the
 * built module against an in-process SoupServer on 127.0.0.1:0 that does
 * the rig's login (POST /api/v1/auth/login, then Bearer on every GET). */
#include "../common/am-driver-test-util.h"
#include "am-plugin-loader.h"
#include "am-proto-parse.h"
#include "am-test-util.h"

#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#define U AM_UNKNOWN

static const char *const fixture_files[AM_PROTO_N_ENDPOINTS] = {
    [AM_PROTO_MINING] = "asicrs-v1_mining.json",
    [AM_PROTO_TELEMETRY] = "asicrs-v1_telemetry_full.json",
    [AM_PROTO_HARDWARE] = "asicrs-v1_hardware.json",
    [AM_PROTO_COOLING] = "asicrs-v1_cooling.json",
    [AM_PROTO_POOLS] = "asicrs-v1_pools.json",
    [AM_PROTO_ERRORS] = "asicrs-v1_errors.json",
    [AM_PROTO_SYSTEM] = "asicrs-v1_system.json",
    [AM_PROTO_NETWORK] = "asicrs-v1_network.json",
};

/* ---- helpers ------------------------------------------------------------ */

static void
assert_close(double actual, double expected, const char *what)
{
  if (isnan(expected)) {
    if (!isnan(actual))
      g_error("%s: expected unknown, got %.17g", what, actual);
    return;
  }
  if (!(fabs(actual - expected) <= 1e-9 * fabs(expected) + 1e-12))
    g_error("%s: expected %.17g, got %.17g", what, expected, actual);
}

static gboolean
has_problem_prefix(AmSample *s, const char *prefix)
{
  for (guint i = 0; i < s->problems->len; i++)
    if (g_str_has_prefix(s->problems->pdata[i], prefix))
      return TRUE;
  return FALSE;
}

static char *
fixture_text(AmProtoEndpoint endpoint, gsize *len)
{
  g_autofree char *rel = g_strdup_printf("fixtures/proto/%s", fixture_files[endpoint]);
  g_autofree char *path = am_test_path(rel);
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, len, &error))
    g_error("fixture %s: %s", path, error->message);
  return text;
}

static JsonNode *
fixture_node(AmProtoEndpoint endpoint)
{
  gsize len = 0;
  g_autofree char *text = fixture_text(endpoint, &len);
  g_autoptr(GError) error = NULL;
  JsonNode *node = am_proto_parse_body(endpoint, text, len, &error);
  g_assert_no_error(error);
  return node;
}

static JsonNode *
node_from(const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  json_parser_load_from_data(parser, json, -1, &error);
  g_assert_no_error(error);
  return json_node_ref(json_parser_get_root(parser));
}

/* The recorded replies; @mask says which (bit per endpoint). */
static void
replies_load(AmProtoReplies *r, guint mask)
{
  memset(r, 0, sizeof *r);
  for (guint i = 0; i < AM_PROTO_N_ENDPOINTS; i++)
    if (mask & (1u << i))
      r->replies[i] = fixture_node(i);
}

static void
replies_clear(AmProtoReplies *r)
{
  for (guint i = 0; i < AM_PROTO_N_ENDPOINTS; i++)
    g_clear_pointer(&r->replies[i], json_node_unref);
}

static void
replies_set(AmProtoReplies *r, AmProtoEndpoint endpoint, const char *json)
{
  g_clear_pointer(&r->replies[endpoint], json_node_unref);
  r->replies[endpoint] = node_from(json);
}

static AmSample *
parse_ok(const AmProtoReplies *r)
{
  g_autoptr(GError) error = NULL;
  AmSample *s = am_proto_parse(r, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  am_sample_finish(s);
  return s;
}

#define ALL ((1u << AM_PROTO_N_ENDPOINTS) - 1)
#define BIT(e) (1u << (e))

/* ---- what each recorded reply gives, read by hand from the files ------- */

/* asicrs-v1_telemetry_full.json, hashboards[0..3] */
static const double tel_ths[] = {36.44848053006888, 33.618811133184686, 35.78954003202982,
                                 36.166744497811905};
static const double tel_power[] = {889.0357387674567, 848.0138124996449, 823.2936544016345,
                                   889.0038420518491};
static const double tel_volts[] = {14.555635532845155, 13.950899775445338, 14.51321581261823,
                                   14.461652906814546};
static const double tel_avg[] = {48.43489937831655, 45.58085180490902, 46.45892698177783,
                                 47.795184450368396};
static const double tel_inlet[] = {41.257896451539054, 38.73552243664069, 38.642894869829554,
                                   39.25599482703729};
static const double tel_outlet[] = {55.241942214972724, 54.978843834992624, 55.43768806658174,
                                    53.387135818884865};

static void
assert_mining(AmSample *s)
{
  /* asicrs-v1_mining.json */
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING);
  assert_close(s->hashrate_avg_ths, 141.1474350314711, "average hashrate");
  assert_close(s->hashrate_ideal_ths, 145.0, "ideal hashrate");
  assert_close(s->power_limit_w, 3400, "power target");
  g_assert_cmpint(s->elapsed_s, ==, 28);
  g_assert_cmpint(s->hw_errors, ==, 0);
  g_assert_cmpint(s->chains_expected, ==, 4);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_proto_status")), ==, "Mining");
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_proto_mining_uptime_s")), ==, 28);
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_proto_hashboards_mining")), ==, 4);
  assert_close(json_node_get_double(am_test_extra(s, "x_proto_average_asic_temp_c")),
               71.90268170247448, "average ASIC temperature");
}

static void
assert_chain_telemetry(AmSample *s)
{
  /* asicrs-v1_telemetry_full.json, hashboards[] */
  g_assert_cmpuint(s->chains->len, ==, 4);
  for (guint i = 0; i < 4; i++) {
    AmChain *c = &g_array_index(s->chains, AmChain, i);
    g_assert_cmpint(c->index, ==, (gint)i + 1);
    assert_close(c->hashrate_ths, tel_ths[i], "chain hashrate");
    assert_close(c->power_w, tel_power[i], "chain power");
    assert_close(c->voltage_v, tel_volts[i], "chain voltage");
    assert_close(c->temp_board_c, tel_avg[i], "chain board temperature");
    assert_close(c->temp_inlet_c, tel_inlet[i], "chain inlet");
    assert_close(c->temp_outlet_c, tel_outlet[i], "chain outlet");
    assert_close(c->frequency_mhz, NAN, "chain frequency (not reported)");
    assert_close(c->temp_chip_c, NAN, "chain chip temperature (not reported)");
    g_autofree char *serial = g_strdup_printf("HB-PROTO-SIM-b6bdaf86-%u", i);
    g_assert_cmpstr(g_ptr_array_index(s->chain_serials, i), ==, serial);
  }
  AM_TEST_ASSERT_DOUBLES(s->temps_c, tel_avg[0], tel_avg[1], tel_avg[2], tel_avg[3]);
  g_assert_cmpuint(s->chip_temps_c->len, ==, 0);
  /* miner {}: the live totals */
  assert_close(s->hashrate_ths, 135.47567610136747, "hashrate");
  assert_close(s->power_w, 3466.397308943879, "power");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  /* psus[]: both PSUs together */
  assert_close(s->psu_power_in_w, 1774.4900359549026 + 1751.847016486352, "PSU input");
  assert_close(s->psu_power_out_w, 1616.3187995506262 + 1647.885525596383, "PSU output");
  g_assert_null(s->psu_serial);
  assert_close(s->psu_fan_rpm, NAN, "PSU fan (not reported)");
  JsonArray *serials = json_node_get_array(am_test_extra(s, "x_proto_psu_serials"));
  g_assert_cmpuint(json_array_get_length(serials), ==, 2);
  g_assert_cmpstr(json_array_get_string_element(serials, 0), ==, "PSU-PROTO-SIM-b6bdaf86-0");
  g_assert_cmpstr(json_array_get_string_element(serials, 1), ==, "PSU-PROTO-SIM-b6bdaf86-1");
}

static void
assert_full(AmSample *s)
{
  g_assert_cmpstr(s->driver, ==, "proto");
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  assert_mining(s);
  assert_chain_telemetry(s);
  /* asicrs-v1_hardware.json: 120 ASICs per board, 4 fan slots */
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint(g_array_index(s->chains, AmChain, i).chips, ==, 120);
  g_assert_cmpint(s->fans_expected, ==, 4);
  /* asicrs-v1_cooling.json */
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 4346, 4691, 4658, 4443);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_proto_fan_mode")), ==, "Auto");
  assert_close(json_node_get_double(am_test_extra(s, "x_proto_fan_speed_pct")), 60, "fan %");
  assert_close(json_node_get_double(am_test_extra(s, "x_proto_target_temp_c")), 50, "target");
  g_assert_false(s->liquid_cooled);
  /* asicrs-v1_pools.json */
  g_assert_cmpuint(s->pools->len, ==, 2);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://pool-a.example.com:3333", "worker-a",
                      "Active", 0, 12345, 10, U, TRUE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://pool-b.example.com:4444", "worker-b",
                      "Active", 1, 12345, 10, U, TRUE);
  g_assert_cmpint(s->accepted, ==, 12345 + 12345);
  g_assert_cmpint(s->rejected, ==, 10 + 10);
  assert_close(s->best_share, NAN, "best share (not reported)");
  /* asicrs-v1_errors.json: [] */
  g_assert_cmpuint(s->errors->len, ==, 0);
  /* asicrs-v1_system.json */
  g_assert_cmpstr(s->firmware, ==, "ProtoOS");
  g_assert_cmpstr(s->firmware_version, ==, "1.8.0");
  g_assert_cmpstr(s->model, ==, "Proto Rig");
  g_assert_cmpstr(s->serial, ==, "PROTO-SIM-b6bdaf86");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_proto_control_board")), ==, "C3");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_proto_api_version")), ==, "1.8.0");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_proto_hashboard_firmware")), ==,
                  "1.8.0");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_proto_update_status")), ==, "current");
  /* asicrs-v1_network.json */
  g_assert_cmpstr(s->mac, ==, "02:00:00:ad:66:39");
  g_assert_cmpstr(s->hostname, ==, "proto-miner-af86");
  /* Not reported by this firmware */
  g_assert_null(s->work_mode);
  assert_close(s->water_temp_in_c, NAN, "water in");
  g_assert_cmpint(s->found_blocks, ==, U);
  g_assert_false(s->partial);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  g_assert_cmpuint(s->problems->len, ==, 0);
}

/* ---- parser tests ------------------------------------------------------- */

static void
test_full_poll(void)
{
  AmProtoReplies r;
  replies_load(&r, ALL);
  g_autoptr(AmSample) s = parse_ok(&r);
  assert_full(s);
  replies_clear(&r);
}

/* Each recorded reply missing in turn: its fields go unknown, the rest
 * stays (the module marks such a sample partial). */
static void
test_each_missing(void)
{
  for (guint skip = 0; skip < AM_PROTO_N_ENDPOINTS; skip++) {
    AmProtoReplies r;
    replies_load(&r, ALL & ~BIT(skip));
    g_autoptr(AmSample) s = parse_ok(&r);
    switch (skip) {
    case AM_PROTO_MINING:
      g_assert_cmpint(s->mining, ==, AM_MINING_UNKNOWN);
      assert_close(s->hashrate_ideal_ths, NAN, "ideal");
      assert_close(s->power_limit_w, NAN, "power target");
      assert_chain_telemetry(s);
      break;
    case AM_PROTO_TELEMETRY:
      assert_mining(s);
      /* /api/v1/mining's figures stand in */
      assert_close(s->hashrate_ths, 141.1474350314711, "hashrate from mining");
      assert_close(s->power_w, 3447.008523267969, "power from mining");
      g_assert_cmpuint(s->chains->len, ==, 4);
      assert_close(g_array_index(s->chains, AmChain, 0).hashrate_ths, NAN, "chain hashrate");
      g_assert_cmpstr(g_ptr_array_index(s->chain_serials, 3), ==, "HB-PROTO-SIM-b6bdaf86-3");
      assert_close(s->psu_power_in_w, NAN, "PSU input");
      /* the PSU serials come from the hardware reply */
      g_assert_nonnull(am_test_extra(s, "x_proto_psu_serials"));
      break;
    case AM_PROTO_HARDWARE:
      /* boards from telemetry, at index + 1 */
      assert_chain_telemetry(s);
      g_assert_cmpint(g_array_index(s->chains, AmChain, 0).chips, ==, U);
      g_assert_cmpint(s->fans_expected, ==, U);
      break;
    case AM_PROTO_COOLING:
      g_assert_cmpuint(s->fans_rpm->len, ==, 0);
      break;
    case AM_PROTO_POOLS:
      g_assert_cmpuint(s->pools->len, ==, 0);
      g_assert_cmpint(s->accepted, ==, U);
      break;
    case AM_PROTO_ERRORS:
      g_assert_cmpuint(s->errors->len, ==, 0);
      break;
    case AM_PROTO_SYSTEM:
      /* os.name's spelling, not the dashboard's "Proto OS" */
      g_assert_cmpstr(s->firmware, ==, "ProtoOS");
      g_assert_null(s->firmware_version);
      g_assert_null(s->model);
      /* the control board's serial from the hardware reply */
      g_assert_cmpstr(s->serial, ==, "PROTO-SIM-b6bdaf86");
      break;
    case AM_PROTO_NETWORK:
      g_assert_null(s->mac);
      /* the OS's host name from the system reply */
      g_assert_cmpstr(s->hostname, ==, "proto-miner-af86");
      break;
    default:
      g_assert_not_reached();
    }
    replies_clear(&r);
  }
}

/* Without mining and telemetry there is nothing to report. */
static void
test_no_reading(void)
{
  AmProtoReplies r;
  replies_load(&r, ALL & ~BIT(AM_PROTO_MINING) & ~BIT(AM_PROTO_TELEMETRY));
  g_autoptr(GError) error = NULL;
  g_assert_null(am_proto_parse(&r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "/api/v1/mining"));
  replies_clear(&r);
}

/* HAND-MADE: the recorded rig had no active errors. These are shaped by
 * the API's NotificationError (source, slot, error_code, message,
 * timestamp); the API gives no severity, so they are warnings, unless a
 * "severity" says otherwise. */
static void
test_errors(void)
{
  AmProtoReplies r;
  replies_load(&r, ALL);
  replies_set(&r, AM_PROTO_ERRORS,
              "[{\"source\":\"fan\",\"slot\":3,\"error_code\":\"FanSlow\",\"timestamp\":1764160757,"
              "\"message\":\"Fan 3 has stalled. Target RPM: 100, Actual RPM: 0\"},"
              "{\"source\":\"PSU\",\"slot\":1,\"error_code\":\"1024\",\"message\":\"PSU hot\"},"
              "{\"source\":\"rig\",\"error_code\":\"X\",\"message\":\"m\",\"severity\":\"error\"},"
              "7]");
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpuint(s->errors->len, ==, 3);
  AmMinerError *e = s->errors->pdata[0];
  g_assert_cmpstr(e->code, ==, "FanSlow");
  g_assert_cmpstr(e->message, ==, "Fan 3 has stalled. Target RPM: 100, Actual RPM: 0");
  g_assert_cmpstr(e->component, ==, "fan 3");
  g_assert_cmpint(e->severity, ==, AM_ERROR_SEVERITY_WARNING);
  g_assert_cmpint(e->since_s, ==, 1764160757);
  e = s->errors->pdata[1];
  g_assert_cmpstr(e->code, ==, "1024");
  g_assert_cmpstr(e->component, ==, "psu 1");
  g_assert_cmpint(e->since_s, ==, U);
  e = s->errors->pdata[2];
  g_assert_cmpstr(e->component, ==, "rig");
  g_assert_cmpint(e->severity, ==, AM_ERROR_SEVERITY_ERROR);
  /* an error-severity vendor error degrades the sample */
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  replies_clear(&r);
}

/* HAND-MADE: every status of the API's MiningStatus enum. */
static void
test_mining_states(void)
{
  static const struct {
    const char *status;
    AmMiningState state;
    const char *problem;
  } cases[] = {
      {"Mining", AM_MINING_HASHING, NULL},
      {"DegradedMining", AM_MINING_HASHING, "Proto reports DegradedMining"},
      {"PoweringOn", AM_MINING_STARTING, NULL},
      {"Uninitialized", AM_MINING_STARTING, NULL},
      {"PoweringOff", AM_MINING_PAUSED, NULL},
      {"Stopped", AM_MINING_PAUSED, NULL},
      {"NoPools", AM_MINING_UNKNOWN, "Proto reports NoPools"},
      {"Error", AM_MINING_UNKNOWN, "Proto reports mining status Error"},
      {"Something new", AM_MINING_UNKNOWN, NULL},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    AmProtoReplies r = {0};
    g_autofree char *json = g_strdup_printf(
        "{\"mining-status\":{\"status\":\"%s\",\"hashrate_ghs\":0}}", cases[i].status);
    replies_set(&r, AM_PROTO_MINING, json);
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = am_proto_parse(&r, &error);
    g_assert_no_error(error);
    g_assert_cmpint(s->mining, ==, cases[i].state);
    assert_close(s->hashrate_ths, 0, "hashrate");
    g_assert_cmpuint(s->problems->len, ==, cases[i].problem != NULL ? 1 : 0);
    if (cases[i].problem != NULL)
      g_assert_true(has_problem_prefix(s, cases[i].problem));
    replies_clear(&r);
  }
}

/* HAND-MADE: a unit the driver does not know is not taken for another. */
static void
test_units(void)
{
  AmProtoReplies r = {0};
  replies_set(&r, AM_PROTO_TELEMETRY,
              "{\"miner\":{\"hashrate\":{\"unit\":\"GH/s\",\"value\":1500},"
              "\"power\":{\"unit\":\"kW\",\"value\":3.4}},"
              "\"hashboards\":[{\"index\":0,\"hashrate\":{\"unit\":\"PH/s\",\"value\":0.5},"
              "\"voltage\":{\"unit\":\"mV\",\"value\":14000},"
              "\"temperature\":{\"unit\":\"F\",\"inlet\":100,\"outlet\":120,\"average\":110}}]}");
  g_autoptr(AmSample) s = parse_ok(&r);
  assert_close(s->hashrate_ths, 1.5, "GH/s converted");
  assert_close(s->power_w, NAN, "kW is not W");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  AmChain *c = &g_array_index(s->chains, AmChain, 0);
  g_assert_cmpint(c->index, ==, 1);
  assert_close(c->hashrate_ths, 500, "PH/s converted");
  assert_close(c->voltage_v, NAN, "mV is not V");
  assert_close(c->temp_inlet_c, NAN, "Fahrenheit is not taken");
  g_assert_cmpuint(s->temps_c->len, ==, 0);
  replies_clear(&r);
}

static void
test_bad_bodies(void)
{
  static const struct {
    AmProtoEndpoint endpoint;
    const char *body;
    const char *message;
  } cases[] = {
      {AM_PROTO_MINING, "", "GET /api/v1/mining: empty reply"},
      {AM_PROTO_MINING, "<html>login</html>", "GET /api/v1/mining: not JSON"},
      {AM_PROTO_MINING, "{\"mining-status\":{\"status\":", "GET /api/v1/mining: not JSON"},
      {AM_PROTO_MINING, "[]", "GET /api/v1/mining: not a JSON object"},
      {AM_PROTO_ERRORS, "{}", "GET /api/v1/errors: not a JSON array"},
      {AM_PROTO_TELEMETRY, "null", "GET /api/v1/telemetry?level=miner,hashboard,psu: not a JSON"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(
        am_proto_parse_body(cases[i].endpoint, cases[i].body, strlen(cases[i].body), &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
    if (!g_str_has_prefix(error->message, cases[i].message))
      g_error("expected '%s...', got '%s'", cases[i].message, error->message);
  }
  /* A foreign server's objects: nothing read, and a clear error. */
  AmProtoReplies r = {0};
  replies_set(&r, AM_PROTO_MINING, "{\"status\":\"ok\"}");
  replies_set(&r, AM_PROTO_TELEMETRY, "{}");
  g_autoptr(GError) error = NULL;
  g_assert_null(am_proto_parse(&r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  replies_clear(&r);
  /* Wrong types inside a reply leave fields unknown, never 0. */
  replies_set(&r, AM_PROTO_MINING,
              "{\"mining-status\":{\"status\":7,\"hashrate_ghs\":\"x\",\"power_target_watts\":null,"
              "\"hashboards_installed\":[]}}");
  replies_set(&r, AM_PROTO_POOLS, "{\"pools\":[{\"url\":5},{\"url\":\"\"},3]}");
  replies_set(&r, AM_PROTO_COOLING, "{\"cooling-status\":{\"fans\":[{\"rpm\":0},{}]}}");
  g_autoptr(AmSample) s = parse_ok(&r);
  assert_close(s->hashrate_ths, NAN, "hashrate");
  assert_close(s->power_limit_w, NAN, "power target");
  g_assert_cmpint(s->chains_expected, ==, U);
  g_assert_cmpuint(s->pools->len, ==, 0);
  g_assert_cmpint(s->accepted, ==, U);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  replies_clear(&r);
}

static void
test_login_reply(void)
{
  const char *good = "{\"access_token\":\"abc.def\",\"refresh_token\":\"r\"}";
  g_autoptr(GError) error = NULL;
  g_autofree char *token = am_proto_parse_login(good, strlen(good), &error);
  g_assert_no_error(error);
  g_assert_cmpstr(token, ==, "abc.def");
  const char *bad[] = {"{\"message\":\"info\"}", "{\"access_token\":\"\"}", "[1]", "nope"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) e = NULL;
    g_assert_null(am_proto_parse_login(bad[i], strlen(bad[i]), &e));
    g_assert_error(e, AM_ERROR, AM_ERROR_PARSE);
    g_assert_true(g_str_has_prefix(e->message, "POST /api/v1/auth/login: "));
  }
}

static void
test_match(void)
{
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint), .http_open = TRUE, .http_status = 200};
  g_assert_cmpint(am_proto_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  fp.http_title = "Proto OS";
  g_assert_cmpint(am_proto_match(&fp), ==, AM_MATCH_SUPPORTED);
  fp.http_title = NULL;
  fp.http_body = "<!doctype html><html><head><title>Proto OS</title></head><body></body></html>";
  g_assert_cmpint(am_proto_match(&fp), ==, AM_MATCH_SUPPORTED);
  /* The system JSON names Proto but is not the dashboard. */
  gsize len = 0;
  g_autofree char *system = fixture_text(AM_PROTO_SYSTEM, &len);
  fp.http_body = system;
  g_assert_cmpint(am_proto_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  fp.http_body = NULL;
  fp.http_title = "AxeOS";
  g_assert_cmpint(am_proto_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  /* No recorded cgminer "version" reply is a Proto rig. */
  g_autoptr(GPtrArray) versions = am_test_version_fixtures();
  for (guint i = 0; i < versions->len; i++) {
    g_autoptr(JsonObject) reply = am_test_fixture_object(versions->pdata[i]);
    AmFingerprint v;
    am_test_fingerprint_init(&v, reply);
    g_assert_cmpint(am_proto_match(&v), ==, AM_MATCH_UNSUPPORTED);
  }
}

/* ---- the module against a local rig ------------------------------------ */

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *password; /* the rig's */
  guint generation;     /* bumping it expires the issued token */
  guint logins, refused_logins, gets, unauthorized;
  const char *fail_path;    /* answers 500 */
  const char *garbage_path; /* answers a non-JSON body */
  gboolean hang;
  char *last_login_body;
  GPtrArray *paused;
} FakeRig;

static const char *
fixture_for_path(const char *path)
{
  for (guint i = 0; i < AM_PROTO_N_ENDPOINTS; i++) {
    g_autofree char *bare = g_strdup(am_proto_endpoint_path(i));
    char *q = strchr(bare, '?');
    if (q != NULL)
      *q = '\0';
    if (g_str_equal(bare, path))
      return fixture_files[i];
  }
  return NULL;
}

static void
reply_json(SoupServerMessage *msg, guint status, const char *json)
{
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, json, strlen(json));
  soup_server_message_set_status(msg, status, NULL);
}

static void
serve_login(FakeRig *rig, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
  g_free(rig->last_login_body);
  rig->last_login_body = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
  g_autoptr(JsonParser) parser = json_parser_new();
  const char *given = NULL;
  if (json_parser_load_from_data(parser, rig->last_login_body, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    given = am_json_string(json_node_get_object(json_parser_get_root(parser)), "password");
  if (g_strcmp0(given, rig->password) != 0) {
    rig->refused_logins++;
    reply_json(msg, SOUP_STATUS_UNAUTHORIZED, "{\"message\":\"Invalid credentials\"}");
    return;
  }
  rig->logins++;
  g_autofree char *json =
      g_strdup_printf("{\"access_token\":\"tok-%u\",\"refresh_token\":\"ref-%u\"}", rig->generation,
                      rig->generation);
  reply_json(msg, SOUP_STATUS_OK, json);
}

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer user_data)
{
  FakeRig *rig = user_data;
  const char *method = soup_server_message_get_method(msg);
  if (rig->hang) {
    soup_server_message_pause(msg);
    g_ptr_array_add(rig->paused, g_object_ref(msg));
    return;
  }
  if (g_str_equal(path, AM_PROTO_LOGIN_PATH) && g_str_equal(method, "POST")) {
    serve_login(rig, msg);
    return;
  }
  const char *file = fixture_for_path(path);
  if (file == NULL || !g_str_equal(method, "GET")) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  g_autofree char *expected = g_strdup_printf("Bearer tok-%u", rig->generation);
  const char *auth =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  if (g_strcmp0(auth, expected) != 0) {
    rig->unauthorized++;
    reply_json(msg, SOUP_STATUS_UNAUTHORIZED, "{\"message\":\"Unauthorized\"}");
    return;
  }
  rig->gets++;
  if (g_str_equal(path, "/api/v1/telemetry"))
    g_assert_cmpstr(query != NULL ? g_hash_table_lookup(query, "level") : NULL, ==,
                    "miner,hashboard,psu");
  if (g_strcmp0(path, rig->fail_path) == 0) {
    reply_json(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "{\"message\":\"boom\"}");
    return;
  }
  if (g_strcmp0(path, rig->garbage_path) == 0) {
    reply_json(msg, SOUP_STATUS_OK, "<html>");
    return;
  }
  g_autofree char *rel = g_strdup_printf("fixtures/proto/%s", file);
  g_autofree char *full = am_test_path(rel);
  char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(full, &text, &len, NULL));
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, len);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
rig_start(FakeRig *rig, const char *password)
{
  *rig = (FakeRig){.password = password,
                   .generation = 1,
                   .paused = g_ptr_array_new_with_free_func(g_object_unref)};
  rig->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(rig->server, NULL, serve, rig, NULL);
  rig->port = am_test_soup_listen_loopback(rig->server);
}

static void
rig_stop(FakeRig *rig)
{
  g_free(rig->last_login_body);
  am_test_soup_stop(rig->server, rig->paused);
}

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
  g_autofree char *path = g_build_filename(dir, "driver-proto.so", NULL);
  g_autoptr(GError) error = NULL;
  d->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  d->info = d->plugin->info;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (ini != NULL)
    g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  d->self = d->info->create(NULL, ini != NULL ? kf : NULL, "driver:proto", &error);
  g_assert_no_error(error);
}

static void
driver_close(Driver *d)
{
  d->info->destroy(d->self);
  am_loaded_plugin_free(d->plugin);
}

static void
on_poll_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref(result);
}

static AmSample *
driver_poll(Driver *d, AmMiner *miner, GError **error)
{
  GAsyncResult *result = NULL;
  d->info->vtable.driver->poll_async(d->self, miner, NULL, on_poll_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmSample *sample = d->info->vtable.driver->poll_finish(d->self, result, error);
  g_object_unref(result);
  if (sample != NULL)
    am_sample_finish(sample);
  return sample;
}

static AmMiner *
local_miner(guint16 port, guint timeout_ms)
{
  AmMiner *miner = am_miner_new("127.0.0.1", port);
  am_miner_set_timeout_ms(miner, timeout_ms);
  return miner;
}

#define RIG_INI "[driver:proto]\npassword=rig-secret-1\n"

static void
test_module_config(void)
{
  Driver d;
  driver_open(&d, NULL);
  g_assert_cmpstr(d.info->name, ==, "proto");
  g_assert_cmpint(d.info->kind, ==, AM_PLUGIN_KIND_DRIVER);
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint), .http_title = "Proto OS"};
  g_assert_cmpint(d.info->vtable.driver->match(d.self, &fp), ==, AM_MATCH_SUPPORTED);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, d.info->sample_config, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  const char *keys[] = {"enabled", "http_port", "password", "timeout"};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_true(g_key_file_has_key(kf, "driver:proto", keys[i], NULL));
  g_auto(GStrv) all = g_key_file_get_keys(kf, "driver:proto", NULL, NULL);
  g_assert_cmpuint(g_strv_length(all), ==, G_N_ELEMENTS(keys));
  gpointer self = d.info->create(NULL, kf, "driver:proto", &error);
  g_assert_no_error(error);
  d.info->destroy(self);
  g_key_file_set_string(kf, "driver:proto", "http_port", "70000");
  g_assert_null(d.info->create(NULL, kf, "driver:proto", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "http_port"));
  driver_close(&d);
}

/* Login once, eight GETs with the token, the recorded sample; the next
 * poll reuses the token; the raw view keeps the replies, never the token. */
static void
test_module_poll(void)
{
  FakeRig rig;
  rig_start(&rig, "rig-secret-1");
  g_autoptr(AmMiner) miner = local_miner(rig.port, 5000);
  g_autoptr(JsonNode) before = am_miner_raw_to_json(miner);
  Driver d;
  driver_open(&d, RIG_INI);
  for (guint poll = 0; poll < 2; poll++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = driver_poll(&d, miner, &error);
    g_assert_no_error(error);
    assert_full(s);
  }
  g_assert_cmpuint(rig.logins, ==, 1);
  g_assert_cmpuint(rig.gets, ==, 2 * AM_PROTO_N_ENDPOINTS);
  g_assert_cmpuint(rig.unauthorized, ==, 0);
  g_assert_cmpstr(rig.last_login_body, ==, "{\"password\":\"rig-secret-1\"}");
  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  JsonObject *views = json_node_get_object(raw);
  for (guint i = 0; i < AM_PROTO_N_ENDPOINTS; i++)
    g_assert_true(json_object_has_member(views, am_proto_endpoint_name(i)));
  g_autofree char *text = json_to_string(raw, FALSE);
  g_assert_null(strstr(text, "tok-1"));
  g_assert_null(strstr(text, "rig-secret-1"));
  driver_close(&d);
  rig_stop(&rig);
}

/* The rig restarted (or the token expired): 401, one new login, the poll
 * goes on. */
static void
test_module_token_expired(void)
{
  FakeRig rig;
  rig_start(&rig, "rig-secret-1");
  g_autoptr(AmMiner) miner = local_miner(rig.port, 5000);
  Driver d;
  driver_open(&d, RIG_INI);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) first = driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  rig.generation++;
  g_autoptr(AmSample) second = driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  assert_full(second);
  g_assert_cmpuint(rig.logins, ==, 2);
  g_assert_cmpuint(rig.unauthorized, ==, 1);
  driver_close(&d);
  rig_stop(&rig);
}

/* A wrong password is one clear error, and no GET is tried. */
static void
test_module_wrong_password(void)
{
  FakeRig rig;
  rig_start(&rig, "rig-secret-1");
  g_autoptr(AmMiner) miner = local_miner(rig.port, 5000);
  Driver d;
  driver_open(&d, "[driver:proto]\npassword=not-the-one\n");
  g_autoptr(GError) error = NULL;
  g_assert_null(driver_poll(&d, miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_nonnull(strstr(error->message, "login refused: wrong password"));
  g_assert_nonnull(strstr(error->message, "127.0.0.1"));
  g_assert_null(strstr(error->message, "not-the-one"));
  g_assert_cmpuint(rig.refused_logins, ==, 1);
  g_assert_cmpuint(rig.gets, ==, 0);
  /* The default (empty) password is refused by an onboarded rig too. */
  driver_close(&d);
  driver_open(&d, NULL);
  g_clear_error(&error);
  g_assert_null(driver_poll(&d, miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_cmpstr(rig.last_login_body, ==, "{\"password\":\"\"}");
  /* [miner:NAME] password= wins over the driver's. */
  am_miner_set_credentials(miner, NULL, "rig-secret-1");
  g_clear_error(&error);
  g_autoptr(AmSample) s = driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  assert_full(s);
  driver_close(&d);
  rig_stop(&rig);
}

/* One reply failing or garbled: the rest stands, the sample is partial
 * and names what is missing. */
static void
test_module_partial(void)
{
  static const struct {
    const char *fail, *garbage, *problem;
  } cases[] = {
      {"/api/v1/errors", NULL, "127.0.0.1:"},
      {NULL, "/api/v1/telemetry", "127.0.0.1:"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    FakeRig rig;
    rig_start(&rig, "rig-secret-1");
    rig.fail_path = cases[i].fail;
    rig.garbage_path = cases[i].garbage;
    g_autoptr(AmMiner) miner = local_miner(rig.port, 5000);
    Driver d;
    driver_open(&d, RIG_INI);
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = driver_poll(&d, miner, &error);
    g_assert_no_error(error);
    g_assert_true(s->partial);
    g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
    g_assert_cmpuint(s->problems->len, ==, 1);
    const char *problem = s->problems->pdata[0];
    if (cases[i].fail != NULL) {
      g_assert_nonnull(strstr(problem, "HTTP 500"));
      g_assert_nonnull(strstr(problem, "GET /api/v1/errors"));
      assert_chain_telemetry(s);
    } else {
      g_assert_nonnull(strstr(problem, "GET /api/v1/telemetry"));
      g_assert_nonnull(strstr(problem, "not JSON"));
      assert_mining(s);
      assert_close(s->hashrate_ths, 141.1474350314711, "hashrate from mining");
    }
    g_assert_cmpstr(s->serial, ==, "PROTO-SIM-b6bdaf86");
    driver_close(&d);
    rig_stop(&rig);
  }
}

/* Neither mining nor telemetry: the poll fails with the first reason. */
static void
test_module_nothing_usable(void)
{
  FakeRig rig;
  rig_start(&rig, "rig-secret-1");
  rig.fail_path = "/api/v1/mining";
  rig.garbage_path = "/api/v1/telemetry";
  g_autoptr(AmMiner) miner = local_miner(rig.port, 5000);
  Driver d;
  driver_open(&d, RIG_INI);
  g_autoptr(GError) error = NULL;
  g_assert_null(driver_poll(&d, miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "HTTP 500"));
  g_assert_nonnull(strstr(error->message, "/api/v1/mining"));
  driver_close(&d);
  rig_stop(&rig);
}

/* A web port that answers nothing, and one that is closed. */
static void
test_module_unreachable(void)
{
  FakeRig rig;
  rig_start(&rig, "rig-secret-1");
  rig.hang = TRUE;
  g_autoptr(AmMiner) miner = local_miner(rig.port, 300);
  g_autoptr(GError) error = NULL;
  Driver d;
  driver_open(&d, RIG_INI);
  g_assert_null(driver_poll(&d, miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_nonnull(strstr(error->message, "POST /api/v1/auth/login"));
  rig_stop(&rig);
  g_autoptr(AmMiner) closed = local_miner(am_test_free_port(), 2000);
  g_clear_error(&error);
  g_assert_null(driver_poll(&d, closed, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
  driver_close(&d);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/proto/full-poll", test_full_poll);
  g_test_add_func("/proto/each-missing", test_each_missing);
  g_test_add_func("/proto/no-reading", test_no_reading);
  g_test_add_func("/proto/errors", test_errors);
  g_test_add_func("/proto/mining-states", test_mining_states);
  g_test_add_func("/proto/units", test_units);
  g_test_add_func("/proto/bad-bodies", test_bad_bodies);
  g_test_add_func("/proto/login-reply", test_login_reply);
  g_test_add_func("/proto/match", test_match);
  g_test_add_func("/proto/module/config", test_module_config);
  g_test_add_func("/proto/module/poll", test_module_poll);
  g_test_add_func("/proto/module/token-expired", test_module_token_expired);
  g_test_add_func("/proto/module/wrong-password", test_module_wrong_password);
  g_test_add_func("/proto/module/partial", test_module_partial);
  g_test_add_func("/proto/module/nothing-usable", test_module_nothing_usable);
  g_test_add_func("/proto/module/unreachable", test_module_unreachable);
  return g_test_run();
}
