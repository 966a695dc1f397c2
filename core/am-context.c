/* AmContext: what the core offers every plugin instance. */
#include "am-context-private.h"

AmContext *
am_context_new(const char *state_dir, const char *config_path)
{
  AmContext *ctx = g_new0(AmContext, 1);
  ctx->state_dir = g_strdup(state_dir != NULL ? state_dir : ".");
  ctx->config_path = g_strdup(config_path != NULL ? config_path : "(defaults)");
  return ctx;
}

void
am_context_free(AmContext *ctx)
{
  if (ctx == NULL)
    return;
  g_free(ctx->state_dir);
  g_free(ctx->config_path);
  g_free(ctx);
}

const char *
am_context_get_state_dir(AmContext *ctx)
{
  return ctx->state_dir;
}

const char *
am_context_get_config_path(AmContext *ctx)
{
  return ctx->config_path;
}

char *
am_context_resolve_state_path(AmContext *ctx, const char *path)
{
  if (g_path_is_absolute(path))
    return g_strdup(path);
  return g_build_filename(ctx->state_dir, path, NULL);
}
