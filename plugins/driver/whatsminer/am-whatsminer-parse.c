/* Whatsminer replies -> AmSample. Pure: see am-whatsminer-parse.h.
 *
 * What the recorded replies show (tests/fixtures/btminer/):
 *  - SUMMARY carries what other firmware keeps in STATS: "Temperature",
 *    "Fan Speed In", "Fan Speed Out", plus "MHS 5s"/"MHS av" and the usual
 *    cgminer counters; Description is a plain "cgminer 4.9.2";
 *  - the M20S adds "Power Current" 258, "Power Fanspeed" 8160, "Uptime"
 *    (system uptime, not the miner's Elapsed) and "Liquid Cooling";
 *  - the "status" reply uses another layout: STATUS a string, Msg an object
 *    whose values are all strings ("mineroff":"false").
 *
 * Power: "Power Current" is not read as watts. An M20S hashing 65.4 TH/s
 * draws about 3.1-3.4 kW (48 J/TH class), so 258 cannot be W; it fits the
 * PSU's output current in A (258 A x ~12.5 V ~ 3.2 kW), but no document
 * confirms that, so it is kept raw as an extra and power stays unknown.
 * Newer firmware sends "Power" in W (as read by other tools; no recorded
 * reply has it): that one is taken as reported power. */
#include "am-whatsminer-parse.h"

#include "../common/am-cgminer-common.h"

#include <math.h>

#define DRIVER_NAME "whatsminer"

/* ---- match ------------------------------------------------------------- */

/* The Whatsminer API's own layout: STATUS a string, not the cgminer array. */
static gboolean
whatsminer_layout(JsonObject *reply)
{
  return am_json_string(reply, "STATUS") != NULL;
}

static gboolean
mentions(const AmFingerprint *fp, const char *word)
{
  return am_cgminer_contains_ci(fp->description, word) ||
         am_cgminer_object_mentions(fp->version, word);
}

/* Another vendor's model in the version reply rules Whatsminer out. */
static gboolean
other_vendor(const AmFingerprint *fp)
{
  const char *type = am_json_string(fp->version, "Type");
  return am_cgminer_contains_ci(type, "antminer") || mentions(fp, "avalon");
}

AmMatch
am_whatsminer_match(const AmFingerprint *fp)
{
  if (fp == NULL)
    return AM_MATCH_UNSUPPORTED;
  if (whatsminer_layout(fp->version_reply) || mentions(fp, "btminer") || mentions(fp, "bitmicro"))
    return AM_MATCH_SUPPORTED;
  if (other_vendor(fp))
    return AM_MATCH_UNSUPPORTED;
  /* A model or description naming Whatsminer: probe early, but the version
   * reply alone has not shown the btminer API. */
  if (mentions(fp, "whatsminer"))
    return AM_MATCH_LIKELY;
  /* Every recorded btminer reply says only "cgminer 4.9.2": worth a probe
   * before the generic driver, not a claim. */
  if (g_strcmp0(fp->description, "cgminer 4.9.2") == 0 ||
      g_strcmp0(am_json_string(fp->version, "CGMiner"), "4.9.2") == 0)
    return AM_MATCH_MAYBE;
  return AM_MATCH_UNSUPPORTED;
}

/* ---- summary ----------------------------------------------------------- */

static void
set_extra_double(AmSample *s, JsonObject *obj, const char *key, const char *extra)
{
  double value;
  if (am_json_get_double(obj, key, &value))
    am_sample_set_extra(s, extra, json_node_init_double(json_node_alloc(), value));
}

static void
set_extra_string(AmSample *s, JsonObject *obj, const char *key, const char *extra)
{
  const char *value = am_json_string(obj, key);
  if (value != NULL)
    am_sample_set_extra(s, extra, json_node_init_string(json_node_alloc(), value));
}

/* Fans: the two summary keys are the unit's intake and exhaust fans. */
static void
read_fans(AmSample *s, JsonObject *summary)
{
  static const char *const keys[] = {"Fan Speed In", "Fan Speed Out"};
  gint slots = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
    double rpm;
    if (!am_json_get_double(summary, keys[i], &rpm))
      continue;
    slots++;
    am_sample_add_fan(s, rpm);
  }
  gboolean liquid = FALSE;
  if (am_cgminer_get_bool(summary, "Liquid Cooling", &liquid))
    s->liquid_cooled = liquid;
  /* An air-cooled unit that reports a fan slot at 0 RPM has a stopped fan;
   * a liquid-cooled one has none to expect. */
  if (s->liquid_cooled)
    s->fans_expected = 0;
  else if (slots > 0)
    s->fans_expected = slots;
}

