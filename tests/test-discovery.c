/* discovery:cidr end to end, in a network namespace of the test's own (when
 * it can): `antmon scan` over a /16 holding a scattered fake fleet, some
 * addresses silent and some hung; the plugin's continuous mode (new, known,
 * lost); and the daemon polling what discovery found. */
#include "am-context-private.h"
#include "am-daemon.h"
#include "am-discovery-test-util.h"
#include "am-instances.h"
#include "am-test-util.h"

#include <string.h>

static gboolean private_netns;
static guint16 fleet_port;

/* ---- helpers ------------------------------------------------------------ */

typedef struct {
  const char *address;
  const char *profile;
  const char *fault;  /* NULL: serves normally */
  const char *driver; /* what the scan must say; NULL: must not be listed */
} FleetMiner;

static char *
fleet_text(const FleetMiner *fleet, gsize n)
{
  GString *text = g_string_new(NULL);
  for (gsize i = 0; i < n; i++) {
    g_autofree char *profile = am_test_profile_dir(fleet[i].profile);
    g_string_append_printf(text, "%s:%u %s%s%s\n", fleet[i].address, fleet_port, profile,
                           fleet[i].fault != NULL ? " fault=" : "",
                           fleet[i].fault != NULL ? fleet[i].fault : "");
  }
  return g_string_free(text, FALSE);
}

typedef struct {
  int status;
  char *out;
  char *err;
  double seconds;
} Run;

