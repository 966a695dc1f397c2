/* The packed detail of a raw sample: see am-sqlite-pack.h for the format. */
#include "am-sqlite-pack.h"
#include <math.h>
#include <string.h>

/* Version 1 frames have no ext groups; version 2 frames have an ext byte. */
#define FORMAT_VERSION_1 1
#define FORMAT_VERSION_2 2
#define FRAME_KEY 0
#define FRAME_DELTA 1
/* Largest hashrate unit exponent (10^24 H/s): far beyond any miner. */
#define MAX_EXP 24

enum {
  C_HASHRATE,
  C_CHIPS,
  C_CHIPS_EXPECTED,
  C_CHIPS_OK,
  C_CHIPS_FAILED,
  C_HW_ERRORS,
  C_TEMP_BOARD,
  C_TEMP_CHIP,
  C_POWER,
};
G_STATIC_ASSERT(C_POWER + 1 == AM_SQLITE_CHAIN_SLOTS);

/* The version 2 slots of a chain. */
enum {
  CX_VOLTAGE,   /* mV */
  CX_FREQUENCY, /* 0.01 MHz */
  CX_TEMP_INLET,
  CX_TEMP_OUTLET,
};
G_STATIC_ASSERT(CX_TEMP_OUTLET + 1 == AM_SQLITE_CHAIN_EXT_SLOTS);
#define ALL_EXT (AM_SQLITE_EXT_SCALARS | AM_SQLITE_EXT_CHAINS | AM_SQLITE_EXT_WORK_MODE)

/* ---- columns ------------------------------------------------------------ */

gboolean
am_sqlite_column_hashrate_ghs(double ths, double *out)
{
  if (!isfinite(ths))
    return FALSE;
  double ghs = ths * 1000.0;
  /* Whole GH/s are stored in 3 or 4 bytes, a fraction in 8: from 1 TH/s
   * up a GH/s is less than 0.1 %; below, the value is kept as it is. */
  *out = fabs(ghs) >= 1000.0 ? round(ghs) : ghs;
  return TRUE;
}

gboolean
am_sqlite_column_power_w(double w, double *out)
{
  if (!isfinite(w))
    return FALSE;
  *out = fabs(w) >= 100.0 ? round(w) : w;
  return TRUE;
}

gboolean
am_sqlite_column_deci(double value, gint64 *out)
{
  if (!isfinite(value) || fabs(value) > 1e15)
    return FALSE;
  *out = llround(value * 10.0);
  return TRUE;
}

gboolean
am_sqlite_column_whole(double value, gint64 *out)
{
  if (!isfinite(value) || fabs(value) > 1e15)
    return FALSE;
  *out = llround(value);
  return TRUE;
}

/* ---- building a detail -------------------------------------------------- */

static double
pow10i(int e)
{
  double p = 1.0;
  for (int i = 0; i < e; i++)
    p *= 10.0;
  return p;
}

static guint
n_slots_for(guint nt, guint nc, guint nf, guint nch, guint8 ext)
{
  guint n = AM_SQLITE_N_SCALARS + nt + nc + nf + nch * AM_SQLITE_CHAIN_SLOTS;
  if (ext & AM_SQLITE_EXT_SCALARS)
    n += AM_SQLITE_N_EXT_SCALARS;
  if (ext & AM_SQLITE_EXT_CHAINS)
    n += nch * AM_SQLITE_CHAIN_EXT_SLOTS;
  return n;
}

static AmSqliteDetail *
detail_new(guint nt, guint nc, guint nf, guint nch, guint8 ext)
{
  AmSqliteDetail *d = g_new0(AmSqliteDetail, 1);
  d->n_temps = (guint8)nt;
  d->n_chip_temps = (guint8)nc;
  d->n_fans = (guint8)nf;
  d->n_chains = (guint8)nch;
  d->ext = ext;
  d->n_slots = n_slots_for(nt, nc, nf, nch, ext);
  d->value = g_new0(gint64, d->n_slots);
  d->known = g_new0(guint8, d->n_slots);
  return d;
}

void
am_sqlite_detail_free(AmSqliteDetail *d)
{
  if (d == NULL)
    return;
  g_free(d->value);
  g_free(d->known);
  g_free(d->work_mode);
  g_free(d);
}

