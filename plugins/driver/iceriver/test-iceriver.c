/* Tests of the iceriver driver: the parser on the recorded userpanel reply
 * in tests/fixtures/iceriver/, field by field with values read by hand
 * from the file, and hand-made variations of it (marked HAND-MADE: an
 * overlay of data members replaced, added or, with null, removed); the
 * small string readers; bodies a broken or foreign server gives; match();
 * and the built module against an in-process SoupServer on 127.0.0.1:0
 * that does the login and checks the session cookie the way the unit
 * does. */
#include "../common/am-driver-test-util.h"
#include "am-iceriver-parse.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"

#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#define U AM_UNKNOWN
#define PANEL_FIXTURE "fixtures/iceriver/ks5l_user-userpanel-post4.json"

/* ---- helpers ------------------------------------------------------------ */

static void
assert_close(double actual, double expected, const char *what)
{
  if (isnan(expected)) {
    if (!isnan(actual))
      g_error("%s: expected unknown, got %.12g", what, actual);
    return;
  }
  if (!(fabs(actual - expected) <= 1e-9 * fabs(expected)))
    g_error("%s: expected %.12g, got %.12g", what, expected, actual);
}

static gboolean
has_problem(AmSample *sample, const char *text)
{
  for (guint i = 0; i < sample->problems->len; i++)
    if (strstr(sample->problems->pdata[i], text) != NULL)
      return TRUE;
  return FALSE;
}

static char *
fixture_text(gsize *len)
{
  g_autofree char *path = am_test_path(PANEL_FIXTURE);
  char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, len, &error))
    g_error("fixture %s: %s", path, error->message);
  return text;
}

static void
overlay_member(JsonObject *overlay, const char *name, JsonNode *node, gpointer user_data)
{
  JsonObject *target = user_data;
  if (JSON_NODE_HOLDS_NULL(node))
    json_object_remove_member(target, name);
  else
    json_object_set_member(target, name, json_node_copy(node));
}

/* The recorded reply through the module's own reader, with @overlay (a
 * JSON object, or NULL) applied to its data object. (transfer full) */
static JsonObject *
panel_with(const char *overlay)
{
  gsize len = 0;
  g_autofree char *text = fixture_text(&len);
  g_autoptr(GError) error = NULL;
  JsonObject *panel = am_iceriver_parse_body(AM_ICERIVER_PANEL_PATH, text, len, &error);
  g_assert_no_error(error);
  if (overlay != NULL) {
    g_autoptr(JsonObject) edits = am_test_object_from_string(overlay);
    json_object_foreach_member(edits, overlay_member, json_object_get_object_member(panel, "data"));
  }
  return panel;
}

/* ---- the table ---------------------------------------------------------- */

typedef struct {
  gint index;
  double hashrate_ths;
  gint chips;
  double frequency_mhz, inlet_c, outlet_c, chip_c, board_c;
} ChainCase;

typedef struct {
  const char *name;
  const char *overlay; /* HAND-MADE edits of data, or NULL for the file as is */
  const char *model, *algorithm, *firmware_version, *mac, *hostname;
  double hashrate_ths, hashrate_avg_ths;
  gint64 elapsed_s;
  AmMiningState mining;
  guint n_fans;
  double fans[4];
  guint n_chains;
  ChainCase chains[3];
  const char *problem; /* a problem the sample must name, or NULL for none */
} Case;

/* Read by hand from ks5l_user-userpanel-post4.json: rtpow "15011G" and
 * avgpow "10789G" with unit "G"; runtime "01:04:29:02" is 1 d 4 h 29 min
 * 2 s = 86400 + 14400 + 1740 + 2 s; the MAC is masked by the source
 * ("****:..."), so unknown; boards 1..3 rtpow "5160.37G", "5629.50G",
 * "4222.12G", chipnum 18, freq 875, intmp/outtmp 61/63, 57/61, 62/67,
 * pcbtemp all 0.00 (no sensor). */
#define KS5L_CHAINS                                                                                \
  {                                                                                                \
    {1, 5.16037, 18, 875, 61, 63, 63, NAN}, {2, 5.6295, 18, 875, 57, 61, 61, NAN},                 \
    {                                                                                              \
      3, 4.22212, 18, 875, 62, 67, 67, NAN                                                         \
    }                                                                                              \
  }

