/* Listeners, connections and faults, for every protocol.
 *
 * A miner has one listener per protocol its profile serves (the RPC, HTTP,
 * Whatsminer v3, a second HTTP port), each on its own port. A fault applies to all of them.
 *
 * One GLib main loop, no threads. Listeners are GSockets; accepted
 * connections are plain non-blocking fds in one epoll set (see
 * am-fakeminer-poll.c), which keeps a request to a handful of syscalls and
 * no GObject: the fake has to outrun the daemon it is testing. In the common
 * case (request already there, reply fits the socket buffer) a connection
 * is never watched at all.
 */
#include "am-fakeminer.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH 64
#define HUGE_TOTAL (64u * 1024 * 1024)
#define GARBAGE_LEN 512
#define COMMAND_STATS_MAX 256 /* distinct command names counted */

typedef enum {
  CONN_READING,
  CONN_WRITING,
  CONN_DRIPPING,
  CONN_STREAMING,
  CONN_HOLDING,
} ConnState;

typedef struct {
  AmFmWatch watch; /* first: the poller hands it back; holds the fd */
  AmFmServer *server;
  AmFmMiner *miner;
  AmFmProtocol protocol;
  ConnState state;
  AmFmFault fault; /* as it was when the connection was accepted */
  guint timer;
  GByteArray *out; /* the reply; for huge, the head sent before the stream */
  gsize out_pos;
  guint64 streamed;
  gboolean keep_open; /* after this reply, read the next request */
  gsize consumed;     /* the bytes of the request being answered */
  gsize in_len;
  char in[AM_FM_REQUEST_MAX];
} Conn;

typedef struct {
  AmFmWatch watch; /* first: the poller hands it back */
  AmFmServer *server;
  AmFmMiner *miner;
  AmFmProtocol protocol;
} ListenCtx;

struct _AmFmServer {
  GPtrArray *miners; /* transfer none */
  AmFmPoll *poll;
  GHashTable *conns; /* set of Conn */
  guint64 connections;
  guint64 requests;
  guint64 by_fault[AM_FM_FAULT_COUNT];
  GHashTable *by_command; /* char * -> guint64 * */
  guint8 *huge;           /* header + records, streamed in a loop */
  gsize huge_len;
  gsize huge_header_len;
};

/* ---- connection life ---- */

static void
conn_unwatch(Conn *c)
{
  am_fm_poll_unwatch(c->server->poll, &c->watch);
}

static void
conn_watch(Conn *c, GIOCondition condition)
{
  am_fm_poll_watch(c->server->poll, &c->watch, condition);
}

static void
conn_free(Conn *c)
{
  conn_unwatch(c);
  if (c->timer != 0)
    g_source_remove(c->timer);
  close(c->watch.fd);
  if (c->out != NULL)
    g_byte_array_unref(c->out);
  g_free(c);
}

/* Returns FALSE, the "no longer alive" answer of every step below. */
static gboolean
conn_close(Conn *c)
{
  g_hash_table_remove(c->server->conns, c);
  conn_free(c);
  return FALSE;
}

/* Reads whatever the peer sent and we did not need: closing a socket with
 * unread bytes sends a reset, which could destroy the reply in flight. */
static void
drain_input(int fd)
{
  char sink[1024];
  for (int i = 0; i < 16; i++) {
    ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (n <= 0)
      return;
  }
}

static gboolean
conn_finish(Conn *c)
{
  drain_input(c->watch.fd);
  return conn_close(c);
}

