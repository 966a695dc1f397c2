/* The adaptive connect rate (the model is in the header). */
#include "am-cidr-rate.h"

#define EPOCH_US 50000
#define RATE_MAX 1e6       /* with no max_rate: beyond any real sweep */
#define BACKOFF 0.5        /* of the rate the loss was started at */
#define RETURN_SHARE 0.85  /* quick rise up to this share of the lost rate */
#define RISE_START 2.0     /* per epoch, before the first loss */
#define RISE_FAST 1.25     /* per epoch, below the lost rate or once it is stale */
#define RISE_PROBE 1.01    /* per epoch, near and past the lost rate */
#define PROBE_US 2000000   /* past the lost rate this long: it is stale */
#define BEACON_WINDOW 5    /* outcomes looked at */
#define BEACON_LOST 2      /* lost among them for a back-off */
#define RETRANS_MIN 3      /* answers after a retransmission, for a back-off */
#define RETRANS_SHARE 0.02 /* ... and this share of the epoch's answers */

static double
clamp_rate(const AmScanRate *r, double rate)
{
  double top = r->ceiling > 0 ? r->ceiling : RATE_MAX;
  return CLAMP(rate, MIN(AM_RATE_FLOOR, top), top);
}

void
am_scan_rate_init(AmScanRate *r, guint max_rate, gint64 now_us)
{
  *r = (AmScanRate){.ceiling = max_rate, .epoch_us = now_us};
  r->rate = clamp_rate(r, AM_RATE_START);
  r->highest = r->rate;
}

void
am_scan_rate_starved(AmScanRate *r)
{
  r->starved = TRUE;
}

void
am_scan_rate_started(AmScanRate *r, guint n)
{
  r->started += n;
}

/* Keeps the rate the earliest loss of the epoch was started at. */
static void
note_loss(AmScanRate *r, double rate_then)
{
  r->losses++;
  if (r->loss_rate == 0 || rate_then < r->loss_rate)
    r->loss_rate = rate_then;
}

void
am_scan_rate_answer(AmScanRate *r, gint64 started_us, double rate_then, gboolean retransmitted)
{
  if (started_us < r->last_cut_us)
    return; /* sent at a rate already backed off from */
  r->answers++;
  if (retransmitted) {
    r->retransmitted++;
    note_loss(r, rate_then);
  }
}

void
am_scan_rate_beacon(AmScanRate *r, gint64 started_us, double rate_then, gboolean lost)
{
  if (started_us < r->last_cut_us)
    return;
  r->beacons = (guint8)((r->beacons << 1) | (lost ? 1 : 0));
  r->n_beacons = MIN(r->n_beacons + 1, BEACON_WINDOW);
  if (lost)
    note_loss(r, rate_then);
}

void
am_scan_rate_local_error(AmScanRate *r, gint64 now_us)
{
  r->local_error = TRUE;
  note_loss(r, r->rate);
}

static guint
beacons_lost(const AmScanRate *r)
{
  guint lost = 0;
  for (guint i = 0; i < r->n_beacons; i++)
    lost += (r->beacons >> i) & 1;
  return lost;
}

static gboolean
should_back_off(const AmScanRate *r)
{
  if (r->local_error || beacons_lost(r) >= BEACON_LOST)
    return TRUE;
  return r->retransmitted >= RETRANS_MIN && r->retransmitted >= RETRANS_SHARE * r->answers;
}

static void
start_epoch(AmScanRate *r, gint64 now_us)
{
  r->epoch_us = now_us;
  r->starved = FALSE;
  r->started = 0;
  r->answers = r->retransmitted = 0;
  r->local_error = FALSE;
  r->loss_rate = 0;
}

static void
back_off(AmScanRate *r, gint64 now_us)
{
  r->lost_rate = r->loss_rate > 0 ? r->loss_rate : r->rate;
  r->rate = clamp_rate(r, MIN(r->rate, r->lost_rate * BACKOFF));
  r->backed_off = TRUE;
  r->last_cut_us = now_us;
  r->probe_since_us = 0;
  r->beacons = r->n_beacons = 0;
  r->backoffs++;
  r->lowest = r->lowest == 0 ? r->rate : MIN(r->lowest, r->rate);
  start_epoch(r, now_us);
}

static double
rise_factor(AmScanRate *r, gint64 now_us)
{
  if (!r->backed_off)
    return RISE_START;
  if (r->rate < RETURN_SHARE * r->lost_rate)
    return RISE_FAST;
  if (r->probe_since_us == 0)
    r->probe_since_us = now_us;
  return now_us - r->probe_since_us >= PROBE_US ? RISE_FAST : RISE_PROBE;
}

gboolean
am_scan_rate_tick(AmScanRate *r, gint64 now_us)
{
  double before = r->rate;
  if (r->losses > r->losses_seen) {
    r->losses_seen = r->losses;
    r->last_loss_us = now_us;
  }
  if (should_back_off(r)) {
    back_off(r, now_us);
    return r->rate != before;
  }
  if (now_us - r->epoch_us < EPOCH_US)
    return FALSE;
  double achieved = r->started * 1e6 / (double)(now_us - r->epoch_us);
  if (r->starved && achieved >= 0.5 * r->rate)
    r->rate = clamp_rate(r, r->rate * rise_factor(r, now_us));
  r->highest = MAX(r->highest, r->rate);
  start_epoch(r, now_us);
  return r->rate != before;
}

gboolean
am_scan_rate_lossy(const AmScanRate *r, gint64 now_us, gint64 window_us)
{
  return r->last_loss_us != 0 && now_us - r->last_loss_us < window_us;
}
