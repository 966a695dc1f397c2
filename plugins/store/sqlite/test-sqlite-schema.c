/* The SQLite store at start: a new database, an upgrade from an older
 * schema, and the files it must refuse (newer antmon, not SQLite, another
 * application's, read-only) or survive (a full disk). */
#include "am-sqlite-store.h"
#include "am-sqlite-test-util.h"
#include "config.h"
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#define T0 1714550400.0 /* 2024-05-01T08:00:00Z */

/* ---- helpers ----------------------------------------------------------- */

static sqlite3 *
open_raw(const char *path)
{
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  return db;
}

static void
exec_sql(sqlite3 *db, const char *sql)
{
  char *message = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error("%s: %s", sql, message);
}

static gint64
query_int(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  gint64 value = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return value;
}

static char *
query_text(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  char *value = g_strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return value;
}

static GBytes *
file_bytes(const char *path)
{
  char *data = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &data, &len, NULL));
  return g_bytes_new_take(data, len);
}

static void
assert_error_contains(const GError *error, const char *text)
{
  g_assert_nonnull(error);
  if (strstr(error->message, text) == NULL)
    g_error("expected \"%s\" in: %s", text, error->message);
}

static guint
rows_len(JsonObject *result)
{
  return json_array_get_length(json_object_get_array_member(result, "rows"));
}

/* ---- a new database ----------------------------------------------------- */

static void
test_create(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, NULL, &error));
  g_assert_no_error(error);
  am_store_fixture_close(&fx);

  sqlite3 *db = open_raw(fx.path);
  g_assert_cmpint(query_int(db, "PRAGMA user_version"), ==, 4);
  g_assert_cmpint(query_int(db, "PRAGMA application_id"), ==, 0x616e746d);
  g_autofree char *mode = query_text(db, "PRAGMA journal_mode");
  g_assert_cmpstr(mode, ==, "wal");
  const char *tables[] = {"miners",    "samples",  "pools",    "events",     "rollup_1m",
                          "rollup_1h", "fleet_1m", "fleet_1h", "alert_state"};
  for (gsize i = 0; i < G_N_ELEMENTS(tables); i++) {
    g_autofree char *sql = g_strdup_printf(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", tables[i]);
    g_assert_cmpint(query_int(db, sql), ==, 1);
  }
  /* Raw samples: keyed by (miner, time), no rowid, no other index. */
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'chains' OR "
                                "tbl_name = 'samples' AND type = 'index' AND sql IS NOT NULL"),
                  ==, 0);
  g_autofree char *ddl = query_text(db, "SELECT sql FROM sqlite_master WHERE name = 'samples'");
  g_assert_nonnull(strstr(ddl, "WITHOUT ROWID"));
  sqlite3_close(db);
  am_store_fixture_clear(&fx);
}

/* A relative path= lands in the state directory, which is created. */
static void
test_relative_path(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  g_autofree char *state = g_build_filename(fx.dir, "var", "lib", NULL);
  am_context_free(fx.ctx);
  fx.ctx = am_context_new(state, "test.ini");
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, "path=history/farm.db\n", &error));
  g_autofree char *expected = g_build_filename(state, "history", "farm.db", NULL);
  g_assert_true(g_file_test(expected, G_FILE_TEST_IS_REGULAR));
  am_store_fixture_clear(&fx);
}

