/* Delivery of alerts to one sink (see am-alert-delivery.h).
 *
 * Each sink has its own digest, queue and timers on the main loop, and at
 * most one attempt in flight: a sink that hangs holds up its own queue and
 * nothing else. An attempt past its deadline is cancelled; a plugin that
 * ignores the cancel is given GRACE_MS more, then abandoned (its late
 * answer is dropped) so that the queue moves on. */
#include "am-alert-delivery.h"
#include <antmon/config.h>
#include <antmon/error.h>
#include <math.h>
#include <string.h>

#define GRACE_MS 10000
/* Notifications waiting per sink, at most: a sink that has been down for
 * a day must not hold a day of alerts in memory. */
#define MAX_QUEUED 1000
#define MAX_BACKOFF_MS (3600 * 1000)

/* ---- items ------------------------------------------------------------- */

struct _AmAlertItem {
  gint ref_count;
  AmAlert alert;
  char *strings[7];
};

AmAlertItem *
am_alert_item_new(const AmAlertItemInit *init)
{
  AmAlertItem *item = g_new0(AmAlertItem, 1);
  item->ref_count = 1;
  const char *texts[] = {init->rule,  init->rule_type, init->miner_host, init->miner_name,
                         init->model, init->unit,      init->message};
  for (guint i = 0; i < G_N_ELEMENTS(texts); i++)
    item->strings[i] = g_strdup(texts[i]);
  item->alert = (AmAlert){
      .struct_size = sizeof(AmAlert),
      .rule = item->strings[0],
      .rule_type = item->strings[1],
      .severity = init->severity,
      .resolved = init->resolved,
      .miner_host = item->strings[2],
      .miner_name = item->strings[3],
      .model = item->strings[4],
      .value = init->value,
      .threshold = init->threshold,
      .unit = item->strings[5] != NULL ? item->strings[5] : "",
      .message = item->strings[6] != NULL ? item->strings[6] : "",
      .when_us = init->when_us,
  };
  return item;
}

AmAlertItem *
am_alert_item_ref(AmAlertItem *item)
{
  g_atomic_int_inc(&item->ref_count);
  return item;
}

void
am_alert_item_unref(AmAlertItem *item)
{
  if (item == NULL || !g_atomic_int_dec_and_test(&item->ref_count))
    return;
  for (guint i = 0; i < G_N_ELEMENTS(item->strings); i++)
    g_free(item->strings[i]);
  g_free(item);
}

const AmAlert *
am_alert_item_get(AmAlertItem *item)
{
  return &item->alert;
}

/* ---- text -------------------------------------------------------------- */

/* "rack1 (10.0.0.5:4028)", or just the address when the name is the host. */
static char *
who(const AmAlert *a)
{
  const char *address = a->miner_host != NULL ? a->miner_host : "?";
  const char *name = a->miner_name;
  gboolean name_is_host = name != NULL && g_str_has_prefix(address, name) &&
                          (address[strlen(name)] == ':' || address[strlen(name)] == '\0');
  if (name == NULL || name[0] == '\0' || name_is_host)
    return g_strdup(address);
  return g_strdup_printf("%s (%s)", a->miner_name, address);
}

char *
am_alert_format_line(const AmAlert *a)
{
  g_autofree char *miner = who(a);
  return g_strdup_printf("%s %s %s: %s: %s", am_severity_to_string(a->severity), a->rule,
                         a->resolved ? "resolved" : "raised", miner, a->message);
}

char *
am_alert_format_subject(const AmAlert *const *alerts, guint n)
{
  if (n == 1) {
    const AmAlert *a = alerts[0];
    g_autofree char *miner = who(a);
    g_autofree char *level = g_ascii_strup(am_severity_to_string(a->severity), -1);
    return g_strdup_printf("[%s] %s on %s: %s", a->resolved ? "RESOLVED" : level, a->rule, miner,
                           a->message);
  }
  guint raised = 0;
  AmSeverity worst = AM_SEVERITY_INFO;
  g_autoptr(GPtrArray) rules = g_ptr_array_new();
  for (guint i = 0; i < n; i++) {
    if (!alerts[i]->resolved) {
      raised++;
      worst = MAX(worst, alerts[i]->severity);
    }
    if (!g_ptr_array_find_with_equal_func(rules, alerts[i]->rule, g_str_equal, NULL))
      g_ptr_array_add(rules, (gpointer)alerts[i]->rule);
  }
  g_ptr_array_add(rules, NULL);
  g_autofree char *rule_list = g_strjoinv(", ", (char **)rules->pdata);
  g_autofree char *level = g_ascii_strup(am_severity_to_string(worst), -1);
  return g_strdup_printf("[%s] %u alerts: %u raised, %u resolved (%s)",
                         raised > 0 ? level : "RESOLVED", n, raised, n - raised, rule_list);
}

