/* The poll glue every cgminer-API driver shares: ask a list of commands in
 * one batch (one connection each, as cgminer wants), then hand the replies
 * to the driver's pure parser. Keeps the I/O out of the parsers. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Turns what the poll read (command -> AmRpcReply*; commands that got an
 * API error, or failed, left out) into a sample, or NULL with @error.
 * Runs on a worker thread (antmon/work.h), so it must be pure: read only
 * @replies and build the sample, calling only what antmon/work.h lists. */
typedef AmSample *(*AmDriverParseFunc)(GHashTable *replies, GError **error);

/* Runs @commands (NULL-terminated, static) on @miner one after another and
 * then @parse. Every raw reply is kept for the API's raw view. A command
 * whose reply does not arrive or does not parse leaves the rest standing:
 * the sample is marked partial (am_sample_mark_partial) with "<command>:
 * <why>". The poll fails only when nothing was read (the first command's
 * timeout, refusal or reset fails it at once), when it is cancelled, or
 * when @parse fails (its error then also names the failed commands).
 * @parse runs on the worker pool and the result comes back on the caller's
 * main context; a poll cancelled (or a daemon stopping) before the parse
 * ran fails with G_IO_ERROR_CANCELLED. */
void am_driver_poll_async(AmMiner *miner, const char *const *commands, AmDriverParseFunc parse,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data);

/* Returns: (transfer full) the sample, or NULL with @error (the transport's
 * error, or the parser's prefixed with the miner's address). */
AmSample *am_driver_poll_finish(GAsyncResult *result, GError **error);

/* As am_driver_poll_async() without a parser, for a driver that reads
 * another API after the RPC (Auradine, Goldshell): the same commands, one
 * after another, with the same rules for a command that fails. */
void am_driver_rpc_each_async(AmMiner *miner, const char *const *commands,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);

/* Returns: (transfer full) command -> AmRpcReply* of what was read (API
 * errors left out), or NULL with @error when nothing was read, the poll
 * was cancelled, or the miner did not answer at all. @failed (optional)
 * gets (transfer full) the "<command>: <why>" of each reply that did not
 * arrive or parse; the caller marks its sample partial with them. */
GHashTable *am_driver_rpc_each_finish(GAsyncResult *result, GPtrArray **failed, GError **error);

/* The root object of the reply to @command in a batch result, or NULL when
 * that command was not answered. (transfer none) */
JsonObject *am_driver_reply(GHashTable *replies, const char *command);

G_END_DECLS
