/* Readiness, status and watchdog for systemd (see am-service.h). */
#include "am-service.h"
#include "am-notify.h"

/* Without a watchdog the status is still refreshed this often. */
#define STATUS_INTERVAL_MS 5000

struct _AmService {
  AmScheduler *scheduler;
  gboolean watchdog;
  guint timer_id;
  char *last_status;
  gboolean stopping;
};

/* The status line systemctl status shows. */
static char *
status_text(AmScheduler *scheduler)
{
  g_autoptr(GPtrArray) entries = am_scheduler_entries(scheduler);
  guint online = 0;
  for (guint i = 0; i < entries->len; i++)
    if (((AmMinerEntry *)entries->pdata[i])->state == AM_MINER_ONLINE)
      online++;
  const AmPassStats *pass = am_scheduler_last_pass(scheduler);
  if (pass == NULL || pass->started_us == 0)
    return g_strdup_printf("%u miners, %u online; first poll pass under way", entries->len, online);
  return g_strdup_printf(
      "%u miners, %u online; last pass: %u polled, %u ok, %u failed in %" G_GINT64_FORMAT " ms",
      entries->len, online, pass->polled, pass->succeeded, pass->failed,
      am_pass_stats_duration_ms(pass));
}

/* A status line is sent only when it changed: systemd keeps the last one. */
static void
refresh_status(AmService *s)
{
  g_autofree char *text = status_text(s->scheduler);
  if (g_strcmp0(text, s->last_status) == 0)
    return;
  am_notify_status("%s", text);
  g_free(s->last_status);
  s->last_status = g_steal_pointer(&text);
}

static gboolean
on_tick(gpointer user_data)
{
  AmService *s = user_data;
  if (s->watchdog)
    am_notify("WATCHDOG=1");
  refresh_status(s);
  return G_SOURCE_CONTINUE;
}

AmService *
am_service_ready(AmScheduler *scheduler)
{
  AmService *s = g_new0(AmService, 1);
  s->scheduler = scheduler;
  guint64 watchdog_us = am_notify_watchdog_usec();
  s->watchdog = watchdog_us > 0;
  /* Twice per watchdog period, as sd_watchdog_enabled(3) advises, so one
   * late tick does not get the service killed. */
  guint interval_ms = STATUS_INTERVAL_MS;
  if (s->watchdog)
    interval_ms = (guint)MAX(1, MIN(watchdog_us / 2000, (guint64)STATUS_INTERVAL_MS));
  s->timer_id = g_timeout_add(interval_ms, on_tick, s);
  am_notify("READY=1");
  if (s->watchdog)
    am_notify("WATCHDOG=1");
  refresh_status(s);
  return s;
}

void
am_service_stopping(AmService *s)
{
  if (s == NULL || s->stopping)
    return;
  s->stopping = TRUE;
  g_clear_handle_id(&s->timer_id, g_source_remove);
  am_notify("STOPPING=1");
}

void
am_service_free(AmService *s)
{
  if (s == NULL)
    return;
  am_service_stopping(s);
  g_free(s->last_status);
  g_free(s);
}
