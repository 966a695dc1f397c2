/* Benchmark of the SQLite store (run by tests/bench/bench-store.sh).
 *
 *  1. Ingest: poll passes of a BENCH_FLEET-miner fleet (default 10 000),
 *     each sample with 3 chains and 2 pools, through write_batch() (rollups
 *     and pruning included, as the writer thread runs them), then the same
 *     through the core's store queue (push + flush).
 *  2. Queries on a database holding BENCH_DAYS days (30) of BENCH_MINERS
 *     miners (200; sizes per miner-day do not depend on it) at a 30 s
 *     interval, as the store holds it with the
 *     shipped retentions: raw samples for the last BENCH_RAW_DAYS days (3,
 *     written through write_batch, which also rolls them up), and
 *     per-minute and per-hour rollups (per miner and fleet) for the days
 *     before, generated directly with SQL in one transaction. Timed: one
 *     miner's last 24 h at a 1-minute step, and fleet totals for the last
 *     30 days at a 1-hour step.
 *  3. Size: the file, and per table (dbstat), per miner-day, and the
 *     steady-state total per miner with the shipped retentions.
 *
 * Goals, printed at the end as GOAL lines for tests/bench/run-all.sh's
 * table: ingest through write_batch above 50,000 samples/s, both timed
 * history queries under 50 ms (issue 5); at most 200 KB of raw samples per
 * miner-day and 8 MB per miner at steady state (issue 10).
 *
 * BENCH_ABI12=1 makes every miner report the fields of plugin ABI 1.2 as
 * a hydro Whatsminer does (set_abi12): their cost is the difference with a
 * run without it, where no miner reports them.
 *
 * Writes its database under BENCH_DIR (default ./bench-store-tmp) and
 * removes it unless BENCH_KEEP=1. */
#include "am-sqlite-store.h"
#include "am-sqlite-test-util.h"
#include "am-store-queue.h"
#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#define INTERVAL_S 30
#define DAY_S 86400

/* The GOAL lines, printed after the tables (a line inside a Markdown table
 * would break it). */
static GString *goals;

static void
add_goal(const char *name, double value, const char *unit, const char *goal)
{
  g_string_append_printf(goals, "GOAL name=%s value=%.6g unit=%s goal=%s ref=- ref_name=-\n", name,
                         value, unit, goal);
}

static guint
env_uint(const char *name, guint fallback)
{
  const char *v = g_getenv(name);
  return v != NULL && *v != '\0' ? (guint)g_ascii_strtoull(v, NULL, 10) : fallback;
}

static double
now_s(void)
{
  return g_get_monotonic_time() / 1e6;
}

/* A small deterministic wobble so values are not all equal. */
static double
wobble(guint64 seed)
{
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return ((seed >> 33) % 2000) / 1000.0 - 1.0;
}

static GPtrArray *
make_fleet(guint n, guint subnet)
{
  GPtrArray *fleet = g_ptr_array_new_with_free_func((GDestroyNotify)am_sample_unref);
  for (guint i = 0; i < n; i++) {
    g_autofree char *host = g_strdup_printf("10.%u.%u.%u", subnet, i / 250, i % 250 + 1);
    g_ptr_array_add(fleet, am_store_test_sample(host, 4028, 0, 100, 3250, 3, 2));
  }
  return fleet;
}

/* The plugin ABI 1.2 fields of a hydro miner with a PSU that reports
 * itself: the power limit, work mode and chain settings stay, the coolant
 * and PSU readings move a little, the best share rises now and then. */
