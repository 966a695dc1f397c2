/* The MQTT connection on the main loop: see am-mqtt-client.h. */
#include "am-mqtt-client.h"
#include <antmon/error.h>
#include <errno.h>
#include <gio/gio.h>
#include <mosquitto.h>
#include <poll.h>
#include <string.h>

#define BACKOFF_MIN_S 1
#define BACKOFF_MAX_S 60
/* How long a clean stop waits for "offline" and DISCONNECT to be written. */
#define STOP_FLUSH_MS 1000

struct _AmMqttClient {
  struct mosquitto *mosq;
  char *host;
  guint16 port;
  guint keepalive_s;
  AmMqttClientCallbacks callbacks;
  gpointer data;
  char *will_topic;
  GSource *io;         /* watches the socket while there is one */
  guint misc_id;       /* keep-alive pings, once a second */
  guint retry_id;      /* the next connect attempt */
  guint backoff_s;     /* the wait before the next attempt */
  gboolean ever_tried; /* connect (first) or reconnect (later) */
  gboolean connecting; /* a worker thread owns mosq */
  gboolean connected;  /* CONNACK accepted */
  gboolean warned;     /* a failure was logged since the last CONNACK */
  guint connects;
  int connect_errno; /* errno of a connect that failed with MOSQ_ERR_ERRNO */
  GCancellable *cancellable;
};

/* ---- the socket as a GSource ----------------------------------------- */

typedef struct {
  GSource source;
  AmMqttClient *client;
  gpointer tag;
} IoSource;

static void connection_lost(AmMqttClient *c, int rc);

static gboolean
io_prepare(GSource *source, gint *timeout)
{
  IoSource *s = (IoSource *)source;
  GIOCondition want = G_IO_IN | G_IO_HUP | G_IO_ERR;
  if (mosquitto_want_write(s->client->mosq))
    want |= G_IO_OUT;
  g_source_modify_unix_fd(source, s->tag, want);
  *timeout = -1;
  return FALSE;
}

static gboolean
io_check(GSource *source)
{
  IoSource *s = (IoSource *)source;
  return g_source_query_unix_fd(source, s->tag) != 0;
}

