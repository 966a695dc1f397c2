/* antmon-fakeminer: a fleet of fake cgminer-API miners on loopback.
 *
 * Internal header shared by the fake's own files. The fake deliberately does
 * not link libantmon: it must not share the code it is used to test.
 *
 * Parts:
 *   am-fakeminer-profile.c  profile directories -> reply templates, rendering
 *   am-fakeminer-request.c  request parsing, multi-command and error replies
 *   am-fakeminer-fleet.c    miners: addresses, fleet files, per-miner settings
 *   am-fakeminer-server.c   listeners, connections, faults, counters
 *   am-fakeminer-control.c  the line-based control port
 *   am-fakeminer-main.c     command line, main loop, signals
 */
#pragma once

#include <gio/gio.h>

#define AM_FM_ERROR (am_fm_error_quark())
GQuark am_fm_error_quark(void);

typedef enum {
  AM_FM_ERROR_USAGE,   /* bad option, bad fleet line, bad control command */
  AM_FM_ERROR_ADDRESS, /* outside 127.0.0.0/8 and ::1, or unparsable */
  AM_FM_ERROR_PROFILE, /* missing or empty profile directory */
  AM_FM_ERROR_BIND,    /* a listener could not be bound */
} AmFmErrorCode;

/* Largest request accepted; cgminer's own buffer is of this order. */
#define AM_FM_REQUEST_MAX 4096

typedef enum {
  AM_FM_FAULT_NONE,
  AM_FM_FAULT_HANG,     /* accept, never answer, keep the socket */
  AM_FM_FAULT_CLOSE,    /* accept and close at once */
  AM_FM_FAULT_GARBAGE,  /* random non-JSON bytes + NUL */
  AM_FM_FAULT_TRUNCATE, /* first half of the reply, no NUL */
  AM_FM_FAULT_HUGE,     /* 64 MiB of JSON-looking bytes */
  AM_FM_FAULT_DRIP,     /* the reply one byte every drip_ms */
  AM_FM_FAULT_APIERROR, /* a STATUS E reply */
  AM_FM_FAULT_SILENT,   /* full accept queue: SYNs are dropped */
  AM_FM_FAULT_REFUSE,   /* no listener */
  AM_FM_FAULT_COUNT
} AmFmFault;

const char *am_fm_fault_name(AmFmFault fault);
gboolean am_fm_fault_from_name(const char *name, AmFmFault *out);

/* ---- profiles and rendering (am-fakeminer-profile.c) ---- */

typedef struct _AmFmProfile AmFmProfile;
typedef struct _AmFmProfileCache AmFmProfileCache;

AmFmProfileCache *am_fm_profile_cache_new(void);
void am_fm_profile_cache_free(AmFmProfileCache *cache);
/* Loads @dir once (later calls with the same directory share it).
 * Returns: (transfer none) owned by @cache, or NULL with @error set. */
AmFmProfile *am_fm_profile_cache_get(AmFmProfileCache *cache, const char *dir, GError **error);
const char *am_fm_profile_get_dir(AmFmProfile *profile);

/* How one reply's varied numbers are drawn. The per-miner parts come from the
 * miner's seed so each miner looks a little different; the time part makes
 * charts move; the jitter differs per request. */
typedef struct {
  double hashrate_scale; /* multiplies every hashrate number (1 = as recorded) */
  double temp_offset;    /* degC added to every non-zero temperature */
  double hash_bias;      /* per miner, in [-1, 1] */
  double temp_bias;      /* per miner, in [-1, 1] */
  double phase;          /* per miner, radians */
  double now;            /* seconds (monotonic) */
  guint64 *rng;          /* jitter state, advanced by each varied number */
} AmFmVary;

/* Bounds of the variation, shared with the documentation and the tests. */
#define AM_FM_HASH_FAST_PCT 0.02 /* "GHS 5s", chain_rateN, ... */
#define AM_FM_HASH_AVG_PCT 0.005 /* "GHS av", "MHS 1m", ... */
#define AM_FM_TEMP_DEG 1.5

