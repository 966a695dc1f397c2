/* The action manager: checks, sends through the driver, follows the polls
 * until they confirm, records the outcome. See am-actions.h. */
#include "am-action-confirm.h"
#include "am-action-private.h"
#include "am-log.h"

#include <antmon/config.h>
#include <antmon/error.h>
#include <antmon/plugin.h>

#define MAX_KEPT_DEFAULT 1000

struct _AmActions {
  AmActionsConfig config;
  AmScheduler *scheduler;
  AmStoreQueue *store;
  GHashTable *by_id;    /* id -> AmAction* (owned) */
  GHashTable *jobs;     /* id -> AmFleetJob* (owned) */
  GQueue done_ids;      /* ids of finished actions, oldest first, for pruning */
  GQueue job_ids;       /* ids of jobs, oldest first */
  GHashTable *last_use; /* address -> monotonic us of its last action sent */
  /* address -> GPtrArray of its actions still confirming (borrowed), oldest
   * first: every sample of every miner looks here, so a sample costs one
   * lookup instead of a walk over every kept action. */
  GHashTable *confirming;
  guint in_flight; /* driver calls (acts and confirming polls) under way */
  guint64 next_id;
};

gboolean
am_actions_config_read(GKeyFile *kf, AmActionsConfig *out, GError **error)
{
  guint64 min_interval = 0, confirm_timeout = 0, confirm_poll = 0;
  if (!am_config_get_duration_ms(kf, "actions", "min_interval", 10000, 0, 24 * 3600 * 1000ull,
                                 &min_interval, error) ||
      !am_config_get_duration_ms(kf, "actions", "confirm_timeout", 0, 0, 24 * 3600 * 1000ull,
                                 &confirm_timeout, error) ||
      !am_config_get_duration_ms(kf, "actions", "confirm_poll", 5000, 500, 3600 * 1000ull,
                                 &confirm_poll, error))
    return FALSE;
  *out = (AmActionsConfig){
      .min_interval_ms = (guint)min_interval,
      .confirm_timeout_ms = (guint)confirm_timeout,
      .confirm_poll_ms = (guint)confirm_poll,
      .max_kept = MAX_KEPT_DEFAULT,
  };
  return TRUE;
}

static void
action_free(AmAction *a)
{
  if (a->deadline_id != 0)
    g_source_remove(a->deadline_id);
  if (a->follow_id != 0)
    g_source_remove(a->follow_id);
  g_clear_object(&a->cancellable);
  g_clear_pointer(&a->before, am_sample_unref);
  am_request_copy_clear(&a->req);
  g_free(a->id);
  g_free(a->address);
  g_free(a->who);
  g_free(a->fleet_id);
  g_free(a->message);
  g_free(a);
}

static void on_sample(AmMinerEntry *entry, AmSample *sample, gpointer user_data);

AmActions *
am_actions_new(const AmActionsConfig *config, AmScheduler *scheduler, AmStoreQueue *store)
{
  AmActions *m = g_new0(AmActions, 1);
  m->config = *config;
  if (m->config.max_kept == 0)
    m->config.max_kept = MAX_KEPT_DEFAULT;
  if (m->config.confirm_poll_ms == 0)
    m->config.confirm_poll_ms = 5000;
  m->scheduler = scheduler;
  m->store = store;
  m->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)action_free);
  m->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)am_fleet_job_free);
  m->last_use = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  m->confirming =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  g_queue_init(&m->done_ids);
  g_queue_init(&m->job_ids);
  am_scheduler_add_sample_hook(scheduler, on_sample, m);
  return m;
}

void
am_actions_free(AmActions *m)
{
  if (m == NULL)
    return;
  /* Cancel what is being sent and let the drivers report back, so no
   * callback outlives the manager (as the scheduler does with polls). */
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, m->by_id);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    AmAction *a = value;
    if (a->cancellable != NULL)
      g_cancellable_cancel(a->cancellable);
  }
  while (m->in_flight > 0)
    g_main_context_iteration(NULL, TRUE);
  am_scheduler_remove_sample_hook(m->scheduler, on_sample, m);
  /* Before the actions it points to: those still confirming end as they are. */
  g_hash_table_unref(m->confirming);
  g_hash_table_unref(m->jobs);
  g_hash_table_unref(m->by_id);
  g_hash_table_unref(m->last_use);
  g_queue_clear_full(&m->done_ids, g_free);
  g_queue_clear_full(&m->job_ids, g_free);
  g_free(m);
}

