/* The worker pool: a fixed set of threads taking jobs from one queue.
 *
 * Own threads rather than a GThreadPool, so that a stop can join every one
 * of them: a stop marker per thread goes in behind the queued jobs, which
 * the threads drain as cancelled on their way to it. The queue is a GQueue
 * under a pthread mutex rather than a GAsyncQueue: GLib's locks are futexes
 * that ThreadSanitizer cannot see, pthread's it can.
 *
 * A job's GTask is created, returned and freed on the submitting context;
 * only the function, its input and its result ever touch a worker. */
#include "am-workers.h"

#include <pthread.h>

typedef struct {
  GTask *task; /* (owned) made on the submitting context */
  AmWorkFunc func;
  gpointer input;
  GDestroyNotify input_free;
  GDestroyNotify result_free;
  gpointer result;
  GError *error;
  /* Atomic: which side has the job (SUBMITTED, then RETURNED). The queue
   * and the main context already order the hand-overs, the way back with
   * GLib's own futex locks; these release/acquire pairs say the same to
   * ThreadSanitizer, which cannot see those locks. */
  gint stage;
} Job;

enum { JOB_NEW, JOB_SUBMITTED, JOB_RETURNED };

typedef struct {
  pthread_mutex_t lock;
  pthread_cond_t wake; /* a job or a stop marker was queued */
  GQueue queue;        /* under lock: Job*, or the stop marker */
  GPtrArray *threads;  /* GThread* */
} Pool;

/* The one pool of the process, like the RPC size cap: the transport and
 * every plugin submit to it without a handle. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static Pool *pool;           /* under pool_lock; NULL when not running */
static gboolean pool_closed; /* under pool_lock: stopped, no lazy start */
static gint stopping;        /* atomic: queued jobs are dropped unrun */

static char stop_marker;

static void
job_drop_input(Job *job)
{
  if (job->input_free != NULL && job->input != NULL)
    job->input_free(job->input);
  job->input = NULL;
}

/* On the submitting context: the result goes out through the GTask, which
 * also frees a result nobody propagates. */
static gboolean
job_deliver(gpointer user_data)
{
  Job *job = user_data;
  g_assert(g_atomic_int_get(&job->stage) == JOB_RETURNED);
  job_drop_input(job); /* dropped unrun without reaching a worker */
  if (job->error != NULL)
    g_task_return_error(job->task, g_steal_pointer(&job->error));
  else
    g_task_return_pointer(job->task, g_steal_pointer(&job->result), job->result_free);
  g_object_unref(job->task);
  g_free(job);
  return G_SOURCE_REMOVE;
}

static void
job_send_back(Job *job)
{
  GMainContext *context = g_task_get_context(job->task);
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, job_deliver, job, NULL);
  g_source_set_static_name(source, "[antmon] work result");
  /* After the last touch of the job on this side, before it is visible. */
  g_atomic_int_set(&job->stage, JOB_RETURNED);
  g_source_attach(source, context);
  g_source_unref(source);
}

static void
job_cancel(Job *job, const char *why)
{
  job->error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, why);
}

static void
job_run(Job *job)
{
  g_assert(g_atomic_int_get(&job->stage) == JOB_SUBMITTED);
  GCancellable *cancellable = g_task_get_cancellable(job->task);
  if (g_atomic_int_get(&stopping))
    job_cancel(job, "antmon is stopping");
  else if (g_cancellable_is_cancelled(cancellable))
    job_cancel(job, "cancelled before it ran");
  else
    job->result = job->func(job->input, cancellable, &job->error);
  /* The input is the worker's: free it here, off the loop (it is often a
   * reply's JSON tree). */
  job_drop_input(job);
  job_send_back(job);
}

static void
pool_push(Pool *p, gpointer item)
{
  pthread_mutex_lock(&p->lock);
  g_queue_push_tail(&p->queue, item);
  pthread_cond_signal(&p->wake);
  pthread_mutex_unlock(&p->lock);
}

static gpointer
pool_pop(Pool *p)
{
  pthread_mutex_lock(&p->lock);
  while (g_queue_is_empty(&p->queue))
    pthread_cond_wait(&p->wake, &p->lock);
  gpointer item = g_queue_pop_head(&p->queue);
  pthread_mutex_unlock(&p->lock);
  return item;
}

static gpointer
worker_main(gpointer user_data)
{
  Pool *p = user_data;
  for (;;) {
    gpointer item = pool_pop(p);
    if (item == &stop_marker)
      return NULL;
    job_run(item);
  }
}

static Pool *
pool_new(guint n_threads)
{
  Pool *p = g_new0(Pool, 1);
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->wake, NULL);
  g_queue_init(&p->queue);
  p->threads = g_ptr_array_new();
  for (guint i = 0; i < n_threads; i++) {
    g_autofree char *name = g_strdup_printf("am-worker-%u", i);
    g_ptr_array_add(p->threads, g_thread_new(name, worker_main, p));
  }
  return p;
}

/* The markers go in behind every queued job: each thread drains what is
 * ahead of its marker (as cancelled, since stopping is set) and ends. */
static void
pool_join(Pool *p)
{
  for (guint i = 0; i < p->threads->len; i++)
    pool_push(p, &stop_marker);
  for (guint i = 0; i < p->threads->len; i++)
    g_thread_join(p->threads->pdata[i]);
  g_ptr_array_unref(p->threads);
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->lock);
  g_free(p);
}

static guint
default_threads(void)
{
  return MAX(1u, g_get_num_processors());
}

void
am_workers_start(guint n_threads)
{
  pthread_mutex_lock(&pool_lock);
  pool_closed = FALSE;
  if (pool == NULL)
    pool = pool_new(n_threads > 0 ? n_threads : default_threads());
  pthread_mutex_unlock(&pool_lock);
}

void
am_workers_stop(void)
{
  g_atomic_int_set(&stopping, 1);
  pthread_mutex_lock(&pool_lock);
  Pool *p = g_steal_pointer(&pool);
  pool_closed = TRUE;
  pthread_mutex_unlock(&pool_lock);
  if (p != NULL)
    pool_join(p);
  g_atomic_int_set(&stopping, 0);
}

guint
am_workers_get_n_threads(void)
{
  pthread_mutex_lock(&pool_lock);
  guint n = pool != NULL ? pool->threads->len : 0;
  pthread_mutex_unlock(&pool_lock);
  return n;
}

/* Queues @job; FALSE when the pool is stopped. The push happens under the
 * lock so that a stop cannot put its markers in ahead of it. */
static gboolean
pool_submit(Job *job)
{
  pthread_mutex_lock(&pool_lock);
  if (pool == NULL && !pool_closed)
    pool = pool_new(default_threads());
  gboolean queued = pool != NULL;
  if (queued) {
    g_atomic_int_set(&job->stage, JOB_SUBMITTED);
    pool_push(pool, job);
  }
  pthread_mutex_unlock(&pool_lock);
  return queued;
}

void
am_work_async(AmWorkFunc func, gpointer input, GDestroyNotify input_free,
              GDestroyNotify result_free, GCancellable *cancellable, GAsyncReadyCallback callback,
              gpointer user_data)
{
  g_return_if_fail(func != NULL);
  Job *job = g_new0(Job, 1);
  job->task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(job->task, am_work_async);
  job->func = func;
  job->input = input;
  job->input_free = input_free;
  job->result_free = result_free;
  if (!pool_submit(job)) {
    job_cancel(job, "antmon is stopping");
    job_send_back(job);
  }
}

gpointer
am_work_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == am_work_async, NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
