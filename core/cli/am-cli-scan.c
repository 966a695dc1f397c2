/* antmon scan RANGE... [--mdns] [--json] [--timeout S]: one discovery pass
 * (the cidr plugin's sweep of the ranges given, and with --mdns one mDNS
 * browse), then every miner found identified the way the daemon does it,
 * a bounded number at a time, and printed. */
#include "am-cli.h"
#include "am-config-file.h"
#include "am-context-private.h"
#include "am-instances.h"
#include "am-selector.h"
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static gboolean scan_mdns = FALSE;
static gboolean scan_json = FALSE;
static double scan_timeout = 5.0;
static char *scan_config = NULL;
static char **scan_ports = NULL;
static char *scan_exclude = NULL;
static int scan_max_rate = -1;
static int scan_max_inflight = -1;
static int scan_parallel = 64;

static const GOptionEntry scan_options[] = {
    {"mdns", 0, 0, G_OPTION_ARG_NONE, &scan_mdns, "also browse mDNS (_cgminer._tcp)", NULL},
    {"json", 0, 0, G_OPTION_ARG_NONE, &scan_json, "print an array of samples as JSON", NULL},
    {"timeout", 't', 0, G_OPTION_ARG_DOUBLE, &scan_timeout,
     "give up identifying a miner after S seconds (5)", "S"},
    {"port", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &scan_ports,
     "port to try (repeatable, in order of preference; default 4028, 80, 4433)", "PORT"},
    {"exclude", 0, 0, G_OPTION_ARG_STRING, &scan_exclude, "addresses never to connect to", "LIST"},
    {"max-rate", 0, 0, G_OPTION_ARG_INT, &scan_max_rate,
     "connections started per second, at most (0: no cap, the default: the rate adapts to "
     "the network)",
     "N"},
    {"max-inflight", 0, 0, G_OPTION_ARG_INT, &scan_max_inflight,
     "connections in flight at once, at most (default 256)", "N"},
    {"parallel", 0, 0, G_OPTION_ARG_INT, &scan_parallel, "miners identified at once, at most (64)",
     "N"},
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &scan_config,
     "read [discovery:cidr], [discovery:mdns] and driver settings from FILE", "FILE"},
    {NULL},
};

typedef struct {
  char *host;
  guint16 port;
  char *source;
  char *name;
  AmSample *sample; /* identified, or NULL */
  GError *error;    /* why not */
} Found;

/* A web page no driver knows (a printer, a switch): counted, not listed. */
static gboolean
is_not_miner(const Found *f)
{
  return f->sample == NULL && g_error_matches(f->error, AM_ERROR, AM_ERROR_NOT_MINER);
}

typedef struct {
  GMainLoop *loop;
  GPtrArray *drivers;
  GHashTable *seen; /* "host:port" -> Found* */
  GPtrArray *found; /* Found*, in the order reported */
  GQueue waiting;   /* Found* to identify */
  guint identifying;
  guint scans_running;
  guint scans_failed;
  guint scans_started;
} Scan;

typedef struct {
  Scan *scan;
  Found *found;
  AmMiner *miner;
  GCancellable *cancellable;
  guint deadline_id;
  gboolean timed_out;
} Identify;

static void
found_free(Found *f)
{
  g_free(f->host);
  g_free(f->source);
  g_free(f->name);
  if (f->sample != NULL)
    am_sample_unref(f->sample);
  g_clear_error(&f->error);
  g_free(f);
}

/* ---- identification, a bounded number at a time ------------------------ */

static void identify_more(Scan *scan);

static void
maybe_quit(Scan *scan)
{
  if (scan->scans_running == 0 && scan->identifying == 0 && g_queue_is_empty(&scan->waiting))
    g_main_loop_quit(scan->loop);
}

