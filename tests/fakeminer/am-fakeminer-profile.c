/* Profiles: a directory of <command>.json files holding recorded replies,
 * or, with a profile.ini, any protocols and the reply file of each request:
 *
 *   [http]                              [whatsminer-v3]
 *   port=80                             port=4433
 *   GET /api/system/info=info.json      get.miner.status summary=summary.json
 *
 * An HTTP section ([http], [http:web]) may also hold a login (auth=...,
 * am-fakeminer-auth.c) and routes with conditions (am-fakeminer-routes.c).
 *
 * The recorded bytes are served unchanged (their malformations are the
 * point), except for the text of a few numbers that make charts move:
 * hashrates and temperatures. Each file is scanned once into a template: the
 * raw bytes plus the positions of those numbers, so a reply is a copy with a
 * few snprintf()s and never goes through a JSON library.
 */
#include "am-fakeminer.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef enum {
  SLOT_HASH_FAST, /* instant rates: about +-2 % */
  SLOT_HASH_AVG,  /* averages: about +-0.5 % */
  SLOT_TEMP,      /* about +-1.5 degC */
} SlotKind;

typedef struct {
  gsize start; /* offset of the number text in the raw bytes */
  gsize len;
  SlotKind kind;
  double base;
  int decimals;
} Slot;

typedef struct {
  GBytes *raw;
  char *name;               /* the reply file, for the [state] rules */
  GArray *slots;            /* Slot, in order of start */
  const char *content_type; /* from the file name's extension */
} Template;

struct _AmFmProfile {
  char *dir;
  /* Per protocol, request key -> Template; NULL when not served. The RPC's
   * keys are commands. */
  GHashTable *routes[AM_FM_PROTOCOL_COUNT];
  guint16 ports[AM_FM_PROTOCOL_COUNT]; /* declared; 0 for the RPC */
  /* HTTP sections: which route key answers a request, and the login. */
  AmFmRoutes *http_routes[AM_FM_PROTOCOL_COUNT];
  AmFmAuth *auth[AM_FM_PROTOCOL_COUNT];
  AmFmStateRules *state_rules; /* [state], or NULL */
  char *write_family;          /* [write] family=, or NULL */
  GHashTable *write_actions;   /* [write] route key -> action */
};

struct _AmFmProfileCache {
  GHashTable *profiles; /* canonical dir -> AmFmProfile */
};

