/* AvalonMiner replies -> AmSample. Pure: see am-avalon-parse.h.
 *
 * Canaan's cgminer answers summary and pools in the usual cgminer shape
 * (tests/fixtures/avalon/avalon7xx_summary.json, hashrate in "MHS" keys).
 * Everything about the hardware is packed into one string per module in
 * the stats reply, "MM ID0", "MM ID1", ..., as Key[value] pairs:
 *   Temp[28]          the module's own temperature      -> temps_c
 *   TMax[75]          hottest chip of the module         -> chip_temps_c
 *   TAvg[64]          average chip temperature           -> extra
 *   Fan1[2984]..FanN  fan RPM, one key per fan fitted    -> fans_rpm
 *   FanR[43%]         fan duty                           -> extra
 *   GHSmm[..]         current GH/s of the module         -> chain hashrate
 *   GHSavg[..]        average GH/s                       -> hashrate_avg_ths
 *   MGHS[a b c]       GH/s per hashboard (newer models)  -> one chain per board
 *   MTmax[a b c]      hottest chip per hashboard         -> chain chip temps
 *   PVT_T<b>[..]      per-chip temperatures of board b   -> chips found (non-zero)
 *   WALLPOWER[W]      power at the wall (newer models)   -> power_w
 *   PS[...]           power-supply readings              -> power_w, see below
 *   Elapsed[s]        uptime of the module               -> elapsed_s (fallback)
 *
 * Power. No document gives the PS[] fields. The one real reply with both
 * (an AvalonMiner 15-194 in pyasic's tests) has PS[0 1209 1187 297 3526 1188
 * 3731] and WALLPOWER[3731], so PS[6] is the wall power; its PS[4] 3526 sits
 * next to the power target MPO[3515], and the 6-field PS[0 1212 1315 174
 * 2288 1320] of an Avalon 1047 (SOURCES.md) gives 2288 W at 37.2 TH/s,
 * which is what that model draws (~62 J/TH). So: WALLPOWER, else PS[6],
 * else PS[4] (the supply's output, a little under the wall figure), each
 * reported; the field used is named in x_avalon_power_field. */
#include "am-avalon-parse.h"

#include "../common/am-cgminer-common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DRIVER_NAME "avalon"
#define MAX_FANS 16
#define MAX_PS_FIELDS 16

/* ---- the Key[value] string --------------------------------------------- */

/* '{' and '}' end a key too: the Avalon Q wraps its string as
 * "'STATS':{Ver[...] ... Nonce Mask[25]}" and its HBinfo as "'HB0':{...}". */
static gboolean
key_char(char c)
{
  return c != '\0' && c != '[' && c != ']' && c != '{' && c != '}' && !g_ascii_isspace(c);
}

GHashTable *
am_avalon_mm_parse(const char *text)
{
  GHashTable *mm = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  const char *p = text;
  while (p != NULL && *p != '\0') {
    const char *open = strchr(p, '[');
    if (open == NULL)
      break;
    /* The key is the run of key characters just before '[': a blank or the
     * previous ']' ends it, which handles "Elapsed[103840]BOOTBY[1]". */
    const char *key = open;
    while (key > p && key_char(key[-1]))
      key--;
    const char *close = strchr(open + 1, ']');
    if (close == NULL)
      break; /* an unterminated pair: cut off, not guessed */
    if (key < open) {
      char *name = g_strndup(key, open - key);
      char *value = g_strstrip(g_strndup(open + 1, close - open - 1));
      if (g_hash_table_contains(mm, name)) {
        g_free(name);
        g_free(value);
      } else {
        g_hash_table_insert(mm, name, value);
      }
    }
    p = close + 1;
  }
  return mm;
}

