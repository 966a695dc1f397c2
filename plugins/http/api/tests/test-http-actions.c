/* The control plane through the [http:api] plugin, in the real daemon,
 * acting on a fake fleet that keeps the state the writes change: the
 * token, the cross-site checks and every refusal a client can meet, then
 * a pause followed until the polls confirm it, the audit event it leaves,
 * and fleet actions dry and in batches. */
#include "am-http-test-daemon.h"
#include "am-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN "act-token-7f3a"
/* A second token, from action_tokens_file=, named "alice". */
#define ALICE_TOKEN "alice-token-51c9"
#define AUTH "Bearer " TOKEN
#define JSON "application/json"

/* ---- the fleet ---------------------------------------------------------------- */

/* Five Braiins OS 26.04 units (REST: pause, power target, locate, pools)
 * and a stock Antminer S19 Pro read over its RPC (restart and pools only),
 * on 127.87.1.x: their web servers listen on port 80 of those addresses,
 * their RPC on 4028 (the drivers reach the web port only from a miner
 * configured on the RPC's own port). */
static const struct {
  const char *profile;
  const char *name;
} fleet_spec[] = {
    {"braiins-rest-26", "bos-1"}, {"braiins-rest-26", "bos-2"}, {"braiins-rest-26", "bos-3"},
    {"braiins-rest-26", "bos-4"}, {"braiins-rest-26", "bos-5"}, {"antminer-s19pro-web", "stock-1"},
};
#define STOCK 5

static AmTestFleet *fleet;
static guint16 fleet_port;
static AmTestDaemon *daemon_;
static volatile pid_t fleet_pid;

/* The fleet is ended if an assertion aborts the test (the daemon dies with
 * its parent by itself). */
static void
on_abort(int sig)
{
  if (fleet_pid > 0)
    kill(fleet_pid, SIGTERM);
  signal(sig, SIG_DFL);
  raise(sig);
}

static char *
address_of(guint i)
{
  return g_strdup_printf("127.87.1.%u:%u", i + 1, fleet_port);
}

static char *
host_of(guint i)
{
  return g_strdup_printf("127.87.1.%u", i + 1);
}

static char *profiles_dir; /* the copies below */

/* Text of @text with every @from replaced by @to. (transfer full) */
static char *
replace_all(const char *text, const char *from, const char *to)
{
  g_auto(GStrv) parts = g_strsplit(text, from, -1);
  return g_strjoinv(to, parts);
}

/* A copy of the profile @name whose MAC and serial end in @n: the daemon
 * takes miners with one MAC for one miner at several addresses.
 * (transfer full) the copy's directory. */
static char *
copy_profile(const char *name, guint n)
{
  if (profiles_dir == NULL)
    profiles_dir = g_dir_make_tmp("antmon-actions-XXXXXX", NULL);
  g_autofree char *from = am_test_profile_dir(name);
  g_autofree char *leaf = g_strdup_printf("%s-%u", name, n);
  char *to = g_build_filename(profiles_dir, leaf, NULL);
  g_assert_cmpint(g_mkdir(to, 0700), ==, 0);
  g_autoptr(GDir) dir = g_dir_open(from, 0, NULL);
  g_assert_nonnull(dir);
  g_autofree char *mac = g_strdup_printf("02:8f:77:ec:e7:%02x", n);
  g_autofree char *serial = g_strdup_printf("OLTT335BCAJBE35%02u", n);
  const char *file;
  while ((file = g_dir_read_name(dir)) != NULL) {
    g_autofree char *in = g_build_filename(from, file, NULL);
    g_autofree char *out = g_build_filename(to, file, NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(in, &text, NULL, NULL));
    g_autofree char *one = replace_all(text, "02:8f:77:ec:e7:e0", mac);
    g_autofree char *two = replace_all(one, "OLTT335BCAJBE3545", serial);
    g_assert_true(g_file_set_contents(out, two, -1, NULL));
  }
  return to;
}