char *
am_actions_next_id(AmActions *m, const char *prefix)
{
  return g_strdup_printf("%s-%" G_GUINT64_FORMAT, prefix, ++m->next_id);
}

AmAction *
am_actions_lookup(AmActions *m, const char *id)
{
  return id != NULL ? g_hash_table_lookup(m->by_id, id) : NULL;
}

void
am_actions_keep_job(AmActions *m, AmFleetJob *job)
{
  const char *id = am_fleet_job_id(job);
  g_hash_table_insert(m->jobs, (gpointer)id, job);
  g_queue_push_tail(&m->job_ids, g_strdup(id));
  while (g_queue_get_length(&m->job_ids) > m->config.max_kept) {
    g_autofree char *old = g_queue_pop_head(&m->job_ids);
    g_hash_table_remove(m->jobs, old);
  }
}

/* ---- which driver acts -------------------------------------------------- */

static AmActionSet
supported_by(AmInstance *inst, AmMiner *miner, const AmSample *sample)
{
  const AmDriverVTable *v = inst->info->vtable.driver;
  /* A driver built for ABI 1.2 or older has no action entries at all. */
  if (inst->info->abi_minor < 3 || v->actions == NULL || v->act_async == NULL ||
      v->act_finish == NULL)
    return 0;
  return v->actions(inst->self, miner, sample);
}

/* The instance that carries out @kind on @e, or NULL: its own driver, else
 * the web side of its family (am_scheduler_web_companion(): stock firmware
 * takes most commands only through its web CGI). */
static AmInstance *
acting_driver(AmScheduler *scheduler, AmMinerEntry *e, AmActionKind kind)
{
  if (e->driver == NULL)
    return NULL;
  if (supported_by(e->driver, e->miner, e->latest) & AM_ACTION_BIT(kind))
    return e->driver;
  AmInstance *web = am_scheduler_web_companion(scheduler, e->driver);
  if (web != NULL && (supported_by(web, e->miner, NULL) & AM_ACTION_BIT(kind)))
    return web;
  return NULL;
}

AmActionSet
am_actions_supported(AmScheduler *scheduler, AmMinerEntry *e)
{
  if (e->driver == NULL)
    return 0;
  AmActionSet set = supported_by(e->driver, e->miner, e->latest);
  AmInstance *web = am_scheduler_web_companion(scheduler, e->driver);
  if (web != NULL)
    set |= supported_by(web, e->miner, NULL);
  return set;
}

static char *
why_unsupported(AmScheduler *scheduler, AmMinerEntry *e, AmActionKind kind)
{
  const char *address = am_miner_get_address(e->miner);
  if (e->driver == NULL)
    return g_strdup_printf("%s has not been identified yet (no driver chosen): try again after "
                           "its first good poll",
                           address);
  if (am_actions_supported(scheduler, e) == 0)
    return g_strdup_printf("the %s driver only reads %s: it has no actions", e->driver->info->name,
                           address);
  const AmSample *s = e->latest;
  return g_strdup_printf(
      "the %s driver cannot %s %s%s%s%s%s%s", e->driver->info->name, am_action_kind_to_string(kind),
      address, s != NULL && s->model != NULL ? " (" : "",
      s != NULL && s->model != NULL ? s->model : "", s != NULL && s->firmware != NULL ? " on " : "",
      s != NULL && s->firmware != NULL ? s->firmware : "",
      s != NULL && s->model != NULL ? ")" : "");
}

