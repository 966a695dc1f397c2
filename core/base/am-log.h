/* Logging: one writer for the daemon and the CLI. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Parses "error", "critical", "warning", "message", "info" or "debug".
 * Returns FALSE for anything else. */
gboolean am_log_level_from_string(const char *name, GLogLevelFlags *out);

/* Installs a writer that sends every message at or above @level to stderr
 * (stdout stays clean for --json output). G_MESSAGES_DEBUG still turns on
 * debug output for the domains it names. */
void am_log_init(GLogLevelFlags level);

G_END_DECLS
