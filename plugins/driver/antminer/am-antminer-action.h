/* The antminer (RPC) driver's actions, pure: which ones a unit supports,
 * the exact cgminer commands for each, and how to read the answers. The
 * module (am-antminer-act.c) only sends what these build.
 *
 *   restart  restart
 *   pools    pools (to count), addpool "url,user,pass" per pool,
 *            switchpool <first new>, removepool 0 per old pool
 *
 * cgminer obeys these only from hosts its api-allow gives W: access; stock
 * Bitmain images allow reads only, so the usual answer is "Access denied",
 * which becomes AM_ERROR_UNSUPPORTED saying how to enable writes. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* One cgminer command with its parameter (NULL for none). */
typedef struct {
  char *command;
  char *parameter;
} AmAntminerRpcWrite;

void am_antminer_rpc_write_free(AmAntminerRpcWrite *write);

/* restart and pools on every Antminer firmware read over 4028 (stock,
 * Hiveon, VNish, Blissz): whether api-allow lets them through shows only
 * when they are tried. Units whose version says VNish add reboot, pause,
 * resume and locate (its web API, am-antminer-vnish.h). @sample may be
 * NULL. */
AmActionSet am_antminer_actions(const AmSample *sample);

/* The cgminer API's check: TRUE for restart, and for pools with 1..3 sane
 * pools; AM_ERROR_CONFIG for bad pools, AM_ERROR_UNSUPPORTED (saying what
 * to use instead) for the rest. (VNish's kinds never come here.) */
gboolean am_antminer_check_request(const AmActionRequest *request, GError **error);

/* "url,user,pass" with ',' and '\' escaped by '\' as cgminer's addpool
 * reads them; a missing password is "x". (transfer full) */
char *am_antminer_addpool_parameter(const AmPoolSetting *pool);

/* The commands that replace @old_count pools by @request's: add the new
 * ones (they land after the old ones, at ids old_count..), switch to the
 * first new one, then remove id 0 @old_count times (cgminer renumbers the
 * rest down after each removal). (transfer full) AmAntminerRpcWrite*. */
GPtrArray *am_antminer_pool_writes(const AmActionRequest *request, guint old_count);

/* Judges the outcome of one write: @rpc_error is what the transport said
 * (NULL when the reply parsed with a good STATUS), @raw the bytes that
 * came. "Access denied" (Code 45) becomes AM_ERROR_UNSUPPORTED naming the
 * command and api-allow; cgminer's answer to restart ({"RESTART"...}, not
 * JSON) is success; any other API error is AM_ERROR_API with the
 * firmware's message. Messages start with @address. */
gboolean am_antminer_judge_write(const char *address, const char *command, const GError *rpc_error,
                                 GBytes *raw, GError **error);

G_END_DECLS
