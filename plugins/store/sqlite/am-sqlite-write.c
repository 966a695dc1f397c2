/* Writing one batch: samples (with their chains and pools) and events, in
 * one transaction. Runs on the store queue's writer thread only. */
#include "am-sqlite-store.h"
#include <string.h>

/* Pools are written when they change, and at least this often so that
 * their share counters have a history too. */
#define POOLS_REFRESH_MS (3600 * 1000)
/* A miner that sent no sample for this long (store clock) leaves the
 * writer's cache; checked every MINER_EVICT_EVERY_MS. */
#define MINER_IDLE_MS (3600 * 1000)
#define MINER_EVICT_EVERY_MS (10 * 60 * 1000)
/* A second sample of a miner in the same millisecond moves on by 1 ms, at
 * most this many times. */
#define MAX_TIME_BUMPS 1000

/* Statements of the write connection. Raw samples are reached miner by
 * miner through their primary key (miner_id, t): CROSS JOIN keeps SQLite
 * from scanning the whole table instead, and there is no index on time. */
// clang-format off
#define WAVG(x) "sum(r." x " * r.n) / sum(iif(r." x " IS NULL, NULL, r.n))"
static const char *const write_sql[W_N_STATEMENTS] = {
    [W_MINER_FIND] = "SELECT id, mac, serial, hostname, model, driver, firmware, "
                     "firmware_version, algorithm FROM miners WHERE address = ?1",
    [W_MINER_INSERT] = "INSERT INTO miners (address, host, port, first_seen, last_seen) "
                       "VALUES (?1, ?2, ?3, ?4, ?4)",
    [W_MINER_IDENTITY] = "UPDATE miners SET mac = ?2, serial = ?3, hostname = ?4, model = ?5, "
                         "driver = ?6, firmware = ?7, firmware_version = ?8, algorithm = ?9 "
                         "WHERE id = ?1",
    /* last_seen is the time of the miner's newest raw row ("latest"). */
    [W_MINER_SEEN] = "UPDATE miners SET last_seen = ?2 WHERE id = ?1 AND last_seen <= ?2",
    [W_SAMPLE_INSERT] =
        "INSERT INTO samples (miner_id, t, hashrate_ghs, power_w, temp_max_dc, temp_avg_dc, "
        "fan_avg_rpm, elapsed_s, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [W_SAMPLE_X_INSERT] =
        "INSERT OR REPLACE INTO samples_x (miner_id, t, power_limit_w, water_in_dc, water_out_dc, "
        "psu_in_w, psu_out_w, voltage_mv, frequency_dmhz) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [W_POOL_INSERT] = "INSERT INTO pools (miner_id, t, position, url, user, status, priority, "
                      "active, accepted, rejected, stale) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [W_EVENT_INSERT] =
        "INSERT INTO events (t, miner, kind, name, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    [W_ALERT_RAISE] = "INSERT OR REPLACE INTO alert_state (miner, rule, t, detail) "
                      "VALUES (?1, ?2, ?3, ?4)",
    [W_ALERT_RESOLVE] = "DELETE FROM alert_state WHERE miner = ?1 AND rule = ?2",
    [W_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [W_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
    /* Rollups keep the units of the API (TH/s, degC): the raw columns are
     * converted row by row, so averages are those of the values shown. */
    [W_ROLLUP_1M] =
        "INSERT OR REPLACE INTO rollup_1m SELECT s.miner_id, (s.t / 60000) * 60 AS b, count(*), "
        "avg(coalesce(s.hashrate_ghs > 0, 1)), "
        "min(s.hashrate_ghs) / 1000.0, avg(s.hashrate_ghs / 1000.0), max(s.hashrate_ghs) / 1000.0, "
        "min(s.power_w), avg(s.power_w), max(s.power_w), "
        "min(s.temp_max_dc) / 10.0, avg(s.temp_max_dc / 10.0), max(s.temp_max_dc) / 10.0, "
        "min(s.temp_avg_dc) / 10.0, avg(s.temp_avg_dc / 10.0), max(s.temp_avg_dc) / 10.0, "
        "min(s.fan_avg_rpm), avg(s.fan_avg_rpm), max(s.fan_avg_rpm), max(s.elapsed_s) "
        "FROM miners m CROSS JOIN samples s ON s.miner_id = m.id AND s.t >= ?1 AND s.t < ?2 "
        "GROUP BY s.miner_id, b",
    [W_FLEET_1M] = "INSERT OR REPLACE INTO fleet_1m (bucket, hashrate_ths, power_w, miners) "
                   "SELECT b, sum(h), sum(p), count(*) FROM ("
                   "  SELECT s.miner_id, (s.t / 60000) * 60 AS b, "
                   "  avg(s.hashrate_ghs / 1000.0) AS h, avg(s.power_w) AS p "
                   "  FROM miners m CROSS JOIN samples s "
                   "  ON s.miner_id = m.id AND s.t >= ?1 AND s.t < ?2 "
                   "  GROUP BY s.miner_id, b) GROUP BY b",
    [W_ROLLUP_1H] =
        "INSERT OR REPLACE INTO rollup_1h SELECT r.miner_id, ?1, sum(r.n), sum(r.up) / 60.0, "
        "min(r.hashrate_min), " WAVG("hashrate_avg") ", max(r.hashrate_max), "
        "min(r.power_min), " WAVG("power_avg") ", max(r.power_max), "
        "min(r.tmax_min), " WAVG("tmax_avg") ", max(r.tmax_max), "
        "min(r.tavg_min), " WAVG("tavg_avg") ", max(r.tavg_max), "
        "min(r.fan_min), " WAVG("fan_avg") ", max(r.fan_max), max(r.elapsed_s) "
        "FROM miners m CROSS JOIN rollup_1m r ON r.miner_id = m.id AND r.bucket >= ?1 "
        "AND r.bucket < ?1 + 3600 WHERE m.id >= ?2 AND m.id < ?3 GROUP BY r.miner_id",
    /* The series of plugin ABI 1.2 (samples_x): rows only where known. */
    [W_ROLLUP_X_1M] =
        "INSERT OR REPLACE INTO rollup_x_1m SELECT x.miner_id, (x.t / 60000) * 60 AS b, count(*), "
        "avg(x.power_limit_w), avg(x.water_in_dc / 10.0), avg(x.water_out_dc / 10.0), "
        "avg(x.psu_in_w), avg(x.psu_out_w), avg(x.voltage_mv / 1000.0), "
        "avg(x.frequency_dmhz / 10.0) "
        "FROM miners m CROSS JOIN samples_x x ON x.miner_id = m.id AND x.t >= ?1 AND x.t < ?2 "
        "GROUP BY x.miner_id, b",
    [W_ROLLUP_X_1H] =
        "INSERT OR REPLACE INTO rollup_x_1h SELECT r.miner_id, ?1, sum(r.n), "
        WAVG("power_limit_w") ", " WAVG("water_in_c") ", " WAVG("water_out_c") ", "
        WAVG("psu_in_w") ", " WAVG("psu_out_w") ", " WAVG("voltage_v") ", " WAVG("frequency_mhz") " "
        "FROM miners m CROSS JOIN rollup_x_1m r ON r.miner_id = m.id AND r.bucket >= ?1 "
        "AND r.bucket < ?1 + 3600 WHERE m.id >= ?2 AND m.id < ?3 GROUP BY r.miner_id",
    [W_FLEET_1H] =
        "INSERT OR REPLACE INTO fleet_1h (bucket, minutes, hashrate_ths, power_w, miners) "
        "SELECT ?1, count(*), avg(hashrate_ths), avg(power_w), max(miners) "
        "FROM fleet_1m WHERE bucket >= ?1 AND bucket < ?1 + 3600 HAVING count(*) > 0",
    [W_MAX_MINER_ID] = "SELECT max(id) FROM miners",
    [W_MIN_SAMPLE_T] = "SELECT min((SELECT s.t FROM samples s WHERE s.miner_id = m.id "
                       "ORDER BY s.t LIMIT 1)) FROM miners m",
    [W_MAX_SAMPLE_T] = "SELECT max(last_seen) FROM miners",
    [W_NEXT_SAMPLE_T] = "SELECT min((SELECT s.t FROM samples s WHERE s.miner_id = m.id "
                        "AND s.t >= ?1 ORDER BY s.t LIMIT 1)) FROM miners m",
    [W_PRUNE_SAMPLES] = "DELETE FROM samples WHERE (miner_id, t) IN (SELECT s.miner_id, s.t "
                        "FROM miners m CROSS JOIN samples s ON s.miner_id = m.id AND s.t < ?1 "
                        "LIMIT ?2)",
    [W_PRUNE_SAMPLES_X] = "DELETE FROM samples_x WHERE (miner_id, t) IN (SELECT x.miner_id, x.t "
                          "FROM miners m CROSS JOIN samples_x x ON x.miner_id = m.id AND x.t < ?1 "
                          "LIMIT ?2)",
    [W_PRUNE_ROLLUP_X_1M] = "DELETE FROM rollup_x_1m WHERE (miner_id, bucket) IN "
                            "(SELECT r.miner_id, r.bucket FROM miners m CROSS JOIN rollup_x_1m r "
                            "ON r.miner_id = m.id AND r.bucket < ?1 LIMIT ?2)",
    [W_PRUNE_ROLLUP_X_1H] = "DELETE FROM rollup_x_1h WHERE (miner_id, bucket) IN "
                            "(SELECT r.miner_id, r.bucket FROM miners m CROSS JOIN rollup_x_1h r "
                            "ON r.miner_id = m.id AND r.bucket < ?1 LIMIT ?2)",
    [W_PRUNE_POOLS] = "DELETE FROM pools WHERE id IN (SELECT id FROM "
                      "(SELECT id, t FROM pools ORDER BY id LIMIT ?2) WHERE t < ?1)",
    [W_PRUNE_EVENTS] = "DELETE FROM events WHERE id IN "
                       "(SELECT id FROM events WHERE t < ?1 ORDER BY t LIMIT ?2)",
    [W_PRUNE_ROLLUP_1M] = "DELETE FROM rollup_1m WHERE (miner_id, bucket) IN "
                          "(SELECT r.miner_id, r.bucket FROM miners m CROSS JOIN rollup_1m r "
                          "ON r.miner_id = m.id AND r.bucket < ?1 LIMIT ?2)",
    [W_PRUNE_ROLLUP_1H] = "DELETE FROM rollup_1h WHERE (miner_id, bucket) IN "
                          "(SELECT r.miner_id, r.bucket FROM miners m CROSS JOIN rollup_1h r "
                          "ON r.miner_id = m.id AND r.bucket < ?1 LIMIT ?2)",
    [W_PRUNE_FLEET_1M] = "DELETE FROM fleet_1m WHERE bucket IN "
                         "(SELECT bucket FROM fleet_1m WHERE bucket < ?1 ORDER BY bucket LIMIT ?2)",
    [W_PRUNE_FLEET_1H] = "DELETE FROM fleet_1h WHERE bucket IN "
                         "(SELECT bucket FROM fleet_1h WHERE bucket < ?1 ORDER BY bucket LIMIT ?2)",
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
};
#undef WAVG
// clang-format on

gboolean
am_sqlite_write_prepare(AmSqliteStore *store, GError **error)
{
  return am_sqlite_prepare_all(store->wdb, write_sql, store->w, W_N_STATEMENTS, error);
}

void
am_sqlite_pack_state_clear(AmSqlitePackState *state)
{
  g_clear_pointer(&state->last, am_sqlite_detail_free);
  state->last_t = 0;
}

void
am_sqlite_miner_free(AmSqliteMiner *miner)
{
  for (gsize i = 0; i < G_N_ELEMENTS(miner->identity); i++)
    g_free(miner->identity[i]);
  g_free(miner->pools_signature);
  am_sqlite_pack_state_clear(&miner->pack);
  g_free(miner);
}

/* "host:port", or "[v6]:port", as the core writes a miner's address. */
static char *
address_of(const AmSample *s)
{
  if (strchr(s->host, ':') != NULL)
    return g_strdup_printf("[%s]:%u", s->host, s->port);
  return g_strdup_printf("%s:%u", s->host, s->port);
}

static void
identity_of(const AmSample *s, const char *out[8])
{
  const char *fields[8] = {s->mac,    s->serial,   s->hostname,         s->model,
                           s->driver, s->firmware, s->firmware_version, s->algorithm};
  memcpy(out, fields, sizeof fields);
}

/* Loads what the database knows of @address, or NULL. */
static AmSqliteMiner *
miner_find(AmSqliteStore *store, const char *address, GError **error)
{
  sqlite3_stmt *st = store->w[W_MINER_FIND];
  sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  AmSqliteMiner *m = NULL;
  if (rc == SQLITE_ROW) {
    m = g_new0(AmSqliteMiner, 1);
    m->id = sqlite3_column_int64(st, 0);
    for (int i = 0; i < 8; i++)
      m->identity[i] = g_strdup((const char *)sqlite3_column_text(st, i + 1));
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    am_sqlite_fail(store->wdb, error, "looking up a miner");
  return m;
}

static AmSqliteMiner *
miner_insert(AmSqliteStore *store, const AmSample *s, const char *address, gint64 t_ms,
             GError **error)
{
  sqlite3_stmt *st = store->w[W_MINER_INSERT];
  sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, s->host, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, s->port);
  sqlite3_bind_int64(st, 4, t_ms);
  if (!am_sqlite_step_done(store->wdb, st, error, "adding a miner"))
    return NULL;
  AmSqliteMiner *m = g_new0(AmSqliteMiner, 1);
  m->id = sqlite3_last_insert_rowid(store->wdb);
  return m;
}

/* Identity columns follow the newest sample; an unknown field keeps what
 * an earlier sample told. */
static gboolean
miner_update_identity(AmSqliteStore *store, AmSqliteMiner *m, const AmSample *s, GError **error)
{
  const char *now[8];
  identity_of(s, now);
  gboolean changed = FALSE;
  for (int i = 0; i < 8; i++)
    if (now[i] != NULL && g_strcmp0(now[i], m->identity[i]) != 0) {
      g_free(m->identity[i]);
      m->identity[i] = g_strdup(now[i]);
      changed = TRUE;
    }
  if (!changed)
    return TRUE;
  sqlite3_stmt *st = store->w[W_MINER_IDENTITY];
  sqlite3_bind_int64(st, 1, m->id);
  for (int i = 0; i < 8; i++)
    am_sqlite_bind_text(st, i + 2, m->identity[i]);
  return am_sqlite_step_done(store->wdb, st, error, "updating a miner");
}

static AmSqliteMiner *
miner_for(AmSqliteStore *store, const AmSample *s, gint64 t_ms, GError **error)
{
  g_autofree char *address = address_of(s);
  AmSqliteMiner *m = g_hash_table_lookup(store->miners, address);
  if (m == NULL) {
    GError *local = NULL;
    m = miner_find(store, address, &local);
    if (m == NULL && local == NULL)
      m = miner_insert(store, s, address, t_ms, &local);
    if (m == NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
    g_hash_table_insert(store->miners, g_steal_pointer(&address), m);
    g_atomic_int_set(&store->miners_cached, (gint)g_hash_table_size(store->miners));
  }
  return miner_update_identity(store, m, s, error) ? m : NULL;
}

static void
bind_real(sqlite3_stmt *st, int index, gboolean known, double value)
{
  if (known)
    sqlite3_bind_double(st, index, value);
  else
    sqlite3_bind_null(st, index);
}

static void
bind_int(sqlite3_stmt *st, int index, gboolean known, gint64 value)
{
  if (known)
    sqlite3_bind_int64(st, index, value);
  else
    sqlite3_bind_null(st, index);
}

/* Binds the columns (all but the time and the detail). */
static void
bind_columns(sqlite3_stmt *st, const AmSample *s, gint64 miner_id)
{
  double v = 0;
  gint64 n = 0;
  sqlite3_bind_int64(st, 1, miner_id);
  gboolean known = am_sqlite_column_hashrate_ghs(s->hashrate_ths, &v);
  bind_real(st, 3, known, v);
  known = am_sqlite_column_power_w(s->power_w, &v);
  bind_real(st, 4, known, v);
  known = am_sqlite_column_deci(s->temp_max_c, &n);
  bind_int(st, 5, known, n);
  known = am_sqlite_column_deci(s->avg_temp_c, &n);
  bind_int(st, 6, known, n);
  known = am_sqlite_column_whole(s->avg_fan_rpm, &n);
  bind_int(st, 7, known, n);
  am_sqlite_bind_count(st, 8, s->elapsed_s);
}

/* The delta base for a sample at @t_ms, or NULL for a key frame: the
 * miner's previous sample, if it is older and in the same window. */
static const AmSqliteDetail *
delta_base(const AmSqlitePackState *state, const AmSqliteDetail *d, gint64 t_ms)
{
  if (state->last == NULL || state->last_t >= t_ms ||
      state->last_t / AM_SQLITE_FRAME_WINDOW_MS != t_ms / AM_SQLITE_FRAME_WINDOW_MS ||
      !am_sqlite_detail_delta_ok(d, state->last))
    return NULL;
  return state->last;
}

gboolean
am_sqlite_insert_sample(sqlite3 *db, sqlite3_stmt *st, const AmSample *s, gint64 miner_id,
                        gint64 *t_ms, AmSqlitePackState *state, GByteArray *scratch, GError **error)
{
  int prefer = state->last != NULL ? state->last->hashrate_exp : -1;
  AmSqliteDetail *d = am_sqlite_detail_from_sample(s, prefer);
  bind_columns(st, s, miner_id);
  int rc = SQLITE_OK;
  for (int bump = 0; bump <= MAX_TIME_BUMPS; bump++) {
    const AmSqliteDetail *base = delta_base(state, d, *t_ms);
    g_byte_array_set_size(scratch, 0);
    am_sqlite_detail_pack(d, base, base != NULL ? *t_ms - state->last_t : 0, scratch);
    sqlite3_bind_int64(st, 2, *t_ms);
    sqlite3_bind_blob(st, 9, scratch->data, (int)scratch->len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_CONSTRAINT_PRIMARYKEY)
      break;
    (*t_ms)++; /* the miner has a sample in this millisecond already */
  }
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) {
    am_sqlite_detail_free(d);
    return am_sqlite_fail(db, error, "adding a sample");
  }
  am_sqlite_pack_state_clear(state);
  state->last = d;
  state->last_t = *t_ms;
  return TRUE;
}

/* The series of plugin ABI 1.2: a samples_x row when @s has any of them. */
static gboolean
insert_series_x(AmSqliteStore *store, gint64 miner_id, gint64 t_ms, const AmSample *s,
                GError **error)
{
  double limit = 0, psu_in = 0, psu_out = 0;
  gint64 water_in = 0, water_out = 0, mv = 0, dmhz = 0;
  gboolean known[] = {
      am_sqlite_column_power_w(s->power_limit_w, &limit),
      am_sqlite_column_deci(s->water_temp_in_c, &water_in),
      am_sqlite_column_deci(s->water_temp_out_c, &water_out),
      am_sqlite_column_power_w(s->psu_power_in_w, &psu_in),
      am_sqlite_column_power_w(s->psu_power_out_w, &psu_out),
      am_sqlite_column_whole(am_sqlite_chain_mean_voltage(s) * 1000.0, &mv),
      am_sqlite_column_deci(am_sqlite_chain_mean_frequency(s), &dmhz),
  };
  gboolean any = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS(known); i++)
    any = any || known[i];
  if (!any)
    return TRUE;
  sqlite3_stmt *st = store->w[W_SAMPLE_X_INSERT];
  sqlite3_bind_int64(st, 1, miner_id);
  sqlite3_bind_int64(st, 2, t_ms);
  bind_real(st, 3, known[0], limit);
  bind_int(st, 4, known[1], water_in);
  bind_int(st, 5, known[2], water_out);
  bind_real(st, 6, known[3], psu_in);
  bind_real(st, 7, known[4], psu_out);
  bind_int(st, 8, known[5], mv);
  bind_int(st, 9, known[6], dmhz);
  return am_sqlite_step_done(store->wdb, st, error, "adding a sample's series");
}

/* Reads the row's time back to its key frame. */
static AmSqliteDetail *
read_detail(sqlite3 *db, sqlite3_stmt *st, gint64 miner_id, gint64 t_ms, guint depth,
            GError **error)
{
  sqlite3_bind_int64(st, 1, miner_id);
  sqlite3_bind_int64(st, 2, t_ms);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
      g_set_error(error, AM_ERROR, AM_ERROR_FAILED,
                  "no raw sample of miner %" G_GINT64_FORMAT " at %" G_GINT64_FORMAT " ms",
                  miner_id, t_ms);
    else
      am_sqlite_fail(db, error, "reading a sample");
    return NULL;
  }
  gsize len = (gsize)sqlite3_column_bytes(st, 0);
  g_autofree guint8 *blob = g_memdup2(sqlite3_column_blob(st, 0), len);
  sqlite3_reset(st);
  gint64 dt = 0;
  g_autoptr(AmSqliteDetail) base = NULL;
  if (am_sqlite_detail_is_delta(blob, len, &dt)) {
    /* A window holds a few dozen samples; more is a broken chain. */
    if (dt <= 0 || depth > 100000) {
      g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "a sample's delta chain is broken");
      return NULL;
    }
    base = read_detail(db, st, miner_id, t_ms - dt, depth + 1, error);
    if (base == NULL)
      return NULL;
  }
  return am_sqlite_detail_unpack(blob, len, base, error);
}

