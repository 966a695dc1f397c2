/* The [http:api] connections in the real daemon, as clients use them:
 * keep-alive connections that the client closes are released (libsoup 3.2
 * alone kept each one in CLOSE-WAIT for ever), a connection carries many
 * requests, slow and idle clients are closed after their timeouts, and at
 * max_connections the longest idle one makes room, or a newcomer gets 503.
 * Each check reads what an operator would: the daemon's descriptors in
 * /proc and the counters in /api/health. */
#include "am-http-test-daemon.h"
#include "am-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static const char request[] = "GET /api/health HTTP/1.1\r\nHost: antmon\r\n\r\n";

static guint16
daemon_port(AmTestDaemon *d)
{
  g_autoptr(GUri) uri = g_uri_parse(d->url, G_URI_FLAGS_NONE, NULL);
  g_assert_nonnull(uri);
  return (guint16)g_uri_get_port(uri);
}

static guint
daemon_fds(AmTestDaemon *d)
{
  g_autofree char *path = g_strdup_printf("/proc/%s/fd", g_subprocess_get_identifier(d->proc));
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  g_assert_nonnull(dir);
  guint n = 0;
  while (g_dir_read_name(dir) != NULL)
    n++;
  return n;
}

static GSocket *
connect_to(AmTestDaemon *d)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(lo, daemon_port(d));
  GSocket *s =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error(error);
  g_socket_set_timeout(s, 10);
  g_assert_true(g_socket_connect(s, sa, NULL, &error));
  g_assert_no_error(error);
  return s;
}

static void
send_all(GSocket *s, const char *text)
{
  g_autoptr(GError) error = NULL;
  gsize len = strlen(text);
  g_assert_cmpint(g_socket_send(s, text, len, NULL, &error), ==, (gssize)len);
}

/* Reads one whole reply (headers, then Content-Length bytes). Returns its
 * head, or NULL when the server closed the connection first. */
static char *
read_reply(GSocket *s)
{
  g_autoptr(GString) in = g_string_new(NULL);
  char buf[4096];
  for (;;) {
    const char *end = strstr(in->str, "\r\n\r\n");
    if (end != NULL) {
      const char *cl = strstr(in->str, "Content-Length: ");
      gsize body = cl != NULL && cl < end ? g_ascii_strtoull(cl + 16, NULL, 10) : 0;
      gsize head = (gsize)(end - in->str) + 4;
      if (in->len >= head + body)
        return g_strndup(in->str, head);
    }
    g_autoptr(GError) error = NULL;
    gssize n = g_socket_receive(s, buf, sizeof buf, NULL, &error);
    if (n <= 0)
      return NULL;
    g_string_append_len(in, buf, n);
  }
}

/* TRUE when the server has closed (EOF or reset) within 10 s. */
static gboolean
closed_by_server(GSocket *s)
{
  char buf[256];
  for (;;) {
    g_autoptr(GError) error = NULL;
    gssize n = g_socket_receive(s, buf, sizeof buf, NULL, &error);
    if (n == 0 || (n < 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)))
      return TRUE;
    if (n < 0)
      return FALSE;
  }
}

static JsonObject *
health_http(AmTestDaemon *d, AmTestReply **keep)
{
  *keep = am_test_get(d, "api/health");
  g_assert_cmpuint((*keep)->status, ==, 200);
  JsonObject *root = json_node_get_object((*keep)->json);
  g_assert_true(json_object_has_member(root, "http"));
  return json_object_get_object_member(root, "http");
}

static gboolean
fds_back_to(AmTestDaemon *d, guint baseline)
{
  for (guint i = 0; i < 100; i++) {
    if (daemon_fds(d) <= baseline)
      return TRUE;
    g_usleep(50 * 1000);
  }
  return FALSE;
}

/* 300 clients each open a connection, make one keep-alive request, read
 * the reply and close: the daemon ends up with the descriptors it started
 * with. */
