/* Tests of the sealminer driver: the parser on the six recorded replies in
 * tests/fixtures/sealminer/ (one poll of a SealMiner A2), field by field
 * with values read by hand from the files; each reply missing in turn;
 * hand-made variations (marked HAND-MADE) for errors the recorded miner did
 * not show; bad web bodies; match(); and the built module against an
 * in-process cgminer RPC server and a SoupServer on 127.0.0.1 that does the
 * web UI's login (POST /cgi-bin/login.php, then a session cookie). */
#include "../common/am-driver-test-util.h"
#include "am-plugin-loader.h"
#include "am-sealminer-parse.h"
#include "am-test-util.h"

#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#define U AM_UNKNOWN
#define FIX "sealminer/asicrs-v2025_"

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

static JsonObject *
web_fixture(const char *name)
{
  g_autofree char *rel = g_strdup_printf("fixtures/" FIX "%s.json", name);
  g_autofree char *path = am_test_path(rel);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &text, &len, NULL));
  g_autoptr(GError) error = NULL;
  JsonObject *obj = am_sealminer_parse_web("/cgi-bin/x.php", text, len, &error);
  g_assert_no_error(error);
  return obj;
}

enum { R_STATS, R_SUMMARY, R_POOLS, R_VERSION, R_SYSINFO, R_PSU, N_R };

static void
replies_load(AmSealminerReplies *r, guint skip_mask)
{
  memset(r, 0, sizeof *r);
  if (!(skip_mask & (1u << R_STATS)))
    r->stats = am_test_fixture_object(FIX "stats.json");
  if (!(skip_mask & (1u << R_SUMMARY)))
    r->summary = am_test_fixture_object(FIX "summary.json");
  if (!(skip_mask & (1u << R_POOLS)))
    r->pools = am_test_fixture_object(FIX "pools.json");
  if (!(skip_mask & (1u << R_VERSION)))
    r->version = am_test_fixture_object(FIX "version.json");
  if (!(skip_mask & (1u << R_SYSINFO)))
    r->system_info = web_fixture("get_system_info");
  if (!(skip_mask & (1u << R_PSU)))
    r->psu_status = web_fixture("miner_psu_status");
}

static void
replies_clear(AmSealminerReplies *r)
{
  JsonObject **all[] = {&r->stats,   &r->summary,     &r->pools,
                        &r->version, &r->system_info, &r->psu_status};
  for (guint i = 0; i < G_N_ELEMENTS(all); i++)
    g_clear_pointer(all[i], json_object_unref);
}

