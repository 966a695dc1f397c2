/* The store queue: the main loop pushes, one writer thread drains.
 *
 * Samples and events wait in two bounded FIFOs. The writer takes the oldest
 * items as one batch (one store transaction) when the oldest has waited
 * flush_interval, when a full batch is ready, or when someone flushes. While
 * a batch is being written its items are "in flight"; if the write fails
 * they go back to the head of their FIFO, to be retried after a backoff
 * that grows to a minute (never a busy loop), and a full queue drops the
 * oldest waiting items first, so failed batches are the first to go when
 * memory runs out.
 *
 * Queries do not touch the queue: each runs in a GTask worker thread on the
 * store's read-only connection, one at a time (the plugin ABI promises a
 * plugin that the core serialises calls into it). */
#include "am-store-queue.h"
#include <antmon/error.h>
#include <string.h>

#define RETRY_MIN_US (1 * G_USEC_PER_SEC)
#define RETRY_MAX_US (60 * G_USEC_PER_SEC)
/* Events are rare next to samples; a bound still keeps memory in check. */
#define EVENT_CAPACITY 10000
/* After the first failure, the same error is logged again at most this often. */
#define LOG_REPEAT_US (60 * G_USEC_PER_SEC)

/* An event owns copies of its strings. */
typedef struct {
  AmEvent event;
  char *strings[4];
} QueuedEvent;

typedef struct {
  GQueue waiting;    /* oldest first */
  GPtrArray *flight; /* taken by the writer, being written now */
  guint capacity;
  guint64 written;
  guint64 dropped;
  GDestroyNotify free_item;
} Lane;

struct _AmStoreQueue {
  AmInstance *store;
  guint max_batch;
  gint64 flush_us;

  GMutex lock;
  GCond wake; /* the writer waits on it */
  GCond done; /* flushers and free() wait on it */
  Lane samples;
  Lane events;
  gint64 first_wait_us; /* monotonic arrival of the oldest waiting item; 0 none */
  gint64 retry_at_us;   /* no write before this after a failure; 0 none */
  gint64 backoff_us;
  guint64 flush_asked;  /* generation of the latest flush request */
  guint64 flush_served; /* generation the writer has answered */
  gboolean stopping;
  guint64 failed_batches;
  char *last_error;
  gint64 last_logged_us;
  GThread *thread;

  GMutex query_lock; /* one query at a time into the plugin */
  guint queries;     /* running; free() waits for them */
};

static void
queued_event_free(gpointer data)
{
  QueuedEvent *qe = data;
  for (gsize i = 0; i < G_N_ELEMENTS(qe->strings); i++)
    g_free(qe->strings[i]);
  g_free(qe);
}

static void
lane_init(Lane *lane, guint capacity, GDestroyNotify free_item)
{
  g_queue_init(&lane->waiting);
  lane->flight = g_ptr_array_new();
  lane->capacity = capacity;
  lane->free_item = free_item;
}

static void
lane_free_flight(Lane *lane)
{
  for (guint i = 0; i < lane->flight->len; i++)
    lane->free_item(lane->flight->pdata[i]);
  g_ptr_array_set_size(lane->flight, 0);
}

static void
lane_clear(Lane *lane)
{
  g_queue_clear_full(&lane->waiting, lane->free_item);
  lane_free_flight(lane);
  g_ptr_array_unref(lane->flight);
}

static guint
lane_depth(const Lane *lane)
{
  return lane->waiting.length + lane->flight->len;
}

/* Adds @item, dropping the oldest waiting item when full. Items in flight
 * cannot be dropped; if they fill the lane, @item itself is dropped. */
static void
lane_push(Lane *lane, gpointer item)
{
  if (lane_depth(lane) >= lane->capacity) {
    lane->dropped++;
    if (lane->waiting.length == 0) {
      lane->free_item(item);
      return;
    }
    lane->free_item(g_queue_pop_head(&lane->waiting));
  }
  g_queue_push_tail(&lane->waiting, item);
}

/* Moves up to @max waiting items into flight; returns how many. */
static guint
lane_take(Lane *lane, guint max)
{
  while (lane->flight->len < max && lane->waiting.length > 0)
    g_ptr_array_add(lane->flight, g_queue_pop_head(&lane->waiting));
  return lane->flight->len;
}

