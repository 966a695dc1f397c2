/* Writing one batch: samples (with their chains and pools) and events, in
 * one transaction. Runs on the store queue's writer thread only. */
#include "am-sqlite-store.h"
#include <string.h>

/* Pools are written when they change, and at least this often so that
 * their share counters have a history too. */
#define POOLS_REFRESH_MS (3600 * 1000)
/* Readings kept per list (boards, chips, fans) of one sample. */
#define MAX_READINGS 64

static const char *const write_sql[W_N_STATEMENTS] = {
    [W_MINER_FIND] = "SELECT id, mac, serial, hostname, model, driver, firmware, "
                     "firmware_version, algorithm FROM miners WHERE address = ?1",
    [W_MINER_INSERT] = "INSERT INTO miners (address, host, port, first_seen, last_seen) "
                       "VALUES (?1, ?2, ?3, ?4, ?4)",
    [W_MINER_IDENTITY] = "UPDATE miners SET mac = ?2, serial = ?3, hostname = ?4, model = ?5, "
                         "driver = ?6, firmware = ?7, firmware_version = ?8, algorithm = ?9 "
                         "WHERE id = ?1",
    [W_MINER_SEEN] = "UPDATE miners SET last_seen = ?2, last_sample_id = ?3 "
                     "WHERE id = ?1 AND last_seen <= ?2",
    [W_SAMPLE_INSERT] =
        "INSERT INTO samples (miner_id, t, status, hashrate_ths, hashrate_avg_ths, "
        "hashrate_ideal_ths, power_w, power_source, elapsed_s, temp_max_c, avg_temp_c, "
        "avg_fan_rpm, "
        "efficiency_jth, accepted, rejected, hw_errors, temps_c, chip_temps_c, fans_rpm) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
        "?19)",
    /* OR REPLACE: a driver that reports one slot twice must not fail the batch. */
    [W_CHAIN_INSERT] =
        "INSERT OR REPLACE INTO chains (sample_id, idx, hashrate_ths, chips, "
        "chips_expected, chips_ok, chips_failed, hw_errors, temp_board_c, "
        "temp_chip_c, power_w) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
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
    [W_ROLLUP_1M] =
        "INSERT OR REPLACE INTO rollup_1m SELECT miner_id, (t / 60000) * 60 AS b, count(*), "
        "avg(coalesce(hashrate_ths > 0, 1)), "
        "min(hashrate_ths), avg(hashrate_ths), max(hashrate_ths), "
        "min(power_w), avg(power_w), max(power_w), "
        "min(temp_max_c), avg(temp_max_c), max(temp_max_c), "
        "min(avg_temp_c), avg(avg_temp_c), max(avg_temp_c), "
        "min(avg_fan_rpm), avg(avg_fan_rpm), max(avg_fan_rpm), max(elapsed_s) "
        "FROM samples WHERE t >= ?1 AND t < ?2 GROUP BY miner_id, b",
    [W_FLEET_1M] = "INSERT OR REPLACE INTO fleet_1m (bucket, hashrate_ths, power_w, miners) "
                   "SELECT b, sum(h), sum(p), count(*) FROM ("
                   "  SELECT miner_id, (t / 60000) * 60 AS b, avg(hashrate_ths) AS h, "
                   "  avg(power_w) AS p FROM samples WHERE t >= ?1 AND t < ?2 "
                   "  GROUP BY miner_id, b) GROUP BY b",
#define WAVG(x) "sum(r." x " * r.n) / sum(iif(r." x " IS NULL, NULL, r.n))"
    [W_ROLLUP_1H] =
        "INSERT OR REPLACE INTO rollup_1h SELECT r.miner_id, ?1, sum(r.n), sum(r.up) / 60.0, "
        "min(r.hashrate_min), " WAVG(
            "hashrate_avg") ", max(r.hashrate_max), "
                            "min(r.power_min), " WAVG(
                                "power_avg") ", max(r.power_max), "
                                             "min(r.tmax_min), " WAVG(
                                                 "tmax_avg") ", max(r.tmax_max), "
                                                             "min(r.tavg_min), " WAVG(
                                                                 "tavg_avg") ", max(r.tavg_max), "
                                                                             "min(r.fan_min),"
                                                                             " " WAVG(
                                                                                 "fan_avg") ", "
                                                                                            "max(r."
                                                                                            "fan_"
                                                                                            "max), "
                                                                                            "max(r."
                                                                                            "elapse"
                                                                                            "d_s) "
                                                                                            "FROM "
                                                                                            "miners"
                                                                                            " m "
                                                                                            "CROSS "
                                                                                            "JOIN "
                                                                                            "rollup"
                                                                                            "_1m r "
                                                                                            "ON "
                                                                                            "r."
                                                                                            "miner_"
                                                                                            "id = "
                                                                                            "m.id "
                                                                                            "AND "
                                                                                            "r."
                                                                                            "bucket"
                                                                                            " >= "
                                                                                            "?1 "
                                                                                            "AND "
                                                                                            "r."
                                                                                            "bucket"
                                                                                            " < ?1 "
                                                                                            "+ "
                                                                                            "3600 "
                                                                                            "WHERE "
                                                                                            "m.id "
                                                                                            ">= ?2 "
                                                                                            "AND "
                                                                                            "m.id "
                                                                                            "< ?3 "
                                                                                            "GROUP "
                                                                                            "BY "
                                                                                            "r."
                                                                                            "miner_"
                                                                                            "id",
#undef WAVG
    [W_FLEET_1H] =
        "INSERT OR REPLACE INTO fleet_1h (bucket, minutes, hashrate_ths, power_w, miners) "
        "SELECT ?1, count(*), avg(hashrate_ths), avg(power_w), max(miners) "
        "FROM fleet_1m WHERE bucket >= ?1 AND bucket < ?1 + 3600 HAVING count(*) > 0",
    [W_MAX_MINER_ID] = "SELECT max(id) FROM miners",
    [W_MIN_SAMPLE_T] = "SELECT min(t) FROM samples",
    [W_MAX_SAMPLE_T] = "SELECT max(t) FROM samples",
    [W_NEXT_SAMPLE_T] = "SELECT min(t) FROM samples WHERE t >= ?1",
    /* Rows are inserted in time order, so the lowest ids are the oldest.
     * Rollups are reached miner by miner through their primary key: CROSS
     * JOIN keeps SQLite from scanning the whole rollup table instead. */
    [W_OLDEST_SAMPLES] = "SELECT id, t FROM samples ORDER BY id LIMIT ?1",
    [W_PRUNE_CHAINS] = "DELETE FROM chains WHERE sample_id <= ?1",
    [W_PRUNE_SAMPLES] = "DELETE FROM samples WHERE id <= ?1",
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

gboolean
am_sqlite_write_prepare(AmSqliteStore *store, GError **error)
{
  return am_sqlite_prepare_all(store->wdb, write_sql, store->w, W_N_STATEMENTS, error);
}

void
am_sqlite_miner_free(AmSqliteMiner *miner)
{
  for (gsize i = 0; i < G_N_ELEMENTS(miner->identity); i++)
    g_free(miner->identity[i]);
  g_free(miner->pools_signature);
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
  }
  return miner_update_identity(store, m, s, error) ? m : NULL;
}

