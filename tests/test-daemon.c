/* The daemon end to end: real binary, real fake miners. A miner's state is
 * announced once when it changes, never again while it holds, and a miner
 * that stops answering goes offline with the reason. */
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

typedef struct {
  GSubprocess *proc;
  GDataInputStream *err;
  GString *seen;
  guint guard_id;
} Daemon;

static gboolean
guard_fired(gpointer user_data)
{
  Daemon *d = user_data;
  g_subprocess_force_exit(d->proc);
  g_error("the daemon did not log what was expected within 60 s:\n%s", d->seen->str);
  return G_SOURCE_REMOVE;
}

static void
on_line(GObject *stream, GAsyncResult *result, gpointer user_data)
{
  char **line = user_data;
  *line =
      g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(stream), result, NULL, NULL);
  if (*line == NULL)
    *line = g_strdup("<eof>");
}

/* Reads the daemon's stderr until a line contains @needle @times times
 * counting from now. Returns FALSE at end of output. */
static gboolean
wait_for(Daemon *d, const char *needle, guint times)
{
  guint found = 0;
  while (found < times) {
    char *line = NULL;
    g_data_input_stream_read_line_async(d->err, G_PRIORITY_DEFAULT, NULL, on_line, &line);
    while (line == NULL)
      g_main_context_iteration(NULL, TRUE);
    g_string_append_printf(d->seen, "%s\n", line);
    gboolean eof = g_str_equal(line, "<eof>");
    if (strstr(line, needle) != NULL)
      found++;
    g_free(line);
    if (eof)
      return FALSE;
  }
  return TRUE;
}

static guint
count(const char *haystack, const char *needle)
{
  guint n = 0;
  for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* The daemon started itself again with g_slice as malloc (core/base/am-allocator.c)
 * and is still called antmon in ps, pidof and the journal. */
static void
assert_runs_on_malloc(const char *pid)
{
  g_autofree char *comm_path = g_strdup_printf("/proc/%s/comm", pid);
  g_autofree char *comm = NULL;
  g_assert_true(g_file_get_contents(comm_path, &comm, NULL, NULL));
  g_assert_cmpstr(g_strstrip(comm), ==, "antmon");
  if (glib_check_version(2, 76, 0) == NULL)
    return; /* g_slice is malloc already: nothing to choose */
  g_autofree char *environ_path = g_strdup_printf("/proc/%s/environ", pid);
  g_autofree char *environ = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(environ_path, &environ, &len, NULL));
  gboolean found = FALSE;
  for (const char *p = environ; p < environ + len; p += strlen(p) + 1)
    found |= g_str_equal(p, "G_SLICE=always-malloc");
  g_assert_true(found);
}

static void
test_states_announced_once(void)
{
  guint16 port = am_test_free_port();
  g_autofree char *s17 = am_test_profile_dir("antminer-s17pro");
  g_autofree char *fleet_text =
      g_strdup_printf("127.66.1.1:%u %s\n127.66.1.2:%u %s fault=refuse\n", port, s17, port, s17);
  AmTestFleet *fleet = am_test_fleet_start(fleet_text);

  g_autofree char *dir = g_dir_make_tmp("antmon-daemon-XXXXXX", NULL);
  g_autofree char *ini = g_build_filename(dir, "antmon.ini", NULL);
  g_autofree char *config = g_strdup_printf(
      "[core]\nstate_dir=%s\ninterval=1s\npoll_timeout=1s\noffline_after=2\nlog_level=info\n"
      "[miner:good]\nhost=127.66.1.1:%u\n[miner:down]\nhost=127.66.1.2:%u\n",
      dir, port, port);
  g_assert_true(g_file_set_contents(ini, config, -1, NULL));

  Daemon d = {.seen = g_string_new(NULL)};
  g_autoptr(GError) error = NULL;
  d.proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, g_getenv("ANTMON_BIN"), "run",
                            "-c", ini, NULL);
  g_assert_no_error(error);
  d.err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(d.proc));
  d.guard_id = g_timeout_add_seconds(60, guard_fired, &d);

  g_autofree char *good = g_strdup_printf("127.66.1.1:%u", port);
  g_autofree char *down = g_strdup_printf("127.66.1.2:%u", port);
  g_autofree char *online = g_strdup_printf("%s: unreachable -> online", good);
  g_assert_true(wait_for(&d, online, 1));
  assert_runs_on_malloc(g_subprocess_get_identifier(d.proc));
  /* Several more polls of a healthy miner: nothing more to announce. */
  g_assert_true(wait_for(&d, "poll pass:", 3));

  am_test_fleet_control(fleet, "set 127.66.1.1 fault=refuse");
  g_autofree char *offline = g_strdup_printf("%s: online -> offline", good);
  g_assert_true(wait_for(&d, offline, 1));
  g_assert_true(wait_for(&d, "poll pass:", 1));

  g_subprocess_send_signal(d.proc, SIGTERM);
  while (wait_for(&d, "\x01", 1))
    ;
  g_source_remove(d.guard_id);
  g_subprocess_wait(d.proc, NULL, &error);
  g_assert_cmpint(g_subprocess_get_exit_status(d.proc), ==, 0);

  const char *log = d.seen->str;
  g_assert_cmpuint(count(log, online), ==, 1);
  g_assert_cmpuint(count(log, offline), ==, 1);
  /* The reason names what happened. */
  g_autofree char *offline_refused = g_strdup_printf("%s: online -> offline: ", good);
  const char *line = strstr(log, offline_refused);
  g_assert_nonnull(line);
  g_assert_nonnull(g_strstr_len(line, strcspn(line, "\n"), "refused"));
  /* A miner never reached stays unreachable, and passes count it. */
  g_autofree char *down_changed = g_strdup_printf("%s: unreachable ->", down);
  g_assert_null(strstr(log, down_changed));
  g_assert_nonnull(strstr(log, "failed (refused"));

  g_object_unref(d.err);
  g_object_unref(d.proc);
  g_string_free(d.seen, TRUE);
  am_test_fleet_stop(fleet);
  g_unlink(ini);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/daemon/states-announced-once", test_states_announced_once);
  return g_test_run();
}
