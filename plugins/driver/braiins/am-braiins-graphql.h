/* One poll of the Braiins OS GraphQL API (POST /graphql on the web port,
 * BOS 21.09 to 25.05): log in, send the six queries, normalize.
 *
 * Authentication, as the firmware does it: the mutation auth.login with
 * the user and password as variables answers VoidResult and sets the
 * cookie session_id, or AuthError (or an HTTP 401/403) for wrong
 * credentials. Every query then carries "Cookie: session_id=<value>". The
 * factory login of these versions is root with an empty password, so a
 * refused configured password is followed by one login with the empty one
 * (remembered per miner). The session is kept per miner until a query is
 * refused (HTTP 401/403 or a GraphQL error on the first query with a kept
 * session), which logs in again once. */
#pragma once

#include "am-braiins-rest.h"

G_BEGIN_DECLS

/* Per driver instance: "host:port" -> what was learnt about logging in. */
typedef GHashTable AmBraiinsGqlAuthCache;

/* Returns: (transfer full) an empty cache (a GHashTable, unref to free). */
AmBraiinsGqlAuthCache *am_braiins_gql_auth_cache_new(void);

/* Polls @target (the same target as REST: host, web port, credentials).
 * @target is copied; @cache is referenced. */
void am_braiins_gql_poll_async(SoupSession *session, AmBraiinsGqlAuthCache *cache,
                               const AmBraiinsRestTarget *target, AmMiner *miner,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);

/* Returns: (transfer full) the sample (partial when some queries failed),
 * or NULL with @error: AM_ERROR_UNSUPPORTED when there is no GraphQL API
 * there (404/405, port closed, not HTTP, or not a GraphQL answer: the
 * caller may fall back to the RPC), AM_ERROR_AUTH when the credentials
 * were refused, or the first failure when nothing could be read. */
AmSample *am_braiins_gql_poll_finish(GAsyncResult *result, GError **error);

/* Sends one mutation (@mutation: the whole POST body, from
 * am_braiins_gql_action()) with the poll's login and session cache;
 * completes when the answer has data and no errors. Errors: those of a
 * poll's login, AM_ERROR_API with the firmware's GraphQL error message,
 * and the transport's. */
void am_braiins_gql_write_async(SoupSession *session, AmBraiinsGqlAuthCache *cache,
                                const AmBraiinsRestTarget *target, AmMiner *miner,
                                const char *mutation, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
gboolean am_braiins_gql_write_finish(GAsyncResult *result, GError **error);

G_END_DECLS
