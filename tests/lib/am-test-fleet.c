/* A fake miner fleet for tests (see am-test-fleet.h). */
#include "am-test-fleet.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static void
die_with_parent(gpointer user_data)
{
  (void)user_data;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

GSubprocessLauncher *
am_test_launcher(GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new(flags);
  g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
  return launcher;
}

char *
am_test_profile_dir(const char *name)
{
  return g_test_build_filename(G_TEST_DIST, "fakeminer", "profiles", name, NULL);
}

int
am_test_fleet_wait_ready(GSubprocess *proc, guint16 *control_port)
{
  g_autoptr(GDataInputStream) out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
  /* The pipe stays open: the fake must not get EPIPE on a later write. */
  g_filter_input_stream_set_close_base_stream(G_FILTER_INPUT_STREAM(out), FALSE);
  for (;;) {
    g_autofree char *line = g_data_input_stream_read_line(out, NULL, NULL, NULL);
    if (line == NULL)
      return -1;
    guint value = 0;
    if (control_port != NULL && sscanf(line, "control %u", &value) == 1)
      *control_port = (guint16)value;
    if (sscanf(line, "ready %u listeners", &value) == 1)
      return (int)value;
  }
}

const char *
am_test_fakeminer_path(void)
{
  const char *path = g_getenv("ANTMON_FAKEMINER");
  if (path == NULL)
    g_error("ANTMON_FAKEMINER is not set (run through meson test)");
  return path;
}

static char *
write_fleet_file(const char *fleet_text)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp("antmon-fleet-XXXXXX", &path, &error);
  g_assert_no_error(error);
  close(fd);
  g_file_set_contents(path, fleet_text, -1, &error);
  g_assert_no_error(error);
  return path;
}

static GPtrArray *
fleet_argv(const char *fleet_path, guint16 port, const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  const char *fixed[] = {am_test_fakeminer_path(), "--fleet", fleet_path, "--control",
                         "127.0.0.1:0"};
  for (gsize i = 0; i < G_N_ELEMENTS(fixed); i++)
    g_ptr_array_add(argv, g_strdup(fixed[i]));
  if (port != 0) {
    g_ptr_array_add(argv, g_strdup("--port"));
    g_ptr_array_add(argv, g_strdup_printf("%u", port));
  }
  for (gsize i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add(argv, g_strdup(args[i]));
  g_ptr_array_add(argv, NULL);
  return argv;
}

AmTestFleet *
am_test_fleet_try_start(const char *fleet_text, guint16 port, const char *const *args)
{
  AmTestFleet *fleet = g_new0(AmTestFleet, 1);
  fleet->fleet_path = write_fleet_file(fleet_text);
  g_autoptr(GPtrArray) argv = fleet_argv(fleet->fleet_path, port, args);
  /* stderr is the test's own: the fake's warnings land in the test log. */
  g_autoptr(GSubprocessLauncher) launcher = am_test_launcher(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;
  fleet->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error(error);
  int listeners = am_test_fleet_wait_ready(fleet->proc, &fleet->control_port);
  if (listeners < 0) {
    am_test_fleet_stop(fleet);
    return NULL;
  }
  g_assert_cmpuint(fleet->control_port, >, 0);
  fleet->listeners = (guint)listeners;
  return fleet;
}

AmTestFleet *
am_test_fleet_start(const char *fleet_text)
{
  AmTestFleet *fleet = am_test_fleet_try_start(fleet_text, 0, NULL);
  if (fleet == NULL)
    g_error("the fake fleet exited before it was ready");
  return fleet;
}

AmTestFleet *
am_test_fleet_start_anywhere(AmTestFleetPick pick, gpointer user_data, const char *const *args)
{
  for (guint attempt = 0; attempt < 8; attempt++) {
    guint16 port = 0;
    g_autofree char *text = pick(user_data, &port);
    AmTestFleet *fleet = am_test_fleet_try_start(text, port, args);
    if (fleet != NULL)
      return fleet;
    g_test_message("the fake fleet did not start (see its stderr); trying elsewhere");
  }
  g_error("the fake fleet did not start (%s)", am_test_fakeminer_path());
}

char *
am_test_fleet_ask(AmTestFleet *fleet, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *line = g_strdup_vprintf(format, args);
  va_end(args);
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_enable_proxy(client, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) conn =
      g_socket_client_connect_to_host(client, "127.0.0.1", fleet->control_port, NULL, &error);
  g_assert_no_error(error);
  g_autofree char *sent = g_strconcat(line, "\n", NULL);
  g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), sent, strlen(sent),
                            NULL, NULL, &error);
  g_assert_no_error(error);
  g_autoptr(GDataInputStream) in =
      g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
  GString *answer = g_string_new(NULL);
  for (;;) {
    g_autofree char *got = g_data_input_stream_read_line(in, NULL, NULL, &error);
    g_assert_no_error(error);
    if (got == NULL)
      g_error("the fake's control port closed after '%s' with '%s'", line, answer->str);
    g_string_append_printf(answer, "%s\n", got);
    if (g_str_equal(got, "ok") || g_str_has_prefix(got, "error: "))
      break;
  }
  return g_string_free(answer, FALSE);
}

