/* The adaptive rate on a made-up clock: when it rises, when it backs off
 * and to what, what it ignores, and how it comes back. */
#include "am-cidr-rate.h"

#define EPOCH 50000 /* µs, as in am-cidr-rate.c */

/* One epoch in which the scan started all the rate allowed and wanted
 * more: the rate is what held it back. */
static gint64
busy_epoch(AmScanRate *r, gint64 now)
{
  am_scan_rate_started(r, (guint)(r->rate * EPOCH / 1e6));
  am_scan_rate_starved(r);
  now += EPOCH;
  am_scan_rate_tick(r, now);
  return now;
}

static void
test_start_and_rise(void)
{
  AmScanRate r;
  gint64 now = 1000000;
  am_scan_rate_init(&r, 0, now);
  g_assert_cmpfloat(r.rate, ==, AM_RATE_START);
  now = busy_epoch(&r, now);
  g_assert_cmpfloat(r.rate, ==, 2 * AM_RATE_START);
  /* Held back by max_inflight, not by the rate: no rise. */
  am_scan_rate_started(&r, 10);
  now += EPOCH;
  am_scan_rate_tick(&r, now);
  g_assert_cmpfloat(r.rate, ==, 2 * AM_RATE_START);
  /* Out of tokens, but it started far less than the rate allows (a busy
   * CPU): no evidence either. */
  am_scan_rate_started(&r, 10);
  am_scan_rate_starved(&r);
  now += EPOCH;
  am_scan_rate_tick(&r, now);
  g_assert_cmpfloat(r.rate, ==, 2 * AM_RATE_START);
  g_assert_cmpuint(r.backoffs, ==, 0);
}

static void
test_cap(void)
{
  AmScanRate r;
  gint64 now = 1000000;
  am_scan_rate_init(&r, 3000, now);
  for (guint i = 0; i < 10; i++)
    now = busy_epoch(&r, now);
  g_assert_cmpfloat(r.rate, ==, 3000);
  /* A cap below the floor is still the cap. */
  am_scan_rate_init(&r, 10, now);
  g_assert_cmpfloat(r.rate, ==, 10);
  am_scan_rate_local_error(&r, now);
  am_scan_rate_tick(&r, now + 1);
  g_assert_cmpfloat(r.rate, ==, 10);
}

/* Two lost beacons of five: half the rate the first lost one was sent at. */
static void
test_beacons_back_off(void)
{
  AmScanRate r;
  gint64 now = 1000000;
  am_scan_rate_init(&r, 0, now);
  for (guint i = 0; i < 4; i++)
    now = busy_epoch(&r, now);
  g_assert_cmpfloat(r.rate, ==, 16 * AM_RATE_START);
  am_scan_rate_beacon(&r, now - 3 * EPOCH, 4000, FALSE);
  am_scan_rate_beacon(&r, now - 2 * EPOCH, 8000, TRUE);
  g_assert_false(am_scan_rate_tick(&r, now + 1)); /* one is not enough */
  am_scan_rate_beacon(&r, now - EPOCH, 16000, TRUE);
  g_assert_true(am_scan_rate_tick(&r, now + 2));
  g_assert_cmpfloat(r.rate, ==, 4000);
  g_assert_cmpuint(r.backoffs, ==, 1);
  g_assert_cmpfloat(r.lowest, ==, 4000);
  g_assert_true(am_scan_rate_lossy(&r, now + 2, 3000000));
  g_assert_false(am_scan_rate_lossy(&r, now + 3000002, 3000000));
  /* Beacons sent before the back-off are answered by it already. */
  am_scan_rate_beacon(&r, now - EPOCH, 16000, TRUE);
  am_scan_rate_beacon(&r, now, 32000, TRUE);
  g_assert_false(am_scan_rate_tick(&r, now + 3));
  g_assert_cmpfloat(r.rate, ==, 4000);
}

/* Answers after a retransmission: only when they are enough, and a share. */
static void
test_retransmissions(void)
{
  AmScanRate r;
  gint64 now = 1000000;
  am_scan_rate_init(&r, 0, now);
  for (guint i = 0; i < 1000; i++)
    am_scan_rate_answer(&r, now, 2000, i < 3);
  now += EPOCH; /* the epoch ends: its counts start again */
  am_scan_rate_tick(&r, now);
  g_assert_cmpuint(r.backoffs, ==, 0); /* 0.3%: noise */
  for (guint i = 0; i < 100; i++)
    am_scan_rate_answer(&r, now, 2000, i < 3);
  am_scan_rate_tick(&r, now + 2);
  g_assert_cmpuint(r.backoffs, ==, 1);
  g_assert_cmpfloat(r.rate, ==, 1000);
  g_assert_cmpuint(r.losses, ==, 6);
}

static void
test_local_error(void)
{
  AmScanRate r;
  gint64 now = 1000000;
  am_scan_rate_init(&r, 0, now);
  am_scan_rate_local_error(&r, now);
  g_assert_true(am_scan_rate_tick(&r, now + 1));
  g_assert_cmpfloat(r.rate, ==, AM_RATE_START / 2);
}

/* After a back-off: quickly to 85% of the rate that lost, slowly past it,
 * quickly again once it has gone 2 s past it with no loss; and never below
 * the floor. */
static void
test_recovery(void)
{
  AmScanRate r;
  gint64 now = 1000000;
  am_scan_rate_init(&r, 0, now);
  for (guint i = 0; i < 3; i++)
    now = busy_epoch(&r, now);
  am_scan_rate_beacon(&r, now, 10000, TRUE);
  am_scan_rate_beacon(&r, now, 10000, TRUE);
  am_scan_rate_tick(&r, now);
  g_assert_cmpfloat(r.rate, ==, 5000);
  guint epochs = 0;
  while (r.rate < 8500 && epochs < 100)
    now = busy_epoch(&r, now), epochs++;
  g_assert_cmpuint(epochs, <=, 4);
  double at = r.rate;
  now = busy_epoch(&r, now);
  g_assert_cmpfloat(r.rate, <=, at * 1.011);
  for (guint i = 0; i < 2000000 / EPOCH; i++)
    now = busy_epoch(&r, now);
  at = r.rate;
  now = busy_epoch(&r, now);
  g_assert_cmpfloat(r.rate, >=, at * 1.2);
  /* Losses all along: it goes down to the floor, no further. */
  for (guint i = 0; i < 40; i++) {
    am_scan_rate_beacon(&r, now, r.rate, TRUE);
    am_scan_rate_beacon(&r, now, r.rate, TRUE);
    now += EPOCH;
    am_scan_rate_tick(&r, now);
  }
  g_assert_cmpfloat(r.rate, ==, AM_RATE_FLOOR);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cidr-rate/start-and-rise", test_start_and_rise);
  g_test_add_func("/cidr-rate/cap", test_cap);
  g_test_add_func("/cidr-rate/beacons-back-off", test_beacons_back_off);
  g_test_add_func("/cidr-rate/retransmissions", test_retransmissions);
  g_test_add_func("/cidr-rate/local-error", test_local_error);
  g_test_add_func("/cidr-rate/recovery", test_recovery);
  return g_test_run();
}
