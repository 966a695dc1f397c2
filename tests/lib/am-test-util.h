/* Helpers shared by the test programs. */
#pragma once

#include <antmon/antmon.h>

/* Path of @relpath under tests/ (G_TEST_SRCDIR). (transfer full) */
char *am_test_path(const char *relpath);

/* Reads tests/fixtures/@relpath, appends the NUL that real miner sockets
 * send, and returns the bytes. Aborts the test when the file is missing. */
GBytes *am_test_fixture_bytes(const char *relpath);

/* Reads a fixture as above and runs it through am_rpc_parse() (so every
 * firmware repair is exercised), asserting success.
 * Returns: (transfer full) the root object. */
JsonObject *am_test_fixture_object(const char *relpath);
