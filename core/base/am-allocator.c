/* json-glib allocates every node of every reply with g_slice. With a few
 * hundred polls in flight, GLib 2.74's slice allocator keeps running out of
 * cached blocks and takes its global lock and slab path; that costs about an
 * eighth of the daemon's CPU in tests/bench/bench-poll.sh. GLib 2.76 made
 * g_slice a plain malloc for the same reason. GLib reads G_SLICE before
 * main() runs (its own constructors already allocate), so the one way to
 * choose malloc is to start again with the variable set. */
#include "am-allocator.h"

#include <malloc.h>
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

/* glibc raises its mmap threshold each time a large mmapped block is freed
 * (up to 32 MiB), after which a 40 MB /metrics reply and the store's
 * batches come from the heap, whose freed pages it keeps: RSS then grows
 * with every scrape and never comes back. A fixed threshold keeps large
 * blocks in their own mappings, unmapped on free. Each thread that
 * allocates (the store's writer, history queries) would also get its own
 * arena of up to 64 MiB; two are plenty for one loop and a few workers. */
void
am_allocator_tune(void)
{
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
  mallopt(M_ARENA_MAX, 2);
}

void
am_allocator_trim(void)
{
  malloc_trim(0);
}
