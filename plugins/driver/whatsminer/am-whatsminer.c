/* The whatsminer driver: MicroBT Whatsminer (btminer) read over its
 * read-only cgminer-style API on TCP 4028 (API v1/v2) or, on firmware from
 * 2024-11 on, over API v3 on TCP 4433; actions (writes) go through
 * am-whatsminer-act.c over the same API. The normalizers are in am-whatsminer-parse.c (v1/v2) and
 * am-whatsminer-v3-parse.c; the v3 framing in am-whatsminer-v3.c and its
 * socket client in am-whatsminer-v3-client.c. This file wires them to the
 * plugin ABI and chooses the API:
 *
 *  - api=v2: the RPC on the miner's port, as before v3 existed;
 *  - api=v3: API v3 on v3_port (or on the miner's own port when that is not
 *    4028: host:14433 behind a NAT);
 *  - api=auto (the default): the RPC first, and API v3 when the RPC port
 *    refuses the connection, closes it without a reply or answers no
 *    "summary"; a miner configured on v3_port is read over v3 at once. The
 *    instance remembers, per miner address, that v3 worked and goes there
 *    first next time; should v3 then refuse or close, the RPC is tried
 *    again. A timeout never sends a poll on to the other API, so a miner
 *    that hangs costs one timeout, not two. */
#include "../common/am-driver-poll.h"
#include "am-whatsminer-act.h"
#include "am-whatsminer-action.h"
#include "am-whatsminer-parse.h"
#include "am-whatsminer-v3-client.h"
#include "am-whatsminer-v3-parse.h"
#include "am-whatsminer-v3.h"
#include "sample-ini.h"

#include <string.h>

typedef enum {
  API_AUTO,
  API_V2,
  API_V3,
} Api;

/* One instance per [driver:whatsminer] group. */
typedef struct {
  Api api;
  guint16 v3_port;
  /* Addresses ("host:port") of the miners on which v3 answered where the
   * RPC did not (api=auto). Only those are kept, so the table is as large as
   * the number of v3-only units. Reference counted: polls in flight hold
   * it. */
  GHashTable *v3_miners;
  /* [driver:whatsminer] password, for writes to miners that have none of
   * their own; NULL: the factory default of the API used. */
  char *password;
} AmWhatsminer;

/* status is btminer's own (mineroff, firmware version); devs and devdetails
 * give per-board detail and the model; get_psu and get_error_code the PSU
 * and the vendor's error codes, where the firmware answers them. */
static const char *const poll_commands[] = {"version", "summary", "pools", "status", "devs",
                                            "devdetails", "get_psu", "get_error_code",
                                            /* the locate light (ledstat) */
                                            "get_miner_info", NULL};

/* The v3 requests of one poll, one connection each; summary is required
 * and asked first, so a port that is not v3 fails fast. */
typedef enum {
  V3_SUMMARY,
  V3_DEVICE_INFO,
  V3_EDEVS,
  V3_POOLS,
  N_V3,
} V3Step;

static const struct {
  const char *cmd;
  const char *param;
  const char *name; /* in messages and the API's raw view */
} v3_steps[N_V3] = {
    [V3_SUMMARY] = {"get.miner.status", "summary", "get.miner.status summary"},
    [V3_DEVICE_INFO] = {"get.device.info", NULL, "get.device.info"},
    [V3_EDEVS] = {"get.miner.status", "edevs", "get.miner.status edevs"},
    [V3_POOLS] = {"get.miner.status", "pools", "get.miner.status pools"},
};

/* ---- instance ----------------------------------------------------------- */

static gpointer
whatsminer_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  (void)ctx;
  Api api = API_AUTO;
  guint v3_port = AM_WHATSMINER_V3_DEFAULT_PORT;
  g_autofree char *password = NULL;
  if (kf != NULL) {
    g_autofree char *text = am_config_get_string(kf, group, "api", "auto", error);
    if (text == NULL)
      return NULL;
    if (g_ascii_strcasecmp(text, "auto") == 0)
      api = API_AUTO;
    else if (g_ascii_strcasecmp(text, "v2") == 0)
      api = API_V2;
    else if (g_ascii_strcasecmp(text, "v3") == 0)
      api = API_V3;
    else {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] api=%s: expected auto, v2 or v3", group,
                  text);
      return NULL;
    }
    if (!am_config_get_uint(kf, group, "v3_port", AM_WHATSMINER_V3_DEFAULT_PORT, 1, 65535, &v3_port,
                            error))
      return NULL;
    /* password= or password_file= (the file not world-readable), as the
     * other drivers' web passwords. */
    GError *local = NULL;
    password = am_config_get_secret(kf, group, "password", &local);
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
  }
  AmWhatsminer *self = g_new0(AmWhatsminer, 1);
  self->api = api;
  self->v3_port = (guint16)v3_port;
  self->v3_miners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  if (password != NULL && *password != '\0')
    self->password = g_steal_pointer(&password);
  return self;
}

