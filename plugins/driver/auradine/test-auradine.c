/* Tests of the auradine driver: every recorded reply in
 * tests/fixtures/auradine/ through the normalizer on its own, field by
 * field with values read by hand from the files, then all of them as one
 * poll; hand-made variations (marked HAND-MADE); bad bodies; match() on
 * fingerprints; and the built module against an in-process cgminer RPC
 * server (GSocketService) and web API (SoupServer) on 127.0.0.1 that does
 * the firmware's token login and refuses wrong credentials and tokens. */
#include "../common/am-driver-test-util.h"
#include "am-auradine-parse.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"

#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#define U AM_UNKNOWN
#define FIXTURE(name) "auradine/asicrs-v1_" name ".json"

/* ---- helpers ------------------------------------------------------------ */

static void
assert_close(double actual, double expected, const char *what)
{
  if (isnan(expected)) {
    if (!isnan(actual))
      g_error("%s: expected unknown, got %.12g", what, actual);
    return;
  }
  if (!(fabs(actual - expected) <= 1e-9 * fabs(expected) + 1e-12))
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
#define ASSERT_DOUBLES(array, what, ...)                                                           \
  do {                                                                                             \
    const double e_[] = {__VA_ARGS__};                                                             \
    assert_doubles((array), e_, G_N_ELEMENTS(e_), (what));                                         \
  } while (0)

static gboolean
has_problem_with(AmSample *s, const char *text)
{
  for (guint i = 0; i < s->problems->len; i++)
    if (strstr(s->problems->pdata[i], text) != NULL)
      return TRUE;
  return FALSE;
}

static void
assert_problem(AmSample *s, const char *text)
{
  if (has_problem_with(s, text))
    return;
  GString *all = g_string_new(NULL);
  for (guint i = 0; i < s->problems->len; i++)
    g_string_append_printf(all, "\n  %s", (char *)s->problems->pdata[i]);
  g_error("no problem mentions '%s'; problems:%s", text, all->str);
}

static AmChain *
chain_at(AmSample *s, guint pos)
{
  g_assert_cmpuint(pos, <, s->chains->len);
  return &g_array_index(s->chains, AmChain, pos);
}

static double
extra_double(AmSample *s, const char *name)
{
  return json_node_get_double(am_test_extra(s, name));
}

static const char *
extra_string(AmSample *s, const char *name)
{
  return json_node_get_string(am_test_extra(s, name));
}

static gboolean
has_extra(AmSample *s, const char *name)
{
  return json_object_has_member(s->extras, name);
}

/* A web fixture as the firmware sends it (no NUL), through the module's
 * own strict reader. */
static JsonObject *
web_fixture(const char *name)
{
  g_autofree char *path = am_test_path(name);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  g_file_get_contents(path, &text, &len, &error);
  g_assert_no_error(error);
  const char *command = strrchr(name, '_') + 1;
  JsonObject *reply = am_auradine_parse_body(command, text, len, &error);
  g_assert_no_error(error);
  return reply;
}

/* ---- one recorded reply at a time --------------------------------------- */

typedef enum { RPC, WEB } Api;

typedef struct {
  const char *name; /* fixture file part: "summary" */
  Api api;
  void (*check)(AmSample *s);
} Case;

static void
assert_unknown_numbers(AmSample *s)
{
  /* What no single reply other than summary tells stays unknown. */
  g_assert_cmpint(s->accepted, ==, U);
  g_assert_cmpint(s->rejected, ==, U);
  g_assert_cmpint(s->elapsed_s, ==, U);
}

static void
check_version(AmSample *s)
{
  g_assert_cmpstr(s->firmware, ==, "GCMiner");
  g_assert_cmpstr(s->firmware_version, ==, "0.5");
  g_assert_cmpstr(extra_string(s, "x_auradine_api_version"), ==, "1.0");
  assert_close(s->hashrate_ths, NAN, "hashrate");
  g_assert_cmpuint(s->chains->len, ==, 0);
  g_assert_null(s->model);
  g_assert_false(has_extra(s, "x_auradine_asic_count"));
  assert_unknown_numbers(s);
}

static void
check_summary(AmSample *s)
{
  /* "MHS 5s": 20599767.1774699, "MHS av": 7970630.042671183 (MH/s) */
  assert_close(s->hashrate_ths, 20.5997671774699, "hashrate");
  assert_close(s->hashrate_avg_ths, 7.970630042671183, "hashrate av");
  assert_close(s->hashrate_ideal_ths, NAN, "ideal");
  g_assert_cmpint(s->elapsed_s, ==, 56696);
  g_assert_cmpint(s->accepted, ==, 3310);
  g_assert_cmpint(s->rejected, ==, 1);
  g_assert_cmpint(s->hw_errors, ==, 0);
  /* This reply has no Wattage. */
  assert_close(s->power_w, NAN, "power");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_null(s->firmware_version);
}

static void
check_devs(AmSample *s)
{
  g_assert_cmpuint(s->chains->len, ==, 3);
  const double mhs[] = {6800000.0, 6900000.0, 7000000.0};
  const double temps[] = {28.25, 29.06, 30.12};
  for (guint i = 0; i < 3; i++) {
    AmChain *c = chain_at(s, i);
    g_assert_cmpint(c->index, ==, (gint)i + 1);
    assert_close(c->hashrate_ths, mhs[i] / 1e6, "chain hashrate");
    assert_close(c->temp_board_c, temps[i], "chain board temp");
    assert_close(c->temp_chip_c, NAN, "chain chip temp");
    assert_close(c->voltage_v, NAN, "chain voltage");
  }
  ASSERT_DOUBLES(s->temps_c, "temps", 28.25, 29.06, 30.12);
  assert_close(s->hashrate_ths, NAN, "hashrate");
}

static void
check_pools(AmSample *s)
{
  g_assert_cmpuint(s->pools->len, ==, 3);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://btc.viabtc.io:3333", "username.suffix",
                      "Alive", 0, 10, 1, U, TRUE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://stratum.slushpool.com:3333",
                      "username.suffix", "Dead", 1, 0, 0, U, FALSE);
  am_test_assert_pool(s->pools->pdata[2], "stratum+tcp://stratum.slushpool.com:3333",
                      "username.suffix", "Dead", 2, 0, 0, U, FALSE);
}

