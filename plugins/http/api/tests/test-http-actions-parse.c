/* The control plane's request checks, without a server: the bodies each
 * action takes and every way one can be wrong, the content type and Origin
 * checks that stop a page elsewhere, the fleet's selection, and the HTTP
 * status of each core error. */
#include "am-http-actions-parse.h"
#include "am-http-test-fleet.h"

#include <string.h>

/* ---- bodies that parse ------------------------------------------------------------ */

static void
parse_ok(const char *text, gboolean fleet, AmHttpActionBody *out)
{
  AmHttpBodyProblem problem;
  g_autoptr(GError) error = NULL;
  if (!am_http_action_body_parse(text, strlen(text), fleet, out, &problem, &error))
    g_error("%s: %s", text, error->message);
}

static void
test_simple_actions(void)
{
  static const struct {
    const char *body;
    AmActionKind kind;
  } cases[] = {
      {"{\"action\":\"reboot\"}", AM_ACTION_REBOOT},
      {"{\"action\":\"restart\"}", AM_ACTION_RESTART},
      {"{\"action\":\"pause\"}", AM_ACTION_PAUSE},
      {" {\"action\" : \"resume\"} \n", AM_ACTION_RESUME},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    AmHttpActionBody b;
    parse_ok(cases[i].body, FALSE, &b);
    g_assert_cmpint(b.request.kind, ==, cases[i].kind);
    g_assert_cmpuint(b.request.struct_size, ==, sizeof(AmActionRequest));
    g_assert_cmpuint(b.request.n_pools, ==, 0);
    am_http_action_body_clear(&b);
  }
}

static void
test_parameters(void)
{
  AmHttpActionBody b;
  parse_ok("{\"action\":\"power_target\",\"watts\":3000}", FALSE, &b);
  g_assert_cmpint(b.request.kind, ==, AM_ACTION_POWER_TARGET);
  g_assert_cmpuint(b.request.watts, ==, 3000);
  am_http_action_body_clear(&b);

  parse_ok("{\"mode\":\"low\",\"action\":\"work_mode\"}", FALSE, &b);
  g_assert_cmpint(b.request.kind, ==, AM_ACTION_WORK_MODE);
  g_assert_cmpstr(b.request.mode, ==, "low");
  am_http_action_body_clear(&b);

  parse_ok("{\"action\":\"locate\",\"on\":true}", FALSE, &b);
  g_assert_true(b.request.on);
  am_http_action_body_clear(&b);
  parse_ok("{\"action\":\"locate\",\"on\":false}", FALSE, &b);
  g_assert_cmpint(b.request.kind, ==, AM_ACTION_LOCATE);
  g_assert_false(b.request.on);
  am_http_action_body_clear(&b);

  parse_ok("{\"action\":\"pools\",\"pools\":[{\"url\":\"stratum+tcp://a:3333\",\"user\":\"w.1\","
           "\"password\":\"x\"},{\"url\":\"stratum+tcp://b:3333\",\"user\":\"w.2\"}]}",
           FALSE, &b);
  g_assert_cmpint(b.request.kind, ==, AM_ACTION_POOLS);
  g_assert_cmpuint(b.request.n_pools, ==, 2);
  g_assert_cmpstr(b.request.pools[0].url, ==, "stratum+tcp://a:3333");
  g_assert_cmpstr(b.request.pools[0].user, ==, "w.1");
  g_assert_cmpstr(b.request.pools[0].password, ==, "x");
  g_assert_cmpstr(b.request.pools[1].user, ==, "w.2");
  g_assert_null(b.request.pools[1].password);
  am_http_action_body_clear(&b);
}

