/* The [http:api] plugin in the real daemon, polling a fake fleet on
 * loopback: what each endpoint answers, what a mistake gets, that no
 * request however malformed gets a 500 or stops the server, the token and
 * TLS, and a miner that stops answering turning offline. */
#include "am-http-test-daemon.h"
#include "am-test-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* ---- the fleet ---------------------------------------------------------------- */

typedef struct {
  AmTestFleet *fleet;
  guint16 port;
  char *miners_ini; /* [miner:...] groups for the fleet */
} Fleet;

/* Four miners on 127.88.N.x: an S19 Pro, an S17 Pro, an L3+ (scrypt), and
 * one switched off (connection refused). */
/* Fleets still running, ended if an assertion aborts the test (the daemons
 * end themselves: they die with their parent). */
static volatile pid_t fleet_pids[4];

static void
on_abort(int sig)
{
  for (guint i = 0; i < G_N_ELEMENTS(fleet_pids); i++)
    if (fleet_pids[i] > 0)
      kill(fleet_pids[i], SIGTERM);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void
remember_pid(AmTestFleet *fleet, gboolean running)
{
  pid_t pid = (pid_t)atoi(g_subprocess_get_identifier(fleet->proc));
  for (guint i = 0; i < G_N_ELEMENTS(fleet_pids); i++) {
    if (running && fleet_pids[i] == 0) {
      fleet_pids[i] = pid;
      return;
    }
    if (!running && fleet_pids[i] == pid)
      fleet_pids[i] = 0;
  }
}

static Fleet *
fleet_start(guint net)
{
  Fleet *f = g_new0(Fleet, 1);
  f->port = am_test_free_port();
  const char *const profiles[] = {"antminer-s19pro", "antminer-s17pro", "antminer-l3plus",
                                  "antminer-s9"};
  const char *const names[] = {"rack1-s19", "rack1-s17", "ltc-l3", "spare-s9"};
  g_autoptr(GString) text = g_string_new(NULL);
  g_autoptr(GString) ini = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(profiles); i++) {
    g_autofree char *dir = am_test_profile_dir(profiles[i]);
    g_string_append_printf(text, "127.88.%u.%u:%u %s%s\n", net, i + 1, f->port, dir,
                           i == 3 ? " fault=refuse" : "");
    g_string_append_printf(ini, "[miner:%s]\nhost=127.88.%u.%u:%u\n", names[i], net, i + 1,
                           f->port);
  }
  f->fleet = am_test_fleet_start(text->str);
  remember_pid(f->fleet, TRUE);
  f->miners_ini = g_string_free(g_steal_pointer(&ini), FALSE);
  return f;
}

static void
fleet_stop(Fleet *f)
{
  remember_pid(f->fleet, FALSE);
  am_test_fleet_stop(f->fleet);
  g_free(f->miners_ini);
  g_free(f);
}

/* One daemon polls once an hour, so the values it serves hold still while
 * a test compares endpoints with one another. */
static Fleet *still_fleet;
static AmTestDaemon *still;

/* Every miner polled at least once: a sample, or the reason it has none. */
static gboolean
all_polled(JsonObject *list, gpointer data)
{
  JsonArray *miners = am_json_array(list, "miners");
  guint polled = 0;
  for (guint i = 0; i < json_array_get_length(miners); i++) {
    JsonObject *m = json_array_get_object_element(miners, i);
    polled += am_json_object(m, "sample") != NULL || am_json_string(m, "state_reason") != NULL;
  }
  return polled == 4;
}

static AmTestDaemon *
still_daemon(void)
{
  if (still != NULL)
    return still;
  still_fleet = fleet_start(1);
  g_autofree char *ini = g_strdup_printf("%s[http:api]\nlisten=127.0.0.1:0\napi_max_limit=500\n",
                                         still_fleet->miners_ini);
  /* The full unwinder, so lsan.supp can name the libsoup function that
   * leaks on two requests of the bad-request corpus. */
  still =
      am_test_daemon_start_http("interval=1h\npoll_timeout=2s\n", ini, "fast_unwind_on_malloc=0");
  g_autoptr(JsonObject) list = am_test_wait_json(still, "api/miners", all_polled, NULL);
  return still;
}

/* ---- helpers ------------------------------------------------------------------- */

static JsonObject *
get_object(AmTestDaemon *d, const char *path, guint expected_status)
{
  g_autoptr(AmTestReply) r = am_test_get(d, path);
  if (r->status != expected_status)
    g_error("GET %s: expected %u, got %u: %.*s", path, expected_status, r->status,
            (int)g_bytes_get_size(r->body), (const char *)g_bytes_get_data(r->body, NULL));
  g_assert_cmpstr(r->content_type, ==, "application/json");
  g_assert_cmpstr(soup_message_headers_get_one(r->headers, "Cache-Control"), ==, "no-store");
  g_assert_nonnull(r->json);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(r->json));
  return json_object_ref(json_node_get_object(r->json));
}

/* A 400 (or other error) naming @code, and @parameter when given. */
static void
assert_error(AmTestDaemon *d, const char *path, guint status, const char *code,
             const char *parameter)
{
  g_autoptr(JsonObject) o = get_object(d, path, status);
  JsonObject *e = am_json_object(o, "error");
  g_assert_nonnull(e);
  if (g_strcmp0(am_json_string(e, "code"), code) != 0)
    g_error("GET %s: expected code %s, got %s (%s)", path, code, am_json_string(e, "code"),
            am_json_string(e, "message"));
  g_assert_cmpstr(am_json_string(e, "parameter"), ==, parameter);
  g_assert_nonnull(am_json_string(e, "message"));
  if (parameter != NULL)
    g_assert_nonnull(strstr(am_json_string(e, "message"), parameter));
}

