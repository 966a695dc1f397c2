/* `antmon query HOST:PORT --json`, the real program, against:
 *  - one fake miner per profile in tests/fakeminer/profiles/ (one
 *    antmon-fakeminer process, a fleet file on 127.x addresses and a random
 *    high port): driver, model, firmware, algorithm and a hashrate near the
 *    profile's own number;
 *  - fake miners that refuse, hang, answer garbage or never complete the
 *    connect: exit status 1 and one line on stderr saying which;
 *  - a web server with digest auth and Bitmain's realm whose RPC port is
 *    not cgminer (an in-process SoupServer on 127.x:0): the selector's HTTP
 *    fingerprint picks antminer-web. */
#include "am-test-util.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#define U NULL /* "unknown": the JSON says null */

/* How `antmon query` is pointed at a profile's miner. */
typedef enum {
  REACH_RPC = 0,  /* ADDRESS:PORT, the fleet's RPC port */
  REACH_HOST,     /* ADDRESS alone: the selector finds the family at its own ports */
  REACH_V3,       /* ADDRESS:4433, Whatsminer API v3 */
  REACH_4028,     /* ADDRESS:4028, whatever speaks there (ePIC: HTTP) */
  REACH_HOST_RPC, /* ADDRESS alone, its RPC on 4028 beside its web API, as on a real unit */
} Reach;

typedef struct {
  const char *profile;
  const char *driver, *model, *firmware, *algorithm;
  double hashrate_ths; /* the profile's own 5 s figure, in TH/s */
  Reach reach;
  const char *not_read; /* no driver reads it yet: what the error says */
} Expect;

/* Numbers read by hand from each profile's files ("GHS 5s" or "MHS 5s"
 * of its summary or stats). The fake varies them by at most 2 %. */
static const Expect expected[] = {
    /* scrypt, X11 and ethash units put MH/s into keys named GHS */
    {"antminer-d3", "antminer", "Antminer D3", "cgminer", "x11", 16346.64e-6},
    {"antminer-e3", "antminer", "Antminer E3", "cgminer", "ethash", 197.30e-6},
    {"antminer-l3plus", "antminer", "Antminer L3+", "cgminer", "scrypt", 504.56e-6},
    {"antminer-s17pro", "antminer", "Antminer S17 Pro", "bmminer", "sha256d", 54.99701},
    {"antminer-s19pro", "antminer", "Antminer S19 Pro", "bmminer", "sha256d", 110.78679},
    {"antminer-s9", "antminer", "Antminer S9", "bmminer", "sha256d", 13.88381},
    {"antminer-s9-degraded", "antminer", "Antminer S9", "bmminer", "sha256d", 9.02318},
    /* equihash: Sol/s in "GHS 5s"; "TH/s" means 1e12 Sol/s */
    {"antminer-z11", "antminer", "Antminer Z11", "cgminer", "equihash", 145474.39e-12},
    {"avalon-7xx", "avalon", "AV7", "cgminer", "sha256d", 52.12628215},
    /* An Avalon Q recorded idle (asic-rs): "MHS 5s" 0.0 is its reading. */
    {"avalon-a", "avalon", "Avalon Q", "cgminer", "sha256d", 0.0},
    /* The S19 Pro's RPC replies, with the stock web CGI beside them for
     * actions: the RPC driver reads it. */
    {"antminer-s19pro-web", "antminer", "Antminer S19 Pro", "bmminer", "sha256d", 110.78679},
    /* BOSminer's version reply names no model (FIRMWARE-NOTES) */
    {"braiins-plus-s9", "braiins", U, "BOSminer+", "sha256d", 15.740915842676325},
    {"braiins-s9", "braiins", U, "BOSminer", "sha256d", 14.274425317759488},
    {"example", "example", "Example X1", "ExampleOS", "sha256d", 97.5},
    {"generic-cgminer", "generic", U, "cgminer", U, 0.41023517},
    {"hiveon-s9", "antminer", "Antminer S9", "Hiveon", "sha256d", 11.78140},
    {"luxos", "luxos", "A model", "LUXminer", "sha256d", 110.61827},
    {"luxos-actions", "luxos", "A model", "LUXminer", "sha256d", 110.61827},
    {"vnish-s9", "antminer", "Antminer S9", "VNish", "sha256d", 12.79548},
    /* btminer names its model only in "devdetails", which no recorded
     * Whatsminer reply holds and so neither profile serves. */
    {"whatsminer-m20s", "whatsminer", U, "btminer", "sha256d", 65.37130278},
    {"whatsminer-m3", "whatsminer", U, "btminer", "sha256d", 12.28681978},
    /* asic-rs's v2 recordings, writable (an M60S; its model is in devdetails) */
    {"whatsminer-v2-actions", "whatsminer", U, "btminer", "sha256d", 124.5},
    /* The newer families on their own ports (the fake binds port 80 and
     * 4433 of the miner's own 127.x address). */
    {"bitaxe-supra", "axeos", "Bitaxe Supra", "AxeOS", "sha256d", 1.0, REACH_HOST},
    {"whatsminer-m60s-v3", "whatsminer", "Whatsminer M60S", "btminer", "sha256d", 171.259,
     REACH_HOST},
    {"whatsminer-m60s-v3-errors", "whatsminer", "Whatsminer M60S", "btminer", "sha256d", 171.259,
     REACH_V3},
    /* ePIC UMC speaks HTTP on 4028, where the RPC was expected. */
    {"epic-umc", "epic", "Antminer S19 XP", "ePIC UMC OS", "sha256d", 99.365848, REACH_HOST},
    /* RPC plus a web API with its login: token on 8080, JWT on 80, cookie. */
    {"auradine-at1500", "auradine", "Auradine AT1500", "GCMiner", "sha256d", 20.3722559,
     REACH_HOST_RPC},
    {"goldshell-ari31", "goldshell", "Goldshell ARI31", "Goldshell", U, 15.3650843, REACH_HOST_RPC},
    {"sealminer", "sealminer", "SealMiner A2", "BDMiner", "sha256d", 366.923275, REACH_HOST_RPC},
    /* Only a web API, behind a cookie, digest auth or a bearer token. The
     * Elphapex was recorded at boot: 0 MH/s is its real reading. */
    {"iceriver-ks5l", "iceriver", "IceRiver KS5L", "IceRiver", "kheavyhash", 15.011, REACH_HOST},
    {"elphapex-dg1", "elphapex", "Elphapex DG-Home1", "Elphapex", "scrypt", 0.0, REACH_HOST},
    {"proto-rig", "proto", "Proto Rig", "ProtoOS", "sha256d", 135.475676, REACH_HOST},
    /* Not a miner: a printer's web page gets one GET / and is left out. */
    {"printer", U, U, U, U, 0, REACH_HOST, "a web server that is not a known miner"},
    /* BOS 26.04: its RPC names BOSer, its REST API has the numbers. */
    {"braiins-rest-26", "braiins", "Antminer S21 Pro", "Braiins OS+", "sha256d", 248.186677,
     REACH_HOST_RPC},
};

