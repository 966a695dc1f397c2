/* GET /metrics as Prometheus reads it: the text goes through the official
 * client's parser (check-metrics.py), and the values and labels that come
 * out are the ones a user would graph. */
#include "am-http-metrics.h"
#include "am-http-test-fleet.h"

#include <string.h>

/* Series as the parser returned them: "name{k=v,...}" (keys sorted) -> value. */
typedef GHashTable Series;

static char *
series_key(const char *name, JsonObject *labels)
{
  g_autoptr(GList) keys = json_object_get_members(labels);
  keys = g_list_sort(keys, (GCompareFunc)g_strcmp0);
  GString *out = g_string_new(name);
  g_string_append_c(out, '{');
  for (GList *l = keys; l != NULL; l = l->next)
    g_string_append_printf(out, "%s%s=%s", l == keys ? "" : ",", (const char *)l->data,
                           json_object_get_string_member(labels, l->data));
  g_string_append_c(out, '}');
  return g_string_free(out, FALSE);
}

/* Runs the parser on @text; aborts the test with its complaint if it fails. */
static Series *
parse_exposition(GBytes *text)
{
  g_autofree char *script =
      g_build_filename(g_getenv("ANTMON_HTTP_TESTS"), "check-metrics.py", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                           G_SUBPROCESS_FLAGS_STDERR_PIPE,
                       &error, "/usr/bin/python3", script, NULL);
  g_assert_no_error(error);
  g_autoptr(GBytes) out = NULL, err = NULL;
  g_subprocess_communicate(proc, text, NULL, &out, &err, &error);
  g_assert_no_error(error);
  if (!g_subprocess_get_successful(proc))
    g_error("the Prometheus parser refused the text: %.*s\n%.*s", (int)g_bytes_get_size(err),
            (const char *)g_bytes_get_data(err, NULL), (int)g_bytes_get_size(text),
            (const char *)g_bytes_get_data(text, NULL));
  Series *series = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *lines = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
  g_auto(GStrv) split = g_strsplit(lines, "\n", -1);
  for (guint i = 0; split[i] != NULL; i++) {
    if (*split[i] == '\0')
      continue;
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, split[i], -1, NULL));
    JsonArray *a = json_node_get_array(json_parser_get_root(p));
    char *key =
        series_key(json_array_get_string_element(a, 0), json_array_get_object_element(a, 1));
    double *value = g_new(double, 1);
    *value = json_array_get_double_element(a, 2);
    g_hash_table_insert(series, key, value);
  }
  return series;
}

static void
assert_series(Series *series, const char *key, double expected)
{
  double *value = g_hash_table_lookup(series, key);
  if (value == NULL)
    g_error("no series %s", key);
  if (!(*value == expected ||
        (expected != 0 && *value / expected > 1 - 1e-12 && *value / expected < 1 + 1e-12)))
    g_error("%s: expected %.15g, got %.15g", key, expected, *value);
}

static void
assert_no_series(Series *series, const char *prefix)
{
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, series);
  while (g_hash_table_iter_next(&it, &key, NULL))
    if (g_str_has_prefix(key, prefix))
      g_error("unexpected series %s", (const char *)key);
}

static const AmTestMinerSpec online_s19 = {
    "10.0.0.9:4028", "rack-9", "online", "Antminer S19 Pro", NULL, 110, 112, 3250, 70, 5};
static const AmTestMinerSpec offline_s9 = {
    "10.0.0.2:4028", "rack-2", "offline", "Antminer S9", NULL, 13.5, 13.5, 1320, 95, 600};

#define S19 "miner=10.0.0.9:4028"

