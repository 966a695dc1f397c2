/* profile.ini: "[section]" headers and "key=value" lines, in file order.
 *
 * Not GKeyFile: a route such as
 *   GET /user/login?username=admin&password=123456789=login.json
 *   POST /user/userpanel post=4=userpanel.json
 * holds '=' in its key. A line that starts with an HTTP method ("GET ",
 * "POST ", ...) is therefore split at its last '=' (a reply file name has
 * none); any other line at its first '=' (a password may hold one).
 */
#include "am-fakeminer.h"
#include <string.h>

void
am_fm_ini_entry_free(gpointer data)
{
  AmFmIniEntry *entry = data;
  g_free(entry->section);
  g_free(entry->key);
  g_free(entry->value);
  g_free(entry);
}

/* Upper-case letters and then a space: "GET /", "POST /token". */
static gboolean
starts_with_method(const char *line)
{
  const char *p = line;
  while (g_ascii_isupper(*p))
    p++;
  return p > line && *p == ' ';
}

static gboolean
parse_line(char *line, const char *section, guint number, GPtrArray *entries, GError **error)
{
  if (line[0] == '[') {
    char *close = strchr(line, ']');
    if (close == NULL || close[1] != '\0' || close == line + 1) {
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE, "profile.ini:%u: bad section header",
                  number);
      return FALSE;
    }
    return TRUE; /* the caller tracks the section */
  }
  char *eq = starts_with_method(line) ? strrchr(line, '=') : strchr(line, '=');
  if (section == NULL || eq == NULL || eq == line) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE, "profile.ini:%u: expected %s", number,
                section == NULL ? "a [section] first" : "key=value");
    return FALSE;
  }
  AmFmIniEntry *entry = g_new0(AmFmIniEntry, 1);
  entry->section = g_strdup(section);
  entry->key = g_strstrip(g_strndup(line, (gsize)(eq - line)));
  entry->value = g_strstrip(g_strdup(eq + 1));
  entry->line = number;
  g_ptr_array_add(entries, entry);
  return TRUE;
}

GPtrArray *
am_fm_ini_load(const char *path, GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, error))
    return NULL;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(am_fm_ini_entry_free);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_autofree char *section = NULL;
  for (guint i = 0; lines[i] != NULL; i++) {
    char *line = g_strstrip(lines[i]);
    if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
      continue;
    if (!parse_line(line, section, i + 1, entries, error))
      return NULL;
    if (line[0] == '[') {
      g_free(section);
      section = g_strndup(line + 1, strlen(line) - 2);
      /* A section with no lines still exists: an entry without a key. */
      AmFmIniEntry *entry = g_new0(AmFmIniEntry, 1);
      entry->section = g_strdup(section);
      entry->line = i + 1;
      g_ptr_array_add(entries, entry);
    }
  }
  return g_steal_pointer(&entries);
}
