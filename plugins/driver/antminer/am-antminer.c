/* The antminer driver plugin: Bitmain stock firmware (bmminer and cgminer
 * based) and its Hiveon and VNish variants, read over the cgminer RPC API.
 *
 * The module only does I/O: "version", "stats", "pools" and "summary" one
 * after another (one connection each, as cgminer wants) through the shared
 * poll glue, then the pure normalizer in am-antminer-parse.c. */
#include "../common/am-driver-poll.h"
#include "am-antminer-parse.h"
#include "am-antminer-private.h"
#include "am-antminer-vnish.h"
#include "sample-ini.h"

#include <antmon/antmon.h>

#include <math.h>

/* Only "stats" is required; the others fill identity, pools and counters
 * and may be refused (the glue leaves API errors out). */
static const char *const poll_commands[] = {"version", "stats", "pools", "summary", NULL};

static gpointer
antminer_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  gboolean estimate_power = TRUE;
  if (kf != NULL && !am_config_get_bool(kf, group, "estimate_power", TRUE, &estimate_power, error))
    return NULL;
  AmAntminer *self = g_new0(AmAntminer, 1);
  self->options.estimate_power = estimate_power;
  /* VNish's web API, for the actions cgminer's cannot do. No user name. */
  if (!am_web_settings_read(kf, group, "web_port", AM_ANTMINER_VNISH_DEFAULT_PORT, NULL,
                            AM_ANTMINER_VNISH_DEFAULT_PASSWORD, &self->web, error)) {
    g_free(self);
    return NULL;
  }
  return self;
}

static void
antminer_destroy(gpointer instance)
{
  AmAntminer *self = instance;
  am_web_settings_clear(&self->web);
  g_free(self);
}

static AmMatch
antminer_match(gpointer self, const AmFingerprint *fp)
{
  return am_antminer_match(fp);
}

/* The glue's parser takes no instance: it parses with the defaults
 * (estimate_power on), and the finish below drops an estimate the options
 * refuse. */
static AmSample *
parse_replies(GHashTable *replies, GError **error)
{
  return am_antminer_parse(am_driver_reply(replies, "version"), am_driver_reply(replies, "stats"),
                           am_driver_reply(replies, "pools"), am_driver_reply(replies, "summary"),
                           NULL, error);
}

/* One command at a time through the shared glue: a reply that fails to
 * arrive or parse leaves the others standing, and the sample says which
 * was lost (am_sample_mark_partial); only "stats" is required. */
static void
antminer_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  (void)instance;
  am_driver_poll_async(miner, poll_commands, parse_replies, cancellable, callback, user_data);
}

static AmSample *
antminer_poll_finish(gpointer instance, GAsyncResult *result, GError **error)
{
  const AmAntminer *self = instance;
  AmSample *sample = am_driver_poll_finish(result, error);
  if (sample != NULL && !self->options.estimate_power &&
      sample->power_source == AM_POWER_SOURCE_ESTIMATED) {
    sample->power_w = NAN;
    sample->power_source = AM_POWER_SOURCE_UNKNOWN;
  }
  return sample;
}

static const AmDriverVTable antminer_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = antminer_match,
    .poll_async = antminer_poll_async,
    .poll_finish = antminer_poll_finish,
    .actions = am_antminer_vtable_actions,
    .act_async = am_antminer_act_async,
    .act_finish = am_antminer_act_finish,
};

AM_PLUGIN_DEFINE(.name = "antminer", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "Bitmain Antminer: stock bmminer/cgminer firmware, Hiveon, VNish",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_ini,
                 .create = antminer_create, .destroy = antminer_destroy,
                 .vtable.driver = &antminer_vtable)
