/* The packed detail of raw samples (am-sqlite-pack.c), table-driven: round
 * trips of key and delta frames for miners of several sizes and
 * algorithms, unknown values staying unknown, and malformed blobs. The
 * version 2 fields (plugin ABI 1.2) are in test-sqlite-pack-v2.c. */
#include "am-sqlite-pack.h"
#include <math.h>
#include <string.h>

typedef struct {
  const char *name;
  double ths, avg_ths, ideal_ths, power_w, efficiency;
  gint64 accepted, rejected, hw_errors;
  guint n_temps, n_fans, n_chains;
  double chain_ths; /* per chain; NAN unknown */
  gint chips;       /* per chain; AM_UNKNOWN unknown */
  double temp_c;    /* board temperature; NAN unknown */
  gboolean mirror;  /* the lists are the chains' temperatures */
} Case;

static const Case cases[] = {
    {"s19-3-chains", 100.25, 99.5, 110, 3250, 32.42, 123456, 7, 89, 3, 4, 3, 33.417, 76, 61.3},
    {"s9-slots-6-8", 13.5, 13.49, 13.5, 1323, 98.0, 5000000000LL, 0, 12, 3, 2, 3, 4.5, 63, 55.5},
    /* An L3+ at 504 MH/s and an equihash miner at 420 kSol/s: small
     * hashrates keep their digits. */
    {"scrypt-l3", 0.000504, 0.000503, 0.000504, 800, 1.587e6, 10, 0, 0, 4, 2, 4, 0.000126, 72,
     48.0},
    {"equihash-z15", 4.2e-7, 4.19e-7, 4.2e-7, 1510, NAN, 3, 1, 0, 3, 2, 3, 1.4e-7, 3, 70.2},
    /* Nothing known at all, and chains whose readings are unknown. */
    {"all-unknown", NAN, NAN, NAN, NAN, NAN, AM_UNKNOWN, AM_UNKNOWN, AM_UNKNOWN, 0, 0, 0, NAN,
     AM_UNKNOWN, NAN},
    {"chains-unknown", 50, NAN, 100, NAN, NAN, 0, AM_UNKNOWN, 0, 0, 0, 2, NAN, AM_UNKNOWN, NAN},
    /* A hydro miner with many boards and no fans. */
    {"hydro-4-boards", 250, 248, 260, 5360, 21.4, 1, 0, 0, 4, 0, 4, 62.5, 126, 45.5},
    /* Lists that repeat the chains' temperatures are stored once. */
    {"mirrored-lists", 100.25, 99.5, 110, 3250, 32.42, 123456, 7, 89, 3, 4, 3, 33.417, 76, 61.3,
     TRUE},
};

static AmSample *
make_sample(const Case *c, guint poll)
{
  AmSample *s = am_sample_new();
  s->status = poll % 2 == 0 ? AM_SAMPLE_STATUS_OK : AM_SAMPLE_STATUS_DEGRADED;
  s->power_source = AM_POWER_SOURCE_ESTIMATED;
  /* A little change per poll, as a running miner's readings change. */
  s->hashrate_ths = c->ths * (1 + 0.001 * poll);
  s->hashrate_avg_ths = c->avg_ths;
  s->hashrate_ideal_ths = c->ideal_ths;
  s->power_w = c->power_w + poll;
  s->efficiency_jth = c->efficiency;
  s->accepted = c->accepted > AM_UNKNOWN ? c->accepted + 3 * poll : c->accepted;
  s->rejected = c->rejected;
  s->hw_errors = c->hw_errors;
  for (guint i = 0; i < c->n_temps; i++) {
    double t = 60.1 + i + 0.5 * (poll % 3);
    g_array_append_val(s->temps_c, t);
    double chip = 75.4 + i;
    g_array_append_val(s->chip_temps_c, chip);
  }
  for (guint i = 0; i < c->n_fans; i++) {
    double f = 5400 + 60 * i + 30 * poll;
    g_array_append_val(s->fans_rpm, f);
  }
  for (guint i = 0; i < c->n_chains; i++) {
    AmChain *ch = am_sample_add_chain(s, (gint)(6 + i));
    ch->hashrate_ths = c->chain_ths * (1 + 0.002 * poll * (i + 1));
    ch->chips = ch->chips_expected = c->chips;
    ch->chips_ok = c->chips > 0 ? c->chips - 1 : c->chips;
    ch->chips_failed = c->chips > 0 ? 1 : AM_UNKNOWN;
    ch->hw_errors = c->chips > 0 ? 100 + (gint64)poll : AM_UNKNOWN;
    ch->temp_board_c = c->temp_c + i;
    ch->temp_chip_c = isnan(c->temp_c) ? NAN : c->temp_c + 15 + i;
    ch->power_w = isnan(c->power_w) ? NAN : c->power_w / c->n_chains;
    if (c->mirror) {
      g_array_index(s->temps_c, double, i) = ch->temp_board_c;
      g_array_index(s->chip_temps_c, double, i) = ch->temp_chip_c;
    }
  }
  return s;
}

