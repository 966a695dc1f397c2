/* The connect sweep against listeners this test opens on loopback (in a
 * network namespace of its own when it can): what it reports, and that
 * silent hosts, budgets and the in-flight cap behave. */
#include "am-cidr-scan.h"
#include "am-discovery-test-util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static gboolean private_netns;
static guint16 port_a; /* the scans' first port */
static guint16 port_b; /* a second one, for the preference test */

/* ---- listeners ---------------------------------------------------------- */

static int
listen_on(const char *addr, guint16 port, int backlog)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  int family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
  if (family == AF_INET) {
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    g_assert_cmpint(inet_pton(AF_INET, addr, &in4->sin_addr), ==, 1);
    len = sizeof *in4;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    g_assert_cmpint(inet_pton(AF_INET6, addr, &in6->sin6_addr), ==, 1);
    len = sizeof *in6;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(fd, >=, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0)
    g_error("bind %s:%u: %s", addr, port, g_strerror(errno));
  g_assert_cmpint(listen(fd, backlog), ==, 0);
  return fd;
}

/* A host whose SYNs are dropped: backlog 0 and one connection nobody
 * accepts fill the accept queue (ENVIRONMENT.md 6a). Returns the listener;
 * *@hold is the connection that fills it. */
static int
silent_on(const char *addr, guint16 port, int *hold)
{
  int fd = listen_on(addr, port, 0);
  struct sockaddr_in in4 = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, addr, &in4.sin_addr);
  *hold = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(connect(*hold, (struct sockaddr *)&in4, sizeof in4), ==, 0);
  return fd;
}

/* ---- running a scan ------------------------------------------------------ */

typedef struct {
  char **hosts; /* to hand out */
  guint next;
  GPtrArray *found; /* "host:port" in the order reported */
  guint max_fds_seen;
  guint cancel_after_found; /* 0: never */
  GCancellable *cancellable;
  gboolean done;
  gboolean ok;
  GError *error;
  AmScanStats stats;
} Run;

static gboolean
next_host(gpointer user_data, char *buf, gsize len)
{
  Run *r = user_data;
  r->max_fds_seen = MAX(r->max_fds_seen, am_test_count_fds());
  if (r->hosts[r->next] == NULL)
    return FALSE;
  g_strlcpy(buf, r->hosts[r->next++], len);
  return TRUE;
}

static void
found_host(const char *host, guint16 port, gpointer user_data)
{
  Run *r = user_data;
  g_ptr_array_add(r->found, g_strdup_printf("%s:%u", host, port));
  if (r->cancel_after_found > 0 && r->found->len == r->cancel_after_found)
    g_cancellable_cancel(r->cancellable);
}

static void
scan_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *r = user_data;
  r->ok = am_scan_finish(result, &r->stats, &r->error);
  r->done = TRUE;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* Scans @hosts (a ';' list) and returns the sorted "host:port" list found. */
static char *
run_scan(Run *r, const char *hosts, const AmScanLimits *limits)
{
  r->hosts = g_strsplit(hosts, ";", -1);
  r->found = g_ptr_array_new_with_free_func(g_free);
  r->cancellable = g_cancellable_new();
  am_scan_async(limits, next_host, found_host, r, r->cancellable, scan_done, r);
  while (!r->done)
    g_main_context_iteration(NULL, TRUE);
  g_ptr_array_sort(r->found, compare_strings);
  g_ptr_array_add(r->found, NULL);
  char *joined = g_strjoinv(";", (char **)r->found->pdata);
  g_ptr_array_remove_index(r->found, r->found->len - 1);
  return joined;
}

static void
run_clear(Run *r)
{
  g_strfreev(r->hosts);
  g_ptr_array_unref(r->found);
  g_object_unref(r->cancellable);
  g_clear_error(&r->error);
}

static char *
range_hosts(const char *prefix, guint first, guint last)
{
  GString *s = g_string_new(NULL);
  for (guint i = first; i <= last; i++)
    g_string_append_printf(s, "%s%s%u", s->len > 0 ? ";" : "", prefix, i);
  return g_string_free(s, FALSE);
}

