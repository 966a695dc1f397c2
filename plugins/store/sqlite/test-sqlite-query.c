/* The queries the HTTP API and alerts use, as they see them: latest,
 * series (raw and stepped, paged), fleet, events (paged), alert_state, and
 * the errors for bad parameters. */
#include "am-sqlite-test-util.h"
#include <math.h>
#include <string.h>

#define T0 1714550400.0 /* 2024-05-01T08:00:00Z, a whole hour */

typedef struct {
  AmStoreFixture fx;
} Fixture;

static void
setup(Fixture *f, gconstpointer data)
{
  (void)data;
  am_store_fixture_init(&f->fx);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&f->fx, NULL, &error));
}

static void
teardown(Fixture *f, gconstpointer data)
{
  (void)data;
  am_store_fixture_clear(&f->fx);
}

static GPtrArray *
new_batch(void)
{
  return g_ptr_array_new_with_free_func((GDestroyNotify)am_sample_unref);
}

static JsonArray *
rows_of(JsonObject *result)
{
  return json_object_get_array_member(result, "rows");
}

static JsonObject *
row(JsonObject *result, guint i)
{
  return json_array_get_object_element(rows_of(result), i);
}

static JsonObject *query_ok(Fixture *f, const char *query, ...) G_GNUC_NULL_TERMINATED;

/* Runs @query with key, value pairs, asserting success. */
static JsonObject *
query_ok(Fixture *f, const char *query, ...)
{
  g_autoptr(GHashTable) params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  va_list args;
  va_start(args, query);
  const char *key;
  while ((key = va_arg(args, const char *)) != NULL)
    g_hash_table_insert(params, g_strdup(key), g_strdup(va_arg(args, const char *)));
  va_end(args);
  g_autoptr(GError) error = NULL;
  JsonNode *node = am_store_test_info()->vtable.store->query(f->fx.self, query, params, &error);
  g_assert_no_error(error);
  g_assert_nonnull(node);
  JsonObject *obj = json_object_ref(json_node_get_object(node));
  json_node_unref(node);
  return obj;
}

static char *
num(double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup(g_ascii_dtostr(buf, sizeof buf, value));
}

/* Miner A (10.0.0.1:4028) and B (10.0.0.2:4028) every 30 s for @n polls
 * from T0: A at 100 + i TH/s and 3000 W, B at 50 TH/s and 1500 W. */
static void
write_two_miners(Fixture *f, guint n)
{
  g_autoptr(GPtrArray) batch = new_batch();
  for (guint i = 0; i < n; i++) {
    g_ptr_array_add(batch,
                    am_store_test_sample("10.0.0.1", 4028, T0 + 30.0 * i, 100.0 + i, 3000, 3, 2));
    g_ptr_array_add(batch,
                    am_store_test_sample("10.0.0.2", 4028, T0 + 30.0 * i + 5, 50.0, 1500, 3, 2));
  }
  am_store_test_write(&f->fx, batch, NULL);
}

/* ---- latest ------------------------------------------------------------- */

static void
test_latest(Fixture *f, gconstpointer data)
{
  (void)data;
  write_two_miners(f, 4);
  g_autoptr(JsonObject) result = query_ok(f, "latest", NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(result)), ==, 2);
  JsonObject *a = row(result, 0);
  g_assert_cmpstr(json_object_get_string_member(a, "miner"), ==, "10.0.0.1:4028");
  g_assert_cmpfloat(json_object_get_double_member(a, "time"), ==, T0 + 90);
  g_assert_cmpfloat(json_object_get_double_member(a, "hashrate_ths"), ==, 103.0);
  g_assert_cmpfloat(json_object_get_double_member(a, "power_w"), ==, 3000.0);
  g_assert_cmpfloat(json_object_get_double_member(a, "temp_max_c"), ==, 77.0);
  g_assert_cmpfloat(json_object_get_double_member(a, "avg_fan_rpm"), ==, 5460.0);
  g_assert_cmpstr(json_object_get_string_member(a, "model"), ==, "Antminer S19 Pro");
  g_assert_true(json_object_has_member(a, "avg_temp_c"));
  g_assert_true(json_object_has_member(a, "elapsed_s"));
  JsonObject *b = row(result, 1);
  g_assert_cmpstr(json_object_get_string_member(b, "miner"), ==, "10.0.0.2:4028");
  g_assert_cmpfloat(json_object_get_double_member(b, "time"), ==, T0 + 95);
}

