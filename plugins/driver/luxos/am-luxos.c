/* The luxos driver: LuxOS (Luxor's LUXminer firmware) read and driven over
 * its cgminer-compatible API on TCP 4028. The normalizer is in
 * am-luxos-parse.c, the write commands are built in am-luxos-action.c and
 * sent in a session by am-luxos-act.c; this file wires them to the ABI. */
#include "../common/am-driver-poll.h"
#include "am-luxos-act.h"
#include "am-luxos-action.h"
#include "am-luxos-parse.h"
#include "sample-ini.h"

/* One instance per [driver:luxos] group. No settings of its own yet. */
typedef struct {
  char *group;
} AmLuxos;

/* fans, power, config, atm, temps, profiles and events are LuxOS's own
 * read commands (no session needed). voltageget needs a board parameter,
 * which the batch cannot send: chain voltages stay unknown in a poll. */
static const char *const poll_commands[] = {"version",  "summary", "pools", "stats", "fans",
                                            "power",    "config",  "atm",   "devs",  "temps",
                                            "profiles", "events",  NULL};

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
      .devs = am_driver_reply(replies, "devs"),
      .temps = am_driver_reply(replies, "temps"),
      .profiles = am_driver_reply(replies, "profiles"),
      .events = am_driver_reply(replies, "events"),
  };
  AmSample *sample = am_luxos_parse(&r, error);
  /* Firmware drift: what was read stands, the sample says what is missing
   * (atm is optional: older LuxOS builds lack it). */
  for (guint i = 0; sample != NULL && poll_commands[i] != NULL; i++) {
    if (g_strcmp0(poll_commands[i], "atm") != 0 &&
        am_driver_reply(replies, poll_commands[i]) == NULL)
      am_sample_mark_partial(sample, "no answer to '%s'", poll_commands[i]);
  }
  return sample;
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

/* ---- actions ------------------------------------------------------------ */

static AmActionSet
luxos_actions(gpointer self, AmMiner *miner, const AmSample *sample)
{
  return am_luxos_actions(sample);
}

static void
luxos_act_async(gpointer self, AmMiner *miner, const AmActionRequest *request,
                GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  am_luxos_act_async(miner, request, cancellable, callback, user_data);
}

static gboolean
luxos_act_finish(gpointer self, GAsyncResult *result, GError **error)
{
  return am_luxos_act_finish(result, error);
}

static const AmDriverVTable luxos_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = luxos_match,
    .poll_async = luxos_poll_async,
    .poll_finish = luxos_poll_finish,
    .actions = luxos_actions,
    .act_async = luxos_act_async,
    .act_finish = luxos_act_finish,
};

AM_PLUGIN_DEFINE(.name = "luxos", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description =
                     "LuxOS (LUXminer) over its cgminer-compatible API, reads and actions",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = luxos_create, .destroy = luxos_destroy, .vtable.driver = &luxos_vtable)
