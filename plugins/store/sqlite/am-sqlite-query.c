/* Queries on the read-only connection: dispatch, parameters, cursors, and
 * the simple ones (latest, events, alert_state, stats). Series and fleet
 * totals are in am-sqlite-series.c.
 *
 * Each query runs in one read transaction, so it sees one consistent
 * snapshot even while the writer commits. Parameters are checked before
 * any SQL runs and always bound, never pasted into SQL. */
#include "am-sqlite-query.h"
#include <math.h>
#include <string.h>

/* The statements of this file; am-sqlite-series.c prepares its own. */
static const char *const read_sql[R_N_STATEMENTS] = {
    [R_BEGIN] = "BEGIN",
    [R_COMMIT] = "COMMIT",
    [R_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    /* The store's clock, saved by the writer with each batch. */
    [R_NOW] = "SELECT value FROM meta WHERE key = 'clock_ms'",
    [R_MINER_BY_ADDRESS] = "SELECT id, host FROM miners WHERE address = ?1",
    [R_MINER_BY_HOST] =
        "SELECT id, host FROM miners WHERE host = ?1 ORDER BY last_seen DESC LIMIT 1",
    [R_LATEST] = "SELECT m.address, s.t, s.hashrate_ghs / 1000.0, s.power_w, "
                 "s.temp_max_dc / 10.0, s.temp_avg_dc / 10.0, s.fan_avg_rpm, s.elapsed_s, m.model "
                 "FROM miners m JOIN samples s ON s.miner_id = m.id AND s.t = m.last_seen "
                 "ORDER BY m.address",
    /* A delta frame's base, when it is not the row read just before. */
    [R_DETAIL] = "SELECT detail FROM samples WHERE miner_id = ?1 AND t = ?2",
    [R_EVENTS] = "SELECT id, t, miner, kind, name, detail FROM events "
                 "WHERE t >= ?1 AND t < ?2 AND NOT (t = ?1 AND id <= ?3) "
                 "AND (?4 IS NULL OR miner = ?4 OR substr(miner, 1, length(?5)) = ?5) "
                 "AND (?6 IS NULL OR kind = ?6) ORDER BY t, id LIMIT ?7",
    [R_ALERT_STATE] = "SELECT miner, rule, t, detail FROM alert_state ORDER BY miner, rule",
};

gboolean
am_sqlite_query_prepare(AmSqliteStore *store, GError **error)
{
  return am_sqlite_prepare_all(store->rdb, read_sql, store->r, R_N_STATEMENTS, error) &&
         am_sqlite_series_prepare(store, error);
}

/* ---- parameters -------------------------------------------------------- */

const char *
am_sqlite_arg(const AmSqliteArgs *args, const char *key)
{
  if (args->params == NULL)
    return NULL;
  const char *value = g_hash_table_lookup(args->params, key);
  return value != NULL && *value != '\0' ? value : NULL;
}

static gboolean
bad_arg(const AmSqliteArgs *args, const char *key, const char *expected, GError **error)
{
  g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "%s: %s=%s: expected %s", args->query, key,
              am_sqlite_arg(args, key), expected);
  return FALSE;
}

/* Epoch seconds, with a fraction if wanted, as milliseconds. */
static gboolean
arg_time(const AmSqliteArgs *args, const char *key, gint64 fallback, gint64 *out, GError **error)
{
  const char *text = am_sqlite_arg(args, key);
  *out = fallback;
  if (text == NULL)
    return TRUE;
  char *end = NULL;
  double seconds = g_ascii_strtod(text, &end);
  if (end == text || *end != '\0' || !isfinite(seconds) || fabs(seconds) > 1e12)
    return bad_arg(args, key, "a time in epoch seconds", error);
  *out = (gint64)llround(seconds * 1000.0);
  return TRUE;
}

static gboolean
arg_uint(const AmSqliteArgs *args, const char *key, guint64 fallback, guint64 min, guint64 max,
         guint64 *out, GError **error)
{
  const char *text = am_sqlite_arg(args, key);
  *out = fallback;
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned(text, 10, min, max, out, NULL)) {
    g_autofree char *expected = g_strdup_printf(
        "a whole number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, min, max);
    return bad_arg(args, key, expected, error);
  }
  return TRUE;
}

gboolean
am_sqlite_args_init(AmSqliteArgs *args, const char *query, GHashTable *params, guint default_limit,
                    GError **error)
{
  *args = (AmSqliteArgs){.query = query, .params = params};
  guint64 limit = 0;
  if (!arg_time(args, "since", 0, &args->since_ms, error) ||
      !arg_time(args, "until", G_MAXINT64 / 2, &args->until_ms, error) ||
      !arg_uint(args, "limit", default_limit, 1, G_MAXUINT32, &limit, error))
    return FALSE;
  /* More rows than this come page by page: next_cursor says where to go on. */
  args->limit = (guint)MIN(limit, AM_SQLITE_MAX_LIMIT);
  return TRUE;
}

