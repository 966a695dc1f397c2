/* One CGI GET with digest auth, a deadline and a size cap. */
#include "am-antminer-web-http.h"

#include <string.h>

typedef struct {
  char *host;
  guint16 port;
  char *path;
  char *username;
  char *password;
  guint timeout_ms;
  gsize max_body;
  char *address; /* "host:port" or "[v6]:port", for messages */

  SoupMessage *message;
  guint auth_offers;
  GCancellable *cancellable; /* ours: cancelled by the caller's or the deadline */
  GCancellable *caller;
  gulong caller_handler;
  GSource *deadline;
  gboolean timed_out;
  GInputStream *stream;
  GByteArray *body;
  guint status;
  guint8 chunk[8192];
} Get;

static void
get_stop_clocks(Get *g)
{
  if (g->deadline != NULL) {
    g_source_destroy(g->deadline);
    g_clear_pointer(&g->deadline, g_source_unref);
  }
  if (g->caller_handler != 0) {
    /* Not g_cancellable_disconnect(): a cancel may complete this request
     * synchronously inside the caller's "cancelled" emission, in this same
     * thread, and that call would wait for the emission to end. */
    g_signal_handler_disconnect(g->caller, g->caller_handler);
    g->caller_handler = 0;
  }
}

static void
get_free(Get *g)
{
  get_stop_clocks(g);
  if (g->message != NULL) {
    /* The session may hold the message a little longer than we do. */
    g_signal_handlers_disconnect_by_data(g->message, g);
    g_object_unref(g->message);
  }
  g_clear_object(&g->stream);
  g_clear_object(&g->cancellable);
  g_clear_object(&g->caller);
  if (g->body != NULL)
    g_byte_array_unref(g->body);
  g_free(g->host);
  g_free(g->path);
  g_free(g->username);
  g_free(g->password);
  g_free(g->address);
  g_free(g);
}

SoupSession *
am_web_session_new(void)
{
  /* One session serves every miner of a driver instance: the default cap
   * of 10 connections would serialise a fleet. Keep-alive is short, so a
   * large fleet does not hold thousands of idle sockets between polls. */
  SoupSession *session =
      soup_session_new_with_options("max-conns", 4096, "max-conns-per-host", 2, "idle-timeout", 10,
                                    "timeout", 0, "user-agent", "antmon/" AM_VERSION_STRING, NULL);
  /* Miners sit on the local network: a desktop proxy must not carry this. */
  soup_session_set_proxy_resolver(session, NULL);
  return session;
}

/* ---- errors ------------------------------------------------------------- */

/* Turns a transport error into the AM_ERROR the caller acts on. A cancel is
 * a timeout when our deadline did it, else the caller's cancellation. */
static GError *
map_error(Get *g, const GError *error)
{
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    if (g->timed_out)
      return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s (%s)", g->address,
                         g->timeout_ms / 1000.0, g->path);
    return g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: cancelled", g->address);
  }
  if (error->domain == SOUP_SESSION_ERROR)
    return g_error_new(AM_ERROR, AM_ERROR_PARSE, "%s: not an HTTP reply (%s): %s", g->address,
                       g->path, error->message);
  if (error->domain == G_IO_ERROR) {
    switch (error->code) {
    case G_IO_ERROR_TIMED_OUT:
      return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s (%s)", g->address,
                         g->timeout_ms / 1000.0, g->path);
    case G_IO_ERROR_CONNECTION_REFUSED:
      return g_error_new(AM_ERROR, AM_ERROR_REFUSED, "%s: connection refused", g->address);
    case G_IO_ERROR_CONNECTION_CLOSED:
    case G_IO_ERROR_PARTIAL_INPUT:
    case G_IO_ERROR_NOT_CONNECTED:
      return g_error_new(AM_ERROR, AM_ERROR_RESET, "%s: closed the connection (%s): %s", g->address,
                         g->path, error->message);
    default:
      break;
    }
  }
  return g_error_new(AM_ERROR, AM_ERROR_FAILED, "%s: %s (%s)", g->address, error->message, g->path);
}

static GError *
status_error(Get *g)
{
  const char *reason = soup_status_get_phrase(g->status);
  if (g->status == SOUP_STATUS_UNAUTHORIZED)
    return g_error_new(AM_ERROR, AM_ERROR_AUTH, "%s: wrong username or password (HTTP 401 from %s)",
                       g->address, g->path);
  return g_error_new(
      AM_ERROR, g->status == SOUP_STATUS_NOT_FOUND ? AM_ERROR_UNSUPPORTED : AM_ERROR_API,
      "%s: HTTP %u %s from %s", g->address, g->status, reason != NULL ? reason : "", g->path);
}