static AmSample *
parse_ok(const AmSealminerReplies *r)
{
  g_autoptr(GError) error = NULL;
  AmSample *s = am_sealminer_parse(r, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  am_sample_finish(s);
  return s;
}

static const char *
extra_string(AmSample *s, const char *name)
{
  return json_node_get_string(am_test_extra(s, name));
}

static double
extra_double(AmSample *s, const char *name)
{
  return json_node_get_double(am_test_extra(s, name));
}

/* ---- what each recorded reply gives, read by hand ------------------------ */

static void
assert_stats(AmSample *s)
{
  /* asicrs-v2025_stats.json, STATS[0] */
  g_assert_cmpstr(s->model, ==, "SealMiner A2");
  g_assert_cmpstr(s->firmware_version, ==, "2025091001");
  g_assert_cmpstr(s->serial, ==, "S127200252001850");
  g_assert_cmpstr(s->mac, ==, "50:d4:48:4b:86:78");
  assert_close(s->hashrate_ideal_ths, 221.663472, "ideal");
  assert_close(extra_double(s, "x_sealminer_rated_ths"), 230.83940728559, "rated");
  assert_close(s->power_limit_w, 3500, "power limit");
  g_assert_cmpstr(s->work_mode, ==, "normal");
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING);
  g_assert_false(s->liquid_cooled);
  assert_close(s->psu_power_in_w, 3504, "PSU input");
  assert_close(s->psu_power_out_w, 3232, "PSU output");
  assert_close(s->psu_fan_rpm, 4408, "PSU fan");
  g_assert_cmpstr(s->psu_serial, ==, "3C251501801");
  assert_close(s->power_w, 3504, "power");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  static const struct {
    double ths, mhz, temp;
    const char *serial;
  } boards[] = {{73.905832003432, 349, 70, "S124600252004637"},
                {73.626639194207, 347, 70, "S124600252004521"},
                {72.846394903347, 344, 70, "S124600252004476"}};
  g_assert_cmpuint(s->chains->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    AmChain *c = &g_array_index(s->chains, AmChain, i);
    g_assert_cmpint(c->index, ==, (gint)i);
    assert_close(c->hashrate_ths, boards[i].ths, "chain hashrate");
    assert_close(c->frequency_mhz, boards[i].mhz, "chain frequency");
    assert_close(c->temp_board_c, boards[i].temp, "chain board temperature");
    assert_close(c->voltage_v, NAN, "chain voltage (not reported)");
    assert_close(c->temp_inlet_c, NAN, "chain inlet (sensor places not named)");
    g_assert_cmpint(c->chips, ==, 153);
    g_assert_cmpint(c->chips_failed, ==, 0);
    g_assert_cmpint(c->chips_ok, ==, 153);
    g_assert_cmpstr(g_ptr_array_index(s->chain_serials, i), ==, boards[i].serial);
  }
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 70, 70, 70);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 3723, 3723, 3753, 3723);
  g_assert_cmpint(s->fans_expected, ==, 4);
  g_assert_cmpstr(extra_string(s, "x_sealminer_software_version"), ==, "4.11.1-08690-gd309fbe0");
  g_assert_cmpstr(extra_string(s, "x_sealminer_control_board"), ==, "taurus_air_v1.1");
  g_assert_cmpstr(extra_string(s, "x_sealminer_asic"), ==, "Seal02-V1");
  g_assert_cmpstr(extra_string(s, "x_sealminer_tune_status"), ==, "Fine Tuning Done");
  g_assert_cmpstr(extra_string(s, "x_sealminer_pm_state"), ==, "Running");
  g_assert_cmpint(json_node_get_int(am_test_extra(s, "x_sealminer_system_uptime_s")), ==, 2743);
  g_assert_cmpstr(extra_string(s, "x_sealminer_psu_model"), ==, "BTPSU04KSA-03.00");
  g_assert_cmpstr(extra_string(s, "x_sealminer_psu_firmware"), ==, "222121");
  assert_close(extra_double(s, "x_sealminer_psu_input_voltage_v"), 246.0, "PSU in V");
  assert_close(extra_double(s, "x_sealminer_psu_output_voltage_v"), 15.671, "PSU out V");
  assert_close(extra_double(s, "x_sealminer_psu_output_current_a"), 206.0, "PSU out A");
  assert_close(extra_double(s, "x_sealminer_psu_temp_c"), 26, "PSU temperature");
}

static void
assert_summary(AmSample *s)
{
  /* asicrs-v2025_summary.json, SUMMARY[0] */
  assert_close(s->hashrate_ths, 368.47943278, "hashrate (MHS 5s)");
  assert_close(s->hashrate_avg_ths, 206.86047351, "hashrate (MHS av)");
  g_assert_cmpint(s->elapsed_s, ==, 2481);
  g_assert_cmpint(s->accepted, ==, 1421);
  g_assert_cmpint(s->rejected, ==, 3);
  g_assert_cmpint(s->hw_errors, ==, 54);
  assert_close(s->best_share, 33318911, "best share");
  g_assert_cmpint(s->found_blocks, ==, 0);
}

