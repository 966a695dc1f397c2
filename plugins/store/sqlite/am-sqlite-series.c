/* A miner's series and the fleet's totals.
 *
 * History is kept at three resolutions: raw samples (raw_retention), and
 * per-minute and per-hour rollups (rollup_1m_retention,
 * rollup_1h_retention). A query with a step reads the coarsest resolution
 * whose bucket fits in the step (or the finest one still kept for its
 * range), so a month at
 * one-hour steps reads ~720 rows, not a million. The newest minutes and
 * hours are not rolled up yet, so the time range is cut into bands at the
 * rollup progress marks: hours before done_1h from rollup_1h, minutes
 * before done_1m from rollup_1m, the rest from raw samples. One statement
 * reads the bands and averages them per step, weighting each row by the
 * samples (or minutes) behind it. */
#include "am-sqlite-query.h"
#include <math.h>

/* The plugin ABI 1.2 series (samples_x and its rollups) have rows only for
 * miners that report them, so they are LEFT JOINed and averaged with
 * their own weight xn. */
#define X_RAW_COLUMNS                                                                              \
  "x.power_limit_w, x.water_in_dc / 10.0, x.water_out_dc / 10.0, x.psu_in_w, x.psu_out_w, "        \
  "x.voltage_mv / 1000.0, x.frequency_dmhz / 10.0"

/* ?1 miner, ?2 step, ?3..?4 hour band, ?5..?6 minute band (s),
 * ?7..?8 raw band (ms), ?9 rows, ?10 first bucket wanted. */
#define WAVG(x) "sum(" x " * n) / sum(iif(" x " IS NULL, NULL, n))"
#define XAVG(x) ", sum(" x " * xn) / sum(iif(" x " IS NULL, NULL, xn))"
#define ROLLUP_BAND(r, x, lo, hi)                                                                  \
  "  SELECT (r.bucket / ?2) * ?2 AS b, r.n AS n, r.hashrate_avg AS hr, r.power_avg AS pw, "        \
  "r.elapsed_s AS el, r.tavg_avg AS ta, r.fan_avg AS fa, r.tmax_avg AS tm, x.n AS xn, "            \
  "x.power_limit_w AS pl, x.water_in_c AS wi, x.water_out_c AS wo, x.psu_in_w AS pi, "             \
  "x.psu_out_w AS po, x.voltage_v AS vo, x.frequency_mhz AS fq"                                    \
  "    FROM " r " r LEFT JOIN " x " x ON x.miner_id = r.miner_id AND x.bucket = r.bucket"          \
  "    WHERE r.miner_id = ?1 AND r.bucket >= " lo " AND r.bucket < " hi
// clang-format off
static const char series_sql[] =
    "SELECT b, " WAVG("hr") ", " WAVG("pw") ", max(el), " WAVG("ta") ", " WAVG("fa") ", "
    WAVG("tm") XAVG("pl") XAVG("wi") XAVG("wo") XAVG("pi") XAVG("po") XAVG("vo") XAVG("fq")
    " FROM ("
    ROLLUP_BAND("rollup_1h", "rollup_x_1h", "?3", "?4")
    "  UNION ALL"
    ROLLUP_BAND("rollup_1m", "rollup_x_1m", "?5", "?6")
    "  UNION ALL"
    "  SELECT (s.t / 1000 / ?2) * ?2, 1, s.hashrate_ghs / 1000.0, s.power_w, s.elapsed_s, "
    "s.temp_avg_dc / 10.0, s.fan_avg_rpm, s.temp_max_dc / 10.0, iif(x.t IS NULL, NULL, 1), "
    X_RAW_COLUMNS
    "    FROM samples s LEFT JOIN samples_x x ON x.miner_id = s.miner_id AND x.t = s.t"
    "    WHERE s.miner_id = ?1 AND s.t >= ?7 AND s.t < ?8"
    ") GROUP BY b HAVING b >= ?10 ORDER BY b LIMIT ?9";
// clang-format on
#undef ROLLUP_BAND
#undef XAVG
#undef WAVG

