/* Tests of the generic driver's restart: the command, the error reader,
 * actions(), and the built module against an in-process cgminer RPC server
 * on 127.0.0.1 that records the command and answers as cgminer does:
 * {"STATUS":"RESTART"}, or Code 45 "Access denied" without W: access. */
#include "../common/am-driver-test-util.h"
#include "am-generic-action.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"

#include <string.h>

static void
test_command(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_cmpstr(am_generic_action_command(AM_ACTION_RESTART, &error), ==, "restart");
  g_assert_no_error(error);
  for (gint kind = AM_ACTION_NONE; kind <= AM_ACTION_LAST; kind++) {
    if (kind == AM_ACTION_RESTART)
      continue;
    g_assert_null(am_generic_action_command((AmActionKind)kind, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
    g_clear_error(&error);
  }
  g_assert_cmphex(am_generic_actions(NULL), ==, AM_ACTION_BIT(AM_ACTION_RESTART));
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->firmware, "cgminer");
  g_assert_cmphex(am_generic_actions(s), ==, AM_ACTION_BIT(AM_ACTION_RESTART));
}

static void
test_map_error(void)
{
  g_autoptr(GBytes) bare = g_bytes_new_static("RESTART\0", 8);
  g_autoptr(GBytes) empty = g_bytes_new_static("\0", 1);
  g_autoptr(GBytes) junk = g_bytes_new_static("<html>", 6);
  g_assert_null(am_generic_action_map_error(
      "a:1", bare, g_error_new_literal(AM_ERROR, AM_ERROR_PARSE, "not JSON")));
  g_assert_null(am_generic_action_map_error(
      "a:1", empty, g_error_new_literal(AM_ERROR, AM_ERROR_PARSE, "empty reply")));
  g_assert_null(am_generic_action_map_error(
      "a:1", NULL, g_error_new_literal(AM_ERROR, AM_ERROR_RESET, "closed")));
  g_autoptr(GError) parse = am_generic_action_map_error(
      "a:1", junk, g_error_new_literal(AM_ERROR, AM_ERROR_PARSE, "not JSON"));
  g_assert_error(parse, AM_ERROR, AM_ERROR_PARSE);
  g_assert_cmpstr(parse->message, ==, "a:1: not JSON");
  g_autoptr(GError) denied = am_generic_action_map_error(
      "a:1", NULL,
      g_error_new_literal(AM_ERROR, AM_ERROR_API,
                          "restart: API error 45: Access denied to 'restart' command"));
  g_assert_error(denied, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_cmpstr(denied->message, ==,
                  "a:1: the miner's cgminer API refused 'restart': allow writes from this host "
                  "(api-allow W:<antmon's address>)");
  g_autoptr(GError) timeout = am_generic_action_map_error(
      "a:1", NULL, g_error_new_literal(AM_ERROR, AM_ERROR_TIMEOUT, "a:1: timed out"));
  g_assert_error(timeout, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_cmpstr(timeout->message, ==, "a:1: timed out");
}

/* ---- the module against a local cgminer --------------------------------- */

typedef struct {
  const char *reply; /* written back to every command */
  GMutex lock;
  GPtrArray *log; /* char*: the request as received */
} FakeCgminer;

static gboolean
on_connection(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
              gpointer user_data)
{
  FakeCgminer *fake = user_data;
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
  char request[1024];
  gsize len = 0;
  while (len < sizeof(request) - 1) {
    gssize n = g_input_stream_read(in, request + len, sizeof(request) - 1 - len, NULL, NULL);
    if (n <= 0)
      break;
    len += n;
    request[len] = '\0';
    if (strchr(request, '}') != NULL)
      break;
  }
  request[len] = '\0';
  g_mutex_lock(&fake->lock);
  g_ptr_array_add(fake->log, g_strdup(request));
  g_mutex_unlock(&fake->lock);
  g_output_stream_write_all(out, fake->reply, strlen(fake->reply) + 1, NULL, NULL, NULL);
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  return TRUE;
}

static GSocketService *
fake_start(FakeCgminer *fake, guint16 *port)
{
  fake->log = g_ptr_array_new_with_free_func(g_free);
  g_mutex_init(&fake->lock);
  GSocketService *service = g_threaded_socket_service_new(2);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(service), any_port, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  *port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(service, "run", G_CALLBACK(on_connection), fake);
  g_socket_service_start(service);
  return service;
}

static void
fake_stop(GSocketService *service, FakeCgminer *fake)
{
  g_socket_service_stop(service);
  g_socket_listener_close(G_SOCKET_LISTENER(service));
  g_object_unref(service);
  g_ptr_array_unref(fake->log);
  g_mutex_clear(&fake->lock);
}

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref(result);
}

static gboolean
act(guint16 port, AmActionKind kind, GError **error)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-generic.so", NULL);
  g_autoptr(GError) local = NULL;
  AmLoadedPlugin *plugin = am_plugin_load_file(path, &local);
  g_assert_no_error(local);
  const AmDriverVTable *vt = plugin->info->vtable.driver;
  gpointer self = plugin->info->create(NULL, NULL, "driver:generic", NULL);
  g_assert_cmphex(vt->actions(self, NULL, NULL), ==, AM_ACTION_BIT(AM_ACTION_RESTART));
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", port);
  am_miner_set_timeout_ms(miner, 5000);
  AmActionRequest request = {.struct_size = sizeof request, .kind = kind};
  GAsyncResult *result = NULL;
  vt->act_async(self, miner, &request, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  gboolean ok = vt->act_finish(self, result, error);
  g_object_unref(result);
  plugin->info->destroy(self);
  am_loaded_plugin_free(plugin);
  return ok;
}

static void
test_module(void)
{
  FakeCgminer fake = {.reply = "{\"STATUS\":\"RESTART\"}"};
  guint16 port;
  GSocketService *service = fake_start(&fake, &port);
  g_autofree char *address = g_strdup_printf("127.0.0.1:%u", port);
  g_autoptr(GError) error = NULL;

  g_assert_true(act(port, AM_ACTION_RESTART, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(fake.log->len, ==, 1);
  g_autoptr(JsonObject) sent = am_test_object_from_string(fake.log->pdata[0]);
  g_assert_cmpstr(am_json_string(sent, "command"), ==, "restart");
  g_assert_false(json_object_has_member(sent, "parameter"));

  /* Anything else: refused before sending. */
  g_assert_false(act(port, AM_ACTION_PAUSE, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_true(g_str_has_prefix(error->message, address));
  g_clear_error(&error);
  g_assert_cmpuint(fake.log->len, ==, 1);

  /* api-allow without W: */
  fake.reply = "{\"STATUS\":[{\"STATUS\":\"E\",\"When\":1,\"Code\":45,\"Msg\":\"Access denied "
               "to 'restart' command\",\"Description\":\"cgminer 4.11.1\"}],\"id\":1}";
  g_assert_false(act(port, AM_ACTION_RESTART, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_true(g_str_has_prefix(error->message, address));
  g_assert_nonnull(strstr(error->message, "api-allow W:"));
  g_clear_error(&error);

  /* Another refusal: the firmware's message. */
  fake.reply = "{\"STATUS\":[{\"STATUS\":\"E\",\"When\":1,\"Code\":14,\"Msg\":\"Invalid "
               "command\",\"Description\":\"sgminer 5.6\"}],\"id\":1}";
  g_assert_false(act(port, AM_ACTION_RESTART, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "Invalid command"));
  fake_stop(service, &fake);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/generic/action/command", test_command);
  g_test_add_func("/generic/action/map-error", test_map_error);
  g_test_add_func("/generic/action/module", test_module);
  return g_test_run();
}
