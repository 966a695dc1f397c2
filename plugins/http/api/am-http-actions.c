/* The control plane's endpoints. The server has already checked the
 * bearer token; here every request that changes something must also come
 * from no page elsewhere (its Origin, if any, is this server) and carry a
 * JSON body, which a cross-site form cannot send. The core does the work:
 * these handlers only read the request and report what the core says. */
#include "am-http-actions.h"
#include "am-http-actions-parse.h"
#include "am-http-json.h"
#include "am-http-params.h"

#include <string.h>

#define MINERS_PREFIX "/api/miners/"
#define ACTIONS_SUFFIX "/actions"
#define ACTIONS_PATH "/api/actions"
#define ACTION_PREFIX "/api/actions/"
#define ID_MAX 64

/* ---- paths ----------------------------------------------------------------------- */

/* The {key} of /api/miners/{key}/actions, or NULL. (transfer full) */
static char *
miner_key_of(const char *path)
{
  if (!g_str_has_prefix(path, MINERS_PREFIX) || !g_str_has_suffix(path, ACTIONS_SUFFIX))
    return NULL;
  const char *start = path + strlen(MINERS_PREFIX);
  gssize len = (gssize)strlen(start) - (gssize)strlen(ACTIONS_SUFFIX);
  return len > 0 ? g_strndup(start, (gsize)len) : NULL;
}

gboolean
am_http_actions_path(const char *path)
{
  g_autofree char *key = miner_key_of(path);
  return key != NULL || g_str_equal(path, ACTIONS_PATH) || g_str_has_prefix(path, ACTION_PREFIX);
}

gboolean
am_http_actions_takes_body(const char *path)
{
  g_autofree char *key = miner_key_of(path);
  return key != NULL || g_str_equal(path, ACTIONS_PATH);
}

/* ---- replies ---------------------------------------------------------------------- */

static void
reply_core_error(SoupServerMessage *msg, const GError *error)
{
  const char *code = NULL;
  guint status = am_http_action_error_status(error, &code);
  guint retry_s = status == 429 ? am_http_retry_after_s(error->message) : 0;
  if (retry_s > 0) {
    g_autofree char *value = g_strdup_printf("%u", retry_s);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                 value);
  }
  am_http_reply_error(msg, status, code, NULL, error->message);
}

/* 202 (or @status) with the action or job, Location naming where to follow
 * it. Passwords are scrubbed whatever the core sent. */
static void
reply_action(SoupServerMessage *msg, guint status, JsonNode *action)
{
  am_http_action_scrub(action);
  const char *id =
      JSON_NODE_HOLDS_OBJECT(action) ? am_json_string(json_node_get_object(action), "id") : NULL;
  if (id != NULL) {
    g_autofree char *where = g_strconcat(ACTION_PREFIX, id, NULL);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Location", where);
  }
  am_http_reply_json(msg, status, action);
}

static void
reply_method(SoupServerMessage *msg, const char *allow)
{
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", allow);
  g_autofree char *why = g_strdup_printf("%s is not allowed here (allowed: %s)",
                                         soup_server_message_get_method(msg), allow);
  am_http_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed", NULL, why);
}

static gboolean
method_is(SoupServerMessage *msg, const char *method)
{
  return g_strcmp0(soup_server_message_get_method(msg), method) == 0;
}

static gboolean
is_read(SoupServerMessage *msg)
{
  return method_is(msg, "GET") || method_is(msg, "HEAD");
}

static gboolean
check_no_query(AmHttpRequest *req)
{
  static const char *const none[] = {NULL};
  const char *bad = NULL;
  g_autoptr(GError) error = NULL;
  if (am_http_query_check_names(req->query, none, &bad, &error))
    return TRUE;
  am_http_reply_bad_param(req->msg, bad, error);
  return FALSE;
}

/* ---- the checks before a write ------------------------------------------------------- */

/* A page elsewhere can make a browser post here (with the browser's own
 * credentials, were there any): its Origin gives it away. */
static gboolean
check_origin(AmHttpRequest *req)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers(req->msg);
  const char *origin = soup_message_headers_get_one(h, "Origin");
  const char *scheme = req->config->tls != NULL ? "https" : "http";
  if (am_http_origin_allowed(origin, scheme, soup_message_headers_get_one(h, "Host")))
    return TRUE;
  g_autofree char *why =
      g_strdup_printf("a request from the page %s may not act on miners: only this server's "
                      "own pages (or clients that send no Origin, such as curl) may",
                      origin);
  am_http_reply_error(req->msg, SOUP_STATUS_FORBIDDEN, "foreign_origin", NULL, why);
  return FALSE;
}

/* Only JSON: a form or text body is what another site can post without
 * the browser asking this server first. */
static gboolean
check_json_body(AmHttpRequest *req)
{
  const char *type = soup_message_headers_get_one(soup_server_message_get_request_headers(req->msg),
                                                  "Content-Type");
  if (am_http_content_type_is_json(type))
    return TRUE;
  g_autofree char *why =
      g_strdup_printf("the body must be JSON sent as Content-Type: application/json (got %s)",
                      type != NULL ? type : "no Content-Type");
  am_http_reply_error(req->msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", NULL,
                      why);
  return FALSE;
}

