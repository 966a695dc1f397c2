/* The per-miner control state (paused, boot time, power target, work mode,
 * locate, pools) and its effect on the replies.
 *
 * Nothing changes in a reply until an action or a state setting touched the
 * miner: replies then go through the profile's [state] rules, which name
 * per state the reply keys to rewrite and their new value:
 *
 *   [state]
 *   nominal_w=3250
 *   uptime Elapsed={{uptime}}                 after a reboot or restart
 *   paused get_miner_conf.json:bitmain-work-mode=1
 *   power power_consumption={{power}}         the power model's draw
 *   locate get_blink_status.json:blink=true
 *   pools pools.json:URL={{pool_url}}         the Nth occurrence gets pool N
 *   work_mode.low bitmain-work-mode=3
 *   paused stats.json:SoftOFF[]=1             a bracket field NAME[...] inside strings
 *
 * The value replaces the recorded value's text, inside its quotes when it
 * was a string. Hashrates follow the power model through the vary
 * machinery (hashrate_scale), so a paused miner reports 0 everywhere its
 * hashrates are varied; {{hashrate}} covers keys that are not varied.
 */
#include "am-fakeminer.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PAUSED_POWER 0.05 /* a sleeping unit still draws its control board and fans */

double
am_fm_now(void)
{
  return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
}

void
am_fm_pool_free(gpointer data)
{
  AmFmPool *pool = data;
  g_free(pool->url);
  g_free(pool->user);
  g_free(pool->password);
  g_free(pool);
}

void
am_fm_state_init(AmFmState *state)
{
  *state = (AmFmState){.reboot_s = 5.0, .write_access = TRUE};
}

void
am_fm_state_clear(AmFmState *state)
{
  if (state->reboot_timer != 0)
    g_source_remove(state->reboot_timer);
  g_free(state->work_mode);
  g_free(state->session);
  g_free(state->locate_body);
  if (state->pools != NULL)
    g_ptr_array_unref(state->pools);
  am_fm_state_init(state);
}

void
am_fm_state_factors(const AmFmState *state, double nominal_w, double now, double *power,
                    double *hashrate)
{
  *power = 1.0;
  *hashrate = 1.0;
  if (state == NULL)
    return;
  if (state->paused || state->rebooting) {
    *power = PAUSED_POWER;
    *hashrate = 0.0;
    return;
  }
  if (state->power_limit_w > 0 && nominal_w > 0 && state->power_limit_w < nominal_w &&
      now >= state->power_set_at + state->power_delay_s) {
    *power = state->power_limit_w / nominal_w;
    *hashrate = *power;
  }
}

void
am_fm_state_act(AmFmState *state, AmFmAct act)
{
  if (state->ignore_actions)
    return;
  state->touched = TRUE;
  switch (act) {
  case AM_FM_ACT_REBOOT:
    state->reboot_requested = TRUE;
    break;
  case AM_FM_ACT_RESTART:
    state->booted = TRUE;
    state->boot_time = am_fm_now();
    break;
  case AM_FM_ACT_PAUSE:
    state->paused = TRUE;
    break;
  case AM_FM_ACT_RESUME:
    state->paused = FALSE;
    break;
  case AM_FM_ACT_LOCATE_ON:
  case AM_FM_ACT_LOCATE_OFF:
    state->locate = act == AM_FM_ACT_LOCATE_ON;
    g_clear_pointer(&state->locate_body, g_free); /* Braiins sets it again after */
    break;
  }
}

void
am_fm_state_set_power(AmFmState *state, double watts)
{
  if (state->ignore_actions)
    return;
  state->touched = TRUE;
  state->power_limit_w = watts;
  state->power_set_at = am_fm_now();
}

void
am_fm_state_set_work_mode(AmFmState *state, const char *mode)
{
  if (state->ignore_actions)
    return;
  state->touched = TRUE;
  g_free(state->work_mode);
  state->work_mode = g_strdup(mode);
}

void
am_fm_state_set_pools(AmFmState *state, GPtrArray *pools)
{
  if (state->ignore_actions) {
    g_ptr_array_unref(pools);
    return;
  }
  state->touched = TRUE;
  if (state->pools != NULL)
    g_ptr_array_unref(state->pools);
  state->pools = pools;
  if (state->pool_active >= pools->len)
    state->pool_active = 0;
}

/* ---- control-port settings ---- */

