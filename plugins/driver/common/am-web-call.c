/* One HTTP request with a deadline and a size cap; see am-web-call.h. */
#include "am-web-call.h"

#include <string.h>

typedef struct {
  char *address; /* "host:port" or "[v6]:port", for messages */
  char *what;    /* "GET /api/v1/mining", for messages: never the query */
  char *method;  /* as sent: a redirect that turns it into GET drops the body */
  char *username;
  char *password;
  /* char*: the password, token and extra header values sent, masked in
   * a refusal's text should the miner echo them */
  GPtrArray *secrets;
  gsize max_body;
  guint auth_offers;
  /* The request body and its type, set again on each restart: libsoup
   * 3.2 forgets the body stream when a challenge or redirect restarts the
   * message, and would send the retry with an empty body. */
  GBytes *request_body;
  char *content_type;

  SoupMessage *message;
  AmDeadline *deadline;      /* over connect, request and body */
  GCancellable *cancellable; /* the deadline's (transfer none) */
  GInputStream *stream;
  GByteArray *body;
  guint status;
  gboolean reading_refusal; /* @body is a non-2xx reply's, capped */
} Call;

/* Frees a copy that may hold a password (a login body or user name). */
static void
wipe_free(char *secret)
{
  if (secret != NULL)
    memset(secret, 0, strlen(secret));
  g_free(secret);
}

static void
call_free(Call *c)
{
  g_clear_pointer(&c->deadline, am_deadline_free);
  if (c->message != NULL) {
    /* The session may hold the message a little longer than we do. */
    g_signal_handlers_disconnect_by_data(c->message, c);
    g_object_unref(c->message);
  }
  g_clear_object(&c->stream);
  if (c->body != NULL)
    g_byte_array_unref(c->body);
  g_clear_pointer(&c->request_body, g_bytes_unref); /* wiped when libsoup lets go too */
  g_free(c->content_type);
  g_free(c->address);
  g_free(c->what);
  g_free(c->method);
  wipe_free(c->username);
  wipe_free(c->password);
  if (c->secrets != NULL)
    g_ptr_array_unref(c->secrets);
  g_free(c);
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

char *
am_web_format_address(const char *host, guint16 port)
{
  return strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                   : g_strdup_printf("%s:%u", host, port);
}

/* ---- errors ------------------------------------------------------------- */

/* A transport error as the AM_ERROR the caller acts on, naming the request.
 * Whatever error follows our deadline is a timeout. */
static GError *
transport_error(Call *c, const GError *error)
{
  if (am_deadline_timed_out(c->deadline))
    return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s (%s)", c->address,
                       am_deadline_get_timeout_ms(c->deadline) / 1000.0, c->what);
  if (error->domain == SOUP_SESSION_ERROR)
    return g_error_new(AM_ERROR, AM_ERROR_PARSE, "%s: not an HTTP reply (%s): %s", c->address,
                       c->what, error->message);
  /* A body cut short is the peer closing on us, like a reset. */
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
    return g_error_new(AM_ERROR, AM_ERROR_RESET, "%s: closed the connection (%s): %s", c->address,
                       c->what, error->message);
  g_autoptr(GError) mapped = am_deadline_error(c->deadline, c->address, error);
  return g_error_new(mapped->domain, mapped->code, "%s (%s)", mapped->message, c->what);
}

/* Whether a refusal's Content-Type is text a person can read: JSON or
 * plain text. An HTML page is markup around a login form, and anything
 * else may be binary. No type at all is judged by the bytes later. */
static gboolean
readable_type(const char *type)
{
  if (type == NULL)
    return TRUE;
  return g_ascii_strcasecmp(type, "application/json") == 0 ||
         g_ascii_strcasecmp(type, "text/plain") == 0 ||
         g_ascii_strcasecmp(type, "text/json") == 0 || g_str_has_suffix(type, "+json");
}

/* Replaces every @secret in @text with "***": a firmware that echoes the
 * login it refused must not put our password or token in a log. */
