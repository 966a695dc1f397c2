/* Driver selection: one fingerprint (the RPC "version" reply, or the web
 * server's answer to GET / where that fails), every driver's opinion, then
 * probes. */
#include "am-selector.h"
#include <antmon/error.h>
#include <antmon/json.h>
#include <antmon/rpc.h>
#include <antmon/version.h>
#include <libsoup/soup.h>
#include <string.h>

/* ---- one poll, finished the core's way -------------------------------- */

typedef struct {
  AmInstance *driver;
  AmMiner *miner;
} PollData;

static void
poll_data_free(PollData *d)
{
  am_miner_unref(d->miner);
  g_free(d);
}

static void
poll_finished(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  PollData *d = g_task_get_task_data(task);
  (void)source;
  g_autoptr(GError) error = NULL;
  AmSample *sample = d->driver->info->vtable.driver->poll_finish(d->driver->self, result, &error);
  if (sample == NULL) {
    if (error == NULL)
      g_set_error(&error, AM_ERROR, AM_ERROR_FAILED, "driver %s failed without saying why",
                  d->driver->info->name);
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  am_sample_set(sample, &sample->host, am_miner_get_host(d->miner));
  sample->port = am_miner_get_port(d->miner);
  am_sample_set(sample, &sample->driver, d->driver->info->name);
  sample->when_us = g_get_real_time(); /* miner clocks are wrong: ours counts */
  am_sample_finish(sample);
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

void
am_driver_poll_async(AmInstance *driver, AmMiner *miner, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_driver_poll_async);
  PollData *d = g_new0(PollData, 1);
  d->driver = driver;
  d->miner = am_miner_ref(miner);
  g_task_set_task_data(task, d, (GDestroyNotify)poll_data_free);
  driver->info->vtable.driver->poll_async(driver->self, miner, cancellable, poll_finished, task);
}

AmSample *
am_driver_poll_finish(GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- ranking ----------------------------------------------------------- */

typedef struct {
  AmInstance *driver;
  AmMatch match;
} Ranked;

static gint
compare_ranked(gconstpointer a, gconstpointer b)
{
  const Ranked *x = a, *y = b;
  if (x->match != y->match)
    return x->match > y->match ? -1 : 1;
  if (x->driver->info->priority != y->driver->info->priority)
    return x->driver->info->priority > y->driver->info->priority ? -1 : 1;
  return g_strcmp0(x->driver->info->name, y->driver->info->name);
}

GPtrArray *
am_selector_rank(GPtrArray *drivers, const AmFingerprint *fp)
{
  g_autoptr(GArray) ranked = g_array_new(FALSE, FALSE, sizeof(Ranked));
  for (guint i = 0; i < drivers->len; i++) {
    AmInstance *driver = drivers->pdata[i];
    Ranked r = {driver, driver->info->vtable.driver->match(driver->self, fp)};
    if (r.match != AM_MATCH_UNSUPPORTED)
      g_array_append_val(ranked, r);
  }
  g_array_sort(ranked, compare_ranked);
  GPtrArray *out = g_ptr_array_new();
  for (guint i = 0; i < ranked->len; i++)
    g_ptr_array_add(out, g_array_index(ranked, Ranked, i).driver);
  return out;
}

/* ---- the HTTP fingerprint ----------------------------------------------- */

/* Newer stock Antminers close TCP/4028 and answer only on their web server,
 * which announces itself in its 401 challenge (realm "antMiner
 * Configuration") or its page title. We ask it GET / once, without
 * credentials: the challenge is the fingerprint.
 *
 * When: as soon as "version" fails, and also when "version" has not
 * answered within the head start, so a miner whose 4028 swallows packets
 * is still recognised before the caller's deadline (which is usually the
 * RPC timeout itself). A cgminer on a LAN answers in milliseconds, so
 * miners whose 4028 works never see this request, and their
 * identification takes exactly as long as before. */
#define HTTP_HEAD_START_MS 1000
#define HTTP_PROBE_MAX_MS 3000
/* Enough of the page for its <title>; the rest is never read. */
#define HTTP_PAGE_MAX 16384
/* A title is a label, not a document. */
#define HTTP_TITLE_MAX 200

guint16
am_selector_http_port(guint16 port)
{
  return port == AM_RPC_DEFAULT_PORT ? 80 : port;
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
  gboolean open; /* an HTTP reply arrived */
  guint status;
  char *realm;
  char *title;
} HttpPrint;

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
  HttpPrint print;
} HttpProbe;

/* Undoes g_cancellable_connect(). Not g_cancellable_disconnect(): that
 * waits for a running "cancelled" emission to end, and a cancel can
 * complete our operations synchronously inside that emission, in this very
 * thread, which would wait forever. Everything here runs in one thread, so
 * disconnecting the handler directly is safe. */
static void
disconnect_cancel(GCancellable *cancellable, gulong handler)
{
  g_signal_handler_disconnect(cancellable, handler);
}

static void
http_probe_free(HttpProbe *h)
{
  if (h->deadline != NULL) {
    g_source_destroy(h->deadline);
    g_source_unref(h->deadline);
  }
  if (h->caller_handler != 0)
    disconnect_cancel(h->caller, h->caller_handler);
  g_clear_object(&h->caller);
  g_clear_object(&h->stream);
  g_clear_object(&h->message);
  g_clear_object(&h->session);
  g_clear_object(&h->cancellable);
  if (h->page != NULL)
    g_byte_array_unref(h->page);
  g_free(h->print.realm);
  g_free(h->print.title);
  g_free(h);
}

static gboolean
http_probe_deadline(gpointer user_data)
{
  g_cancellable_cancel(user_data);
  return G_SOURCE_REMOVE;
}

static void
cancel_other(GCancellable *cancellable, gpointer other)
{
  g_cancellable_cancel(other);
}

/* The probe never fails: what it could not learn stays unset. */
static void
http_probe_return(GTask *task)
{
  HttpProbe *h = g_task_get_task_data(task);
  if (h->page != NULL)
    h->print.title = am_html_title((const char *)h->page->data, h->page->len);
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
  h->page = g_byte_array_new();
  http_probe_read(g_steal_pointer(&task));
}

/* GET http://@host:@port/ without credentials under @timeout_ms; completes
 * with what answered, never with an error. */
static void
http_probe_async(const char *host, guint16 port, guint timeout_ms, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, NULL, callback, user_data);
  g_task_set_source_tag(task, http_probe_async);
  HttpProbe *h = g_new0(HttpProbe, 1);
  g_task_set_task_data(task, h, (GDestroyNotify)http_probe_free);
  h->cancellable = g_cancellable_new();
  if (cancellable != NULL) {
    h->caller = g_object_ref(cancellable);
    h->caller_handler = g_cancellable_connect(cancellable, G_CALLBACK(cancel_other),
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

/* (transfer none) the probe's result, valid while @result lives. */
static const HttpPrint *
http_probe_finish(GAsyncResult *result)
{
  HttpProbe *h = g_task_get_task_data(G_TASK(result));
  return &h->print;
}

/* ---- identification ---------------------------------------------------- */

typedef enum { HTTP_IDLE, HTTP_RUNNING, HTTP_DONE } HttpState;

typedef struct {
  AmMiner *miner;
  GPtrArray *drivers;    /* all driver instances */
  GPtrArray *candidates; /* ranked, being probed */
  guint next;
  GError *last_error;
  gboolean returned; /* the task has completed; late callbacks do nothing */

  /* The fingerprint: "version" and, where it fails or dawdles, GET /. */
  AmRpcReply *version;      /* keeps the fingerprint's JSON alive */
  GCancellable *rpc_cancel; /* ours, so a web answer can end the wait */
  gulong rpc_handler;
  GError *rpc_error; /* why "version" gave nothing usable */
  HttpState http_state;
  GCancellable *http_cancel; /* ours, so an RPC answer can drop the probe */
  gulong http_handler;
  HttpPrint http; /* copied from the probe */
  guint head_start_id;
  gboolean ranked;    /* candidates chosen: late fingerprint answers are ignored */
  gboolean http_only; /* ranked on the web server's answer alone */
  AmFingerprint fp;   /* what the candidates were ranked on */
} Identify;

static void
identify_free(Identify *id)
{
  am_miner_unref(id->miner);
  g_ptr_array_unref(id->drivers);
  if (id->candidates != NULL)
    g_ptr_array_unref(id->candidates);
  g_clear_error(&id->last_error);
  g_clear_error(&id->rpc_error);
  if (id->version != NULL)
    am_rpc_reply_unref(id->version);
  g_free(id->http.realm);
  g_free(id->http.title);
  g_clear_object(&id->rpc_cancel);
  g_clear_object(&id->http_cancel);
  g_free(id);
}

/* A cancellable of our own that the caller's cancellation also cancels. */
static GCancellable *
child_cancellable(GTask *task, gulong *handler)
{
  GCancellable *child = g_cancellable_new();
  GCancellable *parent = g_task_get_cancellable(task);
  if (parent != NULL)
    *handler = g_cancellable_connect(parent, G_CALLBACK(cancel_other), g_object_ref(child),
                                     g_object_unref);
  return child;
}

static void
stop_head_start(Identify *id)
{
  if (id->head_start_id != 0) {
    g_source_remove(id->head_start_id);
    id->head_start_id = 0;
  }
}

/* Completes the task once, and lets go of everything still running. */
static void
identify_return(GTask *task, AmInstance *driver, GError *error)
{
  Identify *id = g_task_get_task_data(task);
  if (id->returned) {
    g_clear_error(&error);
    return;
  }
  id->returned = TRUE;
  stop_head_start(id);
  GCancellable *parent = g_task_get_cancellable(task);
  if (parent != NULL && id->rpc_handler != 0)
    disconnect_cancel(parent, id->rpc_handler);
  if (parent != NULL && id->http_handler != 0)
    disconnect_cancel(parent, id->http_handler);
  id->rpc_handler = id->http_handler = 0;
  if (id->rpc_cancel != NULL)
    g_cancellable_cancel(id->rpc_cancel);
  if (id->http_cancel != NULL)
    g_cancellable_cancel(id->http_cancel);
  if (error != NULL)
    g_task_return_error(task, error);
  else
    g_task_return_pointer(task, driver, NULL);
}

static void probe_next(GTask *task);

static void
probe_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Identify *id = g_task_get_task_data(task);
  AmInstance *driver = id->candidates->pdata[id->next - 1];
  (void)source;
  GError *error = NULL;
  AmSample *sample = am_driver_poll_finish(result, &error);
  if (sample != NULL) {
    g_debug("%s: identified by driver %s", am_miner_get_address(id->miner), driver->info->name);
    g_object_set_data_full(G_OBJECT(task), "sample", sample, (GDestroyNotify)am_sample_unref);
    identify_return(task, driver, NULL);
    return;
  }
  g_debug("%s: driver %s did not fit: %s", am_miner_get_address(id->miner), driver->info->name,
          error->message);
  /* When only the web server answered, a driver that recognised it for
   * certain has the one useful explanation (wrong password, say); the
   * long shots after it would replace it with an RPC timeout. */
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      (id->http_only &&
       driver->info->vtable.driver->match(driver->self, &id->fp) == AM_MATCH_SUPPORTED)) {
    identify_return(task, NULL, error);
    return;
  }
  g_clear_error(&id->last_error);
  id->last_error = error;
  probe_next(task);
}

static void
probe_next(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  if (id->next >= id->candidates->len) {
    GError *error = g_steal_pointer(&id->last_error);
    if (error == NULL)
      error = g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: no installed driver recognises it",
                          am_miner_get_address(id->miner));
    identify_return(task, NULL, error);
    return;
  }
  AmInstance *driver = id->candidates->pdata[id->next++];
  am_driver_poll_async(driver, id->miner, g_task_get_cancellable(task), probe_done,
                       g_object_ref(task));
}

