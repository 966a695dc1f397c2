/* MicroBT Whatsminer (btminer), read-only cgminer-style API: the pure
 * normalizer. JSON replies in, AmSample out; no I/O. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* The replies one poll gathers; any may be NULL (not answered). */
typedef struct {
  JsonObject *version; /* cgminer layout, or the Whatsminer one (Msg object) */
  JsonObject *summary; /* required */
  JsonObject *pools;
  JsonObject *status;         /* Whatsminer layout: STATUS a string, Msg an object */
  JsonObject *devs;           /* per-board detail, where answered */
  JsonObject *devdetails;     /* the model, where answered */
  JsonObject *get_psu;        /* Whatsminer layout: the PSU's model, firmware, fan */
  JsonObject *get_error_code; /* Whatsminer layout: Msg.error_code [{"<code>":"<time>"}] */
  JsonObject *get_miner_info; /* Whatsminer layout: Msg.ledstat (the light), hostname, mac */
} AmWhatsminerReplies;

/* SUPPORTED for the Whatsminer reply layout or a mention of btminer/bitmicro;
 * LIKELY for a mention of Whatsminer; MAYBE for the plain "cgminer 4.9.2"
 * that btminer reports; else UNSUPPORTED. Pure. */
AmMatch am_whatsminer_match(const AmFingerprint *fp);

/* Returns: (transfer full) the sample, or NULL with AM_ERROR_UNSUPPORTED (no
 * summary answer) or AM_ERROR_PARSE (a summary reply without SUMMARY). */
AmSample *am_whatsminer_parse(const AmWhatsminerReplies *replies, GError **error);

/* ---- shared by the v1/v2 and the v3 normalizers (no I/O) --------------- */

/* Vendor error codes gathered from any reply: a JsonArray of objects
 * {"code":N, "time":"...", "reason":"..."} (time and reason when told). */

/* Appends the codes of a Whatsminer error list to @errors: each element an
 * object holding one "<digits>":"<time>" member and optionally "reason"
 * (v2 get_error_code, v3 get.device.info error-code). A code already in
 * @errors is not added twice. At most AM_WHATSMINER_MAX_ERRORS are kept. */
#define AM_WHATSMINER_MAX_ERRORS 64
void am_whatsminer_read_error_list(JsonArray *errors, JsonArray *list);

/* Adds one code with no time or reason (v1 SUMMARY "Error Code N"). */
void am_whatsminer_add_error_code(JsonArray *errors, gint64 code);

/* Sets x_whatsminer_errors and, when there is any, one problem naming the
 * codes ("the miner reports 2 error code(s): 110, 600"). @count_only is a
 * count told without the codes (SUMMARY "Error Code Count"), used when
 * @errors is empty. */
void am_whatsminer_report_errors(AmSample *sample, JsonArray *errors, gint64 count_only);

/* Reads @key as a double and checks it lies in [@min, @max]; NAN otherwise.
 * Zero, negative and absurd readings are dropped this way. */
double am_whatsminer_reading(JsonObject *obj, const char *key, double min, double max);

/* Sets extras[x_whatsminer_@extra] to the number or the string at @key
 * when present. */
void am_whatsminer_extra_double(AmSample *sample, JsonObject *obj, const char *key,
                                const char *extra);
void am_whatsminer_extra_string(AmSample *sample, JsonObject *obj, const char *key,
                                const char *extra);

/* Sets sample->work_mode from the firmware's name of it: Low/Normal/High in
 * any case, or v3's 0/1/2, become "low"/"normal"/"high"; another non-empty
 * value is kept as told. */
void am_whatsminer_set_work_mode(AmSample *sample, const char *mode);

G_END_DECLS
