/* Names of the actions (antmon/action.h), as the API, the CLI and the
 * events spell them. */
#include <antmon/action.h>
#include <string.h>

static const char *const action_names[AM_ACTION_LAST] = {
    [AM_ACTION_REBOOT] = "reboot",
    [AM_ACTION_RESTART] = "restart",
    [AM_ACTION_PAUSE] = "pause",
    [AM_ACTION_RESUME] = "resume",
    [AM_ACTION_POWER_TARGET] = "power_target",
    [AM_ACTION_WORK_MODE] = "work_mode",
    [AM_ACTION_LOCATE] = "locate",
    [AM_ACTION_POOLS] = "pools",
};

const char *
am_action_kind_to_string(AmActionKind kind)
{
  if (kind <= AM_ACTION_NONE || kind >= AM_ACTION_LAST)
    return NULL;
  return action_names[kind];
}

AmActionKind
am_action_kind_from_string(const char *name)
{
  if (name == NULL)
    return AM_ACTION_NONE;
  for (int k = AM_ACTION_NONE + 1; k < AM_ACTION_LAST; k++)
    if (strcmp(action_names[k], name) == 0)
      return (AmActionKind)k;
  return AM_ACTION_NONE;
}
