/* Loading antmon.ini as a whole (see am-config-file.h).
 *
 * The core's own keys are defined once, in known_keys[] below: the same
 * table drives parsing ([core] and every [miner:NAME]) and the unknown-key
 * warnings, so a key can never be parsed and yet reported as unknown, or
 * the other way round. Plugin groups are only checked here against each
 * plugin's sample_config; their values are validated by the plugin's own
 * create(), with the getters of antmon/config.h. */
#include "am-config-file.h"
#include <antmon/config.h>
#include <antmon/error.h>
#include <stddef.h>
#include <string.h>

#define MINER_PREFIX "miner:"
#define ALERT_PREFIX "alert:"
#define CREDENTIALS_PREFIX "credentials:"
#define SECONDS(n) ((guint64)(n)*1000)

/* A [miner:NAME] while it is parsed: the miner, plus what is not kept. */
typedef struct {
  AmStaticMiner miner;
  gboolean enabled;
  guint16 host_port; /* a port given in host= ("10.0.0.5:4029"), or 0 */
} MinerDraft;

/* How a known key is read; the field it fills is at KnownKey.offset. */
typedef enum {
  KEY_LIST,        /* char **, am_config_get_list */
  KEY_STRING,      /* char *, default def_text */
  KEY_LOG_LEVEL,   /* char *, one of log_levels[], default def_text */
  KEY_LOG_FORMAT,  /* char *, one of log_formats[], default def_text */
  KEY_DURATION,    /* guint64 ms, def / min / max */
  KEY_UINT,        /* guint, def / min / max */
  KEY_SIZE,        /* gint64 bytes, def / min / max */
  KEY_BOOL,        /* gboolean, def */
  KEY_SECRET,      /* char *, key= or key_file= */
  KEY_SECRET_FILE, /* the key_file= partner: known, read by its KEY_SECRET */
  KEY_MINER_HOST,  /* MinerDraft: required host, and the port it may carry */
  KEY_MINER_PORT,  /* MinerDraft: port, defaulting to host='s port, else def */
} KeyType;

typedef struct {
  const char *section; /* "core" for [core], "miner" for every [miner:NAME] */
  const char *key;
  KeyType type;
  gsize offset; /* into AmCoreConfig ("core") or MinerDraft ("miner") */
  const char *def_text;
  guint64 def, min, max;
} KnownKey;

/* Parsed in this order: host= must come before port=. */
static const KnownKey known_keys[] = {
    {"core", "plugin_dir", KEY_LIST, offsetof(AmCoreConfig, plugin_dirs)},
    {"core", "state_dir", KEY_STRING, offsetof(AmCoreConfig, state_dir), "./var"},
    {"core", "log_level", KEY_LOG_LEVEL, offsetof(AmCoreConfig, log_level), "message"},
    {"core", "log_format", KEY_LOG_FORMAT, offsetof(AmCoreConfig, log_format), "text"},
    {"core", "log_file", KEY_STRING, offsetof(AmCoreConfig, log_file)},
    {"core", "interval", KEY_DURATION, offsetof(AmCoreConfig, interval_ms), NULL, SECONDS(30),
     SECONDS(1), SECONDS(24 * 3600)},
    {"core", "poll_timeout", KEY_DURATION, offsetof(AmCoreConfig, poll_timeout_ms), NULL,
     SECONDS(10), 100, SECONDS(5 * 60)},
    {"core", "max_inflight", KEY_UINT, offsetof(AmCoreConfig, max_inflight), NULL, 256, 1, 65535},
    {"core", "offline_after", KEY_UINT, offsetof(AmCoreConfig, offline_after), NULL, 3, 1, 1000},
    {"core", "memory_budget", KEY_SIZE, offsetof(AmCoreConfig, memory_budget), NULL,
     AM_MEMORY_BUDGET_DEFAULT, 16 * 1024 * 1024, G_GUINT64_CONSTANT(1) << 40},

    {"miner", "host", KEY_MINER_HOST, offsetof(MinerDraft, miner.host)},
    {"miner", "port", KEY_MINER_PORT, offsetof(MinerDraft, miner.port), NULL, 4028, 1, 65535},
    {"miner", "driver", KEY_STRING, offsetof(MinerDraft, miner.driver)},
    {"miner", "username", KEY_STRING, offsetof(MinerDraft, miner.username)},
    {"miner", "password", KEY_SECRET, offsetof(MinerDraft, miner.password)},
    {"miner", "password_file", KEY_SECRET_FILE},
    {"miner", "enabled", KEY_BOOL, offsetof(MinerDraft, enabled), NULL, TRUE},
};

