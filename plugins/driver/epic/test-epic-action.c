/* Tests of the epic driver's actions: the pure requests (path and body
 * exactly, password included), the answer reader, actions(), the poll's
 * locate reading, and the built module against an in-process SoupServer on
 * 127.0.0.1 that checks the password in each body as PowerPlay does,
 * records the request and answers {"result":true} or
 * {"result":false,"error":...}. */
#include "../common/am-driver-test-util.h"
#include "am-epic-action.h"
#include "am-epic-parse.h"
#include "am-test-util.h"

#include <libsoup/soup.h>
#include <string.h>

/* ---- the pure builder --------------------------------------------------- */

static void
assert_build(AmActionRequest request, const char *password, const char *path, const char *body)
{
  request.struct_size = sizeof request;
  AmEpicActionCall call;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_epic_action_build(&request, password, &call, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(call.path, ==, path);
  g_assert_cmpstr(call.body, ==, body);
  am_epic_action_call_clear(&call);
}

static void
test_build(void)
{
  assert_build((AmActionRequest){.kind = AM_ACTION_REBOOT}, "pw", "/reboot",
               "{\"param\":\"0\",\"password\":\"pw\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_RESTART}, "pw", "/softreboot",
               "{\"password\":\"pw\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_PAUSE}, "pw", "/miner",
               "{\"param\":\"Stop\",\"password\":\"pw\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_RESUME}, "pw", "/miner",
               "{\"param\":\"Autostart\",\"password\":\"pw\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_LOCATE, .on = TRUE}, "pw", "/identify",
               "{\"param\":true,\"password\":\"pw\"}");
  assert_build((AmActionRequest){.kind = AM_ACTION_LOCATE, .on = FALSE}, NULL, "/identify",
               "{\"param\":false,\"password\":\"letmein\"}");
  AmPoolSetting pools[] = {
      {"stratum+tcp://btc.global.luxor.tech:700", "acct.worker", NULL},
      {"stratum+tcp://backup.example:3333", "acct.w2", "p\"q"},
  };
  assert_build((AmActionRequest){.kind = AM_ACTION_POOLS, .pools = pools, .n_pools = 2}, "pw",
               "/coin",
               "{\"param\":{\"coin\":\"Btc\",\"stratum_configs\":["
               "{\"pool\":\"stratum+tcp://btc.global.luxor.tech:700\",\"login\":\"acct.worker\","
               "\"password\":\"x\"},"
               "{\"pool\":\"stratum+tcp://backup.example:3333\",\"login\":\"acct.w2\","
               "\"password\":\"p\\\"q\"}],\"unique_id\":false},\"password\":\"pw\"}");
}

static void
test_build_refused(void)
{
  AmActionKind kinds[] = {AM_ACTION_POWER_TARGET, AM_ACTION_WORK_MODE, AM_ACTION_NONE,
                          AM_ACTION_LAST};
  for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
    AmActionRequest request = {
        .struct_size = sizeof request, .kind = kinds[i], .watts = 3000, .mode = "low"};
    AmEpicActionCall call;
    g_autoptr(GError) error = NULL;
    g_assert_false(am_epic_action_build(&request, "pw", &call, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
    g_assert_null(call.body);
  }
  AmPoolSetting four[] = {{"a", "u", NULL}, {"b", "u", NULL}, {"c", "u", NULL}, {"d", "u", NULL}};
  AmPoolSetting no_user[] = {{"stratum+tcp://a:1", "", NULL}};
  AmPoolSetting no_url[] = {{NULL, "u", NULL}};
  const struct {
    const AmPoolSetting *pools;
    guint n;
    const char *needle;
  } bad[] = {{four, 4, "1 to 3 pools"},
             {four, 0, "1 to 3 pools"},
             {no_user, 1, "pool 1"},
             {no_url, 1, "pool 1"}};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    AmActionRequest request = {.struct_size = sizeof request,
                               .kind = AM_ACTION_POOLS,
                               .pools = bad[i].pools,
                               .n_pools = bad[i].n};
    AmEpicActionCall call;
    g_autoptr(GError) error = NULL;
    g_assert_false(am_epic_action_build(&request, "pw", &call, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, bad[i].needle));
    g_assert_null(strstr(error->message, "pw"));
  }
}

static void
test_check(void)
{
  const struct {
    const char *body;
    gint code; /* 0: accepted */
    const char *message;
  } cases[] = {
      {"{\"result\":true}", 0, NULL},
      {"", 0, NULL},
      {"  \n", 0, NULL},
      {"{}", 0, NULL},
      {"{\"result\":false,\"error\":\"Invalid password\"}", AM_ERROR_AUTH,
       "/miner: root was refused by ePIC (wrong web password): Invalid password"},
      {"{\"result\":false,\"error\":\"Unauthorized\"}", AM_ERROR_AUTH, NULL},
      {"{\"result\":false,\"error\":\"Miner is already stopped\"}", AM_ERROR_API,
       "/miner: ePIC refused the command: Miner is already stopped"},
      {"{\"result\":false}", AM_ERROR_API, "/miner: ePIC refused the command: no reason given"},
      {"<html>", AM_ERROR_PARSE, "/miner: the answer is not a JSON object"},
      {"[true]", AM_ERROR_PARSE, NULL},
      /* json-glib reads these as nothing at all (found by the fuzzer) */
      {"/* stopped */", AM_ERROR_PARSE, "/miner: the answer is not a JSON object"},
      {"\xef\xbb\xbf", AM_ERROR_PARSE, NULL},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    gboolean ok = am_epic_action_check("/miner", cases[i].body, strlen(cases[i].body), &error);
    if (cases[i].code == 0) {
      g_assert_no_error(error);
      g_assert_true(ok);
      continue;
    }
    g_assert_false(ok);
    g_assert_error(error, AM_ERROR, cases[i].code);
    if (cases[i].message != NULL)
      g_assert_cmpstr(error->message, ==, cases[i].message);
  }
}

/* ---- actions() and the poll's confirmations ----------------------------- */

static AmSample *
parse_summary_with(const char *overlay_json)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object("epic/asicrs-v1_summary.json");
  if (overlay_json != NULL) {
    g_autoptr(JsonObject) overlay = am_test_object_from_string(overlay_json);
    GList *members = json_object_get_members(overlay);
    for (GList *m = members; m != NULL; m = m->next)
      json_object_set_member(summary, m->data,
                             json_node_copy(json_object_get_member(overlay, m->data)));
    g_list_free(members);
  }
  AmEpicReplies replies = {.summary = summary};
  g_autoptr(GError) error = NULL;
  AmSample *s = am_epic_parse(&replies, &error);
  g_assert_no_error(error);
  return s;
}

