/* The proto driver's normalizer: the JSON replies of Block's Proto Rig
 * (Proto OS, REST under /api/v1 on port 80) in, one AmSample out. Pure: no
 * I/O, no global state, so it is tested table-driven against recorded
 * replies (tests/fixtures/proto/) and fuzzed.
 *
 * Each GET answers one object named after what it holds ({"mining-status":
 * {...}}, {"hardware-info": {...}}, ...); /api/v1/pools answers {"pools":
 * [...]}, /api/v1/errors a bare array, and /api/v1/telemetry the miner,
 * hashboard and PSU readings with their units. Which field goes where, and
 * why, is in README.md next to this file. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* The replies one poll asks for, in the order it asks. */
typedef enum {
  AM_PROTO_MINING = 0,
  AM_PROTO_TELEMETRY,
  AM_PROTO_HARDWARE,
  AM_PROTO_COOLING,
  AM_PROTO_POOLS,
  AM_PROTO_ERRORS,
  AM_PROTO_SYSTEM,
  AM_PROTO_NETWORK,
  AM_PROTO_N_ENDPOINTS
} AmProtoEndpoint;

#define AM_PROTO_LOGIN_PATH "/api/v1/auth/login"

/* The GET path of @endpoint, with its query ("/api/v1/mining"). */
const char *am_proto_endpoint_path(AmProtoEndpoint endpoint);
/* A short name for the raw view and messages ("mining", "telemetry"). */
const char *am_proto_endpoint_name(AmProtoEndpoint endpoint);

/* The parsed replies of one poll; NULL where a reply did not arrive or did
 * not parse. /api/v1/errors is an array, every other reply an object. */
typedef struct {
  JsonNode *replies[AM_PROTO_N_ENDPOINTS];
} AmProtoReplies;

/* From the shared fingerprint (plugin.h): SUPPORTED when the page served
 * at GET / (its title or body) says "Proto OS", the web dashboard's title;
 * UNSUPPORTED otherwise. */
AmMatch am_proto_match(const AmFingerprint *fp);

/* Parses the body of @endpoint strictly as JSON of the shape it has (an
 * array for errors, an object for the rest).
 * Errors: AM_ERROR_PARSE naming the path.
 * Returns: (transfer full) the root node, or NULL with @error. */
JsonNode *am_proto_parse_body(AmProtoEndpoint endpoint, const char *data, gsize len,
                              GError **error);

/* Reads the access token from the body of a login reply.
 * Errors: AM_ERROR_PARSE (not JSON, or no "access_token" string).
 * Returns: (transfer full) the token, or NULL with @error. */
char *am_proto_parse_login(const char *data, gsize len, GError **error);

/* Normalizes one poll's replies into a new sample whose driver is "proto";
 * host, port and when are left for the core, and am_sample_finish() is not
 * called. Replies that are missing simply leave their fields unknown (the
 * module marks the sample partial and says which).
 * Errors: AM_ERROR_UNSUPPORTED when neither /api/v1/mining nor
 * /api/v1/telemetry gave a reading (nothing to report).
 * Returns: (transfer full) the sample, or NULL with @error. */
AmSample *am_proto_parse(const AmProtoReplies *replies, GError **error);

G_END_DECLS
