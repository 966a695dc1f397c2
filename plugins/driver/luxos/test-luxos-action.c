/* LuxOS actions: the exact commands (pure builder, profile choice, session
 * reply), the locate light in a poll, then the built driver-luxos.so
 * against a fake LuxOS API on 127.0.0.1 that keeps one session as the
 * firmware does and records every command it is sent. */
#include "../common/am-driver-test-util.h"
#include "am-luxos-action.h"
#include "am-luxos-parse.h"
#include "am-test-util.h"

#include <string.h>

#define ALL_LUXOS                                                                                  \
  (AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_RESTART) |                            \
   AM_ACTION_BIT(AM_ACTION_PAUSE) | AM_ACTION_BIT(AM_ACTION_RESUME) |                              \
   AM_ACTION_BIT(AM_ACTION_POWER_TARGET) | AM_ACTION_BIT(AM_ACTION_WORK_MODE) |                    \
   AM_ACTION_BIT(AM_ACTION_LOCATE) | AM_ACTION_BIT(AM_ACTION_POOLS))

static AmActionRequest
request(AmActionKind kind)
{
  return (AmActionRequest){.struct_size = sizeof(AmActionRequest), .kind = kind};
}

/* ---- pure ---------------------------------------------------------------------- */

static void
assert_build(const AmActionRequest *r, const char *profile, const char *command,
             const char *parameter)
{
  AmLuxosWrite w;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_luxos_action_build(r, "sid9", profile, &w, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(w.command, ==, command);
  g_assert_cmpstr(w.parameter, ==, parameter);
  am_luxos_write_clear(&w);
}

static void
test_build(void)
{
  AmActionRequest r = request(AM_ACTION_REBOOT);
  assert_build(&r, NULL, "rebootdevice", "sid9");
  r.kind = AM_ACTION_RESTART;
  assert_build(&r, NULL, "resetminer", "sid9");
  r.kind = AM_ACTION_PAUSE;
  assert_build(&r, NULL, "curtail", "sid9,sleep");
  r.kind = AM_ACTION_RESUME;
  assert_build(&r, NULL, "curtail", "sid9,wakeup");
  r.kind = AM_ACTION_LOCATE;
  r.on = TRUE;
  assert_build(&r, NULL, "ledset", "sid9,red,blink");
  r.on = FALSE;
  assert_build(&r, NULL, "ledset", "sid9,red,auto");
  r = request(AM_ACTION_WORK_MODE);
  r.mode = AM_WORK_MODE_NORMAL;
  assert_build(&r, NULL, "profileset", "sid9,default");
  r = request(AM_ACTION_POWER_TARGET);
  r.watts = 3000;
  assert_build(&r, "615MHz", "profileset", "sid9,615MHz");
}

static void
assert_invalid(const AmActionRequest *r, gint code, const char *words)
{
  g_autoptr(GError) error = NULL;
  g_assert_false(am_luxos_action_validate(r, &error));
  g_assert_error(error, AM_ERROR, code);
  g_assert_nonnull(strstr(error->message, words));
  g_clear_error(&error);
  AmLuxosWrite w;
  g_assert_false(am_luxos_action_build(r, "sid9", "x", &w, &error));
  g_assert_error(error, AM_ERROR, code);
  g_assert_null(w.parameter);
}

static void
test_invalid(void)
{
  AmActionRequest r = request(AM_ACTION_WORK_MODE);
  r.mode = AM_WORK_MODE_LOW;
  assert_invalid(&r, AM_ERROR_UNSUPPORTED, "power_target");
  r.mode = AM_WORK_MODE_HIGH;
  assert_invalid(&r, AM_ERROR_UNSUPPORTED, "work_mode high");
  r.mode = "turbo";
  assert_invalid(&r, AM_ERROR_CONFIG, "turbo");
  r = request(AM_ACTION_POWER_TARGET);
  r.watts = 50;
  assert_invalid(&r, AM_ERROR_CONFIG, "50 W");
  r.watts = 90000;
  assert_invalid(&r, AM_ERROR_CONFIG, "90000 W");
  r = request(AM_ACTION_POOLS);
  assert_invalid(&r, AM_ERROR_CONFIG, "1 to 3 pools");
  AmPoolSetting comma[] = {{"stratum+tcp://a:3333", "w,1", NULL}};
  r.pools = comma;
  r.n_pools = 1;
  assert_invalid(&r, AM_ERROR_CONFIG, "user of pool 1 has a comma");
  AmPoolSetting no_url[] = {{"", "w", NULL}};
  r.pools = no_url;
  assert_invalid(&r, AM_ERROR_CONFIG, "pool 1 has no url");
}

static const AmPoolSetting new_pools[] = {{"stratum+tcp://new-a:3333", "farm.w1", NULL},
                                          {"stratum+tcp://new-b:3333", "farm.w1", "secret"}};

/* Two new pools over three old: add both (indexes 3, 4), switch to 3,
 * remove the old three, each time at index 0. */
static void
test_pool_writes(void)
{
  AmActionRequest r = request(AM_ACTION_POOLS);
  r.pools = new_pools;
  r.n_pools = 2;
  g_assert_true(am_luxos_action_validate(&r, NULL));
  g_autoptr(GArray) w = am_luxos_pool_writes(&r, 3);
  const char *expected[] = {"addpool|stratum+tcp://new-a:3333,farm.w1,x",
                            "addpool|stratum+tcp://new-b:3333,farm.w1,secret",
                            "switchpool|3",
                            "removepool|0",
                            "removepool|0",
                            "removepool|0"};
  g_assert_cmpuint(w->len, ==, G_N_ELEMENTS(expected));
  for (guint i = 0; i < w->len; i++) {
    const AmLuxosWrite *x = &g_array_index(w, AmLuxosWrite, i);
    g_autofree char *got = g_strconcat(x->command, "|", x->parameter, NULL);
    g_assert_cmpstr(got, ==, expected[i]);
  }
  /* The builder for single commands does not take pools. */
  AmLuxosWrite one;
  g_autoptr(GError) error = NULL;
  g_assert_false(am_luxos_action_build(&r, "sid9", NULL, &one, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
}

static void
test_pick_profile(void)
{
  /* Recorded S19k Pro profiles: 190MHz 784 W ... 615MHz 2954 W,
   * 640MHz 3119 W, ... 790MHz 4195 W, "default" 2794 W. */
  g_autoptr(JsonObject) profiles = am_test_fixture_object("luxminer/asicrs-v1_profiles.json");
  g_autoptr(GError) error = NULL;
  struct {
    guint watts;
    const char *profile;
  } cases[] = {{3000, "615MHz"}, {2900, "default"}, {784, "190MHz"},
               {800, "190MHz"},  {9000, "790MHz"},  {3119, "640MHz"}};
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *p = am_luxos_pick_profile(profiles, cases[i].watts, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(p, ==, cases[i].profile);
  }
  g_assert_null(am_luxos_pick_profile(profiles, 700, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "190MHz, 784 W"));
  g_clear_error(&error);
  g_autoptr(JsonObject) empty = am_test_object_from_string("{\"PROFILES\":[]}");
  g_assert_null(am_luxos_pick_profile(empty, 3000, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
}

static void
test_session_id(void)
{
  g_autoptr(JsonObject) open = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\",\"Msg\":\"Session\"}],\"SESSION\":[{\"SessionID\":\"ab\"}]}");
  g_autofree char *id = am_luxos_session_id(open);
  g_assert_cmpstr(id, ==, "ab");
  g_autoptr(JsonObject) none = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\"}],\"SESSION\":[{\"SessionID\":\"\"}]}");
  g_assert_null(am_luxos_session_id(none));
  g_autoptr(JsonObject) other = am_test_object_from_string("{\"STATUS\":[{\"STATUS\":\"S\"}]}");
  g_assert_null(am_luxos_session_id(other));
}

static void
test_actions(void)
{
  g_assert_cmpuint(am_luxos_actions(NULL), ==, ALL_LUXOS);
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->firmware, "LUXminer");
  am_sample_set(s, &s->firmware_version, "2025.4.8.220305-57b389c7");
  g_assert_cmpuint(am_luxos_actions(s), ==, ALL_LUXOS);
  g_assert_true(am_luxos_actions(s) & AM_ACTION_BIT(AM_ACTION_POOLS));
}

/* config RedLed: "auto" as recorded (off), "blink" after ledset. */
static void
test_poll_locate(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object("luxminer/asicrs-v1_summary.json");
  g_autoptr(JsonObject) config = am_test_fixture_object("luxminer/asicrs-v1_config.json");
  AmLuxosReplies r = {.summary = summary, .config = config};
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) off = am_luxos_parse(&r, &error);
  g_assert_no_error(error);
  g_assert_cmpint(off->locate, ==, FALSE);
  g_autoptr(JsonObject) blink = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\"}],\"CONFIG\":[{\"RedLed\":\"blink\",\"CurtailMode\":"
      "\"Sleep\"}]}");
  r.config = blink;
  g_autoptr(AmSample) on = am_luxos_parse(&r, &error);
  g_assert_no_error(error);
  g_assert_cmpint(on->locate, ==, TRUE);
  g_assert_cmpint(on->mining, ==, AM_MINING_SLEEPING);
  g_autoptr(JsonObject) unknown =
      am_test_object_from_string("{\"STATUS\":[{\"STATUS\":\"S\"}],\"CONFIG\":[{}]}");
  r.config = unknown;
  g_autoptr(AmSample) no_led = am_luxos_parse(&r, &error);
  g_assert_cmpint(no_led->locate, ==, AM_UNKNOWN);
}

