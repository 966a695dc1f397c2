/* The scheduler against a fleet of fake miners (in a network namespace of
 * the test's own when it can): states and their reasons, backoff, recovery,
 * hung miners, the in-flight cap, and one miner seen at two addresses. */
#include "am-context-private.h"
#include "am-discovery-test-util.h"
#include "am-instances.h"
#include "am-scheduler.h"
#include "am-test-util.h"

#include <arpa/inet.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/socket.h>

static gboolean private_netns;
static guint16 fleet_port;

typedef struct {
  AmTestDrivers plugins; /* the drivers, as the daemon loads them */
  AmScheduler *scheduler;
  AmTestFleet *fleet;
  GPtrArray *states;   /* "address state failures reason", in order */
  GHashTable *samples; /* address -> count of samples delivered */
} Fixture;

static void
on_state(AmMinerEntry *e, AmMinerState old, gpointer user_data)
{
  Fixture *f = user_data;
  if (e->state == old)
    return;
  g_ptr_array_add(f->states, g_strdup_printf("%s %s %u %s", am_miner_get_address(e->miner),
                                             am_miner_state_to_string(e->state), e->failures,
                                             e->reason != NULL ? e->reason : "-"));
}

static void
on_sample(AmMinerEntry *e, AmSample *sample, gpointer user_data)
{
  Fixture *f = user_data;
  const char *address = am_miner_get_address(e->miner);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(f->samples, address));
  g_hash_table_insert(f->samples, g_strdup(address), GUINT_TO_POINTER(n + 1));
}

static guint
samples_of(Fixture *f, const char *address)
{
  return GPOINTER_TO_UINT(g_hash_table_lookup(f->samples, address));
}

/* Fleet lines "ADDRESS PROFILE [key=value...]" get the fleet port. */
static void
fixture_start(Fixture *f, const char *fleet_lines, const AmSchedulerConfig *config)
{
  g_autofree char *text = am_test_fleet_text(fleet_lines, fleet_port);
  f->fleet = am_test_fleet_start(text);
  am_test_drivers_load(&f->plugins);
  g_assert_cmpuint(f->plugins.drivers->len, >=, 5);
  f->scheduler = am_scheduler_new(config, f->plugins.drivers);
  f->states = g_ptr_array_new_with_free_func(g_free);
  f->samples = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  am_scheduler_add_state_hook(f->scheduler, on_state, f);
  am_scheduler_add_sample_hook(f->scheduler, on_sample, f);
}

static void
fixture_stop(Fixture *f)
{
  am_scheduler_free(f->scheduler);
  am_test_drivers_clear(&f->plugins);
  am_test_fleet_stop(f->fleet);
  g_ptr_array_unref(f->states);
  g_hash_table_unref(f->samples);
}

static AmMinerEntry *
add(Fixture *f, const char *host, const char *source)
{
  g_autoptr(AmMiner) miner = am_miner_new(host, fleet_port);
  return am_scheduler_add(f->scheduler, miner, source);
}

static char *
address(const char *host)
{
  return g_strdup_printf("%s:%u", host, fleet_port);
}

static gboolean
is_online(gpointer data)
{
  AmMinerEntry *e = data;
  return e->state == AM_MINER_ONLINE || e->state == AM_MINER_DEGRADED;
}

static gboolean
is_offline(gpointer data)
{
  return ((AmMinerEntry *)data)->state == AM_MINER_OFFLINE;
}

static gboolean
has_failed(gpointer data)
{
  return ((AmMinerEntry *)data)->failures > 0;
}

static AmSchedulerConfig
config_for(guint interval_ms, guint timeout_ms, guint inflight, guint offline_after)
{
  return (AmSchedulerConfig){.interval_ms = interval_ms,
                             .poll_timeout_ms = timeout_ms,
                             .max_inflight = inflight,
                             .offline_after = offline_after,
                             .jitter = 0.1};
}

/* ---- a web page that is no miner --------------------------------------- */

