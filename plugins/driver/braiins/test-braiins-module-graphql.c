/* The built driver-braiins.so against a fake Braiins OS 24.09/25.05 on
 * 127.0.0.1: a SoupServer with no REST API (/api/v1 answers 404) whose
 * POST /graphql does the login as the firmware does (the auth.login
 * mutation with user and password as variables sets the session_id
 * cookie; wrong credentials get an AuthError) and answers the queries with
 * the recorded replies only when the cookie is the session's. */
#include "../common/am-driver-test-util.h"
#include "am-test-util.h"
#include "test-braiins.h"

#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *version;  /* fixture prefix: "v24_09" or "v25_05" */
  const char *password; /* the one the fake accepts for "root" */
  const char *fail;     /* a fixture name ("gql_events") answered with HTTP 500 */
  gboolean hang;
  char *session; /* the valid one; NULL until a login */
  guint logins, refused_logins, refused_queries, queries, rest_requests;
  gboolean serials_asked;
  GPtrArray *paused;
} FakeGql;

static void
respond_json(SoupServerMessage *msg, const char *text)
{
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text, strlen(text));
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
serve_login(FakeGql *gql, SoupServerMessage *msg, JsonObject *request)
{
  JsonObject *vars = json_object_get_object_member(request, "variables");
  const char *user =
      vars != NULL ? json_object_get_string_member_with_default(vars, "username", "") : "";
  const char *pass =
      vars != NULL ? json_object_get_string_member_with_default(vars, "password", "") : "";
  if (!g_str_equal(user, "root") || !g_str_equal(pass, gql->password)) {
    gql->refused_logins++;
    respond_json(msg, "{\"data\":{\"auth\":{\"login\":{\"message\":\"Invalid username or "
                      "password\"}}}}");
    return;
  }
  gql->logins++;
  g_free(gql->session);
  gql->session = g_strdup_printf("s%u", gql->logins);
  g_autofree char *cookie = g_strdup_printf("session_id=%s; Path=/; HttpOnly", gql->session);
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
  respond_json(msg, "{\"data\":{\"auth\":{\"login\":{\"void\":null}}}}");
}

static gboolean
has_session(FakeGql *gql, SoupServerMessage *msg)
{
  const char *header =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Cookie");
  if (header == NULL || gql->session == NULL)
    return FALSE;
  g_autofree char *expected = g_strdup_printf("session_id=%s", gql->session);
  return g_str_equal(header, expected);
}

/* Which recorded answer a query asks for, by a field only it selects. */
static const char *
fixture_for(const char *query)
{
  static const struct {
    const char *field, *fixture;
  } by_field[] = {{"faultLight", "gql_system"}, {"childSolvers", "gql_boards"},
                  {"poolGroups", "gql_pools"},  {"autotuning", "gql_tuning"},
                  {"appeals", "gql_events"},    {"modelName", "model"}};
  for (guint i = 0; i < G_N_ELEMENTS(by_field); i++)
    if (strstr(query, by_field[i].field) != NULL)
      return by_field[i].fixture;
  return NULL;
}

static void
serve_query(FakeGql *gql, SoupServerMessage *msg, const char *query)
{
  if (!has_session(gql, msg)) {
    gql->refused_queries++;
    respond_json(msg, "{\"data\":null,\"errors\":[{\"message\":\"Unauthorized\"}]}");
    return;
  }
  gql->queries++;
  const char *fixture = fixture_for(query);
  if (g_strcmp0(fixture, gql->fail) == 0) {
    soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
    return;
  }
  if (strstr(query, "hbSerialNumber") != NULL) {
    gql->serials_asked = TRUE;
    /* HAND-MADE: before 25.03 the schema has no such field, and a GraphQL
     * server rejects the whole query. */
    if (!g_str_equal(gql->version, "v25_05")) {
      respond_json(msg, "{\"data\":null,\"errors\":[{\"message\":\"Unknown field "
                        "\\\"hbSerialNumber\\\" on type \\\"HwDetails\\\"\"}]}");
      return;
    }
  }
  if (g_strcmp0(fixture, "model") == 0) {
    /* HAND-MADE: asic-rs recorded no answer to the model query. */
    respond_json(msg, "{\"data\":{\"bosminer\":{\"info\":{\"modelName\":\"Antminer S19j "
                      "Pro\"}}}}");
    return;
  }
  g_autofree char *rel = g_strdup_printf("braiins-graphql/asicrs-%s_%s.json", gql->version,
                                         fixture != NULL ? fixture : "none");
  g_autofree char *full = g_build_filename("fixtures", rel, NULL);
  g_autofree char *on_disk = am_test_path(full);
  if (!g_file_test(on_disk, G_FILE_TEST_EXISTS)) {
    respond_json(msg, "{\"data\":null,\"errors\":[{\"message\":\"not recorded\"}]}");
    return;
  }
  g_autoptr(GBytes) bytes = am_braiins_test_fixture(rel);
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, data, len);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *params,
      gpointer user_data)
{
  FakeGql *gql = user_data;
  if (gql->hang) {
    soup_server_message_pause(msg);
    g_ptr_array_add(gql->paused, g_object_ref(msg));
    return;
  }
  if (g_str_has_prefix(path, "/api/v1/"))
    gql->rest_requests++;
  if (!g_str_equal(path, "/graphql") ||
      !g_str_equal(soup_server_message_get_method(msg), SOUP_METHOD_POST)) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autoptr(JsonNode) root = json_from_string(body->data, NULL);
  JsonObject *request =
      root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  const char *query =
      request != NULL ? json_object_get_string_member_with_default(request, "query", "") : "";
  if (strstr(query, "auth { login(") != NULL)
    serve_login(gql, msg, request);
  else
    serve_query(gql, msg, query);
}

