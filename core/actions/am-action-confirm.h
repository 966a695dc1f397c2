/* Whether the polls show that an action took effect. Pure: the manager and
 * `antmon action` feed it the sample taken before the action was sent and
 * each sample after, and decide themselves how long to wait. */
#pragma once

#include <antmon/action.h>
#include <antmon/sample.h>

G_BEGIN_DECLS

typedef enum {
  AM_CONFIRM_PENDING = 0, /* not yet: poll again */
  AM_CONFIRM_YES,         /* the sample shows it */
  AM_CONFIRM_NEVER,       /* this firmware does not report what would show it */
} AmConfirmVerdict;

/* Looks at @now, a sample polled @since_sent_s seconds after @request was
 * accepted, against @before (the miner's last sample before it; may be
 * NULL). @seen (optional) receives what @now shows of it, in words, for the
 * outcome ("hashrate 0.00 TH/s, mining paused"). (transfer full) */
AmConfirmVerdict am_action_confirm(const AmActionRequest *request, const AmSample *before,
                                   const AmSample *now, double since_sent_s, char **seen);

/* How long to keep polling before the action is not confirmed: a reboot
 * takes minutes, a light a poll. In seconds. */
guint am_action_confirm_window_s(AmActionKind kind);

/* "host:port" of a pool URL, lower-case, without its scheme
 * ("stratum+tcp://Pool.Example:3333/x" -> "pool.example:3333"), to compare
 * the pools set with the pools a firmware reports. (transfer full) */
char *am_action_pool_key(const char *url);

G_END_DECLS
