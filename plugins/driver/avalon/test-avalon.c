/* The avalon parser: the recorded summary in tests/fixtures/avalon/, and
 * the "MM ID" Key[value] strings of the stats reply.
 *
 * HAND-MADE: no raw Avalon stats reply is available (SOURCES.md: the Avalon
 * 15-194 replies exist only as Python literals, the 1047 string only in a
 * flattened file). The MM strings below are written by hand in that format,
 * reusing the field values quoted in SOURCES.md (Temp[28] TMax[75] TAvg[64]
 * Fan1[2984] PS[0 1212 1315 174 2288 1320] GHSavg[37235.34] and the glued
 * Elapsed[103840]BOOTBY[1]). */
#include "../common/am-driver-test-util.h"
#include "am-avalon-parse.h"
#include "am-test-util.h"

#include <math.h>
#include <string.h>

/* An older single-module string (Avalon 10xx style): one figure per module. */
static const char mm_1047_style[] =
    "Ver[1047-21042001_4ec6bb0_61407fa] DNA[0201000035c5d3e1] STATE[1] MEMFREE[1306128] "
    "NETFAIL[0 0 0 0 0 0 0 0] SYSTEMSTATU[Work: In Work, Hash Board: 3 ] "
    "Elapsed[103840]BOOTBY[1] LW[31342291] MH[0 0 0] HW[6] DH[2.114%] Temp[28] TMax[75] "
    "TAvg[64] Fan1[2984] Fan2[3018] FanR[43%] Vo[298] PS[0 1212 1315 174 2288 1320] "
    "GHSmm[38123.42] GHSavg[37235.34] WU[520196.40] Freq[557.93] Led[0] FACOPTS0[] "
    "ATAOPTS0[--avalon10-freq 500:525:550:575 --hash-asic 114] ECHU[0 0 0] ECMM[0]";

static JsonObject *
stats_reply(const char *mm)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "STATUS");
  json_builder_begin_array(b);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "STATUS");
  json_builder_add_string_value(b, "S");
  json_builder_set_member_name(b, "Description");
  json_builder_add_string_value(b, "cgminer 4.11.1");
  json_builder_end_object(b);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "STATS");
  json_builder_begin_array(b);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "STATS");
  json_builder_add_int_value(b, 0);
  json_builder_set_member_name(b, "ID");
  json_builder_add_string_value(b, "AVA100");
  json_builder_set_member_name(b, "Elapsed");
  json_builder_add_int_value(b, 103841);
  json_builder_set_member_name(b, "MM ID0");
  json_builder_add_string_value(b, mm);
  json_builder_set_member_name(b, "MM Count");
  json_builder_add_int_value(b, 1);
  json_builder_end_object(b);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "STATS");
  json_builder_add_int_value(b, 1);
  json_builder_set_member_name(b, "ID");
  json_builder_add_string_value(b, "POOL0");
  json_builder_end_object(b);
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_object_ref(json_node_get_object(root));
}

static AmSample *
parse_ok(const AmAvalonReplies *r)
{
  g_autoptr(GError) error = NULL;
  AmSample *s = am_avalon_parse(r, &error);
  g_assert_no_error(error);
  g_assert_nonnull(s);
  am_sample_finish(s);
  return s;
}

/* ---- the Key[value] reader --------------------------------------------- */

