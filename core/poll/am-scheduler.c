/* The scheduler. One GSource timer drives everything: miners wait in a
 * sequence ordered by when they are due, so 10,000 miners cost one timer,
 * not 10,000 GSources the main loop would walk on every iteration. */
#include "am-scheduler.h"
#include "am-log.h"
#include "am-miner-private.h"
#include "am-selector.h"
#include <antmon/error.h>
#include <string.h>

#define TICK_MS 50
/* A miner that keeps failing is tried at most this many intervals apart. */
#define MAX_BACKOFF_INTERVALS 8
/* Parse failures in a row after which the driver is chosen again. */
#define REPROBE_AFTER_PARSE_FAILURES 3

typedef struct {
  AmSampleHook func;
  gpointer data;
} SampleHook;

typedef struct {
  AmStateHook func;
  gpointer data;
} StateHook;

typedef struct {
  AmMinerHook func;
  gpointer data;
} MinerHook;

struct _AmScheduler {
  AmSchedulerConfig config;
  GPtrArray *drivers;
  GHashTable *web_companions; /* driver AmInstance* -> its "NAME-web" AmInstance* */
  GHashTable *entries;        /* address -> AmMinerEntry* */
  GHashTable *identities;     /* AmMinerEntry.identity -> AmMinerEntry* */
  GHashTable *aliases;        /* address folded into another entry -> kept address */
  /* Discovered addresses that proved to be no miner (a printer's web page):
   * address -> monotonic time until which discovery may not add them back. */
  GHashTable *not_miners;
  GSequence *due; /* AmMinerEntry*, by due_us */
  guint in_flight;
  guint tick_id;
  GCancellable *cancellable;
  GRand *rand;
  GArray *sample_hooks;
  GArray *state_hooks;
  GArray *miner_hooks;
  AmPassStats pass;
  AmPassStats last_pass;
};

typedef struct {
  AmScheduler *scheduler;
  AmMinerEntry *entry;
  GCancellable *cancellable;
  gulong stop_handler; /* on the scheduler's cancellable */
  guint deadline_id;
  gboolean timed_out;
} Poll;

const char *
am_miner_state_to_string(AmMinerState state)
{
  switch (state) {
  case AM_MINER_UNREACHABLE:
    return "unreachable";
  case AM_MINER_ONLINE:
    return "online";
  case AM_MINER_DEGRADED:
    return "degraded";
  case AM_MINER_OFFLINE:
    return "offline";
  case AM_MINER_PAUSED:
    return "paused";
  }
  return "unreachable";
}

static void
entry_free(AmMinerEntry *e)
{
  am_miner_unref(e->miner);
  g_free(e->source);
  g_free(e->reason);
  g_free(e->identity);
  if (e->latest != NULL)
    am_sample_unref(e->latest);
  g_free(e);
}

static gint
compare_due(gconstpointer a, gconstpointer b, gpointer user_data)
{
  const AmMinerEntry *x = a, *y = b;
  (void)user_data;
  if (x->due_us != y->due_us)
    return x->due_us < y->due_us ? -1 : 1;
  return x < y ? -1 : (x > y ? 1 : 0);
}

/* driver -> the driver named after it with "-web", for each that has one. */
static GHashTable *
find_web_companions(GPtrArray *drivers)
{
  GHashTable *companions = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; i < drivers->len; i++) {
    AmInstance *driver = drivers->pdata[i];
    g_autofree char *name = g_strconcat(driver->info->name, "-web", NULL);
    for (guint j = 0; j < drivers->len; j++) {
      AmInstance *web = drivers->pdata[j];
      if (g_str_equal(web->info->name, name)) {
        g_hash_table_insert(companions, driver, web);
        break;
      }
    }
  }
  return companions;
}

AmScheduler *
am_scheduler_new(const AmSchedulerConfig *config, GPtrArray *drivers)
{
  AmScheduler *s = g_new0(AmScheduler, 1);
  s->config = *config;
  s->drivers = g_ptr_array_ref(drivers);
  s->web_companions = find_web_companions(drivers);
  s->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)entry_free);
  s->due = g_sequence_new(NULL);
  s->identities = g_hash_table_new(g_str_hash, g_str_equal);
  s->aliases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->not_miners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->cancellable = g_cancellable_new();
  s->rand = g_rand_new();
  s->sample_hooks = g_array_new(FALSE, FALSE, sizeof(SampleHook));
  s->state_hooks = g_array_new(FALSE, FALSE, sizeof(StateHook));
  s->miner_hooks = g_array_new(FALSE, FALSE, sizeof(MinerHook));
  return s;
}

