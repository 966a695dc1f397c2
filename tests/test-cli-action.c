/* `antmon action HOST ACTION [KEY=VALUE...]`, the real program, against the
 * fake fleet's write calls (tests/fakeminer/README.md "Write calls and
 * state"). Each test reads what a person sees (the last line, the exit
 * status, stderr) and asks the fake's control port what the miner's state
 * became, so a "confirmed" that did nothing fails.
 *
 *  - direct mode: pause, resume, reboot (Avalon, AxeOS), locate on and off
 *    (HOST as a [miner:NAME]), power_target, work_mode and pools confirmed;
 *    a stock Antminer acted on through its web companion; an action the
 *    driver or the firmware cannot do (exit 3 and why); wrong credentials
 *    from [miner:NAME] and [credentials:NAME] (exit 1, naming the user and
 *    where the login came from, never the password); a miner that ignores
 *    writes (not confirmed, with what the polls showed); --no-wait and
 *    --json; usage errors (exit 2);
 *  - --via: against an in-process stand-in for the agent's API (the
 *    token, the follow-up, 401, 409, 400), and against a real `antmon run`
 *    with [http:api] actions=true watching two of the fake miners. */
#include "am-test-util.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

/* The fleet: one miner per test that writes, so no test sees another's
 * state. RPC profiles listen on 4028 of their own address, beside their
 * web API on 80, as a real unit does. */
typedef enum {
  M_LUX_PAUSE,
  M_LUX_RESUME,
  M_LUX_IGNORE,
  M_LUX_NO_WAIT,
  M_AVALON_LOCATE,
  M_LUX_MODE,
  M_WEB_WRONG,
  M_WEB_GROUP,
  M_WEB_COMPANION,
  M_WEB_MODE,
  M_WEB_POOLS,
  M_BRAIINS_WRONG,
  M_BRAIINS_POWER,
  M_AVALON_REBOOT,
  M_BITAXE,
  M_AGENT_PAUSE,
  M_AGENT_OTHER,
  M_LAST,
} MinerId;

static const struct {
  const char *profile;
  gboolean rpc; /* serves the cgminer RPC: listed as ADDRESS:4028 */
} miners[M_LAST] = {
    /* clang-format off */
    [M_LUX_PAUSE] = {"luxos-actions", TRUE},
    [M_LUX_RESUME] = {"luxos-actions", TRUE},
    [M_LUX_IGNORE] = {"luxos-actions", TRUE},
    [M_LUX_NO_WAIT] = {"luxos-actions", TRUE},
    [M_AVALON_LOCATE] = {"avalon-a", TRUE},
    [M_LUX_MODE] = {"luxos-actions", TRUE},
    [M_WEB_WRONG] = {"antminer-s19pro-web", TRUE},
    [M_WEB_GROUP] = {"antminer-s19pro-web", TRUE},
    [M_WEB_COMPANION] = {"antminer-s19pro-web", TRUE},
    [M_WEB_MODE] = {"antminer-s19pro-web", TRUE},
    [M_WEB_POOLS] = {"antminer-s19pro-web", TRUE},
    [M_BRAIINS_WRONG] = {"braiins-rest-26", TRUE},
    [M_BRAIINS_POWER] = {"braiins-rest-26", TRUE},
    [M_AVALON_REBOOT] = {"avalon-a", TRUE},
    [M_BITAXE] = {"bitaxe-supra", FALSE},
    [M_AGENT_PAUSE] = {"luxos-actions", TRUE},
    /* another family: the agent keeps one miner per MAC address */
    [M_AGENT_OTHER] = {"avalon-a", TRUE},
    /* clang-format on */
};

static struct {
  AmTestFleet *fake;
  char *dir;
  guint8 net[2]; /* 127.net[0].net[1].x */
} fleet;

static char *
miner_host(MinerId id)
{
  return g_strdup_printf("127.%u.%u.%u", fleet.net[0], fleet.net[1], (guint)id + 1);
}

/* A random 127.x block for the fleet (another is tried if it is taken).
 * Reboots keep a miner away for 2 s instead of 5, so the tests are short. */
static char *
fleet_pick(gpointer user_data, guint16 *port)
{
  (void)user_data;
  (void)port;
  fleet.net[0] = (guint8)g_random_int_range(30, 250);
  fleet.net[1] = (guint8)g_random_int_range(1, 250);
  g_autofree char *profiles = am_test_path("fakeminer/profiles");
  GString *text = g_string_new("# written by test-cli-action\n");
  for (guint i = 0; i < M_LAST; i++) {
    if (miners[i].profile == NULL)
      g_error("miner %u has no line in the miners table", i);
    g_autofree char *host = miner_host(i);
    g_string_append_printf(text, "%s%s %s/%s reboot_s=2\n", host, miners[i].rpc ? ":4028" : "",
                           profiles, miners[i].profile);
  }
  return g_string_free(text, FALSE);
}