/* Returns: (transfer full) the blank-separated fields of @key's value. */
static char **
mm_fields(GHashTable *mm, const char *key)
{
  const char *value = g_hash_table_lookup(mm, key);
  if (value == NULL)
    return NULL;
  char **parts = g_strsplit_set(value, " \t", -1);
  guint kept = 0;
  for (guint i = 0; parts[i] != NULL; i++) {
    if (*parts[i] != '\0')
      parts[kept++] = parts[i];
    else
      g_free(parts[i]);
  }
  parts[kept] = NULL;
  return parts;
}

guint
am_avalon_mm_count(GHashTable *mm, const char *key)
{
  g_auto(GStrv) fields = mm_fields(mm, key);
  return fields != NULL ? g_strv_length(fields) : 0;
}

/* Reads one field as a number; a trailing '%' is allowed ("FanR[43%]").
 * am_parse_number refuses "inf" and "nan": they stay unknown. */
static gboolean
field_number(char *field, double *out)
{
  gsize len = strlen(field);
  if (len > 1 && field[len - 1] == '%')
    field[len - 1] = '\0';
  return am_parse_number(field, out);
}

gboolean
am_avalon_mm_number(GHashTable *mm, const char *key, guint index, double *out)
{
  g_auto(GStrv) fields = mm_fields(mm, key);
  if (fields == NULL || index >= g_strv_length(fields))
    return FALSE;
  return field_number(fields[index], out);
}

/* Returns: (transfer full) every field of @key's value as a double (NAN
 * where unreadable), split once: a value can hold hundreds of fields. */
static GArray *
mm_values(GHashTable *mm, const char *key)
{
  g_auto(GStrv) fields = mm_fields(mm, key);
  GArray *values = g_array_new(FALSE, FALSE, sizeof(double));
  for (guint i = 0; fields != NULL && fields[i] != NULL; i++) {
    double v = NAN;
    field_number(fields[i], &v);
    g_array_append_val(values, v);
  }
  return values;
}

static double
value_at(GArray *values, guint index)
{
  return index < values->len ? g_array_index(values, double, index) : NAN;
}

static double
mm_double(GHashTable *mm, const char *key)
{
  double value = NAN;
  am_avalon_mm_number(mm, key, 0, &value);
  return value;
}

/* ---- match ------------------------------------------------------------- */

/* Canaan's controller ("MM", the miner manager) names its hardware and
 * software types in the version reply: HWTYPE "MM4v2_X3", SWTYPE "MM319". */
static gboolean
canaan_controller(JsonObject *version)
{
  const char *hw = am_json_string(version, "HWTYPE");
  const char *sw = am_json_string(version, "SWTYPE");
  return (hw != NULL && g_str_has_prefix(hw, "MM")) || (sw != NULL && g_str_has_prefix(sw, "MM"));
}

AmMatch
am_avalon_match(const AmFingerprint *fp)
{
  if (fp == NULL)
    return AM_MATCH_UNSUPPORTED;
  if (am_cgminer_contains_ci(fp->description, "avalon") ||
      am_cgminer_object_mentions(fp->version, "avalon"))
    return AM_MATCH_SUPPORTED;
  /* Canaan's keys without the name: probe early rather than claim. */
  if (canaan_controller(fp->version))
    return AM_MATCH_LIKELY;
  return AM_MATCH_UNSUPPORTED;
}

/* ---- one module -------------------------------------------------------- */

/* What the modules add up to. */
typedef struct {
  double power_w;
  const char *power_field;
  double cur_ghs, avg_ghs, ideal_ghs, limit_w;
  double mm_elapsed; /* the first module's Elapsed[]: its uptime */
  gint fans_fitted;
  gint chains;
  AmMiningState mining;
} Totals;

/* Adds @value to the running sum @sum (NAN until the first reading). */
static void
add_to(double *sum, double value)
{
  if (isfinite(value))
    *sum = isnan(*sum) ? value : *sum + value;
}

static gboolean
has_extra(AmSample *s, const char *key)
{
  g_autofree char *name = g_strdup_printf("x_" DRIVER_NAME "_%s", key);
  return json_object_has_member(s->extras, name);
}

