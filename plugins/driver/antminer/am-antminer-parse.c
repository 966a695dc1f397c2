/* The antminer normalizer. See README.md next to this file for which rules
 * are checked against real replies and which are not. */
#include "am-antminer-parse.h"

#include <math.h>
#include <string.h>

/* Chain, temperature and fan keys end in a slot number: 1..16 on bmminer
 * (S9 boards sit in 6..8), up to 13 on the E3. Anything past this is not an
 * Antminer slot and is ignored rather than allocated for. */
#define MAX_SLOT 64

/* A firmware power reading is believed when its J/TH lies within this
 * factor of the model's spec sheet; outside it the number cannot be watts at
 * this hashrate (see README.md about Hiveon's "34.65 (AB)"). */
#define POWER_PLAUSIBLE_FACTOR 3.0

/* ---- small readers ------------------------------------------------------ */

/* Element 0 of @reply[@name] when the reply's STATUS is not an error. */
static JsonObject *
reply_section(JsonObject *reply, const char *name)
{
  if (reply == NULL || !am_rpc_check_status(reply, NULL))
    return NULL;
  return am_json_array_object(am_json_array(reply, name), 0);
}

static const char *
reply_description(JsonObject *reply)
{
  return am_json_string(am_json_array_object(am_json_array(reply, "STATUS"), 0), "Description");
}

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

static const char *
find_ci(const char *haystack, const char *needle)
{
  gsize n = strlen(needle);
  if (haystack == NULL)
    return NULL;
  for (const char *p = haystack; *p != '\0'; p++)
    if (g_ascii_strncasecmp(p, needle, n) == 0)
      return p;
  return NULL;
}

/* JSON true/false, or the strings "true"/"false". */
static gboolean
get_bool(JsonObject *obj, const char *key, gboolean *out)
{
  JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return FALSE;
  if (json_node_get_value_type(node) == G_TYPE_BOOLEAN) {
    *out = json_node_get_boolean(node);
    return TRUE;
  }
  const char *s = am_json_string(obj, key);
  if (s != NULL && (g_ascii_strcasecmp(s, "true") == 0 || g_ascii_strcasecmp(s, "false") == 0)) {
    *out = g_ascii_strcasecmp(s, "true") == 0;
    return TRUE;
  }
  return FALSE;
}

/* The number a string starts with, when a note follows it: Hiveon's
 * "34.65 (AB)", E3's "1600M". A JSON number is read as is. */
static double
leading_number(JsonObject *obj, const char *key)
{
  double value = am_json_double(obj, key);
  if (!isnan(value))
    return value;
  const char *s = am_json_string(obj, key);
  if (s == NULL)
    return NAN;
  char *end = NULL;
  value = g_ascii_strtod(s, &end);
  return end != s && isfinite(value) ? value : NAN;
}

/* Member @prefix followed by @slot ("chain_acn" 6 -> "chain_acn6"). */
static double
slot_double(JsonObject *obj, const char *prefix, guint slot)
{
  g_autofree char *key = g_strdup_printf("%s%u", prefix, slot);
  return am_json_double(obj, key);
}

static const char *
slot_string(JsonObject *obj, const char *prefix, guint slot)
{
  g_autofree char *key = g_strdup_printf("%s%u", prefix, slot);
  return am_json_string(obj, key);
}

static gboolean
slot_has(JsonObject *obj, const char *prefix, guint slot)
{
  g_autofree char *key = g_strdup_printf("%s%u", prefix, slot);
  return json_object_has_member(obj, key);
}

/* TRUE when @name is @prefix followed by one or two digits (a slot number),
 * so "temp_num", "fan_num", "temp_max" and "chain_rateideal6" never count. */
static gboolean
parse_slot(const char *name, const char *prefix, guint *slot)
{
  gsize n = strlen(prefix);
  if (strncmp(name, prefix, n) != 0)
    return FALSE;
  const char *digits = name + n;
  gsize len = strlen(digits);
  if (len == 0 || len > 2 || !g_ascii_isdigit(digits[0]) ||
      (len == 2 && !g_ascii_isdigit(digits[1])))
    return FALSE;
  guint value = (guint)g_ascii_strtoull(digits, NULL, 10);
  if (value > MAX_SLOT)
    return FALSE;
  *slot = value;
  return TRUE;
}

static void
set_extra_string(AmSample *sample, const char *key, const char *value)
{
  if (value == NULL)
    return;
  JsonNode *node = json_node_new(JSON_NODE_VALUE);
  json_node_set_string(node, value);
  am_sample_set_extra(sample, key, node);
}

static void
set_extra_int(AmSample *sample, const char *key, gint64 value)
{
  JsonNode *node = json_node_new(JSON_NODE_VALUE);
  json_node_set_int(node, value);
  am_sample_set_extra(sample, key, node);
}

static void
set_extra_double(AmSample *sample, const char *key, double value)
{
  if (!isfinite(value))
    return;
  JsonNode *node = json_node_new(JSON_NODE_VALUE);
  json_node_set_double(node, value);
  am_sample_set_extra(sample, key, node);
}

/* ---- identity ----------------------------------------------------------- */

/* The miner program named by the version keys. S17/S19 answer "cgminer
 * 1.0.0" in STATUS but carry a BMMiner key, so the key decides. */
static const char *
miner_program(JsonObject *block, const char **version)
{
  static const struct {
    const char *key;
    const char *program;
  } keys[] = {{"BMMiner", "bmminer"}, {"CGMiner", "cgminer"}, {"Cgminer", "cgminer"}};
  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
    const char *value = am_json_string(block, keys[i].key);
    if (value != NULL) {
      *version = value;
      return keys[i].program;
    }
  }
  *version = NULL;
  return NULL;
}

