/* Each sample as JSON text, made once (see the header). */
#include "am-http-cache.h"

typedef struct {
  AmSample *sample; /* (owned ref) */
  char *json;
  gboolean used;
} Entry;

struct _AmHttpSampleCache {
  GHashTable *entries; /* AmSample* -> Entry* */
};

static void
entry_free(Entry *e)
{
  am_sample_unref(e->sample);
  g_free(e->json);
  g_free(e);
}

AmHttpSampleCache *
am_http_sample_cache_new(void)
{
  AmHttpSampleCache *c = g_new0(AmHttpSampleCache, 1);
  c->entries =
    g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)entry_free);
  return c;
}

void
am_http_sample_cache_free(AmHttpSampleCache *c)
{
  if (c == NULL)
    return;
  g_hash_table_unref(c->entries);
  g_free(c);
}

const char *
am_http_sample_cache_get(AmHttpSampleCache *c, AmSample *sample)
{
  Entry *e = g_hash_table_lookup(c->entries, sample);
  if (e == NULL) {
    e = g_new0(Entry, 1);
    e->sample = am_sample_ref(sample);
    g_autoptr(JsonNode) node = am_sample_to_json(sample);
    e->json = json_to_string(node, FALSE);
    g_hash_table_insert(c->entries, sample, e);
  }
  e->used = TRUE;
  return e->json;
}

static gboolean
unused(gpointer key, gpointer value, gpointer user_data)
{
  Entry *e = value;
  gboolean drop = !e->used;
  e->used = FALSE;
  return drop;
}

void
am_http_sample_cache_sweep(AmHttpSampleCache *c)
{
  g_hash_table_foreach_remove(c->entries, unused, NULL);
}
