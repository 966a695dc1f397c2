/* One REST exchange with a deadline and a size cap: see am-braiins-http.h. */
#include "am-braiins-http.h"

#include <string.h>

typedef struct {
  char *address; /* "host:port", for messages */
  char *path;
  guint timeout_ms;
  gsize max_body;
  SoupMessage *message;
  GCancellable *ours;   /* cancelled by the caller's cancellable or the deadline */
  GCancellable *caller; /* may be NULL */
  gulong caller_handler;
  GSource *deadline;
  gboolean timed_out;
  GInputStream *stream;
  GByteArray *body;
  guint status;
} Exchange;

static void
exchange_disarm(Exchange *x)
{
  if (x->deadline != NULL) {
    g_source_destroy(x->deadline);
    g_clear_pointer(&x->deadline, g_source_unref);
  }
  if (x->caller_handler != 0) {
    /* A plain disconnect: the caller may cancel from inside this very
     * exchange's completion, where g_cancellable_disconnect() would wait. */
    g_signal_handler_disconnect(x->caller, x->caller_handler);
    x->caller_handler = 0;
  }
}

static void
exchange_free(Exchange *x)
{
  exchange_disarm(x);
  g_clear_object(&x->message);
  g_clear_object(&x->stream);
  g_clear_object(&x->ours);
  g_clear_object(&x->caller);
  if (x->body != NULL)
    g_byte_array_unref(x->body);
  g_free(x->address);
  g_free(x->path);
  g_free(x);
}

/* The caller's cancellation or our deadline, told apart; transport errors
 * mapped to the AM_ERROR codes the driver decides on. */
static GError *
transport_error(Exchange *x, const GError *error)
{
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !x->timed_out)
    return g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: cancelled", x->address);
  if (x->timed_out || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: no answer within %.1f s to %s", x->address,
                       x->timeout_ms / 1000.0, x->path);
  if (error->domain == SOUP_SESSION_ERROR)
    return g_error_new(AM_ERROR, AM_ERROR_PARSE, "%s: not an HTTP answer to %s: %s", x->address,
                       x->path, error->message);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return g_error_new(AM_ERROR, AM_ERROR_REFUSED, "%s: connection refused", x->address);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
      g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
      g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
      g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED))
    return g_error_new(AM_ERROR, AM_ERROR_RESET, "%s: connection closed during %s: %s", x->address,
                       x->path, error->message);
  return g_error_new(AM_ERROR, AM_ERROR_FAILED, "%s: %s: %s", x->address, x->path, error->message);
}

static GError *
status_error(Exchange *x)
{
  switch (x->status) {
  case SOUP_STATUS_UNAUTHORIZED:
  case SOUP_STATUS_FORBIDDEN:
    return g_error_new(AM_ERROR, AM_ERROR_AUTH, "%s: HTTP %u from %s: not authorized", x->address,
                       x->status, x->path);
  case SOUP_STATUS_NOT_FOUND:
  case SOUP_STATUS_METHOD_NOT_ALLOWED:
    return g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: HTTP %u from %s: not offered",
                       x->address, x->status, x->path);
  default:
    return g_error_new(AM_ERROR, AM_ERROR_API, "%s: HTTP %u from %s", x->address, x->status,
                       x->path);
  }
}

static void
fail(GTask *task, GError *error)
{
  exchange_disarm(g_task_get_task_data(task));
  g_task_return_error(task, error);
  g_object_unref(task);
}

static void read_more(GTask *task);

static void
on_bytes(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Exchange *x = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk =
      g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
  if (chunk == NULL) {
    fail(task, transport_error(x, error));
    return;
  }
  gsize n = g_bytes_get_size(chunk);
  if (n == 0) {
    exchange_disarm(x);
    g_task_return_pointer(task, g_byte_array_free_to_bytes(g_steal_pointer(&x->body)),
                          (GDestroyNotify)g_bytes_unref);
    g_object_unref(task);
    return;
  }
  if (n > x->max_body - x->body->len) {
    fail(task, g_error_new(AM_ERROR, AM_ERROR_TOO_LARGE,
                           "%s: answer to %s is over the %" G_GSIZE_FORMAT "-byte cap", x->address,
                           x->path, x->max_body));
    return;
  }
  g_byte_array_append(x->body, g_bytes_get_data(chunk, NULL), (guint)n);
  read_more(task);
}

static void
read_more(GTask *task)
{
  Exchange *x = g_task_get_task_data(task);
  g_input_stream_read_bytes_async(x->stream, 16384, G_PRIORITY_DEFAULT, x->ours, on_bytes, task);
}

