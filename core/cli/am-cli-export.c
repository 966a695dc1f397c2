/* antmon export [-c FILE] [--miner HOST] [--since T] [--until T] [--step S]
 *               [--format csv|json]
 *
 * Writes stored history to stdout. It reads through the store plugin's
 * query interface (the same "latest" and "series" queries the HTTP API
 * uses), so it works with any store plugin and never needs the daemon. */
#include "am-cli.h"
#include "am-config-file.h"
#include "am-context-private.h"
#include "am-instances.h"
#include <antmon/config.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PAGE_ROWS "5000"

static char *export_config = NULL;
static char *export_miner = NULL;
static char *export_since = NULL;
static char *export_until = NULL;
static char *export_format = NULL;
static gint export_step = 0;

static const GOptionEntry export_options[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &export_config, "configuration file", "FILE"},
    {"miner", 'm', 0, G_OPTION_ARG_STRING, &export_miner, "only this miner (host or host:port)",
     "HOST"},
    {"since", 0, 0, G_OPTION_ARG_STRING, &export_since,
     "from this time: epoch seconds, ISO 8601, or a duration ago (24h, 7d)", "T"},
    {"until", 0, 0, G_OPTION_ARG_STRING, &export_until, "up to this time (same forms)", "T"},
    {"step", 0, 0, G_OPTION_ARG_INT, &export_step,
     "averages per STEP seconds (from the rollups) instead of every sample", "S"},
    {"format", 'f', 0, G_OPTION_ARG_STRING, &export_format, "csv (the default) or json", "FORMAT"},
    {NULL},
};

/* The columns after time, epoch and miner, in order: the series query's
 * fields. Those of plugin ABI 1.2 follow the first six; the series ones
 * (power_limit_w .. chain_frequency_mhz) are averaged with --step, the
 * others are in raw rows only (empty or null in averaged ones). */
static const char *const columns[] = {
    "hashrate_ths",        "power_w",        "temp_max_c",      "avg_temp_c",    "avg_fan_rpm",
    "elapsed_s",           "mining",         "work_mode",       "power_limit_w", "water_temp_in_c",
    "water_temp_out_c",    "psu_power_in_w", "psu_power_out_w", "psu_fan_rpm",   "chain_voltage_v",
    "chain_frequency_mhz", "best_share",     "found_blocks",    "partial",       "errors_error",
    "errors_warning",      "errors_info",    "errors_unknown",
};

/* Epoch seconds, an ISO 8601 time (UTC unless it says otherwise), or a
 * duration before now. Returns the time as epoch seconds text. */
static char *
parse_time(const char *option, const char *text)
{
  char *end = NULL;
  double epoch = g_ascii_strtod(text, &end);
  if (end != text && *end == '\0' && isfinite(epoch))
    return g_strdup(text);
  guint64 ago_ms = 0;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  if (am_parse_duration_ms(text, &ago_ms))
    return g_strdup(
        g_ascii_dtostr(buf, sizeof buf, g_get_real_time() / 1e6 - (double)ago_ms / 1000.0));
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, utc);
  if (dt != NULL)
    return g_strdup(g_ascii_dtostr(
        buf, sizeof buf, g_date_time_to_unix(dt) + g_date_time_get_microsecond(dt) / 1e6));
  fprintf(stderr,
          "antmon export: --%s=%s: expected epoch seconds, an ISO 8601 time "
          "(2024-05-01T08:00:00Z) or a duration ago (24h, 7d)\n",
          option, text);
  return NULL;
}

/* ---- writing rows ------------------------------------------------------ */

typedef struct {
  gboolean json;
  guint64 rows;
} Writer;

static char *
iso_time(double epoch)
{
  gint64 ms = (gint64)llround(epoch * 1000.0);
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(ms / 1000);
  g_autofree char *base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf("%s.%03dZ", base, (int)(ms % 1000));
}

/* A text field, quoted as RFC 4180 says when it needs to be (a work mode
 * is the firmware's own words). */
static void
print_csv_text(const char *text)
{
  if (strpbrk(text, ",\"\r\n") == NULL) {
    fputs(text, stdout);
    return;
  }
  putchar('"');
  for (const char *p = text; *p != '\0'; p++) {
    if (*p == '"')
      putchar('"');
    putchar(*p);
  }
  putchar('"');
}

static void
print_csv_value(JsonObject *row, const char *name)
{
  JsonNode *node = json_object_get_member(row, name);
  putchar(',');
  if (node == NULL || JSON_NODE_HOLDS_NULL(node))
    return;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_INT64)
    printf("%" G_GINT64_FORMAT, json_node_get_int(node));
  else if (type == G_TYPE_BOOLEAN)
    fputs(json_node_get_boolean(node) ? "true" : "false", stdout);
  else if (type == G_TYPE_STRING)
    print_csv_text(json_node_get_string(node));
  else
    fputs(g_ascii_formatd(buf, sizeof buf, "%.10g", json_node_get_double(node)), stdout);
}

