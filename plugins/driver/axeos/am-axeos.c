/* The axeos driver plugin: Bitaxe, NerdAxe, NerdQAxe and LuckyMiner units
 * running AxeOS (ESP-Miner), read over their open HTTP API on port 80.
 *
 * The module only does I/O: GET /api/system/info and, when that lacks the
 * board's name or ASIC count, GET /api/system/asic (ESP-Miner 2.9 and
 * later; older firmware answers 404, which is remembered per miner and
 * firmware version so it is not asked every poll). Each request has a
 * deadline and honours the poll's cancellable. The HTTP exchange is the
 * web drivers' shared one (common/am-web-call.c, compiled in): the same
 * session settings, size cap and AM_ERROR codes. The pure normalizer is
 * am-axeos-parse.c. */
#include "../common/am-web-call.h"
#include "am-axeos-action.h"
#include "am-axeos-parse.h"
#include "sample-ini.h"

#include <string.h>

typedef struct {
  guint16 http_port; /* the web port for miners configured on the RPC port */
  guint timeout_ms;  /* per request, at most; the miner's timeout may be shorter */
  SoupSession *session;
  /* "host:port" -> the firmware version that answered 404 to
   * /api/system/asic; asked again when the version changes. */
  GHashTable *no_asic;
} AmAxeos;

/* ---- instance ----------------------------------------------------------- */

static gpointer
axeos_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  guint port = 80;
  guint64 timeout_ms = AM_RPC_DEFAULT_TIMEOUT_MS;
  if (kf != NULL) {
    if (!am_config_get_uint(kf, group, "http_port", 80, 1, 65535, &port, error))
      return NULL;
    if (!am_config_get_duration_ms(kf, group, "timeout", AM_RPC_DEFAULT_TIMEOUT_MS, 100,
                                   3600 * 1000, &timeout_ms, error))
      return NULL;
  }
  AmAxeos *self = g_new0(AmAxeos, 1);
  self->http_port = (guint16)port;
  self->timeout_ms = (guint)timeout_ms;
  self->session = am_web_session_new();
  self->no_asic = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

static void
axeos_destroy(gpointer instance)
{
  AmAxeos *self = instance;
  g_object_unref(self->session);
  g_hash_table_unref(self->no_asic);
  g_free(self);
}

static AmMatch
axeos_match(gpointer self, const AmFingerprint *fp)
{
  return am_axeos_match(fp);
}

/* ---- one poll ----------------------------------------------------------- */

typedef struct {
  AmMiner *miner;
  SoupSession *session;
  GHashTable *no_asic; /* the instance's, referenced */
  AmWebCall request;   /* host, port, timeout; path per step */
  char *address;       /* "host:port" of the web server, for messages */
  JsonObject *info;
  JsonObject *asic;
} Poll;

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_object_unref(p->session);
  g_hash_table_unref(p->no_asic);
  g_free(p->address);
  if (p->info != NULL)
    json_object_unref(p->info);
  if (p->asic != NULL)
    json_object_unref(p->asic);
  g_free(p);
}

/* The web server's port: the miner's own when it is not the RPC default
 * (the user named the web port, host:80 or a NAT mapping), else the
 * driver's http_port= (80). core/am-selector.c fingerprints with the same
 * rule. */
static guint16
web_port(AmAxeos *self, AmMiner *miner)
{
  guint16 port = am_miner_get_port(miner);
  return port != AM_RPC_DEFAULT_PORT ? port : self->http_port;
}

static const char *
firmware_version(Poll *p)
{
  const char *version = am_json_string(p->info, "version");
  return version != NULL ? version : "";
}

static void
finish_poll(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  AmAxeosReplies replies = {.info = p->info, .asic = p->asic};
  g_autoptr(GError) error = NULL;
  AmSample *sample = am_axeos_parse(&replies, &error);
  if (sample == NULL) {
    g_prefix_error(&error, "%s: ", p->address);
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

/* Parses a 2xx body, keeping it for the API's raw view first. */
static JsonObject *
keep_reply(Poll *p, const char *raw_name, const char *path, GBytes *body, GError **error)
{
  am_miner_store_raw(p->miner, raw_name, body);
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  JsonObject *reply = am_axeos_parse_body(path, data, len, error);
  if (reply == NULL)
    g_prefix_error(error, "%s: ", p->address);
  return reply;
}

static void
on_asic(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body != NULL) {
    p->asic = keep_reply(p, "system/asic", AM_AXEOS_ASIC_PATH, body, &error);
    if (p->asic != NULL)
      g_hash_table_remove(p->no_asic, p->address);
  } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  } else if (g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED)) {
    /* Firmware before 2.9: remember, so the next polls skip it. */
    g_hash_table_replace(p->no_asic, g_strdup(p->address), g_strdup(firmware_version(p)));
  }
  /* The endpoint only adds to what /api/system/info gave. */
  if (error != NULL)
    g_debug("%s: %s ignored: %s", p->address, AM_AXEOS_ASIC_PATH, error->message);
  finish_poll(task);
}

/* AxeOS answers 401 to clients outside private networks: no credentials
 * would help, so the message says what does. */
static GError *
explain_401(Poll *p, GError *error)
{
  if (!g_error_matches(error, AM_ERROR, AM_ERROR_AUTH))
    return error;
  GError *better = g_error_new(AM_ERROR, AM_ERROR_AUTH,
                               "%s: HTTP 401 from %s: AxeOS serves its API only to clients on "
                               "its own private network",
                               p->address, p->request.path);
  g_error_free(error);
  return better;
}