JsonNode *
am_actions_miner_json(AmScheduler *scheduler, AmMinerEntry *e)
{
  AmActionSet set = am_actions_supported(scheduler, e);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "supported");
  json_builder_begin_array(b);
  for (int k = AM_ACTION_NONE + 1; k < AM_ACTION_LAST; k++)
    if (set & AM_ACTION_BIT(k))
      json_builder_add_string_value(b, am_action_kind_to_string(k));
  json_builder_end_array(b);
  json_builder_set_member_name(b, "unsupported");
  json_builder_begin_object(b);
  for (int k = AM_ACTION_NONE + 1; k < AM_ACTION_LAST; k++)
    if (!(set & AM_ACTION_BIT(k))) {
      g_autofree char *why = why_unsupported(scheduler, e, k);
      json_builder_set_member_name(b, am_action_kind_to_string(k));
      json_builder_add_string_value(b, why);
    }
  json_builder_end_object(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

/* ---- may it run --------------------------------------------------------- */

static AmAction *
sending_on(AmActions *m, const char *address)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, m->by_id);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    AmAction *a = value;
    if (a->state == AM_ACTION_SENDING && g_str_equal(a->address, address))
      return a;
  }
  return NULL;
}

/* Why the action may not run now (code in @code), or NULL. */
static char *
refusal(AmActions *m, AmMinerEntry *e, AmActionKind kind, int *code)
{
  *code = AM_ERROR_UNSUPPORTED;
  if (acting_driver(m->scheduler, e, kind) == NULL)
    return why_unsupported(m->scheduler, e, kind);
  const char *address = am_miner_get_address(e->miner);
  *code = AM_ERROR_BUSY;
  AmAction *busy = sending_on(m, address);
  if (busy != NULL)
    return g_strdup_printf("%s: action %s (%s) is still being sent", address, busy->id,
                           am_action_kind_to_string(busy->req.request.kind));
  gint64 *last = g_hash_table_lookup(m->last_use, address);
  gint64 wait_us =
      last != NULL ? *last + (gint64)m->config.min_interval_ms * 1000 - g_get_monotonic_time() : 0;
  if (wait_us > 0)
    return g_strdup_printf("%s was acted on less than %.0f s ago (min_interval in [actions]): "
                           "try again in %.0f s",
                           address, m->config.min_interval_ms / 1000.0, wait_us / 1e6 + 0.5);
  return NULL;
}

char *
am_actions_why_not(AmActions *m, const char *key, AmActionKind kind, int *code)
{
  AmMinerEntry *e = am_scheduler_find(m->scheduler, key);
  if (e == NULL) {
    *code = AM_ERROR_NOT_FOUND;
    return g_strdup_printf("no miner %s", key);
  }
  return refusal(m, e, kind, code);
}

/* ---- the outcome -------------------------------------------------------- */

static void
record_event(AmActions *m, AmAction *a)
{
  if (m->store == NULL)
    return;
  g_autoptr(JsonNode) json = am_action_to_json(a);
  g_autofree char *detail = json_to_string(json, FALSE);
  AmEvent event = {
      .struct_size = sizeof(AmEvent),
      .when_us = a->finished_us,
      .miner_host = a->address,
      .kind = "action",
      .name = am_action_kind_to_string(a->req.request.kind),
      .detail = detail,
  };
  am_store_queue_push_event(m->store, &event);
}

static void
prune(AmActions *m)
{
  while (g_queue_get_length(&m->done_ids) > m->config.max_kept) {
    AmAction *oldest = g_hash_table_lookup(m->by_id, g_queue_peek_head(&m->done_ids));
    if (oldest != NULL && oldest->polling)
      return; /* its poll reports back first */
    g_autofree char *old = g_queue_pop_head(&m->done_ids);
    g_hash_table_remove(m->by_id, old);
  }
}

/* ---- actions still confirming, by address ------------------------------ */

static void
confirming_add(AmActions *m, AmAction *a)
{
  GPtrArray *list = g_hash_table_lookup(m->confirming, a->address);
  if (list == NULL) {
    list = g_ptr_array_new();
    g_hash_table_insert(m->confirming, g_strdup(a->address), list);
  }
  g_ptr_array_add(list, a);
}