static void
check_asccount(AmSample *s)
{
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_auradine_asic_count")), ==, 396);
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_auradine_board_count")), ==, 3);
  g_assert_cmpint(s->chains_expected, ==, U);
  g_assert_cmpuint(s->chains->len, ==, 0);
}

static void
check_ipreport(AmSample *s)
{
  g_assert_cmpstr(s->model, ==, "Auradine AT1500");
  g_assert_cmpstr(s->mac, ==, "1c:00:00:0e:3b:2b");
  g_assert_cmpstr(s->serial, ==, "AU23200006");
  g_assert_cmpstr(s->hostname, ==, "teraflux-01");
  g_assert_cmpstr(extra_string(s, "x_auradine_fluxos_version"), ==, "2023-12.27");
  g_assert_cmpstr(extra_string(s, "x_auradine_control_board_serial"), ==, "AU23200006");
  g_assert_cmpstr(extra_string(s, "x_auradine_chassis_serial"), ==, "000020");
  g_assert_cmpstr(extra_string(s, "x_auradine_internal_type"), ==, "T0");
  /* HBSerialNo[i] is board ID i + 1. */
  g_assert_cmpuint(s->chains->len, ==, 3);
  const char *serials[] = {"QAHB01230908001X", "QAHB01230908001Y", "QAHB01230908001Z"};
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpint(chain_at(s, i)->index, ==, (gint)i + 1);
    g_assert_cmpstr(s->chain_serials->pdata[i], ==, serials[i]);
    assert_close(chain_at(s, i)->hashrate_ths, NAN, "chain hashrate");
  }
}

static void
check_temperature(AmSample *s)
{
  /* Hash Board 1..3: hottest BoardTemp and hottest ChipTemp. */
  g_assert_cmpuint(s->chains->len, ==, 3);
  const double board[] = {41.5, 43.0, 47.5};
  const double chip[] = {45.827271728515655, 48.220855712890625, 51.41230102539066};
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpint(chain_at(s, i)->index, ==, (gint)i + 1);
    assert_close(chain_at(s, i)->temp_board_c, board[i], "board temp");
    assert_close(chain_at(s, i)->temp_chip_c, chip[i], "chip temp");
    /* Which sensor sits at the inlet is not said: left unknown. */
    assert_close(chain_at(s, i)->temp_inlet_c, NAN, "inlet");
    assert_close(chain_at(s, i)->temp_outlet_c, NAN, "outlet");
  }
  ASSERT_DOUBLES(s->temps_c, "temps", 41.5, 43.0, 47.5);
  ASSERT_DOUBLES(s->chip_temps_c, "chip temps", 45.827271728515655, 48.220855712890625,
                 51.41230102539066);
  /* The control board (ID 0) is not a hashboard. */
  assert_close(extra_double(s, "x_auradine_control_board_temp_c"), 24.9375, "control board");
}

static void
check_fan(AmSample *s)
{
  ASSERT_DOUBLES(s->fans_rpm, "fans", 7080, 7020, 7100, 7020);
  g_assert_cmpint(s->fans_expected, ==, 4);
}

static void
check_psu(AmSample *s)
{
  assert_close(s->psu_power_in_w, 58.94, "psu in");
  assert_close(s->psu_power_out_w, 0.0, "psu out");
  assert_close(s->psu_fan_rpm, 4052.0, "psu fan");
  /* No summary: the PSU's input is the miner's power, measured. */
  assert_close(s->power_w, 58.94, "power");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  JsonArray *fans = json_node_get_array(am_test_extra(s, "x_auradine_psu_fans_rpm"));
  g_assert_cmpuint(json_array_get_length(fans), ==, 2);
  assert_close(json_array_get_double_element(fans, 0), 4052.0, "psu fan 1");
  assert_close(json_array_get_double_element(fans, 1), 4144.0, "psu fan 2");
  assert_close(extra_double(s, "x_auradine_psu_vin_v"), 245.0, "vin");
  assert_close(extra_double(s, "x_auradine_psu_iin_a"), 0.28, "iin");
  assert_close(extra_double(s, "x_auradine_psu_vout_v"), 11.53, "vout");
  assert_close(extra_double(s, "x_auradine_psu_iout_a"), 0.0, "iout");
  assert_close(extra_double(s, "x_auradine_psu_vout_set_v"), 11.50, "vout set");
  assert_close(extra_double(s, "x_auradine_psu_pout_max_w"), 3452.0, "pout max");
  g_assert_null(s->psu_serial);
}

static void
check_mode(AmSample *s)
{
  g_assert_cmpstr(s->work_mode, ==, "custom");
  assert_close(s->power_limit_w, 2000, "power limit");
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING); /* Sleep "off" */
  assert_close(extra_double(s, "x_auradine_target_ths"), 160, "target");
  assert_close(s->hashrate_ideal_ths, NAN, "ideal");
}

static void
check_led(AmSample *s)
{
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_auradine_led_code")), ==, 2);
  g_assert_cmpstr(extra_string(s, "x_auradine_led_message"), ==, "Normal");
  g_assert_false(json_node_get_boolean(am_test_extra(s, "x_auradine_locate")));
  g_assert_cmpuint(s->errors->len, ==, 0);
}