typedef struct {
  const char *fault;
  const char *says; /* what the one stderr line must contain */
} FaultExpect;

static const FaultExpect faults[] = {
    {"refuse", "connection refused"},
    {"hang", "timed out after 2.0 s"},
    {"garbage", "reply is not JSON"},
    {"silent", "timed out after 2.0 s"},
};

#define FAULT_TIMEOUT "2"

/* ---- the fleet ---------------------------------------------------------- */

static struct {
  AmTestFleet *fake;
  guint8 net[2]; /* 127.net[0].net[1].x */
  guint16 port;
} fleet;

static char *
profile_address(guint i)
{
  return g_strdup_printf("127.%u.%u.%u", fleet.net[0], fleet.net[1], i + 1);
}

static char *
fault_address(guint i)
{
  return g_strdup_printf("127.%u.%u.%u", fleet.net[0], fleet.net[1], 200 + i);
}

static char *
fleet_text(void)
{
  g_autofree char *profiles = am_test_path("fakeminer/profiles");
  GString *text = g_string_new("# written by test-query\n");
  for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
    g_autofree char *address = profile_address(i);
    g_string_append_printf(text, "%s%s %s/%s\n", address,
                           expected[i].reach == REACH_HOST_RPC ? ":4028" : "", profiles,
                           expected[i].profile);
  }
  for (guint i = 0; i < G_N_ELEMENTS(faults); i++) {
    g_autofree char *address = fault_address(i);
    g_string_append_printf(text, "%s %s/antminer-s9 fault=%s\n", address, profiles,
                           faults[i].fault);
  }
  return g_string_free(text, FALSE);
}

/* A random 127.x block and port; a taken one makes the fake exit, and
 * another pair is tried. */
