/* The IP report datagram formats. Every reader is strict about the address
 * and the MAC (they decide what gets polled) and lenient about what
 * follows them, as the tools that listen for these reports are. */
#include "am-ipreport-parse.h"

#include <antmon/error.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* JSON reports are flat; deeper nesting is refused before json-glib sees
 * it (its parser recurses once per level). */
#define MAX_JSON_DEPTH 8

const char *
am_ipreport_family_name(AmIpreportFamily family)
{
  switch (family) {
  case AM_IPREPORT_ANTMINER:
    return "antminer";
  case AM_IPREPORT_WHATSMINER:
    return "whatsminer";
  case AM_IPREPORT_ICERIVER:
    return "iceriver";
  case AM_IPREPORT_GOLDSHELL:
    return "goldshell";
  case AM_IPREPORT_AURADINE:
    return "auradine";
  case AM_IPREPORT_ELPHAPEX:
    return "elphapex";
  case AM_IPREPORT_IPOLLO:
    return "ipollo";
  }
  return "unknown";
}

/* ---- addresses --------------------------------------------------------- */

gboolean
am_ipreport_parse_ipv4(const char *text, gsize len, char out[16])
{
  guint octets[4];
  gsize i = 0;
  for (guint n = 0; n < 4; n++) {
    if (n > 0 && (i >= len || text[i++] != '.'))
      return FALSE;
    gsize start = i;
    guint value = 0;
    while (i < len && g_ascii_isdigit(text[i]) && i - start < 3)
      value = value * 10 + (guint)(text[i++] - '0');
    gsize digits = i - start;
    /* No leading zeros: "010" is octal to some readers, decimal to others. */
    if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0'))
      return FALSE;
    octets[n] = value;
  }
  if (i != len)
    return FALSE;
  if (octets[0] == 0 || octets[0] >= 224)
    return FALSE; /* "this network", multicast, reserved, broadcast */
  g_snprintf(out, 16, "%u.%u.%u.%u", octets[0], octets[1], octets[2], octets[3]);
  return TRUE;
}

/* Exactly "xx:xx:xx:xx:xx:xx" (or with '-'), written in lower case. */
static gboolean
parse_mac(const char *text, gsize len, char out[18])
{
  if (len != 17)
    return FALSE;
  for (gsize i = 0; i < 17; i++) {
    if (i % 3 == 2) {
      if (text[i] != ':' && text[i] != '-')
        return FALSE;
      out[i] = ':';
    } else {
      if (!g_ascii_isxdigit(text[i]))
        return FALSE;
      out[i] = g_ascii_tolower(text[i]);
    }
  }
  out[17] = '\0';
  return TRUE;
}

/* Length of the leading run of IPv4 characters. */
static gsize
ipv4_span(const char *text, gsize len)
{
  gsize i = 0;
  while (i < len && (g_ascii_isdigit(text[i]) || text[i] == '.'))
    i++;
  return i;
}

static AmIpreportResult invalid(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static AmIpreportResult
invalid(GError **error, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *message = g_strdup_vprintf(format, args);
  va_end(args);
  /* The datagram's own bytes (and json-glib's quotes of them) end up here:
   * a log line and the API must get valid UTF-8. */
  g_autofree char *valid = g_utf8_make_valid(message, -1);
  g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE, valid);
  return AM_IPREPORT_INVALID;
}

/* Up to 40 bytes of @text, escaped: it goes into logs. */
static char *
snippet(const char *text, gsize len)
{
  g_autofree char *raw = g_strndup(text, MIN(len, 40));
  g_autofree char *escaped = g_strescape(raw, NULL);
  return g_strconcat(escaped, len > 40 ? "..." : "", NULL);
}

static AmIpreportResult
bad_ip(GError **error, const char *family, const char *text, gsize len)
{
  g_autofree char *shown = snippet(text, len);
  return invalid(error, "%s report: '%s' is not a usable IPv4 address", family, shown);
}

static AmIpreportResult
bad_mac(GError **error, const char *family, const char *text, gsize len)
{
  g_autofree char *shown = snippet(text, len);
  return invalid(error, "%s report: '%s' is not a MAC address", family, shown);
}

/* ---- the text formats -------------------------------------------------- */

/* "192.168.1.10,aa:bb:cc:dd:ee:ff". pyasic also strips a '[' and cuts at
 * '/', so "[192.168.1.10/24],..." is read too. */
static AmIpreportResult
parse_antminer(const char *text, gsize len, AmIpreport *out, GError **error)
{
  const char *comma = memchr(text, ',', len);
  const char *ip = text;
  gsize ip_len = (gsize)(comma - text);
  if (ip_len > 0 && ip[0] == '[')
    ip++, ip_len--;
  if (ip_len > 0 && ip[ip_len - 1] == ']')
    ip_len--;
  const char *slash = memchr(ip, '/', ip_len);
  if (slash != NULL)
    ip_len = (gsize)(slash - ip);
  if (!am_ipreport_parse_ipv4(ip, ip_len, out->ip))
    return bad_ip(error, "antminer", ip, ip_len);
  const char *mac = comma + 1;
  gsize mac_len = len - (gsize)(mac - text);
  if (!parse_mac(mac, mac_len, out->mac))
    return bad_mac(error, "antminer", mac, mac_len);
  out->family = AM_IPREPORT_ANTMINER;
  return AM_IPREPORT_OK;
}