static char *
redact(char *text, const char *secret)
{
  if (secret == NULL || *secret == '\0' || strstr(text, secret) == NULL)
    return text;
  g_auto(GStrv) parts = g_strsplit(text, secret, -1);
  g_free(text);
  return g_strjoinv("***", parts);
}

/* Returns: (transfer full) the start of a refusal's body as one line of
 * text for the error message, or NULL when it is empty, not text, or not
 * UTF-8. The firmware's reason ({"message":"power target out of range"})
 * is often the only useful part of a 4xx. */
static char *
refusal_text(Call *c)
{
  if (c->body == NULL || c->body->len == 0)
    return NULL;
  SoupMessageHeaders *headers = soup_message_get_response_headers(c->message);
  if (!readable_type(soup_message_headers_get_content_type(headers, NULL)))
    return NULL;
  gboolean cut = c->body->len > AM_WEB_REFUSAL_MAX;
  gsize len = MIN(c->body->len, AM_WEB_REFUSAL_MAX);
  const char *data = (const char *)c->body->data;
  const char *end = NULL;
  if (!g_utf8_validate_len(data, len, &end)) {
    /* The cap may split the last character: drop its first bytes only. */
    if (!cut || len - (gsize)(end - data) >= 4)
      return NULL;
    len = (gsize)(end - data);
  }
  GString *line = g_string_sized_new(len + 3);
  for (gsize i = 0; i < len; i++) {
    char ch = data[i];
    /* One line: each run of spaces, newlines or other control bytes
     * becomes a single space. */
    if ((guchar)ch <= 0x20 || ch == 0x7f) {
      if (line->len > 0 && line->str[line->len - 1] != ' ')
        g_string_append_c(line, ' ');
    } else {
      g_string_append_c(line, ch);
    }
  }
  g_strchomp(line->str);
  if (*line->str == '\0') {
    g_string_free(line, TRUE);
    return NULL;
  }
  char *text = g_strconcat(line->str, cut ? "..." : "", NULL);
  g_string_free(line, TRUE);
  for (guint i = 0; i < c->secrets->len; i++)
    text = redact(text, c->secrets->pdata[i]);
  return text;
}

/* @text (transfer full), the firmware's reason, after @error's message. */
static GError *
with_refusal(GError *error, char *text)
{
  if (text != NULL) {
    char *message = g_strdup_printf("%s: %s", error->message, text);
    g_free(error->message);
    error->message = message;
    g_free(text);
  }
  return error;
}

/* The status as the AM_ERROR a driver acts on, naming the request. */
static GError *
status_error_plain(Call *c)
{
  const char *phrase = soup_status_get_phrase(c->status);
  g_autofree char *status =
      g_strdup_printf("HTTP %u%s%s from %s", c->status, phrase != NULL ? " " : "",
                      phrase != NULL ? phrase : "", c->what);
  switch (c->status) {
  case SOUP_STATUS_UNAUTHORIZED:
  case SOUP_STATUS_FORBIDDEN:
    /* The diagnosis first, for one-line messages. Credentials offered and
     * refused are wrong; a token or cookie may just have expired. */
    if (c->auth_offers > 0)
      return g_error_new(AM_ERROR, AM_ERROR_AUTH, "%s: wrong username or password (%s)", c->address,
                         status);
    return g_error_new(AM_ERROR, AM_ERROR_AUTH,
                       "%s: wrong user or password, or an expired session (%s)", c->address,
                       status);
  case SOUP_STATUS_NOT_FOUND:
  case SOUP_STATUS_METHOD_NOT_ALLOWED:
    return g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: %s", c->address, status);
  default:
    return g_error_new(AM_ERROR, AM_ERROR_API, "%s: %s", c->address, status);
  }
}

/* The status error, with the start of the miner's answer when it says why. */
static GError *
status_error(Call *c)
{
  return with_refusal(status_error_plain(c), refusal_text(c));
}

/* Takes @task and @error. */
static void
call_fail(GTask *task, GError *error)
{
  Call *c = g_task_get_task_data(task);
  am_deadline_stop(c->deadline);
  g_debug("%s", error->message);
  g_task_return_error(task, error);
  g_object_unref(task);
}

