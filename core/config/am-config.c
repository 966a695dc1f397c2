/* Typed, validated reads of antmon.ini (see antmon/config.h).
 *
 * Values are read raw (g_key_file_get_value) and trimmed: GKeyFile's
 * backslash escapes are not applied, so a Windows-style path or a password
 * containing '\' reads back exactly as written, and an invisible trailing
 * blank never turns "30s " into a bad duration. The only rewriting is ${VAR}
 * and "$$" in string-like values.
 *
 * Every failure is one AM_ERROR_CONFIG message of the form
 *   [group] key=value: expected WHAT
 * so that the core only has to prefix the file name. */
#include <antmon/config.h>
#include <antmon/error.h>
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define MS_PER_SECOND G_GUINT64_CONSTANT(1000)
#define MS_PER_MINUTE (60 * MS_PER_SECOND)
#define MS_PER_HOUR (60 * MS_PER_MINUTE)
#define MS_PER_DAY (24 * MS_PER_HOUR)

#define EXPECTED_DURATION "a duration such as 500ms, 30s, 5m, 2h or 7d"
#define EXPECTED_HOST                                                                              \
  "HOST, HOST:PORT or [IPv6]:PORT, where HOST is a name of letters, digits, '-' and '.' or an "    \
  "IP address"
#define EXPECTED_IPV4 "an IPv4 address of four numbers from 0 to 255 without leading zeros"
#define EXPECTED_PORT "a port from 1 to 65535"

/* ---- messages ---------------------------------------------------------- */

static gboolean bad_value(GError **error, const char *group, const char *key, const char *value,
                          const char *expected_format, ...) G_GNUC_PRINTF(5, 6);

/* Sets "[group] key=value: expected ..." and returns FALSE, so that a
 * getter can end with `return bad_value(...)`. */
static gboolean
bad_value(GError **error, const char *group, const char *key, const char *value,
          const char *expected_format, ...)
{
  va_list args;
  va_start(args, expected_format);
  g_autofree char *expected = g_strdup_vprintf(expected_format, args);
  va_end(args);
  g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] %s=%s: expected %s", group, key, value,
              expected);
  return FALSE;
}

/* ---- reading and expanding --------------------------------------------- */

/* The trimmed value as written; NULL when the key or its group is absent. */
static char *
raw_value(GKeyFile *kf, const char *group, const char *key)
{
  char *value = g_key_file_get_value(kf, group, key, NULL);
  return value != NULL ? g_strstrip(value) : NULL;
}

/* Length of the variable name at @p ([A-Za-z_][A-Za-z0-9_]*), 0 if none. */
static gsize
var_name_length(const char *p)
{
  if (!g_ascii_isalpha(p[0]) && p[0] != '_')
    return 0;
  gsize n = 1;
  while (g_ascii_isalnum(p[n]) || p[n] == '_')
    n++;
  return n;
}

/* Expands ${VAR} from the environment and "$$" to "$". Any other '$' is an
 * error rather than a literal: if "a$b" meant "a$b", a reader could not tell
 * what "a$$b" means. The message leaves the value out because it may be a
 * secret. Returns: (transfer full) or NULL with @error. */
static char *
expand_env(const char *group, const char *key, const char *text, GError **error)
{
  g_autoptr(GString) out = g_string_sized_new(strlen(text));
  for (const char *p = text; *p != '\0'; p++) {
    if (*p != '$') {
      g_string_append_c(out, *p);
      continue;
    }
    if (p[1] == '$') {
      g_string_append_c(out, '$');
      p++;
      continue;
    }
    gsize len = p[1] == '{' ? var_name_length(p + 2) : 0;
    if (len == 0 || p[2 + len] != '}') {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "[%s] %s: expected ${NAME} after '$' (write $$ for a literal $)", group, key);
      return NULL;
    }
    g_autofree char *name = g_strndup(p + 2, len);
    const char *env = g_getenv(name);
    if (env == NULL) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] %s: environment variable %s is not set",
                  group, key, name);
      return NULL;
    }
    g_string_append(out, env);
    p += 2 + len; /* on the '}' */
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- number syntax ----------------------------------------------------- */

/* Leading decimal digits of @text into @out (no sign, no blanks, at least
 * one digit); @end points past them. FALSE on overflow. */
