/* Miners and fleets: who listens where, with which profile and fault.
 *
 * Network safety: every address is checked here, before anything binds.
 * Only 127.0.0.0/8 and ::1 are accepted; the fake must never listen on, or
 * connect to, a real network.
 */
#include "am-fakeminer.h"
#include <math.h>
#include <string.h>

GQuark
am_fm_error_quark(void)
{
  return g_quark_from_static_string("antmon-fakeminer-error");
}

static const char *const fault_names[AM_FM_FAULT_COUNT] = {
    [AM_FM_FAULT_NONE] = "none",         [AM_FM_FAULT_HANG] = "hang",
    [AM_FM_FAULT_CLOSE] = "close",       [AM_FM_FAULT_GARBAGE] = "garbage",
    [AM_FM_FAULT_TRUNCATE] = "truncate", [AM_FM_FAULT_HUGE] = "huge",
    [AM_FM_FAULT_DRIP] = "drip",         [AM_FM_FAULT_APIERROR] = "apierror",
    [AM_FM_FAULT_SILENT] = "silent",     [AM_FM_FAULT_REFUSE] = "refuse",
};

const char *
am_fm_fault_name(AmFmFault fault)
{
  return fault < AM_FM_FAULT_COUNT ? fault_names[fault] : "?";
}

gboolean
am_fm_fault_from_name(const char *name, AmFmFault *out)
{
  for (int i = 0; i < AM_FM_FAULT_COUNT; i++) {
    if (g_strcmp0(name, fault_names[i]) == 0) {
      *out = (AmFmFault)i;
      return TRUE;
    }
  }
  return FALSE;
}

/* ---- addresses ---- */

gboolean
am_fm_address_is_allowed(GInetAddress *address)
{
  /* GLib's loopback test is exactly 127.0.0.0/8 for IPv4 and ::1 for IPv6;
   * IPv4-mapped forms (::ffff:127.0.0.1) are refused. */
  return address != NULL && g_inet_address_get_is_loopback(address);
}

static gboolean
parse_port(const char *text, guint16 *port, GError **error)
{
  guint64 value = 0;
  if (!g_ascii_string_to_unsigned(text, 10, 0, 65535, &value, NULL)) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE, "bad port '%s' (0-65535)", text);
    return FALSE;
  }
  *port = (guint16)value;
  return TRUE;
}

/* Splits "host", "host:port", "[v6]" or "[v6]:port". */
static gboolean
split_host_port(const char *text, char **host, char **port, GError **error)
{
  if (text[0] == '[') {
    const char *close = strchr(text, ']');
    if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_ADDRESS, "bad address '%s'", text);
      return FALSE;
    }
    *host = g_strndup(text + 1, (gsize)(close - text - 1));
    *port = close[1] == ':' ? g_strdup(close + 2) : NULL;
    return TRUE;
  }
  const char *colon = strchr(text, ':');
  if (colon != NULL && strchr(colon + 1, ':') == NULL) {
    *host = g_strndup(text, (gsize)(colon - text));
    *port = g_strdup(colon + 1);
  } else {
    *host = g_strdup(text); /* no port, or a bare IPv6 address */
    *port = NULL;
  }
  return TRUE;
}

GInetAddress *
am_fm_parse_host_port(const char *text, guint16 *port, GError **error)
{
  g_autofree char *host = NULL;
  g_autofree char *port_text = NULL;
  if (!split_host_port(text, &host, &port_text, error))
    return NULL;
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string(host);
  if (address == NULL) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_ADDRESS, "'%s' is not an IP address", host);
    return NULL;
  }
  if (!am_fm_address_is_allowed(address)) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_ADDRESS,
                "refusing address %s: only 127.0.0.0/8 and ::1 are allowed", host);
    return NULL;
  }
  if (port_text != NULL && !parse_port(port_text, port, error))
    return NULL;
  return g_steal_pointer(&address);
}

/* ---- miners ---- */

static guint64
hash_label(const char *label)
{
  guint64 h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (const char *p = label; *p != '\0'; p++)
    h = (h ^ (guchar)*p) * 0x100000001b3ull;
  return am_fm_rng_next(&h);
}

