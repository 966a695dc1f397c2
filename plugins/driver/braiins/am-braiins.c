/* The braiins driver: Braiins OS / OS+ read over its public REST API
 * (/api/v1 on HTTP port 80, BOS 23.03 and later), its GraphQL API
 * (/graphql, BOS 21.09 to 25.05) when REST is not there, or the
 * cgminer-compatible API on TCP 4028 (BOSminer, BOSminer+, BOSer) when
 * neither is. This file chooses the API and wires the pollers to the
 * plugin ABI; am-braiins-rest.c and am-braiins-graphql.c do the web
 * exchanges and the normalizers are am-braiins-parse.c,
 * am-braiins-rest-parse.c and am-braiins-graphql-parse.c. */
#include "../common/am-driver-poll.h"
#include "../common/am-web-call.h"
#include "am-braiins-action.h"
#include "am-braiins-graphql.h"
#include "am-braiins-parse.h"
#include "am-braiins-rest.h"
#include "sample-ini.h"

#include <string.h>

/* How long a miner without the REST API is read over the API found
 * instead before REST is tried again (a firmware upgrade brings it). */
#define REST_RETRY_US (30 * 60 * G_USEC_PER_SEC)

typedef enum {
  API_AUTO = 0, /* REST, else GraphQL, else RPC: the first that is there */
  API_REST,
  API_GRAPHQL,
  API_RPC,
} AmBraiinsApi;

/* auto: what a miner without REST was found to answer, and when. */
typedef struct {
  gint64 since;
  AmBraiinsApi api; /* API_GRAPHQL or API_RPC */
} Found;

typedef struct {
  AmBraiinsApi api;
  guint16 http_port; /* the web port for miners configured on the RPC port */
  guint timeout_ms;  /* per HTTP request, at most */
  char *user;
  char *password;
  SoupSession *session;
  AmBraiinsAuthCache *auth;
  AmBraiinsGqlAuthCache *gql_auth;
  /* "host:port" of the miner -> Found, for miners without REST. */
  GHashTable *no_rest;
} AmBraiins;

/* temps and fans are BOSminer's own commands; devs is asked for per-board
 * hashrate where the firmware answers it (left out when it does not). */
static const char *const poll_commands[] = {"version", "summary", "pools", "temps",
                                            "fans",    "devs",    NULL};

static AmSample *
parse_replies(GHashTable *replies, GError **error)
{
  AmBraiinsReplies r = {
      .version = am_driver_reply(replies, "version"),
      .summary = am_driver_reply(replies, "summary"),
      .pools = am_driver_reply(replies, "pools"),
      .temps = am_driver_reply(replies, "temps"),
      .fans = am_driver_reply(replies, "fans"),
      .devs = am_driver_reply(replies, "devs"),
  };
  return am_braiins_parse(&r, error);
}

/* ---- instance ----------------------------------------------------------- */

static gboolean
read_api(GKeyFile *kf, const char *group, AmBraiinsApi *out, GError **error)
{
  g_autofree char *api = am_config_get_string(kf, group, "api", "auto", error);
  if (api == NULL)
    return FALSE;
  if (g_str_equal(api, "auto"))
    *out = API_AUTO;
  else if (g_str_equal(api, "rest"))
    *out = API_REST;
  else if (g_str_equal(api, "graphql"))
    *out = API_GRAPHQL;
  else if (g_str_equal(api, "rpc"))
    *out = API_RPC;
  else {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] api=%s: expected auto, rest, graphql or rpc", group, api);
    return FALSE;
  }
  return TRUE;
}

static gpointer
braiins_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmBraiinsApi api = API_AUTO;
  guint port = 80;
  guint64 timeout_ms = AM_RPC_DEFAULT_TIMEOUT_MS;
  g_autofree char *user = NULL;
  g_autofree char *password = NULL;
  if (kf != NULL) {
    if (!read_api(kf, group, &api, error) ||
        !am_config_get_uint(kf, group, "http_port", 80, 1, 65535, &port, error) ||
        !am_config_get_duration_ms(kf, group, "timeout", AM_RPC_DEFAULT_TIMEOUT_MS, 100,
                                   3600 * 1000, &timeout_ms, error))
      return NULL;
    if ((user = am_config_get_string(kf, group, "user", "root", error)) == NULL)
      return NULL;
    g_autoptr(GError) local = NULL;
    password = am_config_get_secret(kf, group, "password", &local);
    if (local != NULL) {
      g_propagate_error(error, g_steal_pointer(&local));
      return NULL;
    }
  }
  AmBraiins *self = g_new0(AmBraiins, 1);
  self->api = api;
  self->http_port = (guint16)port;
  self->timeout_ms = (guint)timeout_ms;
  /* BOS 25.07 and later ship as root/root (older ones as root with an
   * empty password, which the REST and GraphQL pollers try after a
   * refusal). */
  self->user = user != NULL ? g_steal_pointer(&user) : g_strdup("root");
  self->password = password != NULL ? g_steal_pointer(&password) : g_strdup("root");
  self->session = am_web_session_new();
  self->auth = am_braiins_auth_cache_new();
  self->gql_auth = am_braiins_gql_auth_cache_new();
  self->no_rest = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