void
am_scheduler_free(AmScheduler *s)
{
  if (s == NULL)
    return;
  am_scheduler_stop(s);
  g_sequence_free(s->due);
  g_hash_table_unref(s->identities);
  g_hash_table_unref(s->entries);
  g_hash_table_unref(s->aliases);
  g_hash_table_unref(s->not_miners);
  g_ptr_array_unref(s->drivers);
  g_hash_table_unref(s->web_companions);
  g_object_unref(s->cancellable);
  g_rand_free(s->rand);
  g_array_unref(s->sample_hooks);
  g_array_unref(s->state_hooks);
  g_array_unref(s->miner_hooks);
  g_free(s);
}

static void
schedule(AmScheduler *s, AmMinerEntry *e, gint64 due_us)
{
  if (e->due_iter != NULL)
    g_sequence_remove(e->due_iter);
  e->due_us = due_us;
  e->due_iter = g_sequence_insert_sorted(s->due, e, compare_due, NULL);
}

static gint64
jittered_interval_us(AmScheduler *s, guint multiplier)
{
  double interval = (double)s->config.interval_ms * 1000.0 * multiplier;
  double jitter = s->config.jitter * interval;
  return (gint64)(interval + g_rand_double_range(s->rand, -jitter, jitter));
}

/* Discovery keeps finding the same printer on every sweep; once it proved
 * to be no miner, it is left alone for NOT_MINER_HOLD_US. A miner named in
 * the configuration is always polled. */
#define NOT_MINER_HOLD_US (6 * G_TIME_SPAN_HOUR)

static gboolean
is_known_not_miner(AmScheduler *s, const char *address, const char *source)
{
  gint64 *until = g_hash_table_lookup(s->not_miners, address);
  if (until == NULL || g_strcmp0(source, "static") == 0)
    return FALSE;
  if (g_get_monotonic_time() < *until)
    return TRUE;
  g_hash_table_remove(s->not_miners, address);
  return FALSE;
}

static gboolean
hold_is_over(gpointer key, gpointer value, gpointer now)
{
  (void)key;
  return *(gint64 *)value <= *(gint64 *)now;
}

/* Drops a discovered address that answered as no miner, quietly: it is not
 * a failing miner, and nobody asked for it. Returns TRUE when dropped. */
static gboolean
drop_not_miner(AmScheduler *s, AmMinerEntry *e, const GError *error)
{
  if (!g_error_matches(error, AM_ERROR, AM_ERROR_NOT_MINER) || g_strcmp0(e->source, "static") == 0)
    return FALSE;
  const char *address = am_miner_get_address(e->miner);
  g_debug("%s: %s; found by %s, not polled again", address, error->message, e->source);
  /* Forget the ones whose hold ran out, so a device long gone costs nothing. */
  gint64 now = g_get_monotonic_time();
  g_hash_table_foreach_remove(s->not_miners, hold_is_over, &now);
  gint64 *until = g_new(gint64, 1);
  *until = now + NOT_MINER_HOLD_US;
  g_hash_table_replace(s->not_miners, g_strdup(address), until);
  am_scheduler_remove(s, address);
  return TRUE;
}

static void
tell_miner_hooks(AmScheduler *s, AmMinerEntry *e, gboolean removed)
{
  for (guint i = 0; i < s->miner_hooks->len; i++) {
    MinerHook *h = &g_array_index(s->miner_hooks, MinerHook, i);
    h->func(e, removed, h->data);
  }
}

