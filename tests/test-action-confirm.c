/* Confirming actions from the polls that follow them: each kind on the
 * evidence a firmware gives, and "never" where it gives none. */
#include "am-action-confirm.h"
#include <math.h>

static AmSample *
hashing_sample(double ths, gint64 uptime_s)
{
  AmSample *s = am_sample_new();
  s->hashrate_ths = ths;
  s->elapsed_s = uptime_s;
  s->mining = AM_MINING_HASHING;
  return s;
}

static AmConfirmVerdict
check(const AmActionRequest *req, const AmSample *before, const AmSample *now, double since,
      const char *expected_seen)
{
  g_autofree char *seen = NULL;
  AmConfirmVerdict v = am_action_confirm(req, before, now, since, &seen);
  g_assert_cmpstr(seen, ==, expected_seen);
  return v;
}

static void
test_reboot(void)
{
  AmActionRequest req = {.kind = AM_ACTION_REBOOT};
  g_autoptr(AmSample) before = hashing_sample(100, 86400);
  g_autoptr(AmSample) same = hashing_sample(100, 86430);
  g_autoptr(AmSample) fresh = hashing_sample(0, 12);
  g_autoptr(AmSample) blind = hashing_sample(100, AM_UNKNOWN);
  g_assert_cmpint(check(&req, before, same, 30, "uptime 86430 s (was 86400 s)"), ==,
                  AM_CONFIRM_PENDING);
  g_assert_cmpint(check(&req, before, fresh, 120, "uptime 12 s (was 86400 s)"), ==, AM_CONFIRM_YES);
  /* No sample before: younger than the time since it was sent. */
  g_assert_cmpint(check(&req, NULL, fresh, 120, "uptime 12 s"), ==, AM_CONFIRM_YES);
  g_assert_cmpint(check(&req, NULL, same, 120, "uptime 86430 s"), ==, AM_CONFIRM_PENDING);
  g_assert_cmpint(check(&req, before, blind, 120, "the firmware does not report its uptime"), ==,
                  AM_CONFIRM_NEVER);
}

static void
test_pause_and_resume(void)
{
  AmActionRequest pause = {.kind = AM_ACTION_PAUSE};
  AmActionRequest resume = {.kind = AM_ACTION_RESUME};
  g_autoptr(AmSample) before = hashing_sample(100, 1000);
  g_autoptr(AmSample) still = hashing_sample(98.5, 1030);
  g_autoptr(AmSample) asleep = hashing_sample(0, 1060);
  asleep->mining = AM_MINING_SLEEPING;
  g_assert_cmpint(check(&pause, before, still, 30, "hashrate 98.50 TH/s, mining hashing"), ==,
                  AM_CONFIRM_PENDING);
  g_assert_cmpint(check(&pause, before, asleep, 60, "hashrate 0.00 TH/s, mining sleeping"), ==,
                  AM_CONFIRM_YES);
  /* A firmware without a mining state: a hashrate near zero does. */
  g_autoptr(AmSample) quiet = hashing_sample(3.0, 1060);
  quiet->mining = AM_MINING_UNKNOWN;
  g_assert_cmpint(check(&pause, before, quiet, 60, "hashrate 3.00 TH/s, mining not reported"), ==,
                  AM_CONFIRM_YES);
  quiet->hashrate_ths = 40;
  g_assert_cmpint(check(&pause, before, quiet, 60, "hashrate 40.00 TH/s, mining not reported"), ==,
                  AM_CONFIRM_PENDING);
  g_assert_cmpint(check(&resume, asleep, asleep, 30, "hashrate 0.00 TH/s, mining sleeping"), ==,
                  AM_CONFIRM_PENDING);
  g_autoptr(AmSample) starting = hashing_sample(0, 5);
  starting->mining = AM_MINING_STARTING;
  g_assert_cmpint(check(&resume, asleep, starting, 30, "hashrate 0.00 TH/s, mining starting"), ==,
                  AM_CONFIRM_YES);
}

