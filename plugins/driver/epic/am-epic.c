/* The epic driver plugin: miners running ePIC UMC OS, read over its
 * PowerPlay HTTP API on TCP 4028 (where cgminer firmware has its RPC).
 *
 * The module only does I/O: GET /summary, /capabilities, /temps,
 * /network, /hashrate and /temps/chip side by side, each with the same deadline and the poll's
 * cancellable. Reads need no login, so a poll sends no credentials; only
 * the actions (POSTs, am-epic-action.c) carry the password in their body.
 * /summary is required; when
 * another reply fails, the sample is returned partial naming it. The HTTP
 * exchange is the web drivers' shared one (common/am-web-call.c, compiled
 * in): the same session settings, size cap and AM_ERROR codes. The pure
 * normalizer is am-epic-parse.c. */
#include "../common/am-web-call.h"
#include "am-epic-action.h"
#include "am-epic-parse.h"
#include "sample-ini.h"

#include <string.h>

typedef struct {
  guint16 port;     /* PowerPlay's port for miners configured on the RPC default */
  guint timeout_ms; /* per request, at most; the miner's timeout may be shorter */
  char *password;   /* for writes, when the miner's credentials give none */
  SoupSession *session;
} AmEpic;

/* ---- instance ----------------------------------------------------------- */

static gpointer
epic_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  /* PowerPlay logs in with a password only; its factory one is letmein. */
  AmWebSettings web;
  if (!am_web_settings_read(kf, group, "port", AM_RPC_DEFAULT_PORT, NULL, AM_EPIC_DEFAULT_PASSWORD,
                            &web, error))
    return NULL;
  AmEpic *self = g_new0(AmEpic, 1);
  self->port = web.port;
  self->timeout_ms = web.timeout_ms;
  self->password = g_steal_pointer(&web.password);
  am_web_settings_clear(&web);
  self->session = am_web_session_new();
  return self;
}

static void
epic_destroy(gpointer instance)
{
  AmEpic *self = instance;
  g_object_unref(self->session);
  if (self->password != NULL)
    memset(self->password, 0, strlen(self->password));
  g_free(self->password);
  g_free(self);
}

static AmMatch
epic_match(gpointer self, const AmFingerprint *fp)
{
  return am_epic_match(fp);
}

/* ---- one poll ----------------------------------------------------------- */

typedef enum {
  REPLY_SUMMARY,
  REPLY_CAPABILITIES,
  REPLY_TEMPS,
  REPLY_NETWORK,
  REPLY_HASHRATE,
  REPLY_CHIP_TEMPS,
  N_REPLIES,
} ReplyId;

/* Each path and the name its body is kept under for the API's raw view. */
static const struct {
  const char *path;
  const char *raw_name;
} replies[N_REPLIES] = {
    [REPLY_SUMMARY] = {AM_EPIC_SUMMARY_PATH, "summary"},
    [REPLY_CAPABILITIES] = {AM_EPIC_CAPABILITIES_PATH, "capabilities"},
    [REPLY_TEMPS] = {AM_EPIC_TEMPS_PATH, "temps"},
    [REPLY_NETWORK] = {AM_EPIC_NETWORK_PATH, "network"},
    [REPLY_HASHRATE] = {AM_EPIC_HASHRATE_PATH, "hashrate"},
    [REPLY_CHIP_TEMPS] = {AM_EPIC_CHIP_TEMPS_PATH, "temps/chip"},
};

typedef struct {
  AmMiner *miner;
  AmWebCall request; /* host, port, timeout; the path per request */
  char *address;     /* "host:port" of PowerPlay, for messages */
  guint pending;
  JsonNode *nodes[N_REPLIES];
  GError *errors[N_REPLIES];
} Poll;

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_free(p->address);
  for (guint i = 0; i < N_REPLIES; i++) {
    if (p->nodes[i] != NULL)
      json_node_unref(p->nodes[i]);
    g_clear_error(&p->errors[i]);
  }
  g_free(p);
}

/* One request in flight: its poll's task and which reply it fetches. */
typedef struct {
  GTask *task;
  ReplyId id;
} Pending;

