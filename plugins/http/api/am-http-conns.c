/* The [http:api] connections: accept, limits, deadlines and keep-alive.
 * am-http-conns.h says why libsoup does not accept them itself. */
#include "am-http-conns.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* A client that stops reading a reply (a 40 MB /metrics, say) would hold
 * the reply in memory and its descriptor for ever. History queries that
 * wait for the store count too, and take far less than this. */
#define REPLY_TIMEOUT_MS (120 * 1000)

typedef enum {
  CONN_HANDSHAKE, /* TLS handshake under the request deadline */
  CONN_REQUEST,   /* libsoup reads the request, under the request deadline */
  CONN_REPLY,     /* the request is in; libsoup answers it */
  CONN_IDLE,      /* taken back after a keep-alive reply; ours alone */
} ConnState;

typedef struct {
  gint refs;
  AmHttpConns *owner;
  GSocketConnection *tcp;
  GIOStream *stream; /* tcp, or the TLS connection over it */
  GSocket *socket;   /* (transfer none) tcp's */
  ConnState state;
  gboolean closed;
  gboolean stealing;      /* taking it back from libsoup right now */
  SoupServerMessage *msg; /* (transfer none) while libsoup has it */
  GSource *deadline;      /* the request deadline, or the idle timeout */
  GSource *watch;         /* idle: the next request, EOF or an error */
  GCancellable *handshake;
  GList idle_link; /* in owner->idle while CONN_IDLE */
} AmHttpConn;

struct _AmHttpConns {
  SoupServer *soup;
  AmHttpConnLimits limits;
  GSocketService *service;
  GInetSocketAddress *address;
  GHashTable *all; /* AmHttpConn* (one reference each) */
  GQueue idle;     /* the longest idle first */
  AmHttpConn *handing_over;
  gulong started_id;
  AmHttpConnStats stats;
  gint64 refusal_logged_us;
  guint64 refused_unlogged;
};

/* ---- life of one connection ------------------------------------------------------ */

static AmHttpConn *
conn_ref(AmHttpConn *c)
{
  c->refs++;
  return c;
}

static void
conn_unref(AmHttpConn *c)
{
  if (--c->refs > 0)
    return;
  g_clear_object(&c->handshake);
  g_clear_object(&c->stream);
  g_clear_object(&c->tcp);
  g_free(c);
}

static void
clear_source(GSource **source)
{
  if (*source != NULL) {
    g_source_destroy(*source);
    g_clear_pointer(source, g_source_unref);
  }
}

static void
leave_idle(AmHttpConn *c)
{
  if (c->state == CONN_IDLE && c->idle_link.data != NULL) {
    g_queue_unlink(&c->owner->idle, &c->idle_link);
    c->idle_link.data = NULL;
  }
  clear_source(&c->watch);
}

static void
forget_message(AmHttpConn *c)
{
  if (c->msg != NULL) {
    g_signal_handlers_disconnect_by_data(c->msg, c);
    c->msg = NULL;
  }
}

/* Closes the sockets and drops the owner's reference. Once libsoup has
 * let go of it or never had it. */
static void
conn_close(AmHttpConn *c)
{
  if (c->closed)
    return;
  c->closed = TRUE;
  leave_idle(c);
  clear_source(&c->deadline);
  if (c->handshake != NULL)
    g_cancellable_cancel(c->handshake);
  forget_message(c);
  if (c->stream != NULL)
    g_io_stream_close(c->stream, NULL, NULL);
  g_io_stream_close(G_IO_STREAM(c->tcp), NULL, NULL);
  g_hash_table_remove(c->owner->all, c);
}

/* While libsoup reads a request: ending the socket makes its read see EOF,
 * and libsoup then closes the connection itself (and we hear of it). */
static void
conn_abort(AmHttpConn *c)
{
  if (c->state == CONN_REQUEST || c->state == CONN_REPLY)
    g_socket_shutdown(c->socket, TRUE, TRUE, NULL);
  else
    conn_close(c);
}

