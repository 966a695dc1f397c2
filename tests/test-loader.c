/* The plugin loader: every broken plugin is rejected with a message that
 * names the file and the reason, and the daemon goes on without it. */
#include "am-context-private.h"
#include "am-instances.h"
#include "am-log.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static char *
built_plugin(const char *stem)
{
  const char *dir = g_getenv("ANTMON_TEST_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *file = g_strconcat(stem, ".so", NULL);
  return g_build_filename(dir, file, NULL);
}

static void
assert_rejected(const char *stem, int code, const char *expected)
{
  g_autofree char *path = built_plugin(stem);
  g_autoptr(GError) error = NULL;
  AmLoadedPlugin *plugin = am_plugin_load_file(path, &error);
  g_assert_null(plugin);
  g_assert_error(error, AM_ERROR, code);
  if (strstr(error->message, expected) == NULL)
    g_error("%s: expected '%s' in '%s'", stem, expected, error->message);
}

static void
test_good_plugin_loads(void)
{
  g_autofree char *path = built_plugin("driver-good");
  g_autoptr(GError) error = NULL;
  AmLoadedPlugin *plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(plugin->info->name, ==, "good");
  g_assert_cmpint(plugin->info->kind, ==, AM_PLUGIN_KIND_DRIVER);
  am_loaded_plugin_free(plugin);
}

/* A plugin built for ABI 1.0 (before AmStoreVTable.stats_json) still loads. */
static void
test_older_minor_loads(void)
{
  g_autofree char *path = built_plugin("driver-prevminor");
  g_autoptr(GError) error = NULL;
  AmLoadedPlugin *plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(plugin->info->abi_minor, ==, 0);
  am_loaded_plugin_free(plugin);
}

static void
test_wrong_abi(void)
{
  assert_rejected("driver-oldabi", AM_ERROR_ABI,
                  "built for plugin ABI 0.0, this antmon has ABI 1.4");
  assert_rejected("driver-newminor", AM_ERROR_ABI, "built for plugin ABI 1.99");
  assert_rejected("driver-shortinfo", AM_ERROR_ABI, "descriptor is 16 bytes");
}

static void
test_missing_symbol(void)
{
  assert_rejected("driver-nosymbol", AM_ERROR_UNSUPPORTED, "has no am_plugin_get_info() symbol");
}

static void
test_wrong_kind_and_name(void)
{
  assert_rejected("driver-wrongkind", AM_ERROR_UNSUPPORTED,
                  "is a sink plugin but the file name says driver");
  assert_rejected("driver-misnamed", AM_ERROR_UNSUPPORTED,
                  "holds plugin 'othername' but the file name says 'misnamed'");
}

/* A plugin directory with links to some built plugins and a few bad files. */
static char *
make_plugin_dir(const char *const *stems)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("antmon-plugins-XXXXXX", &error);
  g_assert_no_error(error);
  for (guint i = 0; stems[i] != NULL; i++) {
    g_autofree char *target = built_plugin(stems[i]);
    g_autofree char *file = g_strconcat(stems[i], ".so", NULL);
    g_autofree char *link = g_build_filename(dir, file, NULL);
    g_assert_cmpint(symlink(target, link), ==, 0);
  }
  return dir;
}

static void
remove_dir(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_unlink(path);
  }
  g_rmdir(dir);
}

static const AmRejectedPlugin *
find_rejected(AmPluginSet *set, const char *basename)
{
  for (guint i = 0; i < set->rejected->len; i++) {
    const AmRejectedPlugin *r = set->rejected->pdata[i];
    g_autofree char *base = g_path_get_basename(r->path);
    if (g_str_equal(base, basename))
      return r;
  }
  return NULL;
}

/* In a subprocess that provokes warnings on purpose: keep them non-fatal
 * and on stderr, as in the daemon. */
static void
allow_warnings(void)
{
  g_log_set_always_fatal(G_LOG_FATAL_MASK);
  am_log_init(G_LOG_LEVEL_MESSAGE);
}

