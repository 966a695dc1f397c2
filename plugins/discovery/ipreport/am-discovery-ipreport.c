/* discovery:ipreport: passive discovery from the "IP report" datagrams
 * miners broadcast when their IP Report button is pressed
 * (am-ipreport-parse.c reads them).
 *
 * One non-blocking UDP socket per configured port, read on the main loop.
 * It only ever receives. Every datagram is cheap before it is parsed: a
 * token bucket (max_rate) drops what is over the rate, a length check
 * drops what is too long, and only then is it parsed. A miner reported
 * within dedupe_window is not reported again, and at most max_miners
 * addresses are remembered. Miners are never reported gone: a report says
 * where a miner is, not when it leaves. */
#include "am-ipreport-parse.h"
#include "sample-ini.h"

#include <antmon/antmon.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define MAX_PORTS 16
/* Datagrams read per wakeup, so a flood cannot hold the main loop; the
 * kernel queues (and then drops) the rest. */
#define READS_PER_WAKEUP 64

typedef struct _Session Session;

typedef struct {
  char *group;
  gboolean enabled;
  char *bind;
  guint16 ports[MAX_PORTS];
  guint n_ports;
  gboolean use_sender;
  guint16 miner_port;
  guint64 dedupe_ms;
  guint max_rate;
  guint max_datagram;
  guint max_miners;
  guint64 scan_ms;

  Session *session; /* continuous listening, while started */
  const char *state;
  /* Counters for stats_json, over the instance's life. */
  guint64 datagrams;
  guint64 reports;
  guint64 ignored;
  guint64 invalid;
  guint64 oversize;
  guint64 rate_limited;
  guint64 duplicates;
  guint64 over_capacity;
  guint64 address_mismatch;
  guint64 read_errors;
  guint64 by_family[AM_IPREPORT_IPOLLO + 1];
  gint64 last_report_us; /* wall clock */
  char *last_error;
  gboolean warned_full;
} AmIpr;

typedef struct {
  Session *session;
  GSocket *socket;
  GSource *source;
  guint16 port; /* as bound (ports=0 picks one) */
} Listener;

struct _Session {
  AmIpr *self;
  AmCandidateFunc func;
  gpointer func_data;
  GPtrArray *listeners; /* Listener* */
  GHashTable *seen;     /* host -> gint64* monotonic µs it was last reported */
  guint8 *buffer;       /* max_datagram + 1 bytes */
  double tokens;
  gint64 refill_us;
  /* One-shot only. */
  GTask *task;
  guint deadline_id;
  GCancellable *cancellable;
  gulong cancel_id;
};

/* ---- configuration ----------------------------------------------------- */

static gboolean
read_ports(GKeyFile *kf, const char *group, AmIpr *self, GError **error)
{
  g_auto(GStrv) items = NULL;
  if (g_key_file_has_key(kf, group, "ports", NULL)) {
    if ((items = am_config_get_list(kf, group, "ports", error)) == NULL)
      return FALSE;
  } else {
    const char *fallback[] = {"14235", "8888", NULL};
    items = g_strdupv((char **)fallback);
  }
  for (guint i = 0; items[i] != NULL; i++) {
    char *end = NULL;
    guint64 port = g_ascii_strtoull(items[i], &end, 10);
    if (end == items[i] || *end != '\0' || port > 65535 || self->n_ports == MAX_PORTS) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "[%s] ports=%s: expected up to %d UDP ports from 0 to 65535, ';'-separated",
                  group, items[i], MAX_PORTS);
      return FALSE;
    }
    self->ports[self->n_ports++] = (guint16)port;
  }
  if (self->n_ports == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] ports= is empty: expected UDP ports",
                group);
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_bind(GKeyFile *kf, const char *group, AmIpr *self, GError **error)
{
  self->bind = am_config_get_string(kf, group, "bind", "0.0.0.0", error);
  if (self->bind == NULL)
    return FALSE;
  g_strstrip(self->bind);
  if (!g_hostname_is_ip_address(self->bind)) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] bind=%s: expected an IP address such as 0.0.0.0", group, self->bind);
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_address_mode(GKeyFile *kf, const char *group, AmIpr *self, GError **error)
{
  g_autofree char *mode = am_config_get_string(kf, group, "address", "datagram", error);
  if (mode == NULL)
    return FALSE;
  g_strstrip(mode);
  if (g_str_equal(mode, "datagram") || g_str_equal(mode, "sender")) {
    self->use_sender = g_str_equal(mode, "sender");
    return TRUE;
  }
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] address=%s: expected datagram or sender",
              group, mode);
  return FALSE;
}

