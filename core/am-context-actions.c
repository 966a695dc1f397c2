/* The control plane as a plugin sees it (antmon/context.h). Placeholder
 * until the action manager lands: every call says it is not available. */
#include "am-context-private.h"
#include <antmon/error.h>

JsonNode *
am_context_action_submit(AmContext *ctx, const char *key, const AmActionRequest *request,
                         const char *who, GError **error)
{
  (void)ctx, (void)key, (void)request, (void)who;
  g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "actions are not available");
  return NULL;
}

JsonNode *
am_context_action_submit_fleet(AmContext *ctx, const char *const *keys, guint n_keys,
                               const AmActionRequest *request, guint batch, guint interval_ms,
                               gboolean dry_run, const char *who, GError **error)
{
  (void)ctx, (void)keys, (void)n_keys, (void)request, (void)batch, (void)interval_ms;
  (void)dry_run, (void)who;
  g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "actions are not available");
  return NULL;
}

JsonNode *
am_context_action_get(AmContext *ctx, const char *id)
{
  (void)ctx, (void)id;
  return NULL;
}

JsonNode *
am_context_miner_actions_json(AmContext *ctx, const char *key)
{
  (void)ctx, (void)key;
  return NULL;
}
