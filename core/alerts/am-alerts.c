/* The alert evaluator (see am-alerts.h): the glue between the scheduler's
 * hooks, the rules (am-alert-rules.c), the store and the sinks
 * (am-alert-delivery.c).
 *
 * It keeps its own record of each miner (copied at each hook: scheduler
 * entries may be freed when discovery loses a miner) holding one track per
 * rule. Every raise and resolve is written to the store as an "alert"
 * event; at start the active ones are read back ("alert_state") before any
 * sample is judged, so a restart neither forgets nor repeats an alert. */
#include "am-alert-delivery.h"
#include "am-alert-env.h"
#include "am-alert-rules.h"
#include "am-log.h"
#include <antmon/config.h>
#include <antmon/error.h>
#include <math.h>
#include <string.h>

#define ALERT_PREFIX "alert:"
#define SINK_PREFIX "sink:"
#define TICK_MS 1000
/* A store that has not answered "alert_state" by then is taken as empty:
 * alerts must not wait on it forever. */
#define RESTORE_TIMEOUT_MS 30000
/* At shutdown, notifications already made get this long to go out. */
#define SHUTDOWN_GRACE_MS 5000
/* Samples held while the stored state is read back, at most. */
#define MAX_HELD 100000

typedef struct {
  char *address;
  char *host;
  char *name;
  char *model;
  gboolean failing;
  gint64 first_seen_us;
  gint64 last_ok_us;
  char *reason;
  char *error_kind;
  gboolean on_purpose; /* antmon paused it, or is rebooting it */
  GHashTable *tracks;  /* rule name -> AmAlertTrack* */
} MinerRecord;

/* A sample (or a failure, sample NULL) that came while restoring. */
typedef struct {
  char *address;
  AmSample *sample;
} Held;

struct _AmAlerts {
  GPtrArray *rules;   /* AmAlertRule*, enabled ones only */
  GPtrArray *sinks;   /* AmAlertSink* */
  GHashTable *miners; /* address -> MinerRecord* */
  AmAlertsEnv env;
  gboolean restoring;
  GPtrArray *held; /* Held* */
  struct _RestoreOp *restore_op;
  guint restore_timeout_id;
  guint tick_id;
  guint raised, resolved, suppressed;
};

/* ---- the store --------------------------------------------------------- */

static void
queue_push_event(gpointer store, const AmEvent *event)
{
  am_store_queue_push_event(store, event);
}

static void
queue_query_async(gpointer store, const char *query, GHashTable *params, GCancellable *cancellable,
                  GAsyncReadyCallback callback, gpointer user_data)
{
  am_store_queue_query_async(store, query, params, cancellable, callback, user_data);
}

static JsonNode *
queue_query_finish(gpointer store, GAsyncResult *result, GError **error)
{
  return am_store_queue_query_finish(store, result, error);
}

static gint64
now_us(AmAlerts *a)
{
  return a->env.now_us != NULL ? a->env.now_us(a->env.clock_data) : g_get_real_time();
}

static void
push_event(AmAlerts *a, const char *miner, const char *kind, const char *name, const char *detail)
{
  if (a->env.store == NULL || a->env.push_event == NULL)
    return;
  AmEvent event = {
      .struct_size = sizeof(AmEvent),
      .when_us = now_us(a),
      .miner_host = miner,
      .kind = kind,
      .name = name,
      .detail = detail,
  };
  a->env.push_event(a->env.store, &event);
}

static void
on_delivery_report(const char *sink, const char *miner_host, const char *detail, gpointer user_data)
{
  push_event(user_data, miner_host, "delivery", sink, detail);
}

/* ---- miner records ----------------------------------------------------- */

static void
record_free(MinerRecord *r)
{
  g_free(r->address);
  g_free(r->host);
  g_free(r->name);
  g_free(r->model);
  g_free(r->reason);
  g_free(r->error_kind);
  g_hash_table_unref(r->tracks);
  g_free(r);
}

