/* The [http:api] server: listening, limits, authentication, the headers
 * every reply carries, and routing to the endpoints (am-http-api.c) and
 * the dashboard's files (am-http-static.c). */
#include "am-http-server.h"
#include "am-http-actions-parse.h"
#include "am-http-actions.h"
#include "am-http-api.h"
#include "am-http-conns.h"
#include "am-http-dashboard.h"
#include "am-http-params.h"

#include <string.h>
#include <time.h>

struct _AmHttpServer {
  AmContext *ctx;
  AmHttpConfig config;
  SoupServer *soup;
  AmHttpConns *conns;
  AmHttpStatic *assets;
  AmHttpFleet *fleet;
  GHashTable *deferred; /* AmHttpDeferred* waiting for the store */
  char *url;
  JsonNode *health; /* the last health report, or NULL */
  gint64 health_us; /* when it was made (monotonic) */
  GBytes *summary;  /* the last /api/summary reply, or NULL */
  gint64 summary_us;
  guint64 summary_generation; /* of the fleet cache when it was made */
};

#define HEALTH_MAX_AGE_US G_USEC_PER_SEC

void
am_http_config_clear(AmHttpConfig *c)
{
  g_clear_pointer(&c->listen_host, g_free);
  if (c->token != NULL)
    memset(c->token, 0, strlen(c->token));
  g_clear_pointer(&c->token, g_free);
  g_clear_pointer(&c->token_name, g_free);
  g_clear_pointer(&c->action_tokens, g_ptr_array_unref);
  g_clear_object(&c->tls);
}

/* ---- replies ------------------------------------------------------------------ */

/* libsoup 3.2 predates 431 (RFC 6585) and would call it "Unknown Error". */
#define STATUS_HEADERS_TOO_LARGE 431

static const char *
status_phrase(guint status)
{
  return status == STATUS_HEADERS_TOO_LARGE ? "Request Header Fields Too Large" : NULL;
}

void
am_http_reply_json(SoupServerMessage *msg, guint status, JsonNode *node)
{
  gsize len = 0;
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, node);
  char *text = json_generator_to_data(gen, &len);
  json_node_unref(node);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-store");
  soup_server_message_set_status(msg, status, status_phrase(status));
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, len);
}

void
am_http_reply_json_text(SoupServerMessage *msg, guint status, GBytes *text)
{
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-store");
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Content-Type",
                               "application/json");
  soup_server_message_set_status(msg, status, status_phrase(status));
  soup_message_body_truncate(soup_server_message_get_response_body(msg));
  soup_message_body_append_bytes(soup_server_message_get_response_body(msg), text);
  g_bytes_unref(text);
}

void
am_http_reply_error(SoupServerMessage *msg, guint status, const char *code, const char *parameter,
                    const char *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "error");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "code");
  json_builder_add_string_value(b, code);
  if (parameter != NULL) {
    json_builder_set_member_name(b, "parameter");
    json_builder_add_string_value(b, parameter);
  }
  json_builder_set_member_name(b, "message");
  json_builder_add_string_value(b, message);
  json_builder_end_object(b);
  json_builder_end_object(b);
  am_http_reply_json(msg, status, json_builder_get_root(b));
}

void
am_http_reply_bad_param(SoupServerMessage *msg, const char *name, const GError *error)
{
  am_http_reply_error(msg, SOUP_STATUS_BAD_REQUEST, am_http_param_error_code(name, error), name,
                      error->message);
}

/* Every reply, errors included: nothing from elsewhere may run or frame the
 * dashboard, and no CORS header is ever sent, so other origins cannot read
 * the API from a browser. */
static void
add_security_headers(SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Content-Security-Policy",
                               "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'none'");
  soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace(h, "X-Frame-Options", "DENY");
  soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
}

/* The core's report with this server's connections added. */
JsonNode *
am_http_server_health(AmHttpServer *s)
{
  JsonNode *health = am_context_health_json(s->ctx);
  json_object_set_member(json_node_get_object(health), "http", am_http_server_connections_json(s));
  return health;
}

JsonNode *
am_http_request_health(AmHttpRequest *req)
{
  AmHttpServer *s = req->server;
  gint64 now = g_get_monotonic_time();
  if (s->health == NULL || now - s->health_us > HEALTH_MAX_AGE_US) {
    g_clear_pointer(&s->health, json_node_unref);
    s->health = am_http_server_health(s);
    s->health_us = now;
  }
  return s->health;
}