/* Appends the reply to @command (the recorded bytes with the varied numbers
 * rewritten) to @out. Returns FALSE, appending nothing, when the profile has
 * no such command. */
gboolean am_fm_profile_render(AmFmProfile *profile, const char *command, const AmFmVary *vary,
                              GByteArray *out);

guint64 am_fm_rng_next(guint64 *state);
/* Uniform in [-1, 1]. */
double am_fm_rng_signed(guint64 *state);

/* ---- requests and replies (am-fakeminer-request.c) ---- */

typedef enum {
  AM_FM_REQUEST_INCOMPLETE, /* wait for more bytes */
  AM_FM_REQUEST_COMPLETE,
  AM_FM_REQUEST_GARBAGE, /* close without answering */
} AmFmRequestState;

/* Whether @len bytes read so far hold a whole request. A JSON request is whole
 * when its outer braces balance; a plain-text one ("summary|0") when the
 * client has paused (@drained) or closed (@eof), as cgminer does a single read. */
AmFmRequestState am_fm_request_state(const char *buf, gsize len, gboolean drained, gboolean eof);

/* The command of a whole request ("summary+stats"); the parameter is ignored.
 * Returns: (transfer full) or NULL when the request is garbage. */
char *am_fm_request_command(const char *buf, gsize len);

/* Appends the reply to @command ("a" or "a+b") without the trailing NUL. */
void am_fm_reply_build(AmFmProfile *profile, const char *command, const AmFmVary *vary, gint64 when,
                       GByteArray *out);
/* A cgminer "Invalid command" STATUS E reply (code 14). */
void am_fm_reply_invalid_command(gint64 when, GByteArray *out);
/* An "Access denied" STATUS E reply (code 45), as firmware sends for a
 * command the API does not allow. */
void am_fm_reply_access_denied(const char *command, gint64 when, GByteArray *out);

/* ---- one epoll set under the main loop (am-fakeminer-poll.c) ---- */

typedef struct _AmFmPoll AmFmPoll;
typedef struct _AmFmWatch AmFmWatch;

/* Embedded first in whatever owns the fd; @ready runs from the main loop. */
struct _AmFmWatch {
  void (*ready)(AmFmWatch *watch, GIOCondition condition);
  int fd;
  GIOCondition watching; /* 0 while not in the set */
};

AmFmPoll *am_fm_poll_new(void);
void am_fm_poll_free(AmFmPoll *poll);
/* Adds @watch or changes what it waits for (G_IO_IN and/or G_IO_OUT). */
void am_fm_poll_watch(AmFmPoll *poll, AmFmWatch *watch, GIOCondition condition);
/* Removes @watch; call before closing its fd. */
void am_fm_poll_unwatch(AmFmPoll *poll, AmFmWatch *watch);

/* ---- miners and fleets (am-fakeminer-fleet.c) ---- */

typedef struct _AmFmServer AmFmServer;

typedef struct {
  char *label; /* "127.0.20.1:4028" or "[::1]:4028": in every message */
  char *host;  /* "127.0.20.1" */
  GInetAddress *address;
  guint16 port;
  AmFmProfile *profile; /* transfer none: owned by the profile cache */
  AmFmFault fault;
  double hashrate_scale;
  double temp_offset;
  guint drip_ms;
  guint64 seed; /* from the address: per-miner variation */
  guint64 rng;  /* per-request jitter */

  /* Owned by the server while it runs. */
  GSocket *listener;
  gpointer accepting; /* the listener's watch, while it accepts */
  GSocket *held;      /* silent: the never-accepted connection filling the queue */
} AmFmMiner;

void am_fm_miner_free(AmFmMiner *miner);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmFmMiner, am_fm_miner_free)

