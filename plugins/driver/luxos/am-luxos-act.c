/* One LuxOS action over the RPC: the session dance around the write
 * command built by am-luxos-action.c. See am-luxos-act.h. */
#include "am-luxos-act.h"

#include "am-luxos-action.h"

#include <string.h>

/* One action: [profiles ->] session [-> logon] -> the command [-> logoff].
 * Replies go through am_rpc_call_async() rather than the miner's raw view:
 * a session id is not for display. */
typedef struct {
  AmMiner *miner;
  const AmActionRequest *request; /* the core's, valid until act_finish */
  const char *command;            /* the write being sent (static) */
  char *profile;                  /* power_target: the profile chosen */
  GArray *writes;                 /* pools: AmLuxosWrite, in order */
  guint next;                     /* pools: the next write to send */
  char *sid;
  gboolean own_session; /* antmon logged on, so logs off after */
  GError *result;       /* the command's error, reported after logoff */
} Act;

static void
act_free(Act *a)
{
  am_miner_unref(a->miner);
  g_free(a->profile);
  if (a->writes != NULL)
    g_array_unref(a->writes);
  g_free(a->sid);
  g_clear_error(&a->result);
  g_free(a);
}

static void
act_call(GTask *task, const char *command, const char *parameter, GAsyncReadyCallback callback)
{
  Act *a = g_task_get_task_data(task);
  am_rpc_call_async(am_miner_get_host(a->miner), am_miner_get_port(a->miner), command, parameter,
                    am_miner_get_timeout_ms(a->miner), g_task_get_cancellable(task), callback,
                    task);
}

static void
act_return(GTask *task, GError *error)
{
  if (error != NULL)
    g_task_return_error(task, error);
  else
    g_task_return_boolean(task, TRUE);
  g_object_unref(task);
}

/* "127.0.0.1:4028: API error 45: ..." -> "API error 45: ..." */
static const char *
without_address(Act *a, const GError *error)
{
  const char *address = am_miner_get_address(a->miner);
  const char *m = error->message;
  if (g_str_has_prefix(m, address) && g_str_has_prefix(m + strlen(address), ": "))
    return m + strlen(address) + 2;
  return m;
}

/* The firmware's refusal of @command, in words for a farm operator. */
static GError *
refusal(Act *a, const char *command, const GError *error)
{
  if (!g_error_matches(error, AM_ERROR, AM_ERROR_API))
    return g_error_copy(error);
  return g_error_new(AM_ERROR, AM_ERROR_API, "%s: LuxOS refused %s: %s",
                     am_miner_get_address(a->miner), command, without_address(a, error));
}

static void
on_logoff(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Act *a = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, NULL, &error);
  /* A session left open expires after a minute idle: not worth failing
   * an accepted command for. */
  if (reply == NULL)
    g_debug("%s: logoff: %s", am_miner_get_address(a->miner), error->message);
  act_return(task, g_steal_pointer(&a->result));
}

/* Ends the action with @error (or success), logging off first when
 * antmon opened the session. */
static void
finish_session(GTask *task, GError *error)
{
  Act *a = g_task_get_task_data(task);
  a->result = error;
  if (a->own_session && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    act_call(task, "logoff", a->sid, on_logoff);
    return;
  }
  act_return(task, g_steal_pointer(&a->result));
}

/* rebootdevice may take the board down before it answers. */
static gboolean
reboot_went_down(Act *a, const GError *error)
{
  return a->request->kind == AM_ACTION_REBOOT &&
         (g_error_matches(error, AM_ERROR, AM_ERROR_RESET) ||
          g_error_matches(error, AM_ERROR, AM_ERROR_TIMEOUT));
}

static void
on_command(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Act *a = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, NULL, &error);
  if (reply == NULL && reboot_went_down(a, error)) {
    act_return(task, NULL);
    return;
  }
  finish_session(task, reply == NULL ? refusal(a, a->command, error) : NULL);
}

/* What a pool write does, for the operator (no user or password). */
static char *
describe_write(const AmLuxosWrite *w)
{
  if (g_str_equal(w->command, "addpool")) {
    const char *comma = strchr(w->parameter, ',');
    int len = comma != NULL ? (int)(comma - w->parameter) : (int)strlen(w->parameter);
    return g_strdup_printf("add %.*s", len, w->parameter);
  }
  if (g_str_equal(w->command, "switchpool"))
    return g_strdup_printf("switch to pool %s", w->parameter);
  return g_strdup_printf("remove pool %s", w->parameter);
}

/* "done: add a, add b; not done: switch to pool 2, remove pool 0" */
static char *
describe_progress(Act *a)
{
  GString *out = g_string_new("done: ");
  for (guint i = 0; i < a->writes->len; i++) {
    if (i == a->next)
      g_string_append(out, i == 0 ? "nothing; not done: " : "; not done: ");
    else if (i > 0)
      g_string_append(out, ", ");
    g_autofree char *what = describe_write(&g_array_index(a->writes, AmLuxosWrite, i));
    g_string_append(out, what);
  }
  return g_string_free(out, FALSE);
}

