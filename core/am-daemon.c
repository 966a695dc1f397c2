/* The daemon's lifetime: start in dependency order, stop in reverse. */
#include "am-daemon.h"
#include "am-allocator.h"
#include "am-context-private.h"
#include "am-daemon-private.h"
#include "am-process.h"
#include "am-store-queue.h"
#include "am-workers.h"
#include <antmon/config.h>
#include <antmon/error.h>
#include <errno.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

/* Instances are created in this order and destroyed in reverse: drivers
 * and stores before anything that produces or reads data, HTTP last. */
static const AmPluginKind start_order[] = {
    AM_PLUGIN_KIND_DRIVER,   AM_PLUGIN_KIND_STORE, AM_PLUGIN_KIND_SINK,
    AM_PLUGIN_KIND_EXPORTER, AM_PLUGIN_KIND_HTTP,  AM_PLUGIN_KIND_DISCOVERY,
};

/* Heap pages freed between polls (replies, JSON trees, API answers) go
 * back to the system once a minute, so RSS follows what is in use; then
 * RSS is checked against [core] memory_budget=, with a warning at most
 * hourly. */
#define TRIM_INTERVAL_S 60

AmDaemon *
am_daemon_new(AmConfigFile *config, AmPluginSet *plugins)
{
  AmDaemon *d = g_new0(AmDaemon, 1);
  d->config = config;
  d->plugins = plugins;
  d->loop = g_main_loop_new(NULL, FALSE);
  d->reloaded = g_ptr_array_new_with_free_func((GDestroyNotify)am_config_file_free);
  return d;
}

AmScheduler *
am_daemon_get_scheduler(AmDaemon *d)
{
  return d->scheduler;
}

static gboolean
make_state_dir(const char *dir, GError **error)
{
  if (g_mkdir_with_parents(dir, 0750) != 0) {
    int saved = errno;
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "cannot create state directory %s: %s", dir,
                g_strerror(saved));
    return FALSE;
  }
  return TRUE;
}

void
am_daemon_add_static_miners(AmDaemon *d, AmConfigFile *config)
{
  GPtrArray *miners = config->core.miners;
  for (guint i = 0; miners != NULL && i < miners->len; i++) {
    AmStaticMiner *m = miners->pdata[i];
    g_autoptr(AmMiner) miner = am_miner_new(m->host, m->port);
    am_miner_set_name(miner, m->name);
    am_miner_set_driver_pin(miner, m->driver);
    am_miner_set_credentials(miner, m->username, m->password);
    am_credentials_apply(config->credentials, miner, NULL, m->driver);
    am_scheduler_add(d->scheduler, miner, "static");
  }
}

static void
on_candidate(const AmCandidate *c, gboolean gone, gpointer user_data)
{
  AmDaemon *d = user_data;
  g_autoptr(AmMiner) miner = am_miner_new(c->host, c->port);
  if (gone) {
    /* Discovery lost it; a miner configured by hand stays. */
    AmMinerEntry *e = am_scheduler_lookup(d->scheduler, am_miner_get_address(miner));
    if (e != NULL && g_strcmp0(e->source, c->source) == 0)
      am_scheduler_remove(d->scheduler, am_miner_get_address(miner));
    return;
  }
  if (c->name != NULL)
    am_miner_set_name(miner, c->name);
  am_credentials_apply(d->config->credentials, miner, NULL, NULL);
  am_scheduler_add(d->scheduler, miner, c->source);
}

static void
start_discovery(AmDaemon *d)
{
  g_autoptr(GPtrArray) sources = am_instances_of_kind(d->instances, AM_PLUGIN_KIND_DISCOVERY);
  for (guint i = 0; i < sources->len; i++) {
    AmInstance *inst = sources->pdata[i];
    g_autoptr(GError) error = NULL;
    if (!inst->info->vtable.discovery->start(inst->self, on_candidate, d, &error))
      g_warning("[%s] discovery did not start: %s", inst->group, error->message);
  }
}