/* Only 127.0.0.0/8 and ::1: the fake never listens anywhere else. */
gboolean am_fm_address_is_allowed(GInetAddress *address);

/* Parses "127.0.0.1", "127.0.0.1:4028", "::1" or "[::1]:4028" and checks it
 * is allowed. *port is left alone when the text names none. */
GInetAddress *am_fm_parse_host_port(const char *text, guint16 *port, GError **error);

/* Where relative profile directories resolve and which profiles are loaded. */
typedef struct {
  AmFmProfileCache *cache;
  const char *profiles_root; /* NULL: relative to base_dir */
  const char *base_dir;      /* the fleet file's directory, or the cwd */
} AmFmProfileLookup;

/* Applies one "key=value" setting (fault, profile, hashrate_scale,
 * temp_offset, drip_ms) to @miner's configuration. Changing the fault of a
 * running miner also needs am_fm_server_refresh(). */
gboolean am_fm_miner_apply(AmFmMiner *miner, const char *key, const char *value,
                           const AmFmProfileLookup *lookup, GError **error);
gboolean am_fm_miner_apply_pair(AmFmMiner *miner, const char *pair, const AmFmProfileLookup *lookup,
                                GError **error);

/* The per-miner parts of the variation for one request. */
void am_fm_miner_vary(AmFmMiner *miner, AmFmVary *vary);

/* "key=value ..." describing @miner's settings (for the control port). */
char *am_fm_miner_describe(AmFmMiner *miner);

/* @count miners from @base upwards (the last octet skips .0 and .255), all
 * on @port with @profile_dir, then @settings ("key=value") applied to each.
 * Returns: (transfer full) (element-type AmFmMiner) or NULL. */
GPtrArray *am_fm_fleet_from_range(const char *base, guint count, guint16 port,
                                  const char *profile_dir, const char *const *settings,
                                  const AmFmProfileLookup *lookup, GError **error);

/* One miner per line: "ADDRESS[:PORT] PROFILE_DIR [fault=KIND] [key=value...]";
 * # comments and blank lines are ignored. @settings apply to each miner first.
 * Errors name the file and line. */
GPtrArray *am_fm_fleet_from_file(const char *path, guint16 default_port,
                                 const char *const *settings, const char *profiles_root,
                                 AmFmProfileCache *cache, GError **error);

/* ---- the server (am-fakeminer-server.c) ---- */

/* @miners: (transfer none) must outlive the server. */
AmFmServer *am_fm_server_new(GPtrArray *miners);
void am_fm_server_free(AmFmServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmFmServer, am_fm_server_free)

/* Binds every miner's listener; the error names the address that failed. */
gboolean am_fm_server_start(AmFmServer *server, GError **error);
/* Bound listeners (every miner but those with fault=refuse). */
guint am_fm_server_count_listeners(AmFmServer *server);
/* Rebinds @miner's listener after its fault changed (refuse and silent need a
 * different listener, or none). */
gboolean am_fm_server_refresh(AmFmServer *server, AmFmMiner *miner, GError **error);
/* "key value" lines: connections, requests, per command and per fault. */
void am_fm_server_write_stats(AmFmServer *server, GString *out);

/* ---- the control port (am-fakeminer-control.c) ---- */

typedef struct _AmFmControl AmFmControl;

/* Listens on @address_port ("127.0.0.1:0"); only loopback is allowed. */
AmFmControl *am_fm_control_new(const char *address_port, AmFmServer *server, GPtrArray *miners,
                               const AmFmProfileLookup *lookup, GError **error);
guint16 am_fm_control_get_port(AmFmControl *control);
void am_fm_control_free(AmFmControl *control);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmFmControl, am_fm_control_free)

/* Runs one control command line and returns the answer (lines ending in
 * "ok\n" or one "error: why\n"). Exposed for the control port only. */
char *am_fm_control_execute(AmFmControl *control, const char *line);