static void send_pool_write(GTask *task);

static void
on_pool_write(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Act *a = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, NULL, &error);
  if (reply == NULL) {
    /* Stop at the first refusal: later steps assume the earlier ones. */
    const AmLuxosWrite *w = &g_array_index(a->writes, AmLuxosWrite, a->next);
    g_autofree char *progress = describe_progress(a);
    g_autofree char *what = describe_write(w);
    GError *e;
    if (g_error_matches(error, AM_ERROR, AM_ERROR_API))
      e = g_error_new(AM_ERROR, AM_ERROR_API, "%s: LuxOS refused %s (%s): %s; %s",
                      am_miner_get_address(a->miner), w->command, what, without_address(a, error),
                      progress);
    else
      e = g_error_new(error->domain, error->code, "%s; pools %s", error->message, progress);
    finish_session(task, e);
    return;
  }
  a->next++;
  send_pool_write(task);
}

static void
send_pool_write(GTask *task)
{
  Act *a = g_task_get_task_data(task);
  if (a->next >= a->writes->len) {
    finish_session(task, NULL);
    return;
  }
  const AmLuxosWrite *w = &g_array_index(a->writes, AmLuxosWrite, a->next);
  act_call(task, w->command, w->parameter, on_pool_write);
}

/* The pool count says which indexes the new pools get. */
static void
on_pools(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, NULL, &error);
  JsonArray *pools = reply != NULL ? am_json_array(am_rpc_reply_get_root(reply), "POOLS") : NULL;
  if (reply != NULL && pools == NULL)
    error = g_error_new(AM_ERROR, AM_ERROR_PARSE, "%s: LuxOS \"pools\" gave no POOLS list",
                        am_miner_get_address(a->miner));
  if (error != NULL) {
    g_prefix_error(&error, "pools: nothing changed: ");
    finish_session(task, error);
    return;
  }
  a->writes = am_luxos_pool_writes(a->request, json_array_get_length(pools));
  send_pool_write(task);
}

static void
send_command(GTask *task)
{
  Act *a = g_task_get_task_data(task);
  if (a->request->kind == AM_ACTION_POOLS) {
    act_call(task, "pools", NULL, on_pools);
    return;
  }
  AmLuxosWrite w;
  GError *error = NULL;
  if (!am_luxos_action_build(a->request, a->sid, a->profile, &w, &error)) {
    act_return(task, error);
    return;
  }
  a->command = w.command;
  act_call(task, w.command, w.parameter, on_command);
  am_luxos_write_clear(&w);
}

static void
on_logon(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, NULL, &error);
  if (reply == NULL) {
    act_return(task, refusal(a, "logon", error));
    g_error_free(error);
    return;
  }
  a->sid = am_luxos_session_id(am_rpc_reply_get_root(reply));
  if (a->sid == NULL) {
    act_return(task, g_error_new(AM_ERROR, AM_ERROR_API, "%s: LuxOS logon gave no SessionID",
                                 am_miner_get_address(a->miner)));
    return;
  }
  a->own_session = TRUE;
  send_command(task);
}

/* LuxOS keeps one session: an open one (the web UI's, another tool's) is
 * used as it is, and left open. */
static void
on_session(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, NULL, &error);
  if (reply == NULL && !g_error_matches(error, AM_ERROR, AM_ERROR_API)) {
    act_return(task, error);
    return;
  }
  g_clear_error(&error);
  a->sid = reply != NULL ? am_luxos_session_id(am_rpc_reply_get_root(reply)) : NULL;
  if (a->sid != NULL)
    send_command(task);
  else
    act_call(task, "logon", NULL, on_logon);
}

static void
on_profiles(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, NULL, &error);
  if (reply != NULL)
    a->profile = am_luxos_pick_profile(am_rpc_reply_get_root(reply), a->request->watts, &error);
  if (a->profile == NULL) {
    act_return(task, error);
    return;
  }
  act_call(task, "session", NULL, on_session);
}

void
am_luxos_act_async(AmMiner *miner, const AmActionRequest *request, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_luxos_act_async);
  Act *a = g_new0(Act, 1);
  a->miner = am_miner_ref(miner);
  a->request = request;
  g_task_set_task_data(task, a, (GDestroyNotify)act_free);
  GError *error = NULL;
  if (!am_luxos_action_validate(request, &error)) {
    act_return(task, error);
    return;
  }
  /* A power target is a profile: the miner's list says which. */
  if (request->kind == AM_ACTION_POWER_TARGET)
    act_call(task, "profiles", NULL, on_profiles);
  else
    act_call(task, "session", NULL, on_session);
}

gboolean
am_luxos_act_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}
