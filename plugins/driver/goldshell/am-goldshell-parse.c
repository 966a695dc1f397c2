/* The goldshell normalizer. Which rules rest on the recorded replies and
 * which are assumptions is listed in README.md next to this file. */
#include "am-goldshell-parse.h"

#include "../common/am-cgminer-common.h"

#include <math.h>
#include <string.h>

#define DRIVER_NAME "goldshell"
#define FIRMWARE_NAME "Goldshell"
/* The fan headers a Goldshell control board reports (fan0..fan3 seen). */
#define MAX_FANS 8

/* Goldshell reports "MHS 20s"; the other windows are read when a firmware
 * gives them instead. */
static const char *const current_windows[] = {"20s", "5s", "1m", NULL};

/* ---- small readers ------------------------------------------------------ */

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

/* An index or count from 0 up, else AM_UNKNOWN. */
static gint
small_count(JsonObject *obj, const char *key)
{
  double value = am_json_double(obj, key);
  if (isnan(value) || value < 0 || value > G_MAXINT || value != floor(value))
    return AM_UNKNOWN;
  return (gint)value;
}

static double
valid_temp(JsonObject *obj, const char *key)
{
  double value = am_json_double(obj, key);
  return am_temp_is_valid(value) ? value : NAN;
}

/* ---- match and bodies --------------------------------------------------- */

AmMatch
am_goldshell_match(const AmFingerprint *fp)
{
  if (fp == NULL)
    return AM_MATCH_UNSUPPORTED;
  static const char *const pages[] = {"cloud-box", "Goldshell"};
  for (guint i = 0; fp->http_open && i < G_N_ELEMENTS(pages); i++)
    if (am_cgminer_contains_ci(fp->http_title, pages[i]) ||
        am_cgminer_contains_ci(fp->http_body, pages[i]))
      return AM_MATCH_SUPPORTED;
  if (am_cgminer_object_mentions(fp->version, "goldshell") ||
      am_cgminer_contains_ci(fp->description, "goldshell"))
    return AM_MATCH_SUPPORTED;
  /* The miner programs of Goldshell's KD and Mini-DOGE lines; other
   * vendors could run them, so the web page must still confirm. */
  static const char *const programs[] = {"kdaminer", "intchains_qomo"};
  for (guint i = 0; i < G_N_ELEMENTS(programs); i++)
    if (am_cgminer_object_mentions(fp->version, programs[i]) ||
        am_cgminer_contains_ci(fp->description, programs[i]))
      return AM_MATCH_LIKELY;
  return AM_MATCH_UNSUPPORTED;
}

JsonObject *
am_goldshell_parse_body(const char *path, const char *data, gsize len, GError **error)
{
  g_return_val_if_fail(path != NULL, NULL);
  if (data == NULL || len == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: empty reply", path);
    return NULL;
  }
  if (len > (gsize)G_MAXSSIZE || memchr(data, '\0', len) != NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not JSON: binary data", path);
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

char *
am_goldshell_token(const char *data, gsize len, GError **error)
{
  g_autoptr(JsonObject) reply = am_goldshell_parse_body(AM_GOLDSHELL_LOGIN_PATH, data, len, error);
  if (reply == NULL)
    return NULL;
  const char *token = nonblank_string(reply, "JWT Token");
  if (token == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_AUTH,
                "%s: no \"JWT Token\" in the reply: wrong user or password",
                AM_GOLDSHELL_LOGIN_PATH);
    return NULL;
  }
  return g_strdup(token);
}

char *
am_goldshell_model(const char *raw)
{
  if (raw == NULL)
    return NULL;
  g_autofree char *model = g_strstrip(g_strdup(raw));
  if (*model == '\0')
    return NULL;
  g_strdelimit(model, "-", ' ');
  return g_steal_pointer(&model);
}

/* ---- the replies -------------------------------------------------------- */

/* /mcb/status: {"firmware","hardware","mcbversion","model"}. */
static void
read_status(AmSample *sample, JsonObject *status)
{
  g_autofree char *model = am_goldshell_model(am_json_string(status, "model"));
  am_sample_set(sample, &sample->model, model);
  am_sample_set(sample, &sample->firmware_version, nonblank_string(status, "firmware"));
  static const char *const texts[] = {"hardware", "mcbversion"};
  for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
    const char *value = nonblank_string(status, texts[i]);
    if (value != NULL)
      am_sample_set_extra(sample, texts[i], json_node_init_string(json_node_alloc(), value));
  }
}

/* The algorithm of the model lines whose coin is public (Goldshell's
 * product pages); an unlisted model, such as the ARI31, stays unknown. */
