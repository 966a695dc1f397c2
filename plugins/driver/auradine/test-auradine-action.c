/* Tests of the auradine driver's actions: the pure requests (command and
 * body exactly), actions(), the poll's readings that confirm them (Sleep,
 * Mode, Power, LED), and the built module against an in-process SoupServer
 * on 127.0.0.1 that logs in as FluxOS does (POST /token, then the header
 * "Token:"), records each write and answers in the cgminer layout. */
#include "../common/am-driver-test-util.h"
#include "am-auradine-action.h"
#include "am-auradine-parse.h"
#include "am-test-util.h"

#include <libsoup/soup.h>
#include <string.h>

/* ---- the pure builder --------------------------------------------------- */

static void
assert_build(AmActionRequest request, const char *command, const char *body)
{
  request.struct_size = sizeof request;
  AmAuradineActionCall call;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_auradine_action_build(&request, &call, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(call.command, ==, command);
  g_assert_cmpstr(call.body, ==, body);
  am_auradine_action_call_clear(&call);
}

static void
test_build(void)
{
  assert_build((AmActionRequest){.kind = AM_ACTION_RESTART}, "restart",
               "{\"command\":\"restart\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_PAUSE}, "mode",
               "{\"command\":\"mode\",\"sleep\":\"on\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_RESUME}, "mode",
               "{\"command\":\"mode\",\"sleep\":\"off\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 5200}, "mode",
               "{\"command\":\"mode\",\"mode\":\"custom\",\"tune\":\"power\",\"power\":5200}");
  assert_build((AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "low"}, "mode",
               "{\"command\":\"mode\",\"mode\":\"eco\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "normal"}, "mode",
               "{\"command\":\"mode\",\"mode\":\"normal\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "high"}, "mode",
               "{\"command\":\"mode\",\"mode\":\"turbo\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_LOCATE, .on = TRUE}, "led",
               "{\"command\":\"led\",\"code\":3}");
  assert_build((AmActionRequest){.kind = AM_ACTION_LOCATE, .on = FALSE}, "led",
               "{\"command\":\"led\",\"code\":2}");
  AmPoolSetting pools[] = {{"stratum+tcp://a.example:3333", "w.1", NULL},
                           {"stratum+tcp://b.example:443", "w.2", "pw"},
                           {"stratum+tcp://c.example:700", "w.3", ""}};
  assert_build((AmActionRequest){.kind = AM_ACTION_POOLS, .pools = pools, .n_pools = 3},
               "updatepools",
               "{\"command\":\"updatepools\",\"pools\":["
               "{\"url\":\"stratum+tcp://a.example:3333\",\"user\":\"w.1\",\"pass\":\"x\"},"
               "{\"url\":\"stratum+tcp://b.example:443\",\"user\":\"w.2\",\"pass\":\"pw\"},"
               "{\"url\":\"stratum+tcp://c.example:700\",\"user\":\"w.3\",\"pass\":\"x\"}]}");
}

static void
assert_refused(AmActionRequest request, gint code, const char *needle)
{
  request.struct_size = sizeof request;
  AmAuradineActionCall call;
  g_autoptr(GError) error = NULL;
  g_assert_false(am_auradine_action_build(&request, &call, &error));
  g_assert_error(error, AM_ERROR, code);
  g_assert_null(call.body);
  if (strstr(error->message, needle) == NULL)
    g_error("expected '%s' in '%s'", needle, error->message);
}

static void
test_build_refused(void)
{
  assert_refused((AmActionRequest){.kind = AM_ACTION_REBOOT}, AM_ERROR_UNSUPPORTED,
                 "no reboot action");
  assert_refused((AmActionRequest){.kind = AM_ACTION_NONE}, AM_ERROR_UNSUPPORTED, "no such");
  assert_refused((AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 999}, AM_ERROR_CONFIG,
                 "1000 to 20000 W");
  assert_refused((AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 20001}, AM_ERROR_CONFIG,
                 "20001 W");
  assert_refused((AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "turbo"}, AM_ERROR_CONFIG,
                 "low, normal or high");
  assert_refused((AmActionRequest){.kind = AM_ACTION_WORK_MODE}, AM_ERROR_CONFIG,
                 "low, normal or high");
  AmPoolSetting four[] = {{"a", "u", NULL}, {"b", "u", NULL}, {"c", "u", NULL}, {"d", "u", NULL}};
  assert_refused((AmActionRequest){.kind = AM_ACTION_POOLS, .pools = four, .n_pools = 4},
                 AM_ERROR_CONFIG, "1 to 3 pools");
  assert_refused((AmActionRequest){.kind = AM_ACTION_POOLS, .pools = four, .n_pools = 0},
                 AM_ERROR_CONFIG, "1 to 3 pools");
  AmPoolSetting no_user = {"stratum+tcp://a:1", NULL, NULL};
  assert_refused((AmActionRequest){.kind = AM_ACTION_POOLS, .pools = &no_user, .n_pools = 1},
                 AM_ERROR_CONFIG, "pool 1");
}

/* ---- actions() and the poll's confirmations ----------------------------- */

static void
test_actions(void)
{
  AmActionSet all = AM_ACTION_BIT(AM_ACTION_RESTART) | AM_ACTION_BIT(AM_ACTION_PAUSE) |
                    AM_ACTION_BIT(AM_ACTION_RESUME) | AM_ACTION_BIT(AM_ACTION_POWER_TARGET) |
                    AM_ACTION_BIT(AM_ACTION_WORK_MODE) | AM_ACTION_BIT(AM_ACTION_LOCATE) |
                    AM_ACTION_BIT(AM_ACTION_POOLS);
  g_assert_cmphex(am_auradine_actions(NULL), ==, all);
  g_assert_false(all & AM_ACTION_BIT(AM_ACTION_REBOOT));

  const struct {
    const char *mode;
    const char *led;
    AmMiningState mining;
    const char *work_mode;
    double limit;
    gint locate;
  } cases[] = {
      {"{\"STATUS\":[{\"STATUS\":\"S\"}],\"Mode\":[{\"Mode\":\"custom\",\"Power\":5200,"
       "\"Sleep\":\"off\"}]}",
       "{\"STATUS\":[{\"STATUS\":\"S\"}],\"LED\":[{\"Code\":3,\"Msg\":\"Locate\"}]}",
       AM_MINING_HASHING, "custom", 5200, TRUE},
      {"{\"STATUS\":[{\"STATUS\":\"S\"}],\"Mode\":[{\"Mode\":\"eco\",\"Sleep\":\"on\"}]}",
       "{\"STATUS\":[{\"STATUS\":\"S\"}],\"LED\":[{\"Code\":2,\"Msg\":\"Normal\"}]}",
       AM_MINING_SLEEPING, "low", -1, FALSE},
      {"{\"STATUS\":[{\"STATUS\":\"S\"}],\"Mode\":[{\"Mode\":\"turbo\",\"Sleep\":\"off\"}]}", NULL,
       AM_MINING_HASHING, "high", -1, AM_UNKNOWN},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(JsonObject) mode = am_test_object_from_string(cases[i].mode);
    g_autoptr(JsonObject) led =
        cases[i].led != NULL ? am_test_object_from_string(cases[i].led) : NULL;
    AmAuradineReplies replies = {.mode = mode, .led = led};
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = am_auradine_parse(&replies, &error);
    g_assert_no_error(error);
    g_assert_cmphex(am_auradine_actions(s), ==, all);
    g_assert_cmpint(s->mining, ==, cases[i].mining);
    g_assert_cmpstr(s->work_mode, ==, cases[i].work_mode);
    if (cases[i].limit > 0)
      g_assert_cmpfloat(s->power_limit_w, ==, cases[i].limit);
    g_assert_cmpint(s->locate, ==, cases[i].locate);
  }
}

/* ---- the module against a local FluxOS ---------------------------------- */

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *password; /* of admin */
  char *token;          /* the one handed out last */
  guint logins;
  const char *fail_msg; /* answer STATUS E with this to every write */
  GPtrArray *log;       /* char*: "path body" of each accepted write */
} FakeFlux;

