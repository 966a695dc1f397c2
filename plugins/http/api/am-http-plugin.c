/* The "api" HTTP plugin: reads its [http:api] group, refuses settings that
 * would expose the fleet's data to the network without a token, and hands
 * the rest to the server (am-http-server.c). */
#include "am-http-actions-parse.h"
#include "am-http-server.h"
#include "sample-ini.h"

#include <string.h>

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_PORT 8080

/* listen= as host and port. Port 0 (any free port, for tests) is allowed
 * here although the shared host:port reader wants 1 to 65535. */
static gboolean
read_listen(GKeyFile *kf, const char *group, char **host, guint16 *port, GError **error)
{
  g_autofree char *text = am_config_get_string(kf, group, "listen", DEFAULT_LISTEN, error);
  if (text == NULL)
    return FALSE;
  gboolean any_port = g_str_has_suffix(text, ":0") && !g_str_has_suffix(text, "::0");
  g_autoptr(GKeyFile) tmp = g_key_file_new();
  g_autofree char *without = any_port ? g_strndup(text, strlen(text) - 2) : g_strdup(text);
  g_key_file_set_string(tmp, group, "listen", *without != '\0' ? without : DEFAULT_LISTEN);
  if (!am_config_get_host_port(tmp, group, "listen", DEFAULT_LISTEN, DEFAULT_PORT, host, port,
                               error))
    return FALSE;
  if (any_port)
    *port = 0;
  return TRUE;
}

/* Only an IP literal or "localhost": a name that resolves elsewhere later
 * must not decide what the daemon exposes. */
static gboolean
check_listen_host(const char *group, const char *host, gboolean *loopback, GError **error)
{
  if (g_str_equal(host, "localhost")) {
    *loopback = TRUE;
    return TRUE;
  }
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(host);
  if (addr == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] listen=%s: expected an IP address (127.0.0.1, 0.0.0.0, [::1]) or localhost",
                group, host);
    return FALSE;
  }
  *loopback = g_inet_address_get_is_loopback(addr);
  return TRUE;
}

static gboolean
read_tls(GKeyFile *kf, const char *group, GTlsCertificate **tls, GError **error)
{
  g_autofree char *cert = am_config_get_string(kf, group, "tls_cert", "", error);
  g_autofree char *key =
      cert != NULL ? am_config_get_string(kf, group, "tls_key", "", error) : NULL;
  if (cert == NULL || key == NULL)
    return FALSE;
  if (*cert == '\0' && *key == '\0')
    return TRUE;
  if (*cert == '\0' || *key == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] tls_cert= and tls_key= go together: give both files or neither", group);
    return FALSE;
  }
  g_autoptr(GError) local = NULL;
  *tls = g_tls_certificate_new_from_files(cert, key, &local);
  if (*tls == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] tls_cert=%s tls_key=%s: %s", group, cert,
                key, local->message);
    return FALSE;
  }
  return TRUE;
}

/* A sample older than two intervals and a poll deadline missed at least
 * one poll: the dashboard greys it. */
static gint64
stale_after_us(GKeyFile *kf)
{
  guint64 interval_ms = 30000, timeout_ms = 10000;
  if (!am_config_get_duration_ms(kf, "core", "interval", 30000, 1, G_MAXUINT32, &interval_ms, NULL))
    interval_ms = 30000;
  if (!am_config_get_duration_ms(kf, "core", "poll_timeout", 10000, 1, G_MAXUINT32, &timeout_ms,
                                 NULL))
    timeout_ms = 10000;
  return (gint64)(2 * interval_ms + timeout_ms) * 1000;
}

static gboolean
read_limits(GKeyFile *kf, const char *group, AmHttpConfig *c, GError **error)
{
  guint64 request_ms = 0, idle_ms = 0;
  if (!am_config_get_uint(kf, group, "api_max_limit", 10000, 1, 1000000, &c->api_max_limit,
                          error) ||
      !am_config_get_uint(kf, group, "max_body_bytes", 65536, 0, 16 * 1024 * 1024,
                          &c->max_body_bytes, error) ||
      /* libsoup drops header blocks over 64 KiB without an answer. */
      !am_config_get_uint(kf, group, "max_header_bytes", 16384, 1024, 60 * 1024,
                          &c->max_header_bytes, error) ||
      !am_config_get_uint(kf, group, "max_connections", 64, 1, 65536, &c->max_connections, error) ||
      !am_config_get_duration_ms(kf, group, "request_timeout", 10 * 1000, 100, 3600 * 1000,
                                 &request_ms, error) ||
      !am_config_get_duration_ms(kf, group, "idle_timeout", 30 * 1000, 0, 3600 * 1000, &idle_ms,
                                 error))
    return FALSE;
  c->request_timeout_ms = (guint)request_ms;
  c->idle_timeout_ms = (guint)idle_ms;
  return TRUE;
}