static gboolean
read_limits(GKeyFile *kf, const char *group, AmIpr *self, GError **error)
{
  guint miner_port = 4028;
  if (!am_config_get_bool(kf, group, "enabled", FALSE, &self->enabled, error) ||
      !am_config_get_uint(kf, group, "miner_port", 4028, 1, 65535, &miner_port, error) ||
      !am_config_get_duration_ms(kf, group, "dedupe_window", 600000, 0, 7 * 86400000ull,
                                 &self->dedupe_ms, error) ||
      !am_config_get_uint(kf, group, "max_rate", 50, 0, 1000000, &self->max_rate, error) ||
      !am_config_get_uint(kf, group, "max_datagram_size", 2048, 64, 65507, &self->max_datagram,
                          error) ||
      !am_config_get_uint(kf, group, "max_miners", 4096, 1, 1000000, &self->max_miners, error) ||
      !am_config_get_duration_ms(kf, group, "scan_duration", 30000, 100, 3600000, &self->scan_ms,
                                 error))
    return FALSE;
  self->miner_port = (guint16)miner_port;
  return TRUE;
}

static void ipr_destroy(gpointer instance);

static gpointer
ipr_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmIpr *self = g_new0(AmIpr, 1);
  self->group = g_strdup(group);
  self->state = "stopped";
  if (!read_limits(kf, group, self, error) || !read_bind(kf, group, self, error) ||
      !read_ports(kf, group, self, error) || !read_address_mode(kf, group, self, error)) {
    ipr_destroy(self);
    return NULL;
  }
  if (!self->enabled)
    self->state = "disabled";
  return self;
}

/* ---- one datagram ------------------------------------------------------ */

/* The token bucket: FALSE when over max_rate. */
static gboolean
take_token(Session *s)
{
  guint rate = s->self->max_rate;
  if (rate == 0)
    return TRUE;
  gint64 now = g_get_monotonic_time();
  s->tokens = MIN((double)rate, s->tokens + (now - s->refill_us) * (double)rate / 1e6);
  s->refill_us = now;
  if (s->tokens < 1)
    return FALSE;
  s->tokens -= 1;
  return TRUE;
}

static void
set_last_error(AmIpr *self, const char *sender, const char *message)
{
  g_free(self->last_error);
  self->last_error = g_strdup_printf("%s: %s", sender, message);
}

/* Forgets miners reported longer ago than dedupe_window. */
static void
expire_seen(Session *s, gint64 now)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, s->seen);
  while (g_hash_table_iter_next(&it, NULL, &value))
    if (now - *(gint64 *)value >= (gint64)s->self->dedupe_ms * 1000)
      g_hash_table_iter_remove(&it);
}

/* TRUE when @host should be reported now (not within the window, and room
 * to remember it); records it. */
static gboolean
admit_host(Session *s, const char *host)
{
  AmIpr *self = s->self;
  gint64 now = g_get_monotonic_time();
  gint64 *last = g_hash_table_lookup(s->seen, host);
  if (last != NULL && now - *last < (gint64)self->dedupe_ms * 1000) {
    self->duplicates++;
    return FALSE;
  }
  if (last == NULL && g_hash_table_size(s->seen) >= self->max_miners) {
    expire_seen(s, now);
    if (g_hash_table_size(s->seen) >= self->max_miners) {
      self->over_capacity++;
      if (!self->warned_full)
        g_warning("[%s] %u miners reported within dedupe_window: %s and later ones are dropped "
                  "(raise max_miners)",
                  self->group, self->max_miners, host);
      self->warned_full = TRUE;
      return FALSE;
    }
  }
  if (last == NULL) {
    last = g_new(gint64, 1);
    g_hash_table_insert(s->seen, g_strdup(host), last);
  }
  *last = now;
  return TRUE;
}

