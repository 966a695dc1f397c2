/* The auradine driver plugin: Auradine Teraflux miners (GCMiner on FluxOS).
 *
 * A poll asks the cgminer RPC on the miner's port (4028) for version,
 * summary, devs, pools and asccount one after another (the shared glue: a
 * reply that fails leaves the others standing), then the web API on
 * web_port= (8080): POST /token {"command":"token","user","password"}
 * gives Token[0].Token, sent as the header "Token:" on a GET of each read
 * command (/ipreport, /temperature, ...). The token is kept per miner
 * and asked again when the firmware refuses it (HTTP 401/403, or STATUS E
 * naming the token). When one API fails the sample carries what the other
 * read and is marked partial; only when nothing was read does the poll
 * fail. The pure normalizer is am-auradine-parse.c, the HTTP exchange
 * the web drivers' shared common/am-web-call.c. */
#include "../common/am-driver-poll.h"
#include "../common/am-web-call.h"
#include "am-auradine-action.h"
#include "am-auradine-parse.h"
#include "sample-ini.h"

#include <string.h>

#define RPC_COMMANDS                                                                               \
  {                                                                                                \
    "version", "summary", "devs", "pools", "asccount", NULL                                        \
  }
/* Without these the sample misses what matters; version and asccount only
 * add to it, and older firmware lacks asccount. */
#define RPC_NEEDED                                                                                 \
  {                                                                                                \
    "summary", "devs", "pools", NULL                                                               \
  }

typedef struct {
  guint16 web_port;
  guint timeout_ms;
  char *user; /* defaults for miners whose [miner:NAME] gives none */
  char *password;
  SoupSession *session;
  GHashTable *tokens; /* "host:port" of the web API -> token */
} AmAuradine;

/* ---- instance ----------------------------------------------------------- */

static gpointer
auradine_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  /* The factory login of every Teraflux is admin/admin. */
  AmWebSettings web;
  if (!am_web_settings_read(kf, group, "web_port", AM_AURADINE_WEB_PORT, "admin", "admin", &web,
                            error))
    return NULL;
  AmAuradine *self = g_new0(AmAuradine, 1);
  self->web_port = web.port;
  self->timeout_ms = web.timeout_ms;
  self->user = g_steal_pointer(&web.user);
  self->password = g_steal_pointer(&web.password);
  self->session = am_web_session_new();
  self->tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

static void
auradine_destroy(gpointer instance)
{
  AmAuradine *self = instance;
  g_object_unref(self->session);
  g_hash_table_unref(self->tokens);
  g_free(self->user);
  g_free(self->password);
  g_free(self);
}

static AmMatch
auradine_match(gpointer self, const AmFingerprint *fp)
{
  return am_auradine_match(fp);
}

/* ---- one poll ----------------------------------------------------------- */

static const char *const web_commands[] = AM_AURADINE_WEB_COMMANDS;

typedef struct {
  AmMiner *miner;
  SoupSession *session;
  GHashTable *tokens; /* the instance's, referenced */
  char *user;
  char *password;
  AmWebCall web;     /* host, port, timeout; the path per step */
  char *web_address; /* "host:port" of the web API */
  char *path;        /* owned storage for web.path */
  guint step;        /* index into web_commands */
  gboolean relogged; /* a refused token was replaced once this poll */

  GHashTable *rpc;     /* command -> AmRpcReply*, or NULL */
  GError *rpc_error;   /* nothing of the RPC was read */
  GError *web_error;   /* the web API could not be used at all */
  GPtrArray *failures; /* char*: single replies that did not come */
  JsonObject *web_replies[G_N_ELEMENTS(web_commands)];
} Poll;

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_object_unref(p->session);
  g_hash_table_unref(p->tokens);
  g_free(p->user);
  /* The password stays out of freed memory a little less long. */
  if (p->password != NULL)
    memset(p->password, 0, strlen(p->password));
  g_free(p->password);
  g_free(p->web_address);
  g_free(p->path);
  if (p->rpc != NULL)
    g_hash_table_unref(p->rpc);
  g_clear_error(&p->rpc_error);
  g_clear_error(&p->web_error);
  g_ptr_array_unref(p->failures);
  for (guint i = 0; i < G_N_ELEMENTS(p->web_replies); i++)
    if (p->web_replies[i] != NULL)
      json_object_unref(p->web_replies[i]);
  g_free(p);
}

static JsonObject *
web_reply(Poll *p, const char *command)
{
  for (guint i = 0; web_commands[i] != NULL; i++)
    if (g_str_equal(web_commands[i], command))
      return p->web_replies[i];
  return NULL;
}

