/* One epoll set for every listener and connection, seen by the GLib main
 * loop as a single fd.
 *
 * Why not one g_unix_fd_add() per fd: GLib polls every source's fd on every
 * loop iteration (O(listeners) per wake-up, and a fleet has hundreds) and
 * signals its wake-up eventfd each time a source is added or removed, which
 * a short-lived connection does twice. Here a watch change is one
 * epoll_ctl() and a wake-up costs only the ready fds.
 */
#include "am-fakeminer.h"
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EVENTS_PER_DISPATCH 256

struct _AmFmPoll {
  GSource *source;
  int epoll_fd;
};

typedef struct {
  GSource base;
  AmFmPoll *poll;
} PollSource;

static guint32
to_epoll(GIOCondition condition)
{
  guint32 events = 0;
  if (condition & G_IO_IN)
    events |= EPOLLIN;
  if (condition & G_IO_OUT)
    events |= EPOLLOUT;
  return events;
}

static GIOCondition
from_epoll(guint32 events)
{
  GIOCondition condition = 0;
  if (events & EPOLLIN)
    condition |= G_IO_IN;
  if (events & EPOLLOUT)
    condition |= G_IO_OUT;
  if (events & EPOLLERR)
    condition |= G_IO_ERR;
  if (events & EPOLLHUP)
    condition |= G_IO_HUP;
  return condition;
}

/* Each fd is reported at most once per epoll_wait(), and a watch is only
 * freed by its own callback (or outside dispatch), so no event of this batch
 * can point at a freed watch. */
static gboolean
poll_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
  AmFmPoll *poll = ((PollSource *)source)->poll;
  struct epoll_event events[EVENTS_PER_DISPATCH];
  int n = epoll_wait(poll->epoll_fd, events, EVENTS_PER_DISPATCH, 0);
  for (int i = 0; i < n; i++) {
    AmFmWatch *watch = events[i].data.ptr;
    watch->ready(watch, from_epoll(events[i].events));
  }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs poll_funcs = {
    .dispatch = poll_dispatch,
};

AmFmPoll *
am_fm_poll_new(void)
{
  AmFmPoll *poll = g_new0(AmFmPoll, 1);
  poll->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (poll->epoll_fd < 0)
    g_error("epoll_create1: %s", g_strerror(errno));
  poll->source = g_source_new(&poll_funcs, sizeof(PollSource));
  ((PollSource *)poll->source)->poll = poll;
  g_source_set_static_name(poll->source, "antmon-fakeminer epoll");
  g_source_add_unix_fd(poll->source, poll->epoll_fd, G_IO_IN);
  g_source_attach(poll->source, NULL);
  return poll;
}

void
am_fm_poll_free(AmFmPoll *poll)
{
  if (poll == NULL)
    return;
  g_source_destroy(poll->source);
  g_source_unref(poll->source);
  close(poll->epoll_fd);
  g_free(poll);
}

void
am_fm_poll_watch(AmFmPoll *poll, AmFmWatch *watch, GIOCondition condition)
{
  if (watch->watching == condition)
    return;
  struct epoll_event ev = {.events = to_epoll(condition), .data.ptr = watch};
  int op = watch->watching == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(poll->epoll_fd, op, watch->fd, &ev) < 0)
    g_error("epoll_ctl(%d): %s", watch->fd, g_strerror(errno));
  watch->watching = condition;
}

void
am_fm_poll_unwatch(AmFmPoll *poll, AmFmWatch *watch)
{
  if (watch->watching == 0)
    return;
  epoll_ctl(poll->epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
  watch->watching = 0;
}