/* GLib's log levels, by the names G_MESSAGES_DEBUG users know. */
static const char *const log_levels[] = {"error", "critical", "warning", "message",
                                         "info",  "debug",    NULL};
/* Lines of text, or one JSON object per line (core/base/am-log.h). */
static const char *const log_formats[] = {"text", "json", NULL};

/* ---- the objects ------------------------------------------------------- */

static void
static_miner_free(AmStaticMiner *miner)
{
  if (miner == NULL)
    return;
  g_free(miner->name);
  g_free(miner->host);
  g_free(miner->driver);
  g_free(miner->username);
  g_free(miner->password);
  g_free(miner);
}

static void
miner_draft_clear(MinerDraft *draft)
{
  g_free(draft->miner.name);
  g_free(draft->miner.host);
  g_free(draft->miner.driver);
  g_free(draft->miner.username);
  g_free(draft->miner.password);
  memset(draft, 0, sizeof *draft);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(MinerDraft, miner_draft_clear)

void
am_config_file_free(AmConfigFile *config)
{
  if (config == NULL)
    return;
  g_free(config->path);
  g_clear_pointer(&config->kf, g_key_file_unref);
  g_strfreev(config->core.plugin_dirs);
  g_free(config->core.state_dir);
  g_free(config->core.log_level);
  g_free(config->core.log_format);
  g_free(config->core.log_file);
  g_clear_pointer(&config->core.miners, g_ptr_array_unref);
  g_clear_pointer(&config->credentials, am_credentials_free);
  g_free(config);
}

void
am_config_file_prefix_error(AmConfigFile *config, GError **error)
{
  if (error != NULL && g_error_matches(*error, AM_ERROR, AM_ERROR_CONFIG))
    g_prefix_error(error, "%s: ", config->path);
}

/* ---- parsing one key --------------------------------------------------- */

/* A key whose value is one of @choices (NULL-terminated), in any case. */
static char *
get_choice(GKeyFile *kf, const char *group, const KnownKey *k, const char *const *choices,
           GError **error)
{
  g_autofree char *value = am_config_get_string(kf, group, k->key, k->def_text, error);
  if (value == NULL)
    return NULL;
  for (guint i = 0; choices[i] != NULL; i++)
    if (g_ascii_strcasecmp(value, choices[i]) == 0)
      return g_strdup(choices[i]);

  g_autofree char *names = g_strjoinv(", ", (char **)choices);
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] %s=%s: expected one of %s", group, k->key,
              value, names);
  return NULL;
}

static void
get_miner_host(GKeyFile *kf, const char *group, const KnownKey *k, MinerDraft *draft,
               GError **error)
{
  if (!am_config_get_host_port(kf, group, k->key, NULL, 0, &draft->miner.host, &draft->host_port,
                               error))
    return;
  if (draft->miner.host == NULL)
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] %s is missing: expected %s=ADDRESS or %s=ADDRESS:PORT", group, k->key, k->key,
                k->key);
}

/* port= wins over a port written in host=, which wins over the default. */
static void
get_miner_port(GKeyFile *kf, const char *group, const KnownKey *k, MinerDraft *draft,
               GError **error)
{
  guint fallback = draft->host_port != 0 ? draft->host_port : (guint)k->def;
  guint port;
  if (am_config_get_uint(kf, group, k->key, fallback, k->min, k->max, &port, error))
    draft->miner.port = (guint16)port;
}

