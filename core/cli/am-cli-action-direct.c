/* `antmon action` without --via: this process does what the agent's action
 * manager does for one miner. Identify it as `antmon query` does, check its
 * driver can do the action, take a baseline sample, send the action
 * through the driver, then poll until the confirmation logic of
 * core/actions (am_action_confirm) says the miner shows the effect, or the
 * time is up. */
#include "am-action-confirm.h"
#include "am-cli-action.h"
#include "am-cli.h"
#include "am-config-file.h"
#include "am-context-private.h"
#include "am-instances.h"
#include "am-selector.h"
#include <antmon/error.h>
#include <stdio.h>
#include <string.h>

/* One request to the miner when no [core] poll_timeout says otherwise. */
#define REQUEST_TIMEOUT_MS 10000

typedef struct {
  const AmConfigFile *config; /* or NULL */
  char *login;                /* where the miner's login came from, for messages */
  const AmCliActionArgs *args;
  AmCliActionReport *report;
  AmMiner *miner;
  AmInstance *driver; /* the one that identified and polls the miner */
  AmInstance *actor;  /* the one that acts: the driver or its web companion */
  AmSample *baseline;
  JsonObject *action; /* the action JSON, filled as it goes */
  gint64 started_us;  /* monotonic, when it was sent */
} Direct;

/* ---- running one asynchronous call to its end ------------------------- */

static void
keep_result(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  *(GAsyncResult **)user_data = g_object_ref(result);
}

/* Iterates the default main context until @slot holds a result. Each call
 * has its own deadline (the miner's timeout), so this ends. */
static GAsyncResult *
wait_for(GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration(NULL, TRUE);
  return *slot;
}

static gboolean
quit_loop(gpointer user_data)
{
  g_main_loop_quit(user_data);
  return G_SOURCE_REMOVE;
}

/* Sleeps @seconds while the main context runs. */
static void
pause_for(double seconds)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  g_timeout_add((guint)(seconds * 1000), quit_loop, loop);
  g_main_loop_run(loop);
}

/* ---- the miner ---------------------------------------------------------- */

/* The [miner:NAME] group that @host names: by NAME, by host:port or by
 * host alone. */
static const AmStaticMiner *
find_static_miner(const AmConfigFile *config, const char *host, const char *address_host,
                  guint16 port, gboolean port_given)
{
  GPtrArray *miners = config != NULL ? config->core.miners : NULL;
  for (guint i = 0; miners != NULL && i < miners->len; i++) {
    const AmStaticMiner *m = miners->pdata[i];
    if (g_strcmp0(m->name, host) == 0)
      return m;
    if (g_strcmp0(m->host, address_host) == 0 && (!port_given || m->port == port))
      return m;
  }
  return NULL;
}

/* Sets the miner's login as the daemon does (am-credentials.h: its own
 * [miner:NAME], else the first matching [credentials:NAME], else the
 * driver's) and remembers where it came from. @model and @driver are NULL
 * until the miner is identified. Returns TRUE when the login changed. */
static gboolean
apply_login(Direct *d, const char *model, const char *driver)
{
  g_autofree char *user = g_strdup(am_miner_get_username(d->miner));
  g_autofree char *password = g_strdup(am_miner_get_password(d->miner));
  const char *source = d->config != NULL
                           ? am_credentials_apply(d->config->credentials, d->miner, model, driver)
                           : NULL;
  g_free(d->login);
  if (g_strcmp0(source, "miner") == 0)
    d->login = g_strdup_printf("[miner:%s]", am_miner_get_name(d->miner));
  else if (source != NULL) /* the group's NAME, or its whole "credentials:NAME" */
    d->login = g_strdup_printf(
        "[%s%s]", g_str_has_prefix(source, "credentials:") ? "" : "credentials:", source);
  else
    d->login =
        g_strdup_printf("the [driver:%s] or factory login", driver != NULL ? driver : "NAME");
  return g_strcmp0(user, am_miner_get_username(d->miner)) != 0 ||
         g_strcmp0(password, am_miner_get_password(d->miner)) != 0;
}

/* @error's message, naming the refused login when the driver did not.
 * (transfer full) */
static char *
describe_error(const Direct *d, const GError *error)
{
  const char *user = am_miner_get_username(d->miner);
  if (!g_error_matches(error, AM_ERROR, AM_ERROR_AUTH))
    return g_strdup(error->message);
  if (user != NULL && strstr(error->message, user) == NULL)
    return g_strdup_printf("%s (user '%s' from %s)", error->message, user, d->login);
  if (user == NULL)
    return g_strdup_printf("%s (%s)", error->message, d->login);
  return g_strdup(error->message);
}

/* The miner @host names, with the settings of its [miner:NAME] group if it
 * has one. NULL (and a line on stderr) when @host is no address. */
