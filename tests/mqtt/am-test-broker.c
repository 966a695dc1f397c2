/* The broker and the subscriber of am-test-broker.h. */
#include "am-test-broker.h"
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <mosquitto.h>
#include <signal.h>
#include <string.h>

static gboolean
port_accepts(guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_autoptr(GSocketConnection) conn =
      g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, NULL);
  return conn != NULL;
}

/* A key and a self-signed certificate for 127.0.0.1 (its IP in the
 * subjectAltName: clients check it) in @dir. */
static void
make_certificate(const char *dir, char **cert_out, char **key_out)
{
  *cert_out = g_build_filename(dir, "broker.crt", NULL);
  *key_out = g_build_filename(dir, "broker.key", NULL);
  g_autoptr(GSubprocessLauncher) launcher = am_test_launcher(G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn(
      launcher, &error, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", *key_out,
      "-out", *cert_out, NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_wait_check(proc, NULL, &error));
  g_assert_no_error(error);
}

static AmTestBroker *
broker_start(guint16 port, gboolean tls)
{
  AmTestBroker *b = g_new0(AmTestBroker, 1);
  b->port = port != 0 ? port : am_test_free_port();
  b->dir = g_dir_make_tmp("antmon-mqtt-XXXXXX", NULL);
  g_autofree char *conf = g_build_filename(b->dir, "mosquitto.conf", NULL);
  /* user=: run as root, mosquitto would switch to its own user, and the
   * kernel then drops the signal that ends it with this test. */
  g_autoptr(GString) text = g_string_new(NULL);
  g_string_append_printf(text,
                         "per_listener_settings false\nallow_anonymous true\n"
                         "persistence false\nlog_dest none\nuser %s\nlistener %u 127.0.0.1\n",
                         g_get_user_name(), b->port);
  if (tls) {
    g_autofree char *key = NULL;
    make_certificate(b->dir, &b->ca_file, &key);
    b->tls_port = am_test_free_port();
    g_string_append_printf(text, "listener %u 127.0.0.1\ncertfile %s\nkeyfile %s\n", b->tls_port,
                           b->ca_file, key);
  }
  g_assert_true(g_file_set_contents(conf, text->str, -1, NULL));
  g_autoptr(GSubprocessLauncher) launcher = am_test_launcher(G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  b->proc = g_subprocess_launcher_spawn(launcher, &error, "mosquitto", "-c", conf, NULL);
  g_assert_no_error(error);
  /* Liveness only: a broker that never listens fails here, not later. */
  for (guint i = 0; i < 600 && !port_accepts(b->port); i++) {
    g_assert_nonnull(g_subprocess_get_identifier(b->proc)); /* still running */
    g_usleep(50 * 1000);
  }
  g_assert_true(port_accepts(b->port));
  if (tls)
    g_assert_true(port_accepts(b->tls_port));
  return b;
}

AmTestBroker *
am_test_broker_start(guint16 port)
{
  return broker_start(port, FALSE);
}

AmTestBroker *
am_test_broker_start_tls(void)
{
  return broker_start(0, TRUE);
}

void
am_test_broker_stop(AmTestBroker *b)
{
  if (b == NULL)
    return;
  g_subprocess_send_signal(b->proc, SIGTERM);
  g_subprocess_wait(b->proc, NULL, NULL);
  g_object_unref(b->proc);
  static const char *const files[] = {"mosquitto.conf", "broker.crt", "broker.key"};
  for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *path = g_build_filename(b->dir, files[i], NULL);
    g_unlink(path);
  }
  g_rmdir(b->dir);
  g_free(b->ca_file);
  g_free(b->dir);
  g_free(b);
}

/* ---- the subscriber ---------------------------------------------------- */

typedef struct {
  char *payload;
  gboolean retained;
} Message;

struct _AmTestSub {
  struct mosquitto *mosq;
  GMutex lock;
  GHashTable *last; /* topic -> Message* */
  gboolean connected;
};

static void
message_free(Message *m)
{
  g_free(m->payload);
  g_free(m);
}

static void
on_connect(struct mosquitto *mosq, void *obj, int rc)
{
  AmTestSub *s = obj;
  if (rc != 0)
    return;
  mosquitto_subscribe(mosq, NULL, "#", 1);
  g_mutex_lock(&s->lock);
  s->connected = TRUE;
  g_mutex_unlock(&s->lock);
}

static void
on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
  (void)mosq, (void)rc;
  AmTestSub *s = obj;
  g_mutex_lock(&s->lock);
  s->connected = FALSE;
  g_mutex_unlock(&s->lock);
}