/* "10.0.0.5:4028" -> "10.0.0.5", "[::1]:4028" -> "::1" */
static char *
host_of(const char *address)
{
  const char *colon = strrchr(address, ':');
  if (address[0] == '[') {
    const char *end = strchr(address, ']');
    return end != NULL ? g_strndup(address + 1, end - address - 1) : g_strdup(address);
  }
  return colon != NULL ? g_strndup(address, colon - address) : g_strdup(address);
}

static MinerRecord *
record_get(AmAlerts *a, const char *address)
{
  MinerRecord *r = g_hash_table_lookup(a->miners, address);
  if (r != NULL)
    return r;
  r = g_new0(MinerRecord, 1);
  r->address = g_strdup(address);
  r->host = host_of(address);
  r->first_seen_us = now_us(a);
  r->tracks =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)am_alert_track_free);
  g_hash_table_insert(a->miners, r->address, r);
  return r;
}

static void
set_text(char **field, const char *value)
{
  if (g_strcmp0(*field, value) == 0)
    return;
  g_free(*field);
  *field = g_strdup(value);
}

static MinerRecord *
record_from_entry(AmAlerts *a, AmMinerEntry *entry)
{
  MinerRecord *r = record_get(a, am_miner_get_address(entry->miner));
  set_text(&r->name, am_miner_get_name(entry->miner));
  return r;
}

static AmAlertTrack *
track_get(MinerRecord *r, const char *rule)
{
  AmAlertTrack *t = g_hash_table_lookup(r->tracks, rule);
  if (t == NULL) {
    t = am_alert_track_new();
    g_hash_table_insert(r->tracks, g_strdup(rule), t);
  }
  return t;
}

/* ---- raising and resolving --------------------------------------------- */

static void
add_number(JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name(b, name);
  if (isnan(value))
    json_builder_add_null_value(b);
  else
    json_builder_add_double_value(b, value);
}

