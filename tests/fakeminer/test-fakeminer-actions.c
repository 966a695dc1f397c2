/* Black-box tests of the fake fleet's write calls and control state: each
 * request is built here by hand as the firmware's clients send it (asic-rs,
 * pyasic), with the real login, and the test checks the reply shape and the
 * effect on the next read replies. Plain GIO sockets, never libantmon.
 */
#include "am-test-fleet.h"
#include "fm-test-util.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crypt.h>
#include <nettle/aes.h>
#include <nettle/sha2.h>

#define WAIT_MS 15000

enum {
  M_ANTMINER = 1, /* antminer-s19pro-web: RPC + CGI (digest) */
  M_BRAIINS,      /* braiins-rest-26: REST (token) */
  M_LUXOS,        /* luxos-actions: RPC with sessions */
  M_AVALON,       /* avalon-a: RPC ascset */
  M_BITAXE,       /* bitaxe-supra: HTTP, no login */
  M_REBOOT,       /* antminer-s19pro-web, rebooted by the tests */
  M_IGNORE,       /* antminer-s19pro-web with ignore_actions=1 */
  M_S19,          /* antminer-s19pro: RPC only (restart, pools) */
  M_WM2,          /* whatsminer-v2-actions: API v2, admin/admin */
  M_WM3,          /* whatsminer-m60s-v3: API v3, super/super */
  M_EPIC,         /* epic-umc: PowerPlay, letmein */
  M_AURADINE,     /* auradine-at1500: RPC + web API (token) */
  M_LAST = M_AURADINE,
};

static struct {
  AmTestFleet *fake;
  FmTestNet net;
} fleet;

/* ---- plumbing ---- */

static char *
host(guint n)
{
  return g_strdup_printf("127.79.%u.%u", fleet.net.octet, n);
}

/* Connects, sends, reads to EOF. NULL (and *refused) when the connect fails. */
static GByteArray *
exchange(guint n, guint16 port, const guint8 *request, gsize len, gboolean *refused)
{
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_timeout(client, 5);
  g_socket_client_set_enable_proxy(client, FALSE);
  g_autofree char *address = host(n);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) conn =
      g_socket_client_connect_to_host(client, address, port, NULL, &error);
  if (refused != NULL)
    *refused = conn == NULL;
  if (conn == NULL)
    return NULL;
  g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), request, len, NULL,
                            NULL, &error);
  g_assert_no_error(error);
  GSocket *socket = g_socket_connection_get_socket(conn);
  GByteArray *data = g_byte_array_new();
  char buf[65536];
  for (;;) {
    if (!g_socket_condition_timed_wait(socket, G_IO_IN, (gint64)WAIT_MS * 1000, NULL, &error))
      g_error("no reply from %s:%u: %s", address, port, error->message);
    gssize got = g_socket_receive(socket, buf, sizeof buf, NULL, &error);
    g_assert_no_error(error);
    if (got == 0)
      break;
    g_byte_array_append(data, (guint8 *)buf, (guint)got);
  }
  return data;
}

/* Whether connects to @n:@port are refused within a moment (a reboot takes
 * the listeners down right after its reply went out). */
