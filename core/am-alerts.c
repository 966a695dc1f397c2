/* STUB: replaced by the alert evaluator (issue: alerts). */
#include "am-alerts.h"

struct _AmAlerts {
  GPtrArray *sinks;
};

AmAlerts *
am_alerts_new(GKeyFile *kf, GPtrArray *sinks, AmStoreQueue *store, GError **error)
{
  (void)kf;
  (void)store;
  (void)error;
  AmAlerts *a = g_new0(AmAlerts, 1);
  a->sinks = g_ptr_array_ref(sinks);
  return a;
}

void
am_alerts_on_sample(AmAlerts *a, AmMinerEntry *entry, AmSample *sample)
{
  (void)a;
  (void)entry;
  (void)sample;
}

void
am_alerts_on_state(AmAlerts *a, AmMinerEntry *entry, AmMinerState old_state)
{
  (void)a;
  (void)entry;
  (void)old_state;
}

JsonNode *
am_alerts_stats_json(AmAlerts *a)
{
  (void)a;
  return json_node_init_object(json_node_alloc(), json_object_new());
}

void
am_alerts_free(AmAlerts *a)
{
  if (a == NULL)
    return;
  g_ptr_array_unref(a->sinks);
  g_free(a);
}
