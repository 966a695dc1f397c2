/* The store queue against a fake store: batching, flush, drop-oldest when
 * full, failed batches kept for retry with a growing backoff, events,
 * queries on a worker thread, and the flush at shutdown. */
#include "am-store-queue.h"
#include "am-test-util.h"
#include <string.h>

/* ---- a fake store ------------------------------------------------------ */

typedef struct {
  GMutex lock;
  GCond changed;
  gboolean fail;        /* write_batch fails while set */
  gboolean gate_closed; /* write_batch waits while set */
  guint entered;        /* write_batch calls so far */
  GPtrArray *samples;   /* AmSample* of every successful batch, in order */
  GPtrArray *events;    /* char* "kind/name/miner/detail" */
  GArray *batch_sizes;  /* guint per successful batch */
  GArray *attempts_us;  /* gint64 monotonic time of every write_batch */
  GThread *writer;      /* the thread write_batch ran on */
} FakeStore;

static gboolean
fake_write(gpointer self, AmSample *const *samples, guint n_samples, const AmEvent *const *events,
           guint n_events, GError **error)
{
  FakeStore *f = self;
  g_mutex_lock(&f->lock);
  f->entered++;
  g_cond_broadcast(&f->changed);
  while (f->gate_closed)
    g_cond_wait(&f->changed, &f->lock);
  gint64 now = g_get_monotonic_time();
  g_array_append_val(f->attempts_us, now);
  f->writer = g_thread_self();
  gboolean ok = !f->fail;
  if (ok) {
    for (guint i = 0; i < n_samples; i++)
      g_ptr_array_add(f->samples, am_sample_ref(samples[i]));
    for (guint i = 0; i < n_events; i++)
      g_ptr_array_add(f->events, g_strdup_printf("%s/%s/%s/%s", events[i]->kind, events[i]->name,
                                                 events[i]->miner_host, events[i]->detail));
    guint n = n_samples + n_events;
    g_array_append_val(f->batch_sizes, n);
  } else {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "database or disk is full (fake)");
  }
  g_cond_broadcast(&f->changed);
  g_mutex_unlock(&f->lock);
  return ok;
}

static JsonNode *
fake_query(gpointer self, const char *query, GHashTable *params, GError **error)
{
  (void)self;
  if (!g_str_equal(query, "echo")) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "unknown query '%s'", query);
    return NULL;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "miner");
  json_builder_add_string_value(b, g_hash_table_lookup(params, "miner"));
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static const AmStoreVTable fake_vtable = {
    .struct_size = sizeof(AmStoreVTable),
    .write_batch = fake_write,
    .query = fake_query,
};

static const AmPluginInfo fake_info = {
    .abi_major = AM_ABI_MAJOR,
    .abi_minor = AM_ABI_MINOR,
    .struct_size = sizeof(AmPluginInfo),
    .name = "fake",
    .kind = AM_PLUGIN_KIND_STORE,
    .vtable.store = &fake_vtable,
};

typedef struct {
  FakeStore store;
  AmInstance instance;
} Fixture;

static void
setup(Fixture *f, gconstpointer data)
{
  (void)data;
  g_mutex_init(&f->store.lock);
  g_cond_init(&f->store.changed);
  f->store.samples = g_ptr_array_new_with_free_func((GDestroyNotify)am_sample_unref);
  f->store.events = g_ptr_array_new_with_free_func(g_free);
  f->store.batch_sizes = g_array_new(FALSE, FALSE, sizeof(guint));
  f->store.attempts_us = g_array_new(FALSE, FALSE, sizeof(gint64));
  f->instance = (AmInstance){.info = &fake_info, .group = "store:fake", .self = &f->store};
}

static void
teardown(Fixture *f, gconstpointer data)
{
  (void)data;
  g_ptr_array_unref(f->store.samples);
  g_ptr_array_unref(f->store.events);
  g_array_unref(f->store.batch_sizes);
  g_array_unref(f->store.attempts_us);
  g_mutex_clear(&f->store.lock);
  g_cond_clear(&f->store.changed);
}

static void
set_fail(Fixture *f, gboolean fail)
{
  g_mutex_lock(&f->store.lock);
  f->store.fail = fail;
  g_mutex_unlock(&f->store.lock);
}

