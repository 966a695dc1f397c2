/* The iceriver normalizer. Which rules rest on the recorded reply and
 * which are assumptions is listed in README.md next to this file. */
#include "am-iceriver-parse.h"

#include "../common/am-cgminer-common.h"

#include <math.h>
#include <string.h>

#define DRIVER_NAME "iceriver"
#define FIRMWARE_NAME "IceRiver"

/* No Iceriver unit has more boards, fans or pools than this; the readers
 * stop there so a garbled reply costs linear time. */
#define MAX_ITEMS 64

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

/* A JSON number only (the firmware writes counts as 7225.0); strings are
 * not read here, because am_json_double() takes "G" for giga. */
static double
plain_number(JsonObject *obj, const char *key)
{
  JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return NAN;
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_DOUBLE || type == G_TYPE_INT64)
    return json_node_get_double(node);
  return NAN;
}

/* A whole count from 0 up, else AM_UNKNOWN (bounded so a huge value is
 * unknown rather than an overflow). */
static gint64
count(JsonObject *obj, const char *key)
{
  double value = plain_number(obj, key);
  if (isnan(value) || value < 0 || value >= 9.0e18 || value != floor(value))
    return AM_UNKNOWN;
  return (gint64)value;
}

/* A JSON boolean: 1, 0, or AM_UNKNOWN. */
static gint
boolean(JsonObject *obj, const char *key)
{
  JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
      json_node_get_value_type(node) != G_TYPE_BOOLEAN)
    return AM_UNKNOWN;
  return json_node_get_boolean(node) ? 1 : 0;
}

/* ---- pure helpers ------------------------------------------------------- */

double
am_iceriver_rate_ths(const char *text, const char *unit)
{
  if (text == NULL)
    return NAN;
  char *end = NULL;
  double value = g_ascii_strtod(text, &end);
  if (end == text || !isfinite(value) || value < 0)
    return NAN;
  while (g_ascii_isspace(*end))
    end++;
  /* The value's own letters win; a bare number takes data.unit. */
  const char *letters = *end != '\0' ? end : unit;
  if (letters == NULL || strlen(letters) != 1 || strchr("KMGTP", g_ascii_toupper(*letters)) == NULL)
    return NAN;
  char hashes[3] = {g_ascii_toupper(*letters), 'H', '\0'};
  return am_hashrate_to_ths(value, hashes);
}

gboolean
am_iceriver_parse_runtime(const char *text, gint64 *out_s)
{
  if (text == NULL)
    return FALSE;
  guint64 parts[4];
  const char *p = text;
  for (guint i = 0; i < 4; i++) {
    char *end = NULL;
    if (!g_ascii_isdigit(*p))
      return FALSE;
    parts[i] = g_ascii_strtoull(p, &end, 10);
    if (end - p > 6 || *end != (i < 3 ? ':' : '\0'))
      return FALSE;
    p = end + 1;
  }
  if (parts[1] > 23 || parts[2] > 59 || parts[3] > 59)
    return FALSE;
  *out_s = (gint64)(((parts[0] * 24 + parts[1]) * 60 + parts[2]) * 60 + parts[3]);
  return TRUE;
}

char *
am_iceriver_model(const char *softver1)
{
  if (softver1 == NULL)
    return NULL;
  g_auto(GStrv) parts = g_strsplit(softver1, "_", -1);
  guint n = g_strv_length(parts);
  if (n < 2)
    return NULL;
  /* "..._ks5L_miner" names the model before the last part; "..._10306miner"
   * glues "miner" to it. */
  g_autofree char *name = g_str_equal(parts[n - 1], "miner")
                              ? g_strdup(parts[n - 2])
                              : (g_str_has_suffix(parts[n - 1], "miner")
                                     ? g_strndup(parts[n - 1], strlen(parts[n - 1]) - 5)
                                     : NULL);
  if (name == NULL || *name == '\0')
    return NULL;
  /* The AL3's software names its board number, not the model. */
  if (g_str_equal(name, "10306"))
    return g_strdup("AL3");
  return g_ascii_strup(name, -1);
}

/* ---- match and bodies --------------------------------------------------- */

static gboolean
title_is_iceriver(const char *title)
{
  if (title == NULL)
    return FALSE;
  g_autofree char *trimmed = g_strstrip(g_strdup(title));
  return g_str_equal(trimmed, AM_ICERIVER_TITLE);
}

AmMatch
am_iceriver_match(const AmFingerprint *fp)
{
  if (fp == NULL || !fp->http_open)
    return AM_MATCH_UNSUPPORTED;
  gboolean ours = title_is_iceriver(fp->http_title) ||
                  (fp->http_title == NULL && fp->http_body != NULL &&
                   am_cgminer_contains_ci(fp->http_body, "<title>" AM_ICERIVER_TITLE "</title>"));
  if (!ours)
    return AM_MATCH_UNSUPPORTED;
  /* Iceriver units have no cgminer API; a miner that answers on 4028
   * under this generic title is something else first. */
  return fp->rpc_open ? AM_MATCH_LIKELY : AM_MATCH_SUPPORTED;
}

