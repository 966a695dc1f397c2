/* The selector's HTTP fingerprint: which port it asks, how it reads the
 * realm of a 401 challenge and the title of a page, and how the installed
 * drivers rank a miner that only its web server answered for. (The whole
 * path, `antmon query` against a digest-auth web server, is in
 * test-query.c.) */
#include "am-context-private.h"
#include "am-instances.h"
#include "am-plugin-loader.h"
#include "am-selector.h"
#include "am-test-util.h"

#include <string.h>

static void
test_http_port(void)
{
  /* The RPC default means "the stock unit": its web server is on 80. */
  g_assert_cmpuint(am_selector_http_port(4028), ==, 80);
  /* Any other port is the way in the user named. */
  g_assert_cmpuint(am_selector_http_port(80), ==, 80);
  g_assert_cmpuint(am_selector_http_port(8080), ==, 8080);
  g_assert_cmpuint(am_selector_http_port(4029), ==, 4029);
}

static void
test_realm(void)
{
  static const struct {
    const char *header, *realm;
  } cases[] = {
      /* lighttpd on a stock Antminer (as pyasic matches it) */
      {"Digest realm=\"antMiner Configuration\", nonce=\"5f1d\", qop=\"auth\"",
       "antMiner Configuration"},
      {"Basic realm=\"blackMiner Configuration\"", "blackMiner Configuration"},
      /* two challenges joined by the header list; the first realm wins */
      {"Basic realm=\"one\", Digest realm=\"two\", nonce=\"x\"", "one"},
      /* spacing, case and escapes */
      {"Digest  REALM = \"a \\\"quoted\\\" realm\"", "a \"quoted\" realm"},
      {"Basic realm=bare, charset=\"UTF-8\"", "bare"},
      {"Digest realm=\"\"", ""},
      /* not a realm parameter */
      {"Digest nonce=\"realm=x\"", NULL},
      {"Digest myrealm=\"x\"", NULL},
      {"Bearer", NULL},
      {"", NULL},
      {NULL, NULL},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *realm = am_http_auth_realm(cases[i].header);
    if (g_strcmp0(realm, cases[i].realm) != 0)
      g_error("realm of '%s': expected '%s', got '%s'", cases[i].header, cases[i].realm, realm);
  }
}

static void
test_title(void)
{
  static const struct {
    const char *page, *title;
  } cases[] = {
      {"<html><head><title>Braiins OS</title></head>", "Braiins OS"},
      {"<HTML><HEAD>\n<TITLE>\n   Miner   Web\n Dashboard </TITLE>", "Miner Web Dashboard"},
      {"<title lang=\"en\">AxeOS</title>", "AxeOS"},
      {"<title></title>", NULL},
      {"<titles>no</titles>", NULL},
      {"<title>never closed", NULL},
      {"no markup at all", NULL},
      {"", NULL},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *title = am_html_title(cases[i].page, strlen(cases[i].page));
    if (g_strcmp0(title, cases[i].title) != 0)
      g_error("title of '%s': expected '%s', got '%s'", cases[i].page, cases[i].title, title);
  }
  /* Only the bytes given count, and a long title is cut to a label. */
  const char *page = "<title>cut</title>";
  g_assert_null(am_html_title(page, 10));
  g_autoptr(GString) long_page = g_string_new("<title>");
  for (guint i = 0; i < 1000; i++)
    g_string_append_c(long_page, 'x');
  g_string_append(long_page, "</title>");
  g_autofree char *title = am_html_title(long_page->str, long_page->len);
  g_assert_cmpuint(strlen(title), ==, 200);
  /* Bytes that are not UTF-8 never reach the fingerprint. */
  const char bad[] = "<title>caf\xe9</title>";
  g_autofree char *fixed = am_html_title(bad, sizeof bad - 1);
  g_assert_true(g_utf8_validate(fixed, -1, NULL));
}

/* A v3 frame: 4-byte little-endian length, then a JSON object with "code". */
static GByteArray *
frame(const char *json, gint32 length_delta)
{
  GByteArray *f = g_byte_array_new();
  guint32 len = (guint32)((gint32)strlen(json) + length_delta);
  guint8 head[4] = {len & 0xff, len >> 8 & 0xff, len >> 16 & 0xff, len >> 24 & 0xff};
  g_byte_array_append(f, head, 4);
  g_byte_array_append(f, (const guint8 *)json, (guint)strlen(json));
  return f;
}