static char *
event_detail(const AmAlertRule *rule, const AmAlertOutcome *o, const AmAlertTrack *t)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, o->change == AM_ALERT_RAISED ? "raised" : "resolved");
  json_builder_set_member_name(b, "severity");
  json_builder_add_string_value(b, am_severity_to_string(o->severity));
  add_number(b, "value", o->value);
  add_number(b, "threshold", o->threshold);
  json_builder_set_member_name(b, "unit");
  json_builder_add_string_value(b, o->unit);
  json_builder_set_member_name(b, "message");
  json_builder_add_string_value(b, o->message);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, am_rule_type_to_string(am_alert_rule_get_rule_type(rule)));
  /* Whether the sinks were told: a restart must not send it again. */
  json_builder_set_member_name(b, "notified");
  json_builder_add_boolean_value(b, o->notify || o->change == AM_ALERT_RESOLVED);
  if (o->change == AM_ALERT_RAISED) {
    g_autofree char *since = am_time_to_iso8601(am_alert_track_get_since(t));
    json_builder_set_member_name(b, "since");
    json_builder_add_string_value(b, since);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

static void
notify_sinks(AmAlerts *a, MinerRecord *r, const AmAlertRule *rule, const AmAlertOutcome *o)
{
  AmAlertItemInit init = {
      .rule = am_alert_rule_get_name(rule),
      .rule_type = am_rule_type_to_string(am_alert_rule_get_rule_type(rule)),
      .severity = o->severity,
      .resolved = o->change == AM_ALERT_RESOLVED,
      .miner_host = r->address,
      .miner_name = r->name != NULL ? r->name : r->host,
      .model = r->model,
      .value = o->value,
      .threshold = o->threshold,
      .unit = o->unit,
      .message = o->message,
      .when_us = now_us(a),
  };
  g_autoptr(AmAlertItem) item = am_alert_item_new(&init);
  g_autofree char *line = am_alert_format_line(am_alert_item_get(item));
  g_info("%s", line);
  for (guint i = 0; i < a->sinks->len; i++)
    am_alert_sink_add(a->sinks->pdata[i], item);
}

static void
apply_outcome(AmAlerts *a, MinerRecord *r, const AmAlertRule *rule, AmAlertTrack *t,
              const AmAlertOutcome *o)
{
  if (o->change == AM_ALERT_UNCHANGED)
    return;
  g_autofree char *detail = event_detail(rule, o, t);
  push_event(a, r->address, "alert", am_alert_rule_get_name(rule), detail);
  if (o->change == AM_ALERT_RAISED)
    a->raised++;
  else
    a->resolved++;
  if (o->notify) {
    notify_sinks(a, r, rule, o);
  } else if (o->change == AM_ALERT_RAISED) {
    a->suppressed++;
    am_log_miner(G_LOG_LEVEL_INFO, r->address,
                 "%s: %s raised within its cooldown: not sent (yet): %s", r->address,
                 am_alert_rule_get_name(rule), o->message);
  }
}

static void
subject_of(MinerRecord *r, AmSample *sample, AmAlertSubject *s)
{
  *s = (AmAlertSubject){
      .address = r->address,
      .host = r->host,
      .name = r->name,
      .model = r->model,
      .sample = sample,
      .failing = r->failing,
      .last_ok_us = r->last_ok_us,
      .reason = r->reason,
      .error_kind = r->error_kind,
      .on_purpose = r->on_purpose,
  };
}

/* What the action manager told the scheduler about this miner. */
static gboolean
held_on_purpose(const AmMinerEntry *entry)
{
  return entry->held || g_get_real_time() < entry->expect_down_until_us;
}

/* Runs every rule over @r: all of them for a sample, only the offline
 * rules for a failure or a tick (there is nothing else to look at). */
static void
evaluate(AmAlerts *a, MinerRecord *r, AmSample *sample)
{
  AmAlertSubject subject;
  subject_of(r, sample, &subject);
  gint64 now = now_us(a);
  for (guint i = 0; i < a->rules->len; i++) {
    const AmAlertRule *rule = a->rules->pdata[i];
    if (sample == NULL && am_alert_rule_get_rule_type(rule) != AM_RULE_OFFLINE)
      continue;
    if (!am_alert_rule_in_scope(rule, &subject))
      continue;
    AmAlertTrack *t = track_get(r, am_alert_rule_get_name(rule));
    g_auto(AmAlertOutcome) outcome = {0};
    am_alert_rule_step(rule, t, &subject, now, &outcome);
    apply_outcome(a, r, rule, t, &outcome);
  }
}

static void
hold(AmAlerts *a, MinerRecord *r, AmSample *sample)
{
  if (a->held->len >= MAX_HELD)
    return;
  Held *h = g_new0(Held, 1);
  h->address = g_strdup(r->address);
  h->sample = sample != NULL ? am_sample_ref(sample) : NULL;
  g_ptr_array_add(a->held, h);
}

static void
held_free(Held *h)
{
  g_free(h->address);
  if (h->sample != NULL)
    am_sample_unref(h->sample);
  g_free(h);
}

/* ---- the scheduler's hooks --------------------------------------------- */

void
am_alerts_on_sample(AmAlerts *a, AmMinerEntry *entry, AmSample *sample)
{
  MinerRecord *r = record_from_entry(a, entry);
  if (sample->model != NULL)
    set_text(&r->model, sample->model);
  r->failing = FALSE;
  r->on_purpose = held_on_purpose(entry);
  r->last_ok_us = entry->last_seen_us > 0 ? entry->last_seen_us : now_us(a);
  set_text(&r->reason, NULL);
  set_text(&r->error_kind, NULL);
  if (a->restoring)
    hold(a, r, sample);
  else
    evaluate(a, r, sample);
}

void
am_alerts_on_state(AmAlerts *a, AmMinerEntry *entry, AmMinerState old_state)
{
  (void)old_state;
  /* Successes are judged by the sample hook that follows at once. */
  if (entry->failures == 0)
    return;
  MinerRecord *r = record_from_entry(a, entry);
  r->on_purpose = held_on_purpose(entry);
  if (!r->failing) {
    r->failing = TRUE;
    /* Never answered since antmon started: count from when it heard of it. */
    r->last_ok_us = entry->last_seen_us > 0 ? entry->last_seen_us : r->first_seen_us;
  }
  set_text(&r->reason, entry->reason);
  set_text(&r->error_kind,
           entry->last_error >= 0 ? am_error_code_to_string(entry->last_error) : NULL);
  if (a->restoring)
    hold(a, r, NULL);
  else
    evaluate(a, r, NULL);
}

void
am_alerts_tick(AmAlerts *a)
{
  if (a->restoring)
    return;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, a->miners);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    MinerRecord *r = value;
    if (r->failing)
      evaluate(a, r, NULL);
  }
}

