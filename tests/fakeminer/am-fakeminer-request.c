/* Requests and the replies that do not come from a profile file.
 *
 * Like cgminer: a request is JSON {"command":"x","parameter":"y"} or plain
 * text "x|y"; "a+b" asks for several commands at once and is answered as
 * {"a":[<reply a>],"b":[<reply b>],"id":1}. Unlike cgminer, a plain-text
 * request is also answered in JSON: the profiles hold JSON only.
 */
#include "am-fakeminer.h"
#include <json-glib/json-glib.h>
#include <string.h>

static gsize
skip_leading_blanks(const char *buf, gsize len)
{
  gsize i = 0;
  while (i < len && g_ascii_isspace(buf[i]))
    i++;
  return i;
}

/* Whether the outer braces of the JSON text starting at @buf balance,
 * minding strings and escapes. */
static gboolean
json_object_closed(const char *buf, gsize len)
{
  int depth = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = buf[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = FALSE;
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '{') {
      depth++;
    } else if (c == '}') {
      if (--depth == 0)
        return TRUE;
    }
  }
  return FALSE;
}

AmFmRequestState
am_fm_request_state(const char *buf, gsize len, gboolean drained, gboolean eof)
{
  gsize start = skip_leading_blanks(buf, len);
  if (start < len && buf[start] == '{') {
    if (json_object_closed(buf + start, len - start))
      return AM_FM_REQUEST_COMPLETE;
    return eof ? AM_FM_REQUEST_GARBAGE : AM_FM_REQUEST_INCOMPLETE;
  }
  if (start == len)
    return eof ? AM_FM_REQUEST_GARBAGE : AM_FM_REQUEST_INCOMPLETE;
  return drained || eof ? AM_FM_REQUEST_COMPLETE : AM_FM_REQUEST_INCOMPLETE;
}

/* Commands are short printable words; anything else is not a request. */
static gboolean
command_is_sane(const char *command)
{
  if (*command == '\0')
    return FALSE;
  for (const char *p = command; *p != '\0'; p++)
    if (!g_ascii_isprint(*p))
      return FALSE;
  return TRUE;
}

static char *
json_request_command(const char *buf, gsize len)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, buf, (gssize)len, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return NULL;
  JsonNode *member = json_object_get_member(json_node_get_object(root), "command");
  if (member == NULL || json_node_get_value_type(member) != G_TYPE_STRING)
    return NULL;
  return g_strdup(json_node_get_string(member));
}

/* "summary|0\n" -> "summary": the parameter and the line end go. */
static char *
text_request_command(const char *buf, gsize len)
{
  g_autofree char *text = g_strndup(buf, len); /* stops at a NUL */
  char *bar = strchr(text, '|');
  if (bar != NULL)
    *bar = '\0';
  return g_strdup(g_strstrip(text));
}

char *
am_fm_request_command(const char *buf, gsize len)
{
  gsize start = skip_leading_blanks(buf, len);
  g_autofree char *command = NULL;
  if (start < len && buf[start] == '{')
    command = json_request_command(buf + start, len - start);
  else
    command = text_request_command(buf + start, len - start);
  if (command == NULL || !command_is_sane(command))
    return NULL;
  return g_steal_pointer(&command);
}

static char *
json_request_parameter(const char *buf, gsize len)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, buf, (gssize)len, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return NULL;
  JsonNode *member = json_object_get_member(json_node_get_object(root), "parameter");
  if (member == NULL || JSON_NODE_HOLDS_NULL(member))
    return NULL;
  if (JSON_NODE_HOLDS_ARRAY(member)) { /* ["0","softoff,1:TS"] -> "0,softoff,1:TS" */
    GString *joined = g_string_new(NULL);
    JsonArray *array = json_node_get_array(member);
    for (guint i = 0; i < json_array_get_length(array); i++) {
      JsonNode *item = json_array_get_element(array, i);
      if (!JSON_NODE_HOLDS_VALUE(item))
        continue;
      if (joined->len > 0)
        g_string_append_c(joined, ',');
      if (json_node_get_value_type(item) == G_TYPE_STRING)
        g_string_append(joined, json_node_get_string(item));
      else
        g_string_append_printf(joined, "%" G_GINT64_FORMAT, json_node_get_int(item));
    }
    return g_string_free(joined, FALSE);
  }
  if (!JSON_NODE_HOLDS_VALUE(member))
    return NULL;
  if (json_node_get_value_type(member) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(member));
  return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(member));
}