/* The miner's own port when it is not the RPC default (the user named
 * host:port, or a NAT mapping), else the driver's port= (4028). */
static guint16
epic_port(AmEpic *self, AmMiner *miner)
{
  guint16 port = am_miner_get_port(miner);
  return port != AM_RPC_DEFAULT_PORT ? port : self->port;
}

/* The root of an arrived reply in the shape its path has. */
static gboolean
check_shape(ReplyId id, JsonNode *node, GError **error)
{
  const char *path = replies[id].path;
  if (id == REPLY_TEMPS || id == REPLY_HASHRATE || id == REPLY_CHIP_TEMPS) {
    g_autoptr(JsonArray) array = am_epic_root_array(path, node, error);
    return array != NULL;
  }
  g_autoptr(JsonObject) object = am_epic_root_object(path, node, error);
  return object != NULL;
}

static JsonObject *
object_of(Poll *p, ReplyId id)
{
  return p->nodes[id] != NULL ? json_node_get_object(p->nodes[id]) : NULL;
}

static JsonArray *
array_of(Poll *p, ReplyId id)
{
  return p->nodes[id] != NULL ? json_node_get_array(p->nodes[id]) : NULL;
}

static const char *
why(Poll *p, ReplyId id)
{
  return p->errors[id] != NULL ? p->errors[id]->message : NULL;
}

/* PowerPlay's reads are open, so a 401 comes from something else (a
 * proxy, or not an ePIC unit at all): the message says so instead of
 * blaming a password antmon never sent. */
static GError *
explain_401(Poll *p, GError *error)
{
  if (!g_error_matches(error, AM_ERROR, AM_ERROR_AUTH))
    return error;
  GError *better = g_error_new(AM_ERROR, AM_ERROR_AUTH,
                               "%s: HTTP 401 from %s: PowerPlay serves its reads without a "
                               "login, so something else asks for one",
                               p->address, AM_EPIC_SUMMARY_PATH);
  g_error_free(error);
  return better;
}

/* All replies are in: /summary decides; the others only add. */
static void
finish_poll(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  for (guint i = 0; i < N_REPLIES; i++) {
    if (g_error_matches(p->errors[i], G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_task_return_error(task, g_steal_pointer(&p->errors[i]));
      return;
    }
  }
  if (p->errors[REPLY_SUMMARY] != NULL) {
    g_task_return_error(task, explain_401(p, g_steal_pointer(&p->errors[REPLY_SUMMARY])));
    return;
  }
  for (guint i = REPLY_CAPABILITIES; i < N_REPLIES; i++)
    if (p->errors[i] != NULL)
      g_debug("%s: %s", p->address, p->errors[i]->message);
  AmEpicReplies r = {
      .summary = object_of(p, REPLY_SUMMARY),
      .capabilities = object_of(p, REPLY_CAPABILITIES),
      .temps = array_of(p, REPLY_TEMPS),
      .network = object_of(p, REPLY_NETWORK),
      .hashrate = array_of(p, REPLY_HASHRATE),
      .chip_temps = array_of(p, REPLY_CHIP_TEMPS),
      .capabilities_error = why(p, REPLY_CAPABILITIES),
      .temps_error = why(p, REPLY_TEMPS),
      .network_error = why(p, REPLY_NETWORK),
      .hashrate_error = why(p, REPLY_HASHRATE),
      .chip_temps_error = why(p, REPLY_CHIP_TEMPS),
  };
  g_autoptr(GError) error = NULL;
  AmSample *sample = am_epic_parse(&r, &error);
  if (sample == NULL) {
    g_prefix_error(&error, "%s: ", p->address);
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

/* Keeps a 2xx body for the raw view, then parses it into p->nodes[id] or
 * p->errors[id]. */
static void
keep_reply(Poll *p, ReplyId id, GBytes *body)
{
  am_miner_store_raw(p->miner, replies[id].raw_name, body);
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  JsonNode *node = am_epic_parse_body(replies[id].path, data, len, &p->errors[id]);
  if (node != NULL && !check_shape(id, node, &p->errors[id]))
    g_clear_pointer(&node, json_node_unref);
  if (node == NULL)
    g_prefix_error(&p->errors[id], "%s: ", p->address);
  p->nodes[id] = node;
}

static void
on_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *pending = user_data;
  GTask *task = pending->task;
  Poll *p = g_task_get_task_data(task);
  ReplyId id = pending->id;
  g_free(pending);
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &p->errors[id]);
  if (body != NULL)
    keep_reply(p, id, body);
  if (--p->pending == 0)
    finish_poll(task);
  g_object_unref(task);
}

static void
epic_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                GAsyncReadyCallback callback, gpointer user_data)
{
  AmEpic *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, epic_poll_async);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  /* Reads are open: no username or password is offered, ever. */
  p->request = (AmWebCall){
      .method = "GET",
      .host = am_miner_get_host(miner),
      .port = epic_port(self, miner),
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
  p->address = am_web_format_address(p->request.host, p->request.port);
  p->pending = N_REPLIES;
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
  for (guint i = 0; i < N_REPLIES; i++) {
    Pending *pending = g_new0(Pending, 1);
    pending->task = g_object_ref(task);
    pending->id = (ReplyId)i;
    p->request.path = replies[i].path;
    am_web_call_async(self->session, &p->request, cancellable, on_reply, pending);
  }
  g_object_unref(task);
}

