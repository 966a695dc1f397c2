/* The connect sweep. One epoll set holds every connection in flight and is
 * watched by one GSource; a 10 ms tick expires deadlines (hosts start in
 * order and share one timeout, so the oldest is always due first), sends
 * the beacon, adapts the rate (am-cidr-rate.c), refills the rate bucket and
 * starts more hosts. */
#include "am-cidr-scan.h"
#include "am-cidr-rate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define TICK_MS 10
/* Below the default: when the CPU is short, a sweep at full rate would
 * otherwise hold up the identification of the miners it finds (and, in the
 * daemon, the polls), which then time out. The sweep waits instead. */
#define SCAN_PRIORITY (G_PRIORITY_DEFAULT + 10)
#define EVENTS_PER_WAKE 256
/* The rate bucket holds this much time's worth of tokens, so a pause (a
 * slow main loop iteration) never turns into a burst. */
#define BURST_MS 20
/* An answer this late may have needed a second SYN: TCP_INFO then says. */
#define LATE_US 300000
/* A beacon every this often, overdue after this many of its round trips
 * (within these bounds). */
#define BEACON_EVERY_US 20000
#define BEACON_RTTS 8
#define BEACON_MIN_WAIT_US 50000
#define BEACON_MAX_WAIT_US 500000
/* Descriptors left for the rest of the process (and the beacon). */
#define FD_RESERVE 64
/* A loss this recent makes silent hosts be tried again, this many times. */
#define LOSSY_US 3000000
#define MAX_RETRIES 3

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
  gint64 started_us;
  gint64 deadline_us;
  double rate;   /* the rate it was started at */
  guint retries; /* connects sent again (a loss was seen) */
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
  GQueue retrying; /* Host*: unanswered while losses were seen, to try again */
  GPtrArray *dead; /* Host*: finished during an epoll batch, freed after it */
  guint in_flight; /* connections */
  guint cap;       /* max_inflight, lowered when the system runs out of fds */
  AmScanRate rate;
  double tokens;
  gint64 tokens_us;
  /* The beacon: a re-connect to the latest address:port that refused at
   * once, to see drops as they start (am-cidr-rate.h). */
  Conn beacon; /* host NULL; state CONN_PENDING while in flight */
  gint64 beacon_started_us;
  double beacon_rate;
  gint64 beacon_srtt_us; /* 0: no sample yet */
  char beacon_addr[INET6_ADDRSTRLEN];
  guint16 beacon_port;
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

/* Starts a non-blocking connect watched by the epoll set as @ptr. Returns
 * -1 with *@fd_out set while it is in progress, else the errno it ended
 * with at once (0: accepted). */
static int
connect_watched(Scan *scan, const struct sockaddr_storage *ss, socklen_t len, gpointer ptr,
                int *fd_out)
{
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return is_resource_error(errno) ? errno : EHOSTUNREACH;
  if (connect(fd, (const struct sockaddr *)ss, len) == 0) {
    close(fd);
    return 0;
  }
  int err = errno;
  if (err != EINPROGRESS) {
    close(fd);
    return err;
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = ptr};
  if (epoll_ctl(scan->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    err = errno;
    close(fd);
    return err != 0 ? err : ENOMEM;
  }
  *fd_out = fd;
  return -1;
}

/* TCP_INFO of a connect: whether the kernel had to send its SYN again, and
 * whether it is still waiting for an answer. */
static gboolean
tcp_info_of(int fd, struct tcp_info *info)
{
  socklen_t len = sizeof *info;
  return getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, &len) == 0;
}

static gboolean
was_retransmitted(int fd)
{
  struct tcp_info info;
  return tcp_info_of(fd, &info) && info.tcpi_total_retrans > 0;
}

static gboolean
still_connecting(int fd)
{
  struct tcp_info info;
  return tcp_info_of(fd, &info) && info.tcpi_state == TCP_SYN_SENT;
}

/* An answer (accept or refusal) to one of @host's connects, for the rate:
 * a late one is checked for a retransmitted SYN; a prompt refusal makes the
 * next beacon. @fd is the connect's socket, or -1 when it ended at once. */
