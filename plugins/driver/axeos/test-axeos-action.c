/* Tests of the axeos driver's actions: the pure request builder (the exact
 * method, path and body of each), actions(), and the built module against
 * an in-process SoupServer on 127.0.0.1 that records each request and
 * answers as ESP-Miner does (200 with a text body for the restart, 200 with
 * no body for the PATCH; 401 to clients outside its private network). */
#include "../common/am-driver-test-util.h"
#include "am-axeos-action.h"
#include "am-test-util.h"

#include <libsoup/soup.h>
#include <string.h>

/* ---- the pure builder --------------------------------------------------- */

static GPtrArray *
build_ok(const AmActionRequest *request)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *calls = am_axeos_action_build(request, &error);
  g_assert_no_error(error);
  g_assert_nonnull(calls);
  return calls;
}

static void
assert_call(GPtrArray *calls, guint i, const char *method, const char *path, const char *body)
{
  g_assert_cmpuint(i, <, calls->len);
  AmAxeosActionCall *call = calls->pdata[i];
  g_assert_cmpstr(call->method, ==, method);
  g_assert_cmpstr(call->path, ==, path);
  g_assert_cmpstr(call->body, ==, body);
}

static void
test_build_restart(void)
{
  AmActionKind kinds[] = {AM_ACTION_REBOOT, AM_ACTION_RESTART};
  for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
    AmActionRequest request = {.struct_size = sizeof request, .kind = kinds[i]};
    g_autoptr(GPtrArray) calls = build_ok(&request);
    g_assert_cmpuint(calls->len, ==, 1);
    assert_call(calls, 0, "POST", "/api/system/restart", NULL);
  }
}

static void
test_build_pools(void)
{
  AmPoolSetting pools[] = {
      {"stratum+tcp://public-pool.io:21496", "bc1qworker.axe", NULL},
      {"solo.ckpool.org:3333", "bc1qother", "d=512"},
  };
  AmActionRequest request = {
      .struct_size = sizeof request, .kind = AM_ACTION_POOLS, .pools = pools, .n_pools = 2};
  g_autoptr(GPtrArray) calls = build_ok(&request);
  g_assert_cmpuint(calls->len, ==, 2);
  assert_call(calls, 0, "PATCH", "/api/system",
              "{\"stratumURL\":\"public-pool.io\",\"stratumPort\":21496,"
              "\"stratumUser\":\"bc1qworker.axe\",\"stratumPassword\":\"x\","
              "\"fallbackStratumURL\":\"solo.ckpool.org\",\"fallbackStratumPort\":3333,"
              "\"fallbackStratumUser\":\"bc1qother\",\"fallbackStratumPassword\":\"d=512\"}");
  /* Stratum settings apply when ESP-Miner starts. */
  assert_call(calls, 1, "POST", "/api/system/restart", NULL);

  /* One pool: the fallback is left alone. */
  request.n_pools = 1;
  g_autoptr(GPtrArray) one = build_ok(&request);
  assert_call(one, 0, "PATCH", "/api/system",
              "{\"stratumURL\":\"public-pool.io\",\"stratumPort\":21496,"
              "\"stratumUser\":\"bc1qworker.axe\",\"stratumPassword\":\"x\"}");
}

static void
assert_refused(const AmActionRequest *request, gint code, const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_assert_null(am_axeos_action_build(request, &error));
  g_assert_error(error, AM_ERROR, code);
  if (strstr(error->message, needle) == NULL)
    g_error("expected '%s' in '%s'", needle, error->message);
}

