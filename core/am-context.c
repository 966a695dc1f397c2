/* AmContext: what the core offers every plugin instance. */
#include "am-context-private.h"
#include "am-miner-private.h"
#include "am-process.h"
#include <antmon/error.h>
#include <antmon/version.h>

AmContext *
am_context_new(const char *state_dir, const char *config_path)
{
  AmContext *ctx = g_new0(AmContext, 1);
  ctx->state_dir = g_strdup(state_dir != NULL ? state_dir : ".");
  ctx->config_path = g_strdup(config_path != NULL ? config_path : "(defaults)");
  ctx->started_us = g_get_monotonic_time();
  return ctx;
}

void
am_context_free(AmContext *ctx)
{
  if (ctx == NULL)
    return;
  g_free(ctx->state_dir);
  g_free(ctx->config_path);
  g_free(ctx);
}

const char *
am_context_get_state_dir(AmContext *ctx)
{
  return ctx->state_dir;
}

const char *
am_context_get_config_path(AmContext *ctx)
{
  return ctx->config_path;
}

char *
am_context_resolve_state_path(AmContext *ctx, const char *path)
{
  if (g_path_is_absolute(path))
    return g_strdup(path);
  return g_build_filename(ctx->state_dir, path, NULL);
}

/* ---- miners ------------------------------------------------------------ */

void
am_context_fill_view(AmMinerView *view, AmScheduler *scheduler, AmMinerEntry *e)
{
  *view = (AmMinerView){.struct_size = sizeof(AmMinerView)};
  view->address = am_miner_get_address(e->miner);
  view->actions = am_actions_supported(scheduler, e);
  view->host = am_miner_get_host(e->miner);
  view->port = am_miner_get_port(e->miner);
  view->name = am_miner_get_name(e->miner);
  view->state = am_miner_state_to_string(e->state);
  view->state_reason = e->reason;
  view->last_error = e->last_error >= 0 ? am_error_code_to_string(e->last_error) : NULL;
  view->last_seen_us = e->last_seen_us;
  view->failures = e->failures;
  view->driver = e->driver != NULL ? e->driver->info->name : NULL;
  view->source = e->source;
  view->sample = e->latest;
}

void
am_context_foreach_miner(AmContext *ctx, AmMinerViewFunc func, gpointer user_data)
{
  if (ctx->scheduler == NULL)
    return;
  g_autoptr(GPtrArray) entries = am_scheduler_entries(ctx->scheduler);
  for (guint i = 0; i < entries->len; i++) {
    AmMinerView view;
    am_context_fill_view(&view, ctx->scheduler, entries->pdata[i]);
    func(&view, user_data);
  }
}

/* By address first ("host:port"), else the first miner on that host. */
static AmMinerEntry *
find_entry(AmContext *ctx, const char *key)
{
  if (ctx->scheduler == NULL)
    return NULL;
  return am_scheduler_find(ctx->scheduler, key);
}

gboolean
am_context_get_miner(AmContext *ctx, const char *key, AmMinerViewFunc func, gpointer user_data)
{
  AmMinerEntry *e = find_entry(ctx, key);
  if (e == NULL)
    return FALSE;
  AmMinerView view;
  am_context_fill_view(&view, ctx->scheduler, e);
  func(&view, user_data);
  return TRUE;
}

JsonNode *
am_context_miner_raw_json(AmContext *ctx, const char *key)
{
  AmMinerEntry *e = find_entry(ctx, key);
  if (e == NULL)
    return NULL;
  /* Nothing kept (nobody looked lately): poll now rather than make the
   * user wait a whole interval; the reply keeps the replies coming. */
  gboolean had_raw = am_miner_has_raw(e->miner);
  JsonNode *raw = am_miner_raw_to_json(e->miner);
  if (!had_raw)
    am_scheduler_poll_now(ctx->scheduler, e);
  return raw;
}

/* ---- health ------------------------------------------------------------ */

static void
add_plugins(JsonBuilder *b, AmPluginSet *plugins)
{
  json_builder_set_member_name(b, "plugins");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "loaded");
  json_builder_begin_array(b);
  for (guint i = 0; plugins != NULL && i < plugins->loaded->len; i++) {
    const AmLoadedPlugin *p = plugins->loaded->pdata[i];
    g_autofree char *id =
        g_strdup_printf("%s:%s", am_plugin_kind_to_string(p->info->kind), p->info->name);
    json_builder_add_string_value(b, id);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "rejected");
  json_builder_begin_array(b);
  for (guint i = 0; plugins != NULL && i < plugins->rejected->len; i++) {
    const AmRejectedPlugin *r = plugins->rejected->pdata[i];
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, r->path);
    json_builder_set_member_name(b, "reason");
    json_builder_add_string_value(b, r->reason);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static void
