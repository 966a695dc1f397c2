/* The CGMiner API transport against in-process servers on the loopback
 * address that answer like cgminer (NUL-terminated, one request per
 * connection) or misbehave on purpose: hang, close, garbage, truncate,
 * stream forever, drip slowly, refuse, or never accept. */
#include "am-test-util.h"
#include <string.h>

#define HUGE_BYTES (64u * 1024u * 1024u)
#define HUGE_CHUNK (64u * 1024u)
#define SHORT_DEADLINE_MS 300

/* ---- a scripted cgminer ---- */

typedef enum {
  SERVE_REPLY, /* send the body, close */
  SERVE_HANG,  /* accept, then never read nor write */
  SERVE_CLOSE, /* close at once */
  SERVE_DRIP,  /* send the body a few bytes per tick, close */
  SERVE_HUGE,  /* stream HUGE_BYTES of non-NUL bytes */
} Serve;

typedef struct {
  char *command; /* NULL: any command */
  Serve serve;
  GBytes *body;
} Rule;

typedef struct {
  GSocketService *service;
  char *host;
  guint16 port;
  GPtrArray *rules;
  GPtrArray *active;       /* Conn */
  GPtrArray *requests;     /* JsonNode of each request received */
  GPtrArray *raw_requests; /* GBytes: each request's bytes as received */
  GCancellable *cancellable;
  GCancellable *cancel_on_accept; /* the client's, to cancel mid-call */
  guint accepted;
  gsize drip_bytes;
  guint drip_ms;
  gsize huge_written;
  gboolean huge_done;
} TestServer;

typedef struct {
  TestServer *server;
  GSocketConnection *conn;
  GByteArray *request;
  guint8 buf[4096];
  const Rule *rule;
  gsize sent;
  guint drip_source;
  guint8 *huge_chunk;
  gboolean hanging;
} Conn;

static void
rule_free(Rule *rule)
{
  g_free(rule->command);
  g_clear_pointer(&rule->body, g_bytes_unref);
  g_free(rule);
}

static void
server_add_rule(TestServer *s, const char *command, Serve serve, GBytes *body)
{
  Rule *rule = g_new0(Rule, 1);
  rule->command = g_strdup(command);
  rule->serve = serve;
  rule->body = body != NULL ? g_bytes_ref(body) : NULL;
  g_ptr_array_add(s->rules, rule);
}

/* @text as cgminer sends it: with the terminating NUL. */
static void
server_reply(TestServer *s, const char *command, const char *text)
{
  g_autoptr(GBytes) body = g_bytes_new(text, strlen(text) + 1);
  server_add_rule(s, command, SERVE_REPLY, body);
}

/* @text exactly, without a NUL: a reply cut short by closing. */
static void
server_reply_raw(TestServer *s, const char *command, const char *text)
{
  g_autoptr(GBytes) body = g_bytes_new(text, strlen(text));
  server_add_rule(s, command, SERVE_REPLY, body);
}

static void
server_fixture(TestServer *s, const char *command, const char *relpath)
{
  g_autoptr(GBytes) body = am_test_fixture_bytes(relpath);
  server_add_rule(s, command, SERVE_REPLY, body);
}

static const Rule *
server_find_rule(TestServer *s, const char *command)
{
  for (guint i = 0; i < s->rules->len; i++) {
    const Rule *rule = s->rules->pdata[i];
    if (rule->command == NULL || g_strcmp0(rule->command, command) == 0)
      return rule;
  }
  g_error("test server: no rule for command %s", command);
  return NULL;
}

static void
conn_finish(Conn *c)
{
  if (c->drip_source != 0)
    g_source_remove(c->drip_source);
  g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
  g_object_unref(c->conn);
  g_byte_array_unref(c->request);
  g_free(c->huge_chunk);
  g_ptr_array_remove(c->server->active, c);
  g_free(c);
}

static GOutputStream *
conn_out(Conn *c)
{
  return g_io_stream_get_output_stream(G_IO_STREAM(c->conn));
}

static void
on_reply_written(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, NULL);
  conn_finish(user_data);
}

static gboolean
on_drip(gpointer user_data)
{
  Conn *c = user_data;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data(c->rule->body, &len);
  gsize n = MIN(c->server->drip_bytes, len - c->sent);
  if (g_cancellable_is_cancelled(c->server->cancellable) ||
      !g_output_stream_write_all(conn_out(c), data + c->sent, n, NULL, NULL, NULL)) {
    c->drip_source = 0;
    conn_finish(c);
    return G_SOURCE_REMOVE;
  }
  c->sent += n;
  if (c->sent < len)
    return G_SOURCE_CONTINUE;
  c->drip_source = 0;
  conn_finish(c);
  return G_SOURCE_REMOVE;
}

static void huge_next(Conn *c);

static void
on_huge_written(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Conn *c = user_data;
  gsize written = 0;
  gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, &written, NULL);
  c->server->huge_written += written;
  if (ok && c->server->huge_written < HUGE_BYTES) {
    huge_next(c);
    return;
  }
  c->server->huge_done = TRUE;
  conn_finish(c);
}

static void
huge_next(Conn *c)
{
  g_output_stream_write_all_async(conn_out(c), c->huge_chunk, HUGE_CHUNK, G_PRIORITY_DEFAULT,
                                  c->server->cancellable, on_huge_written, c);
}