/* ---- a fake LuxOS API ------------------------------------------------------------- */

/* As docs.luxor.tech shows it: "session" answers the open session's id or
 * "" (319), "logon" opens one when none is (316), each write command takes
 * the session id as its first parameter field. */

typedef struct {
  GSocketService *service;
  guint16 port;
  GMutex lock; /* the handler runs in the service's threads */
  char *sid;   /* the one open session, or NULL */
  guint logons;
  GPtrArray *log;       /* "command" or "command|parameter", in order */
  gboolean refuse;      /* answer write commands with an error */
  gboolean drop_reboot; /* close on rebootdevice without answering */
  GPtrArray *pools;     /* pool urls, in order */
  guint active;         /* index of the active pool */
  char *refuse_pool;    /* answer this pool command with an error */
} FakeLux;

static const char *const writes[] = {"curtail", "rebootdevice", "resetminer",
                                     "ledset",  "profileset",   NULL};

static char *
status(const char *letter, int code, const char *msg, const char *extra)
{
  return g_strdup_printf("{\"STATUS\":[{\"STATUS\":\"%s\",\"When\":1,\"Code\":%d,\"Msg\":\"%s\","
                         "\"Description\":\"LUXminer 2025.4.8.220305-57b389c7\"}]%s,\"id\":1}",
                         letter, code, msg, extra != NULL ? extra : "");
}

