/* One miner's Prometheus series (pure; see the header). */
#include "am-http-metrics-miner.h"
#include "am-http-metrics.h"

#include <math.h>
#include <string.h>

static const AmHttpFamilyInfo families[AM_HTTP_N_FAMILIES] = {
    [AM_HTTP_FAMILY_INFO] = {"antmon_miner_info", "gauge",
                             "Always 1: the miner's name, model, firmware and driver as labels "
                             "(join on miner)"},
    [AM_HTTP_FAMILY_STATE] = {"antmon_miner_state", "gauge",
                              "1 for the miner's state: online, degraded, paused, offline or "
                              "unreachable"},
    [AM_HTTP_FAMILY_UP] = {"antmon_miner_up", "gauge",
                           "1 when the last poll of the miner succeeded"},
    [AM_HTTP_FAMILY_POLL_FAILURES] = {"antmon_miner_consecutive_poll_failures", "gauge",
                                      "Polls that failed in a row (0 while the miner answers)"},
    [AM_HTTP_FAMILY_LAST_SEEN] = {"antmon_miner_last_seen_timestamp_seconds", "gauge",
                                  "When the miner last answered, as Unix time"},
    [AM_HTTP_FAMILY_HASHRATE] = {"antmon_miner_hashrate_hashes_per_second", "gauge",
                                 "Current hashrate of the miner's algorithm, in hashes per second"},
    [AM_HTTP_FAMILY_HASHRATE_IDEAL] = {"antmon_miner_hashrate_ideal_hashes_per_second", "gauge",
                                       "Nominal (ideal) hashrate, in hashes per second"},
    [AM_HTTP_FAMILY_POWER] = {"antmon_miner_power_watts", "gauge",
                              "Power draw, in watts (source: reported by the firmware, or "
                              "estimated from J/TH)"},
    [AM_HTTP_FAMILY_TEMPERATURE] = {"antmon_miner_temperature_celsius", "gauge",
                                    "Hottest valid reading of a board's sensor (board: PCB, chip: "
                                    "ASIC), in degrees Celsius"},
    [AM_HTTP_FAMILY_FAN] = {"antmon_miner_fan_rpm", "gauge",
                            "Fan speed, in revolutions per minute"},
    [AM_HTTP_FAMILY_CHAIN_CHIPS] = {"antmon_miner_chain_chips", "gauge",
                                    "ASIC chips of a chain: ok, failed, or missing (expected but "
                                    "not found)"},
    [AM_HTTP_FAMILY_CHAIN_HASHRATE] = {"antmon_miner_chain_hashrate_hashes_per_second", "gauge",
                                       "Current hashrate of one chain, in hashes per second"},
    [AM_HTTP_FAMILY_CHAIN_VOLTAGE] = {"antmon_miner_chain_voltage_volts", "gauge",
                                      "Supply voltage of one chain, in volts"},
    [AM_HTTP_FAMILY_CHAIN_FREQUENCY] = {"antmon_miner_chain_frequency_hertz", "gauge",
                                        "Average chip clock of one chain, in hertz"},
    [AM_HTTP_FAMILY_SHARES] = {"antmon_miner_shares_total", "counter",
                               "Shares since the miner started, by result (resets when it "
                               "restarts)"},
    [AM_HTTP_FAMILY_HW_ERRORS] = {"antmon_miner_hardware_errors_total", "counter",
                                  "Hardware errors since the miner started"},
    [AM_HTTP_FAMILY_UPTIME] = {"antmon_miner_uptime_seconds", "gauge",
                               "Time since the mining software started"},
    [AM_HTTP_FAMILY_MINING] = {"antmon_miner_mining", "gauge",
                               "1 for what the miner says it is doing: hashing, paused, sleeping "
                               "or starting"},
    [AM_HTTP_FAMILY_ERRORS] = {"antmon_miner_errors", "gauge",
                               "Errors the firmware reports now, by severity"},
    [AM_HTTP_FAMILY_POWER_LIMIT] = {"antmon_miner_power_limit_watts", "gauge",
                                    "The power target the firmware works to, in watts"},
    [AM_HTTP_FAMILY_WATER_TEMPERATURE] = {"antmon_miner_water_temperature_celsius", "gauge",
                                          "Coolant temperature of a hydro model"},
    [AM_HTTP_FAMILY_PSU_POWER] = {"antmon_miner_psu_power_watts", "gauge",
                                  "The power supply's own reading, in watts"},
    [AM_HTTP_FAMILY_PSU_FAN] = {"antmon_miner_psu_fan_rpm", "gauge",
                                "The power supply's fan, in RPM"},
    [AM_HTTP_FAMILY_BEST_SHARE] = {"antmon_miner_best_share_difficulty", "gauge",
                                   "Best share difficulty since start"},
    [AM_HTTP_FAMILY_FOUND_BLOCKS] = {"antmon_miner_found_blocks_total", "counter",
                                     "Blocks the miner has found"},
    [AM_HTTP_FAMILY_SAMPLE_PARTIAL] = {"antmon_miner_sample_partial", "gauge",
                                       "1 when some replies of the last poll could not be read"},
};

