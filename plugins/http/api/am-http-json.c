/* Writing JSON text directly (pure; see the header). */
#include "am-http-json.h"

#include <math.h>
#include <time.h>

void
am_http_json_string(GString *out, const char *value)
{
  if (value == NULL) {
    g_string_append(out, "null");
    return;
  }
  /* Firmware strings reach here unchecked: never emit invalid UTF-8. */
  g_autofree char *valid = g_utf8_validate(value, -1, NULL) ? NULL : g_utf8_make_valid(value, -1);
  const char *p = valid != NULL ? valid : value;
  g_string_append_c(out, '"');
  for (; *p != '\0'; p++) {
    guchar c = (guchar)*p;
    if (c == '"' || c == '\\')
      g_string_append_c(out, '\\'), g_string_append_c(out, (char)c);
    else if (c == '\n')
      g_string_append(out, "\\n");
    else if (c == '\r')
      g_string_append(out, "\\r");
    else if (c == '\t')
      g_string_append(out, "\\t");
    else if (c < 0x20 || c == 0x7f)
      g_string_append_printf(out, "\\u%04x", c);
    else
      g_string_append_c(out, (char)c);
  }
  g_string_append_c(out, '"');
}

void
am_http_json_member(GString *out, const char *name, gboolean first)
{
  if (!first)
    g_string_append_c(out, ',');
  am_http_json_string(out, name);
  g_string_append_c(out, ':');
}

void
am_http_json_double(GString *out, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (!isfinite(value)) {
    g_string_append(out, "null");
    return;
  }
  g_string_append(out, g_ascii_dtostr(buf, sizeof buf, value));
}

void
am_http_json_time(GString *out, gint64 when_us)
{
  time_t t = (time_t)(when_us / G_USEC_PER_SEC - (when_us % G_USEC_PER_SEC < 0));
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
    g_string_append(out, "null");
    return;
  }
  g_string_append_printf(out, "\"%04d-%02d-%02dT%02d:%02d:%02dZ\"", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

JsonNode *
am_http_object_node(JsonObject *object)
{
  JsonNode *node = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(node, object);
  return node;
}
