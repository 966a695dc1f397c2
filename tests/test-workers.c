/* The worker pool (antmon/work.h, am-workers.h): results come back on the
 * context that submitted the job, a job cancelled before it starts never
 * runs, a stop lets the running jobs finish and drops the queued ones (each
 * caller still gets its callback), nothing runs after the stop, and many
 * jobs all arrive with the right results. */
#include "am-test-util.h"
#include "am-workers.h"

#include <pthread.h>

/* ---- a gate that holds the workers in their jobs ------------------------ */

/* pthread rather than GMutex: ThreadSanitizer sees pthread's locks. */
typedef struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  gboolean open;
  guint waiting; /* jobs inside gate_pass() */
} Gate;

static Gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, FALSE, 0};

static void
gate_close(void)
{
  pthread_mutex_lock(&gate.lock);
  gate.open = FALSE;
  pthread_mutex_unlock(&gate.lock);
}

static void
gate_open(void)
{
  pthread_mutex_lock(&gate.lock);
  gate.open = TRUE;
  pthread_cond_broadcast(&gate.cond);
  pthread_mutex_unlock(&gate.lock);
}

static void
gate_pass(void)
{
  pthread_mutex_lock(&gate.lock);
  gate.waiting++;
  pthread_cond_broadcast(&gate.cond);
  while (!gate.open)
    pthread_cond_wait(&gate.cond, &gate.lock);
  gate.waiting--;
  pthread_mutex_unlock(&gate.lock);
}

/* Waits (no time limit: the test harness has one) until @n jobs hold. */
static void
gate_wait_for(guint n)
{
  pthread_mutex_lock(&gate.lock);
  while (gate.waiting < n)
    pthread_cond_wait(&gate.cond, &gate.lock);
  pthread_mutex_unlock(&gate.lock);
}

/* ---- jobs ------------------------------------------------------------------ */

static gint runs;       /* atomic: work functions that ran */
static gint inputs_out; /* atomic: inputs not yet freed */

typedef struct {
  guint value;
  gboolean hold; /* wait at the gate first */
  GThread *ran_on;
} Input;

static Input *
input_new(guint value, gboolean hold)
{
  Input *in = g_new0(Input, 1);
  in->value = value;
  in->hold = hold;
  g_atomic_int_inc(&inputs_out);
  return in;
}

static void
input_free(Input *in)
{
  g_atomic_int_add(&inputs_out, -1);
  g_free(in);
}

typedef struct {
  guint square;
  GThread *thread;
} Output;

static gpointer
square_on_worker(gpointer input, GCancellable *cancellable, GError **error)
{
  Input *in = input;
  (void)cancellable;
  (void)error;
  if (in->hold)
    gate_pass();
  g_atomic_int_inc(&runs);
  Output *out = g_new0(Output, 1);
  out->square = in->value * in->value;
  out->thread = g_thread_self();
  return out;
}

typedef struct {
  guint delivered;
  guint cancelled;
  guint64 sum;
  GThread *callback_thread;
  GMainContext *callback_context;
  GThread *worker_thread;
} Tally;

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Tally *t = user_data;
  (void)source;
  g_autoptr(GError) error = NULL;
  g_autofree Output *out = am_work_finish(result, &error);
  t->delivered++;
  t->callback_thread = g_thread_self();
  t->callback_context = g_main_context_get_thread_default();
  if (out == NULL) {
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    t->cancelled++;
    return;
  }
  g_assert_no_error(error);
  t->sum += out->square;
  t->worker_thread = out->thread;
}

static void
submit(guint value, gboolean hold, GCancellable *cancellable, Tally *t)
{
  am_work_async(square_on_worker, input_new(value, hold), (GDestroyNotify)input_free, g_free,
                cancellable, on_done, t);
}

static void
iterate_until(GMainContext *ctx, Tally *t, guint delivered)
{
  while (t->delivered < delivered)
    g_main_context_iteration(ctx, TRUE);
}

static void
reset(void)
{
  g_atomic_int_set(&runs, 0);
  gate_close();
}

/* ---- tests ----------------------------------------------------------------- */

/* A job submitted from a thread with its own main context: the work runs on
 * a worker, the callback on that thread and context. */
typedef struct {
  Tally tally;
  GMainContext *ctx;
} Submitter;

static gpointer
submitter_main(gpointer user_data)
{
  Submitter *s = user_data;
  g_main_context_push_thread_default(s->ctx);
  submit(7, FALSE, NULL, &s->tally);
  iterate_until(s->ctx, &s->tally, 1);
  g_main_context_pop_thread_default(s->ctx);
  return NULL;
}

