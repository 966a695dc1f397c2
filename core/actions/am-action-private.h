/* One action and one fleet job as the manager keeps them (core/actions/
 * only). */
#pragma once

#include "am-actions.h"

G_BEGIN_DECLS

typedef enum {
  AM_ACTION_QUEUED = 0, /* waiting for its batch */
  AM_ACTION_SENDING,
  AM_ACTION_CONFIRMING,
  AM_ACTION_CONFIRMED,
  AM_ACTION_NOT_CONFIRMED,
  AM_ACTION_FAILED,
} AmActionState;

const char *am_action_state_to_string(AmActionState state);

typedef struct _AmFleetJob AmFleetJob;

/* A deep copy of a request: the manager keeps it while the driver works. */
typedef struct {
  AmActionRequest request;
  char *mode;
  AmPoolSetting *pools;
} AmRequestCopy;

void am_request_copy_init(AmRequestCopy *copy, const AmActionRequest *request);
void am_request_copy_clear(AmRequestCopy *copy);
/* The request's parameters for the API and the events: never a password.
 * (transfer full) a JSON object. */
JsonNode *am_request_params_json(const AmActionRequest *request);

typedef struct {
  AmActions *owner;
  char *id;      /* "a-N" */
  char *address; /* the miner's key */
  char *who;
  char *fleet_id; /* or NULL */
  AmRequestCopy req;
  AmActionState state;
  char *message;
  gint64 created_us, sent_us, finished_us; /* wall clock; 0: not yet */
  AmSample *before;                        /* the latest sample when sent */
  GCancellable *cancellable;
  /* The driver that carried it out: when it is not the one polling the
   * miner (a web companion), it also polls for the confirmation, since the
   * other may not read what shows it (the light, the mode). */
  gpointer driver; /* AmInstance* (borrowed) */
  gboolean polling;
  guint deadline_id;
  guint follow_id; /* the next follow-up poll */
} AmAction;

/* The action as antmon/context.h describes it. (transfer full) */
JsonNode *am_action_to_json(const AmAction *action);
gboolean am_action_is_done(const AmAction *action);

/* ---- the manager's side, for fleet jobs (am-action-fleet.c) ----------- */

/* Why @kind cannot run on the miner @key now (an AM_ERROR code in @code),
 * or NULL when it can. (transfer full) */
char *am_actions_why_not(AmActions *actions, const char *key, AmActionKind kind, int *code);
/* Creates and starts (or, @queued, only creates) an action; fails as
 * am_actions_submit() does. (transfer none: the manager owns it) */
AmAction *am_actions_create(AmActions *actions, const char *key, const AmActionRequest *request,
                            const char *who, const char *fleet_id, gboolean queued, GError **error);
void am_actions_start(AmActions *actions, AmAction *action);
AmAction *am_actions_lookup(AmActions *actions, const char *id);
/* A new id with @prefix ("a", "f"). (transfer full) */
char *am_actions_next_id(AmActions *actions, const char *prefix);
/* Keeps @job (transfer full) so am_actions_get() finds it. */
void am_actions_keep_job(AmActions *actions, AmFleetJob *job);

/* ---- fleet jobs (am-action-fleet.c) ------------------------------------ */

AmFleetJob *am_fleet_job_new(AmActions *actions, const char *id, const AmActionRequest *request,
                             guint batch, guint interval_ms, gboolean dry_run, const char *who);
void am_fleet_job_free(AmFleetJob *job);
const char *am_fleet_job_id(const AmFleetJob *job);
/* Adds the miners, then starts the first batch (unless a dry run). */
void am_fleet_job_run(AmFleetJob *job, const char *const *keys, guint n_keys);
JsonNode *am_fleet_job_to_json(AmFleetJob *job);

G_END_DECLS
