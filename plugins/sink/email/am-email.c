/* The e-mail sink: SMTP with libcurl, one message per notification.
 *
 * libcurl's easy interface blocks, so each message is sent from a worker
 * thread (g_task_run_in_thread) and never from the main loop. The thread
 * gets its own reference to an immutable copy of the settings, so destroy()
 * never waits for a slow server; a cancel reaches curl through its progress
 * callback, which runs at least once a second. The password is handed to
 * curl and never formatted into any message. */
#include "am-email-message.h"
#include "am-sink-format.h"
#include "sample-ini.h"
#include <curl/curl.h>
#include <string.h>

typedef enum {
  TLS_STARTTLS = 0,
  TLS_IMPLICIT,
  TLS_NONE,
} TlsMode;

/* The settings, shared read-only with the threads sending. */
typedef struct {
  gint ref_count;
  char *group;
  char *url;    /* smtp://host:port or smtps://host:port */
  char *server; /* host:port, for messages */
  TlsMode tls;
  gboolean verify_tls;
  char *ca_file;
  char *username;
  char *password;
  char *from;
  char **to;
  char *subject_prefix;
  char *dashboard_url;
  gboolean html;
  guint64 timeout_ms;
  gboolean curl_ready;
} EmailConfig;

static EmailConfig *
config_ref(EmailConfig *c)
{
  g_atomic_int_inc(&c->ref_count);
  return c;
}

static void
config_unref(EmailConfig *c)
{
  if (c == NULL || !g_atomic_int_dec_and_test(&c->ref_count))
    return;
  g_free(c->group);
  g_free(c->url);
  g_free(c->server);
  g_free(c->ca_file);
  g_free(c->username);
  if (c->password != NULL)
    memset(c->password, 0, strlen(c->password));
  g_free(c->password);
  g_free(c->from);
  g_strfreev(c->to);
  g_free(c->subject_prefix);
  g_free(c->dashboard_url);
  /* The last reference may be a thread that finished after destroy():
   * curl's global state goes with the settings that needed it. */
  if (c->curl_ready)
    curl_global_cleanup();
  g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EmailConfig, config_unref)

/* ---- configuration ----------------------------------------------------- */

static gboolean
read_tls(EmailConfig *c, GKeyFile *kf, GError **error)
{
  static const char *const modes[] = {"starttls", "tls", "none"};
  g_autofree char *mode = am_config_get_string(kf, c->group, "tls", "starttls", error);
  if (mode == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(modes); i++)
    if (g_ascii_strcasecmp(mode, modes[i]) == 0) {
      c->tls = i;
      return TRUE;
    }
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] tls=%s: expected starttls, tls or none",
              c->group, mode);
  return FALSE;
}

static gboolean
missing(const char *group, const char *key, const char *what, GError **error)
{
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] %s is missing: expected %s", group, key,
              what);
  return FALSE;
}

/* server=HOST[:PORT]; the port defaults to the one of the TLS mode. */
static gboolean
read_server(EmailConfig *c, GKeyFile *kf, GError **error)
{
  g_autofree char *raw = g_key_file_get_value(kf, c->group, "server", NULL);
  if (raw == NULL || g_strstrip(raw)[0] == '\0')
    return missing(c->group, "server", "server=HOST or HOST:PORT (the SMTP server)", error);
  static const guint16 ports[] = {[TLS_STARTTLS] = 587, [TLS_IMPLICIT] = 465, [TLS_NONE] = 25};
  g_autofree char *host = NULL;
  guint16 port = 0;
  if (!am_config_get_host_port(kf, c->group, "server", NULL, ports[c->tls], &host, &port, error))
    return FALSE;
  gboolean v6 = strchr(host, ':') != NULL;
  c->server = g_strdup_printf(v6 ? "[%s]:%u" : "%s:%u", host, port);
  c->url = g_strdup_printf("%s://%s", c->tls == TLS_IMPLICIT ? "smtps" : "smtp", c->server);
  return TRUE;
}

