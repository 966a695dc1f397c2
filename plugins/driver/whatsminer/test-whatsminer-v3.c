/* Whatsminer API v3: the framing codec (good, short, empty, oversized and
 * garbage frames), the normalizer on every recorded v3 reply in
 * tests/fixtures/whatsminer-v3/ field by field as a user sees them (and on
 * HAND-MADE edits, marked so), the socket client, and the built module's
 * poll against an in-process v3 server on 127.0.0.1:0 that replays the
 * recorded replies behind their length headers, with faults on demand. */
#include "../common/am-driver-test-util.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"
#include "am-whatsminer-v3-client.h"
#include "am-whatsminer-v3-parse.h"
#include "am-whatsminer-v3.h"

#include <math.h>
#include <string.h>

#define V3(name) "whatsminer-v3/asicrs-v3_" name ".json"
#define SUMMARY V3("get_miner_status_summary")
#define DEVICE_INFO V3("get_device_info")
#define DEVICE_INFO_ERRORS V3("get_device_info_with_errors")
#define EDEVS V3("get_miner_status_edevs")
#define POOLS V3("get_miner_status_pools")

/* ---- helpers ------------------------------------------------------------ */

/* A recorded reply as the files hold it: the JSON body, no header. */
static GBytes *
fixture_body(const char *name)
{
  g_autofree char *relpath = g_build_filename("fixtures", name, NULL);
  g_autofree char *path = am_test_path(relpath);
  char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, &len, &error))
    g_error("fixture %s: %s", path, error->message);
  return g_bytes_new_take(text, len);
}

/* @body behind a 4-byte little-endian length that says @claimed bytes. */
static GByteArray *
frame_claiming(const void *body, gsize len, guint32 claimed)
{
  GByteArray *frame = g_byte_array_new();
  guint8 header[4] = {claimed & 0xff, (claimed >> 8) & 0xff, (claimed >> 16) & 0xff,
                      (claimed >> 24) & 0xff};
  g_byte_array_append(frame, header, 4);
  g_byte_array_append(frame, body, (guint)len);
  return frame;
}

static GByteArray *
frame_of(GBytes *body)
{
  gsize len = 0;
  const void *data = g_bytes_get_data(body, &len);
  return frame_claiming(data, len, (guint32)len);
}

static JsonObject *
v3_object(const char *name)
{
  g_autoptr(GBytes) body = fixture_body(name);
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  g_autoptr(GError) error = NULL;
  JsonObject *reply = am_whatsminer_v3_parse_body(data, len, &error);
  g_assert_no_error(error);
  g_assert_true(am_whatsminer_v3_check(reply, NULL));
  return reply;
}

static JsonNode *
extra(AmSample *s, const char *name)
{
  return am_test_extra(s, name);
}

static double
extra_double(AmSample *s, const char *name)
{
  return json_node_get_double(extra(s, name));
}

static const char *
extra_string(AmSample *s, const char *name)
{
  return json_node_get_string(extra(s, name));
}

static gboolean
has_extra(AmSample *s, const char *name)
{
  return json_object_has_member(s->extras, name);
}

/* ---- framing ------------------------------------------------------------ */

static void
test_encode(void)
{
  g_autoptr(GBytes) frame = am_whatsminer_v3_encode("get.miner.status", "summary");
  gsize len = 0;
  const guint8 *data = g_bytes_get_data(frame, &len);
  const char *json = "{\"cmd\":\"get.miner.status\",\"param\":\"summary\"}";
  g_assert_cmpuint(len, ==, 4 + strlen(json));
  /* Little-endian: the low byte first. */
  g_assert_cmpuint(data[0], ==, strlen(json));
  g_assert_cmpuint(data[1], ==, 0);
  g_assert_cmpuint(data[2], ==, 0);
  g_assert_cmpuint(data[3], ==, 0);
  g_assert_cmpmem(data + 4, len - 4, json, strlen(json));

  /* No param at all when there is none (asic-rs sends {"cmd":...} alone). */
  g_autoptr(GBytes) info = am_whatsminer_v3_encode("get.device.info", NULL);
  data = g_bytes_get_data(info, &len);
  g_assert_cmpmem(data + 4, len - 4, "{\"cmd\":\"get.device.info\"}", 25);

  /* Quoting is json-glib's, whatever the strings hold; the length says so. */
  g_autoptr(GBytes) odd = am_whatsminer_v3_encode("a\"b", "c\\d");
  data = g_bytes_get_data(odd, &len);
  g_autoptr(JsonObject) back = am_whatsminer_v3_decode(data, len, 1024, NULL);
  g_assert_nonnull(back);
  g_assert_cmpstr(json_object_get_string_member(back, "cmd"), ==, "a\"b");
  g_assert_cmpstr(json_object_get_string_member(back, "param"), ==, "c\\d");
}

static void
test_decode_good(void)
{
  /* Every recorded reply, behind its header, decodes to the same object as
   * the file, and checks as a success. */
  const char *names[] = {SUMMARY, DEVICE_INFO, DEVICE_INFO_ERRORS, EDEVS, POOLS};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autoptr(GBytes) body = fixture_body(names[i]);
    g_autoptr(GByteArray) frame = frame_of(body);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) reply =
        am_whatsminer_v3_decode(frame->data, frame->len, AM_WHATSMINER_V3_MAX_BODY, &error);
    g_assert_no_error(error);
    g_assert_cmpint(json_object_get_int_member(reply, "code"), ==, 0);
    g_assert_cmpint(json_object_get_int_member(reply, "when"), ==, 1773869570);
    g_assert_true(am_whatsminer_v3_check(reply, &error));
    g_assert_no_error(error);
  }
  /* Bytes after the frame are not the frame's. */
  g_autoptr(GByteArray) two = frame_claiming("{\"code\":0}xyz", 13, 10);
  g_autoptr(JsonObject) first = am_whatsminer_v3_decode(two->data, two->len, 64, NULL);
  g_assert_nonnull(first);
  g_assert_cmpuint(json_object_get_size(first), ==, 1);
}

static void
assert_decode_error(const GByteArray *frame, gsize max, gint code, const char *says)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = am_whatsminer_v3_decode(frame->data, frame->len, max, &error);
  g_assert_null(reply);
  g_assert_error(error, AM_ERROR, code);
  if (strstr(error->message, says) == NULL)
    g_error("expected '%s' in '%s'", says, error->message);
}