static gboolean
io_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
  (void)callback, (void)user_data;
  IoSource *s = (IoSource *)source;
  AmMqttClient *c = s->client;
  GIOCondition got = g_source_query_unix_fd(source, s->tag);
  int rc = MOSQ_ERR_SUCCESS;
  if (got & (G_IO_IN | G_IO_HUP | G_IO_ERR))
    rc = mosquitto_loop_read(c->mosq, 16);
  if (rc == MOSQ_ERR_SUCCESS && (got & G_IO_OUT))
    rc = mosquitto_loop_write(c->mosq, 16);
  if (rc != MOSQ_ERR_SUCCESS) {
    connection_lost(c, rc); /* destroys this source */
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs io_funcs = {io_prepare, io_check, io_dispatch, NULL, NULL, NULL};

static void
watch_socket(AmMqttClient *c)
{
  int fd = mosquitto_socket(c->mosq);
  if (fd < 0)
    return;
  GSource *source = g_source_new(&io_funcs, sizeof(IoSource));
  IoSource *s = (IoSource *)source;
  s->client = c;
  s->tag = g_source_add_unix_fd(source, fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_name(source, "antmon-mqtt-socket");
  g_source_attach(source, NULL);
  c->io = source;
}

static void
unwatch_socket(AmMqttClient *c)
{
  if (c->io == NULL)
    return;
  g_source_destroy(c->io);
  g_source_unref(c->io);
  c->io = NULL;
}

/* ---- connecting -------------------------------------------------------- */

static void try_connect(AmMqttClient *c);

static gboolean
on_retry(gpointer user_data)
{
  AmMqttClient *c = user_data;
  c->retry_id = 0;
  try_connect(c);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry(AmMqttClient *c)
{
  if (c->retry_id != 0)
    return;
  g_debug("MQTT %s:%u: next attempt in %u s", c->host, c->port, c->backoff_s);
  c->retry_id = g_timeout_add_seconds(c->backoff_s, on_retry, c);
  c->backoff_s = MIN(c->backoff_s * 2, BACKOFF_MAX_S);
}

/* Said once until a connection works again; later attempts are debug
 * lines, so a broker down for a day does not fill the log. */
static void
cannot_connect(AmMqttClient *c, const char *why)
{
  if (!c->warned)
    g_warning("MQTT broker %s:%u: cannot connect: %s; trying again every %u to %u s", c->host,
              c->port, why, BACKOFF_MIN_S, BACKOFF_MAX_S);
  else
    g_debug("MQTT broker %s:%u: cannot connect: %s", c->host, c->port, why);
  c->warned = TRUE;
}

static void
connection_lost(AmMqttClient *c, int rc)
{
  unwatch_socket(c);
  if (c->connected) {
    g_warning("MQTT broker %s:%u: connection lost (%s); reconnecting", c->host, c->port,
              mosquitto_strerror(rc));
    c->warned = TRUE;
  } else {
    /* The socket failed before a CONNACK: refused, reset, or not a broker. */
    cannot_connect(c, mosquitto_strerror(rc));
  }
  c->connected = FALSE;
  mosquitto_disconnect(c->mosq); /* closes the socket if the library has not */
  schedule_retry(c);
}

static void
connect_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void)source, (void)cancellable;
  AmMqttClient *c = task_data;
  /* Resolving the host blocks; the socket itself is non-blocking. */
  int rc = c->ever_tried ? mosquitto_reconnect_async(c->mosq)
                         : mosquitto_connect_async(c->mosq, c->host, c->port, (int)c->keepalive_s);
  c->connect_errno = errno;
  g_task_return_int(task, rc);
}

static void
on_connect_started(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source, (void)user_data;
  AmMqttClient *c = g_task_get_task_data(G_TASK(result));
  int rc = (int)g_task_propagate_int(G_TASK(result), NULL);
  c->connecting = FALSE;
  c->ever_tried = TRUE;
  if (g_cancellable_is_cancelled(c->cancellable))
    return; /* being freed */
  if (rc != MOSQ_ERR_SUCCESS) {
    cannot_connect(c, rc == MOSQ_ERR_ERRNO ? g_strerror(c->connect_errno) : mosquitto_strerror(rc));
    schedule_retry(c);
    return;
  }
  watch_socket(c);
}

static void
try_connect(AmMqttClient *c)
{
  c->connecting = TRUE;
  GTask *task = g_task_new(NULL, NULL, on_connect_started, NULL);
  g_task_set_task_data(task, c, NULL);
  g_task_run_in_thread(task, connect_thread);
  g_object_unref(task);
}

/* ---- libmosquitto's callbacks (from _loop_read, on the main loop) ------ */

static void
on_connack(struct mosquitto *mosq, void *obj, int rc)
{
  (void)mosq;
  AmMqttClient *c = obj;
  if (rc != 0) {
    g_warning("MQTT broker %s:%u refused the connection: %s", c->host, c->port,
              mosquitto_connack_string(rc));
    return; /* the library closes it; _loop_read fails and the retry follows */
  }
  g_message("MQTT broker %s:%u: connected", c->host, c->port);
  c->connected = TRUE;
  c->warned = FALSE;
  c->connects++;
  c->backoff_s = BACKOFF_MIN_S;
  if (c->callbacks.connected != NULL)
    c->callbacks.connected(c->data);
}

static void
on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
  (void)mosq;
  AmMqttClient *c = obj;
  if (c->callbacks.message == NULL || m->topic == NULL)
    return;
  /* Payloads are bytes: give the owner a NUL-ended copy. */
  g_autofree char *payload = g_strndup(m->payload != NULL ? m->payload : "", m->payloadlen);
  c->callbacks.message(c->data, m->topic, payload, (gsize)m->payloadlen);
}