static void
start_http(AmDaemon *d)
{
  g_autoptr(GPtrArray) servers = am_instances_of_kind(d->instances, AM_PLUGIN_KIND_HTTP);
  for (guint i = 0; i < servers->len; i++) {
    AmInstance *inst = servers->pdata[i];
    g_autoptr(GError) error = NULL;
    if (!inst->info->vtable.http->start(inst->self, &error))
      g_warning("[%s] HTTP server did not start: %s", inst->group, error->message);
  }
}

/* Every good sample goes to the store and the alert rules. */
static void
on_sample(AmMinerEntry *entry, AmSample *sample, gpointer user_data)
{
  AmDaemon *d = user_data;
  /* [credentials:NAME] groups by model or driver apply once both are known. */
  am_credentials_apply(d->config->credentials, entry->miner, sample->model,
                       entry->driver != NULL ? entry->driver->info->name : NULL);
  if (d->store != NULL)
    am_store_queue_push_sample(d->store, sample);
  if (d->alerts != NULL)
    am_alerts_on_sample(d->alerts, entry, sample);
}

/* Every state change is an event in the store, and may be an alert. */
static void
on_state(AmMinerEntry *entry, AmMinerState old_state, gpointer user_data)
{
  AmDaemon *d = user_data;
  if (d->store != NULL && old_state != entry->state) {
    AmEvent event = {
        .struct_size = sizeof(AmEvent),
        .when_us = g_get_real_time(),
        .miner_host = am_miner_get_address(entry->miner),
        .kind = "state",
        .name = am_miner_state_to_string(entry->state),
        .detail = entry->reason,
    };
    am_store_queue_push_event(d->store, &event);
  }
  if (d->alerts != NULL)
    am_alerts_on_state(d->alerts, entry, old_state);
}

/* The store queue, for the first [store:...] instance (one store at a time:
 * history queries must have one answer). Its size and flush interval are
 * keys of the store's own group. */
static gboolean
start_store(AmDaemon *d, GError **error)
{
  g_autoptr(GPtrArray) stores = am_instances_of_kind(d->instances, AM_PLUGIN_KIND_STORE);
  if (stores->len == 0)
    return TRUE;
  if (stores->len > 1)
    g_warning("%s: %u store groups are enabled; only [%s] is used", d->config->path, stores->len,
              ((AmInstance *)stores->pdata[0])->group);
  AmInstance *store = stores->pdata[0];
  guint queue_size = 0;
  guint64 flush_ms = 2000;
  if (!am_config_get_store_queue_size(d->config->kf, store->group, &queue_size, error) ||
      !am_config_get_duration_ms(d->config->kf, store->group, "flush_interval", 2000, 100,
                                 3600 * 1000, &flush_ms, error)) {
    am_config_file_prefix_error(d->config, error);
    return FALSE;
  }
  d->store = am_store_queue_new(store, queue_size, flush_ms);
  return TRUE;
}

#define BUDGET_WARNING_INTERVAL_US (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)

