/* [exporter:mqtt] against a real mosquitto broker and the fake fleet: Home
 * Assistant discovery configurations published retained with the device's
 * fields, state payloads that match the polls, a command round trip through
 * the control plane (the fake ends paused, the action event names the
 * exporter), a forgotten miner's configurations deleted, the exporter back
 * after a broker restart, and availability "offline" when antmon stops
 * cleanly and when it is killed (the last will). */
#include "am-actions.h"
#include "am-daemon.h"
#include "am-test-broker.h"
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>

#define PAUSER "127.0.77.1"  /* luxos: pause, resume, reboot, locate, ... */
#define WATCHED "127.0.77.2" /* antminer S9 over the RPC port: read only */

static guint16 fleet_port;
static AmTestFleet *fleet;
static AmTestBroker *broker;
static AmTestSub *sub;
static char *state_dir;
static AmConfigFile *config;
static AmPluginSet *plugins;
static AmDaemon *daemon_;

static char *
miner_id(const char *host)
{
  g_autofree char *address = g_strdup_printf("%s:%u", host, fleet_port);
  return g_strdelimit(g_steal_pointer(&address), ".:", '_');
}

static char *
ini_text(guint16 broker_port)
{
  return g_strdup_printf("[core]\nstate_dir=%s\ninterval=1s\n"
                         "[miner:pauser]\nhost=" PAUSER "\nport=%u\n"
                         "[miner:watched]\nhost=" WATCHED "\nport=%u\n"
                         "[store:sqlite]\npath=antmon.db\nflush_interval=200ms\n"
                         "[actions]\nmin_interval=1s\n"
                         "[exporter:mqtt]\nbroker=127.0.0.1:%u\ncommands=true\n",
                         state_dir, fleet_port, fleet_port, broker_port);
}

/* ---- waiting on what the subscriber saw -------------------------------- */

static gboolean
tick(gpointer data)
{
  (void)data;
  return G_SOURCE_CONTINUE;
}

/* am_test_wait_for() for what the subscriber's own thread receives: the
 * main loop may have nothing else to wake it (no daemon in this process),
 * so a tick makes it look again. */
static void
sub_wait(AmTestCondition cond, gpointer data, const char *what)
{
  guint id = g_timeout_add(20, tick, NULL);
  am_test_wait_for(cond, data, what);
  g_source_remove(id);
}

typedef struct {
  const char *topic;
  const char *want; /* NULL: any payload; "": an empty one */
} TopicWait;

static gboolean
topic_has(gpointer data)
{
  TopicWait *w = data;
  g_autofree char *got = am_test_sub_get(sub, w->topic);
  return got != NULL && (w->want == NULL || g_str_equal(got, w->want));
}

static void
wait_topic(const char *topic, const char *want)
{
  TopicWait w = {topic, want};
  sub_wait(topic_has, &w, topic);
}

static JsonObject *
topic_json(const char *topic)
{
  g_autofree char *payload = am_test_sub_get(sub, topic);
  g_assert_nonnull(payload);
  g_autoptr(JsonNode) node = json_from_string(payload, NULL);
  g_assert_nonnull(node);
  return json_object_ref(json_node_get_object(node));
}

static char *
config_topic(const char *component, const char *host, const char *object)
{
  g_autofree char *id = miner_id(host);
  return g_strdup_printf("homeassistant/%s/antmon_%s/%s/config", component, id, object);
}

static AmMinerEntry *
entry_of(const char *host)
{
  g_autofree char *address = g_strdup_printf("%s:%u", host, fleet_port);
  return am_scheduler_lookup(am_daemon_get_scheduler(daemon_), address);
}

/* ---- the daemon in this process ----------------------------------------- */

/* Writes antmon.ini in the state directory; returns its path. */
static char *
write_ini(void)
{
  g_autofree char *text = ini_text(broker->port);
  char *ini = g_build_filename(state_dir, "antmon.ini", NULL);
  g_assert_true(g_file_set_contents(ini, text, -1, NULL));
  return ini;
}

static void
daemon_start(void)
{
  g_autofree char *ini = write_ini();
  g_autoptr(GError) error = NULL;
  config = am_config_file_load(ini, &error);
  g_assert_no_error(error);
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  plugins = am_plugin_set_load(dirs);
  daemon_ = am_daemon_new(config, plugins);
  g_assert_true(am_daemon_start(daemon_, &error));
  g_assert_no_error(error);
}

