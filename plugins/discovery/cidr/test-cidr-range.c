/* The ranges=/exclude= parser, table-driven: what each syntax expands to,
 * and the message a user gets for each mistake. */
#include "am-cidr-range.h"

#include <antmon/error.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>

typedef struct {
  const char *ranges;
  const char *exclude;
  guint64 max_hosts;
  const char *expect; /* am_range_set_to_string() */
  guint64 n_hosts;
} GoodCase;

static const GoodCase good_cases[] = {
    /* CIDR: network and broadcast left out up to /30. */
    {"192.168.1.0/24", NULL, 65536, "192.168.1.1-192.168.1.254", 254},
    {"10.0.0.0/30", NULL, 65536, "10.0.0.1-10.0.0.2", 2},
    {"10.0.0.0/31", NULL, 65536, "10.0.0.0-10.0.0.1", 2},
    {"10.0.0.9/32", NULL, 65536, "10.0.0.9", 1},
    /* Host bits set: the network it belongs to (as nmap reads it). */
    {"10.0.0.77/24", NULL, 65536, "10.0.0.1-10.0.0.254", 254},
    {"127.1.0.0/16", NULL, 65536, "127.1.0.1-127.1.255.254", 65534},
    /* Whole-address ranges, across octets. */
    {"10.0.0.250-10.0.1.5", NULL, 65536, "10.0.0.250-10.0.1.5", 12},
    {"10.0.0.5-10.0.0.5", NULL, 65536, "10.0.0.5", 1},
    /* Octet ranges: every combination. */
    {"10.1-2.1.1-50", NULL, 65536, "10.1.1.1-10.1.1.50;10.2.1.1-10.2.1.50", 100},
    {"192.168.1.1-3", NULL, 65536, "192.168.1.1-192.168.1.3", 3},
    {"10.0.0-1.*", NULL, 65536, "10.0.0.0-10.0.1.255", 512},
    /* Single hosts, lists, duplicates and overlaps merged. */
    {"10.0.0.7", NULL, 65536, "10.0.0.7", 1},
    {"10.0.0.7;10.0.0.8 , 10.0.0.9\t10.0.0.7", NULL, 65536, "10.0.0.7-10.0.0.9", 3},
    {"10.0.0.0/29;10.0.0.4-10.0.0.20", NULL, 65536, "10.0.0.1-10.0.0.20", 20},
    {"10.0.0.9;10.0.0.1", NULL, 65536, "10.0.0.1;10.0.0.9", 2},
    /* Exclusions: a CIDR there means every address in it. */
    {"10.0.0.0/24", "10.0.0.0/25", 65536, "10.0.0.128-10.0.0.254", 127},
    {"10.0.0.0/24", "10.0.0.1;10.0.0.100-10.0.0.200", 65536,
     "10.0.0.2-10.0.0.99;10.0.0.201-10.0.0.254", 152},
    {"10.0.0.1-10.0.0.10", "10.0.0.0/8", 65536, "", 0},
    /* An exclude may be far wider than max_hosts. */
    {"10.1.2.3", "0.0.0.0/1", 4, "", 0},
    {"10.0.0.1-10.0.0.4;10.0.0.6-10.0.0.8", "10.0.0.2-10.0.0.7", 65536, "10.0.0.1;10.0.0.8", 2},
    /* IPv6 hosts, one by one, canonical form. */
    {"::1;0:0::1", NULL, 65536, "::1", 1},
    {"10.0.0.1;fd00::7/128", "", 65536, "10.0.0.1;fd00::7", 2},
    {"::1;fd00::7", "fd00:0::7", 65536, "::1", 1},
    /* Nothing at all is fine (the plugin says so). */
    {"", NULL, 65536, "", 0},
    {" ; ;", NULL, 65536, "", 0},
    /* max_hosts is inclusive. */
    {"10.0.0.0/24", NULL, 254, "10.0.0.1-10.0.0.254", 254},
};

static void
test_good(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(good_cases); i++) {
    const GoodCase *c = &good_cases[i];
    g_autoptr(GError) error = NULL;
    g_autoptr(AmRangeSet) set = am_range_set_parse(c->ranges, c->exclude, c->max_hosts, &error);
    if (set == NULL)
      g_error("'%s' minus '%s': %s", c->ranges, c->exclude, error->message);
    g_autofree char *text = am_range_set_to_string(set);
    if (!g_str_equal(text, c->expect) || set->n_hosts != c->n_hosts)
      g_error("'%s' minus '%s': got '%s' (%" G_GUINT64_FORMAT
              " hosts), expected '%s' (%" G_GUINT64_FORMAT ")",
              c->ranges, c->exclude, text, set->n_hosts, c->expect, c->n_hosts);
  }
}

