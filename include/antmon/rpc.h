/* The CGMiner API transport, shared by every driver.
 *
 * One request per TCP connection, as cgminer does: send
 * {"command":"C","parameter":"P"}, read until EOF or NUL under one hard
 * deadline for connect and read together, refuse replies over a size cap
 * (never allocating what the peer claims), repair the known firmware JSON
 * defects, parse, and check STATUS. am_rpc_send_async() is the same
 * exchange for any request body (Whatsminer's encrypted writes), without
 * the JSON part. Since ABI 1.4 the repairs, the parse and the STATUS check
 * of a reply over 2 KiB run on the worker pool (antmon/work.h), off the
 * main loop (a shorter one costs less to parse than to hand over); the
 * callback still runs on the caller's main context. */
#pragma once

#include <antmon/miner.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AM_RPC_DEFAULT_PORT 4028
#define AM_RPC_DEFAULT_TIMEOUT_MS 10000
#define AM_RPC_DEFAULT_MAX_REPLY (4u * 1024u * 1024u)

typedef struct _AmRpcReply AmRpcReply;

/* Calls @command (a single command, or "a+b" multi-command) with optional
 * @parameter (NULL for none) on @host:@port. @timeout_ms covers connect and
 * read; 0 means AM_RPC_DEFAULT_TIMEOUT_MS. Errors (AM_ERROR): TIMEOUT,
 * REFUSED, RESET, TOO_LARGE, PARSE (message quotes the first bytes), API
 * (message carries the STATUS Code and Msg). */
void am_rpc_call_async(const char *host, guint16 port, const char *command, const char *parameter,
                       guint timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data);
/* Returns: (transfer full) the reply, or NULL with @error set. When the
 * reply arrived but did not parse, @raw_out (optional) still receives the
 * bytes that came. */
AmRpcReply *am_rpc_call_finish(GAsyncResult *result, GBytes **raw_out, GError **error);

/* Since ABI 1.3. The transport under am_rpc_call_async(), for a request
 * that is not {"command","parameter"}: sends @request byte for byte to
 * @host:@port and reads the reply until the peer closes or sends a NUL,
 * under the same deadline (@timeout_ms over connect, write and read; 0
 * means AM_RPC_DEFAULT_TIMEOUT_MS) and the same size cap
 * (am_rpc_set_max_reply()). Errors (AM_ERROR, the message starting with
 * "host:port: "): TIMEOUT, REFUSED, RESET (closed without a byte of reply),
 * TOO_LARGE, PROTOCOL (the port answered HTTP); cancellation by
 * @cancellable is G_IO_ERROR_CANCELLED. A connection reset after part of
 * a reply ends the reply there. */
