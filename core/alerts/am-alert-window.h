/* A rolling window of timed readings with its median: the hashrate_drop
 * rule's baseline ("the miner's median over the last hour"). Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AmAlertWindow AmAlertWindow;

AmAlertWindow *am_alert_window_new(void);
void am_alert_window_free(AmAlertWindow *window);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmAlertWindow, am_alert_window_free)

/* Appends @value read at @when_us (readings come in time order). */
void am_alert_window_add(AmAlertWindow *window, gint64 when_us, double value);
/* Drops readings older than @oldest_us. */
void am_alert_window_prune(AmAlertWindow *window, gint64 oldest_us);
void am_alert_window_clear(AmAlertWindow *window);
guint am_alert_window_length(const AmAlertWindow *window);
/* The median of the readings held (NAN when empty). */
double am_alert_window_median(const AmAlertWindow *window);

G_END_DECLS
