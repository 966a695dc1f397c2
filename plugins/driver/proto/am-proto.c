/* The proto driver plugin: Block's Proto Rig, read over its REST API
 * (/api/v1 on port 80).
 *
 * The module only does I/O. It logs in with POST /api/v1/auth/login
 * {"password": ...}, keeps the JWT access token per miner across polls,
 * and sends it as "Authorization: Bearer" on the GETs of one poll, one
 * after another (mining, telemetry, hardware, cooling, pools, errors,
 * system, network). A 401 on a GET means the token expired: it logs in once
 * more and asks again. A reply that does not come or does not parse is
 * left out and the sample marked partial, naming it; the poll fails only
 * when the login fails or nothing usable came. The pure normalizer is
 * am-proto-parse.c; the HTTP exchange is the web drivers' shared
 * common/am-web-call.c. */
#include "../common/am-web-call.h"
#include "am-proto-parse.h"
#include "sample-ini.h"

#include <string.h>

typedef struct {
  guint16 http_port; /* the web port for miners configured on the RPC port */
  guint timeout_ms;  /* per request, at most */
  char *password;    /* for miners whose [miner:NAME] gives none */
  SoupSession *session;
  GHashTable *tokens; /* "host:port" -> access token */
} AmProto;

/* ---- instance ----------------------------------------------------------- */

static gpointer
proto_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  /* A rig has no factory password: the owner sets one when onboarding. */
  AmWebSettings web;
  if (!am_web_settings_read(kf, group, "http_port", 80, NULL, "", &web, error))
    return NULL;
  AmProto *self = g_new0(AmProto, 1);
  self->http_port = web.port;
  self->timeout_ms = web.timeout_ms;
  self->password = g_steal_pointer(&web.password);
  self->session = am_web_session_new();
  self->tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

static void
proto_destroy(gpointer instance)
{
  AmProto *self = instance;
  g_object_unref(self->session);
  g_hash_table_unref(self->tokens);
  g_free(self->password);
  g_free(self);
}

static AmMatch
proto_match(gpointer self, const AmFingerprint *fp)
{
  return am_proto_match(fp);
}

/* ---- one poll ----------------------------------------------------------- */

typedef struct {
  AmMiner *miner;
  SoupSession *session;
  GHashTable *tokens; /* the instance's, referenced */
  char *host;
  guint16 port;
  guint timeout_ms;
  char *address; /* "host:port" of the web server, for messages and the token cache */
  char *password;
  char *bearer; /* "Bearer <token>" */
  guint step;   /* the endpoint being asked */
  gboolean relogged;
  guint n_read; /* replies that arrived and parsed */
  JsonNode *replies[AM_PROTO_N_ENDPOINTS];
  GError *errors[AM_PROTO_N_ENDPOINTS];
} Poll;

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_object_unref(p->session);
  g_hash_table_unref(p->tokens);
  g_free(p->host);
  g_free(p->address);
  g_free(p->password);
  g_free(p->bearer);
  for (guint i = 0; i < AM_PROTO_N_ENDPOINTS; i++) {
    if (p->replies[i] != NULL)
      json_node_unref(p->replies[i]);
    g_clear_error(&p->errors[i]);
  }
  g_free(p);
}

static void fetch_step(GTask *task);
static void login(GTask *task);

static void
use_token(Poll *p, const char *token)
{
  g_free(p->bearer);
  p->bearer = g_strdup_printf("Bearer %s", token);
}

/* Joins what is missing into one reason for the partial sample. */
static char *
missing_text(Poll *p)
{
  g_autoptr(GString) text = g_string_new(NULL);
  for (guint i = 0; i < AM_PROTO_N_ENDPOINTS; i++) {
    if (p->errors[i] == NULL)
      continue;
    g_string_append_printf(text, "%s%s", text->len > 0 ? "; " : "", p->errors[i]->message);
  }
  return text->len > 0 ? g_string_free(g_steal_pointer(&text), FALSE) : NULL;
}

