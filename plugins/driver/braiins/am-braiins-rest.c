/* The REST poll (login with fallbacks, token cache, eight reads) and the
 * REST write of an action, which logs in the same way. See
 * am-braiins-rest.h for the authentication rules. Secrets (password,
 * token) never reach a message, a log line or the raw view. */
#include "am-braiins-rest.h"

#include "../common/am-web-call.h"
#include "am-braiins-rest-parse.h"

#include <string.h>

/* What one miner taught us about logging in. */
typedef struct {
  char *token;         /* NULL: log in first */
  gint64 timeout_us;   /* validity after the last request; 0: until a 401 */
  gint64 last_use_us;  /* monotonic time of the last accepted request */
  gboolean bearer;     /* API 1.2.0 wants "Bearer <token>" */
  gboolean empty_pass; /* the empty factory password (BOS before 25.07) worked */
} AuthEntry;

static void
auth_entry_free(AuthEntry *e)
{
  g_free(e->token);
  g_free(e);
}

AmBraiinsAuthCache *
am_braiins_auth_cache_new(void)
{
  return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)auth_entry_free);
}

typedef struct {
  SoupSession *session;
  AmBraiinsAuthCache *cache;
  AmMiner *miner;
  char *host;
  guint16 port;
  char *user;
  char *password;
  guint timeout_ms;
  char *address;
  AuthEntry *auth; /* owned by cache */

  const char *passwords[2]; /* login candidates, in order */
  guint n_passwords, next_password;
  gboolean token_from_cache; /* a 401 then means "expired": log in again */
  gboolean flipped;          /* the other Authorization form was tried */
  char *header;              /* the Authorization value in use */

  /* A write (act) instead of a poll: sent once logged in, in place of
   * the reads. NULL path for a poll. */
  const char *write_method;
  char *write_path;
  char *write_body;

  guint endpoint; /* the one being read */
  AmBraiinsRestReplies replies;
  GString *failures; /* "miner/errors: HTTP 500; ..." */
  GError *first_error;
} Poll;

static void
poll_free(Poll *p)
{
  g_object_unref(p->session);
  g_hash_table_unref(p->cache);
  am_miner_unref(p->miner);
  g_free(p->host);
  g_free(p->user);
  g_free(p->password);
  g_free(p->address);
  g_free(p->header);
  g_free(p->write_path);
  g_free(p->write_body);
  for (guint i = 0; i < AM_BRAIINS_REST_N_ENDPOINTS; i++)
    g_clear_pointer(&p->replies.replies[i], json_node_unref);
  g_string_free(p->failures, TRUE);
  g_clear_error(&p->first_error);
  g_free(p);
}

static AmWebCall
request_for(Poll *p, const char *method, const char *path)
{
  return (AmWebCall){.host = p->host,
                     .port = p->port,
                     .method = method,
                     .path = path,
                     .authorization = p->header,
                     .timeout_ms = p->timeout_ms};
}

static void
use_token(Poll *p)
{
  g_free(p->header);
  p->header =
      p->auth->bearer ? g_strconcat("Bearer ", p->auth->token, NULL) : g_strdup(p->auth->token);
}

static gboolean
token_valid(const AuthEntry *e)
{
  if (e->token == NULL)
    return FALSE;
  if (e->timeout_us <= 0)
    return TRUE;
  /* A minute's margin: the miner's clock of the token runs from its side. */
  return g_get_monotonic_time() - e->last_use_us < e->timeout_us - 60 * G_USEC_PER_SEC;
}

static void forget_token(Poll *p);
static void login(GTask *task);
static void read_endpoint(GTask *task);

/* The path of the request in flight, for messages. */
static const char *
current_path(Poll *p)
{
  return p->write_path != NULL ? p->write_path : am_braiins_rest_path(p->endpoint);
}

/* ---- the end ------------------------------------------------------------ */

static void
finish(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  AmSample *s = am_braiins_rest_parse(&p->replies, &error);
  if (s == NULL) {
    /* Nothing was read: the first failure says why. */
    g_task_return_error(task, p->first_error != NULL ? g_steal_pointer(&p->first_error)
                                                     : g_steal_pointer(&error));
    g_object_unref(task);
    return;
  }
  if (p->failures->len > 0)
    am_sample_mark_partial(s, "REST %s", p->failures->str);
  g_task_return_pointer(task, s, (GDestroyNotify)am_sample_unref);
  g_object_unref(task);
}

static void
fail(GTask *task, GError *error)
{
  g_task_return_error(task, error);
  g_object_unref(task);
}

/* ---- reading ------------------------------------------------------------ */