AmSqliteDetail *
am_sqlite_detail_copy(const AmSqliteDetail *d)
{
  AmSqliteDetail *c = g_memdup2(d, sizeof *d);
  c->value = g_memdup2(d->value, d->n_slots * sizeof(gint64));
  c->known = g_memdup2(d->known, d->n_slots);
  c->work_mode = g_strdup(d->work_mode);
  return c;
}

/* The version 2 scalar @slot (AmSqliteExtSlot); the group must be there. */
static guint
ext_slot(guint slot)
{
  return AM_SQLITE_N_SCALARS + slot;
}

static guint
first_temp(const AmSqliteDetail *d)
{
  return AM_SQLITE_N_SCALARS + (d->ext & AM_SQLITE_EXT_SCALARS ? AM_SQLITE_N_EXT_SCALARS : 0);
}

static guint
first_chip_temp(const AmSqliteDetail *d)
{
  return first_temp(d) + d->n_temps;
}

static guint
first_fan(const AmSqliteDetail *d)
{
  return first_chip_temp(d) + d->n_chip_temps;
}

static guint
first_chain_slot(const AmSqliteDetail *d, guint chain)
{
  return first_fan(d) + d->n_fans + chain * AM_SQLITE_CHAIN_SLOTS;
}

/* The version 2 slots of a chain follow every chain's version 1 slots. */
static guint
first_chain_ext_slot(const AmSqliteDetail *d, guint chain)
{
  return first_chain_slot(d, d->n_chains) + chain * AM_SQLITE_CHAIN_EXT_SLOTS;
}

static void
set_int(AmSqliteDetail *d, guint slot, gint64 value, gboolean known)
{
  d->known[slot] = known ? 1 : 0;
  d->value[slot] = known ? value : 0;
}

/* A double scaled by @scale, rounded; NAN is unknown. */
static void
set_scaled(AmSqliteDetail *d, guint slot, double value, double scale)
{
  gboolean known = isfinite(value) && fabs(value * scale) < 4e18;
  set_int(d, slot, known ? llround(value * scale) : 0, known);
}

static void
set_count(AmSqliteDetail *d, guint slot, gint64 value)
{
  set_int(d, slot, value, value > AM_UNKNOWN);
}

/* The largest hashrate of @s, in H/s (0 when none is known). */
static double
max_hashrate_hs(const AmSample *s, guint n_chains)
{
  double max = 0;
  double scalars[] = {s->hashrate_avg_ths, s->hashrate_ideal_ths};
  for (gsize i = 0; i < G_N_ELEMENTS(scalars); i++)
    if (isfinite(scalars[i]))
      max = MAX(max, fabs(scalars[i]));
  for (guint i = 0; i < n_chains; i++) {
    double h = g_array_index(s->chains, AmChain, i).hashrate_ths;
    if (isfinite(h))
      max = MAX(max, fabs(h));
  }
  return max * 1e12;
}

/* At most 6 digits, or the unit of the sample before while it still gives
 * 5 to 7 digits (so a miner near a power of ten does not flip units). */
static int
choose_exp(double max_hs, int prefer)
{
  int e = 0;
  while (e < MAX_EXP && max_hs / pow10i(e) >= 1e6)
    e++;
  if (prefer >= 0 && prefer <= MAX_EXP) {
    double v = max_hs / pow10i(prefer);
    if (v < 1e7 && (prefer <= e || v >= 1e4))
      return prefer;
  }
  return e;
}

static void fill_chains(AmSqliteDetail *d, const AmSample *s, double hs);

/* The version 2 scalars of @s, scaled as stored (see AmSqliteExtSlot):
 * known ones are finite, or counts above AM_UNKNOWN. */
