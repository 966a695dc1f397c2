/* `antmon action --via URL --token-file F`: the action through a running
 * agent. POST URL/api/miners/HOST/actions starts it (202 and the action
 * JSON), GET URL/api/actions/ID follows it until it ends. The agent holds
 * the credentials and does the confirming; this side only reports. */
#include "am-cli-action.h"
#include "am-cli.h"
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

/* One HTTP request to the agent. */
#define REQUEST_TIMEOUT_S 30
/* The agent's own deadline for the confirmation is the action's default;
 * following a little longer lets its verdict arrive. */
#define FOLLOW_GRACE_S 10.0

typedef struct {
  SoupSession *session;
  char *base;  /* the URL without its trailing '/' */
  char *token; /* sent as "Authorization: Bearer" */
  AmCliActionReport *report;
} Via;

/* ---- setting up ------------------------------------------------------- */

/* The token in @path, without surrounding blanks; NULL and a message when
 * it cannot be read or is empty. */
static char *
read_token(const char *path)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, &error)) {
    fprintf(stderr, "antmon action: --token-file: %s\n", error->message);
    return NULL;
  }
  g_strstrip(text);
  if (*text == '\0') {
    fprintf(stderr, "antmon action: --token-file %s is empty\n", path);
    g_free(text);
    return NULL;
  }
  return text;
}

/* @url without its trailing slashes; NULL and a message when it is not an
 * http(s) URL. */
static char *
check_base(const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
  if (scheme == NULL ||
      (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0)) {
    fprintf(stderr, "antmon action: --via %s: expected the agent's URL, e.g. http://host:8080\n",
            url);
    return NULL;
  }
  char *base = g_strdup(url);
  gsize len = strlen(base);
  while (len > 0 && base[len - 1] == '/')
    base[--len] = '\0';
  return base;
}

/* ---- requests ------------------------------------------------------------ */

typedef struct {
  guint status;
  JsonNode *body; /* the reply parsed as JSON, or NULL */
  char *error;    /* the transport's error, or NULL */
} Reply;

static void
reply_clear(Reply *r)
{
  g_clear_pointer(&r->body, json_node_unref);
  g_clear_pointer(&r->error, g_free);
}

/* Sends @method @path (under the base URL), with @body as JSON if given. */
static Reply
request(Via *v, const char *method, const char *path, JsonNode *body)
{
  Reply r = {0};
  g_autofree char *url = g_strconcat(v->base, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new(method, url);
  if (msg == NULL) {
    r.error = g_strdup_printf("%s is not a valid URL", url);
    return r;
  }
  g_autofree char *bearer = g_strconcat("Bearer ", v->token, NULL);
  SoupMessageHeaders *headers = soup_message_get_request_headers(msg);
  soup_message_headers_replace(headers, "Authorization", bearer);
  soup_message_headers_replace(headers, "Accept", "application/json");
  if (body != NULL) {
    gsize len = 0;
    char *text = json_to_string(body, FALSE);
    len = strlen(text);
    g_autoptr(GBytes) bytes = g_bytes_new_take(text, len);
    soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) reply = soup_session_send_and_read(v->session, msg, NULL, &error);
  if (reply == NULL) {
    r.error = g_strdup(error->message);
    return r;
  }
  r.status = soup_message_get_status(msg);
  g_autoptr(JsonParser) parser = json_parser_new();
  gsize size = 0;
  const char *data = g_bytes_get_data(reply, &size);
  /* A text json-glib reads as nothing (a comment, a byte-order mark) has no
   * root: no body then. */
  if (size > 0 && json_parser_load_from_data(parser, data, (gssize)size, NULL) &&
      json_parser_get_root(parser) != NULL)
    r.body = json_node_copy(json_parser_get_root(parser));
  return r;
}

/* The API's error text: {"error":{"code":..,"message":"..."}} (or a bare
 * {"error":"..."}), else a stand-in naming the status. */
static char *
error_text(const Reply *r)
{
  JsonObject *o =
      r->body != NULL && JSON_NODE_HOLDS_OBJECT(r->body) ? json_node_get_object(r->body) : NULL;
  JsonNode *e = o != NULL ? json_object_get_member(o, "error") : NULL;
  if (e != NULL && JSON_NODE_HOLDS_OBJECT(e))
    e = json_object_get_member(json_node_get_object(e), "message");
  if (e != NULL && JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(e));
  return g_strdup_printf("HTTP %u %s", r->status, soup_status_get_phrase(r->status));
}

/* The exit status for a reply that is not what was asked for, after one
 * line on stderr saying why. */
static int
report_refusal(const Via *v, const Reply *r)
{
  if (r->error != NULL) {
    fprintf(stderr, "antmon action: cannot reach the agent at %s: %s\n", v->base, r->error);
    return AM_EXIT_FAILED;
  }
  g_autofree char *text = error_text(r);
  switch (r->status) {
  case SOUP_STATUS_UNAUTHORIZED:
    fprintf(stderr, "antmon action: %s: the agent refused the token (401): %s\n", v->base, text);
    return AM_EXIT_FAILED;
  case SOUP_STATUS_CONFLICT: /* the miner or its driver cannot do it */
    fprintf(stderr, "antmon action: %s\n", text);
    return AM_EXIT_UNSUPPORTED;
  case SOUP_STATUS_BAD_REQUEST: /* a parameter the agent would not take */
    fprintf(stderr, "antmon action: %s\n", text);
    return AM_EXIT_USAGE;
  default: /* no such miner (404), rate limit (429), actions off, ... */
    fprintf(stderr, "antmon action: %s (HTTP %u from %s)\n", text, r->status, v->base);
    return AM_EXIT_FAILED;
  }
}

static JsonObject *
reply_object(const Reply *r)
{
  return r->body != NULL && JSON_NODE_HOLDS_OBJECT(r->body) ? json_node_get_object(r->body) : NULL;
}

/* ---- following the action ------------------------------------------------ */

static const char *
state_of(JsonObject *action)
{
  return json_object_has_member(action, "state")
             ? json_object_get_string_member_with_default(action, "state", "")
             : "";
}

static gboolean
is_final(const char *state)
{
  return g_str_equal(state, "confirmed") || g_str_equal(state, "not_confirmed") ||
         g_str_equal(state, "failed");
}

/* Still before the firmware took it. */
static gboolean
is_sending(const char *state)
{
  return g_str_equal(state, "queued") || g_str_equal(state, "sending");
}

static void
show_progress(Via *v, JsonObject *action)
{
  const char *message = json_object_get_string_member_with_default(action, "message", NULL);
  am_cli_action_progress(v->report, "%s%s%s", state_of(action), message != NULL ? ": " : "",
                         message != NULL ? message : "");
}

static gboolean
quit_loop(gpointer user_data)
{
  g_main_loop_quit(user_data);
  return G_SOURCE_REMOVE;
}

static void
pause_for(double seconds)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  g_timeout_add((guint)(seconds * 1000), quit_loop, loop);
  g_main_loop_run(loop);
}

