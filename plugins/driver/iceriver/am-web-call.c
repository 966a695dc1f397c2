/* One HTTP request with a method, a form body, a cookie or bearer token,
 * a deadline and a size cap. */
#include "am-web-call.h"

#include <string.h>

typedef struct {
  char *path; /* for messages: never the query */
  char *address;
  guint timeout_ms;
  gsize max_body;

  SoupMessage *message;
  GCancellable *cancellable; /* ours: cancelled by the caller's or the deadline */
  GCancellable *caller;
  gulong caller_handler;
  GSource *deadline;
  gboolean timed_out;
  GInputStream *stream;
  GByteArray *body;
  char *cookies;
} Call;

static void
call_stop_clocks(Call *c)
{
  if (c->deadline != NULL) {
    g_source_destroy(c->deadline);
    g_clear_pointer(&c->deadline, g_source_unref);
  }
  if (c->caller_handler != 0) {
    /* Not g_cancellable_disconnect(): a cancel may finish this request
     * inside the caller's "cancelled" emission, and that call would wait
     * for the emission to end. */
    g_signal_handler_disconnect(c->caller, c->caller_handler);
    c->caller_handler = 0;
  }
}

static void
call_free(Call *c)
{
  call_stop_clocks(c);
  g_clear_object(&c->message);
  g_clear_object(&c->stream);
  g_clear_object(&c->cancellable);
  g_clear_object(&c->caller);
  if (c->body != NULL)
    g_byte_array_unref(c->body);
  g_free(c->path);
  g_free(c->address);
  g_free(c->cookies);
  g_free(c);
}

char *
am_web_format_address(const char *host, guint16 port)
{
  return strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                   : g_strdup_printf("%s:%u", host, port);
}

/* ---- errors ------------------------------------------------------------- */

/* A transport error as the AM_ERROR the caller acts on. A cancel is a
 * timeout when our deadline did it, else the caller's cancellation. */
static GError *
map_error(Call *c, const GError *error)
{
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    if (c->timed_out)
      return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s (%s)", c->address,
                         c->timeout_ms / 1000.0, c->path);
    return g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: cancelled", c->address);
  }
  if (error->domain == SOUP_SESSION_ERROR)
    return g_error_new(AM_ERROR, AM_ERROR_PARSE, "%s: not an HTTP reply (%s): %s", c->address,
                       c->path, error->message);
  if (error->domain == G_IO_ERROR) {
    switch (error->code) {
    case G_IO_ERROR_TIMED_OUT:
      return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s (%s)", c->address,
                         c->timeout_ms / 1000.0, c->path);
    case G_IO_ERROR_CONNECTION_REFUSED:
      return g_error_new(AM_ERROR, AM_ERROR_REFUSED, "%s: connection refused", c->address);
    case G_IO_ERROR_CONNECTION_CLOSED:
    case G_IO_ERROR_PARTIAL_INPUT:
    case G_IO_ERROR_NOT_CONNECTED:
      return g_error_new(AM_ERROR, AM_ERROR_RESET, "%s: closed the connection (%s): %s", c->address,
                         c->path, error->message);
    default:
      break;
    }
  }
  return g_error_new(AM_ERROR, AM_ERROR_FAILED, "%s: %s (%s)", c->address, error->message, c->path);
}

static GError *
status_error(Call *c, guint status)
{
  const char *reason = soup_status_get_phrase(status);
  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    return g_error_new(AM_ERROR, AM_ERROR_AUTH,
                       "%s: HTTP %u %s from %s: wrong user or password, or no session", c->address,
                       status, reason != NULL ? reason : "", c->path);
  return g_error_new(
      AM_ERROR, status == SOUP_STATUS_NOT_FOUND ? AM_ERROR_UNSUPPORTED : AM_ERROR_API,
      "%s: HTTP %u %s from %s", c->address, status, reason != NULL ? reason : "", c->path);
}

static void
call_fail(GTask *task, GError *error)
{
  Call *c = g_task_get_task_data(task);
  call_stop_clocks(c);
  g_debug("%s", error->message);
  g_task_return_error(task, error);
}

/* ---- the exchange ------------------------------------------------------- */

static gboolean
on_deadline(gpointer user_data)
{
  Call *c = user_data;
  c->timed_out = TRUE;
  g_cancellable_cancel(c->cancellable);
  return G_SOURCE_REMOVE;
}

static void
cancel_ours(GCancellable *caller, gpointer ours)
{
  g_cancellable_cancel(ours);
}

static void read_next(GTask *task);

