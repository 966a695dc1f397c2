/* The real antmon daemon for the HTTP integration tests. */
#include "am-http-test-daemon.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#define GUARD_S 60

static void read_next_line(AmTestDaemon *d);

static void
on_line(GObject *stream, GAsyncResult *result, gpointer user_data)
{
  AmTestDaemon *d = user_data;
  g_autofree char *line =
      g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(stream), result, NULL, NULL);
  if (line == NULL) {
    d->eof = TRUE;
    return;
  }
  g_string_append_printf(d->log, "%s\n", line);
  const char *url = strstr(line, "HTTP API listening on ");
  if (url != NULL && d->url == NULL) {
    url += strlen("HTTP API listening on ");
    d->url = g_strndup(url, strcspn(url, " "));
  }
  read_next_line(d);
}

static void
read_next_line(AmTestDaemon *d)
{
  g_data_input_stream_read_line_async(d->err, G_PRIORITY_DEFAULT, NULL, on_line, d);
}

static gboolean
guard_fired(gpointer user_data)
{
  gboolean *fired = user_data;
  *fired = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main loop until @done(@data) or the guard fires. */
static gboolean
iterate_until(gboolean (*done)(gpointer), gpointer data)
{
  gboolean fired = FALSE;
  guint guard = g_timeout_add_seconds(GUARD_S, guard_fired, &fired);
  while (!done(data) && !fired)
    g_main_context_iteration(NULL, TRUE);
  if (!fired)
    g_source_remove(guard);
  return !fired;
}

typedef struct {
  AmTestDaemon *d;
  const char *needle;
} LogWait;

static gboolean
log_has(gpointer user_data)
{
  LogWait *w = user_data;
  return strstr(w->d->log->str, w->needle) != NULL || w->d->eof;
}

gboolean
am_test_daemon_wait_log(AmTestDaemon *d, const char *needle)
{
  LogWait w = {d, needle};
  if (!iterate_until(log_has, &w))
    g_error("'%s' did not appear in the daemon's log within %d s:\n%s", needle, GUARD_S,
            d->log->str);
  return strstr(d->log->str, needle) != NULL;
}

static gboolean
accept_trusted(SoupMessage *msg, GTlsCertificate *cert, GTlsCertificateFlags errors,
               gpointer user_data)
{
  AmTestDaemon *d = user_data;
  return d->trusted != NULL && g_tls_certificate_is_same(cert, d->trusted);
}

/* A daemon must not outlive a test that aborted. */
static void
die_with_parent(gpointer user_data)
{
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

AmTestDaemon *
am_test_daemon_start(const char *core_keys, const char *ini_body, const char *until,
                     const char *asan_extra)
{
  AmTestDaemon *d = g_new0(AmTestDaemon, 1);
  d->log = g_string_new(NULL);
  d->dir = g_dir_make_tmp("antmon-http-XXXXXX", NULL);
  g_autofree char *ini = g_build_filename(d->dir, "antmon.ini", NULL);
  g_autofree char *text = g_strdup_printf("[core]\nstate_dir=%s/var\n%s\n%s", d->dir,
                                          core_keys != NULL ? core_keys : "", ini_body);
  g_assert_true(g_file_set_contents(ini, text, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
  const char *asan = g_getenv("ASAN_OPTIONS");
  if (asan != NULL) {
    /* Full stacks for leak reports: lsan.supp names libsoup functions that
     * the fast unwinder cannot reach through GLib. */
    g_autofree char *options = g_strconcat(asan, ":fast_unwind_on_malloc=0",
                                           asan_extra != NULL ? ":" : "", asan_extra, NULL);
    g_subprocess_launcher_setenv(launcher, "ASAN_OPTIONS", options, TRUE);
  }
  d->proc =
      g_subprocess_launcher_spawn(launcher, &error, g_getenv("ANTMON_BIN"), "run", "-c", ini, NULL);
  g_assert_no_error(error);
  d->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(d->proc));
  d->session = soup_session_new_with_options("timeout", 30, NULL);
  read_next_line(d);
  if (until != NULL)
    am_test_daemon_wait_log(d, until);
  return d;
}

AmTestDaemon *
am_test_daemon_start_http(const char *core_keys, const char *ini_body, const char *asan_extra)
{
  AmTestDaemon *d = am_test_daemon_start(core_keys, ini_body, NULL, asan_extra);
  if (!am_test_daemon_wait_log(d, "HTTP API listening on "))
    g_error("the daemon exited before listening:\n%s", d->log->str);
  g_assert_nonnull(d->url);
  return d;
}

static gboolean
reached_eof(gpointer user_data)
{
  return ((AmTestDaemon *)user_data)->eof;
}

static void
remove_tree(const char *path)
{
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *child = g_build_filename(path, name, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
      remove_tree(child);
    else
      g_unlink(child);
  }
  g_rmdir(path);
}

static void
daemon_free(AmTestDaemon *d)
{
  remove_tree(d->dir);
  g_object_unref(d->session);
  g_object_unref(d->err);
  g_object_unref(d->proc);
  g_clear_object(&d->trusted);
  g_string_free(d->log, TRUE);
  g_free(d->url);
  g_free(d->dir);
  g_free(d);
}

/* Reads the log to its end and reaps the process. */
static void
wait_gone(AmTestDaemon *d)
{
  if (!iterate_until(reached_eof, d))
    g_error("the daemon did not stop within %d s:\n%s", GUARD_S, d->log->str);
  g_autoptr(GError) error = NULL;
  g_subprocess_wait(d->proc, NULL, &error);
  g_assert_no_error(error);
}

void
am_test_daemon_stop(AmTestDaemon *d)
{
  g_subprocess_send_signal(d->proc, SIGTERM);
  wait_gone(d);
  if (!g_subprocess_get_if_exited(d->proc) || g_subprocess_get_exit_status(d->proc) != 0)
    g_error("the daemon did not exit cleanly:\n%s", d->log->str);
  daemon_free(d);
}

int
am_test_daemon_wait_exit(AmTestDaemon *d)
{
  wait_gone(d);
  int status = g_subprocess_get_if_exited(d->proc) ? g_subprocess_get_exit_status(d->proc) : -1;
  daemon_free(d);
  return status;
}

/* ---- HTTP ------------------------------------------------------------------------- */

void
am_test_reply_free(AmTestReply *r)
{
  if (r == NULL)
    return;
  g_free(r->content_type);
  g_clear_pointer(&r->headers, soup_message_headers_unref);
  g_clear_pointer(&r->body, g_bytes_unref);
  g_clear_pointer(&r->json, json_node_unref);
  g_free(r);
}

typedef struct {
  GBytes *body;
  GError *error;
  gboolean done;
} Pending;

static void
on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *p = user_data;
  p->body = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &p->error);
  p->done = TRUE;
}

static gboolean
pending_done(gpointer user_data)
{
  return ((Pending *)user_data)->done;
}

static JsonNode *
parse_json(GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  if (!json_parser_load_from_data(parser, data != NULL ? data : "", (gssize)len, NULL) ||
      json_parser_get_root(parser) == NULL)
    return NULL;
  return json_node_ref(json_parser_get_root(parser));
}

static AmTestReply *send_message(AmTestDaemon *d, SoupMessage *msg, const char *method,
                                 const char *url);

AmTestReply *
am_test_http(AmTestDaemon *d, const char *method, const char *path, const char *header_name,
             const char *header_value)
{
  const char *const headers[] = {header_name, header_value, NULL};
  return am_test_http_body(d, method, path, header_name != NULL ? headers : NULL, NULL, NULL);
}

AmTestReply *
am_test_http_body(AmTestDaemon *d, const char *method, const char *path, const char *const *headers,
                  const char *content_type, const char *body)
{
  g_autofree char *url = g_strconcat(d->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new(method, url);
  if (msg == NULL)
    g_error("bad test URL %s", url);
  SoupMessageHeaders *h = soup_message_get_request_headers(msg);
  for (guint i = 0; headers != NULL && headers[i] != NULL; i += 2)
    soup_message_headers_replace(h, headers[i], headers[i + 1]);
  if (body != NULL) {
    g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));
    soup_message_set_request_body_from_bytes(msg, NULL, bytes);
    if (content_type != NULL)
      soup_message_headers_replace(h, "Content-Type", content_type);
    else
      soup_message_headers_remove(h, "Content-Type");
  }
  return send_message(d, msg, method, url);
}

