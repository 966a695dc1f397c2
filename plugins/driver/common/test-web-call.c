/* The shared HTTP request (am-web-call.c) against an in-process SoupServer
 * on 127.0.0.1: what it sends (method, query, body, headers), what it
 * reads back (status, body, Set-Cookie), digest authentication, the
 * status and transport errors, the size cap, the deadline, the caller's
 * cancellation and a refused port. */
#include "am-driver-test-util.h"
#include "am-test-util.h"
#include "am-web-call.h"

#include <glib/gstdio.h>
#include <string.h>

#define DIGEST_REALM "antMiner Configuration"
#define DIGEST_USER "root"
#define DIGEST_PASSWORD "s3cret-pw"

/* ---- the server ----------------------------------------------------------- */

typedef struct {
  SoupServer *server;
  guint16 port;
  GPtrArray *paused; /* SoupServerMessage*: /hang, never answered */
  /* the last request, as the server saw it */
  char *method;
  char *path;
  char *query;
  char *body; /* NUL-terminated, body_len long */
  gsize body_len;
  char *content_type;
  char *authorization;
  char *cookie;
  char *token;
  guint requests;
  gsize big_size; /* the length of the /big reply */
  /* /refuse/STATUS answers STATUS with this body and Content-Type */
  const char *refusal;
  gsize refusal_len;        /* 0 means strlen(refusal) */
  const char *refusal_type; /* NULL: no Content-Type header */
} Fake;

static void
remember(Fake *f, SoupServerMessage *msg)
{
  SoupMessageHeaders *in = soup_server_message_get_request_headers(msg);
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  GUri *uri = soup_server_message_get_uri(msg);
  g_free(f->method);
  f->method = g_strdup(soup_server_message_get_method(msg));
  g_free(f->path);
  f->path = g_strdup(g_uri_get_path(uri));
  g_free(f->query);
  f->query = g_strdup(g_uri_get_query(uri));
  g_free(f->body);
  f->body = g_malloc0(body->length + 1);
  memcpy(f->body, body->data, body->length);
  f->body_len = body->length;
  g_free(f->content_type);
  f->content_type = g_strdup(soup_message_headers_get_one(in, "Content-Type"));
  g_free(f->authorization);
  f->authorization = g_strdup(soup_message_headers_get_one(in, "Authorization"));
  g_free(f->cookie);
  f->cookie = g_strdup(soup_message_headers_get_one(in, "Cookie"));
  g_free(f->token);
  f->token = g_strdup(soup_message_headers_get_one(in, "Token"));
}

/* Every request read, those the auth domain turns away included. */
static void
on_request_read(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  Fake *f = user_data;
  f->requests++;
}

static void
reply(SoupServerMessage *msg, guint status, const char *body)
{
  soup_server_message_set_status(msg, status, NULL);
  if (body != NULL)
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body, strlen(body));
}

static void
on_request(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer user_data)
{
  Fake *f = user_data;
  remember(f, msg);
  SoupMessageHeaders *out = soup_server_message_get_response_headers(msg);
  if (g_str_equal(path, "/echo")) {
    soup_message_headers_append(out, "Set-Cookie", "session_id=abc123; Path=/; HttpOnly");
    soup_message_headers_append(out, "Set-Cookie", "lang=en");
    reply(msg, SOUP_STATUS_OK, "{\"ok\":true}");
  } else if (g_str_has_prefix(path, "/status/")) {
    reply(msg, (guint)g_ascii_strtoull(path + strlen("/status/"), NULL, 10), "{}");
  } else if (g_str_has_prefix(path, "/refuse/")) {
    soup_server_message_set_status(
        msg, (guint)g_ascii_strtoull(path + strlen("/refuse/"), NULL, 10), NULL);
    gsize len = f->refusal_len > 0 ? f->refusal_len : strlen(f->refusal);
    soup_message_body_append(soup_server_message_get_response_body(msg), SOUP_MEMORY_COPY,
                             f->refusal, len);
    if (f->refusal_type != NULL)
      soup_message_headers_replace(out, "Content-Type", f->refusal_type);
  } else if (g_str_equal(path, "/moved")) {
    soup_message_headers_replace(out, "Location", "/landing");
    reply(msg, SOUP_STATUS_FOUND, NULL);
  } else if (g_str_equal(path, "/landing") || g_str_equal(path, "/cgi-bin/digest")) {
    reply(msg, SOUP_STATUS_OK, "landed");
  } else if (g_str_equal(path, "/big")) {
    char *big = g_malloc(f->big_size);
    memset(big, 'x', f->big_size);
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_TAKE, big, f->big_size);
  } else if (g_str_equal(path, "/hang")) {
    soup_server_message_pause(msg);
    g_ptr_array_add(f->paused, g_object_ref(msg));
  } else {
    reply(msg, SOUP_STATUS_NOT_FOUND, NULL);
  }
}

