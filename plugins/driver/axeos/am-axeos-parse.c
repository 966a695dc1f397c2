/* The axeos normalizer. Which rules rest on real replies and which are
 * assumptions is listed in README.md next to this file. */
#include "am-axeos-parse.h"

#include "../common/am-cgminer-common.h"

#include <math.h>
#include <string.h>

#define DRIVER_NAME "axeos"
#define FIRMWARE_NAME "AxeOS"

/* The largest AxeOS devices (NerdQAxe++, Bitaxe GT) hash a few TH/s and
 * draw about 100 W. Values far beyond these are not readings. */
#define MAX_HASHRATE_GHS 1.0e6 /* 1 PH/s */
#define MAX_POWER_W 5000.0

/* ---- small readers ------------------------------------------------------ */

/* A string member with something other than blanks in it, else NULL. */
static const char *
nonblank_string(JsonObject *obj, const char *key)
{
  const char *s = am_json_string(obj, key);
  if (s == NULL)
    return NULL;
  for (const char *p = s; *p != '\0'; p++)
    if (!g_ascii_isspace(*p))
      return s;
  return NULL;
}

/* A number member (or a numeric string) in [@min, @max], else NAN. */
static double
number_in(JsonObject *obj, const char *key, double min, double max)
{
  double value = am_json_double(obj, key);
  return !isnan(value) && value >= min && value <= max ? value : NAN;
}

/* A count (shares, seconds, chips): a whole number from 0 up, else
 * AM_UNKNOWN. Read through a double with an explicit bound, so a huge
 * value is unknown rather than an overflow. */
static gint64
count(JsonObject *obj, const char *key)
{
  double value = am_json_double(obj, key);
  if (isnan(value) || value < 0 || value >= 9.0e18)
    return AM_UNKNOWN;
  return (gint64)value;
}

/* A 0/1 setting (cJSON writes them as numbers; a JSON boolean is accepted
 * too): 1, 0, or AM_UNKNOWN. */
static gint
flag(JsonObject *obj, const char *key)
{
  JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
  if (node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
      json_node_get_value_type(node) == G_TYPE_BOOLEAN)
    return json_node_get_boolean(node) ? 1 : 0;
  double value = am_json_double(obj, key);
  if (isnan(value))
    return AM_UNKNOWN;
  return value != 0 ? 1 : 0;
}

/* ---- extras ------------------------------------------------------------- */

typedef enum {
  EXTRA_STRING,   /* a non-blank string */
  EXTRA_COUNT,    /* a whole number >= 0 */
  EXTRA_POSITIVE, /* a number > 0: 0 is "no sensor" for these */
  EXTRA_NONNEG,   /* a number >= 0 (a fan at 0 % is a setting) */
  EXTRA_NUMBER,   /* any finite number (Wi-Fi RSSI is negative) */
  EXTRA_TEMP,     /* a plausible temperature (am_temp_is_valid) */
  EXTRA_FLAG,     /* 0/1 as a JSON boolean */
} ExtraType;

/* /api/system/info members kept as x_axeos_<extra>: what a Bitaxe owner
 * reads on the AxeOS dashboard that the canonical sample has no field for.
 * Units are ESP-Miner's (its OpenAPI description): mV, mA, MHz, %. */
static const struct {
  const char *key;
  const char *extra;
  ExtraType type;
} info_extras[] = {
    {"ASICModel", "asic_model", EXTRA_STRING},
    {"asicCount", "asic_count", EXTRA_COUNT},
    {"smallCoreCount", "small_core_count", EXTRA_COUNT},
    {"boardVersion", "board_version", EXTRA_STRING},
    {"frequency", "frequency_mhz", EXTRA_POSITIVE},
    {"coreVoltage", "core_voltage_mv", EXTRA_POSITIVE},
    {"coreVoltageActual", "core_voltage_actual_mv", EXTRA_POSITIVE},
    {"voltage", "input_voltage_mv", EXTRA_POSITIVE},
    {"current", "input_current_ma", EXTRA_POSITIVE},
    {"vrTemp", "vr_temp_c", EXTRA_TEMP},
    {"fanspeed", "fan_speed_pct", EXTRA_NONNEG},
    {"overheat_mode", "overheat_mode", EXTRA_FLAG},
    {"isUsingFallbackStratum", "using_fallback_pool", EXTRA_FLAG},
    {"bestDiff", "best_diff", EXTRA_STRING},
    {"bestSessionDiff", "best_session_diff", EXTRA_STRING},
    {"power_fault", "power_fault", EXTRA_STRING},
    {"wifiRSSI", "wifi_rssi_dbm", EXTRA_NUMBER},
    {"axeOSVersion", "axeos_version", EXTRA_STRING},
    {"idfVersion", "idf_version", EXTRA_STRING},
};

