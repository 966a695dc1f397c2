/* Table-driven tests of the API's query parsing: what a user may type in a
 * URL, what it means, and the message a mistake gets. */
#include "am-http-params.h"

#include <antmon/antmon.h>
#include <string.h>

/* 2026-11-24T10:00:00Z */
#define T0 G_GINT64_CONSTANT(1795514400)

static void
test_query_decoding(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) q =
      am_http_query_parse("ip=127.0.0.1%3A4028&q=S19+Pro&sort=-hashrate&&empty=&flag", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_hash_table_size(q), ==, 5);
  g_assert_cmpstr(g_hash_table_lookup(q, "ip"), ==, "127.0.0.1:4028");
  g_assert_cmpstr(g_hash_table_lookup(q, "q"), ==, "S19 Pro");
  g_assert_cmpstr(g_hash_table_lookup(q, "sort"), ==, "-hashrate");
  g_assert_cmpstr(g_hash_table_lookup(q, "empty"), ==, "");
  g_assert_cmpstr(g_hash_table_lookup(q, "flag"), ==, "");

  g_autoptr(GHashTable) none = am_http_query_parse(NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_hash_table_size(none), ==, 0);
  g_autoptr(GHashTable) utf8 = am_http_query_parse("q=%E2%82%AC", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(g_hash_table_lookup(utf8, "q"), ==, "\xe2\x82\xac");
}

static void
test_query_refusals(void)
{
  const struct {
    const char *query;
    const char *message_part;
  } cases[] = {
      {"a=%zz", "bad %-escape"},
      {"a=%4", "bad %-escape"},
      {"a=%", "bad %-escape"},
      {"a=x%00y", "NUL"},
      {"a=%ff%fe", "UTF-8"},
      {"=5", "no name"},
      {"limit=1&limit=2", "limit: the parameter is given more than once"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) q = am_http_query_parse(cases[i].query, &error);
    g_assert_null(q);
    g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
    if (strstr(error->message, cases[i].message_part) == NULL)
      g_error("%s: message '%s' lacks '%s'", cases[i].query, error->message, cases[i].message_part);
  }
  /* Too many parameters, too long a value, too long a query. */
  g_autoptr(GString) many = g_string_new(NULL);
  for (guint i = 0; i < 40; i++)
    g_string_append_printf(many, "p%u=1&", i);
  g_assert_null(am_http_query_parse(many->str, NULL));
  g_autofree char *long_value = g_strnfill(AM_HTTP_VALUE_MAX + 1, 'a');
  g_autofree char *long_pair = g_strconcat("q=", long_value, NULL);
  g_assert_null(am_http_query_parse(long_pair, NULL));
  g_autofree char *huge = g_strnfill(AM_HTTP_QUERY_MAX + 1, 'a');
  g_assert_null(am_http_query_parse(huge, NULL));
}

static void
test_unknown_names(void)
{
  g_autoptr(GHashTable) q = am_http_query_parse("since=1&sice=2", NULL);
  const char *const allowed[] = {"since", "until", NULL};
  const char *bad = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_false(am_http_query_check_names(q, allowed, &bad, &error));
  g_assert_cmpstr(bad, ==, "sice");
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "takes since, until"));
  g_assert_cmpstr(am_http_param_error_code(bad, error), ==, "unknown_parameter");
}

static void
test_times(void)
{
  const struct {
    const char *text;
    gint64 expected;
  } good[] = {
      {"1795514400", T0},
      {"1795514400.75", T0},
      {"0", 0},
      {"2026-11-24T10:00:00Z", T0},
      {"2026-11-24T10:00:00", T0},       /* naive: UTC, never local */
      {"2026-11-24 10:00:00", T0},       /* space instead of T */
      {"2026-11-24T12:00:00+02:00", T0}, /* offset */
      {"2026-11-24T12:00:00 02:00", T0}, /* the '+' a URL turned into a space */
      {"2026-11-24T05:00:00-0500", T0},  /* offset without colon */
      {"2026-11-24T10:00:00.123Z", T0},  /* fraction dropped */
      {"2026-11-24", T0 - 10 * 3600},    /* a date is midnight UTC */
      {"1970-01-01T00:00:00Z", 0},
      {"9999-12-31T23:59:59Z", G_GINT64_CONSTANT(253402300799)},
  };
  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    gint64 out = -1;
    g_autoptr(GError) error = NULL;
    if (!am_http_parse_time("since", good[i].text, &out, &error))
      g_error("%s: %s", good[i].text, error->message);
    if (out != good[i].expected)
      g_error("%s: expected %" G_GINT64_FORMAT ", got %" G_GINT64_FORMAT, good[i].text,
              good[i].expected, out);
  }
  const char *const bad[] = {
      "",
      "abc",
      "-1",
      "1e9",
      " 1795514400",
      "1795514400 ",
      "0x10",
      "99999999999999",
      "2026-13-01T00:00:00Z",
      "2026-11-31T00:00:00Z",
      "2026-11-24T25:00:00Z",
      "2026-11-24T",
      "2026/11/24",
      "24-11-2026",
      "1969-12-31T23:59:59Z",
      "yesterday",
      "2026-11-24T10:00:00+99:00",
      "1795514400.",
      ".5",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    gint64 out = 42;
    g_autoptr(GError) error = NULL;
    if (am_http_parse_time("until", bad[i], &out, &error))
      g_error("'%s' was accepted as %" G_GINT64_FORMAT, bad[i], out);
    g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
    g_assert_true(g_str_has_prefix(error->message, "until="));
    g_assert_cmpint(out, ==, 42);
  }
}