static void
remove_profiles(void)
{
  g_autoptr(GDir) dir = profiles_dir != NULL ? g_dir_open(profiles_dir, 0, NULL) : NULL;
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *sub = g_build_filename(profiles_dir, name, NULL);
    g_autoptr(GDir) files = g_dir_open(sub, 0, NULL);
    const char *file;
    while (files != NULL && (file = g_dir_read_name(files)) != NULL) {
      g_autofree char *path = g_build_filename(sub, file, NULL);
      g_unlink(path);
    }
    if (files != NULL)
      g_rmdir(sub);
    else
      g_unlink(sub);
  }
  if (profiles_dir != NULL)
    g_rmdir(profiles_dir);
  g_clear_pointer(&profiles_dir, g_free);
}

static char *
start_fleet(void)
{
  fleet_port = 4028;
  g_autoptr(GString) lines = g_string_new(NULL);
  g_autoptr(GString) ini = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(fleet_spec); i++) {
    g_autofree char *dir = copy_profile(fleet_spec[i].profile, i + 1);
    g_autofree char *address = address_of(i);
    g_string_append_printf(lines, "%s %s\n", address, dir);
    g_string_append_printf(ini, "[miner:%s]\nhost=%s\n", fleet_spec[i].name, address);
  }
  fleet = am_test_fleet_start(lines->str);
  fleet_pid = (pid_t)atoi(g_subprocess_get_identifier(fleet->proc));
  return g_string_free(g_steal_pointer(&ini), FALSE);
}

/* Every miner identified by its driver: what it can do is known. */
static gboolean
all_identified(JsonObject *list, gpointer data)
{
  JsonArray *miners = am_json_array(list, "miners");
  guint known = 0;
  for (guint i = 0; miners != NULL && i < json_array_get_length(miners); i++)
    known += am_json_string(json_array_get_object_element(miners, i), "driver") != NULL;
  return known == G_N_ELEMENTS(fleet_spec);
}

/* The daemon all the tests below share: polls every second, so a change
 * shows within a poll or two; a store for the audit trail. */
static AmTestDaemon *
the_daemon(void)
{
  if (daemon_ != NULL)
    return daemon_;
  g_autofree char *miners = start_fleet();
  g_autofree char *tokens = g_build_filename(profiles_dir, "tokens", NULL);
  g_assert_true(g_file_set_contents(tokens, "# name token\nalice " ALICE_TOKEN "\n", -1, NULL));
  g_autofree char *ini =
      g_strdup_printf("%s[http:api]\nlisten=127.0.0.1:0\ntoken=%s\nactions=true\ntoken_name=ops\n"
                      "action_tokens_file=%s\nmax_body_bytes=2048\n"
                      "[store:sqlite]\npath=antmon.db\nflush_interval=100ms\n"
                      "[actions]\nmin_interval=5s\nconfirm_poll=500ms\n",
                      miners, TOKEN, tokens);
  daemon_ = am_test_daemon_start_http("interval=1s\npoll_timeout=2s\n", ini, NULL);
  g_autoptr(JsonObject) list = NULL;
  /* am_test_wait_json sends no token: ask with it. */
  gint64 give_up = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  while (list == NULL && g_get_monotonic_time() < give_up) {
    g_autoptr(AmTestReply) r = am_test_http(daemon_, "GET", "api/miners", "Authorization", AUTH);
    if (r->status == 200 && r->json != NULL && all_identified(json_node_get_object(r->json), NULL))
      list = json_object_ref(json_node_get_object(r->json));
    else
      g_usleep(200 * 1000);
  }
  if (list == NULL)
    g_error("the fleet was never identified:\n%s", daemon_->log->str);
  return daemon_;
}

/* ---- requests ------------------------------------------------------------------- */

static AmTestReply *
post(const char *path, const char *content_type, const char *body)
{
  const char *const headers[] = {"Authorization", AUTH, NULL};
  return am_test_http_body(the_daemon(), "POST", path, headers, content_type, body);
}

static AmTestReply *
get(const char *path)
{
  return am_test_http(the_daemon(), "GET", path, "Authorization", AUTH);
}

static char *
miner_path(guint i)
{
  g_autofree char *host = host_of(i);
  return g_strdup_printf("api/miners/%s/actions", host);
}

