/* ranges= and exclude=: text to a set of addresses. Pure, so it is tested
 * table-driven and fuzzed (tests/fuzz: fuzz-cidr-range). */
#include "am-cidr-range.h"

#include <antmon/error.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* One octet item expands into one span per combination of its first three
 * octets; past this many the item is refused rather than materialised. */
#define MAX_SPANS_PER_ITEM 65536u

static const char item_syntax[] =
    "expected a CIDR (10.0.0.0/24), a range (10.0.0.1-10.0.0.50), octet ranges "
    "(10.0.1-2.1-50) or one address";

/* ---- small parsers ----------------------------------------------------- */

/* A decimal number of at most 3 digits, 0..255, no sign, no leading zero
 * (inet_aton reads "010" as octal: better to refuse than to guess). */
static gboolean
parse_octet(const char *text, gsize len, guint *out)
{
  if (len == 0 || len > 3 || (len > 1 && text[0] == '0'))
    return FALSE;
  guint value = 0;
  for (gsize i = 0; i < len; i++) {
    if (!g_ascii_isdigit(text[i]))
      return FALSE;
    value = value * 10 + (guint)(text[i] - '0');
  }
  if (value > 255)
    return FALSE;
  *out = value;
  return TRUE;
}

/* "N", "N-M" or "*". */
static gboolean
parse_octet_range(const char *text, gsize len, guint *lo, guint *hi)
{
  if (len == 1 && text[0] == '*') {
    *lo = 0, *hi = 255;
    return TRUE;
  }
  const char *dash = memchr(text, '-', len);
  if (dash == NULL) {
    if (!parse_octet(text, len, lo))
      return FALSE;
    *hi = *lo;
    return TRUE;
  }
  gsize left = (gsize)(dash - text);
  return parse_octet(text, left, lo) && parse_octet(dash + 1, len - left - 1, hi) && *lo <= *hi;
}

/* A strict dotted quad: four plain octets. */
static gboolean
parse_quad(const char *text, gsize len, guint32 *out)
{
  guint32 value = 0;
  int parts = 0;
  gsize start = 0;
  for (gsize i = 0; i <= len; i++) {
    if (i < len && text[i] != '.')
      continue;
    guint octet;
    if (parts == 4 || !parse_octet(text + start, i - start, &octet))
      return FALSE;
    value = (value << 8) | octet;
    parts++;
    start = i + 1;
  }
  if (parts != 4)
    return FALSE;
  *out = value;
  return TRUE;
}

static void
format_ipv4(guint32 addr, char *buf, gsize len)
{
  g_snprintf(buf, len, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
             addr & 0xff);
}

/* ---- items ------------------------------------------------------------- */

typedef struct {
  GArray *spans;   /* AmIpSpan, unsorted while parsing */
  GPtrArray *ipv6; /* char* */
  guint64 raw_hosts;
} Parsed;

static void
add_span(Parsed *p, guint32 first, guint32 last)
{
  AmIpSpan span = {first, last};
  g_array_append_val(p->spans, span);
  p->raw_hosts += (guint64)last - first + 1;
}

/* Fails when @item alone covers more than @max_hosts, before anything is
 * materialised: a /8 by mistake costs one message, not 16 M spans. */
static gboolean
check_item_size(const char *item, guint64 hosts, guint64 max_hosts, GError **error)
{
  if (hosts <= max_hosts)
    return TRUE;
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
              "'%s' covers %" G_GUINT64_FORMAT " hosts, more than max_hosts=%" G_GUINT64_FORMAT
              ": narrow the range (a /16 is 65534 hosts) or raise max_hosts",
              item, hosts, max_hosts);
  return FALSE;
}