static void
ext_scalars_of(const AmSample *s, double out[AM_SQLITE_N_EXT_SCALARS])
{
  for (guint i = 0; i < AM_SQLITE_N_EXT_SCALARS; i++)
    out[i] = NAN;
  if (s->mining != AM_MINING_UNKNOWN)
    out[AM_SQLITE_EXT_MINING] = s->mining;
  out[AM_SQLITE_EXT_POWER_LIMIT] = s->power_limit_w * 10.0;
  out[AM_SQLITE_EXT_WATER_IN] = s->water_temp_in_c * 10.0;
  out[AM_SQLITE_EXT_WATER_OUT] = s->water_temp_out_c * 10.0;
  out[AM_SQLITE_EXT_PSU_IN] = s->psu_power_in_w * 10.0;
  out[AM_SQLITE_EXT_PSU_OUT] = s->psu_power_out_w * 10.0;
  out[AM_SQLITE_EXT_PSU_FAN] = s->psu_fan_rpm;
  out[AM_SQLITE_EXT_BEST_SHARE] = s->best_share;
  if (s->found_blocks > AM_UNKNOWN)
    out[AM_SQLITE_EXT_FOUND_BLOCKS] = (double)s->found_blocks;
  /* A whole poll is the normal case: only "partial" is worth a slot. */
  if (s->partial)
    out[AM_SQLITE_EXT_PARTIAL] = 1;
  /* No error at all may be "none" or "not reported": unknown either way. */
  if (s->errors->len > 0) {
    guint first = AM_SQLITE_EXT_ERRORS_UNKNOWN;
    for (guint i = 0; i < 4; i++)
      out[first + i] = 0;
    for (guint i = 0; i < s->errors->len; i++) {
      const AmMinerError *e = s->errors->pdata[i];
      guint sev = e->severity <= AM_ERROR_SEVERITY_ERROR ? (guint)e->severity : 0;
      out[first + sev]++;
    }
  }
}

static gboolean
storable(double scaled)
{
  return isfinite(scaled) && fabs(scaled) < 4e18;
}

/* The chain's version 2 values, scaled as stored. */
static void
ext_chain_of(const AmChain *c, double out[AM_SQLITE_CHAIN_EXT_SLOTS])
{
  out[CX_VOLTAGE] = c->voltage_v * 1000.0;
  out[CX_FREQUENCY] = c->frequency_mhz * 100.0;
  out[CX_TEMP_INLET] = c->temp_inlet_c * 10.0;
  out[CX_TEMP_OUTLET] = c->temp_outlet_c * 10.0;
}

/* Which version 2 groups @s needs: none when it has no new field. */
static guint8
ext_groups(const AmSample *s, guint n_chains)
{
  guint8 ext = 0;
  double v[AM_SQLITE_N_EXT_SCALARS];
  ext_scalars_of(s, v);
  for (guint i = 0; i < AM_SQLITE_N_EXT_SCALARS; i++)
    if (storable(v[i]))
      ext |= AM_SQLITE_EXT_SCALARS;
  for (guint i = 0; i < n_chains; i++) {
    double c[AM_SQLITE_CHAIN_EXT_SLOTS];
    ext_chain_of(&g_array_index(s->chains, AmChain, i), c);
    for (guint j = 0; j < AM_SQLITE_CHAIN_EXT_SLOTS; j++)
      if (storable(c[j]))
        ext |= AM_SQLITE_EXT_CHAINS;
  }
  if (s->work_mode != NULL)
    ext |= AM_SQLITE_EXT_WORK_MODE;
  return ext;
}

static void
fill_ext_scalars(AmSqliteDetail *d, const AmSample *s)
{
  double v[AM_SQLITE_N_EXT_SCALARS];
  ext_scalars_of(s, v);
  for (guint i = 0; i < AM_SQLITE_N_EXT_SCALARS; i++)
    set_scaled(d, ext_slot(i), v[i], 1.0);
}

static void
fill_ext_chains(AmSqliteDetail *d, const AmSample *s)
{
  for (guint i = 0; i < d->n_chains; i++) {
    double c[AM_SQLITE_CHAIN_EXT_SLOTS];
    ext_chain_of(&g_array_index(s->chains, AmChain, i), c);
    for (guint j = 0; j < AM_SQLITE_CHAIN_EXT_SLOTS; j++)
      set_scaled(d, first_chain_ext_slot(d, i) + j, c[j], 1.0);
  }
}

static double
chain_mean(const AmSample *s, gsize offset)
{
  double sum = 0;
  guint n = 0;
  for (guint i = 0; i < s->chains->len; i++) {
    double v = G_STRUCT_MEMBER(double, &g_array_index(s->chains, AmChain, i), offset);
    if (isfinite(v))
      sum += v, n++;
  }
  return n > 0 ? sum / n : NAN;
}

double
am_sqlite_chain_mean_voltage(const AmSample *s)
{
  return chain_mean(s, G_STRUCT_OFFSET(AmChain, voltage_v));
}

double
am_sqlite_chain_mean_frequency(const AmSample *s)
{
  return chain_mean(s, G_STRUCT_OFFSET(AmChain, frequency_mhz));
}
static gboolean mirrors_chains(const AmSqliteDetail *d, GArray *values, guint which);