/* Stages a state on @id ("paused=1"). */
static void
miner_set(MinerId id, const char *settings)
{
  g_autofree char *host = miner_host(id);
  am_test_fleet_set(fleet.fake, host, settings);
}

/* The writes @id accepted so far (the fake's `get` writes=N). */
static guint
miner_writes(MinerId id)
{
  g_autofree char *host = miner_host(id);
  return am_test_fleet_writes(fleet.fake, host);
}

static void
assert_miner_shows(MinerId id, const char *setting)
{
  g_autofree char *host = miner_host(id);
  am_test_fleet_assert_shows(fleet.fake, host, setting);
}

/* ---- running antmon ----------------------------------------------------- */

/* Runs `antmon action ARGS...` (NULL-terminated). The main loop runs
 * meanwhile, so the in-process stand-in agent can answer it. The actions
 * tested are idempotent, so the one rerun am_test_antmon() may do (when
 * LeakSanitizer's tracer crashed) shows the same. */
static AmTestRun
run(const char *const *args)
{
  return am_test_antmon("action", args);
}

/* The last line of @text, without its newline. (transfer full) */
static char *
last_line(const char *text)
{
  g_autofree char *copy = g_strdup(text);
  g_strchomp(copy);
  const char *nl = strrchr(copy, '\n');
  return g_strdup(nl != NULL ? nl + 1 : copy);
}

/* Asserts @r exited with @status and its last stdout line starts with
 * @prefix. */
static void
assert_ended(const AmTestRun *r, int status, const char *prefix)
{
  g_autofree char *last = last_line(r->out);
  if (r->status != status || !g_str_has_prefix(last, prefix))
    g_error("expected exit %d and a last line '%s...', got exit %d\nstdout:\n%s\nstderr:\n%s",
            status, prefix, r->status, r->out, r->err);
}

