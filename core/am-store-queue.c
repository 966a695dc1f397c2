/* STUB: replaced by the store implementation (issue: storage). Until then
 * samples are not kept and queries report that no store is available. */
#include "am-store-queue.h"
#include <antmon/error.h>

struct _AmStoreQueue {
  AmInstance *store;
};

AmStoreQueue *
am_store_queue_new(AmInstance *store, guint capacity, guint64 flush_interval_ms)
{
  (void)capacity;
  (void)flush_interval_ms;
  AmStoreQueue *q = g_new0(AmStoreQueue, 1);
  q->store = store;
  return q;
}

void
am_store_queue_push_sample(AmStoreQueue *q, AmSample *sample)
{
  (void)q;
  (void)sample;
}

void
am_store_queue_push_event(AmStoreQueue *q, const AmEvent *event)
{
  (void)q;
  (void)event;
}

void
am_store_queue_flush(AmStoreQueue *q)
{
  (void)q;
}

void
am_store_queue_query_async(AmStoreQueue *q, const char *query, GHashTable *params,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  (void)params;
  g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
  (void)q;
  g_task_return_new_error(task, AM_ERROR, AM_ERROR_UNSUPPORTED, "query %s: no store", query);
}

JsonNode *
am_store_queue_query_finish(AmStoreQueue *q, GAsyncResult *result, GError **error)
{
  (void)q;
  return g_task_propagate_pointer(G_TASK(result), error);
}

JsonNode *
am_store_queue_stats_json(AmStoreQueue *q)
{
  (void)q;
  return json_node_init_object(json_node_alloc(), json_object_new());
}

void
am_store_queue_free(AmStoreQueue *q)
{
  g_free(q);
}
