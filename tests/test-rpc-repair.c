/* The firmware JSON repairs, parsing and the STATUS check, on the recorded
 * replies that show each defect and on synthetic inputs for the rest. */
#include "am-test-util.h"
#include <string.h>

/* Parses @text (without the NUL a socket adds) and returns the root object,
 * asserting success. */
static JsonObject *
parse_ok(const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = am_rpc_parse(text, strlen(text), &error);
  g_assert_no_error(error);
  g_assert_nonnull(root);
  return json_object_ref(json_node_get_object(root));
}

/* Asserts that @len bytes of @data fail with @code and returns the message. */
static char *
parse_fails(const char *data, gsize len, gint code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = am_rpc_parse(data, len, &error);
  g_assert_null(root);
  g_assert_error(error, AM_ERROR, code);
  return g_strdup(error->message);
}

static gboolean
strict_parse_works(GBytes *bytes)
{
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  g_autoptr(JsonParser) parser = json_parser_new();
  return json_parser_load_from_data(parser, data, (gssize)len - 1, NULL);
}

static JsonObject *
stats_data_block(JsonObject *root)
{
  return am_json_array_find_with_key(am_json_array(root, "STATS"), "GHS 5s");
}

/* ---- the recorded replies ---- */

static void
test_fixture_bmminer_missing_comma(void)
{
  /* S9 stats: the version block and the data block are joined by "}{". */
  g_autoptr(GBytes) bytes = am_test_fixture_bytes("bmminer/s9_stats.json");
  g_assert_false(strict_parse_works(bytes));

  g_autoptr(JsonObject) root = am_test_fixture_object("bmminer/s9_stats.json");
  JsonArray *stats = am_json_array(root, "STATS");
  g_assert_cmpuint(json_array_get_length(stats), ==, 2);
  g_assert_cmpstr(am_json_string(am_json_array_object(stats, 0), "Type"), ==,
                  "Antminer S9\nV1.3.58");
  JsonObject *data = stats_data_block(root);
  g_assert_nonnull(data);
  g_assert_cmpstr(am_json_string(data, "GHS 5s"), ==, "13883.81");
  g_assert_cmpint(am_json_int(data, "temp2_7", 0), ==, -83);
  g_assert_true(am_rpc_check_status(root, NULL));
}

static void
test_fixture_every_missing_comma(void)
{
  /* The other firmware with the same defect, each read after the repair. */
  static const struct {
    const char *file;
    const char *ghs_5s;
  } cases[] = {
      {"cgminer/l3plus_stats.json", "504.56"},
      {"hiveon/s9_stats.json", "11781.40"},
      {"vnish/s9-3.8.6_stats.json", "12795.48"},
      {"cgminer/z11-chipless_stats.json", "145474.39"},
      {"cgminer/d3-blissz_stats.json", "16346.64"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(JsonObject) root = am_test_fixture_object(cases[i].file);
    g_assert_cmpuint(json_array_get_length(am_json_array(root, "STATS")), ==, 2);
    JsonObject *data = stats_data_block(root);
    g_assert_nonnull(data);
    g_assert_cmpstr(am_json_string(data, "GHS 5s"), ==, cases[i].ghs_5s);
  }
}

static void
test_fixture_raw_newline(void)
{
  /* A raw newline between POOLS elements; the pool after it must be there. */
  g_autoptr(JsonObject) root = am_test_fixture_object("cgminer/d3-blissz_pools.json");
  JsonArray *pools = am_json_array(root, "POOLS");
  g_assert_cmpuint(json_array_get_length(pools), ==, 5);
  JsonObject *pool3 = am_json_array_object(pools, 3);
  g_assert_cmpstr(am_json_string(pool3, "URL"), ==, "stratum+tcp://dash.suprnova.cc:9991");
  g_assert_cmpint(am_json_int(pool3, "Priority", 0), ==, 9998);
}

static void
test_fixture_pretty_printed(void)
{
  g_autoptr(JsonObject) root = am_test_fixture_object("avalon/avalon7xx_summary.json");
  JsonObject *summary = am_json_array_object(am_json_array(root, "SUMMARY"), 0);
  g_assert_cmpfloat_with_epsilon(am_json_double(summary, "MHS 5s"), 52126282.15, 1e-3);
  g_assert_cmpint(am_json_int(summary, "Elapsed", 0), ==, 118);
  g_assert_true(am_rpc_check_status(root, NULL));
}

static void
test_fixture_access_denied(void)
{
  g_autoptr(JsonObject) root =
      am_test_fixture_object("hiveon/s19jpro_devdetails-access-denied.json");
  g_autoptr(GError) error = NULL;
  g_assert_false(am_rpc_check_status(root, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_cmpstr(error->message, ==, "API error 45: Access denied to 'devdetails' command");
}

static void
test_fixture_status_layouts(void)
{
  /* Whatsminer: STATUS is a string and Msg an object; it says S. */
  g_autoptr(JsonObject) wm = am_test_fixture_object("btminer/unknown-model_status.json");
  g_assert_true(am_rpc_check_status(wm, NULL));
  /* The new CGI layout: STATUS is an object with a lowercase "when". */
  g_autoptr(JsonObject) cgi = am_test_fixture_object("http-cgi/s23hyd_summary.json");
  g_assert_true(am_rpc_check_status(cgi, NULL));
  /* No STATUS at all (a CGI info page) passes. */
  g_autoptr(JsonObject) info = am_test_fixture_object("http-cgi/antminer-d3_get_network_info.json");
  g_assert_true(am_rpc_check_status(info, NULL));
}

static void
collect_json_files(const char *dir, GPtrArray *out)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_DIR))
      collect_json_files(path, out);
    else if (g_str_has_suffix(name, ".json"))
      g_ptr_array_add(out, g_steal_pointer(&path));
  }
}

