/* Whatsminer API v3 client; see am-whatsminer-v3-client.h.
 *
 * One connection per request, as asic-rs does it. One deadline (AmDeadline)
 * covers the whole exchange, and its two causes are told apart afterwards
 * (AM_ERROR_TIMEOUT versus G_IO_ERROR_CANCELLED). The client
 * keeps no state between calls: a GSocketClient per call holds only its
 * settings. */
#include "am-whatsminer-v3-client.h"

#include "am-whatsminer-v3.h"

#include <string.h>

#define READ_CHUNK 16384

typedef struct {
  char *address; /* "host:port" or "[v6]:port", first in every message */
  char *what;    /* "get.miner.status summary", for the debug log */
  guint timeout_ms;
  gsize max_body;
  GBytes *request;
  AmDeadline *deadline;      /* over connect, write and read */
  GCancellable *cancellable; /* the deadline's (transfer none) */
  GSocketClient *client;
  GSocketConnection *connection;
  guint8 header[AM_WHATSMINER_V3_HEADER_SIZE];
  gsize header_len;
  guint32 body_len; /* from the header */
  guint8 *body;     /* len bytes of cap; cap <= body_len */
  gsize len;
  gsize cap;
  guint8 *chunk;
  GBytes *raw;         /* the body bytes that came, for the raw view */
  gboolean check_code; /* a code other than 0 fails the call */
  gboolean sent;       /* the whole request went out */
} Call;

static void
call_free(Call *c)
{
  g_clear_pointer(&c->deadline, am_deadline_free);
  g_clear_object(&c->connection);
  g_clear_object(&c->client);
  g_clear_pointer(&c->request, g_bytes_unref);
  g_clear_pointer(&c->raw, g_bytes_unref);
  g_free(c->body);
  g_free(c->chunk);
  g_free(c->address);
  g_free(c->what);
  g_free(c);
}

/* Stops the clock, unhooks the caller and closes the socket. */
static void
finish_io(Call *c)
{
  am_deadline_stop(c->deadline);
  if (c->connection != NULL) {
    g_io_stream_close(G_IO_STREAM(c->connection), NULL, NULL);
    g_clear_object(&c->connection);
  }
}

static GError *
map_error(Call *c, const GError *error)
{
  return am_deadline_error(c->deadline, c->address, error);
}

static void
keep_raw(Call *c)
{
  if (c->raw == NULL && c->len > 0)
    c->raw = g_bytes_new(c->body, c->len);
  g_clear_pointer(&c->body, g_free);
  c->len = c->cap = 0;
}

static void
call_fail(GTask *task, const GError *error)
{
  Call *c = g_task_get_task_data(task);
  GError *mapped = map_error(c, error);
  keep_raw(c);
  finish_io(c);
  g_debug("%s (%s)", mapped->message, c->what);
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
  keep_raw(c);
  gsize len = 0;
  const char *data = g_bytes_get_data(c->raw, &len);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = am_whatsminer_v3_parse_body(data, len, &error);
  if (reply == NULL || (c->check_code && !am_whatsminer_v3_check(reply, &error))) {
    call_fail(task, error);
    return;
  }
  g_debug("%s: %s: %" G_GSIZE_FORMAT " bytes", c->address, c->what, len);
  g_task_return_pointer(task, g_steal_pointer(&reply), (GDestroyNotify)json_object_unref);
}

static void read_body(GTask *task);
static void read_header(GTask *task);

static void
on_body(GObject *source, GAsyncResult *result, gpointer user_data)
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
    g_autofree char *message =
        g_strdup_printf("closed the connection after %" G_GSIZE_FORMAT " of the %" G_GUINT32_FORMAT
                        " bytes its v3 header announced",
                        c->len, c->body_len);
    call_fail_literal(task, AM_ERROR_RESET, message);
    return;
  }
  /* Grow geometrically, never past what the header announced (itself
   * under the cap): a peer that claims 4 MiB and sends 10 bytes costs 16 KiB. */
  if (c->len + (gsize)n > c->cap) {
    gsize cap = MAX(c->cap * 2, c->len + (gsize)n);
    c->cap = MIN(cap, (gsize)c->body_len);
    c->body = g_realloc(c->body, c->cap);
  }
  memcpy(c->body + c->len, c->chunk, n);
  c->len += n;
  if (c->len == c->body_len)
    call_complete(task);
  else
    read_body(g_steal_pointer(&task));
}

