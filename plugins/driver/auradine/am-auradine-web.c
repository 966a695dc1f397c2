/* One web API request with a deadline and a size cap; see am-auradine-web.h. */
#include "am-auradine-web.h"

#include <string.h>

typedef struct {
  char *address; /* "host:port", for messages */
  char *path;
  guint timeout_ms;
  gsize max_body;
  SoupMessage *message;
  GCancellable *cancellable; /* ours: cancelled by the caller's or by the deadline */
  GCancellable *caller;
  gulong caller_handler;
  GSource *deadline;
  gboolean timed_out;
  GInputStream *stream;
  GByteArray *body;
} Request;

static void
request_stop_clocks(Request *r)
{
  if (r->deadline != NULL) {
    g_source_destroy(r->deadline);
    g_clear_pointer(&r->deadline, g_source_unref);
  }
  if (r->caller_handler != 0) {
    /* Not g_cancellable_disconnect(): it would wait for a "cancelled"
     * emission that may be the one completing this request. */
    g_signal_handler_disconnect(r->caller, r->caller_handler);
    r->caller_handler = 0;
  }
}

static void
request_free(Request *r)
{
  request_stop_clocks(r);
  g_clear_object(&r->message);
  g_clear_object(&r->stream);
  g_clear_object(&r->cancellable);
  g_clear_object(&r->caller);
  if (r->body != NULL)
    g_byte_array_unref(r->body);
  g_free(r->address);
  g_free(r->path);
  g_free(r);
}

/* A transport error as the AM_ERROR the caller acts on; a cancel is a
 * timeout when our deadline did it. */
static GError *
map_error(Request *r, const GError *error)
{
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !r->timed_out)
    return g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: cancelled", r->address);
  if (r->timed_out || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s (%s)", r->address,
                       r->timeout_ms / 1000.0, r->path);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return g_error_new(AM_ERROR, AM_ERROR_REFUSED, "%s: connection refused", r->address);
  if (error->domain == SOUP_SESSION_ERROR)
    return g_error_new(AM_ERROR, AM_ERROR_PARSE, "%s: not an HTTP reply (%s): %s", r->address,
                       r->path, error->message);
  if (error->domain == G_IO_ERROR)
    return g_error_new(AM_ERROR, AM_ERROR_RESET, "%s: connection lost (%s): %s", r->address,
                       r->path, error->message);
  return g_error_new(AM_ERROR, AM_ERROR_FAILED, "%s: %s (%s)", r->address, error->message, r->path);
}

static GError *
status_error(Request *r, guint status)
{
  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    return g_error_new(AM_ERROR, AM_ERROR_AUTH, "%s: HTTP %u from %s: token or login refused",
                       r->address, status, r->path);
  const char *phrase = soup_status_get_phrase(status);
  return g_error_new(
      AM_ERROR, status == SOUP_STATUS_NOT_FOUND ? AM_ERROR_UNSUPPORTED : AM_ERROR_API,
      "%s: HTTP %u %s from %s", r->address, status, phrase != NULL ? phrase : "", r->path);
}

static void
request_fail(GTask *task, GError *error)
{
  request_stop_clocks(g_task_get_task_data(task));
  g_debug("%s", error->message);
  g_task_return_error(task, error);
}

static void read_next(GTask *task);

static void
on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Request *r = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk =
      g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
  if (chunk == NULL) {
    request_fail(task, map_error(r, error));
    return;
  }
  gsize n = g_bytes_get_size(chunk);
  if (n == 0) {
    request_stop_clocks(r);
    g_task_return_pointer(task, g_byte_array_free_to_bytes(g_steal_pointer(&r->body)),
                          (GDestroyNotify)g_bytes_unref);
    return;
  }
  if (n > r->max_body - r->body->len) {
    request_fail(task, g_error_new(AM_ERROR, AM_ERROR_TOO_LARGE,
                                   "%s: reply is over the %" G_GSIZE_FORMAT "-byte cap (%s)",
                                   r->address, r->max_body, r->path));
    return;
  }
  g_byte_array_append(r->body, g_bytes_get_data(chunk, NULL), (guint)n);
  read_next(g_steal_pointer(&task));
}

