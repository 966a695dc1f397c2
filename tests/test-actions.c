/* The action manager with the real drivers against the fake fleet: actions
 * confirmed by the polls that follow them (pause, resume, reboot, light),
 * refused with the reason (unsupported, unknown miner, bad parameter, rate
 * limit), not confirmed when the unit ignores them, and fleet jobs in
 * batches with a dry run. */
#include "am-actions.h"
#include "am-context-private.h"
#include "am-instances.h"
#include "am-scheduler.h"
#include "am-test-util.h"
#include <string.h>

static guint16 fleet_port;

typedef struct {
  AmTestDrivers plugins; /* the drivers, as the daemon loads them */
  AmScheduler *scheduler;
  AmActions *actions;
  AmTestFleet *fleet;
} Fixture;

/* Fleet lines "HOST PROFILE [key=value...]"; the fleet port is added. */
static void fixture_start_fleet(Fixture *f, const char *fleet_text, guint confirm_timeout_ms);

static void
fixture_start(Fixture *f, const char *fleet_lines, guint confirm_timeout_ms)
{
  g_autofree char *text = am_test_fleet_text(fleet_lines, fleet_port);
  fixture_start_fleet(f, text, confirm_timeout_ms);
}

/* @fleet_text: a fleet file's lines as they are. */
static void
fixture_start_fleet(Fixture *f, const char *fleet_text, guint confirm_timeout_ms)
{
  f->fleet = am_test_fleet_start(fleet_text);
  am_test_drivers_load(&f->plugins);
  AmSchedulerConfig sc = {.interval_ms = 1000,
                          .poll_timeout_ms = 2000,
                          .max_inflight = 16,
                          .offline_after = 2,
                          .jitter = 0.1};
  f->scheduler = am_scheduler_new(&sc, f->plugins.drivers);
  AmActionsConfig ac = {
      .min_interval_ms = 10000, .confirm_timeout_ms = confirm_timeout_ms, .confirm_poll_ms = 500};
  f->actions = am_actions_new(&ac, f->scheduler, NULL);
  am_scheduler_start(f->scheduler);
}

static void
fixture_stop(Fixture *f)
{
  am_actions_free(f->actions);
  am_scheduler_free(f->scheduler);
  am_test_drivers_clear(&f->plugins);
  am_test_fleet_stop(f->fleet);
}

static AmMinerEntry *
add_at(Fixture *f, const char *host, guint16 port)
{
  g_autoptr(AmMiner) miner = am_miner_new(host, port);
  return am_scheduler_add(f->scheduler, miner, "static");
}

static AmMinerEntry *
add(Fixture *f, const char *host)
{
  return add_at(f, host, fleet_port);
}

static char *
address(const char *host)
{
  return g_strdup_printf("%s:%u", host, fleet_port);
}

static gboolean
has_sample(gpointer data)
{
  AmMinerEntry *e = data;
  return e->driver != NULL && e->latest != NULL;
}

static gboolean
hashrate_zero(gpointer data)
{
  AmMinerEntry *e = data;
  return e->latest != NULL && e->latest->hashrate_ths == 0.0;
}

typedef struct {
  Fixture *f;
  const char *id;
} Follow;

static gboolean
action_done(gpointer data)
{
  Follow *w = data;
  g_autoptr(JsonNode) node = am_actions_get(w->f->actions, w->id);
  const char *state = json_object_get_string_member(json_node_get_object(node), "state");
  return !g_str_equal(state, "queued") && !g_str_equal(state, "sending") &&
         !g_str_equal(state, "confirming") && !g_str_equal(state, "running");
}