static void
reply(SoupServerMessage *msg, const char *text)
{
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text, strlen(text));
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer user_data)
{
  FakeFlux *fake = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autofree char *text = g_strndup(body->data != NULL ? body->data : "", body->length);
  if (!g_str_equal(soup_server_message_get_method(msg), "POST")) {
    soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  g_autoptr(JsonObject) req = am_test_object_from_string(text);
  if (g_str_equal(path, "/token")) {
    fake->logins++;
    if (g_strcmp0(am_json_string(req, "user"), "admin") != 0 ||
        g_strcmp0(am_json_string(req, "password"), fake->password) != 0) {
      reply(msg, "{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":401,\"Msg\":\"Invalid user or "
                 "password\"}],\"id\":1}");
      return;
    }
    g_free(fake->token);
    fake->token = g_strdup_printf("tok-%u", fake->logins);
    g_autofree char *answer =
        g_strdup_printf("{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":600,\"Msg\":\"Token\"}],"
                        "\"Token\":[{\"Token\":\"%s\"}],\"id\":1}",
                        fake->token);
    reply(msg, answer);
    return;
  }
  const char *token =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Token");
  if (fake->token == NULL || g_strcmp0(token, fake->token) != 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_UNAUTHORIZED, NULL);
    return;
  }
  /* FluxOS checks that the body names the command of the path. */
  if (g_strcmp0(am_json_string(req, "command"), path + 1) != 0) {
    reply(msg, "{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":14,\"Msg\":\"Invalid command\"}]}");
    return;
  }
  if (fake->fail_msg != NULL) {
    g_autofree char *answer = g_strdup_printf(
        "{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":23,\"Msg\":\"%s\"}],\"id\":1}", fake->fail_msg);
    reply(msg, answer);
    return;
  }
  g_ptr_array_add(fake->log, g_strdup_printf("%s %s", path, text));
  reply(msg, "{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":0,\"Msg\":\"OK\"}],\"id\":1}");
}