static gboolean
refused_soon(guint n, guint16 port)
{
  g_autofree char *address = host(n);
  for (int i = 0; i < 50; i++) {
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_socket_client_set_enable_proxy(client, FALSE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect_to_host(client, address, port, NULL, &error);
    if (conn == NULL && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
      return TRUE;
    g_usleep(20 * 1000);
  }
  return FALSE;
}

/* A cgminer-style RPC exchange; the reply without its NUL. */
static char *
rpc(guint n, const char *request)
{
  g_autoptr(GByteArray) data =
      exchange(n, fleet.net.port, (const guint8 *)request, strlen(request), NULL);
  g_assert_nonnull(data);
  g_assert_cmpuint(data->len, >, 0);
  g_assert_cmpint(data->data[data->len - 1], ==, '\0');
  return g_strndup((char *)data->data, data->len - 1);
}

typedef struct {
  int status;
  char *head;
  char *body;
} Http;

static void
http_clear(Http *h)
{
  g_free(h->head);
  g_free(h->body);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Http, http_clear)

/* One HTTP/1.1 exchange with @n on @port (the connection closed after it). */
static void
http_on(guint n, guint16 port, const char *method, const char *target, const char *headers,
        const char *body, Http *h)
{
  g_autofree char *request = g_strdup_printf(
      "%s %s HTTP/1.1\r\nHost: miner\r\nConnection: close\r\n%sContent-Type: "
      "application/json\r\nContent-Length: %zu\r\n\r\n%s",
      method, target, headers ? headers : "", body ? strlen(body) : 0, body ? body : "");
  g_autoptr(GByteArray) data = exchange(n, port, (const guint8 *)request, strlen(request), NULL);
  g_assert_nonnull(data);
  g_autofree char *text = g_strndup((char *)data->data, data->len);
  const char *end = strstr(text, "\r\n\r\n");
  g_assert_nonnull(end);
  g_assert_cmpint(sscanf(text, "HTTP/1.1 %d ", &h->status), ==, 1);
  h->head = g_strndup(text, (gsize)(end - text) + 2);
  h->body = g_strdup(end + 4);
}

/* The same on the fleet's HTTP port, where the web APIs are. */
static void
http(guint n, const char *method, const char *target, const char *headers, const char *body,
     Http *h)
{
  http_on(n, fleet.net.http_port, method, target, headers, body, h);
}

static char *
string_at(const char *text, const char *path)
{
  g_autoptr(JsonNode) node = fm_test_json_at(text, path);
  if (json_node_get_value_type(node) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(node));
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, node);
  return json_generator_to_data(gen, NULL);
}

static double
number_at(const char *text, const char *path)
{
  g_autofree char *s = string_at(text, path);
  return g_ascii_strtod(s, NULL);
}

/* RFC 7616 MD5 qop=auth from the challenge of a 401, computed here. */
static char *
digest(guint n, const char *user, const char *password, const char *method, const char *uri)
{
  g_auto(Http) h = {0};
  http(n, method, uri, NULL, NULL, &h);
  g_assert_cmpint(h.status, ==, 401);
  return fm_test_digest_header(h.head, user, password, method, uri);
}

/* An Antminer CGI call with Digest root/root. */
static void
cgi(guint n, const char *method, const char *uri, const char *body, Http *h)
{
  g_autofree char *auth = digest(n, "root", "root", method, uri);
  http(n, method, uri, auth, body, h);
}

static double
rpc_number(guint n, const char *command, const char *path)
{
  g_autofree char *request = g_strdup_printf("{\"command\":\"%s\"}", command);
  g_autofree char *reply = rpc(n, request);
  return number_at(reply, path);
}

/* ---- stock Antminer: CGI and RPC ---- */

static void
test_antminer_cgi(void)
{
  double before = rpc_number(M_ANTMINER, "summary", "SUMMARY/0/GHS 5s");
  g_assert_cmpfloat(before, >, 1000);

  /* wrong password: 401 and the challenge again */
  g_autofree char *bad = digest(M_ANTMINER, "root", "wrong", "POST", "/cgi-bin/reboot.cgi");
  g_auto(Http) denied = {0};
  http(M_ANTMINER, "POST", "/cgi-bin/reboot.cgi", bad, NULL, &denied);
  g_assert_cmpint(denied.status, ==, 401);

  /* sleep, as asic-rs does it: the whole conf with miner-mode 1, and pools */
  g_auto(Http) h = {0};
  cgi(M_ANTMINER, "POST", "/cgi-bin/set_miner_conf.cgi",
      "{\"miner-mode\":1,\"bitmain-work-mode\":\"1\",\"bitmain-fan-ctrl\":false,\"pools\":["
      "{\"url\":\"stratum+tcp://new.pool.example:3333\",\"user\":\"new.worker\",\"pass\":\"x\"}]}",
      &h);
  g_assert_cmpint(h.status, ==, 200);
  g_autofree char *stats = string_at(h.body, "stats");
  g_assert_cmpstr(stats, ==, "success");
  g_autofree char *code = string_at(h.body, "code");
  g_assert_cmpstr(code, ==, "M000");

  g_assert_cmpfloat(rpc_number(M_ANTMINER, "summary", "SUMMARY/0/GHS 5s"), ==, 0);
  g_auto(Http) conf = {0};
  cgi(M_ANTMINER, "GET", "/cgi-bin/get_miner_conf.cgi", NULL, &conf);
  g_assert_cmpint(conf.status, ==, 200);
  g_autofree char *mode = string_at(conf.body, "bitmain-work-mode");
  g_assert_cmpstr(mode, ==, "1");
  g_autofree char *url = string_at(conf.body, "pools/0/url");
  g_assert_cmpstr(url, ==, "stratum+tcp://new.pool.example:3333");
  g_autofree char *pools = rpc(M_ANTMINER, "{\"command\":\"pools\"}");
  g_autofree char *rpc_url = string_at(pools, "POOLS/0/URL");
  g_assert_cmpstr(rpc_url, ==, "stratum+tcp://new.pool.example:3333");
  g_autofree char *rpc_user = string_at(pools, "POOLS/0/User");
  g_assert_cmpstr(rpc_user, ==, "new.worker");

  /* resume in low mode */
  g_auto(Http) wake = {0};
  cgi(M_ANTMINER, "POST", "/cgi-bin/set_miner_conf.cgi",
      "{\"bitmain-fan-ctrl\":false,\"bitmain-fan-pwm\":\"100\",\"freq-level\":\"100\","
      "\"miner-mode\":3}",
      &wake);
  g_assert_cmpint(wake.status, ==, 200);
  g_assert_cmpfloat(rpc_number(M_ANTMINER, "summary", "SUMMARY/0/GHS 5s"), >, 1000);
  g_auto(Http) conf2 = {0};
  cgi(M_ANTMINER, "GET", "/cgi-bin/get_miner_conf.cgi", NULL, &conf2);
  g_autofree char *mode2 = string_at(conf2.body, "bitmain-work-mode");
  g_assert_cmpstr(mode2, ==, "3");

  /* locate */
  g_auto(Http) blink = {0};
  cgi(M_ANTMINER, "POST", "/cgi-bin/blink.cgi", "{\"blink\":\"true\"}", &blink);
  g_assert_cmpint(blink.status, ==, 200);
  g_autofree char *blink_code = string_at(blink.body, "code");
  g_assert_cmpstr(blink_code, ==, "B000");
  g_auto(Http) status = {0};
  cgi(M_ANTMINER, "GET", "/cgi-bin/get_blink_status.cgi", NULL, &status);
  g_autofree char *on = string_at(status.body, "blink");
  g_assert_cmpstr(on, ==, "true");
  g_auto(Http) off = {0};
  cgi(M_ANTMINER, "POST", "/cgi-bin/blink.cgi", "{\"blink\":\"false\"}", &off);
  g_autofree char *off_code = string_at(off.body, "code");
  g_assert_cmpstr(off_code, ==, "B100");
  g_auto(Http) status2 = {0};
  cgi(M_ANTMINER, "GET", "/cgi-bin/get_blink_status.cgi", NULL, &status2);
  g_autofree char *now_off = string_at(status2.body, "blink");
  g_assert_cmpstr(now_off, ==, "false");

  g_autofree char *target = host(M_ANTMINER);
  am_test_fleet_assert_shows(fleet.fake, target, "paused=0 locate=0");
  am_test_fleet_assert_shows(fleet.fake, target, "work_mode=low");
  am_test_fleet_assert_shows(fleet.fake, target,
                             "pools=stratum+tcp://new.pool.example:3333|new.worker");
}

static void
test_antminer_rpc_restart(void)
{
  g_assert_cmpfloat(rpc_number(M_ANTMINER, "summary", "SUMMARY/0/Elapsed"), >, 1000);
  g_autofree char *reply = rpc(M_ANTMINER, "{\"command\":\"restart\"}");
  g_assert_cmpstr(reply, ==, "{\"STATUS\":\"RESTART\"}");
  g_assert_cmpfloat(rpc_number(M_ANTMINER, "summary", "SUMMARY/0/Elapsed"), <, 5);

  /* without api-allow W: the firmware denies it */
  g_autofree char *target = host(M_ANTMINER);
  am_test_fleet_set(fleet.fake, target, "write_access=0 uptime=500");
  g_autofree char *denied = rpc(M_ANTMINER, "restart|");
  g_autofree char *st = string_at(denied, "STATUS/0/STATUS");
  g_assert_cmpstr(st, ==, "E");
  g_assert_cmpfloat(number_at(denied, "STATUS/0/Code"), ==, 45);
  g_assert_cmpfloat(rpc_number(M_ANTMINER, "summary", "SUMMARY/0/Elapsed"), >=, 500);
  am_test_fleet_set(fleet.fake, target, "write_access=1");
}

/* reboot.cgi: the miner refuses connections for reboot_s, then comes back
 * with its uptime from 0. */
static void
test_reboot(void)
{
  g_autofree char *target = host(M_REBOOT);
  am_test_fleet_set(fleet.fake, target, "reboot_s=1");
  g_auto(Http) h = {0};
  cgi(M_REBOOT, "POST", "/cgi-bin/reboot.cgi", NULL, &h);
  g_assert_cmpint(h.status, ==, 200);
  g_assert_true(refused_soon(M_REBOOT, fleet.net.port));
  am_test_fleet_assert_shows(fleet.fake, target, "rebooting=1");
  g_usleep(1500 * 1000);
  double elapsed = rpc_number(M_REBOOT, "summary", "SUMMARY/0/Elapsed");
  g_assert_cmpfloat(elapsed, <, 5);
  g_autofree char *stats = rpc(M_REBOOT, "{\"command\":\"stats\"}");
  g_assert_cmpfloat(number_at(stats, "STATS/1/Elapsed"), <, 5);

  /* the control port can stage a reboot too */
  am_test_fleet_set(fleet.fake, target, "rebooting=1");
  g_assert_true(refused_soon(M_REBOOT, fleet.net.port));
  g_usleep(1500 * 1000);
  g_assert_cmpfloat(rpc_number(M_REBOOT, "summary", "SUMMARY/0/Elapsed"), <, 5);
}

/* ignore_actions: accepted, answered as success, nothing changes. */
static void
test_ignore_actions(void)
{
  g_auto(Http) h = {0};
  cgi(M_IGNORE, "POST", "/cgi-bin/set_miner_conf.cgi", "{\"miner-mode\":1}", &h);
  g_assert_cmpint(h.status, ==, 200);
  g_autofree char *stats = string_at(h.body, "stats");
  g_assert_cmpstr(stats, ==, "success");
  g_assert_cmpfloat(rpc_number(M_IGNORE, "summary", "SUMMARY/0/GHS 5s"), >, 1000);
  g_autofree char *reply = rpc(M_IGNORE, "{\"command\":\"restart\"}");
  g_assert_cmpstr(reply, ==, "{\"STATUS\":\"RESTART\"}");
  g_assert_cmpfloat(rpc_number(M_IGNORE, "summary", "SUMMARY/0/Elapsed"), >, 1000);
  g_autofree char *target = host(M_IGNORE);
  am_test_fleet_assert_shows(fleet.fake, target, "paused=0");
  am_test_fleet_assert_shows(fleet.fake, target, "writes=2");
}

/* ---- Braiins OS REST ---- */

static char *
braiins_token(void)
{
  g_auto(Http) h = {0};
  http(M_BRAIINS, "POST", "/api/v1/auth/login", NULL,
       "{\"username\":\"root\",\"password\":\"root\"}", &h);
  g_assert_cmpint(h.status, ==, 200);
  g_autofree char *token = string_at(h.body, "token");
  return g_strdup_printf("Authorization: %s\r\n", token);
}

static void
braiins(const char *auth, const char *method, const char *path, const char *body, Http *h)
{
  http(M_BRAIINS, method, path, auth, body, h);
}

static void
test_braiins_rest(void)
{
  g_autofree char *auth = braiins_token();
  g_auto(Http) denied = {0};
  braiins("Authorization: nonsense\r\n", "PUT", "/api/v1/actions/pause", NULL, &denied);
  g_assert_cmpint(denied.status, ==, 401);

  g_auto(Http) pause = {0};
  braiins(auth, "PUT", "/api/v1/actions/pause", NULL, &pause);
  g_assert_cmpint(pause.status, ==, 204);
  g_assert_cmpstr(pause.body, ==, "");
  g_auto(Http) details = {0};
  braiins(auth, "GET", "/api/v1/miner/details", NULL, &details);
  g_assert_cmpfloat(number_at(details.body, "status"), ==, 3);
  g_auto(Http) stats = {0};
  braiins(auth, "GET", "/api/v1/miner/stats", NULL, &stats);
  g_assert_cmpfloat(number_at(stats.body, "miner_stats/real_hashrate/last_5s/gigahash_per_second"),
                    ==, 0);
  g_assert_cmpfloat(number_at(stats.body, "power_stats/approximated_consumption/watt"), <,
                    3480 * 0.1);

  g_auto(Http) resume = {0};
  braiins(auth, "PUT", "/api/v1/actions/resume", NULL, &resume);
  g_assert_cmpint(resume.status, ==, 204);
  g_auto(Http) details2 = {0};
  braiins(auth, "GET", "/api/v1/miner/details", NULL, &details2);
  g_assert_cmpfloat(number_at(details2.body, "status"), ==, 2);

  /* power target: half the nominal 3500 W, so half the power and hashrate */
  g_auto(Http) target = {0};
  braiins(auth, "PUT", "/api/v1/performance/power-target", "{\"watt\":1750}", &target);
  g_assert_cmpint(target.status, ==, 200);
  g_auto(Http) conf = {0};
  braiins(auth, "GET", "/api/v1/configuration/miner", NULL, &conf);
  g_assert_cmpfloat(number_at(conf.body, "tuner/power_target/watt"), ==, 1750);
  g_auto(Http) stats2 = {0};
  braiins(auth, "GET", "/api/v1/miner/stats", NULL, &stats2);
  g_assert_cmpfloat(number_at(stats2.body, "power_stats/approximated_consumption/watt"), ==, 1740);
  double rate = number_at(stats2.body, "miner_stats/real_hashrate/last_5s/gigahash_per_second");
  g_assert_cmpfloat(rate, >, 246571.99 * 0.5 * 0.97);
  g_assert_cmpfloat(rate, <, 246571.99 * 0.5 * 1.03);

  /* pools, as asic-rs sends them: groups with their pools */
  g_auto(Http) pools = {0};
  braiins(auth, "PUT", "/api/v1/pools/batch",
          "[{\"name\":\"Default\",\"pools\":[{\"url\":\"stratum+tcp://bos.pool.example:3333\","
          "\"user\":\"bos.worker\",\"password\":\"x\"}],\"load_balance_strategy\":{\"quota\":"
          "{\"value\":1}}}]",
          &pools);
  g_assert_cmpint(pools.status, ==, 200);
  g_auto(Http) list = {0};
  braiins(auth, "GET", "/api/v1/pools", NULL, &list);
  g_autofree char *url = string_at(list.body, "0/pools/0/url");
  g_assert_cmpstr(url, ==, "stratum+tcp://bos.pool.example:3333");
  g_autofree char *user = string_at(list.body, "0/pools/0/user");
  g_assert_cmpstr(user, ==, "bos.worker");

  /* locate with a bare JSON body; restart resets the miner's uptime */
  g_auto(Http) locate = {0};
  g_auto(Http) light_before = {0};
  braiins(auth, "GET", "/api/v1/actions/locate", NULL, &light_before);
  g_assert_cmpstr(light_before.body, ==, "false");
  braiins(auth, "PUT", "/api/v1/actions/locate", "true", &locate);
  g_assert_cmpint(locate.status, ==, 204);
  g_auto(Http) light = {0};
  braiins(auth, "GET", "/api/v1/actions/locate", NULL, &light);
  g_assert_cmpint(light.status, ==, 200);
  g_assert_cmpstr(light.body, ==, "true");
  g_auto(Http) restart = {0};
  braiins(auth, "PUT", "/api/v1/actions/restart", NULL, &restart);
  g_auto(Http) details3 = {0};
  braiins(auth, "GET", "/api/v1/miner/details", NULL, &details3);
  g_assert_cmpfloat(number_at(details3.body, "bosminer_uptime_s"), <, 5);
  g_autofree char *host_b = host(M_BRAIINS);
  am_test_fleet_assert_shows(fleet.fake, host_b, "locate=1");
  am_test_fleet_assert_shows(fleet.fake, host_b, "power_limit_w=1750");
}

/* ---- LuxOS ---- */

static void
assert_status(const char *reply, const char *status)
{
  g_autofree char *st = string_at(reply, "STATUS/0/STATUS");
  g_assert_cmpstr(st, ==, status);
}

static void
test_luxos(void)
{
  g_autofree char *no_session = rpc(M_LUXOS, "{\"command\":\"curtail\",\"parameter\":\"x,sleep\"}");
  assert_status(no_session, "E");

  g_autofree char *none = rpc(M_LUXOS, "{\"command\":\"session\"}");
  g_assert_cmpfloat(number_at(none, "STATUS/0/Code"), ==, 319);
  g_autofree char *no_sid = string_at(none, "SESSION/0/SessionID");
  g_assert_cmpstr(no_sid, ==, "");
  g_autofree char *logon = rpc(M_LUXOS, "{\"command\":\"logon\"}");
  assert_status(logon, "S");
  g_assert_cmpfloat(number_at(logon, "STATUS/0/Code"), ==, 316);
  g_autofree char *second = rpc(M_LUXOS, "{\"command\":\"logon\"}");
  assert_status(second, "E"); /* one session at a time */
  g_autofree char *sid = string_at(logon, "SESSION/0/SessionID");
  g_assert_cmpuint(strlen(sid), >, 0);
  g_autofree char *session = rpc(M_LUXOS, "{\"command\":\"session\"}");
  g_autofree char *same = string_at(session, "SESSION/0/SessionID");
  g_assert_cmpstr(same, ==, sid);

  g_autofree char *wrong = rpc(M_LUXOS, "{\"command\":\"curtail\",\"parameter\":\"bad,sleep\"}");
  assert_status(wrong, "E");
  g_assert_cmpfloat(rpc_number(M_LUXOS, "summary", "SUMMARY/0/GHS 5s"), >, 0);

  g_autofree char *sleep_req =
      g_strdup_printf("{\"command\":\"curtail\",\"parameter\":\"%s,sleep\"}", sid);
  g_autofree char *slept = rpc(M_LUXOS, sleep_req);
  assert_status(slept, "S");
  g_assert_cmpfloat(number_at(slept, "STATUS/0/Code"), ==, 335);
  g_autofree char *action = string_at(slept, "CURTAIL/0/Action");
  g_assert_cmpstr(action, ==, "sleep");
  g_assert_cmpfloat(rpc_number(M_LUXOS, "summary", "SUMMARY/0/GHS 5s"), ==, 0);
  g_autofree char *config = rpc(M_LUXOS, "{\"command\":\"config\"}");
  g_autofree char *curtail = string_at(config, "CONFIG/0/CurtailMode");
  g_assert_cmpstr(curtail, ==, "Sleep");
  g_assert_cmpfloat(rpc_number(M_LUXOS, "power", "POWER/0/Watts"), <, 1051 * 0.1);

  g_autofree char *wake_req =
      g_strdup_printf("{\"command\":\"curtail\",\"parameter\":\"%s,wakeup\"}", sid);
  g_autofree char *woke = rpc(M_LUXOS, wake_req);
  assert_status(woke, "S");
  g_assert_cmpfloat(rpc_number(M_LUXOS, "summary", "SUMMARY/0/GHS 5s"), >, 0);

  g_autofree char *led_req = g_strdup_printf("ledset|%s,red,blink", sid);
  g_autofree char *led = rpc(M_LUXOS, led_req);
  assert_status(led, "S");
  g_autofree char *config2 = rpc(M_LUXOS, "{\"command\":\"config\"}");
  g_autofree char *red = string_at(config2, "CONFIG/0/RedLed");
  g_assert_cmpstr(red, ==, "blink");
  g_autofree char *auto_req = g_strdup_printf("ledset|%s,red,auto", sid);
  g_autofree char *led_auto = rpc(M_LUXOS, auto_req);
  assert_status(led_auto, "S");
  g_autofree char *config3 = rpc(M_LUXOS, "{\"command\":\"config\"}");
  g_autofree char *red_auto = string_at(config3, "CONFIG/0/RedLed");
  g_assert_cmpstr(red_auto, ==, "auto");

  /* profileset: config Profile, and the profile's Watts (784) drive the power */
  g_autofree char *profile_req =
      g_strdup_printf("{\"command\":\"profileset\",\"parameter\":\"%s,190MHz\"}", sid);
  g_autofree char *profile = rpc(M_LUXOS, profile_req);
  assert_status(profile, "S");
  g_assert_cmpfloat(number_at(profile, "STATUS/0/Code"), ==, 321);
  g_autofree char *profile_msg = string_at(profile, "STATUS/0/Msg");
  g_assert_cmpstr(profile_msg, ==, "Profile Set");
  g_autofree char *config4 = rpc(M_LUXOS, "{\"command\":\"config\"}");
  g_autofree char *name = string_at(config4, "CONFIG/0/Profile");
  g_assert_cmpstr(name, ==, "190MHz");
  g_assert_cmpfloat(rpc_number(M_LUXOS, "power", "POWER/0/Watts"), <, 1051 * 784.0 / 1051 + 1);

  g_autofree char *reset_req =
      g_strdup_printf("{\"command\":\"resetminer\",\"parameter\":\"%s\"}", sid);
  g_autofree char *reset = rpc(M_LUXOS, reset_req);
  assert_status(reset, "S");
  g_assert_cmpfloat(rpc_number(M_LUXOS, "summary", "SUMMARY/0/Elapsed"), <, 5);

  g_autofree char *logoff_req =
      g_strdup_printf("{\"command\":\"logoff\",\"parameter\":\"%s\"}", sid);
  g_autofree char *logoff = rpc(M_LUXOS, logoff_req);
  assert_status(logoff, "S");
  g_autofree char *after = rpc(M_LUXOS, sleep_req);
  assert_status(after, "E");
}

/* ---- Avalon ---- */

static void
test_avalon(void)
{
  g_autofree char *target = host(M_AVALON);
  am_test_fleet_set(fleet.fake, target, "reboot_s=1");
  g_autofree char *off = rpc(M_AVALON, "{\"command\":\"ascset\",\"parameter\":[\"0\","
                                       "\"softoff,1:1753434821\"]}");
  assert_status(off, "I");
  g_autofree char *msg = string_at(off, "STATUS/0/Msg");
  g_assert_cmpstr(msg, ==, "ASC 0 set info: success softoff:1753434821");
  g_autofree char *stats = rpc(M_AVALON, "{\"command\":\"stats\"}");
  g_autofree char *mm = string_at(stats, "STATS/0/MM ID0");
  g_assert_nonnull(strstr(mm, "SoftOFF[1]"));
  g_assert_nonnull(strstr(mm, "SYSTEMSTATU[Work: In Idle"));
  g_assert_cmpfloat(rpc_number(M_AVALON, "summary", "SUMMARY/0/MHS av"), ==, 0);

  g_autofree char *on = rpc(M_AVALON, "ascset|0,softon,1:1753434757");
  g_autofree char *msg_on = string_at(on, "STATUS/0/Msg");
  g_assert_cmpstr(msg_on, ==, "ASC 0 set info: success softon:1753434757");
  g_assert_cmpfloat(rpc_number(M_AVALON, "summary", "SUMMARY/0/MHS av"), >, 0);

  g_autofree char *led =
      rpc(M_AVALON, "{\"command\":\"ascset\",\"parameter\":[\"0\",\"led\",\"1-1\"]}");
  g_autofree char *led_msg = string_at(led, "STATUS/0/Msg");
  g_assert_cmpstr(led_msg, ==, "ASC 0 set OK");
  g_autofree char *level = rpc(M_AVALON, "{\"command\":\"ascset\",\"parameter\":\"0,"
                                         "workmode,set,2\"}");
  assert_status(level, "S");
  g_autofree char *bad_level = rpc(M_AVALON, "ascset|0,workmode,set,7");
  assert_status(bad_level, "E");
  g_autofree char *stats2 = rpc(M_AVALON, "{\"command\":\"stats\"}");
  g_autofree char *mm2 = string_at(stats2, "STATS/0/MM ID0");
  g_assert_nonnull(strstr(mm2, "Led[1]"));
  g_assert_nonnull(strstr(mm2, "WORKMODE[2]"));
  g_assert_nonnull(strstr(mm2, "SoftOFF[0]"));

  g_assert_nonnull(strstr(mm2, "SYSTEMSTATU[Work: In Work"));
  g_autofree char *reboot = rpc(M_AVALON, "ascset|0,reboot,0");
  g_autofree char *reboot_msg = string_at(reboot, "STATUS/0/Msg");
  g_assert_cmpstr(reboot_msg, ==, "ASC 0 set OK");
  g_assert_true(refused_soon(M_AVALON, fleet.net.port));
  g_usleep(1500 * 1000);
  g_autofree char *restart = rpc(M_AVALON, "{\"command\":\"restart\"}");
  g_assert_cmpstr(restart, ==, "{\"STATUS\":\"RESTART\"}");
  g_assert_cmpfloat(rpc_number(M_AVALON, "summary", "SUMMARY/0/Elapsed"), <, 5);
}

/* ---- AxeOS ---- */

static void
test_axeos(void)
{
  g_auto(Http) patch = {0};
  http(M_BITAXE, "PATCH", "/api/system", NULL,
       "{\"stratumURL\":\"axe.pool.example\",\"stratumPort\":3333,\"stratumUser\":\"bc1q.axe\"}",
       &patch);
  g_assert_cmpint(patch.status, ==, 200);
  g_auto(Http) info = {0};
  http(M_BITAXE, "GET", "/api/system/info", NULL, NULL, &info);
  g_autofree char *url = string_at(info.body, "stratumURL");
  g_assert_cmpstr(url, ==, "axe.pool.example");
  g_autofree char *user = string_at(info.body, "stratumUser");
  g_assert_cmpstr(user, ==, "bc1q.axe");

  g_autofree char *target = host(M_BITAXE);
  am_test_fleet_set(fleet.fake, target, "reboot_s=1");
  g_auto(Http) restart = {0};
  http(M_BITAXE, "POST", "/api/system/restart", NULL, NULL, &restart);
  g_assert_cmpint(restart.status, ==, 200);
  g_assert_true(refused_soon(M_BITAXE, fleet.net.http_port));
  g_usleep(1500 * 1000);
  g_auto(Http) info2 = {0};
  http(M_BITAXE, "GET", "/api/system/info", NULL, NULL, &info2);
  g_assert_cmpfloat(number_at(info2.body, "uptimeSeconds"), <, 5);
}

/* ---- stock Antminer RPC pools (cgminer's addpool/switchpool/removepool) ---- */

static void
test_antminer_rpc_pools(void)
{
  /* as the driver does: count the pools, add, switch to the first new one,
   * remove the old ones from the front */
  g_autofree char *list = rpc(M_S19, "{\"command\":\"pools\"}");
  g_autoptr(JsonNode) pools = fm_test_json_at(list, "POOLS");
  guint old = json_array_get_length(json_node_get_array(pools));
  g_assert_cmpuint(old, >=, 1);
  g_autofree char *added = rpc(
      M_S19, "{\"command\":\"addpool\",\"parameter\":\"stratum+tcp://n.example:3333,n\\\\,w,x\"}");
  assert_status(added, "S");
  g_assert_cmpfloat(number_at(added, "STATUS/0/Code"), ==, 55);
  /* the active pool cannot go */
  g_autofree char *refused = rpc(M_S19, "removepool|0");
  assert_status(refused, "E");
  g_assert_cmpfloat(number_at(refused, "STATUS/0/Code"), ==, 67);
  g_autofree char *new_index = g_strdup_printf("switchpool|%u", old);
  g_autofree char *switched = rpc(M_S19, new_index);
  g_assert_cmpfloat(number_at(switched, "STATUS/0/Code"), ==, 27);
  for (guint i = 0; i < old; i++) {
    g_autofree char *removed = rpc(M_S19, "{\"command\":\"removepool\",\"parameter\":\"0\"}");
    g_assert_cmpfloat(number_at(removed, "STATUS/0/Code"), ==, 68);
  }
  g_autofree char *after = rpc(M_S19, "{\"command\":\"pools\"}");
  g_autofree char *url = string_at(after, "POOLS/0/URL");
  g_assert_cmpstr(url, ==, "stratum+tcp://n.example:3333");
  g_autofree char *user = string_at(after, "POOLS/0/User");
  g_assert_cmpstr(user, ==, "n,w");
  g_autofree char *bad = rpc(M_S19, "switchpool|9");
  g_assert_cmpfloat(number_at(bad, "STATUS/0/Code"), ==, 26);

  g_autofree char *target = host(M_S19);
  am_test_fleet_set(fleet.fake, target, "write_access=0");
  g_autofree char *denied = rpc(M_S19, "addpool|stratum+tcp://x.example:1,u,p");
  g_assert_cmpfloat(number_at(denied, "STATUS/0/Code"), ==, 45);
  am_test_fleet_set(fleet.fake, target, "write_access=1");
}

/* ---- Whatsminer API v2 ---- */

static char *
md5_crypt_hash(const char *phrase, const char *salt)
{
  g_autofree char *setting = g_strdup_printf("$1$%s$", salt);
  g_autofree struct crypt_data *data = g_new0(struct crypt_data, 1);
  const char *out = crypt_rn(phrase, setting, data, (int)sizeof *data);
  g_assert_nonnull(out);
  return g_strdup(strrchr(out, '$') + 1);
}

static void
sha256_of(const char *text, guint8 out[32])
{
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, strlen(text), (const guint8 *)text);
  sha256_digest(&ctx, 32, out);
}

