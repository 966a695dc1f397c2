/* Building the e-mail (see am-email-message.h). */
#include "am-email-message.h"
#include "am-sink-format.h"
#include <string.h>

#define QP_LINE_MAX 76
/* UTF-8 bytes per encoded word: base64 of 39 bytes is 52 characters; with
 * "=?UTF-8?B?", "?=" and a "Subject: " before the first word, every line
 * stays within RFC 2047's 76. */
#define WORD_BYTES 39

static gboolean
is_plain_ascii(const char *text)
{
  for (const guchar *p = (const guchar *)text; *p != '\0'; p++)
    if (*p < 0x20 || *p > 0x7e)
      return FALSE;
  return TRUE;
}

char *
am_email_encode_header(const char *text)
{
  if (is_plain_ascii(text))
    return g_strdup(text);
  g_autofree char *valid = g_utf8_make_valid(text, -1);
  GString *out = g_string_new(NULL);
  const char *p = valid;
  while (*p != '\0') {
    /* Never split a character between two words. */
    const char *end = p;
    while (*end != '\0') {
      const char *next = g_utf8_next_char(end);
      if (next - p > WORD_BYTES)
        break;
      end = next;
    }
    g_autofree char *b64 = g_base64_encode((const guchar *)p, end - p);
    g_string_append_printf(out, "%s=?UTF-8?B?%s?=", out->len > 0 ? "\r\n " : "", b64);
    p = end;
  }
  return g_string_free(out, FALSE);
}

static void
qp_line(GString *out, const char *line, gsize len)
{
  gsize width = 0;
  for (gsize i = 0; i < len; i++) {
    guchar c = (guchar)line[i];
    gboolean last = i + 1 == len;
    char piece[4];
    /* Blanks at the end of a line would be eaten in transit. */
    if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last))
      g_snprintf(piece, sizeof piece, "%c", c);
    else
      g_snprintf(piece, sizeof piece, "=%02X", c);
    gsize plen = strlen(piece);
    if (width + plen > QP_LINE_MAX - 1) {
      g_string_append(out, "=\r\n");
      width = 0;
    }
    g_string_append(out, piece);
    width += plen;
  }
  g_string_append(out, "\r\n");
}

char *
am_email_quoted_printable(const char *text)
{
  GString *out = g_string_new(NULL);
  const char *p = text;
  while (*p != '\0') {
    const char *nl = strchr(p, '\n');
    gsize len = nl != NULL ? (gsize)(nl - p) : strlen(p);
    gsize content = len > 0 && p[len - 1] == '\r' ? len - 1 : len;
    qp_line(out, p, content);
    p += nl != NULL ? len + 1 : len;
  }
  return g_string_free(out, FALSE);
}

static void
html_row(GString *out, const char *label, const char *value, const char *link)
{
  if (value == NULL || value[0] == '\0')
    return;
  g_autofree char *v = g_markup_escape_text(value, -1);
  g_string_append_printf(out, "<tr><td style=\"color:#666;padding-right:1em\">%s</td><td>", label);
  if (link != NULL) {
    g_autofree char *href = g_markup_escape_text(link, -1);
    g_string_append_printf(out, "<a href=\"%s\">%s</a>", href, v);
  } else {
    g_string_append(out, v);
  }
  g_string_append(out, "</td></tr>\n");
}

static const char *
colour_of(const AmAlert *a)
{
  if (a->resolved)
    return "#2e7d32";
  return a->severity == AM_SEVERITY_CRITICAL  ? "#c62828"
         : a->severity == AM_SEVERITY_WARNING ? "#ef6c00"
                                              : "#1565c0";
}

