/* Fleet jobs: one action applied to many miners, @batch at a time, a batch
 * starting @interval after the one before, so a farm is not rebooted (or
 * woken, drawing full power) all at once. A dry run only says, per miner,
 * what would happen. */
#include "am-action-private.h"

#include <antmon/error.h>

typedef struct {
  char *key;
  char *action_id; /* once created */
  char *skipped;   /* why it was left out, or NULL */
} FleetMiner;

struct _AmFleetJob {
  AmActions *owner;
  char *id;
  char *who;
  AmRequestCopy req;
  guint batch;
  guint interval_ms;
  gboolean dry_run;
  gint64 created_us;
  GArray *miners; /* FleetMiner */
  guint next;     /* the first miner of the next batch */
  guint timer_id;
};

static void
fleet_miner_clear(gpointer data)
{
  FleetMiner *fm = data;
  g_free(fm->key);
  g_free(fm->action_id);
  g_free(fm->skipped);
}

AmFleetJob *
am_fleet_job_new(AmActions *actions, const char *id, const AmActionRequest *request, guint batch,
                 guint interval_ms, gboolean dry_run, const char *who)
{
  AmFleetJob *job = g_new0(AmFleetJob, 1);
  job->owner = actions;
  job->id = g_strdup(id);
  job->who = g_strdup(who != NULL ? who : "unknown");
  am_request_copy_init(&job->req, request);
  job->interval_ms = interval_ms;
  job->dry_run = dry_run;
  job->created_us = g_get_real_time();
  job->miners = g_array_new(FALSE, TRUE, sizeof(FleetMiner));
  g_array_set_clear_func(job->miners, fleet_miner_clear);
  job->batch = batch;
  return job;
}

void
am_fleet_job_free(AmFleetJob *job)
{
  g_clear_handle_id(&job->timer_id, g_source_remove);
  g_array_unref(job->miners);
  am_request_copy_clear(&job->req);
  g_free(job->id);
  g_free(job->who);
  g_free(job);
}

const char *
am_fleet_job_id(const AmFleetJob *job)
{
  return job->id;
}

static void
add_miner(AmFleetJob *job, const char *key)
{
  FleetMiner fm = {.key = g_strdup(key)};
  int code = 0;
  fm.skipped = am_actions_why_not(job->owner, key, job->req.request.kind, &code);
  /* In a real run the rate limit is judged when the miner's batch starts. */
  if (!job->dry_run && code == AM_ERROR_BUSY)
    g_clear_pointer(&fm.skipped, g_free);
  if (!job->dry_run && fm.skipped == NULL) {
    g_autoptr(GError) error = NULL;
    AmAction *a =
        am_actions_create(job->owner, key, &job->req.request, job->who, job->id, TRUE, &error);
    if (a != NULL)
      fm.action_id = g_strdup(a->id);
    else
      fm.skipped = g_strdup(error->message);
  }
  g_array_append_val(job->miners, fm);
}

/* Starts the next @batch queued actions; TRUE while some remain. */
static gboolean
start_batch(AmFleetJob *job)
{
  guint started = 0;
  while (job->next < job->miners->len && (job->batch == 0 || started < job->batch)) {
    FleetMiner *fm = &g_array_index(job->miners, FleetMiner, job->next++);
    AmAction *a = am_actions_lookup(job->owner, fm->action_id);
    if (a == NULL || a->state != AM_ACTION_QUEUED)
      continue;
    am_actions_start(job->owner, a);
    started++;
  }
  return job->next < job->miners->len;
}

static gboolean
on_batch_due(gpointer user_data)
{
  AmFleetJob *job = user_data;
  if (start_batch(job))
    return G_SOURCE_CONTINUE;
  job->timer_id = 0;
  return G_SOURCE_REMOVE;
}

void
am_fleet_job_run(AmFleetJob *job, const char *const *keys, guint n_keys)
{
  for (guint i = 0; i < n_keys; i++)
    add_miner(job, keys[i]);
  if (job->dry_run)
    return;
  if (start_batch(job) && job->interval_ms > 0)
    job->timer_id = g_timeout_add(job->interval_ms, on_batch_due, job);
  else
    while (start_batch(job)) /* no interval: every batch now */
      ;
}

static const char *
miner_state(AmFleetJob *job, FleetMiner *fm, AmAction **action_out)
{
  *action_out = am_actions_lookup(job->owner, fm->action_id);
  if (fm->skipped != NULL)
    return "skipped";
  if (job->dry_run)
    return "would_do";
  if (*action_out == NULL)
    return "unknown"; /* pruned: the job outlived its oldest actions */
  return am_action_state_to_string((*action_out)->state);
}

JsonNode *
am_fleet_job_to_json(AmFleetJob *job)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autoptr(GHashTable) counts = g_hash_table_new(g_str_hash, g_str_equal);
  gboolean running = FALSE;
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, job->id);
  json_builder_set_member_name(b, "action");
  json_builder_add_string_value(b, am_action_kind_to_string(job->req.request.kind));
  json_builder_set_member_name(b, "params");
  json_builder_add_value(b, am_request_params_json(&job->req.request));
  json_builder_set_member_name(b, "who");
  json_builder_add_string_value(b, job->who);
  json_builder_set_member_name(b, "batch");
  json_builder_add_int_value(b, job->batch);
  json_builder_set_member_name(b, "interval_s");
  json_builder_add_double_value(b, job->interval_ms / 1000.0);
  json_builder_set_member_name(b, "dry_run");
  json_builder_add_boolean_value(b, job->dry_run);
  g_autofree char *created = am_time_to_iso8601(job->created_us);
  json_builder_set_member_name(b, "created");
  json_builder_add_string_value(b, created);
  json_builder_set_member_name(b, "miners");
  json_builder_begin_array(b);
  for (guint i = 0; i < job->miners->len; i++) {
    FleetMiner *fm = &g_array_index(job->miners, FleetMiner, i);
    AmAction *a = NULL;
    const char *state = miner_state(job, fm, &a);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, state));
    g_hash_table_insert(counts, (gpointer)state, GUINT_TO_POINTER(n + 1));
    running |= a != NULL && !am_action_is_done(a);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "miner");
    json_builder_add_string_value(b, a != NULL ? a->address : fm->key);
    json_builder_set_member_name(b, "id");
    if (fm->action_id != NULL)
      json_builder_add_string_value(b, fm->action_id);
    else
      json_builder_add_null_value(b);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, state);
    json_builder_set_member_name(b, "message");
    const char *message = fm->skipped != NULL ? fm->skipped : a != NULL ? a->message : NULL;
    if (message != NULL)
      json_builder_add_string_value(b, message);
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, running ? "running" : "done");
  json_builder_set_member_name(b, "counts");
  json_builder_begin_object(b);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, counts);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    json_builder_set_member_name(b, key);
    json_builder_add_int_value(b, GPOINTER_TO_UINT(value));
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