static JsonNode *
extra_node(JsonObject *obj, const char *key, ExtraType type)
{
  double value;
  switch (type) {
  case EXTRA_STRING: {
    const char *s = nonblank_string(obj, key);
    return s != NULL ? json_node_init_string(json_node_alloc(), s) : NULL;
  }
  case EXTRA_COUNT: {
    gint64 n = count(obj, key);
    return n >= 0 ? json_node_init_int(json_node_alloc(), n) : NULL;
  }
  case EXTRA_POSITIVE:
    value = number_in(obj, key, 0, G_MAXDOUBLE);
    return !isnan(value) && value > 0 ? json_node_init_double(json_node_alloc(), value) : NULL;
  case EXTRA_NONNEG:
    value = number_in(obj, key, 0, G_MAXDOUBLE);
    return !isnan(value) ? json_node_init_double(json_node_alloc(), value) : NULL;
  case EXTRA_NUMBER:
    value = am_json_double(obj, key);
    return !isnan(value) ? json_node_init_double(json_node_alloc(), value) : NULL;
  case EXTRA_TEMP:
    value = am_json_double(obj, key);
    return am_temp_is_valid(value) ? json_node_init_double(json_node_alloc(), value) : NULL;
  case EXTRA_FLAG: {
    gint f = flag(obj, key);
    return f != AM_UNKNOWN ? json_node_init_boolean(json_node_alloc(), f == 1) : NULL;
  }
  }
  return NULL;
}

static void
read_extras(AmSample *sample, JsonObject *info, JsonObject *asic)
{
  for (guint i = 0; i < G_N_ELEMENTS(info_extras); i++) {
    JsonNode *node = extra_node(info, info_extras[i].key, info_extras[i].type);
    /* /api/system/asic repeats the ASIC model and count. */
    if (node == NULL && asic != NULL)
      node = extra_node(asic, info_extras[i].key, info_extras[i].type);
    if (node != NULL)
      am_sample_set_extra(sample, info_extras[i].extra, node);
  }
}

/* ---- identity ----------------------------------------------------------- */

/* ESP-Miner's device names for the Bitaxe boards (its NVS "devicemodel",
 * any case) and the name the product is sold under. */
static const struct {
  const char *device;
  const char *name;
} bitaxe_devices[] = {
    {"max", "Bitaxe Max"},
    {"ultra", "Bitaxe Ultra"},
    {"supra", "Bitaxe Supra"},
    {"gamma", "Bitaxe Gamma"},
    {"gammaturbo", "Bitaxe GT"},
    {"gt", "Bitaxe GT"},
    {"gammaduo", "Bitaxe Gamma Duo"},
    {"ultrahex", "Bitaxe Ultra Hex"},
    {"hexultra", "Bitaxe Ultra Hex"},
    {"suprahex", "Bitaxe Supra Hex"},
    {"touch", "Bitaxe Touch"},
};

/* The single-ASIC Bitaxe boards by their ASIC, for firmware that reports
 * no deviceModel (as pyasic and asic-rs name them). */
static const struct {
  const char *asic;
  const char *name;
} bitaxe_asics[] = {
    {"BM1397", "Bitaxe Max"},
    {"BM1366", "Bitaxe Ultra"},
    {"BM1368", "Bitaxe Supra"},
    {"BM1370", "Bitaxe Gamma"},
};

/* LuckyMiner units are named LV06, LV07, LV08 (as a deviceModel on
 * ESP-Miner builds for them, or in minerModel); the maker's name goes in
 * front unless it is there already. (transfer full) */
static char *
lucky_name(char *name)
{
  if (am_cgminer_contains_ci(name, "lucky"))
    return name;
  char *full = g_strdup_printf("LuckyMiner %s", name);
  g_free(name);
  return full;
}

static gboolean
is_lucky_name(const char *name)
{
  return (name[0] == 'L' || name[0] == 'l') && (name[1] == 'V' || name[1] == 'v') &&
         g_ascii_isdigit(name[2]);
}

