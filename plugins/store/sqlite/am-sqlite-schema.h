/* The store's schema: versioned with PRAGMA user_version, created and
 * upgraded by forward migrations at start. A database written by a newer
 * antmon is refused and left untouched. */
#pragma once

#include "am-sqlite-store.h"

G_BEGIN_DECLS

/* The schema version this antmon writes. */
#define AM_SQLITE_SCHEMA_VERSION 4
/* PRAGMA application_id of an antmon database: "antm". */
#define AM_SQLITE_APPLICATION_ID 0x616e746d

/* Looks at @path without writing to it: absent or empty (version 0), an
 * antmon database of a version this antmon can use (its version), or a
 * clear AM_ERROR_FAILED for a file that is not SQLite, belongs to another
 * application or was written by a newer antmon. */
gboolean am_sqlite_schema_inspect(const char *path, int *version_out, GError **error);

/* Brings @db from @from_version to AM_SQLITE_SCHEMA_VERSION, one
 * transaction per step. */
gboolean am_sqlite_schema_migrate(sqlite3 *db, int from_version, GError **error);

G_END_DECLS
