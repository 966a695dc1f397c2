/* The connect sweep. One epoll set holds every connection in flight and is
 * watched by one GSource; a 10 ms tick expires deadlines (hosts start in
 * order and share one timeout, so the oldest is always due first), refills
 * the rate bucket and starts more hosts. */
#include "am-cidr-scan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define TICK_MS 10
#define EVENTS_PER_WAKE 256
/* The rate bucket holds this much time's worth of tokens, so a pause (a
 * slow main loop iteration) never turns into a burst. */
#define BURST_MS 20

typedef enum {
  CONN_UNUSED = 0,
  CONN_PENDING,
  CONN_OPEN,
  CONN_REFUSED,
  CONN_TIMEOUT,
  CONN_UNREACHABLE,
} ConnState;

typedef struct _Host Host;

typedef struct {
  Host *host;
  int fd;
  ConnState state;
} Conn;

struct _Host {
  GList link; /* in Scan.hosts; data points back here */
  gint64 deadline_us;
  guint pending;
  gboolean done;
  char addr[INET6_ADDRSTRLEN];
  Conn conns[AM_SCAN_MAX_PORTS];
};

typedef struct {
  AmScanLimits limits;
  AmScanNextFunc next;
  AmScanFoundFunc found;
  gpointer user_data;
  GTask *task; /* ours until the scan completes */
  int epfd;
  GSource *io_source;
  GSource *tick_source;
  GQueue hosts;    /* Host*, in start order = deadline order */
  GPtrArray *dead; /* Host*: finished during an epoll batch, freed after it */
  guint in_flight; /* connections */
  guint cap;       /* max_inflight, lowered when the system runs out of fds */
  double tokens;
  gint64 tokens_us;
  gint64 started_mono_us;
  gboolean exhausted; /* no host left to start */
  gboolean warned_resources;
  char retry[INET6_ADDRSTRLEN]; /* a host put back for want of an fd */
  AmScanStats stats;
} Scan;

/* ---- one connection ---------------------------------------------------- */

static gboolean
make_sockaddr(const char *addr, guint16 port, struct sockaddr_storage *ss, socklen_t *len)
{
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    *len = sizeof *in4;
    return TRUE;
  }
  if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    *len = sizeof *in6;
    return TRUE;
  }
  return FALSE;
}

/* Errors that say "this machine is out of something", not "the host is not
 * there": the host is tried again once a connection finishes. */
static gboolean
is_resource_error(int err)
{
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
         err == EADDRNOTAVAIL || err == EAGAIN;
}

static ConnState
state_for_errno(int err)
{
  switch (err) {
  case 0:
    return CONN_OPEN;
  case ECONNREFUSED:
  case ECONNRESET:
    return CONN_REFUSED;
  case ETIMEDOUT:
    return CONN_TIMEOUT;
  default:
    return CONN_UNREACHABLE;
  }
}

static void
conn_close(Scan *scan, Conn *conn, ConnState state)
{
  if (conn->state != CONN_PENDING)
    return;
  /* Closing also drops it from the epoll set. */
  close(conn->fd);
  conn->fd = -1;
  conn->state = state;
  conn->host->pending--;
  scan->in_flight--;
}

/* Starts one connect. Returns the errno of a resource failure (nothing was
 * started), else 0 with @conn's state set. */
