/* HTTP/1.1 for the web-API families (AxeOS on the Bitaxe, ePIC UMC, ...).
 *
 * Just enough of RFC 9112 for API clients: a request line, headers up to a
 * blank line, an optional Content-Length body (read and ignored). Responses
 * always carry Content-Length. HTTP/1.1 connections stay open for the next
 * request unless the client sends "Connection: close"; HTTP/1.0 ones close.
 * Chunked request bodies are not supported (no API client sends them).
 */
#include "am-fakeminer.h"
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
  char *query = strpbrk(parts[1], "?#");
  if (query != NULL)
    *query = '\0';
  gsize head = head_length(buf, len);
  g_autofree char *connection = header_value(buf, head ? head : len, "Connection");
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
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 404:
    return "Not Found";
  default:
    return "Error";
  }
}

void
am_fm_http_response(int status, const char *content_type, const guint8 *body, gsize body_len,
                    gboolean head_only, gboolean keep_alive, GByteArray *out)
{
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %" G_GSIZE_FORMAT
                   "\r\nConnection: %s\r\n\r\n",
                   status, reason_phrase(status), content_type, body_len,
                   keep_alive ? "keep-alive" : "close");
  g_assert(n > 0 && (gsize)n < sizeof head);
  g_byte_array_append(out, (const guint8 *)head, (guint)n);
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
