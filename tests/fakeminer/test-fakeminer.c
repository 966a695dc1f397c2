/* Black-box tests of antmon-fakeminer ($ANTMON_FAKEMINER): spawn it on a few
 * loopback addresses of its own (127.77.N.x, random N and high port), talk
 * to it with plain GIO sockets (never libantmon: the fake and the code under
 * test must not share code), and check what a client would see: the cgminer
 * RPC, HTTP (Bitaxe/AxeOS, ePIC) and Whatsminer API v3 framing.
 */
#include "am-test-fleet.h"
#include "fm-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHORT_WAIT_MS 300  /* "nothing happens" for hang and silent */
#define LONG_WAIT_MS 30000 /* a generous bound for replies that do come */

/* Host numbers of the main fleet, 127.77.<octet>.<host>. */
enum {
  M_NORMAL = 1,
  M_HANG,
  M_CLOSE,
  M_GARBAGE,
  M_TRUNCATE,
  M_HUGE,
  M_DRIP,
  M_APIERROR,
  M_SILENT,
  M_REFUSE,
  M_CONTROL, /* changed by the control tests, reset after each */
  M_BRAIINS,
  M_OTHER_PORT,   /* same fleet, its own port */
  M_BITAXE,       /* HTTP on fleet.net.http_port; faults set through the control port */
  M_V3,           /* Whatsminer API v3 on fleet.net.v3_port; likewise */
  M_EPIC,         /* HTTP on fleet.net.http_port */
  M_AURADINE,     /* RPC on fleet.net.port, web API on fleet.net.web_port (token) */
  M_ICERIVER,     /* HTTP on fleet.net.http_port (cookie) */
  M_GOLDSHELL,    /* RPC, HTTP (JWT) */
  M_ELPHAPEX,     /* HTTP (digest) */
  M_BRAIINS_REST, /* RPC, HTTP (raw token) */
  M_PROTO,        /* HTTP (bearer token) */
  M_SEALMINER,    /* RPC, HTTP (form login, cookie) */
  M_LAST = M_SEALMINER,
};

typedef struct {
  AmTestFleet *fake;
  FmTestNet net;
  char *dir;
} Fleet;

static Fleet fleet;

/* ---- helpers: files and spawning ---- */

static GBytes *
profile_file(const char *profile, const char *command)
{
  g_autofree char *dir = am_test_profile_dir(profile);
  g_autofree char *name = g_strconcat(command, ".json", NULL);
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &data, &len, &error))
    g_error("%s", error->message);
  return g_bytes_new_take(g_steal_pointer(&data), len);
}

static char *
host(guint n)
{
  return g_strdup_printf("127.77.%u.%u", fleet.net.octet, n);
}

static GSubprocess *
spawn(const char *const *argv, GError **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
      am_test_launcher(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  return g_subprocess_launcher_spawnv(launcher, argv, error);
}

/* Runs the fake expecting it to fail at start-up; returns its stderr. */
static char *
run_expect_failure(const char *const *argv, int *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = spawn(argv, &error);
  g_assert_no_error(error);
  g_autofree char *err = NULL;
  g_subprocess_communicate_utf8(process, NULL, NULL, NULL, &err, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_if_exited(process));
  *status = g_subprocess_get_exit_status(process);
  return g_steal_pointer(&err);
}

static char *
write_temp_file(const char *name, const char *text)
{
  char *path = g_build_filename(fleet.dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_file_set_contents(path, text, -1, &error);
  g_assert_no_error(error);
  return path;
}

/* ---- helpers: talking to miners ---- */

typedef struct {
  GByteArray *data;
  gboolean eof;       /* the fake closed the connection */
  gboolean timed_out; /* nothing more within the wait */
  GError *error;      /* connect or I/O error */
} Reply;

static void
reply_clear(Reply *r)
{
  if (r->data != NULL)
    g_byte_array_unref(r->data);
  g_clear_error(&r->error);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Reply, reply_clear)

static GSocketConnection *
connect_to(guint n, guint16 port, GError **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_socket_client_set_timeout(client, 5);
  g_socket_client_set_enable_proxy(client, FALSE);
  g_autofree char *address = host(n);
  return g_socket_client_connect_to_host(client, address, port, NULL, error);
}

/* Reads until EOF, @max bytes, or @wait_ms without a byte. */
static void
read_reply(GSocket *socket, gsize max, guint wait_ms, Reply *r)
{
  char buf[65536];
  while (r->data->len < max) {
    g_autoptr(GError) error = NULL;
    if (!g_socket_condition_timed_wait(socket, G_IO_IN, (gint64)wait_ms * 1000, NULL, &error)) {
      r->timed_out = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      if (!r->timed_out)
        r->error = g_steal_pointer(&error);
      return;
    }
    gssize n = g_socket_receive(socket, buf, sizeof buf, NULL, &error);
    if (n < 0) {
      r->error = g_steal_pointer(&error);
      return;
    }
    if (n == 0) {
      r->eof = TRUE;
      return;
    }
    g_byte_array_append(r->data, (guint8 *)buf, (guint)n);
  }
}

/* One cgminer exchange: connect, send @request (if any), read the answer. */
static void
exchange_full(guint n, guint16 port, const char *request, gsize max, guint wait_ms, Reply *r)
{
  r->data = g_byte_array_new();
  g_autoptr(GSocketConnection) conn = connect_to(n, port, &r->error);
  if (conn == NULL)
    return;
  GSocket *socket = g_socket_connection_get_socket(conn);
  if (request != NULL &&
      !g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), request,
                                 strlen(request), NULL, NULL, &r->error))
    return;
  read_reply(socket, max, wait_ms, r);
}

static void
exchange(guint n, const char *request, Reply *r)
{
  exchange_full(n, fleet.net.port, request, 16 * 1024 * 1024, LONG_WAIT_MS, r);
}

/* The reply as text without its trailing NUL (asserting the NUL is there). */
static char *
reply_text(Reply *r)
{
  g_assert_no_error(r->error);
  g_assert_true(r->eof);
  g_assert_cmpuint(r->data->len, >, 0);
  g_assert_cmpint(r->data->data[r->data->len - 1], ==, '\0');
  return g_strndup((char *)r->data->data, r->data->len - 1);
}

static char *
command_reply(guint n, const char *command)
{
  g_autofree char *request = g_strdup_printf("{\"command\":\"%s\"}", command);
  g_auto(Reply) r = {0};
  exchange(n, request, &r);
  return reply_text(&r);
}

/* Digits and number punctuation masked, so replies whose numbers were varied
 * compare equal to the recorded file when nothing else differs. */
static char *
mask_numbers(const char *text)
{
  GString *s = g_string_new(NULL);
  for (const char *p = text; *p != '\0'; p++) {
    gboolean numeric = g_ascii_isdigit(*p) || *p == '.' || *p == '-';
    if (!numeric)
      g_string_append_c(s, *p);
    else if (s->len == 0 || s->str[s->len - 1] != '#')
      g_string_append_c(s, '#');
  }
  return g_string_free(s, FALSE);
}

static void
assert_same_but_numbers(const char *got, const char *expected)
{
  g_autofree char *a = mask_numbers(got);
  g_autofree char *b = mask_numbers(expected);
  g_assert_cmpstr(a, ==, b);
}

static char *
file_text(const char *profile, const char *command)
{
  g_autoptr(GBytes) bytes = profile_file(profile, command);
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  return g_strndup(data, len);
}

/* The number after "key": (quoted or not), or NAN. */
static double
number_of(const char *text, const char *key)
{
  g_autofree char *escaped = g_regex_escape_string(key, -1);
  g_autofree char *pattern = g_strdup_printf("\"%s\"\\s*:\\s*\"?(-?[0-9]+(\\.[0-9]+)?)", escaped);
  g_autoptr(GRegex) regex = g_regex_new(pattern, 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  if (!g_regex_match(regex, text, 0, &match))
    return NAN;
  g_autofree char *number = g_match_info_fetch(match, 1);
  return g_ascii_strtod(number, NULL);
}

static JsonObject *
parse_object(const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  json_parser_load_from_data(parser, text, -1, &error);
  g_assert_no_error(error);
  JsonNode *root = json_parser_get_root(parser);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
  return json_object_ref(json_node_get_object(root));
}

static JsonObject *
status_of(JsonObject *reply)
{
  JsonArray *status = json_object_get_array_member(reply, "STATUS");
  g_assert_nonnull(status);
  return json_array_get_object_element(status, 0);
}

/* ---- normal replies ---- */

static void
test_reply_is_file(void)
{
  /* pools and version hold no varied number: byte for byte + NUL. */
  const char *commands[] = {"pools", "version"};
  for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
    g_autoptr(GBytes) expected = profile_file("antminer-s9", commands[i]);
    g_autofree char *request = g_strdup_printf("{\"command\":\"%s\"}", commands[i]);
    g_auto(Reply) r = {0};
    exchange(M_NORMAL, request, &r);
    g_assert_no_error(r.error);
    g_assert_true(r.eof);
    gsize len = 0;
    const guint8 *data = g_bytes_get_data(expected, &len);
    g_assert_cmpmem(r.data->data, r.data->len, data, len + 1); /* the NUL from the file's end */
    g_assert_cmpint(r.data->data[r.data->len - 1], ==, '\0');
  }
}

static void
test_reply_malformed_kept(void)
{
  /* stats has "}{" on purpose: it must come out just as recorded. */
  g_autofree char *got = command_reply(M_NORMAL, "stats");
  g_autofree char *expected = file_text("antminer-s9", "stats");
  g_assert_nonnull(strstr(got, "\"}{\"STATS\":0"));
  assert_same_but_numbers(got, expected);
  g_assert_cmpfloat(number_of(got, "temp2_7"), ==, -83); /* the broken sensor stays broken */
  g_assert_cmpfloat(number_of(got, "temp7"), ==, 0);     /* unused slots stay 0 */
  g_assert_cmpfloat(number_of(got, "chain_rateideal6"), ==, 4620.34);
}

static void
test_reply_other_profile(void)
{
  g_autofree char *got = command_reply(M_BRAIINS, "temps");
  g_autofree char *expected = file_text("braiins-s9", "temps");
  assert_same_but_numbers(got, expected);
  g_autofree char *version = command_reply(M_BRAIINS, "version");
  g_autofree char *version_file = file_text("braiins-s9", "version");
  g_assert_cmpstr(version, ==, version_file);
}

static void
test_reply_plain_text(void)
{
  g_autofree char *expected = file_text("antminer-s9", "pools");
  const char *requests[] = {"pools", "pools|0", "pools\n",
                            "{\"command\":\"pools\",\"parameter\":\"0\"}"};
  for (gsize i = 0; i < G_N_ELEMENTS(requests); i++) {
    g_auto(Reply) r = {0};
    exchange(M_NORMAL, requests[i], &r);
    g_autofree char *got = reply_text(&r);
    g_assert_cmpstr(got, ==, expected);
  }
}