/* An unknown reading is null, never 0. */
static void
test_unknown_is_null(Fixture *f, gconstpointer data)
{
  (void)data;
  g_autoptr(GPtrArray) batch = new_batch();
  g_ptr_array_add(batch, am_store_test_sample("10.0.0.9", 4028, T0, NAN, NAN, 0, 0));
  am_store_test_write(&f->fx, batch, NULL);
  g_autoptr(JsonObject) result = query_ok(f, "latest", NULL);
  JsonObject *r = row(result, 0);
  g_assert_true(json_object_get_null_member(r, "hashrate_ths"));
  g_assert_true(json_object_get_null_member(r, "power_w"));
  g_assert_true(json_object_get_null_member(r, "temp_max_c"));
}

/* ---- series -------------------------------------------------------------- */

static void
test_series_raw(Fixture *f, gconstpointer data)
{
  (void)data;
  write_two_miners(f, 10);
  g_autofree char *since = num(T0 + 60);
  g_autofree char *until = num(T0 + 180);
  g_autoptr(JsonObject) result =
      query_ok(f, "series", "miner", "10.0.0.1:4028", "since", since, "until", until, NULL);
  /* since is inclusive, until exclusive: polls 2, 3, 4, 5. */
  g_assert_cmpuint(json_array_get_length(rows_of(result)), ==, 4);
  g_assert_cmpstr(json_object_get_string_member(result, "resolution"), ==, "raw");
  g_assert_true(json_object_get_null_member(result, "next_cursor"));
  for (guint i = 0; i < 4; i++) {
    JsonObject *r = row(result, i);
    g_assert_cmpfloat(json_object_get_double_member(r, "time"), ==, T0 + 60 + 30 * i);
    g_assert_cmpfloat(json_object_get_double_member(r, "hashrate_ths"), ==, 102.0 + i);
    g_assert_cmpstr(json_object_get_string_member(r, "miner_ip"), ==, "10.0.0.1");
    const char *fields[] = {"power_w", "elapsed_s", "avg_temp_c", "avg_fan_rpm", "temp_max_c"};
    for (gsize k = 0; k < G_N_ELEMENTS(fields); k++)
      g_assert_true(json_object_has_member(r, fields[k]));
  }
}

/* A host alone names its miner; an unknown one is an empty answer. */
static void
test_series_miner_names(Fixture *f, gconstpointer data)
{
  (void)data;
  write_two_miners(f, 3);
  g_autoptr(JsonObject) by_host = query_ok(f, "series", "miner", "10.0.0.2", NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(by_host)), ==, 3);
  g_assert_cmpfloat(json_object_get_double_member(row(by_host, 0), "hashrate_ths"), ==, 50.0);
  g_autoptr(JsonObject) unknown =
      query_ok(f, "series", "miner", "10.9.9.9:4028", "step", "60", NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(unknown)), ==, 0);
  g_assert_true(json_object_get_null_member(unknown, "next_cursor"));
}

/* Pages of @limit through a query, checking each row's time is new and
 * later than the one before; returns every time seen. */
static GArray *
collect_pages(Fixture *f, const char *query, const char *miner, const char *step, const char *limit)
{
  GArray *times = g_array_new(FALSE, FALSE, sizeof(double));
  g_autofree char *cursor = NULL;
  guint pages = 0;
  do {
    g_autoptr(GHashTable) params = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(params, "limit", (gpointer)limit);
    if (miner != NULL)
      g_hash_table_insert(params, "miner", (gpointer)miner);
    if (step != NULL)
      g_hash_table_insert(params, "step", (gpointer)step);
    if (cursor != NULL)
      g_hash_table_insert(params, "cursor", cursor);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node =
        am_store_test_info()->vtable.store->query(f->fx.self, query, params, &error);
    g_assert_no_error(error);
    JsonObject *result = json_node_get_object(node);
    JsonArray *rows = rows_of(result);
    g_assert_cmpuint(json_array_get_length(rows), <=, (guint)atoi(limit));
    for (guint i = 0; i < json_array_get_length(rows); i++) {
      double t = json_object_get_double_member(json_array_get_object_element(rows, i), "time");
      if (times->len > 0)
        g_assert_cmpfloat(t, >, g_array_index(times, double, times->len - 1));
      g_array_append_val(times, t);
    }
    g_free(cursor);
    cursor = json_object_get_null_member(result, "next_cursor")
                 ? NULL
                 : g_strdup(json_object_get_string_member(result, "next_cursor"));
    g_assert_cmpuint(++pages, <, 10000);
  } while (cursor != NULL);
  return times;
}