GBytes *
am_http_request_cached_summary(AmHttpRequest *req)
{
  AmHttpServer *s = req->server;
  if (s->summary == NULL || am_http_fleet_cache_disabled() ||
      g_get_monotonic_time() - s->summary_us > HEALTH_MAX_AGE_US ||
      s->summary_generation != am_http_fleet_generation(s->fleet))
    return NULL;
  return g_bytes_ref(s->summary);
}

void
am_http_request_cache_summary(AmHttpRequest *req, GBytes *text)
{
  AmHttpServer *s = req->server;
  g_clear_pointer(&s->summary, g_bytes_unref);
  s->summary = g_bytes_ref(text);
  s->summary_us = g_get_monotonic_time();
  s->summary_generation = am_http_fleet_generation(s->fleet);
}

/* ---- deferred replies ------------------------------------------------------------- */

static void
on_deferred_gone(SoupServerMessage *msg, gpointer user_data)
{
  AmHttpDeferred *d = user_data;
  g_signal_handlers_disconnect_by_data(msg, d);
  g_cancellable_cancel(d->cancellable);
  g_clear_object(&d->msg);
}

AmHttpDeferred *
am_http_request_defer(AmHttpRequest *req, gpointer data, GDestroyNotify data_free)
{
  AmHttpDeferred *d = g_new0(AmHttpDeferred, 1);
  d->server = req->server;
  d->ctx = req->ctx;
  d->config = req->config;
  d->msg = g_object_ref(req->msg);
  d->cancellable = g_cancellable_new();
  d->data = data;
  d->data_free = data_free;
  g_signal_connect(d->msg, "finished", G_CALLBACK(on_deferred_gone), d);
  g_signal_connect(d->msg, "disconnected", G_CALLBACK(on_deferred_gone), d);
  g_hash_table_add(req->server->deferred, d);
  soup_server_message_pause(d->msg);
  return d;
}

gboolean
am_http_deferred_is_gone(AmHttpDeferred *d)
{
  return d->msg == NULL || d->server == NULL;
}

void
am_http_deferred_finish(AmHttpDeferred *d)
{
  if (d->msg != NULL) {
    g_signal_handlers_disconnect_by_data(d->msg, d);
    if (d->server != NULL)
      soup_server_message_unpause(d->msg);
    g_object_unref(d->msg);
  }
  if (d->server != NULL)
    g_hash_table_remove(d->server->deferred, d);
  if (d->data_free != NULL)
    d->data_free(d->data);
  g_object_unref(d->cancellable);
  g_free(d);
}

/* ---- limits: checked once the headers are in, before any body is read ---------- */

static void
add_header_size(const char *name, const char *value, gpointer user_data)
{
  *(gsize *)user_data += strlen(name) + strlen(value) + 4; /* ": " and CRLF */
}

static gsize
header_block_size(SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri(msg);
  const char *query = g_uri_get_query(uri);
  gsize size = strlen(soup_server_message_get_method(msg)) + strlen(g_uri_get_path(uri)) +
               (query != NULL ? strlen(query) + 1 : 0) + strlen("  HTTP/1.1\r\n\r\n");
  soup_message_headers_foreach(soup_server_message_get_request_headers(msg), add_header_size,
                               &size);
  return size;
}

static void
refuse_early(SoupServerMessage *msg, guint status, const char *code, const char *message)
{
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection",
                               "close");
  am_http_reply_error(msg, status, code, NULL, message);
}

/* Only the control plane's POSTs take a body, and only with a
 * Content-Length: a chunked body's size is known only once read. */
static gboolean
takes_body(AmHttpServer *s, SoupServerMessage *msg)
{
  return s->config.actions && g_strcmp0(soup_server_message_get_method(msg), "POST") == 0 &&
         am_http_actions_takes_body(g_uri_get_path(soup_server_message_get_uri(msg)));
}

/* libsoup itself drops a connection whose headers pass 64 KiB; below that
 * the configured limit answers 431. Only the control plane's POSTs keep
 * their body in memory; a body declared over the limit is refused before
 * it is read (with Expect: 100-continue, before it is even sent). */
