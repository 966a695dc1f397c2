/* The [http:api] instance: a libsoup server with its settings, the request
 * being answered, and the reply helpers every endpoint uses. */
#pragma once

#include "am-http-cache.h"
#include "am-http-static.h"
#include <antmon/antmon.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The group's keys, read and checked by create(). */
typedef struct {
  char *listen_host;    /* an IP literal or "localhost" */
  guint16 listen_port;  /* 0: any free port (tests) */
  char *token;          /* or NULL: no authentication (loopback only) */
  GTlsCertificate *tls; /* or NULL: plain HTTP */
  guint api_max_limit;
  guint max_body_bytes;
  guint max_header_bytes;
  guint max_connections;    /* open at once, idle keep-alive ones included */
  guint request_timeout_ms; /* for a request to arrive whole */
  guint idle_timeout_ms;    /* keep-alive; 0: one request per connection */
  gint64 stale_after_us;    /* from [core] interval and poll_timeout */
  gboolean actions;         /* the control plane's endpoints (needs token) */
  char *token_name;         /* who acts with token, for the audit trail */
  GPtrArray *action_tokens; /* AmHttpNamedToken* of action_tokens_file=, or NULL */
} AmHttpConfig;

void am_http_config_clear(AmHttpConfig *config);

typedef struct _AmHttpServer AmHttpServer;

/* Returns: (transfer full) a server that does not listen yet. */
AmHttpServer *am_http_server_new(AmContext *ctx, AmHttpConfig *config /* (transfer full) */);
gboolean am_http_server_start(AmHttpServer *server, GError **error);
/* Cancels history queries in flight and stops listening. */
void am_http_server_free(AmHttpServer *server);

/* The root URL once listening ("http://127.0.0.1:8080/"). (transfer none) */
const char *am_http_server_get_url(AmHttpServer *server);

/* am_context_health_json() plus "http": the connections. (transfer full) */
JsonNode *am_http_server_health(AmHttpServer *server);

/* The connections' counters, as a JSON object for /api/health.
 * (transfer full) */
JsonNode *am_http_server_connections_json(AmHttpServer *server);

/* ---- for the endpoints ----------------------------------------------------- */

typedef struct {
  AmHttpServer *server;
  AmContext *ctx;
  const AmHttpConfig *config;
  SoupServerMessage *msg;
  const char *path;
  GHashTable *query;  /* decoded: char* -> char* */
  AmHttpFleet *fleet; /* the miners as the API writes them */
  const char *who;    /* the token's name (token_name=), for actions */
} AmHttpRequest;

/* An endpoint. It answers before returning, or pauses the message with
 * am_http_request_defer() and answers later. */
typedef void (*AmHttpHandler)(AmHttpRequest *req);

/* A JSON reply with Cache-Control: no-store. (@node transfer full) */
void am_http_reply_json(SoupServerMessage *msg, guint status, JsonNode *node);

/* am_context_health_json(), at most a second old: its counters describe
 * poll passes, and /api/summary and /metrics are polled far more often
 * than that. (transfer none) */
JsonNode *am_http_request_health(AmHttpRequest *req);

/* The last /api/summary reply while it still holds: at most a second old
 * (as its health parts) and no change seen in the fleet since. NULL when
 * it must be made again. (transfer full) */
GBytes *am_http_request_cached_summary(AmHttpRequest *req);
void am_http_request_cache_summary(AmHttpRequest *req, GBytes *text);

/* JSON already written as text. (@text transfer full) */
void am_http_reply_json_text(SoupServerMessage *msg, guint status, GBytes *text);

/* {"error":{"code":..,"message":..[,"parameter":..]}} */
void am_http_reply_error(SoupServerMessage *msg, guint status, const char *code,
                         const char *parameter, const char *message);

/* The 400 for a bad query parameter named @name. */
void am_http_reply_bad_param(SoupServerMessage *msg, const char *name, const GError *error);

/* A reply the endpoint answers later (history queries): the message stays
 * paused until am_http_deferred_finish(). If the client goes away first,
 * msg becomes NULL; if the server stops first, the cancellable is
 * cancelled. Either way the endpoint just finishes without replying. */
typedef struct {
  AmContext *ctx;
  const AmHttpConfig *config;
  SoupServerMessage *msg; /* NULL once the client went away */
  GCancellable *cancellable;
  gpointer data;
  GDestroyNotify data_free;
  /*< private >*/
  AmHttpServer *server;
  gulong finished_id;
} AmHttpDeferred;

AmHttpDeferred *am_http_request_defer(AmHttpRequest *req, gpointer data, GDestroyNotify data_free);

/* TRUE when the reply can no longer be sent (client gone, server stopping). */
gboolean am_http_deferred_is_gone(AmHttpDeferred *deferred);

/* Unpauses (when the client is still there) and frees. Call once the reply
 * is set, or to drop it. */
void am_http_deferred_finish(AmHttpDeferred *deferred);

G_END_DECLS
