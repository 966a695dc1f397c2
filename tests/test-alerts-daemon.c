/* Alerts end to end: the real daemon polls a fake fleet; miners overheat,
 * lose a board and go dark through the fleet's control port; a real SMTP
 * server (aiosmtpd) and a webhook receiver (libsoup, here) get exactly the
 * messages an operator should get, while a sink that hangs and one that is
 * refused delay nobody. Then: a restart with the SQLite store neither
 * forgets nor repeats an alert; bad configurations stop start-up. */
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

/* How long any one expected thing may take before the test gives up and
 * shows the daemon's log (a guard against hangs, not a timing check). */
#define GUARD_US (90 * G_USEC_PER_SEC)

/* ---- the daemon ---------------------------------------------------------- */

typedef struct {
  GSubprocess *proc;
  GDataInputStream *err;
  GString *log;
  gboolean eof;
} Daemon;

static void read_next(Daemon *d);

static void
on_line(GObject *stream, GAsyncResult *result, gpointer user_data)
{
  Daemon *d = user_data;
  g_autofree char *line =
      g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(stream), result, NULL, NULL);
  if (line == NULL) {
    d->eof = TRUE;
    return;
  }
  if (g_test_verbose())
    g_printerr("daemon: %s\n", line);
  g_string_append_printf(d->log, "%s\n", line);
  read_next(d);
}

static void
read_next(Daemon *d)
{
  g_data_input_stream_read_line_async(d->err, G_PRIORITY_DEFAULT, NULL, on_line, d);
}

/* A child that outlives a failed test would hold ports and pipes: it gets
 * SIGTERM when the test process dies. */
static void
die_with_parent(gpointer user_data)
{
  (void)user_data;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static GSubprocess *
spawn(GSubprocessFlags flags, GError **error, const char *const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(flags);
  g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
  return g_subprocess_launcher_spawnv(launcher, argv, error);
}

static Daemon *
daemon_start(const char *ini)
{
  Daemon *d = g_new0(Daemon, 1);
  d->log = g_string_new(NULL);
  g_autoptr(GError) error = NULL;
  const char *argv[] = {g_getenv("ANTMON_BIN"), "run", "-c", ini, NULL};
  d->proc = spawn(G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, argv);
  g_assert_no_error(error);
  d->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(d->proc));
  read_next(d);
  return d;
}

typedef gboolean (*Check)(gpointer data);

