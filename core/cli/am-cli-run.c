/* antmon run [-c FILE] and antmon check-config [-c FILE]. */
#include "am-alerts.h"
#include "am-cli.h"
#include "am-config-file.h"
#include "am-context-private.h"
#include "am-daemon.h"
#include "am-instances.h"
#include "am-log.h"
#include <stdio.h>

/* Loads the configuration and the plugins, warning about unknown groups
 * and keys. Prints the reason and returns FALSE on a configuration error. */
static gboolean
load_all(const char *given, AmConfigFile **config_out, AmPluginSet **plugins_out, guint *warnings)
{
  g_autofree char *path = am_cli_default_config(given);
  if (path == NULL) {
    fprintf(stderr, "antmon: no configuration file: give one with -c FILE (antmon.ini in "
                    "the source tree is a complete example)\n");
    return FALSE;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  if (config == NULL) {
    fprintf(stderr, "antmon: %s\n", error->message);
    return FALSE;
  }
  GLogLevelFlags level = G_LOG_LEVEL_MESSAGE;
  if (am_log_level_from_string(config->core.log_level, &level))
    am_log_init(level);
  am_log_set_format(config->core.log_format);

  g_auto(GStrv) dirs = am_plugin_dirs(config->core.plugin_dirs);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  g_autoptr(GPtrArray) infos = am_plugin_set_infos(plugins);
  *warnings = am_config_file_warn_unknown(config, infos);
  *config_out = g_steal_pointer(&config);
  *plugins_out = g_steal_pointer(&plugins);
  return TRUE;
}

static char *config_file = NULL;

static const GOptionEntry run_options[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file, "configuration file", "FILE"},
    {NULL},
};

int
am_cli_run(int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new("- run the antmon daemon");
  g_option_context_add_main_entries(context, run_options, NULL);
  if (!am_cli_parse(context, &argc, &argv))
    return AM_EXIT_USAGE;

  AmConfigFile *config = NULL;
  AmPluginSet *plugins = NULL;
  guint warnings = 0;
  if (!load_all(config_file, &config, &plugins, &warnings))
    return AM_EXIT_USAGE;

  int status = AM_EXIT_OK;
  g_autoptr(GError) error = NULL;
  if (!am_daemon_apply_log_settings(&config->core, &error)) {
    fprintf(stderr, "antmon: %s: [core] log_file=: %s\n", config->path, error->message);
    am_plugin_set_free(plugins);
    am_config_file_free(config);
    return AM_EXIT_USAGE;
  }
  AmDaemon *daemon = am_daemon_new(config, plugins);
  if (am_daemon_start(daemon, &error)) {
    am_daemon_run(daemon);
  } else {
    fprintf(stderr, "antmon: %s\n", error->message);
    status = error->code == AM_ERROR_CONFIG ? AM_EXIT_USAGE : AM_EXIT_FAILED;
  }
  am_daemon_free(daemon);
  am_plugin_set_free(plugins);
  am_config_file_free(config);
  if (status == AM_EXIT_OK)
    g_message("stopped");
  return status;
}

/* Creates (then destroys) every configured instance, which is where each
 * plugin validates its own keys. Returns the number of failures. */
static guint
try_create_all(AmConfigFile *config, AmPluginSet *plugins)
{
  static const AmPluginKind kinds[] = {AM_PLUGIN_KIND_DRIVER, AM_PLUGIN_KIND_STORE,
                                       AM_PLUGIN_KIND_SINK,   AM_PLUGIN_KIND_EXPORTER,
                                       AM_PLUGIN_KIND_HTTP,   AM_PLUGIN_KIND_DISCOVERY};
  g_autoptr(AmContext) ctx = am_context_new(config->core.state_dir, config->path);
  g_autoptr(AmInstances) instances = am_instances_new();
  for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++)
    am_instances_create_kind(instances, plugins, kinds[i], ctx, config->kf, config->path);
  return instances->failed;
}

int
am_cli_check_config(int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new("- validate the configuration");
  g_option_context_add_main_entries(context, run_options, NULL);
  if (!am_cli_parse(context, &argc, &argv))
    return AM_EXIT_USAGE;

  AmConfigFile *config = NULL;
  AmPluginSet *plugins = NULL;
  guint warnings = 0;
  if (!load_all(config_file, &config, &plugins, &warnings))
    return AM_EXIT_USAGE;
  guint failed = try_create_all(config, plugins);
  g_autoptr(GError) error = NULL;
  if (!am_alerts_check_config(config->kf, &error)) {
    am_config_file_prefix_error(config, &error);
    fprintf(stderr, "antmon: %s\n", error->message);
    failed++;
  }
  int status = failed > 0 ? AM_EXIT_USAGE : AM_EXIT_OK;
  if (failed == 0)
    printf("%s: OK (%u warning%s, %u plugins loaded, %u rejected)\n", config->path, warnings,
           warnings == 1 ? "" : "s", plugins->loaded->len, plugins->rejected->len);
  else
    printf("%s: %u plugin group%s failed to start (see above)\n", config->path, failed,
           failed == 1 ? "" : "s");
  am_plugin_set_free(plugins);
  am_config_file_free(config);
  return status;
}
