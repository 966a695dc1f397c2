/* Loading antmon.ini as a whole: parse, expand, validate the core's own
 * groups, and warn about groups and keys nobody knows. (Plugins read their
 * own groups with the getters in antmon/config.h.) */
#pragma once

#include "am-credentials.h"
#include <antmon/plugin.h>

G_BEGIN_DECLS

/* One [miner:NAME] group: a miner configured by hand. */
typedef struct {
  char *name;
  char *host;
  guint16 port;   /* default 4028 */
  char *driver;   /* driver= pin, or NULL */
  char *username; /* for web APIs, or NULL */
  char *password; /* password= or password_file=, or NULL */
} AmStaticMiner;

/* The [core] group, every key with its default applied. */
typedef struct {
  char **plugin_dirs;      /* plugin_dir= ';' list (may be empty) */
  char *state_dir;         /* state_dir=, default $STATE_DIRECTORY, else "./var" */
  char *log_level;         /* "error" "warning" "message" "info" "debug", default "message" */
  char *log_format;        /* log_format=, "text" (default) or "json" */
  char *log_file;          /* log_file=, or NULL: stderr (the journal under systemd) */
  guint64 interval_ms;     /* interval=, default 30 s, 1 s .. 1 d */
  guint64 poll_timeout_ms; /* poll_timeout=, default 10 s, 100 ms .. 5 min */
  guint max_inflight;      /* max_inflight=, default 256, 1 .. 65535 */
  guint offline_after;     /* offline_after=, default 3, 1 .. 1000 */
  gint64 memory_budget;    /* memory_budget= bytes, default 64 MiB */
  GPtrArray *miners;       /* AmStaticMiner*, from [miner:NAME] groups */
} AmCoreConfig;

typedef struct {
  char *path;
  GKeyFile *kf;
  AmCoreConfig core;
  /* [credentials:NAME] groups, and the [miner:NAME] logins that win over
   * them: am_credentials_apply(config->credentials, miner, model, driver)
   * sets a miner's login (see am-credentials.h). */
  AmCredentials *credentials;
} AmConfigFile;

/* Reads and parses @path, validates [core], every [miner:NAME] and every
 * [credentials:NAME].
 * A syntax error or bad value: NULL with AM_ERROR_CONFIG whose message
 * starts with the file path ("antmon.ini: [core] interval=abc: expected a
 * duration such as 30s, 5m"). */
AmConfigFile *am_config_file_load(const char *path, GError **error);
void am_config_file_free(AmConfigFile *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmConfigFile, am_config_file_free)

/* Warns (g_warning, one line each, naming file, group and key) about groups
 * that are neither core groups nor "<kind>:<plugin>[:instance]" of a plugin
 * in @plugins (const AmPluginInfo*), and about keys not known to the core
 * or not present in the plugin's sample_config (plus "enabled").
 * Returns the number of warnings. */
guint am_config_file_warn_unknown(AmConfigFile *config, GPtrArray *plugins);

/* Splits a plugin group name "kind:name[:instance]". Returns FALSE for
 * anything else (including core groups). Outputs are (transfer full). */
gboolean am_config_split_group(const char *group, char **kind, char **name, char **instance);

/* Prefixes an AM_ERROR_CONFIG message with the config path ("FILE: "). */
void am_config_file_prefix_error(AmConfigFile *config, GError **error);

G_END_DECLS