static gboolean
on_poll_tick(gpointer user_data)
{
  (void)user_data;
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop (the webhook receiver lives in it) until @check is
 * true. Files are re-checked every 100 ms. */
static void
wait_until(Daemon *d, Check check, gpointer data, const char *what)
{
  gint64 deadline = g_get_monotonic_time() + GUARD_US;
  guint tick = g_timeout_add(100, on_poll_tick, NULL);
  while (!check(data)) {
    if (g_get_monotonic_time() > deadline)
      g_error("gave up waiting for %s; the daemon said:\n%s", what, d != NULL ? d->log->str : "");
    g_main_context_iteration(NULL, TRUE);
  }
  g_source_remove(tick);
}

static guint
count(const char *haystack, const char *needle)
{
  guint n = 0;
  for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
    n++;
  return n;
}

typedef struct {
  Daemon *d;
  const char *needle;
  guint times;
} LogWait;

static gboolean
log_has(gpointer data)
{
  LogWait *w = data;
  return count(w->d->log->str, w->needle) >= w->times;
}

/* Waits until @needle has appeared @total times in the log in all. */
static void
wait_log_total(Daemon *d, const char *needle, guint total)
{
  LogWait w = {d, needle, total};
  wait_until(d, log_has, &w, needle);
}

/* Waits until @needle has appeared @more more times from now. */
static void
wait_log(Daemon *d, const char *needle, guint more)
{
  wait_log_total(d, needle, count(d->log->str, needle) + more);
}

static gboolean
daemon_ended(gpointer data)
{
  return ((Daemon *)data)->eof;
}

/* SIGTERM, then its exit status once its output has ended. */
static int
daemon_stop(Daemon *d)
{
  g_subprocess_send_signal(d->proc, SIGTERM);
  wait_until(d, daemon_ended, d, "the daemon to exit");
  g_subprocess_wait(d->proc, NULL, NULL);
  return g_subprocess_get_if_exited(d->proc) ? g_subprocess_get_exit_status(d->proc) : -1;
}

static void
daemon_free(Daemon *d)
{
  g_object_unref(d->err);
  g_object_unref(d->proc);
  g_string_free(d->log, TRUE);
  g_free(d);
}

/* ---- a webhook receiver ------------------------------------------------ */

typedef struct {
  SoupServer *server;
  guint16 port;
  GPtrArray *bodies; /* JsonObject*, in arrival order */
} Receiver;

static void
on_request(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer user_data)
{
  (void)server, (void)path, (void)query;
  Receiver *r = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
  g_autoptr(JsonParser) parser = json_parser_new();
  if (json_parser_load_from_data(parser, g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes),
                                 NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    g_ptr_array_add(r->bodies, json_object_ref(json_node_get_object(json_parser_get_root(parser))));
  soup_server_message_set_status(msg, 204, NULL);
}

static Receiver *
receiver_new(void)
{
  Receiver *r = g_new0(Receiver, 1);
  r->bodies = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
  r->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(r->server, "/hook", on_request, r, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(soup_server_listen_local(r->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  GSList *uris = soup_server_get_uris(r->server);
  r->port = g_uri_get_port(uris->data);
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  return r;
}

static void
receiver_free(Receiver *r)
{
  soup_server_disconnect(r->server);
  g_object_unref(r->server);
  g_ptr_array_unref(r->bodies);
  g_free(r);
}

typedef struct {
  Receiver *r;
  guint n;
} BodyWait;

static gboolean
has_bodies(gpointer data)
{
  BodyWait *w = data;
  return w->r->bodies->len >= w->n;
}

/* The @n-th notification (1-based), once it has arrived. */
static JsonObject *
wait_body(Daemon *d, Receiver *r, guint n)
{
  BodyWait w = {r, n};
  g_autofree char *what = g_strdup_printf("webhook notification %u", n);
  wait_until(d, has_bodies, &w, what);
  return r->bodies->pdata[n - 1];
}

static JsonObject *
alert_of(JsonObject *body, guint i)
{
  return json_array_get_object_element(json_object_get_array_member(body, "alerts"), i);
}

static const char *
str(JsonObject *o, const char *member)
{
  return json_object_get_string_member_with_default(o, member, NULL);
}

/* The alert of @body for @rule, or NULL. */
static JsonObject *
alert_for_rule(JsonObject *body, const char *rule)
{
  JsonArray *alerts = json_object_get_array_member(body, "alerts");
  for (guint i = 0; i < json_array_get_length(alerts); i++)
    if (g_strcmp0(str(json_array_get_object_element(alerts, i), "rule"), rule) == 0)
      return json_array_get_object_element(alerts, i);
  return NULL;
}

/* ---- a real SMTP server ------------------------------------------------ */

typedef struct {
  GSubprocess *proc;
  char *dir;
  guint16 port;
} Smtp;

static gboolean
can_connect(guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_autoptr(GSocketConnection) conn =
      g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, NULL);
  return conn != NULL;
}

/* aiosmtpd from Debian's python3-aiosmtpd, storing mail in a maildir. A
 * free port can be taken between the check and the bind: then try again. */
static Smtp *
smtp_start(void)
{
  Smtp *s = g_new0(Smtp, 1);
  s->dir = g_dir_make_tmp("antmon-mail-XXXXXX", NULL);
  g_autofree char *maildir = g_build_filename(s->dir, "maildir", NULL);
  for (guint attempt = 0; attempt < 5; attempt++) {
    s->port = am_test_free_port();
    g_autofree char *listen = g_strdup_printf("127.0.0.1:%u", s->port);
    g_autoptr(GError) error = NULL;
    const char *argv[] = {"/usr/bin/aiosmtpd",         "-n",    "-l", listen, "-c",
                          "aiosmtpd.handlers.Mailbox", maildir, NULL};
    s->proc =
        spawn(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, argv);
    g_assert_no_error(error);
    for (guint i = 0; i < 200 && !can_connect(s->port); i++) {
      if (g_subprocess_get_identifier(s->proc) == NULL)
        break;
      g_usleep(50 * 1000);
    }
    if (can_connect(s->port))
      return s;
    g_subprocess_force_exit(s->proc);
    g_subprocess_wait(s->proc, NULL, NULL);
    g_clear_object(&s->proc);
  }
  g_error("aiosmtpd did not start");
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* The body of @raw with quoted-printable undone; CRLF read as LF. */
static void
append_decoded(GString *text, const char *raw)
{
  for (const char *p = raw; *p != '\0'; p++) {
    if (p[0] == '\r' && p[1] == '\n')
      continue;
    if (p[0] == '=' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
      p += p[1] == '\n' ? 1 : 2;
    } else if (p[0] == '=' && g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2])) {
      g_string_append_c(text, (char)(g_ascii_xdigit_value(p[1]) * 16 + g_ascii_xdigit_value(p[2])));
      p += 2;
    } else {
      g_string_append_c(text, *p);
    }
  }
}

/* Every message received: its headers as they are, its body with
 * quoted-printable undone, CRLF read as LF. Sorted by file name (maildir
 * names start with the time). */
static GPtrArray *
smtp_messages(Smtp *s)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *newdir = g_build_filename(s->dir, "maildir", "new", NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) dir = g_dir_open(newdir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL)
    g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, compare_names);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename(newdir, names->pdata[i], NULL);
    g_autofree char *raw = NULL;
    g_assert_true(g_file_get_contents(path, &raw, NULL, NULL));
    const char *body = strstr(raw, "\n\n");
    body = body != NULL ? body : raw + strlen(raw);
    GString *text = g_string_new_len(raw, body - raw);
    append_decoded(text, body);
    g_ptr_array_add(out, g_string_free(text, FALSE));
  }
  return out;
}

