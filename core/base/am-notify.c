/* sd_notify through libsystemd (see am-notify.h). */
#include "am-notify.h"
#include <string.h>
#include <systemd/sd-daemon.h>

void
am_notify(const char *state)
{
  /* unset_environment=0: the variables stay for the whole life of the
   * daemon, which notifies until it stops. */
  int r = sd_notify(0, state);
  if (r < 0)
    g_debug("sd_notify(%s): %s", state, g_strerror(-r));
}

void
am_notify_status(const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *text = g_strdup_vprintf(format, args);
  va_end(args);
  g_autofree char *state = g_strconcat("STATUS=", text, NULL);
  am_notify(state);
}

guint64
am_notify_watchdog_usec(void)
{
  uint64_t usec = 0;
  /* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is us. */
  if (sd_watchdog_enabled(0, &usec) > 0)
    return usec;
  return 0;
}