static JsonObject *
reply_object(AmTestReply *r)
{
  if (r->json == NULL || !JSON_NODE_HOLDS_OBJECT(r->json))
    g_error("status %u, not a JSON object: %.*s", r->status, (int)g_bytes_get_size(r->body),
            (const char *)g_bytes_get_data(r->body, NULL));
  return json_node_get_object(r->json);
}

/* The reply is @status with an error whose code is @code and whose message
 * contains @says. */
static void
assert_error(AmTestReply *r, guint status, const char *code, const char *says)
{
  JsonObject *error = am_json_object(reply_object(r), "error");
  if (r->status != status || error == NULL || g_strcmp0(am_json_string(error, "code"), code) != 0 ||
      strstr(am_json_string(error, "message"), says) == NULL)
    g_error("expected %u %s saying '%s', got %u: %.*s", status, code, says, r->status,
            (int)g_bytes_get_size(r->body), (const char *)g_bytes_get_data(r->body, NULL));
}

static const char *
body_text(AmTestReply *r)
{
  return g_bytes_get_size(r->body) > 0 ? g_bytes_get_data(r->body, NULL) : "";
}

/* ---- off unless asked for ----------------------------------------------------------- */

/* Without actions=true the paths are what they always were, and a daemon
 * asked for actions without a token does not start. */
static void
test_off_by_default(void)
{
  AmTestDaemon *d =
      am_test_daemon_start_http("interval=1h\n", "[http:api]\nlisten=127.0.0.1:0\n", NULL);
  g_assert_null(strstr(d->log->str, "actions on"));
  g_autoptr(AmTestReply) one = am_test_http_body(d, "POST", "api/miners/127.0.0.1/actions", NULL,
                                                 JSON, "{\"action\":\"pause\"}");
  g_assert_cmpuint(one->status, ==, 405);
  g_autoptr(AmTestReply) fleet_post =
      am_test_http_body(d, "POST", "api/actions", NULL, JSON, "{\"action\":\"pause\"}");
  g_assert_cmpuint(fleet_post->status, ==, 404);
  g_autoptr(AmTestReply) follow = am_test_get(d, "api/actions/a-1");
  g_assert_cmpuint(follow->status, ==, 404);
  /* The dashboard hides its action menus on this. */
  g_autoptr(AmTestReply) list = am_test_get(d, "api/miners");
  g_assert_false(json_object_get_boolean_member(reply_object(list), "actions_enabled"));
  am_test_daemon_stop(d);

  d = am_test_daemon_start("interval=1h\n", "[http:api]\nlisten=127.0.0.1:0\nactions=true\n", NULL,
                           NULL);
  g_assert_true(am_test_daemon_wait_log(d, "[http:api] actions=true needs token= or token_file="));
  g_assert_nonnull(strstr(d->log->str, "antmon.ini"));
  g_assert_null(strstr(d->log->str, "HTTP API listening"));
  g_assert_cmpint(am_test_daemon_wait_exit(d), !=, 0);
}

/* ---- what keeps others out ----------------------------------------------------------------- */

static void
test_token(void)
{
  g_autofree char *path = miner_path(0);
  const char *body = "{\"action\":\"locate\",\"on\":false}";
  g_autoptr(AmTestReply) none = am_test_http_body(the_daemon(), "POST", path, NULL, JSON, body);
  assert_error(none, 401, "unauthorized", "Authorization: Bearer");
  const char *const wrong[] = {"Authorization", "Bearer act-token-7f3b", NULL};
  g_autoptr(AmTestReply) bad = am_test_http_body(the_daemon(), "POST", path, wrong, JSON, body);
  assert_error(bad, 401, "unauthorized", "Authorization: Bearer");
  const char *const basic[] = {"Authorization", "Basic " TOKEN, NULL};
  g_autoptr(AmTestReply) other = am_test_http_body(the_daemon(), "POST", path, basic, JSON, body);
  g_assert_cmpuint(other->status, ==, 401);
  g_autoptr(AmTestReply) follow = am_test_http(the_daemon(), "GET", "api/actions/a-1", NULL, NULL);
  g_assert_cmpuint(follow->status, ==, 401);
}