static JsonObject *
miner_by_name(JsonArray *miners, const char *name)
{
  for (guint i = 0; i < json_array_get_length(miners); i++) {
    JsonObject *m = json_array_get_object_element(miners, i);
    if (g_strcmp0(am_json_string(m, "name"), name) == 0)
      return m;
  }
  g_error("no miner named %s", name);
  return NULL;
}

static gboolean
iso8601_utc(const char *text)
{
  g_autoptr(GDateTime) dt = text != NULL ? g_date_time_new_from_iso8601(text, NULL) : NULL;
  return dt != NULL && g_str_has_suffix(text, "Z");
}

static char *
status_line(GBytes *reply)
{
  gsize len = 0;
  const char *data = g_bytes_get_data(reply, &len);
  const char *end = data != NULL ? memchr(data, '\r', len) : NULL;
  return end != NULL ? g_strndup(data, end - data) : g_strndup(data != NULL ? data : "", len);
}

static guint
status_of(GBytes *reply)
{
  g_autofree char *line = status_line(reply);
  if (!g_str_has_prefix(line, "HTTP/1."))
    return 0;
  return (guint)g_ascii_strtoull(line + 9, NULL, 10);
}

/* ---- the "now" endpoints --------------------------------------------------------- */

static void
test_miners_list(void)
{
  AmTestDaemon *d = still_daemon();
  g_autoptr(JsonObject) o = get_object(d, "api/miners", 200);
  JsonArray *miners = am_json_array(o, "miners");
  g_assert_cmpuint(json_array_get_length(miners), ==, 4);
  g_assert_cmpint(am_json_int(o, "total", 0), ==, 4);

  JsonObject *s19 = miner_by_name(miners, "rack1-s19");
  g_assert_cmpstr(am_json_string(s19, "host"), ==, "127.88.1.1");
  g_assert_true(iso8601_utc(am_json_string(s19, "last_seen")));
  g_assert_cmpint(am_json_int(s19, "age_s", -1), >=, 0);
  g_assert_false(json_object_get_boolean_member(s19, "stale"));
  JsonObject *sample = am_json_object(s19, "sample");
  g_assert_cmpstr(am_json_string(sample, "model"), ==, "Antminer S19 Pro");
  g_assert_cmpfloat(am_json_double(sample, "hashrate_ths"), >, 90);
  g_assert_true(iso8601_utc(am_json_string(sample, "when")));

  /* The table's view: the same keys, without the bulk. */
  g_autoptr(JsonObject) brief = get_object(d, "api/miners?view=brief", 200);
  JsonObject *brief_sample =
      am_json_object(miner_by_name(am_json_array(brief, "miners"), "rack1-s19"), "sample");
  g_assert_cmpstr(am_json_string(brief_sample, "model"), ==, "Antminer S19 Pro");
  g_assert_cmpfloat(am_json_double(brief_sample, "hashrate_ths"), ==,
                    am_json_double(sample, "hashrate_ths"));
  g_assert_cmpfloat(am_json_double(brief_sample, "temp_max_c"), ==,
                    am_json_double(sample, "temp_max_c"));
  g_assert_cmpuint(json_array_get_length(am_json_array(brief_sample, "fans_rpm")), ==,
                   json_array_get_length(am_json_array(sample, "fans_rpm")));
  g_assert_false(json_object_has_member(brief_sample, "chains"));
  g_assert_nonnull(am_json_array(sample, "chains"));
  assert_error(d, "api/miners?view=tiny", 400, "invalid_parameter", "view");

  JsonObject *off = miner_by_name(miners, "spare-s9");
  g_assert_cmpstr(am_json_string(off, "state"), ==, "unreachable");
  g_assert_nonnull(strstr(am_json_string(off, "state_reason"), "refused"));
  g_assert_true(json_object_get_null_member(off, "sample"));
  g_assert_true(json_object_get_null_member(off, "last_seen"));
  g_assert_true(json_object_get_boolean_member(off, "stale"));
}

static void
assert_names(AmTestDaemon *d, const char *path, const char *expected)
{
  g_autoptr(JsonObject) o = get_object(d, path, 200);
  JsonArray *miners = am_json_array(o, "miners");
  g_autoptr(GString) got = g_string_new(NULL);
  for (guint i = 0; i < json_array_get_length(miners); i++)
    g_string_append_printf(got, "%s%s", i > 0 ? " " : "",
                           am_json_string(json_array_get_object_element(miners, i), "name"));
  if (!g_str_equal(got->str, expected))
    g_error("GET %s: expected '%s', got '%s'", path, expected, got->str);
}

