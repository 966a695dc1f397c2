/* The IP report parser, table-driven: every format, with the values
 * written out by hand, and the datagrams that must be refused with a
 * message saying why.
 *
 * The only recorded report is Auradine's (tests/fixtures/auradine/
 * asicrs-v1_ipreport.json, its web API reply). The datagrams below are
 * constructed, with our own addresses, after the formats documented in
 * README.md (pyasic's and bitcap-ipr's listeners, Braiins OS's script). */
#include "am-ipreport-parse.h"
#include "am-test-util.h"

#include <string.h>

typedef struct {
  const char *name;
  const char *data;
  gssize len; /* -1: strlen(data) */
  AmIpreportResult result;
  AmIpreportFamily family;
  const char *ip;
  const char *mac;
  const char *hostname;
  const char *model;
  const char *serial;
  const char *error; /* a part of the message, for AM_IPREPORT_INVALID */
} Case;

#define OK(name, data, family, ip, mac)                                                            \
  {                                                                                                \
    name, data, -1, AM_IPREPORT_OK, family, ip, mac, "", "", "", NULL                              \
  }
#define BAD(name, data, message)                                                                   \
  {                                                                                                \
    name, data, -1, AM_IPREPORT_INVALID, 0, "", "", "", "", "", message                            \
  }