static AmScanLimits
limits_for(guint inflight, guint rate, guint timeout_ms)
{
  AmScanLimits l = {.max_inflight = inflight, .max_rate = rate, .host_timeout_ms = timeout_ms};
  l.ports[0] = port_a;
  l.n_ports = 1;
  return l;
}

/* ---- tests ------------------------------------------------------------- */

/* Open ports are reported, everything else is a fast refusal. */
static void
test_found_and_refused(void)
{
  int l1 = listen_on("127.77.0.10", port_a, 16);
  int l2 = listen_on("127.77.0.20", port_a, 16);
  int l3 = listen_on("127.77.0.254", port_a, 16);
  g_autofree char *hosts = range_hosts("127.77.0.", 1, 254);
  AmScanLimits limits = limits_for(64, 0, 5000);
  Run r = {0};
  g_autofree char *found = run_scan(&r, hosts, &limits);
  g_assert_no_error(r.error);
  g_autofree char *expect =
      g_strdup_printf("127.77.0.10:%u;127.77.0.20:%u;127.77.0.254:%u", port_a, port_a, port_a);
  g_assert_cmpstr(found, ==, expect);
  g_assert_cmpuint(r.stats.hosts_tried, ==, 254);
  g_assert_cmpuint(r.stats.open, ==, 3);
  g_assert_cmpuint(r.stats.refused, ==, 251);
  g_assert_cmpuint(r.stats.timed_out, ==, 0);
  g_assert_false(r.stats.budget_spent);
  run_clear(&r);
  close(l1), close(l2), close(l3);
}

/* A silent host holds one slot for its deadline and nobody else waits for
 * it: with room for two connections, all twenty open hosts are found while
 * the silent one (first in line, with a deadline far beyond this test's
 * timeout) is still pending. */
static void
test_silent_never_delays_others(void)
{
  int hold;
  int silent = silent_on("127.77.1.1", port_a, &hold);
  int open[20];
  for (guint i = 0; i < 20; i++) {
    g_autofree char *addr = g_strdup_printf("127.77.1.%u", i + 2);
    open[i] = listen_on(addr, port_a, 16);
  }
  g_autofree char *hosts = range_hosts("127.77.1.", 1, 21);
  AmScanLimits limits = limits_for(2, 0, 600000);
  Run r = {.cancel_after_found = 20};
  g_autofree char *found = run_scan(&r, hosts, &limits);
  g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint(r.found->len, ==, 20);
  g_assert_null(strstr(found, "127.77.1.1:"));
  g_assert_cmpuint(r.stats.timed_out, ==, 0);
  run_clear(&r);
  for (guint i = 0; i < 20; i++)
    close(open[i]);
  close(hold), close(silent);
}

/* Silent hosts cost their deadline and are counted as such. */
static void
test_silent_counted(void)
{
  int hold1, hold2;
  int s1 = silent_on("127.77.2.1", port_a, &hold1);
  int s2 = silent_on("127.77.2.2", port_a, &hold2);
  int open = listen_on("127.77.2.3", port_a, 16);
  AmScanLimits limits = limits_for(8, 0, 200);
  Run r = {0};
  g_autofree char *found = run_scan(&r, "127.77.2.1;127.77.2.2;127.77.2.3;127.77.2.4", &limits);
  g_assert_no_error(r.error);
  g_autofree char *expect = g_strdup_printf("127.77.2.3:%u", port_a);
  g_assert_cmpstr(found, ==, expect);
  g_assert_cmpuint(r.stats.timed_out, ==, 2);
  g_assert_cmpuint(r.stats.refused, ==, 1);
  g_assert_cmpuint(r.stats.hosts_tried, ==, 4);
  run_clear(&r);
  close(hold1), close(hold2), close(s1), close(s2), close(open);
}