void am_rpc_send_async(const char *host, guint16 port, GBytes *request, guint timeout_ms,
                       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
/* Since ABI 1.3. Returns: (transfer full) the reply bytes as received (the
 * NUL included when one came; am_rpc_parse() takes them as they are), or
 * NULL with @error set. */
GBytes *am_rpc_send_finish(GAsyncResult *result, GError **error);
/* Since ABI 1.3. Whether the whole request went out before the exchange
 * ended, good or bad: a miner that reboots on a command may close the
 * connection before it answers. Either side of am_rpc_send_finish(). */
gboolean am_rpc_send_was_sent(GAsyncResult *result);

/* As am_rpc_call_async() with @miner's address and timeout; the raw reply
 * (good or bad) is stored on @miner for the API's raw view. */
void am_miner_rpc_async(AmMiner *miner, const char *command, const char *parameter,
                        GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data);
AmRpcReply *am_miner_rpc_finish(AmMiner *miner, GAsyncResult *result, GError **error);

/* Calls each of @commands (NULL-terminated) on @miner one after another,
 * one connection each as cgminer wants, under the miner's timeout each.
 * A command answered with an API error (STATUS E, access denied) is left out
 * of the result so drivers can treat it as "not supported"; a transport
 * error (timeout, refused, reset, too large, unparseable) fails the batch. */
void am_miner_rpc_batch_async(AmMiner *miner, const char *const *commands,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);
/* Returns: (transfer full) command -> AmRpcReply*, or NULL with @error. */
GHashTable *am_miner_rpc_batch_finish(AmMiner *miner, GAsyncResult *result, GError **error);

/* Sets the reply size cap for this process (default AM_RPC_DEFAULT_MAX_REPLY). */
void am_rpc_set_max_reply(gsize max_bytes);

AmRpcReply *am_rpc_reply_ref(AmRpcReply *reply);
void am_rpc_reply_unref(AmRpcReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmRpcReply, am_rpc_reply_unref)

/* The whole parsed reply. (transfer none) */
JsonObject *am_rpc_reply_get_root(AmRpcReply *reply);
/* The bytes as received (NUL included); for a command's part of a joined
 * reply (am_miner_rpc_joined_finish()), its own reply as JSON text. (transfer none) */
GBytes *am_rpc_reply_get_raw(AmRpcReply *reply);

/* The reply object for @command: for a multi-command reply, the first
 * element of root[@command] after checking its own STATUS; for a
 * single-command reply, the root. NULL with @error (API or PARSE) when that
 * section is missing or its STATUS is E/F. (transfer none) */
JsonObject *am_rpc_reply_get_section(AmRpcReply *reply, const char *command, GError **error);

/* Pure helpers (no I/O), exposed for tests, fuzzing and the HTTP CGI driver. */

/* Applies the firmware repairs (trailing NUL, "}{", raw newlines, ",}",
 * "[,{", inf/nan, a truncated tail, ...) to @len bytes of @data.
 * Returns: (transfer full) NUL-terminated repaired text; *out_len its length. */
char *am_rpc_repair(const char *data, gsize len, gsize *out_len);

/* Repairs and parses @len bytes. Returns: (transfer full) the root object
 * node, or NULL with AM_ERROR_PARSE quoting the first bytes. */
JsonNode *am_rpc_parse(const char *data, gsize len, GError **error);

/* Checks a reply object's STATUS (array, or the CGI layout's object; a
 * missing STATUS passes). E and F (access denied, Code 45, included) become
 * AM_ERROR_API whose message carries the Code and Msg. */
gboolean am_rpc_check_status(JsonObject *reply, GError **error);

/* ---- ABI 1.4: fewer round trips ------------------------------------------ */

/* Since ABI 1.4. Asks @commands (NULL-terminated, at least two, report
 * commands without parameters) in one connection as cgminer's joined
 * command "a+b+c", under the miner's timeout. The raw view keeps each
 * command's part under the command's own name, as if it had been asked
 * alone. Errors: the transport's (as am_miner_rpc_async()); AM_ERROR_API
 * when the firmware refused the joined command as a whole (a STATUS E at
 * the top: "Invalid command" from a firmware without it); AM_ERROR_PARSE
 * when the reply is not cgminer's joined layout or lacks a command's
 * member (the caller then asks the commands one by one). */
void am_miner_rpc_joined_async(AmMiner *miner, const char *const *commands,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
/* Since ABI 1.4. Returns: (transfer full) command -> AmRpcReply* whose root
 * is that command's own reply (its STATUS not checked: a command the
 * firmware refused has its own STATUS E there, see am_rpc_check_status()),
 * or NULL with @error. */
GHashTable *am_miner_rpc_joined_finish(AmMiner *miner, GAsyncResult *result, GError **error);

/* Since ABI 1.4. What a driver remembers about @miner between polls, kept by
 * the core with the miner (so it lives as long as the miner, whichever
 * plugin instance polls it). Safe from any thread.
 *
 * Keeps @reply (a ref; NULL forgets) as the miner's kept reply @key, e.g.
 * the "version" fingerprint that need not be asked on every poll. */
void am_miner_keep_reply(AmMiner *miner, const char *key, AmRpcReply *reply);
/* Since ABI 1.4. Returns: (transfer full) the reply kept under @key, or
 * NULL; @kept_at_us (optional) gets when it was kept (monotonic clock). */
AmRpcReply *am_miner_get_kept_reply(AmMiner *miner, const char *key, gint64 *kept_at_us);
/* Since ABI 1.4. A short text remembered under @key (NULL forgets): what was
 * learnt of the firmware ("joined commands work"), the last uptime seen. */
void am_miner_set_note(AmMiner *miner, const char *key, const char *value);
/* Since ABI 1.4. Returns: (transfer full) the note @key, or NULL. */
char *am_miner_dup_note(AmMiner *miner, const char *key);

G_END_DECLS
