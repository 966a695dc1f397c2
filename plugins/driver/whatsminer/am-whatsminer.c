/* The whatsminer driver: MicroBT Whatsminer (btminer) read over its
 * read-only cgminer-style API on TCP 4028. No privileged (encrypted)
 * command is used. The normalizer is in am-whatsminer-parse.c; this file
 * only wires it to the plugin ABI. */
#include "../common/am-driver-poll.h"
#include "am-whatsminer-parse.h"
#include "sample-ini.h"

/* One instance per [driver:whatsminer] group. No settings of its own yet. */
typedef struct {
  char *group;
} AmWhatsminer;

/* status is btminer's own (mineroff, firmware version); devs and devdetails
 * give per-board detail and the model where the firmware answers them. */
static const char *const poll_commands[] = {"version", "summary",    "pools", "status",
                                            "devs",    "devdetails", NULL};

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
  };
  return am_whatsminer_parse(&r, error);
}

static gpointer
whatsminer_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmWhatsminer *self = g_new0(AmWhatsminer, 1);
  self->group = g_strdup(group);
  return self;
}

static void
whatsminer_destroy(gpointer instance)
{
  AmWhatsminer *self = instance;
  g_free(self->group);
  g_free(self);
}

static AmMatch
whatsminer_match(gpointer self, const AmFingerprint *fp)
{
  return am_whatsminer_match(fp);
}

static void
whatsminer_poll_async(gpointer self, AmMiner *miner, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
  am_driver_poll_async(miner, poll_commands, parse_replies, cancellable, callback, user_data);
}

static AmSample *
whatsminer_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  return am_driver_poll_finish(result, error);
}

static const AmDriverVTable whatsminer_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = whatsminer_match,
    .poll_async = whatsminer_poll_async,
    .poll_finish = whatsminer_poll_finish,
};

AM_PLUGIN_DEFINE(.name = "whatsminer", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "MicroBT Whatsminer (btminer) over its read-only API",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = whatsminer_create, .destroy = whatsminer_destroy,
                 .vtable.driver = &whatsminer_vtable)