static void
test_every_fixture_parses(void)
{
  g_autofree char *root_dir = am_test_path("fixtures");
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  collect_json_files(root_dir, files);
  g_assert_cmpuint(files->len, >=, 40);

  guint api_errors = 0;
  for (guint i = 0; i < files->len; i++) {
    const char *rel = (const char *)files->pdata[i] + strlen(root_dir) + 1;
    /* A REST API may answer a list (Proto's /errors with none is "[]"): valid
     * JSON, but no RPC reply, so not this test's business. */
    g_autoptr(JsonParser) strict = json_parser_new();
    if (json_parser_load_from_file(strict, files->pdata[i], NULL) &&
        JSON_NODE_HOLDS_ARRAY(json_parser_get_root(strict)))
      continue;
    g_autoptr(JsonObject) root = am_test_fixture_object(rel); /* asserts it parses */
    g_assert_cmpuint(json_object_get_size(root), >, 0);
    g_autoptr(GError) error = NULL;
    if (!am_rpc_check_status(root, &error)) {
      g_assert_error(error, AM_ERROR, AM_ERROR_API);
      g_assert_nonnull(strstr(rel, "access-denied"));
      api_errors++;
    }
  }
  g_assert_cmpuint(api_errors, ==, 1);
}

static void
test_repair_keeps_valid_json(void)
{
  /* The repairs only ever fix what is broken: on every fixture that is valid
   * JSON already, the repaired text means exactly the same. */
  g_autofree char *root_dir = am_test_path("fixtures");
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  collect_json_files(root_dir, files);
  guint compared = 0;
  for (guint i = 0; i < files->len; i++) {
    g_autofree char *text = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(files->pdata[i], &text, &len, NULL));
    g_autoptr(JsonParser) strict = json_parser_new();
    if (!json_parser_load_from_data(strict, text, (gssize)len, NULL))
      continue;
    gsize fixed_len = 0;
    g_autofree char *fixed = am_rpc_repair(text, len, &fixed_len);
    g_autoptr(JsonParser) again = json_parser_new();
    g_assert_true(json_parser_load_from_data(again, fixed, (gssize)fixed_len, NULL));
    g_assert_true(json_node_equal(json_parser_get_root(strict), json_parser_get_root(again)));
    compared++;
  }
  g_assert_cmpuint(compared, >=, 30);
}

