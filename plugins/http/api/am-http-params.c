/* Query strings and parameters of the HTTP API (pure; see the header). */
#include "am-http-params.h"

#include <antmon/config.h>
#include <antmon/error.h>
#include <string.h>

#define MAX_PARAMS 32
/* 9999-12-31T23:59:59Z: GDateTime's own upper bound. */
#define MAX_EPOCH_S G_GINT64_CONSTANT(253402300799)

/* ---- query strings ------------------------------------------------------ */

static int
hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decodes one form-encoded component of @len bytes. NULL with @error on a
 * bad escape, a NUL byte or invalid UTF-8: none can be a meaningful value,
 * and letting them through would only move the problem to whoever reads it. */
static char *
form_decode(const char *text, gsize len, GError **error)
{
  g_autoptr(GString) out = g_string_sized_new(len);
  for (gsize i = 0; i < len; i++) {
    char c = text[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      int hi = i + 1 < len ? hex_value(text[i + 1]) : -1;
      int lo = i + 2 < len ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                    "the query string has a bad %%-escape (use %%XX with two hex digits)");
        return NULL;
      }
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') {
      g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "the query string holds a NUL byte");
      return NULL;
    }
    g_string_append_c(out, c);
  }
  if (!g_utf8_validate(out->str, out->len, NULL)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "the query string is not valid UTF-8");
    return NULL;
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Adds "name=value" (or a bare "name", value "") to @params. */
static gboolean
add_pair(GHashTable *params, const char *pair, gsize len, GError **error)
{
  const char *eq = memchr(pair, '=', len);
  gsize name_len = eq != NULL ? (gsize)(eq - pair) : len;
  g_autofree char *name = form_decode(pair, name_len, error);
  if (name == NULL)
    return FALSE;
  const char *value_start = eq != NULL ? eq + 1 : pair + len;
  g_autofree char *value = form_decode(value_start, len - (gsize)(value_start - pair), error);
  if (value == NULL)
    return FALSE;
  if (*name == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "the query string has a parameter with no name");
    return FALSE;
  }
  if (strlen(value) > AM_HTTP_VALUE_MAX) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: the value is longer than %d bytes", name,
                AM_HTTP_VALUE_MAX);
    return FALSE;
  }
  if (g_hash_table_contains(params, name)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: the parameter is given more than once", name);
    return FALSE;
  }
  if (g_hash_table_size(params) >= MAX_PARAMS) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "the query string has more than %d parameters",
                MAX_PARAMS);
    return FALSE;
  }
  g_hash_table_insert(params, g_steal_pointer(&name), g_steal_pointer(&value));
  return TRUE;
}

GHashTable *
am_http_query_parse(const char *query, GError **error)
{
  g_autoptr(GHashTable) params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (query == NULL)
    return g_steal_pointer(&params);
  gsize total = strlen(query);
  if (total > AM_HTTP_QUERY_MAX) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "the query string is longer than %d bytes",
                AM_HTTP_QUERY_MAX);
    return NULL;
  }
  const char *p = query;
  while (*p != '\0') {
    const char *end = strchr(p, '&');
    gsize len = end != NULL ? (gsize)(end - p) : strlen(p);
    /* "a=1&&b=2" and a trailing '&' are harmless: skip empty pairs. */
    if (len > 0 && !add_pair(params, p, len, error))
      return NULL;
    p += len;
    if (*p == '&')
      p++;
  }
  return g_steal_pointer(&params);
}

gboolean
am_http_query_check_names(GHashTable *query, const char *const *allowed, const char **bad_name,
                          GError **error)
{
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, query);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    if (g_strv_contains(allowed, key))
      continue;
    g_autofree char *list = g_strjoinv(", ", (char **)allowed);
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "%s: unknown parameter; this endpoint takes %s", (const char *)key,
                *list != '\0' ? list : "none");
    *bad_name = key;
    return FALSE;
  }
  return TRUE;
}

/* ---- times --------------------------------------------------------------- */

static gboolean
all_digits(const char *text, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit(text[i]))
      return FALSE;
  return TRUE;
}

/* "1732442400" or "1732442400.25": whole seconds, the fraction dropped. */
static gboolean
parse_epoch(const char *text, gint64 *out_s)
{
  const char *dot = strchr(text, '.');
  gsize int_len = dot != NULL ? (gsize)(dot - text) : strlen(text);
  if (!all_digits(text, int_len) || int_len > 12)
    return FALSE;
  if (dot != NULL && !all_digits(dot + 1, strlen(dot + 1)))
    return FALSE;
  gint64 value = g_ascii_strtoll(text, NULL, 10);
  if (value > MAX_EPOCH_S)
    return FALSE;
  *out_s = value;
  return TRUE;
}

