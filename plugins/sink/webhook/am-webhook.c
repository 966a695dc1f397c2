/* The webhook sink: one HTTP POST with a JSON body per notification, in
 * antmon's own format or the one Slack, Discord, ntfy or Telegram expects.
 *
 * libsoup runs on the main loop; each request has a hard deadline of
 * timeout= (soup's own timeout only covers idle I/O). The URL and the
 * headers may hold tokens, so neither is ever logged. */
#include "am-sink-format.h"
#include "am-webhook-format.h"
#include "sample-ini.h"
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

/* A reply body quoted in an error, at most. */
#define ERROR_BODY_MAX 200

typedef struct {
  char *group;
  char *url; /* where to POST (for ntfy: the server's root) */
  AmWebhookBodyOptions body;
  char *chat_id, *ntfy_topic, *dashboard_url;
  char **headers; /* "Name: value" */
  guint64 timeout_ms;
  SoupSession *session;
} Webhook;

static void
webhook_free(Webhook *self)
{
  if (self->session != NULL) {
    /* Requests in flight end with "cancelled"; they hold no pointer here. */
    soup_session_abort(self->session);
    g_object_unref(self->session);
  }
  g_free(self->group);
  g_free(self->url);
  g_free(self->chat_id);
  g_free(self->ntfy_topic);
  g_free(self->dashboard_url);
  g_strfreev(self->headers);
  g_free(self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Webhook, webhook_free)

/* ---- configuration ----------------------------------------------------- */

/* The value is left out of messages: a webhook URL is often a secret. */
static gboolean
read_url(Webhook *self, GKeyFile *kf, GError **error)
{
  g_autofree char *url = am_config_get_string(kf, self->group, "url", "", error);
  if (url == NULL)
    return FALSE;
  if (url[0] == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] url is missing: expected url=https://... (where to POST alerts)",
                self->group);
    return FALSE;
  }
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
  if (uri == NULL || g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0' ||
      (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] url: expected an http:// or https:// URL with a host", self->group);
    return FALSE;
  }
  if (self->body.format != AM_WEBHOOK_NTFY) {
    self->url = g_steal_pointer(&url);
    return TRUE;
  }
  if (!am_webhook_ntfy_split(url, &self->url, &self->ntfy_topic)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] url: expected the topic's URL for format=ntfy (https://ntfy.sh/TOPIC)",
                self->group);
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_format(Webhook *self, GKeyFile *kf, GError **error)
{
  g_autofree char *format = am_config_get_string(kf, self->group, "format", "json", error);
  if (format == NULL)
    return FALSE;
  if (!am_webhook_format_from_string(format, &self->body.format)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] format=%s: expected one of json, slack, discord, ntfy, telegram", self->group,
                format);
    return FALSE;
  }
  return TRUE;
}

/* headers=Name: value;Other: value */
static gboolean
read_headers(Webhook *self, GKeyFile *kf, GError **error)
{
  self->headers = am_config_get_list(kf, self->group, "headers", error);
  if (self->headers == NULL)
    return FALSE;
  for (guint i = 0; self->headers[i] != NULL; i++) {
    const char *colon = strchr(self->headers[i], ':');
    if (colon == NULL || colon == self->headers[i]) {
      /* Only the position: the value may be a token. */
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "[%s] headers: item %u: expected Name: value (items separated by ';')",
                  self->group, i + 1);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
read_chat_id(Webhook *self, GKeyFile *kf, GError **error)
{
  self->chat_id = am_config_get_string(kf, self->group, "chat_id", "", error);
  if (self->chat_id == NULL)
    return FALSE;
  if (self->body.format == AM_WEBHOOK_TELEGRAM && self->chat_id[0] == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] chat_id is missing: format=telegram needs the chat to post to", self->group);
    return FALSE;
  }
  return TRUE;
}

static gpointer
webhook_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  (void)ctx;
  g_autoptr(Webhook) self = g_new0(Webhook, 1);
  self->group = g_strdup(group);
  if (!read_format(self, kf, error) || !read_url(self, kf, error) ||
      !read_chat_id(self, kf, error) || !read_headers(self, kf, error) ||
      !am_config_get_duration_ms(kf, group, "timeout", 10000, 100, 10 * 60 * 1000,
                                 &self->timeout_ms, error))
    return NULL;
  self->dashboard_url = am_config_get_string(kf, group, "dashboard_url", "", error);
  if (self->dashboard_url == NULL)
    return NULL;
  self->body.dashboard_url = self->dashboard_url;
  self->body.chat_id = self->chat_id;
  self->body.ntfy_topic = self->ntfy_topic;
  self->session = soup_session_new_with_options("timeout", (guint)((self->timeout_ms + 999) / 1000),
                                                "user-agent", "antmon/" AM_VERSION_STRING, NULL);
  return g_steal_pointer(&self);
}

static void
webhook_destroy(gpointer instance)
{
  webhook_free(instance);
}

/* ---- delivery ---------------------------------------------------------- */

/* One POST in flight. It owns copies of what it reports, so that it may
 * outlive the instance (destroy() aborts the session; this still ends). */
