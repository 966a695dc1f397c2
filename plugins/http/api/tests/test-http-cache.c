/* The miners /api/miners and /metrics keep between requests, in the real
 * daemon polling a fake fleet every two seconds: after polls, a miner going
 * offline and a miner removed, the kept list equals what is built fresh
 * for the same moment (GET /api/miners/{address} writes its object anew
 * on every request), and nothing of the old state lingers in either. */
#include "am-http-test-daemon.h"
#include "am-test-util.h"

#include <string.h>

static AmTestFleet *fleet;
static AmTestDaemon *daemon_;
static guint16 port;

/* A Whatsminer (its summary carries a MAC), an S9 and an S19 Pro. */
static void
start(void)
{
  port = am_test_free_port();
  const char *const profiles[] = {"whatsminer-v2-actions", "antminer-s9", "antminer-s19pro"};
  g_autoptr(GString) text = g_string_new(NULL);
  g_autoptr(GString) ini = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(profiles); i++) {
    g_autofree char *dir = am_test_profile_dir(profiles[i]);
    g_string_append_printf(text, "127.88.5.%u:%u %s\n", i + 1, port, dir);
    g_string_append_printf(ini, "[miner:m%u]\nhost=127.88.5.%u:%u\n", i + 1, i + 1, port);
  }
  g_string_append(ini, "[http:api]\nlisten=127.0.0.1:0\n");
  fleet = am_test_fleet_start(text->str);
  daemon_ =
      am_test_daemon_start_http("interval=2s\npoll_timeout=1s\noffline_after=2\n", ini->str, NULL);
}

static char *
address(guint i)
{
  return g_strdup_printf("127.88.5.%u:%u", i, port);
}

static JsonObject *
get_object(const char *path)
{
  g_autoptr(AmTestReply) r = am_test_get(daemon_, path);
  if (r->status != 200 || r->json == NULL || !JSON_NODE_HOLDS_OBJECT(r->json))
    g_error("GET %s: %u %.*s", path, r->status, (int)g_bytes_get_size(r->body),
            (const char *)g_bytes_get_data(r->body, NULL));
  return json_object_ref(json_node_get_object(r->json));
}

static char *
get_text(const char *path)
{
  g_autoptr(AmTestReply) r = am_test_get(daemon_, path);
  g_assert_cmpuint(r->status, ==, 200);
  return g_strndup(g_bytes_get_data(r->body, NULL), g_bytes_get_size(r->body));
}

static JsonObject *
listed(JsonObject *list, const char *addr)
{
  JsonArray *miners = am_json_array(list, "miners");
  for (guint i = 0; i < json_array_get_length(miners); i++) {
    JsonObject *m = json_array_get_object_element(miners, i);
    if (g_strcmp0(am_json_string(m, "address"), addr) == 0)
      return m;
  }
  return NULL;
}

/* @data miners answering (the S9's recording is degraded: a dead sensor). */
static gboolean
all_answer(JsonObject *list, gpointer data)
{
  JsonArray *miners = am_json_array(list, "miners");
  guint answering = 0;
  for (guint i = 0; i < json_array_get_length(miners); i++) {
    const char *state = am_json_string(json_array_get_object_element(miners, i), "state");
    answering += g_strcmp0(state, "online") == 0 || g_strcmp0(state, "degraded") == 0;
  }
  return answering == GPOINTER_TO_UINT(data);
}

/* Every miner of @before has a newer sample in @list. */
static gboolean
all_polled_again(JsonObject *list, gpointer data)
{
  JsonObject *before = data;
  JsonArray *miners = am_json_array(before, "miners");
  for (guint i = 0; i < json_array_get_length(miners); i++) {
    JsonObject *old = json_array_get_object_element(miners, i);
    JsonObject *now = listed(list, am_json_string(old, "address"));
    if (now == NULL || g_strcmp0(am_json_string(am_json_object(now, "sample"), "when"),
                                 am_json_string(am_json_object(old, "sample"), "when")) == 0)
      return FALSE;
  }
  return TRUE;
}

/* The members of @a, but age_s (it counts seconds while we look), equal
 * in @b. */
static gboolean
same_members(JsonObject *a, JsonObject *b, const char **which)
{
  g_autoptr(GList) names = json_object_get_members(a);
  for (GList *l = names; l != NULL; l = l->next) {
    if (g_str_equal(l->data, "age_s"))
      continue;
    JsonNode *nb = json_object_get_member(b, l->data);
    if (nb == NULL || !json_node_equal(json_object_get_member(a, l->data), nb)) {
      *which = l->data;
      return FALSE;
    }
  }
  return TRUE;
}

