/* Firmware drift: a firmware update that renames one field must not turn a
 * hashing miner offline, nor make any other reading wrong.
 *
 * For every recorded poll of every driver (drift.h: the sets), and for
 * every field at every depth of every reply, one at a time: the field is
 * deleted, then renamed ("<key>_x"), and the replies go to the driver's
 * pure parser. A field is a key at one path, array indices aside: a
 * firmware that renames "Temperature" renames it for every board, so the
 * mutation does too (deleting it from one board of three would test a
 * reply no firmware sends, and flag every max or sum over boards). The parser must still give a
 * sample (unless the key is the one the driver documents as required: then a clear AM_ERROR), and
 * every field of that sample's JSON form must equal the unmutated sample's, or be unknown (null,
 * absent, empty, false). A lost key may make a reading unknown, never wrong.
 *
 * Mutations known to break the property are listed, with why, in
 * known-failures.txt next to this file: they are reported (TAP "not ok #
 * TODO", which does not fail the run) instead of failing, and one that
 * starts to pass is reported too, so the list shrinks. Any other failure
 * fails the test. */
#include "drift.h"

#include "am-test-util.h"

#include <math.h>
#include <string.h>

typedef enum { OP_DELETE, OP_RENAME } DriftOp;

static const char *const op_names[] = {"delete", "rename"};

/* tests/drift/known-failures.txt: "<driver>/<set> <op> <file> <field>" of
 * each mutation known to break the property, one a line, '#' comments. */
static GPtrArray *known_failures;

static void
load_known_failures(void)
{
  g_autofree char *path = am_test_path("drift/known-failures.txt");
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, NULL, &error))
    g_error("%s", error->message);
  known_failures = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && lines[i][0] != '#')
      g_ptr_array_add(known_failures, g_strdup(lines[i]));
}

/* ---- loading ------------------------------------------------------------ */

JsonObject *
am_drift_object(JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

JsonArray *
am_drift_array(JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

/* A fixture as its driver's test reads it: strict JSON (the web APIs),
 * else through the cgminer repairs (the RPC replies need some). */
static JsonNode *
load_fixture(const char *relpath)
{
  g_autoptr(GBytes) bytes = am_test_fixture_bytes(relpath);
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  /* am_test_fixture_bytes() appends the NUL a miner socket sends. */
  if (json_parser_load_from_data(parser, data, len > 0 ? (gssize)len - 1 : 0, NULL))
    return json_node_ref(json_parser_get_root(parser));
  g_autoptr(GError) error = NULL;
  JsonNode *root = am_rpc_parse(data, len, &error);
  if (root == NULL)
    g_error("fixture %s does not parse: %s", relpath, error->message);
  return root;
}

/* ---- mutations ---------------------------------------------------------- */

/* A field is a key at a path whose array indices are all written "[]"
 * ("STATS/[]/chain_rate1" stands for STATS/0/chain_rate1, STATS/1/...):
 * a firmware that renames a field renames it in every board, pool and
 * sensor it reports, so one mutation changes every occurrence of it. */
static void
collect_fields(JsonNode *node, const char *prefix, GPtrArray *fields, GHashTable *seen)
{
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    g_autofree char *path = g_strdup_printf("%s%s[]", prefix, *prefix ? "/" : "");
    JsonArray *array = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(array); i++)
      collect_fields(json_array_get_element(array, i), path, fields, seen);
    return;
  }
  if (!JSON_NODE_HOLDS_OBJECT(node))
    return;
  JsonObjectIter iter;
  const char *key;
  JsonNode *member;
  json_object_iter_init(&iter, json_node_get_object(node));
  while (json_object_iter_next(&iter, &key, &member)) {
    g_autofree char *path = g_strdup_printf("%s%s%s", prefix, *prefix ? "/" : "", key);
    if (!g_hash_table_contains(seen, path)) {
      g_ptr_array_add(fields, g_strdup(path));
      g_hash_table_add(seen, fields->pdata[fields->len - 1]);
    }
    collect_fields(member, path, fields, seen);
  }
}

/* Returns: (transfer full) the fields of @node in first-seen order. */
static GPtrArray *
list_fields(JsonNode *node)
{
  GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal); /* in @fields */
  collect_fields(node, "", fields, seen);
  return fields;
}

static void
apply(JsonObject *obj, const char *key, DriftOp op)
{
  if (op == OP_DELETE) {
    json_object_remove_member(obj, key);
    return;
  }
  g_autofree char *renamed = g_strconcat(key, "_x", NULL);
  JsonNode *value = json_node_ref(json_object_get_member(obj, key));
  json_object_remove_member(obj, key);
  json_object_set_member(obj, renamed, value);
}