static const Case cases[] = {
    /* Antminer (and Braiins OS, VNish) on 14235: "IP,MAC". */
    OK("antminer", "192.168.1.37,02:1a:2b:3c:4d:5e", AM_IPREPORT_ANTMINER, "192.168.1.37",
       "02:1a:2b:3c:4d:5e"),
    OK("antminer upper case, dashes", "10.0.5.250,02-1A-2B-3C-4D-5F", AM_IPREPORT_ANTMINER,
       "10.0.5.250", "02:1a:2b:3c:4d:5f"),
    {"antminer with a newline and a NUL", "10.0.5.7,02:00:00:00:00:07\n\0", 28, AM_IPREPORT_OK,
     AM_IPREPORT_ANTMINER, "10.0.5.7", "02:00:00:00:00:07", "", "", "", NULL},
    OK("antminer bracketed with a prefix (pyasic)", "[10.1.2.3/24],02:00:00:00:00:08",
       AM_IPREPORT_ANTMINER, "10.1.2.3", "02:00:00:00:00:08"),
    /* Whatsminer on 8888: "IP:<ip>MAC:<mac>", sometimes a byte more. */
    OK("whatsminer", "IP:192.168.100.10MAC:C4:11:04:01:02:03", AM_IPREPORT_WHATSMINER,
       "192.168.100.10", "c4:11:04:01:02:03"),
    {"whatsminer with a trailing NUL", "IP:10.2.0.9MAC:c4:11:04:0a:0b:0c\0", 33, AM_IPREPORT_OK,
     AM_IPREPORT_WHATSMINER, "10.2.0.9", "c4:11:04:0a:0b:0c", "", "", "", NULL},
    /* Iceriver on 11503: the address only. */
    OK("iceriver", "addr:172.16.1.100", AM_IPREPORT_ICERIVER, "172.16.1.100", ""),
    /* Elphapex on 9999: nothing but a marker; the sender is the miner. */
    OK("elphapex", "DG_IPREPORT_ONLY", AM_IPREPORT_ELPHAPEX, "", ""),
    /* iPollo on 54321. */
    OK("ipollo",
       "IP Addr:[192.168.6.23]   MAC Addr:[AA:BB:CC:00:11:22]    Time:[2026-12-01 10:00:00]",
       AM_IPREPORT_IPOLLO, "192.168.6.23", "aa:bb:cc:00:11:22"),
    /* Goldshell on 1314: JSON. */
    {"goldshell",
     "{\"version\": \"2.2.3\", \"ip\": \"192.168.9.77\", \"dhcp\": \"enable\", \"model\": "
     "\"Goldshell-KDBOX\", \"ctrlsn\": \"\", \"mac\": \"02:47:53:00:00:01\", \"mask\": "
     "\"255.255.255.0\", \"gateway\": \"192.168.9.1\", \"cpbsn\": [\"\", null], \"dns\": null, "
     "\"boxsn\": \"GSTEST0001\", \"time\": \"2026-12-01 07:10:19\", \"ledstatus\": false}",
     -1, AM_IPREPORT_OK, AM_IPREPORT_GOLDSHELL, "192.168.9.77", "02:47:53:00:00:01", "",
     "Goldshell-KDBOX", "GSTEST0001", NULL},
    /* Auradine on 12345: flat JSON. */
    {"auradine flat",
     "{\"command\": \"ipreport\", \"SerialNo\": \"AUTEST01\", \"ip\": \"192.168.34.35\", \"mac\":"
     "\"1C:00:00:0E:3B:2C\", \"model\": \"AT1500\", \"version\": \"2.3.0\", \"hostname\": "
     "\"rack4-u2\", \"InternalType\":\"T0\"}",
     -1, AM_IPREPORT_OK, AM_IPREPORT_AURADINE, "192.168.34.35", "1c:00:00:0e:3b:2c", "rack4-u2",
     "AT1500", "AUTEST01", NULL},
    /* A control byte in a name ends up as '?' (it reaches logs). */
    {"auradine control byte in the hostname",
     "{\"command\":\"ipreport\",\"ip\":\"10.9.9.9\",\"mac\":\"02:00:00:00:00:09\",\"hostname\":"
     "\"a\\u0001b\"}",
     -1, AM_IPREPORT_OK, AM_IPREPORT_AURADINE, "10.9.9.9", "02:00:00:00:00:09", "a?b", "", "",
     NULL},
    /* pyasic drops "OK" padded with NULs: known, not a report. */
    {"ok acknowledgement", "OK\0\0\0\0\0\0\0\0", 10, AM_IPREPORT_IGNORED, 0, "", "", "", "", "",
     NULL},

    BAD("empty", "", "empty datagram"),
    {"only NULs", "\0\0\0\0", 4, AM_IPREPORT_INVALID, 0, "", "", "", "", "", "empty datagram"},
    BAD("text", "hello miner", "'hello miner' is not an IP report"),
    {"binary", "\x01\x02\x03\x04", 4, AM_IPREPORT_INVALID, 0, "", "", "", "", "",
     "binary datagram (4 bytes)"},
    BAD("not UTF-8", "\xff\xfe,\xfd", "binary datagram"),
    BAD("antminer address over 255", "300.1.1.1,02:00:00:00:00:01",
        "antminer report: '300.1.1.1' is not a usable IPv4 address"),
    BAD("antminer broadcast address", "255.255.255.255,02:00:00:00:00:01", "not a usable IPv4"),
    BAD("antminer zero address", "0.0.0.0,02:00:00:00:00:01", "not a usable IPv4"),
    BAD("antminer multicast address", "224.0.0.1,02:00:00:00:00:01", "not a usable IPv4"),
    BAD("antminer leading zero", "10.0.0.010,02:00:00:00:00:01", "not a usable IPv4"),
    BAD("antminer three octets", "10.0.1,02:00:00:00:00:01", "not a usable IPv4"),
    BAD("antminer bad MAC", "10.0.0.1,zz:00:00:00:00:01",
        "antminer report: 'zz:00:00:00:00:01' is not a MAC address"),
    BAD("antminer extra field", "10.0.0.1,02:00:00:00:00:01,x", "is not a MAC address"),
    BAD("antminer no MAC", "10.0.0.1,", "is not a MAC address"),
    BAD("whatsminer without MAC", "IP:10.0.0.1", "whatsminer report: no 'MAC:' after the address"),
    BAD("whatsminer short MAC", "IP:10.0.0.1MAC:c4:11:04", "is not a MAC address"),
    BAD("iceriver without address", "addr:", "iceriver report: '' is not a usable IPv4"),
    BAD("ipollo unclosed", "IP Addr:[10.0.0.1", "no closing ']'"),
    BAD("ipollo without MAC", "IP Addr:[10.0.0.1] Time:[x]", "no 'MAC Addr:[...]'"),
    BAD("elphapex with more", "DG_IPREPORT_ONLY please", "is not an IP report"),
    /* NMMiner's status broadcast (its own port, 12345 too) is not a report. */
    BAD("other JSON", "{\"IP\": \"192.168.1.101\", \"BoardType\": \"NMLotto\"}",
        "JSON, but not a known IP report"),
    BAD("broken JSON", "{\"command\":\"ipreport\",", "JSON report does not parse"),
    /* json-glib stops after the first value: what follows is not looked at. */
    BAD("empty JSON object, then more", "{}[]", "JSON, but not a known IP report"),
    BAD("a JSON string", "{\"command\"", "JSON report does not parse"),
    /* Found by the fuzzer: json-glib quotes the bad bytes of a broken \u
     * escape in its message; ours stays valid UTF-8. */
    BAD("a broken escape", "{\"STS^T4\\uhuU\\.\\7777777777777777777777,)d\"\",:1",
        "JSON report does not parse"),
    BAD("deep JSON", "{\"a\":[[[[[[[[[[1]]]]]]]]]]}", "nested deeper than 8 levels"),
    BAD("auradine without ip", "{\"command\":\"ipreport\",\"mac\":\"02:00:00:00:00:01\"}",
        "auradine report: no \"ip\""),
    BAD("auradine ip a number", "{\"command\":\"ipreport\",\"ip\":1,\"mac\":\"02:00:00:00:00:01\"}",
        "auradine report: no \"ip\""),
    BAD("auradine without mac", "{\"command\":\"ipreport\",\"ip\":\"10.0.0.1\"}",
        "auradine report: no \"mac\""),
    BAD("auradine empty IPReport", "{\"IPReport\":[]}", "\"IPReport\" holds no object"),
    BAD("goldshell bad ip", "{\"boxsn\":\"x\",\"ctrlsn\":\"\",\"ip\":\"1.2.3\",\"mac\":\"\"}",
        "goldshell report: '1.2.3' is not a usable IPv4"),
    /* Newlines in what is quoted back are escaped: it goes to the log. */
    BAD("escaped in messages", "a\nb", "'a\\nb' is not an IP report"),
};

