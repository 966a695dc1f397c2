/* What the JSON endpoints say about miners, built from copies of the core's
 * miner views: filter, sort, the miner object, fleet totals, and store rows
 * with their times made readable.
 *
 * Pure (no I/O, callers pass "now"), so the tests build fleets by hand. */
#pragma once

#include "am-http-params.h"
#include <antmon/antmon.h>

G_BEGIN_DECLS

/* One miner, copied out of an AmMinerView (which lives only during the
 * core's callback). */
typedef struct {
  char *address;
  char *host;
  guint16 port;
  char *name;
  int state; /* AmHttpState */
  char *state_reason;
  char *last_error;
  gint64 last_seen_us;
  guint failures;
  char *driver;
  char *source;
  AmSample *sample;    /* (owned ref) or NULL */
  AmActionSet actions; /* what its driver can do to it now */
} AmHttpMiner;

/* Returns: (transfer full). */
AmHttpMiner *am_http_miner_new(const AmMinerView *view);
/* The same into @m (zeroed or cleared). */
void am_http_miner_init(AmHttpMiner *m, const AmMinerView *view);
/* Frees what @m holds, not @m. */
void am_http_miner_clear(AmHttpMiner *m);
/* TRUE when @m is a copy of @view as it is now: same sample, state,
 * counters and names, so whatever was made from @m still holds. */
gboolean am_http_miner_is_view(const AmHttpMiner *m, const AmMinerView *view);
/* Fills @out with pointers into @view, copying nothing: for work done
 * within the core's callback (fleet totals). Never free it. */
void am_http_miner_borrow(const AmMinerView *view, AmHttpMiner *out);
void am_http_miner_free(AmHttpMiner *miner);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmHttpMiner, am_http_miner_free)

/* The filters of GET /api/miners. Unset fields match everything. */
typedef struct {
  guint states;      /* mask of 1 << AmHttpState, 0: all */
  const char *model; /* case-insensitive substring */
  const char *q;     /* substring of host, address, name or model */
} AmHttpMinerFilter;

gboolean am_http_miner_matches(const AmHttpMiner *miner, const AmHttpMinerFilter *filter);

/* Sorts AmHttpMiner* by @key; unknown values go last whichever the
 * direction, and ties fall back to the address so the order is stable
 * between refreshes. */
void am_http_miners_sort(GPtrArray *miners, AmHttpSortKey key, gboolean descending);

/* How the miner objects describe age. */
typedef struct {
  gint64 now_us;
  gint64 stale_after_us; /* a sample older than this is stale */
} AmHttpClock;

/* Appends the miner object {address, host, port, name, state,
 * state_reason, last_error, last_seen, age_s, stale, failures, driver,
 * source, actions, sample} to @out (actions: the names of what can be done
 * to it, in the order of AmActionKind). @sample_json is its sample as JSON text
 * (am_sample_to_json), or NULL to write null. */
void am_http_miner_write_json(GString *out, const AmHttpMiner *miner, const AmHttpClock *clock,
                              const char *sample_json);

/* The same object in three parts, so a cache can keep the parts that do
 * not depend on the time: head ("{" to "last_seen"), age ("age_s",
 * "stale"), tail ("failures" to the "sample" member's name); the caller
 * adds the sample (or null) and "}". */
void am_http_miner_write_json_head(GString *out, const AmHttpMiner *miner);
void am_http_miner_write_json_age(GString *out, const AmHttpMiner *miner, const AmHttpClock *clock);
void am_http_miner_write_json_tail(GString *out, const AmHttpMiner *miner);

/* GET /api/summary without the poll/discovery parts: counts by state,
 * totals from the latest samples of miners that answer, the hottest miner.
 * Miners are added one at a time (borrowed ones too: nothing is kept but
 * the hottest miner's name). */
typedef struct _AmHttpSummary AmHttpSummary;

AmHttpSummary *am_http_summary_new(const AmHttpClock *clock);
void am_http_summary_add(AmHttpSummary *summary, const AmHttpMiner *miner);
/* Frees @summary. Returns: (transfer full) a JSON object node. */
JsonNode *am_http_summary_finish(AmHttpSummary *summary);

/* The same for a list of miners at once. (transfer full) */
JsonNode *am_http_summary_json(GPtrArray *miners, const AmHttpClock *clock);

/* Rewrites a store reply for the API: each row's "time" (epoch seconds)
 * becomes ISO 8601 UTC; an "action" event's "detail" (the action as JSON
 * text) becomes that JSON object; "rows", "next_cursor" and "resolution" are kept
 * (a missing next_cursor becomes null). Fails when the reply is not an
 * object with a "rows" array.
 * Returns: (transfer full) a JSON object node. */
JsonNode *am_http_store_rows_to_api(JsonNode *store_reply, GError **error);

/* Seconds as ISO 8601 UTC ("2026-11-24T10:00:00Z"), or NULL when @node is
 * not a number (or numeric string) of epoch seconds. (transfer full) */
char *am_http_epoch_node_to_iso8601(JsonNode *node);

G_END_DECLS