static char *
digest_password(SoupAuthDomain *domain, SoupServerMessage *msg, const char *username,
                gpointer user_data)
{
  return g_str_equal(username, DIGEST_USER)
             ? soup_auth_domain_digest_encode_password(username, DIGEST_REALM, DIGEST_PASSWORD)
             : NULL;
}

static void
fake_start(Fake *f)
{
  memset(f, 0, sizeof *f);
  f->server = soup_server_new(NULL, NULL);
  f->paused = g_ptr_array_new_with_free_func(g_object_unref);
  soup_server_add_handler(f->server, NULL, on_request, f, NULL);
  g_signal_connect(f->server, "request-read", G_CALLBACK(on_request_read), f);
  /* Only /cgi-bin/ asks for digest auth, as on a stock Antminer. */
  SoupAuthDomain *domain = soup_auth_domain_digest_new("realm", DIGEST_REALM, "auth-callback",
                                                       digest_password, "auth-data", f, NULL);
  soup_auth_domain_add_path(domain, "/cgi-bin");
  soup_server_add_auth_domain(f->server, domain);
  g_object_unref(domain);
  f->port = am_test_soup_listen_loopback(f->server);
}

static void
fake_stop(Fake *f)
{
  am_test_soup_stop(f->server, f->paused);
  g_free(f->method);
  g_free(f->path);
  g_free(f->query);
  g_free(f->body);
  g_free(f->content_type);
  g_free(f->authorization);
  g_free(f->cookie);
  g_free(f->token);
}

/* ---- the client ----------------------------------------------------------- */

typedef struct {
  GAsyncResult *result;
} Wait;

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *w = user_data;
  w->result = g_object_ref(result);
}

/* Runs @call to its end. Returns: (transfer full) the finished result, for
 * am_web_call_finish() and the cookie readers. */
static GAsyncResult *
run(SoupSession *session, const AmWebCall *call, GCancellable *cancellable)
{
  Wait w = {0};
  am_web_call_async(session, call, cancellable, on_done, &w);
  while (w.result == NULL)
    g_main_context_iteration(NULL, TRUE);
  return w.result;
}

/* Returns the body (transfer full) or NULL with @error; @status_out too. */
static GBytes *
call_once(SoupSession *session, const AmWebCall *call, guint *status_out, GError **error)
{
  g_autoptr(GAsyncResult) result = run(session, call, NULL);
  return am_web_call_finish(result, status_out, error);
}

static AmWebCall
local(Fake *f, const char *method, const char *path)
{
  return (AmWebCall){.method = method, .host = "127.0.0.1", .port = f->port, .path = path};
}

static void
assert_body(GBytes *body, const char *expected)
{
  g_assert_nonnull(body);
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  g_assert_cmpmem(data, len, expected, strlen(expected));
}

/* ---- tests ---------------------------------------------------------------- */

/* Everything a login or an authenticated read sends arrives as given, and
 * the reply's body, status and cookies come back. */