static char *
pools_reply(FakeLux *f)
{
  GString *list = g_string_new(",\"POOLS\":[");
  for (guint i = 0; i < f->pools->len; i++)
    g_string_append_printf(list, "%s{\"POOL\":%u,\"URL\":\"%s\",\"Stratum Active\":%s}",
                           i > 0 ? "," : "", i, (char *)f->pools->pdata[i],
                           i == f->active ? "true" : "false");
  g_string_append(list, "]");
  g_autofree char *extra = g_string_free(list, FALSE);
  return status("S", 7, "Pools", extra);
}

/* addpool "url,user,pass", switchpool N, removepool N as cgminer does
 * them: removing renumbers, the active pool cannot be removed. */
static char *
pool_answer(FakeLux *f, const char *command, const char *parameter)
{
  if (g_strcmp0(command, f->refuse_pool) == 0)
    return status("E", 26, "Invalid pool id", NULL);
  if (g_str_equal(command, "addpool")) {
    g_auto(GStrv) fields = g_strsplit(parameter != NULL ? parameter : "", ",", -1);
    if (g_strv_length(fields) != 3)
      return status("E", 25, "Missing addpool details", NULL);
    g_ptr_array_add(f->pools, g_strdup(fields[0]));
    return status("S", 55, "Added pool", NULL);
  }
  guint64 n = 0;
  if (!g_ascii_string_to_unsigned(parameter, 10, 0, f->pools->len - 1, &n, NULL))
    return status("E", 26, "Invalid pool id", NULL);
  if (g_str_equal(command, "switchpool")) {
    f->active = n;
    return status("S", 27, "Switching to pool", NULL);
  }
  if (n == f->active)
    return status("E", 67, "Cannot remove active pool", NULL);
  g_ptr_array_remove_index(f->pools, n);
  if (n < f->active)
    f->active--;
  return status("S", 68, "Removed pool", NULL);
}