static void
whatsminer_destroy(gpointer instance)
{
  AmWhatsminer *self = instance;
  g_hash_table_unref(self->v3_miners);
  g_free(self->password);
  g_free(self);
}

static AmMatch
whatsminer_match(gpointer instance, const AmFingerprint *fp)
{
  AmWhatsminer *self = instance;
  AmMatch match = am_whatsminer_match(fp);
  /* The fingerprint is the RPC's; a v3-only unit shows only a closed 4028. */
  if (match == AM_MATCH_UNSUPPORTED && self->api != API_V2)
    match = am_whatsminer_v3_match(fp, self->v3_port);
  return match;
}

/* ---- one poll ----------------------------------------------------------- */

typedef struct {
  AmMiner *miner;
  GHashTable *v3_miners;
  Api api;
  guint16 v3_port;
  gboolean tried_v2;
  gboolean tried_v3;
  GError *v2_error; /* why the RPC did not do, when v3 is tried next */
  GError *v3_error; /* why v3 did not do, when the RPC is tried next */
  /* v3 */
  char *v3_address;
  V3Step step;
  JsonObject *v3[N_V3];
  GPtrArray *failed; /* char*: "what: why" of the optional v3 requests */
} Poll;

static void
poll_free(Poll *p)
{
  am_miner_unref(p->miner);
  g_hash_table_unref(p->v3_miners);
  g_clear_error(&p->v2_error);
  g_clear_error(&p->v3_error);
  g_free(p->v3_address);
  for (guint i = 0; i < N_V3; i++)
    g_clear_pointer(&p->v3[i], json_object_unref);
  g_ptr_array_unref(p->failed);
  g_free(p);
}

/* Worth trying the other API: nothing there, or no summary answered. A
 * timeout is not: the miner is there and slow. */
static gboolean
try_other_api(const GError *error)
{
  return g_error_matches(error, AM_ERROR, AM_ERROR_REFUSED) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_RESET) ||
         g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
}

static guint16
v3_port(Poll *p)
{
  guint16 port = am_miner_get_port(p->miner);
  if (p->api == API_V3 && port != AM_RPC_DEFAULT_PORT)
    return port;
  return p->v3_port;
}

static void
remember_v3(Poll *p, gboolean v3)
{
  if (p->api != API_AUTO)
    return;
  const char *address = am_miner_get_address(p->miner);
  if (v3)
    g_hash_table_add(p->v3_miners, g_strdup(address));
  else
    g_hash_table_remove(p->v3_miners, address);
}

static void start_v2(GTask *task);
static void start_v3(GTask *task);

/* The last API tried failed too: one error telling both, the RPC's first
 * ("<rpc>; API v3: <v3>"). The code is v3's unless v3 merely found
 * nothing listening, when the RPC's says more. */
static void
return_failure(GTask *task, GError *error, gboolean from_v3)
{
  Poll *p = g_task_get_task_data(task);
  GError *other = from_v3 ? p->v2_error : p->v3_error;
  if (other != NULL && error->domain == AM_ERROR && other->domain == AM_ERROR) {
    const GError *v2 = from_v3 ? other : error;
    const GError *v3 = from_v3 ? error : other;
    gint code = g_error_matches(v3, AM_ERROR, AM_ERROR_REFUSED) ? v2->code : v3->code;
    GError *both = g_error_new(AM_ERROR, code, "%s; API v3: %s", v2->message, v3->message);
    g_error_free(error);
    error = both;
  }
  g_task_return_error(task, error);
}

/* ---- the RPC (v1/v2) ---- */