static void
test_mm_parse(void)
{
  g_autoptr(GHashTable) mm = am_avalon_mm_parse(mm_1047_style);
  g_assert_cmpstr(g_hash_table_lookup(mm, "Ver"), ==, "1047-21042001_4ec6bb0_61407fa");
  /* Blanks, commas and colons inside a value; outer blanks trimmed. */
  g_assert_cmpstr(g_hash_table_lookup(mm, "SYSTEMSTATU"), ==, "Work: In Work, Hash Board: 3");
  /* Keys glued to the previous "]". */
  g_assert_cmpstr(g_hash_table_lookup(mm, "Elapsed"), ==, "103840");
  g_assert_cmpstr(g_hash_table_lookup(mm, "BOOTBY"), ==, "1");
  g_assert_cmpstr(g_hash_table_lookup(mm, "FACOPTS0"), ==, "");
  g_assert_cmpstr(g_hash_table_lookup(mm, "ATAOPTS0"), ==,
                  "--avalon10-freq 500:525:550:575 --hash-asic 114");
  g_assert_cmpuint(am_avalon_mm_count(mm, "PS"), ==, 6);
  g_assert_cmpuint(am_avalon_mm_count(mm, "NETFAIL"), ==, 8);
  g_assert_cmpuint(am_avalon_mm_count(mm, "FACOPTS0"), ==, 0);
  g_assert_cmpuint(am_avalon_mm_count(mm, "Missing"), ==, 0);

  double v = -1;
  g_assert_true(am_avalon_mm_number(mm, "PS", 4, &v));
  g_assert_cmpfloat(v, ==, 2288);
  g_assert_true(am_avalon_mm_number(mm, "PS", 0, &v));
  g_assert_cmpfloat(v, ==, 0);
  g_assert_false(am_avalon_mm_number(mm, "PS", 6, &v));  /* past the end */
  g_assert_true(am_avalon_mm_number(mm, "FanR", 0, &v)); /* "43%" */
  g_assert_cmpfloat(v, ==, 43);
  g_assert_true(am_avalon_mm_number(mm, "GHSavg", 0, &v));
  g_assert_cmpfloat(v, ==, 37235.34);
  g_assert_false(am_avalon_mm_number(mm, "Ver", 0, &v)); /* not a number */
  g_assert_false(am_avalon_mm_number(mm, "Missing", 0, &v));
}

static void
test_mm_parse_edges(void)
{
  g_autoptr(GHashTable) mm =
      am_avalon_mm_parse("junk Key[1] [orphan] Dup[first] Dup[second] PVT_T0[ 60  61   0  63] "
                         "DH[nan%] WU[inf] Tail[unterminated");
  g_assert_cmpstr(g_hash_table_lookup(mm, "Key"), ==, "1");
  g_assert_false(g_hash_table_contains(mm, "junk"));
  g_assert_false(g_hash_table_contains(mm, ""));
  g_assert_cmpstr(g_hash_table_lookup(mm, "Dup"), ==, "first");
  g_assert_false(g_hash_table_contains(mm, "Tail"));
  g_assert_cmpuint(am_avalon_mm_count(mm, "PVT_T0"), ==, 4);
  double v = -1;
  g_assert_true(am_avalon_mm_number(mm, "PVT_T0", 3, &v));
  g_assert_cmpfloat(v, ==, 63);
  /* "inf" and "nan" are not readings. */
  g_assert_false(am_avalon_mm_number(mm, "DH", 0, &v));
  g_assert_false(am_avalon_mm_number(mm, "WU", 0, &v));
  g_assert_cmpfloat(v, ==, 63);
  g_assert_cmpstr(g_hash_table_lookup(mm, "WU"), ==, "inf");
  g_assert_cmpuint(g_hash_table_size(mm), ==, 5);

  g_autoptr(GHashTable) none = am_avalon_mm_parse(NULL);
  g_assert_cmpuint(g_hash_table_size(none), ==, 0);
  g_autoptr(GHashTable) empty = am_avalon_mm_parse("");
  g_assert_cmpuint(g_hash_table_size(empty), ==, 0);
  g_autoptr(GHashTable) brackets = am_avalon_mm_parse("]][[ ][");
  g_assert_cmpuint(g_hash_table_size(brackets), ==, 0);
}

/* ---- the recorded summary ---------------------------------------------- */

static void
test_avalon7xx_summary(void)
{
  g_autoptr(JsonObject) summary = am_test_fixture_object("avalon/avalon7xx_summary.json");
  AmAvalonReplies r = {.summary = summary};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->driver, ==, "avalon");
  g_assert_cmpstr(s->firmware, ==, "cgminer");
  g_assert_cmpstr(s->firmware_version, ==, "4.10.0");
  g_assert_null(s->model);
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 52.12628215, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 47.0711288, 1e-12);
  g_assert_cmpint(s->elapsed_s, ==, 118);
  g_assert_cmpint(s->accepted, ==, 19);
  g_assert_cmpint(s->rejected, ==, 1);
  g_assert_cmpint(s->hw_errors, ==, 3);
  /* A summary alone says nothing about the hardware. */
  g_assert_cmpuint(s->temps_c->len, ==, 0);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  g_assert_cmpuint(s->chains->len, ==, 0);
  g_assert_cmpuint(s->pools->len, ==, 0);
  g_assert_true(isnan(s->power_w));
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

