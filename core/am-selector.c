/* Driver selection: one fingerprint, every driver's opinion, then probes. */
#include "am-selector.h"
#include <antmon/error.h>
#include <antmon/json.h>
#include <antmon/rpc.h>

/* ---- one poll, finished the core's way -------------------------------- */

typedef struct {
  AmInstance *driver;
  AmMiner *miner;
} PollData;

static void
poll_data_free(PollData *d)
{
  am_miner_unref(d->miner);
  g_free(d);
}

static void
poll_finished(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  PollData *d = g_task_get_task_data(task);
  (void)source;
  g_autoptr(GError) error = NULL;
  AmSample *sample = d->driver->info->vtable.driver->poll_finish(d->driver->self, result, &error);
  if (sample == NULL) {
    if (error == NULL)
      g_set_error(&error, AM_ERROR, AM_ERROR_FAILED, "driver %s failed without saying why",
                  d->driver->info->name);
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  am_sample_set(sample, &sample->host, am_miner_get_host(d->miner));
  sample->port = am_miner_get_port(d->miner);
  am_sample_set(sample, &sample->driver, d->driver->info->name);
  sample->when_us = g_get_real_time(); /* miner clocks are wrong: ours counts */
  am_sample_finish(sample);
  g_task_return_pointer(task, sample, (GDestroyNotify)am_sample_unref);
}

void
am_driver_poll_async(AmInstance *driver, AmMiner *miner, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_driver_poll_async);
  PollData *d = g_new0(PollData, 1);
  d->driver = driver;
  d->miner = am_miner_ref(miner);
  g_task_set_task_data(task, d, (GDestroyNotify)poll_data_free);
  driver->info->vtable.driver->poll_async(driver->self, miner, cancellable, poll_finished, task);
}

AmSample *
am_driver_poll_finish(GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- ranking ----------------------------------------------------------- */

typedef struct {
  AmInstance *driver;
  AmMatch match;
} Ranked;

static gint
compare_ranked(gconstpointer a, gconstpointer b)
{
  const Ranked *x = a, *y = b;
  if (x->match != y->match)
    return x->match > y->match ? -1 : 1;
  if (x->driver->info->priority != y->driver->info->priority)
    return x->driver->info->priority > y->driver->info->priority ? -1 : 1;
  return g_strcmp0(x->driver->info->name, y->driver->info->name);
}

GPtrArray *
am_selector_rank(GPtrArray *drivers, const AmFingerprint *fp)
{
  g_autoptr(GArray) ranked = g_array_new(FALSE, FALSE, sizeof(Ranked));
  for (guint i = 0; i < drivers->len; i++) {
    AmInstance *driver = drivers->pdata[i];
    Ranked r = {driver, driver->info->vtable.driver->match(driver->self, fp)};
    if (r.match != AM_MATCH_UNSUPPORTED)
      g_array_append_val(ranked, r);
  }
  g_array_sort(ranked, compare_ranked);
  GPtrArray *out = g_ptr_array_new();
  for (guint i = 0; i < ranked->len; i++)
    g_ptr_array_add(out, g_array_index(ranked, Ranked, i).driver);
  return out;
}

/* ---- identification ---------------------------------------------------- */

typedef struct {
  AmMiner *miner;
  GPtrArray *drivers;   /* all driver instances */
  GPtrArray *candidates; /* ranked, being probed */
  guint next;
  GError *last_error;
  AmRpcReply *version; /* keeps the fingerprint's JSON alive */
} Identify;

static void
identify_free(Identify *id)
{
  am_miner_unref(id->miner);
  g_ptr_array_unref(id->drivers);
  if (id->candidates != NULL)
    g_ptr_array_unref(id->candidates);
  g_clear_error(&id->last_error);
  if (id->version != NULL)
    am_rpc_reply_unref(id->version);
  g_free(id);
}

static void probe_next(GTask *task);

static void
probe_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Identify *id = g_task_get_task_data(task);
  AmInstance *driver = id->candidates->pdata[id->next - 1];
  (void)source;
  GError *error = NULL;
  AmSample *sample = am_driver_poll_finish(result, &error);
  if (sample != NULL) {
    g_debug("%s: identified by driver %s", am_miner_get_address(id->miner), driver->info->name);
    g_object_set_data_full(G_OBJECT(task), "sample", sample, (GDestroyNotify)am_sample_unref);
    g_task_return_pointer(task, driver, NULL);
    g_object_unref(task);
    return;
  }
  g_debug("%s: driver %s did not fit: %s", am_miner_get_address(id->miner), driver->info->name,
          error->message);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  g_clear_error(&id->last_error);
  id->last_error = error;
  probe_next(task);
}