/* Takes the caller's reference to @task. */
static void
finish_poll(GTask *task_ref)
{
  g_autoptr(GTask) task = task_ref;
  Poll *p = g_task_get_task_data(task);
  AmProtoReplies replies;
  memcpy(replies.replies, p->replies, sizeof replies.replies);
  g_autoptr(GError) error = NULL;
  AmSample *sample = am_proto_parse(&replies, &error);
  if (sample == NULL) {
    /* Nothing usable: the first failure says more than "no reading". */
    for (guint i = 0; i < AM_PROTO_N_ENDPOINTS; i++)
      if (p->errors[i] != NULL) {
        g_task_return_error(task, g_steal_pointer(&p->errors[i]));
        return;
      }
    g_prefix_error(&error, "%s: ", p->address);
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_autofree char *missing = missing_text(p);
  if (missing != NULL)
    am_sample_mark_partial(sample, "%s", missing);
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

/* A miner that does not answer at all fails the poll at once rather than
 * once per endpoint. */
static gboolean
is_unreachable(const GError *error)
{
  return g_error_matches(error, AM_ERROR, AM_ERROR_TIMEOUT) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_REFUSED);
}

static void
next_step(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (++p->step < AM_PROTO_N_ENDPOINTS)
    fetch_step(task);
  else
    finish_poll(task);
}

static void
on_fetched(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body == NULL) {
    if (g_error_matches(error, AM_ERROR, AM_ERROR_AUTH) && !p->relogged) {
      /* The token expired or the rig restarted: log in once more. */
      g_error_free(error);
      g_hash_table_remove(p->tokens, p->address);
      p->relogged = TRUE;
      login(g_steal_pointer(&task));
      return;
    }
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
        g_error_matches(error, AM_ERROR, AM_ERROR_AUTH) ||
        (p->n_read == 0 && is_unreachable(error))) {
      g_task_return_error(task, error);
      return;
    }
    p->errors[p->step] = error;
    next_step(g_steal_pointer(&task));
    return;
  }
  am_miner_store_raw(p->miner, am_proto_endpoint_name(p->step), body);
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  p->replies[p->step] = am_proto_parse_body(p->step, data, len, &error);
  if (p->replies[p->step] == NULL) {
    g_prefix_error(&error, "%s: ", p->address);
    p->errors[p->step] = error;
  } else {
    p->n_read++;
  }
  next_step(g_steal_pointer(&task));
}

static void
fetch_step(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  AmWebCall call = {.host = p->host,
                    .port = p->port,
                    .method = "GET",
                    .path = am_proto_endpoint_path(p->step),
                    .authorization = p->bearer,
                    .no_redirect = TRUE,
                    .timeout_ms = p->timeout_ms};
  am_web_call_async(p->session, &call, g_task_get_cancellable(task), on_fetched, task);
}

static void
on_login(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body == NULL) {
    if (g_error_matches(error, AM_ERROR, AM_ERROR_AUTH)) {
      GError *better = g_error_new(AM_ERROR, AM_ERROR_AUTH,
                                   "%s: login refused: wrong password (set password= in "
                                   "[driver:proto] or the miner's group) [%s]",
                                   p->address, error->message);
      g_error_free(error);
      error = better;
    }
    g_task_return_error(task, error);
    return;
  }
  /* The body holds the tokens: it is not kept for the raw view. */
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  g_autofree char *token = am_proto_parse_login(data, len, &error);
  if (token == NULL) {
    g_prefix_error(&error, "%s: ", p->address);
    g_task_return_error(task, error);
    return;
  }
  use_token(p, token);
  g_hash_table_replace(p->tokens, g_strdup(p->address), g_steal_pointer(&token));
  fetch_step(g_steal_pointer(&task));
}

static void
login(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  g_autoptr(JsonBuilder) builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "password");
  json_builder_add_string_value(builder, p->password);
  json_builder_end_object(builder);
  g_autoptr(JsonNode) root = json_builder_get_root(builder);
  g_autofree char *body = json_to_string(root, FALSE);
  AmWebCall call = {.host = p->host,
                    .port = p->port,
                    .method = "POST",
                    .path = AM_PROTO_LOGIN_PATH,
                    .body = body,
                    .content_type = "application/json",
                    .no_redirect = TRUE,
                    .timeout_ms = p->timeout_ms};
  am_web_call_async(p->session, &call, g_task_get_cancellable(task), on_login, task);
  /* The request copied the body; wipe ours, it holds the password. */
  memset(body, 0, strlen(body));
}

/* The web server's port: the miner's own when it is not the RPC default
 * (the user named the web port, or a NAT mapping), else http_port=. */
static guint16
web_port(AmProto *self, AmMiner *miner)
{
  guint16 port = am_miner_get_port(miner);
  return port != AM_RPC_DEFAULT_PORT ? port : self->http_port;
}

static void
proto_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  AmProto *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, proto_poll_async);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  p->session = g_object_ref(self->session);
  p->tokens = g_hash_table_ref(self->tokens);
  p->host = g_strdup(am_miner_get_host(miner));
  p->port = web_port(self, miner);
  p->timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms);
  p->address = strchr(p->host, ':') != NULL ? g_strdup_printf("[%s]:%u", p->host, p->port)
                                            : g_strdup_printf("%s:%u", p->host, p->port);
  /* [miner:NAME] password= wins over the driver's default. */
  const char *password = am_miner_get_password(miner);
  p->password = g_strdup(password != NULL ? password : self->password);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
  const char *token = g_hash_table_lookup(self->tokens, p->address);
  if (token == NULL) {
    login(task);
    return;
  }
  use_token(p, token);
  fetch_step(task);
}

static AmSample *
proto_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

static const AmDriverVTable proto_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = proto_match,
    .poll_async = proto_poll_async,
    .poll_finish = proto_poll_finish,
};

AM_PLUGIN_DEFINE(.name = "proto", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Block's Proto Rig (Proto OS), over its REST API (/api/v1) with "
                                "a bearer-token login",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = proto_create, .destroy = proto_destroy, .vtable.driver = &proto_vtable)
