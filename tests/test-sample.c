/* AmSample: bad readings dropped, summaries derived, unknowns printed as null. */
#include <antmon/antmon.h>
#include <math.h>

static JsonObject *
to_json(AmSample *s)
{
  JsonNode *node = am_sample_to_json(s);
  JsonObject *obj = json_object_ref(json_node_get_object(node));
  json_node_unref(node);
  return obj;
}

static void
test_unknown_is_null(void)
{
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_finish(s);
  g_autoptr(JsonObject) o = to_json(s);
  const char *nullable[] = {"hashrate_ths", "power_w", "power_source", "efficiency_jth",
                            "elapsed_s",    "model",   "temp_max_c",   "avg_fan_rpm",
                            "accepted",     "mac"};
  for (gsize i = 0; i < G_N_ELEMENTS(nullable); i++)
    g_assert_true(json_object_get_null_member(o, nullable[i]));
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(o, "temps_c")), ==, 0);
  g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "ok");
  g_assert_true(g_str_has_suffix(json_object_get_string_member(o, "when"), "Z"));
}

static void
test_bad_readings_dropped(void)
{
  g_autoptr(AmSample) s = am_sample_new();
  g_assert_true(am_sample_add_temp(s, 60));
  g_assert_false(am_sample_add_temp(s, 0));
  g_assert_false(am_sample_add_temp(s, -83));
  g_assert_false(am_sample_add_temp(s, 255));
  g_assert_true(am_sample_add_temp(s, 70));
  g_assert_true(am_sample_add_chip_temp(s, 85));
  g_assert_false(am_sample_add_fan(s, 0));
  g_assert_true(am_sample_add_fan(s, 6000));
  g_assert_true(am_sample_add_fan(s, 5000));
  am_sample_finish(s);
  g_assert_cmpuint(s->temps_c->len, ==, 2);
  g_assert_cmpfloat_with_epsilon(s->avg_temp_c, 65, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->temp_max_c, 85, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->avg_fan_rpm, 5500, 1e-9);
}

static void
test_derived(void)
{
  g_autoptr(AmSample) s = am_sample_new();
  am_sample_set(s, &s->driver, "test");
  AmChain *c = am_sample_add_chain(s, 6);
  c->hashrate_ths = 4.5;
  c = am_sample_add_chain(s, 7);
  c->hashrate_ths = 4.5;
  s->power_w = 900;
  s->power_source = AM_POWER_SOURCE_REPORTED;
  am_sample_set_extra(s, "frequency", json_node_init_int(json_node_alloc(), 650));
  am_sample_finish(s);
  g_assert_cmpfloat_with_epsilon(s->hashrate_ths, 9.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(s->efficiency_jth, 100.0, 1e-9);
  g_autoptr(JsonObject) o = to_json(s);
  g_assert_cmpstr(json_object_get_string_member(o, "power_source"), ==, "reported");
  JsonObject *extras = json_object_get_object_member(o, "extras");
  g_assert_cmpint(json_object_get_int_member(extras, "x_test_frequency"), ==, 650);
  JsonArray *chains = json_object_get_array_member(o, "chains");
  g_assert_cmpuint(json_array_get_length(chains), ==, 2);
  g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(chains, 0), "index"),
                  ==, 6);
}

static void
test_degraded_reasons(void)
{
  g_autoptr(AmSample) s = am_sample_new();
  s->chains_expected = 3;
  s->fans_expected = 2;
  AmChain *c = am_sample_add_chain(s, 1);
  c->chips = 60;
  c->chips_expected = 63;
  c->chips_failed = 2;
  am_sample_add_chain(s, 2);
  am_sample_add_fan(s, 6000);
  s->hashrate_ths = 7;
  s->hashrate_ideal_ths = 13.5;
  am_sample_finish(s);
  g_assert_cmpint(s->status, ==, AM_SAMPLE_STATUS_DEGRADED);
  g_assert_cmpuint(s->problems->len, ==, 5);
  g_assert_cmpstr(s->problems->pdata[0], ==, "2 of 3 chains present");
  g_assert_cmpstr(s->problems->pdata[1], ==, "chain 1: 2 failed chips");
  g_assert_cmpstr(s->problems->pdata[2], ==, "chain 1: 60 of 63 chips found");
  g_assert_cmpstr(s->problems->pdata[3], ==, "1 of 2 fans spinning");
  g_assert_cmpstr(s->problems->pdata[4], ==, "hashrate 52% of ideal");

  /* A hydro unit without fans is not degraded for it. */
  g_autoptr(AmSample) hydro = am_sample_new();
  hydro->liquid_cooled = TRUE;
  hydro->fans_expected = 4;
  am_sample_finish(hydro);
  g_assert_cmpint(hydro->status, ==, AM_SAMPLE_STATUS_OK);
}

static void
test_finish_idempotent(void)
{
  g_autoptr(AmSample) s = am_sample_new();
  s->chains_expected = 2;
  am_sample_finish(s);
  am_sample_finish(s);
  g_assert_cmpuint(s->problems->len, ==, 1);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sample/unknown-is-null", test_unknown_is_null);
  g_test_add_func("/sample/bad-readings-dropped", test_bad_readings_dropped);
  g_test_add_func("/sample/derived", test_derived);
  g_test_add_func("/sample/degraded-reasons", test_degraded_reasons);
  g_test_add_func("/sample/finish-idempotent", test_finish_idempotent);
  return g_test_run();
}
