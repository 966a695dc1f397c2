/* discovery:ipreport end to end: the built plugin bound to 127.0.0.1 on
 * ports the system picks, fed datagrams over loopback (every format, a
 * malformed one, an oversize one, floods); its configuration; and the
 * daemon polling the miners it hears about. Runs in a network namespace
 * of its own when it can. Nothing is ever sent beyond 127.0.0.0/8, and
 * nothing is broadcast. */
#include "am-context-private.h"
#include "am-daemon.h"
#include "am-discovery-test-util.h"
#include "am-test-util.h"

#include <string.h>

static gboolean private_netns;
static GPtrArray *warnings; /* char*: warnings logged and not yet checked */

/* Warnings are collected, not fatal: a test expects the ones it causes
 * (take_warning) and no others (source_free). */
static GLogWriterOutput
capture_log(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL))
    for (gsize i = 0; i < n_fields; i++)
      if (g_str_equal(fields[i].key, "MESSAGE"))
        g_ptr_array_add(warnings, g_strdup(fields[i].value));
  return g_log_writer_default(level, fields, n_fields, user_data);
}

/* Removes the one warning matching @pattern (a glob). */
static void
take_warning(const char *pattern)
{
  for (guint i = 0; i < warnings->len; i++)
    if (g_pattern_match_simple(pattern, warnings->pdata[i])) {
      g_ptr_array_remove_index(warnings, i);
      return;
    }
  g_error("no warning matches '%s' (%u logged)", pattern, warnings->len);
}

static void
assert_no_warnings(void)
{
  for (guint i = 0; i < warnings->len; i++)
    g_test_message("unexpected warning: %s", (char *)warnings->pdata[i]);
  g_assert_cmpuint(warnings->len, ==, 0);
}

/* ---- a plugin instance ---------------------------------------------------- */

typedef struct {
  AmPluginSet *plugins;
  AmContext *ctx;
  const AmPluginInfo *info;
  gpointer self;
  GPtrArray *events; /* "+host:port mac name" */
} Source;

static void
on_candidate(const AmCandidate *c, gboolean gone, gpointer user_data)
{
  Source *src = user_data;
  g_assert_false(gone); /* a report says where a miner is, never that it left */
  g_assert_cmpstr(c->source, ==, "ipreport");
  g_ptr_array_add(src->events,
                  g_strdup_printf("+%s:%u %s %s", c->host, c->port, c->mac != NULL ? c->mac : "-",
                                  c->name != NULL ? c->name : "-"));
}

static const AmLoadedPlugin *
find_plugin(AmPluginSet *plugins)
{
  const AmLoadedPlugin *plugin = am_plugin_set_find(plugins, AM_PLUGIN_KIND_DISCOVERY, "ipreport");
  if (plugin == NULL)
    g_error("discovery-ipreport.so is not in $ANTMON_PLUGIN_DIR: build it first");
  return plugin;
}

static Source *
source_new(const char *ini_text)
{
  Source *src = g_new0(Source, 1);
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  src->plugins = am_plugin_set_load(dirs);
  src->info = find_plugin(src->plugins)->info;
  src->ctx = am_context_new(".", NULL);
  src->events = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, ini_text, -1, G_KEY_FILE_NONE, NULL));
  g_autoptr(GError) error = NULL;
  src->self = src->info->create(src->ctx, kf, "discovery:ipreport", &error);
  g_assert_no_error(error);
  g_assert_true(src->info->vtable.discovery->start(src->self, on_candidate, src, &error));
  g_assert_no_error(error);
  return src;
}

static void
source_free(Source *src)
{
  src->info->vtable.discovery->stop(src->self);
  src->info->destroy(src->self);
  am_context_free(src->ctx);
  am_plugin_set_free(src->plugins);
  g_ptr_array_unref(src->events);
  g_free(src);
  assert_no_warnings();
}

static JsonObject *
stats(Source *src)
{
  JsonNode *node = src->info->vtable.discovery->stats_json(src->self);
  JsonObject *obj = json_object_ref(json_node_get_object(node));
  json_node_unref(node);
  return obj;
}

