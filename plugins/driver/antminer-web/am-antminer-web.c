/* The antminer-web driver plugin: Bitmain stock firmware read through its
 * web server's CGI API (/cgi-bin/..., HTTP digest auth), for miners whose
 * cgminer API on TCP/4028 is closed. It also reads what the RPC API lacks:
 * the PSU's real power, the MAC address and the host name.
 *
 * The module only does I/O: one GET per endpoint, one after another (the
 * miner's web server is small), each under the miner's timeout, then the
 * pure normalizer in am-antminer-web-parse.c. */
#include "am-antminer-web-parse.h"
#include "am-antminer-web-private.h"
#include "sample-ini.h"

typedef enum {
  EP_STATS,
  EP_SUMMARY,
  EP_POOLS,
  EP_SYSTEM_INFO,
  EP_NETWORK_INFO,
  EP_MINER_CONF,
  EP_BLINK,
  N_ENDPOINTS,
} Endpoint;

/* stats and summary carry the data; the others add pools, identity, the
 * mode and the locate light (what confirms an action) and may be missing.
 * get_network_info is asked only when get_system_info is not served (older
 * images have only the former). */
static const struct {
  const char *path;
  const char *raw_name; /* the name in the API's raw view */
  gboolean required;
} endpoints[N_ENDPOINTS] = {
    [EP_STATS] = {"/cgi-bin/stats.cgi", "stats.cgi", TRUE},
    [EP_SUMMARY] = {"/cgi-bin/summary.cgi", "summary.cgi", TRUE},
    [EP_POOLS] = {"/cgi-bin/pools.cgi", "pools.cgi", FALSE},
    [EP_SYSTEM_INFO] = {"/cgi-bin/get_system_info.cgi", "get_system_info.cgi", FALSE},
    [EP_NETWORK_INFO] = {"/cgi-bin/get_network_info.cgi", "get_network_info.cgi", FALSE},
    [EP_MINER_CONF] = {"/cgi-bin/get_miner_conf.cgi", "get_miner_conf.cgi", FALSE},
    [EP_BLINK] = {"/cgi-bin/get_blink_status.cgi", "get_blink_status.cgi", FALSE},
};

/* ---- instance ----------------------------------------------------------- */

/* [miner:NAME] username=/password= win over the driver's defaults. */
void
am_antminer_web_call_init(AmAntminerWeb *self, AmMiner *miner, AmWebCall *call, char **username,
                          char **password)
{
  const char *user = am_miner_get_username(miner);
  const char *pass = am_miner_get_password(miner);
  *username = g_strdup(user != NULL ? user : self->username);
  *password = g_strdup(pass != NULL ? pass : self->password);
  /* The web server's port: the miner's own when it is not the RPC default
   * (the user named the web port, host:80 or a NAT mapping), else the
   * driver's port= (80). core/am-selector.c fingerprints with the same rule. */
  guint16 port = am_miner_get_port(miner);
  *call = (AmWebCall){
      .host = am_miner_get_host(miner),
      .port = port != AM_RPC_DEFAULT_PORT ? port : self->port,
      .username = *username,
      .password = *password,
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
}

static gpointer
web_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  guint port = 80;
  guint64 timeout_ms = AM_RPC_DEFAULT_TIMEOUT_MS;
  g_autofree char *username = NULL;
  g_autofree char *password = NULL;
  if (kf != NULL) {
    if (!am_config_get_uint(kf, group, "port", 80, 1, 65535, &port, error))
      return NULL;
    if (!am_config_get_duration_ms(kf, group, "timeout", AM_RPC_DEFAULT_TIMEOUT_MS, 100,
                                   3600 * 1000, &timeout_ms, error))
      return NULL;
    if ((username = am_config_get_string(kf, group, "username", "root", error)) == NULL)
      return NULL;
    g_autoptr(GError) local = NULL;
    password = am_config_get_secret(kf, group, "password", &local);
    if (local != NULL) {
      g_propagate_error(error, g_steal_pointer(&local));
      return NULL;
    }
  }
  AmAntminerWeb *self = g_new0(AmAntminerWeb, 1);
  self->port = (guint16)port;
  self->timeout_ms = (guint)timeout_ms;
  /* Bitmain ships every unit as root/root. */
  self->username = username != NULL ? g_steal_pointer(&username) : g_strdup("root");
  self->password = password != NULL ? g_steal_pointer(&password) : g_strdup("root");
  self->session = am_web_session_new();
  return self;
}

static void
web_destroy(gpointer instance)
{
  AmAntminerWeb *self = instance;
  g_object_unref(self->session);
  g_free(self->username);
  g_free(self->password);
  g_free(self);
}

