/* Finding and loading plugin shared objects, checking each descriptor
 * before anything in it is called. */
#pragma once

#include <antmon/plugin.h>

G_BEGIN_DECLS

typedef struct {
  char *path;               /* the .so file */
  GModule *module;          /* kept open for the daemon's lifetime */
  const AmPluginInfo *info; /* valid while module is open */
} AmLoadedPlugin;

typedef struct {
  char *path;
  char *reason; /* one line: why it was rejected */
} AmRejectedPlugin;

typedef struct {
  GPtrArray *loaded;   /* AmLoadedPlugin* */
  GPtrArray *rejected; /* AmRejectedPlugin* */
} AmPluginSet;

/* The plugin directories in search order: $ANTMON_PLUGIN_DIR (a ':' or ';'
 * list), then @configured (plugin_dir= in [core]), then the compiled-in
 * one. Missing directories are skipped silently. (transfer full) */
char **am_plugin_dirs(char **configured);

/* Loads every "<kind>-<name>.so" in @dirs. A file that fails a check is
 * added to rejected with its reason and logged once with g_warning; a later
 * file with the name of an already loaded plugin is rejected as a duplicate.
 * Never fails as a whole. */
AmPluginSet *am_plugin_set_load(char **dirs);
void am_plugin_set_free(AmPluginSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmPluginSet, am_plugin_set_free)

/* Loads one file and checks it. Returns NULL with AM_ERROR_ABI (ABI or
 * struct size), AM_ERROR_UNSUPPORTED (file name, kind, missing symbol) or
 * AM_ERROR_FAILED (dlopen failed). */
AmLoadedPlugin *am_plugin_load_file(const char *path, GError **error);
void am_loaded_plugin_free(AmLoadedPlugin *plugin);

/* Finds a loaded plugin by kind and name. (transfer none) */
const AmLoadedPlugin *am_plugin_set_find(AmPluginSet *set, AmPluginKind kind, const char *name);

/* The descriptors of every loaded plugin, for am_config_file_warn_unknown().
 * Returns: (transfer container) const AmPluginInfo*. */
GPtrArray *am_plugin_set_infos(AmPluginSet *set);

G_END_DECLS
