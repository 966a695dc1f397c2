/* The antminer driver's normalizer: cgminer RPC replies of Bitmain stock
 * firmware (bmminer and cgminer based), Hiveon and VNish in, one AmSample
 * out. Pure: no I/O, no global state, so it is tested table-driven against
 * recorded replies and fuzzed. */
#pragma once

#include "am-antminer-models.h"

#include <antmon/antmon.h>

G_BEGIN_DECLS

typedef struct {
  /* When the firmware reports no (plausible) power reading, estimate it as
   * hashrate x the model's spec-sheet J/TH and label it ESTIMATED. */
  gboolean estimate_power;
} AmAntminerOptions;

/* Who the miner says it is, from a VERSION[0] object or the version block
 * that STATS carries before its data block. */
typedef struct {
  char *model;                  /* cleaned: "Antminer S9", "Antminer S19j Pro" */
  char *firmware;               /* "bmminer", "cgminer", "Hiveon", "VNish", "Blissz" */
  char *firmware_version;       /* see am_antminer_identify() for the precedence */
  const AmAntminerModel *entry; /* the table entry, or NULL */
  const char *algorithm;        /* static string, or NULL when not known */
} AmAntminerIdentity;

/* Fills @out from @version_block (may be NULL), the STATS data block
 * @stats_data (may be NULL; VNish puts build_version there) and the STATUS
 * Description @description (may be NULL). Free with am_antminer_identity_clear(). */
void am_antminer_identify(JsonObject *version_block, JsonObject *stats_data,
                          const char *description, AmAntminerIdentity *out);
void am_antminer_identity_clear(AmAntminerIdentity *identity);

/* How well this driver fits @fp; reads nothing but @fp. */
AmMatch am_antminer_match(const AmFingerprint *fp);

/* Normalizes whole replies (the root objects, STATUS included) into a new
 * sample. @stats_reply is required; @version_reply, @pools_reply and
 * @summary_reply may be NULL, and one that carries an error STATUS is treated
 * as absent. @options may be NULL for the defaults. The sample's driver is
 * "antminer"; host, port and when are left for the core, and
 * am_sample_finish() is not called.
 * Errors: AM_ERROR_UNSUPPORTED (no stats reply), AM_ERROR_API (the stats
 * reply is an error STATUS), AM_ERROR_PARSE (no STATS data block).
 * Returns: (transfer full) the sample, or NULL with @error. */
AmSample *am_antminer_parse(JsonObject *version_reply, JsonObject *stats_reply,
                            JsonObject *pools_reply, JsonObject *summary_reply,
                            const AmAntminerOptions *options, GError **error);

G_END_DECLS
