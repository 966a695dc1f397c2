/* Small helpers around the SQLite C API: errors, statements, bindings. */
#include "am-sqlite-store.h"
#include <math.h>

gboolean
am_sqlite_fail(sqlite3 *db, GError **error, const char *what)
{
  g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "%s: %s", what,
              db != NULL ? sqlite3_errmsg(db) : "out of memory");
  return FALSE;
}

gboolean
am_sqlite_exec(sqlite3 *db, const char *sql, GError **error)
{
  char *message = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &message) == SQLITE_OK)
    return TRUE;
  g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "%s", message != NULL ? message : "failed");
  sqlite3_free(message);
  return FALSE;
}

gboolean
am_sqlite_prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **stmts, guint n,
                      GError **error)
{
  for (guint i = 0; i < n; i++) {
    if (sql[i] == NULL) /* prepared elsewhere */
      continue;
    /* PERSISTENT: these live as long as the connection. */
    if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i], NULL) !=
        SQLITE_OK) {
      g_autofree char *what = g_strdup_printf("preparing statement %u", i);
      return am_sqlite_fail(db, error, what);
    }
  }
  return TRUE;
}

void
am_sqlite_finalize_all(sqlite3_stmt **stmts, guint n)
{
  for (guint i = 0; i < n; i++)
    g_clear_pointer(&stmts[i], sqlite3_finalize);
}

gboolean
am_sqlite_step_done(sqlite3 *db, sqlite3_stmt *stmt, GError **error, const char *what)
{
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    ;
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc != SQLITE_DONE)
    return am_sqlite_fail(db, error, what);
  return TRUE;
}

void
am_sqlite_bind_double(sqlite3_stmt *stmt, int index, double value)
{
  if (isfinite(value))
    sqlite3_bind_double(stmt, index, value);
  else
    sqlite3_bind_null(stmt, index);
}

void
am_sqlite_bind_count(sqlite3_stmt *stmt, int index, gint64 value)
{
  if (value > AM_UNKNOWN)
    sqlite3_bind_int64(stmt, index, value);
  else
    sqlite3_bind_null(stmt, index);
}

void
am_sqlite_bind_text(sqlite3_stmt *stmt, int index, const char *value)
{
  if (value != NULL)
    sqlite3_bind_text(stmt, index, value, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(stmt, index);
}

void
am_sqlite_add_double(JsonBuilder *b, const char *name, sqlite3_stmt *stmt, int col)
{
  json_builder_set_member_name(b, name);
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
    json_builder_add_null_value(b);
  else
    json_builder_add_double_value(b, sqlite3_column_double(stmt, col));
}

void
am_sqlite_add_int(JsonBuilder *b, const char *name, sqlite3_stmt *stmt, int col)
{
  json_builder_set_member_name(b, name);
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
    json_builder_add_null_value(b);
  else
    json_builder_add_int_value(b, sqlite3_column_int64(stmt, col));
}

void
am_sqlite_add_text(JsonBuilder *b, const char *name, sqlite3_stmt *stmt, int col)
{
  json_builder_set_member_name(b, name);
  const unsigned char *text = sqlite3_column_text(stmt, col);
  if (text == NULL)
    json_builder_add_null_value(b);
  else
    json_builder_add_string_value(b, (const char *)text);
}

sqlite3 *
am_sqlite_open(const char *path, int flags, GError **error)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, flags, NULL);
  if (rc != SQLITE_OK) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "cannot open %s: %s", path,
                db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_extended_result_codes(db, 1);
  /* The writer and a reader meet only at WAL checkpoints; wait, don't fail. */
  sqlite3_busy_timeout(db, 5000);
  return db;
}

gboolean
am_sqlite_fail_read_only(const char *path, GError **error)
{
  g_set_error(error, AM_ERROR, AM_ERROR_FAILED,
              "%s is read-only: antmon must be able to write it (check the permissions of the "
              "file and its directory, and the mount)",
              path);
  return FALSE;
}