static void
assert_full(AmSample *s)
{
  g_assert_cmpstr(s->driver, ==, "sealminer");
  g_assert_cmpstr(s->firmware, ==, "BDMiner");
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  assert_stats(s);
  assert_summary(s);
  /* asicrs-v2025_pools.json */
  g_assert_cmpuint(s->pools->len, ==, 1);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://stratum.braiins.com:3333",
                      "Dow_Mining.SealMinerA2", "Alive", 0, 322, 1, 0, TRUE);
  /* asicrs-v2025_version.json */
  g_assert_cmpstr(extra_string(s, "x_sealminer_bdminer_version"), ==, "4.11.1");
  g_assert_cmpstr(extra_string(s, "x_sealminer_api_version"), ==, "3.7");
  /* asicrs-v2025_get_system_info.json */
  g_assert_cmpstr(extra_string(s, "x_sealminer_led"), ==, "on");
  /* asicrs-v2025_miner_psu_status.json */
  assert_close(extra_double(s, "x_sealminer_psu_status_temp_c"), 26, "PSU status temperature");
  g_assert_cmpstr(extra_string(s, "x_sealminer_psu_status_code"), ==, "0x0000");
  g_assert_cmpuint(s->errors->len, ==, 0);
  g_assert_null(s->hostname);
  assert_close(s->water_temp_in_c, NAN, "water");
  g_assert_false(s->partial);
  g_assert_cmpuint(s->problems->len, ==, 0);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

/* ---- parser tests ------------------------------------------------------- */

static void
test_full_poll(void)
{
  AmSealminerReplies r;
  replies_load(&r, 0);
  g_autoptr(AmSample) s = parse_ok(&r);
  assert_full(s);
  replies_clear(&r);
}

static void
test_each_missing(void)
{
  for (guint skip = 0; skip < N_R; skip++) {
    AmSealminerReplies r;
    replies_load(&r, 1u << skip);
    g_autoptr(AmSample) s = parse_ok(&r);
    switch (skip) {
    case R_STATS:
      assert_summary(s);
      /* get_system_info and miner-psu-status stand in */
      g_assert_cmpstr(s->model, ==, "SealMiner A2");
      g_assert_cmpstr(s->firmware_version, ==, "2025091001");
      g_assert_cmpstr(s->serial, ==, "S127200252001850");
      g_assert_cmpstr(s->mac, ==, "50:d4:48:4b:86:78");
      assert_close(s->psu_power_in_w, 3504, "PSU input from miner-psu-status");
      assert_close(s->power_w, 3504, "power from miner-psu-status");
      assert_close(s->psu_power_out_w, NAN, "PSU output");
      g_assert_cmpuint(s->chains->len, ==, 0);
      g_assert_cmpuint(s->fans_rpm->len, ==, 0);
      g_assert_cmpint(s->mining, ==, AM_MINING_UNKNOWN);
      break;
    case R_SUMMARY:
      assert_stats(s);
      /* the stats block's own windows */
      assert_close(s->hashrate_ths, 220.407636771225, "hashrate (MHS(30s))");
      assert_close(s->hashrate_avg_ths, 218.701205628067, "hashrate (MHS(Avg))");
      g_assert_cmpint(s->accepted, ==, U);
      assert_close(s->best_share, NAN, "best share");
      break;
    case R_POOLS:
      assert_stats(s);
      g_assert_cmpuint(s->pools->len, ==, 0);
      break;
    case R_VERSION:
      assert_stats(s);
      g_assert_false(json_object_has_member(s->extras, "x_sealminer_bdminer_version"));
      break;
    case R_SYSINFO:
      assert_stats(s);
      g_assert_false(json_object_has_member(s->extras, "x_sealminer_led"));
      break;
    case R_PSU:
      assert_stats(s);
      g_assert_false(json_object_has_member(s->extras, "x_sealminer_psu_status_code"));
      break;
    default:
      g_assert_not_reached();
    }
    replies_clear(&r);
  }
  /* Without stats and summary there is nothing to report. */
  AmSealminerReplies r;
  replies_load(&r, (1u << R_STATS) | (1u << R_SUMMARY));
  g_autoptr(GError) error = NULL;
  g_assert_null(am_sealminer_parse(&r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "\"stats\""));
  replies_clear(&r);
}

/* HAND-MADE: the recorded miner had no errors; these are its keys with
 * values set. */