AmMinerEntry *
am_scheduler_add(AmScheduler *s, AmMiner *miner, const char *source)
{
  const char *address = am_miner_get_address(miner);
  AmMinerEntry *e = g_hash_table_lookup(s->entries, address);
  if (e != NULL)
    return e;
  if (is_known_not_miner(s, address, source))
    return NULL;
  /* An address already known to be another entry's miner. */
  const char *kept = g_hash_table_lookup(s->aliases, address);
  if (kept != NULL && (e = g_hash_table_lookup(s->entries, kept)) != NULL)
    return e;
  e = g_new0(AmMinerEntry, 1);
  e->miner = am_miner_ref(miner);
  e->source = g_strdup(source);
  e->state = AM_MINER_UNREACHABLE;
  e->last_error = -1;
  am_miner_set_timeout_ms(miner, (guint)s->config.poll_timeout_ms);
  g_hash_table_insert(s->entries, (gpointer)am_miner_get_address(e->miner), e);
  /* Spread first polls over a short window so a big fleet does not start
   * with one burst; max_inflight bounds it anyway. */
  gint64 spread = MIN((gint64)s->config.interval_ms, 2000) * 1000;
  schedule(s, e, g_get_monotonic_time() + g_rand_int_range(s->rand, 0, (gint32)spread + 1));
  tell_miner_hooks(s, e, FALSE);
  return e;
}

AmMinerEntry *
am_scheduler_lookup(AmScheduler *s, const char *address)
{
  return g_hash_table_lookup(s->entries, address);
}

AmMinerEntry *
am_scheduler_find(AmScheduler *s, const char *key)
{
  if (key == NULL)
    return NULL;
  AmMinerEntry *e = am_scheduler_lookup(s, key);
  if (e != NULL)
    return e;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, s->entries);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    AmMinerEntry *candidate = value;
    if (g_str_equal(am_miner_get_host(candidate->miner), key) ||
        g_str_equal(am_miner_get_name(candidate->miner), key))
      return candidate;
  }
  return NULL;
}

GPtrArray *
am_scheduler_get_drivers(AmScheduler *s)
{
  return s->drivers;
}

AmInstance *
am_scheduler_web_companion(AmScheduler *s, AmInstance *driver)
{
  return g_hash_table_lookup(s->web_companions, driver);
}

static void
forget_identity(AmScheduler *s, AmMinerEntry *e)
{
  if (e->identity != NULL && g_hash_table_lookup(s->identities, e->identity) == e)
    g_hash_table_remove(s->identities, e->identity);
}

void
am_scheduler_remove(AmScheduler *s, const char *address)
{
  AmMinerEntry *e = g_hash_table_lookup(s->entries, address);
  if (e == NULL)
    return;
  tell_miner_hooks(s, e, TRUE);
  forget_identity(s, e);
  if (e->due_iter != NULL)
    g_sequence_remove(e->due_iter);
  e->due_iter = NULL;
  if (e->in_flight) {
    /* The poll in flight owns it until it completes. */
    e->removed = TRUE;
    g_hash_table_steal(s->entries, address);
    return;
  }
  g_hash_table_remove(s->entries, address);
}

GPtrArray *
am_scheduler_entries(AmScheduler *s)
{
  GPtrArray *out = g_ptr_array_sized_new(g_hash_table_size(s->entries));
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, s->entries);
  while (g_hash_table_iter_next(&it, NULL, &value))
    g_ptr_array_add(out, value);
  return out;
}

/* A hook array holds SampleHook, StateHook or MinerHook: the same layout
 * (a function pointer, then its data), so one pair of helpers serves all. */
static void
hooks_add(GArray *hooks, gpointer func, gpointer data)
{
  SampleHook h = {(AmSampleHook)func, data};
  g_array_append_val(hooks, h);
}

static void
hooks_remove(GArray *hooks, gpointer func, gpointer data)
{
  for (guint i = 0; i < hooks->len; i++) {
    SampleHook *h = &g_array_index(hooks, SampleHook, i);
    if ((gpointer)h->func == func && h->data == data) {
      g_array_remove_index(hooks, i);
      return;
    }
  }
}

void
am_scheduler_add_sample_hook(AmScheduler *s, AmSampleHook hook, gpointer user_data)
{
  hooks_add(s->sample_hooks, (gpointer)hook, user_data);
}

void
am_scheduler_remove_sample_hook(AmScheduler *s, AmSampleHook hook, gpointer user_data)
{
  hooks_remove(s->sample_hooks, (gpointer)hook, user_data);
}