static void
test_bad_config(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  g_autoptr(GError) error = NULL;
  g_assert_false(am_store_fixture_open(&fx, "raw_retention=soon\n", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  assert_error_contains(error, "[store:sqlite] raw_retention=soon");
  g_clear_error(&error);
  g_assert_false(am_store_fixture_open(&fx, "queue_size=5\n", &error));
  assert_error_contains(error, "queue_size=5");
  /* Sizes and retentions: the group, the key, the value, what is expected. */
  const struct {
    const char *ini, *message;
  } bad[] = {
      {"cache_size=lots\n", "[store:sqlite] cache_size=lots: expected a size such as 4MiB"},
      {"cache_size=8MiBs\n", "[store:sqlite] cache_size=8MiBs: expected a size"},
      {"cache_size=1KiB\n", "cache_size=1KiB: expected a size such as 4MiB, 512KiB or 0, "
                            "from 64KiB to 4GiB"},
      {"reader_cache_size=-2MiB\n", "[store:sqlite] reader_cache_size=-2MiB: expected a size"},
      {"mmap_size=1TiB\n", "[store:sqlite] mmap_size=1TiB: expected a size"},
      {"mmap_size=100GiB\n", "mmap_size=100GiB: expected a size such as 4MiB, 512KiB or 0, "
                             "from 0 to 64GiB"},
      {"rollup_1m_retention=soon\n", "[store:sqlite] rollup_1m_retention=soon"},
      {"rollup_1h_retention=1m\n", "[store:sqlite] rollup_1h_retention=1m"},
      {"event_retention=x\n", "[store:sqlite] event_retention=x"},
      {"rollup_retention=x\n", "[store:sqlite] rollup_retention=x"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_clear_error(&error);
    g_assert_false(am_store_fixture_open(&fx, bad[i].ini, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    assert_error_contains(error, bad[i].message);
  }
  am_store_fixture_clear(&fx);
}

/* The memory keys reach both connections, and "stats" reports them. */
static void
test_memory_settings(void)
{
  const struct {
    const char *ini;
    gint64 cache, reader, mmap;
  } cases[] = {
      {"", 4 << 20, 2 << 20, 0},
      {"cache_size=8MiB\nreader_cache_size=512KiB\nmmap_size=16MiB\n", 8 << 20, 512 << 10,
       16 << 20},
      {"cache_size=1000000\nreader_cache_size=100kb\nmmap_size=0\n", 1000000, 100000, 0},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    AmStoreFixture fx;
    am_store_fixture_init(&fx);
    g_autoptr(GError) error = NULL;
    g_assert_true(am_store_fixture_open(&fx, cases[i].ini, &error));
    AmSqliteStore *store = fx.self;
    g_assert_cmpint(query_int(store->wdb, "PRAGMA cache_size"), ==, -(cases[i].cache / 1024));
    g_assert_cmpint(query_int(store->rdb, "PRAGMA cache_size"), ==, -(cases[i].reader / 1024));
    g_assert_cmpint(query_int(store->wdb, "PRAGMA mmap_size"), ==, cases[i].mmap);
    g_assert_cmpint(query_int(store->rdb, "PRAGMA mmap_size"), ==, cases[i].mmap);
    g_autoptr(JsonObject) stats = am_store_test_query(&fx, &error, "stats", NULL);
    g_assert_no_error(error);
    g_assert_cmpint(json_object_get_int_member(stats, "cache_size_bytes"), ==, cases[i].cache);
    g_assert_cmpint(json_object_get_int_member(stats, "reader_cache_size_bytes"), ==,
                    cases[i].reader);
    g_assert_cmpint(json_object_get_int_member(stats, "mmap_size_bytes"), ==, cases[i].mmap);
    g_assert_cmpint(json_object_get_int_member(stats, "schema_version"), ==, 4);
    g_assert_cmpint(json_object_get_int_member(stats, "sqlite_memory_bytes"), >, 0);
    am_store_fixture_clear(&fx);
  }
}

/* ---- upgrading an older schema ------------------------------------------ */

static char *
read_fixture_sql(void)
{
  g_autofree char *path = g_build_filename(ANTMON_SOURCE_ROOT, "plugins", "store", "sqlite",
                                           "fixtures", "schema-v1.sql", NULL);
  char *sql = NULL;
  g_assert_true(g_file_get_contents(path, &sql, NULL, NULL));
  return sql;
}

/* A database as antmon wrote it at schema version 1: one miner, three
 * samples, a state change, an alert still raised and one resolved. */
static void
write_v1_database(const char *path)
{
  g_autofree char *schema = read_fixture_sql();
  sqlite3 *db = open_raw(path);
  exec_sql(db, schema);
  exec_sql(db, "PRAGMA application_id = 1634628717; PRAGMA user_version = 1;");
  exec_sql(db, "INSERT INTO miners (id, address, host, port, model, first_seen, last_seen, "
               "last_sample_id) VALUES (1, '10.0.0.5:4028', '10.0.0.5', 4028, 'Antminer S9', "
               "1714550400000, 1714550460000, 3);"
               "INSERT INTO samples (id, miner_id, t, status, hashrate_ths, power_w) VALUES "
               "(1, 1, 1714550400000, 0, 13.5, 1300), (2, 1, 1714550430000, 0, 13.7, 1310), "
               "(3, 1, 1714550460000, 0, 13.9, 1320);"
               "INSERT INTO events (t, miner, kind, name, detail) VALUES "
               "(1714550400000, '10.0.0.5:4028', 'state', 'online', NULL),"
               "(1714550410000, '10.0.0.5:4028', 'alert', 'hot', '{\"state\":\"raised\"}'),"
               "(1714550420000, '10.0.0.5:4028', 'alert', 'slow', '{\"state\":\"raised\"}'),"
               "(1714550430000, '10.0.0.5:4028', 'alert', 'slow', '{\"state\":\"resolved\"}');");
  sqlite3_close(db);
}

static void
test_migrate_from_v1(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  write_v1_database(fx.path);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, NULL, &error));
  g_assert_no_error(error);

  /* The old rows are all there ... */
  g_autoptr(JsonObject) series =
      am_store_test_query(&fx, &error, "series", "miner", "10.0.0.5", NULL);
  g_assert_no_error(error);
  g_assert_cmpuint(rows_len(series), ==, 3);
  /* ... and what version 2 added was filled from them: "hot" is still
   * raised, "slow" was resolved. */
  g_autoptr(JsonObject) alerts = am_store_test_query(&fx, &error, "alert_state", NULL);
  g_assert_no_error(error);
  g_assert_cmpuint(rows_len(alerts), ==, 1);
  JsonObject *row = json_array_get_object_element(json_object_get_array_member(alerts, "rows"), 0);
  g_assert_cmpstr(json_object_get_string_member(row, "rule"), ==, "hot");
  g_assert_cmpstr(json_object_get_string_member(row, "miner"), ==, "10.0.0.5:4028");

  /* New samples go to the same miner. */
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func((GDestroyNotify)am_sample_unref);
  g_ptr_array_add(batch, am_store_test_sample("10.0.0.5", 4028, T0 + 90, 14.0, 1330, 3, 2));
  am_store_test_write(&fx, batch, NULL);
  am_store_fixture_close(&fx);

  sqlite3 *db = open_raw(fx.path);
  g_assert_cmpint(query_int(db, "PRAGMA user_version"), ==, 4);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM miners"), ==, 1);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM samples WHERE miner_id = 1"), ==, 4);
  g_autofree char *check = query_text(db, "PRAGMA integrity_check");
  g_assert_cmpstr(check, ==, "ok");
  sqlite3_close(db);
  am_store_fixture_clear(&fx);
}

/* ---- upgrading version 2 (raw samples re-encoded) ------------------------ */

#define V2_SAMPLES 40 /* miner A: 20 minutes at 30 s, two frame windows */
#define V2_UNKNOWN 5  /* the sample of A whose readings are unknown */

static GBytes *
float32_blob(const double *values, guint n)
{
  GByteArray *b = g_byte_array_new();
  for (guint i = 0; i < n; i++) {
    float f = (float)values[i];
    guint32 bits;
    memcpy(&bits, &f, sizeof bits);
    bits = GUINT32_TO_LE(bits);
    g_byte_array_append(b, (const guint8 *)&bits, sizeof bits);
  }
  return g_byte_array_free_to_bytes(b);
}

static sqlite3_stmt *
prepare_raw(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    g_error("%s: %s", sql, sqlite3_errmsg(db));
  return st;
}

static void
step_raw(sqlite3_stmt *st)
{
  if (sqlite3_step(st) != SQLITE_DONE)
    g_error("insert: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

static double
v2_hashrate(guint i)
{
  return 100.0 + 0.25 * i;
}

/* Miner A's sample @i as version 2 wrote it, with 3 chains (6, 7, 8). */
static void
insert_v2_sample_a(sqlite3 *db, sqlite3_stmt *st, sqlite3_stmt *chain, guint i)
{
  gboolean unknown = i == V2_UNKNOWN;
  sqlite3_bind_int64(st, 1, 1);
  sqlite3_bind_int64(st, 2, (gint64)T0 * 1000 + 30000 * i);
  sqlite3_bind_int(st, 3, i % 4 == 3 ? 1 : 0);
  if (!unknown) {
    sqlite3_bind_double(st, 4, v2_hashrate(i));
    sqlite3_bind_double(st, 7, 3000 + i);
    sqlite3_bind_double(st, 10, 70.5 + i % 3);
    sqlite3_bind_double(st, 11, 65.0 + 0.5 * (i % 2));
    sqlite3_bind_double(st, 12, 5400 + 10 * i);
    sqlite3_bind_double(st, 13, 30.25);
    double temps[] = {60.5, 61.5, 62.5 + i % 2}, chips[] = {75, 76, 77.5}, fans[] = {5400, 5520};
    g_autoptr(GBytes) t = float32_blob(temps, 3), c = float32_blob(chips, 3);
    g_autoptr(GBytes) f = float32_blob(fans, 2);
    sqlite3_bind_blob(st, 17, g_bytes_get_data(t, NULL), 12, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 18, g_bytes_get_data(c, NULL), 12, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 19, g_bytes_get_data(f, NULL), 8, SQLITE_TRANSIENT);
  }
  sqlite3_bind_double(st, 5, 99.5);
  sqlite3_bind_double(st, 6, 110);
  sqlite3_bind_int(st, 8, 1);
  sqlite3_bind_int64(st, 9, 1000 + 30 * i);
  sqlite3_bind_int64(st, 14, 1000 + i);
  sqlite3_bind_int64(st, 15, 3);
  sqlite3_bind_int64(st, 16, 12 + i / 10);
  step_raw(st);
  gint64 id = sqlite3_last_insert_rowid(db);
  for (int c = 0; c < 3; c++) {
    sqlite3_bind_int64(chain, 1, id);
    sqlite3_bind_int(chain, 2, 6 + c);
    sqlite3_bind_double(chain, 3, 33.0 + 0.125 * i + c);
    sqlite3_bind_int(chain, 4, 63);
    sqlite3_bind_int(chain, 5, 63);
    sqlite3_bind_int(chain, 6, 62);
    sqlite3_bind_int(chain, 7, 1);
    sqlite3_bind_int64(chain, 8, 4 + i);
    if (!(unknown && c == 1))
      sqlite3_bind_double(chain, 9, 60.5 + c);
    sqlite3_bind_double(chain, 10, 75.0 + c);
    step_raw(chain);
  }
}

/* A database as antmon wrote it at schema version 2: miner A with 40 raw
 * samples from T0 (chains, lists, one sample with unknown readings),
 * miner B with 3 samples (two in the same millisecond, no chains), minute
 * rollups for the 2 hours before T0, hour rollups for the 3 hours before
 * those, fleet totals, pools, events and an alert still raised. */
static void
write_v2_database(const char *path)
{
  g_autofree char *file = g_build_filename(ANTMON_SOURCE_ROOT, "plugins", "store", "sqlite",
                                           "fixtures", "schema-v2.sql", NULL);
  g_autofree char *schema = NULL;
  g_assert_true(g_file_get_contents(file, &schema, NULL, NULL));
  sqlite3 *db = open_raw(path);
  exec_sql(db, schema);
  exec_sql(db, "PRAGMA application_id = 1634628717; PRAGMA user_version = 2; BEGIN");
  g_autofree char *miners = g_strdup_printf(
      "INSERT INTO miners (id, address, host, port, model, first_seen, last_seen, last_sample_id) "
      "VALUES (1, '10.0.0.5:4028', '10.0.0.5', 4028, 'Antminer S19', %" G_GINT64_FORMAT ", "
      "%" G_GINT64_FORMAT ", %d), (2, '10.0.0.6:4028', '10.0.0.6', 4028, 'Antminer S9', "
      "%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %d)",
      (gint64)T0 * 1000, (gint64)T0 * 1000 + 30000 * (V2_SAMPLES - 1), V2_SAMPLES,
      (gint64)T0 * 1000, (gint64)T0 * 1000 + 30000, V2_SAMPLES + 3);
  exec_sql(db, miners);
  sqlite3_stmt *st = prepare_raw(
      db, "INSERT INTO samples (miner_id, t, status, hashrate_ths, hashrate_avg_ths, "
          "hashrate_ideal_ths, power_w, power_source, elapsed_s, temp_max_c, avg_temp_c, "
          "avg_fan_rpm, efficiency_jth, accepted, rejected, hw_errors, temps_c, chip_temps_c, "
          "fans_rpm) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
          "?16, ?17, ?18, ?19)");
  sqlite3_stmt *chain = prepare_raw(
      db, "INSERT INTO chains (sample_id, idx, hashrate_ths, chips, chips_expected, chips_ok, "
          "chips_failed, hw_errors, temp_board_c, temp_chip_c, power_w) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  for (guint i = 0; i < V2_SAMPLES; i++)
    insert_v2_sample_a(db, st, chain, i);
  gint64 b_times[] = {0, 0, 30000};
  for (guint i = 0; i < G_N_ELEMENTS(b_times); i++) {
    sqlite3_bind_int64(st, 1, 2);
    sqlite3_bind_int64(st, 2, (gint64)T0 * 1000 + b_times[i]);
    sqlite3_bind_int(st, 3, 0);
    sqlite3_bind_double(st, 4, 13.5 + i);
    sqlite3_bind_double(st, 7, 1300);
    sqlite3_bind_int(st, 8, 2);
    step_raw(st);
  }
  sqlite3_finalize(st);
  sqlite3_finalize(chain);

  sqlite3_stmt *m1 = prepare_raw(db, "INSERT INTO rollup_1m VALUES (?1, ?2, 2, 1.0, ?3, ?3, ?3, "
                                     "3000, 3000, 3000, 71, 71, 71, 65, 65, 65, 5400, 5400, 5400, "
                                     "?4)");
  for (gint64 m = 0; m < 120; m++) {
    sqlite3_bind_int64(m1, 1, 1);
    sqlite3_bind_int64(m1, 2, (gint64)T0 - 7200 + 60 * m);
    sqlite3_bind_double(m1, 3, 90 + m % 2);
    sqlite3_bind_int64(m1, 4, m * 60);
    step_raw(m1);
  }
  sqlite3_finalize(m1);
  sqlite3_stmt *h1 = prepare_raw(db, "INSERT INTO rollup_1h VALUES (1, ?1, 120, 1.0, ?2, ?2, ?2, "
                                     "3000, 3000, 3000, 71, 71, 71, 65, 65, 65, 5400, 5400, "
                                     "5400, 0)");
  for (gint64 h = 0; h < 3; h++) {
    sqlite3_bind_int64(h1, 1, (gint64)T0 - 5 * 3600 + 3600 * h);
    sqlite3_bind_double(h1, 2, 80 + h);
    step_raw(h1);
  }
  sqlite3_finalize(h1);
  g_autofree char *rest = g_strdup_printf(
      "INSERT INTO fleet_1m SELECT bucket, hashrate_avg + 13.5, power_avg + 1300, 2 "
      "FROM rollup_1m;"
      "INSERT INTO fleet_1h SELECT bucket, 60, hashrate_avg + 13.5, power_avg + 1300, 2 "
      "FROM rollup_1h;"
      "INSERT INTO meta VALUES ('rollup_1m_done', %d), ('rollup_1h_done', %d), "
      "('rollup_1h_miner', 0);"
      "INSERT INTO pools (miner_id, t, position, url, user, status, priority, active, accepted, "
      "rejected, stale) VALUES (1, %" G_GINT64_FORMAT ", 0, 'stratum+tcp://pool.example:3333', "
      "'farm.a', 'Alive', 0, 1, 500, 1, 0), (1, %" G_GINT64_FORMAT ", 1, "
      "'stratum+tcp://backup.example:3333', 'farm.a', 'Alive', 1, 0, 0, 0, 0);"
      "INSERT INTO events (t, miner, kind, name, detail) VALUES "
      "(%" G_GINT64_FORMAT ", '10.0.0.5:4028', 'state', 'online', NULL), "
      "(%" G_GINT64_FORMAT ", '10.0.0.5:4028', 'alert', 'hot', '{\"state\":\"raised\"}');"
      "INSERT INTO alert_state VALUES ('10.0.0.5:4028', 'hot', %" G_GINT64_FORMAT ", "
      "'{\"state\":\"raised\"}');"
      "COMMIT",
      (int)T0, (int)T0 - 7200, (gint64)T0 * 1000, (gint64)T0 * 1000, (gint64)T0 * 1000 - 5000,
      (gint64)T0 * 1000 + 60000, (gint64)T0 * 1000 + 60000);
  exec_sql(db, rest);
  sqlite3_close(db);
}

static JsonObject *query_ok(AmStoreFixture *fx, const char *query, ...) G_GNUC_NULL_TERMINATED;

static JsonObject *
query_ok(AmStoreFixture *fx, const char *query, ...)
{
  g_autoptr(GHashTable) params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  va_list args;
  va_start(args, query);
  const char *key;
  while ((key = va_arg(args, const char *)) != NULL)
    g_hash_table_insert(params, g_strdup(key), g_strdup(va_arg(args, const char *)));
  va_end(args);
  g_autoptr(GError) error = NULL;
  JsonNode *node = am_store_test_info()->vtable.store->query(fx->self, query, params, &error);
  g_assert_no_error(error);
  JsonObject *obj = json_object_ref(json_node_get_object(node));
  json_node_unref(node);
  return obj;
}

static JsonObject *
row_of(JsonObject *result, guint i)
{
  return json_array_get_object_element(json_object_get_array_member(result, "rows"), i);
}

static void
assert_member_null_or(JsonObject *row, const char *name, gboolean null, double value)
{
  if (null)
    g_assert_true(json_object_get_null_member(row, name));
  else
    g_assert_cmpfloat(json_object_get_double_member(row, name), ==, value);
}

/* Miner A's sample @i decoded from the new encoding, against what version 2
 * held. */
static void
assert_v2_detail(sqlite3 *db, guint i)
{
  g_autoptr(AmSample) s = am_sample_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(am_sqlite_read_detail(db, 1, (gint64)T0 * 1000 + 30000 * i, s, &error));
  g_assert_no_error(error);
  gboolean unknown = i == V2_UNKNOWN;
  g_assert_cmpint(s->status, ==, i % 4 == 3 ? 1 : 0);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 99.5, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 110, 1e-9);
  if (unknown)
    g_assert_true(isnan(s->efficiency_jth));
  else
    g_assert_cmpfloat(s->efficiency_jth, ==, 30.25);
  g_assert_cmpint(s->accepted, ==, 1000 + i);
  g_assert_cmpint(s->rejected, ==, 3);
  g_assert_cmpint(s->hw_errors, ==, 12 + i / 10);
  g_assert_cmpuint(s->temps_c->len, ==, unknown ? 0 : 3);
  g_assert_cmpuint(s->chip_temps_c->len, ==, unknown ? 0 : 3);
  g_assert_cmpuint(s->fans_rpm->len, ==, unknown ? 0 : 2);
  if (!unknown) {
    g_assert_cmpfloat(g_array_index(s->temps_c, double, 2), ==, 62.5 + i % 2);
    g_assert_cmpfloat(g_array_index(s->chip_temps_c, double, 2), ==, 77.5);
    g_assert_cmpfloat(g_array_index(s->fans_rpm, double, 1), ==, 5520);
  }
  g_assert_cmpuint(s->chains->len, ==, 3);
  for (guint c = 0; c < 3; c++) {
    const AmChain *ch = &g_array_index(s->chains, AmChain, c);
    g_assert_cmpint(ch->index, ==, 6 + c);
    g_assert_cmpfloat_with_epsilon(ch->hashrate_ths, 33.0 + 0.125 * i + c, 1e-9);
    g_assert_cmpint(ch->chips, ==, 63);
    g_assert_cmpint(ch->chips_expected, ==, 63);
    g_assert_cmpint(ch->chips_ok, ==, 62);
    g_assert_cmpint(ch->chips_failed, ==, 1);
    g_assert_cmpint(ch->hw_errors, ==, 4 + i);
    if (unknown && c == 1)
      g_assert_true(isnan(ch->temp_board_c));
    else
      g_assert_cmpfloat(ch->temp_board_c, ==, 60.5 + c);
    g_assert_cmpfloat(ch->temp_chip_c, ==, 75.0 + c);
    g_assert_true(isnan(ch->power_w));
  }
}

static void
test_migrate_from_v2(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  write_v2_database(fx.path);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, NULL, &error));
  g_assert_no_error(error);

  /* Raw samples of A, as they were, unknowns null. */
  g_autoptr(JsonObject) raw = query_ok(&fx, "series", "miner", "10.0.0.5:4028", NULL);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(raw, "rows")), ==,
                   V2_SAMPLES);
  for (guint i = 0; i < V2_SAMPLES; i++) {
    JsonObject *r = row_of(raw, i);
    gboolean unknown = i == V2_UNKNOWN;
    g_assert_cmpfloat(json_object_get_double_member(r, "time"), ==, T0 + 30 * i);
    assert_member_null_or(r, "hashrate_ths", unknown, v2_hashrate(i));
    assert_member_null_or(r, "power_w", unknown, 3000 + i);
    assert_member_null_or(r, "temp_max_c", unknown, 70.5 + i % 3);
    assert_member_null_or(r, "avg_temp_c", unknown, 65.0 + 0.5 * (i % 2));
    assert_member_null_or(r, "avg_fan_rpm", unknown, 5400 + 10 * i);
    g_assert_cmpint(json_object_get_int_member(r, "elapsed_s"), ==, 1000 + 30 * i);
  }
  /* B's two samples in one millisecond are both there, 1 ms apart. */
  g_autoptr(JsonObject) b = query_ok(&fx, "series", "miner", "10.0.0.6", NULL);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(b, "rows")), ==, 3);
  g_assert_cmpfloat(json_object_get_double_member(row_of(b, 1), "hashrate_ths"), ==, 14.5);
  g_assert_cmpint(llround(json_object_get_double_member(row_of(b, 1), "time") * 1000), ==,
                  (gint64)T0 * 1000 + 1);
  /* Latest: each miner's newest sample. */
  g_autoptr(JsonObject) latest = query_ok(&fx, "latest", NULL);
  g_assert_cmpfloat(json_object_get_double_member(row_of(latest, 0), "time"), ==,
                    T0 + 30 * (V2_SAMPLES - 1));
  g_assert_cmpfloat(json_object_get_double_member(row_of(latest, 0), "hashrate_ths"), ==,
                    v2_hashrate(V2_SAMPLES - 1));
  g_assert_cmpfloat(json_object_get_double_member(row_of(latest, 1), "hashrate_ths"), ==, 15.5);

  /* Hours: 3 from the hour rollups, 2 from the minute rollups, the last
   * from raw samples. */
  g_autofree char *since = g_strdup_printf("%d", (int)T0 - 5 * 3600);
  g_autoptr(JsonObject) hours =
      query_ok(&fx, "series", "miner", "10.0.0.5", "step", "3600", "since", since, NULL);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(hours, "rows")), ==, 6);
  double expect[] = {80, 81, 82, 90.5, 90.5};
  for (guint h = 0; h < G_N_ELEMENTS(expect); h++)
    g_assert_cmpfloat(json_object_get_double_member(row_of(hours, h), "hashrate_ths"), ==,
                      expect[h]);
  double sum = 0;
  for (guint i = 0; i < V2_SAMPLES; i++)
    sum += i == V2_UNKNOWN ? 0 : v2_hashrate(i);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(row_of(hours, 5), "hashrate_ths"),
                                 sum / (V2_SAMPLES - 1), 1e-9);
  /* Minutes and fleet totals. */
  g_autoptr(JsonObject) minutes = query_ok(&fx, "series", "miner", "10.0.0.5", "step", "60",
                                           "since", since, "limit", "1000", NULL);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(minutes, "rows")), ==,
                   120 + 20);
  g_assert_cmpfloat(json_object_get_double_member(row_of(minutes, 1), "hashrate_ths"), ==, 91);
  g_autoptr(JsonObject) fleet = query_ok(&fx, "fleet", "step", "3600", "since", since, NULL);
  g_assert_cmpfloat(json_object_get_double_member(row_of(fleet, 0), "hashrate_ths"), ==, 93.5);
  g_assert_cmpint(json_object_get_int_member(row_of(fleet, 0), "miners"), ==, 2);
  /* Events and the alert still raised. */
  g_autoptr(JsonObject) events = query_ok(&fx, "events", NULL);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(events, "rows")), ==, 2);
  g_assert_cmpstr(json_object_get_string_member(row_of(events, 1), "name"), ==, "hot");
  g_autoptr(JsonObject) alerts = query_ok(&fx, "alert_state", NULL);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(alerts, "rows")), ==, 1);
  am_store_fixture_close(&fx);

  /* The detail of every sample: counters, lists and chains. */
  sqlite3 *db = open_raw(fx.path);
  for (guint i = 0; i < V2_SAMPLES; i++)
    assert_v2_detail(db, i);
  g_assert_cmpint(query_int(db, "PRAGMA user_version"), ==, 4);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM pools"), ==, 2);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM samples"), ==, V2_SAMPLES + 3);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                "('chains', 'samples_t', 'samples_miner_t')"),
                  ==, 0);
  g_autofree char *check = query_text(db, "PRAGMA integrity_check");
  g_assert_cmpstr(check, ==, "ok");
  sqlite3_close(db);
  am_store_fixture_clear(&fx);
}