static AmMatch
web_match(gpointer self, const AmFingerprint *fp)
{
  return am_antminer_web_match(fp);
}

/* ---- one poll ----------------------------------------------------------- */

typedef struct {
  AmMiner *miner;
  SoupSession *session;
  AmWebCall request; /* host, port, credentials, timeout; path per step */
  char *username, *password;
  Endpoint next;
  JsonNode *replies[N_ENDPOINTS];
} Poll;

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_object_unref(p->session);
  g_free(p->username);
  g_free(p->password);
  for (guint i = 0; i < N_ENDPOINTS; i++)
    if (p->replies[i] != NULL)
      json_node_unref(p->replies[i]);
  g_free(p);
}

static JsonObject *
reply(Poll *p, Endpoint e)
{
  return p->replies[e] != NULL ? json_node_get_object(p->replies[e]) : NULL;
}

static void
finish_poll(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  AmAntminerWebReplies replies = {
      .summary = reply(p, EP_SUMMARY),
      .stats = reply(p, EP_STATS),
      .pools = reply(p, EP_POOLS),
      .system_info =
          reply(p, EP_SYSTEM_INFO) != NULL ? reply(p, EP_SYSTEM_INFO) : reply(p, EP_NETWORK_INFO),
      .miner_conf = reply(p, EP_MINER_CONF),
      .blink = reply(p, EP_BLINK),
  };
  g_autoptr(GError) error = NULL;
  AmSample *sample = am_antminer_web_parse(&replies, &error);
  if (sample == NULL) {
    g_prefix_error(&error, "%s:%u: ", p->request.host, p->request.port);
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

static void fetch_next(GTask *task);

/* Keeps a 2xx body as parsed JSON. A body that is not JSON fails the poll
 * for stats and summary and is skipped for the others. */
static gboolean
keep_reply(Poll *p, Endpoint e, GBytes *body, GError **error)
{
  am_miner_store_raw(p->miner, endpoints[e].raw_name, body);
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  g_autoptr(GError) local = NULL;
  JsonNode *root = am_rpc_parse(data, len, &local);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT(root)) {
    p->replies[e] = root;
    return TRUE;
  }
  if (root != NULL)
    json_node_unref(root);
  if (!endpoints[e].required) {
    g_debug("%s:%u: %s ignored: %s", p->request.host, p->request.port, endpoints[e].path,
            local != NULL ? local->message : "not an object");
    return TRUE;
  }
  g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s:%u: %s: %s", p->request.host, p->request.port,
              endpoints[e].path, local != NULL ? local->message : "not a JSON object");
  return FALSE;
}

/* TRUE when a failed GET still lets the poll go on: a missing (404) or
 * refused (other non-2xx) optional endpoint, or a missing required one
 * (the parser decides whether the other one is enough). */
static gboolean
is_skippable(Endpoint e, const GError *error)
{
  if (error->domain != AM_ERROR)
    return FALSE;
  if (error->code == AM_ERROR_UNSUPPORTED)
    return TRUE;
  return !endpoints[e].required && error->code == AM_ERROR_API;
}

static void
on_fetched(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  Endpoint e = p->next++;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body != NULL ? !keep_reply(p, e, body, &error) : !is_skippable(e, error)) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  if (error != NULL)
    g_debug("%s", error->message);
  /* get_network_info only stands in for a missing get_system_info. */
  if (p->next == EP_NETWORK_INFO && p->replies[EP_SYSTEM_INFO] != NULL)
    p->next++;
  fetch_next(g_steal_pointer(&task));
}

static void
fetch_next(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (p->next >= N_ENDPOINTS) {
    finish_poll(task);
    g_object_unref(task);
    return;
  }
  p->request.path = endpoints[p->next].path;
  am_web_call_async(p->session, &p->request, g_task_get_cancellable(task), on_fetched, task);
}

static void
web_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
               GAsyncReadyCallback callback, gpointer user_data)
{
  AmAntminerWeb *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, web_poll_async);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  p->session = g_object_ref(self->session);
  am_antminer_web_call_init(self, miner, &p->request, &p->username, &p->password);
  p->request.method = "GET";
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
  fetch_next(task);
}

static AmSample *
web_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

static const AmDriverVTable web_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = web_match,
    .poll_async = web_poll_async,
    .poll_finish = web_poll_finish,
    .actions = am_antminer_web_vtable_actions,
    .act_async = am_antminer_web_act_async,
    .act_finish = am_antminer_web_act_finish,
};

AM_PLUGIN_DEFINE(.name = "antminer-web", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Bitmain Antminer stock firmware over its web CGI API (HTTP "
                                "digest), for miners whose TCP/4028 is closed",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = web_create, .destroy = web_destroy, .vtable.driver = &web_vtable)
