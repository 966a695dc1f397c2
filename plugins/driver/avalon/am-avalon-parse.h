/* Canaan AvalonMiner (Canaan's cgminer): the pure normalizer, including
 * the reader for the "MM ID<n>" Key[value] strings of its stats reply.
 * JSON replies in, AmSample out; no I/O. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Splits one "MM ID<n>" string into key -> value (both trimmed). The format
 * is Key[value] pairs separated by blanks, e.g.
 *   Ver[1047-...] Temp[28] TMax[75] PS[0 1212 1315 174 2288 1320] Elapsed[103840]BOOTBY[1]
 * Values may hold blanks, commas and colons ("SYSTEMSTATU[Work: In Work,
 * Hash Board: 3 ]"); a key may follow "]" with no blank; text outside
 * brackets that is not a key is ignored; an unterminated last pair is
 * dropped; the first of two equal keys wins.
 * Returns: (transfer full) a table of strings, never NULL. */
GHashTable *am_avalon_mm_parse(const char *text);

/* Reads the @index-th blank-separated number of @key's value ("PS[0 1212
 * 1315]" index 2 -> 1315); a trailing '%' is allowed ("FanR[43%]").
 * Returns FALSE when absent or not a finite number ("inf", "nan"). */
gboolean am_avalon_mm_number(GHashTable *mm, const char *key, guint index, double *out);

/* How many blank-separated fields @key's value has (0 when absent). */
guint am_avalon_mm_count(GHashTable *mm, const char *key);

/* The replies one poll gathers; any may be NULL (not answered). */
typedef struct {
  JsonObject *version;
  JsonObject *summary; /* this or stats must be there */
  JsonObject *pools;
  JsonObject *stats;
} AmAvalonReplies;

/* SUPPORTED when the Description or a VERSION value mentions Avalon (PROD
 * "AvalonMiner 15-194", Type "Avalon..."); LIKELY when VERSION only has
 * Canaan's controller types (HWTYPE/SWTYPE "MM..."); else UNSUPPORTED. */
AmMatch am_avalon_match(const AmFingerprint *fp);

/* Returns: (transfer full) the sample, or NULL with AM_ERROR_UNSUPPORTED
 * when neither summary nor an "MM ID" stats string was answered. */
AmSample *am_avalon_parse(const AmAvalonReplies *replies, GError **error);

G_END_DECLS