static void
write_csv_row(const char *miner, double epoch, JsonObject *row)
{
  g_autofree char *iso = iso_time(epoch);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  printf("%s,%s,%s", iso, g_ascii_formatd(buf, sizeof buf, "%.3f", epoch), miner);
  for (gsize i = 0; i < G_N_ELEMENTS(columns); i++)
    print_csv_value(row, columns[i]);
  putchar('\n');
}

static void
write_json_row(Writer *w, const char *miner, double epoch, JsonObject *row)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree char *iso = iso_time(epoch);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "time");
  json_builder_add_string_value(b, iso);
  json_builder_set_member_name(b, "epoch");
  json_builder_add_double_value(b, epoch);
  json_builder_set_member_name(b, "miner");
  json_builder_add_string_value(b, miner);
  for (gsize i = 0; i < G_N_ELEMENTS(columns); i++) {
    JsonNode *node = json_object_get_member(row, columns[i]);
    json_builder_set_member_name(b, columns[i]);
    json_builder_add_value(b, node != NULL ? json_node_copy(node) : json_node_new(JSON_NODE_NULL));
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  g_autofree char *text = json_to_string(node, FALSE);
  printf("%s\n  %s", w->rows > 0 ? "," : "", text);
}

static void
write_row(Writer *w, const char *miner, JsonObject *row)
{
  double epoch = json_object_get_double_member(row, "time");
  if (w->json)
    write_json_row(w, miner, epoch, row);
  else
    write_csv_row(miner, epoch, row);
  w->rows++;
}

/* ---- reading the store ------------------------------------------------- */

/* Member @name when it is a string (not null, not absent). (transfer none) */
static const char *
string_member(JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member(obj, name);
  return node != NULL && json_node_get_value_type(node) == G_TYPE_STRING
             ? json_node_get_string(node)
             : NULL;
}

typedef struct {
  AmInstance *store;
  char *since;
  char *until;
} Source;

static JsonObject *
run_query(Source *src, const char *query, GHashTable *params, GError **error)
{
  JsonNode *node = src->store->info->vtable.store->query(src->store->self, query, params, error);
  if (node == NULL)
    return NULL;
  JsonObject *obj =
      JSON_NODE_HOLDS_OBJECT(node) ? json_object_ref(json_node_get_object(node)) : NULL;
  json_node_unref(node);
  if (obj == NULL)
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "%s: the store answered something else", query);
  return obj;
}

/* Every miner the store has a latest sample for, by address. */
static GPtrArray *
list_miners(Source *src, GError **error)
{
  g_autoptr(JsonObject) latest = run_query(src, "latest", NULL, error);
  if (latest == NULL)
    return NULL;
  GPtrArray *miners = g_ptr_array_new_with_free_func(g_free);
  JsonArray *rows = json_object_get_array_member(latest, "rows");
  for (guint i = 0; rows != NULL && i < json_array_get_length(rows); i++) {
    const char *miner = string_member(json_array_get_object_element(rows, i), "miner");
    if (miner != NULL)
      g_ptr_array_add(miners, g_strdup(miner));
  }
  return miners;
}

/* --miner as an address when the store knows it ("10.0.0.5" ->
 * "10.0.0.5:4028"), so the miner column always reads the same. */
static GPtrArray *
named_miner(Source *src, const char *key, GError **error)
{
  g_autoptr(GPtrArray) known = list_miners(src, error);
  if (known == NULL)
    return NULL;
  g_autofree char *prefix = g_strconcat(key, ":", NULL);
  const char *address = key;
  for (guint i = 0; i < known->len; i++)
    if (g_str_equal(known->pdata[i], key) || g_str_has_prefix(known->pdata[i], prefix)) {
      address = known->pdata[i];
      break;
    }
  GPtrArray *miners = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(miners, g_strdup(address));
  return miners;
}

static GHashTable *
series_params(Source *src, const char *miner, const char *cursor)
{
  GHashTable *params = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert(params, "miner", g_strdup(miner));
  g_hash_table_insert(params, "limit", g_strdup(PAGE_ROWS));
  if (src->since != NULL)
    g_hash_table_insert(params, "since", g_strdup(src->since));
  if (src->until != NULL)
    g_hash_table_insert(params, "until", g_strdup(src->until));
  if (export_step > 0)
    g_hash_table_insert(params, "step", g_strdup_printf("%d", export_step));
  if (cursor != NULL)
    g_hash_table_insert(params, "cursor", g_strdup(cursor));
  return params;
}

/* Pages through one miner's series. */
static gboolean
export_miner_rows(Source *src, Writer *w, const char *miner, GError **error)
{
  g_autofree char *cursor = NULL;
  do {
    g_autoptr(GHashTable) params = series_params(src, miner, cursor);
    g_autoptr(JsonObject) page = run_query(src, "series", params, error);
    if (page == NULL)
      return FALSE;
    JsonArray *rows = json_object_get_array_member(page, "rows");
    for (guint i = 0; rows != NULL && i < json_array_get_length(rows); i++)
      write_row(w, miner, json_array_get_object_element(rows, i));
    g_free(cursor);
    cursor = g_strdup(string_member(page, "next_cursor"));
  } while (cursor != NULL);
  return TRUE;
}

