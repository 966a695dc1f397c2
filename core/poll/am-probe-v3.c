/* The Whatsminer API v3 half of a miner's fingerprint: one framed
 * "get.device.info" on TCP 4433, which Whatsminers with firmware from
 * 2024-11 on answer without a login. A frame is a 4-byte little-endian
 * length, then that many bytes of JSON; the reply is framed the same way
 * and is an object with "code". Nothing else speaks this, so an answer of
 * that shape is decisive. The driver (plugins/driver/whatsminer) has its
 * own client; the core does not link drivers, hence this small one. */
#include "am-probe.h"
#include <json-glib/json-glib.h>
#include <string.h>

#define V3_REQUEST "{\"cmd\":\"get.device.info\"}"
/* A device-info reply is about 1 KiB; a bigger frame is not one. */
#define V3_REPLY_MAX 65536

typedef struct {
  GSocketConnection *connection;
  GCancellable *cancellable; /* ours: the caller's and the deadline cancel it */
  GCancellable *caller;
  gulong caller_handler;
  GSource *deadline;
  guint8 request[4 + sizeof V3_REQUEST - 1];
  guint8 *reply; /* the length, then the body */
  gsize reply_len;
  gboolean valid;
} V3Probe;

static void
v3_probe_free(V3Probe *p)
{
  if (p->deadline != NULL) {
    g_source_destroy(p->deadline);
    g_source_unref(p->deadline);
  }
  if (p->caller_handler != 0)
    am_cancel_disconnect(p->caller, p->caller_handler);
  g_clear_object(&p->caller);
  g_clear_object(&p->connection);
  g_clear_object(&p->cancellable);
  g_free(p->reply);
  g_free(p);
}

gboolean
am_v3_reply_is_valid(const guint8 *reply, gsize len)
{
  if (reply == NULL || len < 4)
    return FALSE;
  guint32 body = (guint32)reply[0] | (guint32)reply[1] << 8 | (guint32)reply[2] << 16 |
                 (guint32)reply[3] << 24;
  if (body == 0 || body != len - 4)
    return FALSE;
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, (const char *)reply + 4, (gssize)body, NULL))
    return FALSE;
  JsonNode *root = json_parser_get_root(parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT(root) &&
         json_object_has_member(json_node_get_object(root), "code");
}

static void
v3_probe_return(GTask *task)
{
  V3Probe *p = g_task_get_task_data(task);
  p->valid = am_v3_reply_is_valid(p->reply, p->reply_len);
  g_task_return_boolean(task, TRUE);
}

static void
on_body(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  V3Probe *p = g_task_get_task_data(task);
  gsize n = 0;
  if (!g_input_stream_read_all_finish(G_INPUT_STREAM(source), result, &n, NULL))
    n = 0;
  p->reply_len = 4 + n;
  v3_probe_return(task);
}

static void
on_length(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  V3Probe *p = g_task_get_task_data(task);
  gsize n = 0;
  if (!g_input_stream_read_all_finish(G_INPUT_STREAM(source), result, &n, NULL) || n != 4) {
    v3_probe_return(task);
    return;
  }
  guint32 body = (guint32)p->reply[0] | (guint32)p->reply[1] << 8 | (guint32)p->reply[2] << 16 |
                 (guint32)p->reply[3] << 24;
  if (body == 0 || body > V3_REPLY_MAX) {
    v3_probe_return(task);
    return;
  }
  p->reply = g_realloc(p->reply, 4 + body);
  g_input_stream_read_all_async(G_INPUT_STREAM(source), p->reply + 4, body, G_PRIORITY_DEFAULT,
                                p->cancellable, on_body, g_steal_pointer(&task));
}

static void
on_written(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  V3Probe *p = g_task_get_task_data(task);
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, NULL)) {
    v3_probe_return(task);
    return;
  }
  p->reply = g_malloc(4);
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(p->connection));
  g_input_stream_read_all_async(in, p->reply, 4, G_PRIORITY_DEFAULT, p->cancellable, on_length,
                                g_steal_pointer(&task));
}

static void
on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  V3Probe *p = g_task_get_task_data(task);
  p->connection = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(source), result, NULL);
  if (p->connection == NULL) {
    v3_probe_return(task);
    return;
  }
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(p->connection));
  g_output_stream_write_all_async(out, p->request, sizeof p->request, G_PRIORITY_DEFAULT,
                                  p->cancellable, on_written, g_steal_pointer(&task));
}

static gboolean
on_deadline(gpointer user_data)
{
  g_cancellable_cancel(user_data);
  return G_SOURCE_REMOVE;
}

void
am_v3_probe_async(const char *host, guint16 port, guint timeout_ms, GCancellable *cancellable,
                  GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, NULL, callback, user_data);
  g_task_set_source_tag(task, am_v3_probe_async);
  V3Probe *p = g_new0(V3Probe, 1);
  g_task_set_task_data(task, p, (GDestroyNotify)v3_probe_free);
  p->cancellable = g_cancellable_new();
  if (cancellable != NULL) {
    p->caller = g_object_ref(cancellable);
    p->caller_handler = g_cancellable_connect(cancellable, G_CALLBACK(am_cancel_other),
                                              g_object_ref(p->cancellable), g_object_unref);
  }
  p->deadline = g_timeout_source_new(timeout_ms);
  g_source_set_callback(p->deadline, on_deadline, g_object_ref(p->cancellable), g_object_unref);
  g_source_attach(p->deadline, g_task_get_context(task));

  guint32 len = sizeof V3_REQUEST - 1;
  p->request[0] = (guint8)(len & 0xff);
  p->request[1] = (guint8)(len >> 8 & 0xff);
  p->request[2] = (guint8)(len >> 16 & 0xff);
  p->request[3] = (guint8)(len >> 24 & 0xff);
  memcpy(p->request + 4, V3_REQUEST, len);

  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_enable_proxy(client, FALSE);
  g_socket_client_connect_to_host_async(client, host, port, p->cancellable, on_connected, task);
}

gboolean
am_v3_probe_finish(GAsyncResult *result)
{
  V3Probe *p = g_task_get_task_data(G_TASK(result));
  return p->valid;
}
