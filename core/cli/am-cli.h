/* The antmon command line: one function per subcommand. Each returns the
 * process exit status: 0 success, 1 the work failed, 2 bad usage or
 * configuration. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AM_EXIT_OK 0
#define AM_EXIT_FAILED 1
#define AM_EXIT_USAGE 2

int am_cli_run(int argc, char **argv);
int am_cli_check_config(int argc, char **argv);
int am_cli_sample_config(int argc, char **argv);
int am_cli_plugins(int argc, char **argv);
int am_cli_query(int argc, char **argv);
int am_cli_scan(int argc, char **argv);
int am_cli_export(int argc, char **argv);
int am_cli_action(int argc, char **argv);

/* Shared by the subcommands. */

/* The config file to use: @given, else ./antmon.ini, else
 * /etc/antmon/antmon.ini; NULL when none exists. (transfer full) */
char *am_cli_default_config(const char *given);

/* Parses @context's options; on error prints it with the usage hint and
 * returns FALSE. */
gboolean am_cli_parse(GOptionContext *context, int *argc, char ***argv);

G_END_DECLS
