/* Format version 2 of the packed detail (plugin ABI 1.2 fields), table
 * driven: each new field round-trips through key and delta frames, unknown
 * stays unknown, a sample without any new field is still written as the
 * version 1 frame it always was, and version 1 blobs written before
 * version 2 existed (test vectors below) decode to the values they were
 * made from. */
#include "am-sqlite-pack.h"
#include <math.h>
#include <string.h>

/* ---- version 1 test vectors --------------------------------------------- */

/* Written by the store as of commit baa32d5 (format version 1 only) for
 * the sample v1_sample(0) and, as a delta of it 30 s later, v1_sample(1):
 * two chains (indexes 1 and 2) whose board temperatures are the temps list
 * (mirrored), one chip temperature, two fans, hashrates in GH/s. */
static const guint8 v1_key[] = {
    0x10, 0x80, 0x01, 0x02, 0x02, 0x09, 0x02, 0x04, 0x7f, 0x3f, 0x77, 0x0e, 0x00, 0x02,
    0xe8, 0xe0, 0x0c, 0xe0, 0xb6, 0x0d, 0xea, 0x30, 0xd0, 0x0f, 0x04, 0xc6, 0x0c, 0xb0,
    0x54, 0xa0, 0x56, 0xb4, 0xb0, 0x06, 0x98, 0x01, 0x98, 0x01, 0x14, 0xce, 0x09, 0xdc,
    0x0b, 0x84, 0xc0, 0x06, 0x98, 0x01, 0x98, 0x01, 0x16, 0xe2, 0x09, 0xf0, 0x0b,
};
static const guint8 v1_delta[] = {
    0x11, 0xb0, 0xea, 0x01, 0x20, 0x0a, 0x14, 0x08, 0x06, 0x78, 0xe8, 0x07, 0x04, 0xe8, 0x07, 0x04,
};

/* The samples the vectors were made from (the generator's inputs). */
static AmSample *
v1_sample(int poll)
{
  AmSample *s = am_sample_new();
  s->status = AM_SAMPLE_STATUS_OK;
  s->power_source = AM_POWER_SOURCE_REPORTED;
  s->hashrate_avg_ths = 104.5;
  s->hashrate_ideal_ths = 110;
  s->efficiency_jth = 31.25;
  s->accepted = 1000 + poll * 3;
  s->rejected = 2;
  s->hw_errors = AM_UNKNOWN;
  double fans[] = {5400 + poll * 60, 5520};
  g_array_append_vals(s->fans_rpm, fans, 2);
  for (int i = 0; i < 2; i++) {
    AmChain *c = am_sample_add_chain(s, i + 1);
    c->hashrate_ths = 52.25 + i + poll * 0.5;
    c->chips = c->chips_expected = 76;
    c->hw_errors = 10 + i;
    c->temp_board_c = 61.5 + i;
    c->temp_chip_c = 75.0 + i + poll * 0.2;
    g_array_append_val(s->temps_c, c->temp_board_c);
  }
  double chip = 80.3;
  g_array_append_val(s->chip_temps_c, chip);
  return s;
}

static AmSqliteDetail *
unpack_ok(const guint8 *data, gsize len, const AmSqliteDetail *base)
{
  g_autoptr(GError) error = NULL;
  AmSqliteDetail *d = am_sqlite_detail_unpack(data, len, base, &error);
  g_assert_no_error(error);
  g_assert_nonnull(d);
  return d;
}

/* What the vectors hold, read from the generator's inputs above: poll 0,
 * then poll 1 (accepted +3, fan 1 +60, chain hashrates +0.5, chip
 * temperatures +0.2). */