static int
conn_start(Scan *scan, Conn *conn, const struct sockaddr_storage *ss, socklen_t len)
{
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return is_resource_error(errno) ? errno : (conn->state = CONN_UNREACHABLE, 0);
  if (connect(fd, (const struct sockaddr *)ss, len) == 0) {
    close(fd);
    conn->state = CONN_OPEN;
    return 0;
  }
  int err = errno;
  if (err != EINPROGRESS) {
    close(fd);
    if (is_resource_error(err))
      return err;
    conn->state = state_for_errno(err);
    return 0;
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = conn};
  if (epoll_ctl(scan->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    err = errno;
    close(fd);
    return err != 0 ? err : ENOMEM;
  }
  conn->fd = fd;
  conn->state = CONN_PENDING;
  conn->host->pending++;
  scan->in_flight++;
  return 0;
}

/* ---- one host ---------------------------------------------------------- */

static void
host_finish(Scan *scan, Host *host)
{
  for (guint i = 0; i < scan->limits.n_ports; i++)
    conn_close(scan, &host->conns[i], CONN_TIMEOUT);
  host->done = TRUE;
  scan->stats.hosts_tried++;
  g_queue_unlink(&scan->hosts, &host->link);
  g_ptr_array_add(scan->dead, host);
}

/* Reports @host once its verdict is known: the first port in preference
 * order that accepted, once every port before it has failed. With @final
 * (the deadline passed) pending ports count as failed. */
static gboolean
host_decide(Scan *scan, Host *host, gboolean final)
{
  gboolean timed_out = FALSE, unreachable = FALSE;
  for (guint i = 0; i < scan->limits.n_ports; i++) {
    Conn *conn = &host->conns[i];
    if (conn->state == CONN_PENDING && !final)
      return FALSE;
    if (conn->state == CONN_OPEN) {
      scan->stats.open++;
      scan->found(host->addr, scan->limits.ports[i], scan->user_data);
      return TRUE;
    }
    timed_out |= conn->state == CONN_TIMEOUT || conn->state == CONN_PENDING;
    unreachable |= conn->state == CONN_UNREACHABLE;
  }
  if (timed_out)
    scan->stats.timed_out++;
  else if (unreachable)
    scan->stats.unreachable++;
  else
    scan->stats.refused++;
  return TRUE;
}

/* Starts every port of @addr. Returns FALSE (and starts nothing) when the
 * system is out of fds or ports; @addr is then kept for later. */
static gboolean
host_start(Scan *scan, const char *addr)
{
  Host *host = g_new0(Host, 1);
  g_strlcpy(host->addr, addr, sizeof host->addr);
  host->deadline_us = g_get_monotonic_time() + (gint64)scan->limits.host_timeout_ms * 1000;
  for (guint i = 0; i < scan->limits.n_ports; i++) {
    Conn *conn = &host->conns[i];
    conn->host = host;
    conn->fd = -1;
    struct sockaddr_storage ss;
    socklen_t len;
    if (!make_sockaddr(addr, scan->limits.ports[i], &ss, &len)) {
      conn->state = CONN_UNREACHABLE;
      continue;
    }
    int err = conn_start(scan, conn, &ss, len);
    if (err == 0)
      continue;
    for (guint j = 0; j < i; j++)
      conn_close(scan, &host->conns[j], CONN_UNUSED);
    g_free(host);
    g_strlcpy(scan->retry, addr, sizeof scan->retry);
    /* Never ask for more than the system gave us just now. */
    scan->cap = MAX(scan->in_flight, scan->limits.n_ports);
    if (!scan->warned_resources) {
      scan->warned_resources = TRUE;
      g_warning("scan: %s at %u connections in flight; going on with at most %u (raise the "
                "fd limit, or lower max_inflight)",
                g_strerror(err), scan->in_flight, scan->cap);
    }
    return FALSE;
  }
  host->link.data = host;
  g_queue_push_tail_link(&scan->hosts, &host->link);
  if (host->pending == 0 && host_decide(scan, host, FALSE))
    host_finish(scan, host);
  return TRUE;
}

/* ---- the pass ---------------------------------------------------------- */

static void
free_dead(Scan *scan)
{
  g_ptr_array_set_size(scan->dead, 0);
}

static void
scan_free(Scan *scan)
{
  Host *host;
  while ((host = g_queue_peek_head(&scan->hosts)) != NULL) {
    for (guint i = 0; i < scan->limits.n_ports; i++)
      conn_close(scan, &host->conns[i], CONN_TIMEOUT);
    g_queue_unlink(&scan->hosts, &host->link);
    g_free(host);
  }
  g_ptr_array_unref(scan->dead);
  if (scan->io_source != NULL) {
    g_source_destroy(scan->io_source);
    g_source_unref(scan->io_source);
  }
  if (scan->tick_source != NULL) {
    g_source_destroy(scan->tick_source);
    g_source_unref(scan->tick_source);
  }
  if (scan->epfd >= 0)
    close(scan->epfd);
  g_free(scan);
}

/* Completes the task: stops watching, keeps the counters for _finish(). */
static void
scan_complete(Scan *scan, GError *error)
{
  g_source_destroy(scan->io_source);
  g_source_destroy(scan->tick_source);
  scan->stats.duration_ms = (g_get_monotonic_time() - scan->started_mono_us) / 1000;
  GTask *task = g_steal_pointer(&scan->task);
  if (error != NULL)
    g_task_return_error(task, error);
  else
    g_task_return_boolean(task, TRUE);
  g_object_unref(task);
}

static void
refill_tokens(Scan *scan, gint64 now)
{
  if (scan->limits.max_rate == 0)
    return;
  double per_us = scan->limits.max_rate / 1e6;
  double burst = MAX((double)scan->limits.n_ports, scan->limits.max_rate * BURST_MS / 1000.0);
  scan->tokens = MIN(burst, scan->tokens + (now - scan->tokens_us) * per_us);
  scan->tokens_us = now;
}

static gboolean
has_tokens(Scan *scan)
{
  return scan->limits.max_rate == 0 || scan->tokens >= scan->limits.n_ports;
}

/* Starts hosts while there is room, tokens and time. */
static void
pump(Scan *scan)
{
  gint64 now = g_get_monotonic_time();
  if (!scan->exhausted && scan->limits.time_budget_ms > 0 &&
      now - scan->started_mono_us >= (gint64)scan->limits.time_budget_ms * 1000) {
    scan->stats.budget_spent = TRUE;
    scan->exhausted = TRUE;
  }
  refill_tokens(scan, now);
  char addr[INET6_ADDRSTRLEN];
  while (!scan->exhausted && scan->in_flight + scan->limits.n_ports <= scan->cap &&
         has_tokens(scan)) {
    if (scan->retry[0] != '\0') {
      g_strlcpy(addr, scan->retry, sizeof addr);
      scan->retry[0] = '\0';
    } else if (!scan->next(scan->user_data, addr, sizeof addr)) {
      scan->exhausted = TRUE;
      break;
    }
    if (!host_start(scan, addr))
      break;
    if (scan->limits.max_rate > 0)
      scan->tokens -= scan->limits.n_ports;
  }
}

static gboolean
maybe_complete(Scan *scan)
{
  if (!scan->exhausted || !g_queue_is_empty(&scan->hosts))
    return FALSE;
  scan_complete(scan, NULL);
  return TRUE;
}

static void
on_conn_event(Scan *scan, Conn *conn, guint32 events)
{
  Host *host = conn->host;
  if (host->done || conn->state != CONN_PENDING)
    return; /* its host finished earlier in this batch */
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    err = errno;
  if (err == 0 && (events & EPOLLOUT) == 0)
    err = ECONNREFUSED; /* a hang-up without an error: nobody there */
  conn_close(scan, conn, state_for_errno(err));
  if (host_decide(scan, host, FALSE))
    host_finish(scan, host);
}

static gboolean
on_io(gint fd, GIOCondition condition, gpointer user_data)
{
  Scan *scan = user_data;
  struct epoll_event events[EVENTS_PER_WAKE];
  int n;
  do {
    n = epoll_wait(scan->epfd, events, EVENTS_PER_WAKE, 0);
    for (int i = 0; i < n; i++)
      on_conn_event(scan, events[i].data.ptr, events[i].events);
    free_dead(scan);
  } while (n == EVENTS_PER_WAKE);
  pump(scan);
  free_dead(scan);
  maybe_complete(scan);
  return G_SOURCE_CONTINUE;
}

/* Hosts past their deadline: the oldest first, all sharing one timeout. */
static void
expire(Scan *scan, gint64 now)
{
  Host *host;
  while ((host = g_queue_peek_head(&scan->hosts)) != NULL && host->deadline_us <= now) {
    for (guint i = 0; i < scan->limits.n_ports; i++)
      conn_close(scan, &host->conns[i], CONN_TIMEOUT);
    host_decide(scan, host, TRUE);
    host_finish(scan, host);
  }
}

static gboolean
on_tick(gpointer user_data)
{
  Scan *scan = user_data;
  if (g_task_return_error_if_cancelled(scan->task)) {
    g_source_destroy(scan->io_source);
    g_clear_object(&scan->task); /* returned: drop our reference */
    return G_SOURCE_REMOVE;
  }
  expire(scan, g_get_monotonic_time());
  pump(scan);
  free_dead(scan);
  maybe_complete(scan);
  return G_SOURCE_CONTINUE;
}

void
am_scan_async(const AmScanLimits *limits, AmScanNextFunc next, AmScanFoundFunc found,
              gpointer user_data, GCancellable *cancellable, GAsyncReadyCallback callback,
              gpointer callback_data)
{
  g_return_if_fail(limits != NULL && limits->n_ports > 0 && limits->n_ports <= AM_SCAN_MAX_PORTS);
  GTask *task = g_task_new(NULL, cancellable, callback, callback_data);
  g_task_set_source_tag(task, am_scan_async);
  Scan *scan = g_new0(Scan, 1);
  scan->limits = *limits;
  scan->next = next;
  scan->found = found;
  scan->user_data = user_data;
  scan->task = task;
  scan->dead = g_ptr_array_new_with_free_func(g_free);
  scan->cap = MAX(limits->max_inflight, limits->n_ports);
  scan->started_mono_us = scan->tokens_us = g_get_monotonic_time();
  scan->tokens = MAX((double)limits->n_ports, limits->max_rate * BURST_MS / 1000.0);
  scan->stats.started_us = g_get_real_time();
  g_task_set_task_data(task, scan, (GDestroyNotify)scan_free);

  scan->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (scan->epfd < 0) {
    int err = errno;
    g_task_return_new_error(task, G_IO_ERROR, g_io_error_from_errno(err), "epoll: %s",
                            g_strerror(err));
    g_clear_object(&scan->task);
    return;
  }
  GMainContext *context = g_task_get_context(task);
  scan->io_source = g_unix_fd_source_new(scan->epfd, G_IO_IN);
  g_source_set_callback(scan->io_source, (GSourceFunc)(void (*)(void))on_io, scan, NULL);
  g_source_attach(scan->io_source, context);
  scan->tick_source = g_timeout_source_new(TICK_MS);
  g_source_set_callback(scan->tick_source, on_tick, scan, NULL);
  g_source_attach(scan->tick_source, context);
  pump(scan);
  free_dead(scan);
  maybe_complete(scan);
}

gboolean
am_scan_finish(GAsyncResult *result, AmScanStats *stats, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  Scan *scan = g_task_get_task_data(G_TASK(result));
  if (stats != NULL)
    *stats = scan->stats;
  return g_task_propagate_boolean(G_TASK(result), error);
}