/* Reads @k from @group into @base (an AmCoreConfig or a MinerDraft). */
static gboolean
parse_key(GKeyFile *kf, const char *group, const KnownKey *k, gpointer base, GError **error)
{
  gpointer field = G_STRUCT_MEMBER_P(base, k->offset);
  /* Getters that may legitimately return NULL set no error then, so one
   * local error tells failure apart for every type. */
  g_autoptr(GError) local = NULL;
  switch (k->type) {
  case KEY_LIST:
    *(char ***)field = am_config_get_list(kf, group, k->key, &local);
    break;
  case KEY_STRING:
    *(char **)field = am_config_get_string(kf, group, k->key, k->def_text, &local);
    break;
  case KEY_LOG_LEVEL:
    *(char **)field = get_choice(kf, group, k, log_levels, &local);
    break;
  case KEY_LOG_FORMAT:
    *(char **)field = get_choice(kf, group, k, log_formats, &local);
    break;
  case KEY_DURATION:
    am_config_get_duration_ms(kf, group, k->key, k->def, k->min, k->max, field, &local);
    break;
  case KEY_UINT:
    am_config_get_uint(kf, group, k->key, k->def, k->min, k->max, field, &local);
    break;
  case KEY_BOOL:
    am_config_get_bool(kf, group, k->key, k->def, field, &local);
    break;
  case KEY_SIZE:
    am_config_get_size(kf, group, k->key, (gint64)k->def, (gint64)k->min, (gint64)k->max, field,
                       &local);
    break;
  case KEY_SECRET:
    *(char **)field = am_config_get_secret(kf, group, k->key, &local);
    break;
  case KEY_SECRET_FILE:
    break;
  case KEY_MINER_HOST:
    get_miner_host(kf, group, k, base, &local);
    break;
  case KEY_MINER_PORT:
    get_miner_port(kf, group, k, base, &local);
    break;
  }
  if (local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  return TRUE;
}

/* Reads every known key of @section from @group; stops at the first error. */
static gboolean
parse_section(GKeyFile *kf, const char *group, const char *section, gpointer base, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS(known_keys); i++)
    if (g_str_equal(known_keys[i].section, section) &&
        !parse_key(kf, group, &known_keys[i], base, error))
      return FALSE;
  return TRUE;
}

/* ---- [miner:NAME] ------------------------------------------------------ */

/* Validates @group fully (even a disabled miner must be well-formed) and
 * sets @out to the miner, or to NULL when it has enabled=false. */
static gboolean
parse_miner(GKeyFile *kf, const char *group, AmStaticMiner **out, GError **error)
{
  const char *name = group + strlen(MINER_PREFIX);
  if (name[0] == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] expected a name after '%s'", group,
                MINER_PREFIX);
    return FALSE;
  }
  g_auto(MinerDraft) draft = {0};
  draft.miner.name = g_strdup(name);
  if (!parse_section(kf, group, "miner", &draft, error))
    return FALSE;

  *out = NULL;
  if (draft.enabled) {
    *out = g_memdup2(&draft.miner, sizeof draft.miner);
    memset(&draft.miner, 0, sizeof draft.miner); /* now owned by *out */
  }
  return TRUE;
}

static gboolean
parse_miners(GKeyFile *kf, GPtrArray *miners, GError **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++) {
    if (!g_str_has_prefix(groups[i], MINER_PREFIX))
      continue;
    AmStaticMiner *miner = NULL;
    if (!parse_miner(kf, groups[i], &miner, error))
      return FALSE;
    if (miner != NULL)
      g_ptr_array_add(miners, miner);
  }
  return TRUE;
}

/* ---- [credentials:NAME] ------------------------------------------------ */

/* The groups, plus each [miner:NAME] login, keyed by the address the miner
 * will have (am_miner_get_address), so that a miner's own login wins. */
static AmCredentials *
load_credentials(AmConfigFile *config, GError **error)
{
  AmCredentials *c = am_credentials_load(config->kf, config->path, error);
  GPtrArray *miners = config->core.miners;
  for (guint i = 0; c != NULL && i < miners->len; i++) {
    const AmStaticMiner *m = miners->pdata[i];
    if (m->username == NULL && m->password == NULL)
      continue;
    g_autoptr(AmMiner) miner = am_miner_new(m->host, m->port);
    am_credentials_add_own(c, am_miner_get_address(miner), m->username, m->password);
  }
  return c;
}

/* ---- loading ----------------------------------------------------------- */