/* ---- the cases ------------------------------------------------------------ */

/* A client that connects now: it gets what the broker retains. */
static AmTestSub *
late_sub(void)
{
  return am_test_sub_new(broker->port);
}

static void
test_discovery(void)
{
  daemon_start();
  wait_topic("antmon/status", "online");
  g_autofree char *hashrate = config_topic("sensor", PAUSER, "hashrate");
  wait_topic(hashrate, NULL);
  g_autoptr(JsonObject) o = topic_json(hashrate);
  g_autofree char *id = miner_id(PAUSER);
  g_autofree char *state_topic = g_strdup_printf("antmon/%s/state", id);
  g_assert_cmpstr(json_object_get_string_member(o, "state_topic"), ==, state_topic);
  g_assert_cmpstr(json_object_get_string_member(o, "unit_of_measurement"), ==, "TH/s");
  g_assert_cmpstr(json_object_get_string_member(o, "value_template"), ==,
                  "{{ value_json.hashrate_ths }}");
  JsonObject *device = json_object_get_object_member(o, "device");
  AmSample *sample = entry_of(PAUSER)->latest;
  g_assert_nonnull(sample);
  g_assert_cmpstr(json_object_get_string_member(device, "model"), ==, sample->model);
  g_assert_cmpstr(json_object_get_string_member(device, "manufacturer"), ==, "Bitmain");
  g_assert_nonnull(
      strstr(json_object_get_string_member(device, "sw_version"), sample->firmware_version));
  JsonArray *identifiers = json_object_get_array_member(device, "identifiers");
  g_assert_cmpuint(json_array_get_length(identifiers), ==, 1);
  if (sample->mac != NULL) {
    JsonArray *conn =
        json_array_get_array_element(json_object_get_array_member(device, "connections"), 0);
    g_autofree char *mac = g_ascii_strdown(sample->mac, -1);
    g_assert_cmpstr(json_array_get_string_element(conn, 1), ==, mac);
  }
  /* Availability: the agent's and the miner's, both needed. */
  JsonArray *availability = json_object_get_array_member(o, "availability");
  g_assert_cmpuint(json_array_get_length(availability), ==, 2);
  g_autofree char *miner_availability = g_strdup_printf("antmon/%s/availability", id);
  wait_topic(miner_availability, "online");

  /* Retained: a client that comes later gets them at once. */
  AmTestSub *late = late_sub();
  AmTestSub *saved = sub;
  sub = late;
  wait_topic(hashrate, NULL);
  g_assert_true(am_test_sub_retained(late, hashrate));
  sub = saved;
  am_test_sub_free(late);

  /* Controls exactly where the driver can act: the LuxOS unit gets the
   * switch and buttons, the read-only S9 none. */
  AmActionSet can = am_actions_supported(am_daemon_get_scheduler(daemon_), entry_of(PAUSER));
  g_assert_true(can & AM_ACTION_BIT(AM_ACTION_PAUSE));
  g_autofree char *sw = config_topic("switch", PAUSER, "mining");
  wait_topic(sw, NULL);
  g_autoptr(JsonObject) swo = topic_json(sw);
  g_autofree char *command = g_strdup_printf("antmon/%s/mining/set", id);
  g_assert_cmpstr(json_object_get_string_member(swo, "command_topic"), ==, command);
  g_autofree char *pauser_state = g_strdup_printf("antmon/%s/state", id);
  wait_topic(pauser_state, NULL);
  g_autofree char *reboot = config_topic("button", PAUSER, "reboot");
  g_autofree char *got_reboot = am_test_sub_get(sub, reboot);
  g_assert_true((got_reboot != NULL) == ((can & AM_ACTION_BIT(AM_ACTION_REBOOT)) != 0));

  /* Its state comes after its configurations, on the same connection. */
  g_autofree char *watched_id = miner_id(WATCHED);
  g_autofree char *watched_state = g_strdup_printf("antmon/%s/state", watched_id);
  wait_topic(watched_state, NULL);
  AmActionSet watched_can =
      am_actions_supported(am_daemon_get_scheduler(daemon_), entry_of(WATCHED));
  g_autofree char *watched_switch = config_topic("switch", WATCHED, "mining");
  g_autofree char *got_switch = am_test_sub_get(sub, watched_switch);
  g_assert_true((got_switch != NULL) == ((watched_can & AM_ACTION_BIT(AM_ACTION_PAUSE)) != 0));
}

