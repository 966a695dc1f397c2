/* Test helpers for the driver parsers; see am-driver-test-util.h. */
#include "am-driver-test-util.h"

#include "am-cgminer-common.h"
#include "am-test-util.h"

#include <string.h>

void
am_test_fingerprint_init(AmFingerprint *fp, JsonObject *reply)
{
  *fp = (AmFingerprint){.struct_size = sizeof(AmFingerprint)};
  fp->host = "127.0.0.1";
  fp->port = AM_RPC_DEFAULT_PORT;
  fp->rpc_open = TRUE;
  fp->version_reply = reply;
  fp->version = am_cgminer_section(reply, "VERSION");
  fp->description = am_json_string(am_cgminer_section(reply, "STATUS"), "Description");
}

static gint
str_cmp(gconstpointer a, gconstpointer b)
{
  return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

GPtrArray *
am_test_version_fixtures(void)
{
  g_autofree char *root = am_test_path("fixtures");
  g_autoptr(GDir) dir = g_dir_open(root, 0, NULL);
  g_assert_nonnull(dir);
  GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
  const char *firmware;
  while ((firmware = g_dir_read_name(dir)) != NULL) {
    g_autofree char *sub = g_build_filename(root, firmware, NULL);
    g_autoptr(GDir) files = g_dir_open(sub, 0, NULL);
    const char *name;
    while (files != NULL && (name = g_dir_read_name(files)) != NULL)
      if (strstr(name, "_version") != NULL && g_str_has_suffix(name, ".json"))
        g_ptr_array_add(found, g_build_filename(firmware, name, NULL));
  }
  g_ptr_array_sort(found, str_cmp);
  return found;
}

JsonObject *
am_test_object_from_string(const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_data(parser, json, -1, &error))
    g_error("hand-made reply does not parse: %s", error->message);
  JsonNode *root = json_parser_get_root(parser);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
  return json_object_ref(json_node_get_object(root));
}

void
am_test_assert_doubles(GArray *values, const double *expected, guint n_expected)
{
  g_assert_cmpuint(values->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpfloat_with_epsilon(g_array_index(values, double, i), expected[i], 1e-9);
}

void
am_test_assert_pool(const AmPool *pool, const char *url, const char *user, const char *status,
                    gint priority, gint64 accepted, gint64 rejected, gint64 stale, gboolean active)
{
  g_assert_nonnull(pool);
  g_assert_cmpstr(pool->url, ==, url);
  g_assert_cmpstr(pool->user, ==, user);
  g_assert_cmpstr(pool->status, ==, status);
  g_assert_cmpint(pool->priority, ==, priority);
  g_assert_cmpint(pool->accepted, ==, accepted);
  g_assert_cmpint(pool->rejected, ==, rejected);
  g_assert_cmpint(pool->stale, ==, stale);
  g_assert_cmpint(pool->active, ==, active);
}

JsonNode *
am_test_extra(AmSample *sample, const char *name)
{
  JsonNode *node = json_object_get_member(sample->extras, name);
  if (node == NULL)
    g_error("extra %s is missing", name);
  return node;
}

guint16
am_test_soup_listen_loopback(SoupServer *server)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GError) error = NULL;
  soup_server_listen(server, address, 0, &error);
  g_assert_no_error(error);
  GSList *uris = soup_server_get_uris(server);
  g_assert_nonnull(uris);
  guint16 port = (guint16)g_uri_get_port(uris->data);
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  return port;
}

void
am_test_soup_stop(SoupServer *server, GPtrArray *paused)
{
  for (guint i = 0; i < paused->len; i++) {
    soup_server_message_set_status(paused->pdata[i], SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
    soup_server_message_unpause(paused->pdata[i]);
  }
  soup_server_disconnect(server);
  g_object_unref(server);
  g_ptr_array_unref(paused);
}
