/* The braiins test program is five files: the RPC parser tables
 * (test-braiins.c, which holds main()), the REST and GraphQL parser tables
 * (test-braiins-rest.c, test-braiins-graphql.c) and the built module
 * against local servers (test-braiins-module.c for REST and RPC,
 * test-braiins-module-graphql.c for GraphQL). */
#pragma once

#include "am-plugin-loader.h"

#include <antmon/antmon.h>

/* Each adds its cases with g_test_add_func(). */
void am_braiins_rest_tests_add(void);
void am_braiins_graphql_tests_add(void);
void am_braiins_module_tests_add(void);
void am_braiins_module_graphql_tests_add(void);
void am_braiins_action_tests_add(void);

/* The built driver-braiins.so, loaded and created from @ini (NULL: no
 * group), as the core does; test-braiins-module.c. */
typedef struct {
  AmLoadedPlugin *plugin;
  const AmPluginInfo *info;
  gpointer self;
} AmBraiinsTestDriver;

void am_braiins_test_driver_open(AmBraiinsTestDriver *d, const char *ini);
void am_braiins_test_driver_close(AmBraiinsTestDriver *d);
/* One poll, the main context iterated until it ends; the sample finished. */
AmSample *am_braiins_test_driver_poll(AmBraiinsTestDriver *d, AmMiner *miner, GError **error);
/* Returns: (transfer full) a miner at 127.0.0.1:@port. */
AmMiner *am_braiins_test_local_miner(guint16 port, guint timeout_ms);

/* Returns: (transfer full) the bytes of tests/fixtures/@relpath exactly as
 * recorded (no NUL appended: the REST API is HTTP, not the RPC socket). */
GBytes *am_braiins_test_fixture(const char *relpath);