/* What LuxOS answers to @command with @parameter ("sid,args"); NULL: drop. */
static char *
answer(FakeLux *f, const char *command, const char *parameter)
{
  if (g_str_equal(command, "pools"))
    return pools_reply(f);
  if (g_str_equal(command, "addpool") || g_str_equal(command, "switchpool") ||
      g_str_equal(command, "removepool"))
    return pool_answer(f, command, parameter);
  if (g_str_equal(command, "session")) {
    g_autofree char *s =
        g_strdup_printf(",\"SESSION\":[{\"SessionID\":\"%s\"}]", f->sid != NULL ? f->sid : "");
    return status("S", 319, "Session information", s);
  }
  if (g_str_equal(command, "logon")) {
    if (f->sid != NULL)
      return status("E", 341, "Another session is active", NULL);
    f->sid = g_strdup_printf("lux-%u", ++f->logons);
    g_autofree char *s = g_strdup_printf(",\"SESSION\":[{\"SessionID\":\"%s\"}]", f->sid);
    return status("S", 316, "Session created", s);
  }
  if (g_str_equal(command, "profiles")) {
    g_autoptr(GBytes) bytes = am_test_fixture_bytes("luxminer/asicrs-v1_profiles.json");
    return g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
  }
  g_auto(GStrv) args = g_strsplit(parameter != NULL ? parameter : "", ",", 2);
  gboolean session_ok = f->sid != NULL && args[0] != NULL && g_str_equal(args[0], f->sid);
  if (g_str_equal(command, "logoff")) {
    if (!session_ok)
      return status("E", 343, "Invalid session id", NULL);
    g_clear_pointer(&f->sid, g_free);
    return status("S", 344, "Session closed", NULL);
  }
  if (!g_strv_contains(writes, command))
    return status("E", 14, "Invalid command", NULL);
  if (!session_ok)
    return status("E", 343, "Invalid session id", NULL);
  if (g_str_equal(command, "rebootdevice") && f->drop_reboot)
    return NULL;
  if (f->refuse)
    return status("E", 350, "Profile 615MHz not found", NULL);
  /* Codes and words of docs.luxor.tech's examples. */
  if (g_str_equal(command, "curtail"))
    return status("S", 335, "Curtailment command sent",
                  ",\"CURTAIL\":[{\"Action\":\"sleep mode\"}]");
  if (g_str_equal(command, "profileset"))
    return status("S", 321, "Profile Set", NULL);
  return status("S", 300, "Command accepted", NULL);
}

static gboolean
serve(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
      gpointer user_data)
{
  FakeLux *f = user_data;
  char buf[4096];
  gssize n = g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(connection)), buf,
                                 sizeof buf - 1, NULL, NULL);
  if (n <= 0)
    return TRUE;
  buf[n] = '\0';
  g_autoptr(JsonNode) req = json_from_string(buf, NULL);
  JsonObject *o = req != NULL && JSON_NODE_HOLDS_OBJECT(req) ? json_node_get_object(req) : NULL;
  const char *command =
      o != NULL ? json_object_get_string_member_with_default(o, "command", "") : "";
  const char *parameter =
      o != NULL ? json_object_get_string_member_with_default(o, "parameter", NULL) : NULL;
  g_mutex_lock(&f->lock);
  g_ptr_array_add(f->log, parameter != NULL ? g_strconcat(command, "|", parameter, NULL)
                                            : g_strdup(command));
  g_autofree char *reply = answer(f, command, parameter);
  g_mutex_unlock(&f->lock);
  if (reply != NULL)
    g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(connection)), reply,
                              strlen(reply), NULL, NULL, NULL);
  return TRUE;
}

static void
fake_start(FakeLux *f)
{
  *f = (FakeLux){.log = g_ptr_array_new_with_free_func(g_free),
                 .pools = g_ptr_array_new_with_free_func(g_free)};
  g_ptr_array_add(f->pools, g_strdup("stratum+tcp://old-a:700"));
  g_ptr_array_add(f->pools, g_strdup("stratum+tcp://old-b:700"));
  g_mutex_init(&f->lock);
  f->service = g_threaded_socket_service_new(4);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(f->service), any, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  f->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(f->service, "run", G_CALLBACK(serve), f);
  g_socket_service_start(f->service);
}

static void
fake_stop(FakeLux *f)
{
  g_socket_service_stop(f->service);
  g_socket_listener_close(G_SOCKET_LISTENER(f->service));
  g_object_unref(f->service);
  g_ptr_array_unref(f->log);
  g_ptr_array_unref(f->pools);
  g_free(f->sid);
  g_mutex_clear(&f->lock);
}

/* Asserts the fake was sent exactly @expected (NULL-terminated), then
 * forgets it. */
static void
assert_log(FakeLux *f, const char *const *expected)
{
  g_mutex_lock(&f->lock);
  guint n = g_strv_length((char **)expected);
  for (guint i = 0; i < MIN(n, f->log->len); i++)
    g_assert_cmpstr(g_ptr_array_index(f->log, i), ==, expected[i]);
  g_assert_cmpuint(f->log->len, ==, n);
  g_ptr_array_set_size(f->log, 0);
  g_mutex_unlock(&f->lock);
}

