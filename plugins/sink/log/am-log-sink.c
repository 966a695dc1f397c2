/* The log sink: one line per alert, in antmon's log or appended to a file.
 *
 * text is logfmt (key=value, quoted when needed) so that grep and log
 * shippers both read it; in the log, the same values also travel as
 * structured fields (ANTMON_RULE, ANTMON_MINER, ...) for journald. */
#include "am-sink-format.h"
#include "sample-ini.h"
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  char *group;
  gboolean json;
  char *file; /* absolute or state-relative, resolved; NULL: the log */
  char *dashboard_url;
} LogSink;

static void
log_sink_free(LogSink *self)
{
  g_free(self->group);
  g_free(self->file);
  g_free(self->dashboard_url);
  g_free(self);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LogSink, log_sink_free)

/* Opening the file once at start turns a typo in file= into a start-up
 * error instead of a lost alert later. */
static gboolean
check_file(const char *group, const char *path, GError **error)
{
  FILE *f = g_fopen(path, "a");
  if (f == NULL) {
    int saved = errno;
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] file=%s: expected a file antmon can append to (%s)", group, path,
                g_strerror(saved));
    return FALSE;
  }
  fclose(f);
  return TRUE;
}

static gboolean
read_format(GKeyFile *kf, const char *group, gboolean *json, GError **error)
{
  g_autofree char *format = am_config_get_string(kf, group, "format", "text", error);
  if (format == NULL)
    return FALSE;
  if (g_ascii_strcasecmp(format, "text") != 0 && g_ascii_strcasecmp(format, "json") != 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] format=%s: expected text or json", group,
                format);
    return FALSE;
  }
  *json = g_ascii_strcasecmp(format, "json") == 0;
  return TRUE;
}

static gpointer
log_sink_create(AmContext *ctx, GKeyFile *kf, const char *group, GError **error)
{
  g_autoptr(LogSink) self = g_new0(LogSink, 1);
  self->group = g_strdup(group);
  g_autofree char *file = NULL;
  if (!read_format(kf, group, &self->json, error) ||
      (file = am_config_get_string(kf, group, "file", "", error)) == NULL)
    return NULL;
  self->dashboard_url = am_config_get_string(kf, group, "dashboard_url", "", error);
  if (self->dashboard_url == NULL)
    return NULL;
  if (file[0] != '\0') {
    self->file = ctx != NULL ? am_context_resolve_state_path(ctx, file) : g_strdup(file);
    if (!check_file(group, self->file, error))
      return NULL;
  }
  return g_steal_pointer(&self);
}

static void
log_sink_destroy(gpointer instance)
{
  log_sink_free(instance);
}

/* logfmt: bare when safe, else quoted with \" and \\ escaped. */
static void
append_pair(GString *out, const char *key, const char *value)
{
  if (value == NULL || value[0] == '\0')
    return;
  g_string_append_printf(out, " %s=", key);
  if (strpbrk(value, " \"=\\\t\n") == NULL) {
    g_string_append(out, value);
    return;
  }
  g_string_append_c(out, '"');
  for (const char *p = value; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(out, '\\');
    g_string_append_c(out, *p == '\n' ? ' ' : *p);
  }
  g_string_append_c(out, '"');
}

static char *
text_line(const AmAlert *a, const char *link)
{
  GString *out = g_string_new("alert");
  g_autofree char *value = isnan(a->value) ? NULL : g_strdup_printf("%g", a->value);
  g_autofree char *threshold = isnan(a->threshold) ? NULL : g_strdup_printf("%g", a->threshold);
  append_pair(out, "state", am_sink_alert_state(a));
  append_pair(out, "severity", am_severity_to_string(a->severity));
  append_pair(out, "rule", a->rule);
  append_pair(out, "type", a->rule_type);
  append_pair(out, "miner", a->miner_host);
  append_pair(out, "name", a->miner_name);
  append_pair(out, "model", a->model);
  append_pair(out, "value", value);
  append_pair(out, "threshold", threshold);
  append_pair(out, "unit", a->unit);
  append_pair(out, "message", a->message);
  append_pair(out, "dashboard", link);
  return g_string_free(out, FALSE);
}

static char *
json_line(const AmAlert *a, const char *url_template)
{
  g_autoptr(JsonNode) node = am_sink_alert_to_json(a, url_template);
  return json_to_string(node, FALSE);
}

/* Raised problems are warnings in the log; everything else a message. */
static void
log_line(const AmAlert *a, const char *line)
{
  GLogLevelFlags level = !a->resolved && a->severity >= AM_SEVERITY_WARNING ? G_LOG_LEVEL_WARNING
                                                                            : G_LOG_LEVEL_MESSAGE;
  g_log_structured(G_LOG_DOMAIN, level, "ANTMON_RULE", a->rule, "ANTMON_MINER",
                   a->miner_host != NULL ? a->miner_host : "", "ANTMON_STATE",
                   am_sink_alert_state(a), "ANTMON_SEVERITY", am_severity_to_string(a->severity),
                   "MESSAGE", "%s", line);
}

static gboolean
append_lines(LogSink *self, const char *text, GError **error)
{
  FILE *f = g_fopen(self->file, "a");
  if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
    int saved = errno;
    g_set_error(error, AM_ERROR, AM_ERROR_FAILED, "[%s] cannot append to %s: %s", self->group,
                self->file, g_strerror(saved));
    return FALSE;
  }
  return TRUE;
}

/* Writing a few lines locally is quick: done at once, reported through the
 * task so that the core sees the same interface as any sink. */
static void
log_sink_deliver_async(gpointer instance, const AmNotification *n, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  LogSink *self = instance;
  g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
  g_autoptr(GString) lines = g_string_new(NULL);
  for (guint i = 0; i < n->n_alerts; i++) {
    const AmAlert *a = n->alerts[i];
    g_autofree char *link = am_sink_dashboard_url(self->dashboard_url, a);
    g_autofree char *line = self->json ? json_line(a, self->dashboard_url) : text_line(a, link);
    if (self->file != NULL)
      g_string_append_printf(lines, "%s\n", line);
    else
      log_line(a, line);
  }
  g_autoptr(GError) error = NULL;
  if (self->file != NULL && !append_lines(self, lines->str, &error))
    g_task_return_error(task, g_steal_pointer(&error));
  else
    g_task_return_boolean(task, TRUE);
}

static gboolean
log_sink_deliver_finish(gpointer instance, GAsyncResult *result, GError **error)
{
  (void)instance;
  return g_task_propagate_boolean(G_TASK(result), error);
}

static const AmSinkVTable log_sink_vtable = {
    .struct_size = sizeof(AmSinkVTable),
    .deliver_async = log_sink_deliver_async,
    .deliver_finish = log_sink_deliver_finish,
};

AM_PLUGIN_DEFINE(.name = "log", .kind = AM_PLUGIN_KIND_SINK,
                 .description = "alerts as structured log lines, or JSON lines in a file",
                 .version = AM_VERSION_STRING, .sample_config = sample_ini,
                 .create = log_sink_create, .destroy = log_sink_destroy,
                 .vtable.sink = &log_sink_vtable)