/* Submits @request on @host and waits for its outcome: the final JSON. */
static JsonObject *
act_and_wait(Fixture *f, const char *host, const AmActionRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) started = am_actions_submit(f->actions, host, request, "test", &error);
  g_assert_no_error(error);
  JsonObject *o = json_node_get_object(started);
  g_autofree char *id = g_strdup(json_object_get_string_member(o, "id"));
  g_assert_true(g_str_has_prefix(id, "a-"));
  g_assert_cmpstr(json_object_get_string_member(o, "who"), ==, "test");
  Follow w = {f, id};
  am_test_wait_for(action_done, &w, id);
  JsonNode *done = am_actions_get(f->actions, id);
  JsonObject *result = json_object_ref(json_node_get_object(done));
  json_node_unref(done);
  return result;
}

static void
assert_outcome(JsonObject *o, const char *state, const char *message_part)
{
  const char *message = json_object_get_string_member_with_default(o, "message", "");
  if (g_strcmp0(json_object_get_string_member(o, "state"), state) != 0 ||
      strstr(message, message_part) == NULL)
    g_error("expected %s with '%s', got %s: %s", state, message_part,
            json_object_get_string_member(o, "state"), message);
  g_assert_false(json_object_get_null_member(o, "finished"));
}

/* ---- one miner ---------------------------------------------------------- */

static void
test_pause_resume_confirmed(void)
{
  Fixture f = {0};
  fixture_start(&f, "127.0.71.1 luxos-actions", 0);
  AmMinerEntry *e = add(&f, "127.0.71.1");
  am_test_wait_for(has_sample, e, "the first sample");
  g_assert_cmpint(e->state, !=, AM_MINER_PAUSED);

  AmActionRequest pause = {.kind = AM_ACTION_PAUSE};
  g_autoptr(JsonObject) paused = act_and_wait(&f, "127.0.71.1", &pause);
  assert_outcome(paused, "confirmed", "mining sleeping");
  g_assert_cmpint(e->state, ==, AM_MINER_PAUSED);
  g_assert_true(e->held);
  /* The confirming poll may have read its summary just before the curtail;
   * the ones after report no hashrate. */
  am_test_wait_for(hashrate_zero, e, "a paused sample with no hashrate");

  /* The rate limit holds the next action back, with the reason. */
  AmActionRequest resume = {.kind = AM_ACTION_RESUME};
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) refused = am_actions_submit(f.actions, "127.0.71.1", &resume, "t", &error);
  g_assert_null(refused);
  g_assert_error(error, AM_ERROR, AM_ERROR_BUSY);
  g_assert_nonnull(strstr(error->message, "min_interval"));
  am_actions_free(f.actions);
  AmActionsConfig quick = {.confirm_poll_ms = 500};
  f.actions = am_actions_new(&quick, f.scheduler, NULL);

  g_autoptr(JsonObject) resumed = act_and_wait(&f, "127.0.71.1", &resume);
  assert_outcome(resumed, "confirmed", "mining hashing");
  g_assert_false(e->held);
  g_assert_cmpint(e->state, !=, AM_MINER_PAUSED);

  /* New pools replace the old ones, and the polls list them. */
  AmPoolSetting pools[] = {{"stratum+tcp://new.example:3333", "farm.w9", "x"},
                           {"stratum+tcp://backup.example:443", "farm.w9", NULL}};
  AmActionRequest set = {.kind = AM_ACTION_POOLS, .pools = pools, .n_pools = 2};
  g_autoptr(JsonObject) switched = act_and_wait(&f, "127.0.71.1", &set);
  assert_outcome(switched, "confirmed", "2 pools, first stratum+tcp://new.example:3333");
  g_autofree char *params = json_to_string(json_object_get_member(switched, "params"), FALSE);
  g_assert_null(strstr(params, "\"x\"")); /* the password stays out */
  fixture_stop(&f);
}