AmSqliteDetail *
am_sqlite_load_detail(sqlite3 *db, sqlite3_stmt *st, gint64 miner_id, gint64 t_ms, GError **error)
{
  return read_detail(db, st, miner_id, t_ms, 0, error);
}

gboolean
am_sqlite_read_detail(sqlite3 *db, gint64 miner_id, gint64 t_ms, AmSample *s, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT detail FROM samples WHERE miner_id = ?1 AND t = ?2", -1, &st,
                         NULL) != SQLITE_OK)
    return am_sqlite_fail(db, error, "reading a sample");
  g_autoptr(AmSqliteDetail) d = read_detail(db, st, miner_id, t_ms, 0, error);
  sqlite3_finalize(st);
  if (d == NULL)
    return FALSE;
  am_sqlite_detail_to_sample(d, s);
  return TRUE;
}

/* What identifies a pool setup: a change of any of these writes a snapshot. */
static char *
pools_signature(const AmSample *s)
{
  GString *sig = g_string_new(NULL);
  for (guint i = 0; i < s->pools->len; i++) {
    const AmPool *p = s->pools->pdata[i];
    g_string_append_printf(sig, "%s\x1f%s\x1f%s\x1f%d\x1f%d\x1e", p->url != NULL ? p->url : "",
                           p->user != NULL ? p->user : "", p->status != NULL ? p->status : "",
                           p->priority, p->active);
  }
  return g_string_free(sig, FALSE);
}