/* ---- files that are refused --------------------------------------------- */

static void
test_newer_refused(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  sqlite3 *db = open_raw(fx.path);
  exec_sql(db, "CREATE TABLE future (x); INSERT INTO future VALUES (42);"
               "PRAGMA application_id = 1634628717; PRAGMA user_version = 99;");
  sqlite3_close(db);
  g_autoptr(GBytes) before = file_bytes(fx.path);

  g_autoptr(GError) error = NULL;
  g_assert_false(am_store_fixture_open(&fx, NULL, &error));
  assert_error_contains(error, fx.path);
  assert_error_contains(error, "newer antmon (schema version 99");
  assert_error_contains(error, "was not changed");

  g_autoptr(GBytes) after = file_bytes(fx.path);
  g_assert_true(g_bytes_equal(before, after));
  g_autofree char *wal = g_strconcat(fx.path, "-wal", NULL);
  g_assert_false(g_file_test(wal, G_FILE_TEST_EXISTS));
  am_store_fixture_clear(&fx);
}

static void
test_not_sqlite(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  const char *text = "miner,hashrate\n10.0.0.5,13.5\n";
  g_assert_true(g_file_set_contents(fx.path, text, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_assert_false(am_store_fixture_open(&fx, NULL, &error));
  assert_error_contains(error, fx.path);
  assert_error_contains(error, "is not an SQLite database");
  g_autoptr(GBytes) after = file_bytes(fx.path);
  g_assert_cmpmem(g_bytes_get_data(after, NULL), g_bytes_get_size(after), text, strlen(text));
  am_store_fixture_clear(&fx);
}

static void
test_other_application(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  sqlite3 *db = open_raw(fx.path);
  exec_sql(db, "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('ann');");
  sqlite3_close(db);
  g_autoptr(GBytes) before = file_bytes(fx.path);
  g_autoptr(GError) error = NULL;
  g_assert_false(am_store_fixture_open(&fx, NULL, &error));
  assert_error_contains(error, "another application");
  g_autoptr(GBytes) after = file_bytes(fx.path);
  g_assert_true(g_bytes_equal(before, after));
  am_store_fixture_clear(&fx);
}

/* ---- read-only files and a full disk ------------------------------------ */

/* As root, permissions do not stop writes: the test then works in a
 * private mount namespace (this process only) on a tmpfs of @size_kb,
 * mounted over @dir. Returns FALSE when not root. */
static gboolean
private_tmpfs(const char *dir, guint size_kb)
{
  if (geteuid() != 0)
    return FALSE;
  if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    g_error("unshare/mount --make-rprivate: %s", g_strerror(errno));
  g_autofree char *options = g_strdup_printf("size=%uk,mode=0755", size_kb);
  if (mount("tmpfs", dir, "tmpfs", 0, options) != 0)
    g_error("mount tmpfs on %s: %s", dir, g_strerror(errno));
  return TRUE;
}

static void
remount_read_only(const char *dir)
{
  if (mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL) != 0)
    g_error("remount %s read-only: %s", dir, g_strerror(errno));
}

static void
read_only_child(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  gboolean mounted = private_tmpfs(fx.dir, 4096);
  /* A good database first, then the file becomes read-only. */
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, NULL, &error));
  am_store_fixture_close(&fx);
  if (mounted)
    remount_read_only(fx.dir);
  else
    g_assert_cmpint(g_chmod(fx.path, 0444), ==, 0);
  g_assert_false(am_store_fixture_open(&fx, NULL, &error));
  g_printerr("%s\n", error->message);
  if (mounted)
    umount2(fx.dir, MNT_DETACH);
  am_store_fixture_clear(&fx);
}