guint64
am_fm_rng_next(guint64 *state)
{
  /* splitmix64: tiny, fast and good enough for jitter. */
  guint64 z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double
am_fm_rng_signed(guint64 *state)
{
  return (double)(am_fm_rng_next(state) >> 11) / (double)(1ull << 52) - 1.0;
}

/* ---- key classification ---- */

static gboolean
key_is(const char *key, gsize len, const char *word)
{
  return strlen(word) == len && memcmp(key, word, len) == 0;
}

static gboolean
key_has_digit_suffix(const char *key, gsize len, const char *prefix)
{
  gsize plen = strlen(prefix);
  if (len <= plen || memcmp(key, prefix, plen) != 0)
    return FALSE;
  for (gsize i = plen; i < len; i++)
    if (!g_ascii_isdigit(key[i]))
      return FALSE;
  return TRUE;
}

/* hashRate (AxeOS), hash-realtime, hash-average, ... (Whatsminer v3) and
 * "HS RT" (Whatsminer v2 in MH/s, its real-time rate)
 * appear in none of the cgminer profiles. */
static const char *const fast_hash_keys[] = {
    "GHS 5s",     "MHS 5s",   "KHS 5s",        "rate_5s", "total_rate",
    "total rate", "hashRate", "hash-realtime", "HS RT",   NULL};
static const char *const avg_hash_keys[] = {
    "GHS av",    "MHS av",     "KHS av",       "GHS 30m",     "GHS 1m",       "GHS 5m",
    "GHS 15m",   "MHS 1m",     "MHS 5m",       "MHS 15m",     "MHS 24h",      "rate_30m",
    "hash-1min", "hash-15min", "hash-average", "hashRate_1m", "hashRate_10m", NULL};
static const char *const temp_keys[] = {"Temperature",   "Board",         "Chip",          "vrTemp",
                                        "chip-temp-min", "chip-temp-avg", "chip-temp-max", NULL};

static gboolean
key_in(const char *key, gsize len, const char *const *words)
{
  for (gsize i = 0; words[i] != NULL; i++)
    if (key_is(key, len, words[i]))
      return TRUE;
  return FALSE;
}

/* Returns FALSE for keys whose value stays as recorded. chain_rateidealN is
 * a target, not a measurement; temp_num is a count; "Total MH" is a total. */
static gboolean
classify_key(const char *key, gsize len, SlotKind *kind)
{
  if (key_in(key, len, fast_hash_keys) || key_has_digit_suffix(key, len, "chain_rate")) {
    *kind = SLOT_HASH_FAST;
    return TRUE;
  }
  if (key_in(key, len, avg_hash_keys)) {
    *kind = SLOT_HASH_AVG;
    return TRUE;
  }
  if (key_is(key, len, "temp_num"))
    return FALSE;
  if ((len >= 4 && memcmp(key, "temp", 4) == 0) || key_in(key, len, temp_keys)) {
    *kind = SLOT_TEMP;
    return TRUE;
  }
  return FALSE;
}

/* ---- scanning ---- */

/* Index just past the string whose opening quote is at @i (or @n). */
static gsize
skip_string(const char *s, gsize n, gsize i)
{
  for (i++; i < n; i++) {
    if (s[i] == '\\')
      i++;
    else if (s[i] == '"')
      return i + 1;
  }
  return n;
}

static gsize
skip_blanks(const char *s, gsize n, gsize i)
{
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
    i++;
  return i;
}

/* Length of a plain decimal "-?[0-9]+(.[0-9]+)?" at @s, or 0; exponents and
 * other forms are left alone. */
static gsize
number_length(const char *s, gsize n, int *decimals)
{
  gsize i = 0;
  if (i < n && s[i] == '-')
    i++;
  gsize digits = i;
  while (i < n && g_ascii_isdigit(s[i]))
    i++;
  if (i == digits)
    return 0;
  *decimals = 0;
  if (i < n && s[i] == '.') {
    gsize frac = ++i;
    while (i < n && g_ascii_isdigit(s[i]))
      i++;
    if (i == frac)
      return 0;
    *decimals = (int)(i - frac);
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E'))
    return 0;
  return i;
}

/* Zero and negative values stay: zero marks an unused slot and a negative
 * temperature is a broken sensor, both part of what the fixtures show. */
static void
add_slot(Template *t, const char *raw, gsize start, gsize len, int decimals, SlotKind kind)
{
  g_autofree char *text = g_strndup(raw + start, len);
  double base = g_ascii_strtod(text, NULL);
  if (!(base > 0))
    return;
  Slot slot = {.start = start, .len = len, .kind = kind, .base = base, .decimals = decimals};
  g_array_append_val(t->slots, slot);
}

/* "22-53-21-50" (S17/S19 temp_pcbN): each component is a temperature;
 * "2--1-20-22" holds a negative one. Anything else is left alone. */
static void
add_dash_slots(Template *t, const char *raw, gsize start, gsize end)
{
  GArray *found = g_array_new(FALSE, FALSE, sizeof(gsize) * 3);
  gsize i = start;
  gboolean ok = TRUE;
  while (ok) {
    int decimals = 0;
    gsize len = number_length(raw + i, end - i, &decimals);
    if (len == 0) {
      ok = FALSE;
      break;
    }
    gsize triple[3] = {i, len, (gsize)decimals};
    g_array_append_val(found, triple);
    i += len;
    if (i == end)
      break;
    if (raw[i] != '-')
      ok = FALSE;
    i++;
  }
  if (ok && found->len > 1) {
    for (guint k = 0; k < found->len; k++) {
      gsize *triple = &g_array_index(found, gsize, k * 3);
      add_slot(t, raw, triple[0], triple[1], (int)triple[2], SLOT_TEMP);
    }
  }
  g_array_free(found, TRUE);
}

/* The value after a varied key: a bare number, a quoted number, or (for
 * temperatures) a quoted dash list. */
static void
add_value_slots(Template *t, const char *raw, gsize n, gsize v, SlotKind kind)
{
  int decimals = 0;
  if (v < n && raw[v] == '"') {
    gsize end = skip_string(raw, n, v) - 1; /* the closing quote */
    gsize len = number_length(raw + v + 1, end - (v + 1), &decimals);
    if (len > 0 && v + 1 + len == end)
      add_slot(t, raw, v + 1, len, decimals, kind);
    else if (kind == SLOT_TEMP && end > v + 1)
      add_dash_slots(t, raw, v + 1, end);
    return;
  }
  gsize len = number_length(raw + v, n - v, &decimals);
  if (len > 0)
    add_slot(t, raw, v, len, decimals, kind);
}

/* Walks the bytes as loose JSON (it need not parse: "}{" and raw newlines are
 * fine) and records each "key": value whose key is varied. */
static void
scan_template(Template *t)
{
  gsize n = 0;
  const char *raw = g_bytes_get_data(t->raw, &n);
  gsize i = 0;
  while (i < n) {
    if (raw[i] != '"') {
      i++;
      continue;
    }
    gsize key_start = i + 1;
    gsize after = skip_string(raw, n, i);
    gsize colon = skip_blanks(raw, n, after);
    SlotKind kind;
    if (colon < n && raw[colon] == ':' && after > key_start &&
        classify_key(raw + key_start, after - 1 - key_start, &kind))
      add_value_slots(t, raw, n, skip_blanks(raw, n, colon + 1), kind);
    i = after;
  }
}

static void
template_free(gpointer data)
{
  Template *t = data;
  g_bytes_unref(t->raw);
  g_free(t->name);
  g_array_unref(t->slots);
  g_free(t);
}

static const char *
content_type_of(const char *name)
{
  if (g_str_has_suffix(name, ".json"))
    return "application/json";
  if (g_str_has_suffix(name, ".html"))
    return "text/html; charset=utf-8";
  return "text/plain; charset=utf-8";
}

static Template *
template_new(GBytes *raw, const char *name)
{
  Template *t = g_new0(Template, 1);
  t->raw = g_bytes_ref(raw);
  t->name = g_strdup(name);
  t->content_type = content_type_of(name);
  t->slots = g_array_new(FALSE, FALSE, sizeof(Slot));
  scan_template(t);
  return t;
}

/* ---- rendering ---- */

/* The value drawn for @slot: a per-miner offset, a slow wave and per-request
 * jitter whose weights add up to 1, so the bound holds by construction. It
 * is rounded to the recorded number of decimals and never further than the
 * bound from its centre (rounding could overshoot). */
static double
vary_slot(const Slot *slot, const AmFmVary *vary)
{
  double wave = sin(vary->now * (2 * G_PI / 180.0) + vary->phase);
  double jitter = am_fm_rng_signed(vary->rng);
  double centre, bound, target;
  if (slot->kind == SLOT_TEMP) {
    centre = slot->base + vary->temp_offset;
    bound = AM_FM_TEMP_DEG;
    target = centre + bound * (0.35 * vary->temp_bias + 0.25 * wave + 0.4 * jitter);
  } else {
    double pct = slot->kind == SLOT_HASH_FAST ? AM_FM_HASH_FAST_PCT : AM_FM_HASH_AVG_PCT;
    centre = slot->base * vary->hashrate_scale;
    bound = centre * pct;
    target = centre + bound * (0.35 * vary->hash_bias + 0.25 * wave + 0.4 * jitter);
  }
  double q = pow(10, -slot->decimals);
  double rounded = round(target / q) * q;
  if (fabs(rounded - centre) > bound)
    rounded = centre + trunc((target - centre) / q) * q;
  return rounded;
}

gboolean
am_fm_profile_render_route(AmFmProfile *profile, AmFmProtocol protocol, const char *key,
                           const AmFmVary *vary, GByteArray *out, const char **content_type)
{
  GHashTable *routes = protocol < AM_FM_PROTOCOL_COUNT ? profile->routes[protocol] : NULL;
  Template *t = routes != NULL ? g_hash_table_lookup(routes, key) : NULL;
  if (t == NULL)
    return FALSE;
  if (content_type != NULL)
    *content_type = t->content_type;
  gsize n = 0;
  const guint8 *raw = g_bytes_get_data(t->raw, &n);
  gsize pos = 0;
  gsize start = out->len;
  for (guint i = 0; i < t->slots->len; i++) {
    const Slot *slot = &g_array_index(t->slots, Slot, i);
    char text[64];
    int len = snprintf(text, sizeof text, "%.*f", slot->decimals, vary_slot(slot, vary));
    if (len <= 0 || (gsize)len >= sizeof text)
      continue; /* absurd scale: keep the recorded text */
    g_byte_array_append(out, raw + pos, (guint)(slot->start - pos));
    g_byte_array_append(out, (const guint8 *)text, (guint)len);
    pos = slot->start + slot->len;
  }
  g_byte_array_append(out, raw + pos, (guint)(n - pos));
  if (vary->state != NULL)
    am_fm_state_rewrite(profile->state_rules, t->name, vary, out, start);
  return TRUE;
}

gboolean
am_fm_profile_render(AmFmProfile *profile, const char *command, const AmFmVary *vary,
                     GByteArray *out)
{
  return am_fm_profile_render_route(profile, AM_FM_PROTOCOL_RPC, command, vary, out, NULL);
}

gboolean
am_fm_profile_serves(AmFmProfile *profile, AmFmProtocol protocol, guint16 *port)
{
  if (protocol >= AM_FM_PROTOCOL_COUNT || profile->routes[protocol] == NULL)
    return FALSE;
  if (port != NULL)
    *port = profile->ports[protocol];
  return TRUE;
}

/* ---- loading ---- */

static void
profile_free(gpointer data)
{
  AmFmProfile *profile = data;
  g_free(profile->dir);
  for (int p = 0; p < AM_FM_PROTOCOL_COUNT; p++) {
    if (profile->routes[p] != NULL)
      g_hash_table_unref(profile->routes[p]);
    am_fm_routes_free(profile->http_routes[p]);
    am_fm_auth_free(profile->auth[p]);
  }
  am_fm_state_rules_free(profile->state_rules);
  g_free(profile->write_family);
  if (profile->write_actions != NULL)
    g_hash_table_unref(profile->write_actions);
  g_free(profile);
}

static GHashTable *
routes_new(void)
{
  return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, template_free);
}

/* Reads @name in the profile directory into a template served under @key. */
static gboolean
add_route(AmFmProfile *profile, AmFmProtocol protocol, const char *key, const char *name,
          GError **error)
{
  if (name[0] == '\0' || strchr(name, '/') != NULL || g_str_equal(name, "..")) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE,
                "'%s': a reply file is a plain name in the profile directory", name);
    return FALSE;
  }
  g_autofree char *path = g_build_filename(profile->dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, error))
    return FALSE;
  g_autoptr(GBytes) raw = g_bytes_new_take(g_steal_pointer(&data), len);
  if (profile->routes[protocol] == NULL)
    profile->routes[protocol] = routes_new();
  g_hash_table_replace(profile->routes[protocol], g_strdup(key), template_new(raw, name));
  return TRUE;
}