guint16
am_fm_miner_port(AmFmMiner *miner, AmFmProtocol protocol)
{
  if (protocol == AM_FM_PROTOCOL_RPC)
    return miner->port;
  if (miner->port_override[protocol] != 0)
    return miner->port_override[protocol];
  guint16 declared = 0;
  if (miner->profile != NULL)
    am_fm_profile_serves(miner->profile, protocol, &declared);
  return declared;
}

/* The label names the miner by its RPC port, or, for a profile without the
 * RPC, by the port of its first protocol; the seed follows from it, so a
 * cgminer miner varies exactly as it always did. */
static void
miner_set_label(AmFmMiner *miner)
{
  guint16 port = miner->port;
  if (miner->profile != NULL && !am_fm_profile_serves(miner->profile, AM_FM_PROTOCOL_RPC, NULL)) {
    for (int p = 0; p < AM_FM_PROTOCOL_COUNT; p++) {
      if (am_fm_profile_serves(miner->profile, p, NULL)) {
        port = am_fm_miner_port(miner, p);
        break;
      }
    }
  }
  g_free(miner->label);
  if (g_inet_address_get_family(miner->address) == G_SOCKET_FAMILY_IPV6)
    miner->label = g_strdup_printf("[%s]:%u", miner->host, port);
  else
    miner->label = g_strdup_printf("%s:%u", miner->host, port);
  miner->seed = hash_label(miner->label);
  miner->rng = miner->seed;
}

static AmFmMiner *
miner_new(GInetAddress *address, guint16 port)
{
  AmFmMiner *miner = g_new0(AmFmMiner, 1);
  miner->address = g_object_ref(address);
  miner->host = g_inet_address_to_string(address);
  miner->port = port;
  miner->fault = AM_FM_FAULT_NONE;
  miner->hashrate_scale = 1.0;
  miner->temp_offset = 0.0;
  miner->drip_ms = 50;
  am_fm_state_init(&miner->state);
  miner_set_label(miner);
  return miner;
}

void
am_fm_miner_free(AmFmMiner *miner)
{
  if (miner == NULL)
    return;
  am_fm_state_clear(&miner->state);
  g_clear_object(&miner->address);
  g_free(miner->host);
  g_free(miner->label);
  g_free(miner);
}

void
am_fm_miner_vary(AmFmMiner *miner, AmFmVary *vary)
{
  guint64 s = miner->seed;
  vary->hashrate_scale = miner->hashrate_scale;
  vary->temp_offset = miner->temp_offset;
  vary->hash_bias = am_fm_rng_signed(&s);
  vary->temp_bias = am_fm_rng_signed(&s);
  vary->phase = (am_fm_rng_signed(&s) + 1.0) * G_PI;
  vary->now = (double)g_get_monotonic_time() / G_USEC_PER_SEC;
  vary->rng = &miner->rng;
  vary->state = miner->state.touched ? &miner->state : NULL;
  vary->nominal_w = miner->state.nominal_w;
  if (vary->nominal_w <= 0 && miner->profile != NULL)
    vary->nominal_w = am_fm_state_rules_nominal_w(am_fm_profile_get_state_rules(miner->profile));
  if (vary->state != NULL) {
    double power = 1, hashrate = 1;
    am_fm_state_factors(vary->state, vary->nominal_w, vary->now, &power, &hashrate);
    vary->hashrate_scale *= hashrate;
  }
}

/* The settings keys of the per-protocol ports. */
static const char *const port_keys[AM_FM_PROTOCOL_COUNT] = {
    [AM_FM_PROTOCOL_HTTP] = "http_port",
    [AM_FM_PROTOCOL_V3] = "v3_port",
    [AM_FM_PROTOCOL_WEB] = "web_port",
};

