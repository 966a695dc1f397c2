/* Batch-then-parse polling shared by the cgminer-API drivers.
 *
 * A poll asks as little as it must (am-driver-learn.h): "version" comes
 * from what the miner's earlier polls kept, and the other commands go
 * together as cgminer's joined command "a+b+c" in one connection, where the
 * firmware answers it; otherwise (or once it failed there) one connection
 * per command, through am_miner_rpc_async(), as before. Every raw reply is
 * kept per command for the API's raw view either way.
 *
 * Unlike am_miner_rpc_batch_async(), one command that fails does not fail
 * the poll: a firmware update that breaks "stats" must not turn a miner
 * whose "summary" still reads into an offline one. The sample is then
 * partial, with a problem naming the command. */
#include "am-driver-poll.h"
#include "am-driver-learn.h"

#include <string.h>

typedef struct {
  AmMiner *miner;
  AmDriverParseFunc parse;
  GPtrArray *asking;          /* const char* (static): the commands to ask */
  guint next;                 /* in asking, asked one by one */
  AmRpcReply *version;        /* kept from earlier polls, or NULL */
  gboolean has_version;       /* "version" is one of the driver's commands */
  gboolean rereading;         /* asking "version" again after a change */
  GHashTable *replies;        /* command -> AmRpcReply*: what was read */
  GPtrArray *failed;          /* char*: "<command>: <why>" */
  GError *first_error;        /* of the first failed command */
  gboolean joined_unanswered; /* a joined command was closed on or timed out */
} PollData;

static void poll_step(GTask *task);

static void
poll_data_free(PollData *data)
{
  am_miner_unref(data->miner);
  g_ptr_array_unref(data->asking);
  g_clear_pointer(&data->version, am_rpc_reply_unref);
  g_clear_pointer(&data->replies, g_hash_table_unref); /* NULL once handed to the parse */
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
    /* A parse the stop cancelled read nothing wrong; any other failure
     * names the replies that failed, which the parser may have needed. */
    const char *address = am_miner_get_address(data->miner);
    gboolean cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    /* A kept fingerprint may be what no longer fits: ask it next time. */
    if (data->has_version && !cancelled)
      am_learn_keep_version(data->miner, NULL);
    if (data->failed->len > 0 && !cancelled) {
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
  /* The kept "version" stands in for the one not asked, in the raw view
   * too (dropped there at once unless somebody looks). */
  if (data->version != NULL && !g_hash_table_contains(data->replies, "version")) {
    g_hash_table_replace(data->replies, (gpointer) "version", am_rpc_reply_ref(data->version));
    am_miner_store_raw(data->miner, "version", am_rpc_reply_get_raw(data->version));
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

/* Everything asked has come back (or failed): learn from it, ask
 * "version" again when the miner restarted or changed, then parse. */
static void
exchange_done(GTask *task)
{
  PollData *data = g_task_get_task_data(task);
  if (g_hash_table_size(data->replies) > 0 && !am_learn_single_only(data->miner)) {
    gboolean changed = !data->rereading && am_learn_notice_change(data->miner, data->replies);
    AmRpcReply *version = g_hash_table_lookup(data->replies, "version");
    if (version != NULL) {
      am_learn_keep_version(data->miner, version); /* read this poll */
    } else if (changed && data->version != NULL) {
      /* The kept one may describe what ran before: read it now, so this
       * sample already names what runs. */
      g_clear_pointer(&data->version, am_rpc_reply_unref);
      data->rereading = TRUE;
      g_ptr_array_add(data->asking, (gpointer) "version");
      poll_step(task);
      return;
    }
  }
  poll_done(task); /* takes our reference */
}

/* Files one command's outcome: a reply, a command the firmware refused
 * (left out), or one that failed (noted; the rest of the poll stands).
 * Returns FALSE when the poll must end now with @error: cancelled, or the
 * miner did not answer the first thing asked. */
static gboolean
take_reply(PollData *data, const char *command, AmRpcReply *reply, GError **error)
{
  if (reply != NULL) {
    g_hash_table_replace(data->replies, (gpointer)command, reply);
  } else if (g_error_matches(*error, AM_ERROR, AM_ERROR_API)) {
    /* "Access denied", "Invalid command": the parser reads it as
     * unsupported, as a firmware without that command. */
    g_debug("%s: leaving %s out: %s", am_miner_get_address(data->miner), command,
            (*error)->message);
  } else if (g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
             (is_unreachable(*error) && g_hash_table_size(data->replies) == 0)) {
    return FALSE;
  } else {
    /* Not JSON, truncated, too large, or a timeout after others answered:
     * the rest of the poll still stands. */
    g_ptr_array_add(data->failed, g_strdup_printf("%s: %s", command, (*error)->message));
    if (data->first_error == NULL)
      data->first_error = g_steal_pointer(error);
  }
  return TRUE;
}

static void
on_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  PollData *data = g_task_get_task_data(task);
  const char *command = data->asking->pdata[data->next];
  g_autoptr(GError) error = NULL;
  (void)source;

  AmRpcReply *reply = am_miner_rpc_finish(data->miner, result, &error);
  if (!take_reply(data, command, reply, &error)) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  data->next++;
  poll_step(g_steal_pointer(&task));
}

/* Files each command's part of a joined reply as if it had been asked
 * alone: a part with its own STATUS E is a command the firmware refused. */
static void
take_parts(PollData *data, GHashTable *parts)
{
  for (guint i = 0; i < data->asking->len; i++) {
    const char *command = data->asking->pdata[i];
    AmRpcReply *part = g_hash_table_lookup(parts, command);
    g_autoptr(GError) error = NULL;
    if (am_rpc_check_status(am_rpc_reply_get_root(part), &error))
      take_reply(data, command, am_rpc_reply_ref(part), &error);
    else
      take_reply(data, command, NULL, &error);
  }
  data->next = data->asking->len;
}

static void
on_joined(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  PollData *data = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  (void)source;

  g_autoptr(GHashTable) parts = am_miner_rpc_joined_finish(data->miner, result, &error);
  if (parts != NULL) {
    am_learn_joined_result(data->miner, TRUE);
    take_parts(data, parts);
  } else if ((g_error_matches(error, AM_ERROR, AM_ERROR_RESET) ||
              g_error_matches(error, AM_ERROR, AM_ERROR_TIMEOUT)) &&
             !am_learn_joined_works(data->miner)) {
    /* Closed on or never answered, where joined commands never worked: a
     * firmware that drops or hangs on what it does not know, or a miner
     * going down. The commands one by one tell which. */
    data->joined_unanswered = TRUE;
  } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || is_unreachable(error)) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  } else {
    /* Refused, malformed, or a command's part missing (some S19 firmware):
     * this miner gets one command per connection from now on. */
    g_debug("%s: joined command failed: %s", am_miner_get_address(data->miner), error->message);
    am_learn_joined_result(data->miner, FALSE);
  }
  poll_step(g_steal_pointer(&task));
}

