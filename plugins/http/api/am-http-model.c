/* What the JSON endpoints say about miners (pure; see the header). */
#include "am-http-model.h"
#include "am-http-json.h"

#include <math.h>
#include <string.h>

/* ---- copies of the core's views -------------------------------------------- */

void
am_http_miner_init(AmHttpMiner *m, const AmMinerView *view)
{
  m->address = g_strdup(view->address);
  m->host = g_strdup(view->host);
  m->port = view->port;
  m->name = g_strdup(view->name);
  m->state = am_http_state_from_string(view->state);
  m->state_reason = g_strdup(view->state_reason);
  m->last_error = g_strdup(view->last_error);
  m->last_seen_us = view->last_seen_us;
  m->failures = view->failures;
  m->driver = g_strdup(view->driver);
  m->source = g_strdup(view->source);
  m->sample = view->sample != NULL ? am_sample_ref(view->sample) : NULL;
  m->actions = view->actions;
}

AmHttpMiner *
am_http_miner_new(const AmMinerView *view)
{
  AmHttpMiner *m = g_new0(AmHttpMiner, 1);
  am_http_miner_init(m, view);
  return m;
}

void
am_http_miner_borrow(const AmMinerView *view, AmHttpMiner *out)
{
  /* The casts only drop const: a borrowed miner is read, never freed. */
  *out = (AmHttpMiner){
      .address = (char *)view->address,
      .host = (char *)view->host,
      .port = view->port,
      .name = (char *)view->name,
      .state = am_http_state_from_string(view->state),
      .state_reason = (char *)view->state_reason,
      .last_error = (char *)view->last_error,
      .last_seen_us = view->last_seen_us,
      .failures = view->failures,
      .driver = (char *)view->driver,
      .source = (char *)view->source,
      .sample = view->sample,
      .actions = view->actions,
  };
}

void
am_http_miner_clear(AmHttpMiner *m)
{
  g_clear_pointer(&m->address, g_free);
  g_clear_pointer(&m->host, g_free);
  g_clear_pointer(&m->name, g_free);
  g_clear_pointer(&m->state_reason, g_free);
  g_clear_pointer(&m->last_error, g_free);
  g_clear_pointer(&m->driver, g_free);
  g_clear_pointer(&m->source, g_free);
  g_clear_pointer(&m->sample, am_sample_unref);
}

void
am_http_miner_free(AmHttpMiner *m)
{
  if (m == NULL)
    return;
  am_http_miner_clear(m);
  g_free(m);
}

gboolean
am_http_miner_is_view(const AmHttpMiner *m, const AmMinerView *view)
{
  return m->sample == view->sample && m->last_seen_us == view->last_seen_us &&
         m->failures == view->failures && m->port == view->port && m->actions == view->actions &&
         m->state == am_http_state_from_string(view->state) &&
         g_strcmp0(m->name, view->name) == 0 &&
         g_strcmp0(m->state_reason, view->state_reason) == 0 &&
         g_strcmp0(m->last_error, view->last_error) == 0 &&
         g_strcmp0(m->driver, view->driver) == 0 && g_strcmp0(m->source, view->source) == 0 &&
         g_strcmp0(m->host, view->host) == 0 && g_strcmp0(m->address, view->address) == 0;
}

/* ---- filters ------------------------------------------------------------------- */

static gboolean
contains_nocase(const char *haystack, const char *needle)
{
  if (haystack == NULL)
    return FALSE;
  g_autofree char *h = g_utf8_casefold(haystack, -1);
  g_autofree char *n = g_utf8_casefold(needle, -1);
  return strstr(h, n) != NULL;
}

static const char *
miner_model(const AmHttpMiner *m)
{
  return m->sample != NULL ? m->sample->model : NULL;
}

gboolean
am_http_miner_matches(const AmHttpMiner *m, const AmHttpMinerFilter *f)
{
  if (f->states != 0 && (m->state < 0 || (f->states & (1u << m->state)) == 0))
    return FALSE;
  if (f->model != NULL && !contains_nocase(miner_model(m), f->model))
    return FALSE;
  if (f->q != NULL && !contains_nocase(m->address, f->q) && !contains_nocase(m->name, f->q) &&
      !contains_nocase(miner_model(m), f->q))
    return FALSE;
  return TRUE;
}

