/* The e-mail sink: the message it builds, and delivery to a real SMTP
 * server (aiosmtpd, smtp-server.py) in plain text, with STARTTLS and with
 * TLS, with and without the right password; refused, hanging and
 * cancelled deliveries. */
#include "am-email-message.h"
#include "am-sink-test-util.h"
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

const AmPluginInfo *am_plugin_get_info(void);

/* ---- decoding what was sent -------------------------------------------- */

/* Undoes quoted-printable (soft breaks and =XX), with CRLF read as LF. */
static char *
qp_decode(const char *text)
{
  GString *out = g_string_new(NULL);
  for (const char *p = text; *p != '\0'; p++) {
    if (p[0] == '\r' && p[1] == '\n') {
      continue;
    } else if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
      p += 2;
    } else if (p[0] == '=' && p[1] == '\n') {
      p += 1;
    } else if (p[0] == '=' && g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2])) {
      g_string_append_c(out, (char)(g_ascii_xdigit_value(p[1]) * 16 + g_ascii_xdigit_value(p[2])));
      p += 2;
    } else {
      g_string_append_c(out, *p);
    }
  }
  return g_string_free(out, FALSE);
}

/* Undoes RFC 2047 B words (as am_email_encode_header() writes them). */
static char *
header_decode(const char *value)
{
  GString *out = g_string_new(NULL);
  const char *p = value;
  while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
    p += strlen("=?UTF-8?B?");
    const char *end = strstr(p, "?=");
    g_assert_nonnull(end);
    g_autofree char *b64 = g_strndup(p, end - p);
    gsize len = 0;
    g_autofree guchar *bytes = g_base64_decode(b64, &len);
    g_string_append_len(out, (const char *)bytes, len);
    p = end + 2;
  }
  return g_string_free(out, FALSE);
}

static AmNotification *
one_alert(void)
{
  AmAlert a = am_sink_test_hot_alert(FALSE);
  const AmAlert *alerts[] = {&a, NULL};
  return am_sink_test_notification_new(
      "[CRITICAL] hot on rack1-07 (10.0.0.5:4028): hottest board temperature 98.1 °C is over the "
      "critical limit 90.0 °C",
      alerts);
}

/* ---- the message ------------------------------------------------------- */

static const char *const two_recipients[] = {"ops@test.invalid", "oncall@test.invalid", NULL};

static void
test_message(void)
{
  AmAlert a = am_sink_test_hot_alert(FALSE);
  a.miner_name = "<b>rack1</b> & co";
  const AmAlert *alerts[] = {&a, NULL};
  AmNotification *n = am_sink_test_notification_new("[CRITICAL] hot on rack1 ... 98.1 °C", alerts);
  AmEmailOptions o = {
      .from = "antmon@test.invalid",
      .to = two_recipients,
      .subject_prefix = "[antmon]",
      .dashboard_url = "http://antmon.lan:8080/#/miner/{host}",
      .html = TRUE,
      .date_us = (gint64)1700000000 * G_USEC_PER_SEC,
      .unique = "1700000000.abcd",
  };
  g_autofree char *msg = am_email_build(n, &o);
  /* Headers, then the body; every line ends in CRLF and fits SMTP. */
  g_assert_true(g_str_has_prefix(msg, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                                      "From: antmon@test.invalid\r\n"
                                      "To: ops@test.invalid, oncall@test.invalid\r\n"
                                      "Subject: =?UTF-8?B?"));
  g_assert_nonnull(strstr(msg, "\r\nMessage-ID: <1700000000.abcd@test.invalid>\r\n"));
  g_assert_nonnull(
      strstr(msg, "Content-Type: multipart/alternative; boundary=\"antmon-1700000000.abcd\""));
  g_auto(GStrv) lines = g_strsplit(msg, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_assert_null(strchr(lines[i], '\n'));
    g_assert_cmpuint(strlen(lines[i]), <=, 78);
  }
  const char *subject = strstr(msg, "Subject: ");
  g_autofree char *subject_line = g_strndup(subject, strstr(subject, "\r\nMessage-ID") - subject);
  g_autofree char *decoded_subject = header_decode(subject_line);
  g_assert_cmpstr(decoded_subject, ==, "[antmon] [CRITICAL] hot on rack1 ... 98.1 °C");

  g_autofree char *body = qp_decode(msg);
  /* The plain part: miner, rule, value, threshold, link. */
  g_assert_nonnull(strstr(body, "Miner:     <b>rack1</b> & co (10.0.0.5:4028)\n"));
  g_assert_nonnull(strstr(body, "Rule:      hot (temperature)\n"));
  g_assert_nonnull(strstr(body, "Value:     98.1 °C\n"));
  g_assert_nonnull(strstr(body, "Threshold: 90.0 °C\n"));
  g_assert_nonnull(strstr(body, "Dashboard: http://antmon.lan:8080/#/miner/10.0.0.5\n"));
  /* The HTML part: the same, escaped. */
  g_assert_nonnull(strstr(body, "Content-Type: text/html; charset=utf-8"));
  g_assert_nonnull(strstr(body, "<a href=\"http://antmon.lan:8080/#/miner/10.0.0.5\">"
                                "&lt;b&gt;rack1&lt;/b&gt; &amp; co (10.0.0.5:4028)</a>"));
  g_assert_null(strstr(body, "<b>rack1</b> & co (10.0.0.5:4028)</a>"));
  g_assert_true(g_str_has_suffix(msg, "--antmon-1700000000.abcd--\r\n"));
  am_sink_test_notification_free(n);
}