static void
test_reboot_confirmed_by_uptime(void)
{
  Fixture f = {0};
  fixture_start(&f, "127.0.71.2 avalon-a reboot_s=2 uptime=5000", 0);
  AmMinerEntry *e = add(&f, "127.0.71.2");
  am_test_wait_for(has_sample, e, "the first sample");
  g_assert_cmpint(e->latest->elapsed_s, >=, 5000);
  AmActionRequest reboot = {.kind = AM_ACTION_REBOOT};
  g_autoptr(JsonObject) o = act_and_wait(&f, "127.0.71.2", &reboot);
  assert_outcome(o, "confirmed", "(was 50");
  g_assert_cmpint(e->latest->elapsed_s, <, 60);
  /* While it was down it was not called offline. */
  g_assert_cmpint(e->state, !=, AM_MINER_OFFLINE);
  fixture_stop(&f);
}

static void
test_locate_confirmed(void)
{
  Fixture f = {0};
  fixture_start(&f, "127.0.71.3 luxos-actions", 0);
  AmMinerEntry *e = add(&f, "127.0.71.3");
  am_test_wait_for(has_sample, e, "the first sample");
  g_assert_cmpint(e->latest->locate, ==, FALSE);
  AmActionRequest on = {.kind = AM_ACTION_LOCATE, .on = TRUE};
  g_autoptr(JsonObject) o = act_and_wait(&f, "127.0.71.3", &on);
  assert_outcome(o, "confirmed", "light on");
  g_autoptr(JsonNode) params = json_node_ref(json_object_get_member(o, "params"));
  g_assert_true(json_object_get_boolean_member(json_node_get_object(params), "on"));
  fixture_stop(&f);
}

static void
test_ignored_not_confirmed(void)
{
  Fixture f = {0};
  fixture_start(&f, "127.0.71.4 luxos-actions ignore_actions=1", 3000);
  AmMinerEntry *e = add(&f, "127.0.71.4");
  am_test_wait_for(has_sample, e, "the first sample");
  AmActionRequest pause = {.kind = AM_ACTION_PAUSE};
  g_autoptr(JsonObject) o = act_and_wait(&f, "127.0.71.4", &pause);
  assert_outcome(o, "not_confirmed", "last seen: hashrate");
  g_assert_nonnull(strstr(json_object_get_string_member(o, "message"), "mining hashing"));
  fixture_stop(&f);
}

static void
test_refusals(void)
{
  Fixture f = {0};
  fixture_start(&f, "127.0.71.5 avalon-a", 0);
  AmMinerEntry *e = add(&f, "127.0.71.5");
  g_autoptr(GError) error = NULL;
  AmActionRequest reboot = {.kind = AM_ACTION_REBOOT};
  /* Before the first poll no driver is chosen. */
  g_assert_null(am_actions_submit(f.actions, "127.0.71.5", &reboot, "t", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "not been identified yet"));
  g_clear_error(&error);
  am_test_wait_for(has_sample, e, "the first sample");

  AmActionRequest power = {.kind = AM_ACTION_POWER_TARGET, .watts = 3000};
  g_assert_null(am_actions_submit(f.actions, "127.0.71.5", &power, "t", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "the avalon driver cannot power_target"));
  g_clear_error(&error);

  g_assert_null(am_actions_submit(f.actions, "127.0.71.99", &reboot, "t", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_NOT_FOUND);
  g_clear_error(&error);

  AmActionRequest silly = {.kind = AM_ACTION_POWER_TARGET, .watts = 3};
  g_assert_null(am_actions_submit(f.actions, "127.0.71.5", &silly, "t", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "watts must be between"));
  g_clear_error(&error);
  AmActionRequest mode = {.kind = AM_ACTION_WORK_MODE, .mode = "turbo"};
  g_assert_null(am_actions_submit(f.actions, "127.0.71.5", &mode, "t", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_clear_error(&error);
  AmActionRequest nopools = {.kind = AM_ACTION_POOLS};
  g_assert_null(am_actions_submit(f.actions, "127.0.71.5", &nopools, "t", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);

  /* What the API shows for the miner: supported, and why not the rest. */
  g_autoptr(JsonNode) can = am_actions_miner_json(f.scheduler, e);
  JsonObject *o = json_node_get_object(can);
  JsonArray *yes = json_object_get_array_member(o, "supported");
  g_assert_cmpuint(json_array_get_length(yes), >, 0);
  g_assert_cmpstr(json_array_get_string_element(yes, 0), ==, "reboot");
  JsonObject *no = json_object_get_object_member(o, "unsupported");
  g_assert_nonnull(strstr(json_object_get_string_member(no, "power_target"), "avalon"));
  fixture_stop(&f);
}

/* ---- among other miners -------------------------------------------------- */

/* Samples seen per address, by a hook of the test's own. */
static void
count_sample(AmMinerEntry *entry, AmSample *sample, gpointer user_data)
{
  (void)sample;
  GHashTable *counts = user_data;
  const char *address = am_miner_get_address(entry->miner);
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, address));
  g_hash_table_replace(counts, g_strdup(address), GUINT_TO_POINTER(n + 1));
}

static guint
samples_of(GHashTable *counts, const char *host)
{
  g_autofree char *key = address(host);
  return GPOINTER_TO_UINT(g_hash_table_lookup(counts, key));
}

typedef struct {
  GHashTable *counts;
  const char *host;
  guint more_than;
} SampleCount;

static gboolean
sampled_since(gpointer data)
{
  SampleCount *c = data;
  return samples_of(c->counts, c->host) > c->more_than;
}

static char *
submit(Fixture *f, const char *host, const AmActionRequest *request)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) started = am_actions_submit(f->actions, host, request, "test", &error);
  g_assert_no_error(error);
  return g_strdup(json_object_get_string_member(json_node_get_object(started), "id"));
}