static char *
aes_b64(const guint8 key[32], const char *plain)
{
  gsize len = strlen(plain), padded = (len + 15) / 16 * 16;
  g_autofree guint8 *buf = g_malloc0(padded);
  memcpy(buf, plain, len);
  struct aes256_ctx ctx;
  aes256_set_encrypt_key(&ctx, key);
  aes256_encrypt(&ctx, padded, buf, buf);
  return g_base64_encode(buf, padded);
}

static char *
aes_unb64(const guint8 key[32], const char *data)
{
  gsize len = 0;
  g_autofree guint8 *buf = g_base64_decode(data, &len);
  g_assert_cmpuint(len % 16, ==, 0);
  struct aes256_ctx ctx;
  aes256_set_decrypt_key(&ctx, key);
  aes256_decrypt(&ctx, len, buf, buf);
  return g_strndup((char *)buf, len);
}

/* get_token, then @command (JSON members after "cmd") signed and encrypted
 * with @password, as pyasic and asic-rs send it. Returns the reply as sent;
 * *plain gets it decrypted when it was encrypted. */
static char *
wm2_write(const char *password, const char *command, char **plain)
{
  g_autofree char *token = rpc(M_WM2, "{\"command\":\"get_token\"}");
  g_assert_cmpfloat(number_at(token, "Code"), ==, 134);
  g_autofree char *time = string_at(token, "Msg/time");
  g_autofree char *salt = string_at(token, "Msg/salt");
  g_autofree char *newsalt = string_at(token, "Msg/newsalt");
  g_autofree char *key = md5_crypt_hash(password, salt);
  g_autofree char *phrase = g_strconcat(key, time, NULL);
  g_autofree char *sign = md5_crypt_hash(phrase, newsalt);
  g_autofree char *json = g_strdup_printf("{%s,\"token\":\"%s\"}", command, sign);
  guint8 aes_key[32];
  sha256_of(key, aes_key);
  g_autofree char *data = aes_b64(aes_key, json);
  g_autofree char *request = g_strdup_printf("{\"enc\":1,\"data\":\"%s\"}", data);
  char *reply = rpc(M_WM2, request);
  *plain = NULL;
  if (strstr(reply, "\"enc\"") != NULL) {
    g_autofree char *enc = string_at(reply, "enc");
    *plain = aes_unb64(aes_key, enc);
  }
  return reply;
}

