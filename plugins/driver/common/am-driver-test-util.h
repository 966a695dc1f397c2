/* Test helpers for the driver parsers: fingerprints made the way the core's
 * selector makes them, from recorded "version" replies. */
#pragma once

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

G_END_DECLS