static const Case cases[] = {
    {"ks5l",
     NULL,
     "IceRiver KS5L",
     "kheavyhash",
     "ICM168_3_2_10_ks5L_miner",
     NULL,
     "XJGXG_SSYYGB",
     15.011,
     10.789,
     102542,
     AM_MINING_HASHING,
     4,
     {5900, 5900, 5900, 5855},
     3,
     KS5L_CHAINS,
     NULL},
    /* HAND-MADE: an AL3, whose software names board 10306; a real MAC; the
     * hashboards powered off; a sensor on board 1's PCB. */
    {"al3-hand-made",
     "{\"softver1\":\"ICM168_3_2_10_10306miner\",\"mac\":\"a1-b2-c3-d4-e5-f6\",\"powstate\":false,"
     "\"boards\":[{\"no\":1,\"chipnum\":156,\"rtpow\":\"1.5T\",\"intmp\":50,\"outtmp\":48,"
     "\"pcbtemp\":\"40.5-0.00-41.25-0.00\"}]}",
     "IceRiver AL3",
     "blake3",
     "ICM168_3_2_10_10306miner",
     "a1:b2:c3:d4:e5:f6",
     "XJGXG_SSYYGB",
     15.011,
     10.789,
     102542,
     AM_MINING_PAUSED,
     4,
     {5900, 5900, 5900, 5855},
     1,
     {{1, 1.5, 156, NAN, 50, 48, 50, 41.25}},
     NULL},
    /* HAND-MADE: the drift a firmware update may bring: a bare number with
     * the unit in data.unit, no avgpow, a runtime in another shape, the
     * algorithm named, no fans, a broken board entry. */
    {"drift-hand-made",
     "{\"rtpow\":\"14.5\",\"unit\":\"T\",\"avgpow\":null,\"runtime\":\"4h\",\"algo\":"
     "\"KHeavyHash\","
     "\"fans\":null,\"boards\":[7]}",
     "IceRiver KS5L",
     "kheavyhash",
     "ICM168_3_2_10_ks5L_miner",
     NULL,
     "XJGXG_SSYYGB",
     14.5,
     NAN,
     U,
     AM_MINING_HASHING,
     0,
     {0},
     0,
     {{0}},
     NULL},
    /* HAND-MADE: keys lost by an update make readings unknown, never
     * another value: without "no" the slot is unknown (not the list
     * position), without outtmp the hotter side is unknown (not intmp). */
    {"lost-keys-hand-made",
     "{\"boards\":[{\"chipnum\":18,\"rtpow\":\"5160.37G\",\"freq\":875,\"intmp\":61},"
     "{\"no\":2,\"chipnum\":18,\"rtpow\":\"5629.50G\",\"freq\":875,\"intmp\":57,"
     "\"outtmp\":61}]}",
     "IceRiver KS5L",
     "kheavyhash",
     "ICM168_3_2_10_ks5L_miner",
     NULL,
     "XJGXG_SSYYGB",
     15.011,
     10.789,
     102542,
     AM_MINING_HASHING,
     4,
     {5900, 5900, 5900, 5855},
     2,
     {{U, 5.16037, 18, 875, 61, NAN, NAN, NAN}, {2, 5.6295, 18, 875, 57, 61, 61, NAN}},
     NULL},
    /* HAND-MADE: the hashrate gone or renamed: named as a problem, the
     * rest still read; am_sample_finish() then sums the boards (5160.37 +
     * 5629.50 + 4222.12 GH/s). */
    {"no-rtpow-hand-made",
     "{\"rtpow\":null,\"softver1\":\"whatever\"}",
     NULL,
     NULL,
     "whatever",
     NULL,
     "XJGXG_SSYYGB",
     15.01199,
     10.789,
     102542,
     AM_MINING_HASHING,
     4,
     {5900, 5900, 5900, 5855},
     3,
     KS5L_CHAINS,
     "no usable data.rtpow"},
};

static void
assert_chain(const AmChain *c, const ChainCase *e)
{
  g_assert_cmpint(c->index, ==, e->index);
  assert_close(c->hashrate_ths, e->hashrate_ths, "chain hashrate");
  g_assert_cmpint(c->chips, ==, e->chips);
  assert_close(c->frequency_mhz, e->frequency_mhz, "frequency");
  assert_close(c->temp_inlet_c, e->inlet_c, "inlet");
  assert_close(c->temp_outlet_c, e->outlet_c, "outlet");
  assert_close(c->temp_chip_c, e->chip_c, "chip");
  assert_close(c->temp_board_c, e->board_c, "board");
  assert_close(c->power_w, NAN, "chain power");
  assert_close(c->voltage_v, NAN, "voltage");
  g_assert_cmpint(c->chips_expected, ==, U);
}

