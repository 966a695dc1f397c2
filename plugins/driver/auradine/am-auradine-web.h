/* One request to the Auradine web API on TCP 8080: a GET carrying the
 * header "Token: <token>", or a POST of a JSON body (the login). One hard
 * deadline covers connect, request and body; the body is capped; errors
 * are AM_ERROR codes that name the address and the path. */
#pragma once

#include <antmon/antmon.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  const char *host;
  guint16 port;
  const char *path;      /* "/ipreport" */
  const char *token;     /* sent as "Token:" when not NULL */
  const char *json_body; /* POST this when not NULL, else GET */
  guint timeout_ms;      /* 0 means AM_RPC_DEFAULT_TIMEOUT_MS */
  gsize max_body;        /* 0 means AM_RPC_DEFAULT_MAX_REPLY */
} AmAuradineRequest;

/* Starts the request. @request and its strings are copied. */
void am_auradine_http_async(SoupSession *session, const AmAuradineRequest *request,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data);

/* Returns: (transfer full) the body of a 2xx reply, or NULL with @error:
 * AM_ERROR_AUTH (401 or 403), AM_ERROR_UNSUPPORTED (404), AM_ERROR_API
 * (other statuses), AM_ERROR_TIMEOUT, AM_ERROR_REFUSED, AM_ERROR_RESET,
 * AM_ERROR_PARSE (not HTTP), AM_ERROR_TOO_LARGE, or G_IO_ERROR_CANCELLED
 * when the caller cancelled. */
GBytes *am_auradine_http_finish(GAsyncResult *result, GError **error);

G_END_DECLS
