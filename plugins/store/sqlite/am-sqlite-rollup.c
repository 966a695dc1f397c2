/* Rollups and retention, run by the writer after each batch.
 *
 * A minute is rolled up once the store's clock (the newest sample time) is
 * GRACE_S past its end, an hour once all its minutes are. Progress lives in
 * the meta table and moves in the same transaction as the rows it covers,
 * so a crash never leaves a gap or a double count. A batch that brings
 * samples for minutes already rolled up moves the progress back, and those
 * minutes are rolled up again (INSERT OR REPLACE makes that idempotent).
 *
 * Every step is one short transaction with a bounded amount of work, and a
 * call does a bounded number of steps, so pruning and catching up never
 * hold the write lock for long: the next batch waits milliseconds, not
 * seconds. Raw samples are pruned only once rolled up.
 *
 * Each resolution has its own retention (raw_retention,
 * rollup_1m_retention, rollup_1h_retention; events event_retention), so a
 * long history costs one row per miner-hour, not one per miner-minute. */
#include "am-sqlite-store.h"

/* Samples of a minute may arrive this long after it ends (poll deadline
 * plus the queue's flush interval). */
#define GRACE_S 120
/* Minutes rolled up per step, and steps per call. */
#define MINUTES_PER_STEP 5
#define MINUTE_STEPS 4
/* Miners whose hour is rolled up per step, and steps per call. */
#define MINERS_PER_STEP 2000
#define HOUR_STEPS 4
/* Rows deleted per step; a call deletes at least as many rows as the batch
 * brought, so pruning keeps pace with ingest. */
#define PRUNE_ROWS 1000

static const char *const key_done_1m = "rollup_1m_done";
static const char *const key_done_1h = "rollup_1h_done";
static const char *const key_hour_miner = "rollup_1h_miner";

static gint64
floor_to(gint64 value, gint64 unit)
{
  return value >= 0 ? value / unit * unit : -((-value + unit - 1) / unit) * unit;
}

/* Runs @st (bound by the caller) and reads one integer; @fallback for NULL
 * or no row. */
static gboolean
query_int(sqlite3 *db, sqlite3_stmt *st, gint64 fallback, gint64 *out, GError **error)
{
  int rc = sqlite3_step(st);
  *out = fallback;
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
    *out = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return am_sqlite_fail(db, error, "reading the rollup progress");
  return TRUE;
}

static gboolean
meta_get(AmSqliteStore *store, const char *key, gint64 *out, GError **error)
{
  sqlite3_bind_text(store->w[W_META_GET], 1, key, -1, SQLITE_STATIC);
  return query_int(store->wdb, store->w[W_META_GET], 0, out, error);
}

static gboolean
meta_set(AmSqliteStore *store, const char *key, gint64 value, GError **error)
{
  sqlite3_stmt *st = store->w[W_META_SET];
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, value);
  return am_sqlite_step_done(store->wdb, st, error, "saving the rollup progress");
}

gboolean
am_sqlite_rollup_load(AmSqliteStore *store, GError **error)
{
  AmSqliteProgress *p = &store->progress;
  gint64 newest = 0;
  if (!meta_get(store, key_done_1m, &p->done_1m, error) ||
      !meta_get(store, key_done_1h, &p->done_1h, error) ||
      !meta_get(store, key_hour_miner, &p->hour_miner, error) ||
      !query_int(store->wdb, store->w[W_MAX_SAMPLE_T], 0, &newest, error))
    return FALSE;
  p->now_ms = MAX(p->now_ms, newest);
  return TRUE;
}

/* The oldest minute whose raw samples are all still there: rollups below
 * it must never be recomputed from what pruning left. */
static gint64
raw_horizon(AmSqliteStore *store)
{
  gint64 oldest_kept = store->progress.now_ms / 1000 - store->raw_retention_s;
  return floor_to(oldest_kept, AM_SQLITE_MINUTE) + AM_SQLITE_MINUTE;
}

static gboolean
save_progress(AmSqliteStore *store, GError **error)
{
  const AmSqliteProgress *p = &store->progress;
  return meta_set(store, key_done_1m, p->done_1m, error) &&
         meta_set(store, key_done_1h, p->done_1h, error) &&
         meta_set(store, key_hour_miner, p->hour_miner, error);
}

void
am_sqlite_rollup_rewind(AmSqliteStore *store, gint64 oldest_ms)
{
  AmSqliteProgress *p = &store->progress;
  if (p->done_1m == 0 || oldest_ms >= p->done_1m * 1000)
    return;
  gint64 minute = MAX(floor_to(oldest_ms / 1000, AM_SQLITE_MINUTE), raw_horizon(store));
  if (minute >= p->done_1m)
    return;
  p->done_1m = minute;
  if (p->done_1h > floor_to(minute, AM_SQLITE_HOUR)) {
    p->done_1h = floor_to(minute, AM_SQLITE_HOUR);
    p->hour_miner = 0;
  }
  /* Saved with the batch: if it fails, the caller reloads the progress. */
  g_autoptr(GError) error = NULL;
  if (!save_progress(store, &error))
    g_debug("[%s] %s", store->group, error->message);
}

