/* The cgminer poll glue (am-driver-poll.c) through a module that uses it,
 * the generic driver, against a cgminer RPC server on 127.0.0.1 that
 * answers one command with garbage: the poll must give the sample of what
 * it read, partial, naming the command, with the garbage in the raw view.
 * And the parse on the worker pool gives the sample the parse on the loop
 * gave. */
#include "../generic/am-generic-parse.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"
#include "am-workers.h"

#include <string.h>

/* ---- a cgminer RPC server: command -> reply bytes ------------------------ */

typedef struct {
  GHashTable *replies; /* command -> GBytes; read-only while serving */
  GSocketService *service;
  guint16 port;
} FakeRpc;

static const char invalid_command[] =
    "{\"STATUS\":[{\"STATUS\":\"E\",\"When\":1560974720,\"Code\":14,"
    "\"Msg\":\"Invalid command\",\"Description\":\"cgminer 4.9.2\"}],\"id\":1}";

static gboolean
on_connection(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
              gpointer user_data)
{
  FakeRpc *fake = user_data;
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
  char request[512];
  gsize len = 0;
  while (len < sizeof request - 1) {
    gssize n = g_input_stream_read(in, request + len, sizeof request - 1 - len, NULL, NULL);
    if (n <= 0)
      break;
    len += n;
    request[len] = '\0';
    if (strchr(request, '}') != NULL)
      break;
  }
  request[len] = '\0';
  g_autoptr(JsonParser) parser = json_parser_new();
  const char *command = NULL;
  if (json_parser_load_from_data(parser, request, len, NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    command = am_json_string(json_node_get_object(json_parser_get_root(parser)), "command");
  GBytes *reply = command != NULL ? g_hash_table_lookup(fake->replies, command) : NULL;
  gsize size = sizeof invalid_command;
  const void *bytes = invalid_command;
  if (reply != NULL)
    bytes = g_bytes_get_data(reply, &size);
  g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(connection)), bytes, size,
                            NULL, NULL, NULL);
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  return TRUE;
}

static void
fake_start(FakeRpc *fake)
{
  fake->replies =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_bytes_unref);
  fake->service = g_threaded_socket_service_new(2);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(fake->service), any_port, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  fake->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(fake->service, "run", G_CALLBACK(on_connection), fake);
  g_socket_service_start(fake->service);
}

static void
fake_stop(FakeRpc *fake)
{
  g_socket_service_stop(fake->service);
  g_socket_listener_close(G_SOCKET_LISTENER(fake->service));
  g_object_unref(fake->service);
  g_hash_table_unref(fake->replies);
}

/* Serves the recorded fixture (with its NUL) for @command. */
static void
fake_serve_fixture(FakeRpc *fake, const char *command, const char *relpath)
{
  g_hash_table_replace(fake->replies, (gpointer)command, am_test_fixture_bytes(relpath));
}

static void
fake_serve_text(FakeRpc *fake, const char *command, const char *text)
{
  g_hash_table_replace(fake->replies, (gpointer)command, g_bytes_new(text, strlen(text) + 1));
}

/* ---- the generic driver's module ----------------------------------------- */

static void
on_poll_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  *(GAsyncResult **)user_data = g_object_ref(result);
}

