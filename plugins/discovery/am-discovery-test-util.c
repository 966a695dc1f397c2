/* Test helpers: a private network namespace and small fleet utilities. */
#include "am-discovery-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static gboolean
write_file(const char *path, const char *text)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  gboolean ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
  close(fd);
  return ok;
}

/* Without root: a user namespace maps us to root in it, which may then own
 * a network namespace. */
static gboolean
unshare_as_user(void)
{
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
    return FALSE;
  g_autofree char *uid_map = g_strdup_printf("0 %u 1\n", (unsigned)uid);
  g_autofree char *gid_map = g_strdup_printf("0 %u 1\n", (unsigned)gid);
  write_file("/proc/self/setgroups", "deny");
  return write_file("/proc/self/uid_map", uid_map) && write_file("/proc/self/gid_map", gid_map);
}

static gboolean
loopback_up(void)
{
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return FALSE;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  g_strlcpy(ifr.ifr_name, "lo", sizeof ifr.ifr_name);
  gboolean ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  close(fd);
  return ok;
}

/* Kills what the test started and left running (it crashed, or an
 * assertion failed before the fleet was stopped): as a subreaper we
 * inherited those orphans. */
static void
kill_orphans(void)
{
  g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
  const char *name;
  while (proc != NULL && (name = g_dir_read_name(proc)) != NULL) {
    if (!g_ascii_isdigit(name[0]))
      continue;
    g_autofree char *path = g_build_filename("/proc", name, "stat", NULL);
    g_autofree char *stat = NULL;
    if (!g_file_get_contents(path, &stat, NULL, NULL))
      continue;
    /* "pid (comm) state ppid ...": comm may hold spaces, so after the ')'. */
    const char *close_paren = strrchr(stat, ')');
    int ppid = 0;
    char state;
    if (close_paren != NULL && sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2 &&
        ppid == getpid())
      kill(atoi(name), SIGKILL);
  }
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
    ;
}

static char **cleanup_argv;

void
am_test_cleanup_command(const char *const *argv)
{
  g_strfreev(cleanup_argv);
  cleanup_argv = g_strdupv((char **)argv);
}

/* The test runs in a child; this process only waits for it, then cleans
 * up after it and exits the way it did. */
static void
watch_over_the_test(void)
{
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t pid = fork();
  if (pid < 0)
    g_error("fork: %s", g_strerror(errno));
  if (pid == 0) {
    /* If the watcher is killed (a harness timeout), so is the test. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    return;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  kill_orphans();
  if (cleanup_argv != NULL)
    g_spawn_sync(NULL, cleanup_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    raise(WTERMSIG(status));
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

gboolean
am_test_enter_private_netns(void)
{
  watch_over_the_test();
  if (unshare(CLONE_NEWNET) != 0 && !unshare_as_user()) {
    g_printerr("# no private network namespace (%s): using a free port on loopback\n",
               g_strerror(errno));
    return FALSE;
  }
  if (!loopback_up())
    g_error("cannot bring up lo in the test's network namespace: %s", g_strerror(errno));
  return TRUE;
}

guint16
am_test_fleet_port(gboolean private_netns)
{
  if (private_netns)
    return 4028;
  g_autoptr(GSocket) sock =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(sock, any, FALSE, NULL));
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address(sock, NULL);
  return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

guint
am_test_count_fds(void)
{
  g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
  g_assert_nonnull(dir);
  guint n = 0;
  while (g_dir_read_name(dir) != NULL)
    n++;
  return n - 1; /* the directory's own fd */
}
