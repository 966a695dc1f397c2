/* Shared cgminer API readers; see am-cgminer-common.h. Pure: no I/O. */
#include "am-cgminer-common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

JsonObject *
am_cgminer_section(JsonObject *reply, const char *section)
{
  return am_json_array_object(am_json_array(reply, section), 0);
}

const char *
am_cgminer_description(JsonObject *reply)
{
  JsonObject *status = am_cgminer_section(reply, "STATUS");
  if (status != NULL)
    return am_json_string(status, "Description");
  /* The Whatsminer layout: STATUS is a plain string beside Description. */
  if (am_json_string(reply, "STATUS") != NULL)
    return am_json_string(reply, "Description");
  return NULL;
}

gboolean
am_cgminer_get_bool(JsonObject *obj, const char *key, gboolean *out)
{
  JsonNode *node = obj != NULL ? json_object_get_member(obj, key) : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return FALSE;
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_BOOLEAN) {
    *out = json_node_get_boolean(node);
    return TRUE;
  }
  if (type != G_TYPE_STRING)
    return FALSE;
  const char *text = json_node_get_string(node);
  if (g_ascii_strcasecmp(text, "true") == 0 || g_ascii_strcasecmp(text, "y") == 0) {
    *out = TRUE;
    return TRUE;
  }
  if (g_ascii_strcasecmp(text, "false") == 0 || g_ascii_strcasecmp(text, "n") == 0) {
    *out = FALSE;
    return TRUE;
  }
  return FALSE;
}

/* ---- hashrate and counters --------------------------------------------- */

double
am_cgminer_hashrate(JsonObject *obj, const char *const *windows)
{
  /* The key names the unit ("MHS 5s" is MH/s): Braiins, Whatsminer and
   * Avalon use MHS, stock cgminer on Antminers GHS. */
  static const struct {
    const char *key_prefix;
    const char *unit;
  } units[] = {{"THS", "TH"}, {"GHS", "GH"}, {"MHS", "MH"}, {"KHS", "KH"}};

  for (guint w = 0; obj != NULL && windows[w] != NULL; w++)
    for (gsize u = 0; u < G_N_ELEMENTS(units); u++) {
      g_autofree char *key = g_strdup_printf("%s %s", units[u].key_prefix, windows[w]);
      double value;
      if (am_json_get_double(obj, key, &value))
        return am_hashrate_to_ths(value, units[u].unit);
    }
  return NAN;
}

static const char *const current_windows[] = {"5s", "30s", "1m", NULL};
static const char *const average_windows[] = {"av", NULL};

gboolean
am_cgminer_read_summary(AmSample *sample, JsonObject *reply)
{
  JsonObject *summary = am_cgminer_section(reply, "SUMMARY");
  if (summary == NULL)
    return FALSE;

  sample->hashrate_ths = am_cgminer_hashrate(summary, current_windows);
  sample->hashrate_avg_ths = am_cgminer_hashrate(summary, average_windows);
  sample->elapsed_s = am_json_int(summary, "Elapsed", AM_UNKNOWN);
  sample->accepted = am_json_int(summary, "Accepted", AM_UNKNOWN);
  sample->rejected = am_json_int(summary, "Rejected", AM_UNKNOWN);
  sample->hw_errors = am_json_int(summary, "Hardware Errors", AM_UNKNOWN);
  return TRUE;
}

gboolean
am_cgminer_require_summary(AmSample *sample, JsonObject *reply, GError **error)
{
  if (reply == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "no answer to 'summary'");
    return FALSE;
  }
  if (!am_cgminer_read_summary(sample, reply)) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE, "the summary reply has no SUMMARY");
    return FALSE;
  }
  return TRUE;
}

/* ---- pools ------------------------------------------------------------- */

static const char *
non_empty(const char *text)
{
  return text != NULL && *text != '\0' ? text : NULL;
}