static void
set_list(AmSqliteDetail *d, guint first, GArray *values, guint n, double scale)
{
  for (guint i = 0; i < n; i++)
    set_scaled(d, first + i, g_array_index(values, double, i), scale);
}

AmSqliteDetail *
am_sqlite_detail_from_sample(const AmSample *s, int prefer_exp)
{
  guint nt = MIN(s->temps_c->len, AM_SQLITE_MAX_READINGS);
  guint nc = MIN(s->chip_temps_c->len, AM_SQLITE_MAX_READINGS);
  guint nf = MIN(s->fans_rpm->len, AM_SQLITE_MAX_READINGS);
  guint nch = MIN(s->chains->len, AM_SQLITE_MAX_CHAINS);
  int exp = choose_exp(max_hashrate_hs(s, nch), prefer_exp);
  double hs = 1e12 / pow10i(exp); /* TH/s -> the unit */
  /* The chains first, to see whether the lists repeat their temperatures
   * (most drivers report each board's reading in both). */
  g_autoptr(AmSqliteDetail) chains = detail_new(0, 0, 0, nch, 0);
  fill_chains(chains, s, hs);
  guint8 mirror = 0;
  if (mirrors_chains(chains, s->temps_c, C_TEMP_BOARD))
    mirror |= AM_SQLITE_MIRROR_TEMPS, nt = 0;
  if (mirrors_chains(chains, s->chip_temps_c, C_TEMP_CHIP))
    mirror |= AM_SQLITE_MIRROR_CHIP_TEMPS, nc = 0;

  AmSqliteDetail *d = detail_new(nt, nc, nf, nch, ext_groups(s, nch));
  d->hashrate_exp = (gint8)exp;
  d->mirror = mirror;
  if (d->ext & AM_SQLITE_EXT_WORK_MODE)
    d->work_mode =
        g_utf8_make_valid(s->work_mode, MIN(strlen(s->work_mode), AM_SQLITE_MAX_WORK_MODE));
  set_int(d, AM_SQLITE_SLOT_STATUS, s->status, TRUE);
  set_int(d, AM_SQLITE_SLOT_POWER_SOURCE, s->power_source, TRUE);
  set_scaled(d, AM_SQLITE_SLOT_HASHRATE_AVG, s->hashrate_avg_ths, hs);
  set_scaled(d, AM_SQLITE_SLOT_HASHRATE_IDEAL, s->hashrate_ideal_ths, hs);
  set_scaled(d, AM_SQLITE_SLOT_EFFICIENCY, s->efficiency_jth, 100.0);
  set_count(d, AM_SQLITE_SLOT_ACCEPTED, s->accepted);
  set_count(d, AM_SQLITE_SLOT_REJECTED, s->rejected);
  set_count(d, AM_SQLITE_SLOT_HW_ERRORS, s->hw_errors);
  set_list(d, first_temp(d), s->temps_c, nt, 10.0);
  set_list(d, first_chip_temp(d), s->chip_temps_c, nc, 10.0);
  set_list(d, first_fan(d), s->fans_rpm, nf, 1.0);
  fill_chains(d, s, hs);
  if (d->ext & AM_SQLITE_EXT_SCALARS)
    fill_ext_scalars(d, s);
  if (d->ext & AM_SQLITE_EXT_CHAINS)
    fill_ext_chains(d, s);
  return d;
}

/* TRUE when @values, scaled by 10, are the chains' slot @which exactly. */
static gboolean
mirrors_chains(const AmSqliteDetail *d, GArray *values, guint which)
{
  if (values->len != d->n_chains || d->n_chains == 0)
    return FALSE;
  for (guint i = 0; i < d->n_chains; i++) {
    guint slot = first_chain_slot(d, i) + which;
    double v = g_array_index(values, double, i);
    if (!d->known[slot] || !isfinite(v) || fabs(v) > 1e15 || llround(v * 10.0) != d->value[slot])
      return FALSE;
  }
  return TRUE;
}

