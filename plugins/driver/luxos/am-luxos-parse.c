/* LuxOS replies -> AmSample. Pure: see am-luxos-parse.h.
 *
 * Verified on the recorded replies of a LuxOS 2025.4.8 Antminer S19k Pro
 * (tests/fixtures/luxminer/asicrs-v1_*, asic-rs): summary "GHS 5s", an
 * Antminer-style STATS block (chain_rateN/acnN/acsN/hwN, freqN, tempN,
 * temp2_N), "fans" FANS[].RPM, "power" POWER[0].Watts, "config" (MACAddr,
 * SerialNumber, Hostname, Profile, CurtailMode), "devs" (board serials),
 * "temps" (intake/exhaust), "profiles", "events" and "voltageget".
 * Boards: DEVS ASC n, TEMPS ID n and voltageget n are STATS slot n+1 (the
 * recorded DEVS "MHS av" and TEMPS readings equal chain_rate/temp_chip of
 * that slot). */
#include "am-luxos-parse.h"

#include "../common/am-cgminer-common.h"

#include <math.h>
#include <string.h>

#define DRIVER_NAME "luxos"
#define FIRMWARE_KEY "LUXminer"
/* Antminer chain slots run from 1 (S19) or 6 (S9) up to at most 16. */
#define MAX_CHAIN_SLOT 16

AmMatch
am_luxos_match(const AmFingerprint *fp)
{
  if (fp == NULL)
    return AM_MATCH_UNSUPPORTED;
  if (am_json_string(fp->version, FIRMWARE_KEY) != NULL)
    return AM_MATCH_SUPPORTED;
  const char *d = fp->description;
  if (d != NULL && g_str_has_prefix(d, FIRMWARE_KEY) &&
      (d[strlen(FIRMWARE_KEY)] == '\0' || d[strlen(FIRMWARE_KEY)] == ' '))
    return AM_MATCH_SUPPORTED;
  return AM_MATCH_UNSUPPORTED;
}

static void
read_identity(AmSample *s, JsonObject *reply)
{
  JsonObject *version = am_cgminer_section(reply, "VERSION");
  am_sample_set(s, &s->firmware, FIRMWARE_KEY);
  am_sample_set(s, &s->firmware_version, am_json_string(version, FIRMWARE_KEY));
  /* Passed on as the firmware gives it (first line, trimmed); an empty Type
   * is unknown. The recorded reply's "A model" is upstream's placeholder. */
  g_autofree char *model = am_cgminer_clean_model(am_json_string(version, "Type"));
  am_sample_set(s, &s->model, model);
}

/* ---- stats ------------------------------------------------------------- */

static double
slot_double(JsonObject *block, const char *prefix, guint slot)
{
  g_autofree char *key = g_strdup_printf("%s%u", prefix, slot);
  return am_json_double(block, key);
}

static gint
count_char(const char *text, char c)
{
  gint n = 0;
  for (const char *p = text; p != NULL && *p != '\0'; p++)
    n += *p == c;
  return n;
}

/* One chain per slot that reports chips or a rate; an empty slot (0 chips,
 * no rate or rate "0": the S19k Pro's slot 4) is no board. */
static void
read_chains(AmSample *s, JsonObject *block)
{
  const char *unit = am_json_string(block, "rate_unit");
  if (unit == NULL)
    unit = "GH"; /* cgminer's STATS default on SHA-256 Antminers */
  for (guint slot = 0; slot <= MAX_CHAIN_SLOT; slot++) {
    double chips = slot_double(block, "chain_acn", slot);
    double rate = slot_double(block, "chain_rate", slot);
    if ((isnan(chips) || chips <= 0) && !(rate > 0))
      continue;
    AmChain *c = am_cgminer_chain(s, (gint)slot);
    c->hashrate_ths = am_hashrate_to_ths(rate, unit);
    c->chips = isnan(chips) ? AM_UNKNOWN : (gint)MIN(chips, G_MAXINT);
    double hw = slot_double(block, "chain_hw", slot);
    c->hw_errors = isnan(hw) ? AM_UNKNOWN : (gint64)hw;
    g_autofree char *acs_key = g_strdup_printf("chain_acs%u", slot);
    const char *acs = am_json_string(block, acs_key);
    if (acs != NULL) {
      c->chips_ok = count_char(acs, 'o');
      c->chips_failed = count_char(acs, 'x');
    }
    double board = slot_double(block, "temp", slot);
    double chip = slot_double(block, "temp2_", slot);
    c->temp_board_c = am_temp_is_valid(board) ? board : NAN;
    c->temp_chip_c = am_temp_is_valid(chip) ? chip : NAN;
    double freq = slot_double(block, "freq", slot);
    c->frequency_mhz = freq > 0 ? freq : NAN;
  }
}