/* The model a user recognises: the board's own name (deviceModel: "Gamma"
 * on a Bitaxe, "NerdQAxe++" on a NerdQAxe), LuckyMiner's minerModel, the
 * Bitaxe named by its ASIC, or the ASIC itself. (transfer full) */
static char *
model_name(JsonObject *info, JsonObject *asic)
{
  const char *device = nonblank_string(info, "deviceModel");
  if (device == NULL)
    device = nonblank_string(asic, "deviceModel");
  g_autofree char *clean = am_cgminer_clean_model(device);
  if (clean != NULL) {
    for (guint i = 0; i < G_N_ELEMENTS(bitaxe_devices); i++)
      if (g_ascii_strcasecmp(clean, bitaxe_devices[i].device) == 0)
        return g_strdup(bitaxe_devices[i].name);
    return is_lucky_name(clean) ? lucky_name(g_steal_pointer(&clean)) : g_steal_pointer(&clean);
  }
  char *lucky = am_cgminer_clean_model(nonblank_string(info, "minerModel"));
  if (lucky != NULL)
    return lucky_name(lucky);
  const char *chip = nonblank_string(info, "ASICModel");
  if (chip == NULL)
    chip = nonblank_string(asic, "ASICModel");
  g_autofree char *chip_clean = am_cgminer_clean_model(chip);
  if (chip_clean == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS(bitaxe_asics); i++)
    if (g_ascii_strcasecmp(chip_clean, bitaxe_asics[i].asic) == 0)
      return g_strdup(bitaxe_asics[i].name);
  return g_steal_pointer(&chip_clean);
}

static void
read_identity(AmSample *sample, JsonObject *info, JsonObject *asic)
{
  g_autofree char *model = model_name(info, asic);
  am_sample_set(sample, &sample->model, model);
  g_autofree char *mac = am_cgminer_format_mac(am_json_string(info, "macAddr"));
  am_sample_set(sample, &sample->mac, mac);
  am_sample_set(sample, &sample->hostname, nonblank_string(info, "hostname"));
  am_sample_set(sample, &sample->firmware_version, nonblank_string(info, "version"));
}

/* ---- hashrate ----------------------------------------------------------- */

static double
ghs_to_ths(double ghs)
{
  return !isnan(ghs) ? ghs / 1000.0 : NAN;
}

/* The nominal hashrate: expectedHashrate (GH/s, ESP-Miner 2.9 and later),
 * else what the ASICs do at their clock: small cores x ASICs x MHz is
 * MH/s. */
static double
ideal_ths(JsonObject *info, JsonObject *asic)
{
  double expected = number_in(info, "expectedHashrate", 0, MAX_HASHRATE_GHS);
  if (!isnan(expected) && expected > 0)
    return ghs_to_ths(expected);
  gint64 cores = count(info, "smallCoreCount");
  gint64 asics = count(info, "asicCount");
  if (asics <= 0)
    asics = count(asic, "asicCount");
  double mhz = number_in(info, "frequency", 0, 1.0e5);
  if (cores <= 0 || asics <= 0 || isnan(mhz) || mhz <= 0)
    return NAN;
  double mhs = (double)cores * (double)asics * mhz;
  return mhs <= MAX_HASHRATE_GHS * 1000.0 ? mhs / 1.0e6 : NAN;
}

/* ---- pools -------------------------------------------------------------- */

/* TRUE when the authority of @url ("scheme://host:port/...") has a port. */
static gboolean
has_port(const char *url)
{
  const char *start = strstr(url, "://");
  start = start != NULL ? start + 3 : url;
  const char *end = strchr(start, '/');
  gsize len = end != NULL ? (gsize)(end - start) : strlen(start);
  const char *bracket = g_strrstr_len(start, (gssize)len, "]");
  const char *colon = g_strrstr_len(start, (gssize)len, ":");
  return colon != NULL && (bracket == NULL || colon > bracket);
}

/* AxeOS keeps the pool as a host name and a port; other drivers show the
 * stratum URL cgminer uses, so the two are joined that way. A URL that
 * already has a scheme or a port keeps them. A bare host whose port is
 * missing or junk gives NULL: the pool is there, its URL unknown (the host
 * alone would name another address, port 80 or none). (transfer full) */