typedef struct {
  char *group;
  guint64 timeout_ms;
  SoupMessage *msg;
  GCancellable *cancellable; /* ours: the caller's, or the deadline, cancel it */
  GCancellable *caller;
  gulong caller_handler;
  guint deadline_id;
  gboolean timed_out;
} Request;

static void
request_free(Request *r)
{
  if (r->deadline_id != 0)
    g_source_remove(r->deadline_id);
  if (r->caller != NULL) {
    g_cancellable_disconnect(r->caller, r->caller_handler);
    g_object_unref(r->caller);
  }
  g_object_unref(r->cancellable);
  g_object_unref(r->msg);
  g_free(r->group);
  g_free(r);
}

static void
on_caller_cancelled(GCancellable *caller, gpointer user_data)
{
  (void)caller;
  g_cancellable_cancel(user_data);
}

static gboolean
on_deadline(gpointer user_data)
{
  Request *r = user_data;
  r->deadline_id = 0;
  r->timed_out = TRUE;
  g_cancellable_cancel(r->cancellable);
  return G_SOURCE_REMOVE;
}

static GError *
transport_error(Request *r, GError *error)
{
  if (r->timed_out || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "[%s] no answer within %.1f s", r->group,
                       r->timeout_ms / 1000.0);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy(error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return g_error_new(AM_ERROR, AM_ERROR_REFUSED, "[%s] connection refused", r->group);
  return g_error_new(AM_ERROR, AM_ERROR_FAILED, "[%s] %s", r->group, error->message);
}

/* 2xx is done. 401/403 and other 4xx say the request is wrong (not worth
 * a retry); 408, 429 and 5xx may pass later. */
static GError *
status_error(Request *r, GBytes *body)
{
  guint status = soup_message_get_status(r->msg);
  if (status >= 200 && status < 300)
    return NULL;
  gsize len = 0;
  const char *data = body != NULL ? g_bytes_get_data(body, &len) : NULL;
  g_autofree char *quoted = g_utf8_make_valid(data != NULL ? data : "", MIN(len, ERROR_BODY_MAX));
  int code = AM_ERROR_FAILED;
  if (status == 401 || status == 403)
    code = AM_ERROR_AUTH;
  else if (status >= 400 && status < 500 && status != 408 && status != 429)
    code = AM_ERROR_API;
  return g_error_new(AM_ERROR, code, "[%s] HTTP %u %s%s%s", r->group, status,
                     soup_message_get_reason_phrase(r->msg), quoted[0] != '\0' ? ": " : "",
                     g_strchomp(quoted));
}

static void
on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Request *r = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
  if (body == NULL) {
    g_task_return_error(task, transport_error(r, error));
    return;
  }
  GError *failure = status_error(r, body);
  if (failure != NULL)
    g_task_return_error(task, failure);
  else
    g_task_return_boolean(task, TRUE);
}

static SoupMessage *
build_message(Webhook *self, const AmNotification *n)
{
  SoupMessage *msg = soup_message_new("POST", self->url);
  SoupMessageHeaders *headers = soup_message_get_request_headers(msg);
  for (guint i = 0; self->headers[i] != NULL; i++) {
    const char *colon = strchr(self->headers[i], ':');
    g_autofree char *name = g_strstrip(g_strndup(self->headers[i], colon - self->headers[i]));
    g_autofree char *value = g_strstrip(g_strdup(colon + 1));
    soup_message_headers_replace(headers, name, value);
  }
  char *body = am_webhook_body(n, &self->body);
  gsize len = strlen(body);
  g_autoptr(GBytes) bytes = g_bytes_new_take(body, len);
  soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
  return msg;
}

static void
webhook_deliver_async(gpointer instance, const AmNotification *n, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  Webhook *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  Request *r = g_new0(Request, 1);
  r->group = g_strdup(self->group);
  r->timeout_ms = self->timeout_ms;
  r->msg = build_message(self, n);
  r->cancellable = g_cancellable_new();
  g_task_set_task_data(task, r, (GDestroyNotify)request_free);
  if (cancellable != NULL) {
    r->caller = g_object_ref(cancellable);
    r->caller_handler =
        g_cancellable_connect(cancellable, G_CALLBACK(on_caller_cancelled), r->cancellable, NULL);
  }
  r->deadline_id = g_timeout_add((guint)self->timeout_ms, on_deadline, r);
  soup_session_send_and_read_async(self->session, r->msg, G_PRIORITY_DEFAULT, r->cancellable,
                                   on_sent, task);
}

static gboolean
webhook_deliver_finish(gpointer instance, GAsyncResult *result, GError **error)
{
  (void)instance;
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmSinkVTable webhook_vtable = {
    .struct_size = sizeof(AmSinkVTable),
    .deliver_async = webhook_deliver_async,
    .deliver_finish = webhook_deliver_finish,
};

AM_PLUGIN_DEFINE(.name = "webhook", .kind = AM_PLUGIN_KIND_SINK,
                 .description = "HTTP POST of alerts as JSON (antmon, Slack, Discord, ntfy, "
                                "Telegram)",
                 .version = AM_VERSION_STRING, .sample_config = sample_ini,
                 .create = webhook_create, .destroy = webhook_destroy,
                 .vtable.sink = &webhook_vtable)
