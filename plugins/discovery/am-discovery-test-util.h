/* Helpers for the discovery and polling tests (their own network namespace,
 * fleets of fake miners on scattered loopback addresses). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Forks: the test goes on in the child, and the parent waits for it, then
 * kills whatever it left running (a fleet, after a failed assertion) and
 * exits the way the test did. Then moves the test (and every child it
 * starts later) into a network
 * namespace of its own with only "lo", up: the whole of 127.0.0.0/8 and
 * every port are then the test's, and nothing it does can reach a real
 * interface. Call first thing in main(), before any thread exists. Needs
 * root (CI) or unprivileged user namespaces; returns FALSE when neither is
 * available, and the test then uses a free port on the shared loopback. */
gboolean am_test_enter_private_netns(void);

/* A command the watcher (see above) runs once the test has ended, however
 * it ended, e.g. to delete a network namespace the test made with `ip netns
 * add`. Call before am_test_enter_private_netns(). */
void am_test_cleanup_command(const char *const *argv);

/* The port fleets use: 4028 inside a private namespace, else one that was
 * free on 127.0.0.1 a moment ago. */
guint16 am_test_fleet_port(gboolean private_netns);

/* Number of file descriptors this process has open. */
guint am_test_count_fds(void);

G_END_DECLS