static void
fill_chains(AmSqliteDetail *d, const AmSample *s, double hs)
{
  for (guint i = 0; i < d->n_chains; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    guint f = first_chain_slot(d, i);
    d->chain_index[i] = c->index;
    set_scaled(d, f + C_HASHRATE, c->hashrate_ths, hs);
    set_count(d, f + C_CHIPS, c->chips);
    set_count(d, f + C_CHIPS_EXPECTED, c->chips_expected);
    set_count(d, f + C_CHIPS_OK, c->chips_ok);
    set_count(d, f + C_CHIPS_FAILED, c->chips_failed);
    set_count(d, f + C_HW_ERRORS, c->hw_errors);
    set_scaled(d, f + C_TEMP_BOARD, c->temp_board_c, 10.0);
    set_scaled(d, f + C_TEMP_CHIP, c->temp_chip_c, 10.0);
    set_scaled(d, f + C_POWER, c->power_w, 10.0);
  }
}

gboolean
am_sqlite_detail_delta_ok(const AmSqliteDetail *d, const AmSqliteDetail *base)
{
  return base != NULL && d->n_temps == base->n_temps && d->n_chip_temps == base->n_chip_temps &&
         d->mirror == base->mirror && d->n_fans == base->n_fans && d->n_chains == base->n_chains &&
         d->hashrate_exp == base->hashrate_exp && d->ext == base->ext &&
         g_strcmp0(d->work_mode, base->work_mode) == 0 &&
         memcmp(d->chain_index, base->chain_index, d->n_chains * sizeof(gint32)) == 0 &&
         memcmp(d->known, base->known, d->n_slots) == 0;
}

/* ---- varints ------------------------------------------------------------- */

static void
put_uvarint(GByteArray *out, guint64 v)
{
  while (v >= 0x80) {
    guint8 b = (guint8)(v & 0x7f) | 0x80;
    g_byte_array_append(out, &b, 1);
    v >>= 7;
  }
  guint8 b = (guint8)v;
  g_byte_array_append(out, &b, 1);
}

static guint64
zigzag(gint64 v)
{
  return ((guint64)v << 1) ^ (guint64)(v >> 63);
}

static gint64
unzigzag(guint64 v)
{
  return (gint64)(v >> 1) ^ -(gint64)(v & 1);
}

static void
put_svarint(GByteArray *out, gint64 v)
{
  put_uvarint(out, zigzag(v));
}

static void
put_bitmap(GByteArray *out, const guint8 *flags, guint n)
{
  for (guint i = 0; i < n; i += 8) {
    guint8 b = 0;
    for (guint j = 0; j < 8 && i + j < n; j++)
      b |= (guint8)((flags[i + j] ? 1 : 0) << j);
    g_byte_array_append(out, &b, 1);
  }
}

typedef struct {
  const guint8 *p, *end;
  gboolean ok;
} Reader;

static guint64
get_uvarint(Reader *r)
{
  guint64 v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->p >= r->end) {
      r->ok = FALSE;
      return 0;
    }
    guint8 b = *r->p++;
    v |= (guint64)(b & 0x7f) << shift;
    if ((b & 0x80) == 0)
      return v;
  }
  r->ok = FALSE;
  return 0;
}

static gint64
get_svarint(Reader *r)
{
  return unzigzag(get_uvarint(r));
}

static void
get_bitmap(Reader *r, guint8 *flags, guint n)
{
  for (guint i = 0; i < n; i += 8) {
    if (r->p >= r->end) {
      r->ok = FALSE;
      return;
    }
    guint8 b = *r->p++;
    for (guint j = 0; j < 8 && i + j < n; j++)
      flags[i + j] = (b >> j) & 1;
  }
}

/* ---- frames -------------------------------------------------------------- */

/* A detail without version 2 groups is written exactly as version 1 was. */
static guint
version_of(const AmSqliteDetail *d)
{
  return d->ext != 0 ? FORMAT_VERSION_2 : FORMAT_VERSION_1;
}

static void
pack_ext_header(const AmSqliteDetail *d, GByteArray *out)
{
  g_byte_array_append(out, &d->ext, 1);
  if (d->ext & AM_SQLITE_EXT_WORK_MODE) {
    gsize len = strlen(d->work_mode);
    put_uvarint(out, len);
    g_byte_array_append(out, (const guint8 *)d->work_mode, (guint)len);
  }
}