static void
wm2_ok(const char *command)
{
  g_autofree char *plain = NULL;
  g_autofree char *reply = wm2_write("admin", command, &plain);
  g_assert_nonnull(plain);
  g_autofree char *st = string_at(plain, "STATUS");
  g_assert_cmpstr(st, ==, "S");
  g_assert_cmpfloat(number_at(plain, "Code"), ==, 131);
}

static char *
wm2_string(const char *command, const char *path)
{
  g_autofree char *request = g_strdup_printf("{\"command\":\"%s\"}", command);
  g_autofree char *reply = rpc(M_WM2, request);
  return string_at(reply, path);
}

static void
test_whatsminer_v2(void)
{
  g_autofree char *plain = NULL;
  g_autofree char *wrong =
      wm2_write("nimda", "\"cmd\":\"power_off\",\"respbefore\":\"true\"", &plain);
  g_assert_null(plain);
  g_assert_cmpfloat(number_at(wrong, "Code"), ==, 135);
  g_autofree char *msg = string_at(wrong, "Msg");
  g_assert_cmpstr(msg, ==, "check token err");
  g_autofree char *still = wm2_string("status", "Msg/mineroff");
  g_assert_cmpstr(still, ==, "false");

  wm2_ok("\"cmd\":\"power_off\",\"respbefore\":\"true\"");
  g_autofree char *off = wm2_string("status", "Msg/mineroff");
  g_assert_cmpstr(off, ==, "true");
  g_assert_cmpfloat(rpc_number(M_WM2, "summary", "SUMMARY/0/MHS av"), ==, 0);
  wm2_ok("\"cmd\":\"power_on\"");
  g_autofree char *on = wm2_string("status", "Msg/mineroff");
  g_assert_cmpstr(on, ==, "false");

  wm2_ok("\"cmd\":\"adjust_power_limit\",\"power_limit\":\"2500\"");
  g_assert_cmpfloat(rpc_number(M_WM2, "summary", "SUMMARY/0/Power Limit"), ==, 2500);
  wm2_ok("\"cmd\":\"set_high_power\"");
  g_autofree char *mode = wm2_string("summary", "SUMMARY/0/Power Mode");
  g_assert_cmpstr(mode, ==, "High");
  g_autofree char *status_mode = wm2_string("status", "Msg/power_mode");
  g_assert_cmpstr(status_mode, ==, "high");

  wm2_ok("\"cmd\":\"set_led\",\"color\":\"red\",\"period\":200,\"duration\":100,\"start\":0");
  g_autofree char *led = wm2_string("get_miner_info", "Msg/ledstat");
  g_assert_cmpstr(led, !=, "auto");
  wm2_ok("\"cmd\":\"set_led\",\"param\":\"auto\"");
  g_autofree char *led_auto = wm2_string("get_miner_info", "Msg/ledstat");
  g_assert_cmpstr(led_auto, ==, "auto");

  wm2_ok("\"cmd\":\"update_pools\",\"pool1\":\"stratum+tcp://wm.example:3333\",\"worker1\":"
         "\"wm.1\",\"passwd1\":\"x\",\"pool2\":\"\",\"worker2\":\"\",\"passwd2\":\"\",\"pool3\":"
         "\"\",\"worker3\":\"\",\"passwd3\":\"\"");
  g_autofree char *url = wm2_string("pools", "POOLS/0/URL");
  g_assert_cmpstr(url, ==, "stratum+tcp://wm.example:3333");
  g_autofree char *user = wm2_string("pools", "POOLS/0/User");
  g_assert_cmpstr(user, ==, "wm.1");

  wm2_ok("\"cmd\":\"restart_btminer\"");
  g_assert_cmpfloat(rpc_number(M_WM2, "summary", "SUMMARY/0/Elapsed"), <, 5);

  g_autofree char *target = host(M_WM2);
  am_test_fleet_set(fleet.fake, target, "write_access=0");
  g_autofree char *denied = wm2_write("admin", "\"cmd\":\"power_off\"", &plain);
  g_assert_cmpfloat(number_at(denied, "Code"), ==, 45);
  g_autofree char *denied_msg = string_at(denied, "Msg");
  g_assert_cmpstr(denied_msg, ==, "can't access write cmd");
  am_test_fleet_set(fleet.fake, target, "write_access=1");
}