static void
test_series_paging(Fixture *f, gconstpointer data)
{
  (void)data;
  /* 2500 polls, two in the same millisecond: the second moves on by 1 ms
   * (a miner has one raw row per millisecond). */
  g_autoptr(GPtrArray) batch = new_batch();
  for (guint i = 0; i < 2500; i++)
    g_ptr_array_add(batch,
                    am_store_test_sample("10.0.0.1", 4028, T0 + 10.0 * (i / 2), 100, 3000, 3, 2));
  am_store_test_write(&f->fx, batch, NULL);
  g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(double));
  g_autofree char *cursor = NULL;
  guint total = 0, pages = 0;
  do {
    g_autoptr(GHashTable) params = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(params, "miner", "10.0.0.1");
    g_hash_table_insert(params, "limit", "999");
    if (cursor != NULL)
      g_hash_table_insert(params, "cursor", cursor);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node =
        am_store_test_info()->vtable.store->query(f->fx.self, "series", params, &error);
    g_assert_no_error(error);
    JsonObject *result = json_node_get_object(node);
    total += json_array_get_length(rows_of(result));
    for (guint i = 0; i < json_array_get_length(rows_of(result)); i++) {
      double t = json_object_get_double_member(row(result, i), "time");
      g_array_append_val(rows, t);
    }
    g_free(cursor);
    cursor = json_object_get_null_member(result, "next_cursor")
                 ? NULL
                 : g_strdup(json_object_get_string_member(result, "next_cursor"));
    pages++;
  } while (cursor != NULL);
  g_assert_cmpuint(pages, ==, 3);
  g_assert_cmpuint(total, ==, 2500);
  /* Two rows per 10 s, in order: no duplicate, no gap. */
  for (guint i = 0; i < rows->len; i++)
    g_assert_cmpint(llround(g_array_index(rows, double, i) * 1000), ==,
                    (gint64)T0 * 1000 + 10000 * (i / 2) + i % 2);
}

/* Per-step averages from raw samples not rolled up yet, and the same
 * answer once they are. */
static void
test_series_step(Fixture *f, gconstpointer data)
{
  (void)data;
  write_two_miners(f, 8); /* 4 minutes: A at 100..107 TH/s */
  g_autofree char *until = num(T0 + 240);
  g_autoptr(JsonObject) fresh =
      query_ok(f, "series", "miner", "10.0.0.1:4028", "step", "60", "until", until, NULL);
  g_assert_cmpstr(json_object_get_string_member(fresh, "resolution"), ==, "1m");
  g_assert_cmpuint(json_array_get_length(rows_of(fresh)), ==, 4);
  for (guint m = 0; m < 4; m++) {
    g_assert_cmpint(json_object_get_int_member(row(fresh, m), "time"), ==, (gint64)T0 + 60 * m);
    g_assert_cmpfloat(json_object_get_double_member(row(fresh, m), "hashrate_ths"), ==,
                      100.5 + 2 * m);
  }
  /* Ten minutes later the four minutes are rolled up; same answer. */
  g_autoptr(GPtrArray) later = new_batch();
  g_ptr_array_add(later, am_store_test_sample("10.0.0.1", 4028, T0 + 600, 1, 3000, 3, 2));
  am_store_test_write(&f->fx, later, NULL);
  g_autoptr(JsonObject) rolled =
      query_ok(f, "series", "miner", "10.0.0.1:4028", "step", "60", "until", until, NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(rolled)), ==, 4);
  for (guint m = 0; m < 4; m++)
    g_assert_cmpfloat(json_object_get_double_member(row(rolled, m), "hashrate_ths"), ==,
                      100.5 + 2 * m);
  /* A two-minute step averages two minutes. */
  g_autoptr(JsonObject) two =
      query_ok(f, "series", "miner", "10.0.0.1:4028", "step", "120", "until", until, NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(two)), ==, 2);
  g_assert_cmpfloat(json_object_get_double_member(row(two, 1), "hashrate_ths"), ==, 105.5);
  /* An hour step reads the hour band; the hour is still open, so this
   * single row mixes minute rollups and the raw sample at T0 + 600. */
  g_autoptr(JsonObject) hour = query_ok(f, "series", "miner", "10.0.0.1", "step", "3600", NULL);
  g_assert_cmpstr(json_object_get_string_member(hour, "resolution"), ==, "1h");
  g_assert_cmpuint(json_array_get_length(rows_of(hour)), ==, 1);
  g_assert_cmpfloat(json_object_get_double_member(row(hour, 0), "hashrate_ths"), ==,
                    (100 + 101 + 102 + 103 + 104 + 105 + 106 + 107 + 1) / 9.0);
}

