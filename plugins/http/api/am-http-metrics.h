/* GET /metrics: the Prometheus text exposition format (version 0.0.4) from
 * the latest values, never from the network or the store.
 *
 * Pure: miners and the health object go in, text comes out, so the tests
 * feed hand-made samples and parse the result with a real Prometheus
 * parser. */
#pragma once

#include "am-http-metrics-miner.h"
#include "am-http-model.h"
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define AM_HTTP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct _AmHttpMetrics AmHttpMetrics;

AmHttpMetrics *am_http_metrics_new(void);
void am_http_metrics_free(AmHttpMetrics *metrics);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmHttpMetrics, am_http_metrics_free)

/* The series of @miner (am_http_miner_block_new()). */
void am_http_metrics_add_miner(AmHttpMetrics *metrics, const AmHttpMiner *miner);

/* A miner's series rendered earlier (kept by the fleet cache). Miners are
 * written in the order added. */
void am_http_metrics_add_block(AmHttpMetrics *metrics, AmHttpMinerBlock *block);

/* The agent's own numbers from am_context_health_json(): build info,
 * uptime, miners by state, the last poll pass, discovery, store, alerts. */
void am_http_metrics_add_health(AmHttpMetrics *metrics, JsonNode *health);

/* The exposition text: each family's HELP and TYPE, then its samples
 * (the agent's families first, then the miners').
 * Returns: (transfer full). */
GBytes *am_http_metrics_render(AmHttpMetrics *metrics);

/* The same text appended to @body as chunks, without copying the agent's
 * samples; the families are left empty and the miners dropped. */
void am_http_metrics_render_to(AmHttpMetrics *metrics, SoupMessageBody *body);

/* Escapes a label value: backslash, double quote and newline. Appends to @out. */
void am_http_metrics_escape_label(GString *out, const char *value);

G_END_DECLS