static void
test_read_only(void)
{
  if (g_test_subprocess()) {
    read_only_child();
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr("*antmon.db is read-only: antmon must be able to write it*");
}

/* A read-only directory: a new database cannot be created in it. */
static void
read_only_dir_child(void)
{
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  gboolean mounted = private_tmpfs(fx.dir, 1024);
  if (mounted)
    remount_read_only(fx.dir);
  else
    g_assert_cmpint(g_chmod(fx.dir, 0555), ==, 0);
  g_autoptr(GError) error = NULL;
  g_assert_false(am_store_fixture_open(&fx, NULL, &error));
  g_printerr("%s\n", error->message);
  if (mounted)
    umount2(fx.dir, MNT_DETACH);
  else
    g_chmod(fx.dir, 0755);
  am_store_fixture_clear(&fx);
}

static void
test_read_only_dir(void)
{
  if (g_test_subprocess()) {
    read_only_dir_child();
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr("*is not writable*antmon.db*");
}

static GPtrArray *
big_batch(guint n, double t0)
{
  GPtrArray *batch = g_ptr_array_new_with_free_func((GDestroyNotify)am_sample_unref);
  for (guint i = 0; i < n; i++) {
    g_autofree char *host = g_strdup_printf("10.1.%u.%u", i / 250, i % 250 + 1);
    g_ptr_array_add(batch, am_store_test_sample(host, 4028, t0, 100.0 + i, 3250, 3, 2));
  }
  return batch;
}

/* Limits what this process may write: the room left on a private tmpfs
 * as root, else a file size limit (RLIMIT_FSIZE; SIGXFSZ ignored so the
 * write fails with EFBIG instead of killing us). */
typedef struct {
  gboolean mounted;
  char *filler;
} Room;

static void
room_limit(Room *room, const char *dir, const char *db_path)
{
  room->mounted = private_tmpfs(dir, 1024);
  if (room->mounted) {
    /* Most of the space goes to a file we can delete later. */
    room->filler = g_build_filename(dir, "filler", NULL);
    g_autofree char *junk = g_malloc0(600 * 1024);
    g_assert_true(g_file_set_contents(room->filler, junk, 600 * 1024, NULL));
    return;
  }
  GStatBuf st;
  g_assert_cmpint(g_stat(db_path, &st), ==, 0);
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = {.rlim_cur = (rlim_t)st.st_size + 400 * 1024, .rlim_max = RLIM_INFINITY};
  g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &limit), ==, 0);
}