static void
test_message_plain_only(void)
{
  AmNotification *n = one_alert();
  AmEmailOptions o = {.from = "a@b.c", .to = two_recipients, .date_us = 0, .unique = "x"};
  g_autofree char *msg = am_email_build(n, &o);
  g_assert_nonnull(strstr(msg, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
  g_assert_null(strstr(msg, "multipart"));
  g_assert_null(strstr(msg, "text/html"));
  am_sink_test_notification_free(n);
}

static void
test_quoted_printable(void)
{
  const struct {
    const char *in, *out;
  } cases[] = {
      {"plain text\n", "plain text\r\n"}, {"a=b\n", "a=3Db\r\n"},
      {"98.1 °C\n", "98.1 =C2=B0C\r\n"},  {"trailing blank \n", "trailing blank=20\r\n"},
      {"no newline", "no newline\r\n"},   {"crlf\r\nkept\n", "crlf\r\nkept\r\n"},
      {"x\n\ny\n", "x\r\n\r\ny\r\n"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *qp = am_email_quoted_printable(cases[i].in);
    g_assert_cmpstr(qp, ==, cases[i].out);
  }
  /* A long line is cut softly at 76 and reads back whole. */
  g_autofree char *longline = g_strnfill(200, 'x');
  g_autofree char *qp = am_email_quoted_printable(longline);
  g_auto(GStrv) lines = g_strsplit(qp, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_cmpuint(strlen(lines[i]), <=, 76);
  g_autofree char *back = qp_decode(qp);
  g_assert_cmpstr(g_strchomp(back), ==, longline);
}

static void
test_encode_header(void)
{
  g_autofree char *ascii = am_email_encode_header("[antmon] hot on 10.0.0.5");
  g_assert_cmpstr(ascii, ==, "[antmon] hot on 10.0.0.5");
  GString *longtext = g_string_new(NULL);
  for (guint i = 0; i < 30; i++)
    g_string_append(longtext, "98.1 °C ");
  g_autofree char *encoded = am_email_encode_header(longtext->str);
  g_auto(GStrv) words = g_strsplit(encoded, "\r\n ", -1);
  g_assert_cmpuint(g_strv_length(words), >, 1);
  for (guint i = 0; words[i] != NULL; i++)
    g_assert_cmpuint(strlen(words[i]), <=, 75);
  g_autofree char *back = header_decode(encoded);
  g_assert_cmpstr(back, ==, longtext->str);
  g_string_free(longtext, TRUE);
}

/* ---- a real SMTP server ------------------------------------------------ */

typedef struct {
  char *dir;
  GSubprocess *proc;
  GDataInputStream *out;
  guint16 port;
} Smtp;

/* Starts smtp-server.py with @tls ("none", "starttls", "tls") and, if
 * @auth ("user:password"), AUTH required. */
static Smtp *
smtp_start(const char *tls, const char *auth)
{
  Smtp *s = g_new0(Smtp, 1);
  s->dir = g_dir_make_tmp("antmon-smtp-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  /* Debian's python3: the one python3-aiosmtpd is installed for. */
  const char *args[] = {"/usr/bin/python3",
                        "-W",
                        "ignore::DeprecationWarning",
                        g_getenv("AM_SMTP_SERVER"),
                        s->dir,
                        "--tls",
                        tls};
  for (guint i = 0; i < G_N_ELEMENTS(args); i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  if (auth != NULL) {
    g_ptr_array_add(argv, "--auth");
    g_ptr_array_add(argv, (gpointer)auth);
  }
  g_ptr_array_add(argv, NULL);
  /* Its stderr (tracebacks of refused handshakes, on purpose) goes to a
   * file, shown only if it does not start. */
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *err_path = g_build_filename(s->dir, "server.log", NULL);
  g_subprocess_launcher_set_stderr_file_path(launcher, err_path);
  s->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error(error);
  s->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(s->proc));
  g_autofree char *line = g_data_input_stream_read_line_utf8(s->out, NULL, NULL, &error);
  g_assert_no_error(error);
  if (line == NULL || !g_str_has_prefix(line, "port ")) {
    g_autofree char *log = NULL;
    g_file_get_contents(err_path, &log, NULL, NULL);
    g_error("the SMTP server did not start (%s): %s", line != NULL ? line : "no output",
            log != NULL ? log : "");
  }
  s->port = (guint16)atoi(line + 5);
  return s;
}

static char *
smtp_read_line(Smtp *s)
{
  return g_data_input_stream_read_line_utf8(s->out, NULL, NULL, NULL);
}

/* The messages received, in no particular order. (transfer full) */
static GPtrArray *
smtp_messages(Smtp *s)
{
  GPtrArray *messages = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *newdir = g_build_filename(s->dir, "maildir", "new", NULL);
  g_autoptr(GDir) dir = g_dir_open(newdir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = g_build_filename(newdir, name, NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_ptr_array_add(messages, text);
  }
  return messages;
}

static void
remove_tree(const char *path)
{
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *child = g_build_filename(path, name, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR))
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
  g_object_unref(s->out);
  g_object_unref(s->proc);
  remove_tree(s->dir);
  g_free(s->dir);
  g_free(s);
}

static gpointer
create(const char *ini, GError **error)
{
  return am_sink_test_create(am_plugin_get_info(), NULL, ini, "sink:email:ops", error);
}

static gboolean
deliver(gpointer self, GCancellable *cancellable, GError **error)
{
  AmNotification *n = one_alert();
  gboolean ok = am_sink_test_deliver(am_plugin_get_info(), self, n, cancellable, error);
  am_sink_test_notification_free(n);
  return ok;
}

/* The one message received; checks what every test expects of it. */
static void
assert_one_message(Smtp *s)
{
  g_autoptr(GPtrArray) messages = smtp_messages(s);
  g_assert_cmpuint(messages->len, ==, 1);
  const char *m = messages->pdata[0];
  g_assert_nonnull(strstr(m, "X-MailFrom: antmon@test.invalid"));
  g_assert_nonnull(strstr(m, "X-RcptTo: ops@test.invalid, oncall@test.invalid"));
  g_assert_nonnull(strstr(m, "Subject: =?UTF-8?B?"));
  g_autofree char *body = qp_decode(m);
  g_assert_nonnull(strstr(body, "Miner:     rack1-07 (10.0.0.5:4028)"));
  g_assert_nonnull(strstr(body, "Value:     98.1 °C"));
}

static void
test_smtp_plain(void)
{
  Smtp *s = smtp_start("none", NULL);
  g_autofree char *ini =
      g_strdup_printf("[sink:email:ops]\nserver=127.0.0.1:%u\ntls=none\nfrom=antmon@test.invalid\n"
                      "to=ops@test.invalid;oncall@test.invalid\n",
                      s->port);
  g_autoptr(GError) error = NULL;
  gpointer self = create(ini, &error);
  g_assert_no_error(error);
  g_assert_true(deliver(self, NULL, &error));
  g_assert_no_error(error);
  assert_one_message(s);
  am_plugin_get_info()->destroy(self);
  smtp_stop(s);
}

/* STARTTLS or TLS, the server's own certificate, a password from a file. */
static void
check_tls_auth(const char *tls)
{
  Smtp *s = smtp_start(tls, "antmon:s3cret pass");
  g_autofree char *pass = g_build_filename(s->dir, "smtp.pass", NULL);
  g_assert_true(g_file_set_contents(pass, "s3cret pass\n", -1, NULL));
  g_autofree char *ini = g_strdup_printf(
      "[sink:email:ops]\nserver=127.0.0.1:%u\ntls=%s\nca_file=%s/cert.pem\nusername=antmon\n"
      "password_file=%s\nfrom=antmon@test.invalid\nto=ops@test.invalid;oncall@test.invalid\n",
      s->port, tls, s->dir, pass);
  g_autoptr(GError) error = NULL;
  gpointer self = create(ini, &error);
  g_assert_no_error(error);
  g_assert_true(deliver(self, NULL, &error));
  g_assert_no_error(error);
  g_autofree char *line = smtp_read_line(s);
  g_assert_cmpstr(line, ==, "auth ok antmon");
  assert_one_message(s);
  am_plugin_get_info()->destroy(self);
  smtp_stop(s);
}

static void
test_smtp_starttls_auth(void)
{
  check_tls_auth("starttls");
}

static void
test_smtp_tls_auth(void)
{
  check_tls_auth("tls");
}

static void
test_smtp_wrong_password(void)
{
  Smtp *s = smtp_start("starttls", "antmon:right");
  g_autofree char *ini = g_strdup_printf(
      "[sink:email:ops]\nserver=127.0.0.1:%u\nca_file=%s/cert.pem\nusername=antmon\n"
      "password=Wr0ngPassw0rd\nfrom=antmon@test.invalid\nto=ops@test.invalid\n",
      s->port, s->dir);
  gpointer self = create(ini, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(deliver(self, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_true(g_str_has_prefix(error->message, "[sink:email:ops] SMTP 127.0.0.1:"));
  g_assert_null(strstr(error->message, "Wr0ngPassw0rd"));
  g_autoptr(GPtrArray) messages = smtp_messages(s);
  g_assert_cmpuint(messages->len, ==, 0);
  am_plugin_get_info()->destroy(self);
  smtp_stop(s);
}

static void
test_smtp_untrusted_certificate(void)
{
  /* The server's certificate is self-signed: without ca_file= it is refused. */
  Smtp *s = smtp_start("starttls", NULL);
  g_autofree char *ini = g_strdup_printf(
      "[sink:email:ops]\nserver=127.0.0.1:%u\nfrom=antmon@test.invalid\nto=ops@test.invalid\n",
      s->port);
  gpointer self = create(ini, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(deliver(self, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_FAILED);
  g_autoptr(GPtrArray) messages = smtp_messages(s);
  g_assert_cmpuint(messages->len, ==, 0);
  am_plugin_get_info()->destroy(self);
  smtp_stop(s);
}

static void
test_smtp_refused(void)
{
  guint16 port = am_test_free_port();
  g_autofree char *ini = g_strdup_printf(
      "[sink:email:ops]\nserver=127.0.0.1:%u\ntls=none\nto=ops@test.invalid\n", port);
  gpointer self = create(ini, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(deliver(self, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
  am_plugin_get_info()->destroy(self);
}

/* A server that accepts and never says hello. */
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

static void
test_smtp_hang_timeout(void)
{
  guint16 port;
  g_autoptr(GSocket) listener = hanging_listener(&port);
  g_autofree char *ini = g_strdup_printf(
      "[sink:email:ops]\nserver=127.0.0.1:%u\ntls=none\nto=ops@test.invalid\ntimeout=1s\n", port);
  gpointer self = create(ini, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(deliver(self, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  am_plugin_get_info()->destroy(self);
}

static gboolean
cancel_soon(gpointer user_data)
{
  g_cancellable_cancel(user_data);
  return G_SOURCE_REMOVE;
}

static void
test_smtp_hang_cancel(void)
{
  guint16 port;
  g_autoptr(GSocket) listener = hanging_listener(&port);
  g_autofree char *ini = g_strdup_printf(
      "[sink:email:ops]\nserver=127.0.0.1:%u\ntls=none\nto=ops@test.invalid\ntimeout=10m\n", port);
  gpointer self = create(ini, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_timeout_add(200, cancel_soon, cancellable);
  g_autoptr(GError) error = NULL;
  g_assert_false(deliver(self, cancellable, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  am_plugin_get_info()->destroy(self);
}

static void
on_cancelled_result(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  g_autoptr(GError) error = NULL;
  g_assert_false(g_task_propagate_boolean(G_TASK(result), &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  *(gboolean *)user_data = TRUE;
}

static void
test_destroy_while_sending(void)
{
  /* destroy() does not wait for a slow server: the thread keeps what it
   * needs, and the cancel still reaches it. */
  guint16 port;
  g_autoptr(GSocket) listener = hanging_listener(&port);
  g_autofree char *ini = g_strdup_printf(
      "[sink:email:ops]\nserver=127.0.0.1:%u\ntls=none\nto=ops@test.invalid\ntimeout=10m\n", port);
  gpointer self = create(ini, NULL);
  AmNotification *n = one_alert();
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  gboolean done = FALSE;
  am_plugin_get_info()->vtable.sink->deliver_async(self, n, cancellable, on_cancelled_result,
                                                   &done);
  am_sink_test_notification_free(n);
  am_plugin_get_info()->destroy(self);
  g_cancellable_cancel(cancellable);
  while (!done)
    g_main_context_iteration(NULL, TRUE);
}

static void
test_bad_config(void)
{
  const struct {
    const char *ini;
    const char *message;
  } cases[] = {
      {"to=ops@test.invalid\n", "[sink:email:ops] server is missing: expected server=HOST"},
      {"server=smtp.test.invalid\n", "[sink:email:ops] to is missing: expected to=ADDRESS"},
      {"server=smtp.test.invalid\nto=ops@test.invalid\ntls=ssl\n",
       "[sink:email:ops] tls=ssl: expected starttls, tls or none"},
      {"server=smtp.test.invalid:99999\nto=ops@test.invalid\n", "[sink:email:ops] server="},
      {"server=smtp.test.invalid\nto=ops\n",
       "[sink:email:ops] to=ops: expected e-mail addresses such as ops@example.com"},
      {"server=smtp.test.invalid\nto=ops@test.invalid\nfrom=me\n",
       "[sink:email:ops] from=me: expected an e-mail address"},
      {"server=smtp.test.invalid\nto=ops@test.invalid\npassword=hunter2\n",
       "[sink:email:ops] username is missing: expected username= with password="},
      {"server=smtp.test.invalid\nto=ops@test.invalid\npassword_file=/nonexistent/antmon.pass\n",
       "[sink:email:ops] password_file=/nonexistent/antmon.pass: expected a readable file"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *ini = g_strdup_printf("[sink:email:ops]\n%s", cases[i].ini);
    g_autoptr(GError) error = NULL;
    g_assert_null(create(ini, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    if (!g_str_has_prefix(error->message, cases[i].message))
      g_error("case %u: expected \"%s...\", got \"%s\"", i, cases[i].message, error->message);
    g_assert_null(strstr(error->message, "hunter2"));
  }
}

static void
test_sample_config(void)
{
  const AmPluginInfo *info = am_plugin_get_info();
  g_assert_cmpstr(info->name, ==, "email");
  /* The sample loads; without a destination it refuses to start. */
  g_autoptr(GError) error = NULL;
  g_assert_null(am_sink_test_create(info, NULL, info->sample_config, "sink:email", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_clear_error(&error);
  g_autofree char *filled =
      g_strdup_printf("%sserver=smtp.test.invalid\nto=ops@test.invalid\n", info->sample_config);
  gpointer self = am_sink_test_create(info, NULL, filled, "sink:email", &error);
  g_assert_no_error(error);
  info->destroy(self);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sink-email/message/parts", test_message);
  g_test_add_func("/sink-email/message/plain-only", test_message_plain_only);
  g_test_add_func("/sink-email/message/quoted-printable", test_quoted_printable);
  g_test_add_func("/sink-email/message/encode-header", test_encode_header);
  g_test_add_func("/sink-email/smtp/plain", test_smtp_plain);
  g_test_add_func("/sink-email/smtp/starttls-auth", test_smtp_starttls_auth);
  g_test_add_func("/sink-email/smtp/tls-auth", test_smtp_tls_auth);
  g_test_add_func("/sink-email/smtp/wrong-password", test_smtp_wrong_password);
  g_test_add_func("/sink-email/smtp/untrusted-certificate", test_smtp_untrusted_certificate);
  g_test_add_func("/sink-email/smtp/refused", test_smtp_refused);
  g_test_add_func("/sink-email/smtp/hang-timeout", test_smtp_hang_timeout);
  g_test_add_func("/sink-email/smtp/hang-cancel", test_smtp_hang_cancel);
  g_test_add_func("/sink-email/smtp/destroy-while-sending", test_destroy_while_sending);
  g_test_add_func("/sink-email/bad-config", test_bad_config);
  g_test_add_func("/sink-email/sample-config", test_sample_config);
  return g_test_run();
}
