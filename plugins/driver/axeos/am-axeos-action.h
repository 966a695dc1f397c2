/* The axeos driver's actions, pure: which actions AxeOS (ESP-Miner) offers
 * and the exact HTTP requests that carry them out. No I/O, so the requests
 * are asserted in tests without a server.
 *
 * ESP-Miner's write API has no login (like its read API) and two calls:
 *   POST  /api/system/restart   restarts the ESP32: the whole unit, which
 *                               is also the only way to restart mining;
 *   PATCH /api/system {...}     stores settings in flash; stratum settings
 *                               take effect at the next start, so a pool
 *                               change is followed by the restart.
 * No pause, no locate light, no power target (only frequency and core
 * voltage) and no work modes: those actions are left out. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_AXEOS_RESTART_PATH "/api/system/restart"
#define AM_AXEOS_SYSTEM_PATH "/api/system"

/* One HTTP request of an action. */
typedef struct {
  const char *method; /* "POST", "PATCH": static literals */
  const char *path;   /* static */
  char *body;         /* JSON, or NULL for none */
} AmAxeosActionCall;

void am_axeos_action_call_free(AmAxeosActionCall *call);

/* The actions every AxeOS unit takes: reboot, restart and pools. @sample
 * (may be NULL) does not change the answer: every ESP-Miner release since
 * 2.0 has both calls. */
AmActionSet am_axeos_actions(const AmSample *sample);

/* Splits a pool URL into what AxeOS stores: the bare host and the port.
 * "stratum+tcp://host:port" or "host:port"; AxeOS speaks plain stratum,
 * so another scheme, a missing or bad port, or an empty host is
 * AM_ERROR_CONFIG. */
gboolean am_axeos_split_pool_url(const char *url, char **host_out, guint16 *port_out,
                                 GError **error);

/* The requests that carry out @request, in order.
 * Errors: AM_ERROR_UNSUPPORTED (an action AxeOS lacks), AM_ERROR_CONFIG (a
 * bad request: no pool, more than two, a bad URL, no user).
 * Returns: (transfer full) (element-type AmAxeosActionCall) or NULL. */
GPtrArray *am_axeos_action_build(const AmActionRequest *request, GError **error);

G_END_DECLS
