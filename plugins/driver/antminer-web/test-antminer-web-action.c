/* Tests of the antminer-web driver's actions: the pure request builder for
 * every action (method, path, body exactly), the request checks, the reply
 * judge, the poll's mode and light readers, actions() per unit; then the
 * built module against an in-process SoupServer on 127.0.0.1 that asks for
 * digest auth with Bitmain's realm, records each request, and answers and
 * changes state as stock firmware does. */
#include "../common/am-driver-test-util.h"
#include "am-antminer-web-action.h"
#include "am-antminer-web-parse.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"

#include <libsoup/soup.h>
#include <string.h>

/* HAND-MADE, shaped as the S19 XP field report and asic-rs's test describe
 * get_miner_conf.cgi: the mode as a string under "bitmain-work-mode", no
 * "miner-mode", fan and frequency fields, three pools, and a field the web
 * form does not post back. */
static const char conf_s19xp[] =
    "{\"pools\":[{\"url\":\"stratum+tcp://pool1.example:3333\",\"user\":\"worker.1\","
    "\"pass\":\"x\"},{\"url\":\"stratum+tcp://pool2.example:3333\",\"user\":\"worker.2\","
    "\"pass\":\"x\"},{\"url\":\"\",\"user\":\"\",\"pass\":\"\"}],"
    "\"api-listen\":true,\"api-network\":true,\"bitmain-fan-ctrl\":true,"
    "\"bitmain-fan-pwm\":\"70\",\"bitmain-freq-level\":\"100\",\"bitmain-work-mode\":\"0\"}";

#define KEPT_POOLS                                                                                 \
  "\"pools\":[{\"url\":\"stratum+tcp://pool1.example:3333\",\"user\":\"worker.1\",\"pass\":"       \
  "\"x\"},{\"url\":\"stratum+tcp://pool2.example:3333\",\"user\":\"worker.2\",\"pass\":\"x\"},"    \
  "{\"url\":\"\",\"user\":\"\",\"pass\":\"\"}]"

static JsonObject *
object(const char *json)
{
  return am_test_object_from_string(json);
}

/* Builds @request's write against @conf_json (may be NULL) and checks it. */
static void
assert_write(const AmActionRequest *request, const char *conf_json, const char *path,
             const char *content_type, const char *body)
{
  g_autoptr(JsonObject) conf = conf_json != NULL ? object(conf_json) : NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_antminer_web_check_request(request, &error));
  g_assert_no_error(error);
  g_assert_cmpint(am_antminer_web_needs_conf(request->kind), ==, conf_json != NULL);
  AmAntminerWebWrite w;
  g_assert_true(am_antminer_web_build_write(request, conf, &w, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(w.method, ==, "POST");
  g_assert_cmpstr(w.path, ==, path);
  g_assert_cmpstr(w.content_type, ==, content_type);
  g_assert_cmpstr(w.body, ==, body);
  am_antminer_web_write_clear(&w);
}

#define FORM "text/plain;charset=UTF-8"
#define JSON_TYPE "application/json"

static void
test_build_reboot_locate(void)
{
  assert_write(&(AmActionRequest){.kind = AM_ACTION_REBOOT}, NULL, "/cgi-bin/reboot.cgi", JSON_TYPE,
               "{}");
  assert_write(&(AmActionRequest){.kind = AM_ACTION_LOCATE, .on = TRUE}, NULL, "/cgi-bin/blink.cgi",
               JSON_TYPE, "{\"blink\":\"true\"}");
  assert_write(&(AmActionRequest){.kind = AM_ACTION_LOCATE, .on = FALSE}, NULL,
               "/cgi-bin/blink.cgi", JSON_TYPE, "{\"blink\":\"false\"}");
}

#define FORM_HEAD "{\"bitmain-fan-ctrl\":true,\"bitmain-fan-pwm\":\"70\",\"freq-level\":\"100\","

static void
test_build_modes(void)
{
  /* The web form's fields kept as read, the mode under both names as a
   * number, api-listen (not in the form) left out. */
  assert_write(&(AmActionRequest){.kind = AM_ACTION_PAUSE}, conf_s19xp, AM_ANTMINER_WEB_SET_CONF,
               FORM, FORM_HEAD "\"miner-mode\":1,\"bitmain-work-mode\":1," KEPT_POOLS "}");
  assert_write(&(AmActionRequest){.kind = AM_ACTION_RESUME}, conf_s19xp, AM_ANTMINER_WEB_SET_CONF,
               FORM, FORM_HEAD "\"miner-mode\":0,\"bitmain-work-mode\":0," KEPT_POOLS "}");
  const struct {
    const char *mode;
    int value;
  } modes[] = {{"low", 3}, {"normal", 0}, {"high", 2}};
  for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
    g_autofree char *body =
        g_strdup_printf(FORM_HEAD "\"miner-mode\":%d,\"bitmain-work-mode\":%d," KEPT_POOLS "}",
                        modes[i].value, modes[i].value);
    assert_write(&(AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = modes[i].mode}, conf_s19xp,
                 AM_ANTMINER_WEB_SET_CONF, FORM, body);
  }
  /* Missing fan fields take the web form's defaults; "miner-mode" wins
   * over "bitmain-work-mode" when both are there. */
  assert_write(&(AmActionRequest){.kind = AM_ACTION_PAUSE},
               "{\"miner-mode\":2,\"bitmain-work-mode\":\"0\",\"freq-level\":\"95\"}",
               AM_ANTMINER_WEB_SET_CONF, FORM,
               "{\"bitmain-fan-ctrl\":false,\"bitmain-fan-pwm\":\"100\",\"freq-level\":\"95\","
               "\"miner-mode\":1,\"bitmain-work-mode\":1,\"pools\":[]}");
}

