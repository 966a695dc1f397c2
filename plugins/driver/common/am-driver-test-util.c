/* Test helpers for the driver parsers; see am-driver-test-util.h. */
#include "am-driver-test-util.h"

#include "am-cgminer-common.h"
#include "am-test-util.h"

#include <string.h>

void
am_test_fingerprint_init(AmFingerprint *fp, JsonObject *reply)
{
  *fp = (AmFingerprint){.struct_size = sizeof(AmFingerprint)};
  fp->host = "127.0.0.1";
  fp->port = AM_RPC_DEFAULT_PORT;
  fp->rpc_open = TRUE;
  fp->version_reply = reply;
  fp->version = am_cgminer_section(reply, "VERSION");
  fp->description = am_json_string(am_cgminer_section(reply, "STATUS"), "Description");
}

static gint
str_cmp(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
am_test_version_fixtures(void)
{
  g_autofree char *root = am_test_path("fixtures");
  g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
  g_assert_nonnull(dir);
  GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
  const char *firmware;
  while ((firmware = g_dir_read_name(dir)) != NULL) {
    g_autofree char *sub = g_build_filename(root, firmware, NULL);
    g_autoptr(GDir) files = g_dir_open(sub, 0, NULL);
    const char *name;
    while (files != NULL && (name = g_dir_read_name(files)) != NULL)
      if (strstr(name, "_version") != NULL && g_str_has_suffix(name, ".json"))
        g_ptr_array_add(found, g_build_filename(firmware, name, NULL));
  }
  g_ptr_array_sort(found, str_cmp);
  return found;
}

JsonObject *
am_test_object_from_string(const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_data(parser, json, -1, &error))
    g_error("hand-made reply does not parse: %s", error->message);
  JsonNode *root = json_parser_get_root(parser);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
  return json_object_ref(json_node_get_object(root));
}

void
am_test_assert_doubles(GArray *values, const double *expected, guint n_expected)
{
  g_assert_cmpuint(values->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpfloat_with_epsilon(g_array_index(values, double, i), expected[i], 1e-9);
}

void
am_test_assert_pool(const AmPool *pool, const char *url, const char *user, const char *status,
                    gint priority, gint64 accepted, gint64 rejected, gint64 stale, gboolean active)
{
  g_assert_nonnull(pool);
  g_assert_cmpstr(pool->url, ==, url);
  g_assert_cmpstr(pool->user, ==, user);
  g_assert_cmpstr(pool->status, ==, status);
  g_assert_cmpint(pool->priority, ==, priority);
  g_assert_cmpint(pool->accepted, ==, accepted);
  g_assert_cmpint(pool->rejected, ==, rejected);
  g_assert_cmpint(pool->stale, ==, stale);
  g_assert_cmpint(pool->active, ==, active);
}

JsonNode *
am_test_extra(AmSample *sample, const char *name)
{
  JsonNode *node = json_object_get_member(sample->extras, name);
  if (node == NULL)
    g_error("extra %s is missing", name);
  return node;
}

guint16
am_test_soup_listen_loopback(SoupServer *server)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GError) error = NULL;
  soup_server_listen(server, address, 0, &error);
  g_assert_no_error(error);
  GSList *uris = soup_server_get_uris(server);
  g_assert_nonnull(uris);
  guint16 port = (guint16)g_uri_get_port(uris->data);
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  return port;
}

void
am_test_soup_stop(SoupServer *server, GPtrArray *paused)
{
  for (guint i = 0; i < paused->len; i++) {
    soup_server_message_set_status(paused->pdata[i], SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
    soup_server_message_unpause(paused->pdata[i]);
  }
  soup_server_disconnect(server);
  g_object_unref(server);
  g_ptr_array_unref(paused);
}

void
am_test_assert_error(const GError *error, gint code, const char *part, const char *secret)
{
  g_assert_error(error, AM_ERROR, code);
  if (part != NULL && strstr(error->message, part) == NULL)
    g_error("error message \"%s\" does not mention \"%s\"", error->message, part);
  if (secret != NULL && strstr(error->message, secret) != NULL)
    g_error("error message \"%s\" shows the secret \"%s\"", error->message, secret);
}

/* ---- the built module --------------------------------------------------- */

void
am_test_driver_open(AmTestDriver *d, const char *name, GKeyFile *config)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *file = g_strdup_printf("driver-%s.so", name);
  g_autofree char *path = g_build_filename(dir, file, NULL);
  g_autoptr(GError) error = NULL;
  d->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  d->vt = d->plugin->info->vtable.driver;
  g_autofree char *group = g_strdup_printf("driver:%s", name);
  d->self = d->plugin->info->create(NULL, config, group, &error);
  g_assert_no_error(error);
}