/* "V1.3.58", "3.8.6": an optional v, a digit, a dot somewhere, no blanks. */
static gboolean
looks_like_version(const char *s)
{
  if (s == NULL)
    return FALSE;
  if (*s == 'v' || *s == 'V')
    s++;
  if (!g_ascii_isdigit(*s) || strchr(s, '.') == NULL)
    return FALSE;
  for (; *s != '\0'; s++)
    if (g_ascii_isspace(*s))
      return FALSE;
  return TRUE;
}

/* Cuts @head at @at and returns the trimmed text between @from and @to
 * (@to NULL: the end), or NULL when that is empty. */
static char *
cut_tag(char *head, const char *at, const char *from, const char *to)
{
  char *value = to != NULL ? g_strndup(from, to - from) : g_strdup(from);
  head[at - head] = '\0';
  g_strstrip(head);
  g_strstrip(value);
  if (*value == '\0')
    g_clear_pointer(&value, g_free);
  return value;
}

typedef struct {
  char *name;          /* the Type with every firmware tag removed */
  char *tail_version;  /* "V1.3.58" after a newline */
  gboolean hiveon;     /* " Hiveon" suffix */
  gboolean vnish;      /* " (vnish 3.8.6)" */
  char *vnish_version; /* "3.8.6" */
  gboolean blissz;     /* " Blissz v2.06 beta" (a custom D3/L3+ firmware) */
  char *blissz_version;
} TypeParts;

static void
type_parts_clear(TypeParts *parts)
{
  g_free(parts->name);
  g_free(parts->tail_version);
  g_free(parts->vnish_version);
  g_free(parts->blissz_version);
}

/* Splits a Type string into the model and the firmware tags custom
 * firmwares add to it. Only tags seen on real replies are recognised. */
static void
split_type(const char *type, TypeParts *parts)
{
  memset(parts, 0, sizeof(*parts));
  if (type == NULL)
    return;
  char *head = g_strdup(type);
  char *newline = strchr(head, '\n');
  if (newline != NULL) {
    g_autofree char *tail = cut_tag(head, newline, newline + 1, NULL);
    if (looks_like_version(tail))
      parts->tail_version = g_steal_pointer(&tail);
  }
  g_strstrip(head);

  const char *vnish = find_ci(head, "(vnish ");
  if (vnish != NULL) {
    parts->vnish = TRUE;
    parts->vnish_version = cut_tag(head, vnish, vnish + strlen("(vnish "), strchr(vnish, ')'));
  }
  gsize len = strlen(head), suffix = strlen(" Hiveon");
  if (len >= suffix && g_ascii_strcasecmp(head + len - suffix, " Hiveon") == 0) {
    parts->hiveon = TRUE;
    head[len - suffix] = '\0';
    g_strstrip(head);
  }
  const char *blissz = strstr(head, " Blissz");
  if (blissz != NULL && (blissz[7] == ' ' || blissz[7] == '\0')) {
    parts->blissz = TRUE;
    parts->blissz_version = cut_tag(head, blissz, blissz + 7, NULL);
  }
  if (*head == '\0')
    g_clear_pointer(&head, g_free);
  parts->name = head;
}

/* Bitmain's S and T series are all SHA-256 machines, and bmminer only ever
 * ran on them; other letters (L, D, E, Z, K...) mean other algorithms, so an
 * unknown one stays unknown rather than being read in the wrong unit. */
static const char *
guess_free_algorithm(const char *name, const char *program)
{
  if (name != NULL && g_str_has_prefix(name, "Antminer ") && (name[9] == 'S' || name[9] == 'T') &&
      g_ascii_isdigit(name[10]))
    return "sha256d";
  if (g_strcmp0(program, "bmminer") == 0)
    return "sha256d";
  return NULL;
}

/* The custom firmwares tag Type; the stock ones are named by their miner
 * program, which says nothing about a custom firmware built on it, so it
 * is believed only when Type was read and carries no tag (else a lost Type
 * would turn "Blissz" into its "cgminer"). STATUS's "cgminer 1.0.0" is no
 * evidence: S17 and S19 bmminer say it too. */
static const char *
firmware_name(const TypeParts *parts, const char *program, const char *program_version,
              const char *description)
{
  if (parts->vnish)
    return "VNish";
  /* Hiveon's bmminer fork calls itself "2.0.0 rwglr". */
  if (parts->hiveon || find_ci(program_version, "rwglr") != NULL)
    return "Hiveon";
  if (parts->blissz)
    return "Blissz";
  if (parts->name == NULL)
    return NULL;
  if (program != NULL)
    return program;
  if (description != NULL && g_ascii_strncasecmp(description, "bmminer", 7) == 0)
    return "bmminer";
  return NULL;
}

/* The firmware version, most specific first: the version a custom firmware
 * puts in Type (VNish, Blissz), VNish's build_version, a version after a
 * newline in Type (S9 "\nV1.3.58"), then CompileTime, which is what Bitmain's
 * web page shows as the firmware version of stock images (it changes with
 * every image). Nothing else stands in for CompileTime: every recorded
 * image has it, and "Miner" ("49.0.1.3") or the program's version ("4.9.0")
 * are other numbers. */
static const char *
firmware_version(const TypeParts *parts, JsonObject *version_block, JsonObject *stats_data)
{
  if (parts->vnish_version != NULL)
    return parts->vnish_version;
  if (parts->vnish && nonblank_string(stats_data, "build_version") != NULL)
    return nonblank_string(stats_data, "build_version");
  if (parts->blissz_version != NULL)
    return parts->blissz_version;
  if (parts->tail_version != NULL)
    return parts->tail_version;
  return nonblank_string(version_block, "CompileTime");
}

