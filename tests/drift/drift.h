/* The firmware-drift test (test-drift.c): every recorded reply set of every
 * driver, fed to the driver's pure parser once per JSON key with that key
 * deleted or renamed. The adapters (drift-rpc.c, drift-web.c) say which
 * fixture files make one poll and how they reach the parser. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_DRIFT_MAX_SLOTS 16

/* Feeds one poll's replies to a parser. @replies holds AM_DRIFT_MAX_SLOTS
 * nodes, NULL where a reply is absent; a mutation never changes a node's
 * type, so the adapter may take each slot as the type the parser wants.
 * Returns: (transfer full) the sample, or NULL with @error. */
typedef AmSample *(*AmDriftParse)(JsonNode *const *replies, GError **error);

/* One poll of one driver as its own test reads it. */
typedef struct {
  const char *driver; /* "axeos": the counts are reported per driver */
  const char *name;   /* "bitaxe-v2.0.0": unique within the driver */
  AmDriftParse parse;
  /* The fixture of each slot, relative to tests/fixtures/; NULL: absent. */
  const char *files[AM_DRIFT_MAX_SLOTS];
  /* "<slot>:<path>" of the keys the driver documents as required: losing
   * one may fail the poll, with a clear AM_ERROR, instead of giving a
   * sample. A path is the keys and array indices from the root joined by
   * '/', every array index written "[]" ("SUMMARY", "STATS/[]/Elapsed"). */
  const char *required[4];
} AmDriftSet;

/* NULL-terminated tables of the adapters. */
extern const AmDriftSet *const am_drift_rpc_sets[];
extern const AmDriftSet *const am_drift_web_sets[];

/* The object in @node, or NULL (absent, or not an object). */
JsonObject *am_drift_object(JsonNode *node);
/* The array in @node, or NULL. */
JsonArray *am_drift_array(JsonNode *node);

G_END_DECLS
