/* The real daemon with [store:sqlite], polling fake miners on loopback:
 * SIGTERM writes what is queued; a database file that is not SQLite or is
 * read-only is a clear error and the daemon polls on without it; a full
 * disk is a logged error, the samples are kept and written once there is
 * room again. What is stored is read back with `antmon export`.
 *
 * As root, read-only and full files are made in a private mount namespace
 * (a tmpfs mounted read-only, or filled up) that this test's subprocess and
 * its children share; otherwise with file modes and RLIMIT_FSIZE. */
#include "am-context-private.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"
#include <errno.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- a fleet and a daemon ----------------------------------------------- */

typedef struct {
  AmTestFleet *fleet;
  guint16 port;
  guint n_miners;
  char *subnet; /* "127.77.N" */
  char *dir;    /* ini and (unless overridden) state */
  char *state;  /* state_dir */
  char *ini;
  GSubprocess *proc;
  GDataInputStream *err;
  GString *seen;
} Rig;

static char *
miner_address(const Rig *r, guint i)
{
  return g_strdup_printf("%s.%u:%u", r->subnet, i + 1, r->port);
}

static void
rig_start_fleet(Rig *r, const char *subnet, guint n_miners)
{
  r->subnet = g_strdup(subnet);
  r->n_miners = n_miners;
  r->port = am_test_free_port();
  g_autofree char *profile = am_test_profile_dir("antminer-s19pro");
  g_autoptr(GString) fleet = g_string_new(NULL);
  for (guint i = 0; i < n_miners; i++) {
    g_autofree char *address = miner_address(r, i);
    g_string_append_printf(fleet, "%s %s\n", address, profile);
  }
  r->fleet = am_test_fleet_start(fleet->str);
  r->dir = g_dir_make_tmp("antmon-store-daemon-XXXXXX", NULL);
  r->state = g_strdup(r->dir);
  r->ini = g_build_filename(r->dir, "antmon.ini", NULL);
}

/* Writes antmon.ini: every fake miner, 1 s polls, [store:sqlite] with
 * @store_keys. */
static void
rig_write_ini(Rig *r, const char *store_keys)
{
  g_autoptr(GString) ini = g_string_new(NULL);
  g_string_append_printf(
      ini, "[core]\nstate_dir=%s\ninterval=1s\npoll_timeout=2s\nlog_level=info\n", r->state);
  for (guint i = 0; i < r->n_miners; i++) {
    g_autofree char *address = miner_address(r, i);
    g_string_append_printf(ini, "[miner:m%u]\nhost=%s\n", i + 1, address);
  }
  g_string_append_printf(ini, "[store:sqlite]\npath=antmon.db\n%s", store_keys);
  g_assert_true(g_file_set_contents(r->ini, ini->str, -1, NULL));
}

static void
rig_start_daemon(Rig *r, GSubprocessLauncher *launcher)
{
  g_autoptr(GSubprocessLauncher) own = NULL;
  if (launcher == NULL)
    launcher = own = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_flags(launcher, G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GError) error = NULL;
  r->proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("ANTMON_BIN"), "run", "-c",
                                        r->ini, NULL);
  g_assert_no_error(error);
  r->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(r->proc));
  r->seen = g_string_new(NULL);
}

/* Reads the daemon's stderr until a line matching the glob @pattern has
 * been seen @times more times. FALSE at the end of its output. */
static gboolean
rig_wait(Rig *r, const char *pattern, guint times)
{
  g_autoptr(GPatternSpec) spec = g_pattern_spec_new(pattern);
  for (guint found = 0; found < times;) {
    g_autoptr(GError) error = NULL;
    g_autofree char *line = g_data_input_stream_read_line_utf8(r->err, NULL, NULL, &error);
    g_assert_no_error(error);
    if (line == NULL)
      return FALSE;
    g_string_append_printf(r->seen, "%s\n", line);
    if (g_pattern_spec_match_string(spec, line))
      found++;
  }
  return TRUE;
}

static void
rig_wait_or_fail(Rig *r, const char *pattern, guint times)
{
  if (!rig_wait(r, pattern, times))
    g_error("the daemon ended before logging \"%s\":\n%s", pattern, r->seen->str);
}

static gboolean
all_online(Rig *r)
{
  for (guint i = 0; i < r->n_miners; i++) {
    g_autofree char *address = miner_address(r, i);
    g_autofree char *line = g_strdup_printf("%s: unreachable -> online", address);
    if (strstr(r->seen->str, line) == NULL)
      return FALSE;
  }
  return TRUE;
}

/* Every miner polled successfully at least once. */
static void
rig_wait_all_online(Rig *r)
{
  while (!all_online(r))
    rig_wait_or_fail(r, "*", 1);
}

/* SIGTERM by PID; the daemon must exit 0. */
static void
rig_stop_daemon(Rig *r)
{
  g_subprocess_send_signal(r->proc, SIGTERM);
  while (rig_wait(r, "\x01", 1))
    ;
  g_autoptr(GError) error = NULL;
  g_subprocess_wait(r->proc, NULL, &error);
  g_assert_no_error(error);
  if (!g_subprocess_get_if_exited(r->proc) || g_subprocess_get_exit_status(r->proc) != 0)
    g_error("the daemon did not exit cleanly:\n%s", r->seen->str);
  g_clear_object(&r->err);
  g_clear_object(&r->proc);
}