void
am_antminer_identify(JsonObject *version_block, JsonObject *stats_data, const char *description,
                     AmAntminerIdentity *out)
{
  memset(out, 0, sizeof(*out));
  TypeParts parts;
  split_type(am_json_string(version_block, "Type"), &parts);

  const char *program_version = NULL;
  const char *program = miner_program(version_block, &program_version);

  out->entry = am_antminer_model_lookup(parts.name);
  out->model = g_strdup(out->entry != NULL ? out->entry->name : parts.name);
  out->firmware = g_strdup(firmware_name(&parts, program, program_version, description));
  out->firmware_version = g_strdup(firmware_version(&parts, version_block, stats_data));
  if (program == NULL && description != NULL && g_ascii_strncasecmp(description, "bmminer", 7) == 0)
    program = "bmminer";
  out->algorithm =
      out->entry != NULL ? out->entry->algorithm : guess_free_algorithm(parts.name, program);
  type_parts_clear(&parts);
}

void
am_antminer_identity_clear(AmAntminerIdentity *identity)
{
  g_clear_pointer(&identity->model, g_free);
  g_clear_pointer(&identity->firmware, g_free);
  g_clear_pointer(&identity->firmware_version, g_free);
  identity->entry = NULL;
  identity->algorithm = NULL;
}

/* ---- match -------------------------------------------------------------- */

/* Fingerprints of firmwares other drivers own. */
static gboolean
is_foreign(JsonObject *version, const char *description)
{
  static const char *const keys[] = {"BOSminer", "BOSminer+", "BOSer", "LUXminer", "btminer"};
  static const char *const words[] = {"BOSminer", "BOSer",      "LUXminer",
                                      "btminer",  "whatsminer", "Avalon"};
  static const char *const model_keys[] = {"Type", "PROD", "MODEL", "Model"};

  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
    if (version != NULL && json_object_has_member(version, keys[i]))
      return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS(words); i++) {
    if (find_ci(description, words[i]) != NULL)
      return TRUE;
    for (gsize k = 0; k < G_N_ELEMENTS(model_keys); k++)
      if (find_ci(am_json_string(version, model_keys[k]), words[i]) != NULL)
        return TRUE;
  }
  return FALSE;
}

AmMatch
am_antminer_match(const AmFingerprint *fp)
{
  if (fp == NULL)
    return AM_MATCH_UNSUPPORTED;
  JsonObject *version = fp->version;
  if (version == NULL)
    version = am_json_array_object(am_json_array(fp->version_reply, "VERSION"), 0);
  const char *description = fp->description;
  if (description == NULL)
    description = reply_description(fp->version_reply);

  if (is_foreign(version, description))
    return AM_MATCH_UNSUPPORTED;

  const char *type = am_json_string(version, "Type");
  const char *bmminer = am_json_string(version, "BMMiner");
  /* Custom firmwares on Antminer hardware: we read them, but a driver of
   * their own, should one appear, knows them better. */
  if (find_ci(bmminer, "rwglr") != NULL || find_ci(type, " Hiveon") != NULL ||
      find_ci(type, "(vnish") != NULL)
    return AM_MATCH_LIKELY;
  if (bmminer != NULL)
    return AM_MATCH_SUPPORTED;
  gboolean cgminer = version != NULL && (json_object_has_member(version, "CGMiner") ||
                                         json_object_has_member(version, "Cgminer"));
  if (cgminer && type != NULL && g_str_has_prefix(type, "Antminer"))
    return AM_MATCH_SUPPORTED;
  if (description != NULL && g_ascii_strncasecmp(description, "bmminer", 7) == 0)
    return AM_MATCH_SUPPORTED;
  /* Only the web server spoke, with Bitmain's realm: worth a probe. */
  if (g_strcmp0(fp->http_realm, "antMiner Configuration") == 0)
    return AM_MATCH_MAYBE;
  return AM_MATCH_UNSUPPORTED;
}

/* ---- hashrate ----------------------------------------------------------- */

typedef struct {
  const AmAntminerModel *model;
  const char *rate_unit; /* the reply's rate_unit, else "GH" (what the keys say) */
  double total_scale;    /* NAN when the algorithm, hence the unit, is unknown */
  double chain_scale;
  gboolean reports_ideal; /* a bmminer-style firmware: it has an ideal rate */
  gboolean type_named;    /* the model's name was read */
} Units;

/* bmminer (stock, Hiveon, VNish) reports total_rateideal; the S9's
 * chain_rateidealN say so too when the BMMiner key is gone. */
static gboolean
firmware_reports_ideal(const AmAntminerIdentity *id, JsonObject *data)
{
  if (g_strcmp0(id->firmware, "bmminer") == 0 || g_strcmp0(id->firmware, "Hiveon") == 0 ||
      g_strcmp0(id->firmware, "VNish") == 0)
    return TRUE;
  for (guint slot = 0; slot <= 16; slot++)
    if (slot_has(data, "chain_rateideal", slot))
      return TRUE;
  return FALSE;
}

static void
units_init(Units *units, const AmAntminerIdentity *id, JsonObject *data)
{
  units->model = id->entry;
  units->reports_ideal = firmware_reports_ideal(id, data);
  units->type_named = id->model != NULL;
  units->rate_unit = nonblank_string(data, "rate_unit");
  if (units->rate_unit == NULL)
    units->rate_unit = "GH";
  if (id->entry != NULL) {
    units->total_scale = id->entry->total_unit_scale;
    units->chain_scale = id->entry->chain_unit_scale;
  } else {
    /* Unlisted SHA-256 models report what their keys say. */
    units->total_scale = units->chain_scale = id->algorithm != NULL ? 1.0 : NAN;
  }
}

typedef struct {
  const char *key;
  const char *unit; /* NULL: the reply's rate_unit */
} RateKey;

