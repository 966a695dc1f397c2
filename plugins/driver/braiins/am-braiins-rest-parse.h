/* Braiins OS public REST API (/api/v1, BOS 23.03 and later): the pure
 * normalizer. Bodies in, AmSample out; no I/O. Which field goes where, and
 * why, is in README.md next to this file. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_BRAIINS_REST_LOGIN "/api/v1/auth/login"

/* The endpoints one poll reads, in the order it reads them. */
typedef enum {
  AM_BRAIINS_REST_DETAILS = 0, /* miner/details */
  AM_BRAIINS_REST_STATS,       /* miner/stats */
  AM_BRAIINS_REST_HASHBOARDS,  /* miner/hw/hashboards */
  AM_BRAIINS_REST_COOLING,     /* cooling/state */
  AM_BRAIINS_REST_POOLS,       /* pools (an array of pool groups) */
  AM_BRAIINS_REST_ERRORS,      /* miner/errors */
  AM_BRAIINS_REST_TUNER,       /* performance/tuner-state */
  AM_BRAIINS_REST_LOCATE,      /* actions/locate: true or false (not on every version) */
  AM_BRAIINS_REST_N_ENDPOINTS,
} AmBraiinsRestEndpoint;

/* "/api/v1/miner/details", ... (transfer none) */
const char *am_braiins_rest_path(AmBraiinsRestEndpoint endpoint);
/* "miner/details", ...: the name of the raw view. (transfer none) */
const char *am_braiins_rest_name(AmBraiinsRestEndpoint endpoint);

/* The parsed bodies of one poll, indexed by AmBraiinsRestEndpoint; any may
 * be NULL (not answered). */
typedef struct {
  JsonNode *replies[AM_BRAIINS_REST_N_ENDPOINTS];
} AmBraiinsRestReplies;

/* Parses a body strictly as JSON (the API is written by serde: a body that
 * needs repairs is not its answer). Errors: AM_ERROR_PARSE naming @path.
 * Returns: (transfer full) the root node. */
JsonNode *am_braiins_rest_parse_body(const char *path, const char *data, gsize len, GError **error);

/* Reads the auth/login answer {"token": "...", "timeout_s": 3600}.
 * @timeout_s gets AM_UNKNOWN when absent. Errors: AM_ERROR_PARSE (no token;
 * the message never holds the body, which may carry a secret). */
gboolean am_braiins_rest_parse_login(const char *data, gsize len, char **token, gint64 *timeout_s,
                                     GError **error);

/* Returns: (transfer full) a new JSON login body for @user and @password. */
char *am_braiins_rest_login_body(const char *user, const char *password);

/* Normalizes one poll. Missing replies leave their fields unknown (the
 * module marks the sample partial); a reply of the wrong shape records a
 * problem naming the endpoint.
 * Errors: AM_ERROR_UNSUPPORTED when no reply at all was given.
 * Returns: (transfer full) the sample, driver "braiins". */
AmSample *am_braiins_rest_parse(const AmBraiinsRestReplies *replies, GError **error);

G_END_DECLS
