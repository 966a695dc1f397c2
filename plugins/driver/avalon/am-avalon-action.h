/* The avalon driver's actions, pure: which actions Canaan's cgminer offers
 * on this miner, the exact RPC command and parameter of each, and how its
 * answers are read. No I/O.
 *
 * Canaan's cgminer takes writes on the RPC port (4028) without a login,
 * as long as its api-allow grants this host W: access:
 *   restart                      restart cgminer (the mining process)
 *   ascset 0,reboot,0            reboot the controller
 *   ascset 0,softoff,1:<ts>      standby from unix time <ts> (pause)
 *   ascset 0,softon,1:<ts>       wake from standby at <ts> (resume)
 *   ascset 0,workmode,set,<n>    0 low, 1 normal, 2 high
 *   ascset 0,led,1-1 | 1-0       the locate light on | off
 * The power target is left out: the two public libraries disagree on what
 * `worklevel,set` takes (watts, or a level 0..2), so no request is sure. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Standby starts this many seconds after the request, as pyasic does, so a
 * controller clock a little behind ours still sees a time to come. */
#define AM_AVALON_SOFT_DELAY_S 5

typedef struct {
  const char *command; /* "restart", "ascset": static */
  char *parameter;     /* NULL for none */
} AmAvalonActionCall;

void am_avalon_action_call_clear(AmAvalonActionCall *call);

/* Reboot, restart and locate on every Avalon; pause and resume where the
 * stats report SoftOFF[] (x_avalon_softoff), work_mode where they report
 * WORKMODE[]. @sample NULL (never polled): all of them. */
AmActionSet am_avalon_actions(const AmSample *sample);

/* Fills @out for @request; @now_s is the unix time (softoff/softon).
 * Errors: AM_ERROR_UNSUPPORTED (an action left out), AM_ERROR_CONFIG (a
 * work mode other than low, normal, high). */
gboolean am_avalon_action_build(const AmActionRequest *request, gint64 now_s,
                                AmAvalonActionCall *out, GError **error);

/* Reads the reply of an accepted RPC call (STATUS S or I). ascset answers
 * "ASC 0 set OK" (S) or "ASC 0 set info: success softoff:<ts>" (I); an
 * option the firmware lacks gets its help list ("set info: help|...").
 * Errors: AM_ERROR_UNSUPPORTED (help list: no such option here),
 * AM_ERROR_API (anything else, with the firmware's Msg). */
gboolean am_avalon_action_check(const AmAvalonActionCall *call, JsonObject *reply, GError **error);

/* Maps a failed RPC call of @kind to what the operator needs: "Access
 * denied" (Code 45) becomes AM_ERROR_UNSUPPORTED naming api-allow; the
 * connection closed without an answer is success for restart, reboot and
 * resume (cgminer goes down, and softon closes it, before answering) and
 * returns NULL. @error is taken. @address prefixes new messages. */
GError *am_avalon_action_map_error(AmActionKind kind, const char *address, gboolean empty_reply,
                                   GError *error);

G_END_DECLS