static void
test_set_rejects_and_continues_subprocess(void)
{
  allow_warnings();
  const char *stems[] = {"driver-good",      "driver-oldabi", "driver-nosymbol",
                         "driver-wrongkind", "sink-good",     NULL};
  g_autofree char *dir = make_plugin_dir(stems);
  g_autofree char *garbage = g_build_filename(dir, "driver-garbage.so", NULL);
  g_assert_true(g_file_set_contents(garbage, "not an ELF file", -1, NULL));
  g_autofree char *badname = g_build_filename(dir, "helper.so", NULL);
  g_assert_true(g_file_set_contents(badname, "x", -1, NULL));
  const char *dup_stems[] = {"driver-good", NULL};
  g_autofree char *dir2 = make_plugin_dir(dup_stems);

  char *dirs[] = {dir, dir2, NULL};
  g_autoptr(AmPluginSet) set = am_plugin_set_load(dirs);
  g_assert_cmpuint(set->loaded->len, ==, 2);
  g_assert_nonnull(am_plugin_set_find(set, AM_PLUGIN_KIND_DRIVER, "good"));
  g_assert_nonnull(am_plugin_set_find(set, AM_PLUGIN_KIND_SINK, "good"));
  g_assert_cmpuint(set->rejected->len, ==, 6);
  g_assert_nonnull(strstr(find_rejected(set, "driver-garbage.so")->reason, "cannot be loaded"));
  g_assert_nonnull(strstr(find_rejected(set, "helper.so")->reason, "<kind>-<name>.so"));
  g_assert_nonnull(strstr(find_rejected(set, "driver-oldabi.so")->reason, "ABI 0.0"));
  /* The duplicate is the copy in the second directory. */
  const AmRejectedPlugin *dup = NULL;
  for (guint i = 0; i < set->rejected->len; i++)
    if (g_str_has_prefix(((AmRejectedPlugin *)set->rejected->pdata[i])->path, dir2))
      dup = set->rejected->pdata[i];
  g_assert_nonnull(dup);
  g_assert_nonnull(strstr(dup->reason, "duplicate of"));
  remove_dir(dir);
  remove_dir(dir2);
}

static void
test_set_rejects_and_continues(void)
{
  g_test_trap_subprocess("/loader/set-rejects-and-continues/subprocess", 0,
                         G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  /* One warning per rejected file, naming it and the reason. */
  g_test_trap_assert_stderr("*plugin */driver-oldabi.so rejected: built for plugin ABI 0.0*");
  g_test_trap_assert_stderr("*plugin */driver-nosymbol.so rejected: has no am_plugin_get_info()*");
  g_test_trap_assert_stderr("*driver-wrongkind.so rejected: is a sink plugin*");
  g_test_trap_assert_stderr("*driver-good.so rejected: duplicate of*");
}

static void
test_failing_create_subprocess(void)
{
  allow_warnings();
  const char *stems[] = {"driver-good", "sink-good", "sink-failcreate", "sink-silentfail", NULL};
  g_autofree char *dir = make_plugin_dir(stems);
  char *dirs[] = {dir, NULL};
  g_autoptr(AmPluginSet) set = am_plugin_set_load(dirs);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf,
                                          "[sink:good:ops]\nlevel=1\n"
                                          "[sink:good:oncall]\nlevel=2\n"
                                          "[sink:good:off]\nenabled=false\n"
                                          "[sink:failcreate]\n[sink:silentfail]\n",
                                          -1, G_KEY_FILE_NONE, NULL));
  g_autoptr(AmContext) ctx = am_context_new("/tmp", "test.ini");
  AmInstances *instances = am_instances_new();
  am_instances_create_kind(instances, set, AM_PLUGIN_KIND_DRIVER, ctx, kf, "test.ini");
  am_instances_create_kind(instances, set, AM_PLUGIN_KIND_SINK, ctx, kf, "test.ini");
  /* The driver without a group, two sink instances; two failures. */
  g_assert_cmpuint(instances->items->len, ==, 3);
  g_assert_cmpuint(instances->failed, ==, 2);
  g_autoptr(GPtrArray) sinks = am_instances_of_kind(instances, AM_PLUGIN_KIND_SINK);
  g_assert_cmpstr(((AmInstance *)sinks->pdata[0])->group, ==, "sink:good:ops");
  g_assert_cmpstr(((AmInstance *)sinks->pdata[1])->group, ==, "sink:good:oncall");
  am_instances_free(instances);
  remove_dir(dir);
}

static void
test_failing_create(void)
{
  g_test_trap_subprocess("/loader/failing-create/subprocess", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr("*sink-failcreate.so [sink:failcreate]: create() failed: the test "
                            "plugin refuses to start; going on without it*");
  g_test_trap_assert_stderr("*sink-silentfail.so [sink:silentfail]: create() failed: no reason "
                            "given*");
  /* Destroyed last-created first. */
  g_test_trap_assert_stderr("*test plugin sink:good:oncall destroyed*test plugin sink:good:ops "
                            "destroyed*test plugin driver:good destroyed*");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/loader/good-plugin-loads", test_good_plugin_loads);
  g_test_add_func("/loader/older-minor-loads", test_older_minor_loads);
  g_test_add_func("/loader/wrong-abi", test_wrong_abi);
  g_test_add_func("/loader/missing-symbol", test_missing_symbol);
  g_test_add_func("/loader/wrong-kind-and-name", test_wrong_kind_and_name);
  g_test_add_func("/loader/set-rejects-and-continues", test_set_rejects_and_continues);
  g_test_add_func("/loader/set-rejects-and-continues/subprocess",
                  test_set_rejects_and_continues_subprocess);
  g_test_add_func("/loader/failing-create", test_failing_create);
  g_test_add_func("/loader/failing-create/subprocess", test_failing_create_subprocess);
  return g_test_run();
}
