/* One HTTP request to a miner's web API that logs in with a token or a
 * cookie rather than HTTP digest: any method, an optional body, an optional
 * Authorization or Cookie header, one hard deadline for connect, request
 * and body together, a body size cap, and errors in the AM_ERROR domain
 * that name the address and path.
 *
 * antminer-web's am_web_get_async() does digest GETs only; this is the same
 * contract for the login-then-bearer (Proto) and login-then-cookie
 * (SealMiner) APIs. The SoupSession comes from am_web_session_new(). */
#pragma once

#include <antmon/antmon.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  const char *host;
  guint16 port;
  const char *method;        /* "GET", "POST" */
  const char *path;          /* with its query, "/api/v1/telemetry?level=miner" */
  const char *content_type;  /* of @body; NULL when there is none */
  GBytes *body;              /* NULL for none */
  const char *authorization; /* the whole header value ("Bearer x"), or NULL */
  const char *cookie;        /* "name=value", or NULL */
  guint timeout_ms;          /* 0 means AM_RPC_DEFAULT_TIMEOUT_MS */
  gsize max_body;            /* 0 means AM_RPC_DEFAULT_MAX_REPLY */
} AmRestCall;

/* Starts the request. @call is copied (the body referenced). */
void am_rest_call_async(SoupSession *session, const AmRestCall *call, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data);

/* Returns: (transfer full) the body of a 2xx reply, or NULL with @error:
 * AM_ERROR_AUTH (401 or 403), AM_ERROR_UNSUPPORTED (404), AM_ERROR_API (any
 * other non-2xx), AM_ERROR_TIMEOUT, AM_ERROR_REFUSED, AM_ERROR_RESET,
 * AM_ERROR_PARSE (not HTTP), AM_ERROR_TOO_LARGE, or G_IO_ERROR_CANCELLED
 * when the caller cancelled. @status_out (optional) receives the HTTP
 * status, 0 when none arrived (a 302 to a login page is AM_ERROR_API with
 * status 302). @cookie_out (optional) receives the first Set-Cookie's
 * "name=value" of a 2xx reply, or NULL. */
GBytes *am_rest_call_finish(GAsyncResult *result, guint *status_out, char **cookie_out,
                            GError **error);

/* Parses @len bytes of a reply body strictly as JSON (these APIs are
 * written by JSON libraries: a body that needs the cgminer repairs is not
 * theirs). @what names the reply in messages ("GET /api/v1/mining").
 * Errors: AM_ERROR_PARSE ("empty reply", "not JSON: ...").
 * Returns: (transfer full) the root node, or NULL with @error. */
JsonNode *am_rest_parse_json(const char *what, const char *data, gsize len, GError **error);

G_END_DECLS
