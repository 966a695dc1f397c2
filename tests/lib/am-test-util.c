/* Helpers shared by the test programs. */
#include "am-test-util.h"
#include <stdlib.h>
#include <unistd.h>

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

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>

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
am_test_profile_dir(const char *name)
{
  return g_test_build_filename(G_TEST_DIST, "fakeminer", "profiles", name, NULL);
}

static void
die_with_parent(gpointer user_data)
{
  (void)user_data;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

AmTestFleet *
am_test_fleet_start(const char *fleet_text)
{
  AmTestFleet *fleet = g_new0(AmTestFleet, 1);
  g_autoptr(GError) error = NULL;
  int fd = g_file_open_tmp("antmon-fleet-XXXXXX", &fleet->fleet_path, &error);
  g_assert_no_error(error);
  close(fd);
  g_assert_true(g_file_set_contents(fleet->fleet_path, fleet_text, -1, NULL));

  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* A test that fails half-way must not leave the fleet running. */
  g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
  fleet->proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("ANTMON_FAKEMINER"),
                                            "--fleet", fleet->fleet_path, "--control",
                                            "127.0.0.1:0", NULL);
  g_assert_no_error(error);
  g_autoptr(GDataInputStream) out =
    g_data_input_stream_new(g_subprocess_get_stdout_pipe(fleet->proc));
  gboolean ready = FALSE;
  while (!ready) {
    g_autofree char *line = g_data_input_stream_read_line_utf8(out, NULL, NULL, &error);
    g_assert_no_error(error);
    if (line == NULL)
      g_error("the fake fleet exited before it was ready");
    if (g_str_has_prefix(line, "control "))
      fleet->control_port = (guint16)atoi(line + 8);
    ready = g_str_has_prefix(line, "ready ");
  }
  g_assert_cmpuint(fleet->control_port, >, 0);
  return fleet;
}

void
am_test_fleet_control(AmTestFleet *fleet, const char *command)
{
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) conn =
    g_socket_client_connect_to_host(client, "127.0.0.1", fleet->control_port, NULL, &error);
  g_assert_no_error(error);
  g_autofree char *line = g_strdup_printf("%s\n", command);
  GOutputStream *o = g_io_stream_get_output_stream(G_IO_STREAM(conn));
  g_assert_true(g_output_stream_write_all(o, line, strlen(line), NULL, NULL, &error));
  g_autoptr(GDataInputStream) in =
    g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
  g_autofree char *reply = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
  g_assert_no_error(error);
  if (g_strcmp0(reply, "ok") != 0)
    g_error("fleet control '%s' answered '%s'", command, reply);
}

void
am_test_fleet_stop(AmTestFleet *fleet)
{
  if (fleet == NULL)
    return;
  g_subprocess_send_signal(fleet->proc, SIGTERM);
  g_subprocess_wait(fleet->proc, NULL, NULL);
  g_object_unref(fleet->proc);
  g_unlink(fleet->fleet_path);
  g_free(fleet->fleet_path);
  g_free(fleet);
}
