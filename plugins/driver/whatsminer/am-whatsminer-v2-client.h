/* Whatsminer API v2 writes: one JSON request on one TCP connection
 * (4028), the reply read until the miner closes it or sends a NUL, as
 * cgminer does. The v2 writes are JSON other than {"command","parameter"}
 * ({"enc":1,"data":...}), so they are sent with the core transport's raw
 * entry, am_rpc_send_async() (one deadline over connect, write and read,
 * the RPC reply cap); this reads what came back. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Finishes an am_rpc_send_async() of a v2 request. Returns: (transfer
 * full) the reply's root object, or NULL with @error: the transport's
 * (AM_ERROR TIMEOUT, REFUSED, RESET, TOO_LARGE, PROTOCOL), or PARSE for a
 * reply that is no JSON object, each message starting with @address.
 * @sent_out (optional): whether the whole request went out before the
 * exchange ended (a reboot may close the connection before it answers). */
JsonObject *am_whatsminer_v2_call_finish(GAsyncResult *result, const char *address,
                                         gboolean *sent_out, GError **error);

G_END_DECLS