static void
test_result_on_submitting_context(void)
{
  reset();
  am_workers_start(2);
  g_assert_cmpuint(am_workers_get_n_threads(), ==, 2);

  /* From the main thread's own context. */
  Tally t = {0};
  submit(12, FALSE, NULL, &t);
  iterate_until(NULL, &t, 1);
  g_assert_cmpuint(t.sum, ==, 144);
  g_assert_true(t.callback_thread == g_thread_self());
  g_assert_true(t.worker_thread != g_thread_self());

  /* From another thread: its context, not the default one, gets it. */
  Submitter s = {.ctx = g_main_context_new()};
  GThread *thread = g_thread_new("submitter", submitter_main, &s);
  g_thread_join(thread);
  g_assert_cmpuint(s.tally.sum, ==, 49);
  g_assert_true(s.tally.callback_thread == thread);
  g_assert_true(s.tally.callback_context == s.ctx);
  g_assert_true(s.tally.worker_thread != thread);
  g_main_context_unref(s.ctx);
  g_assert_cmpint(g_atomic_int_get(&inputs_out), ==, 0);
}

/* With both workers held, a queued job is cancelled: when they are let go
 * it ends G_IO_ERROR_CANCELLED without running, its input freed; the job
 * not cancelled still runs. */
static void
test_cancel_before_run(void)
{
  reset();
  am_workers_start(2);
  Tally t = {0};
  submit(1, TRUE, NULL, &t);
  submit(2, TRUE, NULL, &t);
  gate_wait_for(2);
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  submit(3, FALSE, cancellable, &t);
  submit(4, FALSE, NULL, &t);
  g_cancellable_cancel(cancellable);
  gate_open();
  iterate_until(NULL, &t, 4);
  g_assert_cmpuint(t.cancelled, ==, 1);
  g_assert_cmpuint(t.sum, ==, 1 + 4 + 16);
  g_assert_cmpint(g_atomic_int_get(&runs), ==, 3);
  g_assert_cmpint(g_atomic_int_get(&inputs_out), ==, 0);
}

static gpointer
stopper_main(gpointer user_data)
{
  (void)user_data;
  am_workers_stop();
  return NULL;
}

/* A stop with two jobs running and fifty queued: the running two finish
 * with their results, the fifty end cancelled unrun, every caller gets its
 * callback, every input is freed and the threads are joined. After it, a
 * job ends cancelled unrun, until the pool starts again. */
static void
test_stop_with_jobs_in_flight(void)
{
  reset();
  am_workers_start(2);
  Tally t = {0};
  submit(5, TRUE, NULL, &t);
  submit(6, TRUE, NULL, &t);
  gate_wait_for(2);
  for (guint i = 0; i < 50; i++)
    submit(100, FALSE, NULL, &t);

  GThread *stopper = g_thread_new("stopper", stopper_main, NULL);
  /* The stop has begun once the pool is no longer there to submit to. */
  while (am_workers_get_n_threads() != 0)
    g_thread_yield();
  gate_open();
  g_thread_join(stopper); /* returns only once both workers are joined */

  iterate_until(NULL, &t, 52);
  g_assert_cmpuint(t.cancelled, ==, 50);
  g_assert_cmpuint(t.sum, ==, 25 + 36);
  g_assert_cmpint(g_atomic_int_get(&runs), ==, 2);
  g_assert_cmpint(g_atomic_int_get(&inputs_out), ==, 0);

  /* Stopped: nothing runs, the caller still hears back. */
  Tally after = {0};
  submit(9, FALSE, NULL, &after);
  iterate_until(NULL, &after, 1);
  g_assert_cmpuint(after.cancelled, ==, 1);
  g_assert_cmpint(g_atomic_int_get(&runs), ==, 2);
  g_assert_cmpint(g_atomic_int_get(&inputs_out), ==, 0);

  /* Started again (the next daemon in the process): it runs. */
  am_workers_start(0);
  g_assert_cmpuint(am_workers_get_n_threads(), ==, MAX(1u, g_get_num_processors()));
  Tally again = {0};
  submit(9, FALSE, NULL, &again);
  iterate_until(NULL, &again, 1);
  g_assert_cmpuint(again.sum, ==, 81);
}

/* Ten thousand jobs on four workers: every one arrives, on the main thread,
 * with its own result (the sum of the squares says none was lost or run
 * twice). */
static void
test_many_jobs(void)
{
  reset();
  am_workers_stop();
  am_workers_start(4);
  const guint n = 10000;
  Tally t = {0};
  guint64 want = 0;
  for (guint i = 0; i < n; i++) {
    submit(i, FALSE, NULL, &t);
    want += (guint64)i * i;
  }
  iterate_until(NULL, &t, n);
  g_assert_cmpuint(t.delivered, ==, n);
  g_assert_cmpuint(t.cancelled, ==, 0);
  g_assert_cmpuint(t.sum, ==, want);
  g_assert_true(t.callback_thread == g_thread_self());
  g_assert_cmpint(g_atomic_int_get(&runs), ==, (gint)n);
  g_assert_cmpint(g_atomic_int_get(&inputs_out), ==, 0);
  am_workers_stop();
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/workers/result-on-submitting-context", test_result_on_submitting_context);
  g_test_add_func("/workers/cancel-before-run", test_cancel_before_run);
  g_test_add_func("/workers/stop-with-jobs-in-flight", test_stop_with_jobs_in_flight);
  g_test_add_func("/workers/many-jobs", test_many_jobs);
  return g_test_run();
}