static void
confirming_remove(AmActions *m, AmAction *a)
{
  GPtrArray *list = g_hash_table_lookup(m->confirming, a->address);
  if (list == NULL || !g_ptr_array_remove(list, a))
    return;
  if (list->len == 0)
    g_hash_table_remove(m->confirming, a->address);
}

/* A copy of the actions confirming on @address, or NULL when none (no
 * allocation for the miners of a sample that have none): judging one may
 * end it, which changes the list. (transfer container) */
static GPtrArray *
confirming_on(AmActions *m, const char *address)
{
  GPtrArray *list = g_hash_table_lookup(m->confirming, address);
  if (list == NULL)
    return NULL;
  GPtrArray *copy = g_ptr_array_sized_new(list->len);
  for (guint i = 0; i < list->len; i++)
    g_ptr_array_add(copy, list->pdata[i]);
  return copy;
}

static void
finish(AmActions *m, AmAction *a, AmActionState state, const char *message)
{
  if (am_action_is_done(a))
    return;
  if (a->state == AM_ACTION_CONFIRMING)
    confirming_remove(m, a);
  a->state = state;
  g_free(a->message);
  a->message = g_strdup(message);
  a->finished_us = g_get_real_time();
  g_clear_handle_id(&a->deadline_id, g_source_remove);
  g_clear_handle_id(&a->follow_id, g_source_remove);
  /* A kept action needs its sample no more: 1,000 of them would hold 1,000. */
  g_clear_pointer(&a->before, am_sample_unref);
  AmMinerEntry *e = am_scheduler_lookup(m->scheduler, a->address);
  if (e != NULL &&
      (a->req.request.kind == AM_ACTION_REBOOT || a->req.request.kind == AM_ACTION_RESTART))
    e->expect_down_until_us = 0; /* back (or given up on): failures count again */
  am_log_miner(G_LOG_LEVEL_MESSAGE, a->address, "%s: action %s %s by %s: %s%s%s", a->address, a->id,
               am_action_kind_to_string(a->req.request.kind), a->who,
               am_action_state_to_string(state), message != NULL ? ": " : "",
               message != NULL ? message : "");
  record_event(m, a);
  g_queue_push_tail(&m->done_ids, g_strdup(a->id));
  prune(m);
}

/* ---- confirming --------------------------------------------------------- */

static gboolean
on_deadline(gpointer user_data)
{
  AmAction *a = user_data;
  a->deadline_id = 0;
  g_autofree char *text = g_strdup_printf(
      "no poll showed it within %.0f s; last seen: %s", (g_get_real_time() - a->sent_us) / 1e6,
      a->message != NULL ? a->message : "no good poll since it was sent");
  finish(a->owner, a, AM_ACTION_NOT_CONFIRMED, text);
  return G_SOURCE_REMOVE;
}

static void judge(AmActions *m, AmAction *a, AmSample *sample);

static void
on_companion_polled(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  AmAction *a = user_data;
  AmActions *m = a->owner;
  AmInstance *inst = a->driver;
  m->in_flight--;
  a->polling = FALSE;
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) sample = inst->info->vtable.driver->poll_finish(inst->self, result, &error);
  if (a->state != AM_ACTION_CONFIRMING)
    return;
  if (sample == NULL) {
    /* It shows nothing; the next poll may. Say so if none ever does. */
    g_debug("%s: %s: the %s driver's poll failed: %s", a->address, a->id, inst->info->name,
            error->message);
    g_free(a->message);
    a->message =
        g_strdup_printf("the %s driver's poll failed: %s", inst->info->name, error->message);
    return;
  }
  am_sample_finish(sample);
  judge(m, a, sample);
}