static void
test_miners_filter_sort(void)
{
  AmTestDaemon *d = still_daemon();
  assert_names(d, "api/miners", "rack1-s19 rack1-s17 ltc-l3 spare-s9");
  assert_names(d, "api/miners?sort=-host", "spare-s9 ltc-l3 rack1-s17 rack1-s19");
  assert_names(d, "api/miners?sort=name", "ltc-l3 rack1-s17 rack1-s19 spare-s9");
  /* Unknown hashrate (never reached) last in both directions. */
  assert_names(d, "api/miners?sort=-hashrate", "rack1-s19 rack1-s17 ltc-l3 spare-s9");
  assert_names(d, "api/miners?sort=hashrate", "ltc-l3 rack1-s17 rack1-s19 spare-s9");
  assert_names(d, "api/miners?state=unreachable", "spare-s9");
  assert_names(d, "api/miners?state=online,degraded&sort=name", "ltc-l3 rack1-s17 rack1-s19");
  assert_names(d, "api/miners?model=l3%2B", "ltc-l3");
  assert_names(d, "api/miners?q=RACK1&sort=-name", "rack1-s19 rack1-s17");
  assert_names(d, "api/miners?q=127.88.1.4", "spare-s9");
  assert_names(d, "api/miners?q=nothing-like-it", "");

  assert_error(d, "api/miners?sort=speed", 400, "invalid_sort", "sort");
  assert_error(d, "api/miners?sort=", 400, "invalid_sort", "sort");
  assert_error(d, "api/miners?state=down", 400, "invalid_parameter", "state");
  assert_error(d, "api/miners?q=", 400, "invalid_parameter", "q");
  assert_error(d, "api/miners?colour=red", 400, "unknown_parameter", "colour");
  assert_error(d, "api/miners?sort=name&sort=host", 400, "invalid_query", NULL);
  assert_error(d, "api/miners?q=a%00b", 400, "invalid_query", NULL);
  /* A bad escape is not even a URL to libsoup: it answers 400 itself. */
  const char *raw = "GET /api/miners?q=%zz HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autoptr(GBytes) reply = am_test_raw(d, raw, strlen(raw));
  g_assert_cmpuint(status_of(reply), ==, 400);
}

/* The summary adds up what /api/miners shows, miner by miner. */
static void
test_summary(void)
{
  AmTestDaemon *d = still_daemon();
  g_autoptr(JsonObject) s = get_object(d, "api/summary", 200);
  g_autoptr(JsonObject) list = get_object(d, "api/miners", 200);
  JsonArray *miners = am_json_array(list, "miners");
  double hashrate = 0, ideal = 0, power = 0, hottest = -1;
  const char *hottest_name = NULL;
  for (guint i = 0; i < json_array_get_length(miners); i++) {
    JsonObject *sample = am_json_object(json_array_get_object_element(miners, i), "sample");
    if (sample == NULL)
      continue;
    power += am_json_double(sample, "power_w");
    if (am_json_double(sample, "temp_max_c") > hottest) {
      hottest = am_json_double(sample, "temp_max_c");
      hottest_name = am_json_string(json_array_get_object_element(miners, i), "name");
    }
    if (g_strcmp0(am_json_string(sample, "algorithm"), "scrypt") == 0)
      continue;
    hashrate += am_json_double(sample, "hashrate_ths");
    ideal += am_json_double(sample, "hashrate_ideal_ths");
  }
  g_assert_true(iso8601_utc(am_json_string(s, "time")));
  JsonObject *counts = am_json_object(s, "miners");
  g_assert_cmpint(am_json_int(counts, "total", 0), ==, 4);
  g_assert_cmpint(am_json_int(counts, "unreachable", 0), ==, 1);
  g_assert_cmpfloat_with_epsilon(am_json_double(s, "hashrate_ths"), hashrate, 1e-9);
  g_assert_cmpfloat_with_epsilon(am_json_double(s, "hashrate_ideal_ths"), ideal, 1e-9);
  g_assert_cmpfloat_with_epsilon(am_json_double(s, "power_w"), power, 1e-6);
  g_assert_cmpstr(am_json_string(am_json_object(s, "hottest"), "name"), ==, hottest_name);
  /* How far to trust it: poll and discovery health are part of the answer. */
  g_assert_cmpint(am_json_int(am_json_object(s, "poll"), "miners", 0), ==, 4);
  g_assert_true(json_object_has_member(s, "discovery"));
  assert_error(d, "api/summary?x=1", 400, "unknown_parameter", "x");
}

static void
test_miner_detail(void)
{
  AmTestDaemon *d = still_daemon();
  /* By name, host and address alike. */
  const char *const keys[] = {"rack1-s19", "127.88.1.1", NULL};
  g_autofree char *address = g_strdup_printf("127.88.1.1:%u", still_fleet->port);
  for (guint i = 0; i < 3; i++) {
    const char *key = keys[i] != NULL ? keys[i] : address;
    g_autofree char *path = g_strdup_printf("api/miners/%s", key);
    g_autoptr(JsonObject) o = get_object(d, path, 200);
    g_assert_cmpstr(am_json_string(o, "address"), ==, address);
    g_assert_cmpstr(am_json_string(am_json_object(o, "sample"), "model"), ==, "Antminer S19 Pro");
    g_assert_cmpuint(json_array_get_length(am_json_array(o, "chains")), ==, 3);
    g_assert_cmpuint(json_array_get_length(am_json_array(o, "pools")), >, 0);
    /* No store here: the page gets no events and a reason, not an error. */
    g_assert_cmpuint(json_array_get_length(am_json_array(o, "events")), ==, 0);
    JsonObject *history = am_json_object(o, "history");
    g_assert_false(json_object_get_boolean_member(history, "available"));
    g_assert_nonnull(strstr(am_json_string(history, "message"), "store"));
  }
  /* Nobody looked yet, so no reply was kept: the first look says so and
   * polls the miner at once (this daemon's interval is an hour). */
  g_autoptr(JsonObject) first = get_object(d, "api/miners/rack1-s19/raw", 200);
  g_assert_cmpuint(json_object_get_size(am_json_object(first, "replies")), ==, 0);
  g_assert_nonnull(strstr(am_json_string(first, "message"), "ask again"));
  g_autoptr(JsonObject) raw = NULL;
  JsonObject *stats = NULL;
  for (guint tries = 0; stats == NULL && tries < 300; tries++) { /* a 30 s guard */
    if (tries > 0)
      g_usleep(100 * G_TIME_SPAN_MILLISECOND);
    g_clear_pointer(&raw, json_object_unref);
    raw = get_object(d, "api/miners/rack1-s19/raw", 200);
    stats = am_json_object(am_json_object(raw, "replies"), "stats");
  }
  g_assert_nonnull(stats);
  g_assert_false(json_object_has_member(raw, "message"));
  g_assert_nonnull(strstr(am_json_string(stats, "text"), "STATS"));
  g_assert_true(iso8601_utc(am_json_string(stats, "when")));

  assert_error(d, "api/miners/10.9.9.9", 404, "miner_not_found", NULL);
  assert_error(d, "api/miners/10.9.9.9/raw", 404, "miner_not_found", NULL);
  assert_error(d, "api/miners/", 404, "miner_not_found", NULL);
  assert_error(d, "api/miners/a%20b", 404, "miner_not_found", NULL);
  assert_error(d, "api/miners/rack1-s19?verbose=1", 400, "unknown_parameter", "verbose");
}

