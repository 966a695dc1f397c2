/* Braiins OS actions: the exact requests (pure builder), then the built
 * driver-braiins.so writing to fake REST and GraphQL APIs on 127.0.0.1 that
 * log in as the firmware does and record what they were sent. */
#include "../common/am-driver-test-util.h"
#include "am-braiins-action.h"
#include "am-braiins-rest-parse.h"
#include "test-braiins.h"

#include <libsoup/soup.h>
#include <string.h>

#define ALL_REST                                                                                   \
  (AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_RESTART) |                            \
   AM_ACTION_BIT(AM_ACTION_PAUSE) | AM_ACTION_BIT(AM_ACTION_RESUME) |                              \
   AM_ACTION_BIT(AM_ACTION_POWER_TARGET) | AM_ACTION_BIT(AM_ACTION_LOCATE) |                       \
   AM_ACTION_BIT(AM_ACTION_POOLS))
#define ALL_GRAPHQL                                                                                \
  (AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_PAUSE) |                              \
   AM_ACTION_BIT(AM_ACTION_RESUME) | AM_ACTION_BIT(AM_ACTION_POWER_TARGET) |                       \
   AM_ACTION_BIT(AM_ACTION_LOCATE))

static const AmPoolSetting two_pools[] = {
    {.url = "stratum+tcp://pool.example:3333", .user = "farm.w1", .password = "x"},
    {.url = "stratum+tcp://backup.example:3333", .user = "farm.w1", .password = NULL},
};

static AmActionRequest
request(AmActionKind kind)
{
  return (AmActionRequest){.struct_size = sizeof(AmActionRequest), .kind = kind};
}

/* ---- the pure builder -------------------------------------------------------- */

