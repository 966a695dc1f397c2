/* Logging: one writer for the daemon and the CLI. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Parses "error", "critical", "warning", "message", "info" or "debug".
 * Returns FALSE for anything else. */
gboolean am_log_level_from_string(const char *name, GLogLevelFlags *out);

/* Installs a writer that sends every message at or above @level to stderr
 * (stdout stays clean for --json output). G_MESSAGES_DEBUG still turns on
 * debug output for the domains it names. Started by systemd (stderr is the
 * stream JOURNAL_STREAM names), messages go to the journal with their
 * fields instead: PRIORITY=, MINER= (see am_log_miner()) and PLUGIN= (the
 * plugin that logged it). */
void am_log_init(GLogLevelFlags level);

/* [core] log_format=: "text" (a plain line) or "json" (one object per
 * line: time, level, message, priority, domain and the fields such as
 * miner and plugin). Returns FALSE for anything else. */
gboolean am_log_set_format(const char *name);

/* [core] log_file=: append to @path instead of stderr or the journal; NULL
 * or "" goes back to them. Called again with the same path it reopens the
 * file (after logrotate moved it away). On failure the output stays as it
 * was. */
gboolean am_log_set_file(const char *path, GError **error);

/* A message about one miner (its address), carrying MINER= in the journal
 * and "miner" in JSON. */
#define am_log_miner(level, miner, ...)                                                            \
  g_log_structured(G_LOG_DOMAIN, (level), "MINER", (miner), "MESSAGE", __VA_ARGS__)

G_END_DECLS
