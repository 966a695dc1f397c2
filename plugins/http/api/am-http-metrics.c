/* GET /metrics in the Prometheus text format (pure; see the header). */
#include "am-http-metrics.h"

#include <math.h>
#include <string.h>

/* One metric family: all its samples must follow its HELP and TYPE lines
 * together, so samples are gathered per family and written at the end. */
typedef struct {
  char *name;
  const char *type;
  char *help;
  GString *samples;
} Family;

struct _AmHttpMetrics {
  GPtrArray *families; /* Family*, in the order first used */
  GHashTable *by_name; /* name -> Family* (borrowed) */
  GPtrArray *miners;   /* AmHttpMinerBlock*, in the order added */
};

static void
family_free(Family *f)
{
  g_free(f->name);
  g_free(f->help);
  g_string_free(f->samples, TRUE);
  g_free(f);
}

AmHttpMetrics *
am_http_metrics_new(void)
{
  AmHttpMetrics *m = g_new0(AmHttpMetrics, 1);
  m->families = g_ptr_array_new_with_free_func((GDestroyNotify)family_free);
  m->by_name = g_hash_table_new(g_str_hash, g_str_equal);
  m->miners = g_ptr_array_new_with_free_func((GDestroyNotify)am_http_miner_block_unref);
  return m;
}

void
am_http_metrics_free(AmHttpMetrics *m)
{
  if (m == NULL)
    return;
  g_hash_table_unref(m->by_name);
  g_ptr_array_unref(m->families);
  g_ptr_array_unref(m->miners);
  g_free(m);
}

static Family *
family(AmHttpMetrics *m, const char *name, const char *type, const char *help)
{
  Family *f = g_hash_table_lookup(m->by_name, name);
  if (f != NULL)
    return f;
  f = g_new0(Family, 1);
  f->name = g_strdup(name);
  f->type = type;
  f->help = g_strdup(help);
  f->samples = g_string_new(NULL);
  g_ptr_array_add(m->families, f);
  g_hash_table_insert(m->by_name, f->name, f);
  return f;
}

void
am_http_metrics_escape_label(GString *out, const char *value)
{
  for (const char *p = value != NULL ? value : ""; *p != '\0'; p++) {
    if (*p == '\\')
      g_string_append(out, "\\\\");
    else if (*p == '"')
      g_string_append(out, "\\\"");
    else if (*p == '\n')
      g_string_append(out, "\\n");
    else
      g_string_append_c(out, *p);
  }
}

/* Appends ,name="value" (or name="value" first). */
static void
label(GString *out, const char *name, const char *value)
{
  if (out->len > 0)
    g_string_append_c(out, ',');
  g_string_append_printf(out, "%s=\"", name);
  am_http_metrics_escape_label(out, value);
  g_string_append_c(out, '"');
}

/* One sample line; unknown values (NAN) are left out, not written as 0. */
static void
sample(AmHttpMetrics *m, const char *name, const char *type, const char *help, const char *labels,
       double value)
{
  Family *f = family(m, name, type, help);
  if (!isfinite(value))
    return;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append(f->samples, name);
  if (labels != NULL && *labels != '\0')
    g_string_append_printf(f->samples, "{%s}", labels);
  g_string_append_printf(f->samples, " %s\n", g_ascii_dtostr(buf, sizeof buf, value));
}

/* @base plus one or two more labels. (transfer full) */
static char *
with_labels(const char *base, const char *n1, const char *v1, const char *n2, const char *v2)
{
  GString *out = g_string_new(base);
  if (n1 != NULL)
    label(out, n1, v1);
  if (n2 != NULL)
    label(out, n2, v2);
  return g_string_free(out, FALSE);
}

/* ---- miners: blocks made by am-http-metrics-miner.c ---------------------------------- */

void
am_http_metrics_add_miner(AmHttpMetrics *m, const AmHttpMiner *miner)
{
  g_ptr_array_add(m->miners, am_http_miner_block_new(miner));
}

void
am_http_metrics_add_block(AmHttpMetrics *m, AmHttpMinerBlock *block)
{
  g_ptr_array_add(m->miners, am_http_miner_block_ref(block));
}

/* ---- the agent itself --------------------------------------------------------------- */

/* "failed_batches" -> "failed_batches"; anything outside [a-z0-9_] -> '_'. */
static char *
metric_word(const char *key)
{
  char *word = g_ascii_strdown(key, -1);
  for (char *p = word; *p != '\0'; p++)
    if (!g_ascii_isalnum(*p))
      *p = '_';
  return word;
}