static gboolean
insert_pools(AmSqliteStore *store, AmSqliteMiner *m, const AmSample *s, gint64 t_ms, GError **error)
{
  if (s->pools->len == 0)
    return TRUE;
  g_autofree char *sig = pools_signature(s);
  if (g_strcmp0(sig, m->pools_signature) == 0 && t_ms - m->pools_written_ms < POOLS_REFRESH_MS &&
      t_ms >= m->pools_written_ms)
    return TRUE;
  sqlite3_stmt *st = store->w[W_POOL_INSERT];
  for (guint i = 0; i < s->pools->len; i++) {
    const AmPool *p = s->pools->pdata[i];
    sqlite3_bind_int64(st, 1, m->id);
    sqlite3_bind_int64(st, 2, t_ms);
    sqlite3_bind_int(st, 3, (int)i);
    am_sqlite_bind_text(st, 4, p->url);
    am_sqlite_bind_text(st, 5, p->user);
    am_sqlite_bind_text(st, 6, p->status);
    am_sqlite_bind_count(st, 7, p->priority);
    sqlite3_bind_int(st, 8, p->active ? 1 : 0);
    am_sqlite_bind_count(st, 9, p->accepted);
    am_sqlite_bind_count(st, 10, p->rejected);
    am_sqlite_bind_count(st, 11, p->stale);
    if (!am_sqlite_step_done(store->wdb, st, error, "adding a pool snapshot"))
      return FALSE;
  }
  g_free(m->pools_signature);
  m->pools_signature = g_steal_pointer(&sig);
  m->pools_written_ms = t_ms;
  return TRUE;
}