static void
conn_respond(Conn *c)
{
  gsize len = 0;
  const void *data = c->rule->body != NULL ? g_bytes_get_data(c->rule->body, &len) : NULL;
  switch (c->rule->serve) {
  case SERVE_REPLY:
    g_output_stream_write_all_async(conn_out(c), data, len, G_PRIORITY_DEFAULT,
                                    c->server->cancellable, on_reply_written, c);
    break;
  case SERVE_DRIP:
    c->drip_source = g_timeout_add(c->server->drip_ms, on_drip, c);
    break;
  case SERVE_HUGE:
    c->huge_chunk = g_malloc(HUGE_CHUNK);
    memset(c->huge_chunk, 'x', HUGE_CHUNK);
    huge_next(c);
    break;
  case SERVE_HANG:
    c->hanging = TRUE; /* after reading the request: a miner stuck mid-reply */
    break;
  case SERVE_CLOSE:
    conn_finish(c);
    break;
  }
}

static void conn_read(Conn *c);

static void
on_request_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Conn *c = user_data;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, NULL);
  if (n <= 0) {
    conn_finish(c);
    return;
  }
  g_byte_array_append(c->request, c->buf, n);
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, (const char *)c->request->data, c->request->len, NULL)) {
    conn_read(c); /* not all of it yet */
    return;
  }
  JsonNode *root = json_parser_get_root(parser);
  g_ptr_array_add(c->server->requests, json_node_copy(root));
  g_ptr_array_add(c->server->raw_requests, g_bytes_new(c->request->data, c->request->len));
  const char *command = am_json_string(json_node_get_object(root), "command");
  c->rule = server_find_rule(c->server, command);
  conn_respond(c);
}

static void
conn_read(Conn *c)
{
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(c->conn));
  g_input_stream_read_async(in, c->buf, sizeof c->buf, G_PRIORITY_DEFAULT, c->server->cancellable,
                            on_request_read, c);
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *connection, GObject *source,
            gpointer user_data)
{
  TestServer *s = user_data;
  s->accepted++;
  if (s->cancel_on_accept != NULL)
    g_cancellable_cancel(s->cancel_on_accept);

  Conn *c = g_new0(Conn, 1);
  c->server = s;
  c->conn = g_object_ref(connection);
  c->request = g_byte_array_new();
  g_ptr_array_add(s->active, c);

  /* Faults that act before the request is read. */
  const Rule *first = s->rules->len > 0 ? s->rules->pdata[0] : NULL;
  if (first != NULL && first->command == NULL && first->serve == SERVE_HANG) {
    c->hanging = TRUE;
    return TRUE;
  }
  if (first != NULL && first->command == NULL && first->serve == SERVE_CLOSE) {
    conn_finish(c);
    return TRUE;
  }
  conn_read(c);
  return TRUE;
}

/* A server on @host (a loopback literal) port 0, or NULL when that address
 * cannot be bound here (no IPv6). */
static TestServer *
test_server_new(const char *host)
{
  TestServer *s = g_new0(TestServer, 1);
  s->host = g_strdup(host);
  s->rules = g_ptr_array_new_with_free_func((GDestroyNotify)rule_free);
  s->active = g_ptr_array_new();
  s->requests = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
  s->raw_requests = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  s->cancellable = g_cancellable_new();
  s->drip_bytes = 16;
  s->drip_ms = 5;
  s->service = g_socket_service_new();

  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(host);
  g_assert_true(g_inet_address_get_is_loopback(inet)); /* never anything else */
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new(inet, 0);
  g_autoptr(GSocketAddress) got = NULL;
  if (!g_socket_listener_add_address(G_SOCKET_LISTENER(s->service), want, G_SOCKET_TYPE_STREAM,
                                     G_SOCKET_PROTOCOL_TCP, NULL, &got, NULL)) {
    g_object_unref(s->service);
    g_free(s->host);
    g_ptr_array_unref(s->rules);
    g_ptr_array_unref(s->active);
    g_ptr_array_unref(s->requests);
    g_ptr_array_unref(s->raw_requests);
    g_object_unref(s->cancellable);
    g_free(s);
    return NULL;
  }
  s->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(got));
  g_signal_connect(s->service, "incoming", G_CALLBACK(on_incoming), s);
  g_socket_service_start(s->service);
  return s;
}

static void
test_server_free(TestServer *s)
{
  g_socket_service_stop(s->service);
  g_socket_listener_close(G_SOCKET_LISTENER(s->service));
  g_cancellable_cancel(s->cancellable);
  /* Hung connections wait on nothing; the rest finish on the cancel. */
  for (guint i = s->active->len; i > 0; i--) {
    Conn *c = s->active->pdata[i - 1];
    if (c->hanging || c->drip_source != 0)
      conn_finish(c);
  }
  while (s->active->len > 0)
    g_main_context_iteration(NULL, TRUE);
  g_object_unref(s->service);
  g_ptr_array_unref(s->rules);
  g_ptr_array_unref(s->active);
  g_ptr_array_unref(s->requests);
  g_ptr_array_unref(s->raw_requests);
  g_object_unref(s->cancellable);
  g_free(s->host);
  g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestServer, test_server_free)

static char *
server_address(TestServer *s)
{
  return strchr(s->host, ':') != NULL ? g_strdup_printf("[%s]:%u", s->host, s->port)
                                      : g_strdup_printf("%s:%u", s->host, s->port);
}

/* ---- running calls to completion ---- */

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref(result);
}

static GAsyncResult *
wait_for(GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration(NULL, TRUE);
  return *slot;
}

typedef struct {
  AmRpcReply *reply;
  GBytes *raw;
  GError *error;
  gint64 elapsed_us;
} CallResult;

