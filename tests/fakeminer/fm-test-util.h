/* Helpers the fake's own tests share (test-fakeminer, test-fakeminer-
 * actions): what a client computes or reads from a fake miner's replies,
 * written here independently of the fake, never with libantmon. */
#pragma once

#include <json-glib/json-glib.h>

/* Where a test fleet listens: 127.<base>.<octet>.N, the RPC on @port and
 * the other protocols on the ports after it (port + 2 is the demo
 * fleet's, so it stays free). */
typedef struct {
  guint octet;
  guint16 port;
  guint16 http_port; /* port + 3: Bitaxe, ePIC, Braiins REST, the stock CGI */
  guint16 v3_port;   /* port + 4: Whatsminer API v3 */
  guint16 web_port;  /* port + 5: [http:web], Auradine's API */
} FmTestNet;

/* A random octet (1..249) and RPC port (20000..59999), and the ports
 * after it. Another run (or the ASan build) may hold them: a fake that
 * cannot bind means try another pick. */
void fm_test_net_pick(FmTestNet *net);

/* The Authorization header line (with its CRLF) for RFC 7616 digest MD5
 * qop=auth, answering the realm and nonce of @challenge (a 401's head). */
char *fm_test_digest_header(const char *challenge, const char *user, const char *password,
                            const char *method, const char *uri);

/* The node at @path ("STATUS/0/Msg": object members and array indexes) of
 * the JSON @text; aborts the test, naming the path, when there is none.
 * (transfer full) */
JsonNode *fm_test_json_at(const char *text, const char *path);