static void
test_reply_multi(void)
{
  /* Valid parts: the whole reply parses, each part wrapped in an array. */
  g_autofree char *got = command_reply(M_NORMAL, "summary+pools");
  g_autoptr(JsonObject) reply = parse_object(got);
  JsonArray *summary = json_object_get_array_member(reply, "summary");
  JsonArray *pools = json_object_get_array_member(reply, "pools");
  g_assert_cmpuint(json_array_get_length(summary), ==, 1);
  g_assert_cmpuint(json_array_get_length(pools), ==, 1);
  JsonObject *inner = json_array_get_object_element(summary, 0);
  g_assert_cmpstr(json_object_get_string_member(status_of(inner), "STATUS"), ==, "S");
  g_assert_true(json_object_has_member(inner, "SUMMARY"));
  g_assert_true(json_object_has_member(json_array_get_object_element(pools, 0), "POOLS"));
  g_assert_cmpint(json_object_get_int_member(reply, "id"), ==, 1);

  /* A malformed part goes in as it is, exactly as firmware would send it. */
  g_autofree char *mixed = command_reply(M_NORMAL, "stats+version+stats");
  g_autofree char *stats = file_text("antminer-s9", "stats");
  g_autofree char *version = file_text("antminer-s9", "version");
  g_autofree char *expected =
      g_strdup_printf("{\"stats\":[%s],\"version\":[%s],\"id\":1}", stats, version);
  assert_same_but_numbers(mixed, expected);
}

static void
test_reply_unknown_command(void)
{
  const char *commands[] = {"frobnicate", "summary+frobnicate"};
  for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
    g_autofree char *got = command_reply(M_BRAIINS, commands[i]); /* braiins has no stats */
    g_autoptr(JsonObject) reply = parse_object(got);
    JsonObject *target = reply;
    if (json_object_has_member(reply, "frobnicate"))
      target = json_array_get_object_element(json_object_get_array_member(reply, "frobnicate"), 0);
    JsonObject *status = status_of(target);
    g_assert_cmpstr(json_object_get_string_member(status, "STATUS"), ==, "E");
    g_assert_cmpint(json_object_get_int_member(status, "Code"), ==, 14);
    g_assert_cmpstr(json_object_get_string_member(status, "Msg"), ==, "Invalid command");
  }
}

static void
test_reply_bad_requests(void)
{
  /* Larger than any real request, binary noise, broken JSON: closed unanswered. */
  GString *huge = g_string_new("{\"command\":\"");
  while (huge->len < 6000)
    g_string_append(huge, "summary");
  g_autofree char *big = g_string_free(huge, FALSE);
  const char *requests[] = {big, "\x01\x02\x03\xff", "{\"command\":42}"};
  for (gsize i = 0; i < G_N_ELEMENTS(requests); i++) {
    g_auto(Reply) r = {0};
    exchange(M_NORMAL, requests[i], &r);
    g_assert_cmpuint(r.data->len, ==, 0);
    g_assert_false(r.timed_out);
  }
}

/* ---- varied numbers ---- */

static void
assert_within(double value, double centre, double bound)
{
  g_assert_false(isnan(value));
  if (!(value >= centre - bound - 1e-9 && value <= centre + bound + 1e-9))
    g_error("%g is not within %g +- %g", value, centre, bound);
}

static void
test_variation_bounds(void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < 200; i++) {
    g_autofree char *stats = command_reply(M_NORMAL, "stats");
    double ghs = number_of(stats, "GHS 5s");
    assert_within(ghs, 13883.81, 13883.81 * 0.02);
    assert_within(number_of(stats, "GHS av"), 13890.36, 13890.36 * 0.005);
    assert_within(number_of(stats, "chain_rate6"), 4618.85, 4618.85 * 0.02);
    assert_within(number_of(stats, "temp6"), 75, 1.5);
    assert_within(number_of(stats, "temp2_8"), 62, 1.5);
    g_assert_cmpfloat(number_of(stats, "temp2_7"), ==, -83);
    g_hash_table_add(seen, g_strdup_printf("%.2f", ghs));
  }
  /* The point of varying: charts move. */
  g_assert_cmpuint(g_hash_table_size(seen), >, 5);

  /* MHS floats with many decimals keep their format. */
  g_autofree char *bos = command_reply(M_BRAIINS, "summary");
  assert_within(number_of(bos, "MHS 5s"), 14274425.317759488, 14274425.317759488 * 0.02);
  g_autoptr(GRegex) nine = g_regex_new("\"MHS 5s\":[0-9]+\\.[0-9]{9},", 0, 0, NULL);
  g_assert_true(g_regex_match(nine, bos, 0, NULL));
  g_autofree char *temps = command_reply(M_BRAIINS, "temps");
  assert_within(number_of(temps, "Board"), 53.0, 1.5);
  g_assert_cmpfloat(number_of(temps, "Chip"), ==, 0); /* S9 has no chip sensor */
}

/* ---- faults ---- */

static void
test_fault_hang(void)
{
  g_auto(Reply) r = {0};
  exchange_full(M_HANG, fleet.net.port, "{\"command\":\"summary\"}", 1024, SHORT_WAIT_MS, &r);
  g_assert_no_error(r.error);
  g_assert_true(r.timed_out);
  g_assert_cmpuint(r.data->len, ==, 0);
}

static void
test_fault_close(void)
{
  g_auto(Reply) r = {0};
  exchange_full(M_CLOSE, fleet.net.port, NULL, 1024, LONG_WAIT_MS, &r);
  g_assert_no_error(r.error);
  g_assert_true(r.eof);
  g_assert_cmpuint(r.data->len, ==, 0);
}

static void
test_fault_garbage(void)
{
  g_auto(Reply) r = {0};
  exchange(M_GARBAGE, "{\"command\":\"summary\"}", &r);
  g_autofree char *text = reply_text(&r);
  g_assert_cmpuint(r.data->len, >, 16);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_false(json_parser_load_from_data(parser, text, -1, NULL));
}

static void
test_fault_truncate(void)
{
  g_auto(Reply) r = {0};
  exchange(M_TRUNCATE, "{\"command\":\"pools\"}", &r);
  g_assert_no_error(r.error);
  g_assert_true(r.eof);
  g_autoptr(GBytes) file = profile_file("antminer-s9", "pools");
  gsize len = 0;
  const guint8 *data = g_bytes_get_data(file, &len);
  g_assert_cmpuint(r.data->len, >, 0);
  g_assert_cmpuint(r.data->len, <, len);
  g_assert_null(memchr(r.data->data, '\0', r.data->len));
  g_assert_cmpmem(r.data->data, r.data->len, data, r.data->len); /* a prefix */
}

static void
test_fault_huge(void)
{
  g_auto(Reply) r = {0};
  gsize wanted = 4 * 1024 * 1024 + 1;
  exchange_full(M_HUGE, fleet.net.port, "{\"command\":\"stats\"}", wanted, LONG_WAIT_MS, &r);
  g_assert_no_error(r.error);
  g_assert_cmpuint(r.data->len, >=, wanted); /* and we stop reading: the fake must cope */
  static const char head[] = "{\"STATUS\":[{\"STATUS\":\"S\"";
  g_assert_cmpmem(r.data->data, sizeof head - 1, head, sizeof head - 1);
  g_assert_null(memchr(r.data->data, '\0', r.data->len));
  g_autofree char *tail = g_strndup((char *)r.data->data + r.data->len - 4096, 4000);
  g_assert_nonnull(strstr(tail, "\"GHS 5s\":"));
  /* Still serving others after a peer walked away from a stream. */
  g_autofree char *version = command_reply(M_NORMAL, "version");
  g_assert_nonnull(strstr(version, "Antminer S9"));
}

static void
test_fault_drip(void)
{
  g_auto(Reply) r = {0};
  exchange(M_DRIP, "{\"command\":\"version\"}", &r);
  g_autofree char *got = reply_text(&r);
  g_autofree char *expected = file_text("antminer-s9", "version");
  g_assert_cmpstr(got, ==, expected);
}

static void
test_fault_apierror(void)
{
  g_autofree char *got = command_reply(M_APIERROR, "summary");
  g_autoptr(JsonObject) reply = parse_object(got);
  JsonObject *status = status_of(reply);
  g_assert_cmpstr(json_object_get_string_member(status, "STATUS"), ==, "E");
  g_assert_cmpint(json_object_get_int_member(status, "Code"), ==, 45);
  g_assert_false(json_object_has_member(reply, "SUMMARY"));
}

/* TRUE when a TCP connect to @n completes within @wait_ms. */
static gboolean
connect_completes(guint n, guint16 port, guint wait_ms)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error(error);
  g_socket_set_blocking(socket, FALSE);
  g_autofree char *text = host(n);
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string(text);
  g_autoptr(GSocketAddress) target = g_inet_socket_address_new(address, port);
  if (g_socket_connect(socket, target, NULL, &error))
    return TRUE;
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error(&error);
  if (!g_socket_condition_timed_wait(socket, G_IO_OUT, (gint64)wait_ms * 1000, NULL, &error)) {
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    return FALSE;
  }
  g_assert_true(g_socket_check_connect_result(socket, &error));
  return TRUE;
}

static void
test_fault_silent(void)
{
  g_assert_false(connect_completes(M_SILENT, fleet.net.port, SHORT_WAIT_MS));
  g_assert_true(connect_completes(M_NORMAL, fleet.net.port, LONG_WAIT_MS)); /* the probe works */
}