static void
test_v3_reply(void)
{
  static const struct {
    const char *json;
    gint32 delta;
    gboolean valid;
  } cases[] = {
      {"{\"code\":0,\"when\":1733390000,\"msg\":{\"miner\":{}}}", 0, TRUE},
      {"{\"code\":-1,\"msg\":\"invalid cmd\"}", 0, TRUE},
      /* Length and body disagree: not one frame. */
      {"{\"code\":0}", 1, FALSE},
      {"{\"code\":0}", -1, FALSE},
      /* JSON, but not a v3 reply. */
      {"{\"STATUS\":[{\"STATUS\":\"S\"}]}", 0, FALSE},
      {"[1,2]", 0, FALSE},
      {"HTTP/1.1 400 Bad Request", 0, FALSE},
      {"", 0, FALSE},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GByteArray) f = frame(cases[i].json, cases[i].delta);
    if (am_v3_reply_is_valid(f->data, f->len) != cases[i].valid)
      g_error("case %u (%s): expected %d", i, cases[i].json, cases[i].valid);
  }
  g_assert_false(am_v3_reply_is_valid(NULL, 0));
  g_assert_false(am_v3_reply_is_valid((const guint8 *)"{\"c", 3));
}

/* Every driver built in this tree, created with its defaults. */
static AmInstances *
all_drivers(AmPluginSet **plugins, AmContext **ctx)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  char *dirs[] = {(char *)dir, NULL};
  *plugins = am_plugin_set_load(dirs);
  *ctx = am_context_new(".", NULL);
  AmInstances *instances = am_instances_new();
  am_instances_create_kind(instances, *plugins, AM_PLUGIN_KIND_DRIVER, *ctx, NULL, NULL);
  return instances;
}

/* A miner whose RPC port gave nothing: only the web server's answer. */
static void
test_rank_web_only(void)
{
  AmPluginSet *plugins = NULL;
  AmContext *ctx = NULL;
  AmInstances *instances = all_drivers(&plugins, &ctx);
  g_autoptr(GPtrArray) drivers = am_instances_of_kind(instances, AM_PLUGIN_KIND_DRIVER);
  g_assert_cmpuint(drivers->len, >=, 2);

  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint), .host = "127.0.0.1", .port = 4028};
  fp.http_open = TRUE;
  fp.http_status = 401;
  fp.http_realm = "antMiner Configuration";
  g_autoptr(GPtrArray) ranked = am_selector_rank(drivers, &fp);
  g_assert_cmpuint(ranked->len, >=, 1);
  AmInstance *first = ranked->pdata[0];
  g_assert_cmpstr(first->info->name, ==, "antminer-web");
  /* The cgminer fallback needs an RPC port; it is not asked. */
  for (guint i = 0; i < ranked->len; i++)
    g_assert_cmpstr(((AmInstance *)ranked->pdata[i])->info->name, !=, "generic");

  /* Another vendor's realm is not antminer-web's. */
  fp.http_realm = "blackMiner Configuration";
  g_autoptr(GPtrArray) other = am_selector_rank(drivers, &fp);
  for (guint i = 0; i < other->len; i++)
    g_assert_cmpstr(((AmInstance *)other->pdata[i])->info->name, !=, "antminer-web");

  /* Nothing answered at all: no driver has anything to go on. */
  AmFingerprint silent = {.struct_size = sizeof(AmFingerprint), .host = "127.0.0.1", .port = 4028};
  g_autoptr(GPtrArray) none = am_selector_rank(drivers, &silent);
  g_assert_cmpuint(none->len, ==, 0);

  am_instances_free(instances);
  am_context_free(ctx);
  am_plugin_set_free(plugins);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/selector/http-port", test_http_port);
  g_test_add_func("/selector/realm", test_realm);
  g_test_add_func("/selector/title", test_title);
  g_test_add_func("/selector/v3-reply", test_v3_reply);
  g_test_add_func("/selector/rank/web-only", test_rank_web_only);
  return g_test_run();
}