/* Offsets just past each line of @content (the last may lack its '\n'). */
static GArray *
line_ends(const char *content, gsize len)
{
  GArray *ends = g_array_new(FALSE, FALSE, sizeof(gsize));
  for (gsize i = 0; i < len; i++)
    if (content[i] == '\n' || i + 1 == len) {
      gsize end = i + 1;
      g_array_append_val(ends, end);
    }
  return ends;
}

static gboolean
prefix_parses(const char *content, gsize len)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  return g_key_file_load_from_data(kf, content, len, G_KEY_FILE_NONE, NULL);
}

/* GKeyFile's parse errors quote the bad line but not its number. GKeyFile
 * parses line by line, so the shortest prefix of whole lines that fails to
 * load ends with the bad line: a binary search finds it with GKeyFile's own
 * grammar. Returns the 1-based line, or 0 if it cannot be found. */
static guint
find_bad_line(const char *path)
{
  g_autofree char *content = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &content, &len, NULL))
    return 0;
  g_autoptr(GArray) ends = line_ends(content, len);
  if (ends->len == 0 || prefix_parses(content, g_array_index(ends, gsize, ends->len - 1)))
    return 0;

  guint lo = 1, hi = ends->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (prefix_parses(content, g_array_index(ends, gsize, mid - 1)))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Reads the file; errors are "FILE: cannot read: ..." or "FILE:LINE: ...". */
static gboolean
load_key_file(AmConfigFile *config, GError **error)
{
  g_autoptr(GError) local = NULL;
  if (g_key_file_load_from_file(config->kf, config->path, G_KEY_FILE_NONE, &local))
    return TRUE;
  if (local->domain == G_FILE_ERROR) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "%s: cannot read: %s", config->path,
                local->message);
    return FALSE;
  }
  guint line = find_bad_line(config->path);
  if (line > 0)
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "%s:%u: %s", config->path, line, local->message);
  else
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "%s: %s", config->path, local->message);
  return FALSE;
}

/* Without state_dir=, a service that systemd gave a StateDirectory= keeps its
 * state there (/var/lib/antmon); anything else keeps it in ./var. */
static void
default_state_dir(AmConfigFile *config)
{
  const char *given = g_getenv("STATE_DIRECTORY");
  if (g_key_file_has_key(config->kf, "core", "state_dir", NULL) || given == NULL || *given == '\0')
    return;
  /* systemd passes one path per StateDirectory= entry, ':'-separated. */
  g_auto(GStrv) dirs = g_strsplit(given, ":", 2);
  g_free(config->core.state_dir);
  config->core.state_dir = g_strdup(dirs[0]);
}

AmConfigFile *
am_config_file_load(const char *path, GError **error)
{
  g_return_val_if_fail(path != NULL, NULL);
  g_autoptr(AmConfigFile) config = g_new0(AmConfigFile, 1);
  config->path = g_strdup(path);
  config->kf = g_key_file_new();
  config->core.miners = g_ptr_array_new_with_free_func((GDestroyNotify)static_miner_free);

  if (!load_key_file(config, error))
    return NULL;
  if (!parse_section(config->kf, "core", "core", &config->core, error) ||
      !parse_miners(config->kf, config->core.miners, error)) {
    am_config_file_prefix_error(config, error);
    return NULL;
  }
  default_state_dir(config);
  /* Its messages already start with the path. */
  config->credentials = load_credentials(config, error);
  if (config->credentials == NULL)
    return NULL;
  return g_steal_pointer(&config);
}

/* ---- group names ------------------------------------------------------- */

static gboolean
is_plugin_kind(const char *text)
{
  for (AmPluginKind k = AM_PLUGIN_KIND_DISCOVERY; k <= AM_PLUGIN_KIND_EXPORTER; k++)
    if (g_str_equal(text, am_plugin_kind_to_string(k)))
      return TRUE;
  return FALSE;
}

static void
set_out(char **out, const char *value)
{
  if (out != NULL)
    *out = g_strdup(value);
}

gboolean
am_config_split_group(const char *group, char **kind, char **name, char **instance)
{
  g_auto(GStrv) parts = g_strsplit(group != NULL ? group : "", ":", 4);
  guint n = g_strv_length(parts);
  gboolean ok = (n == 2 || n == 3) && is_plugin_kind(parts[0]) && parts[1][0] != '\0' &&
                (n == 2 || parts[2][0] != '\0');
  set_out(kind, ok ? parts[0] : NULL);
  set_out(name, ok ? parts[1] : NULL);
  set_out(instance, ok && n == 3 ? parts[2] : NULL);
  return ok;
}

