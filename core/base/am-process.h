/* The agent's own resources: memory, descriptors and threads, as
 * /api/health reports them, and the descriptor limit raised at start. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 rss_bytes;      /* resident now (VmRSS) */
  guint64 rss_peak_bytes; /* the most it has been (VmHWM) */
  guint fds;              /* descriptors open now */
  guint64 fd_limit;       /* the soft limit */
  guint threads;
} AmProcessStats;

/* Reads /proc/self. Fields it cannot read stay 0. */
void am_process_stats(AmProcessStats *stats);

/* Raises the soft descriptor limit to the hard one: every miner polled in
 * flight holds one, and systemd's default soft limit is 1,024. Returns the
 * limit now in force; *before gets the one found. */
guint64 am_process_raise_fd_limit(guint64 *before);

G_END_DECLS
