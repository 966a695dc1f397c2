/* libFuzzer harness: any bytes as a query string, then every value through
 * every parameter parser the API uses (times, limits, steps, cursors, miner
 * keys, sort keys, state filters) and the history request parser. Nothing
 * may crash, leak or read out of bounds. */
#include "am-http-params.h"

#include <stdint.h>

static void
parse_value(const char *text)
{
  gint64 t = 0;
  guint u = 0, mask = 0;
  gboolean desc = FALSE;
  AmHttpSortKey key;
  (void)am_http_parse_time("since", text, &t, NULL);
  (void)am_http_parse_limit("limit", text, 10000, &u, NULL);
  (void)am_http_parse_step("step", text, &u, NULL);
  (void)am_http_parse_cursor("cursor", text, NULL);
  (void)am_http_parse_miner_key("ip", text, NULL);
  (void)am_http_parse_sort("sort", text, &key, &desc, NULL);
  (void)am_http_parse_states("state", text, &mask, NULL);
  (void)am_http_parse_text("q", text, NULL);
}

static void
parse_history(GHashTable *query, const AmHttpHistorySpec *spec)
{
  AmHttpHistory h;
  const char *bad = NULL;
  g_autoptr(GError) error = NULL;
  if (am_http_history_parse(query, spec, 1732442400, &h, &bad, &error)) {
    GHashTable *params = am_http_history_to_store_params(&h);
    g_assert_nonnull(g_hash_table_lookup(params, "since"));
    g_hash_table_unref(params);
    am_http_history_clear(&h);
  } else {
    (void)am_http_param_error_code(bad, error);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  g_autoptr(GHashTable) query = am_http_query_parse(text, NULL);
  parse_value(text);
  if (query == NULL)
    return 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, query);
  while (g_hash_table_iter_next(&it, NULL, &value))
    parse_value(value);
  const AmHttpHistorySpec series = {.miner_param = "ip",
                                    .step = TRUE,
                                    .paged = TRUE,
                                    .default_limit = 1000,
                                    .max_limit = 10000,
                                    .default_span_s = 86400};
  const AmHttpHistorySpec events = {.miner_param = "miner",
                                    .paged = TRUE,
                                    .kind = TRUE,
                                    .default_limit = 1000,
                                    .max_limit = 10000,
                                    .default_span_s = 86400};
  parse_history(query, &series);
  parse_history(query, &events);
  return 0;
}