/* "IP:192.168.1.10MAC:aa:bb:cc:dd:ee:ff", sometimes one more byte. */
static AmIpreportResult
parse_whatsminer(const char *text, gsize len, AmIpreport *out, GError **error)
{
  const char *ip = text + 3;
  gsize ip_len = ipv4_span(ip, len - 3);
  if (!am_ipreport_parse_ipv4(ip, ip_len, out->ip))
    return bad_ip(error, "whatsminer", ip, ip_len);
  const char *rest = ip + ip_len;
  gsize rest_len = len - (gsize)(rest - text);
  if (rest_len < 4 || memcmp(rest, "MAC:", 4) != 0)
    return invalid(error, "whatsminer report: no 'MAC:' after the address");
  if (!parse_mac(rest + 4, MIN(rest_len - 4, 17), out->mac))
    return bad_mac(error, "whatsminer", rest + 4, rest_len - 4);
  out->family = AM_IPREPORT_WHATSMINER;
  return AM_IPREPORT_OK;
}

/* "addr:172.16.1.100": the address only. */
static AmIpreportResult
parse_iceriver(const char *text, gsize len, AmIpreport *out, GError **error)
{
  const char *ip = text + 5;
  gsize ip_len = ipv4_span(ip, len - 5);
  if (!am_ipreport_parse_ipv4(ip, ip_len, out->ip))
    return bad_ip(error, "iceriver", ip, ip_len);
  out->family = AM_IPREPORT_ICERIVER;
  return AM_IPREPORT_OK;
}

/* The text between "@label[" and the next ']', searched from @text. */
static gboolean
bracketed(const char *text, gsize len, const char *label, const char **value, gsize *value_len)
{
  gsize label_len = strlen(label);
  for (gsize i = 0; i + label_len <= len; i++) {
    if (memcmp(text + i, label, label_len) != 0)
      continue;
    const char *start = text + i + label_len;
    const char *end = memchr(start, ']', len - i - label_len);
    if (end == NULL)
      return FALSE;
    *value = start;
    *value_len = (gsize)(end - start);
    return TRUE;
  }
  return FALSE;
}

/* "IP Addr:[192.168.6.22]   MAC Addr:[AA:BB:CC:DD:EE:FF]    Time:[...]". */
static AmIpreportResult
parse_ipollo(const char *text, gsize len, AmIpreport *out, GError **error)
{
  const char *ip, *mac;
  gsize ip_len, mac_len;
  if (!bracketed(text, len, "IP Addr:[", &ip, &ip_len))
    return invalid(error, "ipollo report: no closing ']' after 'IP Addr:['");
  if (!am_ipreport_parse_ipv4(ip, ip_len, out->ip))
    return bad_ip(error, "ipollo", ip, ip_len);
  const char *rest = ip + ip_len;
  if (!bracketed(rest, len - (gsize)(rest - text), "MAC Addr:[", &mac, &mac_len))
    return invalid(error, "ipollo report: no 'MAC Addr:[...]'");
  if (!parse_mac(mac, mac_len, out->mac))
    return bad_mac(error, "ipollo", mac, mac_len);
  out->family = AM_IPREPORT_IPOLLO;
  return AM_IPREPORT_OK;
}

/* ---- the JSON formats -------------------------------------------------- */

/* Deepest nesting of objects and arrays, outside strings. */
static guint
json_depth(const char *text, gsize len)
{
  guint depth = 0, deepest = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = FALSE;
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '{' || c == '[') {
      deepest = MAX(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      depth--;
    }
  }
  return deepest;
}

/* A member's string value into @out, printable ASCII only (it ends up in
 * logs and miner names); "" when absent or not a string. */
static void
copy_member(JsonObject *obj, const char *member, char *out, gsize size)
{
  out[0] = '\0';
  JsonNode *node = json_object_get_member(obj, member);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
      json_node_get_value_type(node) != G_TYPE_STRING)
    return;
  const char *value = json_node_get_string(node);
  gsize n = 0;
  for (const char *p = value; *p != '\0' && n + 1 < size; p++)
    out[n++] = g_ascii_isprint(*p) ? *p : '?';
  out[n] = '\0';
  g_strstrip(out);
}

