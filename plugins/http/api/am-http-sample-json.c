/* Samples as JSON text (see the header). */
#include "am-http-sample-json.h"
#include "am-http-json.h"

#include <math.h>

char *
am_http_sample_json(AmSample *sample)
{
  g_autoptr(JsonNode) node = am_sample_to_json(sample);
  return json_to_string(node, FALSE);
}

static void
brief_double(GString *out, const char *name, double value)
{
  am_http_json_member(out, name, FALSE);
  am_http_json_double(out, value);
}

static void
brief_string(GString *out, const char *name, const char *value)
{
  am_http_json_member(out, name, FALSE);
  am_http_json_string(out, value);
}

static const char *
power_source_name(AmPowerSource source)
{
  return source == AM_POWER_SOURCE_REPORTED    ? "reported"
         : source == AM_POWER_SOURCE_ESTIMATED ? "estimated"
                                               : NULL;
}

/* What the fleet table shows, under the full form's key names. */
char *
am_http_sample_brief_json(const AmSample *s)
{
  GString *out = g_string_sized_new(512);
  g_string_append_c(out, '{');
  am_http_json_member(out, "when", TRUE);
  am_http_json_time(out, s->when_us);
  brief_string(out, "model", s->model);
  brief_string(out, "firmware", s->firmware);
  brief_string(out, "algorithm", s->algorithm);
  brief_double(out, "hashrate_ths", s->hashrate_ths);
  brief_double(out, "hashrate_ideal_ths", s->hashrate_ideal_ths);
  brief_double(out, "power_w", s->power_w);
  brief_string(out, "power_source", power_source_name(s->power_source));
  brief_double(out, "efficiency_jth", s->efficiency_jth);
  brief_double(out, "elapsed_s", s->elapsed_s >= 0 ? (double)s->elapsed_s : NAN);
  brief_double(out, "temp_max_c", s->temp_max_c);
  brief_double(out, "avg_fan_rpm", s->avg_fan_rpm);
  am_http_json_member(out, "fans_rpm", FALSE);
  g_string_append_c(out, '[');
  for (guint i = 0; s->fans_rpm != NULL && i < s->fans_rpm->len; i++) {
    if (i > 0)
      g_string_append_c(out, ',');
    am_http_json_double(out, g_array_index(s->fans_rpm, double, i));
  }
  g_string_append_c(out, ']');
  am_http_json_member(out, "liquid_cooled", FALSE);
  g_string_append(out, s->liquid_cooled ? "true" : "false");
  brief_string(out, "status", s->status == AM_SAMPLE_STATUS_DEGRADED ? "degraded" : "ok");
  g_string_append_c(out, '}');
  return g_string_free(out, FALSE);
}