/* ?1 miner, ?2 from (ms), ?3 until (ms), ?4 1 to skip the row at ?2 (the
 * last one of the page before), ?5 rows. A miner has one row per ms. */
static const char series_raw_sql[] =
    "SELECT 0, s.t, s.hashrate_ghs / 1000.0, s.power_w, s.elapsed_s, s.temp_avg_dc / 10.0, "
    "s.fan_avg_rpm, s.temp_max_dc / 10.0, " X_RAW_COLUMNS ", s.detail "
    "FROM samples s LEFT JOIN samples_x x ON x.miner_id = s.miner_id AND x.t = s.t "
    "WHERE s.miner_id = ?1 AND s.t >= ?2 AND s.t < ?3 "
    "AND NOT (s.t = ?2 AND ?4) ORDER BY s.t LIMIT ?5";
#undef X_RAW_COLUMNS

/* Columns of both statements after the bucket or time: the six of every
 * version, then the series of plugin ABI 1.2 in series_names order, then
 * (raw rows only) the packed detail. */
#define N_BASE_COLUMNS 6
static const char *const series_names[] = {
    "power_limit_w",   "water_temp_in_c", "water_temp_out_c",    "psu_power_in_w",
    "psu_power_out_w", "chain_voltage_v", "chain_frequency_mhz",
};
#define N_SERIES_COLUMNS (N_BASE_COLUMNS + (int)G_N_ELEMENTS(series_names))

/* The fleet: per minute the sum of each miner's average, per step the
 * average of those minute totals. ?1 step, ?2..?7 bands as above, ?8 rows,
 * ?9 first bucket wanted. */
#define WAVG(x) "sum(" x " * w) / sum(iif(" x " IS NULL, NULL, w))"
static const char fleet_sql[] = "SELECT b, " WAVG("hr") ", " WAVG(
    "pw") ", max(mn) FROM ("
          "  SELECT (bucket / ?1) * ?1 AS b, minutes AS w, hashrate_ths AS hr, power_w AS pw,"
          "    miners AS mn FROM fleet_1h WHERE bucket >= ?2 AND bucket < ?3"
          "  UNION ALL"
          "  SELECT (bucket / ?1) * ?1, 1, hashrate_ths, power_w, miners"
          "    FROM fleet_1m WHERE bucket >= ?4 AND bucket < ?5"
          "  UNION ALL"
          "  SELECT (mb / ?1) * ?1, 1, sum(h), sum(p), count(*) FROM ("
          "    SELECT s.miner_id, (s.t / 60000) * 60 AS mb, avg(s.hashrate_ghs / 1000.0) AS h,"
          "    avg(s.power_w) AS p FROM miners m CROSS JOIN samples s"
          "    ON s.miner_id = m.id AND s.t >= ?6 AND s.t < ?7 GROUP BY s.miner_id, mb) GROUP BY mb"
          ") GROUP BY b HAVING b >= ?9 ORDER BY b LIMIT ?8";
#undef WAVG

