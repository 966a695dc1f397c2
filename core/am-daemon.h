/* The daemon: plugins instantiated from the configuration, the scheduler
 * fed by static miners and discovery, everything on one main loop. */
#pragma once

#include "am-config-file.h"
#include "am-plugin-loader.h"
#include "am-scheduler.h"

G_BEGIN_DECLS

typedef struct _AmDaemon AmDaemon;

/* Borrows @config and @plugins; both must outlive the daemon. */
AmDaemon *am_daemon_new(AmConfigFile *config, AmPluginSet *plugins);

/* Creates the plugin instances (a failing one is logged and skipped),
 * adds the static miners and starts discovery, polling and HTTP. Fails only
 * when the state directory cannot be made or no driver is available. */
gboolean am_daemon_start(AmDaemon *daemon, GError **error);

/* Tells systemd it is ready (sd_notify, when started as a Type=notify
 * service), then runs the main loop until SIGINT or SIGTERM (or
 * am_daemon_quit()). SIGHUP reloads what can be (am-daemon-private.h). */
void am_daemon_run(AmDaemon *daemon);
void am_daemon_quit(AmDaemon *daemon);

/* Stops polling and destroys every instance, last created first. */
void am_daemon_free(AmDaemon *daemon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmDaemon, am_daemon_free)

AmScheduler *am_daemon_get_scheduler(AmDaemon *daemon);

/* Applies [core] log_level=, log_format= and log_file=. FALSE when the log
 * file cannot be opened (logging then stays where it was). */
gboolean am_daemon_apply_log_settings(const AmCoreConfig *core, GError **error);

G_END_DECLS
