/* The goldshell driver plugin: Goldshell units (KD, LT, SC, CK, AL, ARI
 * lines), read over their cgminer RPC and their web server.
 *
 * The module only does I/O: the RPC commands summary, devs, devdetails
 * and pools on the miner's port (one connection each, as cgminer wants,
 * through the shared glue: a reply that fails leaves the others standing),
 * then a web login, GET /user/login?username=...&password=...&cipher=false,
 * whose "JWT Token" is sent as a bearer token with GET /mcb/status (the
 * model and firmware version). It logs in every poll, as pyasic does: the
 * token's lifetime is not known. Either half may fail while the other
 * works: the sample then carries what was read and is marked partial.
 * The pure normalizer is am-goldshell-parse.c; the HTTP exchange is the
 * web drivers' shared common/am-web-call.c. */
#include "../common/am-driver-poll.h"
#include "../common/am-web-call.h"
#include "am-goldshell-parse.h"
#include "sample-ini.h"

#include <string.h>

#define DEFAULT_USER "admin"
#define DEFAULT_PASSWORD "123456789"

static const char *const rpc_commands[] = {"summary", "devs", "devdetails", "pools", NULL};

typedef struct {
  guint16 http_port; /* the web server's port */
  guint timeout_ms;  /* per HTTP request, at most */
  char *user;        /* defaults when the miner has no credentials of its own */
  char *password;
  SoupSession *session;
} AmGoldshell;

/* ---- instance ----------------------------------------------------------- */

static gboolean
read_config(AmGoldshell *self, GKeyFile *kf, const char *group, GError **error)
{
  AmWebSettings web;
  if (!am_web_settings_read(kf, group, "http_port", 80, DEFAULT_USER, DEFAULT_PASSWORD, &web,
                            error))
    return FALSE;
  self->http_port = web.port;
  self->timeout_ms = web.timeout_ms;
  self->user = g_steal_pointer(&web.user);
  self->password = g_steal_pointer(&web.password);
  return TRUE;
}

static void
goldshell_destroy(gpointer instance)
{
  AmGoldshell *self = instance;
  g_clear_object(&self->session);
  g_free(self->user);
  g_free(self->password);
  g_free(self);
}

static gpointer
goldshell_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmGoldshell *self = g_new0(AmGoldshell, 1);
  if (!read_config(self, kf, group, error)) {
    goldshell_destroy(self);
    return NULL;
  }
  self->session = am_web_session_new();
  return self;
}

static AmMatch
goldshell_match(gpointer self, const AmFingerprint *fp)
{
  return am_goldshell_match(fp);
}

/* ---- one poll ----------------------------------------------------------- */

typedef struct {
  AmMiner *miner;
  SoupSession *session;
  AmWebCall call; /* host, port, timeout; the rest per step */
  char *web_address;
  char *login_query;     /* holds the password */
  char *token;           /* the JWT, once logged in */
  char *bearer;          /* "Bearer <token>", the Authorization sent with it */
  GHashTable *rpc;       /* command -> AmRpcReply*, or NULL */
  GPtrArray *rpc_failed; /* "<command>: <why>" of replies lost */
  GError *rpc_error;     /* nothing of the RPC was read */
  GError *web_error;
  JsonObject *status;
} Poll;

static void
wipe(char *secret)
{
  if (secret != NULL)
    memset(secret, 0, strlen(secret));
  g_free(secret);
}

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_object_unref(p->session);
  g_free(p->web_address);
  wipe(p->login_query);
  wipe(p->token);
  wipe(p->bearer);
  if (p->rpc != NULL)
    g_hash_table_unref(p->rpc);
  if (p->rpc_failed != NULL)
    g_ptr_array_unref(p->rpc_failed);
  g_clear_error(&p->rpc_error);
  g_clear_error(&p->web_error);
  if (p->status != NULL)
    json_object_unref(p->status);
  g_free(p);
}

static JsonObject *
rpc_root(Poll *p, const char *command)
{
  return am_driver_reply(p->rpc, command);
}

/* Both halves failed: one error naming both, with the code of the one a
 * user can act on (refused credentials) or else the RPC's. */
static GError *
both_failed(Poll *p)
{
  const GError *lead =
      g_error_matches(p->web_error, AM_ERROR, AM_ERROR_AUTH) ? p->web_error : p->rpc_error;
  return g_error_new(lead->domain, lead->code, "%s: RPC: %s; web: %s",
                     am_miner_get_address(p->miner), p->rpc_error->message, p->web_error->message);
}