static gboolean
read_recipients(EmailConfig *c, GKeyFile *kf, GError **error)
{
  c->to = am_config_get_list(kf, c->group, "to", error);
  if (c->to == NULL)
    return FALSE;
  if (c->to[0] == NULL)
    return missing(c->group, "to", "to=ADDRESS or a ';' list of addresses", error);
  for (guint i = 0; c->to[i] != NULL; i++)
    if (strchr(c->to[i], '@') == NULL || strpbrk(c->to[i], " <>\r\n") != NULL) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "[%s] to=%s: expected e-mail addresses such as ops@example.com", c->group,
                  c->to[i]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_from(EmailConfig *c, GKeyFile *kf, GError **error)
{
  g_autofree char *fallback = g_strdup_printf("antmon@%s", g_get_host_name());
  c->from = am_config_get_string(kf, c->group, "from", fallback, error);
  if (c->from == NULL)
    return FALSE;
  if (strchr(c->from, '@') == NULL || strpbrk(c->from, " <>\r\n") != NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] from=%s: expected an e-mail address such as antmon@example.com", c->group,
                c->from);
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_strings(EmailConfig *c, GKeyFile *kf, GError **error)
{
  g_autoptr(GError) local = NULL;
  c->username = am_config_get_string(kf, c->group, "username", NULL, &local);
  if (local == NULL)
    c->password = am_config_get_secret(kf, c->group, "password", &local);
  if (local == NULL)
    c->ca_file = am_config_get_string(kf, c->group, "ca_file", NULL, &local);
  if (local == NULL)
    c->subject_prefix = am_config_get_string(kf, c->group, "subject_prefix", "[antmon]", &local);
  if (local == NULL)
    c->dashboard_url = am_config_get_string(kf, c->group, "dashboard_url", NULL, &local);
  if (local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  if (c->password != NULL && c->username == NULL)
    return missing(c->group, "username", "username= with password=", error);
  return TRUE;
}

static gpointer
email_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  (void)ctx;
  g_autoptr(EmailConfig) c = g_new0(EmailConfig, 1);
  c->ref_count = 1;
  c->group = g_strdup(group);
  if (!read_tls(c, kf, error) || !read_server(c, kf, error) || !read_recipients(c, kf, error) ||
      !read_from(c, kf, error) || !read_strings(c, kf, error) ||
      !am_config_get_bool(kf, group, "verify_tls", TRUE, &c->verify_tls, error) ||
      !am_config_get_bool(kf, group, "html", TRUE, &c->html, error) ||
      !am_config_get_duration_ms(kf, group, "timeout", 30000, 1000, 10 * 60 * 1000, &c->timeout_ms,
                                 error))
    return NULL;
  /* Reference counted inside libcurl; paired with config_unref(). */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "[%s] libcurl did not initialise", group);
    return NULL;
  }
  c->curl_ready = TRUE;
  return g_steal_pointer(&c);
}

static void
email_destroy(gpointer instance)
{
  config_unref(instance);
}

/* ---- sending (worker thread) ------------------------------------------- */

typedef struct {
  EmailConfig *config;
  char *message;
  gsize length, offset;
  GCancellable *cancellable;
} Send;

static void
send_free(Send *s)
{
  config_unref(s->config);
  g_free(s->message);
  if (s->cancellable != NULL)
    g_object_unref(s->cancellable);
  g_free(s);
}

static size_t
read_message(char *buffer, size_t size, size_t nitems, void *user_data)
{
  Send *s = user_data;
  gsize n = MIN(size * nitems, s->length - s->offset);
  memcpy(buffer, s->message + s->offset, n);
  s->offset += n;
  return n;
}

static int
check_cancel(void *user_data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
             curl_off_t ulnow)
{
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  Send *s = user_data;
  return s->cancellable != NULL && g_cancellable_is_cancelled(s->cancellable);
}

/* curl's codes, in antmon's words. The text names the server, never the
 * credentials. */