static void
assert_rest(const AmActionRequest *r, const char *path, const char *body)
{
  AmBraiinsRestWrite w;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_braiins_rest_action(r, &w, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(w.method, ==, "PUT");
  g_assert_cmpstr(w.path, ==, path);
  g_assert_cmpstr(w.body, ==, body);
  am_braiins_rest_write_clear(&w);
}

static void
test_rest_requests(void)
{
  const struct {
    AmActionKind kind;
    const char *path;
  } bare[] = {
      {AM_ACTION_REBOOT, "/api/v1/actions/reboot"},
      {AM_ACTION_RESTART, "/api/v1/actions/restart"},
      {AM_ACTION_PAUSE, "/api/v1/actions/pause"},
      {AM_ACTION_RESUME, "/api/v1/actions/resume"},
  };
  AmActionRequest r;
  for (guint i = 0; i < G_N_ELEMENTS(bare); i++) {
    r = request(bare[i].kind);
    assert_rest(&r, bare[i].path, NULL);
  }
  r = request(AM_ACTION_LOCATE);
  r.on = TRUE;
  assert_rest(&r, "/api/v1/actions/locate", "true");
  r.on = FALSE;
  assert_rest(&r, "/api/v1/actions/locate", "false");
  r = request(AM_ACTION_POWER_TARGET);
  r.watts = 3200;
  assert_rest(&r, "/api/v1/performance/power-target", "{\"watt\":3200}");
  r = request(AM_ACTION_POOLS);
  r.pools = two_pools;
  r.n_pools = 2;
  assert_rest(
      &r, "/api/v1/pools/batch",
      "[{\"name\":\"Default\",\"pools\":["
      "{\"url\":\"stratum+tcp://pool.example:3333\",\"user\":\"farm.w1\",\"password\":\"x\"},"
      "{\"url\":\"stratum+tcp://backup.example:3333\",\"user\":\"farm.w1\",\"password\":\"\"}"
      "],\"load_balance_strategy\":{\"quota\":{\"value\":1}}}]");
}

static void
assert_refused(const AmActionRequest *r, gint code, const char *words)
{
  AmBraiinsRestWrite w;
  g_autoptr(GError) error = NULL;
  g_assert_false(am_braiins_rest_action(r, &w, &error));
  g_assert_error(error, AM_ERROR, code);
  g_assert_nonnull(strstr(error->message, words));
  g_assert_null(w.path);
  g_clear_error(&error);
  g_autofree char *gql = am_braiins_gql_action(r, &error);
  g_assert_null(gql);
  g_assert_error(error, AM_ERROR, code);
}

static void
test_refused_requests(void)
{
  AmActionRequest r = request(AM_ACTION_POWER_TARGET);
  r.watts = 30;
  assert_refused(&r, AM_ERROR_CONFIG, "30 W");
  r.watts = 300000;
  assert_refused(&r, AM_ERROR_CONFIG, "300000 W");
  r = request(AM_ACTION_POOLS);
  assert_refused(&r, AM_ERROR_CONFIG, "1 to 3 pools");
  AmPoolSetting four[4] = {two_pools[0], two_pools[1], two_pools[0], two_pools[1]};
  r.pools = four;
  r.n_pools = 4;
  assert_refused(&r, AM_ERROR_CONFIG, "got 4");
  AmPoolSetting no_user = {.url = "stratum+tcp://p:3333", .user = ""};
  r.pools = &no_user;
  r.n_pools = 1;
  assert_refused(&r, AM_ERROR_CONFIG, "pool 1 needs a URL and a user");
  r = request(AM_ACTION_WORK_MODE);
  r.mode = AM_WORK_MODE_LOW;
  assert_refused(&r, AM_ERROR_UNSUPPORTED, "work_mode");
}

static JsonObject *
parsed(const char *body)
{
  g_autoptr(JsonNode) node = json_from_string(body, NULL);
  g_assert_nonnull(node);
  return json_object_ref(json_node_get_object(node));
}

static void
assert_gql(const AmActionRequest *r, const char *query, const char *variables)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *body = am_braiins_gql_action(r, &error);
  g_assert_no_error(error);
  g_autoptr(JsonObject) o = parsed(body);
  g_assert_cmpstr(json_object_get_string_member(o, "query"), ==, query);
  if (variables == NULL) {
    g_assert_false(json_object_has_member(o, "variables"));
    return;
  }
  g_autofree char *vars = json_to_string(json_object_get_member(o, "variables"), FALSE);
  g_assert_cmpstr(vars, ==, variables);
}

static void
test_graphql_requests(void)
{
  const struct {
    AmActionKind kind;
    const char *query;
  } bare[] = {
      {AM_ACTION_REBOOT, "mutation { bos { reboot { ... on VoidResult { void } } } }"},
      {AM_ACTION_PAUSE, "mutation { bosminer { stop { ... on VoidResult { void } } } }"},
      {AM_ACTION_RESUME, "mutation { bosminer { start { ... on VoidResult { void } } } }"},
  };
  AmActionRequest r;
  for (guint i = 0; i < G_N_ELEMENTS(bare); i++) {
    r = request(bare[i].kind);
    assert_gql(&r, bare[i].query, NULL);
  }
  r = request(AM_ACTION_LOCATE);
  r.on = TRUE;
  assert_gql(&r,
             "mutation ($enable: Boolean!) { bos { setFaultLight(enable: $enable) { enabled } } }",
             "{\"enable\":true}");
  r = request(AM_ACTION_POWER_TARGET);
  r.watts = 1100;
  assert_gql(&r,
             "mutation ($limit: Int!) { bosminer { config { updateAutotuning(input: "
             "{powerTarget: $limit}, apply: true) { ... on AutotuningOut { autotuning { "
             "powerTarget enabled } } } } } }",
             "{\"limit\":1100}");
  /* Not over GraphQL: restart and pools. */
  const AmActionKind none[] = {AM_ACTION_RESTART, AM_ACTION_POOLS, AM_ACTION_WORK_MODE};
  for (guint i = 0; i < G_N_ELEMENTS(none); i++) {
    r = request(none[i]);
    r.pools = two_pools;
    r.n_pools = 1;
    r.mode = "normal";
    g_autoptr(GError) error = NULL;
    g_autofree char *body = am_braiins_gql_action(&r, &error);
    g_assert_null(body);
    g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  }
}

