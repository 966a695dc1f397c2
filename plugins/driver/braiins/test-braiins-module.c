/* The built driver-braiins.so against a fake Braiins OS on 127.0.0.1: a
 * SoupServer doing the REST login as the firmware does (token in the
 * Authorization header as is, or as Bearer for API 1.2.0; wrong
 * credentials refused with 401), and a cgminer RPC server for the fallback
 * that answers HTTP with 404, as a BOSminer-only miner's port would. */
#include "../common/am-driver-test-util.h"
#include "am-braiins-rest-parse.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"
#include "test-braiins.h"

#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

/* ---- the fake REST API ---------------------------------------------------- */

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *version;  /* fixture prefix: "v25_11" or "v26_04" */
  const char *password; /* the one the fake accepts for "root" */
  gboolean bearer;      /* API 1.2.0: only "Bearer <token>" is accepted */
  const char *fail;     /* an endpoint path answered with HTTP 500 */
  gboolean no_locate;   /* an API without actions/locate (404) */
  gboolean hang;
  char *token; /* the valid one; NULL until a login */
  guint logins, refused_logins, refused_requests, reads;
  GPtrArray *paused;
} FakeBos;

static void
respond_json(SoupServerMessage *msg, guint status, char *text)
{
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, strlen(text));
  soup_server_message_set_status(msg, status, NULL);
}

static void
serve_login(FakeBos *bos, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autoptr(JsonNode) root = json_from_string(body->data, NULL);
  JsonObject *o = root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  const char *user = o != NULL ? json_object_get_string_member_with_default(o, "username", "") : "";
  const char *pass = o != NULL ? json_object_get_string_member_with_default(o, "password", "") : "";
  if (!g_str_equal(user, "root") || !g_str_equal(pass, bos->password)) {
    bos->refused_logins++;
    respond_json(msg, SOUP_STATUS_UNAUTHORIZED, g_strdup("{\"message\":\"Invalid credentials\"}"));
    return;
  }
  bos->logins++;
  g_free(bos->token);
  bos->token = g_strdup_printf("token-%u", bos->logins);
  respond_json(msg, SOUP_STATUS_OK,
               g_strdup_printf("{\"token\":\"%s\",\"timeout_s\":3600}", bos->token));
}

static gboolean
authorized(FakeBos *bos, SoupServerMessage *msg)
{
  const char *header =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  if (header == NULL || bos->token == NULL)
    return FALSE;
  g_autofree char *expected =
      bos->bearer ? g_strconcat("Bearer ", bos->token, NULL) : g_strdup(bos->token);
  return g_str_equal(header, expected);
}

