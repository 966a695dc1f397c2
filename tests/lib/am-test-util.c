/* Helpers shared by the test programs. */
#include "am-test-util.h"

char *
am_test_path(const char *relpath)
{
  return g_test_build_filename(G_TEST_DIST, relpath, NULL);
}

GBytes *
am_test_fixture_bytes(const char *relpath)
{
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "fixtures", relpath, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &data, &len, &error))
    g_error("fixture %s: %s", path, error->message);
  GByteArray *bytes = g_byte_array_sized_new(len + 1);
  g_byte_array_append(bytes, (const guint8 *)data, len);
  g_byte_array_append(bytes, (const guint8 *)"", 1); /* the socket's trailing NUL */
  return g_byte_array_free_to_bytes(bytes);
}

JsonObject *
am_test_fixture_object(const char *relpath)
{
  g_autoptr(GBytes) bytes = am_test_fixture_bytes(relpath);
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  g_autoptr(GError) error = NULL;
  JsonNode *root = am_rpc_parse(data, len, &error);
  if (root == NULL)
    g_error("fixture %s does not parse: %s", relpath, error->message);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
  JsonObject *obj = json_object_ref(json_node_get_object(root));
  json_node_unref(root);
  return obj;
}
