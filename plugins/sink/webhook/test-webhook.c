/* The webhook sink against a real HTTP receiver (libsoup, in this process),
 * one that refuses and one that never answers; and the body each service
 * expects, table-driven. */
#include "am-sink-test-util.h"
#include "am-test-util.h"
#include "am-webhook-format.h"
#include <libsoup/soup.h>
#include <string.h>

const AmPluginInfo *am_plugin_get_info(void);

/* ---- bodies ------------------------------------------------------------ */

static JsonObject *
parse_object(const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, text, -1, NULL));
  return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static AmNotification *
one_alert(gboolean resolved)
{
  AmAlert a = am_sink_test_hot_alert(resolved);
  const AmAlert *alerts[] = {&a, NULL};
  return am_sink_test_notification_new(resolved ? "[RESOLVED] hot on rack1-07 (10.0.0.5:4028)"
                                                : "[CRITICAL] hot on rack1-07 (10.0.0.5:4028)",
                                       alerts);
}

static void
test_body_json(void)
{
  AmNotification *n = one_alert(FALSE);
  AmWebhookBodyOptions o = {.format = AM_WEBHOOK_JSON,
                            .dashboard_url = "http://antmon.lan/#/miner/{address}"};
  g_autofree char *body = am_webhook_body(n, &o);
  g_autoptr(JsonObject) root = parse_object(body);
  g_assert_cmpstr(json_object_get_string_member(root, "subject"), ==, n->subject);
  g_assert_cmpint(json_object_get_int_member(root, "n_alerts"), ==, 1);
  JsonObject *a = json_array_get_object_element(json_object_get_array_member(root, "alerts"), 0);
  g_assert_cmpstr(json_object_get_string_member(a, "rule"), ==, "hot");
  g_assert_cmpstr(json_object_get_string_member(a, "type"), ==, "temperature");
  g_assert_cmpstr(json_object_get_string_member(a, "state"), ==, "raised");
  g_assert_cmpstr(json_object_get_string_member(a, "severity"), ==, "critical");
  g_assert_cmpstr(json_object_get_string_member(a, "miner"), ==, "10.0.0.5:4028");
  g_assert_cmpstr(json_object_get_string_member(a, "name"), ==, "rack1-07");
  g_assert_cmpstr(json_object_get_string_member(a, "model"), ==, "Antminer S9");
  g_assert_cmpfloat(json_object_get_double_member(a, "value"), ==, 98.1);
  g_assert_cmpfloat(json_object_get_double_member(a, "threshold"), ==, 90);
  g_assert_cmpstr(json_object_get_string_member(a, "unit"), ==, "degC");
  g_assert_cmpstr(json_object_get_string_member(a, "dashboard_url"), ==,
                  "http://antmon.lan/#/miner/10.0.0.5:4028");
  am_sink_test_notification_free(n);
}

static void
test_body_services(void)
{
  AmNotification *n = one_alert(FALSE);
  AmNotification *r = one_alert(TRUE);
  const char *line = "CRITICAL hot raised on rack1-07 (10.0.0.5:4028): hottest board "
                     "temperature 98.1 °C is over the critical limit 90.0 °C "
                     "http://antmon.lan/#/miner/10.0.0.5";
  AmWebhookBodyOptions o = {.dashboard_url = "http://antmon.lan/#/miner/{host}",
                            .chat_id = "-100123",
                            .ntfy_topic = "farm"};

  o.format = AM_WEBHOOK_SLACK;
  g_autofree char *slack = am_webhook_body(n, &o);
  g_autoptr(JsonObject) s = parse_object(slack);
  g_assert_cmpstr(json_object_get_string_member(s, "text"), ==, line);

  o.format = AM_WEBHOOK_DISCORD;
  g_autofree char *discord = am_webhook_body(n, &o);
  g_autoptr(JsonObject) d = parse_object(discord);
  g_assert_cmpstr(json_object_get_string_member(d, "content"), ==, line);
  g_assert_cmpstr(json_object_get_string_member(d, "username"), ==, "antmon");

  o.format = AM_WEBHOOK_TELEGRAM;
  g_autofree char *telegram = am_webhook_body(n, &o);
  g_autoptr(JsonObject) t = parse_object(telegram);
  g_assert_cmpstr(json_object_get_string_member(t, "chat_id"), ==, "-100123");
  g_assert_cmpstr(json_object_get_string_member(t, "text"), ==, line);

  o.format = AM_WEBHOOK_NTFY;
  g_autofree char *ntfy = am_webhook_body(n, &o);
  g_autoptr(JsonObject) y = parse_object(ntfy);
  g_assert_cmpstr(json_object_get_string_member(y, "topic"), ==, "farm");
  g_assert_cmpstr(json_object_get_string_member(y, "title"), ==, n->subject);
  g_assert_cmpint(json_object_get_int_member(y, "priority"), ==, 5);
  g_assert_cmpstr(json_object_get_string_member(y, "click"), ==,
                  "http://antmon.lan/#/miner/10.0.0.5");
  g_autofree char *ntfy_resolved = am_webhook_body(r, &o);
  g_autoptr(JsonObject) yr = parse_object(ntfy_resolved);
  g_assert_cmpint(json_object_get_int_member(yr, "priority"), ==, 2);

  am_sink_test_notification_free(n);
  am_sink_test_notification_free(r);
}

