/* The [alert:NAME] rules as pure logic: parse one group, and decide for
 * one miner at one moment whether an alert is raised, held or resolved.
 *
 * Nothing here does I/O or reads a clock: the caller passes "now", so the
 * tests drive hits, hysteresis, cooldown and warm-up with a fake clock. */
#pragma once

#include <antmon/alert.h>
#include <antmon/sample.h>

G_BEGIN_DECLS

typedef enum {
  AM_RULE_TEMPERATURE = 0,
  AM_RULE_HASHRATE_DROP,
  AM_RULE_OFFLINE,
  AM_RULE_HARDWARE,
  AM_RULE_POOL,
} AmRuleType;

/* "temperature", "hashrate_drop", ... (transfer none) */
const char *am_rule_type_to_string(AmRuleType type);

/* One miner as the rules see it at one moment. Borrowed pointers. */
typedef struct {
  const char *address; /* "host:port": the miner's key */
  const char *host;
  const char *name;       /* or NULL */
  const char *model;      /* the last model seen, or NULL */
  AmSample *sample;       /* a new good sample, or NULL (a failure or a clock tick) */
  gboolean failing;       /* the last poll failed */
  gint64 last_ok_us;      /* the last good poll, or when antmon first heard of the miner */
  const char *reason;     /* why the last poll failed, or NULL */
  const char *error_kind; /* "refused", "timeout", ... or NULL */
  gboolean on_purpose;    /* antmon paused it or is rebooting it (an action) */
} AmAlertSubject;

typedef struct _AmAlertRule AmAlertRule;

/* Reads @group ("alert:NAME"). @default_offline_ms is the offline rule's
 * after= when the group does not set it (offline_after x interval).
 * Fails with AM_ERROR_CONFIG, "[alert:NAME] key=value: expected ...". */
AmAlertRule *am_alert_rule_new(GKeyFile *kf, const char *group, guint64 default_offline_ms,
                               GError **error);
void am_alert_rule_free(AmAlertRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmAlertRule, am_alert_rule_free)

/* FALSE for enabled=false: the group is checked but not used. */
gboolean am_alert_rule_is_enabled(const AmAlertRule *rule);
const char *am_alert_rule_get_name(const AmAlertRule *rule);
AmRuleType am_alert_rule_get_rule_type(const AmAlertRule *rule);
/* Whether scope= covers @subject. */
gboolean am_alert_rule_in_scope(const AmAlertRule *rule, const AmAlertSubject *subject);
/* The offline rule's after= (0 for the other types). */
guint64 am_alert_rule_get_offline_ms(const AmAlertRule *rule);

/* What one rule remembers about one miner. */
typedef struct _AmAlertTrack AmAlertTrack;

AmAlertTrack *am_alert_track_new(void);
void am_alert_track_free(AmAlertTrack *track);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmAlertTrack, am_alert_track_free)

gboolean am_alert_track_is_active(const AmAlertTrack *track);
/* The severity of the active alert. */
AmSeverity am_alert_track_get_severity(const AmAlertTrack *track);
/* When the active alert was raised (wall clock, us). */
gint64 am_alert_track_get_since(const AmAlertTrack *track);
/* The message of the active alert (transfer none), or NULL. */
const char *am_alert_track_get_message(const AmAlertTrack *track);

/* Makes @track an alert raised at @since_us, as read back from the store
 * after a restart: it is not sent again while it holds, and its resolve is
 * sent when it clears (when @notified says the raise was sent). */
void am_alert_track_restore(AmAlertTrack *track, AmSeverity severity, gint64 since_us,
                            gboolean notified, const char *message);

/* What the stored state of an alert becomes after one step. */
typedef enum {
  AM_ALERT_UNCHANGED = 0,
  AM_ALERT_RAISED,   /* raised, escalated, or sent after its cooldown */
  AM_ALERT_RESOLVED, /* the condition cleared */
} AmAlertChange;

typedef struct {
  AmAlertChange change;
  gboolean notify; /* tell the sinks (FALSE: cooldown holds it back) */
  AmSeverity severity;
  double value;     /* the reading, NAN if none */
  double threshold; /* the limit crossed (or the clear limit), NAN if none */
  const char *unit; /* static: "degC", "TH/s", "s", "%", "" */
  char *message;    /* (transfer full) one line for people */
} AmAlertOutcome;

void am_alert_outcome_clear(AmAlertOutcome *outcome);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AmAlertOutcome, am_alert_outcome_clear)

/* Evaluates @rule for @subject at @now_us (wall clock) and advances
 * @track: hits, hysteresis, cooldown and warm-up all live here. @out is
 * zeroed first; its change is AM_ALERT_UNCHANGED when nothing happened. */
void am_alert_rule_step(const AmAlertRule *rule, AmAlertTrack *track, const AmAlertSubject *subject,
                        gint64 now_us, AmAlertOutcome *out);

G_END_DECLS