static gboolean
looks_like_html(const char *data, gsize len)
{
  gsize i = 0;
  while (i < len && g_ascii_isspace(data[i]))
    i++;
  return i < len && data[i] == '<';
}

JsonObject *
am_iceriver_parse_body(const char *path, const char *data, gsize len, GError **error)
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
  /* Without a session the unit serves its login page, not an error. */
  if (looks_like_html(data, len)) {
    g_set_error(error, AM_ERROR, AM_ERROR_AUTH,
                "%s: a web page instead of data: the login was refused (check user= and "
                "password=)",
                path);
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
am_iceriver_check_login(const char *data, gsize len, GError **error)
{
  g_autoptr(JsonObject) reply = am_iceriver_parse_body(AM_ICERIVER_LOGIN_PATH, data, len, NULL);
  if (reply == NULL)
    return TRUE;
  double code = plain_number(reply, "error");
  if (isnan(code) || code == 0)
    return TRUE;
  const char *why = nonblank_string(reply, "message");
  g_set_error(error, AM_ERROR, AM_ERROR_AUTH,
              "%s: login refused (error %g%s%s): wrong user or password", AM_ICERIVER_LOGIN_PATH,
              code, why != NULL ? ": " : "", why != NULL ? why : "");
  return FALSE;
}

/* ---- the sections of data ----------------------------------------------- */

static void
read_identity(AmSample *sample, JsonObject *data)
{
  const char *softver = nonblank_string(data, "softver1");
  am_sample_set(sample, &sample->firmware_version, softver);
  g_autofree char *model = am_iceriver_model(softver);
  if (model != NULL) {
    g_autofree char *full = g_strconcat("IceRiver ", model, NULL);
    am_sample_set(sample, &sample->model, full);
  }
  /* data.algo says "none" on the KS5L; a real name wins when given. The
   * KS line mines Kaspa (kHeavyHash), the AL3 Alephium (Blake3). */
  const char *algo = nonblank_string(data, "algo");
  if (algo != NULL && g_ascii_strcasecmp(algo, "none") != 0) {
    g_autofree char *lower = g_ascii_strdown(algo, -1);
    am_sample_set(sample, &sample->algorithm, lower);
  } else if (model != NULL && g_str_has_prefix(model, "KS")) {
    am_sample_set(sample, &sample->algorithm, "kheavyhash");
  } else if (model != NULL && g_str_has_prefix(model, "AL")) {
    am_sample_set(sample, &sample->algorithm, "blake3");
  }
  g_autofree char *mac = am_cgminer_format_mac(am_json_string(data, "mac"));
  am_sample_set(sample, &sample->mac, mac);
  am_sample_set(sample, &sample->hostname, nonblank_string(data, "host"));
}

static void
read_hashrate(AmSample *sample, JsonObject *data)
{
  const char *unit = nonblank_string(data, "unit");
  sample->hashrate_ths = am_iceriver_rate_ths(am_json_string(data, "rtpow"), unit);
  if (isnan(sample->hashrate_ths))
    am_sample_add_problem(sample, "%s: no usable data.rtpow", AM_ICERIVER_PANEL_PATH);
  sample->hashrate_avg_ths = am_iceriver_rate_ths(am_json_string(data, "avgpow"), unit);
  gint64 runtime = 0;
  if (am_iceriver_parse_runtime(am_json_string(data, "runtime"), &runtime))
    sample->elapsed_s = runtime;
}

/* pcbtemp is "a-b-c-d"; the KS5L writes 0.00 for sensors it lacks, and
 * am_sample_add_temp() drops those as faults. */
static double
hottest_pcb(JsonObject *board)
{
  double values[8];
  guint n = am_parse_dash_list(am_json_string(board, "pcbtemp"), values, G_N_ELEMENTS(values));
  double hottest = NAN;
  for (guint i = 0; i < n; i++)
    if (am_temp_is_valid(values[i]) && !(values[i] <= hottest))
      hottest = values[i];
  return hottest;
}

/* "no" is the board's slot, counted from 1: without it the slot is
 * unknown (the list position would name the neighbouring one). */
static void
read_board(AmSample *sample, JsonObject *board)
{
  gint64 no = count(board, "no");
  AmChain *chain = am_sample_add_chain(sample, no >= 0 && no < G_MAXINT ? (gint)no : AM_UNKNOWN);
  chain->hashrate_ths = am_iceriver_rate_ths(am_json_string(board, "rtpow"), NULL);
  gint64 chips = count(board, "chipnum");
  chain->chips = chips >= 0 && chips < G_MAXINT ? (gint)chips : AM_UNKNOWN;
  double freq = plain_number(board, "freq");
  chain->frequency_mhz = freq > 0 ? freq : NAN;
  /* intmp and outtmp are the chip temperatures at the air inlet and
   * outlet sides; the hotter is the board's chip temperature. With one
   * side unread the hotter is unknown: the other side alone would read
   * low. */
  double in = plain_number(board, "intmp"), out = plain_number(board, "outtmp");
  chain->temp_inlet_c = am_temp_is_valid(in) ? in : NAN;
  chain->temp_outlet_c = am_temp_is_valid(out) ? out : NAN;
  chain->temp_chip_c = fmax(chain->temp_inlet_c, chain->temp_outlet_c);
  if (isnan(chain->temp_inlet_c) || isnan(chain->temp_outlet_c))
    chain->temp_chip_c = NAN;
  if (!isnan(chain->temp_chip_c))
    am_sample_add_chip_temp(sample, chain->temp_chip_c);
  chain->temp_board_c = hottest_pcb(board);
  if (!isnan(chain->temp_board_c))
    am_sample_add_temp(sample, chain->temp_board_c);
}

static void
read_boards(AmSample *sample, JsonObject *data)
{
  JsonArray *boards = am_json_array(data, "boards");
  guint n = boards != NULL ? MIN(json_array_get_length(boards), MAX_ITEMS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *board = am_json_array_object(boards, i);
    if (board != NULL)
      read_board(sample, board);
  }
}

static void
read_fans(AmSample *sample, JsonObject *data)
{
  JsonArray *fans = am_json_array(data, "fans");
  if (fans == NULL)
    return;
  guint n = MIN(json_array_get_length(fans), MAX_ITEMS);
  /* Every slot the firmware lists is a fan the unit has; one at 0 RPM has
   * stopped. */
  sample->fans_expected = (gint)n;
  for (guint i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element(fans, i);
    if (JSON_NODE_HOLDS_VALUE(node) && (json_node_get_value_type(node) == G_TYPE_INT64 ||
                                        json_node_get_value_type(node) == G_TYPE_DOUBLE))
      am_sample_add_fan(sample, json_node_get_double(node));
  }
}

/* pools[]: state 1 is a pool the unit reaches ("Alive"; the firmware has
 * no word for the others, so their status stays unknown); connect 1 is the
 * one it mines on. */
static void
read_pools(AmSample *sample, JsonObject *data)
{
  JsonArray *pools = am_json_array(data, "pools");
  guint n = pools != NULL ? MIN(json_array_get_length(pools), MAX_ITEMS) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *entry = am_json_array_object(pools, i);
    const char *url = nonblank_string(entry, "addr");
    if (url == NULL)
      continue; /* an empty slot of the fixed three-pool table */
    AmPool *pool = am_sample_add_pool(sample, url, nonblank_string(entry, "user"));
    if (plain_number(entry, "state") == 1)
      pool->status = g_strdup("Alive");
    gint64 priority = count(entry, "priority");
    pool->priority = priority >= 0 && priority < G_MAXINT ? (gint)priority : AM_UNKNOWN;
    pool->accepted = count(entry, "accepted");
    pool->rejected = count(entry, "rejected");
    pool->active = plain_number(entry, "connect") == 1;
  }
}

