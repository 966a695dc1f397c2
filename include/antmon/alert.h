/* Alerts and events as the core hands them to sinks and stores. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  AM_SEVERITY_INFO = 0,
  AM_SEVERITY_WARNING,
  AM_SEVERITY_CRITICAL,
} AmSeverity;

/* One alert raised or resolved by a rule for one miner. All strings are
 * owned by the core and valid for the duration of the call. */
typedef struct {
  guint32 struct_size;
  const char *rule;      /* the [alert:NAME] name */
  const char *rule_type; /* "temperature", "hashrate_drop", "offline", ... */
  AmSeverity severity;
  gboolean resolved; /* TRUE: the condition cleared */
  const char *miner_host;
  const char *miner_name;
  const char *model;
  double value;     /* the reading that triggered it (NAN if none) */
  double threshold; /* the limit it crossed (NAN if none) */
  const char *unit; /* "degC", "TH/s", ... */
  const char *message;
  gint64 when_us;
  const char *dashboard_url; /* link to the miner's page, or NULL */
  gpointer reserved[8];
} AmAlert;

/* What a sink delivers: one alert, or a digest of those raised in one pass. */
typedef struct {
  guint32 struct_size;
  const char *subject;
  const AmAlert *const *alerts;
  guint n_alerts;
  gpointer reserved[8];
} AmNotification;

/* A state change or alert, as stored. */
typedef struct {
  guint32 struct_size;
  gint64 when_us;
  const char *miner_host;
  const char *kind;   /* "state", "alert", "delivery" */
  const char *name;   /* new state, rule name or sink name */
  const char *detail; /* reason / message */
  gpointer reserved[8];
} AmEvent;

const char *am_severity_to_string(AmSeverity severity);

G_END_DECLS