static void
test_decode_bad(void)
{
  /* Short: part of a header; a body shorter than its header says. */
  g_autoptr(GByteArray) header_only = g_byte_array_new();
  g_byte_array_append(header_only, (const guint8 *)"\x10\x00", 2);
  assert_decode_error(header_only, 1024, AM_ERROR_PARSE,
                      "short v3 frame: 2 bytes, the length header alone is 4");
  g_autoptr(GByteArray) cut = frame_claiming("{\"code\":0", 9, 100);
  assert_decode_error(cut, 1024, AM_ERROR_PARSE,
                      "short v3 frame: the header says 100 bytes, 9 came");
  /* Empty. */
  g_autoptr(GByteArray) empty = frame_claiming("", 0, 0);
  assert_decode_error(empty, 1024, AM_ERROR_PARSE, "empty v3 frame (length 0)");
  /* Oversized: refused from the header alone, whatever follows. */
  g_autoptr(GByteArray) huge = frame_claiming("{}", 2, 0xfffffff0u);
  assert_decode_error(huge, AM_WHATSMINER_V3_MAX_BODY, AM_ERROR_TOO_LARGE,
                      "v3 reply of 4294967280 bytes is over the 4194304-byte cap");
  g_autoptr(GBytes) body = fixture_body(SUMMARY);
  g_autoptr(GByteArray) big = frame_of(body);
  assert_decode_error(big, 100, AM_ERROR_TOO_LARGE,
                      "v3 reply of 746 bytes is over the 100-byte cap");
  /* Garbage: not JSON, a JSON array, an HTTP answer to the wrong port. */
  g_autoptr(GByteArray) garbage = frame_claiming("\x01\x02garbage", 9, 9);
  assert_decode_error(garbage, 1024, AM_ERROR_PARSE, "v3 reply is not JSON");
  g_autoptr(GByteArray) array = frame_claiming("[1,2]", 5, 5);
  assert_decode_error(array, 1024, AM_ERROR_PARSE, "v3 ");
  const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
  g_autoptr(GByteArray) http_frame = g_byte_array_new();
  g_byte_array_append(http_frame, (const guint8 *)http, sizeof(http) - 1);
  /* "HTTP" read as a length is 0x50545448: over any cap. */
  assert_decode_error(http_frame, AM_WHATSMINER_V3_MAX_BODY, AM_ERROR_TOO_LARGE, "over the");
}

static void
test_check(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) bad = am_test_object_from_string(
      "{\"code\":-2,\"msg\":\"invalid command\",\"desc\":\"get.foo\",\"when\":1}");
  g_assert_false(am_whatsminer_v3_check(bad, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_cmpstr(error->message, ==, "API error code -2: invalid command");
  g_clear_error(&error);
  /* A cgminer reply is not a v3 one. */
  g_autoptr(JsonObject) cgminer = am_test_fixture_object("btminer/m20s_summary.json");
  g_assert_false(am_whatsminer_v3_check(cgminer, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_clear_error(&error);
  g_autoptr(JsonObject) string_code = am_test_object_from_string("{\"code\":\"0\"}");
  g_assert_false(am_whatsminer_v3_check(string_code, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
}

/* ---- the normalizer on the recorded replies ----------------------------- */

static AmSample *
parse_ok(const AmWhatsminerV3Replies *r)
{
  g_autoptr(GError) error = NULL;
  AmSample *s = am_whatsminer_v3_parse(r, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  am_sample_finish(s);
  return s;
}

static void
assert_chain(AmSample *s, guint i, double ths, gint chips, double board_c, double chip_c)
{
  g_assert_cmpuint(i, <, s->chains->len);
  const AmChain *c = &g_array_index(s->chains, AmChain, i);
  g_assert_cmpint(c->index, ==, (gint)i);
  g_assert_cmpfloat_with_epsilon(c->hashrate_ths, ths, 1e-9);
  g_assert_cmpint(c->chips, ==, chips);
  g_assert_cmpint(c->chips_expected, ==, AM_UNKNOWN);
  g_assert_cmpint(c->hw_errors, ==, AM_UNKNOWN);
  g_assert_cmpfloat(c->temp_board_c, ==, board_c);
  g_assert_cmpfloat(c->temp_chip_c, ==, chip_c);
}

static void
assert_board(AmSample *s, guint i, double factory, double average, double chip_min, double chip_avg,
             const char *serial)
{
  JsonArray *boards = json_node_get_array(extra(s, "x_whatsminer_boards"));
  JsonObject *b = json_array_get_object_element(boards, i);
  g_assert_cmpint(json_object_get_int_member(b, "id"), ==, i);
  g_assert_cmpstr(json_object_get_string_member(b, "status"), ==, "alive");
  g_assert_cmpfloat(json_object_get_double_member(b, "factory_hash_ths"), ==, factory);
  g_assert_cmpfloat(json_object_get_double_member(b, "hash_average_ths"), ==, average);
  g_assert_cmpfloat(json_object_get_double_member(b, "freq_mhz"), ==, 625.0);
  g_assert_cmpfloat(json_object_get_double_member(b, "chip_temp_min_c"), ==, chip_min);
  g_assert_cmpfloat(json_object_get_double_member(b, "chip_temp_avg_c"), ==, chip_avg);
  g_assert_cmpstr(json_object_get_string_member(b, "serial"), ==, serial);
}

/* What the summary alone gives (every case below has it). */
static void
assert_summary_fields(AmSample *s)
{
  g_assert_cmpstr(s->driver, ==, "whatsminer");
  g_assert_cmpstr(s->firmware, ==, "btminer");
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_api"), ==, "v3");
  g_assert_cmpfloat(s->hashrate_ths, ==, 171.259);
  g_assert_cmpfloat(s->hashrate_avg_ths, ==, 170.8);
  g_assert_cmpfloat(s->hashrate_ideal_ths, ==, 181.051);
  g_assert_cmpfloat(s->power_w, ==, 3156.0);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpfloat_with_epsilon(s->efficiency_jth, 3156.0 / 171.259, 1e-9);
  g_assert_cmpint(s->elapsed_s, ==, 50000);
  /* v3 has no share counters. */
  g_assert_cmpint(s->accepted, ==, AM_UNKNOWN);
  g_assert_cmpint(s->rejected, ==, AM_UNKNOWN);
  g_assert_cmpint(s->hw_errors, ==, AM_UNKNOWN);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 41.1, 40.1, 41.5);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 5400, 5280);
  g_assert_cmpint(s->fans_expected, ==, 2);
  g_assert_false(s->liquid_cooled);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_power_limit_w"), ==, 3600);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_power_5min_w"), ==, 3100.0);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_power_rate"), ==, 17.6);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_hash_1min_ths"), ==, 171.2);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_hash_15min_ths"), ==, 170.5);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_freq_avg_mhz"), ==, 625);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_environment_temp_c"), ==, 28.5);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_chip_temp_min_c"), ==, 68.0);
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_chip_temp_avg_c"), ==, 75.5);
}

