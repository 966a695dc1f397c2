/* One HTTP request to a miner's web server for the drivers whose login is
 * not HTTP authentication: a session cookie (Iceriver) or a bearer token
 * (Goldshell). antminer-web's am_web_get_async() only does GET with
 * digest auth; this adds the method, a form body, a Cookie or Bearer
 * header and the reply's Set-Cookie, with the same deadline, size cap and
 * AM_ERROR codes. The session is antminer-web's am_web_session_new().
 *
 * The iceriver and goldshell drivers both compile this file in. Messages
 * name the path only, never the query, which may carry a password. */
#pragma once

#include "../antminer-web/am-antminer-web-http.h"

G_BEGIN_DECLS

typedef struct {
  const char *method; /* SOUP_METHOD_GET or SOUP_METHOD_POST */
  const char *host;
  guint16 port;
  const char *path;   /* "/user/userpanel" */
  const char *query;  /* encoded, without '?', or NULL; never logged */
  const char *form;   /* an x-www-form-urlencoded body, or NULL for none */
  const char *cookie; /* the Cookie header, or NULL */
  const char *bearer; /* sent as "Authorization: Bearer ...", or NULL */
  guint timeout_ms;   /* the deadline; 0 means AM_RPC_DEFAULT_TIMEOUT_MS */
  gsize max_body;     /* 0 means AM_RPC_DEFAULT_MAX_REPLY */
} AmWebCall;

/* Starts the request. @call is copied. */
void am_web_call_async(SoupSession *session, const AmWebCall *call, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data);

/* Returns: (transfer full) the body of a 2xx reply, or NULL with @error:
 * AM_ERROR_AUTH (HTTP 401 or 403), AM_ERROR_UNSUPPORTED (404), AM_ERROR_API
 * (any other non-2xx), AM_ERROR_TIMEOUT, AM_ERROR_REFUSED, AM_ERROR_RESET,
 * AM_ERROR_PARSE (not HTTP), AM_ERROR_TOO_LARGE, or G_IO_ERROR_CANCELLED.
 * @cookies_out (optional) receives the reply's Set-Cookie values as one
 * Cookie header ("a=1; b=2"), or NULL when it set none. */
GBytes *am_web_call_finish(GAsyncResult *result, char **cookies_out, GError **error);

/* Returns: (transfer full) "host:port", or "[v6]:port", for messages. */
char *am_web_format_address(const char *host, guint16 port);

G_END_DECLS