/* Reads the ext byte and the work mode of a version 2 key frame. */
static gboolean
unpack_ext_header(Reader *r, guint8 *ext, char **work_mode)
{
  if (r->p >= r->end)
    return FALSE;
  *ext = *r->p++;
  if (*ext == 0 || (*ext & ~ALL_EXT) != 0)
    return FALSE;
  if (!(*ext & AM_SQLITE_EXT_WORK_MODE))
    return TRUE;
  guint64 len = get_uvarint(r);
  if (!r->ok || len > AM_SQLITE_MAX_WORK_MODE * 4 || len > (guint64)(r->end - r->p))
    return FALSE;
  *work_mode = g_strndup((const char *)r->p, len);
  r->p += len;
  return g_utf8_validate(*work_mode, -1, NULL) && strlen(*work_mode) == len;
}

void
am_sqlite_detail_pack(const AmSqliteDetail *d, const AmSqliteDetail *base, gint64 dt_ms,
                      GByteArray *out)
{
  if (base != NULL) {
    g_return_if_fail(am_sqlite_detail_delta_ok(d, base));
    guint8 head = (guint8)(version_of(d) << 4 | FRAME_DELTA);
    g_byte_array_append(out, &head, 1);
    put_uvarint(out, (guint64)dt_ms);
    g_autofree guint8 *changed = g_new0(guint8, d->n_slots);
    for (guint i = 0; i < d->n_slots; i++)
      changed[i] = d->value[i] != base->value[i];
    put_bitmap(out, changed, d->n_slots);
    for (guint i = 0; i < d->n_slots; i++)
      if (changed[i]) /* wrapping difference: exact for any two values */
        put_svarint(out, (gint64)((guint64)d->value[i] - (guint64)base->value[i]));
    return;
  }
  guint8 head = (guint8)(version_of(d) << 4 | FRAME_KEY);
  g_byte_array_append(out, &head, 1);
  guint8 counts[] = {
      (guint8)(d->n_temps | (d->mirror & AM_SQLITE_MIRROR_TEMPS ? 0x80 : 0)),
      (guint8)(d->n_chip_temps | (d->mirror & AM_SQLITE_MIRROR_CHIP_TEMPS ? 0x80 : 0)), d->n_fans,
      d->n_chains, (guint8)d->hashrate_exp};
  g_byte_array_append(out, counts, sizeof counts);
  if (d->ext != 0)
    pack_ext_header(d, out);
  for (guint i = 0; i < d->n_chains; i++)
    put_svarint(out, d->chain_index[i]);
  put_bitmap(out, d->known, d->n_slots);
  for (guint i = 0; i < d->n_slots; i++)
    if (d->known[i])
      put_svarint(out, d->value[i]);
}

gboolean
am_sqlite_detail_is_delta(const guint8 *data, gsize len, gint64 *dt_ms)
{
  if (len < 2 || (data[0] & 0x0f) != FRAME_DELTA)
    return FALSE;
  Reader r = {data + 1, data + len, TRUE};
  guint64 dt = get_uvarint(&r);
  if (!r.ok)
    return FALSE;
  *dt_ms = (gint64)dt;
  return TRUE;
}

static AmSqliteDetail *
unpack_key(Reader *r, guint version)
{
  if (r->end - r->p < 5)
    return NULL;
  const guint8 *c = r->p;
  r->p += 5;
  guint nt = c[0] & 0x7f, nc = c[1] & 0x7f;
  if (nt > AM_SQLITE_MAX_READINGS || nc > AM_SQLITE_MAX_READINGS || c[2] > AM_SQLITE_MAX_READINGS ||
      c[3] > AM_SQLITE_MAX_CHAINS || c[4] > MAX_EXP)
    return NULL;
  guint8 ext = 0;
  g_autofree char *work_mode = NULL;
  if (version == FORMAT_VERSION_2 && !unpack_ext_header(r, &ext, &work_mode))
    return NULL;
  g_autoptr(AmSqliteDetail) d = detail_new(nt, nc, c[2], c[3], ext);
  d->work_mode = g_steal_pointer(&work_mode);
  d->hashrate_exp = (gint8)c[4];
  d->mirror =
      (c[0] & 0x80 ? AM_SQLITE_MIRROR_TEMPS : 0) | (c[1] & 0x80 ? AM_SQLITE_MIRROR_CHIP_TEMPS : 0);
  /* A mirrored list has no slots of its own. */
  if (((d->mirror & AM_SQLITE_MIRROR_TEMPS) && nt != 0) ||
      ((d->mirror & AM_SQLITE_MIRROR_CHIP_TEMPS) && nc != 0))
    return NULL;
  for (guint i = 0; i < d->n_chains; i++)
    d->chain_index[i] = (gint32)get_svarint(r);
  get_bitmap(r, d->known, d->n_slots);
  for (guint i = 0; i < d->n_slots && r->ok; i++)
    if (d->known[i])
      d->value[i] = get_svarint(r);
  return r->ok ? g_steal_pointer(&d) : NULL;
}