static gboolean
would_block(void)
{
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

/* ---- writing ---- */

static gboolean conn_read(Conn *c);

/* HTTP keep-alive and v3: the reply is out, wait for the next request
 * (possibly already in the buffer, pipelined). */
static gboolean
conn_restart(Conn *c)
{
  g_clear_pointer(&c->out, g_byte_array_unref);
  c->out_pos = 0;
  c->in_len -= c->consumed;
  memmove(c->in, c->in + c->consumed, c->in_len);
  c->consumed = 0;
  c->keep_open = FALSE;
  c->state = CONN_READING;
  return conn_read(c);
}

static gboolean
conn_write(Conn *c)
{
  c->state = CONN_WRITING;
  while (c->out_pos < c->out->len) {
    ssize_t n =
        send(c->watch.fd, c->out->data + c->out_pos, c->out->len - c->out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_pos += (gsize)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && would_block()) {
      conn_watch(c, G_IO_OUT);
      return TRUE;
    } else {
      return conn_close(c);
    }
  }
  return c->keep_open ? conn_restart(c) : conn_finish(c);
}

static gboolean
drip_tick(gpointer data)
{
  Conn *c = data;
  ssize_t n = send(c->watch.fd, c->out->data + c->out_pos, 1, MSG_NOSIGNAL);
  if (n < 0 && (errno == EINTR || would_block()))
    return G_SOURCE_CONTINUE;
  if (n <= 0 || ++c->out_pos == c->out->len) {
    c->timer = 0; /* this source ends with the return below */
    if (n <= 0)
      conn_close(c);
    else
      conn_finish(c);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
conn_drip(Conn *c)
{
  c->state = CONN_DRIPPING;
  c->timer = g_timeout_add(c->miner->drip_ms, drip_tick, c);
  return TRUE;
}

/* The huge stream: the header once, then the records over and over, sent
 * from one static buffer so 64 MiB never exist in memory. */
static gboolean
conn_stream(Conn *c)
{
  AmFmServer *s = c->server;
  c->state = CONN_STREAMING;
  while (c->out != NULL && c->out_pos < c->out->len) { /* an HTTP or v3 head first */
    ssize_t n =
        send(c->watch.fd, c->out->data + c->out_pos, c->out->len - c->out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_pos += (gsize)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && would_block()) {
      conn_watch(c, G_IO_OUT);
      return TRUE;
    } else {
      return conn_close(c);
    }
  }
  gsize records = s->huge_len - s->huge_header_len;
  while (c->streamed < HUGE_TOTAL) {
    gsize offset = c->streamed < s->huge_len
                       ? (gsize)c->streamed
                       : s->huge_header_len + (gsize)((c->streamed - s->huge_header_len) % records);
    gsize len = MIN(s->huge_len - offset, (gsize)(HUGE_TOTAL - c->streamed));
    ssize_t n = send(c->watch.fd, s->huge + offset, len, MSG_NOSIGNAL);
    if (n > 0) {
      c->streamed += (guint64)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && would_block()) {
      conn_watch(c, G_IO_OUT);
      return TRUE;
    } else {
      return conn_close(c); /* the peer went away: stop */
    }
  }
  return conn_finish(c);
}

/* ---- answering ---- */

static void
count_command(AmFmServer *s, const char *command)
{
  guint64 *count = g_hash_table_lookup(s->by_command, command);
  if (count == NULL) {
    if (g_hash_table_size(s->by_command) >= COMMAND_STATS_MAX || strlen(command) > 40)
      command = "(other)";
    count = g_hash_table_lookup(s->by_command, command);
    if (count == NULL) {
      count = g_new0(guint64, 1);
      g_hash_table_insert(s->by_command, g_strdup(command), count);
    }
  }
  (*count)++;
}

/* Printable noise that no JSON parser accepts ('#' cannot start a value). */
static void
append_garbage(GByteArray *out, guint64 *rng)
{
  static const char first[] = "#%&*<>?@^~";
  guint8 byte = (guint8)first[am_fm_rng_next(rng) % (sizeof first - 1)];
  g_byte_array_append(out, &byte, 1);
  for (int i = 1; i < GARBAGE_LEN; i++) {
    byte = (guint8)(1 + am_fm_rng_next(rng) % 255); /* never NUL */
    g_byte_array_append(out, &byte, 1);
  }
}

static void
count_request(AmFmServer *s, const char *command)
{
  s->requests++;
  g_auto(GStrv) parts = g_strsplit(command, "+", -1);
  for (gsize i = 0; parts[i] != NULL; i++)
    count_command(s, parts[i]);
}

/* What this connection's fault sends in answer to @command, NUL included
 * where the fault has one. */
static GByteArray *
rpc_reply(Conn *c, const char *command)
{
  GByteArray *out = g_byte_array_sized_new(8192);
  gint64 when = g_get_real_time() / G_USEC_PER_SEC;
  if (c->fault == AM_FM_FAULT_APIERROR) {
    am_fm_reply_access_denied(command, when, out);
  } else if (c->miner->joined_refused && strchr(command, '+') != NULL) {
    am_fm_reply_invalid_command(when, out);
  } else if (c->fault == AM_FM_FAULT_GARBAGE) {
    append_garbage(out, &c->miner->rng);
  } else {
    AmFmVary vary;
    am_fm_miner_vary(c->miner, &vary);
    am_fm_reply_build(c->miner->profile, command, &vary, when, out);
  }
  if (c->fault == AM_FM_FAULT_TRUNCATE)
    g_byte_array_set_size(out, out->len / 2); /* and no NUL */
  else
    g_byte_array_append(out, (const guint8 *)"", 1);
  return out;
}

/* "GET:/api/system/info", "get.miner.status:summary": one word in stats. */
static void
count_route(AmFmServer *s, const char *first, const char *second)
{
  s->requests++;
  g_autofree char *name = second ? g_strconcat(first, ":", second, NULL) : g_strdup(first);
  count_command(s, name);
}

static GByteArray *
rpc_answer(Conn *c)
{
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  if (c->fault == AM_FM_FAULT_NONE) {
    /* Whatsminer v2: get_token, and the encrypted writes that carry no
     * "command" a cgminer would read. */
    GByteArray *out = g_byte_array_sized_new(512);
    if (am_fm_whatsminer_v2(c->miner, c->in, c->in_len, now, out)) {
      count_request(c->server,
                    g_strstr_len(c->in, (gssize)c->in_len, "get_token") ? "get_token" : "(enc)");
      g_byte_array_append(out, (const guint8 *)"", 1);
      return out;
    }
    g_byte_array_unref(out);
  }
  g_autofree char *command = am_fm_request_command(c->in, c->in_len);
  if (command == NULL)
    return NULL; /* garbage in: close, as cgminer drops it */
  count_request(c->server, command);
  if (c->fault == AM_FM_FAULT_HUGE)
    return g_byte_array_new();
  if (c->fault == AM_FM_FAULT_NONE && strchr(command, '+') == NULL) {
    g_autofree char *parameter = am_fm_request_parameter(c->in, c->in_len);
    GByteArray *out = g_byte_array_sized_new(512);
    if (am_fm_actions_rpc(c->miner, command, parameter, now, out)) {
      g_byte_array_append(out, (const guint8 *)"", 1);
      return out;
    }
    g_byte_array_unref(out);
  }
  return rpc_reply(c, command);
}

/* The profile's answer: the login's, when it has a say, else the route's. */
static void
http_route_reply(Conn *c, const AmFmHttpRequest *request, const char *method, AmFmHttpReply *reply)
{
  AmFmProfile *profile = c->miner->profile;
  AmFmAuth *auth = am_fm_profile_get_auth(profile, c->protocol);
  if (am_fm_auth_handle(auth, c->miner->label, request, reply))
    return;
  const char *key =
      am_fm_profile_match_http(profile, c->protocol, method, request->path, request->params);
  if (key != NULL && am_fm_actions_http(c->miner, key, request, reply) && reply->answered)
    return; /* the write's own answer */
  AmFmVary vary;
  am_fm_miner_vary(c->miner, &vary);
  if (key == NULL || !am_fm_profile_render_route(profile, c->protocol, key, &vary, reply->body,
                                                 &reply->content_type)) {
    reply->status = 404;
    reply->content_type = "text/plain";
    g_byte_array_append(reply->body, (const guint8 *)"Not Found", 9);
  }
}

/* The fault's body, or the profile's reply; garbage and apierror keep the
 * HTTP framing, so what fails is the payload, not the transport. */
static GByteArray *
http_answer(Conn *c, AmFmRequestState state)
{
  GByteArray *out = g_byte_array_sized_new(8192);
  g_auto(AmFmHttpRequest) request = {0};
  if (state == AM_FM_REQUEST_BAD || !am_fm_http_parse(c->in, c->consumed, &request)) {
    static const char text[] = "Bad Request";
    count_route(c->server, "(bad-http)", NULL);
    am_fm_http_response(400, "text/plain", NULL, (const guint8 *)text, sizeof text - 1, FALSE,
                        FALSE, out);
    return out;
  }
  count_route(c->server, request.method, request.path);
  if (c->fault == AM_FM_FAULT_HUGE) {
    am_fm_http_response_head_unbounded(out);
    return out;
  }
  gboolean head_only = g_str_equal(request.method, "HEAD");
  g_autoptr(GByteArray) body = g_byte_array_sized_new(8192);
  g_autoptr(GString) headers = g_string_new(NULL);
  AmFmHttpReply reply = {
      .status = 200, .content_type = "text/plain", .headers = headers, .body = body};
  if (c->fault == AM_FM_FAULT_APIERROR) {
    reply.status = 401;
    g_byte_array_append(body, (const guint8 *)"Unauthorized", 12);
  } else if (c->fault == AM_FM_FAULT_GARBAGE) {
    reply.content_type = "application/json";
    append_garbage(body, &c->miner->rng);
  } else {
    http_route_reply(c, &request, head_only ? "GET" : request.method, &reply);
  }
  c->keep_open = request.keep_alive && c->fault == AM_FM_FAULT_NONE;
  am_fm_http_response(reply.status, reply.content_type, headers->str, body->data, body->len,
                      head_only, c->keep_open, out);
  if (c->fault == AM_FM_FAULT_TRUNCATE)
    g_byte_array_set_size(out, out->len / 2);
  return out;
}

/* The reply listed under "cmd param", else under "cmd" (any param). */
static gboolean
v3_render(Conn *c, const char *cmd, const char *param, GByteArray *payload)
{
  AmFmVary vary;
  am_fm_miner_vary(c->miner, &vary);
  if (param != NULL) {
    g_autofree char *key = g_strconcat(cmd, " ", param, NULL);
    if (am_fm_profile_render_route(c->miner->profile, AM_FM_PROTOCOL_V3, key, &vary, payload, NULL))
      return TRUE;
  }
  return am_fm_profile_render_route(c->miner->profile, AM_FM_PROTOCOL_V3, cmd, &vary, payload,
                                    NULL);
}

static GByteArray *
v3_answer(Conn *c)
{
  GByteArray *out = g_byte_array_sized_new(8192);
  gint64 when = g_get_real_time() / G_USEC_PER_SEC;
  g_autofree char *cmd = NULL;
  g_autofree char *param = NULL;
  int code = am_fm_v3_parse(c->in + 4, c->consumed - 4, &cmd, &param);
  count_route(c->server, cmd ? cmd : "(bad-v3)", param);
  if (c->fault == AM_FM_FAULT_HUGE) {
    am_fm_v3_frame_header(HUGE_TOTAL, out);
    return out;
  }
  g_autoptr(GByteArray) payload = g_byte_array_sized_new(8192);
  if (c->fault == AM_FM_FAULT_APIERROR)
    am_fm_v3_error(AM_FM_V3_ACCESS_DENIED, "access denied", cmd ? cmd : "", when, payload);
  else if (c->fault == AM_FM_FAULT_GARBAGE)
    append_garbage(payload, &c->miner->rng);
  else if (code == AM_FM_V3_INVALID_JSON)
    am_fm_v3_error(code, "invalid json", "", when, payload);
  else if (code == 0 &&
           am_fm_whatsminer_v3(c->miner, cmd, c->in + 4, c->consumed - 4, when, payload))
    ; /* a write, answered */
  else if (code != 0 || !v3_render(c, cmd, param, payload))
    am_fm_v3_error(AM_FM_V3_INVALID_COMMAND, "invalid command", cmd ? cmd : "", when, payload);
  am_fm_v3_frame(payload->data, payload->len, out);
  c->keep_open = c->fault == AM_FM_FAULT_NONE;
  if (c->fault == AM_FM_FAULT_TRUNCATE)
    g_byte_array_set_size(out, out->len / 2);
  return out;
}

static void reboot_schedule(AmFmServer *server, AmFmMiner *miner);

static gboolean
conn_answer(Conn *c, AmFmRequestState state, gsize consumed)
{
  c->consumed = consumed;
  c->keep_open = FALSE;
  if (am_fm_protocol_is_http(c->protocol))
    c->out = http_answer(c, state);
  else if (c->protocol == AM_FM_PROTOCOL_V3)
    c->out = v3_answer(c);
  else
    c->out = rpc_answer(c);
  if (c->miner->state.reboot_requested) {
    /* The reply still goes out on this connection; the listeners go from
     * the main loop (we may be inside their accept loop here). */
    c->keep_open = FALSE;
    reboot_schedule(c->server, c->miner);
  }
  if (c->out == NULL)
    return conn_close(c);
  if (state == AM_FM_REQUEST_BAD)
    return conn_write(c);
  if (c->fault == AM_FM_FAULT_HUGE) {
    c->keep_open = FALSE;
    return conn_stream(c);
  }
  if (c->fault == AM_FM_FAULT_DRIP)
    return conn_drip(c);
  return conn_write(c);
}

/* ---- reading ---- */

static AmFmRequestState
request_state(Conn *c, gboolean drained, gboolean eof, gsize *consumed)
{
  switch (c->protocol) {
  case AM_FM_PROTOCOL_HTTP:
  case AM_FM_PROTOCOL_WEB:
    return am_fm_http_request_state(c->in, c->in_len, eof, consumed);
  case AM_FM_PROTOCOL_V3:
    return am_fm_v3_request_state(c->in, c->in_len, eof, consumed);
  default:
    *consumed = c->in_len;
    return am_fm_request_state(c->in, c->in_len, drained, eof);
  }
}

static gboolean
conn_read(Conn *c)
{
  for (;;) {
    ssize_t n = recv(c->watch.fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    gboolean eof = n == 0;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && !would_block())
      return conn_close(c);
    if (n > 0)
      c->in_len += (gsize)n;
    gboolean drained = n < 0;
    gsize consumed = 0;
    AmFmRequestState state = request_state(c, drained, eof, &consumed);
    if (state == AM_FM_REQUEST_COMPLETE || state == AM_FM_REQUEST_BAD) {
      conn_unwatch(c);
      return conn_answer(c, state, state == AM_FM_REQUEST_BAD ? c->in_len : consumed);
    }
    if (state == AM_FM_REQUEST_GARBAGE || c->in_len == sizeof c->in) {
      /* nonsense, or larger than any real request. HTTP and v3 clients get
       * a clean EOF (no reset from unread bytes); the RPC as it always was. */
      return c->protocol == AM_FM_PROTOCOL_RPC ? conn_close(c) : conn_finish(c);
    }
    if (drained) {
      conn_watch(c, G_IO_IN);
      return TRUE;
    }
  }
}

/* hang: never answer, but notice when the peer gives up so the fd goes. */
static gboolean
conn_hold(Conn *c)
{
  char sink[1024];
  for (;;) {
    ssize_t n = recv(c->watch.fd, sink, sizeof sink, 0);
    if (n > 0 || (n < 0 && errno == EINTR))
      continue;
    if (n < 0 && would_block()) {
      conn_watch(c, G_IO_IN);
      return TRUE;
    }
    return conn_close(c);
  }
}

/* Each step may free the connection: nothing touches @c afterwards. */
static void
conn_ready(AmFmWatch *watch, GIOCondition condition)
{
  Conn *c = (Conn *)watch;
  switch (c->state) {
  case CONN_READING:
    conn_read(c);
    break;
  case CONN_WRITING:
    conn_write(c);
    break;
  case CONN_STREAMING:
    conn_stream(c);
    break;
  case CONN_HOLDING:
    conn_hold(c);
    break;
  case CONN_DRIPPING:
    break; /* driven by its timer, never watched */
  }
}

static void
conn_start(AmFmServer *s, AmFmMiner *miner, AmFmProtocol protocol, int fd)
{
  AmFmFault fault = miner->fault;
  s->connections++;
  s->by_fault[fault]++;
  if (fault == AM_FM_FAULT_CLOSE) {
    drain_input(fd);
    close(fd);
    return;
  }
  Conn *c = g_new0(Conn, 1);
  c->watch.ready = conn_ready;
  c->watch.fd = fd;
  c->server = s;
  c->miner = miner;
  c->protocol = protocol;
  c->fault = fault;
  g_hash_table_add(s->conns, c);
  if (fault == AM_FM_FAULT_HANG) {
    c->state = CONN_HOLDING;
    conn_hold(c);
    return;
  }
  c->state = CONN_READING;
  conn_read(c);
}

/* ---- listeners ---- */

static void
on_accept(AmFmWatch *watch, GIOCondition condition)
{
  ListenCtx *ctx = (ListenCtx *)watch;
  for (int i = 0; i < ACCEPT_BATCH; i++) {
    int conn = accept4(watch->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (!would_block())
        g_warning("%s: accept: %s", ctx->miner->label, g_strerror(errno));
      break;
    }
    conn_start(ctx->server, ctx->miner, ctx->protocol, conn);
  }
}

static GSocket *
listener_new(AmFmMiner *miner, guint16 port, int backlog, GError **error)
{
  /* Network safety: checked when the address was parsed, and again here for
   * every listener of every protocol. */
  if (!am_fm_address_is_allowed(miner->address)) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_ADDRESS,
                "refusing address %s: only 127.0.0.0/8 and ::1 are allowed", miner->host);
    return NULL;
  }
  g_autoptr(GSocket) sock = g_socket_new(g_inet_address_get_family(miner->address),
                                         G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return NULL;
  g_socket_set_blocking(sock, FALSE);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(miner->address, port);
  if (!g_socket_bind(sock, address, TRUE, error))
    return NULL;
  g_socket_set_listen_backlog(sock, backlog);
  if (!g_socket_listen(sock, error))
    return NULL;
  return g_steal_pointer(&sock);
}

/* silent: a backlog of 0 plus one connection that is never accepted fills
 * the accept queue, so the kernel drops further SYNs and a client's connect
 * times out (ENVIRONMENT.md 6a). */
static GSocket *
hold_queue(AmFmMiner *miner, guint16 port, GError **error)
{
  g_autoptr(GSocket) sock = g_socket_new(g_inet_address_get_family(miner->address),
                                         G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return NULL;
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(miner->address, port);
  g_socket_set_timeout(sock, 2);
  if (!g_socket_connect(sock, address, NULL, error))
    return NULL;
  return g_steal_pointer(&sock);
}

static void
endpoint_teardown(AmFmServer *s, AmFmEndpoint *e)
{
  ListenCtx *ctx = g_steal_pointer(&e->accepting);
  if (ctx != NULL) {
    am_fm_poll_unwatch(s->poll, &ctx->watch);
    g_free(ctx);
  }
  if (e->held != NULL)
    g_socket_close(e->held, NULL);
  g_clear_object(&e->held);
  if (e->listener != NULL)
    g_socket_close(e->listener, NULL);
  g_clear_object(&e->listener);
}

typedef enum { LISTEN_NONE, LISTEN_NORMAL, LISTEN_SILENT } ListenKind;

static void
listener_teardown(AmFmServer *s, AmFmMiner *miner)
{
  for (guint i = 0; i < miner->n_endpoints; i++)
    endpoint_teardown(s, &miner->endpoints[i]);
  miner->n_endpoints = 0;
  miner->listen_kind = LISTEN_NONE;
}

static gboolean
endpoint_setup(AmFmServer *s, AmFmMiner *miner, AmFmEndpoint *e, ListenKind kind, GError **error)
{
  if (kind == LISTEN_NONE)
    return TRUE;
  gboolean silent = kind == LISTEN_SILENT;
  e->listener = listener_new(miner, e->port, silent ? 0 : SOMAXCONN, error);
  if (e->listener == NULL)
    return FALSE;
  if (silent) {
    e->held = hold_queue(miner, e->port, error);
    return e->held != NULL;
  }
  ListenCtx *ctx = g_new0(ListenCtx, 1);
  ctx->watch.ready = on_accept;
  ctx->watch.fd = g_socket_get_fd(e->listener);
  ctx->server = s;
  ctx->miner = miner;
  ctx->protocol = e->protocol;
  e->accepting = ctx;
  am_fm_poll_watch(s->poll, &ctx->watch, G_IO_IN);
  return TRUE;
}

static ListenKind
kind_wanted(AmFmMiner *miner)
{
  if (miner->fault == AM_FM_FAULT_REFUSE || miner->state.rebooting)
    return LISTEN_NONE; /* a rebooting unit refuses connections */
  return miner->fault == AM_FM_FAULT_SILENT ? LISTEN_SILENT : LISTEN_NORMAL;
}

typedef struct {
  AmFmServer *server;
  AmFmMiner *miner;
} RebootCtx;

/* The reboot is over: uptime starts again from 0, the listeners return. */
static gboolean
reboot_done(gpointer data)
{
  RebootCtx *ctx = data;
  AmFmState *st = &ctx->miner->state;
  st->reboot_timer = 0;
  st->rebooting = FALSE;
  st->booted = TRUE;
  st->boot_time = am_fm_now();
  g_autoptr(GError) error = NULL;
  if (!am_fm_server_refresh(ctx->server, ctx->miner, &error))
    g_warning("%s", error->message);
  return G_SOURCE_REMOVE;
}

static gboolean
reboot_begin(gpointer data)
{
  RebootCtx *ctx = data;
  ctx->miner->state.reboot_timer = 0;
  g_autoptr(GError) error = NULL;
  if (!am_fm_server_refresh(ctx->server, ctx->miner, &error))
    g_warning("%s", error->message);
  return G_SOURCE_REMOVE;
}

static void
reboot_schedule(AmFmServer *server, AmFmMiner *miner)
{
  if (miner->state.rebooting) { /* already away: nothing more to do */
    miner->state.reboot_requested = FALSE;
    return;
  }
  if (miner->state.reboot_timer != 0)
    return;
  RebootCtx *ctx = g_new0(RebootCtx, 1);
  ctx->server = server;
  ctx->miner = miner;
  miner->state.reboot_timer = g_idle_add_full(G_PRIORITY_DEFAULT, reboot_begin, ctx, g_free);
}

static void
reboot_start(AmFmServer *server, AmFmMiner *miner)
{
  AmFmState *st = &miner->state;
  st->reboot_requested = FALSE;
  if (st->rebooting)
    return;
  if (st->reboot_timer != 0) /* a scheduled start: this is it */
    g_source_remove(st->reboot_timer);
  st->rebooting = TRUE;
  st->touched = TRUE;
  RebootCtx *ctx = g_new0(RebootCtx, 1);
  ctx->server = server;
  ctx->miner = miner;
  st->reboot_timer = g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)(st->reboot_s * 1000),
                                        reboot_done, ctx, g_free);
}

/* The protocols and ports @miner's profile and settings ask for. */
static guint
endpoints_wanted(AmFmMiner *miner, AmFmEndpoint *wanted)
{
  guint n = 0;
  for (int p = 0; p < AM_FM_PROTOCOL_COUNT; p++) {
    if (miner->profile == NULL || !am_fm_profile_serves(miner->profile, p, NULL))
      continue;
    wanted[n++] = (AmFmEndpoint){.protocol = p, .port = am_fm_miner_port(miner, p)};
  }
  return n;
}

static gboolean
endpoints_current(AmFmMiner *miner, const AmFmEndpoint *wanted, guint n, ListenKind kind)
{
  if (miner->n_endpoints != n || (ListenKind)miner->listen_kind != kind)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (miner->endpoints[i].protocol != wanted[i].protocol ||
        miner->endpoints[i].port != wanted[i].port)
      return FALSE;
  return TRUE;
}

static char *
endpoint_label(AmFmMiner *miner, const AmFmEndpoint *e)
{
  gboolean v6 = g_inet_address_get_family(miner->address) == G_SOCKET_FAMILY_IPV6;
  if (e->protocol == AM_FM_PROTOCOL_RPC) /* as before: the cgminer port */
    return g_strdup_printf(v6 ? "[%s]:%u" : "%s:%u", miner->host, e->port);
  return g_strdup_printf(v6 ? "[%s]:%u (%s)" : "%s:%u (%s)", miner->host, e->port,
                         am_fm_protocol_name(e->protocol));
}

gboolean
am_fm_server_refresh(AmFmServer *server, AmFmMiner *miner, GError **error)
{
  if (miner->state.reboot_requested)
    reboot_start(server, miner);
  AmFmEndpoint wanted[AM_FM_PROTOCOL_COUNT];
  guint n = endpoints_wanted(miner, wanted);
  ListenKind kind = kind_wanted(miner);
  if (endpoints_current(miner, wanted, n, kind))
    return TRUE;
  listener_teardown(server, miner);
  for (guint i = 0; i < n; i++) {
    AmFmEndpoint *e = &miner->endpoints[i];
    *e = wanted[i];
    miner->n_endpoints = i + 1;
    g_autoptr(GError) local = NULL;
    if (!endpoint_setup(server, miner, e, kind, &local)) {
      listener_teardown(server, miner);
      g_autofree char *where = endpoint_label(miner, e);
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_BIND, "cannot listen on %s: %s", where,
                  local->message);
      return FALSE;
    }
  }
  miner->listen_kind = kind;
  return TRUE;
}

