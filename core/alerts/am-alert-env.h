/* What the alert evaluator needs from its surroundings, so that tests can
 * give it a fake store and a fake clock (see am-alerts.h). */
#pragma once

#include "am-alerts.h"

G_BEGIN_DECLS

typedef struct {
  /* The store, or NULL: alert state then lives in memory only. */
  gpointer store;
  void (*push_event)(gpointer store, const AmEvent *event);
  void (*query_async)(gpointer store, const char *query, GHashTable *params,
                      GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
  JsonNode *(*query_finish)(gpointer store, GAsyncResult *result, GError **error);
  /* The wall clock in microseconds, or NULL for g_get_real_time(). With a
   * clock of its own the caller drives the time-based rules (offline) with
   * am_alerts_tick(); otherwise a timer does, every second. */
  gint64 (*now_us)(gpointer clock_data);
  gpointer clock_data;
} AmAlertsEnv;

AmAlerts *am_alerts_new_with_env(GKeyFile *kf, GPtrArray *sinks, const AmAlertsEnv *env,
                                 GError **error);

/* Evaluates the offline rules for every miner whose last poll failed. */
void am_alerts_tick(AmAlerts *alerts);

/* Ends every sink's digest window now. */
void am_alerts_flush(AmAlerts *alerts);

/* TRUE once the stored alert state has been read back (or there is no
 * store); until then samples are held, not evaluated. */
gboolean am_alerts_is_ready(AmAlerts *alerts);

/* TRUE when no sink has anything waiting or in flight. */
gboolean am_alerts_is_idle(AmAlerts *alerts);

G_END_DECLS