static void
assert_v1_poll(const AmSample *s, int poll)
{
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpfloat(s->hashrate_avg_ths, ==, 104.5);
  g_assert_cmpfloat(s->hashrate_ideal_ths, ==, 110);
  g_assert_cmpfloat(s->efficiency_jth, ==, 31.25);
  g_assert_cmpint(s->accepted, ==, poll == 0 ? 1000 : 1003);
  g_assert_cmpint(s->rejected, ==, 2);
  g_assert_cmpint(s->hw_errors, ==, AM_UNKNOWN);
  g_assert_cmpuint(s->fans_rpm->len, ==, 2);
  g_assert_cmpfloat(g_array_index(s->fans_rpm, double, 0), ==, poll == 0 ? 5400 : 5460);
  g_assert_cmpfloat(g_array_index(s->fans_rpm, double, 1), ==, 5520);
  g_assert_cmpuint(s->temps_c->len, ==, 2);
  g_assert_cmpfloat(g_array_index(s->temps_c, double, 0), ==, 61.5);
  g_assert_cmpfloat(g_array_index(s->temps_c, double, 1), ==, 62.5);
  g_assert_cmpuint(s->chip_temps_c->len, ==, 1);
  g_assert_cmpfloat(g_array_index(s->chip_temps_c, double, 0), ==, 80.3);
  g_assert_cmpuint(s->chains->len, ==, 2);
  const AmChain *c = &g_array_index(s->chains, AmChain, 1);
  g_assert_cmpint(c->index, ==, 2);
  g_assert_cmpfloat(c->hashrate_ths, ==, poll == 0 ? 53.25 : 53.75);
  g_assert_cmpint(c->chips, ==, 76);
  g_assert_cmpint(c->chips_expected, ==, 76);
  g_assert_cmpint(c->chips_ok, ==, AM_UNKNOWN);
  g_assert_cmpint(c->chips_failed, ==, AM_UNKNOWN);
  g_assert_cmpint(c->hw_errors, ==, 11);
  g_assert_cmpfloat(c->temp_board_c, ==, 62.5);
  g_assert_cmpfloat_with_epsilon(c->temp_chip_c, poll == 0 ? 76.0 : 76.2, 1e-9);
  g_assert_true(isnan(c->power_w));
  /* Version 1 knows none of the ABI 1.2 fields: all unknown. */
  g_assert_cmpint(s->mining, ==, AM_MINING_UNKNOWN);
  g_assert_true(isnan(s->power_limit_w) && isnan(s->water_temp_in_c) && isnan(s->psu_power_in_w));
  g_assert_true(isnan(s->best_share));
  g_assert_cmpint(s->found_blocks, ==, AM_UNKNOWN);
  g_assert_false(s->partial);
  g_assert_null(s->work_mode);
  g_assert_cmpuint(s->errors->len, ==, 0);
  g_assert_true(isnan(c->voltage_v) && isnan(c->frequency_mhz) && isnan(c->temp_inlet_c));
}

static void
test_v1_vectors(void)
{
  g_autoptr(AmSqliteDetail) key = unpack_ok(v1_key, sizeof v1_key, NULL);
  g_assert_cmpint(key->ext, ==, 0);
  g_assert_cmpint(key->hashrate_exp, ==, 9);
  g_autoptr(AmSample) s0 = am_sample_new();
  am_sqlite_detail_to_sample(key, s0);
  assert_v1_poll(s0, 0);
  gint64 dt = 0;
  g_assert_true(am_sqlite_detail_is_delta(v1_delta, sizeof v1_delta, &dt));
  g_assert_cmpint(dt, ==, 30000);
  g_autoptr(AmSqliteDetail) delta = unpack_ok(v1_delta, sizeof v1_delta, key);
  g_autoptr(AmSample) s1 = am_sample_new();
  am_sqlite_detail_to_sample(delta, s1);
  assert_v1_poll(s1, 1);
}

/* A sample with none of the new fields costs what it did: the same bytes. */
static void
test_v1_written_unchanged(void)
{
  g_autoptr(AmSample) a = v1_sample(0);
  g_autoptr(AmSample) b = v1_sample(1);
  g_autoptr(AmSqliteDetail) da = am_sqlite_detail_from_sample(a, -1);
  g_autoptr(AmSqliteDetail) db = am_sqlite_detail_from_sample(b, da->hashrate_exp);
  g_autoptr(GByteArray) key = g_byte_array_new();
  g_autoptr(GByteArray) delta = g_byte_array_new();
  am_sqlite_detail_pack(da, NULL, 0, key);
  g_assert_true(am_sqlite_detail_delta_ok(db, da));
  am_sqlite_detail_pack(db, da, 30000, delta);
  g_assert_cmpmem(key->data, key->len, v1_key, sizeof v1_key);
  g_assert_cmpmem(delta->data, delta->len, v1_delta, sizeof v1_delta);
}