static void
fill_fingerprint(AmFingerprint *fp, AmMiner *miner, AmRpcReply *version)
{
  *fp = (AmFingerprint){.struct_size = sizeof(AmFingerprint)};
  fp->host = am_miner_get_host(miner);
  fp->port = am_miner_get_port(miner);
  fp->rpc_open = TRUE;
  if (version == NULL)
    return;
  JsonObject *root = am_rpc_reply_get_root(version);
  fp->version_reply = root;
  fp->version = am_json_array_object(am_json_array(root, "VERSION"), 0);
  fp->description =
      am_json_string(am_json_array_object(am_json_array(root, "STATUS"), 0), "Description");
}

/* The fingerprint of a miner whose RPC port gave nothing usable. */
static void
fill_http_fingerprint(AmFingerprint *fp, AmMiner *miner, const HttpPrint *http)
{
  *fp = (AmFingerprint){.struct_size = sizeof(AmFingerprint)};
  fp->host = am_miner_get_host(miner);
  fp->port = am_miner_get_port(miner);
  fp->http_open = http->open;
  fp->http_status = http->status;
  fp->http_realm = http->realm;
  fp->http_title = http->title;
}

/* The best match any driver gives @fp. */
static AmMatch
best_match(GPtrArray *drivers, const AmFingerprint *fp)
{
  AmMatch best = AM_MATCH_UNSUPPORTED;
  for (guint i = 0; i < drivers->len; i++) {
    AmInstance *d = drivers->pdata[i];
    best = MAX(best, d->info->vtable.driver->match(d->self, fp));
  }
  return best;
}