static void
lane_written(Lane *lane)
{
  lane->written += lane->flight->len;
  lane_free_flight(lane);
}

/* A failed batch goes back to the head, in order, to be retried first. */
static void
lane_return(Lane *lane)
{
  for (guint i = lane->flight->len; i > 0; i--)
    g_queue_push_head(&lane->waiting, lane->flight->pdata[i - 1]);
  g_ptr_array_set_size(lane->flight, 0);
}

/* ---- the writer thread ------------------------------------------------- */

static gboolean
has_waiting(AmStoreQueue *q)
{
  return q->samples.waiting.length > 0 || q->events.waiting.length > 0;
}

/* When the writer should write next (monotonic), given what waits. */
static gint64
next_write_at(AmStoreQueue *q)
{
  gboolean urgent = q->stopping || q->flush_asked > q->flush_served;
  if (urgent)
    return 0;
  gint64 at = q->first_wait_us + q->flush_us;
  if (q->samples.waiting.length >= q->max_batch)
    at = 0;
  return MAX(at, q->retry_at_us);
}

static void
log_failure(AmStoreQueue *q, const GError *error, guint n_samples, guint n_events)
{
  gint64 now = g_get_monotonic_time();
  gboolean repeat = g_strcmp0(q->last_error, error->message) == 0;
  if (repeat && now - q->last_logged_us < LOG_REPEAT_US)
    return;
  q->last_logged_us = now;
  g_warning("[%s] writing %u samples and %u events failed: %s; kept for retry in %.0f s "
            "(%u samples waiting)",
            q->store->group, n_samples, n_events, error->message, q->backoff_us / 1e6,
            lane_depth(&q->samples));
}

static void
after_write(AmStoreQueue *q, gboolean ok, const GError *error)
{
  guint n_samples = q->samples.flight->len, n_events = q->events.flight->len;
  if (ok) {
    if (q->retry_at_us != 0)
      g_message("[%s] writing works again (%u samples written)", q->store->group, n_samples);
    lane_written(&q->samples);
    lane_written(&q->events);
    q->retry_at_us = 0;
    q->backoff_us = 0;
    g_clear_pointer(&q->last_error, g_free);
  } else {
    lane_return(&q->samples);
    lane_return(&q->events);
    q->failed_batches++;
    q->backoff_us = CLAMP(q->backoff_us * 2, MAX(RETRY_MIN_US, q->flush_us), RETRY_MAX_US);
    q->retry_at_us = g_get_monotonic_time() + q->backoff_us;
    log_failure(q, error, n_samples, n_events);
    g_free(q->last_error);
    q->last_error = g_strdup(error->message);
  }
  /* What arrived during the write starts its own wait now. */
  q->first_wait_us = has_waiting(q) ? g_get_monotonic_time() : 0;
}

/* Takes a batch, writes it without the lock held, and records the outcome.
 * Returns FALSE when the write failed. Called with the lock held. */
static gboolean
write_one_batch(AmStoreQueue *q)
{
  lane_take(&q->samples, q->max_batch);
  lane_take(&q->events, q->max_batch);
  g_autoptr(GPtrArray) events = g_ptr_array_sized_new(q->events.flight->len);
  for (guint i = 0; i < q->events.flight->len; i++)
    g_ptr_array_add(events, &((QueuedEvent *)q->events.flight->pdata[i])->event);
  g_mutex_unlock(&q->lock);

  g_autoptr(GError) error = NULL;
  const AmStoreVTable *vt = q->store->info->vtable.store;
  gboolean ok = vt->write_batch(q->store->self, (AmSample *const *)q->samples.flight->pdata,
                                q->samples.flight->len, (const AmEvent *const *)events->pdata,
                                events->len, &error);
  if (!ok && error == NULL)
    g_set_error_literal(&error, AM_ERROR, AM_ERROR_FAILED, "the store gave no reason");

  g_mutex_lock(&q->lock);
  after_write(q, ok, error);
  return ok;
}

/* Answers flushers once nothing waits or a write failed. */
static void
serve_flush(AmStoreQueue *q, gboolean failed)
{
  if (q->flush_asked > q->flush_served && (failed || !has_waiting(q))) {
    q->flush_served = q->flush_asked;
    g_cond_broadcast(&q->done);
  }
}

