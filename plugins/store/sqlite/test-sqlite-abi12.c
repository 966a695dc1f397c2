/* The plugin ABI 1.2 fields through the whole store: written by
 * write_batch, read back by the series query (raw rows from the packed
 * detail and samples_x; 1-minute and 1-hour steps from their rollups), by
 * am_sqlite_read_detail, pruned with the raw samples, and a version 3
 * database upgraded to version 4. Expected values are the inputs below,
 * worked out by hand. A miner that reports none of the new fields has null
 * there and no samples_x row. */
#include "am-sqlite-schema.h"
#include "am-sqlite-test-util.h"
#include <math.h>

#define T0 1714550400.0 /* 2024-05-01T08:00:00Z, a whole hour */
#define N_POLLS 360     /* 3 hours at 30 s */

/* Poll @i of the hydro miner 10.0.0.7: every new field, coolant in
 * alternating 38.0 / 39.0 degC, best share 1e9 + i, poll 342 partial. */
static AmSample *
hydro_sample(guint i)
{
  AmSample *s = am_store_test_sample("10.0.0.7", 4028, T0 + 30.0 * i, 300, 5600, 3, 0);
  s->mining = AM_MINING_HASHING;
  am_sample_set(s, &s->work_mode, "normal");
  s->power_limit_w = 5500;
  s->water_temp_in_c = 38.0 + i % 2;
  s->water_temp_out_c = 46.0;
  s->psu_power_in_w = 5600;
  s->psu_power_out_w = 5400;
  s->psu_fan_rpm = 3000;
  s->best_share = 1e9 + i;
  s->found_blocks = 1;
  s->partial = i == 342;
  am_sample_add_error(s, "E0112", "PSU warm", "psu", AM_ERROR_SEVERITY_WARNING);
  for (guint c = 0; c < 3; c++) {
    AmChain *ch = &g_array_index(s->chains, AmChain, c);
    ch->voltage_v = 13.0 + 0.2 * c;   /* mean 13.2 */
    ch->frequency_mhz = 600 + 10 * c; /* mean 610 */
    ch->temp_inlet_c = 40.5 + c;
    ch->temp_outlet_c = 50.5 + c;
  }
  return s;
}

/* Three hours of the hydro miner and of a plain one (10.0.0.8: none of
 * the new fields), ten polls a batch as the writer gets them, and a last
 * pass 10 minutes on so that every hour is rolled up. Raw samples are kept
 * one hour. */
static void
write_history(AmStoreFixture *fx)
{
  g_autoptr(GError) error = NULL;
  am_store_fixture_init(fx);
  g_assert_true(am_store_fixture_open(fx, "raw_retention=1h\n", &error));
  g_assert_no_error(error);
  for (guint first = 0; first <= N_POLLS; first += 10) {
    g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func((GDestroyNotify)am_sample_unref);
    for (guint i = first; i < first + 10 && i < N_POLLS; i++) {
      g_ptr_array_add(batch, hydro_sample(i));
      g_ptr_array_add(batch,
                      am_store_test_sample("10.0.0.8", 4028, T0 + 30.0 * i, 100, 3250, 3, 0));
    }
    if (first == N_POLLS)
      for (guint k = 0; k < 20; k++)
        g_ptr_array_add(batch, am_store_test_sample("10.0.0.8", 4028, T0 + 30.0 * N_POLLS + 60 * k,
                                                    100, 3250, 3, 0));
    am_store_test_write(fx, batch, NULL);
  }
}

static JsonArray *
series_rows(AmStoreFixture *fx, const char *miner, const char *since, const char *step,
            const char *limit)
{
  g_autoptr(GError) error = NULL;
  /* Without a step: raw rows ("step" is the last pair, NULL ends the list). */
  JsonObject *result =
      am_store_test_query(fx, &error, "series", "miner", miner, "since", since, "limit", limit,
                          step != NULL ? "step" : NULL, step, NULL);
  g_assert_no_error(error);
  JsonArray *rows = json_array_ref(json_object_get_array_member(result, "rows"));
  json_object_unref(result);
  return rows;
}

static void
assert_null(JsonObject *row, const char *name)
{
  g_assert_true(json_object_has_member(row, name));
  g_assert_true(json_object_get_null_member(row, name));
}