/* "/api/v1/miner/hw/hashboards" -> "asicrs-v26_04_miner_hw_hashboards.json" */
static void
serve_read(FakeBos *bos, SoupServerMessage *msg, const char *path)
{
  if (!authorized(bos, msg)) {
    bos->refused_requests++;
    respond_json(msg, SOUP_STATUS_UNAUTHORIZED, g_strdup("{\"message\":\"Unauthorized\"}"));
    return;
  }
  bos->reads++;
  if (g_strcmp0(path, bos->fail) == 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
    return;
  }
  if (g_str_equal(path, "/api/v1/actions/locate") && !bos->no_locate) {
    /* As asic-rs recorded it for v25_11 and v26_04: a bare false. */
    respond_json(msg, SOUP_STATUS_OK, g_strdup("false"));
    return;
  }
  g_autofree char *name = g_strdup(path + strlen("/api/v1/"));
  g_strdelimit(name, "/-", '_');
  g_autofree char *rel = g_strdup_printf("braiins-rest/asicrs-%s_%s.json", bos->version, name);
  g_autofree char *full = g_build_filename("fixtures", rel, NULL);
  g_autofree char *on_disk = am_test_path(full);
  if (!g_file_test(on_disk, G_FILE_TEST_EXISTS)) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  g_autoptr(GBytes) bytes = am_braiins_test_fixture(rel);
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, data, len);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer user_data)
{
  FakeBos *bos = user_data;
  if (bos->hang) {
    soup_server_message_pause(msg);
    g_ptr_array_add(bos->paused, g_object_ref(msg));
    return;
  }
  const char *method = soup_server_message_get_method(msg);
  if (g_str_equal(path, AM_BRAIINS_REST_LOGIN) && g_str_equal(method, SOUP_METHOD_POST))
    serve_login(bos, msg);
  else if (g_str_has_prefix(path, "/api/v1/") && g_str_equal(method, SOUP_METHOD_GET))
    serve_read(bos, msg, path);
  else
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
fake_bos_start(FakeBos *bos, const char *version)
{
  *bos = (FakeBos){.version = version,
                   .password = "root",
                   .paused = g_ptr_array_new_with_free_func(g_object_unref)};
  bos->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(bos->server, NULL, serve, bos, NULL);
  bos->port = am_test_soup_listen_loopback(bos->server);
}

static void
fake_bos_stop(FakeBos *bos)
{
  am_test_soup_stop(bos->server, bos->paused);
  g_free(bos->token);
}

/* ---- the fake cgminer API --------------------------------------------------- */

typedef struct {
  GSocketService *service;
  guint16 port;
  gint http_requests; /* atomic: the handler runs in the service's threads */
  gint rpc_requests;
} FakeRpc;

/* One request per connection, as cgminer does. HTTP gets a 404 (no REST
 * API on this port); a command gets the recorded BOSminer 0.2.0 reply, or
 * an API error for one that was not recorded. */
static gboolean
serve_rpc(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
          gpointer user_data)
{
  FakeRpc *rpc = user_data;
  char buf[4096];
  gssize n = g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(connection)), buf,
                                 sizeof buf - 1, NULL, NULL);
  if (n <= 0)
    return TRUE;
  buf[n] = '\0';
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
  if (g_str_has_prefix(buf, "POST ") || g_str_has_prefix(buf, "GET ")) {
    g_atomic_int_inc(&rpc->http_requests);
    static const char reply[] =
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    g_output_stream_write_all(out, reply, strlen(reply), NULL, NULL, NULL);
    return TRUE;
  }
  g_atomic_int_inc(&rpc->rpc_requests);
  g_autoptr(JsonNode) request = json_from_string(buf, NULL);
  const char *command =
      request != NULL && JSON_NODE_HOLDS_OBJECT(request)
          ? json_object_get_string_member_with_default(json_node_get_object(request), "command", "")
          : "";
  static const char *const recorded[] = {"version", "summary", "pools", "temps", "fans"};
  for (guint i = 0; i < G_N_ELEMENTS(recorded); i++) {
    if (g_str_equal(command, recorded[i])) {
      g_autofree char *rel = g_strdup_printf("bosminer/s9-bos-0.2.0_%s.json", command);
      g_autoptr(GBytes) bytes = am_test_fixture_bytes(rel);
      gsize len = 0;
      const char *data = g_bytes_get_data(bytes, &len);
      g_output_stream_write_all(out, data, len, NULL, NULL, NULL);
      return TRUE;
    }
  }
  static const char invalid[] =
      "{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":14,\"Msg\":\"Invalid command\"}],\"id\":1}";
  g_output_stream_write_all(out, invalid, sizeof invalid, NULL, NULL, NULL);
  return TRUE;
}

static void
fake_rpc_start(FakeRpc *rpc)
{
  *rpc = (FakeRpc){0};
  rpc->service = g_threaded_socket_service_new(8);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(rpc->service), any, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  rpc->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(rpc->service, "run", G_CALLBACK(serve_rpc), rpc);
  g_socket_service_start(rpc->service);
}

static void
fake_rpc_stop(FakeRpc *rpc)
{
  g_socket_service_stop(rpc->service);
  g_socket_listener_close(G_SOCKET_LISTENER(rpc->service));
  g_object_unref(rpc->service);
}

/* ---- the driver --------------------------------------------------------------- */

void
am_braiins_test_driver_open(AmBraiinsTestDriver *d, const char *ini)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-braiins.so", NULL);
  g_autoptr(GError) error = NULL;
  d->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  d->info = d->plugin->info;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (ini != NULL)
    g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  d->self = d->info->create(NULL, ini != NULL ? kf : NULL, "driver:braiins", &error);
  g_assert_no_error(error);
}