static void
test_fault_refuse(void)
{
  g_auto(Reply) r = {0};
  exchange(M_REFUSE, "{\"command\":\"summary\"}", &r);
  g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

static void
test_fleet_ports(void)
{
  /* A fleet line's own :PORT wins over --port. */
  g_auto(Reply) r = {0};
  exchange_full(M_OTHER_PORT, (guint16)(fleet.net.port + 1), "{\"command\":\"version\"}", 65536,
                LONG_WAIT_MS, &r);
  g_autofree char *got = reply_text(&r);
  g_assert_nonnull(strstr(got, "BOSminer+"));
}

/* ---- the control port ---- */

static void
reset_control_miner(void)
{
  g_autofree char *dir = am_test_profile_dir("antminer-s9");
  g_autofree char *line = g_strdup_printf(
      "set 127.77.%u.%u fault=none hashrate_scale=1 temp_offset=0 joined=answer profile=%s",
      fleet.net.octet, M_CONTROL, dir);
  am_test_fleet_control(fleet.fake, line);
}

/* joined=refuse: a joined command gets cgminer's "Invalid command" for the
 * whole, while each command alone still answers; joined=answer undoes it.
 * (The S9 profile's stats has "}{" as recorded: pools parses as JSON.) */
static void
test_control_joined(void)
{
  g_autofree char *target = host(M_CONTROL);
  g_autofree char *refuse = g_strdup_printf("set %s joined=refuse", target);
  am_test_fleet_control(fleet.fake, refuse);
  {
    g_autofree char *got = command_reply(M_CONTROL, "summary+pools");
    g_autoptr(JsonObject) reply = parse_object(got);
    g_assert_false(json_object_has_member(reply, "summary"));
    JsonObject *status = status_of(reply);
    g_assert_cmpstr(json_object_get_string_member(status, "STATUS"), ==, "E");
    g_assert_cmpstr(json_object_get_string_member(status, "Msg"), ==, "Invalid command");
    g_autofree char *summary = command_reply(M_CONTROL, "summary");
    g_assert_nonnull(strstr(summary, "\"SUMMARY\""));
  }
  g_autofree char *answer = g_strdup_printf("set %s joined=answer", target);
  am_test_fleet_control(fleet.fake, answer);
  g_autofree char *got = command_reply(M_CONTROL, "summary+pools");
  g_autoptr(JsonObject) reply = parse_object(got);
  g_assert_true(json_object_has_member(reply, "summary"));
  g_assert_true(json_object_has_member(reply, "pools"));
  reset_control_miner();
}

static void
test_control_fault(void)
{
  g_autofree char *target = host(M_CONTROL);
  g_autofree char *hang = g_strdup_printf("set %s fault=hang", target);
  am_test_fleet_control(fleet.fake, hang);
  {
    g_auto(Reply) r = {0};
    exchange_full(M_CONTROL, fleet.net.port, "{\"command\":\"summary\"}", 1024, SHORT_WAIT_MS, &r);
    g_assert_true(r.timed_out);
  }
  g_autofree char *refuse = g_strdup_printf("set %s:%u fault=refuse", target, fleet.net.port);
  am_test_fleet_control(fleet.fake, refuse);
  {
    g_auto(Reply) r = {0};
    exchange(M_CONTROL, "{\"command\":\"summary\"}", &r);
    g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  }
  g_autofree char *silent = g_strdup_printf("set %s fault=silent", target);
  am_test_fleet_control(fleet.fake, silent);
  g_assert_false(connect_completes(M_CONTROL, fleet.net.port, SHORT_WAIT_MS));
  g_autofree char *none = g_strdup_printf("set %s fault=none", target);
  am_test_fleet_control(fleet.fake, none);
  g_autofree char *version = command_reply(M_CONTROL, "version");
  g_autofree char *expected = file_text("antminer-s9", "version");
  g_assert_cmpstr(version, ==, expected);
  reset_control_miner();
}

static void
test_control_hashrate_and_temp(void)
{
  g_autofree char *target = host(M_CONTROL);
  g_autofree char *set = g_strdup_printf("set %s hashrate_scale=0.5 temp_offset=+20", target);
  am_test_fleet_control(fleet.fake, set);
  for (int i = 0; i < 20; i++) {
    g_autofree char *stats = command_reply(M_CONTROL, "stats");
    assert_within(number_of(stats, "GHS 5s"), 13883.81 / 2, 13883.81 / 2 * 0.02);
    assert_within(number_of(stats, "chain_rate8"), 4640.41 / 2, 4640.41 / 2 * 0.02);
    assert_within(number_of(stats, "temp6"), 95, 1.5);
    g_assert_cmpfloat(number_of(stats, "temp7"), ==, 0); /* unused stays unused */
  }
  reset_control_miner();
  g_autofree char *stats = command_reply(M_CONTROL, "stats");
  assert_within(number_of(stats, "GHS 5s"), 13883.81, 13883.81 * 0.02);
}

static void
test_control_profile(void)
{
  g_autofree char *target = host(M_CONTROL);
  g_autofree char *dir = am_test_profile_dir("whatsminer-m20s");
  g_autofree char *set = g_strdup_printf("set %s profile=%s", target, dir);
  am_test_fleet_control(fleet.fake, set);
  g_autofree char *summary = command_reply(M_CONTROL, "summary");
  assert_within(number_of(summary, "MHS 5s"), 65371302.78, 65371302.78 * 0.02);
  assert_within(number_of(summary, "Temperature"), 75, 1.5);
  reset_control_miner();
}

static void
test_control_errors_and_stats(void)
{
  g_autofree char *target = host(M_CONTROL);
  struct {
    char *line;
    const char *needle;
  } bad[] = {
      {g_strdup_printf("set %s fault=wobble", target), "wobble"},
      {g_strdup_printf("set %s hashrate_scale=lots", target), "hashrate_scale"},
      {g_strdup_printf("set %s colour=blue", target), "colour"},
      {g_strdup_printf("set %s profile=/nonexistent", target), "nonexistent"},
      {g_strdup("set 10.0.0.1 fault=none"), "no miner"},
      {g_strdup("frobnicate"), "frobnicate"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *answer = am_test_fleet_ask(fleet.fake, "%s", bad[i].line);
    g_assert_true(g_str_has_prefix(answer, "error: "));
    g_assert_nonnull(strstr(answer, bad[i].needle));
    g_free(bad[i].line);
  }
  /* A failed line changes nothing. */
  g_autofree char *half = g_strdup_printf("set %s hashrate_scale=0.1 fault=wobble", target);
  g_autofree char *answer = am_test_fleet_ask(fleet.fake, "%s", half);
  g_assert_true(g_str_has_prefix(answer, "error: "));
  g_autofree char *stats_reply = command_reply(M_CONTROL, "stats");
  assert_within(number_of(stats_reply, "GHS 5s"), 13883.81, 13883.81 * 0.02);

  g_autofree char *get = am_test_fleet_ask(fleet.fake, "get %s", target);
  g_assert_nonnull(strstr(get, "fault=none"));
  g_autofree char *stats = am_test_fleet_ask(fleet.fake, "stats");
  g_assert_true(g_str_has_suffix(stats, "\nok\n"));
  g_assert_true(g_str_has_prefix(stats, "connections "));
  g_assert_nonnull(strstr(stats, "\ncommand stats "));
  g_assert_null(strstr(stats, "\nfault hang 0\n"));      /* test_fault_hang ran before */
  g_assert_nonnull(strstr(stats, "\nfault refuse 0\n")); /* nothing to count there */
}

/* ---- HTTP (Bitaxe / AxeOS, ePIC) ---- */

typedef struct {
  int status;
  char *head; /* status line and headers */
  char *body;
  gsize body_len;
} HttpReply;

static void
http_reply_clear(HttpReply *h)
{
  g_free(h->head);
  g_free(h->body);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HttpReply, http_reply_clear)

static char *
http_request(const char *method, const char *path, gboolean close)
{
  return g_strdup_printf("%s %s HTTP/1.1\r\nHost: miner\r\nAccept: */*\r\n%s\r\n", method, path,
                         close ? "Connection: close\r\n" : "");
}

/* Splits one whole response at the start of @data (Content-Length bytes of
 * body); returns its length, or 0 when it is not all there. */
static gsize
http_split(const guint8 *data, gsize len, HttpReply *h)
{
  if (len == 0)
    return 0;
  g_autofree char *text = g_strndup((const char *)data, len);
  const char *end = strstr(text, "\r\n\r\n");
  if (end == NULL)
    return 0;
  gsize head_len = (gsize)(end - text) + 4;
  g_autofree char *head = g_strndup(text, head_len);
  const char *cl = strstr(head, "\r\nContent-Length: ");
  g_assert_nonnull(cl);
  gsize body_len = (gsize)g_ascii_strtoull(cl + 18, NULL, 10);
  if (len < head_len + body_len)
    return 0;
  g_assert_cmpint(sscanf(head, "HTTP/1.1 %d ", &h->status), ==, 1);
  h->head = g_steal_pointer(&head);
  h->body = g_strndup((const char *)data + head_len, body_len);
  h->body_len = body_len;
  return head_len + body_len;
}

/* One request on its own connection (Connection: close), read to EOF. */
static void
http_exchange(guint n, const char *method, const char *path, HttpReply *h)
{
  g_autofree char *request = http_request(method, path, TRUE);
  g_auto(Reply) r = {0};
  exchange_full(n, fleet.net.http_port, request, 16 * 1024 * 1024, LONG_WAIT_MS, &r);
  g_assert_no_error(r.error);
  g_assert_true(r.eof);
  g_assert_cmpuint(http_split(r.data->data, r.data->len, h), ==, r.data->len);
}

static void
test_http_system_info(void)
{
  g_auto(HttpReply) h = {0};
  http_exchange(M_BITAXE, "GET", "/api/system/info", &h);
  g_assert_cmpint(h.status, ==, 200);
  g_assert_nonnull(strstr(h.head, "\r\nContent-Type: application/json\r\n"));
  g_autofree char *expected = file_text("bitaxe-supra", "system-info");
  assert_same_but_numbers(h.body, expected);
  assert_within(number_of(h.body, "hashRate"), 1000, 1000 * 0.02);
  assert_within(number_of(h.body, "temp"), 59.875, 1.5);
  g_assert_cmpfloat(number_of(h.body, "power"), ==, 2.65000009536743); /* as recorded */
  g_assert_nonnull(strstr(h.body, "\"ASICModel\": \"BM1368\""));
}

static void
test_http_index(void)
{
  g_auto(HttpReply) h = {0};
  http_exchange(M_BITAXE, "GET", "/", &h);
  g_assert_cmpint(h.status, ==, 200);
  g_assert_nonnull(strstr(h.head, "\r\nContent-Type: text/html"));
  g_assert_nonnull(strstr(h.body, "<title>AxeOS</title>"));
  /* HEAD: the same head, no body. */
  g_autofree char *request = http_request("HEAD", "/", TRUE);
  g_auto(Reply) r = {0};
  exchange_full(M_BITAXE, fleet.net.http_port, request, 65536, LONG_WAIT_MS, &r);
  g_assert_true(r.eof);
  g_autofree char *text = g_strndup((char *)r.data->data, r.data->len);
  g_assert_true(g_str_has_prefix(text, "HTTP/1.1 200 OK\r\n"));
  g_assert_true(g_str_has_suffix(text, "\r\n\r\n"));
}

static void
test_http_not_found(void)
{
  /* AxeOS 2.4.5 has no /api/system/asic (v2.9 added it). */
  const char *paths[] = {"/api/system/asic", "/nope", "/api/system/info/extra"};
  for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
    g_auto(HttpReply) h = {0};
    http_exchange(M_BITAXE, "GET", paths[i], &h);
    g_assert_cmpint(h.status, ==, 404);
  }
  g_auto(HttpReply) post = {0};
  http_exchange(M_BITAXE, "POST", "/api/system/info", &post);
  g_assert_cmpint(post.status, ==, 404);
  /* A query string does not change the path. */
  g_auto(HttpReply) query = {0};
  http_exchange(M_BITAXE, "GET", "/api/system/info?x=1", &query);
  g_assert_cmpint(query.status, ==, 200);
}

static void
test_http_keep_alive(void)
{
  /* Two requests on one connection, the second pipelined behind a third. */
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) conn = connect_to(M_BITAXE, fleet.net.http_port, &error);
  g_assert_no_error(error);
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
  GSocket *socket = g_socket_connection_get_socket(conn);
  g_autofree char *first = http_request("GET", "/api/system/info", FALSE);
  g_output_stream_write_all(out, first, strlen(first), NULL, NULL, &error);
  g_assert_no_error(error);
  g_auto(Reply) r = {0};
  r.data = g_byte_array_new();
  g_auto(HttpReply) h1 = {0};
  while (http_split(r.data->data, r.data->len, &h1) == 0) {
    read_reply(socket, r.data->len + 1, LONG_WAIT_MS, &r);
    g_assert_false(r.eof);
    g_assert_no_error(r.error);
  }
  g_assert_cmpint(h1.status, ==, 200);
  g_assert_nonnull(strstr(h1.head, "Connection: keep-alive"));
  g_autofree char *second = http_request("GET", "/nope", FALSE);
  g_autofree char *third = http_request("GET", "/", TRUE);
  g_autofree char *both = g_strconcat(second, third, NULL);
  g_output_stream_write_all(out, both, strlen(both), NULL, NULL, &error);
  g_assert_no_error(error);
  g_auto(Reply) rest = {0};
  rest.data = g_byte_array_new();
  read_reply(socket, 1024 * 1024, LONG_WAIT_MS, &rest);
  g_assert_true(rest.eof); /* the third asked to close */
  g_auto(HttpReply) h2 = {0};
  gsize used = http_split(rest.data->data, rest.data->len, &h2);
  g_assert_cmpuint(used, >, 0);
  g_assert_cmpint(h2.status, ==, 404);
  g_auto(HttpReply) h3 = {0};
  g_assert_cmpuint(http_split(rest.data->data + used, rest.data->len - used, &h3), ==,
                   rest.data->len - used);
  g_assert_cmpint(h3.status, ==, 200);
  g_assert_nonnull(strstr(h3.body, "AxeOS"));
}