static void
test_build_refused(void)
{
  AmActionKind unsupported[] = {AM_ACTION_PAUSE,     AM_ACTION_RESUME, AM_ACTION_POWER_TARGET,
                                AM_ACTION_WORK_MODE, AM_ACTION_LOCATE, AM_ACTION_NONE,
                                AM_ACTION_LAST};
  for (guint i = 0; i < G_N_ELEMENTS(unsupported); i++) {
    AmActionRequest request = {.struct_size = sizeof request, .kind = unsupported[i]};
    assert_refused(&request, AM_ERROR_UNSUPPORTED, "AxeOS has no");
  }
  AmPoolSetting three[] = {{"stratum+tcp://a:1", "u", NULL},
                           {"stratum+tcp://b:2", "u", NULL},
                           {"stratum+tcp://c:3", "u", NULL}};
  AmActionRequest request = {
      .struct_size = sizeof request, .kind = AM_ACTION_POOLS, .pools = three, .n_pools = 3};
  assert_refused(&request, AM_ERROR_CONFIG, "one or two pools");
  request.n_pools = 0;
  assert_refused(&request, AM_ERROR_CONFIG, "one or two pools");

  const struct {
    const char *url;
    const char *user;
    const char *needle;
  } bad[] = {
      {"stratum+ssl://pool:443", "u", "stratum+tcp:// pools only"},
      {"http://pool:80", "u", "stratum+tcp:// pools only"},
      {"stratum+tcp://pool", "u", "host:port"},
      {"stratum+tcp://pool:0", "u", "host:port"},
      {"stratum+tcp://pool:70000", "u", "host:port"},
      {"stratum+tcp://pool:33x", "u", "host:port"},
      {"stratum+tcp://:3333", "u", "host:port"},
      {"stratum+tcp://pool:3333/path", "u", "host:port"},
      {"", "u", "host:port"},
      {NULL, "u", "host:port"},
      {"stratum+tcp://pool:3333", "", "no user"},
      {"stratum+tcp://pool:3333", NULL, "no user"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    AmPoolSetting pool = {bad[i].url, bad[i].user, NULL};
    AmActionRequest r = {
        .struct_size = sizeof r, .kind = AM_ACTION_POOLS, .pools = &pool, .n_pools = 1};
    assert_refused(&r, AM_ERROR_CONFIG, bad[i].needle);
  }
}

static void
test_actions(void)
{
  AmActionSet expected = AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_RESTART) |
                         AM_ACTION_BIT(AM_ACTION_POOLS);
  g_assert_cmphex(am_axeos_actions(NULL), ==, expected);
  /* 2.4 and 2.9 alike, Bitaxe and NerdQAxe alike: no pause, no locate. */
  const char *versions[] = {"v2.4.5", "v2.9.0", "v1.0.0-nerdqaxe"};
  for (guint i = 0; i < G_N_ELEMENTS(versions); i++) {
    g_autoptr(AmSample) s = am_sample_new();
    am_sample_set(s, &s->firmware, "AxeOS");
    am_sample_set(s, &s->firmware_version, versions[i]);
    AmActionSet set = am_axeos_actions(s);
    g_assert_cmphex(set, ==, expected);
    g_assert_false(set & AM_ACTION_BIT(AM_ACTION_PAUSE));
    g_assert_false(set & AM_ACTION_BIT(AM_ACTION_LOCATE));
    g_assert_false(set & AM_ACTION_BIT(AM_ACTION_POWER_TARGET));
  }
}

/* ---- the module against a local AxeOS ----------------------------------- */

typedef struct {
  SoupServer *server;
  guint16 port;
  guint status;      /* 0: 200 */
  gboolean no_patch; /* an old build without PATCH /api/system */
  GPtrArray *log;    /* char*: "METHOD path body" per request */
} FakeAxe;

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer user_data)
{
  FakeAxe *axe = user_data;
  const char *method = soup_server_message_get_method(msg);
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_ptr_array_add(axe->log, g_strdup_printf("%s %s %.*s", method, path, (int)body->length,
                                            body->data != NULL ? body->data : ""));
  if (axe->status != 0) {
    soup_server_message_set_status(msg, axe->status, NULL);
    return;
  }
  if (g_str_equal(path, "/api/system/restart") && g_str_equal(method, "POST")) {
    static const char text[] = "System will restart shortly.";
    soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, text, strlen(text));
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    return;
  }
  if (g_str_equal(path, "/api/system") && g_str_equal(method, "PATCH") && !axe->no_patch) {
    /* ESP-Miner parses the body and answers 400 when it is not JSON. */
    g_autoptr(JsonParser) parser = json_parser_new();
    if (body->length == 0 || !json_parser_load_from_data(parser, body->data, body->length, NULL)) {
      soup_server_message_set_status(msg, SOUP_STATUS_BAD_REQUEST, NULL);
      return;
    }
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    return;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
fake_axe_start(FakeAxe *axe)
{
  *axe = (FakeAxe){.log = g_ptr_array_new_with_free_func(g_free)};
  axe->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(axe->server, NULL, serve, axe, NULL);
  axe->port = am_test_soup_listen_loopback(axe->server);
}

static void
fake_axe_stop(FakeAxe *axe)
{
  am_test_soup_stop(axe->server, g_ptr_array_new());
  g_ptr_array_unref(axe->log);
}

/* Runs @request against the fake on @port; TRUE when accepted. */
static gboolean
act(guint16 port, const AmActionRequest *request, GError **error)
{
  AmTestDriver d;
  am_test_driver_open(&d, "axeos", NULL);
  g_assert_nonnull(d.vt->actions);
  g_autoptr(AmMiner) miner = am_test_local_miner(port);
  gboolean ok = am_test_driver_act(&d, miner, request, error);
  am_test_driver_close(&d);
  return ok;
}

static void
assert_log(FakeAxe *axe, const char *const *expected)
{
  guint n = g_strv_length((char **)expected);
  for (guint i = 0; i < MIN(n, axe->log->len); i++)
    g_assert_cmpstr(axe->log->pdata[i], ==, expected[i]);
  g_assert_cmpuint(axe->log->len, ==, n);
}

static void
test_module_actions(void)
{
  AmActionKind kinds[] = {AM_ACTION_REBOOT, AM_ACTION_RESTART};
  for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
    FakeAxe axe;
    fake_axe_start(&axe);
    AmActionRequest request = {.struct_size = sizeof request, .kind = kinds[i]};
    g_autoptr(GError) error = NULL;
    g_assert_true(act(axe.port, &request, &error));
    g_assert_no_error(error);
    const char *expected[] = {"POST /api/system/restart ", NULL};
    assert_log(&axe, expected);
    fake_axe_stop(&axe);
  }

  FakeAxe axe;
  fake_axe_start(&axe);
  AmPoolSetting pools[] = {{"stratum+tcp://pool.example:3333", "worker", "pw"}};
  AmActionRequest request = {
      .struct_size = sizeof request, .kind = AM_ACTION_POOLS, .pools = pools, .n_pools = 1};
  g_autoptr(GError) error = NULL;
  g_assert_true(act(axe.port, &request, &error));
  g_assert_no_error(error);
  const char *expected[] = {
      "PATCH /api/system {\"stratumURL\":\"pool.example\",\"stratumPort\":3333,"
      "\"stratumUser\":\"worker\",\"stratumPassword\":\"pw\"}",
      "POST /api/system/restart ", NULL};
  assert_log(&axe, expected);
  fake_axe_stop(&axe);
}