/* Each miner's samples judge the actions confirming on that miner only,
 * whatever came between: two actions confirm side by side while a third
 * miner with none is polled too. The ignored pause on .9 ends with what
 * its own last poll showed (no poll of its own found it: "no good poll
 * since it was sent"); the work mode on .10 is confirmed by .10's polls. */
static void
test_confirming_found_among_others(void)
{
  Fixture f = {0};
  fixture_start(&f,
                "127.0.71.9 luxos-actions ignore_actions=1\n127.0.71.10 avalon-a\n"
                "127.0.71.11 antminer-s9",
                4000);
  g_autoptr(GHashTable) counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  am_scheduler_add_sample_hook(f.scheduler, count_sample, counts);
  const char *hosts[] = {"127.0.71.9", "127.0.71.10", "127.0.71.11"};
  for (guint i = 0; i < G_N_ELEMENTS(hosts); i++)
    am_test_wait_for(has_sample, add(&f, hosts[i]), hosts[i]);

  AmActionRequest pause = {.kind = AM_ACTION_PAUSE};
  g_autofree char *ignored = submit(&f, "127.0.71.9", &pause);
  guint others_before = samples_of(counts, "127.0.71.11");
  AmActionRequest low = {.kind = AM_ACTION_WORK_MODE, .mode = AM_WORK_MODE_LOW};
  g_autofree char *taken = submit(&f, "127.0.71.10", &low);

  Follow w_taken = {&f, taken};
  am_test_wait_for(action_done, &w_taken, taken);
  g_autoptr(JsonNode) done_taken = am_actions_get(f.actions, taken);
  assert_outcome(json_node_get_object(done_taken), "confirmed", "work mode low");
  /* The miner with no action is polled between them. */
  SampleCount others = {counts, "127.0.71.11", others_before};
  am_test_wait_for(sampled_since, &others, "a sample of the miner with no action");

  Follow w_ignored = {&f, ignored};
  am_test_wait_for(action_done, &w_ignored, ignored);
  g_autoptr(JsonNode) done_ignored = am_actions_get(f.actions, ignored);
  JsonObject *o = json_node_get_object(done_ignored);
  assert_outcome(o, "not_confirmed", "last seen: hashrate");
  g_assert_nonnull(strstr(json_object_get_string_member(o, "message"), "mining hashing"));
  g_assert_cmpuint(samples_of(counts, "127.0.71.11"), >, others_before);
  am_scheduler_remove_sample_hook(f.scheduler, count_sample, counts);
  fixture_stop(&f);
}