static void
test_miner_series(void)
{
  g_autoptr(AmHttpMetrics) m = am_http_metrics_new();
  g_autoptr(AmHttpMiner) s19 = am_test_miner(&online_s19);
  g_autoptr(AmHttpMiner) s9 = am_test_miner(&offline_s9);
  am_http_metrics_add_miner(m, s19);
  am_http_metrics_add_miner(m, s9);
  g_autoptr(GBytes) text = am_http_metrics_render(m);
  g_autoptr(GHashTable) series = parse_exposition(text);

  assert_series(series, "antmon_miner_up{" S19 "}", 1);
  assert_series(series, "antmon_miner_hashrate_hashes_per_second{algorithm=sha256d," S19 "}",
                110e12);
  assert_series(series, "antmon_miner_hashrate_ideal_hashes_per_second{algorithm=sha256d," S19 "}",
                112e12);
  assert_series(series, "antmon_miner_power_watts{" S19 ",source=reported}", 3250);
  /* Per board from the chains: board slot numbers as the firmware gives them. */
  assert_series(series, "antmon_miner_temperature_celsius{board=6," S19 ",sensor=board}", 70);
  assert_series(series, "antmon_miner_temperature_celsius{board=7," S19 ",sensor=chip}", 79);
  assert_series(series, "antmon_miner_fan_rpm{fan=1," S19 "}", 5040);
  /* Chain 7 lost 2 chips, chain 8 is 3 short of the 63 expected. */
  assert_series(series, "antmon_miner_chain_chips{chain=6," S19 ",state=ok}", 63);
  assert_series(series, "antmon_miner_chain_chips{chain=7," S19 ",state=failed}", 2);
  assert_series(series, "antmon_miner_chain_chips{chain=7," S19 ",state=ok}", 61);
  assert_series(series, "antmon_miner_chain_chips{chain=8," S19 ",state=missing}", 3);
  assert_series(series, "antmon_miner_shares_total{" S19 ",result=accepted}", 1000);
  assert_series(series, "antmon_miner_shares_total{" S19 ",result=rejected}", 3);
  assert_series(series, "antmon_miner_hardware_errors_total{" S19 "}", 12);
  assert_series(series, "antmon_miner_uptime_seconds{" S19 "}", 3600);

  /* The offline miner is down, and its last sample is not presented as now. */
  assert_series(series, "antmon_miner_up{miner=10.0.0.2:4028}", 0);
  assert_series(series, "antmon_miner_state{miner=10.0.0.2:4028,state=offline}", 1);
  assert_series(series, "antmon_miner_consecutive_poll_failures{miner=10.0.0.2:4028}", 3);
  assert_no_series(series,
                   "antmon_miner_hashrate_hashes_per_second{algorithm=sha256d,miner=10.0.0.2:4028");
  assert_no_series(series, "antmon_miner_temperature_celsius{board=6,miner=10.0.0.2:4028");
}

/* A paused miner answers its polls: up, its state label "paused", and
 * its idle readings exported (0 hashrate, the sleep draw). */
static void
test_paused_miner(void)
{
  static const AmTestMinerSpec paused = {
      "10.0.0.7:4028", "rack-7", "paused", "Antminer S19 Pro", NULL, 0, 112, 160, 40, 5};
  g_autoptr(AmHttpMetrics) m = am_http_metrics_new();
  g_autoptr(AmHttpMiner) miner = am_test_miner(&paused);
  am_http_metrics_add_miner(m, miner);
  g_autoptr(GBytes) text = am_http_metrics_render(m);
  g_autoptr(GHashTable) series = parse_exposition(text);
#define S19P "miner=10.0.0.7:4028"
  assert_series(series,
                "antmon_miner_info{driver=antminer,firmware=bmminer," S19P
                ",model=Antminer S19 Pro,name=rack-7}",
                1);
  assert_series(series, "antmon_miner_state{" S19P ",state=paused}", 1);
  assert_series(series, "antmon_miner_up{" S19P "}", 1);
  assert_series(series, "antmon_miner_hashrate_hashes_per_second{algorithm=sha256d," S19P "}", 0);
  assert_series(series, "antmon_miner_power_watts{" S19P ",source=reported}", 160);
#undef S19P
}

/* A label value with every character the format escapes comes back intact. */
static void
test_label_escaping(void)
{
  const char *nasty = "S19 \"XP\" \\ hydro\nrev2";
  AmTestMinerSpec spec = online_s19;
  spec.model = nasty;
  g_autoptr(AmHttpMiner) miner = am_test_miner(&spec);
  g_autoptr(AmHttpMetrics) m = am_http_metrics_new();
  am_http_metrics_add_miner(m, miner);
  g_autoptr(GBytes) text = am_http_metrics_render(m);
  g_autoptr(GHashTable) series = parse_exposition(text);
  g_autofree char *key = g_strdup_printf(
      "antmon_miner_info{driver=antminer,firmware=bmminer,miner=10.0.0.9:4028,model=%s,"
      "name=rack-9}",
      nasty);
  assert_series(series, key, 1);

  g_autoptr(GString) escaped = g_string_new(NULL);
  am_http_metrics_escape_label(escaped, nasty);
  g_assert_cmpstr(escaped->str, ==, "S19 \\\"XP\\\" \\\\ hydro\\nrev2");
}