/* The first of @keys present in @obj, in TH/s of the algorithm. */
static double
read_rate(JsonObject *obj, const RateKey *keys, gsize n_keys, const Units *units,
          const char **used_key, double *raw)
{
  for (gsize i = 0; i < n_keys; i++) {
    double value = am_json_double(obj, keys[i].key);
    if (isnan(value))
      continue;
    if (used_key != NULL)
      *used_key = keys[i].key;
    if (raw != NULL)
      *raw = value;
    const char *unit = keys[i].unit != NULL ? keys[i].unit : units->rate_unit;
    return am_hashrate_to_ths(value, unit) * units->total_scale;
  }
  return NAN;
}

/* "GHS 5s" first (string or number). "MHS 5s" only when GHS is missing,
 * never alone as the original app did; then the rate_unit keys. The S17's
 * "total_rate" is the sum of its chains' current rates; the S19's "total
 * rate" (with a blank) equals its "GHS av", an average since start, so it
 * never stands for the current rate. */
static const RateKey current_keys[] = {
    {"GHS 5s", "GH"},
    {"MHS 5s", "MH"},
    {"rate_5s", NULL},
    {"total_rate", NULL},
};
static const RateKey average_keys[] = {{"GHS av", "GH"}, {"MHS av", "MH"}, {"rate_avg", NULL}};
static const RateKey ideal_keys[] = {{"total_rateideal", NULL}, {"rate_ideal", NULL}};

static void
read_hashrates(AmSample *sample, JsonObject *data, JsonObject *summary, const Units *units)
{
  const char *key = NULL;
  double raw = NAN;
  sample->hashrate_ths =
      read_rate(data, current_keys, G_N_ELEMENTS(current_keys), units, &key, &raw);
  if (key == NULL)
    sample->hashrate_ths =
        read_rate(summary, current_keys, G_N_ELEMENTS(current_keys), units, &key, &raw);
  sample->hashrate_avg_ths =
      read_rate(data, average_keys, G_N_ELEMENTS(average_keys), units, NULL, NULL);
  if (isnan(sample->hashrate_avg_ths))
    sample->hashrate_avg_ths =
        read_rate(summary, average_keys, G_N_ELEMENTS(average_keys), units, NULL, NULL);

  /* The firmware's own ideal (S9, S17, S19 report total_rateideal); 0.00
   * means "not computed". The model's spec-sheet nominal only for a
   * firmware that never reports one (the cgminer builds of the L3+, D3, E3,
   * Z11): on bmminer the nominal is another number than the one lost. */
  double ideal = read_rate(data, ideal_keys, G_N_ELEMENTS(ideal_keys), units, NULL, NULL);
  if (ideal > 0)
    sample->hashrate_ideal_ths = ideal;
  else if (units->model != NULL && !units->reports_ideal)
    sample->hashrate_ideal_ths = units->model->nominal_ths;

  /* A model Type names but the table lacks: keep what was read so a user
   * can still see it. (No Type at all: the model, hence what the number
   * means, is unknown, and so is the number.) */
  if (isnan(units->total_scale) && units->type_named && key != NULL) {
    g_autofree char *text = g_strdup_printf("%s=%g", key, raw);
    set_extra_string(sample, "raw_hashrate", text);
  }
}

/* ---- chains ------------------------------------------------------------- */

/* Keys that belong to one chain slot and make it a candidate. Temperatures
 * are not among them: the L3+'s temp31..34 would pass for slots 31..34. */
static const char *const chain_prefixes[] = {"chain_acn", "chain_acs",   "chain_rate",
                                             "chain_hw",  "chain_power", "chain_consumption"};

/* Member visitors walk the object in place: a stats block has some 150
 * members, and copying their list on every poll shows in the benchmark. */
static void
mark_chain_slot(JsonObject *data, const char *name, JsonNode *node, gpointer slots)
{
  for (gsize i = 0; i < G_N_ELEMENTS(chain_prefixes); i++) {
    guint slot;
    if (parse_slot(name, chain_prefixes[i], &slot))
      ((gboolean *)slots)[slot] = TRUE;
  }
}

static void
collect_chain_slots(JsonObject *data, gboolean slots[MAX_SLOT + 1])
{
  json_object_foreach_member(data, mark_chain_slot, slots);
}

static double
hottest(double current, double reading)
{
  if (!am_temp_is_valid(reading))
    return current;
  return isnan(current) || reading > current ? reading : current;
}

static double
hottest_in_list(double current, const char *dash_list)
{
  double values[16];
  guint n = am_parse_dash_list(dash_list, values, G_N_ELEMENTS(values));
  for (guint i = 0; i < n; i++)
    current = hottest(current, values[i]);
  return current;
}

typedef struct {
  double board;
  double chip;
  gboolean reported; /* some temperature key exists for the slot */
} SlotTemps;

/* The per-slot temperature keys: board sensors (tempN, the temp_pcbN
 * list) and chip sensors (temp2_N, temp3_N, the temp_chipN list, and on
 * the L3+ temp3N). */
typedef enum {
  SENSOR_TEMP,
  SENSOR_PCB,
  SENSOR_TEMP2,
  SENSOR_TEMP3,
  SENSOR_CHIP_LIST,
  SENSOR_L3_TEMP3N,
  N_SENSORS
} Sensor;

static const struct {
  const char *prefix;
  gboolean chip;
  gboolean list; /* "48-80-49-70": one reading per sensor of the board */
} sensors[N_SENSORS] = {
    [SENSOR_TEMP] = {"temp", FALSE, FALSE},         [SENSOR_PCB] = {"temp_pcb", FALSE, TRUE},
    [SENSOR_TEMP2] = {"temp2_", TRUE, FALSE},       [SENSOR_TEMP3] = {"temp3_", TRUE, FALSE},
    [SENSOR_CHIP_LIST] = {"temp_chip", TRUE, TRUE}, [SENSOR_L3_TEMP3N] = {"temp3", TRUE, FALSE},
};

