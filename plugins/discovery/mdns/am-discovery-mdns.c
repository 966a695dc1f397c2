/* discovery:mdns: DNS-SD browsing through avahi-daemon, on the main loop
 * (avahi-glib). Each service found is resolved to an address and port and
 * reported; it is reported gone when its last announcement is withdrawn.
 *
 * avahi-daemon may be missing, or restart under us. The client is created
 * with AVAHI_CLIENT_NO_FAIL, so while the system bus is there it waits in
 * CONNECTING for the daemon and comes back to RUNNING on its own; browsers
 * do not survive that, so they are made again. Without a bus at all
 * avahi_client_new() fails ("Daemon not running"): that is a warning and a
 * retry every retry_interval, never an error. Services not announced again
 * after a reconnect are reported gone once the new browse settles. */
#include "sample-ini.h"

#include <antmon/antmon.h>
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-glib/glib-watch.h>
#include <dlfcn.h>
#include <string.h>

typedef struct _Browse Browse;

typedef struct {
  char *group;
  char **service_types;
  double browse_s;
  guint64 retry_ms;
  Browse *browse; /* continuous browsing, while started */
  /* Counters for stats_json, over the instance's life. */
  gint64 last_run_us;      /* wall clock of the last (re)start of browsing */
  gint64 last_duration_ms; /* of the last one-shot scan */
  guint64 resolved;
  guint64 found;
  guint64 lost;
  guint64 resolve_failures;
  guint reconnects;
  const char *state;
} AmMdns;

/* One service instance, under whatever interfaces announce it. */
typedef struct {
  Browse *browse;
  char *key; /* name, type and domain */
  char *name;
  char *type;
  char *domain;
  GArray *where; /* gint: (interface << 4) | protocol announcing it */
  AvahiServiceResolver *resolver;
  char *host; /* resolved address, NULL until then */
  guint16 port;
  gboolean reported;
  gboolean stale; /* known before a reconnect, not announced since */
} Service;

struct _Browse {
  AmMdns *self;
  gboolean one_shot;
  AmCandidateFunc func;
  gpointer func_data;
  AvahiGLibPoll *poll;
  AvahiClient *client;
  GPtrArray *browsers; /* AvahiServiceBrowser* */
  guint all_for_now;
  gboolean sweep_stale; /* after a reconnect, once all browsers settle */
  GHashTable *services; /* key -> Service* */
  guint retry_id;
  guint idle_id;
  gboolean warned;
  /* One-shot only. */
  GTask *task;
  GCancellable *cancellable;
  gulong cancel_id;
  guint deadline_id;
  gboolean ever_running;
  gint64 started_mono_us;
};

/* ---- services ---------------------------------------------------------- */

static void
report(Browse *b, Service *s, gboolean gone)
{
  AmCandidate c = {
      .struct_size = sizeof(AmCandidate),
      .host = s->host,
      .port = s->port,
      .source = "mdns",
      .name = s->name,
  };
  if (gone)
    b->self->lost++;
  else
    b->self->found++;
  s->reported = !gone;
  b->func(&c, gone, b->func_data);
}

static void
service_free(Service *s)
{
  if (s->resolver != NULL)
    avahi_service_resolver_free(s->resolver);
  g_array_unref(s->where);
  g_free(s->key);
  g_free(s->name);
  g_free(s->type);
  g_free(s->domain);
  g_free(s->host);
  g_free(s);
}

static char *
service_key(const char *name, const char *type, const char *domain)
{
  return g_strdup_printf("%s\x1f%s\x1f%s", name, type, domain);
}

static gboolean
where_remove(GArray *where, gint value)
{
  for (guint i = 0; i < where->len; i++)
    if (g_array_index(where, gint, i) == value) {
      g_array_remove_index_fast(where, i);
      return TRUE;
    }
  return FALSE;
}

