/* The body a webhook receiver expects, for each supported service. Pure:
 * no I/O, tested table-driven. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

typedef enum {
  AM_WEBHOOK_JSON = 0, /* antmon's own: am_sink_notification_to_json() */
  AM_WEBHOOK_SLACK,    /* incoming webhook: {"text": ...} */
  AM_WEBHOOK_DISCORD,  /* {"content": ..., "username": "antmon"}, 2000 chars at most */
  AM_WEBHOOK_NTFY,     /* JSON publish: {"topic","title","message","priority","tags","click"} */
  AM_WEBHOOK_TELEGRAM, /* sendMessage: {"chat_id","text"} */
} AmWebhookFormat;

/* "json", "slack", "discord", "ntfy" or "telegram". */
gboolean am_webhook_format_from_string(const char *text, AmWebhookFormat *out);

typedef struct {
  AmWebhookFormat format;
  const char *dashboard_url; /* template, or NULL */
  const char *chat_id;       /* telegram */
  const char *ntfy_topic;    /* ntfy */
} AmWebhookBodyOptions;

/* Returns: (transfer full) the request body (JSON text). */
char *am_webhook_body(const AmNotification *n, const AmWebhookBodyOptions *options);

/* ntfy publishes JSON to the server's root with the topic in the body:
 * "https://ntfy.sh/mytopic" -> "https://ntfy.sh/" and topic "mytopic".
 * FALSE when the URL has no topic. Outputs are (transfer full). */
gboolean am_webhook_ntfy_split(const char *url, char **root_url, char **topic);

G_END_DECLS