static void
test_build_pools(void)
{
  const AmPoolSetting pools[] = {
      {"stratum+tcp://new.example:3333", "farm.a1", NULL},
      {"stratum+tcp://backup.example:443", "farm.a1", "secret"},
  };
  /* The mode stays as read (0), the two pools then an empty row. */
  assert_write(&(AmActionRequest){.kind = AM_ACTION_POOLS, .pools = pools, .n_pools = 2},
               conf_s19xp, AM_ANTMINER_WEB_SET_CONF, FORM,
               FORM_HEAD "\"miner-mode\":0,\"bitmain-work-mode\":0,\"pools\":[{\"url\":"
                         "\"stratum+tcp://new.example:3333\",\"user\":\"farm.a1\",\"pass\":\"x\"},"
                         "{\"url\":\"stratum+tcp://backup.example:443\",\"user\":\"farm.a1\","
                         "\"pass\":\"secret\"},{\"url\":\"\",\"user\":\"\",\"pass\":\"\"}]}");
}

static void
assert_refused(const AmActionRequest *request, gint code, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_assert_false(am_antminer_web_check_request(request, &error));
  g_assert_error(error, AM_ERROR, code);
  if (strstr(error->message, text) == NULL)
    g_error("expected '%s' in '%s'", text, error->message);
}

static void
test_check_request(void)
{
  assert_refused(&(AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 3000},
                 AM_ERROR_UNSUPPORTED, "no power target");
  assert_refused(&(AmActionRequest){.kind = AM_ACTION_RESTART}, AM_ERROR_UNSUPPORTED, "reboot");
  assert_refused(&(AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "turbo"}, AM_ERROR_CONFIG,
                 "'turbo'");
  assert_refused(&(AmActionRequest){.kind = AM_ACTION_WORK_MODE}, AM_ERROR_CONFIG, "low");
  assert_refused(&(AmActionRequest){.kind = AM_ACTION_POOLS}, AM_ERROR_CONFIG, "1 to 3");
  const AmPoolSetting four[4] = {{"stratum+tcp://a:1", "w", NULL},
                                 {"stratum+tcp://a:1", "w", NULL},
                                 {"stratum+tcp://a:1", "w", NULL},
                                 {"stratum+tcp://a:1", "w", NULL}};
  assert_refused(&(AmActionRequest){.kind = AM_ACTION_POOLS, .pools = four, .n_pools = 4},
                 AM_ERROR_CONFIG, "not 4");
  const AmPoolSetting bad_url[] = {{"pool.example:3333", "w", NULL}};
  assert_refused(&(AmActionRequest){.kind = AM_ACTION_POOLS, .pools = bad_url, .n_pools = 1},
                 AM_ERROR_CONFIG, "pool 1: the URL");
  const AmPoolSetting no_user[] = {{"stratum+tcp://a:1", "w", NULL},
                                   {"stratum+tcp://a:1", "", NULL}};
  assert_refused(&(AmActionRequest){.kind = AM_ACTION_POOLS, .pools = no_user, .n_pools = 2},
                 AM_ERROR_CONFIG, "pool 2: a worker");
  const AmPoolSetting bad_pass[] = {{"stratum+tcp://a:1", "w", "x\ny"}};
  assert_refused(&(AmActionRequest){.kind = AM_ACTION_POOLS, .pools = bad_pass, .n_pools = 1},
                 AM_ERROR_CONFIG, "control character");
}