static void
test_closed_keepalive_released(void)
{
  AmTestDaemon *d = am_test_daemon_start_http("", "[http:api]\nlisten=127.0.0.1:0\n", NULL);
  g_autoptr(AmTestReply) warm = am_test_get(d, "api/health");
  guint baseline = daemon_fds(d);
  for (guint i = 0; i < 300; i++) {
    g_autoptr(GSocket) s = connect_to(d);
    send_all(s, request);
    g_autofree char *head = read_reply(s);
    g_assert_nonnull(head);
    g_assert_true(g_str_has_prefix(head, "HTTP/1.1 200"));
    g_assert_null(strstr(head, "Connection: close"));
    g_socket_close(s, NULL);
  }
  g_assert_true(fds_back_to(d, baseline));
  AmTestReply *reply = NULL;
  JsonObject *http = health_http(d, &reply);
  g_assert_cmpint(json_object_get_int_member(http, "open"), <=, 1);
  g_assert_cmpint(json_object_get_int_member(http, "accepted"), >=, 300);
  am_test_reply_free(reply);
  am_test_daemon_stop(d);
}

/* One connection, many requests: keep-alive is kept, not just tolerated. */
static void
test_keepalive_reused(void)
{
  AmTestDaemon *d = am_test_daemon_start_http("", "[http:api]\nlisten=127.0.0.1:0\n", NULL);
  g_autoptr(GSocket) s = connect_to(d);
  for (guint i = 0; i < 20; i++) {
    send_all(s, request);
    g_autofree char *head = read_reply(s);
    g_assert_nonnull(head);
    g_assert_true(g_str_has_prefix(head, "HTTP/1.1 200"));
  }
  AmTestReply *reply = NULL;
  JsonObject *http = health_http(d, &reply);
  /* This test's connection and the health request's own. */
  g_assert_cmpint(json_object_get_int_member(http, "accepted"), ==, 2);
  am_test_reply_free(reply);
  am_test_daemon_stop(d);
}

/* Half a request line, then nothing: closed at request_timeout; an idle
 * keep-alive connection: closed at idle_timeout. */
static void
test_slow_and_idle_closed(void)
{
  AmTestDaemon *d = am_test_daemon_start_http(
      "", "[http:api]\nlisten=127.0.0.1:0\nrequest_timeout=1s\nidle_timeout=1s\n", NULL);
  guint baseline = daemon_fds(d);
  g_autoptr(GPtrArray) slow = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; i < 20; i++) {
    GSocket *s = connect_to(d);
    send_all(s, "GET /api/hea");
    g_ptr_array_add(slow, s);
  }
  g_autoptr(GSocket) idle = connect_to(d);
  send_all(idle, request);
  g_autofree char *head = read_reply(idle);
  g_assert_nonnull(head);
  for (guint i = 0; i < slow->len; i++)
    g_assert_true(closed_by_server(slow->pdata[i]));
  g_assert_true(closed_by_server(idle));
  for (guint i = 0; i < slow->len; i++)
    g_socket_close(slow->pdata[i], NULL);
  g_socket_close(idle, NULL);
  g_assert_true(fds_back_to(d, baseline));
  AmTestReply *reply = NULL;
  JsonObject *http = health_http(d, &reply);
  g_assert_cmpint(json_object_get_int_member(http, "request_timeouts"), ==, 20);
  g_assert_cmpint(json_object_get_int_member(http, "idle_closed"), ==, 1);
  am_test_reply_free(reply);
  am_test_daemon_stop(d);
}

/* idle_timeout=0: every reply says Connection: close and the daemon closes. */
static void
test_keepalive_off(void)
{
  AmTestDaemon *d =
      am_test_daemon_start_http("", "[http:api]\nlisten=127.0.0.1:0\nidle_timeout=0\n", NULL);
  g_autoptr(GSocket) s = connect_to(d);
  send_all(s, request);
  g_autofree char *head = read_reply(s);
  g_assert_nonnull(head);
  g_assert_nonnull(strstr(head, "Connection: close"));
  g_assert_true(closed_by_server(s));
  am_test_daemon_stop(d);
}

