/* The example driver's tests, as a new driver's would look: the parser on
 * its recorded replies field by field, match() on every version reply in
 * tests/fixtures, and the built module's create() on its own sample
 * config. (tests/test-query.c reads a fake ExampleOS miner through the
 * whole program; tests/test-out-of-tree.sh builds this driver alone.) */
#include "am-example-parse.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"

#include "../common/am-driver-test-util.h"

#include <math.h>
#include <string.h>

static void
test_parse_x1(void)
{
  g_autoptr(JsonObject) version = am_test_fixture_object("example/x1_version.json");
  g_autoptr(JsonObject) summary = am_test_fixture_object("example/x1_summary.json");
  AmExampleOptions options = {.fans_expected = 3};
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_example_parse(version, summary, &options, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  g_assert_cmpstr(s->model, ==, "Example X1");
  g_assert_cmpstr(s->firmware, ==, "ExampleOS");
  g_assert_cmpstr(s->firmware_version, ==, "1.4.2");
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 97.5, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 97.2104, 1e-9);
  g_assert_cmpint(s->elapsed_s, ==, 86400);
  g_assert_cmpint(s->accepted, ==, 51234);
  g_assert_cmpint(s->rejected, ==, 12);
  g_assert_cmpint(s->hw_errors, ==, 42);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 61, 63, 60);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 4200, 4260);
  g_assert_cmpfloat(s->power_w, ==, 3150);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpfloat_with_epsilon(s->efficiency_jth, 3150 / 97.5, 1e-9);
  /* Two fans spin where the option says three headers are fitted. */
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_assert_cmpstr(s->problems->pdata[0], ==, "2 of 3 fans spinning");
}

static void
test_parse_errors(void)
{
  g_autoptr(JsonObject) version = am_test_fixture_object("example/x1_version.json");
  g_autoptr(GError) error = NULL;
  /* The version reply is no summary. */
  g_assert_null(am_example_parse(NULL, version, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_clear_error(&error);
  /* Without a version reply the numbers still count; identity is unknown. */
  g_autoptr(JsonObject) summary = am_test_fixture_object("example/x1_summary.json");
  g_autoptr(AmSample) s = am_example_parse(NULL, summary, NULL, &error);
  g_assert_no_error(error);
  g_assert_null(s->model);
  g_assert_null(s->firmware_version);
  g_assert_cmpint(s->fans_expected, ==, AM_UNKNOWN);
  g_assert_false(isnan(s->hashrate_ths));
}

/* Only ExampleOS is claimed, and ExampleOS by no other driver's reply. */
static void
test_match_all_versions(void)
{
  g_autoptr(GPtrArray) files = am_test_version_fixtures();
  for (guint i = 0; i < files->len; i++) {
    const char *path = files->pdata[i];
    g_autoptr(JsonObject) reply = am_test_fixture_object(path);
    AmFingerprint fp;
    am_test_fingerprint_init(&fp, reply);
    AmMatch expected =
        g_str_has_prefix(path, "example/") ? AM_MATCH_SUPPORTED : AM_MATCH_UNSUPPORTED;
    if (am_example_match(&fp) != expected)
      g_error("%s: match %d, expected %d", path, am_example_match(&fp), expected);
  }
  g_assert_cmpint(am_example_match(NULL), ==, AM_MATCH_UNSUPPORTED);
}

static void
test_module_create(void)
{
  g_autofree char *path =
      g_build_filename(g_getenv("ANTMON_PLUGIN_DIR"), "driver-example.so", NULL);
  g_autoptr(GError) error = NULL;
  AmLoadedPlugin *plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  const AmPluginInfo *info = plugin->info;
  g_assert_cmpstr(info->name, ==, "example");
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, info->sample_config, -1, G_KEY_FILE_NONE, NULL));
  g_assert_cmpint(g_key_file_get_integer(kf, "driver:example", "fans_expected", NULL), ==, 2);
  gpointer self = info->create(NULL, kf, "driver:example", &error);
  g_assert_no_error(error);
  info->destroy(self);
  g_key_file_set_string(kf, "driver:example", "fans_expected", "lots");
  g_assert_null(info->create(NULL, kf, "driver:example", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "fans_expected"));
  am_loaded_plugin_free(plugin);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/example/parse/x1", test_parse_x1);
  g_test_add_func("/example/parse/errors", test_parse_errors);
  g_test_add_func("/example/match/all-versions", test_match_all_versions);
  g_test_add_func("/example/module/create", test_module_create);
  return g_test_run();
}