/* Equal within the encoding: hashrates to 1e-5 of the sample's largest,
 * temperatures to 0.05 degC, fans to 0.5 RPM, power to 0.05 W. */
static void
assert_close(double got, double want, double tolerance)
{
  if (isnan(want)) {
    g_assert_true(isnan(got));
    return;
  }
  g_assert_false(isnan(got));
  g_assert_cmpfloat_with_epsilon(got, want, tolerance);
}

static void
assert_same_detail(const AmSample *got, const AmSample *want)
{
  double hr = fabs(want->hashrate_ideal_ths);
  for (guint i = 0; i < want->chains->len; i++)
    hr = MAX(hr, fabs(g_array_index(want->chains, AmChain, i).hashrate_ths));
  double hr_tol = isnan(hr) ? 1e-15 : MAX(hr * 1e-5, 1e-15);
  g_assert_cmpint(got->status, ==, want->status);
  g_assert_cmpint(got->power_source, ==, want->power_source);
  assert_close(got->hashrate_avg_ths, want->hashrate_avg_ths, hr_tol);
  assert_close(got->hashrate_ideal_ths, want->hashrate_ideal_ths, hr_tol);
  assert_close(got->efficiency_jth, want->efficiency_jth, 0.005);
  g_assert_cmpint(got->accepted, ==, want->accepted);
  g_assert_cmpint(got->rejected, ==, want->rejected);
  g_assert_cmpint(got->hw_errors, ==, want->hw_errors);
  GArray *lists[][2] = {{got->temps_c, want->temps_c},
                        {got->chip_temps_c, want->chip_temps_c},
                        {got->fans_rpm, want->fans_rpm}};
  double list_tol[] = {0.05, 0.05, 0.5};
  for (gsize l = 0; l < G_N_ELEMENTS(lists); l++) {
    g_assert_cmpuint(lists[l][0]->len, ==, lists[l][1]->len);
    for (guint i = 0; i < lists[l][1]->len; i++)
      assert_close(g_array_index(lists[l][0], double, i), g_array_index(lists[l][1], double, i),
                   list_tol[l]);
  }
  g_assert_cmpuint(got->chains->len, ==, want->chains->len);
  for (guint i = 0; i < want->chains->len; i++) {
    const AmChain *a = &g_array_index(got->chains, AmChain, i);
    const AmChain *b = &g_array_index(want->chains, AmChain, i);
    g_assert_cmpint(a->index, ==, b->index);
    assert_close(a->hashrate_ths, b->hashrate_ths, hr_tol);
    g_assert_cmpint(a->chips, ==, b->chips);
    g_assert_cmpint(a->chips_expected, ==, b->chips_expected);
    g_assert_cmpint(a->chips_ok, ==, b->chips_ok);
    g_assert_cmpint(a->chips_failed, ==, b->chips_failed);
    g_assert_cmpint(a->hw_errors, ==, b->hw_errors);
    assert_close(a->temp_board_c, b->temp_board_c, 0.05);
    assert_close(a->temp_chip_c, b->temp_chip_c, 0.05);
    assert_close(a->power_w, b->power_w, 0.05);
  }
}

static AmSqliteDetail *
unpack_ok(GByteArray *blob, const AmSqliteDetail *base)
{
  g_autoptr(GError) error = NULL;
  AmSqliteDetail *d = am_sqlite_detail_unpack(blob->data, blob->len, base, &error);
  g_assert_no_error(error);
  g_assert_nonnull(d);
  return d;
}

/* Ten polls of one miner: the first a key frame, the rest deltas of the
 * one before; each decodes to what was written. */