static gboolean
on_follow(gpointer user_data)
{
  AmAction *a = user_data;
  AmActions *m = a->owner;
  AmMinerEntry *e = am_scheduler_lookup(m->scheduler, a->address);
  if (e == NULL)
    return G_SOURCE_CONTINUE;
  AmInstance *inst = a->driver;
  if (inst == e->driver || inst == NULL) {
    am_scheduler_poll_now(m->scheduler, e);
  } else if (!a->polling) {
    a->polling = TRUE;
    m->in_flight++;
    inst->info->vtable.driver->poll_async(inst->self, e->miner, a->cancellable, on_companion_polled,
                                          a);
  }
  return G_SOURCE_CONTINUE;
}

static void
judge(AmActions *m, AmAction *a, AmSample *sample)
{
  double since_s = (g_get_real_time() - a->sent_us) / 1e6;
  g_autofree char *seen = NULL;
  AmConfirmVerdict v = am_action_confirm(&a->req.request, a->before, sample, since_s, &seen);
  if (v == AM_CONFIRM_YES) {
    finish(m, a, AM_ACTION_CONFIRMED, seen);
  } else if (v == AM_CONFIRM_NEVER) {
    g_autofree char *text =
        g_strdup_printf("the firmware accepted it, but %s: no poll can show it", seen);
    finish(m, a, AM_ACTION_NOT_CONFIRMED, text);
  } else {
    g_free(a->message);
    a->message = g_steal_pointer(&seen);
  }
}

static void
on_sample(AmMinerEntry *entry, AmSample *sample, gpointer user_data)
{
  AmActions *m = user_data;
  if (g_hash_table_size(m->confirming) == 0)
    return; /* the usual case: no hashing of the address */
  g_autoptr(GPtrArray) mine = confirming_on(m, am_miner_get_address(entry->miner));
  for (guint i = 0; mine != NULL && i < mine->len; i++) {
    AmAction *a = mine->pdata[i];
    /* Judging an earlier one cannot end this one (only its own verdict or
     * a newer action does), so it is still confirming here. */
    if (a->driver == entry->driver || a->driver == NULL)
      judge(m, a, sample);
  }
}

static void
start_confirming(AmActions *m, AmAction *a, AmMinerEntry *e)
{
  AmActionKind kind = a->req.request.kind;
  a->state = AM_ACTION_CONFIRMING;
  confirming_add(m, a);
  a->sent_us = g_get_real_time();
  guint window_ms = m->config.confirm_timeout_ms != 0 ? m->config.confirm_timeout_ms
                                                      : am_action_confirm_window_s(kind) * 1000;
  if (e != NULL) {
    if (kind == AM_ACTION_PAUSE)
      e->held = TRUE;
    else if (kind == AM_ACTION_RESUME)
      e->held = FALSE;
    else if (kind == AM_ACTION_REBOOT || kind == AM_ACTION_RESTART)
      e->expect_down_until_us = a->sent_us + (gint64)window_ms * 1000;
    am_scheduler_poll_now(m->scheduler, e);
  }
  a->deadline_id = g_timeout_add(window_ms, on_deadline, a);
  a->follow_id = g_timeout_add(m->config.confirm_poll_ms, on_follow, a);
}

/* ---- sending ------------------------------------------------------------ */

/* The driver that was called, for its act_finish(). */
typedef struct {
  AmAction *action;
  AmInstance *driver;
} SendCall;

static void
on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  SendCall *call = user_data;
  AmAction *a = call->action;
  AmInstance *inst = call->driver;
  g_free(call);
  AmActions *m = a->owner;
  m->in_flight--;
  g_autoptr(GError) error = NULL;
  if (!inst->info->vtable.driver->act_finish(inst->self, result, &error)) {
    finish(m, a, AM_ACTION_FAILED, error->message);
    return;
  }
  start_confirming(m, a, am_scheduler_lookup(m->scheduler, a->address));
}