void
am_scheduler_add_state_hook(AmScheduler *s, AmStateHook hook, gpointer user_data)
{
  hooks_add(s->state_hooks, (gpointer)hook, user_data);
}

void
am_scheduler_remove_state_hook(AmScheduler *s, AmStateHook hook, gpointer user_data)
{
  hooks_remove(s->state_hooks, (gpointer)hook, user_data);
}

void
am_scheduler_add_miner_hook(AmScheduler *s, AmMinerHook hook, gpointer user_data)
{
  hooks_add(s->miner_hooks, (gpointer)hook, user_data);
}

void
am_scheduler_remove_miner_hook(AmScheduler *s, AmMinerHook hook, gpointer user_data)
{
  hooks_remove(s->miner_hooks, (gpointer)hook, user_data);
}

const AmPassStats *
am_scheduler_last_pass(AmScheduler *s)
{
  return &s->last_pass;
}

guint
am_scheduler_in_flight(AmScheduler *s)
{
  return s->in_flight;
}

/* ---- state ------------------------------------------------------------- */

static void
set_state(AmScheduler *s, AmMinerEntry *e, AmMinerState state, const char *reason)
{
  AmMinerState old = e->state;
  gboolean reason_changed = g_strcmp0(e->reason, reason) != 0;
  g_free(e->reason);
  e->reason = g_strdup(reason);
  e->state = state;
  if (old == state && !reason_changed)
    return;
  if (old != state)
    am_log_miner(G_LOG_LEVEL_MESSAGE, am_miner_get_address(e->miner), "%s: %s -> %s%s%s",
                 am_miner_get_address(e->miner), am_miner_state_to_string(old),
                 am_miner_state_to_string(state), reason != NULL ? ": " : "",
                 reason != NULL ? reason : "");
  for (guint i = 0; i < s->state_hooks->len; i++) {
    StateHook *h = &g_array_index(s->state_hooks, StateHook, i);
    h->func(e, old, h->data);
  }
}

static char *
problems_text(AmSample *sample)
{
  if (sample->problems->len == 0)
    return NULL;
  g_ptr_array_add(sample->problems, NULL);
  char *text = g_strjoinv("; ", (char **)sample->problems->pdata);
  g_ptr_array_remove_index(sample->problems, sample->problems->len - 1);
  return text;
}

static void
on_success(AmScheduler *s, AmMinerEntry *e, AmSample *sample)
{
  /* A firmware upgrade may call for another driver: choose again next time. */
  if (e->latest != NULL && g_strcmp0(e->latest->firmware_version, sample->firmware_version) != 0)
    e->driver = NULL;
  if (e->latest != NULL)
    am_sample_unref(e->latest);
  e->latest = am_sample_ref(sample);
  e->failures = 0;
  e->parse_failures = 0;
  e->last_error = -1;
  e->last_seen_us = g_get_real_time();
  g_autofree char *problems = problems_text(sample);
  if (sample->mining == AM_MINING_PAUSED || sample->mining == AM_MINING_SLEEPING)
    set_state(s, e, AM_MINER_PAUSED, am_mining_state_name(sample->mining));
  else if (e->held)
    set_state(s, e, AM_MINER_PAUSED, "paused by antmon");
  else
    set_state(s, e, problems != NULL ? AM_MINER_DEGRADED : AM_MINER_ONLINE, problems);
  for (guint i = 0; i < s->sample_hooks->len; i++) {
    SampleHook *h = &g_array_index(s->sample_hooks, SampleHook, i);
    h->func(e, sample, h->data);
  }
}

static void
on_failure(AmScheduler *s, AmMinerEntry *e, const GError *error)
{
  e->failures++;
  e->last_error = error->domain == AM_ERROR ? error->code : AM_ERROR_FAILED;
  /* The replies of the next polls are what explains this one. */
  am_miner_want_raw(e->miner);
  if (e->last_error == AM_ERROR_PARSE || e->last_error == AM_ERROR_UNSUPPORTED) {
    if (++e->parse_failures >= REPROBE_AFTER_PARSE_FAILURES)
      e->driver = NULL;
  }
  g_debug("%s: poll failed (%u in a row): %s", am_miner_get_address(e->miner), e->failures,
          error->message);
  AmMinerState state = e->state;
  /* A miner antmon paused, or is rebooting, may stop answering: that is
   * what was asked for, not an outage. */
  gboolean expected = e->held || g_get_real_time() < e->expect_down_until_us;
  if (e->state != AM_MINER_UNREACHABLE && e->failures >= s->config.offline_after && !expected)
    state = AM_MINER_OFFLINE;
  /* Until then the miner keeps its state; the reason says what went wrong. */
  set_state(s, e, state, error->message);
}