static void
assert_case(AmSample *s, const Case *c)
{
  g_assert_cmpstr(s->driver, ==, "iceriver");
  g_assert_cmpstr(s->firmware, ==, "IceRiver");
  g_assert_cmpstr(s->model, ==, c->model);
  g_assert_cmpstr(s->algorithm, ==, c->algorithm);
  g_assert_cmpstr(s->firmware_version, ==, c->firmware_version);
  g_assert_cmpstr(s->mac, ==, c->mac);
  g_assert_cmpstr(s->hostname, ==, c->hostname);
  g_assert_null(s->serial);
  assert_close(s->hashrate_ths, c->hashrate_ths, "hashrate");
  assert_close(s->hashrate_avg_ths, c->hashrate_avg_ths, "average");
  assert_close(s->hashrate_ideal_ths, NAN, "ideal");
  /* The firmware reports no power. */
  assert_close(s->power_w, NAN, "power");
  g_assert_cmpint(s->power_source, ==, AM_POWER_SOURCE_UNKNOWN);
  g_assert_cmpint(s->elapsed_s, ==, c->elapsed_s);
  g_assert_cmpint(s->mining, ==, c->mining);
  g_assert_cmpint(s->fans_expected, ==, c->n_fans > 0 ? (gint)c->n_fans : U);
  am_test_assert_doubles(s->fans_rpm, c->fans, c->n_fans);
  g_assert_cmpuint(s->chains->len, ==, c->n_chains);
  GArray *chips = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *boards = g_array_new(FALSE, FALSE, sizeof(double));
  for (guint i = 0; i < c->n_chains; i++) {
    assert_chain(&g_array_index(s->chains, AmChain, i), &c->chains[i]);
    if (!isnan(c->chains[i].chip_c))
      g_array_append_val(chips, c->chains[i].chip_c);
    if (!isnan(c->chains[i].board_c))
      g_array_append_val(boards, c->chains[i].board_c);
  }
  am_test_assert_doubles(s->chip_temps_c, (double *)chips->data, chips->len);
  am_test_assert_doubles(s->temps_c, (double *)boards->data, boards->len);
  g_array_unref(chips);
  g_array_unref(boards);
  g_assert_cmpint(s->accepted, ==, U);
  g_assert_cmpint(s->rejected, ==, U);
  g_assert_cmpint(s->hw_errors, ==, U);
  g_assert_cmpint(s->chains_expected, ==, U);
  g_assert_false(s->partial);
  if (c->problem != NULL)
    g_assert_true(has_problem(s, c->problem));
}

/* Pools read by hand from the file: three entries, pool 1 connected
 * (connect 1, state 1) with 7225 accepted, pools 2 and 3 idle (connect -1,
 * state 0); users as recorded (the source masked two). */
static void
assert_fixture_pools(AmSample *s)
{
  g_assert_cmpuint(s->pools->len, ==, 3);
  am_test_assert_pool(
      s->pools->pdata[0], "stratum+tcp://asia1.kaspa-pool.org:4441",
      "kaspa:qr3d34p6gzewwjs93fvheruwjyvfn35kn5uu00e6ffsgt6k087c4qsgp8l0mk.worker_1", "Alive", 1,
      7225, 0, U, TRUE);
  am_test_assert_pool(s->pools->pdata[1], "stratum+tcp://eu1.kaspa-pool.org:4441",
                      "kaspa:**********.worker_1", NULL, 2, 0, 0, U, FALSE);
  am_test_assert_pool(s->pools->pdata[2], "stratum+tcp://us1.kaspa-pool.org:4441",
                      "kaspa:**********.worker_1", NULL, 3, 0, 0, U, FALSE);
}

static void
test_fixture_case(gconstpointer data)
{
  const Case *c = data;
  g_autoptr(JsonObject) panel = panel_with(c->overlay);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = am_iceriver_parse(panel, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  assert_case(s, c);
  if (c->overlay == NULL) {
    g_assert_cmpuint(s->problems->len, ==, 0);
    g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_OK);
  }
}

static void
test_pools(void)
{
  g_autoptr(JsonObject) panel = panel_with(NULL);
  g_autoptr(AmSample) s = am_iceriver_parse(panel, NULL);
  assert_fixture_pools(s);
  /* HAND-MADE: an empty slot is not a pool. */
  g_autoptr(JsonObject) empty = panel_with("{\"pools\":[{\"no\":1,\"addr\":\"\",\"user\":\"\"}]}");
  g_autoptr(AmSample) e = am_iceriver_parse(empty, NULL);
  g_assert_cmpuint(e->pools->len, ==, 0);
}