static gboolean
mark_seen(AmSqliteStore *store, gint64 miner_id, gint64 t_ms, GError **error)
{
  sqlite3_stmt *st = store->w[W_MINER_SEEN];
  sqlite3_bind_int64(st, 1, miner_id);
  sqlite3_bind_int64(st, 2, t_ms);
  return am_sqlite_step_done(store->wdb, st, error, "updating a miner");
}

static gboolean
write_sample(AmSqliteStore *store, const AmSample *s, GError **error)
{
  if (s->host == NULL) {
    g_debug("a sample without a host was not stored");
    return TRUE;
  }
  gint64 t_ms = s->when_us / 1000;
  AmSqliteMiner *m = miner_for(store, s, t_ms, error);
  if (m == NULL || !am_sqlite_insert_sample(store->wdb, store->w[W_SAMPLE_INSERT], s, m->id, &t_ms,
                                            &m->pack, store->scratch, error))
    return FALSE;
  m->used_ms = MAX(m->used_ms, t_ms);
  return insert_series_x(store, m->id, t_ms, s, error) && insert_pools(store, m, s, t_ms, error) &&
         mark_seen(store, m->id, t_ms, error);
}

/* An alert event carries {"state": "raised"|"resolved", ...} as its detail;
 * alert_state keeps the raised ones. Returns NULL for anything else. */