static void
test_round_trip(gconstpointer data)
{
  const Case *c = data;
  g_autoptr(AmSqliteDetail) prev = NULL;
  gsize key_bytes = 0, delta_bytes = 0;
  for (guint poll = 0; poll < 10; poll++) {
    g_autoptr(AmSample) s = make_sample(c, poll);
    g_autoptr(AmSqliteDetail) d =
        am_sqlite_detail_from_sample(s, prev != NULL ? prev->hashrate_exp : -1);
    gboolean delta = am_sqlite_detail_delta_ok(d, prev);
    g_assert_true(delta == (poll > 0));
    g_autoptr(GByteArray) blob = g_byte_array_new();
    am_sqlite_detail_pack(d, delta ? prev : NULL, 30000, blob);
    gint64 dt = 0;
    g_assert_true(am_sqlite_detail_is_delta(blob->data, blob->len, &dt) == delta);
    if (delta)
      g_assert_cmpint(dt, ==, 30000);
    *(delta ? &delta_bytes : &key_bytes) += blob->len;
    g_autoptr(AmSqliteDetail) back = unpack_ok(blob, delta ? prev : NULL);
    g_autoptr(AmSample) out = am_sample_new();
    am_sqlite_detail_to_sample(back, out);
    assert_same_detail(out, s);
    g_clear_pointer(&prev, am_sqlite_detail_free);
    prev = g_steal_pointer(&back);
  }
  g_test_message("%s: key frame %" G_GSIZE_FORMAT " bytes, delta frames %.1f bytes", c->name,
                 key_bytes, delta_bytes / 9.0);
  if (c->mirror) /* 6 readings fewer than the same miner unmirrored */
    g_assert_cmpuint(key_bytes, <=, 108 - 12);
  /* A delta of a miner whose readings change is smaller than a key frame. */
  if (c->n_chains > 0)
    g_assert_cmpuint(delta_bytes / 9, <, key_bytes);
}

/* A change of layout (a chain lost, a reading gone unknown) is a key frame. */
static void
test_layout_change(void)
{
  g_autoptr(AmSample) a = make_sample(&cases[0], 0);
  g_autoptr(AmSample) b = make_sample(&cases[0], 1);
  g_autoptr(AmSqliteDetail) da = am_sqlite_detail_from_sample(a, -1);
  g_array_set_size(b->chains, 2);
  g_autoptr(AmSqliteDetail) db = am_sqlite_detail_from_sample(b, da->hashrate_exp);
  g_assert_false(am_sqlite_detail_delta_ok(db, da));
  g_autoptr(AmSample) c = make_sample(&cases[0], 1);
  c->hashrate_avg_ths = NAN;
  g_autoptr(AmSqliteDetail) dc = am_sqlite_detail_from_sample(c, da->hashrate_exp);
  g_assert_false(am_sqlite_detail_delta_ok(dc, da));
  g_autoptr(AmSample) d = make_sample(&cases[0], 1);
  g_array_index(d->chains, AmChain, 2).index = 9;
  g_autoptr(AmSqliteDetail) dd = am_sqlite_detail_from_sample(d, da->hashrate_exp);
  g_assert_false(am_sqlite_detail_delta_ok(dd, da));
  g_assert_false(am_sqlite_detail_delta_ok(dd, NULL));
}

/* The hashrate unit stays the one before while it gives 5 to 7 digits, so
 * a miner near a power of ten does not flip units (and frames). */
static void
test_unit_kept(void)
{
  g_autoptr(AmSample) a = make_sample(&cases[0], 0);
  a->hashrate_ideal_ths = 99.99;
  a->hashrate_avg_ths = 99.9;
  g_autoptr(AmSqliteDetail) da = am_sqlite_detail_from_sample(a, -1);
  g_assert_cmpint(da->hashrate_exp, ==, 8); /* 999900 x 0.1 GH/s */
  a->hashrate_ideal_ths = 100.01;
  g_autoptr(AmSqliteDetail) fresh = am_sqlite_detail_from_sample(a, -1);
  g_assert_cmpint(fresh->hashrate_exp, ==, 9); /* 100010 GH/s */
  g_autoptr(AmSqliteDetail) kept = am_sqlite_detail_from_sample(a, 8);
  g_assert_cmpint(kept->hashrate_exp, ==, 8); /* 1000100: 7 digits */
  a->hashrate_ideal_ths = 1000.1;
  g_autoptr(AmSqliteDetail) big = am_sqlite_detail_from_sample(a, 9);
  g_assert_cmpint(big->hashrate_exp, ==, 9);
  g_autoptr(AmSqliteDetail) small = am_sqlite_detail_from_sample(a, 8); /* 8 digits: no */
  g_assert_cmpint(small->hashrate_exp, ==, 10);
  g_autoptr(AmSqliteDetail) big_fresh = am_sqlite_detail_from_sample(a, -1);
  g_assert_cmpint(big_fresh->hashrate_exp, ==, 10);
}