static Run
run_antmon_once(const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("ANTMON_BIN"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time();
  g_autoptr(GSubprocess) proc =
      g_subprocess_newv((const char *const *)argv->pdata,
                        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error(error);
  Run r = {0};
  g_subprocess_communicate_utf8(proc, NULL, NULL, &r.out, &r.err, &error);
  g_assert_no_error(error);
  r.seconds = (g_get_monotonic_time() - start) / 1e6;
  r.status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
  return r;
}

static void
run_clear(Run *r)
{
  g_free(r->out);
  g_free(r->err);
}

/* As run_antmon_once(). Under ASan, LeakSanitizer's own tracer now and then
 * crashes at exit ("Tracer caught signal 11", google/sanitizers#1353): a
 * fault of the tool, not a leak (a leak says "detected memory leaks"), so
 * that one failure is run again, once, as test-query does. */
static Run
run_antmon(const char *const *args)
{
  Run r = run_antmon_once(args);
  if (r.err != NULL && strstr(r.err, "LeakSanitizer has encountered a fatal error") != NULL) {
    g_test_message("LeakSanitizer's tracer crashed; running antmon again: %s", r.err);
    run_clear(&r);
    r = run_antmon_once(args);
  }
  return r;
}

static char *
write_tmp(const char *name, const char *text)
{
  g_autofree char *dir = g_dir_make_tmp("antmon-discovery-XXXXXX", NULL);
  char *path = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

/* ---- antmon scan over a /16 -------------------------------------------- */

/* Scattered over 127.60.0.0/16, .0 and .255 host parts included (in a /16
 * they are hosts like any other). One Avalon and one LuxOS only: their
 * recorded replies carry a MAC, and two miners with one MAC are one miner. */
static const FleetMiner scan_fleet[] = {
    {"127.60.0.1", "antminer-s9", NULL, "antminer"},
    {"127.60.0.200", "antminer-s19pro", NULL, "antminer"},
    {"127.60.3.7", "braiins-s9", NULL, "braiins"},
    {"127.60.7.0", "antminer-s17pro", NULL, "antminer"},
    {"127.60.9.255", "whatsminer-m20s", NULL, "whatsminer"},
    {"127.60.17.42", "avalon-7xx", NULL, "avalon"},
    {"127.60.33.33", "luxos", NULL, "luxos"},
    {"127.60.64.1", "generic-cgminer", NULL, "generic"},
    {"127.60.99.250", "hiveon-s9", NULL, "antminer"},
    {"127.60.128.128", "vnish-s9", NULL, "antminer"},
    {"127.60.150.3", "braiins-plus-s9", NULL, "braiins"},
    {"127.60.200.77", "antminer-l3plus", NULL, "antminer"},
    {"127.60.254.254", "whatsminer-m3", NULL, "whatsminer"},
    {"127.60.255.254", "antminer-s9", NULL, "antminer"},
    /* The kernel drops their SYNs: they cost the per-host deadline. */
    {"127.60.5.5", "antminer-s9", "silent", NULL},
    {"127.60.77.1", "antminer-s9", "silent", NULL},
    {"127.60.240.9", "antminer-s9", "silent", NULL},
    /* Accept, then never answer: found, but nothing can identify them. */
    {"127.60.12.12", "antminer-s9", "hang", NULL},
    {"127.60.222.2", "antminer-s9", "hang", NULL},
    /* Switched off. */
    {"127.60.44.44", "antminer-s9", "refuse", NULL},
};

static gboolean
is_hung(const char *address)
{
  for (gsize i = 0; i < G_N_ELEMENTS(scan_fleet); i++)
    if (g_str_equal(scan_fleet[i].address, address))
      return g_strcmp0(scan_fleet[i].fault, "hang") == 0;
  return FALSE;
}

static char *
scan_config(void)
{
  /* A short connect deadline keeps the silent hosts cheap. */
  g_autofree char *text = g_strdup_printf("[discovery:cidr]\nports=%u\nhost_timeout=1s\n"
                                          "max_rate=0\nmax_inflight=512\n",
                                          fleet_port);
  return write_tmp("scan.ini", text);
}

static void
test_scan_finds_exactly_the_fleet(void)
{
  g_autofree char *text = fleet_text(scan_fleet, G_N_ELEMENTS(scan_fleet));
  AmTestFleet *fleet = am_test_fleet_start(text);
  g_autofree char *ini = scan_config();
  const char *args[] = {"scan", "127.60.0.0/16", "--json", "--timeout", "2", "-c", ini, NULL};
  Run r = run_antmon(args);
  if (r.status != 0)
    g_error("antmon scan exited %d: %s", r.status, r.err);

  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, r.out, -1, NULL));
  JsonArray *samples = json_node_get_array(json_parser_get_root(parser));
  g_autoptr(GHashTable) got = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length(samples); i++) {
    JsonObject *s = json_array_get_object_element(samples, i);
    g_assert_cmpint(json_object_get_int_member(s, "port"), ==, fleet_port);
    g_hash_table_insert(got, (gpointer)json_object_get_string_member(s, "host"),
                        (gpointer)json_object_get_string_member(s, "driver"));
  }
  guint expected = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(scan_fleet); i++) {
    const FleetMiner *m = &scan_fleet[i];
    const char *driver = g_hash_table_lookup(got, m->address);
    if (m->driver == NULL) {
      if (driver != NULL)
        g_error("%s (fault=%s) was listed as a %s miner", m->address, m->fault, driver);
      continue;
    }
    expected++;
    if (g_strcmp0(driver, m->driver) != 0)
      g_error("%s (%s): expected driver %s, got %s; antmon said:\n%s", m->address, m->profile,
              m->driver, driver, r.err);
  }
  g_assert_cmpuint(g_hash_table_size(got), ==, expected);

  /* The hung ones accepted: they are named on stderr, not hidden. */
  for (gsize i = 0; i < G_N_ELEMENTS(scan_fleet); i++)
    if (is_hung(scan_fleet[i].address)) {
      g_autofree char *line = g_strdup_printf("%s:%u accepts connections but was not identified",
                                              scan_fleet[i].address, fleet_port);
      g_assert_nonnull(strstr(r.err, line));
    }
  g_assert_nonnull(strstr(r.err, "65534 hosts tried"));
  g_assert_nonnull(strstr(r.err, "3 silent"));
  /* Liveness, not speed: a sweep of 65,534 hosts with nobody waiting on a
   * silent one is bounded by one connect deadline (1 s) plus one
   * identification deadline (2 s); a scan that waited on silent hosts one
   * after another, or on every refused one, would take minutes. */
  g_assert_cmpfloat(r.seconds, <, 60);
  run_clear(&r);

  /* The same scan as a table. */
  const char *table_args[] = {"scan", "127.60.0.0/16", "--timeout", "2", "-c", ini, NULL};
  r = run_antmon(table_args);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(g_str_has_prefix(r.out, "HOST"));
  g_assert_nonnull(strstr(r.out, "Antminer S19 Pro"));
  g_assert_nonnull(strstr(r.out, "BOSminer"));
  g_autofree char *hung_row = g_strdup_printf("127.60.12.12 ");
  g_assert_nonnull(strstr(r.out, hung_row));
  g_assert_nonnull(strstr(r.out, "not identified"));
  g_assert_nonnull(strstr(r.err, "14 miners identified, 2 found but not identified"));
  run_clear(&r);
  am_test_fleet_stop(fleet);
}