static void
report(Session *s, const AmIpreport *r, const char *sender)
{
  AmIpr *self = s->self;
  const char *host = sender;
  if (r->ip[0] != '\0') {
    if (!g_str_equal(r->ip, sender))
      self->address_mismatch++;
    if (!self->use_sender)
      host = r->ip;
  }
  if (!admit_host(s, host))
    return;
  self->reports++;
  self->by_family[r->family]++;
  self->last_report_us = g_get_real_time();
  g_message("[%s] %s IP report from %s: %s%s%s", self->group, am_ipreport_family_name(r->family),
            sender, host, r->mac[0] != '\0' ? ", MAC " : "", r->mac);
  AmCandidate c = {
      .struct_size = sizeof(AmCandidate),
      .host = host,
      .port = self->miner_port,
      .source = "ipreport",
      .name = r->hostname[0] != '\0' ? r->hostname : NULL,
      .mac = r->mac[0] != '\0' ? r->mac : NULL,
  };
  s->func(&c, FALSE, s->func_data);
}

static void
handle_datagram(Session *s, const guint8 *data, gsize len, const char *sender)
{
  AmIpr *self = s->self;
  self->datagrams++;
  if (!take_token(s)) {
    self->rate_limited++;
    return;
  }
  if (len > self->max_datagram) {
    self->oversize++;
    return;
  }
  AmIpreport r;
  g_autoptr(GError) error = NULL;
  switch (am_ipreport_parse(data, len, &r, &error)) {
  case AM_IPREPORT_OK:
    report(s, &r, sender);
    break;
  case AM_IPREPORT_IGNORED:
    self->ignored++;
    break;
  case AM_IPREPORT_INVALID:
    /* Debug only: anyone on the network can send these. */
    self->invalid++;
    set_last_error(self, sender, error->message);
    g_debug("[%s] datagram from %s ignored: %s", self->group, sender, error->message);
    break;
  }
}

static gboolean
on_readable(GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Listener *l = user_data;
  Session *s = l->session;
  int fd = g_socket_get_fd(socket);
  for (guint i = 0; i < READS_PER_WAKEUP; i++) {
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    /* MSG_TRUNC: the real length, so a long datagram is seen as long. */
    ssize_t n = recvfrom(fd, s->buffer, s->self->max_datagram + 1, MSG_DONTWAIT | MSG_TRUNC,
                         (struct sockaddr *)&from, &from_len);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        s->self->read_errors++;
      break;
    }
    char sender[INET6_ADDRSTRLEN] = "?";
    if (from.ss_family == AF_INET)
      inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, sender, sizeof sender);
    else if (from.ss_family == AF_INET6)
      inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, sender, sizeof sender);
    handle_datagram(s, s->buffer, (gsize)n, sender);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- sockets ----------------------------------------------------------- */

static void
listener_free(Listener *l)
{
  if (l->source != NULL) {
    g_source_destroy(l->source);
    g_source_unref(l->source);
  }
  if (l->socket != NULL) {
    g_socket_close(l->socket, NULL);
    g_object_unref(l->socket);
  }
  g_free(l);
}

