/* antmon: a monitoring agent for Bitcoin ASIC miners.
 * main() only dispatches to the subcommand; see am-cli-*.c. */
#include "am-allocator.h"
#include "am-cli.h"
#include "am-log.h"
#include <antmon/version.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  int (*func)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"run", am_cli_run, "run the daemon (the default)"},
    {"check-config", am_cli_check_config, "validate the configuration and exit"},
    {"sample-config", am_cli_sample_config, "print each plugin's sample configuration"},
    {"plugins", am_cli_plugins, "list the plugins found, and why any was rejected"},
    {"query", am_cli_query, "identify and read one miner: query HOST[:PORT]"},
    {"scan", am_cli_scan, "find miners in address ranges (or mDNS) and identify them"},
    {"export", am_cli_export, "write stored history as CSV or JSON to stdout"},
    {"action", am_cli_action, "act on one miner and wait for the effect: action HOST ACTION"},
    /* (more commands) */
};

static void
print_help(void)
{
  printf("Usage: antmon [COMMAND] [OPTIONS]\n\n"
         "antmon watches Bitcoin ASIC miners: it finds them, polls their API,\n"
         "stores history and raises alerts.\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
    printf("  %-14s %s\n", commands[i].name, commands[i].summary);
  printf("\n`antmon COMMAND --help` shows a command's options.\n"
         "  --version      print the version and plugin ABI\n");
}

int
main(int argc, char **argv)
{
  am_allocator_prefer_malloc(argv);
  am_allocator_tune();
  setlocale(LC_ALL, "");
  am_log_init(G_LOG_LEVEL_MESSAGE);

  if (argc >= 2 && (g_str_equal(argv[1], "--version") || g_str_equal(argv[1], "-V"))) {
    printf("antmon %s (plugin ABI %d.%d)\n", AM_VERSION_STRING, AM_ABI_MAJOR, AM_ABI_MINOR);
    return AM_EXIT_OK;
  }
  if (argc >= 2 && (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h") ||
                    g_str_equal(argv[1], "help"))) {
    print_help();
    return AM_EXIT_OK;
  }
  /* No command, or an option first: "antmon -c FILE" means "antmon run -c FILE". */
  if (argc < 2 || argv[1][0] == '-')
    return am_cli_run(argc, argv);

  for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
    if (g_str_equal(argv[1], commands[i].name))
      return commands[i].func(argc - 1, argv + 1);

  fprintf(stderr, "antmon: unknown command '%s' (try `antmon --help`)\n", argv[1]);
  return AM_EXIT_USAGE;
}