/* ---- hand-made stats --------------------------------------------------- */

static void
test_stats_1047_style(void)
{
  g_autoptr(JsonObject) stats = stats_reply(mm_1047_style);
  AmAvalonReplies r = {.stats = stats};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->firmware, ==, "cgminer");
  g_assert_cmpstr(s->firmware_version, ==, "4.11.1");
  g_assert_null(s->model);
  /* No summary and no GHSspd: the current rate is unknown. GHSmm is the
   * nominal rate (the recorded standby Avalon Q shows why, see below). */
  g_assert_true(isnan(s->hashrate_ths));
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 37.23534, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 38.12342, 1e-12);
  /* The block's Elapsed (cgminer's uptime, as SUMMARY's) before the
   * module's Elapsed[103840]: a module outlives a restart of cgminer. */
  g_assert_cmpint(s->elapsed_s, ==, 103841);
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 28);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 75);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 2984, 3018);
  g_assert_cmpint(s->fans_expected, ==, 2);
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING); /* "Work: In Work" */
  g_assert_null(s->work_mode);
  g_assert_true(isnan(s->power_limit_w));

  g_assert_cmpuint(s->chains->len, ==, 1);
  const AmChain *c = &g_array_index(s->chains, AmChain, 0);
  g_assert_cmpint(c->index, ==, 0);
  g_assert_true(isnan(c->hashrate_ths));
  g_assert_cmpfloat(c->temp_board_c, ==, 28);
  g_assert_cmpfloat(c->temp_chip_c, ==, 75);
  g_assert_cmpfloat(c->frequency_mhz, ==, 557.93);
  g_assert_cmpint(c->chips, ==, AM_UNKNOWN);

  /* Six PS fields: PS[4] is the supply's output power (see the parser). */
  g_assert_cmpfloat(s->power_w, ==, 2288);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_avalon_power_field")), ==, "PS[4]");
  g_assert_true(isnan(s->efficiency_jth));
  /* Six fields: no wall figure, PS[4] is also the supply's output. */
  g_assert_true(isnan(s->psu_power_in_w));
  g_assert_cmpfloat(s->psu_power_out_w, ==, 2288);
  JsonArray *ps = json_node_get_array(am_test_extra(s, "x_avalon_ps"));
  g_assert_cmpuint(json_array_get_length(ps), ==, 6);
  g_assert_cmpfloat(json_array_get_double_element(ps, 2), ==, 1315);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_avalon_fan_pct")), ==, 43);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_avalon_chip_temp_avg_c")), ==, 64);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_avalon_mm_version")), ==,
                  "1047-21042001_4ec6bb0_61407fa");
  g_assert_cmpfloat(s->temp_max_c, ==, 75);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

/* A newer per-board string (15-194 style): MGHS/MTmax per hashboard,
 * WALLPOWER, a seven-field PS, and one fan stopped. */
static const char mm_per_board[] =
    "Ver[15-194-24102401_25462b2_9ddf522] SYSTEMSTATU[Work: In Work, Hash Board: 3 ] "
    "Elapsed[975] BOOTBY[0x04.00000000] HW[0] DH[1.299%] Temp[31] TMax[78] TAvg[70] "
    "Fan1[4275] Fan2[0] FanR[49%] Vo[296] PS[0 1209 1187 297 3526 1188 3731] WALLPOWER[3731] "
    "GHSspd[199241.07] GHSmm[201920.42] GHSavg[184007.00] MGHS[59459.52 61407.83 63139.66] "
    "MTmax[77 78 77] MTavg[69 70 71] PVT_T0[ 66  65  0  62] PVT_T1[ 65  66  63  62] "
    "PVT_T2[ 67  66  66  63] MPO[3515] WORKMODE[1]";

