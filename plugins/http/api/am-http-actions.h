/* The control plane's endpoints, served only with [http:api] actions=true:
 *   POST /api/miners/{key}/actions   one action on one miner (202)
 *   GET  /api/miners/{key}/actions   what can be done to it, and why not
 *   POST /api/actions                one action on a selection (202, 200 dry run)
 *   GET  /api/actions/{id}           an action or fleet job as it goes */
#pragma once

#include "am-http-server.h"

G_BEGIN_DECLS

/* TRUE when @path is one of the paths above. */
gboolean am_http_actions_path(const char *path);

/* TRUE when @path is one that takes a body (a POST target). */
gboolean am_http_actions_takes_body(const char *path);

/* Answers a request for any of the paths above, whatever its method. */
void am_http_actions_dispatch(AmHttpRequest *req);

G_END_DECLS
