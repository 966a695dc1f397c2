/* A real mosquitto broker for the MQTT tests, and a subscriber that
 * remembers the last message of every topic. */
#pragma once

#include <gio/gio.h>

/* mosquitto -c <temp config> listening on 127.0.0.1:@port only, anonymous,
 * no persistence (a restart loses retained messages, as a broker without
 * persistence does). */
typedef struct {
  GSubprocess *proc;
  guint16 port;
  char *dir;
  guint16 tls_port; /* 0 unless started with TLS */
  char *ca_file;    /* the self-signed certificate the TLS listener shows */
} AmTestBroker;

/* Starts it on @port (0: a free one) and waits until it accepts clients. */
AmTestBroker *am_test_broker_start(guint16 port);
/* As am_test_broker_start(0), with a second listener on 127.0.0.1:tls_port
 * that speaks TLS with a certificate made for 127.0.0.1 (openssl req), which
 * is also its own certificate authority: ca_file. */
AmTestBroker *am_test_broker_start_tls(void);
/* Ends it (SIGTERM to its PID, then waits) and removes its files. */
void am_test_broker_stop(AmTestBroker *broker);

typedef struct _AmTestSub AmTestSub;

/* A client (its own libmosquitto thread) subscribed to "#" on @port; it
 * reconnects and subscribes again when the broker comes back. */
AmTestSub *am_test_sub_new(guint16 port);
void am_test_sub_free(AmTestSub *sub);
/* The last payload on @topic ("" for an empty one: a deleted retained
 * message), or NULL when none came. (transfer full) */
char *am_test_sub_get(AmTestSub *sub, const char *topic);
/* Whether that last message was a retained one (sent on subscribing). */
gboolean am_test_sub_retained(AmTestSub *sub, const char *topic);
/* The topics seen so far that start with @prefix, sorted. (transfer full) */
char **am_test_sub_topics(AmTestSub *sub, const char *prefix);
/* Forgets what came so far. */
void am_test_sub_clear(AmTestSub *sub);
/* Publishes @payload on @topic (QoS 1, not retained). */
void am_test_sub_publish(AmTestSub *sub, const char *topic, const char *payload);
gboolean am_test_sub_connected(AmTestSub *sub);