/* ---- the server ---- */

static void
build_huge(AmFmServer *s)
{
  static const char header[] =
      "{\"STATUS\":[{\"STATUS\":\"S\",\"When\":1605578750,\"Code\":70,\"Msg\":\"CGMiner stats\","
      "\"Description\":\"cgminer\"}],\"STATS\":[";
  static const char record[] =
      "{\"STATS\":0,\"ID\":\"HUGE\",\"Elapsed\":1,\"GHS 5s\":\"13883.81\",\"temp1\":75,"
      "\"chain_acs1\":\" oooooooo oooooooo oooooooo oooooooo\"},";
  gsize header_len = sizeof header - 1;
  gsize record_len = sizeof record - 1;
  gsize count = 65536 / record_len;
  s->huge_len = header_len + count * record_len;
  s->huge_header_len = header_len;
  s->huge = g_malloc(s->huge_len);
  memcpy(s->huge, header, header_len);
  for (gsize i = 0; i < count; i++)
    memcpy(s->huge + header_len + i * record_len, record, record_len);
}

AmFmServer *
am_fm_server_new(GPtrArray *miners)
{
  AmFmServer *s = g_new0(AmFmServer, 1);
  s->miners = g_ptr_array_ref(miners);
  s->poll = am_fm_poll_new();
  s->conns = g_hash_table_new(NULL, NULL);
  s->by_command = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  build_huge(s);
  return s;
}