/* ---- Whatsminer API v3 ---- */

static char *
v3(const char *payload)
{
  GByteArray *frame = g_byte_array_new();
  guint32 len = (guint32)strlen(payload);
  guint8 head[4] = {len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24};
  g_byte_array_append(frame, head, 4);
  g_byte_array_append(frame, (const guint8 *)payload, len);
  g_autofree char *address = host(M_WM3);
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_enable_proxy(client, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) conn =
      g_socket_client_connect_to_host(client, address, fleet.net.v3_port, NULL, &error);
  g_assert_no_error(error);
  g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), frame->data,
                            frame->len, NULL, NULL, &error);
  g_byte_array_unref(frame);
  g_assert_no_error(error);
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
  guint8 got_head[4];
  g_input_stream_read_all(in, got_head, 4, NULL, NULL, &error);
  g_assert_no_error(error);
  guint32 n = got_head[0] | got_head[1] << 8 | got_head[2] << 16 | (guint32)got_head[3] << 24;
  g_assert_cmpuint(n, <, 1 << 20);
  char *body = g_malloc0(n + 1);
  g_input_stream_read_all(in, body, n, NULL, NULL, &error);
  g_assert_no_error(error);
  return body;
}

/* A signed write: token from SHA-256(cmd + password + salt + ts). */
static char *
v3_write(const char *password, const char *cmd, const char *param_json, guint8 key[32])
{
  g_autofree char *info = v3("{\"cmd\":\"get.device.info\",\"param\":\"salt\"}");
  g_autofree char *salt = string_at(info, "msg/salt");
  gint64 ts = g_get_real_time() / G_USEC_PER_SEC;
  g_autofree char *text = g_strdup_printf("%s%s%s%" G_GINT64_FORMAT, cmd, password, salt, ts);
  sha256_of(text, key);
  g_autofree char *b64 = g_base64_encode(key, 32);
  b64[8] = '\0';
  g_autofree char *payload = g_strdup_printf(
      "{\"cmd\":\"%s\",\"ts\":%" G_GINT64_FORMAT ",\"token\":\"%s\",\"account\":\"super\"%s%s}",
      cmd, ts, b64, param_json ? ",\"param\":" : "", param_json ? param_json : "");
  return v3(payload);
}