static gpointer
writer_main(gpointer data)
{
  AmStoreQueue *q = data;
  g_mutex_lock(&q->lock);
  for (;;) {
    serve_flush(q, FALSE);
    if (!has_waiting(q)) {
      if (q->stopping)
        break;
      g_cond_wait(&q->wake, &q->lock);
      continue;
    }
    gint64 at = next_write_at(q);
    if (at > g_get_monotonic_time()) {
      g_cond_wait_until(&q->wake, &q->lock, at);
      continue;
    }
    gboolean stopping = q->stopping;
    gboolean ok = write_one_batch(q);
    serve_flush(q, !ok);
    /* At shutdown a failed batch gets no second try: free() reports it. */
    if (!ok && stopping)
      break;
  }
  g_cond_broadcast(&q->done);
  g_mutex_unlock(&q->lock);
  return NULL;
}

/* ---- the main loop's side ---------------------------------------------- */

AmStoreQueue *
am_store_queue_new(AmInstance *store, guint capacity, guint64 flush_interval_ms)
{
  AmStoreQueue *q = g_new0(AmStoreQueue, 1);
  q->store = store;
  capacity = MAX(capacity, 1);
  /* Half the queue at most, so a batch in flight leaves room to push. */
  q->max_batch = CLAMP(capacity / 2, 1, 50000);
  q->flush_us = (gint64)flush_interval_ms * 1000;
  g_mutex_init(&q->lock);
  g_cond_init(&q->wake);
  g_cond_init(&q->done);
  g_mutex_init(&q->query_lock);
  lane_init(&q->samples, capacity, (GDestroyNotify)am_sample_unref);
  lane_init(&q->events, EVENT_CAPACITY, queued_event_free);
  q->thread = g_thread_new("antmon-store", writer_main, q);
  return q;
}

static void
note_arrival(AmStoreQueue *q)
{
  if (q->first_wait_us == 0)
    q->first_wait_us = g_get_monotonic_time();
  g_cond_signal(&q->wake);
}

void
am_store_queue_push_sample(AmStoreQueue *q, AmSample *sample)
{
  g_mutex_lock(&q->lock);
  lane_push(&q->samples, am_sample_ref(sample));
  note_arrival(q);
  g_mutex_unlock(&q->lock);
}

void
am_store_queue_push_event(AmStoreQueue *q, const AmEvent *event)
{
  QueuedEvent *qe = g_new0(QueuedEvent, 1);
  qe->event = *event;
  qe->event.struct_size = sizeof(AmEvent);
  const char **fields[] = {&qe->event.miner_host, &qe->event.kind, &qe->event.name,
                           &qe->event.detail};
  for (gsize i = 0; i < G_N_ELEMENTS(fields); i++)
    *fields[i] = qe->strings[i] = g_strdup(*fields[i]);
  g_mutex_lock(&q->lock);
  lane_push(&q->events, qe);
  note_arrival(q);
  g_mutex_unlock(&q->lock);
}

void
am_store_queue_flush(AmStoreQueue *q)
{
  g_mutex_lock(&q->lock);
  guint64 generation = ++q->flush_asked;
  g_cond_signal(&q->wake);
  while (q->flush_served < generation && q->thread != NULL)
    g_cond_wait(&q->done, &q->lock);
  g_mutex_unlock(&q->lock);
}