static char *
fleet_pick(gpointer user_data, guint16 *port)
{
  (void)user_data;
  fleet.net[0] = (guint8)g_random_int_range(30, 250);
  fleet.net[1] = (guint8)g_random_int_range(1, 250);
  fleet.port = (guint16)g_random_int_range(20000, 60000);
  *port = fleet.port;
  return fleet_text();
}

/* ---- running antmon ----------------------------------------------------- */

/* "--json" for every test but the one reading what a person sees. */
static const char *query_format = "--json";

/* Runs `antmon query ADDRESS --json --timeout T [-c INI]` (again if
 * LeakSanitizer's tracer crashed: am_test_antmon()). The main loop keeps
 * running meanwhile, so an in-process server can answer it. */
static AmTestRun
run_query(const char *address, const char *timeout, const char *ini)
{
  const char *args[] = {address, query_format, "--timeout", timeout, ini != NULL ? "-c" : NULL,
                        ini,     NULL};
  return am_test_antmon("query", args);
}

static JsonObject *
parse_sample(const AmTestRun *r, const char *address)
{
  if (r->status != 0)
    g_error("antmon query %s: exit %d: %s", address, r->status, r->err);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_data(parser, r->out, -1, &error))
    g_error("antmon query %s printed no JSON: %s\n%s", address, error->message, r->out);
  return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

/* A string member, NULL for JSON null. */
static const char *
string_or_null(JsonObject *obj, const char *key)
{
  JsonNode *node = json_object_get_member(obj, key);
  g_assert_nonnull(node);
  return JSON_NODE_HOLDS_NULL(node) ? NULL : json_node_get_string(node);
}

static gboolean
is_one_line(const char *text)
{
  const char *newline = strchr(text, '\n');
  return newline != NULL && newline[1] == '\0';
}

/* ---- one fake miner per profile ----------------------------------------- */

static void
test_profile(gconstpointer data)
{
  const Expect *e = data;
  guint i = (guint)(e - expected);
  g_autofree char *host = profile_address(i);
  guint port = e->reach == REACH_V3 ? 4433 : e->reach == REACH_RPC ? fleet.port : 4028;
  g_autofree char *address = e->reach == REACH_HOST || e->reach == REACH_HOST_RPC
                                 ? g_strdup(host)
                                 : g_strdup_printf("%s:%u", host, port);
  g_auto(AmTestRun) r = run_query(address, "10", NULL);
  if (e->not_read != NULL) {
    g_assert_cmpint(r.status, ==, 1);
    if (strstr(r.err, e->not_read) == NULL)
      g_error("%s: expected '%s' in: %s", e->profile, e->not_read, r.err);
    return;
  }
  g_autoptr(JsonObject) s = parse_sample(&r, address);
  g_assert_cmpstr(string_or_null(s, "host"), ==, host);
  g_assert_cmpint(json_object_get_int_member(s, "port"), ==, port);
  g_assert_cmpstr(string_or_null(s, "driver"), ==, e->driver);
  g_assert_cmpstr(string_or_null(s, "model"), ==, e->model);
  g_assert_cmpstr(string_or_null(s, "firmware"), ==, e->firmware);
  g_assert_cmpstr(string_or_null(s, "algorithm"), ==, e->algorithm);
  double hashrate = json_object_get_double_member(s, "hashrate_ths");
  if (!(fabs(hashrate - e->hashrate_ths) <= 0.05 * e->hashrate_ths))
    g_error("%s: hashrate %.9g TH/s, expected about %.9g", e->profile, hashrate, e->hashrate_ths);
  g_assert_cmpstr(r.err, ==, "");
}

/* What a person sees of a newer firmware's extra readings: the ePIC says
 * it is hashing, names its tuner and a disabled board, and gives each
 * board's clock and voltage. */
static void
test_text_extended(void)
{
  guint i = 0;
  while (!g_str_equal(expected[i].profile, "epic-umc"))
    i++;
  g_autofree char *host = profile_address(i);
  query_format = "--timeout=10"; /* in --json's place: text output */
  g_auto(AmTestRun) r = run_query(host, "10", NULL);
  query_format = "--json";
  g_assert_cmpint(r.status, ==, 0);
  static const char *const lines[] = {
      "  mining     hashing\n",
      "  target     VoltageOptimizer\n",
      "  psu        2167 W in\n",
      "  error      warning: hashboard 0 is detected but disabled\n",
  };
  for (guint k = 0; k < G_N_ELEMENTS(lines); k++)
    if (strstr(r.out, lines[k]) == NULL)
      g_error("expected '%s' in:\n%s", lines[k], r.out);
  g_assert_true(g_regex_match_simple("chain 1 .* MHz, [0-9.]+ V\n", r.out, 0, 0));
}

