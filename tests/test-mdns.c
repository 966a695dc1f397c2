/* discovery:mdns against a real avahi-daemon, run in a network namespace
 * with a private D-Bus system bus (plugins/discovery/mdns/mdns-netns.sh);
 * services are published with avahi-publish, their address records
 * pointing at fake miners on loopback in this test's own namespace.
 *
 * The tests run in order and share one plugin instance, which is started
 * before any bus exists and must live through everything: no daemon, the
 * daemon arriving, services coming and going, the daemon restarting, the
 * bus going away. Needs root (CI runs as root). */
#include "am-context-private.h"
#include "am-discovery-test-util.h"
#include "am-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static gboolean private_netns;
static guint16 fleet_port;
static char *rundir;
static char *netns_name;
static char *script;

/* ---- log capture: warnings are expected here, and asserted on ---------- */

static GPtrArray *warnings; /* char*: every warning logged, in order */

static GLogWriterOutput
capture_log(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *message = NULL;
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal(fields[i].key, "MESSAGE"))
      message = fields[i].value;
  if (message == NULL)
    return G_LOG_WRITER_HANDLED;
  if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
    g_ptr_array_add(warnings, g_strdup(message));
  if (level &
      (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE))
    g_printerr("# log: %s\n", message);
  return G_LOG_WRITER_HANDLED;
}

/* The warnings logged since the last call, joined by newlines. */
static char *
take_warnings(void)
{
  g_ptr_array_add(warnings, NULL);
  char *all = g_strjoinv("\n", (char **)warnings->pdata);
  g_ptr_array_set_size(warnings, 0);
  return all;
}

/* ---- the mDNS world ------------------------------------------------------ */

static void
world(const char *step)
{
  const char *argv[] = {script, step, rundir, NULL};
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                             &status, &error));
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("mdns-netns.sh %s failed: %s%s", step, out, err);
}

/* avahi-publish: an address record NAME.local -> @address and a
 * _cgminer._tcp service NAME on it. Returns the two publishers. */
typedef struct {
  GSubprocess *address;
  GSubprocess *service;
} Published;

static Published
publish(const char *name, const char *address, guint16 port)
{
  g_autofree char *host = g_strdup_printf("%s.local", name);
  g_autofree char *port_text = g_strdup_printf("%u", port);
  g_autoptr(GError) error = NULL;
  Published p;
  p.address =
      g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                       &error, "avahi-publish", "-a", "-R", host, address, NULL);
  g_assert_no_error(error);
  p.service = g_subprocess_new(
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
      "avahi-publish", "-s", "-H", host, name, "_cgminer._tcp", port_text, "model=S9", NULL);
  g_assert_no_error(error);
  return p;
}

static void
unpublish(Published *p)
{
  GSubprocess *procs[] = {p->service, p->address};
  for (gsize i = 0; i < G_N_ELEMENTS(procs); i++) {
    if (procs[i] == NULL)
      continue;
    g_subprocess_send_signal(procs[i], SIGTERM);
    g_subprocess_wait(procs[i], NULL, NULL);
    g_object_unref(procs[i]);
  }
  p->address = p->service = NULL;
}

/* ---- the plugin instance every test shares ------------------------------ */

static AmPluginSet *plugins;
static AmContext *ctx;
static const AmPluginInfo *info;
static gpointer mdns;
static GHashTable *present; /* "host:port" -> service name, as reported */
static GPtrArray *events;   /* "+name host:port" / "-name host:port" */

static void
on_candidate(const AmCandidate *c, gboolean gone, gpointer user_data)
{
  g_assert_cmpstr(c->source, ==, "mdns");
  g_autofree char *address = g_strdup_printf("%s:%u", c->host, c->port);
  g_ptr_array_add(events, g_strdup_printf("%c%s %s", gone ? '-' : '+', c->name, address));
  if (gone)
    g_hash_table_remove(present, address);
  else
    g_hash_table_insert(present, g_steal_pointer(&address), g_strdup(c->name));
}

static const char *
state(void)
{
  static char text[64];
  g_autoptr(JsonNode) node = info->vtable.discovery->stats_json(mdns);
  g_strlcpy(text, json_object_get_string_member(json_node_get_object(node), "state"), sizeof text);
  return text;
}

typedef gboolean (*Condition)(gconstpointer data);

/* Liveness guard only: mDNS answers take about a second here. */
static void
wait_for(Condition cond, gconstpointer data, const char *what)
{
  gint64 give_up = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (!cond(data)) {
    if (g_get_monotonic_time() > give_up)
      g_error("still waiting for %s after 60 s", what);
    g_main_context_iteration(NULL, TRUE);
  }
}

static gboolean
is_present(gconstpointer address)
{
  return g_hash_table_contains(present, address);
}

static gboolean
is_absent(gconstpointer address)
{
  return !g_hash_table_contains(present, address);
}