static char *
write_file(const char *name, const char *text)
{
  char *path = g_build_filename(fleet.dir, name, NULL);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

/* ---- direct mode: confirmed by the polls -------------------------------- */

/* LuxOS `curtail sleep`: the fake reports CurtailMode Sleep and hashrate
 * 0, and the polls say so. */
static void
test_pause_confirmed(void)
{
  g_autofree char *host = miner_host(M_LUX_PAUSE);
  const char *args[] = {host, "pause", "--interval", "0.5", "--timeout", "30", NULL};
  AmTestRun r = run(args);
  assert_ended(&r, 0, "confirmed: ");
  /* the progress before it names the miner, its driver and the action */
  g_autofree char *first = g_strdup_printf("%s:4028: ", host);
  g_assert_true(g_str_has_prefix(r.out, first));
  g_assert_nonnull(strstr(r.out, "(driver luxos): sending pause\n"));
  assert_miner_shows(M_LUX_PAUSE, "paused=1");
  am_test_run_clear(&r);
}

static void
test_resume_confirmed(void)
{
  miner_set(M_LUX_RESUME, "paused=1");
  g_autofree char *host = miner_host(M_LUX_RESUME);
  const char *args[] = {host, "resume", "--interval", "0.5", "--timeout", "30", NULL};
  AmTestRun r = run(args);
  assert_ended(&r, 0, "confirmed: ");
  assert_miner_shows(M_LUX_RESUME, "paused=0");
  am_test_run_clear(&r);
}

/* Avalon `ascset 0,reboot,0`: the fake refuses connections for 2 s, then
 * its Elapsed starts from 0. The progress shows the refused polls. */
static void
test_reboot_confirmed(void)
{
  miner_set(M_AVALON_REBOOT, "uptime=86400");
  g_autofree char *host = miner_host(M_AVALON_REBOOT);
  const char *args[] = {host, "reboot", "--interval", "0.5", "--timeout", "60", NULL};
  AmTestRun r = run(args);
  assert_ended(&r, 0, "confirmed: ");
  g_assert_nonnull(strstr(r.out, "waiting: the poll failed: "));
  g_assert_cmpuint(miner_writes(M_AVALON_REBOOT), ==, 1);
  am_test_run_clear(&r);
}

/* AxeOS has no restart apart from reboot: `reboot` restarts ESP-Miner. */
static void
test_reboot_axeos(void)
{
  miner_set(M_BITAXE, "uptime=3600");
  g_autofree char *host = miner_host(M_BITAXE);
  const char *args[] = {host, "reboot", "--interval", "0.5", "--timeout", "60", NULL};
  AmTestRun r = run(args);
  assert_ended(&r, 0, "confirmed: ");
  g_assert_cmpuint(miner_writes(M_BITAXE), ==, 1);
  am_test_run_clear(&r);
}

/* Avalon `ascset 0,led,1-1` and `1-0`, the miner named by its
 * [miner:NAME] group: the light on (stats Led[1]), then off again. */
static void
test_locate_confirmed(void)
{
  g_autofree char *host = miner_host(M_AVALON_LOCATE);
  g_autofree char *text = g_strdup_printf("[miner:rack1-07]\nhost=%s\n", host);
  g_autofree char *ini = write_file("locate.ini", text);
  const char *on[] = {"rack1-07", "locate", "on=true", "-c", ini, "--interval", "0.5", NULL};
  AmTestRun r = run(on);
  assert_ended(&r, 0, "confirmed: light on");
  g_autofree char *first = g_strdup_printf("%s:4028: ", host);
  g_assert_true(g_str_has_prefix(r.out, first));
  assert_miner_shows(M_AVALON_LOCATE, "locate=1");
  am_test_run_clear(&r);

  const char *off[] = {"rack1-07", "locate", "on=false", "-c", ini, "--interval", "0.5", NULL};
  r = run(off);
  assert_ended(&r, 0, "confirmed: light off");
  assert_miner_shows(M_AVALON_LOCATE, "locate=0");
  am_test_run_clear(&r);
}

/* A stock Antminer is read over its RPC (driver antminer), which cannot
 * blink: the light goes through its web companion, antminer-web, as the
 * agent does it (blink.cgi with digest root/root), and the companion's
 * polls (get_blink_status.cgi) confirm it. */
static void
test_web_companion(void)
{
  g_autofree char *host = miner_host(M_WEB_COMPANION);
  const char *args[] = {host, "locate", "--interval", "0.5", "--timeout", "30", NULL};
  AmTestRun r = run(args);
  assert_ended(&r, 0, "confirmed: light on");
  if (strstr(r.out, "(driver antminer): sending locate through antminer-web\n") == NULL)
    g_error("expected the companion named in:\n%s", r.out);
  assert_miner_shows(M_WEB_COMPANION, "locate=1");
  am_test_run_clear(&r);
}

/* set_miner_conf.cgi with mode 3, through the web companion; the
 * companion reads get_miner_conf.cgi's bitmain-work-mode back. */
static void
test_work_mode_confirmed(void)
{
  g_autofree char *host = miner_host(M_WEB_MODE);
  const char *args[] = {host, "work_mode", "mode=low", "--interval", "0.5", NULL};
  AmTestRun r = run(args);
  assert_ended(&r, 0, "confirmed: work mode low");
  assert_miner_shows(M_WEB_MODE, "work_mode=low");
  am_test_run_clear(&r);
}

/* The RPC's own pool commands (addpool, switchpool, removepool); the
 * polls list exactly the new pool. The password is never printed. */
static void
test_pools_confirmed(void)
{
  g_autofree char *host = miner_host(M_WEB_POOLS);
  const char *args[] = {host,         "pools", "pool=stratum+tcp://pool.example:3333,me.1,pa,ss",
                        "--interval", "0.5",   "--json",
                        NULL};
  AmTestRun r = run(args);
  g_assert_cmpint(r.status, ==, 0);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, r.out, -1, NULL));
  JsonObject *a = json_node_get_object(json_parser_get_root(parser));
  g_assert_cmpstr(json_object_get_string_member(a, "state"), ==, "confirmed");
  g_assert_cmpstr(json_object_get_string_member(a, "message"), ==,
                  "1 pool, first stratum+tcp://pool.example:3333");
  JsonArray *pools =
      json_object_get_array_member(json_object_get_object_member(a, "params"), "pools");
  g_assert_cmpuint(json_array_get_length(pools), ==, 1);
  JsonObject *pool = json_array_get_object_element(pools, 0);
  g_assert_cmpstr(json_object_get_string_member(pool, "user"), ==, "me.1");
  g_assert_false(json_object_has_member(pool, "password"));
  g_assert_null(strstr(r.out, "pa,ss"));
  g_assert_null(strstr(r.err, "pa,ss"));
  g_autofree char *state = am_test_fleet_ask(fleet.fake, "get %s", host);
  if (strstr(state, "pools=stratum+tcp://pool.example:3333|me.1") == NULL)
    g_error("the fake should hold the new pool: %s", state);
  am_test_run_clear(&r);
}

/* The driver offers work_mode but LuxOS has no "low": the driver's reason,
 * exit 3, and the miner's profile unchanged. */
static void
test_refused_by_driver(void)
{
  g_autofree char *host = miner_host(M_LUX_MODE);
  g_autofree char *address = g_strdup_printf("%s:4028", host);
  const char *args[] = {address, "work_mode", "mode=low", NULL};
  AmTestRun r = run(args);
  g_assert_cmpint(r.status, ==, 3);
  g_autofree char *line =
      g_strdup_printf("antmon action: %s: work_mode low: LuxOS has only", address);
  if (!g_str_has_prefix(r.err, line))
    g_error("expected '%s...', got: %s", line, r.err);
  assert_miner_shows(M_LUX_MODE, "work_mode=-");
  am_test_run_clear(&r);
}

