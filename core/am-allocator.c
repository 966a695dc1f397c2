/* json-glib allocates every node of every reply with g_slice. With a few
 * hundred polls in flight, GLib 2.74's slice allocator keeps running out of
 * cached blocks and takes its global lock and slab path; that costs about an
 * eighth of the daemon's CPU in tests/bench/bench-poll.sh. GLib 2.76 made
 * g_slice a plain malloc for the same reason. GLib reads G_SLICE before
 * main() runs (its own constructors already allocate), so the one way to
 * choose malloc is to start again with the variable set. */
#include "am-allocator.h"

#include <unistd.h>

void
am_allocator_prefer_malloc(char **argv)
{
  if (glib_check_version(2, 76, 0) == NULL)
    return; /* 2.76 or newer: g_slice is malloc already */
  if (g_getenv("G_SLICE") != NULL)
    return; /* the user's setting, or our own second start */
  /* The resolved path, not /proc/self/exe: the process name ("comm") comes
   * from the file executed, and ps, pidof and journald should say "antmon". */
  g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
  if (self == NULL || !g_setenv("G_SLICE", "always-malloc", TRUE))
    return;
  execv(self, argv);
  g_unsetenv("G_SLICE"); /* exec failed: run on with the slice allocator */
}