/* At max_connections: the connection idle the longest is closed to let a
 * newcomer in; with none idle, the newcomer gets 503 and the others go on. */
static void
test_connection_limit(void)
{
  AmTestDaemon *d = am_test_daemon_start_http(
      "", "[http:api]\nlisten=127.0.0.1:0\nmax_connections=3\nrequest_timeout=20s\n", NULL);
  guint baseline = daemon_fds(d);
  GSocket *idle[3];
  for (guint i = 0; i < 3; i++) {
    idle[i] = connect_to(d);
    send_all(idle[i], request);
    g_autofree char *head = read_reply(idle[i]);
    g_assert_nonnull(head);
  }
  /* A fourth client: the first idle one makes room. */
  g_autoptr(GSocket) fourth = connect_to(d);
  send_all(fourth, request);
  g_autofree char *fourth_head = read_reply(fourth);
  g_assert_nonnull(fourth_head);
  g_assert_true(g_str_has_prefix(fourth_head, "HTTP/1.1 200"));
  g_assert_true(closed_by_server(idle[0]));
  /* The others were kept and still answer. */
  send_all(idle[2], request);
  g_autofree char *again = read_reply(idle[2]);
  g_assert_nonnull(again);
  for (guint i = 0; i < 3; i++)
    g_object_unref(idle[i]);
  g_socket_close(fourth, NULL);
  g_assert_true(fds_back_to(d, baseline));

  /* Three connections busy with unfinished requests (once the daemon holds
   * all three): the next one is told. */
  GSocket *busy[3];
  for (guint i = 0; i < 3; i++) {
    busy[i] = connect_to(d);
    send_all(busy[i], "GET /api/sum");
  }
  for (guint i = 0; i < 200 && daemon_fds(d) < baseline + 3; i++)
    g_usleep(50 * 1000);
  g_assert_cmpuint(daemon_fds(d), >=, baseline + 3);
  g_autoptr(GSocket) refused = connect_to(d);
  g_autofree char *refused_head = read_reply(refused);
  g_assert_nonnull(refused_head);
  g_assert_true(g_str_has_prefix(refused_head, "HTTP/1.1 503"));
  /* A busy one finishes its request and is answered. */
  send_all(busy[1], "mary HTTP/1.1\r\nHost: antmon\r\n\r\n");
  g_autofree char *finished = read_reply(busy[1]);
  g_assert_nonnull(finished);
  g_assert_true(g_str_has_prefix(finished, "HTTP/1.1 200"));
  for (guint i = 0; i < 3; i++)
    g_object_unref(busy[i]);
  AmTestReply *reply = NULL;
  JsonObject *http = NULL;
  for (guint i = 0; i < 100 && http == NULL; i++) {
    g_clear_pointer(&reply, am_test_reply_free);
    reply = am_test_get(d, "api/health");
    if (reply->status == 200)
      http = json_object_get_object_member(json_node_get_object(reply->json), "http");
    else
      g_usleep(50 * 1000);
  }
  g_assert_nonnull(http);
  g_assert_cmpint(json_object_get_int_member(http, "idle_evicted"), >=, 1);
  g_assert_cmpint(json_object_get_int_member(http, "refused"), >=, 1);
  g_assert_cmpint(json_object_get_int_member(http, "max"), ==, 3);
  am_test_reply_free(reply);
  am_test_daemon_stop(d);
}

/* /api/health reports the agent's own resources against its budget, and
 * the store's caches sized from that budget. */