/* exclude= keeps addresses out; several ranges and syntaxes add up. */
static void
test_scan_ranges_and_exclude(void)
{
  static const FleetMiner fleet_def[] = {
      {"127.63.1.10", "antminer-s9", NULL, "antminer"},
      {"127.63.1.20", "braiins-s9", NULL, "braiins"},
      {"127.63.2.30", "whatsminer-m20s", NULL, "whatsminer"},
      {"127.63.3.40", "antminer-s17pro", NULL, "antminer"},
  };
  g_autofree char *text = fleet_text(fleet_def, G_N_ELEMENTS(fleet_def));
  AmTestFleet *fleet = am_test_fleet_start(text);
  g_autofree char *ini = scan_config();
  const char *args[] = {"scan",
                        "127.63.1.1-127.63.1.15",
                        "127.63.1-2.20-30",
                        "127.63.3.40",
                        "--exclude",
                        "127.63.2.0/24",
                        "--json",
                        "-c",
                        ini,
                        NULL};
  Run r = run_antmon(args);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.out, "\"127.63.1.10\""));
  g_assert_nonnull(strstr(r.out, "\"127.63.1.20\""));
  g_assert_nonnull(strstr(r.out, "\"127.63.3.40\""));
  g_assert_null(strstr(r.out, "127.63.2.30"));
  /* 15 + 11 in 127.63.1.20-30 (127.63.2.20-30 is excluded) + 1. */
  g_assert_nonnull(strstr(r.err, "27 hosts tried"));
  run_clear(&r);
  am_test_fleet_stop(fleet);
}

/* A /8 by mistake is refused with a message that says what to do. */
static void
test_scan_refuses_too_many_hosts(void)
{
  const char *args[] = {"scan", "10.0.0.0/8", NULL};
  Run r = run_antmon(args);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "'10.0.0.0/8' covers 16777214 hosts, more than max_hosts=65536"));
  g_assert_cmpstr(r.out, ==, "");
  run_clear(&r);

  const char *bad[] = {"scan", "10.0.0.300", NULL};
  r = run_antmon(bad);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "'10.0.0.300': expected a CIDR"));
  run_clear(&r);

  const char *none[] = {"scan", NULL};
  r = run_antmon(none);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "give at least one RANGE"));
  run_clear(&r);
}

/* ---- continuous mode ----------------------------------------------------- */

typedef struct {
  GPtrArray *events; /* "+host:port" found, "-host:port" gone */
} Events;

static void
on_candidate(const AmCandidate *c, gboolean gone, gpointer user_data)
{
  Events *ev = user_data;
  g_assert_cmpstr(c->source, ==, "cidr");
  g_ptr_array_add(ev->events, g_strdup_printf("%c%s:%u", gone ? '-' : '+', c->host, c->port));
}

typedef struct {
  AmPluginSet *plugins;
  AmContext *ctx;
  const AmPluginInfo *info;
  gpointer self;
} Source;

static Source
make_source(const char *name, const char *ini_text)
{
  Source src = {0};
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  src.plugins = am_plugin_set_load(dirs);
  const AmLoadedPlugin *plugin = am_plugin_set_find(src.plugins, AM_PLUGIN_KIND_DISCOVERY, name);
  g_assert_nonnull(plugin);
  src.info = plugin->info;
  src.ctx = am_context_new(".", NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, ini_text, -1, G_KEY_FILE_NONE, NULL));
  g_autofree char *group = g_strdup_printf("discovery:%s", name);
  g_autoptr(GError) error = NULL;
  src.self = src.info->create(src.ctx, kf, group, &error);
  g_assert_no_error(error);
  return src;
}

static void
source_free(Source *src)
{
  src->info->destroy(src->self);
  am_context_free(src->ctx);
  am_plugin_set_free(src->plugins);
}

static gint64
stat_int(Source *src, const char *member)
{
  g_autoptr(JsonNode) node = src->info->vtable.discovery->stats_json(src->self);
  return json_object_get_int_member(json_node_get_object(node), member);
}

typedef struct {
  Source *src;
  gint64 passes;
} PassWait;

static gboolean
passes_done(gpointer data)
{
  PassWait *w = data;
  return stat_int(w->src, "passes") >= w->passes;
}

static void
wait_passes(Source *src, gint64 passes)
{
  PassWait w = {src, passes};
  gint64 give_up = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (!passes_done(&w)) {
    if (g_get_monotonic_time() > give_up)
      g_error("pass %" G_GINT64_FORMAT " did not complete within 60 s", passes);
    g_main_context_iteration(NULL, TRUE);
  }
}

static gint
compare_strptr(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* The events so far, sorted, as one line; then forgets them. */
static char *
events_text(Events *ev)
{
  g_ptr_array_sort(ev->events, compare_strptr);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < ev->events->len; i++)
    g_string_append_printf(s, "%s%s", i > 0 ? " " : "", (char *)ev->events->pdata[i]);
  g_ptr_array_set_size(ev->events, 0);
  return g_string_free(s, FALSE);
}