void
am_test_driver_close(AmTestDriver *d)
{
  d->plugin->info->destroy(d->self);
  am_loaded_plugin_free(d->plugin);
}

static void
on_act_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref(result);
}

gboolean
am_test_driver_act(AmTestDriver *d, AmMiner *miner, const AmActionRequest *request, GError **error)
{
  GAsyncResult *result = NULL;
  d->vt->act_async(d->self, miner, request, NULL, on_act_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  gboolean ok = d->vt->act_finish(d->self, result, error);
  g_object_unref(result);
  return ok;
}

GKeyFile *
am_test_key_file(const char *text)
{
  GKeyFile *kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  return kf;
}

AmMiner *
am_test_local_miner(guint16 port)
{
  AmMiner *miner = am_miner_new("127.0.0.1", port);
  am_miner_set_timeout_ms(miner, 5000);
  return miner;
}

/* ---- a cgminer API server on 127.0.0.1 ---------------------------------- */

/* Reads until the text is one JSON value, the peer stops, or 64 KiB. */
static char *
rpc_read_request(GInputStream *in, JsonNode **root)
{
  GString *text = g_string_new(NULL);
  char buf[1024];
  gssize n;
  *root = NULL;
  while (*root == NULL && text->len < 65536 &&
         (n = g_input_stream_read(in, buf, sizeof buf, NULL, NULL)) > 0) {
    g_string_append_len(text, buf, n);
    *root = json_from_string(text->str, NULL);
  }
  return g_string_free(text, FALSE);
}

static gboolean
on_rpc_connection(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
                  gpointer user_data)
{
  AmTestRpc *rpc = user_data;
  g_autoptr(JsonNode) root = NULL;
  char *text = rpc_read_request(g_io_stream_get_input_stream(G_IO_STREAM(connection)), &root);
  JsonObject *request =
      root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  g_mutex_lock(&rpc->lock);
  g_ptr_array_add(rpc->requests, text);
  g_autoptr(GBytes) reply = rpc->answer(rpc->user_data, request);
  g_mutex_unlock(&rpc->lock);
  if (reply != NULL) {
    gsize size = 0;
    const void *data = g_bytes_get_data(reply, &size);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
    g_output_stream_write_all(out, data, size, NULL, NULL, NULL);
  }
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  return TRUE;
}

void
am_test_rpc_start(AmTestRpc *rpc, AmTestRpcAnswer answer, gpointer user_data)
{
  *rpc = (AmTestRpc){
      .requests = g_ptr_array_new_with_free_func(g_free), .answer = answer, .user_data = user_data};
  g_mutex_init(&rpc->lock);
  rpc->service = g_threaded_socket_service_new(4);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(rpc->service), any_port, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  rpc->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(rpc->service, "run", G_CALLBACK(on_rpc_connection), rpc);
  g_socket_service_start(rpc->service);
}

void
am_test_rpc_stop(AmTestRpc *rpc)
{
  g_socket_service_stop(rpc->service);
  g_socket_listener_close(G_SOCKET_LISTENER(rpc->service));
  g_object_unref(rpc->service);
  g_ptr_array_unref(rpc->requests);
  g_mutex_clear(&rpc->lock);
}

char *
am_test_rpc_received(AmTestRpc *rpc)
{
  GString *out = g_string_new(NULL);
  g_mutex_lock(&rpc->lock);
  for (guint i = 0; i < rpc->requests->len; i++) {
    g_autoptr(JsonNode) root = json_from_string(rpc->requests->pdata[i], NULL);
    JsonObject *o =
        root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    const char *command = o != NULL ? am_json_string(o, "command") : NULL;
    const char *parameter = o != NULL ? am_json_string(o, "parameter") : NULL;
    g_string_append_printf(out, "%s%s|%s", i > 0 ? ";" : "", command != NULL ? command : "",
                           parameter != NULL ? parameter : "");
  }
  g_mutex_unlock(&rpc->lock);
  return g_string_free(out, FALSE);
}

GBytes *
am_test_rpc_text(const char *text, gboolean with_nul)
{
  return g_bytes_new(text, strlen(text) + (with_nul ? 1 : 0));
}