/* ---- notifications ----------------------------------------------------- */

typedef struct {
  gint ref_count;
  AmNotification pub;
  char *subject;
  GPtrArray *items;       /* AmAlertItem* */
  const AmAlert **alerts; /* the items' alerts, for pub.alerts */
  guint attempts;
} Notification;

static Notification *
notification_new(GPtrArray *items)
{
  Notification *n = g_new0(Notification, 1);
  n->ref_count = 1;
  n->items = g_ptr_array_ref(items);
  n->alerts = g_new0(const AmAlert *, items->len + 1);
  for (guint i = 0; i < items->len; i++)
    n->alerts[i] = am_alert_item_get(items->pdata[i]);
  n->subject = am_alert_format_subject(n->alerts, items->len);
  n->pub = (AmNotification){
      .struct_size = sizeof(AmNotification),
      .subject = n->subject,
      .alerts = n->alerts,
      .n_alerts = items->len,
  };
  return n;
}

static Notification *
notification_ref(Notification *n)
{
  n->ref_count++;
  return n;
}

static void
notification_unref(Notification *n)
{
  if (n == NULL || --n->ref_count > 0)
    return;
  g_ptr_array_unref(n->items);
  g_free(n->alerts);
  g_free(n->subject);
  g_free(n);
}

/* ---- the sink ---------------------------------------------------------- */

typedef struct _Attempt Attempt;

struct _AmAlertSink {
  AmInstance *instance; /* NULL: the built-in log delivery */
  char *name;
  guint64 digest_ms, backoff_ms, timeout_ms;
  guint retries;
  AmSeverity min_severity;
  gboolean dry_run;
  AmDeliveryReportFunc report;
  gpointer report_data;
  GPtrArray *digest; /* AmAlertItem* waiting for the window to end */
  guint digest_id;
  GQueue outbox; /* Notification*; the head is the one being delivered */
  Attempt *current;
  guint retry_id;
  guint sent, failed;
};

struct _Attempt {
  AmAlertSink *sink; /* NULL once abandoned or the sink is gone */
  Notification *n;
  GCancellable *cancellable;
  guint deadline_id, grace_id;
  gboolean timed_out;
};

static void pump(AmAlertSink *s);

/* A plugin's sample.ini documents its defaults, and so they are: a key the
 * group leaves out takes the sample's value (an e-mail sink batches for
 * 30 s, the log writes at once), else the core's. */
static GKeyFile *
sample_defaults(AmInstance *instance, char **sample_group)
{
  GKeyFile *sample = g_key_file_new();
  const char *text = instance->info != NULL ? instance->info->sample_config : NULL;
  if (text != NULL && g_key_file_load_from_data(sample, text, -1, G_KEY_FILE_NONE, NULL))
    *sample_group = g_key_file_get_start_group(sample);
  return sample;
}

static guint64
default_ms(GKeyFile *sample, const char *sample_group, const char *key, guint64 fallback)
{
  guint64 ms = fallback;
  if (sample_group != NULL &&
      !am_config_get_duration_ms(sample, sample_group, key, fallback, 0, 3600 * 1000, &ms, NULL))
    ms = fallback;
  return ms;
}

