/* One miner's Prometheus series, rendered once per change of the miner and
 * kept: /metrics at 10,000 miners concatenates these blocks instead of
 * formatting some 500,000 lines per scrape on the main loop.
 *
 * By Prometheus' conventions the descriptive labels (name, model,
 * firmware, driver) are only on antmon_miner_info, the state only on
 * antmon_miner_state; every other series carries miner="host:port" and its
 * own dimension labels, so PromQL joins them with
 *   ... * on(miner) group_left(model) antmon_miner_info
 * and a renamed miner or a firmware upgrade does not start new series.
 *
 * A block holds its lines family by family (AmHttpMinerFamily order), so
 * the exposition can write each family's HELP and TYPE once and then that
 * family's lines of every miner. Pure. */
#pragma once

#include "am-http-model.h"

G_BEGIN_DECLS

typedef enum {
  AM_HTTP_FAMILY_INFO,
  AM_HTTP_FAMILY_STATE,
  AM_HTTP_FAMILY_UP,
  AM_HTTP_FAMILY_POLL_FAILURES,
  AM_HTTP_FAMILY_LAST_SEEN,
  AM_HTTP_FAMILY_HASHRATE,
  AM_HTTP_FAMILY_HASHRATE_IDEAL,
  AM_HTTP_FAMILY_POWER,
  AM_HTTP_FAMILY_TEMPERATURE,
  AM_HTTP_FAMILY_FAN,
  AM_HTTP_FAMILY_CHAIN_CHIPS,
  AM_HTTP_FAMILY_CHAIN_HASHRATE,
  AM_HTTP_FAMILY_CHAIN_VOLTAGE,
  AM_HTTP_FAMILY_CHAIN_FREQUENCY,
  AM_HTTP_FAMILY_SHARES,
  AM_HTTP_FAMILY_HW_ERRORS,
  AM_HTTP_FAMILY_UPTIME,
  AM_HTTP_FAMILY_MINING,
  AM_HTTP_FAMILY_ERRORS,
  AM_HTTP_FAMILY_POWER_LIMIT,
  AM_HTTP_FAMILY_WATER_TEMPERATURE,
  AM_HTTP_FAMILY_PSU_POWER,
  AM_HTTP_FAMILY_PSU_FAN,
  AM_HTTP_FAMILY_BEST_SHARE,
  AM_HTTP_FAMILY_FOUND_BLOCKS,
  AM_HTTP_FAMILY_SAMPLE_PARTIAL,
  AM_HTTP_N_FAMILIES
} AmHttpMinerFamily;

typedef struct {
  const char *name;
  const char *type; /* "gauge", "counter" */
  const char *help;
} AmHttpFamilyInfo;

/* (transfer none) */
const AmHttpFamilyInfo *am_http_miner_family(AmHttpMinerFamily family);

/* Immutable once made, reference counted (a scrape in progress keeps the
 * blocks it writes out while newer ones replace them). */
typedef struct _AmHttpMinerBlock AmHttpMinerBlock;

/* The series of @miner: always info, state, up and poll failures; the
 * sample's readings only while the miner answers (an offline miner's last
 * sample is history, not a reading). Returns: (transfer full). */
AmHttpMinerBlock *am_http_miner_block_new(const AmHttpMiner *miner);
AmHttpMinerBlock *am_http_miner_block_ref(AmHttpMinerBlock *block);
void am_http_miner_block_unref(AmHttpMinerBlock *block);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmHttpMinerBlock, am_http_miner_block_unref)

/* The lines of @family, each ending in '\n'; *@len 0 when it has none.
 * (transfer none) */
const char *am_http_miner_block_family(const AmHttpMinerBlock *block, AmHttpMinerFamily family,
                                       gsize *len);

/* All its lines, in bytes. */
gsize am_http_miner_block_size(const AmHttpMinerBlock *block);

G_END_DECLS