/* A page elsewhere can make a browser post a form or text without asking
 * first; only JSON is taken. */
static void
test_content_type(void)
{
  g_autofree char *path = miner_path(0);
  g_autoptr(AmTestReply) form = post(path, "application/x-www-form-urlencoded", "action=pause");
  assert_error(form, 415, "unsupported_media_type", "application/x-www-form-urlencoded");
  g_autoptr(AmTestReply) text = post(path, "text/plain", "{\"action\":\"pause\"}");
  assert_error(text, 415, "unsupported_media_type", "text/plain");
  g_autoptr(AmTestReply) untyped = post(path, NULL, "{\"action\":\"pause\"}");
  assert_error(untyped, 415, "unsupported_media_type", "no Content-Type");
  g_autoptr(AmTestReply) fleet_form = post("api/actions", "multipart/form-data; boundary=x", "x");
  assert_error(fleet_form, 415, "unsupported_media_type", "multipart/form-data");
}

static void
test_origin(void)
{
  g_autofree char *path = miner_path(0);
  const char *const foreign[] = {"Authorization", AUTH, "Origin", "http://evil.example", NULL};
  g_autoptr(AmTestReply) evil =
      am_test_http_body(the_daemon(), "POST", path, foreign, JSON, "{\"action\":\"pause\"}");
  assert_error(evil, 403, "foreign_origin", "http://evil.example");
  /* This server's own page passes the check: the body is what fails. */
  g_autofree char *own = g_strndup(the_daemon()->url, strlen(the_daemon()->url) - 1);
  const char *const same[] = {"Authorization", AUTH, "Origin", own, NULL};
  g_autoptr(AmTestReply) ok =
      am_test_http_body(the_daemon(), "POST", path, same, JSON, "{\"action\":\"explode\"}");
  assert_error(ok, 400, "unknown_action", "explode");
}

static void
test_body_too_large(void)
{
  g_autofree char *path = miner_path(0);
  g_autoptr(GString) big = g_string_new("{\"action\":\"pause\",\"x\":\"");
  while (big->len < 4096)
    g_string_append(big, "xxxxxxxxxxxxxxxx");
  g_string_append(big, "\"}");
  g_autoptr(AmTestReply) r = post(path, JSON, big->str);
  assert_error(r, 413, "body_too_large", "over 2048 bytes");
}

/* ---- what a mistake gets ----------------------------------------------------------------- */