/* The state flags and version strings, read by hand from the file. */
static void
test_extras(void)
{
  g_autoptr(JsonObject) panel = panel_with(NULL);
  g_autoptr(AmSample) s = am_iceriver_parse(panel, NULL);
  static const struct {
    const char *name;
    gboolean value;
  } flags[] = {{"x_iceriver_locate", FALSE},
               {"x_iceriver_online", TRUE},
               {"x_iceriver_netstate", TRUE},
               {"x_iceriver_fanstate", TRUE},
               {"x_iceriver_tempstate", FALSE}};
  for (guint i = 0; i < G_N_ELEMENTS(flags); i++)
    g_assert_cmpint(json_node_get_boolean(am_test_extra(s, flags[i].name)), ==, flags[i].value);
  static const char *const texts[][2] = {{"x_iceriver_firmtype", "Factory"},
                                         {"x_iceriver_firmver1", "BOOT_3_1"},
                                         {"x_iceriver_firmver2", "image_1.0"},
                                         {"x_iceriver_softver2", "ICM168_3_2_10_ks5L_bg"}};
  for (guint i = 0; i < G_N_ELEMENTS(texts); i++)
    g_assert_cmpstr(json_node_get_string(am_test_extra(s, texts[i][0])), ==, texts[i][1]);
  /* locate on is the fault light, kept as the unit says it. */
  g_autoptr(JsonObject) lit = panel_with("{\"locate\":true}");
  g_autoptr(AmSample) l = am_iceriver_parse(lit, NULL);
  g_assert_true(json_node_get_boolean(am_test_extra(l, "x_iceriver_locate")));
}

static void
test_strings(void)
{
  static const struct {
    const char *softver, *model;
  } models[] = {{"ICM168_3_2_10_ks5L_miner", "KS5L"},
                {"ICM168_3_2_10_ks0_miner", "KS0"},
                {"ICM168_3_2_10_10306miner", "AL3"},
                {"ICM168_3_2_10_ks3mminer", "KS3M"},
                {"miner", NULL},
                {"_miner", NULL},
                {"ICM168_3_2_10", NULL},
                {"", NULL},
                {NULL, NULL}};
  for (guint i = 0; i < G_N_ELEMENTS(models); i++) {
    g_autofree char *model = am_iceriver_model(models[i].softver);
    g_assert_cmpstr(model, ==, models[i].model);
  }
  static const struct {
    const char *text;
    gboolean ok;
    gint64 seconds;
  } runtimes[] = {{"01:04:29:02", TRUE, 102542},
                  {"00:00:00:00", TRUE, 0},
                  {"400:23:59:59", TRUE, 400 * 86400 + 86399},
                  {"01:24:00:00", FALSE, 0},
                  {"01:04:29", FALSE, 0},
                  {"01:04:29:02:", FALSE, 0},
                  {"-1:04:29:02", FALSE, 0},
                  {"a:b:c:d", FALSE, 0},
                  {"", FALSE, 0},
                  {NULL, FALSE, 0}};
  for (guint i = 0; i < G_N_ELEMENTS(runtimes); i++) {
    gint64 seconds = -7;
    g_assert_cmpint(am_iceriver_parse_runtime(runtimes[i].text, &seconds), ==, runtimes[i].ok);
    g_assert_cmpint(seconds, ==, runtimes[i].ok ? runtimes[i].seconds : -7);
  }
  static const struct {
    const char *text, *unit;
    double ths;
  } rates[] = {{"15011G", "G", 15.011}, {"5160.37G", NULL, 5.16037}, {"15011", "G", 15.011},
               {"1.5T", "G", 1.5},      {"900M", NULL, 0.0009},      {"0.00G", "G", 0},
               {"15011", NULL, NAN},    {"15011GH", "G", NAN},       {"15011X", "G", NAN},
               {"G", "G", NAN},         {"-5G", "G", NAN},           {"", "G", NAN},
               {NULL, "G", NAN}};
  for (guint i = 0; i < G_N_ELEMENTS(rates); i++) {
    double ths = am_iceriver_rate_ths(rates[i].text, rates[i].unit);
    if (rates[i].ths == 0)
      g_assert_cmpfloat(ths, ==, 0);
    else
      assert_close(ths, rates[i].ths, rates[i].text != NULL ? rates[i].text : "(null)");
  }
}

static void
assert_body_error(const char *body, gssize len, gint code, const char *text)
{
  g_autoptr(GError) error = NULL;
  gsize n = len < 0 ? strlen(body) : (gsize)len;
  g_assert_null(am_iceriver_parse_body(AM_ICERIVER_PANEL_PATH, body, n, &error));
  g_assert_error(error, AM_ERROR, code);
  if (strstr(error->message, text) == NULL)
    g_error("expected '%s' in '%s'", text, error->message);
}