static void
rank_on_rpc(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  id->ranked = TRUE;
  stop_head_start(id);
  if (id->http_cancel != NULL)
    g_cancellable_cancel(id->http_cancel);
  fill_fingerprint(&id->fp, id->miner, id->version);
  id->candidates = am_selector_rank(id->drivers, &id->fp);
  probe_next(task);
}

/* Ranks on the web server's answer; when no driver wants it, the RPC
 * error is the truth to tell. */
static void
rank_on_http(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  id->ranked = TRUE;
  id->http_only = TRUE;
  stop_head_start(id);
  if (id->rpc_cancel != NULL)
    g_cancellable_cancel(id->rpc_cancel);
  fill_http_fingerprint(&id->fp, id->miner, &id->http);
  id->candidates = am_selector_rank(id->drivers, &id->fp);
  if (id->candidates->len == 0) {
    identify_return(task, NULL, g_steal_pointer(&id->rpc_error));
    return;
  }
  g_debug("%s: RPC gave nothing usable; HTTP %u realm \"%s\" title \"%s\"",
          am_miner_get_address(id->miner), id->http.status, id->http.realm ? id->http.realm : "",
          id->http.title ? id->http.title : "");
  probe_next(task);
}

static void
http_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Identify *id = g_task_get_task_data(task);
  const HttpPrint *print = http_probe_finish(result);
  id->http_state = HTTP_DONE;
  if (id->ranked || id->returned)
    return;
  id->http =
      (HttpPrint){print->open, print->status, g_strdup(print->realm), g_strdup(print->title)};
  if (id->rpc_error != NULL) {
    rank_on_http(task);
    return;
  }
  /* "version" is still out. A web server some driver is sure of means the
   * RPC port is not going to help; anything less and we keep waiting. */
  AmFingerprint fp;
  fill_http_fingerprint(&fp, id->miner, &id->http);
  if (best_match(id->drivers, &fp) >= AM_MATCH_LIKELY) {
    id->rpc_error = g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: no answer on the RPC port",
                                am_miner_get_address(id->miner));
    rank_on_http(task);
  }
}