static gboolean
on_deadline(gpointer user_data)
{
  AmHttpConn *c = user_data;
  g_clear_pointer(&c->deadline, g_source_unref);
  if (c->state == CONN_IDLE) {
    c->owner->stats.idle_closed++;
    conn_close(c);
  } else if (c->state == CONN_REPLY) {
    g_debug("a client did not read its reply within %u ms: connection closed", REPLY_TIMEOUT_MS);
    conn_abort(c);
  } else {
    c->owner->stats.timed_out++;
    g_debug("a client did not send its request within %u ms: connection closed",
            c->owner->limits.request_timeout_ms);
    conn_abort(c);
  }
  return G_SOURCE_REMOVE;
}

static void
start_deadline(AmHttpConn *c, guint ms)
{
  clear_source(&c->deadline);
  c->deadline = g_timeout_source_new(ms);
  g_source_set_callback(c->deadline, on_deadline, c, NULL);
  g_source_attach(c->deadline, NULL);
}

/* ---- libsoup's part: one request per hand-over ---------------------------------- */

static void hand_over(AmHttpConn *c);
static void go_idle(AmHttpConn *c);

static void
on_got_body(SoupServerMessage *msg, gpointer user_data)
{
  AmHttpConn *c = user_data;
  c->state = CONN_REPLY;
  start_deadline(c, REPLY_TIMEOUT_MS);
}

/* libsoup's own test is private: HTTP/1.1 and neither side said "close",
 * and a reply whose end is not the connection's end. HTTP/1.0 clients get
 * one request per connection. */
static gboolean
is_keepalive(SoupServerMessage *msg)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers(msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers(msg);
  return soup_server_message_get_http_version(msg) == SOUP_HTTP_1_1 &&
         soup_message_headers_get_encoding(resp) != SOUP_ENCODING_EOF &&
         !soup_message_headers_header_contains(req, "Connection", "close") &&
         !soup_message_headers_header_contains(resp, "Connection", "close");
}

/* The reply is out. A keep-alive connection comes back here; any other
 * is closed by libsoup, which has no listener of its own. */
static void
on_wrote_body(SoupServerMessage *msg, gpointer user_data)
{
  AmHttpConn *c = user_data;
  clear_source(&c->deadline);
  if (c->owner->limits.idle_timeout_ms == 0 || !is_keepalive(msg))
    return;
  c->stealing = TRUE;
  GIOStream *wrapper = soup_server_message_steal_connection(msg);
  c->stealing = FALSE;
  /* libsoup's own wrapper does not close our stream when it goes. */
  g_clear_object(&wrapper);
  forget_message(c);
  go_idle(c);
}

static void
on_msg_disconnected(SoupServerMessage *msg, gpointer user_data)
{
  AmHttpConn *c = user_data;
  if (c->stealing)
    return;
  forget_message(c);
  conn_close(c);
}

static void
on_request_started(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  AmHttpConns *self = user_data;
  AmHttpConn *c = self->handing_over;
  if (c == NULL)
    return;
  self->handing_over = NULL;
  c->msg = msg;
  g_signal_connect(msg, "got-body", G_CALLBACK(on_got_body), c);
  g_signal_connect(msg, "wrote-body", G_CALLBACK(on_wrote_body), c);
  g_signal_connect(msg, "disconnected", G_CALLBACK(on_msg_disconnected), c);
}

/* libsoup may read, answer and even close the connection before
 * soup_server_accept_iostream() returns. */
static void
hand_over(AmHttpConn *c)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address(c->tcp, &error);
  g_autoptr(GSocketAddress) remote =
      local != NULL ? g_socket_connection_get_remote_address(c->tcp, &error) : NULL;
  if (remote == NULL) {
    g_debug("a client left before its request: %s", error->message);
    conn_close(c);
    return;
  }
  c->state = CONN_REQUEST;
  conn_ref(c);
  c->owner->handing_over = c;
  soup_server_accept_iostream(c->owner->soup, c->stream, local, remote, NULL);
  if (c->owner->handing_over == c) {
    /* libsoup did not start a message: nothing would ever close it. */
    c->owner->handing_over = NULL;
    g_warning("libsoup did not take a connection: closed");
    conn_close(c);
  }
  conn_unref(c);
}