static void
test_actions(void)
{
  AmActionSet all = AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_RESTART) |
                    AM_ACTION_BIT(AM_ACTION_PAUSE) | AM_ACTION_BIT(AM_ACTION_RESUME) |
                    AM_ACTION_BIT(AM_ACTION_LOCATE) | AM_ACTION_BIT(AM_ACTION_POOLS);
  g_assert_cmphex(am_epic_actions(NULL), ==, all);
  g_autoptr(AmSample) s = parse_summary_with(NULL);
  g_assert_cmphex(am_epic_actions(s), ==, all);
  /* The recorded unit: light off, mining. */
  g_assert_cmpint(s->locate, ==, FALSE);
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING);
  g_autoptr(AmSample) lit =
      parse_summary_with("{\"Misc\":{\"Locate Miner State\":true},"
                         "\"Status\":{\"Operating State\":\"Idling\",\"Last Error\":null}}");
  g_assert_cmpint(lit->locate, ==, TRUE);
  g_assert_cmpint(lit->mining, ==, AM_MINING_PAUSED);
  g_autoptr(AmSample) none = parse_summary_with("{\"Misc\":{}}");
  g_assert_cmpint(none->locate, ==, AM_UNKNOWN);
}

/* ---- the module against a local PowerPlay ------------------------------- */

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *password;   /* what the unit accepts */
  gboolean refuse_401;    /* a wrong password gets HTTP 401, else result false */
  const char *error_text; /* answer {"result":false,"error":...} to any good request */
  GPtrArray *log;         /* char*: "METHOD path body" */
} FakeEpic;

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer user_data)
{
  FakeEpic *fake = user_data;
  const char *method = soup_server_message_get_method(msg);
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autofree char *text = g_strndup(body->data != NULL ? body->data : "", body->length);
  g_ptr_array_add(fake->log, g_strdup_printf("%s %s %s", method, path, text));
  const char *known[] = {"/reboot", "/softreboot", "/miner", "/identify", "/coin"};
  gboolean found = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(known); i++)
    found = found || g_str_equal(path, known[i]);
  if (!found || !g_str_equal(method, "POST")) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  g_autoptr(JsonObject) root = am_test_object_from_string(text);
  const char *reply = "{\"result\":true}";
  if (g_strcmp0(am_json_string(root, "password"), fake->password) != 0) {
    if (fake->refuse_401) {
      soup_server_message_set_status(msg, SOUP_STATUS_UNAUTHORIZED, NULL);
      return;
    }
    reply = "{\"result\":false,\"error\":\"Invalid password\"}";
  } else if (fake->error_text != NULL) {
    reply = fake->error_text;
  }
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, reply, strlen(reply));
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
fake_start(FakeEpic *fake)
{
  *fake = (FakeEpic){.password = "letmein", .log = g_ptr_array_new_with_free_func(g_free)};
  fake->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(fake->server, NULL, serve, fake, NULL);
  fake->port = am_test_soup_listen_loopback(fake->server);
}

static void
fake_stop(FakeEpic *fake)
{
  am_test_soup_stop(fake->server, g_ptr_array_new());
  g_ptr_array_unref(fake->log);
}

/* Runs @request with a driver made from @ini (NULL: defaults) on a miner
 * whose own password is @miner_password (NULL: none). */