static AmSqliteDetail *
unpack_delta(Reader *r, const AmSqliteDetail *base, guint version)
{
  /* A delta has its base's layout, and says so with its version. */
  if (version != version_of(base))
    return NULL;
  get_uvarint(r); /* dt_ms: the caller found the base with it */
  g_autoptr(AmSqliteDetail) d = am_sqlite_detail_copy(base);
  g_autofree guint8 *changed = g_new0(guint8, d->n_slots);
  get_bitmap(r, changed, d->n_slots);
  for (guint i = 0; i < d->n_slots && r->ok; i++)
    if (changed[i])
      d->value[i] = (gint64)((guint64)base->value[i] + (guint64)get_svarint(r));
  return r->ok ? g_steal_pointer(&d) : NULL;
}

AmSqliteDetail *
am_sqlite_detail_unpack(const guint8 *data, gsize len, const AmSqliteDetail *base, GError **error)
{
  AmSqliteDetail *d = NULL;
  const char *why = "malformed";
  guint version = len >= 1 ? data[0] >> 4 : 0;
  if (len >= 1 && version != FORMAT_VERSION_1 && version != FORMAT_VERSION_2) {
    why = "of an unknown format version";
  } else if (len >= 1) {
    Reader r = {data + 1, data + len, TRUE};
    int kind = data[0] & 0x0f;
    if (kind == FRAME_KEY)
      d = unpack_key(&r, version);
    else if (kind == FRAME_DELTA && base == NULL)
      why = "a delta frame whose base sample is missing";
    else if (kind == FRAME_DELTA)
      d = unpack_delta(&r, base, version);
    if (d != NULL && r.p != r.end) {
      am_sqlite_detail_free(g_steal_pointer(&d));
      why = "longer than its content";
    }
  }
  if (d == NULL)
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED,
                "a sample's packed detail (%" G_GSIZE_FORMAT " bytes) is %s", len, why);
  return d;
}

/* ---- back to a sample ---------------------------------------------------- */

static double
get_scaled(const AmSqliteDetail *d, guint slot, double scale)
{
  return d->known[slot] ? (double)d->value[slot] / scale : NAN;
}

static gint64
get_count(const AmSqliteDetail *d, guint slot)
{
  return d->known[slot] ? d->value[slot] : AM_UNKNOWN;
}

static void
get_list(const AmSqliteDetail *d, guint first, guint n, double scale, GArray *out)
{
  for (guint i = 0; i < n; i++) {
    double v = get_scaled(d, first + i, scale);
    g_array_append_val(out, v);
  }
}

static void
ext_chains_to_sample(const AmSqliteDetail *d, AmSample *s)
{
  guint first = s->chains->len - d->n_chains;
  for (guint i = 0; i < d->n_chains; i++) {
    AmChain *c = &g_array_index(s->chains, AmChain, first + i);
    guint f = first_chain_ext_slot(d, i);
    c->voltage_v = get_scaled(d, f + CX_VOLTAGE, 1000.0);
    c->frequency_mhz = get_scaled(d, f + CX_FREQUENCY, 100.0);
    c->temp_inlet_c = get_scaled(d, f + CX_TEMP_INLET, 10.0);
    c->temp_outlet_c = get_scaled(d, f + CX_TEMP_OUTLET, 10.0);
  }
}

/* Counts only: an error per count, with its severity and nothing else. */
static void
errors_to_sample(const AmSqliteDetail *d, AmSample *s)
{
  for (guint sev = 0; sev < 4; sev++) {
    gint64 n = get_count(d, ext_slot(AM_SQLITE_EXT_ERRORS_UNKNOWN + sev));
    for (gint64 i = 0; i < MIN(n, 10000); i++)
      am_sample_add_error(s, NULL, NULL, NULL, (AmErrorSeverity)sev);
  }
}

