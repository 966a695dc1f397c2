/* One token- or cookie-authenticated HTTP request with a deadline and a
 * size cap; see am-rest-call.h. */
#include "am-rest-call.h"

#include <string.h>

typedef struct {
  char *address; /* "host:port" or "[v6]:port", for messages */
  char *what;    /* "GET /api/v1/mining", for messages */
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
  char *cookie;
  guint status;
} Call;

static void
call_stop_clocks(Call *c)
{
  if (c->deadline != NULL) {
    g_source_destroy(c->deadline);
    g_clear_pointer(&c->deadline, g_source_unref);
  }
  if (c->caller_handler != 0) {
    /* Not g_cancellable_disconnect(): a cancel may complete this request
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
  g_free(c->address);
  g_free(c->what);
  g_free(c->cookie);
  g_free(c);
}

/* ---- errors ------------------------------------------------------------- */

/* A cancel is a timeout when our deadline did it, else the caller's. */
static GError *
map_error(Call *c, const GError *error)
{
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    if (c->timed_out)
      return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s (%s)", c->address,
                         c->timeout_ms / 1000.0, c->what);
    return g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: cancelled", c->address);
  }
  if (error->domain == SOUP_SESSION_ERROR)
    return g_error_new(AM_ERROR, AM_ERROR_PARSE, "%s: not an HTTP reply (%s): %s", c->address,
                       c->what, error->message);
  if (error->domain == G_IO_ERROR) {
    switch (error->code) {
    case G_IO_ERROR_TIMED_OUT:
      return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s (%s)", c->address,
                         c->timeout_ms / 1000.0, c->what);
    case G_IO_ERROR_CONNECTION_REFUSED:
      return g_error_new(AM_ERROR, AM_ERROR_REFUSED, "%s: connection refused", c->address);
    case G_IO_ERROR_CONNECTION_CLOSED:
    case G_IO_ERROR_PARTIAL_INPUT:
    case G_IO_ERROR_NOT_CONNECTED:
      return g_error_new(AM_ERROR, AM_ERROR_RESET, "%s: closed the connection (%s): %s", c->address,
                         c->what, error->message);
    default:
      break;
    }
  }
  return g_error_new(AM_ERROR, AM_ERROR_FAILED, "%s: %s (%s)", c->address, error->message, c->what);
}

static GError *
status_error(Call *c, guint status)
{
  const char *reason = soup_status_get_phrase(status);
  AmError code = AM_ERROR_API;
  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    code = AM_ERROR_AUTH;
  else if (status == SOUP_STATUS_NOT_FOUND)
    code = AM_ERROR_UNSUPPORTED;
  return g_error_new(AM_ERROR, code, "%s: HTTP %u %s from %s", c->address, status,
                     reason != NULL ? reason : "", c->what);
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
                                c->address, c->max_body, c->what));
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

/* The first cookie's "name=value": the session cookie these miners set. */
static char *
first_cookie(SoupMessage *message)
{
  const char *header =
      soup_message_headers_get_list(soup_message_get_response_headers(message), "Set-Cookie");
  if (header == NULL)
    return NULL;
  const char *end = strchr(header, ';');
  g_autofree char *pair = end != NULL ? g_strndup(header, end - header) : g_strdup(header);
  g_strstrip(pair);
  return strchr(pair, '=') != NULL && pair[0] != '=' ? g_steal_pointer(&pair) : NULL;
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
  c->status = soup_message_get_status(c->message);
  if (!SOUP_STATUS_IS_SUCCESSFUL(c->status)) {
    call_fail(task, status_error(c, c->status));
    return;
  }
  c->cookie = first_cookie(c->message);
  c->body = g_byte_array_new();
  read_next(g_steal_pointer(&task));
}

static char *
format_address(const char *host, guint16 port)
{
  return strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                   : g_strdup_printf("%s:%u", host, port);
}

static SoupMessage *
build_message(const AmRestCall *call)
{
  g_autofree char *uri_text = NULL;
  g_autofree char *host =
      strchr(call->host, ':') != NULL ? g_strdup_printf("[%s]", call->host) : g_strdup(call->host);
  uri_text = g_strdup_printf("http://%s:%u%s", host, call->port, call->path);
  SoupMessage *message = soup_message_new(call->method, uri_text);
  if (message == NULL)
    return NULL;
  SoupMessageHeaders *headers = soup_message_get_request_headers(message);
  soup_message_headers_replace(headers, "Accept", "application/json");
  if (call->authorization != NULL)
    soup_message_headers_replace(headers, "Authorization", call->authorization);
  if (call->cookie != NULL)
    soup_message_headers_replace(headers, "Cookie", call->cookie);
  if (call->body != NULL)
    soup_message_set_request_body_from_bytes(message, call->content_type, call->body);
  /* A login page behind a redirect is not the reply that was asked for. */
  soup_message_add_flags(message, SOUP_MESSAGE_NO_REDIRECT);
  return message;
}

void
am_rest_call_async(SoupSession *session, const AmRestCall *call, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(SOUP_IS_SESSION(session) && call != NULL && call->host != NULL &&
                   call->path != NULL && call->method != NULL);
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_rest_call_async);
  /* We report cancellation ourselves, with the address in the message. */
  g_task_set_check_cancellable(task, FALSE);

  Call *c = g_new0(Call, 1);
  c->address = format_address(call->host, call->port);
  c->what = g_strdup_printf("%s %s", call->method, call->path);
  c->timeout_ms = call->timeout_ms > 0 ? call->timeout_ms : AM_RPC_DEFAULT_TIMEOUT_MS;
  c->max_body = call->max_body > 0 ? call->max_body : AM_RPC_DEFAULT_MAX_REPLY;
  c->cancellable = g_cancellable_new();
  g_task_set_task_data(task, c, (GDestroyNotify)call_free);

  c->message = build_message(call);
  if (c->message == NULL) {
    call_fail(task, g_error_new(AM_ERROR, AM_ERROR_CONFIG, "%s: not a valid URL (%s)", c->address,
                                c->what));
    g_object_unref(task);
    return;
  }
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
am_rest_call_finish(GAsyncResult *result, guint *status_out, char **cookie_out, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  Call *c = g_task_get_task_data(G_TASK(result));
  if (status_out != NULL)
    *status_out = c->status;
  GBytes *body = g_task_propagate_pointer(G_TASK(result), error);
  if (cookie_out != NULL)
    *cookie_out = body != NULL ? g_strdup(c->cookie) : NULL;
  return body;
}

JsonNode *
am_rest_parse_json(const char *what, const char *data, gsize len, GError **error)
{
  if (data == NULL || len == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: empty reply", what);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) local = NULL;
  if (len > G_MAXSSIZE || !json_parser_load_from_data(parser, data, (gssize)len, &local)) {
    g_autofree char *start = g_utf8_make_valid(data, MIN(len, 60));
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not JSON: %s (starts \"%s\")", what,
                local != NULL ? local->message : "too long", start);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: empty reply", what);
    return NULL;
  }
  return json_node_ref(root);
}
