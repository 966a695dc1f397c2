/* Alert rules and the evaluator, with a fake clock, fake sinks and a fake
 * store: what an operator is told, when, and how often.
 *
 * The rules are driven through am_alert_rule_step() with an explicit "now";
 * the evaluator (am-alerts.c) through the scheduler's hooks with miner
 * entries built here, sinks that succeed, fail or hang on demand, and a
 * store that records events and answers "alert_state" like the SQLite one. */
#include "am-alert-env.h"
#include "am-alert-rules.h"
#include "am-config-file.h"
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define SEC ((gint64)G_USEC_PER_SEC)
#define MINUTE (60 * SEC)
#define T0 ((gint64)1700000000 * SEC)

/* ---- log capture ------------------------------------------------------- */

static GString *logged;

static GLogWriterOutput
capture_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  (void)user_data;
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal(fields[i].key, "MESSAGE")) {
      g_string_append_printf(logged, "%s\n", (const char *)fields[i].value);
      if (g_test_verbose())
        g_printerr("log: %s\n", (const char *)fields[i].value);
    }
  (void)level;
  return G_LOG_WRITER_HANDLED;
}

static guint
count_in(const char *haystack, const char *needle)
{
  guint n = 0;
  for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* ---- rules: helpers ---------------------------------------------------- */

static GKeyFile *
key_file(const char *text)
{
  GKeyFile *kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  return kf;
}

/* The rule of the first group of @text (which must be valid). */
static AmAlertRule *
rule_from(const char *text)
{
  g_autoptr(GKeyFile) kf = key_file(text);
  g_autofree char *group = g_key_file_get_start_group(kf);
  g_autoptr(GError) error = NULL;
  AmAlertRule *rule = am_alert_rule_new(kf, group, 90 * 1000, &error);
  g_assert_no_error(error);
  g_assert_nonnull(rule);
  return rule;
}

static AmSample *
sample_new(const char *model)
{
  AmSample *s = am_sample_new();
  am_sample_set(s, &s->model, model);
  s->elapsed_s = 86400;
  return s;
}

static AmSample *
sample_temp(double board, double chip)
{
  AmSample *s = sample_new("Antminer S9");
  if (!isnan(board))
    am_sample_add_temp(s, board);
  if (!isnan(chip))
    am_sample_add_chip_temp(s, chip);
  return s;
}

static AmSample *
sample_hashrate(double ths, gint64 elapsed_s)
{
  AmSample *s = sample_new("Antminer S9");
  s->hashrate_ths = ths;
  s->hashrate_ideal_ths = 14.0;
  s->elapsed_s = elapsed_s;
  return s;
}

static AmAlertSubject
subject_for(AmSample *sample)
{
  return (AmAlertSubject){
      .address = "10.1.2.3:4028",
      .host = "10.1.2.3",
      .name = "rack1-07",
      .model = sample != NULL ? sample->model : "Antminer S9",
      .sample = sample,
      .last_ok_us = T0,
  };
}

/* One step of @rule with @sample at @now; the outcome's change. */
static AmAlertChange
step(AmAlertRule *rule, AmAlertTrack *track, AmSample *sample, gint64 now, AmAlertOutcome *out)
{
  AmAlertSubject subject = subject_for(sample);
  am_alert_outcome_clear(out);
  am_alert_rule_step(rule, track, &subject, now, out);
  return out->change;
}

/* Steps with a sample made by @make(@value), and frees it. */
static AmAlertChange
step_temp(AmAlertRule *rule, AmAlertTrack *track, double board, gint64 now, AmAlertOutcome *out)
{
  g_autoptr(AmSample) s = sample_temp(board, NAN);
  return step(rule, track, s, now, out);
}

/* ---- rules: temperature ------------------------------------------------ */

static void
test_temperature_hits(void)
{
  g_autoptr(AmAlertRule) rule = rule_from("[alert:hot]\ntype=temperature\nwarning=80\n"
                                          "critical=90\nhits=3\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  gint64 now = T0;
  /* Two hot samples, then a cool one: the count starts again. */
  g_assert_cmpint(step_temp(rule, t, 85, now += 30 * SEC, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(step_temp(rule, t, 85, now += 30 * SEC, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(step_temp(rule, t, 70, now += 30 * SEC, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(step_temp(rule, t, 85, now += 30 * SEC, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(step_temp(rule, t, 85, now += 30 * SEC, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_false(am_alert_track_is_active(t));
  /* The third in a row raises it, once. */
  g_assert_cmpint(step_temp(rule, t, 86, now += 30 * SEC, &o), ==, AM_ALERT_RAISED);
  g_assert_true(o.notify);
  g_assert_cmpint(o.severity, ==, AM_SEVERITY_WARNING);
  g_assert_cmpfloat(o.value, ==, 86);
  g_assert_cmpfloat(o.threshold, ==, 80);
  g_assert_cmpstr(o.unit, ==, "degC");
  g_assert_nonnull(strstr(o.message, "86.0 °C"));
  g_assert_nonnull(strstr(o.message, "80.0 °C"));
  g_assert_cmpint(step_temp(rule, t, 86, now += 30 * SEC, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_true(am_alert_track_is_active(t));
}

static void
test_temperature_hysteresis(void)
{
  g_autoptr(AmAlertRule) rule = rule_from("[alert:hot]\ntype=temperature\nwarning=80\nclear=75\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  gint64 now = T0;
  g_assert_cmpint(step_temp(rule, t, 82, now += 30 * SEC, &o), ==, AM_ALERT_RAISED);
  /* Under the raise limit but over the clear limit: still active, quiet. */
  g_assert_cmpint(step_temp(rule, t, 79, now += 30 * SEC, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(step_temp(rule, t, 81, now += 30 * SEC, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(step_temp(rule, t, 76, now += 30 * SEC, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_true(am_alert_track_is_active(t));
  /* At the clear limit it resolves, and says so. */
  g_assert_cmpint(step_temp(rule, t, 75, now += 30 * SEC, &o), ==, AM_ALERT_RESOLVED);
  g_assert_true(o.notify);
  g_assert_cmpfloat(o.value, ==, 75);
  g_assert_cmpfloat(o.threshold, ==, 75);
  g_assert_false(am_alert_track_is_active(t));
}

static void
test_temperature_escalate(void)
{
  g_autoptr(AmAlertRule) rule =
      rule_from("[alert:hot]\ntype=temperature\nwarning=80\ncritical=90\ncooldown=1h\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  gint64 now = T0;
  g_assert_cmpint(step_temp(rule, t, 85, now += 30 * SEC, &o), ==, AM_ALERT_RAISED);
  g_assert_cmpint(o.severity, ==, AM_SEVERITY_WARNING);
  /* Worse news goes out at once, cooldown or not... */
  g_assert_cmpint(step_temp(rule, t, 95, now += 30 * SEC, &o), ==, AM_ALERT_RAISED);
  g_assert_true(o.notify);
  g_assert_cmpint(o.severity, ==, AM_SEVERITY_CRITICAL);
  g_assert_cmpfloat(o.threshold, ==, 90);
  /* ...better news is not news until it clears. */
  g_assert_cmpint(step_temp(rule, t, 85, now += 30 * SEC, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(am_alert_track_get_severity(t), ==, AM_SEVERITY_CRITICAL);
  g_assert_cmpint(step_temp(rule, t, 70, now += 30 * SEC, &o), ==, AM_ALERT_RESOLVED);
  g_assert_cmpint(o.severity, ==, AM_SEVERITY_CRITICAL);
}

static void
test_temperature_chip_and_model(void)
{
  g_autoptr(AmAlertRule) rule =
      rule_from("[alert:chip]\ntype=temperature\nsensor=chip\ncritical=100\n"
                "critical.Antminer S19*=95\ncritical.antminer s9=90\n");
  g_auto(AmAlertOutcome) o = {0};
  g_autoptr(AmAlertTrack) t9 = am_alert_track_new();
  g_autoptr(AmAlertTrack) t19 = am_alert_track_new();
  g_autoptr(AmAlertTrack) tl3 = am_alert_track_new();
  /* The board sensor is not this rule's business. */
  g_autoptr(AmSample) board_hot = sample_temp(120, 60);
  g_assert_cmpint(step(rule, t9, board_hot, T0, &o), ==, AM_ALERT_UNCHANGED);

  g_autoptr(AmSample) s9 = sample_temp(60, 92);
  g_assert_cmpint(step(rule, t9, s9, T0, &o), ==, AM_ALERT_RAISED);
  g_assert_cmpfloat(o.threshold, ==, 90); /* case-insensitive model match */
  g_assert_nonnull(strstr(o.message, "chip"));

  g_autoptr(AmSample) s19 = sample_temp(60, 96);
  am_sample_set(s19, &s19->model, "Antminer S19 Pro");
  g_assert_cmpint(step(rule, t19, s19, T0, &o), ==, AM_ALERT_RAISED);
  g_assert_cmpfloat(o.threshold, ==, 95);

  g_autoptr(AmSample) l3 = sample_temp(60, 96);
  am_sample_set(l3, &l3->model, "Antminer L3+");
  g_assert_cmpint(step(rule, tl3, l3, T0, &o), ==, AM_ALERT_UNCHANGED);
}

static void
test_temperature_no_reading(void)
{
  g_autoptr(AmAlertRule) rule = rule_from("[alert:hot]\ntype=temperature\nwarning=80\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  g_assert_cmpint(step_temp(rule, t, 85, T0, &o), ==, AM_ALERT_RAISED);
  /* A sample without temperatures (a sensor fault) neither clears nor repeats. */
  g_autoptr(AmSample) blind = sample_temp(NAN, NAN);
  g_assert_cmpint(step(rule, t, blind, T0 + MINUTE, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_true(am_alert_track_is_active(t));
}

/* ---- rules: cooldown --------------------------------------------------- */

static void
test_cooldown(void)
{
  g_autoptr(AmAlertRule) rule =
      rule_from("[alert:hot]\ntype=temperature\nwarning=80\ncooldown=30m\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  gint64 now = T0;
  g_assert_cmpint(step_temp(rule, t, 85, now, &o), ==, AM_ALERT_RAISED);
  g_assert_true(o.notify);
  g_assert_cmpint(step_temp(rule, t, 70, now += 5 * MINUTE, &o), ==, AM_ALERT_RESOLVED);
  g_assert_true(o.notify);
  /* Again within 30 min: kept, but nobody is told... */
  g_assert_cmpint(step_temp(rule, t, 85, now += 5 * MINUTE, &o), ==, AM_ALERT_RAISED);
  g_assert_false(o.notify);
  g_assert_true(am_alert_track_is_active(t));
  /* ...so its resolve is quiet too. */
  g_assert_cmpint(step_temp(rule, t, 70, now += 5 * MINUTE, &o), ==, AM_ALERT_RESOLVED);
  g_assert_false(o.notify);
  /* Held back, and still there when the cooldown runs out: sent then. */
  g_assert_cmpint(step_temp(rule, t, 85, now += 5 * MINUTE, &o), ==, AM_ALERT_RAISED);
  g_assert_false(o.notify);
  g_assert_cmpint(step_temp(rule, t, 85, T0 + 29 * MINUTE, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(step_temp(rule, t, 84, T0 + 31 * MINUTE, &o), ==, AM_ALERT_RAISED);
  g_assert_true(o.notify);
  g_assert_cmpfloat(o.value, ==, 84);
  g_assert_cmpint(step_temp(rule, t, 85, T0 + 32 * MINUTE, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(step_temp(rule, t, 70, T0 + 33 * MINUTE, &o), ==, AM_ALERT_RESOLVED);
  g_assert_true(o.notify);
  /* After the cooldown a new raise is sent at once. */
  g_assert_cmpint(step_temp(rule, t, 85, T0 + 70 * MINUTE, &o), ==, AM_ALERT_RAISED);
  g_assert_true(o.notify);
}

/* ---- rules: hashrate --------------------------------------------------- */

/* Feeds @n samples of @ths, 30 s apart from *now; returns the last change
 * that was not UNCHANGED (or UNCHANGED). */
static AmAlertChange
feed_hashrate(AmAlertRule *rule, AmAlertTrack *t, double ths, gint64 elapsed_s, guint n,
              gint64 *now, AmAlertOutcome *o)
{
  AmAlertChange seen = AM_ALERT_UNCHANGED;
  for (guint i = 0; i < n; i++) {
    *now += 30 * SEC;
    g_autoptr(AmSample) s = sample_hashrate(ths, elapsed_s + (gint64)i * 30);
    AmAlertChange c = step(rule, t, s, *now, o);
    if (c != AM_ALERT_UNCHANGED) {
      g_assert_cmpint(seen, ==, AM_ALERT_UNCHANGED); /* one change per run at most */
      seen = c;
    }
  }
  return seen;
}

static void
test_hashrate_median(void)
{
  g_autoptr(AmAlertRule) rule = rule_from("[alert:drop]\ntype=hashrate_drop\nthreshold=0.9\n"
                                          "window=1h\nwarmup=10m\nhits=2\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  gint64 now = T0;
  /* Above the median is never a drop (the original app's rule was inverted). */
  g_assert_cmpint(feed_hashrate(rule, t, 14.0, 86400, 10, &now, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(feed_hashrate(rule, t, 20.0, 86700, 3, &now, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(feed_hashrate(rule, t, 14.0, 86800, 3, &now, &o), ==, AM_ALERT_UNCHANGED);
  /* 12.7 is 91 % of 14: not yet. */
  g_assert_cmpint(feed_hashrate(rule, t, 12.7, 87000, 3, &now, &o), ==, AM_ALERT_UNCHANGED);
  /* A lost board: the second low sample raises it. */
  g_assert_cmpint(feed_hashrate(rule, t, 9.3, 87100, 1, &now, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(feed_hashrate(rule, t, 9.3, 87130, 1, &now, &o), ==, AM_ALERT_RAISED);
  g_assert_true(o.notify);
  g_assert_cmpfloat(o.value, ==, 9.3);
  g_assert_cmpfloat_with_epsilon(o.threshold, 0.9 * 14.0, 1e-9);
  g_assert_cmpstr(o.unit, ==, "TH/s");
  g_assert_nonnull(strstr(o.message, "66%"));
  /* Two hours low: the drop must not become the new normal. */
  g_assert_cmpint(feed_hashrate(rule, t, 9.3, 87200, 240, &now, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_true(am_alert_track_is_active(t));
  /* Board fixed (no restart): resolved. */
  g_assert_cmpint(feed_hashrate(rule, t, 13.9, 95000, 1, &now, &o), ==, AM_ALERT_RESOLVED);
  g_assert_true(o.notify);
}

static void
test_hashrate_warmup(void)
{
  g_autoptr(AmAlertRule) rule = rule_from("[alert:drop]\ntype=hashrate_drop\nthreshold=0.9\n"
                                          "warmup=10m\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  gint64 now = T0;
  g_assert_cmpint(feed_hashrate(rule, t, 14.0, 5000, 10, &now, &o), ==, AM_ALERT_UNCHANGED);
  /* The miner restarts (elapsed goes down) and ramps up for 10 minutes. */
  g_assert_cmpint(feed_hashrate(rule, t, 3.0, 30, 19, &now, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_false(am_alert_track_is_active(t));
  /* Past the warm-up it hashes normally: nothing to say. */
  g_assert_cmpint(feed_hashrate(rule, t, 14.0, 630, 5, &now, &o), ==, AM_ALERT_UNCHANGED);
  /* Past the warm-up and low: that is a drop. */
  g_assert_cmpint(feed_hashrate(rule, t, 7.0, 800, 1, &now, &o), ==, AM_ALERT_RAISED);
}

static void
test_hashrate_restart_without_elapsed_drop(void)
{
  /* Firmware whose uptime never goes down still gets a warm-up after antmon
   * starts: it is measured from the first sample antmon saw. */
  g_autoptr(AmAlertRule) rule = rule_from("[alert:drop]\ntype=hashrate_drop\nbaseline=ideal\n"
                                          "threshold=0.8\nwarmup=5m\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  gint64 now = T0;
  g_assert_cmpint(feed_hashrate(rule, t, 5.0, AM_UNKNOWN, 10, &now, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(feed_hashrate(rule, t, 5.0, AM_UNKNOWN, 1, &now, &o), ==, AM_ALERT_RAISED);
  g_assert_cmpfloat_with_epsilon(o.threshold, 0.8 * 14.0, 1e-9);
  g_assert_nonnull(strstr(o.message, "ideal"));
  /* Default clear for a ratio: 5 points above the threshold (85 %). */
  g_assert_cmpint(feed_hashrate(rule, t, 11.5, AM_UNKNOWN, 1, &now, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(feed_hashrate(rule, t, 12.0, AM_UNKNOWN, 1, &now, &o), ==, AM_ALERT_RESOLVED);
}

static AmSample *sample_degraded(void);

/* A miner paused or asleep on purpose: no hashrate drop and no hardware
 * alert, however low its hashrate and however many boards are off; one
 * raised before is resolved. Hashing again at the same low rate raises it. */
static void
test_paused_stands_down(void)
{
  g_autoptr(AmAlertRule) rule = rule_from("[alert:drop]\ntype=hashrate_drop\nbaseline=ideal\n"
                                          "threshold=0.8\nwarmup=0\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  g_autoptr(AmSample) low = sample_hashrate(0.0, 5000);
  g_assert_cmpint(step(rule, t, low, T0, &o), ==, AM_ALERT_RAISED);
  low->mining = AM_MINING_PAUSED;
  g_assert_cmpint(step(rule, t, low, T0 + MINUTE, &o), ==, AM_ALERT_RESOLVED);
  g_assert_nonnull(strstr(o.message, "mining paused on purpose"));
  low->mining = AM_MINING_SLEEPING;
  g_assert_cmpint(step(rule, t, low, T0 + 2 * MINUTE, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_false(am_alert_track_is_active(t));
  low->mining = AM_MINING_HASHING;
  g_assert_cmpint(step(rule, t, low, T0 + 3 * MINUTE, &o), ==, AM_ALERT_RAISED);

  g_autoptr(AmAlertRule) hw = rule_from("[alert:hw]\ntype=hardware\nmax_failed_chips=0\n");
  g_autoptr(AmAlertTrack) t2 = am_alert_track_new();
  g_autoptr(AmSample) asleep = sample_degraded();
  asleep->mining = AM_MINING_SLEEPING;
  g_assert_cmpint(step(hw, t2, asleep, T0, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_false(am_alert_track_is_active(t2));
  /* Temperature still counts while asleep. */
  g_autoptr(AmAlertRule) hot = rule_from("[alert:hot]\ntype=temperature\nwarning=80\n");
  g_autoptr(AmAlertTrack) t3 = am_alert_track_new();
  g_autoptr(AmSample) warm = sample_temp(95, NAN);
  warm->mining = AM_MINING_SLEEPING;
  g_assert_cmpint(step(hot, t3, warm, T0, &o), ==, AM_ALERT_RAISED);
}

/* ---- rules: offline, hardware, pool ------------------------------------ */

static void
test_offline(void)
{
  g_autoptr(AmAlertRule) rule = rule_from("[alert:dark]\ntype=offline\nafter=90s\nhits=5\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  AmAlertSubject s = subject_for(NULL);
  s.failing = TRUE;
  s.reason = "10.1.2.3:4028: connection refused";
  s.error_kind = "refused";
  am_alert_rule_step(rule, t, &s, T0 + 60 * SEC, &o);
  g_assert_cmpint(o.change, ==, AM_ALERT_UNCHANGED);
  /* Time, not hits, decides: the first look past after= raises it. */
  am_alert_rule_step(rule, t, &s, T0 + 91 * SEC, &o);
  g_assert_cmpint(o.change, ==, AM_ALERT_RAISED);
  g_assert_cmpint(o.severity, ==, AM_SEVERITY_CRITICAL);
  g_assert_cmpfloat(o.value, ==, 91);
  g_assert_cmpfloat(o.threshold, ==, 90);
  g_assert_nonnull(strstr(o.message, "no answer for 91 s"));
  g_assert_nonnull(strstr(o.message, "refused"));
  am_alert_outcome_clear(&o);
  am_alert_rule_step(rule, t, &s, T0 + 200 * SEC, &o);
  g_assert_cmpint(o.change, ==, AM_ALERT_UNCHANGED);
  /* A good sample: back. */
  g_autoptr(AmSample) sample = sample_temp(60, NAN);
  g_assert_cmpint(step(rule, t, sample, T0 + 230 * SEC, &o), ==, AM_ALERT_RESOLVED);
  g_assert_nonnull(strstr(o.message, "again"));
}

/* Like the fake fleet's antminer-s9-degraded: chain 8 gone, 3 failed chips
 * on chain 7, one of two fans stopped. */
static AmSample *
sample_degraded(void)
{
  AmSample *s = sample_new("Antminer S9");
  s->chains_expected = 3;
  s->fans_expected = 2;
  for (gint i = 6; i <= 7; i++) {
    AmChain *c = am_sample_add_chain(s, i);
    c->chips = c->chips_expected = 63;
    c->chips_failed = i == 7 ? 3 : 0;
  }
  am_sample_add_fan(s, 3720);
  s->hashrate_ths = s->hashrate_avg_ths = 9.0;
  s->hw_errors = 32030;
  s->elapsed_s = 293628;
  return s;
}

static void
test_hardware(void)
{
  g_autoptr(AmAlertRule) rule = rule_from("[alert:hw]\ntype=hardware\nmax_failed_chips=0\n"
                                          "max_hw_error_rate=1\nseverity=critical\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  g_autoptr(AmSample) bad = sample_degraded();
  g_assert_cmpint(step(rule, t, bad, T0, &o), ==, AM_ALERT_RAISED);
  g_assert_cmpint(o.severity, ==, AM_SEVERITY_CRITICAL);
  g_assert_nonnull(strstr(o.message, "2 of 3 chains present"));
  g_assert_nonnull(strstr(o.message, "3 failed or missing chips"));
  g_assert_nonnull(strstr(o.message, "1 of 2 fans spinning"));
  g_assert_null(strstr(o.message, "hardware error rate")); /* 0.005 %: fine */
  g_assert_cmpfloat(o.value, ==, 2);
  g_assert_cmpfloat(o.threshold, ==, 3);

  /* A liquid-cooled unit without fans is normal. */
  g_autoptr(AmAlertTrack) t2 = am_alert_track_new();
  g_autoptr(AmAlertRule) fans_only = rule_from("[alert:hw]\ntype=hardware\nchains=false\n"
                                               "max_failed_chips=10\n");
  g_autoptr(AmSample) hydro = sample_degraded();
  hydro->liquid_cooled = TRUE;
  g_array_set_size(hydro->fans_rpm, 0);
  g_assert_cmpint(step(fans_only, t2, hydro, T0, &o), ==, AM_ALERT_UNCHANGED);

  /* Hardware errors: the firmware's HW%, with hysteresis. */
  g_autoptr(AmAlertRule) rate = rule_from("[alert:hw]\ntype=hardware\nmax_hw_error_rate=1\n"
                                          "clear=0.5\n");
  g_autoptr(AmAlertTrack) t3 = am_alert_track_new();
  g_autoptr(AmSample) errors = sample_new("Antminer S9");
  errors->hashrate_avg_ths = 4.294967296; /* 1e6 diff-1 nonces in 1000 s */
  errors->elapsed_s = 1000;
  errors->hw_errors = 20000; /* 1.96 % */
  g_assert_cmpint(step(rate, t3, errors, T0, &o), ==, AM_ALERT_RAISED);
  g_assert_cmpstr(o.unit, ==, "%");
  g_assert_cmpfloat_with_epsilon(o.value, 100.0 * 2e4 / (2e4 + 1e6), 1e-6);
  errors->hw_errors = 8000; /* 0.79 %: between the limits */
  g_assert_cmpint(step(rate, t3, errors, T0 + MINUTE, &o), ==, AM_ALERT_UNCHANGED);
  errors->hw_errors = 4000; /* 0.4 % */
  g_assert_cmpint(step(rate, t3, errors, T0 + 2 * MINUTE, &o), ==, AM_ALERT_RESOLVED);
}

static void
test_pool(void)
{
  g_autoptr(AmAlertRule) rule = rule_from("[alert:pool]\ntype=pool\nmax_rejected_ratio=0.05\n"
                                          "min_shares=100\n");
  g_auto(AmAlertOutcome) o = {0};
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_autoptr(AmSample) dead = sample_new("Antminer S9");
  AmPool *p1 = am_sample_add_pool(dead, "stratum+tcp://a:3333", "u");
  AmPool *p2 = am_sample_add_pool(dead, "stratum+tcp://b:3333", "u");
  p1->status = g_strdup("Dead");
  p2->status = g_strdup("Dead");
  g_assert_cmpint(step(rule, t, dead, T0, &o), ==, AM_ALERT_RAISED);
  g_assert_nonnull(strstr(o.message, "no pool is alive (Dead, Dead)"));
  g_free(p2->status);
  p2->status = g_strdup("Alive");
  g_assert_cmpint(step(rule, t, dead, T0 + MINUTE, &o), ==, AM_ALERT_RESOLVED);

  /* Rejections: too few shares say nothing; then over the limit. */
  g_autoptr(AmAlertTrack) t2 = am_alert_track_new();
  dead->accepted = 40;
  dead->rejected = 10;
  g_assert_cmpint(step(rule, t2, dead, T0, &o), ==, AM_ALERT_UNCHANGED);
  dead->accepted = 900;
  dead->rejected = 100;
  g_assert_cmpint(step(rule, t2, dead, T0 + MINUTE, &o), ==, AM_ALERT_RAISED);
  g_assert_cmpfloat(o.value, ==, 10);
  g_assert_cmpfloat(o.threshold, ==, 5);
  g_assert_nonnull(strstr(o.message, "10.0 % of shares rejected"));
}

static void
test_scope(void)
{
  g_autoptr(AmSample) s = sample_temp(85, NAN);
  AmAlertSubject subject = subject_for(s);
  const struct {
    const char *scope;
    gboolean in;
  } cases[] = {
      {"all", TRUE},
      {"", TRUE},
      {"10.1.2.3", TRUE},
      {"10.1.2.3:4028", TRUE},
      {"10.1.2.*", TRUE},
      {"RACK1-*", TRUE},
      {"10.9.9.9;rack1-07", TRUE},
      {"10.9.9.9;10.1.2.4", FALSE},
      {"model:Antminer S9", TRUE},
      {"model:antminer s19*", FALSE},
      {"model:*S9*;10.9.9.9", TRUE},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text =
        g_strdup_printf("[alert:x]\ntype=temperature\nwarning=80\nscope=%s\n", cases[i].scope);
    g_autoptr(AmAlertRule) rule = rule_from(text);
    if (am_alert_rule_in_scope(rule, &subject) != cases[i].in)
      g_error("scope=%s: expected %s", cases[i].scope, cases[i].in ? "in" : "out");
  }
}

static void
test_restore(void)
{
  g_autoptr(AmAlertRule) rule = rule_from("[alert:hot]\ntype=temperature\nwarning=80\n");
  g_autoptr(AmAlertTrack) t = am_alert_track_new();
  g_auto(AmAlertOutcome) o = {0};
  am_alert_track_restore(t, AM_SEVERITY_WARNING, T0, TRUE, "hot before the restart");
  /* Still hot after the restart: nothing is sent again. */
  g_assert_cmpint(step_temp(rule, t, 85, T0 + 40 * MINUTE, &o), ==, AM_ALERT_UNCHANGED);
  g_assert_cmpint(step_temp(rule, t, 70, T0 + 41 * MINUTE, &o), ==, AM_ALERT_RESOLVED);
  g_assert_true(o.notify);
}

/* ---- rules: configuration ---------------------------------------------- */

static void
test_config_errors(void)
{
  const struct {
    const char *body;
    const char *message;
  } cases[] = {
      {"type=heat\n", "[alert:x] type=heat: expected one of temperature, hashrate_drop, offline"},
      {"warning=80\n", "[alert:x] type is missing: expected type="},
      {"type=temperature\n", "[alert:x] type=temperature: expected warning= or critical="},
      {"type=temperature\nwarning=500\n", "[alert:x] warning=500: expected a number from 1 to 149"},
      {"type=temperature\nwarning=90\ncritical=80\n",
       "[alert:x] critical=80: expected a value above warning=90"},
      {"type=temperature\nwarning=80\nclear=85\n",
       "[alert:x] clear=85: expected a value below warning=80"},
      {"type=temperature\nwarning=80\nsensor=inlet\n",
       "[alert:x] sensor=inlet: expected one of board, chip"},
      {"type=temperature\nwarning=80\nseverity=urgent\n",
       "[alert:x] severity=urgent: expected one of info, warning, critical"},
      {"type=temperature\nwarning=80\nhits=0\n", "[alert:x] hits=0: expected an integer from 1"},
      {"type=temperature\nwarning=80\ncooldown=soon\n",
       "[alert:x] cooldown=soon: expected a duration"},
      {"type=temperature\nwarning=80\nscope=model:\n", "[alert:x] scope=model:: expected all"},
      {"type=temperature\nwarning=80\nthreshold.S9=0.5\n",
       "[alert:x] threshold.S9=0.5: expected KEY.MODEL-GLOB with KEY one of the numbers "
       "type=temperature takes per model (warning, critical, clear)"},
      {"type=temperature\nwarning=80\nwarning.S9=200\n",
       "[alert:x] warning.S9=200: expected a number from 1 to 149"},
      {"type=hashrate_drop\nthreshold=1.5\n",
       "[alert:x] threshold=1.5: expected a number from 0.01 to 1"},
      {"type=hashrate_drop\nthreshold=0.9\nclear=0.8\n",
       "[alert:x] clear=0.8: expected a value above threshold=0.9"},
      {"type=hashrate_drop\nbaseline=mean\n",
       "[alert:x] baseline=mean: expected one of median, ideal"},
      {"type=hashrate_drop\nwindow=5s\n", "[alert:x] window=5s: expected a duration from 1m to 7d"},
      {"type=offline\nafter=0\n", "[alert:x] after=0: expected a duration from 1s to 7d"},
      {"type=hardware\nmax_hw_error_rate=101\n",
       "[alert:x] max_hw_error_rate=101: expected a number"},
      {"type=pool\nmax_rejected_ratio=0.05\nclear=0.1\n",
       "[alert:x] clear=0.1: expected a value below max_rejected_ratio=0.05"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf("[alert:x]\n%s", cases[i].body);
    g_autoptr(GKeyFile) kf = key_file(text);
    g_autoptr(GError) error = NULL;
    g_autoptr(AmAlertRule) rule = am_alert_rule_new(kf, "alert:x", 90000, &error);
    g_assert_null(rule);
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    if (!g_str_has_prefix(error->message, cases[i].message))
      g_error("case %u: expected \"%s...\", got \"%s\"", i, cases[i].message, error->message);
  }
}

static void
test_config_key_of_other_type_warns(void)
{
  g_autoptr(GKeyFile) kf = key_file("[alert:x]\ntype=temperature\nwarning=80\nthreshold=0.5\n");
  g_string_truncate(logged, 0);
  g_autoptr(AmAlertRule) rule = am_alert_rule_new(kf, "alert:x", 90000, NULL);
  g_assert_nonnull(rule);
  g_assert_nonnull(strstr(logged->str, "[alert:x] threshold= is not used by type=temperature"));
}

/* alert_key_known() in am-config-file.c and the rules read the same keys:
 * a file using every key of every type (and per-model overrides) raises no
 * unknown-key warning, and a typo does. */
static void
test_config_keys_known(void)
{
  g_autofree char *dir = g_dir_make_tmp("antmon-alerts-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "all.ini", NULL);
  const char *text =
      "[alert:t]\ntype=temperature\nenabled=true\nscope=all\nseverity=warning\nhits=2\n"
      "cooldown=30m\nsensor=board\nwarning=80\ncritical=90\nclear=75\nwarning.Antminer S19*=85\n"
      "critical.*S9*=88\nclear.S9=70\n"
      "[alert:h]\ntype=hashrate_drop\nbaseline=median\nthreshold=0.9\nclear=0.95\nwindow=1h\n"
      "warmup=15m\nthreshold.S19*=0.85\nclear.S19*=0.9\n"
      "[alert:o]\ntype=offline\nafter=5m\n"
      "[alert:w]\ntype=hardware\nchains=true\nfans=true\nmax_failed_chips=0\n"
      "max_hw_error_rate=1\nclear=0.5\nmax_failed_chips.S9=3\nmax_hw_error_rate.S9=2\n"
      "[alert:p]\ntype=pool\nno_alive_pool=true\nmax_rejected_ratio=0.05\nmin_shares=20\n"
      "clear=0.02\nmax_rejected_ratio.L3*=0.1\n"
      "[alert:typo]\ntype=temperature\nwarnign=80\ncritical=90\nsensor.S9=chip\n";
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) plugins = g_ptr_array_new();
  g_string_truncate(logged, 0);
  g_assert_cmpuint(am_config_file_warn_unknown(config, plugins), ==, 2);
  g_assert_nonnull(strstr(logged->str, "[alert:typo] unknown key 'warnign'"));
  g_assert_nonnull(strstr(logged->str, "[alert:typo] unknown key 'sensor.S9'"));
  /* And every rule in it (but the typo) is valid. */
  g_key_file_remove_group(config->kf, "alert:typo", NULL);
  g_assert_true(am_alerts_check_config(config->kf, &error));
  g_assert_no_error(error);
  g_unlink(path);
  g_rmdir(dir);
}

/* The shipped antmon.ini: its rules and sink groups are valid as they are. */
static void
test_config_shipped(void)
{
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "antmon.ini", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  g_assert_no_error(error);
  g_assert_true(am_alerts_check_config(config->kf, &error));
  g_assert_no_error(error);
  /* It ships the common rules enabled, each over every miner. */
  const char *rules[] = {"board-temperature", "chip-temperature", "hashrate-drop",
                         "offline",           "hardware",         "pool"};
  for (guint i = 0; i < G_N_ELEMENTS(rules); i++) {
    g_autofree char *group = g_strdup_printf("alert:%s", rules[i]);
    g_autoptr(AmAlertRule) rule = am_alert_rule_new(config->kf, group, 90000, &error);
    g_assert_no_error(error);
    g_assert_true(am_alert_rule_is_enabled(rule));
    AmAlertSubject anyone = subject_for(NULL);
    g_assert_true(am_alert_rule_in_scope(rule, &anyone));
  }
  /* after= left empty: offline_after x interval of [core] (3 x 30 s). */
  g_autoptr(AmAlertRule) offline = am_alert_rule_new(config->kf, "alert:offline", 90000, NULL);
  g_assert_cmpuint(am_alert_rule_get_offline_ms(offline), ==, 90000);
}

/* ---- the evaluator: fakes ---------------------------------------------- */

typedef enum {
  FAKE_OK,
  FAKE_FAIL_FIRST, /* fails the first fail_first attempts, then succeeds */
  FAKE_HANG,       /* answers only when cancelled */
} FakeMode;

typedef struct {
  char *group;
  FakeMode mode;
  guint fail_first;
  guint attempts;
  GPtrArray *got;     /* char*: "SUBJECT\nalert line\n..." per delivered notification */
  GPtrArray *hanging; /* GTask* in flight */
} FakeSink;

static void
fake_cancelled(GCancellable *cancellable, gpointer user_data)
{
  (void)cancellable;
  GTask *task = user_data;
  FakeSink *f = g_object_get_data(G_OBJECT(task), "fake");
  g_ptr_array_remove(f->hanging, task);
  g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
  g_object_unref(task);
}

static void
fake_deliver_async(gpointer self, const AmNotification *n, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  FakeSink *f = self;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  f->attempts++;
  /* Copy now: the notification lives only during this call. */
  GString *text = g_string_new(n->subject);
  for (guint i = 0; i < n->n_alerts; i++) {
    const AmAlert *a = n->alerts[i];
    g_string_append_printf(text, "\n%s %s %s %s %g", a->resolved ? "resolved" : "raised", a->rule,
                           a->miner_host, am_severity_to_string(a->severity), a->value);
  }
  if (f->mode == FAKE_HANG) {
    /* Like a well-behaved plugin: nothing until the core cancels. */
    g_ptr_array_add(f->hanging, task);
    g_object_set_data(G_OBJECT(task), "fake", f);
    g_cancellable_connect(cancellable, G_CALLBACK(fake_cancelled), task, NULL);
    g_string_free(text, TRUE);
    return;
  }
  if (f->mode == FAKE_FAIL_FIRST && f->attempts <= f->fail_first) {
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_REFUSED, "fake refusal %u", f->attempts);
    g_string_free(text, TRUE);
  } else {
    g_ptr_array_add(f->got, g_string_free(text, FALSE));
    g_task_return_boolean(task, TRUE);
  }
  g_object_unref(task);
}

static gboolean
fake_deliver_finish(gpointer self, GAsyncResult *result, GError **error)
{
  (void)self;
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmSinkVTable fake_vtable = {
    .struct_size = sizeof(AmSinkVTable),
    .deliver_async = fake_deliver_async,
    .deliver_finish = fake_deliver_finish,
};

static const AmPluginInfo fake_info = {
    .abi_major = AM_ABI_MAJOR,
    .abi_minor = AM_ABI_MINOR,
    .struct_size = sizeof(AmPluginInfo),
    .name = "fake",
    .kind = AM_PLUGIN_KIND_SINK,
    .vtable.sink = &fake_vtable,
};

typedef struct {
  AmInstance inst;
  FakeSink sink;
} FakeInstance;

static FakeInstance *
fake_instance_new(const char *group, FakeMode mode)
{
  FakeInstance *fi = g_new0(FakeInstance, 1);
  fi->sink.group = g_strdup(group);
  fi->sink.mode = mode;
  fi->sink.got = g_ptr_array_new_with_free_func(g_free);
  fi->sink.hanging = g_ptr_array_new();
  fi->inst.info = &fake_info;
  fi->inst.group = fi->sink.group;
  fi->inst.self = &fi->sink;
  return fi;
}

/* The evaluator is freed first: it cancels what hangs. */
static void
fake_instance_free(FakeInstance *fi)
{
  g_assert_cmpuint(fi->sink.hanging->len, ==, 0);
  g_ptr_array_unref(fi->sink.hanging);
  g_ptr_array_unref(fi->sink.got);
  g_free(fi->sink.group);
  g_free(fi);
}

/* A store that records events and answers "alert_state" with @rows: NULL
 * means "no store query support" (AM_ERROR_UNSUPPORTED, as the stub). */
typedef struct {
  GPtrArray *events; /* JsonObject* {"when","miner","kind","name","detail"} */
  JsonNode *rows;
  gboolean manual; /* answer only when fake_store_answer() is called */
  GTask *pending;
  guint queries;
} FakeStore;

static void
fake_push_event(gpointer store, const AmEvent *e)
{
  FakeStore *fs = store;
  JsonObject *o = json_object_new();
  json_object_set_int_member(o, "when", e->when_us);
  if (e->miner_host != NULL)
    json_object_set_string_member(o, "miner", e->miner_host);
  json_object_set_string_member(o, "kind", e->kind);
  json_object_set_string_member(o, "name", e->name);
  json_object_set_string_member(o, "detail", e->detail);
  g_ptr_array_add(fs->events, o);
}

static void
fake_answer(FakeStore *fs, GTask *task)
{
  if (fs->rows == NULL)
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_UNSUPPORTED, "query alert_state: no store");
  else
    g_task_return_pointer(task, json_node_copy(fs->rows), (GDestroyNotify)json_node_unref);
  g_object_unref(task);
}

static void
fake_query_async(gpointer store, const char *query, GHashTable *params, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  FakeStore *fs = store;
  (void)params;
  g_assert_cmpstr(query, ==, "alert_state");
  fs->queries++;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  if (fs->manual)
    fs->pending = task;
  else
    fake_answer(fs, task);
}

static JsonNode *
fake_query_finish(gpointer store, GAsyncResult *result, GError **error)
{
  (void)store;
  return g_task_propagate_pointer(G_TASK(result), error);
}

static gint64 fake_now;

static gint64
fake_clock(gpointer data)
{
  (void)data;
  return fake_now;
}

static AmAlertsEnv
env_for(FakeStore *fs)
{
  return (AmAlertsEnv){
      .store = fs,
      .push_event = fake_push_event,
      .query_async = fake_query_async,
      .query_finish = fake_query_finish,
      .now_us = fake_clock,
  };
}

static FakeStore *
fake_store_new(void)
{
  FakeStore *fs = g_new0(FakeStore, 1);
  fs->events = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
  return fs;
}

static void
fake_store_free(FakeStore *fs)
{
  g_ptr_array_unref(fs->events);
  if (fs->rows != NULL)
    json_node_unref(fs->rows);
  g_free(fs);
}

/* The events of @kind, as "name miner state" lines. */
static char *
events_text(FakeStore *fs, const char *kind)
{
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < fs->events->len; i++) {
    JsonObject *e = fs->events->pdata[i];
    if (!g_str_equal(json_object_get_string_member(e, "kind"), kind))
      continue;
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(
        json_parser_load_from_data(p, json_object_get_string_member(e, "detail"), -1, NULL));
    JsonObject *d = json_node_get_object(json_parser_get_root(p));
    g_string_append_printf(out, "%s %s %s\n", json_object_get_string_member(e, "name"),
                           json_object_get_string_member_with_default(e, "miner", "-"),
                           json_object_get_string_member(d, "state"));
  }
  return g_string_free(out, FALSE);
}

/* What the SQLite store answers to "alert_state": the last alert event of
 * each miner and rule. */
static JsonNode *
rows_from_events(FakeStore *fs)
{
  g_autoptr(GHashTable) last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < fs->events->len; i++) {
    JsonObject *e = fs->events->pdata[i];
    if (!g_str_equal(json_object_get_string_member(e, "kind"), "alert"))
      continue;
    char *key = g_strdup_printf("%s|%s", json_object_get_string_member(e, "miner"),
                                json_object_get_string_member(e, "name"));
    g_hash_table_insert(last, key, e);
  }
  JsonArray *rows = json_array_new();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, last);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    JsonObject *e = value;
    JsonObject *row = json_object_new();
    json_object_set_string_member(row, "miner", json_object_get_string_member(e, "miner"));
    json_object_set_string_member(row, "rule", json_object_get_string_member(e, "name"));
    g_autofree char *when = am_time_to_iso8601(json_object_get_int_member(e, "when"));
    json_object_set_string_member(row, "time", when);
    json_object_set_string_member(row, "detail", json_object_get_string_member(e, "detail"));
    json_array_add_object_element(rows, row);
  }
  JsonObject *root = json_object_new();
  json_object_set_array_member(root, "rows", rows);
  JsonNode *node = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(node, root);
  return node;
}

/* A scheduler entry as the hooks see it. */
typedef struct {
  AmMinerEntry entry;
} FakeMiner;

static FakeMiner *
fake_miner_new(const char *host)
{
  FakeMiner *m = g_new0(FakeMiner, 1);
  m->entry.miner = am_miner_new(host, 4028);
  m->entry.last_error = -1;
  m->entry.state = AM_MINER_ONLINE;
  return m;
}

static void
fake_miner_free(FakeMiner *m)
{
  am_miner_unref(m->entry.miner);
  g_free(m->entry.reason);
  g_free(m);
}

/* A good poll: the sample hook, as the scheduler calls it. */
static void
poll_ok(AmAlerts *a, FakeMiner *m, AmSample *sample)
{
  m->entry.failures = 0;
  m->entry.last_error = -1;
  m->entry.state = AM_MINER_ONLINE;
  m->entry.last_seen_us = fake_now;
  am_alerts_on_sample(a, &m->entry, sample);
}

static void
poll_hot(AmAlerts *a, FakeMiner *m, double board)
{
  g_autoptr(AmSample) s = sample_temp(board, NAN);
  poll_ok(a, m, s);
}

static void
poll_failed(AmAlerts *a, FakeMiner *m, const char *reason)
{
  AmMinerState old = m->entry.state;
  m->entry.failures++;
  m->entry.last_error = AM_ERROR_REFUSED;
  g_free(m->entry.reason);
  m->entry.reason = g_strdup(reason);
  am_alerts_on_state(a, &m->entry, old);
}

static void
run_until_idle(AmAlerts *a)
{
  while (!am_alerts_is_idle(a))
    g_main_context_iteration(NULL, TRUE);
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

static GPtrArray *
sinks_of(FakeInstance **fakes, guint n)
{
  GPtrArray *sinks = g_ptr_array_new();
  for (guint i = 0; i < n; i++)
    g_ptr_array_add(sinks, &fakes[i]->inst);
  return sinks;
}

static AmAlerts *
alerts_new(const char *ini, GPtrArray *sinks, FakeStore *fs)
{
  g_autoptr(GKeyFile) kf = key_file(ini);
  AmAlertsEnv env = env_for(fs);
  g_autoptr(GError) error = NULL;
  AmAlerts *a = am_alerts_new_with_env(kf, sinks, &env, &error);
  g_assert_no_error(error);
  while (!am_alerts_is_ready(a))
    g_main_context_iteration(NULL, TRUE);
  return a;
}

/* ---- the evaluator ----------------------------------------------------- */

#define HOT_RULE "[alert:hot]\ntype=temperature\nwarning=80\ncritical=90\nclear=75\n"

static void
test_engine_digest(void)
{
  fake_now = T0;
  FakeStore *fs = fake_store_new();
  FakeInstance *mail = fake_instance_new("sink:fake:mail", FAKE_OK);
  FakeInstance *now = fake_instance_new("sink:fake:now", FAKE_OK);
  FakeInstance *fakes[] = {mail, now};
  g_autoptr(GPtrArray) sinks = sinks_of(fakes, 2);
  AmAlerts *a = alerts_new(HOT_RULE "[sink:fake:mail]\ndigest_window=200ms\n"
                                    "[sink:fake:now]\ndigest_window=0\n",
                           sinks, fs);
  FakeMiner *m[3];
  for (guint i = 0; i < 3; i++) {
    g_autofree char *host = g_strdup_printf("10.0.0.%u", i + 1);
    m[i] = fake_miner_new(host);
  }
  /* Three miners overheat in one poll pass. */
  for (guint i = 0; i < 3; i++)
    poll_hot(a, m[i], 85 + i * 6);
  run_until_idle(a);
  g_assert_cmpuint(mail->sink.got->len, ==, 1);
  const char *digest = mail->sink.got->pdata[0];
  g_assert_true(g_str_has_prefix(digest, "[CRITICAL] 3 alerts: 3 raised, 0 resolved (hot)"));
  g_assert_nonnull(strstr(digest, "raised hot 10.0.0.1:4028 warning 85"));
  g_assert_nonnull(strstr(digest, "raised hot 10.0.0.2:4028 critical 91"));
  g_assert_nonnull(strstr(digest, "raised hot 10.0.0.3:4028 critical 97"));
  /* digest_window=0 still groups what one main-loop pass raised. */
  g_assert_cmpuint(now->sink.got->len, ==, 1);

  /* One cools down alone: a notification of one. */
  fake_now += MINUTE;
  poll_hot(a, m[1], 60);
  run_until_idle(a);
  g_assert_cmpuint(mail->sink.got->len, ==, 2);
  g_assert_true(g_str_has_prefix(mail->sink.got->pdata[1], "[RESOLVED] hot on 10.0.0.2:4028: "));
  g_autofree char *events = events_text(fs, "delivery");
  g_assert_cmpuint(count_in(events, "sink:fake:mail - sent"), ==, 1);
  g_assert_cmpuint(count_in(events, "sink:fake:mail 10.0.0.2:4028 sent"), ==, 1);

  am_alerts_free(a);
  for (guint i = 0; i < 3; i++)
    fake_miner_free(m[i]);
  fake_instance_free(mail);
  fake_instance_free(now);
  fake_store_free(fs);
}

/* The API may ask for the counters while the alerts are being freed (the
 * free runs the main loop for deliveries in flight, with the sinks already
 * let go): the answer counts no sink instead of crashing. */
static gboolean
stats_while_freeing(gpointer data)
{
  gboolean *asked = data;
  *asked = TRUE;
  return G_SOURCE_REMOVE;
}

typedef struct {
  AmAlerts *alerts;
  gboolean asked;
  gint64 sinks;
} StatsProbe;

static gboolean
probe_stats(gpointer data)
{
  StatsProbe *p = data;
  g_autoptr(JsonNode) stats = am_alerts_stats_json(p->alerts);
  JsonArray *sinks = json_object_get_array_member(json_node_get_object(stats), "sinks");
  p->sinks = json_array_get_length(sinks);
  return stats_while_freeing(&p->asked);
}

static void
test_engine_stats_while_freeing(void)
{
  FakeInstance *sink = fake_instance_new("sink:fake", FAKE_OK);
  FakeInstance *fakes[] = {sink};
  g_autoptr(GPtrArray) sinks = sinks_of(fakes, 1);
  AmAlerts *a = alerts_new(HOT_RULE "[sink:fake]\ndigest_window=0\n", sinks, NULL);
  StatsProbe p = {.alerts = a, .sinks = -1};
  g_idle_add(probe_stats, &p);
  am_alerts_free(a);
  g_assert_true(p.asked);
  g_assert_cmpint(p.sinks, ==, 0);
  fake_instance_free(sink);
}

static void
test_engine_persist_restart(void)
{
  fake_now = T0;
  FakeStore *fs = fake_store_new();
  FakeInstance *sink = fake_instance_new("sink:fake", FAKE_OK);
  FakeInstance *fakes[] = {sink};
  g_autoptr(GPtrArray) sinks = sinks_of(fakes, 1);
  const char *ini = HOT_RULE "[alert:gone]\ntype=offline\nafter=1m\n[sink:fake]\ndigest_window=0\n";
  FakeMiner *hot = fake_miner_new("10.0.0.1");
  FakeMiner *cool = fake_miner_new("10.0.0.2");

  AmAlerts *a = alerts_new(ini, sinks, fs);
  g_assert_cmpuint(fs->queries, ==, 1);
  poll_hot(a, hot, 95);
  poll_hot(a, cool, 60);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 1);
  g_autofree char *first = events_text(fs, "alert");
  g_assert_cmpstr(first, ==, "hot 10.0.0.1:4028 raised\n");
  am_alerts_free(a);

  /* Restart: the store gives the active alert back. Still hot: silence. */
  fs->rows = rows_from_events(fs);
  fake_now += 10 * MINUTE;
  a = alerts_new(ini, sinks, fs);
  poll_hot(a, hot, 96);
  poll_hot(a, cool, 60);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 1);
  g_autoptr(JsonNode) stats = am_alerts_stats_json(a);
  JsonObject *so = json_node_get_object(stats);
  g_assert_cmpint(json_object_get_int_member(so, "active"), ==, 1);
  /* It cools down: the resolve is sent, as it would have been without the restart. */
  fake_now += MINUTE;
  poll_hot(a, hot, 70);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 2);
  g_assert_true(g_str_has_prefix(sink->sink.got->pdata[1], "[RESOLVED] hot on 10.0.0.1:4028"));
  am_alerts_free(a);

  /* And after one more restart it is not active any more. */
  json_node_unref(fs->rows);
  fs->rows = rows_from_events(fs);
  a = alerts_new(ini, sinks, fs);
  poll_hot(a, hot, 70);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 2);
  g_autoptr(JsonNode) stats2 = am_alerts_stats_json(a);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(stats2), "active"), ==, 0);
  am_alerts_free(a);

  fake_miner_free(hot);
  fake_miner_free(cool);
  fake_instance_free(sink);
  fake_store_free(fs);
}

static void
test_engine_held_while_restoring(void)
{
  fake_now = T0;
  FakeStore *fs = fake_store_new();
  fs->manual = TRUE;
  /* The store remembers the miner as hot. */
  fs->rows = json_from_string(
      "{\"rows\":[{\"miner\":\"10.0.0.1:4028\",\"rule\":\"hot\",\"time\":\"2023-11-14T22:00:00Z\","
      "\"detail\":{\"state\":\"raised\",\"severity\":\"critical\",\"message\":\"was hot\","
      "\"notified\":true}}]}",
      NULL);
  FakeInstance *sink = fake_instance_new("sink:fake", FAKE_OK);
  FakeInstance *fakes[] = {sink};
  g_autoptr(GPtrArray) sinks = sinks_of(fakes, 1);
  g_autoptr(GKeyFile) kf = key_file(HOT_RULE "[sink:fake]\ndigest_window=0\n");
  AmAlertsEnv env = env_for(fs);
  AmAlerts *a = am_alerts_new_with_env(kf, sinks, &env, NULL);
  g_assert_false(am_alerts_is_ready(a));
  FakeMiner *m = fake_miner_new("10.0.0.1");
  /* A sample before the state is back is held, not judged as new. */
  poll_hot(a, m, 95);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 0);
  GTask *pending = g_steal_pointer(&fs->pending);
  fake_answer(fs, pending);
  while (!am_alerts_is_ready(a))
    g_main_context_iteration(NULL, TRUE);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 0);
  g_autofree char *events = events_text(fs, "alert");
  g_assert_cmpstr(events, ==, "");
  poll_hot(a, m, 60);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 1);
  g_assert_true(g_str_has_prefix(sink->sink.got->pdata[0], "[RESOLVED] hot"));
  am_alerts_free(a);
  fake_miner_free(m);
  fake_instance_free(sink);
  fake_store_free(fs);
}

static void
test_engine_no_store_state(void)
{
  /* The stub store (and a store without the query) answers UNSUPPORTED:
   * alerts start with none and work. */
  fake_now = T0;
  FakeStore *fs = fake_store_new();
  FakeInstance *sink = fake_instance_new("sink:fake", FAKE_OK);
  FakeInstance *fakes[] = {sink};
  g_autoptr(GPtrArray) sinks = sinks_of(fakes, 1);
  g_string_truncate(logged, 0);
  AmAlerts *a = alerts_new(HOT_RULE "[sink:fake]\ndigest_window=0\n", sinks, fs);
  FakeMiner *m = fake_miner_new("10.0.0.1");
  poll_hot(a, m, 95);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 1);
  g_assert_null(strstr(logged->str, "could not read"));
  am_alerts_free(a);
  fake_miner_free(m);
  fake_instance_free(sink);
  fake_store_free(fs);
}

static void
test_engine_log_fallback(void)
{
  fake_now = T0;
  FakeStore *fs = fake_store_new();
  g_string_truncate(logged, 0);
  AmAlerts *a = alerts_new(HOT_RULE, NULL, fs);
  g_assert_nonnull(strstr(logged->str, "no sink group is enabled: alerts go to the log"));
  FakeMiner *m = fake_miner_new("10.0.0.1");
  am_miner_set_name(m->entry.miner, "rack1-07");
  poll_hot(a, m, 95);
  run_until_idle(a);
  g_assert_nonnull(strstr(logged->str, "alert critical hot raised: rack1-07 (10.0.0.1:4028): "
                                       "hottest board temperature 95.0 °C is over the critical "
                                       "limit 90.0 °C"));
  g_autofree char *events = events_text(fs, "delivery");
  g_assert_cmpstr(events, ==, "log 10.0.0.1:4028 sent\n");
  am_alerts_free(a);
  fake_miner_free(m);
  fake_store_free(fs);
}

static void
test_engine_retry(void)
{
  fake_now = T0;
  FakeStore *fs = fake_store_new();
  FakeInstance *flaky = fake_instance_new("sink:fake:flaky", FAKE_FAIL_FIRST);
  flaky->sink.fail_first = 2;
  FakeInstance *down = fake_instance_new("sink:fake:down", FAKE_FAIL_FIRST);
  down->sink.fail_first = 1000;
  FakeInstance *fakes[] = {flaky, down};
  g_autoptr(GPtrArray) sinks = sinks_of(fakes, 2);
  AmAlerts *a = alerts_new(HOT_RULE "[sink:fake:flaky]\ndigest_window=0\nretries=3\n"
                                    "retry_backoff=100ms\n"
                                    "[sink:fake:down]\ndigest_window=0\nretries=1\n"
                                    "retry_backoff=100ms\n",
                           sinks, fs);
  FakeMiner *m = fake_miner_new("10.0.0.1");
  poll_hot(a, m, 95);
  run_until_idle(a);
  g_assert_cmpuint(flaky->sink.attempts, ==, 3);
  g_assert_cmpuint(flaky->sink.got->len, ==, 1);
  g_assert_cmpuint(down->sink.attempts, ==, 2);
  g_autofree char *events = events_text(fs, "delivery");
  g_assert_cmpuint(count_in(events, "sink:fake:flaky 10.0.0.1:4028 retrying"), ==, 2);
  g_assert_cmpuint(count_in(events, "sink:fake:flaky 10.0.0.1:4028 sent"), ==, 1);
  g_assert_cmpuint(count_in(events, "sink:fake:down 10.0.0.1:4028 retrying"), ==, 1);
  g_assert_cmpuint(count_in(events, "sink:fake:down 10.0.0.1:4028 failed"), ==, 1);
  g_autoptr(JsonNode) stats = am_alerts_stats_json(a);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(stats), "failed"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(json_node_get_object(stats), "sent"), ==, 1);
  am_alerts_free(a);
  fake_miner_free(m);
  fake_instance_free(flaky);
  fake_instance_free(down);
  fake_store_free(fs);
}

static void
test_engine_hanging_sink(void)
{
  fake_now = T0;
  FakeStore *fs = fake_store_new();
  FakeInstance *hang = fake_instance_new("sink:fake:hang", FAKE_HANG);
  FakeInstance *ok = fake_instance_new("sink:fake:ok", FAKE_OK);
  FakeInstance *fakes[] = {hang, ok};
  g_autoptr(GPtrArray) sinks = sinks_of(fakes, 2);
  AmAlerts *a = alerts_new(HOT_RULE "[sink:fake:hang]\ndigest_window=0\nretries=0\n"
                                    "deliver_timeout=300ms\n"
                                    "[sink:fake:ok]\ndigest_window=0\n",
                           sinks, fs);
  FakeMiner *m1 = fake_miner_new("10.0.0.1");
  FakeMiner *m2 = fake_miner_new("10.0.0.2");
  poll_hot(a, m1, 95);
  /* Let the first notification go out: the hanging sink now holds it. */
  while (ok->sink.got->len < 1)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpuint(hang->sink.attempts, ==, 1);
  /* The next alert reaches the good sink while the other still hangs. */
  poll_hot(a, m2, 95);
  while (ok->sink.got->len < 2)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpuint(hang->sink.attempts, ==, 1);
  /* The deadline gives up on the first; then the queued one gets its turn. */
  while (hang->sink.attempts < 2)
    g_main_context_iteration(NULL, TRUE);
  g_autofree char *events = events_text(fs, "delivery");
  g_assert_cmpuint(count_in(events, "sink:fake:hang 10.0.0.1:4028 failed"), ==, 1);
  g_assert_cmpuint(count_in(events, "sink:fake:ok"), ==, 2);
  g_assert_nonnull(strstr(logged->str, "no answer within deliver_timeout=0.3 s"));
  am_alerts_free(a);
  fake_instance_free(hang);
  fake_miner_free(m1);
  fake_miner_free(m2);
  fake_instance_free(ok);
  fake_store_free(fs);
}

static void
test_engine_filters(void)
{
  fake_now = T0;
  FakeStore *fs = fake_store_new();
  FakeInstance *pager = fake_instance_new("sink:fake:pager", FAKE_OK);
  FakeInstance *dry = fake_instance_new("sink:fake:dry", FAKE_OK);
  FakeInstance *fakes[] = {pager, dry};
  g_autoptr(GPtrArray) sinks = sinks_of(fakes, 2);
  AmAlerts *a = alerts_new(HOT_RULE "[sink:fake:pager]\ndigest_window=0\nmin_severity=critical\n"
                                    "[sink:fake:dry]\ndigest_window=0\ndry_run=true\n",
                           sinks, fs);
  FakeMiner *warm = fake_miner_new("10.0.0.1");
  FakeMiner *hot = fake_miner_new("10.0.0.2");
  g_string_truncate(logged, 0);
  poll_hot(a, warm, 85);
  run_until_idle(a);
  poll_hot(a, hot, 95);
  run_until_idle(a);
  g_assert_cmpuint(pager->sink.got->len, ==, 1);
  g_assert_nonnull(strstr(pager->sink.got->pdata[0], "10.0.0.2:4028 critical"));
  /* A dry run says what it would send and never calls the plugin. */
  g_assert_cmpuint(dry->sink.attempts, ==, 0);
  g_assert_cmpuint(count_in(logged->str, "[sink:fake:dry] dry run: would send"), ==, 2);
  g_autofree char *events = events_text(fs, "delivery");
  g_assert_cmpuint(count_in(events, "sink:fake:dry 10.0.0.1:4028 dry_run"), ==, 1);
  am_alerts_free(a);
  fake_miner_free(warm);
  fake_miner_free(hot);
  fake_instance_free(pager);
  fake_instance_free(dry);
  fake_store_free(fs);
}

static void
test_engine_offline_tick(void)
{
  fake_now = T0;
  FakeStore *fs = fake_store_new();
  FakeInstance *sink = fake_instance_new("sink:fake", FAKE_OK);
  FakeInstance *fakes[] = {sink};
  g_autoptr(GPtrArray) sinks = sinks_of(fakes, 1);
  /* No after=: offline_after x interval from [core], 2 x 10 s. */
  AmAlerts *a = alerts_new("[core]\ninterval=10s\noffline_after=2\n[alert:gone]\ntype=offline\n"
                           "[sink:fake]\ndigest_window=0\n",
                           sinks, fs);
  FakeMiner *m[20];
  for (guint i = 0; i < G_N_ELEMENTS(m); i++) {
    g_autofree char *host = g_strdup_printf("10.0.1.%u", i + 1);
    m[i] = fake_miner_new(host);
    g_autoptr(AmSample) s = sample_temp(60, NAN);
    poll_ok(a, m[i], s);
  }
  /* Twenty miners stop answering (a switch died). */
  fake_now += 10 * SEC;
  for (guint i = 0; i < G_N_ELEMENTS(m); i++)
    poll_failed(a, m[i], "connection refused");
  am_alerts_tick(a);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 0);
  fake_now += 11 * SEC;
  am_alerts_tick(a);
  run_until_idle(a);
  /* One notification, not twenty. */
  g_assert_cmpuint(sink->sink.got->len, ==, 1);
  const char *digest = sink->sink.got->pdata[0];
  g_assert_true(g_str_has_prefix(digest, "[CRITICAL] 20 alerts: 20 raised, 0 resolved (gone)"));
  g_assert_cmpuint(count_in(digest, "raised gone 10.0.1."), ==, 20);
  fake_now += MINUTE;
  am_alerts_tick(a);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 1);
  /* One comes back. */
  g_autoptr(AmSample) s = sample_temp(60, NAN);
  poll_ok(a, m[4], s);
  run_until_idle(a);
  g_assert_cmpuint(sink->sink.got->len, ==, 2);
  g_assert_true(g_str_has_prefix(sink->sink.got->pdata[1], "[RESOLVED] gone on 10.0.1.5:4028"));
  am_alerts_free(a);
  for (guint i = 0; i < G_N_ELEMENTS(m); i++)
    fake_miner_free(m[i]);
  fake_instance_free(sink);
  fake_store_free(fs);
}

static void
test_engine_bad_config(void)
{
  const struct {
    const char *ini;
    const char *message;
  } cases[] = {
      {"[alert:hot]\ntype=heat\n", "[alert:hot] type=heat: expected one of"},
      {HOT_RULE "[sink:fake]\ndigest_window=soon\n", "[sink:fake] digest_window=soon: expected"},
      {HOT_RULE "[sink:fake]\nmin_severity=loud\n",
       "[sink:fake] min_severity=loud: expected one of info, warning, critical"},
      {HOT_RULE "[sink:fake]\nretries=-1\n", "[sink:fake] retries=-1: expected an integer"},
  };
  FakeInstance *sink = fake_instance_new("sink:fake", FAKE_OK);
  FakeInstance *fakes[] = {sink};
  g_autoptr(GPtrArray) sinks = sinks_of(fakes, 1);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GKeyFile) kf = key_file(cases[i].ini);
    AmAlertsEnv env = {0};
    g_autoptr(GError) error = NULL;
    g_assert_null(am_alerts_new_with_env(kf, sinks, &env, &error));
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    if (!g_str_has_prefix(error->message, cases[i].message))
      g_error("case %u: expected \"%s...\", got \"%s\"", i, cases[i].message, error->message);
    /* check-config says the same without starting anything. */
    g_autoptr(GError) check_error = NULL;
    g_assert_false(am_alerts_check_config(kf, &check_error));
    g_assert_cmpstr(check_error->message, ==, error->message);
  }
  fake_instance_free(sink);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* Warnings are part of what these tests check: capture, do not abort. */
  g_log_set_always_fatal(G_LOG_FATAL_MASK);
  logged = g_string_new(NULL);
  g_log_set_writer_func(capture_writer, NULL, NULL);

  g_test_add_func("/alerts/rules/temperature/hits", test_temperature_hits);
  g_test_add_func("/alerts/rules/temperature/hysteresis", test_temperature_hysteresis);
  g_test_add_func("/alerts/rules/temperature/escalate", test_temperature_escalate);
  g_test_add_func("/alerts/rules/temperature/chip-and-model", test_temperature_chip_and_model);
  g_test_add_func("/alerts/rules/temperature/no-reading", test_temperature_no_reading);
  g_test_add_func("/alerts/rules/cooldown", test_cooldown);
  g_test_add_func("/alerts/rules/hashrate/median", test_hashrate_median);
  g_test_add_func("/alerts/rules/paused-stands-down", test_paused_stands_down);
  g_test_add_func("/alerts/rules/hashrate/warmup", test_hashrate_warmup);
  g_test_add_func("/alerts/rules/hashrate/ideal-and-first-sight",
                  test_hashrate_restart_without_elapsed_drop);
  g_test_add_func("/alerts/rules/offline", test_offline);
  g_test_add_func("/alerts/rules/hardware", test_hardware);
  g_test_add_func("/alerts/rules/pool", test_pool);
  g_test_add_func("/alerts/rules/scope", test_scope);
  g_test_add_func("/alerts/rules/restore", test_restore);
  g_test_add_func("/alerts/config/errors", test_config_errors);
  g_test_add_func("/alerts/config/key-of-other-type", test_config_key_of_other_type_warns);
  g_test_add_func("/alerts/config/keys-known", test_config_keys_known);
  g_test_add_func("/alerts/config/shipped-ini", test_config_shipped);
  g_test_add_func("/alerts/engine/digest", test_engine_digest);
  g_test_add_func("/alerts/engine/persist-restart", test_engine_persist_restart);
  g_test_add_func("/alerts/engine/held-while-restoring", test_engine_held_while_restoring);
  g_test_add_func("/alerts/engine/no-store-state", test_engine_no_store_state);
  g_test_add_func("/alerts/engine/log-fallback", test_engine_log_fallback);
  g_test_add_func("/alerts/engine/retry", test_engine_retry);
  g_test_add_func("/alerts/engine/hanging-sink", test_engine_hanging_sink);
  g_test_add_func("/alerts/engine/filters", test_engine_filters);
  g_test_add_func("/alerts/engine/offline-tick", test_engine_offline_tick);
  g_test_add_func("/alerts/engine/bad-config", test_engine_bad_config);
  g_test_add_func("/alerts/engine/stats-while-freeing", test_engine_stats_while_freeing);
  int status = g_test_run();
  g_string_free(logged, TRUE);
  return status;
}