/* Braiins OS REST: PUT performance/power-target, then tuner-state and
 * configuration/miner report the target. */
static void
test_power_target_confirmed(void)
{
  g_autofree char *host = miner_host(M_BRAIINS_POWER);
  const char *args[] = {host, "power_target", "watts=3000", "--interval", "0.5", NULL};
  AmTestRun r = run(args);
  assert_ended(&r, 0, "confirmed: ");
  assert_miner_shows(M_BRAIINS_POWER, "power_limit_w=3000");
  am_test_run_clear(&r);
}

/* ---- direct mode: what goes wrong --------------------------------------- */

/* AxeOS has no pause: exit 3, one line saying which driver cannot, and
 * nothing was sent. */
static void
test_unsupported(void)
{
  g_autofree char *host = miner_host(M_BITAXE);
  guint writes = miner_writes(M_BITAXE);
  const char *args[] = {host, "pause", NULL};
  AmTestRun r = run(args);
  g_assert_cmpint(r.status, ==, 3);
  g_assert_cmpstr(r.out, ==, "");
  if (strstr(r.err, "axeos") == NULL || strstr(r.err, "pause") == NULL)
    g_error("expected the driver and the action in: %s", r.err);
  g_assert_cmpuint(miner_writes(M_BITAXE), ==, writes);
  am_test_run_clear(&r);
}

/* Runs @action on @id with a [miner:wrong] group pinning @driver and a
 * wrong password: exit 1, and never the password in what is printed. */
static AmTestRun
run_wrong_password(MinerId id, const char *driver, const char *action)
{
  g_autofree char *host = miner_host(id);
  g_autofree char *text = g_strdup_printf("[miner:wrong]\nhost=%s\ndriver=%s\n"
                                          "username=root\npassword=not-the-one\n",
                                          host, driver);
  g_autofree char *ini = write_file("wrong.ini", text);
  const char *args[] = {"wrong", action, "-c", ini, "--interval", "0.5", NULL};
  AmTestRun r = run(args);
  g_assert_cmpint(r.status, ==, 1);
  g_assert_null(strstr(r.err, "not-the-one"));
  g_assert_null(strstr(r.out, "not-the-one"));
  return r;
}

/* Braiins OS: the driver's message names the user itself. */
static void
test_wrong_credentials_braiins(void)
{
  AmTestRun r = run_wrong_password(M_BRAIINS_WRONG, "braiins", "pause");
  if (strstr(r.err, "wrong user or password") == NULL || strstr(r.err, "\"root\"") == NULL)
    g_error("expected the refused user \"root\" in: %s", r.err);
  assert_miner_shows(M_BRAIINS_WRONG, "paused=0");
  am_test_run_clear(&r);
}

/* The stock web UI's digest refusal does not: antmon adds which user, and
 * where its login came from. */
static void
test_wrong_credentials_web(void)
{
  AmTestRun r = run_wrong_password(M_WEB_WRONG, "antminer-web", "locate");
  if (strstr(r.err, "wrong username or password") == NULL ||
      strstr(r.err, "(user 'root' from [miner:wrong])") == NULL)
    g_error("expected the refused user 'root' and its group in: %s", r.err);
  assert_miner_shows(M_WEB_WRONG, "locate=0");
  am_test_run_clear(&r);
}

/* The login comes from a [credentials:NAME] group matching the host: the
 * refusal names the group, so the user knows which lines to fix. */
static void
test_wrong_credentials_group(void)
{
  g_autofree char *host = miner_host(M_WEB_GROUP);
  g_autofree char *text = g_strdup_printf("[credentials:s19-rack]\nhosts=%s\nuser=root\n"
                                          "password=not-the-one\n\n"
                                          "[miner:w]\nhost=%s\ndriver=antminer-web\n",
                                          host, host);
  g_autofree char *ini = write_file("group.ini", text);
  const char *args[] = {"w", "locate", "-c", ini, NULL};
  AmTestRun r = run(args);
  g_assert_cmpint(r.status, ==, 1);
  if (strstr(r.err, "(user 'root' from [credentials:s19-rack])") == NULL)
    g_error("expected the group named in: %s", r.err);
  g_assert_null(strstr(r.err, "not-the-one"));
  assert_miner_shows(M_WEB_GROUP, "locate=0");
  am_test_run_clear(&r);
}

/* The firmware answers success and does nothing: after the timeout the
 * last line says "not confirmed" and what the polls showed. */
static void
test_not_confirmed(void)
{
  miner_set(M_LUX_IGNORE, "ignore_actions=1");
  g_autofree char *host = miner_host(M_LUX_IGNORE);
  const char *args[] = {host, "pause", "--interval", "0.5", "--timeout", "2", NULL};
  AmTestRun r = run(args);
  assert_ended(&r, 1, "not confirmed: after 2 s: ");
  g_autofree char *last = last_line(r.out);
  g_assert_cmpuint(strlen(last), >, strlen("not confirmed: after 2 s: "));
  g_assert_cmpuint(miner_writes(M_LUX_IGNORE), ==, 1);
  assert_miner_shows(M_LUX_IGNORE, "paused=0");
  am_test_run_clear(&r);
}