static void
read_body(GTask *task)
{
  Call *c = g_task_get_task_data(task);
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(c->connection));
  gsize want = MIN((gsize)READ_CHUNK, c->body_len - c->len);
  g_input_stream_read_async(in, c->chunk, want, G_PRIORITY_DEFAULT, c->cancellable, on_body, task);
}

static void
on_header(GObject *source, GAsyncResult *result, gpointer user_data)
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
    if (c->header_len == 0) {
      call_fail_literal(task, AM_ERROR_RESET, "closed the connection without replying");
    } else {
      g_autofree char *message = g_strdup_printf("closed the connection after %" G_GSIZE_FORMAT
                                                 " bytes of the 4-byte v3 length header",
                                                 c->header_len);
      call_fail_literal(task, AM_ERROR_RESET, message);
    }
    return;
  }
  c->header_len += n;
  if (c->header_len < AM_WHATSMINER_V3_HEADER_SIZE) {
    read_header(g_steal_pointer(&task));
    return;
  }
  if (!am_whatsminer_v3_body_length(c->header, c->max_body, &c->body_len, &error)) {
    call_fail(task, error);
    return;
  }
  c->chunk = g_malloc(MIN((gsize)READ_CHUNK, (gsize)c->body_len));
  read_body(g_steal_pointer(&task));
}

static void
read_header(GTask *task)
{
  Call *c = g_task_get_task_data(task);
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(c->connection));
  g_input_stream_read_async(in, c->header + c->header_len,
                            AM_WHATSMINER_V3_HEADER_SIZE - c->header_len, G_PRIORITY_DEFAULT,
                            c->cancellable, on_header, task);
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
  read_header(g_steal_pointer(&task));
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

static void start_call(const char *host, guint16 port, GBytes *request, char *what,
                       gboolean check_code, guint timeout_ms, gsize max_body,
                       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);

void
am_whatsminer_v3_call_async(const char *host, guint16 port, const char *cmd, const char *param,
                            guint timeout_ms, gsize max_body, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(host != NULL && cmd != NULL);
  char *what = param != NULL ? g_strdup_printf("%s %s", cmd, param) : g_strdup(cmd);
  start_call(host, port, am_whatsminer_v3_encode(cmd, param), what, TRUE, timeout_ms, max_body,
             cancellable, callback, user_data);
}

void
am_whatsminer_v3_send_async(const char *host, guint16 port, GBytes *frame, const char *what,
                            guint timeout_ms, gsize max_body, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(host != NULL && frame != NULL && what != NULL);
  start_call(host, port, g_bytes_ref(frame), g_strdup(what), FALSE, timeout_ms, max_body,
             cancellable, callback, user_data);
}

gboolean
am_whatsminer_v3_call_was_sent(GAsyncResult *result)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  Call *c = g_task_get_task_data(G_TASK(result));
  return c->sent;
}

/* Takes @request and @what. */
static void
start_call(const char *host, guint16 port, GBytes *request, char *what, gboolean check_code,
           guint timeout_ms, gsize max_body, GCancellable *cancellable,
           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_whatsminer_v3_call_async);
  /* Cancellation is reported here, with the address in the message. */
  g_task_set_check_cancellable(task, FALSE);

  Call *c = g_new0(Call, 1);
  c->address = strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                         : g_strdup_printf("%s:%u", host, port);
  c->what = what;
  c->check_code = check_code;
  c->timeout_ms = timeout_ms > 0 ? timeout_ms : AM_RPC_DEFAULT_TIMEOUT_MS;
  c->max_body = max_body > 0 ? max_body : AM_WHATSMINER_V3_MAX_BODY;
  c->request = request;
  c->deadline = am_deadline_new(cancellable, c->timeout_ms, g_task_get_context(task));
  c->cancellable = am_deadline_get_cancellable(c->deadline);
  g_task_set_task_data(task, c, (GDestroyNotify)call_free);

  c->client = g_socket_client_new();
  /* Miners sit on the local network: no desktop proxy in between. */
  g_socket_client_set_enable_proxy(c->client, FALSE);
  g_autoptr(GSocketConnectable) address = g_network_address_new(host, port);
  g_socket_client_connect_async(c->client, address, c->cancellable, on_connected, task);
}

JsonObject *
am_whatsminer_v3_call_finish(GAsyncResult *result, GBytes **raw_out, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == am_whatsminer_v3_call_async, NULL);
  Call *c = g_task_get_task_data(G_TASK(result));
  if (raw_out != NULL)
    *raw_out = c->raw != NULL ? g_bytes_ref(c->raw) : NULL;
  return g_task_propagate_pointer(G_TASK(result), error);
}
