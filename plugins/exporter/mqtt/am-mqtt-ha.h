/* What the MQTT exporter publishes, as text: a miner's state payload and
 * its Home Assistant discovery configurations. Pure: no I/O, no state. */
#pragma once

#include <antmon/plugin.h>

G_BEGIN_DECLS

/* "127.0.0.1:4028" -> "127_0_0_1_4028": a topic level and an HA object id
 * (letters, digits, '_' and '-' only). (transfer full) */
char *am_mqtt_miner_id(const char *address);

/* The state payload of @view (readings from view->sample when there is one):
 *   {"address":..,"name":..,"state":"online","reason":..,"mining":"hashing",
 *    "hashrate_ths":..,"power_w":..,"efficiency_jth":..,"temp_max_c":..,
 *    "temperatures_c":[..],"fans_rpm":[..],"uptime_s":..,"model":..,..}
 * unknown readings as null. (transfer full) */
char *am_mqtt_state_json(const AmMinerView *view);

/* "online" when the miner answers (online, degraded, paused), else
 * "offline". */
const char *am_mqtt_availability(const AmMinerView *view);

/* Where and what to publish for one miner. */
typedef struct {
  const char *prefix;           /* topic_prefix= */
  const char *discovery_prefix; /* discovery_prefix= */
  const char *id;               /* am_mqtt_miner_id() */
  gboolean commands;            /* commands=true: controls for @actions */
  AmActionSet actions;          /* what the miner's driver can do */
} AmMqttDiscovery;

/* One entity's retained configuration. */
typedef struct {
  char *topic;   /* <discovery_prefix>/<component>/antmon_<id>/<object>/config */
  char *payload; /* the JSON */
} AmMqttConfig;

void am_mqtt_config_free(AmMqttConfig *config);

/* The configurations of every entity of the miner @view describes (one HA
 * device: identifiers from its MAC, else its address; model, manufacturer,
 * sw_version = firmware). (transfer full) AmMqttConfig*. */
GPtrArray *am_mqtt_discovery_configs(const AmMqttDiscovery *d, const AmMinerView *view);

/* The topic of a command (@object "mining", "power_target", "reboot",
 * "locate"): <prefix>/<id>/<object>/set. (transfer full) */
char *am_mqtt_command_topic(const char *prefix, const char *id, const char *object);

G_END_DECLS
