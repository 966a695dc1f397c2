/* The epic driver's actions, pure: which actions ePIC's PowerPlay API
 * offers, the exact request of each and how its answer is read. No I/O.
 *
 * PowerPlay takes writes as POST with a JSON body on the same port as its
 * reads (4028); the web password travels in the body, {"password":...},
 * next to the command's "param". It answers {"result":true} or
 * {"result":false,"error":"..."}:
 *   POST /reboot      {"param":"0"}              reboot the control board
 *   POST /softreboot  {}                         restart the mining software
 *   POST /miner       {"param":"Stop"}           stop hashing (Idling)
 *   POST /miner       {"param":"Autostart"}      start again
 *   POST /identify    {"param":true|false}       the locate light
 *   POST /coin        {"param":{"coin":"Btc","stratum_configs":[...],
 *                               "unique_id":false}}   the pool list
 * The power target is left out: /perpetualtune/algo needs the tuner's
 * throttle settings too, and none is set by a single number. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_EPIC_DEFAULT_PASSWORD "letmein"
/* PowerPlay has one account; its web page calls it root. */
#define AM_EPIC_WEB_USER "root"

typedef struct {
  const char *path; /* static; the method is always POST */
  char *body;       /* JSON, with the password: never log or show it */
} AmEpicActionCall;

void am_epic_action_call_clear(AmEpicActionCall *call);

/* Reboot, restart, pause, resume, locate and pools on every PowerPlay
 * release antmon reads (@sample may be NULL). */
AmActionSet am_epic_actions(const AmSample *sample);

/* Fills @out for @request with @password in the body.
 * Errors: AM_ERROR_UNSUPPORTED, AM_ERROR_CONFIG (0 or over 3 pools, a pool
 * without URL or user). */
gboolean am_epic_action_build(const AmActionRequest *request, const char *password,
                              AmEpicActionCall *out, GError **error);

/* Reads a 2xx answer: {"result":true}, or an empty body or object, is
 * accepted. {"result":false,"error":E}: AM_ERROR_AUTH when E speaks of
 * the password, else AM_ERROR_API with E. Anything else that is not JSON:
 * AM_ERROR_PARSE. Messages name the path, never the body. */
gboolean am_epic_action_check(const char *path, const char *data, gsize len, GError **error);

G_END_DECLS