static void
test_series_step_paging(Fixture *f, gconstpointer data)
{
  (void)data;
  /* 200 minutes; the first half gets rolled up when the rest arrives. */
  g_autoptr(GPtrArray) batch = new_batch();
  for (guint i = 0; i < 400; i++)
    g_ptr_array_add(batch, am_store_test_sample("10.0.0.1", 4028, T0 + 30.0 * i, 100, 3000, 3, 2));
  am_store_test_write(&f->fx, batch, NULL);
  g_autoptr(GArray) times = collect_pages(f, "series", "10.0.0.1", "60", "7");
  g_assert_cmpuint(times->len, ==, 200);
  for (guint i = 0; i < times->len; i++)
    g_assert_cmpfloat(g_array_index(times, double, i), ==, T0 + 60.0 * i);
  /* An odd step pages the same way: 200 minutes in 90 s buckets. */
  g_autoptr(GArray) odd = collect_pages(f, "series", "10.0.0.1", "90", "11");
  g_assert_cmpuint(odd->len, ==, 134);
}

/* ---- fleet --------------------------------------------------------------- */

static void
test_fleet(Fixture *f, gconstpointer data)
{
  (void)data;
  write_two_miners(f, 6); /* 3 minutes */
  g_autofree char *since = num(T0);
  g_autofree char *until = num(T0 + 180);
  g_autoptr(JsonObject) result =
      query_ok(f, "fleet", "since", since, "until", until, "step", "60", NULL);
  g_assert_cmpstr(json_object_get_string_member(result, "resolution"), ==, "1m");
  g_assert_cmpuint(json_array_get_length(rows_of(result)), ==, 3);
  for (guint m = 0; m < 3; m++) {
    JsonObject *r = row(result, m);
    g_assert_cmpint(json_object_get_int_member(r, "time"), ==, (gint64)T0 + 60 * m);
    /* A averages 100.5 + 2m in minute m, B 50. */
    g_assert_cmpfloat(json_object_get_double_member(r, "hashrate_ths"), ==, 150.5 + 2 * m);
    g_assert_cmpfloat(json_object_get_double_member(r, "power_w"), ==, 4500);
    g_assert_cmpint(json_object_get_int_member(r, "miners"), ==, 2);
  }
  g_autoptr(JsonObject) hourly =
      query_ok(f, "fleet", "since", since, "until", until, "step", "3600", NULL);
  g_assert_cmpstr(json_object_get_string_member(hourly, "resolution"), ==, "1h");
  g_assert_cmpuint(json_array_get_length(rows_of(hourly)), ==, 1);
  g_assert_cmpfloat(json_object_get_double_member(row(hourly, 0), "hashrate_ths"), ==, 152.5);
}

/* ---- events -------------------------------------------------------------- */

static GPtrArray *
new_events(void)
{
  return g_ptr_array_new_with_free_func(g_free);
}