/* ISO 8601 with GLib's parser after two friendly rewrites: a bare date is
 * midnight, and a space after the time (a '+' that a URL turned into a
 * space) is the '+' it was. No zone means UTC, never local time: the
 * daemon's zone is nothing the caller can know. */
static gboolean
parse_iso8601(const char *text, gint64 *out_s)
{
  gsize len = strlen(text);
  if (len < 10 || len > 64 || !all_digits(text, 4) || text[4] != '-')
    return FALSE;
  g_autofree char *fixed = NULL;
  if (len == 10)
    fixed = g_strconcat(text, "T00:00:00Z", NULL);
  else {
    fixed = g_strdup(text);
    for (gsize i = 11; fixed[i] != '\0'; i++)
      if (fixed[i] == ' ')
        fixed[i] = '+';
  }
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(fixed, utc);
  if (dt == NULL)
    return FALSE;
  gint64 value = g_date_time_to_unix(dt);
  if (value < 0 || value > MAX_EPOCH_S)
    return FALSE;
  *out_s = value;
  return TRUE;
}

gboolean
am_http_parse_time(const char *name, const char *text, gint64 *out_s, GError **error)
{
  if (text != NULL && (parse_epoch(text, out_s) || parse_iso8601(text, out_s)))
    return TRUE;
  g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
              "%s=%s: expected a time from 1970 to 9999 as ISO 8601 (2026-11-24T10:00:00Z, "
              "an offset such as +02:00, or no zone for UTC) or epoch seconds",
              name, text != NULL ? text : "");
  return FALSE;
}

/* ---- counts, steps, cursors ------------------------------------------------ */

gboolean
am_http_parse_limit(const char *name, const char *text, guint max, guint *out, GError **error)
{
  gsize len = text != NULL ? strlen(text) : 0;
  guint64 value = 0;
  /* Digits only: "-1", "1e3", " 5" and "0x10" are all mistakes worth a 400. */
  if (all_digits(text, len)) {
    const char *p = text;
    while (*p == '0' && p[1] != '\0')
      p++;
    value = strlen(p) > 10 ? G_MAXUINT64 : g_ascii_strtoull(p, NULL, 10);
  }
  if (value == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "%s=%s: expected a whole number of rows from 1 (at most %u are returned)", name,
                text != NULL ? text : "", max);
    return FALSE;
  }
  *out = (guint)MIN(value, (guint64)max);
  return TRUE;
}

gboolean
am_http_parse_step(const char *name, const char *text, guint *out_s, GError **error)
{
  guint64 ms = 0;
  if (text != NULL && am_parse_duration_ms(text, &ms) && ms >= 1000 && ms % 1000 == 0 &&
      ms <= G_GUINT64_CONSTANT(31) * 86400 * 1000) {
    *out_s = (guint)(ms / 1000);
    return TRUE;
  }
  g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
              "%s=%s: expected a step from 1 s to 31 d in whole seconds (60, 30s, 5m, 1h, 1d)",
              name, text != NULL ? text : "");
  return FALSE;
}

static gboolean
cursor_char(char c)
{
  return g_ascii_isalnum(c) || strchr("._:=-", c) != NULL;
}

gboolean
am_http_parse_cursor(const char *name, const char *text, GError **error)
{
  gsize len = text != NULL ? strlen(text) : 0;
  gboolean ok = len > 0 && len <= 128;
  for (gsize i = 0; ok && i < len; i++)
    ok = cursor_char(text[i]);
  if (!ok)
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "%s: malformed cursor; pass back the next_cursor of the previous page unchanged",
                name);
  return ok;
}

gboolean
am_http_parse_miner_key(const char *name, const char *text, GError **error)
{
  gsize len = text != NULL ? strlen(text) : 0;
  gboolean ok = len > 0 && len <= 255;
  for (gsize i = 0; ok && i < len; i++) {
    guchar c = (guchar)text[i];
    ok = c > ' ' && c != 0x7f && strchr("\"'/\\<>", c) == NULL;
  }
  if (!ok)
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "%s: expected a miner's host, host:port or name (1 to 255 characters, no spaces)",
                name);
  return ok;
}

gboolean
am_http_parse_text(const char *name, const char *text, GError **error)
{
  gsize len = text != NULL ? strlen(text) : 0;
  if (len > 0 && len <= AM_HTTP_VALUE_MAX)
    return TRUE;
  g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: expected 1 to %d characters to search for",
              name, AM_HTTP_VALUE_MAX);
  return FALSE;
}

