/* The SQLite store: what its files share.
 *
 * One instance holds two connections to one database file:
 *  - the write connection, used only from the store queue's writer thread
 *    (write_batch, then rollups and pruning in small transactions);
 *  - a read-only connection for queries, used from one reader thread at a
 *    time (the core serialises query calls).
 * The two halves share only the options, which never change after create(),
 * so the instance needs no lock. Every statement is prepared once and bound;
 * no SQL is ever built from input. */
#pragma once

#include "am-sqlite-pack.h"
#include <antmon/antmon.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define AM_SQLITE_MINUTE 60
#define AM_SQLITE_HOUR 3600
/* A delta frame's base is in the same window of the same miner, so raw
 * samples are pruned a whole window at a time and a sample is decoded from
 * at most one window of rows (20 at a 30 s interval). */
#define AM_SQLITE_FRAME_WINDOW_MS (10 * 60 * 1000)

/* Statements of the write connection. */
typedef enum {
  W_MINER_FIND,
  W_MINER_INSERT,
  W_MINER_IDENTITY,
  W_MINER_SEEN,
  W_SAMPLE_INSERT,
  W_SAMPLE_X_INSERT,
  W_POOL_INSERT,
  W_EVENT_INSERT,
  W_ALERT_RAISE,
  W_ALERT_RESOLVE,
  W_META_GET,
  W_META_SET,
  W_ROLLUP_1M,
  W_FLEET_1M,
  W_ROLLUP_1H,
  W_ROLLUP_X_1M,
  W_ROLLUP_X_1H,
  W_FLEET_1H,
  W_MAX_MINER_ID,
  W_MIN_SAMPLE_T,
  W_MAX_SAMPLE_T,
  W_NEXT_SAMPLE_T,
  W_PRUNE_SAMPLES,
  W_PRUNE_SAMPLES_X,
  W_PRUNE_ROLLUP_X_1M,
  W_PRUNE_ROLLUP_X_1H,
  W_PRUNE_POOLS,
  W_PRUNE_EVENTS,
  W_PRUNE_ROLLUP_1M,
  W_PRUNE_ROLLUP_1H,
  W_PRUNE_FLEET_1M,
  W_PRUNE_FLEET_1H,
  W_BEGIN,
  W_COMMIT,
  W_ROLLBACK,
  W_N_STATEMENTS
} AmSqliteWriteStmt;

/* Statements of the read connection. */
typedef enum {
  R_BEGIN,
  R_COMMIT,
  R_META_GET,
  R_NOW,
  R_MINER_BY_ADDRESS,
  R_MINER_BY_HOST,
  R_LATEST,
  R_SERIES_RAW,
  R_DETAIL,
  R_SERIES_STEP,
  R_FLEET,
  R_EVENTS,
  R_ALERT_STATE,
  R_N_STATEMENTS
} AmSqliteReadStmt;

/* The sample a miner's next one may be written as a delta of. */
typedef struct {
  AmSqliteDetail *last; /* or NULL: the next one is a key frame */
  gint64 last_t;        /* its time (ms) */
} AmSqlitePackState;

/* What the writer remembers of a miner between batches, so that a sample
 * costs no lookup, identity/pool rows are written only on change and the
 * detail is a delta of the one before. Entries of miners that sent nothing
 * for MINER_IDLE_MS of the store's clock are dropped (see write.c), so the
 * cache follows the fleet, not every address ever seen. */
typedef struct {
  gint64 id;
  char *identity[8]; /* mac, serial, hostname, model, driver, firmware, version, algorithm */
  char *pools_signature;
  gint64 pools_written_ms;
  AmSqlitePackState pack;
  gint64 used_ms; /* the store's clock when it last wrote a sample */
} AmSqliteMiner;

/* Rollup and pruning progress (writer thread). Times in epoch seconds. */
typedef struct {
  gint64 done_1m;      /* minutes before this are rolled up */
  gint64 done_1h;      /* hours before this are rolled up */
  gint64 hour_miner;   /* next miner id to roll up for hour done_1h */
  gint64 now_ms;       /* newest sample time written: the store's clock */
  gint64 pruned_1m_at; /* the minute the rollups were last pruned in */
  gint64 pruned_raw;   /* raw samples before this (ms) are all pruned */
  gint64 evicted_at;   /* the store's clock when idle miners were last dropped */
} AmSqliteProgress;

typedef struct {
  char *path;
  char *group;
  /* Retention of each resolution, in seconds. */
  gint64 raw_retention_s;
  gint64 rollup_1m_retention_s;
  gint64 rollup_1h_retention_s;
  gint64 event_retention_s;
  /* SQLite memory: page caches of the write and read connection, and the
   * memory-mapped part of the file (each connection), in bytes. */
  gint64 cache_size;
  gint64 reader_cache_size;
  gint64 mmap_size;
  /* Miners in the writer's cache (read by stats from other threads). */
  gint miners_cached;

  /* writer thread only */
  sqlite3 *wdb;
  sqlite3_stmt *w[W_N_STATEMENTS];
  GHashTable *miners; /* address -> AmSqliteMiner* */
  AmSqliteProgress progress;
  GByteArray *scratch; /* a packed detail being written */

  /* reader thread only */
  sqlite3 *rdb;
  sqlite3_stmt *r[R_N_STATEMENTS];
} AmSqliteStore;