static gboolean
read_keys(AmAlertSink *s, AmInstance *instance, GKeyFile *kf, GError **error)
{
  static const char *const severities[] = {"info", "warning", "critical"};
  const char *group = instance->group;
  g_autofree char *sg = NULL;
  g_autoptr(GKeyFile) sample = sample_defaults(instance, &sg);
  g_autofree char *min = NULL;
  if (!am_config_get_duration_ms(kf, group, "digest_window",
                                 default_ms(sample, sg, "digest_window", 10000), 0, 3600 * 1000,
                                 &s->digest_ms, error) ||
      !am_config_get_uint(kf, group, "retries", 3, 0, 100, &s->retries, error) ||
      !am_config_get_duration_ms(kf, group, "retry_backoff",
                                 default_ms(sample, sg, "retry_backoff", 30000), 100, 3600 * 1000,
                                 &s->backoff_ms, error) ||
      !am_config_get_duration_ms(kf, group, "deliver_timeout",
                                 default_ms(sample, sg, "deliver_timeout", 120000), 100,
                                 3600 * 1000, &s->timeout_ms, error) ||
      !am_config_get_bool(kf, group, "dry_run", FALSE, &s->dry_run, error))
    return FALSE;
  min = am_config_get_string(kf, group, "min_severity", "info", error);
  if (min == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(severities); i++)
    if (g_ascii_strcasecmp(min, severities[i]) == 0) {
      s->min_severity = i;
      return TRUE;
    }
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
              "[%s] min_severity=%s: expected one of info, warning, critical", group, min);
  return FALSE;
}

AmAlertSink *
am_alert_sink_new(AmInstance *instance, GKeyFile *kf, AmDeliveryReportFunc report,
                  gpointer report_data, GError **error)
{
  AmAlertSink *s = g_new0(AmAlertSink, 1);
  s->instance = instance;
  s->name = g_strdup(instance != NULL ? instance->group : "log");
  s->report = report;
  s->report_data = report_data;
  s->digest = g_ptr_array_new_with_free_func((GDestroyNotify)am_alert_item_unref);
  g_queue_init(&s->outbox);
  if (instance != NULL && !read_keys(s, instance, kf, error)) {
    am_alert_sink_free(s);
    return NULL;
  }
  /* The built-in log has nothing to batch for: it writes at once. */
  return s;
}

const char *
am_alert_sink_get_name(AmAlertSink *s)
{
  return s->name;
}

static void
report(AmAlertSink *s, Notification *n, const char *state, const char *error_text)
{
  if (s->report == NULL)
    return;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, state);
  json_builder_set_member_name(b, "subject");
  json_builder_add_string_value(b, n->subject);
  json_builder_set_member_name(b, "n_alerts");
  json_builder_add_int_value(b, n->pub.n_alerts);
  json_builder_set_member_name(b, "attempt");
  json_builder_add_int_value(b, n->attempts);
  if (error_text != NULL) {
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, error_text);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *detail = json_to_string(root, FALSE);
  const char *miner = n->pub.n_alerts == 1 ? n->alerts[0]->miner_host : NULL;
  s->report(s->name, miner, detail, s->report_data);
}

static void
log_notification(const char *prefix, Notification *n)
{
  for (guint i = 0; i < n->pub.n_alerts; i++) {
    g_autofree char *line = am_alert_format_line(n->alerts[i]);
    g_message("%s%s", prefix, line);
  }
}

static void
outbox_pop(AmAlertSink *s)
{
  notification_unref(g_queue_pop_head(&s->outbox));
}

static void
delivered(AmAlertSink *s)
{
  Notification *n = g_queue_peek_head(&s->outbox);
  s->sent++;
  g_debug("[%s] delivered \"%s\" (attempt %u)", s->name, n->subject, n->attempts);
  report(s, n, "sent", NULL);
  outbox_pop(s);
}

/* Errors that say the request itself is wrong: trying again cannot help. */
static gboolean
retryable(const GError *error)
{
  return !g_error_matches(error, AM_ERROR, AM_ERROR_CONFIG) &&
         !g_error_matches(error, AM_ERROR, AM_ERROR_AUTH) &&
         !g_error_matches(error, AM_ERROR, AM_ERROR_API);
}

static gboolean
on_retry(gpointer user_data)
{
  AmAlertSink *s = user_data;
  s->retry_id = 0;
  pump(s);
  return G_SOURCE_REMOVE;
}