/* A socket bound to bind:@port, reading on the main loop. */
static Listener *
listener_new(Session *s, guint16 port, GError **error)
{
  AmIpr *self = s->self;
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string(self->bind);
  g_autoptr(GSocketAddress) where = g_inet_socket_address_new(address, port);
  g_autoptr(GSocket) socket = g_socket_new(g_inet_address_get_family(address),
                                           G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_blocking(socket, FALSE);
  /* Reuse: another IP reporter tool on this machine still gets the
   * broadcasts too. */
  if (!g_socket_bind(socket, where, TRUE, error)) {
    g_prefix_error(error, "[%s] cannot listen on UDP %s:%u: ", self->group, self->bind, port);
    return NULL;
  }
  g_autoptr(GSocketAddress) local = g_socket_get_local_address(socket, error);
  if (local == NULL)
    return NULL;
  Listener *l = g_new0(Listener, 1);
  l->session = s;
  l->socket = g_steal_pointer(&socket);
  l->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
  l->source = g_socket_create_source(l->socket, G_IO_IN, NULL);
  g_source_set_callback(l->source, G_SOURCE_FUNC(on_readable), l, NULL);
  g_source_attach(l->source, g_main_context_get_thread_default());
  return l;
}

static Session *
session_new(AmIpr *self, AmCandidateFunc func, gpointer func_data)
{
  Session *s = g_new0(Session, 1);
  s->self = self;
  s->func = func;
  s->func_data = func_data;
  s->listeners = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
  s->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->buffer = g_malloc(self->max_datagram + 1);
  s->tokens = self->max_rate;
  s->refill_us = g_get_monotonic_time();
  return s;
}

static void
session_free(Session *s)
{
  if (s->deadline_id != 0)
    g_source_remove(s->deadline_id);
  if (s->cancellable != NULL) {
    g_cancellable_disconnect(s->cancellable, s->cancel_id);
    g_object_unref(s->cancellable);
  }
  g_ptr_array_unref(s->listeners);
  g_hash_table_unref(s->seen);
  g_free(s->buffer);
  g_free(s);
}

/* Opens every port; a port that cannot be had is a warning as long as
 * one can. FALSE with @error when none can. */
static gboolean
session_listen(Session *s, GError **error)
{
  AmIpr *self = s->self;
  GError *first = NULL;
  for (guint i = 0; i < self->n_ports; i++) {
    GError *local = NULL;
    Listener *l = listener_new(s, self->ports[i], &local);
    if (l != NULL) {
      g_ptr_array_add(s->listeners, l);
      continue;
    }
    g_warning("%s", local->message);
    if (first == NULL)
      first = local;
    else
      g_error_free(local);
  }
  if (s->listeners->len > 0) {
    g_clear_error(&first);
    return TRUE;
  }
  g_propagate_error(error, first);
  return FALSE;
}

/* ---- continuous discovery ---------------------------------------------- */

static gboolean
ipr_start(gpointer instance, AmCandidateFunc func, gpointer func_data, GError **error)
{
  AmIpr *self = instance;
  if (!self->enabled) {
    g_message("[%s] enabled=false: not listening for IP reports", self->group);
    return TRUE;
  }
  if (self->session != NULL)
    return TRUE;
  Session *s = session_new(self, func, func_data);
  if (!session_listen(s, error)) {
    session_free(s);
    self->state = "failed";
    return FALSE;
  }
  self->session = s;
  self->state = "listening";
  GString *ports = g_string_new(NULL);
  for (guint i = 0; i < s->listeners->len; i++)
    g_string_append_printf(ports, "%s%u", i > 0 ? ", " : "",
                           ((Listener *)s->listeners->pdata[i])->port);
  g_message("[%s] listening for IP reports on UDP %s port %s", self->group, self->bind, ports->str);
  g_string_free(ports, TRUE);
  return TRUE;
}

static void
ipr_stop(gpointer instance)
{
  AmIpr *self = instance;
  g_clear_pointer(&self->session, session_free);
  if (self->enabled)
    self->state = "stopped";
}

static void
ipr_destroy(gpointer instance)
{
  AmIpr *self = instance;
  ipr_stop(self);
  g_free(self->last_error);
  g_free(self->bind);
  g_free(self->group);
  g_free(self);
}

/* ---- one-shot scan: listen for scan_duration --------------------------- */

static void
one_shot_finish(Session *s)
{
  GTask *task = g_steal_pointer(&s->task);
  if (task == NULL)
    return;
  g_task_return_boolean(task, TRUE);
  g_object_unref(task); /* frees @s, its task data */
}

static gboolean
one_shot_deadline(gpointer user_data)
{
  Session *s = user_data;
  s->deadline_id = 0;
  one_shot_finish(s);
  return G_SOURCE_REMOVE;
}

static void
one_shot_cancelled(GCancellable *cancellable, gpointer user_data)
{
  Session *s = user_data;
  /* Not from inside the cancellable's signal: it is disconnected on free. */
  if (s->deadline_id != 0)
    g_source_remove(s->deadline_id);
  s->deadline_id = g_idle_add(one_shot_deadline, s);
}

static void
ipr_scan_async(gpointer instance, AmCandidateFunc func, gpointer func_data,
               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  AmIpr *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, ipr_scan_async);
  Session *s = session_new(self, func, func_data);
  GError *error = NULL;
  if (!session_listen(s, &error)) {
    session_free(s);
    g_task_return_error(task, error);
    g_object_unref(task);
    return;
  }
  s->task = task;
  g_task_set_task_data(task, s, (GDestroyNotify)session_free);
  s->deadline_id = g_timeout_add((guint)self->scan_ms, one_shot_deadline, s);
  if (cancellable != NULL) {
    s->cancellable = g_object_ref(cancellable);
    s->cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(one_shot_cancelled), s, NULL);
  }
}