static void
test_graphql_answers(void)
{
  static const char ok[] = "{\"data\":{\"bos\":{\"reboot\":{\"void\":null}}}}";
  g_autoptr(GError) error = NULL;
  g_assert_true(am_braiins_gql_parse_mutation(ok, strlen(ok), &error));
  g_assert_no_error(error);
  static const char refused[] =
      "{\"data\":null,\"errors\":[{\"message\":\"Power target out of range\"}]}";
  g_assert_false(am_braiins_gql_parse_mutation(refused, strlen(refused), &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_cmpstr(error->message, ==, "Power target out of range");
  g_clear_error(&error);
  /* The last three json-glib reads as no JSON at all (found by the fuzzer). */
  const char *bad[] = {"<html>", "[]", "{}", "{\"data\":null}", "", " \n", "/* */"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(am_braiins_gql_parse_mutation(bad[i], strlen(bad[i]), &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
    g_clear_error(&error);
  }
}

static void
test_actions_per_api(void)
{
  g_assert_cmpuint(am_braiins_actions_for(AM_BRAIINS_API_REST), ==, ALL_REST);
  g_assert_cmpuint(am_braiins_actions_for(AM_BRAIINS_API_GRAPHQL), ==, ALL_GRAPHQL);
  g_assert_cmpuint(am_braiins_actions_for(AM_BRAIINS_API_RPC), ==, 0);
}

/* ---- a fake Braiins OS that records writes ------------------------------------ */

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *password; /* root's */
  guint refuse_status;  /* answer writes with this (and a message) when set */
  const char *missing;  /* a write path answered 404 */
  char *token;          /* REST, after a login */
  gboolean gql_session; /* GraphQL, after a login */
  guint writes;
  char *method, *path, *body; /* the last write */
} FakeWrite;

static void
respond(SoupServerMessage *msg, guint status, const char *text)
{
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text, strlen(text));
  soup_server_message_set_status(msg, status, NULL);
}

static void
record(FakeWrite *f, SoupServerMessage *msg, const char *path)
{
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  f->writes++;
  g_free(f->method);
  g_free(f->path);
  g_free(f->body);
  f->method = g_strdup(soup_server_message_get_method(msg));
  f->path = g_strdup(path);
  f->body = body->length > 0 ? g_strndup(body->data, body->length) : NULL;
}

static gboolean
login_ok(FakeWrite *f, JsonObject *o, const char *user_key, const char *pass_key)
{
  return o != NULL &&
         g_str_equal(json_object_get_string_member_with_default(o, user_key, ""), "root") &&
         g_str_equal(json_object_get_string_member_with_default(o, pass_key, ""), f->password);
}

/* The REST API: POST auth/login {username,password} -> {token}, then the
 * token as is in Authorization; PUT writes under /api/v1. */
static void
serve_rest(FakeWrite *f, SoupServerMessage *msg, const char *path)
{
  const char *method = soup_server_message_get_method(msg);
  if (g_str_equal(path, AM_BRAIINS_REST_LOGIN)) {
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    g_autoptr(JsonNode) root = json_from_string(body->data, NULL);
    if (!login_ok(f, root != NULL ? json_node_get_object(root) : NULL, "username", "password")) {
      respond(msg, SOUP_STATUS_UNAUTHORIZED, "{\"message\":\"Invalid credentials\"}");
      return;
    }
    g_free(f->token);
    f->token = g_strdup("tok-1");
    respond(msg, SOUP_STATUS_OK, "{\"token\":\"tok-1\",\"timeout_s\":3600}");
    return;
  }
  const char *auth =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  if (f->token == NULL || g_strcmp0(auth, f->token) != 0) {
    respond(msg, SOUP_STATUS_UNAUTHORIZED, "{\"message\":\"Unauthorized\"}");
    return;
  }
  static const char *const known[] = {"/api/v1/actions/reboot",          "/api/v1/actions/restart",
                                      "/api/v1/actions/pause",           "/api/v1/actions/resume",
                                      "/api/v1/actions/locate",          "/api/v1/pools/batch",
                                      "/api/v1/performance/power-target"};
  if (!g_strv_contains(known, path) || !g_str_equal(method, "PUT") ||
      g_strcmp0(path, f->missing) == 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  record(f, msg, path);
  if (f->refuse_status != 0)
    respond(msg, f->refuse_status, "{\"message\":\"Power target is out of range\"}");
  else if (g_str_has_prefix(path, "/api/v1/actions/"))
    soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, NULL);
  else
    respond(msg, SOUP_STATUS_OK, "{}");
}

/* The GraphQL API: the auth.login mutation sets the session_id cookie. */
static void
serve_graphql(FakeWrite *f, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autoptr(JsonNode) root = json_from_string(body->data, NULL);
  JsonObject *o = root != NULL ? json_node_get_object(root) : NULL;
  const char *query = o != NULL ? json_object_get_string_member_with_default(o, "query", "") : "";
  if (strstr(query, "auth { login") != NULL) {
    JsonObject *vars = json_object_get_object_member(o, "variables");
    if (!login_ok(f, vars, "username", "password")) {
      respond(msg, SOUP_STATUS_OK,
              "{\"data\":{\"auth\":{\"login\":{\"message\":\"Invalid username or password\"}}}}");
      return;
    }
    f->gql_session = TRUE;
    soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie",
                                "session_id=s1; Path=/");
    respond(msg, SOUP_STATUS_OK, "{\"data\":{\"auth\":{\"login\":{}}}}");
    return;
  }
  const char *cookie =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Cookie");
  if (!f->gql_session || g_strcmp0(cookie, "session_id=s1") != 0) {
    respond(msg, SOUP_STATUS_OK, "{\"data\":null,\"errors\":[{\"message\":\"Unauthorized\"}]}");
    return;
  }
  record(f, msg, "/graphql");
  if (f->refuse_status != 0)
    respond(msg, SOUP_STATUS_OK,
            "{\"data\":null,\"errors\":[{\"message\":\"Power target is out of range\"}]}");
  else
    respond(msg, SOUP_STATUS_OK, "{\"data\":{\"bos\":{}}}");
}

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer user_data)
{
  if (g_str_equal(path, "/graphql"))
    serve_graphql(user_data, msg);
  else
    serve_rest(user_data, msg, path);
}

