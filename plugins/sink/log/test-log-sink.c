/* The log sink: the lines an operator greps for, in the log and in a file. */
#include "am-context-private.h"
#include "am-sink-test-util.h"
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <string.h>

const AmPluginInfo *am_plugin_get_info(void);

static GString *logged;

static GLogWriterOutput
capture_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  (void)user_data;
  const char *message = NULL, *rule = NULL;
  for (gsize i = 0; i < n_fields; i++) {
    if (g_str_equal(fields[i].key, "MESSAGE"))
      message = fields[i].value;
    if (g_str_equal(fields[i].key, "ANTMON_RULE"))
      rule = fields[i].value;
  }
  g_string_append_printf(logged, "%s|%s|%s\n",
                         (level & G_LOG_LEVEL_WARNING) ? "warning" : "message",
                         rule != NULL ? rule : "-", message != NULL ? message : "");
  return G_LOG_WRITER_HANDLED;
}

static AmNotification *
two_alerts(void)
{
  AmAlert raised = am_sink_test_hot_alert(FALSE);
  AmAlert resolved = am_sink_test_hot_alert(TRUE);
  resolved.miner_host = "10.0.0.6:4028";
  resolved.miner_name = "10.0.0.6";
  const AmAlert *alerts[] = {&raised, &resolved, NULL};
  return am_sink_test_notification_new("[CRITICAL] 2 alerts: 1 raised, 1 resolved (hot)", alerts);
}

static void
test_sample_config(void)
{
  const AmPluginInfo *info = am_plugin_get_info();
  g_assert_cmpstr(info->name, ==, "log");
  g_assert_cmpint(info->kind, ==, AM_PLUGIN_KIND_SINK);
  g_autoptr(GError) error = NULL;
  gpointer self = am_sink_test_create(info, NULL, info->sample_config, "sink:log", &error);
  g_assert_no_error(error);
  g_assert_nonnull(self);
  info->destroy(self);
}

static void
test_text_in_log(void)
{
  const AmPluginInfo *info = am_plugin_get_info();
  g_autoptr(GError) error = NULL;
  gpointer self = am_sink_test_create(
      info, NULL, "[sink:log]\ndashboard_url=http://antmon.lan:8080/#/miner/{host}\n", "sink:log",
      &error);
  g_assert_no_error(error);
  AmNotification *n = two_alerts();
  g_string_truncate(logged, 0);
  g_assert_true(am_sink_test_deliver(info, self, n, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(logged->str, ==,
                  "warning|hot|alert state=raised severity=critical rule=hot type=temperature "
                  "miner=10.0.0.5:4028 name=rack1-07 model=\"Antminer S9\" value=98.1 "
                  "threshold=90 unit=degC message=\"hottest board temperature 98.1 °C is over "
                  "the critical limit 90.0 °C\" dashboard=http://antmon.lan:8080/#/miner/10.0.0.5\n"
                  "message|hot|alert state=resolved severity=critical rule=hot type=temperature "
                  "miner=10.0.0.6:4028 name=10.0.0.6 model=\"Antminer S9\" value=70 threshold=75 "
                  "unit=degC message=\"hottest board temperature 70.0 °C is back at or under "
                  "75.0 °C\" dashboard=http://antmon.lan:8080/#/miner/10.0.0.6\n");
  am_sink_test_notification_free(n);
  info->destroy(self);
}

static void
test_json_file(void)
{
  const AmPluginInfo *info = am_plugin_get_info();
  g_autofree char *dir = g_dir_make_tmp("antmon-sink-log-XXXXXX", NULL);
  g_autoptr(AmContext) ctx = am_context_new(dir, "test.ini");
  g_autoptr(GError) error = NULL;
  /* A relative file= lives in the state directory. */
  gpointer self = am_sink_test_create(
      info, ctx, "[sink:log:file]\nformat=json\nfile=alerts.jsonl\n", "sink:log:file", &error);
  g_assert_no_error(error);
  AmNotification *n = two_alerts();
  g_string_truncate(logged, 0);
  g_assert_true(am_sink_test_deliver(info, self, n, NULL, &error));
  g_assert_true(am_sink_test_deliver(info, self, n, NULL, &error));
  g_assert_cmpstr(logged->str, ==, "");

  g_autofree char *path = g_build_filename(dir, "alerts.jsonl", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 5); /* four lines and the empty tail */
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, lines[0], -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "raised");
  g_assert_cmpstr(json_object_get_string_member(o, "miner"), ==, "10.0.0.5:4028");
  g_assert_cmpstr(json_object_get_string_member(o, "host"), ==, "10.0.0.5");
  g_assert_cmpfloat(json_object_get_double_member(o, "value"), ==, 98.1);
  g_assert_cmpfloat(json_object_get_double_member(o, "threshold"), ==, 90);
  g_assert_cmpstr(json_object_get_string_member(o, "time"), ==, "2023-11-14T22:13:20Z");
  g_assert_true(json_object_get_null_member(o, "dashboard_url"));
  g_assert_true(json_parser_load_from_data(parser, lines[1], -1, NULL));
  o = json_node_get_object(json_parser_get_root(parser));
  g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "resolved");

  am_sink_test_notification_free(n);
  info->destroy(self);
  g_unlink(path);
  g_rmdir(dir);
}

static void
test_bad_config(void)
{
  const AmPluginInfo *info = am_plugin_get_info();
  const struct {
    const char *ini;
    const char *message;
  } cases[] = {
      {"[sink:log]\nformat=xml\n", "[sink:log] format=xml: expected text or json"},
      {"[sink:log]\nfile=/nonexistent-antmon-dir/alerts.log\n",
       "[sink:log] file=/nonexistent-antmon-dir/alerts.log: expected a file antmon can append to"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(am_sink_test_create(info, NULL, cases[i].ini, "sink:log", &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    g_assert_true(g_str_has_prefix(error->message, cases[i].message));
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_log_set_always_fatal(G_LOG_FATAL_MASK);
  logged = g_string_new(NULL);
  g_log_set_writer_func(capture_writer, NULL, NULL);
  g_test_add_func("/sink-log/sample-config", test_sample_config);
  g_test_add_func("/sink-log/text-in-log", test_text_in_log);
  g_test_add_func("/sink-log/json-file", test_json_file);
  g_test_add_func("/sink-log/bad-config", test_bad_config);
  int status = g_test_run();
  g_string_free(logged, TRUE);
  return status;
}
