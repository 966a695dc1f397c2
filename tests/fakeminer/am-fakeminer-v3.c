/* Whatsminer API v3 (firmware from 2024-11 on, TCP 4433).
 *
 * Each message, either way, is a 4-byte little-endian length and then that
 * many bytes of JSON. A request is {"cmd":"get.miner.status","param":"summary"};
 * "param" may be absent, null, a string or an object. A reply is the envelope
 * {"code":0,"desc":"<cmd>","msg":{...},"when":<unix time>}; errors carry a
 * negative code and a string msg (-2 invalid command, -3 invalid JSON,
 * -4 access denied). The connection stays open for further requests.
 */
#include "am-fakeminer.h"
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static guint32
read_le32(const char *buf)
{
  const guint8 *b = (const guint8 *)buf;
  return (guint32)b[0] | (guint32)b[1] << 8 | (guint32)b[2] << 16 | (guint32)b[3] << 24;
}

AmFmRequestState
am_fm_v3_request_state(const char *buf, gsize len, gboolean eof, gsize *consumed)
{
  if (len < 4)
    return eof ? AM_FM_REQUEST_GARBAGE : AM_FM_REQUEST_INCOMPLETE;
  guint32 payload = read_le32(buf);
  if (payload == 0 || payload > AM_FM_V3_PAYLOAD_MAX)
    return AM_FM_REQUEST_GARBAGE;
  if (len < 4 + (gsize)payload)
    return eof ? AM_FM_REQUEST_GARBAGE : AM_FM_REQUEST_INCOMPLETE;
  *consumed = 4 + (gsize)payload;
  return AM_FM_REQUEST_COMPLETE;
}

static gboolean
is_printable(const char *text)
{
  if (*text == '\0')
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isprint(*p))
      return FALSE;
  return TRUE;
}

int
am_fm_v3_parse(const char *payload, gsize len, char **cmd, char **param)
{
  *cmd = NULL;
  *param = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, payload, (gssize)len, NULL))
    return AM_FM_V3_INVALID_JSON;
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return AM_FM_V3_INVALID_JSON;
  JsonObject *object = json_node_get_object(root);
  JsonNode *member = json_object_get_member(object, "cmd");
  if (member == NULL || json_node_get_value_type(member) != G_TYPE_STRING ||
      !is_printable(json_node_get_string(member)))
    return AM_FM_V3_INVALID_COMMAND;
  JsonNode *value = json_object_get_member(object, "param");
  if (value != NULL && JSON_NODE_HOLDS_VALUE(value) &&
      json_node_get_value_type(value) == G_TYPE_STRING && is_printable(json_node_get_string(value)))
    *param = g_strdup(json_node_get_string(value));
  *cmd = g_strdup(json_node_get_string(member));
  return 0;
}

/* Minimal JSON string escaping for the printable ASCII of commands. */
static void
append_escaped(GString *out, const char *text)
{
  for (const char *p = text; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(out, '\\');
    g_string_append_c(out, *p);
  }
}

void
am_fm_v3_error(int code, const char *msg, const char *desc, gint64 when, GByteArray *out)
{
  g_autoptr(GString) text = g_string_new(NULL);
  g_string_append_printf(text, "{\"code\":%d,\"msg\":\"", code);
  append_escaped(text, msg);
  g_string_append(text, "\",\"desc\":\"");
  append_escaped(text, desc);
  g_string_append_printf(text, "\",\"when\":%" G_GINT64_FORMAT "}", when);
  g_byte_array_append(out, (const guint8 *)text->str, (guint)text->len);
}

void
am_fm_v3_frame_header(guint32 len, GByteArray *out)
{
  guint8 header[4] = {len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, (len >> 24) & 0xff};
  g_byte_array_append(out, header, sizeof header);
}

void
am_fm_v3_frame(const guint8 *payload, gsize len, GByteArray *out)
{
  am_fm_v3_frame_header((guint32)len, out);
  g_byte_array_append(out, payload, (guint)len);
}