static gboolean
parse_cidr(Parsed *p, const char *item, const char *slash, gboolean trim_ends, guint64 max_hosts,
           GError **error)
{
  guint32 base;
  if (!parse_quad(item, (gsize)(slash - item), &base)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "'%s': %s", item, item_syntax);
    return FALSE;
  }
  const char *bits_text = slash + 1;
  gsize bits_len = strlen(bits_text);
  guint bits = 0;
  gboolean ok = bits_len > 0 && bits_len <= 2 && !(bits_len == 2 && bits_text[0] == '0');
  for (gsize i = 0; ok && i < bits_len; i++) {
    ok = g_ascii_isdigit(bits_text[i]);
    bits = bits * 10 + (guint)(bits_text[i] - '0');
  }
  if (!ok || bits > 32) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "'%s': the prefix length must be 0 to 32", item);
    return FALSE;
  }
  guint32 mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
  guint32 first = base & mask;
  guint32 last = first | ~mask;
  /* A /31 or /32 has no network or broadcast address to leave out. */
  if (trim_ends && bits <= 30)
    first++, last--;
  if (!check_item_size(item, (guint64)last - first + 1, max_hosts, error))
    return FALSE;
  add_span(p, first, last);
  return TRUE;
}

static gboolean
parse_full_range(Parsed *p, const char *item, const char *dash, guint64 max_hosts, GError **error)
{
  guint32 first, last;
  if (!parse_quad(item, (gsize)(dash - item), &first) ||
      !parse_quad(dash + 1, strlen(dash + 1), &last)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "'%s': %s", item, item_syntax);
    return FALSE;
  }
  if (first > last) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "'%s': the range ends before it starts (write the lower address first)", item);
    return FALSE;
  }
  if (!check_item_size(item, (guint64)last - first + 1, max_hosts, error))
    return FALSE;
  add_span(p, first, last);
  return TRUE;
}

/* "10.1-2.1.1-50" and plain "10.0.0.7". Returns FALSE without @error set
 * when @item does not have four dot-separated octet ranges. */
static gboolean
parse_octets(Parsed *p, const char *item, guint64 max_hosts, gboolean *matched, GError **error)
{
  guint lo[4], hi[4];
  int parts = 0;
  gsize start = 0, len = strlen(item);
  *matched = FALSE;
  for (gsize i = 0; i <= len; i++) {
    if (i < len && item[i] != '.')
      continue;
    if (parts == 4 || !parse_octet_range(item + start, i - start, &lo[parts], &hi[parts]))
      return FALSE;
    parts++;
    start = i + 1;
  }
  if (parts != 4)
    return FALSE;
  *matched = TRUE;
  guint64 prefixes = (guint64)(hi[0] - lo[0] + 1) * (hi[1] - lo[1] + 1) * (hi[2] - lo[2] + 1);
  guint64 hosts = prefixes * (hi[3] - lo[3] + 1);
  if (!check_item_size(item, hosts, max_hosts, error))
    return FALSE;
  if (prefixes > MAX_SPANS_PER_ITEM) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "'%s' splits into %" G_GUINT64_FORMAT " separate runs, more than %u: write it "
                "as CIDRs or whole-address ranges",
                item, prefixes, MAX_SPANS_PER_ITEM);
    return FALSE;
  }
  for (guint a = lo[0]; a <= hi[0]; a++)
    for (guint b = lo[1]; b <= hi[1]; b++)
      for (guint c = lo[2]; c <= hi[2]; c++) {
        guint32 prefix = (a << 24) | (b << 16) | (c << 8);
        add_span(p, prefix | lo[3], prefix | hi[3]);
      }
  return TRUE;
}

static gboolean
parse_ipv6(Parsed *p, const char *item, GError **error)
{
  const char *slash = strchr(item, '/');
  g_autofree char *addr = g_strndup(item, slash != NULL ? (gsize)(slash - item) : strlen(item));
  struct in6_addr a6;
  if (inet_pton(AF_INET6, addr, &a6) != 1) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "'%s': %s", item, item_syntax);
    return FALSE;
  }
  if (slash != NULL && !g_str_equal(slash, "/128")) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "'%s': IPv6 networks are too large to sweep; list IPv6 miners one by one "
                "(or find them with [discovery:mdns])",
                item);
    return FALSE;
  }
  char canonical[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &a6, canonical, sizeof canonical);
  g_ptr_array_add(p->ipv6, g_strdup(canonical));
  p->raw_hosts++;
  return TRUE;
}