static void
fake_gql_start(FakeGql *gql, const char *version)
{
  *gql = (FakeGql){
      .version = version, .password = "", .paused = g_ptr_array_new_with_free_func(g_object_unref)};
  gql->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(gql->server, NULL, serve, gql, NULL);
  gql->port = am_test_soup_listen_loopback(gql->server);
}

static void
fake_gql_stop(FakeGql *gql)
{
  am_test_soup_stop(gql->server, gql->paused);
  g_free(gql->session);
}

/* What the recorded 25.05 answers give (see test-braiins-graphql.c for
 * every field): enough to tell it came through whole. */
static void
assert_v25_05(AmSample *s)
{
  g_assert_cmpstr(s->firmware, ==, "Braiins OS+");
  g_assert_cmpstr(s->firmware_version, ==, "2025-06-25-0-45f356ea-25.05.1-plus");
  g_assert_cmpstr(s->model, ==, "Antminer S19j Pro");
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 205749605.59787723 / 1e6, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->power_w, 3698, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->power_limit_w, 3878, 1e-9);
  g_assert_cmpuint(s->chains->len, ==, 3);
  g_assert_cmpstr(s->chain_serials->pdata[2], ==, "NGSBYT0BEJCJD074C");
  g_assert_cmpuint(s->fans_rpm->len, ==, 4);
  g_assert_cmpuint(s->pools->len, ==, 3);
}

/* api=graphql: one login with the empty factory password after the
 * configured "root" is refused; six queries with the cookie; the next poll
 * reuses the session. The raw view has every query, never the login. */
static void
test_graphql_poll(void)
{
  FakeGql gql;
  fake_gql_start(&gql, "v25_05");
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(gql.port, 5000);
  g_autoptr(JsonNode) before = am_miner_raw_to_json(miner); /* keeps the next bodies */
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, "[driver:braiins]\napi=graphql\n");
  for (guint poll = 0; poll < 2; poll++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
    g_assert_no_error(error);
    assert_v25_05(s);
    g_assert_false(s->partial);
  }
  g_assert_cmpuint(gql.logins, ==, 1);
  g_assert_cmpuint(gql.refused_logins, ==, 1); /* "root", once */
  g_assert_cmpuint(gql.refused_queries, ==, 0);
  g_assert_cmpuint(gql.queries, ==, 2 * 6);
  g_assert_cmpuint(gql.rest_requests, ==, 0);
  g_assert_true(gql.serials_asked);
  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  JsonObject *views = json_node_get_object(raw);
  g_assert_true(json_object_has_member(views, "graphql/system"));
  g_assert_true(json_object_has_member(views, "graphql/events"));
  g_assert_cmpuint(json_object_get_size(views), ==, 6);
  am_braiins_test_driver_close(&d);
  fake_gql_stop(&gql);
}

/* api=auto on a web port without REST (404 to its login): GraphQL, and
 * the next poll goes straight there. The session expires on the miner:
 * one refused query, one new login, with the empty password first. */
static void
test_auto_to_graphql(void)
{
  FakeGql gql;
  fake_gql_start(&gql, "v25_05");
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(gql.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) first = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  assert_v25_05(first);
  g_assert_cmpuint(gql.rest_requests, ==, 1);
  g_assert_cmpuint(gql.refused_logins, ==, 1);
  /* Found to answer GraphQL: its actions, not REST's (no restart, pools). */
  AmActionSet set = d.info->vtable.driver->actions(d.self, miner, first);
  g_assert_true(set & AM_ACTION_BIT(AM_ACTION_POWER_TARGET));
  g_assert_false(set & AM_ACTION_BIT(AM_ACTION_RESTART));
  g_assert_false(set & AM_ACTION_BIT(AM_ACTION_POOLS));

  g_clear_pointer(&gql.session, g_free);
  gql.session = g_strdup("rotated");
  g_autoptr(AmSample) second = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  assert_v25_05(second);
  g_assert_false(second->partial);
  g_assert_cmpuint(gql.rest_requests, ==, 1);
  g_assert_cmpuint(gql.refused_queries, ==, 1);
  g_assert_cmpuint(gql.logins, ==, 2);
  g_assert_cmpuint(gql.refused_logins, ==, 1);
  am_braiins_test_driver_close(&d);
  fake_gql_stop(&gql);
}

