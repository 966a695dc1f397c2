/* antmon action HOST ACTION [KEY=VALUE...]: act on one miner and wait until
 * its polls show the effect. Directly (the driver in this process, with
 * the ini's credentials) or --via a running agent's API. */
#include "am-cli-action.h"
#include "am-cli.h"
#include <stdio.h>

static gboolean action_json = FALSE;
static gboolean action_no_wait = FALSE;
static double action_timeout = 0;
static gboolean action_timeout_given = FALSE;
static double action_interval = 3.0;
static char *action_config = NULL;
static char *action_via = NULL;
static char *action_token_file = NULL;

/* --timeout: remembered as given, so that "--timeout 0" is refused rather
 * than taken for "the action's default". */
static gboolean
set_timeout(const char *name, const char *value, gpointer data, GError **error)
{
  (void)data;
  char *end = NULL;
  action_timeout = g_ascii_strtod(value, &end);
  if (*value == '\0' || *end != '\0') {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s %s: expected seconds", name,
                value);
    return FALSE;
  }
  action_timeout_given = TRUE;
  return TRUE;
}

static const GOptionEntry action_options[] = {
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &action_config,
     "read credentials and driver settings from FILE", "FILE"},
    {"timeout", 't', 0, G_OPTION_ARG_CALLBACK, (gpointer)set_timeout,
     "wait S seconds for the confirmation (reboot 300, others 120)", "S"},
    {"interval", 'i', 0, G_OPTION_ARG_DOUBLE, &action_interval,
     "poll the miner (or the agent) every S seconds (3)", "S"},
    {"no-wait", 0, 0, G_OPTION_ARG_NONE, &action_no_wait,
     "return once the firmware accepted the action", NULL},
    {"json", 0, 0, G_OPTION_ARG_NONE, &action_json, "print the final action as JSON", NULL},
    {"via", 0, 0, G_OPTION_ARG_STRING, &action_via,
     "go through the agent at URL (http://host:port) instead of the miner", "URL"},
    {"token-file", 0, 0, G_OPTION_ARG_FILENAME, &action_token_file,
     "with --via: the API token is in FILE", "FILE"},
    {NULL},
};

static const char action_summary[] =
    "Actions and their parameters:\n"
    "  reboot                 power-cycle the control board (uptime starts again)\n"
    "  restart                restart the mining process only\n"
    "  pause                  stop hashing, stay powered (sleep, curtail)\n"
    "  resume                 undo pause\n"
    "  power_target watts=N   work to N watts\n"
    "  work_mode mode=M       M is low, normal or high\n"
    "  locate [on=true|false] the fault/locate light (on by default)\n"
    "  pools pool=URL,USER[,PASSWORD] [pool=...]\n"
    "                         replace the pool list, first preferred (1 to 3);\n"
    "                         the password is all after the second comma\n"
    "\n"
    "Without --via, antmon identifies the miner as `antmon query` does, with\n"
    "the login of its [miner:NAME] group (HOST may be that NAME), else of the\n"
    "first [credentials:NAME] group matching it, else of its [driver:NAME]\n"
    "group in the -c FILE; sends the action (through the driver's web\n"
    "companion where the driver itself cannot, as the agent does) and polls\n"
    "until the miner shows it. The last line says `confirmed: ...`,\n"
    "`not confirmed: ...` (what the polls showed instead) or `failed: ...`.\n"
    "With --json, stdout holds only the final action JSON and the progress\n"
    "goes to stderr. --via URL --token-file FILE asks a running agent\n"
    "([http:api] actions=true) to do it instead, with its credentials.\n"
    "\n"
    "Exit status: 0 confirmed (with --no-wait: accepted), 1 failed or not\n"
    "confirmed, 2 usage error, 3 the miner or its driver cannot do that action.";

/* The options are static so GOption can fill them; a second call in one
 * process (the tests do not, but a future shell might) starts clean. */
static void
reset_options(void)
{
  action_json = FALSE;
  action_no_wait = FALSE;
  action_timeout = 0;
  action_timeout_given = FALSE;
  action_interval = 3.0;
  g_clear_pointer(&action_config, g_free);
  g_clear_pointer(&action_via, g_free);
  g_clear_pointer(&action_token_file, g_free);
}

static gboolean
check_options(double timeout_s)
{
  const char *why = NULL;
  if (!(timeout_s > 0 && timeout_s <= 3600))
    why = "--timeout must be more than 0 and at most 3600 s";
  else if (!(action_interval >= 0.1 && action_interval <= 600))
    why = "--interval must be from 0.1 to 600 s";
  else if (action_via != NULL && action_token_file == NULL)
    why = "--via needs --token-file FILE (the agent's API token)";
  else if (action_via == NULL && action_token_file != NULL)
    why = "--token-file goes with --via URL";
  else if (action_via != NULL && action_config != NULL)
    why = "--via uses the agent's credentials; -c FILE is for direct mode";
  if (why != NULL)
    fprintf(stderr, "antmon action: %s\n", why);
  return why == NULL;
}

int
am_cli_action(int argc, char **argv)
{
  reset_options();
  g_autoptr(GOptionContext) context =
      g_option_context_new("HOST ACTION [KEY=VALUE...] - act on one miner");
  g_option_context_add_main_entries(context, action_options, NULL);
  g_option_context_set_description(context, action_summary);
  if (!am_cli_parse(context, &argc, &argv))
    return AM_EXIT_USAGE;
  if (argc < 3) {
    fprintf(stderr, "antmon action: give HOST and ACTION (try --help)\n");
    return AM_EXIT_USAGE;
  }

  g_autoptr(GError) error = NULL;
  AmCliActionArgs args;
  if (!am_cli_action_args_parse(&args, argv[2], (const char *const *)argv + 3, (guint)argc - 3,
                                &error)) {
    fprintf(stderr, "antmon action: %s (try --help)\n", error->message);
    am_cli_action_args_clear(&args);
    return AM_EXIT_USAGE;
  }
  double timeout_s = action_timeout_given ? action_timeout : args.timeout_s;
  if (!check_options(timeout_s)) {
    am_cli_action_args_clear(&args);
    return AM_EXIT_USAGE;
  }

  AmCliActionReport report = {.json = action_json};
  int status = action_via != NULL
                   ? am_cli_action_via(action_via, action_token_file, argv[1], &args, timeout_s,
                                       action_interval, action_no_wait, &report)
                   : am_cli_action_direct(action_config, argv[1], &args, timeout_s, action_interval,
                                          action_no_wait, &report);
  am_cli_action_report_clear(&report);
  am_cli_action_args_clear(&args);
  reset_options();
  return status;
}