static void
test_bad_bodies(void)
{
  assert_body_error("", 0, AM_ERROR_PARSE, "/user/userpanel: empty reply");
  assert_body_error("{\"error\":0,", -1, AM_ERROR_PARSE, "/user/userpanel: not JSON");
  assert_body_error("[1,2]", -1, AM_ERROR_PARSE, "/user/userpanel: not a JSON object");
  assert_body_error("{\"a\":1}\0{}", 9, AM_ERROR_PARSE, "not JSON: binary data");
  /* The login page, served instead of data without a session. */
  assert_body_error("\r\n<!DOCTYPE html><html><head><title>用户界面</title>", -1, AM_ERROR_AUTH,
                    "the login was refused (check user= and password=)");

  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) err = am_test_object_from_string("{\"error\":3,\"message\":\"busy\"}");
  g_assert_null(am_iceriver_parse(err, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_cmpstr(error->message, ==, "/user/userpanel: error 3: busy");
  g_clear_error(&error);
  g_autoptr(JsonObject) foreign = am_test_object_from_string("{\"error\":0,\"data\":[1]}");
  g_assert_null(am_iceriver_parse(foreign, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_assert_cmpstr(error->message, ==, "/user/userpanel: not an Iceriver reply (no data object)");
}

static void
test_login_reply(void)
{
  static const char *const accepted[] = {"{\"error\":0,\"data\":{},\"message\":\"\"}", "{}",
                                         "<html></html>", "ok", ""};
  for (guint i = 0; i < G_N_ELEMENTS(accepted); i++)
    g_assert_true(am_iceriver_check_login(accepted[i], strlen(accepted[i]), NULL));
  g_autoptr(GError) error = NULL;
  const char *refused = "{\"error\":1,\"message\":\"password error\"}";
  g_assert_false(am_iceriver_check_login(refused, strlen(refused), &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_cmpstr(error->message, ==,
                  "/user/loginpost: login refused (error 1: password error): wrong user or "
                  "password");
}

static void
test_match(void)
{
  static const struct {
    gboolean rpc_open, http_open;
    const char *title, *body;
    AmMatch expected;
  } rows[] = {
      {FALSE, TRUE, "用户界面", NULL, AM_MATCH_SUPPORTED},
      {FALSE, TRUE, "  用户界面\n", NULL, AM_MATCH_SUPPORTED},
      {TRUE, TRUE, "用户界面", NULL, AM_MATCH_LIKELY},
      {FALSE, TRUE, NULL, "<HTML><HEAD><TITLE>用户界面</TITLE></HEAD>", AM_MATCH_SUPPORTED},
      {FALSE, TRUE, "用户界面 - Antminer", NULL, AM_MATCH_UNSUPPORTED},
      {FALSE, TRUE, "AxeOS", "<title>用户界面</title>", AM_MATCH_UNSUPPORTED},
      {FALSE, TRUE, NULL, "cloud-box", AM_MATCH_UNSUPPORTED},
      {FALSE, FALSE, "用户界面", NULL, AM_MATCH_UNSUPPORTED},
      {FALSE, TRUE, NULL, NULL, AM_MATCH_UNSUPPORTED},
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    AmFingerprint fp = {.struct_size = sizeof(AmFingerprint),
                        .rpc_open = rows[i].rpc_open,
                        .http_open = rows[i].http_open,
                        .http_status = 200,
                        .http_title = rows[i].title,
                        .http_body = rows[i].body};
    g_assert_cmpint(am_iceriver_match(&fp), ==, rows[i].expected);
  }
  g_assert_cmpint(am_iceriver_match(NULL), ==, AM_MATCH_UNSUPPORTED);
  /* Every recorded cgminer "version" reply is some other firmware. */
  g_autoptr(GPtrArray) versions = am_test_version_fixtures();
  for (guint i = 0; i < versions->len; i++) {
    g_autoptr(JsonObject) reply = am_test_fixture_object(versions->pdata[i]);
    AmFingerprint fp = {.struct_size = sizeof(AmFingerprint)};
    am_test_fingerprint_init(&fp, reply);
    g_assert_cmpint(am_iceriver_match(&fp), ==, AM_MATCH_UNSUPPORTED);
  }
}

/* ---- the module against a local web server ------------------------------ */

#define FAKE_COOKIE "auth=7f3a9c"

typedef struct {
  SoupServer *server;
  guint16 port;
  const char *password;   /* the unit's; the user is admin */
  gboolean silent_login;  /* a refused login says nothing and sets no cookie */
  guint panel_status;     /* 0: 200 */
  const char *panel_body; /* instead of the recorded reply */
  gboolean hang;          /* answer nothing, ever */
  guint logins, panels;   /* requests seen */
  char *last_login_query; /* what the last login carried */
  GPtrArray *paused;
} FakeIce;

static const char login_page[] =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>用户界面</title></head>"
    "<body><form action=\"/user/loginpost\"></form></body></html>";

static void
reply(SoupServerMessage *msg, guint status, const char *type, const char *body, gsize len)
{
  if (body != NULL)
    soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body, len);
  soup_server_message_set_status(msg, status, NULL);
}

static void
serve_login(FakeIce *ice, SoupServerMessage *msg, GHashTable *query)
{
  ice->logins++;
  g_free(ice->last_login_query);
  ice->last_login_query = g_strdup(g_uri_get_query(soup_server_message_get_uri(msg)));
  gboolean ok = query != NULL && g_strcmp0(g_hash_table_lookup(query, "post"), "6") == 0 &&
                g_strcmp0(g_hash_table_lookup(query, "user"), "admin") == 0 &&
                g_strcmp0(g_hash_table_lookup(query, "pwd"), ice->password) == 0;
  if (ok) {
    soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie",
                                FAKE_COOKIE "; Path=/; HttpOnly");
    static const char body[] = "{\"error\":0,\"data\":{},\"message\":\"\"}";
    reply(msg, SOUP_STATUS_OK, "application/json", body, strlen(body));
  } else if (ice->silent_login) {
    reply(msg, SOUP_STATUS_OK, "application/json", "{}", 2);
  } else {
    static const char body[] = "{\"error\":1,\"data\":{},\"message\":\"password error\"}";
    reply(msg, SOUP_STATUS_OK, "application/json", body, strlen(body));
  }
}

/* The session cookie and the command are both required, as on the unit:
 * without them it serves its login page. */
static void
serve_panel(FakeIce *ice, SoupServerMessage *msg)
{
  ice->panels++;
  const char *cookie =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Cookie");
  SoupMessageBody *request = soup_server_message_get_request_body(msg);
  gboolean form = request->length == 6 && memcmp(request->data, "post=4", 6) == 0;
  if (cookie == NULL || strstr(cookie, FAKE_COOKIE) == NULL || !form) {
    reply(msg, SOUP_STATUS_OK, "text/html", login_page, strlen(login_page));
    return;
  }
  if (ice->panel_status != 0) {
    reply(msg, ice->panel_status, NULL, NULL, 0);
    return;
  }
  if (ice->panel_body != NULL) {
    reply(msg, SOUP_STATUS_OK, "application/json", ice->panel_body, strlen(ice->panel_body));
    return;
  }
  gsize len = 0;
  g_autofree char *text = fixture_text(&len);
  reply(msg, SOUP_STATUS_OK, "application/json", text, len);
}

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
      gpointer user_data)
{
  FakeIce *ice = user_data;
  if (ice->hang) {
    soup_server_message_pause(msg);
    g_ptr_array_add(ice->paused, g_object_ref(msg));
    return;
  }
  gboolean post = g_str_equal(soup_server_message_get_method(msg), SOUP_METHOD_POST);
  if (g_str_equal(path, "/"))
    reply(msg, SOUP_STATUS_OK, "text/html", login_page, strlen(login_page));
  else if (post && g_str_equal(path, AM_ICERIVER_LOGIN_PATH))
    serve_login(ice, msg, query);
  else if (post && g_str_equal(path, AM_ICERIVER_PANEL_PATH))
    serve_panel(ice, msg);
  else
    reply(msg, SOUP_STATUS_NOT_FOUND, NULL, NULL, 0);
}

static void
fake_start(FakeIce *ice)
{
  *ice =
      (FakeIce){.password = "12345678", .paused = g_ptr_array_new_with_free_func(g_object_unref)};
  ice->server = soup_server_new(NULL, NULL);
  soup_server_add_handler(ice->server, NULL, serve, ice, NULL);
  ice->port = am_test_soup_listen_loopback(ice->server);
}

static void
fake_stop(FakeIce *ice)
{
  g_free(ice->last_login_query);
  am_test_soup_stop(ice->server, ice->paused);
}

typedef struct {
  AmLoadedPlugin *plugin;
  const AmPluginInfo *info;
  gpointer self;
} Driver;

static void
driver_open(Driver *d, const char *ini)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-iceriver.so", NULL);
  g_autoptr(GError) error = NULL;
  d->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  d->info = d->plugin->info;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (ini != NULL)
    g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  d->self = d->info->create(NULL, ini != NULL ? kf : NULL, "driver:iceriver", &error);
  g_assert_no_error(error);
}

static void
driver_close(Driver *d)
{
  d->info->destroy(d->self);
  am_loaded_plugin_free(d->plugin);
}

static void
on_poll_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref(result);
}

