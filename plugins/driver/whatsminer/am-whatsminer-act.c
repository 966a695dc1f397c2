/* Whatsminer actions, the I/O; see am-whatsminer-act.h. The requests and
 * the reading of replies are pure (am-whatsminer-action.c); this file
 * only moves them, two exchanges per action, one connection each. */
#include "am-whatsminer-act.h"

#include "am-whatsminer-action.h"
#include "am-whatsminer-v2-client.h"
#include "am-whatsminer-v3-client.h"
#include "am-whatsminer-v3.h"

#include <string.h>

/* Write replies are small; the v3 cap for them. */
#define V3_WRITE_MAX_REPLY (256u * 1024u)

typedef struct {
  AmMiner *miner;
  const AmActionRequest *request; /* the core's, valid until we complete */
  gboolean v3;
  guint16 port;
  char *password;
  char *address; /* "host:port", first in every message */
  char *key;     /* v2: the MD5-crypt key of this exchange */
} Act;

static void
act_free(Act *a)
{
  am_miner_unref(a->miner);
  if (a->password != NULL)
    memset(a->password, 0, strlen(a->password)); /* a secret: do not leave it in the heap */
  g_free(a->password);
  if (a->key != NULL)
    memset(a->key, 0, strlen(a->key));
  g_free(a->key);
  g_free(a->address);
  g_free(a);
}

/* A reboot goes down before it answers; btminer may not answer a v2 mode
 * change at all (asic-rs, set_tuning_config). Once the whole request went
 * out, silence or a closed connection means it was taken; the core
 * confirms it from the polls. */
static gboolean
accepted_without_reply(Act *a, gboolean sent, const GError *error)
{
  if (!sent || error->domain != AM_ERROR)
    return FALSE;
  if (error->code != AM_ERROR_RESET && error->code != AM_ERROR_TIMEOUT)
    return FALSE;
  return a->request->kind == AM_ACTION_REBOOT ||
         (!a->v3 && a->request->kind == AM_ACTION_WORK_MODE);
}

static void
act_written(GTask *task, gboolean sent, GError *error)
{
  Act *a = g_task_get_task_data(task);
  if (accepted_without_reply(a, sent, error)) {
    g_debug("%s: %s taken without a reply (%s)", a->address,
            am_action_kind_to_string(a->request->kind), error->message);
    g_error_free(error);
    g_task_return_boolean(task, TRUE);
    return;
  }
  g_task_return_error(task, error);
}

/* ---- API v2 ---- */

static void
v2_on_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Act *a = g_task_get_task_data(task);
  (void)source;
  gboolean sent = FALSE;
  GError *error = NULL;
  g_autoptr(JsonObject) reply = am_whatsminer_v2_call_finish(result, a->address, &sent, &error);
  if (reply == NULL) {
    act_written(task, sent, error);
    return;
  }
  g_autoptr(JsonObject) open = am_whatsminer_v2_open_reply(reply, a->key, &error);
  if (open == NULL) {
    g_prefix_error(&error, "%s: ", a->address);
    g_task_return_error(task, error);
    return;
  }
  if (!am_whatsminer_v2_check_reply(open, a->address, AM_WHATSMINER_V2_USER, &error)) {
    g_task_return_error(task, error);
    return;
  }
  g_task_return_boolean(task, TRUE);
}

static void
v2_on_token(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Act *a = g_task_get_task_data(task);
  (void)source;
  GError *error = NULL;
  g_autoptr(JsonObject) reply = am_whatsminer_v2_call_finish(result, a->address, NULL, &error);
  g_autofree char *time = NULL, *salt = NULL, *newsalt = NULL, *sign = NULL;
  if (reply == NULL ||
      !am_whatsminer_v2_read_token(reply, a->address, &time, &salt, &newsalt, &error) ||
      !am_whatsminer_v2_keys(a->password, salt, newsalt, time, &a->key, &sign, &error)) {
    g_task_return_error(task, error);
    return;
  }
  g_autofree char *command = am_whatsminer_v2_command(a->request, sign, &error);
  if (command == NULL) {
    g_task_return_error(task, error);
    return;
  }
  g_autofree char *envelope = am_whatsminer_v2_envelope(a->key, command);
  memset(command, 0, strlen(command)); /* holds pool passwords in clear */
  g_autoptr(GBytes) request = g_bytes_new(envelope, strlen(envelope));
  GCancellable *cancellable = g_task_get_cancellable(task);
  am_rpc_send_async(am_miner_get_host(a->miner), a->port, request,
                    am_miner_get_timeout_ms(a->miner), cancellable, v2_on_reply,
                    g_steal_pointer(&task));
}

