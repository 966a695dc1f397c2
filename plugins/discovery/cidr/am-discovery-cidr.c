/* discovery:cidr: finds miners by sweeping address ranges for an open API
 * port (am-cidr-scan.c does the connecting, am-cidr-range.c the parsing).
 *
 * Continuous mode (the daemon): a pass at start and every rescan_interval.
 * Each pass first revalidates the miners it already knows, then sweeps the
 * rest of the ranges; a miner is reported when first found, and reported
 * gone once it has not accepted a connection for cache_ttl. A pass cut
 * short by time_budget is resumed where it stopped by the next one.
 *
 * One-shot mode (`antmon scan`): one pass over everything, every open host
 * reported, the cache left alone. */
#include "am-cidr-range.h"
#include "am-cidr-scan.h"
#include "sample-ini.h"

#include <antmon/antmon.h>
#include <errno.h>
#include <ifaddrs.h>

/* ranges=auto narrows interface networks wider than this. */
#define AUTO_WIDEST_PREFIX 20

typedef struct {
  char *host;
  guint16 port;
  gint64 last_seen_us; /* wall clock */
  gboolean probed;     /* in the pass running now */
  gboolean seen;       /* ... and it accepted */
} Known;

typedef struct _Pass Pass;

typedef struct {
  char *group;
  char *ranges_text;
  char *exclude_text;
  gboolean auto_ranges;
  guint64 max_hosts;
  AmRangeSet *set; /* NULL for ranges=auto (read per pass) or empty ranges */
  AmScanLimits limits;
  guint64 rescan_ms;
  guint64 ttl_ms;

  AmCandidateFunc func;
  gpointer func_data;
  guint timer_id;
  Pass *pass;        /* the continuous pass in flight, or NULL */
  GHashTable *known; /* host -> Known* */
  guint64 cursor;    /* where the next sweep starts */

  /* For stats_json. */
  AmScanStats last;
  gboolean have_last;
  guint passes;
  guint64 last_new;
  guint64 last_lost;
  guint64 last_hosts; /* hosts the ranges covered */
} AmCidr;

struct _Pass {
  AmCidr *self; /* NULL once the instance stopped: finish quietly */
  gboolean one_shot;
  AmCandidateFunc func;
  gpointer func_data;
  AmRangeSet *set; /* owned when ranges=auto, else borrowed */
  gboolean owns_set;
  GPtrArray *revalidate; /* char*: known hosts, tried first */
  guint next_known;
  guint64 start; /* sweep index the pass began at */
  guint64 swept; /* sweep indices handed out */
  guint64 found;
  guint64 new_found;
  GCancellable *cancellable;
  gboolean *finished; /* set when freed, for cidr_stop() */
};

static void
known_free(Known *k)
{
  g_free(k->host);
  g_free(k);
}

/* ---- configuration ----------------------------------------------------- */

static gboolean
read_ports(GKeyFile *kf, const char *group, AmScanLimits *limits, GError **error)
{
  g_auto(GStrv) items = NULL;
  if (g_key_file_has_key(kf, group, "ports", NULL) &&
      (items = am_config_get_list(kf, group, "ports", error)) == NULL)
    return FALSE;
  limits->n_ports = 0;
  for (guint i = 0; items != NULL && items[i] != NULL; i++) {
    guint64 port = 0;
    char *end = NULL;
    port = g_ascii_strtoull(items[i], &end, 10);
    if (end == items[i] || *end != '\0' || port < 1 || port > 65535 ||
        limits->n_ports == AM_SCAN_MAX_PORTS) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "[%s] ports=%s: expected up to %d ports from 1 to 65535, ';'-separated", group,
                  items[i], AM_SCAN_MAX_PORTS);
      return FALSE;
    }
    limits->ports[limits->n_ports++] = (guint16)port;
  }
  /* The default finds every family antmon reads: the cgminer API (and
   * ePIC's HTTP) on 4028, web-only units (Bitaxe, Iceriver, Elphapex, stock
   * Antminers with the RPC off) on 80, and Whatsminers whose firmware
   * speaks only API v3 on 4433. */
  static const guint16 defaults[] = {4028, 80, 4433};
  for (guint i = 0; limits->n_ports == 0 && i < G_N_ELEMENTS(defaults); i++)
    limits->ports[i] = defaults[i];
  if (limits->n_ports == 0)
    limits->n_ports = G_N_ELEMENTS(defaults);
  return TRUE;
}