static void
test_limits(void)
{
  guint out = 0;
  g_assert_true(am_http_parse_limit("limit", "1", 10000, &out, NULL));
  g_assert_cmpuint(out, ==, 1);
  g_assert_true(am_http_parse_limit("limit", "250", 10000, &out, NULL));
  g_assert_cmpuint(out, ==, 250);
  g_assert_true(am_http_parse_limit("limit", "0042", 10000, &out, NULL));
  g_assert_cmpuint(out, ==, 42);
  /* Over the cap is lowered to it, however large. */
  g_assert_true(am_http_parse_limit("limit", "50000", 10000, &out, NULL));
  g_assert_cmpuint(out, ==, 10000);
  g_assert_true(am_http_parse_limit("limit", "99999999999999999999999", 10000, &out, NULL));
  g_assert_cmpuint(out, ==, 10000);
  const char *const bad[] = {"",    "0",   "000", "-1", "-0", "1.5",
                             "1e3", "ten", " 5",  "5 ", "+5", "0x10"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    out = 7;
    if (am_http_parse_limit("limit", bad[i], 10000, &out, &error))
      g_error("limit '%s' was accepted", bad[i]);
    g_assert_nonnull(strstr(error->message, "whole number"));
    g_assert_cmpuint(out, ==, 7);
  }
}

static void
test_steps_cursors_keys(void)
{
  guint step = 0;
  g_assert_true(am_http_parse_step("step", "60", &step, NULL));
  g_assert_cmpuint(step, ==, 60);
  g_assert_true(am_http_parse_step("step", "5m", &step, NULL));
  g_assert_cmpuint(step, ==, 300);
  g_assert_true(am_http_parse_step("step", "1d", &step, NULL));
  g_assert_cmpuint(step, ==, 86400);
  const char *const bad_steps[] = {"0", "500ms", "1500ms", "32d", "-5", "fast", ""};
  for (guint i = 0; i < G_N_ELEMENTS(bad_steps); i++)
    if (am_http_parse_step("step", bad_steps[i], &step, NULL))
      g_error("step '%s' was accepted", bad_steps[i]);

  g_assert_true(am_http_parse_cursor("cursor", "1795514400:127.0.0.1-4028.17", NULL));
  g_autofree char *long_cursor = g_strnfill(129, 'a');
  const char *const bad_cursors[] = {"", "a b", "a/b", "a\"b", "<x>", "a%b", long_cursor};
  for (guint i = 0; i < G_N_ELEMENTS(bad_cursors); i++) {
    g_autoptr(GError) error = NULL;
    if (am_http_parse_cursor("cursor", bad_cursors[i], &error))
      g_error("cursor '%s' was accepted", bad_cursors[i]);
    g_assert_nonnull(strstr(error->message, "malformed cursor"));
  }

  const char *const good_keys[] = {"127.0.0.1", "127.0.0.1:4028", "[::1]:4028", "rack1-07"};
  for (guint i = 0; i < G_N_ELEMENTS(good_keys); i++)
    g_assert_true(am_http_parse_miner_key("ip", good_keys[i], NULL));
  const char *const bad_keys[] = {"", "a b", "../etc", "a\\b", "<script>", "x\x01"};
  for (guint i = 0; i < G_N_ELEMENTS(bad_keys); i++)
    g_assert_false(am_http_parse_miner_key("ip", bad_keys[i], NULL));
}