static void
expect_unpack_error(const guint8 *data, gsize len, const AmSqliteDetail *base, const char *what)
{
  g_autoptr(GError) error = NULL;
  g_assert_null(am_sqlite_detail_unpack(data, len, base, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_FAILED);
  if (strstr(error->message, what) == NULL)
    g_error("expected \"%s\" in: %s", what, error->message);
}

/* Every truncation of a key and a delta frame is an error, never a crash
 * or a wrong value; so are trailing bytes, an unknown version and a delta
 * without its base. */
static void
test_malformed(void)
{
  g_autoptr(AmSample) a = make_sample(&cases[0], 0);
  g_autoptr(AmSample) b = make_sample(&cases[0], 1);
  g_autoptr(AmSqliteDetail) da = am_sqlite_detail_from_sample(a, -1);
  g_autoptr(AmSqliteDetail) db = am_sqlite_detail_from_sample(b, da->hashrate_exp);
  g_autoptr(GByteArray) key = g_byte_array_new();
  g_autoptr(GByteArray) delta = g_byte_array_new();
  am_sqlite_detail_pack(da, NULL, 0, key);
  am_sqlite_detail_pack(db, da, 30000, delta);
  for (guint len = 0; len < key->len; len++)
    expect_unpack_error(key->data, len, NULL, "bytes) is");
  for (guint len = 0; len < delta->len; len++)
    expect_unpack_error(delta->data, len, da, "bytes) is");
  g_byte_array_append(key, (const guint8 *)"\0", 1);
  expect_unpack_error(key->data, key->len, NULL, "longer than its content");
  expect_unpack_error(delta->data, delta->len, NULL, "base sample is missing");
  guint8 future[] = {0x30, 0, 0, 0, 0, 0};
  expect_unpack_error(future, sizeof future, NULL, "unknown format version");
  guint8 too_many[] = {0x10, 200, 0, 0, 0, 9};
  expect_unpack_error(too_many, sizeof too_many, NULL, "malformed");
}

/* The SQL columns: whole GH/s from 1 TH/s up, whole W from 100 W up,
 * tenths of a degree, whole RPM; unknown is unknown. */
static void
test_columns(void)
{
  const struct {
    double ths, ghs;
  } hashrates[] = {
      {100.2504, 100250}, {13.5, 13500}, {1.0004, 1000}, {0.504, 504}, {4.2e-7, 4.2e-4}};
  for (gsize i = 0; i < G_N_ELEMENTS(hashrates); i++) {
    double v = 0;
    g_assert_true(am_sqlite_column_hashrate_ghs(hashrates[i].ths, &v));
    g_assert_cmpfloat_with_epsilon(v, hashrates[i].ghs, 1e-12);
  }
  double v = 0;
  gint64 n = 0;
  g_assert_false(am_sqlite_column_hashrate_ghs(NAN, &v));
  g_assert_true(am_sqlite_column_power_w(3250.4, &v));
  g_assert_cmpfloat(v, ==, 3250);
  g_assert_true(am_sqlite_column_power_w(15.25, &v));
  g_assert_cmpfloat(v, ==, 15.25);
  g_assert_false(am_sqlite_column_power_w(INFINITY, &v));
  g_assert_true(am_sqlite_column_deci(77.04, &n));
  g_assert_cmpint(n, ==, 770);
  g_assert_true(am_sqlite_column_deci(-0.06, &n));
  g_assert_cmpint(n, ==, -1);
  g_assert_false(am_sqlite_column_deci(NAN, &n));
  g_assert_true(am_sqlite_column_whole(5460.5, &n));
  g_assert_cmpint(n, ==, 5461);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = g_strdup_printf("/store/sqlite/pack/round-trip/%s", cases[i].name);
    g_test_add_data_func(path, &cases[i], test_round_trip);
  }
  g_test_add_func("/store/sqlite/pack/layout-change", test_layout_change);
  g_test_add_func("/store/sqlite/pack/unit-kept", test_unit_kept);
  g_test_add_func("/store/sqlite/pack/malformed", test_malformed);
  g_test_add_func("/store/sqlite/pack/columns", test_columns);
  return g_test_run();
}
