/* The worker pool behind am_work_async() (antmon/work.h): its lifetime. */
#pragma once

#include <antmon/work.h>

G_BEGIN_DECLS

/* Starts the pool with @n_threads threads (0: one per processor), or lets
 * it run again after am_workers_stop(). A pool that is already running is
 * left as it is. Without a call, the first am_work_async() starts it with
 * one thread per processor (the CLI, tests). */
void am_workers_start(guint n_threads);

/* Begins the stop at once: nothing more runs, and jobs queued or submitted
 * from now on end with G_IO_ERROR_CANCELLED. Returns when the jobs already
 * running have finished and every thread has been joined. Their results
 * and cancellations are delivered on their contexts' next iterations. */
void am_workers_stop(void);

/* Threads of the running pool; 0 when stopped or not started. */
guint am_workers_get_n_threads(void);

G_END_DECLS