static gboolean
parse_number(const char *key, const char *value, double min, double max, double *out,
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

static gboolean
parse_flag(const char *key, const char *value, gboolean *out, GError **error)
{
  if (g_str_equal(value, "1") || g_str_equal(value, "true") || g_str_equal(value, "on")) {
    *out = TRUE;
    return TRUE;
  }
  if (g_str_equal(value, "0") || g_str_equal(value, "false") || g_str_equal(value, "off")) {
    *out = FALSE;
    return TRUE;
  }
  g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE, "%s=%s: expected 0 or 1", key, value);
  return FALSE;
}

/* "url|user|password,url|user": the pools in priority order; "-" none. */
static GPtrArray *
parse_pools(const char *value)
{
  GPtrArray *pools = g_ptr_array_new_with_free_func(am_fm_pool_free);
  if (g_str_equal(value, "-"))
    return pools;
  g_auto(GStrv) items = g_strsplit(value, ",", -1);
  for (gsize i = 0; items[i] != NULL; i++) {
    g_auto(GStrv) parts = g_strsplit(items[i], "|", 3);
    AmFmPool *pool = g_new0(AmFmPool, 1);
    pool->url = g_strdup(parts[0] ? parts[0] : "");
    pool->user = g_strdup(parts[0] && parts[1] ? parts[1] : "");
    pool->password = g_strdup(parts[0] && parts[1] && parts[2] ? parts[2] : "");
    g_ptr_array_add(pools, pool);
  }
  return pools;
}

gboolean
am_fm_state_apply(AmFmState *state, const char *key, const char *value, gboolean *known,
                  GError **error)
{
  *known = TRUE;
  double number = 0;
  gboolean flag = FALSE;
  if (g_str_equal(key, "paused") || g_str_equal(key, "locate") || g_str_equal(key, "rebooting")) {
    if (!parse_flag(key, value, &flag, error))
      return FALSE;
    state->touched = TRUE;
    if (g_str_equal(key, "paused"))
      state->paused = flag;
    else if (g_str_equal(key, "locate")) {
      state->locate = flag;
      g_clear_pointer(&state->locate_body, g_free);
    } else if (flag && !state->rebooting)
      state->reboot_requested = TRUE;
    return TRUE;
  }
  if (g_str_equal(key, "ignore_actions"))
    return parse_flag(key, value, &state->ignore_actions, error);
  if (g_str_equal(key, "write_access")) {
    state->touched = TRUE; /* the [state] rule "readonly" shows it (v3 apiswitch) */
    return parse_flag(key, value, &state->write_access, error);
  }
  if (g_str_equal(key, "uptime")) { /* booted that many seconds ago */
    if (!parse_number(key, value, 0, 1e9, &number, error))
      return FALSE;
    state->touched = TRUE;
    state->booted = TRUE;
    state->boot_time = am_fm_now() - number;
    return TRUE;
  }
  if (g_str_equal(key, "reboot_s"))
    return parse_number(key, value, 0, 3600, &state->reboot_s, error);
  if (g_str_equal(key, "power_delay_s"))
    return parse_number(key, value, 0, 3600, &state->power_delay_s, error);
  if (g_str_equal(key, "nominal_w"))
    return parse_number(key, value, 0, 1e6, &state->nominal_w, error);
  if (g_str_equal(key, "power_limit_w")) {
    if (!parse_number(key, value, 0, 1e6, &number, error))
      return FALSE;
    state->touched = TRUE;
    state->power_limit_w = number;
    state->power_set_at = am_fm_now();
    return TRUE;
  }
  if (g_str_equal(key, "work_mode")) {
    if (!g_str_equal(value, "low") && !g_str_equal(value, "normal") &&
        !g_str_equal(value, "high") && !g_str_equal(value, "-")) {
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_USAGE,
                  "work_mode=%s: expected low, normal, high or -", value);
      return FALSE;
    }
    state->touched = TRUE;
    g_free(state->work_mode);
    state->work_mode = g_str_equal(value, "-") ? NULL : g_strdup(value);
    return TRUE;
  }
  if (g_str_equal(key, "pools")) {
    state->touched = TRUE;
    if (state->pools != NULL)
      g_ptr_array_unref(state->pools);
    state->pools = parse_pools(value);
    state->pool_active = 0;
    return TRUE;
  }
  *known = FALSE;
  return TRUE;
}

