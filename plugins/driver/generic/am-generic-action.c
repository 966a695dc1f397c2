/* The generic driver's restart: see am-generic-action.h. */
#include "am-generic-action.h"

#include <string.h>

AmActionSet
am_generic_actions(const AmSample *sample)
{
  return AM_ACTION_BIT(AM_ACTION_RESTART);
}

const char *
am_generic_action_command(AmActionKind kind, GError **error)
{
  if (kind == AM_ACTION_RESTART)
    return AM_GENERIC_RESTART_COMMAND;
  const char *name = am_action_kind_to_string(kind);
  g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
              "the generic cgminer driver has no %s action (restart only)",
              name != NULL ? name : "such");
  return NULL;
}

/* Nothing but NULs and blanks, or "RESTART" in any JSON or none. */
static gboolean
is_goodbye(GBytes *raw)
{
  gsize len = 0;
  const char *data = raw != NULL ? g_bytes_get_data(raw, &len) : NULL;
  if (data == NULL || len == 0)
    return TRUE;
  g_autofree char *text = g_strndup(data, len); /* stops at the first NUL */
  g_strstrip(text);
  return *text == '\0' || strstr(text, "RESTART") != NULL;
}

GError *
am_generic_action_map_error(const char *address, GBytes *raw, GError *error)
{
  gboolean closed = g_error_matches(error, AM_ERROR, AM_ERROR_RESET) ||
                    g_error_matches(error, AM_ERROR, AM_ERROR_PARSE);
  if (closed && is_goodbye(raw)) {
    g_error_free(error);
    return NULL;
  }
  if (g_error_matches(error, AM_ERROR, AM_ERROR_API) &&
      (strstr(error->message, "Access denied") != NULL || strstr(error->message, " 45:") != NULL)) {
    GError *better = g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED,
                                 "%s: the miner's cgminer API refused 'restart': allow writes "
                                 "from this host (api-allow W:<antmon's address>)",
                                 address);
    g_error_free(error);
    return better;
  }
  if (!g_str_has_prefix(error->message, address))
    g_prefix_error(&error, "%s: ", address);
  return error;
}