static void
on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Call *c = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk =
      g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
  if (chunk == NULL) {
    call_fail(task, map_error(c, error));
    return;
  }
  gsize n = g_bytes_get_size(chunk);
  if (n == 0) {
    call_stop_clocks(c);
    g_task_return_pointer(task, g_byte_array_free_to_bytes(g_steal_pointer(&c->body)),
                          (GDestroyNotify)g_bytes_unref);
    return;
  }
  if (n > c->max_body - c->body->len) {
    call_fail(task, g_error_new(AM_ERROR, AM_ERROR_TOO_LARGE,
                                "%s: reply is over the %" G_GSIZE_FORMAT "-byte cap (%s)",
                                c->address, c->max_body, c->path));
    return;
  }
  g_byte_array_append(c->body, g_bytes_get_data(chunk, NULL), (guint)n);
  read_next(g_steal_pointer(&task));
}

static void
read_next(GTask *task)
{
  Call *c = g_task_get_task_data(task);
  g_input_stream_read_bytes_async(c->stream, 8192, G_PRIORITY_DEFAULT, c->cancellable, on_read,
                                  task);
}

/* The Set-Cookie values, as the Cookie header that sends them back. */
static char *
reply_cookies(SoupMessage *message)
{
  GSList *cookies = soup_cookies_from_response(message);
  char *header = cookies != NULL ? soup_cookies_to_cookie_header(cookies) : NULL;
  soup_cookies_free(cookies);
  return header;
}

static void
on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Call *c = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  c->stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
  if (c->stream == NULL) {
    call_fail(task, map_error(c, error));
    return;
  }
  guint status = soup_message_get_status(c->message);
  if (!SOUP_STATUS_IS_SUCCESSFUL(status)) {
    call_fail(task, status_error(c, status));
    return;
  }
  c->cookies = reply_cookies(c->message);
  c->body = g_byte_array_new();
  read_next(g_steal_pointer(&task));
}

static SoupMessage *
build_message(const AmWebCall *call)
{
  g_autoptr(GUri) uri = g_uri_build(G_URI_FLAGS_ENCODED_QUERY, "http", NULL, call->host, call->port,
                                    call->path, call->query, NULL);
  SoupMessage *message = soup_message_new_from_uri(call->method, uri);
  SoupMessageHeaders *headers = soup_message_get_request_headers(message);
  soup_message_headers_replace(headers, "Accept", "application/json, text/javascript, */*");
  if (call->form != NULL) {
    g_autoptr(GBytes) body = g_bytes_new(call->form, strlen(call->form));
    soup_message_set_request_body_from_bytes(message, "application/x-www-form-urlencoded", body);
  }
  if (call->cookie != NULL)
    soup_message_headers_replace(headers, "Cookie", call->cookie);
  if (call->bearer != NULL) {
    g_autofree char *value = g_strconcat("Bearer ", call->bearer, NULL);
    soup_message_headers_replace(headers, "Authorization", value);
  }
  return message;
}

void
am_web_call_async(SoupSession *session, const AmWebCall *call, GCancellable *cancellable,
                  GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(SOUP_IS_SESSION(session) && call != NULL && call->host != NULL &&
                   call->path != NULL && call->method != NULL);
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_web_call_async);
  /* We report cancellation ourselves, with the address in the message. */
  g_task_set_check_cancellable(task, FALSE);

  Call *c = g_new0(Call, 1);
  c->path = g_strdup(call->path);
  c->address = am_web_format_address(call->host, call->port);
  c->timeout_ms = call->timeout_ms > 0 ? call->timeout_ms : AM_RPC_DEFAULT_TIMEOUT_MS;
  c->max_body = call->max_body > 0 ? call->max_body : AM_RPC_DEFAULT_MAX_REPLY;
  c->cancellable = g_cancellable_new();
  c->message = build_message(call);
  g_task_set_task_data(task, c, (GDestroyNotify)call_free);

  if (cancellable != NULL) {
    c->caller = g_object_ref(cancellable);
    c->caller_handler = g_cancellable_connect(cancellable, G_CALLBACK(cancel_ours),
                                              g_object_ref(c->cancellable), g_object_unref);
  }
  c->deadline = g_timeout_source_new(c->timeout_ms);
  g_source_set_callback(c->deadline, on_deadline, c, NULL);
  g_source_attach(c->deadline, g_task_get_context(task));

  soup_session_send_async(session, c->message, G_PRIORITY_DEFAULT, c->cancellable, on_sent, task);
}

GBytes *
am_web_call_finish(GAsyncResult *result, char **cookies_out, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  Call *c = g_task_get_task_data(G_TASK(result));
  if (cookies_out != NULL)
    *cookies_out = g_strdup(c->cookies);
  return g_task_propagate_pointer(G_TASK(result), error);
}