guint
am_cgminer_read_pools(AmSample *sample, JsonObject *reply)
{
  JsonArray *pools = am_json_array(reply, "POOLS");
  guint n = pools != NULL ? json_array_get_length(pools) : 0;
  guint added = 0;

  for (guint i = 0; i < n; i++) {
    JsonObject *p = am_json_array_object(pools, i);
    /* No URL: an unused slot of the firmware's fixed pool table, or a
     * firmware that renamed the key. "Stratum URL" does not stand in: it
     * is the host of the current connection (no scheme, no port, another
     * host after a redirect), not the pool's URL. */
    const char *url = non_empty(am_json_string(p, "URL"));
    if (url == NULL)
      continue;

    AmPool *pool = am_sample_add_pool(sample, url, am_json_string(p, "User"));
    pool->status = g_strdup(am_json_string(p, "Status"));
    pool->priority = (gint)am_json_int(p, "Priority", AM_UNKNOWN);
    pool->accepted = am_json_int(p, "Accepted", AM_UNKNOWN);
    pool->rejected = am_json_int(p, "Rejected", AM_UNKNOWN);
    pool->stale = am_json_int(p, "Stale", AM_UNKNOWN);
    gboolean active = FALSE;
    pool->active = am_cgminer_get_bool(p, "Stratum Active", &active) && active;
    added++;
  }
  return added;
}

/* ---- devs -------------------------------------------------------------- */

AmChain *
am_cgminer_chain(AmSample *sample, gint index)
{
  for (guint i = 0; i < sample->chains->len; i++) {
    AmChain *c = &g_array_index(sample->chains, AmChain, i);
    if (c->index == index)
      return c;
  }
  return am_sample_add_chain(sample, index);
}

static gint
dev_index(JsonObject *dev, guint position)
{
  /* "Slot" is the board slot where a firmware names it (Whatsminer). */
  static const char *const keys[] = {"Slot", "ID", "ASC", "PGA", "GPU"};
  for (gsize k = 0; k < G_N_ELEMENTS(keys); k++) {
    gint64 index = am_json_int(dev, keys[k], -1);
    if (index >= 0 && index <= G_MAXINT)
      return (gint)index;
  }
  return (gint)position;
}

guint
am_cgminer_read_devs(AmSample *sample, JsonObject *reply)
{
  JsonArray *devs = am_json_array(reply, "DEVS");
  guint n = devs != NULL ? MIN(json_array_get_length(devs), AM_CGMINER_MAX_CHAINS) : 0;
  guint read = 0;

  for (guint i = 0; i < n; i++) {
    JsonObject *dev = am_json_array_object(devs, i);
    if (dev == NULL)
      continue;
    AmChain *chain = am_cgminer_chain(sample, dev_index(dev, i));
    chain->hashrate_ths = am_cgminer_hashrate(dev, current_windows);
    chain->hw_errors = am_json_int(dev, "Hardware Errors", chain->hw_errors);
    double temp = am_json_double(dev, "Temperature");
    /* A board already read from a temperature reply is not counted twice. */
    if (am_temp_is_valid(temp) && isnan(chain->temp_board_c)) {
      chain->temp_board_c = temp;
      am_sample_add_temp(sample, temp);
    }
    read++;
  }
  return read;
}

/* ---- STATS sensor keys ------------------------------------------------- */

typedef struct {
  guint64 slot;
  double value;
} Reading;

static gint
reading_cmp(gconstpointer a, gconstpointer b)
{
  const Reading *ra = a, *rb = b;
  return ra->slot < rb->slot ? -1 : ra->slot > rb->slot;
}

/* Returns TRUE when @name is @prefix followed by one or more digits only. */
static gboolean
slot_key(const char *name, const char *prefix, guint64 *slot)
{
  if (!g_str_has_prefix(name, prefix))
    return FALSE;
  const char *digits = name + strlen(prefix);
  if (*digits == '\0' || strlen(digits) > 6)
    return FALSE;
  for (const char *p = digits; *p != '\0'; p++)
    if (!g_ascii_isdigit(*p))
      return FALSE;
  *slot = g_ascii_strtoull(digits, NULL, 10);
  return TRUE;
}