static void
test_bad_requests(void)
{
  g_autofree char *path = miner_path(0);
  static const struct {
    const char *body;
    const char *code;
    const char *says;
  } cases[] = {
      {"{\"action\":", "invalid_body", "not valid JSON"},
      {"[\"pause\"]", "invalid_body", "JSON object"},
      {"{\"action\":\"explode\"}", "unknown_action", "unknown action \"explode\""},
      {"{\"action\":\"power_target\",\"watts\":\"lots\"}", "invalid_parameter", "watts"},
      {"{\"action\":\"power_target\",\"watts\":-3}", "invalid_parameter", "watts"},
      {"{\"action\":\"work_mode\",\"mode\":\"turbo\"}", "invalid_parameter", "mode"},
      {"{\"action\":\"pools\",\"pools\":[]}", "invalid_parameter", "1 to 3"},
      {"{\"action\":\"pools\",\"pools\":[{\"url\":\"stratum+tcp://p:3333\"}]}", "invalid_parameter",
       "needs a url and a user"},
      {"{\"action\":\"pause\",\"hosts\":[\"x\"]}", "invalid_body", "hosts: unknown member"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(AmTestReply) r = post(path, JSON, cases[i].body);
    assert_error(r, 400, cases[i].code, cases[i].says);
  }
  g_autoptr(AmTestReply) query =
      post("api/miners/127.87.1.1/actions?force=1", JSON, "{\"action\":\"pause\"}");
  assert_error(query, 400, "unknown_parameter", "force");
  g_autoptr(AmTestReply) method =
      am_test_http(the_daemon(), "DELETE", "api/actions/a-1", "Authorization", AUTH);
  g_assert_cmpuint(method->status, ==, 405);
  g_assert_cmpstr(soup_message_headers_get_one(method->headers, "Allow"), ==, "GET, HEAD");
}

static void
test_not_found(void)
{
  g_autoptr(AmTestReply) miner =
      post("api/miners/127.87.9.9/actions", JSON, "{\"action\":\"pause\"}");
  assert_error(miner, 404, "not_found", "127.87.9.9");
  g_autoptr(AmTestReply) action = get("api/actions/a-999999");
  assert_error(action, 404, "action_not_found", "a-999999");
  g_autoptr(AmTestReply) odd = get("api/actions/a-1%22%3Cx%3E");
  g_assert_cmpuint(odd->status, ==, 404);
}

/* The stock Antminer's RPC driver cannot set a power target: 409 with
 * the reason, and its miner page says the same. */
static void
test_unsupported(void)
{
  g_autofree char *path = miner_path(STOCK);
  g_autoptr(AmTestReply) r = post(path, JSON, "{\"action\":\"power_target\",\"watts\":3000}");
  JsonObject *error = am_json_object(reply_object(r), "error");
  g_assert_cmpuint(r->status, ==, 409);
  g_assert_cmpstr(am_json_string(error, "code"), ==, "unsupported");
  g_assert_cmpuint(strlen(am_json_string(error, "message")), >, 10);

  g_autofree char *host = host_of(STOCK);
  g_autofree char *detail_path = g_strdup_printf("api/miners/%s", host);
  g_autoptr(AmTestReply) detail = get(detail_path);
  JsonObject *m = reply_object(detail);
  JsonObject *why = am_json_object(m, "actions_unsupported");
  g_assert_nonnull(why);
  g_assert_true(json_object_get_boolean_member(m, "actions_enabled"));
  g_assert_nonnull(am_json_string(why, "power_target"));
  JsonArray *can = am_json_array(m, "actions");
  g_assert_nonnull(can);
  for (guint i = 0; i < json_array_get_length(can); i++)
    g_assert_cmpstr(json_array_get_string_element(can, i), !=, "power_target");
}

/* ---- an action from start to end ------------------------------------------------------ */

static gboolean
still_going(const char *state)
{
  const char *const going[] = {"queued", "sending", "confirming", "running", NULL};
  return state != NULL && g_strv_contains(going, state);
}

/* GET /api/actions/{id} until it stops going (the helper's guard ends a
 * test that hangs; nothing here is timed). (transfer full) */
static JsonObject *
follow(const char *id)
{
  g_autofree char *path = g_strdup_printf("api/actions/%s", id);
  for (guint tries = 0; tries < 600; tries++) {
    g_autoptr(AmTestReply) r = get(path);
    g_assert_cmpuint(r->status, ==, 200);
    JsonObject *o = reply_object(r);
    g_assert_cmpstr(am_json_string(o, "id"), ==, id);
    if (!still_going(am_json_string(o, "state")))
      return json_object_ref(o);
    g_usleep(200 * 1000);
  }
  g_error("action %s never finished:\n%s", id, the_daemon()->log->str);
  return NULL;
}

/* POSTs @body for @miner; with @wait_turn, asks again while the miner's
 * rate limit (min_interval) refuses it. Returns the action's id. */
static char *
submit_when(guint miner, const char *body, guint expect_status, gboolean wait_turn)
{
  g_autofree char *path = miner_path(miner);
  g_autoptr(AmTestReply) r = post(path, JSON, body);
  for (guint tries = 0; wait_turn && r->status == 429 && tries < 300; tries++) {
    g_usleep(200 * 1000);
    am_test_reply_free(g_steal_pointer(&r));
    r = post(path, JSON, body);
  }
  if (r->status != expect_status)
    g_error("POST %s %s: expected %u, got %u: %s", path, body, expect_status, r->status,
            body_text(r));
  JsonObject *o = reply_object(r);
  const char *id = am_json_string(o, "id");
  g_assert_nonnull(id);
  g_autofree char *location = g_strdup_printf("/api/actions/%s", id);
  g_assert_cmpstr(soup_message_headers_get_one(r->headers, "Location"), ==, location);
  return g_strdup(id);
}

static char *
submit(guint miner, const char *body, guint expect_status)
{
  return submit_when(miner, body, expect_status, FALSE);
}

static gboolean
miner_in_state(guint i, const char *state)
{
  g_autofree char *host = host_of(i);
  g_autofree char *path = g_strdup_printf("api/miners?state=%s&q=%s", state, host);
  g_autoptr(AmTestReply) r = get(path);
  JsonArray *miners = am_json_array(reply_object(r), "miners");
  return json_array_get_length(miners) == 1;
}

/* Pause bos-2: 202, followed until the polls confirm it; then the miner is
 * "paused" in the list, the summary and /metrics; resumed, it is back. */
static void
test_pause_confirmed(void)
{
  g_autofree char *id = submit(1, "{\"action\":\"pause\"}", 202);
  g_autoptr(JsonObject) done = follow(id);
  g_assert_cmpstr(am_json_string(done, "state"), ==, "confirmed");
  g_assert_cmpstr(am_json_string(done, "action"), ==, "pause");
  g_assert_cmpstr(am_json_string(done, "who"), ==, "ops");
  g_autofree char *address = address_of(1);
  g_assert_cmpstr(am_json_string(done, "miner"), ==, address);

  g_assert_true(miner_in_state(1, "paused"));
  g_assert_false(miner_in_state(1, "online"));
  g_autoptr(AmTestReply) summary = get("api/summary");
  JsonObject *counts = am_json_object(reply_object(summary), "miners");
  g_assert_cmpint(am_json_int(counts, "paused", -1), ==, 1);
  g_autoptr(AmTestReply) metrics = get("metrics");
  g_autofree char *state =
      g_strdup_printf("antmon_miner_state{miner=\"%s\",state=\"paused\"} 1\n", address);
  g_assert_nonnull(strstr(body_text(metrics), state));
  g_assert_nonnull(strstr(body_text(metrics), "antmon_miners{state=\"paused\"} 1"));

  g_autofree char *resumed = submit_when(1, "{\"action\":\"resume\"}", 202, TRUE);
  g_autoptr(JsonObject) back = follow(resumed);
  g_assert_cmpstr(am_json_string(back, "state"), ==, "confirmed");
  g_assert_false(miner_in_state(1, "paused"));
}

/* Two actions on one miner at once: the second waits its turn (429). */
static void
test_busy(void)
{
  g_autofree char *first = submit(2, "{\"action\":\"locate\",\"on\":true}", 202);
  g_autofree char *path = miner_path(2);
  g_autoptr(AmTestReply) second = post(path, JSON, "{\"action\":\"locate\",\"on\":false}");
  JsonObject *error = am_json_object(reply_object(second), "error");
  g_assert_cmpuint(second->status, ==, 429);
  g_assert_cmpstr(am_json_string(error, "code"), ==, "busy");
  /* Still being sent, or sent less than min_interval ago: the latter says
   * when to come back. */
  const char *message = am_json_string(error, "message");
  g_autofree char *address = address_of(2);
  g_assert_true(g_str_has_prefix(message, address));
  if (strstr(message, "min_interval") != NULL)
    g_assert_nonnull(soup_message_headers_get_one(second->headers, "Retry-After"));
  /* The first one goes on regardless. */
  g_autoptr(JsonObject) done = follow(first);
  g_assert_cmpstr(am_json_string(done, "action"), ==, "locate");
}

/* The pool password reaches the miner but never comes back: not in the
 * reply, nor when followed, nor in the audit trail. */
static void
test_pools_secret(void)
{
  const char *body = "{\"action\":\"pools\",\"pools\":[{\"url\":\"stratum+tcp://pool.test:3333\","
                     "\"user\":\"acct.w1\",\"password\":\"hunter2-secret\"}]}";
  g_autofree char *path = miner_path(0);
  /* Sent with the token of action_tokens_file=: done in alice's name. */
  const char *const alice[] = {"Authorization", "Bearer " ALICE_TOKEN, NULL};
  g_autoptr(AmTestReply) r = am_test_http_body(the_daemon(), "POST", path, alice, JSON, body);
  g_assert_cmpuint(r->status, ==, 202);
  g_assert_null(strstr(body_text(r), "hunter2"));
  g_autoptr(JsonObject) done = follow(am_json_string(reply_object(r), "id"));
  g_assert_cmpstr(am_json_string(done, "state"), ==, "confirmed");
  g_assert_cmpstr(am_json_string(done, "who"), ==, "alice");
  g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), done);
  g_autofree char *text = json_to_string(node, FALSE);
  g_assert_null(strstr(text, "hunter2"));
  g_assert_nonnull(strstr(text, "acct.w1"));
}