static char *
pool_url(JsonObject *info, const char *url_key, const char *port_key)
{
  g_autofree char *host = g_strdup(nonblank_string(info, url_key));
  if (host == NULL)
    return NULL;
  g_strstrip(host);
  g_autoptr(GString) url = g_string_new(NULL);
  if (strstr(host, "://") == NULL)
    g_string_append(url, "stratum+tcp://");
  g_string_append(url, host);
  if (has_port(url->str))
    return g_string_free(g_steal_pointer(&url), FALSE);
  gint64 port = count(info, port_key);
  if (port <= 0 || port > 65535)
    return NULL;
  g_string_append_printf(url, ":%" G_GINT64_FORMAT, port);
  return g_string_free(g_steal_pointer(&url), FALSE);
}

/* The primary pool and the fallback one, each there when its host is set
 * (an empty fallback is no pool). isUsingFallbackStratum says which
 * receives work. sharesAccepted/Rejected count the session, whichever pool
 * took the shares, so they are the sample's totals and no pool's own. */
static void
read_pools(AmSample *sample, JsonObject *info)
{
  gboolean has_primary = nonblank_string(info, "stratumURL") != NULL;
  gboolean has_fallback = nonblank_string(info, "fallbackStratumURL") != NULL;
  gint using_fallback = flag(info, "isUsingFallbackStratum");
  if (has_primary) {
    g_autofree char *url = pool_url(info, "stratumURL", "stratumPort");
    AmPool *pool = am_sample_add_pool(sample, url, nonblank_string(info, "stratumUser"));
    pool->priority = 0;
    pool->active = using_fallback == 0 || (using_fallback == AM_UNKNOWN && !has_fallback);
  }
  if (has_fallback) {
    g_autofree char *url = pool_url(info, "fallbackStratumURL", "fallbackStratumPort");
    AmPool *pool = am_sample_add_pool(sample, url, nonblank_string(info, "fallbackStratumUser"));
    pool->priority = 1;
    pool->active = using_fallback == 1;
  }
  sample->accepted = count(info, "sharesAccepted");
  sample->rejected = count(info, "sharesRejected");
}

/* ---- the board, cooling and power --------------------------------------- */

/* One board: the ASICs' hashrate, their temperature ("temp", the average
 * of the chips' sensors) and the board's power. vrTemp is the voltage
 * regulator's, which runs hotter by design (ESP-Miner throttles it only
 * at 105 C, the ASIC at 75 C): as a board temperature it would trip the
 * board alert of a healthy unit, so it is an extra (x_axeos_vr_temp_c). */
static void
read_board(AmSample *sample, JsonObject *info, JsonObject *asic)
{
  double temp = am_json_double(info, "temp");
  AmChain *chain = am_sample_add_chain(sample, 0);
  chain->hashrate_ths = sample->hashrate_ths;
  gint64 asics = count(info, "asicCount");
  if (asics < 0)
    asics = count(asic, "asicCount");
  chain->chips = asics >= 0 && asics <= G_MAXINT ? (gint)asics : AM_UNKNOWN;
  if (am_sample_add_chip_temp(sample, temp))
    chain->temp_chip_c = temp;
  chain->power_w = sample->power_w;
  sample->chains_expected = 1;
}

static void
read_power(AmSample *sample, JsonObject *info)
{
  double watts = number_in(info, "power", 0, MAX_POWER_W);
  if (!isnan(watts) && watts > 0) {
    sample->power_w = watts;
    sample->power_source = AM_POWER_SOURCE_REPORTED;
  }
}

/* Every AxeOS board has one fan header with a tachometer; a unit whose
 * reply has no fanrpm makes no claim about fans. */
static void
read_fans(AmSample *sample, JsonObject *info)
{
  sample->liquid_cooled = FALSE;
  if (json_object_has_member(info, "fanrpm")) {
    sample->fans_expected = 1;
    am_sample_add_fan(sample, am_json_double(info, "fanrpm"));
  }
}

/* ---- firmware states ---------------------------------------------------- */

/* overheat_mode 1: the firmware found the ASIC or the regulator too hot,
 * set the fan to 100 % and cut frequency and voltage; it stays so until
 * the owner changes the settings. power_fault: the regulator's fault. */
static void
read_states(AmSample *sample, JsonObject *info)
{
  if (flag(info, "overheat_mode") == 1)
    am_sample_add_problem(sample, "overheat mode: the firmware cut frequency and voltage");
  const char *fault = nonblank_string(info, "power_fault");
  if (fault != NULL)
    am_sample_add_problem(sample, "power fault: %s", fault);
}

/* ---- the whole sample --------------------------------------------------- */

