/* Confirming an action from the polls that follow it: each kind has its own
 * evidence (uptime for a reboot, the mining state or a hashrate near zero
 * for a pause, the reported limit or draw for a power target, ...). */
#include "am-action-confirm.h"

#include <math.h>
#include <string.h>

/* Under this share of the hashrate before, a miner without a mining state
 * counts as stopped. */
#define PAUSED_HASHRATE_SHARE 0.05
/* A power limit within this share (or POWER_SLACK_W) of the target has been
 * taken; a measured draw within POWER_DRAW_SHARE follows it. */
#define POWER_LIMIT_SHARE 0.02
#define POWER_SLACK_W 10.0
#define POWER_DRAW_SHARE 0.10
/* Seconds a reboot may be reported late: the poll that sees the new uptime
 * can come a little after the reboot was accepted. */
#define UPTIME_SLACK_S 5.0

guint
am_action_confirm_window_s(AmActionKind kind)
{
  switch (kind) {
  case AM_ACTION_REBOOT:
    return 600; /* control boards take 2-5 minutes, hashboards longer */
  case AM_ACTION_RESTART:
  case AM_ACTION_POWER_TARGET:
    return 300; /* the mining process restarts, power ramps */
  case AM_ACTION_PAUSE:
  case AM_ACTION_RESUME:
  case AM_ACTION_WORK_MODE:
  case AM_ACTION_POOLS:
    return 180;
  default:
    return 120;
  }
}

static char *
describe_mining(const AmSample *now)
{
  const char *state = am_mining_state_name(now->mining);
  if (isnan(now->hashrate_ths))
    return g_strdup_printf("mining %s", state != NULL ? state : "not reported");
  return g_strdup_printf("hashrate %.2f TH/s, mining %s", now->hashrate_ths,
                         state != NULL ? state : "not reported");
}

static AmConfirmVerdict
confirm_uptime(const AmSample *before, const AmSample *now, double since_sent_s, char **seen)
{
  if (now->elapsed_s == AM_UNKNOWN) {
    *seen = g_strdup("the firmware does not report its uptime");
    return AM_CONFIRM_NEVER;
  }
  if (before != NULL && before->elapsed_s != AM_UNKNOWN)
    *seen = g_strdup_printf("uptime %" G_GINT64_FORMAT " s (was %" G_GINT64_FORMAT " s)",
                            now->elapsed_s, before->elapsed_s);
  else
    *seen = g_strdup_printf("uptime %" G_GINT64_FORMAT " s", now->elapsed_s);
  /* Started again since the action was sent: younger than the time since. */
  if ((double)now->elapsed_s <= since_sent_s + UPTIME_SLACK_S)
    return AM_CONFIRM_YES;
  if (before != NULL && before->elapsed_s != AM_UNKNOWN && now->elapsed_s < before->elapsed_s)
    return AM_CONFIRM_YES;
  return AM_CONFIRM_PENDING;
}

static gboolean
is_stopped(AmMiningState state)
{
  return state == AM_MINING_PAUSED || state == AM_MINING_SLEEPING;
}

static AmConfirmVerdict
confirm_pause(const AmSample *before, const AmSample *now, char **seen)
{
  *seen = describe_mining(now);
  if (is_stopped(now->mining))
    return AM_CONFIRM_YES;
  if (now->mining != AM_MINING_UNKNOWN || isnan(now->hashrate_ths))
    return AM_CONFIRM_PENDING;
  /* No mining state: a hashrate near zero is the evidence. */
  double was = before != NULL ? before->hashrate_ths : NAN;
  double floor_ths = isnan(was) || was <= 0 ? 0.0 : was * PAUSED_HASHRATE_SHARE;
  return now->hashrate_ths <= floor_ths ? AM_CONFIRM_YES : AM_CONFIRM_PENDING;
}

static AmConfirmVerdict
confirm_resume(const AmSample *now, char **seen)
{
  *seen = describe_mining(now);
  if (now->mining == AM_MINING_HASHING || now->mining == AM_MINING_STARTING)
    return AM_CONFIRM_YES;
  if (now->mining != AM_MINING_UNKNOWN || isnan(now->hashrate_ths))
    return AM_CONFIRM_PENDING;
  return now->hashrate_ths > 0 ? AM_CONFIRM_YES : AM_CONFIRM_PENDING;
}