static void
start_http(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  if (id->http_state != HTTP_IDLE)
    return;
  id->http_state = HTTP_RUNNING;
  guint16 port = am_selector_http_port(am_miner_get_port(id->miner));
  guint timeout_ms = MIN(HTTP_PROBE_MAX_MS, am_miner_get_timeout_ms(id->miner));
  g_debug("%s: asking the web server on port %u", am_miner_get_address(id->miner), port);
  http_probe_async(am_miner_get_host(id->miner), port, timeout_ms, id->http_cancel, http_done,
                   g_object_ref(task));
}

static gboolean
head_start_over(gpointer user_data)
{
  GTask *task = user_data;
  Identify *id = g_task_get_task_data(task);
  id->head_start_id = 0;
  start_http(task);
  return G_SOURCE_REMOVE;
}

static gboolean
is_transport_error(const GError *error)
{
  return error->domain == AM_ERROR &&
         (error->code == AM_ERROR_TIMEOUT || error->code == AM_ERROR_REFUSED ||
          error->code == AM_ERROR_RESET || error->code == AM_ERROR_TOO_LARGE ||
          error->code == AM_ERROR_PARSE || error->code == AM_ERROR_FAILED);
}

static void
version_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Identify *id = g_task_get_task_data(task);
  (void)source;
  GError *error = NULL;
  AmRpcReply *version = am_miner_rpc_finish(id->miner, result, &error);
  if (id->ranked || id->returned) {
    /* The web server already answered; this is the cancelled call. */
    g_clear_error(&error);
    if (version != NULL)
      am_rpc_reply_unref(version);
    return;
  }
  id->version = version;
  if (error != NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    identify_return(task, NULL, error);
    return;
  }
  /* An API error to "version" (access denied) still says an API is there. */
  if (id->version != NULL || !is_transport_error(error)) {
    g_clear_error(&error);
    rank_on_rpc(task);
    return;
  }
  /* Nothing usable answered: perhaps the web server will. */
  id->rpc_error = error;
  stop_head_start(id);
  if (id->http_state == HTTP_IDLE)
    start_http(task);
  else if (id->http_state == HTTP_DONE)
    rank_on_http(task);
}

