/* VNish's web API calls for the antminer driver, I/O only: unlock with the
 * password for a token, then the action's call with it. The paths, bodies
 * and readers come from am-antminer-vnish.c; see its header. */
#include "am-antminer-private.h"
#include "am-antminer-vnish.h"

#include <string.h>

typedef struct {
  SoupSession *session;
  const AmActionRequest *request; /* the core's, valid until act_finish() */
  char *host;
  guint16 port;
  guint timeout_ms;
  char *address; /* "host:80", for messages */
  char *password;
  char *authorization; /* "Bearer TOKEN" once unlocked */
  guint locate_calls;
} Vnish;

/* Overwrites then frees a copy of a secret. */
static void
wipe_free(char *secret)
{
  if (secret != NULL)
    memset(secret, 0, strlen(secret));
  g_free(secret);
}

static void
vnish_free(Vnish *v)
{
  g_clear_object(&v->session);
  g_free(v->host);
  g_free(v->address);
  wipe_free(v->password);
  wipe_free(v->authorization);
  g_free(v);
}

static void
fail(GTask *task, GError *error)
{
  g_task_return_error(task, error);
  g_object_unref(task);
}

static void
post(GTask *task, const char *path, const char *body, GAsyncReadyCallback done)
{
  Vnish *v = g_task_get_task_data(task);
  AmWebCall call = {
      .method = "POST",
      .host = v->host,
      .port = v->port,
      .path = path,
      .body = body,
      .authorization = v->authorization,
      .no_redirect = TRUE, /* a login page is no answer */
      .timeout_ms = v->timeout_ms,
  };
  am_web_call_async(v->session, &call, g_task_get_cancellable(task), done, task);
}

static void send_action(GTask *task);

static void
on_action(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Vnish *v = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) reply = am_web_call_finish(result, NULL, &error);
  if (reply == NULL) {
    fail(task, error);
    return;
  }
  gboolean on = FALSE;
  /* find-miner toggles: when the light went the other way, once more. */
  if (v->request->kind == AM_ACTION_LOCATE && am_antminer_vnish_light(reply, &on) &&
      on != v->request->on) {
    if (v->locate_calls < 2) {
      send_action(task);
      return;
    }
    fail(task, g_error_new(AM_ERROR, AM_ERROR_API,
                           "%s: VNish's find-miner left the light %s after two calls", v->address,
                           on ? "on" : "off"));
    return;
  }
  g_task_return_boolean(task, TRUE);
  g_object_unref(task);
}

static void
send_action(GTask *task)
{
  Vnish *v = g_task_get_task_data(task);
  v->locate_calls += v->request->kind == AM_ACTION_LOCATE;
  g_autofree char *body = am_antminer_vnish_body(v->request);
  post(task, am_antminer_vnish_path(v->request->kind), body, on_action);
}

/* The unlock's refusals, said for VNish: the firmware has no user name,
 * and a unit without this API is most likely stock firmware. */
static GError *
unlock_error(Vnish *v, GError *error, guint status)
{
  GError *said = NULL;
  /* VNish answers a wrong password 403; a 401 asks for HTTP auth, as the
   * stock web server does for everything. */
  if (status == SOUP_STATUS_UNAUTHORIZED)
    said = g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED,
                       "%s: no VNish web API here (POST " AM_ANTMINER_VNISH_UNLOCK_PATH
                       " answered 401, asking for HTTP authentication); on stock firmware use "
                       "the antminer-web driver",
                       v->address);
  else if (g_error_matches(error, AM_ERROR, AM_ERROR_AUTH))
    said = g_error_new(AM_ERROR, AM_ERROR_AUTH,
                       "%s: VNish refused the web password (POST " AM_ANTMINER_VNISH_UNLOCK_PATH
                       " answered %u); set password= for this miner",
                       v->address, status);
  else if (g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED))
    said = g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED,
                       "%s: no VNish web API here (POST " AM_ANTMINER_VNISH_UNLOCK_PATH
                       " answered %u); on stock firmware use the antminer-web driver",
                       v->address, status);
  if (said == NULL)
    return error;
  g_error_free(error);
  return said;
}

static void
on_unlocked(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Vnish *v = g_task_get_task_data(task);
  GError *error = NULL;
  guint status = 0;
  g_autoptr(GBytes) reply = am_web_call_finish(result, &status, &error);
  if (reply == NULL) {
    fail(task, unlock_error(v, error, status));
    return;
  }
  char *token = am_antminer_vnish_token(v->address, reply, &error);
  if (token == NULL) {
    fail(task, error);
    return;
  }
  v->authorization = g_strconcat("Bearer ", token, NULL);
  wipe_free(token);
  send_action(task);
}

void
am_antminer_vnish_act_async(const AmWebSettings *web, AmMiner *miner,
                            const AmActionRequest *request, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_antminer_vnish_act_async);
  Vnish *v = g_new0(Vnish, 1);
  v->request = request;
  v->host = g_strdup(am_miner_get_host(miner));
  v->port = web->port;
  v->timeout_ms = MIN(am_miner_get_timeout_ms(miner), web->timeout_ms);
  v->address = am_web_format_address(v->host, v->port);
  /* The miner's own password (or its [credentials:] group's) first. */
  const char *password = am_miner_get_password(miner);
  v->password = g_strdup(password != NULL ? password : web->password);
  /* One session per action: actions are rare, and nothing (no cookie, no
   * token) should outlive the one that asked for it. */
  v->session = am_web_session_new();
  g_task_set_task_data(task, v, (GDestroyNotify)vnish_free);
  if (am_antminer_vnish_path(request->kind) == NULL) {
    fail(task,
         g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: VNish's web API cannot %s", v->address,
                     am_action_kind_to_string(request->kind) != NULL
                         ? am_action_kind_to_string(request->kind)
                         : "do that"));
    return;
  }
  g_autofree char *body = am_antminer_vnish_unlock_body(v->password);
  post(task, AM_ANTMINER_VNISH_UNLOCK_PATH, body, on_unlocked);
  memset(body, 0, strlen(body)); /* am_web_call_async copied it */
}

gboolean
am_antminer_vnish_act_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}