static const char version_15_194[] =
    "{\"STATUS\":[{\"STATUS\":\"S\",\"Code\":22,\"Msg\":\"CGMiner versions\","
    "\"Description\":\"cgminer 4.11.1\"}],\"VERSION\":[{\"CGMiner\":\"4.11.1\",\"API\":\"3.7\","
    "\"PROD\":\"AvalonMiner 15-194\",\"MODEL\":\"15-194\",\"HWTYPE\":\"MM4v2_X3\","
    "\"VERSION\":\"24102401_25462b2_9ddf522\",\"MAC\":\"A1B2C3D4E5F6\"}],\"id\":1}";

/* A VERSION whose PROD is gone: MODEL ("15-194", the short code) is
 * another name, so the model is unknown rather than that. */
static void
test_model_not_from_model_code(void)
{
  g_autofree char *text = g_strdup(version_15_194);
  char *prod = strstr(text, "\"PROD\"");
  g_assert_nonnull(prod);
  prod[1] = 'X'; /* "XROD": a firmware that renamed the key */
  g_autoptr(JsonObject) version = am_test_object_from_string(text);
  g_autoptr(JsonObject) stats = stats_reply(mm_per_board);
  AmAvalonReplies r = {.version = version, .stats = stats};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_null(s->model);
  g_assert_cmpstr(s->mac, ==, "a1:b2:c3:d4:e5:f6");
}

static void
test_stats_per_board(void)
{
  g_autoptr(JsonObject) stats = stats_reply(mm_per_board);
  g_autoptr(JsonObject) version = am_test_object_from_string(version_15_194);
  /* The only recorded summary (an Avalon 7xx) stands in for this one's. */
  g_autoptr(JsonObject) summary = am_test_fixture_object("avalon/avalon7xx_summary.json");
  AmAvalonReplies r = {.version = version, .summary = summary, .stats = stats};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->firmware_version, ==, "4.11.1");
  g_assert_cmpstr(s->model, ==, "AvalonMiner 15-194");
  g_assert_cmpstr(s->mac, ==, "a1:b2:c3:d4:e5:f6");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_avalon_mm_version")), ==,
                  "24102401_25462b2_9ddf522");
  /* The summary's figures win over the module's. */
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 52.12628215, 1e-12);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 47.0711288, 1e-12);
  g_assert_cmpint(s->elapsed_s, ==, 118);

  g_assert_cmpuint(s->chains->len, ==, 3);
  const double rates[] = {59.45952, 61.40783, 63.13966};
  const double tmax[] = {77, 78, 77};
  const gint chips[] = {3, 4, 4}; /* PVT_T0 has one chip reading 0 */
  for (guint i = 0; i < 3; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    g_assert_cmpint(c->index, ==, (gint)i);
    g_assert_cmpfloat_with_epsilon(c->hashrate_ths, rates[i], 1e-12);
    g_assert_cmpfloat(c->temp_chip_c, ==, tmax[i]);
    g_assert_true(isnan(c->temp_board_c));
    g_assert_cmpint(c->chips, ==, chips[i]);
  }
  AM_TEST_ASSERT_DOUBLES(s->temps_c, 31);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 77, 78, 77);
  g_assert_cmpfloat(s->temp_max_c, ==, 78);

  g_assert_cmpfloat(s->power_w, ==, 3731);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_avalon_power_field")), ==, "WALLPOWER");

  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 4275);
  g_assert_cmpint(s->fans_expected, ==, 2);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  /* The 7xx summary's 52 TH/s is far under this string's GHSmm. */
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 201.92042, 1e-12);
  g_assert_cmpuint(s->problems->len, ==, 2);
  g_assert_cmpstr(s->problems->pdata[0], ==, "1 of 2 fans spinning");
  g_assert_cmpstr(s->problems->pdata[1], ==, "hashrate 26% of ideal");
  g_assert_cmpfloat(s->power_limit_w, ==, 3515);
  g_assert_cmpstr(s->work_mode, ==, "normal");
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING);
  g_assert_cmpfloat(s->psu_power_in_w, ==, 3731);
  g_assert_cmpfloat(s->psu_power_out_w, ==, 3526);
}