static void
set_abi12(AmSample *s, guint64 seed, guint p)
{
  s->mining = AM_MINING_HASHING;
  if (s->work_mode == NULL)
    am_sample_set(s, &s->work_mode, "normal");
  s->power_limit_w = 3300;
  s->water_temp_in_c = 38.0 + round(10 * wobble(seed + 13)) / 10;
  s->water_temp_out_c = 46.0 + round(10 * wobble(seed + 17)) / 10;
  s->psu_power_in_w = 3300 + round(40 * wobble(seed + 19));
  s->psu_power_out_w = 3150 + round(40 * wobble(seed + 23));
  s->psu_fan_rpm = 7200 + round(100 * wobble(seed + 29));
  s->best_share = 1e9 * (1 + p / 100);
  s->found_blocks = 0;
  for (guint c = 0; c < s->chains->len; c++) {
    AmChain *ch = &g_array_index(s->chains, AmChain, c);
    ch->voltage_v = 13.2 + 0.1 * c;
    ch->frequency_mhz = 600;
    ch->temp_inlet_c = 40.0 + c + round(wobble(seed * 13 + c));
    ch->temp_outlet_c = 50.0 + c + round(wobble(seed * 17 + c));
  }
}

/* Sets the time and readings of pass @p (the bench owns these samples).
 * What a running miner changes from poll to poll changes: each chain's
 * hashrate (+-3 %), board and chip temperatures (whole degrees, as the
 * firmware reports them, +-1 degC), fans (+-60 RPM), shares, efficiency and
 * hardware errors; so the size measured is that of real polls, not of
 * repeated ones. */
static void
set_pass(GPtrArray *fleet, gint64 start_s, guint p)
{
  for (guint i = 0; i < fleet->len; i++) {
    AmSample *s = fleet->pdata[i];
    guint64 seed = (guint64)p * 100003 + i;
    s->when_us = (start_s + (gint64)p * INTERVAL_S + i % INTERVAL_S) * G_USEC_PER_SEC;
    s->elapsed_s = (gint64)p * INTERVAL_S;
    s->accepted = 1000 + (gint64)p * 4 + (gint64)(2 * wobble(seed + 1));
    s->hw_errors = 12 + p / 7;
    s->hashrate_avg_ths = 100 + 0.01 * wobble(seed + 2);
    double total = 0;
    for (guint c = 0; c < s->chains->len; c++) {
      AmChain *ch = &g_array_index(s->chains, AmChain, c);
      ch->hashrate_ths = 100.0 / s->chains->len * (1 + 0.03 * wobble(seed * 3 + c));
      ch->hw_errors = 4 + p / 20;
      ch->temp_board_c = 60.0 + c + round(wobble(seed * 5 + c));
      ch->temp_chip_c = 75.0 + c + round(wobble(seed * 7 + c));
      total += ch->hashrate_ths;
      if (c < s->temps_c->len)
        g_array_index(s->temps_c, double, c) = ch->temp_board_c;
      if (c < s->chip_temps_c->len)
        g_array_index(s->chip_temps_c, double, c) = ch->temp_chip_c;
    }
    for (guint f = 0; f < s->fans_rpm->len; f++)
      g_array_index(s->fans_rpm, double, f) = 5400 + 120 * f + round(60 * wobble(seed * 11 + f));
    s->power_w = 3250 + 50 * wobble((guint64)p * 7919 + i);
    if (g_getenv("BENCH_ABI12") != NULL)
      set_abi12(s, seed, p);
    am_sample_finish(s); /* temperatures, fans and efficiency follow */
    s->hashrate_ths = total;
  }
}

static void
write_pass(AmStoreFixture *fx, GPtrArray *fleet)
{
  g_autoptr(GError) error = NULL;
  if (!am_store_test_info()->vtable.store->write_batch(fx->self, (AmSample *const *)fleet->pdata,
                                                       fleet->len, NULL, 0, &error))
    g_error("write_batch: %s", error->message);
}

static void
open_store(AmStoreFixture *fx, const char *dir, const char *ini)
{
  *fx = (AmStoreFixture){0};
  fx->dir = g_strdup(dir);
  fx->path = g_build_filename(dir, "antmon.db", NULL);
  fx->ctx = am_context_new(dir, "bench.ini");
  g_autoptr(GError) error = NULL;
  if (!am_store_fixture_open(fx, ini, &error))
    g_error("%s", error->message);
}

static void
close_store(AmStoreFixture *fx)
{
  am_store_fixture_close(fx);
  am_context_free(fx->ctx);
  g_free(fx->dir);
  g_free(fx->path);
}

