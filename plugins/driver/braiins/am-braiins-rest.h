/* One poll of the Braiins OS public REST API (/api/v1 on HTTP port 80,
 * BOS 23.03 and later): log in, read the eight endpoints, normalize; and
 * one write (an action) with the same login.
 *
 * Authentication, as the firmware does it: POST /api/v1/auth/login with
 * {"username","password"} returns {"token","timeout_s"}; the token goes in
 * the Authorization header as it is (API 1.3.0) or as "Bearer <token>"
 * (API 1.2.0). The raw form is sent first; a 401 to a fresh token is
 * retried once with Bearer, and the form that worked is remembered per
 * miner. Factory credentials are root/root from BOS 25.07 and root with an
 * empty password before, so a 401 to the configured password is followed
 * by one login with the empty password (remembered per miner too). The
 * token is kept per miner until timeout_s passes without a request (each
 * request renews it) or a request answers 401. */
#pragma once

#include "am-braiins-action.h"

#include <antmon/antmon.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Per driver instance: "host:port" -> what was learnt about logging in. */
typedef GHashTable AmBraiinsAuthCache;

/* Returns: (transfer full) an empty cache (a GHashTable, unref to free). */
AmBraiinsAuthCache *am_braiins_auth_cache_new(void);

typedef struct {
  const char *host;
  guint16 port;
  const char *user;
  const char *password;
  guint timeout_ms; /* per request */
} AmBraiinsRestTarget;

/* Polls @target. @target is copied; @cache is referenced. */
void am_braiins_rest_poll_async(SoupSession *session, AmBraiinsAuthCache *cache,
                                const AmBraiinsRestTarget *target, AmMiner *miner,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data);

/* Returns: (transfer full) the sample (partial when some endpoints failed),
 * or NULL with @error: AM_ERROR_UNSUPPORTED when there is no REST API there
 * (login answered 404/405, the port is closed, or it does not speak HTTP:
 * the caller may fall back to the RPC), AM_ERROR_AUTH when the credentials
 * were refused, or the transport's error when nothing could be read. */
AmSample *am_braiins_rest_poll_finish(GAsyncResult *result, GError **error);

/* Sends one write (an action) to @target with the poll's login and token
 * cache: completes when the firmware accepted it (2xx). @write is copied.
 * Errors: those of a poll's login, AM_ERROR_UNSUPPORTED (the firmware has
 * no such path: 404/405), AM_ERROR_API (any other refusal, with its HTTP
 * status), and the transport's. */
void am_braiins_rest_write_async(SoupSession *session, AmBraiinsAuthCache *cache,
                                 const AmBraiinsRestTarget *target, AmMiner *miner,
                                 const AmBraiinsRestWrite *write, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean am_braiins_rest_write_finish(GAsyncResult *result, GError **error);

/* The passwords a login tries, in order: the configured one, then the
 * empty one BOS shipped with before 25.07; the empty one first once it is
 * known to work on this miner. Returns how many (1 or 2) went into @out. */
guint am_braiins_login_passwords(const char *configured, gboolean empty_works, const char *out[2]);

G_END_DECLS