/* Without profile.ini: every <command>.json is an RPC reply. */
static gboolean
load_json_files(AmFmProfile *profile, GError **error)
{
  g_autoptr(GDir) handle = g_dir_open(profile->dir, 0, error);
  if (handle == NULL)
    return FALSE;
  const char *name;
  while ((name = g_dir_read_name(handle)) != NULL) {
    if (name[0] == '.' || !g_str_has_suffix(name, ".json") || strlen(name) == strlen(".json"))
      continue;
    g_autofree char *command = g_strndup(name, strlen(name) - strlen(".json"));
    if (!add_route(profile, AM_FM_PROTOCOL_RPC, command, name, error))
      return FALSE;
  }
  if (profile->routes[AM_FM_PROTOCOL_RPC] == NULL) {
    g_set_error_literal(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE, "no <command>.json files");
    return FALSE;
  }
  return TRUE;
}

const char *
am_fm_protocol_name(AmFmProtocol protocol)
{
  static const char *const names[AM_FM_PROTOCOL_COUNT] = {
      [AM_FM_PROTOCOL_RPC] = "rpc",
      [AM_FM_PROTOCOL_HTTP] = "http",
      [AM_FM_PROTOCOL_V3] = "whatsminer-v3",
      [AM_FM_PROTOCOL_WEB] = "http:web",
  };
  return protocol < AM_FM_PROTOCOL_COUNT ? names[protocol] : "?";
}