/* A sample numbered @n (in elapsed_s, which the queue never looks at). */
static AmSample *
numbered(gint64 n)
{
  AmSample *s = am_sample_new();
  am_sample_set(s, &s->host, "10.0.0.1");
  s->port = 4028;
  s->elapsed_s = n;
  return s;
}

static void
push_numbered(AmStoreQueue *q, gint64 from, gint64 to)
{
  for (gint64 n = from; n < to; n++) {
    g_autoptr(AmSample) s = numbered(n);
    am_store_queue_push_sample(q, s);
  }
}

static gint64
stat_int(AmStoreQueue *q, const char *name)
{
  g_autoptr(JsonNode) stats = am_store_queue_stats_json(q);
  return json_object_get_int_member(json_node_get_object(stats), name);
}

/* The numbers of the samples the store got, in order. */
static void
assert_stored(Fixture *f, gint64 from, gint64 to)
{
  g_mutex_lock(&f->store.lock);
  g_assert_cmpuint(f->store.samples->len, ==, (guint)(to - from));
  for (guint i = 0; i < f->store.samples->len; i++)
    g_assert_cmpint(((AmSample *)f->store.samples->pdata[i])->elapsed_s, ==, from + i);
  g_mutex_unlock(&f->store.lock);
}

/* ---- captured warnings -------------------------------------------------- */

static GMutex log_lock;
static GPtrArray *warnings;

static GLogWriterOutput
capture(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  (void)user_data;
  if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE)) {
    for (gsize i = 0; i < n_fields; i++)
      if (g_str_equal(fields[i].key, "MESSAGE")) {
        g_mutex_lock(&log_lock);
        g_ptr_array_add(warnings, g_strdup(fields[i].value));
        g_mutex_unlock(&log_lock);
      }
    return G_LOG_WRITER_HANDLED;
  }
  return g_log_writer_default(level, fields, n_fields, user_data);
}

static gboolean
logged(const char *pattern)
{
  g_mutex_lock(&log_lock);
  gboolean found = FALSE;
  for (guint i = 0; i < warnings->len && !found; i++)
    found = g_pattern_match_simple(pattern, warnings->pdata[i]);
  g_mutex_unlock(&log_lock);
  return found;
}

/* ---- tests -------------------------------------------------------------- */

/* A flush writes everything in one batch, on the writer thread. */
static void
test_flush_one_batch(Fixture *f, gconstpointer data)
{
  (void)data;
  AmStoreQueue *q = am_store_queue_new(&f->instance, 1000, 3600 * 1000);
  push_numbered(q, 0, 250);
  g_assert_cmpint(stat_int(q, "depth"), ==, 250);
  am_store_queue_flush(q);
  assert_stored(f, 0, 250);
  g_assert_cmpuint(f->store.batch_sizes->len, ==, 1);
  g_assert_true(f->store.writer != g_thread_self());
  g_assert_cmpint(stat_int(q, "written"), ==, 250);
  g_assert_cmpint(stat_int(q, "depth"), ==, 0);
  g_assert_cmpint(stat_int(q, "capacity"), ==, 1000);
  am_store_queue_free(q);
}

/* Without a flush, a batch goes once the oldest sample has waited
 * flush_interval. */
static void
test_flush_interval(Fixture *f, gconstpointer data)
{
  (void)data;
  AmStoreQueue *q = am_store_queue_new(&f->instance, 1000, 100);
  gint64 pushed = g_get_monotonic_time();
  push_numbered(q, 0, 5);
  g_mutex_lock(&f->store.lock);
  while (f->store.samples->len < 5)
    g_cond_wait(&f->store.changed, &f->store.lock);
  gint64 first_attempt = g_array_index(f->store.attempts_us, gint64, 0);
  g_mutex_unlock(&f->store.lock);
  g_assert_cmpint(first_attempt - pushed, >=, 100 * 1000);
  g_assert_cmpuint(f->store.batch_sizes->len, ==, 1);
  am_store_queue_free(q);
}

/* Full: the oldest waiting samples go, and are counted; the batch being
 * written cannot be dropped. */