/* --no-wait: done once the firmware took it; --json: the action JSON. */
static void
test_no_wait_json(void)
{
  g_autofree char *host = miner_host(M_LUX_NO_WAIT);
  const char *args[] = {host, "locate", "--no-wait", "--json", NULL};
  AmTestRun r = run(args);
  if (r.status != 0)
    g_error("exit %d: %s", r.status, r.err);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_data(parser, r.out, -1, &error))
    g_error("stdout is not JSON (%s): %s", error->message, r.out);
  JsonObject *a = json_node_get_object(json_parser_get_root(parser));
  g_autofree char *address = g_strdup_printf("%s:4028", host);
  g_assert_cmpstr(json_object_get_string_member(a, "action"), ==, "locate");
  g_assert_cmpstr(json_object_get_string_member(a, "miner"), ==, address);
  g_assert_cmpstr(json_object_get_string_member(a, "state"), ==, "confirming");
  g_assert_cmpstr(json_object_get_string_member(a, "who"), ==, "cli");
  g_assert_true(json_object_get_boolean_member(json_object_get_object_member(a, "params"), "on"));
  g_assert_false(json_object_get_null_member(a, "sent"));
  g_assert_true(json_object_get_null_member(a, "finished"));
  /* the progress went to stderr, leaving stdout to the JSON */
  g_assert_nonnull(strstr(r.err, "sending locate"));
  assert_miner_shows(M_LUX_NO_WAIT, "locate=1");
  am_test_run_clear(&r);
}

/* Bad words: exit 2 and a line saying what is wrong, nothing sent. */
static void
test_usage(void)
{
  g_autofree char *host = miner_host(M_LUX_NO_WAIT);
  guint writes = miner_writes(M_LUX_NO_WAIT);
  static const struct {
    const char *args[8];
    const char *says;
  } cases[] = {
      {{NULL}, "give HOST and ACTION"},
      {{"HOST", NULL}, "give HOST and ACTION"},
      {{"HOST", "explode", NULL}, "unknown action 'explode'"},
      {{"HOST", "power_target", NULL}, "power_target needs watts=N"},
      {{"HOST", "power_target", "watts=lots", NULL}, "watts=lots: expected a whole number"},
      {{"HOST", "work_mode", "mode=turbo", NULL}, "mode=turbo: expected low, normal or high"},
      {{"HOST", "locate", "on=maybe", NULL}, "on=maybe: expected true or false"},
      {{"HOST", "pause", "watts=3", NULL}, "pause takes no parameter 'watts'"},
      {{"HOST", "pools", NULL}, "pools needs pool=URL,USER[,PASSWORD]"},
      {{"HOST", "pools", "pool=stratum+tcp://p:3333", NULL}, "expected pool=URL,USER"},
      {{"HOST", "reboot", "--timeout", "0", NULL}, "--timeout must be more than 0"},
      {{"HOST", "reboot", "--via", "http://127.0.0.1:1", NULL}, "--via needs --token-file"},
      {{"HOST", "reboot", "--bogus", NULL}, "Unknown option --bogus"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *args[9] = {NULL};
    for (guint k = 0; cases[i].args[k] != NULL; k++)
      args[k] = g_str_equal(cases[i].args[k], "HOST") ? host : cases[i].args[k];
    AmTestRun r = run(args);
    if (r.status != 2 || strstr(r.err, cases[i].says) == NULL)
      g_error("case %u: expected exit 2 and '%s', got exit %d: %s", i, cases[i].says, r.status,
              r.err);
    g_assert_cmpstr(r.out, ==, "");
    am_test_run_clear(&r);
  }
  g_assert_cmpuint(miner_writes(M_LUX_NO_WAIT), ==, writes);
}

static void
test_help(void)
{
  const char *args[] = {"--help", NULL};
  AmTestRun r = run(args);
  g_assert_cmpint(r.status, ==, 0);
  static const char *const lines[] = {
      "HOST ACTION [KEY=VALUE...]",
      "power_target watts=N",
      "work_mode mode=M",
      "locate [on=true|false]",
      "pools pool=URL,USER[,PASSWORD]",
      "--via",
      "--token-file",
      "Exit status: 0 confirmed",
  };
  for (guint i = 0; i < G_N_ELEMENTS(lines); i++)
    if (strstr(r.out, lines[i]) == NULL)
      g_error("expected '%s' in --help:\n%s", lines[i], r.out);
  am_test_run_clear(&r);
}

/* ---- --via: a stand-in for the agent's API ------------------------------ */

#define TOKEN "t0ken-for-tests"

static struct {
  SoupServer *server;
  guint16 port;
  char *last_body;   /* the last POST's body */
  char *last_auth;   /* its Authorization header */
  guint gets;        /* GET /api/actions/a-1 so far */
  const char *final; /* the state the action ends in */
} agent;

static void
agent_reply(SoupServerMessage *msg, guint status, const char *json)
{
  soup_server_message_set_status(msg, status, NULL);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, json, strlen(json));
}

