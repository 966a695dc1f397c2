/* The pure half of the cidr discovery plugin: what ranges= and exclude=
 * mean, as a set of IPv4 addresses (plus single IPv6 hosts). No I/O.
 *
 * Syntax of one item (items separated by ';', ',' or white space):
 *   10.0.0.0/24          CIDR; for prefixes up to /30 the network and
 *                        broadcast addresses are left out
 *   10.0.0.1-10.0.3.20   a range of whole addresses, both ends included
 *   10.1-2.1.1-50        octet ranges: each octet N or N-M (or *), every
 *                        combination (10.1.1.1..50 and 10.2.1.1..50)
 *   10.0.0.7             one host
 *   fd00::7              one IPv6 host (IPv6 networks cannot be swept)
 * In exclude= a CIDR means every address in it, network and broadcast too. */
#pragma once

#include <glib.h>
#include <ifaddrs.h>

G_BEGIN_DECLS

/* The most hosts one set may hold whatever max_hosts says (a /8). */
#define AM_RANGE_HARD_MAX_HOSTS (1u << 24)

/* One run of IPv4 addresses in host byte order, both ends included. */
typedef struct {
  guint32 first;
  guint32 last;
} AmIpSpan;

typedef struct {
  GArray *spans;   /* AmIpSpan: sorted, disjoint, never touching */
  GArray *before;  /* guint64: hosts in the spans before spans[i] */
  GPtrArray *ipv6; /* char*: canonical IPv6 literals, sorted, unique */
  guint64 n_hosts; /* IPv4 hosts + IPv6 hosts */
} AmRangeSet;

/* Parses @ranges minus @exclude (either may be NULL or empty). Fails with
 * AM_ERROR_CONFIG naming the item and what was expected, or saying how many
 * hosts the ranges cover when that is more than @max_hosts.
 * Returns: (transfer full) the set. */
AmRangeSet *am_range_set_parse(const char *ranges, const char *exclude, guint64 max_hosts,
                               GError **error);
void am_range_set_free(AmRangeSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmRangeSet, am_range_set_free)

/* The @index-th host (0 <= @index < n_hosts): IPv4 hosts in address order,
 * then the IPv6 ones, written to @buf as text.
 * Returns: @buf. */
char *am_range_set_nth(const AmRangeSet *set, guint64 index, char *buf, gsize buf_len);

/* TRUE when @host (an address literal) is in the set. */
gboolean am_range_set_contains(const AmRangeSet *set, const char *host);

/* The set as "a-b;c;..." (IPv4 spans, then IPv6 hosts), for messages and
 * tests. Returns: (transfer full). */
char *am_range_set_to_string(const AmRangeSet *set);

/* ranges=auto: the IPv4 networks of the interfaces in @list that are up,
 * not loopback and not point-to-point, as a ranges= string. A network wider
 * than /@widest_prefix is narrowed to the /24 around the interface address
 * (a farm on a /16 lists it by hand); link-local 169.254/16 is skipped.
 * Pure: the caller got @list from getifaddrs().
 * Returns: (transfer full) possibly empty. */
char *am_range_auto_from_ifaddrs(const struct ifaddrs *list, guint widest_prefix);

G_END_DECLS