static gboolean
ipr_scan_finish(gpointer instance, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean(G_TASK(result), error);
}

/* ---- health ------------------------------------------------------------ */

static void
add_int(JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

static void
add_string(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

static JsonNode *
ipr_stats_json(gpointer instance)
{
  AmIpr *self = instance;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "source", "ipreport");
  add_string(b, "state", self->state);
  add_string(b, "bind", self->bind);
  json_builder_set_member_name(b, "ports"); /* as bound, while listening */
  json_builder_begin_array(b);
  for (guint i = 0; self->session != NULL && i < self->session->listeners->len; i++)
    json_builder_add_int_value(b, ((Listener *)self->session->listeners->pdata[i])->port);
  json_builder_end_array(b);
  g_autofree char *last =
      self->last_report_us > 0 ? am_time_to_iso8601(self->last_report_us) : NULL;
  add_string(b, "last_report", last);
  add_int(b, "miners_found", self->session != NULL ? g_hash_table_size(self->session->seen) : 0);
  add_int(b, "datagrams", (gint64)self->datagrams);
  add_int(b, "reports", (gint64)self->reports);
  add_int(b, "duplicates", (gint64)self->duplicates);
  add_int(b, "ignored", (gint64)self->ignored);
  add_int(b, "invalid", (gint64)self->invalid);
  add_int(b, "oversize", (gint64)self->oversize);
  add_int(b, "rate_limited", (gint64)self->rate_limited);
  add_int(b, "over_capacity", (gint64)self->over_capacity);
  add_int(b, "address_mismatch", (gint64)self->address_mismatch);
  add_int(b, "read_errors", (gint64)self->read_errors);
  json_builder_set_member_name(b, "by_family");
  json_builder_begin_object(b);
  for (guint f = AM_IPREPORT_ANTMINER; f <= AM_IPREPORT_IPOLLO; f++)
    add_int(b, am_ipreport_family_name(f), (gint64)self->by_family[f]);
  json_builder_end_object(b);
  add_string(b, "last_error", self->last_error);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static const AmDiscoveryVTable ipr_vtable = {
    .struct_size = sizeof(AmDiscoveryVTable),
    .start = ipr_start,
    .stop = ipr_stop,
    .scan_async = ipr_scan_async,
    .scan_finish = ipr_scan_finish,
    .stats_json = ipr_stats_json,
};

AM_PLUGIN_DEFINE(.name = "ipreport", .kind = AM_PLUGIN_KIND_DISCOVERY,
                 .description = "finds miners from the UDP datagrams of their IP Report button",
                 .version = "0.1.0", .sample_config = sample_ini, .create = ipr_create,
                 .destroy = ipr_destroy, .vtable.discovery = &ipr_vtable)
