/* The endpoints. "Now" views come from the core's latest values on every
 * request (never a network scan); history comes from the store, queried on
 * its reader thread while the request waits paused. */
#include "am-http-api.h"
#include "am-http-json.h"
#include "am-http-metrics.h"
#include "am-http-model.h"
#include "am-http-params.h"
#include "am-http-sample-json.h"

#include <string.h>

#define DAY_S (24 * 3600)
#define MINER_EVENTS_LIMIT 50
#define MINER_EVENTS_SPAN_S (7 * DAY_S)

static const char *const no_params[] = {NULL};

/* ---- shared ----------------------------------------------------------------------- */

static void
copy_one_miner(const AmMinerView *view, gpointer user_data)
{
  *(AmHttpMiner **)user_data = am_http_miner_new(view);
}

/* The miner whose address, host or name is @key, or NULL. (transfer full) */
static AmHttpMiner *
find_miner(AmContext *ctx, const char *key)
{
  AmHttpMiner *miner = NULL;
  am_context_get_miner(ctx, key, copy_one_miner, &miner);
  return miner;
}

static AmHttpClock
clock_now(const AmHttpRequest *req)
{
  return (AmHttpClock){.now_us = g_get_real_time(), .stale_after_us = req->config->stale_after_us};
}

/* Refuses parameters the endpoint does not take. */
static gboolean
check_no_params(AmHttpRequest *req, const char *const *allowed)
{
  const char *bad = NULL;
  g_autoptr(GError) error = NULL;
  if (am_http_query_check_names(req->query, allowed, &bad, &error))
    return TRUE;
  am_http_reply_bad_param(req->msg, bad, error);
  return FALSE;
}

static void
reply_miner_not_found(SoupServerMessage *msg, const char *key)
{
  g_autofree char *why =
      g_strdup_printf("no miner %s: give its host, host:port or name as /api/miners lists it", key);
  am_http_reply_error(msg, SOUP_STATUS_NOT_FOUND, "miner_not_found", NULL, why);
}

/* ---- /api/summary ------------------------------------------------------------------- */

/* The poll and discovery health, so one call tells whether the numbers
 * can be trusted. */
static void
add_health_parts(JsonObject *summary, AmHttpRequest *req)
{
  JsonObject *h = json_node_get_object(am_http_request_health(req));
  const char *const parts[] = {"poll", "discovery", "store"};
  for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
    JsonNode *part = json_object_get_member(h, parts[i]);
    json_object_set_member(summary, parts[i],
                           part != NULL ? json_node_copy(part) : json_node_new(JSON_NODE_NULL));
  }
}

static void
add_to_summary(const AmMinerView *view, gpointer user_data)
{
  AmHttpMiner borrowed;
  am_http_miner_borrow(view, &borrowed);
  am_http_summary_add(user_data, &borrowed);
}

/* Totals straight from the core's views, nothing copied: this is the
 * endpoint wall screens and scripts poll most. */
void
am_http_api_summary(AmHttpRequest *req)
{
  if (!check_no_params(req, no_params))
    return;
  /* Wall screens and scripts ask many times a second; at 10,000 miners the
   * totals cost a millisecond or two, so a reply is reused while it holds. */
  GBytes *cached = am_http_request_cached_summary(req);
  if (cached != NULL) {
    am_http_reply_json_text(req->msg, SOUP_STATUS_OK, cached);
    return;
  }
  AmHttpClock clock = clock_now(req);
  AmHttpSummary *totals = am_http_summary_new(&clock);
  am_context_foreach_miner(req->ctx, add_to_summary, totals);
  g_autoptr(JsonNode) summary = am_http_summary_finish(totals);
  add_health_parts(json_node_get_object(summary), req);
  char *text = json_to_string(summary, FALSE);
  GBytes *bytes = g_bytes_new_take(text, strlen(text));
  am_http_request_cache_summary(req, bytes);
  am_http_reply_json_text(req->msg, SOUP_STATUS_OK, bytes);
}

/* ---- /api/miners ---------------------------------------------------------------------- */

typedef struct {
  AmHttpMinerFilter filter;
  AmHttpSortKey sort;
  gboolean descending;
  gboolean brief; /* view=brief: the table's fields of each sample */
} MinersQuery;

