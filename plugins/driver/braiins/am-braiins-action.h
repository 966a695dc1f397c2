/* Braiins OS actions: which ones each API offers and the exact request
 * each is sent as. Pure: requests in, method/path/body out; no I/O (the
 * REST and GraphQL modules send them with their login). What confirms each
 * action in the next polls is in README.md next to this file. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* The API a miner is read (and written) over. */
typedef enum {
  AM_BRAIINS_API_REST = 0, /* /api/v1, BOS 23.03 and later */
  AM_BRAIINS_API_GRAPHQL,  /* /graphql, BOS 21.09 to 25.05 */
  AM_BRAIINS_API_RPC,      /* the cgminer API of BOSminer: read only */
} AmBraiinsApiKind;

/* Power targets antmon sends: Braiins OS runs on Antminers from the S9
 * (about 1.2 kW) to hydro S21s (about 12 kW); the tuner refuses what the
 * model cannot do, this only catches typos (30 W, 300000 W). */
#define AM_BRAIINS_MIN_WATTS 100u
#define AM_BRAIINS_MAX_WATTS 20000u

/* The actions @api can carry out. */
AmActionSet am_braiins_actions_for(AmBraiinsApiKind api);

/* Checks the values of @request (watts in range, 1..3 pools each with a
 * URL and a user). Errors: AM_ERROR_CONFIG saying what is wrong. */
gboolean am_braiins_action_validate(const AmActionRequest *request, GError **error);

/* One REST write. */
typedef struct {
  const char *method; /* "PUT" (static) */
  char *path;         /* "/api/v1/actions/reboot" */
  char *body;         /* JSON, or NULL for none */
} AmBraiinsRestWrite;

/* Builds the REST request for @request. Errors: AM_ERROR_CONFIG (bad
 * values), AM_ERROR_UNSUPPORTED (the API has no such action). */
gboolean am_braiins_rest_action(const AmActionRequest *request, AmBraiinsRestWrite *out,
                                GError **error);
void am_braiins_rest_write_clear(AmBraiinsRestWrite *write);

/* Returns: (transfer full) the body of POST /graphql for @request (the
 * mutation and its variables), or NULL with @error as above. */
char *am_braiins_gql_action(const AmActionRequest *request, GError **error);

/* Reads a GraphQL mutation answer: TRUE when it has "data" and no
 * "errors". Errors: AM_ERROR_API with the firmware's first error message,
 * AM_ERROR_PARSE when it is not a GraphQL answer. */
gboolean am_braiins_gql_parse_mutation(const char *data, gsize len, GError **error);

G_END_DECLS
