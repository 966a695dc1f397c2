/* Tests of the avalon driver's actions: the pure commands (command and
 * parameter exactly), the reply reader, actions() on samples of the
 * family's firmwares, the poll's Led[] and WORKMODE[] readings that confirm
 * them, and the built module against an in-process cgminer RPC server on
 * 127.0.0.1 that records each command and answers as Canaan's cgminer
 * does (replies from asic-rs' recordings: ascset_softoff.json,
 * ascset_softon.json, ascset_workmode.json, ascset_help.json). */
#include "../common/am-driver-test-util.h"
#include "am-avalon-action.h"
#include "am-avalon-parse.h"
#include "am-test-util.h"

#include <string.h>

/* ---- the pure builder --------------------------------------------------- */

static void
assert_build(AmActionRequest request, const char *command, const char *parameter)
{
  request.struct_size = sizeof request;
  AmAvalonActionCall call;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_avalon_action_build(&request, 1753434816, &call, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(call.command, ==, command);
  g_assert_cmpstr(call.parameter, ==, parameter);
  am_avalon_action_call_clear(&call);
}

static void
test_build(void)
{
  assert_build((AmActionRequest){.kind = AM_ACTION_RESTART}, "restart", NULL);
  assert_build((AmActionRequest){.kind = AM_ACTION_REBOOT}, "ascset", "0,reboot,0");
  /* Five seconds ahead, as pyasic sends it. */
  assert_build((AmActionRequest){.kind = AM_ACTION_PAUSE}, "ascset", "0,softoff,1:1753434821");
  assert_build((AmActionRequest){.kind = AM_ACTION_RESUME}, "ascset", "0,softon,1:1753434821");
  assert_build((AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "low"}, "ascset",
               "0,workmode,set,0");
  assert_build((AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "normal"}, "ascset",
               "0,workmode,set,1");
  assert_build((AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "high"}, "ascset",
               "0,workmode,set,2");
  assert_build((AmActionRequest){.kind = AM_ACTION_LOCATE, .on = TRUE}, "ascset", "0,led,1-1");
  assert_build((AmActionRequest){.kind = AM_ACTION_LOCATE, .on = FALSE}, "ascset", "0,led,1-0");
}

static void
test_build_refused(void)
{
  AmActionKind kinds[] = {AM_ACTION_POWER_TARGET, AM_ACTION_POOLS, AM_ACTION_NONE, AM_ACTION_LAST};
  for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
    AmActionRequest request = {.struct_size = sizeof request, .kind = kinds[i], .watts = 3000};
    AmAvalonActionCall call;
    g_autoptr(GError) error = NULL;
    g_assert_false(am_avalon_action_build(&request, 0, &call, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
    g_assert_null(call.parameter);
  }
  const char *modes[] = {"turbo", "Low", "", NULL};
  for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
    AmActionRequest request = {
        .struct_size = sizeof request, .kind = AM_ACTION_WORK_MODE, .mode = modes[i]};
    AmAvalonActionCall call;
    g_autoptr(GError) error = NULL;
    g_assert_false(am_avalon_action_build(&request, 0, &call, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, "low, normal or high"));
  }
}

/* ---- the reply reader --------------------------------------------------- */

static void
assert_check(const char *command, const char *parameter, const char *reply, gint code,
             const char *needle)
{
  AmAvalonActionCall call = {.command = command, .parameter = (char *)parameter};
  g_autoptr(JsonObject) root = am_test_object_from_string(reply);
  g_autoptr(GError) error = NULL;
  gboolean ok = am_avalon_action_check(&call, root, &error);
  if (code == 0) {
    g_assert_no_error(error);
    g_assert_true(ok);
    return;
  }
  g_assert_false(ok);
  g_assert_error(error, AM_ERROR, code);
  if (strstr(error->message, needle) == NULL)
    g_error("expected '%s' in '%s'", needle, error->message);
}

#define REPLY(letter, code, msg)                                                                   \
  "{\"STATUS\":[{\"Code\":" #code ",\"Description\":\"cgminer 4.11.1\",\"Msg\":\"" msg             \
  "\",\"STATUS\":\"" letter "\",\"When\":1753434816}],\"id\":1}"

static void
test_check(void)
{
  assert_check("ascset", "0,softoff,1:1753434821",
               REPLY("I", 118, "ASC 0 set info: success softoff:1753434821"), 0, NULL);
  assert_check("ascset", "0,softon,1:1753434757",
               REPLY("I", 118, "ASC 0 set info: success softon:1753434757"), 0, NULL);
  assert_check("ascset", "0,workmode,set,1", REPLY("S", 119, "ASC 0 set OK"), 0, NULL);
  assert_check("restart", NULL, "{\"STATUS\":\"RESTART\"}", 0, NULL);
  assert_check("ascset", "0,led,1-1",
               REPLY("I", 118, "ASC 0 set info: help|voltage|fan-spd|lcd|workmode|reboot|"),
               AM_ERROR_UNSUPPORTED, "has no 'ascset 0,led,1-1'");
  assert_check("ascset", "0,workmode,set,2", REPLY("I", 118, "ASC 0 set info: invalid level"),
               AM_ERROR_API, "Avalon refused 'ascset 0,workmode,set,2': ASC 0 set info: invalid");
  assert_check("ascset", "0,reboot,0", "{\"id\":1}", AM_ERROR_API, "no message");
}

static void
test_map_error(void)
{
  /* Access denied: say how to allow writes. */
  GError *denied = g_error_new(AM_ERROR, AM_ERROR_API,
                               "ascset: API error 45: Access denied to 'ascset' command");
  g_autoptr(GError) mapped =
      am_avalon_action_map_error(AM_ACTION_LOCATE, "10.0.0.5:4028", FALSE, denied);
  g_assert_error(mapped, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_cmpstr(mapped->message, ==,
                  "10.0.0.5:4028: the Avalon's cgminer API refused the write command: allow "
                  "writes from this host (api-allow W:<antmon's address>)");
  /* Closed without an answer: the restart (or softon) happening. */
  AmActionKind goes_down[] = {AM_ACTION_RESTART, AM_ACTION_REBOOT, AM_ACTION_RESUME};
  for (guint i = 0; i < G_N_ELEMENTS(goes_down); i++) {
    g_assert_null(am_avalon_action_map_error(
        goes_down[i], "a", FALSE, g_error_new_literal(AM_ERROR, AM_ERROR_RESET, "reset")));
    g_assert_null(am_avalon_action_map_error(
        goes_down[i], "a", TRUE, g_error_new_literal(AM_ERROR, AM_ERROR_PARSE, "empty reply")));
  }
  /* ...but not for a pause, nor garbage. */
  g_autoptr(GError) reset = am_avalon_action_map_error(
      AM_ACTION_PAUSE, "a", TRUE, g_error_new_literal(AM_ERROR, AM_ERROR_RESET, "reset"));
  g_assert_error(reset, AM_ERROR, AM_ERROR_RESET);
  g_autoptr(GError) garbage = am_avalon_action_map_error(
      AM_ACTION_RESTART, "a", FALSE, g_error_new_literal(AM_ERROR, AM_ERROR_PARSE, "not JSON"));
  g_assert_error(garbage, AM_ERROR, AM_ERROR_PARSE);
}

/* ---- actions() and the poll's confirmations ----------------------------- */

static AmSample *
sample_from_stats(const char *fixture)
{
  g_autoptr(JsonObject) stats = am_test_fixture_object(fixture);
  AmAvalonReplies replies = {.stats = stats};
  g_autoptr(GError) error = NULL;
  AmSample *s = am_avalon_parse(&replies, &error);
  g_assert_no_error(error);
  return s;
}

static void
test_actions(void)
{
  AmActionSet always = AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_RESTART) |
                       AM_ACTION_BIT(AM_ACTION_LOCATE);
  AmActionSet soft = AM_ACTION_BIT(AM_ACTION_PAUSE) | AM_ACTION_BIT(AM_ACTION_RESUME);
  AmActionSet mode = AM_ACTION_BIT(AM_ACTION_WORK_MODE);
  g_assert_cmphex(am_avalon_actions(NULL), ==, always | soft | mode);

  /* The Avalon A-series (A1566) reports SoftOFF, WORKMODE and Led. */
  g_autoptr(AmSample) a = sample_from_stats("avalon/asicrs-avalon_a_stats.json");
  g_assert_cmphex(am_avalon_actions(a), ==, always | soft | mode);
  g_assert_cmpint(a->locate, ==, FALSE);
  g_assert_cmpstr(a->work_mode, ==, "normal");
  g_assert_cmpint(a->mining, ==, AM_MINING_HASHING);

  /* The Avalon Q in standby: SoftOFF[4], WORKMODE[0], no Led. */
  g_autoptr(AmSample) q = sample_from_stats("avalon/asicrs-stats.json");
  g_assert_cmphex(am_avalon_actions(q), ==, always | soft | mode);
  g_assert_cmpint(q->mining, ==, AM_MINING_SLEEPING);
  g_assert_cmpstr(q->work_mode, ==, "low");
  g_assert_cmpint(q->locate, ==, AM_UNKNOWN);

  /* An old Avalon (7xx) whose stats lack SoftOFF and WORKMODE. */
  g_autoptr(JsonObject) old = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\"}],\"STATS\":[{\"STATS\":0,\"ID\":\"AV70\","
      "\"MM ID1\":\"Ver[7411706-3162860] Temp[38] Fan[5230] GHSmm[7090.43] Led[1]\"}]}");
  AmAvalonReplies replies = {.stats = old};
  g_autoptr(AmSample) s = am_avalon_parse(&replies, NULL);
  g_assert_nonnull(s);
  g_assert_cmphex(am_avalon_actions(s), ==, always);
  g_assert_cmpint(s->locate, ==, TRUE);
}