static void
read_stats(AmSample *s, JsonObject *reply, gboolean have_fans)
{
  JsonObject *block = am_cgminer_stats_block(reply);
  if (block == NULL)
    return;
  read_chains(s, block);
  am_cgminer_read_stats_temps(s, block);
  /* The fans command is the better source; STATS fanN only stands in. */
  if (!have_fans)
    am_cgminer_read_stats_fans(s, block);
  if (s->elapsed_s < 0)
    s->elapsed_s = am_json_int(block, "Elapsed", AM_UNKNOWN);
  double ideal = am_json_double(block, "total_rateideal");
  const char *unit = am_json_string(block, "rate_unit");
  s->hashrate_ideal_ths = am_hashrate_to_ths(ideal, unit != NULL ? unit : "GH");
}

/* ---- fans, power, config, atm ------------------------------------------ */

static void
read_power(AmSample *s, JsonObject *reply)
{
  JsonObject *power = am_cgminer_section(reply, "POWER");
  double watts = am_json_double(power, "Watts");
  /* "PSU": false on the recorded S19k Pro (no PMBus supply): LuxOS's own
   * figure then, kept as reported, the flag passed on. */
  gboolean psu;
  if (am_cgminer_get_bool(power, "PSU", &psu))
    am_sample_set_extra(s, "power_from_psu", json_node_init_boolean(json_node_alloc(), psu));
  if (isfinite(watts) && watts > 0) {
    s->power_w = watts;
    s->power_source = AM_POWER_SOURCE_REPORTED;
  }
}

/* The chain of LuxOS board @board (0-based), or NULL when STATS had none. */
static AmChain *
board_chain(AmSample *s, gint64 board, guint *pos)
{
  for (guint i = 0; board >= 0 && i < s->chains->len; i++) {
    AmChain *c = &g_array_index(s->chains, AmChain, i);
    if (c->index == board + 1) {
      if (pos != NULL)
        *pos = i;
      return c;
    }
  }
  return NULL;
}

static void
read_devs(AmSample *s, JsonObject *reply)
{
  JsonArray *devs = am_json_array(reply, "DEVS");
  guint n = devs != NULL ? MIN(json_array_get_length(devs), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *d = am_json_array_object(devs, i);
    guint pos;
    const char *serial = am_json_string(d, "SerialNumber");
    if (board_chain(s, am_json_int(d, "ASC", -1), &pos) != NULL && serial != NULL && *serial)
      am_sample_set_chain_serial(s, pos, serial);
  }
}

/* The hotter of two sensors, each valid or NAN. */
static double
hotter(JsonObject *o, const char *a, const char *b)
{
  double x = am_json_double(o, a), y = am_json_double(o, b);
  x = am_temp_is_valid(x) ? x : NAN;
  y = am_temp_is_valid(y) ? y : NAN;
  return isnan(x) ? y : isnan(y) ? x : MAX(x, y);
}

/* TEMPS[]: the METADATA labels the right-hand sensors "Board Intake" and
 * the left-hand ones "Board Exhaust", top and bottom. */