/* Sets an extra from the first module that has it. */
static void
set_extra_number(AmSample *s, const char *key, double value)
{
  if (isfinite(value) && !has_extra(s, key))
    am_sample_set_extra(s, key, json_node_init_double(json_node_alloc(), value));
}

/* Chips found on board @b: its per-chip temperatures that are not 0. The
 * A-series puts PVT_T<b> in the module string, the Avalon Q in a separate
 * "HBinfo" string (@hb, may be NULL). */
static gint
board_chips(GHashTable *mm, GHashTable *hb, guint b)
{
  g_autofree char *key = g_strdup_printf("PVT_T%u", b);
  g_autoptr(GArray) temps = mm_values(g_hash_table_contains(mm, key) || hb == NULL ? mm : hb, key);
  gint found = 0;
  for (guint i = 0; i < temps->len; i++)
    found += !isnan(g_array_index(temps, double, i)) && g_array_index(temps, double, i) != 0;
  return temps->len > 0 ? found : AM_UNKNOWN;
}

/* A per-board reading: one field per board, or a single field when the
 * module has one board (the Avalon Q's HBITemp[27]). */
static double
board_value(GHashTable *mm, const char *key, guint b, guint boards)
{
  g_autoptr(GArray) values = mm_values(mm, key);
  if (values->len == boards || (values->len == 1 && b == 0))
    return value_at(values, b);
  return NAN;
}

/* Older models give one figure per module: GHSspd is its current rate. */
static void
read_module_chain(AmSample *s, GHashTable *mm, gint module, Totals *t)
{
  AmChain *c = am_cgminer_chain(s, module);
  c->hashrate_ths = am_hashrate_to_ths(mm_double(mm, "GHSspd"), "GH");
  double temp = mm_double(mm, "Temp");
  c->temp_board_c = am_temp_is_valid(temp) ? temp : NAN;
  double tmax = mm_double(mm, "TMax");
  if (am_sample_add_chip_temp(s, tmax))
    c->temp_chip_c = tmax;
  c->frequency_mhz = mm_double(mm, "Freq");
  t->chains++;
}

/* Newer models list every hashboard: MGHS (GH/s per board, averaged since
 * start: the boards add up to GHSavg exactly), MTmax, HBITemp/HBOTemp. */
static void
read_chains(AmSample *s, GHashTable *mm, GHashTable *hb, gint module, Totals *t)
{
  g_autoptr(GArray) rates = mm_values(mm, "MGHS");
  if (rates->len == 0) {
    read_module_chain(s, mm, module, t);
    return;
  }
  g_autoptr(GArray) maxima = mm_values(mm, "MTmax");
  /* Without per-board maxima, the module's hottest chip still counts. */
  if (maxima->len == 0)
    am_sample_add_chip_temp(s, mm_double(mm, "TMax"));
  double freq = mm_double(mm, "Freq"); /* one PLL average for the module */
  for (guint b = 0; b < rates->len && t->chains < AM_CGMINER_MAX_CHAINS; b++) {
    AmChain *c = am_sample_add_chain(s, t->chains++);
    c->hashrate_ths = am_hashrate_to_ths(value_at(rates, b), "GH");
    double tmax = value_at(maxima, b);
    if (am_sample_add_chip_temp(s, tmax))
      c->temp_chip_c = tmax;
    c->chips = board_chips(mm, hb, b);
    c->frequency_mhz = freq;
    double in = board_value(mm, "HBITemp", b, rates->len);
    double out = board_value(mm, "HBOTemp", b, rates->len);
    c->temp_inlet_c = am_temp_is_valid(in) ? in : NAN;
    c->temp_outlet_c = am_temp_is_valid(out) ? out : NAN;
  }
}

static void
read_fans(AmSample *s, GHashTable *mm, Totals *t)
{
  if (g_hash_table_contains(mm, "Fan")) {
    t->fans_fitted++;
    am_sample_add_fan(s, mm_double(mm, "Fan"));
  }
  for (guint k = 1; k <= MAX_FANS; k++) {
    g_autofree char *key = g_strdup_printf("Fan%u", k);
    if (!g_hash_table_contains(mm, key))
      continue;
    t->fans_fitted++;
    am_sample_add_fan(s, mm_double(mm, key));
  }
}