static void
v2_start(GTask *task)
{
  Act *a = g_task_get_task_data(task);
  static const char get_token[] = "{\"command\":\"get_token\"}";
  g_autoptr(GBytes) request = g_bytes_new_static(get_token, sizeof get_token - 1);
  am_rpc_send_async(am_miner_get_host(a->miner), a->port, request,
                    am_miner_get_timeout_ms(a->miner), g_task_get_cancellable(task), v2_on_token,
                    task);
}

/* ---- API v3 ---- */

static void
v3_on_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Act *a = g_task_get_task_data(task);
  (void)source;
  GError *error = NULL;
  g_autoptr(JsonObject) reply = am_whatsminer_v3_call_finish(result, NULL, &error);
  if (reply == NULL) {
    act_written(task, am_whatsminer_v3_call_was_sent(result), error);
    return;
  }
  if (!am_whatsminer_v3_check_write(reply, a->address, AM_WHATSMINER_V3_ACCOUNT,
                                    am_whatsminer_v3_action_cmd(a->request), &error)) {
    g_task_return_error(task, error);
    return;
  }
  g_task_return_boolean(task, TRUE);
}

static void
v3_on_info(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Act *a = g_task_get_task_data(task);
  (void)source;
  GError *error = NULL;
  g_autoptr(JsonObject) info = am_whatsminer_v3_call_finish(result, NULL, &error);
  g_autofree char *salt = NULL;
  if (info == NULL || !am_whatsminer_v3_read_salt(info, a->address, &salt, &error)) {
    g_task_return_error(task, error);
    return;
  }
  gint64 ts = g_get_real_time() / G_USEC_PER_SEC;
  g_autoptr(JsonNode) write = am_whatsminer_v3_write_request(a->request, AM_WHATSMINER_V3_ACCOUNT,
                                                             a->password, salt, ts, &error);
  if (write == NULL) {
    g_task_return_error(task, error);
    return;
  }
  g_autoptr(GBytes) frame = am_whatsminer_v3_encode_node(write);
  GCancellable *cancellable = g_task_get_cancellable(task);
  am_whatsminer_v3_send_async(am_miner_get_host(a->miner), a->port, frame,
                              am_whatsminer_v3_action_cmd(a->request),
                              am_miner_get_timeout_ms(a->miner), V3_WRITE_MAX_REPLY, cancellable,
                              v3_on_reply, g_steal_pointer(&task));
}

static void
v3_start(GTask *task)
{
  Act *a = g_task_get_task_data(task);
  /* The whole device info: the salt, and whether the API takes writes. */
  am_whatsminer_v3_call_async(am_miner_get_host(a->miner), a->port, "get.device.info", NULL,
                              am_miner_get_timeout_ms(a->miner), AM_WHATSMINER_V3_MAX_BODY,
                              g_task_get_cancellable(task), v3_on_info, task);
}

void
am_whatsminer_act_async(AmMiner *miner, const AmActionRequest *request, gboolean v3, guint16 port,
                        const char *password, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_whatsminer_act_async);
  GError *error = NULL;
  if (!am_whatsminer_action_validate(request, &error)) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  Act *a = g_new0(Act, 1);
  a->miner = am_miner_ref(miner);
  a->request = request;
  a->v3 = v3;
  a->port = port;
  a->password = g_strdup(password);
  const char *host = am_miner_get_host(miner);
  a->address = strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                         : g_strdup_printf("%s:%u", host, port);
  g_task_set_task_data(task, a, (GDestroyNotify)act_free);
  g_debug("%s: %s over API %s", a->address, am_action_kind_to_string(request->kind),
          v3 ? "v3" : "v2");
  if (v3)
    v3_start(task);
  else
    v2_start(task);
}

gboolean
am_whatsminer_act_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}