static void
on_got_headers(SoupServerMessage *msg, gpointer user_data)
{
  AmHttpServer *s = user_data;
  gboolean body = takes_body(s, msg);
  soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), body);
  add_security_headers(msg);
  am_http_conns_prepare_reply(s->conns, msg);
  SoupMessageHeaders *req = soup_server_message_get_request_headers(msg);
  g_autofree char *why = NULL;
  if (header_block_size(msg) > s->config.max_header_bytes) {
    why = g_strdup_printf("the request's headers are over %u bytes", s->config.max_header_bytes);
    refuse_early(msg, STATUS_HEADERS_TOO_LARGE, "headers_too_large", why);
  } else if (soup_message_headers_get_encoding(req) == SOUP_ENCODING_CONTENT_LENGTH &&
             soup_message_headers_get_content_length(req) > s->config.max_body_bytes) {
    why = g_strdup_printf("the request body is over %u bytes (max_body_bytes in [http:api])",
                          s->config.max_body_bytes);
    refuse_early(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body_too_large", why);
  } else if (body && soup_message_headers_get_encoding(req) != SOUP_ENCODING_CONTENT_LENGTH) {
    refuse_early(msg, SOUP_STATUS_LENGTH_REQUIRED, "length_required",
                 "send the action's JSON body with a Content-Length header");
  }
}

static void
on_request_started(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect(msg, "got-headers", G_CALLBACK(on_got_headers), user_data);
}

static void
on_request_finished(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  GUri *uri = soup_server_message_get_uri(msg);
  g_debug("%s %s %s -> %u", soup_server_message_get_remote_host(msg),
          soup_server_message_get_method(msg), uri != NULL ? g_uri_get_path(uri) : "?",
          soup_server_message_get_status(msg));
}

/* ---- authentication ----------------------------------------------------------------- */

/* Compares digests, so the time taken says nothing about where the first
 * difference is, nor about the token's length. */
static gboolean
token_equal(const char *given, const char *expected)
{
  guint8 a[32], b[32];
  gsize la = sizeof a, lb = sizeof b;
  g_autoptr(GChecksum) ca = g_checksum_new(G_CHECKSUM_SHA256);
  g_autoptr(GChecksum) cb = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(ca, (const guchar *)given, -1);
  g_checksum_update(cb, (const guchar *)expected, -1);
  g_checksum_get_digest(ca, a, &la);
  g_checksum_get_digest(cb, b, &lb);
  volatile guint8 diff = 0;
  for (gsize i = 0; i < sizeof a; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

/* Who the request's bearer token belongs to: token_name= for token=, the
 * name from action_tokens_file= for one of its tokens, or NULL when it
 * carries none of them. Every token is compared, so the time taken does
 * not tell which one matched either. Without token= the API is open
 * (loopback only, never with actions on). */
static const char *
authorized_as(AmHttpServer *s, SoupServerMessage *msg)
{
  if (s->config.token == NULL)
    return s->config.token_name;
  const char *h =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  if (h == NULL || g_ascii_strncasecmp(h, "Bearer ", 7) != 0)
    return NULL;
  const char *given = h + 7;
  while (*given == ' ')
    given++;
  const char *who = token_equal(given, s->config.token) ? s->config.token_name : NULL;
  for (guint i = 0; s->config.action_tokens != NULL && i < s->config.action_tokens->len; i++) {
    const AmHttpNamedToken *t = s->config.action_tokens->pdata[i];
    if (token_equal(given, t->token) && who == NULL)
      who = t->name;
  }
  return who;
}

static void
reply_unauthorized(SoupServerMessage *msg)
{
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                               "Bearer realm=\"antmon\"");
  am_http_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized", NULL,
                      "this API needs the header Authorization: Bearer <token> "
                      "(token= in the [http:api] group)");
}

/* ---- routing -------------------------------------------------------------------------- */

static const struct {
  const char *path;
  gboolean prefix; /* path is a prefix ending in '/' */
  AmHttpHandler handler;
} routes[] = {
    {"/api/summary", FALSE, am_http_api_summary}, {"/api/miners", FALSE, am_http_api_miners},
    {"/api/miners/", TRUE, am_http_api_miner},    {"/api/metrics", FALSE, am_http_api_history},
    {"/api/fleet", FALSE, am_http_api_history},   {"/api/events", FALSE, am_http_api_history},
    {"/api/health", FALSE, am_http_api_health},   {"/-/healthy", FALSE, am_http_api_healthy},
    {"/-/ready", FALSE, am_http_api_ready},       {"/metrics", FALSE, am_http_api_prometheus},
};