static gboolean
parse_miners_query(AmHttpRequest *req, MinersQuery *out)
{
  static const char *const allowed[] = {"state", "model", "q", "sort", "view", NULL};
  if (!check_no_params(req, allowed))
    return FALSE;
  *out = (MinersQuery){.sort = AM_HTTP_SORT_HOST};
  const char *state = g_hash_table_lookup(req->query, "state");
  const char *sort = g_hash_table_lookup(req->query, "sort");
  const char *view = g_hash_table_lookup(req->query, "view");
  const char *bad = NULL;
  g_autoptr(GError) error = NULL;
  out->filter.model = g_hash_table_lookup(req->query, "model");
  out->filter.q = g_hash_table_lookup(req->query, "q");
  gboolean ok =
      (state == NULL || am_http_parse_states(bad = "state", state, &out->filter.states, &error)) &&
      (out->filter.model == NULL || am_http_parse_text(bad = "model", out->filter.model, &error)) &&
      (out->filter.q == NULL || am_http_parse_text(bad = "q", out->filter.q, &error)) &&
      (sort == NULL ||
       am_http_parse_sort(bad = "sort", sort, &out->sort, &out->descending, &error));
  if (ok && view != NULL && !g_str_equal(view, "full") && !g_str_equal(view, "brief")) {
    bad = "view";
    g_set_error(&error, AM_ERROR, AM_ERROR_PARSE, "view=%s: expected full or brief", view);
    ok = FALSE;
  }
  out->brief = ok && g_strcmp0(view, "brief") == 0;
  if (!ok)
    am_http_reply_bad_param(req->msg, bad, error);
  return ok;
}

/* The miners shown, in the order asked: the cache's own order (by
 * address) when nothing is filtered and the default sort is asked, else a
 * filtered, sorted copy of it. (transfer full) */
static GPtrArray *
miners_shown(GPtrArray *all, const MinersQuery *q)
{
  gboolean everyone = q->filter.states == 0 && q->filter.model == NULL && q->filter.q == NULL;
  if (everyone && q->sort == AM_HTTP_SORT_HOST && !q->descending)
    return g_ptr_array_ref(all);
  GPtrArray *shown = g_ptr_array_sized_new(all->len);
  for (guint i = 0; i < all->len; i++)
    if (am_http_miner_matches(all->pdata[i], &q->filter))
      g_ptr_array_add(shown, all->pdata[i]);
  am_http_miners_sort(shown, q->sort, q->descending);
  return shown;
}

/* One miner object from the cache's parts: only age_s and stale are
 * written now, the rest was written when the miner last changed. */
static void
write_cached_miner(GString *out, AmHttpFleet *fleet, AmHttpFleetMiner *e, const AmHttpClock *clock,
                   gboolean brief)
{
  const char *sample = am_http_fleet_miner_sample(fleet, e, brief);
  g_string_append(out, am_http_fleet_miner_head(e));
  am_http_miner_write_json_age(out, &e->miner, clock);
  g_string_append(out, am_http_fleet_miner_tail(e));
  g_string_append(out, sample != NULL ? sample : "null");
  g_string_append_c(out, '}');
}

void
am_http_api_miners(AmHttpRequest *req)
{
  MinersQuery q;
  if (!parse_miners_query(req, &q))
    return;
  am_http_fleet_update(req->fleet);
  GPtrArray *all = am_http_fleet_miners(req->fleet);
  g_autoptr(GPtrArray) shown = miners_shown(all, &q);

  AmHttpClock clock = clock_now(req);
  GString *out = g_string_sized_new((q.brief ? 1024 : 4096) * (shown->len + 1));
  /* actions_enabled: whether this API takes actions ([http:api] actions=),
   * so the dashboard offers its menus only where they can work. */
  g_string_append_printf(out, "{\"total\":%u,\"actions_enabled\":%s,\"miners\":[", all->len,
                         req->config->actions ? "true" : "false");
  for (guint i = 0; i < shown->len; i++) {
    if (i > 0)
      g_string_append_c(out, ',');
    write_cached_miner(out, req->fleet, shown->pdata[i], &clock, q.brief);
  }
  g_string_append(out, "]}");
  am_http_reply_json_text(req->msg, SOUP_STATUS_OK, g_string_free_to_bytes(out));
}