static void
v3_ok(const char *cmd, const char *param_json)
{
  guint8 key[32];
  g_autofree char *reply = v3_write("super", cmd, param_json, key);
  g_assert_cmpfloat(number_at(reply, "code"), ==, 0);
}

static char *
v3_info(const char *path)
{
  g_autofree char *info = v3("{\"cmd\":\"get.device.info\"}");
  return string_at(info, path);
}

static void
test_whatsminer_v3(void)
{
  guint8 key[32];
  g_autofree char *wrong = v3_write("repus", "set.miner.service", "\"stop\"", key);
  g_assert_cmpfloat(number_at(wrong, "code"), ==, -4);
  g_autofree char *working = v3_info("msg/miner/working");
  g_assert_cmpstr(working, ==, "true");

  v3_ok("set.miner.service", "\"stop\"");
  g_autofree char *stopped = v3_info("msg/miner/working");
  g_assert_cmpstr(stopped, ==, "false");
  v3_ok("set.miner.service", "\"start\"");
  g_autofree char *started = v3_info("msg/miner/working");
  g_assert_cmpstr(started, ==, "true");

  v3_ok("set.miner.power_limit", "3000");
  g_autofree char *summary = v3("{\"cmd\":\"get.miner.status\",\"param\":\"summary\"}");
  g_assert_cmpfloat(number_at(summary, "msg/summary/power-limit"), ==, 3000);
  v3_ok("set.miner.power_mode", "\"low\"");
  g_autofree char *mode = v3_info("msg/power/mode");
  g_assert_cmpstr(mode, ==, "0");
  v3_ok("set.system.led", "[{\"color\":\"red\",\"period\":200,\"duration\":100,\"start\":0}]");
  g_autofree char *led = v3_info("msg/system/ledstatus");
  g_assert_cmpstr(led, !=, "auto");
  v3_ok("set.system.led", "\"auto\"");
  g_autofree char *led_auto = v3_info("msg/system/ledstatus");
  g_assert_cmpstr(led_auto, ==, "auto");

  /* pools: the param encrypted under the token's digest */
  g_autofree char *info = v3("{\"cmd\":\"get.device.info\"}");
  g_autofree char *salt = string_at(info, "msg/salt");
  gint64 ts = g_get_real_time() / G_USEC_PER_SEC;
  g_autofree char *text =
      g_strdup_printf("set.miner.pools%s%s%" G_GINT64_FORMAT, "super", salt, ts);
  sha256_of(text, key);
  g_autofree char *b64 = g_base64_encode(key, 32);
  b64[8] = '\0';
  g_autofree char *enc = aes_b64(
      key, "[{\"pool\":\"stratum+tcp://v3.example:3333\",\"worker\":\"v3.w\",\"passwd\":\"x\"}]");
  g_autofree char *payload =
      g_strdup_printf("{\"cmd\":\"set.miner.pools\",\"ts\":%" G_GINT64_FORMAT
                      ",\"token\":\"%s\",\"account\":\"super\",\"param\":\"%s\"}",
                      ts, b64, enc);
  g_autofree char *pools_reply = v3(payload);
  g_assert_cmpfloat(number_at(pools_reply, "code"), ==, 0);
  g_autofree char *pools = v3("{\"cmd\":\"get.miner.status\",\"param\":\"pools\"}");
  g_autofree char *url = string_at(pools, "msg/pools/0/url");
  g_assert_cmpstr(url, ==, "stratum+tcp://v3.example:3333");
  g_autofree char *account = string_at(pools, "msg/pools/0/account");
  g_assert_cmpstr(account, ==, "v3.w");

  g_autofree char *unknown = v3_write("super", "set.miner.nonsense", "\"x\"", key);
  g_assert_cmpfloat(number_at(unknown, "code"), ==, -2);

  g_autofree char *target = host(M_WM3);
  am_test_fleet_set(fleet.fake, target, "write_access=0");
  g_autofree char *apiswitch = v3_info("msg/system/apiswitch");
  g_assert_cmpstr(apiswitch, ==, "0");
  am_test_fleet_set(fleet.fake, target, "write_access=1");
  g_autofree char *apiswitch_on = v3_info("msg/system/apiswitch");
  g_assert_cmpstr(apiswitch_on, ==, "1");
}