static AmSample *
poll_once(const char *ini, AmMiner *miner, GError **error)
{
  Driver d;
  driver_open(&d, ini);
  GAsyncResult *result = NULL;
  d.info->vtable.driver->poll_async(d.self, miner, NULL, on_poll_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  AmSample *sample = d.info->vtable.driver->poll_finish(d.self, result, error);
  g_object_unref(result);
  driver_close(&d);
  return sample;
}

static AmMiner *
local_miner(guint16 port, guint timeout_ms)
{
  AmMiner *miner = am_miner_new("127.0.0.1", port);
  am_miner_set_timeout_ms(miner, timeout_ms);
  return miner;
}

static void
test_module_config(void)
{
  Driver d;
  driver_open(&d, NULL);
  g_assert_cmpstr(d.info->name, ==, "iceriver");
  g_assert_cmpint(d.info->kind, ==, AM_PLUGIN_KIND_DRIVER);
  AmFingerprint fp = {
      .struct_size = sizeof(AmFingerprint), .http_open = TRUE, .http_title = "用户界面"};
  g_assert_cmpint(d.info->vtable.driver->match(d.self, &fp), ==, AM_MATCH_SUPPORTED);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_key_file_load_from_data(kf, d.info->sample_config, -1, G_KEY_FILE_NONE, &error);
  g_assert_no_error(error);
  const char *keys[] = {"enabled", "http_port", "user", "password", "timeout"};
  g_auto(GStrv) all = g_key_file_get_keys(kf, "driver:iceriver", NULL, NULL);
  g_assert_cmpuint(g_strv_length(all), ==, G_N_ELEMENTS(keys));
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    g_assert_true(g_key_file_has_key(kf, "driver:iceriver", keys[i], NULL));
  /* The factory credentials are the documented defaults. */
  g_autofree char *user = g_key_file_get_string(kf, "driver:iceriver", "user", NULL);
  g_autofree char *password = g_key_file_get_string(kf, "driver:iceriver", "password", NULL);
  g_assert_cmpstr(user, ==, "admin");
  g_assert_cmpstr(password, ==, "12345678");
  gpointer self = d.info->create(NULL, kf, "driver:iceriver", &error);
  g_assert_no_error(error);
  d.info->destroy(self);
  g_key_file_set_string(kf, "driver:iceriver", "http_port", "70000");
  g_assert_null(d.info->create(NULL, kf, "driver:iceriver", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "http_port"));
  driver_close(&d);
}

static void
test_module_poll(void)
{
  FakeIce ice;
  fake_start(&ice);
  g_autoptr(AmMiner) miner = local_miner(ice.port, 5000);
  g_autoptr(JsonNode) before = am_miner_raw_to_json(miner);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(NULL, miner, &error);
  g_assert_no_error(error);
  am_sample_finish(s);
  assert_case(s, &cases[0]);
  assert_fixture_pools(s);
  g_assert_cmpuint(ice.logins, ==, 1);
  g_assert_cmpuint(ice.panels, ==, 1);
  g_assert_cmpstr(ice.last_login_query, ==, "post=6&user=admin&pwd=12345678");
  g_autoptr(JsonNode) raw = am_miner_raw_to_json(miner);
  g_assert_true(json_object_has_member(json_node_get_object(raw), "userpanel"));
  fake_stop(&ice);
}

/* [miner:NAME] credentials win over the driver's, and odd characters
 * travel escaped. */
static void
test_module_miner_credentials(void)
{
  FakeIce ice;
  fake_start(&ice);
  ice.password = "p&ss word";
  g_autoptr(AmMiner) miner = local_miner(ice.port, 5000);
  am_miner_set_credentials(miner, "admin", "p&ss word");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once("[driver:iceriver]\npassword=other\n", miner, &error);
  g_assert_no_error(error);
  assert_close(s->hashrate_ths, 15.011, "hashrate");
  g_assert_cmpstr(ice.last_login_query, ==, "post=6&user=admin&pwd=p%26ss%20word");
  fake_stop(&ice);
}

/* A miner configured on the RPC port is read on http_port=. */
static void
test_module_http_port(void)
{
  FakeIce ice;
  fake_start(&ice);
  g_autoptr(AmMiner) miner = local_miner(AM_RPC_DEFAULT_PORT, 5000);
  g_autofree char *ini = g_strdup_printf("[driver:iceriver]\nhttp_port=%u\n", ice.port);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) s = poll_once(ini, miner, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(s->model, ==, "IceRiver KS5L");
  fake_stop(&ice);
}

static void
assert_no_secret(const GError *error, const char *secret)
{
  if (strstr(error->message, secret) != NULL)
    g_error("the message names the password: %s", error->message);
}

/* The unit refuses the password: a clear error, the panel never asked,
 * the password never in the message. */
static void
test_module_wrong_password(void)
{
  FakeIce ice;
  fake_start(&ice);
  g_autoptr(AmMiner) miner = local_miner(ice.port, 5000);
  g_autoptr(GError) error = NULL;
  g_assert_null(poll_once("[driver:iceriver]\npassword=hunter2\n", miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_autofree char *expected = g_strdup_printf(
      "127.0.0.1:%u: /user/loginpost: login refused (error 1: password error): wrong user or "
      "password",
      ice.port);
  g_assert_cmpstr(error->message, ==, expected);
  assert_no_secret(error, "hunter2");
  g_assert_cmpuint(ice.panels, ==, 0);
  fake_stop(&ice);
}

/* A unit that refuses without saying so sets no cookie, and then serves
 * its login page for the panel. */
static void
test_module_silent_refusal(void)
{
  FakeIce ice;
  fake_start(&ice);
  ice.silent_login = TRUE;
  g_autoptr(AmMiner) miner = local_miner(ice.port, 5000);
  g_autoptr(GError) error = NULL;
  g_assert_null(poll_once("[driver:iceriver]\npassword=hunter2\n", miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_autofree char *expected = g_strdup_printf(
      "127.0.0.1:%u: /user/userpanel: a web page instead of data: the login was refused (check "
      "user= and password=)",
      ice.port);
  g_assert_cmpstr(error->message, ==, expected);
  assert_no_secret(error, "hunter2");
  g_assert_cmpuint(ice.panels, ==, 1);
  fake_stop(&ice);
}

static void
test_module_bad_replies(void)
{
  FakeIce ice;
  fake_start(&ice);
  g_autoptr(AmMiner) miner = local_miner(ice.port, 5000);
  g_autoptr(GError) error = NULL;
  ice.panel_body = "{\"error\":0,\"data\":";
  g_assert_null(poll_once(NULL, miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_autofree char *prefix = g_strdup_printf("127.0.0.1:%u: /user/userpanel: not JSON", ice.port);
  g_assert_true(g_str_has_prefix(error->message, prefix));
  g_clear_error(&error);
  ice.panel_body = NULL;
  ice.panel_status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  g_assert_null(poll_once(NULL, miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "HTTP 500"));
  fake_stop(&ice);
}

static void
test_module_hang(void)
{
  FakeIce ice;
  fake_start(&ice);
  ice.hang = TRUE;
  g_autoptr(AmMiner) miner = local_miner(ice.port, 300);
  g_autoptr(GError) error = NULL;
  g_assert_null(poll_once(NULL, miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_TIMEOUT);
  fake_stop(&ice);
}

static void
test_module_refused(void)
{
  guint16 port = am_test_free_port();
  g_autoptr(AmMiner) miner = local_miner(port, 2000);
  g_autoptr(GError) error = NULL;
  g_assert_null(poll_once(NULL, miner, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_REFUSED);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = g_strdup_printf("/iceriver/fixture/%s", cases[i].name);
    g_test_add_data_func(path, &cases[i], test_fixture_case);
  }
  g_test_add_func("/iceriver/pools", test_pools);
  g_test_add_func("/iceriver/extras", test_extras);
  g_test_add_func("/iceriver/strings", test_strings);
  g_test_add_func("/iceriver/bad-bodies", test_bad_bodies);
  g_test_add_func("/iceriver/login-reply", test_login_reply);
  g_test_add_func("/iceriver/match", test_match);
  g_test_add_func("/iceriver/module/config", test_module_config);
  g_test_add_func("/iceriver/module/poll", test_module_poll);
  g_test_add_func("/iceriver/module/miner-credentials", test_module_miner_credentials);
  g_test_add_func("/iceriver/module/http-port", test_module_http_port);
  g_test_add_func("/iceriver/module/wrong-password", test_module_wrong_password);
  g_test_add_func("/iceriver/module/silent-refusal", test_module_silent_refusal);
  g_test_add_func("/iceriver/module/bad-replies", test_module_bad_replies);
  g_test_add_func("/iceriver/module/hang", test_module_hang);
  g_test_add_func("/iceriver/module/refused", test_module_refused);
  return g_test_run();
}