typedef struct {
  const char *topic;
  const char *host;
} StateWait;

/* The state payload shows the miner's latest sample. */
static gboolean
state_matches_poll(gpointer data)
{
  StateWait *w = data;
  AmMinerEntry *e = entry_of(w->host);
  g_autofree char *payload = am_test_sub_get(sub, w->topic);
  if (e == NULL || e->latest == NULL || payload == NULL)
    return FALSE;
  g_autoptr(JsonNode) node = json_from_string(payload, NULL);
  JsonObject *o = json_node_get_object(node);
  g_autofree char *when = am_time_to_iso8601(e->latest->when_us);
  return g_strcmp0(json_object_get_string_member_with_default(o, "when", ""), when) == 0;
}

static void
test_state(void)
{
  g_autofree char *id = miner_id(PAUSER);
  g_autofree char *topic = g_strdup_printf("antmon/%s/state", id);
  StateWait w = {topic, PAUSER};
  sub_wait(state_matches_poll, &w, "a state payload of the latest poll");
  g_autoptr(JsonObject) o = topic_json(topic);
  AmMinerEntry *e = entry_of(PAUSER);
  AmSample *s = e->latest;
  g_assert_cmpstr(json_object_get_string_member(o, "state"), ==,
                  am_miner_state_to_string(e->state));
  g_assert_cmpfloat(json_object_get_double_member(o, "hashrate_ths"), ==, s->hashrate_ths);
  g_assert_cmpfloat(json_object_get_double_member(o, "power_w"), ==, s->power_w);
  g_assert_cmpint(json_object_get_int_member(o, "uptime_s"), ==, s->elapsed_s);
  g_assert_cmpstr(json_object_get_string_member(o, "mining"), ==, "hashing");
  JsonArray *fans = json_object_get_array_member(o, "fans_rpm");
  g_assert_cmpuint(json_array_get_length(fans), ==, s->fans_rpm->len);
  JsonArray *temps = json_object_get_array_member(o, "temperatures_c");
  g_assert_cmpuint(json_array_get_length(temps), ==, s->temps_c->len);
  g_assert_true(s->hashrate_ths > 0);
}

static gboolean
action_final(gpointer data)
{
  g_autofree char *payload = am_test_sub_get(sub, data);
  return payload != NULL &&
         (strstr(payload, "\"confirmed\"") != NULL || strstr(payload, "\"failed\"") != NULL ||
          strstr(payload, "\"refused\"") != NULL || strstr(payload, "\"not_confirmed\"") != NULL);
}

static void
test_command(void)
{
  g_autofree char *id = miner_id(PAUSER);
  g_autofree char *command = g_strdup_printf("antmon/%s/mining/set", id);
  g_autofree char *result = g_strdup_printf("antmon/%s/action", id);
  am_test_sub_publish(sub, command, "OFF");
  sub_wait(action_final, result, "the pause's outcome on the action topic");
  g_autoptr(JsonObject) o = topic_json(result);
  g_assert_cmpstr(json_object_get_string_member(o, "state"), ==, "confirmed");
  g_assert_cmpstr(json_object_get_string_member(o, "action"), ==, "pause");
  g_assert_cmpstr(json_object_get_string_member(o, "who"), ==, "exporter:mqtt");
  am_test_fleet_assert_shows(fleet, PAUSER, "paused=1");
  /* The switch follows: the state payload says paused. */
  g_autofree char *state = g_strdup_printf("antmon/%s/state", id);
  StateWait w = {state, PAUSER};
  sub_wait(state_matches_poll, &w, "a state payload after the pause");
  g_autoptr(JsonObject) so = topic_json(state);
  g_assert_cmpstr(json_object_get_string_member(so, "state"), ==, "paused");

  /* Nonsense is refused with the reason, and nothing is sent. */
  guint writes = am_test_fleet_writes(fleet, PAUSER);
  am_test_sub_clear(sub);
  am_test_sub_publish(sub, command, "maybe");
  sub_wait(action_final, result, "the refusal on the action topic");
  g_autoptr(JsonObject) r = topic_json(result);
  g_assert_cmpstr(json_object_get_string_member(r, "state"), ==, "refused");
  g_assert_nonnull(strstr(json_object_get_string_member(r, "message"), "ON or OFF"));
  g_assert_cmpuint(am_test_fleet_writes(fleet, PAUSER), ==, writes);
}

