/* The core's side of AmContext: what the accessors in antmon/context.h
 * read. The daemon fills these in as the parts come up; each may be NULL
 * (in `antmon query`, or before start). */
#pragma once

#include "am-actions.h"
#include "am-alerts.h"
#include "am-plugin-loader.h"
#include "am-scheduler.h"
#include "am-store-queue.h"
#include <antmon/context.h>

G_BEGIN_DECLS

struct _AmContext {
  char *state_dir;
  char *config_path;
  gint64 started_us;      /* monotonic */
  gint64 memory_budget;   /* [core] memory_budget= bytes, 0: not running */
  AmPluginSet *plugins;   /* borrowed */
  AmScheduler *scheduler; /* borrowed */
  AmStoreQueue *store;    /* borrowed */
  AmAlerts *alerts;       /* borrowed */
  GPtrArray *discovery;   /* AmInstance*, borrowed */
  AmActions *actions;     /* borrowed */
};

AmContext *am_context_new(const char *state_dir, const char *config_path);
void am_context_free(AmContext *ctx);

/* Fills @view from @e (pointers into @e: valid while it is). */
void am_context_fill_view(AmMinerView *view, AmScheduler *scheduler, AmMinerEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmContext, am_context_free)

G_END_DECLS