/* The Subject: of @message, RFC 2047 words decoded. (transfer full) */
static char *
subject_of(const char *message)
{
  const char *start = strstr(message, "\nSubject: ");
  g_assert_nonnull(start);
  start += strlen("\nSubject: ");
  GString *out = g_string_new(NULL);
  const char *end = start;
  /* The header goes on while the next line starts with a blank. */
  while (*end != '\0' && !(end[0] == '\n' && end[1] != ' ' && end[1] != '\t'))
    end++;
  g_autofree char *header = g_strndup(start, end - start);
  const char *p = header;
  const char *word;
  if (strstr(p, "=?") == NULL)
    return g_string_free(g_string_append(out, header), FALSE);
  while ((word = strstr(p, "=?")) != NULL) {
    const char *q = strchr(word + 2, '?'); /* after the charset */
    const char *text = q + 3;              /* after "?B?" or "?b?" */
    const char *close = strstr(text, "?=");
    g_autofree char *b64 = g_strndup(text, close - text);
    gsize len = 0;
    g_autofree guchar *bytes = g_base64_decode(b64, &len);
    g_string_append_len(out, (const char *)bytes, len);
    p = close + 2;
  }
  return g_string_free(out, FALSE);
}

typedef struct {
  Smtp *s;
  guint n;
} MailWait;

static gboolean
has_mails(gpointer data)
{
  MailWait *w = data;
  g_autoptr(GPtrArray) messages = smtp_messages(w->s);
  return messages->len >= w->n;
}

