/* The [http:api] connections: accepted here, not by libsoup, so that their
 * number, the time a request may take to arrive and how long a keep-alive
 * connection may sit idle are ours to limit.
 *
 * Why not soup_server_listen(): libsoup 3.2 (Debian 12 ships 3.2.3) never
 * releases a keep-alive connection that the client closes while it is idle.
 * The message it creates for the next request has no completion callback,
 * so when the read hits EOF nobody disconnects the connection: its socket
 * stays in CLOSE-WAIT and its objects stay in the server's client list for
 * the life of the process, one descriptor per closed connection. Upstream
 * fixed it in 3.3.0 (commit d20c6601, "server: do not leak idle connections
 * closed by the client").
 *
 * The workaround: libsoup only ever carries one request per connection
 * here. A connection is handed to it with soup_server_accept_iostream();
 * once the response is written, a keep-alive connection is taken back with
 * soup_server_message_steal_connection() and waits here, idle, where its
 * EOF or its idle timeout closes it. When the next request's first bytes
 * arrive it is handed to libsoup again as a new connection. A server with
 * no listeners of its own closes every other connection after its one
 * response, so nothing is ever left idle inside libsoup.
 *
 * Requests pipelined behind another (sent before its response arrived)
 * are not supported: libsoup may have buffered them when the connection is
 * taken back. Browsers, curl and Prometheus do not pipeline. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  guint max_connections;    /* open at once, idle ones included */
  guint request_timeout_ms; /* from accept (or the first byte after idle)
                             * until the request's headers and body are in */
  guint idle_timeout_ms;    /* keep-alive; 0: one request per connection */
  GTlsCertificate *tls;     /* (transfer none) or NULL: plain HTTP */
} AmHttpConnLimits;

typedef struct {
  guint open; /* now, idle included */
  guint idle; /* now */
  guint64 accepted;
  guint64 refused;     /* at max_connections with none idle to close */
  guint64 evicted;     /* idle ones closed to make room */
  guint64 timed_out;   /* requests that did not arrive in time */
  guint64 idle_closed; /* idle timeout reached */
} AmHttpConnStats;

typedef struct _AmHttpConns AmHttpConns;

/* Returns: (transfer full). Connects to @soup's request-started. */
AmHttpConns *am_http_conns_new(SoupServer *soup, const AmHttpConnLimits *limits);

/* Listens on @address (port 0: any free port). */
gboolean am_http_conns_listen(AmHttpConns *conns, GSocketAddress *address, GError **error);

/* The address really listened on, or NULL. (transfer none) */
GInetSocketAddress *am_http_conns_get_address(AmHttpConns *conns);

void am_http_conns_get_stats(AmHttpConns *conns, AmHttpConnStats *stats);

/* Call before the message's headers are written: marks the reply
 * "Connection: close" when this connection will not be kept. */
void am_http_conns_prepare_reply(AmHttpConns *conns, SoupServerMessage *msg);

/* Stops listening and closes every connection. Call after
 * soup_server_disconnect() on the server. */
void am_http_conns_free(AmHttpConns *conns);

G_END_DECLS