static AmSample *
epic_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- actions ------------------------------------------------------------ */

static AmActionSet
epic_actions(gpointer self, AmMiner *miner, const AmSample *sample)
{
  return am_epic_actions(sample);
}

typedef struct {
  AmEpicActionCall call;
  char *address;
} Act;

static void
act_free(Act *a)
{
  am_epic_action_call_clear(&a->call);
  g_free(a->address);
  g_free(a);
}

static void
on_act_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body == NULL) {
    if (g_error_matches(error, AM_ERROR, AM_ERROR_AUTH)) {
      /* Only the password can be wrong: PowerPlay has no user names. */
      GError *better = g_error_new(AM_ERROR, AM_ERROR_AUTH,
                                   "%s: %s was refused by ePIC's web API (wrong password) on "
                                   "POST %s",
                                   a->address, AM_EPIC_WEB_USER, a->call.path);
      g_error_free(error);
      error = better;
    }
    g_task_return_error(task, error);
    return;
  }
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  if (!am_epic_action_check(a->call.path, data, len, &error)) {
    g_prefix_error(&error, "%s: ", a->address);
    g_task_return_error(task, error);
    return;
  }
  g_task_return_boolean(task, TRUE);
}

static void
epic_act_async(gpointer instance, AmMiner *miner, const AmActionRequest *request,
               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  AmEpic *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, epic_act_async);
  Act *a = g_new0(Act, 1);
  AmWebCall call = {
      .method = "POST",
      .host = am_miner_get_host(miner),
      .port = epic_port(self, miner),
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
  a->address = am_web_format_address(call.host, call.port);
  g_task_set_task_data(task, a, (GDestroyNotify)act_free);
  /* The miner's own password first, then [driver:epic] password=. */
  const char *password = am_miner_get_password(miner);
  if (password == NULL || *password == '\0')
    password = self->password;
  GError *error = NULL;
  if (!am_epic_action_build(request, password, &a->call, &error)) {
    g_prefix_error(&error, "%s: ", a->address);
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  call.path = a->call.path;
  call.body = a->call.body;
  am_web_call_async(self->session, &call, cancellable, on_act_reply, task);
}

static gboolean
epic_act_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmDriverVTable epic_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = epic_match,
    .poll_async = epic_poll_async,
    .poll_finish = epic_poll_finish,
    .actions = epic_actions,
    .act_async = epic_act_async,
    .act_finish = epic_act_finish,
};

AM_PLUGIN_DEFINE(.name = "epic", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description =
                     "ePIC UMC OS, over its PowerPlay HTTP API on port 4028 "
                     "(/summary, /capabilities, /temps, /network, /hashrate, /temps/chip)",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = epic_create, .destroy = epic_destroy, .vtable.driver = &epic_vtable)
