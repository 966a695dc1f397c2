/* antmon-fakeminer: a fleet of fake cgminer-API miners on loopback.
 *
 * Internal header shared by the fake's own files. The fake deliberately does
 * not link libantmon: it must not share the code it is used to test.
 *
 * Parts:
 *   am-fakeminer-profile.c  profile directories -> reply templates, rendering
 *   am-fakeminer-request.c  cgminer RPC: request parsing, multi-command and error replies
 *   am-fakeminer-ini.c      profile.ini: sections and lines, in order
 *   am-fakeminer-routes.c   HTTP routes: "METHOD /path?q=v name=value" matching
 *   am-fakeminer-http.c     HTTP/1.1: request parsing and responses (AxeOS, ePIC, ...)
 *   am-fakeminer-auth.c     HTTP logins: digest, token, cookie, JWT
 *   am-fakeminer-v3.c       Whatsminer API v3: length-prefixed JSON frames
 *   am-fakeminer-fleet.c    miners: addresses, fleet files, per-miner settings
 *   am-fakeminer-server.c   listeners, connections, faults, counters
 *   am-fakeminer-control.c  the line-based control port
 *   am-fakeminer-state.c    per-miner control state and its effect on replies ([state])
 *   am-fakeminer-actions.c  the firmware write calls ([write]): reboot, pause, pools, ...
 *   am-fakeminer-rpc-writes.c  RPC writes: Antminer/cgminer, LuxOS sessions, Avalon ascset
 *   am-fakeminer-web-writes.c  HTTP writes with their own replies: ePIC, Auradine
 *   am-fakeminer-whatsminer.c  Whatsminer v2 (AES + MD5-crypt token) and v3 (signed) writes
 *   am-fakeminer-main.c     command line, main loop, signals
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

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

/* The protocols a profile can serve, each on its own port. */
typedef enum {
  AM_FM_PROTOCOL_RPC,  /* cgminer JSON on the miner's own port (4028) */
  AM_FM_PROTOCOL_HTTP, /* HTTP/1.1, one reply file per "METHOD /path" */
  AM_FM_PROTOCOL_V3,   /* Whatsminer API v3: 4-byte LE length + JSON */
  AM_FM_PROTOCOL_WEB,  /* a second HTTP port ([http:web], e.g. Auradine's API on 8080) */
  AM_FM_PROTOCOL_COUNT
} AmFmProtocol;

/* "rpc", "http", "whatsminer-v3", "http:web": the section names of profile.ini. */
const char *am_fm_protocol_name(AmFmProtocol protocol);
/* HTTP and WEB: both speak HTTP/1.1, each with its own routes and login. */
gboolean am_fm_protocol_is_http(AmFmProtocol protocol);

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
typedef struct _AmFmAuth AmFmAuth;

AmFmProfileCache *am_fm_profile_cache_new(void);
void am_fm_profile_cache_free(AmFmProfileCache *cache);
/* Loads @dir once (later calls with the same directory share it).
 * Returns: (transfer none) owned by @cache, or NULL with @error set. */
AmFmProfile *am_fm_profile_cache_get(AmFmProfileCache *cache, const char *dir, GError **error);
const char *am_fm_profile_get_dir(AmFmProfile *profile);
/* Whether @profile serves @protocol. *port (may be NULL) gets the port its
 * profile.ini declares, or 0 for the miner's own port (the RPC). A profile
 * without profile.ini serves the RPC only, from its <command>.json files. */
gboolean am_fm_profile_serves(AmFmProfile *profile, AmFmProtocol protocol, guint16 *port);

/* How one reply's varied numbers are drawn. The per-miner parts come from the
 * miner's seed so each miner looks a little different; the time part makes
 * charts move; the jitter differs per request. */
typedef struct _AmFmState AmFmState;