static gboolean
parse_item(Parsed *p, const char *item, gboolean is_exclude, guint64 max_hosts, GError **error)
{
  if (strchr(item, ':') != NULL)
    return parse_ipv6(p, item, error);
  const char *slash = strchr(item, '/');
  if (slash != NULL)
    return parse_cidr(p, item, slash, !is_exclude, max_hosts, error);
  gboolean matched = FALSE;
  if (parse_octets(p, item, max_hosts, &matched, error))
    return TRUE;
  if (matched)
    return FALSE; /* octet form, but too big: @error says why */
  const char *dash = strchr(item, '-');
  if (dash != NULL && strchr(dash + 1, '-') == NULL)
    return parse_full_range(p, item, dash, max_hosts, error);
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "'%s': %s", item, item_syntax);
  return FALSE;
}

/* Splits @text on ';', ',' and white space and parses every item. */
static gboolean
parse_list(Parsed *p, const char *text, gboolean is_exclude, guint64 max_hosts, GError **error)
{
  if (text == NULL)
    return TRUE;
  g_auto(GStrv) items = g_strsplit_set(text, ";, \t\r\n", -1);
  for (guint i = 0; items[i] != NULL; i++) {
    if (items[i][0] == '\0')
      continue;
    if (!parse_item(p, items[i], is_exclude, max_hosts, error))
      return FALSE;
  }
  return TRUE;
}

/* ---- set arithmetic ---------------------------------------------------- */

static gint
compare_span(gconstpointer a, gconstpointer b)
{
  const AmIpSpan *x = a, *y = b;
  if (x->first != y->first)
    return x->first < y->first ? -1 : 1;
  return x->last < y->last ? -1 : (x->last > y->last ? 1 : 0);
}

/* Sorts @spans and merges overlapping or touching ones, in place. */
static void
normalise(GArray *spans)
{
  if (spans->len == 0)
    return;
  g_array_sort(spans, compare_span);
  guint out = 0;
  for (guint i = 1; i < spans->len; i++) {
    AmIpSpan *cur = &g_array_index(spans, AmIpSpan, out);
    const AmIpSpan *next = &g_array_index(spans, AmIpSpan, i);
    if (cur->last == G_MAXUINT32 || next->first <= cur->last + 1) {
      cur->last = MAX(cur->last, next->last);
      continue;
    }
    g_array_index(spans, AmIpSpan, ++out) = *next;
  }
  g_array_set_size(spans, out + 1);
}

/* @spans minus @holes; both normalised. Returns: (transfer full). */
static GArray *
subtract(GArray *spans, GArray *holes)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(AmIpSpan));
  guint h = 0;
  for (guint i = 0; i < spans->len; i++) {
    AmIpSpan cur = g_array_index(spans, AmIpSpan, i);
    gboolean alive = TRUE;
    while (h < holes->len && g_array_index(holes, AmIpSpan, h).last < cur.first)
      h++;
    for (guint j = h; alive && j < holes->len; j++) {
      const AmIpSpan *hole = &g_array_index(holes, AmIpSpan, j);
      if (hole->first > cur.last)
        break;
      if (hole->first > cur.first) {
        AmIpSpan left = {cur.first, hole->first - 1};
        g_array_append_val(out, left);
      }
      if (hole->last >= cur.last)
        alive = FALSE;
      else
        cur.first = hole->last + 1;
    }
    if (alive)
      g_array_append_val(out, cur);
  }
  return out;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* Returns: (transfer full) the strings of @strings, sorted, each once. */
