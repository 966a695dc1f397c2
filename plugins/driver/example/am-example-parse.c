/* ExampleOS replies -> AmSample, using only the public helpers of
 * <antmon/json.h> and <antmon/sample.h>: they read numbers whatever their
 * JSON type, convert units, and drop impossible readings, so "unknown"
 * never turns into 0. */
#include "am-example-parse.h"

#include <math.h>

static JsonObject *
section(JsonObject *reply, const char *name)
{
  return am_json_array_object(am_json_array(reply, name), 0);
}

AmMatch
am_example_match(const AmFingerprint *fp)
{
  JsonObject *version = fp != NULL ? fp->version : NULL;
  return am_json_string(version, "ExampleOS") != NULL ? AM_MATCH_SUPPORTED : AM_MATCH_UNSUPPORTED;
}

AmSample *
am_example_parse(JsonObject *version, JsonObject *summary, const AmExampleOptions *options,
                 GError **error)
{
  JsonObject *data = section(summary, "SUMMARY");
  if (data == NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE, "summary reply has no SUMMARY");
    return NULL;
  }
  g_autoptr(AmSample) s = am_sample_new();
  JsonObject *v = section(version, "VERSION");
  am_sample_set(s, &s->firmware, "ExampleOS");
  am_sample_set(s, &s->firmware_version, am_json_string(v, "ExampleOS"));
  am_sample_set(s, &s->model, am_json_string(v, "Model"));
  am_sample_set(s, &s->algorithm, "sha256d");

  /* The unit is in the key's name ("GHS"); the sample wants TH/s. */
  s->hashrate_ths = am_hashrate_to_ths(am_json_double(data, "GHS 5s"), "GH");
  s->hashrate_avg_ths = am_hashrate_to_ths(am_json_double(data, "GHS av"), "GH");
  s->elapsed_s = am_json_int(data, "Elapsed", AM_UNKNOWN);
  s->accepted = am_json_int(data, "Accepted", AM_UNKNOWN);
  s->rejected = am_json_int(data, "Rejected", AM_UNKNOWN);
  s->hw_errors = am_json_int(data, "Hardware Errors", AM_UNKNOWN);

  /* "61-63-60": one reading per board; the adders drop sensor faults. */
  double readings[16];
  guint n = am_parse_dash_list(am_json_string(data, "Temps"), readings, G_N_ELEMENTS(readings));
  for (guint i = 0; i < n; i++)
    am_sample_add_temp(s, readings[i]);
  n = am_parse_dash_list(am_json_string(data, "Fans"), readings, G_N_ELEMENTS(readings));
  for (guint i = 0; i < n; i++)
    am_sample_add_fan(s, readings[i]);
  s->fans_expected = options != NULL ? (gint)options->fans_expected : AM_UNKNOWN;

  /* ExampleOS measures wall power; say so, so nobody takes it for a guess. */
  double watts = am_json_double(data, "Power");
  if (watts > 0) {
    s->power_w = watts;
    s->power_source = AM_POWER_SOURCE_REPORTED;
  }
  return g_steal_pointer(&s);
}