/* TRUE when the commands left may go in one joined command. */
static gboolean
may_join(PollData *data)
{
  return data->next == 0 && data->asking->len >= 2 && !data->joined_unanswered &&
         !am_learn_single_only(data->miner) && am_learn_try_joined(data->miner);
}

static void
poll_step(GTask *task)
{
  PollData *data = g_task_get_task_data(task);
  if (data->next >= data->asking->len) {
    if (data->joined_unanswered && g_hash_table_size(data->replies) > 0)
      am_learn_joined_result(data->miner, FALSE); /* it answers, but not joined */
    data->joined_unanswered = FALSE;
    exchange_done(task);
    return;
  }
  if (may_join(data)) {
    am_miner_rpc_joined_async(data->miner, (const char *const *)data->asking->pdata,
                              g_task_get_cancellable(task), on_joined, task);
    return;
  }
  am_miner_rpc_async(data->miner, data->asking->pdata[data->next], NULL,
                     g_task_get_cancellable(task), on_reply, task);
}

/* The commands this poll asks: all of @commands but a "version" kept from
 * earlier polls (data->version then holds it). */
static void
plan(PollData *data, const char *const *commands)
{
  gboolean single = am_learn_single_only(data->miner);
  for (guint i = 0; commands[i] != NULL; i++) {
    if (strcmp(commands[i], "version") == 0) {
      data->has_version = TRUE;
      if (!single)
        data->version = am_learn_kept_version(data->miner);
      if (data->version != NULL)
        continue;
    }
    g_ptr_array_add(data->asking, (gpointer)commands[i]);
  }
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
  data->asking = g_ptr_array_new_null_terminated(8, NULL, TRUE);
  data->replies =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)am_rpc_reply_unref);
  data->failed = g_ptr_array_new_null_terminated(0, g_free, TRUE);
  g_task_set_task_data(task, data, (GDestroyNotify)poll_data_free);
  plan(data, commands);
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