/* New miners are reported once; known ones are not reported again on each
 * rescan; one that stops accepting is reported gone (cache_ttl=0) and new
 * again when it is back. */
static void
test_continuous(void)
{
  static const FleetMiner fleet_def[] = {
      {"127.64.0.10", "antminer-s9", NULL, NULL},
      {"127.64.0.99", "braiins-s9", NULL, NULL},
      {"127.64.0.200", "antminer-s9", "silent", NULL},
  };
  g_autofree char *text = fleet_text(fleet_def, G_N_ELEMENTS(fleet_def));
  AmTestFleet *fleet = am_test_fleet_start(text);
  g_autofree char *ini = g_strdup_printf("[discovery:cidr]\nranges=127.64.0.0/24\nports=%u\n"
                                         "rescan_interval=200ms\ncache_ttl=0\nhost_timeout=300ms\n"
                                         "max_rate=0\n",
                                         fleet_port);
  Source src = make_source("cidr", ini);
  Events ev = {g_ptr_array_new_with_free_func(g_free)};
  g_assert_true(src.info->vtable.discovery->start(src.self, on_candidate, &ev, NULL));

  wait_passes(&src, 1);
  g_autofree char *first = events_text(&ev);
  g_autofree char *expect_first =
      g_strdup_printf("+127.64.0.10:%u +127.64.0.99:%u", fleet_port, fleet_port);
  g_assert_cmpstr(first, ==, expect_first);
  g_assert_cmpint(stat_int(&src, "hosts_tried"), ==, 254);
  g_assert_cmpint(stat_int(&src, "miners_found"), ==, 2);
  g_assert_cmpint(stat_int(&src, "silent"), ==, 1);
  g_assert_cmpint(stat_int(&src, "known_miners"), ==, 2);

  /* Known miners are revalidated, not reported again. */
  wait_passes(&src, 2);
  g_autofree char *second = events_text(&ev);
  g_assert_cmpstr(second, ==, "");
  g_assert_cmpint(stat_int(&src, "miners_found"), ==, 2);
  g_assert_cmpint(stat_int(&src, "new"), ==, 0);

  am_test_fleet_control(fleet, "set 127.64.0.99 fault=refuse");
  gint64 passes = stat_int(&src, "passes");
  wait_passes(&src, passes + 2);
  g_autofree char *lost = events_text(&ev);
  g_autofree char *expect_lost = g_strdup_printf("-127.64.0.99:%u", fleet_port);
  g_assert_cmpstr(lost, ==, expect_lost);

  am_test_fleet_control(fleet, "set 127.64.0.99 fault=none");
  passes = stat_int(&src, "passes");
  wait_passes(&src, passes + 2);
  g_autofree char *back = events_text(&ev);
  g_autofree char *expect_back = g_strdup_printf("+127.64.0.99:%u", fleet_port);
  g_assert_cmpstr(back, ==, expect_back);

  src.info->vtable.discovery->stop(src.self);
  source_free(&src);
  g_ptr_array_unref(ev.events);
  am_test_fleet_stop(fleet);
}

/* ranges= empty: create() accepts it (the shipped antmon.ini has it) and
 * start() scans nothing; a bad range or key is a configuration error. */
static void
test_config(void)
{
  Source src = make_source("cidr", "[discovery:cidr]\nranges=\n");
  Events ev = {g_ptr_array_new_with_free_func(g_free)};
  g_assert_true(src.info->vtable.discovery->start(src.self, on_candidate, &ev, NULL));
  for (int i = 0; i < 20; i++)
    g_main_context_iteration(NULL, FALSE);
  g_assert_cmpint(stat_int(&src, "passes"), ==, 0);
  src.info->vtable.discovery->stop(src.self);
  source_free(&src);
  g_ptr_array_unref(ev.events);

  static const struct {
    const char *ini;
    const char *message;
  } bad[] = {
      {"[discovery:cidr]\nranges=10.0.0.0/8\n", "ranges=10.0.0.0/8: '10.0.0.0/8' covers"},
      {"[discovery:cidr]\nranges=10.0.0.0/16\nmax_hosts=1000\n", "more than max_hosts=1000"},
      {"[discovery:cidr]\nranges=10.0.0.0/24\nexclude=nonsense\n", "'nonsense': expected"},
      {"[discovery:cidr]\nranges=auto\nexclude=10.0.0.0/99\n", "exclude=10.0.0.0/99"},
      {"[discovery:cidr]\nports=4028;http\n", "ports=http: expected"},
      {"[discovery:cidr]\nmax_rate=fast\n", "max_rate=fast"},
      {"[discovery:cidr]\nhost_timeout=forever\n", "host_timeout=forever"},
  };
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  const AmLoadedPlugin *plugin = am_plugin_set_find(plugins, AM_PLUGIN_KIND_DISCOVERY, "cidr");
  g_autoptr(AmContext) ctx = am_context_new(".", NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_data(kf, bad[i].ini, -1, G_KEY_FILE_NONE, NULL));
    g_autoptr(GError) error = NULL;
    gpointer self = plugin->info->create(ctx, kf, "discovery:cidr", &error);
    g_assert_null(self);
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    if (strstr(error->message, bad[i].message) == NULL)
      g_error("%s: '%s' lacks '%s'", bad[i].ini, error->message, bad[i].message);
  }
}