static void
remove_tree(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_DIR))
      remove_tree(path);
    else
      g_unlink(path);
  }
  g_rmdir(dir);
}

static void
rig_clear(Rig *r)
{
  if (r->proc != NULL)
    rig_stop_daemon(r);
  am_test_fleet_stop(r->fleet);
  if (r->dir != NULL)
    remove_tree(r->dir);
  g_free(r->subnet);
  g_free(r->dir);
  g_free(r->state);
  g_free(r->ini);
  if (r->seen != NULL)
    g_string_free(r->seen, TRUE);
}

/* `antmon export --format json` of the rig's database: its rows. */
static JsonArray *
rig_export(Rig *r)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                       g_getenv("ANTMON_BIN"), "export", "-c", r->ini, "--format", "json", NULL);
  g_assert_no_error(error);
  g_autofree char *out = NULL, *err = NULL;
  g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error(error);
  if (g_subprocess_get_exit_status(proc) != 0)
    g_error("antmon export failed: %s", err);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, out, -1, &error));
  return json_array_ref(json_node_get_array(json_parser_get_root(parser)));
}

/* Rows of @miner with an epoch in [@from, @to]. */
static guint
rows_for(JsonArray *rows, const char *miner, double from, double to)
{
  guint n = 0;
  for (guint i = 0; i < json_array_get_length(rows); i++) {
    JsonObject *row = json_array_get_object_element(rows, i);
    double t = json_object_get_double_member(row, "epoch");
    if (g_str_equal(json_object_get_string_member(row, "miner"), miner) && t >= from && t <= to)
      n++;
  }
  return n;
}

/* ---- SIGTERM writes what is queued --------------------------------------- */

static void
test_sigterm_flushes(void)
{
  Rig r = {0};
  rig_start_fleet(&r, "127.77.1", 3);
  /* An hour between writes: only the shutdown flush can store anything. */
  rig_write_ini(&r, "flush_interval=1h\n");
  rig_start_daemon(&r, NULL);
  rig_wait_all_online(&r);
  double stopped = g_get_real_time() / 1e6;
  rig_stop_daemon(&r);

  g_autoptr(JsonArray) rows = rig_export(&r);
  for (guint i = 0; i < r.n_miners; i++) {
    g_autofree char *address = miner_address(&r, i);
    g_assert_cmpuint(rows_for(rows, address, 0, stopped), >=, 1);
  }
  /* Real values, not placeholders. */
  JsonObject *first = json_array_get_object_element(rows, 0);
  g_assert_cmpfloat(json_object_get_double_member(first, "hashrate_ths"), >, 1.0);
  rig_clear(&r);
}

/* ---- files the store refuses ---------------------------------------------- */

/* The daemon logs @pattern, polls on, and stops cleanly. */
static void
assert_runs_without_store(Rig *r, const char *pattern)
{
  rig_start_daemon(r, NULL);
  rig_wait_or_fail(r, pattern, 1);
  rig_wait_all_online(r);
  rig_wait_or_fail(r, "*poll pass:*", 2);
  rig_stop_daemon(r);
}

static void
test_not_sqlite(void)
{
  Rig r = {0};
  rig_start_fleet(&r, "127.77.2", 1);
  rig_write_ini(&r, "");
  g_autofree char *db = g_build_filename(r.state, "antmon.db", NULL);
  const char *text = "this is a shopping list, not a database\n";
  g_assert_true(g_file_set_contents(db, text, -1, NULL));
  g_autofree char *pattern = g_strdup_printf("*%s is not an SQLite database*", db);
  assert_runs_without_store(&r, pattern);
  g_autofree char *after = NULL;
  g_assert_true(g_file_get_contents(db, &after, NULL, NULL));
  g_assert_cmpstr(after, ==, text);
  rig_clear(&r);
}

/* Creates a good, empty database at @path with the real plugin. */
static void
make_database(const char *state, const char *path)
{
  g_autofree char *so = g_build_filename(g_getenv("ANTMON_PLUGIN_DIR"), "store-sqlite.so", NULL);
  g_autoptr(GError) error = NULL;
  AmLoadedPlugin *plugin = am_plugin_load_file(so, &error);
  g_assert_no_error(error);
  g_autoptr(AmContext) ctx = am_context_new(state, "make.ini");
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_key_file_set_string(kf, "store:sqlite", "path", path);
  gpointer self = plugin->info->create(ctx, kf, "store:sqlite", &error);
  g_assert_no_error(error);
  plugin->info->destroy(self);
  am_loaded_plugin_free(plugin);
}

/* As root: a private mount namespace for this process and its children,
 * with a tmpfs of @size_kb on @dir. */