static void
serve_printer(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer user_data)
{
  guint *requests = user_data;
  (*requests)++;
  static const char page[] = "<html><head><title>LaserJet 4250</title></head></html>";
  soup_server_message_set_status(msg, 200, NULL);
  soup_server_message_set_response(msg, "text/html", SOUP_MEMORY_STATIC, page, sizeof page - 1);
}

typedef struct {
  AmScheduler *scheduler;
  const char *address;
} Lookup;

static gboolean
is_gone(gpointer data)
{
  const Lookup *l = data;
  return am_scheduler_lookup(l->scheduler, l->address) == NULL;
}

/* A sweep finds a printer's web server (ports=80): one look says it is no
 * miner, and it is dropped without a state change or an alert, and not
 * added back by the next sweep; named in the configuration, it is polled. */
static void
test_web_page_not_a_miner(void)
{
  Fixture f = {0};
  AmSchedulerConfig config = config_for(150, 2000, 16, 3);
  fixture_start(&f, "127.50.5.1 antminer-s9\n", &config);
  guint requests = 0;
  g_autoptr(SoupServer) web = soup_server_new(NULL, NULL);
  soup_server_add_handler(web, NULL, serve_printer, &requests, NULL);
  guint16 port = am_test_server_listen(web, "127.50.5.2");

  g_autoptr(AmMiner) printer = am_miner_new("127.50.5.2", port);
  AmMinerEntry *e = am_scheduler_add(f.scheduler, printer, "cidr");
  g_assert_nonnull(e);
  am_scheduler_start(f.scheduler);
  Lookup gone = {f.scheduler, am_miner_get_address(printer)};
  am_test_wait_for(is_gone, &gone, "the printer dropped");
  g_assert_cmpuint(requests, ==, 1); /* GET /, and nothing after it */
  for (guint i = 0; i < f.states->len; i++)
    g_assert_false(g_str_has_prefix(f.states->pdata[i], gone.address));
  g_assert_null(am_scheduler_add(f.scheduler, printer, "cidr"));
  g_assert_null(am_scheduler_lookup(f.scheduler, gone.address));
  /* Named by hand it is polled, and says why it cannot be read. */
  AmMinerEntry *named = am_scheduler_add(f.scheduler, printer, "static");
  g_assert_nonnull(named);
  am_test_wait_for(has_failed, named, "the named printer polled");
  g_assert_cmpint(named->last_error, ==, AM_ERROR_NOT_MINER);
  g_assert_nonnull(strstr(named->reason, "a web server that is not a known miner"));
  soup_server_disconnect(web);
  fixture_stop(&f);
}

/* ---- states ------------------------------------------------------------ */

/* Online, then offline after exactly offline_after failures in a row, with
 * a reason that says how: refused for one, timed out for the other. */
