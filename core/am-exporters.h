/* The exporters' side of the daemon: hears the scheduler (miners added and
 * forgotten, samples, state changes) and tells every [exporter:NAME]
 * instance, as AmExporterVTable describes. */
#pragma once

#include "am-instances.h"
#include "am-scheduler.h"

G_BEGIN_DECLS

typedef struct _AmExporters AmExporters;

/* Starts each exporter of @instances (AmInstance* of kind exporter,
 * borrowed) and hooks them to @scheduler; NULL when there is none. Both
 * must outlive the result. */
AmExporters *am_exporters_new(AmScheduler *scheduler, GPtrArray *instances);
/* Unhooks from the scheduler; the instances themselves stay. */
void am_exporters_free(AmExporters *exporters);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmExporters, am_exporters_free)

G_END_DECLS