gboolean
am_fm_protocol_is_http(AmFmProtocol protocol)
{
  return protocol == AM_FM_PROTOCOL_HTTP || protocol == AM_FM_PROTOCOL_WEB;
}

const char *
am_fm_profile_match_http(AmFmProfile *profile, AmFmProtocol protocol, const char *method,
                         const char *path, GHashTable *params)
{
  if (protocol >= AM_FM_PROTOCOL_COUNT || profile->http_routes[protocol] == NULL)
    return NULL;
  return am_fm_routes_match(profile->http_routes[protocol], method, path, params);
}

AmFmAuth *
am_fm_profile_get_auth(AmFmProfile *profile, AmFmProtocol protocol)
{
  return protocol < AM_FM_PROTOCOL_COUNT ? profile->auth[protocol] : NULL;
}

AmFmStateRules *
am_fm_profile_get_state_rules(AmFmProfile *profile)
{
  return profile->state_rules;
}

const char *
am_fm_profile_get_write_family(AmFmProfile *profile)
{
  return profile->write_family;
}

const char *
am_fm_profile_get_write_action(AmFmProfile *profile, const char *route_key)
{
  return profile->write_actions != NULL && route_key != NULL
             ? g_hash_table_lookup(profile->write_actions, route_key)
             : NULL;
}