/* ---- every family --------------------------------------------------------- */

/* One action per family, on the ports its firmware uses (so every unit is
 * configured on 4028 and each driver finds its web API where the firmware
 * has it): the driver's exact request must be what the fake's firmware
 * side accepts, with its auth, and the driver's next polls must show the
 * effect. */
typedef struct {
  const char *host;
  const char *profile;
  const char *settings;
  AmActionRequest request;
  const char *seen; /* in the confirmed action's message */
} FamilyCase;

/* One poll reads a firmware's replies side by side: the one that first
 * shows the effect may still carry a number read just before it (a
 * Whatsminer's hashrate beside its new mineroff), so each case names the
 * evidence the action itself changes. */
static const FamilyCase families[] = {
    {"127.0.72.1", "antminer-s19pro-web", "", {.kind = AM_ACTION_PAUSE}, "mining sleeping"},
    {"127.0.72.2",
     "braiins-rest-26",
     "",
     {.kind = AM_ACTION_POWER_TARGET, .watts = 3000},
     "power limit 3000 W"},
    {"127.0.72.3", "luxos-actions", "", {.kind = AM_ACTION_PAUSE}, "mining sleeping"},
    {"127.0.72.4",
     "avalon-a",
     "",
     {.kind = AM_ACTION_WORK_MODE, .mode = AM_WORK_MODE_LOW},
     "work mode low"},
    {"127.0.72.5", "bitaxe-supra", "reboot_s=1 uptime=9000", {.kind = AM_ACTION_REBOOT}, "(was 9"},
    {"127.0.72.6", "whatsminer-v2-actions", "", {.kind = AM_ACTION_PAUSE}, "mining paused"},
    {"127.0.72.7", "whatsminer-m60s-v3", "", {.kind = AM_ACTION_LOCATE, .on = TRUE}, "light on"},
    {"127.0.72.8", "epic-umc", "", {.kind = AM_ACTION_PAUSE}, "mining paused"},
    {"127.0.72.9",
     "auradine-at1500",
     "",
     {.kind = AM_ACTION_POWER_TARGET, .watts = 3000},
     "power limit 3000 W"},
};

static void
test_every_family_confirmed(void)
{
  Fixture f = {0};
  g_autoptr(GString) lines = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(families); i++) {
    const FamilyCase *c = &families[i];
    /* A profile without the RPC may not name the RPC port. */
    gboolean rpc = !g_str_equal(c->profile, "bitaxe-supra") &&
                   !g_str_equal(c->profile, "whatsminer-m60s-v3") &&
                   !g_str_equal(c->profile, "epic-umc");
    g_autofree char *profile = am_test_profile_dir(c->profile);
    g_string_append_printf(lines, "%s%s %s %s\n", c->host, rpc ? ":4028" : "", profile,
                           c->settings);
  }
  fixture_start_fleet(&f, lines->str, 0);
  for (guint i = 0; i < G_N_ELEMENTS(families); i++)
    am_test_wait_for(has_sample, add_at(&f, families[i].host, 4028), families[i].profile);
  for (guint i = 0; i < G_N_ELEMENTS(families); i++) {
    const FamilyCase *c = &families[i];
    g_autoptr(JsonObject) o = act_and_wait(&f, c->host, &c->request);
    const char *state = json_object_get_string_member(o, "state");
    const char *message = json_object_get_string_member_with_default(o, "message", "");
    if (!g_str_equal(state, "confirmed") || strstr(message, c->seen) == NULL)
      g_error("%s (%s) %s: expected confirmed with '%s', got %s: %s", c->host, c->profile,
              am_action_kind_to_string(c->request.kind), c->seen, state, message);
  }
  fixture_stop(&f);
}

/* ---- a fleet ------------------------------------------------------------ */

