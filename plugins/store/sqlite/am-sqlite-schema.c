/* Schema versions and forward migrations.
 *
 * Each entry of `migrations` takes the database from version i to i + 1 and
 * is never edited once released: a new change is a new entry. Times are
 * integers: milliseconds for raw rows (samples, pools, events), seconds for
 * rollup buckets. Doubles that are unknown are NULL.
 *
 * A migration is SQL, optionally followed by C code (convert) and more
 * SQL, all in one transaction. */
#include "am-sqlite-schema.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Version 1: the first schema. */
static const char schema_v1[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;\n"
    /* One row per miner address; identity columns follow its latest sample. */
    "CREATE TABLE miners (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  address TEXT NOT NULL UNIQUE,\n"
    "  host TEXT NOT NULL,\n"
    "  port INTEGER NOT NULL,\n"
    "  mac TEXT, serial TEXT, hostname TEXT, model TEXT, driver TEXT,\n"
    "  firmware TEXT, firmware_version TEXT, algorithm TEXT,\n"
    "  first_seen INTEGER NOT NULL,\n"
    "  last_seen INTEGER NOT NULL,\n"
    "  last_sample_id INTEGER);\n"
    "CREATE INDEX miners_host ON miners (host, last_seen);\n"
    /* Raw samples. Lists of readings are little-endian float32 arrays. */
    "CREATE TABLE samples (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  miner_id INTEGER NOT NULL,\n"
    "  t INTEGER NOT NULL,\n"
    "  status INTEGER NOT NULL,\n"
    "  hashrate_ths REAL, hashrate_avg_ths REAL, hashrate_ideal_ths REAL,\n"
    "  power_w REAL, power_source INTEGER, elapsed_s INTEGER,\n"
    "  temp_max_c REAL, avg_temp_c REAL, avg_fan_rpm REAL, efficiency_jth REAL,\n"
    "  accepted INTEGER, rejected INTEGER, hw_errors INTEGER,\n"
    "  temps_c BLOB, chip_temps_c BLOB, fans_rpm BLOB);\n"
    "CREATE INDEX samples_miner_t ON samples (miner_id, t);\n"
    "CREATE INDEX samples_t ON samples (t);\n"
    /* Per-chain values of each sample. */
    "CREATE TABLE chains (\n"
    "  sample_id INTEGER NOT NULL,\n"
    "  idx INTEGER NOT NULL,\n"
    "  hashrate_ths REAL, chips INTEGER, chips_expected INTEGER, chips_ok INTEGER,\n"
    "  chips_failed INTEGER, hw_errors INTEGER, temp_board_c REAL, temp_chip_c REAL,\n"
    "  power_w REAL,\n"
    "  PRIMARY KEY (sample_id, idx)) WITHOUT ROWID;\n"
    /* A miner's pools, written when they change and at least hourly. */
    "CREATE TABLE pools (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  miner_id INTEGER NOT NULL,\n"
    "  t INTEGER NOT NULL,\n"
    "  position INTEGER NOT NULL,\n"
    "  url TEXT, user TEXT, status TEXT, priority INTEGER, active INTEGER,\n"
    "  accepted INTEGER, rejected INTEGER, stale INTEGER);\n"
    "CREATE INDEX pools_miner_t ON pools (miner_id, t);\n"
    /* State changes and alerts. miner is the address ("host:port"). */
    "CREATE TABLE events (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  t INTEGER NOT NULL,\n"
    "  miner TEXT,\n"
    "  kind TEXT NOT NULL,\n"
    "  name TEXT,\n"
    "  detail TEXT);\n"
    "CREATE INDEX events_t ON events (t);\n"
    /* Per-miner aggregates of one minute / one hour (bucket = its start). */
    "CREATE TABLE rollup_1m (\n"
    "  miner_id INTEGER NOT NULL, bucket INTEGER NOT NULL,\n"
    "  n INTEGER NOT NULL, up REAL NOT NULL,\n"
    "  hashrate_min REAL, hashrate_avg REAL, hashrate_max REAL,\n"
    "  power_min REAL, power_avg REAL, power_max REAL,\n"
    "  tmax_min REAL, tmax_avg REAL, tmax_max REAL,\n"
    "  tavg_min REAL, tavg_avg REAL, tavg_max REAL,\n"
    "  fan_min REAL, fan_avg REAL, fan_max REAL,\n"
    "  elapsed_s INTEGER,\n"
    "  PRIMARY KEY (miner_id, bucket)) WITHOUT ROWID;\n"
    "CREATE TABLE rollup_1h (\n"
    "  miner_id INTEGER NOT NULL, bucket INTEGER NOT NULL,\n"
    "  n INTEGER NOT NULL, up REAL NOT NULL,\n"
    "  hashrate_min REAL, hashrate_avg REAL, hashrate_max REAL,\n"
    "  power_min REAL, power_avg REAL, power_max REAL,\n"
    "  tmax_min REAL, tmax_avg REAL, tmax_max REAL,\n"
    "  tavg_min REAL, tavg_avg REAL, tavg_max REAL,\n"
    "  fan_min REAL, fan_avg REAL, fan_max REAL,\n"
    "  elapsed_s INTEGER,\n"
    "  PRIMARY KEY (miner_id, bucket)) WITHOUT ROWID;\n"
    /* Fleet totals: per minute, the sum over miners of each one's average;
     * per hour, the average of those minute totals over @minutes minutes. */
    "CREATE TABLE fleet_1m (\n"
    "  bucket INTEGER PRIMARY KEY,\n"
    "  hashrate_ths REAL, power_w REAL, miners INTEGER NOT NULL);\n"
    "CREATE TABLE fleet_1h (\n"
    "  bucket INTEGER PRIMARY KEY,\n"
    "  minutes INTEGER NOT NULL,\n"
    "  hashrate_ths REAL, power_w REAL, miners INTEGER NOT NULL);\n";

/* Version 2: the alerts still raised, kept up to date by the writer so the
 * answer does not depend on how far back events are kept. */
static const char schema_v2[] =
    "CREATE TABLE alert_state (\n"
    "  miner TEXT NOT NULL, rule TEXT NOT NULL, t INTEGER NOT NULL, detail TEXT,\n"
    "  PRIMARY KEY (miner, rule)) WITHOUT ROWID;\n"
    "CREATE INDEX events_kind ON events (kind, t);\n"
    "INSERT INTO alert_state (miner, rule, t, detail)\n"
    "  SELECT e.miner, e.name, e.t, e.detail FROM events e\n"
    "  WHERE e.kind = 'alert' AND e.miner IS NOT NULL AND e.name IS NOT NULL\n"
    "    AND e.id = (SELECT max(x.id) FROM events x\n"
    "                WHERE x.kind = 'alert' AND x.miner = e.miner AND x.name = e.name)\n"
    "    AND json_valid(e.detail) AND json_extract(e.detail, '$.state') = 'raised';\n";

/* Version 3: leaner raw samples (issue 10: the file was ~64 MB per miner).
 * One row per sample in a WITHOUT ROWID table keyed (miner_id, t), with no
 * index on time: the columns the queries read are scaled integers (GH/s,
 * 0.1 degC, RPM; whole W), everything else is one packed blob per sample,
 * most often a delta of the miner's sample before it (am-sqlite-pack.h).
 * The chains table goes into those blobs. The old rows are converted by
 * convert_v3() between the two halves. The store's clock moves to meta. */
static const char schema_v3[] =
    "CREATE TABLE samples_v3 (\n"
    "  miner_id INTEGER NOT NULL,\n"
    "  t INTEGER NOT NULL,\n"
    "  hashrate_ghs REAL, power_w REAL,\n"
    "  temp_max_dc INTEGER, temp_avg_dc INTEGER, fan_avg_rpm INTEGER, elapsed_s INTEGER,\n"
    "  detail BLOB NOT NULL,\n"
    "  PRIMARY KEY (miner_id, t)) WITHOUT ROWID;\n";

static const char schema_v3_after[] =
    "DROP TABLE chains;\n"
    "DROP TABLE samples;\n"
    "ALTER TABLE samples_v3 RENAME TO samples;\n"
    /* last_seen is now how "latest" finds a miner's newest row. */
    "UPDATE miners SET last_sample_id = NULL, last_seen = coalesce(\n"
    "  (SELECT max(s.t) FROM samples s WHERE s.miner_id = miners.id), last_seen);\n"
    "INSERT OR REPLACE INTO meta (key, value)\n"
    "  SELECT 'clock_ms', coalesce(max(last_seen), 0) FROM miners;\n";

/* Version 4: the plugin ABI 1.2 values worth a series (power limit,
 * coolant in and out, PSU power in and out, the chains' mean voltage and
 * frequency), in tables of their own with a row only where a miner reports
 * one of them: other miners' samples and rollups do not grow by a byte.
 * Raw values are scaled like the samples' columns (0.1 degC, mV, 0.1 MHz);
 * rollups are in the API's units. The rest of the new fields is in the
 * samples' packed detail (format version 2). */
#define ROLLUP_X_COLUMNS                                                                           \
  "  miner_id INTEGER NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL,\n"                    \
  "  power_limit_w REAL, water_in_c REAL, water_out_c REAL, psu_in_w REAL, psu_out_w REAL,\n"      \
  "  voltage_v REAL, frequency_mhz REAL,\n"                                                        \
  "  PRIMARY KEY (miner_id, bucket)) WITHOUT ROWID;\n"
static const char schema_v4[] =
    "CREATE TABLE samples_x (\n"
    "  miner_id INTEGER NOT NULL,\n"
    "  t INTEGER NOT NULL,\n"
    "  power_limit_w REAL, water_in_dc INTEGER, water_out_dc INTEGER,\n"
    "  psu_in_w REAL, psu_out_w REAL, voltage_mv INTEGER, frequency_dmhz INTEGER,\n"
    "  PRIMARY KEY (miner_id, t)) WITHOUT ROWID;\n"
    "CREATE TABLE rollup_x_1m (\n" ROLLUP_X_COLUMNS "CREATE TABLE rollup_x_1h (\n" ROLLUP_X_COLUMNS;
#undef ROLLUP_X_COLUMNS

typedef struct {
  const char *sql;
  /* Run after @sql in the same transaction, when not NULL. */
  gboolean (*convert)(sqlite3 *db, GError **error);
  const char *sql_after;
} Migration;

static gboolean convert_v3(sqlite3 *db, GError **error);

static const Migration migrations[AM_SQLITE_SCHEMA_VERSION] = {
    {schema_v1, NULL, NULL},
    {schema_v2, NULL, NULL},
    {schema_v3, convert_v3, schema_v3_after},
    {schema_v4, NULL, NULL},
};

/* ---- version 3: converting raw samples ---------------------------------- */

enum {
  V2_MINER,
  V2_T,
  V2_STATUS,
  V2_HASHRATE,
  V2_HASHRATE_AVG,
  V2_HASHRATE_IDEAL,
  V2_POWER,
  V2_POWER_SOURCE,
  V2_ELAPSED,
  V2_TEMP_MAX,
  V2_AVG_TEMP,
  V2_AVG_FAN,
  V2_EFFICIENCY,
  V2_ACCEPTED,
  V2_REJECTED,
  V2_HW_ERRORS,
  V2_TEMPS,
  V2_CHIP_TEMPS,
  V2_FANS,
  V2_ID,
};

static double
column_double(sqlite3_stmt *st, int col)
{
  return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

static gint64
column_count(sqlite3_stmt *st, int col)
{
  return sqlite3_column_type(st, col) == SQLITE_NULL ? AM_UNKNOWN : sqlite3_column_int64(st, col);
}

/* Version 2 lists: little-endian float32 arrays. */
static void
column_readings(sqlite3_stmt *st, int col, GArray *out)
{
  const guint8 *blob = sqlite3_column_blob(st, col);
  int n = sqlite3_column_bytes(st, col) / 4;
  for (int i = 0; blob != NULL && i < n && i < AM_SQLITE_MAX_READINGS; i++) {
    guint32 bits;
    memcpy(&bits, blob + 4 * i, sizeof bits);
    bits = GUINT32_FROM_LE(bits);
    float f;
    memcpy(&f, &bits, sizeof f);
    double v = f;
    g_array_append_val(out, v);
  }
}

/* A version 2 sample row (and its chains) as an AmSample. */
static AmSample *
sample_from_v2(sqlite3_stmt *row, sqlite3_stmt *chains)
{
  AmSample *s = am_sample_new();
  s->status = (AmSampleStatus)sqlite3_column_int(row, V2_STATUS);
  s->hashrate_ths = column_double(row, V2_HASHRATE);
  s->hashrate_avg_ths = column_double(row, V2_HASHRATE_AVG);
  s->hashrate_ideal_ths = column_double(row, V2_HASHRATE_IDEAL);
  s->power_w = column_double(row, V2_POWER);
  s->power_source = (AmPowerSource)sqlite3_column_int(row, V2_POWER_SOURCE);
  s->elapsed_s = column_count(row, V2_ELAPSED);
  s->temp_max_c = column_double(row, V2_TEMP_MAX);
  s->avg_temp_c = column_double(row, V2_AVG_TEMP);
  s->avg_fan_rpm = column_double(row, V2_AVG_FAN);
  s->efficiency_jth = column_double(row, V2_EFFICIENCY);
  s->accepted = column_count(row, V2_ACCEPTED);
  s->rejected = column_count(row, V2_REJECTED);
  s->hw_errors = column_count(row, V2_HW_ERRORS);
  column_readings(row, V2_TEMPS, s->temps_c);
  column_readings(row, V2_CHIP_TEMPS, s->chip_temps_c);
  column_readings(row, V2_FANS, s->fans_rpm);
  sqlite3_bind_int64(chains, 1, sqlite3_column_int64(row, V2_ID));
  while (sqlite3_step(chains) == SQLITE_ROW) {
    AmChain *c = am_sample_add_chain(s, sqlite3_column_int(chains, 0));
    c->hashrate_ths = column_double(chains, 1);
    c->chips = (gint)column_count(chains, 2);
    c->chips_expected = (gint)column_count(chains, 3);
    c->chips_ok = (gint)column_count(chains, 4);
    c->chips_failed = (gint)column_count(chains, 5);
    c->hw_errors = column_count(chains, 6);
    c->temp_board_c = column_double(chains, 7);
    c->temp_chip_c = column_double(chains, 8);
    c->power_w = column_double(chains, 9);
  }
  sqlite3_reset(chains);
  return s;
}

/* Every version 2 sample, miner by miner in time order, into samples_v3:
 * each miner's samples become key and delta frames as the writer makes
 * them. */
static gboolean
convert_v3(sqlite3 *db, GError **error)
{
  static const char *const sql[] = {
      "SELECT miner_id, t, status, hashrate_ths, hashrate_avg_ths, hashrate_ideal_ths, power_w, "
      "power_source, elapsed_s, temp_max_c, avg_temp_c, avg_fan_rpm, efficiency_jth, accepted, "
      "rejected, hw_errors, temps_c, chip_temps_c, fans_rpm, id FROM samples "
      "ORDER BY miner_id, t, id",
      "SELECT idx, hashrate_ths, chips, chips_expected, chips_ok, chips_failed, hw_errors, "
      "temp_board_c, temp_chip_c, power_w FROM chains WHERE sample_id = ?1 ORDER BY idx",
      "INSERT INTO samples_v3 (miner_id, t, hashrate_ghs, power_w, temp_max_dc, temp_avg_dc, "
      "fan_avg_rpm, elapsed_s, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
  };
  sqlite3_stmt *st[G_N_ELEMENTS(sql)] = {NULL};
  if (!am_sqlite_prepare_all(db, sql, st, G_N_ELEMENTS(sql), error))
    return FALSE;
  AmSqlitePackState state = {0};
  g_autoptr(GByteArray) scratch = g_byte_array_new();
  gint64 miner = -1, rows = 0;
  gboolean ok = TRUE;
  int rc;
  while (ok && (rc = sqlite3_step(st[0])) == SQLITE_ROW) {
    gint64 miner_id = sqlite3_column_int64(st[0], V2_MINER);
    if (miner_id != miner) {
      am_sqlite_pack_state_clear(&state);
      miner = miner_id;
    }
    gint64 t_ms = sqlite3_column_int64(st[0], V2_T);
    g_autoptr(AmSample) s = sample_from_v2(st[0], st[1]);
    ok = am_sqlite_insert_sample(db, st[2], s, miner_id, &t_ms, &state, scratch, error);
    rows++;
  }
  if (ok && rc != SQLITE_DONE)
    ok = am_sqlite_fail(db, error, "reading the version 2 samples");
  am_sqlite_pack_state_clear(&state);
  am_sqlite_finalize_all(st, G_N_ELEMENTS(st));
  if (ok && rows > 0)
    g_message("converted %" G_GINT64_FORMAT " raw samples to the version 3 encoding", rows);
  return ok;
}

/* Reads one integer PRAGMA (fixed text). */
static gboolean
pragma_int(sqlite3 *db, const char *path, const char *sql, int *out, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
    *out = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "%s: cannot read the database: %s", path,
                sqlite3_errmsg(db));
    return FALSE;
  }
  return TRUE;
}

