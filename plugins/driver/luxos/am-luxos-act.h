/* One LuxOS action, sent over the cgminer-compatible API: [profiles ->]
 * session [-> logon] -> the write command [-> logoff]. LuxOS keeps one
 * session: an open one (the web UI's) is used and left open, else antmon
 * logs on and off around the command. Each call runs under the miner's
 * timeout; replies are not kept in the raw view (they carry the session). */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Sends @request (valid until finish returns) to @miner. Completes when
 * LuxOS accepted the command (STATUS S; for rebootdevice also a
 * connection closed or timed out before the answer: the board went down).
 * Errors: AM_ERROR_CONFIG / AM_ERROR_UNSUPPORTED from the request,
 * AM_ERROR_API "<address>: LuxOS refused <command>: API error <code>:
 * <msg>", and the transport's. */
void am_luxos_act_async(AmMiner *miner, const AmActionRequest *request, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data);
gboolean am_luxos_act_finish(GAsyncResult *result, GError **error);

G_END_DECLS