/* ---- 1. ingest ---------------------------------------------------------- */

static void
bench_ingest(const char *dir)
{
  guint miners = env_uint("BENCH_FLEET", 10000), passes = env_uint("BENCH_PASSES", 20);
  g_autofree char *sub = g_build_filename(dir, "ingest", NULL);
  g_mkdir_with_parents(sub, 0755);
  AmStoreFixture fx;
  open_store(&fx, sub, NULL);
  g_autoptr(GPtrArray) fleet = make_fleet(miners, 1);
  gint64 start = 1714550400;
  double t0 = now_s();
  set_pass(fleet, start, 0);
  write_pass(&fx, fleet);
  double first = now_s() - t0;
  double steady_t0 = now_s();
  for (guint p = 1; p < passes; p++) {
    set_pass(fleet, start, p);
    write_pass(&fx, fleet);
  }
  double steady = now_s() - steady_t0;
  printf("| ingest, write_batch, first pass (adds %u miners) | %u samples | %.2f s | %.0f "
         "samples/s |\n",
         miners, miners, first, miners / first);
  printf("| ingest, write_batch, %u more passes | %u samples | %.2f s | **%.0f samples/s** |\n",
         passes - 1, miners * (passes - 1), steady, miners * (passes - 1) / steady);
  add_goal("store_ingest_samples_per_s", miners * (passes - 1) / steady, "samples/s", ">50000");

  /* The same through the core's queue: push on this thread, flush. */
  AmInstance instance = {.info = am_store_test_info(), .group = "store:sqlite", .self = fx.self};
  AmStoreQueue *q = am_store_queue_new(&instance, miners * 4, 3600 * 1000);
  double q0 = now_s();
  for (guint p = passes; p < passes + 10; p++) {
    set_pass(fleet, start, p);
    for (guint i = 0; i < fleet->len; i++)
      am_store_queue_push_sample(q, fleet->pdata[i]);
    am_store_queue_flush(q); /* the pass is written before its samples change */
  }
  double queued = now_s() - q0;
  g_autoptr(JsonNode) stats = am_store_queue_stats_json(q);
  am_store_queue_free(q);
  printf("| ingest, store queue push + flush, 10 passes | %" G_GINT64_FORMAT
         " samples | %.2f s | %.0f samples/s |\n",
         json_object_get_int_member(json_node_get_object(stats), "written"), queued,
         miners * 10 / queued);
  close_store(&fx);
}

/* ---- 2. the 30-day database --------------------------------------------- */

typedef struct {
  guint miners, days, raw_days;
  gint64 end_s;       /* the store's clock at the end */
  gint64 raw_start_s; /* raw samples from here */
  gint64 start_s;     /* history from here */
  guint64 raw_samples, minute_rows, hour_rows;
} History;

static void
exec_sql(sqlite3 *db, const char *sql)
{
  char *message = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error("%s: %s", sql, message);
}

static sqlite3_stmt *
prepare(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    g_error("%s: %s", sql, sqlite3_errmsg(db));
  return st;
}

