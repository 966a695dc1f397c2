/* The daemon's parts, shared by its files (am-daemon.c: start and stop;
 * am-daemon-reload.c: SIGHUP). */
#pragma once

#include "am-actions.h"
#include "am-alerts.h"
#include "am-daemon.h"
#include "am-exporters.h"
#include "am-instances.h"
#include "am-service.h"
#include "am-store-queue.h"

G_BEGIN_DECLS

struct _AmDaemon {
  AmConfigFile *config;
  AmPluginSet *plugins;
  AmContext *ctx;
  AmInstances *instances;
  GPtrArray *drivers;
  GPtrArray *sinks;
  GPtrArray *discovery;
  AmStoreQueue *store;
  AmAlerts *alerts;
  AmScheduler *scheduler;
  AmActions *actions;
  GPtrArray *exporter_instances; /* AmInstance* of kind exporter */
  AmExporters *exporters;
  GMainLoop *loop;
  guint sigint_id;
  guint sigterm_id;
  guint sighup_id;
  guint trim_id;
  gint64 budget_warned_us;
  AmService *service;
  /* Every configuration SIGHUP loaded (AmConfigFile*), kept until the end:
   * parts made from one may still point into it. d->config is the last. */
  GPtrArray *reloaded;
};

/* SIGHUP: reads the configuration again and applies what can change while
 * running (log settings, alert rules, sinks, [miner:NAME] and
 * [credentials:NAME] groups); names every changed key that needs a restart.
 * A file with errors changes nothing. */
void am_daemon_reload(AmDaemon *d);

/* Adds the [miner:NAME] miners of @config to the scheduler. */
void am_daemon_add_static_miners(AmDaemon *d, AmConfigFile *config);

G_END_DECLS
