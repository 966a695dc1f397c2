/* Batch-then-parse polling shared by the cgminer-API drivers. */
#include "am-driver-poll.h"

typedef struct {
  AmMiner *miner;
  AmDriverParseFunc parse;
} PollData;

static void
poll_data_free(PollData *data)
{
  am_miner_unref(data->miner);
  g_free(data);
}

JsonObject *
am_driver_reply(GHashTable *replies, const char *command)
{
  AmRpcReply *reply = replies != NULL ? g_hash_table_lookup(replies, command) : NULL;
  return reply != NULL ? am_rpc_reply_get_root(reply) : NULL;
}

static void
batch_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  PollData *data = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  (void)source;

  g_autoptr(GHashTable) replies = am_miner_rpc_batch_finish(data->miner, result, &error);
  if (replies == NULL) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  AmSample *sample = data->parse(replies, &error);
  if (sample == NULL) {
    g_prefix_error(&error, "%s: ", am_miner_get_address(data->miner));
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

void
am_driver_poll_async(AmMiner *miner, const char *const *commands, AmDriverParseFunc parse,
                     GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_driver_poll_async);
  PollData *data = g_new0(PollData, 1);
  data->miner = am_miner_ref(miner);
  data->parse = parse;
  g_task_set_task_data(task, data, (GDestroyNotify)poll_data_free);
  am_miner_rpc_batch_async(miner, commands, cancellable, batch_done, task);
}

AmSample *
am_driver_poll_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