static gboolean
read_limits(GKeyFile *kf, const char *group, AmCidr *self, GError **error)
{
  guint max_inflight, max_rate, max_hosts;
  guint64 host_timeout_ms, budget_ms;
  if (!am_config_get_uint(kf, group, "max_inflight", 256, 1, 100000, &max_inflight, error) ||
      !am_config_get_uint(kf, group, "max_rate", 0, 0, 1000000, &max_rate, error) ||
      !am_config_get_duration_ms(kf, group, "host_timeout", 2000, 10, 60000, &host_timeout_ms,
                                 error) ||
      !am_config_get_duration_ms(kf, group, "time_budget", 600000, 0, 7 * 86400000ull, &budget_ms,
                                 error) ||
      !am_config_get_uint(kf, group, "max_hosts", 65536, 1, AM_RANGE_HARD_MAX_HOSTS, &max_hosts,
                          error) ||
      !am_config_get_duration_ms(kf, group, "rescan_interval", 900000, 100, 30 * 86400000ull,
                                 &self->rescan_ms, error) ||
      !am_config_get_duration_ms(kf, group, "cache_ttl", 3600000, 0, 365 * 86400000ull,
                                 &self->ttl_ms, error) ||
      !read_ports(kf, group, &self->limits, error))
    return FALSE;
  self->limits.max_inflight = max_inflight;
  self->limits.max_rate = max_rate;
  self->limits.host_timeout_ms = (guint)host_timeout_ms;
  self->limits.time_budget_ms = budget_ms;
  self->max_hosts = max_hosts;
  return TRUE;
}

static gboolean
read_ranges(GKeyFile *kf, const char *group, AmCidr *self, GError **error)
{
  self->ranges_text = am_config_get_string(kf, group, "ranges", "", error);
  if (self->ranges_text == NULL)
    return FALSE;
  self->exclude_text = am_config_get_string(kf, group, "exclude", "", error);
  if (self->exclude_text == NULL)
    return FALSE;
  g_strstrip(self->ranges_text);
  if (g_ascii_strcasecmp(self->ranges_text, "auto") == 0) {
    self->auto_ranges = TRUE;
    /* Still check exclude= now, not at the first pass. */
    g_autoptr(AmRangeSet) check = am_range_set_parse(NULL, self->exclude_text, 1, error);
    if (check == NULL) {
      g_prefix_error(error, "[%s] exclude=%s: ", group, self->exclude_text);
      return FALSE;
    }
    return TRUE;
  }
  if (self->ranges_text[0] == '\0')
    return TRUE;
  self->set = am_range_set_parse(self->ranges_text, self->exclude_text, self->max_hosts, error);
  if (self->set == NULL) {
    g_prefix_error(error, "[%s] ranges=%s: ", group, self->ranges_text);
    return FALSE;
  }
  return TRUE;
}

static void cidr_destroy(gpointer instance);

static gpointer
cidr_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  AmCidr *self = g_new0(AmCidr, 1);
  self->group = g_strdup(group);
  self->known = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)known_free);
  if (!read_limits(kf, group, self, error) || !read_ranges(kf, group, self, error)) {
    cidr_destroy(self);
    return NULL;
  }
  return self;
}

/* ---- one pass ---------------------------------------------------------- */

/* The set a pass sweeps: the configured one, or the interfaces' networks
 * for ranges=auto. NULL (with a warning) when there is nothing to sweep. */
static AmRangeSet *
pass_set(AmCidr *self, gboolean *owned)
{
  *owned = FALSE;
  if (!self->auto_ranges)
    return self->set;
  struct ifaddrs *list = NULL;
  if (getifaddrs(&list) != 0) {
    g_warning("[%s] ranges=auto: cannot list the network interfaces: %s", self->group,
              g_strerror(errno));
    return NULL;
  }
  g_autofree char *text = am_range_auto_from_ifaddrs(list, AUTO_WIDEST_PREFIX);
  freeifaddrs(list);
  g_autoptr(GError) error = NULL;
  AmRangeSet *set = am_range_set_parse(text, self->exclude_text, self->max_hosts, &error);
  if (set == NULL) {
    g_warning("[%s] ranges=auto (%s): %s", self->group, text, error->message);
    return NULL;
  }
  g_info("[%s] ranges=auto: scanning %s", self->group, text[0] != '\0' ? text : "nothing");
  *owned = TRUE;
  return set;
}