static gboolean
on_misc(gpointer user_data)
{
  AmMqttClient *c = user_data;
  if (c->io != NULL) {
    int rc = mosquitto_loop_misc(c->mosq);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
      connection_lost(c, rc);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- the public side --------------------------------------------------- */

static gboolean
check_rc(int rc, const char *what, GError **error)
{
  if (rc == MOSQ_ERR_SUCCESS)
    return TRUE;
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "%s: %s", what, mosquitto_strerror(rc));
  return FALSE;
}

static gboolean
configure(AmMqttClient *c, const AmMqttClientConfig *config, GError **error)
{
  if (!check_rc(mosquitto_will_set(c->mosq, config->will_topic, 7, "offline", 1, true),
                "the last will", error))
    return FALSE;
  if (config->username != NULL &&
      !check_rc(mosquitto_username_pw_set(c->mosq, config->username, config->password),
                "username=", error))
    return FALSE;
  if (config->tls) {
    const char *capath = config->ca_file == NULL ? "/etc/ssl/certs" : NULL;
    if (!check_rc(mosquitto_tls_set(c->mosq, config->ca_file, capath, NULL, NULL, NULL),
                  config->ca_file != NULL ? "ca_file=" : "tls=true", error))
      return FALSE;
  }
  mosquitto_connect_callback_set(c->mosq, on_connack);
  mosquitto_message_callback_set(c->mosq, on_message);
  return TRUE;
}

AmMqttClient *
am_mqtt_client_new(const AmMqttClientConfig *config, const AmMqttClientCallbacks *callbacks,
                   gpointer data, GError **error)
{
  mosquitto_lib_init(); /* counted: one per client, undone in free() */
  AmMqttClient *c = g_new0(AmMqttClient, 1);
  c->mosq = mosquitto_new(config->client_id, true, c);
  c->host = g_strdup(config->host);
  c->port = config->port;
  c->keepalive_s = config->keepalive_s;
  c->callbacks = *callbacks;
  c->data = data;
  c->will_topic = g_strdup(config->will_topic);
  c->backoff_s = BACKOFF_MIN_S;
  c->cancellable = g_cancellable_new();
  if (c->mosq == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "libmosquitto: cannot create a client: %s",
                g_strerror(errno));
    am_mqtt_client_free(c);
    return NULL;
  }
  if (!configure(c, config, error)) {
    am_mqtt_client_free(c);
    return NULL;
  }
  return c;
}

void
am_mqtt_client_start(AmMqttClient *c)
{
  c->misc_id = g_timeout_add_seconds(1, on_misc, c);
  try_connect(c);
}

gboolean
am_mqtt_client_is_connected(AmMqttClient *c)
{
  return c->connected;
}

gboolean
am_mqtt_client_publish(AmMqttClient *c, const char *topic, const char *payload, int qos,
                       gboolean retain)
{
  if (!c->connected)
    return FALSE;
  int rc = mosquitto_publish(c->mosq, NULL, topic, (int)strlen(payload), payload, qos, retain);
  if (rc != MOSQ_ERR_SUCCESS)
    g_debug("MQTT publish to %s: %s", topic, mosquitto_strerror(rc));
  return rc == MOSQ_ERR_SUCCESS;
}

gboolean
am_mqtt_client_subscribe(AmMqttClient *c, const char *pattern, int qos)
{
  return c->connected && mosquitto_subscribe(c->mosq, NULL, pattern, qos) == MOSQ_ERR_SUCCESS;
}

guint
am_mqtt_client_connects(AmMqttClient *c)
{
  return c->connects;
}

/* Writes what is queued (the "offline" and the DISCONNECT) for a moment. */
static void
flush_before_close(AmMqttClient *c)
{
  gint64 until = g_get_monotonic_time() + STOP_FLUSH_MS * 1000;
  while (mosquitto_want_write(c->mosq) && g_get_monotonic_time() < until) {
    struct pollfd pfd = {.fd = mosquitto_socket(c->mosq), .events = POLLOUT};
    if (pfd.fd < 0 || poll(&pfd, 1, 100) < 0)
      return;
    if (mosquitto_loop_write(c->mosq, 16) != MOSQ_ERR_SUCCESS)
      return;
  }
}

void
am_mqtt_client_free(AmMqttClient *c)
{
  if (c == NULL)
    return;
  g_cancellable_cancel(c->cancellable);
  /* A connect in a worker owns the client until it returns. */
  while (c->connecting)
    g_main_context_iteration(NULL, TRUE);
  g_clear_handle_id(&c->retry_id, g_source_remove);
  g_clear_handle_id(&c->misc_id, g_source_remove);
  if (c->connected) {
    mosquitto_publish(c->mosq, NULL, c->will_topic, 7, "offline", 1, true);
    mosquitto_disconnect(c->mosq);
    flush_before_close(c);
  }
  unwatch_socket(c);
  if (c->mosq != NULL)
    mosquitto_destroy(c->mosq);
  mosquitto_lib_cleanup();
  g_object_unref(c->cancellable);
  g_free(c->host);
  g_free(c->will_topic);
  g_free(c);
}
