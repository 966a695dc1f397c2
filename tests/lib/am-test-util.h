/* Helpers shared by the test programs. */
#pragma once

#include "am-instances.h"
#include <antmon/antmon.h>
#include <libsoup/soup.h>

/* Path of @relpath under tests/ (G_TEST_SRCDIR). (transfer full) */
char *am_test_path(const char *relpath);

/* Reads tests/fixtures/@relpath, appends the NUL that real miner sockets
 * send, and returns the bytes. Aborts the test when the file is missing. */
GBytes *am_test_fixture_bytes(const char *relpath);

/* Reads a fixture as above and runs it through am_rpc_parse() (so every
 * firmware repair is exercised), asserting success.
 * Returns: (transfer full) the root object. */
JsonObject *am_test_fixture_object(const char *relpath);

/* ---- a fake miner fleet for integration tests ------------------------- */

#include "am-test-fleet.h"

/* A TCP port on 127.0.0.1 that was free a moment ago. */
guint16 am_test_free_port(void);

/* Fleet lines "HOST PROFILE [key=value...]" (PROFILE a directory name under
 * tests/fakeminer/profiles/) as a fleet file's text: each HOST gets @port
 * unless it names its own ("HOST:PORT"). (transfer full) */
char *am_test_fleet_text(const char *lines, guint16 port);

/* ---- the driver plugins, as the daemon loads them ---------------------- */

typedef struct {
  AmPluginSet *plugins;
  AmContext *ctx;
  AmInstances *instances;
  GPtrArray *drivers; /* AmInstance of every driver plugin */
} AmTestDrivers;

/* Loads the plugins of am_plugin_dirs() ($ANTMON_PLUGIN_DIR in the tests)
 * and makes an instance of every driver, unconfigured, with a context of
 * its own. */
void am_test_drivers_load(AmTestDrivers *d);

/* Frees what am_test_drivers_load() made, the drivers first. */
void am_test_drivers_clear(AmTestDrivers *d);

/* ---- in-process servers ------------------------------------------------ */

/* Makes @server listen on @host (an IPv4 address such as "127.0.0.1") at
 * a port the system picks, and returns that port. */
guint16 am_test_server_listen(SoupServer *server, const char *host);

/* ---- waiting on the main loop ------------------------------------------ */

typedef gboolean (*AmTestCondition)(gpointer data);

/* Runs the default main context until @cond holds. The 60 s limit only
 * guards liveness (something is broken if it is reached), not speed: it
 * aborts the test naming @what. */
void am_test_wait_for(AmTestCondition cond, gpointer data, const char *what);

/* ---- running the antmon program ---------------------------------------- */

typedef struct {
  int status; /* the exit status, -1 when a signal ended it */
  char *out;
  char *err;
} AmTestRun;

/* Runs $ANTMON_BIN @command @args... (@args NULL-terminated, may be NULL)
 * and collects what it printed and its exit status. The default main
 * context runs meanwhile, so an in-process server can answer it. */
AmTestRun am_test_antmon_once(const char *command, const char *const *args);

/* As am_test_antmon_once(), for commands that can run twice to the same
 * effect: under ASan, LeakSanitizer's own tracer now and then crashes at
 * exit ("Tracer caught signal 11", google/sanitizers#1353), a fault of the
 * tool and not a leak (a leak says "detected memory leaks"), so that one
 * failure is run again, once. */
AmTestRun am_test_antmon(const char *command, const char *const *args);

void am_test_run_clear(AmTestRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AmTestRun, am_test_run_clear)
