/* The example driver's pure parser: replies in, one AmSample out, no I/O.
 * Keeping it apart from the module lets tests feed it recorded replies and
 * lets a fuzzer feed it anything. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

typedef struct {
  guint fans_expected; /* fan headers on the board: fewer spinning is "degraded" */
} AmExampleOptions;

/* SUPPORTED when the "version" reply names ExampleOS, else UNSUPPORTED. */
AmMatch am_example_match(const AmFingerprint *fp);

/* @version and @summary are whole reply objects (STATUS included); @version
 * may be NULL. Returns: (transfer full) a sample, or NULL with
 * AM_ERROR_PARSE when @summary has no SUMMARY object. */
AmSample *am_example_parse(JsonObject *version, JsonObject *summary,
                           const AmExampleOptions *options, GError **error);

G_END_DECLS