/* ---- version 2 round trips --------------------------------------------- */

typedef struct {
  const char *name;
  AmMiningState mining;
  double power_limit_w, water_in_c, water_out_c, psu_in_w, psu_out_w, psu_fan_rpm, best_share;
  gint64 found_blocks;
  gboolean partial;
  const char *work_mode;
  guint n_errors[4]; /* by severity: unknown, info, warning, error */
  guint n_chains;
  double voltage_v, frequency_mhz, inlet_c, outlet_c; /* chain i: + i / 100 */
  guint max_key_bytes;                                /* as measured: a frame grown bigger fails */
} Case;

// clang-format off
static const Case v2_cases[] = {
    /* name, mining, power limit, water in/out, PSU in/out/fan, best share,
     * found blocks, partial, work mode, errors by severity, chains,
     * voltage, frequency, inlet, outlet; largest key frame (bytes) */
    {"whatsminer-all", AM_MINING_HASHING, 3600, NAN, NAN, 3712.5, 3544.1, 7200, 4.29e9, 0, FALSE,
     "normal", {0, 1, 2, 1}, 3, 13.42, 580.25, 55.2, 71.9, 91},
    {"hydro-psu", AM_MINING_SLEEPING, 5500, 38.4, 46.1, NAN, NAN, NAN, NAN, AM_UNKNOWN, FALSE,
     NULL, {0}, 4, NAN, NAN, 40.1, 52.7, 62},
    {"bitaxe-best-share", AM_MINING_UNKNOWN, NAN, NAN, NAN, NAN, NAN, NAN, 2.5e12, 2, FALSE,
     NULL, {0}, 1, 1.2, 525, NAN, NAN, 34},
    {"partial-only", AM_MINING_UNKNOWN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, AM_UNKNOWN, TRUE,
     NULL, {0}, 0, NAN, NAN, NAN, NAN, 16},
    {"work-mode-only", AM_MINING_UNKNOWN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, AM_UNKNOWN, FALSE,
     "Low Power \xc3\xa9" "co", {0}, 0, NAN, NAN, NAN, NAN, 28},
    {"errors-unknown-severity", AM_MINING_PAUSED, NAN, NAN, NAN, NAN, NAN, NAN, NAN, AM_UNKNOWN,
     FALSE, NULL, {3, 0, 0, 0}, 2, NAN, NAN, NAN, NAN, 30},
};
// clang-format on

