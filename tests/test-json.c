/* Tolerant JSON lookups: numbers as strings, SI suffixes, dash lists, units. */
#include <antmon/antmon.h>
#include <math.h>

static JsonObject *
parse_object(const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, text, -1, NULL));
  return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static void
test_double_forms(void)
{
  g_autoptr(JsonObject) o = parse_object(
    "{\"num\":13.5,\"int\":7,\"str\":\"13883.81\",\"space\":\" 69.2461\",\"si\":\"65.5K\","
    "\"unit\":\"1600M\",\"word\":\"Alive\",\"null\":null,\"bool\":true,\"empty\":\"\"}");
  g_assert_cmpfloat_with_epsilon(am_json_double(o, "num"), 13.5, 1e-9);
  g_assert_cmpfloat_with_epsilon(am_json_double(o, "int"), 7, 1e-9);
  g_assert_cmpfloat_with_epsilon(am_json_double(o, "str"), 13883.81, 1e-9);
  g_assert_cmpfloat_with_epsilon(am_json_double(o, "space"), 69.2461, 1e-9);
  g_assert_cmpfloat_with_epsilon(am_json_double(o, "si"), 65500, 1e-6);
  g_assert_cmpfloat_with_epsilon(am_json_double(o, "unit"), 1.6e9, 1);
  g_assert_true(isnan(am_json_double(o, "word")));
  g_assert_true(isnan(am_json_double(o, "null")));
  g_assert_true(isnan(am_json_double(o, "bool")));
  g_assert_true(isnan(am_json_double(o, "empty")));
  g_assert_true(isnan(am_json_double(o, "absent")));
  g_assert_true(isnan(am_json_double(NULL, "num")));
}

static void
test_int_and_string(void)
{
  g_autoptr(JsonObject) o = parse_object(
    "{\"n\":42,\"s\":\"17\",\"f\":3.9,\"t\":\"Antminer S9\",\"a\":[1],\"o\":{}}");
  g_assert_cmpint(am_json_int(o, "n", -1), ==, 42);
  g_assert_cmpint(am_json_int(o, "s", -1), ==, 17);
  g_assert_cmpint(am_json_int(o, "f", -1), ==, 3);
  g_assert_cmpint(am_json_int(o, "t", -5), ==, -5);
  g_assert_cmpstr(am_json_string(o, "t"), ==, "Antminer S9");
  g_assert_null(am_json_string(o, "n"));
  g_assert_nonnull(am_json_array(o, "a"));
  g_assert_null(am_json_array(o, "o"));
  g_assert_nonnull(am_json_object(o, "o"));
}

static void
test_find_with_key(void)
{
  /* Antminer STATS: the version block first, the data block second. */
  g_autoptr(JsonObject) o = parse_object(
    "{\"STATS\":[{\"BMMiner\":\"2.0.0\"},{\"STATS\":0,\"GHS 5s\":\"1\"},7]}");
  JsonArray *stats = am_json_array(o, "STATS");
  JsonObject *data = am_json_array_find_with_key(stats, "GHS 5s");
  g_assert_nonnull(data);
  g_assert_cmpint(am_json_int(data, "STATS", -1), ==, 0);
  g_assert_null(am_json_array_find_with_key(stats, "nothing"));
  g_assert_null(am_json_array_object(stats, 2));
  g_assert_null(am_json_array_object(stats, 9));
}

static void
test_dash_list(void)
{
  double v[8];
  g_assert_cmpuint(am_parse_dash_list("38-48-47-52", v, 8), ==, 4);
  g_assert_cmpfloat(v[0], ==, 38);
  g_assert_cmpfloat(v[3], ==, 52);
  g_assert_cmpuint(am_parse_dash_list("2--1-20-22", v, 8), ==, 4);
  g_assert_cmpfloat(v[0], ==, 2);
  g_assert_cmpfloat(v[1], ==, -1);
  g_assert_cmpfloat(v[2], ==, 20);
  g_assert_cmpuint(am_parse_dash_list("-8--11-10-12", v, 8), ==, 4);
  g_assert_cmpfloat(v[0], ==, -8);
  g_assert_cmpfloat(v[1], ==, -11);
  g_assert_cmpfloat(v[3], ==, 12);
  g_assert_cmpuint(am_parse_dash_list("-", v, 8), ==, 0);
  g_assert_cmpuint(am_parse_dash_list("", v, 8), ==, 0);
  g_assert_cmpuint(am_parse_dash_list(NULL, v, 8), ==, 0);
  g_assert_cmpuint(am_parse_dash_list("1-2-3-4-5", v, 2), ==, 2);
  g_assert_cmpuint(am_parse_dash_list("12abc", v, 8), ==, 0);
}

static void
test_hashrate_units(void)
{
  g_assert_cmpfloat_with_epsilon(am_hashrate_to_ths(13883.81, "GH"), 13.88381, 1e-9);
  g_assert_cmpfloat_with_epsilon(am_hashrate_to_ths(504.56, "MH/s"), 0.00050456, 1e-12);
  g_assert_cmpfloat_with_epsilon(am_hashrate_to_ths(1, "ph"), 1000, 1e-9);
  g_assert_cmpfloat_with_epsilon(am_hashrate_to_ths(110, "TH/s"), 110, 1e-9);
  g_assert_true(isnan(am_hashrate_to_ths(1, "Sol")));
  g_assert_true(isnan(am_hashrate_to_ths(1, NULL)));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/json/double-forms", test_double_forms);
  g_test_add_func("/json/int-and-string", test_int_and_string);
  g_test_add_func("/json/find-with-key", test_find_with_key);
  g_test_add_func("/json/dash-list", test_dash_list);
  g_test_add_func("/json/hashrate-units", test_hashrate_units);
  return g_test_run();
}