static AmSample *
parse_all(Poll *p, GError **error)
{
  AmAuradineReplies r = {
      .version = am_driver_reply(p->rpc, "version"),
      .summary = am_driver_reply(p->rpc, "summary"),
      .devs = am_driver_reply(p->rpc, "devs"),
      .pools = am_driver_reply(p->rpc, "pools"),
      .asccount = am_driver_reply(p->rpc, "asccount"),
      .ipreport = web_reply(p, "ipreport"),
      .temperature = web_reply(p, "temperature"),
      .fan = web_reply(p, "fan"),
      .psu = web_reply(p, "psu"),
      .mode = web_reply(p, "mode"),
      .led = web_reply(p, "led"),
      .voltage = web_reply(p, "voltage"),
      .frequency = web_reply(p, "frequency"),
  };
  return am_auradine_parse(&r, error);
}

/* Nothing was read: the more telling of the two errors, naming both. An
 * AUTH error is the one the user can fix. */
static GError *
nothing_read_error(Poll *p)
{
  GError *rpc = p->rpc_error, *web = p->web_error;
  const char *address = am_miner_get_address(p->miner);
  if (rpc == NULL || web == NULL)
    return g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: no usable reply from RPC or web API",
                       address);
  GError *first = g_error_matches(web, AM_ERROR, AM_ERROR_AUTH) ? web : rpc;
  return g_error_new(first->domain, first->code, "%s: RPC: %s; web API: %s", address, rpc->message,
                     web->message);
}

static void
finish_poll(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  AmSample *sample = p->rpc_error != NULL && p->web_error != NULL ? NULL : parse_all(p, &error);
  if (sample == NULL) {
    g_task_return_error(task, nothing_read_error(p));
    return;
  }
  if (p->rpc_error != NULL)
    am_sample_mark_partial(sample, "RPC: %s", p->rpc_error->message);
  if (p->web_error != NULL)
    am_sample_mark_partial(sample, "web API: %s", p->web_error->message);
  for (guint i = 0; i < p->failures->len; i++)
    am_sample_mark_partial(sample, "%s", (const char *)p->failures->pdata[i]);
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

/* ---- web ---------------------------------------------------------------- */

static void web_login(GTask *task);
static void web_next(GTask *task);

static gboolean
return_if_cancelled(GTask *task, GError **error)
{
  if (!g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return FALSE;
  g_task_return_error(task, g_steal_pointer(error));
  return TRUE;
}

/* A refused token: log in again once per poll, then go on at this step
 * (the poll goes on with a new reference to @task). Returns FALSE when
 * that was done already: the error then stands. */
static gboolean
relogin(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  g_hash_table_remove(p->tokens, p->web_address);
  if (p->relogged)
    return FALSE;
  p->relogged = TRUE;
  web_login(g_object_ref(task));
  return TRUE;
}

/* The web API is down (closed port, no answer): the remaining commands
 * would each wait out the same deadline, so they are not asked. */
static gboolean
is_unreachable(const GError *error)
{
  return g_error_matches(error, AM_ERROR, AM_ERROR_REFUSED) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_TIMEOUT);
}

static void
on_web_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  const char *command = web_commands[p->step];
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  JsonObject *reply = NULL;
  if (body != NULL) {
    g_autofree char *raw_name = g_strconcat("web/", command, NULL);
    am_miner_store_raw(p->miner, raw_name, body);
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);
    reply = am_auradine_parse_body(command, data, len, &error);
  }
  if (reply != NULL) {
    p->web_replies[p->step] = reply;
  } else if (return_if_cancelled(task, &error)) {
    return;
  } else if (g_error_matches(error, AM_ERROR, AM_ERROR_AUTH) && relogin(task)) {
    return;
  } else if (g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED)) {
    /* HTTP 404: this firmware has no such command; nothing is missing. */
    g_debug("%s: /%s not offered: %s", p->web_address, command, error->message);
  } else if (is_unreachable(error)) {
    p->web_error = g_steal_pointer(&error);
    finish_poll(task);
    return;
  } else {
    g_ptr_array_add(p->failures, g_strdup_printf("web %s: %s", command, error->message));
  }
  p->step++;
  web_next(g_steal_pointer(&task));
}

static void
web_next(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (web_commands[p->step] == NULL) {
    finish_poll(task);
    g_object_unref(task);
    return;
  }
  g_free(p->path);
  p->path = g_strconcat("/", web_commands[p->step], NULL);
  p->web.path = p->path;
  /* The firmware reads its token from a header of its own. */
  const char *const token[] = {"Token", g_hash_table_lookup(p->tokens, p->web_address), NULL};
  AmWebCall read = p->web;
  read.headers = token;
  am_web_call_async(p->session, &read, g_task_get_cancellable(task), on_web_reply, task);
}

/* The token a POST /token reply carries, for the polls and the actions
 * alike. The body holds a secret: it is not kept for the raw view.
 * (transfer full) */