/* Applies @op to every occurrence of @field under @node (whose own path is
 * @prefix). Returns how many keys it changed. */
static guint
mutate(JsonNode *node, const char *prefix, const char *field, DriftOp op)
{
  guint n = 0;
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    g_autofree char *path = g_strdup_printf("%s%s[]", prefix, *prefix ? "/" : "");
    JsonArray *array = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(array); i++)
      n += mutate(json_array_get_element(array, i), path, field, op);
    return n;
  }
  if (!JSON_NODE_HOLDS_OBJECT(node))
    return 0;
  JsonObject *obj = json_node_get_object(node);
  g_autoptr(GList) members = json_object_get_members(obj);
  for (GList *l = members; l != NULL; l = l->next) {
    g_autofree char *path = g_strdup_printf("%s%s%s", prefix, *prefix ? "/" : "", (char *)l->data);
    if (g_str_equal(path, field)) {
      apply(obj, l->data, op);
      n++;
    } else if (g_str_has_prefix(field, path) && field[strlen(path)] == '/') {
      n += mutate(json_object_get_member(obj, l->data), path, field, op);
    }
  }
  return n;
}

/* ---- the property ------------------------------------------------------- */

/* Unknown in the sample's JSON form: null, "", [], {} or false. */
static gboolean
is_unknown(JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL(node))
    return TRUE;
  if (JSON_NODE_HOLDS_ARRAY(node))
    return json_array_get_length(json_node_get_array(node)) == 0;
  if (JSON_NODE_HOLDS_OBJECT(node))
    return json_object_get_size(json_node_get_object(node)) == 0;
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_STRING)
    return *json_node_get_string(node) == '\0';
  if (type == G_TYPE_BOOLEAN)
    return !json_node_get_boolean(node);
  return FALSE;
}

static gboolean same_value(JsonNode *base, JsonNode *mut);

static gboolean compatible(JsonNode *base, JsonNode *mut, GString *why, const char *where);

/* Every member of @mut compatible with @base's. */
static gboolean
compatible_object(JsonObject *base, JsonObject *mut, GString *why, const char *where)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *member;
  json_object_iter_init(&iter, mut);
  while (json_object_iter_next(&iter, &key, &member)) {
    g_autofree char *at = g_strdup_printf("%s%s%s", where, *where ? "." : "", key);
    JsonNode *was = json_object_has_member(base, key) ? json_object_get_member(base, key) : NULL;
    if (!compatible(was, member, why, at))
      return FALSE;
  }
  return TRUE;
}

/* @mut's elements are a subsequence of @base's, each compatible with the
 * one it stands for: a lost key may drop a board or a pool, never add one. */
static gboolean
compatible_array(JsonArray *base, JsonArray *mut, GString *why, const char *where)
{
  guint b = 0;
  for (guint m = 0; m < json_array_get_length(mut); m++) {
    JsonNode *element = json_array_get_element(mut, m);
    g_autoptr(GString) ignored = g_string_new(NULL);
    while (b < json_array_get_length(base) &&
           !compatible(json_array_get_element(base, b), element, ignored, ""))
      b++;
    if (b == json_array_get_length(base)) {
      g_autofree char *text = json_to_string(element, FALSE);
      g_string_append_printf(why, "%s[%u] = %s is not in the baseline", where, m, text);
      return FALSE;
    }
    b++;
  }
  return TRUE;
}

static gboolean
compatible(JsonNode *base, JsonNode *mut, GString *why, const char *where)
{
  if (is_unknown(mut))
    return TRUE;
  if (base != NULL && JSON_NODE_TYPE(base) == JSON_NODE_TYPE(mut)) {
    if (JSON_NODE_HOLDS_OBJECT(mut))
      return compatible_object(json_node_get_object(base), json_node_get_object(mut), why, where);
    if (JSON_NODE_HOLDS_ARRAY(mut))
      return compatible_array(json_node_get_array(base), json_node_get_array(mut), why, where);
    if (same_value(base, mut))
      return TRUE;
  }
  g_autofree char *was = base != NULL ? json_to_string(base, FALSE) : g_strdup("absent");
  g_autofree char *now = json_to_string(mut, FALSE);
  g_string_append_printf(why, "%s: %s became %s", where, was, now);
  return FALSE;
}

