/* A TCP connect sweep on the GLib main loop: non-blocking connect() to each
 * host's ports, at most max_inflight connections at once, started at a rate
 * that adapts to the network (am-cidr-rate.h: fast while every answer comes
 * back, slower when answers get lost) and never above max_rate, each host
 * under one deadline, the whole pass under a time budget. A port that accepts is reported; the
 * connection is closed at once (the selector talks to the miner later).
 *
 * Raw sockets in one epoll set, watched by one GSource, instead of a
 * GSocketClient per host: a /16 is 65,534 connects, and GLib's per-fd
 * sources would make every main loop wake-up walk every socket in flight. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define AM_SCAN_MAX_PORTS 8

typedef struct {
  guint max_inflight;               /* connections open at once (>= 1) */
  guint max_rate;                   /* connections started per second at most; 0: no cap */
  guint host_timeout_ms;            /* one host, every port, connect only */
  guint64 time_budget_ms;           /* the whole pass; 0: none */
  guint16 ports[AM_SCAN_MAX_PORTS]; /* in order of preference */
  guint n_ports;
} AmScanLimits;

typedef struct {
  gint64 started_us; /* wall clock */
  gint64 duration_ms;
  guint64 hosts_tried;   /* hosts whose probe finished */
  guint64 open;          /* hosts that accepted on some port */
  guint64 refused;       /* every port refused: fast negative answers */
  guint64 timed_out;     /* no answer within the deadline on some port */
  guint64 unreachable;   /* no route, ... */
  gboolean budget_spent; /* stopped starting hosts: time_budget ran out */
  /* The adaptive rate (connects per second). */
  guint rate;         /* at the end */
  guint rate_lowest;  /* after a back-off; 0: there was none */
  guint rate_highest; /* reached */
  guint backoffs;
  guint64 losses; /* beacons dropped, answers after a retransmission, local errors */
} AmScanStats;

/* Writes the next host (an address literal) to @buf; FALSE when there are
 * no more. Called as the scan has room, never ahead of need. */
typedef gboolean (*AmScanNextFunc)(gpointer user_data, char *buf, gsize len);
/* @host accepted on @port, the first of the ports in preference order that
 * did (a host is reported at most once per pass). */
typedef void (*AmScanFoundFunc)(const char *host, guint16 port, gpointer user_data);

/* Runs one pass. @next and @found are called with @user_data from the main
 * loop of the thread-default context. Completes when every host was tried
 * (or the budget ran out and the hosts in flight finished), or with
 * G_IO_ERROR_CANCELLED. */
void am_scan_async(const AmScanLimits *limits, AmScanNextFunc next, AmScanFoundFunc found,
                   gpointer user_data, GCancellable *cancellable, GAsyncReadyCallback callback,
                   gpointer callback_data);
/* @stats (optional) receives the counters, also on failure. */
gboolean am_scan_finish(GAsyncResult *result, AmScanStats *stats, GError **error);

G_END_DECLS
