/* A set of miner addresses (see am-host-set.h).
 *
 * Every numeric form is kept as an inclusive range of its family: a CIDR
 * is its first..last address, an address is itself. So one comparison
 * answers all three, and IPv6 compares as 16 big-endian bytes (memcmp). */
#include "am-host-set.h"
#include <arpa/inet.h>
#include <string.h>

typedef struct {
  guint32 lo, hi;
} RangeV4;

typedef struct {
  guint8 lo[16], hi[16];
} RangeV6;

struct _AmHostSet {
  GArray *v4;       /* RangeV4 */
  GArray *v6;       /* RangeV6 */
  GPtrArray *globs; /* GPatternSpec*, lower case, on the host text */
};

AmHostSet *
am_host_set_new(void)
{
  AmHostSet *set = g_new0(AmHostSet, 1);
  set->v4 = g_array_new(FALSE, FALSE, sizeof(RangeV4));
  set->v6 = g_array_new(FALSE, FALSE, sizeof(RangeV6));
  set->globs = g_ptr_array_new_with_free_func((GDestroyNotify)g_pattern_spec_free);
  return set;
}

void
am_host_set_free(AmHostSet *set)
{
  if (set == NULL)
    return;
  g_array_unref(set->v4);
  g_array_unref(set->v6);
  g_ptr_array_unref(set->globs);
  g_free(set);
}

gboolean
am_host_set_is_empty(const AmHostSet *set)
{
  return set->v4->len == 0 && set->v6->len == 0 && set->globs->len == 0;
}

/* ---- parsing ----------------------------------------------------------- */

/* An address literal: 4 for IPv4 (into @v4, host order), 6 for IPv6 (into
 * @v6), 0 for neither. glibc's inet_pton refuses leading zeros in IPv4
 * ("010"), which some tools read as octal. */
static int
parse_address(const char *text, guint32 *v4, guint8 v6[16])
{
  struct in_addr a4;
  if (inet_pton(AF_INET, text, &a4) == 1) {
    *v4 = g_ntohl(a4.s_addr);
    return 4;
  }
  return inet_pton(AF_INET6, text, v6) == 1 ? 6 : 0;
}

/* The prefix length after '/': 0..@max digits only. */
static gboolean
parse_prefix(const char *text, guint max, guint *out)
{
  if (text[0] == '\0' || strspn(text, "0123456789") != strlen(text) || strlen(text) > 3)
    return FALSE;
  *out = (guint)g_ascii_strtoull(text, NULL, 10);
  return *out <= max;
}

/* 10.0.0.0/16 or fd00::/64; the address must have no bits past the prefix,
 * since 10.0.1.5/16 is more likely a typo than a way to write 10.0.0.0/16. */
static gboolean
add_cidr(AmHostSet *set, const char *item, const char *slash)
{
  g_autofree char *address = g_strndup(item, slash - item);
  guint32 v4 = 0;
  guint8 v6[16];
  guint prefix;
  int family = parse_address(address, &v4, v6);
  if (family == 4 && parse_prefix(slash + 1, 32, &prefix)) {
    guint32 mask = prefix == 0 ? 0 : G_MAXUINT32 << (32 - prefix);
    if ((v4 & ~mask) != 0)
      return FALSE;
    RangeV4 r = {v4, v4 | ~mask};
    g_array_append_val(set->v4, r);
    return TRUE;
  }
  if (family == 6 && parse_prefix(slash + 1, 128, &prefix)) {
    RangeV6 r;
    for (guint i = 0; i < 16; i++) {
      guint bits = CLAMP((int)prefix - 8 * (int)i, 0, 8);
      guint8 mask = bits == 0 ? 0 : (guint8)(0xFF << (8 - bits));
      if ((v6[i] & ~mask) != 0)
        return FALSE;
      r.lo[i] = v6[i];
      r.hi[i] = v6[i] | (guint8)~mask;
    }
    g_array_append_val(set->v6, r);
    return TRUE;
  }
  return FALSE;
}

/* FIRST-LAST of one family, FIRST <= LAST; or a single address (@dash NULL). */
static gboolean
add_range(AmHostSet *set, const char *first, const char *last)
{
  guint32 lo4 = 0, hi4 = 0;
  guint8 lo6[16], hi6[16];
  int family = parse_address(first, &lo4, lo6);
  int last_family = last != NULL ? parse_address(last, &hi4, hi6) : family;
  if (last == NULL) {
    hi4 = lo4;
    memcpy(hi6, lo6, sizeof hi6);
  }
  if (family == 0 || family != last_family)
    return FALSE;
  if (family == 4) {
    RangeV4 r = {lo4, hi4};
    if (r.lo > r.hi)
      return FALSE;
    g_array_append_val(set->v4, r);
  } else {
    RangeV6 r;
    memcpy(r.lo, lo6, sizeof r.lo);
    memcpy(r.hi, hi6, sizeof r.hi);
    if (memcmp(r.lo, r.hi, sizeof r.lo) > 0)
      return FALSE;
    g_array_append_val(set->v6, r);
  }
  return TRUE;
}