static GError *
curl_error(Send *s, CURLcode code, const char *detail, long response)
{
  EmailConfig *c = s->config;
  if (code == CURLE_ABORTED_BY_CALLBACK)
    return g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED, "[%s] cancelled", c->group);
  int am_code = AM_ERROR_FAILED;
  switch (code) {
  case CURLE_COULDNT_CONNECT:
    am_code = AM_ERROR_REFUSED;
    break;
  case CURLE_OPERATION_TIMEDOUT:
    am_code = AM_ERROR_TIMEOUT;
    break;
  case CURLE_LOGIN_DENIED:
    am_code = AM_ERROR_AUTH;
    break;
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
    am_code = AM_ERROR_RESET;
    break;
  default:
    break;
  }
  const char *text = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  if (response > 0)
    return g_error_new(AM_ERROR, am_code, "[%s] SMTP %s: %s (server said %ld)", c->group, c->server,
                       text, response);
  return g_error_new(AM_ERROR, am_code, "[%s] SMTP %s: %s", c->group, c->server, text);
}

static void
set_tls(CURL *curl, EmailConfig *c)
{
  curl_easy_setopt(curl, CURLOPT_USE_SSL,
                   c->tls == TLS_NONE ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, c->verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, c->verify_tls ? 2L : 0L);
  if (c->ca_file != NULL)
    curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
}

static GError *
send_with_curl(Send *s, CURL *curl, struct curl_slist *rcpt)
{
  EmailConfig *c = s->config;
  char detail[CURL_ERROR_SIZE] = "";
  g_autofree char *mail_from = g_strdup_printf("<%s>", c->from);
  curl_easy_setopt(curl, CURLOPT_URL, c->url);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from);
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt(curl, CURLOPT_READDATA, s);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->length);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_cancel);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, s);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
  set_tls(curl, c);
  if (c->username != NULL)
    curl_easy_setopt(curl, CURLOPT_USERNAME, c->username);
  if (c->password != NULL)
    curl_easy_setopt(curl, CURLOPT_PASSWORD, c->password);
  CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK)
    return NULL;
  long response = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
  return curl_error(s, code, detail, response);
}

static void
send_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void)source, (void)cancellable;
  Send *s = task_data;
  CURL *curl = curl_easy_init();
  if (curl == NULL) {
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_FAILED, "[%s] libcurl: out of memory",
                            s->config->group);
    return;
  }
  struct curl_slist *rcpt = NULL;
  for (guint i = 0; s->config->to[i] != NULL; i++) {
    g_autofree char *address = g_strdup_printf("<%s>", s->config->to[i]);
    rcpt = curl_slist_append(rcpt, address);
  }
  GError *error = send_with_curl(s, curl, rcpt);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (error != NULL)
    g_task_return_error(task, error);
  else
    g_task_return_boolean(task, TRUE);
}

/* ---- the sink ---------------------------------------------------------- */

static void
email_deliver_async(gpointer instance, const AmNotification *n, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  EmailConfig *c = instance;
  g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
  g_autofree char *unique =
      g_strdup_printf("%" G_GINT64_FORMAT ".%08x", g_get_real_time(), g_random_int());
  AmEmailOptions options = {
      .from = c->from,
      .to = (const char *const *)c->to,
      .subject_prefix = c->subject_prefix,
      .dashboard_url = c->dashboard_url,
      .html = c->html,
      .date_us = g_get_real_time(),
      .unique = unique,
  };
  /* The notification lives only during this call: render it now. */
  Send *s = g_new0(Send, 1);
  s->config = config_ref(c);
  s->message = am_email_build(n, &options);
  s->length = strlen(s->message);
  s->cancellable = cancellable != NULL ? g_object_ref(cancellable) : NULL;
  g_task_set_task_data(task, s, (GDestroyNotify)send_free);
  g_task_run_in_thread(task, send_thread);
}

static gboolean
email_deliver_finish(gpointer instance, GAsyncResult *result, GError **error)
{
  (void)instance;
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmSinkVTable email_vtable = {
    .struct_size = sizeof(AmSinkVTable),
    .deliver_async = email_deliver_async,
    .deliver_finish = email_deliver_finish,
};

AM_PLUGIN_DEFINE(.name = "email", .kind = AM_PLUGIN_KIND_SINK,
                 .description = "alerts by e-mail over SMTP (STARTTLS or TLS, authentication)",
                 .version = AM_VERSION_STRING, .sample_config = sample_ini, .create = email_create,
                 .destroy = email_destroy, .vtable.sink = &email_vtable)