/* ---- one miner, two addresses ----------------------------------------- */

/* A MAC as 12 lower-case hex digits, or NULL when it is missing or one of
 * the placeholders firmware reports before the network is up. */
static char *
normalise_mac(const char *mac)
{
  if (mac == NULL)
    return NULL;
  g_autoptr(GString) hex = g_string_new(NULL);
  for (const char *c = mac; *c != '\0'; c++) {
    if (g_ascii_isxdigit(*c))
      g_string_append_c(hex, g_ascii_tolower(*c));
    else if (*c != ':' && *c != '-' && *c != '.')
      return NULL;
  }
  if (hex->len != 12 || strspn(hex->str, "0") == 12 || strspn(hex->str, "f") == 12)
    return NULL;
  /* The documentation placeholder: recorded replies and unprovisioned
   * boards carry it, and it names no one unit. */
  if (g_str_equal(hex->str, "aabbccddeeff"))
    return NULL;
  return g_string_free(g_steal_pointer(&hex), FALSE);
}

static gboolean
serial_is_real(const char *serial)
{
  static const char *const placeholders[] = {"0", "-", "n/a", "na", "none", "null", "unknown"};
  if (serial == NULL || serial[0] == '\0')
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS(placeholders); i++)
    if (g_ascii_strcasecmp(serial, placeholders[i]) == 0)
      return FALSE;
  return TRUE;
}

char *
am_miner_identity(const AmSample *sample)
{
  g_autofree char *mac = normalise_mac(sample->mac);
  if (mac != NULL)
    return g_strdup_printf("mac:%s", mac);
  if (serial_is_real(sample->serial))
    return g_strdup_printf("serial:%s", sample->serial);
  return NULL;
}

/* Which of two entries for one miner to keep: a miner configured by hand
 * over a discovered one, then one that answers over one that does not
 * (@fresh just did), then the one known longer (@old). */
static gboolean
keep_fresh(const AmMinerEntry *old, const AmMinerEntry *fresh)
{
  gboolean old_static = g_strcmp0(old->source, "static") == 0;
  gboolean fresh_static = g_strcmp0(fresh->source, "static") == 0;
  if (old_static != fresh_static)
    return fresh_static;
  return old->state != AM_MINER_ONLINE && old->state != AM_MINER_DEGRADED;
}

static void
set_identity(AmScheduler *s, AmMinerEntry *e, char *identity)
{
  forget_identity(s, e);
  g_free(e->identity);
  e->identity = identity;
  g_hash_table_insert(s->identities, e->identity, e);
}

/* @e just answered with @sample. When another entry has the same MAC or
 * serial (the sweep and mDNS found one miner at two addresses, or it moved
 * to a new DHCP lease), one entry is kept and the other address becomes an
 * alias of it. Returns TRUE when @e itself was dropped (freed). */
static gboolean
dedupe(AmScheduler *s, AmMinerEntry *e, AmSample *sample)
{
  char *identity = am_miner_identity(sample);
  if (identity == NULL)
    return FALSE;
  AmMinerEntry *other = g_hash_table_lookup(s->identities, identity);
  if (other == NULL || other == e) {
    if (g_strcmp0(e->identity, identity) != 0)
      set_identity(s, e, identity);
    else
      g_free(identity);
    return FALSE;
  }
  gboolean keep_e = keep_fresh(other, e);
  AmMinerEntry *kept = keep_e ? e : other, *dropped = keep_e ? other : e;
  g_message("%s is the same miner as %s (%s): polling it as %s only",
            am_miner_get_address(dropped->miner), am_miner_get_address(kept->miner), identity,
            am_miner_get_address(kept->miner));
  g_hash_table_replace(s->aliases, g_strdup(am_miner_get_address(dropped->miner)),
                       g_strdup(am_miner_get_address(kept->miner)));
  g_autofree char *dropped_address = g_strdup(am_miner_get_address(dropped->miner));
  am_scheduler_remove(s, dropped_address);
  if (!keep_e) {
    g_free(identity);
    return TRUE;
  }
  set_identity(s, e, identity);
  return FALSE;
}