static void
on_resolved(AvahiServiceResolver *r, AvahiIfIndex interface, AvahiProtocol protocol,
            AvahiResolverEvent event, const char *name, const char *type, const char *domain,
            const char *host_name, const AvahiAddress *address, uint16_t port, AvahiStringList *txt,
            AvahiLookupResultFlags flags, void *user_data)
{
  Service *s = user_data;
  Browse *b = s->browse;
  int err = avahi_client_errno(avahi_service_resolver_get_client(r));
  /* One answer is all we want; freeing here is what avahi's examples do. */
  avahi_service_resolver_free(r);
  s->resolver = NULL;
  if (event != AVAHI_RESOLVER_FOUND) {
    b->self->resolve_failures++;
    g_message("[%s] cannot resolve '%s' (%s): %s", b->self->group, name, type, avahi_strerror(err));
    return;
  }
  char text[AVAHI_ADDRESS_STR_MAX];
  avahi_address_snprint(text, sizeof text, address);
  b->self->resolved++;
  if (s->reported && g_strcmp0(s->host, text) == 0 && s->port == port)
    return;
  if (s->reported)
    report(b, s, TRUE); /* it moved: the old address is gone */
  g_free(s->host);
  s->host = g_strdup(text);
  s->port = port;
  g_debug("[%s] '%s' is at %s:%u (%s)", b->self->group, name, text, port, host_name);
  report(b, s, FALSE);
}

static void
resolve(Browse *b, Service *s, AvahiIfIndex interface, AvahiProtocol protocol)
{
  s->resolver = avahi_service_resolver_new(b->client, interface, protocol, s->name, s->type,
                                           s->domain, AVAHI_PROTO_UNSPEC, 0, on_resolved, s);
  if (s->resolver == NULL)
    g_message("[%s] cannot resolve '%s': %s", b->self->group, s->name,
              avahi_strerror(avahi_client_errno(b->client)));
}

static void
service_new(Browse *b, AvahiIfIndex interface, AvahiProtocol protocol, const char *name,
            const char *type, const char *domain)
{
  g_autofree char *key = service_key(name, type, domain);
  Service *s = g_hash_table_lookup(b->services, key);
  if (s == NULL) {
    s = g_new0(Service, 1);
    s->browse = b;
    s->key = g_steal_pointer(&key);
    s->name = g_strdup(name);
    s->type = g_strdup(type);
    s->domain = g_strdup(domain);
    s->where = g_array_new(FALSE, FALSE, sizeof(gint));
    g_hash_table_insert(b->services, s->key, s);
  }
  gint where = (interface << 4) | (protocol & 0xf);
  where_remove(s->where, where);
  g_array_append_val(s->where, where);
  s->stale = FALSE;
  /* Resolve again after a reconnect too: the address may have changed. */
  if (s->resolver == NULL && (!s->reported || s->where->len == 1))
    resolve(b, s, interface, protocol);
}

static void
service_remove(Browse *b, AvahiIfIndex interface, AvahiProtocol protocol, const char *name,
               const char *type, const char *domain)
{
  g_autofree char *key = service_key(name, type, domain);
  Service *s = g_hash_table_lookup(b->services, key);
  if (s == NULL)
    return;
  where_remove(s->where, (interface << 4) | (protocol & 0xf));
  if (s->where->len > 0)
    return;
  if (s->reported)
    report(b, s, TRUE);
  g_hash_table_remove(b->services, key);
}

/* After a reconnect: services nobody announced again are gone. */
static void
sweep_stale(Browse *b)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, b->services);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    Service *s = value;
    if (!s->stale)
      continue;
    if (s->reported)
      report(b, s, TRUE);
    g_hash_table_iter_remove(&it);
  }
}

/* ---- browsing ---------------------------------------------------------- */

static void one_shot_finish_soon(Browse *b);

static void
on_browse(AvahiServiceBrowser *browser, AvahiIfIndex interface, AvahiProtocol protocol,
          AvahiBrowserEvent event, const char *name, const char *type, const char *domain,
          AvahiLookupResultFlags flags, void *user_data)
{
  Browse *b = user_data;
  switch (event) {
  case AVAHI_BROWSER_NEW:
    service_new(b, interface, protocol, name, type, domain);
    break;
  case AVAHI_BROWSER_REMOVE:
    service_remove(b, interface, protocol, name, type, domain);
    break;
  case AVAHI_BROWSER_ALL_FOR_NOW:
    if (++b->all_for_now == b->browsers->len) {
      if (b->sweep_stale)
        sweep_stale(b);
      b->sweep_stale = FALSE;
      if (b->one_shot)
        one_shot_finish_soon(b);
    }
    break;
  case AVAHI_BROWSER_FAILURE:
    g_warning("[%s] browsing failed: %s", b->self->group,
              avahi_strerror(avahi_client_errno(b->client)));
    break;
  case AVAHI_BROWSER_CACHE_EXHAUSTED:
    break;
  }
}

