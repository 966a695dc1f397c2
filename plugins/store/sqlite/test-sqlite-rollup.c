/* Retention and rollups. The store's clock is the newest sample it has
 * written, so these tests move time by writing samples with explicit
 * times: no sleeping, no wall clock. */
#include "am-sqlite-store.h"
#include "am-sqlite-test-util.h"
#include <sqlite3.h>
#include <string.h>

#define T0 1714550400.0 /* 2024-05-01T08:00:00Z, a whole hour */
#define HOUR 3600.0

static GPtrArray *
new_batch(void)
{
  return g_ptr_array_new_with_free_func((GDestroyNotify)am_sample_unref);
}

static char *
num(double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup(g_ascii_dtostr(buf, sizeof buf, value));
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

static JsonObject *
series(AmStoreFixture *fx, double since, double until, const char *step)
{
  g_autofree char *s = num(since);
  g_autofree char *u = num(until);
  g_autoptr(GError) error = NULL;
  JsonObject *result = am_store_test_query(fx, &error, "series", "miner", "10.0.0.1:4028", "since",
                                           s, "until", u, "step", step, "limit", "100000", NULL);
  g_assert_no_error(error);
  return result;
}

/* Miner 10.0.0.1 every 30 s over [@from, @to): hashrate 100 in even
 * minutes and 110 in odd ones, written one poll pass per batch. */
static void
write_polls(AmStoreFixture *fx, double from, double to)
{
  for (double t = from; t < to; t += 30) {
    g_autoptr(GPtrArray) batch = new_batch();
    double ths = ((gint64)(t / 60) % 2 == 0) ? 100 : 110;
    g_ptr_array_add(batch, am_store_test_sample("10.0.0.1", 4028, t, ths, 3000, 3, 2));
    am_store_test_write(fx, batch, NULL);
  }
}

static gint64
count_rows(const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  gint64 n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* Decodes the detail of every raw row: @expect rows, each with @chains
 * chains. */
static void
assert_details_decode(const char *path, gint64 expect, guint chains)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT miner_id, t FROM samples", -1, &st, NULL), ==,
                  SQLITE_OK);
  gint64 n = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    g_autoptr(AmSample) s = am_sample_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(am_sqlite_read_detail(db, sqlite3_column_int64(st, 0),
                                        sqlite3_column_int64(st, 1), s, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(s->chains->len, ==, chains);
    n++;
  }
  g_assert_cmpint(n, ==, expect);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* Raw samples go after raw_retention; what they said stays in the minute
 * and hour rollups, and long ranges read those. */
static void
test_raw_retention(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, "raw_retention=1h\n", &error));
  write_polls(&fx, T0, T0 + 4 * HOUR);

  /* The first hour's raw samples are gone ... */
  g_autoptr(JsonObject) raw = series(&fx, T0, T0 + HOUR, "0");
  g_assert_cmpuint(json_array_get_length(rows_of(raw)), ==, 0);
  /* ... the last hour's are all there ... */
  g_autoptr(JsonObject) recent = series(&fx, T0 + 3 * HOUR, T0 + 4 * HOUR, "0");
  g_assert_cmpuint(json_array_get_length(rows_of(recent)), ==, 120);
  /* ... and the first hour is still there per minute and per hour. */
  g_autoptr(JsonObject) minutes = series(&fx, T0, T0 + HOUR, "60");
  g_assert_cmpstr(json_object_get_string_member(minutes, "resolution"), ==, "1m");
  g_assert_cmpuint(json_array_get_length(rows_of(minutes)), ==, 60);
  for (guint m = 0; m < 60; m++) {
    g_assert_cmpint(json_object_get_int_member(row(minutes, m), "time"), ==, (gint64)T0 + 60 * m);
    g_assert_cmpfloat(json_object_get_double_member(row(minutes, m), "hashrate_ths"), ==,
                      m % 2 == 0 ? 100 : 110);
  }
  g_autoptr(JsonObject) hours = series(&fx, T0, T0 + 4 * HOUR, "3600");
  g_assert_cmpstr(json_object_get_string_member(hours, "resolution"), ==, "1h");
  g_assert_cmpuint(json_array_get_length(rows_of(hours)), ==, 4);
  for (guint h = 0; h < 4; h++) {
    g_assert_cmpint(json_object_get_int_member(row(hours, h), "time"), ==, (gint64)(T0 + HOUR * h));
    g_assert_cmpfloat(json_object_get_double_member(row(hours, h), "hashrate_ths"), ==, 105);
    g_assert_cmpfloat(json_object_get_double_member(row(hours, h), "power_w"), ==, 3000);
  }
  /* A sub-minute step over pruned raw data reads the minute rollups. */
  g_autoptr(JsonObject) fine = series(&fx, T0, T0 + 600, "30");
  g_assert_cmpstr(json_object_get_string_member(fine, "resolution"), ==, "1m");

  am_store_fixture_close(&fx);
  /* Raw rows older than an hour are gone, a whole 10-minute window at a
   * time (+ the minutes not yet rolled up) ... */
  gint64 kept = count_rows(fx.path, "SELECT count(*) FROM samples");
  g_assert_cmpint(kept, >=, 120);
  g_assert_cmpint(kept, <=, 120 + 20 + 10);
  /* ... and every row left still decodes, chains included: no delta frame
   * lost its base. */
  assert_details_decode(fx.path, kept, 3);
  am_store_fixture_clear(&fx);
}