static void
fake_start(FakeWrite *f)
{
  *f = (FakeWrite){.password = "secret"};
  f->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(f->server, NULL, serve, f, NULL);
  f->port = am_test_soup_listen_loopback(f->server);
}

static void
fake_stop(FakeWrite *f)
{
  am_test_soup_stop(f->server, g_ptr_array_new());
  g_free(f->token);
  g_free(f->method);
  g_free(f->path);
  g_free(f->body);
}

static gboolean
act(AmBraiinsTestDriver *d, AmMiner *miner, const AmActionRequest *r, GError **error)
{
  AmTestDriver driver = {.plugin = d->plugin, .vt = d->info->vtable.driver, .self = d->self};
  return am_test_driver_act(&driver, miner, r, error);
}

static AmMiner *
miner_for(FakeWrite *f, const char *password)
{
  AmMiner *miner = am_braiins_test_local_miner(f->port, 5000);
  am_miner_set_credentials(miner, "root", password);
  return miner;
}

/* ---- the module over REST ------------------------------------------------------ */

static void
assert_rest_write(FakeWrite *f, AmBraiinsTestDriver *d, AmMiner *miner, const AmActionRequest *r,
                  const char *path, const char *body)
{
  guint before = f->writes;
  g_autoptr(GError) error = NULL;
  g_assert_true(act(d, miner, r, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(f->writes, ==, before + 1);
  g_assert_cmpstr(f->method, ==, "PUT");
  g_assert_cmpstr(f->path, ==, path);
  g_assert_cmpstr(f->body, ==, body);
}

static void
test_module_rest_writes(void)
{
  FakeWrite f;
  fake_start(&f);
  g_autoptr(AmMiner) miner = miner_for(&f, "secret");
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  g_assert_cmpuint(d.info->vtable.driver->actions(d.self, miner, NULL), ==, ALL_REST);

  AmActionRequest r = request(AM_ACTION_REBOOT);
  assert_rest_write(&f, &d, miner, &r, "/api/v1/actions/reboot", NULL);
  r.kind = AM_ACTION_RESTART;
  assert_rest_write(&f, &d, miner, &r, "/api/v1/actions/restart", NULL);
  r.kind = AM_ACTION_PAUSE;
  assert_rest_write(&f, &d, miner, &r, "/api/v1/actions/pause", NULL);
  r.kind = AM_ACTION_RESUME;
  assert_rest_write(&f, &d, miner, &r, "/api/v1/actions/resume", NULL);
  r.kind = AM_ACTION_LOCATE;
  r.on = TRUE;
  assert_rest_write(&f, &d, miner, &r, "/api/v1/actions/locate", "true");
  r = request(AM_ACTION_POWER_TARGET);
  r.watts = 3000;
  assert_rest_write(&f, &d, miner, &r, "/api/v1/performance/power-target", "{\"watt\":3000}");
  r = request(AM_ACTION_POOLS);
  r.pools = two_pools;
  r.n_pools = 1;
  assert_rest_write(
      &f, &d, miner, &r, "/api/v1/pools/batch",
      "[{\"name\":\"Default\",\"pools\":[{\"url\":\"stratum+tcp://pool.example:3333\","
      "\"user\":\"farm.w1\",\"password\":\"x\"}],\"load_balance_strategy\":{"
      "\"quota\":{\"value\":1}}}]");

  /* Refused values never reach the miner. */
  guint before = f.writes;
  r = request(AM_ACTION_POWER_TARGET);
  r.watts = 5;
  g_autoptr(GError) error = NULL;
  g_assert_false(act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_clear_error(&error);
  r = request(AM_ACTION_WORK_MODE);
  r.mode = "high";
  g_assert_false(act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_cmpuint(f.writes, ==, before);

  am_braiins_test_driver_close(&d);
  fake_stop(&f);
}

static void
test_module_rest_refusals(void)
{
  FakeWrite f;
  fake_start(&f);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  g_autoptr(GError) error = NULL;

  /* Wrong password: the login is refused, the message names the user and
   * not the password. */
  g_autoptr(AmMiner) wrong = miner_for(&f, "hunter2");
  AmActionRequest r = request(AM_ACTION_PAUSE);
  g_assert_false(act(&d, wrong, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_nonnull(strstr(error->message, "\"root\""));
  g_assert_null(strstr(error->message, "hunter2"));
  g_assert_cmpuint(f.writes, ==, 0);
  g_clear_error(&error);

  /* The firmware refuses the value. */
  g_autoptr(AmMiner) miner = miner_for(&f, "secret");
  f.refuse_status = SOUP_STATUS_BAD_REQUEST;
  r = request(AM_ACTION_POWER_TARGET);
  r.watts = 19000;
  g_assert_false(act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "refused"));
  g_assert_nonnull(strstr(error->message, "400"));
  g_assert_cmpuint(f.writes, ==, 1);
  g_clear_error(&error);
  f.refuse_status = 0;

  /* No work modes on Braiins OS: refused before anything is sent. */
  r = request(AM_ACTION_WORK_MODE);
  r.mode = "normal";
  g_assert_false(act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);

  am_braiins_test_driver_close(&d);
  fake_stop(&f);
}

/* A firmware answering 404 to a write path (an older REST API). */
static void
test_module_rest_missing_path(void)
{
  FakeWrite f;
  fake_start(&f);
  f.missing = "/api/v1/pools/batch";
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  g_autoptr(AmMiner) miner = miner_for(&f, "secret");
  AmActionRequest r = request(AM_ACTION_POOLS);
  r.pools = two_pools;
  r.n_pools = 2;
  g_autoptr(GError) error = NULL;
  g_assert_false(act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "PUT /api/v1/pools/batch"));
  g_assert_cmpuint(f.writes, ==, 0);
  am_braiins_test_driver_close(&d);
  fake_stop(&f);
}

/* ---- the module over GraphQL ----------------------------------------------------- */

static void
test_module_graphql_writes(void)
{
  FakeWrite f;
  fake_start(&f);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, "[driver:braiins]\napi=graphql\n");
  g_autoptr(AmMiner) miner = miner_for(&f, "secret");
  g_assert_cmpuint(d.info->vtable.driver->actions(d.self, miner, NULL), ==, ALL_GRAPHQL);

  /* Wrong password first (a session, once made, is kept per address). */
  g_autoptr(AmMiner) wrong = miner_for(&f, "hunter2");
  AmActionRequest r = request(AM_ACTION_RESUME);
  g_autoptr(GError) error = NULL;
  g_assert_false(act(&d, wrong, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_nonnull(strstr(error->message, "\"root\""));
  g_assert_null(strstr(error->message, "hunter2"));
  g_assert_cmpuint(f.writes, ==, 0);
  g_clear_error(&error);

  r = request(AM_ACTION_LOCATE);
  r.on = TRUE;
  g_assert_true(act(&d, miner, &r, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(f.writes, ==, 1);
  g_assert_cmpstr(f.method, ==, "POST");
  g_autofree char *expected = am_braiins_gql_action(&r, NULL);
  g_assert_cmpstr(f.body, ==, expected);

  r = request(AM_ACTION_PAUSE);
  g_assert_true(act(&d, miner, &r, &error));
  g_assert_nonnull(strstr(f.body, "bosminer { stop"));

  f.refuse_status = 1;
  r = request(AM_ACTION_POWER_TARGET);
  r.watts = 900;
  g_assert_false(act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "Power target is out of range"));
  g_clear_error(&error);
  f.refuse_status = 0;

  r = request(AM_ACTION_RESTART);
  g_assert_false(act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);

  am_braiins_test_driver_close(&d);
  fake_stop(&f);
}

/* Over the read-only cgminer API: no actions, and a clear refusal. */
static void
test_module_rpc_none(void)
{
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, "[driver:braiins]\napi=rpc\n");
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(4028, 1000);
  g_assert_cmpuint(d.info->vtable.driver->actions(d.self, miner, NULL), ==, 0);
  AmActionRequest r = request(AM_ACTION_REBOOT);
  g_autoptr(GError) error = NULL;
  g_assert_false(act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "127.0.0.1:4028"));
  am_braiins_test_driver_close(&d);
}

void
am_braiins_action_tests_add(void)
{
  g_test_add_func("/braiins/action/rest-requests", test_rest_requests);
  g_test_add_func("/braiins/action/refused-requests", test_refused_requests);
  g_test_add_func("/braiins/action/graphql-requests", test_graphql_requests);
  g_test_add_func("/braiins/action/graphql-answers", test_graphql_answers);
  g_test_add_func("/braiins/action/actions-per-api", test_actions_per_api);
  g_test_add_func("/braiins/action/module-rest-writes", test_module_rest_writes);
  g_test_add_func("/braiins/action/module-rest-refusals", test_module_rest_refusals);
  g_test_add_func("/braiins/action/module-rest-missing-path", test_module_rest_missing_path);
  g_test_add_func("/braiins/action/module-graphql-writes", test_module_graphql_writes);
  g_test_add_func("/braiins/action/module-rpc-none", test_module_rpc_none);
}