static gboolean
begin(AmSqliteStore *store, GError **error)
{
  return am_sqlite_step_done(store->wdb, store->w[W_BEGIN], error, "starting a transaction");
}

/* Commits, or rolls back and reloads the progress when @ok is FALSE. */
static gboolean
finish(AmSqliteStore *store, gboolean ok, GError **error)
{
  if (ok && am_sqlite_step_done(store->wdb, store->w[W_COMMIT], error, "committing"))
    return TRUE;
  if (!sqlite3_get_autocommit(store->wdb))
    am_sqlite_step_done(store->wdb, store->w[W_ROLLBACK], NULL, "rollback");
  am_sqlite_rollup_load(store, NULL);
  return FALSE;
}

/* Runs a statement over [@lo, @hi) bound as ?1, ?2. */
static gboolean
run_range(AmSqliteStore *store, AmSqliteWriteStmt which, gint64 lo, gint64 hi, GError **error)
{
  sqlite3_stmt *st = store->w[which];
  sqlite3_bind_int64(st, 1, lo);
  sqlite3_bind_int64(st, 2, hi);
  return am_sqlite_step_done(store->wdb, st, error, "rolling up");
}

/* The first time there is data, progress starts at its first minute. */
static gboolean
start_progress(AmSqliteStore *store, GError **error)
{
  AmSqliteProgress *p = &store->progress;
  if (p->done_1m != 0)
    return TRUE;
  gint64 first_ms = 0;
  if (!query_int(store->wdb, store->w[W_MIN_SAMPLE_T], 0, &first_ms, error))
    return FALSE;
  if (first_ms == 0)
    return TRUE;
  p->done_1m = floor_to(first_ms / 1000, AM_SQLITE_MINUTE);
  p->done_1h = floor_to(p->done_1m, AM_SQLITE_HOUR);
  p->hour_miner = 0;
  return TRUE;
}

static gboolean
roll_minutes(AmSqliteStore *store, GError **error)
{
  AmSqliteProgress *p = &store->progress;
  gint64 target = floor_to(p->now_ms / 1000 - GRACE_S, AM_SQLITE_MINUTE);
  for (int step = 0; step < MINUTE_STEPS && p->done_1m != 0 && p->done_1m < target; step++) {
    /* Minutes without samples (antmon was stopped) have nothing to roll up. */
    gint64 next_ms = 0;
    sqlite3_bind_int64(store->w[W_NEXT_SAMPLE_T], 1, p->done_1m * 1000);
    if (!query_int(store->wdb, store->w[W_NEXT_SAMPLE_T], G_MAXINT64 / 2, &next_ms, error))
      return FALSE;
    gint64 lo = MAX(p->done_1m, MIN(target, floor_to(next_ms / 1000, AM_SQLITE_MINUTE)));
    gint64 hi = MIN(target, lo + MINUTES_PER_STEP * AM_SQLITE_MINUTE);
    if (lo >= hi) {
      p->done_1m = target;
      break;
    }
    if (!begin(store, error))
      return FALSE;
    p->done_1m = hi;
    gboolean ok = run_range(store, W_ROLLUP_1M, lo * 1000, hi * 1000, error) &&
                  run_range(store, W_ROLLUP_X_1M, lo * 1000, hi * 1000, error) &&
                  run_range(store, W_FLEET_1M, lo * 1000, hi * 1000, error) &&
                  save_progress(store, error);
    if (!finish(store, ok, error))
      return FALSE;
  }
  return TRUE;
}

/* One step of the hour @p->done_1h: the next MINERS_PER_STEP miners, and
 * the fleet total once every miner is done. */
static gboolean
roll_hour_step(AmSqliteStore *store, gint64 max_miner, GError **error)
{
  AmSqliteProgress *p = &store->progress;
  AmSqliteWriteStmt which[] = {W_ROLLUP_1H, W_ROLLUP_X_1H};
  for (gsize i = 0; i < G_N_ELEMENTS(which); i++) {
    sqlite3_stmt *st = store->w[which[i]];
    sqlite3_bind_int64(st, 1, p->done_1h);
    sqlite3_bind_int64(st, 2, p->hour_miner);
    sqlite3_bind_int64(st, 3, p->hour_miner + MINERS_PER_STEP);
    if (!am_sqlite_step_done(store->wdb, st, error, "rolling up an hour"))
      return FALSE;
  }
  p->hour_miner += MINERS_PER_STEP;
  if (p->hour_miner <= max_miner)
    return TRUE;
  sqlite3_bind_int64(store->w[W_FLEET_1H], 1, p->done_1h);
  if (!am_sqlite_step_done(store->wdb, store->w[W_FLEET_1H], error, "rolling up an hour"))
    return FALSE;
  p->done_1h += AM_SQLITE_HOUR;
  p->hour_miner = 0;
  return TRUE;
}

