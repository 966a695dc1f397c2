/* What the JSON endpoints say about a fleet: filters, sort orders, the miner
 * object, fleet totals and store rows, on a hand-made fleet whose numbers
 * are easy to add up by hand. */
#include "am-http-json.h"
#include "am-http-test-fleet.h"

#include <math.h>
#include <string.h>

/* online S19 Pro, degraded S9, an offline S9 whose last sample is old and
 * hot, an L3+ (scrypt), and a miner never reached. */
static const AmTestMinerSpec fleet_spec[] = {
    {"10.0.0.9:4028", "rack-9", "online", "Antminer S19 Pro", NULL, 110, 110, 3250, 70, 5},
    {"10.0.0.10:4028", "rack-10", "degraded", "Antminer S9", NULL, 10, 13.5, 1300, 85, 10},
    {"10.0.0.2:4028", "rack-2", "offline", "Antminer S9", NULL, 13.5, 13.5, 1320, 95, 600},
    {"10.0.0.3:4028", "ltc", "online", "Antminer L3+", "scrypt", 0.000504, 0.000504, 800, 60, 3},
    {"10.0.0.4:4028", "new", "unreachable", NULL, NULL, 0, 0, 0, 0, 0},
};

static const AmHttpClock test_clock = {.now_us = AM_TEST_NOW_US,
                                       .stale_after_us = 70 * G_USEC_PER_SEC};

static GPtrArray *
make_fleet(void)
{
  GPtrArray *miners = g_ptr_array_new_with_free_func((GDestroyNotify)am_http_miner_free);
  for (guint i = 0; i < G_N_ELEMENTS(fleet_spec); i++)
    g_ptr_array_add(miners, am_test_miner(&fleet_spec[i]));
  return miners;
}

/* The names of @miners joined with ' ', in order. */
static char *
names(GPtrArray *miners)
{
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < miners->len; i++)
    g_string_append_printf(out, "%s%s", i > 0 ? " " : "", ((AmHttpMiner *)miners->pdata[i])->name);
  return g_string_free(out, FALSE);
}

static void
assert_order(AmHttpSortKey key, gboolean descending, const char *expected)
{
  g_autoptr(GPtrArray) miners = make_fleet();
  am_http_miners_sort(miners, key, descending);
  g_autofree char *got = names(miners);
  if (!g_str_equal(got, expected))
    g_error("sort %s%s: expected '%s', got '%s'", descending ? "-" : "", am_http_sort_key_name(key),
            expected, got);
}

static void
test_sort(void)
{
  /* Addresses in numeric order: .2 < .3 < .4 < .9 < .10. */
  assert_order(AM_HTTP_SORT_HOST, FALSE, "rack-2 ltc new rack-9 rack-10");
  assert_order(AM_HTTP_SORT_HOST, TRUE, "rack-10 rack-9 new ltc rack-2");
  assert_order(AM_HTTP_SORT_NAME, FALSE, "ltc new rack-2 rack-9 rack-10");
  /* A miner without a reading goes last whichever the direction. */
  assert_order(AM_HTTP_SORT_HASHRATE, TRUE, "rack-9 rack-2 rack-10 ltc new");
  assert_order(AM_HTTP_SORT_TEMP, FALSE, "ltc rack-9 rack-10 rack-2 new");
  assert_order(AM_HTTP_SORT_TEMP, TRUE, "rack-2 rack-10 rack-9 ltc new");
  assert_order(AM_HTTP_SORT_RATIO, FALSE, "rack-10 rack-2 ltc rack-9 new");
  assert_order(AM_HTTP_SORT_STATE, FALSE, "ltc rack-9 rack-10 rack-2 new");
  assert_order(AM_HTTP_SORT_LAST_SEEN, TRUE, "ltc rack-9 rack-10 rack-2 new");
}

static char *
filtered(const AmHttpMinerFilter *filter)
{
  g_autoptr(GPtrArray) miners = make_fleet();
  g_autoptr(GPtrArray) shown = g_ptr_array_new();
  for (guint i = 0; i < miners->len; i++)
    if (am_http_miner_matches(miners->pdata[i], filter))
      g_ptr_array_add(shown, miners->pdata[i]);
  am_http_miners_sort(shown, AM_HTTP_SORT_HOST, FALSE);
  return names(shown);
}

