/* Batch-then-parse polling shared by the cgminer-API drivers.
 *
 * The commands run one after another, one connection each, through
 * am_miner_rpc_async(), which keeps every raw reply (good or bad) for the
 * API's raw view. Unlike am_miner_rpc_batch_async(), one command that
 * fails does not fail the poll: a firmware update that breaks "stats"
 * must not turn a miner whose "summary" still reads into an offline one.
 * The sample is then partial, with a problem naming the command. */
#include "am-driver-poll.h"

typedef struct {
  AmMiner *miner;
  AmDriverParseFunc parse;
  const char *const *commands; /* static */
  guint next;
  GHashTable *replies; /* command -> AmRpcReply*: what was read */
  GPtrArray *failed;   /* char*: "<command>: <why>" */
  GError *first_error; /* of the first failed command */
} PollData;

static void
poll_data_free(PollData *data)
{
  am_miner_unref(data->miner);
  g_clear_pointer(&data->replies, g_hash_table_unref);
  g_ptr_array_unref(data->failed);
  g_clear_error(&data->first_error);
  g_free(data);
}

JsonObject *
am_driver_reply(GHashTable *replies, const char *command)
{
  AmRpcReply *reply = replies != NULL ? g_hash_table_lookup(replies, command) : NULL;
  return reply != NULL ? am_rpc_reply_get_root(reply) : NULL;
}

/* TRUE when @error says the miner did not answer at all (as opposed to
 * answering something unreadable): asking the next commands would only
 * wait out the same timeout again. */
static gboolean
is_unreachable(const GError *error)
{
  return g_error_matches(error, AM_ERROR, AM_ERROR_TIMEOUT) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_REFUSED) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_RESET);
}

/* What a worker needs to parse: the replies, handed over whole (the main
 * loop no longer holds them, so they are freed on the worker too). */
typedef struct {
  AmDriverParseFunc parse;
  GHashTable *replies;
} ParseJob;

static void
parse_job_free(ParseJob *job)
{
  g_hash_table_unref(job->replies);
  g_free(job);
}

/* On a worker: the driver's parser is a pure function of the replies. */
static gpointer
parse_on_worker(gpointer input, GCancellable *cancellable, GError **error)
{
  ParseJob *job = input;
  (void)cancellable;
  return job->parse(job->replies, error);
}

/* Back on the loop: the parser's verdict, with what failed on the way. */
static void
on_parsed(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  PollData *data = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  (void)source;
  AmSample *sample = am_work_finish(result, &error);
  if (sample == NULL) {
    /* The reply the parser needed may be the one that failed: say so
     * (not for a parse the stop cancelled: nothing was read wrong). */
    const char *address = am_miner_get_address(data->miner);
    if (data->failed->len > 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_autofree char *failed = g_strjoinv("; ", (char **)data->failed->pdata);
      g_prefix_error(&error, "%s: %s; ", address, failed);
    } else {
      g_prefix_error(&error, "%s: ", address);
    }
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  for (guint i = 0; i < data->failed->len; i++)
    am_sample_mark_partial(sample, "%s", (const char *)data->failed->pdata[i]);
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

/* Hands what was read to the parser, on a worker, or returns the task's
 * result at once. Takes the caller's reference to @task. */
static void
poll_done(GTask *task)
{
  PollData *data = g_task_get_task_data(task);

  /* Nothing read and something failed: the poll has nothing to offer. */
  if (g_hash_table_size(data->replies) == 0 && data->first_error != NULL) {
    g_task_return_error(task, g_steal_pointer(&data->first_error));
    g_object_unref(task);
    return;
  }
  /* am_driver_rpc_each_async(): the caller parses, with its other API. */
  if (data->parse == NULL) {
    g_task_return_pointer(task, g_hash_table_ref(data->replies),
                          (GDestroyNotify)g_hash_table_unref);
    g_object_unref(task);
    return;
  }
  ParseJob *job = g_new0(ParseJob, 1);
  job->parse = data->parse;
  job->replies = g_steal_pointer(&data->replies);
  am_work_async(parse_on_worker, job, (GDestroyNotify)parse_job_free,
                (GDestroyNotify)am_sample_unref, g_task_get_cancellable(task), on_parsed, task);
}

static void poll_step(GTask *task);

static void
on_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  PollData *data = g_task_get_task_data(task);
  const char *command = data->commands[data->next];
  g_autoptr(GError) error = NULL;
  (void)source;

  AmRpcReply *reply = am_miner_rpc_finish(data->miner, result, &error);
  if (reply != NULL) {
    g_hash_table_replace(data->replies, (gpointer)command, reply);
  } else if (g_error_matches(error, AM_ERROR, AM_ERROR_API)) {
    /* "Access denied", "Invalid command": the parser reads it as
     * unsupported, as a firmware without that command. */
    g_debug("%s: leaving %s out: %s", am_miner_get_address(data->miner), command, error->message);
  } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
             (is_unreachable(error) && g_hash_table_size(data->replies) == 0)) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  } else {
    /* Not JSON, truncated, too large, or a timeout after others answered:
     * the rest of the poll still stands. */
    g_ptr_array_add(data->failed, g_strdup_printf("%s: %s", command, error->message));
    if (data->first_error == NULL)
      data->first_error = g_steal_pointer(&error);
  }
  data->next++;
  poll_step(g_steal_pointer(&task));
}

static void
poll_step(GTask *task)
{
  PollData *data = g_task_get_task_data(task);
  if (data->commands[data->next] == NULL) {
    poll_done(task);
    return;
  }
  am_miner_rpc_async(data->miner, data->commands[data->next], NULL, g_task_get_cancellable(task),
                     on_reply, task);
}

void
am_driver_poll_async(AmMiner *miner, const char *const *commands, AmDriverParseFunc parse,
                     GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_driver_poll_async);
  g_task_set_check_cancellable(task, FALSE);
  PollData *data = g_new0(PollData, 1);
  data->miner = am_miner_ref(miner);
  data->parse = parse;
  data->commands = commands;
  data->replies =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)am_rpc_reply_unref);
  data->failed = g_ptr_array_new_null_terminated(0, g_free, TRUE);
  g_task_set_task_data(task, data, (GDestroyNotify)poll_data_free);
  poll_step(task);
}

void
am_driver_rpc_each_async(AmMiner *miner, const char *const *commands, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  am_driver_poll_async(miner, commands, NULL, cancellable, callback, user_data);
}

GHashTable *
am_driver_rpc_each_finish(GAsyncResult *result, GPtrArray **failed, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  PollData *data = g_task_get_task_data(G_TASK(result));
  if (failed != NULL) {
    *failed = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; data != NULL && i < data->failed->len; i++)
      g_ptr_array_add(*failed, g_strdup(data->failed->pdata[i]));
  }
  return g_task_propagate_pointer(G_TASK(result), error);
}

AmSample *
am_driver_poll_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
