/* Home Assistant MQTT discovery and the state payload. Entity names follow
 * what HA users know from hass-miner (hashrate, power, efficiency,
 * temperature, fans, a mining switch, a power limit number). */
#include "am-mqtt-ha.h"
#include <antmon/json.h>
#include <antmon/version.h>
#include <math.h>
#include <string.h>

char *
am_mqtt_miner_id(const char *address)
{
  char *id = g_strdup(address);
  for (char *p = id; *p != '\0'; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
      *p = '_';
  return id;
}

const char *
am_mqtt_availability(const AmMinerView *view)
{
  gboolean up = g_str_equal(view->state, "online") || g_str_equal(view->state, "degraded") ||
                g_str_equal(view->state, "paused");
  return up ? "online" : "offline";
}

static void
add_doubles(JsonBuilder *b, const char *name, GArray *values)
{
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (guint i = 0; values != NULL && i < values->len; i++)
    json_builder_add_double_value(b, g_array_index(values, double, i));
  json_builder_end_array(b);
}

static void
add_readings(JsonBuilder *b, const AmSample *s)
{
  am_json_add_string(b, "mining", am_mining_state_name(s->mining));
  am_json_add_number(b, "hashrate_ths", s->hashrate_ths);
  am_json_add_number(b, "hashrate_avg_ths", s->hashrate_avg_ths);
  am_json_add_number(b, "hashrate_ideal_ths", s->hashrate_ideal_ths);
  am_json_add_number(b, "power_w", s->power_w);
  am_json_add_number(b, "power_limit_w", s->power_limit_w);
  am_json_add_number(b, "efficiency_jth", s->efficiency_jth);
  am_json_add_number(b, "temp_max_c", s->temp_max_c);
  am_json_add_number(b, "temp_avg_c", s->avg_temp_c);
  add_doubles(b, "temperatures_c", s->temps_c);
  add_doubles(b, "chip_temperatures_c", s->chip_temps_c);
  am_json_add_number(b, "fan_avg_rpm", s->avg_fan_rpm);
  add_doubles(b, "fans_rpm", s->fans_rpm);
  json_builder_set_member_name(b, "uptime_s");
  if (s->elapsed_s >= 0)
    json_builder_add_int_value(b, s->elapsed_s);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, "locate");
  if (s->locate == AM_UNKNOWN)
    json_builder_add_null_value(b);
  else
    json_builder_add_boolean_value(b, s->locate != 0);
  am_json_add_string(b, "model", s->model);
  am_json_add_string(b, "firmware", s->firmware);
  am_json_add_string(b, "firmware_version", s->firmware_version);
  g_autofree char *when = am_time_to_iso8601(s->when_us);
  am_json_add_string(b, "when", when);
}

char *
am_mqtt_state_json(const AmMinerView *view)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  am_json_add_string(b, "address", view->address);
  am_json_add_string(b, "name", view->name);
  am_json_add_string(b, "state", view->state);
  am_json_add_string(b, "reason", view->state_reason);
  am_json_add_string(b, "driver", view->driver);
  if (view->sample != NULL)
    add_readings(b, view->sample);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

void
am_mqtt_config_free(AmMqttConfig *config)
{
  g_free(config->topic);
  g_free(config->payload);
  g_free(config);
}

char *
am_mqtt_command_topic(const char *prefix, const char *id, const char *object)
{
  return g_strdup_printf("%s/%s/%s/set", prefix, id, object);
}

/* The maker, from the driver that reads the miner: HA shows it on the
 * device page. Firmware families name their hardware's maker. */
static const char *
manufacturer(const char *driver)
{
  static const char *const makers[][2] = {
      {"antminer", "Bitmain"},  {"antminer-web", "Bitmain"}, {"braiins", "Bitmain"},
      {"luxos", "Bitmain"},     {"whatsminer", "MicroBT"},   {"avalon", "Canaan"},
      {"auradine", "Auradine"}, {"goldshell", "Goldshell"},  {"iceriver", "IceRiver"},
      {"elphapex", "Elphapex"}, {"sealminer", "Bitdeer"},    {"epic", "ePIC Blockchain"},
      {"axeos", "Bitaxe"},      {"proto", "Block (Proto)"},
  };
  for (gsize i = 0; driver != NULL && i < G_N_ELEMENTS(makers); i++)
    if (g_str_equal(driver, makers[i][0]))
      return makers[i][1];
  return driver != NULL ? driver : "unknown";
}