static void
test_stats_ps6_without_wallpower(void)
{
  g_autoptr(JsonObject) stats =
      stats_reply("Temp[30] PS[0 1209 1187 297 3526 1188 3731] GHSmm[100.5] Fan1[4000]");
  AmAvalonReplies r = {.stats = stats};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpfloat(s->power_w, ==, 3731);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_avalon_power_field")), ==, "PS[6]");
  /* No Elapsed[] in the string: the STATS entry's own Elapsed. */
  g_assert_cmpint(s->elapsed_s, ==, 103841);
  g_assert_true(isnan(s->hashrate_avg_ths));
}

static void
test_stats_inf_nan(void)
{
  g_autoptr(JsonObject) stats = stats_reply(
      "Temp[nan] TMax[inf] GHSmm[inf] GHSavg[nan] Fan1[0] PS[0 0 0 0 0 0] Elapsed[-inf]");
  AmAvalonReplies r = {.stats = stats};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpuint(s->temps_c->len, ==, 0);
  g_assert_cmpuint(s->chip_temps_c->len, ==, 0);
  g_assert_true(isnan(s->hashrate_ths));
  g_assert_true(isnan(s->hashrate_avg_ths));
  g_assert_true(isnan(s->power_w)); /* a supply reading 0 W is no reading */
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  g_assert_cmpint(s->elapsed_s, ==, 103841);
  g_assert_cmpuint(s->chains->len, ==, 1);
  g_assert_true(isnan(g_array_index(s->chains, AmChain, 0).hashrate_ths));
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_cmpstr(s->problems->pdata[0], ==, "0 of 1 fans spinning");
}