static void
test_offline_after_n(void)
{
  Fixture f = {0};
  AmSchedulerConfig config = config_for(150, 600, 16, 3);
  fixture_start(&f, "127.50.0.1 antminer-s9\n127.50.0.2 braiins-s9\n", &config);
  AmMinerEntry *a = add(&f, "127.50.0.1", "static");
  AmMinerEntry *b = add(&f, "127.50.0.2", "cidr");
  am_scheduler_start(f.scheduler);
  am_test_wait_for(is_online, a, "127.50.0.1 online");
  am_test_wait_for(is_online, b, "127.50.0.2 online");
  g_assert_nonnull(a->driver);
  g_assert_cmpstr(a->driver->info->name, ==, "antminer");
  g_assert_cmpstr(b->driver->info->name, ==, "braiins");

  am_test_fleet_control(f.fleet, "set 127.50.0.1 fault=refuse");
  am_test_fleet_control(f.fleet, "set 127.50.0.2 fault=hang");
  am_test_wait_for(is_offline, a, "127.50.0.1 offline");
  am_test_wait_for(is_offline, b, "127.50.0.2 offline");

  g_autofree char *addr_a = address("127.50.0.1");
  g_autofree char *addr_b = address("127.50.0.2");
  /* The recorded S9 reports a chain without temperatures: "degraded". */
  g_autofree char *answering_a = g_strdup_printf("%s degraded 0 ", addr_a);
  g_autofree char *offline_a =
      g_strdup_printf("%s offline 3 %s: connection refused", addr_a, addr_a);
  g_autofree char *offline_b = g_strdup_printf("%s offline 3 ", addr_b);
  /* In between, the state did not change: offline comes at the 3rd failure. */
  guint seen_a = 0;
  for (guint i = 0; i < f.states->len; i++) {
    const char *line = f.states->pdata[i];
    if (!g_str_has_prefix(line, addr_a))
      continue;
    if (seen_a == 0)
      g_assert_true(g_str_has_prefix(line, answering_a));
    else
      g_assert_cmpstr(line, ==, offline_a);
    seen_a++;
  }
  g_assert_cmpuint(seen_a, ==, 2);
  g_assert_cmpint(a->last_error, ==, AM_ERROR_REFUSED);
  g_assert_cmpint(b->last_error, ==, AM_ERROR_TIMEOUT);
  g_assert_nonnull(strstr(b->reason, "timed out"));
  gboolean found_b = FALSE;
  for (guint i = 0; i < f.states->len; i++)
    found_b |= g_str_has_prefix(f.states->pdata[i], offline_b);
  g_assert_true(found_b);
  /* The last good sample is kept for the API. */
  g_assert_nonnull(a->latest);
  fixture_stop(&f);
}

/* A miner never reached stays "unreachable" (with the reason), however
 * often it fails. */
static void
test_never_reached_is_unreachable(void)
{
  Fixture f = {0};
  AmSchedulerConfig config = config_for(50, 500, 16, 2);
  fixture_start(&f, "127.50.1.1 antminer-s9 fault=refuse\n", &config);
  AmMinerEntry *e = add(&f, "127.50.1.1", "cidr");
  am_scheduler_start(f.scheduler);
  am_test_wait_for(has_failed, e, "a failure");
  g_assert_cmpint(e->state, ==, AM_MINER_UNREACHABLE);
  g_assert_nonnull(strstr(e->reason, "connection refused"));
  g_assert_cmpint(e->last_error, ==, AM_ERROR_REFUSED);
  fixture_stop(&f);
}

/* ---- backoff and recovery ---------------------------------------------- */

typedef struct {
  AmMinerEntry *entry;
  guint last_failures;
  gint64 delays_us[8]; /* delay scheduled after failure k+1 */
  guint n;
} Backoff;

/* Samples the entry often: when a failure lands, how far ahead its next
 * poll was put. */