/* Never more sockets than max_inflight, even when every host is silent. */
static void
test_inflight_cap(void)
{
  int holds[12], silent[12];
  for (guint i = 0; i < 12; i++) {
    g_autofree char *addr = g_strdup_printf("127.77.3.%u", i + 1);
    silent[i] = silent_on(addr, port_a, &holds[i]);
  }
  g_autofree char *hosts = range_hosts("127.77.3.", 1, 12);
  guint baseline = am_test_count_fds();
  AmScanLimits limits = limits_for(3, 0, 100);
  Run r = {0};
  g_autofree char *found = run_scan(&r, hosts, &limits);
  g_assert_no_error(r.error);
  g_assert_cmpstr(found, ==, "");
  g_assert_cmpuint(r.stats.timed_out, ==, 12);
  /* A host is asked for only when a slot is free, so at that moment at
   * most 2 of the 3 connections are open (plus the epoll fd); and the cap
   * was reached, or the test proves nothing. */
  g_assert_cmpuint(r.max_fds_seen, ==, baseline + 1 + 2);
  run_clear(&r);
  /* Nothing is left open afterwards. */
  g_assert_cmpuint(am_test_count_fds(), ==, baseline);
  for (guint i = 0; i < 12; i++)
    close(holds[i]), close(silent[i]);
}

/* The budget stops new hosts; the pass still completes and says so. */
static void
test_budget(void)
{
  g_autofree char *hosts = range_hosts("127.77.4.", 1, 254);
  AmScanLimits limits = limits_for(16, 50, 1000);
  limits.time_budget_ms = 100;
  Run r = {0};
  g_autofree char *found = run_scan(&r, hosts, &limits);
  g_assert_no_error(r.error);
  g_assert_true(r.stats.budget_spent);
  g_assert_cmpuint(r.stats.hosts_tried, <, 254);
  g_assert_cmpuint(r.stats.hosts_tried, ==, r.next);
  run_clear(&r);
}

/* Ports are tried together; the first in preference order that accepts is
 * the one reported, once per host. */
static void
test_port_preference(void)
{
  int a_only_b = listen_on("127.77.5.1", port_b, 16);
  int both_a = listen_on("127.77.5.2", port_a, 16);
  int both_b = listen_on("127.77.5.2", port_b, 16);
  AmScanLimits limits = limits_for(8, 0, 2000);
  limits.ports[1] = port_b;
  limits.n_ports = 2;
  Run r = {0};
  g_autofree char *found = run_scan(&r, "127.77.5.1;127.77.5.2;127.77.5.3", &limits);
  g_assert_no_error(r.error);
  g_autofree char *expect = g_strdup_printf("127.77.5.1:%u;127.77.5.2:%u", port_b, port_a);
  g_assert_cmpstr(found, ==, expect);
  g_assert_cmpuint(r.stats.refused, ==, 1);
  run_clear(&r);
  close(a_only_b), close(both_a), close(both_b);
}

static void
test_ipv6_loopback(void)
{
  int l = listen_on("::1", port_a, 16);
  AmScanLimits limits = limits_for(8, 0, 2000);
  Run r = {0};
  g_autofree char *found = run_scan(&r, "::1", &limits);
  g_assert_no_error(r.error);
  g_autofree char *expect = g_strdup_printf("::1:%u", port_a);
  g_assert_cmpstr(found, ==, expect);
  run_clear(&r);
  close(l);
}

/* ---- back-off on a network that drops SYNs over a rate ------------------ */

#define DROP_OVER 500       /* SYNs per second the namespace lets through */
#define LOSSY_S 6           /* the drop rule is removed after this long */
#define END_S 11            /* no more hosts after this long */
#define LIVE_EVERY 40       /* one host in this many listens */
#define BUCKETS (END_S * 2) /* half seconds */

typedef struct {
  gint64 t0;
  guint handed;
  guint bucket[BUCKETS]; /* hosts handed out per half second */
  gboolean rule_removed;
  GPtrArray *live;   /* "host:port" that listen */
  GArray *listeners; /* fds */
  GPtrArray *found;
  gboolean done;
  GError *error;
  AmScanStats stats;
} Backoff;