/* The supply's figures of the first module that has them: the wall side
 * when it is told apart (WALLPOWER, else PS[6]), PS[4] as its output. A
 * supply that is off (the Avalon Q in standby: PS[4] 0) reads 0 W. */
static void
read_psu(AmSample *s, GHashTable *mm)
{
  double in = NAN, out = NAN;
  guint ps = am_avalon_mm_count(mm, "PS");
  if (!am_avalon_mm_number(mm, "WALLPOWER", 0, &in) && ps >= 7)
    am_avalon_mm_number(mm, "PS", 6, &in);
  if (ps >= 5)
    am_avalon_mm_number(mm, "PS", 4, &out);
  if (isnan(s->psu_power_in_w) && in >= 0)
    s->psu_power_in_w = in;
  if (isnan(s->psu_power_out_w) && out >= 0)
    s->psu_power_out_w = out;
}

static void
read_power(GHashTable *mm, Totals *t)
{
  double watts = NAN;
  const char *field = NULL;
  guint ps = am_avalon_mm_count(mm, "PS");
  if (am_avalon_mm_number(mm, "WALLPOWER", 0, &watts))
    field = "WALLPOWER";
  else if (ps >= 7 && am_avalon_mm_number(mm, "PS", 6, &watts))
    field = "PS[6]";
  else if (ps >= 5 && am_avalon_mm_number(mm, "PS", 4, &watts))
    field = "PS[4]";
  add_to(&t->limit_w, mm_double(mm, "MPO"));
  if (field == NULL || !(watts > 0))
    return;
  add_to(&t->power_w, watts);
  t->power_field = field;
}

/* SYSTEMSTATU[Work: In Work, ...] while hashing; "In Idle" with SoftOFF[n]
 * non-zero after `ascset 0,softoff` (the Avalon Q recorded so: fans 0,
 * GHSspd 0, SoftOffTime later than SoftOnTime): Canaan's standby. */
static AmMiningState
module_state(GHashTable *mm)
{
  const char *status = g_hash_table_lookup(mm, "SYSTEMSTATU");
  if (status != NULL && strstr(status, "In Work") != NULL)
    return AM_MINING_HASHING;
  double softoff = mm_double(mm, "SoftOFF");
  if (isfinite(softoff) && softoff != 0)
    return AM_MINING_SLEEPING;
  return AM_MINING_UNKNOWN;
}

/* WORKMODE[n]: 0, 1 and 2 are the low, normal and high modes that
 * `ascset 0,workmode,set,N` sets (Canaan's Nano 3 and Avalon Q: Eco,
 * Standard, Super); another number is kept as "mode n". WORKLEVEL[n] (the
 * Avalon Q's power level) goes to the extras only. */
static void
read_work_mode(AmSample *s, GHashTable *mm)
{
  static const char *const names[] = {AM_WORK_MODE_LOW, AM_WORK_MODE_NORMAL, AM_WORK_MODE_HIGH};
  double mode = mm_double(mm, "WORKMODE");
  double level = mm_double(mm, "WORKLEVEL");
  if (s->work_mode != NULL || !isfinite(mode))
    return;
  g_autofree char *text = NULL;
  if (mode == 0 || mode == 1 || mode == 2)
    text = g_strdup(names[(int)mode]);
  else
    text = g_strdup_printf("mode %.0f", mode);
  am_sample_set(s, &s->work_mode, text);
  set_extra_number(s, "workmode", mode);
  set_extra_number(s, "worklevel", level);
}

/* Led[0|1]: the locate light (`ascset 0,led,1-1` turns it on). */
static void
read_locate(AmSample *s, GHashTable *mm)
{
  double led = mm_double(mm, "Led");
  if (s->locate == AM_UNKNOWN && isfinite(led))
    s->locate = led != 0;
}

