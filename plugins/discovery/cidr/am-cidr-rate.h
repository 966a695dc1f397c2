/* The sweep's adaptive connect rate: how many connections the scan may start
 * per second, learnt from the network as the scan runs.
 *
 * The model. A scan meets three kinds of outcome, and only one says the
 * scan goes too fast:
 *   - an answer (an accept, or a refusal: a live host without that port);
 *   - silence: no answer before the host's deadline. Silence is what most
 *     addresses of a range give (nobody is there), and the share of silent
 *     addresses changes from one part of a range to the next, so silence is
 *     never read as congestion;
 *   - a loss: an answer from the part of the network that does answer went
 *     missing. Three things show one:
 *       1. a beacon overdue. The scan keeps re-connecting, every few tens of
 *          ms, to the latest address:port that refused at once (a known-live
 *          host that costs it only a reset; the beacon moves along the range
 *          with the sweep, so no host gets many). A beacon still unanswered
 *          after several of its usual round trips was dropped on the way:
 *          this is seen within tens of ms, so the rate can start fast;
 *       2. an answer that came only after the kernel sent the SYN again (its
 *          TCP_INFO counts a retransmission): the first SYN or its answer was
 *          dropped. Seen after the kernel's retransmission timeout (1 s), on
 *          ranges where no beacon exists yet;
 *       3. a local error (ENOBUFS, EAGAIN, EADDRNOTAVAIL): this machine's
 *          own queues or ports ran out.
 *
 * The control, per epoch of 50 ms:
 *   - a back-off when losses are seen among connects started since the last
 *     back-off (2 of the last 5 beacons, or at least 3 retransmitted answers
 *     making 2% of the epoch's answers, or any local error): the rate becomes
 *     half the rate at which the first lost connect was started (not the
 *     rate now, which may have grown since), never below AM_RATE_FLOOR.
 *     Losses of connects started before a back-off are already answered by
 *     it and are not counted twice;
 *   - a rise otherwise, but only when the rate was what held the scan back
 *     in that epoch (its tokens ran out, and it started at least half of what
 *     the rate allowed: a scan held back by max_inflight or by the CPU gives
 *     no evidence that a higher rate is safe): doubling per epoch from
 *     AM_RATE_START until the first back-off; after one, quickly back to 85% of
 *     the rate that lost, then slowly past it (1% per epoch), and quickly
 *     again once it has gone 2 s past it without a loss (the loss is
 *     gone: a rule removed, a link freed).
 *   - max_rate (when not 0) caps the rate at all times.
 * And while losses are being seen (the last within 3 s), the scan (not
 * this file) tries again, with a new connect paced like a new host, a host
 * still unanswered at its deadline, up to three times: its SYNs may have
 * been among those dropped.
 *
 * Pure arithmetic on times the caller passes: the unit test drives it with
 * a made-up clock. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AM_RATE_START 2000.0 /* connects per second at the start of a pass */
#define AM_RATE_FLOOR 50.0   /* the lowest a back-off goes (unless max_rate is lower) */

typedef struct {
  double rate;    /* connects per second allowed now */
  double ceiling; /* max_rate, or 0: none */
  gboolean backed_off;
  double lost_rate;      /* the rate the last loss was started at */
  gint64 last_cut_us;    /* when the last back-off was */
  gint64 last_loss_us;   /* when a loss was last seen; 0: never */
  guint64 losses_seen;   /* losses by the last tick */
  gint64 probe_since_us; /* when the rate went past lost_rate; 0: not yet */
  gint64 epoch_us;       /* when this epoch started */
  gboolean starved;      /* the rate held the scan back this epoch */
  guint64 started;       /* connects started this epoch */
  guint answers;         /* connects answered this epoch (started after the cut) */
  guint retransmitted;   /* ... of which after a retransmission */
  gboolean local_error;  /* this epoch */
  double loss_rate;      /* the rate the first loss counted this epoch was started at */
  guint8 beacons;        /* the last beacon outcomes, a bit each: 1 = lost */
  guint8 n_beacons;
  /* For the report. */
  guint backoffs;
  guint64 losses;
  double lowest;  /* after a back-off; 0: none */
  double highest; /* reached */
} AmScanRate;

void am_scan_rate_init(AmScanRate *r, guint max_rate, gint64 now_us);

/* The tokens ran out before the scan could start all it had room for. */
void am_scan_rate_starved(AmScanRate *r);

/* @n connects were started. */
void am_scan_rate_started(AmScanRate *r, guint n);

/* A connect started at @started_us (when the rate was @rate_then) was
 * answered; @retransmitted: only after the kernel sent its SYN again. */
void am_scan_rate_answer(AmScanRate *r, gint64 started_us, double rate_then,
                         gboolean retransmitted);

/* A beacon started at @started_us came back (@lost FALSE) or is overdue. */
void am_scan_rate_beacon(AmScanRate *r, gint64 started_us, double rate_then, gboolean lost);

/* The system refused to start a connect for want of buffers or ports. */
void am_scan_rate_local_error(AmScanRate *r, gint64 now_us);

/* Ends the epoch when it is due: backs off or rises. TRUE when the rate
 * changed. */
gboolean am_scan_rate_tick(AmScanRate *r, gint64 now_us);

/* Whether a loss was seen lately (within @window_us): silent hosts then get
 * a second deadline, since their SYN may have been one of those dropped. */
gboolean am_scan_rate_lossy(const AmScanRate *r, gint64 now_us, gint64 window_us);

G_END_DECLS