/* ---- history: parameters are checked first, then the store is asked ------------- */

static void
test_history_without_store(void)
{
  AmTestDaemon *d = still_daemon();
  const char *const good[] = {
      "api/metrics?ip=127.88.1.1&since=2026-11-24T00:00:00&until=2026-11-24T12:00:00%2B02:00",
      "api/metrics?ip=rack1-s19&since=1795000000&step=5m&limit=100000",
      "api/fleet?since=2026-11-23",
      "api/events?since=2026-11-24T00:00:00Z&miner=rack1-s19&kind=state",
  };
  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autoptr(JsonObject) o = get_object(d, good[i], 503);
    JsonObject *e = am_json_object(o, "error");
    g_assert_cmpstr(am_json_string(e, "code"), ==, "history_unavailable");
    g_assert_nonnull(strstr(am_json_string(e, "message"), "[store:sqlite]"));
  }
  assert_error(d, "api/metrics?since=yesterday", 400, "invalid_time", "since");
  assert_error(d, "api/metrics?until=2026-02-30T00:00:00Z", 400, "invalid_time", "until");
  assert_error(d, "api/metrics?since=1795514400&until=1795428000", 400, "invalid_time", "since");
  assert_error(d, "api/metrics?limit=-1", 400, "invalid_limit", "limit");
  assert_error(d, "api/metrics?limit=many", 400, "invalid_limit", "limit");
  assert_error(d, "api/metrics?limit=0", 400, "invalid_limit", "limit");
  assert_error(d, "api/metrics?cursor=%3Cnope%3E", 400, "invalid_cursor", "cursor");
  assert_error(d, "api/metrics?step=1ms", 400, "invalid_parameter", "step");
  assert_error(d, "api/fleet?limit=5", 400, "unknown_parameter", "limit");
  assert_error(d, "api/events?kind=oops", 400, "invalid_parameter", "kind");
}

/* ---- health, probes, Prometheus ------------------------------------------------------ */

static void
test_health_and_probes(void)
{
  AmTestDaemon *d = still_daemon();
  g_autoptr(JsonObject) h = get_object(d, "api/health", 200);
  g_assert_nonnull(am_json_string(h, "version"));
  g_autoptr(JsonObject) healthy = get_object(d, "-/healthy", 200);
  g_assert_cmpstr(am_json_string(healthy, "status"), ==, "ok");
  g_autoptr(JsonObject) ready = get_object(d, "-/ready", 200);
  g_assert_cmpstr(am_json_string(ready, "status"), ==, "ready");
}

/* Runs check-metrics.py on @text; returns its "[name, labels, value]" lines. */
static char *
parse_prometheus(GBytes *text)
{
  g_autofree char *script =
      g_build_filename(g_getenv("ANTMON_HTTP_TESTS"), "check-metrics.py", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                           G_SUBPROCESS_FLAGS_STDERR_PIPE,
                       &error, "/usr/bin/python3", script, NULL);
  g_assert_no_error(error);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *input = g_strndup(g_bytes_get_data(text, NULL), g_bytes_get_size(text));
  g_subprocess_communicate_utf8(proc, input, NULL, &out, &err, &error);
  g_assert_no_error(error);
  if (!g_subprocess_get_successful(proc))
    g_error("the Prometheus parser refused /metrics: %s\n%s", err, input);
  return g_steal_pointer(&out);
}

