/* AmContext: the core's services as a plugin sees them. One per daemon;
 * passed to every plugin's create() and valid until its destroy(). */
#pragma once

#include <antmon/action.h>
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
  /* ABI 1.3: what its driver can do to it now (0 while not identified or
   * when the driver only reads). state is "paused" when the miner says it
   * is paused or asleep, or antmon paused it and has not resumed it. */
  AmActionSet actions;
  gpointer reserved[7];
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

/* ---- the control plane (ABI 1.3) -------------------------------------- */

/* An action, as JSON (the API, the CLI and the store's event all use it):
 *   {"id":"a-12","action":"power_target","miner":"127.0.0.1:4028",
 *    "params":{"watts":3000},"who":"ops","state":"confirming",
 *    "message":"...","created":ISO,"sent":ISO|null,"finished":ISO|null,
 *    "duration_s":N|null,"fleet":"f-3"|null}
 * state: "queued" (waiting for its batch), "sending", "confirming" (the
 * firmware accepted it; waiting for the polls to show it), then one of
 * "confirmed", "not_confirmed" (message: what the polls showed instead) or
 * "failed" (message: the firmware's or the network's error). Pool
 * passwords never appear. */

/* Starts @request on the miner whose address or host is @key, on behalf of
 * @who (the token's name, "cli", ...). Returns: (transfer full) the action
 * as above, or NULL with @error: AM_ERROR_NOT_FOUND (no such miner),
 * AM_ERROR_UNSUPPORTED (its driver cannot do that here; the message says
 * why), AM_ERROR_CONFIG (a bad parameter: watts out of range, unknown
 * mode, no pools), AM_ERROR_BUSY (the per-miner rate limit, or an action
 * on it still sending). */
JsonNode *am_context_action_submit(AmContext *ctx, const char *key, const AmActionRequest *request,
                                   const char *who, GError **error);

/* Applies @request to the miners @keys (addresses) @batch at a time, a
 * batch starting @interval_ms after the previous one started (0: all at
 * once). @dry_run: only says what would be done, per miner ("would_do" or
 * the reason it would be skipped). Returns: (transfer full)
 *   {"id":"f-3","action":..,"params":..,"who":..,"batch":N,"interval_s":N,
 *    "dry_run":bool,"state":"running"|"done","created":ISO,
 *    "counts":{"confirmed":N,...},"miners":[{"miner":..,"id":"a-12"|null,
 *    "state":..,"message":..}]}
 * or NULL with AM_ERROR_CONFIG for a bad parameter or no miners. */
JsonNode *am_context_action_submit_fleet(AmContext *ctx, const char *const *keys, guint n_keys,
                                         const AmActionRequest *request, guint batch,
                                         guint interval_ms, gboolean dry_run, const char *who,
                                         GError **error);

/* Returns: (transfer full) the action ("a-...") or fleet job ("f-...")
 * @id as above, or NULL when there is none (the core keeps the last 1,000). */
JsonNode *am_context_action_get(AmContext *ctx, const char *id);

/* Returns: (transfer full) what can be done to the miner @key:
 *   {"supported":["reboot",...],"unsupported":{"pause":"why",...}}
 * or NULL when there is no such miner. */
JsonNode *am_context_miner_actions_json(AmContext *ctx, const char *key);

G_END_DECLS