static void
test_sends_and_reads(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  static const char *const extra[] = {"Token", "tok-777", NULL};
  AmWebCall call = local(&f, "POST", "/echo");
  call.query = "post=6&user=admin&pwd=hunter2";
  call.body = "username=seal&origin_pwd=seal";
  call.content_type = "application/x-www-form-urlencoded";
  call.authorization = "Bearer jwt.abc";
  call.cookie = "sid=42";
  call.headers = extra;
  g_autoptr(GAsyncResult) result = run(session, &call, NULL);
  guint status = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, &status, &error);
  g_assert_no_error(error);
  assert_body(body, "{\"ok\":true}");
  g_assert_cmpuint(status, ==, 200);
  g_assert_cmpstr(f.method, ==, "POST");
  g_assert_cmpstr(f.path, ==, "/echo");
  g_assert_cmpstr(f.query, ==, "post=6&user=admin&pwd=hunter2");
  g_assert_cmpstr(f.body, ==, "username=seal&origin_pwd=seal");
  g_assert_cmpstr(f.content_type, ==, "application/x-www-form-urlencoded");
  g_assert_cmpstr(f.authorization, ==, "Bearer jwt.abc");
  g_assert_cmpstr(f.cookie, ==, "sid=42");
  g_assert_cmpstr(f.token, ==, "tok-777");

  g_autofree char *cookies = am_web_call_cookies(result);
  g_assert_cmpstr(cookies, ==, "session_id=abc123; lang=en");
  g_autofree char *session_id = am_web_call_cookie(result, "session_id");
  g_assert_cmpstr(session_id, ==, "abc123");
  g_autofree char *none = am_web_call_cookie(result, "nope");
  g_assert_null(none);
  fake_stop(&f);
}

/* A JSON body without a content type is sent as JSON; a GET sends none; a
 * query written into the path is sent as the query. */
