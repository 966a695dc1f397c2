/* The braiins driver: Braiins OS / OS+ (BOSminer, BOSminer+, BOSer) read
 * over the cgminer-compatible API on TCP 4028. The normalizer is in
 * am-braiins-parse.c; this file only wires it to the plugin ABI. */
#include "../common/am-driver-poll.h"
#include "am-braiins-parse.h"
#include "sample-ini.h"

/* One instance per [driver:braiins] group. The driver keeps no settings of
 * its own yet; the group is remembered for messages. */
typedef struct {
  char *group;
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

static gpointer
braiins_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmBraiins *self = g_new0(AmBraiins, 1);
  self->group = g_strdup(group);
  return self;
}

static void
braiins_destroy(gpointer instance)
{
  AmBraiins *self = instance;
  g_free(self->group);
  g_free(self);
}

static AmMatch
braiins_match(gpointer self, const AmFingerprint *fp)
{
  return am_braiins_match(fp);
}

static void
braiins_poll_async(gpointer self, AmMiner *miner, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  am_driver_poll_async(miner, poll_commands, parse_replies, cancellable, callback, user_data);
}

static AmSample *
braiins_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  return am_driver_poll_finish(result, error);
}

static const AmDriverVTable braiins_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = braiins_match,
    .poll_async = braiins_poll_async,
    .poll_finish = braiins_poll_finish,
};

AM_PLUGIN_DEFINE(
        .name = "braiins", .kind = AM_PLUGIN_KIND_DRIVER,
        .description = "Braiins OS / OS+ (BOSminer, BOSminer+, BOSer) over the cgminer API",
        .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
        .create = braiins_create, .destroy = braiins_destroy, .vtable.driver = &braiins_vtable)