/* ---- ePIC PowerPlay ---- */

static void
test_epic(void)
{
  g_auto(Http) wrong = {0};
  http(M_EPIC, "POST", "/miner", NULL, "{\"param\":\"Stop\",\"password\":\"nope\"}", &wrong);
  g_assert_cmpint(wrong.status, ==, 401);
  g_autofree char *error = string_at(wrong.body, "error");
  g_assert_cmpstr(error, ==, "Invalid password");

  g_auto(Http) stop = {0};
  http(M_EPIC, "POST", "/miner", NULL, "{\"param\":\"Stop\",\"password\":\"letmein\"}", &stop);
  g_assert_cmpint(stop.status, ==, 200);
  g_autofree char *result = string_at(stop.body, "result");
  g_assert_cmpstr(result, ==, "true");
  g_auto(Http) summary = {0};
  http(M_EPIC, "GET", "/summary", NULL, NULL, &summary);
  g_autofree char *idle = string_at(summary.body, "Status/Operating State");
  g_assert_cmpstr(idle, ==, "Idling");
  g_auto(Http) start = {0};
  http(M_EPIC, "POST", "/miner", NULL, "{\"param\":\"Autostart\",\"password\":\"letmein\"}",
       &start);
  g_auto(Http) summary2 = {0};
  http(M_EPIC, "GET", "/summary", NULL, NULL, &summary2);
  g_autofree char *mining = string_at(summary2.body, "Status/Operating State");
  g_assert_cmpstr(mining, ==, "Mining");

  g_auto(Http) identify = {0};
  http(M_EPIC, "POST", "/identify", NULL, "{\"param\":true,\"password\":\"letmein\"}", &identify);
  g_assert_cmpint(identify.status, ==, 200);
  g_auto(Http) coin = {0};
  http(M_EPIC, "POST", "/coin", NULL,
       "{\"param\":{\"coin\":\"Btc\",\"stratum_configs\":[{\"pool\":\"stratum+tcp://e.example:"
       "3333\",\"login\":\"e.w\",\"password\":\"x\"}],\"unique_id\":false},\"password\":"
       "\"letmein\"}",
       &coin);
  g_assert_cmpint(coin.status, ==, 200);
  g_auto(Http) summary3 = {0};
  http(M_EPIC, "GET", "/summary", NULL, NULL, &summary3);
  g_autofree char *locate = string_at(summary3.body, "Misc/Locate Miner State");
  g_assert_cmpstr(locate, ==, "true");
  g_autofree char *pool = string_at(summary3.body, "StratumConfigs/0/pool");
  g_assert_cmpstr(pool, ==, "stratum+tcp://e.example:3333");
  g_autofree char *login = string_at(summary3.body, "StratumConfigs/0/login");
  g_assert_cmpstr(login, ==, "e.w");

  g_auto(Http) soft = {0};
  http(M_EPIC, "POST", "/softreboot", NULL, "{\"password\":\"letmein\"}", &soft);
  g_assert_cmpint(soft.status, ==, 200);
  g_auto(Http) summary4 = {0};
  http(M_EPIC, "GET", "/summary", NULL, NULL, &summary4);
  g_assert_cmpfloat(number_at(summary4.body, "Session/Uptime"), <, 5);
}

/* ---- Auradine ---- */

/* Auradine's API on its own web port: every call a POST. */
static void
auradine(const char *auth, const char *path, const char *body, Http *h)
{
  http_on(M_AURADINE, fleet.net.web_port, "POST", path, auth, body, h);
}

static void
auradine_ok(const char *auth, const char *path, const char *body)
{
  g_auto(Http) h = {0};
  auradine(auth, path, body, &h);
  g_assert_cmpint(h.status, ==, 200);
  g_autofree char *st = string_at(h.body, "STATUS/0/STATUS");
  g_assert_cmpstr(st, ==, "S");
}

static void
test_auradine(void)
{
  g_auto(Http) denied = {0};
  auradine(NULL, "/mode", "{\"command\":\"mode\",\"sleep\":\"on\"}", &denied);
  g_assert_cmpint(denied.status, ==, 401);
  g_auto(Http) bad_login = {0};
  auradine(NULL, "/token", "{\"command\":\"token\",\"user\":\"admin\",\"password\":\"no\"}",
           &bad_login);
  g_assert_cmpint(bad_login.status, !=, 200);
  g_auto(Http) login = {0};
  auradine(NULL, "/token", "{\"command\":\"token\",\"user\":\"admin\",\"password\":\"admin\"}",
           &login);
  g_assert_cmpint(login.status, ==, 200);
  g_autofree char *token = string_at(login.body, "Token/0/Token");
  g_autofree char *auth = g_strdup_printf("Token: %s\r\n", token);

  auradine_ok(auth, "/mode", "{\"command\":\"mode\",\"sleep\":\"on\"}");
  g_auto(Http) mode = {0};
  auradine(auth, "/mode", "{\"command\":\"mode\"}", &mode);
  g_autofree char *sleep = string_at(mode.body, "Mode/0/Sleep");
  g_assert_cmpstr(sleep, ==, "on");
  g_assert_cmpfloat(rpc_number(M_AURADINE, "summary", "SUMMARY/0/MHS 5s"), ==, 0);
  auradine_ok(auth, "/mode", "{\"command\":\"mode\",\"sleep\":\"off\"}");
  auradine_ok(auth, "/mode",
              "{\"command\":\"mode\",\"mode\":\"custom\",\"tune\":\"power\","
              "\"power\":2600}");
  g_auto(Http) mode2 = {0};
  auradine(auth, "/mode", "{\"command\":\"mode\"}", &mode2);
  g_autofree char *awake = string_at(mode2.body, "Mode/0/Sleep");
  g_assert_cmpstr(awake, ==, "off");
  g_assert_cmpfloat(number_at(mode2.body, "Mode/0/Power"), ==, 2600);
  auradine_ok(auth, "/mode", "{\"command\":\"mode\",\"mode\":\"turbo\"}");
  g_auto(Http) mode3 = {0};
  auradine(auth, "/mode", "{\"command\":\"mode\"}", &mode3);
  g_autofree char *turbo = string_at(mode3.body, "Mode/0/Mode");
  g_assert_cmpstr(turbo, ==, "turbo");

  auradine_ok(auth, "/led", "{\"command\":\"led\",\"code\":3}");
  g_auto(Http) led = {0};
  auradine(auth, "/led", "{\"command\":\"led\"}", &led);
  g_assert_cmpfloat(number_at(led.body, "LED/0/Code"), ==, 3);

  auradine_ok(auth, "/updatepools",
              "{\"command\":\"updatepools\",\"pools\":[{\"url\":\"stratum+tcp://a.example:3333\","
              "\"user\":\"a.w\",\"pass\":\"x\"}]}");
  g_autofree char *pools = rpc(M_AURADINE, "{\"command\":\"pools\"}");
  g_autofree char *url = string_at(pools, "POOLS/0/URL");
  g_assert_cmpstr(url, ==, "stratum+tcp://a.example:3333");

  auradine_ok(auth, "/restart", "{\"command\":\"restart\"}");
  g_assert_cmpfloat(rpc_number(M_AURADINE, "summary", "SUMMARY/0/Elapsed"), <, 5);
}

