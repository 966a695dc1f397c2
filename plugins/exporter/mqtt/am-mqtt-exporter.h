/* The MQTT exporter's instance: settings, the miners it publishes, and the
 * connection. Shared by the plugin's parts (publishing, commands). */
#pragma once

#include "am-mqtt-client.h"
#include <antmon/plugin.h>

G_BEGIN_DECLS

/* One miner as published. */
typedef struct {
  char *address;
  char *id;                 /* am_mqtt_miner_id(address): its topic level */
  char *state_json;         /* the last state payload, sent again on reconnect */
  const char *availability; /* "online" / "offline" (static strings) */
  GPtrArray *configs;       /* AmMqttConfig* last published, NULL before a sample */
  gint locate;              /* the light as last polled, AM_UNKNOWN if not told */
} AmMqttMiner;

typedef struct {
  AmContext *ctx;
  char *group; /* "exporter:mqtt": the actor named in action events */
  /* settings */
  char *prefix;
  char *discovery_prefix;
  gboolean commands;
  int qos;
  gboolean retain;
  guint max_results; /* command results kept while the broker is away */
  /* state */
  AmMqttClient *client;
  GHashTable *miners;     /* address -> AmMqttMiner* */
  GHashTable *by_id;      /* id -> AmMqttMiner* (borrowed) */
  GHashTable *following;  /* action id -> miner id: actions to report */
  GHashTable *last_state; /* action id -> last state published */
  GQueue results;         /* (topic, payload) pairs not sent yet */
  GHashTable *clears;     /* retained topics to delete once connected */
  guint follow_id;
} AmMqttExporter;

/* Publishes @payload on @topic, or keeps it (up to max_results, the oldest
 * dropped) until the broker is back. For command results. */
void am_mqtt_exporter_send_result(AmMqttExporter *x, const char *topic, const char *payload);

/* Commands (am-mqtt-commands.c). */
void am_mqtt_commands_subscribe(AmMqttExporter *x);
void am_mqtt_commands_on_message(AmMqttExporter *x, const char *topic, const char *payload);
void am_mqtt_commands_stop(AmMqttExporter *x);

G_END_DECLS