/* Which sensor keys the firmware reports for some chain slot: a slot that
 * lacks one the others have lost it (a renamed key), and the hottest of
 * what is left would be another number. */
typedef struct {
  gboolean present[N_SENSORS];
} SensorSet;

static gboolean
sensor_applies(Sensor sensor, const AmAntminerModel *model)
{
  return sensor != SENSOR_L3_TEMP3N || (model != NULL && model->temp3n_keys);
}

static SensorSet
reported_sensors(JsonObject *data, const gboolean slots[MAX_SLOT + 1], const AmAntminerModel *model)
{
  SensorSet set = {{FALSE}};
  for (guint slot = 0; slot <= MAX_SLOT; slot++)
    for (guint k = 0; slots[slot] && k < N_SENSORS; k++)
      set.present[k] |= sensor_applies(k, model) && slot_has(data, sensors[k].prefix, slot);
  return set;
}

static double
read_sensor(JsonObject *data, Sensor sensor, guint slot, double current)
{
  if (sensors[sensor].list)
    return hottest_in_list(current, slot_string(data, sensors[sensor].prefix, slot));
  return hottest(current, slot_double(data, sensors[sensor].prefix, slot));
}

/* The hottest valid value of each kind, so a 0 or -83 from a dead sensor
 * never stands for the board; unknown when one of the kind's sensors the
 * other chains report is missing on this one. */
static SlotTemps
read_slot_temps(JsonObject *data, guint slot, const SensorSet *set)
{
  SlotTemps t = {NAN, NAN, FALSE};
  gboolean board_lost = FALSE, chip_lost = FALSE;
  for (guint k = 0; k < N_SENSORS; k++) {
    if (!set->present[k])
      continue;
    gboolean has = slot_has(data, sensors[k].prefix, slot);
    gboolean chip = sensors[k].chip;
    t.reported |= has;
    if (!has)
      *(chip ? &chip_lost : &board_lost) = TRUE;
    else if (chip)
      t.chip = read_sensor(data, k, slot, t.chip);
    else
      t.board = read_sensor(data, k, slot, t.board);
  }
  if (board_lost)
    t.board = NAN;
  if (chip_lost)
    t.chip = NAN;
  return t;
}

static gboolean
has_nonblank(const char *s)
{
  for (; s != NULL && *s != '\0'; s++)
    if (!g_ascii_isspace(*s))
      return TRUE;
  return FALSE;
}

/* Per-chain power: Hiveon's chain_powerN, VNish's chain_consumptionN. */
static double
slot_power(JsonObject *data, guint slot)
{
  double power = slot_double(data, "chain_power", slot);
  if (!(power > 0))
    power = slot_double(data, "chain_consumption", slot);
  return power > 0 ? power : NAN;
}

/* bmminer pads every table to 16 slots with 0 and "": a slot is a chain
 * only when one of its values says something. */
static gboolean
slot_in_use(JsonObject *data, guint slot, const SlotTemps *temps)
{
  return slot_double(data, "chain_acn", slot) > 0 ||
         has_nonblank(slot_string(data, "chain_acs", slot)) ||
         slot_double(data, "chain_rate", slot) > 0 || slot_double(data, "chain_hw", slot) > 0 ||
         !isnan(slot_power(data, slot)) || !isnan(temps->board) || !isnan(temps->chip);
}

/* chain_acsN draws one character per chip: 'o' fine, 'x' failed, '-'
 * missing; blanks only group them. */
static void
count_chip_states(const char *acs, gint *ok, gint *failed)
{
  *ok = *failed = 0;
  for (; *acs != '\0'; acs++) {
    if (*acs == 'o')
      (*ok)++;
    else if (*acs == 'x')
      (*failed)++;
  }
}

static void
read_chain(AmSample *sample, JsonObject *data, guint slot, const SlotTemps *temps,
           const Units *units)
{
  AmChain *chain = am_sample_add_chain(sample, (gint)slot);
  double rate = slot_double(data, "chain_rate", slot);
  if (!isnan(rate))
    chain->hashrate_ths = am_hashrate_to_ths(rate, units->rate_unit) * units->chain_scale;
  double chips = slot_double(data, "chain_acn", slot);
  if (chips >= 0 && chips < G_MAXINT)
    chain->chips = (gint)chips;
  const char *acs = slot_string(data, "chain_acs", slot);
  if (has_nonblank(acs))
    count_chip_states(acs, &chain->chips_ok, &chain->chips_failed);
  if (units->model != NULL && units->model->chips_per_chain > 0)
    chain->chips_expected = units->model->chips_per_chain;
  double hw = slot_double(data, "chain_hw", slot);
  if (hw >= 0 && hw < 9e18)
    chain->hw_errors = (gint64)hw;
  chain->temp_board_c = temps->board;
  chain->temp_chip_c = temps->chip;
  chain->power_w = slot_power(data, slot);

  am_sample_add_temp(sample, temps->board);
  am_sample_add_chip_temp(sample, temps->chip);
  /* A hashing board whose sensors all read 0 or -83 runs unprotected. */
  if (chain->chips > 0 && temps->reported && isnan(temps->board) && isnan(temps->chip))
    am_sample_add_problem(sample, "chain %u: no valid temperature reading", slot);
}