typedef struct {
  const char *ranges;
  const char *exclude;
  guint64 max_hosts;
  const char *message; /* a substring of the error */
} BadCase;

static const BadCase bad_cases[] = {
    {"10.0.0.0/8", NULL, 65536,
     "'10.0.0.0/8' covers 16777214 hosts, more than max_hosts=65536: narrow the range"},
    {"0.0.0.0/0", NULL, 65536, "'0.0.0.0/0' covers 4294967294 hosts"},
    {"10.0-255.0-255.1-50", NULL, 65536, "covers 3276800 hosts, more than max_hosts=65536"},
    {"10.0.0.0/24;10.0.1.0/24", NULL, 300,
     "the ranges cover 508 hosts together, more than max_hosts=300"},
    {"10.0.0.0/33", NULL, 65536, "'10.0.0.0/33': the prefix length must be 0 to 32"},
    {"10.0.0.0/", NULL, 65536, "the prefix length must be 0 to 32"},
    {"10.0.0.0/08", NULL, 65536, "the prefix length must be 0 to 32"},
    {"10.0.0.0/2x", NULL, 65536, "the prefix length must be 0 to 32"},
    {"10.0.0/24", NULL, 65536, "'10.0.0/24': expected a CIDR"},
    {"10.0.0.256", NULL, 65536, "'10.0.0.256': expected a CIDR"},
    {"10.0.0.01", NULL, 65536, "'10.0.0.01': expected a CIDR"},
    {"10.0.0.-1", NULL, 65536, "expected a CIDR"},
    {"10.0.0.5-2", NULL, 65536, "'10.0.0.5-2': expected a CIDR"},
    {"10.0.0.9-10.0.0.1", NULL, 65536, "'10.0.0.9-10.0.0.1': the range ends before it starts"},
    {"10.0.0.1-10.0.0.2-10.0.0.3", NULL, 65536, "expected a CIDR"},
    {"miner-01.local", NULL, 65536, "'miner-01.local': expected a CIDR (10.0.0.0/24)"},
    {"auto", NULL, 65536, "'auto': expected"},
    {"10.0.0.1.5", NULL, 65536, "expected a CIDR"},
    {"fd00::/64", NULL, 65536, "'fd00::/64': IPv6 networks are too large to sweep"},
    {"fd00::zz", NULL, 65536, "'fd00::zz': expected"},
    {"10.0.0.1", "bogus", 65536, "'bogus': expected"},
    {"10.0.0.1", "10.0.0.0/40", 65536, "the prefix length must be 0 to 32"},
    /* Octet items that would split into too many separate runs. */
    {"0-1.0-255.0-255.1", "", 1u << 24, "splits into 131072 separate runs"},
};

static void
test_bad(void)
{
  for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
    const BadCase *c = &bad_cases[i];
    g_autoptr(GError) error = NULL;
    g_autoptr(AmRangeSet) set = am_range_set_parse(c->ranges, c->exclude, c->max_hosts, &error);
    if (set != NULL)
      g_error("'%s' minus '%s' parsed; expected an error", c->ranges, c->exclude);
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    if (strstr(error->message, c->message) == NULL)
      g_error("'%s': message '%s' lacks '%s'", c->ranges, error->message, c->message);
  }
}