static void
probe_next(GTask *task)
{
  Identify *id = g_task_get_task_data(task);
  if (id->next >= id->candidates->len) {
    GError *error = id->last_error;
    id->last_error = NULL;
    if (error == NULL)
      error = g_error_new(AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: no installed driver recognises it",
                          am_miner_get_address(id->miner));
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  AmInstance *driver = id->candidates->pdata[id->next++];
  am_driver_poll_async(driver, id->miner, g_task_get_cancellable(task), probe_done, task);
}

static void
fill_fingerprint(AmFingerprint *fp, AmMiner *miner, AmRpcReply *version)
{
  *fp = (AmFingerprint){.struct_size = sizeof(AmFingerprint)};
  fp->host = am_miner_get_host(miner);
  fp->port = am_miner_get_port(miner);
  fp->rpc_open = TRUE;
  if (version == NULL)
    return;
  JsonObject *root = am_rpc_reply_get_root(version);
  fp->version_reply = root;
  fp->version = am_json_array_object(am_json_array(root, "VERSION"), 0);
  fp->description = am_json_string(am_json_array_object(am_json_array(root, "STATUS"), 0),
                                   "Description");
}

static gboolean
is_transport_error(const GError *error)
{
  return error->domain == AM_ERROR &&
         (error->code == AM_ERROR_TIMEOUT || error->code == AM_ERROR_REFUSED ||
          error->code == AM_ERROR_RESET || error->code == AM_ERROR_TOO_LARGE ||
          error->code == AM_ERROR_PARSE || error->code == AM_ERROR_FAILED);
}

static void
version_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Identify *id = g_task_get_task_data(task);
  (void)source;
  g_autoptr(GError) error = NULL;
  id->version = am_miner_rpc_finish(id->miner, result, &error);
  if (id->version == NULL && (is_transport_error(error) || g_error_matches(error, G_IO_ERROR,
                                                                             G_IO_ERROR_CANCELLED))) {
    /* Nothing usable answered: no driver can do better than this error. */
    g_task_return_error(task, g_steal_pointer(&error));
    g_object_unref(task);
    return;
  }
  /* An API error to "version" (access denied) still says an API is there. */
  AmFingerprint fp;
  fill_fingerprint(&fp, id->miner, id->version);
  id->candidates = am_selector_rank(id->drivers, &fp);
  probe_next(task);
}

void
am_selector_identify_async(GPtrArray *drivers, AmMiner *miner, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_selector_identify_async);
  Identify *id = g_new0(Identify, 1);
  id->miner = am_miner_ref(miner);
  id->drivers = g_ptr_array_ref(drivers);
  g_task_set_task_data(task, id, (GDestroyNotify)identify_free);

  const char *pin = am_miner_get_driver_pin(miner);
  if (pin != NULL) {
    id->candidates = g_ptr_array_new();
    for (guint i = 0; i < drivers->len; i++) {
      AmInstance *d = drivers->pdata[i];
      if (g_str_equal(d->info->name, pin))
        g_ptr_array_add(id->candidates, d);
    }
    if (id->candidates->len == 0) {
      g_task_return_new_error(task, AM_ERROR, AM_ERROR_UNSUPPORTED,
                              "%s: pinned driver '%s' is not installed",
                              am_miner_get_address(miner), pin);
      g_object_unref(task);
      return;
    }
    probe_next(task);
    return;
  }
  am_miner_rpc_async(miner, "version", NULL, cancellable, version_done, task);
}

AmInstance *
am_selector_identify_finish(GAsyncResult *result, AmSample **sample_out, GError **error)
{
  AmInstance *driver = g_task_propagate_pointer(G_TASK(result), error);
  if (driver != NULL && sample_out != NULL) {
    AmSample *sample = g_object_get_data(G_OBJECT(result), "sample");
    *sample_out = am_sample_ref(sample);
  }
  return driver;
}