static void
test_defaults(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  AmWebCall post = local(&f, "POST", "/echo");
  post.body = "{\"password\":\"x\"}";
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) a = call_once(session, &post, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(f.content_type, ==, "application/json");
  g_assert_cmpstr(f.body, ==, "{\"password\":\"x\"}");
  g_assert_null(f.authorization);
  g_assert_null(f.cookie);

  /* body_len: a body with a NUL inside is sent whole. */
  post.body = "a\0b";
  post.body_len = 3;
  g_autoptr(GBytes) b = call_once(session, &post, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpmem(f.body, f.body_len, "a\0b", 3);

  AmWebCall get = local(&f, "GET", "/echo?level=miner,psu");
  g_autoptr(GBytes) c = call_once(session, &get, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(f.method, ==, "GET");
  g_assert_cmpstr(f.path, ==, "/echo");
  g_assert_cmpstr(f.query, ==, "level=miner,psu");
  g_assert_cmpstr(f.body, ==, "");
  g_assert_null(f.content_type);
  fake_stop(&f);
}

/* Each refusal as the code a driver acts on, with the status, and a
 * message naming the address, method and path but never the query. */
static void
test_statuses(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  static const struct {
    guint status;
    int code;
    const char *says;
  } cases[] = {
      {401, AM_ERROR_AUTH,
       "wrong user or password, or an expired session (HTTP 401 Unauthorized from GET "
       "/status/401)"},
      {403, AM_ERROR_AUTH,
       "wrong user or password, or an expired session (HTTP 403 Forbidden from GET /status/403)"},
      {404, AM_ERROR_UNSUPPORTED, "HTTP 404 Not Found from GET /status/404"},
      {405, AM_ERROR_UNSUPPORTED, "HTTP 405 Method Not Allowed from GET /status/405"},
      {500, AM_ERROR_API, "HTTP 500 Internal Server Error from GET /status/500"},
      {503, AM_ERROR_API, "HTTP 503 Service Unavailable from GET /status/503"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = g_strdup_printf("/status/%u", cases[i].status);
    AmWebCall call = local(&f, "GET", path);
    call.query = "pwd=hunter2";
    guint status = 0;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) body = call_once(session, &call, &status, &error);
    g_assert_null(body);
    g_assert_error(error, AM_ERROR, cases[i].code);
    g_assert_cmpuint(status, ==, cases[i].status);
    g_autofree char *expected = g_strdup_printf("127.0.0.1:%u: %s", f.port, cases[i].says);
    if (!g_str_has_prefix(error->message, expected))
      g_error("expected '%s...', got '%s'", expected, error->message);
    g_assert_null(strstr(error->message, "hunter2"));
  }
  fake_stop(&f);
}

/* A redirect is followed unless the caller wants to see it. */
static void
test_redirect(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  AmWebCall call = local(&f, "GET", "/moved");
  guint status = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) followed = call_once(session, &call, &status, &error);
  g_assert_no_error(error);
  assert_body(followed, "landed");
  g_assert_cmpuint(status, ==, 200);

  call.no_redirect = TRUE;
  g_autoptr(GBytes) seen = call_once(session, &call, &status, &error);
  g_assert_null(seen);
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_cmpuint(status, ==, 302);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: HTTP 302 Found from GET /moved", f.port);
  g_assert_cmpstr(error->message, ==, expected);
  g_assert_cmpstr(f.path, ==, "/moved");
  fake_stop(&f);
}

/* HTTP digest as a stock Antminer asks for it: the right credentials
 * pass, wrong or none give AM_ERROR_AUTH after one offer, and the message
 * names neither. */
static void
test_digest(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  AmWebCall call = local(&f, "GET", "/cgi-bin/digest");
  call.username = DIGEST_USER;
  call.password = DIGEST_PASSWORD;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = call_once(session, &call, NULL, &error);
  g_assert_no_error(error);
  assert_body(body, "landed");
  g_assert_true(g_str_has_prefix(f.authorization, "Digest "));

  /* A fresh session: libsoup would otherwise reuse the accepted auth. */
  g_autoptr(SoupSession) other = am_web_session_new();
  call.password = "wrong-pw";
  guint before = f.requests;
  guint status = 0;
  g_autoptr(GBytes) refused = call_once(other, &call, &status, &error);
  g_assert_null(refused);
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_cmpuint(status, ==, 401);
  /* Offered and refused: certainly the credentials, not a stale session. */
  g_autofree char *expected = g_strdup_printf(
      "127.0.0.1:%u: wrong username or password (HTTP 401 Unauthorized from GET /cgi-bin/digest)",
      f.port);
  g_assert_cmpstr(error->message, ==, expected);
  g_assert_null(strstr(error->message, "wrong-pw"));
  g_assert_null(strstr(error->message, DIGEST_PASSWORD));
  /* The challenge and one try with the credentials: no retry loop. */
  g_assert_cmpuint(f.requests - before, ==, 2);
  g_clear_error(&error);

  g_autoptr(SoupSession) third = am_web_session_new();
  call.username = NULL;
  call.password = NULL;
  g_autoptr(GBytes) anonymous = call_once(third, &call, &status, &error);
  g_assert_null(anonymous);
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_cmpuint(status, ==, 401);
  fake_stop(&f);
}

/* A write behind digest auth (set_miner_conf.cgi): the first try is
 * challenged, and the authenticated retry carries the whole body again,
 * not an empty one. The server records only what passed its auth. */
static void
test_digest_post_body(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  AmWebCall call = local(&f, "POST", "/cgi-bin/digest");
  call.username = DIGEST_USER;
  call.password = DIGEST_PASSWORD;
  call.body = "{\"bitmain-work-mode\":\"1\"}";
  guint before = f.requests;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = call_once(session, &call, NULL, &error);
  g_assert_no_error(error);
  assert_body(body, "landed");
  /* challenged, then answered: the retry is the one recorded */
  g_assert_cmpuint(f.requests - before, ==, 2);
  g_assert_true(g_str_has_prefix(f.authorization, "Digest "));
  g_assert_cmpstr(f.method, ==, "POST");
  g_assert_cmpstr(f.content_type, ==, "application/json");
  g_assert_cmpuint(f.body_len, ==, strlen(call.body));
  g_assert_cmpstr(f.body, ==, call.body);

  /* PUT and a form body too, on a session that already knows the realm. */
  call.method = "PUT";
  call.body = "_ant_pool1url=stratum%2Btcp%3A%2F%2Fpool";
  call.content_type = "application/x-www-form-urlencoded";
  g_autoptr(GBytes) again = call_once(session, &call, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(f.method, ==, "PUT");
  g_assert_cmpstr(f.body, ==, call.body);
  fake_stop(&f);
}

/* libsoup follows a 302 after a POST as a GET: the body restored for
 * auth retries must not ride along on it. (It does not follow a 307 or
 * 308 after a POST at all, so no redirect re-sends a body.) */
static void
test_redirect_body(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  AmWebCall call = local(&f, "POST", "/moved");
  call.body = "{\"pools\":[]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) landed = call_once(session, &call, NULL, &error);
  g_assert_no_error(error);
  assert_body(landed, "landed");
  g_assert_cmpstr(f.path, ==, "/landing");
  g_assert_cmpstr(f.method, ==, "GET");
  g_assert_cmpuint(f.body_len, ==, 0);
  g_assert_null(f.content_type);
  fake_stop(&f);
}

/* Runs POST /refuse/@status against @f and returns the error message. */
static char *
refusal_message(Fake *f, SoupSession *session, guint status, const char *authorization, int code)
{
  g_autofree char *path = g_strdup_printf("/refuse/%u", status);
  AmWebCall call = local(f, "POST", path);
  call.body = "{\"watts\":99999}";
  call.authorization = authorization;
  call.username = "admin";
  call.password = "hunter2-pw";
  static const char *const extra[] = {"Token", "hdr-secret-5", NULL};
  call.headers = extra;
  guint got = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = call_once(session, &call, &got, &error);
  g_assert_null(body);
  g_assert_error(error, AM_ERROR, code);
  g_assert_cmpuint(got, ==, status);
  return g_strdup(error->message);
}

/* A refusal's JSON or text body ends the message, on one line, cut at
 * AM_WEB_REFUSAL_MAX bytes, with our secrets masked; HTML, binary, not
 * UTF-8 or empty bodies add nothing. */
static void
test_refusal_body(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  g_autofree char *at = g_strdup_printf("127.0.0.1:%u: ", f.port);
  static const struct {
    guint status;
    int code;
    const char *body, *type, *tail; /* tail: after "HTTP ... from POST /refuse/N" */
  } cases[] = {
      {400, AM_ERROR_API, "{\"message\":\"power target out of range\"}", "application/json",
       ": {\"message\":\"power target out of range\"}"},
      {422, AM_ERROR_API, "{\"code\": 7}\r\n", "application/problem+json; charset=utf-8",
       ": {\"code\": 7}"},
      {403, AM_ERROR_AUTH,
       "{\"error\":\"token jwt-secret-77 (hdr-secret-5) for hunter2-pw refused\"}",
       "application/json", ": {\"error\":\"token *** (***) for *** refused\"}"},
      {500, AM_ERROR_API, "  cgminer\n\n\tnot   running \n", "text/plain", ": cgminer not running"},
      {503, AM_ERROR_API, "busy, try later", NULL, ": busy, try later"},
      {404, AM_ERROR_UNSUPPORTED, "<html><body>Not here</body></html>", "text/html", ""},
      {500, AM_ERROR_API, "\x89PNG\r\n", "application/octet-stream", ""},
      {500, AM_ERROR_API, "caf\xe9 ferm\xe9", NULL, ""},
      {500, AM_ERROR_API, " \r\n ", "text/plain", ""},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    f.refusal = cases[i].body;
    f.refusal_type = cases[i].type;
    g_autofree char *message =
        refusal_message(&f, session, cases[i].status, "Bearer jwt-secret-77", cases[i].code);
    /* 401/403 close the status in brackets; the others end with the path */
    g_autofree char *want =
        g_strdup_printf(" from POST /refuse/%u%s%s", cases[i].status,
                        cases[i].code == AM_ERROR_AUTH ? ")" : "", cases[i].tail);
    if (!g_str_has_prefix(message, at) || !g_str_has_suffix(message, want))
      g_error("case %u: expected '%s...%s', got '%s'", i, at, want, message);
    g_assert_null(strstr(message, "hunter2-pw"));
    g_assert_null(strstr(message, "jwt-secret-77"));
    g_assert_null(strstr(message, "hdr-secret-5"));
  }

  /* The exact message of the usual case, as a user reads it. */
  f.refusal = "{\"message\":\"power target out of range\"}";
  f.refusal_type = "application/json";
  g_autofree char *exact = refusal_message(&f, session, 400, NULL, AM_ERROR_API);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: HTTP 400 Bad Request from POST /refuse/400: "
                      "{\"message\":\"power target out of range\"}",
                      f.port);
  g_assert_cmpstr(exact, ==, expected);

  /* Long: the first 512 bytes and "..."; at 512 exactly, no "...". */
  char big[2000];
  memset(big, 'y', sizeof big);
  f.refusal = big;
  f.refusal_type = "text/plain";
  for (gsize len = 511; len <= 513; len++) {
    f.refusal_len = len;
    g_autofree char *message = refusal_message(&f, session, 500, NULL, AM_ERROR_API);
    g_autofree char *ys = g_strnfill(MIN(len, AM_WEB_REFUSAL_MAX), 'y');
    g_autofree char *tail = g_strconcat(": ", ys, len > AM_WEB_REFUSAL_MAX ? "..." : "", NULL);
    if (!g_str_has_suffix(message, tail))
      g_error("%" G_GSIZE_FORMAT " bytes: got '%s'", len, message);
    /* nothing more of the body than that */
    g_assert_cmpuint(strlen(strstr(message, ": y")), ==, strlen(tail));
  }
  f.refusal_len = sizeof big;
  g_autofree char *cut = refusal_message(&f, session, 500, NULL, AM_ERROR_API);
  g_assert_true(g_str_has_suffix(cut, "yyy..."));
  g_assert_cmpuint(strlen(strstr(cut, ": y")), ==, 2 + AM_WEB_REFUSAL_MAX + 3);

  /* A cut through a two-byte character drops that character only. */
  char accents[1001] = "a";
  for (gsize k = 1; k + 1 < sizeof accents; k += 2)
    memcpy(accents + k, "\xc3\xa9", 2); /* é */
  f.refusal = accents;
  f.refusal_len = sizeof accents; /* byte 512 is the first half of an é */
  g_autofree char *half = refusal_message(&f, session, 500, NULL, AM_ERROR_API);
  GString *want = g_string_new(": a");
  for (guint k = 0; k < (AM_WEB_REFUSAL_MAX - 1) / 2; k++)
    g_string_append(want, "\xc3\xa9");
  g_string_append(want, "...");
  if (!g_str_has_suffix(half, want->str))
    g_error("got '%s'", half);
  g_string_free(want, TRUE);
  f.refusal_len = 0;
  fake_stop(&f);
}

/* The cap counts the body: at the cap it is read, one byte over it fails. */
static void
test_size_cap(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  f.big_size = 100000;
  AmWebCall call = local(&f, "GET", "/big");
  call.max_body = 100000;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) fits = call_once(session, &call, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_bytes_get_size(fits), ==, 100000);

  call.max_body = 99999;
  g_autoptr(GBytes) over = call_once(session, &call, NULL, &error);
  g_assert_null(over);
  g_assert_error(error, AM_ERROR, AM_ERROR_TOO_LARGE);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: reply is over the 99999-byte cap (GET /big)", f.port);
  g_assert_cmpstr(error->message, ==, expected);
  fake_stop(&f);
}