static void
read_module_extras(AmSample *s, GHashTable *mm)
{
  set_extra_number(s, "fan_pct", mm_double(mm, "FanR"));
  set_extra_number(s, "chip_temp_avg_c", mm_double(mm, "TAvg"));
  set_extra_number(s, "inlet_temp_c", mm_double(mm, "ITemp"));
  set_extra_number(s, "outlet_temp_c", mm_double(mm, "OTemp"));
  set_extra_number(s, "softoff", mm_double(mm, "SoftOFF"));
  const char *ver = g_hash_table_lookup(mm, "Ver");
  if (ver != NULL && !has_extra(s, "mm_version"))
    am_sample_set_extra(s, "mm_version", json_node_init_string(json_node_alloc(), ver));

  if (has_extra(s, "ps"))
    return;
  g_autoptr(GArray) values = mm_values(mm, "PS");
  if (values->len == 0)
    return;
  JsonArray *ps = json_array_new();
  /* Real PS[] lists have 6 or 7 fields; a runaway one is cut short. */
  for (guint i = 0; i < MIN(values->len, MAX_PS_FIELDS); i++) {
    double v = g_array_index(values, double, i);
    if (isnan(v))
      json_array_add_null_element(ps);
    else
      json_array_add_double_element(ps, v);
  }
  am_sample_set_extra(s, "ps", json_node_init_array(json_node_alloc(), ps));
  json_array_unref(ps);
}

static void
read_module(AmSample *s, const char *text, GHashTable *hb, gint module, Totals *t)
{
  g_autoptr(GHashTable) mm = am_avalon_mm_parse(text);
  am_sample_add_temp(s, mm_double(mm, "Temp"));
  read_chains(s, mm, hb, module, t);
  read_fans(s, mm, t);
  read_power(mm, t);
  read_psu(s, mm);
  add_to(&t->cur_ghs, mm_double(mm, "GHSspd"));
  add_to(&t->avg_ghs, mm_double(mm, "GHSavg"));
  add_to(&t->ideal_ghs, mm_double(mm, "GHSmm"));
  if (t->mining == AM_MINING_UNKNOWN)
    t->mining = module_state(mm);
  read_work_mode(s, mm);
  read_locate(s, mm);
  if (isnan(t->mm_elapsed))
    t->mm_elapsed = mm_double(mm, "Elapsed");
  read_module_extras(s, mm);
}

/* Every "MM ID<n>" string (the Avalon Q: "MM ID0:Summary") of every STATS
 * element. Returns how many. */
static guint
read_stats(AmSample *s, JsonObject *reply, Totals *t)
{
  JsonArray *stats = am_json_array(reply, "STATS");
  guint n = stats != NULL ? json_array_get_length(stats) : 0;
  guint modules = 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *block = am_json_array_object(stats, i);
    if (block == NULL)
      continue;
    guint before = modules;
    const char *hbinfo = am_json_string(block, "HBinfo");
    g_autoptr(GHashTable) hb = hbinfo != NULL ? am_avalon_mm_parse(hbinfo) : NULL;
    g_autoptr(GList) members = json_object_get_members(block);
    for (GList *l = members; l != NULL; l = l->next) {
      const char *name = l->data;
      const char *text = am_json_string(block, name);
      if (!g_str_has_prefix(name, "MM ID") || text == NULL || t->chains >= AM_CGMINER_MAX_CHAINS)
        continue;
      read_module(s, text, hb, (gint)strtol(name + strlen("MM ID"), NULL, 10), t);
      modules++;
    }
    /* cgminer's own uptime, the counter SUMMARY's Elapsed is, before the
     * module's (a module outlives a restart of cgminer). */
    if (s->elapsed_s < 0 && modules > before)
      s->elapsed_s = am_json_int(block, "Elapsed", AM_UNKNOWN);
    if (s->elapsed_s < 0 && isfinite(t->mm_elapsed) && t->mm_elapsed >= 0)
      s->elapsed_s = (gint64)t->mm_elapsed;
  }
  return modules;
}

