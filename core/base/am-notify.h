/* The service manager's notification socket (sd_notify): readiness, status
 * lines, watchdog pings and stopping. Every call is a no-op when antmon was
 * not started by systemd (NOTIFY_SOCKET unset). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sends @state ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1", or
 * several of them separated by newlines). Failures are logged at debug
 * level only: a service manager that went away must not stop the daemon. */
void am_notify(const char *state);

/* Sends "STATUS=@format..." */
void am_notify_status(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* The watchdog interval the service manager asked for (WatchdogSec=, passed
 * as WATCHDOG_USEC for this process), in microseconds; 0 when there is none. */
guint64 am_notify_watchdog_usec(void);

G_END_DECLS
