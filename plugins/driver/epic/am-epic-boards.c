/* The epic normalizer, part two: hashboards, fans and the PSU. */
#include "am-epic-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A hashboard of an S21-class miner does about 100 TH/s (1e8 MH/s); a
 * value far beyond it is not a reading. */
#define MAX_BOARD_MHS 1.0e10

/* ---- small readers ------------------------------------------------------ */

const char *
am_epic_nonblank(JsonObject *obj, const char *key)
{
  const char *s = am_json_string(obj, key);
  if (s == NULL)
    return NULL;
  for (const char *p = s; *p != '\0'; p++)
    if (!g_ascii_isspace(*p))
      return s;
  return NULL;
}

double
am_epic_number_in(JsonObject *obj, const char *key, double min, double max)
{
  double value = am_json_double(obj, key);
  return !isnan(value) && value >= min && value <= max ? value : NAN;
}

double
am_epic_positive(JsonObject *obj, const char *key)
{
  double value = am_epic_number_in(obj, key, 0, G_MAXDOUBLE);
  return value > 0 ? value : NAN;
}

gint64
am_epic_count(JsonObject *obj, const char *key)
{
  double value = am_json_double(obj, key);
  if (isnan(value) || value < 0 || value >= 9.0e18)
    return AM_UNKNOWN;
  return (gint64)value;
}

gboolean
am_epic_bool(JsonObject *obj, const char *key, gboolean *out)
{
  JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
      json_node_get_value_type(node) != G_TYPE_BOOLEAN)
    return FALSE;
  *out = json_node_get_boolean(node);
  return TRUE;
}

/* ---- boards ------------------------------------------------------------- */

/* A JSON number element, else NAN. */
static double
element_number(JsonArray *array, guint i)
{
  JsonNode *node = json_array_get_element(array, i);
  if (!JSON_NODE_HOLDS_VALUE(node))
    return NAN;
  GType type = json_node_get_value_type(node);
  return type == G_TYPE_DOUBLE || type == G_TYPE_INT64 ? json_node_get_double(node) : NAN;
}

/* The first element of HBs[].Hashrate, in MH/s (the other two are the
 * share of the theoretical rate in percent and a third figure PowerPlay
 * does not document). NAN when unreadable. */
static double
board_mhs(JsonObject *board)
{
  JsonArray *rates = am_json_array(board, "Hashrate");
  double mhs = rates != NULL && json_array_get_length(rates) > 0 ? element_number(rates, 0) : NAN;
  return mhs >= 0 && mhs <= MAX_BOARD_MHS ? mhs : NAN;
}

/* The entry of a per-board list (/temps, /hashrate, ...) for board
 * @index: {"Index": n, "Data": [...]}. (transfer none) */
static JsonArray *
board_data(JsonArray *list, gint64 index)
{
  guint n = list != NULL && index >= 0 ? json_array_get_length(list) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *entry = am_json_array_object(list, i);
    if (entry != NULL && am_epic_count(entry, "Index") == index)
      return am_json_array(entry, "Data");
  }
  return NULL;
}

/* The hottest valid reading of board @index in a /temps-shaped list
 * (/temps: the board sensors capabilities."Temp Sensor Info" counts;
 * /temps/chip: one per chip, 0.0 where the chip has no sensor). */
static double
hottest(JsonArray *list, gint64 index)
{
  JsonArray *data = board_data(list, index);
  guint n = data != NULL ? json_array_get_length(data) : 0;
  double max = NAN;
  for (guint i = 0; i < n; i++) {
    double t = element_number(data, i);
    if (am_temp_is_valid(t) && (isnan(max) || t > max))
      max = t;
  }
  return max;
}

/* /hashrate lists one row per chip found on the board, [MH/s, percent of
 * the theoretical rate, ?]: the rows are the chips found, a row at 0 MH/s
 * a chip that does not hash. */
static void
read_chips(AmChain *chain, JsonArray *hashrate)
{
  JsonArray *data = board_data(hashrate, chain->index);
  if (data == NULL)
    return;
  gint n = (gint)MIN(json_array_get_length(data), (guint)G_MAXINT);
  gint ok = 0, failed = 0;
  for (gint i = 0; i < n; i++) {
    JsonNode *row = json_array_get_element(data, (guint)i);
    JsonArray *cells = JSON_NODE_HOLDS_ARRAY(row) ? json_node_get_array(row) : NULL;
    double mhs = cells != NULL && json_array_get_length(cells) > 0 ? element_number(cells, 0) : NAN;
    if (mhs > 0)
      ok++;
    else if (mhs == 0)
      failed++;
  }
  chain->chips = n;
  chain->chips_ok = ok;
  chain->chips_failed = failed;
}