/* ---- identity ---------------------------------------------------------- */

static void
read_identity(AmSample *s, const AmAvalonReplies *r)
{
  JsonObject *version = am_cgminer_section(r->version, "VERSION");
  /* The answering program is Canaan's cgminer; its own build is the
   * firmware version users compare, the MM build goes in an extra. */
  am_sample_set(s, &s->firmware, "cgminer");
  const char *cgminer = am_json_string(version, "CGMiner");
  if (cgminer == NULL) {
    const char *description = am_cgminer_description(r->summary);
    if (description == NULL)
      description = am_cgminer_description(r->stats);
    if (description != NULL && g_str_has_prefix(description, "cgminer "))
      cgminer = description + strlen("cgminer ");
  }
  am_sample_set(s, &s->firmware_version, cgminer);

  /* MODEL is the short code beside PROD ("Q" for "Avalon Q", "15-194"
   * for "AvalonMiner 15-194"): another name, so it never stands in. */
  const char *model = am_json_string(version, "PROD");
  if (model == NULL)
    model = am_json_string(version, "Type");
  g_autofree char *clean = am_cgminer_clean_model(model);
  am_sample_set(s, &s->model, clean);

  g_autofree char *mac = am_cgminer_format_mac(am_json_string(version, "MAC"));
  am_sample_set(s, &s->mac, mac);
  const char *build = am_json_string(version, "VERSION");
  if (build != NULL)
    am_sample_set_extra(s, "mm_version", json_node_init_string(json_node_alloc(), build));
}

/* Canaan's cgminer 4.11 summary also counts blocks found and the best
 * share since start. */
static void
read_summary_extras(AmSample *s, JsonObject *reply)
{
  JsonObject *summary = am_cgminer_section(reply, "SUMMARY");
  double best = am_json_double(summary, "Best Share");
  if (best >= 0)
    s->best_share = best;
  s->found_blocks = am_json_int(summary, "Found Blocks", AM_UNKNOWN);
}

AmSample *
am_avalon_parse(const AmAvalonReplies *replies, GError **error)
{
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, DRIVER_NAME);
  /* AvalonMiners are SHA-256 machines. */
  am_sample_set(s, &s->algorithm, "sha256d");

  gboolean have_summary = am_cgminer_read_summary(s, replies->summary);
  read_identity(s, replies);
  Totals t = {.power_w = NAN,
              .cur_ghs = NAN,
              .avg_ghs = NAN,
              .ideal_ghs = NAN,
              .limit_w = NAN,
              .mm_elapsed = NAN};
  guint modules = read_stats(s, replies->stats, &t);
  if (!have_summary && modules == 0) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                        "neither a summary nor an MM stats string was answered");
    return NULL;
  }

  /* The summary's figures come first; the modules' stand in for them. */
  if (isnan(s->hashrate_ths))
    s->hashrate_ths = am_hashrate_to_ths(t.cur_ghs, "GH");
  if (isnan(s->hashrate_avg_ths))
    s->hashrate_avg_ths = am_hashrate_to_ths(t.avg_ghs, "GH");
  /* GHSmm is the module's nominal rate: the standby Avalon Q still says
   * GHSmm[55032.79] with GHSspd[0.00]; asic-rs reads it as expected. */
  s->hashrate_ideal_ths = am_hashrate_to_ths(t.ideal_ghs, "GH");
  s->power_limit_w = t.limit_w;
  s->mining = t.mining;
  if (!isnan(t.power_w)) {
    s->power_w = t.power_w;
    s->power_source = AM_POWER_SOURCE_REPORTED;
    am_sample_set_extra(s, "power_field", json_node_init_string(json_node_alloc(), t.power_field));
  }
  if (t.fans_fitted > 0)
    s->fans_expected = t.fans_fitted;
  am_cgminer_read_pools(s, replies->pools);
  read_summary_extras(s, replies->summary);
  return g_steal_pointer(&s);
}
