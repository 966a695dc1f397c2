/* Choosing a driver for a miner (ModemManager/fwupd style): fingerprint
 * once with "version" (and, where TCP/4028 fails or does not answer within
 * a second, with GET / on the web server), ask every driver's match(),
 * probe the likeliest, keep the first that produces a sample; the generic
 * driver comes last. */
#pragma once

#include "am-instances.h"
#include "am-probe.h"

G_BEGIN_DECLS

/* Polls @miner with @driver and completes the sample the core's way: host,
 * port, driver name and the collector's clock set, then am_sample_finish(). */
void am_driver_poll_async(AmInstance *driver, AmMiner *miner, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data);
AmSample *am_driver_poll_finish(GAsyncResult *result, GError **error);

/* Identifies @miner among @drivers (AmInstance* of kind driver). A driver
 * pinned on the miner is used alone. Completes with the chosen driver and
 * the first sample it produced, or the error that explains why none fits
 * (the miner's transport error when it did not answer at all). */
void am_selector_identify_async(GPtrArray *drivers, AmMiner *miner, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
/* Returns: (transfer none) the driver; @sample_out (transfer full). */
AmInstance *am_selector_identify_finish(GAsyncResult *result, AmSample **sample_out,
                                        GError **error);

/* Orders @drivers for @fp: UNSUPPORTED dropped, then by match (highest
 * first), then by priority. Pure; exposed for tests.
 * Returns: (transfer container) AmInstance*. */
GPtrArray *am_selector_rank(GPtrArray *drivers, const AmFingerprint *fp);

/* The port of the HTTP fingerprint (GET /) for a miner configured on
 * @port: 80 when @port is the RPC default 4028 (the web server of a stock
 * unit), else @port itself, because a user who names another port
 * (host:80, host:8080, a NAT mapping) has named the one way in. The
 * antminer-web driver reads the CGI API on the same port. */
guint16 am_selector_http_port(guint16 port);

G_END_DECLS
