/* The probes behind a miner's fingerprint (am-selector.c runs them side by
 * side): GET / on a web port (am-probe-http.c) and one Whatsminer API v3
 * request (am-probe-v3.c). Both complete with what they learnt, never with
 * an error: what a probe could not learn stays unset. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The Whatsminer API v3 port (TCP 4433). */
#define AM_PROBE_V3_PORT 4433

typedef struct {
  gboolean open; /* an HTTP reply arrived */
  guint status;
  char *realm;  /* of WWW-Authenticate */
  char *title;  /* of the page */
  char *body;   /* the start of the page, valid UTF-8 */
  char *server; /* the Server header */
} AmHttpPrint;

void am_http_print_clear(AmHttpPrint *print);
void am_http_print_copy(AmHttpPrint *dest, const AmHttpPrint *src);

/* GET http://@host:@port/ without credentials, within @timeout_ms. */
void am_http_probe_async(const char *host, guint16 port, guint timeout_ms,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data);
/* (transfer none) the probe's result, valid while @result lives. */
const AmHttpPrint *am_http_probe_finish(GAsyncResult *result);

/* Sends one framed "get.device.info" to @host:@port within @timeout_ms. */
void am_v3_probe_async(const char *host, guint16 port, guint timeout_ms, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data);
/* TRUE when a framed JSON object with a "code" came back: Whatsminer API v3. */
gboolean am_v3_probe_finish(GAsyncResult *result);

/* Pure helpers of the HTTP fingerprint, exposed for tests.
 * The realm of a WWW-Authenticate value ('Digest realm="antMiner
 * Configuration", nonce=...'), unescaped, or NULL. (transfer full) */
char *am_http_auth_realm(const char *header);
/* The <title> of the first @len bytes of a page, blanks collapsed, at most
 * 200 bytes, valid UTF-8; NULL when there is none. (transfer full) */
char *am_html_title(const char *html, gsize len);
/* TRUE when @reply (@len bytes) is one v3 frame: a 4-byte little-endian
 * length equal to the rest, holding a JSON object with a "code" member. */
gboolean am_v3_reply_is_valid(const guint8 *reply, gsize len);

/* A "cancelled" handler that cancels @other (a GCancellable). */
void am_cancel_other(GCancellable *cancellable, gpointer other);
/* Undoes g_cancellable_connect(). Not g_cancellable_disconnect(): that
 * waits for a running "cancelled" emission to end, and a cancel can
 * complete our operations synchronously inside that emission, in this very
 * thread, which would wait forever. Everything here runs in one thread, so
 * disconnecting the handler directly is safe. */
void am_cancel_disconnect(GCancellable *cancellable, gulong handler);

G_END_DECLS
