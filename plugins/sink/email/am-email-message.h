/* The e-mail a notification becomes: headers, a plain-text part and an
 * HTML part (multipart/alternative), quoted-printable, CRLF line ends.
 * Pure: no I/O, no clock (the caller passes the date and a unique id). */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

typedef struct {
  const char *from;
  const char *const *to;
  const char *subject_prefix; /* "[antmon]", or NULL */
  const char *dashboard_url;  /* template, or NULL */
  gboolean html;              /* add the HTML part */
  gint64 date_us;             /* the Date: header */
  const char *unique;         /* Message-ID and MIME boundary: letters and digits */
} AmEmailOptions;

/* Returns: (transfer full) the whole message, ready for SMTP DATA. */
char *am_email_build(const AmNotification *n, const AmEmailOptions *options);

/* An unstructured header value: as is when it is printable ASCII, else
 * RFC 2047 encoded words ("=?UTF-8?B?...?="), folded. (transfer full) */
char *am_email_encode_header(const char *text);

/* Quoted-printable (RFC 2045) of UTF-8 text with '\n' line ends; the
 * result has CRLF line ends and no line over 76 characters. (transfer full) */
char *am_email_quoted_printable(const char *text);

/* The HTML part's document. (transfer full) */
char *am_email_html(const AmNotification *n, const char *dashboard_url);

G_END_DECLS