/* ---- the exchange ------------------------------------------------------- */

/* Offers the credentials once per request: a second challenge means the
 * miner refused them, and its 401 then reaches us as AM_ERROR_AUTH. */
static gboolean
on_authenticate(SoupMessage *message, SoupAuth *auth, gboolean retrying, gpointer user_data)
{
  Call *c = user_data;
  if (c->auth_offers++ > 0 || c->username == NULL)
    return FALSE;
  soup_auth_authenticate(auth, c->username, c->password != NULL ? c->password : "");
  return TRUE;
}

/* libsoup 3.2 drops the request body when it restarts a message (after a
 * digest or basic challenge, or a redirect), even one set from bytes, and
 * documents that the caller must set it again. A redirect that turned the
 * method into GET keeps no body, as libsoup meant. */
static void
on_restarted(SoupMessage *message, gpointer user_data)
{
  Call *c = user_data;
  if (c->request_body != NULL && g_str_equal(soup_message_get_method(message), c->method))
    soup_message_set_request_body_from_bytes(message, c->content_type, c->request_body);
}

static void read_next(GTask *task);

/* The end of a non-2xx reply's body (or a failure to read it): the status
 * is the answer, with what the miner said about it. */
static void
refusal_read(GTask *task, const GError *error)
{
  Call *c = g_task_get_task_data(task);
  /* The caller's own cancellation stays a cancellation. */
  if (error != NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !am_deadline_timed_out(c->deadline)) {
    call_fail(task, transport_error(c, error));
    return;
  }
  call_fail(task, status_error(c));
}

static void
on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Call *c = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk =
      g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
  if (c->reading_refusal) {
    /* read_next never asks past one byte over the cap: a cut shows. */
    if (chunk != NULL && g_bytes_get_size(chunk) > 0 && c->body->len <= AM_WEB_REFUSAL_MAX) {
      g_byte_array_append(c->body, g_bytes_get_data(chunk, NULL), (guint)g_bytes_get_size(chunk));
      if (c->body->len <= AM_WEB_REFUSAL_MAX) {
        read_next(task);
        return;
      }
    }
    refusal_read(task, error);
    return;
  }
  if (chunk == NULL) {
    call_fail(task, transport_error(c, error));
    return;
  }
  gsize n = g_bytes_get_size(chunk);
  if (n == 0) {
    am_deadline_stop(c->deadline);
    g_task_return_pointer(task, g_byte_array_free_to_bytes(g_steal_pointer(&c->body)),
                          (GDestroyNotify)g_bytes_unref);
    g_object_unref(task);
    return;
  }
  if (n > c->max_body - c->body->len) {
    call_fail(task, g_error_new(AM_ERROR, AM_ERROR_TOO_LARGE,
                                "%s: reply is over the %" G_GSIZE_FORMAT "-byte cap (%s)",
                                c->address, c->max_body, c->what));
    return;
  }
  g_byte_array_append(c->body, g_bytes_get_data(chunk, NULL), (guint)n);
  read_next(task);
}

static void
read_next(GTask *task)
{
  Call *c = g_task_get_task_data(task);
  /* A refusal is read to one byte past what its message shows. */
  gsize want = c->reading_refusal ? AM_WEB_REFUSAL_MAX + 1 - c->body->len : 16384;
  g_input_stream_read_bytes_async(c->stream, want, G_PRIORITY_DEFAULT, c->cancellable, on_read,
                                  task);
}

static void
on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Call *c = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  c->stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
  if (c->stream == NULL) {
    call_fail(task, transport_error(c, error));
    return;
  }
  c->status = soup_message_get_status(c->message);
  /* A refusal's body may say why (Braiins: {"message":...}): read its start. */
  c->reading_refusal = !SOUP_STATUS_IS_SUCCESSFUL(c->status);
  c->body = g_byte_array_new();
  read_next(task);
}

/* ---- the request -------------------------------------------------------- */