static void
test_forget(void)
{
  g_autofree char *hashrate = config_topic("sensor", WATCHED, "hashrate");
  AmTestSub *saved = sub;
  sub = late_sub();
  wait_topic(hashrate, NULL); /* retained until now */
  g_autofree char *address = g_strdup_printf("%s:%u", WATCHED, fleet_port);
  am_scheduler_remove(am_daemon_get_scheduler(daemon_), address);
  wait_topic(hashrate, ""); /* the delete */
  /* its availability is deleted last */
  g_autofree char *watched_id = miner_id(WATCHED);
  g_autofree char *availability = g_strdup_printf("antmon/%s/availability", watched_id);
  wait_topic(availability, "");
  am_test_sub_free(sub);

  /* Gone from the broker: a new client gets none of its topics. */
  sub = late_sub();
  g_autofree char *pauser = config_topic("sensor", PAUSER, "hashrate");
  wait_topic(pauser, NULL); /* the retained messages have arrived */
  g_auto(GStrv) left = am_test_sub_topics(sub, "");
  for (guint i = 0; left[i] != NULL; i++)
    if (strstr(left[i], watched_id) != NULL)
      g_error("%s is still retained after the miner was forgotten", left[i]);
  am_test_sub_free(sub);
  sub = saved;
}

static void
test_broker_restart(void)
{
  guint16 port = broker->port;
  am_test_broker_stop(broker);
  broker = am_test_broker_start(port); /* no persistence: nothing retained */
  am_test_sub_clear(sub);
  g_autofree char *hashrate = config_topic("sensor", PAUSER, "hashrate");
  wait_topic(hashrate, NULL);
  wait_topic("antmon/status", "online");
  g_autofree char *id = miner_id(PAUSER);
  g_autofree char *state = g_strdup_printf("antmon/%s/state", id);
  StateWait w = {state, PAUSER};
  sub_wait(state_matches_poll, &w, "state payloads after the broker came back");
}

static gboolean
status_offline(gpointer data)
{
  (void)data;
  g_autofree char *got = am_test_sub_get(sub, "antmon/status");
  return g_strcmp0(got, "offline") == 0;
}

/* The event the store keeps for the pause, read from the file. */
static char *
stored_action_detail(void)
{
  g_autofree char *path = g_build_filename(state_dir, "antmon.db", NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(db,
                                     "SELECT detail FROM events WHERE kind = 'action' AND "
                                     "name = 'pause' ORDER BY id DESC LIMIT 1",
                                     -1, &st, NULL),
                  ==, SQLITE_OK);
  char *detail = NULL;
  if (sqlite3_step(st) == SQLITE_ROW)
    detail = g_strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return detail;
}

static void
test_stop(void)
{
  am_daemon_free(daemon_);
  daemon_ = NULL;
  am_plugin_set_free(plugins);
  am_config_file_free(config);
  sub_wait(status_offline, NULL, "antmon/status offline after a clean stop");
  g_autofree char *detail = stored_action_detail();
  g_assert_nonnull(detail);
  g_assert_nonnull(strstr(detail, "\"who\":\"exporter:mqtt\""));
  g_assert_nonnull(strstr(detail, "\"state\":\"confirmed\""));
}

static gboolean
status_online(gpointer data)
{
  (void)data;
  g_autofree char *got = am_test_sub_get(sub, "antmon/status");
  return g_strcmp0(got, "online") == 0;
}