static AmConfirmVerdict
confirm_power(const AmActionRequest *request, const AmSample *now, char **seen)
{
  double target = request->watts;
  if (!isnan(now->power_limit_w)) {
    *seen = g_strdup_printf("power limit %.0f W", now->power_limit_w);
    double slack = MAX(POWER_SLACK_W, target * POWER_LIMIT_SHARE);
    return fabs(now->power_limit_w - target) <= slack ? AM_CONFIRM_YES : AM_CONFIRM_PENDING;
  }
  if (now->power_source == AM_POWER_SOURCE_REPORTED && !isnan(now->power_w)) {
    *seen = g_strdup_printf("drawing %.0f W (no limit reported)", now->power_w);
    return fabs(now->power_w - target) <= target * POWER_DRAW_SHARE ? AM_CONFIRM_YES
                                                                    : AM_CONFIRM_PENDING;
  }
  *seen = g_strdup("the firmware reports neither its power limit nor its draw");
  return AM_CONFIRM_NEVER;
}

static AmConfirmVerdict
confirm_work_mode(const AmActionRequest *request, const AmSample *now, char **seen)
{
  if (now->work_mode == NULL) {
    *seen = g_strdup("the firmware does not report its work mode");
    return AM_CONFIRM_NEVER;
  }
  *seen = g_strdup_printf("work mode %s", now->work_mode);
  return g_ascii_strcasecmp(now->work_mode, request->mode) == 0 ? AM_CONFIRM_YES
                                                                : AM_CONFIRM_PENDING;
}

static AmConfirmVerdict
confirm_locate(const AmActionRequest *request, const AmSample *now, char **seen)
{
  if (now->locate == AM_UNKNOWN) {
    *seen = g_strdup("the firmware does not report its light");
    return AM_CONFIRM_NEVER;
  }
  *seen = g_strdup_printf("light %s", now->locate ? "on" : "off");
  return (now->locate != 0) == (request->on != 0) ? AM_CONFIRM_YES : AM_CONFIRM_PENDING;
}

char *
am_action_pool_key(const char *url)
{
  if (url == NULL)
    return g_strdup("");
  const char *start = strstr(url, "://");
  start = start != NULL ? start + 3 : url;
  gsize len = strcspn(start, "/?#");
  g_autofree char *key = g_strndup(start, len);
  return g_ascii_strdown(key, -1);
}

static gboolean
pool_matches(const AmPoolSetting *want, const AmPool *have)
{
  g_autofree char *a = am_action_pool_key(want->url);
  g_autofree char *b = am_action_pool_key(have->url);
  if (strcmp(a, b) != 0)
    return FALSE;
  /* Some firmware report no user; the URL then has to do. */
  return have->user == NULL || g_strcmp0(want->user, have->user) == 0;
}

static AmConfirmVerdict
confirm_pools(const AmActionRequest *request, const AmSample *now, char **seen)
{
  GPtrArray *pools = now->pools;
  if (pools == NULL || pools->len == 0) {
    *seen = g_strdup("no pools reported");
    return AM_CONFIRM_PENDING;
  }
  const AmPool *first = pools->pdata[0];
  *seen = g_strdup_printf("%u pool%s, first %s", pools->len, pools->len == 1 ? "" : "s",
                          first->url != NULL ? first->url : "(no url)");
  if (pools->len < request->n_pools)
    return AM_CONFIRM_PENDING;
  for (guint i = 0; i < request->n_pools; i++)
    if (!pool_matches(&request->pools[i], pools->pdata[i]))
      return AM_CONFIRM_PENDING;
  return AM_CONFIRM_YES;
}

AmConfirmVerdict
am_action_confirm(const AmActionRequest *request, const AmSample *before, const AmSample *now,
                  double since_sent_s, char **seen)
{
  g_autofree char *words = NULL;
  AmConfirmVerdict verdict = AM_CONFIRM_PENDING;
  switch (request->kind) {
  case AM_ACTION_REBOOT:
  case AM_ACTION_RESTART:
    verdict = confirm_uptime(before, now, since_sent_s, &words);
    break;
  case AM_ACTION_PAUSE:
    verdict = confirm_pause(before, now, &words);
    break;
  case AM_ACTION_RESUME:
    verdict = confirm_resume(now, &words);
    break;
  case AM_ACTION_POWER_TARGET:
    verdict = confirm_power(request, now, &words);
    break;
  case AM_ACTION_WORK_MODE:
    verdict = confirm_work_mode(request, now, &words);
    break;
  case AM_ACTION_LOCATE:
    verdict = confirm_locate(request, now, &words);
    break;
  case AM_ACTION_POOLS:
    verdict = confirm_pools(request, now, &words);
    break;
  default:
    words = g_strdup("not an action");
    verdict = AM_CONFIRM_NEVER;
  }
  if (seen != NULL)
    *seen = g_steal_pointer(&words);
  return verdict;
}
