/* The avalon driver: Canaan AvalonMiner, read over Canaan's cgminer API on
 * TCP 4028. The normalizer (with the "MM ID" string reader) is in
 * am-avalon-parse.c; this file only wires it to the plugin ABI. */
#include "../common/am-driver-poll.h"
#include "am-avalon-action.h"
#include "am-avalon-parse.h"

#include "sample-ini.h"
#include <antmon/rpc.h>
#include <string.h>

/* One instance per [driver:avalon] group. No settings of its own yet. */
typedef struct {
  char *group;
} AmAvalon;

/* stats carries the "MM ID" strings with temperatures, fans, per-board
 * hashrate and power. devs is not asked: its one entry is the whole
 * controller, which summary already gives. */
static const char *const poll_commands[] = {"version", "summary", "pools", "stats", NULL};

static AmSample *
parse_replies(GHashTable *replies, GError **error)
{
  AmAvalonReplies r = {
      .version = am_driver_reply(replies, "version"),
      .summary = am_driver_reply(replies, "summary"),
      .pools = am_driver_reply(replies, "pools"),
      .stats = am_driver_reply(replies, "stats"),
  };
  AmSample *sample = am_avalon_parse(&r, error);
  /* Firmware drift: what was read stands, the sample says what is missing. */
  for (guint i = 0; sample != NULL && poll_commands[i] != NULL; i++) {
    if (am_driver_reply(replies, poll_commands[i]) == NULL)
      am_sample_mark_partial(sample, "no answer to '%s'", poll_commands[i]);
  }
  return sample;
}

static gpointer
avalon_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmAvalon *self = g_new0(AmAvalon, 1);
  self->group = g_strdup(group);
  return self;
}

static void
avalon_destroy(gpointer instance)
{
  AmAvalon *self = instance;
  g_free(self->group);
  g_free(self);
}

static AmMatch
avalon_match(gpointer self, const AmFingerprint *fp)
{
  return am_avalon_match(fp);
}

static void
avalon_poll_async(gpointer self, AmMiner *miner, GCancellable *cancellable,
                  GAsyncReadyCallback callback, gpointer user_data)
{
  am_driver_poll_async(miner, poll_commands, parse_replies, cancellable, callback, user_data);
}

static AmSample *
avalon_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  return am_driver_poll_finish(result, error);
}

/* ---- actions ------------------------------------------------------------ */

static AmActionSet
avalon_actions(gpointer self, AmMiner *miner, const AmSample *sample)
{
  return am_avalon_actions(sample);
}

typedef struct {
  AmActionKind kind;
  AmAvalonActionCall call;
  char *address;
} Act;

static void
act_free(Act *a)
{
  am_avalon_action_call_clear(&a->call);
  g_free(a->address);
  g_free(a);
}

/* Every message starts with the miner's address, as the poll's do. */
static GError *
with_address(Act *a, GError *error)
{
  if (error != NULL && !g_str_has_prefix(error->message, a->address))
    g_prefix_error(&error, "%s: ", a->address);
  return error;
}

static void
on_act_reply(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Act *a = g_task_get_task_data(task);
  GError *error = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, &raw, &error);
  if (reply == NULL) {
    /* Only NULs or nothing came: cgminer closed without an answer. */
    gsize len = raw != NULL ? g_bytes_get_size(raw) : 0;
    const char *data = raw != NULL ? g_bytes_get_data(raw, NULL) : NULL;
    gboolean empty = len == 0 || (data != NULL && data[0] == '\0');
    error = am_avalon_action_map_error(a->kind, a->address, empty, error);
    if (error == NULL)
      g_task_return_boolean(task, TRUE);
    else
      g_task_return_error(task, with_address(a, error));
    return;
  }
  if (!am_avalon_action_check(&a->call, am_rpc_reply_get_root(reply), &error)) {
    g_task_return_error(task, with_address(a, error));
    return;
  }
  g_task_return_boolean(task, TRUE);
}

static void
avalon_act_async(gpointer self, AmMiner *miner, const AmActionRequest *request,
                 GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, avalon_act_async);
  Act *a = g_new0(Act, 1);
  a->kind = request->kind;
  const char *host = am_miner_get_host(miner);
  guint16 port = am_miner_get_port(miner);
  a->address = strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                         : g_strdup_printf("%s:%u", host, port);
  g_task_set_task_data(task, a, (GDestroyNotify)act_free);
  GError *error = NULL;
  gint64 now_s = g_get_real_time() / G_USEC_PER_SEC;
  if (!am_avalon_action_build(request, now_s, &a->call, &error)) {
    g_task_return_error(task, with_address(a, error));
    g_object_unref(task);
    return;
  }
  /* No login: Canaan's cgminer checks only api-allow. */
  am_rpc_call_async(host, port, a->call.command, a->call.parameter, am_miner_get_timeout_ms(miner),
                    cancellable, on_act_reply, task);
}

static gboolean
avalon_act_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmDriverVTable avalon_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = avalon_match,
    .poll_async = avalon_poll_async,
    .poll_finish = avalon_poll_finish,
    .actions = avalon_actions,
    .act_async = avalon_act_async,
    .act_finish = avalon_act_finish,
};

AM_PLUGIN_DEFINE(.name = "avalon", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Canaan AvalonMiner over Canaan's cgminer API",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = avalon_create, .destroy = avalon_destroy,
                 .vtable.driver = &avalon_vtable)
