/* HTTP routes of one profile section, with conditions on the parameters.
 *
 *   GET /api/system/info                 any query string, any body
 *   GET /mcb/cgminer?cgminercmd=devs     only with that query parameter
 *   POST /user/userpanel post=4          "post" is 4 in the query, the form
 *                                        body or the JSON object body
 *   POST /summary command=summary        a JSON body {"command":"summary"}
 *
 * Firmware that multiplexes one path on a parameter (Iceriver's userpanel,
 * Auradine's {"command":...}) gets one route per value. When several
 * routes of a "METHOD /path" match, the one with the most conditions wins,
 * so a route without any is the fallback.
 */
#include "am-fakeminer.h"
#include <string.h>

typedef struct {
  char *key;   /* the route as written: the template's key */
  GStrv names; /* conditions: names[i] must be values[i] */
  GStrv values;
} Route;

struct _AmFmRoutes {
  GHashTable *by_path; /* "METHOD /path" -> GPtrArray of Route */
};

static void
route_free(gpointer data)
{
  Route *route = data;
  g_free(route->key);
  g_strfreev(route->names);
  g_strfreev(route->values);
  g_free(route);
}

AmFmRoutes *
am_fm_routes_new(void)
{
  AmFmRoutes *routes = g_new0(AmFmRoutes, 1);
  routes->by_path =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  return routes;
}

void
am_fm_routes_free(AmFmRoutes *routes)
{
  if (routes == NULL)
    return;
  g_hash_table_unref(routes->by_path);
  g_free(routes);
}

/* "a=1" -> names/values; FALSE without an '=' or with an empty name. */
static gboolean
add_condition(GStrvBuilder *names, GStrvBuilder *values, const char *pair)
{
  const char *eq = strchr(pair, '=');
  if (eq == NULL || eq == pair)
    return FALSE;
  g_autofree char *name = g_uri_unescape_segment(pair, eq, NULL);
  g_autofree char *value = g_uri_unescape_string(eq + 1, NULL);
  if (name == NULL || value == NULL)
    return FALSE;
  g_strv_builder_add(names, name);
  g_strv_builder_add(values, value);
  return TRUE;
}

gboolean
am_fm_routes_add(AmFmRoutes *routes, const char *key, GError **error)
{
  g_auto(GStrv) words = g_strsplit(key, " ", -1);
  gboolean ok = g_strv_length(words) >= 2 && words[0][0] != '\0' && words[1][0] == '/';
  for (const char *p = words[0]; ok && *p != '\0'; p++)
    ok = g_ascii_isupper(*p);
  g_autoptr(GStrvBuilder) names = g_strv_builder_new();
  g_autoptr(GStrvBuilder) values = g_strv_builder_new();
  char *query = ok ? strchr(words[1], '?') : NULL;
  if (query != NULL) {
    *query++ = '\0';
    g_auto(GStrv) pairs = g_strsplit(query, "&", -1);
    for (gsize i = 0; ok && pairs[i] != NULL; i++)
      ok = add_condition(names, values, pairs[i]);
  }
  for (gsize i = 2; ok && words[i] != NULL; i++)
    ok = add_condition(names, values, words[i]);
  if (!ok) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE,
                "'%s': expected 'METHOD /path[?name=value&...] [name=value ...]=FILE'", key);
    return FALSE;
  }
  Route *route = g_new0(Route, 1);
  route->key = g_strdup(key);
  route->names = g_strv_builder_end(names);
  route->values = g_strv_builder_end(values);
  g_autofree char *base = g_strconcat(words[0], " ", words[1], NULL);
  GPtrArray *list = g_hash_table_lookup(routes->by_path, base);
  if (list == NULL) {
    list = g_ptr_array_new_with_free_func(route_free);
    g_hash_table_insert(routes->by_path, g_steal_pointer(&base), list);
  }
  g_ptr_array_add(list, route);
  return TRUE;
}

static gboolean
route_matches(const Route *route, GHashTable *params)
{
  for (gsize i = 0; route->names[i] != NULL; i++) {
    const char *got = params != NULL ? g_hash_table_lookup(params, route->names[i]) : NULL;
    if (g_strcmp0(got, route->values[i]) != 0)
      return FALSE;
  }
  return TRUE;
}

const char *
am_fm_routes_match(AmFmRoutes *routes, const char *method, const char *path, GHashTable *params)
{
  g_autofree char *base = g_strconcat(method, " ", path, NULL);
  GPtrArray *list = g_hash_table_lookup(routes->by_path, base);
  const Route *best = NULL;
  for (guint i = 0; list != NULL && i < list->len; i++) {
    const Route *route = list->pdata[i];
    if (route_matches(route, params) &&
        (best == NULL || g_strv_length(route->names) > g_strv_length(best->names)))
      best = route;
  }
  return best != NULL ? best->key : NULL;
}