/* ---- sort and state filters -------------------------------------------------- */

static const char *const sort_names[] = {
    [AM_HTTP_SORT_HOST] = "host",
    [AM_HTTP_SORT_NAME] = "name",
    [AM_HTTP_SORT_STATE] = "state",
    [AM_HTTP_SORT_MODEL] = "model",
    [AM_HTTP_SORT_HASHRATE] = "hashrate",
    [AM_HTTP_SORT_IDEAL] = "ideal",
    [AM_HTTP_SORT_RATIO] = "ratio",
    [AM_HTTP_SORT_TEMP] = "temp",
    [AM_HTTP_SORT_FAN] = "fan",
    [AM_HTTP_SORT_POWER] = "power",
    [AM_HTTP_SORT_EFFICIENCY] = "efficiency",
    [AM_HTTP_SORT_UPTIME] = "uptime",
    [AM_HTTP_SORT_LAST_SEEN] = "last_seen",
};

const char *
am_http_sort_key_name(AmHttpSortKey key)
{
  return (guint)key < G_N_ELEMENTS(sort_names) ? sort_names[key] : NULL;
}

gboolean
am_http_parse_sort(const char *name, const char *text, AmHttpSortKey *key, gboolean *descending,
                   GError **error)
{
  const char *word = text != NULL && text[0] == '-' ? text + 1 : text;
  for (guint i = 0; word != NULL && i < G_N_ELEMENTS(sort_names); i++) {
    if (g_str_equal(word, sort_names[i])) {
      *key = (AmHttpSortKey)i;
      *descending = word != text;
      return TRUE;
    }
  }
  g_autoptr(GString) list = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(sort_names); i++)
    g_string_append_printf(list, "%s%s", i > 0 ? ", " : "", sort_names[i]);
  g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
              "%s=%s: unknown sort key; use one of %s, with a leading '-' for descending", name,
              text != NULL ? text : "", list->str);
  return FALSE;
}

static const char *const state_names[AM_HTTP_N_STATES] = {
    [AM_HTTP_STATE_ONLINE] = "online",   [AM_HTTP_STATE_DEGRADED] = "degraded",
    [AM_HTTP_STATE_OFFLINE] = "offline", [AM_HTTP_STATE_UNREACHABLE] = "unreachable",
    [AM_HTTP_STATE_PAUSED] = "paused",
};

int
am_http_state_from_string(const char *state)
{
  for (int i = 0; state != NULL && i < AM_HTTP_N_STATES; i++)
    if (g_str_equal(state, state_names[i]))
      return i;
  return -1;
}

const char *
am_http_state_to_string(AmHttpState state)
{
  return (guint)state < AM_HTTP_N_STATES ? state_names[state] : "unknown";
}

gboolean
am_http_parse_states(const char *name, const char *text, guint *mask, GError **error)
{
  g_auto(GStrv) words = g_strsplit(text != NULL ? text : "", ",", -1);
  guint result = 0;
  for (guint i = 0; words[i] != NULL; i++) {
    int state = am_http_state_from_string(g_strstrip(words[i]));
    if (state < 0) {
      g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                  "%s=%s: expected online, degraded, paused, offline or unreachable (several "
                  "may be joined with ',')",
                  name, text != NULL ? text : "");
      return FALSE;
    }
    result |= 1u << state;
  }
  if (result == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "%s: expected online, degraded, paused, offline or unreachable", name);
    return FALSE;
  }
  *mask = result;
  return TRUE;
}

/* ---- history requests ---------------------------------------------------------- */

void
am_http_history_clear(AmHttpHistory *h)
{
  g_clear_pointer(&h->cursor, g_free);
  g_clear_pointer(&h->miner, g_free);
  g_clear_pointer(&h->kind, g_free);
}

static const char *const event_kinds[] = {"state", "alert", "delivery", "action", NULL};