static void
add_device(JsonBuilder *b, const AmMqttDiscovery *d, const AmMinerView *view)
{
  const AmSample *s = view->sample;
  json_builder_set_member_name(b, "device");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "identifiers");
  json_builder_begin_array(b);
  if (s != NULL && s->mac != NULL) {
    g_autofree char *mac = g_ascii_strdown(s->mac, -1);
    g_autofree char *id = am_mqtt_miner_id(mac);
    g_autofree char *ident = g_strdup_printf("antmon_mac_%s", id);
    json_builder_add_string_value(b, ident);
  } else {
    g_autofree char *ident = g_strdup_printf("antmon_%s", d->id);
    json_builder_add_string_value(b, ident);
  }
  json_builder_end_array(b);
  if (s != NULL && s->mac != NULL) {
    json_builder_set_member_name(b, "connections");
    json_builder_begin_array(b);
    json_builder_begin_array(b);
    json_builder_add_string_value(b, "mac");
    g_autofree char *mac = g_ascii_strdown(s->mac, -1);
    json_builder_add_string_value(b, mac);
    json_builder_end_array(b);
    json_builder_end_array(b);
  }
  am_json_add_string(b, "name", view->name);
  am_json_add_string(b, "manufacturer", manufacturer(view->driver));
  am_json_add_string(b, "model", s != NULL && s->model != NULL ? s->model : "miner");
  if (s != NULL && (s->firmware != NULL || s->firmware_version != NULL)) {
    g_autofree char *sw = g_strjoin(" ", s->firmware != NULL ? s->firmware : "",
                                    s->firmware_version != NULL ? s->firmware_version : "", NULL);
    am_json_add_string(b, "sw_version", g_strstrip(sw));
  }
  g_autofree char *url = g_strdup_printf("http://%s/", view->host);
  am_json_add_string(b, "configuration_url", url);
  json_builder_end_object(b);
}

/* One entity: what differs from one to the next. */
typedef struct {
  const char *component; /* "sensor", "binary_sensor", "switch", "number", "button" */
  const char *object;
  const char *name;
  const char *value_template; /* NULL: no state (buttons) */
  const char *unit;
  const char *device_class;
  const char *state_class;
  const char *icon;
  AmActionKind needs;  /* a control: shown when the driver can do it */
  AmActionKind needs2; /* and this one too (the switch: pause and resume) */
} Entity;

static const Entity entities[] = {
    {"sensor", "hashrate", "Hashrate", "{{ value_json.hashrate_ths }}", "TH/s", NULL, "measurement",
     "mdi:pickaxe", 0, 0},
    {"sensor", "power", "Power", "{{ value_json.power_w }}", "W", "power", "measurement", NULL, 0,
     0},
    {"sensor", "efficiency", "Efficiency", "{{ value_json.efficiency_jth }}", "J/TH", NULL,
     "measurement", "mdi:lightning-bolt", 0, 0},
    {"sensor", "temperature", "Temperature", "{{ value_json.temp_max_c }}", "°C", "temperature",
     "measurement", NULL, 0, 0},
    {"sensor", "fan", "Fan speed", "{{ value_json.fan_avg_rpm }}", "RPM", NULL, "measurement",
     "mdi:fan", 0, 0},
    {"sensor", "uptime", "Uptime", "{{ value_json.uptime_s }}", "s", "duration", NULL, NULL, 0, 0},
    {"sensor", "state", "State", "{{ value_json.state }}", NULL, NULL, NULL, "mdi:state-machine", 0,
     0},
    {"binary_sensor", "mining", "Mining", "{{ 'ON' if value_json.mining == 'hashing' else 'OFF' }}",
     NULL, "running", NULL, NULL, 0, 0},
    {"switch", "mining", "Mining",
     "{{ 'OFF' if value_json.state == 'paused' or value_json.mining in ['paused', 'sleeping'] "
     "else 'ON' }}",
     NULL, NULL, NULL, "mdi:pickaxe", AM_ACTION_PAUSE, AM_ACTION_RESUME},
    {"number", "power_target", "Power target", "{{ value_json.power_limit_w }}", "W", "power", NULL,
     NULL, AM_ACTION_POWER_TARGET, 0},
    {"button", "reboot", "Reboot", NULL, NULL, "restart", NULL, NULL, AM_ACTION_REBOOT, 0},
    {"button", "locate", "Locate", NULL, NULL, "identify", NULL, NULL, AM_ACTION_LOCATE, 0},
};