/* ---- the audit trail ----------------------------------------------------------------- */

static gboolean
has_pause_event(JsonArray *rows, const char *address)
{
  for (guint i = 0; i < json_array_get_length(rows); i++) {
    JsonObject *e = json_array_get_object_element(rows, i);
    JsonObject *detail = am_json_object(e, "detail");
    if (g_strcmp0(am_json_string(e, "kind"), "action") == 0 &&
        g_strcmp0(am_json_string(e, "name"), "pause") == 0 && detail != NULL &&
        g_strcmp0(am_json_string(detail, "action"), "pause") == 0 &&
        g_strcmp0(am_json_string(detail, "miner"), address) == 0 &&
        g_strcmp0(am_json_string(detail, "who"), "ops") == 0)
      return TRUE;
  }
  return FALSE;
}

static void
test_events(void)
{
  g_autofree char *address = address_of(1);
  gboolean found = FALSE;
  for (guint tries = 0; tries < 300 && !found; tries++) {
    g_autoptr(AmTestReply) r = get("api/events?kind=action");
    g_assert_cmpuint(r->status, ==, 200);
    JsonArray *rows = am_json_array(reply_object(r), "rows");
    for (guint i = 0; i < json_array_get_length(rows); i++)
      g_assert_cmpstr(am_json_string(json_array_get_object_element(rows, i), "kind"), ==, "action");
    g_assert_null(strstr(body_text(r), "hunter2"));
    found = has_pause_event(rows, address);
    if (!found)
      g_usleep(200 * 1000);
  }
  if (!found)
    g_error("no pause event in /api/events?kind=action:\n%s", the_daemon()->log->str);
  /* The other kinds leave actions out. */
  g_autoptr(AmTestReply) alerts = get("api/events?kind=state");
  g_assert_null(strstr(body_text(alerts), "\"kind\":\"action\""));
}