static void
test_prometheus(void)
{
  AmTestDaemon *d = still_daemon();
  g_autoptr(AmTestReply) r = am_test_get(d, "metrics");
  g_assert_cmpuint(r->status, ==, 200);
  g_assert_cmpstr(r->content_type, ==, "text/plain");
  /* How long the scrape held the main loop, for the benchmarks. */
  const char *timing = soup_message_headers_get_one(r->headers, "Server-Timing");
  g_assert_nonnull(timing);
  g_assert_true(g_str_has_prefix(timing, "handler;dur="));
  g_assert_nonnull(strstr(timing, ", cpu;dur="));
  g_autofree char *series = parse_prometheus(r->body);

  g_autoptr(JsonObject) s19 = get_object(d, "api/miners/rack1-s19", 200);
  double ths = am_json_double(am_json_object(s19, "sample"), "hashrate_ths");
  g_autofree char *labels = g_strdup_printf("{\"miner\": \"127.88.1.1:%u\"", still_fleet->port);
  g_autofree char *up = g_strdup_printf("[\"antmon_miner_up\", %s}, 1.0]", labels);
  g_assert_nonnull(strstr(series, up));
  /* The descriptive labels once, on info, for PromQL to join on miner. */
  g_autofree char *info = g_strdup_printf(
      "[\"antmon_miner_info\", %s, \"name\": \"rack1-s19\", \"model\": \"Antminer S19 Pro\", "
      "\"firmware\": \"%s\", \"driver\": \"antminer\"}, 1.0]",
      labels, am_json_string(am_json_object(s19, "sample"), "firmware"));
  g_assert_nonnull(strstr(series, info));
  g_autofree char *state =
      g_strdup_printf("[\"antmon_miner_state\", %s, \"state\": \"online\"}, 1.0]", labels);
  g_assert_nonnull(strstr(series, state));
  /* Same number as the JSON API, in hashes per second. */
  g_autofree char *hash_line = g_strdup_printf(
      "[\"antmon_miner_hashrate_hashes_per_second\", %s, \"algorithm\": \"sha256d\"}, ", labels);
  const char *line = strstr(series, hash_line);
  g_assert_nonnull(line);
  double value = g_ascii_strtod(line + strlen(hash_line), NULL);
  g_assert_cmpfloat_with_epsilon(value / 1e12, ths, 1e-9);

  g_autofree char *down = g_strdup_printf(
      "[\"antmon_miner_up\", {\"miner\": \"127.88.1.4:%u\"}, 0.0]", still_fleet->port);
  g_assert_nonnull(strstr(series, down));
  g_assert_nonnull(strstr(series, "[\"antmon_miner_temperature_celsius\""));
  g_assert_nonnull(strstr(series, "[\"antmon_miner_chain_chips\""));
  g_assert_nonnull(strstr(series, "[\"antmon_miner_fan_rpm\""));
  g_assert_nonnull(strstr(series, "[\"antmon_miners\", {\"state\": \"unreachable\"}, 1.0]"));
}

/* ---- the dashboard's files --------------------------------------------------------------- */

static void
test_static_files(void)
{
  AmTestDaemon *d = still_daemon();
  g_autoptr(AmTestReply) page = am_test_get(d, "");
  g_assert_cmpuint(page->status, ==, 200);
  g_assert_cmpstr(page->content_type, ==, "text/html");
  g_assert_nonnull(g_strstr_len(g_bytes_get_data(page->body, NULL), g_bytes_get_size(page->body),
                                "<title>antmon</title>"));
  const char *csp = soup_message_headers_get_one(page->headers, "Content-Security-Policy");
  g_assert_nonnull(csp);
  g_assert_true(g_str_has_prefix(csp, "default-src 'self'"));
  g_assert_null(soup_message_headers_get_one(page->headers, "Access-Control-Allow-Origin"));

  g_autoptr(AmTestReply) chart = am_test_get(d, "static/chart.min.js");
  g_assert_cmpuint(chart->status, ==, 200);
  g_assert_cmpstr(chart->content_type, ==, "text/javascript");
  g_assert_cmpuint(g_bytes_get_size(chart->body), >, 100000);
  const char *etag = soup_message_headers_get_one(chart->headers, "ETag");
  g_assert_nonnull(etag);
  g_autoptr(AmTestReply) again =
      am_test_http(d, "GET", "static/chart.min.js", "If-None-Match", etag);
  g_assert_cmpuint(again->status, ==, 304);

  /* Nothing outside the compiled-in files, however the path is spelt. */
  const char *const outside[] = {"static/../../../../etc/passwd",
                                 "static/%2e%2e/%2e%2e/etc/passwd",
                                 "static/.hidden.js",
                                 "static/",
                                 "static/app.js.bak",
                                 "static/meson.build",
                                 "etc/passwd",
                                 "index.htm"};
  for (guint i = 0; i < G_N_ELEMENTS(outside); i++) {
    g_autoptr(AmTestReply) r = am_test_get(d, outside[i]);
    if (r->status != 404 && r->status != 400)
      g_error("GET /%s: expected 404, got %u", outside[i], r->status);
  }
}

/* ---- methods, limits and a corpus of bad requests ------------------------------------------ */

static void
test_methods(void)
{
  AmTestDaemon *d = still_daemon();
  const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  for (guint i = 0; i < G_N_ELEMENTS(methods); i++) {
    g_autoptr(AmTestReply) r = am_test_http(d, methods[i], "api/summary", NULL, NULL);
    g_assert_cmpuint(r->status, ==, 405);
    g_assert_cmpstr(soup_message_headers_get_one(r->headers, "Allow"), ==, "GET, HEAD");
    g_assert_null(soup_message_headers_get_one(r->headers, "Access-Control-Allow-Origin"));
  }
  g_autoptr(AmTestReply) head = am_test_http(d, "HEAD", "api/summary", NULL, NULL);
  g_assert_cmpuint(head->status, ==, 200);
  g_assert_cmpuint(g_bytes_get_size(head->body), ==, 0);
  assert_error(d, "api/nothing-here", 404, "not_found", NULL);
}

static void
test_limits(void)
{
  AmTestDaemon *d = still_daemon();
  /* A header block over max_header_bytes (16 KiB): 431 with a JSON reason. */
  g_autofree char *big = g_strnfill(32 * 1024, 'a');
  g_autoptr(AmTestReply) r = am_test_http(d, "GET", "api/summary", "X-Filler", big);
  g_assert_cmpuint(r->status, ==, 431);
  g_assert_cmpstr(am_json_string(am_json_object(json_node_get_object(r->json), "error"), "code"),
                  ==, "headers_too_large");

  /* A declared body over max_body_bytes: 413 before it is sent. */
  const char *expect = "GET /api/summary HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n"
                       "Expect: 100-continue\r\n\r\n";
  g_autoptr(GBytes) reply = am_test_raw(d, expect, strlen(expect));
  g_assert_cmpuint(status_of(reply), ==, 413);
  g_assert_nonnull(
      g_strstr_len(g_bytes_get_data(reply, NULL), g_bytes_get_size(reply), "body_too_large"));
  /* The same without Expect: the body is read and dropped, never kept. */
  g_autoptr(GString) sent = g_string_new("POST /api/summary HTTP/1.1\r\nHost: x\r\n"
                                         "Content-Length: 200000\r\n\r\n");
  for (guint i = 0; i < 200000 / 1000; i++)
    g_string_append_len(sent, big, 1000);
  g_autoptr(GBytes) reply2 = am_test_raw(d, sent->str, sent->len);
  g_assert_cmpuint(status_of(reply2), ==, 413);
}