static void
note_answer(Scan *scan, Conn *conn, ConnState state, int fd, gint64 now)
{
  if (state != CONN_OPEN && state != CONN_REFUSED)
    return;
  Host *host = conn->host;
  gboolean retransmitted = fd >= 0 && now - host->started_us >= LATE_US && was_retransmitted(fd);
  am_scan_rate_answer(&scan->rate, host->started_us, host->rate, retransmitted);
  if (state == CONN_REFUSED && !retransmitted) {
    g_strlcpy(scan->beacon_addr, host->addr, sizeof scan->beacon_addr);
    scan->beacon_port = scan->limits.ports[conn - host->conns];
  }
}

/* Starts one connect. Returns the errno of a resource failure (nothing was
 * started), else 0 with @conn's state set. */
static int
conn_start(Scan *scan, Conn *conn, const struct sockaddr_storage *ss, socklen_t len)
{
  int fd = -1;
  int err = connect_watched(scan, ss, len, conn, &fd);
  if (err >= 0) {
    if (is_resource_error(err))
      return err;
    conn->state = state_for_errno(err);
    note_answer(scan, conn, conn->state, -1, conn->host->started_us);
    return 0;
  }
  conn->fd = fd;
  conn->state = CONN_PENDING;
  conn->host->pending++;
  scan->in_flight++;
  return 0;
}

/* ---- the beacon -------------------------------------------------------- */

static void
beacon_close(Scan *scan)
{
  close(scan->beacon.fd);
  scan->beacon.fd = -1;
  scan->beacon.state = CONN_UNUSED;
}

/* It came back: one more round trip for the overdue bound. */
static void
beacon_answered(Scan *scan, gint64 now)
{
  gint64 rtt = now - scan->beacon_started_us;
  scan->beacon_srtt_us = scan->beacon_srtt_us == 0 ? rtt : (7 * scan->beacon_srtt_us + rtt) / 8;
  am_scan_rate_beacon(&scan->rate, scan->beacon_started_us, scan->beacon_rate, FALSE);
}

static void
beacon_event(Scan *scan, gint64 now)
{
  beacon_close(scan);
  beacon_answered(scan, now);
}

/* A beacon still without an answer after several of its usual round trips
 * was dropped; one that was answered but not yet read counts as answered. */
static void
beacon_check(Scan *scan, gint64 now)
{
  if (scan->beacon.state != CONN_PENDING)
    return;
  gint64 wait = CLAMP(BEACON_RTTS * scan->beacon_srtt_us, BEACON_MIN_WAIT_US, BEACON_MAX_WAIT_US);
  if (now - scan->beacon_started_us < wait)
    return;
  gboolean lost = still_connecting(scan->beacon.fd);
  beacon_close(scan);
  am_scan_rate_beacon(&scan->rate, scan->beacon_started_us, scan->beacon_rate, lost);
}

