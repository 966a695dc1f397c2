/* Each sample as JSON text, made once: a sample never changes after the
 * core finishes it, and the miner list sends all of them on every
 * dashboard refresh. Entries hold a reference to their sample, so a key
 * cannot be reused by a new sample at the same address in memory. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

typedef struct _AmHttpSampleCache AmHttpSampleCache;

AmHttpSampleCache *am_http_sample_cache_new(void);
void am_http_sample_cache_free(AmHttpSampleCache *cache);

/* The JSON of @sample (am_sample_to_json, compact). (transfer none: valid
 * until the next sweep that finds it unused) */
const char *am_http_sample_cache_get(AmHttpSampleCache *cache, AmSample *sample);

/* The brief form of @sample for tables: the same keys as the full form,
 * without chains, pools, per-chip lists and extras. (transfer none, as
 * above) */
const char *am_http_sample_cache_get_brief(AmHttpSampleCache *cache, AmSample *sample);

/* Forgets samples not asked for since the previous sweep: the ones the
 * core has replaced with newer samples. */
void am_http_sample_cache_sweep(AmHttpSampleCache *cache);

G_END_DECLS