/* action_tokens_file=: more tokens, one per person or tool, each with the
 * name the audit trail gives what is done with it. */
static gboolean
read_action_tokens(GKeyFile *kf, const char *group, AmHttpConfig *c, GError **error)
{
  g_autofree char *path = am_config_get_string(kf, group, "action_tokens_file", "", error);
  if (path == NULL)
    return FALSE;
  if (*path == '\0')
    return TRUE;
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents(path, &text, NULL, &local)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] action_tokens_file=%s: %s", group, path,
                local->message);
    return FALSE;
  }
  c->action_tokens = am_http_named_tokens_parse(text, path, error);
  memset(text, 0, strlen(text));
  return c->action_tokens != NULL;
}

/* actions= and token_name=. The control plane changes miners, so it needs
 * a token even on loopback: any local process or a page in a local browser
 * could otherwise reach it. */
static gboolean
read_actions(GKeyFile *kf, const char *group, const char *file, AmHttpConfig *c, GError **error)
{
  if (!am_config_get_bool(kf, group, "actions", FALSE, &c->actions, error))
    return FALSE;
  c->token_name = am_config_get_string(kf, group, "token_name", "api", error);
  if (c->token_name == NULL)
    return FALSE;
  if (!am_http_token_name_is_valid(c->token_name)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "%s: [%s] token_name=%s: expected 1 to 64 characters without spaces or quotes "
                "(the name the audit trail gives actions made with the token)",
                file, group, c->token_name);
    return FALSE;
  }
  if (!read_action_tokens(kf, group, c, error))
    return FALSE;
  if (c->actions && c->token == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "%s: [%s] actions=true needs token= or token_file= in the same group, even "
                "on loopback: whoever can reach the API could otherwise reboot or pause the "
                "fleet",
                file, group);
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_config(GKeyFile *kf, const char *group, const char *file, AmHttpConfig *c, GError **error)
{
  gboolean loopback = FALSE;
  if (!read_listen(kf, group, &c->listen_host, &c->listen_port, error) ||
      !check_listen_host(group, c->listen_host, &loopback, error) ||
      !read_limits(kf, group, c, error) || !read_tls(kf, group, &c->tls, error))
    return FALSE;
  c->token = am_config_get_secret(kf, group, "token", error);
  if (c->token == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (c->token != NULL && *c->token == '\0')
    g_clear_pointer(&c->token, g_free);
  if (!loopback && c->token == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] listen=%s: listening beyond this machine needs token= or token_file=, "
                "otherwise anyone on the network could read the fleet's data; set one, or "
                "listen on 127.0.0.1",
                group, c->listen_host);
    return FALSE;
  }
  if (!read_actions(kf, group, file, c, error))
    return FALSE;
  c->stale_after_us = stale_after_us(kf);
  return TRUE;
}

static gpointer
api_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmHttpConfig config = {0};
  const char *file = am_context_get_config_path(ctx);
  if (!read_config(kf, group, file != NULL ? file : "antmon.ini", &config, error)) {
    am_http_config_clear(&config);
    return NULL;
  }
  return am_http_server_new(ctx, &config);
}

static void
api_destroy(gpointer instance)
{
  am_http_server_free(instance);
}

static gboolean
api_start(gpointer instance, GError **error)
{
  return am_http_server_start(instance, error);
}

static const AmHttpVTable api_vtable = {
    .struct_size = sizeof(AmHttpVTable),
    .start = api_start,
};

AM_PLUGIN_DEFINE(.name = "api", .kind = AM_PLUGIN_KIND_HTTP,
                 .description = "JSON API, Prometheus /metrics and the web dashboard",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = api_create, .destroy = api_destroy, .vtable.http = &api_vtable)