static void
beacon_send(Scan *scan, gint64 now)
{
  if (scan->beacon.state == CONN_PENDING || scan->beacon_addr[0] == '\0' || scan->exhausted ||
      now - scan->beacon_started_us < BEACON_EVERY_US)
    return;
  struct sockaddr_storage ss;
  socklen_t len;
  if (!make_sockaddr(scan->beacon_addr, scan->beacon_port, &ss, &len))
    return;
  scan->beacon_started_us = now;
  scan->beacon_rate = scan->rate.rate;
  int fd = -1;
  int err = connect_watched(scan, &ss, len, &scan->beacon, &fd);
  if (err < 0) {
    scan->beacon.fd = fd;
    scan->beacon.state = CONN_PENDING;
  } else if (err == 0 || err == ECONNREFUSED) {
    beacon_answered(scan, now);
  }
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

/* Connects every port of @host not tried yet: all of a new host's, the
 * unanswered ones on a retry. On a resource failure the ones started here
 * are closed again and the errno is returned. */
static int
host_connect(Scan *scan, Host *host)
{
  host->started_us = g_get_monotonic_time();
  host->deadline_us = host->started_us + (gint64)scan->limits.host_timeout_ms * 1000;
  host->rate = scan->rate.rate;
  gboolean started[AM_SCAN_MAX_PORTS] = {FALSE};
  for (guint i = 0; i < scan->limits.n_ports; i++) {
    Conn *conn = &host->conns[i];
    if (conn->state != CONN_UNUSED)
      continue;
    conn->host = host;
    conn->fd = -1;
    struct sockaddr_storage ss;
    socklen_t len;
    if (!make_sockaddr(host->addr, scan->limits.ports[i], &ss, &len)) {
      conn->state = CONN_UNREACHABLE;
      continue;
    }
    int err = conn_start(scan, conn, &ss, len);
    if (err == 0) {
      started[i] = TRUE;
      continue;
    }
    for (guint j = 0; j < i; j++) {
      if (started[j]) {
        conn_close(scan, &host->conns[j], CONN_UNUSED);
        host->conns[j].state = CONN_UNUSED;
      }
    }
    return err;
  }
  return 0;
}

/* The system is out of fds, buffers or ports. */
static void
resources_short(Scan *scan, int err)
{
  /* Out of buffers or ports rather than descriptors: too fast, too. */
  if (err == ENOBUFS || err == EAGAIN || err == EADDRNOTAVAIL)
    am_scan_rate_local_error(&scan->rate, g_get_monotonic_time());
  /* Never ask for more than the system gave us just now. */
  scan->cap = MAX(scan->in_flight, scan->limits.n_ports);
  if (!scan->warned_resources) {
    scan->warned_resources = TRUE;
    g_warning("scan: %s at %u connections in flight; going on with at most %u (raise the "
              "fd limit, or lower max_inflight)",
              g_strerror(err), scan->in_flight, scan->cap);
  }
}

/* @host, just (re)connected, waits for its answers; or has them all. */
static void
host_wait(Scan *scan, Host *host)
{
  g_queue_push_tail_link(&scan->hosts, &host->link);
  if (host->pending == 0 && host_decide(scan, host, FALSE))
    host_finish(scan, host);
}

/* Starts every port of @addr. Returns FALSE (and starts nothing) when the
 * system is out of fds or ports; @addr is then kept for later. */
static gboolean
host_start(Scan *scan, const char *addr)
{
  Host *host = g_new0(Host, 1);
  g_strlcpy(host->addr, addr, sizeof host->addr);
  host->link.data = host;
  int err = host_connect(scan, host);
  if (err != 0) {
    g_free(host);
    g_strlcpy(scan->retry, addr, sizeof scan->retry);
    resources_short(scan, err);
    return FALSE;
  }
  host_wait(scan, host);
  return TRUE;
}

/* Connects the first host waiting for a retry again. */
static gboolean
host_retry(Scan *scan)
{
  Host *host = g_queue_peek_head(&scan->retrying);
  int err = host_connect(scan, host);
  if (err != 0) {
    resources_short(scan, err);
    return FALSE;
  }
  g_queue_unlink(&scan->retrying, &host->link);
  host_wait(scan, host);
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
  GList *link;
  while ((link = g_queue_pop_head_link(&scan->retrying)) != NULL)
    g_free(link->data); /* none of its connects is pending */
  g_ptr_array_unref(scan->dead);
  if (scan->beacon.state == CONN_PENDING)
    beacon_close(scan);
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
  scan->stats.rate = (guint)scan->rate.rate;
  scan->stats.rate_lowest = (guint)scan->rate.lowest;
  scan->stats.rate_highest = (guint)scan->rate.highest;
  scan->stats.backoffs = scan->rate.backoffs;
  scan->stats.losses = scan->rate.losses;
  GTask *task = g_steal_pointer(&scan->task);
  if (error != NULL)
    g_task_return_error(task, error);
  else
    g_task_return_boolean(task, TRUE);
  g_object_unref(task);
}

static double
burst_tokens(Scan *scan)
{
  return MAX((double)scan->limits.n_ports, scan->rate.rate * BURST_MS / 1000.0);
}

static void
refill_tokens(Scan *scan, gint64 now)
{
  double per_us = scan->rate.rate / 1e6;
  scan->tokens = MIN(burst_tokens(scan), scan->tokens + (now - scan->tokens_us) * per_us);
  scan->tokens_us = now;
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
  while (scan->in_flight + scan->limits.n_ports <= scan->cap) {
    if (scan->exhausted && g_queue_is_empty(&scan->retrying))
      break;
    if (scan->tokens < scan->limits.n_ports) {
      am_scan_rate_starved(&scan->rate);
      break;
    }
    if (!g_queue_is_empty(&scan->retrying)) {
      if (!host_retry(scan))
        break;
    } else {
      if (scan->retry[0] != '\0') {
        g_strlcpy(addr, scan->retry, sizeof addr);
        scan->retry[0] = '\0';
      } else if (!scan->next(scan->user_data, addr, sizeof addr)) {
        scan->exhausted = TRUE;
        continue; /* retries may still be due */
      }
      if (!host_start(scan, addr))
        break;
    }
    scan->tokens -= scan->limits.n_ports;
    am_scan_rate_started(&scan->rate, scan->limits.n_ports);
  }
}

static gboolean
maybe_complete(Scan *scan)
{
  if (!scan->exhausted || !g_queue_is_empty(&scan->hosts) || !g_queue_is_empty(&scan->retrying))
    return FALSE;
  scan_complete(scan, NULL);
  return TRUE;
}

static void
on_conn_event(Scan *scan, Conn *conn, guint32 events, gint64 now)
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
  ConnState state = state_for_errno(err);
  note_answer(scan, conn, state, conn->fd, now);
  conn_close(scan, conn, state);
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
    gint64 now = g_get_monotonic_time();
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr == &scan->beacon)
        beacon_event(scan, now);
      else
        on_conn_event(scan, events[i].data.ptr, events[i].events, now);
    }
    free_dead(scan);
  } while (n == EVENTS_PER_WAKE);
  pump(scan);
  free_dead(scan);
  maybe_complete(scan);
  return G_SOURCE_CONTINUE;
}