static void
finish_poll(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (p->rpc_error != NULL && p->web_error != NULL) {
    g_task_return_error(task, both_failed(p));
    return;
  }
  AmGoldshellReplies replies = {
      .summary = rpc_root(p, "summary"),
      .devs = rpc_root(p, "devs"),
      .devdetails = rpc_root(p, "devdetails"),
      .pools = rpc_root(p, "pools"),
      .status = p->status,
  };
  GError *error = NULL;
  AmSample *sample = am_goldshell_parse(&replies, &error);
  if (sample == NULL) {
    g_prefix_error(&error, "%s: ", am_miner_get_address(p->miner));
    g_task_return_error(task, error);
    return;
  }
  if (p->rpc_error != NULL)
    am_sample_mark_partial(sample, "RPC: %s", p->rpc_error->message);
  for (guint i = 0; p->rpc_failed != NULL && i < p->rpc_failed->len; i++)
    am_sample_mark_partial(sample, "RPC %s", (const char *)p->rpc_failed->pdata[i]);
  if (p->rpc_error == NULL && (p->rpc_failed == NULL || p->rpc_failed->len == 0) &&
      (replies.summary == NULL || replies.devs == NULL))
    am_sample_mark_partial(sample, "RPC: %s not answered",
                           replies.summary == NULL ? "summary" : "devs");
  if (p->web_error != NULL)
    am_sample_mark_partial(sample, "web: %s", p->web_error->message);
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

/* A web failure is kept for the sample; a cancel ends the poll. */
static void
web_failed(GTask *task, GError *error)
{
  Poll *p = g_task_get_task_data(task);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_task_return_error(task, error);
    return;
  }
  p->web_error = error;
  finish_poll(task);
}

static void
on_status(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body != NULL) {
    am_miner_store_raw(p->miner, "mcb/status", body);
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);
    p->status = am_goldshell_parse_body(AM_GOLDSHELL_STATUS_PATH, data, len, &error);
    if (p->status == NULL)
      g_prefix_error(&error, "%s: ", p->web_address);
  }
  if (error != NULL) {
    web_failed(task, error);
    return;
  }
  finish_poll(task);
}

static void
on_login(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body != NULL) {
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);
    if ((p->token = am_goldshell_token(data, len, &error)) == NULL)
      g_prefix_error(&error, "%s: ", p->web_address);
  }
  if (error != NULL) {
    web_failed(task, error);
    return;
  }
  p->call.path = AM_GOLDSHELL_STATUS_PATH;
  p->call.query = NULL;
  p->bearer = g_strconcat("Bearer ", p->token, NULL);
  p->call.authorization = p->bearer;
  GTask *next = g_steal_pointer(&task);
  am_web_call_async(p->session, &p->call, g_task_get_cancellable(next), on_status, next);
}

static void
start_web(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  p->call.path = AM_GOLDSHELL_LOGIN_PATH;
  p->call.query = p->login_query;
  am_web_call_async(p->session, &p->call, g_task_get_cancellable(task), on_login, task);
}

static void
on_rpc(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  /* One command at a time: a reply that fails leaves the others standing. */
  p->rpc = am_driver_rpc_each_finish(result, &p->rpc_failed, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  p->rpc_error = error;
  start_web(task);
}

static char *
login_query(const char *user, const char *password)
{
  g_autofree char *u = g_uri_escape_string(user, NULL, FALSE);
  g_autofree char *w = g_uri_escape_string(password, NULL, FALSE);
  return g_strdup_printf("username=%s&password=%s&cipher=false", u, w);
}

static void
goldshell_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data)
{
  AmGoldshell *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, goldshell_poll_async);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  p->session = g_object_ref(self->session);
  /* [miner:NAME] username=/password= win over the driver's defaults. */
  const char *user = am_miner_get_username(miner);
  const char *password = am_miner_get_password(miner);
  p->login_query =
      login_query(user != NULL ? user : self->user, password != NULL ? password : self->password);
  /* The RPC is on the miner's port; the web server on http_port=. */
  p->call = (AmWebCall){
      .method = "GET",
      .host = am_miner_get_host(miner),
      .port = self->http_port,
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
  p->web_address = am_web_format_address(p->call.host, p->call.port);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
  am_driver_rpc_each_async(miner, rpc_commands, cancellable, on_rpc, task);
}

static AmSample *
goldshell_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

static const AmDriverVTable goldshell_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = goldshell_match,
    .poll_async = goldshell_poll_async,
    .poll_finish = goldshell_poll_finish,
};

AM_PLUGIN_DEFINE(.name = "goldshell", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description =
                     "Goldshell units over their cgminer RPC (summary, devs, devdetails, "
                     "pools) and web server (/mcb/status, JWT login)",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = goldshell_create, .destroy = goldshell_destroy,
                 .vtable.driver = &goldshell_vtable)