static gboolean
watch_backoff(gpointer data)
{
  Backoff *b = data;
  AmMinerEntry *e = b->entry;
  if (e->failures != b->last_failures && !e->in_flight && b->n < G_N_ELEMENTS(b->delays_us)) {
    b->last_failures = e->failures;
    b->delays_us[b->n++] = e->due_us - g_get_monotonic_time();
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
five_failures(gpointer data)
{
  return ((Backoff *)data)->n >= 5;
}

static gboolean
is_ok_again(gpointer data)
{
  AmMinerEntry *e = data;
  return e->failures == 0 && is_online(e);
}

/* A failing miner is tried 1, 2, 4, 8, 8 intervals apart (each +-10%);
 * after a success it is back to every interval. */
static void
test_backoff_and_recovery(void)
{
  Fixture f = {0};
  const guint interval_ms = 100;
  AmSchedulerConfig config = config_for(interval_ms, 500, 16, 3);
  fixture_start(&f, "127.50.2.1 antminer-s9\n", &config);
  Backoff b = {.entry = add(&f, "127.50.2.1", "static")};
  am_scheduler_start(f.scheduler);
  am_test_wait_for(is_online, b.entry, "online");
  am_test_fleet_control(f.fleet, "set 127.50.2.1 fault=refuse");
  guint watch = g_timeout_add(2, watch_backoff, &b);
  am_test_wait_for(five_failures, &b, "five failures");
  const guint multiples[] = {1, 2, 4, 8, 8};
  for (guint i = 0; i < G_N_ELEMENTS(multiples); i++) {
    double expect_us = multiples[i] * interval_ms * 1000.0;
    /* The watch sees the failure a little after it was scheduled. */
    if (b.delays_us[i] > expect_us * 1.1 || b.delays_us[i] < expect_us * 0.9 - 20000)
      g_error("after failure %u the next poll is %.0f ms ahead; expected %.0f ms +-10%%", i + 1,
              b.delays_us[i] / 1000.0, expect_us / 1000.0);
  }
  g_assert_cmpint(b.entry->state, ==, AM_MINER_OFFLINE);

  am_test_fleet_control(f.fleet, "set 127.50.2.1 fault=none");
  am_test_wait_for(is_ok_again, b.entry, "recovery");
  g_source_remove(watch);
  /* The reason is the sample's own problem again, not the failure. */
  g_assert_null(strstr(b.entry->reason, "refused"));
  g_assert_cmpint(b.entry->last_error, ==, -1);
  gint64 ahead = b.entry->due_us - g_get_monotonic_time();
  g_assert_cmpint(ahead, <=, interval_ms * 1000 * 11 / 10);
  fixture_stop(&f);
}

/* ---- hung miners ------------------------------------------------------- */

typedef struct {
  Fixture *f;
  AmMinerEntry *hung;
} HungWatch;

static gboolean
hung_failed(gpointer data)
{
  return ((HungWatch *)data)->hung->failures > 0;
}

/* A miner that accepts and never answers holds one slot until the poll
 * deadline; the others go on being polled every interval meanwhile. */
static void
test_hung_never_delays_others(void)
{
  Fixture f = {0};
  AmSchedulerConfig config = config_for(200, 4000, 8, 3);
  fixture_start(&f,
                "127.50.3.1 antminer-s9 fault=hang\n127.50.3.2 antminer-s9\n"
                "127.50.3.3 antminer-s17pro\n127.50.3.4 whatsminer-m20s\n127.50.3.5 luxos\n",
                &config);
  HungWatch w = {&f, add(&f, "127.50.3.1", "static")};
  const char *others[] = {"127.50.3.2", "127.50.3.3", "127.50.3.4", "127.50.3.5"};
  for (guint i = 0; i < G_N_ELEMENTS(others); i++)
    add(&f, others[i], "static");
  am_scheduler_start(f.scheduler);
  am_test_wait_for(hung_failed, &w, "the hung miner's poll deadline");
  g_assert_cmpint(w.hung->last_error, ==, AM_ERROR_TIMEOUT);
  /* 4 s of deadline at a 200 ms interval: many polls each; three is plenty
   * to show nobody waited for the hung one. */
  for (guint i = 0; i < G_N_ELEMENTS(others); i++) {
    g_autofree char *addr = address(others[i]);
    if (samples_of(&f, addr) < 3)
      g_error("%s had %u samples while the hung miner's poll was in flight", addr,
              samples_of(&f, addr));
  }
  fixture_stop(&f);
}

/* ---- the in-flight cap ------------------------------------------------- */

typedef struct {
  guint max_connected;
  guint max_in_flight;
  AmScheduler *scheduler;
  guint timeouts_seen;
  GPtrArray *entries;
} CapWatch;

/* Miners this process has a connection open to (the selector may hold an
 * RPC and an HTTP probe to one miner at once: that is one poll). */
static guint
count_miners_connected(void)
{
  g_autoptr(GHashTable) peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (int fd = 3; fd < 1024; fd++) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0 || peer.sin_family != AF_INET)
      continue;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
    if (g_str_has_prefix(text, "127.50.4."))
      g_hash_table_add(peers, g_strdup(text));
  }
  return g_hash_table_size(peers);
}

static gboolean
watch_cap(gpointer data)
{
  CapWatch *w = data;
  w->max_in_flight = MAX(w->max_in_flight, am_scheduler_in_flight(w->scheduler));
  w->max_connected = MAX(w->max_connected, count_miners_connected());
  return G_SOURCE_CONTINUE;
}

