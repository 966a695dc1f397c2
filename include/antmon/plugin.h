/* The antmon plugin ABI.
 *
 * A plugin is a shared object named "<kind>-<name>.so" (driver-antminer.so,
 * sink-email.so) that exports exactly one symbol:
 *
 *     const AmPluginInfo *am_plugin_get_info(void);
 *
 * returning a static, const descriptor. Before calling anything else the
 * loader checks abi_major == AM_ABI_MAJOR, abi_minor <= AM_ABI_MINOR,
 * struct_size >= the size it needs, that name and kind match the file name,
 * and (for configured kinds) the ini group. A plugin that fails a check is
 * skipped with one log line naming the file and the reason.
 *
 * Rules a plugin follows:
 *  - no file-static mutable state: create() returns an instance, and two
 *    instances of one plugin ([sink:webhook:ops], [sink:webhook:oncall])
 *    must not interfere;
 *  - the core calls into a plugin from one thread (the main loop; a store's
 *    write calls come from the store's writer thread only), so a plugin needs
 *    no locks; a function a plugin hands to am_work_async() (antmon/work.h,
 *    ABI 1.4) runs on a worker, reads only its own input and calls only
 *    what that header lists, so this still holds;
 *  - every network operation is asynchronous and honours the cancellable;
 *  - errors use the AM_ERROR domain (antmon/error.h).
 *
 * Use AM_PLUGIN_DEFINE() below to fill the ABI fields. */
#pragma once

#include <antmon/action.h>
#include <antmon/alert.h>
#include <antmon/context.h>
#include <antmon/miner.h>
#include <antmon/sample.h>
#include <antmon/version.h>
#include <gio/gio.h>
#include <gmodule.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  AM_PLUGIN_KIND_DISCOVERY = 1,
  AM_PLUGIN_KIND_DRIVER,
  AM_PLUGIN_KIND_STORE,
  AM_PLUGIN_KIND_SINK,
  AM_PLUGIN_KIND_HTTP,
  AM_PLUGIN_KIND_EXPORTER, /* ABI 1.4 */
} AmPluginKind;

/* "discovery", "driver", ... (transfer none); NULL for an unknown kind. */
const char *am_plugin_kind_to_string(AmPluginKind kind);

/* ---- driver ------------------------------------------------------------ */

/* How well a driver thinks it fits a miner, from the shared fingerprint. */
typedef enum {
  AM_MATCH_UNSUPPORTED = 0,
  AM_MATCH_MAYBE,     /* could be; probe only if nothing likelier works */
  AM_MATCH_LIKELY,    /* probe early */
  AM_MATCH_SUPPORTED, /* certain: stop looking */
} AmMatch;

/* What the core learnt about a miner once, before asking the drivers: the
 * "version" reply on TCP/4028 and, where 4028 is closed, HTTP "GET /".
 * Read-only for drivers; every pointer may be NULL. */
typedef struct {
  guint32 struct_size;
  const char *host;
  guint16 port;
  gboolean rpc_open;         /* something answered on the RPC port */
  JsonObject *version_reply; /* the whole "version" reply */
  JsonObject *version;       /* its VERSION[0] */
  const char *description;   /* STATUS[0].Description ("bmminer 2.0.0") */
  gboolean http_open;        /* HTTP answered on port 80 */
  guint http_status;         /* e.g. 401 */
  const char *http_realm;    /* WWW-Authenticate realm, e.g. "antMiner Configuration" */
  const char *http_title;    /* <title> of GET / */
  /* ABI 1.2, in what were reserved slots (a 1.1 driver sees the same size).
   * The core probes the RPC port, HTTP and Whatsminer API v3 side by side. */
  const char *http_body;     /* the start of GET / (up to 16 KiB), NUL-ended */
  const char *http_server;   /* its Server header */
  gboolean http_on_rpc_port; /* the RPC port answered HTTP (ePIC UMC on 4028) */
  gboolean v3_open;          /* Whatsminer API v3 answered on its port (4433) */
  guint16 http_port;         /* where GET / was answered */
  gpointer reserved[4];
} AmFingerprint;