/* A server that takes the request and never answers: the deadline ends it
 * as a timeout, on time. */
static void
test_timeout(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  AmWebCall call = local(&f, "POST", "/hang");
  call.timeout_ms = 200;
  gint64 start = g_get_monotonic_time();
  guint status = 7;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = call_once(session, &call, &status, &error);
  gint64 took_ms = (g_get_monotonic_time() - start) / 1000;
  g_assert_null(body);
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  g_assert_cmpuint(status, ==, 0);
  g_autofree char *expected =
      g_strdup_printf("127.0.0.1:%u: timed out after 0.2 s (POST /hang)", f.port);
  g_assert_cmpstr(error->message, ==, expected);
  g_assert_cmpint(took_ms, >=, 190);
  g_assert_cmpint(took_ms, <, 2000);
  fake_stop(&f);
}

static gboolean
cancel_later(gpointer cancellable)
{
  g_cancellable_cancel(cancellable);
  return G_SOURCE_REMOVE;
}

/* The caller's cancellation is G_IO_ERROR_CANCELLED, not a timeout, and
 * comes at once. */
static void
test_cancelled(void)
{
  Fake f;
  fake_start(&f);
  g_autoptr(SoupSession) session = am_web_session_new();
  AmWebCall call = local(&f, "GET", "/hang");
  call.timeout_ms = 5000;
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_timeout_add(50, cancel_later, cancellable);
  gint64 start = g_get_monotonic_time();
  g_autoptr(GAsyncResult) result = run(session, &call, cancellable);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  g_assert_null(body);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint((g_get_monotonic_time() - start) / 1000, <, 2000);
  g_assert_null(am_web_call_cookies(result));
  fake_stop(&f);
}