void
am_fm_server_free(AmFmServer *s)
{
  if (s == NULL)
    return;
  for (guint i = 0; i < s->miners->len; i++) {
    AmFmMiner *miner = s->miners->pdata[i];
    listener_teardown(s, miner);
    if (miner->state.reboot_timer != 0) /* its context names this server */
      g_source_remove(miner->state.reboot_timer);
    miner->state.reboot_timer = 0;
  }
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, s->conns);
  while (g_hash_table_iter_next(&iter, &key, NULL)) {
    g_hash_table_iter_steal(&iter);
    conn_free(key);
  }
  g_hash_table_unref(s->conns);
  g_hash_table_unref(s->by_command);
  g_ptr_array_unref(s->miners);
  am_fm_poll_free(s->poll);
  g_free(s->huge);
  g_free(s);
}

gboolean
am_fm_server_start(AmFmServer *s, GError **error)
{
  for (guint i = 0; i < s->miners->len; i++)
    if (!am_fm_server_refresh(s, s->miners->pdata[i], error))
      return FALSE;
  return TRUE;
}

guint
am_fm_server_count_listeners(AmFmServer *s)
{
  guint n = 0;
  for (guint i = 0; i < s->miners->len; i++) {
    AmFmMiner *miner = s->miners->pdata[i];
    if (miner->n_endpoints > 0 && miner->endpoints[0].listener != NULL)
      n++;
  }
  return n;
}

void
am_fm_server_write_stats(AmFmServer *s, GString *out)
{
  g_string_append_printf(out, "connections %" G_GUINT64_FORMAT "\n", s->connections);
  g_string_append_printf(out, "requests %" G_GUINT64_FORMAT "\n", s->requests);
  g_autoptr(GList) names = g_hash_table_get_keys(s->by_command);
  names = g_list_sort(names, (GCompareFunc)g_strcmp0);
  for (GList *l = names; l != NULL; l = l->next) {
    guint64 *count = g_hash_table_lookup(s->by_command, l->data);
    g_string_append_printf(out, "command %s %" G_GUINT64_FORMAT "\n", (char *)l->data, *count);
  }
  for (int f = 0; f < AM_FM_FAULT_COUNT; f++)
    g_string_append_printf(out, "fault %s %" G_GUINT64_FORMAT "\n", am_fm_fault_name(f),
                           s->by_fault[f]);
}