static Pass *
pass_new(AmCidr *self, gboolean one_shot, AmCandidateFunc func, gpointer func_data, AmRangeSet *set,
         gboolean owns_set)
{
  Pass *pass = g_new0(Pass, 1);
  pass->self = self;
  pass->one_shot = one_shot;
  pass->func = func;
  pass->func_data = func_data;
  pass->set = set;
  pass->owns_set = owns_set;
  pass->revalidate = g_ptr_array_new_with_free_func(g_free);
  pass->cancellable = g_cancellable_new();
  return pass;
}

static void
pass_free(Pass *pass)
{
  if (pass->finished != NULL)
    *pass->finished = TRUE;
  if (pass->owns_set)
    am_range_set_free(pass->set);
  g_ptr_array_unref(pass->revalidate);
  g_object_unref(pass->cancellable);
  g_free(pass);
}

/* Known miners first, then the sweep from the cursor, wrapping once. */
static gboolean
pass_next(gpointer user_data, char *buf, gsize len)
{
  Pass *pass = user_data;
  if (pass->self == NULL)
    return FALSE;
  if (pass->next_known < pass->revalidate->len) {
    const char *host = pass->revalidate->pdata[pass->next_known++];
    Known *k = g_hash_table_lookup(pass->self->known, host);
    if (k != NULL)
      k->probed = TRUE;
    g_strlcpy(buf, host, len);
    return TRUE;
  }
  guint64 n = pass->set != NULL ? pass->set->n_hosts : 0;
  while (pass->swept < n) {
    guint64 index = (pass->start + pass->swept++) % n;
    am_range_set_nth(pass->set, index, buf, len);
    /* Known hosts were just tried. */
    if (!pass->one_shot && g_hash_table_contains(pass->self->known, buf))
      continue;
    return TRUE;
  }
  return FALSE;
}

static void
report(Pass *pass, const char *host, guint16 port, gboolean gone)
{
  AmCandidate c = {
      .struct_size = sizeof(AmCandidate),
      .host = host,
      .port = port,
      .source = "cidr",
  };
  pass->func(&c, gone, pass->func_data);
}

static void
pass_found(const char *host, guint16 port, gpointer user_data)
{
  Pass *pass = user_data;
  if (pass->self == NULL)
    return;
  pass->found++;
  if (pass->one_shot) {
    report(pass, host, port, FALSE);
    return;
  }
  Known *k = g_hash_table_lookup(pass->self->known, host);
  if (k != NULL && k->port != port) {
    /* Same host, another port now (firmware change): a different miner. */
    report(pass, k->host, k->port, TRUE);
    g_hash_table_remove(pass->self->known, host);
    k = NULL;
  }
  if (k == NULL) {
    k = g_new0(Known, 1);
    k->host = g_strdup(host);
    k->port = port;
    g_hash_table_insert(pass->self->known, k->host, k);
    pass->new_found++;
    g_debug("[%s] %s:%u accepts: a new candidate", pass->self->group, host, port);
    report(pass, host, port, FALSE);
  }
  k->probed = k->seen = TRUE;
  k->last_seen_us = g_get_real_time();
}

/* Known miners that were tried, did not accept, and have been silent for
 * longer than the TTL are reported gone. */
static guint64
expire_known(AmCidr *self, Pass *pass)
{
  guint64 lost = 0;
  gint64 now = g_get_real_time();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, self->known);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    Known *k = value;
    gboolean expired =
        k->probed && !k->seen && now - k->last_seen_us >= (gint64)self->ttl_ms * 1000;
    k->probed = k->seen = FALSE;
    if (!expired)
      continue;
    g_message("[%s] %s:%u has not answered for %.0f s: dropped", self->group, k->host, k->port,
              (now - k->last_seen_us) / 1e6);
    report(pass, k->host, k->port, TRUE);
    g_hash_table_iter_remove(&it);
    lost++;
  }
  return lost;
}