static char *
alert_state_of(const AmEvent *e)
{
  if (g_strcmp0(e->kind, "alert") != 0 || e->miner_host == NULL || e->name == NULL ||
      e->detail == NULL)
    return NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, e->detail, -1, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return NULL;
  return g_strdup(am_json_string(json_node_get_object(root), "state"));
}

static gboolean
update_alert_state(AmSqliteStore *store, const AmEvent *e, gint64 t_ms, GError **error)
{
  g_autofree char *state = alert_state_of(e);
  if (state == NULL)
    return TRUE;
  gboolean raised = g_str_equal(state, "raised");
  sqlite3_stmt *st = store->w[raised ? W_ALERT_RAISE : W_ALERT_RESOLVE];
  sqlite3_bind_text(st, 1, e->miner_host, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, e->name, -1, SQLITE_STATIC);
  if (raised) {
    sqlite3_bind_int64(st, 3, t_ms);
    sqlite3_bind_text(st, 4, e->detail, -1, SQLITE_STATIC);
  }
  return am_sqlite_step_done(store->wdb, st, error, "updating the alert state");
}

static gboolean
write_event(AmSqliteStore *store, const AmEvent *e, GError **error)
{
  gint64 t_ms = e->when_us / 1000;
  sqlite3_stmt *st = store->w[W_EVENT_INSERT];
  sqlite3_bind_int64(st, 1, t_ms);
  am_sqlite_bind_text(st, 2, e->miner_host);
  sqlite3_bind_text(st, 3, e->kind != NULL ? e->kind : "state", -1, SQLITE_STATIC);
  am_sqlite_bind_text(st, 4, e->name);
  am_sqlite_bind_text(st, 5, e->detail);
  return am_sqlite_step_done(store->wdb, st, error, "adding an event") &&
         update_alert_state(store, e, t_ms, error);
}

