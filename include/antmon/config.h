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

/* [core] memory_budget= when not set: what the agent may keep resident.
 * Plugins size their caches from it (am_config_get_memory_budget). */
#define AM_MEMORY_BUDGET_DEFAULT (64 * 1024 * 1024)

/* [core] memory_budget= in bytes (the default when absent or invalid: the
 * core reports a bad value itself). */
gint64 am_config_get_memory_budget(GKeyFile *kf);

/* queue_size= of a store group: samples held in memory waiting to be
 * written. Empty or "auto": a quarter of the memory budget, at about
 * AM_STORE_SAMPLE_BYTES each. */
#define AM_STORE_SAMPLE_BYTES 2048
gboolean am_config_get_store_queue_size(GKeyFile *kf, const char *group, guint *out,
                                        GError **error);

gboolean am_config_get_bool(GKeyFile *kf, const char *group, const char *key, gboolean fallback,
                            gboolean *out, GError **error);

gboolean am_config_get_uint(GKeyFile *kf, const char *group, const char *key, guint fallback,
                            guint min, guint max, guint *out, GError **error);

gboolean am_config_get_double(GKeyFile *kf, const char *group, const char *key, double fallback,
                              double min, double max, double *out, GError **error);

/* Durations: "250ms", "30", "30s", "5m", "2h", "7d" (a bare number is seconds). */
gboolean am_config_get_duration_ms(GKeyFile *kf, const char *group, const char *key,
                                   guint64 fallback_ms, guint64 min_ms, guint64 max_ms,
                                   guint64 *out_ms, GError **error);

/* Returns: (transfer full) the expanded string, a copy of @fallback when the
 * key is absent, or NULL with @error (an unset ${VAR}). */
char *am_config_get_string(GKeyFile *kf, const char *group, const char *key, const char *fallback,
                           GError **error);

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

/* Sizes: "4MiB", "512KiB", "1GiB" (also K, M, G), "64KB", "2MB", "1GB"
 * (powers of 1000), or bytes ("0", "65536", "65536B"). Absent: @fallback.
 * Out of [@min, @max]: AM_ERROR_CONFIG naming group and key. */
gboolean am_config_get_size(GKeyFile *kf, const char *group, const char *key, gint64 fallback,
                            gint64 min, gint64 max, gint64 *out, GError **error);
gboolean am_parse_size(const char *text, gint64 *out);
/* "4MiB", "512KiB" or bytes: the shortest exact form. (transfer full) */
char *am_format_size(gint64 bytes);

G_END_DECLS
