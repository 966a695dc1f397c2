/* The generic driver: any cgminer-compatible API on TCP 4028, read as far
 * as the API itself defines. The core asks it last (priority G_MININT),
 * when no firmware driver fits. The normalizer is in am-generic-parse.c;
 * this file only wires it to the plugin ABI. */
#include "../common/am-driver-poll.h"
#include "am-generic-parse.h"
#include "sample-ini.h"

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

static const AmDriverVTable generic_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = generic_match,
    .poll_async = generic_poll_async,
    .poll_finish = generic_poll_finish,
};

AM_PLUGIN_DEFINE(
        .name = "generic", .kind = AM_PLUGIN_KIND_DRIVER,
        .description = "Any cgminer-compatible API, read as far as the API defines (last resort)",
        .version = AM_VERSION_STRING, .priority = G_MININT, .sample_config = sample_ini,
        .create = generic_create, .destroy = generic_destroy, .vtable.driver = &generic_vtable)