static void
fake_start(FakeFlux *fake)
{
  *fake = (FakeFlux){.password = "admin", .log = g_ptr_array_new_with_free_func(g_free)};
  fake->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(fake->server, NULL, serve, fake, NULL);
  fake->port = am_test_soup_listen_loopback(fake->server);
}

static void
fake_stop(FakeFlux *fake)
{
  am_test_soup_stop(fake->server, g_ptr_array_new());
  g_ptr_array_unref(fake->log);
  g_free(fake->token);
}

typedef AmTestDriver Driver;

static void
driver_open(Driver *d, guint16 web_port)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_key_file_set_integer(kf, "driver:auradine", "web_port", web_port);
  am_test_driver_open(d, "auradine", kf);
}

static gboolean
act(Driver *d, const char *user, const char *password, AmActionRequest request, GError **error)
{
  request.struct_size = sizeof request;
  /* The RPC port is not used by the actions. */
  g_autoptr(AmMiner) miner = am_test_local_miner(4028);
  if (user != NULL || password != NULL)
    am_miner_set_credentials(miner, user, password);
  return am_test_driver_act(d, miner, &request, error);
}

static void
test_module_actions(void)
{
  FakeFlux fake;
  fake_start(&fake);
  Driver d;
  driver_open(&d, fake.port);
  g_assert_cmphex(d.vt->actions(d.self, NULL, NULL), ==, am_auradine_actions(NULL));
  const struct {
    AmActionRequest request;
    const char *expected;
  } cases[] = {
      {{.kind = AM_ACTION_RESTART}, "/restart {\"command\":\"restart\"}"},
      {{.kind = AM_ACTION_PAUSE}, "/mode {\"command\":\"mode\",\"sleep\":\"on\"}"},
      {{.kind = AM_ACTION_RESUME}, "/mode {\"command\":\"mode\",\"sleep\":\"off\"}"},
      {{.kind = AM_ACTION_POWER_TARGET, .watts = 4800},
       "/mode {\"command\":\"mode\",\"mode\":\"custom\",\"tune\":\"power\",\"power\":4800}"},
      {{.kind = AM_ACTION_WORK_MODE, .mode = "high"},
       "/mode {\"command\":\"mode\",\"mode\":\"turbo\"}"},
      {{.kind = AM_ACTION_LOCATE, .on = TRUE}, "/led {\"command\":\"led\",\"code\":3}"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_true(act(&d, NULL, NULL, cases[i].request, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(fake.log->len, ==, i + 1);
    g_assert_cmpstr(fake.log->pdata[i], ==, cases[i].expected);
  }
  /* One login for all: the token is kept. */
  g_assert_cmpuint(fake.logins, ==, 1);

  /* An expired token: one more login, then the write. */
  g_free(fake.token);
  fake.token = g_strdup("rotated");
  AmPoolSetting pool = {"stratum+tcp://pool.example:3333", "w", NULL};
  g_autoptr(GError) error = NULL;
  g_assert_true(act(&d, NULL, NULL,
                    (AmActionRequest){.kind = AM_ACTION_POOLS, .pools = &pool, .n_pools = 1},
                    &error));
  g_assert_no_error(error);
  g_assert_cmpuint(fake.logins, ==, 2);
  g_assert_cmpstr(g_ptr_array_index(fake.log, fake.log->len - 1), ==,
                  "/updatepools {\"command\":\"updatepools\",\"pools\":[{\"url\":"
                  "\"stratum+tcp://pool.example:3333\",\"user\":\"w\",\"pass\":\"x\"}]}");
  am_test_driver_close(&d);
  fake_stop(&fake);
}

static void
test_module_errors(void)
{
  FakeFlux fake;
  fake_start(&fake);
  Driver d;
  driver_open(&d, fake.port);
  g_autofree char *address = g_strdup_printf("127.0.0.1:%u", fake.port);
  g_autoptr(GError) error = NULL;

  /* Unsupported and bad requests: no request at all. */
  g_assert_false(act(&d, NULL, NULL, (AmActionRequest){.kind = AM_ACTION_REBOOT}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  g_assert_false(
      act(&d, NULL, NULL, (AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 50}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_clear_error(&error);
  g_assert_cmpuint(fake.logins, ==, 0);

  /* The miner's own credentials, refused: AUTH naming the user. */
  g_assert_false(
      act(&d, "admin", "wrong-pw", (AmActionRequest){.kind = AM_ACTION_RESTART}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_autofree char *prefix =
      g_strdup_printf("%s: admin was refused by the miner's web login", address);
  g_assert_true(g_str_has_prefix(error->message, prefix));
  g_assert_null(strstr(error->message, "wrong-pw"));
  g_clear_error(&error);

  /* The firmware's own refusal, with its Msg. */
  fake.fail_msg = "Power out of range";
  g_assert_false(act(&d, NULL, NULL,
                     (AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 19000}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_true(g_str_has_prefix(error->message, address));
  g_assert_nonnull(strstr(error->message, "Power out of range"));
  g_clear_error(&error);
  g_assert_cmpuint(fake.log->len, ==, 0);
  am_test_driver_close(&d);
  fake_stop(&fake);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/auradine/action/build", test_build);
  g_test_add_func("/auradine/action/build-refused", test_build_refused);
  g_test_add_func("/auradine/action/actions", test_actions);
  g_test_add_func("/auradine/action/module-actions", test_module_actions);
  g_test_add_func("/auradine/action/module-errors", test_module_errors);
  return g_test_run();
}
