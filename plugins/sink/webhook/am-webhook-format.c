/* Webhook bodies per service (see am-webhook-format.h). */
#include "am-webhook-format.h"
#include "am-sink-format.h"
#include <string.h>

/* Discord refuses longer messages. */
#define DISCORD_MAX_CHARS 2000

gboolean
am_webhook_format_from_string(const char *text, AmWebhookFormat *out)
{
  static const char *const names[] = {"json", "slack", "discord", "ntfy", "telegram"};
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS(names); i++)
    if (g_ascii_strcasecmp(text, names[i]) == 0) {
      *out = i;
      return TRUE;
    }
  return FALSE;
}

/* The chat services show a short text: one line per alert, plus links. */
static char *
chat_text(const AmNotification *n, const char *url_template)
{
  GString *out = g_string_new(NULL);
  if (n->n_alerts > 1)
    g_string_append_printf(out, "%s\n", n->subject);
  for (guint i = 0; i < n->n_alerts; i++) {
    g_autofree char *line = am_sink_format_line(n->alerts[i]);
    g_autofree char *link = am_sink_dashboard_url(url_template, n->alerts[i]);
    g_string_append_printf(out, "%s%s", i > 0 || n->n_alerts > 1 ? "\n" : "", line);
    if (link != NULL)
      g_string_append_printf(out, " %s", link);
  }
  return g_string_free(out, FALSE);
}

/* Cuts @text to @max characters (not bytes), marking the cut. */
static char *
truncate_chars(char *text, glong max)
{
  if (g_utf8_strlen(text, -1) <= max)
    return text;
  char *end = g_utf8_offset_to_pointer(text, max - 1);
  *end = '\0';
  char *cut = g_strconcat(text, "…", NULL);
  g_free(text);
  return cut;
}

static AmSeverity
worst_raised(const AmNotification *n, gboolean *any_raised)
{
  AmSeverity worst = AM_SEVERITY_INFO;
  *any_raised = FALSE;
  for (guint i = 0; i < n->n_alerts; i++)
    if (!n->alerts[i]->resolved) {
      *any_raised = TRUE;
      worst = MAX(worst, n->alerts[i]->severity);
    }
  return worst;
}

/* ntfy priorities: 5 urgent, 4 high, 3 default, 2 low. */
static void
add_ntfy(JsonBuilder *b, const AmNotification *n, const AmWebhookBodyOptions *o)
{
  gboolean raised;
  AmSeverity worst = worst_raised(n, &raised);
  g_autofree char *text = chat_text(n, o->dashboard_url);
  json_builder_set_member_name(b, "topic");
  json_builder_add_string_value(b, o->ntfy_topic != NULL ? o->ntfy_topic : "");
  json_builder_set_member_name(b, "title");
  json_builder_add_string_value(b, n->subject);
  json_builder_set_member_name(b, "message");
  json_builder_add_string_value(b, text);
  json_builder_set_member_name(b, "priority");
  json_builder_add_int_value(b, !raised                         ? 2
                                : worst == AM_SEVERITY_CRITICAL ? 5
                                : worst == AM_SEVERITY_WARNING  ? 4
                                                                : 3);
  json_builder_set_member_name(b, "tags");
  json_builder_begin_array(b);
  json_builder_add_string_value(b, raised ? "warning" : "white_check_mark");
  json_builder_end_array(b);
  g_autofree char *link =
      n->n_alerts == 1 ? am_sink_dashboard_url(o->dashboard_url, n->alerts[0]) : NULL;
  if (link != NULL) {
    json_builder_set_member_name(b, "click");
    json_builder_add_string_value(b, link);
  }
}

char *
am_webhook_body(const AmNotification *n, const AmWebhookBodyOptions *o)
{
  if (o->format == AM_WEBHOOK_JSON) {
    g_autoptr(JsonNode) node = am_sink_notification_to_json(n, o->dashboard_url);
    return json_to_string(node, FALSE);
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  g_autofree char *text = chat_text(n, o->dashboard_url);
  switch (o->format) {
  case AM_WEBHOOK_SLACK:
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, text);
    break;
  case AM_WEBHOOK_DISCORD:
    text = truncate_chars(g_steal_pointer(&text), DISCORD_MAX_CHARS);
    json_builder_set_member_name(b, "username");
    json_builder_add_string_value(b, "antmon");
    json_builder_set_member_name(b, "content");
    json_builder_add_string_value(b, text);
    break;
  case AM_WEBHOOK_TELEGRAM:
    json_builder_set_member_name(b, "chat_id");
    json_builder_add_string_value(b, o->chat_id != NULL ? o->chat_id : "");
    json_builder_set_member_name(b, "text");
    json_builder_add_string_value(b, text);
    json_builder_set_member_name(b, "disable_web_page_preview");
    json_builder_add_boolean_value(b, TRUE);
    break;
  case AM_WEBHOOK_NTFY:
    add_ntfy(b, n, o);
    break;
  case AM_WEBHOOK_JSON:
    break;
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

gboolean
am_webhook_ntfy_split(const char *url, char **root_url, char **topic)
{
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return FALSE;
  const char *path = g_uri_get_path(uri);
  while (*path == '/')
    path++;
  if (path[0] == '\0' || strchr(path, '/') != NULL)
    return FALSE;
  g_autoptr(GUri) root =
      g_uri_build(G_URI_FLAGS_NONE, g_uri_get_scheme(uri), g_uri_get_userinfo(uri),
                  g_uri_get_host(uri), g_uri_get_port(uri), "/", NULL, NULL);
  *root_url = g_uri_to_string(root);
  *topic = g_strdup(path);
  return TRUE;
}