static gboolean
parse_digits(const char *text, guint64 *out, const char **end)
{
  guint64 value = 0;
  const char *p = text;
  for (; g_ascii_isdigit(*p); p++) {
    guint digit = *p - '0';
    if (value > (G_MAXUINT64 - digit) / 10)
      return FALSE;
    value = value * 10 + digit;
  }
  *out = value;
  *end = p;
  return p != text;
}

/* The whole of @text is an unsigned decimal integer. */
static gboolean
parse_unsigned(const char *text, guint64 *out)
{
  const char *end;
  return parse_digits(text, out, &end) && *end == '\0';
}

static guint64
duration_unit_ms(const char *unit)
{
  static const struct {
    const char *suffix;
    guint64 ms;
  } units[] = {
      {"", MS_PER_SECOND},  {"ms", 1},          {"s", MS_PER_SECOND},
      {"m", MS_PER_MINUTE}, {"h", MS_PER_HOUR}, {"d", MS_PER_DAY},
  };
  for (guint i = 0; i < G_N_ELEMENTS(units); i++)
    if (g_str_equal(unit, units[i].suffix))
      return units[i].ms;
  return 0;
}

gboolean
am_parse_duration_ms(const char *text, guint64 *out_ms)
{
  guint64 count;
  const char *unit;
  if (text == NULL || !parse_digits(text, &count, &unit))
    return FALSE;
  guint64 ms_per_unit = duration_unit_ms(unit);
  if (ms_per_unit == 0 || count > G_MAXUINT64 / ms_per_unit)
    return FALSE;
  *out_ms = count * ms_per_unit;
  return TRUE;
}

/* The shortest exact spelling of @ms ("1d", "5m", "100ms") for messages, so
 * a range reads the way a user would write it. */
static char *
format_duration(guint64 ms)
{
  static const struct {
    const char *suffix;
    guint64 ms;
  } units[] = {
      {"d", MS_PER_DAY},
      {"h", MS_PER_HOUR},
      {"m", MS_PER_MINUTE},
      {"s", MS_PER_SECOND},
  };
  for (guint i = 0; ms != 0 && i < G_N_ELEMENTS(units); i++)
    if (ms % units[i].ms == 0)
      return g_strdup_printf("%" G_GUINT64_FORMAT "%s", ms / units[i].ms, units[i].suffix);
  return g_strdup_printf("%" G_GUINT64_FORMAT "ms", ms);
}