gboolean
am_sqlite_arg_step(const AmSqliteArgs *args, gint64 *step, GError **error)
{
  guint64 value = 0;
  /* Up to a year: a bigger step is one bucket for the whole history. */
  if (!arg_uint(args, "step", 0, 0, 366 * 24 * 3600, &value, error))
    return FALSE;
  *step = (gint64)value;
  return TRUE;
}

gboolean
am_sqlite_arg_cursor(const AmSqliteArgs *args, char prefix, gint64 *a, gint64 *b, gboolean *present,
                     GError **error)
{
  const char *text = am_sqlite_arg(args, "cursor");
  *present = text != NULL;
  if (text == NULL)
    return TRUE;
  g_auto(GStrv) parts = g_strsplit(text, "-", 3);
  guint n = g_strv_length(parts);
  gboolean ok = n == (b != NULL ? 3u : 2u) && parts[0][0] == prefix && parts[0][1] == '\0' &&
                g_ascii_string_to_signed(parts[1], 10, 0, G_MAXINT64, a, NULL) &&
                (b == NULL || g_ascii_string_to_signed(parts[2], 10, 0, G_MAXINT64, b, NULL));
  if (!ok)
    return bad_arg(args, "cursor", "the next_cursor of an earlier page of this query", error);
  return TRUE;
}

void
am_sqlite_add_cursor(JsonBuilder *b, const char *cursor)
{
  json_builder_set_member_name(b, "next_cursor");
  if (cursor != NULL)
    json_builder_add_string_value(b, cursor);
  else
    json_builder_add_null_value(b);
}

/* ---- the read transaction ---------------------------------------------- */

static gboolean
read_meta(AmSqliteStore *store, const char *key, gint64 *out, GError **error)
{
  sqlite3_stmt *st = store->r[R_META_GET];
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return am_sqlite_fail(store->rdb, error, "reading the rollup progress");
  return TRUE;
}

gboolean
am_sqlite_read_marks(AmSqliteStore *store, AmSqliteMarks *marks, GError **error)
{
  sqlite3_stmt *st = store->r[R_NOW];
  int rc = sqlite3_step(st);
  marks->now_ms = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return am_sqlite_fail(store->rdb, error, "reading the newest sample");
  return read_meta(store, "rollup_1m_done", &marks->done_1m, error) &&
         read_meta(store, "rollup_1h_done", &marks->done_1h, error);
}

/* ---- latest ------------------------------------------------------------ */

static void
add_time_ms(JsonBuilder *b, sqlite3_stmt *st, int col)
{
  json_builder_set_member_name(b, "time");
  json_builder_add_double_value(b, sqlite3_column_int64(st, col) / 1000.0);
}

static JsonNode *
query_latest(AmSqliteStore *store, GError **error)
{
  sqlite3_stmt *st = store->r[R_LATEST];
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "rows");
  json_builder_begin_array(b);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    json_builder_begin_object(b);
    am_sqlite_add_text(b, "miner", st, 0);
    add_time_ms(b, st, 1);
    am_sqlite_add_double(b, "hashrate_ths", st, 2);
    am_sqlite_add_double(b, "power_w", st, 3);
    am_sqlite_add_double(b, "temp_max_c", st, 4);
    am_sqlite_add_double(b, "avg_temp_c", st, 5);
    am_sqlite_add_double(b, "avg_fan_rpm", st, 6);
    am_sqlite_add_int(b, "elapsed_s", st, 7);
    am_sqlite_add_text(b, "model", st, 8);
    json_builder_end_object(b);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    am_sqlite_fail(store->rdb, error, "latest");
    return NULL;
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- events ------------------------------------------------------------ */

/* Events name miners by address; a bare host matches every port on it. */
static char *
host_prefix(const char *miner)
{
  gboolean bare_v6 = miner[0] != '[' && strchr(miner, ':') != strrchr(miner, ':');
  return bare_v6 ? g_strdup_printf("[%s]:", miner) : g_strdup_printf("%s:", miner);
}

static void
bind_events(AmSqliteStore *store, const AmSqliteArgs *args, gint64 from_ms, gint64 after_id,
            const char *prefix)
{
  sqlite3_stmt *st = store->r[R_EVENTS];
  sqlite3_bind_int64(st, 1, from_ms);
  sqlite3_bind_int64(st, 2, args->until_ms);
  sqlite3_bind_int64(st, 3, after_id);
  am_sqlite_bind_text(st, 4, am_sqlite_arg(args, "miner"));
  am_sqlite_bind_text(st, 5, prefix);
  am_sqlite_bind_text(st, 6, am_sqlite_arg(args, "kind"));
  sqlite3_bind_int64(st, 7, (gint64)args->limit + 1);
}

