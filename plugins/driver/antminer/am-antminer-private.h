/* The antminer module's instance and action entries, shared by
 * am-antminer.c (the vtable), am-antminer-act.c (the cgminer writes) and
 * am-antminer-vnish-act.c (VNish's web API). */
#pragma once

#include "../common/am-web-call.h"
#include "am-antminer-parse.h"

#include <antmon/antmon.h>

G_BEGIN_DECLS

typedef struct {
  AmAntminerOptions options;
  /* VNish's web API: web_port= (80), timeout=, password= (factory "admin") */
  AmWebSettings web;
} AmAntminer;

AmActionSet am_antminer_vtable_actions(gpointer self, AmMiner *miner, const AmSample *sample);
void am_antminer_act_async(gpointer self, AmMiner *miner, const AmActionRequest *request,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
gboolean am_antminer_act_finish(gpointer self, GAsyncResult *result, GError **error);

/* reboot, pause, resume or locate through VNish's web API on @web's port,
 * with the miner's password or @web's. Completes when the firmware took
 * the call. */
void am_antminer_vnish_act_async(const AmWebSettings *web, AmMiner *miner,
                                 const AmActionRequest *request, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean am_antminer_vnish_act_finish(GAsyncResult *result, GError **error);

G_END_DECLS
