/* The antminer driver's actions over the cgminer API, I/O only: one
 * command per connection, one after another, each under the miner's
 * timeout; the commands and the judgement come from am-antminer-action.c.
 * Completes when the firmware accepted the last command; the core confirms
 * the effect from the next polls (elapsed restarting, the pool list).
 * reboot, pause, resume and locate go to VNish's web API instead
 * (am-antminer-vnish-act.c). */
#include "am-antminer-action.h"
#include "am-antminer-private.h"
#include "am-antminer-vnish.h"

typedef struct {
  AmMiner *miner;
  const AmActionRequest *request; /* the core's, valid until act_finish() */
  GPtrArray *writes;              /* AmAntminerRpcWrite*, NULL until known */
  guint next;
} Act;

static void
act_free(Act *a)
{
  am_miner_unref(a->miner);
  if (a->writes != NULL)
    g_ptr_array_unref(a->writes);
  g_free(a);
}

AmActionSet
am_antminer_vtable_actions(gpointer self, AmMiner *miner, const AmSample *sample)
{
  return am_antminer_actions(sample);
}

static void send_next(GTask *task);

static void
call(GTask *task, const char *command, const char *parameter, GAsyncReadyCallback done)
{
  Act *a = g_task_get_task_data(task);
  am_rpc_call_async(am_miner_get_host(a->miner), am_miner_get_port(a->miner), command, parameter,
                    am_miner_get_timeout_ms(a->miner), g_task_get_cancellable(task), done, task);
}

static void
on_written(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Act *a = g_task_get_task_data(task);
  const AmAntminerRpcWrite *w = a->writes->pdata[a->next++];
  g_autoptr(GError) rpc_error = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, &raw, &rpc_error);
  if (raw != NULL)
    am_miner_store_raw(a->miner, w->command, raw);
  GError *error = NULL;
  if (!am_antminer_judge_write(am_miner_get_address(a->miner), w->command, rpc_error, raw,
                               &error)) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  send_next(task);
}

static void
send_next(GTask *task)
{
  Act *a = g_task_get_task_data(task);
  if (a->next >= a->writes->len) {
    g_task_return_boolean(task, TRUE);
    g_object_unref(task);
    return;
  }
  const AmAntminerRpcWrite *w = a->writes->pdata[a->next];
  call(task, w->command, w->parameter, on_written);
}

/* The pools reply tells how many pools to remove once the new are in. */
static void
on_pools(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, NULL, &error);
  if (reply == NULL) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  JsonArray *pools = am_json_array(am_rpc_reply_get_root(reply), "POOLS");
  a->writes = am_antminer_pool_writes(a->request, pools != NULL ? json_array_get_length(pools) : 0);
  send_next(task);
}

void
am_antminer_act_async(gpointer self, AmMiner *miner, const AmActionRequest *request,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  /* The core asks for these only on units whose version says VNish. */
  if (am_antminer_vnish_path(request->kind) != NULL) {
    const AmAntminer *antminer = self;
    am_antminer_vnish_act_async(&antminer->web, miner, request, cancellable, callback, user_data);
    return;
  }
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_antminer_act_async);
  Act *a = g_new0(Act, 1);
  a->miner = am_miner_ref(miner);
  a->request = request;
  g_task_set_task_data(task, a, (GDestroyNotify)act_free);
  GError *error = NULL;
  if (!am_antminer_check_request(request, &error)) {
    g_prefix_error(&error, "%s: ", am_miner_get_address(miner));
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  if (request->kind == AM_ACTION_POOLS) {
    call(task, "pools", NULL, on_pools);
    return;
  }
  a->writes = g_ptr_array_new_with_free_func((GDestroyNotify)am_antminer_rpc_write_free);
  AmAntminerRpcWrite *restart = g_new0(AmAntminerRpcWrite, 1);
  restart->command = g_strdup("restart");
  g_ptr_array_add(a->writes, restart);
  send_next(task);
}

gboolean
am_antminer_act_finish(gpointer self, GAsyncResult *result, GError **error)
{
  if (g_task_get_source_tag(G_TASK(result)) == am_antminer_vnish_act_async)
    return am_antminer_vnish_act_finish(result, error);
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}