static AmIpreportResult
read_json_report(JsonObject *obj, AmIpreportFamily family, const char *serial_member,
                 AmIpreport *out, GError **error)
{
  const char *name = am_ipreport_family_name(family);
  char text[64];
  copy_member(obj, "ip", text, sizeof text);
  if (!am_ipreport_parse_ipv4(text, strlen(text), out->ip))
    return text[0] == '\0' ? invalid(error, "%s report: no \"ip\"", name)
                           : bad_ip(error, name, text, strlen(text));
  copy_member(obj, "mac", text, sizeof text);
  if (!parse_mac(text, strlen(text), out->mac))
    return text[0] == '\0' ? invalid(error, "%s report: no \"mac\"", name)
                           : bad_mac(error, name, text, strlen(text));
  copy_member(obj, "hostname", out->hostname, sizeof out->hostname);
  copy_member(obj, "model", out->model, sizeof out->model);
  copy_member(obj, serial_member, out->serial, sizeof out->serial);
  out->family = family;
  return AM_IPREPORT_OK;
}

/* Auradine: a flat object with "command":"ipreport" (what bitcap-ipr
 * hears on UDP 12345), or the web API's reply shape {"IPReport":[{...}]}
 * (recorded in asic-rs), should a unit broadcast that. Goldshell: a flat
 * object with "boxsn" and "ctrlsn". */
static AmIpreportResult
parse_json(const char *text, gsize len, AmIpreport *out, GError **error)
{
  if (json_depth(text, len) > MAX_JSON_DEPTH)
    return invalid(error, "JSON report nested deeper than %d levels", MAX_JSON_DEPTH);
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) local = NULL;
  if (!json_parser_load_from_data(parser, text, (gssize)len, &local))
    return invalid(error, "JSON report does not parse: %s", local->message);
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return invalid(error, "JSON report is not an object");
  JsonObject *obj = json_node_get_object(root);
  JsonNode *wrapped = json_object_get_member(obj, "IPReport");
  if (wrapped != NULL) {
    JsonArray *array = JSON_NODE_HOLDS_ARRAY(wrapped) ? json_node_get_array(wrapped) : NULL;
    JsonNode *first =
        array != NULL && json_array_get_length(array) > 0 ? json_array_get_element(array, 0) : NULL;
    if (first == NULL || !JSON_NODE_HOLDS_OBJECT(first))
      return invalid(error, "auradine report: \"IPReport\" holds no object");
    return read_json_report(json_node_get_object(first), AM_IPREPORT_AURADINE, "SerialNo", out,
                            error);
  }
  char command[16];
  copy_member(obj, "command", command, sizeof command);
  if (g_str_equal(command, "ipreport"))
    return read_json_report(obj, AM_IPREPORT_AURADINE, "SerialNo", out, error);
  if (json_object_has_member(obj, "boxsn") && json_object_has_member(obj, "ctrlsn"))
    return read_json_report(obj, AM_IPREPORT_GOLDSHELL, "boxsn", out, error);
  return invalid(error, "JSON, but not a known IP report (no \"command\":\"ipreport\", "
                        "\"IPReport\" or \"boxsn\")");
}

/* ---- the entry point --------------------------------------------------- */

static gboolean
has_prefix(const char *text, gsize len, const char *prefix)
{
  gsize n = strlen(prefix);
  return len >= n && memcmp(text, prefix, n) == 0;
}

/* Length without the trailing NULs (C strings sent with their terminator,
 * or padded) and whitespace. */
static gsize
trimmed_length(const guint8 *data, gsize len)
{
  while (len > 0 && (data[len - 1] == '\0' || g_ascii_isspace(data[len - 1])))
    len--;
  return len;
}

/* Printable text only: a control byte or bad UTF-8 is not a report. */
static gboolean
is_text(const char *text, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if ((guchar)text[i] < 0x20 && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
      return FALSE;
  return g_utf8_validate_len(text, len, NULL);
}

AmIpreportResult
am_ipreport_parse(const guint8 *data, gsize len, AmIpreport *out, GError **error)
{
  memset(out, 0, sizeof *out);
  len = trimmed_length(data, len);
  const char *text = (const char *)data;
  if (len == 0)
    return invalid(error, "empty datagram");
  if (!is_text(text, len))
    return invalid(error, "binary datagram (%" G_GSIZE_FORMAT " bytes), not an IP report", len);
  /* pyasic drops "OK" padded with NULs on these ports: not a report. */
  if (len == 2 && memcmp(text, "OK", 2) == 0)
    return AM_IPREPORT_IGNORED;
  if (text[0] == '{')
    return parse_json(text, len, out, error);
  if (has_prefix(text, len, "IP Addr:["))
    return parse_ipollo(text, len, out, error);
  if (has_prefix(text, len, "IP:"))
    return parse_whatsminer(text, len, out, error);
  if (has_prefix(text, len, "addr:"))
    return parse_iceriver(text, len, out, error);
  if (len == strlen("DG_IPREPORT_ONLY") && has_prefix(text, len, "DG_IPREPORT_ONLY")) {
    out->family = AM_IPREPORT_ELPHAPEX;
    return AM_IPREPORT_OK;
  }
  if (memchr(text, ',', len) != NULL)
    return parse_antminer(text, len, out, error);
  g_autofree char *shown = snippet(text, len);
  return invalid(error, "'%s' is not an IP report", shown);
}