static gboolean
state_is(gconstpointer wanted)
{
  return g_str_equal(state(), wanted);
}

static char *
address_of(const char *host)
{
  return g_strdup_printf("%s:%u", host, fleet_port);
}

/* ---- tests --------------------------------------------------------------- */

/* No bus, no daemon: start() succeeds, one warning, retries; once the
 * daemon is there, browsing starts by itself. */
static void
test_waits_for_daemon(void)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(
      kf, "[discovery:mdns]\nretry_interval=200ms\nbrowse_seconds=2\n", -1, G_KEY_FILE_NONE, NULL));
  g_autoptr(GError) error = NULL;
  mdns = info->create(ctx, kf, "discovery:mdns", &error);
  g_assert_no_error(error);
  g_assert_true(info->vtable.discovery->start(mdns, on_candidate, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(state(), ==, "unavailable");
  /* Several retries go by: still one warning. */
  for (gint64 until = g_get_monotonic_time() + 700000; g_get_monotonic_time() < until;) {
    g_main_context_iteration(NULL, FALSE);
    g_usleep(10000);
  }
  g_autofree char *logged = take_warnings();
  g_assert_cmpstr(logged, ==,
                  "[discovery:mdns] mDNS unavailable: Daemon not running; retrying every 0.2 s");

  world("up");
  wait_for(state_is, "running", "browsing to start once avahi-daemon is up");
}

static Published miner_a, miner_b;

/* Services are resolved to the address and port their records give, and
 * reported gone when withdrawn. */
static void
test_finds_and_loses(void)
{
  g_autofree char *a = address_of("127.70.0.1");
  g_autofree char *b = address_of("127.70.0.2");
  miner_a = publish("rig-a", "127.70.0.1", fleet_port);
  miner_b = publish("rig-b", "127.70.0.2", fleet_port);
  wait_for(is_present, a, "rig-a");
  wait_for(is_present, b, "rig-b");
  g_assert_cmpstr(g_hash_table_lookup(present, a), ==, "rig-a");
  g_assert_cmpstr(g_hash_table_lookup(present, b), ==, "rig-b");

  unpublish(&miner_b);
  wait_for(is_absent, b, "rig-b to be withdrawn");
  g_assert_true(is_present(a));
  g_autofree char *gone = g_strdup_printf("-rig-b %s", b);
  gboolean saw_gone = FALSE;
  for (guint i = 0; i < events->len; i++)
    saw_gone |= g_str_equal(events->pdata[i], gone);
  g_assert_true(saw_gone);

  g_autoptr(JsonNode) node = info->vtable.discovery->stats_json(mdns);
  JsonObject *stats = json_node_get_object(node);
  g_assert_cmpint(json_object_get_int_member(stats, "miners_found"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(stats, "lost_total"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(stats, "hosts_tried"), >=, 2);
  g_assert_nonnull(json_object_get_string_member(stats, "last_run"));
  g_autofree char *logged = take_warnings();
  g_assert_cmpstr(logged, ==, "");
}

/* avahi-daemon stops and starts again: browsing resumes by itself; a
 * service announced again is found again, and one that was not (its
 * publisher died with the daemon) is reported gone. */
static void
test_survives_daemon_restart(void)
{
  g_autofree char *a = address_of("127.70.0.1");
  g_autofree char *c = address_of("127.70.0.3");
  world("avahi-stop");
  unpublish(&miner_a); /* avahi-publish exits with its daemon anyway */
  wait_for(state_is, "waiting for avahi-daemon", "the plugin to notice the daemon left");
  g_autofree char *logged = take_warnings();
  g_assert_cmpstr(logged, ==,
                  "[discovery:mdns] lost avahi-daemon (Daemon connection failed): mDNS discovery "
                  "is paused; retrying every 0.2 s");
  /* What was known is not dropped just because the daemon went away. */
  g_assert_true(is_present(a));

  world("avahi-start");
  wait_for(state_is, "running", "browsing to resume");
  Published miner_c = publish("rig-c", "127.70.0.3", fleet_port);
  wait_for(is_present, c, "rig-c after the restart");
  wait_for(is_absent, a, "rig-a, never announced again, to be dropped");
  unpublish(&miner_c);
  wait_for(is_absent, c, "rig-c to be withdrawn");
}

/* `antmon scan --mdns` identifies what mDNS finds; a miner found by both
 * the sweep and mDNS is listed once. */
static void
test_scan_command(void)
{
  g_autofree char *profile_s9 = am_test_profile_dir("antminer-s9");
  g_autofree char *profile_bos = am_test_profile_dir("braiins-s9");
  g_autofree char *fleet_text = g_strdup_printf("127.70.0.4:%u %s\n127.70.0.5:%u %s\n", fleet_port,
                                                profile_s9, fleet_port, profile_bos);
  AmTestFleet *fleet = am_test_fleet_start(fleet_text);
  Published d = publish("rig-d", "127.70.0.4", fleet_port);
  Published e = publish("rig-e", "127.70.0.5", fleet_port);
  g_autofree char *da = address_of("127.70.0.4");
  g_autofree char *ea = address_of("127.70.0.5");
  wait_for(is_present, da, "rig-d");
  wait_for(is_present, ea, "rig-e");

  g_autofree char *port = g_strdup_printf("%u", fleet_port);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_new(
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
      g_getenv("ANTMON_BIN"), "scan", "127.70.0.5", "--port", port, "--mdns", "--json", NULL);
  g_assert_no_error(error);
  g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error(error);
  if (g_subprocess_get_exit_status(proc) != 0)
    g_error("antmon scan --mdns failed: %s", err);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, out, -1, NULL));
  JsonArray *samples = json_node_get_array(json_parser_get_root(parser));
  g_assert_cmpuint(json_array_get_length(samples), ==, 2);
  JsonObject *first = json_array_get_object_element(samples, 0);
  JsonObject *second = json_array_get_object_element(samples, 1);
  g_assert_cmpstr(json_object_get_string_member(first, "host"), ==, "127.70.0.4");
  g_assert_cmpstr(json_object_get_string_member(first, "driver"), ==, "antminer");
  g_assert_cmpstr(json_object_get_string_member(second, "host"), ==, "127.70.0.5");
  g_assert_cmpstr(json_object_get_string_member(second, "driver"), ==, "braiins");
  g_assert_nonnull(strstr(err, "2 miners identified"));

  unpublish(&d);
  unpublish(&e);
  am_test_fleet_stop(fleet);
  g_autofree char *logged = take_warnings();
  g_assert_cmpstr(logged, ==, "");
}

/* The bus itself goes: the running instance warns once and keeps trying;
 * a one-shot scan says mDNS is unavailable and exits 1. */
static void
test_bus_gone(void)
{
  world("down");
  wait_for(state_is, "unavailable", "the plugin to notice the bus left");
  g_autofree char *logged = take_warnings();
  g_assert_nonnull(strstr(logged, "[discovery:mdns] lost avahi-daemon"));

  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                       g_getenv("ANTMON_BIN"), "scan", "--mdns", NULL);
  g_assert_no_error(error);
  g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error);
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 1);
  g_assert_nonnull(strstr(err, "mDNS unavailable: avahi-daemon is not running"));

  info->vtable.discovery->stop(mdns);
  info->destroy(mdns);
  mdns = NULL;
}