/* ---- idle keep-alive connections -------------------------------------------------- */

static gboolean
on_idle_event(GSocket *socket, GIOCondition condition, gpointer user_data)
{
  AmHttpConn *c = user_data;
  char byte;
  ssize_t n = recv(g_socket_get_fd(socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return G_SOURCE_CONTINUE;
  g_clear_pointer(&c->watch, g_source_unref);
  if (n <= 0) { /* the client closed it, or it broke */
    conn_close(c);
    return G_SOURCE_REMOVE;
  }
  leave_idle(c);
  start_deadline(c, c->owner->limits.request_timeout_ms);
  hand_over(c);
  return G_SOURCE_REMOVE;
}

static void
go_idle(AmHttpConn *c)
{
  c->state = CONN_IDLE;
  c->idle_link.data = c;
  g_queue_push_tail_link(&c->owner->idle, &c->idle_link);
  start_deadline(c, c->owner->limits.idle_timeout_ms);
  c->watch = g_socket_create_source(c->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback(c->watch, G_SOURCE_FUNC(on_idle_event), c, NULL);
  g_source_attach(c->watch, NULL);
}

/* ---- accepting -------------------------------------------------------------------- */

static void
on_handshake_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  AmHttpConn *c = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), result, &error);
  if (!c->closed) {
    if (ok)
      hand_over(c);
    else {
      g_debug("TLS handshake with a client failed: %s", error->message);
      conn_close(c);
    }
  }
  conn_unref(c);
}

static void
start_tls(AmHttpConn *c)
{
  g_autoptr(GError) error = NULL;
  GIOStream *tls = g_tls_server_connection_new(G_IO_STREAM(c->tcp), c->owner->limits.tls, &error);
  if (tls == NULL) {
    g_warning("cannot start TLS for a client: %s", error->message);
    conn_close(c);
    return;
  }
  g_object_set(tls, "require-close-notify", FALSE, NULL);
  c->stream = tls;
  c->state = CONN_HANDSHAKE;
  c->handshake = g_cancellable_new();
  g_tls_connection_handshake_async(G_TLS_CONNECTION(tls), G_PRIORITY_DEFAULT, c->handshake,
                                   on_handshake_done, conn_ref(c));
}

/* Past the limit, the connection idle the longest makes room; when none
 * is idle the newcomer is told so and closed. Either way the agent keeps
 * its descriptors for the miners. */
static gboolean
make_room(AmHttpConns *self)
{
  if (g_hash_table_size(self->all) < self->limits.max_connections)
    return TRUE;
  GList *oldest = g_queue_peek_head_link(&self->idle);
  if (oldest == NULL)
    return FALSE;
  self->stats.evicted++;
  conn_close(oldest->data);
  return TRUE;
}