static void
log_pass(AmCidr *self, const AmScanStats *st, guint64 found, guint64 new_found, guint64 lost)
{
  g_info("[%s] pass: %" G_GUINT64_FORMAT " hosts tried in %.1f s: %" G_GUINT64_FORMAT
         " miners (%" G_GUINT64_FORMAT " new, %" G_GUINT64_FORMAT " lost), %" G_GUINT64_FORMAT
         " refused, %" G_GUINT64_FORMAT " silent, %" G_GUINT64_FORMAT
         " unreachable; %u connects/s at the end (%u back-offs)",
         self->group, st->hosts_tried, st->duration_ms / 1000.0, found, new_found, lost,
         st->refused, st->timed_out, st->unreachable, st->rate, st->backoffs);
  if (st->budget_spent)
    g_warning("[%s] time_budget=%.0f s ran out after %" G_GUINT64_FORMAT
              " hosts; the next pass resumes there (raise max_rate or time_budget)",
              self->group, self->limits.time_budget_ms / 1000.0, st->hosts_tried);
}

static void
record_stats(AmCidr *self, Pass *pass, const AmScanStats *st, guint64 lost)
{
  self->last = *st;
  self->have_last = TRUE;
  self->passes++;
  self->last_new = pass->new_found;
  self->last_lost = lost;
  self->last_hosts = pass->set != NULL ? pass->set->n_hosts : 0;
}

/* ---- continuous discovery ---------------------------------------------- */

static gboolean run_pass(gpointer user_data);

static void
schedule_pass(AmCidr *self, guint64 delay_ms)
{
  self->timer_id =
      g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)MIN(delay_ms, G_MAXUINT), run_pass, self, NULL);
}

static void
continuous_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pass *pass = user_data;
  AmCidr *self = pass->self;
  AmScanStats st;
  g_autoptr(GError) error = NULL;
  gboolean ok = am_scan_finish(result, &st, &error);
  if (self == NULL) { /* stopped meanwhile */
    pass_free(pass);
    return;
  }
  self->pass = NULL;
  if (!ok) {
    g_warning("[%s] scan failed: %s", self->group, error->message);
  } else {
    guint64 n = pass->set != NULL ? pass->set->n_hosts : 0;
    /* A pass the budget cut short resumes where it stopped. */
    self->cursor = n > 0 ? (pass->start + pass->swept) % n : 0;
    guint64 lost = expire_known(self, pass);
    record_stats(self, pass, &st, lost);
    log_pass(self, &st, pass->found, pass->new_found, lost);
  }
  pass_free(pass);
  schedule_pass(self, self->rescan_ms);
}

static gboolean
run_pass(gpointer user_data)
{
  AmCidr *self = user_data;
  self->timer_id = 0;
  gboolean owned;
  AmRangeSet *set = pass_set(self, &owned);
  Pass *pass = pass_new(self, FALSE, self->func, self->func_data, set, owned);
  pass->start = set != NULL && set->n_hosts > 0 ? self->cursor % set->n_hosts : 0;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, self->known);
  while (g_hash_table_iter_next(&it, &key, NULL))
    g_ptr_array_add(pass->revalidate, g_strdup(key));
  self->pass = pass;
  am_scan_async(&self->limits, pass_next, pass_found, pass, pass->cancellable, continuous_done,
                pass);
  return G_SOURCE_REMOVE;
}

static gboolean
cidr_start(gpointer instance, AmCandidateFunc func, gpointer func_data, GError **error)
{
  AmCidr *self = instance;
  if (!self->auto_ranges && self->set == NULL) {
    g_message("[%s] ranges= is empty: no network is scanned", self->group);
    return TRUE;
  }
  self->func = func;
  self->func_data = func_data;
  if (self->set != NULL)
    g_message("[%s] scanning %" G_GUINT64_FORMAT " hosts on port %u%s every %.0f s", self->group,
              self->set->n_hosts, self->limits.ports[0],
              self->limits.n_ports > 1 ? " (and more)" : "", self->rescan_ms / 1000.0);
  schedule_pass(self, 0);
  return TRUE;
}

static void
cidr_stop(gpointer instance)
{
  AmCidr *self = instance;
  if (self->timer_id != 0)
    g_source_remove(self->timer_id);
  self->timer_id = 0;
  if (self->pass != NULL) {
    /* Its callback must not touch us, and nothing may outlive us: wait
     * for the cancelled pass to report back (within one scan tick). */
    Pass *pass = g_steal_pointer(&self->pass);
    gboolean finished = FALSE;
    pass->finished = &finished;
    pass->self = NULL;
    g_cancellable_cancel(pass->cancellable);
    while (!finished)
      g_main_context_iteration(NULL, TRUE);
  }
}