static void
test_fleet_members(void)
{
  AmHttpActionBody b;
  parse_ok("{\"action\":\"pause\",\"hosts\":[\"10.0.0.9\",\"rack-10\"],\"model\":\"S19\","
           "\"state\":\"online,paused\",\"q\":\"rack\",\"batch\":2,\"interval\":\"30s\","
           "\"dry_run\":true}",
           TRUE, &b);
  g_assert_cmpuint(g_strv_length(b.hosts), ==, 2);
  g_assert_cmpstr(b.hosts[1], ==, "rack-10");
  g_assert_cmpstr(b.model, ==, "S19");
  g_assert_cmpstr(b.q, ==, "rack");
  g_assert_cmpuint(b.states, ==, (1u << AM_HTTP_STATE_ONLINE) | (1u << AM_HTTP_STATE_PAUSED));
  g_assert_cmpuint(b.batch, ==, 2);
  g_assert_cmpuint(b.interval_ms, ==, 30000);
  g_assert_true(b.dry_run);
  am_http_action_body_clear(&b);

  /* Defaults: everything at once, for real; an interval in seconds. */
  parse_ok("{\"action\":\"reboot\",\"interval\":5}", TRUE, &b);
  g_assert_null(b.hosts);
  g_assert_cmpuint(b.batch, ==, 0);
  g_assert_cmpuint(b.interval_ms, ==, 5000);
  g_assert_false(b.dry_run);
  am_http_action_body_clear(&b);
}

/* ---- bodies that do not ------------------------------------------------------------- */

typedef struct {
  const char *body;
  AmHttpBodyProblem problem;
  const char *says; /* in the message */
} BadBody;

static void
assert_refused(const BadBody *c, gboolean fleet)
{
  AmHttpActionBody b;
  AmHttpBodyProblem problem = (AmHttpBodyProblem)-1;
  g_autoptr(GError) error = NULL;
  gsize len = c->body != NULL ? strlen(c->body) : 0;
  if (am_http_action_body_parse(c->body != NULL ? c->body : "", len, fleet, &b, &problem, &error))
    g_error("accepted %s", c->body);
  g_assert_nonnull(error);
  if (problem != c->problem)
    g_error("%s: problem %d, expected %d (%s)", c->body, problem, c->problem, error->message);
  if (strstr(error->message, c->says) == NULL)
    g_error("%s: message '%s' does not say '%s'", c->body, error->message, c->says);
}