/* Rollups and events go after rollup_retention. */
static void
test_rollup_retention(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, "raw_retention=1h\nrollup_retention=2h\n", &error));
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(events, am_store_test_event(T0, "10.0.0.1:4028", "state", "online", NULL));
  am_store_test_write(&fx, NULL, events);
  write_polls(&fx, T0, T0 + 5 * HOUR);

  g_autoptr(JsonObject) hours = series(&fx, T0, T0 + 5 * HOUR, "3600");
  /* Hours 0-2 are older than two hours; hour 3 is kept, hour 4 is open. */
  g_assert_cmpuint(json_array_get_length(rows_of(hours)), ==, 2);
  g_assert_cmpint(json_object_get_int_member(row(hours, 0), "time"), ==, (gint64)(T0 + 3 * HOUR));
  g_autoptr(JsonObject) old = am_store_test_query(&fx, &error, "events", NULL);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(rows_of(old)), ==, 0);
  am_store_fixture_clear(&fx);
}

/* Each resolution has its own retention: here raw 1 h, minutes 2 h,
 * hours 4 h, events 3 h, over 7 hours of polls. A minute step over the
 * whole range reads hours where the minutes are gone. */
static void
test_retention_per_resolution(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx,
                                      "raw_retention=1h\nrollup_1m_retention=2h\n"
                                      "rollup_1h_retention=4h\nevent_retention=3h\n",
                                      &error));
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
  for (guint h = 0; h < 7; h++)
    g_ptr_array_add(events,
                    am_store_test_event(T0 + h * HOUR, "10.0.0.1:4028", "state", "online", NULL));
  am_store_test_write(&fx, NULL, events);
  write_polls(&fx, T0, T0 + 7 * HOUR);
  double now = T0 + 7 * HOUR - 30;

  /* Minutes: the last two hours (and the one being pruned). */
  gint64 oldest_1m = count_rows(fx.path, "SELECT min(bucket) FROM rollup_1m");
  g_assert_cmpint(oldest_1m, >=, (gint64)(now - 2 * HOUR) - 60);
  g_assert_cmpint(oldest_1m, <=, (gint64)(now - 2 * HOUR) + 60);
  g_assert_cmpint(count_rows(fx.path, "SELECT min(bucket) FROM fleet_1m"), ==, oldest_1m);
  /* Hours: those starting less than 4 h ago (hour 6 is still open). */
  g_assert_cmpint(count_rows(fx.path, "SELECT min(bucket) FROM rollup_1h"), ==, T0 + 3 * HOUR);
  g_assert_cmpint(count_rows(fx.path, "SELECT count(*) FROM rollup_1h"), ==, 3);
  /* Events: the last three hours'. */
  g_autoptr(JsonObject) kept = am_store_test_query(&fx, &error, "events", NULL);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(rows_of(kept)), ==, 3);
  /* Raw: the last hour, give or take a window. */
  gint64 oldest_raw = count_rows(fx.path, "SELECT min(t) / 1000 FROM samples");
  g_assert_cmpint(oldest_raw, >=, (gint64)(now - HOUR) - 600);
  g_assert_cmpint(oldest_raw, <=, (gint64)(now - HOUR));

  /* A minute step over all of it: hours 3 and 4 from the hour rollups
   * (their minutes are gone), then minutes, then raw samples. */
  g_autoptr(JsonObject) all = series(&fx, T0, T0 + 7 * HOUR, "60");
  g_assert_cmpstr(json_object_get_string_member(all, "resolution"), ==, "1m");
  g_assert_cmpint(json_object_get_int_member(row(all, 0), "time"), ==, (gint64)(T0 + 3 * HOUR));
  g_assert_cmpfloat(json_object_get_double_member(row(all, 0), "hashrate_ths"), ==, 105);
  g_assert_cmpint(json_object_get_int_member(row(all, 1), "time"), ==, (gint64)(T0 + 4 * HOUR));
  g_assert_cmpint(json_object_get_int_member(row(all, 2), "time"), ==, (gint64)(T0 + 5 * HOUR));
  guint n = json_array_get_length(rows_of(all));
  g_assert_cmpuint(n, ==, 2 + 120);
  for (guint i = 2; i < n; i++)
    g_assert_cmpint(json_object_get_int_member(row(all, i), "time"), ==,
                    (gint64)(T0 + 5 * HOUR) + 60 * (i - 2));
  am_store_fixture_clear(&fx);
}