/* "core", "miner", "alert" or "credentials" for the core's own groups,
 * else NULL. */
static const char *
core_section(const char *group)
{
  if (g_str_equal(group, "core"))
    return "core";
  if (g_str_has_prefix(group, MINER_PREFIX))
    return "miner";
  if (g_str_has_prefix(group, ALERT_PREFIX))
    return "alert";
  if (g_str_has_prefix(group, CREDENTIALS_PREFIX))
    return "credentials";
  if (g_str_equal(group, "actions"))
    return "actions";
  return NULL;
}

/* ---- unknown groups and keys ------------------------------------------- */

/* Every key an [alert:NAME] group may hold, whatever its type= (the rules
 * in am-alert-rules.c warn about a key that belongs to another type), and
 * whether "KEY.MODEL-GLOB" may override it per model. A test keeps this
 * table and the rules' own lists in step. */
static const struct {
  const char *key;
  gboolean per_model;
} alert_keys[] = {
    {"type", FALSE},
    {"enabled", FALSE},
    {"scope", FALSE},
    {"severity", FALSE},
    {"hits", FALSE},
    {"cooldown", FALSE},
    {"clear", TRUE},
    {"sensor", FALSE},
    {"warning", TRUE},
    {"critical", TRUE},
    {"baseline", FALSE},
    {"threshold", TRUE},
    {"window", FALSE},
    {"warmup", FALSE},
    {"after", FALSE},
    {"chains", FALSE},
    {"fans", FALSE},
    {"max_failed_chips", TRUE},
    {"max_hw_error_rate", TRUE},
    {"no_alive_pool", FALSE},
    {"max_rejected_ratio", TRUE},
    {"min_shares", FALSE},
};

/* The one place where [alert:NAME] keys are checked: "KEY" or, for the
 * numbers, "KEY.MODEL-GLOB" (critical.Antminer S19*=95). */
static gboolean
alert_key_known(const char *key)
{
  const char *dot = strchr(key, '.');
  gsize stem = dot != NULL ? (gsize)(dot - key) : strlen(key);
  if (dot != NULL && dot[1] == '\0')
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(alert_keys); i++)
    if (strlen(alert_keys[i].key) == stem && strncmp(alert_keys[i].key, key, stem) == 0)
      return dot == NULL || alert_keys[i].per_model;
  return FALSE;
}

/* Every key a [credentials:NAME] group may hold (am-credentials.c reads
 * them; username= is the [miner:NAME] spelling of user=). */
static const char *const credentials_keys[] = {
    "hosts", "model", "driver", "user", "username", "password", "password_file", "enabled",
};

static gboolean
core_key_known(const char *section, const char *key)
{
  if (g_str_equal(section, "alert"))
    return alert_key_known(key);
  if (g_str_equal(section, "credentials")) {
    for (guint i = 0; i < G_N_ELEMENTS(credentials_keys); i++)
      if (g_str_equal(credentials_keys[i], key))
        return TRUE;
    return FALSE;
  }
  if (g_str_equal(section, "actions")) /* read by core/actions/am-actions.c */
    return g_str_equal(key, "min_interval") || g_str_equal(key, "confirm_timeout") ||
           g_str_equal(key, "confirm_poll");
  for (guint i = 0; i < G_N_ELEMENTS(known_keys); i++)
    if (g_str_equal(known_keys[i].section, section) && g_str_equal(known_keys[i].key, key))
      return TRUE;
  return FALSE;
}

/* The keys of a plugin's group: those of the one group in its sample.ini,
 * "enabled", and "X_file" for any X, because am_config_get_secret() reads
 * X_file and a sample lists a secret only once. */
static gboolean
plugin_key_known(GKeyFile *sample, const char *sample_group, const char *key)
{
  if (g_str_equal(key, "enabled"))
    return TRUE;
  if (sample_group == NULL)
    return FALSE;
  if (g_key_file_has_key(sample, sample_group, key, NULL))
    return TRUE;
  if (!g_str_has_suffix(key, "_file"))
    return FALSE;
  g_autofree char *stem = g_strndup(key, strlen(key) - strlen("_file"));
  return g_key_file_has_key(sample, sample_group, stem, NULL);
}

