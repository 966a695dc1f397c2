/* Every miner as the API writes it, kept between requests: a copy of the
 * core's view, its Prometheus block, the parts of its JSON object that do
 * not depend on the time, and its sample as JSON text (full and brief).
 *
 * At 10,000 miners, building all of that on every /metrics or /api/miners
 * took half a second of the main loop, during which nothing was polled.
 * Now a request compares each miner's view with the copy (cheap) and
 * rebuilds only what changed since the previous look; and once any of
 * these endpoints has been asked for, a one-second refresh keeps the cache
 * current between requests, so a scrape finds at most a second's worth of
 * new samples to render. The refresh stops when nobody has asked for five
 * minutes.
 *
 * Texts are made on first use: a fleet nobody scrapes renders no
 * Prometheus text, a dashboard that shows the brief table renders no full
 * samples. */
#pragma once

#include "am-http-metrics-miner.h"
#include "am-http-model.h"

G_BEGIN_DECLS

typedef struct _AmHttpFleet AmHttpFleet;

/* One miner. @miner comes first, so an AmHttpFleetMiner* is an
 * AmHttpMiner* for am_http_miners_sort() and the filters. */
typedef struct {
  AmHttpMiner miner;
  /*< private >*/
  char *head;                /* am_http_miner_write_json_head() */
  char *tail;                /* am_http_miner_write_json_tail() */
  char *sample_full;         /* or NULL until asked for */
  char *sample_brief;        /* or NULL until asked for */
  AmHttpMinerBlock *metrics; /* or NULL until asked for */
  guint mark;                /* the update that last saw it */
} AmHttpFleetMiner;

AmHttpFleet *am_http_fleet_new(AmContext *ctx);
void am_http_fleet_free(AmHttpFleet *fleet);

/* Compares every miner of the core with its copy; replaces the changed
 * ones (dropping their texts), adds new miners and forgets removed ones.
 * Returns TRUE when anything changed. */
gboolean am_http_fleet_update(AmHttpFleet *fleet);

/* Counts the updates that found a change: equal counts, equal fleet. */
guint64 am_http_fleet_generation(AmHttpFleet *fleet);

/* AmHttpFleetMiner*, in address order (natural: 127.0.0.9 before
 * 127.0.0.10), as of the last update. (transfer none) */
GPtrArray *am_http_fleet_miners(AmHttpFleet *fleet);

/* Its JSON object's fixed parts and its sample (or NULL when it has
 * none), made now if not yet. (transfer none: valid until the next update) */
const char *am_http_fleet_miner_head(AmHttpFleetMiner *miner);
const char *am_http_fleet_miner_tail(AmHttpFleetMiner *miner);
const char *am_http_fleet_miner_sample(AmHttpFleet *fleet, AmHttpFleetMiner *miner, gboolean brief);

/* Its Prometheus block, made now if not yet. (transfer none, as above) */
AmHttpMinerBlock *am_http_fleet_miner_metrics(AmHttpFleet *fleet, AmHttpFleetMiner *miner);

/* Debugging and benchmarks: ANTMON_HTTP_NO_CACHE=1 in the environment
 * makes every update start from an empty cache (the old cost, for a
 * reference figure in the same run). */
gboolean am_http_fleet_cache_disabled(void);

G_END_DECLS