static GPtrArray *
sorted_unique(GPtrArray *strings)
{
  g_ptr_array_sort(strings, compare_strings);
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < strings->len; i++)
    if (out->len == 0 || !g_str_equal(out->pdata[out->len - 1], strings->pdata[i]))
      g_ptr_array_add(out, g_strdup(strings->pdata[i]));
  return out;
}

static gboolean
in_list(GPtrArray *strings, const char *s)
{
  for (guint i = 0; i < strings->len; i++)
    if (g_str_equal(strings->pdata[i], s))
      return TRUE;
  return FALSE;
}

static void
parsed_clear(Parsed *p)
{
  g_clear_pointer(&p->spans, g_array_unref);
  g_clear_pointer(&p->ipv6, g_ptr_array_unref);
}

static void
parsed_init(Parsed *p)
{
  p->spans = g_array_new(FALSE, FALSE, sizeof(AmIpSpan));
  p->ipv6 = g_ptr_array_new_with_free_func(g_free);
  p->raw_hosts = 0;
}

/* ---- the set ----------------------------------------------------------- */

void
am_range_set_free(AmRangeSet *set)
{
  if (set == NULL)
    return;
  g_array_unref(set->spans);
  g_array_unref(set->before);
  g_ptr_array_unref(set->ipv6);
  g_free(set);
}

static AmRangeSet *
build_set(GArray *spans, GPtrArray *ipv6)
{
  AmRangeSet *set = g_new0(AmRangeSet, 1);
  set->spans = spans;
  set->ipv6 = ipv6;
  set->before = g_array_sized_new(FALSE, FALSE, sizeof(guint64), spans->len);
  guint64 total = 0;
  for (guint i = 0; i < spans->len; i++) {
    g_array_append_val(set->before, total);
    const AmIpSpan *s = &g_array_index(spans, AmIpSpan, i);
    total += (guint64)s->last - s->first + 1;
  }
  set->n_hosts = total + ipv6->len;
  return set;
}

AmRangeSet *
am_range_set_parse(const char *ranges, const char *exclude, guint64 max_hosts, GError **error)
{
  max_hosts = MIN(max_hosts, (guint64)AM_RANGE_HARD_MAX_HOSTS);
  Parsed want, drop;
  parsed_init(&want);
  parsed_init(&drop);
  /* An exclude may be as wide as it likes: it only ever removes. */
  if (!parse_list(&want, ranges, FALSE, max_hosts, error) ||
      !parse_list(&drop, exclude, TRUE, G_MAXUINT64, error)) {
    parsed_clear(&want);
    parsed_clear(&drop);
    return NULL;
  }
  normalise(want.spans);
  normalise(drop.spans);
  GArray *spans = subtract(want.spans, drop.spans);
  g_autoptr(GPtrArray) unique = sorted_unique(want.ipv6);
  GPtrArray *ipv6 = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < unique->len; i++)
    if (!in_list(drop.ipv6, unique->pdata[i]))
      g_ptr_array_add(ipv6, g_strdup(unique->pdata[i]));
  parsed_clear(&want);
  parsed_clear(&drop);

  AmRangeSet *set = build_set(spans, ipv6);
  if (set->n_hosts > max_hosts) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "the ranges cover %" G_GUINT64_FORMAT
                " hosts together, more than max_hosts=%" G_GUINT64_FORMAT
                ": narrow them or raise max_hosts",
                set->n_hosts, max_hosts);
    am_range_set_free(set);
    return NULL;
  }
  return set;
}