/* A sample that arrives after its minute was rolled up is counted: the
 * minute (and its hour) are rolled up again. */
static void
test_late_sample(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, NULL, &error));
  write_polls(&fx, T0, T0 + 2 * HOUR);
  g_autoptr(JsonObject) before = series(&fx, T0 + 600, T0 + 660, "60");
  g_assert_cmpfloat(json_object_get_double_member(row(before, 0), "hashrate_ths"), ==, 100);

  g_autoptr(GPtrArray) late = new_batch();
  g_ptr_array_add(late, am_store_test_sample("10.0.0.1", 4028, T0 + 615, 70, 3000, 3, 2));
  am_store_test_write(&fx, late, NULL);
  g_autoptr(GPtrArray) next = new_batch();
  g_ptr_array_add(next, am_store_test_sample("10.0.0.1", 4028, T0 + 2 * HOUR, 100, 3000, 3, 2));
  am_store_test_write(&fx, next, NULL);

  g_autoptr(JsonObject) after = series(&fx, T0 + 600, T0 + 660, "60");
  g_assert_cmpfloat(json_object_get_double_member(row(after, 0), "hashrate_ths"), ==, 90);
  g_autoptr(JsonObject) hour = series(&fx, T0, T0 + HOUR, "3600");
  g_assert_cmpfloat(json_object_get_double_member(row(hour, 0), "hashrate_ths"), ==,
                    (105.0 * 120 + 70) / 121);
  am_store_fixture_clear(&fx);
}

/* Uptime: the share of an hour's minutes in which the miner answered. */
static void
test_uptime(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, NULL, &error));
  /* Answers for the first 45 minutes of the hour, then silence. */
  write_polls(&fx, T0, T0 + 45 * 60);
  write_polls(&fx, T0 + HOUR, T0 + 2 * HOUR);
  am_store_fixture_close(&fx);
  g_assert_cmpint(count_rows(fx.path, "SELECT up * 100 FROM rollup_1h WHERE bucket = 1714550400"),
                  ==, 75);
  g_assert_cmpint(count_rows(fx.path, "SELECT n FROM rollup_1h WHERE bucket = 1714550400"), ==, 90);
  am_store_fixture_clear(&fx);
}

/* Pruning a big backlog never deletes more per batch than the batch
 * brought plus a small step, so a write never waits for a long delete. */
static void
test_prune_in_steps(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  g_autoptr(GError) error = NULL;
  /* 20 000 samples of 100 miners, 200 polls in one batch, kept ... */
  g_assert_true(am_store_fixture_open(&fx, NULL, &error));
  g_autoptr(GPtrArray) backlog = new_batch();
  for (guint p = 0; p < 200; p++)
    for (guint m = 0; m < 100; m++) {
      g_autofree char *host = g_strdup_printf("10.0.1.%u", m + 1);
      g_ptr_array_add(backlog, am_store_test_sample(host, 4028, T0 + 30.0 * p, 100, 3000, 3, 2));
    }
  am_store_test_write(&fx, backlog, NULL);
  am_store_fixture_close(&fx);
  gint64 total = count_rows(fx.path, "SELECT count(*) FROM samples");
  g_assert_cmpint(total, ==, 20000);

  /* ... until retention becomes an hour and, a day later, one sample
   * arrives: the whole backlog is past retention. */
  g_autoptr(GError) reopen = NULL;
  g_assert_true(am_store_fixture_open(&fx, "raw_retention=1h\n", &reopen));
  gint64 left = total;
  guint batches = 0;
  while (left > 1 && batches < 1000) {
    g_autoptr(GPtrArray) one = new_batch();
    g_ptr_array_add(one, am_store_test_sample("10.0.0.1", 4028, T0 + 86400 + batches, 1, 1, 0, 0));
    am_store_test_write(&fx, one, NULL);
    batches++;
    am_store_fixture_close(&fx);
    gint64 now = count_rows(fx.path, "SELECT count(*) FROM samples WHERE t < 1714636800000");
    g_assert_true(am_store_fixture_open(&fx, "raw_retention=1h\n", &reopen));
    /* At most one batch (1 sample) + one step (1000 rows) per write. */
    g_assert_cmpint(left - now, <=, 1001);
    left = now;
  }
  g_assert_cmpint(left, ==, 0);
  g_assert_cmpuint(batches, >=, 20);
  am_store_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/store/sqlite/rollup/raw-retention", test_raw_retention);
  g_test_add_func("/store/sqlite/rollup/rollup-retention", test_rollup_retention);
  g_test_add_func("/store/sqlite/rollup/retention-per-resolution", test_retention_per_resolution);
  g_test_add_func("/store/sqlite/rollup/late-sample", test_late_sample);
  g_test_add_func("/store/sqlite/rollup/uptime", test_uptime);
  g_test_add_func("/store/sqlite/rollup/prune-in-steps", test_prune_in_steps);
  return g_test_run();
}