/* One poll of @miner by driver-generic.so. */
static AmSample *
poll_once(AmMiner *miner, GError **error)
{
  g_autofree char *path =
      g_build_filename(g_getenv("ANTMON_PLUGIN_DIR"), "driver-generic.so", NULL);
  g_autoptr(GError) load_error = NULL;
  AmLoadedPlugin *plugin = am_plugin_load_file(path, &load_error);
  g_assert_no_error(load_error);
  const AmPluginInfo *info = plugin->info;
  gpointer self = info->create(NULL, NULL, "driver:generic", &load_error);
  g_assert_no_error(load_error);
  GAsyncResult *result = NULL;
  info->vtable.driver->poll_async(self, miner, NULL, on_poll_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmSample *sample = info->vtable.driver->poll_finish(self, result, error);
  g_object_unref(result);
  info->destroy(self);
  am_loaded_plugin_free(plugin);
  return sample;
}

static AmMiner *
miner_for(FakeRpc *fake)
{
  AmMiner *miner = am_miner_new("127.0.0.1", fake->port);
  am_miner_set_timeout_ms(miner, 3000);
  return miner;
}

static gboolean
has_problem(AmSample *sample, const char *text)
{
  for (guint i = 0; i < sample->problems->len; i++)
    if (strstr(sample->problems->pdata[i], text) != NULL)
      return TRUE;
  return FALSE;
}

/* The raw view's text for @command, or NULL. (transfer none, valid while
 * @raw lives) */
static const char *
raw_text(JsonNode *raw, const char *command)
{
  JsonObject *views = json_node_get_object(raw);
  if (!json_object_has_member(views, command))
    return NULL;
  return am_json_string(json_object_get_object_member(views, command), "text");
}

#define GARBAGE "{\"STATUS\":[{\"STATUS\":\"S\",\"Msg\":\"Stats\"}],\"STATS\":[{\x01\x02 <html>"

/* stats answers garbage, summary and pools read: a partial sample with the
 * summary's readings, a problem naming stats, the garbage kept raw. */
static void
test_one_garbage_reply(void)
{
  FakeRpc fake;
  fake_start(&fake);
  fake_serve_fixture(&fake, "summary", "btminer/m20s_summary.json");
  fake_serve_fixture(&fake, "pools", "btminer/m20s_pools.json");
  fake_serve_text(&fake, "stats", GARBAGE);
  g_autoptr(AmMiner) miner = miner_for(&fake);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(miner, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);

  g_assert_true(s->partial);
  g_assert_true(has_problem(s, "stats: "));
  g_assert_false(has_problem(s, "summary: "));
  /* Read by hand from btminer/m20s_summary.json: MHS 5s 65371302.78,
   * Elapsed 97139, Accepted 33825; m20s_pools.json has 2 pools. */
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 65.37130278, 1e-9);
  g_assert_cmpint(s->elapsed_s, ==, 97139);
  g_assert_cmpint(s->accepted, ==, 33825);
  g_assert_cmpuint(s->pools->len, ==, 2);

  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  g_assert_nonnull(raw_text(raw, "stats"));
  g_assert_nonnull(strstr(raw_text(raw, "stats"), "<html>"));
  fake_stop(&fake);
}

/* The one reply the sample rests on (summary) is garbage, stats reads:
 * still a sample, from stats, partial naming summary. */