static void
step_reset(sqlite3_stmt *st)
{
  if (sqlite3_step(st) != SQLITE_DONE)
    g_error("insert: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
  sqlite3_reset(st);
}

/* One rollup row with plausible values for @n samples; @up of them up. */
static void
bind_rollup(sqlite3_stmt *st, gint64 miner, gint64 bucket, int n, double up, guint64 seed)
{
  double hr = 100 + 5 * wobble(seed), pw = 3250 + 50 * wobble(seed + 1);
  double values[] = {hr - 2, hr, hr + 2, pw - 20, pw,   pw + 20, 74,  76,
                     78,     61, 62,     63,      5400, 5460,    5520};
  sqlite3_bind_int64(st, 1, miner);
  sqlite3_bind_int64(st, 2, bucket);
  sqlite3_bind_int(st, 3, n);
  sqlite3_bind_double(st, 4, up);
  for (int i = 0; i < 15; i++)
    sqlite3_bind_double(st, 5 + i, values[i]);
  sqlite3_bind_int64(st, 20, bucket - 1714550400);
}

static void
generate_rollups(const char *path, History *h)
{
  sqlite3 *db = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK)
    g_error("open %s", path);
  /* Generating only: no journal and no sync, pages written in place (in
   * WAL mode one big transaction rewrites the pages its cache spills). The
   * store switches the file back to WAL when it opens it. */
  exec_sql(db, "PRAGMA journal_mode = DELETE; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
               "PRAGMA cache_size = -200000; BEGIN");
  const char *cols = "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                     "?16, ?17, ?18, ?19, ?20)";
  g_autofree char *m_sql = g_strdup_printf("INSERT INTO rollup_1m %s", cols);
  g_autofree char *h_sql = g_strdup_printf("INSERT INTO rollup_1h %s", cols);
  sqlite3_stmt *m1 = prepare(db, m_sql), *h1 = prepare(db, h_sql);
  sqlite3_stmt *f1 = prepare(db, "INSERT INTO fleet_1m VALUES (?1, ?2, ?3, ?4)");
  sqlite3_stmt *fh = prepare(db, "INSERT INTO fleet_1h VALUES (?1, 60, ?2, ?3, ?4)");
  /* Miner by miner, so each one's rows go in in key order. */
  for (gint64 miner = 1; miner <= h->miners; miner++) {
    for (gint64 b = h->start_s; b < h->raw_start_s; b += 60) {
      bind_rollup(m1, miner, b, 2, 1.0, (guint64)(miner * 1000003 + b));
      step_reset(m1);
      h->minute_rows++;
    }
    for (gint64 b = h->start_s; b < h->raw_start_s; b += 3600) {
      bind_rollup(h1, miner, b, 120, 1.0, (guint64)(miner * 7 + b));
      step_reset(h1);
      h->hour_rows++;
    }
  }
  for (gint64 b = h->start_s; b < h->raw_start_s; b += 60) {
    sqlite3_bind_int64(f1, 1, b);
    sqlite3_bind_double(f1, 2, 100.0 * h->miners);
    sqlite3_bind_double(f1, 3, 3250.0 * h->miners);
    sqlite3_bind_int(f1, 4, (int)h->miners);
    step_reset(f1);
  }
  for (gint64 b = h->start_s; b < h->raw_start_s; b += 3600) {
    sqlite3_bind_int64(fh, 1, b);
    sqlite3_bind_double(fh, 2, 100.0 * h->miners);
    sqlite3_bind_double(fh, 3, 3250.0 * h->miners);
    sqlite3_bind_int(fh, 4, (int)h->miners);
    step_reset(fh);
  }
  /* The store carries on from where the generated rollups end. */
  g_autofree char *meta =
      g_strdup_printf("INSERT OR REPLACE INTO meta VALUES ('rollup_1m_done', %" G_GINT64_FORMAT "),"
                      "('rollup_1h_done', %" G_GINT64_FORMAT "), ('rollup_1h_miner', 0)",
                      h->raw_start_s, h->raw_start_s);
  exec_sql(db, meta);
  exec_sql(db, "COMMIT");
  sqlite3_finalize(m1);
  sqlite3_finalize(h1);
  sqlite3_finalize(f1);
  sqlite3_finalize(fh);
  sqlite3_close(db);
}