static void
cidr_destroy(gpointer instance)
{
  AmCidr *self = instance;
  cidr_stop(self);
  am_range_set_free(self->set);
  g_hash_table_unref(self->known);
  g_free(self->ranges_text);
  g_free(self->exclude_text);
  g_free(self->group);
  g_free(self);
}

/* ---- one-shot scan ----------------------------------------------------- */

static void
one_shot_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Pass *pass = g_task_get_task_data(task);
  AmScanStats st;
  GError *error = NULL;
  if (!am_scan_finish(result, &st, &error)) {
    g_task_return_error(task, error);
    return;
  }
  if (pass->self != NULL) {
    record_stats(pass->self, pass, &st, 0);
    log_pass(pass->self, &st, pass->found, pass->found, 0);
  }
  g_task_return_boolean(task, TRUE);
}

static void
cidr_scan_async(gpointer instance, AmCandidateFunc func, gpointer func_data,
                GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  AmCidr *self = instance;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, cidr_scan_async);
  gboolean owned;
  AmRangeSet *set = pass_set(self, &owned);
  if (set == NULL) {
    g_task_return_new_error(task, AM_ERROR, AM_ERROR_CONFIG,
                            "[%s] there is nothing to scan: ranges= is empty%s", self->group,
                            self->auto_ranges ? " or no interface qualifies" : "");
    g_object_unref(task);
    return;
  }
  Pass *pass = pass_new(self, TRUE, func, func_data, set, owned);
  g_task_set_task_data(task, pass, (GDestroyNotify)pass_free);
  am_scan_async(&self->limits, pass_next, pass_found, pass, cancellable, one_shot_done, task);
}

static gboolean
cidr_scan_finish(gpointer instance, GAsyncResult *result, GError **error)
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
cidr_stats_json(gpointer instance)
{
  AmCidr *self = instance;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "source");
  json_builder_add_string_value(b, "cidr");
  add_int(b, "passes", self->passes);
  json_builder_set_member_name(b, "running");
  json_builder_add_boolean_value(b, self->pass != NULL);
  add_int(b, "known_miners", g_hash_table_size(self->known));
  json_builder_set_member_name(b, "last_run");
  if (self->have_last) {
    g_autofree char *when = am_time_to_iso8601(self->last.started_us);
    json_builder_add_string_value(b, when);
  } else {
    json_builder_add_null_value(b);
  }
  add_int(b, "duration_ms", self->have_last ? self->last.duration_ms : 0);
  add_int(b, "hosts_in_ranges", (gint64)self->last_hosts);
  add_int(b, "hosts_tried", (gint64)self->last.hosts_tried);
  add_int(b, "miners_found", (gint64)self->last.open);
  add_int(b, "new", (gint64)self->last_new);
  add_int(b, "lost", (gint64)self->last_lost);
  add_int(b, "refused", (gint64)self->last.refused);
  add_int(b, "silent", (gint64)self->last.timed_out);
  add_int(b, "unreachable", (gint64)self->last.unreachable);
  /* The adaptive rate, in connects per second (am-cidr-rate.h). */
  add_int(b, "rate", self->last.rate);
  add_int(b, "rate_lowest", self->last.rate_lowest);
  add_int(b, "rate_highest", self->last.rate_highest);
  add_int(b, "backoffs", self->last.backoffs);
  add_int(b, "losses", (gint64)self->last.losses);
  json_builder_set_member_name(b, "budget_spent");
  json_builder_add_boolean_value(b, self->last.budget_spent);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static const AmDiscoveryVTable cidr_vtable = {
    .struct_size = sizeof(AmDiscoveryVTable),
    .start = cidr_start,
    .stop = cidr_stop,
    .scan_async = cidr_scan_async,
    .scan_finish = cidr_scan_finish,
    .stats_json = cidr_stats_json,
};

AM_PLUGIN_DEFINE(.name = "cidr", .kind = AM_PLUGIN_KIND_DISCOVERY,
                 .description = "finds miners by sweeping address ranges for an open API port",
                 .version = "0.1.0", .sample_config = sample_ini, .create = cidr_create,
                 .destroy = cidr_destroy, .vtable.discovery = &cidr_vtable)
