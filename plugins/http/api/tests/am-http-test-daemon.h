/* The real antmon daemon with an [http:api] group, for the integration
 * tests: started with a written ini, its URL read from its log, requests
 * made while its log keeps being read (so it never blocks on a full pipe). */
#pragma once

#include <antmon/antmon.h>
#include <libsoup/soup.h>

typedef struct {
  GSubprocess *proc;
  GDataInputStream *err;
  GString *log;
  gboolean eof;
  char *dir;
  char *url; /* "http://127.0.0.1:PORT/" once listening */
  SoupSession *session;
  GTlsCertificate *trusted; /* accepted for https, or NULL */
} AmTestDaemon;

/* Writes @ini_body (after a [core] group using a private state_dir) and
 * starts `antmon run`. Returns once @until appears in the log.
 * @asan_extra, when the tests run under AddressSanitizer (ASAN_OPTIONS is
 * set), is appended to the daemon's ASAN_OPTIONS; else ignored. */
AmTestDaemon *am_test_daemon_start(const char *core_keys, const char *ini_body, const char *until,
                                   const char *asan_extra);

/* Starts a daemon and waits for "HTTP API listening on URL". */
AmTestDaemon *am_test_daemon_start_http(const char *core_keys, const char *ini_body,
                                        const char *asan_extra);

/* Reads the log until @needle appears. FALSE if the daemon exits first. */
gboolean am_test_daemon_wait_log(AmTestDaemon *d, const char *needle);

/* SIGTERM, waits, asserts a clean exit (status 0), removes the state. */
void am_test_daemon_stop(AmTestDaemon *d);

/* Waits for a daemon that stops by itself; frees it and returns its exit
 * status. */
int am_test_daemon_wait_exit(AmTestDaemon *d);

typedef struct {
  guint status;
  char *content_type;
  SoupMessageHeaders *headers; /* response headers */
  GBytes *body;
  JsonNode *json; /* when the body is JSON, else NULL */
} AmTestReply;

void am_test_reply_free(AmTestReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmTestReply, am_test_reply_free)

/* @method on URL + @path (no leading '/'), with an optional header. */
AmTestReply *am_test_http(AmTestDaemon *d, const char *method, const char *path,
                          const char *header_name, const char *header_value);
#define am_test_get(d, path) am_test_http((d), "GET", (path), NULL, NULL)

/* @method on URL + @path with the headers @headers (name, value, ...,
 * NULL; may be NULL) and, unless @body is NULL, @body sent as @content_type
 * (NULL: no Content-Type header at all). */
AmTestReply *am_test_http_body(AmTestDaemon *d, const char *method, const char *path,
                               const char *const *headers, const char *content_type,
                               const char *body);

/* Repeats GET @path until @check(reply's JSON root object) is TRUE. Aborts
 * with the log after 60 s: a guard against hanging, not a timing check. */
JsonObject *am_test_wait_json(AmTestDaemon *d, const char *path,
                              gboolean (*check)(JsonObject *obj, gpointer data), gpointer data);

/* Sends @request as raw bytes to the daemon and returns what came back
 * until the server closed or 5 s of silence. (transfer full) */
GBytes *am_test_raw(AmTestDaemon *d, const void *request, gsize len);