static gboolean
write_all(AmSqliteStore *store, AmSample *const *samples, guint n_samples,
          const AmEvent *const *events, guint n_events, GError **error)
{
  for (guint i = 0; i < n_samples; i++)
    if (!write_sample(store, samples[i], error))
      return FALSE;
  for (guint i = 0; i < n_events; i++)
    if (!write_event(store, events[i], error))
      return FALSE;
  return TRUE;
}

/* The oldest and newest sample time of a batch (ms); FALSE when it has none. */
static gboolean
batch_span(AmSample *const *samples, guint n, gint64 *oldest, gint64 *newest)
{
  *oldest = G_MAXINT64;
  *newest = G_MININT64;
  for (guint i = 0; i < n; i++) {
    *oldest = MIN(*oldest, samples[i]->when_us / 1000);
    *newest = MAX(*newest, samples[i]->when_us / 1000);
  }
  return n > 0;
}

/* Undoes a failed transaction. The miner cache may hold rows that were
 * just rolled back, so it is dropped and rebuilt from the database. */
static void
abort_batch(AmSqliteStore *store)
{
  if (!sqlite3_get_autocommit(store->wdb))
    am_sqlite_step_done(store->wdb, store->w[W_ROLLBACK], NULL, "rollback");
  g_hash_table_remove_all(store->miners);
  g_atomic_int_set(&store->miners_cached, 0);
}

