/* Since ABI 1.4. CPU work off the main loop.
 *
 * The main loop does I/O only: at thousands of miners, repairing, parsing
 * and normalizing replies on it would keep one core busy while sockets
 * wait. am_work_async() runs a pure function on the core's worker pool (one
 * thread per processor) and hands its result back to the main context that
 * submitted it, where the callback runs as for any other async call.
 *
 * The promise that plugins need no locks holds: a work function must read
 * only its @input (which it owns from then on, nothing else holds it) and
 * build a new result; it must not touch the plugin instance, the miner's
 * state, the context or anything the main loop may change meanwhile.
 *
 * What a work function may call (pure or thread-safe):
 *  - antmon/sample.h: am_sample_new and every am_sample_* builder and getter
 *    on a sample the function created (or owns alone), am_sample_ref/unref;
 *  - antmon/json.h: every am_json_* helper;
 *  - antmon/rpc.h: am_rpc_repair, am_rpc_parse, am_rpc_check_status, and
 *    am_rpc_reply_get_root/_get_raw/_get_section, am_rpc_reply_ref/unref
 *    on replies handed over in @input;
 *  - am_miner_ref/unref (atomic), but no other am_miner_* call: the main
 *    loop updates a miner while a worker runs;
 *  - json-glib on trees it owns, GLib's data structures on data it owns,
 *    and logging (g_debug, g_message, g_warning: the log writer is
 *    thread-safe).
 * Never: sockets, GTask or GSource work of its own, am_context_*, a
 * plugin's instance data, or anything not listed above.
 *
 * Once the daemon has begun to stop, nothing more runs: a job submitted or
 * still queued then finishes with G_IO_ERROR_CANCELLED, so a caller always
 * gets its callback. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Runs on a worker thread. Owns @input. Returns (transfer full) the result,
 * or NULL with @error set. May poll @cancellable to stop early. */
typedef gpointer (*AmWorkFunc)(gpointer input, GCancellable *cancellable, GError **error);

/* Since ABI 1.4. Queues @func(@input) on the worker pool. @input_free
 * (optional) frees @input after @func ran (on the worker), or when the job
 * is dropped unrun (cancelled first, or the daemon stopping). @result_free
 * frees a result nobody propagated. @callback runs on the thread-default
 * main context of the caller, as with GTask; the job is dropped unrun, with
 * G_IO_ERROR_CANCELLED, when @cancellable is cancelled before it starts
 * (cancelled while it runs, its result is freed and the finish reports
 * G_IO_ERROR_CANCELLED too, as GTask does). */
void am_work_async(AmWorkFunc func, gpointer input, GDestroyNotify input_free,
                   GDestroyNotify result_free, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data);

/* Since ABI 1.4. Returns: (transfer full) what @func returned, or NULL with
 * @error (@func's error, or G_IO_ERROR_CANCELLED). */
gpointer am_work_finish(GAsyncResult *result, GError **error);

G_END_DECLS