static gboolean
on_tick(gpointer user_data)
{
  am_alerts_tick(user_data);
  return G_SOURCE_CONTINUE;
}

/* ---- reading the state back -------------------------------------------- */

/* The store's "time": ISO 8601, or a number of us, ms or s since 1970. */
static gint64
row_time(JsonObject *row)
{
  JsonNode *node = json_object_get_member(row, "time");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return 0;
  if (json_node_get_value_type(node) == G_TYPE_STRING) {
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(json_node_get_string(node), utc);
    if (dt == NULL)
      return 0;
    return g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
  }
  /* The SQLite store answers seconds with a fraction. */
  double n = json_node_get_value_type(node) == G_TYPE_INT64 ? (double)json_node_get_int(node)
                                                            : json_node_get_double(node);
  double scale = n > 1e14 ? 1.0 : n > 1e11 ? 1e3 : 1e6;
  return (gint64)(n * scale);
}

/* The row's detail: a JSON object, or a string holding one. (transfer full) */
static JsonObject *
row_detail(JsonObject *row)
{
  JsonNode *node = json_object_get_member(row, "detail");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT(node))
    return json_object_ref(json_node_get_object(node));
  if (node == NULL || json_node_get_value_type(node) != G_TYPE_STRING)
    return NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, json_node_get_string(node), -1, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_object_ref(json_node_get_object(root))
                                                      : NULL;
}

static AmSeverity
severity_from_string(const char *text)
{
  if (g_strcmp0(text, "critical") == 0)
    return AM_SEVERITY_CRITICAL;
  if (g_strcmp0(text, "warning") == 0)
    return AM_SEVERITY_WARNING;
  return AM_SEVERITY_INFO;
}

static const AmAlertRule *
find_rule(AmAlerts *a, const char *name)
{
  for (guint i = 0; i < a->rules->len; i++)
    if (g_strcmp0(am_alert_rule_get_name(a->rules->pdata[i]), name) == 0)
      return a->rules->pdata[i];
  return NULL;
}

/* One row of "alert_state": the last event of one miner and rule. Rows
 * that are resolved, or whose rule is gone from the file, are skipped. */
static gboolean
restore_row(AmAlerts *a, JsonObject *row)
{
  const char *miner = json_object_get_string_member_with_default(row, "miner", NULL);
  const char *rule = json_object_get_string_member_with_default(row, "rule", NULL);
  g_autoptr(JsonObject) detail = row_detail(row);
  if (miner == NULL || rule == NULL || detail == NULL || find_rule(a, rule) == NULL)
    return FALSE;
  if (g_strcmp0(json_object_get_string_member_with_default(detail, "state", ""), "raised") != 0)
    return FALSE;
  MinerRecord *r = record_get(a, miner);
  AmAlertTrack *t = track_get(r, rule);
  gint64 since = row_time(row);
  am_alert_track_restore(
      t, severity_from_string(json_object_get_string_member_with_default(detail, "severity", NULL)),
      since > 0 ? since : now_us(a),
      json_object_get_boolean_member_with_default(detail, "notified", TRUE),
      json_object_get_string_member_with_default(detail, "message", NULL));
  return TRUE;
}