static void
test_sort_and_states(void)
{
  AmHttpSortKey key = AM_HTTP_SORT_HOST;
  gboolean desc = TRUE;
  g_assert_true(am_http_parse_sort("sort", "temp", &key, &desc, NULL));
  g_assert_cmpint(key, ==, AM_HTTP_SORT_TEMP);
  g_assert_false(desc);
  g_assert_true(am_http_parse_sort("sort", "-hashrate", &key, &desc, NULL));
  g_assert_cmpint(key, ==, AM_HTTP_SORT_HASHRATE);
  g_assert_true(desc);
  g_assert_cmpstr(am_http_sort_key_name(AM_HTTP_SORT_LAST_SEEN), ==, "last_seen");
  const char *const bad[] = {"", "-", "--host", "HOST", "hashrate ", "temperature", "ip"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    if (am_http_parse_sort("sort", bad[i], &key, &desc, &error))
      g_error("sort '%s' was accepted", bad[i]);
    g_assert_nonnull(strstr(error->message, "unknown sort key; use one of host, name"));
    g_assert_cmpstr(am_http_param_error_code("sort", error), ==, "invalid_sort");
  }

  guint mask = 0;
  g_assert_true(am_http_parse_states("state", "offline", &mask, NULL));
  g_assert_cmpuint(mask, ==, 1u << AM_HTTP_STATE_OFFLINE);
  g_assert_true(am_http_parse_states("state", "online, degraded", &mask, NULL));
  g_assert_cmpuint(mask, ==, (1u << AM_HTTP_STATE_ONLINE) | (1u << AM_HTTP_STATE_DEGRADED));
  g_assert_true(am_http_parse_states("state", "paused", &mask, NULL));
  g_assert_cmpuint(mask, ==, 1u << AM_HTTP_STATE_PAUSED);
  g_assert_cmpint(am_http_state_from_string("paused"), ==, AM_HTTP_STATE_PAUSED);
  g_assert_cmpstr(am_http_state_to_string(AM_HTTP_STATE_PAUSED), ==, "paused");
  g_assert_false(am_http_parse_states("state", "down", &mask, NULL));
  g_assert_false(am_http_parse_states("state", "", &mask, NULL));
  g_assert_false(am_http_parse_states("state", ",", &mask, NULL));
}

static const AmHttpHistorySpec series_spec = {.miner_param = "ip",
                                              .step = TRUE,
                                              .paged = TRUE,
                                              .default_limit = 1000,
                                              .max_limit = 10000,
                                              .default_span_s = 86400};

static void
test_history_defaults(void)
{
  g_autoptr(GHashTable) q = am_http_query_parse("ip=127.0.0.1", NULL);
  AmHttpHistory h;
  const char *bad = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_http_history_parse(q, &series_spec, T0, &h, &bad, &error));
  g_assert_no_error(error);
  g_assert_cmpint(h.until_s, ==, T0);
  g_assert_cmpint(h.since_s, ==, T0 - 86400);
  g_assert_cmpuint(h.limit, ==, 1000);
  g_assert_cmpuint(h.step_s, ==, 0);
  g_assert_null(h.cursor);

  /* What the store receives: epoch seconds as strings; no step: its choice. */
  g_autoptr(GHashTable) params = am_http_history_to_store_params(&h);
  g_assert_cmpuint(g_hash_table_size(params), ==, 4);
  g_assert_cmpstr(g_hash_table_lookup(params, "since"), ==, "1795428000");
  g_assert_cmpstr(g_hash_table_lookup(params, "until"), ==, "1795514400");
  g_assert_cmpstr(g_hash_table_lookup(params, "limit"), ==, "1000");
  g_assert_cmpstr(g_hash_table_lookup(params, "miner"), ==, "127.0.0.1");
  am_http_history_clear(&h);
}

static void
test_history_full(void)
{
  g_autoptr(GHashTable) q = am_http_query_parse(
      "ip=rig7&since=2026-11-24T00:00:00%2B01:00&until=1795514400&step=5m&limit=20000"
      "&cursor=abc:12",
      NULL);
  AmHttpHistory h;
  const char *bad = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_http_history_parse(q, &series_spec, T0 + 999, &h, &bad, &error));
  g_autoptr(GHashTable) params = am_http_history_to_store_params(&h);
  g_assert_cmpstr(g_hash_table_lookup(params, "since"), ==, "1795474800");
  g_assert_cmpstr(g_hash_table_lookup(params, "until"), ==, "1795514400");
  g_assert_cmpstr(g_hash_table_lookup(params, "step"), ==, "300");
  g_assert_cmpstr(g_hash_table_lookup(params, "limit"), ==, "10000"); /* capped */
  g_assert_cmpstr(g_hash_table_lookup(params, "cursor"), ==, "abc:12");
  g_assert_cmpstr(g_hash_table_lookup(params, "miner"), ==, "rig7");
  am_http_history_clear(&h);
}