static char *
login_token(GAsyncResult *result, GError **error)
{
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, error);
  if (body == NULL)
    return NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  g_autoptr(JsonObject) reply = am_auradine_parse_body("token", data, len, error);
  const char *token = reply != NULL ? am_auradine_token(reply, error) : NULL;
  return g_strdup(token);
}

static void
on_token(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autofree char *token = login_token(result, &error);
  if (token == NULL) {
    if (return_if_cancelled(task, &error))
      return;
    if (g_error_matches(error, AM_ERROR, AM_ERROR_AUTH))
      p->web_error = g_error_new(AM_ERROR, AM_ERROR_AUTH,
                                 "%s: login as '%s' refused (wrong user or password?): %s",
                                 p->web_address, p->user, error->message);
    else
      p->web_error = g_steal_pointer(&error);
    finish_poll(task);
    return;
  }
  g_hash_table_replace(p->tokens, g_strdup(p->web_address), g_steal_pointer(&token));
  web_next(g_steal_pointer(&task));
}

static char *
login_body(Poll *p)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "command");
  json_builder_add_string_value(b, "token");
  json_builder_set_member_name(b, "user");
  json_builder_add_string_value(b, p->user);
  json_builder_set_member_name(b, "password");
  json_builder_add_string_value(b, p->password);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

/* Takes ownership of @task. */
static void
web_login(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  g_autofree char *body = login_body(p);
  AmWebCall login = p->web;
  login.method = "POST";
  login.path = "/token";
  login.body = body;
  login.content_type = "application/json";
  am_web_call_async(p->session, &login, g_task_get_cancellable(task), on_token, task);
  /* The request copied the body; wipe ours, it holds the password. */
  memset(body, 0, strlen(body));
}

static void
web_start(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (g_hash_table_contains(p->tokens, p->web_address))
    web_next(task);
  else
    web_login(task);
}

/* ---- rpc ---------------------------------------------------------------- */

/* TRUE when one of @failed ("<command>: <why>") is about @command. */
static gboolean
named_in(GPtrArray *failed, const char *command)
{
  gsize n = strlen(command);
  for (guint i = 0; i < failed->len; i++) {
    const char *f = failed->pdata[i];
    if (strncmp(f, command, n) == 0 && f[n] == ':')
      return TRUE;
  }
  return FALSE;
}

static void
on_rpc(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GPtrArray) failed = NULL;
  p->rpc = am_driver_rpc_each_finish(result, &failed, &error);
  /* A reply that did not arrive or parse leaves the others standing. */
  for (guint i = 0; i < failed->len; i++)
    g_ptr_array_add(p->failures, g_strdup_printf("RPC %s", (const char *)failed->pdata[i]));
  if (p->rpc == NULL) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_task_return_error(task, error);
      g_object_unref(task);
      return;
    }
    p->rpc_error = error;
  } else {
    /* Refused (an API error) rather than lost: said once, here. */
    static const char *const needed[] = RPC_NEEDED;
    for (guint i = 0; needed[i] != NULL; i++)
      if (am_driver_reply(p->rpc, needed[i]) == NULL && !named_in(failed, needed[i]))
        g_ptr_array_add(p->failures, g_strdup_printf("RPC %s: not answered", needed[i]));
  }
  web_start(task);
}

static void
auradine_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  AmAuradine *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, auradine_poll_async);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  p->session = g_object_ref(self->session);
  p->tokens = g_hash_table_ref(self->tokens);
  /* [miner:NAME] username=/password= win over the driver's defaults. */
  const char *user = am_miner_get_username(miner);
  const char *password = am_miner_get_password(miner);
  p->user = g_strdup(user != NULL ? user : self->user);
  p->password = g_strdup(password != NULL ? password : self->password);
  p->web = (AmWebCall){
      .method = "GET",
      .host = am_miner_get_host(miner),
      .port = self->web_port,
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
  p->web_address = am_web_format_address(p->web.host, p->web.port);
  p->failures = g_ptr_array_new_with_free_func(g_free);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);

  static const char *const commands[] = RPC_COMMANDS;
  am_driver_rpc_each_async(miner, commands, cancellable, on_rpc, task);
}

static AmSample *
auradine_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- actions ------------------------------------------------------------ */

static AmActionSet
auradine_actions(gpointer self, AmMiner *miner, const AmSample *sample)
{
  return am_auradine_actions(sample);
}

typedef struct {
  AmMiner *miner; /* holds the host the requests point into */
  SoupSession *session;
  GHashTable *tokens; /* the instance's, shared with the polls */
  char *user;
  char *password;
  AmWebCall web; /* host, port, timeout */
  char *web_address;
  AmAuradineActionCall call;
  char *path;
  gboolean relogged;
} Act;

