/* AmMiner: one miner as the core knows it: where it is, how to reach it,
 * and the last raw replies it sent (for the API's raw view).
 *
 * Opaque and reference counted; drivers read it through the accessors. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _AmMiner AmMiner;

/* Returns: (transfer full) a miner at @host:@port named after its host. */
AmMiner *am_miner_new(const char *host, guint16 port);
AmMiner *am_miner_ref(AmMiner *miner);
void am_miner_unref(AmMiner *miner);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmMiner, am_miner_unref)

const char *am_miner_get_host(const AmMiner *miner);
guint16 am_miner_get_port(const AmMiner *miner);
/* "host:port", or "[v6]:port". (transfer none) */
const char *am_miner_get_address(const AmMiner *miner);
const char *am_miner_get_name(const AmMiner *miner);
void am_miner_set_name(AmMiner *miner, const char *name);

/* Credentials for web APIs (HTTP digest, ...); NULL when not configured. */
const char *am_miner_get_username(const AmMiner *miner);
const char *am_miner_get_password(const AmMiner *miner);
void am_miner_set_credentials(AmMiner *miner, const char *username, const char *password);

/* Deadline for one request to this miner, connect and read together. */
guint am_miner_get_timeout_ms(const AmMiner *miner);
void am_miner_set_timeout_ms(AmMiner *miner, guint timeout_ms);

/* The driver pinned by [miner:NAME] driver=, or NULL. */
const char *am_miner_get_driver_pin(const AmMiner *miner);
void am_miner_set_driver_pin(AmMiner *miner, const char *driver);

/* Remembers the raw bytes of the last reply to @command (success or not)
 * while they are wanted: for 10 minutes after the raw view was last asked
 * for, and after a failed call or poll. Otherwise drops what was kept, so a
 * large fleet does not hold every reply in memory. */
void am_miner_store_raw(AmMiner *miner, const char *command, GBytes *raw);
/* Returns: (transfer full) a JSON object {command: {"when":..,"text":..}} of
 * the last raw replies, for /api/miners/{host}/raw; empty when none is kept.
 * Asking keeps the replies of the next polls (see am_miner_store_raw()). */
JsonNode *am_miner_raw_to_json(AmMiner *miner);

G_END_DECLS