static gboolean
parse_bool(const char *text, gboolean *out)
{
  static const char *const yes[] = {"true", "yes", "1"};
  static const char *const no[] = {"false", "no", "0"};
  for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
    if (g_ascii_strcasecmp(text, yes[i]) == 0) {
      *out = TRUE;
      return TRUE;
    }
    if (g_ascii_strcasecmp(text, no[i]) == 0) {
      *out = FALSE;
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
parse_double(const char *text, double *out)
{
  char *end = NULL;
  double value = g_ascii_strtod(text, &end);
  if (end == text || *end != '\0' || !isfinite(value))
    return FALSE;
  *out = value;
  return TRUE;
}

/* ---- scalar getters ---------------------------------------------------- */

gboolean
am_config_get_bool(GKeyFile *kf, const char *group, const char *key, gboolean fallback,
                   gboolean *out, GError **error)
{
  g_return_val_if_fail(kf != NULL && group != NULL && key != NULL && out != NULL, FALSE);
  g_autofree char *value = raw_value(kf, group, key);
  if (value == NULL) {
    *out = fallback;
    return TRUE;
  }
  if (parse_bool(value, out))
    return TRUE;
  return bad_value(error, group, key, value, "true or false (or yes/no, 1/0)");
}

gboolean
am_config_get_uint(GKeyFile *kf, const char *group, const char *key, guint fallback, guint min,
                   guint max, guint *out, GError **error)
{
  g_return_val_if_fail(kf != NULL && group != NULL && key != NULL && out != NULL, FALSE);
  g_autofree char *value = raw_value(kf, group, key);
  if (value == NULL) {
    *out = fallback;
    return TRUE;
  }
  guint64 number;
  if (!parse_unsigned(value, &number) || number < min || number > max)
    return bad_value(error, group, key, value, "an integer from %u to %u", min, max);
  *out = (guint)number;
  return TRUE;
}

gboolean
am_config_get_double(GKeyFile *kf, const char *group, const char *key, double fallback, double min,
                     double max, double *out, GError **error)
{
  g_return_val_if_fail(kf != NULL && group != NULL && key != NULL && out != NULL, FALSE);
  g_autofree char *value = raw_value(kf, group, key);
  if (value == NULL) {
    *out = fallback;
    return TRUE;
  }
  double number;
  if (!parse_double(value, &number) || number < min || number > max)
    return bad_value(error, group, key, value, "a number from %g to %g", min, max);
  *out = number;
  return TRUE;
}

gboolean
am_config_get_duration_ms(GKeyFile *kf, const char *group, const char *key, guint64 fallback_ms,
                          guint64 min_ms, guint64 max_ms, guint64 *out_ms, GError **error)
{
  g_return_val_if_fail(kf != NULL && group != NULL && key != NULL && out_ms != NULL, FALSE);
  g_autofree char *value = raw_value(kf, group, key);
  if (value == NULL) {
    *out_ms = fallback_ms;
    return TRUE;
  }
  guint64 ms;
  if (!am_parse_duration_ms(value, &ms))
    return bad_value(error, group, key, value, EXPECTED_DURATION);
  if (ms < min_ms || ms > max_ms) {
    g_autofree char *min_text = format_duration(min_ms);
    g_autofree char *max_text = format_duration(max_ms);
    return bad_value(error, group, key, value, "a duration from %s to %s", min_text, max_text);
  }
  *out_ms = ms;
  return TRUE;
}

/* ---- strings ----------------------------------------------------------- */

char *
am_config_get_string(GKeyFile *kf, const char *group, const char *key, const char *fallback,
                     GError **error)
{
  g_return_val_if_fail(kf != NULL && group != NULL && key != NULL, NULL);
  g_autofree char *value = raw_value(kf, group, key);
  /* "key=" is how antmon.ini lists a key left at its default. */
  if (value == NULL || value[0] == '\0')
    return g_strdup(fallback);
  return expand_env(group, key, value, error);
}

char **
am_config_get_list(GKeyFile *kf, const char *group, const char *key, GError **error)
{
  g_return_val_if_fail(kf != NULL && group != NULL && key != NULL, NULL);
  g_autofree char *value = raw_value(kf, group, key);
  g_autoptr(GStrvBuilder) items = g_strv_builder_new();
  if (value == NULL)
    return g_strv_builder_end(items);

  /* Expanded before splitting, so DIRS="a;b" in the environment gives two. */
  g_autofree char *expanded = expand_env(group, key, value, error);
  if (expanded == NULL)
    return NULL;
  g_auto(GStrv) parts = g_strsplit(expanded, ";", -1);
  for (guint i = 0; parts[i] != NULL; i++) {
    g_strstrip(parts[i]);
    if (parts[i][0] != '\0')
      g_strv_builder_add(items, parts[i]);
  }
  return g_strv_builder_end(items);
}

/* The content of a secret file, with one trailing newline ("\n" or "\r\n")
 * removed because editors add one. */
static char *
read_secret_file(const char *group, const char *file_key, const char *path, GError **error)
{
  g_autofree char *content = NULL;
  gsize len = 0;
  g_autoptr(GError) read_error = NULL;
  if (!g_file_get_contents(path, &content, &len, &read_error)) {
    bad_value(error, group, file_key, path, "a readable file (%s)", read_error->message);
    return NULL;
  }
  if (len > 0 && content[len - 1] == '\n')
    content[--len] = '\0';
  if (len > 0 && content[len - 1] == '\r')
    content[--len] = '\0';
  return g_steal_pointer(&content);
}

char *
am_config_get_secret(GKeyFile *kf, const char *group, const char *key, GError **error)
{
  g_return_val_if_fail(kf != NULL && group != NULL && key != NULL, NULL);
  g_autofree char *file_key = g_strconcat(key, "_file", NULL);
  g_autofree char *inline_value = raw_value(kf, group, key);
  g_autofree char *path = raw_value(kf, group, file_key);
  /* Empty counts as absent, so a commented template with both keys present
   * ("password=" and "password_file=") is not a conflict. */
  gboolean has_inline = inline_value != NULL && inline_value[0] != '\0';
  gboolean has_file = path != NULL && path[0] != '\0';

  if (has_inline && has_file) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "[%s] %s and %s are both set: keep one", group,
                key, file_key);
    return NULL;
  }
  if (has_inline)
    return expand_env(group, key, inline_value, error);
  if (!has_file)
    return NULL;
  /* ${CREDENTIALS_DIRECTORY}/smtp is the systemd way to pass a secret. */
  g_autofree char *expanded = expand_env(group, file_key, path, error);
  if (expanded == NULL)
    return NULL;
  return read_secret_file(group, file_key, expanded, error);
}

