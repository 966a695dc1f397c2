/* Plugin loading. Every check that can be made without running plugin code
 * is made before create() is ever called, and each failure is one log line
 * naming the file and the reason (collectd's bare dlsym loads stale plugins
 * silently; that is what this avoids). */
#include "am-plugin-loader.h"
#include "config.h"
#include <antmon/error.h>
#include <string.h>

static const char *const kind_names[] = {
    [AM_PLUGIN_KIND_DISCOVERY] = "discovery", [AM_PLUGIN_KIND_DRIVER] = "driver",
    [AM_PLUGIN_KIND_STORE] = "store",         [AM_PLUGIN_KIND_SINK] = "sink",
    [AM_PLUGIN_KIND_HTTP] = "http",           [AM_PLUGIN_KIND_EXPORTER] = "exporter",
};

const char *
am_plugin_kind_to_string(AmPluginKind kind)
{
  if ((guint)kind < G_N_ELEMENTS(kind_names))
    return kind_names[kind];
  return NULL;
}

static gboolean
kind_from_string(const char *text, AmPluginKind *out)
{
  for (guint k = AM_PLUGIN_KIND_DISCOVERY; k <= AM_PLUGIN_KIND_EXPORTER; k++)
    if (g_str_equal(text, kind_names[k])) {
      *out = k;
      return TRUE;
    }
  return FALSE;
}

/* "driver-antminer.so" -> kind driver, name "antminer". */
static gboolean
parse_file_name(const char *path, AmPluginKind *kind, char **name)
{
  g_autofree char *base = g_path_get_basename(path);
  if (!g_str_has_suffix(base, ".so"))
    return FALSE;
  base[strlen(base) - 3] = '\0';
  char *dash = strchr(base, '-');
  if (dash == NULL || dash[1] == '\0')
    return FALSE;
  *dash = '\0';
  if (!kind_from_string(base, kind))
    return FALSE;
  *name = g_strdup(dash + 1);
  return TRUE;
}

static gsize
vtable_min_size(AmPluginKind kind)
{
  switch (kind) {
  case AM_PLUGIN_KIND_DISCOVERY:
    return sizeof(AmDiscoveryVTable);
  case AM_PLUGIN_KIND_DRIVER:
    return sizeof(AmDriverVTable);
  case AM_PLUGIN_KIND_STORE:
    return sizeof(AmStoreVTable);
  case AM_PLUGIN_KIND_SINK:
    return sizeof(AmSinkVTable);
  case AM_PLUGIN_KIND_HTTP:
    return sizeof(AmHttpVTable);
  case AM_PLUGIN_KIND_EXPORTER:
    return sizeof(AmExporterVTable);
  }
  return G_MAXSIZE;
}

/* Checks the descriptor against the file it came from. */
static gboolean
check_info(const AmPluginInfo *info, AmPluginKind file_kind, const char *file_name, GError **error)
{
  if (info->abi_major != AM_ABI_MAJOR || info->abi_minor > AM_ABI_MINOR) {
    g_set_error(error, AM_ERROR, AM_ERROR_ABI,
                "built for plugin ABI %u.%u, this antmon has ABI %u.%u: rebuild the plugin "
                "against these headers",
                info->abi_major, info->abi_minor, AM_ABI_MAJOR, AM_ABI_MINOR);
    return FALSE;
  }
  if (info->struct_size < sizeof(AmPluginInfo)) {
    g_set_error(error, AM_ERROR, AM_ERROR_ABI,
                "descriptor is %u bytes, ABI %u.%u needs %zu: rebuild the plugin",
                info->struct_size, AM_ABI_MAJOR, AM_ABI_MINOR, sizeof(AmPluginInfo));
    return FALSE;
  }
  if (info->name == NULL || !g_str_equal(info->name, file_name)) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "holds plugin '%s' but the file name says '%s'",
                info->name != NULL ? info->name : "(null)", file_name);
    return FALSE;
  }
  if (info->kind != file_kind) {
    const char *kind = am_plugin_kind_to_string(info->kind);
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "is a %s plugin but the file name says %s",
                kind != NULL ? kind : "unknown-kind", am_plugin_kind_to_string(file_kind));
    return FALSE;
  }
  if (info->create == NULL || info->destroy == NULL || info->vtable.any == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "descriptor lacks create(), destroy() or its %s vtable",
                am_plugin_kind_to_string(file_kind));
    return FALSE;
  }
  /* Every vtable starts with its own struct_size. */
  guint32 vsize = *(const guint32 *)info->vtable.any;
  if (vsize < vtable_min_size(file_kind)) {
    g_set_error(error, AM_ERROR, AM_ERROR_ABI, "%s vtable is %u bytes, ABI %u.%u needs %zu",
                am_plugin_kind_to_string(file_kind), vsize, AM_ABI_MAJOR, AM_ABI_MINOR,
                vtable_min_size(file_kind));
    return FALSE;
  }
  return TRUE;
}

AmLoadedPlugin *
am_plugin_load_file(const char *path, GError **error)
{
  AmPluginKind kind;
  g_autofree char *name = NULL;
  if (!parse_file_name(path, &kind, &name)) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "file name is not <kind>-<name>.so with kind discovery, driver, store, sink, "
                "http or exporter");
    return NULL;
  }

  GModule *module = g_module_open(path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "cannot be loaded: %s", g_module_error());
    return NULL;
  }

  AmPluginGetInfoFunc get_info = NULL;
  if (!g_module_symbol(module, AM_PLUGIN_SYMBOL, (gpointer *)&get_info) || get_info == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "has no %s() symbol: not an antmon plugin",
                AM_PLUGIN_SYMBOL);
    g_module_close(module);
    return NULL;
  }

  const AmPluginInfo *info = get_info();
  if (info == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "%s() returned no descriptor",
                AM_PLUGIN_SYMBOL);
    g_module_close(module);
    return NULL;
  }
  if (!check_info(info, kind, name, error)) {
    g_module_close(module);
    return NULL;
  }

  AmLoadedPlugin *plugin = g_new0(AmLoadedPlugin, 1);
  plugin->path = g_strdup(path);
  plugin->module = module;
  plugin->info = info;
  return plugin;
}