/* A conf without any mode field cannot sleep; pools still build. */
static void
test_build_no_mode(void)
{
  g_autoptr(JsonObject) conf = object("{\"pools\":[]}");
  AmAntminerWebWrite w;
  g_autoptr(GError) error = NULL;
  g_assert_false(
      am_antminer_web_build_write(&(AmActionRequest){.kind = AM_ACTION_PAUSE}, conf, &w, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  g_assert_false(
      am_antminer_web_build_write(&(AmActionRequest){.kind = AM_ACTION_RESUME}, NULL, &w, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
}

static void
assert_reply(AmActionKind kind, gboolean on, const char *body, gint code, const char *text)
{
  g_autoptr(GError) error = NULL;
  gboolean ok =
      am_antminer_web_check_reply(kind, on, body, body != NULL ? strlen(body) : 0, &error);
  if (code == 0) {
    g_assert_no_error(error);
    g_assert_true(ok);
    return;
  }
  g_assert_false(ok);
  g_assert_error(error, AM_ERROR, code);
  if (strstr(error->message, text) == NULL)
    g_error("expected '%s' in '%s'", text, error->message);
}

static void
test_check_reply(void)
{
  assert_reply(AM_ACTION_PAUSE, FALSE, "{\"stats\":\"success\",\"code\":\"M000\",\"msg\":\"OK!\"}",
               0, NULL);
  assert_reply(AM_ACTION_POOLS, FALSE, "{\"stats\":\"error\",\"code\":\"M001\",\"msg\":\"bad\"}",
               AM_ERROR_API, "refused the setting: bad (stats error, code M001)");
  assert_reply(AM_ACTION_WORK_MODE, FALSE, "<html>", AM_ERROR_PARSE, "other than JSON");
  assert_reply(AM_ACTION_LOCATE, TRUE, "{\"code\":\"B000\"}", 0, NULL);
  assert_reply(AM_ACTION_LOCATE, FALSE, "{\"code\":\"B100\"}", 0, NULL);
  assert_reply(AM_ACTION_LOCATE, TRUE, "{\"code\":\"B100\"}", AM_ERROR_API, "light on (code B100)");
  assert_reply(AM_ACTION_LOCATE, TRUE, "", 0, NULL); /* older images answer nothing */
  assert_reply(AM_ACTION_REBOOT, FALSE, "<html>rebooting</html>", 0, NULL);
}

static void
test_read_conf_and_blink(void)
{
  const struct {
    const char *conf;
    AmMiningState mining;
    const char *mode;
  } cases[] = {
      {conf_s19xp, AM_MINING_HASHING, "normal"},
      {"{\"bitmain-work-mode\":\"1\"}", AM_MINING_SLEEPING, NULL},
      {"{\"miner-mode\":1}", AM_MINING_SLEEPING, NULL},
      {"{\"bitmain-work-mode\":3}", AM_MINING_HASHING, "low"},
      {"{\"bitmain-work-mode\":\"2\"}", AM_MINING_HASHING, "high"},
      {"{\"bitmain-work-mode\":\"\"}", AM_MINING_UNKNOWN, NULL},
      {"{\"pools\":[]}", AM_MINING_UNKNOWN, NULL},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(AmSample) s = am_sample_new();
    g_autoptr(JsonObject) conf = object(cases[i].conf);
    am_antminer_web_read_miner_conf(s, conf);
    g_assert_cmpint(s->mining, ==, cases[i].mining);
    g_assert_cmpstr(s->work_mode, ==, cases[i].mode);
  }
  /* asic-rs's recorded get_blink_status (an Elphapex, Bitmain's CGI). */
  g_autoptr(JsonObject) recorded = NULL;
  {
    g_autofree char *path = am_test_path("fixtures/elphapex/asicrs-v1_get_blink_status.json");
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    recorded = object(text);
  }
  const struct {
    JsonObject *reply;
    gint locate;
  } blinks[] = {
      {recorded, FALSE},
      {object("{\"blink\":true}"), TRUE},
      {object("{\"blink\":\"true\"}"), TRUE},
      {object("{\"isBlinking\":false}"), FALSE},
      {object("{\"code\":\"B000\"}"), AM_UNKNOWN},
  };
  for (guint i = 0; i < G_N_ELEMENTS(blinks); i++) {
    g_autoptr(AmSample) s = am_sample_new();
    am_antminer_web_read_blink(s, blinks[i].reply);
    g_assert_cmpint(s->locate, ==, blinks[i].locate);
    if (i > 0)
      json_object_unref(blinks[i].reply);
  }
}

static void
test_actions(void)
{
  const AmActionSet always = AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_LOCATE);
  const AmActionSet conf = AM_ACTION_BIT(AM_ACTION_PAUSE) | AM_ACTION_BIT(AM_ACTION_RESUME) |
                           AM_ACTION_BIT(AM_ACTION_WORK_MODE) | AM_ACTION_BIT(AM_ACTION_POOLS);
  g_assert_cmphex(am_antminer_web_actions(NULL), ==, always | conf);
  g_autoptr(AmSample) modern = am_sample_new();
  g_autoptr(JsonObject) c = object(conf_s19xp);
  am_antminer_web_read_miner_conf(modern, c);
  g_assert_cmphex(am_antminer_web_actions(modern), ==, always | conf);
  g_autoptr(AmSample) asleep = am_sample_new();
  asleep->mining = AM_MINING_SLEEPING;
  g_assert_cmphex(am_antminer_web_actions(asleep), ==, always | conf);
  /* No get_miner_conf mode seen (an image without it): reboot and light. */
  g_autoptr(AmSample) old = am_sample_new();
  g_assert_cmphex(am_antminer_web_actions(old), ==, always);
  g_assert_false(am_antminer_web_actions(modern) & AM_ACTION_BIT(AM_ACTION_POWER_TARGET));
  g_assert_false(am_antminer_web_actions(modern) & AM_ACTION_BIT(AM_ACTION_RESTART));
}

/* ---- the module against a local stock web server ------------------------ */

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *password;
  JsonObject *conf;  /* what get_miner_conf.cgi serves; set_miner_conf changes it */
  gboolean blink;    /* what get_blink_status.cgi serves */
  gboolean refuse;   /* set_miner_conf answers an error */
  GPtrArray *writes; /* "METHOD PATH\nCONTENT-TYPE\nBODY" per POST */
  guint gets;
} Fake;

static char *
fake_password(SoupAuthDomain *domain, SoupServerMessage *msg, const char *username, gpointer data)
{
  Fake *f = data;
  if (g_strcmp0(username, "root") != 0)
    return NULL;
  return soup_auth_domain_digest_encode_password(username, AM_ANTMINER_WEB_REALM, f->password);
}

static void
reply_json(SoupServerMessage *msg, const char *json)
{
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, json, strlen(json));
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
reply_file(SoupServerMessage *msg, const char *name)
{
  g_autofree char *path = am_test_path(name);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  reply_json(msg, text);
}

/* set_miner_conf.cgi as the S19 XP behaves: "miner-mode" (a number) sets
 * the mode, which get_miner_conf then reads back as a string under
 * "bitmain-work-mode"; the pools posted replace the pools. */
static void
apply_conf(Fake *f, JsonObject *posted)
{
  JsonNode *mode = json_object_get_member(posted, "miner-mode");
  if (mode != NULL && json_node_get_value_type(mode) == G_TYPE_INT64) {
    g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(mode));
    json_object_set_string_member(f->conf, "bitmain-work-mode", text);
  }
  JsonNode *pools = json_object_get_member(posted, "pools");
  if (pools != NULL)
    json_object_set_member(f->conf, "pools", json_node_copy(pools));
}

static void
serve_post(Fake *f, SoupServerMessage *msg, const char *path)
{
  SoupMessageBody *req = soup_server_message_get_request_body(msg);
  const char *type =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Content-Type");
  g_ptr_array_add(f->writes,
                  g_strdup_printf("POST %s\n%s\n%.*s", path, type, (int)req->length, req->data));
  g_autoptr(JsonNode) root = json_from_string(req->data, NULL);
  JsonObject *posted =
      root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  if (g_str_equal(path, "/cgi-bin/blink.cgi") && posted != NULL) {
    f->blink = g_strcmp0(json_object_get_string_member(posted, "blink"), "true") == 0;
    reply_json(msg, f->blink ? "{\"code\":\"B000\"}" : "{\"code\":\"B100\"}");
  } else if (g_str_equal(path, "/cgi-bin/set_miner_conf.cgi") && posted != NULL) {
    if (f->refuse) {
      reply_json(msg, "{\"stats\":\"error\",\"code\":\"M001\",\"msg\":\"Invalid pool url\"}");
      return;
    }
    apply_conf(f, posted);
    reply_json(msg, "{\"stats\":\"success\",\"code\":\"M000\",\"msg\":\"OK!\"}");
  } else if (g_str_equal(path, "/cgi-bin/reboot.cgi")) {
    reply_json(msg, "{}");
  } else {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
  }
}

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer data)
{
  Fake *f = data;
  if (g_str_equal(soup_server_message_get_method(msg), "POST")) {
    serve_post(f, msg, path);
    return;
  }
  f->gets++;
  if (g_str_equal(path, "/cgi-bin/summary.cgi"))
    reply_file(msg, "fixtures/http-cgi/s23hyd_summary.json");
  else if (g_str_equal(path, "/cgi-bin/stats.cgi"))
    reply_file(msg, "fixtures/http-cgi/s23hyd_stats.json");
  else if (g_str_equal(path, "/cgi-bin/get_miner_conf.cgi") && f->conf != NULL) {
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(node, f->conf);
    g_autofree char *text = json_to_string(node, FALSE);
    reply_json(msg, text);
  } else if (g_str_equal(path, "/cgi-bin/get_blink_status.cgi"))
    reply_json(msg, f->blink ? "{\"blink\":true}" : "{\"blink\":false}");
  else
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
fake_start(Fake *f, const char *password)
{
  *f = (Fake){.password = password,
              .conf = object(conf_s19xp),
              .writes = g_ptr_array_new_with_free_func(g_free)};
  f->server = soup_server_new(NULL, NULL);
  SoupAuthDomain *domain = soup_auth_domain_digest_new("realm", AM_ANTMINER_WEB_REALM, NULL);
  soup_auth_domain_digest_set_auth_callback(domain, fake_password, f, NULL);
  soup_auth_domain_add_path(domain, "/");
  soup_server_add_auth_domain(f->server, domain);
  g_object_unref(domain);
  soup_server_add_handler(f->server, "/cgi-bin", serve, f, NULL);
  f->port = am_test_soup_listen_loopback(f->server);
}

static void
fake_stop(Fake *f)
{
  am_test_soup_stop(f->server, g_ptr_array_new());
  g_clear_pointer(&f->conf, json_object_unref);
  g_ptr_array_unref(f->writes);
}

typedef struct {
  AmLoadedPlugin *plugin;
  const AmDriverVTable *vt;
  gpointer self;
  AmMiner *miner;
} Driver;

static void
driver_open(Driver *d, Fake *f, const char *ini)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-antminer-web.so", NULL);
  g_autoptr(GError) error = NULL;
  d->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  d->vt = d->plugin->info->vtable.driver;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (ini != NULL)
    g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  d->self = d->plugin->info->create(NULL, ini != NULL ? kf : NULL, "driver:antminer-web", &error);
  g_assert_no_error(error);
  d->miner = am_miner_new("127.0.0.1", f->port);
  am_miner_set_timeout_ms(d->miner, 5000);
}