static void
call_result_clear(CallResult *r)
{
  g_clear_pointer(&r->reply, am_rpc_reply_unref);
  g_clear_pointer(&r->raw, g_bytes_unref);
  g_clear_error(&r->error);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CallResult, call_result_clear)

static void
call_full(TestServer *s, const char *command, const char *parameter, guint timeout_ms,
          GCancellable *cancellable, CallResult *out)
{
  g_autoptr(GAsyncResult) result = NULL;
  gint64 start = g_get_monotonic_time();
  am_rpc_call_async(s->host, s->port, command, parameter, timeout_ms, cancellable, on_done,
                    &result);
  wait_for(&result);
  out->elapsed_us = g_get_monotonic_time() - start;
  out->reply = am_rpc_call_finish(result, &out->raw, &out->error);
}

static void
call(TestServer *s, const char *command, guint timeout_ms, CallResult *out)
{
  call_full(s, command, NULL, timeout_ms, NULL, out);
}

/* Asserts @r failed with @domain/@code and that the message names the server. */
static void
assert_failed(TestServer *s, CallResult *r, GQuark domain, gint code)
{
  g_assert_null(r->reply);
  g_assert_error(r->error, domain, code);
  g_autofree char *address = server_address(s);
  g_assert_true(g_str_has_prefix(r->error->message, address));
}

static JsonObject *
request_object(TestServer *s, guint index)
{
  g_assert_cmpuint(index, <, s->requests->len);
  return json_node_get_object(s->requests->pdata[index]);
}

/* ---- the plain call ---- */

static void
test_call_ok(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_fixture(s, NULL, "bmminer/s9_stats.json");

  g_auto(CallResult) r = {0};
  call(s, "stats", 0, &r);
  g_assert_no_error(r.error);
  g_assert_nonnull(r.reply);
  /* The "}{" was repaired and the data block is readable. */
  JsonObject *stats = am_rpc_reply_get_section(r.reply, "stats", NULL);
  g_assert_true(stats == am_rpc_reply_get_root(r.reply));
  JsonObject *data = am_json_array_find_with_key(am_json_array(stats, "STATS"), "GHS 5s");
  g_assert_cmpstr(am_json_string(data, "GHS 5s"), ==, "13883.81");

  /* The raw bytes are as received, NUL included. */
  g_autoptr(GBytes) fixture = am_test_fixture_bytes("bmminer/s9_stats.json");
  g_assert_true(g_bytes_equal(am_rpc_reply_get_raw(r.reply), fixture));
  g_assert_true(g_bytes_equal(r.raw, fixture));

  /* The request was {"command":"stats"}, with no parameter member. */
  JsonObject *req = request_object(s, 0);
  g_assert_cmpstr(am_json_string(req, "command"), ==, "stats");
  g_assert_false(json_object_has_member(req, "parameter"));

  /* The reply outlives the call through its own reference. */
  AmRpcReply *extra = am_rpc_reply_ref(r.reply);
  g_clear_pointer(&r.reply, am_rpc_reply_unref);
  g_assert_nonnull(am_json_array(am_rpc_reply_get_root(extra), "STATS"));
  am_rpc_reply_unref(extra);
}

static void
test_request_quoting(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_reply(s, NULL, "{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":55}],\"id\":1}");

  g_auto(CallResult) r = {0};
  const char *parameter = "stratum+tcp://pool:3333,user\"x\\y,pass";
  call_full(s, "addpool", parameter, 0, NULL, &r);
  g_assert_no_error(r.error);
  JsonObject *req = request_object(s, 0);
  g_assert_cmpstr(am_json_string(req, "command"), ==, "addpool");
  g_assert_cmpstr(am_json_string(req, "parameter"), ==, parameter);
}

static void
test_call_api_error(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_fixture(s, NULL, "hiveon/s19jpro_devdetails-access-denied.json");

  g_auto(CallResult) r = {0};
  call(s, "devdetails", 0, &r);
  assert_failed(s, &r, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(r.error->message, "API error 45: Access denied to 'devdetails'"));
  /* It parsed; the bytes are still there for the raw view. */
  g_assert_nonnull(r.raw);
  g_assert_cmpuint(g_bytes_get_size(r.raw), ==, 139);
}

static void
test_call_garbage(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_reply(s, NULL, "SSH-2.0-dropbear_2019.78\r\n");

  g_auto(CallResult) r = {0};
  call(s, "summary", 0, &r);
  assert_failed(s, &r, AM_ERROR, AM_ERROR_PARSE);
  g_assert_nonnull(strstr(r.error->message, "\"SSH-2.0-dropbear"));
  g_assert_nonnull(r.raw);
  g_assert_true(g_str_has_prefix(g_bytes_get_data(r.raw, NULL), "SSH-2.0"));
}

/* A web server on the RPC port (ePIC UMC serves HTTP on 4028): said at
 * once, by name, with the bytes kept for the raw view. */
static void
test_call_http(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_reply(s, NULL, "HTTP/1.1 400 Bad Request\r\nServer: lighttpd\r\n\r\n<html>no</html>");

  g_auto(CallResult) r = {0};
  call(s, "summary", 0, &r);
  assert_failed(s, &r, AM_ERROR, AM_ERROR_PROTOCOL);
  g_assert_nonnull(strstr(r.error->message, "the port speaks HTTP, not the cgminer API"));
  g_assert_nonnull(r.raw);
  g_assert_true(g_str_has_prefix(g_bytes_get_data(r.raw, NULL), "HTTP/1."));
}