/* Wrong credentials: a clear AUTH error naming the user, never the
 * password; both passwords tried, no query sent. [miner:NAME]
 * credentials win over the driver's. */
static void
test_graphql_wrong_password(void)
{
  FakeGql gql;
  fake_gql_start(&gql, "v25_05");
  gql.password = "the-real-one";
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(gql.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, "[driver:braiins]\npassword=not-this-one\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_autofree char *expected = g_strdup_printf(
      "127.0.0.1:%u: wrong user or password for the Braiins OS GraphQL API (login refused at "
      "/graphql for user \"root\"; tried the configured password and the empty one)",
      gql.port);
  g_assert_cmpstr(error->message, ==, expected);
  g_assert_null(strstr(error->message, "not-this-one"));
  g_assert_cmpuint(gql.refused_logins, ==, 2);
  g_assert_cmpuint(gql.queries + gql.refused_queries, ==, 0);

  g_clear_error(&error);
  am_miner_set_credentials(miner, "root", "the-real-one");
  g_autoptr(AmSample) ok = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  assert_v25_05(ok);
  am_braiins_test_driver_close(&d);
  fake_gql_stop(&gql);
}

/* One query failing: the rest is returned, marked partial, naming it. */
static void
test_graphql_partial(void)
{
  FakeGql gql;
  fake_gql_start(&gql, "v25_05");
  gql.fail = "gql_tuning";
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(gql.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, "[driver:braiins]\napi=graphql\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  g_assert_true(s->partial);
  g_assert_null(s->work_mode);
  g_assert_cmpfloat_with_epsilon(s->power_limit_w, 3878, 1e-9); /* the system answer's */
  g_assert_cmpuint(s->chains->len, ==, 3);
  g_assert_cmpuint(s->problems->len, ==, 1);
  g_autofree char *problem = g_strdup_printf(
      "GraphQL tuning: 127.0.0.1:%u: HTTP 500 Internal Server Error from POST /graphql", gql.port);
  g_assert_cmpstr(s->problems->pdata[0], ==, problem);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  am_braiins_test_driver_close(&d);
  fake_gql_stop(&gql);
}

/* BOS 24.09 has no board serials: the boards query does not ask for them
 * (the fake rejects it if it does), so nothing is partial. */
static void
test_graphql_before_serials(void)
{
  FakeGql gql;
  fake_gql_start(&gql, "v24_09");
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(gql.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, "[driver:braiins]\napi=graphql\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_no_error(error);
  g_assert_false(gql.serials_asked);
  g_assert_false(s->partial);
  g_assert_cmpstr(s->hostname, ==, "IC078");
  g_assert_cmpuint(s->chains->len, ==, 3);
  g_assert_null(s->chain_serials->pdata[0]);
  g_assert_cmpfloat_with_epsilon(g_array_index(s->chains, AmChain, 0).frequency_mhz, 582.535867,
                                 1e-9);
  am_braiins_test_driver_close(&d);
  fake_gql_stop(&gql);
}

/* A web server that never answers: api=graphql ends with a timeout naming
 * the path. */
static void
test_graphql_hang(void)
{
  FakeGql gql;
  fake_gql_start(&gql, "v25_05");
  gql.hang = TRUE;
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(gql.port, 5000);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, "[driver:braiins]\napi=graphql\ntimeout=300ms\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: timed out after 0.3 s (POST /graphql)", gql.port);
  g_assert_cmpstr(error->message, ==, expected);
  am_braiins_test_driver_close(&d);
  fake_gql_stop(&gql);
}

/* api=graphql on a port without it: a clear UNSUPPORTED, no fallback. */
static void
test_graphql_absent(void)
{
  FakeGql gql;
  fake_gql_start(&gql, "v25_05");
  g_autoptr(AmMiner) miner = am_braiins_test_local_miner(gql.port, 5000);
  soup_server_remove_handler(gql.server, NULL);
  AmBraiinsTestDriver d;
  am_braiins_test_driver_open(&d, "[driver:braiins]\napi=graphql\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_braiins_test_driver_poll(&d, miner, &error);
  g_assert_null(s);
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_true(g_str_has_prefix(error->message, "127.0.0.1:"));
  g_assert_nonnull(strstr(error->message, "no Braiins OS GraphQL API"));
  am_braiins_test_driver_close(&d);
  fake_gql_stop(&gql);
}

void
am_braiins_module_graphql_tests_add(void)
{
  g_test_add_func("/braiins/module/graphql-poll", test_graphql_poll);
  g_test_add_func("/braiins/module/auto-to-graphql", test_auto_to_graphql);
  g_test_add_func("/braiins/module/graphql-wrong-password", test_graphql_wrong_password);
  g_test_add_func("/braiins/module/graphql-partial", test_graphql_partial);
  g_test_add_func("/braiins/module/graphql-before-serials", test_graphql_before_serials);
  g_test_add_func("/braiins/module/graphql-hang", test_graphql_hang);
  g_test_add_func("/braiins/module/graphql-absent", test_graphql_absent);
}