/* The @n-th message (1-based), once it has arrived. (transfer full) */
static char *
wait_mail(Daemon *d, Smtp *s, guint n)
{
  MailWait w = {s, n};
  g_autofree char *what = g_strdup_printf("e-mail %u", n);
  wait_until(d, has_mails, &w, what);
  g_autoptr(GPtrArray) messages = smtp_messages(s);
  return g_strdup(messages->pdata[n - 1]);
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
smtp_stop(Smtp *s)
{
  g_subprocess_send_signal(s->proc, SIGTERM);
  g_subprocess_wait(s->proc, NULL, NULL);
  g_object_unref(s->proc);
  remove_tree(s->dir);
  g_free(s->dir);
  g_free(s);
}

/* A receiver that accepts connections and never answers. */
static GSocket *
hanging_listener(guint16 *port)
{
  g_autoptr(GError) error = NULL;
  GSocket *sock =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(sock, any, TRUE, &error));
  g_assert_true(g_socket_listen(sock, &error));
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address(sock, &error);
  *port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  return sock;
}

static char *
write_ini(const char *dir, const char *text)
{
  char *path = g_build_filename(dir, "antmon.ini", NULL);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

/* ---- the fleet scenario ------------------------------------------------ */

#define MINERS 6

static void
test_fleet(void)
{
  guint16 port = am_test_free_port();
  g_autofree char *s9 = am_test_profile_dir("antminer-s9");
  g_autofree char *degraded = am_test_profile_dir("antminer-s9-degraded");
  g_autoptr(GString) fleet_text = g_string_new(NULL);
  g_autoptr(GString) miners = g_string_new(NULL);
  for (guint i = 1; i <= MINERS; i++) {
    g_string_append_printf(fleet_text, "127.89.1.%u:%u %s\n", i, port, s9);
    g_string_append_printf(miners, "[miner:rack1-0%u]\nhost=127.89.1.%u:%u\n", i, i, port);
  }
  AmTestFleet *fleet = am_test_fleet_start(fleet_text->str);
  Smtp *smtp = smtp_start();
  Receiver *hook = receiver_new();
  guint16 hang_port, refused_port = am_test_free_port();
  g_autoptr(GSocket) hang = hanging_listener(&hang_port);

  g_autofree char *dir = g_dir_make_tmp("antmon-alerts-e2e-XXXXXX", NULL);
  g_autofree char *text = g_strdup_printf(
      "[core]\nstate_dir=%s\ninterval=1s\npoll_timeout=1s\noffline_after=2\nlog_level=info\n%s"
      "[alert:hot]\ntype=temperature\nwarning=85\ncritical=95\nclear=80\nhits=2\ncooldown=1h\n"
      "[alert:drop]\ntype=hashrate_drop\nthreshold=0.9\nwindow=1h\nhits=1\n"
      "[alert:hw]\ntype=hardware\nseverity=critical\n"
      "[alert:pool]\ntype=pool\n"
      "[alert:dark]\ntype=offline\nafter=3s\n"
      /* The hanging and the refused sinks come first: they must not delay the others. */
      "[sink:webhook:hang]\nurl=http://127.0.0.1:%u/hook\ntimeout=5m\ndeliver_timeout=5m\n"
      "digest_window=0\nretries=0\n"
      "[sink:webhook:refused]\nurl=http://127.0.0.1:%u/hook\ndigest_window=0\nretries=1\n"
      "retry_backoff=200ms\n"
      "[sink:email:ops]\nserver=127.0.0.1:%u\ntls=none\nfrom=antmon@test.invalid\n"
      "to=ops@test.invalid;oncall@test.invalid\n"
      "dashboard_url=http://127.0.0.1:8080/#/miner/{host}\ndigest_window=4s\nretries=0\n"
      "[sink:webhook:hook]\nurl=http://127.0.0.1:%u/hook\nformat=json\ndigest_window=4s\n"
      "dashboard_url=http://127.0.0.1:8080/#/miner/{host}\n"
      "[sink:log]\n",
      dir, miners->str, hang_port, refused_port, smtp->port, hook->port);
  g_autofree char *ini = write_ini(dir, text);
  Daemon *d = daemon_start(ini);
  g_autofree char *m1 = g_strdup_printf("127.89.1.1:%u", port);
  g_autofree char *m2 = g_strdup_printf("127.89.1.2:%u", port);

  /* Every miner answers, and a few passes give the hashrate a baseline. */
  wait_log_total(d, "unreachable -> ", MINERS);
  wait_log(d, "poll pass:", 4);
  g_assert_cmpuint(hook->bodies->len, ==, 0);

  /* 1. A miner overheats: one notification, to each sink. */
  am_test_fleet_control(fleet, "set 127.89.1.1 temp_offset=+25");
  JsonObject *body = wait_body(d, hook, 1);
  g_assert_cmpint(json_object_get_int_member(body, "n_alerts"), ==, 1);
  JsonObject *a = alert_of(body, 0);
  g_assert_cmpstr(str(a, "rule"), ==, "hot");
  g_assert_cmpstr(str(a, "state"), ==, "raised");
  g_assert_cmpstr(str(a, "severity"), ==, "critical");
  g_assert_cmpstr(str(a, "miner"), ==, m1);
  g_assert_cmpstr(str(a, "name"), ==, "rack1-01");
  g_assert_cmpstr(str(a, "model"), ==, "Antminer S9");
  g_assert_cmpfloat(json_object_get_double_member(a, "value"), >, 95);
  g_assert_cmpfloat(json_object_get_double_member(a, "value"), <, 105);
  g_assert_cmpfloat(json_object_get_double_member(a, "threshold"), ==, 95);
  g_assert_cmpstr(str(a, "dashboard_url"), ==, "http://127.0.0.1:8080/#/miner/127.89.1.1");
  /* It came while the hanging sink still holds the same alert open. */
  g_assert_true(g_socket_condition_check(hang, G_IO_IN) & G_IO_IN);
  g_autofree char *mail1 = wait_mail(d, smtp, 1);
  g_autofree char *subject1 = subject_of(mail1);
  g_autofree char *expected1 = g_strdup_printf("[antmon] [CRITICAL] hot on rack1-01 (%s): hottest "
                                               "board temperature ",
                                               m1);
  g_assert_true(g_str_has_prefix(subject1, expected1));
  g_assert_nonnull(strstr(mail1, "X-RcptTo: ops@test.invalid, oncall@test.invalid"));
  g_autofree char *miner_line = g_strdup_printf("Miner:     rack1-01 (%s)\n", m1);
  g_assert_nonnull(strstr(mail1, miner_line));
  g_autofree char *value_text =
      g_strdup_printf("Value:     %.1f °C\n", json_object_get_double_member(a, "value"));
  g_assert_nonnull(strstr(mail1, value_text));
  g_assert_nonnull(strstr(mail1, "Threshold: 95.0 °C\n"));
  g_assert_nonnull(strstr(mail1, "Dashboard: http://127.0.0.1:8080/#/miner/127.89.1.1\n"));
  g_assert_nonnull(strstr(mail1, "Content-Type: text/html"));
  /* The refused sink tried again, then gave up; polling went on throughout. */
  wait_log_total(d, "[sink:webhook:refused] delivery of \"[CRITICAL] hot on rack1-01", 2);
  g_assert_nonnull(strstr(d->log->str, "connection refused; retrying in 0.2 s"));
  g_assert_nonnull(strstr(d->log->str, "failed after 2 attempts: [sink:webhook:refused] "
                                       "connection refused; given up"));
  wait_log(d, "poll pass:", 2);
  /* The log sink wrote it as one structured line. */
  g_autofree char *log_line = g_strdup_printf("alert state=raised severity=critical rule=hot "
                                              "type=temperature miner=%s name=rack1-01",
                                              m1);
  g_assert_nonnull(strstr(d->log->str, log_line));

  /* 2. It cools down: resolved. */
  am_test_fleet_control(fleet, "set 127.89.1.1 temp_offset=0");
  body = wait_body(d, hook, 2);
  a = alert_of(body, 0);
  g_assert_cmpint(json_object_get_int_member(body, "n_alerts"), ==, 1);
  g_assert_cmpstr(str(a, "rule"), ==, "hot");
  g_assert_cmpstr(str(a, "state"), ==, "resolved");
  g_assert_cmpfloat(json_object_get_double_member(a, "value"), <=, 80);
  g_autofree char *mail2 = wait_mail(d, smtp, 2);
  g_autofree char *subject2 = subject_of(mail2);
  g_autofree char *expected2 = g_strdup_printf("[antmon] [RESOLVED] hot on rack1-01 (%s)", m1);
  g_assert_true(g_str_has_prefix(subject2, expected2));

  /* 3. Another loses a board, a fan and chips: hardware and hashrate
   * alerts, raised by the same sample, in one message. */
  g_autofree char *set_degraded = g_strdup_printf("set 127.89.1.2 profile=%s", degraded);
  am_test_fleet_control(fleet, set_degraded);
  body = wait_body(d, hook, 3);
  g_assert_cmpint(json_object_get_int_member(body, "n_alerts"), ==, 2);
  JsonObject *hw = alert_for_rule(body, "hw");
  JsonObject *drop = alert_for_rule(body, "drop");
  g_assert_nonnull(hw);
  g_assert_nonnull(drop);
  g_assert_cmpstr(str(hw, "miner"), ==, m2);
  g_assert_cmpstr(str(hw, "severity"), ==, "critical");
  g_assert_nonnull(strstr(str(hw, "message"), "2 of 3 chains present"));
  g_assert_nonnull(strstr(str(hw, "message"), "3 failed or missing chips"));
  g_assert_nonnull(strstr(str(hw, "message"), "1 of 2 fans spinning"));
  g_assert_cmpstr(str(drop, "miner"), ==, m2);
  g_assert_cmpstr(str(drop, "unit"), ==, "TH/s");
  /* 9.02 TH/s against a median of about 13.9 (the fleet varies by 2 %). */
  g_assert_cmpfloat(json_object_get_double_member(drop, "value"), >, 8.7);
  g_assert_cmpfloat(json_object_get_double_member(drop, "value"), <, 9.3);
  g_assert_cmpfloat(json_object_get_double_member(drop, "threshold"), >, 0.9 * 13.5);
  g_assert_cmpfloat(json_object_get_double_member(drop, "threshold"), <, 0.9 * 14.2);
  g_autofree char *mail3 = wait_mail(d, smtp, 3);
  g_autofree char *subject3 = subject_of(mail3);
  g_assert_cmpstr(subject3, ==, "[antmon] [CRITICAL] 2 alerts: 2 raised, 0 resolved (drop, hw)");
  g_assert_nonnull(strstr(mail3, "2 of 3 chains present"));

  /* 4. Repaired: both resolved together. */
  g_autofree char *set_healthy = g_strdup_printf("set 127.89.1.2 profile=%s", s9);
  am_test_fleet_control(fleet, set_healthy);
  body = wait_body(d, hook, 4);
  g_assert_cmpint(json_object_get_int_member(body, "n_alerts"), ==, 2);
  g_assert_cmpstr(str(alert_for_rule(body, "hw"), "state"), ==, "resolved");
  g_assert_cmpstr(str(alert_for_rule(body, "drop"), "state"), ==, "resolved");
  g_autofree char *mail4 = wait_mail(d, smtp, 4);
  g_autofree char *subject4 = subject_of(mail4);
  g_assert_cmpstr(subject4, ==, "[antmon] [RESOLVED] 2 alerts: 0 raised, 2 resolved (drop, hw)");

  /* 5. The whole rack goes dark: one message about six miners. */
  am_test_fleet_control(fleet, "set all fault=refuse");
  body = wait_body(d, hook, 5);
  g_assert_cmpint(json_object_get_int_member(body, "n_alerts"), ==, MINERS);
  for (guint i = 0; i < MINERS; i++) {
    a = alert_of(body, i);
    g_assert_cmpstr(str(a, "rule"), ==, "dark");
    g_assert_cmpstr(str(a, "state"), ==, "raised");
    g_assert_cmpstr(str(a, "severity"), ==, "critical");
    g_assert_nonnull(strstr(str(a, "message"), "refused"));
  }
  g_autofree char *mail5 = wait_mail(d, smtp, 5);
  g_autofree char *subject5 = subject_of(mail5);
  g_assert_cmpstr(subject5, ==, "[antmon] [CRITICAL] 6 alerts: 6 raised, 0 resolved (dark)");
  for (guint i = 1; i <= MINERS; i++) {
    g_autofree char *line = g_strdup_printf("Miner:     rack1-0%u (127.89.1.%u:%u)\n", i, i, port);
    g_assert_nonnull(strstr(mail5, line));
  }

  /* Stopping sends what is pending and ends cleanly, the hanging sink too. */
  g_assert_cmpint(daemon_stop(d), ==, 0);
  /* Exactly these messages, nothing more (no pool alert, no repeats). */
  g_autoptr(GPtrArray) all = smtp_messages(smtp);
  g_assert_cmpuint(all->len, ==, 5);
  g_assert_cmpuint(hook->bodies->len, ==, 5);
  g_assert_null(strstr(d->log->str, "rule=pool"));

  daemon_free(d);
  receiver_free(hook);
  smtp_stop(smtp);
  am_test_fleet_stop(fleet);
  remove_tree(dir);
}

/* ---- a restart with the SQLite store ----------------------------------- */

static void
test_restart_keeps_state(void)
{
  guint16 port = am_test_free_port();
  g_autofree char *s9 = am_test_profile_dir("antminer-s9");
  g_autofree char *fleet_text = g_strdup_printf("127.89.2.1:%u %s\n", port, s9);
  AmTestFleet *fleet = am_test_fleet_start(fleet_text);
  Receiver *hook = receiver_new();
  g_autofree char *dir = g_dir_make_tmp("antmon-alerts-restart-XXXXXX", NULL);
  g_autofree char *text =
      g_strdup_printf("[core]\nstate_dir=%s\ninterval=1s\npoll_timeout=1s\nlog_level=info\n"
                      "[miner:hot]\nhost=127.89.2.1:%u\n"
                      "[store:sqlite]\npath=antmon.db\nflush_interval=100ms\n"
                      "[alert:hot]\ntype=temperature\nwarning=85\ncritical=95\nclear=80\n"
                      "[sink:webhook:hook]\nurl=http://127.0.0.1:%u/hook\ndigest_window=0\n",
                      dir, port, hook->port);
  g_autofree char *ini = write_ini(dir, text);
  am_test_fleet_control(fleet, "set 127.89.2.1 temp_offset=+25");

  Daemon *d = daemon_start(ini);
  JsonObject *body = wait_body(d, hook, 1);
  g_assert_cmpstr(str(alert_of(body, 0), "state"), ==, "raised");
  g_assert_cmpint(daemon_stop(d), ==, 0);
  daemon_free(d);

  /* Still hot after the restart: antmon remembers, and says nothing new. */
  d = daemon_start(ini);
  wait_log_total(d, "1 alert is still active from before the restart", 1);
  wait_log(d, "poll pass:", 4);
  g_assert_cmpuint(hook->bodies->len, ==, 1);
  /* Cooled down: the resolve is sent. */
  am_test_fleet_control(fleet, "set 127.89.2.1 temp_offset=0");
  body = wait_body(d, hook, 2);
  g_assert_cmpstr(str(alert_of(body, 0), "rule"), ==, "hot");
  g_assert_cmpstr(str(alert_of(body, 0), "state"), ==, "resolved");
  g_assert_cmpint(daemon_stop(d), ==, 0);
  daemon_free(d);

  /* And a third start has nothing active left. */
  d = daemon_start(ini);
  wait_log(d, "poll pass:", 2);
  g_assert_null(strstr(d->log->str, "still active from before the restart"));
  g_assert_cmpint(daemon_stop(d), ==, 0);
  g_assert_cmpuint(hook->bodies->len, ==, 2);
  daemon_free(d);

  receiver_free(hook);
  am_test_fleet_stop(fleet);
  remove_tree(dir);
}

/* ---- bad configuration ------------------------------------------------- */

typedef struct {
  int status;
  char *out, *err;
} Run;

static Run
run_antmon(const char *command, const char *ini)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                       g_getenv("ANTMON_BIN"), command, "-c", ini, NULL);
  g_assert_no_error(error);
  Run r = {0};
  g_subprocess_communicate_utf8(proc, NULL, NULL, &r.out, &r.err, &error);
  g_assert_no_error(error);
  r.status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
  return r;
}