/* ---- am-sqlite-db.c: small helpers around the C API ------------------- */

/* Sets @error from @db's last error: "@what: <sqlite message>". */
gboolean am_sqlite_fail(sqlite3 *db, GError **error, const char *what);

/* Sets the error for a database antmon cannot write. */
gboolean am_sqlite_fail_read_only(const char *path, GError **error);

/* Runs fixed SQL text (schema, pragmas): never input. */
gboolean am_sqlite_exec(sqlite3 *db, const char *sql, GError **error);

/* Prepares every statement of @sql (indexed like @stmts); NULL entries are
 * left alone. */
gboolean am_sqlite_prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **stmts, guint n,
                               GError **error);
void am_sqlite_finalize_all(sqlite3_stmt **stmts, guint n);

/* Steps a statement that returns no row (or whose rows are ignored), then
 * resets it. */
gboolean am_sqlite_step_done(sqlite3 *db, sqlite3_stmt *stmt, GError **error, const char *what);

/* Binds a double that may be NAN (stored as NULL). */
void am_sqlite_bind_double(sqlite3_stmt *stmt, int index, double value);
/* Binds a count that may be AM_UNKNOWN or less (stored as NULL). */
void am_sqlite_bind_count(sqlite3_stmt *stmt, int index, gint64 value);
/* Binds a string that may be NULL; the text is copied by SQLite only when
 * @stmt outlives it, so SQLITE_TRANSIENT is used. */
void am_sqlite_bind_text(sqlite3_stmt *stmt, int index, const char *value);

/* A column as a JSON value (null for SQL NULL) added to @b. */
void am_sqlite_add_double(JsonBuilder *b, const char *name, sqlite3_stmt *stmt, int col);
void am_sqlite_add_int(JsonBuilder *b, const char *name, sqlite3_stmt *stmt, int col);
void am_sqlite_add_text(JsonBuilder *b, const char *name, sqlite3_stmt *stmt, int col);

/* Opens @path with @flags and the connection settings every antmon
 * connection uses (busy timeout, extended result codes). */
sqlite3 *am_sqlite_open(const char *path, int flags, GError **error);

/* ---- am-sqlite-schema.c ------------------------------------------------ */
/* see am-sqlite-schema.h */

/* ---- am-sqlite-write.c ------------------------------------------------- */

gboolean am_sqlite_write_prepare(AmSqliteStore *store, GError **error);

/* Inserts @s as a raw row of miner @miner_id with @insert, a statement of
 * the form "INSERT INTO <samples table> (miner_id, t, hashrate_ghs, power_w,
 * temp_max_dc, temp_avg_dc, fan_avg_rpm, elapsed_s, detail) VALUES (?1 ..
 * ?9)". *@t_ms is the time; a second sample of the miner in the same
 * millisecond is moved on by 1 ms until it is unique (the new time is
 * returned in *@t_ms). @state carries the delta base from one sample of the
 * miner to the next. Used by the writer and by the version 3 migration. */
gboolean am_sqlite_insert_sample(sqlite3 *db, sqlite3_stmt *insert, const AmSample *s,
                                 gint64 miner_id, gint64 *t_ms, AmSqlitePackState *state,
                                 GByteArray *scratch, GError **error);
void am_sqlite_pack_state_clear(AmSqlitePackState *state);

/* Reads back the detail of the raw sample of @miner_id at @t_ms (following
 * delta frames to their key frame) into @s, which has no lists or chains
 * yet. FALSE with @error when there is no such sample or it cannot be
 * decoded. */
gboolean am_sqlite_read_detail(sqlite3 *db, gint64 miner_id, gint64 t_ms, AmSample *s,
                               GError **error);
/* The same with @st, "SELECT detail FROM samples WHERE miner_id = ?1 AND t
 * = ?2" prepared by the caller: the decoded detail. (transfer full) */
AmSqliteDetail *am_sqlite_load_detail(sqlite3 *db, sqlite3_stmt *st, gint64 miner_id, gint64 t_ms,
                                      GError **error);

/* The effective SQLite settings and memory (for the health API): safe to
 * call from any thread. (transfer full) */
JsonNode *am_sqlite_stats_json(AmSqliteStore *store);
gboolean am_sqlite_write_batch(AmSqliteStore *store, AmSample *const *samples, guint n_samples,
                               const AmEvent *const *events, guint n_events, GError **error);
void am_sqlite_miner_free(AmSqliteMiner *miner);

/* ---- am-sqlite-rollup.c ------------------------------------------------ */

/* Loads the progress saved in the database. */
gboolean am_sqlite_rollup_load(AmSqliteStore *store, GError **error);
/* After a batch of @n_samples committed, rolls up finished minutes and
 * hours and prunes what is past retention, each step in its own short
 * transaction so that the next batch never waits long. */
gboolean am_sqlite_rollup_step(AmSqliteStore *store, guint n_samples, GError **error);
/* A batch brought samples back to @oldest_ms: roll those minutes up again. */
void am_sqlite_rollup_rewind(AmSqliteStore *store, gint64 oldest_ms);

/* ---- am-sqlite-query.c ------------------------------------------------- */

gboolean am_sqlite_query_prepare(AmSqliteStore *store, GError **error);
JsonNode *am_sqlite_query(AmSqliteStore *store, const char *query, GHashTable *params,
                          GError **error);

G_END_DECLS