static void
restore_rows(AmAlerts *a, JsonNode *root)
{
  JsonObject *obj =
      root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  JsonArray *rows = obj != NULL && json_object_has_member(obj, "rows")
                        ? json_object_get_array_member(obj, "rows")
                        : NULL;
  guint restored = 0;
  for (guint i = 0; rows != NULL && i < json_array_get_length(rows); i++) {
    JsonNode *row = json_array_get_element(rows, i);
    if (JSON_NODE_HOLDS_OBJECT(row) && restore_row(a, json_node_get_object(row)))
      restored++;
  }
  if (restored > 0)
    g_message("%u alert%s still active from before the restart", restored,
              restored == 1 ? " is" : "s are");
}

/* Judges what came in while the state was being read, in order. */
static void
finish_restore(AmAlerts *a)
{
  a->restoring = FALSE;
  if (a->restore_timeout_id != 0)
    g_source_remove(a->restore_timeout_id);
  a->restore_timeout_id = 0;
  g_autoptr(GPtrArray) held = g_steal_pointer(&a->held);
  a->held = g_ptr_array_new_with_free_func((GDestroyNotify)held_free);
  for (guint i = 0; i < held->len; i++) {
    Held *h = held->pdata[i];
    MinerRecord *r = g_hash_table_lookup(a->miners, h->address);
    if (r != NULL)
      evaluate(a, r, h->sample);
  }
}

/* The query in flight. It outlives the evaluator when the store answers
 * after a timeout or a stop: alerts is NULL then. */
typedef struct _RestoreOp {
  AmAlerts *alerts;
  AmAlertsEnv env;
  GCancellable *cancellable;
} RestoreOp;

static void
restore_op_detach(AmAlerts *a)
{
  if (a->restore_op == NULL)
    return;
  a->restore_op->alerts = NULL;
  g_cancellable_cancel(a->restore_op->cancellable);
  a->restore_op = NULL;
}

static void
on_state_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  RestoreOp *op = user_data;
  AmAlerts *a = op->alerts;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = op->env.query_finish(op->env.store, result, &error);
  g_object_unref(op->cancellable);
  g_free(op);
  if (a == NULL)
    return; /* stopped, or timed out: already finished */
  a->restore_op = NULL;
  if (root != NULL)
    restore_rows(a, root);
  else if (g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED))
    g_debug("the store keeps no alert state: starting with none");
  else
    g_warning("could not read the active alerts back from the store: %s; starting with none",
              error != NULL ? error->message : "no reason given");
  finish_restore(a);
}

static gboolean
on_restore_timeout(gpointer user_data)
{
  AmAlerts *a = user_data;
  a->restore_timeout_id = 0;
  g_warning("the store did not return the active alerts within %d s; starting with none",
            RESTORE_TIMEOUT_MS / 1000);
  restore_op_detach(a);
  finish_restore(a);
  return G_SOURCE_REMOVE;
}

static void
start_restore(AmAlerts *a)
{
  if (a->env.store == NULL || a->env.query_async == NULL)
    return;
  a->restoring = TRUE;
  RestoreOp *op = g_new0(RestoreOp, 1);
  op->alerts = a;
  op->env = a->env;
  op->cancellable = g_cancellable_new();
  a->restore_op = op;
  g_autoptr(GHashTable) params = g_hash_table_new(g_str_hash, g_str_equal);
  a->restore_timeout_id = g_timeout_add(RESTORE_TIMEOUT_MS, on_restore_timeout, a);
  a->env.query_async(a->env.store, "alert_state", params, op->cancellable, on_state_read, op);
}

/* ---- configuration ----------------------------------------------------- */

/* The offline rule's default after=: what [core] calls offline. */
static guint64
default_offline_ms(GKeyFile *kf)
{
  guint offline_after = 3;
  guint64 interval_ms = 30000;
  am_config_get_uint(kf, "core", "offline_after", 3, 1, 1000, &offline_after, NULL);
  am_config_get_duration_ms(kf, "core", "interval", 30000, 1000, 24 * 3600 * 1000, &interval_ms,
                            NULL);
  return offline_after * interval_ms;
}