static gboolean
job_done(gpointer data)
{
  Follow *w = data;
  g_autoptr(JsonNode) node = am_actions_get(w->f->actions, w->id);
  return g_str_equal(json_object_get_string_member(json_node_get_object(node), "state"), "done");
}

static void
test_fleet_batches_and_dry_run(void)
{
  Fixture f = {0};
  /* Three families (two units of one profile would share a MAC and count
   * as one miner): the stock S19's light goes through its web CGI. */
  fixture_start(
      &f, "127.0.71.6 luxos-actions\n127.0.71.7:4028 antminer-s19pro-web\n127.0.71.8 avalon-a", 0);
  am_test_wait_for(has_sample, add(&f, "127.0.71.6"), "127.0.71.6");
  am_test_wait_for(has_sample, add_at(&f, "127.0.71.7", 4028), "127.0.71.7");
  am_test_wait_for(has_sample, add(&f, "127.0.71.8"), "127.0.71.8");
  g_autofree char *a6 = address("127.0.71.6");
  const char *a7 = "127.0.71.7:4028";
  g_autofree char *a8 = address("127.0.71.8");
  const char *keys[] = {a6, a7, a8, "127.0.71.200"};
  AmActionRequest locate = {.kind = AM_ACTION_LOCATE, .on = TRUE};

  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) dry =
      am_actions_submit_fleet(f.actions, keys, 4, &locate, 1, 1000, TRUE, "ops", &error);
  g_assert_no_error(error);
  JsonObject *d = json_node_get_object(dry);
  g_assert_true(json_object_get_boolean_member(d, "dry_run"));
  JsonObject *counts = json_object_get_object_member(d, "counts");
  g_assert_cmpint(json_object_get_int_member(counts, "would_do"), ==, 3);
  g_assert_cmpint(json_object_get_int_member(counts, "skipped"), ==, 1);
  JsonArray *miners = json_object_get_array_member(d, "miners");
  JsonObject *missing = json_array_get_object_element(miners, 3);
  g_assert_cmpstr(json_object_get_string_member(missing, "state"), ==, "skipped");
  g_assert_cmpstr(json_object_get_string_member(missing, "message"), ==, "no miner 127.0.71.200");

  g_autoptr(JsonNode) job =
      am_actions_submit_fleet(f.actions, keys, 3, &locate, 1, 1000, FALSE, "ops", &error);
  g_assert_no_error(error);
  JsonObject *j = json_node_get_object(job);
  g_autofree char *id = g_strdup(json_object_get_string_member(j, "id"));
  /* One per batch: the first is under way, the others wait their turn. */
  JsonArray *started = json_object_get_array_member(j, "miners");
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(started, 1), "state"),
                  ==, "queued");
  Follow w = {&f, id};
  am_test_wait_for(job_done, &w, id);
  g_autoptr(JsonNode) end = am_actions_get(f.actions, id);
  JsonObject *done = json_object_get_object_member(json_node_get_object(end), "counts");
  /* LuxOS reports its red light, the Avalon its Led, the S19 its blink
   * status (read by the web driver that lit it). */
  g_assert_cmpint(json_object_get_int_member_with_default(done, "confirmed", 0), ==, 3);
  fixture_stop(&f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  fleet_port = am_test_free_port();
  g_test_add_func("/actions/pause-resume-confirmed", test_pause_resume_confirmed);
  g_test_add_func("/actions/reboot-confirmed-by-uptime", test_reboot_confirmed_by_uptime);
  g_test_add_func("/actions/locate-confirmed", test_locate_confirmed);
  g_test_add_func("/actions/ignored-not-confirmed", test_ignored_not_confirmed);
  g_test_add_func("/actions/refusals", test_refusals);
  g_test_add_func("/actions/fleet-batches-and-dry-run", test_fleet_batches_and_dry_run);
  g_test_add_func("/actions/every-family-confirmed", test_every_family_confirmed);
  g_test_add_func("/actions/confirming-found-among-others", test_confirming_found_among_others);
  return g_test_run();
}