static AmSample *
parse_replies(GHashTable *replies, GError **error)
{
  AmWhatsminerReplies r = {
      .version = am_driver_reply(replies, "version"),
      .summary = am_driver_reply(replies, "summary"),
      .pools = am_driver_reply(replies, "pools"),
      .status = am_driver_reply(replies, "status"),
      .devs = am_driver_reply(replies, "devs"),
      .devdetails = am_driver_reply(replies, "devdetails"),
      .get_psu = am_driver_reply(replies, "get_psu"),
      .get_error_code = am_driver_reply(replies, "get_error_code"),
      .get_miner_info = am_driver_reply(replies, "get_miner_info"),
  };
  return am_whatsminer_parse(&r, error);
}

static void
v2_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  (void)source;
  GError *error = NULL;
  AmSample *sample = am_driver_poll_finish(result, &error);
  if (sample != NULL) {
    remember_v3(p, FALSE);
    g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
    return;
  }
  if (p->api == API_AUTO && !p->tried_v3 && try_other_api(error)) {
    g_debug("%s: %s; trying API v3 on port %u", am_miner_get_address(p->miner), error->message,
            v3_port(p));
    p->v2_error = error;
    start_v3(g_steal_pointer(&task));
    return;
  }
  return_failure(task, error, FALSE);
}

static void
start_v2(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  p->tried_v2 = TRUE;
  am_driver_poll_async(p->miner, poll_commands, parse_replies, g_task_get_cancellable(task),
                       v2_done, task);
}

/* ---- API v3 ---- */

static void
v3_parse(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  g_ptr_array_add(p->failed, NULL);
  AmWhatsminerV3Replies r = {
      .summary = p->v3[V3_SUMMARY],
      .device_info = p->v3[V3_DEVICE_INFO],
      .edevs = p->v3[V3_EDEVS],
      .pools = p->v3[V3_POOLS],
      .failed = (const char *const *)p->failed->pdata,
  };
  GError *error = NULL;
  AmSample *sample = am_whatsminer_v3_parse(&r, &error);
  if (sample == NULL) {
    g_prefix_error(&error, "%s: ", p->v3_address);
    return_failure(task, error, TRUE);
    return;
  }
  remember_v3(p, TRUE);
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

/* The message without the "host:port: " every v3 error starts with: the
 * partial problem names the request, and the sample names the miner. */
static const char *
without_address(Poll *p, const char *message)
{
  gsize n = strlen(p->v3_address);
  if (strncmp(message, p->v3_address, n) == 0 && strncmp(message + n, ": ", 2) == 0)
    return message + n + 2;
  return message;
}

static void v3_next(GTask *task);

static void
v3_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *p = g_task_get_task_data(task);
  (void)source;
  g_autoptr(GBytes) raw = NULL;
  GError *error = NULL;
  JsonObject *reply = am_whatsminer_v3_call_finish(result, &raw, &error);
  if (raw != NULL)
    am_miner_store_raw(p->miner, v3_steps[p->step].name, raw);
  if (reply != NULL) {
    p->v3[p->step++] = reply;
    v3_next(g_steal_pointer(&task));
    return;
  }
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_task_return_error(task, error);
    return;
  }
  if (p->step == V3_SUMMARY) {
    /* A remembered v3 unit that stopped answering there: back to the RPC
     * (not for a miner configured on the v3 port: it has no other). */
    if (p->api == API_AUTO && !p->tried_v2 && am_miner_get_port(p->miner) != p->v3_port &&
        try_other_api(error)) {
      g_debug("%s; trying the RPC on %s", error->message, am_miner_get_address(p->miner));
      p->v3_error = error;
      remember_v3(p, FALSE);
      start_v2(g_steal_pointer(&task));
      return;
    }
    if (g_error_matches(error, AM_ERROR, AM_ERROR_API)) {
      /* The port speaks v3 but will not give the one reply we need. */
      GError *unsupported = g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s", error->message);
      g_error_free(error);
      error = unsupported;
    }
    return_failure(task, error, TRUE);
    return;
  }
  if (g_error_matches(error, AM_ERROR, AM_ERROR_API)) {
    /* Not supported by this firmware: left out, like an RPC command
     * answered with STATUS E. */
    g_debug("leaving %s out: %s", v3_steps[p->step].name, error->message);
  } else {
    g_ptr_array_add(p->failed, g_strdup_printf("%s: %s", v3_steps[p->step].name,
                                               without_address(p, error->message)));
    if (g_error_matches(error, AM_ERROR, AM_ERROR_TIMEOUT)) {
      /* Each further request would wait as long again. */
      for (guint s = p->step + 1; s < N_V3; s++)
        g_ptr_array_add(p->failed,
                        g_strdup_printf("%s: not asked after a timeout", v3_steps[s].name));
      p->step = N_V3;
    }
  }
  g_error_free(error);
  if (p->step < N_V3)
    p->step++;
  v3_next(g_steal_pointer(&task));
}