static void
identify_start(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  id->rpc_cancel = child_cancellable(task, &id->rpc_handler);
  id->http_cancel = child_cancellable(task, &id->http_handler);
  am_miner_rpc_async(id->miner, "version", NULL, id->rpc_cancel, version_done, g_object_ref(task));
  guint head_start = MIN(HTTP_HEAD_START_MS, am_miner_get_timeout_ms(id->miner) / 2);
  id->head_start_id = g_timeout_add_full(G_PRIORITY_DEFAULT, head_start, head_start_over,
                                         g_object_ref(task), g_object_unref);
}

void
am_selector_identify_async(GPtrArray *drivers, AmMiner *miner, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_selector_identify_async);
  Identify *id = g_new0(Identify, 1);
  id->miner = am_miner_ref(miner);
  id->drivers = g_ptr_array_ref(drivers);
  g_task_set_task_data(task, id, (GDestroyNotify)identify_free);

  const char *pin = am_miner_get_driver_pin(miner);
  if (pin == NULL) {
    identify_start(task);
    return;
  }
  id->ranked = TRUE;
  id->candidates = g_ptr_array_new();
  for (guint i = 0; i < drivers->len; i++) {
    AmInstance *d = drivers->pdata[i];
    if (g_str_equal(d->info->name, pin))
      g_ptr_array_add(id->candidates, d);
  }
  if (id->candidates->len == 0) {
    identify_return(task, NULL,
                    g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED,
                                "%s: pinned driver '%s' is not installed",
                                am_miner_get_address(miner), pin));
    return;
  }
  probe_next(task);
}

AmInstance *
am_selector_identify_finish(GAsyncResult *result, AmSample **sample_out, GError **error)
{
  AmInstance *driver = g_task_propagate_pointer(G_TASK(result), error);
  if (driver != NULL && sample_out != NULL) {
    AmSample *sample = g_object_get_data(G_OBJECT(result), "sample");
    *sample_out = am_sample_ref(sample);
  }
  return driver;
}