typedef struct {
  gsize len;
  guint8 data[];
} BodyCopy;

static void
body_copy_free(gpointer data)
{
  BodyCopy *copy = data;
  /* A login body holds the password. */
  memset(copy->data, 0, copy->len);
  g_free(copy);
}

/* The request body as bytes that are wiped when libsoup lets go of them. */
static GBytes *
body_bytes(const char *body, gsize len)
{
  BodyCopy *copy = g_malloc(sizeof(BodyCopy) + len + 1);
  copy->len = len;
  memcpy(copy->data, body, len);
  copy->data[len] = '\0';
  return g_bytes_new_with_free_func(copy->data, len, body_copy_free, copy);
}

static void
set_headers(SoupMessage *message, const AmWebCall *call)
{
  SoupMessageHeaders *headers = soup_message_get_request_headers(message);
  soup_message_headers_replace(headers, "Accept", "application/json, text/javascript, */*");
  if (call->authorization != NULL)
    soup_message_headers_replace(headers, "Authorization", call->authorization);
  if (call->cookie != NULL)
    soup_message_headers_replace(headers, "Cookie", call->cookie);
  for (const char *const *h = call->headers; h != NULL && h[0] != NULL && h[1] != NULL; h += 2)
    soup_message_headers_replace(headers, h[0], h[1]);
}

/* Returns: (transfer full) the message without its body (see set_body),
 * or NULL when the parts make no URL. */
static SoupMessage *
build_message(const AmWebCall *call)
{
  /* A path may carry a query of its own ("/api/v1/telemetry?level=miner"). */
  const char *mark = strchr(call->path, '?');
  g_autofree char *path = mark != NULL ? g_strndup(call->path, mark - call->path) : NULL;
  g_autofree char *query = mark != NULL && call->query != NULL
                               ? g_strconcat(mark + 1, "&", call->query, NULL)
                               : g_strdup(mark != NULL ? mark + 1 : call->query);
  g_autoptr(GUri) uri = g_uri_build(G_URI_FLAGS_ENCODED, "http", NULL, call->host, call->port,
                                    path != NULL ? path : call->path, query, NULL);
  SoupMessage *message = soup_message_new_from_uri(call->method, uri);
  if (message == NULL)
    return NULL;
  set_headers(message, call);
  if (call->no_redirect)
    soup_message_add_flags(message, SOUP_MESSAGE_NO_REDIRECT);
  return message;
}

/* Keeps the body in @c and gives it to the message, now and on restarts. */
static void
set_body(Call *c, const AmWebCall *call)
{
  if (call->body == NULL)
    return;
  gsize len = call->body_len > 0 ? call->body_len : strlen(call->body);
  c->request_body = body_bytes(call->body, len);
  c->content_type = g_strdup(call->content_type != NULL ? call->content_type : "application/json");
  soup_message_set_request_body_from_bytes(c->message, c->content_type, c->request_body);
  g_signal_connect(c->message, "restarted", G_CALLBACK(on_restarted), c);
}

/* Returns: (transfer full) the secrets @call sends, for redact(). */
static GPtrArray *
secrets_of(const AmWebCall *call)
{
  GPtrArray *secrets = g_ptr_array_new_with_free_func((GDestroyNotify)wipe_free);
  if (call->password != NULL)
    g_ptr_array_add(secrets, g_strdup(call->password));
  const char *token = call->authorization;
  if (token != NULL && strchr(token, ' ') != NULL)
    token = strchr(token, ' ') + 1; /* "Bearer <jwt>": the jwt alone */
  if (token != NULL)
    g_ptr_array_add(secrets, g_strdup(token));
  for (const char *const *h = call->headers; h != NULL && h[0] != NULL && h[1] != NULL; h += 2)
    g_ptr_array_add(secrets, g_strdup(h[1]));
  return secrets;
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
  c->address = am_web_format_address(call->host, call->port);
  c->what = g_strdup_printf("%s %s", call->method, call->path);
  c->method = g_strdup(call->method);
  c->username = g_strdup(call->username);
  c->password = g_strdup(call->password);
  c->secrets = secrets_of(call);
  c->max_body = call->max_body > 0 ? call->max_body : AM_RPC_DEFAULT_MAX_REPLY;
  guint timeout_ms = call->timeout_ms > 0 ? call->timeout_ms : AM_RPC_DEFAULT_TIMEOUT_MS;
  c->deadline = am_deadline_new(cancellable, timeout_ms, g_task_get_context(task));
  c->cancellable = am_deadline_get_cancellable(c->deadline);
  g_task_set_task_data(task, c, (GDestroyNotify)call_free);

  c->message = build_message(call);
  if (c->message == NULL) {
    call_fail(task, g_error_new(AM_ERROR, AM_ERROR_CONFIG, "%s: not a valid URL (%s)", c->address,
                                c->what));
    return;
  }
  set_body(c, call);
  g_signal_connect(c->message, "authenticate", G_CALLBACK(on_authenticate), c);
  soup_session_send_async(session, c->message, G_PRIORITY_DEFAULT, c->cancellable, on_sent, task);
}

