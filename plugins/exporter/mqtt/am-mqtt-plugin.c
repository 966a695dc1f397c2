/* [exporter:mqtt]: each miner's readings, state and availability on an MQTT
 * broker, with Home Assistant discovery so sensors appear by themselves,
 * and (commands=true) controls carried out through the control plane.
 *
 * What is kept is the latest per miner (its state payload and discovery
 * configurations), never a backlog of samples: while the broker is away
 * nothing is queued but that, and on every (re)connect it is all published
 * again, which also restores retained messages a broker restarted without
 * persistence lost. */
#include "am-mqtt-exporter.h"
#include "am-mqtt-ha.h"
#include "sample-ini.h"
#include <antmon/config.h>
#include <antmon/error.h>
#include <string.h>

#define KEEPALIVE_S 30

static void
miner_free(AmMqttMiner *m)
{
  g_free(m->address);
  g_free(m->id);
  g_free(m->state_json);
  if (m->configs != NULL)
    g_ptr_array_unref(m->configs);
  g_free(m);
}

static char *
topic_of(AmMqttExporter *x, AmMqttMiner *m, const char *leaf)
{
  return g_strdup_printf("%s/%s/%s", x->prefix, m->id, leaf);
}

static void
publish_availability(AmMqttExporter *x, AmMqttMiner *m)
{
  g_autofree char *topic = topic_of(x, m, "availability");
  am_mqtt_client_publish(x->client, topic, m->availability, 1, TRUE);
}

static void
publish_state(AmMqttExporter *x, AmMqttMiner *m)
{
  if (m->state_json == NULL)
    return;
  g_autofree char *topic = topic_of(x, m, "state");
  am_mqtt_client_publish(x->client, topic, m->state_json, x->qos, x->retain);
}

static void
publish_configs(AmMqttExporter *x, GPtrArray *configs)
{
  for (guint i = 0; configs != NULL && i < configs->len; i++) {
    AmMqttConfig *c = configs->pdata[i];
    am_mqtt_client_publish(x->client, c->topic, c->payload, 1, TRUE);
  }
}

/* An empty retained message deletes the retained one: HA then removes the
 * entity. */
static void
clear_topic(AmMqttExporter *x, const char *topic)
{
  if (am_mqtt_client_publish(x->client, topic, "", 1, TRUE))
    return;
  /* Sent on reconnect, so a miner forgotten while the broker was away
   * leaves no entity behind; bounded like the results. */
  if (!g_hash_table_contains(x->clears, topic) &&
      g_hash_table_size(x->clears) < 64 * x->max_results)
    g_hash_table_add(x->clears, g_strdup(topic));
}

static gboolean
configs_contain(GPtrArray *configs, const AmMqttConfig *c)
{
  for (guint i = 0; configs != NULL && i < configs->len; i++) {
    const AmMqttConfig *o = configs->pdata[i];
    if (g_str_equal(o->topic, c->topic))
      return TRUE;
  }
  return FALSE;
}

static gboolean
configs_equal(GPtrArray *a, GPtrArray *b)
{
  if (a == NULL || b == NULL || a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++) {
    const AmMqttConfig *x = a->pdata[i], *y = b->pdata[i];
    if (!g_str_equal(x->topic, y->topic) || !g_str_equal(x->payload, y->payload))
      return FALSE;
  }
  return TRUE;
}

/* Publishes the discovery configurations when they differ from the last
 * (first sample, new firmware, actions gained or lost), deleting those of
 * entities that went away. */
static void
update_discovery(AmMqttExporter *x, AmMqttMiner *m, const AmMinerView *view)
{
  AmMqttDiscovery d = {.prefix = x->prefix,
                       .discovery_prefix = x->discovery_prefix,
                       .id = m->id,
                       .commands = x->commands,
                       .actions = view->actions};
  g_autoptr(GPtrArray) configs = am_mqtt_discovery_configs(&d, view);
  if (configs_equal(configs, m->configs))
    return;
  for (guint i = 0; m->configs != NULL && i < m->configs->len; i++) {
    const AmMqttConfig *old = m->configs->pdata[i];
    if (!configs_contain(configs, old))
      clear_topic(x, old->topic);
  }
  publish_configs(x, configs);
  if (m->configs != NULL)
    g_ptr_array_unref(m->configs);
  m->configs = g_steal_pointer(&configs);
}

static AmMqttMiner *
miner_for(AmMqttExporter *x, const AmMinerView *view)
{
  AmMqttMiner *m = g_hash_table_lookup(x->miners, view->address);
  if (m != NULL)
    return m;
  m = g_new0(AmMqttMiner, 1);
  m->address = g_strdup(view->address);
  m->id = am_mqtt_miner_id(view->address);
  m->locate = AM_UNKNOWN;
  g_hash_table_insert(x->miners, m->address, m);
  g_hash_table_replace(x->by_id, m->id, m);
  return m;
}