const AmHttpFamilyInfo *
am_http_miner_family(AmHttpMinerFamily family)
{
  return &families[family];
}

struct _AmHttpMinerBlock {
  gsize end[AM_HTTP_N_FAMILIES]; /* where each family's lines end in text */
  char text[];
};

/* Lines gathered per family while a miner is written, then packed into
 * one block. */
typedef struct {
  GString *lines[AM_HTTP_N_FAMILIES];
  GString *miner; /* miner="escaped address" */
} Writer;

static GString *
family_lines(Writer *w, AmHttpMinerFamily f)
{
  if (w->lines[f] == NULL)
    w->lines[f] = g_string_sized_new(256);
  return w->lines[f];
}

/* Integers (most readings: chips, RPM, hashes per second, counters) without
 * printf; other values in a short form that reads back the same. */
static void
append_value(GString *out, double value)
{
  if (value == floor(value) && fabs(value) < 1e15) {
    char digits[24];
    char *p = digits + sizeof digits;
    gint64 n = (gint64)fabs(value);
    do {
      *--p = (char)('0' + n % 10);
      n /= 10;
    } while (n > 0);
    if (value < 0)
      *--p = '-';
    g_string_append_len(out, p, digits + sizeof digits - p);
    return;
  }
  /* 15 digits when they read back as the same double (3254.888, not
   * 3254.8880000000004), else the 17 that always do. */
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%.15g", value);
  if (g_ascii_strtod(buf, NULL) != value)
    g_ascii_dtostr(buf, sizeof buf, value);
  g_string_append(out, buf);
}

static void
append_label(GString *out, const char *name, const char *value)
{
  g_string_append_c(out, ',');
  g_string_append(out, name);
  g_string_append(out, "=\"");
  am_http_metrics_escape_label(out, value);
  g_string_append_c(out, '"');
}

/* name{miner="..."[,n1="v1"][,n2="v2"]} value. Unknown values (NAN) are
 * left out, not written as 0. */
static void
line2(Writer *w, AmHttpMinerFamily f, const char *n1, const char *v1, const char *n2,
      const char *v2, double value)
{
  if (!isfinite(value))
    return;
  GString *out = family_lines(w, f);
  g_string_append(out, families[f].name);
  g_string_append_c(out, '{');
  g_string_append_len(out, w->miner->str, w->miner->len);
  if (n1 != NULL)
    append_label(out, n1, v1);
  if (n2 != NULL)
    append_label(out, n2, v2);
  g_string_append(out, "} ");
  append_value(out, value);
  g_string_append_c(out, '\n');
}

static void
line1(Writer *w, AmHttpMinerFamily f, const char *n1, const char *v1, double value)
{
  line2(w, f, n1, v1, NULL, NULL, value);
}

static void
line0(Writer *w, AmHttpMinerFamily f, double value)
{
  line2(w, f, NULL, NULL, NULL, NULL, value);
}

static double
count_or_nan(gint64 value)
{
  return value >= 0 ? (double)value : NAN;
}

