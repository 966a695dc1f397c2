/* Shared inside the epic normalizer (am-epic-parse.c, am-epic-boards.c):
 * small readers and the board/cooling/power part. Not a plugin ABI. */
#pragma once

#include "am-epic-parse.h"

G_BEGIN_DECLS

#define AM_EPIC_DRIVER_NAME "epic"

/* A string member with something other than blanks in it, else NULL. */
const char *am_epic_nonblank(JsonObject *obj, const char *key);

/* A number member in [@min, @max], else NAN. */
double am_epic_number_in(JsonObject *obj, const char *key, double min, double max);

/* A reading where 0 means "not measured" (PowerPlay writes 0.0 for
 * sensors a board or PSU lacks): a number > 0, else NAN. */
double am_epic_positive(JsonObject *obj, const char *key);

/* A whole number from 0 up, else AM_UNKNOWN. */
gint64 am_epic_count(JsonObject *obj, const char *key);

/* A JSON boolean member: TRUE with *out set, or FALSE when absent. */
gboolean am_epic_bool(JsonObject *obj, const char *key, gboolean *out);

/* HBs[] and HBStatus[] of /summary, /temps, /hashrate, /temps/chip and
 * the board serials of /capabilities: one chain per hashing board, the
 * total hashrate, the boards expected and a warning for each detected
 * board left disabled. */
void am_epic_read_boards(AmSample *sample, const AmEpicReplies *replies);

/* "Fans Rpm": one slot per "Fans Speed N"; null is an empty slot. */
void am_epic_read_fans(AmSample *sample, JsonObject *summary);

/* "Power Supply Stats": the PSU's input power is the miner's. */
void am_epic_read_power(AmSample *sample, JsonObject *summary);

G_END_DECLS