/* POST /api/miners/{host}/actions: 401 without the token; 409 for the
 * host "nopause"; 400 for watts over 9000; else 202 "sending". GET
 * /api/actions/a-1: "confirming" once, then agent.final. */
static void
agent_serve(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  (void)server, (void)query, (void)user_data;
  const char *auth =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  if (g_strcmp0(auth, "Bearer " TOKEN) != 0) {
    agent_reply(msg, 401,
                "{\"error\":{\"code\":\"unauthorized\",\"message\":\"missing or unknown token\"}}");
    return;
  }
  const char *method = soup_server_message_get_method(msg);
  if (g_str_equal(method, "POST") && g_str_has_prefix(path, "/api/miners/")) {
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    g_free(agent.last_body);
    agent.last_body = g_strndup(body->data, (gsize)body->length);
    g_free(agent.last_auth);
    agent.last_auth = g_strdup(auth);
    agent.gets = 0;
    if (g_str_equal(path, "/api/miners/nopause/actions"))
      agent_reply(msg, 409,
                  "{\"error\":{\"code\":\"unsupported\",\"message\":\"the axeos driver cannot "
                  "pause this miner\"}}");
    else if (strstr(agent.last_body, "\"watts\":9001") != NULL)
      agent_reply(msg, 400,
                  "{\"error\":{\"code\":\"invalid_parameter\",\"message\":\"watts=9001: above this "
                  "miner's 5000 W\"}}");
    else
      agent_reply(msg, 202,
                  "{\"id\":\"a-1\",\"action\":\"pause\",\"state\":\"sending\","
                  "\"message\":null}");
    return;
  }
  if (g_str_equal(method, "GET") && g_str_equal(path, "/api/actions/a-1")) {
    agent.gets++;
    g_autofree char *json =
        agent.gets == 1
            ? g_strdup("{\"id\":\"a-1\",\"state\":\"confirming\",\"message\":\"accepted\"}")
            : g_strdup_printf("{\"id\":\"a-1\",\"state\":\"%s\",\"message\":\"as the agent "
                              "saw it\"}",
                              agent.final);
    agent_reply(msg, 200, json);
    return;
  }
  agent_reply(msg, 404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such thing\"}}");
}

static void
agent_start(void)
{
  agent.server = soup_server_new(NULL, NULL);
  soup_server_add_handler(agent.server, "/api", agent_serve, NULL, NULL);
  agent.port = am_test_server_listen(agent.server, "127.0.0.1");
}

static void
agent_stop(void)
{
  soup_server_disconnect(agent.server);
  g_clear_object(&agent.server);
  g_free(agent.last_body);
  g_free(agent.last_auth);
}

static AmTestRun
run_via(const char *token, const char *host, const char *const *more)
{
  g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/", agent.port);
  g_autofree char *token_file = write_file("token", token);
  const char *args[16] = {"--via", url, "--token-file", token_file, "--interval", "0.2", host};
  guint n = 7;
  for (guint i = 0; more[i] != NULL; i++)
    args[n++] = more[i];
  return run(args);
}

/* The POST carries the token and the action JSON; the follow-up ends on
 * the agent's verdict, printed as in direct mode. */
static void
test_via_confirmed(void)
{
  agent.final = "confirmed";
  const char *more[] = {"pools", "pool=stratum+tcp://p.example:3333,me.1,x,y", NULL};
  AmTestRun r = run_via(TOKEN "\n", "127.0.0.1:4028", more);
  assert_ended(&r, 0, "confirmed: as the agent saw it");
  g_assert_nonnull(strstr(r.out, "confirming: accepted\n"));
  g_assert_cmpstr(agent.last_auth, ==, "Bearer " TOKEN);
  g_assert_cmpstr(agent.last_body, ==,
                  "{\"action\":\"pools\",\"pools\":[{\"url\":\"stratum+tcp://p.example:3333\","
                  "\"user\":\"me.1\",\"password\":\"x,y\"}]}");
  am_test_run_clear(&r);
}

static void
test_via_not_confirmed(void)
{
  agent.final = "not_confirmed";
  const char *more[] = {"pause", NULL};
  AmTestRun r = run_via(TOKEN, "127.0.0.1:4028", more);
  assert_ended(&r, 1, "not confirmed: as the agent saw it");
  am_test_run_clear(&r);
}

