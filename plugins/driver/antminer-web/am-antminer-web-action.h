/* The antminer-web driver's actions, pure: which ones a unit supports, the
 * exact CGI request for each, and how to read the firmware's answer. The
 * module (am-antminer-web.c) only sends what these build.
 *
 *   reboot     POST /cgi-bin/reboot.cgi        {}
 *   locate     POST /cgi-bin/blink.cgi         {"blink":"true"} / "false"
 *   pause      POST /cgi-bin/set_miner_conf.cgi  mode 1 (sleep)
 *   resume     POST /cgi-bin/set_miner_conf.cgi  mode 0 (normal)
 *   work_mode  POST /cgi-bin/set_miner_conf.cgi  mode 3 low, 0 normal, 2 high
 *   pools      POST /cgi-bin/set_miner_conf.cgi  "pools": three url/user/pass rows
 *
 * set_miner_conf.cgi rewrites the miner's configuration from what it is
 * posted, so every write first reads GET /cgi-bin/get_miner_conf.cgi and
 * posts back the fields the web UI's own form posts (fan control, fan PWM,
 * frequency level, mode, pools) with only the asked-for one changed. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_ANTMINER_WEB_GET_CONF "/cgi-bin/get_miner_conf.cgi"
#define AM_ANTMINER_WEB_SET_CONF "/cgi-bin/set_miner_conf.cgi"

/* The stock modes, as get_miner_conf/set_miner_conf number them. */
typedef enum {
  AM_ANTMINER_MODE_NORMAL = 0,
  AM_ANTMINER_MODE_SLEEP = 1,
  AM_ANTMINER_MODE_HIGH = 2,
  AM_ANTMINER_MODE_LOW = 3,
} AmAntminerMode;

/* One request to send. */
typedef struct {
  const char *method;       /* static: "POST" */
  const char *path;         /* static */
  char *body;               /* owned */
  const char *content_type; /* static */
} AmAntminerWebWrite;

void am_antminer_web_write_clear(AmAntminerWebWrite *write);

/* The actions this driver can carry out as @sample (this driver's last good
 * sample, or NULL before the first) shows the unit. Reboot and locate
 * always; pause, resume, work_mode and pools once get_miner_conf.cgi showed
 * a mode (the poll then set sample->mining), or before the first poll. */
AmActionSet am_antminer_web_actions(const AmSample *sample);

/* TRUE when @request is one this driver can send, with sane values; else
 * AM_ERROR_UNSUPPORTED (restart, power_target: stock firmware has neither)
 * or AM_ERROR_CONFIG (an unknown mode, 0 or more than 3 pools, ...). */
gboolean am_antminer_web_check_request(const AmActionRequest *request, GError **error);

/* TRUE when @kind is written through set_miner_conf.cgi, so the module must
 * read get_miner_conf.cgi first and hand its object to the builder. */
gboolean am_antminer_web_needs_conf(AmActionKind kind);

/* Builds the request for a checked @request. @conf is the object
 * get_miner_conf.cgi returned (required when am_antminer_web_needs_conf()).
 * Errors: AM_ERROR_UNSUPPORTED when @conf has no mode field (the firmware
 * cannot sleep or change mode), AM_ERROR_PARSE when @conf is NULL. */
gboolean am_antminer_web_build_write(const AmActionRequest *request, JsonObject *conf,
                                     AmAntminerWebWrite *out, GError **error);

/* Judges the firmware's 2xx answer to the write for @kind: set_miner_conf
 * must say {"stats":"success"}; blink.cgi's "code" must be B000 (on) or
 * B100 (off) when it gives one; reboot.cgi's answer is not read.
 * AM_ERROR_API quotes the firmware's msg/code; AM_ERROR_PARSE when
 * set_miner_conf's answer is not JSON. */
gboolean am_antminer_web_check_reply(AmActionKind kind, gboolean on, const char *body, gsize len,
                                     GError **error);


G_END_DECLS