static void
check_voltage(AmSample *s)
{
  g_assert_cmpuint(s->chains->len, ==, 3);
  const double mean[] = {
      (0.23929554013739107 + 0.24232864508667262 + 0.2405087821171037) / 3,
      (0.2452606465376448 + 0.2464738885173574 + 0.2457661640291917) / 3,
      (0.24890037247678265 + 0.24879926897847326 + 0.24890037247678265) / 3,
  };
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpint(chain_at(s, i)->index, ==, (gint)i + 1);
    assert_close(chain_at(s, i)->voltage_v, mean[i], "voltage");
    assert_close(chain_at(s, i)->frequency_mhz, NAN, "frequency");
  }
}

static void
check_frequency(AmSample *s)
{
  g_assert_cmpuint(s->chains->len, ==, 3);
  const double mean[] = {(281.25 + 247.5 + 268.75) / 3, (327.5 + 323.75 + 328.75) / 3,
                         (391.25 + 352.5 + 166.25) / 3};
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpint(chain_at(s, i)->index, ==, (gint)i + 1);
    assert_close(chain_at(s, i)->frequency_mhz, mean[i], "frequency");
    assert_close(chain_at(s, i)->voltage_v, NAN, "voltage");
  }
}

static const Case cases[] = {
    {"version", RPC, check_version},
    {"summary", RPC, check_summary},
    {"devs", RPC, check_devs},
    {"pools", RPC, check_pools},
    {"asccount", RPC, check_asccount},
    {"ipreport", WEB, check_ipreport},
    {"temperature", WEB, check_temperature},
    {"fan", WEB, check_fan},
    {"psu", WEB, check_psu},
    {"mode", WEB, check_mode},
    {"led", WEB, check_led},
    {"voltage", WEB, check_voltage},
    {"frequency", WEB, check_frequency},
};

/* The slot of @replies that the reply named @name goes to. */
static JsonObject **
slot(AmAuradineReplies *r, const char *name)
{
  struct {
    const char *name;
    JsonObject **where;
  } slots[] = {{"version", &r->version},
               {"summary", &r->summary},
               {"devs", &r->devs},
               {"pools", &r->pools},
               {"asccount", &r->asccount},
               {"ipreport", &r->ipreport},
               {"temperature", &r->temperature},
               {"fan", &r->fan},
               {"psu", &r->psu},
               {"mode", &r->mode},
               {"led", &r->led},
               {"voltage", &r->voltage},
               {"frequency", &r->frequency}};
  for (gsize i = 0; i < G_N_ELEMENTS(slots); i++)
    if (g_str_equal(slots[i].name, name))
      return slots[i].where;
  g_assert_not_reached();
}

static JsonObject *
load_case(const Case *c)
{
  g_autofree char *rel = g_strdup_printf(FIXTURE("%s"), c->name);
  if (c->api == RPC)
    return am_test_fixture_object(rel); /* with the NUL, through the RPC repairs */
  g_autofree char *path = g_strconcat("fixtures/", rel, NULL);
  return web_fixture(path);
}

static void
test_fixture_case(gconstpointer data)
{
  const Case *c = data;
  g_autoptr(JsonObject) reply = load_case(c);
  AmAuradineReplies r = {0};
  *slot(&r, c->name) = reply;
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_auradine_parse(&r, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s->driver, ==, "auradine");
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  g_assert_false(s->partial);
  g_assert_cmpuint(s->problems->len, ==, 0);
  c->check(s);
  /* What the core does next must hold too. */
  am_sample_finish(s);
  json_node_unref(am_sample_to_json(s));
}

/* Every reply as one poll: the per-reply facts still stand, joined. */
static AmSample *
parse_all_fixtures(JsonObject **held)
{
  AmAuradineReplies r = {0};
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
    *slot(&r, cases[i].name) = held[i] = load_case(&cases[i]);
  g_autoptr(GError) error = NULL;
  AmSample *s = am_auradine_parse(&r, &error);
  g_assert_no_error(error);
  return s;
}

static void
assert_whole_poll(AmSample *s)
{
  g_assert_cmpstr(s->model, ==, "Auradine AT1500");
  g_assert_cmpstr(s->firmware_version, ==, "0.5");
  g_assert_cmpstr(s->mac, ==, "1c:00:00:0e:3b:2b");
  assert_close(s->hashrate_ths, 20.5997671774699, "hashrate");
  g_assert_cmpint(s->elapsed_s, ==, 56696);
  assert_close(s->power_w, 58.94, "power from the PSU");
  g_assert_cmpuint(s->chains->len, ==, 3);
  /* devs' Temperature is not counted besides the sensor readings. */
  ASSERT_DOUBLES(s->temps_c, "temps", 41.5, 43.0, 47.5);
  AmChain *c2 = chain_at(s, 1);
  g_assert_cmpint(c2->index, ==, 2);
  assert_close(c2->hashrate_ths, 6.9, "chain 2 hashrate");
  assert_close(c2->temp_board_c, 43.0, "chain 2 board");
  assert_close(c2->temp_chip_c, 48.220855712890625, "chain 2 chip");
  assert_close(c2->frequency_mhz, (327.5 + 323.75 + 328.75) / 3, "chain 2 frequency");
  assert_close(c2->voltage_v, (0.2452606465376448 + 0.2464738885173574 + 0.2457661640291917) / 3,
               "chain 2 voltage");
  g_assert_cmpstr(s->chain_serials->pdata[1], ==, "QAHB01230908001Y");
  ASSERT_DOUBLES(s->fans_rpm, "fans", 7080, 7020, 7100, 7020);
  g_assert_cmpuint(s->pools->len, ==, 3);
  g_assert_cmpstr(s->work_mode, ==, "custom");
  assert_close(s->power_limit_w, 2000, "limit");
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING);
}

static void
test_all_fixtures(void)
{
  JsonObject *held[G_N_ELEMENTS(cases)];
  g_autoptr(AmSample) s = parse_all_fixtures(held);
  assert_whole_poll(s);
  g_assert_false(s->partial);
  am_sample_finish(s);
  assert_close(s->temp_max_c, 51.41230102539066, "temp max");
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
    json_object_unref(held[i]);
}