/* ---- the sample's readings ------------------------------------------------------------ */

#define HS_PER_THS 1e12

static void
add_hashrate(Writer *w, const AmSample *s)
{
  const char *algo = s->algorithm != NULL ? s->algorithm : "sha256d";
  line1(w, AM_HTTP_FAMILY_HASHRATE, "algorithm", algo, s->hashrate_ths * HS_PER_THS);
  line1(w, AM_HTTP_FAMILY_HASHRATE_IDEAL, "algorithm", algo, s->hashrate_ideal_ths * HS_PER_THS);
}

static void
add_power(Writer *w, const AmSample *s)
{
  const char *source = s->power_source == AM_POWER_SOURCE_REPORTED    ? "reported"
                       : s->power_source == AM_POWER_SOURCE_ESTIMATED ? "estimated"
                                                                      : "unknown";
  line1(w, AM_HTTP_FAMILY_POWER, "source", source, s->power_w);
}

static gboolean
chains_have_temps(const AmSample *s)
{
  for (guint i = 0; s->chains != NULL && i < s->chains->len; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    if (isfinite(c->temp_board_c) || isfinite(c->temp_chip_c))
      return TRUE;
  }
  return FALSE;
}

static void
add_list_temps(Writer *w, GArray *temps, const char *sensor)
{
  for (guint i = 0; temps != NULL && i < temps->len; i++) {
    char board[16];
    g_snprintf(board, sizeof board, "%u", i);
    line2(w, AM_HTTP_FAMILY_TEMPERATURE, "board", board, "sensor", sensor,
          g_array_index(temps, double, i));
  }
}

/* Per chain where the firmware says which board is which; otherwise the
 * sample's plain lists, numbered in order. */
static void
add_temperatures(Writer *w, const AmSample *s)
{
  if (!chains_have_temps(s)) {
    add_list_temps(w, s->temps_c, "board");
    add_list_temps(w, s->chip_temps_c, "chip");
    return;
  }
  g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; i < s->chains->len; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    /* A firmware that repeats a slot number must not produce duplicate series. */
    if (!g_hash_table_add(seen, GINT_TO_POINTER(c->index + 1)))
      continue;
    char board[16];
    g_snprintf(board, sizeof board, "%d", c->index);
    const struct {
      const char *sensor;
      double value;
    } sensors[] = {{"board", c->temp_board_c},
                   {"chip", c->temp_chip_c},
                   {"inlet", c->temp_inlet_c},
                   {"outlet", c->temp_outlet_c}};
    for (guint j = 0; j < G_N_ELEMENTS(sensors); j++)
      line2(w, AM_HTTP_FAMILY_TEMPERATURE, "board", board, "sensor", sensors[j].sensor,
            sensors[j].value);
  }
}

static void
add_fans(Writer *w, const AmSample *s)
{
  for (guint i = 0; s->fans_rpm != NULL && i < s->fans_rpm->len; i++) {
    char fan[16];
    g_snprintf(fan, sizeof fan, "%u", i);
    line1(w, AM_HTTP_FAMILY_FAN, "fan", fan, g_array_index(s->fans_rpm, double, i));
  }
}

static void
add_chain_chips(Writer *w, const char *chain, const AmChain *c)
{
  double failed = count_or_nan(c->chips_failed);
  double ok = count_or_nan(c->chips_ok);
  if (isnan(ok) && c->chips >= 0)
    ok = c->chips - (isnan(failed) ? 0 : failed);
  double missing =
      c->chips >= 0 && c->chips_expected >= 0 ? (double)MAX(c->chips_expected - c->chips, 0) : NAN;
  line2(w, AM_HTTP_FAMILY_CHAIN_CHIPS, "chain", chain, "state", "ok", ok);
  line2(w, AM_HTTP_FAMILY_CHAIN_CHIPS, "chain", chain, "state", "failed", failed);
  line2(w, AM_HTTP_FAMILY_CHAIN_CHIPS, "chain", chain, "state", "missing", missing);
}