static gboolean
all_timed_out_once(gpointer data)
{
  CapWatch *w = data;
  for (guint i = 0; i < w->entries->len; i++)
    if (((AmMinerEntry *)w->entries->pdata[i])->failures == 0)
      return FALSE;
  return TRUE;
}

/* Ten hung miners, max_inflight=3: never more than three polls (and
 * connections to three miners) at once, and the cap is reached. */
static void
test_max_inflight(void)
{
  Fixture f = {0};
  AmSchedulerConfig config = config_for(100, 300, 3, 3);
  g_autoptr(GString) fleet = g_string_new(NULL);
  for (guint i = 1; i <= 10; i++)
    g_string_append_printf(fleet, "127.50.4.%u antminer-s9 fault=hang\n", i);
  fixture_start(&f, fleet->str, &config);
  CapWatch w = {.scheduler = f.scheduler, .entries = g_ptr_array_new()};
  for (guint i = 1; i <= 10; i++) {
    g_autofree char *host = g_strdup_printf("127.50.4.%u", i);
    g_ptr_array_add(w.entries, add(&f, host, "cidr"));
  }
  guint watch = g_timeout_add(1, watch_cap, &w);
  am_scheduler_start(f.scheduler);
  am_test_wait_for(all_timed_out_once, &w, "every hung miner to time out once");
  g_source_remove(watch);
  g_assert_cmpuint(w.max_in_flight, ==, 3);
  g_assert_cmpuint(w.max_connected, ==, 3);
  g_ptr_array_unref(w.entries);
  fixture_stop(&f);
}

/* ---- one miner, two addresses ------------------------------------------ */

typedef struct {
  Fixture *f;
  const char *address;
} EntryGone;

static gboolean
entry_gone(gpointer data)
{
  EntryGone *g = data;
  return am_scheduler_lookup(g->f->scheduler, g->address) == NULL;
}

typedef struct {
  Fixture *f;
  const char *address;
  guint at_least;
} SampleCount;

static gboolean
has_samples(gpointer data)
{
  SampleCount *c = data;
  return samples_of(c->f, c->address) >= c->at_least;
}

/* Two addresses answer with the same MAC (the Avalon profile carries one):
 * one entry stays, the static one over the discovered one, and adding the
 * other address again returns the entry kept. */
static void
test_dedupe_by_mac(void)
{
  Fixture f = {0};
  AmSchedulerConfig config = config_for(100, 1000, 16, 3);
  fixture_start(&f,
                "127.50.5.1 avalon-7xx\n127.50.5.2 avalon-7xx\n127.50.5.3 antminer-s9\n"
                "127.50.5.4 antminer-s9\n",
                &config);
  AmMinerEntry *mdns = add(&f, "127.50.5.1", "mdns");
  AmMinerEntry *fixed = add(&f, "127.50.5.2", "static");
  /* Stock Antminer replies name no MAC or serial: two of them stay two. */
  AmMinerEntry *s9a = add(&f, "127.50.5.3", "cidr");
  AmMinerEntry *s9b = add(&f, "127.50.5.4", "cidr");
  am_scheduler_start(f.scheduler);
  g_autofree char *mdns_addr = address("127.50.5.1");
  g_autofree char *fixed_addr = address("127.50.5.2");
  EntryGone gone = {&f, mdns_addr};
  am_test_wait_for(entry_gone, &gone, "the duplicate to be folded");
  am_test_wait_for(is_online, fixed, "the static entry online");
  am_test_wait_for(is_online, s9a, "first S9");
  am_test_wait_for(is_online, s9b, "second S9");
  (void)mdns; /* freed by the fold */
  g_autoptr(GPtrArray) entries = am_scheduler_entries(f.scheduler);
  g_assert_cmpuint(entries->len, ==, 3);
  g_assert_true(am_scheduler_lookup(f.scheduler, fixed_addr) == fixed);
  g_assert_cmpstr(fixed->identity, ==, "mac:02a2eb35f1d4");

  /* mDNS reports it again: still one miner. */
  g_assert_true(add(&f, "127.50.5.1", "mdns") == fixed);
  g_autoptr(GPtrArray) again = am_scheduler_entries(f.scheduler);
  g_assert_cmpuint(again->len, ==, 3);
  /* From now on only the kept address delivers samples. */
  guint before = samples_of(&f, mdns_addr);
  SampleCount more = {&f, fixed_addr, samples_of(&f, fixed_addr) + 3};
  am_test_wait_for(has_samples, &more, "three more samples");
  g_assert_cmpuint(samples_of(&f, mdns_addr), ==, before);
  fixture_stop(&f);
}