static void
test_summary_garbage_stats_read(void)
{
  FakeRpc fake;
  fake_start(&fake);
  fake_serve_text(&fake, "summary", GARBAGE);
  fake_serve_fixture(&fake, "stats", "cgminer/l3plus_stats.json");
  g_autoptr(AmMiner) miner = miner_for(&fake);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(miner, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  g_assert_true(has_problem(s, "summary: "));
  g_assert_cmpint(s->elapsed_s, ==, 393983); /* l3plus_stats.json, by hand */
  fake_stop(&fake);
}

/* Every reply garbage: nothing usable, the poll fails with the parse error
 * of the first one. */
static void
test_all_garbage(void)
{
  FakeRpc fake;
  fake_start(&fake);
  const char *commands[] = {"version", "summary", "pools", "devs", "stats"};
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
    fake_serve_text(&fake, commands[i], GARBAGE);
  g_autoptr(AmMiner) miner = miner_for(&fake);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  fake_stop(&fake);
}

/* A closed port: refused at the first command, at once. */
static void
test_refused(void)
{
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", am_test_free_port());
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
}

/* Every command answered: not partial. */
static void
test_all_read(void)
{
  FakeRpc fake;
  fake_start(&fake);
  fake_serve_fixture(&fake, "summary", "btminer/m20s_summary.json");
  fake_serve_fixture(&fake, "pools", "btminer/m20s_pools.json");
  g_autoptr(AmMiner) miner = miner_for(&fake);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(miner, &error);
  g_assert_no_error(error);
  g_assert_false(s->partial);
  g_assert_cmpuint(s->problems->len, ==, 0);
  fake_stop(&fake);
}

/* ---- the parse on a worker gives what the parse on the loop gave -------- */

static const char *const full_fixtures[][2] = {
    {"version", "cgminer/d3_version.json"},
    {"summary", "btminer/m20s_summary.json"},
    {"pools", "cgminer/d3-blissz_pools.json"},
    {"stats", "bmminer/s9_stats.json"}, /* over 2 KiB: parsed on a worker */
};

/* The generic parser over the fixtures, called here on the test's thread
 * from the bytes the fake serves: what the glue gave when it parsed on the
 * main loop. */
static AmSample *
parse_on_this_thread(void)
{
  JsonNode *roots[G_N_ELEMENTS(full_fixtures)] = {NULL};
  AmGenericReplies r = {0};
  JsonObject **slots[] = {&r.version, &r.summary, &r.pools, &r.stats};
  for (guint i = 0; i < G_N_ELEMENTS(full_fixtures); i++) {
    g_autoptr(GBytes) bytes = am_test_fixture_bytes(full_fixtures[i][1]);
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    g_autoptr(GError) error = NULL;
    roots[i] = am_rpc_parse(data, len, &error);
    g_assert_no_error(error);
    *slots[i] = json_node_get_object(roots[i]);
  }
  g_autoptr(GError) error = NULL;
  AmSample *sample = am_generic_parse(&r, &error);
  g_assert_no_error(error);
  for (guint i = 0; i < G_N_ELEMENTS(full_fixtures); i++)
    json_node_unref(roots[i]);
  return sample;
}

/* The sample as the API shows it, every field, its time left out. */
static char *
sample_text(AmSample *sample)
{
  sample->when_us = 0;
  g_autoptr(JsonNode) node = am_sample_to_json(sample);
  return json_to_string(node, TRUE);
}

/* A poll through the module, whose transport parse and driver parse run on
 * the worker pool, gives the very sample of the same bytes parsed on this
 * thread; with the pool stopped (the daemon stopping) the poll runs no
 * parse and ends cancelled; started again, it reads as before. */
static void
test_worker_parse_same_sample(void)
{
  FakeRpc fake;
  fake_start(&fake);
  for (guint i = 0; i < G_N_ELEMENTS(full_fixtures); i++)
    fake_serve_fixture(&fake, full_fixtures[i][0], full_fixtures[i][1]);
  g_autoptr(AmMiner) miner = miner_for(&fake);

  am_workers_start(2);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) polled = poll_once(miner, &error);
  g_assert_no_error(error);
  g_autoptr(AmSample) here = parse_on_this_thread();
  g_autofree char *want = sample_text(here);
  g_autofree char *got = sample_text(polled);
  g_assert_cmpstr(got, ==, want);
  g_assert_false(polled->partial);
  g_assert_cmpfloat_with_epsilon(polled->hashrate_ths, 65.37130278, 1e-9); /* by hand */

  am_workers_stop();
  g_autoptr(GError) stop_error = NULL;
  g_autoptr(AmSample) stopped = poll_once(miner, &stop_error);
  g_assert_null(stopped);
  g_assert_error(stop_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  am_workers_start(0);
  g_autoptr(GError) again_error = NULL;
  g_autoptr(AmSample) again = poll_once(miner, &again_error);
  g_assert_no_error(again_error);
  g_autofree char *again_text = sample_text(again);
  g_assert_cmpstr(again_text, ==, want);
  fake_stop(&fake);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/driver-poll/one-garbage-reply", test_one_garbage_reply);
  g_test_add_func("/driver-poll/summary-garbage-stats-read", test_summary_garbage_stats_read);
  g_test_add_func("/driver-poll/all-garbage", test_all_garbage);
  g_test_add_func("/driver-poll/refused", test_refused);
  g_test_add_func("/driver-poll/all-read", test_all_read);
  g_test_add_func("/driver-poll/worker-parse-same-sample", test_worker_parse_same_sample);
  return g_test_run();
}
