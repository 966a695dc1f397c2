/* AmContext: the core's services as a plugin sees them. One per daemon;
 * passed to every plugin's create() and valid until its destroy(). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AmContext AmContext;

/* Directory for state files (databases); relative paths resolve here.
 * (transfer none) */
const char *am_context_get_state_dir(AmContext *ctx);

/* Path of the configuration file in use, for messages. (transfer none) */
const char *am_context_get_config_path(AmContext *ctx);

/* Resolves @path against the state directory unless it is absolute.
 * Returns: (transfer full). */
char *am_context_resolve_state_path(AmContext *ctx, const char *path);

G_END_DECLS