static void
failed(AmAlertSink *s, const GError *error)
{
  Notification *n = g_queue_peek_head(&s->outbox);
  if (n->attempts <= s->retries && retryable(error)) {
    guint64 delay = s->backoff_ms << MIN(n->attempts - 1, 20u);
    delay = MIN(delay, (guint64)MAX_BACKOFF_MS);
    g_warning("[%s] delivery of \"%s\" failed (attempt %u of %u): %s; retrying in %.1f s", s->name,
              n->subject, n->attempts, s->retries + 1, error->message, delay / 1000.0);
    report(s, n, "retrying", error->message);
    s->retry_id = g_timeout_add((guint)delay, on_retry, s);
    return;
  }
  s->failed++;
  g_warning("[%s] delivery of \"%s\" failed after %u attempt%s: %s; given up", s->name, n->subject,
            n->attempts, n->attempts == 1 ? "" : "s", error->message);
  report(s, n, "failed", error->message);
  outbox_pop(s);
}

static void
attempt_free(Attempt *a)
{
  if (a->deadline_id != 0)
    g_source_remove(a->deadline_id);
  if (a->grace_id != 0)
    g_source_remove(a->grace_id);
  g_object_unref(a->cancellable);
  notification_unref(a->n);
  g_free(a);
}

static GError *
timeout_error(AmAlertSink *s)
{
  return g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "no answer within deliver_timeout=%.1f s",
                     s->timeout_ms / 1000.0);
}

static void
on_delivered(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  Attempt *a = user_data;
  AmAlertSink *s = a->sink;
  if (s == NULL) {
    /* Abandoned, or the sink is gone: the plugin may be gone too. */
    attempt_free(a);
    return;
  }
  g_autoptr(GError) error = NULL;
  const AmSinkVTable *vt = s->instance->info->vtable.sink;
  gboolean ok = vt->deliver_finish(s->instance->self, result, &error);
  if (!ok && a->timed_out) {
    g_clear_error(&error);
    error = timeout_error(s);
  } else if (!ok && error == NULL) {
    error = g_error_new(AM_ERROR, AM_ERROR_FAILED, "the plugin failed without saying why");
  }
  s->current = NULL;
  attempt_free(a);
  if (ok)
    delivered(s);
  else
    failed(s, error);
  pump(s);
}

static gboolean
on_grace(gpointer user_data)
{
  Attempt *a = user_data;
  AmAlertSink *s = a->sink;
  a->grace_id = 0;
  if (s == NULL)
    return G_SOURCE_REMOVE; /* the sink is gone; the attempt waits for its answer */
  a->sink = NULL;
  s->current = NULL;
  g_autoptr(GError) error = timeout_error(s);
  g_prefix_error(&error, "the plugin ignored the cancel: ");
  failed(s, error);
  pump(s);
  return G_SOURCE_REMOVE;
}

static gboolean
on_deadline(gpointer user_data)
{
  Attempt *a = user_data;
  a->deadline_id = 0;
  a->timed_out = TRUE;
  /* A well-behaved plugin answers "cancelled" soon; on_grace covers the rest. */
  if (a->sink != NULL)
    a->grace_id = g_timeout_add(GRACE_MS, on_grace, a);
  /* The plugin may answer from inside the cancel, which frees @a. */
  g_autoptr(GCancellable) cancellable = g_object_ref(a->cancellable);
  g_cancellable_cancel(cancellable);
  return G_SOURCE_REMOVE;
}

static void
start_attempt(AmAlertSink *s, Notification *n)
{
  Attempt *a = g_new0(Attempt, 1);
  a->sink = s;
  a->n = notification_ref(n);
  a->cancellable = g_cancellable_new();
  a->deadline_id = g_timeout_add((guint)s->timeout_ms, on_deadline, a);
  s->current = a;
  const AmSinkVTable *vt = s->instance->info->vtable.sink;
  vt->deliver_async(s->instance->self, &n->pub, a->cancellable, on_delivered, a);
}

/* Starts the next delivery unless one is in flight or waiting to retry. */
static void
pump(AmAlertSink *s)
{
  while (s->current == NULL && s->retry_id == 0 && !g_queue_is_empty(&s->outbox)) {
    Notification *n = g_queue_peek_head(&s->outbox);
    n->attempts++;
    if (s->instance != NULL) {
      start_attempt(s, n);
      return;
    }
    log_notification("alert ", n);
    delivered(s);
  }
}