/* An existing file is either empty (a database SQLite has yet to write) or
 * starts with SQLite's 16-byte magic header. */
static gboolean
looks_like_sqlite(const char *path, gboolean *empty, GError **error)
{
  char head[16];
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int saved = errno;
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "cannot read %s: %s", path, g_strerror(saved));
    return FALSE;
  }
  size_t len = fread(head, 1, sizeof head, f);
  fclose(f);
  *empty = len == 0;
  if (len > 0 && (len < sizeof head || memcmp(head, "SQLite format 3", 16) != 0)) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED,
                "%s is not an SQLite database: move it away or set path= to another file", path);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_owner(const char *path, sqlite3 *db, int version, GError **error)
{
  int app_id = 0, tables = 0;
  if (!pragma_int(db, path, "PRAGMA application_id", &app_id, error) ||
      !pragma_int(db, path, "SELECT count(*) FROM sqlite_master", &tables, error))
    return FALSE;
  if (app_id == 0 && version == 0 && tables == 0)
    return TRUE; /* a new, empty database */
  if ((guint32)app_id != AM_SQLITE_APPLICATION_ID) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED,
                "%s is an SQLite database of another application (application_id 0x%08x, "
                "%d tables): set path= to another file",
                path, (guint32)app_id, tables);
    return FALSE;
  }
  if (version > AM_SQLITE_SCHEMA_VERSION) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED,
                "%s was written by a newer antmon (schema version %d; this antmon knows "
                "versions up to %d): upgrade antmon or set path= to another file; the file "
                "was not changed",
                path, version, AM_SQLITE_SCHEMA_VERSION);
    return FALSE;
  }
  return TRUE;
}

