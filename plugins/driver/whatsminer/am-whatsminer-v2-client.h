/* Whatsminer API v2 writes: one JSON request on one TCP connection
 * (4028), the reply read until the miner closes it or sends a NUL, as
 * cgminer does. The core's RPC transport sends {"command","parameter"}
 * only; the v2 writes need other JSON ({"enc":1,"data":...}), so they go
 * through this small client. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Write replies are short; anything longer is not one. */
#define AM_WHATSMINER_V2_MAX_REPLY (64u * 1024u)

/* Sends @request (the JSON text, as is) to @host:@port and reads the
 * reply, under one deadline of @timeout_ms for connect, write and read.
 * Errors (AM_ERROR, the message starting with "host:port: "): TIMEOUT,
 * REFUSED, RESET (closed without a reply), TOO_LARGE, PARSE. */
void am_whatsminer_v2_call_async(const char *host, guint16 port, GBytes *request, guint timeout_ms,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data);

/* Returns: (transfer full) the reply's root object, or NULL with @error.
 * @sent_out (optional): whether the whole request went out before the
 * exchange ended (a reboot may close the connection before it answers). */
JsonObject *am_whatsminer_v2_call_finish(GAsyncResult *result, gboolean *sent_out, GError **error);

G_END_DECLS