/* ---- sorting ------------------------------------------------------------------- */

/* Compares runs of digits as numbers, so 127.0.0.9 < 127.0.0.10 and
 * rack1-2 < rack1-10, the order a person expects in a table. */
static int
natural_compare(const char *a, const char *b)
{
  a = a != NULL ? a : "";
  b = b != NULL ? b : "";
  while (*a != '\0' && *b != '\0') {
    if (g_ascii_isdigit(*a) && g_ascii_isdigit(*b)) {
      while (*a == '0' && g_ascii_isdigit(a[1]))
        a++;
      while (*b == '0' && g_ascii_isdigit(b[1]))
        b++;
      gsize la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
      if (la != lb)
        return la < lb ? -1 : 1;
      int c = strncmp(a, b, la);
      if (c != 0)
        return c;
      a += la, b += lb;
      continue;
    }
    int ca = g_ascii_tolower(*a), cb = g_ascii_tolower(*b);
    if (ca != cb)
      return ca < cb ? -1 : 1;
    a++, b++;
  }
  return (*a != '\0') - (*b != '\0');
}

static double
sample_value(const AmHttpMiner *m, AmHttpSortKey key)
{
  const AmSample *s = m->sample;
  if (key == AM_HTTP_SORT_LAST_SEEN)
    return m->last_seen_us > 0 ? (double)m->last_seen_us : NAN;
  if (s == NULL)
    return NAN;
  switch (key) {
  case AM_HTTP_SORT_HASHRATE:
    return s->hashrate_ths;
  case AM_HTTP_SORT_IDEAL:
    return s->hashrate_ideal_ths;
  case AM_HTTP_SORT_RATIO:
    return s->hashrate_ideal_ths > 0 ? s->hashrate_ths / s->hashrate_ideal_ths : NAN;
  case AM_HTTP_SORT_TEMP:
    return s->temp_max_c;
  case AM_HTTP_SORT_FAN:
    return s->avg_fan_rpm;
  case AM_HTTP_SORT_POWER:
    return s->power_w;
  case AM_HTTP_SORT_EFFICIENCY:
    return s->efficiency_jth;
  case AM_HTTP_SORT_UPTIME:
    return s->elapsed_s >= 0 ? (double)s->elapsed_s : NAN;
  default:
    return NAN;
  }
}

typedef struct {
  AmHttpSortKey key;
  gboolean descending;
} SortSpec;

/* <0, 0, >0 in ascending order; *@unknown_a/b say which side has no value. */
static int
compare_key(const AmHttpMiner *a, const AmHttpMiner *b, AmHttpSortKey key, gboolean *unknown_a,
            gboolean *unknown_b)
{
  switch (key) {
  case AM_HTTP_SORT_HOST:
    return natural_compare(a->address, b->address);
  case AM_HTTP_SORT_NAME:
    return natural_compare(a->name, b->name);
  case AM_HTTP_SORT_STATE:
    return a->state - b->state;
  case AM_HTTP_SORT_MODEL:
    *unknown_a = miner_model(a) == NULL;
    *unknown_b = miner_model(b) == NULL;
    return natural_compare(miner_model(a), miner_model(b));
  default: {
    double va = sample_value(a, key), vb = sample_value(b, key);
    *unknown_a = isnan(va);
    *unknown_b = isnan(vb);
    return va < vb ? -1 : va > vb ? 1 : 0;
  }
  }
}

static int
compare_miners(gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  const AmHttpMiner *a = *(AmHttpMiner *const *)pa, *b = *(AmHttpMiner *const *)pb;
  const SortSpec *spec = user_data;
  gboolean unknown_a = FALSE, unknown_b = FALSE;
  int c = compare_key(a, b, spec->key, &unknown_a, &unknown_b);
  if (unknown_a != unknown_b)
    return unknown_a ? 1 : -1;
  if (unknown_a)
    c = 0;
  if (c != 0)
    return spec->descending ? -c : c;
  return natural_compare(a->address, b->address);
}