/* ---- host and port ----------------------------------------------------- */

/* Only digits and dots: meant as an IPv4 literal, never a host name, so
 * that 300.1.1.1 is reported instead of being looked up in DNS. */
static gboolean
looks_like_ipv4(const char *text)
{
  return text[0] != '\0' && strspn(text, "0123456789.") == strlen(text);
}

/* Four dotted decimals 0..255. Leading zeros are refused because some
 * resolvers read "010" as octal 8. */
static gboolean
is_ipv4(const char *text)
{
  g_auto(GStrv) parts = g_strsplit(text, ".", -1);
  if (g_strv_length(parts) != 4)
    return FALSE;
  for (guint i = 0; i < 4; i++) {
    guint64 n;
    gsize len = strlen(parts[i]);
    if (len == 0 || len > 3 || (len > 1 && parts[i][0] == '0') || !parse_unsigned(parts[i], &n) ||
        n > 255)
      return FALSE;
  }
  return TRUE;
}

static gboolean
is_ipv6(const char *text)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string(text);
  return address != NULL && g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6;
}

/* RFC 1123: dot-separated labels of 1..63 letters, digits and hyphens, not
 * starting or ending with a hyphen; 253 characters at most. */
static gboolean
is_host_name(const char *text)
{
  gsize total = strlen(text);
  if (total == 0 || total > 253)
    return FALSE;
  g_auto(GStrv) labels = g_strsplit(text, ".", -1);
  for (guint i = 0; labels[i] != NULL; i++) {
    const char *label = labels[i];
    gsize len = strlen(label);
    if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
      return FALSE;
    for (gsize j = 0; j < len; j++)
      if (!g_ascii_isalnum(label[j]) && label[j] != '-')
        return FALSE;
  }
  return TRUE;
}

static gboolean
parse_port(const char *text, guint16 *out)
{
  guint64 n;
  if (!parse_unsigned(text, &n) || n < 1 || n > 65535)
    return FALSE;
  *out = (guint16)n;
  return TRUE;
}

/* "[v6]" or "[v6]:port". Returns NULL on success, else what was expected. */
static const char *
split_bracketed(const char *text, char **host, const char **port)
{
  const char *close = strchr(text, ']');
  if (close == NULL || (close[1] != '\0' && close[1] != ':'))
    return EXPECTED_HOST;
  *host = g_strndup(text + 1, close - text - 1);
  if (!is_ipv6(*host))
    return "an IPv6 address inside [ ]";
  *port = close[1] == ':' ? close + 2 : NULL;
  return NULL;
}

/* "host" or "host:port" with a name or IPv4 literal. Same return as above. */
static const char *
split_plain(const char *text, char **host, const char **port)
{
  const char *colon = strchr(text, ':');
  *host = colon != NULL ? g_strndup(text, colon - text) : g_strdup(text);
  *port = colon != NULL ? colon + 1 : NULL;
  if (looks_like_ipv4(*host))
    return is_ipv4(*host) ? NULL : EXPECTED_IPV4;
  return is_host_name(*host) ? NULL : EXPECTED_HOST;
}

/* Splits and checks @text. Returns NULL on success, else the "expected"
 * part of the message. */
static const char *
parse_host_port(const char *text, char **host_out, guint16 *port_out)
{
  g_autofree char *host = NULL;
  const char *port = NULL;
  const char *problem;
  const char *colon = strchr(text, ':');

  if (text[0] == '[')
    problem = split_bracketed(text, &host, &port);
  else if (colon != NULL && strchr(colon + 1, ':') != NULL) {
    /* Two colons or more: a bare IPv6 literal, which cannot carry a port. */
    host = g_strdup(text);
    problem = is_ipv6(host) ? NULL : "an IPv6 address (write [ADDRESS]:PORT to give a port)";
  } else
    problem = split_plain(text, &host, &port);

  if (problem == NULL && port != NULL && !parse_port(port, port_out))
    problem = EXPECTED_PORT;
  if (problem == NULL)
    *host_out = g_steal_pointer(&host);
  return problem;
}