/* ---- /api/miners/{key} and /api/miners/{key}/raw ----------------------------------------- */

static void
reply_raw(AmHttpRequest *req, const char *key)
{
  g_autoptr(AmHttpMiner) miner = find_miner(req->ctx, key);
  JsonNode *raw = miner != NULL ? am_context_miner_raw_json(req->ctx, miner->address) : NULL;
  if (raw == NULL) {
    reply_miner_not_found(req->msg, key);
    return;
  }
  JsonObject *out = json_object_new();
  json_object_set_string_member(out, "address", miner->address);
  if (json_object_get_size(json_node_get_object(raw)) == 0)
    json_object_set_string_member(out, "message",
                                  "No raw reply kept yet: the miner is being polled now, "
                                  "ask again in a few seconds. Replies are kept for 10 minutes "
                                  "after each look, and after a failed poll.");
  json_object_set_member(out, "replies", raw);
  am_http_reply_json(req->msg, SOUP_STATUS_OK, am_http_object_node(out));
}

/* The miner object plus its chains and pools at the top, where the miner
 * page reads them. (transfer full) or NULL if the text did not parse back,
 * which would be a bug in the writer, answered without stopping. */
static JsonObject *
miner_detail(const AmHttpMiner *m, const AmHttpClock *clock)
{
  g_autoptr(GString) text = g_string_new(NULL);
  g_autofree char *sample_json = m->sample != NULL ? am_http_sample_json(m->sample) : NULL;
  am_http_miner_write_json(text, m, clock, sample_json);
  /* One miner: reading our own text back is cheaper than a second writer. */
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text->str, (gssize)text->len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_warning("%s: the miner object is not JSON: %s", m->address, text->str);
    return NULL;
  }
  JsonObject *obj = json_object_ref(json_node_get_object(json_parser_get_root(parser)));
  JsonObject *sample = am_json_object(obj, "sample");
  const char *const lists[] = {"chains", "pools"};
  for (guint i = 0; i < G_N_ELEMENTS(lists); i++) {
    JsonArray *list = am_json_array(sample, lists[i]);
    json_object_set_array_member(obj, lists[i],
                                 list != NULL ? json_array_ref(list) : json_array_new());
  }
  return obj;
}

/* What the miner page says when there is no history to show. */
static void
set_history_note(JsonObject *obj, gboolean available, const char *message)
{
  JsonObject *history = json_object_new();
  json_object_set_boolean_member(history, "available", available);
  if (message != NULL)
    json_object_set_string_member(history, "message", message);
  else
    json_object_set_null_member(history, "message");
  json_object_set_object_member(obj, "history", history);
}

