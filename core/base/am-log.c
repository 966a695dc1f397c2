/* One log writer: level filter, then a plain line on stderr. */
#include "am-log.h"
#include <stdio.h>

static GLogLevelFlags threshold = G_LOG_LEVEL_MESSAGE;

static const struct {
  const char *name;
  GLogLevelFlags level;
} levels[] = {
    {"error", G_LOG_LEVEL_ERROR},     {"critical", G_LOG_LEVEL_CRITICAL},
    {"warning", G_LOG_LEVEL_WARNING}, {"message", G_LOG_LEVEL_MESSAGE},
    {"info", G_LOG_LEVEL_INFO},       {"debug", G_LOG_LEVEL_DEBUG},
};

gboolean
am_log_level_from_string(const char *name, GLogLevelFlags *out)
{
  for (gsize i = 0; name != NULL && i < G_N_ELEMENTS(levels); i++)
    if (g_ascii_strcasecmp(name, levels[i].name) == 0) {
      *out = levels[i].level;
      return TRUE;
    }
  return FALSE;
}

/* GLib's level flags grow as severity falls: ERROR=4 ... DEBUG=128. */
static gboolean
wanted(GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  GLogLevelFlags only = level & G_LOG_LEVEL_MASK;
  if (only <= threshold)
    return TRUE;
  /* G_MESSAGES_DEBUG=all (or a domain list) still shows debug output. */
  const char *domain = NULL;
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;
  return !g_log_writer_default_would_drop(only, domain);
}

static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  (void)user_data;
  if (!wanted(level, fields, n_fields))
    return G_LOG_WRITER_HANDLED;
  g_autofree char *line = g_log_writer_format_fields(level, fields, n_fields, FALSE);
  fprintf(stderr, "%s\n", line);
  fflush(stderr);
  return G_LOG_WRITER_HANDLED;
}

void
am_log_init(GLogLevelFlags level)
{
  threshold = level;
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    g_log_set_writer_func(writer, NULL, NULL);
    g_once_init_leave(&once, 1);
  }
}