static void
collect(GArray *into, JsonObject *block, const char *name, const char *prefix)
{
  Reading r;
  if (slot_key(name, prefix, &r.slot) && am_json_get_double(block, name, &r.value))
    g_array_append_val(into, r);
}

/* Adds the readings of keys "<prefix>N" in slot order: firmware lists keys
 * out of order (E3: temp1, temp8, temp9, temp2...). */
static guint
read_slots(AmSample *sample, JsonObject *block, const char *prefix,
           gboolean (*add)(AmSample *, double))
{
  if (block == NULL)
    return 0;
  g_autoptr(GArray) readings = g_array_new(FALSE, FALSE, sizeof(Reading));
  g_autoptr(GList) members = json_object_get_members(block);
  for (GList *l = members; l != NULL; l = l->next)
    collect(readings, block, l->data, prefix);
  g_array_sort(readings, reading_cmp);
  guint kept = 0;
  for (guint i = 0; i < readings->len; i++)
    kept += add(sample, g_array_index(readings, Reading, i).value);
  return kept;
}

guint
am_cgminer_read_stats_temps(AmSample *sample, JsonObject *block)
{
  return read_slots(sample, block, "temp", am_sample_add_temp) +
         read_slots(sample, block, "temp2_", am_sample_add_chip_temp);
}

guint
am_cgminer_read_stats_fans(AmSample *sample, JsonObject *block)
{
  return read_slots(sample, block, "fan", am_sample_add_fan);
}

guint
am_cgminer_read_fans_reply(AmSample *sample, JsonObject *reply)
{
  JsonArray *fans = am_json_array(reply, "FANS");
  guint n = fans != NULL ? json_array_get_length(fans) : 0;
  for (guint i = 0; i < n; i++)
    am_sample_add_fan(sample, am_json_double(am_json_array_object(fans, i), "RPM"));
  return n;
}

JsonObject *
am_cgminer_stats_block(JsonObject *reply)
{
  JsonArray *stats = am_json_array(reply, "STATS");
  JsonObject *block = am_json_array_find_with_key(stats, "Elapsed");
  return block != NULL ? block : am_json_array_find_with_key(stats, "ID");
}

/* ---- identity helpers -------------------------------------------------- */

char *
am_cgminer_clean_model(const char *type)
{
  if (type == NULL)
    return NULL;
  const char *end = strpbrk(type, "\r\n");
  g_autofree char *line = end != NULL ? g_strndup(type, end - type) : g_strdup(type);
  g_strstrip(line);
  return *line != '\0' ? g_steal_pointer(&line) : NULL;
}

gboolean
am_cgminer_contains_ci(const char *haystack, const char *needle)
{
  if (haystack == NULL || needle == NULL)
    return FALSE;
  g_autofree char *h = g_ascii_strdown(haystack, -1);
  g_autofree char *n = g_ascii_strdown(needle, -1);
  return strstr(h, n) != NULL;
}

gboolean
am_cgminer_object_mentions(JsonObject *obj, const char *needle)
{
  if (obj == NULL)
    return FALSE;
  g_autoptr(GList) members = json_object_get_members(obj);
  for (GList *l = members; l != NULL; l = l->next) {
    if (am_cgminer_contains_ci(l->data, needle) ||
        am_cgminer_contains_ci(am_json_string(obj, l->data), needle))
      return TRUE;
  }
  return FALSE;
}

char *
am_cgminer_format_mac(const char *text)
{
  char hex[13];
  guint n = 0;
  for (const char *p = text; p != NULL && *p != '\0'; p++) {
    if (*p == ':' || *p == '-' || *p == '.')
      continue;
    if (!g_ascii_isxdigit(*p) || n == 12)
      return NULL;
    hex[n++] = g_ascii_tolower(*p);
  }
  if (n != 12)
    return NULL;
  hex[12] = '\0';
  return g_strdup_printf("%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", hex, hex + 2, hex + 4, hex + 6, hex + 8,
                         hex + 10);
}
