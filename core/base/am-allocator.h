/* Which allocator GLib's g_slice_*() uses, chosen once at start-up. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Makes g_slice_*() plain malloc on GLib older than 2.76, by executing the
 * program again with G_SLICE=always-malloc (returns when nothing is to be
 * done, or when that fails). Call first thing in main(). A G_SLICE already
 * in the environment is left as the user set it. */
void am_allocator_prefer_malloc(char **argv);

/* Tunes glibc's malloc for a daemon that lives for months: large buffers
 * (a /metrics reply, a store batch) go back to the system when freed, and
 * threads share two arenas. Call once, early in main(). */
void am_allocator_tune(void);

/* Gives free heap pages back to the system. The daemon calls it now and
 * then from its main loop. */
void am_allocator_trim(void);

G_END_DECLS