static gboolean
wanted(const AmMqttDiscovery *d, const Entity *e)
{
  if (e->needs == 0)
    return TRUE;
  if (!d->commands || !(d->actions & AM_ACTION_BIT(e->needs)))
    return FALSE;
  return e->needs2 == 0 || (d->actions & AM_ACTION_BIT(e->needs2));
}

static void
add_availability(JsonBuilder *b, const AmMqttDiscovery *d)
{
  json_builder_set_member_name(b, "availability");
  json_builder_begin_array(b);
  g_autofree char *agent = g_strdup_printf("%s/status", d->prefix);
  g_autofree char *miner = g_strdup_printf("%s/%s/availability", d->prefix, d->id);
  const char *topics[] = {agent, miner};
  for (gsize i = 0; i < G_N_ELEMENTS(topics); i++) {
    json_builder_begin_object(b);
    am_json_add_string(b, "topic", topics[i]);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  am_json_add_string(b, "availability_mode", "all");
}

static void
add_control(JsonBuilder *b, const AmMqttDiscovery *d, const Entity *e)
{
  g_autofree char *command = am_mqtt_command_topic(d->prefix, d->id, e->object);
  am_json_add_string(b, "command_topic", command);
  if (g_str_equal(e->component, "number")) {
    json_builder_set_member_name(b, "min");
    json_builder_add_int_value(b, 100);
    json_builder_set_member_name(b, "max");
    json_builder_add_int_value(b, 20000);
    json_builder_set_member_name(b, "step");
    json_builder_add_int_value(b, 10);
    am_json_add_string(b, "mode", "box");
  }
}

static AmMqttConfig *
entity_config(const AmMqttDiscovery *d, const AmMinerView *view, const Entity *e)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  am_json_add_string(b, "name", e->name);
  g_autofree char *unique = g_strdup_printf("antmon_%s_%s_%s", d->id, e->component, e->object);
  am_json_add_string(b, "unique_id", unique);
  if (e->value_template != NULL) {
    g_autofree char *state = g_strdup_printf("%s/%s/state", d->prefix, d->id);
    am_json_add_string(b, "state_topic", state);
    am_json_add_string(b, "value_template", e->value_template);
  }
  if (e->unit != NULL)
    am_json_add_string(b, "unit_of_measurement", e->unit);
  if (e->device_class != NULL)
    am_json_add_string(b, "device_class", e->device_class);
  if (e->state_class != NULL)
    am_json_add_string(b, "state_class", e->state_class);
  if (e->icon != NULL)
    am_json_add_string(b, "icon", e->icon);
  if (e->needs != 0)
    add_control(b, d, e);
  add_availability(b, d);
  add_device(b, d, view);
  json_builder_set_member_name(b, "origin");
  json_builder_begin_object(b);
  am_json_add_string(b, "name", "antmon");
  am_json_add_string(b, "sw_version", AM_VERSION_STRING);
  json_builder_end_object(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  AmMqttConfig *config = g_new0(AmMqttConfig, 1);
  config->topic = g_strdup_printf("%s/%s/antmon_%s/%s/config", d->discovery_prefix, e->component,
                                  d->id, e->object);
  config->payload = json_to_string(root, FALSE);
  return config;
}

GPtrArray *
am_mqtt_discovery_configs(const AmMqttDiscovery *d, const AmMinerView *view)
{
  GPtrArray *configs = g_ptr_array_new_with_free_func((GDestroyNotify)am_mqtt_config_free);
  for (gsize i = 0; i < G_N_ELEMENTS(entities); i++)
    if (wanted(d, &entities[i]))
      g_ptr_array_add(configs, entity_config(d, view, &entities[i]));
  return configs;
}
