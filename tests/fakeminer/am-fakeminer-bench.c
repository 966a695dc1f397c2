/* A small load generator for bench-fakeminer.sh: keeps N requests in flight
 * against a range of fake miners (one request per connection, as cgminer
 * clients do) for a few seconds and prints what it got.
 *
 * Loopback only, and bounded in time and in requests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  int fd;
  gsize sent;
  gboolean got_nul;
} Slot;

typedef struct {
  guint32 *addresses; /* host order */
  guint count;
  guint next;
  guint16 port;
  const char *request;
  gsize request_len;
  int epoll;
  guint64 ok;
  guint64 failed;
  guint64 bytes;
} Bench;

static guint32
parse_base(const char *text)
{
  struct in_addr a;
  if (inet_pton(AF_INET, text, &a) != 1)
    return 0;
  guint32 host = ntohl(a.s_addr);
  return (host >> 24) == 127 ? host : 0;
}

/* Same walk as the fake: consecutive, skipping host parts .0 and .255. */
static guint32 *
make_addresses(guint32 base, guint count)
{
  guint32 *list = g_new(guint32, count);
  guint32 host = base;
  for (guint i = 0; i < count; i++) {
    while ((host & 0xff) == 0 || (host & 0xff) == 255)
      host++;
    list[i] = host++;
  }
  return list;
}

static gboolean
slot_open(Bench *b, Slot *slot)
{
  slot->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  slot->sent = 0;
  slot->got_nul = FALSE;
  if (slot->fd < 0)
    return FALSE;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(b->port)};
  sa.sin_addr.s_addr = htonl(b->addresses[b->next++ % b->count]);
  if (connect(slot->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
    close(slot->fd);
    slot->fd = -1;
    return FALSE;
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = slot};
  epoll_ctl(b->epoll, EPOLL_CTL_ADD, slot->fd, &ev);
  return TRUE;
}

static void
slot_done(Bench *b, Slot *slot, gboolean ok)
{
  epoll_ctl(b->epoll, EPOLL_CTL_DEL, slot->fd, NULL);
  close(slot->fd);
  slot->fd = -1;
  if (ok)
    b->ok++;
  else
    b->failed++;
}

static void
slot_event(Bench *b, Slot *slot, guint32 events)
{
  if (slot->sent < b->request_len) {
    ssize_t n = send(slot->fd, b->request + slot->sent, b->request_len - slot->sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      slot_done(b, slot, FALSE);
      return;
    }
    if (n > 0)
      slot->sent += (gsize)n;
    if (slot->sent == b->request_len) {
      struct epoll_event ev = {.events = EPOLLIN, .data.ptr = slot};
      epoll_ctl(b->epoll, EPOLL_CTL_MOD, slot->fd, &ev);
    }
    return;
  }
  char buf[16384];
  for (;;) {
    ssize_t n = recv(slot->fd, buf, sizeof buf, 0);
    if (n > 0) {
      b->bytes += (guint64)n;
      slot->got_nul = buf[n - 1] == '\0';
      continue;
    }
    if (n < 0 && errno == EAGAIN)
      return;
    slot_done(b, slot, n == 0 && slot->got_nul);
    return;
  }
}

int
main(int argc, char **argv)
{
  char *base = NULL;
  int count = 1, port = 4028, concurrency = 32;
  double seconds = 5;
  gint64 max_requests = 1000000;
  char *command = NULL;
  GOptionEntry entries[] = {
      {"base", 0, 0, G_OPTION_ARG_STRING, &base, "First miner (127.0.0.0/8)", "ADDR"},
      {"count", 0, 0, G_OPTION_ARG_INT, &count, "Miners", "N"},
      {"port", 0, 0, G_OPTION_ARG_INT, &port, "Port", "PORT"},
      {"concurrency", 0, 0, G_OPTION_ARG_INT, &concurrency, "Requests in flight", "N"},
      {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Duration", "S"},
      {"max-requests", 0, 0, G_OPTION_ARG_INT64, &max_requests, "Stop after this many", "N"},
      {"command", 0, 0, G_OPTION_ARG_STRING, &command, "Command (default summary)", "CMD"},
      {NULL},
  };
  g_autoptr(GOptionContext) context = g_option_context_new("- load a fake miner fleet");
  g_option_context_add_main_entries(context, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    g_printerr("%s\n", error->message);
    return 2;
  }
  guint32 first = base ? parse_base(base) : 0;
  if (first == 0 || count < 1 || concurrency < 1 || concurrency > 4096 || port < 1 ||
      port > 65535 || seconds <= 0 || seconds > 120) {
    g_printerr("usage: --base 127.x.y.z --count N --port P [--concurrency N --seconds S]\n");
    return 2;
  }
  g_autofree char *request = g_strdup_printf("{\"command\":\"%s\"}", command ? command : "summary");
  Bench b = {.addresses = make_addresses(first, (guint)count),
             .count = (guint)count,
             .port = (guint16)port,
             .request = request,
             .request_len = strlen(request),
             .epoll = epoll_create1(EPOLL_CLOEXEC)};
  Slot *slots = g_new0(Slot, concurrency);
  guint64 started = 0;
  gint64 t0 = g_get_monotonic_time();
  gint64 deadline = t0 + (gint64)(seconds * G_USEC_PER_SEC);
  for (int i = 0; i < concurrency; i++) {
    slots[i].fd = -1;
    if (slot_open(&b, &slots[i]))
      started++;
  }
  struct epoll_event events[256];
  while (g_get_monotonic_time() < deadline && b.ok + b.failed < (guint64)max_requests) {
    int n = epoll_wait(b.epoll, events, G_N_ELEMENTS(events), 100);
    for (int i = 0; i < n; i++) {
      Slot *slot = events[i].data.ptr;
      slot_event(&b, slot, events[i].events);
      if (slot->fd < 0 && started < (guint64)max_requests && slot_open(&b, slot))
        started++;
    }
  }
  double elapsed = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
  printf("requests_ok %" G_GUINT64_FORMAT " failed %" G_GUINT64_FORMAT
         " seconds %.2f rps %.0f bytes %" G_GUINT64_FORMAT "\n",
         b.ok, b.failed, elapsed, (double)b.ok / elapsed, b.bytes);
  for (int i = 0; i < concurrency; i++)
    if (slots[i].fd >= 0)
      close(slots[i].fd);
  close(b.epoll);
  g_free(slots);
  g_free(b.addresses);
  g_free(base);
  g_free(command);
  return b.failed == 0 ? 0 : 1;
}