static void
get_fail(GTask *task, GError *error)
{
  Get *g = g_task_get_task_data(task);
  get_stop_clocks(g);
  g_debug("%s", error->message);
  g_task_return_error(task, error);
}

/* ---- the exchange ------------------------------------------------------- */

/* Offers the credentials once per request: a second challenge means the
 * miner refused them (or a cached auth went stale and the fresh try
 * failed too), and the 401 then reaches us as AM_ERROR_AUTH. */
static gboolean
on_authenticate(SoupMessage *message, SoupAuth *auth, gboolean retrying, gpointer user_data)
{
  Get *g = user_data;
  if (g->auth_offers++ > 0 || g->username == NULL)
    return FALSE;
  soup_auth_authenticate(auth, g->username, g->password != NULL ? g->password : "");
  return TRUE;
}

static gboolean
on_deadline(gpointer user_data)
{
  Get *g = user_data;
  g->timed_out = TRUE;
  g_cancellable_cancel(g->cancellable);
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
  Get *g = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
  if (n < 0) {
    get_fail(task, map_error(g, error));
    return;
  }
  if (n == 0) {
    get_stop_clocks(g);
    g_task_return_pointer(task, g_byte_array_free_to_bytes(g_steal_pointer(&g->body)),
                          (GDestroyNotify)g_bytes_unref);
    return;
  }
  if ((gsize)n > g->max_body - g->body->len) {
    get_fail(task, g_error_new(AM_ERROR, AM_ERROR_TOO_LARGE,
                               "%s: reply is over the %" G_GSIZE_FORMAT "-byte cap (%s)",
                               g->address, g->max_body, g->path));
    return;
  }
  g_byte_array_append(g->body, g->chunk, (guint)n);
  read_next(g_steal_pointer(&task));
}

static void
read_next(GTask *task)
{
  Get *g = g_task_get_task_data(task);
  g_input_stream_read_async(g->stream, g->chunk, sizeof g->chunk, G_PRIORITY_DEFAULT,
                            g->cancellable, on_read, task);
}

static void
on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Get *g = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g->stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
  if (g->stream == NULL) {
    get_fail(task, map_error(g, error));
    return;
  }
  g->status = soup_message_get_status(g->message);
  if (!SOUP_STATUS_IS_SUCCESSFUL(g->status)) {
    get_fail(task, status_error(g));
    return;
  }
  g->body = g_byte_array_new();
  read_next(g_steal_pointer(&task));
}

static char *
format_address(const char *host, guint16 port)
{
  return strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                   : g_strdup_printf("%s:%u", host, port);
}

void
am_web_get_async(SoupSession *session, const AmWebRequest *request, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(SOUP_IS_SESSION(session) && request != NULL && request->host != NULL &&
                   request->path != NULL);
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_web_get_async);
  /* We report cancellation ourselves, with the address in the message. */
  g_task_set_check_cancellable(task, FALSE);

  Get *g = g_new0(Get, 1);
  g->host = g_strdup(request->host);
  g->port = request->port;
  g->path = g_strdup(request->path);
  g->username = g_strdup(request->username);
  g->password = g_strdup(request->password);
  g->timeout_ms = request->timeout_ms > 0 ? request->timeout_ms : AM_RPC_DEFAULT_TIMEOUT_MS;
  g->max_body = request->max_body > 0 ? request->max_body : AM_RPC_DEFAULT_MAX_REPLY;
  g->address = format_address(g->host, g->port);
  g->cancellable = g_cancellable_new();
  g_task_set_task_data(task, g, (GDestroyNotify)get_free);

  g_autoptr(GUri) uri =
      g_uri_build(G_URI_FLAGS_NONE, "http", NULL, g->host, g->port, g->path, NULL, NULL);
  g->message = soup_message_new_from_uri(SOUP_METHOD_GET, uri);
  soup_message_headers_replace(soup_message_get_request_headers(g->message), "Accept",
                               "application/json");
  g_signal_connect(g->message, "authenticate", G_CALLBACK(on_authenticate), g);

  if (cancellable != NULL) {
    g->caller = g_object_ref(cancellable);
    g->caller_handler = g_cancellable_connect(cancellable, G_CALLBACK(cancel_ours),
                                              g_object_ref(g->cancellable), g_object_unref);
  }
  g->deadline = g_timeout_source_new(g->timeout_ms);
  g_source_set_callback(g->deadline, on_deadline, g, NULL);
  g_source_attach(g->deadline, g_task_get_context(task));

  soup_session_send_async(session, g->message, G_PRIORITY_DEFAULT, g->cancellable, on_sent, task);
}

GBytes *
am_web_get_finish(GAsyncResult *result, guint *status_out, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  Get *g = g_task_get_task_data(G_TASK(result));
  if (status_out != NULL)
    *status_out = g->status;
  return g_task_propagate_pointer(G_TASK(result), error);
}