static void
test_http_not_http(void)
{
  /* A cgminer request on an HTTP port: 400 at once, not a timeout. */
  g_auto(Reply) r = {0};
  exchange_full(M_EPIC, fleet.net.http_port, "{\"command\":\"version\"}", 65536, LONG_WAIT_MS, &r);
  g_assert_no_error(r.error);
  g_assert_true(r.eof);
  g_autofree char *text = g_strndup((char *)r.data->data, r.data->len);
  g_assert_true(g_str_has_prefix(text, "HTTP/1.1 400 Bad Request\r\n"));
}

static void
test_http_epic(void)
{
  const char *paths[][2] = {
      {"/summary", "summary"}, {"/capabilities", "capabilities"}, {"/temps", "temps"},
      {"/network", "network"}, {"/temps/chip", "chip_temps"},     {"/hashrate", "chip_hashrates"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
    g_auto(HttpReply) h = {0};
    http_exchange(M_EPIC, "GET", paths[i][0], &h);
    g_assert_cmpint(h.status, ==, 200);
    g_autofree char *expected = file_text("epic-umc", paths[i][1]);
    assert_same_but_numbers(h.body, expected);
  }
  g_auto(HttpReply) network = {0};
  http_exchange(M_EPIC, "GET", "/network", &network);
  g_autofree char *expected = file_text("epic-umc", "network");
  g_assert_cmpstr(network.body, ==, expected); /* nothing varied there */
  g_auto(HttpReply) page = {0};
  http_exchange(M_EPIC, "GET", "/", &page);
  g_assert_nonnull(strstr(page.body, "Miner Web Dashboard"));
}

/* ---- HTTP logins, body and query routing, the second HTTP port ---- */

/* One request with extra header lines and a body, on its own connection. */
static void
http_call(guint n, guint16 port, const char *method, const char *target, const char *headers,
          const char *body, HttpReply *h)
{
  g_autofree char *request = g_strdup_printf(
      "%s %s HTTP/1.1\r\nHost: miner\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s",
      method, target, headers ? headers : "", body ? strlen(body) : 0, body ? body : "");
  g_auto(Reply) r = {0};
  exchange_full(n, port, request, 16 * 1024 * 1024, LONG_WAIT_MS, &r);
  g_assert_no_error(r.error);
  g_assert_true(r.eof);
  g_assert_cmpuint(http_split(r.data->data, r.data->len, h), ==, r.data->len);
}

/* The value of header @name in a response head, or NULL. */
static char *
head_value(const char *head, const char *name)
{
  g_autofree char *needle = g_strdup_printf("\r\n%s: ", name);
  const char *at = strstr(head, needle);
  if (at == NULL)
    return NULL;
  at += strlen(needle);
  return g_strndup(at, strcspn(at, "\r\n"));
}

/* A string member of a JSON reply, by its path "a/0/b". */
static char *
json_string_at(const char *text, const char *path)
{
  g_autoptr(JsonNode) node = fm_test_json_at(text, path);
  return g_strdup(json_node_get_string(node));
}

static void
assert_profile_body(const HttpReply *h, const char *profile, const char *file)
{
  g_assert_cmpint(h->status, ==, 200);
  g_autofree char *expected = file_text(profile, file);
  assert_same_but_numbers(h->body, expected);
}

static void
test_auth_digest(void)
{
  /* Every request without credentials: 401 and the challenge, GET / too. */
  g_auto(HttpReply) first = {0};
  http_call(M_ELPHAPEX, fleet.net.http_port, "GET", "/", NULL, NULL, &first);
  g_assert_cmpint(first.status, ==, 401);
  g_autofree char *challenge = head_value(first.head, "WWW-Authenticate");
  g_assert_nonnull(challenge);
  g_assert_true(g_str_has_prefix(challenge, "Digest realm=\"Daoge Miner\""));
  g_assert_nonnull(strstr(challenge, "qop=\"auth\""));
  /* The right credentials: the recorded reply. */
  const char *uri = "/cgi-bin/get_system_info.cgi";
  g_autofree char *good = fm_test_digest_header(challenge, "root", "root", "GET", uri);
  g_auto(HttpReply) ok = {0};
  http_call(M_ELPHAPEX, fleet.net.http_port, "GET", uri, good, NULL, &ok);
  assert_profile_body(&ok, "elphapex-dg1", "get_system_info");
  g_assert_nonnull(strstr(ok.body, "\"minertype\": \"DG-Home1\""));
  /* A wrong password, or a response signed for another URI: 401 again. */
  g_autofree char *bad = fm_test_digest_header(challenge, "root", "wrong", "GET", uri);
  g_auto(HttpReply) refused = {0};
  http_call(M_ELPHAPEX, fleet.net.http_port, "GET", uri, bad, NULL, &refused);
  g_assert_cmpint(refused.status, ==, 401);
  g_autofree char *again = head_value(refused.head, "WWW-Authenticate");
  g_assert_cmpstr(again, ==, challenge);
  g_auto(HttpReply) replayed = {0};
  http_call(M_ELPHAPEX, fleet.net.http_port, "GET", "/cgi-bin/summary.cgi", good, NULL, &replayed);
  g_assert_cmpint(replayed.status, ==, 401);
}

/* Logs in with a JSON body; returns the token at @path of the reply. */
static char *
login_json(guint n, guint16 port, const char *route, const char *body, const char *path)
{
  g_auto(HttpReply) h = {0};
  http_call(n, port, "POST", route, "Content-Type: application/json\r\n", body, &h);
  g_assert_cmpint(h.status, ==, 200);
  char *token = json_string_at(h.body, path);
  g_assert_cmpuint(strlen(token), >=, 16);
  return token;
}

static void
test_auth_token(void)
{
  /* Auradine: POST /token, then the "Token:" header, on the web port. */
  g_autofree char *token = login_json(
      M_AURADINE, fleet.net.web_port, "/token",
      "{\"command\":\"token\",\"user\":\"admin\",\"password\":\"admin\"}", "Token/0/Token");
  g_autofree char *header = g_strdup_printf("Token: %s\r\n", token);
  g_auto(HttpReply) mode = {0};
  http_call(M_AURADINE, fleet.net.web_port, "GET", "/mode", header, NULL, &mode);
  assert_profile_body(&mode, "auradine-at1500", "mode");
  g_auto(HttpReply) wrong = {0};
  http_call(M_AURADINE, fleet.net.web_port, "POST", "/token", NULL,
            "{\"command\":\"token\",\"user\":\"admin\",\"password\":\"nope\"}", &wrong);
  g_assert_cmpint(wrong.status, ==, 401);
  g_autofree char *wrong_status = json_string_at(wrong.body, "STATUS/0/STATUS");
  g_assert_cmpstr(wrong_status, ==, "E");
  g_auto(HttpReply) none = {0};
  http_call(M_AURADINE, fleet.net.web_port, "GET", "/mode", NULL, NULL, &none);
  g_assert_cmpint(none.status, ==, 401);
  g_auto(HttpReply) forged = {0};
  http_call(M_AURADINE, fleet.net.web_port, "GET", "/mode", "Token: 0123456789abcdef\r\n", NULL,
            &forged);
  g_assert_cmpint(forged.status, ==, 401);

  /* Braiins REST: {"token","timeout_s":3600}, raw in Authorization. */
  g_auto(HttpReply) login = {0};
  http_call(M_BRAIINS_REST, fleet.net.http_port, "POST", "/api/v1/auth/login", NULL,
            "{\"username\":\"root\",\"password\":\"root\"}", &login);
  g_assert_cmpint(login.status, ==, 200);
  g_assert_cmpfloat(number_of(login.body, "timeout_s"), ==, 3600);
  g_autofree char *bos = json_string_at(login.body, "token");
  g_autofree char *raw = g_strdup_printf("Authorization: %s\r\n", bos);
  g_auto(HttpReply) details = {0};
  http_call(M_BRAIINS_REST, fleet.net.http_port, "GET", "/api/v1/miner/details", raw, NULL,
            &details);
  assert_profile_body(&details, "braiins-rest-26", "rest-miner_details");
  g_autofree char *bearer = g_strdup_printf("Authorization: Bearer %s\r\n", bos);
  g_auto(HttpReply) not_raw = {0};
  http_call(M_BRAIINS_REST, fleet.net.http_port, "GET", "/api/v1/miner/details", bearer, NULL,
            &not_raw);
  g_assert_cmpint(not_raw.status, ==, 401);
  g_auto(HttpReply) bad_login = {0};
  http_call(M_BRAIINS_REST, fleet.net.http_port, "POST", "/api/v1/auth/login", NULL,
            "{\"username\":\"root\",\"password\":\"admin\"}", &bad_login);
  g_assert_cmpint(bad_login.status, ==, 401);

  /* Proto: a password only; "Authorization: Bearer"; /api/v1/system open. */
  g_autofree char *proto = login_json(M_PROTO, fleet.net.http_port, "/api/v1/auth/login",
                                      "{\"password\":\"\"}", "access_token");
  g_autofree char *proto_bearer = g_strdup_printf("Authorization: Bearer %s\r\n", proto);
  g_auto(HttpReply) pools = {0};
  http_call(M_PROTO, fleet.net.http_port, "GET", "/api/v1/pools", proto_bearer, NULL, &pools);
  assert_profile_body(&pools, "proto-rig", "pools");
  g_auto(HttpReply) closed = {0};
  http_call(M_PROTO, fleet.net.http_port, "GET", "/api/v1/pools", NULL, NULL, &closed);
  g_assert_cmpint(closed.status, ==, 401);
  g_auto(HttpReply) open = {0};
  http_call(M_PROTO, fleet.net.http_port, "GET", "/api/v1/system", NULL, NULL, &open);
  assert_profile_body(&open, "proto-rig", "system");
  g_auto(HttpReply) proto_wrong = {0};
  http_call(M_PROTO, fleet.net.http_port, "POST", "/api/v1/auth/login", NULL,
            "{\"password\":\"guess\"}", &proto_wrong);
  g_assert_cmpint(proto_wrong.status, ==, 401);
}

static void
test_auth_cookie(void)
{
  /* Iceriver: the login in the query string sets the cookie. */
  const char *panel = "/user/userpanel?post=4";
  g_auto(HttpReply) before = {0};
  http_call(M_ICERIVER, fleet.net.http_port, "POST", panel, NULL, NULL, &before);
  g_assert_cmpint(before.status, ==, 401);
  g_auto(HttpReply) wrong = {0};
  http_call(M_ICERIVER, fleet.net.http_port, "POST", "/user/loginpost?post=6&user=admin&pwd=1234",
            NULL, NULL, &wrong);
  g_assert_cmpint(wrong.status, ==, 200);
  g_assert_cmpstr(wrong.body, ==, "{\"error\":1}\n");
  g_assert_null(strstr(wrong.head, "Set-Cookie"));
  g_auto(HttpReply) login = {0};
  http_call(M_ICERIVER, fleet.net.http_port, "POST",
            "/user/loginpost?post=6&user=admin&pwd=12345678", NULL, NULL, &login);
  g_assert_cmpint(login.status, ==, 200);
  g_autofree char *set = head_value(login.head, "Set-Cookie");
  g_assert_nonnull(set);
  g_assert_true(g_str_has_prefix(set, "session="));
  g_autofree char *pair = g_strndup(set, strcspn(set, ";"));
  g_autofree char *cookie = g_strdup_printf("Cookie: lang=zh; %s\r\n", pair);
  g_auto(HttpReply) after = {0};
  http_call(M_ICERIVER, fleet.net.http_port, "POST", panel, cookie, NULL, &after);
  assert_profile_body(&after, "iceriver-ks5l", "userpanel-post4");
  g_assert_nonnull(strstr(after.body, "\"rtpow\": \"15011G\""));

  /* SealMiner: the credentials in a form body. */
  g_auto(HttpReply) seal = {0};
  http_call(M_SEALMINER, fleet.net.http_port, "POST", "/cgi-bin/login.php",
            "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n",
            "username=seal&origin_pwd=seal", &seal);
  g_autofree char *seal_set = head_value(seal.head, "Set-Cookie");
  g_assert_nonnull(seal_set);
  g_autofree char *seal_pair = g_strndup(seal_set, strcspn(seal_set, ";"));
  g_autofree char *seal_cookie = g_strdup_printf("Cookie: %s\r\n", seal_pair);
  g_auto(HttpReply) psu = {0};
  http_call(M_SEALMINER, fleet.net.http_port, "GET", "/cgi-bin/miner-psu-status.php", seal_cookie,
            NULL, &psu);
  assert_profile_body(&psu, "sealminer", "miner-psu-status");
  g_auto(HttpReply) seal_wrong = {0};
  http_call(M_SEALMINER, fleet.net.http_port, "POST", "/cgi-bin/login.php", NULL,
            "username=seal&origin_pwd=admin", &seal_wrong);
  g_assert_null(strstr(seal_wrong.head, "Set-Cookie"));
}

static void
test_auth_jwt(void)
{
  g_auto(HttpReply) login = {0};
  http_call(M_GOLDSHELL, fleet.net.http_port, "GET",
            "/user/login?username=admin&password=123456789&cipher=false", NULL, NULL, &login);
  g_assert_cmpint(login.status, ==, 200);
  g_autofree char *jwt = json_string_at(login.body, "JWT Token");
  g_auto(GStrv) parts = g_strsplit(jwt, ".", -1);
  g_assert_cmpuint(g_strv_length(parts), ==, 3); /* header.payload.signature */
  g_autofree char *bearer = g_strdup_printf("Authorization: Bearer %s\r\n", jwt);
  g_auto(HttpReply) status = {0};
  http_call(M_GOLDSHELL, fleet.net.http_port, "GET", "/mcb/status", bearer, NULL, &status);
  assert_profile_body(&status, "goldshell-ari31", "mcb-status");
  g_assert_nonnull(strstr(status.body, "\"model\": \"Goldshell-ARI31\""));
  g_autofree char *raw = g_strdup_printf("Authorization: %s\r\n", jwt);
  g_auto(HttpReply) no_scheme = {0};
  http_call(M_GOLDSHELL, fleet.net.http_port, "GET", "/mcb/status", raw, NULL, &no_scheme);
  g_assert_cmpint(no_scheme.status, ==, 401);
  g_auto(HttpReply) wrong = {0};
  http_call(M_GOLDSHELL, fleet.net.http_port, "GET",
            "/user/login?username=admin&password=12345678&cipher=false", NULL, NULL, &wrong);
  g_assert_cmpint(wrong.status, ==, 401);
}

static void
test_http_body_routing(void)
{
  g_autofree char *token = login_json(
      M_AURADINE, fleet.net.web_port, "/token",
      "{\"command\":\"token\",\"user\":\"admin\",\"password\":\"admin\"}", "Token/0/Token");
  g_autofree char *header = g_strdup_printf("Token: %s\r\n", token);
  /* Auradine: POST /<command> {"command":...}; the body must agree. */
  g_auto(HttpReply) psu = {0};
  http_call(M_AURADINE, fleet.net.web_port, "POST", "/psu", header, "{\"command\":\"psu\"}", &psu);
  assert_profile_body(&psu, "auradine-at1500", "psu");
  g_auto(HttpReply) other = {0};
  http_call(M_AURADINE, fleet.net.web_port, "POST", "/psu", header, "{\"command\":\"fan\"}",
            &other);
  g_assert_cmpint(other.status, ==, 404);
  /* Iceriver: post=4 in a form body works as in the query; post=5 is not recorded. */
  g_auto(HttpReply) login = {0};
  http_call(M_ICERIVER, fleet.net.http_port, "POST",
            "/user/loginpost?post=6&user=admin&pwd=12345678", NULL, NULL, &login);
  g_autofree char *set = head_value(login.head, "Set-Cookie");
  g_autofree char *cookie = g_strdup_printf("Cookie: %.*s\r\n", (int)strcspn(set, ";"), set);
  g_autofree char *form =
      g_strconcat(cookie, "Content-Type: application/x-www-form-urlencoded\r\n", NULL);
  g_auto(HttpReply) panel = {0};
  http_call(M_ICERIVER, fleet.net.http_port, "POST", "/user/userpanel", form, "post=4", &panel);
  assert_profile_body(&panel, "iceriver-ks5l", "userpanel-post4");
  g_auto(HttpReply) five = {0};
  http_call(M_ICERIVER, fleet.net.http_port, "POST", "/user/userpanel", form, "post=5", &five);
  g_assert_cmpint(five.status, ==, 404);
}

static void
test_http_query_routes(void)
{
  g_autofree char *token = login_json(M_PROTO, fleet.net.http_port, "/api/v1/auth/login",
                                      "{\"password\":\"\"}", "access_token");
  g_autofree char *bearer = g_strdup_printf("Authorization: Bearer %s\r\n", token);
  /* asic-rs asks /api/v1/telemetry?level=miner,hashboard,psu (comma escaped). */
  g_auto(HttpReply) full = {0};
  http_call(M_PROTO, fleet.net.http_port, "GET", "/api/v1/telemetry?level=miner%2Chashboard%2Cpsu",
            bearer, NULL, &full);
  assert_profile_body(&full, "proto-rig", "telemetry_full");
  g_auto(HttpReply) plain = {0};
  http_call(M_PROTO, fleet.net.http_port, "GET", "/api/v1/telemetry?level=miner,hashboard,psu",
            bearer, NULL, &plain);
  g_assert_cmpint(plain.status, ==, 200);
  g_auto(HttpReply) other = {0};
  http_call(M_PROTO, fleet.net.http_port, "GET", "/api/v1/telemetry?level=miner", bearer, NULL,
            &other);
  g_assert_cmpint(other.status, ==, 404);
  g_auto(HttpReply) none = {0};
  http_call(M_PROTO, fleet.net.http_port, "GET", "/api/v1/telemetry", bearer, NULL, &none);
  g_assert_cmpint(none.status, ==, 404);
}

static void
write_profile_file(const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
test_http_second_port(void)
{
  /* [http] and [http:web] on two ports, each with its own routes and login. */
  g_autofree char *dir = g_build_filename(fleet.dir, "twoports", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
  write_profile_file(dir, "index.html", "<title>front</title>");
  write_profile_file(dir, "api.json", "{\"api\":true}");
  write_profile_file(dir, "login.json", "{\"t\":\"{{token}}\"}");
  write_profile_file(dir, "profile.ini",
                     "[http]\nport=80\nGET /=index.html\n\n"
                     "[http:web]\nport=8080\nauth=token\npassword=pw\nuser_field=\n"
                     "login=POST /login\nlogin_reply=login.json\ntoken_header=X-Token\n"
                     "GET /api=api.json\n");
  g_autofree char *addr = host(203);
  guint16 front = (guint16)(fleet.net.port + 6), web = (guint16)(fleet.net.port + 7);
  g_autofree char *set_front = g_strdup_printf("http_port=%u", front);
  g_autofree char *set_web = g_strdup_printf("web_port=%u", web);
  const char *argv[] = {am_test_fakeminer_path(),
                        "--base",
                        addr,
                        "--profile",
                        dir,
                        "--set",
                        set_front,
                        "--set",
                        set_web,
                        NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = spawn(argv, &error);
  g_assert_no_error(error);
  g_assert_cmpint(am_test_fleet_wait_ready(process, NULL), ==, 1);
  g_auto(HttpReply) page = {0};
  http_call(203, front, "GET", "/", NULL, NULL, &page);
  g_assert_cmpstr(page.body, ==, "<title>front</title>");
  g_auto(HttpReply) not_here = {0};
  http_call(203, front, "GET", "/api", NULL, NULL, &not_here);
  g_assert_cmpint(not_here.status, ==, 404);
  g_auto(HttpReply) login = {0};
  http_call(203, web, "POST", "/login", NULL, "{\"password\":\"pw\"}", &login);
  g_autofree char *token = json_string_at(login.body, "t");
  g_autofree char *header = g_strdup_printf("X-Token: %s\r\n", token);
  g_auto(HttpReply) api = {0};
  http_call(203, web, "GET", "/api", header, NULL, &api);
  g_assert_cmpstr(api.body, ==, "{\"api\":true}");
  g_auto(HttpReply) no_page = {0};
  http_call(203, web, "GET", "/", header, NULL, &no_page);
  g_assert_cmpint(no_page.status, ==, 404);
  g_subprocess_send_signal(process, SIGTERM);
  g_subprocess_wait(process, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(g_subprocess_get_exit_status(process), ==, 0);
}

static void
test_new_profiles(void)
{
  /* Each new family answers what a scan or a driver asks first. */
  g_autofree char *auradine = command_reply(M_AURADINE, "version");
  g_assert_nonnull(strstr(auradine, "\"Description\": \"GCMiner-0.5-devsbXXX\""));
  g_autofree char *goldshell = command_reply(M_GOLDSHELL, "devs");
  g_assert_nonnull(strstr(goldshell, "\"MHS 20s\""));
  g_autofree char *bos = command_reply(M_BRAIINS_REST, "version");
  g_assert_nonnull(strstr(bos, "\"BOSer\":\"boser-buildroot 0.1.0-45f356ea\""));
  g_autofree char *seal = command_reply(M_SEALMINER, "version");
  g_assert_nonnull(strstr(seal, "\"BDMiner\": \"4.11.1\""));
  const struct {
    guint n;
    const char *text; /* in GET / */
  } pages[] = {
      {M_ICERIVER, "<title>用户界面</title>"},
      {M_GOLDSHELL, "cloud-box"},
      {M_BRAIINS_REST, "Braiins OS"},
      {M_PROTO, "Proto OS"},
      {M_SEALMINER, "amazeui"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(pages); i++) {
    g_auto(HttpReply) h = {0};
    http_call(pages[i].n, fleet.net.http_port, "GET", "/", NULL, NULL, &h);
    g_assert_cmpint(h.status, ==, 200);
    g_assert_nonnull(strstr(h.body, pages[i].text));
  }
  /* Auradine's web port needs the token even for an unknown path. */
  g_auto(HttpReply) web = {0};
  http_call(M_AURADINE, fleet.net.web_port, "GET", "/ipreport", NULL, NULL, &web);
  g_assert_cmpint(web.status, ==, 401);
}

static void
test_auth_profile_errors(void)
{
  const char *bad[][2] = {
      {"[http]\nport=80\nauth=basic\nGET /=index.html\n", "auth=basic"},
      {"[http]\nport=80\nauth=digest\nuser=root\npassword=root\nGET /=index.html\n", "realm="},
      {"[http]\nport=80\nauth=token\npassword=x\nlogin_reply=index.html\nGET /=index.html\n",
       "login="},
      {"[http]\nport=80\nauth=cookie\npassword=x\nlogin=POST /l\nlogin_reply=index.html\n"
       "GET /=index.html\n",
       "cookie="},
      {"[http]\nport=80\nGET /x?a=1&b=index.html\n", "METHOD /path"},
      {"[http]\nport=80\nauth=token\npassword=x\nlogin=POST /l\nlogin_reply=gone.json\n"
       "GET /=index.html\n",
       "gone.json"},
  };
  g_autofree char *profile = g_build_filename(fleet.dir, "badauth", NULL);
  g_assert_cmpint(g_mkdir_with_parents(profile, 0700), ==, 0);
  write_profile_file(profile, "index.html", "<title>x</title>");
  g_autofree char *ini = g_build_filename(profile, "profile.ini", NULL);
  g_autofree char *addr = host(204);
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_true(g_file_set_contents(ini, bad[i][0], -1, NULL));
    const char *argv[] = {am_test_fakeminer_path(), "--base", addr, "--profile", profile, NULL};
    int status = 0;
    g_autofree char *err = run_expect_failure(argv, &status);
    g_assert_cmpint(status, ==, 2);
    g_assert_nonnull(strstr(err, "badauth"));
    if (strstr(err, bad[i][1]) == NULL)
      g_error("case %zu: '%s' not in: %s", i, bad[i][1], err);
  }
}

/* ---- Whatsminer API v3 ---- */

static GByteArray *
v3_frame(const char *json)
{
  GByteArray *frame = g_byte_array_new();
  guint32 len = (guint32)strlen(json);
  guint8 header[4] = {len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24};
  g_byte_array_append(frame, header, 4);
  g_byte_array_append(frame, (const guint8 *)json, len);
  return frame;
}

static GSocketConnection *
v3_connect(void)
{
  g_autoptr(GError) error = NULL;
  GSocketConnection *conn = connect_to(M_V3, fleet.net.v3_port, &error);
  g_assert_no_error(error);
  g_socket_set_timeout(g_socket_connection_get_socket(conn), 30);
  return conn;
}

/* Sends one framed request and reads one framed reply. */
static char *
v3_call(GSocketConnection *conn, const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) frame = v3_frame(json);
  g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), frame->data,
                            frame->len, NULL, NULL, &error);
  g_assert_no_error(error);
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
  guint8 header[4];
  gsize got = 0;
  g_input_stream_read_all(in, header, 4, &got, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(got, ==, 4);
  guint32 len = header[0] | header[1] << 8 | header[2] << 16 | (guint32)header[3] << 24;
  g_assert_cmpuint(len, >, 0);
  g_assert_cmpuint(len, <, 1024 * 1024);
  char *payload = g_malloc(len + 1);
  g_input_stream_read_all(in, payload, len, &got, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(got, ==, len);
  payload[len] = '\0';
  return payload;
}

static const struct {
  const char *request;
  const char *file;
} v3_cases[] = {
    {"{\"cmd\":\"get.device.info\"}", "get.device.info"},
    {"{\"cmd\":\"get.device.info\",\"param\":null}", "get.device.info"},
    {"{\"cmd\":\"get.device.info\",\"param\":\"miner\"}", "get.device.info"},
    {"{\"cmd\":\"get.miner.status\",\"param\":\"summary\"}", "get.miner.status-summary"},
    {"{\"cmd\":\"get.miner.status\",\"param\":\"edevs\"}", "get.miner.status-edevs"},
    {"{\"cmd\":\"get.miner.status\",\"param\":\"pools\"}", "get.miner.status-pools"},
};

static void
test_v3_commands(void)
{
  /* One connection per command, as asic-rs and pyasic do... */
  for (gsize i = 0; i < G_N_ELEMENTS(v3_cases); i++) {
    g_autoptr(GSocketConnection) conn = v3_connect();
    g_autofree char *got = v3_call(conn, v3_cases[i].request);
    g_autofree char *expected = file_text("whatsminer-m60s-v3", v3_cases[i].file);
    assert_same_but_numbers(got, expected);
    g_autoptr(JsonObject) reply = parse_object(got);
    g_assert_cmpint(json_object_get_int_member(reply, "code"), ==, 0);
  }
  /* ...and all on one connection, which stays open. */
  g_autoptr(GSocketConnection) conn = v3_connect();
  for (gsize i = 0; i < G_N_ELEMENTS(v3_cases); i++) {
    g_autofree char *got = v3_call(conn, v3_cases[i].request);
    g_autofree char *expected = file_text("whatsminer-m60s-v3", v3_cases[i].file);
    assert_same_but_numbers(got, expected);
  }
  g_autofree char *summary = v3_call(conn, v3_cases[3].request);
  assert_within(number_of(summary, "hash-realtime"), 171.259, 171.259 * 0.02);
  assert_within(number_of(summary, "hash-average"), 170.8, 170.8 * 0.005);
  assert_within(number_of(summary, "chip-temp-max"), 82.0, 1.5);
  g_assert_cmpfloat(number_of(summary, "power-realtime"), ==, 3156.0);
  g_assert_cmpfloat(number_of(summary, "factory-hash"), ==, 181.051);
}

static JsonObject *
v3_error_of(const char *text, int code)
{
  JsonObject *reply = parse_object(text);
  g_assert_cmpint(json_object_get_int_member(reply, "code"), ==, code);
  g_assert_true(json_object_has_member(reply, "when"));
  g_assert_nonnull(json_object_get_string_member(reply, "msg"));
  return reply;
}

static void
test_v3_bad_frames(void)
{
  /* A well-framed payload that is not JSON is answered (code -3, which the
   * v3 API defines for it) and the connection stays usable. */
  g_autoptr(GSocketConnection) conn = v3_connect();
  g_autofree char *bad = v3_call(conn, "this is not json");
  g_autoptr(JsonObject) e1 = v3_error_of(bad, -3);
  g_autofree char *unknown = v3_call(conn, "{\"cmd\":\"get.nothing\",\"param\":\"x\"}");
  g_autoptr(JsonObject) e2 = v3_error_of(unknown, -2);
  g_assert_cmpstr(json_object_get_string_member(e2, "desc"), ==, "get.nothing");
  g_autofree char *no_cmd = v3_call(conn, "{\"command\":\"summary\"}");
  g_autoptr(JsonObject) e3 = v3_error_of(no_cmd, -2);
  g_autofree char *good = v3_call(conn, v3_cases[0].request);
  g_autoptr(JsonObject) ok = parse_object(good);
  g_assert_cmpint(json_object_get_int_member(ok, "code"), ==, 0);

  /* A length that cannot be right (0, over 4 KiB, or the first bytes of an
   * unframed cgminer request read as one) loses the framing: closed at once,
   * unanswered. */
  static const struct {
    const char *bytes;
    gsize len;
  } frames[] = {
      {"\xff\xff\xff\x7f{}", 6},
      {"{\"command\":\"summary\"}", 21},
      {"\x01\x10\x00\x00{}", 6}, /* 4097 */
      {"\x00\x00\x00\x00", 4},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(frames); i++) {
    g_auto(Reply) r = {0};
    r.data = g_byte_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketConnection) raw = connect_to(M_V3, fleet.net.v3_port, &error);
    g_assert_no_error(error);
    g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(raw)), frames[i].bytes,
                              frames[i].len, NULL, NULL, &error);
    g_assert_no_error(error);
    read_reply(g_socket_connection_get_socket(raw), 65536, LONG_WAIT_MS, &r);
    g_assert_no_error(r.error);
    g_assert_true(r.eof);
    g_assert_cmpuint(r.data->len, ==, 0);
  }
}

/* ---- faults on the newer protocols ---- */

static void
set_fault(guint n, const char *fault)
{
  g_autofree char *target = host(n);
  g_autofree char *line = g_strdup_printf("set %s fault=%s", target, fault);
  am_test_fleet_control(fleet.fake, line);
}

static void
test_new_protocol_faults(void)
{
  g_autofree char *http_request_text = http_request("GET", "/api/system/info", TRUE);
  g_autoptr(GByteArray) v3_request = v3_frame(v3_cases[3].request);
  struct {
    guint n;
    guint16 port;
  } miners[] = {{M_BITAXE, fleet.net.http_port}, {M_V3, fleet.net.v3_port}};
  for (gsize i = 0; i < G_N_ELEMENTS(miners); i++) {
    guint n = miners[i].n;
    guint16 port = miners[i].port;
    gboolean http = n == M_BITAXE;

    set_fault(n, "close");
    {
      g_auto(Reply) r = {0};
      exchange_full(n, port, NULL, 1024, LONG_WAIT_MS, &r);
      g_assert_no_error(r.error);
      g_assert_true(r.eof);
      g_assert_cmpuint(r.data->len, ==, 0);
    }
    set_fault(n, "refuse");
    {
      g_auto(Reply) r = {0};
      exchange_full(n, port, NULL, 1024, LONG_WAIT_MS, &r);
      g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
    }
    set_fault(n, "silent");
    g_assert_false(connect_completes(n, port, SHORT_WAIT_MS));
    set_fault(n, "hang");
    {
      g_auto(Reply) r = {0};
      if (http)
        exchange_full(n, port, http_request_text, 1024, SHORT_WAIT_MS, &r);
      else
        exchange_full(n, port, NULL, 1024, SHORT_WAIT_MS, &r);
      g_assert_no_error(r.error);
      g_assert_true(r.timed_out);
      g_assert_cmpuint(r.data->len, ==, 0);
    }
    set_fault(n, "garbage");
    if (http) {
      g_auto(HttpReply) h = {0};
      http_exchange(n, "GET", "/api/system/info", &h);
      g_assert_cmpint(h.status, ==, 200);
      g_autoptr(JsonParser) parser = json_parser_new();
      g_assert_false(json_parser_load_from_data(parser, h.body, (gssize)h.body_len, NULL));
    } else {
      g_autoptr(GSocketConnection) conn = v3_connect();
      g_autofree char *payload = v3_call(conn, v3_cases[3].request);
      g_autoptr(JsonParser) parser = json_parser_new();
      g_assert_false(json_parser_load_from_data(parser, payload, -1, NULL));
    }
    set_fault(n, "apierror");
    if (http) {
      g_auto(HttpReply) h = {0};
      http_exchange(n, "GET", "/api/system/info", &h);
      g_assert_cmpint(h.status, ==, 401);
    } else {
      g_autoptr(GSocketConnection) conn = v3_connect();
      g_autofree char *payload = v3_call(conn, v3_cases[3].request);
      g_autoptr(JsonObject) e = v3_error_of(payload, -4);
    }
    set_fault(n, "truncate");
    {
      g_auto(Reply) r = {0};
      if (http) {
        exchange_full(n, port, http_request_text, 65536, LONG_WAIT_MS, &r);
      } else {
        r.data = g_byte_array_new();
        g_autoptr(GError) error = NULL;
        g_autoptr(GSocketConnection) conn = connect_to(n, port, &error);
        g_assert_no_error(error);
        g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
                                  v3_request->data, v3_request->len, NULL, NULL, &error);
        g_assert_no_error(error);
        read_reply(g_socket_connection_get_socket(conn), 65536, LONG_WAIT_MS, &r);
      }
      g_assert_no_error(r.error);
      g_assert_true(r.eof);
      g_assert_cmpuint(r.data->len, >, 8);
      if (http) {
        g_auto(HttpReply) h = {0};
        g_assert_cmpuint(http_split(r.data->data, r.data->len, &h), ==, 0); /* short body */
      } else {
        guint32 len = r.data->data[0] | (guint32)r.data->data[1] << 8;
        g_assert_cmpuint(r.data->len - 4, <, len);
      }
    }
    set_fault(n, "none");
    if (http) {
      g_auto(HttpReply) h = {0};
      http_exchange(n, "GET", "/api/system/info", &h);
      g_assert_cmpint(h.status, ==, 200);
    } else {
      g_autoptr(GSocketConnection) conn = v3_connect();
      g_autofree char *payload = v3_call(conn, v3_cases[3].request);
      g_assert_nonnull(strstr(payload, "\"hash-realtime\""));
    }
  }
  /* A port changed at run time moves the listener. */
  guint16 moved = (guint16)(fleet.net.port + 5);
  g_autofree char *bitaxe = host(M_BITAXE);
  g_autofree char *move = g_strdup_printf("set %s http_port=%u", bitaxe, moved);
  am_test_fleet_control(fleet.fake, move);
  {
    g_auto(Reply) r = {0};
    exchange_full(M_BITAXE, fleet.net.http_port, NULL, 1024, LONG_WAIT_MS, &r);
    g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
    guint16 saved = fleet.net.http_port;
    fleet.net.http_port = moved;
    g_auto(HttpReply) h = {0};
    http_exchange(M_BITAXE, "GET", "/", &h);
    fleet.net.http_port = saved;
    g_assert_cmpint(h.status, ==, 200);
  }
  g_autofree char *back =
      g_strdup_printf("set %s:%u http_port=%u", bitaxe, moved, fleet.net.http_port);
  am_test_fleet_control(fleet.fake, back);

  /* get shows where a miner without RPC listens. */
  g_autofree char *target = host(M_BITAXE);
  g_autofree char *get = am_test_fleet_ask(fleet.fake, "get %s", target);
  g_autofree char *serves =
      g_strdup_printf(" http_port=%u serves=http:%u\n", fleet.net.http_port, fleet.net.http_port);
  g_assert_nonnull(strstr(get, serves));
}