static void
braiins_destroy(gpointer instance)
{
  AmBraiins *self = instance;
  g_object_unref(self->session);
  g_hash_table_unref(self->auth);
  g_hash_table_unref(self->gql_auth);
  g_hash_table_unref(self->no_rest);
  g_free(self->user);
  g_free(self->password);
  g_free(self);
}

static AmMatch
braiins_match(gpointer self, const AmFingerprint *fp)
{
  return am_braiins_match(fp);
}

/* ---- one poll ----------------------------------------------------------- */

/* The instance's session and tables are referenced and the web target
 * copied: a poll never reaches back into the instance. */
typedef struct {
  AmMiner *miner;
  GHashTable *no_rest; /* the instance's, referenced */
  gboolean fallback;   /* auto: the next API may follow a missing one */
  SoupSession *session;
  AmBraiinsAuthCache *auth;
  AmBraiinsGqlAuthCache *gql_auth;
  AmBraiinsRestTarget target; /* strings owned */
} Poll;

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_hash_table_unref(p->no_rest);
  g_object_unref(p->session);
  g_hash_table_unref(p->auth);
  g_hash_table_unref(p->gql_auth);
  g_free((char *)p->target.host);
  g_free((char *)p->target.user);
  g_free((char *)p->target.password);
  g_free(p);
}

static void
return_sample(GTask *task, AmSample *sample)
{
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
  g_object_unref(task);
}

static void
remember(Poll *p, AmBraiinsApi api)
{
  Found *found = g_new(Found, 1);
  found->since = g_get_monotonic_time();
  found->api = api;
  g_hash_table_replace(p->no_rest, g_strdup(am_miner_get_address(p->miner)), found);
}

/* Whether @error says the API is not there and auto may try the next. */
static gboolean
may_fall_back(Poll *p, const GError *error)
{
  return p->fallback && g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
}

static void
on_rpc(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  AmSample *sample = am_driver_poll_finish(result, &error);
  if (sample == NULL) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  return_sample(task, sample);
}

static void
poll_rpc(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  am_driver_poll_async(p->miner, poll_commands, parse_replies, g_task_get_cancellable(task), on_rpc,
                       task);
}

/* The web server's port: the miner's own when it is not the RPC default
 * (the user named the web port, host:80 or a NAT mapping), else
 * http_port=. core/am-selector.c fingerprints with the same rule. */
static guint16
web_port(AmBraiins *self, AmMiner *miner)
{
  guint16 port = am_miner_get_port(miner);
  return port != AM_RPC_DEFAULT_PORT ? port : self->http_port;
}

/* Returns: a target whose strings are copies (poll_free() frees them). */
static AmBraiinsRestTarget
web_target(AmBraiins *self, AmMiner *miner)
{
  /* [miner:NAME] username=/password= win over the driver's defaults. */
  const char *user = am_miner_get_username(miner);
  const char *password = am_miner_get_password(miner);
  return (AmBraiinsRestTarget){
      .host = g_strdup(am_miner_get_host(miner)),
      .port = web_port(self, miner),
      .user = g_strdup(user != NULL ? user : self->user),
      .password = g_strdup(password != NULL ? password : self->password),
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
}

static void
on_graphql(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  AmSample *sample = am_braiins_gql_poll_finish(result, &error);
  if (sample != NULL) {
    if (p->fallback)
      remember(p, API_GRAPHQL);
    return_sample(task, sample);
    return;
  }
  if (may_fall_back(p, error)) {
    g_debug("%s; reading the cgminer API instead", error->message);
    remember(p, API_RPC);
    g_error_free(error);
    poll_rpc(task);
    return;
  }
  g_task_return_error(task, error);
  g_object_unref(task);
}

static void
poll_graphql(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  am_braiins_gql_poll_async(p->session, p->gql_auth, &p->target, p->miner,
                            g_task_get_cancellable(task), on_graphql, task);
}

static void
on_rest(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  AmSample *sample = am_braiins_rest_poll_finish(result, &error);
  if (sample != NULL) {
    g_hash_table_remove(p->no_rest, am_miner_get_address(p->miner));
    return_sample(task, sample);
    return;
  }
  if (may_fall_back(p, error)) {
    g_debug("%s; trying the GraphQL API", error->message);
    g_error_free(error);
    poll_graphql(task);
    return;
  }
  g_task_return_error(task, error);
  g_object_unref(task);
}

static void
poll_rest(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  am_braiins_rest_poll_async(p->session, p->auth, &p->target, p->miner,
                             g_task_get_cancellable(task), on_rest, task);
}

/* auto: the API a miner without REST was found to answer, while that is
 * recent; else API_AUTO (start with REST). */
static AmBraiinsApi
recently_found(AmBraiins *self, AmMiner *miner)
{
  Found *found = g_hash_table_lookup(self->no_rest, am_miner_get_address(miner));
  if (found == NULL || g_get_monotonic_time() - found->since >= REST_RETRY_US)
    return API_AUTO;
  return found->api;
}

static void
braiins_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  AmBraiins *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, braiins_poll_async);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  p->no_rest = g_hash_table_ref(self->no_rest);
  p->fallback = self->api == API_AUTO;
  p->session = g_object_ref(self->session);
  p->auth = g_hash_table_ref(self->auth);
  p->gql_auth = g_hash_table_ref(self->gql_auth);
  p->target = web_target(self, miner);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);

  AmBraiinsApi api = self->api == API_AUTO ? recently_found(self, miner) : self->api;
  if (api == API_RPC)
    poll_rpc(task);
  else if (api == API_GRAPHQL)
    poll_graphql(task);
  else
    poll_rest(task);
}

