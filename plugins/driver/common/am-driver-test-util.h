/* Test helpers for the driver parsers: fingerprints made the way the core's
 * selector makes them, from recorded "version" replies; and for the module
 * tests: the built driver loaded as the daemon loads it, an action run to
 * its end, and a cgminer API server on 127.0.0.1. */
#pragma once

#include "am-plugin-loader.h"

#include <antmon/antmon.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Fills @fp from a whole "version" reply as the selector does: rpc_open,
 * version_reply, version (VERSION[0]) and description (STATUS[0]). @reply
 * must outlive @fp. */
void am_test_fingerprint_init(AmFingerprint *fp, JsonObject *reply);

/* Returns: (transfer full) every "<firmware>/<file>" under tests/fixtures
 * whose file name contains "_version", sorted, so a new recorded version
 * reply is covered by every driver's match() test without editing them. */
GPtrArray *am_test_version_fixtures(void);

/* Returns: (transfer full) @json (an object literal) parsed strictly, with
 * no firmware repairs. Aborts on a syntax error. For hand-made replies
 * written inline in tests. */
JsonObject *am_test_object_from_string(const char *json);

/* Asserts that @values (doubles) holds exactly @expected, in order. */
void am_test_assert_doubles(GArray *values, const double *expected, guint n_expected);
#define AM_TEST_ASSERT_DOUBLES(array, ...)                                                         \
  do {                                                                                             \
    const double expected_[] = {__VA_ARGS__};                                                      \
    am_test_assert_doubles((array), expected_, G_N_ELEMENTS(expected_));                           \
  } while (0)

/* Asserts what a user sees of one pool. */
void am_test_assert_pool(const AmPool *pool, const char *url, const char *user, const char *status,
                         gint priority, gint64 accepted, gint64 rejected, gint64 stale,
                         gboolean active);

/* Returns: (transfer none) the node of extras[@name] ("x_<driver>_<key>"),
 * failing the test when it is missing. */
JsonNode *am_test_extra(AmSample *sample, const char *name);

/* For the web drivers' module tests: listens on 127.0.0.1 at a free port
 * and returns it. */
guint16 am_test_soup_listen_loopback(SoupServer *server);

/* Answers every message held in @paused (SoupServerMessage*) with 503,
 * then disconnects and frees @server and @paused. */
void am_test_soup_stop(SoupServer *server, GPtrArray *paused);

/* Asserts @error is AM_ERROR @code, that its message contains @part (when
 * not NULL) and that it does not contain @secret (when not NULL): what a
 * user reads must say why and must not leak a password or token. */
void am_test_assert_error(const GError *error, gint code, const char *part, const char *secret);

/* ---- the built module --------------------------------------------------- */

/* One instance of a built driver module, loaded from ANTMON_PLUGIN_DIR. */
typedef struct {
  AmLoadedPlugin *plugin;
  const AmDriverVTable *vt;
  gpointer self;
} AmTestDriver;

/* Loads driver-@name.so and creates an instance for the group
 * "driver:@name" of @config (NULL: no configuration). Fails the test on
 * any error. */
void am_test_driver_open(AmTestDriver *d, const char *name, GKeyFile *config);

/* Destroys the instance and unloads the module. */
void am_test_driver_close(AmTestDriver *d);

/* Runs @request through the instance's act_async on @miner, iterating the
 * thread-default main context until it has finished, and returns what
 * act_finish says. */
gboolean am_test_driver_act(AmTestDriver *d, AmMiner *miner, const AmActionRequest *request,
                            GError **error);

/* Returns: (transfer full) the key file parsed from @text; aborts when it
 * does not parse. For a module's configuration written inline. */
GKeyFile *am_test_key_file(const char *text);

/* Returns: (transfer full) a miner on 127.0.0.1:@port with a 5 s timeout,
 * as the module tests address their fakes. */
AmMiner *am_test_local_miner(guint16 port);

/* ---- a cgminer API server on 127.0.0.1 ---------------------------------- */

/* Answers one request, @request being the JSON object received (NULL when
 * it was not one). Returns: (transfer full) (nullable) the bytes to write
 * back before closing (NULL: close without a word). Runs on a server
 * thread with the server's lock held. */
typedef GBytes *(*AmTestRpcAnswer)(gpointer user_data, JsonObject *request);

typedef struct {
  GSocketService *service;
  guint16 port;
  GMutex lock;
  GPtrArray *requests; /* char*: each request's text as received; under lock */
  AmTestRpcAnswer answer;
  gpointer user_data;
} AmTestRpc;

/* Starts @rpc listening on a free port of 127.0.0.1: it reads each
 * connection's request until it is whole JSON (or the peer stops), records
 * it and writes back what @answer returns. */
void am_test_rpc_start(AmTestRpc *rpc, AmTestRpcAnswer answer, gpointer user_data);

/* Stops listening and frees what @rpc holds. */
void am_test_rpc_stop(AmTestRpc *rpc);

/* Returns: (transfer full) the requests received so far as
 * "command|parameter" joined by ';' (a missing member reads as ""). */
char *am_test_rpc_received(AmTestRpc *rpc);

/* Returns: (transfer full) @text as the bytes of a reply, with its
 * terminating NUL when @with_nul (as cgminer sends it). */
GBytes *am_test_rpc_text(const char *text, gboolean with_nul);

G_END_DECLS