static void
read_chains(AmSample *sample, JsonObject *data, const Units *units)
{
  gboolean slots[MAX_SLOT + 1] = {FALSE};
  collect_chain_slots(data, slots);
  SensorSet set = reported_sensors(data, slots, units->model);
  for (guint slot = 0; slot <= MAX_SLOT; slot++) {
    if (!slots[slot])
      continue;
    SlotTemps temps = read_slot_temps(data, slot, &set);
    if (slot_in_use(data, slot, &temps))
      read_chain(sample, data, slot, &temps, units);
  }
}

/* ---- fans --------------------------------------------------------------- */

static void
read_fan_slot(JsonObject *data, const char *name, JsonNode *node, gpointer rpm)
{
  guint slot;
  if (parse_slot(name, "fan", &slot))
    ((double *)rpm)[slot] = am_json_double(data, name);
}

/* fanN in slot order; zero slots are empty (S9 uses fan5/fan6 of eight). */
static void
read_fans(AmSample *sample, JsonObject *data, const AmAntminerModel *model)
{
  double rpm[MAX_SLOT + 1];
  for (guint i = 0; i <= MAX_SLOT; i++)
    rpm[i] = NAN;
  json_object_foreach_member(data, read_fan_slot, rpm);
  for (guint i = 0; i <= MAX_SLOT; i++)
    am_sample_add_fan(sample, rpm[i]);

  /* The table first: bmminer's fan_num counts the fans it sees spinning, so
   * a stopped fan would lower it and hide itself. */
  if (model != NULL && model->hydro) {
    sample->liquid_cooled = TRUE;
    sample->fans_expected = 0;
  } else if (model != NULL && model->fans >= 0) {
    sample->fans_expected = model->fans;
  } else {
    gint64 fan_num = am_json_int(data, "fan_num", AM_UNKNOWN);
    if (fan_num > 0 && fan_num <= MAX_SLOT)
      sample->fans_expected = (gint)fan_num;
  }
}

/* ---- power -------------------------------------------------------------- */

/* The sum of the chains' power, NAN when none reports one; *@partial set
 * when some do and some do not (a lost key: the sum would be too low). */
static double
sum_chain_power(AmSample *sample, gboolean *partial)
{
  double sum = 0;
  guint known = 0;
  for (guint i = 0; i < sample->chains->len; i++) {
    const AmChain *c = &g_array_index(sample->chains, AmChain, i);
    if (!isnan(c->power_w)) {
      sum += c->power_w;
      known++;
    }
  }
  *partial = known > 0 && known < sample->chains->len;
  return known > 0 && !*partial ? sum : NAN;
}

static gboolean
power_is_plausible(double watts, double hashrate_ths, const AmAntminerModel *model)
{
  double jth = am_antminer_model_jth(model);
  if (!(watts > 0))
    return FALSE;
  if (isnan(jth) || !(hashrate_ths > 0))
    return TRUE; /* nothing to judge it by */
  double ratio = watts / hashrate_ths / jth;
  return ratio >= 1.0 / POWER_PLAUSIBLE_FACTOR && ratio <= POWER_PLAUSIBLE_FACTOR;
}

static void
forget_chain_power(AmSample *sample)
{
  for (guint i = 0; i < sample->chains->len; i++)
    g_array_index(sample->chains, AmChain, i).power_w = NAN;
}

/* Reported power where the firmware has it: Hiveon's total_power or its
 * "chain_power" total ("34.65 (AB)": the number before the note), else the
 * sum of per-chain readings (VNish chain_consumptionN). A reading that cannot
 * be watts at this hashrate is kept in extras only. Otherwise, if allowed,
 * estimate from the model's spec-sheet J/TH and say so. */
static void
read_power(AmSample *sample, JsonObject *data, const AmAntminerModel *model,
           const AmAntminerOptions *options)
{
  gboolean partial = FALSE;
  double reported = am_json_double(data, "total_power");
  if (!(reported > 0))
    reported = leading_number(data, "chain_power");
  if (!(reported > 0))
    reported = sum_chain_power(sample, &partial);
  set_extra_string(sample, "chain_power", am_json_string(data, "chain_power"));
  /* The firmware reports power but one chain's reading is gone: unknown,
   * not the spec-sheet estimate of a firmware that reports none. */
  if (partial)
    return;

  if (power_is_plausible(reported, sample->hashrate_ths, model)) {
    sample->power_w = reported;
    sample->power_source = AM_POWER_SOURCE_REPORTED;
    return;
  }
  forget_chain_power(sample);
  set_extra_double(sample, "rejected_power_w", reported);

  double jth = am_antminer_model_jth(model);
  if (options->estimate_power && !isnan(jth) && sample->hashrate_ths > 0) {
    sample->power_w = sample->hashrate_ths * jth;
    sample->power_source = AM_POWER_SOURCE_ESTIMATED;
  }
}

/* ---- pools and counters ------------------------------------------------- */

/* Lower priority numbers come first; an unknown priority ranks last. */
static gboolean
ranks_before(const AmPool *a, const AmPool *b)
{
  if (b == NULL)
    return TRUE;
  if (a->priority < 0)
    return FALSE;
  return b->priority < 0 || a->priority < b->priority;
}

static AmPool *
read_pool(AmSample *sample, JsonObject *entry)
{
  const char *url = nonblank_string(entry, "URL");
  if (url == NULL)
    return NULL; /* an empty slot of the firmware's fixed pool table */
  AmPool *pool = am_sample_add_pool(sample, url, am_json_string(entry, "User"));
  pool->status = g_strdup(am_json_string(entry, "Status"));
  gint64 priority = am_json_int(entry, "Priority", AM_UNKNOWN);
  pool->priority = priority >= 0 && priority <= G_MAXINT ? (gint)priority : AM_UNKNOWN;
  pool->accepted = am_json_int(entry, "Accepted", AM_UNKNOWN);
  pool->rejected = am_json_int(entry, "Rejected", AM_UNKNOWN);
  pool->stale = am_json_int(entry, "Stale", AM_UNKNOWN);
  return pool;
}

