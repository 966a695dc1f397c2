/* Schema versions and forward migrations.
 *
 * Each entry of `migrations` takes the database from version i to i + 1 and
 * is never edited once released: a new change is a new entry. Times are
 * integers: milliseconds for raw rows (samples, pools, events), seconds for
 * rollup buckets. Doubles that are unknown are NULL. */
#include "am-sqlite-schema.h"
#include <errno.h>
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

static const char *const migrations[AM_SQLITE_SCHEMA_VERSION] = {schema_v1, schema_v2};

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
  if (am_sqlite_exec(db, migrations[to_version - 1], error) && am_sqlite_exec(db, set_app, error) &&
      am_sqlite_exec(db, set_version, error) && am_sqlite_exec(db, "COMMIT", error))
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