/* ---- the fleet ------------------------------------------------------------------------- */

static void
test_fleet_dry_run(void)
{
  g_autoptr(AmTestReply) r = post(
      "api/actions", JSON, "{\"action\":\"locate\",\"on\":true,\"q\":\"bos\",\"dry_run\":true}");
  if (r->status != 200)
    g_error("dry run: %u %s", r->status, body_text(r));
  JsonObject *job = reply_object(r);
  g_assert_true(json_object_get_boolean_member(job, "dry_run"));
  JsonArray *miners = am_json_array(job, "miners");
  g_assert_cmpuint(json_array_get_length(miners), ==, 5);
  for (guint i = 0; i < 5; i++) {
    g_autofree char *address = address_of(i);
    g_assert_cmpstr(am_json_string(json_array_get_object_element(miners, i), "miner"), ==, address);
  }
  /* No miner matches: nothing to do, said so. */
  g_autoptr(AmTestReply) none =
      post("api/actions", JSON, "{\"action\":\"pause\",\"model\":\"Whatsminer\"}");
  assert_error(none, 400, "invalid_parameter", "no miner matches");
  g_autoptr(AmTestReply) unknown =
      post("api/actions", JSON, "{\"action\":\"pause\",\"hosts\":[\"127.87.9.9\"]}");
  assert_error(unknown, 400, "invalid_parameter", "no miner 127.87.9.9");
}