static void
test_agent_series(void)
{
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(
      p,
      "{\"version\":\"0.1.0\",\"uptime_s\":120,\"plugins\":{\"loaded\":[\"a\",\"b\"],"
      "\"rejected\":[{\"file\":\"x.so\",\"reason\":\"abi\"}]},"
      "\"poll\":{\"miners\":4,\"online\":2,\"degraded\":0,\"paused\":1,\"offline\":1,"
      "\"unreachable\":0,"
      "\"in_flight\":1,\"last_pass\":{\"polled\":3,\"succeeded\":2,\"failed\":1,"
      "\"failed_by_reason\":{\"timeout\":1},\"duration_ms\":1500}},"
      "\"discovery\":{\"discovery:cidr\":{\"hosts_tried\":254,\"miners_found\":3,\"last_run\":"
      "\"2026-11-24T10:00:00Z\"}},\"store\":{\"depth\":4,\"dropped\":0},\"alerts\":null}",
      -1, NULL));
  g_autoptr(AmHttpMetrics) m = am_http_metrics_new();
  am_http_metrics_add_health(m, json_parser_get_root(p));
  g_autoptr(GBytes) text = am_http_metrics_render(m);
  g_autoptr(GHashTable) series = parse_exposition(text);
  assert_series(series, "antmon_build_info{version=0.1.0}", 1);
  assert_series(series, "antmon_uptime_seconds{}", 120);
  assert_series(series, "antmon_plugins_loaded{}", 2);
  assert_series(series, "antmon_plugins_rejected{}", 1);
  assert_series(series, "antmon_miners{state=offline}", 1);
  assert_series(series, "antmon_miners{state=paused}", 1);
  assert_series(series, "antmon_polls_in_flight{}", 1);
  assert_series(series, "antmon_poll_last_pass_polls{result=failed}", 1);
  assert_series(series, "antmon_poll_last_pass_failures{reason=timeout}", 1);
  assert_series(series, "antmon_poll_last_pass_duration_seconds{}", 1.5);
  assert_series(series, "antmon_discovery_hosts_tried{instance=discovery:cidr}", 254);
  assert_series(series, "antmon_store_depth{}", 4);
  /* A string such as last_run is not a number to export. */
  assert_no_series(series, "antmon_discovery_last_run");
}

/* The join a Prometheus user writes, `... * on(miner) group_left(model)
 * antmon_miner_info`: only info carries the descriptive labels, only
 * antmon_miner_state the state, and every miner has exactly one of each. */
static void
test_info_state_join(void)
{
  static const AmTestMinerSpec paused = {
      "10.0.0.7:4028", "rack-7", "paused", "Antminer S19 Pro", NULL, 0, 112, 160, 40, 5};
  const AmTestMinerSpec *specs[] = {&online_s19, &offline_s9, &paused};
  g_autoptr(AmHttpMetrics) m = am_http_metrics_new();
  for (guint i = 0; i < G_N_ELEMENTS(specs); i++) {
    g_autoptr(AmHttpMiner) miner = am_test_miner(specs[i]);
    am_http_metrics_add_miner(m, miner);
  }
  g_autoptr(GBytes) text = am_http_metrics_render(m);
  g_autoptr(GHashTable) series = parse_exposition(text);
  GHashTableIter it;
  gpointer key;
  g_autoptr(GHashTable) infos = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_iter_init(&it, series);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    const char *k = key;
    const char *miner = strstr(k, "miner=10.0.0.");
    g_assert_nonnull(miner);
    g_autofree char *who = g_strndup(miner, strcspn(miner, ",}"));
    if (g_str_has_prefix(k, "antmon_miner_info{")) {
      g_assert_true(g_hash_table_add(infos, g_strdup(who)));
      continue;
    }
    if (g_str_has_prefix(k, "antmon_miner_state{"))
      g_assert_true(g_hash_table_add(states, g_strdup(who)));
    /* Descriptive labels would make a new series at every rename or
     * firmware upgrade: only info has them. */
    g_assert_null(strstr(k, "model="));
    g_assert_null(strstr(k, "firmware="));
    g_assert_null(strstr(k, "name="));
    g_assert_null(strstr(k, "driver="));
  }
  g_assert_cmpuint(g_hash_table_size(infos), ==, 3);
  g_assert_cmpuint(g_hash_table_size(states), ==, 3);
  assert_series(series,
                "antmon_miner_info{driver=antminer,firmware=bmminer,miner=10.0.0.2:4028,"
                "model=Antminer S9,name=rack-2}",
                1);
  assert_series(series, "antmon_miner_state{miner=10.0.0.9:4028,state=online}", 1);
  assert_series(series, "antmon_miner_state{miner=10.0.0.7:4028,state=paused}", 1);
  assert_no_series(series, "antmon_miner_state{miner=10.0.0.9:4028,state=offline}");
}