/* Compares the kept list with each miner's object built fresh. A poll may
 * land between the requests: then that miner's entry in the list read
 * after its object differs from the one before, and it is compared again. */
static void
assert_list_is_fresh(guint expected)
{
  g_autoptr(JsonObject) first = get_object("api/miners");
  JsonArray *miners = am_json_array(first, "miners");
  g_assert_cmpuint(json_array_get_length(miners), ==, expected);
  g_assert_cmpint(am_json_int(first, "total", -1), ==, expected);
  for (guint i = 0; i < expected; i++) {
    const char *addr = am_json_string(json_array_get_object_element(miners, i), "address");
    g_autofree char *path = g_strdup_printf("api/miners/%s", addr);
    gboolean compared = FALSE;
    for (guint attempt = 0; attempt < 50 && !compared; attempt++) {
      g_autoptr(JsonObject) before = get_object("api/miners");
      g_autoptr(JsonObject) fresh = get_object(path);
      g_autoptr(JsonObject) after = get_object("api/miners");
      JsonObject *b = listed(before, addr), *a = listed(after, addr);
      g_assert_nonnull(b);
      g_assert_nonnull(a);
      const char *which = NULL;
      if (!same_members(b, a, &which) || !same_members(a, b, &which))
        continue; /* polled meanwhile */
      if (!same_members(b, fresh, &which))
        g_error("%s: the kept list's \"%s\" differs from the fresh object's", addr, which);
      compared = TRUE;
    }
    if (!compared)
      g_error("%s never held still for three requests", addr);
  }
}

static gboolean
is_offline(JsonObject *miner, gpointer data)
{
  return g_strcmp0(am_json_string(miner, "state"), "offline") == 0;
}

static gboolean
miners_in_health(JsonObject *health, gpointer data)
{
  return am_json_int(am_json_object(health, "poll"), "miners", -1) == GPOINTER_TO_INT(data);
}

static void
test_cache(void)
{
  start();
  g_autoptr(JsonObject) first =
      am_test_wait_json(daemon_, "api/miners", all_answer, GUINT_TO_POINTER(3));
  /* Fill the cache, then let every miner be polled again. */
  g_autofree char *warm = get_text("metrics");
  g_autoptr(JsonObject) brief = get_object("api/miners?view=brief");
  g_autoptr(JsonObject) polled = am_test_wait_json(daemon_, "api/miners", all_polled_again, first);
  assert_list_is_fresh(3);

  /* The S19 stops answering. Waiting on the single-miner endpoint (built
   * fresh, it touches no cache) leaves the kept copies to notice alone. */
  g_autofree char *s19 = address(3);
  am_test_fleet_control(fleet, "set 127.88.5.3 fault=refuse");
  g_autofree char *s19_path = g_strdup_printf("api/miners/%s", s19);
  g_autoptr(JsonObject) off = am_test_wait_json(daemon_, s19_path, is_offline, NULL);
  g_autofree char *metrics = get_text("metrics");
  g_autofree char *state =
      g_strdup_printf("antmon_miner_state{miner=\"%s\",state=\"offline\"} 1\n", s19);
  g_autofree char *down = g_strdup_printf("antmon_miner_up{miner=\"%s\"} 0\n", s19);
  g_autofree char *online =
      g_strdup_printf("antmon_miner_state{miner=\"%s\",state=\"online\"}", s19);
  g_assert_nonnull(strstr(metrics, state));
  g_assert_nonnull(strstr(metrics, down));
  g_assert_null(strstr(metrics, online));
  g_autoptr(JsonObject) offline_list = get_object("api/miners?state=offline&view=brief");
  g_assert_nonnull(listed(offline_list, s19));
  assert_list_is_fresh(3);

  /* The S9 turns out to be the Whatsminer's twin (same MAC): the daemon
   * keeps one address and drops the other. */
  g_autofree char *s9 = address(2);
  g_autofree char *twin = am_test_profile_dir("whatsminer-v2-actions");
  g_autofree char *cmd2 = g_strdup_printf("set 127.88.5.2 profile=%s", twin);
  am_test_fleet_control(fleet, cmd2);
  g_autoptr(JsonObject) health =
      am_test_wait_json(daemon_, "api/health", miners_in_health, GINT_TO_POINTER(2));
  g_autofree char *after = get_text("metrics");
  g_autofree char *gone = g_strdup_printf("miner=\"%s\"", s9);
  g_assert_null(strstr(after, gone));
  g_autoptr(JsonObject) list = get_object("api/miners?view=brief");
  g_assert_null(listed(list, s9));
  assert_list_is_fresh(2);

  am_test_daemon_stop(daemon_);
  am_test_fleet_stop(fleet);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/http-cache/follows-the-fleet", test_cache);
  return g_test_run();
}
