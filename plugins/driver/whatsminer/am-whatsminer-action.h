/* Whatsminer write commands (actions): the pure part. Requests are built,
 * signed and encrypted here, and the firmware's replies read, with no I/O,
 * so every byte sent can be asserted in tests. am-whatsminer-act.c sends
 * them.
 *
 * API v2 (TCP 4028, firmware before 2024-11), as pyasic (rpc/btminer.py)
 * and asic-rs (whatsminer/src/backends/v2/rpc.rs) speak it:
 *  1. {"command":"get_token"} answers Msg {time, salt, newsalt};
 *  2. key  = the hash part of MD5-crypt(password, "$1$" salt "$");
 *     sign = the hash part of MD5-crypt(key time, "$1$" newsalt "$");
 *  3. the command {"cmd":C, params..., "token":sign} is AES-256-ECB
 *     encrypted under SHA-256(key), zero-padded to 16 bytes, base64, and
 *     sent as {"enc":1,"data":"..."};
 *  4. the reply {"enc":"..."} decrypts the same way to the usual
 *     {"STATUS":"S","Code":131,"Msg":...}; errors may come in clear.
 *
 * API v3 (TCP 4433, firmware from 2024-11 on), as the vendor's API document
 * 3.0.x describes it (its token section) and asic-rs v3/rpc.rs speaks it:
 * a write carries "ts" (epoch seconds), "account" ("super") and "token",
 * the first 8 characters of base64(SHA-256(cmd password salt ts)), the
 * salt from get.device.info. set.miner.pools sends its param encrypted:
 * AES-256-ECB under that SHA-256 digest, zero-padded, base64. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Power targets outside this range are refused before anything is sent:
 * the family runs from about 2 kW (M20) to about 11 kW (hydro M7x). */
#define AM_WHATSMINER_MIN_WATTS 1000
#define AM_WHATSMINER_MAX_WATTS 12000

#define AM_WHATSMINER_V2_USER "admin" /* v2 has one account */
#define AM_WHATSMINER_V2_DEFAULT_PASSWORD "admin"
#define AM_WHATSMINER_V3_ACCOUNT "super" /* the account that may write */
#define AM_WHATSMINER_V3_DEFAULT_PASSWORD "super"

/* What this driver can do on a unit whose last good sample is @sample
 * (NULL before the first poll: everything the family can). A v3 unit whose
 * get.device.info says system.apiswitch "0" can do nothing until the API
 * is switched on. A v2 unit whose API version is known and below 2.0.5
 * lacks adjust_power_limit (pyasic's api_min_version). Pure. */
AmActionSet am_whatsminer_actions(const AmSample *sample);

/* Checks @request before anything is sent: a known kind, watts within
 * AM_WHATSMINER_MIN/MAX_WATTS, mode low/normal/high, 1..3 pools each with
 * a URL and a user. AM_ERROR_CONFIG says what is wrong. */
gboolean am_whatsminer_action_validate(const AmActionRequest *request, GError **error);

/* ---- API v2 ---- */

/* Returns: (transfer full) the plain command JSON for @request, members in
 * this order: "cmd", its parameters, "token" (@token; left out when NULL).
 * NULL with AM_ERROR_CONFIG for a request that does not validate. */
char *am_whatsminer_v2_command(const AmActionRequest *request, const char *token, GError **error);

/* Reads a get_token reply: Msg.time, Msg.salt and Msg.newsalt (strings of
 * MD5-crypt salt characters). A refusal is mapped as
 * am_whatsminer_v2_check_reply() does. */
gboolean am_whatsminer_v2_read_token(JsonObject *reply, const char *address, char **time_out,
                                     char **salt_out, char **newsalt_out, GError **error);

/* The key and the token (sign) of step 2 above; each the 22-character hash
 * part of an MD5-crypt string. FALSE with AM_ERROR_PARSE when crypt()
 * refuses the salt. */
gboolean am_whatsminer_v2_keys(const char *password, const char *salt, const char *newsalt,
                               const char *time, char **key_out, char **sign_out, GError **error);

/* base64(AES-256-ECB(SHA-256(@key), @plaintext zero-padded)). (transfer full) */
char *am_whatsminer_v2_encrypt(const char *key, const char *plaintext);

/* The inverse: trailing NUL padding removed. NULL with AM_ERROR_PARSE when
 * @data is not base64 of whole AES blocks or does not decrypt to UTF-8. */
char *am_whatsminer_v2_decrypt(const char *key, const char *data, GError **error);

/* Returns: (transfer full) {"enc":1,"data":"<am_whatsminer_v2_encrypt()>"}. */
char *am_whatsminer_v2_envelope(const char *key, const char *plaintext);

/* The reply to an encrypted command: {"enc":"..."} decrypted and parsed,
 * or @reply itself (a reference) when it came in clear. */
JsonObject *am_whatsminer_v2_open_reply(JsonObject *reply, const char *key, GError **error);

/* Checks a v2 reply's STATUS ("S" passes). Refusals, messages starting
 * with @address:
 *  - "can't access write cmd", Code 45 (permission denied): UNSUPPORTED,
 *    telling how to switch the write API on in WhatsMinerTool;
 *  - Code 135 (check token err): AUTH naming @user;
 *  - Code 14 (invalid cmd): UNSUPPORTED;
 *  - anything else: API with the Code and the firmware's Msg. */
gboolean am_whatsminer_v2_check_reply(JsonObject *reply, const char *address, const char *user,
                                      GError **error);

/* ---- API v3 ---- */

/* Returns: (transfer full) the 8-character token of a write of @cmd; the
 * whole SHA-256 digest into @key_out (the AES key of encrypted params). */
char *am_whatsminer_v3_token(const char *cmd, const char *password, const char *salt, gint64 ts,
                             guint8 key_out[32]);

/* Returns: (transfer full) the request object for @request, members
 * "cmd", "ts", "token", "account", then "param" where the command has one
 * (set.miner.pools: encrypted). NULL with AM_ERROR_CONFIG for a request
 * that does not validate. */
JsonNode *am_whatsminer_v3_write_request(const AmActionRequest *request, const char *account,
                                         const char *password, const char *salt, gint64 ts,
                                         GError **error);

/* The salt and the write switch from a get.device.info reply: msg.salt
 * (required: AM_ERROR_API without it) and msg.system.apiswitch, where "0"
 * is AM_ERROR_UNSUPPORTED telling how to switch the API on. */
gboolean am_whatsminer_v3_read_salt(JsonObject *reply, const char *address, char **salt_out,
                                    GError **error);

/* Checks a v3 write reply: code 0 passes; -4 (no permission) is AUTH
 * naming @account; -2 (invalid command) UNSUPPORTED naming @cmd; any other
 * code API with the firmware's msg. Messages start with @address. */
gboolean am_whatsminer_v3_check_write(JsonObject *reply, const char *address, const char *account,
                                      const char *cmd, GError **error);

/* The v3 command an action sends ("set.miner.service", ...). */
const char *am_whatsminer_v3_action_cmd(const AmActionRequest *request);

G_END_DECLS