/* `antmon scan` over the fleet's block, with the default ports and the
 * fleet's RPC port: every family is found at its first open port and
 * identified by the same driver as `antmon query`. */
static void
test_scan_every_family(void)
{
  g_autofree char *first = profile_address(0);
  g_autofree char *last = profile_address(G_N_ELEMENTS(expected) - 1);
  g_autofree char *range = g_strdup_printf("%s-%s", first, last);
  g_autofree char *rpc_port = g_strdup_printf("%u", fleet.port);
  const char *args[] = {range,  "--json", "--timeout", "10", "-p",   rpc_port, "-p",
                        "4028", "-p",     "80",        "-p", "4433", NULL};
  g_auto(AmTestRun) r = am_test_antmon_once("scan", args);
  if (r.status != 0)
    g_error("antmon scan %s: exit %d: %s", range, r.status, r.err);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, r.out, -1, NULL));
  JsonArray *found = json_node_get_array(json_parser_get_root(parser));
  g_autoptr(GHashTable) drivers = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length(found); i++) {
    JsonObject *s = json_array_get_object_element(found, i);
    g_hash_table_insert(drivers, (gpointer)json_object_get_string_member(s, "host"),
                        (gpointer)json_object_get_string_member(s, "driver"));
  }
  /* A second profile of one recorded unit has its MAC: the scan reports
   * one miner per MAC, as it should for a unit reached two ways. */
  static const char *const same_unit[] = {"whatsminer-m60s-v3-errors", NULL};
  guint merged = 0;
  guint not_miners = 0;
  for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
    g_autofree char *host = profile_address(i);
    const char *driver = g_hash_table_lookup(drivers, host);
    if (driver == NULL && g_strv_contains(same_unit, expected[i].profile)) {
      merged++;
      continue;
    }
    if (expected[i].not_read != NULL) {
      g_assert_null(driver);
      g_assert_null(strstr(r.err, host)); /* not listed, only counted */
      not_miners++;
      continue;
    }
    if (g_strcmp0(driver, expected[i].driver) != 0)
      g_error("%s (%s): scan identified %s, expected %s; antmon said:\n%s", host,
              expected[i].profile, driver, expected[i].driver, r.err);
  }
  g_assert_cmpuint(merged, ==, G_N_ELEMENTS(same_unit) - 1);
  g_assert_cmpuint(g_hash_table_size(drivers), ==, G_N_ELEMENTS(expected) - merged - not_miners);
  g_autofree char *left_out = g_strdup_printf(", %u web pages of no miner left out", not_miners);
  if (strstr(r.err, left_out) == NULL)
    g_error("expected '%s' in: %s", left_out, r.err);
}

/* Every profile has a line in the table, so a new profile is tested (or
 * this test says it is not). */
static void
test_profiles_covered(void)
{
  g_autofree char *root = am_test_path("fakeminer/profiles");
  g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
  g_assert_nonnull(dir);
  const char *name;
  guint seen = 0;
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = g_build_filename(root, name, NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_DIR))
      continue;
    gboolean found = FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(expected) && !found; i++)
      found = g_str_equal(expected[i].profile, name);
    if (!found)
      g_error("profile %s has no line in test-query.c's table", name);
    seen++;
  }
  g_assert_cmpuint(seen, ==, G_N_ELEMENTS(expected));
}

/* ---- the fault miners --------------------------------------------------- */