static void
start_browsers(Browse *b, AvahiClient *client)
{
  b->all_for_now = 0;
  for (guint i = 0; b->self->service_types[i] != NULL; i++) {
    AvahiServiceBrowser *browser =
        avahi_service_browser_new(client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                  b->self->service_types[i], NULL, 0, on_browse, b);
    if (browser == NULL) {
      g_warning("[%s] cannot browse %s: %s", b->self->group, b->self->service_types[i],
                avahi_strerror(avahi_client_errno(client)));
      continue;
    }
    g_ptr_array_add(b->browsers, browser);
  }
}

/* The daemon went away: its browsers and resolvers are dead. What we knew
 * stays reported until the daemon, back, says otherwise. */
static void
forget_browsers(Browse *b)
{
  g_ptr_array_set_size(b->browsers, 0); /* free func: avahi_service_browser_free */
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, b->services);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    Service *s = value;
    if (s->resolver != NULL)
      avahi_service_resolver_free(s->resolver);
    s->resolver = NULL;
    g_array_set_size(s->where, 0);
    s->stale = TRUE;
  }
  b->sweep_stale = g_hash_table_size(b->services) > 0;
}

static void client_connect(Browse *b);

static gboolean
retry_connect(gpointer user_data)
{
  Browse *b = user_data;
  b->retry_id = 0;
  client_connect(b);
  return G_SOURCE_REMOVE;
}

/* Drops the client (outside its callbacks) and tries again later. */
static void
schedule_retry(Browse *b, guint64 delay_ms)
{
  if (b->retry_id == 0)
    b->retry_id = g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)delay_ms, retry_connect, b, NULL);
}

static void
on_client(AvahiClient *client, AvahiClientState state, void *user_data)
{
  Browse *b = user_data;
  AmMdns *self = b->self;
  switch (state) {
  case AVAHI_CLIENT_S_RUNNING:
  case AVAHI_CLIENT_S_REGISTERING:
  case AVAHI_CLIENT_S_COLLISION:
    if (b->browsers->len > 0)
      break;
    if (b->warned)
      g_message("[%s] avahi-daemon is back: browsing again", self->group);
    else
      g_info("[%s] browsing %s", self->group, self->service_types[0]);
    b->warned = FALSE;
    b->ever_running = TRUE;
    self->state = "running";
    self->last_run_us = g_get_real_time();
    start_browsers(b, client);
    break;
  case AVAHI_CLIENT_CONNECTING:
    forget_browsers(b);
    self->state = "waiting for avahi-daemon";
    if (!b->warned && !b->one_shot)
      g_warning("[%s] avahi-daemon is not running: waiting for it (mDNS discovery is paused)",
                self->group);
    b->warned = TRUE;
    self->reconnects++;
    break;
  case AVAHI_CLIENT_FAILURE:
    /* The daemon (or the bus) went away: a new client, made outside this
     * callback, waits in CONNECTING for the daemon to come back. */
    forget_browsers(b);
    self->state = "unavailable";
    if (!b->warned && !b->one_shot)
      g_warning("[%s] lost avahi-daemon (%s): mDNS discovery is paused; retrying every %g s",
                self->group, avahi_strerror(avahi_client_errno(client)), self->retry_ms / 1000.0);
    b->warned = TRUE;
    schedule_retry(b, self->retry_ms);
    break;
  }
}

static void
client_free(Browse *b)
{
  g_ptr_array_set_size(b->browsers, 0);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, b->services);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    Service *s = value;
    if (s->resolver != NULL)
      avahi_service_resolver_free(s->resolver);
    s->resolver = NULL;
  }
  if (b->client != NULL)
    avahi_client_free(b->client);
  b->client = NULL;
}