/* The miner hook (exporters hear it): each new address once, a folded or
 * removed one once, an address already known never again, and freeing the
 * scheduler forgets nothing (the miners are still there). */
static void
on_miner(AmMinerEntry *e, gboolean removed, gpointer user_data)
{
  g_ptr_array_add(user_data, g_strdup_printf("%s %s", removed ? "removed" : "added",
                                             am_miner_get_address(e->miner)));
}

static void
test_miner_hook(void)
{
  Fixture f = {0};
  AmSchedulerConfig config = config_for(100, 1000, 16, 3);
  fixture_start(&f, "127.50.5.11 avalon-7xx\n127.50.5.12 avalon-7xx\n127.50.5.13 antminer-s9\n",
                &config);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(g_free);
  am_scheduler_add_miner_hook(f.scheduler, on_miner, events);
  add(&f, "127.50.5.11", "mdns");
  AmMinerEntry *fixed = add(&f, "127.50.5.12", "static");
  add(&f, "127.50.5.13", "cidr");
  g_assert_true(add(&f, "127.50.5.12", "cidr") == fixed); /* known: not added again */
  am_scheduler_start(f.scheduler);
  g_autofree char *mdns_addr = address("127.50.5.11");
  g_autofree char *fixed_addr = address("127.50.5.12");
  g_autofree char *s9_addr = address("127.50.5.13");
  EntryGone gone = {&f, mdns_addr};
  am_test_wait_for(entry_gone, &gone, "the duplicate to be folded");
  am_scheduler_remove(f.scheduler, s9_addr);
  am_scheduler_remove(f.scheduler, s9_addr); /* gone already: nothing more */
  g_autofree char *want = g_strdup_printf("added %s\nadded %s\nadded %s\nremoved %s\nremoved %s",
                                          mdns_addr, fixed_addr, s9_addr, mdns_addr, s9_addr);
  g_ptr_array_add(events, NULL);
  g_autofree char *got = g_strjoinv("\n", (char **)events->pdata);
  g_ptr_array_remove_index(events, events->len - 1);
  g_assert_cmpstr(got, ==, want);
  guint before = events->len;
  fixture_stop(&f);
  g_assert_cmpuint(events->len, ==, before);
}

/* A miner that moved (new DHCP lease): the old entry no longer answers and
 * the new address has its MAC; the entry that answers is kept. */
static void
test_dedupe_moved_miner(void)
{
  Fixture f = {0};
  AmSchedulerConfig config = config_for(100, 1000, 16, 2);
  fixture_start(&f, "127.50.6.1 avalon-7xx\n127.50.6.2 avalon-7xx fault=refuse\n", &config);
  AmMinerEntry *old = add(&f, "127.50.6.1", "cidr");
  am_scheduler_start(f.scheduler);
  am_test_wait_for(is_online, old, "the miner at its first address");
  am_test_fleet_control(f.fleet, "set 127.50.6.1 fault=refuse");
  am_test_wait_for(is_offline, old, "the first address offline");
  am_test_fleet_control(f.fleet, "set 127.50.6.2 fault=none");
  AmMinerEntry *moved = add(&f, "127.50.6.2", "cidr");
  g_autofree char *old_addr = address("127.50.6.1");
  EntryGone gone = {&f, old_addr};
  am_test_wait_for(entry_gone, &gone, "the stale address to be folded");
  g_assert_true(is_online(moved));
  g_autoptr(GPtrArray) entries = am_scheduler_entries(f.scheduler);
  g_assert_cmpuint(entries->len, ==, 1);
  fixture_stop(&f);
}