char *
am_fm_request_parameter(const char *buf, gsize len)
{
  gsize start = skip_leading_blanks(buf, len);
  if (start < len && buf[start] == '{')
    return json_request_parameter(buf + start, len - start);
  g_autofree char *text = g_strndup(buf + start, len - start);
  char *bar = strchr(text, '|');
  return bar != NULL ? g_strdup(g_strstrip(bar + 1)) : NULL;
}

static void
append_text(GByteArray *out, const char *text)
{
  g_byte_array_append(out, (const guint8 *)text, (guint)strlen(text));
}

void
am_fm_reply_invalid_command(gint64 when, GByteArray *out)
{
  g_autofree char *text =
      g_strdup_printf("{\"STATUS\":[{\"STATUS\":\"E\",\"When\":%" G_GINT64_FORMAT
                      ",\"Code\":14,\"Msg\":\"Invalid command\",\"Description\":\"cgminer\"}],"
                      "\"id\":1}",
                      when);
  append_text(out, text);
}

/* Minimal JSON string escaping: commands are printable ASCII already. */
static char *
escape_json(const char *text)
{
  GString *s = g_string_new(NULL);
  for (const char *p = text; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(s, '\\');
    g_string_append_c(s, *p);
  }
  return g_string_free(s, FALSE);
}

void
am_fm_reply_access_denied(const char *command, gint64 when, GByteArray *out)
{
  g_autofree char *escaped = escape_json(command);
  g_autofree char *text = g_strdup_printf(
      "{\"STATUS\":[{\"STATUS\":\"E\",\"When\":%" G_GINT64_FORMAT
      ",\"Code\":45,\"Msg\":\"Access denied to '%s' command\",\"Description\":\"cgminer\"}],"
      "\"id\":1}",
      when, escaped);
  append_text(out, text);
}

static void
append_single(AmFmProfile *profile, const char *command, const AmFmVary *vary, gint64 when,
              GByteArray *out)
{
  if (!am_fm_profile_render(profile, command, vary, out))
    am_fm_reply_invalid_command(when, out);
}

/* {"summary":[<summary reply>],"stats":[<stats reply>],"id":1}; a repeated
 * command is answered once, as cgminer does. */
static void
append_multi(AmFmProfile *profile, char **commands, const AmFmVary *vary, gint64 when,
             GByteArray *out)
{
  g_autoptr(GPtrArray) seen = g_ptr_array_new();
  append_text(out, "{");
  for (guint i = 0; commands[i] != NULL; i++) {
    if (g_ptr_array_find_with_equal_func(seen, commands[i], g_str_equal, NULL))
      continue;
    g_ptr_array_add(seen, commands[i]);
    g_autofree char *escaped = escape_json(commands[i]);
    g_autofree char *head = g_strdup_printf("\"%s\":[", escaped);
    append_text(out, head);
    append_single(profile, commands[i], vary, when, out);
    append_text(out, "],");
  }
  append_text(out, "\"id\":1}");
}

void
am_fm_reply_build(AmFmProfile *profile, const char *command, const AmFmVary *vary, gint64 when,
                  GByteArray *out)
{
  if (strchr(command, '+') == NULL) {
    append_single(profile, command, vary, when, out);
    return;
  }
  g_auto(GStrv) commands = g_strsplit(command, "+", -1);
  append_multi(profile, commands, vary, when, out);
}