static void
client_connect(Browse *b)
{
  AmMdns *self = b->self;
  client_free(b);
  int err = 0;
  b->client =
      avahi_client_new(avahi_glib_poll_get(b->poll), AVAHI_CLIENT_NO_FAIL, on_client, b, &err);
  if (b->client != NULL)
    return;
  self->state = "unavailable";
  if (b->one_shot) {
    one_shot_finish_soon(b);
    return;
  }
  if (!b->warned)
    g_warning("[%s] mDNS unavailable: %s; retrying every %g s", self->group, avahi_strerror(err),
              self->retry_ms / 1000.0);
  b->warned = TRUE;
  schedule_retry(b, self->retry_ms);
}

static Browse *
browse_new(AmMdns *self, gboolean one_shot, AmCandidateFunc func, gpointer func_data)
{
  Browse *b = g_new0(Browse, 1);
  b->self = self;
  b->one_shot = one_shot;
  b->func = func;
  b->func_data = func_data;
  b->poll = avahi_glib_poll_new(NULL, G_PRIORITY_DEFAULT);
  b->browsers = g_ptr_array_new_with_free_func((GDestroyNotify)avahi_service_browser_free);
  b->services = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)service_free);
  b->started_mono_us = g_get_monotonic_time();
  return b;
}

static void
browse_free(Browse *b)
{
  if (b->retry_id != 0)
    g_source_remove(b->retry_id);
  if (b->idle_id != 0)
    g_source_remove(b->idle_id);
  if (b->deadline_id != 0)
    g_source_remove(b->deadline_id);
  if (b->cancellable != NULL) {
    g_cancellable_disconnect(b->cancellable, b->cancel_id);
    g_object_unref(b->cancellable);
  }
  /* Services first: their resolvers belong to the client. */
  g_hash_table_unref(b->services);
  g_ptr_array_unref(b->browsers);
  if (b->client != NULL)
    avahi_client_free(b->client);
  avahi_glib_poll_free(b->poll);
  g_free(b);
}

/* ---- the plugin -------------------------------------------------------- */

/* libdbus keeps process-wide state (its shared connections, shutdown
 * hooks) that outlives any client; unloading it with this plugin would
 * leave that state pointing into unmapped memory. Pin it, and avahi's own
 * libraries with it, for the life of the process. */
static void
pin_libraries(void)
{
  static const char *const libs[] = {"libdbus-1.so.3", "libavahi-common.so.3",
                                     "libavahi-client.so.3", "libavahi-glib.so.1"};
  for (gsize i = 0; i < G_N_ELEMENTS(libs); i++)
    if (dlopen(libs[i], RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE) == NULL)
      g_debug("cannot pin %s: %s", libs[i], dlerror());
}

static gpointer
mdns_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  pin_libraries();
  g_auto(GStrv) types = NULL;
  double browse_s = 3;
  guint64 retry_ms = 10000;
  if (g_key_file_has_key(kf, group, "service_types", NULL) &&
      (types = am_config_get_list(kf, group, "service_types", error)) == NULL)
    return NULL;
  if (!am_config_get_double(kf, group, "browse_seconds", 3, 0.1, 600, &browse_s, error) ||
      !am_config_get_duration_ms(kf, group, "retry_interval", 10000, 100, 3600000, &retry_ms,
                                 error))
    return NULL;
  for (guint i = 0; types != NULL && types[i] != NULL; i++)
    if (!g_str_has_prefix(types[i], "_") || strstr(types[i], "._tcp") == NULL) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "[%s] service_types=%s: expected DNS-SD types such as _cgminer._tcp", group,
                  types[i]);
      return NULL;
    }
  AmMdns *self = g_new0(AmMdns, 1);
  self->group = g_strdup(group);
  if (types == NULL || types[0] == NULL) {
    const char *fallback[] = {"_cgminer._tcp", NULL};
    self->service_types = g_strdupv((char **)fallback);
  } else {
    self->service_types = g_steal_pointer(&types);
  }
  self->browse_s = browse_s;
  self->retry_ms = retry_ms;
  self->state = "stopped";
  return self;
}

static gboolean
mdns_start(gpointer instance, AmCandidateFunc func, gpointer func_data, GError **error)
{
  AmMdns *self = instance;
  if (self->browse != NULL)
    return TRUE;
  self->browse = browse_new(self, FALSE, func, func_data);
  client_connect(self->browse);
  return TRUE;
}