static AmSample *
braiins_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- actions ------------------------------------------------------------ */

/* The API a miner is read over, hence written over: the configured one,
 * or in auto what it was last found to answer (REST until found lacking). */
static AmBraiinsApiKind
api_in_use(AmBraiins *self, AmMiner *miner)
{
  AmBraiinsApi api = self->api == API_AUTO ? recently_found(self, miner) : self->api;
  if (api == API_RPC)
    return AM_BRAIINS_API_RPC;
  if (api == API_GRAPHQL)
    return AM_BRAIINS_API_GRAPHQL;
  return AM_BRAIINS_API_REST;
}

static AmActionSet
braiins_actions(gpointer instance, AmMiner *miner, const AmSample *sample)
{
  return am_braiins_actions_for(api_in_use(instance, miner));
}

/* One action: the web target copied, the session and caches referenced. */
typedef struct {
  SoupSession *session;
  AmBraiinsRestTarget target; /* strings owned */
} Act;

static void
act_free(Act *a)
{
  g_object_unref(a->session);
  g_free((char *)a->target.host);
  g_free((char *)a->target.user);
  g_free((char *)a->target.password);
  g_free(a);
}

static void
on_rest_write(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  if (am_braiins_rest_write_finish(result, &error))
    g_task_return_boolean(task, TRUE);
  else
    g_task_return_error(task, error);
  g_object_unref(task);
}

static void
on_gql_write(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  if (am_braiins_gql_write_finish(result, &error))
    g_task_return_boolean(task, TRUE);
  else
    g_task_return_error(task, error);
  g_object_unref(task);
}

static void
act_rest(AmBraiins *self, AmMiner *miner, const AmActionRequest *request, GTask *task)
{
  Act *a = g_task_get_task_data(task);
  AmBraiinsRestWrite write;
  GError *error = NULL;
  if (!am_braiins_rest_action(request, &write, &error)) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  am_braiins_rest_write_async(a->session, self->auth, &a->target, miner, &write,
                              g_task_get_cancellable(task), on_rest_write, task);
  am_braiins_rest_write_clear(&write);
}

static void
act_graphql(AmBraiins *self, AmMiner *miner, const AmActionRequest *request, GTask *task)
{
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  g_autofree char *mutation = am_braiins_gql_action(request, &error);
  if (mutation == NULL) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  am_braiins_gql_write_async(a->session, self->gql_auth, &a->target, miner, mutation,
                             g_task_get_cancellable(task), on_gql_write, task);
}

static void
braiins_act_async(gpointer instance, AmMiner *miner, const AmActionRequest *request,
                  GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  AmBraiins *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, braiins_act_async);
  Act *a = g_new0(Act, 1);
  a->session = g_object_ref(self->session);
  a->target = web_target(self, miner);
  g_task_set_task_data(task, a, (GDestroyNotify)act_free);

  AmBraiinsApiKind api = api_in_use(self, miner);
  if (api == AM_BRAIINS_API_REST) {
    act_rest(self, miner, request, task);
  } else if (api == AM_BRAIINS_API_GRAPHQL) {
    act_graphql(self, miner, request, task);
  } else {
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_UNSUPPORTED,
                            "%s: this miner answers only the read-only cgminer API (BOSminer); "
                            "actions need the Braiins OS web API (REST or GraphQL)",
                            am_miner_get_address(miner));
    g_object_unref(task);
  }
}

static gboolean
braiins_act_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmDriverVTable braiins_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = braiins_match,
    .poll_async = braiins_poll_async,
    .poll_finish = braiins_poll_finish,
    .actions = braiins_actions,
    .act_async = braiins_act_async,
    .act_finish = braiins_act_finish,
};

AM_PLUGIN_DEFINE(.name = "braiins", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Braiins OS / OS+ over its REST API (/api/v1), its GraphQL API "
                                "(BOS 21.09 to 25.05), or the cgminer API of BOSminer, "
                                "BOSminer+ and BOSer",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = braiins_create, .destroy = braiins_destroy,
                 .vtable.driver = &braiins_vtable)
