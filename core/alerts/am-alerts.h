/* The alert evaluator (core): [alert:NAME] rules applied to every sample
 * and state change, with hits, hysteresis, cooldown, resolve messages and
 * digests; notifications handed to sink plugins. */
#pragma once

#include "am-scheduler.h"
#include "am-store-queue.h"

G_BEGIN_DECLS

typedef struct _AmAlerts AmAlerts;

/* Reads every [alert:NAME] group of @kf. @sinks: AmInstance* of kind sink
 * (borrowed); @store may be NULL. Fails with AM_ERROR_CONFIG (message
 * "[alert:NAME] key=value: expected ...", no file prefix) on a bad rule. */
AmAlerts *am_alerts_new(GKeyFile *kf, GPtrArray *sinks, AmStoreQueue *store, GError **error);

/* Validates every [alert:NAME] group and the delivery keys every
 * [sink:...] group takes (digest_window=, retries=, ...), as
 * am_alerts_new() would, without starting anything: for check-config.
 * Same errors as am_alerts_new(). */
gboolean am_alerts_check_config(GKeyFile *kf, GError **error);

void am_alerts_on_sample(AmAlerts *alerts, AmMinerEntry *entry, AmSample *sample);
void am_alerts_on_state(AmAlerts *alerts, AmMinerEntry *entry, AmMinerState old_state);

/* {"rules":..,"active":..,"sent":..,"failed":..} (transfer full) */
JsonNode *am_alerts_stats_json(AmAlerts *alerts);

void am_alerts_free(AmAlerts *alerts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmAlerts, am_alerts_free)

G_END_DECLS
