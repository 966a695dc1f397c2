/* Helpers the fake's own tests share (see fm-test-util.h). */
#include "fm-test-util.h"

#include <stdlib.h>

void
fm_test_net_pick(FmTestNet *net)
{
  net->octet = (guint)g_random_int_range(1, 250);
  net->port = (guint16)g_random_int_range(20000, 60000);
  net->http_port = (guint16)(net->port + 3);
  net->v3_port = (guint16)(net->port + 4);
  net->web_port = (guint16)(net->port + 5);
}

/* The first group of @pattern in @text; the test fails without one. */
static char *
match_group(const char *pattern, const char *text)
{
  g_autoptr(GRegex) re = g_regex_new(pattern, 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  if (!g_regex_match(re, text, 0, &match))
    g_error("no %s in %s", pattern, text);
  return g_match_info_fetch(match, 1);
}

char *
fm_test_digest_header(const char *challenge, const char *user, const char *password,
                      const char *method, const char *uri)
{
  g_autofree char *realm = match_group("realm=\"([^\"]*)\"", challenge);
  g_autofree char *nonce = match_group("nonce=\"([^\"]*)\"", challenge);
  g_autofree char *a1 = g_strdup_printf("%s:%s:%s", user, realm, password);
  g_autofree char *a2 = g_strdup_printf("%s:%s", method, uri);
  g_autofree char *ha1 = g_compute_checksum_for_string(G_CHECKSUM_MD5, a1, -1);
  g_autofree char *ha2 = g_compute_checksum_for_string(G_CHECKSUM_MD5, a2, -1);
  g_autofree char *all = g_strdup_printf("%s:%s:00000001:0a4f113b:auth:%s", ha1, nonce, ha2);
  g_autofree char *response = g_compute_checksum_for_string(G_CHECKSUM_MD5, all, -1);
  return g_strdup_printf("Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
                         "uri=\"%s\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
                         "response=\"%s\", algorithm=MD5\r\n",
                         user, realm, nonce, uri, response);
}

JsonNode *
fm_test_json_at(const char *text, const char *path)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  json_parser_load_from_data(parser, text, -1, &error);
  g_assert_no_error(error);
  JsonNode *node = json_parser_get_root(parser);
  g_auto(GStrv) parts = g_strsplit(path, "/", -1);
  for (gsize i = 0; parts[i] != NULL && parts[i][0] != '\0'; i++) {
    if (JSON_NODE_HOLDS_ARRAY(node))
      node = json_array_get_element(json_node_get_array(node), (guint)atoi(parts[i]));
    else if (JSON_NODE_HOLDS_OBJECT(node))
      node = json_object_get_member(json_node_get_object(node), parts[i]);
    else
      node = NULL;
    if (node == NULL)
      g_error("no %s in %.300s", path, text);
  }
  return json_node_copy(node);
}