static void
test_health_reports_process(void)
{
  AmTestDaemon *d = am_test_daemon_start_http(
      "memory_budget=96MiB\n", "[http:api]\nlisten=127.0.0.1:0\n[store:sqlite]\npath=h.db\n", NULL);
  g_autoptr(AmTestReply) reply = am_test_get(d, "api/health");
  g_assert_cmpuint(reply->status, ==, 200);
  JsonObject *root = json_node_get_object(reply->json);
  JsonObject *process = json_object_get_object_member(root, "process");
  g_assert_nonnull(process);
  gint64 rss = json_object_get_int_member(process, "rss_bytes");
  g_assert_cmpint(rss, >, 1024 * 1024);
  g_assert_cmpint(json_object_get_int_member(process, "rss_peak_bytes"), >=, rss);
  gint64 fds = json_object_get_int_member(process, "fds");
  g_assert_cmpint(fds, >, 2);
  g_assert_cmpint(fds, <=, daemon_fds(d) + 1);
  g_assert_cmpint(json_object_get_int_member(process, "fd_limit"), >=, fds);
  g_assert_cmpint(json_object_get_int_member(process, "threads"), >=, 1);
  gint64 budget = json_object_get_int_member(process, "memory_budget_bytes");
  g_assert_cmpint(budget, ==, 96 * 1024 * 1024);
  g_assert_true(json_object_get_boolean_member(process, "over_budget") == (rss > budget));
  /* The store's page caches: a sixteenth and a thirty-second of the budget. */
  JsonObject *store = json_object_get_object_member(root, "store");
  JsonObject *engine = json_object_get_object_member(store, "engine");
  g_assert_nonnull(engine);
  g_assert_cmpint(json_object_get_int_member(engine, "cache_size_bytes"), ==, 6 * 1024 * 1024);
  g_assert_cmpint(json_object_get_int_member(engine, "reader_cache_size_bytes"), ==,
                  3 * 1024 * 1024);
  g_assert_cmpint(json_object_get_int_member(engine, "mmap_size_bytes"), ==, 0);
  g_assert_cmpint(json_object_get_int_member(engine, "db_bytes"), >, 0);
  g_assert_cmpint(json_object_get_int_member(store, "capacity"), ==,
                  96 * 1024 * 1024 / 4 / AM_STORE_SAMPLE_BYTES);
  g_assert_true(am_test_daemon_wait_log(d, "descriptors: "));
  am_test_daemon_stop(d);
}

/* A bad limit stops start-up with a message naming the key. */
static void
test_bad_limits(void)
{
  static const struct {
    const char *line, *message;
  } cases[] = {
      {"max_connections=0", "[http:api] max_connections=0: expected an integer from 1 to 65536"},
      {"request_timeout=soon", "[http:api] request_timeout=soon: expected a duration"},
      {"idle_timeout=2h", "[http:api] idle_timeout=2h: expected a duration from"},
  };
  g_autofree char *dir = g_dir_make_tmp("antmon-http-conns-XXXXXX", NULL);
  g_autofree char *ini = g_build_filename(dir, "bad.ini", NULL);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf(
        "[core]\nstate_dir=%s\n[http:api]\nlisten=127.0.0.1:0\n%s\n", dir, cases[i].line);
    g_assert_true(g_file_set_contents(ini, text, -1, NULL));
    const char *argv[] = {g_getenv("ANTMON_BIN"), "check-config", "-c", ini, NULL};
    g_autofree char *err = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, &error));
    g_assert_no_error(error);
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    if (strstr(err, cases[i].message) == NULL)
      g_error("expected \"%s\" in:\n%s", cases[i].message, err);
  }
  g_unlink(ini);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/http-conns/closed-keepalive-released", test_closed_keepalive_released);
  g_test_add_func("/http-conns/keepalive-reused", test_keepalive_reused);
  g_test_add_func("/http-conns/slow-and-idle-closed", test_slow_and_idle_closed);
  g_test_add_func("/http-conns/keepalive-off", test_keepalive_off);
  g_test_add_func("/http-conns/connection-limit", test_connection_limit);
  g_test_add_func("/http-conns/health-reports-process", test_health_reports_process);
  g_test_add_func("/http-conns/bad-limits", test_bad_limits);
  return g_test_run();
}