static gboolean
same_value(JsonNode *base, JsonNode *mut)
{
  GType bt = json_node_get_value_type(base);
  GType mt = json_node_get_value_type(mut);
  gboolean b_num = bt == G_TYPE_INT64 || bt == G_TYPE_DOUBLE;
  gboolean m_num = mt == G_TYPE_INT64 || mt == G_TYPE_DOUBLE;
  if (b_num && m_num) {
    double x = json_node_get_double(base);
    double y = json_node_get_double(mut);
    return x == y || fabs(x - y) <= 1e-9 * fmax(fabs(x), fabs(y));
  }
  if (bt != mt)
    return FALSE;
  if (bt == G_TYPE_STRING)
    return g_strcmp0(json_node_get_string(base), json_node_get_string(mut)) == 0;
  if (bt == G_TYPE_BOOLEAN)
    return json_node_get_boolean(base) == json_node_get_boolean(mut);
  return FALSE;
}

/* The sample's JSON form without what differs on purpose: the clock, and
 * the problems and partial flag that report the loss. */
static JsonNode *
sample_json(const AmSample *sample)
{
  JsonNode *node = am_sample_to_json(sample);
  JsonObject *obj = json_node_get_object(node);
  const char *volatile_keys[] = {"when", "problems", "status", "partial"};
  for (guint i = 0; i < G_N_ELEMENTS(volatile_keys); i++)
    json_object_remove_member(obj, volatile_keys[i]);
  /* A driver's own list of what was partial (x_whatsminer_partial) reports
   * the loss too. */
  JsonObject *extras = json_object_get_object_member(obj, "extras");
  g_autoptr(GList) names = json_object_get_members(extras);
  for (GList *l = names; l != NULL; l = l->next)
    if (g_str_has_suffix(l->data, "_partial"))
      json_object_remove_member(extras, l->data);
  return node;
}

/* ---- running one set ---------------------------------------------------- */

typedef struct {
  const AmDriftSet *set;
  JsonNode *replies[AM_DRIFT_MAX_SLOTS];
  char *texts[AM_DRIFT_MAX_SLOTS]; /* each reply serialised, to copy it */
  JsonNode *baseline;
  guint mutations;
  GPtrArray *failures; /* char*: "<key of known_failures>: <why>" */
} DriftRun;

static gboolean
is_required(const AmDriftSet *set, guint slot, const char *path)
{
  g_autofree char *key = g_strdup_printf("%u:%s", slot, path);
  for (guint i = 0; i < G_N_ELEMENTS(set->required) && set->required[i] != NULL; i++)
    if (g_str_equal(set->required[i], key))
      return TRUE;
  return FALSE;
}

/* Runs the parser once with @slot's reply mutated; records a failure. */
static void
check_one(DriftRun *run, guint slot, const char *field, DriftOp op)
{
  const AmDriftSet *set = run->set;
  g_autoptr(JsonNode) copy = json_from_string(run->texts[slot], NULL);
  if (mutate(copy, "", field, op) == 0)
    g_error("%s: no key %s", set->files[slot], field);

  JsonNode *replies[AM_DRIFT_MAX_SLOTS];
  memcpy(replies, run->replies, sizeof replies);
  replies[slot] = copy;
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) sample = set->parse(replies, &error);
  run->mutations++;

  g_autofree char *id = g_strdup_printf("%s/%s %s %s %s", set->driver, set->name, op_names[op],
                                        set->files[slot], field);
  g_autoptr(GString) why = g_string_new(NULL);
  if (sample == NULL) {
    /* The one documented required key may fail the poll, clearly. */
    if (is_required(set, slot, field) && error != NULL && error->domain == AM_ERROR &&
        error->message != NULL && *error->message != '\0')
      return;
    g_string_printf(why, "no sample: %s", error != NULL ? error->message : "(no error set)");
  } else {
    g_autoptr(JsonNode) got = sample_json(sample);
    if (compatible(run->baseline, got, why, ""))
      return;
  }
  g_ptr_array_add(run->failures, g_strdup_printf("%s: %s", id, why->str));
}

static gboolean
is_known(const char *failure)
{
  for (guint i = 0; i < known_failures->len; i++) {
    const char *known = known_failures->pdata[i];
    if (g_str_has_prefix(failure, known) && g_str_has_prefix(failure + strlen(known), ": "))
      return TRUE;
  }
  return FALSE;
}

