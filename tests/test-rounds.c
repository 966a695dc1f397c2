/* Fewer round trips end to end: the scheduler and the real drivers against
 * the fake fleet (in a network namespace of the test's own when it can),
 * S19 Pros and LuxOS units, each one answering cgminer's joined commands
 * and one refusing them (joined=refuse, as the S19 firmware pyasic reports
 * failing them). Every unit must read whole on every pass; from the second
 * pass on, "version" is not asked again, and a unit that answers joined
 * commands costs one connection a poll. */
#include "am-context-private.h"
#include "am-discovery-test-util.h"
#include "am-instances.h"
#include "am-scheduler.h"
#include "am-test-util.h"

#include <antmon/rpc.h>
#include <string.h>

typedef struct {
  AmTestDrivers plugins;
  AmScheduler *scheduler;
  AmTestFleet *fleet;
  GHashTable *samples; /* AmMinerEntry* -> count of samples */
  guint partial;       /* samples with a problem */
} Fixture;

static guint16 fleet_port;

static void
on_sample(AmMinerEntry *e, AmSample *sample, gpointer user_data)
{
  Fixture *f = user_data;
  if (sample->partial)
    f->partial++;
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(f->samples, e));
  g_hash_table_insert(f->samples, e, GUINT_TO_POINTER(n + 1));
}

typedef struct {
  Fixture *f;
  guint samples; /* each entry has at least this many */
} Wanted;

static gboolean
each_has(gpointer data)
{
  Wanted *w = data;
  g_autoptr(GPtrArray) entries = am_scheduler_entries(w->f->scheduler);
  for (guint i = 0; i < entries->len; i++)
    if (GPOINTER_TO_UINT(g_hash_table_lookup(w->f->samples, entries->pdata[i])) < w->samples)
      return FALSE;
  return TRUE;
}

/* A number from the fake's `stats` ("connections", "command version"). */
static guint64
fleet_stat(Fixture *f, const char *name)
{
  g_autofree char *stats = am_test_fleet_ask(f->fleet, "stats");
  g_autofree char *key = g_strconcat("\n", name, " ", NULL);
  g_autofree char *text = g_strconcat("\n", stats, NULL);
  const char *at = strstr(text, key);
  return at != NULL ? g_ascii_strtoull(at + strlen(key), NULL, 10) : 0;
}

/* The sample's problems, "; "-joined ("" for none). (transfer full) */
static char *
problems_of(const AmSample *sample)
{
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < sample->problems->len; i++)
    g_string_append_printf(out, "%s%s", i > 0 ? "; " : "", (char *)sample->problems->pdata[i]);
  return g_string_free(out, FALSE);
}

static AmMinerEntry *
add(Fixture *f, const char *host)
{
  g_autoptr(AmMiner) miner = am_miner_new(host, fleet_port);
  return am_scheduler_add(f->scheduler, miner, "static");
}

/* One unit of @profile, answering joined commands or not: the connections
 * of its identify pass and of its next two passes, and the notes learnt.
 * Each sample is whole, or as partial as the profile's missing commands
 * make it (@partial: the LuxOS profile lacks "fans", "power", ...): the
 * same whichever way it was asked. */
static void
check_unit(const char *profile, gboolean refuse, gboolean partial, guint64 commands)
{
  Fixture f = {0};
  g_autofree char *line =
      g_strdup_printf("127.50.10.1 %s%s\n", profile, refuse ? " joined=refuse" : "");
  g_autofree char *text = am_test_fleet_text(line, fleet_port);
  f.fleet = am_test_fleet_start(text);
  am_test_drivers_load(&f.plugins);
  AmSchedulerConfig config = {.interval_ms = 3600000,
                              .poll_timeout_ms = 5000,
                              .max_inflight = 4,
                              .offline_after = 3,
                              .jitter = 0.1};
  f.scheduler = am_scheduler_new(&config, f.plugins.drivers);
  f.samples = g_hash_table_new(NULL, NULL);
  am_scheduler_add_sample_hook(f.scheduler, on_sample, &f);
  AmMinerEntry *e = add(&f, "127.50.10.1");

  am_scheduler_start(f.scheduler);
  Wanted first = {&f, 1};
  am_test_wait_for(each_has, &first, "the identify pass");
  g_autofree char *model = g_strdup(e->latest->model);
  g_assert_nonnull(model);
  g_autofree char *problems = problems_of(e->latest);
  g_autofree char *joined = am_miner_dup_note(e->miner, "rpc.joined");
  g_assert_cmpstr(joined, ==, refuse ? "no" : "yes");

  guint64 connections = fleet_stat(&f, "connections");
  guint64 versions = fleet_stat(&f, "command version");
  for (guint pass = 2; pass <= 3; pass++) {
    am_scheduler_poll_now(f.scheduler, e);
    Wanted next = {&f, pass};
    am_test_wait_for(each_has, &next, "a steady pass");
    g_assert_cmpstr(e->latest->model, ==, model);
    g_autofree char *now = problems_of(e->latest);
    g_assert_cmpstr(now, ==, problems);
  }
  /* Two polls: joined, one connection each; refused, one per command, and
   * no joined command tried again. "version" kept in both. */
  g_assert_cmpuint(fleet_stat(&f, "connections") - connections, ==, refuse ? 2 * commands : 2);
  g_assert_cmpuint(fleet_stat(&f, "command version"), ==, versions);
  g_assert_cmpuint(f.partial, ==, partial ? 3 : 0);

  am_scheduler_free(f.scheduler);
  am_test_drivers_clear(&f.plugins);
  am_test_fleet_stop(f.fleet);
  g_hash_table_unref(f.samples);
}

/* The commands a steady poll asks (the driver's list less "version"). */
#define ANTMINER_COMMANDS 3 /* stats, pools, summary */
#define LUXOS_COMMANDS 11   /* summary, pools, stats, fans, power, config, atm, devs, temps, ... */

static void
test_s19_joined(void)
{
  check_unit("antminer-s19pro", FALSE, FALSE, ANTMINER_COMMANDS);
}

static void
test_s19_refuses_joined(void)
{
  check_unit("antminer-s19pro", TRUE, FALSE, ANTMINER_COMMANDS);
}

static void
test_luxos_joined(void)
{
  check_unit("luxos", FALSE, TRUE, LUXOS_COMMANDS);
}

static void
test_luxos_refuses_joined(void)
{
  check_unit("luxos", TRUE, TRUE, LUXOS_COMMANDS);
}

int
main(int argc, char **argv)
{
  gboolean private_netns = am_test_enter_private_netns();
  g_test_init(&argc, &argv, NULL);
  fleet_port = am_test_fleet_port(private_netns);
  g_test_add_func("/rounds/s19-joined", test_s19_joined);
  g_test_add_func("/rounds/s19-refuses-joined", test_s19_refuses_joined);
  g_test_add_func("/rounds/luxos-joined", test_luxos_joined);
  g_test_add_func("/rounds/luxos-refuses-joined", test_luxos_refuses_joined);
  return g_test_run();
}
