/* Forwards the scheduler's hooks to the exporter plugins. Each call hands a
 * view of the miner as the API would show it, so an exporter needs no core
 * headers beyond the public ones. */
#include "am-exporters.h"
#include "am-context-private.h"

struct _AmExporters {
  AmScheduler *scheduler;
  GPtrArray *instances; /* AmInstance*, borrowed */
};

static const AmExporterVTable *
vtable_of(AmExporters *x, guint i)
{
  return ((AmInstance *)x->instances->pdata[i])->info->vtable.exporter;
}

static gpointer
self_of(AmExporters *x, guint i)
{
  return ((AmInstance *)x->instances->pdata[i])->self;
}

static void
on_miner(AmMinerEntry *entry, gboolean removed, gpointer user_data)
{
  AmExporters *x = user_data;
  AmMinerView view;
  am_context_fill_view(&view, x->scheduler, entry);
  for (guint i = 0; i < x->instances->len; i++) {
    const AmExporterVTable *vt = vtable_of(x, i);
    if (removed && vt->miner_removed != NULL)
      vt->miner_removed(self_of(x, i), view.address);
    else if (!removed && vt->miner_added != NULL)
      vt->miner_added(self_of(x, i), &view);
  }
}

static void
on_sample(AmMinerEntry *entry, AmSample *sample, gpointer user_data)
{
  AmExporters *x = user_data;
  AmMinerView view;
  am_context_fill_view(&view, x->scheduler, entry);
  view.sample = sample;
  for (guint i = 0; i < x->instances->len; i++)
    if (vtable_of(x, i)->sample != NULL)
      vtable_of(x, i)->sample(self_of(x, i), &view);
}

static void
on_state(AmMinerEntry *entry, AmMinerState old_state, gpointer user_data)
{
  AmExporters *x = user_data;
  AmMinerView view;
  am_context_fill_view(&view, x->scheduler, entry);
  for (guint i = 0; i < x->instances->len; i++)
    if (vtable_of(x, i)->state_changed != NULL)
      vtable_of(x, i)->state_changed(self_of(x, i), &view, am_miner_state_to_string(old_state));
}

AmExporters *
am_exporters_new(AmScheduler *scheduler, GPtrArray *instances)
{
  if (instances->len == 0)
    return NULL;
  AmExporters *x = g_new0(AmExporters, 1);
  x->scheduler = scheduler;
  x->instances = g_ptr_array_ref(instances);
  for (guint i = 0; i < instances->len; i++) {
    AmInstance *inst = instances->pdata[i];
    g_autoptr(GError) error = NULL;
    if (!inst->info->vtable.exporter->start(inst->self, &error))
      g_warning("[%s] exporter did not start: %s", inst->group, error->message);
  }
  am_scheduler_add_miner_hook(scheduler, on_miner, x);
  am_scheduler_add_sample_hook(scheduler, on_sample, x);
  am_scheduler_add_state_hook(scheduler, on_state, x);
  return x;
}

void
am_exporters_free(AmExporters *x)
{
  if (x == NULL)
    return;
  am_scheduler_remove_miner_hook(x->scheduler, on_miner, x);
  am_scheduler_remove_sample_hook(x->scheduler, on_sample, x);
  am_scheduler_remove_state_hook(x->scheduler, on_state, x);
  g_ptr_array_unref(x->instances);
  g_free(x);
}