static void
test_nothing_to_read(void)
{
  g_autoptr(GError) error = NULL;
  AmAvalonReplies none = {0};
  g_assert_null(am_avalon_parse(&none, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  /* A stats reply with no MM string (a plain cgminer's) is not enough. */
  g_autoptr(JsonObject) stats = am_test_fixture_object("cgminer/e3_stats.json");
  AmAvalonReplies plain = {.stats = stats};
  g_assert_null(am_avalon_parse(&plain, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
}

/* ---- recorded replies of an Avalon Q and an A-series (asic-rs) ---------- */

static JsonObject *
fixture(const char *name)
{
  g_autofree char *path = g_strdup_printf("avalon/asicrs-%s.json", name);
  return am_test_fixture_object(path);
}

/* The Avalon Q in standby (`ascset 0,softoff`): version, summary, pools
 * and stats as one poll reads them. Every value read off the files. */
static void
test_q_standby(void)
{
  g_autoptr(JsonObject) version = fixture("version");
  g_autoptr(JsonObject) summary = fixture("summary");
  g_autoptr(JsonObject) pools = fixture("pools");
  g_autoptr(JsonObject) stats = fixture("stats");
  AmAvalonReplies r = {.version = version, .summary = summary, .pools = pools, .stats = stats};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->driver, ==, "avalon");
  g_assert_cmpstr(s->firmware, ==, "cgminer");
  g_assert_cmpstr(s->firmware_version, ==, "4.11.1");
  g_assert_cmpstr(s->model, ==, "Avalon Q");
  g_assert_cmpstr(s->mac, ==, "aa:bb:cc:dd:ee:ff");
  g_assert_null(s->serial);
  g_assert_cmpstr(s->algorithm, ==, "sha256d");
  /* No VERSION key in this version reply: the build comes from Ver[]. */
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_avalon_mm_version")), ==,
                  "Q-25052801_14a19a2");

  /* SUMMARY: MHS 5s 0.0, MHS av 44539601.86, GHSmm[55032.79]. */
  g_assert_cmpfloat(s->hashrate_ths, ==, 0);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 44.53960186, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 55.03279, 1e-9);
  g_assert_cmpint(s->elapsed_s, ==, 37714);
  g_assert_cmpint(s->accepted, ==, 890);
  g_assert_cmpint(s->rejected, ==, 2);
  g_assert_cmpint(s->hw_errors, ==, 0);
  g_assert_cmpfloat(s->best_share, ==, 354914572);
  g_assert_cmpint(s->found_blocks, ==, 0);

  /* SYSTEMSTATU[Work: In Idle, ...] SoftOFF[4]: standby, asked for. */
  g_assert_cmpint(s->mining, ==, AM_MINING_SLEEPING);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_avalon_softoff")), ==, 4);
  g_assert_cmpstr(s->work_mode, ==, "low");
  g_assert_cmpint(s->locate, ==, AM_UNKNOWN); /* no Led[] */
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_avalon_workmode")), ==, 0);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_avalon_worklevel")), ==, 0);
  g_assert_cmpfloat(s->power_limit_w, ==, 800); /* MPO[800] */

  /* PS[0 1222 4 0 0 2245 146]: the supply's output is off. */
  g_assert_cmpfloat(s->power_w, ==, 146);
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_REPORTED);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_avalon_power_field")), ==, "PS[6]");
  g_assert_cmpfloat(s->psu_power_in_w, ==, 146);
  g_assert_cmpfloat(s->psu_power_out_w, ==, 0);
  g_assert_true(isnan(s->psu_fan_rpm));
  g_assert_null(s->psu_serial);

  /* Fan1..Fan4 all 0: four fitted, none spinning. TMax[0] is no reading. */
  g_assert_cmpuint(s->fans_rpm->len, ==, 0);
  g_assert_cmpint(s->fans_expected, ==, 4);
  g_assert_cmpuint(s->temps_c->len, ==, 0);
  g_assert_cmpuint(s->chip_temps_c->len, ==, 0);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_avalon_inlet_temp_c")), ==, 26);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_avalon_fan_pct")), ==, 0);

  /* One hashboard: MGHS[44499.41], HBITemp[27] HBOTemp[27], Freq[282.86],
   * 160 chips in HBinfo's PVT_T0, none reading 0. */
  g_assert_cmpuint(s->chains->len, ==, 1);
  const AmChain *c = &g_array_index(s->chains, AmChain, 0);
  g_assert_cmpint(c->index, ==, 0);
  g_assert_cmpfloat_with_epsilon(c->hashrate_ths, 44.49941, 1e-9);
  g_assert_cmpint(c->chips, ==, 160);
  g_assert_cmpfloat(c->temp_inlet_c, ==, 27);
  g_assert_cmpfloat(c->temp_outlet_c, ==, 27);
  g_assert_cmpfloat(c->frequency_mhz, ==, 282.86);
  g_assert_true(isnan(c->temp_chip_c));
  g_assert_true(isnan(c->temp_board_c));
  g_assert_true(isnan(c->voltage_v));
  g_assert_true(isnan(s->water_temp_in_c));

  g_assert_cmpuint(s->pools->len, ==, 1);
  am_test_assert_pool(s->pools->pdata[0], "stratum+tcp://pool.example.com:4444", "worker1", "Alive",
                      0, 890, 2, 0, TRUE);
  g_assert_cmpuint(s->errors->len, ==, 0);
  g_assert_false(s->partial);
  /* Asleep on purpose: no fan or hashrate alarm. */
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