JsonObject *
am_axeos_parse_body(const char *path, const char *data, gsize len, GError **error)
{
  g_return_val_if_fail(path != NULL, NULL);
  if (data == NULL || len == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: empty reply", path);
    return NULL;
  }
  if (len > (gsize)G_MAXSSIZE) {
    g_set_error(error, AM_ERROR, AM_ERROR_TOO_LARGE, "%s: reply too large", path);
    return NULL;
  }
  /* cJSON never writes a NUL; a parser could stop at one and take what
   * precedes it for the whole reply. */
  const char *nul = memchr(data, '\0', len);
  if (nul != NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not JSON: a NUL byte at offset %td", path,
                nul - data);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)len, &local)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not JSON: %s", path, local->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not a JSON object", path);
    return NULL;
  }
  return json_object_ref(json_node_get_object(root));
}

gboolean
am_axeos_wants_asic(JsonObject *info)
{
  if (info == NULL)
    return FALSE;
  if (nonblank_string(info, "deviceModel") == NULL)
    return TRUE;
  double expected = am_json_double(info, "expectedHashrate");
  return (isnan(expected) || expected <= 0) && count(info, "asicCount") <= 0;
}

AmMatch
am_axeos_match(const AmFingerprint *fp)
{
  if (fp == NULL || !fp->http_open || fp->http_realm != NULL)
    return AM_MATCH_UNSUPPORTED;
  static const char *const names[] = {"AxeOS", "NerdAxe", "NerdQAxe", "LuckyMiner", "Lucky miner"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    if (am_cgminer_contains_ci(fp->http_title, names[i]))
      return AM_MATCH_SUPPORTED;
  /* The NerdAxe family's forks rename their pages ("Nerd* Dashboard"). */
  if (am_cgminer_contains_ci(fp->http_title, "Nerd"))
    return AM_MATCH_LIKELY;
  /* A renamed page that still loads ESP-Miner's app, or names the board. */
  static const char *const marks[] = {"AxeOS", "ESP-Miner", "Bitaxe", "NerdQAxe"};
  gboolean ok_status = (fp->http_status >= 200 && fp->http_status < 300) || fp->http_status == 401;
  for (guint i = 0; ok_status && i < G_N_ELEMENTS(marks); i++)
    if (am_cgminer_contains_ci(fp->http_body, marks[i]))
      return AM_MATCH_LIKELY;
  /* Any other web page (a printer, a switch, another vendor's miner) is not
   * asked a second time. */
  return AM_MATCH_UNSUPPORTED;
}

/* Members every /api/system/info has had since ESP-Miner 2.0; an object
 * with none of them is some other web API's reply. */
static gboolean
looks_like_info(JsonObject *info)
{
  static const char *const keys[] = {"hashRate", "ASICModel", "macAddr", "version"};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    if (json_object_has_member(info, keys[i]))
      return TRUE;
  return FALSE;
}

AmSample *
am_axeos_parse(const AmAxeosReplies *r, GError **error)
{
  g_return_val_if_fail(r != NULL, NULL);
  if (r->info == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "no %s reply", AM_AXEOS_INFO_PATH);
    return NULL;
  }
  if (!looks_like_info(r->info)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "%s: not an AxeOS reply (no hashRate, ASICModel, macAddr or version)",
                AM_AXEOS_INFO_PATH);
    return NULL;
  }
  JsonObject *info = r->info, *asic = r->asic;

  g_autoptr(AmSample) sample = am_sample_new();
  am_sample_set(sample, &sample->driver, DRIVER_NAME);
  am_sample_set(sample, &sample->firmware, FIRMWARE_NAME);
  /* Every AxeOS device carries Bitmain SHA-256 ASICs (BM13xx). */
  am_sample_set(sample, &sample->algorithm, "sha256d");
  read_identity(sample, info, asic);

  sample->hashrate_ths = ghs_to_ths(number_in(info, "hashRate", 0, MAX_HASHRATE_GHS));
  if (isnan(sample->hashrate_ths))
    am_sample_add_problem(sample, "%s: no usable hashRate", AM_AXEOS_INFO_PATH);
  sample->hashrate_ideal_ths = ideal_ths(info, asic);
  sample->elapsed_s = count(info, "uptimeSeconds");

  read_power(sample, info);
  read_board(sample, info, asic);
  read_fans(sample, info);
  read_pools(sample, info);
  read_states(sample, info);
  read_extras(sample, info, asic);
  return g_steal_pointer(&sample);
}
