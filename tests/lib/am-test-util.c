/* Helpers shared by the test programs. */
#include "am-test-util.h"
#include "am-context-private.h"
#include <string.h>

char *
am_test_path(const char *relpath)
{
  return g_test_build_filename(G_TEST_DIST, relpath, NULL);
}

GBytes *
am_test_fixture_bytes(const char *relpath)
{
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", relpath, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &data, &len, &error))
    g_error("fixture %s: %s", path, error->message);
  GByteArray *bytes = g_byte_array_sized_new(len + 1);
  g_byte_array_append(bytes, (const guint8 *)data, len);
  g_byte_array_append(bytes, (const guint8 *)"", 1); /* the socket's trailing NUL */
  return g_byte_array_free_to_bytes(bytes);
}

JsonObject *
am_test_fixture_object(const char *relpath)
{
  g_autoptr(GBytes) bytes = am_test_fixture_bytes(relpath);
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  g_autoptr(GError) error = NULL;
  JsonNode *root = am_rpc_parse(data, len, &error);
  if (root == NULL)
    g_error("fixture %s does not parse: %s", relpath, error->message);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
  JsonObject *obj = json_object_ref(json_node_get_object(root));
  json_node_unref(root);
  return obj;
}

/* ---- a fake miner fleet for integration tests ------------------------- */

guint16
am_test_free_port(void)
{
  g_autoptr(GSocket) sock =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(sock, any, FALSE, NULL));
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address(sock, NULL);
  return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

char *
am_test_fleet_text(const char *lines, guint16 port)
{
  GString *text = g_string_new(NULL);
  g_auto(GStrv) split = g_strsplit(lines, "\n", -1);
  for (guint i = 0; split[i] != NULL; i++) {
    g_auto(GStrv) words = g_strsplit(split[i], " ", 3);
    if (words[0] == NULL || words[0][0] == '\0')
      continue;
    g_autofree char *profile = am_test_profile_dir(words[1]);
    /* A line may name its port: a web driver reaches a miner on 4028 on
     * its web port, and one on any other port on that port. */
    g_autofree char *host = strchr(words[0], ':') != NULL
                                ? g_strdup(words[0])
                                : g_strdup_printf("%s:%u", words[0], port);
    g_string_append_printf(text, "%s %s %s\n", host, profile, words[2] != NULL ? words[2] : "");
  }
  return g_string_free(text, FALSE);
}

/* ---- the driver plugins, as the daemon loads them ---------------------- */

void
am_test_drivers_load(AmTestDrivers *d)
{
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  d->plugins = am_plugin_set_load(dirs);
  d->ctx = am_context_new(".", NULL);
  d->instances = am_instances_new();
  am_instances_create_kind(d->instances, d->plugins, AM_PLUGIN_KIND_DRIVER, d->ctx, NULL, "test");
  d->drivers = am_instances_of_kind(d->instances, AM_PLUGIN_KIND_DRIVER);
}

void
am_test_drivers_clear(AmTestDrivers *d)
{
  g_clear_pointer(&d->drivers, g_ptr_array_unref);
  g_clear_pointer(&d->instances, am_instances_free);
  g_clear_pointer(&d->ctx, am_context_free);
  g_clear_pointer(&d->plugins, am_plugin_set_free);
}

/* ---- in-process servers ------------------------------------------------ */

guint16
am_test_server_listen(SoupServer *server, const char *host)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(host);
  g_assert_nonnull(inet);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(inet, 0);
  g_autoptr(GError) error = NULL;
  soup_server_listen(server, address, 0, &error);
  g_assert_no_error(error);
  GSList *uris = soup_server_get_uris(server);
  guint16 port = (guint16)g_uri_get_port(uris->data);
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  return port;
}

/* ---- waiting on the main loop ------------------------------------------ */

void
am_test_wait_for(AmTestCondition cond, gpointer data, const char *what)
{
  gint64 give_up = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (!cond(data)) {
    if (g_get_monotonic_time() > give_up)
      g_error("still waiting for %s after 60 s", what);
    g_main_context_iteration(NULL, TRUE);
  }
}

/* ---- running the antmon program ---------------------------------------- */

static void
on_communicated(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  *(GAsyncResult **)user_data = g_object_ref(result);
}

AmTestRun
am_test_antmon_once(const char *command, const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("ANTMON_BIN"));
  g_ptr_array_add(argv, (gpointer)command);
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_newv((const char *const *)argv->pdata,
                        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error(error);
  GAsyncResult *result = NULL;
  g_subprocess_communicate_utf8_async(proc, NULL, NULL, on_communicated, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmTestRun r = {0};
  g_subprocess_communicate_utf8_finish(proc, result, &r.out, &r.err, &error);
  g_object_unref(result);
  g_assert_no_error(error);
  r.status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
  return r;
}

AmTestRun
am_test_antmon(const char *command, const char *const *args)
{
  AmTestRun r = am_test_antmon_once(command, args);
  if (r.err != NULL && strstr(r.err, "LeakSanitizer has encountered a fatal error") != NULL) {
    g_test_message("LeakSanitizer's tracer crashed; running antmon %s again: %s", command, r.err);
    am_test_run_clear(&r);
    r = am_test_antmon_once(command, args);
  }
  return r;
}

void
am_test_run_clear(AmTestRun *run)
{
  g_clear_pointer(&run->out, g_free);
  g_clear_pointer(&run->err, g_free);
}
