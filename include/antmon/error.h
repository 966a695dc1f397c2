/* The AM_ERROR domain: every fallible antmon call reports one of these codes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AM_ERROR (am_error_quark())

typedef enum {
  AM_ERROR_FAILED,      /* anything not listed below */
  AM_ERROR_TIMEOUT,     /* the deadline passed (connect or read) */
  AM_ERROR_REFUSED,     /* the peer refused the connection */
  AM_ERROR_RESET,       /* the peer reset or closed the connection early */
  AM_ERROR_PARSE,       /* the reply is not JSON, even after repairs */
  AM_ERROR_API,         /* the miner answered with STATUS E or F */
  AM_ERROR_AUTH,        /* credentials refused (HTTP 401, access denied) */
  AM_ERROR_TOO_LARGE,   /* the reply is over the size cap */
  AM_ERROR_UNSUPPORTED, /* no driver or feature for this */
  AM_ERROR_ABI,         /* a plugin built for another ABI */
  AM_ERROR_CONFIG,      /* a bad value in the configuration */
  AM_ERROR_PROTOCOL,    /* the port speaks another protocol (HTTP where the RPC
                         * was expected); since ABI 1.2 */
  AM_ERROR_NOT_MINER,   /* it answers, but as no miner any driver knows (a
                         * printer's web page); since ABI 1.2 */
  AM_ERROR_NOT_FOUND,   /* no such miner or action; since ABI 1.3 */
  AM_ERROR_BUSY,        /* refused for now: a rate limit, or an action on this
                         * miner still running; since ABI 1.3 */
} AmError;

GQuark am_error_quark(void);

/* A short lower-case name for an AM_ERROR code ("timeout", "refused",
 * "malformed", ...), used as a miner's state reason.
 * Returns: (transfer none) a static string. */
const char *am_error_code_to_string(int code);

G_END_DECLS