void
am_test_fleet_control(AmTestFleet *fleet, const char *command)
{
  g_autofree char *answer = am_test_fleet_ask(fleet, "%s", command);
  if (!g_str_equal(answer, "ok\n"))
    g_error("fleet control '%s' answered '%s'", command, answer);
}

void
am_test_fleet_set(AmTestFleet *fleet, const char *host, const char *settings)
{
  g_autofree char *command = g_strdup_printf("set %s %s", host, settings);
  am_test_fleet_control(fleet, command);
}

/* Whether the `get` line @answer holds @setting as whole words. */
static gboolean
answer_shows(const char *answer, const char *setting)
{
  g_autofree char *inside = g_strdup_printf(" %s ", setting);
  /* the last key of the line ends with a newline, not a blank */
  g_autofree char *last = g_strdup_printf(" %s\n", setting);
  return strstr(answer, inside) != NULL || strstr(answer, last) != NULL;
}

gboolean
am_test_fleet_shows(AmTestFleet *fleet, const char *host, const char *setting)
{
  g_autofree char *answer = am_test_fleet_ask(fleet, "get %s", host);
  return answer_shows(answer, setting);
}

void
am_test_fleet_assert_shows(AmTestFleet *fleet, const char *host, const char *setting)
{
  g_autofree char *answer = am_test_fleet_ask(fleet, "get %s", host);
  if (!answer_shows(answer, setting))
    g_error("the fake %s should show %s: %s", host, setting, answer);
}

guint
am_test_fleet_writes(AmTestFleet *fleet, const char *host)
{
  g_autofree char *answer = am_test_fleet_ask(fleet, "get %s", host);
  const char *writes = strstr(answer, " writes=");
  if (writes == NULL)
    g_error("no writes= in the fake's get %s: %s", host, answer);
  return (guint)g_ascii_strtoull(writes + strlen(" writes="), NULL, 10);
}

void
am_test_fleet_test_clean_exit(gconstpointer data)
{
  const AmTestFleet *fleet = data;
  g_autoptr(GError) error = NULL;
  g_subprocess_send_signal(fleet->proc, SIGTERM);
  g_subprocess_wait(fleet->proc, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_if_exited(fleet->proc));
  g_assert_cmpint(g_subprocess_get_exit_status(fleet->proc), ==, 0);
}

void
am_test_fleet_stop(AmTestFleet *fleet)
{
  if (fleet == NULL)
    return;
  /* A no-op when the test already ended it (and reaped it). */
  g_subprocess_send_signal(fleet->proc, SIGTERM);
  g_subprocess_wait(fleet->proc, NULL, NULL);
  g_object_unref(fleet->proc);
  g_unlink(fleet->fleet_path);
  g_free(fleet->fleet_path);
  g_free(fleet);
}