static void
assert_device_fields(AmSample *s)
{
  g_assert_cmpstr(s->model, ==, "Whatsminer M60S");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_type"), ==, "M60S_VK40");
  g_assert_cmpstr(s->serial, ==, "BTM3CS40HD24083100000000000000000");
  g_assert_cmpstr(s->mac, ==, "ce:02:01:00:8c:36");
  g_assert_cmpstr(s->hostname, ==, "WhatsMiner");
  g_assert_cmpstr(s->firmware_version, ==, "20251209.16.Rel2");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_api_version"), ==, "3.0.2");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_platform"), ==, "H616");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_control_board"), ==, "CB6V10");
  g_assert_cmpfloat(extra_double(s, "x_whatsminer_psu_fan_rpm"), ==, 6344);
  g_assert_cmpstr(extra_string(s, "x_whatsminer_psu_model"), ==, "P221B");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_psu_serial"), ==, "1436B2429603097");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_psu_firmware"), ==, "230224.220429");
  g_assert_cmpstr(extra_string(s, "x_whatsminer_power_mode"), ==, "normal"); /* mode "1" */
  g_assert_true(json_node_get_boolean(extra(s, "x_whatsminer_working")));    /* "true" */
}

static void
test_parse_all(void)
{
  g_autoptr(JsonObject) summary = v3_object(SUMMARY);
  g_autoptr(JsonObject) device = v3_object(DEVICE_INFO);
  g_autoptr(JsonObject) edevs = v3_object(EDEVS);
  g_autoptr(JsonObject) pools = v3_object(POOLS);
  AmWhatsminerV3Replies r = {
      .summary = summary, .device_info = device, .edevs = edevs, .pools = pools};
  g_autoptr(AmSample) s = parse_ok(&r);

  assert_summary_fields(s);
  assert_device_fields(s);
  /* Boards from edevs; board-temperature[k] is board k's PCB. */
  g_assert_cmpint(s->chains_expected, ==, 3); /* board-num "3" */
  g_assert_cmpuint(s->chains->len, ==, 3);
  assert_chain(s, 0, 57.2, 75, 41.1, 80.0);
  assert_chain(s, 1, 57.0, 75, 40.1, 82.0);
  assert_chain(s, 2, 57.1, 75, 41.5, 81.0);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 80.0, 82.0, 81.0);
  assert_board(s, 0, 60.35, 57.1, 68.0, 74.0, "BKM3CSE1404807K42757");
  assert_board(s, 1, 60.35, 56.8, 69.0, 75.0, "BKM3CSE1404812K43675");
  assert_board(s, 2, 60.35, 56.9, 70.0, 76.0, "BKM3CSE1404807K42762");
  g_assert_cmpfloat(s->temp_max_c, ==, 82.0);
  g_assert_cmpfloat_with_epsilon(s->avg_temp_c, (41.1 + 40.1 + 41.5) / 3, 1e-9);
  g_assert_cmpfloat(s->avg_fan_rpm, ==, 5340);

  g_assert_cmpuint(s->pools->len, ==, 3);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://btc.example.pool:3333", "asic-rs.test",
                      "alive", 0, AM_UNKNOWN, AM_UNKNOWN, AM_UNKNOWN, TRUE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://btc2.example.pool:3333", "asic-rs.test",
                      "alive", 1, AM_UNKNOWN, AM_UNKNOWN, AM_UNKNOWN, FALSE);
  am_test_assert_pool(s->pools->pdata[2], "stratum+tcp://btc3.example.pool:3333", "asic-rs.test",
                      "alive", 2, AM_UNKNOWN, AM_UNKNOWN, AM_UNKNOWN, FALSE);

  g_assert_false(has_extra(s, "x_whatsminer_errors"));
  g_assert_false(has_extra(s, "x_whatsminer_partial"));
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  g_assert_cmpuint(s->problems->len, ==, 0);

  /* As the API prints it. */
  g_autoptr(JsonNode) json = am_sample_to_json(s);
  JsonObject *o = json_node_get_object(json);
  g_assert_cmpstr(json_object_get_string_member(o, "model"), ==, "Whatsminer M60S");
  g_assert_cmpfloat(json_object_get_double_member(o, "hashrate_ths"), ==, 171.259);
}

static void
test_parse_device_info_with_errors(void)
{
  g_autoptr(JsonObject) summary = v3_object(SUMMARY);
  g_autoptr(JsonObject) device = v3_object(DEVICE_INFO_ERRORS);
  AmWhatsminerV3Replies r = {.summary = summary, .device_info = device};
  g_autoptr(AmSample) s = parse_ok(&r);

  assert_summary_fields(s);
  assert_device_fields(s);
  static const struct {
    gint64 code;
    const char *time, *reason;
  } expected[] = {
      {264, "2026-05-23 09:19:10", "Power xfer error. code: 0xffffffffc0000000"},
      {265, "2026-05-23 09:19:10", "Power Unknow error. code: 0xffffffffc0000000"},
      {266, "2026-05-23 09:19:11", "Power Unknow error. code: 0xffffffffc0000000"},
      {267, "2026-05-23 09:19:11", "Power watch dog protected. code: 0xffffffffc0000000"},
      {270, "2026-05-23 09:19:11", "Power input over-voltage warning. code: 0xffffffffc0000000"},
  };
  JsonArray *errors = json_node_get_array(extra(s, "x_whatsminer_errors"));
  g_assert_cmpuint(json_array_get_length(errors), ==, G_N_ELEMENTS(expected));
  for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
    JsonObject *e = json_array_get_object_element(errors, i);
    g_assert_cmpint(json_object_get_int_member(e, "code"), ==, expected[i].code);
    g_assert_cmpstr(json_object_get_string_member(e, "time"), ==, expected[i].time);
    g_assert_cmpstr(json_object_get_string_member(e, "reason"), ==, expected[i].reason);
  }
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_assert_cmpstr(s->problems->pdata[0], ==,
                  "the miner reports 5 error code(s): 264, 265, 266, 267, 270");
  /* Without edevs the boards are unknown, not missing. */
  g_assert_cmpuint(s->chains->len, ==, 0);
  g_assert_cmpint(s->chains_expected, ==, AM_UNKNOWN);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 82.0); /* the summary's hottest chip */
}