/* Follows @first (the 202's action) until it ends, or only until the
 * firmware took it with @no_wait. */
static int
follow(Via *v, JsonObject *first, double timeout_s, double interval_s, gboolean no_wait)
{
  g_autoptr(JsonObject) action = json_object_ref(first);
  const char *id = json_object_get_string_member_with_default(action, "id", NULL);
  if (id == NULL) {
    fprintf(stderr, "antmon action: %s answered 202 without an action id\n", v->base);
    return AM_EXIT_FAILED;
  }
  g_autofree char *escaped = g_uri_escape_string(id, NULL, FALSE);
  g_autofree char *path = g_strconcat("/api/actions/", escaped, NULL);
  gint64 deadline_us = g_get_monotonic_time() + (gint64)((timeout_s + FOLLOW_GRACE_S) * 1e6);
  for (;;) {
    const char *state = state_of(action);
    if (is_final(state) || (no_wait && !is_sending(state)))
      return am_cli_action_report_end(v->report, action);
    show_progress(v, action);
    if (g_get_monotonic_time() >= deadline_us)
      break;
    pause_for(interval_s);
    Reply r = request(v, "GET", path, NULL);
    JsonObject *now = r.status == SOUP_STATUS_OK ? reply_object(&r) : NULL;
    if (now == NULL) {
      int status = report_refusal(v, &r);
      reply_clear(&r);
      return status;
    }
    json_object_unref(action);
    action = json_object_ref(now);
    reply_clear(&r);
  }
  fprintf(stderr,
          "antmon action: stopped following %s after %.0f s; the agent still has it "
          "(GET %s%s)\n",
          id, timeout_s + FOLLOW_GRACE_S, v->base, path);
  return AM_EXIT_FAILED;
}

int
am_cli_action_via(const char *url, const char *token_file, const char *host,
                  const AmCliActionArgs *args, double timeout_s, double interval_s,
                  gboolean no_wait, AmCliActionReport *report)
{
  Via v = {.report = report};
  v.base = check_base(url);
  v.token = v.base != NULL ? read_token(token_file) : NULL;
  if (v.token == NULL) {
    g_free(v.base);
    return AM_EXIT_USAGE;
  }
  v.session = soup_session_new_with_options("timeout", REQUEST_TIMEOUT_S, "user-agent",
                                            "antmon-action", NULL);
  g_autofree char *escaped = g_uri_escape_string(host, ":[]", FALSE);
  g_autofree char *path = g_strconcat("/api/miners/", escaped, "/actions", NULL);
  g_autoptr(JsonNode) body = am_cli_action_body_json(args);
  Reply r = request(&v, "POST", path, body);
  int status;
  JsonObject *action = reply_object(&r);
  if (r.error == NULL && (r.status == SOUP_STATUS_ACCEPTED || r.status == SOUP_STATUS_OK) &&
      action != NULL)
    status = follow(&v, action, timeout_s, interval_s, no_wait);
  else
    status = report_refusal(&v, &r);
  reply_clear(&r);
  g_object_unref(v.session);
  g_free(v.base);
  /* The token is a secret: do not leave it in freed memory. */
  memset(v.token, 0, strlen(v.token));
  g_free(v.token);
  return status;
}