static gboolean
node_number(JsonNode *node, double *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
    return FALSE;
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_INT64)
    *out = (double)json_node_get_int(node);
  else if (type == G_TYPE_DOUBLE)
    *out = json_node_get_double(node);
  else if (type == G_TYPE_BOOLEAN)
    *out = json_node_get_boolean(node) ? 1 : 0;
  else
    return FALSE;
  return TRUE;
}

/* Every number in @obj as antmon_<prefix>_<key>{labels}: the store, alert
 * and discovery plugins choose their own counters, so they are exported as
 * they come rather than from a fixed list. */
static void
add_numbers(AmHttpMetrics *m, const char *prefix, const char *what, JsonObject *obj,
            const char *labels)
{
  JsonObjectIter it;
  const char *key;
  JsonNode *node;
  double value;
  if (obj == NULL)
    return;
  json_object_iter_init(&it, obj);
  while (json_object_iter_next(&it, &key, &node)) {
    if (!node_number(node, &value))
      continue;
    g_autofree char *word = metric_word(key);
    g_autofree char *name = g_strdup_printf("antmon_%s_%s", prefix, word);
    g_autofree char *help =
        g_strdup_printf("%s: %s, as the agent's health report gives it", what, key);
    sample(m, name, "gauge", help, labels, value);
  }
}

static void
add_poll(AmHttpMetrics *m, JsonObject *poll)
{
  static const char *const states[] = {"online", "degraded", "paused", "offline", "unreachable"};
  for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
    g_autofree char *labels = with_labels("", "state", states[i], NULL, NULL);
    sample(m, "antmon_miners", "gauge", "Miners the agent knows, by state", labels,
           (double)am_json_int(poll, states[i], 0));
  }
  sample(m, "antmon_polls_in_flight", "gauge", "Polls running now", NULL,
         (double)am_json_int(poll, "in_flight", 0));
  JsonObject *pass = am_json_object(poll, "last_pass");
  if (pass == NULL)
    return;
  const char *const results[] = {"succeeded", "failed"};
  for (guint i = 0; i < G_N_ELEMENTS(results); i++) {
    g_autofree char *labels = with_labels("", "result", results[i], NULL, NULL);
    sample(m, "antmon_poll_last_pass_polls", "gauge",
           "Polls in the last completed pass (one interval), by result", labels,
           (double)am_json_int(pass, results[i], 0));
  }
  JsonObject *reasons = am_json_object(pass, "failed_by_reason");
  JsonObjectIter it;
  const char *reason;
  JsonNode *node;
  double value;
  if (reasons != NULL) {
    json_object_iter_init(&it, reasons);
    while (json_object_iter_next(&it, &reason, &node))
      if (node_number(node, &value)) {
        g_autofree char *labels = with_labels("", "reason", reason, NULL, NULL);
        sample(m, "antmon_poll_last_pass_failures", "gauge",
               "Failed polls in the last completed pass, by reason", labels, value);
      }
  }
  sample(m, "antmon_poll_last_pass_duration_seconds", "gauge",
         "From the first poll to the last answer of the last completed pass", NULL,
         (double)am_json_int(pass, "duration_ms", 0) / 1000.0);
}

static void
add_plugins(AmHttpMetrics *m, JsonObject *plugins)
{
  JsonArray *loaded = am_json_array(plugins, "loaded");
  JsonArray *rejected = am_json_array(plugins, "rejected");
  sample(m, "antmon_plugins_loaded", "gauge", "Plugins loaded", NULL,
         loaded != NULL ? json_array_get_length(loaded) : 0);
  sample(m, "antmon_plugins_rejected", "gauge",
         "Plugin files skipped (wrong ABI, missing symbol, wrong kind)", NULL,
         rejected != NULL ? json_array_get_length(rejected) : 0);
}

static void
add_discovery(AmHttpMetrics *m, JsonObject *discovery)
{
  JsonObjectIter it;
  const char *group;
  JsonNode *node;
  if (discovery == NULL)
    return;
  json_object_iter_init(&it, discovery);
  while (json_object_iter_next(&it, &group, &node)) {
    if (!JSON_NODE_HOLDS_OBJECT(node))
      continue;
    g_autofree char *labels = with_labels("", "instance", group, NULL, NULL);
    add_numbers(m, "discovery", "Discovery", json_node_get_object(node), labels);
  }
}