/* Requests a fuzzer or a careless script might send. Each gets a 4xx (or
 * 501/505 from libsoup, or the connection closed; history requests that
 * pass the checks get this daemon's 503 "no store"), never a 500, and the
 * server keeps serving. */
static const char *const bad_requests[] = {
    "GARBAGE\r\n\r\n",
    "GET\r\n\r\n",
    "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "GET /api/summary HTTP/1.1\r\nHost: x/y\r\n\r\n",
    "GET /api/summary HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    "GET /api/summary HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "GET /api/summary HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n",
    "GET /api/summary HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "GET /api/miners/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/miners/%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/miners/.. HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/miners/%2e%2e%2f%2e%2e HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/metrics?since=%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/metrics?since=%E2%28%A1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/metrics?limit=99999999999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/metrics?limit=1e309 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/metrics?since=9999-99-99T99:99:99Z HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/metrics?since=-99999999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/metrics?step=99999999999999999999d HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/metrics?cursor=%22%3B%20DROP%20TABLE HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/metrics?ip=%0d%0aSet-Cookie:%20x HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/miners?sort=%s%s%s%n HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/miners?=&=&&&= HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/miners?%%%% HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/events?kind[]=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET http://evil.example/api/summary HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET * HTTP/1.1\r\nHost: x\r\n\r\n",
    "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n",
    "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/summary HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n\r\n",
    "GET /api/summary HTTP/1.1\r\nHost: x\r\nX: \x01\x02\x7f\r\n\r\n",
    "GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    "\r\n\r\n\r\n",
    "GET /api/summary HTTP/1.1\r\n", /* headers never finished */
};

static void
test_bad_request_corpus(void)
{
  AmTestDaemon *d = still_daemon();
  for (guint i = 0; i < G_N_ELEMENTS(bad_requests); i++) {
    g_autoptr(GBytes) reply = am_test_raw(d, bad_requests[i], strlen(bad_requests[i]));
    guint status = status_of(reply);
    g_autofree char *line = status_line(reply);
    /* libsoup's own protocol answers (501 unknown transfer coding, 505
     * version) are fine; a 500 would be a bug. */
    gboolean no_store =
        status == 503 && g_strstr_len(g_bytes_get_data(reply, NULL), g_bytes_get_size(reply),
                                      "history_unavailable") != NULL;
    if (status >= 500 && status != 501 && status != 505 && !no_store)
      g_error("request %u got '%s':\n%s", i, line, bad_requests[i]);
    if (status != 0 && status < 400 && status != 200 && status != 405)
      g_error("request %u got '%s'", i, line);
  }
  /* The long tail: every query a parameter byte could make. */
  for (guint c = 1; c < 256; c++) {
    g_autofree char *path = g_strdup_printf("api/metrics?since=%%%02X&limit=%%%02X", c, c);
    g_autoptr(AmTestReply) r = am_test_get(d, path);
    if (r->status != 400 && r->status != 503)
      g_error("GET /%s: %u", path, r->status);
  }
  g_autoptr(JsonObject) healthy = get_object(d, "-/healthy", 200);
}

static void
test_still_daemon_stops_cleanly(void)
{
  AmTestDaemon *d = still_daemon();
  am_test_daemon_stop(d);
  still = NULL;
  fleet_stop(still_fleet);
  still_fleet = NULL;
}

/* ---- a miner that stops answering ------------------------------------------------------------ */

static gboolean
s17_offline(JsonObject *obj, gpointer data)
{
  JsonObject *m = miner_by_name(am_json_array(obj, "miners"), "rack1-s17");
  return g_strcmp0(am_json_string(m, "state"), "offline") == 0;
}

static gboolean
s17_answers(JsonObject *obj, gpointer data)
{
  JsonObject *m = miner_by_name(am_json_array(obj, "miners"), "rack1-s17");
  return am_json_object(m, "sample") != NULL;
}

static void
test_miner_goes_offline(void)
{
  Fleet *f = fleet_start(2);
  g_autofree char *ini = g_strdup_printf("%s[http:api]\nlisten=127.0.0.1:0\n", f->miners_ini);
  AmTestDaemon *d =
      am_test_daemon_start_http("interval=1s\npoll_timeout=1s\noffline_after=2\n", ini, NULL);
  g_autoptr(JsonObject) before = am_test_wait_json(d, "api/miners", s17_answers, NULL);

  am_test_fleet_control(f->fleet, "set 127.88.2.2 fault=refuse");
  g_autoptr(JsonObject) after = am_test_wait_json(d, "api/miners", s17_offline, NULL);
  JsonObject *m = miner_by_name(am_json_array(after, "miners"), "rack1-s17");
  g_assert_nonnull(strstr(am_json_string(m, "state_reason"), "refused"));
  g_assert_true(json_object_get_boolean_member(m, "stale"));
  /* Its last sample is still there to look at, with its age. */
  g_assert_nonnull(am_json_object(m, "sample"));
  g_assert_true(iso8601_utc(am_json_string(m, "last_seen")));

  g_autoptr(JsonObject) summary = get_object(d, "api/summary", 200);
  g_assert_cmpint(am_json_int(am_json_object(summary, "miners"), "offline", 0), ==, 1);
  g_autoptr(AmTestReply) metrics = am_test_get(d, "metrics");
  g_autofree char *series = parse_prometheus(metrics->body);
  g_autofree char *down =
      g_strdup_printf("[\"antmon_miner_up\", {\"miner\": \"127.88.2.2:%u\"}, 0.0]", f->port);
  g_assert_nonnull(strstr(series, down));
  /* Its info keeps the model of its last sample. */
  g_autofree char *info = g_strdup_printf(
      "[\"antmon_miner_info\", {\"miner\": \"127.88.2.2:%u\", \"name\": \"rack1-s17\", "
      "\"model\": \"Antminer S17 Pro\"",
      f->port);
  g_assert_nonnull(strstr(series, info));
  g_autofree char *offline = g_strdup_printf(
      "[\"antmon_miner_state\", {\"miner\": \"127.88.2.2:%u\", \"state\": \"offline\"}, 1.0]",
      f->port);
  g_assert_nonnull(strstr(series, offline));
  am_test_daemon_stop(d);
  fleet_stop(f);
}