static void
test_fault(gconstpointer data)
{
  const FaultExpect *f = data;
  g_autofree char *host = fault_address((guint)(f - faults));
  g_autofree char *address = g_strdup_printf("%s:%u", host, fleet.port);
  g_auto(AmTestRun) r = run_query(address, FAULT_TIMEOUT, NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_cmpstr(r.out, ==, "");
  /* One line, naming the miner and what went wrong. */
  g_assert_true(is_one_line(r.err));
  g_autofree char *prefix = g_strdup_printf("antmon query: %s: ", address);
  if (!g_str_has_prefix(r.err, prefix) || strstr(r.err, f->says) == NULL)
    g_error("fault %s: expected '%s...%s', got: %s", f->fault, prefix, f->says, r.err);
}

/* The garbage miner's line quotes the first bytes it sent. */
static void
test_fault_garbage_quotes(void)
{
  guint garbage = 0;
  while (!g_str_equal(faults[garbage].fault, "garbage"))
    garbage++;
  g_autofree char *host = fault_address(garbage);
  g_autofree char *address = g_strdup_printf("%s:%u", host, fleet.port);
  g_auto(AmTestRun) r = run_query(address, FAULT_TIMEOUT, NULL);
  g_assert_cmpint(r.status, ==, 1);
  const char *quote = strstr(r.err, ": \"");
  g_assert_nonnull(quote);
  g_assert_true(g_str_has_suffix(r.err, "\"...\n"));
}

/* ---- a stock Antminer that only its web server answers for ------------- */

#define REALM "antMiner Configuration"

static struct {
  SoupServer *server;
  char *host;
  guint16 port;
  const char *password;
} web;

static char *
web_password(SoupAuthDomain *domain, SoupServerMessage *msg, const char *username,
             gpointer user_data)
{
  if (g_strcmp0(username, "root") != 0)
    return NULL;
  return soup_auth_domain_digest_encode_password(username, REALM, web.password);
}

/* The recorded S23 Hyd. and S19j replies (tests/fixtures/http-cgi). */
static void
web_serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer user_data)
{
  const char *file = NULL;
  if (g_str_equal(path, "/cgi-bin/summary.cgi"))
    file = "fixtures/http-cgi/s23hyd_summary.json";
  else if (g_str_equal(path, "/cgi-bin/stats.cgi"))
    file = "fixtures/http-cgi/s23hyd_stats.json";
  else if (g_str_equal(path, "/cgi-bin/get_system_info.cgi"))
    file = "fixtures/http-cgi/s19j_get_system_info.json";
  char *text = NULL;
  gsize len = 0;
  g_autofree char *full = file != NULL ? am_test_path(file) : NULL;
  if (full == NULL || !g_file_get_contents(full, &text, &len, NULL)) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, len);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

/* The stock firmware's login page is behind the same challenge. */
static void
web_root(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  static const char page[] = "<html><head><title>antMiner</title></head></html>";
  soup_server_message_set_response(msg, "text/html", SOUP_MEMORY_STATIC, page, strlen(page));
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

static void
web_start(void)
{
  web.server = soup_server_new(NULL, NULL);
  SoupAuthDomain *domain = soup_auth_domain_digest_new("realm", REALM, NULL);
  soup_auth_domain_digest_set_auth_callback(domain, web_password, NULL, NULL);
  soup_auth_domain_add_path(domain, "/");
  soup_server_add_auth_domain(web.server, domain);
  g_object_unref(domain);
  soup_server_add_handler(web.server, "/cgi-bin", web_serve, NULL, NULL);
  soup_server_add_handler(web.server, "/", web_root, NULL, NULL);
  web.host = g_strdup_printf("127.%u.%u.250", fleet.net[0], fleet.net[1]);
  web.port = am_test_server_listen(web.server, web.host);
}

static void
web_stop(void)
{
  soup_server_disconnect(web.server);
  g_clear_object(&web.server);
  g_free(web.host);
}

/* `antmon query 127.x:PORT`: "version" on PORT gets no cgminer answer (an
 * HTTP server waits for a request line), GET / on the same port gets the
 * 401 with Bitmain's realm, and antminer-web reads the CGI API with the
 * default root/root. */
static void
test_web_antminer(void)
{
  web.password = "root";
  g_autofree char *address = g_strdup_printf("%s:%u", web.host, web.port);
  g_auto(AmTestRun) r = run_query(address, "10", NULL);
  g_autoptr(JsonObject) s = parse_sample(&r, address);
  g_assert_cmpstr(string_or_null(s, "driver"), ==, "antminer-web");
  g_assert_cmpstr(string_or_null(s, "host"), ==, web.host);
  g_assert_cmpint(json_object_get_int_member(s, "port"), ==, web.port);
  g_assert_cmpstr(string_or_null(s, "model"), ==, "Antminer S23 Hyd.");
  g_assert_cmpstr(string_or_null(s, "firmware"), ==, "stock");
  g_assert_cmpstr(string_or_null(s, "firmware_version"), ==, "Fri Jun 26 09:24:23 CST 2026");
  g_assert_cmpstr(string_or_null(s, "algorithm"), ==, "sha256d");
  g_assert_cmpstr(string_or_null(s, "mac"), ==, "a2:e1:2a:d0:11:a2");
  g_assert_cmpstr(string_or_null(s, "hostname"), ==, "Antminer");
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(s, "hashrate_ths"), 572.84556, 1e-9);
  g_assert_cmpfloat(json_object_get_double_member(s, "power_w"), ==, 5525);
  g_assert_cmpstr(string_or_null(s, "power_source"), ==, "reported");
  g_assert_true(json_object_get_boolean_member(s, "liquid_cooled"));
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(s, "chains")), ==, 3);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(s, "fans_rpm")), ==, 0);
  g_assert_cmpstr(string_or_null(s, "status"), ==, "ok");
}