void
am_actions_start(AmActions *m, AmAction *a)
{
  AmMinerEntry *e = am_scheduler_find(m->scheduler, a->address);
  if (e == NULL) {
    finish(m, a, AM_ACTION_FAILED, "the miner is no longer known");
    return;
  }
  int code;
  g_autofree char *why = refusal(m, e, a->req.request.kind, &code);
  if (why != NULL) {
    finish(m, a, AM_ACTION_FAILED, why);
    return;
  }
  /* A newer action on the same miner replaces one still being confirmed. */
  g_autoptr(GPtrArray) older = confirming_on(m, a->address);
  for (guint i = 0; older != NULL && i < older->len; i++) {
    g_autofree char *text = g_strdup_printf("superseded by %s", a->id);
    finish(m, older->pdata[i], AM_ACTION_NOT_CONFIRMED, text);
  }
  AmInstance *inst = acting_driver(m->scheduler, e, a->req.request.kind);
  a->state = AM_ACTION_SENDING;
  g_clear_pointer(&a->before, am_sample_unref);
  a->before = e->latest != NULL ? am_sample_ref(e->latest) : NULL;
  gint64 *now = g_new(gint64, 1);
  *now = g_get_monotonic_time();
  g_hash_table_replace(m->last_use, g_strdup(a->address), now);
  a->cancellable = g_cancellable_new();
  a->driver = inst;
  m->in_flight++;
  SendCall *call = g_new0(SendCall, 1);
  call->action = a;
  call->driver = inst;
  inst->info->vtable.driver->act_async(inst->self, e->miner, &a->req.request, a->cancellable,
                                       on_sent, call);
}

AmAction *
am_actions_create(AmActions *m, const char *key, const AmActionRequest *request, const char *who,
                  const char *fleet_id, gboolean queued, GError **error)
{
  if (!am_action_request_check(request, error))
    return NULL;
  AmMinerEntry *e = am_scheduler_find(m->scheduler, key);
  if (e == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_NOT_FOUND, "no miner %s", key);
    return NULL;
  }
  int code;
  g_autofree char *why = queued ? NULL : refusal(m, e, request->kind, &code);
  if (why != NULL) {
    g_set_error_literal(error, AM_ERROR, code, why);
    return NULL;
  }
  AmAction *a = g_new0(AmAction, 1);
  a->owner = m;
  a->id = am_actions_next_id(m, "a");
  a->address = g_strdup(am_miner_get_address(e->miner));
  a->who = g_strdup(who != NULL ? who : "unknown");
  a->fleet_id = g_strdup(fleet_id);
  am_request_copy_init(&a->req, request);
  a->state = AM_ACTION_QUEUED;
  a->created_us = g_get_real_time();
  g_hash_table_insert(m->by_id, a->id, a);
  am_log_miner(G_LOG_LEVEL_MESSAGE, a->address, "%s: action %s %s by %s", a->address, a->id,
               am_action_kind_to_string(request->kind), a->who);
  if (!queued)
    am_actions_start(m, a);
  return a;
}

/* ---- the public calls --------------------------------------------------- */

JsonNode *
am_actions_submit(AmActions *m, const char *key, const AmActionRequest *request, const char *who,
                  GError **error)
{
  AmAction *a = am_actions_create(m, key, request, who, NULL, FALSE, error);
  return a != NULL ? am_action_to_json(a) : NULL;
}

JsonNode *
am_actions_submit_fleet(AmActions *m, const char *const *keys, guint n_keys,
                        const AmActionRequest *request, guint batch, guint interval_ms,
                        gboolean dry_run, const char *who, GError **error)
{
  if (!am_action_request_check(request, error))
    return NULL;
  if (n_keys == 0) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_CONFIG, "no miners selected");
    return NULL;
  }
  g_autofree char *id = am_actions_next_id(m, "f");
  AmFleetJob *job = am_fleet_job_new(m, id, request, batch, interval_ms, dry_run, who);
  am_actions_keep_job(m, job);
  am_fleet_job_run(job, keys, n_keys);
  return am_fleet_job_to_json(job);
}

JsonNode *
am_actions_get(AmActions *m, const char *id)
{
  AmAction *a = am_actions_lookup(m, id);
  if (a != NULL)
    return am_action_to_json(a);
  AmFleetJob *job = id != NULL ? g_hash_table_lookup(m->jobs, id) : NULL;
  return job != NULL ? am_fleet_job_to_json(job) : NULL;
}
