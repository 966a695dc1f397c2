/* Each sample as JSON text, made once (see the header). */
#include "am-http-cache.h"
#include "am-http-json.h"

#include <math.h>

typedef struct {
  AmSample *sample; /* (owned ref) */
  char *json;       /* or NULL until asked for */
  char *brief;      /* or NULL until asked for */
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
  g_free(e->brief);
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

static Entry *
entry_for(AmHttpSampleCache *c, AmSample *sample)
{
  Entry *e = g_hash_table_lookup(c->entries, sample);
  if (e == NULL) {
    e = g_new0(Entry, 1);
    e->sample = am_sample_ref(sample);
    g_hash_table_insert(c->entries, sample, e);
  }
  e->used = TRUE;
  return e;
}

const char *
am_http_sample_cache_get(AmHttpSampleCache *c, AmSample *sample)
{
  Entry *e = entry_for(c, sample);
  if (e->json == NULL) {
    g_autoptr(JsonNode) node = am_sample_to_json(sample);
    e->json = json_to_string(node, FALSE);
  }
  return e->json;
}

static void
brief_double(GString *out, const char *name, double value)
{
  am_http_json_member(out, name, FALSE);
  am_http_json_double(out, value);
}

static void
brief_string(GString *out, const char *name, const char *value)
{
  am_http_json_member(out, name, FALSE);
  am_http_json_string(out, value);
}

static const char *
power_source_name(AmPowerSource source)
{
  return source == AM_POWER_SOURCE_REPORTED    ? "reported"
         : source == AM_POWER_SOURCE_ESTIMATED ? "estimated"
                                               : NULL;
}

/* What the fleet table shows, under the full form's key names. */
static char *
brief_json(const AmSample *s)
{
  GString *out = g_string_sized_new(512);
  g_string_append_c(out, '{');
  am_http_json_member(out, "when", TRUE);
  am_http_json_time(out, s->when_us);
  brief_string(out, "model", s->model);
  brief_string(out, "firmware", s->firmware);
  brief_string(out, "algorithm", s->algorithm);
  brief_double(out, "hashrate_ths", s->hashrate_ths);
  brief_double(out, "hashrate_ideal_ths", s->hashrate_ideal_ths);
  brief_double(out, "power_w", s->power_w);
  brief_string(out, "power_source", power_source_name(s->power_source));
  brief_double(out, "efficiency_jth", s->efficiency_jth);
  brief_double(out, "elapsed_s", s->elapsed_s >= 0 ? (double)s->elapsed_s : NAN);
  brief_double(out, "temp_max_c", s->temp_max_c);
  brief_double(out, "avg_fan_rpm", s->avg_fan_rpm);
  am_http_json_member(out, "fans_rpm", FALSE);
  g_string_append_c(out, '[');
  for (guint i = 0; s->fans_rpm != NULL && i < s->fans_rpm->len; i++) {
    if (i > 0)
      g_string_append_c(out, ',');
    am_http_json_double(out, g_array_index(s->fans_rpm, double, i));
  }
  g_string_append_c(out, ']');
  am_http_json_member(out, "liquid_cooled", FALSE);
  g_string_append(out, s->liquid_cooled ? "true" : "false");
  brief_string(out, "status", s->status == AM_SAMPLE_STATUS_DEGRADED ? "degraded" : "ok");
  g_string_append_c(out, '}');
  return g_string_free(out, FALSE);
}

const char *
am_http_sample_cache_get_brief(AmHttpSampleCache *c, AmSample *sample)
{
  Entry *e = entry_for(c, sample);
  if (e->brief == NULL)
    e->brief = brief_json(sample);
  return e->brief;
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