/* ---- start-up errors ---- */

static void
test_refuses_outside_loopback(void)
{
  g_autofree char *dir = am_test_profile_dir("antminer-s9");
  const char *bases[] = {"10.0.0.1", "192.168.1.20", "::ffff:127.0.0.1", "0.0.0.0"};
  for (gsize i = 0; i < G_N_ELEMENTS(bases); i++) {
    const char *argv[] = {am_test_fakeminer_path(), "--base", bases[i], "--profile", dir, NULL};
    int status = 0;
    g_autofree char *err = run_expect_failure(argv, &status);
    g_assert_cmpint(status, ==, 2);
    g_assert_nonnull(strstr(err, bases[i]));
    g_assert_nonnull(strstr(err, "127.0.0.0/8"));
  }
  /* A range that would leave 127/8. */
  const char *argv[] = {am_test_fakeminer_path(),
                        "--base",
                        "127.255.255.250",
                        "--count",
                        "9",
                        "--profile",
                        dir,
                        NULL};
  int status = 0;
  g_autofree char *err = run_expect_failure(argv, &status);
  g_assert_cmpint(status, ==, 2);
  g_assert_nonnull(strstr(err, "127.0.0.0/8"));

  /* And the control port. */
  g_autofree char *octet = host(200);
  const char *argv2[] = {
      am_test_fakeminer_path(), "--base", octet, "--profile", dir, "--control", "10.1.2.3:0", NULL};
  g_autofree char *err2 = run_expect_failure(argv2, &status);
  g_assert_cmpint(status, ==, 2);
  g_assert_nonnull(strstr(err2, "10.1.2.3"));
}