/* ---- the daemon polls what discovery finds ------------------------------- */

typedef struct {
  AmDaemon *daemon;
  guint want;
} DaemonWait;

static gboolean
all_polled(gpointer data)
{
  DaemonWait *w = data;
  g_autoptr(GPtrArray) entries = am_scheduler_entries(am_daemon_get_scheduler(w->daemon));
  guint ok = 0;
  for (guint i = 0; i < entries->len; i++) {
    AmMinerEntry *e = entries->pdata[i];
    ok += e->latest != NULL;
  }
  return ok >= w->want;
}

static void
test_daemon_polls_discovered(void)
{
  static const FleetMiner fleet_def[] = {
      {"127.65.1.1", "antminer-s9", NULL, "antminer"},
      {"127.65.2.2", "braiins-s9", NULL, "braiins"},
      {"127.65.3.3", "whatsminer-m20s", NULL, "whatsminer"},
  };
  g_autofree char *text = fleet_text(fleet_def, G_N_ELEMENTS(fleet_def));
  AmTestFleet *fleet = am_test_fleet_start(text);
  g_autofree char *dir = g_dir_make_tmp("antmon-discovery-XXXXXX", NULL);
  /* The static miner is also inside the swept range: one entry for it. */
  g_autofree char *ini_text = g_strdup_printf(
      "[core]\nstate_dir=%s\ninterval=1s\n[miner:one]\nhost=127.65.1.1\nport=%u\n"
      "[discovery:cidr]\nranges=127.65.0.0/16\nports=%u\nmax_rate=0\nmax_inflight=512\n",
      dir, fleet_port, fleet_port);
  g_autofree char *ini = g_build_filename(dir, "antmon.ini", NULL);
  g_assert_true(g_file_set_contents(ini, ini_text, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(ini, &error);
  g_assert_no_error(error);
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  AmDaemon *daemon = am_daemon_new(config, plugins);
  g_assert_true(am_daemon_start(daemon, &error));
  g_assert_no_error(error);
  DaemonWait w = {daemon, 3};
  gint64 give_up = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (!all_polled(&w)) {
    if (g_get_monotonic_time() > give_up)
      g_error("the daemon did not poll the three discovered miners within 60 s");
    g_main_context_iteration(NULL, TRUE);
  }
  g_autoptr(GPtrArray) entries = am_scheduler_entries(am_daemon_get_scheduler(daemon));
  g_assert_cmpuint(entries->len, ==, 3);
  for (guint i = 0; i < entries->len; i++) {
    AmMinerEntry *e = entries->pdata[i];
    const char *host = am_miner_get_host(e->miner);
    g_assert_cmpstr(e->source, ==, g_str_equal(host, "127.65.1.1") ? "static" : "cidr");
    for (gsize m = 0; m < G_N_ELEMENTS(fleet_def); m++)
      if (g_str_equal(fleet_def[m].address, host))
        g_assert_cmpstr(e->driver->info->name, ==, fleet_def[m].driver);
  }
  am_daemon_free(daemon);
  am_test_fleet_stop(fleet);
}

int
main(int argc, char **argv)
{
  private_netns = am_test_enter_private_netns();
  g_test_init(&argc, &argv, NULL);
  fleet_port = am_test_fleet_port(private_netns);
  g_test_add_func("/discovery/scan-finds-exactly-the-fleet", test_scan_finds_exactly_the_fleet);
  g_test_add_func("/discovery/scan-ranges-and-exclude", test_scan_ranges_and_exclude);
  g_test_add_func("/discovery/scan-refuses-too-many-hosts", test_scan_refuses_too_many_hosts);
  g_test_add_func("/discovery/continuous", test_continuous);
  g_test_add_func("/discovery/config", test_config);
  g_test_add_func("/discovery/daemon-polls-discovered", test_daemon_polls_discovered);
  return g_test_run();
}
