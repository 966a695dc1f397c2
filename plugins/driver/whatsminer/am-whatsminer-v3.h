/* Whatsminer API v3 (btminer firmware from 2024-11 on): the framing codec.
 * Pure functions, no I/O: am-whatsminer-v3-client.c does the socket work.
 *
 * The wire format, as 256foundation/asic-rs speaks it (FIRMWARE-NOTES-2
 * section 1.3): TCP 4433, one request per connection. Each message, in both
 * directions, is a 4-byte little-endian length followed by that many bytes
 * of JSON. A request is {"cmd":"get.device.info"} or
 * {"cmd":"get.miner.status","param":"summary"}; a reply is
 * {"code":0,"msg":{...},"desc":"<cmd>","when":<epoch>}, where a code other
 * than 0 is an error whose msg is a string. Reads need no login. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_WHATSMINER_V3_DEFAULT_PORT 4433
#define AM_WHATSMINER_V3_HEADER_SIZE 4
/* The same cap as the RPC transport's default (antmon/rpc.h): a reply
 * claiming more is refused before anything is allocated for it. */
#define AM_WHATSMINER_V3_MAX_BODY AM_RPC_DEFAULT_MAX_REPLY

/* Returns: (transfer full) one request frame: the length header, then
 * {"cmd":@cmd} or, when @param is not NULL, {"cmd":@cmd,"param":@param}. */
GBytes *am_whatsminer_v3_encode(const char *cmd, const char *param);

/* Returns: (transfer full) one request frame holding @root (any JSON, a
 * write's object with its token and param). */
GBytes *am_whatsminer_v3_encode_node(JsonNode *root);

/* Reads the 4-byte little-endian header at @header into *@body_len.
 * Fails with AM_ERROR_TOO_LARGE when the length is over @max_body and with
 * AM_ERROR_PARSE when it is 0 (an empty frame holds no reply). */
gboolean am_whatsminer_v3_body_length(const guint8 *header, gsize max_body, guint32 *body_len,
                                      GError **error);

/* Parses @len bytes of a frame's body (through the RPC transport's repairs,
 * so a trailing NUL or a stray newline does not matter).
 * Returns: (transfer full) the root object, or NULL with AM_ERROR_PARSE
 * quoting the first bytes (also when the JSON is not an object). */
JsonObject *am_whatsminer_v3_parse_body(const char *body, gsize len, GError **error);

/* Decodes one whole frame held in @len bytes of @data: header, then body.
 * Bytes after the frame's body are ignored. Errors: AM_ERROR_PARSE for a
 * short frame (fewer than 4 header bytes, or fewer body bytes than the
 * header says, both numbers in the message), an empty frame or a body that
 * is not a JSON object; AM_ERROR_TOO_LARGE for a length over @max_body.
 * Returns: (transfer full) the reply's root object. */
JsonObject *am_whatsminer_v3_decode(const guint8 *data, gsize len, gsize max_body, GError **error);

/* Checks a reply's "code": 0 passes. Another code is AM_ERROR_API with the
 * code and the reply's msg (or desc) in the message; a reply with no
 * integer code is AM_ERROR_PARSE (not a v3 reply). */
gboolean am_whatsminer_v3_check(JsonObject *reply, GError **error);

G_END_DECLS
