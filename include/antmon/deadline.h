/* One hard deadline for an asynchronous exchange (connect, write, read):
 * a GCancellable that a timer and the caller's own cancellable both cancel,
 * and which remembers whether the timer did it, so that a driver can say
 * "timed out after 2.0 s" rather than "cancelled". Since plugin ABI 1.1. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _AmDeadline AmDeadline;

/* Starts the timer (@timeout_ms, in @context or the thread-default one when
 * NULL) and chains @caller (may be NULL) to the deadline's cancellable.
 * Returns: (transfer full). */
AmDeadline *am_deadline_new(GCancellable *caller, guint timeout_ms, GMainContext *context);

/* The cancellable to pass to every operation. (transfer none) */
GCancellable *am_deadline_get_cancellable(AmDeadline *deadline);

/* TRUE when the timer, not the caller, cancelled it. */
gboolean am_deadline_timed_out(AmDeadline *deadline);

guint am_deadline_get_timeout_ms(AmDeadline *deadline);

/* Turns a GIO error of the exchange with @address into the AM_ERROR a
 * caller can act on, naming the address: TIMEOUT (the deadline, or the
 * socket's own), REFUSED, RESET (closed without replying), else FAILED;
 * an AM_ERROR keeps its code. Cancellation by the caller stays
 * G_IO_ERROR_CANCELLED. Returns: (transfer full). */
GError *am_deadline_error(AmDeadline *deadline, const char *address, const GError *error);

/* Stops the timer and unhooks the caller, once the exchange is over. */
void am_deadline_stop(AmDeadline *deadline);

void am_deadline_free(AmDeadline *deadline);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmDeadline, am_deadline_free)

G_END_DECLS