/* ---- HAND-MADE variations ----------------------------------------------- */

static AmSample *
parse_one(const char *name, const char *json)
{
  g_autoptr(JsonObject) reply = am_test_object_from_string(json);
  AmAuradineReplies r = {0};
  *slot(&r, name) = reply;
  g_autoptr(GError) error = NULL;
  AmSample *s = am_auradine_parse(&r, &error);
  g_assert_no_error(error);
  return s;
}

#define OK_STATUS "\"STATUS\":[{\"STATUS\":\"S\",\"Code\":1,\"Msg\":\"ok\"}]"

static void
test_hand_made(void)
{
  /* HAND-MADE: asleep. */
  g_autoptr(AmSample) asleep = parse_one("mode", "{" OK_STATUS ",\"Mode\":[{\"Mode\":\"eco\","
                                                 "\"Sleep\":\"on\"}]}");
  g_assert_cmpint(asleep->mining, ==, AM_MINING_SLEEPING);
  g_assert_cmpstr(asleep->work_mode, ==, "low"); /* Mode "eco" */
  assert_close(asleep->power_limit_w, NAN, "no Power");
  /* HAND-MADE: Sleep missing: the state is not guessed. */
  g_autoptr(AmSample) unsaid =
      parse_one("mode", "{" OK_STATUS ",\"Mode\":[{\"Mode\":\"normal\"}]}");
  g_assert_cmpint(unsaid->mining, ==, AM_MINING_UNKNOWN);

  /* HAND-MADE: an LED fault code becomes a vendor error in its words. */
  g_autoptr(AmSample) led =
      parse_one("led", "{" OK_STATUS ",\"LED\":[{\"Code\":5,\"Msg\":\"Fan failure\"}]}");
  g_assert_cmpuint(led->errors->len, ==, 1);
  AmMinerError *e = led->errors->pdata[0];
  g_assert_cmpstr(e->code, ==, "5");
  g_assert_cmpstr(e->message, ==, "Fan failure");
  g_assert_cmpint(e->severity, ==, AM_ERROR_SEVERITY_WARNING);
  /* HAND-MADE: code 3 is the locate blink, not a fault. */
  g_autoptr(AmSample) locate = parse_one("led", "{" OK_STATUS ",\"LED\":[{\"Code\":3}]}");
  g_assert_cmpuint(locate->errors->len, ==, 0);
  g_assert_true(json_node_get_boolean(am_test_extra(locate, "x_auradine_locate")));

  /* HAND-MADE: SUMMARY Wattage wins over the PSU's PowerIn. */
  g_autoptr(JsonObject) summary = am_test_object_from_string(
      "{" OK_STATUS ",\"SUMMARY\":[{\"MHS 5s\":1000000,\"Wattage\":3500}]}");
  g_autoptr(JsonObject) psu = web_fixture("fixtures/" FIXTURE("psu"));
  AmAuradineReplies r = {.summary = summary, .psu = psu};
  g_autoptr(AmSample) both = am_auradine_parse(&r, NULL);
  assert_close(both->power_w, 3500, "Wattage");
  assert_close(both->psu_power_in_w, 58.94, "psu in");
  assert_close(both->hashrate_ths, 1.0, "1 TH/s");

  /* HAND-MADE: a unit that changed is not misread. */
  g_autoptr(AmSample) amps =
      parse_one("psu", "{" OK_STATUS ",\"PSU\":[{\"PowerIn\":\"58.94A\",\"FanSpeed1\":\"10 %\"}]}");
  assert_close(amps->psu_power_in_w, NAN, "PowerIn in A");
  assert_close(amps->power_w, NAN, "no power");
  assert_close(amps->psu_fan_rpm, NAN, "fan in %");

  /* HAND-MADE: sensor faults (0, 255) are dropped, never the hottest. */
  g_autoptr(AmSample) faults = parse_one(
      "temperature", "{" OK_STATUS ",\"Temperature\":[{\"ID\":1,\"BoardTemp\":[{\"Temperature\":0},"
                     "{\"Temperature\":255},{\"Temperature\":40}],\"ChipTemp\":null}]}");
  assert_close(chain_at(faults, 0)->temp_board_c, 40, "board");
  assert_close(chain_at(faults, 0)->temp_chip_c, NAN, "no chips");
  ASSERT_DOUBLES(faults->temps_c, "temps", 40);
  g_assert_cmpuint(faults->chip_temps_c->len, ==, 0);

  /* HAND-MADE: chips reading 0 V / 0 MHz are not averaged in. */
  g_autoptr(AmSample) zeros =
      parse_one("voltage", "{" OK_STATUS ",\"Voltage\":[{\"ID\":2,\"ChipVoltage\":[{\"Voltage\":0},"
                           "{\"Voltage\":0.3}]},{\"ID\":3,\"ChipVoltage\":[{\"Voltage\":0}]}]}");
  g_assert_cmpuint(zeros->chains->len, ==, 1);
  g_assert_cmpint(chain_at(zeros, 0)->index, ==, 2);
  assert_close(chain_at(zeros, 0)->voltage_v, 0.3, "voltage");
}

/* A reply that came without its section names the section. */
static void
test_missing_sections(void)
{
  static const struct {
    const char *name, *section;
  } all[] = {{"ipreport", "IPReport"}, {"temperature", "Temperature"},
             {"fan", "Fan"},           {"psu", "PSU"},
             {"mode", "Mode"},         {"led", "LED"},
             {"voltage", "Voltage"},   {"frequency", "Frequency"},
             {"devs", "DEVS"},         {"pools", "POOLS"},
             {"summary", "SUMMARY"}};
  for (gsize i = 0; i < G_N_ELEMENTS(all); i++) {
    g_autoptr(AmSample) s = parse_one(all[i].name, "{" OK_STATUS "}");
    assert_problem(s, all[i].section);
  }
}