static void
test_parse_summary_only(void)
{
  g_autoptr(JsonObject) summary = v3_object(SUMMARY);
  AmWhatsminerV3Replies r = {.summary = summary};
  g_autoptr(AmSample) s = parse_ok(&r);
  assert_summary_fields(s);
  g_assert_null(s->model);
  g_assert_null(s->mac);
  g_assert_null(s->serial);
  g_assert_null(s->firmware_version);
  g_assert_cmpuint(s->pools->len, ==, 0);
  g_assert_false(has_extra(s, "x_whatsminer_partial"));
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

/* The poll could not read edevs (a timeout) and got a pools reply without
 * its list: the rest is returned, and the sample says what is missing. */
static void
test_parse_partial(void)
{
  g_autoptr(JsonObject) summary = v3_object(SUMMARY);
  g_autoptr(JsonObject) device = v3_object(DEVICE_INFO);
  g_autoptr(JsonObject) not_pools = v3_object(EDEVS); /* HAND-MADE mix-up */
  const char *const failed[] = {"get.miner.status edevs: timed out after 1.0 s", NULL};
  AmWhatsminerV3Replies r = {
      .summary = summary, .device_info = device, .pools = not_pools, .failed = failed};
  g_autoptr(AmSample) s = parse_ok(&r);

  assert_summary_fields(s);
  assert_device_fields(s);
  g_assert_cmpuint(s->chains->len, ==, 0);
  g_assert_cmpint(s->chains_expected, ==, AM_UNKNOWN);
  g_assert_cmpuint(s->pools->len, ==, 0);
  JsonArray *partial = json_node_get_array(extra(s, "x_whatsminer_partial"));
  g_assert_cmpuint(json_array_get_length(partial), ==, 2);
  g_assert_cmpstr(json_array_get_string_element(partial, 0), ==, "get.miner.status edevs");
  g_assert_cmpstr(json_array_get_string_element(partial, 1), ==, "get.miner.status pools");
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_cmpuint(s->problems->len, ==, 2);
  g_assert_cmpstr(s->problems->pdata[0], ==,
                  "partial reply: get.miner.status edevs: timed out after 1.0 s");
  g_assert_cmpstr(s->problems->pdata[1], ==,
                  "partial reply: get.miner.status pools: the reply has no msg.pools list");
}

static void
test_parse_required(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) device = v3_object(DEVICE_INFO);
  AmWhatsminerV3Replies none = {.device_info = device};
  g_assert_null(am_whatsminer_v3_parse(&none, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  AmWhatsminerV3Replies wrong = {.summary = device};
  g_assert_null(am_whatsminer_v3_parse(&wrong, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_assert_cmpstr(error->message, ==,
                  "the get.miner.status summary reply has no msg.summary object");
}

/* HAND-MADE edits of the recorded summary and edevs: readings of 0,
 * negative or absurd are dropped, never taken; fans both at 0 expect none. */
static void
test_parse_bad_readings(void)
{
  g_autoptr(JsonObject) summary = v3_object(SUMMARY);
  JsonObject *body =
      json_object_get_object_member(json_object_get_object_member(summary, "msg"), "summary");
  json_object_set_double_member(body, "hash-realtime", -1);
  json_object_set_double_member(body, "factory-hash", 0);
  json_object_set_double_member(body, "power-realtime", 9e9);
  json_object_set_int_member(body, "elapsed", -5);
  json_object_set_int_member(body, "fan-speed-in", 0);
  json_object_set_int_member(body, "fan-speed-out", 0);
  json_object_set_double_member(body, "environment-temperature", 300);
  JsonArray *temps = json_array_new();
  json_array_add_double_element(temps, 0);
  json_array_add_double_element(temps, -83);
  json_array_add_string_element(temps, "55");
  json_array_add_double_element(temps, 60.5);
  json_object_set_array_member(body, "board-temperature", temps);
  g_autoptr(JsonObject) edevs = v3_object(EDEVS);
  JsonObject *dev0 = json_array_get_object_element(
      json_object_get_array_member(json_object_get_object_member(edevs, "msg"), "edevs"), 0);
  json_object_set_double_member(dev0, "chip-temp-max", 255);
  json_object_set_double_member(dev0, "hash-realtime", -7);
  json_object_set_int_member(dev0, "effective-chips", -3);
  AmWhatsminerV3Replies r = {.summary = summary, .edevs = edevs};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 57.0 + 57.1, 1e-9); /* from the boards */
  g_assert_true(isnan(s->hashrate_ideal_ths));
  g_assert_true(isnan(s->power_w));
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_cmpint(s->elapsed_s, ==, AM_UNKNOWN);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  g_assert_cmpint(s->fans_expected, ==, AM_UNKNOWN); /* hydro, immersion or off: not told */
  g_assert_false(has_extra(s, "x_whatsminer_environment_temp_c"));
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 60.5);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 82.0, 81.0);
  const AmChain *c0 = &g_array_index(s->chains, AmChain, 0);
  g_assert_true(isnan(c0->hashrate_ths));
  g_assert_cmpint(c0->chips, ==, AM_UNKNOWN);
  g_assert_true(isnan(c0->temp_chip_c));
  g_assert_true(isnan(c0->temp_board_c)); /* board-temperature[0] is 0 */
}

/* HAND-MADE: the exhaust fan edited to 0 beside a spinning intake fan: a
 * stopped fan is a problem as on any air-cooled unit. */
static void
test_parse_one_fan_stopped(void)
{
  g_autoptr(JsonObject) summary = v3_object(SUMMARY);
  JsonObject *body =
      json_object_get_object_member(json_object_get_object_member(summary, "msg"), "summary");
  json_object_set_int_member(body, "fan-speed-out", 0);
  AmWhatsminerV3Replies r = {.summary = summary};
  g_autoptr(AmSample) s = parse_ok(&r);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 5400);
  g_assert_cmpint(s->fans_expected, ==, 2);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_cmpstr(s->problems->pdata[0], ==, "1 of 2 fans spinning");
}

static void
test_match(void)
{
  AmFingerprint fp;
  am_test_fingerprint_init(&fp, NULL);
  /* 4028 answered (even unreadably): the RPC's drivers decide. */
  g_assert_cmpint(am_whatsminer_v3_match(&fp, 4433), ==, AM_MATCH_UNSUPPORTED);
  /* 4028 closed and nothing else: no evidence of a miner, no probe (the
   * core ranks no driver then). */
  fp.rpc_open = FALSE;
  g_assert_cmpint(am_whatsminer_v3_match(&fp, 4433), ==, AM_MATCH_UNSUPPORTED);
  /* A miner configured on the v3 port whose port is no cgminer: a probe,
   * whatever the HTTP probe of that port said. */
  fp.port = 4433;
  g_assert_cmpint(am_whatsminer_v3_match(&fp, 4433), ==, AM_MATCH_MAYBE);
  fp.http_open = TRUE;
  g_assert_cmpint(am_whatsminer_v3_match(&fp, 4433), ==, AM_MATCH_MAYBE);
  g_assert_cmpint(am_whatsminer_v3_match(&fp, 14433), ==, AM_MATCH_UNSUPPORTED);
  fp.rpc_open = TRUE;
  g_assert_cmpint(am_whatsminer_v3_match(&fp, 4433), ==, AM_MATCH_UNSUPPORTED);
  g_assert_cmpint(am_whatsminer_v3_match(NULL, 4433), ==, AM_MATCH_UNSUPPORTED);
  /* The core's v3 probe had a framed answer on 4433: certain, on any port. */
  AmFingerprint v3;
  am_test_fingerprint_init(&v3, NULL);
  v3.rpc_open = FALSE;
  v3.v3_open = TRUE;
  g_assert_cmpint(am_whatsminer_v3_match(&v3, 4433), ==, AM_MATCH_SUPPORTED);
}