typedef struct {
  double hashrate_scale; /* multiplies every hashrate number (1 = as recorded) */
  double temp_offset;    /* degC added to every non-zero temperature */
  double hash_bias;      /* per miner, in [-1, 1] */
  double temp_bias;      /* per miner, in [-1, 1] */
  double phase;          /* per miner, radians */
  double now;            /* seconds (monotonic) */
  guint64 *rng;          /* jitter state, advanced by each varied number */
  /* The miner's control state once an action or a state setting touched
   * it (the profile's [state] rules then rewrite the reply); else NULL. */
  const AmFmState *state;
  double nominal_w; /* the power model's nominal draw */
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
/* The same for the reply listed under @key ("GET /api/system/info",
 * "get.miner.status summary") for @protocol. *content_type (may be NULL) gets
 * the MIME type of the reply file, from its extension. */
gboolean am_fm_profile_render_route(AmFmProfile *profile, AmFmProtocol protocol, const char *key,
                                    const AmFmVary *vary, GByteArray *out,
                                    const char **content_type);
/* The key of the HTTP route for a request (see am_fm_routes_match()). */
const char *am_fm_profile_match_http(AmFmProfile *profile, AmFmProtocol protocol,
                                     const char *method, const char *path, GHashTable *params);
/* The login of an HTTP section, or NULL when it has none. */
AmFmAuth *am_fm_profile_get_auth(AmFmProfile *profile, AmFmProtocol protocol);

/* ---- control state and writes (am-fakeminer-state.c, am-fakeminer-actions.c) ---- */

typedef struct {
  char *url;
  char *user;
  char *password;
} AmFmPool;

void am_fm_pool_free(gpointer pool);

/* What the actions (and the control port) change on one miner. */
struct _AmFmState {
  gboolean touched; /* any action or state setting: the [state] rules apply */
  gboolean paused;  /* sleep / curtail / power_off / softoff */
  gboolean locate;  /* the locate (fault) light */
  gboolean booted;  /* boot_time is set: uptimes count from it */
  double boot_time; /* monotonic seconds */
  gboolean rebooting;
  gboolean reboot_requested; /* the server starts the reboot (am_fm_server_refresh) */
  double reboot_s;           /* how long a reboot keeps the miner away (default 5) */
  guint reboot_timer;
  double power_limit_w;    /* 0: none set */
  double power_set_at;     /* monotonic seconds */
  double power_delay_s;    /* the power target takes effect this long after it is set */
  double nominal_w;        /* 0: the profile's nominal_w= */
  char *work_mode;         /* "low", "normal", "high" or NULL (as recorded) */
  GPtrArray *pools;        /* AmFmPool; NULL: as recorded */
  guint pool_active;       /* cgminer switchpool: the active pool's index */
  gboolean ignore_actions; /* writes are answered but change nothing */
  gboolean write_access;   /* FALSE: the firmware refuses writes (default TRUE) */
  char *session;           /* LuxOS: the open session id, or NULL */
  char *locate_body;       /* Braiins: the last PUT actions/locate body */
  /* Whatsminer v2: the last get_token answers (time, newsalt), newest first,
   * so a write signed with any of them is accepted. */
  char wm_time[4][8];
  char wm_newsalt[4][12];
  guint writes; /* accepted writes */
};

void am_fm_state_init(AmFmState *state);
void am_fm_state_clear(AmFmState *state);
/* One control-port setting (paused, locate, uptime, reboot_s, rebooting,
 * power_limit_w, power_delay_s, nominal_w, work_mode, pools, ignore_actions,
 * write_access). *known is FALSE for a key that is no state setting. */
gboolean am_fm_state_apply(AmFmState *state, const char *key, const char *value, gboolean *known,
                           GError **error);
void am_fm_state_describe(const AmFmState *state, GString *out);
/* The power model: the reported power and hashrate as fractions of the
 * recorded ones (paused: 5 % and 0; a power target below the nominal draw:
 * target / nominal for both, once power_delay_s has passed). */
void am_fm_state_factors(const AmFmState *state, double nominal_w, double now, double *power,
                         double *hashrate);
double am_fm_now(void);

/* The actions themselves: they change @state unless ignore_actions is set. */
typedef enum {
  AM_FM_ACT_REBOOT,
  AM_FM_ACT_RESTART,
  AM_FM_ACT_PAUSE,
  AM_FM_ACT_RESUME,
  AM_FM_ACT_LOCATE_ON,
  AM_FM_ACT_LOCATE_OFF,
} AmFmAct;
void am_fm_state_act(AmFmState *state, AmFmAct act);
void am_fm_state_set_power(AmFmState *state, double watts);
void am_fm_state_set_work_mode(AmFmState *state, const char *mode);
/* Takes @pools (AmFmPool). */
void am_fm_state_set_pools(AmFmState *state, GPtrArray *pools);

/* [state] rules of a profile: which reply keys show the state. */
typedef struct _AmFmStateRules AmFmStateRules;
AmFmStateRules *am_fm_state_rules_new(void);
void am_fm_state_rules_free(AmFmStateRules *rules);
/* "COND [FILE:]KEY" = "VALUE", or nominal_w=N. */
gboolean am_fm_state_rules_add(AmFmStateRules *rules, const char *key, const char *value,
                               GError **error);
double am_fm_state_rules_nominal_w(AmFmStateRules *rules);
/* Rewrites the bytes of @out from @start (the reply file @file just
 * rendered) by the rules active in @vary->state. */
void am_fm_state_rewrite(AmFmStateRules *rules, const char *file, const AmFmVary *vary,
                         GByteArray *out, gsize start);

/* The profile's [state] rules (NULL when none) and [write] settings. */
AmFmStateRules *am_fm_profile_get_state_rules(AmFmProfile *profile);
/* [write] family= ("antminer", "cgminer", "luxos", "avalon", "whatsminer",
 * "epic", "auradine"), or NULL. */
const char *am_fm_profile_get_write_family(AmFmProfile *profile);
/* A [write] setting that is no route (password=), or NULL. */
const char *am_fm_profile_get_write_setting(AmFmProfile *profile, const char *key);
/* The action of an HTTP write route ([write] "METHOD /path=ACTION"), or NULL. */
const char *am_fm_profile_get_write_action(AmFmProfile *profile, const char *route_key);

guint64 am_fm_rng_next(guint64 *state);
/* Uniform in [-1, 1]. */
double am_fm_rng_signed(guint64 *state);

/* ---- requests and replies (am-fakeminer-request.c) ---- */

typedef enum {
  AM_FM_REQUEST_INCOMPLETE, /* wait for more bytes */
  AM_FM_REQUEST_COMPLETE,
  AM_FM_REQUEST_GARBAGE, /* close without answering */
  AM_FM_REQUEST_BAD,     /* answer with the protocol's error, then close (HTTP 400) */
} AmFmRequestState;

/* Whether @len bytes read so far hold a whole request. A JSON request is whole
 * when its outer braces balance; a plain-text one ("summary|0") when the
 * client has paused (@drained) or closed (@eof), as cgminer does a single read. */
AmFmRequestState am_fm_request_state(const char *buf, gsize len, gboolean drained, gboolean eof);

/* The command of a whole request ("summary+stats"); the parameter is ignored.
 * Returns: (transfer full) or NULL when the request is garbage. */
char *am_fm_request_command(const char *buf, gsize len);

/* The parameter of a whole request: a JSON string or number as it is, a
 * JSON array joined with ','; the text after '|'. NULL when there is none. */
char *am_fm_request_parameter(const char *buf, gsize len);

/* Appends the reply to @command ("a" or "a+b") without the trailing NUL. */
void am_fm_reply_build(AmFmProfile *profile, const char *command, const AmFmVary *vary, gint64 when,
                       GByteArray *out);
/* A cgminer "Invalid command" STATUS E reply (code 14). */
void am_fm_reply_invalid_command(gint64 when, GByteArray *out);
/* An "Access denied" STATUS E reply (code 45), as firmware sends for a
 * command the API does not allow. */
void am_fm_reply_access_denied(const char *command, gint64 when, GByteArray *out);

/* ---- HTTP (am-fakeminer-http.c) ---- */

/* Whether @len bytes hold a whole request: the head up to its blank line,
 * plus Content-Length bytes of body. Bytes that cannot start an HTTP request
 * (a cgminer JSON request, binary noise) are BAD at once, so a client that
 * expected another protocol gets a 400 instead of a timeout. On COMPLETE,
 * *consumed is the request's length (the rest may be a pipelined request). */
AmFmRequestState am_fm_http_request_state(const char *buf, gsize len, gboolean eof,
                                          gsize *consumed);

typedef struct {
  char *method;
  char *path;   /* without query string */
  char *target; /* as sent, query string included: what a digest signs */
  char *head;   /* the request line and headers, for am_fm_http_header() */
  char *body;   /* Content-Length bytes (NUL-terminated), or "" */
  gsize body_len;
  /* The query string's parameters, then those of a form body or the
   * members of a JSON object body (strings as they are, numbers and
   * booleans as their JSON text): name -> value. The query wins a tie. */
  GHashTable *params;
  gboolean keep_alive;
} AmFmHttpRequest;

void am_fm_http_request_clear(AmFmHttpRequest *request);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AmFmHttpRequest, am_fm_http_request_clear)

