/* Tests of the generic driver's restart: the command, the error reader,
 * actions(), and the built module against an in-process cgminer RPC server
 * on 127.0.0.1 that records the command and answers as cgminer does:
 * {"STATUS":"RESTART"}, or Code 45 "Access denied" without W: access. */
#include "../common/am-driver-test-util.h"
#include "am-generic-action.h"
#include "am-test-util.h"

#include <string.h>

static void
test_command(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_cmpstr(am_generic_action_command(AM_ACTION_RESTART, &error), ==, "restart");
  g_assert_no_error(error);
  for (gint kind = AM_ACTION_NONE; kind <= AM_ACTION_LAST; kind++) {
    if (kind == AM_ACTION_RESTART)
      continue;
    g_assert_null(am_generic_action_command((AmActionKind)kind, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
    g_clear_error(&error);
  }
  g_assert_cmphex(am_generic_actions(NULL), ==, AM_ACTION_BIT(AM_ACTION_RESTART));
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->firmware, "cgminer");
  g_assert_cmphex(am_generic_actions(s), ==, AM_ACTION_BIT(AM_ACTION_RESTART));
}

static void
test_map_error(void)
{
  g_autoptr(GBytes) bare = g_bytes_new_static("RESTART\0", 8);
  g_autoptr(GBytes) empty = g_bytes_new_static("\0", 1);
  g_autoptr(GBytes) junk = g_bytes_new_static("<html>", 6);
  g_assert_null(am_generic_action_map_error(
      "a:1", bare, g_error_new_literal(AM_ERROR, AM_ERROR_PARSE, "not JSON")));
  g_assert_null(am_generic_action_map_error(
      "a:1", empty, g_error_new_literal(AM_ERROR, AM_ERROR_PARSE, "empty reply")));
  g_assert_null(am_generic_action_map_error(
      "a:1", NULL, g_error_new_literal(AM_ERROR, AM_ERROR_RESET, "closed")));
  g_autoptr(GError) parse = am_generic_action_map_error(
      "a:1", junk, g_error_new_literal(AM_ERROR, AM_ERROR_PARSE, "not JSON"));
  g_assert_error(parse, AM_ERROR, AM_ERROR_PARSE);
  g_assert_cmpstr(parse->message, ==, "a:1: not JSON");
  g_autoptr(GError) denied = am_generic_action_map_error(
      "a:1", NULL,
      g_error_new_literal(AM_ERROR, AM_ERROR_API,
                          "restart: API error 45: Access denied to 'restart' command"));
  g_assert_error(denied, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_cmpstr(denied->message, ==,
                  "a:1: the miner's cgminer API refused 'restart': allow writes from this host "
                  "(api-allow W:<antmon's address>)");
  g_autoptr(GError) timeout = am_generic_action_map_error(
      "a:1", NULL, g_error_new_literal(AM_ERROR, AM_ERROR_TIMEOUT, "a:1: timed out"));
  g_assert_error(timeout, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_cmpstr(timeout->message, ==, "a:1: timed out");
}

/* ---- the module against a local cgminer --------------------------------- */

/* Every command gets the same reply, with cgminer's terminating NUL. */
static GBytes *
answer(gpointer user_data, JsonObject *request)
{
  return am_test_rpc_text(*(const char **)user_data, TRUE);
}

static gboolean
act(guint16 port, AmActionKind kind, GError **error)
{
  AmTestDriver d;
  am_test_driver_open(&d, "generic", NULL);
  g_assert_cmphex(d.vt->actions(d.self, NULL, NULL), ==, AM_ACTION_BIT(AM_ACTION_RESTART));
  g_autoptr(AmMiner) miner = am_test_local_miner(port);
  AmActionRequest request = {.struct_size = sizeof request, .kind = kind};
  gboolean ok = am_test_driver_act(&d, miner, &request, error);
  am_test_driver_close(&d);
  return ok;
}

static void
test_module(void)
{
  const char *reply = "{\"STATUS\":\"RESTART\"}";
  AmTestRpc rpc;
  am_test_rpc_start(&rpc, answer, &reply);
  guint16 port = rpc.port;
  g_autofree char *address = g_strdup_printf("127.0.0.1:%u", port);
  g_autoptr(GError) error = NULL;

  g_assert_true(act(port, AM_ACTION_RESTART, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(rpc.requests->len, ==, 1);
  g_autoptr(JsonObject) sent = am_test_object_from_string(rpc.requests->pdata[0]);
  g_assert_cmpstr(am_json_string(sent, "command"), ==, "restart");
  g_assert_false(json_object_has_member(sent, "parameter"));

  /* Anything else: refused before sending. */
  g_assert_false(act(port, AM_ACTION_PAUSE, &error));
  am_test_assert_error(error, AM_ERROR_UNSUPPORTED, NULL, NULL);
  g_assert_true(g_str_has_prefix(error->message, address));
  g_clear_error(&error);
  g_assert_cmpuint(rpc.requests->len, ==, 1);

  /* api-allow without W: */
  reply = "{\"STATUS\":[{\"STATUS\":\"E\",\"When\":1,\"Code\":45,\"Msg\":\"Access denied "
          "to 'restart' command\",\"Description\":\"cgminer 4.11.1\"}],\"id\":1}";
  g_assert_false(act(port, AM_ACTION_RESTART, &error));
  am_test_assert_error(error, AM_ERROR_UNSUPPORTED, "api-allow W:", NULL);
  g_assert_true(g_str_has_prefix(error->message, address));
  g_clear_error(&error);

  /* Another refusal: the firmware's message. */
  reply = "{\"STATUS\":[{\"STATUS\":\"E\",\"When\":1,\"Code\":14,\"Msg\":\"Invalid "
          "command\",\"Description\":\"sgminer 5.6\"}],\"id\":1}";
  g_assert_false(act(port, AM_ACTION_RESTART, &error));
  am_test_assert_error(error, AM_ERROR_API, "Invalid command", NULL);
  am_test_rpc_stop(&rpc);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/generic/action/command", test_command);
  g_test_add_func("/generic/action/map-error", test_map_error);
  g_test_add_func("/generic/action/module", test_module);
  return g_test_run();
}