static void
test_body_discord_limit(void)
{
  /* Fifty miners in one digest: Discord takes 2000 characters at most. */
  AmAlert alerts[50];
  const AmAlert *list[51];
  for (guint i = 0; i < 50; i++) {
    alerts[i] = am_sink_test_hot_alert(FALSE);
    list[i] = &alerts[i];
  }
  list[50] = NULL;
  AmNotification *n = am_sink_test_notification_new("[CRITICAL] 50 alerts", list);
  AmWebhookBodyOptions o = {.format = AM_WEBHOOK_DISCORD};
  g_autofree char *body = am_webhook_body(n, &o);
  g_autoptr(JsonObject) d = parse_object(body);
  const char *content = json_object_get_string_member(d, "content");
  g_assert_cmpint(g_utf8_strlen(content, -1), ==, 2000);
  g_assert_true(g_str_has_suffix(content, "…"));
  g_assert_true(g_str_has_prefix(content, "[CRITICAL] 50 alerts\n"));
  am_sink_test_notification_free(n);
}

static void
test_ntfy_split(void)
{
  char *root = NULL, *topic = NULL;
  g_assert_true(am_webhook_ntfy_split("https://ntfy.sh/farm-alerts", &root, &topic));
  g_assert_cmpstr(root, ==, "https://ntfy.sh/");
  g_assert_cmpstr(topic, ==, "farm-alerts");
  g_free(root);
  g_free(topic);
  g_assert_true(am_webhook_ntfy_split("http://127.0.0.1:8090/t", &root, &topic));
  g_assert_cmpstr(root, ==, "http://127.0.0.1:8090/");
  g_assert_cmpstr(topic, ==, "t");
  g_free(root);
  g_free(topic);
  g_assert_false(am_webhook_ntfy_split("https://ntfy.sh/", &root, &topic));
  g_assert_false(am_webhook_ntfy_split("https://ntfy.sh/a/b", &root, &topic));
}

/* ---- a receiver -------------------------------------------------------- */

typedef struct {
  SoupServer *server;
  guint16 port;
  guint status; /* what to answer */
  guint requests;
  char *method, *path, *auth, *site, *content_type, *body;
} Receiver;

static void
on_request(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer user_data)
{
  (void)server, (void)query;
  Receiver *r = user_data;
  r->requests++;
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  g_free(r->method), g_free(r->path), g_free(r->auth), g_free(r->site), g_free(r->body);
  g_free(r->content_type);
  r->method = g_strdup(soup_server_message_get_method(msg));
  r->path = g_strdup(path);
  r->auth = g_strdup(soup_message_headers_get_one(h, "Authorization"));
  r->site = g_strdup(soup_message_headers_get_one(h, "X-Site"));
  r->content_type = g_strdup(soup_message_headers_get_content_type(h, NULL));
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
  r->body = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
  soup_server_message_set_status(msg, r->status, NULL);
  soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_COPY, "nope\n", 5);
}

