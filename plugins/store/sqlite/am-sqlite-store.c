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

#define KIB ((gint64)1024)
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

/* Defaults of the SQLite memory keys follow [core] memory_budget=: the
 * writer's page cache a sixteenth of it, the reader's a thirty-second
 * (4 and 2 MiB of the default 64 MiB), and no mmap, whose pages of the
 * database file would count in the agent's RSS as the file grows. */
#define CACHE_SHARE 16
#define READER_CACHE_SHARE 32
#define MIN_CACHE_SIZE (1 * MIB)
#define DEFAULT_MMAP_SIZE 0

/* A cache size key: empty or "auto" is @derived, else a size. */
static gboolean
get_cache_size(GKeyFile *kf, const char *group, const char *key, gint64 derived, gint64 *out,
               GError **error)
{
  g_autofree char *text = g_key_file_get_value(kf, group, key, NULL);
  if (text == NULL || *g_strstrip(text) == '\0' || g_ascii_strcasecmp(text, "auto") == 0) {
    *out = derived;
    return TRUE;
  }
  return am_config_get_size(kf, group, key, derived, 64 * KIB, 4 * GIB, out, error);
}

/* A retention in seconds. */
static gboolean
get_retention(GKeyFile *kf, const char *group, const char *key, guint64 fallback_ms, guint64 min_ms,
              gint64 *out_s, GError **error)
{
  guint64 ms = 0;
  if (!am_config_get_duration_ms(kf, group, key, fallback_ms, min_ms, 36500 * DAY_MS, &ms, error))
    return FALSE;
  *out_s = (gint64)(ms / 1000);
  return TRUE;
}

/* Reads the group's keys. queue_size and flush_interval belong to the core's
 * store queue, which reads them at start; they are checked here too so that
 * `antmon check-config` reports a bad value.
 *
 * rollup_retention= is the older name of one retention for both rollups
 * and the events: it still sets rollup_1h_retention and event_retention
 * when those are not given, never the minute rollups (kept that long, they
 * were most of the file). */
static gboolean
read_options(AmSqliteStore *store, AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  guint64 flush_ms = 0, legacy_ms = 400 * DAY_MS;
  guint queue_size = 0;
  gint64 budget = am_config_get_memory_budget(kf);
  g_autofree char *legacy = g_key_file_get_value(kf, group, "rollup_retention", NULL);
  g_autofree char *path = am_config_get_string(kf, group, "path", "antmon.db", error);
  if (path == NULL ||
      (legacy != NULL && *g_strstrip(legacy) != '\0' &&
       !am_config_get_duration_ms(kf, group, "rollup_retention", 400 * DAY_MS, 3600 * 1000,
                                  36500 * DAY_MS, &legacy_ms, error)) ||
      !get_retention(kf, group, "raw_retention", 3 * DAY_MS, 60 * 1000, &store->raw_retention_s,
                     error) ||
      !get_retention(kf, group, "rollup_1m_retention", 30 * DAY_MS, 3600 * 1000,
                     &store->rollup_1m_retention_s, error) ||
      !get_retention(kf, group, "rollup_1h_retention", legacy_ms, 3600 * 1000,
                     &store->rollup_1h_retention_s, error) ||
      !get_retention(kf, group, "event_retention", legacy_ms, 3600 * 1000,
                     &store->event_retention_s, error) ||
      !get_cache_size(kf, group, "cache_size", MAX(budget / CACHE_SHARE, MIN_CACHE_SIZE),
                      &store->cache_size, error) ||
      !get_cache_size(kf, group, "reader_cache_size",
                      MAX(budget / READER_CACHE_SHARE, MIN_CACHE_SIZE), &store->reader_cache_size,
                      error) ||
      !am_config_get_size(kf, group, "mmap_size", DEFAULT_MMAP_SIZE, 0, 64 * GIB, &store->mmap_size,
                          error) ||
      !am_config_get_store_queue_size(kf, group, &queue_size, error) ||
      !am_config_get_duration_ms(kf, group, "flush_interval", 2000, 100, 3600 * 1000, &flush_ms,
                                 error))
    return FALSE;
  if (*path == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] path=: expected a file name", group);
    return FALSE;
  }
  store->path = am_context_resolve_state_path(ctx, path);
  store->group = g_strdup(group);
  return TRUE;
}