static void
note_failure(Poll *p, const char *name, const GError *error)
{
  g_debug("%s: %s", p->address, error->message);
  g_string_append_printf(p->failures, "%s%s: %s", p->failures->len > 0 ? "; " : "", name,
                         error->message);
  if (p->first_error == NULL)
    p->first_error = g_error_copy(error);
}

/* A transport failure means the miner stopped answering: the remaining
 * endpoints would each wait for their own deadline, so they are skipped. */
static gboolean
is_transport_error(const GError *error)
{
  return g_error_matches(error, AM_ERROR, AM_ERROR_TIMEOUT) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_REFUSED) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_RESET);
}

/* 401 to a request: an expired token (log in again), else the other
 * Authorization form once, else the API refuses us. */
static void
on_refused(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (p->token_from_cache) {
    g_debug("%s: token no longer accepted, logging in again", p->address);
    forget_token(p);
    login(task);
    return;
  }
  if (!p->flipped) {
    p->flipped = TRUE;
    p->auth->bearer = !p->auth->bearer;
    use_token(p);
    read_endpoint(task);
    return;
  }
  fail(task, g_error_new(AM_ERROR, AM_ERROR_AUTH,
                         "%s: the Braiins OS REST API refused its own login token (sent as is "
                         "and as Bearer) for %s",
                         p->address, current_path(p)));
}

static void
on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Poll *p = g_task_get_task_data(task);
  const char *name = am_braiins_rest_name(p->endpoint);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body == NULL && g_error_matches(error, AM_ERROR, AM_ERROR_AUTH)) {
    on_refused(task);
    return;
  }
  if (body == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    fail(task, g_steal_pointer(&error));
    return;
  }
  if (body != NULL) {
    /* Each accepted request renews the token on the miner's side. */
    p->auth->last_use_us = g_get_monotonic_time();
    p->token_from_cache = FALSE;
    am_miner_store_raw(p->miner, name, body);
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);
    p->replies.replies[p->endpoint] =
        am_braiins_rest_parse_body(am_braiins_rest_path(p->endpoint), data, len, &error);
  }
  /* actions/locate came with a later API version: its absence is no fault. */
  if (p->endpoint == AM_BRAIINS_REST_LOCATE &&
      g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED))
    g_clear_error(&error);
  if (error != NULL) {
    note_failure(p, name, error);
    if (is_transport_error(error)) {
      finish(task);
      return;
    }
  }
  p->endpoint++;
  read_endpoint(task);
}

static void send_write(GTask *task);

static void
read_endpoint(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (p->write_path != NULL) {
    send_write(task);
    return;
  }
  if (p->endpoint >= AM_BRAIINS_REST_N_ENDPOINTS) {
    finish(task);
    return;
  }
  AmWebCall r = request_for(p, "GET", am_braiins_rest_path(p->endpoint));
  am_web_call_async(p->session, &r, g_task_get_cancellable(task), on_read, task);
}

/* ---- writing (actions) -------------------------------------------------- */

/* The firmware's refusal of a write, in words for a farm operator. */
static GError *
write_error(Poll *p, GError *error)
{
  if (g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED))
    return g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED,
                       "%s: this Braiins OS version does not offer %s %s (update the firmware)",
                       p->address, p->write_method, p->write_path);
  if (g_error_matches(error, AM_ERROR, AM_ERROR_API))
    return g_error_new(AM_ERROR, AM_ERROR_API, "Braiins OS refused the write: %s", error->message);
  return g_error_copy(error);
}

static void
on_write(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body == NULL && g_error_matches(error, AM_ERROR, AM_ERROR_AUTH)) {
    on_refused(task);
    return;
  }
  if (body == NULL) {
    fail(task, write_error(p, error));
    return;
  }
  p->auth->last_use_us = g_get_monotonic_time();
  g_task_return_boolean(task, TRUE);
  g_object_unref(task);
}

static void
send_write(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  AmWebCall r = request_for(p, p->write_method, p->write_path);
  r.body = p->write_body;
  am_web_call_async(p->session, &r, g_task_get_cancellable(task), on_write, task);
}

/* ---- logging in --------------------------------------------------------- */

static void
forget_token(Poll *p)
{
  g_clear_pointer(&p->auth->token, g_free);
  g_clear_pointer(&p->header, g_free);
  p->token_from_cache = FALSE;
}

/* The answers that mean "no REST API on this port": the caller falls back
 * to the cgminer API. */
static gboolean
means_no_rest(const GError *error)
{
  return g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_REFUSED) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_RESET) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_PARSE);
}