static void
test_every_truncation_keeps_status(void)
{
  /* Cut the S9 stats reply after its STATUS section, inside every kind of
   * token: each cut still parses, and the STATUS survives. (Every third byte
   * keeps this quick under ASan; the token kinds repeat far more often.) */
  g_autoptr(GBytes) bytes = am_test_fixture_bytes("bmminer/s9_stats.json");
  gsize len = 0;
  const char *data = g_bytes_get_data(bytes, &len);
  const char *after_status = strstr(data, "}],");
  g_assert_nonnull(after_status);
  for (gsize cut = (after_status - data) + 2; cut < len; cut += 3) {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) root = am_rpc_parse(data, cut, &error);
    g_assert_no_error(error);
    JsonObject *obj = json_node_get_object(root);
    JsonObject *status = am_json_array_object(am_json_array(obj, "STATUS"), 0);
    g_assert_cmpstr(am_json_string(status, "Msg"), ==, "BMMiner stats");
    g_assert_true(am_rpc_check_status(obj, NULL));
  }
}

/* ---- rules no fixture shows ---- */

static void
test_trailing_commas(void)
{
  g_autoptr(JsonObject) o =
      parse_ok("{\"STATUS\":[{\"STATUS\":\"S\",}],\"DEVS\":[1,2,],\"id\":1,}");
  g_assert_cmpint(am_json_int(o, "id", 0), ==, 1);
  g_assert_cmpuint(json_array_get_length(am_json_array(o, "DEVS")), ==, 2);
  g_assert_cmpstr(am_json_string(am_json_array_object(am_json_array(o, "STATUS"), 0), "STATUS"), ==,
                  "S");
}

static void
test_stray_leading_comma_in_array(void)
{
  g_autoptr(JsonObject) o = parse_ok("{\"STATS\":[,{\"a\":1},{\"b\":2}],\"id\":1}");
  JsonArray *stats = am_json_array(o, "STATS");
  g_assert_cmpuint(json_array_get_length(stats), ==, 2);
  g_assert_cmpint(am_json_int(am_json_array_object(stats, 1), "b", 0), ==, 2);
}

static void
test_missing_comma_between_strings(void)
{
  /* btminer 2023-01-06: '"Msg":"ok""temp0":..' */
  g_autoptr(JsonObject) o = parse_ok("{\"Msg\":\"ok\"\"temp0\":61,\"empty\":\"\"\"temp1\":62}");
  g_assert_cmpstr(am_json_string(o, "Msg"), ==, "ok");
  g_assert_cmpint(am_json_int(o, "temp0", 0), ==, 61);
  g_assert_cmpstr(am_json_string(o, "empty"), ==, "");
  g_assert_cmpint(am_json_int(o, "temp1", 0), ==, 62);
}

static void
test_inf_and_nan(void)
{
  g_autoptr(JsonObject) o = parse_ok(
      "{\"a\":inf,\"b\":-inf,\"c\":nan,\"d\":\"inf\",\"e\":\"nan\",\"f\":[NaN,1.5],\"inf\":2}");
  const char *keys[] = {"a", "b", "c", "d", "e"};
  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
    JsonNode *node = json_object_get_member(o, keys[i]);
    g_assert_nonnull(node);
    g_assert_cmpint(json_node_get_value_type(node), ==, G_TYPE_INT64);
    g_assert_cmpint(json_node_get_int(node), ==, 0);
  }
  JsonArray *f = am_json_array(o, "f");
  g_assert_cmpint(json_array_get_int_element(f, 0), ==, 0);
  g_assert_cmpfloat(json_array_get_double_element(f, 1), ==, 1.5);
  /* A key named "inf" is a key, not a value. */
  g_assert_cmpint(am_json_int(o, "inf", 0), ==, 2);
}

static void
test_quoted_nan_in_valid_json_kept(void)
{
  /* Valid JSON is never repaired, so a string that says "nan" stays one. */
  g_autoptr(JsonObject) o = parse_ok("{\"mode\":\"nan\",\"x\":1}");
  g_assert_cmpstr(am_json_string(o, "mode"), ==, "nan");
}

static void
test_leading_comma(void)
{
  g_autoptr(JsonObject) o = parse_ok(",\"id\":1}");
  g_assert_cmpint(am_json_int(o, "id", 0), ==, 1);
  g_assert_cmpuint(json_object_get_size(o), ==, 1);
}