static Receiver *
receiver_new(guint status)
{
  Receiver *r = g_new0(Receiver, 1);
  r->status = status;
  r->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(r->server, NULL, on_request, r, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(soup_server_listen_local(r->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error(error);
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
  g_free(r->method), g_free(r->path), g_free(r->auth), g_free(r->site), g_free(r->body);
  g_free(r->content_type);
  g_free(r);
}

static gpointer
create(const char *ini, GError **error)
{
  return am_sink_test_create(am_plugin_get_info(), NULL, ini, "sink:webhook:test", error);
}

static void
test_post(void)
{
  Receiver *r = receiver_new(200);
  g_autofree char *ini =
      g_strdup_printf("[sink:webhook:test]\nurl=http://127.0.0.1:%u/hooks/antmon\n"
                      "headers=Authorization: Bearer t0k3n;X-Site: farm1\n",
                      r->port);
  g_autoptr(GError) error = NULL;
  gpointer self = create(ini, &error);
  g_assert_no_error(error);
  AmNotification *n = one_alert(FALSE);
  g_assert_true(am_sink_test_deliver(am_plugin_get_info(), self, n, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(r->requests, ==, 1);
  g_assert_cmpstr(r->method, ==, "POST");
  g_assert_cmpstr(r->path, ==, "/hooks/antmon");
  g_assert_cmpstr(r->auth, ==, "Bearer t0k3n");
  g_assert_cmpstr(r->site, ==, "farm1");
  g_assert_cmpstr(r->content_type, ==, "application/json");
  g_autoptr(JsonObject) root = parse_object(r->body);
  g_assert_cmpstr(json_object_get_string_member(root, "subject"), ==, n->subject);
  am_sink_test_notification_free(n);
  am_plugin_get_info()->destroy(self);
  receiver_free(r);
}

static void
test_ntfy_post(void)
{
  Receiver *r = receiver_new(200);
  g_autofree char *ini = g_strdup_printf(
      "[sink:webhook:test]\nurl=http://127.0.0.1:%u/farm-alerts\nformat=ntfy\n", r->port);
  g_autoptr(GError) error = NULL;
  gpointer self = create(ini, &error);
  g_assert_no_error(error);
  AmNotification *n = one_alert(FALSE);
  g_assert_true(am_sink_test_deliver(am_plugin_get_info(), self, n, NULL, &error));
  /* ntfy's JSON publishing goes to the server's root, the topic in the body. */
  g_assert_cmpstr(r->path, ==, "/");
  g_autoptr(JsonObject) root = parse_object(r->body);
  g_assert_cmpstr(json_object_get_string_member(root, "topic"), ==, "farm-alerts");
  am_sink_test_notification_free(n);
  am_plugin_get_info()->destroy(self);
  receiver_free(r);
}

static void
test_status_codes(void)
{
  const struct {
    guint status;
    int code;
    const char *message;
  } cases[] = {
      {503, AM_ERROR_FAILED, "[sink:webhook:test] HTTP 503 Service Unavailable: nope"},
      {502, AM_ERROR_FAILED, "[sink:webhook:test] HTTP 502 Bad Gateway: nope"},
      {400, AM_ERROR_API, "[sink:webhook:test] HTTP 400 Bad Request: nope"},
      {401, AM_ERROR_AUTH, "[sink:webhook:test] HTTP 401 Unauthorized: nope"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    Receiver *r = receiver_new(cases[i].status);
    g_autofree char *ini =
        g_strdup_printf("[sink:webhook:test]\nurl=http://127.0.0.1:%u/\n", r->port);
    gpointer self = create(ini, NULL);
    AmNotification *n = one_alert(FALSE);
    g_autoptr(GError) error = NULL;
    g_assert_false(am_sink_test_deliver(am_plugin_get_info(), self, n, NULL, &error));
    g_assert_error(error, AM_ERROR, cases[i].code);
    g_assert_cmpstr(error->message, ==, cases[i].message);
    am_sink_test_notification_free(n);
    am_plugin_get_info()->destroy(self);
    receiver_free(r);
  }
}

static void
test_refused_keeps_secret(void)
{
  guint16 port = am_test_free_port(); /* nothing listens there now */
  g_autofree char *ini = g_strdup_printf(
      "[sink:webhook:test]\nurl=http://127.0.0.1:%u/bot123456:SECRET-TOKEN/sendMessage\n"
      "format=telegram\nchat_id=42\n",
      port);
  g_autoptr(GError) error = NULL;
  gpointer self = create(ini, &error);
  g_assert_no_error(error);
  AmNotification *n = one_alert(FALSE);
  g_assert_false(am_sink_test_deliver(am_plugin_get_info(), self, n, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
  g_assert_cmpstr(error->message, ==, "[sink:webhook:test] connection refused");
  am_sink_test_notification_free(n);
  am_plugin_get_info()->destroy(self);
}

/* A receiver that accepts the connection and never answers. */
static GSocket *
hanging_listener(guint16 *port)
{
  g_autoptr(GError) error = NULL;
  GSocket *sock =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error(error);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(sock, any, TRUE, &error));
  g_assert_true(g_socket_listen(sock, &error));
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address(sock, &error);
  *port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  return sock;
}

static void
test_hang_times_out(void)
{
  guint16 port;
  g_autoptr(GSocket) listener = hanging_listener(&port);
  g_autofree char *ini =
      g_strdup_printf("[sink:webhook:test]\nurl=http://127.0.0.1:%u/\ntimeout=500ms\n", port);
  gpointer self = create(ini, NULL);
  AmNotification *n = one_alert(FALSE);
  g_autoptr(GError) error = NULL;
  g_assert_false(am_sink_test_deliver(am_plugin_get_info(), self, n, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_cmpstr(error->message, ==, "[sink:webhook:test] no answer within 0.5 s");
  am_sink_test_notification_free(n);
  am_plugin_get_info()->destroy(self);
}

static gboolean
cancel_soon(gpointer user_data)
{
  g_cancellable_cancel(user_data);
  return G_SOURCE_REMOVE;
}

static void
test_hang_cancelled(void)
{
  guint16 port;
  g_autoptr(GSocket) listener = hanging_listener(&port);
  g_autofree char *ini =
      g_strdup_printf("[sink:webhook:test]\nurl=http://127.0.0.1:%u/\ntimeout=10m\n", port);
  gpointer self = create(ini, NULL);
  AmNotification *n = one_alert(FALSE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_timeout_add(100, cancel_soon, cancellable);
  g_autoptr(GError) error = NULL;
  g_assert_false(am_sink_test_deliver(am_plugin_get_info(), self, n, cancellable, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  am_sink_test_notification_free(n);
  am_plugin_get_info()->destroy(self);
}

static void
test_bad_config(void)
{
  const struct {
    const char *ini;
    const char *message;
  } cases[] = {
      {"", "[sink:webhook:test] url is missing: expected url=https://"},
      {"url=ftp://example.com/x\n", "[sink:webhook:test] url: expected an http:// or https:// URL"},
      {"url=http://\n", "[sink:webhook:test] url: expected an http:// or https:// URL"},
      {"url=https://x/\nformat=xml\n",
       "[sink:webhook:test] format=xml: expected one of json, slack, discord, ntfy, telegram"},
      {"url=https://ntfy.sh/\nformat=ntfy\n",
       "[sink:webhook:test] url: expected the topic's URL for format=ntfy"},
      {"url=https://api.telegram.org/botX/sendMessage\nformat=telegram\n",
       "[sink:webhook:test] chat_id is missing"},
      {"url=https://x/\nheaders=Authorization Bearer secret\n",
       "[sink:webhook:test] headers: item 1: expected Name: value"},
      {"url=https://x/\ntimeout=forever\n", "[sink:webhook:test] timeout=forever: expected"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *ini = g_strdup_printf("[sink:webhook:test]\n%s", cases[i].ini);
    g_autoptr(GError) error = NULL;
    g_assert_null(create(ini, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    if (!g_str_has_prefix(error->message, cases[i].message))
      g_error("case %u: expected \"%s...\", got \"%s\"", i, cases[i].message, error->message);
    g_assert_null(strstr(error->message, "secret"));
  }
}

static void
test_sample_config(void)
{
  const AmPluginInfo *info = am_plugin_get_info();
  g_assert_cmpstr(info->name, ==, "webhook");
  /* The sample loads, and without a destination it refuses to start. */
  g_autoptr(GError) error = NULL;
  g_assert_null(am_sink_test_create(info, NULL, info->sample_config, "sink:webhook", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_autofree char *with_url =
      g_strdup_printf("%surl=https://hooks.example/x\n", info->sample_config);
  g_clear_error(&error);
  gpointer self = am_sink_test_create(info, NULL, with_url, "sink:webhook", &error);
  g_assert_no_error(error);
  info->destroy(self);
}

/* GIO's connection chatter at debug level says nothing here. */
static void
drop_debug(const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  (void)domain, (void)level, (void)message, (void)user_data;
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_log_set_handler("GLib-GIO", G_LOG_LEVEL_DEBUG, drop_debug, NULL);
  g_test_add_func("/sink-webhook/body/json", test_body_json);
  g_test_add_func("/sink-webhook/body/services", test_body_services);
  g_test_add_func("/sink-webhook/body/discord-limit", test_body_discord_limit);
  g_test_add_func("/sink-webhook/ntfy-split", test_ntfy_split);
  g_test_add_func("/sink-webhook/post", test_post);
  g_test_add_func("/sink-webhook/post-ntfy", test_ntfy_post);
  g_test_add_func("/sink-webhook/status-codes", test_status_codes);
  g_test_add_func("/sink-webhook/refused-keeps-secret", test_refused_keeps_secret);
  g_test_add_func("/sink-webhook/hang/times-out", test_hang_times_out);
  g_test_add_func("/sink-webhook/hang/cancelled", test_hang_cancelled);
  g_test_add_func("/sink-webhook/bad-config", test_bad_config);
  g_test_add_func("/sink-webhook/sample-config", test_sample_config);
  return g_test_run();
}