static void
test_events(Fixture *f, gconstpointer data)
{
  (void)data;
  g_autoptr(GPtrArray) events = new_events();
  g_ptr_array_add(events, am_store_test_event(T0, "10.0.0.1:4028", "state", "online", NULL));
  g_ptr_array_add(events,
                  am_store_test_event(T0 + 10, "10.0.0.2:4028", "state", "offline", "timeout"));
  g_ptr_array_add(events, am_store_test_event(T0 + 20, "10.0.0.1:4028", "alert", "hot",
                                              "{\"state\":\"raised\",\"value\":95}"));
  g_ptr_array_add(events, am_store_test_event(T0 + 30, "10.0.0.10:4028", "state", "degraded",
                                              "chain 2 missing"));
  g_ptr_array_add(events, am_store_test_event(T0 + 40, "[::1]:4028", "state", "online", NULL));
  am_store_test_write(&f->fx, NULL, events);

  g_autofree char *since = num(T0 + 10);
  g_autofree char *until = num(T0 + 40);
  g_autoptr(JsonObject) window = query_ok(f, "events", "since", since, "until", until, NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(window)), ==, 3);
  JsonObject *first = row(window, 0);
  g_assert_cmpfloat(json_object_get_double_member(first, "time"), ==, T0 + 10);
  g_assert_cmpstr(json_object_get_string_member(first, "miner"), ==, "10.0.0.2:4028");
  g_assert_cmpstr(json_object_get_string_member(first, "kind"), ==, "state");
  g_assert_cmpstr(json_object_get_string_member(first, "name"), ==, "offline");
  g_assert_cmpstr(json_object_get_string_member(first, "detail"), ==, "timeout");

  /* A host matches its own miners only (10.0.0.1, not 10.0.0.10). */
  g_autoptr(JsonObject) host = query_ok(f, "events", "miner", "10.0.0.1", NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(host)), ==, 2);
  g_autoptr(JsonObject) address = query_ok(f, "events", "miner", "10.0.0.10:4028", NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(address)), ==, 1);
  g_autoptr(JsonObject) v6 = query_ok(f, "events", "miner", "::1", NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(v6)), ==, 1);
  g_autoptr(JsonObject) alerts = query_ok(f, "events", "kind", "alert", NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(alerts)), ==, 1);
  g_assert_cmpstr(json_object_get_string_member(row(alerts, 0), "name"), ==, "hot");
}

static void
test_events_paging(Fixture *f, gconstpointer data)
{
  (void)data;
  /* 1000 events, five per timestamp. */
  g_autoptr(GPtrArray) events = new_events();
  for (guint i = 0; i < 1000; i++) {
    g_autofree char *detail = g_strdup_printf("%u", i);
    g_ptr_array_add(events,
                    am_store_test_event(T0 + i / 5, "10.0.0.1:4028", "state", "online", detail));
  }
  am_store_test_write(&f->fx, NULL, events);
  g_autofree char *cursor = NULL;
  guint seen = 0, pages = 0;
  do {
    g_autoptr(GHashTable) params = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(params, "limit", "33");
    if (cursor != NULL)
      g_hash_table_insert(params, "cursor", cursor);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node =
        am_store_test_info()->vtable.store->query(f->fx.self, "events", params, &error);
    g_assert_no_error(error);
    JsonObject *result = json_node_get_object(node);
    for (guint i = 0; i < json_array_get_length(rows_of(result)); i++) {
      /* Details count up from 0: every event once, in order. */
      g_autofree char *expected = g_strdup_printf("%u", seen++);
      g_assert_cmpstr(json_object_get_string_member(row(result, i), "detail"), ==, expected);
    }
    g_free(cursor);
    cursor = json_object_get_null_member(result, "next_cursor")
                 ? NULL
                 : g_strdup(json_object_get_string_member(result, "next_cursor"));
    pages++;
  } while (cursor != NULL);
  g_assert_cmpuint(seen, ==, 1000);
  g_assert_cmpuint(pages, ==, 31);
}

/* ---- alert_state ----------------------------------------------------------- */

