/* `antmon action`: the parts shared by its direct mode (the driver called
 * in-process) and its --via mode (a running agent's HTTP API). */
#pragma once

#include <antmon/action.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Exit status when the miner or its driver cannot do the action. */
#define AM_EXIT_UNSUPPORTED 3

/* The action and its parameters as given on the command line. The request
 * points into the strings held here. */
typedef struct {
  AmActionRequest request;
  char *mode;
  GArray *pools;      /* AmPoolSetting, strings owned by @strings */
  GPtrArray *strings; /* char*, freed with the args */
  double timeout_s;   /* the default wait for its confirmation */
} AmCliActionArgs;

/* Reads ACTION and its KEY=VALUE words into @args. A word that is no
 * parameter of @action, a missing one or a bad value: FALSE with
 * AM_ERROR_CONFIG saying which. */
gboolean am_cli_action_args_parse(AmCliActionArgs *args, const char *action,
                                  const char *const *params, guint n_params, GError **error);
void am_cli_action_args_clear(AmCliActionArgs *args);

/* The parameters as the action JSON shows them ({"watts":3000}); pool
 * passwords are left out. (transfer full) */
JsonNode *am_cli_action_params_json(const AmCliActionArgs *args);

/* The body of POST /api/miners/{host}/actions: {"action":..., params},
 * pool passwords included (the agent needs them). (transfer full) */
JsonNode *am_cli_action_body_json(const AmCliActionArgs *args);

/* How the action is followed and reported. Progress lines go to stdout, or
 * to stderr with --json (stdout then holds the JSON alone); a line equal to
 * the previous one is not repeated. */
typedef struct {
  gboolean json;
  char *last;
} AmCliActionReport;

void am_cli_action_progress(AmCliActionReport *report, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Prints the end of @action (the action JSON of antmon/context.h): the
 * JSON with --json, else "confirmed: MESSAGE", "not confirmed: MESSAGE" or
 * "failed: MESSAGE". Returns the exit status: 0 confirmed (or accepted,
 * with --no-wait), 1 otherwise. */
int am_cli_action_report_end(AmCliActionReport *report, JsonObject *action);
void am_cli_action_report_clear(AmCliActionReport *report);

/* --via URL: the same action through a running agent. */
int am_cli_action_via(const char *url, const char *token_file, const char *host,
                      const AmCliActionArgs *args, double timeout_s, double interval_s,
                      gboolean no_wait, AmCliActionReport *report);

/* Direct mode: identify the miner, send, poll until confirmed. */
int am_cli_action_direct(const char *config_path, const char *host, const AmCliActionArgs *args,
                         double timeout_s, double interval_s, gboolean no_wait,
                         AmCliActionReport *report);

G_END_DECLS
