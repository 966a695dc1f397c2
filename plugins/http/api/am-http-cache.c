/* Every miner as the API writes it, kept between requests (see the header). */
#include "am-http-cache.h"
#include "am-http-sample-json.h"

#include <string.h>

/* What a request asked for: the refresh prepares the same for the miners
 * that change, until nobody has asked for KEEP_FRESH_US. */
typedef enum { WANT_METRICS, WANT_BRIEF, WANT_FULL, N_WANTS } Want;

#define REFRESH_MS 1000
#define KEEP_FRESH_US (5 * 60 * G_USEC_PER_SEC)

struct _AmHttpFleet {
  AmContext *ctx;
  GHashTable *by_address; /* address (the entry's) -> AmHttpFleetMiner* */
  GPtrArray *ordered;     /* AmHttpFleetMiner* (borrowed), address order */
  guint mark;
  guint64 generation;
  gint64 wanted_until[N_WANTS]; /* monotonic */
  guint refresh_id;
};

static void
miner_drop_texts(AmHttpFleetMiner *e)
{
  g_clear_pointer(&e->head, g_free);
  g_clear_pointer(&e->tail, g_free);
  g_clear_pointer(&e->sample_full, g_free);
  g_clear_pointer(&e->sample_brief, g_free);
  g_clear_pointer(&e->metrics, am_http_miner_block_unref);
}

static void
miner_free(AmHttpFleetMiner *e)
{
  miner_drop_texts(e);
  am_http_miner_clear(&e->miner);
  g_free(e);
}

gboolean
am_http_fleet_cache_disabled(void)
{
  return g_strcmp0(g_getenv("ANTMON_HTTP_NO_CACHE"), "1") == 0;
}

AmHttpFleet *
am_http_fleet_new(AmContext *ctx)
{
  AmHttpFleet *f = g_new0(AmHttpFleet, 1);
  f->ctx = ctx;
  f->by_address = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)miner_free);
  f->ordered = g_ptr_array_new();
  return f;
}

void
am_http_fleet_free(AmHttpFleet *f)
{
  if (f == NULL)
    return;
  if (f->refresh_id != 0)
    g_source_remove(f->refresh_id);
  g_ptr_array_unref(f->ordered);
  g_hash_table_unref(f->by_address);
  g_free(f);
}

/* ---- update ------------------------------------------------------------------------- */

typedef struct {
  AmHttpFleet *fleet;
  gboolean changed;    /* any miner */
  gboolean membership; /* miners added */
} Update;

static void
update_one(const AmMinerView *view, gpointer user_data)
{
  Update *u = user_data;
  AmHttpFleet *f = u->fleet;
  AmHttpFleetMiner *e = g_hash_table_lookup(f->by_address, view->address);
  if (e == NULL) {
    e = g_new0(AmHttpFleetMiner, 1);
    am_http_miner_init(&e->miner, view);
    g_hash_table_insert(f->by_address, e->miner.address, e);
    u->changed = u->membership = TRUE;
  } else if (!am_http_miner_is_view(&e->miner, view)) {
    /* The key is the entry's own address string: take it out while the
     * copy is replaced (the address itself is the same). */
    g_hash_table_steal(f->by_address, view->address);
    miner_drop_texts(e);
    am_http_miner_clear(&e->miner);
    am_http_miner_init(&e->miner, view);
    g_hash_table_insert(f->by_address, e->miner.address, e);
    u->changed = TRUE;
  }
  e->mark = f->mark;
}

static gboolean
not_seen(gpointer key, gpointer value, gpointer user_data)
{
  const AmHttpFleetMiner *e = value;
  return e->mark != *(const guint *)user_data;
}

static void
reorder(AmHttpFleet *f)
{
  g_ptr_array_set_size(f->ordered, 0);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, f->by_address);
  while (g_hash_table_iter_next(&it, NULL, &value))
    g_ptr_array_add(f->ordered, value);
  am_http_miners_sort(f->ordered, AM_HTTP_SORT_HOST, FALSE);
}