/* ---- polling ----------------------------------------------------------- */

static void start_due_polls(AmScheduler *s);

static void
close_pass_if_due(AmScheduler *s, gint64 now)
{
  if (s->pass.started_us == 0) {
    s->pass.started_us = now;
    return;
  }
  if (now - s->pass.started_us < (gint64)s->config.interval_ms * 1000)
    return;
  s->last_pass = s->pass;
  guint counts[AM_MINER_N_STATES] = {0};
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, s->entries);
  while (g_hash_table_iter_next(&it, NULL, &value))
    counts[((AmMinerEntry *)value)->state]++;
  GString *failures = g_string_new(NULL);
  for (guint c = 0; c <= AM_ERROR_CONFIG; c++)
    if (s->pass.failed_by_code[c] > 0)
      g_string_append_printf(failures, "%s%s %u", failures->len > 0 ? ", " : " (",
                             am_error_code_to_string(c), s->pass.failed_by_code[c]);
  if (failures->len > 0)
    g_string_append_c(failures, ')');
  gint64 took = am_pass_stats_duration_ms(&s->pass);
  g_info("poll pass: %u polled, %u ok, %u failed%s in %" G_GINT64_FORMAT
         " ms; %u online, %u degraded, %u offline, %u unreachable",
         s->pass.polled, s->pass.succeeded, s->pass.failed, failures->str, took,
         counts[AM_MINER_ONLINE], counts[AM_MINER_DEGRADED], counts[AM_MINER_OFFLINE],
         counts[AM_MINER_UNREACHABLE]);
  g_string_free(failures, TRUE);
  memset(&s->pass, 0, sizeof s->pass);
  s->pass.started_us = now;
}

gint64
am_pass_stats_duration_ms(const AmPassStats *pass)
{
  return pass->last_done_us > pass->first_start_us
             ? (pass->last_done_us - pass->first_start_us) / 1000
             : 0;
}

static void
poll_free(Poll *p)
{
  if (p->deadline_id != 0)
    g_source_remove(p->deadline_id);
  g_cancellable_disconnect(p->scheduler->cancellable, p->stop_handler);
  g_object_unref(p->cancellable);
  g_free(p);
}

static void
finish_poll(Poll *p, AmInstance *driver, AmSample *sample, GError *error)
{
  AmScheduler *s = p->scheduler;
  AmMinerEntry *e = p->entry;
  s->in_flight--;
  e->in_flight = FALSE;
  gint64 now = g_get_monotonic_time();
  s->pass.last_done_us = now;

  if (e->removed) {
    entry_free(e);
  } else if (error != NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
             !p->timed_out) {
    /* The scheduler is stopping: no verdict on the miner, and polled first
     * thing if it starts again (it used to be left out for good). */
    schedule(s, e, now);
  } else {
    if (sample != NULL) {
      if (driver != NULL)
        e->driver = driver;
      /* Counted when they end, so a pass's polled = ok + failed even when
       * a poll straddles two passes. */
      s->pass.polled++;
      s->pass.succeeded++;
      /* A duplicate's sample is the kept entry's to deliver. */
      if (!dedupe(s, e, sample)) {
        on_success(s, e, sample);
        schedule(s, e, now + jittered_interval_us(s, 1));
      }
    } else {
      s->pass.polled++;
      s->pass.failed++;
      guint code = error->domain == AM_ERROR ? (guint)error->code : AM_ERROR_FAILED;
      if (p->timed_out)
        code = AM_ERROR_TIMEOUT;
      s->pass.failed_by_code[MIN(code, (guint)AM_ERROR_NOT_MINER)]++;
      if (!drop_not_miner(s, e, error)) {
        on_failure(s, e, error);
        guint backoff = 1u << MIN(e->failures - 1, 3u);
        schedule(s, e, now + jittered_interval_us(s, MIN(backoff, MAX_BACKOFF_INTERVALS)));
      }
    }
  }
  poll_free(p);
  start_due_polls(s);
}

