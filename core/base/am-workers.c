/* The worker pool: a fixed set of threads taking jobs from one queue.
 *
 * Own threads rather than a GThreadPool, so that a stop can join every one
 * of them: a stop marker per thread goes in behind the queued jobs, which
 * the threads drain as cancelled on their way to it. The queue is a GQueue
 * under a pthread mutex rather than a GAsyncQueue: GLib's locks are futexes
 * that ThreadSanitizer cannot see, pthread's it can.
 *
 * A job's GTask is created, returned and freed on the submitting context;
 * only the function, its input and its result ever touch a worker. Results
 * go back through one mailbox per context: a GSource attached once, on that
 * context's own thread, that a worker only marks ready. So a burst of
 * results costs the loop one wake-up and no GSource per job, and nothing
 * of GLib's main-context bookkeeping is done from a worker. */
#include "am-workers.h"

#include <pthread.h>

typedef struct _Mailbox Mailbox;

typedef struct {
  GTask *task;  /* (owned) made on the submitting context */
  Mailbox *box; /* where the result goes: the task's context's */
  AmWorkFunc func;
  gpointer input;
  GDestroyNotify input_free;
  GDestroyNotify result_free;
  gpointer result;
  GError *error;
} Job;

/* A context's results: filled by the workers, emptied by its dispatch. */
struct _Mailbox {
  GSource source;
  GMainContext *context; /* the key in mailboxes */
  guint outstanding;     /* jobs out: only touched on the context's thread */
  pthread_mutex_t lock;
  GQueue done; /* under lock: Job* with their result or error */
};

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

/* GMainContext* -> Mailbox*, under pool_lock. A mailbox lives while jobs
 * of its context are out, so a context freed later leaves nothing behind. */
static GHashTable *mailboxes;

static void
job_drop_input(Job *job)
{
  if (job->input_free != NULL && job->input != NULL)
    job->input_free(job->input);
  job->input = NULL;
}

/* On the submitting context: the result goes out through the GTask, which
 * also frees a result nobody propagates. */
static void
job_deliver(Job *job)
{
  job_drop_input(job); /* dropped unrun without reaching a worker */
  if (job->error != NULL)
    g_task_return_error(job->task, g_steal_pointer(&job->error));
  else
    g_task_return_pointer(job->task, g_steal_pointer(&job->result), job->result_free);
  g_object_unref(job->task);
  g_free(job);
}

static void mailbox_close(Mailbox *box);

static gboolean
mailbox_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
  Mailbox *box = (Mailbox *)source;
  (void)callback;
  (void)user_data;
  /* Unmarked before emptying: a result that comes meanwhile marks it again. */
  g_source_set_ready_time(source, -1);
  pthread_mutex_lock(&box->lock);
  GQueue done = box->done;
  g_queue_init(&box->done);
  pthread_mutex_unlock(&box->lock);
  Job *job;
  while ((job = g_queue_pop_head(&done)) != NULL) {
    box->outstanding--;
    job_deliver(job);
  }
  if (box->outstanding == 0)
    mailbox_close(box);
  return G_SOURCE_CONTINUE;
}

static void
mailbox_finalize(GSource *source)
{
  Mailbox *box = (Mailbox *)source;
  pthread_mutex_destroy(&box->lock);
}

static GSourceFuncs mailbox_funcs = {
    .dispatch = mailbox_dispatch,
    .finalize = mailbox_finalize,
};

/* The mailbox of the caller's thread-default context, made and attached
 * here, on that context's thread, when none is open. */
static Mailbox *
mailbox_for(GMainContext *context)
{
  pthread_mutex_lock(&pool_lock);
  if (mailboxes == NULL)
    mailboxes = g_hash_table_new(NULL, NULL);
  Mailbox *box = g_hash_table_lookup(mailboxes, context);
  if (box == NULL) {
    box = (Mailbox *)g_source_new(&mailbox_funcs, sizeof(Mailbox));
    box->context = context;
    pthread_mutex_init(&box->lock, NULL);
    g_queue_init(&box->done);
    g_source_set_static_name(&box->source, "[antmon] work results");
    g_source_attach(&box->source, context);
    g_hash_table_insert(mailboxes, context, box);
  }
  box->outstanding++;
  pthread_mutex_unlock(&pool_lock);
  return box;
}

/* No job of its context is out: the mailbox goes, with its source. */
static void
mailbox_close(Mailbox *box)
{
  pthread_mutex_lock(&pool_lock);
  g_hash_table_remove(mailboxes, box->context);
  pthread_mutex_unlock(&pool_lock);
  g_source_destroy(&box->source);
  g_source_unref(&box->source);
}

/* From any thread: the result into its mailbox, the mailbox marked ready
 * (which wakes its context). Marked under the mailbox's lock: until that
 * lock is let go the dispatch cannot take this job, so neither the mailbox
 * nor its context can go away under us. */
static void
job_send_back(Job *job)
{
  Mailbox *box = job->box;
  pthread_mutex_lock(&box->lock);
  g_queue_push_tail(&box->done, job);
  g_source_set_ready_time(&box->source, 0);
  pthread_mutex_unlock(&box->lock);
}

static void
job_cancel(Job *job, const char *why)
{
  job->error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, why);
}

static void
job_run(Job *job)
{
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
  if (queued)
    pool_push(pool, job);
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
  job->box = mailbox_for(g_task_get_context(job->task));
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
