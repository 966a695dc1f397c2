/* The antminer-web driver's actions, I/O only: read get_miner_conf.cgi
 * when the write needs it, send the request am-antminer-web-action.c
 * builds, under the miner's credentials (HTTP digest) and timeout, and
 * judge the answer. Completes when the firmware accepted the write; the
 * core confirms the effect from the next polls. */
#include "am-antminer-web-action.h"
#include "am-antminer-web-private.h"

#include <string.h>

typedef struct {
  AmMiner *miner;
  SoupSession *session;
  const AmActionRequest *request; /* the core's, valid until act_finish() */
  AmWebCall call;
  char *username, *password;
  char *address; /* "host:port" for messages */
  AmAntminerWebWrite write;
} Act;

static void
act_free(Act *a)
{
  am_miner_unref(a->miner);
  g_object_unref(a->session);
  g_free(a->username);
  g_free(a->password);
  g_free(a->address);
  am_antminer_web_write_clear(&a->write);
  g_free(a);
}

AmActionSet
am_antminer_web_vtable_actions(gpointer self, AmMiner *miner, const AmSample *sample)
{
  return am_antminer_web_actions(sample);
}

/* A refused login names the user (never the password) in words an
 * operator acts on; the rest of am-web-call's errors already name the
 * address, method and path. */
static void
return_call_error(GTask *task, GError *error, guint status)
{
  Act *a = g_task_get_task_data(task);
  if (error->domain == AM_ERROR && error->code == AM_ERROR_AUTH) {
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_AUTH,
                            "%s: %s was refused by the miner's web login (%u)", a->address,
                            a->username, status != 0 ? status : 401);
    g_error_free(error);
    return;
  }
  g_task_return_error(task, error);
}

static void
on_written(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  guint status = 0;
  g_autoptr(GBytes) body = am_web_call_finish(result, &status, &error);
  if (body == NULL) {
    return_call_error(task, error, status);
    return;
  }
  am_miner_store_raw(a->miner, a->write.path + strlen("/cgi-bin/"), body);
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  if (!am_antminer_web_check_reply(a->request->kind, a->request->on, data, len, &error)) {
    g_prefix_error(&error, "%s: %s %s: ", a->address, a->write.method, a->write.path);
    g_task_return_error(task, error);
    return;
  }
  g_task_return_boolean(task, TRUE);
}

static void
send_write(GTask *task)
{
  Act *a = g_task_get_task_data(task);
  a->call.method = a->write.method;
  a->call.path = a->write.path;
  a->call.body = a->write.body;
  a->call.content_type = a->write.content_type;
  am_web_call_async(a->session, &a->call, g_task_get_cancellable(task), on_written, task);
}

/* Builds the write from @conf (NULL when none was needed) and sends it. */
static void
build_and_send(GTask *task, JsonObject *conf)
{
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  if (!am_antminer_web_build_write(a->request, conf, &a->write, &error)) {
    g_prefix_error(&error, "%s: ", a->address);
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  send_write(task);
}

/* A failed read of the conf ends the action when the write needs the conf,
 * or when the login or the connection failed; otherwise (reboot, locate on
 * an image without get_miner_conf.cgi) the write goes on. */
static gboolean
conf_failure_is_fatal(const Act *a, const GError *error)
{
  if (am_antminer_web_needs_conf(a->request->kind) || error->domain != AM_ERROR)
    return TRUE;
  return error->code != AM_ERROR_UNSUPPORTED && error->code != AM_ERROR_API &&
         error->code != AM_ERROR_PARSE;
}

static void
on_conf(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  guint status = 0;
  g_autoptr(GBytes) body = am_web_call_finish(result, &status, &error);
  if (body == NULL && conf_failure_is_fatal(a, error)) {
    return_call_error(task, error, status);
    g_object_unref(task);
    return;
  }
  g_clear_error(&error);
  g_autoptr(JsonNode) root = NULL;
  if (body != NULL) {
    am_miner_store_raw(a->miner, "get_miner_conf.cgi", body);
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);
    root = am_rpc_parse(data, len, NULL);
  }
  build_and_send(task,
                 root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL);
}

void
am_antminer_web_act_async(gpointer instance, AmMiner *miner, const AmActionRequest *request,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  AmAntminerWeb *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_antminer_web_act_async);
  Act *a = g_new0(Act, 1);
  a->miner = am_miner_ref(miner);
  a->session = g_object_ref(self->session);
  a->request = request;
  am_antminer_web_call_init(self, miner, &a->call, &a->username, &a->password);
  a->address = am_web_format_address(a->call.host, a->call.port);
  g_task_set_task_data(task, a, (GDestroyNotify)act_free);

  GError *error = NULL;
  if (!am_antminer_web_check_request(request, &error)) {
    g_prefix_error(&error, "%s: ", a->address);
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  /* Every action reads the conf first: set_miner_conf.cgi rewrites the
   * configuration from what it is posted, and for the other writes the GET
   * takes the digest challenge, so the POST goes out authenticated at once.
   * (libsoup 3.2 re-sends a challenged request with an empty body: a POST
   * answered 401 would reach the miner without its JSON.) */
  a->call.method = "GET";
  a->call.path = AM_ANTMINER_WEB_GET_CONF;
  am_web_call_async(a->session, &a->call, cancellable, on_conf, task);
}

gboolean
am_antminer_web_act_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}
