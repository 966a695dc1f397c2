/* The control plane's requests: the JSON bodies of POST
 * /api/miners/{key}/actions and POST /api/actions, the checks that keep a
 * page elsewhere from posting one (content type, Origin), which miners a
 * fleet action selects, and the HTTP status of each core error.
 *
 * Pure: no I/O and no clock, so the unit tests drive it directly. Every
 * parse failure is a GError whose message names the member at fault, as
 * the API repeats it in its 400 reply. */
#pragma once

#include "am-http-model.h"
#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_HTTP_MAX_POOLS 3

/* One request body, checked. request.pools points into pools[] and the
 * strings are owned here. */
typedef struct {
  AmActionRequest request;
  AmPoolSetting pools[AM_HTTP_MAX_POOLS];
  /* POST /api/actions only: the selection and the pacing. */
  char **hosts; /* NULL-terminated, or NULL: no list */
  char *model;
  char *q;
  guint states; /* mask of 1 << AmHttpState, 0: all */
  guint batch;  /* 0: all at once */
  guint interval_ms;
  gboolean dry_run;
} AmHttpActionBody;

void am_http_action_body_clear(AmHttpActionBody *body);

/* What was wrong with a body, for the reply's error code. */
typedef enum {
  AM_HTTP_BODY_INVALID,        /* not JSON, not an object, unknown member: "invalid_body" */
  AM_HTTP_BODY_UNKNOWN_ACTION, /* "unknown_action" */
  AM_HTTP_BODY_BAD_PARAMETER,  /* "invalid_parameter" */
} AmHttpBodyProblem;

/* The reply's error code for @problem. (transfer none) */
const char *am_http_body_problem_code(AmHttpBodyProblem problem);

/* Reads @data (@len bytes, not NUL-terminated) as an action request. With
 * @fleet the selection and pacing members are allowed too. On failure
 * *@problem says what kind of mistake it was and @error what it was. */
gboolean am_http_action_body_parse(const char *data, gsize len, gboolean fleet,
                                   AmHttpActionBody *out, AmHttpBodyProblem *problem,
                                   GError **error);

/* TRUE when the Content-Type header value @value is application/json
 * (any case, parameters such as charset allowed). A form or text body is
 * what a page elsewhere can post without asking the browser first. */
gboolean am_http_content_type_is_json(const char *value);

/* TRUE when the Origin header @origin is absent (NULL: curl, the CLI) or
 * names this server as the client reached it: @scheme "://" @host, @host
 * being the request's Host header ("127.0.0.1:8080"). */
gboolean am_http_origin_allowed(const char *origin, const char *scheme, const char *host);

/* Miners of @miners (AmHttpMiner*) that @body selects: its filters, and
 * when it lists hosts, only those (each an address, host or name). Adds
 * their addresses to @keys (char*, owned by @miners). Fails naming a
 * listed host that matches no miner, or saying no miner matched. */
gboolean am_http_fleet_select(GPtrArray *miners, const AmHttpActionBody *body, GPtrArray *keys,
                              GError **error);

/* The HTTP status and error code for an error of the core's control
 * plane: NOT_FOUND 404, UNSUPPORTED 409, BUSY 429, CONFIG 400, anything
 * else 502 (the miner or the network). */
guint am_http_action_error_status(const GError *error, const char **code);

/* The seconds a rate-limited client should wait, read from the core's
 * message ("... try again in 7 s"), or 0 when it does not say. */
guint am_http_retry_after_s(const char *message);

/* One named token of action_tokens_file=. */
typedef struct {
  char *name;  /* who acts with it, in the audit trail */
  char *token; /* the bearer token */
} AmHttpNamedToken;

void am_http_named_token_free(AmHttpNamedToken *token);

/* TRUE when @name can name a token: 1 to 64 characters, none of them a
 * space, a control character, a quote or a backslash. */
gboolean am_http_token_name_is_valid(const char *name);

/* Reads the lines "NAME TOKEN" of action_tokens_file= (@path, for the
 * messages); blank lines and lines starting with '#' are skipped. Fails
 * naming the line of a malformed entry or of a name or token given twice.
 * Returns: (transfer full) AmHttpNamedToken*, or NULL with @error. */
GPtrArray *am_http_named_tokens_parse(const char *text, const char *path, GError **error);

/* Removes every "password" member anywhere in @node: the core leaves
 * them out already; this makes sure the API never echoes one. */
void am_http_action_scrub(JsonNode *node);

G_END_DECLS