typedef struct {
  guint32 struct_size;
  /* Pure: look at @fp only, no I/O. */
  AmMatch (*match)(gpointer self, const AmFingerprint *fp);
  /* Reads @miner once and produces a sample (fill what the firmware tells;
   * the core sets host, port, driver and when, then calls am_sample_finish).
   * Used both to probe and to poll. */
  void (*poll_async)(gpointer self, AmMiner *miner, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data);
  AmSample *(*poll_finish)(gpointer self, GAsyncResult *result, GError **error);
  /* ABI 1.3, may be NULL (a driver that only reads). Pure, no I/O: the
   * actions this driver can carry out on @miner as its last good sample
   * shows it (@sample NULL before the first poll: say what the family
   * supports). A kind left out is refused by the core with the reason. */
  AmActionSet (*actions)(gpointer self, AmMiner *miner, const AmSample *sample);
  /* ABI 1.3, may be NULL when actions is. Sends @request to @miner with the
   * miner's credentials (am_miner_get_username/password, already resolved
   * by the core from [miner:], [credentials:] and [driver:] groups), under
   * the miner's timeout. Completes when the firmware accepted the command;
   * the core confirms the effect from later polls. @request stays valid
   * until act_finish() returns. Errors: AM_ERROR_AUTH (credentials refused,
   * say which user), AM_ERROR_UNSUPPORTED (the firmware lacks it, or writes
   * are disabled on it: say how to enable them), AM_ERROR_API (the
   * firmware's own error message), and the transport errors of a poll.
   * Never put a password or token in a message. */
  void (*act_async)(gpointer self, AmMiner *miner, const AmActionRequest *request,
                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
  gboolean (*act_finish)(gpointer self, GAsyncResult *result, GError **error);
  gpointer reserved[5];
} AmDriverVTable;

/* ---- discovery --------------------------------------------------------- */

/* One address where a miner may be. Valid for the duration of the call. */
typedef struct {
  guint32 struct_size;
  const char *host;
  guint16 port;
  const char *source; /* "cidr", "mdns", "static" */
  const char *name;   /* a service or host name, or NULL */
  const char *mac;    /* when the source knows it, or NULL */
  gpointer reserved[4];
} AmCandidate;

/* Called for each candidate found (@gone FALSE) or lost (@gone TRUE). */
typedef void (*AmCandidateFunc)(const AmCandidate *candidate, gboolean gone, gpointer user_data);

typedef struct {
  guint32 struct_size;
  /* Starts continuous discovery (scheduled rescans, browsing). */
  gboolean (*start)(gpointer self, AmCandidateFunc func, gpointer func_data, GError **error);
  void (*stop)(gpointer self);
  /* One pass for `antmon scan`: report candidates, then complete. */
  void (*scan_async)(gpointer self, AmCandidateFunc func, gpointer func_data,
                     GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
  gboolean (*scan_finish)(gpointer self, GAsyncResult *result, GError **error);
  /* Counters for the health API: last run, duration, hosts tried, miners
   * found, ... Returns: (transfer full) a JSON object node, or NULL. */
  JsonNode *(*stats_json)(gpointer self);
  gpointer reserved[8];
} AmDiscoveryVTable;

/* ---- store ------------------------------------------------------------- */

typedef struct {
  guint32 struct_size;
  /* Called from the store's writer thread only, one transaction per call. */
  gboolean (*write_batch)(gpointer self, AmSample *const *samples, guint n_samples,
                          const AmEvent *const *events, guint n_events, GError **error);
  /* Called from a reader thread: @query names the query ("series",
   * "latest", "events", "fleet"), @params its string arguments.
   * Returns: (transfer full) a JSON node. */
  JsonNode *(*query)(gpointer self, const char *query, GHashTable *params, GError **error);
  /* Since ABI 1.1, may be NULL: what the store holds in memory and on disk
   * (cache sizes, database bytes, ...) for the health API, as a JSON
   * object. Called from the main thread while write_batch() and query()
   * may run on others: read only what is safe there (settings fixed at
   * create(), atomics, sqlite3_memory_used()). Returns: (transfer full). */
  JsonNode *(*stats_json)(gpointer self);
  gpointer reserved[7];
} AmStoreVTable;

/* ---- sink -------------------------------------------------------------- */

typedef struct {
  guint32 struct_size;
  void (*deliver_async)(gpointer self, const AmNotification *notification,
                        GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data);
  gboolean (*deliver_finish)(gpointer self, GAsyncResult *result, GError **error);
  gpointer reserved[8];
} AmSinkVTable;

/* ---- http -------------------------------------------------------------- */

typedef struct {
  guint32 struct_size;
  /* Starts listening; called once all plugins are created. */
  gboolean (*start)(gpointer self, GError **error);
  gpointer reserved[8];
} AmHttpVTable;

/* ---- exporter (ABI 1.4) ----------------------------------------------- */

/* An exporter pushes what the core learns to another system as it happens
 * (an MQTT broker for Home Assistant, ...), where a sink only hears alerts
 * and the HTTP plugin is asked. Configured as [exporter:NAME] groups.
 *
 * Every call comes from the main loop and must return at once: an exporter
 * queues what it cannot send now (bounded: it keeps the latest per miner
 * rather than every sample) and never blocks a poll. @view is valid only
 * during the call; copy what is kept. Any member but struct_size and start
 * may be NULL. */
typedef struct {
  guint32 struct_size;
  /* Called once every plugin is created and the scheduler is up, before
   * the first miner is added: connect here, not in create() (`antmon
   * check-config` creates instances and must not reach anything). An error
   * is logged and the exporter stays, so it can still be destroyed. */
  gboolean (*start)(gpointer self, GError **error);
  /* A miner the core now polls (configured, discovered or added by the
   * CLI); @view->sample is NULL until its first good poll. */
  void (*miner_added)(gpointer self, const AmMinerView *view);
  /* The core forgot the miner at @address (discovery lost it, or it proved
   * to be another address of a miner already known). Not called when the
   * daemon stops: the miners are still there. */
  void (*miner_removed)(gpointer self, const char *address);
  /* Each good sample as it is polled: @view->sample is the new sample and
   * @view->state the state it put the miner in. */
  void (*sample)(gpointer self, const AmMinerView *view);
  /* A change of state or of its reason: @view->state is the new state,
   * @old_state the one before ("online", "offline", ...). */
  void (*state_changed)(gpointer self, const AmMinerView *view, const char *old_state);
  gpointer reserved[8];
} AmExporterVTable;

/* ---- the descriptor ---------------------------------------------------- */

typedef struct {
  guint32 abi_major;   /* AM_ABI_MAJOR at build time */
  guint32 abi_minor;   /* AM_ABI_MINOR at build time */
  guint32 struct_size; /* sizeof(AmPluginInfo) at build time */
  const char *name;    /* "antminer": must match the file name */
  AmPluginKind kind;
  const char *description;
  const char *version;
  /* Order among drivers of equal match; higher is asked first. The generic
   * driver uses G_MININT so it is always last. */
  gint priority;
  /* The plugin's sample.ini: one [kind:name] group with every key at its
   * default, each with a comment. Its keys are the keys the plugin knows. */
  const char *sample_config;
  /* Returns: (transfer full) a new instance, or NULL with @error. @group is
   * this instance's ini group ("sink:webhook:ops"); @kf may lack it, in
   * which case every key takes its default. */
  gpointer (*create)(AmContext *ctx, GKeyFile *kf, const char *group, GError **error);
  void (*destroy)(gpointer instance);
  union {
    gconstpointer any;
    const AmDriverVTable *driver;
    const AmDiscoveryVTable *discovery;
    const AmStoreVTable *store;
    const AmSinkVTable *sink;
    const AmHttpVTable *http;
    const AmExporterVTable *exporter; /* ABI 1.4 */
  } vtable;
  gpointer reserved[8];
} AmPluginInfo;

typedef const AmPluginInfo *(*AmPluginGetInfoFunc)(void);

#define AM_PLUGIN_SYMBOL "am_plugin_get_info"

/* Defines am_plugin_get_info() returning a descriptor with the ABI fields
 * filled in. Example:
 *   AM_PLUGIN_DEFINE(.name = "antminer", .kind = AM_PLUGIN_KIND_DRIVER, ...,
 *                    .vtable.driver = &antminer_vtable)
 */
#define AM_PLUGIN_DEFINE(...)                                                                      \
  G_MODULE_EXPORT const AmPluginInfo *am_plugin_get_info(void);                                    \
  const AmPluginInfo *am_plugin_get_info(void)                                                     \
  {                                                                                                \
    static const AmPluginInfo info = {.abi_major = AM_ABI_MAJOR,                                   \
                                      .abi_minor = AM_ABI_MINOR,                                   \
                                      .struct_size = sizeof(AmPluginInfo),                         \
                                      __VA_ARGS__};                                                \
    return &info;                                                                                  \
  }

G_END_DECLS