static void
test_drop_oldest(Fixture *f, gconstpointer data)
{
  (void)data;
  /* Capacity 100: a batch is 50, written as soon as 50 wait. */
  AmStoreQueue *q = am_store_queue_new(&f->instance, 100, 3600 * 1000);
  f->store.gate_closed = TRUE;
  push_numbered(q, 0, 50);
  g_mutex_lock(&f->store.lock);
  while (f->store.entered == 0)
    g_cond_wait(&f->store.changed, &f->store.lock);
  g_mutex_unlock(&f->store.lock);
  /* 0..49 are being written; 50..149 arrive meanwhile. */
  push_numbered(q, 50, 150);
  g_assert_cmpint(stat_int(q, "depth"), ==, 100);
  g_assert_cmpint(stat_int(q, "dropped"), ==, 50);

  g_mutex_lock(&f->store.lock);
  f->store.gate_closed = FALSE;
  g_cond_broadcast(&f->store.changed);
  g_mutex_unlock(&f->store.lock);
  am_store_queue_flush(q);
  /* Stored: the batch in flight, then the newest 50; 50..99 were dropped. */
  g_assert_cmpuint(f->store.samples->len, ==, 100);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpint(((AmSample *)f->store.samples->pdata[i])->elapsed_s, ==, i < 50 ? i : i + 50);
  g_assert_cmpint(stat_int(q, "written"), ==, 100);
  g_assert_cmpint(stat_int(q, "dropped"), ==, 50);
  am_store_queue_free(q);
}

/* A failed batch stays, is retried, and nothing is lost or doubled. */
static void
test_retry(Fixture *f, gconstpointer data)
{
  (void)data;
  AmStoreQueue *q = am_store_queue_new(&f->instance, 1000, 3600 * 1000);
  set_fail(f, TRUE);
  push_numbered(q, 0, 20);
  am_store_queue_flush(q);
  g_assert_cmpint(stat_int(q, "failed_batches"), ==, 1);
  g_assert_cmpint(stat_int(q, "depth"), ==, 20);
  g_assert_cmpint(stat_int(q, "written"), ==, 0);
  g_autoptr(JsonNode) stats = am_store_queue_stats_json(q);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(stats), "last_error"), ==,
                  "database or disk is full (fake)");
  g_assert_true(logged("[store:fake] writing 20 samples and 0 events failed: database or disk is "
                       "full (fake); kept for retry in *"));
  /* More samples arrive while the store is down; then it comes back. */
  push_numbered(q, 20, 30);
  set_fail(f, FALSE);
  am_store_queue_flush(q);
  assert_stored(f, 0, 30);
  g_assert_cmpint(stat_int(q, "written"), ==, 30);
  g_assert_cmpint(stat_int(q, "depth"), ==, 0);
  g_autoptr(JsonNode) after = am_store_queue_stats_json(q);
  g_assert_true(json_object_get_null_member(json_node_get_object(after), "last_error"));
  g_assert_true(logged("[store:fake] writing works again*"));
  am_store_queue_free(q);
}

/* While the store keeps failing, retries back off (1 s, then 2 s, ...). */
static void
test_backoff(Fixture *f, gconstpointer data)
{
  (void)data;
  AmStoreQueue *q = am_store_queue_new(&f->instance, 1000, 100);
  set_fail(f, TRUE);
  push_numbered(q, 0, 3);
  g_mutex_lock(&f->store.lock);
  while (f->store.attempts_us->len < 3)
    g_cond_wait(&f->store.changed, &f->store.lock);
  gint64 a0 = g_array_index(f->store.attempts_us, gint64, 0);
  gint64 a1 = g_array_index(f->store.attempts_us, gint64, 1);
  gint64 a2 = g_array_index(f->store.attempts_us, gint64, 2);
  f->store.fail = FALSE;
  g_mutex_unlock(&f->store.lock);
  g_assert_cmpint(a1 - a0, >=, G_USEC_PER_SEC);
  g_assert_cmpint(a2 - a1, >=, 2 * G_USEC_PER_SEC);
  /* The third attempt may still be failing: a flush then ends with that
   * failure, and the next one writes. */
  while (stat_int(q, "depth") > 0)
    am_store_queue_flush(q);
  assert_stored(f, 0, 3);
  am_store_queue_free(q);
}