void
am_braiins_test_driver_close(AmBraiinsTestDriver *d)
{
  d->info->destroy(d->self);
  am_loaded_plugin_free(d->plugin);
}

static void
on_poll_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref(result);
}

AmSample *
am_braiins_test_driver_poll(AmBraiinsTestDriver *d, AmMiner *miner, GError **error)
{
  GAsyncResult *result = NULL;
  d->info->vtable.driver->poll_async(d->self, miner, NULL, on_poll_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmSample *sample = d->info->vtable.driver->poll_finish(d->self, result, error);
  g_object_unref(result);
  if (sample != NULL)
    am_sample_finish(sample);
  return sample;
}

AmMiner *
am_braiins_test_local_miner(guint16 port, guint timeout_ms)
{
  AmMiner *miner = am_miner_new("127.0.0.1", port);
  am_miner_set_timeout_ms(miner, timeout_ms);
  return miner;
}

/* What the recorded 26.04 replies give (see test-braiins-rest.c for every
 * field): enough to tell it came through whole. */
static void
assert_v26_04(AmSample *s)
{
  g_assert_cmpstr(s->firmware, ==, "Braiins OS+");
  g_assert_cmpstr(s->model, ==, "Antminer S21 Pro");
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 248.18667720002498, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->power_w, 3480, 1e-9);
  g_assert_cmpuint(s->chains->len, ==, 3);
  g_assert_cmpuint(s->fans_rpm->len, ==, 4);
  g_assert_cmpuint(s->pools->len, ==, 2);
  g_assert_cmpfloat_with_epsilon(s->power_limit_w, 3500, 1e-9);
}

/* ---- the cases -------------------------------------------------------------------- */