static void
test_via_refused(void)
{
  const char *pause[] = {"pause", NULL};
  AmTestRun r = run_via("wrong-token", "127.0.0.1:4028", pause);
  g_assert_cmpint(r.status, ==, 1);
  if (strstr(r.err, "the agent refused the token (401): missing or unknown token") == NULL)
    g_error("401: %s", r.err);
  am_test_run_clear(&r);

  r = run_via(TOKEN, "nopause", pause);
  g_assert_cmpint(r.status, ==, 3);
  g_assert_cmpstr(r.err, ==, "antmon action: the axeos driver cannot pause this miner\n");
  am_test_run_clear(&r);

  const char *watts[] = {"power_target", "watts=9001", NULL};
  r = run_via(TOKEN, "127.0.0.1:4028", watts);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "watts=9001: above this miner's 5000 W"));
  am_test_run_clear(&r);

  g_autofree char *empty = write_file("empty-token", " \n");
  const char *args[] = {"--via", "http://127.0.0.1:1", "--token-file", empty, "h", "pause", NULL};
  r = run(args);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "is empty"));
  am_test_run_clear(&r);
}

/* ---- --via: a real agent ------------------------------------------------ */

#define AGENT_TOKEN "agent-t0ken"

static struct {
  GSubprocess *process;
  char *url; /* http://127.0.0.1:PORT */
} agentd;

/* The URL in the line "HTTP API listening on URL ..." of the agent's log,
 * or NULL at the end of its log. The rest of the log is drained so the
 * agent never blocks on a full pipe. */
static char *
daemon_read_url(GInputStream *log)
{
  g_autoptr(GDataInputStream) in = g_data_input_stream_new(log);
  g_filter_input_stream_set_close_base_stream(G_FILTER_INPUT_STREAM(in), FALSE);
  for (;;) {
    g_autofree char *line = g_data_input_stream_read_line_utf8(in, NULL, NULL, NULL);
    if (line == NULL)
      return NULL;
    const char *at = strstr(line, "HTTP API listening on ");
    if (at == NULL)
      continue;
    at += strlen("HTTP API listening on ");
    g_autofree char *url = g_strndup(at, strcspn(at, " "));
    gsize len = strlen(url);
    if (len > 0 && url[len - 1] == '/')
      url[len - 1] = '\0';
    g_autoptr(GOutputStream) sink = g_memory_output_stream_new_resizable();
    g_output_stream_splice_async(sink, log, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, G_PRIORITY_DEFAULT,
                                 NULL, NULL, NULL);
    return g_steal_pointer(&url);
  }
}

/* Asks the agent what it can do to @host until its driver is chosen (the
 * agent identifies a miner at its first poll). */
static void
daemon_wait_identified(const char *host)
{
  g_autoptr(SoupSession) session = soup_session_new();
  g_autofree char *url = g_strdup_printf("%s/api/miners/%s/actions", agentd.url, host);
  for (guint attempt = 0;; attempt++) {
    g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                 "Bearer " AGENT_TOKEN);
    g_autoptr(GBytes) body = soup_session_send_and_read(session, msg, NULL, NULL);
    if (body != NULL && soup_message_get_status(msg) == 200 &&
        strstr(g_bytes_get_data(body, NULL), "\"pause\"") != NULL &&
        strstr(g_bytes_get_data(body, NULL), "\"supported\":[]") == NULL)
      return;
    if (attempt == 600)
      g_error("the agent did not identify %s: HTTP %u %s", host, soup_message_get_status(msg),
              body != NULL ? (const char *)g_bytes_get_data(body, NULL) : "(no reply)");
    g_usleep(100 * 1000);
  }
}

static void
daemon_start(void)
{
  g_autofree char *pause_host = miner_host(M_AGENT_PAUSE);
  g_autofree char *other_host = miner_host(M_AGENT_OTHER);
  g_autofree char *state = g_build_filename(fleet.dir, "state", NULL);
  g_autofree char *text = g_strdup_printf(
      "[core]\ninterval=1s\nstate_dir=%s\n\n[miner:agent-pause]\nhost=%s\n\n"
      "[miner:agent-other]\nhost=%s\n\n[http:api]\nlisten=127.0.0.1:0\ntoken=" AGENT_TOKEN
      "\nactions=true\n",
      state, pause_host, other_host);
  g_autofree char *ini = write_file("agent.ini", text);
  g_autoptr(GSubprocessLauncher) launcher =
      am_test_launcher(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GError) error = NULL;
  agentd.process =
      g_subprocess_launcher_spawn(launcher, &error, g_getenv("ANTMON_BIN"), "run", "-c", ini, NULL);
  g_assert_no_error(error);
  agentd.url = daemon_read_url(g_subprocess_get_stderr_pipe(agentd.process));
  if (agentd.url == NULL)
    g_error("the agent did not start its HTTP API");
  daemon_wait_identified(pause_host);
  daemon_wait_identified(other_host);
}