add_poll(JsonBuilder *b, AmScheduler *scheduler)
{
  json_builder_set_member_name(b, "poll");
  json_builder_begin_object(b);
  if (scheduler != NULL) {
    guint by_state[AM_MINER_N_STATES] = {0};
    g_autoptr(GPtrArray) entries = am_scheduler_entries(scheduler);
    for (guint i = 0; i < entries->len; i++)
      by_state[((AmMinerEntry *)entries->pdata[i])->state]++;
    json_builder_set_member_name(b, "miners");
    json_builder_add_int_value(b, entries->len);
    for (guint s = 0; s < AM_MINER_N_STATES; s++) {
      json_builder_set_member_name(b, am_miner_state_to_string(s));
      json_builder_add_int_value(b, by_state[s]);
    }
    json_builder_set_member_name(b, "in_flight");
    json_builder_add_int_value(b, am_scheduler_in_flight(scheduler));
    const AmPassStats *pass = am_scheduler_last_pass(scheduler);
    json_builder_set_member_name(b, "last_pass");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "polled");
    json_builder_add_int_value(b, pass->polled);
    json_builder_set_member_name(b, "succeeded");
    json_builder_add_int_value(b, pass->succeeded);
    json_builder_set_member_name(b, "failed");
    json_builder_add_int_value(b, pass->failed);
    json_builder_set_member_name(b, "failed_by_reason");
    json_builder_begin_object(b);
    for (guint c = 0; c <= AM_ERROR_CONFIG; c++)
      if (pass->failed_by_code[c] > 0) {
        json_builder_set_member_name(b, am_error_code_to_string(c));
        json_builder_add_int_value(b, pass->failed_by_code[c]);
      }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "duration_ms");
    json_builder_add_int_value(b, am_pass_stats_duration_ms(pass));
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
}

static void
add_discovery(JsonBuilder *b, GPtrArray *discovery)
{
  json_builder_set_member_name(b, "discovery");
  json_builder_begin_object(b);
  for (guint i = 0; discovery != NULL && i < discovery->len; i++) {
    AmInstance *inst = discovery->pdata[i];
    const AmDiscoveryVTable *vt = inst->info->vtable.discovery;
    JsonNode *stats = vt->stats_json != NULL ? vt->stats_json(inst->self) : NULL;
    json_builder_set_member_name(b, inst->group);
    if (stats != NULL)
      json_builder_add_value(b, stats);
    else
      json_builder_add_null_value(b);
  }
  json_builder_end_object(b);
}

static void
add_process(JsonBuilder *b, gint64 budget)
{
  AmProcessStats st;
  am_process_stats(&st);
  json_builder_set_member_name(b, "process");
  json_builder_begin_object(b);
  if (budget > 0) {
    json_builder_set_member_name(b, "memory_budget_bytes");
    json_builder_add_int_value(b, budget);
    json_builder_set_member_name(b, "over_budget");
    json_builder_add_boolean_value(b, (gint64)st.rss_bytes > budget);
  }
  json_builder_set_member_name(b, "rss_bytes");
  json_builder_add_int_value(b, (gint64)st.rss_bytes);
  json_builder_set_member_name(b, "rss_peak_bytes");
  json_builder_add_int_value(b, (gint64)st.rss_peak_bytes);
  json_builder_set_member_name(b, "fds");
  json_builder_add_int_value(b, st.fds);
  json_builder_set_member_name(b, "fd_limit");
  json_builder_add_int_value(b, (gint64)MIN(st.fd_limit, (guint64)G_MAXINT64));
  json_builder_set_member_name(b, "threads");
  json_builder_add_int_value(b, st.threads);
  json_builder_end_object(b);
}

JsonNode *
am_context_health_json(AmContext *ctx)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "version");
  json_builder_add_string_value(b, AM_VERSION_STRING);
  json_builder_set_member_name(b, "uptime_s");
  json_builder_add_int_value(b, (g_get_monotonic_time() - ctx->started_us) / G_USEC_PER_SEC);
  add_process(b, ctx->memory_budget);
  add_plugins(b, ctx->plugins);
  add_poll(b, ctx->scheduler);
  add_discovery(b, ctx->discovery);
  json_builder_set_member_name(b, "store");
  if (ctx->store != NULL)
    json_builder_add_value(b, am_store_queue_stats_json(ctx->store));
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "alerts");
  if (ctx->alerts != NULL)
    json_builder_add_value(b, am_alerts_stats_json(ctx->alerts));
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- history ----------------------------------------------------------- */

void
am_context_store_query_async(AmContext *ctx, const char *query, GHashTable *params,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  if (ctx->store == NULL) {
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, am_context_store_query_async);
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_UNSUPPORTED,
                            "no store is configured: history needs a [store:...] group");
    return;
  }
  am_store_queue_query_async(ctx->store, query, params, cancellable, callback, user_data);
}

JsonNode *
am_context_store_query_finish(AmContext *ctx, GAsyncResult *result, GError **error)
{
  if (ctx->store == NULL || g_task_get_source_tag(G_TASK(result)) == am_context_store_query_async)
    return g_task_propagate_pointer(G_TASK(result), error);
  return am_store_queue_query_finish(ctx->store, result, error);
}