static void
test_bad_bodies(void)
{
  static const BadBody cases[] = {
      {NULL, AM_HTTP_BODY_INVALID, "empty"},
      {"{\"action\":", AM_HTTP_BODY_INVALID, "not valid JSON"},
      {"action=pause", AM_HTTP_BODY_INVALID, "not valid JSON"},
      {"[\"pause\"]", AM_HTTP_BODY_INVALID, "JSON object"},
      {"\"pause\"", AM_HTTP_BODY_INVALID, "JSON object"},
      {"{}", AM_HTTP_BODY_INVALID, "action: missing"},
      {"{\"action\":3}", AM_HTTP_BODY_INVALID, "action: missing"},
      {"{\"action\":\"explode\"}", AM_HTTP_BODY_UNKNOWN_ACTION, "unknown action \"explode\""},
      {"{\"action\":\"none\"}", AM_HTTP_BODY_UNKNOWN_ACTION, "unknown action"},
      {"{\"action\":\"pause\",\"watts\":3}", AM_HTTP_BODY_INVALID, "watts: unknown member"},
      {"{\"action\":\"power_target\",\"wats\":3000}", AM_HTTP_BODY_BAD_PARAMETER, "watts:"},
      {"{\"action\":\"power_target\",\"watts\":3000,\"wats\":1}", AM_HTTP_BODY_INVALID,
       "wats: unknown member"},
      /* Fleet members on a single miner's request. */
      {"{\"action\":\"pause\",\"hosts\":[\"a\"]}", AM_HTTP_BODY_INVALID, "hosts: unknown member"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    assert_refused(&cases[i], FALSE);
}

static void
test_bad_parameters(void)
{
  static const BadBody cases[] = {
      {"{\"action\":\"power_target\"}", AM_HTTP_BODY_BAD_PARAMETER, "watts: expected a positive"},
      {"{\"action\":\"power_target\",\"watts\":0}", AM_HTTP_BODY_BAD_PARAMETER, "watts"},
      {"{\"action\":\"power_target\",\"watts\":-5}", AM_HTTP_BODY_BAD_PARAMETER, "watts"},
      {"{\"action\":\"power_target\",\"watts\":3000.5}", AM_HTTP_BODY_BAD_PARAMETER, "watts"},
      {"{\"action\":\"power_target\",\"watts\":\"3000\"}", AM_HTTP_BODY_BAD_PARAMETER, "watts"},
      {"{\"action\":\"power_target\",\"watts\":99999999999}", AM_HTTP_BODY_BAD_PARAMETER, "watts"},
      {"{\"action\":\"work_mode\"}", AM_HTTP_BODY_BAD_PARAMETER, "mode: expected \"low\""},
      {"{\"action\":\"work_mode\",\"mode\":\"turbo\"}", AM_HTTP_BODY_BAD_PARAMETER, "mode:"},
      {"{\"action\":\"work_mode\",\"mode\":\"LOW\"}", AM_HTTP_BODY_BAD_PARAMETER, "mode:"},
      {"{\"action\":\"locate\"}", AM_HTTP_BODY_BAD_PARAMETER, "on: expected true"},
      {"{\"action\":\"locate\",\"on\":\"yes\"}", AM_HTTP_BODY_BAD_PARAMETER, "on:"},
      {"{\"action\":\"pools\"}", AM_HTTP_BODY_BAD_PARAMETER, "pools: expected a list of 1 to 3"},
      {"{\"action\":\"pools\",\"pools\":[]}", AM_HTTP_BODY_BAD_PARAMETER, "1 to 3"},
      {"{\"action\":\"pools\",\"pools\":[{\"url\":\"a\",\"user\":\"b\"},{\"url\":\"a\",\"user\":"
       "\"b\"},{\"url\":\"a\",\"user\":\"b\"},{\"url\":\"a\",\"user\":\"b\"}]}",
       AM_HTTP_BODY_BAD_PARAMETER, "1 to 3"},
      {"{\"action\":\"pools\",\"pools\":[\"stratum+tcp://a:3333\"]}", AM_HTTP_BODY_BAD_PARAMETER,
       "pools[0]: expected an object"},
      {"{\"action\":\"pools\",\"pools\":[{\"url\":\"a\"}]}", AM_HTTP_BODY_BAD_PARAMETER,
       "pools[0]: needs a url and a user"},
      {"{\"action\":\"pools\",\"pools\":[{\"url\":\"a\",\"user\":\"\"}]}",
       AM_HTTP_BODY_BAD_PARAMETER, "pools[0].user: expected a string"},
      {"{\"action\":\"pools\",\"pools\":[{\"url\":\"a\",\"user\":\"b\",\"pass\":\"c\"}]}",
       AM_HTTP_BODY_BAD_PARAMETER, "pools[0].pass: unknown member"},
      {"{\"action\":\"pools\",\"pools\":[{\"url\":\"a\",\"user\":\"b\"},{\"url\":1,\"user\":"
       "\"b\"}]}",
       AM_HTTP_BODY_BAD_PARAMETER, "pools[1].url"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    assert_refused(&cases[i], FALSE);
}

static void
test_bad_fleet_members(void)
{
  static const BadBody cases[] = {
      {"{\"action\":\"pause\",\"hosts\":[]}", AM_HTTP_BODY_BAD_PARAMETER, "hosts: expected"},
      {"{\"action\":\"pause\",\"hosts\":\"10.0.0.9\"}", AM_HTTP_BODY_BAD_PARAMETER, "hosts:"},
      {"{\"action\":\"pause\",\"hosts\":[\"a b\"]}", AM_HTTP_BODY_BAD_PARAMETER, "hosts[0]"},
      {"{\"action\":\"pause\",\"hosts\":[\"a\",7]}", AM_HTTP_BODY_BAD_PARAMETER, "hosts[1]"},
      {"{\"action\":\"pause\",\"state\":\"asleep\"}", AM_HTTP_BODY_BAD_PARAMETER, "paused"},
      {"{\"action\":\"pause\",\"model\":\"\"}", AM_HTTP_BODY_BAD_PARAMETER, "model:"},
      {"{\"action\":\"pause\",\"batch\":0}", AM_HTTP_BODY_BAD_PARAMETER, "batch:"},
      {"{\"action\":\"pause\",\"batch\":\"5\"}", AM_HTTP_BODY_BAD_PARAMETER, "batch:"},
      {"{\"action\":\"pause\",\"interval\":\"soon\"}", AM_HTTP_BODY_BAD_PARAMETER, "interval:"},
      {"{\"action\":\"pause\",\"interval\":-1}", AM_HTTP_BODY_BAD_PARAMETER, "interval:"},
      {"{\"action\":\"pause\",\"interval\":\"2d\"}", AM_HTTP_BODY_BAD_PARAMETER, "interval:"},
      {"{\"action\":\"pause\",\"dry_run\":1}", AM_HTTP_BODY_BAD_PARAMETER, "dry_run:"},
      {"{\"action\":\"pause\",\"hots\":[\"a\"]}", AM_HTTP_BODY_INVALID, "hots: unknown member"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    assert_refused(&cases[i], TRUE);
}

static void
test_problem_codes(void)
{
  g_assert_cmpstr(am_http_body_problem_code(AM_HTTP_BODY_INVALID), ==, "invalid_body");
  g_assert_cmpstr(am_http_body_problem_code(AM_HTTP_BODY_UNKNOWN_ACTION), ==, "unknown_action");
  g_assert_cmpstr(am_http_body_problem_code(AM_HTTP_BODY_BAD_PARAMETER), ==, "invalid_parameter");
}

/* ---- cross-site checks ---------------------------------------------------------------- */

static void
test_content_type(void)
{
  g_assert_true(am_http_content_type_is_json("application/json"));
  g_assert_true(am_http_content_type_is_json("Application/JSON; charset=utf-8"));
  g_assert_true(am_http_content_type_is_json("application/json ;charset=UTF-8"));
  /* What a form or fetch() without preflight can send. */
  g_assert_false(am_http_content_type_is_json(NULL));
  g_assert_false(am_http_content_type_is_json("application/x-www-form-urlencoded"));
  g_assert_false(am_http_content_type_is_json("multipart/form-data; boundary=x"));
  g_assert_false(am_http_content_type_is_json("text/plain"));
  g_assert_false(am_http_content_type_is_json("application/jsonx"));
  g_assert_false(am_http_content_type_is_json("text/plain; application/json"));
}

static void
test_origin(void)
{
  g_assert_true(am_http_origin_allowed(NULL, "http", "127.0.0.1:8080"));
  g_assert_true(am_http_origin_allowed("http://127.0.0.1:8080", "http", "127.0.0.1:8080"));
  g_assert_true(
      am_http_origin_allowed("HTTP://Miners.Example:8080", "http", "miners.example:8080"));
  g_assert_false(am_http_origin_allowed("http://evil.example", "http", "127.0.0.1:8080"));
  g_assert_false(am_http_origin_allowed("http://127.0.0.1:9090", "http", "127.0.0.1:8080"));
  g_assert_false(am_http_origin_allowed("https://127.0.0.1:8080", "http", "127.0.0.1:8080"));
  g_assert_false(am_http_origin_allowed("http://127.0.0.1:8080.evil", "http", "127.0.0.1:8080"));
  /* Sandboxed frames and file: pages send "null". */
  g_assert_false(am_http_origin_allowed("null", "http", "127.0.0.1:8080"));
  g_assert_false(am_http_origin_allowed("http://127.0.0.1:8080", "http", NULL));
}

/* ---- the fleet's selection -------------------------------------------------------------- */

static const AmTestMinerSpec fleet_spec[] = {
    {"10.0.0.9:4028", "rack-9", "online", "Antminer S19 Pro", NULL, 110, 110, 3250, 70, 5},
    {"10.0.0.10:4028", "rack-10", "paused", "Antminer S19 Pro", NULL, 0, 110, 160, 40, 5},
    {"10.0.0.2:4028", "rack-2", "offline", "Antminer S9", NULL, 13.5, 13.5, 1320, 95, 600},
    {"10.0.0.3:4028", "ltc", "online", "Antminer L3+", "scrypt", 0.0005, 0.0005, 800, 60, 3},
};

static char *
select_text(const char *body_text)
{
  g_autoptr(GPtrArray) miners = g_ptr_array_new_with_free_func((GDestroyNotify)am_http_miner_free);
  for (guint i = 0; i < G_N_ELEMENTS(fleet_spec); i++)
    g_ptr_array_add(miners, am_test_miner(&fleet_spec[i]));
  AmHttpActionBody b;
  parse_ok(body_text, TRUE, &b);
  g_autoptr(GPtrArray) keys = g_ptr_array_new();
  g_autoptr(GError) error = NULL;
  gboolean ok = am_http_fleet_select(miners, &b, keys, &error);
  am_http_action_body_clear(&b);
  if (!ok)
    return g_strconcat("error: ", error->message, NULL);
  g_ptr_array_add(keys, NULL);
  return g_strjoinv(" ", (char **)keys->pdata);
}

static void
assert_selects(const char *body, const char *expected)
{
  g_autofree char *got = select_text(body);
  gboolean ok = g_str_has_prefix(expected, "error: ") ? g_str_has_prefix(got, expected)
                                                      : g_str_equal(got, expected);
  if (!ok)
    g_error("%s: expected '%s', got '%s'", body, expected, got);
}

static void
test_fleet_select(void)
{
  assert_selects("{\"action\":\"pause\"}",
                 "10.0.0.9:4028 10.0.0.10:4028 10.0.0.2:4028 10.0.0.3:4028");
  assert_selects("{\"action\":\"resume\",\"state\":\"paused\"}", "10.0.0.10:4028");
  assert_selects("{\"action\":\"pause\",\"model\":\"s19\"}", "10.0.0.9:4028 10.0.0.10:4028");
  assert_selects("{\"action\":\"pause\",\"model\":\"s19\",\"state\":\"online\"}", "10.0.0.9:4028");
  assert_selects("{\"action\":\"pause\",\"q\":\"ltc\"}", "10.0.0.3:4028");
  /* hosts by address, host or name; combined with the filters. */
  assert_selects("{\"action\":\"pause\",\"hosts\":[\"10.0.0.2\",\"rack-9\",\"10.0.0.3:4028\"]}",
                 "10.0.0.9:4028 10.0.0.2:4028 10.0.0.3:4028");
  assert_selects("{\"action\":\"pause\",\"hosts\":[\"10.0.0.2\",\"rack-9\"],\"state\":\"online\"}",
                 "10.0.0.9:4028");
  assert_selects("{\"action\":\"pause\",\"hosts\":[\"rack-9\",\"10.9.9.9\"]}",
                 "error: hosts: no miner 10.9.9.9");
  assert_selects("{\"action\":\"pause\",\"model\":\"Whatsminer\"}", "error: no miner matches");
  assert_selects("{\"action\":\"pause\",\"hosts\":[\"rack-2\"],\"state\":\"online\"}",
                 "error: no miner matches");
}

/* ---- errors and secrets ---------------------------------------------------------------- */

static void
test_error_status(void)
{
  static const struct {
    int code;
    guint status;
    const char *name;
  } cases[] = {
      {AM_ERROR_NOT_FOUND, 404, "not_found"},
      {AM_ERROR_UNSUPPORTED, 409, "unsupported"},
      {AM_ERROR_BUSY, 429, "busy"},
      {AM_ERROR_CONFIG, 400, "invalid_parameter"},
      {AM_ERROR_TIMEOUT, 502, "action_failed"},
      {AM_ERROR_AUTH, 502, "action_failed"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = g_error_new_literal(AM_ERROR, cases[i].code, "x");
    const char *code = NULL;
    g_assert_cmpuint(am_http_action_error_status(error, &code), ==, cases[i].status);
    g_assert_cmpstr(code, ==, cases[i].name);
  }
}

static void
test_retry_after(void)
{
  g_assert_cmpuint(am_http_retry_after_s("127.0.0.1:4028 was acted on less than 10 s ago "
                                         "(min_interval in [actions]): try again in 7 s"),
                   ==, 7);
  g_assert_cmpuint(am_http_retry_after_s("x: try again in 0 s"), ==, 1);
  g_assert_cmpuint(am_http_retry_after_s("x: action a-3 (pause) is still being sent"), ==, 0);
  g_assert_cmpuint(am_http_retry_after_s("try again in soon"), ==, 0);
  g_assert_cmpuint(am_http_retry_after_s("try again in 5 minutes"), ==, 0);
  g_assert_cmpuint(am_http_retry_after_s(NULL), ==, 0);
}

static void
test_named_tokens(void)
{
  g_autoptr(GPtrArray) tokens = am_http_named_tokens_parse(
      "# who  token\nalice  tok-alice-1\n\n  bob\ttok-bob-2  \n", "tokens", NULL);
  g_assert_nonnull(tokens);
  g_assert_cmpuint(tokens->len, ==, 2);
  AmHttpNamedToken *bob = tokens->pdata[1];
  g_assert_cmpstr(bob->name, ==, "bob");
  g_assert_cmpstr(bob->token, ==, "tok-bob-2");
  g_autoptr(GPtrArray) empty = am_http_named_tokens_parse("", "tokens", NULL);
  g_assert_cmpuint(empty->len, ==, 0);

  static const struct {
    const char *text;
    const char *says;
  } bad[] = {
      {"alice\n", "tokens line 1: expected NAME TOKEN"},
      {"alice tok extra\n", "tokens line 1: expected NAME TOKEN"},
      {"ok tok-1\nal\"ice tok-2\n", "tokens line 2"},
      {"alice tok-1\nalice tok-2\n", "tokens line 2: the name alice or its token is already"},
      {"alice tok-1\nbob tok-1\n", "tokens line 2: the name bob"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(am_http_named_tokens_parse(bad[i].text, "tokens", &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    if (strstr(error->message, bad[i].says) == NULL)
      g_error("'%s': message '%s' does not say '%s'", bad[i].text, error->message, bad[i].says);
    /* The token itself is never repeated in a message. */
    g_assert_null(strstr(error->message, "tok-"));
  }
  g_assert_true(am_http_token_name_is_valid("ops-team_2"));
  g_assert_false(am_http_token_name_is_valid(""));
  g_assert_false(am_http_token_name_is_valid("two words"));
  g_assert_false(am_http_token_name_is_valid("quo\"te"));
}

static void
test_scrub(void)
{
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(
      p,
      "{\"id\":\"a-1\",\"params\":{\"pools\":[{\"url\":\"u\",\"user\":\"w\",\"password\":"
      "\"secret\"}]},\"miners\":[{\"password\":\"s2\",\"miner\":\"m\"}]}",
      -1, NULL));
  am_http_action_scrub(json_parser_get_root(p));
  g_autofree char *text = json_to_string(json_parser_get_root(p), FALSE);
  g_assert_null(strstr(text, "secret"));
  g_assert_null(strstr(text, "s2"));
  g_assert_null(strstr(text, "password"));
  g_assert_nonnull(strstr(text, "\"user\":\"w\""));
  g_assert_nonnull(strstr(text, "\"miner\":\"m\""));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/http-actions-parse/simple-actions", test_simple_actions);
  g_test_add_func("/http-actions-parse/parameters", test_parameters);
  g_test_add_func("/http-actions-parse/fleet-members", test_fleet_members);
  g_test_add_func("/http-actions-parse/bad-bodies", test_bad_bodies);
  g_test_add_func("/http-actions-parse/bad-parameters", test_bad_parameters);
  g_test_add_func("/http-actions-parse/bad-fleet-members", test_bad_fleet_members);
  g_test_add_func("/http-actions-parse/problem-codes", test_problem_codes);
  g_test_add_func("/http-actions-parse/content-type", test_content_type);
  g_test_add_func("/http-actions-parse/origin", test_origin);
  g_test_add_func("/http-actions-parse/fleet-select", test_fleet_select);
  g_test_add_func("/http-actions-parse/error-status", test_error_status);
  g_test_add_func("/http-actions-parse/retry-after", test_retry_after);
  g_test_add_func("/http-actions-parse/named-tokens", test_named_tokens);
  g_test_add_func("/http-actions-parse/scrub", test_scrub);
  return g_test_run();
}