static void
daemon_stop(void)
{
  g_subprocess_send_signal(agentd.process, SIGTERM);
  g_subprocess_wait(agentd.process, NULL, NULL);
  g_clear_object(&agentd.process);
  g_free(agentd.url);
}

static AmTestRun
run_via_agent(const char *token, const char *const *more)
{
  g_autofree char *token_file = write_file("agent-token", token);
  const char *args[16] = {"--via", agentd.url, "--token-file", token_file, "--interval", "0.5"};
  guint n = 6;
  for (guint i = 0; more[i] != NULL; i++)
    args[n++] = more[i];
  return run(args);
}

/* The agent pauses the miner and confirms it from its polls. */
static void
test_agent_pause(void)
{
  g_autofree char *host = miner_host(M_AGENT_PAUSE);
  const char *more[] = {host, "pause", "--timeout", "60", NULL};
  AmTestRun r = run_via_agent(AGENT_TOKEN, more);
  assert_ended(&r, 0, "confirmed: ");
  assert_miner_shows(M_AGENT_PAUSE, "paused=1");
  am_test_run_clear(&r);
}

/* Avalon has no pool write: the agent's 409 and its reason, exit 3. */
static void
test_agent_unsupported(void)
{
  g_autofree char *host = miner_host(M_AGENT_OTHER);
  const char *more[] = {host, "pools", "pool=stratum+tcp://pool.example:3333,me", NULL};
  AmTestRun r = run_via_agent(AGENT_TOKEN, more);
  g_assert_cmpint(r.status, ==, 3);
  g_autofree char *why = g_strdup_printf("the avalon driver cannot pools %s:4028", host);
  if (strstr(r.err, why) == NULL)
    g_error("expected '%s' in: %s", why, r.err);
  g_assert_cmpuint(miner_writes(M_AGENT_OTHER), ==, 0);
  am_test_run_clear(&r);
}

static void
test_agent_token_refused(void)
{
  g_autofree char *host = miner_host(M_AGENT_OTHER);
  const char *more[] = {host, "locate", NULL};
  AmTestRun r = run_via_agent("not-the-token", more);
  g_assert_cmpint(r.status, ==, 1);
  g_autofree char *line =
      g_strdup_printf("antmon action: %s: the agent refused the token (401)", agentd.url);
  if (!g_str_has_prefix(r.err, line))
    g_error("expected '%s...', got: %s", line, r.err);
  g_assert_cmpuint(miner_writes(M_AGENT_OTHER), ==, 0);
  am_test_run_clear(&r);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  fleet.dir = g_dir_make_tmp("antmon-action-XXXXXX", NULL);
  fleet.fake = am_test_fleet_start_anywhere(fleet_pick, NULL, NULL);
  agent_start();
  daemon_start();

  g_test_add_func("/action/help", test_help);
  g_test_add_func("/action/direct/pause", test_pause_confirmed);
  g_test_add_func("/action/direct/resume", test_resume_confirmed);
  g_test_add_func("/action/direct/reboot", test_reboot_confirmed);
  g_test_add_func("/action/direct/reboot-axeos", test_reboot_axeos);
  g_test_add_func("/action/direct/locate", test_locate_confirmed);
  g_test_add_func("/action/direct/refused-by-driver", test_refused_by_driver);
  g_test_add_func("/action/direct/web-companion", test_web_companion);
  g_test_add_func("/action/direct/work-mode", test_work_mode_confirmed);
  g_test_add_func("/action/direct/pools", test_pools_confirmed);
  g_test_add_func("/action/direct/power-target", test_power_target_confirmed);
  g_test_add_func("/action/direct/unsupported", test_unsupported);
  g_test_add_func("/action/direct/wrong-credentials-braiins", test_wrong_credentials_braiins);
  g_test_add_func("/action/direct/wrong-credentials-web", test_wrong_credentials_web);
  g_test_add_func("/action/direct/wrong-credentials-group", test_wrong_credentials_group);
  g_test_add_func("/action/direct/not-confirmed", test_not_confirmed);
  g_test_add_func("/action/direct/no-wait-json", test_no_wait_json);
  g_test_add_func("/action/usage", test_usage);
  g_test_add_func("/action/via/confirmed", test_via_confirmed);
  g_test_add_func("/action/via/not-confirmed", test_via_not_confirmed);
  g_test_add_func("/action/via/refused", test_via_refused);
  g_test_add_func("/action/via/agent-pause", test_agent_pause);
  g_test_add_func("/action/via/agent-unsupported", test_agent_unsupported);
  g_test_add_func("/action/via/agent-token-refused", test_agent_token_refused);

  int status = g_test_run();
  daemon_stop();
  agent_stop();
  am_test_fleet_stop(fleet.fake);
  g_autoptr(GDir) dir = g_dir_open(fleet.dir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = g_build_filename(fleet.dir, name, NULL);
    g_unlink(path);
  }
  g_rmdir(fleet.dir);
  g_free(fleet.dir);
  return status;
}
