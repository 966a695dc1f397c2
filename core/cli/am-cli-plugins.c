/* antmon plugins [--json] and antmon sample-config [PLUGIN...]. */
#include "am-cli.h"
#include "am-plugin-loader.h"
#include <json-glib/json-glib.h>
#include <stdio.h>

static gboolean as_json = FALSE;

static const GOptionEntry plugins_options[] = {
    {"json", 0, 0, G_OPTION_ARG_NONE, &as_json, "print JSON", NULL},
    {NULL},
};

static AmPluginSet *
load_plugins(void)
{
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  return am_plugin_set_load(dirs);
}

static void
print_json(AmPluginSet *set, char **dirs)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "abi");
  g_autofree char *abi = g_strdup_printf("%d.%d", AM_ABI_MAJOR, AM_ABI_MINOR);
  json_builder_add_string_value(b, abi);
  json_builder_set_member_name(b, "directories");
  json_builder_begin_array(b);
  for (guint i = 0; dirs[i] != NULL; i++)
    json_builder_add_string_value(b, dirs[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "plugins");
  json_builder_begin_array(b);
  for (guint i = 0; i < set->loaded->len; i++) {
    const AmLoadedPlugin *p = set->loaded->pdata[i];
    g_autofree char *pabi = g_strdup_printf("%u.%u", p->info->abi_major, p->info->abi_minor);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, p->info->name);
    json_builder_set_member_name(b, "kind");
    json_builder_add_string_value(b, am_plugin_kind_to_string(p->info->kind));
    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, p->info->version);
    json_builder_set_member_name(b, "abi");
    json_builder_add_string_value(b, pabi);
    json_builder_set_member_name(b, "description");
    json_builder_add_string_value(b, p->info->description);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, p->path);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "rejected");
  json_builder_begin_array(b);
  for (guint i = 0; i < set->rejected->len; i++) {
    const AmRejectedPlugin *r = set->rejected->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, r->path);
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, r->reason);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, TRUE);
  printf("%s\n", text);
}

static void
print_table(AmPluginSet *set)
{
  printf("%-10s %-12s %-8s %-4s %s\n", "KIND", "NAME", "VERSION", "ABI", "FILE");
  for (guint i = 0; i < set->loaded->len; i++) {
    const AmLoadedPlugin *p = set->loaded->pdata[i];
    printf("%-10s %-12s %-8s %u.%-2u %s\n", am_plugin_kind_to_string(p->info->kind), p->info->name,
           p->info->version, p->info->abi_major, p->info->abi_minor, p->path);
  }
  for (guint i = 0; i < set->rejected->len; i++) {
    const AmRejectedPlugin *r = set->rejected->pdata[i];
    printf("rejected   %s: %s\n", r->path, r->reason);
  }
  if (set->loaded->len == 0)
    printf("(no plugins found: set ANTMON_PLUGIN_DIR or plugin_dir= in [core])\n");
}

int
am_cli_plugins(int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new("- list plugins");
  g_option_context_add_main_entries(context, plugins_options, NULL);
  if (!am_cli_parse(context, &argc, &argv))
    return AM_EXIT_USAGE;
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  g_autoptr(AmPluginSet) set = am_plugin_set_load(dirs);
  if (as_json)
    print_json(set, dirs);
  else
    print_table(set);
  return AM_EXIT_OK;
}

/* "antminer" or "driver:antminer" names a plugin. */
static gboolean
wanted(const AmPluginInfo *info, char **names)
{
  if (names == NULL || names[0] == NULL)
    return TRUE;
  g_autofree char *full =
      g_strdup_printf("%s:%s", am_plugin_kind_to_string(info->kind), info->name);
  for (guint i = 0; names[i] != NULL; i++)
    if (g_str_equal(names[i], info->name) || g_str_equal(names[i], full))
      return TRUE;
  return FALSE;
}

int
am_cli_sample_config(int argc, char **argv)
{
  g_autoptr(GOptionContext) context =
      g_option_context_new("[PLUGIN...] - print sample configuration");
  if (!am_cli_parse(context, &argc, &argv))
    return AM_EXIT_USAGE;
  g_autoptr(AmPluginSet) set = load_plugins();
  guint printed = 0;
  for (guint i = 0; i < set->loaded->len; i++) {
    const AmLoadedPlugin *p = set->loaded->pdata[i];
    if (!wanted(p->info, argv + 1))
      continue;
    printf("%s# --- %s plugin '%s' %s: %s\n%s", printed > 0 ? "\n" : "",
           am_plugin_kind_to_string(p->info->kind), p->info->name, p->info->version,
           p->info->description, p->info->sample_config != NULL ? p->info->sample_config : "");
    printed++;
  }
  if (printed == 0 && argc > 1) {
    fprintf(stderr, "antmon: no plugin named %s (see `antmon plugins`)\n", argv[1]);
    return AM_EXIT_USAGE;
  }
  return AM_EXIT_OK;
}