/* The checks every write passes, then its body read. */
static gboolean
read_body(AmHttpRequest *req, gboolean fleet, AmHttpActionBody *body)
{
  if (!check_no_query(req) || !check_origin(req) || !check_json_body(req))
    return FALSE;
  SoupMessageBody *raw = soup_server_message_get_request_body(req->msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten(raw);
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  AmHttpBodyProblem problem = AM_HTTP_BODY_INVALID;
  g_autoptr(GError) error = NULL;
  if (am_http_action_body_parse(data, len, fleet, body, &problem, &error))
    return TRUE;
  am_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, am_http_body_problem_code(problem), NULL,
                      error->message);
  return FALSE;
}

/* ---- one miner ----------------------------------------------------------------------- */

static void
submit_one(AmHttpRequest *req, const char *key)
{
  AmHttpActionBody body;
  if (!read_body(req, FALSE, &body))
    return;
  g_autoptr(GError) error = NULL;
  JsonNode *action = am_context_action_submit(req->ctx, key, &body.request, req->who, &error);
  am_http_action_body_clear(&body);
  if (action == NULL)
    reply_core_error(req->msg, error);
  else
    reply_action(req->msg, SOUP_STATUS_ACCEPTED, action);
}

static void
reply_miner_actions(AmHttpRequest *req, const char *key)
{
  if (!check_no_query(req))
    return;
  JsonNode *actions = am_context_miner_actions_json(req->ctx, key);
  if (actions == NULL) {
    g_autofree char *why = g_strdup_printf(
        "no miner %s: give its host, host:port or name as /api/miners lists it", key);
    am_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "miner_not_found", NULL, why);
    return;
  }
  am_http_reply_json(req->msg, SOUP_STATUS_OK, actions);
}

static void
miner_actions(AmHttpRequest *req, const char *key)
{
  g_autoptr(GError) error = NULL;
  if (!am_http_parse_miner_key("miner", key, &error)) {
    am_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "miner_not_found", NULL, error->message);
    return;
  }
  if (method_is(req->msg, "POST"))
    submit_one(req, key);
  else if (is_read(req->msg))
    reply_miner_actions(req, key);
  else
    reply_method(req->msg, "GET, HEAD, POST");
}

/* ---- a fleet ------------------------------------------------------------------------- */

static void
collect_miner(const AmMinerView *view, gpointer user_data)
{
  g_ptr_array_add(user_data, am_http_miner_new(view));
}

static void
submit_fleet(AmHttpRequest *req)
{
  AmHttpActionBody body;
  if (!read_body(req, TRUE, &body))
    return;
  g_autoptr(GPtrArray) miners = g_ptr_array_new_with_free_func((GDestroyNotify)am_http_miner_free);
  am_context_foreach_miner(req->ctx, collect_miner, miners);
  /* Addresses in a stable order, so batches go through the fleet as
   * /api/miners lists it. */
  am_http_miners_sort(miners, AM_HTTP_SORT_HOST, FALSE);
  g_autoptr(GPtrArray) keys = g_ptr_array_new();
  g_autoptr(GError) error = NULL;
  JsonNode *job = NULL;
  if (am_http_fleet_select(miners, &body, keys, &error))
    job = am_context_action_submit_fleet(req->ctx, (const char *const *)keys->pdata, keys->len,
                                         &body.request, body.batch, body.interval_ms, body.dry_run,
                                         req->who, &error);
  gboolean dry_run = body.dry_run;
  am_http_action_body_clear(&body);
  if (job == NULL)
    reply_core_error(req->msg, error);
  else
    reply_action(req->msg, dry_run ? SOUP_STATUS_OK : SOUP_STATUS_ACCEPTED, job);
}

/* ---- following one ------------------------------------------------------------------- */

static gboolean
id_is_valid(const char *id)
{
  gsize len = strlen(id);
  if (len == 0 || len > ID_MAX)
    return FALSE;
  for (const char *p = id; *p != '\0'; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static void
get_action(AmHttpRequest *req, const char *id)
{
  if (!is_read(req->msg)) {
    reply_method(req->msg, "GET, HEAD");
    return;
  }
  if (!check_no_query(req))
    return;
  JsonNode *action = id_is_valid(id) ? am_context_action_get(req->ctx, id) : NULL;
  if (action == NULL) {
    g_autofree char *why = g_strdup_printf(
        "no action %.*s: ids are as POST answered them (a-N, f-N); the last 1,000 are kept", ID_MAX,
        id);
    am_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "action_not_found", NULL, why);
    return;
  }
  am_http_action_scrub(action);
  am_http_reply_json(req->msg, SOUP_STATUS_OK, action);
}

void
am_http_actions_dispatch(AmHttpRequest *req)
{
  g_autofree char *key = miner_key_of(req->path);
  if (key != NULL)
    miner_actions(req, key);
  else if (g_str_has_prefix(req->path, ACTION_PREFIX))
    get_action(req, req->path + strlen(ACTION_PREFIX));
  else if (method_is(req->msg, "POST"))
    submit_fleet(req);
  else
    reply_method(req->msg, "POST");
}