static void
test_work_mode_names(void)
{
  const struct {
    const char *mm;
    const char *mode;
  } cases[] = {
      {"WORKMODE[0]", "low"},    {"WORKMODE[1]", "normal"}, {"WORKMODE[2]", "high"},
      {"WORKMODE[3]", "mode 3"}, {"WORKMODE[x]", NULL},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *json =
        g_strdup_printf("{\"STATS\":[{\"MM ID0\":\"Ver[1] GHSmm[100] %s\"}]}", cases[i].mm);
    g_autoptr(JsonObject) stats = am_test_object_from_string(json);
    AmAvalonReplies replies = {.stats = stats};
    g_autoptr(AmSample) s = am_avalon_parse(&replies, NULL);
    g_assert_nonnull(s);
    g_assert_cmpstr(s->work_mode, ==, cases[i].mode);
  }
}

/* ---- the module against a local cgminer --------------------------------- */

typedef enum { ANSWER, DENY, FAIL, CLOSE_SOFTON } FakeMode;

typedef struct {
  FakeMode mode;
  AmTestRpc rpc;
} FakeAvalon;

static const char *
answer(FakeAvalon *fake, const char *command, const char *parameter)
{
  if (fake->mode == DENY)
    return REPLY("E", 45, "Access denied to 'ascset' command");
  if (fake->mode == FAIL)
    return REPLY("E", 120, "ASC 0 set failed: invalid option value");
  if (g_str_equal(command, "restart"))
    return "{\"STATUS\":\"RESTART\"}";
  if (!g_str_equal(command, "ascset") || parameter == NULL)
    return REPLY("E", 14, "Invalid command");
  if (g_str_has_prefix(parameter, "0,softoff,"))
    return REPLY("I", 118, "ASC 0 set info: success softoff:1753434821");
  if (g_str_has_prefix(parameter, "0,softon,"))
    return fake->mode == CLOSE_SOFTON ? "" : REPLY("I", 118, "ASC 0 set info: success softon:1");
  if (g_str_has_prefix(parameter, "0,workmode,set,") || g_str_has_prefix(parameter, "0,led,") ||
      g_str_equal(parameter, "0,reboot,0"))
    return REPLY("S", 119, "ASC 0 set OK");
  return REPLY("I", 118, "ASC 0 set info: help|voltage|fan-spd|lcd|workmode|reboot|");
}