/* nft with these arguments, in the test's own namespace; fails the test
 * with nft's message. */
static void
nft(const char *const *args)
{
  g_autofree char *path = g_find_program_in_path("nft");
  if (path == NULL && g_file_test("/usr/sbin/nft", G_FILE_TEST_IS_EXECUTABLE))
    path = g_strdup("/usr/sbin/nft");
  if (path == NULL)
    g_error("nft not found: the back-off test needs nftables (apt-get install nftables)");
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, path);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr(GError) error = NULL;
  if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                    &err, &status, &error) ||
      !g_spawn_check_wait_status(status, &error))
    g_error("nft %s: %s %s", args[0], error->message, err != NULL ? err : "");
}

static void
drop_syns_over(guint16 port, guint per_second)
{
  g_autofree char *dport = g_strdup_printf("%u", port);
  g_autofree char *rate = g_strdup_printf("%u/second", per_second);
  g_autofree char *burst = g_strdup_printf("%u", per_second / 10);
  nft((const char *[]){"add", "table", "inet", "antmon_backoff", NULL});
  nft((const char *[]){"add", "chain", "inet", "antmon_backoff", "syns",
                       "{ type filter hook input priority 0 ; }", NULL});
  nft((const char *[]){"add",     "rule",  "inet",  "antmon_backoff",
                       "syns",    "tcp",   "dport", dport,
                       "tcp",     "flags", "syn",   "/",
                       "syn,ack", "limit", "rate",  "over",
                       rate,      "burst", burst,   "packets",
                       "drop",    NULL});
}

/* Hosts from 127.80.0.0/16 (nobody: refused at once), one in LIVE_EVERY
 * a listener opened just before it is handed out; the drop rule is
 * removed after LOSSY_S, and the scan ends after END_S. */
static gboolean
backoff_next(gpointer user_data, char *buf, gsize len)
{
  Backoff *b = user_data;
  gint64 now = g_get_monotonic_time();
  if (b->t0 == 0)
    b->t0 = now;
  gint64 elapsed = now - b->t0;
  if (!b->rule_removed && elapsed >= LOSSY_S * G_USEC_PER_SEC) {
    nft((const char *[]){"delete", "table", "inet", "antmon_backoff", NULL});
    b->rule_removed = TRUE;
  }
  if (elapsed >= END_S * G_USEC_PER_SEC || b->handed >= 65000)
    return FALSE;
  b->bucket[elapsed * 2 / G_USEC_PER_SEC]++;
  guint n = b->handed++;
  if (n % LIVE_EVERY == LIVE_EVERY - 1) {
    guint k = b->live->len + 1;
    g_snprintf(buf, len, "127.81.%u.%u", k / 250, k % 250 + 1);
    int fd = listen_on(buf, port_a, 64);
    g_array_append_val(b->listeners, fd);
    g_ptr_array_add(b->live, g_strdup_printf("%s:%u", buf, port_a));
  } else {
    g_snprintf(buf, len, "127.80.%u.%u", n / 250, n % 250 + 1);
  }
  return TRUE;
}

static void
backoff_found(const char *host, guint16 port, gpointer user_data)
{
  Backoff *b = user_data;
  g_ptr_array_add(b->found, g_strdup_printf("%s:%u", host, port));
}

static void
backoff_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Backoff *b = user_data;
  am_scan_finish(result, &b->stats, &b->error);
  b->done = TRUE;
}

/* Connects per second over the half seconds [from, to). */
static double
rate_between(const Backoff *b, guint from, guint to)
{
  guint n = 0;
  for (guint i = from; i < to; i++)
    n += b->bucket[i];
  return n * 2.0 / (to - from);
}

/* A network that drops SYNs over DROP_OVER per second: the scan backs off
 * below that, finds every listening host anyway, and speeds up again once
 * the rule is gone. */