/* Every [alert:NAME] group, disabled ones checked too. (transfer full) */
static GPtrArray *
read_rules(GKeyFile *kf, GError **error)
{
  g_autoptr(GPtrArray) rules = g_ptr_array_new_with_free_func((GDestroyNotify)am_alert_rule_free);
  g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
  guint64 offline_ms = default_offline_ms(kf);
  for (guint i = 0; groups[i] != NULL; i++) {
    if (!g_str_has_prefix(groups[i], ALERT_PREFIX))
      continue;
    AmAlertRule *rule = am_alert_rule_new(kf, groups[i], offline_ms, error);
    if (rule == NULL)
      return NULL;
    if (am_alert_rule_is_enabled(rule))
      g_ptr_array_add(rules, rule);
    else
      am_alert_rule_free(rule);
  }
  return g_steal_pointer(&rules);
}

/* Sinks read their delivery keys from the file the plugins were made from. */
static gboolean
add_sinks(AmAlerts *a, GKeyFile *kf, GPtrArray *instances, GError **error)
{
  for (guint i = 0; instances != NULL && i < instances->len; i++) {
    AmAlertSink *sink = am_alert_sink_new(instances->pdata[i], kf, on_delivery_report, a, error);
    if (sink == NULL)
      return FALSE;
    g_ptr_array_add(a->sinks, sink);
  }
  /* Alerts are never dropped silently for want of a sink. */
  if (a->sinks->len == 0) {
    g_message("no sink group is enabled: alerts go to the log");
    g_ptr_array_add(a->sinks, am_alert_sink_new(NULL, NULL, on_delivery_report, a, NULL));
  }
  return TRUE;
}

gboolean
am_alerts_check_config(GKeyFile *kf, GError **error)
{
  g_autoptr(GPtrArray) rules = read_rules(kf, error);
  if (rules == NULL)
    return FALSE;
  g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++) {
    if (!g_str_has_prefix(groups[i], SINK_PREFIX))
      continue;
    AmInstance probe = {.group = groups[i]};
    AmAlertSink *sink = am_alert_sink_new(&probe, kf, NULL, NULL, error);
    if (sink == NULL)
      return FALSE;
    am_alert_sink_free(sink);
  }
  return TRUE;
}

AmAlerts *
am_alerts_new_with_env(GKeyFile *kf, GPtrArray *sinks, const AmAlertsEnv *env, GError **error)
{
  g_autoptr(GPtrArray) rules = read_rules(kf, error);
  if (rules == NULL)
    return NULL;
  AmAlerts *a = g_new0(AmAlerts, 1);
  a->rules = g_steal_pointer(&rules);
  a->env = *env;
  a->sinks = g_ptr_array_new_with_free_func((GDestroyNotify)am_alert_sink_free);
  a->miners = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)record_free);
  a->held = g_ptr_array_new_with_free_func((GDestroyNotify)held_free);
  if (!add_sinks(a, kf, sinks, error)) {
    am_alerts_free(a);
    return NULL;
  }
  if (a->env.now_us == NULL)
    a->tick_id = g_timeout_add(TICK_MS, on_tick, a);
  start_restore(a);
  return a;
}

AmAlerts *
am_alerts_new(GKeyFile *kf, GPtrArray *sinks, AmStoreQueue *store, GError **error)
{
  AmAlertsEnv env = {0};
  if (store != NULL) {
    env.store = store;
    env.push_event = queue_push_event;
    env.query_async = queue_query_async;
    env.query_finish = queue_query_finish;
  }
  return am_alerts_new_with_env(kf, sinks, &env, error);
}

gboolean
am_alerts_is_ready(AmAlerts *a)
{
  return !a->restoring;
}

