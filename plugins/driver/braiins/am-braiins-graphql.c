/* The GraphQL poll: login with the empty-password fallback, session cookie
 * cache, six queries. See am-braiins-graphql.h for the authentication
 * rules. Secrets (password, session) never reach a message, a log line or
 * the raw view (the login exchange is not stored). */
#include "am-braiins-graphql.h"

#include "../common/am-web-call.h"
#include "am-braiins-action.h"
#include "am-braiins-graphql-parse.h"

#include <string.h>

/* What one miner taught us about logging in. */
typedef struct {
  char *session;       /* the session_id cookie; NULL: log in first */
  gboolean empty_pass; /* the empty factory password worked */
} AuthEntry;

static void
auth_entry_free(AuthEntry *e)
{
  g_free(e->session);
  g_free(e);
}

AmBraiinsGqlAuthCache *
am_braiins_gql_auth_cache_new(void)
{
  return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)auth_entry_free);
}

typedef struct {
  SoupSession *session;
  AmBraiinsGqlAuthCache *cache;
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
  gboolean session_from_cache; /* a refusal then means "expired": log in again */

  char *mutation; /* a write (act): its POST body, sent in place of the queries */

  guint query; /* the one being sent */
  AmBraiinsGqlReplies replies;
  GString *failures; /* "events: ...; ..." */
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
  g_free(p->mutation);
  for (guint i = 0; i < AM_BRAIINS_GQL_N_QUERIES; i++)
    g_clear_pointer(&p->replies.replies[i], json_node_unref);
  g_string_free(p->failures, TRUE);
  g_clear_error(&p->first_error);
  g_free(p);
}

static void login(GTask *task);
static void send_query(GTask *task);

/* ---- the end ------------------------------------------------------------ */

static void
fail(GTask *task, GError *error)
{
  g_task_return_error(task, error);
  g_object_unref(task);
}

static void
finish(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  AmSample *s = am_braiins_gql_parse(&p->replies, &error);
  if (s == NULL) {
    /* Nothing was read: the first failure says why. */
    fail(task, p->first_error != NULL ? g_steal_pointer(&p->first_error) : g_steal_pointer(&error));
    return;
  }
  if (p->failures->len > 0)
    am_sample_mark_partial(s, "GraphQL %s", p->failures->str);
  g_task_return_pointer(task, s, (GDestroyNotify)am_sample_unref);
  g_object_unref(task);
}

/* ---- the queries --------------------------------------------------------- */

static AmWebCall
request_for(Poll *p, const char *body, const char *cookie)
{
  return (AmWebCall){.host = p->host,
                     .port = p->port,
                     .method = "POST",
                     .path = AM_BRAIINS_GQL_PATH,
                     .body = body,
                     .cookie = cookie,
                     .timeout_ms = p->timeout_ms};
}

static void
note_failure(Poll *p, const GError *error)
{
  g_debug("%s: %s", p->address, error->message);
  g_string_append_printf(p->failures, "%s%s: %s", p->failures->len > 0 ? "; " : "",
                         am_braiins_gql_name(p->query), error->message);
  if (p->first_error == NULL)
    p->first_error = g_error_copy(error);
}

/* A transport failure means the miner stopped answering: the remaining
 * queries would each wait for their own deadline, so they are skipped. */
static gboolean
is_transport_error(const GError *error)
{
  return g_error_matches(error, AM_ERROR, AM_ERROR_TIMEOUT) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_REFUSED) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_RESET);
}

/* A kept session the miner no longer knows shows as an HTTP 401/403 or a
 * GraphQL error on the first query: log in again, once. */
static gboolean
relogin_if_expired(GTask *task, const GError *error)
{
  Poll *p = g_task_get_task_data(task);
  if (!p->session_from_cache || !(g_error_matches(error, AM_ERROR, AM_ERROR_AUTH) ||
                                  g_error_matches(error, AM_ERROR, AM_ERROR_API)))
    return FALSE;
  g_debug("%s: GraphQL session no longer accepted, logging in again", p->address);
  g_clear_pointer(&p->auth->session, g_free);
  p->session_from_cache = FALSE;
  login(task);
  return TRUE;
}

static void
on_query(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    fail(task, g_steal_pointer(&error));
    return;
  }
  if (body != NULL) {
    g_autofree char *view = g_strconcat("graphql/", am_braiins_gql_name(p->query), NULL);
    am_miner_store_raw(p->miner, view, body);
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);
    p->replies.replies[p->query] =
        am_braiins_gql_parse_body(am_braiins_gql_name(p->query), data, len, &error);
  }
  if (error != NULL && relogin_if_expired(task, error))
    return;
  p->session_from_cache = FALSE;
  if (error != NULL) {
    note_failure(p, error);
    if (is_transport_error(error)) {
      finish(task);
      return;
    }
  }
  p->query++;
  send_query(task);
}

static void send_mutation(GTask *task);