/* Takes in what @view says now and publishes what changed. */
static void
update_miner(AmMqttExporter *x, const AmMinerView *view)
{
  AmMqttMiner *m = miner_for(x, view);
  const char *availability = am_mqtt_availability(view);
  if (m->availability != availability) {
    m->availability = availability;
    publish_availability(x, m);
  }
  g_free(m->state_json);
  m->state_json = am_mqtt_state_json(view);
  if (view->sample != NULL) {
    m->locate = view->sample->locate;
    update_discovery(x, m, view);
  }
  publish_state(x, m);
}

/* ---- AmExporterVTable ------------------------------------------------- */

static void
mqtt_miner_added(gpointer self, const AmMinerView *view)
{
  update_miner(self, view);
}

static void
mqtt_sample(gpointer self, const AmMinerView *view)
{
  update_miner(self, view);
}

static void
mqtt_state_changed(gpointer self, const AmMinerView *view, const char *old_state)
{
  (void)old_state;
  update_miner(self, view);
}

static void
mqtt_miner_removed(gpointer self, const char *address)
{
  AmMqttExporter *x = self;
  AmMqttMiner *m = g_hash_table_lookup(x->miners, address);
  if (m == NULL)
    return;
  for (guint i = 0; m->configs != NULL && i < m->configs->len; i++)
    clear_topic(x, ((AmMqttConfig *)m->configs->pdata[i])->topic);
  g_autofree char *state = topic_of(x, m, "state");
  g_autofree char *availability = topic_of(x, m, "availability");
  clear_topic(x, state);
  clear_topic(x, availability);
  if (g_hash_table_lookup(x->by_id, m->id) == m)
    g_hash_table_remove(x->by_id, m->id);
  g_hash_table_remove(x->miners, address);
}

/* Everything again: the broker may have lost its retained messages. */
static void
on_connected(gpointer data)
{
  AmMqttExporter *x = data;
  g_autofree char *status = g_strdup_printf("%s/status", x->prefix);
  am_mqtt_client_publish(x->client, status, "online", 1, TRUE);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, x->miners);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    AmMqttMiner *m = value;
    publish_configs(x, m->configs);
    publish_availability(x, m);
    publish_state(x, m);
  }
  /* Home Assistant says "online" here when it starts: it wants the
   * configurations again. */
  g_autofree char *ha_status = g_strdup_printf("%s/status", x->discovery_prefix);
  am_mqtt_client_subscribe(x->client, ha_status, 1);
  if (x->commands)
    am_mqtt_commands_subscribe(x);
  GHashTableIter cit;
  gpointer cleared;
  g_hash_table_iter_init(&cit, x->clears);
  while (g_hash_table_iter_next(&cit, &cleared, NULL))
    am_mqtt_client_publish(x->client, cleared, "", 1, TRUE);
  g_hash_table_remove_all(x->clears);
  while (!g_queue_is_empty(&x->results)) {
    g_autofree char *topic = g_queue_pop_head(&x->results);
    g_autofree char *payload = g_queue_pop_head(&x->results);
    am_mqtt_client_publish(x->client, topic, payload, 1, FALSE);
  }
}

static void
on_message(gpointer data, const char *topic, const char *payload, gsize length)
{
  (void)length;
  AmMqttExporter *x = data;
  g_autofree char *ha_status = g_strdup_printf("%s/status", x->discovery_prefix);
  if (g_str_equal(topic, ha_status)) {
    if (g_str_equal(payload, "online"))
      on_connected(x);
    return;
  }
  if (x->commands)
    am_mqtt_commands_on_message(x, topic, payload);
}

void
am_mqtt_exporter_send_result(AmMqttExporter *x, const char *topic, const char *payload)
{
  if (am_mqtt_client_publish(x->client, topic, payload, 1, FALSE))
    return;
  g_queue_push_tail(&x->results, g_strdup(topic));
  g_queue_push_tail(&x->results, g_strdup(payload));
  while (g_queue_get_length(&x->results) > 2 * x->max_results) {
    g_free(g_queue_pop_head(&x->results));
    g_free(g_queue_pop_head(&x->results));
  }
}

/* ---- settings ------------------------------------------------------------ */

typedef struct {
  char *host;
  guint16 port;
  gboolean tls;
  char *ca_file;
  char *username;
  char *password;
  char *client_id;
} Connection;

static void
connection_clear(Connection *c)
{
  g_free(c->host);
  g_free(c->ca_file);
  g_free(c->username);
  if (c->password != NULL)
    memset(c->password, 0, strlen(c->password));
  g_free(c->password);
  g_free(c->client_id);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Connection, connection_clear)

/* A topic prefix: one or more levels, no wildcards, no empty level. */
static gboolean
check_prefix(const char *group, const char *key, const char *value, GError **error)
{
  gboolean ok = value[0] != '\0' && strpbrk(value, "+#") == NULL && value[0] != '/' &&
                !g_str_has_suffix(value, "/") && strstr(value, "//") == NULL;
  if (!ok)
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] %s=%s: expected MQTT topic levels such as \"antmon\" or \"farm/antmon\" "
                "(no +, # or empty level)",
                group, key, value);
  return ok;
}

static char *
empty_to_null(char *value)
{
  if (value != NULL && value[0] == '\0')
    g_clear_pointer(&value, g_free);
  return value;
}