static AmSample *
v2_sample(const Case *c, guint poll)
{
  AmSample *s = am_sample_new();
  s->hashrate_avg_ths = 100 + poll;
  s->mining = c->mining;
  s->power_limit_w = c->power_limit_w;
  s->water_temp_in_c = c->water_in_c + poll * 0.1;
  s->water_temp_out_c = c->water_out_c;
  s->psu_power_in_w = c->psu_in_w + poll;
  s->psu_power_out_w = c->psu_out_w;
  s->psu_fan_rpm = c->psu_fan_rpm;
  s->best_share = c->best_share;
  s->found_blocks = c->found_blocks;
  s->partial = c->partial;
  am_sample_set(s, &s->work_mode, c->work_mode);
  for (guint sev = 0; sev < 4; sev++)
    for (guint i = 0; i < c->n_errors[sev]; i++)
      am_sample_add_error(s, "110", "fan speed error", "fan", (AmErrorSeverity)sev);
  for (guint i = 0; i < c->n_chains; i++) {
    AmChain *ch = am_sample_add_chain(s, (gint)i);
    ch->hashrate_ths = 33.3;
    ch->voltage_v = c->voltage_v + i / 100.0;
    ch->frequency_mhz = c->frequency_mhz + i / 100.0;
    ch->temp_inlet_c = c->inlet_c + i / 10.0 + poll * 0.1;
    ch->temp_outlet_c = c->outlet_c + i / 10.0;
  }
  return s;
}

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
assert_v2_fields(const AmSample *got, const Case *c, guint poll)
{
  g_assert_cmpint(got->mining, ==, c->mining);
  assert_close(got->power_limit_w, c->power_limit_w, 0.05);
  assert_close(got->water_temp_in_c, c->water_in_c + poll * 0.1, 0.05);
  assert_close(got->water_temp_out_c, c->water_out_c, 0.05);
  assert_close(got->psu_power_in_w, c->psu_in_w + poll, 0.05);
  assert_close(got->psu_power_out_w, c->psu_out_w, 0.05);
  assert_close(got->psu_fan_rpm, c->psu_fan_rpm, 0.5);
  assert_close(got->best_share, c->best_share, 0.5);
  g_assert_cmpint(got->found_blocks, ==, c->found_blocks);
  g_assert_true(got->partial == c->partial);
  g_assert_cmpstr(got->work_mode, ==, c->work_mode);
  guint counted[4] = {0};
  for (guint i = 0; i < got->errors->len; i++)
    counted[((const AmMinerError *)got->errors->pdata[i])->severity]++;
  for (guint sev = 0; sev < 4; sev++)
    g_assert_cmpuint(counted[sev], ==, c->n_errors[sev]);
  g_assert_cmpuint(got->chains->len, ==, c->n_chains);
  for (guint i = 0; i < c->n_chains; i++) {
    const AmChain *ch = &g_array_index(got->chains, AmChain, i);
    assert_close(ch->voltage_v, c->voltage_v + i / 100.0, 0.0005);
    assert_close(ch->frequency_mhz, c->frequency_mhz + i / 100.0, 0.005);
    assert_close(ch->temp_inlet_c, c->inlet_c + i / 10.0 + poll * 0.1, 0.05);
    assert_close(ch->temp_outlet_c, c->outlet_c + i / 10.0, 0.05);
    assert_close(ch->hashrate_ths, 33.3, 1e-4);
  }
}

/* Five polls: a version 2 key frame, then version 2 deltas. */
static void
test_v2_round_trip(gconstpointer data)
{
  const Case *c = data;
  g_autoptr(AmSqliteDetail) prev = NULL;
  for (guint poll = 0; poll < 5; poll++) {
    g_autoptr(AmSample) s = v2_sample(c, poll);
    g_autoptr(AmSqliteDetail) d =
        am_sqlite_detail_from_sample(s, prev != NULL ? prev->hashrate_exp : -1);
    g_assert_cmpint(d->ext, !=, 0);
    gboolean delta = am_sqlite_detail_delta_ok(d, prev);
    g_assert_true(delta == (poll > 0));
    g_autoptr(GByteArray) blob = g_byte_array_new();
    am_sqlite_detail_pack(d, delta ? prev : NULL, 30000, blob);
    g_assert_cmpint(blob->data[0] >> 4, ==, 2);
    if (!delta) {
      g_test_message("%s: version 2 key frame %u bytes", c->name, blob->len);
      g_assert_cmpuint(blob->len, <=, c->max_key_bytes);
    }
    g_autoptr(AmSqliteDetail) back = unpack_ok(blob->data, blob->len, delta ? prev : NULL);
    g_autoptr(AmSample) out = am_sample_new();
    am_sqlite_detail_to_sample(back, out);
    assert_v2_fields(out, c, poll);
    g_clear_pointer(&prev, am_sqlite_detail_free);
    prev = g_steal_pointer(&back);
  }
}