static void
test_config(void)
{
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  g_assert_cmpstr(d.info->name, ==, "braiins");
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, d.info->sample_config, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  const char *keys[] = {"enabled", "api", "http_port", "user", "password", "timeout"};
  g_auto(GStrv) all = g_key_file_get_keys(kf, "driver:braiins", NULL, NULL);
  g_assert_cmpuint(g_strv_length(all), ==, G_N_ELEMENTS(keys));
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_true(g_key_file_has_key(kf, "driver:braiins", keys[i], NULL));
  gpointer self = d.info->create(NULL, kf, "driver:braiins", &error);
  g_assert_no_error(error);
  d.info->destroy(self);
  g_key_file_set_string(kf, "driver:braiins", "api", "graphql");
  self = d.info->create(NULL, kf, "driver:braiins", &error);
  g_assert_no_error(error);
  d.info->destroy(self);
  /* Anything else is a typo. */
  const char *bad[] = {"grpc", "GraphQL"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_key_file_set_string(kf, "driver:braiins", "api", bad[i]);
    g_assert_null(d.info->create(NULL, kf, "driver:braiins", &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, "api="));
    g_clear_error(&error);
  }
  g_key_file_set_string(kf, "driver:braiins", "api", "auto");
  g_key_file_set_string(kf, "driver:braiins", "http_port", "70000");
  g_assert_null(d.info->create(NULL, kf, "driver:braiins", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  am_braiins_test_driver_close(&d);
}

/* API 1.3.0: one login, the token sent as is, eight reads; the next poll
 * reuses the token. The raw view has every endpoint, never the login. */
static void
test_rest_poll(void)
{
  FakeBos bos;
  fake_bos_start(&bos, "v26_04");
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(bos.port, 5000);
  g_autoptr(JsonNode) before = am_miner_raw_to_json(miner); /* keeps the next bodies */
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  for (guint poll = 0; poll < 2; poll++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
    g_assert_no_error(error);
    assert_v26_04(s);
    g_assert_false(s->partial);
    g_assert_cmpint(s->locate, ==, FALSE);
    /* REST: every action but work_mode. */
    AmActionSet set = d.info->vtable.driver->actions(d.self, miner, s);
    g_assert_true(set & AM_ACTION_BIT(AM_ACTION_POOLS));
    g_assert_false(set & AM_ACTION_BIT(AM_ACTION_WORK_MODE));
  }
  g_assert_cmpuint(bos.logins, ==, 1);
  g_assert_cmpuint(bos.refused_logins, ==, 0);
  g_assert_cmpuint(bos.refused_requests, ==, 0);
  g_assert_cmpuint(bos.reads, ==, 2 * AM_BRAIINS_REST_N_ENDPOINTS);
  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  JsonObject *views = json_node_get_object(raw);
  g_assert_true(json_object_has_member(views, "miner/details"));
  g_assert_true(json_object_has_member(views, "performance/tuner-state"));
  g_assert_cmpuint(json_object_get_size(views), ==, AM_BRAIINS_REST_N_ENDPOINTS);
  am_braiins_test_driver_close(&d);
  fake_bos_stop(&bos);
}

/* API 1.2.0 wants "Bearer <token>": one 401, one retry, then remembered. */
static void
test_rest_bearer(void)
{
  FakeBos bos;
  fake_bos_start(&bos, "v25_11");
  bos.bearer = TRUE;
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(bos.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  for (guint poll = 0; poll < 2; poll++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(s->model, ==, "Antminer S19 XP");
    g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 121.0154090279137, 1e-9);
    g_assert_false(s->partial);
  }
  g_assert_cmpuint(bos.logins, ==, 1);
  g_assert_cmpuint(bos.refused_requests, ==, 1);
  am_braiins_test_driver_close(&d);
  fake_bos_stop(&bos);
}

/* BOS before 25.07: root with an empty password. The configured "root" is
 * refused once, the empty one works and is tried first from then on. */
static void
test_rest_empty_password(void)
{
  FakeBos bos;
  fake_bos_start(&bos, "v26_04");
  bos.password = "";
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(bos.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) first = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  assert_v26_04(first);
  g_assert_cmpuint(bos.refused_logins, ==, 1);
  g_assert_cmpuint(bos.logins, ==, 1);
  /* The token expires on the miner: the next poll logs in again, with the
   * empty password first. */
  g_clear_pointer(&bos.token, g_free);
  bos.token = g_strdup("rotated");
  g_autoptr(AmSample) second = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  assert_v26_04(second);
  g_assert_cmpuint(bos.refused_logins, ==, 1);
  g_assert_cmpuint(bos.logins, ==, 2);
  g_assert_cmpuint(bos.refused_requests, ==, 1); /* the expired token, once */
  am_braiins_test_driver_close(&d);
  fake_bos_stop(&bos);
}

/* Wrong credentials: a clear AUTH error that names the user, never the
 * password. Both passwords were tried, and no read was attempted. */
static void
test_rest_wrong_password(void)
{
  FakeBos bos;
  fake_bos_start(&bos, "v26_04");
  bos.password = "the-real-one";
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(bos.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, "[driver:braiins]\npassword=not-this-one\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_autofree char *expected = g_strdup_printf(
      "127.0.0.1:%u: wrong user or password for the Braiins OS REST API (HTTP 401 from "
      "/api/v1/auth/login for user \"root\"; tried the configured password and the empty one)",
      bos.port);
  g_assert_cmpstr(error->message, ==, expected);
  g_assert_null(strstr(error->message, "not-this-one"));
  g_assert_cmpuint(bos.refused_logins, ==, 2);
  g_assert_cmpuint(bos.reads + bos.refused_requests, ==, 0);
  /* [miner:NAME] credentials win over the driver's. */
  g_clear_error(&error);
  am_miner_set_credentials(miner, "root", "the-real-one");
  g_autoptr(AmSample) ok = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  assert_v26_04(ok);
  am_braiins_test_driver_close(&d);
  fake_bos_stop(&bos);
}

/* One endpoint failing: the rest is returned, marked partial, naming it. */
static void
test_rest_partial(void)
{
  FakeBos bos;
  fake_bos_start(&bos, "v26_04");
  bos.fail = "/api/v1/miner/errors";
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(bos.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  assert_v26_04(s);
  g_assert_true(s->partial);
  g_assert_cmpuint(s->errors->len, ==, 0);
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_autofree char *problem = g_strdup_printf("REST miner/errors: 127.0.0.1:%u: HTTP 500 Internal "
                                             "Server Error from GET /api/v1/miner/errors",
                                             bos.port);
  g_assert_cmpstr(s->problems->pdata[0], ==, problem);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  am_braiins_test_driver_close(&d);
  fake_bos_stop(&bos);
}

/* An API without actions/locate (404): the light is unknown, nothing is
 * missing. */
static void
test_rest_no_locate(void)
{
  FakeBos bos;
  fake_bos_start(&bos, "v26_04");
  bos.no_locate = TRUE;
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(bos.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  assert_v26_04(s);
  g_assert_false(s->partial);
  g_assert_cmpuint(s->problems->len, ==, 0);
  g_assert_cmpint(s->locate, ==, AM_UNKNOWN);
  am_braiins_test_driver_close(&d);
  fake_bos_stop(&bos);
}

/* A miner without the REST or GraphQL API (its web port answers 404 to
 * both logins): api=auto reads the cgminer API, and keeps doing so without
 * asking HTTP again; api=rest says there is no REST API; api=rpc never
 * asks HTTP. */
static void
test_rpc_fallback(void)
{
  FakeRpc rpc;
  fake_rpc_start(&rpc);
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(rpc.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  for (guint poll = 0; poll < 2; poll++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(s->firmware, ==, "BOSminer");
    g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 14.274425317759488, 1e-12);
    AM_TEST_ASSERT_DOUBLES(s->temps_c, 53, 46, 52);
    /* Found to answer only BOSminer's cgminer API: read only. */
    g_assert_cmpuint(d.info->vtable.driver->actions(d.self, miner, s), ==, 0);
  }
  /* The REST login and the GraphQL login, once each: 404 both. */
  g_assert_cmpint(g_atomic_int_get(&rpc.http_requests), ==, 2);
  am_braiins_test_driver_close(&d);

  am_braiins_test_driver_open(&d, "[driver:braiins]\napi=rest\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) none = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_null(none);
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "no Braiins OS REST API"));
  am_braiins_test_driver_close(&d);

  g_clear_error(&error);
  gint http_before = g_atomic_int_get(&rpc.http_requests);
  am_braiins_test_driver_open(&d, "[driver:braiins]\napi=rpc\n");
  g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s->firmware, ==, "BOSminer");
  g_assert_cmpint(g_atomic_int_get(&rpc.http_requests), ==, http_before);
  am_braiins_test_driver_close(&d);
  fake_rpc_stop(&rpc);
}

/* A web server that never answers: the timeout ends the poll, and auto
 * does not wait a second time on the RPC. */
static void
test_rest_hang(void)
{
  FakeBos bos;
  fake_bos_start(&bos, "v26_04");
  bos.hang = TRUE;
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(bos.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, "[driver:braiins]\ntimeout=300ms\n");
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time();
  g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: timed out after 0.3 s (POST /api/v1/auth/login)", bos.port);
  g_assert_cmpstr(error->message, ==, expected);
  g_assert_cmpint(g_get_monotonic_time() - start, <, 3 * G_USEC_PER_SEC);
  am_braiins_test_driver_close(&d);
  fake_bos_stop(&bos);
}

void
am_braiins_module_tests_add(void)
{
  g_test_add_func("/braiins/module/config", test_config);
  g_test_add_func("/braiins/module/rest-poll", test_rest_poll);
  g_test_add_func("/braiins/module/rest-bearer", test_rest_bearer);
  g_test_add_func("/braiins/module/rest-empty-password", test_rest_empty_password);
  g_test_add_func("/braiins/module/rest-wrong-password", test_rest_wrong_password);
  g_test_add_func("/braiins/module/rest-partial", test_rest_partial);
  g_test_add_func("/braiins/module/rest-no-locate", test_rest_no_locate);
  g_test_add_func("/braiins/module/rpc-fallback", test_rpc_fallback);
  g_test_add_func("/braiins/module/rest-hang", test_rest_hang);
}