static void
on_login(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body == NULL && g_error_matches(error, AM_ERROR, AM_ERROR_AUTH)) {
    if (p->next_password < p->n_passwords) {
      login(task);
      return;
    }
    fail(task, g_error_new(AM_ERROR, AM_ERROR_AUTH,
                           "%s: wrong user or password for the Braiins OS REST API (HTTP 401 "
                           "from %s for user \"%s\"; tried %s)",
                           p->address, AM_BRAIINS_REST_LOGIN, p->user,
                           p->n_passwords > 1 ? "the configured password and the empty one"
                                              : "the configured password"));
    return;
  }
  if (body == NULL) {
    if (means_no_rest(error))
      fail(task, g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: no Braiins OS REST API (%s)",
                             p->address, error->message));
    else
      fail(task, g_steal_pointer(&error));
    return;
  }
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  char *token = NULL;
  gint64 timeout_s = AM_UNKNOWN;
  if (!am_braiins_rest_parse_login(data, len, &token, &timeout_s, &error)) {
    /* A 2xx that is not the login answer: some other web server. */
    fail(task, g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: no Braiins OS REST API (%s)",
                           p->address, error->message));
    return;
  }
  g_free(p->auth->token);
  p->auth->token = token;
  p->auth->timeout_us = timeout_s > 0 ? timeout_s * G_USEC_PER_SEC : 0;
  p->auth->last_use_us = g_get_monotonic_time();
  p->auth->empty_pass = *p->passwords[p->next_password - 1] == '\0';
  p->token_from_cache = FALSE;
  p->flipped = FALSE;
  use_token(p);
  read_endpoint(task);
}

static void
login(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  const char *password = p->passwords[p->next_password++];
  g_autofree char *body = am_braiins_rest_login_body(p->user, password);
  AmWebCall r = request_for(p, "POST", AM_BRAIINS_REST_LOGIN);
  r.authorization = NULL;
  r.body = body;
  am_web_call_async(p->session, &r, g_task_get_cancellable(task), on_login, task);
}

/* The state of one poll or write of @target, with this miner's entry of
 * @cache (made on first use). */
static Poll *
poll_new(SoupSession *session, AmBraiinsAuthCache *cache, const AmBraiinsRestTarget *target,
         AmMiner *miner)
{
  Poll *p = g_new0(Poll, 1);
  p->session = g_object_ref(session);
  p->cache = g_hash_table_ref(cache);
  p->miner = am_miner_ref(miner);
  p->host = g_strdup(target->host);
  p->port = target->port;
  p->user = g_strdup(target->user != NULL ? target->user : "root");
  p->password = g_strdup(target->password != NULL ? target->password : "");
  p->timeout_ms = target->timeout_ms;
  p->address = am_web_format_address(p->host, p->port);
  p->failures = g_string_new(NULL);
  p->auth = g_hash_table_lookup(cache, p->address);
  if (p->auth == NULL) {
    p->auth = g_new0(AuthEntry, 1);
    g_hash_table_insert(cache, g_strdup(p->address), p->auth);
  }
  p->n_passwords = am_braiins_login_passwords(p->password, p->auth->empty_pass, p->passwords);
  return p;
}

/* With the kept token while it is valid, else by logging in. */
static void
start(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (token_valid(p->auth)) {
    p->token_from_cache = TRUE;
    use_token(p);
    read_endpoint(task);
  } else {
    forget_token(p);
    login(task);
  }
}

void
am_braiins_rest_poll_async(SoupSession *session, AmBraiinsAuthCache *cache,
                           const AmBraiinsRestTarget *target, AmMiner *miner,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_braiins_rest_poll_async);
  g_task_set_task_data(task, poll_new(session, cache, target, miner), (GDestroyNotify)poll_free);
  start(task);
}

void
am_braiins_rest_write_async(SoupSession *session, AmBraiinsAuthCache *cache,
                            const AmBraiinsRestTarget *target, AmMiner *miner,
                            const AmBraiinsRestWrite *write, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_braiins_rest_write_async);
  Poll *p = poll_new(session, cache, target, miner);
  p->write_method = write->method;
  p->write_path = g_strdup(write->path);
  p->write_body = g_strdup(write->body);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
  start(task);
}

gboolean
am_braiins_rest_write_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

AmSample *
am_braiins_rest_poll_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

guint
am_braiins_login_passwords(const char *configured, gboolean empty_works, const char *out[2])
{
  guint n = 0;
  gboolean configured_empty = *configured == '\0';
  if (empty_works || configured_empty)
    out[n++] = "";
  if (!configured_empty)
    out[n++] = configured;
  if (!empty_works && !configured_empty)
    out[n++] = "";
  return n;
}
