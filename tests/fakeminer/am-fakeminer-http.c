/* HTTP/1.1 for the web-API families (AxeOS on the Bitaxe, ePIC UMC, ...).
 *
 * Just enough of RFC 9112 for API clients: a request line, headers up to a
 * blank line, an optional Content-Length body whose parameters (a form or a
 * JSON object) may pick the route or carry a login. Responses
 * always carry Content-Length. HTTP/1.1 connections stay open for the next
 * request unless the client sends "Connection: close"; HTTP/1.0 ones close.
 * Chunked request bodies are not supported (no API client sends them).
 */
#include "am-fakeminer.h"
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#define METHOD_MAX 16

/* Offset just past the blank line ending the head, or 0 when not there yet.
 * Bare "\n" line ends are accepted, as most servers do. */
static gsize
head_length(const char *buf, gsize len)
{
  for (gsize i = 0; i < len; i++) {
    if (buf[i] != '\n')
      continue;
    if (i + 1 < len && buf[i + 1] == '\n')
      return i + 2;
    if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
      return i + 3;
  }
  return 0;
}

/* The value of header @name (case-insensitive) in the head, trimmed, or NULL. */
static char *
header_value(const char *head, gsize len, const char *name)
{
  gsize name_len = strlen(name);
  const char *end = head + len;
  const char *line = memchr(head, '\n', len); /* skip the request line */
  while (line != NULL && line + 1 < end) {
    line++;
    const char *eol = memchr(line, '\n', (gsize)(end - line));
    if (eol == NULL)
      eol = end;
    if ((gsize)(eol - line) > name_len && g_ascii_strncasecmp(line, name, name_len) == 0 &&
        line[name_len] == ':') {
      g_autofree char *value = g_strndup(line + name_len + 1, (gsize)(eol - line - name_len - 1));
      return g_strdup(g_strstrip(value));
    }
    line = eol < end ? eol : NULL;
  }
  return NULL;
}

AmFmRequestState
am_fm_http_request_state(const char *buf, gsize len, gboolean eof, gsize *consumed)
{
  /* The method: upper-case letters, then a space. Anything else (a '{', a
   * length prefix, noise) is no HTTP request, and is known to be so at once. */
  gsize i = 0;
  while (i < len && i < METHOD_MAX && g_ascii_isupper(buf[i]))
    i++;
  if (i < len && (i == 0 || i == METHOD_MAX || buf[i] != ' '))
    return AM_FM_REQUEST_BAD;
  gsize head = head_length(buf, len);
  if (head == 0)
    return eof ? AM_FM_REQUEST_GARBAGE : AM_FM_REQUEST_INCOMPLETE;
  gsize body = 0;
  g_autofree char *length = header_value(buf, head, "Content-Length");
  if (length != NULL) {
    guint64 value = 0;
    if (!g_ascii_string_to_unsigned(length, 10, 0, AM_FM_REQUEST_MAX, &value, NULL))
      return AM_FM_REQUEST_BAD;
    body = (gsize)value;
  }
  g_autofree char *chunked = header_value(buf, head, "Transfer-Encoding");
  if (chunked != NULL)
    return AM_FM_REQUEST_BAD;
  if (head + body > AM_FM_REQUEST_MAX)
    return AM_FM_REQUEST_GARBAGE;
  if (len < head + body)
    return eof ? AM_FM_REQUEST_GARBAGE : AM_FM_REQUEST_INCOMPLETE;
  *consumed = head + body;
  return AM_FM_REQUEST_COMPLETE;
}

void
am_fm_http_request_clear(AmFmHttpRequest *request)
{
  g_clear_pointer(&request->method, g_free);
  g_clear_pointer(&request->path, g_free);
  g_clear_pointer(&request->target, g_free);
  g_clear_pointer(&request->head, g_free);
  g_clear_pointer(&request->body, g_free);
  g_clear_pointer(&request->params, g_hash_table_unref);
}

char *
am_fm_http_header(const AmFmHttpRequest *request, const char *name)
{
  return header_value(request->head, strlen(request->head), name);
}