static void
read_temps(AmSample *s, JsonObject *reply)
{
  JsonArray *temps = am_json_array(reply, "TEMPS");
  guint n = temps != NULL ? MIN(json_array_get_length(temps), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *t = am_json_array_object(temps, i);
    AmChain *c = board_chain(s, am_json_int(t, "ID", -1), NULL);
    if (c == NULL)
      continue;
    c->temp_inlet_c = hotter(t, "TopRight", "BottomRight");
    c->temp_outlet_c = hotter(t, "TopLeft", "BottomLeft");
  }
}

static void
read_voltages(AmSample *s, JsonObject *const *replies)
{
  for (guint i = 0; i < AM_LUXOS_MAX_BOARDS; i++) {
    JsonObject *v = am_cgminer_section(replies[i], "VOLTAGE");
    AmChain *c = board_chain(s, am_json_int(v, "Board", -1), NULL);
    double volts = am_json_double(v, "Voltage");
    if (c != NULL && volts > 0)
      c->voltage_v = volts;
  }
}

/* The red LED (config RedLed) is the locate light: "blink" or "on" when
 * asked for (ledset), "auto" when the firmware drives it (faults). */
static void
read_locate(AmSample *s, JsonObject *config)
{
  const char *red = am_json_string(config, "RedLed");
  if (red == NULL)
    return;
  if (g_ascii_strcasecmp(red, "blink") == 0 || g_ascii_strcasecmp(red, "on") == 0)
    s->locate = TRUE;
  else if (g_ascii_strcasecmp(red, "auto") == 0 || g_ascii_strcasecmp(red, "off") == 0)
    s->locate = FALSE;
}

/* CONFIG[0]: identity, the active profile, the curtail state, the LED. */
static void
read_config(AmSample *s, JsonObject *reply)
{
  JsonObject *config = am_cgminer_section(reply, "CONFIG");
  g_autofree char *mac = am_cgminer_format_mac(am_json_string(config, "MACAddr"));
  if (mac != NULL)
    am_sample_set(s, &s->mac, mac);
  const char *serial = am_json_string(config, "SerialNumber");
  if (serial != NULL && *serial != '\0')
    am_sample_set(s, &s->serial, serial);
  const char *hostname = am_json_string(config, "Hostname");
  if (hostname != NULL && *hostname != '\0')
    am_sample_set(s, &s->hostname, hostname);
  if (s->model == NULL) {
    g_autofree char *model = am_cgminer_clean_model(am_json_string(config, "Model"));
    am_sample_set(s, &s->model, model);
  }
  /* The tuning profile is LuxOS's work mode; its "default" is what the
   * other firmwares call normal (and what a work_mode normal action sets). */
  const char *profile = am_json_string(config, "Profile");
  if (profile != NULL && *profile != '\0') {
    am_sample_set_extra(s, "profile", json_node_init_string(json_node_alloc(), profile));
    am_sample_set(s, &s->work_mode,
                  g_str_equal(profile, "default") ? AM_WORK_MODE_NORMAL : profile);
  }
  const char *psu = am_json_string(config, "PSULabel");
  if (psu != NULL)
    am_sample_set_extra(s, "psu_label", json_node_init_string(json_node_alloc(), psu));
  /* CurtailMode "None" while hashing; LuxOS's curtail "sleep" stops the
   * boards and keeps the control board up. */
  read_locate(s, config);
  const char *curtail = am_json_string(config, "CurtailMode");
  if (curtail != NULL) {
    am_sample_set_extra(s, "curtail_mode", json_node_init_string(json_node_alloc(), curtail));
    if (g_ascii_strcasecmp(curtail, "None") != 0)
      s->mining = AM_MINING_SLEEPING;
    else if (s->hashrate_ths > 0)
      s->mining = AM_MINING_HASHING;
  }
}

/* The active profile (config Profile) is what LuxOS tunes to: its Watts
 * is the power target. */