static gboolean
parse_window(GHashTable *q, const AmHttpHistorySpec *spec, gint64 now_s, AmHttpHistory *out,
             const char **bad_name, GError **error)
{
  const char *until = g_hash_table_lookup(q, "until");
  const char *since = g_hash_table_lookup(q, "since");
  out->until_s = now_s;
  if (until != NULL && !am_http_parse_time(*bad_name = "until", until, &out->until_s, error))
    return FALSE;
  out->since_s = MAX(out->until_s - spec->default_span_s, 0);
  if (since != NULL && !am_http_parse_time(*bad_name = "since", since, &out->since_s, error))
    return FALSE;
  if (out->since_s > out->until_s) {
    *bad_name = "since";
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "since is after until: nothing to return");
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_paging(GHashTable *q, const AmHttpHistorySpec *spec, AmHttpHistory *out,
             const char **bad_name, GError **error)
{
  const char *limit = g_hash_table_lookup(q, "limit");
  const char *cursor = g_hash_table_lookup(q, "cursor");
  out->limit = MIN(spec->default_limit, spec->max_limit);
  if (limit != NULL &&
      !am_http_parse_limit(*bad_name = "limit", limit, spec->max_limit, &out->limit, error))
    return FALSE;
  if (cursor != NULL && !am_http_parse_cursor(*bad_name = "cursor", cursor, error))
    return FALSE;
  out->cursor = g_strdup(cursor);
  return TRUE;
}

static gboolean
parse_filters(GHashTable *q, const AmHttpHistorySpec *spec, AmHttpHistory *out,
              const char **bad_name, GError **error)
{
  const char *miner = spec->miner_param != NULL ? g_hash_table_lookup(q, spec->miner_param) : NULL;
  if (miner != NULL && !am_http_parse_miner_key(*bad_name = spec->miner_param, miner, error))
    return FALSE;
  out->miner = g_strdup(miner);
  const char *kind = spec->kind ? g_hash_table_lookup(q, "kind") : NULL;
  if (kind != NULL && !g_strv_contains(event_kinds, kind)) {
    *bad_name = "kind";
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "kind=%s: expected state, alert, delivery or action", kind);
    return FALSE;
  }
  out->kind = g_strdup(kind);
  const char *step = spec->step ? g_hash_table_lookup(q, "step") : NULL;
  if (step != NULL && !am_http_parse_step(*bad_name = "step", step, &out->step_s, error))
    return FALSE;
  return TRUE;
}

/* The parameters @spec allows, for the unknown-name check. */
static void
allowed_names(const AmHttpHistorySpec *spec, const char **names)
{
  guint n = 0;
  names[n++] = "since";
  names[n++] = "until";
  if (spec->miner_param != NULL)
    names[n++] = spec->miner_param;
  if (spec->step)
    names[n++] = "step";
  if (spec->paged) {
    names[n++] = "limit";
    names[n++] = "cursor";
  }
  if (spec->kind)
    names[n++] = "kind";
  names[n] = NULL;
}

gboolean
am_http_history_parse(GHashTable *query, const AmHttpHistorySpec *spec, gint64 now_s,
                      AmHttpHistory *out, const char **bad_name, GError **error)
{
  const char *names[10];
  *out = (AmHttpHistory){0};
  allowed_names(spec, names);
  if (!am_http_query_check_names(query, names, bad_name, error))
    return FALSE;
  gboolean ok = parse_window(query, spec, now_s, out, bad_name, error) &&
                parse_filters(query, spec, out, bad_name, error) &&
                (!spec->paged || parse_paging(query, spec, out, bad_name, error));
  if (!ok)
    am_http_history_clear(out);
  return ok;
}

static void
put_int(GHashTable *params, const char *key, gint64 value)
{
  g_hash_table_insert(params, g_strdup(key), g_strdup_printf("%" G_GINT64_FORMAT, value));
}

GHashTable *
am_http_history_to_store_params(const AmHttpHistory *h)
{
  GHashTable *params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  put_int(params, "since", h->since_s);
  put_int(params, "until", h->until_s);
  if (h->step_s > 0)
    put_int(params, "step", h->step_s);
  if (h->limit > 0)
    put_int(params, "limit", h->limit);
  if (h->cursor != NULL)
    g_hash_table_insert(params, g_strdup("cursor"), g_strdup(h->cursor));
  if (h->miner != NULL)
    g_hash_table_insert(params, g_strdup("miner"), g_strdup(h->miner));
  if (h->kind != NULL)
    g_hash_table_insert(params, g_strdup("kind"), g_strdup(h->kind));
  return params;
}

const char *
am_http_param_error_code(const char *name, const GError *error)
{
  if (error != NULL && error->domain == AM_ERROR && error->code == AM_ERROR_UNSUPPORTED)
    return "unknown_parameter";
  if (g_strcmp0(name, "since") == 0 || g_strcmp0(name, "until") == 0)
    return "invalid_time";
  if (g_strcmp0(name, "limit") == 0)
    return "invalid_limit";
  if (g_strcmp0(name, "sort") == 0)
    return "invalid_sort";
  if (g_strcmp0(name, "cursor") == 0)
    return "invalid_cursor";
  return "invalid_parameter";
}