static GError *
deadline_error(Poll *p, GError *error)
{
  if (!p->timed_out || !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return error;
  g_error_free(error);
  return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: poll timed out after %.1f s",
                     am_miner_get_address(p->entry->miner),
                     p->scheduler->config.poll_timeout_ms / 1000.0);
}

static void
identify_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Poll *p = user_data;
  (void)source;
  GError *error = NULL;
  g_autoptr(AmSample) sample = NULL;
  AmInstance *driver = am_selector_identify_finish(result, &sample, &error);
  if (driver == NULL)
    error = deadline_error(p, error);
  finish_poll(p, driver, sample, error);
  g_clear_error(&error);
}

static void
poll_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Poll *p = user_data;
  (void)source;
  GError *error = NULL;
  g_autoptr(AmSample) sample = am_driver_poll_finish(result, &error);
  if (sample == NULL)
    error = deadline_error(p, error);
  finish_poll(p, NULL, sample, error);
  g_clear_error(&error);
}

static gboolean
poll_deadline(gpointer user_data)
{
  Poll *p = user_data;
  p->deadline_id = 0;
  p->timed_out = TRUE;
  g_cancellable_cancel(p->cancellable);
  return G_SOURCE_REMOVE;
}

static void
cancel_poll(GCancellable *stopping, gpointer poll_cancellable)
{
  (void)stopping;
  g_cancellable_cancel(poll_cancellable);
}

static void
start_poll(AmScheduler *s, AmMinerEntry *e)
{
  Poll *p = g_new0(Poll, 1);
  p->scheduler = s;
  p->entry = e;
  p->cancellable = g_cancellable_new();
  /* A stop cancels every poll; the deadline cancels only this one. */
  p->stop_handler = g_cancellable_connect(s->cancellable, G_CALLBACK(cancel_poll),
                                          g_object_ref(p->cancellable), g_object_unref);
  p->deadline_id = g_timeout_add((guint)s->config.poll_timeout_ms, poll_deadline, p);
  e->in_flight = TRUE;
  s->in_flight++;
  if (s->pass.first_start_us == 0)
    s->pass.first_start_us = g_get_monotonic_time();

  if (e->driver == NULL)
    am_selector_identify_async(s->drivers, e->miner, p->cancellable, identify_done, p);
  else
    am_driver_poll_async(e->driver, e->miner, p->cancellable, poll_done, p);
}

static void
start_due_polls(AmScheduler *s)
{
  if (s->tick_id == 0)
    return; /* stopped */
  gint64 now = g_get_monotonic_time();
  close_pass_if_due(s, now);
  while (s->in_flight < s->config.max_inflight) {
    GSequenceIter *first = g_sequence_get_begin_iter(s->due);
    if (g_sequence_iter_is_end(first))
      break;
    AmMinerEntry *e = g_sequence_get(first);
    if (e->due_us > now)
      break;
    g_sequence_remove(first);
    e->due_iter = NULL;
    start_poll(s, e);
  }
}

static gboolean
tick(gpointer user_data)
{
  start_due_polls(user_data);
  return G_SOURCE_CONTINUE;
}

void
am_scheduler_poll_now(AmScheduler *s, AmMinerEntry *e)
{
  g_return_if_fail(s != NULL && e != NULL);
  if (e->in_flight || e->due_iter == NULL)
    return; /* already being polled, or folded into another entry */
  schedule(s, e, g_get_monotonic_time());
  start_due_polls(s);
}

void
am_scheduler_start(AmScheduler *s)
{
  if (s->tick_id != 0)
    return;
  g_cancellable_reset(s->cancellable);
  s->tick_id = g_timeout_add(TICK_MS, tick, s);
  start_due_polls(s);
}

void
am_scheduler_stop(AmScheduler *s)
{
  if (s->tick_id == 0)
    return;
  g_source_remove(s->tick_id);
  s->tick_id = 0;
  g_cancellable_cancel(s->cancellable);
  /* Let cancelled polls report back so nothing outlives us. */
  GMainContext *ctx = g_main_context_default();
  while (s->in_flight > 0)
    g_main_context_iteration(ctx, TRUE);
}
