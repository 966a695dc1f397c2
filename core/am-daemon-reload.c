/* SIGHUP: the log file reopened, then what can change while running read
 * again (see am_daemon_reload() in am-daemon-private.h). Polls in flight
 * go on: only the miners whose group changed are removed or added. */
#include "am-context-private.h"
#include "am-daemon-private.h"
#include "am-log.h"

gboolean
am_daemon_apply_log_settings(const AmCoreConfig *core, GError **error)
{
  GLogLevelFlags level = G_LOG_LEVEL_MESSAGE;
  if (am_log_level_from_string(core->log_level, &level))
    am_log_init(level);
  am_log_set_format(core->log_format);
  return am_log_set_file(core->log_file, error);
}

/* Groups read again on SIGHUP; in any other group a change needs a
 * restart, except the [core] log keys. */
static gboolean
group_reloads(const char *group)
{
  static const char *const prefixes[] = {"miner:", "alert:", "sink:", "credentials:"};
  for (gsize i = 0; i < G_N_ELEMENTS(prefixes); i++)
    if (g_str_has_prefix(group, prefixes[i]))
      return TRUE;
  return FALSE;
}

static gboolean
key_reloads(const char *group, const char *key)
{
  return g_str_equal(group, "core") &&
         (g_str_equal(key, "log_level") || g_str_equal(key, "log_format") ||
          g_str_equal(key, "log_file"));
}

/* The raw value of @group/@key, or NULL when absent. (transfer full) */
static char *
raw_value(GKeyFile *kf, const char *group, const char *key)
{
  return g_key_file_get_value(kf, group, key, NULL);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* Adds @kf's groups (or @group's keys) to @set. */
static void
add_names(GHashTable *set, GKeyFile *kf, const char *group)
{
  g_auto(GStrv) names =
      group == NULL ? g_key_file_get_groups(kf, NULL) : g_key_file_get_keys(kf, group, NULL, NULL);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    g_hash_table_add(set, g_strdup(names[i]));
}

/* The names in @a or @b, sorted so the log reads the same every time. */
static GPtrArray *
union_names(GKeyFile *a, GKeyFile *b, const char *group)
{
  g_autoptr(GHashTable) set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  add_names(set, a, group);
  add_names(set, b, group);
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, set);
  while (g_hash_table_iter_next(&it, &key, NULL))
    g_ptr_array_add(out, g_strdup(key));
  g_ptr_array_sort(out, compare_names);
  return out;
}

/* Logs each changed key of @group: applied, or needing a restart. Returns
 * whether anything in the group changed. */
static gboolean
report_group(GKeyFile *old_kf, GKeyFile *new_kf, const char *group, guint *restart)
{
  g_autoptr(GPtrArray) keys = union_names(old_kf, new_kf, group);
  gboolean changed = FALSE;
  for (guint i = 0; i < keys->len; i++) {
    const char *key = keys->pdata[i];
    g_autofree char *before = raw_value(old_kf, group, key);
    g_autofree char *after = raw_value(new_kf, group, key);
    if (g_strcmp0(before, after) == 0)
      continue;
    changed = TRUE;
    if (group_reloads(group))
      continue; /* reported once for the whole group below */
    if (key_reloads(group, key)) {
      g_message("reload: [%s] %s=%s applied", group, key, after != NULL ? after : "(default)");
    } else {
      g_warning("reload: [%s] %s= changed (%s -> %s): needs a restart to take effect", group, key,
                before != NULL ? before : "(unset)", after != NULL ? after : "(unset)");
      (*restart)++;
    }
  }
  return changed;
}

/* Says what changed between the running configuration and the new one. */
static void
report_changes(GKeyFile *old_kf, GKeyFile *new_kf)
{
  g_autoptr(GPtrArray) groups = union_names(old_kf, new_kf, NULL);
  guint restart = 0, reloaded = 0;
  for (guint i = 0; i < groups->len; i++) {
    const char *group = groups->pdata[i];
    if (!report_group(old_kf, new_kf, group, &restart) || !group_reloads(group))
      continue;
    reloaded++;
    gboolean had = g_key_file_has_group(old_kf, group), has = g_key_file_has_group(new_kf, group);
    g_message("reload: [%s] %s", group, !had ? "added" : !has ? "removed" : "changed");
  }
  if (reloaded == 0 && restart == 0)
    g_message("reload: no change");
  else if (restart > 0)
    g_warning("reload: %u change%s wait%s for a restart (systemctl restart antmon)", restart,
              restart == 1 ? "" : "s", restart == 1 ? "s" : "");
}

/* New sink instances and alert rules from @fresh, swapped in for the old
 * ones; FALSE (nothing changed) when a group in @fresh is wrong. */
