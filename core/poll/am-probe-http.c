/* The web half of a miner's fingerprint: GET / once, without credentials.
 *
 * Newer stock Antminers close TCP/4028 and answer only on their web server,
 * which announces itself in its 401 challenge (realm "antMiner
 * Configuration") or its page title; Bitaxe, Iceriver, Goldshell and
 * Elphapex have only their web page to say what they are, and ePIC UMC
 * serves HTTP on the RPC port itself. The challenge, the title, the start
 * of the page and the Server header are the fingerprint. */
#include "am-probe.h"
#include <antmon/version.h>
#include <libsoup/soup.h>
#include <string.h>

/* Enough of the page for its <title> and the names in its first screen; the
 * rest is never read. */
#define HTTP_PAGE_MAX 16384
/* A title is a label, not a document. */
#define HTTP_TITLE_MAX 200

void
am_cancel_other(GCancellable *cancellable, gpointer other)
{
  (void)cancellable;
  g_cancellable_cancel(other);
}

void
am_cancel_disconnect(GCancellable *cancellable, gulong handler)
{
  g_signal_handler_disconnect(cancellable, handler);
}

void
am_http_print_clear(AmHttpPrint *print)
{
  g_clear_pointer(&print->realm, g_free);
  g_clear_pointer(&print->title, g_free);
  g_clear_pointer(&print->body, g_free);
  g_clear_pointer(&print->server, g_free);
}

void
am_http_print_copy(AmHttpPrint *dest, const AmHttpPrint *src)
{
  am_http_print_clear(dest);
  dest->open = src->open;
  dest->status = src->status;
  dest->realm = g_strdup(src->realm);
  dest->title = g_strdup(src->title);
  dest->body = g_strdup(src->body);
  dest->server = g_strdup(src->server);
}

/* The value after "realm=" at a parameter boundary, quoted or not. */
char *
am_http_auth_realm(const char *header)
{
  if (header == NULL)
    return NULL;
  for (const char *p = header; *p != '\0'; p++) {
    if (g_ascii_strncasecmp(p, "realm", 5) != 0 ||
        (p > header && !g_ascii_isspace(p[-1]) && p[-1] != ','))
      continue;
    const char *v = p + 5;
    while (*v == ' ' || *v == '\t')
      v++;
    if (*v != '=')
      continue;
    v++;
    while (*v == ' ' || *v == '\t')
      v++;
    g_autoptr(GString) value = g_string_new(NULL);
    if (*v == '"') {
      for (v++; *v != '\0' && *v != '"'; v++) {
        if (*v == '\\' && v[1] != '\0')
          v++;
        g_string_append_c(value, *v);
      }
    } else {
      for (; *v != '\0' && *v != ',' && !g_ascii_isspace(*v); v++)
        g_string_append_c(value, *v);
    }
    return g_utf8_make_valid(value->str, -1);
  }
  return NULL;
}

/* Finds @needle (lower case) in @hay ignoring ASCII case. */
static const char *
find_ci(const char *hay, const char *needle)
{
  gsize n = strlen(needle);
  for (const char *p = hay; *p != '\0'; p++)
    if (g_ascii_strncasecmp(p, needle, n) == 0)
      return p;
  return NULL;
}

char *
am_html_title(const char *html, gsize len)
{
  if (html == NULL)
    return NULL;
  g_autofree char *text = g_strndup(html, len);
  const char *open = find_ci(text, "<title");
  if (open == NULL || (open[6] != '>' && !g_ascii_isspace(open[6])))
    return NULL;
  const char *start = strchr(open, '>');
  const char *end = start != NULL ? find_ci(start, "</title") : NULL;
  if (end == NULL)
    return NULL;
  /* Collapse the page's line breaks and indentation into single spaces. */
  g_autoptr(GString) title = g_string_new(NULL);
  for (const char *p = start + 1; p < end && title->len < HTTP_TITLE_MAX; p++) {
    if (!g_ascii_isspace(*p))
      g_string_append_c(title, *p);
    else if (title->len > 0 && title->str[title->len - 1] != ' ')
      g_string_append_c(title, ' ');
  }
  while (title->len > 0 && title->str[title->len - 1] == ' ')
    g_string_truncate(title, title->len - 1);
  return title->len > 0 ? g_utf8_make_valid(title->str, -1) : NULL;
}

typedef struct {
  SoupSession *session;
  SoupMessage *message;
  GCancellable *cancellable; /* ours: the caller's and the deadline cancel it */
  GCancellable *caller;
  gulong caller_handler;
  GSource *deadline;
  GInputStream *stream;
  GByteArray *page;
  guint8 chunk[4096];
  AmHttpPrint print;
} HttpProbe;

