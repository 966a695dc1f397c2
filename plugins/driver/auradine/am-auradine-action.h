/* The auradine driver's actions, pure: which actions FluxOS offers, and
 * the exact web request of each. No I/O.
 *
 * FluxOS takes writes on its web API (8080) as POST /<command> with a JSON
 * body that repeats the command, {"command":"<command>",...}, and the
 * header "Token: <token>" from POST /token (the login the poll uses). It
 * answers in the cgminer layout: STATUS "S", or "E" with its Msg.
 *   POST /restart      {"command":"restart"}
 *   POST /mode         {"command":"mode","sleep":"on"|"off"}   pause, resume
 *   POST /mode         {"command":"mode","mode":"custom","tune":"power","power":W}
 *   POST /mode         {"command":"mode","mode":"eco"|"normal"|"turbo"}
 *   POST /led          {"command":"led","code":3|2}            locate on, off
 *   POST /updatepools  {"command":"updatepools","pools":[{"url","user","pass"}]}
 * FluxOS's public API has one restart call and no separate reboot, so
 * reboot is left out. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* The power targets a Teraflux takes: the air-cooled AT2880 and AI3680
 * run at about 3.5 to 8.6 kW, the hydro AH3880 up to about 15 kW. */
#define AM_AURADINE_MIN_WATTS 1000
#define AM_AURADINE_MAX_WATTS 20000

typedef struct {
  const char *command; /* static: "mode"; the path is "/" + command */
  char *body;          /* JSON */
} AmAuradineActionCall;

void am_auradine_action_call_clear(AmAuradineActionCall *call);

/* Restart, pause, resume, power_target, work_mode, locate and pools
 * (@sample may be NULL: FluxOS has them all). */
AmActionSet am_auradine_actions(const AmSample *sample);

/* Errors: AM_ERROR_UNSUPPORTED, AM_ERROR_CONFIG (watts outside
 * AM_AURADINE_MIN_WATTS..MAX, a mode other than low/normal/high, 0 or
 * over 3 pools, a pool without URL or user). */
gboolean am_auradine_action_build(const AmActionRequest *request, AmAuradineActionCall *out,
                                  GError **error);

G_END_DECLS