static void
test_errors(void)
{
  AmSealminerReplies r;
  replies_load(&r, 0);
  JsonObject *stats = am_json_array_object(am_json_array(r.stats, "STATS"), 0);
  json_object_set_string_member(stats, "Error Code", "E12");
  json_object_set_string_member(stats, "Error Chip", "3");
  json_object_set_string_member(stats, "PSU Error", "0x00000010");
  json_object_set_string_member(stats, "Mining Mode", "Custom");
  json_object_set_string_member(stats, "PM State", "Sleeping?");
  json_object_set_string_member(r.psu_status, "StatusCode", "0x0001");
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpuint(s->errors->len, ==, 3);
  AmMinerError *e = s->errors->pdata[0];
  g_assert_cmpstr(e->code, ==, "E12");
  g_assert_cmpstr(e->message, ==, "BDMiner error E12 (chip 3)");
  g_assert_null(e->component);
  g_assert_cmpint(e->severity, ==, AM_ERROR_SEVERITY_ERROR);
  e = s->errors->pdata[1];
  g_assert_cmpstr(e->code, ==, "0x00000010");
  g_assert_cmpstr(e->component, ==, "psu");
  e = s->errors->pdata[2];
  g_assert_cmpstr(e->message, ==, "PSU status 0x0001");
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_cmpstr(s->work_mode, ==, "Custom");
  g_assert_cmpint(s->mining, ==, AM_MINING_UNKNOWN);
  replies_clear(&r);
}

/* HAND-MADE: garbled counts cost bounded work and read nothing wrong. */
static void
test_garbled(void)
{
  AmSealminerReplies r = {0};
  r.stats = am_test_object_from_string(
      "{\"STATS\":[{\"ID\":\"A20\",\"Board Count\":99999999,\"Fan Count\":-3,"
      "\"0 Temp 0\":0,\"0 Temp 1\":255,\"0 Chip Count\":\"x\",\"Liquid Cooling\":true}]}");
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpuint(s->chains->len, ==, 16);
  AmChain *c = &g_array_index(s->chains, AmChain, 0);
  assert_close(c->temp_board_c, NAN, "sensor faults dropped");
  g_assert_cmpint(c->chips, ==, U);
  g_assert_cmpint(s->fans_expected, ==, U);
  g_assert_true(s->liquid_cooled);
  assert_close(s->power_w, NAN, "power");
  replies_clear(&r);
}

