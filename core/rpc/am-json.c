/* Tolerant lookups into firmware JSON; see antmon/json.h for the rules. */
#include <antmon/json.h>
#include <math.h>
#include <string.h>

static double
si_multiplier(char suffix)
{
  switch (suffix) {
  case 'k':
  case 'K':
    return 1e3;
  case 'M':
    return 1e6;
  case 'G':
    return 1e9;
  case 'T':
    return 1e12;
  case 'P':
    return 1e15;
  default:
    return 0;
  }
}

gboolean
am_parse_number(const char *text, double *out)
{
  if (text == NULL)
    return FALSE;
  while (g_ascii_isspace(*text))
    text++;
  if (*text == '\0')
    return FALSE;

  char *end = NULL;
  double value = g_ascii_strtod(text, &end);
  if (end == text || !isfinite(value))
    return FALSE;

  /* One SI suffix at most ("65.5K"), then only blanks. */
  if (*end != '\0' && !g_ascii_isspace(*end)) {
    double mult = si_multiplier(*end);
    if (mult == 0)
      return FALSE;
    value *= mult;
    end++;
  }
  while (g_ascii_isspace(*end))
    end++;
  if (*end != '\0')
    return FALSE;
  *out = value;
  return TRUE;
}

static JsonNode *
member(JsonObject *obj, const char *key)
{
  if (obj == NULL || key == NULL)
    return NULL;
  return json_object_get_member(obj, key);
}

gboolean
am_json_get_double(JsonObject *obj, const char *key, double *out)
{
  JsonNode *node = member(obj, key);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return FALSE;

  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE) {
    double value = json_node_get_double(node);
    if (!isfinite(value))
      return FALSE;
    *out = value;
    return TRUE;
  }
  if (type == G_TYPE_STRING)
    return am_parse_number(json_node_get_string(node), out);
  return FALSE;
}

double
am_json_double(JsonObject *obj, const char *key)
{
  double value = NAN;
  am_json_get_double(obj, key, &value);
  return value;
}

gint64
am_json_int(JsonObject *obj, const char *key, gint64 fallback)
{
  JsonNode *node = member(obj, key);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return fallback;
  if (json_node_get_value_type(node) == G_TYPE_INT64)
    return json_node_get_int(node);

  double value;
  if (!am_json_get_double(obj, key, &value) || value < (double)G_MININT64 ||
      value > (double)G_MAXINT64)
    return fallback;
  return (gint64)value;
}

const char *
am_json_string(JsonObject *obj, const char *key)
{
  JsonNode *node = member(obj, key);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
      json_node_get_value_type(node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(node);
}

JsonArray *
am_json_array(JsonObject *obj, const char *key)
{
  JsonNode *node = member(obj, key);
  return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

JsonObject *
am_json_object(JsonObject *obj, const char *key)
{
  JsonNode *node = member(obj, key);
  return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

JsonObject *
am_json_array_object(JsonArray *array, guint index)
{
  if (array == NULL || index >= json_array_get_length(array))
    return NULL;
  JsonNode *node = json_array_get_element(array, index);
  return JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

JsonObject *
am_json_array_find_with_key(JsonArray *array, const char *key)
{
  guint n = array != NULL ? json_array_get_length(array) : 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *obj = am_json_array_object(array, i);
    if (obj != NULL && json_object_has_member(obj, key))
      return obj;
  }
  return NULL;
}

guint
am_parse_dash_list(const char *text, double *out, guint max)
{
  guint count = 0;
  const char *p = text;
  if (p == NULL)
    return 0;

  /* A '-' is a separator when it follows a digit; otherwise it is a sign.
   * So "2--1-20" reads 2, -1, 20 and "-8--11" reads -8, -11. */
  while (*p != '\0' && count < max) {
    while (*p == ' ')
      p++;
    const char *start = p;
    if (*p == '-' && g_ascii_isdigit(p[1]))
      p++;
    while (g_ascii_isdigit(*p) || *p == '.')
      p++;
    if (p > start && g_ascii_isdigit(p[-1])) {
      g_autofree char *field = g_strndup(start, p - start);
      out[count++] = g_ascii_strtod(field, NULL);
    }
    while (*p == ' ')
      p++;
    if (*p == '-')
      p++; /* the separator */
    else if (*p != '\0')
      return 0; /* not a dash list at all: report nothing rather than a guess */
  }
  return count;
}

double
am_hashrate_to_ths(double value, const char *unit)
{
  static const struct {
    const char *prefix;
    double to_ths;
  } units[] = {
      {"h", 1e-12}, {"kh", 1e-9}, {"mh", 1e-6}, {"gh", 1e-3}, {"th", 1.0}, {"ph", 1e3},
  };
  if (unit == NULL)
    return NAN;
  g_autofree char *lower = g_ascii_strdown(unit, -1);
  g_strstrip(lower);
  if (g_str_has_suffix(lower, "/s"))
    lower[strlen(lower) - 2] = '\0';
  for (gsize i = 0; i < G_N_ELEMENTS(units); i++)
    if (g_str_equal(lower, units[i].prefix))
      return value * units[i].to_ths;
  return NAN;
}

void
am_json_add_number(JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name(b, name);
  if (isfinite(value))
    json_builder_add_double_value(b, value);
  else
    json_builder_add_null_value(b);
}

void
am_json_add_string(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}
