/* Helpers shared by the subcommands. */
#include "am-cli.h"
#include <stdio.h>

char *
am_cli_default_config(const char *given)
{
  if (given != NULL)
    return g_strdup(given);
  const char *candidates[] = {"antmon.ini", "/etc/antmon/antmon.ini"};
  for (gsize i = 0; i < G_N_ELEMENTS(candidates); i++)
    if (g_file_test(candidates[i], G_FILE_TEST_EXISTS))
      return g_strdup(candidates[i]);
  return NULL;
}

gboolean
am_cli_parse(GOptionContext *context, int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(context, argc, argv, &error)) {
    fprintf(stderr, "antmon: %s (try --help)\n", error->message);
    return FALSE;
  }
  return TRUE;
}