static gboolean
act(FakeEpic *fake, const char *ini, const char *miner_password, AmActionRequest request,
    GError **error)
{
  request.struct_size = sizeof request;
  g_autoptr(GKeyFile) kf = ini != NULL ? am_test_key_file(ini) : NULL;
  AmTestDriver d;
  am_test_driver_open(&d, "epic", kf);
  g_assert_cmphex(d.vt->actions(d.self, NULL, NULL), ==, am_epic_actions(NULL));
  g_autoptr(AmMiner) miner = am_test_local_miner(fake->port);
  if (miner_password != NULL)
    am_miner_set_credentials(miner, NULL, miner_password);
  gboolean ok = am_test_driver_act(&d, miner, &request, error);
  am_test_driver_close(&d);
  return ok;
}

static void
test_module_actions(void)
{
  FakeEpic fake;
  fake_start(&fake);
  const struct {
    AmActionRequest request;
    const char *expected;
  } cases[] = {
      {{.kind = AM_ACTION_REBOOT}, "POST /reboot {\"param\":\"0\",\"password\":\"letmein\"}"},
      {{.kind = AM_ACTION_RESTART}, "POST /softreboot {\"password\":\"letmein\"}"},
      {{.kind = AM_ACTION_PAUSE}, "POST /miner {\"param\":\"Stop\",\"password\":\"letmein\"}"},
      {{.kind = AM_ACTION_RESUME},
       "POST /miner {\"param\":\"Autostart\",\"password\":\"letmein\"}"},
      {{.kind = AM_ACTION_LOCATE, .on = TRUE},
       "POST /identify {\"param\":true,\"password\":\"letmein\"}"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_true(act(&fake, NULL, NULL, cases[i].request, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(fake.log->len, ==, i + 1);
    g_assert_cmpstr(fake.log->pdata[i], ==, cases[i].expected);
  }
  /* The pools, with the password from [driver:epic]. */
  fake.password = "s3cret";
  AmPoolSetting pool = {"stratum+tcp://pool.example:3333", "acct.w", "x"};
  g_autoptr(GError) error = NULL;
  g_assert_true(act(&fake, "[driver:epic]\npassword=s3cret\n", NULL,
                    (AmActionRequest){.kind = AM_ACTION_POOLS, .pools = &pool, .n_pools = 1},
                    &error));
  g_assert_no_error(error);
  g_assert_cmpstr(g_ptr_array_index(fake.log, fake.log->len - 1), ==,
                  "POST /coin {\"param\":{\"coin\":\"Btc\",\"stratum_configs\":[{\"pool\":"
                  "\"stratum+tcp://pool.example:3333\",\"login\":\"acct.w\",\"password\":\"x\"}],"
                  "\"unique_id\":false},\"password\":\"s3cret\"}");
  /* The miner's own password wins over the driver's. */
  fake.password = "mine";
  g_assert_true(act(&fake, "[driver:epic]\npassword=s3cret\n", "mine",
                    (AmActionRequest){.kind = AM_ACTION_RESTART}, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(g_ptr_array_index(fake.log, fake.log->len - 1), ==,
                  "POST /softreboot {\"password\":\"mine\"}");
  fake_stop(&fake);
}

static void
test_module_errors(void)
{
  FakeEpic fake;
  fake_start(&fake);
  g_autofree char *address = g_strdup_printf("127.0.0.1:%u", fake.port);
  g_autoptr(GError) error = NULL;

  /* Unsupported: nothing sent. */
  g_assert_false(act(&fake, NULL, NULL,
                     (AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 3000}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_cmpuint(fake.log->len, ==, 0);
  g_clear_error(&error);

  /* A wrong password, both ways PowerPlay may say it; never echoed. */
  g_assert_false(act(&fake, NULL, "wrong-pw", (AmActionRequest){.kind = AM_ACTION_PAUSE}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_true(g_str_has_prefix(error->message, address));
  g_assert_nonnull(strstr(error->message, "root was refused"));
  g_assert_null(strstr(error->message, "wrong-pw"));
  g_clear_error(&error);
  fake.refuse_401 = TRUE;
  g_assert_false(act(&fake, NULL, "wrong-pw", (AmActionRequest){.kind = AM_ACTION_PAUSE}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_nonnull(strstr(error->message, "root was refused"));
  g_assert_null(strstr(error->message, "wrong-pw"));
  g_clear_error(&error);

  /* The firmware's own refusal. */
  fake.error_text = "{\"result\":false,\"error\":\"Invalid stratum url\"}";
  AmPoolSetting pool = {"stratum+tcp://pool.example:3333", "acct.w", NULL};
  g_assert_false(act(&fake, NULL, NULL,
                     (AmActionRequest){.kind = AM_ACTION_POOLS, .pools = &pool, .n_pools = 1},
                     &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_autofree char *expected =
      g_strdup_printf("%s: /coin: ePIC refused the command: Invalid stratum url", address);
  g_assert_cmpstr(error->message, ==, expected);
  fake_stop(&fake);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/epic/action/build", test_build);
  g_test_add_func("/epic/action/build-refused", test_build_refused);
  g_test_add_func("/epic/action/check", test_check);
  g_test_add_func("/epic/action/actions", test_actions);
  g_test_add_func("/epic/action/module-actions", test_module_actions);
  g_test_add_func("/epic/action/module-errors", test_module_errors);
  return g_test_run();
}