static void
build_history(const char *dir, History *h)
{
  AmStoreFixture fx;
  /* Create the schema, and the miners (ids 1..N) with one early sample. */
  open_store(&fx, dir, NULL);
  g_autoptr(GPtrArray) fleet = make_fleet(h->miners, 2);
  set_pass(fleet, h->start_s - INTERVAL_S, 0);
  write_pass(&fx, fleet);
  close_store(&fx);

  double t0 = now_s();
  g_autofree char *path = g_build_filename(dir, "antmon.db", NULL);
  generate_rollups(path, h);
  printf("| generate %u days of rollups with SQL | %" G_GUINT64_FORMAT
         " minute + %" G_GUINT64_FORMAT " hour rows | %.1f s | |\n",
         h->days - h->raw_days, h->minute_rows, h->hour_rows, now_s() - t0);
  fflush(stdout);

  open_store(&fx, dir, NULL);
  /* Generating only: no sync, as after a power cut nothing is kept. */
  am_sqlite_exec(((AmSqliteStore *)fx.self)->wdb, "PRAGMA synchronous = OFF", NULL);
  guint passes = h->raw_days * DAY_S / INTERVAL_S;
  /* Batches of about 10 000 samples, as the queue makes them under load. */
  guint per_batch = CLAMP(10000 / h->miners, 1, 20); /* <= 10 minutes: rollups keep up */
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func((GDestroyNotify)am_sample_unref);
  GPtrArray *fleets[64] = {NULL};
  per_batch = MIN(per_batch, G_N_ELEMENTS(fleets));
  for (guint k = 0; k < per_batch; k++)
    fleets[k] = k == 0 ? g_ptr_array_ref(fleet) : make_fleet(h->miners, 2);
  t0 = now_s();
  for (guint p = 0; p < passes; p += per_batch) {
    g_ptr_array_set_size(batch, 0);
    for (guint k = 0; k < per_batch && p + k < passes; k++) {
      set_pass(fleets[k], h->raw_start_s, p + k);
      for (guint i = 0; i < fleets[k]->len; i++)
        g_ptr_array_add(batch, am_sample_ref(fleets[k]->pdata[i]));
    }
    write_pass(&fx, batch);
    h->raw_samples += batch->len;
  }
  for (guint k = 0; k < per_batch; k++)
    g_ptr_array_unref(fleets[k]);
  double took = now_s() - t0;
  printf("| write %u days of raw samples through write_batch | %" G_GUINT64_FORMAT
         " samples | %.1f s | %.0f samples/s |\n",
         h->raw_days, h->raw_samples, took, h->raw_samples / took);
  close_store(&fx);
}

/* ---- timing queries ---------------------------------------------------- */