/* Events are copied: the caller's strings may go right after the push. */
static void
test_events(Fixture *f, gconstpointer data)
{
  (void)data;
  AmStoreQueue *q = am_store_queue_new(&f->instance, 1000, 3600 * 1000);
  for (int i = 0; i < 3; i++) {
    g_autofree char *miner = g_strdup_printf("10.0.0.%d:4028", i + 1);
    g_autofree char *detail = g_strdup_printf("reason %d", i);
    AmEvent e = {.struct_size = sizeof(AmEvent),
                 .when_us = 1,
                 .miner_host = miner,
                 .kind = "state",
                 .name = "offline",
                 .detail = detail};
    am_store_queue_push_event(q, &e);
  }
  am_store_queue_flush(q);
  g_assert_cmpuint(f->store.events->len, ==, 3);
  g_assert_cmpstr(f->store.events->pdata[2], ==, "state/offline/10.0.0.3:4028/reason 2");
  g_assert_cmpint(stat_int(q, "events_written"), ==, 3);
  am_store_queue_free(q);
}

/* Freeing the queue (SIGTERM) writes what waits first. */
static void
test_free_flushes(Fixture *f, gconstpointer data)
{
  (void)data;
  AmStoreQueue *q = am_store_queue_new(&f->instance, 1000, 3600 * 1000);
  push_numbered(q, 0, 30);
  am_store_queue_free(q);
  assert_stored(f, 0, 30);
}

/* A store that cannot write at shutdown: one attempt, then a warning
 * saying what was lost. */
static void
test_free_reports_loss(Fixture *f, gconstpointer data)
{
  (void)data;
  AmStoreQueue *q = am_store_queue_new(&f->instance, 1000, 3600 * 1000);
  set_fail(f, TRUE);
  push_numbered(q, 0, 7);
  am_store_queue_free(q);
  g_assert_cmpuint(f->store.attempts_us->len, ==, 1);
  g_assert_true(logged("[store:fake] 7 samples and 0 events could not be written before exit: "
                       "database or disk is full (fake)"));
}

typedef struct {
  GMainLoop *loop;
  JsonNode *result;
  GError *error;
  AmStoreQueue *queue;
} QueryWait;

static void
query_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  QueryWait *w = user_data;
  w->result = am_store_queue_query_finish(w->queue, result, &w->error);
  g_main_loop_quit(w->loop);
}

static void
test_query(Fixture *f, gconstpointer data)
{
  (void)data;
  AmStoreQueue *q = am_store_queue_new(&f->instance, 1000, 3600 * 1000);
  QueryWait w = {.loop = g_main_loop_new(NULL, FALSE), .queue = q};
  GHashTable *params = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(params, "miner", "10.0.0.7");
  am_store_queue_query_async(q, "echo", params, NULL, query_done, &w);
  /* The caller's table may change at once: the query has its own copy. */
  g_hash_table_insert(params, "miner", "changed");
  g_hash_table_unref(params);
  g_main_loop_run(w.loop);
  g_assert_no_error(w.error);
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(w.result), "miner"), ==,
                  "10.0.0.7");
  json_node_unref(w.result);

  am_store_queue_query_async(q, "nonsense", NULL, NULL, query_done, &w);
  g_main_loop_run(w.loop);
  g_assert_error(w.error, AM_ERROR, AM_ERROR_FAILED);
  g_assert_cmpstr(w.error->message, ==, "unknown query 'nonsense'");
  g_clear_error(&w.error);
  g_main_loop_unref(w.loop);
  am_store_queue_free(q);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  warnings = g_ptr_array_new_with_free_func(g_free);
  g_log_set_writer_func(capture, NULL, NULL);
#define ADD(path, func) g_test_add(path, Fixture, NULL, setup, func, teardown)
  ADD("/store-queue/flush-one-batch", test_flush_one_batch);
  ADD("/store-queue/flush-interval", test_flush_interval);
  ADD("/store-queue/drop-oldest", test_drop_oldest);
  ADD("/store-queue/retry", test_retry);
  ADD("/store-queue/backoff", test_backoff);
  ADD("/store-queue/events", test_events);
  ADD("/store-queue/free-flushes", test_free_flushes);
  ADD("/store-queue/free-reports-loss", test_free_reports_loss);
  ADD("/store-queue/query", test_query);
#undef ADD
  int status = g_test_run();
  g_ptr_array_unref(warnings);
  return status;
}