/* Parses a whole request (@len as am_fm_http_request_state() consumed);
 * FALSE when its request line is malformed. */
gboolean am_fm_http_parse(const char *buf, gsize len, AmFmHttpRequest *request);

/* The value of header @name (case-insensitive), trimmed, or NULL. */
char *am_fm_http_header(const AmFmHttpRequest *request, const char *name);

/* Appends a whole response: status line, headers, @extra_headers (whole
 * "Name: value\r\n" lines, may be NULL), @body (not for HEAD). */
void am_fm_http_response(int status, const char *content_type, const char *extra_headers,
                         const guint8 *body, gsize body_len, gboolean head_only,
                         gboolean keep_alive, GByteArray *out);
/* The head of a response whose body runs until the connection closes. */
void am_fm_http_response_head_unbounded(GByteArray *out);

/* An HTTP reply being built: what a login or a route answers. */
typedef struct {
  int status;
  const char *content_type; /* static */
  GString *headers;         /* extra header lines */
  GByteArray *body;
  gboolean answered; /* a write set status and body itself: no route file */
} AmFmHttpReply;

/* ---- HTTP routes (am-fakeminer-routes.c) ---- */

typedef struct _AmFmRoutes AmFmRoutes;

AmFmRoutes *am_fm_routes_new(void);
void am_fm_routes_free(AmFmRoutes *routes);
/* Adds the route written as @key: "METHOD /path[?name=value&...] [name=value ...]". */
gboolean am_fm_routes_add(AmFmRoutes *routes, const char *key, GError **error);
/* The key of the route of @method and @path whose conditions @params meet,
 * the one with the most conditions first; NULL when none. */