static void
add_chains(Writer *w, const AmSample *s)
{
  g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; s->chains != NULL && i < s->chains->len; i++) {
    const AmChain *c = &g_array_index(s->chains, AmChain, i);
    if (!g_hash_table_add(seen, GINT_TO_POINTER(c->index + 1)))
      continue;
    char chain[16];
    g_snprintf(chain, sizeof chain, "%d", c->index);
    add_chain_chips(w, chain, c);
    line1(w, AM_HTTP_FAMILY_CHAIN_HASHRATE, "chain", chain, c->hashrate_ths * HS_PER_THS);
    line1(w, AM_HTTP_FAMILY_CHAIN_VOLTAGE, "chain", chain, c->voltage_v);
    line1(w, AM_HTTP_FAMILY_CHAIN_FREQUENCY, "chain", chain, c->frequency_mhz * 1e6);
  }
}

static gint64
pools_stale(const AmSample *s)
{
  gint64 total = AM_UNKNOWN;
  for (guint i = 0; s->pools != NULL && i < s->pools->len; i++) {
    const AmPool *p = s->pools->pdata[i];
    if (p->stale >= 0)
      total = MAX(total, 0) + p->stale;
  }
  return total;
}

static void
add_counters(Writer *w, const AmSample *s)
{
  line1(w, AM_HTTP_FAMILY_SHARES, "result", "accepted", count_or_nan(s->accepted));
  line1(w, AM_HTTP_FAMILY_SHARES, "result", "rejected", count_or_nan(s->rejected));
  line1(w, AM_HTTP_FAMILY_SHARES, "result", "stale", count_or_nan(pools_stale(s)));
  line0(w, AM_HTTP_FAMILY_HW_ERRORS, count_or_nan(s->hw_errors));
  line0(w, AM_HTTP_FAMILY_UPTIME, count_or_nan(s->elapsed_s));
}

/* One series per state, 1 for the current one (the enum convention), when
 * the firmware says what it is doing. */
static void
add_mining(Writer *w, const AmSample *s)
{
  static const AmMiningState states[] = {AM_MINING_HASHING, AM_MINING_PAUSED, AM_MINING_SLEEPING,
                                         AM_MINING_STARTING};
  for (guint i = 0; s->mining != AM_MINING_UNKNOWN && i < G_N_ELEMENTS(states); i++)
    line1(w, AM_HTTP_FAMILY_MINING, "state", am_mining_state_name(states[i]),
          s->mining == states[i] ? 1 : 0);
}

static void
add_errors(Writer *w, const AmSample *s)
{
  static const AmErrorSeverity severities[] = {AM_ERROR_SEVERITY_ERROR, AM_ERROR_SEVERITY_WARNING,
                                               AM_ERROR_SEVERITY_INFO};
  for (guint i = 0; i < G_N_ELEMENTS(severities); i++) {
    guint n = 0;
    for (guint j = 0; s->errors != NULL && j < s->errors->len; j++)
      n += ((const AmMinerError *)s->errors->pdata[j])->severity == severities[i];
    line1(w, AM_HTTP_FAMILY_ERRORS, "severity", am_error_severity_name(severities[i]), n);
  }
}

/* The readings of ABI 1.2: power target, PSU, coolant, luck. */
static void
add_extended(Writer *w, const AmSample *s)
{
  add_mining(w, s);
  add_errors(w, s);
  line0(w, AM_HTTP_FAMILY_POWER_LIMIT, s->power_limit_w);
  line1(w, AM_HTTP_FAMILY_WATER_TEMPERATURE, "side", "in", s->water_temp_in_c);
  line1(w, AM_HTTP_FAMILY_WATER_TEMPERATURE, "side", "out", s->water_temp_out_c);
  line1(w, AM_HTTP_FAMILY_PSU_POWER, "direction", "in", s->psu_power_in_w);
  line1(w, AM_HTTP_FAMILY_PSU_POWER, "direction", "out", s->psu_power_out_w);
  line0(w, AM_HTTP_FAMILY_PSU_FAN, s->psu_fan_rpm);
  line0(w, AM_HTTP_FAMILY_BEST_SHARE, s->best_share);
  line0(w, AM_HTTP_FAMILY_FOUND_BLOCKS, count_or_nan(s->found_blocks));
  line0(w, AM_HTTP_FAMILY_SAMPLE_PARTIAL, s->partial ? 1 : 0);
}