/* ---- an in-process v3 server -------------------------------------------- */

typedef enum {
  STEP_SUMMARY,
  STEP_DEVICE_INFO,
  STEP_EDEVS,
  STEP_POOLS,
  N_STEPS,
} Step;

typedef enum {
  FAULT_NONE,
  FAULT_CLOSE,     /* read the request, close without a byte */
  FAULT_GARBAGE,   /* a frame whose body is not JSON */
  FAULT_HUGE,      /* a header claiming 1 GiB */
  FAULT_SHORT,     /* a header, half the body, close */
  FAULT_HANG,      /* read the request, answer nothing until the client goes */
  FAULT_API_ERROR, /* {"code":-2,"msg":"invalid command"} */
} Fault;

typedef struct {
  GSocketService *service;
  guint16 port;
  GBytes *bodies[N_STEPS];
  Fault faults[N_STEPS]; /* set before a poll, read by the server's threads */
  gint connections;      /* atomic */
  gint active;           /* atomic: handlers running */
  GMutex lock;
  GPtrArray *requests; /* the request bodies, as received */
} FakeV3;

static const char *const step_files[N_STEPS] = {SUMMARY, DEVICE_INFO, EDEVS, POOLS};

static gboolean
write_all(GOutputStream *out, const void *data, gsize len)
{
  return g_output_stream_write_all(out, data, len, NULL, NULL, NULL);
}

static gboolean
write_frame(GOutputStream *out, const void *body, gsize len, guint32 claimed)
{
  g_autoptr(GByteArray) frame = frame_claiming(body, len, claimed);
  return write_all(out, frame->data, frame->len);
}

static gint
step_of(JsonObject *request)
{
  const char *cmd = am_json_string(request, "cmd");
  const char *param = am_json_string(request, "param");
  if (g_strcmp0(cmd, "get.device.info") == 0 && param == NULL)
    return STEP_DEVICE_INFO;
  if (g_strcmp0(cmd, "get.miner.status") != 0)
    return -1;
  if (g_strcmp0(param, "summary") == 0)
    return STEP_SUMMARY;
  if (g_strcmp0(param, "edevs") == 0)
    return STEP_EDEVS;
  if (g_strcmp0(param, "pools") == 0)
    return STEP_POOLS;
  return -1;
}

