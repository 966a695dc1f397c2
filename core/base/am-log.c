/* One log writer: level filter, then the journal (with fields), a log file
 * or stderr, as text or JSON lines. */
#include "am-log.h"
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static GLogLevelFlags threshold = G_LOG_LEVEL_MESSAGE;
static gboolean json_lines = FALSE;
/* Messages may come from any thread (the store writes from its own); the
 * file is swapped under this lock on SIGHUP. */
static GMutex out_lock;
static FILE *log_file = NULL;
/* Whether stderr is the journal stream, found once at start. */
static gboolean stderr_is_journal = FALSE;

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

static const char *
level_name(GLogLevelFlags level)
{
  for (gsize i = 0; i < G_N_ELEMENTS(levels); i++)
    if (level & levels[i].level)
      return levels[i].name;
  return "message";
}

static const char *
field_value(const GLogField *fields, gsize n_fields, const char *key)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0(fields[i].key, key) == 0 && fields[i].length < 0)
      return fields[i].value;
  return NULL;
}

/* GLib's level flags grow as severity falls: ERROR=4 ... DEBUG=128. */
static gboolean
wanted(GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  GLogLevelFlags only = level & G_LOG_LEVEL_MASK;
  if (only <= threshold)
    return TRUE;
  /* G_MESSAGES_DEBUG=all (or a domain list) still shows debug output. */
  const char *domain = field_value(fields, n_fields, "GLIB_DOMAIN");
  return !g_log_writer_default_would_drop(only, domain);
}

/* Plugins log in the domain "antmon-<kind>-<name>" (plugins/meson.build):
 * that names the plugin. NULL for the core. */
static const char *
plugin_of(const GLogField *fields, gsize n_fields)
{
  const char *domain = field_value(fields, n_fields, "GLIB_DOMAIN");
  if (domain == NULL || !g_str_has_prefix(domain, "antmon-"))
    return NULL;
  return domain + strlen("antmon-");
}

static GLogWriterOutput
to_journal(GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  const char *plugin = plugin_of(fields, n_fields);
  if (plugin == NULL || field_value(fields, n_fields, "PLUGIN") != NULL)
    return g_log_writer_journald(level, fields, n_fields, NULL);
  g_autofree GLogField *all = g_new(GLogField, n_fields + 1);
  memcpy(all, fields, n_fields * sizeof *fields);
  all[n_fields] = (GLogField){"PLUGIN", plugin, -1};
  return g_log_writer_journald(level, all, n_fields + 1, NULL);
}

/* A field's name as a JSON member: "MINER" -> "miner", GLib's own
 * GLIB_DOMAIN -> "domain". NULL for what is left out (source locations,
 * the message itself, binary values). */
static char *
json_member(const GLogField *f)
{
  if (f->length >= 0 || g_str_has_prefix(f->key, "CODE_") || g_str_equal(f->key, "MESSAGE"))
    return NULL;
  if (g_str_equal(f->key, "GLIB_DOMAIN"))
    return g_strdup("domain");
  return g_ascii_strdown(f->key, -1);
}

static char *
format_json(GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *time = g_date_time_format_iso8601(now);
  json_builder_set_member_name(b, "time");
  json_builder_add_string_value(b, time);
  json_builder_set_member_name(b, "level");
  json_builder_add_string_value(b, level_name(level));
  json_builder_set_member_name(b, "message");
  const char *message = field_value(fields, n_fields, "MESSAGE");
  json_builder_add_string_value(b, message != NULL ? message : "");
  const char *plugin = plugin_of(fields, n_fields);
  if (plugin != NULL && field_value(fields, n_fields, "PLUGIN") == NULL) {
    json_builder_set_member_name(b, "plugin");
    json_builder_add_string_value(b, plugin);
  }
  for (gsize i = 0; i < n_fields; i++) {
    g_autofree char *member = json_member(&fields[i]);
    if (member == NULL)
      continue;
    json_builder_set_member_name(b, member);
    json_builder_add_string_value(b, fields[i].value);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}

/* systemd names the stream it connected stderr to in JOURNAL_STREAM
 * ("DEVICE:INODE", systemd.exec(5)); a child that inherited the variable
 * but not the stream must not take it for the journal. GLib's own check
 * (g_log_writer_is_journald) looks at the peer's socket path instead: either
 * one will do. */
static gboolean
stderr_is_journal_stream(void)
{
  const char *stream = g_getenv("JOURNAL_STREAM");
  guint64 dev = 0, ino = 0;
  struct stat st;
  if (stream == NULL ||
      sscanf(stream, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, &dev, &ino) != 2 ||
      fstat(fileno(stderr), &st) != 0)
    return FALSE;
  return (guint64)st.st_dev == dev && (guint64)st.st_ino == ino;
}

/* The journal when systemd connected stderr to it, unless a log file was
 * asked for. */
static gboolean
use_journal(void)
{
  return log_file == NULL && stderr_is_journal;
}

static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  (void)user_data;
  if (!wanted(level, fields, n_fields))
    return G_LOG_WRITER_HANDLED;
  g_mutex_lock(&out_lock);
  if (use_journal() && to_journal(level, fields, n_fields) == G_LOG_WRITER_HANDLED) {
    g_mutex_unlock(&out_lock);
    return G_LOG_WRITER_HANDLED;
  }
  g_autofree char *line = json_lines ? format_json(level, fields, n_fields)
                                     : g_log_writer_format_fields(level, fields, n_fields, FALSE);
  FILE *out = log_file != NULL ? log_file : stderr;
  fprintf(out, "%s\n", line);
  fflush(out);
  g_mutex_unlock(&out_lock);
  return G_LOG_WRITER_HANDLED;
}

void
am_log_init(GLogLevelFlags level)
{
  threshold = level;
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    stderr_is_journal = stderr_is_journal_stream() || g_log_writer_is_journald(fileno(stderr));
    g_log_set_writer_func(writer, NULL, NULL);
    g_once_init_leave(&once, 1);
  }
}

gboolean
am_log_set_format(const char *name)
{
  if (g_strcmp0(name, "text") != 0 && g_strcmp0(name, "json") != 0)
    return FALSE;
  g_mutex_lock(&out_lock);
  json_lines = g_str_equal(name, "json");
  g_mutex_unlock(&out_lock);
  return TRUE;
}

gboolean
am_log_set_file(const char *path, GError **error)
{
  FILE *opened = NULL;
  if (path != NULL && *path != '\0') {
    /* Line by line, so `tail -f` and a crash lose nothing. */
    opened = g_fopen(path, "ae");
    if (opened == NULL) {
      int saved = errno;
      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot open %s: %s", path,
                  g_strerror(saved));
      return FALSE;
    }
  }
  g_mutex_lock(&out_lock);
  FILE *old = log_file;
  log_file = opened;
  g_mutex_unlock(&out_lock);
  if (old != NULL)
    fclose(old);
  return TRUE;
}
