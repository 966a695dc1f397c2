/* LuxOS actions: the write commands of its cgminer-compatible API and the
 * session they need, built without I/O. am-luxos.c sends them: "session"
 * (the one open session, if any) or "logon", then the command with the
 * session id first in its parameter, then "logoff" when antmon opened the
 * session. What confirms each action is in README.md next to this file. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Power targets antmon sends: LuxOS runs on Antminers (S9 to S21 hydro);
 * this only catches typos, the profile list bounds the rest. */
#define AM_LUXOS_MIN_WATTS 100u
#define AM_LUXOS_MAX_WATTS 20000u

/* The profile LuxOS ships as the model's stock tune: work_mode "normal". */
#define AM_LUXOS_DEFAULT_PROFILE "default"

/* The actions LuxOS carries out (@sample may be NULL; every LuxOS build
 * with sessions has the same write commands). */
AmActionSet am_luxos_actions(const AmSample *sample);

/* One RPC write: the command and its parameter, "<session>,<args>". */
typedef struct {
  const char *command; /* static */
  char *parameter;
} AmLuxosWrite;

/* Builds the command for @request in session @sid. @profile is the
 * profile to set for AM_ACTION_POWER_TARGET (from am_luxos_pick_profile()),
 * else ignored. Errors: AM_ERROR_CONFIG (bad values), AM_ERROR_UNSUPPORTED
 * (work_mode low or high; pools, which take am_luxos_pool_writes()). */
gboolean am_luxos_action_build(const AmActionRequest *request, const char *sid, const char *profile,
                               AmLuxosWrite *out, GError **error);
void am_luxos_write_clear(AmLuxosWrite *write);

/* AM_ACTION_POOLS as LuxOS edits pools, one at a time, in the format of
 * its cgminer-compatible pool commands (no session id in the parameter):
 * addpool "url,user,pass" for each new pool, switchpool to the first new
 * one (index @old_count), then removepool "0" @old_count times. The miner
 * is never left without a pool. @request must have passed
 * am_luxos_action_validate(). Returns: (transfer full) AmLuxosWrite array
 * that clears its elements. */
GArray *am_luxos_pool_writes(const AmActionRequest *request, guint old_count);

/* Checks @request's values without building it (watts range, work mode,
 * 1..3 pools with a url and no comma in any field).
 * Errors as am_luxos_action_build(). */
gboolean am_luxos_action_validate(const AmActionRequest *request, GError **error);

/* From a "profiles" reply: the profile with the most Watts that is not
 * over @watts (LuxOS has no watt target; its profiles carry their
 * nominal watts). Errors: AM_ERROR_CONFIG when every profile draws more,
 * AM_ERROR_PARSE when the reply lists none. Returns: (transfer full). */
char *am_luxos_pick_profile(JsonObject *profiles, guint watts, GError **error);

/* SESSION[0].SessionID of a "session" or "logon" reply, or NULL when
 * there is none (empty: no session open). Returns: (transfer full). */
char *am_luxos_session_id(JsonObject *reply);

G_END_DECLS