/* Adds up to args->limit rows; returns the cursor of the next page (or
 * NULL), or FALSE on error. */
static gboolean
add_event_rows(AmSqliteStore *store, JsonBuilder *b, guint limit, char **next, GError **error)
{
  sqlite3_stmt *st = store->r[R_EVENTS];
  guint n = 0;
  gint64 last_t = 0, last_id = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (++n > limit) {
      *next = g_strdup_printf("e-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT, last_t, last_id);
      break;
    }
    last_id = sqlite3_column_int64(st, 0);
    last_t = sqlite3_column_int64(st, 1);
    json_builder_begin_object(b);
    add_time_ms(b, st, 1);
    am_sqlite_add_text(b, "miner", st, 2);
    am_sqlite_add_text(b, "kind", st, 3);
    am_sqlite_add_text(b, "name", st, 4);
    am_sqlite_add_text(b, "detail", st, 5);
    json_builder_end_object(b);
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return am_sqlite_fail(store->rdb, error, "events");
  return TRUE;
}

static JsonNode *
query_events(AmSqliteStore *store, const AmSqliteArgs *args, GError **error)
{
  gint64 cursor_t = 0, cursor_id = 0;
  gboolean paged = FALSE;
  if (!am_sqlite_arg_cursor(args, 'e', &cursor_t, &cursor_id, &paged, error))
    return NULL;
  const char *miner = am_sqlite_arg(args, "miner");
  g_autofree char *prefix = miner != NULL ? host_prefix(miner) : NULL;
  bind_events(store, args, paged ? MAX(cursor_t, args->since_ms) : args->since_ms,
              paged && cursor_t >= args->since_ms ? cursor_id : 0, prefix);

  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree char *next = NULL;
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "rows");
  json_builder_begin_array(b);
  if (!add_event_rows(store, b, args->limit, &next, error))
    return NULL;
  json_builder_end_array(b);
  am_sqlite_add_cursor(b, next);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- alert_state ------------------------------------------------------- */

static JsonNode *
query_alert_state(AmSqliteStore *store, GError **error)
{
  sqlite3_stmt *st = store->r[R_ALERT_STATE];
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "rows");
  json_builder_begin_array(b);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    json_builder_begin_object(b);
    am_sqlite_add_text(b, "miner", st, 0);
    am_sqlite_add_text(b, "rule", st, 1);
    add_time_ms(b, st, 2);
    am_sqlite_add_text(b, "detail", st, 3);
    json_builder_end_object(b);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) {
    am_sqlite_fail(store->rdb, error, "alert_state");
    return NULL;
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- dispatch ---------------------------------------------------------- */

static JsonNode *
run_query(AmSqliteStore *store, const char *query, GHashTable *params, GError **error)
{
  AmSqliteArgs args;
  guint default_limit = g_str_equal(query, "fleet") ? AM_SQLITE_MAX_LIMIT : AM_SQLITE_DEFAULT_LIMIT;
  if (!am_sqlite_args_init(&args, query, params, default_limit, error))
    return NULL;
  if (g_str_equal(query, "latest"))
    return query_latest(store, error);
  if (g_str_equal(query, "series"))
    return am_sqlite_query_series(store, &args, error);
  if (g_str_equal(query, "fleet"))
    return am_sqlite_query_fleet(store, &args, error);
  if (g_str_equal(query, "events"))
    return query_events(store, &args, error);
  if (g_str_equal(query, "stats"))
    return am_sqlite_stats_json(store);
  return query_alert_state(store, error);
}

static gboolean
known_query(const char *query)
{
  static const char *const names[] = {"latest", "series",      "fleet",
                                      "events", "alert_state", "stats"};
  for (gsize i = 0; query != NULL && i < G_N_ELEMENTS(names); i++)
    if (g_str_equal(query, names[i]))
      return TRUE;
  return FALSE;
}

JsonNode *
am_sqlite_query(AmSqliteStore *store, const char *query, GHashTable *params, GError **error)
{
  if (!known_query(query)) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED,
                "unknown query '%s': expected latest, series, fleet, events, alert_state or stats",
                query != NULL ? query : "(null)");
    return NULL;
  }
  if (!am_sqlite_step_done(store->rdb, store->r[R_BEGIN], error, "starting a read"))
    return NULL;
  JsonNode *result = run_query(store, query, params, error);
  /* A read transaction: ending it cannot lose anything. */
  am_sqlite_step_done(store->rdb, store->r[R_COMMIT], NULL, "ending a read");
  return result;
}