static AmMiner *
make_miner(const AmConfigFile *config, const char *host)
{
  g_autoptr(GError) error = NULL;
  /* Default port 0, to tell "host" from "host:4028". */
  g_autoptr(GSocketConnectable) parsed = g_network_address_parse(host, 0, &error);
  if (parsed == NULL) {
    fprintf(stderr, "antmon action: %s: %s\n", host, error->message);
    return NULL;
  }
  GNetworkAddress *na = G_NETWORK_ADDRESS(parsed);
  gboolean port_given = g_network_address_get_port(na) != 0;
  guint16 port = port_given ? g_network_address_get_port(na) : 4028;
  const AmStaticMiner *m =
      find_static_miner(config, host, g_network_address_get_hostname(na), port, port_given);
  AmMiner *miner = m != NULL ? am_miner_new(m->host, m->port)
                             : am_miner_new(g_network_address_get_hostname(na), port);
  if (m != NULL) {
    am_miner_set_name(miner, m->name);
    am_miner_set_driver_pin(miner, m->driver);
    am_miner_set_credentials(miner, m->username, m->password);
  }
  guint64 timeout_ms = config != NULL ? config->core.poll_timeout_ms : REQUEST_TIMEOUT_MS;
  am_miner_set_timeout_ms(miner, (guint)timeout_ms);
  return miner;
}

static gboolean
cancel_at_deadline(gpointer user_data)
{
  g_cancellable_cancel(user_data);
  return G_SOURCE_REMOVE;
}

/* Picks the miner's driver and reads the baseline sample. */
static gboolean
identify(Direct *d, GPtrArray *drivers)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  /* Several drivers may be probed one after the other: give them a few
   * requests' time, as a whole. */
  guint deadline_ms = 3 * am_miner_get_timeout_ms(d->miner);
  guint deadline = g_timeout_add(deadline_ms, cancel_at_deadline, cancellable);
  GAsyncResult *result = NULL;
  am_selector_identify_async(drivers, d->miner, cancellable, keep_result, &result);
  g_autoptr(GError) error = NULL;
  d->driver = am_selector_identify_finish(wait_for(&result), &d->baseline, &error);
  g_object_unref(result);
  if (!g_cancellable_is_cancelled(cancellable))
    g_source_remove(deadline);
  if (d->driver == NULL) {
    if (g_cancellable_is_cancelled(cancellable))
      fprintf(stderr, "antmon action: %s: timed out identifying it after %.1f s\n",
              am_miner_get_address(d->miner), deadline_ms / 1000.0);
    else {
      g_autofree char *message = describe_error(d, error);
      fprintf(stderr, "antmon action: %s\n", message);
    }
    return FALSE;
  }
  return TRUE;
}

/* ---- the action JSON (antmon/context.h) ------------------------------- */

static char *
now_iso(void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  return g_date_time_format_iso8601(now);
}

static JsonObject *
action_new(const Direct *d)
{
  JsonObject *a = json_object_new();
  json_object_set_null_member(a, "id"); /* only the agent numbers actions */
  json_object_set_string_member(a, "action", am_action_kind_to_string(d->args->request.kind));
  json_object_set_string_member(a, "miner", am_miner_get_address(d->miner));
  json_object_set_member(a, "params", am_cli_action_params_json(d->args));
  json_object_set_string_member(a, "who", "cli");
  json_object_set_string_member(a, "state", "sending");
  json_object_set_null_member(a, "message");
  g_autofree char *created = now_iso();
  json_object_set_string_member(a, "created", created);
  json_object_set_null_member(a, "sent");
  json_object_set_null_member(a, "finished");
  json_object_set_null_member(a, "duration_s");
  json_object_set_null_member(a, "fleet");
  return a;
}

static void
action_set_state(Direct *d, const char *state, const char *message)
{
  json_object_set_string_member(d->action, "state", state);
  json_object_set_string_member(d->action, "message", message);
  if (g_str_equal(state, "confirming")) {
    g_autofree char *sent = now_iso();
    json_object_set_string_member(d->action, "sent", sent);
    d->started_us = g_get_monotonic_time();
    return;
  }
  if (g_str_equal(state, "sending"))
    return;
  g_autofree char *finished = now_iso();
  json_object_set_string_member(d->action, "finished", finished);
  if (d->started_us != 0) {
    double duration_s = (double)(g_get_monotonic_time() - d->started_us) / G_USEC_PER_SEC;
    json_object_set_double_member(d->action, "duration_s", duration_s);
  }
}

/* ---- support, sending, confirming -------------------------------------- */

/* The driver's write entries, or NULL when it was built before ABI 1.3 or
 * only reads. */