/* ---- history from the SQLite store ---------------------------------------------------------- */

static gboolean
has_rows(JsonObject *obj, gpointer data)
{
  JsonArray *rows = am_json_array(obj, "rows");
  return rows != NULL && json_array_get_length(rows) >= GPOINTER_TO_UINT(data);
}

static gint64
row_time(JsonArray *rows, guint i)
{
  const char *text = am_json_string(json_array_get_object_element(rows, i), "time");
  g_assert_true(iso8601_utc(text));
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, NULL);
  return g_date_time_to_unix(dt);
}

static void
test_history_with_store(void)
{
  Fleet *f = fleet_start(3);
  g_autofree char *ini = g_strdup_printf(
      "%s[http:api]\nlisten=127.0.0.1:0\n[store:sqlite]\npath=antmon.db\nflush_interval=100ms\n",
      f->miners_ini);
  AmTestDaemon *d = am_test_daemon_start_http("interval=1s\npoll_timeout=1s\n", ini, NULL);

  /* Rows for one miner, oldest first, times in ISO 8601 UTC. */
  g_autoptr(JsonObject) series =
      am_test_wait_json(d, "api/metrics?ip=rack1-s19", has_rows, GUINT_TO_POINTER(3));
  JsonArray *rows = am_json_array(series, "rows");
  for (guint i = 0; i < json_array_get_length(rows); i++) {
    JsonObject *r = json_array_get_object_element(rows, i);
    g_assert_cmpstr(am_json_string(r, "miner_ip"), ==, "127.88.3.1");
    g_assert_cmpfloat(am_json_double(r, "hashrate_ths"), >, 90);
    if (i > 0)
      g_assert_cmpint(row_time(rows, i - 1), <=, row_time(rows, i));
  }

  /* Paging: limit=1 hands out a cursor; the next page starts after it. */
  g_autoptr(JsonObject) first = get_object(d, "api/metrics?ip=rack1-s19&limit=1", 200);
  g_assert_cmpuint(json_array_get_length(am_json_array(first, "rows")), ==, 1);
  const char *cursor = am_json_string(first, "next_cursor");
  g_assert_nonnull(cursor);
  g_autofree char *next_path =
      g_strdup_printf("api/metrics?ip=rack1-s19&limit=1&cursor=%s", cursor);
  g_autoptr(JsonObject) second = get_object(d, next_path, 200);
  g_assert_cmpint(row_time(am_json_array(first, "rows"), 0), <=,
                  row_time(am_json_array(second, "rows"), 0));
  g_assert_cmpstr(
      am_json_string(json_array_get_object_element(am_json_array(second, "rows"), 0), "miner_ip"),
      ==, "127.88.3.1");
  /* A window in the past holds nothing. */
  g_autoptr(JsonObject) old =
      get_object(d, "api/metrics?ip=rack1-s19&since=2020-01-01&until=2020-01-02", 200);
  g_assert_cmpuint(json_array_get_length(am_json_array(old, "rows")), ==, 0);
  g_assert_true(json_object_get_null_member(old, "next_cursor"));

  g_autoptr(JsonObject) fleet = am_test_wait_json(d, "api/fleet", has_rows, GUINT_TO_POINTER(1));
  g_assert_true(iso8601_utc(
      am_json_string(json_array_get_object_element(am_json_array(fleet, "rows"), 0), "time")));

  /* The miner coming online is an event, in /api/events and on its page. */
  g_autoptr(JsonObject) events =
      am_test_wait_json(d, "api/events?miner=rack1-s19&kind=state", has_rows, GUINT_TO_POINTER(1));
  JsonObject *e = json_array_get_object_element(am_json_array(events, "rows"), 0);
  g_assert_cmpstr(am_json_string(e, "name"), ==, "online");
  g_assert_true(iso8601_utc(am_json_string(e, "time")));
  g_autoptr(JsonObject) detail = get_object(d, "api/miners/rack1-s19", 200);
  g_assert_true(json_object_get_boolean_member(am_json_object(detail, "history"), "available"));
  g_assert_cmpuint(json_array_get_length(am_json_array(detail, "events")), >=, 1);
  am_test_daemon_stop(d);
  fleet_stop(f);
}

/* ---- the token, TLS, and where the server may listen ---------------------------------------- */

