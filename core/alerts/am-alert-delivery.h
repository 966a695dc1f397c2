/* Delivery of alerts to one sink: the digest window, one notification in
 * flight at a time, a deadline on each attempt, retries with backoff. A
 * sink that fails or hangs only ever delays itself.
 *
 * Every sink group also takes these keys, read here by the core; a key the
 * group leaves out takes the value in the plugin's sample.ini, else:
 *   digest_window=10s  alerts raised within it go out as one notification
 *   min_severity=info  leave out alerts below it (info, warning, critical)
 *   retries=3          attempts after the first that failed
 *   retry_backoff=30s  wait before the first retry, doubled each time
 *   deliver_timeout=2m hard deadline of one attempt
 *   dry_run=false      log what would be sent instead of sending it */
#pragma once

#include "am-instances.h"
#include <antmon/alert.h>

G_BEGIN_DECLS

/* One alert on its way to the sinks: an AmAlert and the strings it points
 * to. Reference counted; never changed once made. */
typedef struct _AmAlertItem AmAlertItem;

typedef struct {
  const char *rule;
  const char *rule_type;
  AmSeverity severity;
  gboolean resolved;
  const char *miner_host; /* the address, "host:port" */
  const char *miner_name;
  const char *model;
  double value, threshold;
  const char *unit;
  const char *message;
  gint64 when_us;
} AmAlertItemInit;

/* Returns: (transfer full); every string is copied. */
AmAlertItem *am_alert_item_new(const AmAlertItemInit *init);
AmAlertItem *am_alert_item_ref(AmAlertItem *item);
void am_alert_item_unref(AmAlertItem *item);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmAlertItem, am_alert_item_unref)
/* (transfer none) valid while @item lives */
const AmAlert *am_alert_item_get(AmAlertItem *item);

/* One line for logs: "critical hot raised: rack1 (10.0.0.5:4028): ...".
 * (transfer full) */
char *am_alert_format_line(const AmAlert *alert);
/* The subject of a notification of @n_alerts. (transfer full) */
char *am_alert_format_subject(const AmAlert *const *alerts, guint n_alerts);

/* Called for each delivery outcome, for the store's "delivery" events.
 * @miner_host is NULL for a digest of several miners; @detail is a JSON
 * object: {"state":"sent"|"retrying"|"failed"|"dry_run","subject":..,
 * "n_alerts":..,"attempt":..,"error":..}. */
typedef void (*AmDeliveryReportFunc)(const char *sink, const char *miner_host, const char *detail,
                                     gpointer user_data);

typedef struct _AmAlertSink AmAlertSink;

/* @instance: a sink plugin instance (borrowed), or NULL for the built-in
 * log delivery used when no sink is configured. Fails with
 * AM_ERROR_CONFIG on a bad delivery key. */
AmAlertSink *am_alert_sink_new(AmInstance *instance, GKeyFile *kf, AmDeliveryReportFunc report,
                               gpointer report_data, GError **error);
/* "sink:email:ops", or "log" for the built-in one. (transfer none) */
const char *am_alert_sink_get_name(AmAlertSink *sink);
/* Queues @item (a reference is taken) unless it is under min_severity. */
void am_alert_sink_add(AmAlertSink *sink, AmAlertItem *item);
/* Ends the digest window now: what it holds goes out as one notification. */
void am_alert_sink_flush(AmAlertSink *sink);
/* Nothing waits in the digest, in the queue or in flight. */
gboolean am_alert_sink_is_idle(AmAlertSink *sink);
/* {"name":..,"sent":..,"failed":..,"queued":..} (transfer full) */
JsonNode *am_alert_sink_stats_json(AmAlertSink *sink);
guint am_alert_sink_get_sent(AmAlertSink *sink);
guint am_alert_sink_get_failed(AmAlertSink *sink);
/* Cancels the attempt in flight and forgets the queue; a late answer from
 * the plugin is ignored. */
void am_alert_sink_free(AmAlertSink *sink);

G_END_DECLS