static void
test_bad_rules_stop_start_up(void)
{
  const struct {
    const char *group;
    const char *message;
  } cases[] = {
      {"[alert:heat]\ntype=heat\n", "[alert:heat] type=heat: expected one of temperature, "
                                    "hashrate_drop, offline, hardware, pool"},
      {"[alert:drop]\ntype=hashrate_drop\nthreshold=1.5\n",
       "[alert:drop] threshold=1.5: expected a number from 0.01 to 1"},
      {"[alert:hot]\ntype=temperature\nwarning=90\ncritical=80\n",
       "[alert:hot] critical=80: expected a value above warning=90"},
      {"[alert:hot]\ntype=temperature\nwarning=80\n[sink:log]\ndigest_window=soon\n",
       "[sink:log] digest_window=soon: expected a duration"},
  };
  g_autofree char *dir = g_dir_make_tmp("antmon-alerts-bad-XXXXXX", NULL);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf("[core]\nstate_dir=%s\n%s", dir, cases[i].group);
    g_autofree char *ini = write_ini(dir, text);
    Run r = run_antmon("run", ini);
    g_assert_cmpint(r.status, ==, 2);
    g_autofree char *expected = g_strdup_printf("antmon: %s: %s", ini, cases[i].message);
    if (strstr(r.err, expected) == NULL)
      g_error("expected \"%s\" in:\n%s", expected, r.err);
    g_free(r.out);
    g_free(r.err);
  }
  remove_tree(dir);
}

