/* One MQTT connection (libmosquitto) driven by the GLib main loop.
 *
 * libmosquitto can run its own thread (mosquitto_loop_start), but then its
 * callbacks, and so every command an exporter acts on, would come from that
 * thread, and the plugin ABI promises the core is called from the main loop
 * with no locks. So the socket is watched by a GSource instead
 * (mosquitto_socket, _loop_read/_write/_misc). Only the connect itself runs
 * in a worker thread, because resolving a broker's host name blocks; the
 * main loop does not touch the client until it returns.
 *
 * A lost or refused connection is tried again after 1 s, then 2, 4, ... up
 * to 60 s; a CONNACK resets the wait. Nothing is queued here: publish()
 * refuses while disconnected and the owner republishes what it keeps (the
 * latest per miner) when connected() is called again. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *host;
  guint16 port;
  gboolean tls;
  const char *ca_file; /* NULL: the system's CAs */
  const char *username;
  const char *password;
  const char *client_id;
  const char *will_topic; /* gets "offline" (retained) if the connection dies */
  guint keepalive_s;
} AmMqttClientConfig;

typedef struct {
  /* The broker accepted us (again): subscribe and publish everything. */
  void (*connected)(gpointer data);
  void (*message)(gpointer data, const char *topic, const char *payload, gsize length);
} AmMqttClientCallbacks;

typedef struct _AmMqttClient AmMqttClient;

/* Sets the client up without connecting. NULL with AM_ERROR_CONFIG when
 * libmosquitto refuses a setting (the CA file, ...). */
AmMqttClient *am_mqtt_client_new(const AmMqttClientConfig *config,
                                 const AmMqttClientCallbacks *callbacks, gpointer data,
                                 GError **error);
/* Starts connecting; returns at once. */
void am_mqtt_client_start(AmMqttClient *client);
gboolean am_mqtt_client_is_connected(AmMqttClient *client);
/* Sends @payload (may be empty: deletes a retained message). FALSE when not
 * connected or the library refused it. */
gboolean am_mqtt_client_publish(AmMqttClient *client, const char *topic, const char *payload,
                                int qos, gboolean retain);
gboolean am_mqtt_client_subscribe(AmMqttClient *client, const char *pattern, int qos);
/* Counters for the log and tests: connections made, publishes refused. */
guint am_mqtt_client_connects(AmMqttClient *client);
/* Publishes "offline" on the will topic, disconnects cleanly (the broker
 * then drops the will) and frees. */
void am_mqtt_client_free(AmMqttClient *client);

G_END_DECLS