/* Keeps the queue bounded: the oldest waiting notification goes first (not
 * the one in flight or waiting to retry, at the head). */
static void
enqueue(AmAlertSink *s, Notification *n)
{
  if (g_queue_get_length(&s->outbox) >= MAX_QUEUED) {
    Notification *old = g_queue_pop_nth(&s->outbox, 1);
    s->failed++;
    g_warning("[%s] %u notifications are waiting: \"%s\" dropped", s->name, MAX_QUEUED,
              old->subject);
    report(s, old, "failed", "queue full");
    notification_unref(old);
  }
  g_queue_push_tail(&s->outbox, n);
  pump(s);
}

void
am_alert_sink_flush(AmAlertSink *s)
{
  if (s->digest_id != 0) {
    g_source_remove(s->digest_id);
    s->digest_id = 0;
  }
  if (s->digest->len == 0)
    return;
  Notification *n = notification_new(s->digest);
  g_ptr_array_unref(s->digest);
  s->digest = g_ptr_array_new_with_free_func((GDestroyNotify)am_alert_item_unref);
  if (s->dry_run) {
    g_message("[%s] dry run: would send \"%s\"", s->name, n->subject);
    log_notification("dry run: ", n);
    report(s, n, "dry_run", NULL);
    notification_unref(n);
    return;
  }
  enqueue(s, n);
}

static gboolean
on_digest_end(gpointer user_data)
{
  AmAlertSink *s = user_data;
  s->digest_id = 0;
  am_alert_sink_flush(s);
  return G_SOURCE_REMOVE;
}

void
am_alert_sink_add(AmAlertSink *s, AmAlertItem *item)
{
  if (am_alert_item_get(item)->severity < s->min_severity)
    return;
  g_ptr_array_add(s->digest, am_alert_item_ref(item));
  /* Even without a window, alerts raised in one main-loop pass (a clock
   * tick finding fifty miners down) go out together. */
  if (s->digest_id == 0)
    s->digest_id = s->digest_ms > 0 ? g_timeout_add((guint)s->digest_ms, on_digest_end, s)
                                    : g_idle_add(on_digest_end, s);
}

gboolean
am_alert_sink_is_idle(AmAlertSink *s)
{
  return s->digest->len == 0 && g_queue_is_empty(&s->outbox) && s->current == NULL;
}

guint
am_alert_sink_get_sent(AmAlertSink *s)
{
  return s->sent;
}

guint
am_alert_sink_get_failed(AmAlertSink *s)
{
  return s->failed;
}

JsonNode *
am_alert_sink_stats_json(AmAlertSink *s)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, s->name);
  json_builder_set_member_name(b, "sent");
  json_builder_add_int_value(b, s->sent);
  json_builder_set_member_name(b, "failed");
  json_builder_add_int_value(b, s->failed);
  json_builder_set_member_name(b, "queued");
  json_builder_add_int_value(b, g_queue_get_length(&s->outbox) + (s->digest->len > 0 ? 1 : 0));
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

void
am_alert_sink_free(AmAlertSink *s)
{
  if (s == NULL)
    return;
  guint undelivered = g_queue_get_length(&s->outbox) + (s->digest->len > 0 ? 1 : 0);
  if (undelivered > 0)
    g_warning("[%s] stopping with %u notification%s not delivered", s->name, undelivered,
              undelivered == 1 ? "" : "s");
  if (s->digest_id != 0)
    g_source_remove(s->digest_id);
  if (s->retry_id != 0)
    g_source_remove(s->retry_id);
  if (s->current != NULL) {
    /* The attempt frees itself when the plugin answers the cancel. */
    Attempt *a = g_steal_pointer(&s->current);
    a->sink = NULL;
    g_autoptr(GCancellable) cancellable = g_object_ref(a->cancellable);
    g_cancellable_cancel(cancellable);
  }
  g_queue_clear_full(&s->outbox, (GDestroyNotify)notification_unref);
  g_ptr_array_unref(s->digest);
  g_free(s->name);
  g_free(s);
}
