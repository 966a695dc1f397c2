/* Typed, validated reads of antmon.ini for the core and for plugins.
 *
 * Every getter applies the default when the key is absent and fails with
 * AM_ERROR_CONFIG when the value is present but wrong. The message names the
 * group, key, value and what was expected, in the form
 *   [group] key=value: expected an integer from 1 to 65535
 * and the core prefixes the file name before printing it. String values
 * expand ${VAR} from the environment; a secret key "x" may instead be given
 * as "x_file=PATH" naming a file that holds it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean am_config_get_bool(GKeyFile *kf, const char *group, const char *key,
                            gboolean fallback, gboolean *out, GError **error);

gboolean am_config_get_uint(GKeyFile *kf, const char *group, const char *key,
                            guint fallback, guint min, guint max, guint *out,
                            GError **error);

gboolean am_config_get_double(GKeyFile *kf, const char *group, const char *key,
                              double fallback, double min, double max, double *out,
                              GError **error);

/* Durations: "250ms", "30", "30s", "5m", "2h", "7d" (a bare number is seconds). */
gboolean am_config_get_duration_ms(GKeyFile *kf, const char *group, const char *key,
                                   guint64 fallback_ms, guint64 min_ms, guint64 max_ms,
                                   guint64 *out_ms, GError **error);

/* Returns: (transfer full) the expanded string, a copy of @fallback when the
 * key is absent, or NULL with @error (an unset ${VAR}). */
char *am_config_get_string(GKeyFile *kf, const char *group, const char *key,
                           const char *fallback, GError **error);

/* A ';'-separated list, items trimmed, empty items dropped.
 * Returns: (transfer full) (may be empty, never NULL on success). */
char **am_config_get_list(GKeyFile *kf, const char *group, const char *key, GError **error);

/* A secret: "key=" (with ${VAR}) or "key_file=PATH" (file content, one
 * trailing newline removed). Returns: (transfer full) NULL with no error
 * when neither is set. */
char *am_config_get_secret(GKeyFile *kf, const char *group, const char *key, GError **error);

/* "host", "host:port", "[v6]:port" or "v6": an IPv4/IPv6 literal or a host
 * name, port 1..65535 (@default_port when absent). */
gboolean am_config_get_host_port(GKeyFile *kf, const char *group, const char *key,
                                 const char *fallback, guint16 default_port, char **host_out,
                                 guint16 *port_out, GError **error);

/* Parses a duration string as above. */
gboolean am_parse_duration_ms(const char *text, guint64 *out_ms);

G_END_DECLS