static void
print_csv_header(void)
{
  fputs("time,epoch,miner", stdout);
  for (gsize i = 0; i < G_N_ELEMENTS(columns); i++)
    printf(",%s", columns[i]);
  putchar('\n');
}

static gboolean
export_all(Source *src, gboolean json, GError **error)
{
  g_autoptr(GPtrArray) miners =
      export_miner != NULL ? named_miner(src, export_miner, error) : list_miners(src, error);
  if (miners == NULL)
    return FALSE;
  Writer w = {.json = json};
  if (json)
    fputs("[", stdout);
  else
    print_csv_header();
  for (guint i = 0; i < miners->len; i++)
    if (!export_miner_rows(src, &w, miners->pdata[i], error))
      return FALSE;
  if (json)
    fputs(w.rows > 0 ? "\n]\n" : "]\n", stdout);
  return fflush(stdout) == 0;
}

/* ---- the command ------------------------------------------------------- */

static gboolean
check_options(Source *src)
{
  if (export_format != NULL && !g_str_equal(export_format, "csv") &&
      !g_str_equal(export_format, "json")) {
    fprintf(stderr, "antmon export: --format=%s: expected csv or json\n", export_format);
    return FALSE;
  }
  if (export_step < 0) {
    fprintf(stderr, "antmon export: --step=%d: expected seconds, 0 or more\n", export_step);
    return FALSE;
  }
  if (export_since != NULL && (src->since = parse_time("since", export_since)) == NULL)
    return FALSE;
  if (export_until != NULL && (src->until = parse_time("until", export_until)) == NULL)
    return FALSE;
  return TRUE;
}

/* Creates the first enabled [store:...] instance. Returns the exit status
 * to use when there is none. */
static int
open_store(AmConfigFile *config, AmPluginSet *plugins, AmContext *ctx, AmInstances *instances,
           AmInstance **store)
{
  am_instances_create_kind(instances, plugins, AM_PLUGIN_KIND_STORE, ctx, config->kf, config->path);
  g_autoptr(GPtrArray) stores = am_instances_of_kind(instances, AM_PLUGIN_KIND_STORE);
  if (stores->len > 0) {
    *store = stores->pdata[0];
    return AM_EXIT_OK;
  }
  if (instances->failed > 0) {
    fprintf(stderr, "antmon export: the store could not be opened (see above)\n");
    return AM_EXIT_FAILED;
  }
  fprintf(stderr, "antmon export: %s has no enabled [store:...] group\n", config->path);
  return AM_EXIT_USAGE;
}

static int
run_export(Source *src)
{
  g_autofree char *path = am_cli_default_config(export_config);
  if (path == NULL) {
    fprintf(stderr, "antmon export: no configuration file: give one with -c FILE\n");
    return AM_EXIT_USAGE;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  if (config == NULL) {
    fprintf(stderr, "antmon: %s\n", error->message);
    return AM_EXIT_USAGE;
  }
  g_auto(GStrv) dirs = am_plugin_dirs(config->core.plugin_dirs);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  g_autoptr(AmContext) ctx = am_context_new(config->core.state_dir, config->path);
  g_autoptr(AmInstances) instances = am_instances_new();
  int status = open_store(config, plugins, ctx, instances, &src->store);
  if (status != AM_EXIT_OK)
    return status;
  if (!export_all(src, export_format != NULL && g_str_equal(export_format, "json"), &error)) {
    fprintf(stderr, "antmon export: %s\n", error != NULL ? error->message : "writing failed");
    return AM_EXIT_FAILED;
  }
  return AM_EXIT_OK;
}

int
am_cli_export(int argc, char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new("- write stored history to stdout");
  g_option_context_add_main_entries(context, export_options, NULL);
  g_option_context_set_description(
      context, "Without --miner every miner is exported, one after another, oldest sample first.\n"
               "CSV columns: time,epoch,miner,hashrate_ths,power_w,temp_max_c,avg_temp_c,"
               "avg_fan_rpm,elapsed_s,mining,work_mode,power_limit_w,water_temp_in_c,"
               "water_temp_out_c,psu_power_in_w,psu_power_out_w,psu_fan_rpm,chain_voltage_v,"
               "chain_frequency_mhz,best_share,found_blocks,partial,errors_error,"
               "errors_warning,errors_info,errors_unknown\n"
               "Empty (CSV) or null (JSON): unknown. With --step only the numeric series\n"
               "are averaged; mining .. errors_unknown are in per-sample rows only.\n");
  if (!am_cli_parse(context, &argc, &argv))
    return AM_EXIT_USAGE;
  Source src = {0};
  int status = AM_EXIT_USAGE;
  if (argc > 1)
    fprintf(stderr, "antmon export: unexpected argument '%s' (try --help)\n", argv[1]);
  else if (check_options(&src))
    status = run_export(&src);
  g_free(src.since);
  g_free(src.until);
  return status;
}