gboolean
am_sqlite_schema_inspect(const char *path, int *version_out, GError **error)
{
  *version_out = 0;
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return TRUE;
  gboolean empty = FALSE;
  if (!looks_like_sqlite(path, &empty, error))
    return FALSE;
  if (empty)
    return TRUE;
  /* Read-only, so that a database we refuse is never modified (not even by
   * a WAL checkpoint when we close it). */
  sqlite3 *db = am_sqlite_open(path, SQLITE_OPEN_READONLY, error);
  if (db == NULL)
    return FALSE;
  int version = 0;
  gboolean ok = pragma_int(db, path, "PRAGMA user_version", &version, error) &&
                check_owner(path, db, version, error);
  sqlite3_close(db);
  /* A WAL database on a read-only mount cannot even be read without its
   * shared-memory file: say what is wrong, not what failed. */
  if (!ok && access(path, W_OK) != 0) {
    g_clear_error(error);
    return am_sqlite_fail_read_only(path, error);
  }
  if (!ok)
    return FALSE;
  *version_out = version;
  return TRUE;
}

static gboolean
migrate_one(sqlite3 *db, int to_version, GError **error)
{
  g_autofree char *set_version = g_strdup_printf("PRAGMA user_version = %d", to_version);
  g_autofree char *set_app =
      g_strdup_printf("PRAGMA application_id = %d", (int)AM_SQLITE_APPLICATION_ID);
  if (!am_sqlite_exec(db, "BEGIN IMMEDIATE", error))
    return FALSE;
  const Migration *m = &migrations[to_version - 1];
  if (am_sqlite_exec(db, m->sql, error) && (m->convert == NULL || m->convert(db, error)) &&
      (m->sql_after == NULL || am_sqlite_exec(db, m->sql_after, error)) &&
      am_sqlite_exec(db, set_app, error) && am_sqlite_exec(db, set_version, error) &&
      am_sqlite_exec(db, "COMMIT", error))
    return TRUE;
  am_sqlite_exec(db, "ROLLBACK", NULL);
  g_prefix_error(error, "upgrading the schema to version %d: ", to_version);
  return FALSE;
}

gboolean
am_sqlite_schema_migrate(sqlite3 *db, int from_version, GError **error)
{
  for (int v = from_version + 1; v <= AM_SQLITE_SCHEMA_VERSION; v++) {
    if (!migrate_one(db, v, error))
      return FALSE;
    if (from_version > 0)
      g_message("database upgraded to schema version %d", v);
  }
  return TRUE;
}
