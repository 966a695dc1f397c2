/* antmon-fakeminer: serves recorded miner replies (the cgminer RPC, HTTP web
 * APIs, Whatsminer API v3) from many loopback addresses at once, with faults
 * on demand. Used by the integration tests,
 * `make demo` and the benchmarks. See tests/fakeminer/README.md.
 *
 * Exit status: 0 after SIGINT/SIGTERM, 2 for a usage, fleet, profile,
 * address or bind error (the message names the culprit).
 */
#include "am-fakeminer.h"
#include <glib-unix.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>

#define EXIT_USAGE 2

typedef struct {
  char *base;
  int count;
  int port;
  char *profile;
  char *fault;
  char **settings;
  char *fleet;
  char *profiles_root;
  char *control;
} Options;

static void
options_clear(Options *o)
{
  g_free(o->base);
  g_free(o->profile);
  g_free(o->fault);
  g_strfreev(o->settings);
  g_free(o->fleet);
  g_free(o->profiles_root);
  g_free(o->control);
}

G_GNUC_PRINTF(2, 3)
static gboolean
usage_error(GError **error, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error_literal(error, AM_FM_ERROR, AM_FM_ERROR_USAGE, message);
  return FALSE;
}

static gboolean
parse_options(int argc, char **argv, Options *o, GError **error)
{
  o->count = 1;
  o->port = 4028;
  GOptionEntry entries[] = {
      {"base", 0, 0, G_OPTION_ARG_STRING, &o->base, "First miner address (127.0.0.0/8 or ::1)",
       "ADDR"},
      {"count", 0, 0, G_OPTION_ARG_INT, &o->count, "Number of miners from --base (default 1)", "N"},
      {"port", 0, 0, G_OPTION_ARG_INT, &o->port,
       "RPC port of every miner (default 4028); see --set http_port=, v3_port=, web_port=", "PORT"},
      {"profile", 0, 0, G_OPTION_ARG_FILENAME, &o->profile, "Profile directory for --base", "DIR"},
      {"fault", 0, 0, G_OPTION_ARG_STRING, &o->fault, "Fault of every --base miner", "KIND"},
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->settings,
       "Setting for every miner (repeatable): joined, hashrate_scale, temp_offset, drip_ms, "
       "http_port, "
       "v3_port, ...",
       "KEY=VALUE"},
      {"fleet", 0, 0, G_OPTION_ARG_FILENAME, &o->fleet, "Fleet file, one miner per line", "FILE"},
      {"profiles-root", 0, 0, G_OPTION_ARG_FILENAME, &o->profiles_root,
       "Directory relative profile names resolve against", "DIR"},
      {"control", 0, 0, G_OPTION_ARG_STRING, &o->control,
       "Open the control port (e.g. 127.0.0.1:0)", "ADDR:PORT"},
      {NULL},
  };
  g_autoptr(GOptionContext) context = g_option_context_new("- a fleet of fake miners on loopback");
  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, &argc, &argv, error))
    return FALSE;
  if (argc > 1)
    return usage_error(error, "unexpected argument '%s'", argv[1]);
  if ((o->base == NULL) == (o->fleet == NULL))
    return usage_error(error, "give either --base ADDR --profile DIR or --fleet FILE");
  if (o->base != NULL && o->profile == NULL)
    return usage_error(error, "--base needs --profile");
  if (o->fleet != NULL && o->fault != NULL)
    return usage_error(error, "--fault goes with --base; in a fleet file use fault=KIND");
  if (o->count < 1 || o->count > 65536)
    return usage_error(error, "--count %d: expected 1-65536", o->count);
  if (o->port < 1 || o->port > 65535)
    return usage_error(error, "--port %d: expected 1-65535", o->port);
  guint16 port = 0;
  g_autoptr(GInetAddress) control = NULL;
  /* Checked before anything binds, like every other address. */
  if (o->control != NULL && (control = am_fm_parse_host_port(o->control, &port, error)) == NULL) {
    g_prefix_error(error, "--control: ");
    return FALSE;
  }
  return TRUE;
}