gboolean
am_sqlite_series_prepare(AmSqliteStore *store, GError **error)
{
  const struct {
    AmSqliteReadStmt which;
    const char *sql;
  } statements[] = {
      {R_SERIES_STEP, series_sql}, {R_SERIES_RAW, series_raw_sql}, {R_FLEET, fleet_sql}};
  for (gsize i = 0; i < G_N_ELEMENTS(statements); i++)
    if (sqlite3_prepare_v3(store->rdb, statements[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                           &store->r[statements[i].which], NULL) != SQLITE_OK)
      return am_sqlite_fail(store->rdb, error, "preparing the history queries");
  return TRUE;
}

typedef enum {
  RES_RAW = 1,
  RES_1M = AM_SQLITE_MINUTE,
  RES_1H = AM_SQLITE_HOUR,
} Resolution;

static const char *
resolution_name(Resolution res)
{
  return res == RES_1H ? "1h" : res == RES_1M ? "1m" : "raw";
}

/* Time bands in epoch seconds: [h_lo, h_hi) hours, [m_lo, m_hi) minutes,
 * [r_lo, r_hi) raw. An empty band has lo >= hi. */
typedef struct {
  gint64 h_lo, h_hi, m_lo, m_hi, r_lo, r_hi;
} Bands;

static gint64
floor_to(gint64 value, gint64 unit)
{
  return value >= 0 ? value / unit * unit : -((-value + unit - 1) / unit) * unit;
}

/* Splits [@lo, @hi) (seconds) by the rollup marks. Rollup buckets are
 * taken whole: @lo is rounded down to the resolution. At minute
 * resolution, the hours whose minutes are past rollup_1m_retention come
 * from the hour rollups: the finest resolution still kept, for each part
 * of the range. */
static Bands
split_bands(AmSqliteStore *store, Resolution res, gint64 lo, gint64 hi, const AmSqliteMarks *marks)
{
  Bands bands = {0};
  gint64 start = res == RES_RAW ? lo : floor_to(lo, res);
  gint64 minutes_from = marks->now_ms / 1000 - store->rollup_1m_retention_s;
  gint64 hours_until =
      res == RES_1H   ? marks->done_1h
      : res == RES_1M ? MIN(marks->done_1h, floor_to(minutes_from, AM_SQLITE_HOUR) + AM_SQLITE_HOUR)
                      : start;
  gint64 cut_h = MAX(start, MIN(hi, hours_until));
  gint64 cut_m = res == RES_RAW ? start : MAX(cut_h, MIN(hi, marks->done_1m));
  bands.h_lo = start, bands.h_hi = cut_h;
  bands.m_lo = cut_h, bands.m_hi = cut_m;
  bands.r_lo = MAX(lo, cut_m), bands.r_hi = hi;
  return bands;
}

/* The coarsest resolution whose bucket fits in @step; raw data that has
 * already been pruned is read from the minute rollups instead (and minutes
 * already pruned from the hour rollups: see split_bands). */
static Resolution
choose_resolution(AmSqliteStore *store, gint64 step, gint64 since_s, const AmSqliteMarks *m)
{
  if (step >= AM_SQLITE_HOUR)
    return RES_1H;
  if (step >= AM_SQLITE_MINUTE)
    return RES_1M;
  gint64 raw_from = m->now_ms / 1000 - store->raw_retention_s;
  return since_s < raw_from ? RES_1M : RES_RAW;
}

/* ---- series ------------------------------------------------------------ */

/* The miner named by address ("host:port") or host; 0 when unknown. */
static gboolean
find_miner(AmSqliteStore *store, const char *key, gint64 *id, char **host, GError **error)
{
  *id = 0;
  AmSqliteReadStmt which[] = {R_MINER_BY_ADDRESS, R_MINER_BY_HOST};
  for (gsize i = 0; i < G_N_ELEMENTS(which) && *id == 0; i++) {
    sqlite3_stmt *st = store->r[which[i]];
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      *id = sqlite3_column_int64(st, 0);
      *host = g_strdup((const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return am_sqlite_fail(store->rdb, error, "series: finding the miner");
  }
  return TRUE;
}

static void
add_sample_fields(JsonBuilder *b, sqlite3_stmt *st, int first, const char *host)
{
  json_builder_set_member_name(b, "miner_ip");
  json_builder_add_string_value(b, host);
  am_sqlite_add_double(b, "hashrate_ths", st, first);
  am_sqlite_add_double(b, "power_w", st, first + 1);
  am_sqlite_add_int(b, "elapsed_s", st, first + 2);
  am_sqlite_add_double(b, "avg_temp_c", st, first + 3);
  am_sqlite_add_double(b, "avg_fan_rpm", st, first + 4);
  am_sqlite_add_double(b, "temp_max_c", st, first + 5);
  for (gsize i = 0; i < G_N_ELEMENTS(series_names); i++)
    am_sqlite_add_double(b, series_names[i], st, first + N_BASE_COLUMNS + (int)i);
}

/* ---- the packed detail of raw rows -------------------------------------- */

/* Decodes the details of one miner's rows read in time order: a delta
 * frame's base is nearly always the row before, kept here; any other is
 * read with R_DETAIL. */
typedef struct {
  AmSqliteStore *store;
  gint64 miner;
  AmSqliteDetail *last;
  gint64 last_t;
} DetailCursor;

static AmSqliteDetail *
cursor_decode(DetailCursor *c, gint64 t, const guint8 *blob, gsize len, GError **error)
{
  gint64 dt = 0;
  g_autoptr(AmSqliteDetail) loaded = NULL;
  const AmSqliteDetail *base = NULL;
  if (am_sqlite_detail_is_delta(blob, len, &dt)) {
    if (c->last != NULL && c->last_t == t - dt) {
      base = c->last;
    } else {
      sqlite3_stmt *st = c->store->r[R_DETAIL];
      loaded = am_sqlite_load_detail(c->store->rdb, st, c->miner, t - dt, error);
      sqlite3_clear_bindings(st);
      if (loaded == NULL)
        return NULL;
      base = loaded;
    }
  }
  AmSqliteDetail *d = am_sqlite_detail_unpack(blob, len, base, error);
  if (d != NULL) {
    g_clear_pointer(&c->last, am_sqlite_detail_free);
    c->last = am_sqlite_detail_copy(d);
    c->last_t = t;
  }
  return d;
}

static void
add_count(JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name(b, name);
  if (value > AM_UNKNOWN)
    json_builder_add_int_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
add_number(JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name(b, name);
  if (isfinite(value))
    json_builder_add_double_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
add_string(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

/* The fields of plugin ABI 1.2 that are not series, from the sample's
 * packed detail (null where unknown, or when it cannot be decoded). */
static void
add_detail_fields(JsonBuilder *b, const AmSqliteDetail *d)
{
  g_autoptr(AmSample) s = am_sample_new();
  if (d != NULL)
    am_sqlite_detail_to_sample(d, s);
  gint64 errors[4] = {AM_UNKNOWN, AM_UNKNOWN, AM_UNKNOWN, AM_UNKNOWN};
  for (guint i = 0; i < s->errors->len; i++) {
    const AmMinerError *e = s->errors->pdata[i];
    errors[e->severity] = MAX(errors[e->severity], 0) + 1;
  }
  for (guint i = 0; i < 4 && s->errors->len > 0; i++)
    errors[i] = MAX(errors[i], 0);
  add_string(b, "mining", am_mining_state_name(s->mining));
  add_string(b, "work_mode", s->work_mode);
  add_number(b, "psu_fan_rpm", s->psu_fan_rpm);
  add_number(b, "best_share", s->best_share);
  add_count(b, "found_blocks", s->found_blocks);
  json_builder_set_member_name(b, "partial");
  if (d != NULL)
    json_builder_add_boolean_value(b, s->partial);
  else
    json_builder_add_null_value(b);
  add_count(b, "errors_error", errors[AM_ERROR_SEVERITY_ERROR]);
  add_count(b, "errors_warning", errors[AM_ERROR_SEVERITY_WARNING]);
  add_count(b, "errors_info", errors[AM_ERROR_SEVERITY_INFO]);
  add_count(b, "errors_unknown", errors[AM_ERROR_SEVERITY_UNKNOWN]);
}

/* Adds the detail fields of the raw row of @st at time @t. A detail that
 * cannot be decoded leaves them null (the row's columns still stand). */
static void
add_raw_detail(JsonBuilder *b, DetailCursor *c, sqlite3_stmt *st, gint64 t)
{
  int col = 2 + N_SERIES_COLUMNS;
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSqliteDetail) d = cursor_decode(c, t, sqlite3_column_blob(st, col),
                                              (gsize)sqlite3_column_bytes(st, col), &error);
  if (d == NULL) {
    g_warning("[%s] series: the sample of miner %" G_GINT64_FORMAT " at %" G_GINT64_FORMAT
              " ms: %s",
              c->store->group, c->miner, t, error->message);
    g_clear_pointer(&c->last, am_sqlite_detail_free);
  }
  add_detail_fields(b, d);
}

/* Raw rows, oldest first, paged by (time, id). */
static gboolean
series_raw_rows(AmSqliteStore *store, const AmSqliteArgs *args, gint64 miner, const char *host,
                JsonBuilder *b, char **next, GError **error)
{
  gint64 cursor_t = 0, cursor_id = 0;
  gboolean paged = FALSE;
  if (!am_sqlite_arg_cursor(args, 'r', &cursor_t, &cursor_id, &paged, error))
    return FALSE;
  sqlite3_stmt *st = store->r[R_SERIES_RAW];
  gboolean resume = paged && cursor_t >= args->since_ms;
  sqlite3_bind_int64(st, 1, miner);
  sqlite3_bind_int64(st, 2, resume ? cursor_t : args->since_ms);
  sqlite3_bind_int64(st, 3, args->until_ms);
  sqlite3_bind_int(st, 4, resume ? 1 : 0);
  sqlite3_bind_int64(st, 5, (gint64)args->limit + 1);
  guint n = 0;
  gint64 last_t = 0;
  DetailCursor cursor = {store, miner, NULL, 0};
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (++n > args->limit) {
      *next = g_strdup_printf("r-%" G_GINT64_FORMAT "-0", last_t);
      break;
    }
    last_t = sqlite3_column_int64(st, 1);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "time");
    json_builder_add_double_value(b, last_t / 1000.0);
    add_sample_fields(b, st, 2, host);
    add_raw_detail(b, &cursor, st, last_t);
    json_builder_end_object(b);
  }
  am_sqlite_detail_free(cursor.last);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return am_sqlite_fail(store->rdb, error, "series");
  return TRUE;
}

/* Reads bucket rows of @st (column 0 the bucket); the caller adds the rest
 * of each row with @add_row. Returns the next page's cursor in @next. */
typedef void (*AddRowFunc)(JsonBuilder *b, sqlite3_stmt *st, gconstpointer data);

static gboolean
bucket_rows(AmSqliteStore *store, sqlite3_stmt *st, guint limit, JsonBuilder *b, AddRowFunc add,
            gconstpointer data, char **next, GError **error)
{
  guint n = 0;
  gint64 last = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (++n > limit) {
      *next = g_strdup_printf("b-%" G_GINT64_FORMAT, last);
      break;
    }
    last = sqlite3_column_int64(st, 0);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "time");
    json_builder_add_int_value(b, last);
    add(b, st, data);
    json_builder_end_object(b);
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return am_sqlite_fail(store->rdb, error, "reading history");
  return TRUE;
}

static void
add_series_row(JsonBuilder *b, sqlite3_stmt *st, gconstpointer host)
{
  add_sample_fields(b, st, 1, host);
}

/* Where a page starts: @start_s is the time to read from, @min_bucket the
 * first bucket to report (after the cursor's, on later pages). */
static gboolean
step_start(const AmSqliteArgs *args, gint64 step, gint64 *start_s, gint64 *min_bucket,
           GError **error)
{
  gint64 after = 0;
  gboolean paged = FALSE;
  if (!am_sqlite_arg_cursor(args, 'b', &after, NULL, &paged, error))
    return FALSE;
  *start_s = floor_to(args->since_ms, 1000) / 1000;
  *min_bucket = G_MININT64;
  if (paged) {
    *start_s = MAX(*start_s, after + step);
    *min_bucket = after + step;
  }
  return TRUE;
}

static void
bind_bands(sqlite3_stmt *st, int first, const Bands *bands)
{
  sqlite3_bind_int64(st, first, bands->h_lo);
  sqlite3_bind_int64(st, first + 1, bands->h_hi);
  sqlite3_bind_int64(st, first + 2, bands->m_lo);
  sqlite3_bind_int64(st, first + 3, bands->m_hi);
  sqlite3_bind_int64(st, first + 4, bands->r_lo * 1000);
  sqlite3_bind_int64(st, first + 5, bands->r_hi * 1000);
}

/* Until, in whole seconds rounded up (an open end stays open). */
static gint64
until_s(const AmSqliteArgs *args)
{
  return (args->until_ms + 999) / 1000;
}

static gboolean
series_step_rows(AmSqliteStore *store, const AmSqliteArgs *args, gint64 step, Resolution res,
                 const AmSqliteMarks *marks, gint64 miner, const char *host, JsonBuilder *b,
                 char **next, GError **error)
{
  gint64 start = 0, min_bucket = 0;
  if (!step_start(args, step, &start, &min_bucket, error))
    return FALSE;
  Bands bands = split_bands(store, res, start, until_s(args), marks);
  sqlite3_stmt *st = store->r[R_SERIES_STEP];
  sqlite3_bind_int64(st, 1, miner);
  sqlite3_bind_int64(st, 2, step);
  bind_bands(st, 3, &bands);
  sqlite3_bind_int64(st, 9, (gint64)args->limit + 1);
  sqlite3_bind_int64(st, 10, min_bucket);
  return bucket_rows(store, st, args->limit, b, add_series_row, host, next, error);
}

static JsonNode *
finish_result(JsonBuilder *b, const char *next, Resolution res)
{
  json_builder_end_array(b);
  am_sqlite_add_cursor(b, next);
  json_builder_set_member_name(b, "resolution");
  json_builder_add_string_value(b, resolution_name(res));
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *
am_sqlite_query_series(AmSqliteStore *store, const AmSqliteArgs *args, GError **error)
{
  const char *key = am_sqlite_arg(args, "miner");
  gint64 step = 0, miner = 0;
  g_autofree char *host = NULL;
  AmSqliteMarks marks = {0};
  if (key == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED,
                "series: the miner parameter is required (an address host:port or a host)");
    return NULL;
  }
  if (!am_sqlite_arg_step(args, &step, error) || !am_sqlite_read_marks(store, &marks, error) ||
      !find_miner(store, key, &miner, &host, error))
    return NULL;
  Resolution res =
      step == 0 ? RES_RAW : choose_resolution(store, step, args->since_ms / 1000, &marks);

  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree char *next = NULL;
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "rows");
  json_builder_begin_array(b);
  gboolean ok = TRUE;
  if (miner != 0 && step == 0)
    ok = series_raw_rows(store, args, miner, host, b, &next, error);
  else if (miner != 0)
    ok = series_step_rows(store, args, step, res, &marks, miner, host, b, &next, error);
  return ok ? finish_result(b, next, res) : NULL;
}

/* ---- fleet ------------------------------------------------------------- */

static void
add_fleet_row(JsonBuilder *b, sqlite3_stmt *st, gconstpointer data)
{
  (void)data;
  am_sqlite_add_double(b, "hashrate_ths", st, 1);
  am_sqlite_add_double(b, "power_w", st, 2);
  am_sqlite_add_int(b, "miners", st, 3);
}

/* Fleet totals exist per minute at the finest; without a step, a day or
 * less is shown per minute and anything longer per hour. */
static gint64
fleet_step(const AmSqliteArgs *args, gint64 step)
{
  if (step == 0) {
    gboolean short_range = args->until_ms - args->since_ms <= 24 * 3600 * 1000LL;
    return short_range ? AM_SQLITE_MINUTE : AM_SQLITE_HOUR;
  }
  return MAX(step, AM_SQLITE_MINUTE);
}

JsonNode *
am_sqlite_query_fleet(AmSqliteStore *store, const AmSqliteArgs *args, GError **error)
{
  gint64 step = 0, start = 0, min_bucket = 0;
  AmSqliteMarks marks = {0};
  if (!am_sqlite_arg_step(args, &step, error) || !am_sqlite_read_marks(store, &marks, error))
    return NULL;
  step = fleet_step(args, step);
  Resolution res = step >= AM_SQLITE_HOUR ? RES_1H : RES_1M;
  if (!step_start(args, step, &start, &min_bucket, error))
    return NULL;
  Bands bands = split_bands(store, res, start, until_s(args), &marks);
  sqlite3_stmt *st = store->r[R_FLEET];
  sqlite3_bind_int64(st, 1, step);
  bind_bands(st, 2, &bands);
  sqlite3_bind_int64(st, 8, (gint64)args->limit + 1);
  sqlite3_bind_int64(st, 9, min_bucket);

  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree char *next = NULL;
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "rows");
  json_builder_begin_array(b);
  if (!bucket_rows(store, st, args->limit, b, add_fleet_row, NULL, &next, error))
    return NULL;
  return finish_result(b, next, res);
}
