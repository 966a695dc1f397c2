/* Checks shared by the antminer and antminer-web drivers' actions: the
 * limits of Bitmain's pool settings, whichever way they are written. Pure. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Bitmain firmware keeps three pools, in priority order. */
#define AM_ANTMINER_MAX_POOLS 3

/* TRUE when @request (AM_ACTION_POOLS) holds 1..3 pools, each with a
 * stratum URL ("scheme://host:port") and a worker name, none with a control
 * character; else AM_ERROR_CONFIG saying which pool is wrong and why (never
 * quoting a pool password). */
gboolean am_antminer_check_pools(const AmActionRequest *request, GError **error);

/* TRUE when @mode is "low", "normal" or "high"; else AM_ERROR_CONFIG. */
gboolean am_antminer_check_work_mode(const char *mode, GError **error);

G_END_DECLS