/* The Avalon Q's litestats: the same string without HBinfo, alone. */
static void
test_q_litestats(void)
{
  g_autoptr(JsonObject) stats = fixture("litestats");
  AmAvalonReplies r = {.stats = stats};
  g_autoptr(AmSample) s = parse_ok(&r);
  g_assert_cmpstr(s->firmware_version, ==, "4.11.1"); /* the Description */
  g_assert_null(s->model);
  g_assert_cmpfloat(s->hashrate_ths, ==, 0); /* GHSspd[0.00] */
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 44.35083, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 55.03279, 1e-9);
  g_assert_cmpint(s->elapsed_s, ==, 37977);
  g_assert_cmpint(s->mining, ==, AM_MINING_SLEEPING);
  g_assert_cmpfloat(s->power_w, ==, 146);
  g_assert_cmpfloat(s->psu_power_in_w, ==, 146);
  g_assert_cmpfloat(s->psu_power_out_w, ==, 0);
  g_assert_cmpuint(s->chains->len, ==, 1);
  const AmChain *c = &g_array_index(s->chains, AmChain, 0);
  g_assert_cmpfloat_with_epsilon(c->hashrate_ths, 44.35083, 1e-9);
  g_assert_cmpint(c->chips, ==, AM_UNKNOWN); /* no HBinfo */
  g_assert_cmpfloat(c->temp_inlet_c, ==, 27);
  g_assert_cmpfloat(c->temp_outlet_c, ==, 27);
  g_assert_true(isnan(s->best_share));
  g_assert_cmpint(s->found_blocks, ==, AM_UNKNOWN);
  g_assert_cmpuint(s->pools->len, ==, 0);
}

/* An A-series (Avalon 1246, Ver[1246-83-...]) hashing: stats alone. */
static void
test_a_series_stats(void)
{
  g_autoptr(JsonObject) stats = fixture("avalon_a_stats");
  AmAvalonReplies r = {.stats = stats};
  g_autoptr(AmSample) s = parse_ok(&r);

  g_assert_cmpstr(s->firmware_version, ==, "4.11.1");
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_avalon_mm_version")), ==,
                  "1246-83-21072802_4ec6bb0_211fc46");
  /* GHSspd[81072.68] GHSavg[79656.63] GHSmm[83923.04] */
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 81.07268, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_avg_ths, 79.65663, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ideal_ths, 83.92304, 1e-9);
  g_assert_cmpint(s->elapsed_s, ==, 24684);
  g_assert_cmpint(s->mining, ==, AM_MINING_HASHING);
  g_assert_cmpstr(s->work_mode, ==, "normal"); /* WORKMODE[1], no WORKLEVEL */
  g_assert_cmpfloat(s->power_limit_w, ==, 3200);

  /* PS[0 1214 1316 242 3189 1320 3504] */
  g_assert_cmpfloat(s->power_w, ==, 3504);
  g_assert_cmpstr(json_node_get_string(am_test_extra(s, "x_avalon_power_field")), ==, "PS[6]");
  g_assert_cmpfloat(s->psu_power_in_w, ==, 3504);
  g_assert_cmpfloat(s->psu_power_out_w, ==, 3189);

  AM_TEST_ASSERT_DOUBLES(s->temps_c, 30);
  AM_TEST_ASSERT_DOUBLES(s->chip_temps_c, 77, 77, 76);
  AM_TEST_ASSERT_DOUBLES(s->fans_rpm, 5344, 5392, 5349, 5309);
  g_assert_cmpint(s->fans_expected, ==, 4);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_avalon_fan_pct")), ==, 72);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_avalon_chip_temp_avg_c")), ==, 65);
  g_assert_cmpfloat(json_node_get_double(am_test_extra(s, "x_avalon_softoff")), ==, 0);

  /* MGHS[26907.01 26025.06 26724.56] MTmax[77 77 76], 120 chips each. */
  const double rates[] = {26.90701, 26.02506, 26.72456};
  const double tmax[] = {77, 77, 76};
  g_assert_cmpuint(s->chains->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    g_assert_cmpint(c->index, ==, (gint)i);
    g_assert_cmpfloat_with_epsilon(c->hashrate_ths, rates[i], 1e-9);
    g_assert_cmpfloat(c->temp_chip_c, ==, tmax[i]);
    g_assert_cmpint(c->chips, ==, 120);
    g_assert_cmpfloat(c->frequency_mhz, ==, 502.41);
    g_assert_true(isnan(c->temp_inlet_c)); /* no HBITemp on this model */
    g_assert_true(isnan(c->temp_board_c));
  }
  g_assert_cmpfloat_with_epsilon(s->efficiency_jth, 3504 / 81.07268, 1e-9);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
}

/* devs and devdetails are not asked (their one entry is the whole
 * controller); they carry no MM string and no SUMMARY, so alone they are
 * not enough, with a clear error. */
