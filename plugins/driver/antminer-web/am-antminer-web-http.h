/* One HTTP GET of a stock Antminer's CGI API: digest authentication through
 * libsoup's "authenticate" signal, one hard deadline for connect, request
 * and body together, a body size cap, and errors in the AM_ERROR domain
 * that name the address. */
#pragma once

#include <antmon/antmon.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  const char *host;
  guint16 port;
  const char *path;     /* "/cgi-bin/stats.cgi" */
  const char *username; /* offered once per request when challenged */
  const char *password;
  guint timeout_ms; /* the deadline; 0 means AM_RPC_DEFAULT_TIMEOUT_MS */
  gsize max_body;   /* 0 means AM_RPC_DEFAULT_MAX_REPLY */
} AmWebRequest;

/* Returns: (transfer full) a session set up for miners: no proxy (miners
 * sit on the LAN), many connections across hosts, short-lived keep-alive. */
SoupSession *am_web_session_new(void);

/* Starts the GET. @request is copied. */
void am_web_get_async(SoupSession *session, const AmWebRequest *request, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data);

/* Returns: (transfer full) the body of a 2xx reply, or NULL with @error:
 * AM_ERROR_AUTH (401 after offering the credentials: "wrong username or
 * password"), AM_ERROR_UNSUPPORTED (404), AM_ERROR_API (any other non-2xx),
 * AM_ERROR_TIMEOUT, AM_ERROR_REFUSED, AM_ERROR_RESET, AM_ERROR_PARSE (not
 * HTTP), AM_ERROR_TOO_LARGE, or G_IO_ERROR_CANCELLED when the caller
 * cancelled. @status_out (optional) receives the HTTP status, 0 when none
 * arrived. */
GBytes *am_web_get_finish(GAsyncResult *result, guint *status_out, GError **error);

G_END_DECLS