static AmHttpHandler
route(const char *path)
{
  for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
    if (routes[i].prefix ? g_str_has_prefix(path, routes[i].path)
                         : g_str_equal(path, routes[i].path))
      return routes[i].handler;
  }
  return NULL;
}

static gboolean
method_is_read(SoupServerMessage *msg)
{
  /* Compared as text: SOUP_METHOD_* would intern a string of this plugin
   * inside libsoup, left dangling should the plugin be unloaded. */
  const char *method = soup_server_message_get_method(msg);
  return g_strcmp0(method, "GET") == 0 || g_strcmp0(method, "HEAD") == 0;
}

static void
reply_method_not_allowed(SoupServerMessage *msg)
{
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "GET, HEAD");
  g_autofree char *why = g_strdup_printf("%s is not allowed here: this API is read-only (GET, "
                                         "HEAD)",
                                         soup_server_message_get_method(msg));
  am_http_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", NULL, why);
}

/* The dashboard's files hold no data, so they are served without the
 * token: the page itself asks for it and sends it with every API call. */
static gboolean
serve_static(AmHttpServer *s, SoupServerMessage *msg, const char *path)
{
  AmHttpAsset asset;
  if (!am_http_static_lookup(s->assets, path, &asset))
    return FALSE;
  if (!method_is_read(msg)) {
    reply_method_not_allowed(msg);
    return TRUE;
  }
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Cache-Control", "no-cache");
  soup_message_headers_replace(h, "ETag", asset.etag);
  const char *match =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "If-None-Match");
  if (match != NULL && g_str_equal(match, asset.etag)) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_MODIFIED, NULL);
    return TRUE;
  }
  gsize len = 0;
  const char *data = g_bytes_get_data(asset.data, &len);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response(msg, asset.content_type, SOUP_MEMORY_STATIC, data, len);
  return TRUE;
}

/* The main thread's CPU time, in microseconds. */
static gint64
thread_cpu_us(void)
{
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Runs @handler and says in a Server-Timing header (W3C) how long it held
 * the main loop: "handler" in wall time, "cpu" in the loop's own CPU time,
 * which the machine's other work does not inflate. Polls wait that long;
 * writing the reply out happens later, a piece at a time between them.
 * The benchmarks read it (tests/bench/bench-scale.sh). */
static void
run_timed(AmHttpRequest *req, AmHttpHandler handler)
{
  gint64 wall = g_get_monotonic_time(), cpu = thread_cpu_us();
  handler(req);
  cpu = thread_cpu_us() - cpu;
  wall = g_get_monotonic_time() - wall;
  char value[96];
  g_snprintf(value, sizeof value, "handler;dur=%.1f, cpu;dur=%.1f", wall / 1000.0, cpu / 1000.0);
  soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Server-Timing",
                               value);
}

static void
on_request(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *unused,
           gpointer user_data)
{
  AmHttpServer *s = user_data;
  if (serve_static(s, msg, path))
    return;
  const char *who = authorized_as(s, msg);
  if (who == NULL) {
    reply_unauthorized(msg);
    return;
  }
  /* With actions off their paths are what they were: 404, or 405 where a
   * read-only endpoint's prefix covers them. */
  gboolean action = s->config.actions && am_http_actions_path(path);
  AmHttpHandler handler = action ? am_http_actions_dispatch : route(path);
  if (handler == NULL) {
    g_autofree char *why = g_strdup_printf("no such page or endpoint: %s", path);
    am_http_reply_error(msg, SOUP_STATUS_NOT_FOUND, "not_found", NULL, why);
    return;
  }
  if (!action && !method_is_read(msg)) {
    reply_method_not_allowed(msg);
    return;
  }
  g_autoptr(GError) error = NULL;
  /* The raw query, decoded here: libsoup's own decoding accepts what the
   * API should refuse (bad escapes, NULs, repeats). */
  g_autoptr(GHashTable) query =
      am_http_query_parse(g_uri_get_query(soup_server_message_get_uri(msg)), &error);
  if (query == NULL) {
    am_http_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "invalid_query", NULL, error->message);
    return;
  }
  AmHttpRequest req = {.server = s,
                       .ctx = s->ctx,
                       .config = &s->config,
                       .msg = msg,
                       .path = path,
                       .query = query,
                       .fleet = s->fleet,
                       .who = who};
  run_timed(&req, handler);
}

/* ---- life cycle ------------------------------------------------------------------------ */