/* Each known failure of this set that no longer fails. */
static guint
report_fixed(const AmDriftSet *set, GPtrArray *failures)
{
  g_autofree char *prefix = g_strdup_printf("%s/%s ", set->driver, set->name);
  guint fixed = 0;
  for (guint i = 0; i < known_failures->len; i++) {
    const char *known = known_failures->pdata[i];
    if (!g_str_has_prefix(known, prefix))
      continue;
    gboolean seen = FALSE;
    for (guint j = 0; j < failures->len && !seen; j++)
      seen = g_str_has_prefix(failures->pdata[j], known);
    if (!seen) {
      g_test_message("known failure now passes (drop it from the list): %s", known);
      fixed++;
    }
  }
  return fixed;
}

static GHashTable *mutations_per_driver; /* driver -> guint */

static void
test_set(gconstpointer data)
{
  DriftRun run = {.set = data, .failures = g_ptr_array_new_with_free_func(g_free)};
  const AmDriftSet *set = run.set;

  for (guint slot = 0; slot < AM_DRIFT_MAX_SLOTS; slot++) {
    if (set->files[slot] == NULL)
      continue;
    run.replies[slot] = load_fixture(set->files[slot]);
    run.texts[slot] = json_to_string(run.replies[slot], FALSE);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) base = set->parse(run.replies, &error);
  g_assert_no_error(error);
  g_assert_nonnull(base);
  run.baseline = sample_json(base);

  for (guint slot = 0; slot < AM_DRIFT_MAX_SLOTS; slot++) {
    if (run.replies[slot] == NULL)
      continue;
    g_autoptr(GPtrArray) fields = list_fields(run.replies[slot]);
    for (guint i = 0; i < fields->len; i++) {
      check_one(&run, slot, fields->pdata[i], OP_DELETE);
      check_one(&run, slot, fields->pdata[i], OP_RENAME);
    }
  }

  guint unknown = 0, known = 0;
  for (guint i = 0; i < run.failures->len; i++) {
    const char *failure = run.failures->pdata[i];
    if (is_known(failure)) {
      g_test_message("known failure: %s", failure);
      known++;
    } else {
      g_printerr("# drift: %s\n", failure);
      unknown++;
    }
  }
  guint fixed = report_fixed(set, run.failures);
  g_test_message("%s/%s: %u mutations, %u known failures", set->driver, set->name, run.mutations,
                 known);
  guint *total = g_hash_table_lookup(mutations_per_driver, set->driver);
  if (total == NULL) {
    total = g_new0(guint, 1);
    g_hash_table_insert(mutations_per_driver, (gpointer)set->driver, total);
  }
  *total += run.mutations;

  for (guint slot = 0; slot < AM_DRIFT_MAX_SLOTS; slot++) {
    g_clear_pointer(&run.replies[slot], json_node_unref);
    g_free(run.texts[slot]);
  }
  json_node_unref(run.baseline);
  g_ptr_array_unref(run.failures);

  if (unknown > 0)
    g_test_fail_printf("%u mutation(s) broke the sample (listed above)", unknown);
  else if (known > 0 || fixed > 0)
    g_test_incomplete_printf("%u known failure(s), %u fixed since listed", known, fixed);
}

/* The number of mutations per driver, for the report. */
static void
test_report(void)
{
  g_autoptr(GList) drivers = g_hash_table_get_keys(mutations_per_driver);
  drivers = g_list_sort(drivers, (GCompareFunc)g_strcmp0);
  guint all = 0;
  for (GList *l = drivers; l != NULL; l = l->next) {
    guint n = *(guint *)g_hash_table_lookup(mutations_per_driver, l->data);
    g_test_message("%-16s %6u mutations", (const char *)l->data, n);
    all += n;
  }
  g_test_message("%-16s %6u mutations", "all", all);
  g_assert_cmpuint(all, >, 0);
}

static void
add_sets(const AmDriftSet *const *sets)
{
  for (guint i = 0; sets[i] != NULL; i++) {
    g_autofree char *path = g_strdup_printf("/drift/%s/%s", sets[i]->driver, sets[i]->name);
    g_test_add_data_func(path, sets[i], test_set);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  load_known_failures();
  mutations_per_driver = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  add_sets(am_drift_rpc_sets);
  add_sets(am_drift_web_sets);
  /* A suite of its own after /drift: GTest runs a suite's cases before
   * its child suites. */
  g_test_add_func("/drift-report/mutations-per-driver", test_report);
  int rc = g_test_run();
  g_hash_table_unref(mutations_per_driver);
  g_ptr_array_unref(known_failures);
  return rc;
}