static void
ext_scalars_to_sample(const AmSqliteDetail *d, AmSample *s)
{
  gint64 mining = get_count(d, ext_slot(AM_SQLITE_EXT_MINING));
  s->mining = mining >= AM_MINING_HASHING && mining <= AM_MINING_STARTING ? (AmMiningState)mining
                                                                          : AM_MINING_UNKNOWN;
  s->power_limit_w = get_scaled(d, ext_slot(AM_SQLITE_EXT_POWER_LIMIT), 10.0);
  s->water_temp_in_c = get_scaled(d, ext_slot(AM_SQLITE_EXT_WATER_IN), 10.0);
  s->water_temp_out_c = get_scaled(d, ext_slot(AM_SQLITE_EXT_WATER_OUT), 10.0);
  s->psu_power_in_w = get_scaled(d, ext_slot(AM_SQLITE_EXT_PSU_IN), 10.0);
  s->psu_power_out_w = get_scaled(d, ext_slot(AM_SQLITE_EXT_PSU_OUT), 10.0);
  s->psu_fan_rpm = get_scaled(d, ext_slot(AM_SQLITE_EXT_PSU_FAN), 1.0);
  s->best_share = get_scaled(d, ext_slot(AM_SQLITE_EXT_BEST_SHARE), 1.0);
  s->found_blocks = get_count(d, ext_slot(AM_SQLITE_EXT_FOUND_BLOCKS));
  s->partial = get_count(d, ext_slot(AM_SQLITE_EXT_PARTIAL)) > 0;
  errors_to_sample(d, s);
}

void
am_sqlite_detail_to_sample(const AmSqliteDetail *d, AmSample *s)
{
  double hs = 1e12 / pow10i(d->hashrate_exp);
  s->status = (AmSampleStatus)d->value[AM_SQLITE_SLOT_STATUS];
  s->power_source = (AmPowerSource)d->value[AM_SQLITE_SLOT_POWER_SOURCE];
  s->hashrate_avg_ths = get_scaled(d, AM_SQLITE_SLOT_HASHRATE_AVG, hs);
  s->hashrate_ideal_ths = get_scaled(d, AM_SQLITE_SLOT_HASHRATE_IDEAL, hs);
  s->efficiency_jth = get_scaled(d, AM_SQLITE_SLOT_EFFICIENCY, 100.0);
  s->accepted = get_count(d, AM_SQLITE_SLOT_ACCEPTED);
  s->rejected = get_count(d, AM_SQLITE_SLOT_REJECTED);
  s->hw_errors = get_count(d, AM_SQLITE_SLOT_HW_ERRORS);
  get_list(d, first_temp(d), d->n_temps, 10.0, s->temps_c);
  get_list(d, first_chip_temp(d), d->n_chip_temps, 10.0, s->chip_temps_c);
  get_list(d, first_fan(d), d->n_fans, 1.0, s->fans_rpm);
  for (guint i = 0; i < d->n_chains; i++) {
    guint f = first_chain_slot(d, i);
    if (d->mirror & AM_SQLITE_MIRROR_TEMPS)
      get_list(d, f + C_TEMP_BOARD, 1, 10.0, s->temps_c);
    if (d->mirror & AM_SQLITE_MIRROR_CHIP_TEMPS)
      get_list(d, f + C_TEMP_CHIP, 1, 10.0, s->chip_temps_c);
  }
  for (guint i = 0; i < d->n_chains; i++) {
    AmChain *c = am_sample_add_chain(s, d->chain_index[i]);
    guint f = first_chain_slot(d, i);
    c->hashrate_ths = get_scaled(d, f + C_HASHRATE, hs);
    c->chips = (gint)get_count(d, f + C_CHIPS);
    c->chips_expected = (gint)get_count(d, f + C_CHIPS_EXPECTED);
    c->chips_ok = (gint)get_count(d, f + C_CHIPS_OK);
    c->chips_failed = (gint)get_count(d, f + C_CHIPS_FAILED);
    c->hw_errors = get_count(d, f + C_HW_ERRORS);
    c->temp_board_c = get_scaled(d, f + C_TEMP_BOARD, 10.0);
    c->temp_chip_c = get_scaled(d, f + C_TEMP_CHIP, 10.0);
    c->power_w = get_scaled(d, f + C_POWER, 10.0);
  }
  if (d->ext & AM_SQLITE_EXT_CHAINS)
    ext_chains_to_sample(d, s);
  if (d->ext & AM_SQLITE_EXT_SCALARS)
    ext_scalars_to_sample(d, s);
  am_sample_set(s, &s->work_mode, d->work_mode);
}