/* ---- the module ------------------------------------------------------------------- */

static void
assert_act(AmTestDriver *d, FakeLux *f, AmMiner *miner, const AmActionRequest *r, const char *write)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(am_test_driver_act(d, miner, r, &error));
  g_assert_no_error(error);
  const char *expected[] = {"session", "logon", write, "logoff|lux-1", NULL};
  g_mutex_lock(&f->lock);
  f->logons = 0; /* each action opens lux-1 again */
  g_mutex_unlock(&f->lock);
  assert_log(f, expected);
}

static void
test_module_writes(void)
{
  FakeLux f;
  fake_start(&f);
  AmTestDriver d;
  am_test_driver_open(&d, "luxos", NULL);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  am_miner_set_timeout_ms(miner, 5000);
  g_assert_cmpuint(d.vt->actions(d.self, miner, NULL), ==, ALL_LUXOS);

  AmActionRequest r = request(AM_ACTION_PAUSE);
  assert_act(&d, &f, miner, &r, "curtail|lux-1,sleep");
  r.kind = AM_ACTION_RESUME;
  assert_act(&d, &f, miner, &r, "curtail|lux-1,wakeup");
  r.kind = AM_ACTION_RESTART;
  assert_act(&d, &f, miner, &r, "resetminer|lux-1");
  r.kind = AM_ACTION_REBOOT;
  assert_act(&d, &f, miner, &r, "rebootdevice|lux-1");
  r.kind = AM_ACTION_LOCATE;
  r.on = TRUE;
  assert_act(&d, &f, miner, &r, "ledset|lux-1,red,blink");
  r.on = FALSE;
  assert_act(&d, &f, miner, &r, "ledset|lux-1,red,auto");
  r = request(AM_ACTION_WORK_MODE);
  r.mode = "normal";
  assert_act(&d, &f, miner, &r, "profileset|lux-1,default");

  /* A power target reads the profiles first. */
  r = request(AM_ACTION_POWER_TARGET);
  r.watts = 3000;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_test_driver_act(&d, miner, &r, &error));
  g_assert_no_error(error);
  const char *power[] = {"profiles",     "session", "logon", "profileset|lux-1,615MHz",
                         "logoff|lux-1", NULL};
  assert_log(&f, power);
  g_assert_null(f.sid);

  am_test_driver_close(&d);
  fake_stop(&f);
}

/* An open session (the web UI's) is used and left open. */
static void
test_module_open_session(void)
{
  FakeLux f;
  fake_start(&f);
  f.sid = g_strdup("webui");
  AmTestDriver d;
  am_test_driver_open(&d, "luxos", NULL);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  AmActionRequest r = request(AM_ACTION_PAUSE);
  g_autoptr(GError) error = NULL;
  g_assert_true(am_test_driver_act(&d, miner, &r, &error));
  g_assert_no_error(error);
  const char *expected[] = {"session", "curtail|webui,sleep", NULL};
  assert_log(&f, expected);
  g_assert_cmpstr(f.sid, ==, "webui");
  am_test_driver_close(&d);
  fake_stop(&f);
}