static void
identified(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Identify *id = user_data;
  Scan *scan = id->scan;
  GError *error = NULL;
  AmSample *sample = NULL;
  if (am_selector_identify_finish(result, &sample, &error) != NULL) {
    id->found->sample = sample;
  } else if (id->timed_out) {
    g_clear_error(&error);
    id->found->error = g_error_new(AM_ERROR, AM_ERROR_TIMEOUT, "%s: timed out after %.1f s",
                                   am_miner_get_address(id->miner), scan_timeout);
  } else {
    id->found->error = error;
  }
  if (!id->timed_out)
    g_source_remove(id->deadline_id);
  g_object_unref(id->cancellable);
  am_miner_unref(id->miner);
  g_free(id);
  scan->identifying--;
  identify_more(scan);
  maybe_quit(scan);
}

static gboolean
identify_deadline(gpointer user_data)
{
  Identify *id = user_data;
  id->timed_out = TRUE;
  g_cancellable_cancel(id->cancellable);
  return G_SOURCE_REMOVE;
}

static void
identify_more(Scan *scan)
{
  while (scan->identifying < (guint)scan_parallel && !g_queue_is_empty(&scan->waiting)) {
    Found *f = g_queue_pop_head(&scan->waiting);
    Identify *id = g_new0(Identify, 1);
    id->scan = scan;
    id->found = f;
    id->miner = am_miner_new(f->host, f->port);
    if (f->name != NULL)
      am_miner_set_name(id->miner, f->name);
    am_miner_set_timeout_ms(id->miner, (guint)(scan_timeout * 1000));
    id->cancellable = g_cancellable_new();
    id->deadline_id = g_timeout_add((guint)(scan_timeout * 1000), identify_deadline, id);
    scan->identifying++;
    am_selector_identify_async(scan->drivers, id->miner, id->cancellable, identified, id);
  }
}

/* Every source reports here; an address seen twice is one miner. */
static void
on_candidate(const AmCandidate *c, gboolean gone, gpointer user_data)
{
  Scan *scan = user_data;
  if (gone)
    return;
  g_autoptr(AmMiner) probe = am_miner_new(c->host, c->port);
  const char *address = am_miner_get_address(probe);
  if (g_hash_table_contains(scan->seen, address))
    return;
  Found *f = g_new0(Found, 1);
  f->host = g_strdup(c->host);
  f->port = c->port;
  f->source = g_strdup(c->source);
  f->name = g_strdup(c->name);
  g_hash_table_insert(scan->seen, g_strdup(address), f);
  g_ptr_array_add(scan->found, f);
  g_queue_push_tail(&scan->waiting, f);
  identify_more(scan);
}

/* ---- the discovery sources --------------------------------------------- */

typedef struct {
  Scan *scan;
  AmInstance *source;
} SourceRun;

static void
source_done(GObject *object, GAsyncResult *result, gpointer user_data)
{
  SourceRun *run = user_data;
  Scan *scan = run->scan;
  const AmDiscoveryVTable *vt = run->source->info->vtable.discovery;
  g_autoptr(GError) error = NULL;
  if (!vt->scan_finish(run->source->self, result, &error)) {
    fprintf(stderr, "antmon scan: [%s]: %s\n", run->source->group, error->message);
    scan->scans_failed++;
  }
  g_free(run);
  scan->scans_running--;
  maybe_quit(scan);
}

static void
start_source(Scan *scan, AmInstance *source)
{
  SourceRun *run = g_new0(SourceRun, 1);
  run->scan = scan;
  run->source = source;
  scan->scans_running++;
  scan->scans_started++;
  source->info->vtable.discovery->scan_async(source->self, on_candidate, scan, NULL, source_done,
                                             run);
}

/* ---- configuration ----------------------------------------------------- */

/* Copies @group's keys from @from (the user's file) into @to. */
static void
copy_group(GKeyFile *from, GKeyFile *to, const char *group)
{
  if (from == NULL || !g_key_file_has_group(from, group))
    return;
  g_auto(GStrv) keys = g_key_file_get_keys(from, group, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
    g_autofree char *value = g_key_file_get_value(from, group, keys[i], NULL);
    g_key_file_set_value(to, group, keys[i], value);
  }
}

/* The [discovery:cidr] settings for this scan: the file's, overridden by
 * the command line. */
