/* AmMiner internals shared by the core (transport, scheduler, context). */
#pragma once

#include <antmon/miner.h>

G_BEGIN_DECLS

/* Keeps the raw replies of the next calls to @miner for a while (the raw
 * view was asked for, or a call or poll failed and its bytes matter). */
void am_miner_want_raw(AmMiner *miner);

/* TRUE while the raw view wants the replies of @miner's calls (so a joined
 * reply is worth splitting into per-command bytes). */
gboolean am_miner_raw_wanted(AmMiner *miner);

/* TRUE when some raw reply of @miner is kept. */
gboolean am_miner_has_raw(AmMiner *miner);

G_END_DECLS
