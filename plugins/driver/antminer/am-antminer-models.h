/* The Antminer model table: what the firmware does not say about itself.
 *
 * Each entry holds spec-sheet facts (nominal hashrate and wall power, hash
 * boards, chips per board, fans) and the unit quirk of its firmware: the
 * scrypt, X11, ethash and equihash models put MH/s or Sol/s into keys named
 * "GHS". Pure data and lookups, no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  /* The canonical name reported as the sample's model ("Antminer S19j Pro"). */
  const char *name;
  /* Other spellings of the same model seen in Type strings, NULL-ended.
   * Case and spaces are ignored anyway ("Antminer S19JPRO" matches name). */
  const char *aliases[3];
  /* "sha256d", "scrypt", "x11", "ethash" or "equihash". */
  const char *algorithm;
  /* Real units per labelled unit, for the totals ("GHS 5s", "GHS av",
   * "total_rateideal") and for the chain_rateN keys. 1 on SHA-256 models;
   * 1e-3 where a "GH" value is really MH/s; see the Z11 entry. */
  double total_unit_scale;
  double chain_unit_scale;
  /* Spec-sheet values: hashrate in TH/s of the algorithm's own unit (an
   * L3+ at 504 MH/s is 0.000504) and wall power in W. */
  double nominal_ths;
  double nominal_w;
  gint chains;          /* hash boards; -1 when not known */
  gint chips_per_chain; /* -1 when not known */
  gint fans;            /* fan slots; 0 on hydro models; -1 when not known */
  gboolean hydro;
  /* The L3+ names its third temperature sensor temp31..temp34 (no '_'). */
  gboolean temp3n_keys;
} AmAntminerModel;

/* Finds @model_name (already stripped of firmware suffixes) in the table,
 * ignoring ASCII case and spaces. Returns: (transfer none) or NULL. */
const AmAntminerModel *am_antminer_model_lookup(const char *model_name);

/* Joules per TH (of the model's algorithm unit) at the spec-sheet point,
 * or NAN when the table lacks either number. */
double am_antminer_model_jth(const AmAntminerModel *model);

/* The whole table, for tests. (transfer none) */
const AmAntminerModel *am_antminer_models(guint *n_models);

G_END_DECLS