static void
test_history_refusals(void)
{
  const struct {
    const char *query;
    const char *param;
    const char *code;
  } cases[] = {
      {"since=noon", "since", "invalid_time"},
      {"until=2026-02-30", "until", "invalid_time"},
      {"since=1795514400&until=1795428000", "since", "invalid_time"},
      {"limit=-5", "limit", "invalid_limit"},
      {"limit=lots", "limit", "invalid_limit"},
      {"cursor=%3Cscript%3E", "cursor", "invalid_cursor"},
      {"step=0", "step", "invalid_parameter"},
      {"ip=a%20b", "ip", "invalid_parameter"},
      {"miner=x", "miner", "unknown_parameter"}, /* series takes ip= */
      {"kind=state", "kind", "unknown_parameter"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GHashTable) q = am_http_query_parse(cases[i].query, NULL);
    g_assert_nonnull(q);
    AmHttpHistory h;
    const char *bad = NULL;
    g_autoptr(GError) error = NULL;
    if (am_http_history_parse(q, &series_spec, T0, &h, &bad, &error))
      g_error("%s was accepted", cases[i].query);
    g_assert_cmpstr(bad, ==, cases[i].param);
    g_assert_cmpstr(am_http_param_error_code(bad, error), ==, cases[i].code);
    g_assert_nonnull(strstr(error->message, cases[i].param));
  }
}

static void
test_events_spec(void)
{
  const AmHttpHistorySpec events = {.miner_param = "miner",
                                    .paged = TRUE,
                                    .kind = TRUE,
                                    .default_limit = 1000,
                                    .max_limit = 10000,
                                    .default_span_s = 86400};
  g_autoptr(GHashTable) q = am_http_query_parse("miner=rig7&kind=alert&limit=5", NULL);
  AmHttpHistory h;
  const char *bad = NULL;
  g_assert_true(am_http_history_parse(q, &events, T0, &h, &bad, NULL));
  g_autoptr(GHashTable) params = am_http_history_to_store_params(&h);
  g_assert_cmpstr(g_hash_table_lookup(params, "kind"), ==, "alert");
  g_assert_cmpstr(g_hash_table_lookup(params, "miner"), ==, "rig7");
  g_assert_cmpstr(g_hash_table_lookup(params, "limit"), ==, "5");
  g_assert_null(g_hash_table_lookup(params, "step"));
  am_http_history_clear(&h);

  g_autoptr(GHashTable) bad_kind = am_http_query_parse("kind=boom", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(am_http_history_parse(bad_kind, &events, T0, &h, &bad, &error));
  g_assert_cmpstr(bad, ==, "kind");
  g_assert_nonnull(strstr(error->message, "state, alert, delivery or action"));

  /* The control plane's audit trail is a kind of its own. */
  g_autoptr(GHashTable) actions = am_http_query_parse("kind=action", NULL);
  g_assert_true(am_http_history_parse(actions, &events, T0, &h, &bad, NULL));
  g_autoptr(GHashTable) action_params = am_http_history_to_store_params(&h);
  g_assert_cmpstr(g_hash_table_lookup(action_params, "kind"), ==, "action");
  am_http_history_clear(&h);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/http-params/query-decoding", test_query_decoding);
  g_test_add_func("/http-params/query-refusals", test_query_refusals);
  g_test_add_func("/http-params/unknown-names", test_unknown_names);
  g_test_add_func("/http-params/times", test_times);
  g_test_add_func("/http-params/limits", test_limits);
  g_test_add_func("/http-params/steps-cursors-keys", test_steps_cursors_keys);
  g_test_add_func("/http-params/sort-and-states", test_sort_and_states);
  g_test_add_func("/http-params/history-defaults", test_history_defaults);
  g_test_add_func("/http-params/history-full", test_history_full);
  g_test_add_func("/http-params/history-refusals", test_history_refusals);
  g_test_add_func("/http-params/events", test_events_spec);
  return g_test_run();
}
