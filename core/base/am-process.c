/* The agent's own resources, read from /proc/self. */
#include "am-process.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* The number after @key ("\nVmRSS:" in "VmRSS:    12345 kB"), or 0. */
static guint64
status_number(const char *status, const char *key)
{
  const char *line = strstr(status, key);
  return line != NULL ? g_ascii_strtoull(line + strlen(key), NULL, 10) : 0;
}

static guint
count_fds(void)
{
  g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
  guint n = 0;
  while (dir != NULL && g_dir_read_name(dir) != NULL)
    n++;
  /* The directory's own descriptor was counted too. */
  return n > 0 ? n - 1 : 0;
}

void
am_process_stats(AmProcessStats *stats)
{
  memset(stats, 0, sizeof *stats);
  g_autofree char *status = NULL;
  if (g_file_get_contents("/proc/self/status", &status, NULL, NULL)) {
    stats->rss_bytes = status_number(status, "\nVmRSS:") * 1024;
    stats->rss_peak_bytes = status_number(status, "\nVmHWM:") * 1024;
    stats->threads = (guint)status_number(status, "\nThreads:");
  }
  stats->fds = count_fds();
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    stats->fd_limit = rl.rlim_cur == RLIM_INFINITY ? G_MAXUINT64 : rl.rlim_cur;
}

guint64
am_process_raise_fd_limit(guint64 *before)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return *before = 0;
  *before = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
      return *before;
  }
  return rl.rlim_cur;
}