static AmTestReply *
send_message(AmTestDaemon *d, SoupMessage *msg, const char *method, const char *url)
{
  g_signal_connect(msg, "accept-certificate", G_CALLBACK(accept_trusted), d);
  Pending p = {0};
  soup_session_send_and_read_async(d->session, msg, G_PRIORITY_DEFAULT, NULL, on_read, &p);
  if (!iterate_until(pending_done, &p))
    g_error("%s %s: no answer within %d s", method, url, GUARD_S);
  if (p.error != NULL)
    g_error("%s %s: %s\n%s", method, url, p.error->message, d->log->str);
  AmTestReply *r = g_new0(AmTestReply, 1);
  r->status = soup_message_get_status(msg);
  r->headers = soup_message_headers_ref(soup_message_get_response_headers(msg));
  r->content_type = g_strdup(soup_message_headers_get_content_type(r->headers, NULL));
  r->body = p.body;
  if (g_strcmp0(r->content_type, "application/json") == 0)
    r->json = parse_json(r->body);
  return r;
}

JsonObject *
am_test_wait_json(AmTestDaemon *d, const char *path,
                  gboolean (*check)(JsonObject *obj, gpointer data), gpointer data)
{
  gint64 give_up = g_get_monotonic_time() + GUARD_S * G_USEC_PER_SEC;
  while (g_get_monotonic_time() < give_up) {
    g_autoptr(AmTestReply) r = am_test_get(d, path);
    if (r->status == SOUP_STATUS_OK && r->json != NULL && JSON_NODE_HOLDS_OBJECT(r->json) &&
        check(json_node_get_object(r->json), data))
      return json_object_ref(json_node_get_object(r->json));
    /* Let the daemon poll before asking again. */
    gboolean fired = FALSE;
    g_timeout_add(200, guard_fired, &fired);
    while (!fired)
      g_main_context_iteration(NULL, TRUE);
  }
  g_error("GET %s never showed what the test waits for:\n%s", path, d->log->str);
  return NULL;
}

