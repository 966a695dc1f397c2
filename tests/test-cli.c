/* The antmon command line, driven as a user would: real binary, real files. */
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

typedef struct {
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear(Run *r)
{
  g_free(r->out);
  g_free(r->err);
}

/* Runs antmon with @argv (NULL-terminated, without the program name). */
static Run
run_antmon(const char *const *args, const char *plugin_dir)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("ANTMON_BIN"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (plugin_dir != NULL)
    g_subprocess_launcher_setenv(launcher, "ANTMON_PLUGIN_DIR", plugin_dir, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error(error);
  Run r = {0};
  g_subprocess_communicate_utf8(proc, NULL, NULL, &r.out, &r.err, &error);
  g_assert_no_error(error);
  r.status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
  return r;
}

static char *
write_ini(const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

static void
test_version_and_help(void)
{
  const char *version[] = {"--version", NULL};
  Run r = run_antmon(version, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_assert_true(g_str_has_prefix(r.out, "antmon 0.1.0 (plugin ABI 1.4)"));
  run_clear(&r);

  const char *bogus[] = {"frobnicate", NULL};
  r = run_antmon(bogus, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "unknown command 'frobnicate'"));
  run_clear(&r);
}

static void
test_bad_value_exits_2(void)
{
  g_autofree char *dir = g_dir_make_tmp("antmon-cli-XXXXXX", NULL);
  g_autofree char *ini = write_ini(dir, "bad.ini", "[core]\ninterval=abc\n");
  const char *args[] = {"check-config", "-c", ini, NULL};
  Run r = run_antmon(args, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_autofree char *expected = g_strdup_printf("%s: [core] interval=abc: expected", ini);
  if (strstr(r.err, expected) == NULL)
    g_error("expected '%s' in stderr: %s", expected, r.err);
  run_clear(&r);

  /* The daemon itself refuses to start the same way. */
  const char *run_args[] = {"run", "-c", ini, NULL};
  r = run_antmon(run_args, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "interval=abc"));
  run_clear(&r);
  g_unlink(ini);
  g_rmdir(dir);
}

static void
test_unknown_key_warns(void)
{
  g_autofree char *dir = g_dir_make_tmp("antmon-cli-XXXXXX", NULL);
  g_autofree char *ini = write_ini(dir, "typo.ini", "[core]\nintervall=30s\n[nonsense]\nx=1\n");
  const char *args[] = {"check-config", "-c", ini, NULL};
  Run r = run_antmon(args, g_getenv("ANTMON_TEST_PLUGIN_DIR"));
  g_assert_cmpint(r.status, ==, 0);
  g_assert_nonnull(strstr(r.err, "[core]"));
  g_assert_nonnull(strstr(r.err, "intervall"));
  g_assert_nonnull(strstr(r.err, "[nonsense]"));
  g_assert_nonnull(strstr(r.out, "OK (2 warnings"));
  run_clear(&r);
  g_unlink(ini);
  g_rmdir(dir);
}

static void
test_plugins_json(void)
{
  const char *args[] = {"plugins", "--json", NULL};
  Run r = run_antmon(args, g_getenv("ANTMON_TEST_PLUGIN_DIR"));
  g_assert_cmpint(r.status, ==, 0);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, r.out, -1, NULL));
  JsonObject *root = json_node_get_object(json_parser_get_root(parser));
  g_assert_cmpstr(json_object_get_string_member(root, "abi"), ==, "1.4");
  JsonArray *plugins = json_object_get_array_member(root, "plugins");
  JsonArray *rejected = json_object_get_array_member(root, "rejected");
  gboolean saw_good = FALSE, saw_oldabi = FALSE;
  for (guint i = 0; i < json_array_get_length(plugins); i++) {
    JsonObject *p = json_array_get_object_element(plugins, i);
    if (g_str_equal(json_object_get_string_member(p, "name"), "good") &&
        g_str_equal(json_object_get_string_member(p, "kind"), "driver"))
      saw_good = TRUE;
  }
  for (guint i = 0; i < json_array_get_length(rejected); i++) {
    JsonObject *p = json_array_get_object_element(rejected, i);
    if (g_str_has_suffix(json_object_get_string_member(p, "file"), "driver-oldabi.so"))
      saw_oldabi = strstr(json_object_get_string_member(p, "reason"), "ABI 0.0") != NULL;
  }
  g_assert_true(saw_good);
  g_assert_true(saw_oldabi);
  run_clear(&r);
}

/* A bad value inside a plugin's group stops start-up like one in [core]. */
static void
test_plugin_config_error_exits_2(void)
{
  g_autofree char *dir = g_dir_make_tmp("antmon-cli-XXXXXX", NULL);
  g_autofree char *state = g_build_filename(dir, "state", NULL);
  g_autofree char *text = g_strdup_printf("[core]\nstate_dir=%s\n[sink:badconfig]\n", state);
  g_autofree char *ini = write_ini(dir, "badsink.ini", text);
  g_autofree char *expected = g_strdup_printf("%s: [sink:badconfig] url is missing", ini);
  const char *commands[] = {"check-config", "run"};
  for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
    const char *args[] = {commands[i], "-c", ini, NULL};
    Run r = run_antmon(args, g_getenv("ANTMON_TEST_PLUGIN_DIR"));
    g_assert_cmpint(r.status, ==, 2);
    if (strstr(r.err, expected) == NULL)
      g_error("%s: expected '%s' in: %s", commands[i], expected, r.err);
    run_clear(&r);
  }
  g_unlink(ini);
  g_rmdir(state);
  g_rmdir(dir);
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

/* Reads stderr lines until one contains @needle (or EOF). */
static gboolean
wait_for_line(GDataInputStream *in, const char *needle, GString *seen)
{
  for (;;) {
    char *line = NULL;
    g_data_input_stream_read_line_async(in, G_PRIORITY_DEFAULT, NULL, on_line, &line);
    while (line == NULL)
      g_main_context_iteration(NULL, TRUE);
    gboolean eof = g_str_equal(line, "<eof>");
    g_string_append_printf(seen, "%s\n", line);
    gboolean found = strstr(line, needle) != NULL;
    g_free(line);
    if (found)
      return TRUE;
    if (eof)
      return FALSE;
  }
}

static void
test_run_and_sigterm(void)
{
  g_autofree char *dir = g_dir_make_tmp("antmon-cli-XXXXXX", NULL);
  g_autofree char *state = g_build_filename(dir, "state", NULL);
  g_autofree char *text = g_strdup_printf("[core]\nstate_dir=%s\n[sink:good:ops]\n"
                                          "[sink:failcreate]\n",
                                          state);
  g_autofree char *ini = write_ini(dir, "run.ini", text);
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv(launcher, "ANTMON_PLUGIN_DIR", g_getenv("ANTMON_TEST_PLUGIN_DIR"),
                               TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_launcher_spawn(launcher, &error, g_getenv("ANTMON_BIN"), "run", "-c", ini, NULL);
  g_assert_no_error(error);
  g_autoptr(GDataInputStream) in = g_data_input_stream_new(g_subprocess_get_stderr_pipe(proc));
  g_autoptr(GString) seen = g_string_new(NULL);

  /* A plugin that fails to start is logged, and the daemon runs on. */
  if (!wait_for_line(in, "running", seen))
    g_error("daemon did not start:\n%s", seen->str);
  g_assert_nonnull(strstr(seen->str, "sink-failcreate.so [sink:failcreate]: create() failed"));
  g_assert_true(g_file_test(state, G_FILE_TEST_IS_DIR));

  g_subprocess_send_signal(proc, SIGTERM);
  /* Every instance is destroyed on the way out. */
  g_assert_true(wait_for_line(in, "test plugin sink:good:ops destroyed", seen));
  g_assert_true(wait_for_line(in, "test plugin driver:good destroyed", seen));
  g_subprocess_wait(proc, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_if_exited(proc));
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);
  g_unlink(ini);
  g_rmdir(state);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli/version-and-help", test_version_and_help);
  g_test_add_func("/cli/bad-value-exits-2", test_bad_value_exits_2);
  g_test_add_func("/cli/unknown-key-warns", test_unknown_key_warns);
  g_test_add_func("/cli/plugins-json", test_plugins_json);
  g_test_add_func("/cli/run-and-sigterm", test_run_and_sigterm);
  g_test_add_func("/cli/plugin-config-error-exits-2", test_plugin_config_error_exits_2);
  return g_test_run();
}
