/* Plugin instances: create() each configured plugin group, destroy in
 * reverse order. A create() that fails is logged and skipped. */
#pragma once

#include "am-plugin-loader.h"

G_BEGIN_DECLS

typedef struct {
  const AmPluginInfo *info;
  char *group; /* "driver:antminer", "sink:webhook:ops" */
  gpointer self;
} AmInstance;

typedef struct {
  GPtrArray *items;    /* AmInstance*, in creation order */
  guint failed;        /* create() failures, each already logged */
  guint config_failed; /* of those, configuration mistakes (AM_ERROR_CONFIG) */
} AmInstances;

/* Creates instances of every loaded plugin of @kind: for drivers one per
 * plugin (its [driver:NAME] group optional); for other kinds one per ini
 * group "<kind>:<name>[:instance]" whose plugin is loaded. Groups with
 * enabled=false are skipped. */
void am_instances_create_kind(AmInstances *instances, AmPluginSet *plugins, AmPluginKind kind,
                              AmContext *ctx, GKeyFile *kf, const char *config_path);

AmInstances *am_instances_new(void);
/* Destroys every instance, last created first. */
void am_instances_free(AmInstances *instances);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmInstances, am_instances_free)

/* The instances of @kind, in creation order. (transfer container) */
GPtrArray *am_instances_of_kind(AmInstances *instances, AmPluginKind kind);

/* Moves the instances of @kind out of @instances, keeping their order, into
 * a new set: what a reload replaces. (transfer full) */
AmInstances *am_instances_take_kind(AmInstances *instances, AmPluginKind kind);

/* Moves every instance of @from to the end of @to; @from is left empty. */
void am_instances_move_all(AmInstances *to, AmInstances *from);

/* The driver instance named @name, or NULL. (transfer none) */
AmInstance *am_instances_find_driver(AmInstances *instances, const char *name);

G_END_DECLS