/* cgminer keeps stratum connections to backup pools open, so several pools
 * can say "Stratum Active" (all three on the S17 Pro reply): the one
 * receiving work is the best-priority of those. A firmware without that key
 * works for its best-priority Alive pool. */
static void
read_pools(AmSample *sample, JsonObject *pools_reply)
{
  if (pools_reply == NULL || !am_rpc_check_status(pools_reply, NULL))
    return;
  JsonArray *pools = am_json_array(pools_reply, "POOLS");
  guint n = pools != NULL ? json_array_get_length(pools) : 0;
  gboolean has_stratum_key = FALSE;
  AmPool *best_active = NULL, *best_alive = NULL;

  for (guint i = 0; i < n; i++) {
    JsonObject *entry = am_json_array_object(pools, i);
    AmPool *pool = entry != NULL ? read_pool(sample, entry) : NULL;
    if (pool == NULL)
      continue;
    gboolean active = FALSE;
    if (get_bool(entry, "Stratum Active", &active)) {
      has_stratum_key = TRUE;
      if (active && ranks_before(pool, best_active))
        best_active = pool;
    }
    if (g_strcmp0(pool->status, "Alive") == 0 && ranks_before(pool, best_alive))
      best_alive = pool;
  }
  AmPool *active = has_stratum_key ? best_active : best_alive;
  if (active != NULL)
    active->active = TRUE;
}

static gint64
sum_pool_counter(AmSample *sample, gsize offset)
{
  gint64 sum = AM_UNKNOWN;
  for (guint i = 0; i < sample->pools->len; i++) {
    gint64 value = G_STRUCT_MEMBER(gint64, sample->pools->pdata[i], offset);
    if (value < 0)
      return AM_UNKNOWN; /* a partial sum would be too low */
    sum = (sum < 0 ? 0 : sum) + value;
  }
  return sum;
}

/* Unknown unless every chain has its count: one chain_hwN lost would make
 * the sum too low, not unknown. */
static gint64
sum_chain_hw(AmSample *sample)
{
  gint64 sum = AM_UNKNOWN;
  for (guint i = 0; i < sample->chains->len; i++) {
    gint64 value = g_array_index(sample->chains, AmChain, i).hw_errors;
    if (value < 0)
      return AM_UNKNOWN;
    sum = (sum < 0 ? 0 : sum) + value;
  }
  return sum;
}

/* SUMMARY's totals when it came; else cgminer's totals are the sums of its
 * per-pool and per-chain counters, which the other replies carry. */
static void
read_counters(AmSample *sample, JsonObject *summary)
{
  sample->accepted = am_json_int(summary, "Accepted", AM_UNKNOWN);
  sample->rejected = am_json_int(summary, "Rejected", AM_UNKNOWN);
  sample->hw_errors = am_json_int(summary, "Hardware Errors", AM_UNKNOWN);
  /* Since start; the stock S19 Pro's SUMMARY has both (HM#550 asks). */
  double best = am_json_double(summary, "Best Share");
  if (best >= 0)
    sample->best_share = best;
  sample->found_blocks = am_json_int(summary, "Found Blocks", AM_UNKNOWN);
  if (sample->accepted < 0)
    sample->accepted = sum_pool_counter(sample, G_STRUCT_OFFSET(AmPool, accepted));
  if (sample->rejected < 0)
    sample->rejected = sum_pool_counter(sample, G_STRUCT_OFFSET(AmPool, rejected));
  if (sample->hw_errors < 0)
    sample->hw_errors = sum_chain_hw(sample);
}

/* ---- extras ------------------------------------------------------------- */

/* "600", 645, "1600M", "1600MHz" -> MHz; 0 and "" are "not set". The M is
 * the unit here, not the SI multiplier am_json_double() would apply. */
static double
read_mhz(JsonObject *obj, const char *key)
{
  const char *text = am_json_string(obj, key);
  double value = text == NULL ? am_json_double(obj, key) : NAN;
  if (text != NULL) {
    char *end = NULL;
    value = g_ascii_strtod(text, &end);
    if (end == text ||
        (*end != '\0' && g_ascii_strcasecmp(end, "M") != 0 && g_ascii_strcasecmp(end, "MHz") != 0))
      value = NAN;
  }
  return isfinite(value) && value > 0 ? value : NAN;
}

static void
read_chain_frequencies(AmSample *sample, JsonObject *data)
{
  static const char *const prefixes[] = {"freq_avg", "freq", "frequency"};
  JsonObject *freqs = json_object_new();
  for (guint i = 0; i < sample->chains->len; i++) {
    guint slot = (guint)g_array_index(sample->chains, AmChain, i).index;
    for (gsize p = 0; p < G_N_ELEMENTS(prefixes); p++) {
      g_autofree char *key = g_strdup_printf("%s%u", prefixes[p], slot);
      double mhz = read_mhz(data, key);
      if (!isnan(mhz)) {
        g_autofree char *name = g_strdup_printf("%u", slot);
        json_object_set_double_member(freqs, name, mhz);
        /* ABI 1.2: the chain's own field too (the extra stays for 1.1). */
        g_array_index(sample->chains, AmChain, i).frequency_mhz = mhz;
        break;
      }
    }
  }
  if (json_object_get_size(freqs) > 0)
    am_sample_set_extra(sample, "chain_frequency_mhz",
                        json_node_init_object(json_node_alloc(), freqs));
  json_object_unref(freqs);
}

