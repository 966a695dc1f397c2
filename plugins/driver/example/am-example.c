/* The example driver: the whole plugin contract for a made-up firmware,
 * "ExampleOS", which speaks the cgminer RPC API on TCP 4028. Copy this
 * folder to start a driver of your own; README.md ("Write a firmware
 * plugin") explains each part. It builds out of tree with
 *   cc -shared -fPIC -o driver-example.so am-example.c am-example-parse.c \
 *      $(pkg-config --cflags --libs antmon)
 * The file name must be driver-<name>.so for the .name below. */
#include "am-example-parse.h"

/* The plugin's sample.ini: one [driver:NAME] group, every key at its
 * default with a comment. `antmon sample-config example` prints it, and the
 * core uses its keys to warn about typos in antmon.ini. */
static const char sample_config[] =
    "# ExampleOS, a made-up firmware that shows how a driver is written.\n"
    "[driver:example]\n"
    "# Offer this driver when antmon chooses a driver for a miner.\n"
    "enabled=true\n"
    "# Fan headers on an ExampleOS board; fewer spinning makes a miner degraded.\n"
    "fans_expected=2\n";

/* One instance per [driver:example] group. No file-static state: every
 * setting lives here. */
typedef struct {
  AmExampleOptions options;
} AmExample;

static gpointer
example_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  guint fans = 2;
  /* @kf may lack the group: every key then takes its default. A bad value
   * fails create() with a message naming the group and the key. */
  if (kf != NULL && !am_config_get_uint(kf, group, "fans_expected", 2, 0, 16, &fans, error))
    return NULL;
  AmExample *self = g_new0(AmExample, 1);
  self->options.fans_expected = fans;
  return self;
}

static void
example_destroy(gpointer instance)
{
  g_free(instance);
}

/* Pure: decided from the fingerprint the core took once for all drivers. */
static AmMatch
example_match(gpointer self, const AmFingerprint *fp)
{
  return am_example_match(fp);
}

/* The commands of one poll; the core sends each on its own connection
 * under the miner's timeout, repairs the firmware's JSON and checks STATUS. */
static const char *const poll_commands[] = {"version", "summary", NULL};

/* The reply object to @command, or NULL when it was not answered. */
static JsonObject *
reply_for(GHashTable *replies, const char *command)
{
  AmRpcReply *reply = g_hash_table_lookup(replies, command);
  return reply != NULL ? am_rpc_reply_get_section(reply, command, NULL) : NULL;
}

/* What one poll carries: the miner, and the settings as they were when it
 * started (the instance may be destroyed while the poll is in flight). */
typedef struct {
  AmMiner *miner;
  AmExampleOptions options;
} Poll;

static void
poll_free(Poll *poll)
{
  am_miner_unref(poll->miner);
  g_free(poll);
}

static void
on_batch_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Poll *poll = g_task_get_task_data(task);
  AmMiner *miner = poll->miner;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) replies = am_miner_rpc_batch_finish(miner, result, &error);
  if (replies == NULL) {
    g_task_return_error(task, g_steal_pointer(&error)); /* refused, timeout, ... */
    return;
  }
  AmSample *sample = am_example_parse(reply_for(replies, "version"), reply_for(replies, "summary"),
                                      &poll->options, &error);
  if (sample == NULL) {
    g_prefix_error(&error, "%s: ", am_miner_get_address(miner));
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

/* Reads the miner once. Asynchronous like every network operation in
 * antmon; the core sets host, port, driver and time on the sample. */
static void
example_poll_async(gpointer instance, AmMiner *miner, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  AmExample *self = instance;
  Poll *poll = g_new0(Poll, 1);
  poll->miner = am_miner_ref(miner);
  poll->options = self->options;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_task_data(task, poll, (GDestroyNotify)poll_free);
  am_miner_rpc_batch_async(miner, poll_commands, cancellable, on_batch_done, task);
}

static AmSample *
example_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer(G_TASK(result), error);
}

static const AmDriverVTable example_vtable = {
    .struct_size = sizeof(AmDriverVTable),
    .match = example_match,
    .poll_async = example_poll_async,
    .poll_finish = example_poll_finish,
};

/* The one exported symbol, am_plugin_get_info(), with the ABI version this
 * file was compiled against filled in. */
AM_PLUGIN_DEFINE(.name = "example", .kind = AM_PLUGIN_KIND_DRIVER,
                 .description = "ExampleOS (a made-up firmware): the documented example driver",
                 .version = AM_VERSION_STRING, .priority = 0, .sample_config = sample_config,
                 .create = example_create, .destroy = example_destroy,
                 .vtable.driver = &example_vtable)
