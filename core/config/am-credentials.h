/* Credentials for groups of miners: the [credentials:NAME] groups of
 * antmon.ini, and the order in which a miner's login is chosen.
 *
 *   [credentials:rack-s19]
 *   hosts=10.0.0.0/16;10.1.0.10-10.1.0.99;10.2.0.*;fd00:1::/64
 *   model=Antminer S19*;Antminer T19*
 *   driver=antminer;antminer-web
 *   user=root
 *   password=${RACK_S19_PASSWORD}     (or password_file=/etc/antmon/s19.pass)
 *
 * A group matches a miner when every one of hosts=, model= and driver= that
 * it sets matches (an unset one matches anything; a group must set at least
 * one). A miner whose model or driver is not known yet matches no group
 * that asks for one.
 *
 * A miner's login, first found wins (as a pair: a source that sets only one
 * of user and password leaves the other to the driver):
 *   1. its own [miner:NAME] username=/password=;
 *   2. the FIRST [credentials:NAME] group that matches it, in file order;
 *   3. the driver's [driver:NAME] user=/password= (the driver applies it);
 *   4. the firmware's factory login (the driver applies it too). */
#pragma once

#include <antmon/miner.h>

G_BEGIN_DECLS

typedef struct _AmCredentials AmCredentials;

/* Reads and validates every [credentials:NAME] group of @kf (loaded from
 * @path, used for messages). A bad value: NULL with AM_ERROR_CONFIG
 * "PATH: [credentials:NAME] key=value: expected ...". A group's password
 * never appears in a message. Returns: (transfer full), possibly with no
 * groups. */
AmCredentials *am_credentials_load(GKeyFile *kf, const char *path, GError **error);
void am_credentials_free(AmCredentials *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmCredentials, am_credentials_free)

/* The number of enabled groups. */
guint am_credentials_get_n_groups(const AmCredentials *c);

/* Records that the miner at @address ("host:port", as am_miner_get_address)
 * has its own [miner:NAME] login, which am_credentials_apply() then uses
 * instead of any group. am_config_file_load() calls it for every
 * [miner:NAME] that sets username= or password=. */
void am_credentials_add_own(AmCredentials *c, const char *address, const char *user,
                            const char *password);

/* The first group matching @host (an IPv4 or IPv6 literal, "[v6]" too, or a
 * host name), @model and @driver (each may be NULL: unknown). On a match
 * sets @user and @password (either may be NULL: not set by the group) and
 * @group_name ("NAME" of [credentials:NAME]), each (transfer none) and
 * valid while @c lives; any out pointer may be NULL. Cheap: addresses are
 * numbers compared with the groups' parsed networks and ranges. */
gboolean am_credentials_lookup(AmCredentials *c, const char *host, const char *model,
                               const char *driver, const char **user, const char **password,
                               const char **group_name);

/* Sets @miner's login by the order above: its own if it has one, else the
 * first matching group's, else none (so the driver's [driver:NAME] or
 * factory login applies). Call it when the miner is added (@model and
 * @driver NULL), after identification (@driver known) and when its model
 * first appears in a sample: a group asking for a model starts to match
 * then. Changes the miner only when the login differs, so a driver never
 * sees its strings freed under an unchanged login. Returns the group's name
 * that was applied, "miner" for the miner's own, or NULL for none. @c may
 * be NULL (no configuration): nothing is changed. */
const char *am_credentials_apply(AmCredentials *c, AmMiner *miner, const char *model,
                                 const char *driver);

G_END_DECLS