static const AmDriverVTable *
acting_vtable(const AmInstance *driver)
{
  const AmDriverVTable *vt = driver->info->vtable.driver;
  if (driver->info->abi_minor < 3 ||
      vt->struct_size < G_STRUCT_OFFSET(AmDriverVTable, act_finish) + sizeof vt->act_finish)
    return NULL;
  if (vt->actions == NULL || vt->act_async == NULL || vt->act_finish == NULL)
    return NULL;
  return vt;
}

static gboolean
can_do(const Direct *d, AmInstance *inst, const AmSample *sample)
{
  const AmDriverVTable *vt = acting_vtable(inst);
  return vt != NULL &&
         (vt->actions(inst->self, d->miner, sample) & AM_ACTION_BIT(d->args->request.kind)) != 0;
}

/* Who acts, as the agent's manager chooses (core/actions/am-actions.c):
 * the miner's driver, else its web companion ("antminer" read over the
 * RPC acts through "antminer-web", since stock firmware takes most
 * commands only there). NULL when neither can. */
static AmInstance *
choose_actor(const Direct *d, GPtrArray *drivers)
{
  if (can_do(d, d->driver, d->baseline))
    return d->driver;
  g_autofree char *web = g_strconcat(d->driver->info->name, "-web", NULL);
  for (guint i = 0; i < drivers->len; i++) {
    AmInstance *inst = drivers->pdata[i];
    /* It has not polled the miner: it says what the family supports. */
    if (g_str_equal(inst->info->name, web) && can_do(d, inst, NULL))
      return inst;
  }
  return NULL;
}

/* Why the action cannot run, worded as the agent words it. (transfer full) */
static char *
unsupported_reason(const Direct *d)
{
  const char *name = d->driver->info->name;
  const char *address = am_miner_get_address(d->miner);
  if (acting_vtable(d->driver) == NULL)
    return g_strdup_printf("the %s driver only reads %s: it has no actions", name, address);
  const AmSample *s = d->baseline;
  g_autoptr(GString) why = g_string_new(NULL);
  g_string_printf(why, "the %s driver cannot %s %s", name,
                  am_action_kind_to_string(d->args->request.kind), address);
  if (s->model != NULL)
    g_string_append_printf(why, " (%s%s%s)", s->model, s->firmware != NULL ? " on " : "",
                           s->firmware != NULL ? s->firmware : "");
  return g_string_free(g_steal_pointer(&why), FALSE);
}

/* Sends the action; FALSE with @error as the driver (or the network) said. */
static gboolean
send_action(Direct *d, GError **error)
{
  const AmDriverVTable *vt = acting_vtable(d->actor);
  GAsyncResult *result = NULL;
  vt->act_async(d->actor->self, d->miner, &d->args->request, NULL, keep_result, &result);
  gboolean ok = vt->act_finish(d->actor->self, wait_for(&result), error);
  g_object_unref(result);
  return ok;
}

/* One poll with @inst: the sample, or NULL with @error (a rebooting miner
 * refuses). */
static AmSample *
poll_once(Direct *d, AmInstance *inst, GError **error)
{
  GAsyncResult *result = NULL;
  am_driver_poll_async(inst, d->miner, NULL, keep_result, &result);
  AmSample *sample = am_driver_poll_finish(wait_for(&result), error);
  g_object_unref(result);
  return sample;
}

/* Polls every @interval_s until the confirmation logic says the miner
 * shows the action, or @timeout_s after it was sent. */
static void
confirm(Direct *d, double timeout_s, double interval_s)
{
  gint64 deadline_us = d->started_us + (gint64)(timeout_s * G_USEC_PER_SEC);
  g_autofree char *seen = g_strdup("no poll answered");
  while (g_get_monotonic_time() < deadline_us) {
    double left_s = (double)(deadline_us - g_get_monotonic_time()) / G_USEC_PER_SEC;
    pause_for(MIN(interval_s, MAX(left_s, 0.0)));
    g_autoptr(GError) error = NULL;
    /* A web companion that acted also reads what shows it (the light, the
     * mode), which the RPC driver may not. */
    AmSample *sample = poll_once(d, d->actor, &error);
    if (sample == NULL) {
      g_free(seen);
      seen = g_strdup_printf("the poll failed: %s", error->message);
      am_cli_action_progress(d->report, "waiting: %s", seen);
      continue;
    }
    double since_sent_s = (double)(g_get_monotonic_time() - d->started_us) / G_USEC_PER_SEC;
    g_free(seen);
    seen = NULL;
    AmConfirmVerdict verdict =
        am_action_confirm(&d->args->request, d->baseline, sample, since_sent_s, &seen);
    am_sample_unref(sample);
    if (verdict == AM_CONFIRM_YES) {
      action_set_state(d, "confirmed", seen);
      return;
    }
    if (verdict == AM_CONFIRM_NEVER) {
      /* Waiting longer would not show it either. */
      g_autofree char *message =
          g_strdup_printf("the firmware accepted it, but %s: no poll can show it", seen);
      action_set_state(d, "not_confirmed", message);
      return;
    }
    am_cli_action_progress(d->report, "waiting: %s", seen);
  }
  g_autofree char *message = g_strdup_printf("after %.0f s: %s", timeout_s, seen);
  action_set_state(d, "not_confirmed", message);
}