static void
read_next(GTask *task)
{
  Request *r = g_task_get_task_data(task);
  g_input_stream_read_bytes_async(r->stream, 16384, G_PRIORITY_DEFAULT, r->cancellable, on_read,
                                  task);
}

static void
on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Request *r = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  r->stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
  if (r->stream == NULL) {
    request_fail(task, map_error(r, error));
    return;
  }
  guint status = soup_message_get_status(r->message);
  if (!SOUP_STATUS_IS_SUCCESSFUL(status)) {
    request_fail(task, status_error(r, status));
    return;
  }
  r->body = g_byte_array_new();
  read_next(g_steal_pointer(&task));
}

static gboolean
on_deadline(gpointer user_data)
{
  Request *r = user_data;
  r->timed_out = TRUE;
  g_cancellable_cancel(r->cancellable);
  return G_SOURCE_REMOVE;
}

static void
cancel_ours(GCancellable *caller, gpointer ours)
{
  g_cancellable_cancel(ours);
}

static SoupMessage *
build_message(const AmAuradineRequest *request)
{
  g_autoptr(GUri) uri = g_uri_build(G_URI_FLAGS_NONE, "http", NULL, request->host, request->port,
                                    request->path, NULL, NULL);
  /* Plain strings, not SOUP_METHOD_POST: that macro interns this module's
   * own literal with g_intern_static_string(), which dangles once the
   * module is unloaded. */
  const char *method = request->json_body != NULL ? "POST" : "GET";
  SoupMessage *message = soup_message_new_from_uri(method, uri);
  SoupMessageHeaders *headers = soup_message_get_request_headers(message);
  soup_message_headers_replace(headers, "Accept", "application/json");
  if (request->token != NULL)
    soup_message_headers_replace(headers, "Token", request->token);
  if (request->json_body != NULL) {
    g_autoptr(GBytes) body = g_bytes_new(request->json_body, strlen(request->json_body));
    soup_message_set_request_body_from_bytes(message, "application/json", body);
  }
  return message;
}

void
am_auradine_http_async(SoupSession *session, const AmAuradineRequest *request,
                       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(SOUP_IS_SESSION(session) && request != NULL && request->host != NULL &&
                   request->path != NULL);
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_auradine_http_async);
  /* Cancellation is reported by us, with the address in the message. */
  g_task_set_check_cancellable(task, FALSE);

  Request *r = g_new0(Request, 1);
  r->address = strchr(request->host, ':') != NULL
                   ? g_strdup_printf("[%s]:%u", request->host, request->port)
                   : g_strdup_printf("%s:%u", request->host, request->port);
  r->path = g_strdup(request->path);
  r->timeout_ms = request->timeout_ms > 0 ? request->timeout_ms : AM_RPC_DEFAULT_TIMEOUT_MS;
  r->max_body = request->max_body > 0 ? request->max_body : AM_RPC_DEFAULT_MAX_REPLY;
  r->message = build_message(request);
  r->cancellable = g_cancellable_new();
  g_task_set_task_data(task, r, (GDestroyNotify)request_free);

  if (cancellable != NULL) {
    r->caller = g_object_ref(cancellable);
    r->caller_handler = g_cancellable_connect(cancellable, G_CALLBACK(cancel_ours),
                                              g_object_ref(r->cancellable), g_object_unref);
  }
  r->deadline = g_timeout_source_new(r->timeout_ms);
  g_source_set_callback(r->deadline, on_deadline, r, NULL);
  g_source_attach(r->deadline, g_task_get_context(task));

  soup_session_send_async(session, r->message, G_PRIORITY_DEFAULT, r->cancellable, on_sent, task);
}

GBytes *
am_auradine_http_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
