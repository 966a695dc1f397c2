/* antmon-bench-poll: full polling passes over a fake fleet, through the
 * daemon's own scheduler, drivers and transport, measured from inside.
 *
 *   antmon-bench-poll --base 127.3.0.1 --count 10000 [--port 4028]
 *                     [--max-inflight 256] [--pin antminer] [--single]
 *
 * Every miner is added at once (the scheduler spreads first polls over at
 * most 2 s, as at daemon start) and the first pass ends when each has
 * answered or failed once. Without --pin that pass identifies every miner
 * (the fingerprint, then the driver's probe: what the first pass after
 * discovery costs); with --pin the driver is known. Then the steady pass:
 * every miner polled again at once (what each later interval costs, with
 * what the first pass learnt kept). --single polls the old way (every
 * command on its own connection, "version" every time): the reference.
 *
 * Prints one line of key=value pairs per pass (pass=identify or first,
 * then pass=steady): wall time, CPU per poll, peak RSS, and the share of
 * the pass the main loop was blocked (the summed lateness of a 10 ms
 * timer: what a poll's deadline or an HTTP request would have waited).
 * Loopback only: --base must be in 127.0.0.0/8. */
#include "am-allocator.h"
#include "am-context-private.h"
#include "am-instances.h"
#include "am-scheduler.h"

#include <antmon/rpc.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static char *opt_base = NULL;
static int opt_count = 1000;
static int opt_port = 4028;
static int opt_inflight = 256;
static char *opt_pin = NULL;
static gboolean opt_single = FALSE;

static const GOptionEntry options[] = {
    {"base", 0, 0, G_OPTION_ARG_STRING, &opt_base, "first miner address (127.x.y.z)", "ADDR"},
    {"count", 0, 0, G_OPTION_ARG_INT, &opt_count, "miners (1000)", "N"},
    {"port", 0, 0, G_OPTION_ARG_INT, &opt_port, "their port (4028)", "PORT"},
    {"max-inflight", 0, 0, G_OPTION_ARG_INT, &opt_inflight, "polls at once (256)", "N"},
    {"pin", 0, 0, G_OPTION_ARG_STRING, &opt_pin, "use this driver for every miner", "DRIVER"},
    {"single", 0, 0, G_OPTION_ARG_NONE, &opt_single,
     "one command per connection and 'version' every poll (the reference)", NULL},
    {NULL},
};

typedef struct {
  GHashTable *done; /* AmMinerEntry* that answered or failed this pass */
  guint ok;
  guint failed;
} Pass;

static void
on_sample(AmMinerEntry *e, AmSample *sample, gpointer user_data)
{
  Pass *pass = user_data;
  if (g_hash_table_add(pass->done, e))
    pass->ok++;
}

/* A failure changes the entry's failure count: the hook fires. */
static void
on_state(AmMinerEntry *e, AmMinerState old, gpointer user_data)
{
  Pass *pass = user_data;
  if (e->failures > 0 && g_hash_table_add(pass->done, e))
    pass->failed++;
}

/* A 10 ms timer on the main loop: how late each tick runs is how long the
 * loop was busy with something else (parsing, building samples). */
#define TICK_US 10000

typedef struct {
  gint64 due_us;
  gint64 late_us; /* summed */
} Ticker;

static gboolean
on_tick(gpointer user_data)
{
  Ticker *t = user_data;
  gint64 now = g_get_monotonic_time();
  if (now > t->due_us)
    t->late_us += now - t->due_us;
  t->due_us = now + TICK_US;
  return G_SOURCE_CONTINUE;
}

/* The fake fleet's addressing: consecutive, host parts .0 and .255 skipped. */
static guint32
next_address(guint32 addr)
{
  do
    addr++;
  while ((addr & 0xff) == 0 || (addr & 0xff) == 255);
  return addr;
}