static void
test_filters(void)
{
  const struct {
    AmHttpMinerFilter filter;
    const char *expected;
  } cases[] = {
      {{0}, "rack-2 ltc new rack-9 rack-10"},
      {{.states = 1u << AM_HTTP_STATE_OFFLINE}, "rack-2"},
      {{.states = (1u << AM_HTTP_STATE_ONLINE) | (1u << AM_HTTP_STATE_DEGRADED)},
       "ltc rack-9 rack-10"},
      {{.model = "s9"}, "rack-2 rack-10"},
      {{.model = "S19 PRO"}, "rack-9"},
      {{.q = "rack-1"}, "rack-10"},
      {{.q = "10.0.0.3"}, "ltc"},
      {{.q = "l3+"}, "ltc"},
      {{.q = "nothing like it"}, ""},
      {{.model = "s9", .states = 1u << AM_HTTP_STATE_DEGRADED}, "rack-10"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = filtered(&cases[i].filter);
    if (!g_str_equal(got, cases[i].expected))
      g_error("filter %u: expected '%s', got '%s'", i, cases[i].expected, got);
  }
}

static JsonObject *
miner_object(const AmTestMinerSpec *spec)
{
  g_autoptr(AmHttpMiner) m = am_test_miner(spec);
  g_autoptr(JsonNode) sample = m->sample != NULL ? am_sample_to_json(m->sample) : NULL;
  g_autofree char *sample_text = sample != NULL ? json_to_string(sample, FALSE) : NULL;
  g_autoptr(GString) text = g_string_new(NULL);
  am_http_miner_write_json(text, m, &test_clock, sample_text);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_data(parser, text->str, -1, &error))
    g_error("not JSON (%s): %s", error->message, text->str);
  return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static void
test_miner_object(void)
{
  g_autoptr(JsonObject) online = miner_object(&fleet_spec[0]);
  g_assert_cmpstr(am_json_string(online, "address"), ==, "10.0.0.9:4028");
  g_assert_cmpstr(am_json_string(online, "host"), ==, "10.0.0.9");
  g_assert_cmpint(am_json_int(online, "port", 0), ==, 4028);
  g_assert_cmpstr(am_json_string(online, "name"), ==, "rack-9");
  g_assert_cmpstr(am_json_string(online, "state"), ==, "online");
  g_assert_true(json_object_get_null_member(online, "state_reason"));
  g_assert_cmpstr(am_json_string(online, "last_seen"), ==, "2026-11-24T09:59:55Z");
  g_assert_cmpint(am_json_int(online, "age_s", -1), ==, 5);
  g_assert_false(json_object_get_boolean_member(online, "stale"));
  JsonObject *sample = am_json_object(online, "sample");
  g_assert_cmpstr(am_json_string(sample, "model"), ==, "Antminer S19 Pro");
  g_assert_cmpfloat(am_json_double(sample, "hashrate_ths"), ==, 110);

  g_autoptr(JsonObject) offline = miner_object(&fleet_spec[2]);
  g_assert_cmpstr(am_json_string(offline, "state"), ==, "offline");
  g_assert_cmpstr(am_json_string(offline, "state_reason"), ==, "connection refused");
  g_assert_cmpint(am_json_int(offline, "age_s", -1), ==, 600);
  g_assert_true(json_object_get_boolean_member(offline, "stale"));

  g_autoptr(JsonObject) never = miner_object(&fleet_spec[4]);
  g_assert_true(json_object_get_null_member(never, "sample"));
  g_assert_true(json_object_get_null_member(never, "last_seen"));
  g_assert_true(json_object_get_null_member(never, "age_s"));
  g_assert_true(json_object_get_boolean_member(never, "stale"));
  g_assert_cmpuint(json_array_get_length(am_json_array(never, "actions")), ==, 0);
}

/* What can be done to a miner, by name in the ABI's order; "paused"
 * passes through as a state of its own. */
static void
test_miner_actions(void)
{
  AmTestMinerSpec spec = fleet_spec[0];
  spec.state = "paused";
  spec.actions = AM_ACTION_BIT(AM_ACTION_POOLS) | AM_ACTION_BIT(AM_ACTION_REBOOT) |
                 AM_ACTION_BIT(AM_ACTION_RESUME);
  g_autoptr(JsonObject) o = miner_object(&spec);
  g_assert_cmpstr(am_json_string(o, "state"), ==, "paused");
  JsonArray *actions = am_json_array(o, "actions");
  g_assert_cmpuint(json_array_get_length(actions), ==, 3);
  g_assert_cmpstr(json_array_get_string_element(actions, 0), ==, "reboot");
  g_assert_cmpstr(json_array_get_string_element(actions, 1), ==, "resume");
  g_assert_cmpstr(json_array_get_string_element(actions, 2), ==, "pools");

  g_autoptr(AmHttpMiner) m = am_test_miner(&spec);
  AmHttpMinerFilter paused = {.states = 1u << AM_HTTP_STATE_PAUSED};
  AmHttpMinerFilter online = {.states = 1u << AM_HTTP_STATE_ONLINE};
  g_assert_true(am_http_miner_matches(m, &paused));
  g_assert_false(am_http_miner_matches(m, &online));

  g_autoptr(GPtrArray) miners = g_ptr_array_new_with_free_func((GDestroyNotify)am_http_miner_free);
  g_ptr_array_add(miners, am_test_miner(&spec));
  g_ptr_array_add(miners, am_test_miner(&fleet_spec[0]));
  g_autoptr(JsonNode) summary = am_http_summary_json(miners, &test_clock);
  JsonObject *counts = am_json_object(json_node_get_object(summary), "miners");
  g_assert_cmpint(am_json_int(counts, "paused", -1), ==, 1);
  g_assert_cmpint(am_json_int(counts, "online", -1), ==, 1);
}

static void
assert_near(double got, double expected, const char *what)
{
  if (!(fabs(got - expected) <= 1e-9 * MAX(1.0, fabs(expected))))
    g_error("%s: expected %.12g, got %.12g", what, expected, got);
}

/* Names and reasons come from firmware and configuration: quotes,
 * backslashes, control characters and broken UTF-8 must still make JSON
 * that reads back as the same text (broken bytes replaced). */
static void
test_miner_object_escaping(void)
{
  AmTestMinerSpec spec = fleet_spec[2];
  spec.name = "rack \"A\"\\7\n\ttab\x01\x7f \xe2\x82\xac \xff end";
  g_autoptr(JsonObject) o = miner_object(&spec);
  g_assert_cmpstr(am_json_string(o, "name"), ==,
                  "rack \"A\"\\7\n\ttab\x01\x7f \xe2\x82\xac \xef\xbf\xbd end");
}

/* The fast time writer agrees with the core's, around the edges too. */
static void
test_time_writer(void)
{
  const gint64 times_s[] = {0,          1,          59,          951782400 /* 2000-02-29 */,
                            1795514400, 4102444799, 253402300799};
  for (guint i = 0; i < G_N_ELEMENTS(times_s); i++) {
    gint64 us = times_s[i] * G_USEC_PER_SEC + 999999;
    g_autoptr(GString) out = g_string_new(NULL);
    am_http_json_time(out, us);
    g_autofree char *core = am_time_to_iso8601(us);
    g_autofree char *quoted = g_strdup_printf("\"%s\"", core);
    g_assert_cmpstr(out->str, ==, quoted);
  }
}

static void
test_summary(void)
{
  g_autoptr(GPtrArray) miners = make_fleet();
  g_autoptr(JsonNode) node = am_http_summary_json(miners, &test_clock);
  JsonObject *s = json_node_get_object(node);
  g_assert_cmpstr(am_json_string(s, "time"), ==, "2026-11-24T10:00:00Z");
  JsonObject *counts = am_json_object(s, "miners");
  g_assert_cmpint(am_json_int(counts, "total", -1), ==, 5);
  g_assert_cmpint(am_json_int(counts, "online", -1), ==, 2);
  g_assert_cmpint(am_json_int(counts, "degraded", -1), ==, 1);
  g_assert_cmpint(am_json_int(counts, "offline", -1), ==, 1);
  g_assert_cmpint(am_json_int(counts, "unreachable", -1), ==, 1);
  g_assert_cmpint(am_json_int(counts, "stale", -1), ==, 2);
  /* Bitcoin headline: the offline miner's old sample does not count, and
   * the L3+'s scrypt hashrate is not added to SHA-256 TH/s. */
  assert_near(am_json_double(s, "hashrate_ths"), 120, "hashrate_ths");
  assert_near(am_json_double(s, "hashrate_ideal_ths"), 123.5, "hashrate_ideal_ths");
  assert_near(am_json_double(s, "hashrate_ideal_ratio"), 120 / 123.5, "hashrate_ideal_ratio");
  assert_near(am_json_double(s, "power_w"), 3250 + 1300 + 800, "power_w");
  assert_near(am_json_double(s, "efficiency_jth"), (3250.0 + 1300) / 120, "efficiency_jth");
  JsonObject *hottest = am_json_object(s, "hottest");
  g_assert_cmpstr(am_json_string(hottest, "name"), ==, "rack-10");
  assert_near(am_json_double(hottest, "temp_max_c"), 95, "hottest temp (chip)");
  JsonArray *algos = am_json_array(s, "algorithms");
  g_assert_cmpuint(json_array_get_length(algos), ==, 2);
  JsonObject *scrypt = json_array_get_object_element(algos, 0);
  g_assert_cmpstr(am_json_string(scrypt, "algorithm"), ==, "scrypt");
  g_assert_cmpint(am_json_int(scrypt, "miners", 0), ==, 1);
  assert_near(am_json_double(scrypt, "hashrate_ths"), 0.000504, "scrypt hashrate");
}

/* A miner whose firmware states no ideal adds to the hashrate but not to
 * the comparison with ideal. */
static void
test_summary_partial_ideal(void)
{
  const AmTestMinerSpec specs[] = {
      {"10.0.0.9:4028", "a", "online", "Antminer S19 Pro", NULL, 100, 110, 3250, 70, 5},
      {"10.0.0.8:4028", "b", "online", "WhatsMiner M20S", NULL, 65, NAN, 3300, 70, 5},
  };
  g_autoptr(GPtrArray) miners = g_ptr_array_new_with_free_func((GDestroyNotify)am_http_miner_free);
  for (guint i = 0; i < G_N_ELEMENTS(specs); i++)
    g_ptr_array_add(miners, am_test_miner(&specs[i]));
  g_autoptr(JsonNode) node = am_http_summary_json(miners, &test_clock);
  JsonObject *s = json_node_get_object(node);
  assert_near(am_json_double(s, "hashrate_ths"), 165, "hashrate_ths");
  assert_near(am_json_double(s, "hashrate_ideal_ths"), 110, "hashrate_ideal_ths");
  assert_near(am_json_double(s, "hashrate_ideal_ratio"), 100.0 / 110, "hashrate_ideal_ratio");
}

static void
test_summary_empty(void)
{
  g_autoptr(GPtrArray) none = g_ptr_array_new();
  g_autoptr(JsonNode) node = am_http_summary_json(none, &test_clock);
  JsonObject *s = json_node_get_object(node);
  g_assert_cmpint(am_json_int(am_json_object(s, "miners"), "total", -1), ==, 0);
  g_assert_cmpfloat(am_json_double(s, "hashrate_ths"), ==, 0);
  g_assert_true(json_object_get_null_member(s, "power_w"));
  g_assert_true(json_object_get_null_member(s, "efficiency_jth"));
  g_assert_true(json_object_get_null_member(s, "hashrate_ideal_ratio"));
  g_assert_true(json_object_get_null_member(s, "hottest"));
}

static JsonNode *
parse(const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
  return json_node_ref(json_parser_get_root(p));
}

static void
test_store_rows(void)
{
  g_autoptr(JsonNode) reply = parse(
      "{\"rows\":[{\"time\":1795514400,\"miner_ip\":\"10.0.0.9\",\"hashrate_ths\":110.5,"
      "\"power_w\":null},{\"time\":\"1795514460\"},{\"time\":1795514520.9},{\"time\":\"soon\"},"
      "{\"time\":-5},{\"time\":1e300}],\"next_cursor\":\"c:1\",\"resolution\":\"1m\"}");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) api = am_http_store_rows_to_api(reply, &error);
  g_assert_no_error(error);
  JsonObject *o = json_node_get_object(api);
  JsonArray *rows = am_json_array(o, "rows");
  g_assert_cmpuint(json_array_get_length(rows), ==, 6);
  JsonObject *r0 = json_array_get_object_element(rows, 0);
  g_assert_cmpstr(am_json_string(r0, "time"), ==, "2026-11-24T10:00:00Z");
  g_assert_cmpstr(am_json_string(r0, "miner_ip"), ==, "10.0.0.9");
  g_assert_cmpfloat(am_json_double(r0, "hashrate_ths"), ==, 110.5);
  g_assert_true(json_object_get_null_member(r0, "power_w"));
  const char *const times[] = {NULL, "2026-11-24T10:01:00Z", "2026-11-24T10:02:00Z"};
  for (guint i = 1; i < 3; i++)
    g_assert_cmpstr(am_json_string(json_array_get_object_element(rows, i), "time"), ==, times[i]);
  for (guint i = 3; i < 6; i++)
    g_assert_true(json_object_get_null_member(json_array_get_object_element(rows, i), "time"));
  g_assert_cmpstr(am_json_string(o, "next_cursor"), ==, "c:1");
  g_assert_cmpstr(am_json_string(o, "resolution"), ==, "1m");

  g_autoptr(JsonNode) last_page = parse("{\"rows\":[]}");
  g_autoptr(JsonNode) api2 = am_http_store_rows_to_api(last_page, NULL);
  g_assert_true(json_object_get_null_member(json_node_get_object(api2), "next_cursor"));

  /* An action event's detail is the action itself, not its text; other
   * kinds, and a detail that is no JSON object, are served as stored. */
  g_autoptr(JsonNode) events = parse(
      "{\"rows\":[{\"time\":1795514400,\"miner\":\"10.0.0.9:4028\",\"kind\":\"action\","
      "\"name\":\"pause\",\"detail\":\"{\\\"id\\\":\\\"a-1\\\",\\\"action\\\":\\\"pause\\\"}\"},"
      "{\"kind\":\"state\",\"detail\":\"{\\\"a\\\":1}\"},"
      "{\"kind\":\"action\",\"detail\":\"not json\"}]}");
  g_autoptr(JsonNode) api3 = am_http_store_rows_to_api(events, NULL);
  JsonArray *ev = am_json_array(json_node_get_object(api3), "rows");
  JsonObject *detail = am_json_object(json_array_get_object_element(ev, 0), "detail");
  g_assert_nonnull(detail);
  g_assert_cmpstr(am_json_string(detail, "action"), ==, "pause");
  g_assert_cmpstr(am_json_string(detail, "id"), ==, "a-1");
  g_assert_cmpstr(am_json_string(json_array_get_object_element(ev, 1), "detail"), ==, "{\"a\":1}");
  g_assert_cmpstr(am_json_string(json_array_get_object_element(ev, 2), "detail"), ==, "not json");

  const char *const bad[] = {"[]", "{\"rows\":5}", "{}", "7"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(JsonNode) n = parse(bad[i]);
    g_autoptr(GError) e = NULL;
    g_assert_null(am_http_store_rows_to_api(n, &e));
    g_assert_error(e, AM_ERROR, AM_ERROR_PARSE);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/http-model/sort", test_sort);
  g_test_add_func("/http-model/filters", test_filters);
  g_test_add_func("/http-model/miner-object", test_miner_object);
  g_test_add_func("/http-model/miner-object-escaping", test_miner_object_escaping);
  g_test_add_func("/http-model/miner-actions", test_miner_actions);
  g_test_add_func("/http-model/time-writer", test_time_writer);
  g_test_add_func("/http-model/summary", test_summary);
  g_test_add_func("/http-model/summary-partial-ideal", test_summary_partial_ideal);
  g_test_add_func("/http-model/summary-empty", test_summary_empty);
  g_test_add_func("/http-model/store-rows", test_store_rows);
  return g_test_run();
}
