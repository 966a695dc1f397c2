/* How sinks show an alert (see am-sink-format.h). */
#include "am-sink-format.h"
#include <math.h>
#include <string.h>

const char *
am_sink_alert_state(const AmAlert *a)
{
  return a->resolved ? "resolved" : "raised";
}

char *
am_sink_format_value(double value, const char *unit)
{
  if (isnan(value))
    return g_strdup("");
  if (unit == NULL || unit[0] == '\0')
    return g_strdup_printf("%g", value);
  if (g_str_equal(unit, "degC"))
    return g_strdup_printf("%.1f °C", value);
  if (g_str_equal(unit, "TH/s"))
    return g_strdup_printf("%.2f TH/s", value);
  if (g_str_equal(unit, "s"))
    return g_strdup_printf("%.0f s", value);
  if (g_str_equal(unit, "%"))
    return g_strdup_printf("%.3g %%", value);
  return g_strdup_printf("%g %s", value, unit);
}

char *
am_sink_format_miner(const AmAlert *a)
{
  const char *address = a->miner_host != NULL ? a->miner_host : "?";
  const char *name = a->miner_name;
  gsize len = name != NULL ? strlen(name) : 0;
  gboolean name_is_host =
      len > 0 && strncmp(address, name, len) == 0 && (address[len] == ':' || address[len] == '\0');
  if (len == 0 || name_is_host)
    return g_strdup(address);
  return g_strdup_printf("%s (%s)", name, address);
}

/* The host part of "host:port" or "[v6]:port". */
static char *
host_of(const char *address)
{
  if (address[0] == '[') {
    const char *end = strchr(address, ']');
    return end != NULL ? g_strndup(address + 1, end - address - 1) : g_strdup(address);
  }
  const char *colon = strrchr(address, ':');
  return colon != NULL ? g_strndup(address, colon - address) : g_strdup(address);
}

char *
am_sink_dashboard_url(const char *url_template, const AmAlert *a)
{
  if (a->dashboard_url != NULL && a->dashboard_url[0] != '\0')
    return g_strdup(a->dashboard_url);
  if (url_template == NULL || url_template[0] == '\0' || a->miner_host == NULL)
    return NULL;
  g_autofree char *host = host_of(a->miner_host);
  const struct {
    const char *name;
    const char *value;
  } fields[] = {
      {"{host}", host},
      {"{address}", a->miner_host},
      {"{name}", a->miner_name != NULL ? a->miner_name : host},
  };
  GString *url = g_string_new(url_template);
  for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
    /* ':' stays readable in "10.0.0.5:4028"; anything odd is escaped. */
    g_autofree char *escaped = g_uri_escape_string(fields[i].value, ":[]", FALSE);
    g_string_replace(url, fields[i].name, escaped, 0);
  }
  return g_string_free(url, FALSE);
}

char *
am_sink_format_line(const AmAlert *a)
{
  g_autofree char *miner = am_sink_format_miner(a);
  g_autofree char *level = g_ascii_strup(am_severity_to_string(a->severity), -1);
  return g_strdup_printf("%s %s %s on %s: %s", a->resolved ? "RESOLVED" : level, a->rule,
                         am_sink_alert_state(a), miner, a->message != NULL ? a->message : "");
}

static void
append_field(GString *out, const char *label, const char *value)
{
  if (value != NULL && value[0] != '\0')
    g_string_append_printf(out, "  %-10s %s\n", label, value);
}

static void
append_alert_text(GString *out, const AmAlert *a, const char *url_template)
{
  g_autofree char *line = am_sink_format_line(a);
  g_autofree char *miner = am_sink_format_miner(a);
  g_autofree char *rule =
      g_strdup_printf("%s (%s)", a->rule, a->rule_type != NULL ? a->rule_type : "?");
  g_autofree char *value = am_sink_format_value(a->value, a->unit);
  g_autofree char *threshold = am_sink_format_value(a->threshold, a->unit);
  g_autofree char *link = am_sink_dashboard_url(url_template, a);
  g_autofree char *when = a->when_us > 0 ? am_time_to_iso8601(a->when_us) : NULL;
  g_string_append_printf(out, "%s\n", line);
  append_field(out, "Miner:", miner);
  append_field(out, "Model:", a->model);
  append_field(out, "Rule:", rule);
  append_field(out, "Severity:", am_severity_to_string(a->severity));
  append_field(out, "Value:", value);
  append_field(out, a->resolved ? "Clear at:" : "Threshold:", threshold);
  append_field(out, "Time:", when);
  append_field(out, "Dashboard:", link);
  g_string_append_c(out, '\n');
}

char *
am_sink_format_text(const AmNotification *n, const char *url_template)
{
  GString *out = g_string_new(NULL);
  g_string_append_printf(out, "%s\n\n", n->subject);
  for (guint i = 0; i < n->n_alerts; i++)
    append_alert_text(out, n->alerts[i], url_template);
  g_string_append(out, "-- \nantmon\n");
  return g_string_free(out, FALSE);
}

static void
add_string(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  if (value != NULL)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void
add_number(JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name(b, name);
  if (isnan(value))
    json_builder_add_null_value(b);
  else
    json_builder_add_double_value(b, value);
}

JsonNode *
am_sink_alert_to_json(const AmAlert *a, const char *url_template)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree char *host = a->miner_host != NULL ? host_of(a->miner_host) : NULL;
  g_autofree char *when = a->when_us > 0 ? am_time_to_iso8601(a->when_us) : NULL;
  g_autofree char *link = am_sink_dashboard_url(url_template, a);
  json_builder_begin_object(b);
  add_string(b, "rule", a->rule);
  add_string(b, "type", a->rule_type);
  add_string(b, "state", am_sink_alert_state(a));
  add_string(b, "severity", am_severity_to_string(a->severity));
  add_string(b, "miner", a->miner_host);
  add_string(b, "host", host);
  add_string(b, "name", a->miner_name);
  add_string(b, "model", a->model);
  add_number(b, "value", a->value);
  add_number(b, "threshold", a->threshold);
  add_string(b, "unit", a->unit);
  add_string(b, "message", a->message);
  add_string(b, "time", when);
  add_string(b, "dashboard_url", link);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

JsonNode *
am_sink_notification_to_json(const AmNotification *n, const char *url_template)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "subject", n->subject);
  json_builder_set_member_name(b, "n_alerts");
  json_builder_add_int_value(b, n->n_alerts);
  json_builder_set_member_name(b, "alerts");
  json_builder_begin_array(b);
  for (guint i = 0; i < n->n_alerts; i++)
    json_builder_add_value(b, am_sink_alert_to_json(n->alerts[i], url_template));
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