static gboolean
reload_alerts(AmDaemon *d, AmConfigFile *fresh, GError **error)
{
  g_autoptr(AmInstances) sinks = am_instances_new();
  am_instances_create_kind(sinks, d->plugins, AM_PLUGIN_KIND_SINK, d->ctx, fresh->kf, fresh->path);
  if (sinks->config_failed > 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "%s: %u sink group%s with bad values",
                fresh->path, sinks->config_failed, sinks->config_failed == 1 ? "" : "s");
    return FALSE;
  }
  g_autoptr(GPtrArray) sink_list = am_instances_of_kind(sinks, AM_PLUGIN_KIND_SINK);
  AmAlerts *alerts = am_alerts_new(fresh->kf, sink_list, d->store, error);
  if (alerts == NULL) {
    am_config_file_prefix_error(fresh, error);
    return FALSE;
  }
  /* Unhook the old parts first: freeing the alerts delivers what they hold
   * and runs the main loop meanwhile (see am_daemon_free()). */
  AmAlerts *old = d->alerts;
  d->alerts = alerts;
  d->ctx->alerts = alerts;
  am_alerts_free(old);
  /* The old sink instances are destroyed once the new ones are in place
   * (an explicit free: clang calls a g_autoptr never read "unused"). */
  AmInstances *old_sinks = am_instances_take_kind(d->instances, AM_PLUGIN_KIND_SINK);
  am_instances_move_all(d->instances, sinks);
  g_ptr_array_unref(d->sinks);
  d->sinks = am_instances_of_kind(d->instances, AM_PLUGIN_KIND_SINK);
  am_instances_free(old_sinks);
  return TRUE;
}

static const AmStaticMiner *
find_miner(AmConfigFile *config, const char *name)
{
  for (guint i = 0; i < config->core.miners->len; i++) {
    const AmStaticMiner *m = config->core.miners->pdata[i];
    if (g_str_equal(m->name, name))
      return m;
  }
  return NULL;
}

static gboolean
same_miner(const AmStaticMiner *a, const AmStaticMiner *b)
{
  return g_str_equal(a->host, b->host) && a->port == b->port &&
         g_strcmp0(a->driver, b->driver) == 0 && g_strcmp0(a->username, b->username) == 0 &&
         g_strcmp0(a->password, b->password) == 0;
}

static char *
miner_address(const AmStaticMiner *m)
{
  g_autoptr(AmMiner) miner = am_miner_new(m->host, m->port);
  return g_strdup(am_miner_get_address(miner));
}

/* Removes the static miners that are gone from @fresh or changed there;
 * the caller then adds @fresh's miners (the scheduler keeps the entries
 * that are still there, with their history and any poll in flight). */
static void
remove_changed_miners(AmDaemon *d, AmConfigFile *old, AmConfigFile *fresh)
{
  for (guint i = 0; i < old->core.miners->len; i++) {
    const AmStaticMiner *m = old->core.miners->pdata[i];
    const AmStaticMiner *now = find_miner(fresh, m->name);
    if (now != NULL && same_miner(m, now))
      continue;
    g_autofree char *address = miner_address(m);
    AmMinerEntry *e = am_scheduler_lookup(d->scheduler, address);
    if (e != NULL && g_strcmp0(e->source, "static") == 0)
      am_scheduler_remove(d->scheduler, address);
  }
}

void
am_daemon_reload(AmDaemon *d)
{
  g_message("SIGHUP: reopening the log and reloading %s", d->config->path);
  g_autoptr(GError) error = NULL;
  /* Reopened first, even when the new file turns out to be wrong:
   * logrotate sends SIGHUP for this alone. */
  if (!am_log_set_file(d->config->core.log_file, &error)) {
    g_warning("reload: log_file: %s", error->message);
    g_clear_error(&error);
  }
  g_autoptr(AmConfigFile) fresh = am_config_file_load(d->config->path, &error);
  if (fresh == NULL || !reload_alerts(d, fresh, &error)) {
    g_warning("reload: %s; nothing changed", error->message);
    return;
  }
  g_autoptr(GPtrArray) infos = am_plugin_set_infos(d->plugins);
  am_config_file_warn_unknown(fresh, infos);
  if (!am_daemon_apply_log_settings(&fresh->core, &error))
    g_warning("reload: [core] log_file=: %s; logging where it did", error->message);
  report_changes(d->config->kf, fresh->kf);
  remove_changed_miners(d, d->config, fresh);
  am_daemon_add_static_miners(d, fresh);
  d->config = fresh;
  g_ptr_array_add(d->reloaded, g_steal_pointer(&fresh));
}
