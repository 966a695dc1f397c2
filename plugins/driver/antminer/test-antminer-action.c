/* Tests of the antminer driver's actions: the pure cgminer command builder
 * (command and parameter exactly), the request checks, the judgement of
 * replies; then the built module against an in-process cgminer API on
 * 127.0.0.1 (a threaded GSocketService) that records every command, obeys
 * writes only when its api-allow would, and keeps a pool list as cgminer
 * does (addpool appends, removepool renumbers, the active pool stays).
 * Last VNish's web API: the pure paths, bodies and readers, then the module
 * against an in-process SoupServer that unlocks with the password, checks
 * the bearer token on every call and keeps the paused, rebooted and light
 * states. */
#include "../common/am-driver-test-util.h"
#include "am-antminer-action.h"
#include "am-antminer-vnish.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"

#include <string.h>

/* ---- pure --------------------------------------------------------------- */

static void
test_addpool_parameter(void)
{
  const AmPoolSetting plain = {"stratum+tcp://pool.example:3333", "farm.a1", NULL};
  g_autofree char *a = am_antminer_addpool_parameter(&plain);
  g_assert_cmpstr(a, ==, "stratum+tcp://pool.example:3333,farm.a1,x");
  const AmPoolSetting odd = {"stratum+tcp://pool.example:3333", "farm,a1", "p\\w,d"};
  g_autofree char *b = am_antminer_addpool_parameter(&odd);
  g_assert_cmpstr(b, ==, "stratum+tcp://pool.example:3333,farm\\,a1,p\\\\w\\,d");
}

static char *
joined(GPtrArray *writes)
{
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < writes->len; i++) {
    const AmAntminerRpcWrite *w = writes->pdata[i];
    g_string_append_printf(out, "%s%s|%s", i > 0 ? ";" : "", w->command,
                           w->parameter != NULL ? w->parameter : "");
  }
  return g_string_free(out, FALSE);
}

static const AmPoolSetting new_pools[] = {
    {"stratum+tcp://new.example:3333", "farm.a1", NULL},
    {"stratum+tcp://backup.example:443", "farm.a1", "pw"},
};

static void
test_pool_writes(void)
{
  AmActionRequest request = {.kind = AM_ACTION_POOLS, .pools = new_pools, .n_pools = 2};
  g_autoptr(GPtrArray) w3 = am_antminer_pool_writes(&request, 3);
  g_autofree char *s3 = joined(w3);
  g_assert_cmpstr(s3, ==,
                  "addpool|stratum+tcp://new.example:3333,farm.a1,x;"
                  "addpool|stratum+tcp://backup.example:443,farm.a1,pw;"
                  "switchpool|3;removepool|0;removepool|0;removepool|0");
  g_autoptr(GPtrArray) w0 = am_antminer_pool_writes(&request, 0);
  g_autofree char *s0 = joined(w0);
  g_assert_cmpstr(s0, ==,
                  "addpool|stratum+tcp://new.example:3333,farm.a1,x;"
                  "addpool|stratum+tcp://backup.example:443,farm.a1,pw;switchpool|0");
}