/* powstate is the hashboards' power: off means the unit was told to stop
 * (pyasic reads it as "is mining"). */
static void
read_states(AmSample *sample, JsonObject *data)
{
  gint powstate = boolean(data, "powstate");
  if (powstate != AM_UNKNOWN)
    sample->mining = powstate ? AM_MINING_HASHING : AM_MINING_PAUSED;
  static const char *const flags[] = {"locate", "online", "netstate", "fanstate", "tempstate"};
  for (guint i = 0; i < G_N_ELEMENTS(flags); i++) {
    gint value = boolean(data, flags[i]);
    if (value != AM_UNKNOWN)
      am_sample_set_extra(sample, flags[i], json_node_init_boolean(json_node_alloc(), value));
  }
  static const char *const texts[] = {"firmtype", "firmver1", "firmver2", "softver2"};
  for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
    const char *value = nonblank_string(data, texts[i]);
    if (value != NULL)
      am_sample_set_extra(sample, texts[i], json_node_init_string(json_node_alloc(), value));
  }
}

/* ---- the whole sample --------------------------------------------------- */

AmSample *
am_iceriver_parse(JsonObject *panel, GError **error)
{
  g_return_val_if_fail(panel != NULL, NULL);
  double code = plain_number(panel, "error");
  if (!isnan(code) && code != 0) {
    const char *why = nonblank_string(panel, "message");
    g_set_error(error, AM_ERROR, AM_ERROR_API, "%s: error %g%s%s", AM_ICERIVER_PANEL_PATH, code,
                why != NULL ? ": " : "", why != NULL ? why : "");
    return NULL;
  }
  JsonObject *data = am_json_object(panel, "data");
  if (data == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not an Iceriver reply (no data object)",
                AM_ICERIVER_PANEL_PATH);
    return NULL;
  }
  g_autoptr(AmSample) sample = am_sample_new();
  am_sample_set(sample, &sample->driver, DRIVER_NAME);
  am_sample_set(sample, &sample->firmware, FIRMWARE_NAME);
  read_identity(sample, data);
  read_hashrate(sample, data);
  read_boards(sample, data);
  read_fans(sample, data);
  read_pools(sample, data);
  read_states(sample, data);
  return g_steal_pointer(&sample);
}
