/* One hard deadline for an asynchronous exchange (see antmon/deadline.h). */
#include <antmon/deadline.h>
#include <antmon/error.h>

struct _AmDeadline {
  GCancellable *cancellable; /* ours: the timer and the caller cancel it */
  GCancellable *caller;
  gulong caller_handler;
  GSource *timer;
  guint timeout_ms;
  gboolean timed_out;
};

static void
cancel_ours(GCancellable *caller, gpointer ours)
{
  g_cancellable_cancel(ours);
}

static gboolean
on_timer(gpointer user_data)
{
  AmDeadline *d = user_data;
  d->timed_out = TRUE;
  g_clear_pointer(&d->timer, g_source_unref);
  g_cancellable_cancel(d->cancellable);
  return G_SOURCE_REMOVE;
}

AmDeadline *
am_deadline_new(GCancellable *caller, guint timeout_ms, GMainContext *context)
{
  AmDeadline *d = g_new0(AmDeadline, 1);
  d->cancellable = g_cancellable_new();
  d->timeout_ms = timeout_ms;
  if (caller != NULL) {
    d->caller = g_object_ref(caller);
    /* The handler holds its own reference: a caller cancelled after we are
     * freed must not touch freed memory. */
    d->caller_handler = g_cancellable_connect(caller, G_CALLBACK(cancel_ours),
                                              g_object_ref(d->cancellable), g_object_unref);
  }
  d->timer = g_timeout_source_new(timeout_ms);
  g_source_set_callback(d->timer, on_timer, d, NULL);
  g_source_attach(d->timer, context);
  return d;
}

GCancellable *
am_deadline_get_cancellable(AmDeadline *d)
{
  return d->cancellable;
}

gboolean
am_deadline_timed_out(AmDeadline *d)
{
  return d->timed_out;
}

guint
am_deadline_get_timeout_ms(AmDeadline *d)
{
  return d->timeout_ms;
}

GError *
am_deadline_error(AmDeadline *d, const char *address, const GError *error)
{
  double seconds = d->timeout_ms / 1000.0;
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    if (d->timed_out)
      return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s", address,
                         seconds);
    return g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s: cancelled", address);
  }
  if (error->domain == AM_ERROR)
    return g_error_new(AM_ERROR, error->code, "%s: %s", address, error->message);
  if (error->domain == G_IO_ERROR) {
    switch (error->code) {
    case G_IO_ERROR_TIMED_OUT:
      return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s", address,
                         seconds);
    case G_IO_ERROR_CONNECTION_REFUSED:
      return g_error_new(AM_ERROR, AM_ERROR_REFUSED, "%s: connection refused", address);
    case G_IO_ERROR_CONNECTION_CLOSED: /* also ECONNRESET and EPIPE */
    case G_IO_ERROR_NOT_CONNECTED:
      return g_error_new(AM_ERROR, AM_ERROR_RESET,
                         "%s: closed the connection without replying (%s)", address,
                         error->message);
    default:
      break;
    }
  }
  return g_error_new(AM_ERROR, AM_ERROR_FAILED, "%s: %s", address, error->message);
}

void
am_deadline_stop(AmDeadline *d)
{
  if (d->timer != NULL) {
    g_source_destroy(d->timer);
    g_clear_pointer(&d->timer, g_source_unref);
  }
  if (d->caller_handler != 0) {
    g_cancellable_disconnect(d->caller, d->caller_handler);
    d->caller_handler = 0;
  }
}

void
am_deadline_free(AmDeadline *d)
{
  if (d == NULL)
    return;
  am_deadline_stop(d);
  g_clear_object(&d->caller);
  g_clear_object(&d->cancellable);
  g_free(d);
}
