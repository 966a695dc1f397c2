/* The control plane as a plugin sees it (antmon/context.h): the action
 * manager behind the daemon's context. Outside the daemon (`antmon query`)
 * there is none, and every call says so. */
#include "am-context-private.h"
#include <antmon/error.h>

static gboolean
have_actions(AmContext *ctx, GError **error)
{
  if (ctx->actions != NULL)
    return TRUE;
  g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                      "actions need the running daemon (antmon run)");
  return FALSE;
}

JsonNode *
am_context_action_submit(AmContext *ctx, const char *key, const AmActionRequest *request,
                         const char *who, GError **error)
{
  if (!have_actions(ctx, error))
    return NULL;
  return am_actions_submit(ctx->actions, key, request, who, error);
}

JsonNode *
am_context_action_submit_fleet(AmContext *ctx, const char *const *keys, guint n_keys,
                               const AmActionRequest *request, guint batch, guint interval_ms,
                               gboolean dry_run, const char *who, GError **error)
{
  if (!have_actions(ctx, error))
    return NULL;
  return am_actions_submit_fleet(ctx->actions, keys, n_keys, request, batch, interval_ms, dry_run,
                                 who, error);
}

JsonNode *
am_context_action_get(AmContext *ctx, const char *id)
{
  return ctx->actions != NULL ? am_actions_get(ctx->actions, id) : NULL;
}

JsonNode *
am_context_miner_actions_json(AmContext *ctx, const char *key)
{
  if (ctx->scheduler == NULL)
    return NULL;
  AmMinerEntry *e = am_scheduler_find(ctx->scheduler, key);
  return e != NULL ? am_actions_miner_json(ctx->scheduler, e) : NULL;
}
