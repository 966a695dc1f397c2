/* Whatsminer API v3: one request on one TCP connection, asynchronously.
 * The framing is in am-whatsminer-v3.c; this file only moves bytes. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Connects to @host:@port, sends @cmd (with @param, or none when NULL) as
 * one v3 frame, reads the 4-byte length and then the body, and closes.
 * @timeout_ms (0: AM_RPC_DEFAULT_TIMEOUT_MS) covers connect, write and read
 * together; @cancellable stops it early. A reply longer than @max_body is
 * refused from its header, before anything is allocated for it, and the
 * body is read in chunks into a buffer that grows only as bytes arrive.
 *
 * Errors (AM_ERROR, the message starting with "host:port: "): TIMEOUT,
 * REFUSED, RESET (closed before or during the reply, with how many bytes
 * came), TOO_LARGE, PARSE (not a v3 frame or not JSON), API (a code other
 * than 0, with its msg). Cancellation is G_IO_ERROR_CANCELLED. */
void am_whatsminer_v3_call_async(const char *host, guint16 port, const char *cmd, const char *param,
                                 guint timeout_ms, gsize max_body, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);

/* As am_whatsminer_v3_call_async(), for a write: sends @frame (a whole
 * request frame, am_whatsminer_v3_encode_node()) and returns the reply
 * whatever its code, so the caller maps the firmware's refusals itself.
 * @what names the request in the debug log (never a token). Finish with
 * am_whatsminer_v3_call_finish(). */
void am_whatsminer_v3_send_async(const char *host, guint16 port, GBytes *frame, const char *what,
                                 guint timeout_ms, gsize max_body, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);

/* TRUE when the whole request of the finished call @result went out (a
 * reboot may close the connection before it answers). */
gboolean am_whatsminer_v3_call_was_sent(GAsyncResult *result);

/* Returns: (transfer full) the reply's root object, or NULL with @error.
 * @raw_out (optional) receives the body bytes that came, good or bad (NULL
 * when none did or the reply was over the cap), for the raw view. */
JsonObject *am_whatsminer_v3_call_finish(GAsyncResult *result, GBytes **raw_out, GError **error);

G_END_DECLS