const char *am_fm_routes_match(AmFmRoutes *routes, const char *method, const char *path,
                               GHashTable *params);

/* ---- HTTP logins (am-fakeminer-auth.c) ---- */

/* A login for one [http] section, configured key by key (auth=, user=,
 * password=, realm=, login=, ...; see README.md). */
AmFmAuth *am_fm_auth_new(void);
void am_fm_auth_free(AmFmAuth *auth);
/* Applies one setting. *known is FALSE (and nothing happens) for a key
 * that is not a login setting. */
gboolean am_fm_auth_set(AmFmAuth *auth, const char *key, const char *value, gboolean *known,
                        GError **error);
/* Checks the settings hang together and reads the reply files from @dir.
 * An auth=none (or absent) login finishes as NULL: nothing to check. */
gboolean am_fm_auth_finish(AmFmAuth *auth, const char *dir, GError **error);
gboolean am_fm_auth_is_none(AmFmAuth *auth);
/* Answers @request when the login has a say: the login route (its reply,
 * or the refusal of wrong credentials), or a protected route without
 * valid credentials (401 and a challenge, or the firmware's refusal).
 * Returns FALSE, leaving @reply alone, when the request may go on to its
 * route. @secret (the miner's label) makes the nonce and tokens per miner. */
gboolean am_fm_auth_handle(AmFmAuth *auth, const char *secret, const AmFmHttpRequest *request,
                           AmFmHttpReply *reply);

