/* Whatsminer API v2 write client; see am-whatsminer-v2-client.h. One
 * deadline (AmDeadline) over the whole exchange, as in the v3 client. */
#include "am-whatsminer-v2-client.h"

#include <string.h>

#define READ_CHUNK 4096

typedef struct {
  char *address;
  GBytes *request;
  AmDeadline *deadline;
  GCancellable *cancellable; /* the deadline's (transfer none) */
  GSocketClient *client;
  GSocketConnection *connection;
  GByteArray *reply;
  guint8 chunk[READ_CHUNK];
  gboolean sent;
} Call;

static void
call_free(Call *c)
{
  am_deadline_free(c->deadline);
  g_clear_object(&c->connection);
  g_clear_object(&c->client);
  g_bytes_unref(c->request);
  g_byte_array_unref(c->reply);
  g_free(c->address);
  g_free(c);
}

static void
finish_io(Call *c)
{
  am_deadline_stop(c->deadline);
  if (c->connection != NULL) {
    g_io_stream_close(G_IO_STREAM(c->connection), NULL, NULL);
    g_clear_object(&c->connection);
  }
}

static void
call_fail(GTask *task, const GError *error)
{
  Call *c = g_task_get_task_data(task);
  GError *mapped = am_deadline_error(c->deadline, c->address, error);
  finish_io(c);
  g_task_return_error(task, mapped);
}

static void
call_fail_literal(GTask *task, AmError code, const char *message)
{
  g_autoptr(GError) error = g_error_new_literal(AM_ERROR, code, message);
  call_fail(task, error);
}

static void
call_complete(GTask *task)
{
  Call *c = g_task_get_task_data(task);
  finish_io(c);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = am_rpc_parse((const char *)c->reply->data, c->reply->len, &error);
  if (root == NULL) {
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_PARSE, "%s: %s", c->address, error->message);
    return;
  }
  g_task_return_pointer(task, json_object_ref(json_node_get_object(root)),
                        (GDestroyNotify)json_object_unref);
}

static void read_more(GTask *task);

static void
on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Call *c = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
  if (n < 0) {
    call_fail(task, error);
    return;
  }
  if (n == 0) {
    if (c->reply->len == 0)
      call_fail_literal(task, AM_ERROR_RESET, "closed the connection without replying");
    else
      call_complete(task);
    return;
  }
  /* cgminer ends a reply with a NUL; the rest of the bytes are not read. */
  const guint8 *nul = memchr(c->chunk, '\0', n);
  gsize take = nul != NULL ? (gsize)(nul - c->chunk) : (gsize)n;
  if (c->reply->len + take > AM_WHATSMINER_V2_MAX_REPLY) {
    call_fail_literal(task, AM_ERROR_TOO_LARGE, "the reply is over the write reply cap");
    return;
  }
  g_byte_array_append(c->reply, c->chunk, take);
  if (nul != NULL)
    call_complete(task);
  else
    read_more(g_steal_pointer(&task));
}

static void
read_more(GTask *task)
{
  Call *c = g_task_get_task_data(task);
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(c->connection));
  g_input_stream_read_async(in, c->chunk, sizeof c->chunk, G_PRIORITY_DEFAULT, c->cancellable,
                            on_read, task);
}

static void
on_written(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, &error)) {
    call_fail(task, error);
    return;
  }
  Call *c = g_task_get_task_data(task);
  c->sent = TRUE;
  read_more(g_steal_pointer(&task));
}

static void
on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Call *c = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  c->connection = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
  if (c->connection == NULL) {
    call_fail(task, error);
    return;
  }
  gsize len = 0;
  const void *data = g_bytes_get_data(c->request, &len);
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(c->connection));
  g_output_stream_write_all_async(out, data, len, G_PRIORITY_DEFAULT, c->cancellable, on_written,
                                  g_steal_pointer(&task));
}

void
am_whatsminer_v2_call_async(const char *host, guint16 port, GBytes *request, guint timeout_ms,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_return_if_fail(host != NULL && request != NULL);
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_whatsminer_v2_call_async);
  g_task_set_check_cancellable(task, FALSE);
  Call *c = g_new0(Call, 1);
  c->address = strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                         : g_strdup_printf("%s:%u", host, port);
  c->request = g_bytes_ref(request);
  c->reply = g_byte_array_new();
  c->deadline =
      am_deadline_new(cancellable, timeout_ms > 0 ? timeout_ms : AM_RPC_DEFAULT_TIMEOUT_MS,
                      g_task_get_context(task));
  c->cancellable = am_deadline_get_cancellable(c->deadline);
  g_task_set_task_data(task, c, (GDestroyNotify)call_free);
  c->client = g_socket_client_new();
  /* Miners sit on the local network: no desktop proxy in between. */
  g_socket_client_set_enable_proxy(c->client, FALSE);
  g_autoptr(GSocketConnectable) address = g_network_address_new(host, port);
  g_socket_client_connect_async(c->client, address, c->cancellable, on_connected, task);
}

JsonObject *
am_whatsminer_v2_call_finish(GAsyncResult *result, gboolean *sent_out, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == am_whatsminer_v2_call_async, NULL);
  Call *c = g_task_get_task_data(G_TASK(result));
  if (sent_out != NULL)
    *sent_out = c->sent;
  return g_task_propagate_pointer(G_TASK(result), error);
}