char *
am_fm_miner_describe(AmFmMiner *miner)
{
  char scale[G_ASCII_DTOSTR_BUF_SIZE];
  char offset[G_ASCII_DTOSTR_BUF_SIZE];
  GString *out = g_string_new(NULL);
  g_string_printf(out, "%s profile=%s fault=%s hashrate_scale=%s temp_offset=%s drip_ms=%u",
                  miner->label, miner->profile ? am_fm_profile_get_dir(miner->profile) : "(none)",
                  am_fm_fault_name(miner->fault),
                  g_ascii_dtostr(scale, sizeof scale, miner->hashrate_scale),
                  g_ascii_dtostr(offset, sizeof offset, miner->temp_offset), miner->drip_ms);
  am_fm_state_describe(&miner->state, out);
  if (miner->joined_refused)
    g_string_append(out, " joined=refuse");
  /* Only what differs from a cgminer miner, so those lines read as before. */
  for (int p = AM_FM_PROTOCOL_HTTP; p < AM_FM_PROTOCOL_COUNT; p++)
    if (miner->port_override[p] != 0)
      g_string_append_printf(out, " %s=%u", port_keys[p], miner->port_override[p]);
  if (miner->profile != NULL && !am_fm_profile_serves(miner->profile, AM_FM_PROTOCOL_RPC, NULL)) {
    g_string_append(out, " serves=");
    gboolean first = TRUE;
    for (int p = 0; p < AM_FM_PROTOCOL_COUNT; p++) {
      if (!am_fm_profile_serves(miner->profile, p, NULL))
        continue;
      g_string_append_printf(out, "%s%s:%u", first ? "" : ",", am_fm_protocol_name(p),
                             am_fm_miner_port(miner, p));
      first = FALSE;
    }
  }
  return g_string_free(out, FALSE);
}

static gboolean
parse_double(const char *key, const char *value, double min, double max, double *out,
             GError **error)
{
  char *end = NULL;
  double v = g_ascii_strtod(value, &end);
  if (end == value || *end != '\0' || !isfinite(v) || v < min || v > max) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE, "%s=%s: expected a number in [%g, %g]", key,
                value, min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static char *
resolve_profile_dir(const char *value, const AmFmProfileLookup *lookup)
{
  if (g_path_is_absolute(value))
    return g_strdup(value);
  const char *root = lookup->profiles_root ? lookup->profiles_root : lookup->base_dir;
  return g_build_filename(root, value, NULL);
}

gboolean
am_fm_miner_apply(AmFmMiner *miner, const char *key, const char *value,
                  const AmFmProfileLookup *lookup, GError **error)
{
  if (g_str_equal(key, "fault")) {
    if (!am_fm_fault_from_name(value, &miner->fault)) {
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE,
                  "unknown fault '%s' (none, hang, close, garbage, truncate, huge, drip, "
                  "apierror, silent, refuse)",
                  value);
      return FALSE;
    }
    return TRUE;
  }
  if (g_str_equal(key, "profile")) {
    g_autofree char *dir = resolve_profile_dir(value, lookup);
    AmFmProfile *profile = am_fm_profile_cache_get(lookup->cache, dir, error);
    if (profile == NULL)
      return FALSE;
    miner->profile = profile;
    return TRUE;
  }
  if (g_str_equal(key, "joined")) {
    if (!g_str_equal(value, "refuse") && !g_str_equal(value, "answer")) {
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE, "joined=%s: expected answer or refuse",
                  value);
      return FALSE;
    }
    miner->joined_refused = g_str_equal(value, "refuse");
    return TRUE;
  }
  if (g_str_equal(key, "hashrate_scale"))
    return parse_double(key, value, 0, 1000, &miner->hashrate_scale, error);
  if (g_str_equal(key, "temp_offset"))
    return parse_double(key, value, -200, 200, &miner->temp_offset, error);
  if (g_str_equal(key, "drip_ms")) {
    double ms = 0;
    if (!parse_double(key, value, 1, 60000, &ms, error))
      return FALSE;
    miner->drip_ms = (guint)ms;
    return TRUE;
  }
  for (int p = AM_FM_PROTOCOL_HTTP; p < AM_FM_PROTOCOL_COUNT; p++) {
    if (g_str_equal(key, port_keys[p])) {
      guint64 port = 0;
      if (!g_ascii_string_to_unsigned(value, 10, 1, 65535, &port, NULL)) {
        g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE, "%s=%s: expected a port 1-65535", key,
                    value);
        return FALSE;
      }
      miner->port_override[p] = (guint16)port;
      return TRUE;
    }
  }
  gboolean known = FALSE;
  if (!am_fm_state_apply(&miner->state, key, value, &known, error))
    return FALSE;
  if (known)
    return TRUE;
  g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE,
              "unknown setting '%s' (fault, profile, joined, hashrate_scale, temp_offset, drip_ms, "
              "http_port, v3_port, web_port, paused, locate, rebooting, uptime, reboot_s, "
              "power_limit_w, power_delay_s, nominal_w, work_mode, pools, ignore_actions, "
              "write_access)",
              key);
  return FALSE;
}