static void
cidr_settings(GKeyFile *kf, GKeyFile *user, char **ranges)
{
  copy_group(user, kf, "discovery:cidr");
  g_autofree char *joined = g_strjoinv(";", ranges);
  g_key_file_set_value(kf, "discovery:cidr", "ranges", joined);
  if (scan_ports != NULL) {
    g_autofree char *ports = g_strjoinv(";", scan_ports);
    g_key_file_set_value(kf, "discovery:cidr", "ports", ports);
  }
  if (scan_exclude != NULL)
    g_key_file_set_value(kf, "discovery:cidr", "exclude", scan_exclude);
  if (scan_max_rate >= 0)
    g_key_file_set_integer(kf, "discovery:cidr", "max_rate", scan_max_rate);
  if (scan_max_inflight >= 0)
    g_key_file_set_integer(kf, "discovery:cidr", "max_inflight", scan_max_inflight);
}

/* Creates the instance of discovery plugin @name from @kf's group. */
static AmInstance *
create_source(AmPluginSet *plugins, AmContext *ctx, GKeyFile *kf, const char *name, GError **error)
{
  const AmLoadedPlugin *plugin = am_plugin_set_find(plugins, AM_PLUGIN_KIND_DISCOVERY, name);
  if (plugin == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "the discovery-%s.so plugin was not found (see `antmon plugins`)", name);
    return NULL;
  }
  g_autofree char *group = g_strdup_printf("discovery:%s", name);
  gpointer self = plugin->info->create(ctx, kf, group, error);
  if (self == NULL)
    return NULL;
  AmInstance *inst = g_new0(AmInstance, 1);
  inst->info = plugin->info;
  inst->group = g_steal_pointer(&group);
  inst->self = self;
  return inst;
}

static void
instance_free(AmInstance *inst)
{
  inst->info->destroy(inst->self);
  g_free(inst->group);
  g_free(inst);
}

/* ---- output ------------------------------------------------------------ */

/* IPv4 in numeric order, then IPv6, then names; then by port. */
static gint
compare_found(gconstpointer a, gconstpointer b)
{
  const Found *x = *(Found *const *)a, *y = *(Found *const *)b;
  struct in_addr ax, ay;
  gboolean x4 = inet_pton(AF_INET, x->host, &ax) == 1;
  gboolean y4 = inet_pton(AF_INET, y->host, &ay) == 1;
  if (x4 != y4)
    return x4 ? -1 : 1;
  if (x4 && ax.s_addr != ay.s_addr)
    return ntohl(ax.s_addr) < ntohl(ay.s_addr) ? -1 : 1;
  int c = x4 ? 0 : g_strcmp0(x->host, y->host);
  if (c != 0)
    return c;
  return (int)x->port - (int)y->port;
}

/* The same miner reached at two addresses (mDNS and the sweep, or two
 * interfaces) shows once: the first address in sort order. */
static void
drop_duplicates(GPtrArray *found)
{
  g_autoptr(GHashTable) ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < found->len;) {
    Found *f = found->pdata[i];
    char *id = f->sample != NULL ? am_miner_identity(f->sample) : NULL;
    if (id != NULL && !g_hash_table_add(ids, id)) {
      g_ptr_array_remove_index(found, i);
      continue;
    }
    i++;
  }
}

/* Scrypt and X11 miners make a fraction of a TH/s: scale the unit. */
static char *
format_hashrate(double ths)
{
  if (!isfinite(ths))
    return g_strdup("-");
  if (ths >= 1 || ths == 0)
    return g_strdup_printf("%.2f TH/s", ths);
  if (ths >= 1e-3)
    return g_strdup_printf("%.2f GH/s", ths * 1e3);
  return g_strdup_printf("%.2f MH/s", ths * 1e6);
}

