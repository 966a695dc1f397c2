/* One HTTP exchange with the Braiins OS REST API: GET or POST with a JSON
 * body and an Authorization header, one deadline for connect, request and
 * body together, a body size cap, and errors in the AM_ERROR domain that
 * name the address and path. The session comes from antminer-web's
 * am_web_session_new() (compiled in): that helper only does digest GETs,
 * and these APIs need POST, a token header (REST) and a session cookie
 * (GraphQL). */
#pragma once

#include <antmon/antmon.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  const char *host;
  guint16 port;
  /* "GET" or "POST" as plain literals: SOUP_METHOD_POST keeps the first
   * caller's static string inside libsoup, which dangles once this
   * plugin is unloaded and libsoup is not. */
  const char *method;
  const char *path;          /* "/api/v1/miner/details" */
  const char *json_body;     /* POST body (application/json), or NULL */
  const char *authorization; /* the Authorization header's value, or NULL */
  const char *cookie;        /* the Cookie header's value, or NULL */
  guint timeout_ms;          /* 0 means AM_RPC_DEFAULT_TIMEOUT_MS */
  gsize max_body;            /* 0 means AM_RPC_DEFAULT_MAX_REPLY */
} AmBraiinsHttpRequest;

/* Starts the exchange. @request and its strings are copied. */
void am_braiins_http_async(SoupSession *session, const AmBraiinsHttpRequest *request,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);

/* Returns: (transfer full) the body of a 2xx reply, or NULL with @error:
 * AM_ERROR_AUTH (401 or 403), AM_ERROR_UNSUPPORTED (404 or 405: the path is
 * not offered), AM_ERROR_API (any other status), AM_ERROR_TIMEOUT,
 * AM_ERROR_REFUSED, AM_ERROR_RESET, AM_ERROR_PARSE (the answer was not
 * HTTP), AM_ERROR_TOO_LARGE, or G_IO_ERROR_CANCELLED when the caller
 * cancelled. @status_out (optional) gets the HTTP status, 0 when none. */
GBytes *am_braiins_http_finish(GAsyncResult *result, guint *status_out, GError **error);

/* The value of the cookie @name the answer set (Set-Cookie), or NULL.
 * Call with the same @result, before or after finish. (transfer full) */
char *am_braiins_http_cookie(GAsyncResult *result, const char *name);

G_END_DECLS