static void
test_module_refusals(void)
{
  FakeLux f;
  fake_start(&f);
  AmTestDriver d;
  am_test_driver_open(&d, "luxos", NULL);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  g_autoptr(GError) error = NULL;

  /* The firmware's error reaches the operator; the session is closed. */
  f.refuse = TRUE;
  AmActionRequest r = request(AM_ACTION_POWER_TARGET);
  r.watts = 3000;
  g_assert_false(am_test_driver_act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "LuxOS refused profileset"));
  g_assert_nonnull(strstr(error->message, "Profile 615MHz not found"));
  g_assert_true(g_str_has_prefix(error->message, am_miner_get_address(miner)));
  g_assert_null(strstr(error->message, "lux-1"));
  g_clear_error(&error);
  const char *refused[] = {"profiles",     "session", "logon", "profileset|lux-1,615MHz",
                           "logoff|lux-1", NULL};
  assert_log(&f, refused);
  f.refuse = FALSE;

  /* Under the lowest profile: refused before any session. */
  r.watts = 500;
  g_assert_false(am_test_driver_act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_clear_error(&error);
  const char *profiles_only[] = {"profiles", NULL};
  assert_log(&f, profiles_only);

  /* Unsupported and invalid: nothing is sent. */
  r = request(AM_ACTION_POOLS);
  g_assert_false(am_test_driver_act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_clear_error(&error);
  r = request(AM_ACTION_WORK_MODE);
  r.mode = "high";
  g_assert_false(am_test_driver_act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  const char *nothing[] = {NULL};
  assert_log(&f, nothing);

  /* rebootdevice that takes the board down before answering is accepted. */
  f.drop_reboot = TRUE;
  r = request(AM_ACTION_REBOOT);
  g_assert_true(am_test_driver_act(&d, miner, &r, &error));
  g_assert_no_error(error);

  am_test_driver_close(&d);
  fake_stop(&f);
}

/* The pool list replaced in the session: the new pools are all that is
 * left, the first one active, and the session closed. */
static void
test_module_pools(void)
{
  FakeLux f;
  fake_start(&f);
  AmTestDriver d;
  am_test_driver_open(&d, "luxos", NULL);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  AmActionRequest r = request(AM_ACTION_POOLS);
  r.pools = new_pools;
  r.n_pools = 2;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_test_driver_act(&d, miner, &r, &error));
  g_assert_no_error(error);
  const char *expected[] = {"session",
                            "logon",
                            "pools",
                            "addpool|stratum+tcp://new-a:3333,farm.w1,x",
                            "addpool|stratum+tcp://new-b:3333,farm.w1,secret",
                            "switchpool|2",
                            "removepool|0",
                            "removepool|0",
                            "logoff|lux-1",
                            NULL};
  assert_log(&f, expected);
  g_assert_cmpuint(f.pools->len, ==, 2);
  g_assert_cmpstr(f.pools->pdata[0], ==, "stratum+tcp://new-a:3333");
  g_assert_cmpstr(f.pools->pdata[1], ==, "stratum+tcp://new-b:3333");
  g_assert_cmpuint(f.active, ==, 0);
  g_assert_null(f.sid);
  am_test_driver_close(&d);
  fake_stop(&f);
}

/* A refused switchpool stops the sequence: the old pools stay, the error
 * says what was and was not done, the session is closed. */
static void
test_module_pools_refused(void)
{
  FakeLux f;
  fake_start(&f);
  f.refuse_pool = g_strdup("switchpool");
  AmTestDriver d;
  am_test_driver_open(&d, "luxos", NULL);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  AmActionRequest r = request(AM_ACTION_POOLS);
  r.pools = new_pools;
  r.n_pools = 2;
  g_autoptr(GError) error = NULL;
  g_assert_false(am_test_driver_act(&d, miner, &r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "LuxOS refused switchpool (switch to pool 2)"));
  g_assert_nonnull(strstr(error->message, "Invalid pool id"));
  g_assert_nonnull(strstr(error->message, "done: add stratum+tcp://new-a:3333, add "
                                          "stratum+tcp://new-b:3333; not done: switch to pool 2, "
                                          "remove pool 0, remove pool 0"));
  g_assert_null(strstr(error->message, "secret"));
  const char *expected[] = {"session",
                            "logon",
                            "pools",
                            "addpool|stratum+tcp://new-a:3333,farm.w1,x",
                            "addpool|stratum+tcp://new-b:3333,farm.w1,secret",
                            "switchpool|2",
                            "logoff|lux-1",
                            NULL};
  assert_log(&f, expected);
  g_assert_cmpuint(f.pools->len, ==, 4);
  g_assert_cmpstr(f.pools->pdata[0], ==, "stratum+tcp://old-a:700");
  g_assert_null(f.sid);
  g_free(f.refuse_pool);
  am_test_driver_close(&d);
  fake_stop(&f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/luxos/action/build", test_build);
  g_test_add_func("/luxos/action/invalid", test_invalid);
  g_test_add_func("/luxos/action/pick-profile", test_pick_profile);
  g_test_add_func("/luxos/action/session-id", test_session_id);
  g_test_add_func("/luxos/action/actions", test_actions);
  g_test_add_func("/luxos/action/poll-locate", test_poll_locate);
  g_test_add_func("/luxos/action/module-writes", test_module_writes);
  g_test_add_func("/luxos/action/module-open-session", test_module_open_session);
  g_test_add_func("/luxos/action/module-refusals", test_module_refusals);
  g_test_add_func("/luxos/action/pool-writes", test_pool_writes);
  g_test_add_func("/luxos/action/module-pools", test_module_pools);
  g_test_add_func("/luxos/action/module-pools-refused", test_module_pools_refused);
  return g_test_run();
}