/* The same unit with its password changed: one line saying so, not a
 * timeout from the drivers tried after it. */
static void
test_web_wrong_password(void)
{
  web.password = "s3cret";
  g_autofree char *address = g_strdup_printf("%s:%u", web.host, web.port);
  g_auto(AmTestRun) r = run_query(address, "10", NULL);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_cmpstr(r.out, ==, "");
  g_autofree char *line = g_strdup_printf("antmon query: %s: wrong username or password", address);
  if (!g_str_has_prefix(r.err, line) || !is_one_line(r.err))
    g_error("expected one line '%s...', got: %s", line, r.err);
}

/* ... and with the password given to the driver in the configuration. */
static void
test_web_configured_password(void)
{
  web.password = "s3cret";
  g_autofree char *dir = g_dir_make_tmp("antmon-query-XXXXXX", NULL);
  g_autofree char *ini = g_build_filename(dir, "web.ini", NULL);
  g_assert_true(g_file_set_contents(ini, "[driver:antminer-web]\nusername=root\npassword=s3cret\n",
                                    -1, NULL));
  g_autofree char *address = g_strdup_printf("%s:%u", web.host, web.port);
  g_auto(AmTestRun) r = run_query(address, "10", ini);
  g_autoptr(JsonObject) s = parse_sample(&r, address);
  g_assert_cmpstr(string_or_null(s, "driver"), ==, "antminer-web");
  g_assert_cmpstr(string_or_null(s, "model"), ==, "Antminer S23 Hyd.");
  g_unlink(ini);
  g_rmdir(dir);
}

/* A [credentials:NAME] group's login is the one `antmon query` uses, and
 * when the miner refuses it that is what it says (not the error of a
 * driver tried after the one that knew the firmware). */
static void
test_credentials_wrong_password(void)
{
  guint i = 0;
  while (!g_str_equal(expected[i].profile, "braiins-rest-26"))
    i++;
  g_autofree char *host = profile_address(i);
  g_autofree char *dir = g_dir_make_tmp("antmon-query-XXXXXX", NULL);
  g_autofree char *ini = g_build_filename(dir, "cred.ini", NULL);
  g_autofree char *text =
      g_strdup_printf("[credentials:bos]\nhosts=%s\nuser=root\npassword=n0t-this-one\n", host);
  g_assert_true(g_file_set_contents(ini, text, -1, NULL));
  g_assert_cmpint(g_chmod(ini, 0600), ==, 0);
  g_auto(AmTestRun) r = run_query(host, "10", ini);
  g_assert_cmpint(r.status, ==, 1);
  if (strstr(r.err, "wrong user or password") == NULL || strstr(r.err, "\"root\"") == NULL ||
      strstr(r.err, "n0t-this-one") != NULL)
    g_error("expected the refused login of user \"root\" (and no password), got: %s", r.err);
  g_unlink(ini);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  fleet.fake = am_test_fleet_start_anywhere(fleet_pick, NULL, NULL);
  web_start();

  g_test_add_func("/query/profiles/covered", test_profiles_covered);
  for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
    g_autofree char *path = g_strdup_printf("/query/profile/%s", expected[i].profile);
    g_test_add_data_func(path, &expected[i], test_profile);
  }
  for (guint i = 0; i < G_N_ELEMENTS(faults); i++) {
    g_autofree char *path = g_strdup_printf("/query/fault/%s", faults[i].fault);
    g_test_add_data_func(path, &faults[i], test_fault);
  }
  g_test_add_func("/query/fault/garbage-quotes", test_fault_garbage_quotes);
  g_test_add_func("/query/text/extended", test_text_extended);
  g_test_add_func("/query/scan/every-family", test_scan_every_family);
  g_test_add_func("/query/web/antminer-web", test_web_antminer);
  g_test_add_func("/query/web/wrong-password", test_web_wrong_password);
  g_test_add_func("/query/web/configured-password", test_web_configured_password);
  g_test_add_func("/query/credentials/wrong-password", test_credentials_wrong_password);

  int status = g_test_run();
  web_stop();
  am_test_fleet_stop(fleet.fake);
  return status;
}