static void
test_devs_not_enough(void)
{
  g_autoptr(JsonObject) devs = fixture("devs");
  g_autoptr(JsonObject) devdetails = fixture("devdetails");
  g_autoptr(GError) error = NULL;
  AmAvalonReplies r = {.summary = devs, .stats = devdetails};
  g_assert_null(am_avalon_parse(&r, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "summary"));
}

/* ---- match ------------------------------------------------------------- */

static AmMatch
match_reply(JsonObject *reply)
{
  AmFingerprint fp;
  am_test_fingerprint_init(&fp, reply);
  return am_avalon_match(&fp);
}

static void
test_match(void)
{
  g_autoptr(GPtrArray) files = am_test_version_fixtures();
  g_assert_cmpuint(files->len, >=, 10);
  for (guint i = 0; i < files->len; i++) {
    g_autoptr(JsonObject) reply = am_test_fixture_object(files->pdata[i]);
    if (match_reply(reply) != AM_MATCH_UNSUPPORTED)
      g_error("%s: claimed by avalon", (const char *)files->pdata[i]);
  }
  g_autoptr(JsonObject) version = am_test_object_from_string(version_15_194);
  g_assert_cmpint(match_reply(version), ==, AM_MATCH_SUPPORTED);
  g_autoptr(JsonObject) q = fixture("version"); /* PROD "Avalon Q" */
  g_assert_cmpint(match_reply(q), ==, AM_MATCH_SUPPORTED);
  g_autoptr(JsonObject) typed = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\",\"Description\":\"cgminer 4.10.0\"}],"
      "\"VERSION\":[{\"CGMiner\":\"4.10.0\",\"Type\":\"Avalon 741\"}]}");
  g_assert_cmpint(match_reply(typed), ==, AM_MATCH_SUPPORTED);
  /* HAND-MADE: Canaan's controller keys without the Avalon name. */
  g_autoptr(JsonObject) controller = am_test_object_from_string(
      "{\"STATUS\":[{\"STATUS\":\"S\",\"Description\":\"cgminer 4.10.0\"}],"
      "\"VERSION\":[{\"CGMiner\":\"4.10.0\",\"PROD\":\"AV7\",\"MODEL\":\"741\","
      "\"HWTYPE\":\"MM3v1_X3\",\"SWTYPE\":\"MM310\"}]}");
  g_assert_cmpint(match_reply(controller), ==, AM_MATCH_LIKELY);
  /* The recorded 7xx summary says only "cgminer 4.10.0": not a claim. */
  g_autoptr(JsonObject) summary = am_test_fixture_object("avalon/avalon7xx_summary.json");
  g_assert_cmpint(match_reply(summary), ==, AM_MATCH_UNSUPPORTED);
  g_assert_cmpint(am_avalon_match(NULL), ==, AM_MATCH_UNSUPPORTED);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/avalon/mm-parse", test_mm_parse);
  g_test_add_func("/avalon/mm-parse-edges", test_mm_parse_edges);
  g_test_add_func("/avalon/avalon7xx-summary", test_avalon7xx_summary);
  g_test_add_func("/avalon/hand-made-stats-1047-style", test_stats_1047_style);
  g_test_add_func("/avalon/hand-made-stats-per-board", test_stats_per_board);
  g_test_add_func("/avalon/model-not-from-model-code", test_model_not_from_model_code);
  g_test_add_func("/avalon/hand-made-stats-ps6", test_stats_ps6_without_wallpower);
  g_test_add_func("/avalon/hand-made-stats-inf-nan", test_stats_inf_nan);
  g_test_add_func("/avalon/nothing-to-read", test_nothing_to_read);
  g_test_add_func("/avalon/asicrs-q-standby", test_q_standby);
  g_test_add_func("/avalon/asicrs-q-litestats", test_q_litestats);
  g_test_add_func("/avalon/asicrs-a-series-stats", test_a_series_stats);
  g_test_add_func("/avalon/asicrs-devs-not-enough", test_devs_not_enough);
  g_test_add_func("/avalon/match", test_match);
  return g_test_run();
}