void
am_http_metrics_add_health(AmHttpMetrics *m, JsonNode *health)
{
  if (health == NULL || !JSON_NODE_HOLDS_OBJECT(health))
    return;
  JsonObject *h = json_node_get_object(health);
  g_autofree char *build = with_labels("", "version", am_json_string(h, "version"), NULL, NULL);
  sample(m, "antmon_build_info", "gauge", "Always 1: the agent's version as a label", build, 1);
  sample(m, "antmon_uptime_seconds", "gauge", "Time since the agent started", NULL,
         (double)am_json_int(h, "uptime_s", 0));
  add_plugins(m, am_json_object(h, "plugins"));
  JsonObject *poll = am_json_object(h, "poll");
  if (poll != NULL)
    add_poll(m, poll);
  add_discovery(m, am_json_object(h, "discovery"));
  add_numbers(m, "store", "Store queue", am_json_object(h, "store"), NULL);
  JsonObject *store = am_json_object(h, "store");
  if (store != NULL)
    add_numbers(m, "store_engine", "Store", am_json_object(store, "engine"), NULL);
  add_numbers(m, "alerts", "Alerts", am_json_object(h, "alerts"), NULL);
  add_numbers(m, "process", "The agent's process", am_json_object(h, "process"), NULL);
  add_numbers(m, "http_connections", "HTTP connections", am_json_object(h, "http"), NULL);
}

/* HELP text escapes only backslash and newline. */
static void
append_help(GString *out, const char *help)
{
  for (const char *p = help; *p != '\0'; p++) {
    if (*p == '\\')
      g_string_append(out, "\\\\");
    else if (*p == '\n')
      g_string_append(out, "\\n");
    else
      g_string_append_c(out, *p);
  }
}

static void
append_head(GString *out, const char *name, const char *type, const char *help)
{
  g_string_append(out, "# HELP ");
  g_string_append(out, name);
  g_string_append_c(out, ' ');
  append_help(out, help);
  g_string_append(out, "\n# TYPE ");
  g_string_append(out, name);
  g_string_append_c(out, ' ');
  g_string_append(out, type);
  g_string_append_c(out, '\n');
}

/* The miners' families: each one's HELP and TYPE, then its lines of every
 * block in turn, so a family stays in one piece however many miners there
 * are. One buffer sized up front: at 10,000 miners this is a copy of some
 * 20 MB, a few milliseconds. (transfer full) */
static GBytes *
render_miners(GPtrArray *blocks)
{
  gsize total = 4096;
  for (guint i = 0; i < blocks->len; i++)
    total += am_http_miner_block_size(blocks->pdata[i]);
  GString *out = g_string_sized_new(total + AM_HTTP_N_FAMILIES * 256);
  for (AmHttpMinerFamily f = 0; f < AM_HTTP_N_FAMILIES; f++) {
    gsize head_at = out->len;
    const AmHttpFamilyInfo *info = am_http_miner_family(f);
    append_head(out, info->name, info->type, info->help);
    gsize lines_at = out->len;
    for (guint i = 0; i < blocks->len; i++) {
      gsize len;
      const char *lines = am_http_miner_block_family(blocks->pdata[i], f, &len);
      g_string_append_len(out, lines, (gssize)len);
    }
    if (out->len == lines_at) /* no miner has it: no HELP or TYPE either */
      g_string_truncate(out, head_at);
  }
  return g_string_free_to_bytes(out);
}

/* The agent's families as two chunks each, its HELP and TYPE lines then
 * its samples, handed over without copying; then the miners' text. */
void
am_http_metrics_render_to(AmHttpMetrics *m, SoupMessageBody *body)
{
  for (guint i = 0; i < m->families->len; i++) {
    Family *f = m->families->pdata[i];
    if (f->samples->len == 0)
      continue;
    GString *head = g_string_new(NULL);
    append_head(head, f->name, f->type, f->help);
    g_autoptr(GBytes) head_bytes = g_string_free_to_bytes(head);
    g_autoptr(GBytes) samples = g_string_free_to_bytes(f->samples);
    f->samples = g_string_new(NULL);
    soup_message_body_append_bytes(body, head_bytes);
    soup_message_body_append_bytes(body, samples);
  }
  if (m->miners->len > 0) {
    g_autoptr(GBytes) miners = render_miners(m->miners);
    soup_message_body_append_bytes(body, miners);
    g_ptr_array_set_size(m->miners, 0);
  }
}

GBytes *
am_http_metrics_render(AmHttpMetrics *m)
{
  SoupMessageBody *body = soup_message_body_new();
  am_http_metrics_render_to(m, body);
  GBytes *text = soup_message_body_flatten(body);
  soup_message_body_unref(body);
  return text;
}