gboolean
am_fm_miner_apply_pair(AmFmMiner *miner, const char *pair, const AmFmProfileLookup *lookup,
                       GError **error)
{
  const char *eq = strchr(pair, '=');
  if (eq == NULL || eq == pair) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE, "expected key=value, got '%s'", pair);
    return FALSE;
  }
  g_autofree char *key = g_strndup(pair, (gsize)(eq - pair));
  return am_fm_miner_apply(miner, key, eq + 1, lookup, error);
}

static gboolean
apply_all(AmFmMiner *miner, const char *const *pairs, const AmFmProfileLookup *lookup,
          GError **error)
{
  for (gsize i = 0; pairs != NULL && pairs[i] != NULL; i++)
    if (!am_fm_miner_apply_pair(miner, pairs[i], lookup, error))
      return FALSE;
  return TRUE;
}

/* ---- --base/--count ---- */

static gboolean
host_part_skipped(guint32 host)
{
  guint8 last = host & 0xff;
  return last == 0 || last == 255;
}

static GInetAddress *
ipv4_from_host_order(guint32 host)
{
  guint8 bytes[4] = {host >> 24, (host >> 16) & 0xff, (host >> 8) & 0xff, host & 0xff};
  return g_inet_address_new_from_bytes(bytes, G_SOCKET_FAMILY_IPV4);
}

/* Consecutive IPv4 addresses from @base, carrying into the higher octets
 * (127.0.20.254 -> 127.0.21.1) and skipping host parts .0 and .255. */
static GPtrArray *
range_addresses(GInetAddress *base, guint count, GError **error)
{
  GPtrArray *list = g_ptr_array_new_with_free_func(g_object_unref);
  if (g_inet_address_get_family(base) == G_SOCKET_FAMILY_IPV6) {
    if (count != 1) {
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_ADDRESS, "--count must be 1 with ::1");
      g_ptr_array_unref(list);
      return NULL;
    }
    g_ptr_array_add(list, g_object_ref(base));
    return list;
  }
  const guint8 *b = g_inet_address_to_bytes(base);
  guint32 host = (guint32)b[0] << 24 | (guint32)b[1] << 16 | (guint32)b[2] << 8 | b[3];
  while (list->len < count) {
    while (host_part_skipped(host))
      host++;
    if ((host >> 24) != 127) {
      g_autofree char *text = g_inet_address_to_string(base);
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_ADDRESS,
                  "--count %u from --base %s leaves 127.0.0.0/8", count, text);
      g_ptr_array_unref(list);
      return NULL;
    }
    g_ptr_array_add(list, ipv4_from_host_order(host));
    host++;
  }
  return list;
}

GPtrArray *
am_fm_fleet_from_range(const char *base, guint count, guint16 port, const char *profile_dir,
                       const char *const *settings, const AmFmProfileLookup *lookup, GError **error)
{
  guint16 unused = 0;
  g_autoptr(GInetAddress) first = am_fm_parse_host_port(base, &unused, error);
  if (first == NULL)
    return NULL;
  g_autoptr(GPtrArray) addresses = range_addresses(first, count, error);
  if (addresses == NULL)
    return NULL;
  g_autoptr(GPtrArray) miners = g_ptr_array_new_with_free_func((GDestroyNotify)am_fm_miner_free);
  for (guint i = 0; i < addresses->len; i++) {
    AmFmMiner *miner = miner_new(addresses->pdata[i], port);
    g_ptr_array_add(miners, miner);
    if (!am_fm_miner_apply(miner, "profile", profile_dir, lookup, error) ||
        !apply_all(miner, settings, lookup, error))
      return NULL;
    miner_set_label(miner);
  }
  return g_steal_pointer(&miners);
}