static void
test_power_target(void)
{
  AmActionRequest req = {.kind = AM_ACTION_POWER_TARGET, .watts = 3000};
  g_autoptr(AmSample) s = hashing_sample(100, 1000);
  s->power_limit_w = 3400;
  g_assert_cmpint(check(&req, NULL, s, 30, "power limit 3400 W"), ==, AM_CONFIRM_PENDING);
  s->power_limit_w = 3010;
  g_assert_cmpint(check(&req, NULL, s, 30, "power limit 3010 W"), ==, AM_CONFIRM_YES);
  /* No limit reported: the measured draw follows within 10%. */
  s->power_limit_w = NAN;
  s->power_w = 3250;
  s->power_source = AM_POWER_SOURCE_REPORTED;
  g_assert_cmpint(check(&req, NULL, s, 30, "drawing 3250 W (no limit reported)"), ==,
                  AM_CONFIRM_YES);
  s->power_w = 3400;
  g_assert_cmpint(check(&req, NULL, s, 30, "drawing 3400 W (no limit reported)"), ==,
                  AM_CONFIRM_PENDING);
  /* An estimate is no evidence. */
  s->power_source = AM_POWER_SOURCE_ESTIMATED;
  g_assert_cmpint(
      check(&req, NULL, s, 30, "the firmware reports neither its power limit nor its draw"), ==,
      AM_CONFIRM_NEVER);
}

static void
test_work_mode_and_locate(void)
{
  AmActionRequest mode = {.kind = AM_ACTION_WORK_MODE, .mode = AM_WORK_MODE_LOW};
  AmActionRequest light = {.kind = AM_ACTION_LOCATE, .on = TRUE};
  g_autoptr(AmSample) s = hashing_sample(100, 1000);
  g_assert_cmpint(check(&mode, NULL, s, 30, "the firmware does not report its work mode"), ==,
                  AM_CONFIRM_NEVER);
  am_sample_set(s, &s->work_mode, "normal");
  g_assert_cmpint(check(&mode, NULL, s, 30, "work mode normal"), ==, AM_CONFIRM_PENDING);
  am_sample_set(s, &s->work_mode, "Low");
  g_assert_cmpint(check(&mode, NULL, s, 30, "work mode Low"), ==, AM_CONFIRM_YES);
  g_assert_cmpint(check(&light, NULL, s, 30, "the firmware does not report its light"), ==,
                  AM_CONFIRM_NEVER);
  s->locate = FALSE;
  g_assert_cmpint(check(&light, NULL, s, 30, "light off"), ==, AM_CONFIRM_PENDING);
  s->locate = TRUE;
  g_assert_cmpint(check(&light, NULL, s, 30, "light on"), ==, AM_CONFIRM_YES);
}

static void
test_pools(void)
{
  AmPoolSetting want[] = {{"stratum+tcp://Pool.Example:3333", "farm.w1", "x"},
                          {"stratum+tcp://backup.example:443", "farm.w1", NULL}};
  AmActionRequest req = {.kind = AM_ACTION_POOLS, .pools = want, .n_pools = 2};
  g_autoptr(AmSample) s = hashing_sample(100, 1000);
  g_assert_cmpint(check(&req, NULL, s, 30, "no pools reported"), ==, AM_CONFIRM_PENDING);
  am_sample_add_pool(s, "stratum+tcp://old.example:3333", "farm.w1");
  g_assert_cmpint(check(&req, NULL, s, 30, "1 pool, first stratum+tcp://old.example:3333"), ==,
                  AM_CONFIRM_PENDING);
  /* Reported without the scheme and in lower case: the same pool. */
  g_autoptr(AmSample) set = hashing_sample(100, 1000);
  am_sample_add_pool(set, "pool.example:3333", "farm.w1");
  am_sample_add_pool(set, "stratum+tcp://backup.example:443", NULL);
  g_assert_cmpint(check(&req, NULL, set, 30, "2 pools, first pool.example:3333"), ==,
                  AM_CONFIRM_YES);
  g_autofree char *key = am_action_pool_key("stratum+ssl://A.B:1/path?q");
  g_assert_cmpstr(key, ==, "a.b:1");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/action-confirm/reboot", test_reboot);
  g_test_add_func("/action-confirm/pause-resume", test_pause_and_resume);
  g_test_add_func("/action-confirm/power-target", test_power_target);
  g_test_add_func("/action-confirm/work-mode-locate", test_work_mode_and_locate);
  g_test_add_func("/action-confirm/pools", test_pools);
  return g_test_run();
}