static double
cpu_seconds(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static double
peak_rss_mb(void)
{
  g_autofree char *status = NULL;
  if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
    return 0;
  const char *hwm = strstr(status, "VmHWM:");
  return hwm != NULL ? g_ascii_strtod(hwm + 6, NULL) / 1024.0 : 0;
}

/* Runs the main loop until every miner is done once, measuring; @start
 * begins the pass (the scheduler's start, or polling every miner now). */
static void
run_pass(const char *name, AmScheduler *scheduler, Pass *pass, void (*start)(AmScheduler *))
{
  g_hash_table_remove_all(pass->done);
  pass->ok = pass->failed = 0;
  Ticker ticker = {.due_us = g_get_monotonic_time() + TICK_US};
  guint tick = g_timeout_add(TICK_US / 1000, on_tick, &ticker);
  double cpu0 = cpu_seconds();
  gint64 t0 = g_get_monotonic_time();
  start(scheduler);
  while (pass->ok + pass->failed < (guint)opt_count)
    g_main_context_iteration(NULL, TRUE);
  double wall = (g_get_monotonic_time() - t0) / 1e6;
  double cpu = cpu_seconds() - cpu0;
  g_source_remove(tick);
  printf("pass=%s mode=%s miners=%d ok=%u failed=%u wall_s=%.2f cpu_s=%.2f cpu_per_poll_ms=%.3f "
         "cpu_per_1000_s=%.3f cores=%.2f peak_rss_mb=%.1f blocked_share=%.3f\n",
         name, opt_single ? "single" : "fewer", opt_count, pass->ok, pass->failed, wall, cpu,
         cpu * 1000.0 / opt_count, cpu * 1000.0 / opt_count, cpu / wall, peak_rss_mb(),
         ticker.late_us / 1e6 / wall);
  fflush(stdout);
}

static void
poll_all_now(AmScheduler *scheduler)
{
  g_autoptr(GPtrArray) entries = am_scheduler_entries(scheduler);
  for (guint i = 0; i < entries->len; i++)
    am_scheduler_poll_now(scheduler, entries->pdata[i]);
}

int
main(int argc, char **argv)
{
  am_allocator_prefer_malloc(argv); /* as antmon's main() does */
  g_autoptr(GOptionContext) context = g_option_context_new("- time polling passes");
  g_option_context_add_main_entries(context, options, NULL);
  g_autoptr(GError) error = NULL;
  struct in_addr base;
  if (!g_option_context_parse(context, &argc, &argv, &error) || opt_base == NULL ||
      inet_pton(AF_INET, opt_base, &base) != 1 || (ntohl(base.s_addr) >> 24) != 127 ||
      opt_count < 1 || opt_inflight < 1) {
    fprintf(stderr, "usage: antmon-bench-poll --base 127.x.y.z --count N [--port P] "
                    "[--max-inflight N] [--pin DRIVER] [--single]\n");
    return 2;
  }

  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  g_autoptr(AmContext) ctx = am_context_new(".", NULL);
  g_autoptr(AmInstances) instances = am_instances_new();
  am_instances_create_kind(instances, plugins, AM_PLUGIN_KIND_DRIVER, ctx, NULL, "bench");
  g_autoptr(GPtrArray) drivers = am_instances_of_kind(instances, AM_PLUGIN_KIND_DRIVER);
  AmSchedulerConfig config = {.interval_ms = 3600000,
                              .poll_timeout_ms = 10000,
                              .max_inflight = (guint)opt_inflight,
                              .offline_after = 3,
                              .jitter = 0.1};
  g_autoptr(AmScheduler) scheduler = am_scheduler_new(&config, drivers);
  Pass pass = {.done = g_hash_table_new(NULL, NULL)};
  am_scheduler_add_sample_hook(scheduler, on_sample, &pass);
  am_scheduler_add_state_hook(scheduler, on_state, &pass);

  guint32 addr = ntohl(base.s_addr);
  for (int i = 0; i < opt_count; i++, addr = next_address(addr)) {
    char host[INET_ADDRSTRLEN];
    struct in_addr a = {.s_addr = htonl(addr)};
    inet_ntop(AF_INET, &a, host, sizeof host);
    g_autoptr(AmMiner) miner = am_miner_new(host, (guint16)opt_port);
    if (opt_pin != NULL)
      am_miner_set_driver_pin(miner, opt_pin);
    if (opt_single)
      am_miner_set_note(miner, "rpc.rounds", "single");
    am_scheduler_add(scheduler, miner, "static");
  }

  run_pass(opt_pin != NULL ? "first" : "identify", scheduler, &pass, am_scheduler_start);
  guint failed = pass.failed;
  run_pass("steady", scheduler, &pass, poll_all_now);
  failed += pass.failed;
  am_scheduler_stop(scheduler);
  g_hash_table_unref(pass.done);
  return failed == 0 ? 0 : 1;
}