static void
read_profiles(AmSample *s, JsonObject *reply)
{
  JsonArray *profiles = am_json_array(reply, "PROFILES");
  guint n = profiles != NULL ? json_array_get_length(profiles) : 0;
  const char *active = s->extras != NULL && json_object_has_member(s->extras, "x_luxos_profile")
                           ? json_object_get_string_member(s->extras, "x_luxos_profile")
                           : NULL;
  for (guint i = 0; active != NULL && i < n; i++) {
    JsonObject *p = am_json_array_object(profiles, i);
    if (g_strcmp0(am_json_string(p, "Profile Name"), active) != 0)
      continue;
    double watts = am_json_double(p, "Watts");
    if (watts > 0)
      s->power_limit_w = watts;
    return;
  }
}

/* LuxOS event codes: failures and panics are errors, what a user asked for
 * (…_USER) is information, the rest (protections, board reboots) warnings. */
static AmErrorSeverity
event_severity(const char *code)
{
  if (strstr(code, "FAILURE") != NULL || strstr(code, "PANIC") != NULL)
    return AM_ERROR_SEVERITY_ERROR;
  if (g_str_has_suffix(code, "_USER"))
    return AM_ERROR_SEVERITY_INFO;
  return AM_ERROR_SEVERITY_WARNING;
}

static void
read_events(AmSample *s, JsonObject *reply)
{
  JsonArray *events = am_json_array(reply, "EVENTS");
  guint n = events != NULL ? MIN(json_array_get_length(events), 64) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *e = am_json_array_object(events, i);
    const char *code = am_json_string(e, "Code");
    if (code == NULL)
      continue;
    const char *target = am_json_string(e, "Target");
    gint64 id = am_json_int(e, "ID", -1);
    g_autofree char *component = NULL;
    /* A board event names its board; without its ID it names none ("board"
     * alone would be another component than "hashboard 0"). */
    if (target != NULL && g_ascii_strcasecmp(target, "BOARD") == 0)
      component = id >= 0 ? g_strdup_printf("hashboard %" G_GINT64_FORMAT, id) : NULL;
    else if (target != NULL)
      component = g_ascii_strdown(target, -1);
    AmMinerError *err = am_sample_add_error(s, code, am_json_string(e, "Description"), component,
                                            event_severity(code));
    const char *created = am_json_string(e, "CreatedAt");
    g_autoptr(GDateTime) when =
        created != NULL ? g_date_time_new_from_iso8601(created, NULL) : NULL;
    if (when != NULL)
      err->since_s = g_date_time_to_unix(when);
  }
}

/* Best share and found blocks since start, in LuxOS's SUMMARY. */
static void
read_summary_extras(AmSample *s, JsonObject *reply)
{
  JsonObject *summary = am_cgminer_section(reply, "SUMMARY");
  double best = am_json_double(summary, "Best Share");
  if (best >= 0)
    s->best_share = best;
  s->found_blocks = am_json_int(summary, "Found Blocks", AM_UNKNOWN);
}

static void
read_atm(AmSample *s, JsonObject *reply)
{
  gboolean enabled;
  if (am_cgminer_get_bool(am_cgminer_section(reply, "ATM"), "Enabled", &enabled))
    am_sample_set_extra(s, "atm_enabled", json_node_init_boolean(json_node_alloc(), enabled));
}

AmSample *
am_luxos_parse(const AmLuxosReplies *replies, GError **error)
{
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, DRIVER_NAME);
  /* LuxOS runs on SHA-256 Antminers only. */
  am_sample_set(s, &s->algorithm, "sha256d");

  if (!am_cgminer_require_summary(s, replies->summary, error))
    return NULL;
  read_identity(s, replies->version);
  gboolean have_fans = am_cgminer_read_fans_reply(s, replies->fans) > 0;
  read_stats(s, replies->stats, have_fans);
  read_power(s, replies->power);
  read_config(s, replies->config);
  read_atm(s, replies->atm);
  read_devs(s, replies->devs);
  read_temps(s, replies->temps);
  read_voltages(s, replies->voltages);
  read_profiles(s, replies->profiles);
  read_events(s, replies->events);
  read_summary_extras(s, replies->summary);
  am_cgminer_read_pools(s, replies->pools);
  return g_steal_pointer(&s);
}