static void
test_truncated_tail(void)
{
  static const struct {
    const char *input;
    const char *expect; /* the repaired text */
  } cases[] = {
      /* btminer's overflowing error list: cut inside a string. */
      {"{\"STATUS\":\"S\",\"Msg\":{\"error_code\":[\"a\",\"b\",\"c", NULL},
      /* cut inside a number: "12" may have been "1234", so it goes */
      {"{\"a\":1,\"b\":[{\"c\":2},{\"d\":12", "{\"a\":1,\"b\":[{\"c\":2}]}"},
      /* cut inside a key */
      {"{\"a\":1,\"b\":{\"x\":true,\"y", "{\"a\":1,\"b\":{\"x\":true}}"},
      /* cut after a colon or a comma */
      {"{\"a\":[1,2],\"b\":", "{\"a\":[1,2]}"},
      {"{\"a\":[1,2],", "{\"a\":[1,2]}"},
      /* nothing complete but the root's brace */
      {"{\"STAT", "{}"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    gsize len = 0;
    g_autofree char *fixed = am_rpc_repair(cases[i].input, strlen(cases[i].input), &len);
    g_assert_cmpuint(len, ==, strlen(fixed));
    if (cases[i].expect != NULL)
      g_assert_cmpstr(fixed, ==, cases[i].expect);
    g_autoptr(JsonObject) o = parse_ok(cases[i].input);
    g_assert_nonnull(o);
  }

  g_autoptr(JsonObject) o = parse_ok(cases[0].input);
  JsonArray *codes = am_json_array(am_json_object(o, "Msg"), "error_code");
  g_assert_cmpuint(json_array_get_length(codes), ==, 2);
  g_assert_cmpstr(json_array_get_string_element(codes, 1), ==, "b");
  g_assert_cmpstr(am_json_string(o, "STATUS"), ==, "S");
}

static void
test_newlines_removed_outside_strings(void)
{
  const char *input = "{\"a\":\r\n1,\n\"b\":\"x\ny\"\n,\"c\":[1\n,2]";
  gsize len = 0;
  g_autofree char *fixed = am_rpc_repair(input, strlen(input), &len);
  g_assert_cmpstr(fixed, ==, "{\"a\":1,\"b\":\"x\ny\",\"c\":[1,2]}");
}

static void
test_banner_is_api_error(void)
{
  const char banner[] = "Socket connect failed: Connection refused\n";
  g_autofree char *msg = parse_fails(banner, sizeof banner, AM_ERROR_API);
  g_assert_nonnull(strstr(msg, "Socket connect failed: Connection refused"));
}

static void
test_nul_in_the_middle(void)
{
  /* Everything after the first NUL is not part of the reply. */
  const char data[] = "{\"id\":7}\0{garbage after the terminator";
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = am_rpc_parse(data, sizeof data - 1, &error);
  g_assert_no_error(error);
  g_assert_cmpint(am_json_int(json_node_get_object(root), "id", 0), ==, 7);

  gsize len = 0;
  g_autofree char *fixed = am_rpc_repair(data, sizeof data - 1, &len);
  g_assert_cmpstr(fixed, ==, "{\"id\":7}");
}

static void
test_brackets_inside_strings_untouched(void)
{
  /* Valid JSON: the strict parse takes it, nothing is rewritten. */
  g_autoptr(JsonObject) valid = parse_ok("{\"Msg\":\"a}{b ,} [,{ inf\",\"id\":1}");
  g_assert_cmpstr(am_json_string(valid, "Msg"), ==, "a}{b ,} [,{ inf");

  /* Invalid elsewhere: the repair runs but leaves the string alone. */
  g_autoptr(JsonObject) fixed =
      parse_ok("{\"Msg\":\"a}{b ,} [,{ \\\"inf\",\"L\":[{\"a\":1}{\"b\":2}],}");
  g_assert_cmpstr(am_json_string(fixed, "Msg"), ==, "a}{b ,} [,{ \"inf");
  g_assert_cmpuint(json_array_get_length(am_json_array(fixed, "L")), ==, 2);
}

static void
test_empty_input(void)
{
  g_autofree char *a = parse_fails("", 0, AM_ERROR_PARSE);
  g_autofree char *b = parse_fails("\0", 1, AM_ERROR_PARSE);
  g_autofree char *c = parse_fails(" \r\n", 3, AM_ERROR_PARSE);
  g_assert_cmpstr(a, ==, "empty reply");
  g_assert_cmpstr(c, ==, "empty reply");
}

static void
test_garbage_quotes_first_bytes(void)
{
  const char *html = "<html><head><title>401 Unauthorized</title></head><body>"
                     "This server could not verify that you are authorized</body></html>";
  g_autofree char *msg = parse_fails(html, strlen(html), AM_ERROR_PARSE);
  /* The first 64 bytes are quoted, the rest is not. */
  g_autofree char *first = g_strndup(html, 64);
  g_assert_nonnull(strstr(msg, first));
  g_assert_null(strstr(msg, "authorized</body>"));
  g_assert_nonnull(strstr(msg, "..."));

  /* Binary garbage is escaped so the message stays printable UTF-8. */
  const char binary[] = "\x01\xff\xfe{\"";
  g_autofree char *bin = parse_fails(binary, sizeof binary - 1, AM_ERROR_PARSE);
  g_assert_true(g_utf8_validate(bin, -1, NULL));
  g_assert_nonnull(strstr(bin, "\\001\\377\\376{\\\""));
}

static void
test_not_an_object(void)
{
  g_autofree char *a = parse_fails("[1,2]", 5, AM_ERROR_PARSE);
  g_autofree char *b = parse_fails("\"STATUS\"", 8, AM_ERROR_PARSE);
  g_autofree char *c = parse_fails("42", 2, AM_ERROR_PARSE);
  g_assert_nonnull(strstr(a, "[1,2]"));
}

static void
test_invalid_utf8_replaced(void)
{
  /* A Latin-1 degree sign inside a string. */
  const char data[] = "{\"Unit\":\"\xb0"
                      "C\",\"Temp\":61}";
  g_autoptr(JsonObject) o = parse_ok(data);
  g_assert_cmpint(am_json_int(o, "Temp", 0), ==, 61);
  g_assert_cmpstr(am_json_string(o, "Unit"), ==,
                  "\xef\xbf\xbd"
                  "C");
}

static void
test_deep_nesting_refused(void)
{
  /* json-glib recurses per level: a hostile reply must not blow the stack. */
  gsize n = 200000;
  g_autofree char *deep = g_malloc(2 * n);
  memset(deep, '[', n);
  memset(deep + n, ']', n);
  g_autofree char *msg = parse_fails(deep, 2 * n, AM_ERROR_PARSE);
  g_autofree char *open = g_strnfill(n, '{');
  g_autofree char *msg2 = parse_fails(open, n, AM_ERROR_PARSE);
  g_assert_nonnull(msg2);
}

/* ---- STATUS ---- */

static void
check_status_fails(const char *text, const char *expect)
{
  g_autoptr(JsonObject) o = parse_ok(text);
  g_autoptr(GError) error = NULL;
  g_assert_false(am_rpc_check_status(o, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_cmpstr(error->message, ==, expect);
}

static void
test_status_letters(void)
{
  const char *pass[] = {"S", "I", "W"};
  for (gsize i = 0; i < G_N_ELEMENTS(pass); i++) {
    g_autofree char *text =
        g_strdup_printf("{\"STATUS\":[{\"STATUS\":\"%s\",\"Code\":1,\"Msg\":\"m\"}]}", pass[i]);
    g_autoptr(JsonObject) o = parse_ok(text);
    g_assert_true(am_rpc_check_status(o, NULL));
  }
  check_status_fails("{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":14,\"Msg\":\"Invalid command\"}]}",
                     "API error 14: Invalid command");
  check_status_fails("{\"STATUS\":[{\"STATUS\":\"F\",\"Code\":\"7\",\"Msg\":\"Fatal\"}]}",
                     "API error 7: Fatal");
  check_status_fails("{\"STATUS\":[{\"STATUS\":\"E\"}]}", "API error: no message");
}

static void
test_status_other_layouts(void)
{
  /* CGI object layout with lowercase keys. */
  check_status_fails("{\"STATUS\":{\"status\":\"E\",\"code\":401,\"msg\":\"login\"}}",
                     "API error 401: login");
  check_status_fails("{\"status\":{\"STATUS\":\"E\",\"Code\":3,\"Msg\":\"no\"}}",
                     "API error 3: no");
  /* Whatsminer: STATUS a string at the top, Msg an object. */
  check_status_fails("{\"STATUS\":\"E\",\"Code\":132,\"Msg\":{\"error\":\"invalid\"}}",
                     "API error 132: {\"error\":\"invalid\"}");
  /* Missing or odd STATUS passes: nothing says it failed. */
  const char *pass[] = {"{\"id\":1}", "{\"STATUS\":[]}", "{\"STATUS\":[7]}", "{\"STATUS\":5}",
                        "{\"STATUS\":[{\"Code\":1}]}"};
  for (gsize i = 0; i < G_N_ELEMENTS(pass); i++) {
    g_autoptr(JsonObject) o = parse_ok(pass[i]);
    g_assert_true(am_rpc_check_status(o, NULL));
  }
}

static void
test_status_long_message_cut(void)
{
  g_autofree char *msg = g_strnfill(1000, 'x');
  g_autofree char *text =
      g_strdup_printf("{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":1,\"Msg\":\"%s\"}]}", msg);
  g_autoptr(JsonObject) o = parse_ok(text);
  g_autoptr(GError) error = NULL;
  g_assert_false(am_rpc_check_status(o, &error));
  g_assert_cmpuint(strlen(error->message), <, 300);
  g_assert_true(g_str_has_suffix(error->message, "..."));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rpc-repair/fixture/bmminer-missing-comma", test_fixture_bmminer_missing_comma);
  g_test_add_func("/rpc-repair/fixture/every-missing-comma", test_fixture_every_missing_comma);
  g_test_add_func("/rpc-repair/fixture/raw-newline", test_fixture_raw_newline);
  g_test_add_func("/rpc-repair/fixture/pretty-printed", test_fixture_pretty_printed);
  g_test_add_func("/rpc-repair/fixture/access-denied", test_fixture_access_denied);
  g_test_add_func("/rpc-repair/fixture/status-layouts", test_fixture_status_layouts);
  g_test_add_func("/rpc-repair/fixture/every-file-parses", test_every_fixture_parses);
  g_test_add_func("/rpc-repair/fixture/repair-keeps-valid-json", test_repair_keeps_valid_json);
  g_test_add_func("/rpc-repair/fixture/every-truncation", test_every_truncation_keeps_status);
  g_test_add_func("/rpc-repair/trailing-commas", test_trailing_commas);
  g_test_add_func("/rpc-repair/stray-comma-in-array", test_stray_leading_comma_in_array);
  g_test_add_func("/rpc-repair/missing-comma-between-strings", test_missing_comma_between_strings);
  g_test_add_func("/rpc-repair/inf-and-nan", test_inf_and_nan);
  g_test_add_func("/rpc-repair/quoted-nan-in-valid-json", test_quoted_nan_in_valid_json_kept);
  g_test_add_func("/rpc-repair/leading-comma", test_leading_comma);
  g_test_add_func("/rpc-repair/truncated-tail", test_truncated_tail);
  g_test_add_func("/rpc-repair/newlines-outside-strings", test_newlines_removed_outside_strings);
  g_test_add_func("/rpc-repair/banner", test_banner_is_api_error);
  g_test_add_func("/rpc-repair/nul-in-the-middle", test_nul_in_the_middle);
  g_test_add_func("/rpc-repair/brackets-inside-strings", test_brackets_inside_strings_untouched);
  g_test_add_func("/rpc-repair/empty", test_empty_input);
  g_test_add_func("/rpc-repair/garbage", test_garbage_quotes_first_bytes);
  g_test_add_func("/rpc-repair/not-an-object", test_not_an_object);
  g_test_add_func("/rpc-repair/invalid-utf8", test_invalid_utf8_replaced);
  g_test_add_func("/rpc-repair/deep-nesting", test_deep_nesting_refused);
  g_test_add_func("/rpc-repair/status/letters", test_status_letters);
  g_test_add_func("/rpc-repair/status/other-layouts", test_status_other_layouts);
  g_test_add_func("/rpc-repair/status/long-message", test_status_long_message_cut);
  return g_test_run();
}
