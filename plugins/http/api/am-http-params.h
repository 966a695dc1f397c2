/* Query strings and parameters of the HTTP API.
 *
 * Pure: no I/O and no clock (callers pass "now"), so the table tests and the
 * libFuzzer harness drive every function here directly. Every failure is an
 * AM_ERROR_PARSE whose message names the parameter and what was expected, as
 * the API repeats it to the user in a 400 reply. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Longest query string and value the API reads; anything longer is refused
 * rather than half-parsed. */
#define AM_HTTP_QUERY_MAX 4096
#define AM_HTTP_VALUE_MAX 256

/* Decodes an application/x-www-form-urlencoded query ("a=1&b=x%20y", '+'
 * is a space). Refuses bad %-escapes, NUL bytes, invalid UTF-8, empty or
 * repeated names, and more than 32 parameters. @query may be NULL (empty).
 * Returns: (transfer full) name -> value, or NULL with @error. */
GHashTable *am_http_query_parse(const char *query, GError **error);

/* Fails (AM_ERROR_UNSUPPORTED) naming the first parameter of @query that is
 * not in @allowed (NULL-terminated), so a typo ("sice=") is a 400, not
 * silently ignored. */
gboolean am_http_query_check_names(GHashTable *query, const char *const *allowed,
                                   const char **bad_name, GError **error);

/* A point in time, as epoch seconds: "1732442400" (epoch, fraction
 * dropped), "2026-11-24" (midnight UTC), "2026-11-24T10:00:00" (no zone:
 * UTC), with "Z" or an offset ("+02:00", "-0500"). A space where an
 * offset's '+' belongs (an unencoded '+' in a URL) is read as '+'. Times
 * before 1970 or after 9999 are refused. */
gboolean am_http_parse_time(const char *name, const char *text, gint64 *out_s, GError **error);

/* A positive whole count; over @max it is lowered to @max (the cap). */
gboolean am_http_parse_limit(const char *name, const char *text, guint max, guint *out,
                             GError **error);

/* A resolution: "60", "30s", "5m", "1h", "1d"; 1 s to 31 d, whole seconds. */
gboolean am_http_parse_step(const char *name, const char *text, guint *out_s, GError **error);

/* A paging cursor as the store hands it out: 1 to 128 characters of
 * [A-Za-z0-9._:=-]. The API passes it back unchanged. */
gboolean am_http_parse_cursor(const char *name, const char *text, GError **error);

/* A miner key: "host", "host:port", "[v6]:port" or a configured name; 1 to
 * 255 printable characters without spaces, quotes, '/' or '\\'. */
gboolean am_http_parse_miner_key(const char *name, const char *text, GError **error);

/* ---- /api/miners: filters and sort -------------------------------------- */

typedef enum {
  AM_HTTP_SORT_HOST = 0,
  AM_HTTP_SORT_NAME,
  AM_HTTP_SORT_STATE,
  AM_HTTP_SORT_MODEL,
  AM_HTTP_SORT_HASHRATE,
  AM_HTTP_SORT_IDEAL,
  AM_HTTP_SORT_RATIO, /* hashrate / ideal */
  AM_HTTP_SORT_TEMP,
  AM_HTTP_SORT_FAN,
  AM_HTTP_SORT_POWER,
  AM_HTTP_SORT_EFFICIENCY,
  AM_HTTP_SORT_UPTIME,
  AM_HTTP_SORT_LAST_SEEN,
} AmHttpSortKey;

/* "host", "-hashrate", ... (a leading '-' sorts descending). The accepted
 * names are listed in the error message. */
gboolean am_http_parse_sort(const char *name, const char *text, AmHttpSortKey *key,
                            gboolean *descending, GError **error);

/* The sort key's name. (transfer none) */
const char *am_http_sort_key_name(AmHttpSortKey key);

/* Miner states as a bit mask (1 << AmHttpState): "offline" or
 * "online,degraded,paused". */
typedef enum {
  AM_HTTP_STATE_ONLINE = 0,
  AM_HTTP_STATE_DEGRADED,
  AM_HTTP_STATE_OFFLINE,
  AM_HTTP_STATE_UNREACHABLE,
  /* ABI 1.3: asleep, or paused by antmon and not resumed. Last, so the
   * numbers of the others do not change. */
  AM_HTTP_STATE_PAUSED,
  AM_HTTP_N_STATES,
} AmHttpState;

gboolean am_http_parse_states(const char *name, const char *text, guint *mask, GError **error);

/* The AmHttpState of a state name, or -1. */
int am_http_state_from_string(const char *state);
const char *am_http_state_to_string(AmHttpState state);

/* A search term (q=, model=): 1 to AM_HTTP_VALUE_MAX characters. */
gboolean am_http_parse_text(const char *name, const char *text, GError **error);

/* ---- history requests ---------------------------------------------------- */

/* The time window and paging common to /api/metrics, /api/fleet and
 * /api/events, checked and with defaults filled in. */
typedef struct {
  gint64 since_s;
  gint64 until_s;
  guint step_s; /* 0: the store chooses */
  guint limit;  /* 0 when the request takes none */
  char *cursor; /* or NULL */
  char *miner;  /* ip= / miner=, or NULL */
  char *kind;   /* events only, or NULL */
} AmHttpHistory;

void am_http_history_clear(AmHttpHistory *h);

/* What one endpoint accepts. */
typedef struct {
  const char *miner_param; /* "ip" or "miner", or NULL */
  gboolean step;
  gboolean paged; /* limit= and cursor= */
  gboolean kind;  /* kind= (events) */
  guint default_limit;
  guint max_limit;
  gint64 default_span_s; /* since defaults to until - this */
} AmHttpHistorySpec;

/* Reads @query against @spec at @now_s. On failure *@bad_name is the
 * parameter to blame (static or owned by @query). */
gboolean am_http_history_parse(GHashTable *query, const AmHttpHistorySpec *spec, gint64 now_s,
                               AmHttpHistory *out, const char **bad_name, GError **error);

/* The store's parameters for @h: epoch seconds as decimal strings.
 * Returns: (transfer full) char* -> char*. */
GHashTable *am_http_history_to_store_params(const AmHttpHistory *h);

/* The API error code for a bad parameter @name that failed with @error:
 * "unknown_parameter", "invalid_time", "invalid_limit", "invalid_sort",
 * "invalid_cursor" or "invalid_parameter". (transfer none) */
const char *am_http_param_error_code(const char *name, const GError *error);

G_END_DECLS
