/* What the service manager sees of the daemon: readiness, a status line
 * (miners and the last poll pass) and watchdog pings from the main loop. */
#pragma once

#include "am-scheduler.h"

G_BEGIN_DECLS

typedef struct _AmService AmService;

/* Says READY=1 with a first status, and starts the main-loop timer that
 * pings the watchdog (when WatchdogSec= asked for one) and refreshes the
 * status. The pings come from the main loop itself, so a loop that stalls
 * stops them and systemd restarts the service. @scheduler is borrowed. */
AmService *am_service_ready(AmScheduler *scheduler);

/* Says STOPPING=1 (once) and stops the timer. */
void am_service_stopping(AmService *service);

void am_service_free(AmService *service);

G_END_DECLS
