/* The luxos driver: LuxOS (Luxor's LUXminer firmware) read over its
 * cgminer-compatible API on TCP 4028. The normalizer is in am-luxos-parse.c;
 * this file only wires it to the plugin ABI. */
#include "../common/am-driver-poll.h"
#include "am-luxos-parse.h"
#include "sample-ini.h"

/* One instance per [driver:luxos] group. No settings of its own yet. */
typedef struct {
  char *group;
} AmLuxos;

/* fans, power, config and atm are LuxOS's own read commands (no session
 * needed); one that is not answered is simply left out. */
static const char *const poll_commands[] = {"version", "summary", "pools", "stats", "fans",
                                            "power",   "config",  "atm",   NULL};

static AmSample *
parse_replies(GHashTable *replies, GError **error)
{
  AmLuxosReplies r = {
      .version = am_driver_reply(replies, "version"),
      .summary = am_driver_reply(replies, "summary"),
      .pools = am_driver_reply(replies, "pools"),
      .stats = am_driver_reply(replies, "stats"),
      .fans = am_driver_reply(replies, "fans"),
      .power = am_driver_reply(replies, "power"),
      .config = am_driver_reply(replies, "config"),
      .atm = am_driver_reply(replies, "atm"),
  };
  return am_luxos_parse(&r, error);
}

static gpointer
luxos_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmLuxos *self = g_new0(AmLuxos, 1);
  self->group = g_strdup(group);
  return self;
}

static void
luxos_destroy(gpointer instance)
{
  AmLuxos *self = instance;
  g_free(self->group);
  g_free(self);
}

static AmMatch
luxos_match(gpointer self, const AmFingerprint *fp)
{
  return am_luxos_match(fp);
}

static void
luxos_poll_async(gpointer self, AmMiner *miner, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  am_driver_poll_async(miner, poll_commands, parse_replies, cancellable, callback, user_data);
}

static AmSample *
luxos_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  return am_driver_poll_finish(result, error);
}

static const AmDriverVTable luxos_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = luxos_match,
    .poll_async = luxos_poll_async,
    .poll_finish = luxos_poll_finish,
};

AM_PLUGIN_DEFINE(.name = "luxos", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "LuxOS (LUXminer) over its cgminer-compatible API",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = luxos_create, .destroy = luxos_destroy, .vtable.driver = &luxos_vtable)