static void
print_table(GPtrArray *found)
{
  printf("%-39s %5s  %-10s %-22s %-24s %s\n", "HOST", "PORT", "DRIVER", "MODEL", "FIRMWARE",
         "HASHRATE");
  for (guint i = 0; i < found->len; i++) {
    Found *f = found->pdata[i];
    const AmSample *s = f->sample;
    if (s == NULL) {
      if (!is_not_miner(f))
        printf("%-39s %5u  %-10s not identified: %s\n", f->host, f->port, "-", f->error->message);
      continue;
    }
    g_autofree char *firmware = g_strdup_printf(
        "%s%s%s", s->firmware != NULL ? s->firmware : "?", s->firmware_version != NULL ? " " : "",
        s->firmware_version != NULL ? s->firmware_version : "");
    g_autofree char *hashrate = format_hashrate(s->hashrate_ths);
    printf("%-39s %5u  %-10s %-22s %-24s %s\n", f->host, f->port, s->driver,
           s->model != NULL ? s->model : "?", firmware, hashrate);
  }
}

static void
print_json(GPtrArray *found)
{
  g_autoptr(JsonArray) array = json_array_new();
  for (guint i = 0; i < found->len; i++) {
    Found *f = found->pdata[i];
    if (f->sample != NULL)
      json_array_add_element(array, am_sample_to_json(f->sample));
    else if (!is_not_miner(f))
      fprintf(stderr, "antmon scan: %s:%u accepts connections but was not identified: %s\n",
              f->host, f->port, f->error->message);
  }
  g_autoptr(JsonNode) root = json_node_new(JSON_NODE_ARRAY);
  json_node_set_array(root, array);
  g_autofree char *text = json_to_string(root, TRUE);
  printf("%s\n", text);
}

static void
print_summary(GPtrArray *found, AmInstance *cidr, gint64 started_us)
{
  guint identified = 0;
  guint not_miners = 0;
  for (guint i = 0; i < found->len; i++) {
    identified += ((Found *)found->pdata[i])->sample != NULL;
    not_miners += is_not_miner(found->pdata[i]);
  }
  g_autoptr(GString) line = g_string_new(NULL);
  g_string_append_printf(line, "antmon scan: %u miners identified", identified);
  if (found->len > identified + not_miners)
    g_string_append_printf(line, ", %u found but not identified",
                           found->len - identified - not_miners);
  if (not_miners > 0)
    g_string_append_printf(line, ", %u web pages of no miner left out", not_miners);
  if (cidr != NULL) {
    g_autoptr(JsonNode) stats = cidr->info->vtable.discovery->stats_json(cidr->self);
    JsonObject *o = json_node_get_object(stats);
    g_string_append_printf(line,
                           "; %" G_GINT64_FORMAT " hosts tried in %.1f s (%" G_GINT64_FORMAT
                           " refused, %" G_GINT64_FORMAT " silent)",
                           json_object_get_int_member(o, "hosts_tried"),
                           json_object_get_int_member(o, "duration_ms") / 1000.0,
                           json_object_get_int_member(o, "refused"),
                           json_object_get_int_member(o, "silent"));
    gint64 backoffs = json_object_get_int_member(o, "backoffs");
    g_string_append_printf(line, ", up to %" G_GINT64_FORMAT " connects/s",
                           json_object_get_int_member(o, "rate_highest"));
    if (backoffs > 0)
      g_string_append_printf(line,
                             " (backed off %" G_GINT64_FORMAT
                             " times on lost answers, to %" G_GINT64_FORMAT
                             "/s at the lowest; %" G_GINT64_FORMAT "/s at the end)",
                             backoffs, json_object_get_int_member(o, "rate_lowest"),
                             json_object_get_int_member(o, "rate"));
  }
  g_string_append_printf(line, "; %.1f s in all", (g_get_monotonic_time() - started_us) / 1e6);
  fprintf(stderr, "%s\n", line->str);
}

/* ---- the command ------------------------------------------------------- */