static void
test_backoff(void)
{
  if (!private_netns)
    g_error("the back-off test needs a network namespace of its own (root, or unprivileged "
            "user namespaces) to add its nftables rule in: none could be created");
  drop_syns_over(port_a, DROP_OVER);
  Backoff b = {
      .live = g_ptr_array_new_with_free_func(g_free),
      .listeners = g_array_new(FALSE, FALSE, sizeof(int)),
      .found = g_ptr_array_new_with_free_func(g_free),
  };
  AmScanLimits limits = limits_for(256, 0, 2000);
  am_scan_async(&limits, backoff_next, backoff_found, &b, NULL, backoff_done, &b);
  while (!b.done)
    g_main_context_iteration(NULL, TRUE);
  g_assert_no_error(b.error);
  for (guint i = 0; i < BUCKETS; i += 2)
    g_test_message("second %u: %.0f connects/s", i / 2, rate_between(&b, i, i + 2));
  g_test_message(
      "rate: %u at the end, lowest %u, highest %u; %u back-offs, %" G_GUINT64_FORMAT " losses",
      b.stats.rate, b.stats.rate_lowest, b.stats.rate_highest, b.stats.backoffs, b.stats.losses);
  /* Every host that listened was found, drops or not. */
  g_ptr_array_sort(b.live, compare_strings);
  g_ptr_array_sort(b.found, compare_strings);
  for (guint i = 0, j = 0; i < b.live->len; i++) {
    if (j < b.found->len && g_strcmp0(b.found->pdata[j], b.live->pdata[i]) == 0)
      j++;
    else
      g_test_message("not found: %s", (char *)b.live->pdata[i]);
  }
  g_assert_cmpuint(b.found->len, ==, b.live->len);
  for (guint i = 0; i < b.live->len; i++)
    g_assert_cmpstr(b.found->pdata[i], ==, b.live->pdata[i]);
  /* It backed off, and settled below the rule's rate over the last 3 s the
   * rule was there... */
  g_assert_cmpuint(b.stats.backoffs, >=, 1);
  g_assert_cmpfloat(rate_between(&b, 2 * (LOSSY_S - 3), 2 * LOSSY_S), <, DROP_OVER);
  /* ... and went well past it within the seconds after it was removed. */
  g_assert_cmpfloat(rate_between(&b, 2 * (END_S - 2), 2 * END_S), >, 2 * DROP_OVER);
  for (guint i = 0; i < b.listeners->len; i++)
    close(g_array_index(b.listeners, int, i));
  g_array_unref(b.listeners);
  g_ptr_array_unref(b.live);
  g_ptr_array_unref(b.found);
}

static void
test_nothing_to_scan(void)
{
  AmScanLimits limits = limits_for(8, 0, 2000);
  Run r = {0};
  g_autofree char *found = run_scan(&r, "", &limits);
  g_assert_true(r.ok);
  g_assert_cmpstr(found, ==, "");
  g_assert_cmpuint(r.stats.hosts_tried, ==, 0);
  run_clear(&r);
}

int
main(int argc, char **argv)
{
  private_netns = am_test_enter_private_netns();
  g_test_init(&argc, &argv, NULL);
  port_a = am_test_fleet_port(private_netns);
  port_b = private_netns ? 80 : am_test_fleet_port(FALSE);
  g_test_add_func("/cidr-scan/found-and-refused", test_found_and_refused);
  g_test_add_func("/cidr-scan/silent-never-delays-others", test_silent_never_delays_others);
  g_test_add_func("/cidr-scan/silent-counted", test_silent_counted);
  g_test_add_func("/cidr-scan/inflight-cap", test_inflight_cap);
  g_test_add_func("/cidr-scan/budget", test_budget);
  g_test_add_func("/cidr-scan/port-preference", test_port_preference);
  g_test_add_func("/cidr-scan/nothing-to-scan", test_nothing_to_scan);
  g_test_add_func("/cidr-scan/ipv6-loopback", test_ipv6_loopback);
  g_test_add_func("/cidr-scan/backoff", test_backoff);
  return g_test_run();
}