static void
warn_key(AmConfigFile *config, const char *group, const char *key)
{
  g_warning("%s: [%s] unknown key '%s'", config->path, group, key);
}

static guint
warn_core_keys(AmConfigFile *config, const char *group, const char *section)
{
  guint warnings = 0;
  g_auto(GStrv) keys = g_key_file_get_keys(config->kf, group, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!core_key_known(section, keys[i])) {
      warn_key(config, group, keys[i]);
      warnings++;
    }
  return warnings;
}

static guint
warn_plugin_keys(AmConfigFile *config, const char *group, const AmPluginInfo *info)
{
  g_autoptr(GKeyFile) sample = g_key_file_new();
  g_autoptr(GError) error = NULL;
  if (info->sample_config != NULL &&
      !g_key_file_load_from_data(sample, info->sample_config, -1, G_KEY_FILE_NONE, &error)) {
    g_warning("%s: [%s] keys not checked: the %s plugin's sample_config does not load: %s",
              config->path, group, info->name, error->message);
    return 1;
  }
  g_autofree char *sample_group = g_key_file_get_start_group(sample);

  guint warnings = 0;
  g_auto(GStrv) keys = g_key_file_get_keys(config->kf, group, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!plugin_key_known(sample, sample_group, keys[i])) {
      warn_key(config, group, keys[i]);
      warnings++;
    }
  return warnings;
}

static const AmPluginInfo *
find_plugin(GPtrArray *plugins, const char *kind, const char *name)
{
  for (guint i = 0; plugins != NULL && i < plugins->len; i++) {
    const AmPluginInfo *info = plugins->pdata[i];
    if (g_strcmp0(am_plugin_kind_to_string(info->kind), kind) == 0 &&
        g_strcmp0(info->name, name) == 0)
      return info;
  }
  return NULL;
}

static guint
warn_plugin_group(AmConfigFile *config, const char *group, GPtrArray *plugins)
{
  g_autofree char *kind = NULL;
  g_autofree char *name = NULL;
  if (!am_config_split_group(group, &kind, &name, NULL)) {
    g_warning("%s: [%s] unknown group: expected [core], [miner:NAME], [alert:NAME] or "
              "[KIND:PLUGIN] with KIND one of discovery, driver, store, sink, http",
              config->path, group);
    return 1;
  }
  const AmPluginInfo *info = find_plugin(plugins, kind, name);
  if (info == NULL) {
    g_warning("%s: [%s] no %s plugin named '%s' is installed", config->path, group, kind, name);
    return 1;
  }
  return warn_plugin_keys(config, group, info);
}

/* A [credentials:NAME] driver= naming no installed driver would never
 * match: most likely a typo ("antminer_web"). Not checked without a
 * plugin list. */
static guint
warn_credentials_drivers(AmConfigFile *config, const char *group, GPtrArray *plugins)
{
  if (plugins == NULL)
    return 0;
  g_auto(GStrv) drivers = am_config_get_list(config->kf, group, "driver", NULL);
  guint warnings = 0;
  for (guint i = 0; drivers != NULL && drivers[i] != NULL; i++) {
    g_autofree char *name = g_ascii_strdown(drivers[i], -1);
    if (find_plugin(plugins, "driver", name) == NULL) {
      g_warning("%s: [%s] driver=%s: no driver plugin named '%s' is installed", config->path, group,
                drivers[i], name);
      warnings++;
    }
  }
  return warnings;
}

guint
am_config_file_warn_unknown(AmConfigFile *config, GPtrArray *plugins)
{
  g_return_val_if_fail(config != NULL, 0);
  guint warnings = 0;
  g_auto(GStrv) groups = g_key_file_get_groups(config->kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++) {
    const char *section = core_section(groups[i]);
    warnings += section != NULL ? warn_core_keys(config, groups[i], section)
                                : warn_plugin_group(config, groups[i], plugins);
    if (g_strcmp0(section, "credentials") == 0)
      warnings += warn_credentials_drivers(config, groups[i], plugins);
  }
  return warnings;
}