static gboolean
check_usage(int argc)
{
  if (argc < 2 && !scan_mdns) {
    fprintf(stderr, "antmon scan: give at least one RANGE (192.168.1.0/24, 10.0.0.1-10.0.0.50, "
                    "10.1-2.1.1-50, a host) or --mdns\n");
    return FALSE;
  }
  if (!(scan_timeout > 0 && scan_timeout <= 3600) || scan_parallel < 1) {
    fprintf(stderr, "antmon scan: --timeout must be from 0 to 3600 s and --parallel at least 1\n");
    return FALSE;
  }
  return TRUE;
}

/* Creates the sources asked for into @sources; prints why one cannot be. */
static gboolean
create_sources(AmPluginSet *plugins, AmContext *ctx, AmConfigFile *config, char **ranges,
               GPtrArray *sources, AmInstance **cidr_out)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  GKeyFile *user = config != NULL ? config->kf : NULL;
  g_autoptr(GError) error = NULL;
  *cidr_out = NULL;
  if (ranges[0] != NULL) {
    cidr_settings(kf, user, ranges);
    AmInstance *cidr = create_source(plugins, ctx, kf, "cidr", &error);
    if (cidr == NULL) {
      fprintf(stderr, "antmon scan: %s\n", error->message);
      return FALSE;
    }
    g_ptr_array_add(sources, cidr);
    *cidr_out = cidr;
  }
  if (scan_mdns) {
    copy_group(user, kf, "discovery:mdns");
    AmInstance *mdns = create_source(plugins, ctx, kf, "mdns", &error);
    if (mdns == NULL) {
      fprintf(stderr, "antmon scan: %s\n", error->message);
      return FALSE;
    }
    g_ptr_array_add(sources, mdns);
  }
  return TRUE;
}

int
am_cli_scan(int argc, char **argv)
{
  g_autoptr(GOptionContext) context =
      g_option_context_new("RANGE... - find the miners in address ranges and identify them");
  g_option_context_add_main_entries(context, scan_options, NULL);
  if (!am_cli_parse(context, &argc, &argv) || !check_usage(argc))
    return AM_EXIT_USAGE;

  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = NULL;
  if (scan_config != NULL && (config = am_config_file_load(scan_config, &error)) == NULL) {
    fprintf(stderr, "antmon: %s\n", error->message);
    return AM_EXIT_USAGE;
  }
  g_auto(GStrv) dirs = am_plugin_dirs(config != NULL ? config->core.plugin_dirs : NULL);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  g_autoptr(AmContext) ctx = am_context_new(".", scan_config);
  g_autoptr(AmInstances) instances = am_instances_new();
  am_instances_create_kind(instances, plugins, AM_PLUGIN_KIND_DRIVER, ctx,
                           config != NULL ? config->kf : NULL, scan_config);
  g_autoptr(GPtrArray) drivers = am_instances_of_kind(instances, AM_PLUGIN_KIND_DRIVER);
  if (drivers->len == 0) {
    fprintf(stderr, "antmon scan: no driver plugins found (see `antmon plugins`)\n");
    return AM_EXIT_FAILED;
  }
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func((GDestroyNotify)instance_free);
  AmInstance *cidr = NULL;
  if (!create_sources(plugins, ctx, config, argv + 1, sources, &cidr))
    return AM_EXIT_USAGE;

  gint64 started_us = g_get_monotonic_time();
  Scan scan = {
      .loop = g_main_loop_new(NULL, FALSE),
      .drivers = drivers,
      .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
      .found = g_ptr_array_new_with_free_func((GDestroyNotify)found_free),
  };
  g_queue_init(&scan.waiting);
  for (guint i = 0; i < sources->len; i++)
    start_source(&scan, sources->pdata[i]);
  g_main_loop_run(scan.loop);

  g_ptr_array_sort(scan.found, compare_found);
  drop_duplicates(scan.found);
  if (scan_json)
    print_json(scan.found);
  else
    print_table(scan.found);
  print_summary(scan.found, cidr, started_us);
  int status = scan.scans_failed == scan.scans_started ? AM_EXIT_FAILED : AM_EXIT_OK;
  g_hash_table_unref(scan.seen);
  g_ptr_array_unref(scan.found);
  g_main_loop_unref(scan.loop);
  return status;
}