/* "a=1&b=x%20y" (query strings, form bodies); added unless already there. */
static void
add_form_params(GHashTable *params, const char *text, gsize len)
{
  g_autoptr(GHashTable) parsed =
      g_uri_parse_params(text, (gssize)len, "&", G_URI_PARAMS_WWW_FORM, NULL);
  if (parsed == NULL)
    return; /* malformed escapes: no parameters, so no conditional route matches */
  GHashTableIter iter;
  gpointer name, value;
  g_hash_table_iter_init(&iter, parsed);
  while (g_hash_table_iter_next(&iter, &name, &value))
    if (!g_hash_table_contains(params, name))
      g_hash_table_insert(params, g_strdup(name), g_strdup(value));
}

/* The scalar members of a JSON object body, as text. */
static void
add_json_params(GHashTable *params, const char *text, gsize len)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text, (gssize)len, NULL))
    return;
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return;
  JsonObject *object = json_node_get_object(root);
  g_autoptr(GList) members = json_object_get_members(object);
  for (GList *l = members; l != NULL; l = l->next) {
    JsonNode *node = json_object_get_member(object, l->data);
    if (!JSON_NODE_HOLDS_VALUE(node) || g_hash_table_contains(params, l->data))
      continue;
    char *value = json_node_get_value_type(node) == G_TYPE_STRING
                      ? g_strdup(json_node_get_string(node))
                      : json_to_string(node, FALSE);
    g_hash_table_insert(params, g_strdup(l->data), value);
  }
}

static GHashTable *
request_params(const char *query, const char *body, gsize body_len)
{
  GHashTable *params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (query != NULL)
    add_form_params(params, query, strlen(query));
  gsize skip = 0;
  while (skip < body_len && g_ascii_isspace(body[skip]))
    skip++;
  if (skip < body_len && body[skip] == '{')
    add_json_params(params, body, body_len);
  else if (body_len > 0)
    add_form_params(params, body, body_len);
  return params;
}

gboolean
am_fm_http_parse(const char *buf, gsize len, AmFmHttpRequest *request)
{
  const char *eol = memchr(buf, '\n', len);
  if (eol == NULL)
    return FALSE;
  g_autofree char *line = g_strndup(buf, (gsize)(eol - buf));
  g_strchomp(line); /* the '\r' */
  g_auto(GStrv) parts = g_strsplit(line, " ", -1);
  if (g_strv_length(parts) != 3 || parts[1][0] != '/' || !g_str_has_prefix(parts[2], "HTTP/1."))
    return FALSE;
  request->target = g_strdup(parts[1]);
  char *fragment = strchr(parts[1], '#');
  if (fragment != NULL)
    *fragment = '\0';
  char *query = strchr(parts[1], '?');
  if (query != NULL)
    *query++ = '\0';
  gsize head = head_length(buf, len);
  if (head == 0)
    head = len;
  request->head = g_strndup(buf, head);
  request->body_len = len - head;
  request->body = g_strndup(buf + head, request->body_len);
  request->params = request_params(query, request->body, request->body_len);
  g_autofree char *connection = am_fm_http_header(request, "Connection");
  gboolean close = connection != NULL && g_ascii_strcasecmp(connection, "close") == 0;
  request->method = g_strdup(parts[0]);
  request->path = g_strdup(parts[1]);
  request->keep_alive = g_str_equal(parts[2], "HTTP/1.1") && !close;
  return TRUE;
}

static const char *
reason_phrase(int status)
{
  switch (status) {
  case 200:
    return "OK";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  default:
    return "Error";
  }
}

void
am_fm_http_response(int status, const char *content_type, const char *extra_headers,
                    const guint8 *body, gsize body_len, gboolean head_only, gboolean keep_alive,
                    GByteArray *out)
{
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %" G_GSIZE_FORMAT
                   "\r\nConnection: %s\r\n",
                   status, reason_phrase(status), content_type, body_len,
                   keep_alive ? "keep-alive" : "close");
  g_assert(n > 0 && (gsize)n < sizeof head);
  g_byte_array_append(out, (const guint8 *)head, (guint)n);
  if (extra_headers != NULL)
    g_byte_array_append(out, (const guint8 *)extra_headers, (guint)strlen(extra_headers));
  g_byte_array_append(out, (const guint8 *)"\r\n", 2);
  if (!head_only && body_len > 0)
    g_byte_array_append(out, body, (guint)body_len);
}

void
am_fm_http_response_head_unbounded(GByteArray *out)
{
  static const char head[] =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
  g_byte_array_append(out, (const guint8 *)head, sizeof head - 1);
}
