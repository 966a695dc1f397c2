/* The generic driver: any cgminer-compatible API on TCP 4028, read as far
 * as the API itself defines. The core asks it last (priority G_MININT),
 * when no firmware driver fits. The normalizer is in am-generic-parse.c;
 * this file only wires it to the plugin ABI. */
#include "../common/am-driver-poll.h"
#include "am-generic-action.h"
#include "am-generic-parse.h"

#include "sample-ini.h"
#include <antmon/rpc.h>
#include <string.h>

/* One instance per [driver:generic] group. No settings of its own yet. */
typedef struct {
  char *group;
} AmGeneric;

/* The API's own read commands; one that is not answered is left out. */
static const char *const poll_commands[] = {"version", "summary", "pools", "devs", "stats", NULL};

static AmSample *
parse_replies(GHashTable *replies, GError **error)
{
  AmGenericReplies r = {
      .version = am_driver_reply(replies, "version"),
      .summary = am_driver_reply(replies, "summary"),
      .pools = am_driver_reply(replies, "pools"),
      .devs = am_driver_reply(replies, "devs"),
      .stats = am_driver_reply(replies, "stats"),
  };
  return am_generic_parse(&r, error);
}

static gpointer
generic_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmGeneric *self = g_new0(AmGeneric, 1);
  self->group = g_strdup(group);
  return self;
}

static void
generic_destroy(gpointer instance)
{
  AmGeneric *self = instance;
  g_free(self->group);
  g_free(self);
}

static AmMatch
generic_match(gpointer self, const AmFingerprint *fp)
{
  return am_generic_match(fp);
}

static void
generic_poll_async(gpointer self, AmMiner *miner, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  am_driver_poll_async(miner, poll_commands, parse_replies, cancellable, callback, user_data);
}

static AmSample *
generic_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  return am_driver_poll_finish(result, error);
}

/* ---- actions ------------------------------------------------------------ */

static AmActionSet
generic_actions(gpointer self, AmMiner *miner, const AmSample *sample)
{
  return am_generic_actions(sample);
}

static char *
rpc_address(AmMiner *miner)
{
  const char *host = am_miner_get_host(miner);
  guint16 port = am_miner_get_port(miner);
  return strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                   : g_strdup_printf("%s:%u", host, port);
}

static void
on_restart(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(AmRpcReply) reply = am_rpc_call_finish(result, &raw, &error);
  if (reply == NULL)
    error = am_generic_action_map_error(g_task_get_task_data(task), raw, error);
  if (error != NULL)
    g_task_return_error(task, error);
  else
    g_task_return_boolean(task, TRUE);
}

static void
generic_act_async(gpointer self, AmMiner *miner, const AmActionRequest *request,
                  GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, generic_act_async);
  char *address = rpc_address(miner);
  g_task_set_task_data(task, address, g_free);
  GError *error = NULL;
  const char *command = am_generic_action_command(request->kind, &error);
  if (command == NULL) {
    g_prefix_error(&error, "%s: ", address);
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  /* cgminer has no login; api-allow decides. */
  am_rpc_call_async(am_miner_get_host(miner), am_miner_get_port(miner), command, NULL,
                    am_miner_get_timeout_ms(miner), cancellable, on_restart, task);
}

static gboolean
generic_act_finish(gpointer self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmDriverVTable generic_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = generic_match,
    .poll_async = generic_poll_async,
    .poll_finish = generic_poll_finish,
    .actions = generic_actions,
    .act_async = generic_act_async,
    .act_finish = generic_act_finish,
};

AM_PLUGIN_DEFINE(
        .name = "generic", .kind = AM_PLUGIN_KIND_DRIVER,
        .description = "Any cgminer-compatible API, read as far as the API defines (last resort)",
        .version = AM_VERSION_STRING, .priority = G_MININT, .sample_config = sample_ini,
        .create = generic_create, .destroy = generic_destroy, .vtable.driver = &generic_vtable)