/* ---- profile.ini lines (am-fakeminer-ini.c) ---- */

typedef struct {
  char *section;
  char *key; /* NULL for the section header itself */
  char *value;
  guint line;
} AmFmIniEntry;

void am_fm_ini_entry_free(gpointer entry);
/* Returns: (transfer full) (element-type AmFmIniEntry) in file order. */
GPtrArray *am_fm_ini_load(const char *path, GError **error);

/* ---- Whatsminer API v3 (am-fakeminer-v3.c) ---- */

/* Largest v3 request payload accepted (the frame must fit the buffer). */
#define AM_FM_V3_PAYLOAD_MAX (AM_FM_REQUEST_MAX - 4)

/* Error codes of the v3 envelope {code, msg, desc, when}. */
#define AM_FM_V3_INVALID_COMMAND (-2)
#define AM_FM_V3_INVALID_JSON (-3)
#define AM_FM_V3_ACCESS_DENIED (-4)

/* A frame is whole once its 4-byte little-endian length and that many bytes
 * are in. A length of 0 or over AM_FM_V3_PAYLOAD_MAX is GARBAGE: the stream
 * cannot be resynchronised, so the connection is closed unanswered. */
AmFmRequestState am_fm_v3_request_state(const char *buf, gsize len, gboolean eof, gsize *consumed);

/* Parses a payload {"cmd":..., "param":...}. Returns 0, or the error code
 * to answer with (AM_FM_V3_INVALID_JSON, AM_FM_V3_INVALID_COMMAND). @param
 * is NULL unless "param" is a string. */
int am_fm_v3_parse(const char *payload, gsize len, char **cmd, char **param);

/* {"code":CODE,"msg":"MSG","desc":"DESC","when":WHEN} */
void am_fm_v3_error(int code, const char *msg, const char *desc, gint64 when, GByteArray *out);

/* Prepends the 4-byte little-endian length of @payload and appends both. */
void am_fm_v3_frame(const guint8 *payload, gsize len, GByteArray *out);
void am_fm_v3_frame_header(guint32 len, GByteArray *out);

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

/* One protocol of a running miner on one port. */
typedef struct {
  AmFmProtocol protocol;
  guint16 port;
  GSocket *listener;  /* NULL with fault=refuse */
  gpointer accepting; /* the listener's watch, while it accepts */
  GSocket *held;      /* silent: the never-accepted connection filling the queue */
} AmFmEndpoint;