/* nth walks the set in address order, then the IPv6 hosts; contains agrees. */
static void
test_nth_contains(void)
{
  g_autoptr(AmRangeSet) set =
      am_range_set_parse("10.0.0.1-10.0.0.3;10.0.5.0/30;::1", NULL, 100, NULL);
  g_assert_nonnull(set);
  const char *expect[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.5.1", "10.0.5.2", "::1"};
  g_assert_cmpuint(set->n_hosts, ==, G_N_ELEMENTS(expect));
  char buf[64];
  for (gsize i = 0; i < G_N_ELEMENTS(expect); i++) {
    g_assert_cmpstr(am_range_set_nth(set, i, buf, sizeof buf), ==, expect[i]);
    g_assert_true(am_range_set_contains(set, expect[i]));
  }
  g_assert_false(am_range_set_contains(set, "10.0.0.4"));
  g_assert_false(am_range_set_contains(set, "10.0.5.0"));
  g_assert_false(am_range_set_contains(set, "10.0.5.3"));
  g_assert_false(am_range_set_contains(set, "::2"));
  g_assert_false(am_range_set_contains(set, "not an address"));
  g_assert_true(am_range_set_contains(set, "0::1"));
}

/* A whole /16 in order, with nothing skipped and nothing twice. */
static void
test_nth_walks_everything(void)
{
  g_autoptr(AmRangeSet) set = am_range_set_parse("127.1.0.0/16", "127.1.7.0/24", 65536, NULL);
  g_assert_nonnull(set);
  g_assert_cmpuint(set->n_hosts, ==, 65534 - 256);
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  char buf[64];
  for (guint64 i = 0; i < set->n_hosts; i++) {
    am_range_set_nth(set, i, buf, sizeof buf);
    g_assert_false(g_str_has_prefix(buf, "127.1.7."));
    g_assert_true(g_hash_table_add(seen, g_strdup(buf)));
  }
  g_assert_cmpstr(am_range_set_nth(set, 0, buf, sizeof buf), ==, "127.1.0.1");
  g_assert_cmpstr(am_range_set_nth(set, set->n_hosts - 1, buf, sizeof buf), ==, "127.1.255.254");
}

/* ---- ranges=auto, from a made-up interface list ------------------------ */

typedef struct {
  struct ifaddrs ifa;
  struct sockaddr_in addr;
  struct sockaddr_in mask;
} FakeIf;

static void
fake_if(FakeIf *f, const char *name, const char *addr, const char *mask, unsigned flags,
        FakeIf *next)
{
  memset(f, 0, sizeof *f);
  f->addr.sin_family = f->mask.sin_family = AF_INET;
  inet_pton(AF_INET, addr, &f->addr.sin_addr);
  inet_pton(AF_INET, mask, &f->mask.sin_addr);
  f->ifa.ifa_name = (char *)name;
  f->ifa.ifa_flags = flags;
  f->ifa.ifa_addr = (struct sockaddr *)&f->addr;
  f->ifa.ifa_netmask = (struct sockaddr *)&f->mask;
  f->ifa.ifa_next = next != NULL ? &next->ifa : NULL;
}

static void
test_auto(void)
{
  FakeIf lo, eth0, wide, down, vpn, linklocal;
  fake_if(&linklocal, "eth3", "169.254.3.4", "255.255.0.0", IFF_UP, NULL);
  fake_if(&vpn, "tun0", "10.8.0.2", "255.255.255.0", IFF_UP | IFF_POINTOPOINT, &linklocal);
  fake_if(&down, "eth2", "172.16.0.5", "255.255.255.0", 0, &vpn);
  fake_if(&wide, "eth1", "10.20.30.40", "255.255.0.0", IFF_UP, &down);
  fake_if(&eth0, "eth0", "192.168.1.57", "255.255.255.0", IFF_UP, &wide);
  fake_if(&lo, "lo", "127.0.0.1", "255.0.0.0", IFF_UP | IFF_LOOPBACK, &eth0);
  g_autofree char *text = am_range_auto_from_ifaddrs(&lo.ifa, 20);
  /* Loopback, down, point-to-point and link-local skipped; the /16 is
   * narrowed to the /24 around the interface. */
  g_assert_cmpstr(text, ==, "192.168.1.0/24;10.20.30.0/24");

  /* A /20 is within the limit and kept whole. */
  FakeIf farm;
  fake_if(&farm, "eth0", "10.4.17.9", "255.255.240.0", IFF_UP, NULL);
  g_autofree char *farm_text = am_range_auto_from_ifaddrs(&farm.ifa, 20);
  g_assert_cmpstr(farm_text, ==, "10.4.16.0/20");
  g_autofree char *none = am_range_auto_from_ifaddrs(NULL, 20);
  g_assert_cmpstr(none, ==, "");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cidr-range/good", test_good);
  g_test_add_func("/cidr-range/bad", test_bad);
  g_test_add_func("/cidr-range/nth-contains", test_nth_contains);
  g_test_add_func("/cidr-range/nth-walks-everything", test_nth_walks_everything);
  g_test_add_func("/cidr-range/auto", test_auto);
  return g_test_run();
}