static void
test_fleet_file_errors(void)
{
  g_autofree char *dir = am_test_profile_dir("antminer-s9");
  g_autofree char *addr = host(201);
  g_autofree char *addr_bad_port = g_strconcat(addr, ":99999", NULL);
  g_autofree char *addr_rpc_port = g_strconcat(addr, ":4028", NULL);
  g_autofree char *bitaxe = am_test_profile_dir("bitaxe-supra");
  struct {
    char *line;
    const char *needle;
  } bad[] = {
      {g_strjoin(" ", addr, dir, "fault=wobble", NULL), "wobble"},
      {g_strjoin(" ", "192.168.0.10", dir, NULL), "192.168.0.10"},
      {g_strdup(addr), "PROFILE_DIR"},
      {g_strjoin(" ", addr, "/nonexistent/profile", NULL), "/nonexistent/profile"},
      {g_strjoin(" ", addr_bad_port, dir, NULL), "99999"},
      {g_strjoin(" ", addr, dir, "temp_offset=hot", NULL), "temp_offset"},
      {g_strjoin(" ", addr_rpc_port, bitaxe, NULL), "serves no RPC"},
      {g_strjoin(" ", addr, bitaxe, "http_port=0", NULL), "http_port"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *line = bad[i].line;
    g_autofree char *text =
        g_strdup_printf("# a fleet\n127.77.%u.200 %s\n\n%s\n", fleet.net.octet, dir, line);
    g_autofree char *path = write_temp_file("bad.fleet", text);
    const char *argv[] = {am_test_fakeminer_path(), "--fleet", path, NULL};
    int status = 0;
    g_autofree char *err = run_expect_failure(argv, &status);
    g_assert_cmpint(status, ==, 2);
    g_autofree char *where = g_strdup_printf("%s:4:", path);
    g_assert_nonnull(strstr(err, where));
    g_assert_nonnull(strstr(err, bad[i].needle));
  }
  /* The same address twice names both lines. */
  g_autofree char *dup = g_strdup_printf("127.77.%u.200 %s\n127.77.%u.200 %s\n", fleet.net.octet,
                                         dir, fleet.net.octet, dir);
  g_autofree char *path = write_temp_file("dup.fleet", dup);
  const char *argv[] = {am_test_fakeminer_path(), "--fleet", path, NULL};
  int status = 0;
  g_autofree char *err = run_expect_failure(argv, &status);
  g_assert_cmpint(status, ==, 2);
  g_assert_nonnull(strstr(err, ":2:"));
  g_assert_nonnull(strstr(err, "line 1"));
}

static void
test_profile_ini_errors(void)
{
  /* A malformed profile.ini is a profile error naming the profile. */
  const char *bad[][2] = {
      {"[gopher]\nport=70\n", "unknown section [gopher]"},
      {"[http]\nGET /=index.html\n", "needs port="},
      {"[http]\nport=80\nGET /=missing.json\n", "missing.json"},
      {"[http]\nport=80\nfetch /x=index.html\n", "METHOD /path"},
      {"[rpc]\nport=4028\nsummary=index.html\n", "[rpc]"},
  };
  g_autofree char *profile = g_build_filename(fleet.dir, "badprofile", NULL);
  g_assert_cmpint(g_mkdir_with_parents(profile, 0700), ==, 0);
  g_autofree char *page = g_build_filename(profile, "index.html", NULL);
  g_assert_true(g_file_set_contents(page, "<title>x</title>", -1, NULL));
  g_autofree char *ini = g_build_filename(profile, "profile.ini", NULL);
  g_autofree char *addr = host(202);
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_true(g_file_set_contents(ini, bad[i][0], -1, NULL));
    const char *argv[] = {am_test_fakeminer_path(), "--base", addr, "--profile", profile, NULL};
    int status = 0;
    g_autofree char *err = run_expect_failure(argv, &status);
    g_assert_cmpint(status, ==, 2);
    g_assert_nonnull(strstr(err, "badprofile"));
    g_assert_nonnull(strstr(err, bad[i][1]));
  }
  g_unlink(ini);
  g_unlink(page);
  g_rmdir(profile);
}