/* Once the driver and model are known, a [credentials:NAME] group that
 * asks for them may apply: then the baseline is read again with it. */
static gboolean
refresh_login(Direct *d)
{
  if (!apply_login(d, d->baseline->model, d->driver->info->name))
    return TRUE;
  g_autoptr(GError) error = NULL;
  AmSample *sample = poll_once(d, d->driver, &error);
  if (sample == NULL) {
    g_autofree char *message = describe_error(d, error);
    fprintf(stderr, "antmon action: %s\n", message);
    return FALSE;
  }
  am_sample_unref(d->baseline);
  d->baseline = sample;
  return TRUE;
}

/* The exit status of an action the driver refused to send. */
static int
report_send_error(Direct *d, const GError *error)
{
  if (g_error_matches(error, AM_ERROR, AM_ERROR_UNSUPPORTED)) {
    /* The firmware lacks it, or has writes switched off: no use retrying. */
    fprintf(stderr, "antmon action: %s: %s\n", am_miner_get_address(d->miner), error->message);
    return AM_EXIT_UNSUPPORTED;
  }
  g_autofree char *message = describe_error(d, error);
  action_set_state(d, "failed", message);
  return am_cli_action_report_end(d->report, d->action);
}

static int
act(Direct *d, GPtrArray *drivers, double timeout_s, double interval_s, gboolean no_wait)
{
  d->actor = choose_actor(d, drivers);
  if (d->actor == NULL) {
    g_autofree char *why = unsupported_reason(d);
    fprintf(stderr, "antmon action: %s\n", why);
    return AM_EXIT_UNSUPPORTED;
  }
  const char *action = am_action_kind_to_string(d->args->request.kind);
  g_autofree char *via =
      d->actor != d->driver ? g_strdup_printf(" through %s", d->actor->info->name) : g_strdup("");
  am_cli_action_progress(d->report, "%s: %s (driver %s): sending %s%s",
                         am_miner_get_address(d->miner),
                         d->baseline->model != NULL ? d->baseline->model : "unknown model",
                         d->driver->info->name, action, via);
  d->action = action_new(d);
  g_autoptr(GError) error = NULL;
  if (!send_action(d, &error))
    return report_send_error(d, error);
  action_set_state(d, "confirming", "the firmware accepted it");
  if (no_wait)
    return am_cli_action_report_end(d->report, d->action);
  am_cli_action_progress(d->report, "sent: %s accepted; waiting for the polls to show it", action);
  confirm(d, timeout_s, interval_s);
  return am_cli_action_report_end(d->report, d->action);
}

int
am_cli_action_direct(const char *config_path, const char *host, const AmCliActionArgs *args,
                     double timeout_s, double interval_s, gboolean no_wait,
                     AmCliActionReport *report)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = NULL;
  if (config_path != NULL && (config = am_config_file_load(config_path, &error)) == NULL) {
    fprintf(stderr, "antmon: %s\n", error->message);
    return AM_EXIT_USAGE;
  }
  Direct d = {.config = config, .args = args, .report = report};
  d.miner = make_miner(config, host);
  if (d.miner == NULL)
    return AM_EXIT_USAGE;
  apply_login(&d, NULL, NULL);

  g_auto(GStrv) dirs = am_plugin_dirs(config != NULL ? config->core.plugin_dirs : NULL);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  g_autoptr(AmContext) ctx = am_context_new(".", config_path);
  g_autoptr(AmInstances) instances = am_instances_new();
  am_instances_create_kind(instances, plugins, AM_PLUGIN_KIND_DRIVER, ctx,
                           config != NULL ? config->kf : NULL, config_path);
  g_autoptr(GPtrArray) drivers = am_instances_of_kind(instances, AM_PLUGIN_KIND_DRIVER);

  int status = AM_EXIT_FAILED;
  if (drivers->len == 0)
    fprintf(stderr, "antmon action: no driver plugins found (see `antmon plugins`)\n");
  else if (identify(&d, drivers) && refresh_login(&d))
    status = act(&d, drivers, timeout_s, interval_s, no_wait);
  if (d.action != NULL)
    json_object_unref(d.action);
  if (d.baseline != NULL)
    am_sample_unref(d.baseline);
  am_miner_unref(d.miner);
  g_free(d.login);
  return status;
}