gboolean
am_config_get_host_port(GKeyFile *kf, const char *group, const char *key, const char *fallback,
                        guint16 default_port, char **host_out, guint16 *port_out, GError **error)
{
  g_return_val_if_fail(kf != NULL && group != NULL && key != NULL, FALSE);
  g_return_val_if_fail(host_out != NULL && port_out != NULL, FALSE);
  g_autofree char *value = raw_value(kf, group, key);
  g_autofree char *text = NULL;
  if (value != NULL && value[0] != '\0')
    text = expand_env(group, key, value, error);
  else if (fallback != NULL)
    text = g_strdup(fallback);
  else {
    *host_out = NULL;
    *port_out = default_port;
    return TRUE;
  }
  if (text == NULL)
    return FALSE;

  g_autofree char *host = NULL;
  guint16 port = default_port;
  const char *problem = parse_host_port(text, &host, &port);
  if (problem != NULL)
    return bad_value(error, group, key, text, "%s", problem);
  *host_out = g_steal_pointer(&host);
  *port_out = port;
  return TRUE;
}

/* ---- sizes ------------------------------------------------------------- */

#define KIB ((gint64)1024)
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

gboolean
am_parse_size(const char *text, gint64 *out)
{
  static const struct {
    const char *suffix;
    gint64 unit;
  } units[] = {{"", 1},      {"b", 1},        {"kib", KIB},      {"k", KIB},
               {"mib", MIB}, {"m", MIB},      {"gib", GIB},      {"g", GIB},
               {"kb", 1000}, {"mb", 1000000}, {"gb", 1000000000}};
  g_autofree char *trimmed = g_strstrip(g_strdup(text));
  char *end = NULL;
  if (!g_ascii_isdigit(trimmed[0]))
    return FALSE;
  guint64 number = g_ascii_strtoull(trimmed, &end, 10);
  while (*end == ' ')
    end++;
  for (gsize i = 0; i < G_N_ELEMENTS(units); i++)
    if (g_ascii_strcasecmp(end, units[i].suffix) == 0) {
      if (number > (guint64)(G_MAXINT64 / units[i].unit))
        return FALSE;
      *out = (gint64)number * units[i].unit;
      return TRUE;
    }
  return FALSE;
}

char *
am_format_size(gint64 bytes)
{
  if (bytes >= GIB && bytes % GIB == 0)
    return g_strdup_printf("%" G_GINT64_FORMAT "GiB", bytes / GIB);
  if (bytes >= MIB && bytes % MIB == 0)
    return g_strdup_printf("%" G_GINT64_FORMAT "MiB", bytes / MIB);
  if (bytes >= KIB && bytes % KIB == 0)
    return g_strdup_printf("%" G_GINT64_FORMAT "KiB", bytes / KIB);
  return g_strdup_printf("%" G_GINT64_FORMAT, bytes);
}

gboolean
am_config_get_size(GKeyFile *kf, const char *group, const char *key, gint64 fallback, gint64 min,
                   gint64 max, gint64 *out, GError **error)
{
  *out = fallback;
  if (!g_key_file_has_key(kf, group, key, NULL))
    return TRUE;
  g_autofree char *text = g_key_file_get_value(kf, group, key, NULL);
  gint64 value = 0;
  if (text == NULL || !am_parse_size(text, &value) || value < min || value > max) {
    g_autofree char *lo = am_format_size(min);
    g_autofree char *hi = am_format_size(max);
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "[%s] %s=%s: expected a size such as 4MiB, 512KiB or 0, from %s to %s", group, key,
                text != NULL ? text : "", lo, hi);
    return FALSE;
  }
  *out = value;
  return TRUE;
}

gint64
am_config_get_memory_budget(GKeyFile *kf)
{
  gint64 budget = AM_MEMORY_BUDGET_DEFAULT;
  if (!am_config_get_size(kf, "core", "memory_budget", AM_MEMORY_BUDGET_DEFAULT, 16 * MIB,
                          1024 * GIB, &budget, NULL))
    budget = AM_MEMORY_BUDGET_DEFAULT;
  return budget;
}

gboolean
am_config_get_store_queue_size(GKeyFile *kf, const char *group, guint *out, GError **error)
{
  gint64 derived = am_config_get_memory_budget(kf) / 4 / AM_STORE_SAMPLE_BYTES;
  derived = CLAMP(derived, 1000, 10000000);
  g_autofree char *text = g_key_file_get_value(kf, group, "queue_size", NULL);
  if (text == NULL || *g_strstrip(text) == '\0' || g_ascii_strcasecmp(text, "auto") == 0) {
    *out = (guint)derived;
    return TRUE;
  }
  return am_config_get_uint(kf, group, "queue_size", (guint)derived, 100, 10000000, out, error);
}
