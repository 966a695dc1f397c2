/* Whatsminer actions: the I/O. Sends what am-whatsminer-action.c builds,
 * over API v2 (get_token, then the encrypted command) or API v3
 * (get.device.info for the salt, then the signed write). */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Carries out @request on @miner's host at @port, over v3 when @v3, with
 * @password (the caller resolves it: the miner's, the driver's, the
 * factory default). Each of the two exchanges runs under the miner's
 * timeout. Completes when the firmware accepted the command; a reboot (and,
 * on v2, a work mode change, which asic-rs saw go unanswered) also counts
 * as accepted when the miner closes or stays silent after the whole
 * request went out. @request must stay valid until the callback. */
void am_whatsminer_act_async(AmMiner *miner, const AmActionRequest *request, gboolean v3,
                             guint16 port, const char *password, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);

gboolean am_whatsminer_act_finish(GAsyncResult *result, GError **error);

G_END_DECLS