static void
add_sample(Writer *w, const AmSample *s)
{
  add_hashrate(w, s);
  add_power(w, s);
  add_temperatures(w, s);
  add_fans(w, s);
  add_chains(w, s);
  add_counters(w, s);
  add_extended(w, s);
}

/* ---- the miner ------------------------------------------------------------------------ */

static void
add_info(Writer *w, const AmHttpMiner *miner)
{
  const AmSample *s = miner->sample;
  GString *out = family_lines(w, AM_HTTP_FAMILY_INFO);
  g_string_append(out, families[AM_HTTP_FAMILY_INFO].name);
  g_string_append_c(out, '{');
  g_string_append_len(out, w->miner->str, w->miner->len);
  append_label(out, "name", miner->name);
  append_label(out, "model", s != NULL ? s->model : NULL);
  append_label(out, "firmware", s != NULL ? s->firmware : NULL);
  append_label(out, "driver", miner->driver);
  g_string_append(out, "} 1\n");
}

static AmHttpMinerBlock *
pack(Writer *w)
{
  gsize total = 0;
  for (guint f = 0; f < AM_HTTP_N_FAMILIES; f++)
    total += w->lines[f] != NULL ? w->lines[f]->len : 0;
  AmHttpMinerBlock *b = g_atomic_rc_box_alloc(sizeof(AmHttpMinerBlock) + total + 1);
  gsize at = 0;
  for (guint f = 0; f < AM_HTTP_N_FAMILIES; f++) {
    if (w->lines[f] != NULL) {
      memcpy(b->text + at, w->lines[f]->str, w->lines[f]->len);
      at += w->lines[f]->len;
      g_string_free(w->lines[f], TRUE);
    }
    b->end[f] = at;
  }
  b->text[at] = '\0';
  return b;
}

AmHttpMinerBlock *
am_http_miner_block_new(const AmHttpMiner *miner)
{
  Writer w = {.miner = g_string_new("miner=\"")};
  am_http_metrics_escape_label(w.miner, miner->address);
  g_string_append_c(w.miner, '"');
  /* A paused miner answers its polls: up, with its (idle) readings. */
  gboolean up = miner->state == AM_HTTP_STATE_ONLINE || miner->state == AM_HTTP_STATE_DEGRADED ||
                miner->state == AM_HTTP_STATE_PAUSED;
  add_info(&w, miner);
  line1(&w, AM_HTTP_FAMILY_STATE, "state", am_http_state_to_string(miner->state), 1);
  line0(&w, AM_HTTP_FAMILY_UP, up ? 1 : 0);
  line0(&w, AM_HTTP_FAMILY_POLL_FAILURES, miner->failures);
  if (miner->last_seen_us > 0)
    line0(&w, AM_HTTP_FAMILY_LAST_SEEN, (double)(miner->last_seen_us / G_USEC_PER_SEC));
  if (up && miner->sample != NULL)
    add_sample(&w, miner->sample);
  g_string_free(w.miner, TRUE);
  return pack(&w);
}

AmHttpMinerBlock *
am_http_miner_block_ref(AmHttpMinerBlock *block)
{
  return g_atomic_rc_box_acquire(block);
}

void
am_http_miner_block_unref(AmHttpMinerBlock *block)
{
  if (block != NULL)
    g_atomic_rc_box_release(block);
}

const char *
am_http_miner_block_family(const AmHttpMinerBlock *b, AmHttpMinerFamily family, gsize *len)
{
  gsize start = family > 0 ? b->end[family - 1] : 0;
  *len = b->end[family] - start;
  return b->text + start;
}

gsize
am_http_miner_block_size(const AmHttpMinerBlock *b)
{
  return b->end[AM_HTTP_N_FAMILIES - 1];
}