AmHttpServer *
am_http_server_new(AmContext *ctx, AmHttpConfig *config)
{
  AmHttpServer *s = g_new0(AmHttpServer, 1);
  s->ctx = ctx;
  s->config = *config;
  *config = (AmHttpConfig){0};
  /* TLS is done by the connections (am-http-conns.c), before libsoup. */
  s->soup = soup_server_new(NULL, NULL);
  AmHttpConnLimits limits = {.max_connections = s->config.max_connections,
                             .request_timeout_ms = s->config.request_timeout_ms,
                             .idle_timeout_ms = s->config.idle_timeout_ms,
                             .tls = s->config.tls};
  s->conns = am_http_conns_new(s->soup, &limits);
  s->assets = am_http_static_new(am_http_dashboard_get_resource(), "/org/antmon/dashboard");
  s->fleet = am_http_fleet_new(ctx);
  s->deferred = g_hash_table_new(g_direct_hash, g_direct_equal);
  soup_server_add_handler(s->soup, NULL, on_request, s, NULL);
  g_signal_connect(s->soup, "request-started", G_CALLBACK(on_request_started), s);
  g_signal_connect(s->soup, "request-finished", G_CALLBACK(on_request_finished), s);
  return s;
}

static gboolean
listen_on(AmHttpServer *s, GError **error)
{
  /* localhost is 127.0.0.1 alone, as libsoup's listen_local with IPV4_ONLY. */
  const char *host =
      g_str_equal(s->config.listen_host, "localhost") ? "127.0.0.1" : s->config.listen_host;
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(host);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(addr, s->config.listen_port);
  return am_http_conns_listen(s->conns, sa, error);
}

gboolean
am_http_server_start(AmHttpServer *s, GError **error)
{
  g_autoptr(GError) local = NULL;
  if (!listen_on(s, &local)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "cannot listen on %s:%u: %s",
                s->config.listen_host, s->config.listen_port, local->message);
    return FALSE;
  }
  GInetSocketAddress *where = am_http_conns_get_address(s->conns);
  g_autofree char *ip = g_inet_address_to_string(g_inet_socket_address_get_address(where));
  gboolean v6 =
      g_inet_address_get_family(g_inet_socket_address_get_address(where)) == G_SOCKET_FAMILY_IPV6;
  s->url = g_strdup_printf("%s://%s%s%s:%u/", s->config.tls != NULL ? "https" : "http",
                           v6 ? "[" : "", ip, v6 ? "]" : "", g_inet_socket_address_get_port(where));
  g_message("HTTP API listening on %s%s%s (at most %u connections)", s->url,
            s->config.token != NULL ? " (bearer token required)" : "",
            s->config.actions ? " (actions on)" : "", s->config.max_connections);
  return TRUE;
}

const char *
am_http_server_get_url(AmHttpServer *s)
{
  return s->url;
}

JsonNode *
am_http_server_connections_json(AmHttpServer *s)
{
  AmHttpConnStats st;
  am_http_conns_get_stats(s->conns, &st);
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "open", st.open);
  json_object_set_int_member(o, "idle", st.idle);
  json_object_set_int_member(o, "max", s->config.max_connections);
  json_object_set_int_member(o, "accepted", (gint64)st.accepted);
  json_object_set_int_member(o, "refused", (gint64)st.refused);
  json_object_set_int_member(o, "idle_evicted", (gint64)st.evicted);
  json_object_set_int_member(o, "idle_closed", (gint64)st.idle_closed);
  json_object_set_int_member(o, "request_timeouts", (gint64)st.timed_out);
  JsonNode *node = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(node, o);
  return node;
}

void
am_http_server_free(AmHttpServer *s)
{
  if (s == NULL)
    return;
  /* Replies still waiting for the store are dropped: their callbacks see
   * the cancelled cancellable and free themselves. */
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, s->deferred);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    AmHttpDeferred *d = key;
    d->server = NULL;
    g_cancellable_cancel(d->cancellable);
  }
  g_hash_table_unref(s->deferred);
  soup_server_disconnect(s->soup);
  am_http_conns_free(s->conns);
  g_object_unref(s->soup);
  am_http_static_free(s->assets);
  am_http_fleet_free(s->fleet);
  g_clear_pointer(&s->health, json_node_unref);
  g_clear_pointer(&s->summary, g_bytes_unref);
  am_http_config_clear(&s->config);
  g_free(s->url);
  g_free(s);
}
