/* The packed "detail" of a raw sample (schema version 3): everything the
 * SQL queries do not read (hashrate average and ideal, efficiency, share
 * counters, the lists of temperatures and fans, and the chains) in one small
 * blob. Pure: no I/O, no SQLite, tested table-driven.
 *
 * Every value is an integer "slot" in a fixed unit, unknown or known:
 *   hashrates   10^e H/s, e chosen per sample so the largest has <= 6 digits
 *               (a 100 TH/s miner in GH/s, an L3+ in kH/s, an equihash
 *               miner in Sol/s), so the relative error is at most 5e-6;
 *   temperatures 0.1 degC; fans and power of a chain: 1 RPM, 0.1 W;
 *   efficiency  0.01 J/TH; status, power source, counts and counters as is.
 *
 * A blob is either a key frame (the layout, which slots are known, and each
 * known value) or a delta frame: the time back to its base sample (the
 * miner's sample written just before it, same layout, same known slots), a
 * bitmap of the slots that changed and the difference of each. Poll to poll
 * most slots do not change and the rest change a little, so a delta frame
 * of a 3-chain miner is 10 to 30 bytes where a key frame is ~70.
 *
 * Format (all integers are LEB128 varints, signed ones zigzag-coded):
 *   byte 0: bits 0-3 the frame kind (0 key, 1 delta), bits 4-7 version
 *   key:    n_temps n_chip_temps n_fans n_chains e [v2: ext]
 *           [v2, ext & AM_SQLITE_EXT_WORK_MODE: length work_mode bytes]
 *           chain_index[n_chains]
 *           (bit 7 of n_temps / n_chip_temps: the list mirrors the chains'
 *           board / chip temperatures and has no slots of its own)
 *           known bitmap (one bit per slot, LSB first) value[known slots]
 *   delta:  dt_ms changed bitmap diff[changed slots] (the layout, the work
 *           mode included, is its base's; the version is the base's too)
 *
 * Version 2 (plugin ABI 1.2) adds optional groups, named by the ext byte:
 * the scalars of AmSqliteExtSlot after the version 1 scalars, four slots
 * per chain (voltage 1 mV, frequency 0.01 MHz, inlet and outlet 0.1 degC)
 * after all the chains' version 1 slots, and the work mode. A sample that
 * has none of them is written as a version 1 frame, byte for byte as
 * before, so a miner that reports none of the new fields costs nothing
 * more; version 1 frames (and deltas of them) still decode. Slot order:
 *   scalars [ext scalars] temps chip_temps fans chains[9 each] [chains' ext
 *   slots, 4 each] */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Readings kept per list, and chains per sample. */
#define AM_SQLITE_MAX_READINGS 64
#define AM_SQLITE_MAX_CHAINS 32

typedef enum {
  AM_SQLITE_SLOT_STATUS,
  AM_SQLITE_SLOT_POWER_SOURCE,
  AM_SQLITE_SLOT_HASHRATE_AVG,
  AM_SQLITE_SLOT_HASHRATE_IDEAL,
  AM_SQLITE_SLOT_EFFICIENCY,
  AM_SQLITE_SLOT_ACCEPTED,
  AM_SQLITE_SLOT_REJECTED,
  AM_SQLITE_SLOT_HW_ERRORS,
  AM_SQLITE_N_SCALARS
} AmSqliteScalarSlot;

/* Scalars of format version 2 (group AM_SQLITE_EXT_SCALARS), in order:
 * mining state, power limit 0.1 W, coolant in and out 0.1 degC, PSU power
 * in and out 0.1 W, PSU fan 1 RPM, best share (whole), found blocks,
 * partial (1, or unknown for a whole poll), and the vendor errors counted
 * by severity (known when the sample has any error). */
typedef enum {
  AM_SQLITE_EXT_MINING,
  AM_SQLITE_EXT_POWER_LIMIT,
  AM_SQLITE_EXT_WATER_IN,
  AM_SQLITE_EXT_WATER_OUT,
  AM_SQLITE_EXT_PSU_IN,
  AM_SQLITE_EXT_PSU_OUT,
  AM_SQLITE_EXT_PSU_FAN,
  AM_SQLITE_EXT_BEST_SHARE,
  AM_SQLITE_EXT_FOUND_BLOCKS,
  AM_SQLITE_EXT_PARTIAL,
  AM_SQLITE_EXT_ERRORS_UNKNOWN,
  AM_SQLITE_EXT_ERRORS_INFO,
  AM_SQLITE_EXT_ERRORS_WARNING,
  AM_SQLITE_EXT_ERRORS_ERROR,
  AM_SQLITE_N_EXT_SCALARS
} AmSqliteExtSlot;