static void
read_power(AmSample *s, JsonObject *summary)
{
  double watts;
  if (am_json_get_double(summary, "Power", &watts) && watts > 0) {
    s->power_w = watts;
    s->power_source = AM_POWER_SOURCE_REPORTED;
  }
  /* Unit unverified (see the top of this file): kept as the firmware says. */
  set_extra_double(s, summary, "Power Current", "power_current");
  set_extra_double(s, summary, "Power Fanspeed", "psu_fan_rpm");
}

static void
read_summary_extras(AmSample *s, JsonObject *summary)
{
  /* The summary's one Temperature stands for the unit only when no board
   * reported its own (devs), so it is never averaged with them. */
  double temperature = am_json_double(summary, "Temperature");
  if (s->temps_c->len == 0)
    am_sample_add_temp(s, temperature);
  set_extra_double(s, summary, "Temperature", "temperature_c");
  set_extra_double(s, summary, "Uptime", "uptime_s");
  set_extra_double(s, summary, "Voltage", "voltage");
  set_extra_double(s, summary, "freq_avg", "freq_avg_mhz");
  set_extra_string(s, summary, "Chip Data", "chip_data");

  double errors;
  if (am_json_get_double(summary, "Error Code Count", &errors)) {
    am_sample_set_extra(s, "error_code_count",
                        json_node_init_int(json_node_alloc(), (gint64)errors));
    if (errors > 0)
      am_sample_add_problem(s, "the miner reports %.0f error code(s)", errors);
  }
}

/* ---- status (Whatsminer layout) ---------------------------------------- */

static void
read_status(AmSample *s, JsonObject *reply)
{
  JsonObject *msg = am_json_object(reply, "Msg");
  if (msg == NULL)
    return;
  const char *firmware = am_json_string(msg, "FirmwareVersion");
  if (firmware != NULL)
    am_sample_set(s, &s->firmware_version, firmware);

  gboolean off = FALSE;
  if (am_cgminer_get_bool(msg, "mineroff", &off)) {
    am_sample_set_extra(s, "mineroff", json_node_init_boolean(json_node_alloc(), off));
    if (off)
      am_sample_add_problem(s, "mining is switched off (mineroff)");
  }
  set_extra_string(s, msg, "power_mode", "power_mode");
  set_extra_double(s, msg, "hash_percent", "hash_percent");
  set_extra_string(s, reply, "Description", "api");
}

/* The version reply in the Whatsminer layout names firmware and API
 * versions in Msg; in the cgminer layout it adds nothing btminer-specific. */
static void
read_version(AmSample *s, JsonObject *reply)
{
  JsonObject *msg = am_json_object(reply, "Msg");
  const char *fw = am_json_string(msg, "fw_ver");
  if (fw != NULL && s->firmware_version == NULL)
    am_sample_set(s, &s->firmware_version, fw);
  set_extra_string(s, msg, "api_ver", "api_version");
}

static void
read_model(AmSample *s, JsonObject *devdetails)
{
  g_autofree char *model =
      am_cgminer_clean_model(am_json_string(am_cgminer_section(devdetails, "DEVDETAILS"), "Model"));
  am_sample_set(s, &s->model, model);
}

AmSample *
am_whatsminer_parse(const AmWhatsminerReplies *replies, GError **error)
{
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, DRIVER_NAME);
  am_sample_set(s, &s->firmware, "btminer");
  /* Whatsminers are SHA-256 machines. */
  am_sample_set(s, &s->algorithm, "sha256d");

  if (!am_cgminer_require_summary(s, replies->summary, error))
    return NULL;
  JsonObject *summary = am_cgminer_section(replies->summary, "SUMMARY");
  am_cgminer_read_devs(s, replies->devs);
  read_fans(s, summary);
  read_power(s, summary);
  read_summary_extras(s, summary);
  read_status(s, replies->status);
  read_version(s, replies->version);
  read_model(s, replies->devdetails);
  am_cgminer_read_pools(s, replies->pools);
  return g_steal_pointer(&s);
}