void
am_loaded_plugin_free(AmLoadedPlugin *plugin)
{
  if (plugin == NULL)
    return;
  g_module_close(plugin->module);
  g_free(plugin->path);
  g_free(plugin);
}

static void
rejected_free(AmRejectedPlugin *r)
{
  g_free(r->path);
  g_free(r->reason);
  g_free(r);
}

static void
reject(AmPluginSet *set, const char *path, const char *reason)
{
  AmRejectedPlugin *r = g_new0(AmRejectedPlugin, 1);
  r->path = g_strdup(path);
  r->reason = g_strdup(reason);
  g_ptr_array_add(set->rejected, r);
  g_warning("plugin %s rejected: %s", path, reason);
}

static void
append_dirs(GPtrArray *dirs, const char *list)
{
  g_auto(GStrv) parts = g_strsplit_set(list, ":;", -1);
  for (guint i = 0; parts[i] != NULL; i++) {
    g_strstrip(parts[i]);
    if (parts[i][0] != '\0')
      g_ptr_array_add(dirs, g_strdup(parts[i]));
  }
}

char **
am_plugin_dirs(char **configured)
{
  GPtrArray *dirs = g_ptr_array_new();
  const char *env = g_getenv("ANTMON_PLUGIN_DIR");
  if (env != NULL)
    append_dirs(dirs, env);
  for (guint i = 0; configured != NULL && configured[i] != NULL; i++)
    g_ptr_array_add(dirs, g_strdup(configured[i]));
  g_ptr_array_add(dirs, g_strdup(ANTMON_PLUGINDIR));
  g_ptr_array_add(dirs, NULL);
  return (char **)g_ptr_array_free(dirs, FALSE);
}

const AmLoadedPlugin *
am_plugin_set_find(AmPluginSet *set, AmPluginKind kind, const char *name)
{
  for (guint i = 0; i < set->loaded->len; i++) {
    const AmLoadedPlugin *p = set->loaded->pdata[i];
    if (p->info->kind == kind && g_str_equal(p->info->name, name))
      return p;
  }
  return NULL;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* The "*.so" files of @dir in name order, so loading is reproducible. */
static GPtrArray *
list_plugin_files(const char *dir)
{
  GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (d == NULL)
    return files;
  const char *entry;
  while ((entry = g_dir_read_name(d)) != NULL)
    if (g_str_has_suffix(entry, ".so"))
      g_ptr_array_add(files, g_build_filename(dir, entry, NULL));
  g_ptr_array_sort(files, compare_names);
  return files;
}

static gboolean
dir_seen(GPtrArray *seen, const char *dir)
{
  g_autofree char *canonical = g_canonicalize_filename(dir, NULL);
  for (guint i = 0; i < seen->len; i++)
    if (g_str_equal(seen->pdata[i], canonical))
      return TRUE;
  g_ptr_array_add(seen, g_steal_pointer(&canonical));
  return FALSE;
}

AmPluginSet *
am_plugin_set_load(char **dirs)
{
  AmPluginSet *set = g_new0(AmPluginSet, 1);
  set->loaded = g_ptr_array_new_with_free_func((GDestroyNotify)am_loaded_plugin_free);
  set->rejected = g_ptr_array_new_with_free_func((GDestroyNotify)rejected_free);
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);

  for (guint d = 0; dirs != NULL && dirs[d] != NULL; d++) {
    if (dir_seen(seen, dirs[d]))
      continue;
    g_autoptr(GPtrArray) files = list_plugin_files(dirs[d]);
    for (guint i = 0; i < files->len; i++) {
      const char *path = files->pdata[i];
      g_autoptr(GError) error = NULL;
      AmLoadedPlugin *plugin = am_plugin_load_file(path, &error);
      if (plugin == NULL) {
        reject(set, path, error->message);
        continue;
      }
      const AmLoadedPlugin *earlier =
          am_plugin_set_find(set, plugin->info->kind, plugin->info->name);
      if (earlier != NULL) {
        g_autofree char *reason =
            g_strdup_printf("duplicate of %s, which was found first", earlier->path);
        reject(set, path, reason);
        am_loaded_plugin_free(plugin);
        continue;
      }
      g_debug("plugin %s: %s %s %s", path, am_plugin_kind_to_string(plugin->info->kind),
              plugin->info->name, plugin->info->version);
      g_ptr_array_add(set->loaded, plugin);
    }
  }
  return set;
}

void
am_plugin_set_free(AmPluginSet *set)
{
  if (set == NULL)
    return;
  g_ptr_array_unref(set->rejected);
  g_ptr_array_unref(set->loaded);
  g_free(set);
}

GPtrArray *
am_plugin_set_infos(AmPluginSet *set)
{
  GPtrArray *infos = g_ptr_array_new();
  for (guint i = 0; i < set->loaded->len; i++)
    g_ptr_array_add(infos, (gpointer)((AmLoadedPlugin *)set->loaded->pdata[i])->info);
  return infos;
}