void
am_fm_state_describe(const AmFmState *state, GString *out)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_printf(out, " paused=%d locate=%d rebooting=%d", state->paused, state->locate,
                         state->rebooting);
  if (state->booted)
    g_string_append_printf(out, " uptime=%.0f", floor(am_fm_now() - state->boot_time));
  g_string_append_printf(out, " reboot_s=%s", g_ascii_dtostr(buf, sizeof buf, state->reboot_s));
  g_string_append_printf(out, " power_limit_w=%s",
                         g_ascii_dtostr(buf, sizeof buf, state->power_limit_w));
  if (state->power_delay_s > 0)
    g_string_append_printf(out, " power_delay_s=%s",
                           g_ascii_dtostr(buf, sizeof buf, state->power_delay_s));
  if (state->nominal_w > 0)
    g_string_append_printf(out, " nominal_w=%s", g_ascii_dtostr(buf, sizeof buf, state->nominal_w));
  g_string_append_printf(out, " work_mode=%s", state->work_mode ? state->work_mode : "-");
  g_string_append(out, " pools=");
  if (state->pools == NULL || state->pools->len == 0)
    g_string_append(out, "-");
  for (guint i = 0; state->pools != NULL && i < state->pools->len; i++) {
    const AmFmPool *pool = state->pools->pdata[i];
    g_string_append_printf(out, "%s%s|%s", i ? "," : "", pool->url, pool->user);
  }
  g_string_append_printf(out, " ignore_actions=%d write_access=%d writes=%u", state->ignore_actions,
                         state->write_access, state->writes);
}

/* ---- [state] rules ---- */

typedef enum {
  COND_UPTIME,
  COND_PAUSED,
  COND_RUNNING,
  COND_LOCATE,
  COND_POWER,
  COND_POWER_LIMIT,
  COND_WORK_MODE,
  COND_POOLS,
  COND_WORK_MODE_ANY,
  COND_READONLY,
} Cond;

typedef struct {
  Cond cond;
  char *mode; /* COND_WORK_MODE */
  char *file; /* NULL: every reply */
  char *key;  /* the JSON key, or the NAME of NAME[...] */
  gboolean bracket;
  char *value;
} Rule;

struct _AmFmStateRules {
  GPtrArray *rules; /* Rule */
  double nominal_w;
};

static void
rule_free(gpointer data)
{
  Rule *rule = data;
  g_free(rule->mode);
  g_free(rule->file);
  g_free(rule->key);
  g_free(rule->value);
  g_free(rule);
}

AmFmStateRules *
am_fm_state_rules_new(void)
{
  AmFmStateRules *rules = g_new0(AmFmStateRules, 1);
  rules->rules = g_ptr_array_new_with_free_func(rule_free);
  return rules;
}

void
am_fm_state_rules_free(AmFmStateRules *rules)
{
  if (rules == NULL)
    return;
  g_ptr_array_unref(rules->rules);
  g_free(rules);
}

double
am_fm_state_rules_nominal_w(AmFmStateRules *rules)
{
  return rules != NULL ? rules->nominal_w : 0;
}

static gboolean
cond_from_name(const char *name, Rule *rule)
{
  static const struct {
    const char *name;
    Cond cond;
  } names[] = {
      {"uptime", COND_UPTIME},     {"paused", COND_PAUSED},
      {"running", COND_RUNNING},   {"locate", COND_LOCATE},
      {"power", COND_POWER},       {"power_limit", COND_POWER_LIMIT},
      {"pools", COND_POOLS},       {"work_mode", COND_WORK_MODE_ANY},
      {"readonly", COND_READONLY},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
    if (g_str_equal(name, names[i].name)) {
      rule->cond = names[i].cond;
      return TRUE;
    }
  }
  if (g_str_has_prefix(name, "work_mode.") && name[10] != '\0') {
    rule->cond = COND_WORK_MODE;
    rule->mode = g_strdup(name + 10);
    return TRUE;
  }
  return FALSE;
}

