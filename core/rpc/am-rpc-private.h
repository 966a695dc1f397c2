/* AmRpcReply internals shared by the transport's files. */
#pragma once

#include <antmon/rpc.h>

G_BEGIN_DECLS

/* Returns: (transfer full) a reply whose root is @section (one command's
 * part of a joined reply, referenced, not copied). Its raw bytes are made
 * from the tree when am_rpc_reply_get_raw() is first called. */
AmRpcReply *am_rpc_reply_new_part(JsonObject *section);

G_END_DECLS
