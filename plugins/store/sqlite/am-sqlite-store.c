/* The SQLite store plugin ([store:sqlite]): every sample and event in one
 * SQLite file, with rollups for long ranges.
 *
 * create() does everything that can fail at start: it checks what the file
 * is (not SQLite, another application's, a newer antmon's: refused and left
 * untouched), opens it for writing in WAL mode, runs the forward migrations,
 * and opens a second, read-only connection for queries. */
#include "am-sqlite-store.h"
#include "am-sqlite-schema.h"
#include "sample-ini.h"
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define DAY_MS (24 * 3600 * 1000ULL)

/* Reads the group's keys. queue_size and flush_interval belong to the core's
 * store queue, which reads them at start; they are checked here too so that
 * `antmon check-config` reports a bad value. */
static gboolean
read_options(AmSqliteStore *store, AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  guint64 raw_ms = 0, rollup_ms = 0, flush_ms = 0;
  guint queue_size = 0;
  g_autofree char *path = am_config_get_string(kf, group, "path", "antmon.db", error);
  if (path == NULL ||
      !am_config_get_duration_ms(kf, group, "raw_retention", 7 * DAY_MS, 60 * 1000, 3650 * DAY_MS,
                                 &raw_ms, error) ||
      !am_config_get_duration_ms(kf, group, "rollup_retention", 400 * DAY_MS, 3600 * 1000,
                                 36500 * DAY_MS, &rollup_ms, error) ||
      !am_config_get_uint(kf, group, "queue_size", 100000, 100, 10000000, &queue_size, error) ||
      !am_config_get_duration_ms(kf, group, "flush_interval", 2000, 100, 3600 * 1000, &flush_ms,
                                 error))
    return FALSE;
  if (*path == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] path=: expected a file name", group);
    return FALSE;
  }
  store->path = am_context_resolve_state_path(ctx, path);
  store->group = g_strdup(group);
  store->raw_retention_s = (gint64)(raw_ms / 1000);
  store->rollup_retention_s = (gint64)(rollup_ms / 1000);
  return TRUE;
}

static gboolean
make_parent(const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname(path);
  if (g_mkdir_with_parents(dir, 0750) != 0) {
    int saved = errno;
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "cannot create the directory %s for %s: %s", dir,
                path, g_strerror(saved));
    return FALSE;
  }
  return TRUE;
}

/* WAL keeps readers and the writer apart, and NORMAL sync is safe in WAL
 * mode against a crash of antmon (a power cut may lose the last commits,
 * never corrupt the file). */
static gboolean
set_write_pragmas(sqlite3 *db, const char *path, GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean wal = FALSE;
  if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    wal = g_ascii_strcasecmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
  sqlite3_finalize(st);
  if (!wal) {
    g_autofree char *dir = g_path_get_dirname(path);
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED,
                "%s: cannot switch to write-ahead logging (%s): is the directory %s writable?",
                path, sqlite3_errmsg(db), dir);
    return FALSE;
  }
  /* A bigger cache and checkpoint interval than the defaults: a batch
   * touches one index page per miner, and pages rewritten by several
   * batches are then copied back to the database once, not each time. */
  return am_sqlite_exec(db,
                        "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;"
                        "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 4096;"
                        "PRAGMA journal_size_limit = 67108864; PRAGMA mmap_size = 268435456;",
                        error);
}

static gboolean
open_writer(AmSqliteStore *store, GError **error)
{
  store->wdb = am_sqlite_open(store->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error);
  if (store->wdb == NULL) {
    g_autofree char *dir = g_path_get_dirname(store->path);
    if (access(dir, W_OK) != 0)
      g_prefix_error(error, "the directory %s is not writable: ", dir);
    return FALSE;
  }
  /* SQLite quietly opens a write-protected file read-only. */
  if (sqlite3_db_readonly(store->wdb, "main") == 1)
    return am_sqlite_fail_read_only(store->path, error);
  return set_write_pragmas(store->wdb, store->path, error);
}

static gboolean
open_reader(AmSqliteStore *store, GError **error)
{
  store->rdb = am_sqlite_open(store->path, SQLITE_OPEN_READONLY, error);
  return store->rdb != NULL &&
         am_sqlite_exec(store->rdb, "PRAGMA cache_size = -32000; PRAGMA temp_store = MEMORY;",
                        error) &&
         am_sqlite_query_prepare(store, error);
}

static void
sqlite_destroy(gpointer instance)
{
  AmSqliteStore *store = instance;
  if (store == NULL)
    return;
  am_sqlite_finalize_all(store->r, R_N_STATEMENTS);
  am_sqlite_finalize_all(store->w, W_N_STATEMENTS);
  /* The reader first: closing the last connection checkpoints the WAL. */
  sqlite3_close_v2(store->rdb);
  sqlite3_close_v2(store->wdb);
  g_clear_pointer(&store->miners, g_hash_table_unref);
  g_free(store->path);
  g_free(store->group);
  g_free(store);
}

static gboolean
open_store(AmSqliteStore *store, GError **error)
{
  int version = 0;
  if (!make_parent(store->path, error) || !am_sqlite_schema_inspect(store->path, &version, error) ||
      !open_writer(store, error) || !am_sqlite_schema_migrate(store->wdb, version, error) ||
      !am_sqlite_write_prepare(store, error) || !am_sqlite_rollup_load(store, error) ||
      !open_reader(store, error))
    return FALSE;
  return TRUE;
}

static gpointer
sqlite_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmSqliteStore *store = g_new0(AmSqliteStore, 1);
  store->miners =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)am_sqlite_miner_free);
  if (!read_options(store, ctx, kf, group, error)) {
    sqlite_destroy(store);
    return NULL;
  }
  if (!open_store(store, error)) {
    if (error != NULL && *error != NULL && strstr((*error)->message, store->path) == NULL)
      g_prefix_error(error, "%s: ", store->path);
    sqlite_destroy(store);
    return NULL;
  }
  g_debug("[%s] %s open (schema version %d)", group, store->path, AM_SQLITE_SCHEMA_VERSION);
  return store;
}

static gboolean
sqlite_write_batch(gpointer self, AmSample *const *samples, guint n_samples,
                   const AmEvent *const *events, guint n_events, GError **error)
{
  return am_sqlite_write_batch(self, samples, n_samples, events, n_events, error);
}

static JsonNode *
sqlite_query(gpointer self, const char *query, GHashTable *params, GError **error)
{
  return am_sqlite_query(self, query, params, error);
}

static const AmStoreVTable sqlite_vtable = {
    .struct_size = sizeof(AmStoreVTable),
    .write_batch = sqlite_write_batch,
    .query = sqlite_query,
};

AM_PLUGIN_DEFINE(.name = "sqlite", .kind = AM_PLUGIN_KIND_STORE,
                 .description = "SQLite: samples, events and rollups in one local file",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = sqlite_create, .destroy = sqlite_destroy, .vtable.store = &sqlite_vtable)