JsonNode *
am_store_queue_stats_json(AmStoreQueue *q)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_mutex_lock(&q->lock);
  json_builder_begin_object(b);
  const struct {
    const char *name;
    guint64 value;
  } counters[] = {
      {"depth", lane_depth(&q->samples)},    {"capacity", q->samples.capacity},
      {"written", q->samples.written},       {"dropped", q->samples.dropped},
      {"failed_batches", q->failed_batches}, {"events_depth", lane_depth(&q->events)},
      {"events_written", q->events.written}, {"events_dropped", q->events.dropped},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(counters); i++) {
    json_builder_set_member_name(b, counters[i].name);
    json_builder_add_int_value(b, (gint64)counters[i].value);
  }
  json_builder_set_member_name(b, "last_error");
  if (q->last_error != NULL)
    json_builder_add_string_value(b, q->last_error);
  else
    json_builder_add_null_value(b);
  g_mutex_unlock(&q->lock);
  /* The store's own figures (caches, file sizes), where it reports them. */
  const AmStoreVTable *vt = q->store->info->vtable.store;
  JsonNode *engine = NULL;
  if (vt->struct_size >= G_STRUCT_OFFSET(AmStoreVTable, reserved) && vt->stats_json != NULL)
    engine = vt->stats_json(q->store->self);
  json_builder_set_member_name(b, "engine");
  if (engine != NULL)
    json_builder_add_value(b, engine);
  else
    json_builder_add_null_value(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- queries ----------------------------------------------------------- */

typedef struct {
  AmStoreQueue *queue;
  char *query;
  GHashTable *params;
} QueryData;

static void
query_data_free(QueryData *data)
{
  g_free(data->query);
  g_hash_table_unref(data->params);
  g_free(data);
}

/* The caller may change or free its table once we return: copy it. */
static GHashTable *
copy_params(GHashTable *params)
{
  GHashTable *copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer key, value;
  if (params != NULL) {
    g_hash_table_iter_init(&iter, params);
    while (g_hash_table_iter_next(&iter, &key, &value))
      g_hash_table_insert(copy, g_strdup(key), g_strdup(value));
  }
  return copy;
}

static void
query_done(AmStoreQueue *q)
{
  g_mutex_lock(&q->lock);
  q->queries--;
  g_cond_broadcast(&q->done);
  g_mutex_unlock(&q->lock);
}

static void
query_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  QueryData *data = task_data;
  AmStoreQueue *q = data->queue;
  GError *error = NULL;
  JsonNode *result = NULL;
  if (!g_cancellable_set_error_if_cancelled(cancellable, &error)) {
    const AmStoreVTable *vt = q->store->info->vtable.store;
    g_mutex_lock(&q->query_lock);
    result = vt->query(q->store->self, data->query, data->params, &error);
    g_mutex_unlock(&q->query_lock);
    if (result == NULL && error == NULL)
      g_set_error(&error, AM_ERROR, AM_ERROR_FAILED, "query %s: the store gave no reason",
                  data->query);
  }
  query_done(q);
  if (result != NULL)
    g_task_return_pointer(task, result, (GDestroyNotify)json_node_unref);
  else
    g_task_return_error(task, error);
}

void
am_store_queue_query_async(AmStoreQueue *q, const char *query, GHashTable *params,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, am_store_queue_query_async);
  QueryData *data = g_new0(QueryData, 1);
  data->queue = q;
  data->query = g_strdup(query);
  data->params = copy_params(params);
  g_task_set_task_data(task, data, (GDestroyNotify)query_data_free);
  g_mutex_lock(&q->lock);
  gboolean closing = q->stopping;
  if (!closing)
    q->queries++;
  g_mutex_unlock(&q->lock);
  if (closing) {
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_UNSUPPORTED, "the store is shutting down");
    return;
  }
  g_task_run_in_thread(task, query_thread);
}

JsonNode *
am_store_queue_query_finish(AmStoreQueue *q, GAsyncResult *result, GError **error)
{
  (void)q;
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- shutdown ---------------------------------------------------------- */

static void
report_unwritten(AmStoreQueue *q)
{
  guint samples = lane_depth(&q->samples), events = lane_depth(&q->events);
  if (samples > 0 || events > 0)
    g_warning("[%s] %u samples and %u events could not be written before exit: %s", q->store->group,
              samples, events, q->last_error != NULL ? q->last_error : "stopped");
}

void
am_store_queue_free(AmStoreQueue *q)
{
  if (q == NULL)
    return;
  g_mutex_lock(&q->lock);
  q->stopping = TRUE;
  g_cond_signal(&q->wake);
  while (q->queries > 0)
    g_cond_wait(&q->done, &q->lock);
  g_mutex_unlock(&q->lock);
  /* The writer writes what waits (one attempt), then ends. */
  g_thread_join(q->thread);
  q->thread = NULL;
  report_unwritten(q);
  lane_clear(&q->samples);
  lane_clear(&q->events);
  g_free(q->last_error);
  g_mutex_clear(&q->lock);
  g_cond_clear(&q->wake);
  g_cond_clear(&q->done);
  g_mutex_clear(&q->query_lock);
  g_free(q);
}