static gboolean
read_connection(GKeyFile *kf, const char *group, Connection *c, GError **error)
{
  if (!am_config_get_host_port(kf, group, "broker", "127.0.0.1", 1883, &c->host, &c->port, error) ||
      !am_config_get_bool(kf, group, "tls", FALSE, &c->tls, error))
    return FALSE;
  if ((c->ca_file = am_config_get_string(kf, group, "ca_file", "", error)) == NULL ||
      (c->username = am_config_get_string(kf, group, "username", "", error)) == NULL)
    return FALSE;
  c->ca_file = empty_to_null(c->ca_file);
  c->username = empty_to_null(c->username);
  g_autoptr(GError) secret_error = NULL;
  c->password = am_config_get_secret(kf, group, "password", &secret_error);
  if (secret_error != NULL) {
    g_propagate_error(error, g_steal_pointer(&secret_error));
    return FALSE;
  }
  if (c->ca_file != NULL && !g_file_test(c->ca_file, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] ca_file=%s: expected a readable file",
                group, c->ca_file);
    return FALSE;
  }
  g_autofree char *fallback = g_strdup_printf("antmon-%s", g_get_host_name());
  c->client_id = am_config_get_string(kf, group, "client_id", fallback, error);
  return c->client_id != NULL;
}

static gboolean
read_topics(AmMqttExporter *x, GKeyFile *kf, const char *group, GError **error)
{
  guint qos = 0;
  if ((x->prefix = am_config_get_string(kf, group, "topic_prefix", "antmon", error)) == NULL ||
      !check_prefix(group, "topic_prefix", x->prefix, error))
    return FALSE;
  if ((x->discovery_prefix =
           am_config_get_string(kf, group, "discovery_prefix", "homeassistant", error)) == NULL ||
      !check_prefix(group, "discovery_prefix", x->discovery_prefix, error))
    return FALSE;
  if (!am_config_get_bool(kf, group, "commands", FALSE, &x->commands, error) ||
      !am_config_get_uint(kf, group, "qos", 0, 0, 2, &qos, error) ||
      !am_config_get_bool(kf, group, "retain", TRUE, &x->retain, error) ||
      !am_config_get_uint(kf, group, "max_results", 100, 1, 100000, &x->max_results, error))
    return FALSE;
  x->qos = (int)qos;
  return TRUE;
}

static void mqtt_destroy(gpointer instance);

static gpointer
mqtt_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmMqttExporter *x = g_new0(AmMqttExporter, 1);
  x->ctx = ctx;
  x->group = g_strdup(group);
  x->miners = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)miner_free);
  x->by_id = g_hash_table_new(g_str_hash, g_str_equal);
  x->following = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  x->last_state = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_queue_init(&x->results);
  x->clears = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_auto(Connection) conn = {0};
  if (!read_topics(x, kf, group, error) || !read_connection(kf, group, &conn, error)) {
    mqtt_destroy(x);
    return NULL;
  }
  g_autofree char *will = g_strdup_printf("%s/status", x->prefix);
  AmMqttClientConfig cc = {.host = conn.host,
                           .port = conn.port,
                           .tls = conn.tls,
                           .ca_file = conn.ca_file,
                           .username = conn.username,
                           .password = conn.password,
                           .client_id = conn.client_id,
                           .will_topic = will,
                           .keepalive_s = KEEPALIVE_S};
  AmMqttClientCallbacks callbacks = {.connected = on_connected, .message = on_message};
  x->client = am_mqtt_client_new(&cc, &callbacks, x, error);
  if (x->client == NULL) {
    g_prefix_error(error, "[%s] ", group);
    mqtt_destroy(x);
    return NULL;
  }
  return x;
}

static gboolean
mqtt_start(gpointer self, GError **error)
{
  (void)error;
  AmMqttExporter *x = self;
  am_mqtt_client_start(x->client);
  return TRUE;
}

static void
mqtt_destroy(gpointer instance)
{
  AmMqttExporter *x = instance;
  am_mqtt_commands_stop(x);
  am_mqtt_client_free(x->client); /* says "offline" first */
  g_hash_table_unref(x->by_id);
  g_hash_table_unref(x->miners);
  g_hash_table_unref(x->following);
  g_hash_table_unref(x->last_state);
  g_hash_table_unref(x->clears);
  g_queue_clear_full(&x->results, g_free);
  g_free(x->prefix);
  g_free(x->discovery_prefix);
  g_free(x->group);
  g_free(x);
}

static const AmExporterVTable mqtt_vtable = {
    .struct_size = sizeof(AmExporterVTable),
    .start = mqtt_start,
    .miner_added = mqtt_miner_added,
    .miner_removed = mqtt_miner_removed,
    .sample = mqtt_sample,
    .state_changed = mqtt_state_changed,
};

AM_PLUGIN_DEFINE(.name = "mqtt", .kind = AM_PLUGIN_KIND_EXPORTER,
                 .description = "each miner's readings and state on an MQTT broker, with Home "
                                "Assistant discovery and controls",
                 .version = AM_VERSION_STRING, .sample_config = sample_ini, .create = mqtt_create,
                 .destroy = mqtt_destroy, .vtable.exporter = &mqtt_vtable)
