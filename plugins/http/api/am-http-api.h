/* The endpoints: JSON under /api, probes under /-, Prometheus /metrics. */
#pragma once

#include "am-http-server.h"

G_BEGIN_DECLS

void am_http_api_summary(AmHttpRequest *req);    /* GET /api/summary */
void am_http_api_miners(AmHttpRequest *req);     /* GET /api/miners */
void am_http_api_miner(AmHttpRequest *req);      /* GET /api/miners/{key}[/raw] */
void am_http_api_history(AmHttpRequest *req);    /* GET /api/metrics, /api/fleet, /api/events */
void am_http_api_health(AmHttpRequest *req);     /* GET /api/health */
void am_http_api_healthy(AmHttpRequest *req);    /* GET /-/healthy */
void am_http_api_ready(AmHttpRequest *req);      /* GET /-/ready */
void am_http_api_prometheus(AmHttpRequest *req); /* GET /metrics */

G_END_DECLS