char *
am_range_set_nth(const AmRangeSet *set, guint64 index, char *buf, gsize buf_len)
{
  g_return_val_if_fail(index < set->n_hosts, NULL);
  guint64 v4 = set->n_hosts - set->ipv6->len;
  if (index >= v4) {
    g_strlcpy(buf, set->ipv6->pdata[index - v4], buf_len);
    return buf;
  }
  /* The last span that starts at or before @index. */
  guint lo = 0, hi = set->spans->len - 1;
  while (lo < hi) {
    guint mid = lo + (hi - lo + 1) / 2;
    if (g_array_index(set->before, guint64, mid) <= index)
      lo = mid;
    else
      hi = mid - 1;
  }
  const AmIpSpan *span = &g_array_index(set->spans, AmIpSpan, lo);
  guint32 addr = span->first + (guint32)(index - g_array_index(set->before, guint64, lo));
  format_ipv4(addr, buf, buf_len);
  return buf;
}

static gboolean
contains_ipv4(const AmRangeSet *set, guint32 addr)
{
  guint lo = 0, hi = set->spans->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    const AmIpSpan *span = &g_array_index(set->spans, AmIpSpan, mid);
    if (addr < span->first)
      hi = mid;
    else if (addr > span->last)
      lo = mid + 1;
    else
      return TRUE;
  }
  return FALSE;
}

gboolean
am_range_set_contains(const AmRangeSet *set, const char *host)
{
  struct in_addr a4;
  if (inet_pton(AF_INET, host, &a4) == 1)
    return contains_ipv4(set, ntohl(a4.s_addr));
  struct in6_addr a6;
  char canonical[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET6, host, &a6) != 1)
    return FALSE;
  inet_ntop(AF_INET6, &a6, canonical, sizeof canonical);
  return in_list(set->ipv6, canonical);
}

char *
am_range_set_to_string(const AmRangeSet *set)
{
  GString *out = g_string_new(NULL);
  char a[16], b[16];
  for (guint i = 0; i < set->spans->len; i++) {
    const AmIpSpan *s = &g_array_index(set->spans, AmIpSpan, i);
    format_ipv4(s->first, a, sizeof a);
    if (out->len > 0)
      g_string_append_c(out, ';');
    g_string_append(out, a);
    if (s->last != s->first) {
      format_ipv4(s->last, b, sizeof b);
      g_string_append_printf(out, "-%s", b);
    }
  }
  for (guint i = 0; i < set->ipv6->len; i++)
    g_string_append_printf(out, "%s%s", out->len > 0 ? ";" : "", (char *)set->ipv6->pdata[i]);
  return g_string_free(out, FALSE);
}

/* ---- ranges=auto ------------------------------------------------------- */

static guint
prefix_length(guint32 mask)
{
  guint bits = 0;
  while (bits < 32 && (mask & (0x80000000u >> bits)) != 0)
    bits++;
  return bits;
}

char *
am_range_auto_from_ifaddrs(const struct ifaddrs *list, guint widest_prefix)
{
  GString *out = g_string_new(NULL);
  for (const struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == NULL || ifa->ifa_netmask == NULL || ifa->ifa_addr->sa_family != AF_INET)
      continue;
    /* Loopback is this machine and point-to-point links (VPNs) are not the
     * miners' LAN; neither is an interface that is down. */
    if ((ifa->ifa_flags & IFF_UP) == 0 || (ifa->ifa_flags & (IFF_LOOPBACK | IFF_POINTOPOINT)))
      continue;
    guint32 addr =
        ntohl(((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr.s_addr);
    guint32 mask =
        ntohl(((const struct sockaddr_in *)(const void *)ifa->ifa_netmask)->sin_addr.s_addr);
    if ((addr >> 16) == 0xa9fe) /* 169.254/16: link-local, no DHCP */
      continue;
    guint bits = prefix_length(mask);
    if (bits < widest_prefix)
      bits = 24;
    char text[16];
    format_ipv4(addr & (bits == 0 ? 0 : 0xffffffffu << (32 - bits)), text, sizeof text);
    g_string_append_printf(out, "%s%s/%u", out->len > 0 ? ";" : "", text, bits);
  }
  return g_string_free(out, FALSE);
}