void
am_alerts_flush(AmAlerts *a)
{
  for (guint i = 0; i < a->sinks->len; i++)
    am_alert_sink_flush(a->sinks->pdata[i]);
}

gboolean
am_alerts_is_idle(AmAlerts *a)
{
  for (guint i = 0; i < a->sinks->len; i++)
    if (!am_alert_sink_is_idle(a->sinks->pdata[i]))
      return FALSE;
  return TRUE;
}

/* ---- stats ------------------------------------------------------------- */

static void
add_active(JsonBuilder *b, MinerRecord *r, guint *count)
{
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, r->tracks);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    AmAlertTrack *t = value;
    if (!am_alert_track_is_active(t))
      continue;
    (*count)++;
    g_autofree char *since = am_time_to_iso8601(am_alert_track_get_since(t));
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "miner");
    json_builder_add_string_value(b, r->address);
    json_builder_set_member_name(b, "rule");
    json_builder_add_string_value(b, key);
    json_builder_set_member_name(b, "severity");
    json_builder_add_string_value(b, am_severity_to_string(am_alert_track_get_severity(t)));
    json_builder_set_member_name(b, "since");
    json_builder_add_string_value(b, since);
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, am_alert_track_get_message(t));
    json_builder_end_object(b);
  }
}

JsonNode *
am_alerts_stats_json(AmAlerts *a)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  guint active = 0, sent = 0, failed = 0;
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "alerts");
  json_builder_begin_array(b);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, a->miners);
  while (g_hash_table_iter_next(&it, NULL, &value))
    add_active(b, value, &active);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "sinks");
  json_builder_begin_array(b);
  for (guint i = 0; a->sinks != NULL && i < a->sinks->len; i++) {
    sent += am_alert_sink_get_sent(a->sinks->pdata[i]);
    failed += am_alert_sink_get_failed(a->sinks->pdata[i]);
    json_builder_add_value(b, am_alert_sink_stats_json(a->sinks->pdata[i]));
  }
  json_builder_end_array(b);
  const struct {
    const char *name;
    guint value;
  } counters[] = {
      {"rules", a->rules->len},
      {"active", active},
      {"sent", sent},
      {"failed", failed},
      {"raised", a->raised},
      {"resolved", a->resolved},
      {"suppressed", a->suppressed},
  };
  for (guint i = 0; i < G_N_ELEMENTS(counters); i++) {
    json_builder_set_member_name(b, counters[i].name);
    json_builder_add_int_value(b, counters[i].value);
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- shutdown ---------------------------------------------------------- */

static gboolean
on_grace_over(gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Sends what the digests hold and lets deliveries in flight finish, for a
 * few seconds at most: an alert raised just before a stop is not lost. */
static void
drain(AmAlerts *a)
{
  am_alerts_flush(a);
  if (am_alerts_is_idle(a))
    return;
  gboolean over = FALSE;
  guint id = g_timeout_add(SHUTDOWN_GRACE_MS, on_grace_over, &over);
  while (!over && !am_alerts_is_idle(a))
    g_main_context_iteration(NULL, TRUE);
  if (!over)
    g_source_remove(id);
}

void
am_alerts_free(AmAlerts *a)
{
  if (a == NULL)
    return;
  if (a->tick_id != 0)
    g_source_remove(a->tick_id);
  a->tick_id = 0;
  if (a->restore_timeout_id != 0)
    g_source_remove(a->restore_timeout_id);
  a->restore_timeout_id = 0;
  restore_op_detach(a);
  if (a->sinks != NULL)
    drain(a);
  g_clear_pointer(&a->sinks, g_ptr_array_unref);
  /* Plugins answer a cancel from the main loop: let those answers in. */
  for (guint i = 0; i < 100 && g_main_context_iteration(NULL, FALSE); i++)
    ;
  g_clear_pointer(&a->rules, g_ptr_array_unref);
  g_clear_pointer(&a->miners, g_hash_table_unref);
  g_clear_pointer(&a->held, g_ptr_array_unref);
  g_free(a);
}