static gboolean
roll_hours(AmSqliteStore *store, GError **error)
{
  AmSqliteProgress *p = &store->progress;
  gint64 target = floor_to(p->done_1m, AM_SQLITE_HOUR);
  gint64 max_miner = 0;
  if (p->done_1h >= target)
    return TRUE;
  if (!query_int(store->wdb, store->w[W_MAX_MINER_ID], 0, &max_miner, error))
    return FALSE;
  for (int step = 0; step < HOUR_STEPS && p->done_1h < target; step++) {
    if (!begin(store, error))
      return FALSE;
    gboolean ok = roll_hour_step(store, max_miner, error) && save_progress(store, error);
    if (!finish(store, ok, error))
      return FALSE;
  }
  return TRUE;
}

/* Raw samples older than the retention and rolled up go a whole frame
 * window at a time (a delta frame's base is in its window), at most
 * @budget rows per call in transactions of PRUNE_ROWS. Once a cutoff is
 * done, nothing is looked at again until the next window. */
static gboolean
prune_raw(AmSqliteStore *store, guint budget, GError **error)
{
  AmSqliteProgress *p = &store->progress;
  gint64 cutoff_ms = MIN(p->now_ms - store->raw_retention_s * 1000, p->done_1m * 1000);
  cutoff_ms = floor_to(cutoff_ms, AM_SQLITE_FRAME_WINDOW_MS);
  if (cutoff_ms <= p->pruned_raw)
    return TRUE;
  for (guint done = 0; done < budget; done += PRUNE_ROWS) {
    gint64 limit = MIN(PRUNE_ROWS, budget - done);
    if (!begin(store, error))
      return FALSE;
    sqlite3_stmt *st = store->w[W_PRUNE_SAMPLES];
    sqlite3_bind_int64(st, 1, cutoff_ms);
    sqlite3_bind_int64(st, 2, limit);
    gboolean ok = am_sqlite_step_done(store->wdb, st, error, "pruning");
    gint64 deleted = ok ? sqlite3_changes64(store->wdb) : 0;
    if (!finish(store, ok, error))
      return FALSE;
    if (deleted < limit) {
      p->pruned_raw = cutoff_ms;
      break;
    }
  }
  return TRUE;
}

/* Deletes up to PRUNE_ROWS rows of @which older than @cutoff; sets @more
 * when there may be more. */
static gboolean
prune_chunk(AmSqliteStore *store, AmSqliteWriteStmt which, gint64 cutoff, gboolean *more,
            GError **error)
{
  if (!run_range(store, which, cutoff, PRUNE_ROWS, error))
    return FALSE;
  if (sqlite3_changes(store->wdb) >= PRUNE_ROWS)
    *more = TRUE;
  return TRUE;
}

/* Rollups, pools and events: checked once per minute of the store's clock
 * (they grow by at most one bucket per miner per minute), one transaction
 * of at most PRUNE_ROWS rows per table at a time, until nothing is left or
 * the batch's budget is spent (the rest waits for the next batch). */
static gboolean
prune_history(AmSqliteStore *store, guint budget, GError **error)
{
  AmSqliteProgress *p = &store->progress;
  gint64 minute = floor_to(p->now_ms / 1000, AM_SQLITE_MINUTE);
  if (minute == p->pruned_1m_at)
    return TRUE;
  gint64 now_s = p->now_ms / 1000;
  gint64 keep_1m = now_s - store->rollup_1m_retention_s;
  gint64 keep_1h = now_s - store->rollup_1h_retention_s;
  gint64 keep_events_ms = (now_s - store->event_retention_s) * 1000;
  gint64 keep_raw_ms = p->now_ms - store->raw_retention_s * 1000;
  gboolean more = TRUE;
  for (guint done = 0; more && done < budget; done += PRUNE_ROWS) {
    more = FALSE;
    if (!begin(store, error))
      return FALSE;
    /* samples_x goes with the raw samples already pruned. */
    gboolean ok = prune_chunk(store, W_PRUNE_SAMPLES_X, p->pruned_raw, &more, error) &&
                  prune_chunk(store, W_PRUNE_ROLLUP_X_1M, keep_1m, &more, error) &&
                  prune_chunk(store, W_PRUNE_ROLLUP_X_1H, keep_1h, &more, error) &&
                  prune_chunk(store, W_PRUNE_ROLLUP_1M, keep_1m, &more, error) &&
                  prune_chunk(store, W_PRUNE_ROLLUP_1H, keep_1h, &more, error) &&
                  prune_chunk(store, W_PRUNE_FLEET_1M, keep_1m, &more, error) &&
                  prune_chunk(store, W_PRUNE_FLEET_1H, keep_1h, &more, error) &&
                  prune_chunk(store, W_PRUNE_EVENTS, keep_events_ms, &more, error) &&
                  prune_chunk(store, W_PRUNE_POOLS, keep_raw_ms, &more, error);
    if (!finish(store, ok, error))
      return FALSE;
  }
  if (!more)
    p->pruned_1m_at = minute;
  return TRUE;
}

gboolean
am_sqlite_rollup_step(AmSqliteStore *store, guint n_samples, GError **error)
{
  if (store->progress.now_ms == 0)
    return TRUE;
  guint budget = n_samples + PRUNE_ROWS;
  return start_progress(store, error) && roll_minutes(store, error) && roll_hours(store, error) &&
         prune_raw(store, budget, error) && prune_history(store, budget, error);
}