static void
test_module_errors(void)
{
  FakeAxe axe;
  fake_axe_start(&axe);
  g_autoptr(GError) error = NULL;

  /* Unsupported: refused before any request. */
  AmActionRequest pause = {.struct_size = sizeof pause, .kind = AM_ACTION_PAUSE};
  g_assert_false(act(axe.port, &pause, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_cmpuint(axe.log->len, ==, 0);
  g_clear_error(&error);

  /* A bad request: AM_ERROR_CONFIG, nothing sent. */
  AmPoolSetting bad = {"stratum+tcp://pool.example", "worker", NULL};
  AmActionRequest pools = {
      .struct_size = sizeof pools, .kind = AM_ACTION_POOLS, .pools = &bad, .n_pools = 1};
  g_assert_false(act(axe.port, &pools, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_cmpuint(axe.log->len, ==, 0);
  g_clear_error(&error);

  /* An old build without PATCH: UNSUPPORTED, and no restart follows. */
  axe.no_patch = TRUE;
  AmPoolSetting good = {"stratum+tcp://pool.example:3333", "worker", NULL};
  pools.pools = &good;
  g_assert_false(act(axe.port, &pools, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "has no PATCH /api/system"));
  g_assert_cmpuint(axe.log->len, ==, 1);
  g_clear_error(&error);

  /* AxeOS's 401 to a client outside its network: AUTH, saying why. */
  axe.status = SOUP_STATUS_UNAUTHORIZED;
  AmActionRequest reboot = {.struct_size = sizeof reboot, .kind = AM_ACTION_REBOOT};
  g_assert_false(act(axe.port, &reboot, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_nonnull(strstr(error->message, "private network"));
  g_assert_true(g_str_has_prefix(error->message, "127.0.0.1:"));
  g_clear_error(&error);

  /* Any other refusal: the firmware's status. */
  axe.status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  g_assert_false(act(axe.port, &reboot, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "HTTP 500"));
  fake_axe_stop(&axe);
}

/* The plugin's actions() is the pure one. */
static void
test_module_vtable(void)
{
  AmTestDriver d;
  am_test_driver_open(&d, "axeos", NULL);
  g_assert_cmphex(d.vt->actions(d.self, NULL, NULL), ==, am_axeos_actions(NULL));
  g_assert_nonnull(d.vt->act_async);
  g_assert_nonnull(d.vt->act_finish);
  am_test_driver_close(&d);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/axeos/action/build-restart", test_build_restart);
  g_test_add_func("/axeos/action/build-pools", test_build_pools);
  g_test_add_func("/axeos/action/build-refused", test_build_refused);
  g_test_add_func("/axeos/action/actions", test_actions);
  g_test_add_func("/axeos/action/module-vtable", test_module_vtable);
  g_test_add_func("/axeos/action/module-actions", test_module_actions);
  g_test_add_func("/axeos/action/module-errors", test_module_errors);
  return g_test_run();
}