static void
html_alert(GString *out, const AmAlert *a, const char *dashboard_url)
{
  g_autofree char *title = am_sink_format_line(a);
  g_autofree char *title_html = g_markup_escape_text(title, -1);
  g_autofree char *miner = am_sink_format_miner(a);
  g_autofree char *link = am_sink_dashboard_url(dashboard_url, a);
  g_autofree char *rule =
      g_strdup_printf("%s (%s)", a->rule, a->rule_type != NULL ? a->rule_type : "?");
  g_autofree char *value = am_sink_format_value(a->value, a->unit);
  g_autofree char *threshold = am_sink_format_value(a->threshold, a->unit);
  g_autofree char *when = a->when_us > 0 ? am_time_to_iso8601(a->when_us) : NULL;
  g_string_append_printf(out,
                         "<table style=\"border-collapse:collapse;margin:0 0 1.2em 0\">\n"
                         "<tr><th colspan=\"2\" style=\"text-align:left;color:%s\">%s</th></tr>\n",
                         colour_of(a), title_html);
  html_row(out, "Miner", miner, link);
  html_row(out, "Model", a->model, NULL);
  html_row(out, "Rule", rule, NULL);
  html_row(out, "Value", value, NULL);
  html_row(out, a->resolved ? "Clear at" : "Threshold", threshold, NULL);
  html_row(out, "Time", when, NULL);
  html_row(out, "Dashboard", link, link);
  g_string_append(out, "</table>\n");
}

char *
am_email_html(const AmNotification *n, const char *dashboard_url)
{
  g_autofree char *subject = g_markup_escape_text(n->subject, -1);
  GString *out = g_string_new(NULL);
  g_string_append_printf(out,
                         "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>"
                         "</head>\n<body style=\"font-family:sans-serif\">\n<h3>%s</h3>\n",
                         subject, subject);
  for (guint i = 0; i < n->n_alerts; i++)
    html_alert(out, n->alerts[i], dashboard_url);
  g_string_append(out, "<p style=\"color:#888\">antmon</p>\n</body></html>\n");
  return g_string_free(out, FALSE);
}

/* RFC 5322 date in UTC, with English names whatever the locale. */
static char *
format_date(gint64 date_us)
{
  static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(date_us / G_USEC_PER_SEC);
  return g_strdup_printf("%s, %02d %s %04d %02d:%02d:%02d +0000",
                         days[g_date_time_get_day_of_week(dt) - 1],
                         g_date_time_get_day_of_month(dt), months[g_date_time_get_month(dt) - 1],
                         g_date_time_get_year(dt), g_date_time_get_hour(dt),
                         g_date_time_get_minute(dt), g_date_time_get_second(dt));
}

static void
add_part(GString *out, const char *boundary, const char *type, const char *body)
{
  g_autofree char *qp = am_email_quoted_printable(body);
  g_string_append_printf(out,
                         "--%s\r\nContent-Type: %s; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s",
                         boundary, type, qp);
}

char *
am_email_build(const AmNotification *n, const AmEmailOptions *o)
{
  g_autofree char *date = format_date(o->date_us);
  g_autofree char *full_subject = o->subject_prefix != NULL && o->subject_prefix[0] != '\0'
                                      ? g_strdup_printf("%s %s", o->subject_prefix, n->subject)
                                      : g_strdup(n->subject);
  g_autofree char *subject = am_email_encode_header(full_subject);
  g_autofree char *to = g_strjoinv(", ", (char **)o->to);
  const char *at = strrchr(o->from, '@');
  g_autofree char *boundary = g_strdup_printf("antmon-%s", o->unique);
  g_autofree char *text = am_sink_format_text(n, o->dashboard_url);

  GString *out = g_string_new(NULL);
  g_string_append_printf(out,
                         "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\n"
                         "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                         "Auto-Submitted: auto-generated\r\nX-Mailer: antmon\r\n",
                         date, o->from, to, subject, o->unique, at != NULL ? at + 1 : "antmon");
  if (!o->html) {
    g_autofree char *qp = am_email_quoted_printable(text);
    g_string_append_printf(out,
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s",
                           qp);
    return g_string_free(out, FALSE);
  }
  g_autofree char *html = am_email_html(n, o->dashboard_url);
  g_string_append_printf(out, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                         boundary);
  add_part(out, boundary, "text/plain", text);
  add_part(out, boundary, "text/html", html);
  g_string_append_printf(out, "--%s--\r\n", boundary);
  return g_string_free(out, FALSE);
}