static gint64
stat_int(Source *src, const char *member)
{
  g_autoptr(JsonObject) obj = stats(src);
  return json_object_get_int_member(obj, member);
}

/* The UDP port the instance bound for its @index-th ports= entry. */
static guint16
bound_port(Source *src, guint index)
{
  g_autoptr(JsonObject) obj = stats(src);
  JsonArray *ports = json_object_get_array_member(obj, "ports");
  g_assert_cmpuint(json_array_get_length(ports), >, index);
  return (guint16)json_array_get_int_element(ports, index);
}

/* Iterates until the instance has counted @n datagrams in all. */
static void
wait_datagrams(Source *src, gint64 n)
{
  gint64 give_up = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (stat_int(src, "datagrams") < n) {
    if (g_get_monotonic_time() > give_up)
      g_error("only %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " datagrams arrived",
              stat_int(src, "datagrams"), n);
    g_main_context_iteration(NULL, FALSE);
    g_usleep(1000);
  }
}

/* Iterates until no datagram has arrived for 300 ms (after a flood the
 * kernel may have dropped some: how many arrive is not known). */
static void
wait_quiet(Source *src)
{
  gint64 last = -1, quiet_since = g_get_monotonic_time();
  while (g_get_monotonic_time() - quiet_since < 300000) {
    while (g_main_context_iteration(NULL, FALSE))
      ;
    gint64 now = stat_int(src, "datagrams");
    if (now != last)
      quiet_since = g_get_monotonic_time();
    last = now;
    g_usleep(5000);
  }
}

static gint
compare_strptr(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* The candidates so far, sorted (two sockets are read in no set order),
 * one a line; then forgets them. */
static char *
events_text(Source *src)
{
  g_ptr_array_sort(src->events, compare_strptr);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < src->events->len; i++)
    g_string_append_printf(s, "%s%s", i > 0 ? "\n" : "", (char *)src->events->pdata[i]);
  g_ptr_array_set_size(src->events, 0);
  return g_string_free(s, FALSE);
}

/* ---- sending ---------------------------------------------------------------- */

/* A UDP socket on @from (a loopback address), port chosen by the system. */
static GSocket *
sender_new(const char *from)
{
  g_autoptr(GError) error = NULL;
  GSocket *socket =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error(error);
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string(from);
  g_assert_true(g_inet_address_get_is_loopback(address));
  g_autoptr(GSocketAddress) where = g_inet_socket_address_new(address, 0);
  g_assert_true(g_socket_bind(socket, where, FALSE, &error));
  g_assert_no_error(error);
  return socket;
}

/* Sends @len bytes (-1: a string) to 127.0.0.1:@port. */
static void
send_to(GSocket *socket, guint16 port, const char *data, gssize len)
{
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new(lo, port);
  gsize n = len >= 0 ? (gsize)len : strlen(data);
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(g_socket_send_to(socket, to, data, n, NULL, &error), ==, (gssize)n);
  g_assert_no_error(error);
}

/* A UDP port on 127.0.0.1 that was free a moment ago. */
static guint16
free_udp_port(void)
{
  g_autoptr(GSocket) socket = sender_new("127.0.0.1");
  g_autoptr(GSocketAddress) local = g_socket_get_local_address(socket, NULL);
  return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
}

/* ---- the plugin on its own -------------------------------------------------- */

#define LISTEN_INI "[discovery:ipreport]\nenabled=true\nbind=127.0.0.1\nports=0;0\nmax_rate=0\n"

/* Every format, on either port, from a sender that is not the miner: the
 * address inside the report wins (address=datagram), Elphapex's has none
 * so its sender is used; junk and oversize datagrams are counted, not
 * reported. */