/* One whole response: headers and Content-Length bytes of body. libsoup
 * keeps a kept-alive connection open after it, so EOF may never come. */
static gboolean
reply_complete(GByteArray *reply)
{
  if (reply->len == 0)
    return FALSE;
  g_autofree char *text = g_strndup((const char *)reply->data, reply->len);
  const char *end = strstr(text, "\r\n\r\n");
  if (end == NULL)
    return FALSE;
  g_autofree char *lower = g_ascii_strdown(text, end - text);
  const char *cl = strstr(lower, "\r\ncontent-length:");
  if (cl == NULL)
    return FALSE;
  guint64 length = g_ascii_strtoull(cl + strlen("\r\ncontent-length:"), NULL, 10);
  return reply->len >= (gsize)(end + 4 - text) + length;
}

GBytes *
am_test_raw(AmTestDaemon *d, const void *request, gsize len)
{
  g_autoptr(GUri) uri = g_uri_parse(d->url, G_URI_FLAGS_NONE, NULL);
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_timeout(client, 5);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host(
      client, g_uri_get_host(uri), (guint16)g_uri_get_port(uri), NULL, &error);
  g_assert_no_error(error);
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
  /* The server may answer and close before reading all of a large request. */
  g_output_stream_write_all(out, request, len, NULL, NULL, NULL);
  g_socket_shutdown(g_socket_connection_get_socket(conn), FALSE, TRUE, NULL);
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
  GByteArray *reply = g_byte_array_new();
  guint8 buf[16384];
  gssize n;
  while (!reply_complete(reply) && (n = g_input_stream_read(in, buf, sizeof buf, NULL, NULL)) > 0)
    g_byte_array_append(reply, buf, (guint)n);
  return g_byte_array_free_to_bytes(reply);
}
