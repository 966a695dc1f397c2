/* Plugin instances: creation from ini groups, ordered destruction. */
#include "am-instances.h"
#include "am-config-file.h"
#include <antmon/config.h>
#include <antmon/error.h>

AmInstances *
am_instances_new(void)
{
  AmInstances *instances = g_new0(AmInstances, 1);
  instances->items = g_ptr_array_new();
  return instances;
}

void
am_instances_free(AmInstances *instances)
{
  if (instances == NULL)
    return;
  for (guint i = instances->items->len; i > 0; i--) {
    AmInstance *inst = instances->items->pdata[i - 1];
    g_debug("destroying %s", inst->group);
    inst->info->destroy(inst->self);
    g_free(inst->group);
    g_free(inst);
  }
  g_ptr_array_unref(instances->items);
  g_free(instances);
}

static gboolean
group_enabled(GKeyFile *kf, const char *group, const char *config_path)
{
  gboolean enabled = TRUE;
  g_autoptr(GError) error = NULL;
  if (kf != NULL && !am_config_get_bool(kf, group, "enabled", TRUE, &enabled, &error)) {
    g_warning("%s: %s; treating the group as disabled", config_path, error->message);
    return FALSE;
  }
  return enabled;
}

static void
create_one(AmInstances *instances, const AmLoadedPlugin *plugin, const char *group, AmContext *ctx,
           GKeyFile *kf, const char *config_path)
{
  if (!group_enabled(kf, group, config_path)) {
    g_debug("[%s] enabled=false: skipped", group);
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) empty = g_key_file_new();
  gpointer self = plugin->info->create(ctx, kf != NULL ? kf : empty, group, &error);
  if (self == NULL) {
    instances->failed++;
    if (error != NULL && error->domain == AM_ERROR && error->code == AM_ERROR_CONFIG) {
      /* A mistake in the file, not in the plugin: the caller stops start-up. */
      instances->config_failed++;
      g_warning("%s: %s", config_path, error->message);
    } else {
      g_warning("plugin %s [%s]: create() failed: %s; going on without it", plugin->path, group,
                error != NULL ? error->message : "no reason given");
    }
    return;
  }
  AmInstance *inst = g_new0(AmInstance, 1);
  inst->info = plugin->info;
  inst->group = g_strdup(group);
  inst->self = self;
  g_ptr_array_add(instances->items, inst);
}

/* Ini groups naming this plugin: "kind:name" and "kind:name:instance". */
static GPtrArray *
groups_for(const AmPluginInfo *info, GKeyFile *kf)
{
  GPtrArray *groups = g_ptr_array_new_with_free_func(g_free);
  if (kf == NULL)
    return groups;
  g_auto(GStrv) all = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; all[i] != NULL; i++) {
    g_autofree char *kind = NULL, *name = NULL, *instance = NULL;
    if (am_config_split_group(all[i], &kind, &name, &instance) &&
        g_str_equal(kind, am_plugin_kind_to_string(info->kind)) && g_str_equal(name, info->name))
      g_ptr_array_add(groups, g_strdup(all[i]));
  }
  return groups;
}

void
am_instances_create_kind(AmInstances *instances, AmPluginSet *plugins, AmPluginKind kind,
                         AmContext *ctx, GKeyFile *kf, const char *config_path)
{
  for (guint i = 0; i < plugins->loaded->len; i++) {
    const AmLoadedPlugin *plugin = plugins->loaded->pdata[i];
    if (plugin->info->kind != kind)
      continue;
    g_autoptr(GPtrArray) groups = groups_for(plugin->info, kf);
    if (kind == AM_PLUGIN_KIND_DRIVER) {
      /* Drivers run whether or not they have a group: drop in the .so, restart. */
      g_autofree char *group = g_strdup_printf("driver:%s", plugin->info->name);
      create_one(instances, plugin, group, ctx, kf, config_path);
      continue;
    }
    for (guint g = 0; g < groups->len; g++)
      create_one(instances, plugin, groups->pdata[g], ctx, kf, config_path);
  }
}

GPtrArray *
am_instances_of_kind(AmInstances *instances, AmPluginKind kind)
{
  GPtrArray *out = g_ptr_array_new();
  for (guint i = 0; i < instances->items->len; i++) {
    AmInstance *inst = instances->items->pdata[i];
    if (inst->info->kind == kind)
      g_ptr_array_add(out, inst);
  }
  return out;
}

AmInstance *
am_instances_find_driver(AmInstances *instances, const char *name)
{
  for (guint i = 0; i < instances->items->len; i++) {
    AmInstance *inst = instances->items->pdata[i];
    if (inst->info->kind == AM_PLUGIN_KIND_DRIVER && g_str_equal(inst->info->name, name))
      return inst;
  }
  return NULL;
}

AmInstances *
am_instances_take_kind(AmInstances *instances, AmPluginKind kind)
{
  AmInstances *taken = am_instances_new();
  for (guint i = 0; i < instances->items->len;) {
    AmInstance *inst = instances->items->pdata[i];
    if (inst->info->kind == kind) {
      g_ptr_array_add(taken->items, inst);
      g_ptr_array_remove_index(instances->items, i);
    } else {
      i++;
    }
  }
  return taken;
}

void
am_instances_move_all(AmInstances *to, AmInstances *from)
{
  for (guint i = 0; i < from->items->len; i++)
    g_ptr_array_add(to->items, from->items->pdata[i]);
  g_ptr_array_set_size(from->items, 0);
}