int
main(int argc, char **argv)
{
  /* Before the fork: the watcher deletes the namespace however we end. */
  rundir = g_dir_make_tmp("antmon-mdns-XXXXXX", NULL);
  netns_name = g_strdup_printf("antmon-test-mdns-%d", (int)getpid());
  g_setenv("NS", netns_name, TRUE);
  script = g_build_filename(g_getenv("G_TEST_SRCDIR"), "..", "plugins", "discovery", "mdns",
                            "mdns-netns.sh", NULL);
  const char *cleanup[] = {script, "down", rundir, NULL};
  am_test_cleanup_command(cleanup);
  private_netns = am_test_enter_private_netns();

  g_test_init(&argc, &argv, NULL);
  fleet_port = am_test_fleet_port(private_netns);
  /* Our own bus, and avahi-publish and `antmon scan` inherit it. */
  g_autofree char *bus = g_strdup_printf("unix:path=%s/system_bus_socket", rundir);
  g_setenv("DBUS_SYSTEM_BUS_ADDRESS", bus, TRUE);
  warnings = g_ptr_array_new_with_free_func(g_free);
  g_log_set_always_fatal(G_LOG_FATAL_MASK);
  g_log_set_writer_func(capture_log, NULL, NULL);

  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  plugins = am_plugin_set_load(dirs);
  const AmLoadedPlugin *plugin = am_plugin_set_find(plugins, AM_PLUGIN_KIND_DISCOVERY, "mdns");
  g_assert_nonnull(plugin);
  info = plugin->info;
  ctx = am_context_new(".", NULL);
  present = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  events = g_ptr_array_new_with_free_func(g_free);

  g_test_add_func("/mdns/waits-for-daemon", test_waits_for_daemon);
  g_test_add_func("/mdns/finds-and-loses", test_finds_and_loses);
  g_test_add_func("/mdns/survives-daemon-restart", test_survives_daemon_restart);
  g_test_add_func("/mdns/scan-command", test_scan_command);
  g_test_add_func("/mdns/bus-gone", test_bus_gone);
  int status = g_test_run();

  world("down");
  g_rmdir(rundir);
  g_hash_table_unref(present);
  g_ptr_array_unref(events);
  g_ptr_array_unref(warnings);
  am_context_free(ctx);
  am_plugin_set_free(plugins);
  return status;
}