const char *
am_fm_profile_get_write_setting(AmFmProfile *profile, const char *key)
{
  return am_fm_profile_get_write_action(profile, key);
}

/* [state] and [write]: not protocols, but how the control state shows in
 * the replies and which requests are writes. */
static gboolean
load_control_entry(AmFmProfile *profile, const AmFmIniEntry *e, GError **error)
{
  if (g_str_equal(e->section, "state")) {
    if (profile->state_rules == NULL)
      profile->state_rules = am_fm_state_rules_new();
    return e->key == NULL || am_fm_state_rules_add(profile->state_rules, e->key, e->value, error);
  }
  if (e->key == NULL)
    return TRUE;
  if (g_str_equal(e->key, "family")) {
    static const char *const families[] = {"antminer",   "cgminer", "luxos",    "avalon",
                                           "whatsminer", "epic",    "auradine", NULL};
    if (!g_strv_contains(families, e->value)) {
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE,
                  "[write] family=%s: expected antminer, cgminer, luxos, avalon, whatsminer, "
                  "epic or auradine",
                  e->value);
      return FALSE;
    }
    g_free(profile->write_family);
    profile->write_family = g_strdup(e->value);
    return TRUE;
  }
  if (profile->write_actions == NULL)
    profile->write_actions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace(profile->write_actions, g_strdup(e->key), g_strdup(e->value));
  return TRUE;
}

static gboolean
protocol_from_name(const char *name, AmFmProtocol *out)
{
  for (int p = 0; p < AM_FM_PROTOCOL_COUNT; p++) {
    if (g_str_equal(name, am_fm_protocol_name(p))) {
      *out = (AmFmProtocol)p;
      return TRUE;
    }
  }
  return FALSE;
}

/* One "key=value" line of a section: its port, a login setting of an HTTP
 * section, or a request and its reply file. */
static gboolean
load_entry(AmFmProfile *profile, AmFmProtocol protocol, const AmFmIniEntry *e, GError **error)
{
  if (g_str_equal(e->key, "port")) {
    guint64 port = 0;
    if (protocol == AM_FM_PROTOCOL_RPC) {
      g_set_error_literal(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE,
                          "[rpc] takes no port= (it is the miner's own port)");
      return FALSE;
    }
    if (!g_ascii_string_to_unsigned(e->value, 10, 1, 65535, &port, NULL)) {
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE, "port=%s: expected 1-65535", e->value);
      return FALSE;
    }
    profile->ports[protocol] = (guint16)port;
    return TRUE;
  }
  if (am_fm_protocol_is_http(protocol)) {
    gboolean known = FALSE;
    if (!am_fm_auth_set(profile->auth[protocol], e->key, e->value, &known, error))
      return FALSE;
    if (known)
      return TRUE;
    if (!am_fm_routes_add(profile->http_routes[protocol], e->key, error))
      return FALSE;
  }
  return add_route(profile, protocol, e->key, e->value, error);
}