static void
assert_number(JsonObject *row, const char *name, double want)
{
  g_assert_true(json_object_has_member(row, name));
  g_assert_false(json_object_get_null_member(row, name));
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(row, name), want, 1e-6);
}

static const char *const series_names[] = {
    "power_limit_w",   "water_temp_in_c", "water_temp_out_c",    "psu_power_in_w",
    "psu_power_out_w", "chain_voltage_v", "chain_frequency_mhz",
};

/* Raw rows of polls 340 to 343 (in the last hour, still raw). */
static void
test_raw_rows(AmStoreFixture *fx)
{
  g_autofree char *since = g_strdup_printf("%.0f", T0 + 30.0 * 340);
  g_autoptr(JsonArray) rows = series_rows(fx, "10.0.0.7", since, NULL, "4");
  g_assert_cmpuint(json_array_get_length(rows), ==, 4);
  for (guint k = 0; k < 4; k++) {
    JsonObject *row = json_array_get_object_element(rows, k);
    guint i = 340 + k;
    assert_number(row, "time", T0 + 30.0 * i);
    assert_number(row, "power_limit_w", 5500);
    assert_number(row, "water_temp_in_c", i % 2 == 0 ? 38.0 : 39.0);
    assert_number(row, "water_temp_out_c", 46.0);
    assert_number(row, "psu_power_in_w", 5600);
    assert_number(row, "psu_power_out_w", 5400);
    assert_number(row, "chain_voltage_v", 13.2);
    assert_number(row, "chain_frequency_mhz", 610);
    g_assert_cmpstr(json_object_get_string_member(row, "mining"), ==, "hashing");
    g_assert_cmpstr(json_object_get_string_member(row, "work_mode"), ==, "normal");
    assert_number(row, "psu_fan_rpm", 3000);
    assert_number(row, "best_share", 1e9 + i);
    g_assert_cmpint(json_object_get_int_member(row, "found_blocks"), ==, 1);
    g_assert_true(json_object_get_boolean_member(row, "partial") == (i == 342));
    g_assert_cmpint(json_object_get_int_member(row, "errors_warning"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(row, "errors_error"), ==, 0);
    g_assert_cmpint(json_object_get_int_member(row, "errors_info"), ==, 0);
    g_assert_cmpint(json_object_get_int_member(row, "errors_unknown"), ==, 0);
  }
  /* The plain miner: all unknown, and a whole poll. */
  g_autoptr(JsonArray) plain = series_rows(fx, "10.0.0.8", since, NULL, "1");
  JsonObject *row = json_array_get_object_element(plain, 0);
  assert_number(row, "hashrate_ths", 100);
  for (gsize n = 0; n < G_N_ELEMENTS(series_names); n++)
    assert_null(row, series_names[n]);
  const char *others[] = {"mining",         "work_mode",    "psu_fan_rpm",
                          "best_share",     "found_blocks", "errors_error",
                          "errors_warning", "errors_info",  "errors_unknown"};
  for (gsize n = 0; n < G_N_ELEMENTS(others); n++)
    assert_null(row, others[n]);
  g_assert_false(json_object_get_boolean_member(row, "partial"));
}

/* Steps read the rollups: the first hour is past raw retention. */
static void
test_steps(AmStoreFixture *fx)
{
  const char *steps[] = {"60", "3600"};
  g_autofree char *since = g_strdup_printf("%.0f", T0);
  for (gsize k = 0; k < G_N_ELEMENTS(steps); k++) {
    g_autoptr(JsonArray) rows = series_rows(fx, "10.0.0.7", since, steps[k], "2");
    g_assert_cmpuint(json_array_get_length(rows), ==, 2);
    JsonObject *row = json_array_get_object_element(rows, 0);
    assert_number(row, "time", T0);
    assert_number(row, "power_limit_w", 5500);
    assert_number(row, "water_temp_in_c", 38.5); /* 38 and 39 alternating */
    assert_number(row, "water_temp_out_c", 46.0);
    assert_number(row, "psu_power_in_w", 5600);
    assert_number(row, "psu_power_out_w", 5400);
    assert_number(row, "chain_voltage_v", 13.2);
    assert_number(row, "chain_frequency_mhz", 610);
    g_assert_false(json_object_has_member(row, "mining")); /* not a series */
    g_autoptr(JsonArray) plain = series_rows(fx, "10.0.0.8", since, steps[k], "1");
    JsonObject *p = json_array_get_object_element(plain, 0);
    assert_number(p, "power_w", 3250);
    for (gsize n = 0; n < G_N_ELEMENTS(series_names); n++)
      assert_null(p, series_names[n]);
  }
}

static sqlite3 *
open_db(const char *path)
{
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  return db;
}

static gint64
query_int(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  gint64 v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* The sample as read_detail gives it back, per chain; samples_x has rows
 * only for the hydro miner, none older than the raw samples kept. */
static void
test_tables(AmStoreFixture *fx)
{
  sqlite3 *db = open_db(fx->path);
  gint64 id = query_int(db, "SELECT id FROM miners WHERE address = '10.0.0.7:4028'");
  gint64 t_ms = (gint64)(T0 * 1000) + 30000 * 343;
  g_autoptr(AmSample) s = am_sample_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(am_sqlite_read_detail(db, id, t_ms, s, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(s->chains->len, ==, 3);
  const AmChain *c = &g_array_index(s->chains, AmChain, 2);
  g_assert_cmpfloat_with_epsilon(c->voltage_v, 13.4, 1e-9);
  g_assert_cmpfloat_with_epsilon(c->frequency_mhz, 620, 1e-9);
  g_assert_cmpfloat_with_epsilon(c->temp_inlet_c, 42.5, 1e-9);
  g_assert_cmpfloat_with_epsilon(c->temp_outlet_c, 52.5, 1e-9);
  g_assert_cmpfloat(s->water_temp_in_c, ==, 39.0);
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING);

  g_assert_cmpint(query_int(db, "SELECT count(*) FROM samples_x x JOIN miners m ON m.id = "
                                "x.miner_id WHERE m.address = '10.0.0.8:4028'"),
                  ==, 0);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM samples_x"), >, 0);
  g_assert_cmpint(query_int(db, "SELECT min(t) FROM samples_x"), >=,
                  query_int(db, "SELECT min(t) FROM samples"));
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM samples_x x WHERE NOT EXISTS (SELECT 1 "
                                "FROM samples s WHERE s.miner_id = x.miner_id AND s.t = x.t)"),
                  ==, 0);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM rollup_x_1h"), ==, 3);
  sqlite3_close(db);
}

/* A version 3 database (the version 4 tables dropped, the version set
 * back) is upgraded on open; its samples still read, with nulls. */
static void
test_upgrade_from_v3(AmStoreFixture *fx)
{
  sqlite3 *db = open_db(fx->path);
  g_assert_cmpint(sqlite3_exec(db,
                               "DROP TABLE samples_x; DROP TABLE rollup_x_1m; DROP TABLE "
                               "rollup_x_1h; PRAGMA user_version = 3;",
                               NULL, NULL, NULL),
                  ==, SQLITE_OK);
  sqlite3_close(db);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(fx, "raw_retention=1h\n", &error));
  g_assert_no_error(error);
  g_autofree char *since = g_strdup_printf("%.0f", T0 + 30.0 * 340);
  g_autoptr(JsonArray) rows = series_rows(fx, "10.0.0.7", since, NULL, "1");
  JsonObject *row = json_array_get_object_element(rows, 0);
  assert_null(row, "power_limit_w"); /* was in samples_x */
  g_assert_cmpstr(json_object_get_string_member(row, "mining"), ==, "hashing"); /* detail */
  am_store_fixture_close(fx);
  db = open_db(fx->path);
  g_assert_cmpint(query_int(db, "PRAGMA user_version"), ==, AM_SQLITE_SCHEMA_VERSION);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM samples_x"), ==, 0);
  sqlite3_close(db);
}

static void
test_store(void)
{
  AmStoreFixture fx;
  write_history(&fx);
  test_raw_rows(&fx);
  test_steps(&fx);
  am_store_fixture_close(&fx);
  test_tables(&fx);
  test_upgrade_from_v3(&fx);
  am_store_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/store/sqlite/abi12/store", test_store);
  return g_test_run();
}