/* A new work mode, or a new field appearing, is a key frame. */
static void
test_v2_layout_change(void)
{
  g_autoptr(AmSample) a = v2_sample(&v2_cases[0], 0);
  g_autoptr(AmSqliteDetail) da = am_sqlite_detail_from_sample(a, -1);
  g_autoptr(AmSample) b = v2_sample(&v2_cases[0], 1);
  am_sample_set(b, &b->work_mode, "high");
  g_autoptr(AmSqliteDetail) db = am_sqlite_detail_from_sample(b, da->hashrate_exp);
  g_assert_false(am_sqlite_detail_delta_ok(db, da));
  g_autoptr(AmSample) c = v1_sample(0);
  g_autoptr(AmSqliteDetail) dc = am_sqlite_detail_from_sample(c, -1);
  c->power_limit_w = 3000;
  g_autoptr(AmSqliteDetail) dc2 = am_sqlite_detail_from_sample(c, dc->hashrate_exp);
  g_assert_cmpint(dc->ext, ==, 0);
  g_assert_cmpint(dc2->ext, ==, AM_SQLITE_EXT_SCALARS);
  g_assert_false(am_sqlite_detail_delta_ok(dc2, dc));
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

/* Truncated version 2 frames, a bad ext byte or work mode, and a delta
 * whose version is not its base's are errors. */
static void
test_v2_malformed(void)
{
  g_autoptr(AmSample) a = v2_sample(&v2_cases[0], 0);
  g_autoptr(AmSample) b = v2_sample(&v2_cases[0], 1);
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
  /* The v2 delta on a version 1 base, and a v1 delta on a v2 base. */
  g_autoptr(AmSqliteDetail) v1 = unpack_ok(v1_key, sizeof v1_key, NULL);
  expect_unpack_error(delta->data, delta->len, v1, "malformed");
  expect_unpack_error(v1_delta, sizeof v1_delta, da, "malformed");
  /* ext 0 or unknown bits; a work mode longer than the frame or not UTF-8. */
  guint8 ext_zero[] = {0x20, 0, 0, 0, 0, 9, 0x00, 0, 0};
  expect_unpack_error(ext_zero, sizeof ext_zero, NULL, "malformed");
  guint8 ext_bits[] = {0x20, 0, 0, 0, 0, 9, 0x08, 0, 0};
  expect_unpack_error(ext_bits, sizeof ext_bits, NULL, "malformed");
  guint8 long_mode[] = {0x20, 0, 0, 0, 0, 9, 0x04, 0x05, 'l', 'o', 'w'};
  expect_unpack_error(long_mode, sizeof long_mode, NULL, "malformed");
  guint8 bad_utf8[] = {0x20, 0, 0, 0, 0, 9, 0x04, 0x02, 0xc3, 0x28, 0, 0};
  expect_unpack_error(bad_utf8, sizeof bad_utf8, NULL, "malformed");
  /* ... and a well-formed minimal one decodes: work mode "low", no slot known. */
  guint8 minimal[] = {0x20, 0, 0, 0, 0, 9, 0x04, 0x03, 'l', 'o', 'w', 0};
  g_autoptr(AmSqliteDetail) m = unpack_ok(minimal, sizeof minimal, NULL);
  g_assert_cmpstr(m->work_mode, ==, "low");
}

/* The miner-level chain means stored as series. */
static void
test_chain_means(void)
{
  g_autoptr(AmSample) s = am_sample_new();
  g_assert_true(isnan(am_sqlite_chain_mean_voltage(s)));
  am_sample_add_chain(s, 0)->voltage_v = 13.0;
  am_sample_add_chain(s, 1)->voltage_v = 14.0;
  AmChain *c = am_sample_add_chain(s, 2);
  c->frequency_mhz = 600;
  g_assert_cmpfloat(am_sqlite_chain_mean_voltage(s), ==, 13.5);
  g_assert_cmpfloat(am_sqlite_chain_mean_frequency(s), ==, 600);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/store/sqlite/pack-v2/v1-vectors", test_v1_vectors);
  g_test_add_func("/store/sqlite/pack-v2/v1-written-unchanged", test_v1_written_unchanged);
  for (gsize i = 0; i < G_N_ELEMENTS(v2_cases); i++) {
    g_autofree char *path =
        g_strdup_printf("/store/sqlite/pack-v2/round-trip/%s", v2_cases[i].name);
    g_test_add_data_func(path, &v2_cases[i], test_v2_round_trip);
  }
  g_test_add_func("/store/sqlite/pack-v2/layout-change", test_v2_layout_change);
  g_test_add_func("/store/sqlite/pack-v2/malformed", test_v2_malformed);
  g_test_add_func("/store/sqlite/pack-v2/chain-means", test_chain_means);
  return g_test_run();
}