static void
on_miner_events(GObject *source, GAsyncResult *result, gpointer user_data)
{
  AmHttpDeferred *d = user_data;
  JsonObject *obj = d->data;
  if (am_http_deferred_is_gone(d)) {
    am_http_deferred_finish(d);
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = am_context_store_query_finish(d->ctx, result, &error);
  g_autoptr(JsonNode) events = reply != NULL ? am_http_store_rows_to_api(reply, &error) : NULL;
  JsonArray *rows = events != NULL ? am_json_array(json_node_get_object(events), "rows") : NULL;
  json_object_set_array_member(obj, "events",
                               rows != NULL ? json_array_ref(rows) : json_array_new());
  set_history_note(obj, rows != NULL, error != NULL ? error->message : NULL);
  am_http_reply_json(d->msg, SOUP_STATUS_OK, json_node_init_object(json_node_alloc(), obj));
  am_http_deferred_finish(d);
}

/* Why each action the miner's driver does not offer is refused, so the
 * miner page can say so beside the greyed entry. */
static void
add_unsupported_actions(JsonObject *obj, AmContext *ctx, const char *address)
{
  g_autoptr(JsonNode) actions = am_context_miner_actions_json(ctx, address);
  JsonObject *why = actions != NULL && JSON_NODE_HOLDS_OBJECT(actions)
                        ? am_json_object(json_node_get_object(actions), "unsupported")
                        : NULL;
  json_object_set_object_member(obj, "actions_unsupported",
                                why != NULL ? json_object_ref(why) : json_object_new());
}

static void
reply_detail(AmHttpRequest *req, const char *key)
{
  g_autoptr(AmHttpMiner) miner = find_miner(req->ctx, key);
  if (miner == NULL) {
    reply_miner_not_found(req->msg, key);
    return;
  }
  AmHttpClock clock = clock_now(req);
  JsonObject *obj = miner_detail(miner, &clock);
  if (obj == NULL) {
    am_http_reply_error(req->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "miner_unreadable", NULL,
                        "this miner's data could not be written as JSON (see the log)");
    return;
  }
  add_unsupported_actions(obj, req->ctx, miner->address);
  json_object_set_boolean_member(obj, "actions_enabled", req->config->actions);
  AmHttpHistory h = {.since_s = clock.now_us / G_USEC_PER_SEC - MINER_EVENTS_SPAN_S,
                     .until_s = clock.now_us / G_USEC_PER_SEC,
                     .limit = MINER_EVENTS_LIMIT,
                     .miner = miner->address};
  g_autoptr(GHashTable) params = am_http_history_to_store_params(&h);
  AmHttpDeferred *d = am_http_request_defer(req, obj, (GDestroyNotify)json_object_unref);
  am_context_store_query_async(req->ctx, "events", params, d->cancellable, on_miner_events, d);
}

void
am_http_api_miner(AmHttpRequest *req)
{
  if (!check_no_params(req, no_params))
    return;
  const char *tail = req->path + strlen("/api/miners/");
  gboolean raw = g_str_has_suffix(tail, "/raw");
  g_autofree char *key = g_strndup(tail, strlen(tail) - (raw ? strlen("/raw") : 0));
  g_autoptr(GError) error = NULL;
  if (!am_http_parse_miner_key("miner", key, &error)) {
    am_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "miner_not_found", NULL, error->message);
    return;
  }
  if (raw)
    reply_raw(req, key);
  else
    reply_detail(req, key);
}

/* ---- history: /api/metrics, /api/fleet, /api/events --------------------------------------- */

typedef struct {
  const char *path;
  const char *query; /* the store's query name */
  AmHttpHistorySpec spec;
} HistoryEndpoint;

static const HistoryEndpoint history_endpoints[] = {
    {"/api/metrics",
     "series",
     {.miner_param = "ip",
      .step = TRUE,
      .paged = TRUE,
      .default_limit = 1000,
      .default_span_s = DAY_S}},
    {"/api/fleet", "fleet", {.step = TRUE, .default_span_s = DAY_S}},
    {"/api/events",
     "events",
     {.miner_param = "miner",
      .paged = TRUE,
      .kind = TRUE,
      .default_limit = 1000,
      .default_span_s = DAY_S}},
};

static const HistoryEndpoint *
history_endpoint(const char *path)
{
  for (guint i = 0; i < G_N_ELEMENTS(history_endpoints); i++)
    if (g_str_equal(path, history_endpoints[i].path))
      return &history_endpoints[i];
  return NULL;
}

/* A store failure is the store's, never a 500: no store (or history
 * switched off) is 503 with what to change; a parameter the store refuses
 * is the caller's 400. */
static void
reply_store_error(SoupServerMessage *msg, const GError *error)
{
  if (g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED)) {
    g_autofree char *why = g_strdup_printf(
        "history is not available (%s); add a [store:sqlite] group to antmon.ini to keep it",
        error->message);
    am_http_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "history_unavailable", NULL, why);
  } else if (g_error_matches(error, AM_ERROR, AM_ERROR_PARSE) ||
             g_error_matches(error, AM_ERROR, AM_ERROR_CONFIG)) {
    am_http_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "invalid_parameter", NULL, error->message);
  } else {
    g_autofree char *why = g_strdup_printf("the store could not answer: %s", error->message);
    am_http_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "store_error", NULL, why);
  }
}