static gboolean
on_trim(gpointer user_data)
{
  AmDaemon *d = user_data;
  am_allocator_trim();
  AmProcessStats st;
  am_process_stats(&st);
  gint64 budget = d->ctx->memory_budget;
  gint64 now = g_get_monotonic_time();
  if ((gint64)st.rss_bytes > budget &&
      (d->budget_warned_us == 0 || now - d->budget_warned_us >= BUDGET_WARNING_INTERVAL_US)) {
    g_autofree char *rss = g_format_size_full(st.rss_bytes, G_FORMAT_SIZE_IEC_UNITS);
    g_autofree char *limit = g_format_size_full((guint64)budget, G_FORMAT_SIZE_IEC_UNITS);
    g_warning("memory: %s resident, over memory_budget=%s in [core]; raise it, or lower the "
              "store's cache_size= and queue_size=",
              rss, limit);
    d->budget_warned_us = now;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal(gpointer user_data)
{
  AmDaemon *d = user_data;
  g_message("stopping");
  am_service_stopping(d->service);
  g_main_loop_quit(d->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sighup(gpointer user_data)
{
  am_daemon_reload(user_data);
  return G_SOURCE_CONTINUE;
}

/* Every poll in flight holds a descriptor, and so does every HTTP client,
 * the store and the log: say how many there are, and warn when polls at
 * their most would leave too few for the rest. */
static void
check_fd_limit(const AmCoreConfig *core)
{
  guint64 before = 0;
  guint64 limit = am_process_raise_fd_limit(&before);
  if (limit > before)
    g_message("descriptors: %" G_GUINT64_FORMAT
              " available (soft limit raised from %" G_GUINT64_FORMAT ")",
              limit, before);
  else
    g_message("descriptors: %" G_GUINT64_FORMAT " available", limit);
  if (limit < (guint64)core->max_inflight + 128)
    g_warning("descriptors: %" G_GUINT64_FORMAT " are too few for max_inflight=%u in [core] plus "
              "the HTTP clients, the store and the log; raise the limit (LimitNOFILE= in the "
              "service, ulimit -n) or lower max_inflight",
              limit, core->max_inflight);
}

gboolean
am_daemon_start(AmDaemon *d, GError **error)
{
  const AmCoreConfig *core = &d->config->core;
  if (!make_state_dir(core->state_dir, error))
    return FALSE;
  check_fd_limit(core);
  am_workers_start(0); /* one per processor: parsing, off the main loop */
  d->ctx = am_context_new(core->state_dir, d->config->path);
  d->ctx->memory_budget = core->memory_budget;
  d->ctx->plugins = d->plugins;
  d->instances = am_instances_new();
  for (gsize i = 0; i < G_N_ELEMENTS(start_order); i++)
    am_instances_create_kind(d->instances, d->plugins, start_order[i], d->ctx, d->config->kf,
                             d->config->path);

  /* A bad value in a plugin group stops start-up like one in [core]; a
   * plugin that fails for its own reasons is skipped (already logged). */
  if (d->instances->config_failed > 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "%s: %u plugin group%s with bad values (see above)", d->config->path,
                d->instances->config_failed, d->instances->config_failed == 1 ? "" : "s");
    return FALSE;
  }
  d->drivers = am_instances_of_kind(d->instances, AM_PLUGIN_KIND_DRIVER);
  if (d->drivers->len == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "no driver plugin could be loaded: check plugin_dir= in [core] or "
                "ANTMON_PLUGIN_DIR (`antmon plugins` lists what was found)");
    return FALSE;
  }

  if (!start_store(d, error))
    return FALSE;
  d->sinks = am_instances_of_kind(d->instances, AM_PLUGIN_KIND_SINK);
  d->alerts = am_alerts_new(d->config->kf, d->sinks, d->store, error);
  if (d->alerts == NULL) {
    am_config_file_prefix_error(d->config, error);
    return FALSE;
  }
  d->discovery = am_instances_of_kind(d->instances, AM_PLUGIN_KIND_DISCOVERY);

  AmActionsConfig actions_config;
  if (!am_actions_config_read(d->config->kf, &actions_config, error)) {
    am_config_file_prefix_error(d->config, error);
    return FALSE;
  }
  AmSchedulerConfig sc = {
      .interval_ms = core->interval_ms,
      .poll_timeout_ms = core->poll_timeout_ms,
      .max_inflight = core->max_inflight,
      .offline_after = core->offline_after,
      .jitter = 0.1,
  };
  d->scheduler = am_scheduler_new(&sc, d->drivers);
  am_scheduler_add_sample_hook(d->scheduler, on_sample, d);
  am_scheduler_add_state_hook(d->scheduler, on_state, d);
  d->actions = am_actions_new(&actions_config, d->scheduler, d->store);
  d->ctx->actions = d->actions;
  d->ctx->scheduler = d->scheduler;
  d->ctx->store = d->store;
  d->ctx->alerts = d->alerts;
  d->ctx->discovery = d->discovery;
  /* Exporters hear the miners from the first one added on. */
  d->exporter_instances = am_instances_of_kind(d->instances, AM_PLUGIN_KIND_EXPORTER);
  d->exporters = am_exporters_new(d->scheduler, d->exporter_instances);
  am_daemon_add_static_miners(d, d->config);
  start_http(d);
  start_discovery(d);
  am_scheduler_start(d->scheduler);

  d->sigint_id = g_unix_signal_add(SIGINT, on_signal, d);
  d->sigterm_id = g_unix_signal_add(SIGTERM, on_signal, d);
  d->sighup_id = g_unix_signal_add(SIGHUP, on_sighup, d);
  d->trim_id = g_timeout_add_seconds(TRIM_INTERVAL_S, on_trim, d);
  g_message("antmon %s running: %u drivers, %u miners configured, polling every %.0f s",
            AM_VERSION_STRING, d->drivers->len, core->miners != NULL ? core->miners->len : 0,
            core->interval_ms / 1000.0);
  return TRUE;
}

void
am_daemon_run(AmDaemon *d)
{
  /* Started: the configuration is loaded and the HTTP API listens. */
  d->service = am_service_ready(d->scheduler);
  g_main_loop_run(d->loop);
}

void
am_daemon_quit(AmDaemon *d)
{
  g_main_loop_quit(d->loop);
}

static void
stop_discovery(AmDaemon *d)
{
  g_autoptr(GPtrArray) sources = am_instances_of_kind(d->instances, AM_PLUGIN_KIND_DISCOVERY);
  for (guint i = 0; i < sources->len; i++) {
    AmInstance *inst = sources->pdata[i];
    inst->info->vtable.discovery->stop(inst->self);
  }
}

void
am_daemon_free(AmDaemon *d)
{
  if (d == NULL)
    return;
  /* First, so that nothing is parsed any more: the polls and probes still
   * in flight end cancelled, and the scheduler below waits for them. */
  am_workers_stop();
  if (d->sigint_id != 0)
    g_source_remove(d->sigint_id);
  if (d->sigterm_id != 0)
    g_source_remove(d->sigterm_id);
  if (d->sighup_id != 0)
    g_source_remove(d->sighup_id);
  am_service_free(d->service); /* STOPPING=1, if no signal said it */
  if (d->trim_id != 0)
    g_source_remove(d->trim_id);
  if (d->instances != NULL)
    stop_discovery(d);
  if (d->ctx != NULL)
    d->ctx->actions = NULL;
  am_actions_free(d->actions);     /* waits for actions being sent to cancel */
  am_exporters_free(d->exporters); /* the daemon stopping forgets no miner */
  g_clear_pointer(&d->exporter_instances, g_ptr_array_unref);
  am_scheduler_free(d->scheduler); /* waits for polls in flight to cancel */
  if (d->ctx != NULL)
    d->ctx->scheduler = NULL;
  /* Unhook the parts from the context before freeing them: freeing the
   * alerts runs the main loop (deliveries in flight), and an HTTP request
   * answered then must not read a half-freed part (/api/summary's health
   * reads the alert counters). */
  if (d->ctx != NULL)
    d->ctx->store = NULL, d->ctx->alerts = NULL, d->ctx->discovery = NULL;
  am_alerts_free(d->alerts);
  am_store_queue_free(d->store); /* flushes what was queued */
  g_clear_pointer(&d->drivers, g_ptr_array_unref);
  g_clear_pointer(&d->sinks, g_ptr_array_unref);
  g_clear_pointer(&d->discovery, g_ptr_array_unref);
  am_instances_free(d->instances); /* reverse order: HTTP first, stores last */
  am_context_free(d->ctx);
  g_ptr_array_unref(d->reloaded);
  g_main_loop_unref(d->loop);
  g_free(d);
}
