/* What the poll glue learns about a miner between polls, so a poll asks
 * only what it must (kept on the miner, see am_miner_set_note()):
 *  - the "version" fingerprint, read once and asked again after a restart
 *    (uptime went backwards), a firmware change, a parse failure, or
 *    AM_LEARN_VERSION_MAX_AGE_US;
 *  - whether the firmware answers cgminer's joined commands ("a+b+c" in
 *    one connection): tried until it fails, then not again until the
 *    firmware changes. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* How long a kept "version" reply is trusted without any sign of change. */
#define AM_LEARN_VERSION_MAX_AGE_US (6 * G_TIME_SPAN_HOUR)

/* The miner's note that turns all of this off (value "single"): every
 * command on its own connection, "version" on every poll, as before. */
#define AM_LEARN_NOTE_ROUNDS "rpc.rounds"
/* "yes" once a joined reply read well, "no" once one failed. */
#define AM_LEARN_NOTE_JOINED "rpc.joined"

/* TRUE when the miner asks to be polled the old way (one command per
 * connection, "version" every time). */
gboolean am_learn_single_only(AmMiner *miner);

/* Returns: (transfer full) the kept "version" reply while it may be
 * trusted, or NULL when it must be asked. */
AmRpcReply *am_learn_kept_version(AmMiner *miner);
/* Keeps @reply (a "version" that read well) for the next polls; NULL
 * forgets it, so the next poll asks. */
void am_learn_keep_version(AmMiner *miner, AmRpcReply *reply);

/* TRUE unless this firmware is known to fail joined commands. */
gboolean am_learn_try_joined(AmMiner *miner);
/* TRUE once a joined command read well on this firmware. */
gboolean am_learn_joined_works(AmMiner *miner);
/* Records how a joined command went on this miner. */
void am_learn_joined_result(AmMiner *miner, gboolean worked);

/* Compares what this poll read (command -> AmRpcReply*) with what earlier
 * polls did: the uptime ("Elapsed") and the firmware's own description of
 * itself. Returns TRUE when the miner restarted or its firmware changed
 * since: then the kept "version" is forgotten and joined commands are
 * tried again, and the caller asks "version" anew. The first poll only
 * records. */
gboolean am_learn_notice_change(AmMiner *miner, GHashTable *replies);

G_END_DECLS