/* Reads one request frame and answers it as f->faults say. */
static void
serve_one(FakeV3 *f, GInputStream *in, GOutputStream *out)
{
  guint8 header[4];
  gsize got = 0;
  if (!g_input_stream_read_all(in, header, 4, &got, NULL, NULL) || got < 4)
    return;
  guint32 len = (guint32)header[0] | (guint32)header[1] << 8 | (guint32)header[2] << 16 |
                (guint32)header[3] << 24;
  if (len == 0 || len > 65536)
    return;
  g_autofree char *body = g_malloc0(len + 1);
  if (!g_input_stream_read_all(in, body, len, &got, NULL, NULL) || got < len)
    return;
  g_mutex_lock(&f->lock);
  g_ptr_array_add(f->requests, g_strdup(body));
  g_mutex_unlock(&f->lock);

  g_autoptr(JsonParser) parser = json_parser_new();
  gint step = -1;
  if (json_parser_load_from_data(parser, body, len, NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    step = step_of(json_node_get_object(json_parser_get_root(parser)));
  Fault fault = step >= 0 ? f->faults[step] : FAULT_API_ERROR;
  gsize body_len = 0;
  const char *reply = step >= 0 ? g_bytes_get_data(f->bodies[step], &body_len) : NULL;
  switch (fault) {
  case FAULT_NONE:
    write_frame(out, reply, body_len, (guint32)body_len);
    break;
  case FAULT_CLOSE:
    break;
  case FAULT_GARBAGE:
    write_frame(out, "<html>no</html>", 15, 15);
    break;
  case FAULT_HUGE:
    write_frame(out, "{", 1, 1u << 30);
    break;
  case FAULT_SHORT:
    write_frame(out, reply, body_len / 2, (guint32)body_len);
    break;
  case FAULT_HANG: {
    char byte;
    /* Returns 0 when the client gives up and closes. */
    while (g_input_stream_read(in, &byte, 1, NULL, NULL) > 0)
      ;
    break;
  }
  case FAULT_API_ERROR: {
    const char *error = "{\"code\":-2,\"msg\":\"invalid command\",\"desc\":\"\",\"when\":1}";
    write_frame(out, error, strlen(error), (guint32)strlen(error));
    break;
  }
  }
}

/* One connection, in a thread of the service: blocking I/O is fine here. */
static gboolean
serve(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
      gpointer user_data)
{
  FakeV3 *f = user_data;
  (void)service;
  (void)source;
  g_atomic_int_inc(&f->active);
  g_atomic_int_inc(&f->connections);
  serve_one(f, g_io_stream_get_input_stream(G_IO_STREAM(connection)),
            g_io_stream_get_output_stream(G_IO_STREAM(connection)));
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  g_atomic_int_add(&f->active, -1);
  return TRUE;
}

static void
fake_v3_start(FakeV3 *f)
{
  *f = (FakeV3){.requests = g_ptr_array_new_with_free_func(g_free)};
  g_mutex_init(&f->lock);
  for (guint i = 0; i < N_STEPS; i++)
    f->bodies[i] = fixture_body(step_files[i]);
  f->service = g_threaded_socket_service_new(8);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(f->service), address, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  f->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(f->service, "run", G_CALLBACK(serve), f);
  g_socket_service_start(f->service);
}

static void
fake_v3_stop(FakeV3 *f)
{
  g_socket_service_stop(f->service);
  g_socket_listener_close(G_SOCKET_LISTENER(f->service));
  /* The handlers hold f: wait until the last has returned. */
  for (guint i = 0; i < 500 && g_atomic_int_get(&f->active) > 0; i++)
    g_usleep(10000);
  g_assert_cmpint(g_atomic_int_get(&f->active), ==, 0);
  g_object_unref(f->service);
  for (guint i = 0; i < N_STEPS; i++)
    g_bytes_unref(f->bodies[i]);
  g_ptr_array_unref(f->requests);
  g_mutex_clear(&f->lock);
}

/* ---- the client ----------------------------------------------------------- */

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  *(GAsyncResult **)user_data = g_object_ref(result);
}

static JsonObject *
call(guint16 port, const char *cmd, const char *param, guint timeout_ms, GBytes **raw,
     GError **error)
{
  GAsyncResult *result = NULL;
  am_whatsminer_v3_call_async("127.0.0.1", port, cmd, param, timeout_ms, AM_WHATSMINER_V3_MAX_BODY,
                              NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  JsonObject *reply = am_whatsminer_v3_call_finish(result, raw, error);
  g_object_unref(result);
  return reply;
}

static void
assert_call_error(FakeV3 *f, Step step, Fault fault, gint code, const char *says)
{
  f->faults[step] = fault;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(JsonObject) reply = call(f->port, "get.miner.status", "summary", 400, &raw, &error);
  g_assert_null(reply);
  g_assert_error(error, AM_ERROR, code);
  g_autofree char *prefix = g_strdup_printf("127.0.0.1:%u: ", f->port);
  if (!g_str_has_prefix(error->message, prefix) || strstr(error->message, says) == NULL)
    g_error("expected '%s...%s', got '%s'", prefix, says, error->message);
  f->faults[step] = FAULT_NONE;
}

static void
test_client(void)
{
  FakeV3 f;
  fake_v3_start(&f);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(JsonObject) reply = call(f.port, "get.miner.status", "summary", 2000, &raw, &error);
  g_assert_no_error(error);
  JsonObject *summary =
      json_object_get_object_member(json_object_get_object_member(reply, "msg"), "summary");
  g_assert_cmpfloat(json_object_get_double_member(summary, "hash-realtime"), ==, 171.259);
  g_assert_true(g_bytes_equal(raw, f.bodies[STEP_SUMMARY]));
  /* What went out is the codec's frame: the server saw this body. */
  g_assert_cmpuint(f.requests->len, ==, 1);
  g_assert_cmpstr(f.requests->pdata[0], ==, "{\"cmd\":\"get.miner.status\",\"param\":\"summary\"}");

  assert_call_error(&f, STEP_SUMMARY, FAULT_CLOSE, AM_ERROR_RESET,
                    "closed the connection without replying");
  assert_call_error(&f, STEP_SUMMARY, FAULT_GARBAGE, AM_ERROR_PARSE, "v3 reply is not JSON");
  assert_call_error(&f, STEP_SUMMARY, FAULT_HUGE, AM_ERROR_TOO_LARGE,
                    "v3 reply of 1073741824 bytes is over the 4194304-byte cap");
  assert_call_error(&f, STEP_SUMMARY, FAULT_SHORT, AM_ERROR_RESET,
                    "closed the connection after 373 of the 746 bytes its v3 header announced");
  assert_call_error(&f, STEP_SUMMARY, FAULT_HANG, AM_ERROR_TIMEOUT, "timed out after 0.4 s");
  assert_call_error(&f, STEP_SUMMARY, FAULT_API_ERROR, AM_ERROR_API,
                    "API error code -2: invalid command");
  guint16 port = f.port;
  fake_v3_stop(&f);

  /* Nothing listens any more. */
  g_autoptr(JsonObject) none = call(port, "get.device.info", NULL, 2000, NULL, &error);
  g_assert_null(none);
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
}

static void
cancel_soon(gpointer cancellable)
{
  g_cancellable_cancel(cancellable);
}

/* Cancelling is not a timeout. */
static void
test_client_cancel(void)
{
  FakeV3 f;
  fake_v3_start(&f);
  f.faults[STEP_SUMMARY] = FAULT_HANG;
  g_autoptr(GCancellable) cancel = g_cancellable_new();
  GAsyncResult *result = NULL;
  am_whatsminer_v3_call_async("127.0.0.1", f.port, "get.miner.status", "summary", 5000, 0, cancel,
                              on_done, &result);
  g_timeout_add_once(100, cancel_soon, cancel);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  g_autoptr(GError) error = NULL;
  g_assert_null(am_whatsminer_v3_call_finish(result, NULL, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_object_unref(result);
  fake_v3_stop(&f);
}

/* ---- the module ------------------------------------------------------------ */

typedef struct {
  AmLoadedPlugin *plugin;
  const AmPluginInfo *info;
  gpointer self;
} Module;

static void
module_open(Module *m, const char *ini)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-whatsminer.so", NULL);
  g_autoptr(GError) error = NULL;
  m->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  m->info = m->plugin->info;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (ini != NULL)
    g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  m->self = m->info->create(NULL, ini != NULL ? kf : NULL, "driver:whatsminer", &error);
  g_assert_no_error(error);
}

static void
module_close(Module *m)
{
  m->info->destroy(m->self);
  am_loaded_plugin_free(m->plugin);
}

static AmSample *
module_poll(Module *m, AmMiner *miner, GError **error)
{
  GAsyncResult *result = NULL;
  m->info->vtable.driver->poll_async(m->self, miner, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmSample *sample = m->info->vtable.driver->poll_finish(m->self, result, error);
  g_object_unref(result);
  if (sample != NULL)
    am_sample_finish(sample);
  return sample;
}

static char *
ini_for(const char *api, guint16 v3_port)
{
  return g_strdup_printf("[driver:whatsminer]\napi=%s\nv3_port=%u\n", api, v3_port);
}

static void
test_module_config(void)
{
  Module m;
  module_open(&m, NULL);
  g_assert_cmpstr(m.info->name, ==, "whatsminer");
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, m.info->sample_config, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  const char *keys[] = {"enabled", "api", "v3_port"};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_true(g_key_file_has_key(kf, "driver:whatsminer", keys[i], NULL));
  g_autofree char *api = g_key_file_get_string(kf, "driver:whatsminer", "api", NULL);
  g_assert_cmpstr(api, ==, "auto");
  g_assert_cmpint(g_key_file_get_integer(kf, "driver:whatsminer", "v3_port", NULL), ==, 4433);
  gpointer self = m.info->create(NULL, kf, "driver:whatsminer", &error);
  g_assert_no_error(error);
  m.info->destroy(self);
  /* Wrong values are configuration errors naming the key. */
  g_key_file_set_string(kf, "driver:whatsminer", "api", "v4");
  g_assert_null(m.info->create(NULL, kf, "driver:whatsminer", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_cmpstr(error->message, ==, "[driver:whatsminer] api=v4: expected auto, v2 or v3");
  g_clear_error(&error);
  g_key_file_set_string(kf, "driver:whatsminer", "api", "V3");
  g_key_file_set_string(kf, "driver:whatsminer", "v3_port", "0");
  g_assert_null(m.info->create(NULL, kf, "driver:whatsminer", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "v3_port"));
  module_close(&m);
}

static void
test_module_match(void)
{
  AmFingerprint fp;
  am_test_fingerprint_init(&fp, NULL);
  fp.rpc_open = FALSE;
  fp.port = 4433;
  Module m;
  module_open(&m, NULL);
  g_assert_cmpint(m.info->vtable.driver->match(m.self, &fp), ==, AM_MATCH_MAYBE);
  fp.port = 4028; /* nothing answered at all: nothing to go on */
  g_assert_cmpint(m.info->vtable.driver->match(m.self, &fp), ==, AM_MATCH_UNSUPPORTED);
  /* The RPC's own answers are read as before. */
  g_autoptr(JsonObject) status = am_test_fixture_object("btminer/unknown-model_status.json");
  AmFingerprint wm;
  am_test_fingerprint_init(&wm, status);
  g_assert_cmpint(m.info->vtable.driver->match(m.self, &wm), ==, AM_MATCH_SUPPORTED);
  module_close(&m);
  /* v3_port= moves the rule; api=v2 drops it. */
  module_open(&m, "[driver:whatsminer]\nv3_port=14433\n");
  fp.port = 14433;
  g_assert_cmpint(m.info->vtable.driver->match(m.self, &fp), ==, AM_MATCH_MAYBE);
  module_close(&m);
  module_open(&m, "[driver:whatsminer]\napi=v2\nv3_port=14433\n");
  g_assert_cmpint(m.info->vtable.driver->match(m.self, &fp), ==, AM_MATCH_UNSUPPORTED);
  module_close(&m);
}

/* A miner configured on the v3 port: read over v3 at once, every request
 * one frame on its own connection, every reply kept for the raw view. */
static void
test_module_poll_v3(void)
{
  FakeV3 f;
  fake_v3_start(&f);
  g_autofree char *ini = ini_for("auto", f.port);
  Module m;
  module_open(&m, ini);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  am_miner_set_timeout_ms(miner, 5000);
  g_autoptr(JsonNode) before = am_miner_raw_to_json(miner); /* someone looks */
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = module_poll(&m, miner, &error);
  g_assert_no_error(error);
  assert_summary_fields(s);
  assert_device_fields(s);
  g_assert_cmpuint(s->chains->len, ==, 3);
  assert_chain(s, 1, 57.0, 75, 40.1, 82.0);
  g_assert_cmpuint(s->pools->len, ==, 3);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);

  g_assert_cmpint(g_atomic_int_get(&f.connections), ==, 4);
  g_assert_cmpuint(f.requests->len, ==, 4);
  g_assert_cmpstr(f.requests->pdata[0], ==, "{\"cmd\":\"get.miner.status\",\"param\":\"summary\"}");
  g_assert_cmpstr(f.requests->pdata[1], ==, "{\"cmd\":\"get.device.info\"}");
  g_assert_cmpstr(f.requests->pdata[2], ==, "{\"cmd\":\"get.miner.status\",\"param\":\"edevs\"}");
  g_assert_cmpstr(f.requests->pdata[3], ==, "{\"cmd\":\"get.miner.status\",\"param\":\"pools\"}");
  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  JsonObject *views = json_node_get_object(raw);
  const char *names[] = {"get.miner.status summary", "get.device.info", "get.miner.status edevs",
                         "get.miner.status pools"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    g_assert_true(json_object_has_member(views, names[i]));
  module_close(&m);
  fake_v3_stop(&f);
}

/* An RPC port that accepts and closes at once, counting connections. */
static gboolean
on_rpc_incoming(GSocketService *service, GSocketConnection *connection, GObject *source,
                gpointer user_data)
{
  (void)service;
  (void)source;
  (*(guint *)user_data)++;
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  return TRUE;
}

/* The RPC port closes without a word (as on 2024-11+ firmware): v3 is
 * read instead and remembered; the next poll goes to v3 directly. When v3
 * stops answering, the RPC is asked again. */
static void
test_module_auto_fallback(void)
{
  FakeV3 f;
  fake_v3_start(&f);
  guint rpc_connections = 0;
  g_autoptr(GSocketService) rpc = g_socket_service_new();
  g_autoptr(GError) error = NULL;
  guint16 rpc_port = g_socket_listener_add_any_inet_port(G_SOCKET_LISTENER(rpc), NULL, &error);
  g_assert_no_error(error);
  g_signal_connect(rpc, "incoming", G_CALLBACK(on_rpc_incoming), &rpc_connections);
  g_socket_service_start(rpc);

  g_autofree char *ini = ini_for("auto", f.port);
  Module m;
  module_open(&m, ini);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", rpc_port);
  am_miner_set_timeout_ms(miner, 5000);
  g_autoptr(AmSample) first = module_poll(&m, miner, &error);
  g_assert_no_error(error);
  assert_summary_fields(first);
  /* The joined command, then "version" alone (a firmware that drops joined
   * commands would answer that), met a closed door. */
  g_assert_cmpuint(rpc_connections, ==, 2);
  g_assert_cmpint(g_atomic_int_get(&f.connections), ==, 4);

  g_autoptr(AmSample) second = module_poll(&m, miner, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(second->model, ==, "Whatsminer M60S");
  g_assert_cmpuint(rpc_connections, ==, 2); /* remembered: straight to v3 */
  g_assert_cmpint(g_atomic_int_get(&f.connections), ==, 8);

  /* v3 goes away: back to the RPC, which still says nothing. Both named,
   * with the RPC's code (v3 only found nothing listening). */
  guint16 v3_port = f.port;
  fake_v3_stop(&f);
  g_autoptr(AmSample) third = module_poll(&m, miner, &error);
  g_assert_null(third);
  g_assert_error(error, AM_ERROR, AM_ERROR_RESET);
  g_autofree char *rpc_said = g_strdup_printf("127.0.0.1:%u: closed the connection", rpc_port);
  g_autofree char *v3_said = g_strdup_printf("; API v3: 127.0.0.1:%u: connection refused", v3_port);
  g_assert_true(g_str_has_prefix(error->message, rpc_said));
  g_assert_true(g_str_has_suffix(error->message, v3_said));
  g_assert_cmpuint(rpc_connections, ==, 4);
  g_clear_error(&error);
  module_close(&m);
  g_socket_service_stop(rpc);
  g_socket_listener_close(G_SOCKET_LISTENER(rpc));
}

/* Nothing on either port: one error naming both, with the RPC's code. */
static void
test_module_both_refused(void)
{
  guint16 rpc_port = am_test_free_port();
  guint16 v3_port = am_test_free_port();
  g_autofree char *ini = ini_for("auto", v3_port);
  Module m;
  module_open(&m, ini);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", rpc_port);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = module_poll(&m, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: connection refused; API v3: 127.0.0.1:%u: connection refused",
                      rpc_port, v3_port);
  g_assert_cmpstr(error->message, ==, expected);
  module_close(&m);

  /* api=v2 never looks at v3. */
  g_autofree char *v2 = ini_for("v2", v3_port);
  module_open(&m, v2);
  g_clear_error(&error);
  g_autoptr(AmSample) none = module_poll(&m, miner, &error);
  g_assert_null(none);
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
  g_assert_null(strstr(error->message, "API v3"));
  module_close(&m);
}

/* api=v3 on a miner configured on its own (non-4028) port: that port. An
 * edevs reply that is garbage and a pools request the firmware refuses:
 * the rest is returned, partial, naming edevs; pools is left out. */
static void
test_module_partial(void)
{
  FakeV3 f;
  fake_v3_start(&f);
  f.faults[STEP_EDEVS] = FAULT_GARBAGE;
  f.faults[STEP_POOLS] = FAULT_API_ERROR;
  g_autofree char *ini = ini_for("v3", 4433);
  Module m;
  module_open(&m, ini);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  am_miner_set_timeout_ms(miner, 5000);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = module_poll(&m, miner, &error);
  g_assert_no_error(error);
  assert_summary_fields(s);
  assert_device_fields(s);
  g_assert_cmpuint(s->chains->len, ==, 0);
  g_assert_cmpuint(s->pools->len, ==, 0);
  JsonArray *partial = json_node_get_array(extra(s, "x_whatsminer_partial"));
  g_assert_cmpuint(json_array_get_length(partial), ==, 1);
  g_assert_cmpstr(json_array_get_string_element(partial, 0), ==, "get.miner.status edevs");
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_assert_true(g_str_has_prefix(s->problems->pdata[0],
                                 "partial reply: get.miner.status edevs: v3 reply is not JSON"));
  module_close(&m);
  fake_v3_stop(&f);
}

/* A device.info that never comes: the miner's timeout ends that request,
 * the ones after it are not asked, and the summary is still returned. */
static void
test_module_partial_timeout(void)
{
  FakeV3 f;
  fake_v3_start(&f);
  f.faults[STEP_DEVICE_INFO] = FAULT_HANG;
  g_autofree char *ini = ini_for("v3", 4433);
  Module m;
  module_open(&m, ini);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  am_miner_set_timeout_ms(miner, 300);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = module_poll(&m, miner, &error);
  g_assert_no_error(error);
  assert_summary_fields(s);
  g_assert_null(s->model);
  g_assert_cmpuint(s->problems->len, ==, 3);
  g_assert_cmpstr(s->problems->pdata[0], ==,
                  "partial reply: get.device.info: timed out after 0.3 s");
  g_assert_cmpstr(s->problems->pdata[1], ==,
                  "partial reply: get.miner.status edevs: not asked after a timeout");
  g_assert_cmpstr(s->problems->pdata[2], ==,
                  "partial reply: get.miner.status pools: not asked after a timeout");
  g_assert_cmpint(g_atomic_int_get(&f.connections), ==, 2);
  module_close(&m);
  fake_v3_stop(&f);
}

/* The summary itself fails: no sample. A v3 port refusing the summary
 * command is UNSUPPORTED (not this driver's, or not this API). */
static void
test_module_summary_fails(void)
{
  FakeV3 f;
  fake_v3_start(&f);
  g_autofree char *ini = ini_for("v3", 4433);
  Module m;
  module_open(&m, ini);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  am_miner_set_timeout_ms(miner, 5000);
  g_autoptr(GError) error = NULL;
  f.faults[STEP_SUMMARY] = FAULT_HUGE;
  g_autoptr(AmSample) huge = module_poll(&m, miner, &error);
  g_assert_null(huge);
  g_assert_error(error, AM_ERROR, AM_ERROR_TOO_LARGE);
  g_clear_error(&error);
  f.faults[STEP_SUMMARY] = FAULT_API_ERROR;
  g_autoptr(AmSample) refused = module_poll(&m, miner, &error);
  g_assert_null(refused);
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "API error code -2: invalid command"));
  g_assert_cmpint(g_atomic_int_get(&f.connections), ==, 2); /* nothing after the summary */
  module_close(&m);
  fake_v3_stop(&f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/whatsminer-v3/frame/encode", test_encode);
  g_test_add_func("/whatsminer-v3/frame/decode-good", test_decode_good);
  g_test_add_func("/whatsminer-v3/frame/decode-bad", test_decode_bad);
  g_test_add_func("/whatsminer-v3/frame/check", test_check);
  g_test_add_func("/whatsminer-v3/parse/all", test_parse_all);
  g_test_add_func("/whatsminer-v3/parse/device-info-with-errors",
                  test_parse_device_info_with_errors);
  g_test_add_func("/whatsminer-v3/parse/summary-only", test_parse_summary_only);
  g_test_add_func("/whatsminer-v3/parse/partial", test_parse_partial);
  g_test_add_func("/whatsminer-v3/parse/required", test_parse_required);
  g_test_add_func("/whatsminer-v3/parse/hand-made-bad-readings", test_parse_bad_readings);
  g_test_add_func("/whatsminer-v3/parse/hand-made-one-fan-stopped", test_parse_one_fan_stopped);
  g_test_add_func("/whatsminer-v3/match", test_match);
  g_test_add_func("/whatsminer-v3/client", test_client);
  g_test_add_func("/whatsminer-v3/client/cancel", test_client_cancel);
  g_test_add_func("/whatsminer-v3/module/config", test_module_config);
  g_test_add_func("/whatsminer-v3/module/match", test_module_match);
  g_test_add_func("/whatsminer-v3/module/poll-v3", test_module_poll_v3);
  g_test_add_func("/whatsminer-v3/module/auto-fallback", test_module_auto_fallback);
  g_test_add_func("/whatsminer-v3/module/both-refused", test_module_both_refused);
  g_test_add_func("/whatsminer-v3/module/partial", test_module_partial);
  g_test_add_func("/whatsminer-v3/module/partial-timeout", test_module_partial_timeout);
  g_test_add_func("/whatsminer-v3/module/summary-fails", test_module_summary_fails);
  return g_test_run();
}
