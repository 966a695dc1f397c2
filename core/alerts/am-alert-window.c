/* A rolling window of timed readings (see am-alert-window.h). */
#include "am-alert-window.h"
#include <math.h>
#include <stdlib.h>

typedef struct {
  gint64 when_us;
  double value;
} Reading;

struct _AmAlertWindow {
  GArray *readings; /* Reading, oldest first */
};

AmAlertWindow *
am_alert_window_new(void)
{
  AmAlertWindow *w = g_new0(AmAlertWindow, 1);
  w->readings = g_array_new(FALSE, FALSE, sizeof(Reading));
  return w;
}

void
am_alert_window_free(AmAlertWindow *w)
{
  if (w == NULL)
    return;
  g_array_unref(w->readings);
  g_free(w);
}

void
am_alert_window_add(AmAlertWindow *w, gint64 when_us, double value)
{
  Reading r = {when_us, value};
  g_array_append_val(w->readings, r);
}

void
am_alert_window_prune(AmAlertWindow *w, gint64 oldest_us)
{
  guint drop = 0;
  while (drop < w->readings->len && g_array_index(w->readings, Reading, drop).when_us < oldest_us)
    drop++;
  if (drop > 0)
    g_array_remove_range(w->readings, 0, drop);
}

void
am_alert_window_clear(AmAlertWindow *w)
{
  g_array_set_size(w->readings, 0);
}

guint
am_alert_window_length(const AmAlertWindow *w)
{
  return w->readings->len;
}

static int
compare_doubles(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A window holds an hour of 30 s polls (120 readings): sorting a copy is
 * cheaper to read than any incremental structure and fast enough. */
double
am_alert_window_median(const AmAlertWindow *w)
{
  guint n = w->readings->len;
  if (n == 0)
    return NAN;
  g_autofree double *values = g_new(double, n);
  for (guint i = 0; i < n; i++)
    values[i] = g_array_index(w->readings, Reading, i).value;
  qsort(values, n, sizeof(double), compare_doubles);
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}