static void
test_refused(void)
{
  g_autoptr(SoupSession) session = am_web_session_new();
  guint16 port = am_test_free_port(); /* nothing listens there */
  AmWebCall call = {.method = "GET", .host = "127.0.0.1", .port = port, .path = "/x"};
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = call_once(session, &call, NULL, &error);
  g_assert_null(body);
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
  g_autofree char *expected = g_strdup_printf("127.0.0.1:%u: connection refused (GET /x)", port);
  g_assert_cmpstr(error->message, ==, expected);
}

/* ---- a server that does not speak HTTP ------------------------------------ */

static gboolean
on_garbage(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
           gpointer user_data)
{
  char buf[1024];
  g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(connection)), buf, sizeof buf, NULL,
                      NULL);
  const char *text = user_data;
  g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(connection)), text,
                            strlen(text), NULL, NULL, NULL);
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  return TRUE;
}

/* Returns: (transfer full) a service on 127.0.0.1 that answers @text to
 * anything and closes; its port in @port. */
static GSocketService *
raw_server(const char *text, guint16 *port)
{
  GSocketService *service = g_threaded_socket_service_new(2);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(service), any, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  *port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(service, "run", G_CALLBACK(on_garbage), (gpointer)text);
  g_socket_service_start(service);
  return service;
}