static char *
make_certificate(const char *dir)
{
  g_autofree char *cert = g_build_filename(dir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename(dir, "key.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) openssl =
      g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                       &error, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                       "2", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert, NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_wait_check(openssl, NULL, &error));
  return g_strdup_printf("tls_cert=%s\ntls_key=%s\n", cert, key);
}

static void
test_token_and_tls(void)
{
  g_autofree char *dir = g_dir_make_tmp("antmon-http-tls-XXXXXX", NULL);
  g_autofree char *tls = make_certificate(dir);
  g_autofree char *token_file = g_build_filename(dir, "token", NULL);
  g_assert_true(g_file_set_contents(token_file, "s3cret-t0ken\n", -1, NULL));
  g_autofree char *ini =
      g_strdup_printf("[http:api]\nlisten=127.0.0.1:0\ntoken_file=%s\n%s", token_file, tls);
  /* LeakSanitizer's exit-time scan crashes in a process that loaded
   * GnuTLS (glib-networking), so this daemon runs without it; ASan's other
   * checks stay on. */
  AmTestDaemon *d = am_test_daemon_start_http("interval=1h\n", ini, "detect_leaks=0");
  g_assert_true(g_str_has_prefix(d->url, "https://127.0.0.1:"));
  g_autofree char *cert_path = g_build_filename(dir, "cert.pem", NULL);
  d->trusted = g_tls_certificate_new_from_file(cert_path, NULL);
  g_assert_nonnull(d->trusted);

  const char *const protected[] = {"api/summary", "api/miners", "metrics",
                                   "api/health",  "-/ready",    "api/nothing"};
  for (guint i = 0; i < G_N_ELEMENTS(protected); i++) {
    g_autoptr(AmTestReply) none = am_test_get(d, protected[i]);
    g_assert_cmpuint(none->status, ==, 401);
    g_assert_cmpstr(soup_message_headers_get_one(none->headers, "WWW-Authenticate"), ==,
                    "Bearer realm=\"antmon\"");
    g_autoptr(AmTestReply) wrong =
        am_test_http(d, "GET", protected[i], "Authorization", "Bearer s3cret-t0kem");
    g_assert_cmpuint(wrong->status, ==, 401);
    g_autoptr(AmTestReply) basic =
        am_test_http(d, "GET", protected[i], "Authorization", "Basic czNjcmV0LXQwa2Vu");
    g_assert_cmpuint(basic->status, ==, 401);
  }
  g_autoptr(AmTestReply) ok =
      am_test_http(d, "GET", "api/summary", "Authorization", "Bearer s3cret-t0ken");
  g_assert_cmpuint(ok->status, ==, 200);
  /* The page itself holds no data: it loads, then asks for the token. */
  g_autoptr(AmTestReply) page = am_test_get(d, "");
  g_assert_cmpuint(page->status, ==, 200);

  /* Plain HTTP to the TLS port gets no page. */
  const char *plain = "GET /api/summary HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autoptr(GBytes) reply = am_test_raw(d, plain, strlen(plain));
  g_assert_cmpuint(status_of(reply), !=, 200);
  am_test_daemon_stop(d);
  g_autofree char *cert = g_build_filename(dir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename(dir, "key.pem", NULL);
  g_unlink(cert);
  g_unlink(key);
  g_unlink(token_file);
  g_rmdir(dir);
}

/* Any address but loopback without a token: the plugin refuses to start
 * (and so never binds), saying why, and the daemon stops at start-up like
 * for any bad value. */
static void
test_open_listen_needs_token(void)
{
  const char *const listens[] = {"0.0.0.0:0", "[::]:0", "192.0.2.10:8080"};
  for (guint i = 0; i < G_N_ELEMENTS(listens); i++) {
    g_autofree char *ini = g_strdup_printf("[http:api]\nlisten=%s\n", listens[i]);
    AmTestDaemon *d = am_test_daemon_start("interval=1h\n", ini, NULL, NULL);
    g_assert_true(am_test_daemon_wait_log(d, "needs token= or token_file="));
    g_assert_null(strstr(d->log->str, "HTTP API listening"));
    g_assert_cmpint(am_test_daemon_wait_exit(d), !=, 0);
  }
  AmTestDaemon *d =
      am_test_daemon_start("interval=1h\n", "[http:api]\nlisten=my-host:8080\n", NULL, NULL);
  g_assert_true(am_test_daemon_wait_log(d, "expected an IP address"));
  g_assert_cmpint(am_test_daemon_wait_exit(d), !=, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  signal(SIGABRT, on_abort);
  signal(SIGTRAP, on_abort); /* g_error() */
  signal(SIGSEGV, on_abort);
  g_test_add_func("/http-api/miners-list", test_miners_list);
  g_test_add_func("/http-api/miners-filter-sort", test_miners_filter_sort);
  g_test_add_func("/http-api/summary", test_summary);
  g_test_add_func("/http-api/miner-detail", test_miner_detail);
  g_test_add_func("/http-api/history-without-store", test_history_without_store);
  g_test_add_func("/http-api/health-and-probes", test_health_and_probes);
  g_test_add_func("/http-api/prometheus", test_prometheus);
  g_test_add_func("/http-api/static-files", test_static_files);
  g_test_add_func("/http-api/methods", test_methods);
  g_test_add_func("/http-api/limits", test_limits);
  g_test_add_func("/http-api/bad-request-corpus", test_bad_request_corpus);
  g_test_add_func("/http-api/stops-cleanly", test_still_daemon_stops_cleanly);
  g_test_add_func("/http-api/miner-goes-offline", test_miner_goes_offline);
  g_test_add_func("/http-api/history-with-store", test_history_with_store);
  g_test_add_func("/http-api/token-and-tls", test_token_and_tls);
  g_test_add_func("/http-api/open-listen-needs-token", test_open_listen_needs_token);
  return g_test_run();
}
