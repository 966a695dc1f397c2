/* antmon query HOST[:PORT] [--json] [--timeout S]: identify one miner,
 * read it once, print the normalized sample. */
#include "am-cli.h"
#include "am-config-file.h"
#include "am-context-private.h"
#include "am-instances.h"
#include "am-selector.h"
#include <math.h>
#include <stdio.h>

static gboolean query_json = FALSE;
static double query_timeout = 10.0;
static char *query_config = NULL;

static const GOptionEntry query_options[] = {
    {"json", 0, 0, G_OPTION_ARG_NONE, &query_json, "print the sample as JSON", NULL},
    {"timeout", 't', 0, G_OPTION_ARG_DOUBLE, &query_timeout, "give up after S seconds (10)", "S"},
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &query_config, "read driver settings from FILE",
     "FILE"},
    {NULL},
};

typedef struct {
  GMainLoop *loop;
  AmInstance *driver;
  AmSample *sample;
  GError *error;
  gboolean timed_out;
  GCancellable *cancellable;
} Query;

static void
identified(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Query *q = user_data;
  (void)source;
  q->driver = am_selector_identify_finish(result, &q->sample, &q->error);
  g_main_loop_quit(q->loop);
}

static gboolean
deadline(gpointer user_data)
{
  Query *q = user_data;
  q->timed_out = TRUE;
  g_cancellable_cancel(q->cancellable);
  return G_SOURCE_REMOVE;
}

static void
print_value(const char *label, double value, const char *unit)
{
  if (isfinite(value))
    printf("  %-10s %.2f %s\n", label, value, unit);
}

static void
print_list(const char *label, GArray *values, const char *unit)
{
  if (values->len == 0)
    return;
  printf("  %-10s", label);
  for (guint i = 0; i < values->len; i++)
    printf(" %.0f", g_array_index(values, double, i));
  printf(" %s\n", unit);
}

/* One line per chain; what the firmware did not tell is left out. */
static void
print_chain(const AmChain *c)
{
  g_autoptr(GString) line = g_string_new(NULL);
  g_string_append_printf(line, "  chain %-4d", c->index);
  if (isfinite(c->hashrate_ths))
    g_string_append_printf(line, " %.2f TH/s", c->hashrate_ths);
  if (c->chips >= 0)
    g_string_append_printf(line, ", %d chips", c->chips);
  if (c->chips_failed > 0)
    g_string_append_printf(line, ", %d failed", c->chips_failed);
  if (isfinite(c->temp_board_c))
    g_string_append_printf(line, ", board %.0f degC", c->temp_board_c);
  if (isfinite(c->temp_chip_c))
    g_string_append_printf(line, ", chips %.0f degC", c->temp_chip_c);
  if (isfinite(c->temp_inlet_c) && isfinite(c->temp_outlet_c))
    g_string_append_printf(line, ", in/out %.0f/%.0f degC", c->temp_inlet_c, c->temp_outlet_c);
  if (isfinite(c->frequency_mhz))
    g_string_append_printf(line, ", %.0f MHz", c->frequency_mhz);
  if (isfinite(c->voltage_v))
    g_string_append_printf(line, ", %.2f V", c->voltage_v);
  printf("%s\n", line->str);
}

/* What newer firmware tells besides: what the miner is doing, its power
 * target, coolant, PSU and its own errors. */
static void
print_extended(const AmSample *s)
{
  const char *mining = am_mining_state_name(s->mining);
  if (mining != NULL)
    printf("  %-10s %s%s\n", "mining", mining, s->partial ? " (some replies unread)" : "");
  if (s->work_mode != NULL || isfinite(s->power_limit_w)) {
    printf("  %-10s", "target");
    if (s->work_mode != NULL)
      printf(" %s", s->work_mode);
    if (isfinite(s->power_limit_w))
      printf(" %.0f W", s->power_limit_w);
    printf("\n");
  }
  if (isfinite(s->water_temp_in_c) || isfinite(s->water_temp_out_c))
    printf("  %-10s in %.1f, out %.1f degC\n", "water", s->water_temp_in_c, s->water_temp_out_c);
  if (isfinite(s->psu_power_in_w))
    printf("  %-10s %.0f W in\n", "psu", s->psu_power_in_w);
  for (guint i = 0; i < s->errors->len; i++) {
    const AmMinerError *e = s->errors->pdata[i];
    const char *severity = am_error_severity_name(e->severity);
    printf("  %-10s %s%s%s%s%s\n", "error", severity != NULL ? severity : "",
           e->code != NULL ? " " : "", e->code != NULL ? e->code : "",
           e->message != NULL ? ": " : "", e->message != NULL ? e->message : "");
  }
}