static gboolean
private_tmpfs(const char *dir, guint size_kb)
{
  if (geteuid() != 0)
    return FALSE;
  if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    g_error("unshare/mount --make-rprivate: %s", g_strerror(errno));
  g_autofree char *options = g_strdup_printf("size=%uk,mode=0755", size_kb);
  if (mount("tmpfs", dir, "tmpfs", 0, options) != 0)
    g_error("mount tmpfs on %s: %s", dir, g_strerror(errno));
  return TRUE;
}

static void
read_only_child(void)
{
  Rig r = {0};
  rig_start_fleet(&r, "127.77.3", 1);
  g_free(r.state);
  r.state = g_build_filename(r.dir, "state", NULL);
  g_assert_cmpint(g_mkdir(r.state, 0755), ==, 0);
  gboolean mounted = private_tmpfs(r.state, 4096);
  rig_write_ini(&r, "");
  g_autofree char *db = g_build_filename(r.state, "antmon.db", NULL);
  make_database(r.state, db);
  if (mounted) {
    if (mount("tmpfs", r.state, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL) != 0)
      g_error("remount read-only: %s", g_strerror(errno));
  } else {
    g_assert_cmpint(g_chmod(db, 0444), ==, 0);
  }
  g_autofree char *pattern =
      g_strdup_printf("*%s is read-only: antmon must be able to write it*", db);
  assert_runs_without_store(&r, pattern);
  if (mounted)
    umount2(r.state, MNT_DETACH);
  rig_clear(&r);
}

static void
test_read_only(void)
{
  if (g_test_subprocess()) {
    read_only_child();
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed();
}

/* ---- a full disk -------------------------------------------------------- */

/* Fills the tmpfs at @dir with @path until the disk is full. */
static void
fill_disk(const char *path)
{
  FILE *f = fopen(path, "wb");
  g_assert_nonnull(f);
  static char block[4096];
  while (fwrite(block, 1, sizeof block, f) == sizeof block)
    ;
  fclose(f);
}

/* Without root, a file size limit plays the full disk: the daemon ignores
 * SIGXFSZ, so a write past the limit fails with EFBIG. */
static void
limit_file_size(gpointer user_data)
{
  rlim_t *bytes = user_data;
  struct rlimit limit = {.rlim_cur = *bytes, .rlim_max = RLIM_INFINITY};
  signal(SIGXFSZ, SIG_IGN);
  setrlimit(RLIMIT_FSIZE, &limit);
}

static void
full_disk_child(void)
{
  Rig r = {0};
  rig_start_fleet(&r, "127.77.4", 40);
  g_free(r.state);
  r.state = g_build_filename(r.dir, "state", NULL);
  g_assert_cmpint(g_mkdir(r.state, 0755), ==, 0);
  gboolean mounted = private_tmpfs(r.state, 8192);
  rig_write_ini(&r, "flush_interval=200ms\n");
  g_autofree char *db = g_build_filename(r.state, "antmon.db", NULL);
  g_autofree char *filler = g_build_filename(r.state, "filler", NULL);

  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
  rlim_t limit = 512 * 1024;
  if (!mounted)
    g_subprocess_launcher_set_child_setup(launcher, limit_file_size, &limit, NULL);
  rig_start_daemon(&r, launcher);
  rig_wait_all_online(&r);
  rig_wait_or_fail(&r, "*poll pass:*", 1);
  if (mounted)
    fill_disk(filler);

  const char *error_text = mounted ? "database or disk is full" : "disk I/O error";
  g_autofree char *failed = g_strdup_printf(
      "*[store:sqlite] writing * samples and * events failed: *%s*; kept for retry*", error_text);
  rig_wait_or_fail(&r, failed, 1);
  double full_at = g_get_real_time() / 1e6;
  /* The daemon polls on while nothing can be written. */
  rig_wait_or_fail(&r, "*poll pass:*", 2);
  double freed_at = g_get_real_time() / 1e6;
  if (mounted) {
    g_assert_cmpint(g_unlink(filler), ==, 0);
  } else {
    struct rlimit unlimited = {.rlim_cur = RLIM_INFINITY, .rlim_max = RLIM_INFINITY};
    GPid pid = (GPid)atoi(g_subprocess_get_identifier(r.proc));
    g_assert_cmpint(prlimit(pid, RLIMIT_FSIZE, &unlimited, NULL), ==, 0);
  }
  rig_wait_or_fail(&r, "*[store:sqlite] writing works again*", 1);
  rig_stop_daemon(&r);

  /* What was polled while the disk was full was kept and written later. */
  g_autoptr(JsonArray) rows = rig_export(&r);
  for (guint i = 0; i < r.n_miners; i++) {
    g_autofree char *address = miner_address(&r, i);
    g_assert_cmpuint(rows_for(rows, address, full_at, freed_at), >=, 1);
  }
  if (mounted)
    umount2(r.state, MNT_DETACH);
  rig_clear(&r);
}

static void
test_full_disk(void)
{
  if (g_test_subprocess()) {
    full_disk_child();
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed();
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/store-daemon/sigterm-flushes", test_sigterm_flushes);
  g_test_add_func("/store-daemon/not-sqlite", test_not_sqlite);
  g_test_add_func("/store-daemon/read-only", test_read_only);
  g_test_add_func("/store-daemon/full-disk", test_full_disk);
  return g_test_run();
}