static void
send_query(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (p->mutation != NULL) {
    send_mutation(task);
    return;
  }
  if (p->query >= AM_BRAIINS_GQL_N_QUERIES) {
    finish(task);
    return;
  }
  /* Board serials are a 25.03 field: asked only when the system answer
   * says the firmware knows it (else the whole query would be rejected). */
  gboolean serials = am_braiins_gql_knows_board_serials(p->replies.replies[AM_BRAIINS_GQL_SYSTEM]);
  g_autofree char *body = am_braiins_gql_request_body(p->query, serials);
  g_autofree char *cookie = g_strconcat(AM_BRAIINS_GQL_COOKIE "=", p->auth->session, NULL);
  AmWebCall r = request_for(p, body, cookie);
  am_web_call_async(p->session, &r, g_task_get_cancellable(task), on_query, task);
}

/* ---- writing (actions) -------------------------------------------------- */

static void
on_mutation(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body != NULL) {
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);
    am_braiins_gql_parse_mutation(data, len, &error);
  }
  if (error == NULL) {
    g_task_return_boolean(task, TRUE);
    g_object_unref(task);
    return;
  }
  if (relogin_if_expired(task, error))
    return;
  if (g_error_matches(error, AM_ERROR, AM_ERROR_API) && body != NULL)
    fail(task, g_error_new(AM_ERROR, AM_ERROR_API, "%s: Braiins OS refused the write: %s",
                           p->address, error->message));
  else if (g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED))
    fail(task,
         g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED,
                     "%s: no Braiins OS GraphQL API to write to (%s)", p->address, error->message));
  else
    fail(task, g_steal_pointer(&error));
}

static void
send_mutation(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  g_autofree char *cookie = g_strconcat(AM_BRAIINS_GQL_COOKIE "=", p->auth->session, NULL);
  AmWebCall r = request_for(p, p->mutation, cookie);
  am_web_call_async(p->session, &r, g_task_get_cancellable(task), on_mutation, task);
}

/* ---- logging in --------------------------------------------------------- */

/* The answers that mean "no GraphQL API on this port": the caller falls
 * back to the cgminer API. */
static gboolean
means_no_api(const GError *error)
{
  return g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_REFUSED) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_RESET) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_PARSE);
}

static void
refused(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (p->next_password < p->n_passwords) {
    login(task);
    return;
  }
  fail(task, g_error_new(AM_ERROR, AM_ERROR_AUTH,
                         "%s: wrong user or password for the Braiins OS GraphQL API (login "
                         "refused at %s for user \"%s\"; tried %s)",
                         p->address, AM_BRAIINS_GQL_PATH, p->user,
                         p->n_passwords > 1 ? "the configured password and the empty one"
                                            : "the configured password"));
}

static void
on_login(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body == NULL && g_error_matches(error, AM_ERROR, AM_ERROR_AUTH)) {
    refused(task);
    return;
  }
  if (body == NULL) {
    if (means_no_api(error))
      fail(task, g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: no Braiins OS GraphQL API (%s)",
                             p->address, error->message));
    else
      fail(task, g_steal_pointer(&error));
    return;
  }
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  gboolean was_refused = FALSE;
  if (!am_braiins_gql_parse_login(data, len, &was_refused, &error)) {
    /* A 2xx that is not a GraphQL answer: some other web server. */
    fail(task, g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: no Braiins OS GraphQL API (%s)",
                           p->address, error->message));
    return;
  }
  if (was_refused) {
    refused(task);
    return;
  }
  char *cookie = am_web_call_cookie(result, AM_BRAIINS_GQL_COOKIE);
  if (cookie == NULL) {
    fail(task, g_error_new(AM_ERROR, AM_ERROR_API,
                           "%s: the GraphQL login was accepted but set no %s cookie", p->address,
                           AM_BRAIINS_GQL_COOKIE));
    return;
  }
  g_free(p->auth->session);
  p->auth->session = cookie;
  p->auth->empty_pass = *p->passwords[p->next_password - 1] == '\0';
  p->session_from_cache = FALSE;
  send_query(task);
}

static void
login(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  const char *password = p->passwords[p->next_password++];
  g_autofree char *body = am_braiins_gql_login_body(p->user, password);
  AmWebCall r = request_for(p, body, NULL);
  am_web_call_async(p->session, &r, g_task_get_cancellable(task), on_login, task);
}

static Poll *
poll_new(SoupSession *session, AmBraiinsGqlAuthCache *cache, const AmBraiinsRestTarget *target,
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

/* With the kept session, else by logging in. */
static void
start(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (p->auth->session != NULL) {
    p->session_from_cache = TRUE;
    send_query(task);
  } else {
    login(task);
  }
}

void
am_braiins_gql_poll_async(SoupSession *session, AmBraiinsGqlAuthCache *cache,
                          const AmBraiinsRestTarget *target, AmMiner *miner,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_braiins_gql_poll_async);
  g_task_set_task_data(task, poll_new(session, cache, target, miner), (GDestroyNotify)poll_free);
  start(task);
}

void
am_braiins_gql_write_async(SoupSession *session, AmBraiinsGqlAuthCache *cache,
                           const AmBraiinsRestTarget *target, AmMiner *miner, const char *mutation,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_braiins_gql_write_async);
  Poll *p = poll_new(session, cache, target, miner);
  p->mutation = g_strdup(mutation);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
  start(task);
}

gboolean
am_braiins_gql_write_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

AmSample *
am_braiins_gql_poll_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
