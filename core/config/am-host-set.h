/* A set of miner addresses as an operator writes it in antmon.ini:
 * CIDRs (10.0.0.0/16, fd00:1::/64), ranges (10.0.1.10-10.0.1.99), single
 * addresses, and globs on the host text (10.0.2.*, rack1-*.farm).
 *
 * Written once, asked often: every CIDR, range and address is parsed to
 * numbers when added, so asking whether a host is in the set compares
 * integers (and runs the globs) without parsing the set again. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AmHostSet AmHostSet;

AmHostSet *am_host_set_new(void);
void am_host_set_free(AmHostSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmHostSet, am_host_set_free)

/* What am_host_set_add() accepts, for "expected ..." messages. */
#define AM_HOST_SET_EXPECTED                                                                       \
  "a CIDR (10.0.0.0/16, fd00::/64), a range (10.0.1.10-10.0.1.99), an address, a host name or a "  \
  "glob of letters, digits, '.', ':', '-', '_', '*' and '?' (10.0.2.*)"

/* Adds one item. FALSE when @item is none of the forms above, or is a CIDR
 * with bits set past its prefix (10.0.1.5/16), or a range that runs
 * backwards or mixes IPv4 and IPv6. */
gboolean am_host_set_add(AmHostSet *set, const char *item);
gboolean am_host_set_is_empty(const AmHostSet *set);

/* One host, parsed once to be checked against many sets. */
typedef struct {
  gboolean is_v4, is_v6; /* an IPv4-mapped IPv6 address is both */
  guint32 v4;            /* host byte order */
  guint8 v6[16];
  char *text; /* lower case, without [ ] */
} AmHostKey;

void am_host_key_init(AmHostKey *key, const char *host);
void am_host_key_clear(AmHostKey *key);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AmHostKey, am_host_key_clear)

gboolean am_host_set_contains(const AmHostSet *set, const AmHostKey *key);

G_END_DECLS