/* While losses are being seen, a host still unanswered at its deadline may
 * have lost its SYNs: its unanswered ports are closed and tried again with
 * a new connect, paced by the rate like a new host (the kernel's own
 * retransmissions of every SYN dropped in a burst come back in step, one
 * second apart, and meet the same congestion again). */
static gboolean
retry_later(Scan *scan, Host *host, gint64 now)
{
  gint64 timeout_us = (gint64)scan->limits.host_timeout_ms * 1000;
  if (host->retries >= MAX_RETRIES || host->pending == 0 ||
      !am_scan_rate_lossy(&scan->rate, now, MAX(LOSSY_US, 2 * timeout_us)))
    return FALSE;
  for (guint i = 0; i < scan->limits.n_ports; i++) {
    Conn *conn = &host->conns[i];
    if (conn->state == CONN_PENDING) {
      conn_close(scan, conn, CONN_UNUSED);
      conn->state = CONN_UNUSED;
    }
  }
  host->retries++;
  g_queue_unlink(&scan->hosts, &host->link);
  g_queue_push_tail_link(&scan->retrying, &host->link);
  return TRUE;
}

/* Hosts past their deadline: the oldest first, all sharing one timeout. */
static void
expire(Scan *scan, gint64 now)
{
  Host *host;
  while ((host = g_queue_peek_head(&scan->hosts)) != NULL && host->deadline_us <= now) {
    if (retry_later(scan, host, now))
      continue;
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
  gint64 now = g_get_monotonic_time();
  expire(scan, now);
  beacon_check(scan, now);
  beacon_send(scan, now);
  if (am_scan_rate_tick(&scan->rate, now))
    g_debug("scan: %.0f connects/s (%u back-offs)", scan->rate.rate, scan->rate.backoffs);
  pump(scan);
  free_dead(scan);
  maybe_complete(scan);
  return G_SOURCE_CONTINUE;
}

/* max_inflight, within the descriptors this process may still open. */
static guint
inflight_cap(const AmScanLimits *limits)
{
  guint cap = limits->max_inflight;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    cap = (guint)MIN((rlim_t)cap,
                     rl.rlim_cur > 2 * FD_RESERVE ? rl.rlim_cur - FD_RESERVE : rl.rlim_cur / 2);
  return MAX(cap, limits->n_ports);
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
  scan->cap = inflight_cap(limits);
  scan->started_mono_us = scan->tokens_us = g_get_monotonic_time();
  am_scan_rate_init(&scan->rate, limits->max_rate, scan->started_mono_us);
  scan->tokens = burst_tokens(scan);
  scan->beacon.fd = -1;
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
  g_source_set_priority(scan->io_source, SCAN_PRIORITY);
  g_source_set_callback(scan->io_source, (GSourceFunc)(void (*)(void))on_io, scan, NULL);
  g_source_attach(scan->io_source, context);
  scan->tick_source = g_timeout_source_new(TICK_MS);
  g_source_set_priority(scan->tick_source, SCAN_PRIORITY);
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