/* The reply without a terminating NUL, as the Avalon firmware sends it;
 * "" (softon closing at once) is no bytes at all. */
static GBytes *
on_request(gpointer user_data, JsonObject *request)
{
  const char *command = request != NULL ? am_json_string(request, "command") : NULL;
  const char *parameter = request != NULL ? am_json_string(request, "parameter") : NULL;
  return am_test_rpc_text(answer(user_data, command != NULL ? command : "", parameter), FALSE);
}

static void
fake_start(FakeAvalon *fake)
{
  am_test_rpc_start(&fake->rpc, on_request, fake);
}

/* The requests received, each as "command|parameter", one per line. */
static char **
fake_log(FakeAvalon *fake)
{
  g_autofree char *received = am_test_rpc_received(&fake->rpc);
  return received[0] != '\0' ? g_strsplit(received, ";", -1) : g_new0(char *, 1);
}

static gboolean
act(guint16 port, AmActionRequest request, GError **error)
{
  request.struct_size = sizeof request;
  AmTestDriver d;
  am_test_driver_open(&d, "avalon", NULL);
  g_assert_cmphex(d.vt->actions(d.self, NULL, NULL), ==, am_avalon_actions(NULL));
  g_autoptr(AmMiner) miner = am_test_local_miner(port);
  gboolean ok = am_test_driver_act(&d, miner, &request, error);
  am_test_driver_close(&d);
  return ok;
}