static void
test_call_truncated(void)
{
  /* The miner closes mid-reply without the NUL: keep what is complete. */
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_reply_raw(s, NULL,
                   "{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":11,\"Msg\":\"Summary\"}],"
                   "\"SUMMARY\":[{\"Elapsed\":118,\"MHS av\":47071128.8,\"MHS 5s\":5212");

  g_auto(CallResult) r = {0};
  call(s, "summary", 0, &r);
  g_assert_no_error(r.error);
  JsonObject *summary =
      am_json_array_object(am_json_array(am_rpc_reply_get_root(r.reply), "SUMMARY"), 0);
  g_assert_cmpint(am_json_int(summary, "Elapsed", 0), ==, 118);
  g_assert_cmpfloat(am_json_double(summary, "MHS av"), ==, 47071128.8);
  g_assert_false(json_object_has_member(summary, "MHS 5s")); /* cut short: dropped */
}

static void
test_call_closed_at_once(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_add_rule(s, NULL, SERVE_CLOSE, NULL);

  g_auto(CallResult) r = {0};
  call(s, "summary", 0, &r);
  assert_failed(s, &r, AM_ERROR, AM_ERROR_RESET);
  g_assert_nonnull(strstr(r.error->message, "closed the connection without replying"));
  g_assert_null(r.raw);
}

static void
test_call_closed_after_request(void)
{
  /* Read the request, then close without a byte: still a reset. */
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_reply_raw(s, NULL, "");

  g_auto(CallResult) r = {0};
  call(s, "summary", 0, &r);
  assert_failed(s, &r, AM_ERROR, AM_ERROR_RESET);
  g_assert_cmpuint(s->requests->len, ==, 1);
}

static void
test_call_hang_times_out(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_add_rule(s, NULL, SERVE_HANG, NULL);

  g_auto(CallResult) r = {0};
  call(s, "summary", SHORT_DEADLINE_MS, &r);
  assert_failed(s, &r, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_nonnull(strstr(r.error->message, "timed out after 0.3 s"));
  /* The deadline did it: not before it, and long before anything else would. */
  g_assert_cmpint(r.elapsed_us, >=, SHORT_DEADLINE_MS * 1000 - 1000);
  g_assert_cmpint(r.elapsed_us, <, 10 * G_USEC_PER_SEC);
  g_assert_cmpuint(s->accepted, ==, 1);
}

static void
test_call_hang_after_request_times_out(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_add_rule(s, "summary", SERVE_HANG, NULL);

  g_auto(CallResult) r = {0};
  call(s, "summary", SHORT_DEADLINE_MS, &r);
  assert_failed(s, &r, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_cmpuint(s->requests->len, ==, 1);
}

static void
test_call_slow_drip_completes(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  g_autoptr(GBytes) body = am_test_fixture_bytes("bmminer/s9_version.json");
  server_add_rule(s, NULL, SERVE_DRIP, body);
  s->drip_bytes = 32;
  s->drip_ms = 5;

  g_auto(CallResult) r = {0};
  call(s, "version", 5000, &r);
  g_assert_no_error(r.error);
  JsonObject *version =
      am_json_array_object(am_json_array(am_rpc_reply_get_root(r.reply), "VERSION"), 0);
  g_assert_cmpstr(am_json_string(version, "Type"), ==, "Antminer S9\nV1.3.58");
  g_assert_true(g_bytes_equal(r.raw, body));
}

static void
test_call_slow_drip_times_out(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  g_autoptr(GBytes) body = am_test_fixture_bytes("bmminer/s9_pools.json");
  server_add_rule(s, NULL, SERVE_DRIP, body);
  s->drip_bytes = 8;
  s->drip_ms = 50; /* ~2 KB at 160 B/s: far past the deadline */

  g_auto(CallResult) r = {0};
  call(s, "pools", SHORT_DEADLINE_MS, &r);
  assert_failed(s, &r, AM_ERROR, AM_ERROR_TIMEOUT);
  /* What had come is kept for the raw view. */
  g_assert_nonnull(r.raw);
  g_assert_cmpuint(g_bytes_get_size(r.raw), <, g_bytes_get_size(body));
  g_assert_cmpmem(g_bytes_get_data(r.raw, NULL), g_bytes_get_size(r.raw),
                  g_bytes_get_data(body, NULL), g_bytes_get_size(r.raw));
}

static void
test_call_huge_stream(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_add_rule(s, NULL, SERVE_HUGE, NULL);

  g_auto(CallResult) r = {0};
  call(s, "stats", 30000, &r);
  assert_failed(s, &r, AM_ERROR, AM_ERROR_TOO_LARGE);
  g_assert_nonnull(strstr(r.error->message, "4194304"));
  g_assert_null(r.raw); /* an over-cap stream is not kept */

  /* The client stopped reading at the cap, so the server's writes failed
   * long before its 64 MiB were out. */
  while (!s->huge_done)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpuint(s->huge_written, <, HUGE_BYTES / 2);
}

static void
test_call_cap_boundary(void)
{
  /* A reply of exactly the cap (NUL included) passes; one byte more fails. */
  const gsize cap = 1000;
  g_autoptr(GString) text = g_string_new("{\"STATUS\":[{\"STATUS\":\"S\"}],\"pad\":\"");
  while (text->len < cap - 3)
    g_string_append_c(text, 'p');
  g_string_append(text, "\"}");
  g_assert_cmpuint(text->len + 1, ==, cap);

  am_rpc_set_max_reply(cap);
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_reply(s, "fits", text->str);
  g_string_insert_c(text, text->len - 2, 'p');
  server_reply(s, "over", text->str);

  g_auto(CallResult) fits = {0};
  call(s, "fits", 0, &fits);
  g_auto(CallResult) over = {0};
  call(s, "over", 0, &over);
  am_rpc_set_max_reply(0); /* back to the default */

  g_assert_no_error(fits.error);
  g_assert_cmpuint(g_bytes_get_size(am_rpc_reply_get_raw(fits.reply)), ==, cap);
  assert_failed(s, &over, AM_ERROR, AM_ERROR_TOO_LARGE);
}

/* A loopback port bound and closed again: nothing listens there now. */
static guint16
closed_port(void)
{
  g_autoptr(GSocket) sock =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(sock, any, FALSE, NULL));
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address(sock, NULL);
  guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_socket_close(sock, NULL);
  return port;
}

static void
test_call_refused(void)
{
  guint16 port = closed_port();
  g_autoptr(GAsyncResult) result = NULL;
  am_rpc_call_async("127.0.0.1", port, "summary", NULL, 2000, NULL, on_done, &result);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(wait_for(&result), &raw, &error);
  g_assert_null(reply);
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
  g_autofree char *expect = g_strdup_printf("127.0.0.1:%u: connection refused", port);
  g_assert_cmpstr(error->message, ==, expect);
  g_assert_null(raw);
}

static void
test_call_silent_host(void)
{
  /* A listener with backlog 0 whose one queue slot is taken by a connection
   * nobody accepts: the next SYN is dropped, so connect never completes. */
  g_autoptr(GSocket) listener =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) want = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(listener, want, FALSE, NULL));
  g_socket_set_listen_backlog(listener, 0);
  g_assert_true(g_socket_listen(listener, NULL));
  g_autoptr(GSocketAddress) addr = g_socket_get_local_address(listener, NULL);
  guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr));

  g_autoptr(GSocket) filler =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true(g_socket_connect(filler, addr, NULL, NULL));

  g_autoptr(GAsyncResult) result = NULL;
  gint64 start = g_get_monotonic_time();
  am_rpc_call_async("127.0.0.1", port, "summary", NULL, SHORT_DEADLINE_MS, NULL, on_done, &result);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(wait_for(&result), NULL, &error);
  gint64 elapsed = g_get_monotonic_time() - start;
  g_assert_null(reply);
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  g_autofree char *expect = g_strdup_printf("127.0.0.1:%u: timed out after 0.3 s", port);
  g_assert_cmpstr(error->message, ==, expect);
  g_assert_cmpint(elapsed, >=, SHORT_DEADLINE_MS * 1000 - 1000);
  g_socket_close(filler, NULL);
  g_socket_close(listener, NULL);
}