static void
room_free(Room *room)
{
  if (room->mounted) {
    g_assert_cmpint(g_unlink(room->filler), ==, 0);
  } else {
    struct rlimit limit = {.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY};
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &limit), ==, 0);
  }
}

/* Fills the room until a batch fails, checks the error and that nothing of
 * it was half-written, frees space, and writes the same batch again. */
static void
full_disk_child(void)
{
  AmStoreFixture fx;
  Room room = {0};
  am_store_fixture_init(&fx);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, NULL, &error));
  room_limit(&room, fx.dir, fx.path);
  if (room.mounted) {
    /* The tmpfs hides the database made before it: start again on it. */
    am_store_fixture_close(&fx);
    g_assert_true(am_store_fixture_open(&fx, NULL, &error));
  }

  const AmStoreVTable *vt = am_store_test_info()->vtable.store;
  guint written = 0;
  g_autoptr(GPtrArray) failed = NULL;
  for (guint round = 0; round < 1000 && failed == NULL; round++) {
    g_autoptr(GPtrArray) batch = big_batch(100, T0 + round * 30);
    if (vt->write_batch(fx.self, (AmSample *const *)batch->pdata, batch->len, NULL, 0, &error))
      written += batch->len;
    else
      failed = g_steal_pointer(&batch);
  }
  g_assert_nonnull(failed);
  g_printerr("%s\n", error->message);
  g_clear_error(&error);
  g_assert_cmpuint(written, >, 0);

  room_free(&room);
  g_assert_true(
      vt->write_batch(fx.self, (AmSample *const *)failed->pdata, failed->len, NULL, 0, &error));
  g_assert_no_error(error);
  am_store_fixture_close(&fx);

  sqlite3 *db = open_raw(fx.path);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM samples"), ==, written + failed->len);
  g_autofree char *check = query_text(db, "PRAGMA integrity_check");
  g_assert_cmpstr(check, ==, "ok");
  sqlite3_close(db);
  if (room.mounted)
    umount2(fx.dir, MNT_DETACH);
  g_free(room.filler);
  am_store_fixture_clear(&fx);
}