/* ---- fleet files ---- */

/* The line's words, up to a word starting with '#'. */
static GPtrArray *
line_words(const char *line)
{
  GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) parts = g_strsplit_set(line, " \t\r", -1);
  for (gsize i = 0; parts[i] != NULL; i++) {
    if (parts[i][0] == '#')
      break;
    if (parts[i][0] != '\0')
      g_ptr_array_add(words, g_strdup(parts[i]));
  }
  return words;
}

/* Whether "host:port" or "[v6]:port" names a port (as split_host_port). */
static gboolean
text_has_port(const char *text)
{
  if (text[0] == '[')
    return strstr(text, "]:") != NULL;
  const char *colon = strchr(text, ':');
  return colon != NULL && strchr(colon + 1, ':') == NULL;
}

static AmFmMiner *
parse_fleet_line(const char *line, guint16 default_port, const char *const *settings,
                 const AmFmProfileLookup *lookup, GError **error)
{
  g_autoptr(GPtrArray) words = line_words(line);
  if (words->len == 0)
    return NULL; /* blank or comment; error stays unset */
  if (words->len < 2) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE,
                "expected 'ADDRESS[:PORT] PROFILE_DIR [key=value...]'");
    return NULL;
  }
  guint16 port = default_port;
  g_autoptr(GInetAddress) address = am_fm_parse_host_port(words->pdata[0], &port, error);
  if (address == NULL)
    return NULL;
  if (port == 0) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE, "port 0 is not allowed for a miner");
    return NULL;
  }
  g_autoptr(AmFmMiner) miner = miner_new(address, port);
  if (!apply_all(miner, settings, lookup, error) ||
      !am_fm_miner_apply(miner, "profile", words->pdata[1], lookup, error))
    return NULL;
  for (guint i = 2; i < words->len; i++)
    if (!am_fm_miner_apply_pair(miner, words->pdata[i], lookup, error))
      return NULL;
  if (text_has_port(words->pdata[0]) &&
      !am_fm_profile_serves(miner->profile, AM_FM_PROTOCOL_RPC, NULL)) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE,
                "%s: the :PORT of a line is the RPC port, and this profile serves no RPC "
                "(use http_port= or v3_port=)",
                (const char *)words->pdata[0]);
    return NULL;
  }
  miner_set_label(miner);
  return g_steal_pointer(&miner);
}

static gboolean
add_unique(GPtrArray *miners, GHashTable *seen, AmFmMiner *miner, guint lineno, GError **error)
{
  guint first = GPOINTER_TO_UINT(g_hash_table_lookup(seen, miner->label));
  if (first != 0) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE, "%s is already on line %u", miner->label,
                first);
    am_fm_miner_free(miner);
    return FALSE;
  }
  g_hash_table_insert(seen, miner->label, GUINT_TO_POINTER(lineno));
  g_ptr_array_add(miners, miner);
  return TRUE;
}

GPtrArray *
am_fm_fleet_from_file(const char *path, guint16 default_port, const char *const *settings,
                      const char *profiles_root, AmFmProfileCache *cache, GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, error))
    return NULL;
  g_autofree char *dir = g_path_get_dirname(path);
  g_autofree char *base_dir = g_canonicalize_filename(dir, NULL);
  AmFmProfileLookup lookup = {.cache = cache, .profiles_root = profiles_root, .base_dir = base_dir};
  g_autoptr(GPtrArray) miners = g_ptr_array_new_with_free_func((GDestroyNotify)am_fm_miner_free);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    GError *line_error = NULL;
    AmFmMiner *miner = parse_fleet_line(lines[i], default_port, settings, &lookup, &line_error);
    if (miner != NULL)
      add_unique(miners, seen, miner, i + 1, &line_error);
    if (line_error != NULL) {
      g_propagate_prefixed_error(error, line_error, "%s:%u: ", path, i + 1);
      return NULL;
    }
  }
  if (miners->len == 0) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE, "%s: no miners", path);
    return NULL;
  }
  return g_steal_pointer(&miners);
}
