/* Listeners, connections and faults.
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
  ConnState state;
  AmFmFault fault; /* as it was when the connection was accepted */
  guint timer;
  GByteArray *out;
  gsize out_pos;
  guint64 streamed;
  gsize in_len;
  char in[AM_FM_REQUEST_MAX];
} Conn;

typedef struct {
  AmFmWatch watch; /* first: the poller hands it back */
  AmFmServer *server;
  AmFmMiner *miner;
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
  return conn_finish(c);
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
reply_for(Conn *c, const char *command)
{
  GByteArray *out = g_byte_array_sized_new(8192);
  gint64 when = g_get_real_time() / G_USEC_PER_SEC;
  if (c->fault == AM_FM_FAULT_APIERROR) {
    am_fm_reply_access_denied(command, when, out);
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

static gboolean
conn_answer(Conn *c)
{
  g_autofree char *command = am_fm_request_command(c->in, c->in_len);
  if (command == NULL)
    return conn_close(c); /* garbage in: close, as cgminer drops it */
  count_request(c->server, command);
  if (c->fault == AM_FM_FAULT_HUGE)
    return conn_stream(c);
  c->out = reply_for(c, command);
  if (c->fault == AM_FM_FAULT_DRIP)
    return conn_drip(c);
  return conn_write(c);
}

/* ---- reading ---- */

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
    AmFmRequestState state = am_fm_request_state(c->in, c->in_len, drained, eof);
    if (state == AM_FM_REQUEST_COMPLETE) {
      conn_unwatch(c);
      return conn_answer(c);
    }
    if (state == AM_FM_REQUEST_GARBAGE || c->in_len == sizeof c->in)
      return conn_close(c); /* nonsense, or larger than any real request */
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
conn_start(AmFmServer *s, AmFmMiner *miner, int fd)
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
    conn_start(ctx->server, ctx->miner, conn);
  }
}

static GSocket *
listener_new(AmFmMiner *miner, int backlog, GError **error)
{
  g_autoptr(GSocket) sock = g_socket_new(g_inet_address_get_family(miner->address),
                                         G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return NULL;
  g_socket_set_blocking(sock, FALSE);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(miner->address, miner->port);
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
hold_queue(AmFmMiner *miner, GError **error)
{
  g_autoptr(GSocket) sock = g_socket_new(g_inet_address_get_family(miner->address),
                                         G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return NULL;
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(miner->address, miner->port);
  g_socket_set_timeout(sock, 2);
  if (!g_socket_connect(sock, address, NULL, error))
    return NULL;
  return g_steal_pointer(&sock);
}

static void
listener_teardown(AmFmServer *s, AmFmMiner *miner)
{
  ListenCtx *ctx = g_steal_pointer(&miner->accepting);
  if (ctx != NULL) {
    am_fm_poll_unwatch(s->poll, &ctx->watch);
    g_free(ctx);
  }
  if (miner->held != NULL)
    g_socket_close(miner->held, NULL);
  g_clear_object(&miner->held);
  if (miner->listener != NULL)
    g_socket_close(miner->listener, NULL);
  g_clear_object(&miner->listener);
}

static gboolean
listener_setup(AmFmServer *s, AmFmMiner *miner, GError **error)
{
  if (miner->fault == AM_FM_FAULT_REFUSE)
    return TRUE;
  gboolean silent = miner->fault == AM_FM_FAULT_SILENT;
  miner->listener = listener_new(miner, silent ? 0 : SOMAXCONN, error);
  if (miner->listener == NULL)
    return FALSE;
  if (silent) {
    miner->held = hold_queue(miner, error);
    return miner->held != NULL;
  }
  ListenCtx *ctx = g_new0(ListenCtx, 1);
  ctx->watch.ready = on_accept;
  ctx->watch.fd = g_socket_get_fd(miner->listener);
  ctx->server = s;
  ctx->miner = miner;
  miner->accepting = ctx;
  am_fm_poll_watch(s->poll, &ctx->watch, G_IO_IN);
  return TRUE;
}

typedef enum { LISTEN_NONE, LISTEN_NORMAL, LISTEN_SILENT } ListenKind;

static ListenKind
kind_wanted(AmFmFault fault)
{
  if (fault == AM_FM_FAULT_REFUSE)
    return LISTEN_NONE;
  return fault == AM_FM_FAULT_SILENT ? LISTEN_SILENT : LISTEN_NORMAL;
}

static ListenKind
kind_current(AmFmMiner *miner)
{
  if (miner->listener == NULL)
    return LISTEN_NONE;
  return miner->held != NULL ? LISTEN_SILENT : LISTEN_NORMAL;
}

gboolean
am_fm_server_refresh(AmFmServer *server, AmFmMiner *miner, GError **error)
{
  if (kind_current(miner) == kind_wanted(miner->fault))
    return TRUE;
  listener_teardown(server, miner);
  g_autoptr(GError) local = NULL;
  if (!listener_setup(server, miner, &local)) {
    listener_teardown(server, miner);
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_BIND, "cannot listen on %s: %s", miner->label,
                local->message);
    return FALSE;
  }
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
  for (guint i = 0; i < s->miners->len; i++)
    listener_teardown(s, s->miners->pdata[i]);
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
  for (guint i = 0; i < s->miners->len; i++)
    if (((AmFmMiner *)s->miners->pdata[i])->listener != NULL)
      n++;
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
