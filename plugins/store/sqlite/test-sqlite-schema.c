/* The SQLite store at start: a new database, an upgrade from an older
 * schema, and the files it must refuse (newer antmon, not SQLite, another
 * application's, read-only) or survive (a full disk). */
#include "am-sqlite-test-util.h"
#include "config.h"
#include <errno.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
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
  g_assert_cmpint(query_int(db, "PRAGMA user_version"), ==, 2);
  g_assert_cmpint(query_int(db, "PRAGMA application_id"), ==, 0x616e746d);
  g_autofree char *mode = query_text(db, "PRAGMA journal_mode");
  g_assert_cmpstr(mode, ==, "wal");
  const char *tables[] = {"miners",    "samples",   "chains",   "pools",    "events",
                          "rollup_1m", "rollup_1h", "fleet_1m", "fleet_1h", "alert_state"};
  for (gsize i = 0; i < G_N_ELEMENTS(tables); i++) {
    g_autofree char *sql = g_strdup_printf(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", tables[i]);
    g_assert_cmpint(query_int(db, sql), ==, 1);
  }
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
  am_store_fixture_clear(&fx);
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
  g_assert_cmpint(query_int(db, "PRAGMA user_version"), ==, 2);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM miners"), ==, 1);
  g_assert_cmpint(query_int(db, "SELECT count(*) FROM samples WHERE miner_id = 1"), ==, 4);
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
  g_test_add_func("/store/sqlite/schema/migrate-from-v1", test_migrate_from_v1);
  g_test_add_func("/store/sqlite/schema/newer-refused", test_newer_refused);
  g_test_add_func("/store/sqlite/files/not-sqlite", test_not_sqlite);
  g_test_add_func("/store/sqlite/files/other-application", test_other_application);
  g_test_add_func("/store/sqlite/files/read-only", test_read_only);
  g_test_add_func("/store/sqlite/files/read-only-dir", test_read_only_dir);
  g_test_add_func("/store/sqlite/files/full-disk", test_full_disk);
  return g_test_run();
}
