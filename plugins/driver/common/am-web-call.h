/* One HTTP request to a miner's web server, for every web driver: any
 * method, an optional body, the headers these firmwares authenticate with
 * (Authorization raw or Bearer, Token:, Cookie, HTTP digest), one hard
 * deadline (AmDeadline) for connect, request and body together, a body
 * size cap, the reply's status and Set-Cookie, and errors in the AM_ERROR
 * domain that name the address, the method and the path (never the query
 * or a header value, which may hold a secret).
 *
 * Compiled into each web driver (driver_web_src in meson.build), with the
 * SoupSession settings they share. */
#pragma once

#include <antmon/antmon.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  /* "GET", "POST": plain literals. Not SOUP_METHOD_*: those intern the
   * first caller's static string in libsoup, which dangles once that
   * plugin is unloaded and libsoup is not. */
  const char *method;
  const char *host;
  guint16 port;
  /* "/api/v1/mining", encoded; named in messages, with any query it has */
  const char *path;
  const char *query; /* encoded, without '?', or NULL; never in messages */
  const char *body;  /* the request body, or NULL for none */
  gsize body_len;    /* 0 means strlen(body) */
  /* of @body; NULL means "application/json" */
  const char *content_type;
  const char *authorization; /* the whole value: "Bearer <jwt>", a raw token */
  const char *cookie;        /* the Cookie header: "session=abc" */
  /* More request headers: name, value, name, value, ..., NULL ("Token"). */
  const char *const *headers;
  /* HTTP authentication (digest or basic): offered once when challenged;
   * a second challenge means they were refused (AM_ERROR_AUTH). */
  const char *username;
  const char *password;
  /* A 3xx is the answer (AM_ERROR_API, its status in status_out) rather
   * than followed: a login page behind a redirect is not the data asked for. */
  gboolean no_redirect;
  guint timeout_ms; /* 0 means AM_RPC_DEFAULT_TIMEOUT_MS */
  gsize max_body;   /* 0 means AM_RPC_DEFAULT_MAX_REPLY */
} AmWebCall;

/* Returns: (transfer full) a session set up for miners: no proxy (miners
 * sit on the LAN), many connections across hosts, short-lived keep-alive,
 * no cookie jar (the drivers keep their sessions themselves). */
SoupSession *am_web_session_new(void);

/* Returns: (transfer full) "host:port", or "[v6]:port", for messages. */
char *am_web_format_address(const char *host, guint16 port);

/* Starts the request. @call and everything it points to is copied. */
void am_web_call_async(SoupSession *session, const AmWebCall *call, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data);

/* What every web driver reads from its [driver:NAME] group: the web port
 * (@port_key, e.g. "http_port"), "timeout" (100ms..1h, default the RPC's
 * 10 s), "user" and "password" (or "password_file"), defaulting to the
 * firmware's factory credentials. @default_user NULL: the family logs in
 * with a password only, and "user" is not read. @kf NULL: all defaults. */
typedef struct {
  guint16 port;
  guint timeout_ms;
  char *user; /* NULL when @default_user was */
  char *password;
} AmWebSettings;

gboolean am_web_settings_read(GKeyFile *kf, const char *group, const char *port_key,
                              guint16 default_port, const char *default_user,
                              const char *default_password, AmWebSettings *out, GError **error);
void am_web_settings_clear(AmWebSettings *settings);

/* How much of a refusal's body an error message quotes, in bytes. */
#define AM_WEB_REFUSAL_MAX 512

/* Returns: (transfer full) the body of a 2xx reply, or NULL with @error:
 * AM_ERROR_AUTH (401 or 403), AM_ERROR_UNSUPPORTED (404 or 405: no such
 * path or method here), AM_ERROR_API (any other status); for these the
 * message ends with what the miner answered, when that is JSON or plain
 * text: its first AM_WEB_REFUSAL_MAX bytes on one line ("..." when cut),
 * with the password, token and extra header values we sent replaced by
 * "***" should it echo them; AM_ERROR_TIMEOUT,
 * AM_ERROR_REFUSED, AM_ERROR_RESET, AM_ERROR_PARSE (the answer was not
 * HTTP), AM_ERROR_TOO_LARGE, AM_ERROR_CONFIG (not a valid URL), or
 * G_IO_ERROR_CANCELLED when the caller cancelled. @status_out (optional)
 * receives the HTTP status, also on error; 0 when none arrived. */
GBytes *am_web_call_finish(GAsyncResult *result, guint *status_out, GError **error);

/* Returns: (transfer full) the cookies the reply set (Set-Cookie), as the
 * Cookie header that sends them back ("a=1; b=2"), or NULL when it set
 * none or no reply arrived. Call with the same @result as finish. */
char *am_web_call_cookies(GAsyncResult *result);

/* Returns: (transfer full) the value of the cookie @name the reply set, or
 * NULL when it set none (or an empty one). */
char *am_web_call_cookie(GAsyncResult *result, const char *name);

G_END_DECLS
