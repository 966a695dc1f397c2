/* The scheduler: polls every known miner every interval (with jitter) on
 * the main loop, at most max_inflight at once, each under a hard deadline,
 * backing off from miners that fail, and keeps each miner's state. */
#pragma once

#include "am-instances.h"
#include <antmon/error.h>

G_BEGIN_DECLS

typedef enum {
  AM_MINER_UNREACHABLE = 0, /* never reached yet */
  AM_MINER_ONLINE,
  AM_MINER_DEGRADED, /* answers, but its sample lists problems */
  AM_MINER_OFFLINE,  /* offline_after consecutive failures */
  AM_MINER_PAUSED,   /* says it is paused or asleep, or antmon paused it */
} AmMinerState;
#define AM_MINER_N_STATES (AM_MINER_PAUSED + 1)

const char *am_miner_state_to_string(AmMinerState state);

/* What names a miner whatever address it is reached at: "mac:<12 hex>",
 * else "serial:<serial>"; NULL when the sample has neither, or only a
 * placeholder (all zeros, aa:bb:cc:dd:ee:ff, "unknown"). (transfer full) */
char *am_miner_identity(const AmSample *sample);

typedef struct {
  AmMiner *miner;
  char *source;       /* "static", "cidr", "mdns", "cli" */
  AmInstance *driver; /* NULL until identified */
  AmMinerState state;
  char *reason;        /* why offline/degraded/unreachable, or NULL */
  int last_error;      /* AM_ERROR code of the last failure, -1 if none */
  gint64 last_seen_us; /* last successful poll, 0 if never */
  guint failures;      /* consecutive */
  AmSample *latest;    /* last good sample, or NULL */
  /* Set by the action manager: antmon paused this miner and has not resumed
   * it (it stays "paused" even if it stops answering), and until when a
   * reboot or restart it asked for may keep it from answering (failures
   * then do not make it offline). */
  gboolean held;
  gint64 expect_down_until_us;
  /*< private >*/
  gint64 due_us;
  gboolean in_flight;
  gboolean removed;
  guint parse_failures;
  GSequenceIter *due_iter;
  char *identity; /* "mac:..." or "serial:..." once a sample told, or NULL */
} AmMinerEntry;

typedef struct {
  guint64 interval_ms;
  guint64 poll_timeout_ms;
  guint max_inflight;
  guint offline_after;
  double jitter; /* fraction of interval, e.g. 0.1 */
} AmSchedulerConfig;

/* Counters of one pass (one interval window). */
typedef struct {
  gint64 started_us;
  guint polled;
  guint succeeded;
  guint failed;
  guint failed_by_code[AM_ERROR_BUSY + 1];
  gint64 first_start_us;
  gint64 last_done_us;
} AmPassStats;

/* How long a pass's polls took, first start to last end, in ms (0 when
 * none ended). */
gint64 am_pass_stats_duration_ms(const AmPassStats *pass);

typedef struct _AmScheduler AmScheduler;

typedef void (*AmSampleHook)(AmMinerEntry *entry, AmSample *sample, gpointer user_data);
typedef void (*AmStateHook)(AmMinerEntry *entry, AmMinerState old_state, gpointer user_data);
/* A miner added (@removed FALSE: a new entry, before its first poll) or
 * forgotten (@removed TRUE: am_scheduler_remove(), the entry still whole).
 * Freeing the scheduler forgets nothing. */
typedef void (*AmMinerHook)(AmMinerEntry *entry, gboolean removed, gpointer user_data);

/* @drivers: AmInstance* of kind driver (borrowed; must outlive the scheduler). */
AmScheduler *am_scheduler_new(const AmSchedulerConfig *config, GPtrArray *drivers);
void am_scheduler_free(AmScheduler *scheduler);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmScheduler, am_scheduler_free)

/* Adds @miner (deduplicated by address; the existing entry is returned).
 * Once a sample names a miner's MAC or serial, a second address of the same
 * miner is folded into the first entry (see dedupe() in the .c): adding that
 * address again returns the entry kept. A discovered address that proved
 * to be no miner (AM_ERROR_NOT_MINER: a printer's web page) is dropped
 * quietly and not added back by discovery for six hours: NULL then. Miners
 * from the configuration ("static") are always added. */
AmMinerEntry *am_scheduler_add(AmScheduler *scheduler, AmMiner *miner, const char *source);
void am_scheduler_remove(AmScheduler *scheduler, const char *address);
AmMinerEntry *am_scheduler_lookup(AmScheduler *scheduler, const char *address);
/* By address first ("host:port"), else the first miner with that host or
 * name: what a user types. NULL when none. */
AmMinerEntry *am_scheduler_find(AmScheduler *scheduler, const char *key);
/* The driver instances (AmInstance*) it chooses from. (transfer none) */
GPtrArray *am_scheduler_get_drivers(AmScheduler *scheduler);
/* The web side of @driver's family ("antminer" -> "antminer-web") among
 * those drivers, or NULL; resolved once, when the scheduler is made (the
 * HTTP API asks for every miner it lists). (transfer none) */
AmInstance *am_scheduler_web_companion(AmScheduler *scheduler, AmInstance *driver);
/* (transfer container) AmMinerEntry*, in no particular order. */
GPtrArray *am_scheduler_entries(AmScheduler *scheduler);

/* Polls @entry at once (when it is not being polled already), then on its
 * usual schedule; for a user who is waiting, as the raw view's. */
void am_scheduler_poll_now(AmScheduler *scheduler, AmMinerEntry *entry);

void am_scheduler_start(AmScheduler *scheduler);
/* Cancels polls in flight and stops the timers. */
void am_scheduler_stop(AmScheduler *scheduler);

void am_scheduler_add_sample_hook(AmScheduler *scheduler, AmSampleHook hook, gpointer user_data);
/* Stops calling @hook with @user_data (a part that goes before the
 * scheduler does). */
void am_scheduler_remove_sample_hook(AmScheduler *scheduler, AmSampleHook hook, gpointer user_data);
void am_scheduler_add_state_hook(AmScheduler *scheduler, AmStateHook hook, gpointer user_data);
void am_scheduler_remove_state_hook(AmScheduler *scheduler, AmStateHook hook, gpointer user_data);
void am_scheduler_add_miner_hook(AmScheduler *scheduler, AmMinerHook hook, gpointer user_data);
void am_scheduler_remove_miner_hook(AmScheduler *scheduler, AmMinerHook hook, gpointer user_data);

/* The last completed pass, and the number of polls in flight now. */
const AmPassStats *am_scheduler_last_pass(AmScheduler *scheduler);
guint am_scheduler_in_flight(AmScheduler *scheduler);

G_END_DECLS