/* The memory pragmas of a connection: a page cache of @cache_bytes and
 * mmap_size. The numbers were validated by read_options(). */
static gboolean
set_memory_pragmas(AmSqliteStore *store, sqlite3 *db, gint64 cache_bytes, GError **error)
{
  g_autofree char *sql = g_strdup_printf("PRAGMA cache_size = -%" G_GINT64_FORMAT
                                         "; PRAGMA mmap_size = %" G_GINT64_FORMAT ";",
                                         MAX(cache_bytes / KIB, 1), store->mmap_size);
  return am_sqlite_exec(db, sql, error);
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
  /* A bigger checkpoint interval than the default: pages rewritten by
   * several batches are copied back to the database once, not each time.
   * The WAL is on disk, not in memory; it is cut back to 64 MiB after a
   * checkpoint. The page cache is cache_size= (see set_memory_pragmas). */
  return am_sqlite_exec(db,
                        "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;"
                        "PRAGMA wal_autocheckpoint = 4096; PRAGMA journal_size_limit = 67108864;",
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
  return set_write_pragmas(store->wdb, store->path, error) &&
         set_memory_pragmas(store, store->wdb, store->cache_size, error);
}

static gboolean
open_reader(AmSqliteStore *store, GError **error)
{
  store->rdb = am_sqlite_open(store->path, SQLITE_OPEN_READONLY, error);
  return store->rdb != NULL && am_sqlite_exec(store->rdb, "PRAGMA temp_store = MEMORY;", error) &&
         set_memory_pragmas(store, store->rdb, store->reader_cache_size, error) &&
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
  if (store->scratch != NULL)
    g_byte_array_unref(store->scratch);
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
  store->scratch = g_byte_array_new();
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

JsonNode *
am_sqlite_stats_json(AmSqliteStore *store)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  const struct {
    const char *name;
    gint64 value;
  } members[] = {
      {"schema_version", AM_SQLITE_SCHEMA_VERSION},
      {"cache_size_bytes", store->cache_size},
      {"reader_cache_size_bytes", store->reader_cache_size},
      {"mmap_size_bytes", store->mmap_size},
      {"raw_retention_s", store->raw_retention_s},
      {"rollup_1m_retention_s", store->rollup_1m_retention_s},
      {"rollup_1h_retention_s", store->rollup_1h_retention_s},
      {"event_retention_s", store->event_retention_s},
      {"miners_cached", g_atomic_int_get(&store->miners_cached)},
      /* All of SQLite in this process (both connections, every store). */
      {"sqlite_memory_bytes", sqlite3_memory_used()},
      {"sqlite_memory_peak_bytes", sqlite3_memory_highwater(0)},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(members); i++) {
    json_builder_set_member_name(b, members[i].name);
    json_builder_add_int_value(b, members[i].value);
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
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

static gint64
file_size(const char *path, const char *suffix)
{
  g_autofree char *name = g_strconcat(path, suffix, NULL);
  GStatBuf st;
  return g_stat(name, &st) == 0 ? (gint64)st.st_size : 0;
}

/* The health report: settings, SQLite's memory, and the files' sizes. */
static JsonNode *
sqlite_stats(gpointer self)
{
  AmSqliteStore *store = self;
  JsonNode *node = am_sqlite_stats_json(store);
  JsonObject *o = json_node_get_object(node);
  json_object_set_int_member(o, "db_bytes", file_size(store->path, ""));
  json_object_set_int_member(o, "wal_bytes", file_size(store->path, "-wal"));
  return node;
}

static const AmStoreVTable sqlite_vtable = {
    .struct_size = sizeof(AmStoreVTable),
    .write_batch = sqlite_write_batch,
    .query = sqlite_query,
    .stats_json = sqlite_stats,
};

AM_PLUGIN_DEFINE(.name = "sqlite", .kind = AM_PLUGIN_KIND_STORE,
                 .description = "SQLite: samples, events and rollups in one local file",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = sqlite_create, .destroy = sqlite_destroy, .vtable.store = &sqlite_vtable)
