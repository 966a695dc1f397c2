/* The action manager: takes an action for a miner (from the API, the CLI,
 * later a power plan), checks it may run, sends it through the miner's
 * driver, follows the polls until they show it (am-action-confirm.h), and
 * records the outcome as an "action" event. Fleet jobs apply one action to
 * many miners in timed batches. Everything runs on the main loop.
 *
 * What a caller sees is the action JSON documented in antmon/context.h. */
#pragma once

#include "am-scheduler.h"
#include "am-store-queue.h"
#include <antmon/action.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  guint min_interval_ms;    /* between two actions on one miner */
  guint confirm_timeout_ms; /* 0: each kind's own window */
  guint confirm_poll_ms;    /* how often a confirming miner is polled */
  guint max_kept;           /* finished actions and jobs remembered */
} AmActionsConfig;

/* [actions] in the ini: min_interval (10s), confirm_timeout (0: per kind),
 * confirm_poll (5s). Fails with AM_ERROR_CONFIG naming the key. */
gboolean am_actions_config_read(GKeyFile *kf, AmActionsConfig *out, GError **error);

typedef struct _AmActions AmActions;

/* @store may be NULL (no events then). Both are borrowed and must outlive
 * the manager. */
AmActions *am_actions_new(const AmActionsConfig *config, AmScheduler *scheduler,
                          AmStoreQueue *store);
/* Cancels what is being sent; actions still confirming end as they are. */
void am_actions_free(AmActions *actions);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmActions, am_actions_free)

/* See am_context_action_submit(). (transfer full) */
JsonNode *am_actions_submit(AmActions *actions, const char *key, const AmActionRequest *request,
                            const char *who, GError **error);
/* See am_context_action_submit_fleet(). (transfer full) */
JsonNode *am_actions_submit_fleet(AmActions *actions, const char *const *keys, guint n_keys,
                                  const AmActionRequest *request, guint batch, guint interval_ms,
                                  gboolean dry_run, const char *who, GError **error);
/* An action "a-N" or a job "f-N", or NULL. (transfer full) */
JsonNode *am_actions_get(AmActions *actions, const char *id);

/* What the driver of @entry can do to it now (0 when not identified). */
AmActionSet am_actions_supported(AmScheduler *scheduler, AmMinerEntry *entry);
/* {"supported":[...],"unsupported":{"kind":"why"}}. (transfer full) */
JsonNode *am_actions_miner_json(AmScheduler *scheduler, AmMinerEntry *entry);

/* Checks @request's parameters (watts, mode, pools) before anything is
 * sent. AM_ERROR_CONFIG with what is wrong. */
gboolean am_action_request_check(const AmActionRequest *request, GError **error);

G_END_DECLS
