/* The antminer-web driver's normalizer: the JSON that newer Bitmain stock
 * firmware serves from /cgi-bin/ (summary.cgi, stats.cgi, ...) in, one
 * AmSample out. Pure: no I/O, no global state, so it is tested table-driven
 * against recorded replies (tests/fixtures/http-cgi/) and fuzzed.
 *
 * The CGI layout differs from the cgminer RPC one: STATUS is an object with
 * a lowercase "when", the model is INFO.type, keys are lowercase
 * ("rate_5s", "elapsed") with the unit in "rate_unit", and stats.cgi gives
 * one object per hash board in STATS[0].chain[] with temperature arrays. */
#pragma once

#include "../antminer/am-antminer-models.h"

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* The realm stock Antminer web servers put in their 401 challenge. */
#define AM_ANTMINER_WEB_REALM "antMiner Configuration"

/* The root objects of the CGI replies of one poll; any may be NULL (not
 * served, HTTP 404, or not asked). */
typedef struct {
  JsonObject *summary;     /* /cgi-bin/summary.cgi */
  JsonObject *stats;       /* /cgi-bin/stats.cgi */
  JsonObject *pools;       /* /cgi-bin/pools.cgi */
  JsonObject *system_info; /* /cgi-bin/get_system_info.cgi, or get_network_info.cgi */
  JsonObject *miner_conf;  /* /cgi-bin/get_miner_conf.cgi: the mode (sleep, low, ...) */
  JsonObject *blink;       /* /cgi-bin/get_blink_status.cgi: the locate light */
} AmAntminerWebReplies;

/* SUPPORTED for the stock realm on an HTTP 401, else UNSUPPORTED: without
 * the web server there is nothing for this driver to read. */
AmMatch am_antminer_web_match(const AmFingerprint *fp);

/* Fills model (minertype), mac (macaddr), hostname (hostname, else
 * conf_hostname) and, when the sample has none yet, firmware_version
 * (system_filesystem_version) from a get_system_info.cgi or
 * get_network_info.cgi reply. Returns FALSE when @reply is NULL or not an
 * object of that kind (no macaddr and no minertype). */
gboolean am_antminer_web_read_system_info(AmSample *sample, JsonObject *reply);

/* Fills mining (SLEEPING for mode 1, HASHING for 0, 2 and 3) and work_mode
 * ("normal", "high", "low"; none while asleep) from a get_miner_conf.cgi
 * reply. Returns FALSE, changing nothing, when @conf is NULL or has no
 * numeric mode. */
gboolean am_antminer_web_read_miner_conf(AmSample *sample, JsonObject *conf);

/* Fills locate from a get_blink_status.cgi reply: {"blink": true} (a
 * boolean, or "true"/"false") on newer images, {"isBlinking": ...} on older
 * ones. Returns FALSE, changing nothing, when it says neither. */
gboolean am_antminer_web_read_blink(AmSample *sample, JsonObject *reply);

/* Normalizes one poll's replies into a new sample whose driver is
 * "antminer-web"; host, port and when are left for the core, and
 * am_sample_finish() is not called. A reply whose STATUS is an error counts
 * as absent.
 * Errors: AM_ERROR_UNSUPPORTED (neither summary nor stats), AM_ERROR_API
 * (both carry an error STATUS), AM_ERROR_PARSE (neither has its data block).
 * Returns: (transfer full) the sample, or NULL with @error. */
AmSample *am_antminer_web_parse(const AmAntminerWebReplies *replies, GError **error);

/* The mode get_miner_conf.cgi reports ("miner-mode", else
 * "bitmain-work-mode"; a number or a numeric string), or -1 when it has
 * neither or the value is not a number. */
gint am_antminer_web_conf_mode(JsonObject *conf);

G_END_DECLS
