/* The "IP report" datagrams miners broadcast when the IP Report button is
 * pressed: a pure parser (no I/O, no state), for the plugin, the tests and
 * the fuzzer.
 *
 * The formats (see README.md for where each fact comes from) are told
 * apart by their content alone, so a datagram is understood on whatever
 * port it arrives. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  AM_IPREPORT_ANTMINER = 1, /* "IP,MAC" (UDP 14235; also Braiins OS, VNish) */
  AM_IPREPORT_WHATSMINER,   /* "IP:<ip>MAC:<mac>" (UDP 8888) */
  AM_IPREPORT_ICERIVER,     /* "addr:<ip>" (UDP 11503), no MAC */
  AM_IPREPORT_GOLDSHELL,    /* JSON with ip, mac, model, boxsn (UDP 1314) */
  AM_IPREPORT_AURADINE,     /* JSON "command":"ipreport" (UDP 12345) */
  AM_IPREPORT_ELPHAPEX,     /* "DG_IPREPORT_ONLY" (UDP 9999): only the sender */
  AM_IPREPORT_IPOLLO,       /* "IP Addr:[<ip>] MAC Addr:[<mac>] ..." (UDP 54321) */
} AmIpreportFamily;

typedef enum {
  AM_IPREPORT_OK,      /* @out is filled */
  AM_IPREPORT_IGNORED, /* known traffic that is not a report (an "OK" ack) */
  AM_IPREPORT_INVALID, /* not a report: @error says why */
} AmIpreportResult;

/* One report. Empty strings where the datagram does not say. */
typedef struct {
  AmIpreportFamily family;
  char ip[16];  /* dotted IPv4 the miner gives as its own, canonical */
  char mac[18]; /* "aa:bb:cc:dd:ee:ff" */
  char hostname[64];
  char model[64];
  char serial[64];
} AmIpreport;

/* Parses one datagram of @len bytes (not NUL-terminated). Trailing NULs
 * and whitespace are ignored. */
AmIpreportResult am_ipreport_parse(const guint8 *data, gsize len, AmIpreport *out, GError **error);

/* "antminer", "whatsminer", ... (for logs and stats). */
const char *am_ipreport_family_name(AmIpreportFamily family);

/* TRUE for a dotted IPv4 literal a miner can have: not 0.0.0.0/8,
 * multicast, or broadcast. Writes the canonical form to @out (16 bytes). */
gboolean am_ipreport_parse_ipv4(const char *text, gsize len, char out[16]);

G_END_DECLS
