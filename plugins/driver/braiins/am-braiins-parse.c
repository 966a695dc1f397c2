/* Braiins OS replies -> AmSample. Pure: see am-braiins-parse.h.
 *
 * What the recorded replies show (tests/fixtures/bosminer/):
 *  - hashrate only in "MHS *" keys, as full-precision floats;
 *  - TEMPS[] with Board and Chip per hashboard, ID = the S9 slot (6..8);
 *    Chip 0.0 means "no chip sensor" and is dropped like any 0 reading;
 *  - FANS[] with RPM and Speed (%); RPM 0 is an unused fan header;
 *  - POOLS with the cgminer keys plus AsicBoost and an epoch Last Share Time;
 *  - no model anywhere in the 0.2.0 version reply: it stays unknown. */
#include "am-braiins-parse.h"

#include "../common/am-cgminer-common.h"

#include <string.h>

#define DRIVER_NAME "braiins"

/* The version keys (and Description program names) Braiins firmware uses. */
static const char *const firmware_names[] = {"BOSminer+", "BOSminer", "BOSer"};
/* What the web UI says in its page (asic-rs identifies BOS by it too). */
#define WEB_PRODUCT "Braiins OS"

/* Returns the known firmware name that @description starts with as a whole
 * word, else NULL. (transfer none) */
static const char *
description_firmware(const char *description)
{
  for (gsize i = 0; description != NULL && i < G_N_ELEMENTS(firmware_names); i++) {
    gsize len = strlen(firmware_names[i]);
    if (strncmp(description, firmware_names[i], len) == 0 &&
        (description[len] == ' ' || description[len] == '\0'))
      return firmware_names[i];
  }
  return NULL;
}

/* Returns the firmware version key present in @version, else NULL. */
static const char *
version_firmware(JsonObject *version)
{
  for (gsize i = 0; version != NULL && i < G_N_ELEMENTS(firmware_names); i++)
    if (am_json_string(version, firmware_names[i]) != NULL)
      return firmware_names[i];
  return NULL;
}

AmMatch
am_braiins_match(const AmFingerprint *fp)
{
  if (fp == NULL)
    return AM_MATCH_UNSUPPORTED;
  if (version_firmware(fp->version) != NULL || description_firmware(fp->description) != NULL)
    return AM_MATCH_SUPPORTED;
  /* The web UI of every BOS generation (LuCI up to 22.x, the app since)
   * names the product; a miner whose RPC port is closed is found so. The
   * 1.2 fingerprint's body is read when the core fills it. */
  if (fp->struct_size >= G_STRUCT_OFFSET(AmFingerprint, http_server) &&
      am_cgminer_contains_ci(fp->http_body, WEB_PRODUCT))
    return AM_MATCH_SUPPORTED;
  if (am_cgminer_contains_ci(fp->http_title, WEB_PRODUCT))
    return AM_MATCH_SUPPORTED;
  return AM_MATCH_UNSUPPORTED;
}

/* Firmware name and version: from the version reply's own key, else from
 * the Description any other reply carries ("BOSminer+ 0.2.0-36c56a9363"). */
static void
read_identity(AmSample *s, const AmBraiinsReplies *r)
{
  JsonObject *version = am_cgminer_section(r->version, "VERSION");
  const char *name = version_firmware(version);
  if (name != NULL) {
    am_sample_set(s, &s->firmware, name);
    am_sample_set(s, &s->firmware_version, am_json_string(version, name));
  } else {
    JsonObject *replies[] = {r->version, r->summary, r->pools, r->temps, r->fans, r->devs};
    for (gsize i = 0; i < G_N_ELEMENTS(replies) && s->firmware == NULL; i++) {
      const char *description = am_cgminer_description(replies[i]);
      name = description_firmware(description);
      if (name == NULL)
        continue;
      g_autofree char *rest = g_strstrip(g_strdup(description + strlen(name)));
      am_sample_set(s, &s->firmware, name);
      am_sample_set(s, &s->firmware_version, *rest != '\0' ? rest : NULL);
    }
  }
  /* 0.2.0 has no model key at all; a later one may carry Type. Never guess. */
  g_autofree char *model = am_cgminer_clean_model(am_json_string(version, "Type"));
  am_sample_set(s, &s->model, model);
}

/* TEMPS[]: one hashboard each, ID being its slot. */
static void
read_temps(AmSample *s, JsonObject *reply)
{
  JsonArray *temps = am_json_array(reply, "TEMPS");
  guint n = temps != NULL ? MIN(json_array_get_length(temps), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *t = am_json_array_object(temps, i);
    if (t == NULL)
      continue;
    double board = am_json_double(t, "Board");
    double chip = am_json_double(t, "Chip");
    gboolean board_ok = am_sample_add_temp(s, board);
    gboolean chip_ok = am_sample_add_chip_temp(s, chip);
    /* Without its slot the reading belongs to the unit, not to a board:
     * its position would name the wrong one (an S9's slots are 6 to 8). */
    gint64 id = am_json_int(t, "ID", -1); /* "TEMP" counts entries: no slot */
    if (id < 0 || id > G_MAXINT)
      continue;
    AmChain *chain = am_cgminer_chain(s, (gint)id);
    if (board_ok)
      chain->temp_board_c = board;
    if (chip_ok)
      chain->temp_chip_c = chip;
  }
}

/* FANS[]: RPM per header (0 = nothing connected) and the common duty %. */
static void
read_fans(AmSample *s, JsonObject *reply)
{
  am_cgminer_read_fans_reply(s, reply);
  double speed;
  if (am_json_get_double(am_cgminer_section(reply, "FANS"), "Speed", &speed))
    am_sample_set_extra(s, "fan_speed_pct", json_node_init_double(json_node_alloc(), speed));
}

/* AsicBoost is per pool in BOSminer; report the active pool's. */
static void
read_asicboost(AmSample *s, JsonObject *reply)
{
  JsonArray *pools = am_json_array(reply, "POOLS");
  guint n = pools != NULL ? json_array_get_length(pools) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *p = am_json_array_object(pools, i);
    gboolean active = FALSE, boost = FALSE;
    if (am_cgminer_get_bool(p, "Stratum Active", &active) && active &&
        am_cgminer_get_bool(p, "AsicBoost", &boost)) {
      am_sample_set_extra(s, "asicboost", json_node_init_boolean(json_node_alloc(), boost));
      return;
    }
  }
}

AmSample *
am_braiins_parse(const AmBraiinsReplies *replies, GError **error)
{
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, DRIVER_NAME);
  /* Braiins OS only runs on SHA-256 machines. */
  am_sample_set(s, &s->algorithm, "sha256d");

  if (!am_cgminer_require_summary(s, replies->summary, error))
    return NULL;
  read_identity(s, replies);
  read_temps(s, replies->temps);
  read_fans(s, replies->fans);
  am_cgminer_read_devs(s, replies->devs);
  am_cgminer_read_pools(s, replies->pools);
  read_asicboost(s, replies->pools);
  return g_steal_pointer(&s);
}