static void
test_check_request(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(am_antminer_check_request(&(AmActionRequest){.kind = AM_ACTION_RESTART}, &error));
  g_assert_no_error(error);
  g_assert_false(am_antminer_check_request(&(AmActionRequest){.kind = AM_ACTION_POOLS}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_clear_error(&error);
  const AmActionKind web_only[] = {AM_ACTION_REBOOT, AM_ACTION_PAUSE, AM_ACTION_RESUME,
                                   AM_ACTION_WORK_MODE, AM_ACTION_LOCATE};
  for (guint i = 0; i < G_N_ELEMENTS(web_only); i++) {
    g_assert_false(am_antminer_check_request(&(AmActionRequest){.kind = web_only[i]}, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "antminer-web"));
    g_assert_nonnull(strstr(error->message, am_action_kind_to_string(web_only[i])));
    g_clear_error(&error);
  }
  g_assert_false(am_antminer_check_request(
      &(AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 3000}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
}

static void
test_judge(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(am_antminer_judge_write("10.0.0.5:4028", "addpool", NULL, NULL, &error));
  g_autoptr(GError) denied = g_error_new(
      AM_ERROR, AM_ERROR_API, "10.0.0.5:4028: API error 45: Access denied to 'restart' command");
  g_assert_false(am_antminer_judge_write("10.0.0.5:4028", "restart", denied, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_true(g_str_has_prefix(error->message, "10.0.0.5:4028: the miner's API refused "
                                                 "'restart': writes are off"));
  g_assert_nonnull(strstr(error->message, "api-allow"));
  g_clear_error(&error);
  /* cgminer's {"RESTART","id":1} does not parse, and means yes. */
  g_autoptr(GError) parse = g_error_new_literal(AM_ERROR, AM_ERROR_PARSE, "reply is not JSON");
  g_autoptr(GBytes) restart = g_bytes_new_static("{\"RESTART\",\"id\":1}", 18);
  g_assert_true(am_antminer_judge_write("10.0.0.5:4028", "restart", parse, restart, &error));
  g_assert_false(am_antminer_judge_write("10.0.0.5:4028", "switchpool", parse, restart, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_clear_error(&error);
  g_autoptr(GError) bad = g_error_new(AM_ERROR, AM_ERROR_API,
                                      "10.0.0.5:4028: API error 53: Invalid addpool details 'x'");
  g_assert_false(am_antminer_judge_write("10.0.0.5:4028", "addpool", bad, NULL, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_cmpstr(error->message, ==,
                  "10.0.0.5:4028: addpool: API error 53: Invalid addpool details 'x'");
}

static void
test_actions(void)
{
  const AmActionSet rpc = AM_ACTION_BIT(AM_ACTION_RESTART) | AM_ACTION_BIT(AM_ACTION_POOLS);
  g_assert_cmphex(am_antminer_actions(NULL), ==, rpc);
  const char *firmwares[] = {"bmminer", "cgminer", "Hiveon", "Blissz"};
  for (guint i = 0; i < G_N_ELEMENTS(firmwares); i++) {
    g_autoptr(AmSample) s = am_sample_new();
    am_sample_set(s, &s->firmware, firmwares[i]);
    g_assert_cmphex(am_antminer_actions(s), ==, rpc);
  }
  /* VNish adds what its web API does; power target and work mode stay out. */
  g_autoptr(AmSample) vnish = am_sample_new();
  am_sample_set(vnish, &vnish->firmware, "VNish");
  g_assert_cmphex(am_antminer_actions(vnish), ==,
                  rpc | AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_PAUSE) |
                      AM_ACTION_BIT(AM_ACTION_RESUME) | AM_ACTION_BIT(AM_ACTION_LOCATE));
}

/* ---- the module against a local cgminer API ----------------------------- */

typedef struct {
  AmTestRpc rpc;
  guint16 port;
  gboolean allow_writes; /* api-allow gives us W: */
  GPtrArray *pools;      /* URLs, cgminer's order */
  guint active;
} FakeApi;

#define STATUS(letter, code, msg)                                                                  \
  "{\"STATUS\":[{\"STATUS\":\"" letter "\",\"When\":1700000000,\"Code\":" code ",\"Msg\":\"" msg   \
  "\",\"Description\":\"cgminer 1.0.0\"}]"

static char *
pools_reply(FakeApi *f)
{
  GString *out = g_string_new(STATUS("S", "7", "2 Pool(s)") ",\"POOLS\":[");
  for (guint i = 0; i < f->pools->len; i++)
    g_string_append_printf(out, "%s{\"POOL\":%u,\"URL\":\"%s\",\"Status\":\"Alive\"}",
                           i > 0 ? "," : "", i, (const char *)f->pools->pdata[i]);
  g_string_append(out, "],\"id\":1}");
  return g_string_free(out, FALSE);
}

/* What cgminer answers to @command, changing the pool list as it does. */
static char *
answer(FakeApi *f, const char *command, const char *parameter)
{
  if (g_str_equal(command, "pools"))
    return pools_reply(f);
  if (!f->allow_writes)
    return g_strdup_printf(STATUS("E", "45", "Access denied to '%s' command") ",\"id\":1}",
                           command);
  if (g_str_equal(command, "restart"))
    return g_strdup("{\"RESTART\",\"id\":1}");
  if (g_str_equal(command, "addpool")) {
    if (strstr(parameter, "invalid") != NULL)
      return g_strdup_printf(STATUS("E", "53", "Invalid addpool details '%s'") ",\"id\":1}",
                             parameter);
    g_ptr_array_add(f->pools, g_strndup(parameter, strcspn(parameter, ",")));
    return g_strdup(STATUS("S", "55", "Added pool") ",\"id\":1}");
  }
  guint id = (guint)g_ascii_strtoull(parameter, NULL, 10);
  if (g_str_equal(command, "switchpool") && id < f->pools->len) {
    f->active = id;
    return g_strdup(STATUS("S", "27", "Switching to pool") ",\"id\":1}");
  }
  if (g_str_equal(command, "removepool") && id < f->pools->len) {
    if (id == f->active)
      return g_strdup(STATUS("E", "67", "Cannot remove active pool") ",\"id\":1}");
    g_ptr_array_remove_index(f->pools, id);
    if (f->active > id)
      f->active--;
    return g_strdup(STATUS("S", "68", "Removed pool") ",\"id\":1}");
  }
  return g_strdup(STATUS("E", "14", "Invalid command") ",\"id\":1}");
}

/* cgminer's reply, with its terminating NUL; nothing to what is not JSON. */
static GBytes *
on_request(gpointer user_data, JsonObject *request)
{
  if (request == NULL)
    return NULL;
  const char *command = json_object_get_string_member_with_default(request, "command", "");
  const char *parameter = json_object_get_string_member_with_default(request, "parameter", "");
  g_autofree char *reply = answer(user_data, command, parameter);
  return am_test_rpc_text(reply, TRUE);
}

static void
fake_start(FakeApi *f, gboolean allow_writes)
{
  *f = (FakeApi){.allow_writes = allow_writes, .pools = g_ptr_array_new_with_free_func(g_free)};
  g_ptr_array_add(f->pools, g_strdup("stratum+tcp://old1.example:3333"));
  g_ptr_array_add(f->pools, g_strdup("stratum+tcp://old2.example:3333"));
  am_test_rpc_start(&f->rpc, on_request, f);
  f->port = f->rpc.port;
}

static void
fake_stop(FakeApi *f)
{
  am_test_rpc_stop(&f->rpc);
  g_ptr_array_unref(f->pools);
}

static char *
received(FakeApi *f)
{
  return am_test_rpc_received(&f->rpc);
}

static gboolean
act(FakeApi *f, const AmActionRequest *request, GError **error)
{
  AmTestDriver d;
  am_test_driver_open(&d, "antminer", NULL);
  g_autoptr(AmMiner) miner = am_test_local_miner(f->port);
  g_assert_cmphex(d.vt->actions(d.self, miner, NULL), ==, am_antminer_actions(NULL));
  gboolean ok = am_test_driver_act(&d, miner, request, error);
  am_test_driver_close(&d);
  return ok;
}

static void
test_module_writes_allowed(void)
{
  FakeApi f;
  fake_start(&f, TRUE);
  g_autoptr(GError) error = NULL;
  g_assert_true(act(&f, &(AmActionRequest){.kind = AM_ACTION_RESTART}, &error));
  g_assert_no_error(error);
  g_autofree char *r1 = received(&f);
  g_assert_cmpstr(r1, ==, "restart|");

  g_ptr_array_set_size(f.rpc.requests, 0);
  g_assert_true(act(
      &f, &(AmActionRequest){.kind = AM_ACTION_POOLS, .pools = new_pools, .n_pools = 2}, &error));
  g_assert_no_error(error);
  g_autofree char *r2 = received(&f);
  g_assert_cmpstr(r2, ==,
                  "pools|;addpool|stratum+tcp://new.example:3333,farm.a1,x;"
                  "addpool|stratum+tcp://backup.example:443,farm.a1,pw;"
                  "switchpool|2;removepool|0;removepool|0");
  /* What the next poll's "pools" shows: only the new ones, first active. */
  g_assert_cmpuint(f.pools->len, ==, 2);
  g_assert_cmpstr(f.pools->pdata[0], ==, "stratum+tcp://new.example:3333");
  g_assert_cmpstr(f.pools->pdata[1], ==, "stratum+tcp://backup.example:443");
  g_assert_cmpuint(f.active, ==, 0);
  fake_stop(&f);
}

/* Stock api-allow (R only): the first write is refused, reported as
 * writes being off, and nothing further is sent. */
static void
test_module_writes_denied(void)
{
  FakeApi f;
  fake_start(&f, FALSE);
  g_autoptr(GError) error = NULL;
  g_assert_false(act(&f, &(AmActionRequest){.kind = AM_ACTION_RESTART}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: the miner's API refused 'restart': writes are off", f.port);
  g_assert_true(g_str_has_prefix(error->message, expected));
  g_clear_error(&error);
  g_ptr_array_set_size(f.rpc.requests, 0);
  g_assert_false(act(
      &f, &(AmActionRequest){.kind = AM_ACTION_POOLS, .pools = new_pools, .n_pools = 2}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "'addpool'"));
  g_autofree char *r = received(&f);
  g_assert_cmpstr(r, ==, "pools|;addpool|stratum+tcp://new.example:3333,farm.a1,x");
  g_assert_cmpuint(f.pools->len, ==, 2);
  fake_stop(&f);
}

/* The firmware's own error is an API error quoting it; a web-only action
 * is refused before anything is sent. */
static void
test_module_errors(void)
{
  FakeApi f;
  fake_start(&f, TRUE);
  g_autoptr(GError) error = NULL;
  const AmPoolSetting bad[] = {{"stratum+tcp://invalid.example:1", "w", NULL}};
  g_assert_false(
      act(&f, &(AmActionRequest){.kind = AM_ACTION_POOLS, .pools = bad, .n_pools = 1}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: addpool: API error 53: Invalid addpool details", f.port);
  g_assert_true(g_str_has_prefix(error->message, expected));
  g_clear_error(&error);
  g_ptr_array_set_size(f.rpc.requests, 0);
  g_assert_false(
      act(&f, &(AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = AM_WORK_MODE_LOW}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_cmpuint(f.rpc.requests->len, ==, 0);
  fake_stop(&f);
}

/* ---- VNish, pure ---------------------------------------------------------- */

static void
test_vnish_requests(void)
{
  g_assert_cmpstr(am_antminer_vnish_path(AM_ACTION_PAUSE), ==, "/api/v1/mining/pause");
  g_assert_cmpstr(am_antminer_vnish_path(AM_ACTION_RESUME), ==, "/api/v1/mining/resume");
  g_assert_cmpstr(am_antminer_vnish_path(AM_ACTION_REBOOT), ==, "/api/v1/system/reboot");
  g_assert_cmpstr(am_antminer_vnish_path(AM_ACTION_LOCATE), ==, "/api/v1/find-miner");
  g_assert_null(am_antminer_vnish_path(AM_ACTION_RESTART));
  g_assert_null(am_antminer_vnish_path(AM_ACTION_POWER_TARGET));
  g_assert_null(am_antminer_vnish_path(AM_ACTION_WORK_MODE));
  g_assert_null(am_antminer_vnish_path(AM_ACTION_POOLS));

  g_autofree char *plain = am_antminer_vnish_unlock_body("admin");
  g_assert_cmpstr(plain, ==, "{\"pw\":\"admin\"}");
  g_autofree char *odd = am_antminer_vnish_unlock_body("a\"b\\c");
  g_assert_cmpstr(odd, ==, "{\"pw\":\"a\\\"b\\\\c\"}");

  g_autofree char *on =
      am_antminer_vnish_body(&(AmActionRequest){.kind = AM_ACTION_LOCATE, .on = TRUE});
  g_assert_cmpstr(on, ==, "{\"on\":true}");
  g_autofree char *off = am_antminer_vnish_body(&(AmActionRequest){.kind = AM_ACTION_LOCATE});
  g_assert_cmpstr(off, ==, "{\"on\":false}");
  g_assert_null(am_antminer_vnish_body(&(AmActionRequest){.kind = AM_ACTION_PAUSE}));
}

static void
test_vnish_answers(void)
{
  g_autoptr(GError) error = NULL;
  static const char good_text[] = "{\"token\":\"jwt.1\"}";
  g_autoptr(GBytes) good = g_bytes_new_static(good_text, strlen(good_text));
  g_autofree char *token = am_antminer_vnish_token("10.0.0.5:80", good, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(token, ==, "jwt.1");
  const char *bad[] = {"{}", "{\"token\":\"\"}", "{\"token\":7}", "<html>", ""};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GBytes) b = g_bytes_new_static(bad[i], strlen(bad[i]));
    g_assert_null(am_antminer_vnish_token("10.0.0.5:80", b, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
    g_assert_cmpstr(error->message, ==,
                    "10.0.0.5:80: the VNish unlock answer has no token (POST /api/v1/unlock)");
    g_clear_error(&error);
  }

  static const struct {
    const char *answer;
    gboolean known, on;
  } lights[] = {
      {"{\"on\":true}", TRUE, TRUE},
      {"{\"on\":false}", TRUE, FALSE},
      {"{\"is_enabled\":true}", TRUE, TRUE},
      {"null", FALSE, FALSE},
      {"", FALSE, FALSE},
      {"{\"on\":\"yes\"}", FALSE, FALSE},
  };
  for (guint i = 0; i < G_N_ELEMENTS(lights); i++) {
    g_autoptr(GBytes) b = g_bytes_new_static(lights[i].answer, strlen(lights[i].answer));
    gboolean on = !lights[i].on;
    g_assert_cmpint(am_antminer_vnish_light(b, &on), ==, lights[i].known);
    if (lights[i].known)
      g_assert_cmpint(on, ==, lights[i].on);
  }
}

/* ---- VNish, the module against its web API --------------------------------- */

#define VNISH_TOKEN "vnish-jwt-1"

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *password; /* the one unlock accepts */
  gboolean no_api;      /* no /api/v1 at all */
  gboolean stock;       /* stock lighttpd: digest auth on every path */
  gboolean token_expired;
  const char *pause_error; /* when set, pause answers 500 with it */
  GPtrArray *received;     /* "POST /path|Authorization|body" */
  gboolean paused, light;
  guint reboots;
} FakeVnish;

static void
vnish_reply(SoupServerMessage *msg, guint status, const char *json)
{
  soup_server_message_set_status(msg, status, NULL);
  if (json != NULL)
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, json, strlen(json));
}

/* VNish's answer to an unlock: a token for the right password, 403 with
 * its AuthCheck body for a wrong one. */
static void
vnish_unlock(FakeVnish *f, SoupServerMessage *msg, const char *body)
{
  g_autoptr(JsonNode) root = json_from_string(body, NULL);
  const char *pw =
      root != NULL && JSON_NODE_HOLDS_OBJECT(root)
          ? json_object_get_string_member_with_default(json_node_get_object(root), "pw", NULL)
          : NULL;
  if (g_strcmp0(pw, f->password) == 0)
    vnish_reply(msg, SOUP_STATUS_OK, "{\"token\":\"" VNISH_TOKEN "\"}");
  else
    vnish_reply(msg, SOUP_STATUS_FORBIDDEN, "{\"unlock_timeout\":null}");
}

static void
on_vnish(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  FakeVnish *f = user_data;
  SoupMessageBody *in = soup_server_message_get_request_body(msg);
  const char *auth =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  g_autofree char *body = g_strndup(in->data, in->length);
  g_ptr_array_add(f->received, g_strdup_printf("%s %s|%s|%s", soup_server_message_get_method(msg),
                                               path, auth != NULL ? auth : "", body));
  if (f->stock) {
    soup_message_headers_replace(
        soup_server_message_get_response_headers(msg), "WWW-Authenticate",
        "Digest realm=\"antMiner Configuration\", nonce=\"5f2a\", qop=\"auth\"");
    vnish_reply(msg, SOUP_STATUS_UNAUTHORIZED, NULL);
    return;
  }
  if (f->no_api || !g_str_equal(soup_server_message_get_method(msg), "POST")) {
    vnish_reply(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (g_str_equal(path, "/api/v1/unlock")) {
    vnish_unlock(f, msg, body);
    return;
  }
  if (f->token_expired || g_strcmp0(auth, "Bearer " VNISH_TOKEN) != 0) {
    vnish_reply(msg, SOUP_STATUS_UNAUTHORIZED, NULL);
    return;
  }
  if (g_str_equal(path, "/api/v1/mining/pause") && f->pause_error != NULL) {
    vnish_reply(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, f->pause_error);
  } else if (g_str_equal(path, "/api/v1/mining/pause")) {
    f->paused = TRUE;
    vnish_reply(msg, SOUP_STATUS_OK, NULL);
  } else if (g_str_equal(path, "/api/v1/mining/resume")) {
    f->paused = FALSE;
    vnish_reply(msg, SOUP_STATUS_OK, NULL);
  } else if (g_str_equal(path, "/api/v1/system/reboot")) {
    f->reboots++;
    vnish_reply(msg, SOUP_STATUS_OK, "{\"after\":3}");
  } else if (g_str_equal(path, "/api/v1/find-miner")) {
    /* As documented: a toggle that ignores any body and says the state. */
    f->light = !f->light;
    vnish_reply(msg, SOUP_STATUS_OK, f->light ? "{\"on\":true}" : "{\"on\":false}");
  } else {
    vnish_reply(msg, SOUP_STATUS_NOT_FOUND, NULL);
  }
}

static void
vnish_start(FakeVnish *f)
{
  *f = (FakeVnish){.password = "admin", .received = g_ptr_array_new_with_free_func(g_free)};
  f->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(f->server, NULL, on_vnish, f, NULL);
  f->port = am_test_soup_listen_loopback(f->server);
}

static void
vnish_stop(FakeVnish *f)
{
  am_test_soup_stop(f->server, g_ptr_array_new());
  g_ptr_array_unref(f->received);
}

/* The requests since the last call, joined by '\n', and forgets them. */
static char *
vnish_received(FakeVnish *f)
{
  g_ptr_array_add(f->received, NULL);
  char *s = g_strjoinv("\n", (char **)f->received->pdata);
  g_ptr_array_set_size(f->received, 0);
  return s;
}

/* Runs @request through the built module, configured with web_port= the
 * fake's and @ini (more lines of the [driver:antminer] group), on a
 * miner with @miner_password (NULL: none of its own). */
static gboolean
act_vnish(FakeVnish *f, const char *ini, const char *miner_password, const AmActionRequest *request,
          GError **error)
{
  g_autofree char *text = g_strdup_printf("[driver:antminer]\nweb_port=%u\n%s", f->port, ini);
  g_autoptr(GKeyFile) kf = am_test_key_file(text);
  AmTestDriver d;
  am_test_driver_open(&d, "antminer", kf);
  /* The miner is configured on its RPC port; the web port is the driver's. */
  g_autoptr(AmMiner) miner = am_test_local_miner(4028);
  if (miner_password != NULL)
    am_miner_set_credentials(miner, NULL, miner_password);
  g_autoptr(AmSample) sample = am_sample_new();
  am_sample_set(sample, &sample->firmware, "VNish");
  g_assert_true(d.vt->actions(d.self, miner, sample) & AM_ACTION_BIT(request->kind));
  gboolean ok = am_test_driver_act(&d, miner, request, error);
  am_test_driver_close(&d);
  return ok;
}

#define WEB_PORT_ONLY ""

/* pause, resume and reboot with the factory password: unlock, then the
 * call with the token, and the miner's state follows. */
static void
test_vnish_pause_resume_reboot(void)
{
  FakeVnish f;
  vnish_start(&f);
  g_autoptr(GError) error = NULL;
  g_assert_true(
      act_vnish(&f, WEB_PORT_ONLY, NULL, &(AmActionRequest){.kind = AM_ACTION_PAUSE}, &error));
  g_assert_no_error(error);
  g_autofree char *paused = vnish_received(&f);
  g_assert_cmpstr(paused, ==,
                  "POST /api/v1/unlock||{\"pw\":\"admin\"}\n"
                  "POST /api/v1/mining/pause|Bearer " VNISH_TOKEN "|");
  g_assert_true(f.paused);

  g_assert_true(
      act_vnish(&f, WEB_PORT_ONLY, NULL, &(AmActionRequest){.kind = AM_ACTION_RESUME}, &error));
  g_assert_no_error(error);
  g_autofree char *resumed = vnish_received(&f);
  g_assert_true(g_str_has_suffix(resumed, "\nPOST /api/v1/mining/resume|Bearer " VNISH_TOKEN "|"));
  g_assert_false(f.paused);

  g_assert_true(
      act_vnish(&f, WEB_PORT_ONLY, NULL, &(AmActionRequest){.kind = AM_ACTION_REBOOT}, &error));
  g_assert_no_error(error);
  g_autofree char *rebooted = vnish_received(&f);
  g_assert_true(g_str_has_suffix(rebooted, "\nPOST /api/v1/system/reboot|Bearer " VNISH_TOKEN "|"));
  g_assert_cmpuint(f.reboots, ==, 1);
  vnish_stop(&f);
}

/* The miner's own password wins over the driver's, which wins over the
 * factory one. */
static void
test_vnish_password_order(void)
{
  FakeVnish f;
  vnish_start(&f);
  f.password = "driver-pw";
  g_autoptr(GError) error = NULL;
  const char *ini = "password=driver-pw\n";
  g_assert_true(act_vnish(&f, ini, NULL, &(AmActionRequest){.kind = AM_ACTION_PAUSE}, &error));
  g_assert_no_error(error);
  g_autofree char *by_driver = vnish_received(&f);
  g_assert_true(g_str_has_prefix(by_driver, "POST /api/v1/unlock||{\"pw\":\"driver-pw\"}\n"));

  f.password = "miner-pw";
  g_assert_true(
      act_vnish(&f, ini, "miner-pw", &(AmActionRequest){.kind = AM_ACTION_RESUME}, &error));
  g_assert_no_error(error);
  g_autofree char *by_miner = vnish_received(&f);
  g_assert_true(g_str_has_prefix(by_miner, "POST /api/v1/unlock||{\"pw\":\"miner-pw\"}\n"));
  vnish_stop(&f);
}

/* find-miner toggles: the light ends as asked, with a second call when
 * the first turned it the other way. */
static void
test_vnish_locate(void)
{
  FakeVnish f;
  vnish_start(&f);
  g_autoptr(GError) error = NULL;
  const AmActionRequest on = {.kind = AM_ACTION_LOCATE, .on = TRUE};
  g_assert_true(act_vnish(&f, WEB_PORT_ONLY, NULL, &on, &error));
  g_assert_no_error(error);
  g_assert_true(f.light);
  g_autofree char *first = vnish_received(&f);
  g_assert_cmpstr(first, ==,
                  "POST /api/v1/unlock||{\"pw\":\"admin\"}\n"
                  "POST /api/v1/find-miner|Bearer " VNISH_TOKEN "|{\"on\":true}");

  /* Already on: the toggle turns it off, and the second call on again. */
  g_assert_true(act_vnish(&f, WEB_PORT_ONLY, NULL, &on, &error));
  g_assert_no_error(error);
  g_assert_true(f.light);
  g_autofree char *twice = vnish_received(&f);
  g_assert_cmpstr(twice, ==,
                  "POST /api/v1/unlock||{\"pw\":\"admin\"}\n"
                  "POST /api/v1/find-miner|Bearer " VNISH_TOKEN "|{\"on\":true}\n"
                  "POST /api/v1/find-miner|Bearer " VNISH_TOKEN "|{\"on\":true}");

  g_assert_true(
      act_vnish(&f, WEB_PORT_ONLY, NULL, &(AmActionRequest){.kind = AM_ACTION_LOCATE}, &error));
  g_assert_no_error(error);
  g_assert_false(f.light);
  vnish_stop(&f);
}

/* A wrong password, an expired token, a stock unit without the API and the
 * firmware's own refusal, each as the code and message a user reads. */
static void
test_vnish_errors(void)
{
  FakeVnish f;
  vnish_start(&f);
  f.password = "changed";
  const AmActionRequest pause = {.kind = AM_ACTION_PAUSE};
  g_autoptr(GError) error = NULL;
  g_assert_false(act_vnish(&f, WEB_PORT_ONLY, "wrong-pw", &pause, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_autofree char *wrong = g_strdup_printf(
      "127.0.0.1:%u: VNish refused the web password (POST /api/v1/unlock answered 403); set "
      "password= for this miner",
      f.port);
  g_assert_cmpstr(error->message, ==, wrong);
  g_autofree char *only_unlock = vnish_received(&f);
  g_assert_null(strchr(only_unlock, '\n')); /* nothing after the refusal */
  g_assert_false(f.paused);
  g_clear_error(&error);

  f.password = "admin";
  f.token_expired = TRUE;
  g_assert_false(act_vnish(&f, WEB_PORT_ONLY, NULL, &pause, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_nonnull(strstr(error->message, "POST /api/v1/mining/pause"));
  g_assert_null(strstr(error->message, VNISH_TOKEN));
  g_clear_error(&error);
  f.token_expired = FALSE;

  f.pause_error = "{\"err\":\"cgminer is not running\"}";
  g_assert_false(act_vnish(&f, WEB_PORT_ONLY, NULL, &pause, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_autofree char *refused = g_strdup_printf(
      "127.0.0.1:%u: HTTP 500 Internal Server Error from POST /api/v1/mining/pause: "
      "{\"err\":\"cgminer is not running\"}",
      f.port);
  g_assert_cmpstr(error->message, ==, refused);
  g_clear_error(&error);
  f.pause_error = NULL;

  f.no_api = TRUE;
  g_assert_false(act_vnish(&f, WEB_PORT_ONLY, NULL, &pause, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_autofree char *stock = g_strdup_printf(
      "127.0.0.1:%u: no VNish web API here (POST /api/v1/unlock answered 404); on stock "
      "firmware use the antminer-web driver",
      f.port);
  g_assert_cmpstr(error->message, ==, stock);
  g_clear_error(&error);

  f.no_api = FALSE;
  f.stock = TRUE;
  g_assert_false(act_vnish(&f, WEB_PORT_ONLY, NULL, &pause, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_autofree char *digest = g_strdup_printf(
      "127.0.0.1:%u: no VNish web API here (POST /api/v1/unlock answered 401, asking for HTTP "
      "authentication); on stock firmware use the antminer-web driver",
      f.port);
  g_assert_cmpstr(error->message, ==, digest);
  vnish_stop(&f);
}

/* A bad web setting is a configuration error naming the key; the sample
 * configuration loads. */
static void
test_vnish_settings(void)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-antminer.so", NULL);
  g_autoptr(GError) error = NULL;
  AmLoadedPlugin *plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(
      g_key_file_load_from_data(kf, "[driver:antminer]\nweb_port=0\n", -1, G_KEY_FILE_NONE, NULL));
  g_assert_null(plugin->info->create(NULL, kf, "driver:antminer", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "web_port"));
  g_clear_error(&error);

  /* The documented sample (sample.ini, with the new keys) is accepted. */
  g_autoptr(GKeyFile) sample = g_key_file_new();
  g_assert_true(
      g_key_file_load_from_data(sample, plugin->info->sample_config, -1, G_KEY_FILE_NONE, NULL));
  g_assert_true(g_key_file_has_key(sample, "driver:antminer", "web_port", NULL));
  gpointer self = plugin->info->create(NULL, sample, "driver:antminer", &error);
  g_assert_no_error(error);
  plugin->info->destroy(self);
  am_loaded_plugin_free(plugin);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/antminer/action/addpool-parameter", test_addpool_parameter);
  g_test_add_func("/antminer/action/pool-writes", test_pool_writes);
  g_test_add_func("/antminer/action/check-request", test_check_request);
  g_test_add_func("/antminer/action/judge", test_judge);
  g_test_add_func("/antminer/action/actions", test_actions);
  g_test_add_func("/antminer/action/module/writes-allowed", test_module_writes_allowed);
  g_test_add_func("/antminer/action/module/writes-denied", test_module_writes_denied);
  g_test_add_func("/antminer/action/module/errors", test_module_errors);
  g_test_add_func("/antminer/action/vnish/requests", test_vnish_requests);
  g_test_add_func("/antminer/action/vnish/answers", test_vnish_answers);
  g_test_add_func("/antminer/action/vnish/pause-resume-reboot", test_vnish_pause_resume_reboot);
  g_test_add_func("/antminer/action/vnish/password-order", test_vnish_password_order);
  g_test_add_func("/antminer/action/vnish/locate", test_vnish_locate);
  g_test_add_func("/antminer/action/vnish/errors", test_vnish_errors);
  g_test_add_func("/antminer/action/vnish/settings", test_vnish_settings);
  return g_test_run();
}