static void
v3_next(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  if (p->step >= N_V3) {
    v3_parse(task);
    g_object_unref(task);
    return;
  }
  am_whatsminer_v3_call_async(am_miner_get_host(p->miner), v3_port(p), v3_steps[p->step].cmd,
                              v3_steps[p->step].param, am_miner_get_timeout_ms(p->miner),
                              AM_WHATSMINER_V3_MAX_BODY, g_task_get_cancellable(task), v3_done,
                              task);
}

static void
start_v3(GTask *task)
{
  Poll *p = g_task_get_task_data(task);
  p->tried_v3 = TRUE;
  p->step = V3_SUMMARY;
  const char *host = am_miner_get_host(p->miner);
  guint16 port = v3_port(p);
  p->v3_address = strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                            : g_strdup_printf("%s:%u", host, port);
  v3_next(task);
}

static void
whatsminer_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  AmWhatsminer *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, whatsminer_poll_async);
  g_task_set_check_cancellable(task, FALSE);
  Poll *p = g_new0(Poll, 1);
  p->miner = am_miner_ref(miner);
  p->v3_miners = g_hash_table_ref(self->v3_miners);
  p->api = self->api;
  p->v3_port = self->v3_port;
  p->failed = g_ptr_array_new_with_free_func(g_free);
  g_task_set_task_data(task, p, (GDestroyNotify)poll_free);

  gboolean v3 = self->api == API_V3;
  if (self->api == API_AUTO)
    v3 = am_miner_get_port(miner) == self->v3_port ||
         g_hash_table_contains(self->v3_miners, am_miner_get_address(miner));
  if (v3)
    start_v3(task);
  else
    start_v2(task);
}

static AmSample *
whatsminer_poll_finish(gpointer instance, GAsyncResult *result, GError **error)
{
  (void)instance;
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- actions ------------------------------------------------------------ */

static AmActionSet
whatsminer_actions(gpointer instance, AmMiner *miner, const AmSample *sample)
{
  (void)instance;
  (void)miner;
  return am_whatsminer_actions(sample);
}

/* The API a write goes to: the one the polls use (api=, and for auto the
 * port and what the polls learnt). */
static gboolean
act_over_v3(AmWhatsminer *self, AmMiner *miner)
{
  if (self->api != API_AUTO)
    return self->api == API_V3;
  return am_miner_get_port(miner) == self->v3_port ||
         g_hash_table_contains(self->v3_miners, am_miner_get_address(miner));
}

static void
whatsminer_act_async(gpointer instance, AmMiner *miner, const AmActionRequest *request,
                     GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  AmWhatsminer *self = instance;
  gboolean v3 = act_over_v3(self, miner);
  guint16 port = am_miner_get_port(miner);
  if (v3 && (self->api != API_V3 || port == AM_RPC_DEFAULT_PORT))
    port = self->v3_port;
  /* The miner's own password, then the driver's, then the factory one of
   * the API (v2 admin/admin, v3 super/super). The account is fixed: v2
   * has only admin, and on v3 only super may write. */
  const char *password = am_miner_get_password(miner);
  if (password == NULL || *password == '\0')
    password = self->password;
  if (password == NULL)
    password = v3 ? AM_WHATSMINER_V3_DEFAULT_PASSWORD : AM_WHATSMINER_V2_DEFAULT_PASSWORD;
  am_whatsminer_act_async(miner, request, v3, port, password, cancellable, callback, user_data);
}

static gboolean
whatsminer_act_finish(gpointer instance, GAsyncResult *result, GError **error)
{
  (void)instance;
  return am_whatsminer_act_finish(result, error);
}

static const AmDriverVTable whatsminer_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = whatsminer_match,
    .poll_async = whatsminer_poll_async,
    .poll_finish = whatsminer_poll_finish,
    .actions = whatsminer_actions,
    .act_async = whatsminer_act_async,
    .act_finish = whatsminer_act_finish,
};

AM_PLUGIN_DEFINE(.name = "whatsminer", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "MicroBT Whatsminer (btminer) over its API, v1/v2 or v3",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = whatsminer_create, .destroy = whatsminer_destroy,
                 .vtable.driver = &whatsminer_vtable)