static void
test_full_disk(void)
{
  if (g_test_subprocess()) {
    full_disk_child();
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  /* ENOSPC on the tmpfs; EFBIG under the file size limit. */
  if (geteuid() == 0)
    g_test_trap_assert_stderr("*database or disk is full*");
  else
    g_test_trap_assert_stderr("*disk I/O error*");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/store/sqlite/schema/create", test_create);
  g_test_add_func("/store/sqlite/schema/relative-path", test_relative_path);
  g_test_add_func("/store/sqlite/schema/bad-config", test_bad_config);
  g_test_add_func("/store/sqlite/schema/memory-settings", test_memory_settings);
  g_test_add_func("/store/sqlite/schema/migrate-from-v1", test_migrate_from_v1);
  g_test_add_func("/store/sqlite/schema/migrate-from-v2", test_migrate_from_v2);
  g_test_add_func("/store/sqlite/schema/newer-refused", test_newer_refused);
  g_test_add_func("/store/sqlite/files/not-sqlite", test_not_sqlite);
  g_test_add_func("/store/sqlite/files/other-application", test_other_application);
  g_test_add_func("/store/sqlite/files/read-only", test_read_only);
  g_test_add_func("/store/sqlite/files/read-only-dir", test_read_only_dir);
  g_test_add_func("/store/sqlite/files/full-disk", test_full_disk);
  return g_test_run();
}