static void
print_text(const AmSample *s)
{
  printf("%s:%u  %s  (driver %s, firmware %s %s)\n", s->host, s->port,
         s->model != NULL ? s->model : "unknown model", s->driver,
         s->firmware != NULL ? s->firmware : "?",
         s->firmware_version != NULL ? s->firmware_version : "");
  printf("  %-10s %s", "status", s->status == AM_SAMPLE_STATUS_DEGRADED ? "degraded" : "ok");
  for (guint i = 0; i < s->problems->len; i++)
    printf("%s%s", i == 0 ? ": " : "; ", (const char *)s->problems->pdata[i]);
  printf("\n");
  print_value("hashrate", s->hashrate_ths, "TH/s");
  print_value("ideal", s->hashrate_ideal_ths, "TH/s");
  if (isfinite(s->power_w))
    printf("  %-10s %.0f W (%s)\n", "power", s->power_w,
           s->power_source == AM_POWER_SOURCE_REPORTED ? "reported" : "estimated");
  print_value("efficiency", s->efficiency_jth, "J/TH");
  print_extended(s);
  print_list("boards", s->temps_c, "degC");
  print_list("chips", s->chip_temps_c, "degC");
  print_list("fans", s->fans_rpm, "RPM");
  for (guint i = 0; i < s->chains->len; i++)
    print_chain(&g_array_index(s->chains, AmChain, i));
  for (guint i = 0; i < s->pools->len; i++) {
    const AmPool *p = s->pools->pdata[i];
    printf("  pool %-5s %s %s%s\n", p->status != NULL ? p->status : "", p->url,
           p->user != NULL ? p->user : "", p->active ? " (active)" : "");
  }
  if (s->elapsed_s >= 0)
    printf("  %-10s %" G_GINT64_FORMAT " s\n", "uptime", s->elapsed_s);
}

static void
print_json(const AmSample *s)
{
  g_autoptr(JsonNode) node = am_sample_to_json(s);
  g_autofree char *text = json_to_string(node, TRUE);
  printf("%s\n", text);
}

/* Creates every driver instance, with settings from @config_path if given. */
static AmInstances *
create_drivers(AmPluginSet *plugins, AmContext *ctx, const char *config_path, GKeyFile *kf)
{
  AmInstances *instances = am_instances_new();
  am_instances_create_kind(instances, plugins, AM_PLUGIN_KIND_DRIVER, ctx, kf, config_path);
  return instances;
}

int
am_cli_query(int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new("HOST[:PORT] - read one miner");
  g_option_context_add_main_entries(context, query_options, NULL);
  if (!am_cli_parse(context, &argc, &argv))
    return AM_EXIT_USAGE;
  if (argc != 2 || !(query_timeout > 0 && query_timeout <= 3600)) {
    fprintf(stderr, "antmon query: give one HOST[:PORT] and a --timeout from 0 to 3600 s\n");
    return AM_EXIT_USAGE;
  }

  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnectable) address = g_network_address_parse(argv[1], 4028, &error);
  if (address == NULL) {
    fprintf(stderr, "antmon query: %s: %s\n", argv[1], error->message);
    return AM_EXIT_USAGE;
  }
  GNetworkAddress *na = G_NETWORK_ADDRESS(address);

  g_autoptr(AmConfigFile) config = NULL;
  if (query_config != NULL && (config = am_config_file_load(query_config, &error)) == NULL) {
    fprintf(stderr, "antmon: %s\n", error->message);
    return AM_EXIT_USAGE;
  }
  g_auto(GStrv) dirs = am_plugin_dirs(config != NULL ? config->core.plugin_dirs : NULL);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  g_autoptr(AmContext) ctx = am_context_new(".", query_config);
  g_autoptr(AmInstances) instances =
      create_drivers(plugins, ctx, query_config, config != NULL ? config->kf : NULL);
  g_autoptr(GPtrArray) drivers = am_instances_of_kind(instances, AM_PLUGIN_KIND_DRIVER);
  if (drivers->len == 0) {
    fprintf(stderr, "antmon query: no driver plugins found (see `antmon plugins`)\n");
    return AM_EXIT_FAILED;
  }

  g_autoptr(AmMiner) miner =
      am_miner_new(g_network_address_get_hostname(na), g_network_address_get_port(na));
  am_miner_set_timeout_ms(miner, (guint)(query_timeout * 1000));
  /* The login a [credentials:NAME] group gives this address (groups by
   * model or driver need the miner identified first: `antmon action` and
   * the daemon apply those). */
  if (config != NULL)
    am_credentials_apply(config->credentials, miner, NULL, NULL);
  Query q = {.loop = g_main_loop_new(NULL, FALSE), .cancellable = g_cancellable_new()};
  guint deadline_id = g_timeout_add((guint)(query_timeout * 1000), deadline, &q);
  am_selector_identify_async(drivers, miner, q.cancellable, identified, &q);
  g_main_loop_run(q.loop);
  if (!q.timed_out)
    g_source_remove(deadline_id);

  int status = AM_EXIT_OK;
  if (q.driver == NULL) {
    if (q.timed_out)
      fprintf(stderr, "antmon query: %s: timed out after %.1f s\n", am_miner_get_address(miner),
              query_timeout);
    else
      fprintf(stderr, "antmon query: %s\n", q.error->message);
    status = AM_EXIT_FAILED;
  } else if (query_json) {
    print_json(q.sample);
  } else {
    print_text(q.sample);
  }
  g_clear_error(&q.error);
  if (q.sample != NULL)
    am_sample_unref(q.sample);
  g_object_unref(q.cancellable);
  g_main_loop_unref(q.loop);
  return status;
}