typedef struct {
  /* "127.0.20.1:4028" or "[::1]:4028": in every message. The port is the
   * RPC port, or for a profile without RPC the port of its first protocol. */
  char *label;
  char *host; /* "127.0.20.1" */
  GInetAddress *address;
  guint16 port; /* the RPC port: ADDRESS:PORT or --port */
  /* http_port=, v3_port=: 0 means the port the profile declares. */
  guint16 port_override[AM_FM_PROTOCOL_COUNT];
  AmFmProfile *profile; /* transfer none: owned by the profile cache */
  AmFmFault fault;
  double hashrate_scale;
  double temp_offset;
  guint drip_ms;
  /* joined=refuse: cgminer's joined commands ("summary+stats") get
   * "Invalid command", as on the S19 firmware pyasic reports failing them. */
  gboolean joined_refused;
  AmFmState state; /* what actions changed: paused, uptime, power, pools, ... */
  guint64 seed;    /* from the label: per-miner variation */
  guint64 rng;     /* per-request jitter */

  /* Owned by the server while it runs. */
  AmFmEndpoint endpoints[AM_FM_PROTOCOL_COUNT];
  guint n_endpoints;
  int listen_kind; /* the server's: how the endpoints listen */
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

/* The port @miner serves @protocol on: the RPC on its own port, the others
 * on http_port=/v3_port= or else the port its profile declares. */
guint16 am_fm_miner_port(AmFmMiner *miner, AmFmProtocol protocol);

/* Applies one "key=value" setting (fault, profile, hashrate_scale,
 * temp_offset, drip_ms, http_port, v3_port) to @miner's configuration.
 * Changing the fault, profile or a port of a running miner also needs
 * am_fm_server_refresh(). */
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
/* Listening miners (every miner but those with fault=refuse). */
guint am_fm_server_count_listeners(AmFmServer *server);
/* Rebinds @miner's listeners after its fault, profile or ports changed
 * (refuse and silent need different listeners, or none; another profile may
 * serve other protocols). */
gboolean am_fm_server_refresh(AmFmServer *server, AmFmMiner *miner, GError **error);
/* Answers an RPC write of the profile's [write] family= ("restart",
 * "logon", "curtail", "ascset", ...). Returns FALSE, appending nothing,
 * when @command is no write of that family. */
gboolean am_fm_actions_rpc(AmFmMiner *miner, const char *command, const char *parameter,
                           gint64 when, GByteArray *out);
/* Runs the write of an HTTP route that has one in [write] (after its login
 * passed); the route's reply file answers, unless this sets @reply (an
 * error). Returns FALSE when the route is no write. */
gboolean am_fm_actions_http(AmFmMiner *miner, const char *route_key, const AmFmHttpRequest *request,
                            AmFmHttpReply *reply);

/* ---- write helpers shared by the families (am-fakeminer-actions.c) ---- */

/* A cgminer-style reply: one STATUS entry and an optional extra member
 * (whole "NAME":VALUE text). */
void am_fm_write_status(GByteArray *out, const char *status, int code, const char *msg,
                        const char *description, gint64 when, const char *extra);
/* The first array of objects with a URL (depth first): url/URL/pool, with
 * user/username/worker/login and pass/password/passwd. NULL when none. */
GPtrArray *am_fm_find_pools(JsonNode *node);
/* The pools the miner reports now: the state's, else the recorded "pools"
 * reply's POOLS[].URL/User. Returns: (transfer full) (element-type AmFmPool). */
GPtrArray *am_fm_current_pools(AmFmMiner *miner);
AmFmPool *am_fm_pool_new(const char *url, const char *user, const char *password);
char *am_fm_json_escape(const char *text);

/* RPC writes (am-fakeminer-rpc-writes.c), per family. */
gboolean am_fm_rpc_writes_antminer(AmFmMiner *miner, const char *command, const char *parameter,
                                   gint64 when, GByteArray *out);
gboolean am_fm_rpc_writes_luxos(AmFmMiner *miner, const char *command, const char *parameter,
                                gint64 when, GByteArray *out);
gboolean am_fm_rpc_writes_avalon(AmFmMiner *miner, const char *command, const char *parameter,
                                 gint64 when, GByteArray *out);

/* HTTP writes that answer themselves (am-fakeminer-web-writes.c): @action
 * is the route's [write] action ("epic_miner", "auradine_mode", ...).
 * Returns FALSE when the request is no write after all (a read on a
 * shared route). */
gboolean am_fm_web_write(AmFmMiner *miner, const char *action, const char *param,
                         const AmFmHttpRequest *request, AmFmHttpReply *reply);

/* Whatsminer (am-fakeminer-whatsminer.c). v2: get_token, and the
 * encrypted {"enc":1,"data":...} writes on the RPC port; FALSE when the
 * request is neither. v3: a set.* frame on 4433; FALSE when @cmd is no
 * write. */
gboolean am_fm_whatsminer_v2(AmFmMiner *miner, const char *buf, gsize len, gint64 when,
                             GByteArray *out);
gboolean am_fm_whatsminer_v3(AmFmMiner *miner, const char *cmd, const char *payload, gsize len,
                             gint64 when, GByteArray *out);

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
