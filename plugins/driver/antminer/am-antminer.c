/* The antminer driver plugin: Bitmain stock firmware (bmminer and cgminer
 * based) and its Hiveon and VNish variants, read over the cgminer RPC API.
 *
 * The module only does I/O: one batch of "version", "stats", "pools" and
 * "summary" (one connection each, as cgminer wants), then the pure
 * normalizer in am-antminer-parse.c. */
#include "am-antminer-parse.h"
#include "sample-ini.h"

#include <antmon/antmon.h>

typedef struct {
  AmAntminerOptions options;
} AmAntminer;

/* Only "stats" is required; the others fill identity, pools and counters
 * and may be refused (the batch leaves API errors out). */
static const char *const poll_commands[] = {"version", "stats", "pools", "summary", NULL};

static gpointer
antminer_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  gboolean estimate_power = TRUE;
  if (kf != NULL && !am_config_get_bool(kf, group, "estimate_power", TRUE, &estimate_power, error))
    return NULL;
  AmAntminer *self = g_new0(AmAntminer, 1);
  self->options.estimate_power = estimate_power;
  return self;
}

static void
antminer_destroy(gpointer instance)
{
  g_free(instance);
}

static AmMatch
antminer_match(gpointer self, const AmFingerprint *fp)
{
  return am_antminer_match(fp);
}

/* What a poll needs after the batch: the miner, and the options as they were
 * when it started. */
typedef struct {
  AmMiner *miner;
  AmAntminerOptions options;
} PollData;

static void
poll_data_free(PollData *data)
{
  am_miner_unref(data->miner);
  g_free(data);
}

/* The reply object for @command, or NULL when the miner did not answer it
 * usefully (the batch already dropped API errors; a multi-command wrapper
 * is unwrapped by the transport). */
static JsonObject *
reply_for(GHashTable *replies, AmMiner *miner, const char *command)
{
  AmRpcReply *reply = g_hash_table_lookup(replies, command);
  if (reply == NULL) {
    g_debug("%s: no usable \"%s\" reply", am_miner_get_address(miner), command);
    return NULL;
  }
  g_autoptr(GError) error = NULL;
  JsonObject *section = am_rpc_reply_get_section(reply, command, &error);
  if (section == NULL)
    g_debug("%s: \"%s\" reply ignored: %s", am_miner_get_address(miner), command, error->message);
  return section;
}

static void
on_batch_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  PollData *data = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) replies = am_miner_rpc_batch_finish(data->miner, result, &error);
  if (replies == NULL) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }

  AmSample *sample = am_antminer_parse(
      reply_for(replies, data->miner, "version"), reply_for(replies, data->miner, "stats"),
      reply_for(replies, data->miner, "pools"), reply_for(replies, data->miner, "summary"),
      &data->options, &error);
  if (sample == NULL) {
    g_prefix_error(&error, "%s: ", am_miner_get_address(data->miner));
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

static void
antminer_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  AmAntminer *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, antminer_poll_async);
  PollData *data = g_new0(PollData, 1);
  data->miner = am_miner_ref(miner);
  data->options = self->options;
  g_task_set_task_data(task, data, (GDestroyNotify)poll_data_free);
  am_miner_rpc_batch_async(miner, poll_commands, cancellable, on_batch_done, task);
}

static AmSample *
antminer_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

static const AmDriverVTable antminer_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = antminer_match,
    .poll_async = antminer_poll_async,
    .poll_finish = antminer_poll_finish,
};

AM_PLUGIN_DEFINE(.name = "antminer", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Bitmain Antminer: stock bmminer/cgminer firmware, Hiveon, VNish",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = antminer_create, .destroy = antminer_destroy,
                 .vtable.driver = &antminer_vtable)
