/* The dashboard's files from the compiled-in GResource. */
#include "am-http-static.h"

#include <string.h>

typedef struct {
  GBytes *data;
  const char *content_type;
  char *etag;
} Entry;

struct _AmHttpStatic {
  GResource *resource;
  char *prefix;
  GHashTable *entries; /* name -> Entry*: looked up once, then kept */
};

static void
entry_free(Entry *e)
{
  g_bytes_unref(e->data);
  g_free(e->etag);
  g_free(e);
}

AmHttpStatic *
am_http_static_new(GResource *resource, const char *prefix)
{
  AmHttpStatic *a = g_new0(AmHttpStatic, 1);
  a->resource = g_resource_ref(resource);
  a->prefix = g_strdup(prefix);
  a->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)entry_free);
  return a;
}

void
am_http_static_free(AmHttpStatic *a)
{
  if (a == NULL)
    return;
  g_hash_table_unref(a->entries);
  g_resource_unref(a->resource);
  g_free(a->prefix);
  g_free(a);
}

static const struct {
  const char *extension;
  const char *content_type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
};

static const char *
content_type_for(const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS(types); i++)
    if (g_str_has_suffix(name, types[i].extension))
      return types[i].content_type;
  return NULL;
}

/* One path segment of safe characters, not hidden: whatever else a client
 * sends ("..", "%2e", "a/b", NUL) cannot name a file. */
static gboolean
safe_name(const char *name)
{
  if (name[0] == '\0' || name[0] == '.' || strlen(name) > 64)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum(*p) && strchr("._-", *p) == NULL)
      return FALSE;
  return TRUE;
}

static Entry *
load_entry(AmHttpStatic *a, const char *name)
{
  const char *content_type = content_type_for(name);
  if (content_type == NULL)
    return NULL;
  g_autofree char *resource_path = g_strconcat(a->prefix, "/", name, NULL);
  GBytes *data =
      g_resource_lookup_data(a->resource, resource_path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (data == NULL)
    return NULL;
  Entry *e = g_new0(Entry, 1);
  e->data = data;
  e->content_type = content_type;
  g_autofree char *sum = g_compute_checksum_for_bytes(G_CHECKSUM_SHA256, data);
  e->etag = g_strdup_printf("\"%.20s\"", sum);
  g_hash_table_insert(a->entries, g_strdup(name), e);
  return e;
}

gboolean
am_http_static_lookup(AmHttpStatic *a, const char *path, AmHttpAsset *out)
{
  const char *name = NULL;
  if (g_str_equal(path, "/") || g_str_equal(path, "/index.html"))
    name = "index.html";
  else if (g_str_has_prefix(path, "/static/"))
    name = path + strlen("/static/");
  if (name == NULL || !safe_name(name))
    return FALSE;
  Entry *e = g_hash_table_lookup(a->entries, name);
  if (e == NULL)
    e = load_entry(a, name);
  if (e == NULL)
    return FALSE;
  *out = (AmHttpAsset){.data = e->data, .content_type = e->content_type, .etag = e->etag};
  return TRUE;
}
