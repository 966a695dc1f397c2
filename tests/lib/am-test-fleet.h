/* A fake miner fleet ($ANTMON_FAKEMINER) for tests: started on a fleet
 * file, told what to do through its control port, stopped. GLib and GIO
 * only: the fake's own tests (tests/fakeminer/) use it too, and they must
 * not link libantmon. */
#pragma once

#include <gio/gio.h>

typedef struct {
  GSubprocess *proc;
  guint16 control_port;
  guint listeners; /* from the fake's "ready N listeners" line */
  char *fleet_path;
} AmTestFleet;

/* A launcher whose children get SIGTERM when the test process dies, so a
 * test that aborts half-way leaves no fake or daemon running. */
GSubprocessLauncher *am_test_launcher(GSubprocessFlags flags);

/* $ANTMON_FAKEMINER, the fake's program; aborts the test when it is not
 * set (outside meson test). */
const char *am_test_fakeminer_path(void);

/* tests/fakeminer/profiles/@name. (transfer full) */
char *am_test_profile_dir(const char *name);

/* Reads the fake's stdout up to "ready N listeners" and returns N; -1 when
 * it exited first. Sets *control_port (if not NULL) from "control PORT". */
int am_test_fleet_wait_ready(GSubprocess *proc, guint16 *control_port);

/* Starts $ANTMON_FAKEMINER with a fleet file holding @fleet_text (lines
 * "ADDRESS[:PORT] PROFILE [key=value...]"), a control port, --port @port
 * unless it is 0, and @args (NULL-terminated, may be NULL). Returns NULL
 * when the fake exited before it was ready (an address or port was
 * taken: the caller may try another). */
AmTestFleet *am_test_fleet_try_start(const char *fleet_text, guint16 port, const char *const *args);

/* As am_test_fleet_try_start() with no port or arguments; aborts the test
 * if the fake does not start. */
AmTestFleet *am_test_fleet_start(const char *fleet_text);

/* Chooses addresses and a port for a fleet (at random, say), sets *port
 * (0: none) and returns the fleet text for them. (transfer full) */
typedef char *(*AmTestFleetPick)(gpointer user_data, guint16 *port);

/* Starts a fleet on what @pick chooses, asking it again when the fake
 * cannot bind (another test may hold the addresses); aborts the test after
 * eight tries. @args as for am_test_fleet_try_start(). */
AmTestFleet *am_test_fleet_start_anywhere(AmTestFleetPick pick, gpointer user_data,
                                          const char *const *args);

/* Sends one line to the control port; returns every answer line (each
 * with its newline) up to "ok" or "error: ...". (transfer full) */
char *am_test_fleet_ask(AmTestFleet *fleet, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Sends one control line ("set 127.0.0.1 fault=refuse"); asserts "ok". */
void am_test_fleet_control(AmTestFleet *fleet, const char *command);

/* "set @host @settings" ("paused=1 uptime=60"); asserts "ok". */
void am_test_fleet_set(AmTestFleet *fleet, const char *host, const char *settings);

/* Whether the fake's `get @host` shows @setting ("paused=1", or several
 * in their order: "paused=0 locate=0"). */
gboolean am_test_fleet_shows(AmTestFleet *fleet, const char *host, const char *setting);

/* Asserts am_test_fleet_shows(), printing the whole `get` when not. */
void am_test_fleet_assert_shows(AmTestFleet *fleet, const char *host, const char *setting);

/* The writes @host accepted so far (`get`'s writes=N). */
guint am_test_fleet_writes(AmTestFleet *fleet, const char *host);

/* A test case (GTestDataFunc, @fleet an AmTestFleet) for the end of a
 * run: sends SIGTERM and asserts the fake ends cleanly, exit status 0
 * (under ASan: no leak either). */
void am_test_fleet_test_clean_exit(gconstpointer fleet);

/* Stops the fleet (SIGTERM unless it already exited), removes its fleet
 * file and frees it. NULL is ignored. */
void am_test_fleet_stop(AmTestFleet *fleet);