static void
driver_close(Driver *d)
{
  am_miner_unref(d->miner);
  d->plugin->info->destroy(d->self);
  am_loaded_plugin_free(d->plugin);
}

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref(result);
}

static gboolean
act(Driver *d, const AmActionRequest *request, GError **error)
{
  GAsyncResult *result = NULL;
  d->vt->act_async(d->self, d->miner, request, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  gboolean ok = d->vt->act_finish(d->self, result, error);
  g_object_unref(result);
  return ok;
}

static AmSample *
poll(Driver *d)
{
  GAsyncResult *result = NULL;
  d->vt->poll_async(d->self, d->miner, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  g_autoptr(GError) error = NULL;
  AmSample *s = d->vt->poll_finish(d->self, result, &error);
  g_assert_no_error(error);
  g_object_unref(result);
  return s;
}

static void
assert_last_write(Fake *f, const char *expected)
{
  g_assert_cmpuint(f->writes->len, >, 0);
  g_assert_cmpstr(g_ptr_array_index(f->writes, f->writes->len - 1), ==, expected);
}

/* Every action over digest root/root: the exact request arrives, and the
 * next poll shows its effect (mining, work_mode, locate, pools). */
static void
test_module_actions(void)
{
  Fake f;
  fake_start(&f, "root");
  Driver d;
  driver_open(&d, &f, NULL);
  g_assert_nonnull(d.vt->actions);
  g_autoptr(GError) error = NULL;

  /* The first action of a fresh session: the digest challenge must not
   * cost the POST its body (the GET of the conf takes it). */
  g_assert_true(act(&d, &(AmActionRequest){.kind = AM_ACTION_LOCATE, .on = FALSE}, &error));
  g_assert_no_error(error);
  assert_last_write(&f, "POST /cgi-bin/blink.cgi\n" JSON_TYPE "\n{\"blink\":\"false\"}");

  g_autoptr(AmSample) before = poll(&d);
  g_assert_cmpint(before->mining, ==, AM_MINING_HASHING);
  g_assert_cmpstr(before->work_mode, ==, "normal");
  g_assert_cmpint(before->locate, ==, FALSE);
  g_assert_cmphex(d.vt->actions(d.self, d.miner, before), ==, am_antminer_web_actions(NULL));

  g_assert_true(act(&d, &(AmActionRequest){.kind = AM_ACTION_PAUSE}, &error));
  g_assert_no_error(error);
  assert_last_write(&f, "POST /cgi-bin/set_miner_conf.cgi\n" FORM "\n" FORM_HEAD
                        "\"miner-mode\":1,\"bitmain-work-mode\":1," KEPT_POOLS "}");
  g_autoptr(AmSample) paused = poll(&d);
  g_assert_cmpint(paused->mining, ==, AM_MINING_SLEEPING);

  g_assert_true(act(&d, &(AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "low"}, &error));
  g_assert_no_error(error);
  assert_last_write(&f, "POST /cgi-bin/set_miner_conf.cgi\n" FORM "\n" FORM_HEAD
                        "\"miner-mode\":3,\"bitmain-work-mode\":3," KEPT_POOLS "}");
  g_autoptr(AmSample) low = poll(&d);
  g_assert_cmpint(low->mining, ==, AM_MINING_HASHING);
  g_assert_cmpstr(low->work_mode, ==, "low");

  g_assert_true(act(&d, &(AmActionRequest){.kind = AM_ACTION_RESUME}, &error));
  g_assert_no_error(error);
  assert_last_write(&f, "POST /cgi-bin/set_miner_conf.cgi\n" FORM "\n" FORM_HEAD
                        "\"miner-mode\":0,\"bitmain-work-mode\":0," KEPT_POOLS "}");

  g_assert_true(act(&d, &(AmActionRequest){.kind = AM_ACTION_LOCATE, .on = TRUE}, &error));
  g_assert_no_error(error);
  assert_last_write(&f, "POST /cgi-bin/blink.cgi\n" JSON_TYPE "\n{\"blink\":\"true\"}");
  g_autoptr(AmSample) lit = poll(&d);
  g_assert_cmpint(lit->locate, ==, TRUE);

  const AmPoolSetting pools[] = {{"stratum+tcp://new.example:3333", "farm.a1", "p"}};
  g_assert_true(
      act(&d, &(AmActionRequest){.kind = AM_ACTION_POOLS, .pools = pools, .n_pools = 1}, &error));
  g_assert_no_error(error);
  assert_last_write(&f, "POST /cgi-bin/set_miner_conf.cgi\n" FORM "\n" FORM_HEAD
                        "\"miner-mode\":0,\"bitmain-work-mode\":0,\"pools\":[{\"url\":"
                        "\"stratum+tcp://new.example:3333\",\"user\":\"farm.a1\",\"pass\":\"p\"},"
                        "{\"url\":\"\",\"user\":\"\",\"pass\":\"\"},{\"url\":\"\",\"user\":\"\","
                        "\"pass\":\"\"}]}");

  g_assert_true(act(&d, &(AmActionRequest){.kind = AM_ACTION_REBOOT}, &error));
  g_assert_no_error(error);
  assert_last_write(&f, "POST /cgi-bin/reboot.cgi\n" JSON_TYPE "\n{}");
  g_assert_cmpuint(f.writes->len, ==, 7);
  driver_close(&d);
  fake_stop(&f);
}

/* A wrong password: AUTH naming the user, nothing written. The miner's
 * own credentials then win over the driver's. */
static void
test_module_wrong_password(void)
{
  Fake f;
  fake_start(&f, "s3cret");
  Driver d;
  driver_open(&d, &f, "[driver:antminer-web]\npassword=wrong\n");
  g_autoptr(GError) error = NULL;
  g_assert_false(act(&d, &(AmActionRequest){.kind = AM_ACTION_REBOOT}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: root was refused by the miner's web login (401)", f.port);
  g_assert_cmpstr(error->message, ==, expected);
  g_assert_null(strstr(error->message, "wrong"));
  g_assert_cmpuint(f.writes->len, ==, 0);
  g_clear_error(&error);
  g_assert_false(act(&d, &(AmActionRequest){.kind = AM_ACTION_PAUSE}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_clear_error(&error);

  am_miner_set_credentials(d.miner, "root", "s3cret");
  gboolean ok = act(&d, &(AmActionRequest){.kind = AM_ACTION_LOCATE, .on = FALSE}, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  assert_last_write(&f, "POST /cgi-bin/blink.cgi\n" JSON_TYPE "\n{\"blink\":\"false\"}");
  driver_close(&d);
  fake_stop(&f);
}

/* The firmware's refusal is an API error with its message; an action the
 * firmware lacks is UNSUPPORTED before anything is sent; a conf without a
 * mode cannot sleep. */
static void
test_module_refusals(void)
{
  Fake f;
  fake_start(&f, "root");
  f.refuse = TRUE;
  Driver d;
  driver_open(&d, &f, NULL);
  g_autoptr(GError) error = NULL;
  const AmPoolSetting pools[] = {{"stratum+tcp://new.example:3333", "farm.a1", NULL}};
  g_assert_false(
      act(&d, &(AmActionRequest){.kind = AM_ACTION_POOLS, .pools = pools, .n_pools = 1}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "Invalid pool url"));
  g_assert_nonnull(strstr(error->message, "/cgi-bin/set_miner_conf.cgi"));
  g_clear_error(&error);

  guint writes = f.writes->len, gets = f.gets;
  g_assert_false(
      act(&d, &(AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 3000}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  g_assert_false(act(&d, &(AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "eco"}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_clear_error(&error);
  g_assert_cmpuint(f.writes->len, ==, writes);
  g_assert_cmpuint(f.gets, ==, gets);

  json_object_remove_member(f.conf, "bitmain-work-mode");
  g_assert_false(act(&d, &(AmActionRequest){.kind = AM_ACTION_PAUSE}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "cannot sleep"));
  g_clear_error(&error);
  g_assert_cmpuint(f.writes->len, ==, writes);
  /* And the poll then offers no mode actions. */
  g_autoptr(AmSample) s = poll(&d);
  g_assert_cmpint(s->mining, ==, AM_MINING_UNKNOWN);
  g_assert_false(d.vt->actions(d.self, d.miner, s) & AM_ACTION_BIT(AM_ACTION_PAUSE));

  /* No get_miner_conf.cgi at all (404): UNSUPPORTED from am-web-call. */
  g_clear_pointer(&f.conf, json_object_unref);
  g_assert_false(act(&d, &(AmActionRequest){.kind = AM_ACTION_RESUME}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  driver_close(&d);
  fake_stop(&f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/antminer-web/action/build/reboot-locate", test_build_reboot_locate);
  g_test_add_func("/antminer-web/action/build/modes", test_build_modes);
  g_test_add_func("/antminer-web/action/build/pools", test_build_pools);
  g_test_add_func("/antminer-web/action/build/no-mode", test_build_no_mode);
  g_test_add_func("/antminer-web/action/check-request", test_check_request);
  g_test_add_func("/antminer-web/action/check-reply", test_check_reply);
  g_test_add_func("/antminer-web/action/read-conf-blink", test_read_conf_and_blink);
  g_test_add_func("/antminer-web/action/actions", test_actions);
  g_test_add_func("/antminer-web/action/module/actions", test_module_actions);
  g_test_add_func("/antminer-web/action/module/wrong-password", test_module_wrong_password);
  g_test_add_func("/antminer-web/action/module/refusals", test_module_refusals);
  return g_test_run();
}
