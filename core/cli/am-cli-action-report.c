/* `antmon action`: what a person sees while an action runs, and its end. */
#include "am-cli-action.h"
#include "am-cli.h"
#include <stdio.h>

void
am_cli_action_progress(AmCliActionReport *report, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *line = g_strdup_vprintf(format, args);
  va_end(args);
  /* Polls every few seconds often see the same thing: say it once. */
  if (g_strcmp0(line, report->last) == 0)
    return;
  g_free(report->last);
  report->last = g_strdup(line);
  FILE *out = report->json ? stderr : stdout;
  fprintf(out, "%s\n", line);
  fflush(out);
}

static const char *
member_string(JsonObject *action, const char *name)
{
  JsonNode *node = json_object_get_member(action, name);
  return node != NULL && JSON_NODE_HOLDS_VALUE(node) ? json_node_get_string(node) : NULL;
}

int
am_cli_action_report_end(AmCliActionReport *report, JsonObject *action)
{
  const char *state = member_string(action, "state");
  const char *message = member_string(action, "message");
  if (message == NULL)
    message = "";
  if (report->json) {
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(node, action);
    g_autofree char *text = json_to_string(node, TRUE);
    printf("%s\n", text);
  } else if (g_strcmp0(state, "not_confirmed") == 0) {
    printf("not confirmed: %s\n", message);
  } else if (g_strcmp0(state, "confirming") == 0) {
    printf("accepted: %s\n", message);
  } else {
    printf("%s: %s\n", state != NULL ? state : "failed", message);
  }
  fflush(stdout);
  /* "confirming" is the end only with --no-wait: the firmware took it. */
  if (g_strcmp0(state, "confirmed") == 0 || g_strcmp0(state, "confirming") == 0)
    return AM_EXIT_OK;
  return AM_EXIT_FAILED;
}

void
am_cli_action_report_clear(AmCliActionReport *report)
{
  g_clear_pointer(&report->last, g_free);
}
