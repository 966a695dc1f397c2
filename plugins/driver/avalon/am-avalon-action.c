/* The avalon driver's actions: see am-avalon-action.h. */
#include "am-avalon-action.h"

#include <string.h>

#define ALWAYS                                                                                     \
  (AM_ACTION_BIT(AM_ACTION_REBOOT) | AM_ACTION_BIT(AM_ACTION_RESTART) |                            \
   AM_ACTION_BIT(AM_ACTION_LOCATE))
#define SOFT (AM_ACTION_BIT(AM_ACTION_PAUSE) | AM_ACTION_BIT(AM_ACTION_RESUME))
#define MODE AM_ACTION_BIT(AM_ACTION_WORK_MODE)

void
am_avalon_action_call_clear(AmAvalonActionCall *call)
{
  g_clear_pointer(&call->parameter, g_free);
}

AmActionSet
am_avalon_actions(const AmSample *sample)
{
  if (sample == NULL)
    return ALWAYS | SOFT | MODE;
  AmActionSet set = ALWAYS;
  if (sample->extras != NULL && json_object_has_member(sample->extras, "x_avalon_softoff"))
    set |= SOFT;
  if (sample->extras != NULL && json_object_has_member(sample->extras, "x_avalon_workmode"))
    set |= MODE;
  return set;
}

/* low 0, normal 1, high 2: Canaan's Eco/Standard/Super (Low/Mid/High). */
static gint
mode_number(const char *mode)
{
  static const char *const names[] = {AM_WORK_MODE_LOW, AM_WORK_MODE_NORMAL, AM_WORK_MODE_HIGH};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    if (g_strcmp0(mode, names[i]) == 0)
      return (gint)i;
  return -1;
}

gboolean
am_avalon_action_build(const AmActionRequest *request, gint64 now_s, AmAvalonActionCall *out,
                       GError **error)
{
  *out = (AmAvalonActionCall){.command = "ascset"};
  switch (request->kind) {
  case AM_ACTION_RESTART:
    out->command = "restart";
    return TRUE;
  case AM_ACTION_REBOOT:
    out->parameter = g_strdup("0,reboot,0");
    return TRUE;
  case AM_ACTION_PAUSE:
  case AM_ACTION_RESUME:
    out->parameter = g_strdup_printf("0,%s,1:%" G_GINT64_FORMAT,
                                     request->kind == AM_ACTION_PAUSE ? "softoff" : "softon",
                                     now_s + AM_AVALON_SOFT_DELAY_S);
    return TRUE;
  case AM_ACTION_WORK_MODE: {
    gint n = mode_number(request->mode);
    if (n < 0) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "work mode '%s': Avalon takes low, normal or high",
                  request->mode != NULL ? request->mode : "");
      return FALSE;
    }
    out->parameter = g_strdup_printf("0,workmode,set,%d", n);
    return TRUE;
  }
  case AM_ACTION_LOCATE:
    out->parameter = g_strdup(request->on ? "0,led,1-1" : "0,led,1-0");
    return TRUE;
  default: {
    const char *name = am_action_kind_to_string(request->kind);
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "Avalon has no %s action",
                name != NULL ? name : "such");
    return FALSE;
  }
  }
}

static JsonObject *
first_status(JsonObject *reply)
{
  JsonNode *node = json_object_get_member(reply, "STATUS");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
    return NULL;
  JsonArray *array = json_node_get_array(node);
  if (json_array_get_length(array) == 0)
    return NULL;
  JsonNode *first = json_array_get_element(array, 0);
  return JSON_NODE_HOLDS_OBJECT(first) ? json_node_get_object(first) : NULL;
}

gboolean
am_avalon_action_check(const AmAvalonActionCall *call, JsonObject *reply, GError **error)
{
  /* restart answers {"STATUS":"RESTART"}: any answer is the acceptance. */
  if (g_str_equal(call->command, "restart"))
    return TRUE;
  JsonObject *status = first_status(reply);
  const char *letter = status != NULL ? am_json_string(status, "STATUS") : NULL;
  const char *msg = status != NULL ? am_json_string(status, "Msg") : NULL;
  if (msg == NULL)
    msg = "";
  if (g_strcmp0(letter, "S") == 0)
    return TRUE;
  if (g_strcmp0(letter, "I") == 0 && strstr(msg, "success") != NULL)
    return TRUE;
  if (strstr(msg, "help|") != NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "this Avalon firmware has no 'ascset %s' (it answered with its option list)",
                call->parameter != NULL ? call->parameter : "");
    return FALSE;
  }
  g_set_error(error, AM_ERROR, AM_ERROR_API, "Avalon refused '%s %s': %s", call->command,
              call->parameter != NULL ? call->parameter : "", *msg != '\0' ? msg : "no message");
  return FALSE;
}

GError *
am_avalon_action_map_error(AmActionKind kind, const char *address, gboolean empty_reply,
                           GError *error)
{
  gboolean goes_down =
      kind == AM_ACTION_RESTART || kind == AM_ACTION_REBOOT || kind == AM_ACTION_RESUME;
  gboolean closed = g_error_matches(error, AM_ERROR, AM_ERROR_RESET) ||
                    (g_error_matches(error, AM_ERROR, AM_ERROR_PARSE) && empty_reply);
  if (goes_down && closed) {
    g_error_free(error);
    return NULL;
  }
  if (g_error_matches(error, AM_ERROR, AM_ERROR_API) &&
      (strstr(error->message, "Access denied") != NULL || strstr(error->message, " 45:") != NULL)) {
    GError *better = g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED,
                                 "%s: the Avalon's cgminer API refused the write command: allow "
                                 "writes from this host (api-allow W:<antmon's address>)",
                                 address);
    g_error_free(error);
    return better;
  }
  return error;
}