static void
on_info(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  if (body == NULL) {
    g_task_return_error(task, explain_401(p, error));
    return;
  }
  p->info = keep_reply(p, "system/info", AM_AXEOS_INFO_PATH, body, &error);
  if (p->info == NULL) {
    g_task_return_error(task, error);
    return;
  }
  const char *absent_in = g_hash_table_lookup(p->no_asic, p->address);
  if (!am_axeos_wants_asic(p->info) || g_strcmp0(absent_in, firmware_version(p)) == 0) {
    finish_poll(task);
    return;
  }
  p->request.path = AM_AXEOS_ASIC_PATH;
  GTask *next = g_steal_pointer(&task);
  am_web_call_async(p->session, &p->request, g_task_get_cancellable(next), on_asic, next);
}

static void
axeos_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  AmAxeos *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, axeos_poll_async);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  p->session = g_object_ref(self->session);
  p->no_asic = g_hash_table_ref(self->no_asic);
  /* AxeOS has no authentication: no credentials are offered. */
  p->request = (AmWebCall){
      .method = "GET",
      .host = am_miner_get_host(miner),
      .port = web_port(self, miner),
      .path = AM_AXEOS_INFO_PATH,
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
  p->address = am_web_format_address(p->request.host, p->request.port);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);
  am_web_call_async(p->session, &p->request, cancellable, on_info, task);
}

static AmSample *
axeos_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- actions ------------------------------------------------------------ */

static AmActionSet
axeos_actions(gpointer self, AmMiner *miner, const AmSample *sample)
{
  return am_axeos_actions(sample);
}

typedef struct {
  AmMiner *miner; /* holds the host the requests point into */
  SoupSession *session;
  GPtrArray *calls; /* AmAxeosActionCall*, sent in order */
  guint next;
  AmWebCall request; /* host, port, timeout; method, path, body per call */
  char *address;
} Act;

static void
act_free(Act *a)
{
  am_miner_unref(a->miner);
  g_object_unref(a->session);
  g_ptr_array_unref(a->calls);
  g_free(a->address);
  g_free(a);
}

static void act_send_next(GTask *task);

static void
on_act_call(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) body = am_web_call_finish(result, NULL, &error);
  gboolean last = a->next == a->calls->len;
  /* The restart is the last call: an ESP32 going down may close the
   * connection before its answer, and that is the restart happening. */
  if (body == NULL && last && g_error_matches(error, AM_ERROR, AM_ERROR_RESET))
    g_clear_error(&error);
  if (error != NULL) {
    if (g_error_matches(error, AM_ERROR, AM_ERROR_AUTH)) {
      GError *better = g_error_new(AM_ERROR, AM_ERROR_AUTH,
                                   "%s: AxeOS refused %s %s (HTTP 401): it accepts writes only "
                                   "from clients on its own private network",
                                   a->address, a->request.method, a->request.path);
      g_error_free(error);
      error = better;
    } else if (g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED)) {
      g_prefix_error(&error, "this AxeOS firmware has no %s %s: ", a->request.method,
                     a->request.path);
    }
    g_task_return_error(task, error);
    return;
  }
  if (last) {
    g_task_return_boolean(task, TRUE);
    return;
  }
  act_send_next(g_steal_pointer(&task));
}

/* Takes @task. */
static void
act_send_next(GTask *task)
{
  Act *a = g_task_get_task_data(task);
  AmAxeosActionCall *call = a->calls->pdata[a->next++];
  a->request.method = call->method;
  a->request.path = call->path;
  a->request.body = call->body;
  am_web_call_async(a->session, &a->request, g_task_get_cancellable(task), on_act_call, task);
}

static void
axeos_act_async(gpointer instance, AmMiner *miner, const AmActionRequest *request,
                GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  AmAxeos *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, axeos_act_async);
  GError *error = NULL;
  GPtrArray *calls = am_axeos_action_build(request, &error);
  if (calls == NULL) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  Act *a = g_new0(Act, 1);
  a->miner = am_miner_ref(miner);
  a->session = g_object_ref(self->session);
  a->calls = calls;
  /* No login: ESP-Miner's API has none (the miner's credentials are unused). */
  a->request = (AmWebCall){
      .host = am_miner_get_host(miner),
      .port = web_port(self, miner),
      .timeout_ms = MIN(am_miner_get_timeout_ms(miner), self->timeout_ms),
  };
  a->address = am_web_format_address(a->request.host, a->request.port);
  g_task_set_task_data(task, a, (GDestroyNotify)act_free);
  act_send_next(task);
}

static gboolean
axeos_act_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmDriverVTable axeos_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = axeos_match,
    .poll_async = axeos_poll_async,
    .poll_finish = axeos_poll_finish,
    .actions = axeos_actions,
    .act_async = axeos_act_async,
    .act_finish = axeos_act_finish,
};

AM_PLUGIN_DEFINE(.name = "axeos", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "AxeOS (ESP-Miner) on Bitaxe, NerdAxe, NerdQAxe and LuckyMiner, "
                                "over its HTTP API (/api/system/info)",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = axeos_create, .destroy = axeos_destroy, .vtable.driver = &axeos_vtable)