/* Counts lines of @text starting with @prefix. */
static guint
count_lines(GBytes *text, const char *prefix)
{
  g_autofree char *copy = g_strndup(g_bytes_get_data(text, NULL), g_bytes_get_size(text));
  g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
  guint n = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    n += g_str_has_prefix(lines[i], prefix);
  return n;
}

/* Blocks are made per miner but each family is written once, its lines of
 * every miner together; a block kept from an earlier scrape reads the same
 * as a fresh one; the agent's families and the miners' do not mix. */
static void
test_family_grouping(void)
{
  g_autoptr(AmHttpMetrics) m = am_http_metrics_new();
  g_autoptr(AmHttpMiner) s19 = am_test_miner(&online_s19);
  g_autoptr(AmHttpMiner) s9 = am_test_miner(&offline_s9);
  g_autoptr(AmHttpMinerBlock) kept = am_http_miner_block_new(s19);
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(
      p, "{\"version\":\"0.1.0\",\"uptime_s\":1,\"poll\":{\"online\":1}}", -1, NULL));
  am_http_metrics_add_health(m, json_parser_get_root(p));
  for (guint i = 0; i < 3; i++) {
    am_http_metrics_add_block(m, kept);
    am_http_metrics_add_miner(m, s9);
  }
  g_autoptr(GBytes) text = am_http_metrics_render(m);
  /* Six miners, two of them the same: the parser refuses duplicates, so
   * render the distinct ones for it and count lines in this text. */
  g_assert_cmpuint(count_lines(text, "# TYPE antmon_miner_up "), ==, 1);
  g_assert_cmpuint(count_lines(text, "# HELP antmon_miner_up "), ==, 1);
  g_assert_cmpuint(count_lines(text, "antmon_miner_up{"), ==, 6);
  g_assert_cmpuint(count_lines(text, "# TYPE antmon_miner_fan_rpm "), ==, 1);
  g_assert_cmpuint(count_lines(text, "antmon_miner_fan_rpm{miner=\"10.0.0.9:4028\",fan=\"1\"}"), ==,
                   3);
  /* No miner answers with a coolant reading: no empty family header. */
  g_assert_cmpuint(count_lines(text, "# TYPE antmon_miner_water_temperature_celsius"), ==, 0);

  g_autoptr(AmHttpMetrics) once = am_http_metrics_new();
  am_http_metrics_add_health(once, json_parser_get_root(p));
  am_http_metrics_add_block(once, kept);
  am_http_metrics_add_miner(once, s9);
  g_autoptr(GBytes) distinct = am_http_metrics_render(once);
  g_autoptr(GHashTable) series = parse_exposition(distinct);
  assert_series(series, "antmon_uptime_seconds{}", 1);
  assert_series(series, "antmon_miner_up{miner=10.0.0.9:4028}", 1);
  assert_series(series, "antmon_miner_up{miner=10.0.0.2:4028}", 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/http-metrics/miner-series", test_miner_series);
  g_test_add_func("/http-metrics/paused-miner", test_paused_miner);
  g_test_add_func("/http-metrics/label-escaping", test_label_escaping);
  g_test_add_func("/http-metrics/agent-series", test_agent_series);
  g_test_add_func("/http-metrics/info-state-join", test_info_state_join);
  g_test_add_func("/http-metrics/family-grouping", test_family_grouping);
  return g_test_run();
}