static void
http_probe_free(HttpProbe *h)
{
  if (h->deadline != NULL) {
    g_source_destroy(h->deadline);
    g_source_unref(h->deadline);
  }
  if (h->caller_handler != 0)
    am_cancel_disconnect(h->caller, h->caller_handler);
  g_clear_object(&h->caller);
  g_clear_object(&h->stream);
  g_clear_object(&h->message);
  g_clear_object(&h->session);
  g_clear_object(&h->cancellable);
  if (h->page != NULL)
    g_byte_array_unref(h->page);
  am_http_print_clear(&h->print);
  g_free(h);
}

static gboolean
http_probe_deadline(gpointer user_data)
{
  g_cancellable_cancel(user_data);
  return G_SOURCE_REMOVE;
}

/* The probe never fails: what it could not learn stays unset. */
static void
http_probe_return(GTask *task)
{
  HttpProbe *h = g_task_get_task_data(task);
  if (h->page != NULL && h->page->len > 0) {
    h->print.title = am_html_title((const char *)h->page->data, h->page->len);
    h->print.body = g_utf8_make_valid((const char *)h->page->data, (gssize)h->page->len);
  }
  g_task_return_boolean(task, TRUE);
}

static void http_probe_read(GTask *task);

static void
http_probe_on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  HttpProbe *h = g_task_get_task_data(task);
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, NULL);
  if (n <= 0 || h->page->len + (gsize)n >= HTTP_PAGE_MAX) {
    if (n > 0)
      g_byte_array_append(h->page, h->chunk, (guint)MIN((gsize)n, HTTP_PAGE_MAX - h->page->len));
    http_probe_return(task);
    return;
  }
  g_byte_array_append(h->page, h->chunk, (guint)n);
  http_probe_read(g_steal_pointer(&task));
}

static void
http_probe_read(GTask *task)
{
  HttpProbe *h = g_task_get_task_data(task);
  g_input_stream_read_async(h->stream, h->chunk, sizeof h->chunk, G_PRIORITY_DEFAULT,
                            h->cancellable, http_probe_on_read, task);
}

static void
http_probe_on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  HttpProbe *h = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  h->stream = soup_session_send_finish(SOUP_SESSION(source), result, &error);
  if (h->stream == NULL) {
    g_debug("HTTP fingerprint: %s", error->message);
    http_probe_return(task);
    return;
  }
  h->print.open = TRUE;
  h->print.status = soup_message_get_status(h->message);
  SoupMessageHeaders *headers = soup_message_get_response_headers(h->message);
  h->print.realm = am_http_auth_realm(soup_message_headers_get_list(headers, "WWW-Authenticate"));
  const char *server = soup_message_headers_get_one(headers, "Server");
  h->print.server = server != NULL ? g_utf8_make_valid(server, -1) : NULL;
  h->page = g_byte_array_new();
  http_probe_read(g_steal_pointer(&task));
}

void
am_http_probe_async(const char *host, guint16 port, guint timeout_ms, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, NULL, callback, user_data);
  g_task_set_source_tag(task, am_http_probe_async);
  HttpProbe *h = g_new0(HttpProbe, 1);
  g_task_set_task_data(task, h, (GDestroyNotify)http_probe_free);
  h->cancellable = g_cancellable_new();
  if (cancellable != NULL) {
    h->caller = g_object_ref(cancellable);
    h->caller_handler = g_cancellable_connect(cancellable, G_CALLBACK(am_cancel_other),
                                              g_object_ref(h->cancellable), g_object_unref);
  }
  h->deadline = g_timeout_source_new(timeout_ms);
  g_source_set_callback(h->deadline, http_probe_deadline, g_object_ref(h->cancellable),
                        g_object_unref);
  g_source_attach(h->deadline, g_task_get_context(task));

  /* Miners sit on the LAN: no desktop proxy; a redirect is an answer too. */
  h->session = soup_session_new_with_options("user-agent", "antmon/" AM_VERSION_STRING, NULL);
  soup_session_set_proxy_resolver(h->session, NULL);
  g_autoptr(GUri) uri = g_uri_build(G_URI_FLAGS_NONE, "http", NULL, host, port, "/", NULL, NULL);
  h->message = soup_message_new_from_uri(SOUP_METHOD_GET, uri);
  soup_message_add_flags(h->message, SOUP_MESSAGE_NO_REDIRECT);
  soup_session_send_async(h->session, h->message, G_PRIORITY_DEFAULT, h->cancellable,
                          http_probe_on_sent, task);
}

const AmHttpPrint *
am_http_probe_finish(GAsyncResult *result)
{
  HttpProbe *h = g_task_get_task_data(G_TASK(result));
  return &h->print;
}
