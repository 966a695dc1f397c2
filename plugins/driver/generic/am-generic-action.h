/* The generic driver's one action, pure: restart over the cgminer API.
 * cgminer's `restart` (no parameter) restarts the mining process; it needs
 * W: access in api-allow, and answers {"STATUS":"RESTART"} before it goes
 * down (or closes the connection first). Nothing else is offered: a
 * firmware the generic driver reads has no known write commands. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_GENERIC_RESTART_COMMAND "restart"

/* Restart only, whatever @sample (may be NULL) shows. */
AmActionSet am_generic_actions(const AmSample *sample);

/* The RPC command of @kind ("restart"; it takes no parameter), or NULL
 * with AM_ERROR_UNSUPPORTED. */
const char *am_generic_action_command(AmActionKind kind, GError **error);

/* What a failed call of `restart` means. Returns NULL (accepted) when
 * cgminer closed without an answer or answered the bare "RESTART" its API
 * writes (@raw, may be NULL); "Access denied" (Code 45) becomes
 * AM_ERROR_UNSUPPORTED naming api-allow; else @error itself. Takes @error;
 * @address prefixes new messages. */
GError *am_generic_action_map_error(const char *address, GBytes *raw, GError *error);

G_END_DECLS