/* Packs readings as little-endian float32 into @buf; returns the byte count. */
static int
pack_readings(GArray *values, guint32 *buf)
{
  guint n = MIN(values->len, MAX_READINGS);
  for (guint i = 0; i < n; i++) {
    float f = (float)g_array_index(values, double, i);
    guint32 bits;
    memcpy(&bits, &f, sizeof bits);
    buf[i] = GUINT32_TO_LE(bits);
  }
  return (int)(n * sizeof(guint32));
}

static void
bind_readings(sqlite3_stmt *st, int index, GArray *values, guint32 *buf)
{
  int bytes = pack_readings(values, buf);
  if (bytes > 0)
    sqlite3_bind_blob(st, index, buf, bytes, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, index);
}

static gboolean
insert_sample(AmSqliteStore *store, const AmSample *s, gint64 miner_id, gint64 t_ms, GError **error)
{
  guint32 temps[MAX_READINGS], chips[MAX_READINGS], fans[MAX_READINGS];
  sqlite3_stmt *st = store->w[W_SAMPLE_INSERT];
  sqlite3_bind_int64(st, 1, miner_id);
  sqlite3_bind_int64(st, 2, t_ms);
  sqlite3_bind_int(st, 3, s->status);
  am_sqlite_bind_double(st, 4, s->hashrate_ths);
  am_sqlite_bind_double(st, 5, s->hashrate_avg_ths);
  am_sqlite_bind_double(st, 6, s->hashrate_ideal_ths);
  am_sqlite_bind_double(st, 7, s->power_w);
  sqlite3_bind_int(st, 8, s->power_source);
  am_sqlite_bind_count(st, 9, s->elapsed_s);
  am_sqlite_bind_double(st, 10, s->temp_max_c);
  am_sqlite_bind_double(st, 11, s->avg_temp_c);
  am_sqlite_bind_double(st, 12, s->avg_fan_rpm);
  am_sqlite_bind_double(st, 13, s->efficiency_jth);
  am_sqlite_bind_count(st, 14, s->accepted);
  am_sqlite_bind_count(st, 15, s->rejected);
  am_sqlite_bind_count(st, 16, s->hw_errors);
  bind_readings(st, 17, s->temps_c, temps);
  bind_readings(st, 18, s->chip_temps_c, chips);
  bind_readings(st, 19, s->fans_rpm, fans);
  return am_sqlite_step_done(store->wdb, st, error, "adding a sample");
}

