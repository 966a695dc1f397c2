/* The antminer module's action entries (am-antminer-act.c), for the
 * vtable in am-antminer.c. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

AmActionSet am_antminer_vtable_actions(gpointer self, AmMiner *miner, const AmSample *sample);
void am_antminer_act_async(gpointer self, AmMiner *miner, const AmActionRequest *request,
                           GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
gboolean am_antminer_act_finish(gpointer self, GAsyncResult *result, GError **error);

G_END_DECLS