static void
test_no_replies(void)
{
  AmAuradineReplies none = {0};
  g_autoptr(GError) error = NULL;
  g_assert_null(am_auradine_parse(&none, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
}

static void
test_bad_bodies(void)
{
  static const struct {
    const char *body;
    gint code;
    const char *says;
  } bad[] = {
      {"", AM_ERROR_PARSE, "web fan: empty reply"},
      {"{\"Fan\":[", AM_ERROR_PARSE, "web fan: not JSON"},
      {"[1,2]", AM_ERROR_PARSE, "web fan: not a JSON object"},
      {"<html>login</html>", AM_ERROR_PARSE, "web fan: not JSON"},
      {"{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":23,\"Msg\":\"Invalid token\"}]}", AM_ERROR_AUTH,
       "Invalid token"},
      {"{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":14,\"Msg\":\"Invalid command\"}]}", AM_ERROR_API,
       "Invalid command"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(am_auradine_parse_body("fan", bad[i].body, strlen(bad[i].body), &error));
    g_assert_error(error, AM_ERROR, bad[i].code);
    if (strstr(error->message, bad[i].says) == NULL)
      g_error("'%s' does not say '%s'", error->message, bad[i].says);
  }
}

static void
test_token(void)
{
  g_autoptr(JsonObject) good =
      am_test_object_from_string("{" OK_STATUS ",\"Token\":[{\"Token\":\"a1b2\"}]}");
  g_assert_cmpstr(am_auradine_token(good, NULL), ==, "a1b2");
  static const char *const bad[] = {"{" OK_STATUS "}", "{\"Token\":[]}", "{\"Token\":[{}]}",
                                    "{\"Token\":[{\"Token\":\"\"}]}",
                                    "{\"Token\":[{\"Token\":7}]}"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(JsonObject) reply = am_test_object_from_string(bad[i]);
    g_autoptr(GError) error = NULL;
    g_assert_null(am_auradine_token(reply, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  }
}

static void
test_match(void)
{
  /* Every recorded version reply of every firmware: only Auradine's. */
  g_autoptr(GPtrArray) files = am_test_version_fixtures();
  g_assert_cmpuint(files->len, >, 5);
  for (guint i = 0; i < files->len; i++) {
    const char *file = files->pdata[i];
    g_autoptr(JsonObject) reply = am_test_fixture_object(file);
    AmFingerprint fp;
    am_test_fingerprint_init(&fp, reply);
    AmMatch expected =
        g_str_has_prefix(file, "auradine/") ? AM_MATCH_SUPPORTED : AM_MATCH_UNSUPPORTED;
    if (am_auradine_match(&fp) != expected)
      g_error("%s: match %d, expected %d", file, am_auradine_match(&fp), expected);
  }
  /* FluxOS builds name the OS in Description (the asccount reply). */
  g_autoptr(JsonObject) flux = am_test_fixture_object(FIXTURE("asccount"));
  AmFingerprint fp;
  am_test_fingerprint_init(&fp, flux);
  g_assert_cmpint(am_auradine_match(&fp), ==, AM_MATCH_SUPPORTED);
  /* HAND-MADE: a VERSION with a GCMiner member, Description a bare number. */
  g_autoptr(JsonObject) bare =
      am_test_object_from_string("{\"STATUS\":[{\"STATUS\":\"S\",\"Description\":\"2.2.0\"}],"
                                 "\"VERSION\":[{\"GCMiner\":\"2.2\"}]}");
  am_test_fingerprint_init(&fp, bare);
  g_assert_cmpint(am_auradine_match(&fp), ==, AM_MATCH_SUPPORTED);
  /* A web page only. */
  AmFingerprint page = {
      .struct_size = sizeof(AmFingerprint), .http_open = TRUE, .http_title = "Auradine Miner"};
  g_assert_cmpint(am_auradine_match(&page), ==, AM_MATCH_LIKELY);
  page.http_title = "Bitaxe";
  g_assert_cmpint(am_auradine_match(&page), ==, AM_MATCH_UNSUPPORTED);
  AmFingerprint empty = {.struct_size = sizeof(AmFingerprint)};
  g_assert_cmpint(am_auradine_match(&empty), ==, AM_MATCH_UNSUPPORTED);
  g_assert_cmpint(am_auradine_match(NULL), ==, AM_MATCH_UNSUPPORTED);
}

/* ---- the module against a local RPC server and web API ------------------ */

typedef struct {
  /* RPC on a GSocketService (its own threads) */
  GSocketService *rpc;
  guint16 rpc_port;
  GHashTable *rpc_replies; /* command -> GBytes, read-only while serving */
  /* web on a SoupServer (the main context) */
  SoupServer *web;
  guint16 web_port;
  const char *password; /* the miner's; user is admin */
  char *token;          /* the valid one, NULL before a login */
  guint logins, gets, refused_gets;
  const char *garbage_for; /* a command answered with a broken body */
  const char *absent;      /* a command answered 404 */
  GPtrArray *paused;
} Fake;

static gboolean
on_rpc_connection(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
                  gpointer user_data)
{
  Fake *fake = user_data;
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
  char request[512];
  gsize len = 0;
  while (len < sizeof request - 1) {
    gssize n = g_input_stream_read(in, request + len, sizeof request - 1 - len, NULL, NULL);
    if (n <= 0)
      break;
    len += (gsize)n;
    request[len] = '\0';
    if (strchr(request, '}') != NULL)
      break;
  }
  request[len] = '\0';
  g_autoptr(JsonParser) parser = json_parser_new();
  const char *command = NULL;
  if (json_parser_load_from_data(parser, request, (gssize)len, NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    command = am_json_string(json_node_get_object(json_parser_get_root(parser)), "command");
  static const char invalid[] = "{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":14,\"Msg\":\"Invalid "
                                "command\",\"Description\":\"GCMiner-0.5\"}],\"id\":1}";
  GBytes *reply = command != NULL ? g_hash_table_lookup(fake->rpc_replies, command) : NULL;
  gsize size = sizeof invalid; /* the NUL included, as cgminer sends it */
  const void *bytes = reply != NULL ? g_bytes_get_data(reply, &size) : invalid;
  g_output_stream_write_all(out, bytes, size, NULL, NULL, NULL);
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  return TRUE;
}

static void
fake_rpc_start(Fake *fake)
{
  fake->rpc = g_threaded_socket_service_new(4);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(fake->rpc), any, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  fake->rpc_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(fake->rpc, "run", G_CALLBACK(on_rpc_connection), fake);
  g_socket_service_start(fake->rpc);
}

static void
fake_rpc_stop(Fake *fake)
{
  if (fake->rpc == NULL)
    return;
  g_socket_service_stop(fake->rpc);
  g_socket_listener_close(G_SOCKET_LISTENER(fake->rpc));
  g_clear_object(&fake->rpc);
}

static void
reply_json(SoupServerMessage *msg, guint status, char *body /* transfer full */)
{
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, body, strlen(body));
  soup_server_message_set_status(msg, status, NULL);
}

/* POST /token {"command":"token","user","password"}: a fresh token for the
 * right login, STATUS E for a wrong one (HTTP 200, as the API answers). */
static void
serve_token(Fake *fake, SoupServerMessage *msg)
{
  fake->logins++;
  g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *req = NULL;
  if (g_str_equal(soup_server_message_get_method(msg), SOUP_METHOD_POST) &&
      json_parser_load_from_data(parser, g_bytes_get_data(body, NULL),
                                 (gssize)g_bytes_get_size(body), NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    req = json_node_get_object(json_parser_get_root(parser));
  if (g_strcmp0(am_json_string(req, "command"), "token") != 0 ||
      g_strcmp0(am_json_string(req, "user"), "admin") != 0 ||
      g_strcmp0(am_json_string(req, "password"), fake->password) != 0) {
    reply_json(msg, SOUP_STATUS_OK,
               g_strdup("{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":401,\"Msg\":\"Invalid user or "
                        "password\",\"Description\":\"GCMiner-0.5\"}],\"id\":1}"));
    return;
  }
  g_free(fake->token);
  fake->token = g_strdup_printf("tok-%u", fake->logins);
  reply_json(msg, SOUP_STATUS_OK,
             g_strdup_printf("{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":600,\"Msg\":\"Token\"}],"
                             "\"Token\":[{\"Token\":\"%s\"}],\"id\":1}",
                             fake->token));
}

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer user_data)
{
  Fake *fake = user_data;
  if (g_str_equal(path, "/token")) {
    serve_token(fake, msg);
    return;
  }
  fake->gets++;
  const char *token =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Token");
  if (!g_str_equal(soup_server_message_get_method(msg), SOUP_METHOD_GET) || fake->token == NULL ||
      g_strcmp0(token, fake->token) != 0) {
    fake->refused_gets++;
    soup_server_message_set_status(msg, SOUP_STATUS_UNAUTHORIZED, NULL);
    return;
  }
  const char *command = path + 1;
  if (g_strcmp0(command, fake->absent) == 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (g_strcmp0(command, fake->garbage_for) == 0) {
    reply_json(msg, SOUP_STATUS_OK, g_strdup("{\"PSU\":[{\"PowerIn\":"));
    return;
  }
  g_autofree char *file = g_strdup_printf("fixtures/" FIXTURE("%s"), command);
  g_autofree char *full = am_test_path(file);
  char *text = NULL;
  if (strchr(command, '/') != NULL || !g_file_get_contents(full, &text, NULL, NULL)) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  reply_json(msg, SOUP_STATUS_OK, text);
}

static void
fake_start(Fake *fake)
{
  *fake = (Fake){.password = "admin", .paused = g_ptr_array_new_with_free_func(g_object_unref)};
  fake->rpc_replies =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_bytes_unref);
  static const char *const rpc[] = {"version", "summary", "devs", "pools", "asccount"};
  for (gsize i = 0; i < G_N_ELEMENTS(rpc); i++) {
    g_autofree char *rel = g_strdup_printf(FIXTURE("%s"), rpc[i]);
    g_hash_table_insert(fake->rpc_replies, (gpointer)rpc[i], am_test_fixture_bytes(rel));
  }
  fake_rpc_start(fake);
  fake->web = soup_server_new(NULL, NULL);
  soup_server_add_handler(fake->web, NULL, serve, fake, NULL);
  fake->web_port = am_test_soup_listen_loopback(fake->web);
}

static void
fake_web_stop(Fake *fake)
{
  if (fake->web == NULL)
    return;
  am_test_soup_stop(fake->web, fake->paused);
  fake->web = NULL;
  fake->paused = NULL;
}

static void
fake_stop(Fake *fake)
{
  fake_rpc_stop(fake);
  fake_web_stop(fake);
  g_hash_table_unref(fake->rpc_replies);
  g_free(fake->token);
}

typedef struct {
  AmLoadedPlugin *plugin;
  const AmPluginInfo *info;
  gpointer self;
} Driver;

/* The driver made from @ini ("" for no group: every key at its default). */
static void
driver_open(Driver *d, const char *ini)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-auradine.so", NULL);
  g_autoptr(GError) error = NULL;
  d->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  d->info = d->plugin->info;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  d->self = d->info->create(NULL, kf, "driver:auradine", &error);
  g_assert_no_error(error);
}

static void
driver_open_for(Driver *d, Fake *fake, const char *password)
{
  g_autofree char *ini =
      g_strdup_printf("[driver:auradine]\nweb_port=%u\n%s%s\n", fake->web_port,
                      password != NULL ? "password=" : "", password != NULL ? password : "");
  driver_open(d, ini);
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
driver_poll(Driver *d, guint16 rpc_port, GError **error)
{
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", rpc_port);
  am_miner_set_timeout_ms(miner, 5000);
  GAsyncResult *result = NULL;
  d->info->vtable.driver->poll_async(d->self, miner, NULL, on_poll_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmSample *sample = d->info->vtable.driver->poll_finish(d->self, result, error);
  g_object_unref(result);
  return sample;
}

static void
test_module_config(void)
{
  Driver d;
  driver_open(&d, "");
  g_assert_cmpstr(d.info->name, ==, "auradine");
  g_assert_cmpint(d.info->kind, ==, AM_PLUGIN_KIND_DRIVER);
  g_autoptr(JsonObject) version = am_test_fixture_object(FIXTURE("version"));
  AmFingerprint fp;
  am_test_fingerprint_init(&fp, version);
  g_assert_cmpint(d.info->vtable.driver->match(d.self, &fp), ==, AM_MATCH_SUPPORTED);

  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, d.info->sample_config, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  const char *keys[] = {"enabled", "web_port", "user", "password", "timeout"};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_true(g_key_file_has_key(kf, "driver:auradine", keys[i], NULL));
  g_auto(GStrv) all = g_key_file_get_keys(kf, "driver:auradine", NULL, NULL);
  g_assert_cmpuint(g_strv_length(all), ==, G_N_ELEMENTS(keys));
  g_autofree char *user = g_key_file_get_string(kf, "driver:auradine", "user", NULL);
  g_autofree char *password = g_key_file_get_string(kf, "driver:auradine", "password", NULL);
  g_assert_cmpstr(user, ==, "admin");
  g_assert_cmpstr(password, ==, "admin");
  gpointer self = d.info->create(NULL, kf, "driver:auradine", &error);
  g_assert_no_error(error);
  d.info->destroy(self);

  static const char *const wrong[][2] = {
      {"web_port", "0"}, {"web_port", "http"}, {"timeout", "soon"}};
  for (gsize i = 0; i < G_N_ELEMENTS(wrong); i++) {
    g_autoptr(GKeyFile) bad = g_key_file_new();
    g_key_file_load_from_data(bad, d.info->sample_config, -1, G_KEY_FILE_NONE, NULL);
    g_key_file_set_string(bad, "driver:auradine", wrong[i][0], wrong[i][1]);
    g_assert_null(d.info->create(NULL, bad, "driver:auradine", &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, wrong[i][0]));
    g_clear_error(&error);
  }
  driver_close(&d);
}

/* Both APIs answer: the whole sample, one login, then the token reused. */
static void
test_module_poll(void)
{
  Fake fake;
  fake_start(&fake);
  Driver d;
  driver_open_for(&d, &fake, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = driver_poll(&d, fake.rpc_port, &error);
  g_assert_no_error(error);
  assert_whole_poll(s);
  g_assert_false(s->partial);
  g_assert_cmpuint(s->problems->len, ==, 0);
  g_assert_cmpuint(fake.logins, ==, 1);
  g_assert_cmpuint(fake.gets, ==, 8);
  g_assert_cmpuint(fake.refused_gets, ==, 0);

  g_autoptr(AmSample) again = driver_poll(&d, fake.rpc_port, &error);
  g_assert_no_error(error);
  g_assert_false(again->partial);
  g_assert_cmpuint(fake.logins, ==, 1);
  g_assert_cmpuint(fake.gets, ==, 16);
  driver_close(&d);
  fake_stop(&fake);
}

/* The firmware forgot the token (a reboot): one refused GET, a new login,
 * and the poll goes on. */
static void
test_module_token_expired(void)
{
  Fake fake;
  fake_start(&fake);
  Driver d;
  driver_open_for(&d, &fake, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) first = driver_poll(&d, fake.rpc_port, &error);
  g_assert_no_error(error);
  g_clear_pointer(&fake.token, g_free);
  g_autoptr(AmSample) s = driver_poll(&d, fake.rpc_port, &error);
  g_assert_no_error(error);
  g_assert_false(s->partial);
  assert_whole_poll(s);
  g_assert_cmpuint(fake.logins, ==, 2);
  g_assert_cmpuint(fake.refused_gets, ==, 1);
  driver_close(&d);
  fake_stop(&fake);
}

/* A wrong password: the RPC part stands, marked partial, and the problem
 * says what to fix without the password in it. */
static void
test_module_wrong_password(void)
{
  Fake fake;
  fake_start(&fake);
  fake.password = "s3cret-on-miner";
  Driver d;
  driver_open_for(&d, &fake, "wrong-pass-123");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = driver_poll(&d, fake.rpc_port, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  assert_problem(s, "web API: 127.0.0.1:");
  assert_problem(s, "login as 'admin' refused (wrong user or password?)");
  assert_problem(s, "Invalid user or password");
  g_assert_false(has_problem_with(s, "wrong-pass-123"));
  g_assert_false(has_problem_with(s, "s3cret"));
  assert_close(s->hashrate_ths, 20.5997671774699, "RPC hashrate");
  g_assert_null(s->mac);
  g_assert_cmpuint(fake.gets, ==, 0);
  am_sample_finish(s);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);

  /* Without the RPC as well, the poll fails with the login's error. */
  fake_rpc_stop(&fake);
  g_autoptr(AmSample) none = driver_poll(&d, fake.rpc_port, &error);
  g_assert_null(none);
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_nonnull(strstr(error->message, "refused"));
  g_assert_null(strstr(error->message, "wrong-pass-123"));
  driver_close(&d);
  fake_stop(&fake);
}

/* [miner:NAME] password= wins over the driver's. */
static void
test_module_miner_credentials(void)
{
  Fake fake;
  fake_start(&fake);
  fake.password = "per-miner";
  Driver d;
  driver_open_for(&d, &fake, NULL);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", fake.rpc_port);
  am_miner_set_credentials(miner, "admin", "per-miner");
  GAsyncResult *result = NULL;
  d.info->vtable.driver->poll_async(d.self, miner, NULL, on_poll_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = d.info->vtable.driver->poll_finish(d.self, result, &error);
  g_object_unref(result);
  g_assert_no_error(error);
  g_assert_false(s->partial);
  g_assert_cmpstr(s->mac, ==, "1c:00:00:0e:3b:2b");
  /* The token's reply is not kept for the raw view; the reads are. */
  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  g_assert_false(json_object_has_member(json_node_get_object(raw), "web/token"));
  driver_close(&d);
  fake_stop(&fake);
}

/* 8080 closed: the RPC part, marked partial. */
static void
test_module_web_closed(void)
{
  Fake fake;
  fake_start(&fake);
  Driver d;
  driver_open_for(&d, &fake, NULL);
  fake_web_stop(&fake);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = driver_poll(&d, fake.rpc_port, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  assert_problem(s, "web API: ");
  assert_problem(s, "connection refused");
  assert_close(s->hashrate_ths, 20.5997671774699, "hashrate");
  g_assert_cmpint(s->elapsed_s, ==, 56696);
  g_assert_cmpstr(s->firmware_version, ==, "0.5");
  g_assert_cmpuint(s->pools->len, ==, 3);
  g_assert_cmpuint(s->chains->len, ==, 3);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  driver_close(&d);
  fake_stop(&fake);
}

/* 4028 closed: the web part, marked partial. */
static void
test_module_rpc_closed(void)
{
  Fake fake;
  fake_start(&fake);
  fake_rpc_stop(&fake);
  Driver d;
  driver_open_for(&d, &fake, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = driver_poll(&d, fake.rpc_port, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  assert_problem(s, "RPC: ");
  assert_close(s->hashrate_ths, NAN, "no hashrate");
  g_assert_cmpstr(s->mac, ==, "1c:00:00:0e:3b:2b");
  check_fan(s);
  assert_close(s->power_w, 58.94, "power");

  /* Neither: the poll fails, naming both. */
  fake_web_stop(&fake);
  g_autoptr(AmSample) none = driver_poll(&d, fake.rpc_port, &error);
  g_assert_null(none);
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
  g_assert_nonnull(strstr(error->message, "RPC: "));
  g_assert_nonnull(strstr(error->message, "web API: "));
  driver_close(&d);
  fake_stop(&fake);
}

/* One broken body, one RPC command refused, one web command missing: the
 * rest stands; the first two are named, the 404 is no loss. */
static void
test_module_drift(void)
{
  Fake fake;
  fake_start(&fake);
  fake.garbage_for = "psu";
  fake.absent = "voltage";
  g_hash_table_remove(fake.rpc_replies, "devs");
  Driver d;
  driver_open_for(&d, &fake, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = driver_poll(&d, fake.rpc_port, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  assert_problem(s, "web psu: not JSON");
  assert_problem(s, "RPC devs: not answered");
  g_assert_cmpuint(s->problems->len, ==, 2);
  assert_close(s->psu_power_in_w, NAN, "no psu");
  assert_close(s->power_w, NAN, "no power");
  assert_close(chain_at(s, 0)->voltage_v, NAN, "no voltage");
  assert_close(chain_at(s, 0)->frequency_mhz, (281.25 + 247.5 + 268.75) / 3, "frequency");
  assert_close(chain_at(s, 0)->hashrate_ths, NAN, "no devs");
  assert_close(s->hashrate_ths, 20.5997671774699, "hashrate");
  driver_close(&d);
  fake_stop(&fake);
}

/* The RPC "pools" reply does not parse (a firmware update broke it): the
 * other RPC replies and the web API still make the sample, partial,
 * naming the command; with one batch the whole RPC half was lost. */
static void
test_module_rpc_garbage(void)
{
  Fake fake;
  fake_start(&fake);
  static const char garbage[] = "{\"STATUS\":[{\"STATUS\":\"S\"}],\"POOLS\":[{\x01\x02 <html>";
  g_hash_table_replace(fake.rpc_replies, "pools", g_bytes_new_static(garbage, sizeof garbage));
  Driver d;
  driver_open_for(&d, &fake, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = driver_poll(&d, fake.rpc_port, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  assert_problem(s, "RPC pools: ");
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_assert_cmpuint(s->pools->len, ==, 0);
  /* SUMMARY "MHS 5s" 20599767.1774699 and DEVS ID 1 "MHS 5s" 6800000.0. */
  assert_close(s->hashrate_ths, 20.5997671774699, "hashrate");
  assert_close(chain_at(s, 0)->hashrate_ths, 6.8, "board 1");
  driver_close(&d);
  fake_stop(&fake);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = g_strdup_printf("/auradine/fixture/%s", cases[i].name);
    g_test_add_data_func(path, &cases[i], test_fixture_case);
  }
  g_test_add_func("/auradine/all-fixtures", test_all_fixtures);
  g_test_add_func("/auradine/hand-made", test_hand_made);
  g_test_add_func("/auradine/missing-sections", test_missing_sections);
  g_test_add_func("/auradine/no-replies", test_no_replies);
  g_test_add_func("/auradine/bad-bodies", test_bad_bodies);
  g_test_add_func("/auradine/token", test_token);
  g_test_add_func("/auradine/match", test_match);
  g_test_add_func("/auradine/module/config", test_module_config);
  g_test_add_func("/auradine/module/poll", test_module_poll);
  g_test_add_func("/auradine/module/token-expired", test_module_token_expired);
  g_test_add_func("/auradine/module/wrong-password", test_module_wrong_password);
  g_test_add_func("/auradine/module/miner-credentials", test_module_miner_credentials);
  g_test_add_func("/auradine/module/web-closed", test_module_web_closed);
  g_test_add_func("/auradine/module/rpc-closed", test_module_rpc_closed);
  g_test_add_func("/auradine/module/drift", test_module_drift);
  g_test_add_func("/auradine/module/rpc-garbage", test_module_rpc_garbage);
  return g_test_run();
}