/* --set pairs, plus --fault as one more for the --base form. */
static GStrv
collect_settings(const Options *o)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
  if (o->settings != NULL)
    g_strv_builder_addv(builder, (const char **)o->settings);
  if (o->fault != NULL) {
    g_autofree char *pair = g_strconcat("fault=", o->fault, NULL);
    g_strv_builder_add(builder, pair);
  }
  return g_strv_builder_end(builder);
}

static GPtrArray *
build_fleet(const Options *o, const AmFmProfileLookup *lookup, GError **error)
{
  g_auto(GStrv) settings = collect_settings(o);
  if (o->fleet != NULL)
    return am_fm_fleet_from_file(o->fleet, (guint16)o->port, (const char *const *)settings,
                                 o->profiles_root, lookup->cache, error);
  return am_fm_fleet_from_range(o->base, (guint)o->count, (guint16)o->port, o->profile,
                                (const char *const *)settings, lookup, error);
}

/* Each miner is a listening fd, and busy ones hold a few more. */
static void
raise_fd_limit(void)
{
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

static gboolean
on_quit_signal(gpointer data)
{
  g_main_loop_quit(data);
  return G_SOURCE_CONTINUE;
}

static int
fail(GError *error)
{
  g_printerr("antmon-fakeminer: %s\n", error->message);
  return EXIT_USAGE;
}

/* Binds, announces on stdout, and serves until @loop quits. */
static int
start_and_run(const Options *o, GPtrArray *miners, const AmFmProfileLookup *lookup, GMainLoop *loop)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AmFmServer) server = am_fm_server_new(miners);
  if (!am_fm_server_start(server, &error))
    return fail(error);
  g_autoptr(AmFmControl) control = NULL;
  if (o->control != NULL) {
    control = am_fm_control_new(o->control, server, miners, lookup, &error);
    if (control == NULL)
      return fail(error);
    printf("control %u\n", am_fm_control_get_port(control));
  }
  /* Tests and scripts wait for this line: every listener is bound. */
  printf("ready %u listeners\n", am_fm_server_count_listeners(server));
  fflush(stdout);
  g_main_loop_run(loop);
  return 0;
}

/* Serves until SIGINT or SIGTERM. */
static int
serve(const Options *o, GPtrArray *miners, const AmFmProfileLookup *lookup)
{
  /* Handlers first: a script may send SIGTERM the moment it reads "ready". */
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  guint sigint = g_unix_signal_add(SIGINT, on_quit_signal, loop);
  guint sigterm = g_unix_signal_add(SIGTERM, on_quit_signal, loop);
  int status = start_and_run(o, miners, lookup, loop);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  return status;
}

static int
run(const Options *o)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cwd = g_get_current_dir();
  AmFmProfileCache *cache = am_fm_profile_cache_new();
  AmFmProfileLookup lookup = {.cache = cache, .profiles_root = o->profiles_root, .base_dir = cwd};
  GPtrArray *miners = build_fleet(o, &lookup, &error);
  int status = miners != NULL ? serve(o, miners, &lookup) : fail(error);
  /* Let cancelled control-port operations call back and free their state. */
  while (g_main_context_iteration(NULL, FALSE))
    ;
  if (miners != NULL)
    g_ptr_array_unref(miners);
  am_fm_profile_cache_free(cache);
  return status;
}

int
main(int argc, char **argv)
{
  Options options = {0};
  g_autoptr(GError) error = NULL;
  signal(SIGPIPE, SIG_IGN); /* sends use MSG_NOSIGNAL; this covers the rest */
  raise_fd_limit();
  if (!parse_options(argc, argv, &options, &error)) {
    options_clear(&options);
    return fail(error);
  }
  int status = run(&options);
  options_clear(&options);
  return status;
}