static void
test_bind_conflict(void)
{
  /* Something else already listens there: exit 2 naming the address. */
  g_autofree char *text = host(M_NORMAL);
  g_autofree char *dir = am_test_profile_dir("antminer-s9");
  g_autofree char *port = g_strdup_printf("%u", fleet.net.port);
  const char *argv[] = {
      am_test_fakeminer_path(), "--base", text, "--port", port, "--profile", dir, NULL};
  int status = 0;
  g_autofree char *err = run_expect_failure(argv, &status);
  g_assert_cmpint(status, ==, 2);
  g_autofree char *label = g_strdup_printf("%s:%u", text, fleet.net.port);
  g_assert_nonnull(strstr(err, label));
}

static void
test_range_wraps(void)
{
  /* .253, .254, then the next /24 from .1 (host parts .0 and .255 skipped). */
  guint next = fleet.net.octet + 1;
  g_autofree char *base = g_strdup_printf("127.77.%u.253", fleet.net.octet);
  g_autofree char *dir = am_test_profile_dir("generic-cgminer");
  g_autofree char *port = g_strdup_printf("%u", fleet.net.port);
  const char *argv[] = {am_test_fakeminer_path(),
                        "--base",
                        base,
                        "--count",
                        "4",
                        "--port",
                        port,
                        "--profile",
                        dir,
                        "--set",
                        "temp_offset=1",
                        NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = spawn(argv, &error);
  g_assert_no_error(error);
  g_assert_cmpint(am_test_fleet_wait_ready(process, NULL), ==, 4);
  guint saved = fleet.net.octet;
  fleet.net.octet = next;
  g_autofree char *version = command_reply(2, "version");
  fleet.net.octet = saved;
  g_assert_nonnull(strstr(version, "cgminer 4.11.1"));
  g_subprocess_send_signal(process, SIGTERM);
  g_subprocess_wait(process, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_if_exited(process));
  g_assert_cmpint(g_subprocess_get_exit_status(process), ==, 0);
}

static void
test_demo_fleet(void)
{
  /* The demo fleet uses every profile; each one must load and answer. */
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fakeminer", "demo.fleet", NULL);
  g_autofree char *port = g_strdup_printf("%u", fleet.net.port + 2);
  const char *argv[] = {am_test_fakeminer_path(), "--fleet", path, "--port", port, NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = spawn(argv, &error);
  g_assert_no_error(error);
  int listeners = am_test_fleet_wait_ready(process, NULL);
  if (listeners < 0) {
    g_autofree char *err = NULL;
    g_subprocess_communicate_utf8(process, NULL, NULL, NULL, &err, NULL);
    g_error("demo fleet: %s", err);
  }
  g_assert_cmpint(listeners, ==, 21); /* 22 miners, one with fault=refuse */
  g_subprocess_send_signal(process, SIGTERM);
  g_subprocess_wait(process, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(g_subprocess_get_exit_status(process), ==, 0);
}

/* The demo's 2024-2026 fleet: every unit binds its real ports (80, 4028,
 * 4433, 8080) on 127.0.21.x, which only root may do (CI runs as root). */
static void
test_demo_fleet_2026(void)
{
  if (geteuid() != 0) {
    g_test_skip("binding port 80 needs root");
    return;
  }
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fakeminer", "demo-2026.fleet", NULL);
  const char *argv[] = {am_test_fakeminer_path(), "--fleet", path, NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = spawn(argv, &error);
  g_assert_no_error(error);
  int listeners = am_test_fleet_wait_ready(process, NULL);
  if (listeners < 0) {
    g_autofree char *err = NULL;
    g_subprocess_communicate_utf8(process, NULL, NULL, NULL, &err, NULL);
    g_error("demo 2026 fleet: %s", err);
  }
  g_assert_cmpint(listeners, ==, 10);
  g_subprocess_send_signal(process, SIGTERM);
  g_subprocess_wait(process, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(g_subprocess_get_exit_status(process), ==, 0);
}

/* ---- the fleet under test ---- */

static char *
fleet_text(void)
{
  g_autofree char *s9 = am_test_profile_dir("antminer-s9");
  g_autofree char *bos = am_test_profile_dir("braiins-s9");
  GString *text = g_string_new("# test fleet: one miner per fault\n");
  const char *extra[] = {
      [M_NORMAL] = "",
      [M_HANG] = "fault=hang",
      [M_CLOSE] = "fault=close",
      [M_GARBAGE] = "fault=garbage",
      [M_TRUNCATE] = "fault=truncate",
      [M_HUGE] = "fault=huge",
      [M_DRIP] = "fault=drip drip_ms=3",
      [M_APIERROR] = "fault=apierror",
      [M_SILENT] = "fault=silent",
      [M_REFUSE] = "fault=refuse",
      [M_CONTROL] = "   # changed at run time",
  };
  for (guint n = M_NORMAL; n <= M_CONTROL; n++)
    g_string_append_printf(text, "127.77.%u.%u %s %s\n", fleet.net.octet, n, s9, extra[n]);
  g_string_append_printf(text, "127.77.%u.%u braiins-s9\n", fleet.net.octet, M_BRAIINS);
  g_string_append_printf(text, "127.77.%u.%u:%u braiins-plus-s9\n", fleet.net.octet, M_OTHER_PORT,
                         fleet.net.port + 1);
  g_string_append_printf(text, "127.77.%u.%u bitaxe-supra http_port=%u\n", fleet.net.octet,
                         M_BITAXE, fleet.net.http_port);
  g_string_append_printf(text, "127.77.%u.%u whatsminer-m60s-v3 v3_port=%u\n", fleet.net.octet,
                         M_V3, fleet.net.v3_port);
  g_string_append_printf(text, "127.77.%u.%u epic-umc http_port=%u\n", fleet.net.octet, M_EPIC,
                         fleet.net.http_port);
  const struct {
    guint n;
    const char *profile;
  } logins[] = {
      {M_AURADINE, "auradine-at1500"},     {M_ICERIVER, "iceriver-ks5l"},
      {M_GOLDSHELL, "goldshell-ari31"},    {M_ELPHAPEX, "elphapex-dg1"},
      {M_BRAIINS_REST, "braiins-rest-26"}, {M_PROTO, "proto-rig"},
      {M_SEALMINER, "sealminer"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(logins); i++)
    g_string_append_printf(text, "127.77.%u.%u %s http_port=%u web_port=%u\n", fleet.net.octet,
                           logins[i].n, logins[i].profile, fleet.net.http_port, fleet.net.web_port);
  return g_string_free(text, FALSE);
}

/* A random /24 in 127.77/16 and a random high port; another run (or the ASan
 * build) may hold one, so a bind failure just means: try elsewhere. */
static char *
fleet_pick(gpointer user_data, guint16 *port)
{
  (void)user_data;
  fm_test_net_pick(&fleet.net);
  *port = fleet.net.port;
  return fleet_text();
}

static void
fleet_start(void)
{
  g_autofree char *root = g_test_build_filename(G_TEST_DIST, "fakeminer", "profiles", NULL);
  const char *args[] = {"--profiles-root", root, NULL};
  fleet.fake = am_test_fleet_start_anywhere(fleet_pick, NULL, args);
  g_assert_cmpuint(fleet.fake->listeners, ==, M_LAST - 1); /* all but refuse */
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  fleet.dir = g_dir_make_tmp("fakeminer-test-XXXXXX", NULL);
  g_assert_nonnull(fleet.dir);
  fleet_start();

  g_test_add_func("/fakeminer/reply/file", test_reply_is_file);
  g_test_add_func("/fakeminer/reply/malformed-kept", test_reply_malformed_kept);
  g_test_add_func("/fakeminer/reply/other-profile", test_reply_other_profile);
  g_test_add_func("/fakeminer/reply/plain-text", test_reply_plain_text);
  g_test_add_func("/fakeminer/reply/multi", test_reply_multi);
  g_test_add_func("/fakeminer/reply/unknown-command", test_reply_unknown_command);
  g_test_add_func("/fakeminer/reply/bad-requests", test_reply_bad_requests);
  g_test_add_func("/fakeminer/variation/bounds", test_variation_bounds);
  g_test_add_func("/fakeminer/fault/hang", test_fault_hang);
  g_test_add_func("/fakeminer/fault/close", test_fault_close);
  g_test_add_func("/fakeminer/fault/garbage", test_fault_garbage);
  g_test_add_func("/fakeminer/fault/truncate", test_fault_truncate);
  g_test_add_func("/fakeminer/fault/huge", test_fault_huge);
  g_test_add_func("/fakeminer/fault/drip", test_fault_drip);
  g_test_add_func("/fakeminer/fault/apierror", test_fault_apierror);
  g_test_add_func("/fakeminer/fault/silent", test_fault_silent);
  g_test_add_func("/fakeminer/fault/refuse", test_fault_refuse);
  g_test_add_func("/fakeminer/fleet/ports", test_fleet_ports);
  g_test_add_func("/fakeminer/control/fault", test_control_fault);
  g_test_add_func("/fakeminer/control/joined", test_control_joined);
  g_test_add_func("/fakeminer/control/hashrate-and-temp", test_control_hashrate_and_temp);
  g_test_add_func("/fakeminer/control/profile", test_control_profile);
  g_test_add_func("/fakeminer/control/errors-and-stats", test_control_errors_and_stats);
  g_test_add_func("/fakeminer/http/system-info", test_http_system_info);
  g_test_add_func("/fakeminer/http/index", test_http_index);
  g_test_add_func("/fakeminer/http/not-found", test_http_not_found);
  g_test_add_func("/fakeminer/http/keep-alive", test_http_keep_alive);
  g_test_add_func("/fakeminer/http/not-http", test_http_not_http);
  g_test_add_func("/fakeminer/http/epic", test_http_epic);
  g_test_add_func("/fakeminer/auth/digest", test_auth_digest);
  g_test_add_func("/fakeminer/auth/token", test_auth_token);
  g_test_add_func("/fakeminer/auth/cookie", test_auth_cookie);
  g_test_add_func("/fakeminer/auth/jwt", test_auth_jwt);
  g_test_add_func("/fakeminer/http/body-routing", test_http_body_routing);
  g_test_add_func("/fakeminer/http/query-routes", test_http_query_routes);
  g_test_add_func("/fakeminer/http/second-port", test_http_second_port);
  g_test_add_func("/fakeminer/profiles/new-families", test_new_profiles);
  g_test_add_func("/fakeminer/startup/auth-profile-errors", test_auth_profile_errors);
  g_test_add_func("/fakeminer/v3/commands", test_v3_commands);
  g_test_add_func("/fakeminer/v3/bad-frames", test_v3_bad_frames);
  g_test_add_func("/fakeminer/fault/newer-protocols", test_new_protocol_faults);
  g_test_add_func("/fakeminer/startup/outside-loopback", test_refuses_outside_loopback);
  g_test_add_func("/fakeminer/startup/fleet-file-errors", test_fleet_file_errors);
  g_test_add_func("/fakeminer/startup/profile-ini-errors", test_profile_ini_errors);
  g_test_add_func("/fakeminer/startup/bind-conflict", test_bind_conflict);
  g_test_add_func("/fakeminer/startup/range-wraps", test_range_wraps);
  g_test_add_func("/fakeminer/startup/demo-fleet", test_demo_fleet);
  g_test_add_func("/fakeminer/startup/demo-fleet-2026", test_demo_fleet_2026);
  /* last: SIGTERM ends it cleanly (exit 0; under ASan also leak-free) */
  g_test_add_data_func("/fakeminer/shutdown/clean-exit", fleet.fake, am_test_fleet_test_clean_exit);
  int status = g_test_run();

  am_test_fleet_stop(fleet.fake);
  g_autoptr(GFile) dir = g_file_new_for_path(fleet.dir);
  g_autoptr(GFileEnumerator) files =
      g_file_enumerate_children(dir, G_FILE_ATTRIBUTE_STANDARD_NAME, 0, NULL, NULL);
  GFileInfo *info;
  while (files != NULL && (info = g_file_enumerator_next_file(files, NULL, NULL)) != NULL) {
    g_autoptr(GFile) child = g_file_get_child(dir, g_file_info_get_name(info));
    g_file_delete(child, NULL, NULL);
    g_object_unref(info);
  }
  g_file_delete(dir, NULL, NULL);
  g_free(fleet.dir);
  return status;
}