/* TRUE when some object of @list has the member @key. */
static gboolean
any_has(JsonArray *list, const char *key)
{
  for (guint i = 0; list != NULL && i < json_array_get_length(list); i++) {
    JsonObject *o = am_json_array_object(list, i);
    if (o != NULL && json_object_has_member(o, key))
      return TRUE;
  }
  return FALSE;
}

/* The slot of HBStatus[@i]: its Index, or, when no entry has one, its
 * position (HBStatus lists every slot, in order, from 0). */
static gint64
status_slot(JsonArray *status, guint i, gboolean indexed)
{
  return indexed ? am_epic_count(am_json_array_object(status, i), "Index") : (gint64)i;
}

/* The slots HBStatus marks Enabled, in order. (transfer full) */
static GArray *
enabled_slots(JsonObject *summary)
{
  GArray *slots = g_array_new(FALSE, FALSE, sizeof(gint64));
  JsonArray *status = am_json_array(summary, "HBStatus");
  gboolean indexed = any_has(status, "Index");
  for (guint i = 0; status != NULL && i < json_array_get_length(status); i++) {
    gboolean enabled = FALSE;
    gint64 slot = status_slot(status, i, indexed);
    if (am_epic_bool(am_json_array_object(status, i), "Enabled", &enabled) && enabled)
      g_array_append_val(slots, slot);
  }
  return slots;
}

/* One hashing board: HBs[] has only the boards that run. Its temperature
 * is the hottest board sensor (HBs[].Temperature, which /temps repeats;
 * /temps stands in when the summary gives null). @index is its slot, or
 * negative when unknown. */
static gboolean
read_board(AmSample *sample, JsonObject *board, gint64 index, const AmEpicReplies *r,
           double *total_mhs)
{
  AmChain *chain =
      am_sample_add_chain(sample, index >= 0 && index <= G_MAXINT ? (gint)index : AM_UNKNOWN);
  double mhs = board_mhs(board);
  if (isnan(mhs)) {
    am_sample_add_problem(sample, "%s: board %d: no usable Hashrate", AM_EPIC_SUMMARY_PATH,
                          chain->index);
  } else {
    chain->hashrate_ths = mhs / 1.0e6;
    *total_mhs += mhs;
  }
  chain->frequency_mhz = am_epic_positive(board, "Core Clock Avg");
  /* The board's supply rail: PowerPlay's "Input Voltage" in V. */
  chain->voltage_v = am_epic_positive(board, "Input Voltage");
  chain->power_w = am_epic_positive(board, "Input Power");
  double temp = am_json_double(board, "Temperature");
  if (!am_temp_is_valid(temp))
    temp = hottest(r->temps, index);
  if (am_sample_add_temp(sample, temp))
    chain->temp_board_c = temp;
  double chip = hottest(r->chip_temps, index);
  if (am_sample_add_chip_temp(sample, chip))
    chain->temp_chip_c = chip;
  read_chips(chain, r->hashrate);
  return !isnan(mhs);
}

/* "Board Serial Numbers" is a bare list, one per board that was detected
 * as working, without an index. It is mapped to the chains in order only
 * when the counts agree; otherwise which serial is whose is unknown. */
static void
read_board_serials(AmSample *sample, JsonObject *capabilities)
{
  JsonArray *serials = am_json_array(capabilities, "Board Serial Numbers");
  if (serials == NULL || json_array_get_length(serials) != sample->chains->len)
    return;
  for (guint i = 0; i < sample->chains->len; i++) {
    JsonNode *node = json_array_get_element(serials, i);
    const char *serial =
        JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
            ? json_node_get_string(node)
            : NULL;
    if (serial != NULL && *serial != '\0')
      am_sample_set_chain_serial(sample, i, serial);
  }
}

/* HBStatus[]: every slot with Detected and Enabled. The boards the
 * firmware is asked to run are the ones expected to hash; a detected board
 * left disabled (by the owner, or by the firmware itself when "Disable
 * Board On Failure" is on) is told as a warning, not counted missing. */