static void
test_formats(void)
{
  g_autoptr(GSocket) tx = sender_new("127.70.0.200");
  Source *src = source_new(LISTEN_INI "max_datagram_size=512\n");
  guint16 p1 = bound_port(src, 0), p2 = bound_port(src, 1);
  g_assert_cmpuint(p1, !=, p2);

  send_to(tx, p1, "127.70.0.1,02:1A:2B:3C:4D:01", -1);
  send_to(tx, p2, "IP:127.70.0.2MAC:c4:11:04:00:00:02\n", -1);
  send_to(tx, p1, "addr:127.70.0.3", -1);
  send_to(tx, p2,
          "{\"version\":\"2.2.3\",\"ip\":\"127.70.0.4\",\"model\":\"Goldshell-KDBOX\","
          "\"ctrlsn\":\"\",\"mac\":\"02:47:53:00:00:04\",\"boxsn\":\"GS4\"}",
          -1);
  send_to(tx, p1,
          "{\"command\":\"ipreport\",\"SerialNo\":\"AU5\",\"ip\":\"127.70.0.5\","
          "\"mac\":\"1c:00:00:00:00:05\",\"hostname\":\"rack5\"}",
          -1);
  send_to(tx, p2, "IP Addr:[127.70.0.6] MAC Addr:[AA:BB:CC:00:00:06] Time:[x]", -1);
  send_to(tx, p1, "DG_IPREPORT_ONLY", -1);
  send_to(tx, p2, "OK\0\0\0\0\0\0\0\0", 10);
  send_to(tx, p1, "not a report at all", -1);
  g_autofree char *big = g_strnfill(600, 'x');
  send_to(tx, p2, big, -1);
  wait_datagrams(src, 10);

  g_autofree char *got = events_text(src);
  g_assert_cmpstr(got, ==,
                  "+127.70.0.1:4028 02:1a:2b:3c:4d:01 -\n"
                  "+127.70.0.200:4028 - -\n"
                  "+127.70.0.2:4028 c4:11:04:00:00:02 -\n"
                  "+127.70.0.3:4028 - -\n"
                  "+127.70.0.4:4028 02:47:53:00:00:04 -\n"
                  "+127.70.0.5:4028 1c:00:00:00:00:05 rack5\n"
                  "+127.70.0.6:4028 aa:bb:cc:00:00:06 -");
  g_autoptr(JsonObject) st = stats(src);
  g_assert_cmpstr(json_object_get_string_member(st, "state"), ==, "listening");
  g_assert_cmpint(json_object_get_int_member(st, "reports"), ==, 7);
  g_assert_cmpint(json_object_get_int_member(st, "miners_found"), ==, 7);
  g_assert_cmpint(json_object_get_int_member(st, "ignored"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(st, "invalid"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(st, "oversize"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(st, "address_mismatch"), ==, 6);
  g_assert_cmpstr(json_object_get_string_member(st, "last_error"), ==,
                  "127.70.0.200: 'not a report at all' is not an IP report");
  JsonObject *by = json_object_get_object_member(st, "by_family");
  g_assert_cmpint(json_object_get_int_member(by, "antminer"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(by, "elphapex"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(by, "goldshell"), ==, 1);
  g_assert_false(json_object_get_null_member(st, "last_report"));
  source_free(src);
}

/* address=sender: where the datagram came from, whatever it says. */
static void
test_address_sender(void)
{
  g_autoptr(GSocket) tx = sender_new("127.70.1.9");
  Source *src = source_new(LISTEN_INI "address=sender\nminer_port=4029\n");
  send_to(tx, bound_port(src, 0), "127.70.1.1,02:00:00:00:01:01", -1);
  wait_datagrams(src, 1);
  g_autofree char *got = events_text(src);
  g_assert_cmpstr(got, ==, "+127.70.1.9:4029 02:00:00:00:01:01 -");
  source_free(src);
}

/* One miner's report repeated 3000 times costs one candidate; over
 * max_rate the rest are dropped before they are parsed. */
static void
test_flood_one_miner(void)
{
  g_autoptr(GSocket) tx = sender_new("127.70.2.1");
  Source *src = source_new("[discovery:ipreport]\nenabled=true\nbind=127.0.0.1\nports=0\n"
                           "max_rate=100\n");
  guint16 port = bound_port(src, 0);
  for (int i = 0; i < 3000; i++) {
    send_to(tx, port, "127.70.2.1,02:00:00:00:02:01", -1);
    if (i % 200 == 0) /* keep the socket from overflowing too much */
      while (g_main_context_iteration(NULL, FALSE))
        ;
  }
  wait_quiet(src);
  g_autofree char *got = events_text(src);
  g_assert_cmpstr(got, ==, "+127.70.2.1:4028 02:00:00:00:02:01 -");
  g_autoptr(JsonObject) st = stats(src);
  gint64 datagrams = json_object_get_int_member(st, "datagrams");
  gint64 limited = json_object_get_int_member(st, "rate_limited");
  gint64 duplicates = json_object_get_int_member(st, "duplicates");
  g_test_message("%" G_GINT64_FORMAT " datagrams arrived: %" G_GINT64_FORMAT
                 " rate-limited, %" G_GINT64_FORMAT " duplicates",
                 datagrams, limited, duplicates);
  g_assert_cmpint(datagrams, >, 200);
  g_assert_cmpint(json_object_get_int_member(st, "reports"), ==, 1);
  g_assert_cmpint(1 + duplicates + limited, ==, datagrams);
  g_assert_cmpint(limited, >, 0);
  /* The bucket holds max_rate tokens, refilled at max_rate per second. */
  g_assert_cmpint(duplicates, >=, 99);
  source_free(src);
}

/* Many miners at once: at most max_miners are remembered and reported. */
static void
test_flood_many_miners(void)
{
  g_autoptr(GSocket) tx = sender_new("127.0.0.1");
  Source *src = source_new(LISTEN_INI "max_miners=5\n");
  guint16 port = bound_port(src, 0);
  for (int i = 1; i <= 12; i++) {
    g_autofree char *dgram = g_strdup_printf("127.70.3.%d,02:00:00:00:03:%02d", i, i);
    send_to(tx, port, dgram, -1);
  }
  wait_datagrams(src, 12);
  g_assert_cmpuint(src->events->len, ==, 5);
  g_assert_cmpstr(src->events->pdata[4], ==, "+127.70.3.5:4028 02:00:00:00:03:05 -");
  g_assert_cmpint(stat_int(src, "over_capacity"), ==, 7);
  take_warning("[discovery:ipreport] 5 miners reported within dedupe_window: 127.70.3.6 and later "
               "ones are dropped (raise max_miners)");
  g_assert_cmpint(stat_int(src, "miners_found"), ==, 5);
  source_free(src);
}

/* dedupe_window=0: every report is passed on. */
static void
test_no_dedupe(void)
{
  g_autoptr(GSocket) tx = sender_new("127.0.0.1");
  Source *src = source_new(LISTEN_INI "dedupe_window=0\n");
  guint16 port = bound_port(src, 0);
  for (int i = 0; i < 3; i++)
    send_to(tx, port, "IP:127.70.4.1MAC:c4:11:04:00:04:01", -1);
  wait_datagrams(src, 3);
  g_assert_cmpuint(src->events->len, ==, 3);
  g_assert_cmpint(stat_int(src, "duplicates"), ==, 0);
  source_free(src);
}

/* ---- configuration ------------------------------------------------------------ */

/* Without enabled=true (the sample's default) nothing is opened. */
static void
test_disabled_by_default(void)
{
  Source *src = source_new("[discovery:ipreport]\nbind=127.0.0.1\nports=0\n");
  g_autoptr(JsonObject) st = stats(src);
  g_assert_cmpstr(json_object_get_string_member(st, "state"), ==, "disabled");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(st, "ports")), ==, 0);
  g_assert_nonnull(strstr(src->info->sample_config, "\nenabled=false\n"));
  g_assert_nonnull(strstr(src->info->sample_config, "\nports=14235;8888\n"));
  g_assert_nonnull(strstr(src->info->sample_config, "\nbind=0.0.0.0\n"));
  source_free(src);
}

static void
test_config_errors(void)
{
  static const struct {
    const char *ini;
    const char *message;
  } bad[] = {
      {"ports=14235;udp\n", "ports=udp: expected up to 16 UDP ports"},
      {"ports=70000\n", "ports=70000"},
      {"ports=\n", "ports= is empty"},
      {"bind=everywhere\n", "bind=everywhere: expected an IP address"},
      {"address=inside\n", "address=inside: expected datagram or sender"},
      {"max_datagram_size=10\n", "max_datagram_size=10"},
      {"dedupe_window=soon\n", "dedupe_window=soon"},
      {"max_rate=-1\n", "max_rate=-1"},
      {"miner_port=0\n", "miner_port=0"},
      {"enabled=maybe\n", "enabled=maybe"},
  };
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  const AmLoadedPlugin *plugin = find_plugin(plugins);
  g_autoptr(AmContext) ctx = am_context_new(".", NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *ini = g_strconcat("[discovery:ipreport]\n", bad[i].ini, NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
    g_autoptr(GError) error = NULL;
    gpointer self = plugin->info->create(ctx, kf, "discovery:ipreport", &error);
    g_assert_null(self);
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    if (strstr(error->message, bad[i].message) == NULL)
      g_error("%s: '%s' lacks '%s'", bad[i].ini, error->message, bad[i].message);
  }
}

/* A port already taken without reuse: start() fails with a clear error. */
static void
test_port_taken(void)
{
  g_autoptr(GSocket) holder = sender_new("127.0.0.1");
  g_autoptr(GSocketAddress) local = g_socket_get_local_address(holder, NULL);
  guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
  g_autofree char *ini = g_strdup_printf("[discovery:ipreport]\nenabled=true\nbind=127.0.0.1\n"
                                         "ports=%u\n",
                                         port);
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  const AmPluginInfo *info = find_plugin(plugins)->info;
  g_autoptr(AmContext) ctx = am_context_new(".", NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  gpointer self = info->create(ctx, kf, "discovery:ipreport", NULL);
  g_assert_nonnull(self);
  g_autoptr(GError) error = NULL;
  g_assert_false(info->vtable.discovery->start(self, on_candidate, NULL, &error));
  take_warning("[discovery:ipreport] cannot listen on UDP 127.0.0.1:*");
  assert_no_warnings();
  g_assert_nonnull(error);
  g_autofree char *expect = g_strdup_printf("cannot listen on UDP 127.0.0.1:%u", port);
  g_assert_nonnull(strstr(error->message, expect));
  JsonNode *node = info->vtable.discovery->stats_json(self);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(node), "state"), ==, "failed");
  json_node_unref(node);
  info->destroy(self);
}

/* ---- a one-shot scan ------------------------------------------------------------- */

static void
scan_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;
  *done = TRUE;
}

/* scan_async listens for scan_duration, reports what it heard, completes. */
static void
test_scan(void)
{
  guint16 port = free_udp_port();
  g_autofree char *ini = g_strdup_printf("[discovery:ipreport]\nenabled=true\nbind=127.0.0.1\n"
                                         "ports=%u\nscan_duration=500ms\n",
                                         port);
  Source *src = g_new0(Source, 1);
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  src->plugins = am_plugin_set_load(dirs);
  src->info = find_plugin(src->plugins)->info;
  src->ctx = am_context_new(".", NULL);
  src->events = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  src->self = src->info->create(src->ctx, kf, "discovery:ipreport", NULL);
  gboolean done = FALSE;
  gint64 start = g_get_monotonic_time();
  src->info->vtable.discovery->scan_async(src->self, on_candidate, src, NULL, scan_done, &done);
  g_autoptr(GSocket) tx = sender_new("127.0.0.1");
  send_to(tx, port, "127.70.5.1,02:00:00:00:05:01", -1);
  send_to(tx, port, "127.70.5.1,02:00:00:00:05:01", -1);
  while (!done)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpint(g_get_monotonic_time() - start, >=, 450000);
  g_autofree char *got = events_text(src);
  g_assert_cmpstr(got, ==, "+127.70.5.1:4028 02:00:00:00:05:01 -");
  source_free(src);
}

/* ---- the daemon polls what it hears ---------------------------------------------- */

typedef struct {
  AmDaemon *daemon;
  guint want;
} DaemonWait;

static guint
polled(AmDaemon *daemon)
{
  g_autoptr(GPtrArray) entries = am_scheduler_entries(am_daemon_get_scheduler(daemon));
  guint ok = 0;
  for (guint i = 0; i < entries->len; i++)
    ok += ((AmMinerEntry *)entries->pdata[i])->latest != NULL;
  return ok;
}

static void
test_daemon_polls_reported(void)
{
  guint16 fleet_port = am_test_fleet_port(private_netns);
  g_autofree char *s9 = am_test_profile_dir("antminer-s9");
  g_autofree char *m20 = am_test_profile_dir("whatsminer-m20s");
  g_autofree char *fleet_text =
      g_strdup_printf("127.71.0.1:%u %s\n127.71.0.2:%u %s\n", fleet_port, s9, fleet_port, m20);
  AmTestFleet *fleet = am_test_fleet_start(fleet_text);
  guint16 am_port = free_udp_port(), wm_port = free_udp_port();
  while (wm_port == am_port)
    wm_port = free_udp_port();
  g_autofree char *dir = g_dir_make_tmp("antmon-ipreport-XXXXXX", NULL);
  g_autofree char *ini_text = g_strdup_printf(
      "[core]\nstate_dir=%s\ninterval=1s\n"
      "[discovery:ipreport]\nenabled=true\nbind=127.0.0.1\nports=%u;%u\nminer_port=%u\n",
      dir, am_port, wm_port, fleet_port);
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

  g_autoptr(GSocket) tx = sender_new("127.0.0.1");
  send_to(tx, am_port, "127.71.0.1,02:00:00:71:00:01", -1);
  send_to(tx, wm_port, "IP:127.71.0.2MAC:c4:11:04:71:00:02", -1);
  send_to(tx, am_port, "garbage", -1);
  send_to(tx, wm_port, "IP:300.71.0.3MAC:c4:11:04:71:00:03", -1);
  gint64 give_up = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (polled(daemon) < 2) {
    if (g_get_monotonic_time() > give_up)
      g_error("the daemon did not poll the two reported miners within 60 s");
    g_main_context_iteration(NULL, TRUE);
  }
  g_autoptr(GPtrArray) entries = am_scheduler_entries(am_daemon_get_scheduler(daemon));
  g_assert_cmpuint(entries->len, ==, 2);
  for (guint i = 0; i < entries->len; i++) {
    AmMinerEntry *e = entries->pdata[i];
    const char *host = am_miner_get_host(e->miner);
    g_assert_cmpstr(e->source, ==, "ipreport");
    g_assert_cmpuint(am_miner_get_port(e->miner), ==, fleet_port);
    g_assert_cmpstr(e->driver->info->name, ==,
                    g_str_equal(host, "127.71.0.1") ? "antminer" : "whatsminer");
  }
  am_daemon_free(daemon);
  am_test_fleet_stop(fleet);
}

int
main(int argc, char **argv)
{
  private_netns = am_test_enter_private_netns();
  g_test_init(&argc, &argv, NULL);
  warnings = g_ptr_array_new_with_free_func(g_free);
  g_log_set_always_fatal(G_LOG_FATAL_MASK);
  g_log_set_writer_func(capture_log, NULL, NULL);
  g_test_add_func("/ipreport/formats", test_formats);
  g_test_add_func("/ipreport/address-sender", test_address_sender);
  g_test_add_func("/ipreport/flood-one-miner", test_flood_one_miner);
  g_test_add_func("/ipreport/flood-many-miners", test_flood_many_miners);
  g_test_add_func("/ipreport/no-dedupe", test_no_dedupe);
  g_test_add_func("/ipreport/disabled-by-default", test_disabled_by_default);
  g_test_add_func("/ipreport/config-errors", test_config_errors);
  g_test_add_func("/ipreport/port-taken", test_port_taken);
  g_test_add_func("/ipreport/scan", test_scan);
  g_test_add_func("/ipreport/daemon-polls-reported", test_daemon_polls_reported);
  return g_test_run();
}