/* ---- the control port stages states ---- */

static void
test_control_state(void)
{
  g_autofree char *target = host(M_IGNORE);
  am_test_fleet_set(fleet.fake, target,
                    "paused=1"); /* ignore_actions does not stop the control port */
  g_assert_cmpfloat(rpc_number(M_IGNORE, "summary", "SUMMARY/0/GHS 5s"), ==, 0);
  g_auto(Http) conf = {0};
  cgi(M_IGNORE, "GET", "/cgi-bin/get_miner_conf.cgi", NULL, &conf);
  g_autofree char *mode = string_at(conf.body, "bitmain-work-mode");
  g_assert_cmpstr(mode, ==, "1");
  am_test_fleet_set(fleet.fake, target, "paused=0");
  g_assert_cmpfloat(rpc_number(M_IGNORE, "summary", "SUMMARY/0/GHS 5s"), >, 1000);

  g_autofree char *bad = am_test_fleet_ask(fleet.fake, "set %s paused=maybe", target);
  g_assert_true(g_str_has_prefix(bad, "error: "));
  g_autofree char *bad_mode = am_test_fleet_ask(fleet.fake, "set %s work_mode=turbo", target);
  g_assert_true(g_str_has_prefix(bad_mode, "error: "));

  am_test_fleet_set(fleet.fake, target,
                    "pools=stratum+tcp://a.example:1|wa,stratum+tcp://b.example:2|wb");
  g_autofree char *reply = rpc(M_IGNORE, "{\"command\":\"pools\"}");
  g_autofree char *second = string_at(reply, "POOLS/1/URL");
  g_assert_cmpstr(second, ==, "stratum+tcp://b.example:2");
  g_autofree char *third = string_at(reply, "POOLS/2/URL");
  g_assert_cmpstr(third, ==, "");
}

/* ---- the fleet ---- */

static char *
fleet_text(const char *root)
{
  GString *t = g_string_new(NULL);
  const guint o = fleet.net.octet;
  g_string_append_printf(t, "127.79.%u.%u %s/antminer-s19pro-web http_port=%u\n", o, M_ANTMINER,
                         root, fleet.net.http_port);
  g_string_append_printf(t, "127.79.%u.%u %s/braiins-rest-26 http_port=%u\n", o, M_BRAIINS, root,
                         fleet.net.http_port);
  g_string_append_printf(t, "127.79.%u.%u %s/luxos-actions\n", o, M_LUXOS, root);
  g_string_append_printf(t, "127.79.%u.%u %s/avalon-a\n", o, M_AVALON, root);
  g_string_append_printf(t, "127.79.%u.%u %s/bitaxe-supra http_port=%u\n", o, M_BITAXE, root,
                         fleet.net.http_port);
  g_string_append_printf(t, "127.79.%u.%u %s/antminer-s19pro-web http_port=%u\n", o, M_REBOOT, root,
                         fleet.net.http_port);
  g_string_append_printf(t, "127.79.%u.%u %s/antminer-s19pro-web http_port=%u ignore_actions=1\n",
                         o, M_IGNORE, root, fleet.net.http_port);
  g_string_append_printf(t, "127.79.%u.%u %s/antminer-s19pro\n", o, M_S19, root);
  g_string_append_printf(t, "127.79.%u.%u %s/whatsminer-v2-actions\n", o, M_WM2, root);
  g_string_append_printf(t, "127.79.%u.%u %s/whatsminer-m60s-v3 v3_port=%u\n", o, M_WM3, root,
                         fleet.net.v3_port);
  g_string_append_printf(t, "127.79.%u.%u %s/epic-umc http_port=%u\n", o, M_EPIC, root,
                         fleet.net.http_port);
  g_string_append_printf(t, "127.79.%u.%u %s/auradine-at1500 web_port=%u\n", o, M_AURADINE, root,
                         fleet.net.web_port);
  return g_string_free(t, FALSE);
}

/* A random /24 in 127.79/16 and a random high port; taken ones (another
 * run, the ASan build) mean: try elsewhere. */
static char *
fleet_pick(gpointer user_data, guint16 *port)
{
  (void)user_data;
  fm_test_net_pick(&fleet.net);
  *port = fleet.net.port;
  g_autofree char *root = g_test_build_filename(G_TEST_DIST, "fakeminer", "profiles", NULL);
  return fleet_text(root);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  fleet.fake = am_test_fleet_start_anywhere(fleet_pick, NULL, NULL);
  g_assert_cmpuint(fleet.fake->listeners, ==, M_LAST);
  g_test_add_func("/fakeminer/actions/antminer-cgi", test_antminer_cgi);
  g_test_add_func("/fakeminer/actions/antminer-rpc-restart", test_antminer_rpc_restart);
  g_test_add_func("/fakeminer/actions/reboot", test_reboot);
  g_test_add_func("/fakeminer/actions/ignore-actions", test_ignore_actions);
  g_test_add_func("/fakeminer/actions/braiins-rest", test_braiins_rest);
  g_test_add_func("/fakeminer/actions/luxos", test_luxos);
  g_test_add_func("/fakeminer/actions/avalon", test_avalon);
  g_test_add_func("/fakeminer/actions/axeos", test_axeos);
  g_test_add_func("/fakeminer/actions/antminer-rpc-pools", test_antminer_rpc_pools);
  g_test_add_func("/fakeminer/actions/whatsminer-v2", test_whatsminer_v2);
  g_test_add_func("/fakeminer/actions/whatsminer-v3", test_whatsminer_v3);
  g_test_add_func("/fakeminer/actions/epic", test_epic);
  g_test_add_func("/fakeminer/actions/auradine", test_auradine);
  g_test_add_func("/fakeminer/actions/control-state", test_control_state);
  g_test_add_data_func("/fakeminer/actions/clean-exit", fleet.fake, am_test_fleet_test_clean_exit);
  int status = g_test_run();
  am_test_fleet_stop(fleet.fake);
  return status;
}