/* Not HTTP at all is a PARSE error; a connection closed in the middle of
 * the body a RESET. */
static void
test_not_http(void)
{
  static const struct {
    const char *answer;
    int code;
  } cases[] = {
      {"{\"STATUS\":[{\"STATUS\":\"S\"}]}\r\n\r\n", AM_ERROR_PARSE},
      {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"cut", AM_ERROR_RESET},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    guint16 port = 0;
    g_autoptr(GSocketService) service = raw_server(cases[i].answer, &port);
    g_autoptr(SoupSession) session = am_web_session_new();
    AmWebCall call = {.method = "GET", .host = "127.0.0.1", .port = port, .path = "/summary"};
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) body = call_once(session, &call, NULL, &error);
    g_assert_null(body);
    g_assert_error(error, AM_ERROR, cases[i].code);
    g_autofree char *prefix = g_strdup_printf("127.0.0.1:%u: ", port);
    g_assert_true(g_str_has_prefix(error->message, prefix));
    g_assert_nonnull(strstr(error->message, "GET /summary"));
    g_socket_service_stop(service);
    g_socket_listener_close(G_SOCKET_LISTENER(service));
  }
}

static void
test_format_address(void)
{
  g_autofree char *v4 = am_web_format_address("10.0.0.5", 80);
  g_assert_cmpstr(v4, ==, "10.0.0.5:80");
  g_autofree char *v6 = am_web_format_address("fe80::1", 8080);
  g_assert_cmpstr(v6, ==, "[fe80::1]:8080");
}

/* ---- the settings of a web driver ---------------------------------------- */