gboolean
am_http_fleet_update(AmHttpFleet *f)
{
  if (am_http_fleet_cache_disabled())
    g_hash_table_remove_all(f->by_address);
  Update u = {.fleet = f};
  f->mark++;
  am_context_foreach_miner(f->ctx, update_one, &u);
  gboolean removed = g_hash_table_foreach_remove(f->by_address, not_seen, &f->mark) > 0;
  if (u.membership || removed || am_http_fleet_cache_disabled())
    reorder(f);
  if (u.changed || removed)
    f->generation++;
  return u.changed || removed;
}

guint64
am_http_fleet_generation(AmHttpFleet *f)
{
  return f->generation;
}

GPtrArray *
am_http_fleet_miners(AmHttpFleet *f)
{
  return f->ordered;
}

/* ---- texts, made on first use --------------------------------------------------------- */

static void refresh_start(AmHttpFleet *f);

/* Notes that a request wanted @what, so the refresh keeps it ready. */
static void
wanted(AmHttpFleet *f, Want what)
{
  f->wanted_until[what] = g_get_monotonic_time() + KEEP_FRESH_US;
  refresh_start(f);
}

const char *
am_http_fleet_miner_head(AmHttpFleetMiner *e)
{
  if (e->head == NULL) {
    GString *out = g_string_sized_new(256);
    am_http_miner_write_json_head(out, &e->miner);
    e->head = g_string_free(out, FALSE);
  }
  return e->head;
}

const char *
am_http_fleet_miner_tail(AmHttpFleetMiner *e)
{
  if (e->tail == NULL) {
    GString *out = g_string_sized_new(128);
    am_http_miner_write_json_tail(out, &e->miner);
    e->tail = g_string_free(out, FALSE);
  }
  return e->tail;
}

static const char *
sample_text(AmHttpFleetMiner *e, gboolean brief)
{
  if (e->miner.sample == NULL)
    return NULL;
  char **text = brief ? &e->sample_brief : &e->sample_full;
  if (*text == NULL)
    *text =
        brief ? am_http_sample_brief_json(e->miner.sample) : am_http_sample_json(e->miner.sample);
  return *text;
}

const char *
am_http_fleet_miner_sample(AmHttpFleet *f, AmHttpFleetMiner *e, gboolean brief)
{
  wanted(f, brief ? WANT_BRIEF : WANT_FULL);
  return sample_text(e, brief);
}

static AmHttpMinerBlock *
metrics_block(AmHttpFleetMiner *e)
{
  if (e->metrics == NULL)
    e->metrics = am_http_miner_block_new(&e->miner);
  return e->metrics;
}

AmHttpMinerBlock *
am_http_fleet_miner_metrics(AmHttpFleet *f, AmHttpFleetMiner *e)
{
  wanted(f, WANT_METRICS);
  return metrics_block(e);
}

/* ---- the refresh ------------------------------------------------------------------------ */

/* Each second while someone asks: the miners polled since the last look
 * get the texts that were asked for, spread over the interval instead of
 * all at once in the next request. */
static gboolean
on_refresh(gpointer user_data)
{
  AmHttpFleet *f = user_data;
  gint64 now = g_get_monotonic_time();
  gboolean want[N_WANTS], any = FALSE;
  for (guint i = 0; i < N_WANTS; i++)
    any |= want[i] = now < f->wanted_until[i];
  if (!any) {
    /* Nobody asks any more: give the memory back (some 4 KB a miner). */
    f->refresh_id = 0;
    g_ptr_array_set_size(f->ordered, 0);
    g_hash_table_remove_all(f->by_address);
    f->generation++;
    return G_SOURCE_REMOVE;
  }
  if (!am_http_fleet_update(f))
    return G_SOURCE_CONTINUE;
  for (guint i = 0; i < f->ordered->len; i++) {
    AmHttpFleetMiner *e = f->ordered->pdata[i];
    if (want[WANT_METRICS])
      metrics_block(e);
    if (want[WANT_BRIEF] || want[WANT_FULL]) {
      am_http_fleet_miner_head(e);
      am_http_fleet_miner_tail(e);
    }
    if (want[WANT_BRIEF])
      sample_text(e, TRUE);
    if (want[WANT_FULL])
      sample_text(e, FALSE);
  }
  return G_SOURCE_CONTINUE;
}

static void
refresh_start(AmHttpFleet *f)
{
  if (f->refresh_id == 0 && !am_http_fleet_cache_disabled())
    f->refresh_id = g_timeout_add(REFRESH_MS, on_refresh, f);
}