/* VNish's chain_volN, as reported (920 on an S9: probably 10 mV units). */
static void
read_chain_voltages(AmSample *sample, JsonObject *data)
{
  JsonObject *volts = json_object_new();
  for (guint i = 0; i < sample->chains->len; i++) {
    guint slot = (guint)g_array_index(sample->chains, AmChain, i).index;
    double value = slot_double(data, "chain_vol", slot);
    if (value > 0) {
      g_autofree char *name = g_strdup_printf("%u", slot);
      json_object_set_double_member(volts, name, value);
    }
  }
  if (json_object_get_size(volts) > 0)
    am_sample_set_extra(sample, "chain_voltage", json_node_init_object(json_node_alloc(), volts));
  json_object_unref(volts);
}

static void
read_extras(AmSample *sample, JsonObject *data, JsonObject *version_block)
{
  /* "frequency" is the setting: it stands in only on firmware that reports
   * no measured average (L3+, E3), never where freq_avgN say it does (the
   * S9's 645.90 average against its 645 setting). */
  double mhz = read_mhz(data, "total_freqavg");
  if (isnan(mhz) && !slot_has(data, "freq_avg", 1))
    mhz = read_mhz(data, "frequency");
  set_extra_double(sample, "frequency_mhz", mhz);
  read_chain_frequencies(sample, data);
  read_chain_voltages(sample, data);
  /* bmminer's work mode on S17/S19 (the reply gives only the number). */
  gint64 mode = am_json_int(data, "Mode", AM_UNKNOWN);
  if (mode >= 0)
    set_extra_int(sample, "mode", mode);
  gboolean manual = FALSE;
  if (get_bool(data, "manual_fan_mode", &manual)) {
    JsonNode *node = json_node_new(JSON_NODE_VALUE);
    json_node_set_boolean(node, manual);
    am_sample_set_extra(sample, "manual_fan_mode", node);
  }
  set_extra_string(sample, "miner_id", nonblank_string(data, "miner_id"));
  set_extra_string(sample, "miner_version", nonblank_string(version_block, "Miner"));
  set_extra_string(sample, "compile_time", nonblank_string(version_block, "CompileTime"));
}

/* ---- the whole reply ---------------------------------------------------- */

/* The data block is the STATS entry with readings in it; the one before it
 * is the version block (the original app read STATS[0] and found nothing). */
static JsonObject *
stats_data_block(JsonArray *stats)
{
  static const char *const keys[] = {"GHS 5s", "MHS 5s", "GHS av", "Elapsed"};
  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
    JsonObject *block = am_json_array_find_with_key(stats, keys[i]);
    if (block != NULL)
      return block;
  }
  return NULL;
}

/* Where the identity comes from: VERSION[0] when it names the model, else
 * the version block STATS carries, else whatever VERSION[0] there is. */
static JsonObject *
choose_version_block(JsonObject *version_reply, JsonArray *stats)
{
  JsonObject *version = reply_section(version_reply, "VERSION");
  if (am_json_string(version, "Type") != NULL)
    return version;
  JsonObject *block = am_json_array_find_with_key(stats, "Type");
  return block != NULL ? block : version;
}

static JsonObject *
find_data_block(JsonObject *stats_reply, GError **error)
{
  if (stats_reply == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "no stats reply: the miner did not answer the stats command");
    return NULL;
  }
  if (!am_rpc_check_status(stats_reply, error)) {
    g_prefix_error(error, "stats: ");
    return NULL;
  }
  JsonObject *data = stats_data_block(am_json_array(stats_reply, "STATS"));
  if (data == NULL)
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "stats reply has no data block (no STATS entry with \"GHS 5s\", \"MHS 5s\", "
                "\"GHS av\" or \"Elapsed\")");
  return data;
}

static void
apply_identity(AmSample *sample, const AmAntminerIdentity *id)
{
  am_sample_set(sample, &sample->model, id->model);
  am_sample_set(sample, &sample->firmware, id->firmware);
  am_sample_set(sample, &sample->firmware_version, id->firmware_version);
  am_sample_set(sample, &sample->algorithm, id->algorithm);
  if (id->entry != NULL && id->entry->chains > 0)
    sample->chains_expected = id->entry->chains;
}

AmSample *
am_antminer_parse(JsonObject *version_reply, JsonObject *stats_reply, JsonObject *pools_reply,
                  JsonObject *summary_reply, const AmAntminerOptions *options, GError **error)
{
  static const AmAntminerOptions defaults = {.estimate_power = TRUE};
  if (options == NULL)
    options = &defaults;

  JsonObject *data = find_data_block(stats_reply, error);
  if (data == NULL)
    return NULL;
  JsonArray *stats = am_json_array(stats_reply, "STATS");
  JsonObject *version_block = choose_version_block(version_reply, stats);
  JsonObject *summary = reply_section(summary_reply, "SUMMARY");
  const char *description = reply_description(version_reply);
  if (description == NULL)
    description = reply_description(stats_reply);

  g_autoptr(AmSample) sample = am_sample_new();
  /* Extras are named after the driver ("x_antminer_..."). */
  am_sample_set(sample, &sample->driver, "antminer");

  AmAntminerIdentity id;
  am_antminer_identify(version_block, data, description, &id);
  apply_identity(sample, &id);
  Units units;
  units_init(&units, &id, data);

  read_hashrates(sample, data, summary, &units);
  sample->elapsed_s = am_json_int(data, "Elapsed", AM_UNKNOWN);
  if (sample->elapsed_s < 0)
    sample->elapsed_s = am_json_int(summary, "Elapsed", AM_UNKNOWN);
  read_chains(sample, data, &units);
  read_fans(sample, data, id.entry);
  read_power(sample, data, id.entry, options);
  read_pools(sample, pools_reply);
  read_counters(sample, summary);
  read_extras(sample, data, version_block);

  am_antminer_identity_clear(&id);
  return g_steal_pointer(&sample);
}
