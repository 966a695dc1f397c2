/* One source, many test plugins: compile-time switches make each variant
 * broken in one way (see meson.build). Only the test suite builds these. */
#include <antmon/antmon.h>

#ifndef TP_NAME
#error "TP_NAME must be defined"
#endif
#ifndef TP_KIND
#define TP_KIND AM_PLUGIN_KIND_DRIVER
#endif

typedef struct {
  char *group;
} TestPlugin;

static gpointer
tp_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  (void)ctx;
  (void)kf;
#if defined(TP_CREATE_FAILS)
  g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "the test plugin refuses to start");
  return NULL;
#elif defined(TP_CREATE_CONFIG_ERROR)
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] url is missing: expected url=http://...",
              group);
  return NULL;
#elif defined(TP_CREATE_SILENT)
  (void)error;
  return NULL; /* a buggy plugin: fails without saying why */
#else
  (void)error;
  TestPlugin *tp = g_new0(TestPlugin, 1);
  tp->group = g_strdup(group);
  return tp;
#endif
}

static void
tp_destroy(gpointer self)
{
  TestPlugin *tp = self;
  g_message("test plugin %s destroyed", tp->group);
  g_free(tp->group);
  g_free(tp);
}

static AmMatch
tp_match(gpointer self, const AmFingerprint *fp)
{
  (void)self;
  (void)fp;
  return AM_MATCH_MAYBE;
}

static void
tp_poll_async(gpointer self, AmMiner *miner, GCancellable *cancellable, GAsyncReadyCallback cb,
              gpointer user_data)
{
  (void)miner;
  g_autoptr(GTask) task = g_task_new(NULL, cancellable, cb, user_data);
  (void)self;
  g_task_return_new_error(task, AM_ERROR, AM_ERROR_UNSUPPORTED, "test plugin reads nothing");
}

static AmSample *
tp_poll_finish(gpointer self, GAsyncResult *result, GError **error)
{
  (void)self;
  return g_task_propagate_pointer(G_TASK(result), error);
}

static void
tp_deliver_async(gpointer self, const AmNotification *n, GCancellable *cancellable,
                 GAsyncReadyCallback cb, gpointer user_data)
{
  (void)self;
  (void)n;
  g_autoptr(GTask) task = g_task_new(NULL, cancellable, cb, user_data);
  g_task_return_boolean(task, TRUE);
}

static gboolean
tp_deliver_finish(gpointer self, GAsyncResult *result, GError **error)
{
  (void)self;
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmDriverVTable driver_vtable = {
  .struct_size = sizeof(AmDriverVTable),
  .match = tp_match,
  .poll_async = tp_poll_async,
  .poll_finish = tp_poll_finish,
};

static const AmSinkVTable sink_vtable = {
  .struct_size = sizeof(AmSinkVTable),
  .deliver_async = tp_deliver_async,
  .deliver_finish = tp_deliver_finish,
};

/* The "missing symbol" variant exports its descriptor under another name. */
#ifdef TP_NO_SYMBOL
#define TP_INFO_FUNC am_plugin_info_misspelt
#else
#define TP_INFO_FUNC am_plugin_get_info
#endif

G_MODULE_EXPORT const AmPluginInfo *TP_INFO_FUNC(void);

const AmPluginInfo *
TP_INFO_FUNC(void)
{
  static const AmPluginInfo info = {
#ifdef TP_ABI_MAJOR
    .abi_major = TP_ABI_MAJOR,
#else
    .abi_major = AM_ABI_MAJOR,
#endif
#ifdef TP_ABI_MINOR
    .abi_minor = TP_ABI_MINOR,
#else
    .abi_minor = AM_ABI_MINOR,
#endif
#ifdef TP_STRUCT_SIZE
    .struct_size = TP_STRUCT_SIZE,
#else
    .struct_size = sizeof(AmPluginInfo),
#endif
    .name = TP_NAME,
    .kind = TP_KIND,
    .description = "test plugin",
    .version = "0.0.1",
    .sample_config = "[" TP_GROUP "]\n# a test key\nlevel=1\n",
    .create = tp_create,
    .destroy = tp_destroy,
    .vtable.any = TP_KIND == AM_PLUGIN_KIND_SINK ? (gconstpointer)&sink_vtable
                                                 : (gconstpointer)&driver_vtable,
  };
  return &info;
}