/* Two miners one at a time: the job ends done with both confirmed. */
static void
test_fleet_batches(void)
{
  g_autofree char *a = host_of(3);
  g_autofree char *b = host_of(4);
  g_autofree char *body = g_strdup_printf(
      "{\"action\":\"power_target\",\"watts\":2500,\"hosts\":[\"%s\",\"%s\"],\"batch\":1,"
      "\"interval\":\"1s\"}",
      a, b);
  g_autoptr(AmTestReply) r = post("api/actions", JSON, body);
  if (r->status != 202)
    g_error("fleet: %u %s", r->status, body_text(r));
  JsonObject *job = reply_object(r);
  const char *id = am_json_string(job, "id");
  g_assert_true(g_str_has_prefix(id, "f-"));
  g_assert_cmpint(am_json_int(job, "batch", 0), ==, 1);
  g_autofree char *location = g_strdup_printf("/api/actions/%s", id);
  g_assert_cmpstr(soup_message_headers_get_one(r->headers, "Location"), ==, location);

  g_autoptr(JsonObject) done = follow(id);
  g_assert_cmpstr(am_json_string(done, "state"), ==, "done");
  JsonObject *counts = am_json_object(done, "counts");
  g_assert_cmpint(am_json_int(counts, "confirmed", 0), ==, 2);
  JsonArray *miners = am_json_array(done, "miners");
  g_assert_cmpuint(json_array_get_length(miners), ==, 2);
  for (guint i = 0; i < 2; i++) {
    JsonObject *m = json_array_get_object_element(miners, i);
    g_assert_true(g_str_has_prefix(am_json_string(m, "id"), "a-"));
    g_assert_cmpstr(am_json_string(m, "state"), ==, "confirmed");
  }
}

/* The miner list and page say what each miner can do. */
static void
test_miner_actions_listed(void)
{
  g_autoptr(AmTestReply) list = get("api/miners?q=127.87.1.1:");
  JsonArray *miners = am_json_array(reply_object(list), "miners");
  g_assert_cmpuint(json_array_get_length(miners), ==, 1);
  JsonArray *actions = am_json_array(json_array_get_object_element(miners, 0), "actions");
  g_autofree char *joined = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  for (guint i = 0; i < json_array_get_length(actions); i++)
    g_ptr_array_add(names, (gpointer)json_array_get_string_element(actions, i));
  g_ptr_array_add(names, NULL);
  joined = g_strjoinv(",", (char **)names->pdata);
  g_assert_nonnull(strstr(joined, "pause"));
  g_assert_nonnull(strstr(joined, "power_target"));
  g_autofree char *path = miner_path(0);
  g_autoptr(AmTestReply) can = get(path);
  g_assert_cmpuint(can->status, ==, 200);
  g_assert_nonnull(am_json_array(reply_object(can), "supported"));
}

static void
test_stops_cleanly(void)
{
  am_test_daemon_stop(the_daemon());
  daemon_ = NULL;
  fleet_pid = 0;
  am_test_fleet_stop(fleet);
  remove_profiles();
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  signal(SIGABRT, on_abort);
  signal(SIGTRAP, on_abort); /* g_error() */
  signal(SIGSEGV, on_abort);
  g_test_add_func("/http-actions/off-by-default", test_off_by_default);
  g_test_add_func("/http-actions/token", test_token);
  g_test_add_func("/http-actions/content-type", test_content_type);
  g_test_add_func("/http-actions/origin", test_origin);
  g_test_add_func("/http-actions/body-too-large", test_body_too_large);
  g_test_add_func("/http-actions/bad-requests", test_bad_requests);
  g_test_add_func("/http-actions/not-found", test_not_found);
  g_test_add_func("/http-actions/unsupported", test_unsupported);
  g_test_add_func("/http-actions/miner-actions-listed", test_miner_actions_listed);
  g_test_add_func("/http-actions/pause-confirmed", test_pause_confirmed);
  g_test_add_func("/http-actions/busy", test_busy);
  g_test_add_func("/http-actions/pools-secret", test_pools_secret);
  g_test_add_func("/http-actions/events", test_events);
  g_test_add_func("/http-actions/fleet-dry-run", test_fleet_dry_run);
  g_test_add_func("/http-actions/fleet-batches", test_fleet_batches);
  g_test_add_func("/http-actions/stops-cleanly", test_stops_cleanly);
  return g_test_run();
}