static GKeyFile *
keyfile(const char *text)
{
  GKeyFile *kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, NULL));
  return kf;
}

static void
test_settings(void)
{
  /* No group at all: the factory defaults. */
  AmWebSettings web;
  g_assert_true(
      am_web_settings_read(NULL, "driver:x", "http_port", 80, "root", "root", &web, NULL));
  g_assert_cmpuint(web.port, ==, 80);
  g_assert_cmpuint(web.timeout_ms, ==, 10000);
  g_assert_cmpstr(web.user, ==, "root");
  g_assert_cmpstr(web.password, ==, "root");
  am_web_settings_clear(&web);
  g_assert_null(web.user);
  g_assert_null(web.password);

  /* Everything set, the password from a file. */
  g_autofree char *dir = g_dir_make_tmp("web-settings-XXXXXX", NULL);
  g_autofree char *secret = g_build_filename(dir, "pw", NULL);
  g_assert_true(g_file_set_contents(secret, "s3cret\n", -1, NULL));
  g_autofree char *text = g_strdup_printf(
      "[driver:x]\nweb_port=8081\ntimeout=2s\nuser=ops\npassword_file=%s\n", secret);
  g_autoptr(GKeyFile) kf = keyfile(text);
  g_assert_true(
      am_web_settings_read(kf, "driver:x", "web_port", 8080, "admin", "admin", &web, NULL));
  g_assert_cmpuint(web.port, ==, 8081);
  g_assert_cmpuint(web.timeout_ms, ==, 2000);
  g_assert_cmpstr(web.user, ==, "ops");
  g_assert_cmpstr(web.password, ==, "s3cret");
  am_web_settings_clear(&web);
  g_unlink(secret);
  g_rmdir(dir);

  /* A family that logs in with a password only has no user. */
  g_autoptr(GKeyFile) proto = keyfile("[driver:p]\nuser=ignored\n");
  g_assert_true(am_web_settings_read(proto, "driver:p", "http_port", 80, NULL, "", &web, NULL));
  g_assert_null(web.user);
  g_assert_cmpstr(web.password, ==, "");
  am_web_settings_clear(&web);

  /* Bad values say which key and what is expected. */
  static const struct {
    const char *text, *says;
  } bad[] = {
      {"[driver:x]\nhttp_port=0\n", "http_port"},
      {"[driver:x]\nhttp_port=http\n", "http_port"},
      {"[driver:x]\ntimeout=5ms\n", "timeout"},
      {"[driver:x]\npassword_file=/nonexistent/antmon-pw\n", "password_file"},
  };
  for (guint k = 0; k < G_N_ELEMENTS(bad); k++) {
    g_autoptr(GKeyFile) b = keyfile(bad[k].text);
    g_autoptr(GError) error = NULL;
    g_assert_false(
        am_web_settings_read(b, "driver:x", "http_port", 80, "root", "root", &web, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    if (strstr(error->message, bad[k].says) == NULL)
      g_error("%s: '%s' does not name %s", bad[k].text, error->message, bad[k].says);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/web-call/sends-and-reads", test_sends_and_reads);
  g_test_add_func("/web-call/defaults", test_defaults);
  g_test_add_func("/web-call/statuses", test_statuses);
  g_test_add_func("/web-call/redirect", test_redirect);
  g_test_add_func("/web-call/redirect-body", test_redirect_body);
  g_test_add_func("/web-call/refusal-body", test_refusal_body);
  g_test_add_func("/web-call/digest", test_digest);
  g_test_add_func("/web-call/digest-post-body", test_digest_post_body);
  g_test_add_func("/web-call/size-cap", test_size_cap);
  g_test_add_func("/web-call/timeout", test_timeout);
  g_test_add_func("/web-call/cancelled", test_cancelled);
  g_test_add_func("/web-call/refused", test_refused);
  g_test_add_func("/web-call/not-http", test_not_http);
  g_test_add_func("/web-call/format-address", test_format_address);
  g_test_add_func("/web-call/settings", test_settings);
  return g_test_run();
}