static void
on_history(GObject *source, GAsyncResult *result, gpointer user_data)
{
  AmHttpDeferred *d = user_data;
  if (am_http_deferred_is_gone(d)) {
    am_http_deferred_finish(d);
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) reply = am_context_store_query_finish(d->ctx, result, &error);
  JsonNode *rows = reply != NULL ? am_http_store_rows_to_api(reply, &error) : NULL;
  if (rows != NULL)
    am_http_reply_json(d->msg, SOUP_STATUS_OK, rows);
  else
    reply_store_error(d->msg, error);
  am_http_deferred_finish(d);
}

/* ip= / miner= may name a miner by host or name; the store knows it by
 * its address. Anything else goes to the store as given. */
static void
resolve_miner(AmContext *ctx, AmHttpHistory *h)
{
  if (h->miner == NULL)
    return;
  g_autoptr(AmHttpMiner) miner = find_miner(ctx, h->miner);
  if (miner != NULL) {
    g_free(h->miner);
    h->miner = g_strdup(miner->address);
  }
}

void
am_http_api_history(AmHttpRequest *req)
{
  const HistoryEndpoint *ep = history_endpoint(req->path);
  AmHttpHistorySpec spec = ep->spec;
  spec.max_limit = req->config->api_max_limit;
  AmHttpHistory h;
  const char *bad = NULL;
  g_autoptr(GError) error = NULL;
  if (!am_http_history_parse(req->query, &spec, g_get_real_time() / G_USEC_PER_SEC, &h, &bad,
                             &error)) {
    am_http_reply_bad_param(req->msg, bad, error);
    return;
  }
  resolve_miner(req->ctx, &h);
  g_autoptr(GHashTable) params = am_http_history_to_store_params(&h);
  am_http_history_clear(&h);
  AmHttpDeferred *d = am_http_request_defer(req, NULL, NULL);
  am_context_store_query_async(req->ctx, ep->query, params, d->cancellable, on_history, d);
}

/* ---- health, probes, Prometheus ------------------------------------------------------------ */

void
am_http_api_health(AmHttpRequest *req)
{
  if (check_no_params(req, no_params))
    am_http_reply_json(req->msg, SOUP_STATUS_OK, am_http_server_health(req->server));
}

static void
reply_status(SoupServerMessage *msg, guint status, const char *text)
{
  JsonObject *obj = json_object_new();
  json_object_set_string_member(obj, "status", text);
  am_http_reply_json(msg, status, am_http_object_node(obj));
}

void
am_http_api_healthy(AmHttpRequest *req)
{
  reply_status(req->msg, SOUP_STATUS_OK, "ok");
}

/* Ready once the core polls: in `antmon query` or before the scheduler
 * exists there is nothing to serve yet. */
void
am_http_api_ready(AmHttpRequest *req)
{
  g_autoptr(JsonNode) health = am_context_health_json(req->ctx);
  JsonObject *poll = am_json_object(json_node_get_object(health), "poll");
  gboolean ready = poll != NULL && json_object_has_member(poll, "miners");
  reply_status(req->msg, ready ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE,
               ready ? "ready" : "starting");
}

void
am_http_api_prometheus(AmHttpRequest *req)
{
  g_autoptr(AmHttpMetrics) metrics = am_http_metrics_new();
  JsonNode *health = am_http_request_health(req);
  /* Prometheus may add its own parameters to a scrape: they are ignored.
   * Miners in address order, so two scrapes read alike; each one's block
   * is made only when it changed since the last look. */
  am_http_metrics_add_health(metrics, health);
  am_http_fleet_update(req->fleet);
  GPtrArray *miners = am_http_fleet_miners(req->fleet);
  for (guint i = 0; i < miners->len; i++)
    am_http_metrics_add_block(metrics, am_http_fleet_miner_metrics(req->fleet, miners->pdata[i]));
  SoupMessageHeaders *h = soup_server_message_get_response_headers(req->msg);
  soup_message_headers_replace(h, "Cache-Control", "no-store");
  soup_message_headers_replace(h, "Content-Type", AM_HTTP_METRICS_CONTENT_TYPE);
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
  SoupMessageBody *body = soup_server_message_get_response_body(req->msg);
  soup_message_body_truncate(body);
  /* Each chunk is freed once written rather than with the message. */
  soup_message_body_set_accumulate(body, FALSE);
  am_http_metrics_render_to(metrics, body);
}
