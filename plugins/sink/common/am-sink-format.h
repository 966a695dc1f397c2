/* How sinks show an alert to people and to machines: shared by the email,
 * webhook and log sinks so that they all say the same thing. Pure. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* "raised" or "resolved". (transfer none) */
const char *am_sink_alert_state(const AmAlert *alert);

/* "98.1 °C", "9.02 TH/s", "95 s", "2 chains"; "" for NAN. (transfer full) */
char *am_sink_format_value(double value, const char *unit);

/* The miner as people call it: "rack1 (10.0.0.5:4028)", or the address
 * alone when it has no name of its own. (transfer full) */
char *am_sink_format_miner(const AmAlert *alert);

/* The link to the miner's dashboard page: the alert's own, else
 * @url_template with {host}, {address} and {name} replaced (URI-escaped);
 * NULL when there is neither. (transfer full) */
char *am_sink_dashboard_url(const char *url_template, const AmAlert *alert);

/* One line: "CRITICAL hot raised on rack1 (10.0.0.5:4028): ...". (transfer full) */
char *am_sink_format_line(const AmAlert *alert);

/* The plain-text body: the subject, then one block per alert with the
 * miner, rule, value, threshold, message and dashboard link. (transfer full) */
char *am_sink_format_text(const AmNotification *n, const char *url_template);

/* {"rule","type","state","severity","miner","host","name","model","value",
 *  "threshold","unit","message","time","dashboard_url"} (transfer full) */
JsonNode *am_sink_alert_to_json(const AmAlert *alert, const char *url_template);

/* {"subject","n_alerts","alerts":[...]} (transfer full) */
JsonNode *am_sink_notification_to_json(const AmNotification *n, const char *url_template);

G_END_DECLS