static void
refuse(AmHttpConns *self, GSocketConnection *tcp)
{
  static const char reply[] = "HTTP/1.1 503 Service Unavailable\r\n"
                              "Connection: close\r\nContent-Length: 0\r\nRetry-After: 1\r\n\r\n";
  GSocket *socket = g_socket_connection_get_socket(tcp);
  g_socket_set_blocking(socket, FALSE);
  g_socket_send(socket, reply, sizeof reply - 1, NULL, NULL);
  g_io_stream_close(G_IO_STREAM(tcp), NULL, NULL);
  self->stats.refused++;
  self->refused_unlogged++;
  gint64 now = g_get_monotonic_time();
  if (now - self->refusal_logged_us >= 60 * G_USEC_PER_SEC) {
    g_warning("%" G_GUINT64_FORMAT " HTTP connection(s) refused: all %u allowed "
              "(max_connections= in [http:api]) are busy with requests",
              self->refused_unlogged, self->limits.max_connections);
    self->refusal_logged_us = now;
    self->refused_unlogged = 0;
  }
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *tcp, GObject *source, gpointer user_data)
{
  AmHttpConns *self = user_data;
  if (!make_room(self)) {
    refuse(self, tcp);
    return TRUE;
  }
  AmHttpConn *c = g_new0(AmHttpConn, 1);
  c->refs = 1;
  c->owner = self;
  c->tcp = g_object_ref(tcp);
  c->socket = g_socket_connection_get_socket(tcp);
  g_socket_set_option(c->socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  g_hash_table_add(self->all, c);
  self->stats.accepted++;
  start_deadline(c, self->limits.request_timeout_ms);
  if (self->limits.tls != NULL) {
    start_tls(c);
  } else {
    c->stream = G_IO_STREAM(g_object_ref(tcp));
    hand_over(c);
  }
  return TRUE;
}

/* ---- the set ------------------------------------------------------------------------ */

AmHttpConns *
am_http_conns_new(SoupServer *soup, const AmHttpConnLimits *limits)
{
  AmHttpConns *self = g_new0(AmHttpConns, 1);
  self->soup = soup;
  self->limits = *limits;
  if (limits->tls != NULL)
    g_object_ref(limits->tls);
  self->all =
      g_hash_table_new_full(g_direct_hash, g_direct_equal, (GDestroyNotify)conn_unref, NULL);
  g_queue_init(&self->idle);
  self->service = g_socket_service_new();
  /* GLib's default backlog of 10 drops connections in a burst of scrapes. */
  g_socket_listener_set_backlog(G_SOCKET_LISTENER(self->service), 256);
  g_signal_connect(self->service, "incoming", G_CALLBACK(on_incoming), self);
  self->started_id =
      g_signal_connect(soup, "request-started", G_CALLBACK(on_request_started), self);
  return self;
}

gboolean
am_http_conns_listen(AmHttpConns *self, GSocketAddress *address, GError **error)
{
  GSocketAddress *effective = NULL;
  if (!g_socket_listener_add_address(G_SOCKET_LISTENER(self->service), address,
                                     G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
                                     error))
    return FALSE;
  g_clear_object(&self->address);
  self->address = G_INET_SOCKET_ADDRESS(effective);
  g_socket_service_start(self->service);
  return TRUE;
}

GInetSocketAddress *
am_http_conns_get_address(AmHttpConns *self)
{
  return self->address;
}

void
am_http_conns_get_stats(AmHttpConns *self, AmHttpConnStats *stats)
{
  *stats = self->stats;
  stats->open = g_hash_table_size(self->all);
  stats->idle = self->idle.length;
}

void
am_http_conns_prepare_reply(AmHttpConns *self, SoupServerMessage *msg)
{
  if (self->limits.idle_timeout_ms == 0)
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection",
                                 "close");
}

void
am_http_conns_free(AmHttpConns *self)
{
  if (self == NULL)
    return;
  g_signal_handler_disconnect(self->soup, self->started_id);
  g_socket_service_stop(self->service);
  g_socket_listener_close(G_SOCKET_LISTENER(self->service));
  g_signal_handlers_disconnect_by_data(self->service, self);
  g_clear_object(&self->service);
  /* What libsoup still had was closed by soup_server_disconnect(). */
  GHashTableIter it;
  gpointer key;
  g_autoptr(GPtrArray) left = g_ptr_array_new();
  g_hash_table_iter_init(&it, self->all);
  while (g_hash_table_iter_next(&it, &key, NULL))
    g_ptr_array_add(left, key);
  for (guint i = 0; i < left->len; i++)
    conn_close(left->pdata[i]);
  g_hash_table_unref(self->all);
  g_clear_object(&self->address);
  g_clear_object(&self->limits.tls);
  g_free(self);
}
