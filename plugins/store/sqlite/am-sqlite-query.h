/* Shared by the query files: parameters, cursors, watermarks. */
#pragma once

#include "am-sqlite-store.h"

G_BEGIN_DECLS

#define AM_SQLITE_DEFAULT_LIMIT 1000
#define AM_SQLITE_MAX_LIMIT 100000

/* One query's arguments, read and checked before any SQL runs. Times are
 * epoch milliseconds; an absent since is the beginning of time and an
 * absent until has no end. */
typedef struct {
  const char *query;
  GHashTable *params;
  gint64 since_ms;
  gint64 until_ms;
  guint limit;
} AmSqliteArgs;

/* Reads since, until and limit (default @default_limit). */
gboolean am_sqlite_args_init(AmSqliteArgs *args, const char *query, GHashTable *params,
                             guint default_limit, GError **error);

/* The string parameter @key, or NULL. (transfer none) */
const char *am_sqlite_arg(const AmSqliteArgs *args, const char *key);

/* "step": whole seconds; 0 when absent. */
gboolean am_sqlite_arg_step(const AmSqliteArgs *args, gint64 *step, GError **error);

/* Parses "cursor" as "<prefix>-<a>[-<b>]": FALSE with an error naming the
 * parameter when it is not one this query made. *@present is FALSE (and
 * nothing is read) when the query has no cursor. */
gboolean am_sqlite_arg_cursor(const AmSqliteArgs *args, char prefix, gint64 *a, gint64 *b,
                              gboolean *present, GError **error);

/* Progress of the rollups as the reader's snapshot sees it (epoch s), and
 * the store's clock (newest sample, ms). */
typedef struct {
  gint64 done_1m;
  gint64 done_1h;
  gint64 now_ms;
} AmSqliteMarks;

gboolean am_sqlite_read_marks(AmSqliteStore *store, AmSqliteMarks *marks, GError **error);

/* Adds "next_cursor": @cursor or null. */
void am_sqlite_add_cursor(JsonBuilder *b, const char *cursor);

/* Prepares the series and fleet statements (am-sqlite-series.c). */
gboolean am_sqlite_series_prepare(AmSqliteStore *store, GError **error);

JsonNode *am_sqlite_query_series(AmSqliteStore *store, const AmSqliteArgs *args, GError **error);
JsonNode *am_sqlite_query_fleet(AmSqliteStore *store, const AmSqliteArgs *args, GError **error);

G_END_DECLS