/* The section's protocol; an HTTP one gets its (empty) routes and login. */
static gboolean
open_section(AmFmProfile *profile, const char *name, AmFmProtocol *protocol, GError **error)
{
  if (!protocol_from_name(name, protocol)) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE,
                "unknown section [%s] (rpc, http, http:web, whatsminer-v3, state, write)", name);
    return FALSE;
  }
  if (am_fm_protocol_is_http(*protocol) && profile->http_routes[*protocol] == NULL) {
    profile->http_routes[*protocol] = am_fm_routes_new();
    profile->auth[*protocol] = am_fm_auth_new();
  }
  return TRUE;
}

static gboolean
check_section(AmFmProfile *profile, AmFmProtocol protocol, GError **error)
{
  const char *name = am_fm_protocol_name(protocol);
  if (profile->routes[protocol] == NULL) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE, "[%s] lists no replies", name);
    return FALSE;
  }
  if (protocol != AM_FM_PROTOCOL_RPC && profile->ports[protocol] == 0) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE, "[%s] needs port=", name);
    return FALSE;
  }
  if (am_fm_protocol_is_http(protocol) &&
      !am_fm_auth_finish(profile->auth[protocol], profile->dir, error)) {
    g_prefix_error(error, "[%s] ", name);
    return FALSE;
  }
  return TRUE;
}

static gboolean
load_ini(AmFmProfile *profile, const char *path, GError **error)
{
  g_autoptr(GPtrArray) entries = am_fm_ini_load(path, error);
  if (entries == NULL)
    return FALSE;
  if (entries->len == 0) {
    g_set_error_literal(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE, "profile.ini: no sections");
    return FALSE;
  }
  gboolean seen[AM_FM_PROTOCOL_COUNT] = {FALSE};
  gboolean any_protocol = FALSE;
  AmFmProtocol protocol = AM_FM_PROTOCOL_RPC;
  for (guint i = 0; i < entries->len; i++) {
    const AmFmIniEntry *e = entries->pdata[i];
    gboolean control = g_str_equal(e->section, "state") || g_str_equal(e->section, "write");
    gboolean ok = control          ? load_control_entry(profile, e, error)
                  : e->key == NULL ? open_section(profile, e->section, &protocol, error)
                                   : load_entry(profile, protocol, e, error);
    if (!ok) {
      g_prefix_error(error, "profile.ini:%u: ", e->line);
      return FALSE;
    }
    if (!control) {
      seen[protocol] = TRUE;
      any_protocol = TRUE;
    }
  }
  /* Only [state] and [write]: the replies are the <command>.json files. */
  if (!any_protocol)
    return load_json_files(profile, error);
  for (int p = 0; p < AM_FM_PROTOCOL_COUNT; p++) {
    if (seen[p] && !check_section(profile, (AmFmProtocol)p, error)) {
      g_prefix_error(error, "profile.ini: ");
      return FALSE;
    }
  }
  return TRUE;
}

static AmFmProfile *
profile_load(const char *dir, GError **error)
{
  AmFmProfile *profile = g_new0(AmFmProfile, 1);
  profile->dir = g_strdup(dir);
  g_autofree char *ini = g_build_filename(dir, "profile.ini", NULL);
  gboolean ok = g_file_test(ini, G_FILE_TEST_EXISTS) ? load_ini(profile, ini, error)
                                                     : load_json_files(profile, error);
  if (!ok) {
    g_prefix_error(error, "profile %s: ", dir);
    profile_free(profile);
    return NULL;
  }
  return profile;
}

AmFmProfileCache *
am_fm_profile_cache_new(void)
{
  AmFmProfileCache *cache = g_new0(AmFmProfileCache, 1);
  cache->profiles = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, profile_free);
  return cache;
}

void
am_fm_profile_cache_free(AmFmProfileCache *cache)
{
  if (cache == NULL)
    return;
  g_hash_table_unref(cache->profiles);
  g_free(cache);
}

AmFmProfile *
am_fm_profile_cache_get(AmFmProfileCache *cache, const char *dir, GError **error)
{
  g_autofree char *canonical = g_canonicalize_filename(dir, NULL);
  AmFmProfile *profile = g_hash_table_lookup(cache->profiles, canonical);
  if (profile != NULL)
    return profile;
  profile = profile_load(canonical, error);
  if (profile != NULL)
    g_hash_table_insert(cache->profiles, g_steal_pointer(&canonical), profile);
  return profile;
}

const char *
am_fm_profile_get_dir(AmFmProfile *profile)
{
  return profile->dir;
}
