/* What the antminer-web module's poll (am-antminer-web.c) and actions
 * (am-antminer-web-act.c) share. */
#pragma once

#include "../common/am-web-call.h"

G_BEGIN_DECLS

typedef struct {
  guint16 port;     /* the web port for miners configured on the RPC port */
  guint timeout_ms; /* per request, at most; the miner's timeout may be shorter */
  char *username;   /* defaults when the miner has none of its own */
  char *password;
  SoupSession *session; /* shared by every poll: keeps digest nonces and sockets */
} AmAntminerWeb;

/* Fills @call's host, port, credentials and timeout for @miner; the
 * credentials are copied to *@username and *@password (free them after
 * the call). */
void am_antminer_web_call_init(AmAntminerWeb *self, AmMiner *miner, AmWebCall *call,
                               char **username, char **password);

AmActionSet am_antminer_web_vtable_actions(gpointer self, AmMiner *miner, const AmSample *sample);
void am_antminer_web_act_async(gpointer self, AmMiner *miner, const AmActionRequest *request,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean am_antminer_web_act_finish(gpointer self, GAsyncResult *result, GError **error);

G_END_DECLS