gboolean
am_fm_state_rules_add(AmFmStateRules *rules, const char *key, const char *value, GError **error)
{
  if (g_str_equal(key, "nominal_w")) {
    char *end = NULL;
    rules->nominal_w = g_ascii_strtod(value, &end);
    if (end == value || *end != '\0' || !(rules->nominal_w > 0)) {
      g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE, "nominal_w=%s: expected watts", value);
      return FALSE;
    }
    return TRUE;
  }
  const char *space = strchr(key, ' ');
  Rule *rule = g_new0(Rule, 1);
  g_autofree char *cond = space ? g_strndup(key, (gsize)(space - key)) : NULL;
  if (cond == NULL || !cond_from_name(cond, rule)) {
    rule_free(rule);
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE,
                "[state] '%s': expected 'CONDITION [FILE:]KEY' (uptime, paused, running, locate, "
                "power, power_limit, pools, work_mode, work_mode.MODE, readonly)",
                key);
    return FALSE;
  }
  const char *target = space + 1;
  const char *colon = strchr(target, ':');
  if (colon != NULL) {
    rule->file = g_strndup(target, (gsize)(colon - target));
    target = colon + 1;
  }
  gsize len = strlen(target);
  if (len > 2 && g_str_has_suffix(target, "[]")) {
    rule->bracket = TRUE;
    len -= 2;
  }
  rule->key = g_strndup(target, len);
  rule->value = g_strdup(value);
  g_ptr_array_add(rules->rules, rule);
  return TRUE;
}

/* ---- rewriting ---- */

typedef struct {
  const AmFmState *state;
  double power;    /* factor */
  double hashrate; /* factor */
  double uptime;
  GHashTable *occurrences; /* Rule * -> count, for the pools */
} Context;

static gboolean
rule_active(const Rule *rule, const Context *ctx)
{
  const AmFmState *st = ctx->state;
  switch (rule->cond) {
  case COND_UPTIME:
    return st->booted;
  case COND_PAUSED:
    return st->paused;
  case COND_RUNNING:
    return !st->paused;
  case COND_LOCATE:
    return st->locate;
  case COND_POWER:
    return ctx->power != 1.0 || ctx->hashrate != 1.0;
  case COND_POWER_LIMIT:
    return st->power_limit_w > 0;
  case COND_WORK_MODE:
    return g_strcmp0(st->work_mode, rule->mode) == 0;
  case COND_POOLS:
    return st->pools != NULL;
  case COND_WORK_MODE_ANY:
    return st->work_mode != NULL;
  case COND_READONLY:
    return !st->write_access;
  }
  return FALSE;
}

static void
append_scaled(GString *out, const char *recorded, gsize len, double factor)
{
  g_autofree char *text = g_strndup(recorded, len);
  const char *dot = strchr(text, '.');
  int decimals = dot ? (int)strlen(dot + 1) : 0;
  double v = g_ascii_strtod(text, NULL) * factor;
  g_string_append_printf(out, "%.*f", decimals, v);
}

/* The rule's value with its {{...}} filled in; @recorded is the value it
 * replaces (for {{power}} and {{hashrate}}). */
static void
expand(const Rule *rule, Context *ctx, const char *recorded, gsize recorded_len, GString *out)
{
  const char *p = rule->value;
  guint index = GPOINTER_TO_UINT(g_hash_table_lookup(ctx->occurrences, rule));
  g_hash_table_insert(ctx->occurrences, (gpointer)rule, GUINT_TO_POINTER(index + 1));
  const AmFmPool *pool = ctx->state->pools != NULL && index < ctx->state->pools->len
                             ? ctx->state->pools->pdata[index]
                             : NULL;
  while (*p != '\0') {
    const char *open = strstr(p, "{{");
    const char *close = open ? strstr(open, "}}") : NULL;
    if (close == NULL) {
      g_string_append(out, p);
      return;
    }
    g_string_append_len(out, p, open - p);
    g_autofree char *name = g_strndup(open + 2, (gsize)(close - open - 2));
    if (g_str_equal(name, "uptime"))
      g_string_append_printf(out, "%.0f", floor(ctx->uptime));
    else if (g_str_equal(name, "power"))
      append_scaled(out, recorded, recorded_len, ctx->power);
    else if (g_str_equal(name, "hashrate"))
      append_scaled(out, recorded, recorded_len, ctx->hashrate);
    else if (g_str_equal(name, "power_limit"))
      g_string_append_printf(out, "%.0f", ctx->state->power_limit_w);
    else if (g_str_equal(name, "work_mode"))
      g_string_append(out, ctx->state->work_mode ? ctx->state->work_mode : "");
    else if (g_str_equal(name, "pool_url"))
      g_string_append(out, pool ? pool->url : "");
    else if (g_str_equal(name, "pool_user"))
      g_string_append(out, pool ? pool->user : "");
    else if (g_str_equal(name, "now"))
      g_string_append_printf(out, "%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
    p = close + 2;
  }
}

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
  while (i < n && g_ascii_isspace(s[i]))
    i++;
  return i;
}

