/* The store queue: samples and events go from the main loop to the store
 * plugin's one writer thread through a bounded queue, one transaction per
 * batch; history queries run on another thread. When the queue is full the
 * oldest samples are dropped and counted, never unbounded memory. */
#pragma once

#include "am-instances.h"

G_BEGIN_DECLS

typedef struct _AmStoreQueue AmStoreQueue;

/* @store: an instance of kind store (borrowed; outlives the queue).
 * @capacity: samples held at most; @flush_interval_ms: the longest a sample
 * waits before its batch is written. Starts the writer thread. */
AmStoreQueue *am_store_queue_new(AmInstance *store, guint capacity, guint64 flush_interval_ms);

/* Main loop side: never blocks. */
void am_store_queue_push_sample(AmStoreQueue *queue, AmSample *sample);
void am_store_queue_push_event(AmStoreQueue *queue, const AmEvent *event);

/* Blocks until everything pushed so far is written (or failed). */
void am_store_queue_flush(AmStoreQueue *queue);

/* Runs @query on a worker thread (AmStoreVTable.query). */
void am_store_queue_query_async(AmStoreQueue *queue, const char *query, GHashTable *params,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data);
JsonNode *am_store_queue_query_finish(AmStoreQueue *queue, GAsyncResult *result, GError **error);

/* {"depth":..,"capacity":..,"written":..,"dropped":..,"failed_batches":..,"last_error":..}
 * (transfer full) */
JsonNode *am_store_queue_stats_json(AmStoreQueue *queue);

/* Flushes, stops the writer thread and frees. */
void am_store_queue_free(AmStoreQueue *queue);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmStoreQueue, am_store_queue_free)

G_END_DECLS