static void
read_board_status(AmSample *sample, JsonObject *summary)
{
  JsonArray *status = am_json_array(summary, "HBStatus");
  if (status == NULL)
    return;
  gint enabled_count = 0;
  gboolean indexed = any_has(status, "Index");
  for (guint i = 0; i < json_array_get_length(status); i++) {
    JsonObject *slot = am_json_array_object(status, i);
    gboolean detected = FALSE, enabled = FALSE;
    if (!am_epic_bool(slot, "Enabled", &enabled))
      continue;
    if (enabled) {
      enabled_count++;
      continue;
    }
    if (am_epic_bool(slot, "Detected", &detected) && detected) {
      gint64 index = status_slot(status, i, indexed);
      g_autofree char *component =
          index >= 0 ? g_strdup_printf("hashboard %" G_GINT64_FORMAT, index) : NULL;
      g_autofree char *message =
          index >= 0
              ? g_strdup_printf("hashboard %" G_GINT64_FORMAT " is detected but disabled", index)
              : g_strdup("a hashboard is detected but disabled");
      am_sample_add_error(sample, NULL, message, component, AM_ERROR_SEVERITY_WARNING);
    }
  }
  sample->chains_expected = enabled_count;
}

void
am_epic_read_boards(AmSample *sample, const AmEpicReplies *r)
{
  JsonArray *boards = am_json_array(r->summary, "HBs");
  read_board_status(sample, r->summary);
  if (boards == NULL) {
    am_sample_add_problem(sample, "%s: no HBs", AM_EPIC_SUMMARY_PATH);
    return;
  }
  /* Each board's slot is its Index. When no board has one, the boards
   * that run are the enabled slots, in order, if HBStatus counts as many
   * (the same pairing "Board Serial Numbers" gets); otherwise unknown. */
  gboolean indexed = any_has(boards, "Index");
  g_autoptr(GArray) enabled = enabled_slots(r->summary);
  gboolean paired = !indexed && enabled->len == json_array_get_length(boards);
  double total_mhs = 0;
  gboolean all_read = TRUE;
  for (guint i = 0; i < json_array_get_length(boards); i++) {
    JsonObject *board = am_json_array_object(boards, i);
    gint64 index = indexed  ? am_epic_count(board, "Index")
                   : paired ? g_array_index(enabled, gint64, i)
                            : AM_UNKNOWN;
    if (board == NULL || !read_board(sample, board, index, r, &total_mhs))
      all_read = FALSE;
  }
  /* No board hashing is a real 0; one unreadable board makes the sum a
   * guess, so the total is then unknown. */
  sample->hashrate_ths = all_read ? total_mhs / 1.0e6 : NAN;
  read_board_serials(sample, r->capabilities);
}

/* ---- fans --------------------------------------------------------------- */

typedef struct {
  guint64 slot;
  double rpm;
} Fan;

static int
compare_fans(const void *a, const void *b)
{
  const Fan *x = a, *y = b;
  return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* Members "Fans Speed 1" to "Fans Speed 12" in slot order (JSON object
 * order is not the slot order: the reply sorts "10" before "2"). A slot
 * that is null has no fan; one at 0 RPM has a fan that stopped. */
void
am_epic_read_fans(AmSample *sample, JsonObject *summary)
{
  JsonObject *rpm = am_json_object(summary, "Fans Rpm");
  if (rpm == NULL)
    return;
  g_autoptr(GArray) fans = g_array_new(FALSE, FALSE, sizeof(Fan));
  g_autoptr(GList) names = json_object_get_members(rpm);
  for (GList *l = names; l != NULL; l = l->next) {
    const char *name = l->data;
    if (!g_str_has_prefix(name, "Fans Speed "))
      continue;
    guint64 slot = 0;
    if (!g_ascii_string_to_unsigned(name + strlen("Fans Speed "), 10, 1, 1000, &slot, NULL))
      continue;
    double value = am_json_double(rpm, name);
    if (isnan(value))
      continue;
    Fan fan = {slot, value};
    g_array_append_val(fans, fan);
  }
  g_array_sort(fans, compare_fans);
  for (guint i = 0; i < fans->len; i++)
    am_sample_add_fan(sample, g_array_index(fans, Fan, i).rpm);
  sample->fans_expected = (gint)fans->len;
}

/* ---- power -------------------------------------------------------------- */

void
am_epic_read_power(AmSample *sample, JsonObject *summary)
{
  JsonObject *psu = am_json_object(summary, "Power Supply Stats");
  double in = am_epic_positive(psu, "Input Power");
  sample->psu_power_in_w = in;
  sample->psu_power_out_w = am_epic_positive(psu, "Output Power");
  if (!isnan(in)) {
    sample->power_w = in;
    sample->power_source = AM_POWER_SOURCE_REPORTED;
  }
  double volts = am_epic_positive(psu, "Output Voltage");
  if (!isnan(volts))
    am_sample_set_extra(sample, "psu_output_voltage_v",
                        json_node_init_double(json_node_alloc(), volts));
}