static void
test_call_cancelled(void)
{
  /* The caller cancels while the miner hangs: cancelled, not a timeout. */
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_add_rule(s, NULL, SERVE_HANG, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  s->cancel_on_accept = cancellable;

  g_auto(CallResult) r = {0};
  call_full(s, "summary", NULL, 5000, cancellable, &r);
  assert_failed(s, &r, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint(s->accepted, ==, 1);
  s->cancel_on_accept = NULL;

  /* Already cancelled before the call: the same. */
  g_auto(CallResult) r2 = {0};
  call_full(s, "summary", NULL, 5000, cancellable, &r2);
  assert_failed(s, &r2, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_call_ipv6(void)
{
  g_autoptr(TestServer) s = test_server_new("::1");
  if (s == NULL) {
    g_test_skip("no IPv6 loopback here");
    return;
  }
  server_fixture(s, "version", "bmminer/s9_version.json");
  server_fixture(s, "devdetails", "hiveon/s19jpro_devdetails-access-denied.json");

  g_auto(CallResult) ok = {0};
  call(s, "version", 0, &ok);
  g_assert_no_error(ok.error);
  JsonObject *version =
      am_json_array_object(am_json_array(am_rpc_reply_get_root(ok.reply), "VERSION"), 0);
  g_assert_cmpstr(am_json_string(version, "BMMiner"), ==, "2.0.0");

  g_auto(CallResult) bad = {0};
  call(s, "devdetails", 0, &bad);
  assert_failed(s, &bad, AM_ERROR, AM_ERROR_API);
  g_autofree char *prefix = g_strdup_printf("[::1]:%u: ", s->port);
  g_assert_true(g_str_has_prefix(bad.error->message, prefix));
}

/* ---- the raw exchange (am_rpc_send_async) ---- */

typedef struct {
  GBytes *reply;
  GError *error;
  gboolean sent;
} SendResult;

static void
send_result_clear(SendResult *r)
{
  g_clear_pointer(&r->reply, g_bytes_unref);
  g_clear_error(&r->error);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SendResult, send_result_clear)

static void
send_full(const char *host, guint16 port, const char *request, guint timeout_ms,
          GCancellable *cancellable, SendResult *out)
{
  g_autoptr(GBytes) bytes = g_bytes_new(request, strlen(request));
  g_autoptr(GAsyncResult) result = NULL;
  am_rpc_send_async(host, port, bytes, timeout_ms, cancellable, on_done, &result);
  wait_for(&result);
  out->reply = am_rpc_send_finish(result, &out->error);
  out->sent = am_rpc_send_was_sent(result);
}

static void
send_to(TestServer *s, const char *request, guint timeout_ms, SendResult *out)
{
  send_full(s->host, s->port, request, timeout_ms, NULL, out);
}

static void
assert_send_failed(TestServer *s, SendResult *r, GQuark domain, gint code)
{
  g_assert_null(r->reply);
  g_assert_error(r->error, domain, code);
  g_autofree char *address = server_address(s);
  g_assert_true(g_str_has_prefix(r->error->message, address));
}

/* Whatsminer v2's encrypted envelope: JSON that is not a cgminer command,
 * with spacing and an escape json-glib would not write. */
#define RAW_REQUEST "{ \"enc\" : 1,\n  \"data\":\"q83v\\/Ez+AA==\" }"

static void
test_send_raw_request(void)
{
  /* A reply of several read chunks, NUL-terminated, that is not cgminer's. */
  g_autoptr(GString) text = g_string_new("{\"enc\":\"");
  for (guint i = 0; text->len < 100000; i++)
    g_string_append_c(text, 'A' + i % 26);
  g_string_append(text, "\"}");
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_reply(s, NULL, text->str);

  g_auto(SendResult) r = {0};
  send_to(s, RAW_REQUEST, 0, &r);
  g_assert_no_error(r.error);
  g_assert_true(r.sent);

  /* The request arrived byte for byte, nothing added, nothing rebuilt. */
  g_assert_cmpuint(s->raw_requests->len, ==, 1);
  GBytes *got = s->raw_requests->pdata[0];
  g_assert_cmpmem(g_bytes_get_data(got, NULL), g_bytes_get_size(got), RAW_REQUEST,
                  strlen(RAW_REQUEST));

  /* The reply came back whole, its NUL included, not parsed nor checked. */
  g_assert_cmpmem(g_bytes_get_data(r.reply, NULL), g_bytes_get_size(r.reply), text->str,
                  text->len + 1);
}

static void
test_send_reply_ends(void)
{
  /* Closed without a NUL: everything that came, whatever it is. */
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_reply_raw(s, NULL, "not json, and no NUL");
  g_auto(SendResult) closed = {0};
  send_to(s, RAW_REQUEST, 0, &closed);
  g_assert_no_error(closed.error);
  g_assert_cmpmem(g_bytes_get_data(closed.reply, NULL), g_bytes_get_size(closed.reply),
                  "not json, and no NUL", 20);

  /* A NUL ends the reply: what follows it is not read. */
  g_autoptr(TestServer) s2 = test_server_new("127.0.0.1");
  g_autoptr(GBytes) body = g_bytes_new("{\"a\":1}\0{\"b\":2}", 15);
  server_add_rule(s2, NULL, SERVE_REPLY, body);
  g_auto(SendResult) nul = {0};
  send_to(s2, RAW_REQUEST, 0, &nul);
  g_assert_no_error(nul.error);
  g_assert_cmpmem(g_bytes_get_data(nul.reply, NULL), g_bytes_get_size(nul.reply), "{\"a\":1}\0", 8);

  /* Closed without a byte: a reset, though the request went out. */
  g_autoptr(TestServer) s3 = test_server_new("127.0.0.1");
  server_reply_raw(s3, NULL, "");
  g_auto(SendResult) empty = {0};
  send_to(s3, RAW_REQUEST, 0, &empty);
  assert_send_failed(s3, &empty, AM_ERROR, AM_ERROR_RESET);
  g_assert_nonnull(strstr(empty.error->message, "closed the connection without replying"));
  g_assert_true(empty.sent);
}

static void
test_send_timeout(void)
{
  /* The request is read, then nothing: the deadline ends it, and the
   * caller learns the request had gone out (a reboot taking effect). */
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  /* A first rule for a named command keeps the server reading the request;
   * the request has no "command", so the hang is what it gets. */
  server_add_rule(s, "never-sent", SERVE_REPLY, NULL);
  server_add_rule(s, NULL, SERVE_HANG, NULL);
  g_auto(SendResult) r = {0};
  send_to(s, RAW_REQUEST, SHORT_DEADLINE_MS, &r);
  assert_send_failed(s, &r, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_nonnull(strstr(r.error->message, "timed out after 0.3 s"));
  g_assert_true(r.sent);
  g_assert_cmpuint(s->raw_requests->len, ==, 1);
}

static void
test_send_size_cap(void)
{
  /* The cap of am_rpc_set_max_reply(), NUL included: exactly it passes
   * whole, one byte more is TOO_LARGE with nothing handed back. */
  const gsize cap = 1000;
  g_autoptr(GString) text = g_string_new(NULL);
  while (text->len < cap - 1)
    g_string_append_c(text, 'r');
  am_rpc_set_max_reply(cap);
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_reply(s, NULL, text->str);
  g_auto(SendResult) fits = {0};
  send_to(s, RAW_REQUEST, 0, &fits);
  g_string_append_c(text, 'r');
  g_autoptr(TestServer) s_over = test_server_new("127.0.0.1");
  server_reply(s_over, NULL, text->str);
  g_auto(SendResult) over = {0};
  send_to(s_over, RAW_REQUEST, 0, &over);
  am_rpc_set_max_reply(0); /* back to the default */

  g_assert_no_error(fits.error);
  g_assert_cmpuint(g_bytes_get_size(fits.reply), ==, cap);
  assert_send_failed(s_over, &over, AM_ERROR, AM_ERROR_TOO_LARGE);
  g_assert_nonnull(strstr(over.error->message, "reply is over the 1000-byte cap"));
}

static void
test_send_refused_and_cancelled(void)
{
  guint16 port = closed_port();
  g_auto(SendResult) refused = {0};
  send_full("127.0.0.1", port, RAW_REQUEST, 2000, NULL, &refused);
  g_assert_null(refused.reply);
  g_assert_error(refused.error, AM_ERROR, AM_ERROR_REFUSED);
  g_autofree char *expect = g_strdup_printf("127.0.0.1:%u: connection refused", port);
  g_assert_cmpstr(refused.error->message, ==, expect);
  g_assert_false(refused.sent);

  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_add_rule(s, NULL, SERVE_HANG, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  s->cancel_on_accept = cancellable;
  g_auto(SendResult) cancelled = {0};
  send_full(s->host, s->port, RAW_REQUEST, 5000, cancellable, &cancelled);
  s->cancel_on_accept = NULL;
  assert_send_failed(s, &cancelled, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* ---- multi-command ---- */

#define MULTI_REPLY                                                                                \
  "{\"summary\":[{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":11,\"Msg\":\"Summary\"}],"                \
  "\"SUMMARY\":[{\"Elapsed\":5,\"GHS 5s\":\"13.5\"}],\"id\":1}],"                                  \
  "\"stats\":[{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":70,\"Msg\":\"CGMiner stats\"}],"             \
  "\"STATS\":[{\"CGMiner\":\"4.9\"}{\"STATS\":0,\"temp1\":61}],\"id\":1}],"                        \
  "\"devdetails\":[{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":45,"                                    \
  "\"Msg\":\"Access denied to 'devdetails' command\"}],\"id\":1}],\"id\":1}"

static void
test_multi_command(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_reply(s, NULL, MULTI_REPLY);

  g_auto(CallResult) r = {0};
  call(s, "summary+stats+devdetails", 0, &r);
  /* One section's E status does not fail the call. */
  g_assert_no_error(r.error);
  g_assert_cmpstr(am_json_string(request_object(s, 0), "command"), ==, "summary+stats+devdetails");

  g_autoptr(GError) error = NULL;
  JsonObject *summary = am_rpc_reply_get_section(r.reply, "summary", &error);
  g_assert_no_error(error);
  JsonObject *sum0 = am_json_array_object(am_json_array(summary, "SUMMARY"), 0);
  g_assert_cmpint(am_json_int(sum0, "Elapsed", 0), ==, 5);

  JsonObject *stats = am_rpc_reply_get_section(r.reply, "stats", &error);
  g_assert_no_error(error);
  JsonObject *data = am_json_array_find_with_key(am_json_array(stats, "STATS"), "temp1");
  g_assert_cmpint(am_json_int(data, "temp1", 0), ==, 61);

  g_assert_null(am_rpc_reply_get_section(r.reply, "devdetails", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "API error 45"));
  g_assert_nonnull(strstr(error->message, "devdetails"));
  g_clear_error(&error);

  g_assert_null(am_rpc_reply_get_section(r.reply, "pools", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_assert_nonnull(strstr(error->message, "pools"));
}

static void
test_single_reply_section_is_root(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_fixture(s, NULL, "bmminer/s9_pools.json");

  g_auto(CallResult) r = {0};
  call(s, "pools", 0, &r);
  g_assert_no_error(r.error);
  g_autoptr(GError) error = NULL;
  JsonObject *pools = am_rpc_reply_get_section(r.reply, "pools", &error);
  g_assert_no_error(error);
  g_assert_true(pools == am_rpc_reply_get_root(r.reply));
  g_assert_cmpuint(json_array_get_length(am_json_array(pools, "POOLS")), ==, 3);
}

/* ---- on a miner ---- */

static AmMiner *
server_miner(TestServer *s, guint timeout_ms)
{
  AmMiner *miner = am_miner_new(s->host, s->port);
  am_miner_set_timeout_ms(miner, timeout_ms);
  return miner;
}

/* The stored raw text for @command, or NULL. (transfer full) */
static char *
raw_text(AmMiner *miner, const char *command)
{
  g_autoptr(JsonNode) node = am_miner_raw_to_json(miner);
  JsonObject *entry = am_json_object(json_node_get_object(node), command);
  return entry != NULL ? g_strdup(am_json_string(entry, "text")) : NULL;
}

static void
call_version(AmMiner *miner)
{
  g_autoptr(GAsyncResult) result = NULL;
  am_miner_rpc_async(miner, "version", NULL, NULL, on_done, &result);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmRpcReply) reply = am_miner_rpc_finish(miner, wait_for(&result), &error);
  g_assert_no_error(error);
}

/* Good replies are kept once the raw view was asked for (asking is what
 * raw_text() does), not before: a large fleet would hold them all. */
static void
test_miner_raw_store(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_fixture(s, "version", "bmminer/s9_version.json");
  server_reply(s, "stats", "this is not json");
  g_autoptr(AmMiner) miner = server_miner(s, 5000);

  call_version(miner);
  g_autofree char *unseen = raw_text(miner, "version");
  g_assert_null(unseen);
  call_version(miner);
  g_autofree char *version = raw_text(miner, "version");
  g_assert_nonnull(version);
  g_assert_nonnull(strstr(version, "\"BMMiner\":\"2.0.0\""));

  /* A reply that does not parse is kept even when nobody asked. */
  g_autoptr(AmMiner) fresh = server_miner(s, 5000);
  g_autoptr(GAsyncResult) result2 = NULL;
  am_miner_rpc_async(fresh, "stats", NULL, NULL, on_done, &result2);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmRpcReply) reply2 = am_miner_rpc_finish(fresh, wait_for(&result2), &error);
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_autofree char *stats = raw_text(fresh, "stats");
  g_assert_nonnull(stats);
  g_assert_true(g_str_has_prefix(stats, "this is not json"));
}

static void
test_miner_raw_not_stored_on_refused(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  guint16 port = s->port;
  g_clear_pointer(&s, test_server_free); /* nothing listens there now */
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", port);

  g_autoptr(GAsyncResult) result = NULL;
  am_miner_rpc_async(miner, "summary", NULL, NULL, on_done, &result);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmRpcReply) reply = am_miner_rpc_finish(miner, wait_for(&result), &error);
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
  g_autofree char *text = raw_text(miner, "summary");
  g_assert_null(text);
}

static GHashTable *
run_batch(AmMiner *miner, const char *const *commands, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  am_miner_rpc_batch_async(miner, commands, NULL, on_done, &result);
  return am_miner_rpc_batch_finish(miner, wait_for(&result), error);
}

static void
test_batch_leaves_out_api_errors(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_fixture(s, "version", "bmminer/s9_version.json");
  server_fixture(s, "devdetails", "hiveon/s19jpro_devdetails-access-denied.json");
  server_fixture(s, "pools", "bmminer/s9_pools.json");
  g_autoptr(AmMiner) miner = server_miner(s, 5000);

  const char *const commands[] = {"version", "devdetails", "pools", NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) replies = run_batch(miner, commands, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_hash_table_size(replies), ==, 2);
  AmRpcReply *pools = g_hash_table_lookup(replies, "pools");
  g_assert_nonnull(pools);
  g_assert_nonnull(am_json_array(am_rpc_reply_get_root(pools), "POOLS"));
  g_assert_nonnull(g_hash_table_lookup(replies, "version"));
  g_assert_false(g_hash_table_contains(replies, "devdetails"));

  /* One connection each, in order; the denied reply is in the raw view. */
  g_assert_cmpuint(s->accepted, ==, 3);
  g_assert_cmpstr(am_json_string(request_object(s, 1), "command"), ==, "devdetails");
  g_autofree char *denied = raw_text(miner, "devdetails");
  g_assert_nonnull(strstr(denied, "Access denied"));
}

static void
test_batch_fails_on_timeout(void)
{
  g_autoptr(TestServer) s = test_server_new("127.0.0.1");
  server_fixture(s, "version", "bmminer/s9_version.json");
  server_add_rule(s, "stats", SERVE_HANG, NULL);
  server_fixture(s, "pools", "bmminer/s9_pools.json");
  g_autoptr(AmMiner) miner = server_miner(s, SHORT_DEADLINE_MS);

  const char *const commands[] = {"version", "stats", "pools", NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) replies = run_batch(miner, commands, &error);
  g_assert_null(replies);
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  g_autofree char *address = server_address(s);
  g_assert_true(g_str_has_prefix(error->message, address));
  /* The batch stopped there: pools was never asked. */
  g_assert_cmpuint(s->requests->len, ==, 2);
}

static void
test_batch_empty(void)
{
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", 1);
  const char *const commands[] = {NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) replies = run_batch(miner, commands, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_hash_table_size(replies), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rpc/call/ok", test_call_ok);
  g_test_add_func("/rpc/call/request-quoting", test_request_quoting);
  g_test_add_func("/rpc/call/api-error", test_call_api_error);
  g_test_add_func("/rpc/call/garbage", test_call_garbage);
  g_test_add_func("/rpc/call/http", test_call_http);
  g_test_add_func("/rpc/call/truncated", test_call_truncated);
  g_test_add_func("/rpc/call/closed-at-once", test_call_closed_at_once);
  g_test_add_func("/rpc/call/closed-after-request", test_call_closed_after_request);
  g_test_add_func("/rpc/call/hang", test_call_hang_times_out);
  g_test_add_func("/rpc/call/hang-after-request", test_call_hang_after_request_times_out);
  g_test_add_func("/rpc/call/slow-drip-completes", test_call_slow_drip_completes);
  g_test_add_func("/rpc/call/slow-drip-times-out", test_call_slow_drip_times_out);
  g_test_add_func("/rpc/call/huge-stream", test_call_huge_stream);
  g_test_add_func("/rpc/call/cap-boundary", test_call_cap_boundary);
  g_test_add_func("/rpc/call/refused", test_call_refused);
  g_test_add_func("/rpc/call/silent-host", test_call_silent_host);
  g_test_add_func("/rpc/call/cancelled", test_call_cancelled);
  g_test_add_func("/rpc/call/ipv6", test_call_ipv6);
  g_test_add_func("/rpc/send/raw-request", test_send_raw_request);
  g_test_add_func("/rpc/send/reply-ends", test_send_reply_ends);
  g_test_add_func("/rpc/send/timeout", test_send_timeout);
  g_test_add_func("/rpc/send/size-cap", test_send_size_cap);
  g_test_add_func("/rpc/send/refused-cancelled", test_send_refused_and_cancelled);
  g_test_add_func("/rpc/multi/sections", test_multi_command);
  g_test_add_func("/rpc/multi/single-reply-is-root", test_single_reply_section_is_root);
  g_test_add_func("/rpc/miner/raw-store", test_miner_raw_store);
  g_test_add_func("/rpc/miner/raw-not-stored-on-refused", test_miner_raw_not_stored_on_refused);
  g_test_add_func("/rpc/batch/api-error-left-out", test_batch_leaves_out_api_errors);
  g_test_add_func("/rpc/batch/timeout-fails", test_batch_fails_on_timeout);
  g_test_add_func("/rpc/batch/empty", test_batch_empty);
  return g_test_run();
}