static void
test_bad_web_bodies(void)
{
  const char *bodies[] = {"", "<html>login</html>", "[1]", "{\"a\":"};
  const char *messages[] = {"empty reply", "not JSON", "not a JSON object", "not JSON"};
  for (guint i = 0; i < G_N_ELEMENTS(bodies); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(
        am_sealminer_parse_web(AM_SEALMINER_PSU_STATUS_PATH, bodies[i], strlen(bodies[i]), &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
    g_assert_true(g_str_has_prefix(error->message, "GET /cgi-bin/miner-psu-status.php: "));
    g_assert_nonnull(strstr(error->message, messages[i]));
  }
}

static void
test_match(void)
{
  g_autoptr(JsonObject) version = am_test_fixture_object(FIX "version.json");
  AmFingerprint fp;
  am_test_fingerprint_init(&fp, version);
  g_assert_cmpint(am_sealminer_match(&fp), ==, AM_MATCH_SUPPORTED);
  /* the description alone */
  fp.version = NULL;
  g_assert_cmpint(am_sealminer_match(&fp), ==, AM_MATCH_SUPPORTED);
  /* Every other recorded version reply is not BDMiner's. */
  g_autoptr(GPtrArray) versions = am_test_version_fixtures();
  guint seal = 0;
  for (guint i = 0; i < versions->len; i++) {
    g_autoptr(JsonObject) reply = am_test_fixture_object(versions->pdata[i]);
    AmFingerprint v;
    am_test_fingerprint_init(&v, reply);
    gboolean ours = g_str_has_prefix(versions->pdata[i], "sealminer/");
    seal += ours;
    g_assert_cmpint(am_sealminer_match(&v), ==, ours ? AM_MATCH_SUPPORTED : AM_MATCH_UNSUPPORTED);
  }
  g_assert_cmpuint(seal, ==, 1);
  AmFingerprint web = {.struct_size = sizeof(AmFingerprint), .http_body = "amazeui"};
  g_assert_cmpint(am_sealminer_match(&web), ==, AM_MATCH_UNSUPPORTED);
}

/* ---- the module against a local miner ----------------------------------- */

typedef struct {
  GHashTable *rpc; /* command -> GBytes */
  SoupServer *web;
  guint16 web_port;
  guint generation; /* bumping it ends the session */
  guint logins, refused_logins, web_gets, redirects;
  char *last_form;
} FakeSeal;

static gboolean
on_rpc_connection(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
                  gpointer user_data)
{
  FakeSeal *fake = user_data;
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
  char request[512];
  gsize len = 0;
  while (len < sizeof request - 1) {
    gssize n = g_input_stream_read(in, request + len, sizeof request - 1 - len, NULL, NULL);
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
  GBytes *reply = command != NULL ? g_hash_table_lookup(fake->rpc, command) : NULL;
  static const char invalid[] = "{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":14,\"Msg\":\"Invalid "
                                "command\",\"Description\":\"bdminer 4.11.1\"}],\"id\":1}";
  gsize size = reply != NULL ? g_bytes_get_size(reply) : sizeof invalid;
  g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(connection)),
                            reply != NULL ? g_bytes_get_data(reply, NULL) : invalid, size, NULL,
                            NULL, NULL);
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  return TRUE;
}

static void
serve_login(FakeSeal *fake, SoupServerMessage *msg)
{
  g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
  g_free(fake->last_form);
  fake->last_form = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
  g_autoptr(GHashTable) form = soup_form_decode(fake->last_form);
  if (g_strcmp0(g_hash_table_lookup(form, "username"), "seal") != 0 ||
      g_strcmp0(g_hash_table_lookup(form, "origin_pwd"), "seal") != 0) {
    fake->refused_logins++;
    static const char refused[] = "{\"code\":1,\"msg\":\"password error\"}";
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_STATIC, refused,
                                     strlen(refused));
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    return;
  }
  fake->logins++;
  g_autofree char *cookie = g_strdup_printf("PHPSESSID=sess-%u; path=/", fake->generation);
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
  static const char ok[] = "{\"code\":0}";
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_STATIC, ok, strlen(ok));
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
serve_web(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer user_data)
{
  FakeSeal *fake = user_data;
  if (g_str_equal(path, AM_SEALMINER_LOGIN_PATH) &&
      g_str_equal(soup_server_message_get_method(msg), "POST")) {
    serve_login(fake, msg);
    return;
  }
  const char *file = g_str_equal(path, AM_SEALMINER_SYSTEM_INFO_PATH)  ? "get_system_info"
                     : g_str_equal(path, AM_SEALMINER_PSU_STATUS_PATH) ? "miner_psu_status"
                                                                       : NULL;
  if (file == NULL) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  g_autofree char *expected = g_strdup_printf("PHPSESSID=sess-%u", fake->generation);
  const char *cookie =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Cookie");
  if (g_strcmp0(cookie, expected) != 0) {
    /* PHP sends a stranger to the login page. */
    fake->redirects++;
    soup_server_message_set_redirect(msg, SOUP_STATUS_FOUND, "/login.html");
    return;
  }
  fake->web_gets++;
  g_autofree char *rel = g_strdup_printf("fixtures/" FIX "%s.json", file);
  g_autofree char *full = am_test_path(rel);
  char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(full, &text, &len, NULL));
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, len);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

typedef struct {
  FakeSeal fake;
  GSocketService *service;
  guint16 rpc_port;
  AmLoadedPlugin *plugin;
  const AmPluginInfo *info;
  gpointer self;
} Rig;