/* ---- stop and start ---------------------------------------------------- */

static gboolean
is_in_flight(gpointer data)
{
  return ((AmMinerEntry *)data)->in_flight;
}

/* Stopping cancels polls in flight without a verdict; starting again polls
 * those miners again (they used to be dropped from the schedule). */
static void
test_stop_and_start(void)
{
  Fixture f = {0};
  AmSchedulerConfig config = config_for(100, 30000, 16, 3);
  fixture_start(&f, "127.50.7.1 antminer-s9 fault=hang\n", &config);
  AmMinerEntry *e = add(&f, "127.50.7.1", "static");
  am_scheduler_start(f.scheduler);
  am_test_wait_for(is_in_flight, e, "a poll in flight");
  am_scheduler_stop(f.scheduler);
  g_assert_false(e->in_flight);
  g_assert_cmpuint(e->failures, ==, 0);
  g_assert_cmpint(e->state, ==, AM_MINER_UNREACHABLE);
  am_test_fleet_control(f.fleet, "set 127.50.7.1 fault=none");
  am_scheduler_start(f.scheduler);
  am_test_wait_for(is_online, e, "online after a restart");
  fixture_stop(&f);
}

/* ---- pass counters ----------------------------------------------------- */

/* A closed pass that saw both miners answer and fail (the failing one is
 * backed off, so not every pass polls it). */
static gboolean
pass_with_both(gpointer data)
{
  const AmPassStats *pass = am_scheduler_last_pass(data);
  return pass->succeeded > 0 && pass->failed > 0;
}

static void
test_pass_counters(void)
{
  Fixture f = {0};
  AmSchedulerConfig config = config_for(300, 1000, 16, 3);
  fixture_start(&f, "127.50.8.1 antminer-s9\n127.50.8.2 antminer-s9 fault=refuse\n", &config);
  add(&f, "127.50.8.1", "static");
  add(&f, "127.50.8.2", "static");
  am_scheduler_start(f.scheduler);
  am_test_wait_for(pass_with_both, f.scheduler, "a pass with a success and a failure");
  const AmPassStats *pass = am_scheduler_last_pass(f.scheduler);
  g_assert_cmpuint(pass->polled, ==, pass->succeeded + pass->failed);
  g_assert_cmpuint(pass->failed_by_code[AM_ERROR_REFUSED], ==, pass->failed);
  g_assert_cmpint(pass->last_done_us, >=, pass->first_start_us);
  fixture_stop(&f);
}

int
main(int argc, char **argv)
{
  private_netns = am_test_enter_private_netns();
  g_test_init(&argc, &argv, NULL);
  fleet_port = am_test_fleet_port(private_netns);
  g_test_add_func("/scheduler/offline-after-n", test_offline_after_n);
  g_test_add_func("/scheduler/miner-hook", test_miner_hook);
  g_test_add_func("/scheduler/web-page-not-a-miner", test_web_page_not_a_miner);
  g_test_add_func("/scheduler/never-reached-is-unreachable", test_never_reached_is_unreachable);
  g_test_add_func("/scheduler/backoff-and-recovery", test_backoff_and_recovery);
  g_test_add_func("/scheduler/hung-never-delays-others", test_hung_never_delays_others);
  g_test_add_func("/scheduler/max-inflight", test_max_inflight);
  g_test_add_func("/scheduler/dedupe-by-mac", test_dedupe_by_mac);
  g_test_add_func("/scheduler/dedupe-moved-miner", test_dedupe_moved_miner);
  g_test_add_func("/scheduler/stop-and-start", test_stop_and_start);
  g_test_add_func("/scheduler/pass-counters", test_pass_counters);
  return g_test_run();
}