static void
act_free(Act *a)
{
  am_miner_unref(a->miner);
  g_object_unref(a->session);
  g_hash_table_unref(a->tokens);
  g_free(a->user);
  if (a->password != NULL)
    memset(a->password, 0, strlen(a->password));
  g_free(a->password);
  g_free(a->web_address);
  am_auradine_action_call_clear(&a->call);
  g_free(a->path);
  g_free(a);
}

static void act_login(GTask *task);

static void
on_act_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  g_autoptr(JsonObject) reply = NULL;
  if (body != NULL) {
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);
    reply = am_auradine_parse_body(a->call.command, data, len, &error);
  }
  if (reply != NULL) {
    g_task_return_boolean(task, TRUE);
    return;
  }
  /* A kept token the firmware no longer takes: log in once more. */
  g_hash_table_remove(a->tokens, a->web_address);
  if (g_error_matches(error, AM_ERROR, AM_ERROR_AUTH) && !a->relogged) {
    a->relogged = TRUE;
    g_error_free(error);
    act_login(g_steal_pointer(&task));
    return;
  }
  if (!g_str_has_prefix(error->message, a->web_address))
    g_prefix_error(&error, "%s: ", a->web_address);
  g_task_return_error(task, error);
}

/* Takes @task. */
static void
act_send(GTask *task)
{
  Act *a = g_task_get_task_data(task);
  const char *const token[] = {"Token", g_hash_table_lookup(a->tokens, a->web_address), NULL};
  AmWebCall call = a->web;
  call.method = "POST";
  call.path = a->path;
  call.body = a->call.body;
  call.headers = token;
  am_web_call_async(a->session, &call, g_task_get_cancellable(task), on_act_reply, task);
}

static void
on_act_token(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Act *a = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autofree char *token = login_token(result, &error);
  if (token != NULL) {
    g_hash_table_replace(a->tokens, g_strdup(a->web_address), g_steal_pointer(&token));
    act_send(g_steal_pointer(&task));
    return;
  }
  if (g_error_matches(error, AM_ERROR, AM_ERROR_AUTH))
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_AUTH,
                            "%s: %s was refused by the miner's web login: %s", a->web_address,
                            a->user, error->message);
  else
    g_task_return_error(task, g_steal_pointer(&error));
}

/* Takes @task. The body holds the password: wiped once copied. */
static void
act_login(GTask *task)
{
  Act *a = g_task_get_task_data(task);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "command");
  json_builder_add_string_value(b, "token");
  json_builder_set_member_name(b, "user");
  json_builder_add_string_value(b, a->user);
  json_builder_set_member_name(b, "password");
  json_builder_add_string_value(b, a->password);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *body = json_to_string(root, FALSE);
  AmWebCall login = a->web;
  login.method = "POST";
  login.path = "/token";
  login.body = body;
  am_web_call_async(a->session, &login, g_task_get_cancellable(task), on_act_token, task);
  memset(body, 0, strlen(body));
}

/* The miner's own credentials, else [driver:auradine] user=/password=
 * (admin/admin by default). */
static const char *
either(const char *mine, const char *fallback)
{
  return mine != NULL && *mine != '\0' ? mine : fallback;
}

static void
auradine_act_async(gpointer instance, AmMiner *miner, const AmActionRequest *request,
                   GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  AmAuradine *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, auradine_act_async);
  Act *a = g_new0(Act, 1);
  a->miner = am_miner_ref(miner);
  a->session = g_object_ref(self->session);
  a->tokens = g_hash_table_ref(self->tokens);
  a->user = g_strdup(either(am_miner_get_username(miner), self->user));
  a->password = g_strdup(either(am_miner_get_password(miner), self->password));
  a->web = (AmWebCall){
      .host = am_miner_get_host(miner),
      .port = self->web_port,
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
  a->web_address = am_web_format_address(a->web.host, a->web.port);
  g_task_set_task_data(task, a, (GDestroyNotify)act_free);
  GError *error = NULL;
  if (!am_auradine_action_build(request, &a->call, &error)) {
    g_prefix_error(&error, "%s: ", a->web_address);
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  a->path = g_strconcat("/", a->call.command, NULL);
  if (g_hash_table_contains(a->tokens, a->web_address))
    act_send(task);
  else
    act_login(task);
}

static gboolean
auradine_act_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmDriverVTable auradine_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = auradine_match,
    .poll_async = auradine_poll_async,
    .poll_finish = auradine_poll_finish,
    .actions = auradine_actions,
    .act_async = auradine_act_async,
    .act_finish = auradine_act_finish,
};

AM_PLUGIN_DEFINE(.name = "auradine", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Auradine Teraflux (GCMiner on FluxOS), over the cgminer RPC on "
                                "4028 and the token-authenticated web API on 8080",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = auradine_create, .destroy = auradine_destroy,
                 .vtable.driver = &auradine_vtable)
