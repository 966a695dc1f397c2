/* AmContext: the core's services as a plugin sees them. One per daemon;
 * passed to every plugin's create() and valid until its destroy(). */
#pragma once

#include <antmon/sample.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _AmContext AmContext;

/* Directory for state files (databases); relative paths resolve here.
 * (transfer none) */
const char *am_context_get_state_dir(AmContext *ctx);

/* Path of the configuration file in use, for messages. (transfer none) */
const char *am_context_get_config_path(AmContext *ctx);

/* Resolves @path against the state directory unless it is absolute.
 * Returns: (transfer full). */
char *am_context_resolve_state_path(AmContext *ctx, const char *path);

/* ---- what the core knows about miners (for the HTTP plugin) ----------- */

/* One miner as the core sees it now. Valid only during the callback. */
typedef struct {
  guint32 struct_size;
  const char *address; /* "host:port", the miner's key */
  const char *host;
  guint16 port;
  const char *name;
  const char *state;        /* "online", "degraded", "offline", "unreachable" */
  const char *state_reason; /* or NULL */
  const char *last_error;   /* "timeout", "refused", ... of the last failure, or NULL */
  gint64 last_seen_us;      /* wall clock of the last good poll, 0 if never */
  guint failures;           /* consecutive */
  const char *driver;       /* or NULL while not identified */
  const char *source;       /* "static", "cidr", "mdns" */
  AmSample *sample;         /* the latest good sample, or NULL (transfer none) */
  gpointer reserved[8];
} AmMinerView;

typedef void (*AmMinerViewFunc)(const AmMinerView *view, gpointer user_data);

/* Calls @func for every known miner, in no particular order. */
void am_context_foreach_miner(AmContext *ctx, AmMinerViewFunc func, gpointer user_data);

/* Calls @func for the miner whose address ("host:port") or host is @key.
 * Returns FALSE (and does not call @func) when there is none. */
gboolean am_context_get_miner(AmContext *ctx, const char *key, AmMinerViewFunc func,
                              gpointer user_data);

/* The last raw replies of a miner, as am_miner_raw_to_json(), or NULL when
 * there is no such miner. (transfer full) When none is kept, the miner is
 * polled at once, so asking again a moment later shows its replies. */
JsonNode *am_context_miner_raw_json(AmContext *ctx, const char *key);

/* The agent's own health: version, uptime, plugins loaded and rejected,
 * poll and discovery counters, store queue depth and drops.
 * Returns: (transfer full) a JSON object node. */
JsonNode *am_context_health_json(AmContext *ctx);

/* Runs a history query on the store's read-only connection in a worker
 * thread (see AmStoreVTable.query). Fails with AM_ERROR_UNSUPPORTED when no
 * store is configured. */
void am_context_store_query_async(AmContext *ctx, const char *query, GHashTable *params,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
/* Returns: (transfer full) the JSON result, or NULL with @error. */
JsonNode *am_context_store_query_finish(AmContext *ctx, GAsyncResult *result, GError **error);

G_END_DECLS