void
am_http_miners_sort(GPtrArray *miners, AmHttpSortKey key, gboolean descending)
{
  SortSpec spec = {key, descending};
  g_ptr_array_sort_with_data(miners, compare_miners, &spec);
}

/* ---- the miner object ------------------------------------------------------------ */

static void
add_string_or_null(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
add_double_or_null(JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name(b, name);
  if (isfinite(value))
    json_builder_add_double_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
add_int(JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

static gint64
sample_age_us(const AmHttpMiner *m, const AmHttpClock *clock)
{
  return m->last_seen_us > 0 ? MAX(clock->now_us - m->last_seen_us, 0) : -1;
}

static gboolean
miner_is_stale(const AmHttpMiner *m, const AmHttpClock *clock)
{
  gint64 age = sample_age_us(m, clock);
  return age < 0 || age > clock->stale_after_us || m->state == AM_HTTP_STATE_OFFLINE;
}

static void
write_string(GString *out, const char *name, const char *value)
{
  am_http_json_member(out, name, FALSE);
  am_http_json_string(out, value);
}

static void
write_actions(GString *out, AmActionSet actions)
{
  gboolean first = TRUE;
  am_http_json_member(out, "actions", FALSE);
  g_string_append_c(out, '[');
  for (AmActionKind k = AM_ACTION_NONE + 1; k < AM_ACTION_LAST; k++) {
    if ((actions & AM_ACTION_BIT(k)) == 0)
      continue;
    if (!first)
      g_string_append_c(out, ',');
    am_http_json_string(out, am_action_kind_to_string(k));
    first = FALSE;
  }
  g_string_append_c(out, ']');
}

void
am_http_miner_write_json_head(GString *out, const AmHttpMiner *m)
{
  g_string_append_c(out, '{');
  am_http_json_member(out, "address", TRUE);
  am_http_json_string(out, m->address);
  write_string(out, "host", m->host);
  am_http_json_member(out, "port", FALSE);
  g_string_append_printf(out, "%u", m->port);
  write_string(out, "name", m->name);
  write_string(out, "state", am_http_state_to_string(m->state));
  write_string(out, "state_reason", m->state_reason);
  write_string(out, "last_error", m->last_error);
  am_http_json_member(out, "last_seen", FALSE);
  if (m->last_seen_us > 0)
    am_http_json_time(out, m->last_seen_us);
  else
    g_string_append(out, "null");
}

void
am_http_miner_write_json_age(GString *out, const AmHttpMiner *m, const AmHttpClock *clock)
{
  gint64 age_us = sample_age_us(m, clock);
  am_http_json_member(out, "age_s", FALSE);
  if (age_us >= 0)
    g_string_append_printf(out, "%" G_GINT64_FORMAT, age_us / G_USEC_PER_SEC);
  else
    g_string_append(out, "null");
  am_http_json_member(out, "stale", FALSE);
  g_string_append(out, miner_is_stale(m, clock) ? "true" : "false");
}

void
am_http_miner_write_json_tail(GString *out, const AmHttpMiner *m)
{
  am_http_json_member(out, "failures", FALSE);
  g_string_append_printf(out, "%u", m->failures);
  write_string(out, "driver", m->driver);
  write_string(out, "source", m->source);
  write_actions(out, m->actions);
  am_http_json_member(out, "sample", FALSE);
}

void
am_http_miner_write_json(GString *out, const AmHttpMiner *m, const AmHttpClock *clock,
                         const char *sample_json)
{
  am_http_miner_write_json_head(out, m);
  am_http_miner_write_json_age(out, m, clock);
  am_http_miner_write_json_tail(out, m);
  g_string_append(out, sample_json != NULL ? sample_json : "null");
  g_string_append_c(out, '}');
}

/* ---- fleet totals ---------------------------------------------------------------- */

typedef struct {
  guint miners;
  double hashrate_ths;
  double ideal_ths;
  double hashrate_with_ideal_ths; /* of the miners that state an ideal */
  guint with_ideal;
  double power_w;
  double eff_power_w; /* power of the miners that report both */
  double eff_hashrate_ths;
} AlgoTotals;

/* The hottest miner so far, copied: the miners added may be borrowed. */
typedef struct {
  char *address;
  char *name;
  char *model;
  double temp_max_c;
} Hottest;

struct _AmHttpSummary {
  AmHttpClock clock;
  guint total;
  guint by_state[AM_HTTP_N_STATES];
  guint stale;
  double power_w;
  guint with_power;
  gboolean power_estimated;
  GHashTable *algos; /* algorithm -> AlgoTotals */
  Hottest hottest;   /* address NULL: none yet */
};

typedef struct _AmHttpSummary FleetTotals;

/* Bitcoin miners report sha256d; a driver that says nothing is one. */
static const char *
sample_algorithm(const AmSample *s)
{
  return s->algorithm != NULL ? s->algorithm : "sha256d";
}

static void
add_to_algo(FleetTotals *t, const AmSample *s)
{
  AlgoTotals *a = g_hash_table_lookup(t->algos, sample_algorithm(s));
  if (a == NULL) {
    a = g_new0(AlgoTotals, 1);
    g_hash_table_insert(t->algos, g_strdup(sample_algorithm(s)), a);
  }
  a->miners++;
  if (isfinite(s->hashrate_ths))
    a->hashrate_ths += s->hashrate_ths;
  if (isfinite(s->hashrate_ideal_ths) && s->hashrate_ideal_ths > 0 && isfinite(s->hashrate_ths)) {
    a->ideal_ths += s->hashrate_ideal_ths;
    a->hashrate_with_ideal_ths += s->hashrate_ths;
    a->with_ideal++;
  }
  if (isfinite(s->power_w))
    a->power_w += s->power_w;
  if (isfinite(s->power_w) && isfinite(s->hashrate_ths) && s->hashrate_ths > 0)
    a->eff_power_w += s->power_w, a->eff_hashrate_ths += s->hashrate_ths;
}

/* Only miners that answer count towards the totals: an offline miner's
 * last sample describes the past, not the fleet now. */
static void
note_if_hottest(FleetTotals *t, const AmHttpMiner *m)
{
  const AmSample *s = m->sample;
  if (!isfinite(s->temp_max_c) ||
      (t->hottest.address != NULL && s->temp_max_c <= t->hottest.temp_max_c))
    return;
  g_free(t->hottest.address);
  g_free(t->hottest.name);
  g_free(t->hottest.model);
  t->hottest =
      (Hottest){g_strdup(m->address), g_strdup(m->name), g_strdup(s->model), s->temp_max_c};
}

void
am_http_summary_add(AmHttpSummary *t, const AmHttpMiner *m)
{
  t->total++;
  if (m->state >= 0)
    t->by_state[m->state]++;
  if (miner_is_stale(m, &t->clock))
    t->stale++;
  const AmSample *s = m->sample;
  if (s == NULL || (m->state != AM_HTTP_STATE_ONLINE && m->state != AM_HTTP_STATE_DEGRADED))
    return;
  add_to_algo(t, s);
  if (isfinite(s->power_w)) {
    t->power_w += s->power_w;
    t->with_power++;
    t->power_estimated |= s->power_source == AM_POWER_SOURCE_ESTIMATED;
  }
  note_if_hottest(t, m);
}

static void
add_algo_json(JsonBuilder *b, const char *name, const AlgoTotals *a)
{
  json_builder_begin_object(b);
  add_string_or_null(b, "algorithm", name);
  add_int(b, "miners", a->miners);
  add_double_or_null(b, "hashrate_ths", a->hashrate_ths);
  add_double_or_null(b, "hashrate_ideal_ths", a->with_ideal > 0 ? a->ideal_ths : NAN);
  add_double_or_null(b, "power_w", a->power_w);
  add_double_or_null(b, "efficiency_jth",
                     a->eff_hashrate_ths > 0 ? a->eff_power_w / a->eff_hashrate_ths : NAN);
  json_builder_end_object(b);
}

static void
add_counts_json(JsonBuilder *b, const FleetTotals *t, guint total)
{
  json_builder_set_member_name(b, "miners");
  json_builder_begin_object(b);
  add_int(b, "total", total);
  for (guint s = 0; s < AM_HTTP_N_STATES; s++)
    add_int(b, am_http_state_to_string(s), t->by_state[s]);
  add_int(b, "stale", t->stale);
  json_builder_end_object(b);
}

static void
add_hottest_json(JsonBuilder *b, const Hottest *h)
{
  json_builder_set_member_name(b, "hottest");
  if (h->address == NULL) {
    json_builder_add_null_value(b);
    return;
  }
  json_builder_begin_object(b);
  add_string_or_null(b, "address", h->address);
  add_string_or_null(b, "name", h->name);
  add_string_or_null(b, "model", h->model);
  add_double_or_null(b, "temp_max_c", h->temp_max_c);
  json_builder_end_object(b);
}

/* The headline numbers are Bitcoin's (sha256d): adding TH/s of different
 * algorithms would be meaningless, so the others are listed apart. */
static void
add_headline_json(JsonBuilder *b, const FleetTotals *t)
{
  AlgoTotals none = {0};
  const AlgoTotals *btc = g_hash_table_lookup(t->algos, "sha256d");
  btc = btc != NULL ? btc : &none;
  add_double_or_null(b, "hashrate_ths", btc->hashrate_ths);
  add_double_or_null(b, "hashrate_ideal_ths", btc->with_ideal > 0 ? btc->ideal_ths : NAN);
  /* Only miners that state an ideal count here, so one firmware that does
   * not cannot make the fleet look 150 % efficient. */
  add_double_or_null(b, "hashrate_ideal_ratio",
                     btc->with_ideal > 0 ? btc->hashrate_with_ideal_ths / btc->ideal_ths : NAN);
  add_double_or_null(b, "power_w", t->with_power > 0 ? t->power_w : NAN);
  json_builder_set_member_name(b, "power_estimated");
  json_builder_add_boolean_value(b, t->power_estimated);
  add_double_or_null(b, "efficiency_jth",
                     btc->eff_hashrate_ths > 0 ? btc->eff_power_w / btc->eff_hashrate_ths : NAN);
}

static void
add_algorithms_json(JsonBuilder *b, const FleetTotals *t)
{
  g_autoptr(GList) names = g_hash_table_get_keys(t->algos);
  names = g_list_sort(names, (GCompareFunc)g_strcmp0);
  json_builder_set_member_name(b, "algorithms");
  json_builder_begin_array(b);
  for (GList *l = names; l != NULL; l = l->next)
    add_algo_json(b, l->data, g_hash_table_lookup(t->algos, l->data));
  json_builder_end_array(b);
}

AmHttpSummary *
am_http_summary_new(const AmHttpClock *clock)
{
  AmHttpSummary *t = g_new0(AmHttpSummary, 1);
  t->clock = *clock;
  t->algos = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return t;
}

JsonNode *
am_http_summary_finish(AmHttpSummary *t)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree char *now = am_time_to_iso8601(t->clock.now_us);
  json_builder_begin_object(b);
  add_string_or_null(b, "time", now);
  add_int(b, "stale_after_s", t->clock.stale_after_us / G_USEC_PER_SEC);
  add_counts_json(b, t, t->total);
  add_headline_json(b, t);
  add_algorithms_json(b, t);
  add_hottest_json(b, &t->hottest);
  json_builder_end_object(b);
  g_hash_table_unref(t->algos);
  g_free(t->hottest.address);
  g_free(t->hottest.name);
  g_free(t->hottest.model);
  g_free(t);
  return json_builder_get_root(b);
}

JsonNode *
am_http_summary_json(GPtrArray *miners, const AmHttpClock *clock)
{
  AmHttpSummary *t = am_http_summary_new(clock);
  for (guint i = 0; i < miners->len; i++)
    am_http_summary_add(t, miners->pdata[i]);
  return am_http_summary_finish(t);
}

/* ---- store rows ------------------------------------------------------------------ */

char *
am_http_epoch_node_to_iso8601(JsonNode *node)
{
  if (node == NULL || JSON_NODE_TYPE(node) != JSON_NODE_VALUE)
    return NULL;
  double seconds = NAN;
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_INT64)
    seconds = (double)json_node_get_int(node);
  else if (type == G_TYPE_DOUBLE)
    seconds = json_node_get_double(node);
  else if (type == G_TYPE_STRING) {
    gint64 parsed = 0;
    if (am_http_parse_time("time", json_node_get_string(node), &parsed, NULL))
      seconds = (double)parsed;
  }
  /* Refuse what GDateTime cannot show rather than print nonsense. */
  if (!isfinite(seconds) || seconds < 0 || seconds > 253402300799.0)
    return NULL;
  return am_time_to_iso8601((gint64)floor(seconds) * G_USEC_PER_SEC);
}

/* An action event's detail is the action as compact JSON text: served as
 * the object itself, so clients read detail.action rather than parse a
 * string. Text that is not a JSON object is left as it is. */
static JsonNode *
action_detail(JsonNode *detail)
{
  if (detail == NULL || JSON_NODE_TYPE(detail) != JSON_NODE_VALUE ||
      json_node_get_value_type(detail) != G_TYPE_STRING)
    return NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (!json_parser_load_from_data(parser, json_node_get_string(detail), -1, NULL) ||
      json_parser_get_root(parser) == NULL || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    return NULL;
  return json_node_copy(json_parser_get_root(parser));
}

static JsonNode *
row_to_api(JsonNode *row)
{
  if (!JSON_NODE_HOLDS_OBJECT(row))
    return json_node_copy(row);
  JsonObject *in = json_node_get_object(row);
  JsonObject *out = json_object_new();
  JsonObjectIter it;
  const char *name;
  JsonNode *value, *parsed = NULL;
  json_object_iter_init(&it, in);
  while (json_object_iter_next(&it, &name, &value)) {
    if (g_str_equal(name, "time")) {
      char *iso = am_http_epoch_node_to_iso8601(value);
      if (iso != NULL)
        json_object_set_string_member(out, name, iso);
      else
        json_object_set_null_member(out, name);
      g_free(iso);
    } else if (g_str_equal(name, "detail") &&
               g_strcmp0(am_json_string(in, "kind"), "action") == 0 &&
               (parsed = action_detail(value)) != NULL) {
      json_object_set_member(out, name, parsed);
    } else {
      json_object_set_member(out, name, json_node_copy(value));
    }
  }
  return am_http_object_node(out);
}

JsonNode *
am_http_store_rows_to_api(JsonNode *reply, GError **error)
{
  JsonObject *in =
      reply != NULL && JSON_NODE_HOLDS_OBJECT(reply) ? json_node_get_object(reply) : NULL;
  JsonArray *rows = in != NULL ? am_json_array(in, "rows") : NULL;
  if (rows == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "the store's reply has no \"rows\" array");
    return NULL;
  }
  JsonObject *out = json_object_new();
  JsonArray *out_rows = json_array_sized_new(json_array_get_length(rows));
  for (guint i = 0; i < json_array_get_length(rows); i++)
    json_array_add_element(out_rows, row_to_api(json_array_get_element(rows, i)));
  json_object_set_array_member(out, "rows", out_rows);
  JsonNode *cursor = json_object_get_member(in, "next_cursor");
  if (cursor != NULL && JSON_NODE_HOLDS_VALUE(cursor) &&
      json_node_get_value_type(cursor) == G_TYPE_STRING)
    json_object_set_string_member(out, "next_cursor", json_node_get_string(cursor));
  else
    json_object_set_null_member(out, "next_cursor");
  const char *resolution = am_json_string(in, "resolution");
  if (resolution != NULL)
    json_object_set_string_member(out, "resolution", resolution);
  return am_http_object_node(out);
}