/* Slots of one chain, in order; and the version 2 slots of one chain. */
#define AM_SQLITE_CHAIN_SLOTS 9
#define AM_SQLITE_CHAIN_EXT_SLOTS 4

/* AmSqliteDetail.ext: the optional groups of format version 2. */
#define AM_SQLITE_EXT_SCALARS 1
#define AM_SQLITE_EXT_CHAINS 2
#define AM_SQLITE_EXT_WORK_MODE 4
/* Longest work mode kept, in bytes (a longer one is cut). */
#define AM_SQLITE_MAX_WORK_MODE 64

/* AmSqliteDetail.mirror: the list is the chains' board (chip) temperatures,
 * one per chain in order, and is not stored twice. */
#define AM_SQLITE_MIRROR_TEMPS 1
#define AM_SQLITE_MIRROR_CHIP_TEMPS 2

typedef struct {
  guint8 n_temps, n_chip_temps, n_fans, n_chains; /* slots of each list */
  guint8 mirror;                                  /* AM_SQLITE_MIRROR_* */
  guint8 ext;                                     /* AM_SQLITE_EXT_*: 0 is version 1 */
  char *work_mode;                                /* with AM_SQLITE_EXT_WORK_MODE */
  gint8 hashrate_exp;                             /* hashrates in 10^hashrate_exp H/s */
  gint32 chain_index[AM_SQLITE_MAX_CHAINS];
  guint n_slots;
  gint64 *value; /* n_slots */
  guint8 *known; /* n_slots, 0 or 1 */
} AmSqliteDetail;

/* The detail of @s (a finished sample). @prefer_exp is the hashrate unit of
 * the sample before it (or -1): kept when it still gives enough digits, so
 * that a miner's frames stay deltas. (transfer full) */
AmSqliteDetail *am_sqlite_detail_from_sample(const AmSample *s, int prefer_exp);
void am_sqlite_detail_free(AmSqliteDetail *d);
AmSqliteDetail *am_sqlite_detail_copy(const AmSqliteDetail *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmSqliteDetail, am_sqlite_detail_free)

/* TRUE when @d can be written as a delta of @base (same layout, same known
 * slots). */
gboolean am_sqlite_detail_delta_ok(const AmSqliteDetail *d, const AmSqliteDetail *base);

/* Appends the blob of @d to @out: a delta frame of @base, @dt_ms before
 * it, when @base is not NULL (am_sqlite_detail_delta_ok() must hold), else
 * a key frame. */
void am_sqlite_detail_pack(const AmSqliteDetail *d, const AmSqliteDetail *base, gint64 dt_ms,
                           GByteArray *out);

/* Reads the frame kind of a blob: TRUE and @dt_ms for a delta frame. FALSE
 * for a key frame or a blob too short to tell. */
gboolean am_sqlite_detail_is_delta(const guint8 *data, gsize len, gint64 *dt_ms);

/* Decodes a blob. A delta frame needs @base (the decoded sample @dt_ms
 * before it). Returns NULL with @error for a malformed blob. (transfer full) */
AmSqliteDetail *am_sqlite_detail_unpack(const guint8 *data, gsize len, const AmSqliteDetail *base,
                                        GError **error);

/* Sets the detail fields of @s from @d: status, power source, hashrate
 * average and ideal, efficiency, counters, the lists and the chains (which
 * are appended: start from a sample without any), and the version 2
 * fields. Vendor errors are kept as counts only: each comes back as an
 * error of its severity without code or message. */
void am_sqlite_detail_to_sample(const AmSqliteDetail *d, AmSample *s);

/* Scaled values of the SQL columns (raw samples, schema version 3): unknown
 * is FALSE. Hashrate in GH/s, whole from 1 TH/s up; power in W, whole from
 * 100 W up; temperatures in 0.1 degC; fans in whole RPM. */
gboolean am_sqlite_column_hashrate_ghs(double ths, double *out);
gboolean am_sqlite_column_power_w(double w, double *out);
gboolean am_sqlite_column_deci(double value, gint64 *out);
gboolean am_sqlite_column_whole(double value, gint64 *out);

/* The mean of the chains' known voltages (frequencies): the miner-level
 * value stored as a series. NAN when no chain tells. */
double am_sqlite_chain_mean_voltage(const AmSample *s);
double am_sqlite_chain_mean_frequency(const AmSample *s);

G_END_DECLS