static void
test_alert_state(Fixture *f, gconstpointer data)
{
  (void)data;
  g_autoptr(GPtrArray) events = new_events();
  const char *raised = "{\"state\":\"raised\",\"value\":96}";
  const char *resolved = "{\"state\":\"resolved\"}";
  g_ptr_array_add(events, am_store_test_event(T0, "10.0.0.1:4028", "alert", "hot", raised));
  g_ptr_array_add(events, am_store_test_event(T0 + 1, "10.0.0.2:4028", "alert", "hot", raised));
  g_ptr_array_add(events, am_store_test_event(T0 + 2, "10.0.0.1:4028", "alert", "slow", raised));
  g_ptr_array_add(events, am_store_test_event(T0 + 3, "10.0.0.1:4028", "alert", "hot", resolved));
  am_store_test_write(&f->fx, NULL, events);
  g_autoptr(JsonObject) state = query_ok(f, "alert_state", NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(state)), ==, 2);
  JsonObject *a = row(state, 0);
  g_assert_cmpstr(json_object_get_string_member(a, "miner"), ==, "10.0.0.1:4028");
  g_assert_cmpstr(json_object_get_string_member(a, "rule"), ==, "slow");
  g_assert_cmpfloat(json_object_get_double_member(a, "time"), ==, T0 + 2);
  g_assert_cmpstr(json_object_get_string_member(a, "detail"), ==, raised);
  g_assert_cmpstr(json_object_get_string_member(row(state, 1), "miner"), ==, "10.0.0.2:4028");

  /* Raised again later: active again, with the new time. */
  g_autoptr(GPtrArray) again = new_events();
  g_ptr_array_add(again, am_store_test_event(T0 + 9, "10.0.0.1:4028", "alert", "hot", raised));
  am_store_test_write(&f->fx, NULL, again);
  g_autoptr(JsonObject) now = query_ok(f, "alert_state", NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(now)), ==, 3);
  g_assert_cmpstr(json_object_get_string_member(row(now, 0), "rule"), ==, "hot");
  g_assert_cmpfloat(json_object_get_double_member(row(now, 0), "time"), ==, T0 + 9);
}

/* ---- errors --------------------------------------------------------------- */

static void
expect_error(Fixture *f, const char *message, const char *query, const char *key, const char *value)
{
  g_autoptr(GHashTable) params = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(params, "miner", "10.0.0.1");
  if (key != NULL)
    g_hash_table_insert(params, (gpointer)key, (gpointer)value);
  g_autoptr(GError) error = NULL;
  JsonNode *node = am_store_test_info()->vtable.store->query(f->fx.self, query, params, &error);
  g_assert_null(node);
  g_assert_error(error, AM_ERROR, AM_ERROR_FAILED);
  if (strstr(error->message, message) == NULL)
    g_error("expected \"%s\" in: %s", message, error->message);
}

static void
test_bad_params(Fixture *f, gconstpointer data)
{
  (void)data;
  write_two_miners(f, 2);
  expect_error(f, "unknown query 'history'", "history", NULL, NULL);
  expect_error(f, "series: since=yesterday: expected a time in epoch seconds", "series", "since",
               "yesterday");
  expect_error(f, "events: until=1e400", "events", "until", "1e400");
  expect_error(f, "series: limit=0: expected a whole number", "series", "limit", "0");
  expect_error(f, "fleet: step=-60: expected a whole number", "fleet", "step", "-60");
  expect_error(f, "series: cursor=x-1: expected the next_cursor", "series", "cursor", "x-1");
  expect_error(f, "events: cursor=r-1-2: expected the next_cursor", "events", "cursor", "r-1-2");
  /* The parameter's value goes nowhere near SQL. */
  expect_error(f, "series: since=1; DROP TABLE samples", "series", "since",
               "1; DROP TABLE samples");
  g_autoptr(JsonObject) still = query_ok(f, "latest", NULL);
  g_assert_cmpuint(json_array_get_length(rows_of(still)), ==, 2);

  g_autoptr(GError) error = NULL;
  JsonNode *node = am_store_test_info()->vtable.store->query(f->fx.self, "series", NULL, &error);
  g_assert_null(node);
  g_assert_nonnull(strstr(error->message, "the miner parameter is required"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(path, func) g_test_add(path, Fixture, NULL, setup, func, teardown)
  ADD("/store/sqlite/query/latest", test_latest);
  ADD("/store/sqlite/query/unknown-is-null", test_unknown_is_null);
  ADD("/store/sqlite/query/series-raw", test_series_raw);
  ADD("/store/sqlite/query/series-miner-names", test_series_miner_names);
  ADD("/store/sqlite/query/series-paging", test_series_paging);
  ADD("/store/sqlite/query/series-step", test_series_step);
  ADD("/store/sqlite/query/series-step-paging", test_series_step_paging);
  ADD("/store/sqlite/query/fleet", test_fleet);
  ADD("/store/sqlite/query/events", test_events);
  ADD("/store/sqlite/query/events-paging", test_events_paging);
  ADD("/store/sqlite/query/alert-state", test_alert_state);
  ADD("/store/sqlite/query/bad-params", test_bad_params);
#undef ADD
  return g_test_run();
}