/* The store's clock is the newest sample time it has written; a sample
 * from a collector clock far in the future must not prune the database. */
static gint64
next_clock(AmSqliteStore *store, gint64 newest_ms)
{
  gint64 limit_ms = g_get_real_time() / 1000 + 24 * 3600 * 1000;
  return MAX(store->progress.now_ms, MIN(newest_ms, limit_ms));
}

/* Saved with the batch, so that readers know the clock without a scan. */
static gboolean
save_clock(AmSqliteStore *store, gint64 clock_ms, GError **error)
{
  sqlite3_stmt *st = store->w[W_META_SET];
  sqlite3_bind_text(st, 1, "clock_ms", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, clock_ms);
  return am_sqlite_step_done(store->wdb, st, error, "saving the clock");
}

static gboolean
idle_miner(gpointer key, gpointer value, gpointer data)
{
  (void)key;
  const AmSqliteMiner *m = value;
  return m->used_ms < *(const gint64 *)data;
}

/* Drops the cache entries of miners that have been silent for an hour (an
 * address that changed, a miner taken away): the cache stays the size of
 * the fleet however long antmon runs. */
static void
evict_idle_miners(AmSqliteStore *store)
{
  AmSqliteProgress *p = &store->progress;
  if (p->now_ms - p->evicted_at < MINER_EVICT_EVERY_MS)
    return;
  p->evicted_at = p->now_ms;
  gint64 before = p->now_ms - MINER_IDLE_MS;
  g_hash_table_foreach_remove(store->miners, idle_miner, &before);
  g_atomic_int_set(&store->miners_cached, (gint)g_hash_table_size(store->miners));
}

