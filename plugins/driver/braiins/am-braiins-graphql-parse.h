/* Braiins OS GraphQL API (POST /graphql on the web port, BOS 21.09 to
 * 25.05): the queries one poll sends and the pure normalizer of their
 * answers. Bodies in, AmSample out; no I/O. Which field goes where, and
 * why, is in README.md next to this file. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_BRAIINS_GQL_PATH "/graphql"
/* The session cookie the login mutation sets. */
#define AM_BRAIINS_GQL_COOKIE "session_id"

/* The queries one poll sends, in the order it sends them: system first,
 * its version decides the boards query. */
typedef enum {
  AM_BRAIINS_GQL_SYSTEM = 0, /* hostname, version, uptime, fans, power, hashrate */
  AM_BRAIINS_GQL_MODEL,      /* bosminer.info.modelName */
  AM_BRAIINS_GQL_BOARDS,     /* workSolver.childSolvers */
  AM_BRAIINS_GQL_POOLS,      /* poolGroups */
  AM_BRAIINS_GQL_TUNING,     /* autotuning config, power limit */
  AM_BRAIINS_GQL_EVENTS,     /* events.appeals */
  AM_BRAIINS_GQL_N_QUERIES,
} AmBraiinsGqlQuery;

/* "system", "model", ...: the raw view is "graphql/<name>". (transfer none) */
const char *am_braiins_gql_name(AmBraiinsGqlQuery query);

/* Returns: (transfer full) the JSON body {"query": ...} of @query. For
 * AM_BRAIINS_GQL_BOARDS, @board_serials asks for hbSerialNumber, a field
 * only BOS 25.03 and later know (older ones reject the whole query). */
char *am_braiins_gql_request_body(AmBraiinsGqlQuery query, gboolean board_serials);

/* Returns: (transfer full) the JSON body of the login mutation, the user
 * and password passed as variables (never spliced into the query text). */
char *am_braiins_gql_login_body(const char *user, const char *password);

/* Reads the login answer. TRUE when it is a GraphQL answer to the login:
 * @refused says whether the credentials were refused (an AuthError, or an
 * "errors" list). FALSE with AM_ERROR_PARSE when it is not a GraphQL answer
 * at all (some other web server). The message never holds the body. */
gboolean am_braiins_gql_parse_login(const char *data, gsize len, gboolean *refused, GError **error);

/* Parses an answer and returns its "data" object. Errors, naming @name:
 * AM_ERROR_PARSE (not JSON, no data object), AM_ERROR_API (a non-empty
 * "errors" list: the first message is quoted).
 * Returns: (transfer full) the "data" node, a JSON object. */
JsonNode *am_braiins_gql_parse_body(const char *name, const char *data, gsize len, GError **error);

/* Whether the version in a system "data" node is 25.03 or later (the
 * boards query may then ask for serials). FALSE when not known. */
gboolean am_braiins_gql_knows_board_serials(JsonNode *system_data);

/* The "data" nodes of one poll, indexed by AmBraiinsGqlQuery; any may be
 * NULL (not answered). */
typedef struct {
  JsonNode *replies[AM_BRAIINS_GQL_N_QUERIES];
} AmBraiinsGqlReplies;

/* Normalizes one poll. Missing replies leave their fields unknown (the
 * module marks the sample partial); a reply of the wrong shape records a
 * problem naming the query.
 * Errors: AM_ERROR_UNSUPPORTED when no reply at all was given.
 * Returns: (transfer full) the sample, driver "braiins". */
AmSample *am_braiins_gql_parse(const AmBraiinsGqlReplies *replies, GError **error);

/* The MAC from LuCI's admin/network/iface_status/lan answer
 * ([{"macaddr": "..."}]), normalized, or NULL. (transfer full) */
char *am_braiins_gql_parse_lan_mac(const char *data, gsize len);

G_END_DECLS