GBytes *
am_web_call_finish(GAsyncResult *result, guint *status_out, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  Call *c = g_task_get_task_data(G_TASK(result));
  if (status_out != NULL)
    *status_out = c->status;
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* Returns: (transfer full) the SoupCookie list the reply set. */
static GSList *
reply_cookies(GAsyncResult *result)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  Call *c = g_task_get_task_data(G_TASK(result));
  return c->status != 0 && c->message != NULL ? soup_cookies_from_response(c->message) : NULL;
}

char *
am_web_call_cookies(GAsyncResult *result)
{
  GSList *cookies = reply_cookies(result);
  char *header = cookies != NULL ? soup_cookies_to_cookie_header(cookies) : NULL;
  soup_cookies_free(cookies);
  return header;
}

char *
am_web_call_cookie(GAsyncResult *result, const char *name)
{
  g_return_val_if_fail(name != NULL, NULL);
  GSList *cookies = reply_cookies(result);
  char *value = NULL;
  for (GSList *l = cookies; l != NULL && value == NULL; l = l->next) {
    const char *v = soup_cookie_get_value(l->data);
    if (g_str_equal(soup_cookie_get_name(l->data), name) && v != NULL && *v != '\0')
      value = g_strdup(v);
  }
  soup_cookies_free(cookies);
  return value;
}

/* ---- the settings of a web driver ---------------------------------------- */

gboolean
am_web_settings_read(GKeyFile *kf, const char *group, const char *port_key, guint16 default_port,
                     const char *default_user, const char *default_password, AmWebSettings *out,
                     GError **error)
{
  *out = (AmWebSettings){.port = default_port, .timeout_ms = AM_RPC_DEFAULT_TIMEOUT_MS};
  guint port = default_port;
  guint64 timeout_ms = AM_RPC_DEFAULT_TIMEOUT_MS;
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  if (kf != NULL) {
    if (!am_config_get_uint(kf, group, port_key, default_port, 1, 65535, &port, error) ||
        !am_config_get_duration_ms(kf, group, "timeout", AM_RPC_DEFAULT_TIMEOUT_MS, 100,
                                   3600 * 1000, &timeout_ms, error))
      return FALSE;
    if (default_user != NULL &&
        (user = am_config_get_string(kf, group, "user", default_user, error)) == NULL)
      return FALSE;
    GError *local = NULL;
    password = am_config_get_secret(kf, group, "password", &local);
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  out->port = (guint16)port;
  out->timeout_ms = (guint)timeout_ms;
  out->user = user != NULL ? g_steal_pointer(&user) : g_strdup(default_user);
  out->password = password != NULL ? g_steal_pointer(&password) : g_strdup(default_password);
  return TRUE;
}

void
am_web_settings_clear(AmWebSettings *settings)
{
  g_clear_pointer(&settings->user, g_free);
  if (settings->password != NULL)
    memset(settings->password, 0, strlen(settings->password)); /* a secret */
  g_clear_pointer(&settings->password, g_free);
}