static void
on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
  (void)mosq;
  AmTestSub *s = obj;
  Message *m = g_new0(Message, 1);
  m->payload = g_strndup(msg->payload != NULL ? msg->payload : "", msg->payloadlen);
  m->retained = msg->retain;
  g_mutex_lock(&s->lock);
  g_hash_table_replace(s->last, g_strdup(msg->topic), m);
  g_mutex_unlock(&s->lock);
}

AmTestSub *
am_test_sub_new(guint16 port)
{
  mosquitto_lib_init();
  AmTestSub *s = g_new0(AmTestSub, 1);
  g_mutex_init(&s->lock);
  s->last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)message_free);
  s->mosq = mosquitto_new(NULL, true, s);
  g_assert_nonnull(s->mosq);
  mosquitto_connect_callback_set(s->mosq, on_connect);
  mosquitto_disconnect_callback_set(s->mosq, on_disconnect);
  mosquitto_message_callback_set(s->mosq, on_message);
  mosquitto_reconnect_delay_set(s->mosq, 1, 1, false);
  g_assert_cmpint(mosquitto_connect(s->mosq, "127.0.0.1", port, 30), ==, MOSQ_ERR_SUCCESS);
  g_assert_cmpint(mosquitto_loop_start(s->mosq), ==, MOSQ_ERR_SUCCESS);
  return s;
}

void
am_test_sub_free(AmTestSub *s)
{
  mosquitto_disconnect(s->mosq);
  mosquitto_loop_stop(s->mosq, false);
  mosquitto_destroy(s->mosq);
  mosquitto_lib_cleanup();
  g_hash_table_unref(s->last);
  g_mutex_clear(&s->lock);
  g_free(s);
}

char *
am_test_sub_get(AmTestSub *s, const char *topic)
{
  g_mutex_lock(&s->lock);
  Message *m = g_hash_table_lookup(s->last, topic);
  char *payload = m != NULL ? g_strdup(m->payload) : NULL;
  g_mutex_unlock(&s->lock);
  return payload;
}

gboolean
am_test_sub_retained(AmTestSub *s, const char *topic)
{
  g_mutex_lock(&s->lock);
  Message *m = g_hash_table_lookup(s->last, topic);
  gboolean retained = m != NULL && m->retained;
  g_mutex_unlock(&s->lock);
  return retained;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

char **
am_test_sub_topics(AmTestSub *s, const char *prefix)
{
  GPtrArray *out = g_ptr_array_new();
  g_mutex_lock(&s->lock);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, s->last);
  while (g_hash_table_iter_next(&it, &key, NULL))
    if (g_str_has_prefix(key, prefix))
      g_ptr_array_add(out, g_strdup(key));
  g_mutex_unlock(&s->lock);
  g_ptr_array_sort(out, compare_strings);
  g_ptr_array_add(out, NULL);
  return (char **)g_ptr_array_free(out, FALSE);
}

void
am_test_sub_clear(AmTestSub *s)
{
  g_mutex_lock(&s->lock);
  g_hash_table_remove_all(s->last);
  g_mutex_unlock(&s->lock);
}

void
am_test_sub_publish(AmTestSub *s, const char *topic, const char *payload)
{
  g_assert_cmpint(mosquitto_publish(s->mosq, NULL, topic, (int)strlen(payload), payload, 1, false),
                  ==, MOSQ_ERR_SUCCESS);
}

gboolean
am_test_sub_connected(AmTestSub *s)
{
  g_mutex_lock(&s->lock);
  gboolean connected = s->connected;
  g_mutex_unlock(&s->lock);
  return connected;
}