static void
rig_open(Rig *rig, const char *extra_ini)
{
  memset(rig, 0, sizeof *rig);
  FakeSeal *fake = &rig->fake;
  fake->generation = 1;
  fake->rpc = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_bytes_unref);
  const char *commands[] = {"stats", "summary", "pools", "version"};
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
    g_autofree char *rel = g_strdup_printf(FIX "%s.json", commands[i]);
    g_hash_table_insert(fake->rpc, (gpointer)commands[i], am_test_fixture_bytes(rel));
  }
  rig->service = g_threaded_socket_service_new(4);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(rig->service), any, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  rig->rpc_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(rig->service, "run", G_CALLBACK(on_rpc_connection), fake);
  g_socket_service_start(rig->service);
  fake->web = soup_server_new(NULL, NULL);
  soup_server_add_handler(fake->web, NULL, serve_web, fake, NULL);
  fake->web_port = am_test_soup_listen_loopback(fake->web);

  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-sealminer.so", NULL);
  rig->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  rig->info = rig->plugin->info;
  g_autofree char *ini = g_strdup_printf("[driver:sealminer]\nhttp_port=%u\n%s", fake->web_port,
                                         extra_ini != NULL ? extra_ini : "");
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  rig->self = rig->info->create(NULL, kf, "driver:sealminer", &error);
  g_assert_no_error(error);
}

static void
rig_close(Rig *rig)
{
  rig->info->destroy(rig->self);
  am_loaded_plugin_free(rig->plugin);
  g_socket_service_stop(rig->service);
  g_socket_listener_close(G_SOCKET_LISTENER(rig->service));
  g_object_unref(rig->service);
  am_test_soup_stop(rig->fake.web, g_ptr_array_new());
  g_hash_table_unref(rig->fake.rpc);
  g_free(rig->fake.last_form);
}

static void
on_poll_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref(result);
}

