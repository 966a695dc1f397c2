/* Helpers for the sink plugins' tests (see am-sink-test-util.h). */
#include "am-sink-test-util.h"
#include <math.h>

static void
alert_free(AmAlert *a)
{
  g_free((char *)a->rule);
  g_free((char *)a->rule_type);
  g_free((char *)a->miner_host);
  g_free((char *)a->miner_name);
  g_free((char *)a->model);
  g_free((char *)a->unit);
  g_free((char *)a->message);
  g_free((char *)a->dashboard_url);
  g_free(a);
}

AmNotification *
am_sink_test_notification_new(const char *subject, const AmAlert *const *alerts)
{
  guint n = 0;
  while (alerts[n] != NULL)
    n++;
  AmAlert **copies = g_new0(AmAlert *, n + 1);
  for (guint i = 0; i < n; i++) {
    AmAlert *c = g_memdup2(alerts[i], sizeof(AmAlert));
    c->rule = g_strdup(c->rule);
    c->rule_type = g_strdup(c->rule_type);
    c->miner_host = g_strdup(c->miner_host);
    c->miner_name = g_strdup(c->miner_name);
    c->model = g_strdup(c->model);
    c->unit = g_strdup(c->unit);
    c->message = g_strdup(c->message);
    c->dashboard_url = g_strdup(c->dashboard_url);
    copies[i] = c;
  }
  AmNotification *notification = g_new0(AmNotification, 1);
  notification->struct_size = sizeof(AmNotification);
  notification->subject = g_strdup(subject);
  notification->alerts = (const AmAlert *const *)copies;
  notification->n_alerts = n;
  return notification;
}

void
am_sink_test_notification_free(AmNotification *n)
{
  for (guint i = 0; i < n->n_alerts; i++)
    alert_free((AmAlert *)n->alerts[i]);
  g_free((gpointer)n->alerts);
  g_free((char *)n->subject);
  g_free(n);
}

AmAlert
am_sink_test_hot_alert(gboolean resolved)
{
  return (AmAlert){
      .struct_size = sizeof(AmAlert),
      .rule = "hot",
      .rule_type = "temperature",
      .severity = AM_SEVERITY_CRITICAL,
      .resolved = resolved,
      .miner_host = "10.0.0.5:4028",
      .miner_name = "rack1-07",
      .model = "Antminer S9",
      .value = resolved ? 70.0 : 98.1,
      .threshold = resolved ? 75.0 : 90.0,
      .unit = "degC",
      .message = resolved ? "hottest board temperature 70.0 °C is back at or under 75.0 °C"
                          : "hottest board temperature 98.1 °C is over the critical limit 90.0 °C",
      .when_us = (gint64)1700000000 * G_USEC_PER_SEC,
  };
}

typedef struct {
  GAsyncResult *result;
} Wait;

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  Wait *w = user_data;
  w->result = g_object_ref(result);
}

gboolean
am_sink_test_deliver(const AmPluginInfo *info, gpointer self, const AmNotification *n,
                     GCancellable *cancellable, GError **error)
{
  Wait w = {0};
  info->vtable.sink->deliver_async(self, n, cancellable, on_done, &w);
  while (w.result == NULL)
    g_main_context_iteration(NULL, TRUE);
  gboolean ok = info->vtable.sink->deliver_finish(self, w.result, error);
  g_object_unref(w.result);
  return ok;
}

gpointer
am_sink_test_create(const AmPluginInfo *info, AmContext *ctx, const char *ini_text,
                    const char *group, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, ini_text, -1, G_KEY_FILE_NONE, NULL));
  return info->create(ctx, kf, group, error);
}
