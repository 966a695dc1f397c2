/* The core's side of AmContext. */
#pragma once

#include <antmon/context.h>

G_BEGIN_DECLS

struct _AmContext {
  char *state_dir;
  char *config_path;
};

AmContext *am_context_new(const char *state_dir, const char *config_path);
void am_context_free(AmContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmContext, am_context_free)

G_END_DECLS