static int
cmp_double(gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Returns the median in ms. */
static double
time_query(AmStoreFixture *fx, const char *label, const char *query, GHashTable *params, guint runs)
{
  g_autoptr(GArray) ms = g_array_new(FALSE, FALSE, sizeof(double));
  guint rows = 0;
  g_autofree char *resolution = NULL;
  for (guint i = 0; i < runs; i++) {
    g_autoptr(GError) error = NULL;
    double t0 = now_s();
    g_autoptr(JsonNode) node =
        am_store_test_info()->vtable.store->query(fx->self, query, params, &error);
    double took = (now_s() - t0) * 1000;
    if (node == NULL)
      g_error("%s: %s", label, error->message);
    g_array_append_val(ms, took);
    JsonObject *obj = json_node_get_object(node);
    rows = json_array_get_length(json_object_get_array_member(obj, "rows"));
    g_free(resolution);
    resolution = g_strdup(json_object_has_member(obj, "resolution")
                              ? json_object_get_string_member(obj, "resolution")
                              : "-");
  }
  double first = g_array_index(ms, double, 0);
  g_array_sort(ms, cmp_double);
  double median = g_array_index(ms, double, ms->len / 2);
  printf("| %s | %u rows (%s) | first %.1f ms | **median %.1f ms**, p95 %.1f ms |\n", label, rows,
         resolution, first, median, g_array_index(ms, double, (ms->len * 95) / 100));
  return median;
}

static char *
num(gint64 v)
{
  return g_strdup_printf("%" G_GINT64_FORMAT, v);
}

static void
bench_queries(const char *dir, History *h)
{
  AmStoreFixture fx;
  open_store(&fx, dir, NULL); /* fresh connections: a cold SQLite cache */
  g_autofree char *day_ago = num(h->end_s - DAY_S), *month_ago = num(h->end_s - 30 * DAY_S);
  g_autofree char *until = num(h->end_s + 1);
  /* A miner from the middle of the fleet, as make_fleet() names them. */
  guint mid = h->miners / 2;
  g_autofree char *miner = g_strdup_printf("10.2.%u.%u:4028", mid / 250, mid % 250 + 1);
  g_autoptr(GHashTable) series = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(series, "miner", miner);
  g_hash_table_insert(series, "since", day_ago);
  g_hash_table_insert(series, "until", until);
  g_hash_table_insert(series, "step", "60");
  g_hash_table_insert(series, "limit", "2000");
  add_goal("store_query_miner_24h_1m_median_ms",
           time_query(&fx, "one miner, last 24 h, 1-minute step", "series", series, 200), "ms",
           "<50");
  g_autoptr(GHashTable) fleet = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(fleet, "since", month_ago);
  g_hash_table_insert(fleet, "until", until);
  g_hash_table_insert(fleet, "step", "3600");
  add_goal("store_query_fleet_30d_1h_median_ms",
           time_query(&fx, "fleet totals, last 30 days, 1-hour step", "fleet", fleet, 200), "ms",
           "<50");
  g_autoptr(GHashTable) raw = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(raw, "miner", miner);
  g_hash_table_insert(raw, "since", day_ago);
  g_hash_table_insert(raw, "until", until);
  g_hash_table_insert(raw, "limit", "5000");
  time_query(&fx, "one miner, last 24 h, raw (2880 samples)", "series", raw, 50);
  g_autoptr(GHashTable) none = g_hash_table_new(g_str_hash, g_str_equal);
  time_query(&fx, "latest sample of every miner", "latest", none, 50);
  close_store(&fx);
}

/* ---- 3. size ------------------------------------------------------------ */

/* The retentions shipped in sample.ini, for the steady-state total. */
#define DEFAULT_RAW_DAYS 3
#define DEFAULT_1M_DAYS 30
#define DEFAULT_1H_DAYS 400

/* Bytes of the b-trees named by @names (tables and their indexes). */
static double
btree_bytes(sqlite3 *db, const char *names)
{
  g_autofree char *sql =
      g_strdup_printf("SELECT sum(pgsize) FROM dbstat WHERE name IN (%s)", names);
  sqlite3_stmt *st = NULL;
  double bytes = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    bytes = sqlite3_column_double(st, 0);
  else
    printf("(dbstat unavailable: %s)\n", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return bytes;
}

static double
query_double(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  double v = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_double(st, 0);
  sqlite3_finalize(st);
  return v;
}

static void
report_size(const char *dir, const History *h)
{
  g_autofree char *path = g_build_filename(dir, "antmon.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
  /* samples_x and rollup_x_*: the plugin ABI 1.2 series (BENCH_ABI12). The
   * rollups generated with SQL have none, so theirs are reported apart,
   * per row of the days written through write_batch. */
  double raw = btree_bytes(db, "'samples', 'samples_x', 'pools', 'pools_miner_t'");
  double samples = btree_bytes(db, "'samples'");
  double x_raw = btree_bytes(db, "'samples_x'");
  double x_minute = btree_bytes(db, "'rollup_x_1m'"), x_hour = btree_bytes(db, "'rollup_x_1h'");
  double x_minute_rows = query_double(db, "SELECT count(*) FROM rollup_x_1m");
  double x_hour_rows = query_double(db, "SELECT count(*) FROM rollup_x_1h");
  double minute = btree_bytes(db, "'rollup_1m'"), hour = btree_bytes(db, "'rollup_1h'");
  double minute_rows = query_double(db, "SELECT count(*) FROM rollup_1m");
  double hour_rows = query_double(db, "SELECT count(*) FROM rollup_1h");
  double raw_rows = query_double(db, "SELECT count(*) FROM samples");
  double detail = query_double(db, "SELECT avg(length(detail)) FROM samples");
  sqlite3_close(db);
  GStatBuf sb;
  g_stat(path, &sb);
  /* Per miner-day of the data each part holds (the rollups of the raw
   * days are in the tables too: rows per miner-day is rows / miners / the
   * days they span). */
  double raw_kb = raw / ((double)h->miners * h->raw_days) / 1024;
  double min_kb = minute / (minute_rows / 1440.0) / 1024;
  double hour_kb = hour / (hour_rows / 24.0) / 1024;
  double x_min_kb = x_minute_rows > 0 ? x_minute / x_minute_rows * 1440 / 1024 : 0;
  double x_hour_kb = x_hour_rows > 0 ? x_hour / x_hour_rows * 24 / 1024 : 0;
  printf("\n| database | size |\n|---|---|\n");
  printf("| file (%u miners, %u days) | %.2f GB |\n", h->miners, h->days, sb.st_size / 1e9);
  printf("| raw samples (3 chains) + pools, per miner-day | **%.0f KB** (%.1f bytes per sample, "
         "detail blob %.1f bytes) |\n",
         raw_kb, samples / raw_rows, detail);
  printf("| of which ABI 1.2 series (samples_x), per miner-day | %.1f KB |\n",
         x_raw / ((double)h->miners * h->raw_days) / 1024);
  if (x_minute_rows > 0)
    printf("| ABI 1.2 rollups (rollup_x_1m, rollup_x_1h), per miner-day | %.1f KB, %.2f KB "
           "(%.1f, %.1f bytes per row) |\n",
           x_min_kb, x_hour_kb, x_minute / x_minute_rows,
           x_hour_rows > 0 ? x_hour / x_hour_rows : 0.0);
  printf("| per-minute rollups, per miner-day | %.1f KB (%.1f bytes per row) |\n", min_kb,
         minute / minute_rows);
  printf("| per-hour rollups, per miner-day | %.2f KB (%.1f bytes per row) |\n", hour_kb,
         hour / hour_rows);
  double steady_mb = (DEFAULT_RAW_DAYS * raw_kb + DEFAULT_1M_DAYS * (min_kb + x_min_kb) +
                      DEFAULT_1H_DAYS * (hour_kb + x_hour_kb)) /
                     1024;
  printf("| steady state with the shipped retentions (%d d raw, %d d 1m, %d d 1h), per miner | "
         "**%.1f MB** |\n",
         DEFAULT_RAW_DAYS, DEFAULT_1M_DAYS, DEFAULT_1H_DAYS, steady_mb);
  add_goal("store_raw_kb_per_miner_day", raw_kb, "KB", "<=200");
  add_goal("store_steady_mb_per_miner", steady_mb, "MB", "<=8");
}

int
main(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  g_autofree char *dir =
      g_strdup(g_getenv("BENCH_DIR") ? g_getenv("BENCH_DIR") : "bench-store-tmp");
  am_store_test_rmtree(dir);
  g_mkdir_with_parents(dir, 0755);
  goals = g_string_new(NULL);
  printf("SQLite %s; database under %s\n\n", sqlite3_libversion(), dir);
  printf("| step | amount | time | rate or latency |\n|---|---|---|---|\n");
  fflush(stdout);
  if (env_uint("BENCH_SKIP_INGEST", 0) == 0)
    bench_ingest(dir);
  fflush(stdout);

  History h = {.miners = env_uint("BENCH_MINERS", 200),
               .days = env_uint("BENCH_DAYS", 30),
               .raw_days = env_uint("BENCH_RAW_DAYS", 3)};
  h.end_s = 1714550400; /* 2024-05-01T08:00:00Z */
  h.raw_start_s = h.end_s - (gint64)h.raw_days * DAY_S;
  h.start_s = h.end_s - (gint64)h.days * DAY_S;
  h.end_s -= INTERVAL_S; /* the last pass starts one interval before */
  g_autofree char *qdir = g_build_filename(dir, "history", NULL);
  g_mkdir_with_parents(qdir, 0755);
  build_history(qdir, &h);
  bench_queries(qdir, &h);
  report_size(qdir, &h);
  printf("\n%s", goals->str);
  if (env_uint("BENCH_KEEP", 0) == 0)
    am_store_test_rmtree(dir);
  g_string_free(goals, TRUE);
  return 0;
}