/* antmon killed outright says nothing: the broker's last will does. */
static void
test_will(void)
{
  g_autofree char *ini = write_ini();
  am_test_sub_clear(sub);
  g_autoptr(GSubprocessLauncher) launcher = am_test_launcher(G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_launcher_spawn(launcher, &error, g_getenv("ANTMON_BIN"), "run", "-c", ini, NULL);
  g_assert_no_error(error);
  sub_wait(status_online, NULL, "antmon/status online from antmon run");
  g_subprocess_send_signal(proc, SIGKILL);
  g_subprocess_wait(proc, NULL, NULL);
  sub_wait(status_offline, NULL, "antmon/status offline from the last will");
  /* Retained: whoever connects later learns the agent is gone. */
  AmTestSub *saved = sub;
  sub = late_sub();
  sub_wait(status_offline, NULL, "a retained offline for a client that comes later");
  g_assert_true(am_test_sub_retained(sub, "antmon/status"));
  am_test_sub_free(sub);
  sub = saved;
}

/* Whether the last payload on @data (a topic) carries a hashrate. */
static gboolean
state_has_hashrate(gpointer data)
{
  g_autofree char *payload = am_test_sub_get(sub, data);
  g_autoptr(JsonNode) node = payload != NULL ? json_from_string(payload, NULL) : NULL;
  return node != NULL && JSON_NODE_HOLDS_OBJECT(node) &&
         json_object_has_member(json_node_get_object(node), "hashrate_ths");
}

/* tls=true with ca_file=: antmon reaches a broker that only speaks TLS,
 * checks its certificate, and publishes as over plain TCP (the subscriber
 * reads the same broker on its plain listener). */
static void
test_tls(void)
{
  AmTestBroker *tls_broker = am_test_broker_start_tls();
  AmTestSub *saved = sub;
  sub = am_test_sub_new(tls_broker->port);
  g_autofree char *text =
      g_strdup_printf("[core]\nstate_dir=%s\ninterval=1s\n"
                      "[miner:watched]\nhost=" WATCHED "\nport=%u\n"
                      "[exporter:mqtt]\nbroker=127.0.0.1:%u\ntls=true\n"
                      "ca_file=%s\n",
                      state_dir, fleet_port, tls_broker->tls_port, tls_broker->ca_file);
  g_autofree char *ini = g_build_filename(state_dir, "antmon-tls.ini", NULL);
  g_assert_true(g_file_set_contents(ini, text, -1, NULL));
  g_autoptr(GSubprocessLauncher) launcher = am_test_launcher(G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_launcher_spawn(launcher, &error, g_getenv("ANTMON_BIN"), "run", "-c", ini, NULL);
  g_assert_no_error(error);
  sub_wait(status_online, NULL, "antmon/status online over TLS");
  g_autofree char *id = miner_id(WATCHED);
  g_autofree char *state = g_strdup_printf("antmon/%s/state", id);
  /* A reading, not just the state change that may come before the poll. */
  sub_wait(state_has_hashrate, state, "a state payload with a hashrate over TLS");
  g_autoptr(JsonObject) reading = topic_json(state);
  g_assert_cmpfloat(json_object_get_double_member(reading, "hashrate_ths"), >, 0);
  g_subprocess_send_signal(proc, SIGTERM);
  g_assert_true(g_subprocess_wait(proc, NULL, NULL));
  sub_wait(status_offline, NULL, "antmon/status offline after a clean stop over TLS");
  am_test_sub_free(sub);
  sub = saved;
  am_test_broker_stop(tls_broker);
  g_unlink(ini);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* The broker restart makes the exporter warn (connection lost): that is
   * what it should say, not a failure. Criticals stay fatal. */
  g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  fleet_port = am_test_free_port();
  g_autofree char *lines = g_strdup_printf("%s luxos-actions\n%s antminer-s9\n", PAUSER, WATCHED);
  g_autofree char *text = am_test_fleet_text(lines, fleet_port);
  fleet = am_test_fleet_start(text);
  broker = am_test_broker_start(0);
  sub = am_test_sub_new(broker->port);
  state_dir = g_dir_make_tmp("antmon-mqtt-state-XXXXXX", NULL);
  g_test_add_func("/mqtt/discovery", test_discovery);
  g_test_add_func("/mqtt/state", test_state);
  g_test_add_func("/mqtt/command", test_command);
  g_test_add_func("/mqtt/forget", test_forget);
  g_test_add_func("/mqtt/broker-restart", test_broker_restart);
  g_test_add_func("/mqtt/stop", test_stop);
  g_test_add_func("/mqtt/will", test_will);
  g_test_add_func("/mqtt/tls", test_tls);
  int status = g_test_run();
  am_test_sub_free(sub);
  am_test_broker_stop(broker);
  am_test_fleet_stop(fleet);
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", state_dir);
  g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
  g_free(state_dir);
  return status;
}