static AmSample *
rig_poll(Rig *rig, AmMiner *miner, GError **error)
{
  GAsyncResult *result = NULL;
  rig->info->vtable.driver->poll_async(rig->self, miner, NULL, on_poll_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmSample *sample = rig->info->vtable.driver->poll_finish(rig->self, result, error);
  g_object_unref(result);
  if (sample != NULL)
    am_sample_finish(sample);
  return sample;
}

static AmMiner *
rig_miner(Rig *rig)
{
  AmMiner *miner = am_miner_new("127.0.0.1", rig->rpc_port);
  am_miner_set_timeout_ms(miner, 5000);
  return miner;
}

static void
test_module_config(void)
{
  Rig rig;
  rig_open(&rig, NULL);
  g_assert_cmpstr(rig.info->name, ==, "sealminer");
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, rig.info->sample_config, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  const char *keys[] = {"enabled", "http_port", "user", "password", "timeout"};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_true(g_key_file_has_key(kf, "driver:sealminer", keys[i], NULL));
  g_auto(GStrv) all = g_key_file_get_keys(kf, "driver:sealminer", NULL, NULL);
  g_assert_cmpuint(g_strv_length(all), ==, G_N_ELEMENTS(keys));
  gpointer self = rig.info->create(NULL, kf, "driver:sealminer", &error);
  g_assert_no_error(error);
  rig.info->destroy(self);
  g_key_file_set_string(kf, "driver:sealminer", "timeout", "soon");
  g_assert_null(rig.info->create(NULL, kf, "driver:sealminer", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_autoptr(JsonObject) version = am_test_fixture_object(FIX "version.json");
  AmFingerprint fp;
  am_test_fingerprint_init(&fp, version);
  g_assert_cmpint(rig.info->vtable.driver->match(rig.self, &fp), ==, AM_MATCH_SUPPORTED);
  rig_close(&rig);
}

/* RPC and web, one login across two polls, then a lost session: one more
 * login. The raw view keeps the replies. */
static void
test_module_poll(void)
{
  Rig rig;
  rig_open(&rig, NULL);
  g_autoptr(AmMiner) miner = rig_miner(&rig);
  g_autoptr(JsonNode) before = am_miner_raw_to_json(miner);
  for (guint i = 0; i < 3; i++) {
    if (i == 2)
      rig.fake.generation++;
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = rig_poll(&rig, miner, &error);
    g_assert_no_error(error);
    assert_full(s);
  }
  g_assert_cmpuint(rig.fake.logins, ==, 2);
  g_assert_cmpuint(rig.fake.redirects, ==, 1);
  g_assert_cmpuint(rig.fake.web_gets, ==, 6);
  g_assert_cmpstr(rig.fake.last_form, ==, "username=seal&origin_pwd=seal");
  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  JsonObject *views = json_node_get_object(raw);
  const char *names[] = {"stats",   "summary",         "pools",
                         "version", "get_system_info", "miner-psu-status"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    g_assert_true(json_object_has_member(views, names[i]));
  rig_close(&rig);
}

/* A wrong web password: the RPC readings stand, the sample is partial and
 * says plainly why the web part is missing. */
static void
test_module_wrong_password(void)
{
  Rig rig;
  rig_open(&rig, "password=wrong\n");
  g_autoptr(AmMiner) miner = rig_miner(&rig);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = rig_poll(&rig, miner, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  g_assert_cmpuint(s->problems->len, ==, 1);
  const char *problem = s->problems->pdata[0];
  g_assert_nonnull(strstr(problem, "web login refused: wrong user or password"));
  g_assert_nonnull(strstr(problem, "get_system_info.php"));
  g_assert_nonnull(strstr(problem, "miner-psu-status.php"));
  g_assert_null(strstr(problem, "origin_pwd"));
  assert_stats(s);
  assert_summary(s);
  g_assert_false(json_object_has_member(s->extras, "x_sealminer_led"));
  g_assert_cmpuint(rig.fake.refused_logins, ==, 1);
  g_assert_cmpuint(rig.fake.web_gets, ==, 0);
  g_assert_cmpstr(rig.fake.last_form, ==, "username=seal&origin_pwd=wrong");
  /* [miner:NAME] credentials win over the driver's. */
  am_miner_set_credentials(miner, "seal", "seal");
  g_autoptr(AmSample) fixed = rig_poll(&rig, miner, &error);
  g_assert_no_error(error);
  assert_full(fixed);
  rig_close(&rig);
}

/* An RPC command refused (STATUS E): partial, naming it. */
static void
test_module_partial_rpc(void)
{
  Rig rig;
  rig_open(&rig, NULL);
  g_hash_table_remove(rig.fake.rpc, "pools");
  g_autoptr(AmMiner) miner = rig_miner(&rig);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = rig_poll(&rig, miner, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  g_assert_nonnull(strstr(s->problems->pdata[0], "\"pools\""));
  g_assert_nonnull(strstr(s->problems->pdata[0], "Invalid command"));
  g_assert_cmpuint(s->pools->len, ==, 0);
  assert_stats(s);
  /* Neither stats nor summary: the poll fails, saying why. */
  g_hash_table_remove(rig.fake.rpc, "stats");
  g_hash_table_remove(rig.fake.rpc, "summary");
  g_assert_null(rig_poll(&rig, miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "\"stats\""));
  rig_close(&rig);
}

/* Nothing on the RPC port: one clear error, no web login tried. */
static void
test_module_refused(void)
{
  Rig rig;
  rig_open(&rig, NULL);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", am_test_free_port());
  am_miner_set_timeout_ms(miner, 2000);
  g_autoptr(GError) error = NULL;
  g_assert_null(rig_poll(&rig, miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
  g_assert_cmpuint(rig.fake.logins + rig.fake.refused_logins, ==, 0);
  rig_close(&rig);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sealminer/full-poll", test_full_poll);
  g_test_add_func("/sealminer/each-missing", test_each_missing);
  g_test_add_func("/sealminer/errors", test_errors);
  g_test_add_func("/sealminer/garbled", test_garbled);
  g_test_add_func("/sealminer/bad-web-bodies", test_bad_web_bodies);
  g_test_add_func("/sealminer/match", test_match);
  g_test_add_func("/sealminer/module/config", test_module_config);
  g_test_add_func("/sealminer/module/poll", test_module_poll);
  g_test_add_func("/sealminer/module/wrong-password", test_module_wrong_password);
  g_test_add_func("/sealminer/module/partial-rpc", test_module_partial_rpc);
  g_test_add_func("/sealminer/module/refused", test_module_refused);
  return g_test_run();
}