static gboolean
insert_chains(AmSqliteStore *store, const AmSample *s, gint64 sample_id, GError **error)
{
  sqlite3_stmt *st = store->w[W_CHAIN_INSERT];
  for (guint i = 0; i < s->chains->len; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    sqlite3_bind_int64(st, 1, sample_id);
    sqlite3_bind_int(st, 2, c->index);
    am_sqlite_bind_double(st, 3, c->hashrate_ths);
    am_sqlite_bind_count(st, 4, c->chips);
    am_sqlite_bind_count(st, 5, c->chips_expected);
    am_sqlite_bind_count(st, 6, c->chips_ok);
    am_sqlite_bind_count(st, 7, c->chips_failed);
    am_sqlite_bind_count(st, 8, c->hw_errors);
    am_sqlite_bind_double(st, 9, c->temp_board_c);
    am_sqlite_bind_double(st, 10, c->temp_chip_c);
    am_sqlite_bind_double(st, 11, c->power_w);
    if (!am_sqlite_step_done(store->wdb, st, error, "adding a chain"))
      return FALSE;
  }
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
mark_seen(AmSqliteStore *store, gint64 miner_id, gint64 t_ms, gint64 sample_id, GError **error)
{
  sqlite3_stmt *st = store->w[W_MINER_SEEN];
  sqlite3_bind_int64(st, 1, miner_id);
  sqlite3_bind_int64(st, 2, t_ms);
  sqlite3_bind_int64(st, 3, sample_id);
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
  if (m == NULL || !insert_sample(store, s, m->id, t_ms, error))
    return FALSE;
  gint64 sample_id = sqlite3_last_insert_rowid(store->wdb);
  return insert_chains(store, s, sample_id, error) && insert_pools(store, m, s, t_ms, error) &&
         mark_seen(store, m->id, t_ms, sample_id, error);
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
}

/* The store's clock is the newest sample time it has written; a sample
 * from a collector clock far in the future must not prune the database. */
static void
advance_clock(AmSqliteStore *store, gint64 newest_ms)
{
  gint64 limit_ms = g_get_real_time() / 1000 + 24 * 3600 * 1000;
  store->progress.now_ms = MAX(store->progress.now_ms, MIN(newest_ms, limit_ms));
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
  if (!write_all(store, samples, n_samples, events, n_events, error) ||
      !am_sqlite_step_done(store->wdb, store->w[W_COMMIT], error, "committing")) {
    abort_batch(store);
    /* The rewind was saved in the failed transaction: reload it. */
    am_sqlite_rollup_load(store, NULL);
    return FALSE;
  }
  if (has_samples)
    advance_clock(store, newest);
  /* The batch is safe; maintenance problems are reported, not failed on. */
  g_autoptr(GError) local = NULL;
  if (!am_sqlite_rollup_step(store, n_samples, &local))
    g_warning("[%s] rollup or pruning failed (will retry after the next batch): %s", store->group,
              local->message);
  return TRUE;
}