static void
check_case(gconstpointer data)
{
  const Case *c = data;
  gsize len = c->len >= 0 ? (gsize)c->len : strlen(c->data);
  AmIpreport r;
  g_autoptr(GError) error = NULL;
  AmIpreportResult result = am_ipreport_parse((const guint8 *)c->data, len, &r, &error);
  if (result != c->result)
    g_error("%s: result %d, expected %d (%s)", c->name, result, c->result,
            error != NULL ? error->message : "no error");
  if (c->result == AM_IPREPORT_INVALID) {
    g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
    g_assert_true(g_utf8_validate(error->message, -1, NULL));
    if (strstr(error->message, c->error) == NULL)
      g_error("%s: message '%s' lacks '%s'", c->name, error->message, c->error);
    return;
  }
  g_assert_no_error(error);
  if (c->result == AM_IPREPORT_IGNORED)
    return;
  g_assert_cmpint(r.family, ==, c->family);
  g_assert_cmpstr(r.ip, ==, c->ip);
  g_assert_cmpstr(r.mac, ==, c->mac);
  g_assert_cmpstr(r.hostname, ==, c->hostname);
  g_assert_cmpstr(r.model, ==, c->model);
  g_assert_cmpstr(r.serial, ==, c->serial);
}

/* The recorded Auradine reply (web API "ipreport"), in case a unit
 * broadcasts that shape; read by hand from the file. */
static void
test_auradine_recorded(void)
{
  g_autofree char *path = am_test_path("fixtures/auradine/asicrs-v1_ipreport.json");
  g_autofree char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &text, &len, NULL));
  AmIpreport r;
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(am_ipreport_parse((const guint8 *)text, len, &r, &error), ==, AM_IPREPORT_OK);
  g_assert_no_error(error);
  g_assert_cmpint(r.family, ==, AM_IPREPORT_AURADINE);
  g_assert_cmpstr(r.ip, ==, "192.168.1.50");
  g_assert_cmpstr(r.mac, ==, "1c:00:00:0e:3b:2b");
  g_assert_cmpstr(r.hostname, ==, "teraflux-01");
  g_assert_cmpstr(r.model, ==, "AT1500");
  g_assert_cmpstr(r.serial, ==, "AU23200006");
}

/* Cut short anywhere, the recorded reply never parses as a report. */
static void
test_auradine_truncated(void)
{
  g_autofree char *path = am_test_path("fixtures/auradine/asicrs-v1_ipreport.json");
  g_autofree char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &text, &len, NULL));
  while (len > 0 && g_ascii_isspace(text[len - 1]))
    len--;
  for (gsize cut = 0; cut < len; cut++) {
    AmIpreport r;
    g_autoptr(GError) error = NULL;
    if (am_ipreport_parse((const guint8 *)text, cut, &r, &error) != AM_IPREPORT_INVALID)
      g_error("the first %" G_GSIZE_FORMAT " bytes parsed as a report", cut);
  }
}

static void
test_ipv4(void)
{
  static const struct {
    const char *text;
    const char *canonical; /* NULL: refused */
  } table[] = {
      {"1.2.3.4", "1.2.3.4"},
      {"127.0.0.1", "127.0.0.1"},
      {"223.255.255.254", "223.255.255.254"},
      {"0.1.2.3", NULL},
      {"224.0.0.1", NULL},
      {"255.255.255.255", NULL},
      {"1.2.3", NULL},
      {"1.2.3.4.5", NULL},
      {"1.2.3.256", NULL},
      {"01.2.3.4", NULL},
      {"1..3.4", NULL},
      {"1.2.3.4 ", NULL},
      {"", NULL},
      {"1234.1.1.1", NULL},
      {"a.b.c.d", NULL},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(table); i++) {
    char out[16];
    gboolean ok = am_ipreport_parse_ipv4(table[i].text, strlen(table[i].text), out);
    if (ok != (table[i].canonical != NULL))
      g_error("'%s': %s", table[i].text, ok ? "accepted" : "refused");
    if (ok)
      g_assert_cmpstr(out, ==, table[i].canonical);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = g_strdup_printf("/ipreport-parse/case/%02" G_GSIZE_FORMAT, i);
    g_test_add_data_func(path, &cases[i], check_case);
  }
  g_test_add_func("/ipreport-parse/auradine-recorded", test_auradine_recorded);
  g_test_add_func("/ipreport-parse/auradine-truncated", test_auradine_truncated);
  g_test_add_func("/ipreport-parse/ipv4", test_ipv4);
  return g_test_run();
}
