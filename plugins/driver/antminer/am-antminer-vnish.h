/* VNish's web API for the actions the cgminer API cannot do, pure: which
 * units have it, the exact paths and bodies, and how to read the answers.
 * am-antminer-vnish-act.c sends them. From VNish's OpenAPI document (v1.2.6
 * to v1.3.4, base /api/v1) and asic-rs's VNish backend:
 *
 *   POST /api/v1/unlock {"pw":PASSWORD}  -> {"token":"..."}  (403: wrong)
 *   then with "Authorization: Bearer TOKEN":
 *   pause   POST /api/v1/mining/pause
 *   resume  POST /api/v1/mining/resume
 *   reboot  POST /api/v1/system/reboot   -> {"after":3}
 *   locate  POST /api/v1/find-miner {"on":BOOL} -> {"on":BOOL}
 *
 * find-miner is a toggle on the firmwares documented (they take no body and
 * answer the new state), so the answer is read and a second call made when
 * the light went the other way. VNish has no user name: only a password
 * (factory "admin"). */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_ANTMINER_VNISH_UNLOCK_PATH "/api/v1/unlock"
#define AM_ANTMINER_VNISH_DEFAULT_PASSWORD "admin"
#define AM_ANTMINER_VNISH_DEFAULT_PORT 80

/* Whether @sample (NULL: not polled yet) is a VNish unit. */
gboolean am_antminer_is_vnish(const AmSample *sample);

/* reboot, pause, resume and locate: what VNish's web API adds. */
AmActionSet am_antminer_vnish_actions(void);

/* The path of @kind's call, or NULL when VNish's web API does not do it. */
const char *am_antminer_vnish_path(AmActionKind kind);

/* (transfer full) {"pw":"..."} with @password escaped as JSON. */
char *am_antminer_vnish_unlock_body(const char *password);

/* (transfer full) the body of @request's call: {"on":true|false} for
 * locate, NULL (none) for the rest. */
char *am_antminer_vnish_body(const AmActionRequest *request);

/* (transfer full) the token of an unlock answer, or NULL with
 * AM_ERROR_PARSE naming @address when it has none. */
char *am_antminer_vnish_token(const char *address, GBytes *reply, GError **error);

/* Reads the light state a find-miner answer reports ({"on":BOOL}, or
 * {"is_enabled":BOOL} as /locate-miner says it). FALSE when the answer
 * says nothing about it (empty, null, no such member). */
gboolean am_antminer_vnish_light(GBytes *reply, gboolean *on);

G_END_DECLS