static void
on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Exchange *x = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  x->stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
  if (x->stream == NULL) {
    fail(task, transport_error(x, error));
    return;
  }
  x->status = soup_message_get_status(x->message);
  if (!SOUP_STATUS_IS_SUCCESSFUL(x->status)) {
    fail(task, status_error(x));
    return;
  }
  x->body = g_byte_array_new();
  read_more(task);
}

static gboolean
on_deadline(gpointer user_data)
{
  Exchange *x = user_data;
  x->timed_out = TRUE;
  g_cancellable_cancel(x->ours);
  return G_SOURCE_REMOVE;
}

static void
forward_cancel(GCancellable *caller, gpointer ours)
{
  g_cancellable_cancel(ours);
}

static SoupMessage *
build_message(const AmBraiinsHttpRequest *r)
{
  g_autoptr(GUri) uri =
      g_uri_build(G_URI_FLAGS_NONE, "http", NULL, r->host, r->port, r->path, NULL, NULL);
  SoupMessage *message = soup_message_new_from_uri(r->method, uri);
  SoupMessageHeaders *headers = soup_message_get_request_headers(message);
  soup_message_headers_replace(headers, "Accept", "application/json");
  if (r->authorization != NULL)
    soup_message_headers_replace(headers, "Authorization", r->authorization);
  if (r->cookie != NULL)
    soup_message_headers_replace(headers, "Cookie", r->cookie);
  if (r->json_body != NULL) {
    g_autoptr(GBytes) body = g_bytes_new(r->json_body, strlen(r->json_body));
    soup_message_set_request_body_from_bytes(message, "application/json", body);
  }
  return message;
}

void
am_braiins_http_async(SoupSession *session, const AmBraiinsHttpRequest *request,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(SOUP_IS_SESSION(session) && request != NULL && request->host != NULL &&
                   request->path != NULL && request->method != NULL);
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_braiins_http_async);
  /* Cancellation is reported by us, with the address in the message. */
  g_task_set_check_cancellable(task, FALSE);

  Exchange *x = g_new0(Exchange, 1);
  x->address = strchr(request->host, ':') != NULL
                   ? g_strdup_printf("[%s]:%u", request->host, request->port)
                   : g_strdup_printf("%s:%u", request->host, request->port);
  x->path = g_strdup(request->path);
  x->timeout_ms = request->timeout_ms > 0 ? request->timeout_ms : AM_RPC_DEFAULT_TIMEOUT_MS;
  x->max_body = request->max_body > 0 ? request->max_body : AM_RPC_DEFAULT_MAX_REPLY;
  x->message = build_message(request);
  x->ours = g_cancellable_new();
  g_task_set_task_data(task, x, (GDestroyNotify)exchange_free);

  if (cancellable != NULL) {
    x->caller = g_object_ref(cancellable);
    x->caller_handler = g_cancellable_connect(cancellable, G_CALLBACK(forward_cancel),
                                              g_object_ref(x->ours), g_object_unref);
  }
  /* On the caller's main context, where the exchange's callbacks run. */
  x->deadline = g_timeout_source_new(x->timeout_ms);
  g_source_set_callback(x->deadline, on_deadline, x, NULL);
  g_source_attach(x->deadline, g_task_get_context(task));
  soup_session_send_async(session, x->message, G_PRIORITY_DEFAULT, x->ours, on_sent, task);
}

GBytes *
am_braiins_http_finish(GAsyncResult *result, guint *status_out, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  Exchange *x = g_task_get_task_data(G_TASK(result));
  if (status_out != NULL)
    *status_out = x->status;
  return g_task_propagate_pointer(G_TASK(result), error);
}

char *
am_braiins_http_cookie(GAsyncResult *result, const char *name)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL) && name != NULL, NULL);
  Exchange *x = g_task_get_task_data(G_TASK(result));
  if (x->status == 0)
    return NULL;
  GSList *cookies = soup_cookies_from_response(x->message);
  char *value = NULL;
  for (GSList *l = cookies; l != NULL && value == NULL; l = l->next) {
    SoupCookie *c = l->data;
    const char *v = soup_cookie_get_value(c);
    if (g_str_equal(soup_cookie_get_name(c), name) && v != NULL && *v != '\0')
      value = g_strdup(v);
  }
  g_slist_free_full(cookies, (GDestroyNotify)soup_cookie_free);
  return value;
}
