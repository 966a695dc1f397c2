/* LuxOS replies -> AmSample. Pure: see am-luxos-parse.h.
 *
 * Only LuxOS's version, atm and groups replies were found, and they are
 * upstream test data with placeholder values (tests/fixtures/luxminer/,
 * "Type":"A model"). What is read beyond them follows the cgminer API and
 * the key names other tools read from LuxOS (summary "GHS 5s", an
 * Antminer-style STATS block with chain_rateN/chain_acnN, "fans" FANS[].RPM,
 * "power" POWER[0].Watts, "config" CONFIG[0].MACAddr) and is unverified
 * against a real reply; see README.md. */
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
 * no rate) is no board. */
static void
read_chains(AmSample *s, JsonObject *block)
{
  const char *unit = am_json_string(block, "rate_unit");
  if (unit == NULL)
    unit = "GH"; /* cgminer's STATS default on SHA-256 Antminers */
  for (guint slot = 0; slot <= MAX_CHAIN_SLOT; slot++) {
    double chips = slot_double(block, "chain_acn", slot);
    double rate = slot_double(block, "chain_rate", slot);
    if ((isnan(chips) || chips <= 0) && isnan(rate))
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
  double watts = am_json_double(am_cgminer_section(reply, "POWER"), "Watts");
  if (isfinite(watts) && watts > 0) {
    s->power_w = watts;
    s->power_source = AM_POWER_SOURCE_REPORTED;
  }
}

static void
read_config(AmSample *s, JsonObject *reply)
{
  g_autofree char *mac =
      am_cgminer_format_mac(am_json_string(am_cgminer_section(reply, "CONFIG"), "MACAddr"));
  if (mac != NULL)
    am_sample_set(s, &s->mac, mac);
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
  am_cgminer_read_pools(s, replies->pools);
  return g_steal_pointer(&s);
}