static void
mdns_stop(gpointer instance)
{
  AmMdns *self = instance;
  g_clear_pointer(&self->browse, browse_free);
  self->state = "stopped";
}

static void
mdns_destroy(gpointer instance)
{
  AmMdns *self = instance;
  mdns_stop(self);
  g_strfreev(self->service_types);
  g_free(self->group);
  g_free(self);
}

/* ---- one-shot scan ----------------------------------------------------- */

static gboolean
one_shot_finish(gpointer user_data)
{
  Browse *b = user_data;
  b->idle_id = 0;
  GTask *task = g_steal_pointer(&b->task);
  b->self->last_duration_ms = (g_get_monotonic_time() - b->started_mono_us) / 1000;
  if (!b->ever_running)
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_UNSUPPORTED,
                            "mDNS unavailable: avahi-daemon is not running");
  else
    g_task_return_boolean(task, TRUE);
  g_object_unref(task); /* frees @b, its task data */
  return G_SOURCE_REMOVE;
}

/* From inside avahi callbacks: the client is freed with the task, so the
 * task completes from an idle, never under avahi's feet. */
static void
one_shot_finish_soon(Browse *b)
{
  if (b->idle_id == 0 && b->task != NULL)
    b->idle_id = g_idle_add(one_shot_finish, b);
}

static gboolean
one_shot_deadline(gpointer user_data)
{
  Browse *b = user_data;
  b->deadline_id = 0;
  one_shot_finish_soon(b);
  return G_SOURCE_REMOVE;
}

static void
one_shot_cancelled(GCancellable *cancellable, gpointer user_data)
{
  one_shot_finish_soon(user_data);
}

static void
mdns_scan_async(gpointer instance, AmCandidateFunc func, gpointer func_data,
                GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  AmMdns *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, mdns_scan_async);
  Browse *b = browse_new(self, TRUE, func, func_data);
  b->task = task;
  g_task_set_task_data(task, b, (GDestroyNotify)browse_free);
  b->deadline_id = g_timeout_add((guint)(self->browse_s * 1000), one_shot_deadline, b);
  if (cancellable != NULL) {
    b->cancellable = g_object_ref(cancellable);
    b->cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(one_shot_cancelled), b, NULL);
  }
  client_connect(b);
}

static gboolean
mdns_scan_finish(gpointer instance, GAsyncResult *result, GError **error)
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

static JsonNode *
mdns_stats_json(gpointer instance)
{
  AmMdns *self = instance;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "source");
  json_builder_add_string_value(b, "mdns");
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, self->state);
  json_builder_set_member_name(b, "service_types");
  json_builder_begin_array(b);
  for (guint i = 0; self->service_types[i] != NULL; i++)
    json_builder_add_string_value(b, self->service_types[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "last_run");
  if (self->last_run_us > 0) {
    g_autofree char *when = am_time_to_iso8601(self->last_run_us);
    json_builder_add_string_value(b, when);
  } else {
    json_builder_add_null_value(b);
  }
  add_int(b, "duration_ms", self->last_duration_ms);
  guint known = 0;
  if (self->browse != NULL) {
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, self->browse->services);
    while (g_hash_table_iter_next(&it, NULL, &value))
      known += ((Service *)value)->reported;
  }
  add_int(b, "hosts_tried", (gint64)(self->resolved + self->resolve_failures));
  add_int(b, "miners_found", known);
  add_int(b, "found_total", (gint64)self->found);
  add_int(b, "lost_total", (gint64)self->lost);
  add_int(b, "resolve_failures", (gint64)self->resolve_failures);
  add_int(b, "reconnects", self->reconnects);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static const AmDiscoveryVTable mdns_vtable = {
    .struct_size = sizeof(AmDiscoveryVTable),
    .start = mdns_start,
    .stop = mdns_stop,
    .scan_async = mdns_scan_async,
    .scan_finish = mdns_scan_finish,
    .stats_json = mdns_stats_json,
};

AM_PLUGIN_DEFINE(.name = "mdns", .kind = AM_PLUGIN_KIND_DISCOVERY,
                 .description = "finds miners that announce _cgminer._tcp over mDNS (avahi)",
                 .version = "0.1.0", .sample_config = sample_ini, .create = mdns_create,
                 .destroy = mdns_destroy, .vtable.discovery = &mdns_vtable)
