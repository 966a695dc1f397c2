/* Helpers shared by the test programs. */
#pragma once

#include <antmon/antmon.h>

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

typedef struct {
  GSubprocess *proc;
  guint16 control_port;
  char *fleet_path;
} AmTestFleet;

/* A TCP port on 127.0.0.1 that was free a moment ago. */
guint16 am_test_free_port(void);

/* tests/fakeminer/profiles/@name. (transfer full) */
char *am_test_profile_dir(const char *name);

/* Starts $ANTMON_FAKEMINER with a fleet file holding @fleet_text (lines
 * "ADDRESS:PORT PROFILE_DIR [key=value...]") and a control port, and waits
 * for it to be ready. Aborts the test if it does not start. */
AmTestFleet *am_test_fleet_start(const char *fleet_text);

/* Sends one control line ("set 127.0.0.1 fault=refuse"); asserts "ok". */
void am_test_fleet_control(AmTestFleet *fleet, const char *command);

/* Stops the fleet (SIGTERM to its PID) and frees it. */
void am_test_fleet_stop(AmTestFleet *fleet);