static void
test_sink_without_destination(void)
{
  g_autofree char *dir = g_dir_make_tmp("antmon-alerts-bad-XXXXXX", NULL);
  const struct {
    const char *group;
    const char *message;
  } cases[] = {
      {"[sink:email:ops]\nto=ops@test.invalid\n",
       "[sink:email:ops] server is missing: expected server=HOST or HOST:PORT"},
      {"[sink:email:ops]\nserver=127.0.0.1\n", "[sink:email:ops] to is missing"},
      {"[sink:webhook:chat]\nformat=slack\n", "[sink:webhook:chat] url is missing"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf("[core]\nstate_dir=%s\n%s", dir, cases[i].group);
    g_autofree char *ini = write_ini(dir, text);
    Run r = run_antmon("check-config", ini);
    g_assert_cmpint(r.status, ==, 2);
    g_autofree char *expected = g_strdup_printf("%s: %s", ini, cases[i].message);
    if (strstr(r.err, expected) == NULL)
      g_error("expected \"%s\" in:\n%s", expected, r.err);
    g_assert_nonnull(strstr(r.out, "1 plugin group failed to start"));
    g_free(r.out);
    g_free(r.err);
  }
  remove_tree(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/alerts-daemon/fleet", test_fleet);
  g_test_add_func("/alerts-daemon/restart-keeps-state", test_restart_keeps_state);
  g_test_add_func("/alerts-daemon/bad-rules-stop-start-up", test_bad_rules_stop_start_up);
  g_test_add_func("/alerts-daemon/sink-without-destination", test_sink_without_destination);
  return g_test_run();
}