/* The rule for "key" in this reply, if one is active. */
static const Rule *
find_rule(GPtrArray *active, const char *key, gsize len)
{
  for (guint i = 0; i < active->len; i++) {
    const Rule *rule = active->pdata[i];
    if (!rule->bracket && strlen(rule->key) == len && memcmp(rule->key, key, len) == 0)
      return rule;
  }
  return NULL;
}

/* "key": value pairs. */
static void
rewrite_pairs(GPtrArray *active, Context *ctx, const char *s, gsize n, GString *out)
{
  gsize pos = 0, i = 0;
  while (i < n) {
    if (s[i] != '"') {
      i++;
      continue;
    }
    gsize key_start = i + 1;
    gsize after = skip_string(s, n, i);
    gsize colon = skip_blanks(s, n, after);
    i = after;
    if (colon >= n || s[colon] != ':' || after <= key_start)
      continue;
    const Rule *rule = find_rule(active, s + key_start, after - 1 - key_start);
    if (rule == NULL)
      continue;
    gsize v = skip_blanks(s, n, colon + 1);
    gsize start, end, next;
    if (v < n && s[v] == '"') {
      next = skip_string(s, n, v); /* past the closing quote */
      start = v + 1;
      end = next - 1;
      if (rule->value[0] == '"') /* the value is a whole JSON string */
        start = v, end = next;
    } else if (v < n && s[v] != '{' && s[v] != '[') {
      start = v;
      end = v;
      while (end < n && s[end] != ',' && s[end] != '}' && s[end] != ']' && !g_ascii_isspace(s[end]))
        end++;
      next = end;
    } else {
      continue; /* objects and arrays stay */
    }
    g_string_append_len(out, s + pos, start - pos);
    expand(rule, ctx, s + start, end - start, out);
    pos = end;
    i = next;
  }
  g_string_append_len(out, s + pos, n - pos);
}

/* NAME[...] inside strings (Avalon's "MM ID0"). */
static void
rewrite_brackets(const Rule *rule, Context *ctx, GString *text)
{
  g_autofree char *needle = g_strconcat(rule->key, "[", NULL);
  gsize from = 0;
  for (;;) {
    char *hit = strstr(text->str + from, needle);
    if (hit == NULL)
      return;
    gsize start = (gsize)(hit - text->str) + strlen(needle);
    char *close = strchr(text->str + start, ']');
    if (close == NULL)
      return;
    gsize end = (gsize)(close - text->str);
    if (hit > text->str && (g_ascii_isalnum(hit[-1]) || hit[-1] == '_')) {
      from = end; /* part of a longer name */
      continue;
    }
    g_autoptr(GString) value = g_string_new(NULL);
    expand(rule, ctx, text->str + start, end - start, value);
    g_string_erase(text, (gssize)start, (gssize)(end - start));
    g_string_insert(text, (gssize)start, value->str);
    from = start + value->len;
  }
}

void
am_fm_state_rewrite(AmFmStateRules *rules, const char *file, const AmFmVary *vary, GByteArray *out,
                    gsize start)
{
  if (rules == NULL || vary->state == NULL || start > out->len)
    return;
  Context ctx = {.state = vary->state};
  double now = am_fm_now();
  am_fm_state_factors(vary->state, vary->nominal_w, now, &ctx.power, &ctx.hashrate);
  ctx.uptime = vary->state->booted ? MAX(0, now - vary->state->boot_time) : 0;
  g_autoptr(GPtrArray) active = g_ptr_array_new();
  g_autoptr(GPtrArray) brackets = g_ptr_array_new();
  for (guint i = 0; i < rules->rules->len; i++) {
    const Rule *rule = rules->rules->pdata[i];
    if ((rule->file != NULL && g_strcmp0(rule->file, file) != 0) || !rule_active(rule, &ctx))
      continue;
    g_ptr_array_add(rule->bracket ? brackets : active, (gpointer)rule);
  }
  if (active->len == 0 && brackets->len == 0)
    return;
  ctx.occurrences = g_hash_table_new(NULL, NULL);
  g_autoptr(GString) text = g_string_sized_new(out->len - start + 64);
  rewrite_pairs(active, &ctx, (const char *)out->data + start, out->len - start, text);
  for (guint i = 0; i < brackets->len; i++)
    rewrite_brackets(brackets->pdata[i], &ctx, text);
  g_hash_table_unref(ctx.occurrences);
  g_byte_array_set_size(out, (guint)start);
  g_byte_array_append(out, (const guint8 *)text->str, (guint)text->len);
}
