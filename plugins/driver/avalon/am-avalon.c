/* The avalon driver: Canaan AvalonMiner, read over Canaan's cgminer API on
 * TCP 4028. The normalizer (with the "MM ID" string reader) is in
 * am-avalon-parse.c; this file only wires it to the plugin ABI. */
#include "../common/am-driver-poll.h"
#include "am-avalon-parse.h"
#include "sample-ini.h"

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

static const AmDriverVTable avalon_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = avalon_match,
    .poll_async = avalon_poll_async,
    .poll_finish = avalon_poll_finish,
};

AM_PLUGIN_DEFINE(.name = "avalon", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Canaan AvalonMiner over Canaan's cgminer API",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = avalon_create, .destroy = avalon_destroy,
                 .vtable.driver = &avalon_vtable)
