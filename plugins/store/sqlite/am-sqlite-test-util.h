/* Helpers for the SQLite store's tests and benchmark: the plugin is driven
 * through its descriptor, as the daemon drives it. */
#pragma once

#include "am-context-private.h"
#include <antmon/antmon.h>

G_BEGIN_DECLS

/* Defined by AM_PLUGIN_DEFINE in am-sqlite-store.c, linked in. */
const AmPluginInfo *am_plugin_get_info(void);

typedef struct {
  char *dir;  /* a fresh temporary state directory */
  char *path; /* the database file in it */
  AmContext *ctx;
  gpointer self; /* the plugin instance, or NULL */
} AmStoreFixture;

/* The plugin's descriptor (linked in). */
const AmPluginInfo *am_store_test_info(void);

/* A fresh state directory; no instance yet. */
void am_store_fixture_init(AmStoreFixture *fx);
/* Creates the instance from "[store:sqlite]\n" + @extra_ini (may be NULL);
 * returns FALSE with @error when create() fails. */
gboolean am_store_fixture_open(AmStoreFixture *fx, const char *extra_ini, GError **error);
/* Destroys the instance (if any). */
void am_store_fixture_close(AmStoreFixture *fx);
/* Closes and removes the directory. */
void am_store_fixture_clear(AmStoreFixture *fx);

/* A finished sample of miner @host:@port at @when_s (epoch seconds) with
 * hashrate @ths, power @watts, @n_chains chains and @n_pools pools.
 * (transfer full) */
AmSample *am_store_test_sample(const char *host, guint16 port, double when_s, double ths,
                               double watts, guint n_chains, guint n_pools);

/* Writes @samples (and @events) in one batch, asserting success. */
void am_store_test_write(AmStoreFixture *fx, GPtrArray *samples, GPtrArray *events);

/* Runs @query with NULL-terminated key, value pairs; returns the result
 * object, or NULL with @error. */
JsonObject *am_store_test_query(AmStoreFixture *fx, GError **error, const char *query,
                                ...) G_GNUC_NULL_TERMINATED;

/* An event as the core makes it. Strings are copied into a block that is
 * freed with g_free(). */
AmEvent *am_store_test_event(double when_s, const char *miner, const char *kind, const char *name,
                             const char *detail);

/* Removes a directory tree. */
void am_store_test_rmtree(const char *dir);

G_END_DECLS