gboolean
am_sqlite_write_batch(AmSqliteStore *store, AmSample *const *samples, guint n_samples,
                      const AmEvent *const *events, guint n_events, GError **error)
{
  if (n_samples == 0 && n_events == 0)
    return TRUE;
  if (!am_sqlite_step_done(store->wdb, store->w[W_BEGIN], error, "starting a transaction"))
    return FALSE;
  gint64 oldest = 0, newest = 0;
  gboolean has_samples = batch_span(samples, n_samples, &oldest, &newest);
  if (has_samples)
    am_sqlite_rollup_rewind(store, oldest);
  gint64 clock_ms = has_samples ? next_clock(store, newest) : store->progress.now_ms;
  if (!write_all(store, samples, n_samples, events, n_events, error) ||
      (has_samples && !save_clock(store, clock_ms, error)) ||
      !am_sqlite_step_done(store->wdb, store->w[W_COMMIT], error, "committing")) {
    abort_batch(store);
    /* The rewind was saved in the failed transaction: reload it. */
    am_sqlite_rollup_load(store, NULL);
    return FALSE;
  }
  store->progress.now_ms = clock_ms;
  evict_idle_miners(store);
  /* The batch is safe; maintenance problems are reported, not failed on. */
  g_autoptr(GError) local = NULL;
  if (!am_sqlite_rollup_step(store, n_samples, &local))
    g_warning("[%s] rollup or pruning failed (will retry after the next batch): %s", store->group,
              local->message);
  return TRUE;
}