/* A glob, or a plain host name (a glob without wildcards). Only the
 * characters of host names and address literals, so that a stray '/' or
 * ',' (another list separator) is reported rather than never matching. */
static gboolean
add_glob(AmHostSet *set, const char *item)
{
  static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789.:-_*?";
  if (item[0] == '\0' || strspn(item, allowed) != strlen(item))
    return FALSE;
  /* Without a wildcard, digits and dots or a colon mean an address that did
   * not parse (300.1.1.1, 10.0.1, fd00::g): report it instead of matching
   * no host. */
  gboolean wildcard = strpbrk(item, "*?") != NULL;
  if (!wildcard && (strspn(item, "0123456789.") == strlen(item) || strchr(item, ':') != NULL))
    return FALSE;
  g_autofree char *lower = g_ascii_strdown(item, -1);
  g_ptr_array_add(set->globs, g_pattern_spec_new(lower));
  return TRUE;
}

gboolean
am_host_set_add(AmHostSet *set, const char *item)
{
  g_return_val_if_fail(set != NULL && item != NULL, FALSE);
  if (strpbrk(item, "*?") != NULL)
    return add_glob(set, item);
  const char *slash = strchr(item, '/');
  if (slash != NULL)
    return add_cidr(set, item, slash);

  const char *dash = strchr(item, '-');
  if (dash != NULL) {
    /* Host names have dashes too: a range only if it starts with an address. */
    g_autofree char *first = g_strndup(item, dash - item);
    guint32 v4;
    guint8 v6[16];
    if (parse_address(first, &v4, v6) != 0)
      return add_range(set, first, dash + 1);
    return add_glob(set, item);
  }
  guint32 v4;
  guint8 v6[16];
  if (parse_address(item, &v4, v6) != 0)
    return add_range(set, item, NULL);
  return add_glob(set, item);
}

/* ---- matching ---------------------------------------------------------- */

void
am_host_key_init(AmHostKey *key, const char *host)
{
  memset(key, 0, sizeof *key);
  gsize len = strlen(host);
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
    key->text = g_ascii_strdown(host + 1, (gssize)len - 2);
  else
    key->text = g_ascii_strdown(host, -1);

  int family = parse_address(key->text, &key->v4, key->v6);
  key->is_v4 = family == 4;
  key->is_v6 = family == 6;
  /* ::ffff:10.0.0.1 is 10.0.0.1 reached over an IPv6 socket. */
  static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (key->is_v6 && memcmp(key->v6, mapped, sizeof mapped) == 0) {
    key->is_v4 = TRUE;
    key->v4 = (guint32)key->v6[12] << 24 | (guint32)key->v6[13] << 16 | (guint32)key->v6[14] << 8 |
              key->v6[15];
  }
}

void
am_host_key_clear(AmHostKey *key)
{
  g_clear_pointer(&key->text, g_free);
}

static gboolean
contains_v4(const AmHostSet *set, guint32 address)
{
  for (guint i = 0; i < set->v4->len; i++) {
    const RangeV4 *r = &g_array_index(set->v4, RangeV4, i);
    if (r->lo <= address && address <= r->hi)
      return TRUE;
  }
  return FALSE;
}

static gboolean
contains_v6(const AmHostSet *set, const guint8 address[16])
{
  for (guint i = 0; i < set->v6->len; i++) {
    const RangeV6 *r = &g_array_index(set->v6, RangeV6, i);
    if (memcmp(r->lo, address, 16) <= 0 && memcmp(address, r->hi, 16) <= 0)
      return TRUE;
  }
  return FALSE;
}

gboolean
am_host_set_contains(const AmHostSet *set, const AmHostKey *key)
{
  if (key->is_v4 && contains_v4(set, key->v4))
    return TRUE;
  if (key->is_v6 && contains_v6(set, key->v6))
    return TRUE;
  for (guint i = 0; i < set->globs->len; i++)
    if (g_pattern_spec_match_string(set->globs->pdata[i], key->text))
      return TRUE;
  return FALSE;
}
