/* Helpers for the sink plugins' tests: alerts and notifications to send,
 * and a synchronous deliver that runs the main loop until it finishes. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

/* A notification holding copies of @alerts (AmAlert*, NULL-terminated);
 * the subject is @subject. Free with am_sink_test_notification_free(). */
AmNotification *am_sink_test_notification_new(const char *subject, const AmAlert *const *alerts);
void am_sink_test_notification_free(AmNotification *n);

/* A hot S9: rule "hot" (temperature), critical, 98.1 degC over 90, on
 * 10.0.0.5:4028 named "rack1-07". @resolved makes it the resolve. */
AmAlert am_sink_test_hot_alert(gboolean resolved);

/* Calls @info's deliver_async and iterates the main context until it
 * completes. Returns deliver_finish()'s answer. */
gboolean am_sink_test_deliver(const AmPluginInfo *info, gpointer self, const AmNotification *n,
                              GCancellable *cancellable, GError **error);

/* Creates an instance of @info from @ini_text (group @group); asserts it
 * loads. Returns the instance or NULL with @error. */
gpointer am_sink_test_create(const AmPluginInfo *info, AmContext *ctx, const char *ini_text,
                             const char *group, GError **error);

G_END_DECLS