static void
read_algorithm(AmSample *sample)
{
  static const struct {
    const char *prefix, *algorithm;
  } lines[] = {{"Goldshell KD", "blake2s"},       {"Goldshell LT", "scrypt"},
               {"Goldshell Mini DOGE", "scrypt"}, {"Goldshell SC", "blake2b"},
               {"Goldshell CK", "eaglesong"},     {"Goldshell AL", "blake3"},
               {"Goldshell E KA", "kheavyhash"}};
  for (guint i = 0; sample->model != NULL && i < G_N_ELEMENTS(lines); i++)
    if (g_str_has_prefix(sample->model, lines[i].prefix)) {
      am_sample_set(sample, &sample->algorithm, lines[i].algorithm);
      return;
    }
}

/* fan0..fanN are the control board's fans, repeated in every DEVS entry:
 * read once, from the first entry that has them. */
static void
read_fans(AmSample *sample, JsonArray *devs)
{
  guint n = json_array_get_length(devs);
  for (guint i = 0; i < n && i < AM_CGMINER_MAX_CHAINS; i++) {
    JsonObject *dev = am_json_array_object(devs, i);
    gint slots = 0;
    for (guint f = 0; f < MAX_FANS; f++) {
      char key[8];
      g_snprintf(key, sizeof key, "fan%u", f);
      double rpm = am_json_double(dev, key);
      if (isnan(rpm))
        continue;
      slots++;
      am_sample_add_fan(sample, rpm);
    }
    if (slots > 0) {
      sample->fans_expected = slots;
      return;
    }
  }
}

/* One DEVS entry: a hashboard. tstemp-2 is the PCB sensor, tstemp-0/1 the
 * chip sensors (which side each sits on is not known, so no inlet or
 * outlet); clock is the chips' frequency in MHz. */
static void
read_dev(AmSample *sample, JsonObject *dev, guint position)
{
  gint id = small_count(dev, "ID");
  AmChain *chain = am_cgminer_chain(sample, id != AM_UNKNOWN ? id : (gint)position);
  chain->hashrate_ths = am_cgminer_hashrate(dev, current_windows);
  chain->temp_board_c = valid_temp(dev, "tstemp-2");
  chain->temp_chip_c = fmax(valid_temp(dev, "tstemp-0"), valid_temp(dev, "tstemp-1"));
  double clock = am_json_double(dev, "clock");
  chain->frequency_mhz = clock > 0 ? clock : NAN;
  if (!isnan(chain->temp_board_c))
    am_sample_add_temp(sample, chain->temp_board_c);
  if (!isnan(chain->temp_chip_c))
    am_sample_add_chip_temp(sample, chain->temp_chip_c);
}

static void
read_devs(AmSample *sample, JsonObject *reply)
{
  JsonArray *devs = am_json_array(reply, "DEVS");
  if (devs == NULL)
    return;
  guint n = MIN(json_array_get_length(devs), AM_CGMINER_MAX_CHAINS);
  for (guint i = 0; i < n; i++) {
    JsonObject *dev = am_json_array_object(devs, i);
    if (dev != NULL)
      read_dev(sample, dev, i);
  }
  read_fans(sample, devs);
}

static void
read_devdetails(AmSample *sample, JsonObject *reply)
{
  JsonArray *details = am_json_array(reply, "DEVDETAILS");
  guint n = details != NULL ? MIN(json_array_get_length(details), AM_CGMINER_MAX_CHAINS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *detail = am_json_array_object(details, i);
    if (detail == NULL)
      continue;
    gint id = small_count(detail, "ID");
    am_cgminer_chain(sample, id != AM_UNKNOWN ? id : (gint)i)->chips =
        small_count(detail, "chips-nr");
  }
}

/* ---- the whole sample --------------------------------------------------- */

AmSample *
am_goldshell_parse(const AmGoldshellReplies *r, GError **error)
{
  g_return_val_if_fail(r != NULL, NULL);
  if (r->summary == NULL && r->devs == NULL && r->status == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "no summary, devs or %s reply",
                AM_GOLDSHELL_STATUS_PATH);
    return NULL;
  }
  g_autoptr(AmSample) sample = am_sample_new();
  am_sample_set(sample, &sample->driver, DRIVER_NAME);
  am_sample_set(sample, &sample->firmware, FIRMWARE_NAME);
  if (r->status != NULL)
    read_status(sample, r->status);
  read_algorithm(sample);
  if (am_cgminer_read_summary(sample, r->summary)) {
    /* The shared reader knows 5s/30s/1m; Goldshell says 20s. */
    sample->hashrate_ths =
        am_cgminer_hashrate(am_cgminer_section(r->summary, "SUMMARY"), current_windows);
    if (isnan(sample->hashrate_ths))
      am_sample_add_problem(sample, "summary: no usable \"MHS 20s\"");
  }
  read_devs(sample, r->devs);
  read_devdetails(sample, r->devdetails);
  am_cgminer_read_pools(sample, r->pools);
  return g_steal_pointer(&sample);
}