static void
test_module_actions(void)
{
  FakeAvalon fake = {.mode = ANSWER};
  fake_start(&fake);
  guint16 port = fake.rpc.port;
  const struct {
    AmActionRequest request;
    const char *expected; /* command|parameter; NULL: check the softoff/softon prefix */
    const char *prefix;
  } cases[] = {
      {{.kind = AM_ACTION_RESTART}, "restart|", NULL},
      {{.kind = AM_ACTION_REBOOT}, "ascset|0,reboot,0", NULL},
      {{.kind = AM_ACTION_PAUSE}, NULL, "ascset|0,softoff,1:"},
      {{.kind = AM_ACTION_RESUME}, NULL, "ascset|0,softon,1:"},
      {{.kind = AM_ACTION_WORK_MODE, .mode = "high"}, "ascset|0,workmode,set,2", NULL},
      {{.kind = AM_ACTION_LOCATE, .on = TRUE}, "ascset|0,led,1-1", NULL},
      {{.kind = AM_ACTION_LOCATE, .on = FALSE}, "ascset|0,led,1-0", NULL},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    gint64 before = g_get_real_time() / G_USEC_PER_SEC;
    g_assert_true(act(port, cases[i].request, &error));
    g_assert_no_error(error);
    g_auto(GStrv) log = fake_log(&fake);
    g_assert_cmpuint(g_strv_length(log), ==, i + 1);
    const char *got = log[i];
    if (cases[i].expected != NULL) {
      g_assert_cmpstr(got, ==, cases[i].expected);
      continue;
    }
    /* The time: now plus AM_AVALON_SOFT_DELAY_S. */
    g_assert_true(g_str_has_prefix(got, cases[i].prefix));
    gint64 ts = g_ascii_strtoll(got + strlen(cases[i].prefix), NULL, 10);
    g_assert_cmpint(ts, >=, before + AM_AVALON_SOFT_DELAY_S);
    g_assert_cmpint(ts, <=, g_get_real_time() / G_USEC_PER_SEC + AM_AVALON_SOFT_DELAY_S);
  }
  am_test_rpc_stop(&fake.rpc);
}

static void
test_module_errors(void)
{
  FakeAvalon fake = {.mode = ANSWER};
  fake_start(&fake);
  guint16 port = fake.rpc.port;
  g_autofree char *address = g_strdup_printf("127.0.0.1:%u", port);
  g_autoptr(GError) error = NULL;

  /* Unsupported and bad requests: nothing is sent. */
  g_assert_false(
      act(port, (AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 3000}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  g_assert_false(act(port, (AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "eco"}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_true(g_str_has_prefix(error->message, address));
  g_clear_error(&error);
  g_assert_cmpuint(fake.rpc.requests->len, ==, 0);

  /* softon closing the connection without an answer is accepted. */
  fake.mode = CLOSE_SOFTON;
  g_assert_true(act(port, (AmActionRequest){.kind = AM_ACTION_RESUME}, &error));
  g_assert_no_error(error);

  /* api-allow without W: */
  fake.mode = DENY;
  g_assert_false(act(port, (AmActionRequest){.kind = AM_ACTION_LOCATE, .on = TRUE}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_true(g_str_has_prefix(error->message, address));
  g_assert_nonnull(strstr(error->message, "api-allow W:"));
  g_clear_error(&error);

  /* The firmware's own refusal, with its message. */
  fake.mode = FAIL;
  g_assert_false(act(port, (AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "low"}, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_true(g_str_has_prefix(error->message, address));
  g_assert_nonnull(strstr(error->message, "ASC 0 set failed: invalid option value"));
  g_clear_error(&error);

  /* An option this firmware lacks: its help list. */
  fake.mode = ANSWER;
  AmAvalonActionCall call = {.command = "ascset", .parameter = (char *)"0,frobnicate"};
  g_autoptr(JsonObject) help =
      am_test_object_from_string(REPLY("I", 118, "ASC 0 set info: help|lcd|"));
  g_assert_false(am_avalon_action_check(&call, help, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  am_test_rpc_stop(&fake.rpc);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/avalon/action/build", test_build);
  g_test_add_func("/avalon/action/build-refused", test_build_refused);
  g_test_add_func("/avalon/action/check", test_check);
  g_test_add_func("/avalon/action/map-error", test_map_error);
  g_test_add_func("/avalon/action/actions", test_actions);
  g_test_add_func("/avalon/action/work-mode-names", test_work_mode_names);
  g_test_add_func("/avalon/action/module-actions", test_module_actions);
  g_test_add_func("/avalon/action/module-errors", test_module_errors);
  return g_test_run();
}
