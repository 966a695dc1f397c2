/* The control plane's requests (pure; see the header). */
#include "am-http-actions-parse.h"

#include <string.h>

/* Longest value a string member may hold: URLs and pool users are short. */
#define MEMBER_MAX 512
/* Most hosts one fleet request may list. */
#define HOSTS_MAX 10000
/* A batch's pause: up to a day. */
#define INTERVAL_MAX_S (24 * 3600)

void
am_http_action_body_clear(AmHttpActionBody *b)
{
  g_free((char *)b->request.mode);
  for (guint i = 0; i < AM_HTTP_MAX_POOLS; i++) {
    g_free((char *)b->pools[i].url);
    g_free((char *)b->pools[i].user);
    if (b->pools[i].password != NULL)
      memset((char *)b->pools[i].password, 0, strlen(b->pools[i].password));
    g_free((char *)b->pools[i].password);
  }
  g_strfreev(b->hosts);
  g_free(b->model);
  g_free(b->q);
  memset(b, 0, sizeof *b);
}

const char *
am_http_body_problem_code(AmHttpBodyProblem problem)
{
  switch (problem) {
  case AM_HTTP_BODY_UNKNOWN_ACTION:
    return "unknown_action";
  case AM_HTTP_BODY_BAD_PARAMETER:
    return "invalid_parameter";
  default:
    return "invalid_body";
  }
}

/* ---- typed members ------------------------------------------------------------ */

static gboolean fail(GError **error, AmHttpBodyProblem *problem, AmHttpBodyProblem kind,
                     const char *format, ...) G_GNUC_PRINTF(4, 5);

static gboolean
fail(GError **error, AmHttpBodyProblem *problem, AmHttpBodyProblem kind, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  char *message = g_strdup_vprintf(format, args);
  va_end(args);
  *problem = kind;
  g_set_error_literal(error, AM_ERROR,
                      kind == AM_HTTP_BODY_INVALID ? AM_ERROR_PARSE : AM_ERROR_CONFIG, message);
  g_free(message);
  return FALSE;
}

static gboolean
is_string(JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

static gboolean
is_int(JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_INT64;
}

static gboolean
is_bool(JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_BOOLEAN;
}

/* A string of 1..MEMBER_MAX characters, copied. */
static gboolean
read_text(JsonNode *node, const char *name, char **out, AmHttpBodyProblem *problem, GError **error)
{
  const char *text = is_string(node) ? json_node_get_string(node) : NULL;
  if (text == NULL || *text == '\0' || strlen(text) > MEMBER_MAX)
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "%s: expected a string of 1 to %d characters", name, MEMBER_MAX);
  *out = g_strdup(text);
  return TRUE;
}

static gboolean
read_watts(JsonNode *node, AmActionRequest *r, AmHttpBodyProblem *problem, GError **error)
{
  if (node == NULL || !is_int(node) || json_node_get_int(node) <= 0 ||
      json_node_get_int(node) > G_MAXUINT32)
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "watts: expected a positive whole number of watts, as in "
                "{\"action\":\"power_target\",\"watts\":3000}");
  r->watts = (guint)json_node_get_int(node);
  return TRUE;
}

static gboolean
read_mode(JsonNode *node, AmActionRequest *r, AmHttpBodyProblem *problem, GError **error)
{
  static const char *const modes[] = {AM_WORK_MODE_LOW, AM_WORK_MODE_NORMAL, AM_WORK_MODE_HIGH,
                                      NULL};
  const char *mode = node != NULL && is_string(node) ? json_node_get_string(node) : NULL;
  if (mode == NULL || !g_strv_contains(modes, mode))
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "mode: expected \"low\", \"normal\" or \"high\"");
  r->mode = g_strdup(mode);
  return TRUE;
}

static gboolean
read_on(JsonNode *node, AmActionRequest *r, AmHttpBodyProblem *problem, GError **error)
{
  if (node == NULL || !is_bool(node))
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "on: expected true (light on) or false (light off)");
  r->on = json_node_get_boolean(node);
  return TRUE;
}

static gboolean
read_pool(JsonNode *node, guint i, AmPoolSetting *pool, AmHttpBodyProblem *problem, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(node))
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "pools[%u]: expected an object {\"url\":..,\"user\":..,\"password\":..}", i);
  JsonObject *obj = json_node_get_object(node);
  JsonObjectIter it;
  const char *name;
  JsonNode *value;
  json_object_iter_init(&it, obj);
  while (json_object_iter_next(&it, &name, &value)) {
    char **slot = g_str_equal(name, "url")        ? (char **)&pool->url
                  : g_str_equal(name, "user")     ? (char **)&pool->user
                  : g_str_equal(name, "password") ? (char **)&pool->password
                                                  : NULL;
    g_autofree char *where = g_strdup_printf("pools[%u].%s", i, name);
    if (slot == NULL)
      return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                  "%s: unknown member (a pool has url, user and password)", where);
    if (!read_text(value, where, slot, problem, error))
      return FALSE;
  }
  if (pool->url == NULL || pool->user == NULL)
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER, "pools[%u]: needs a url and a user", i);
  return TRUE;
}

static gboolean
read_pools(JsonNode *node, AmHttpActionBody *b, AmHttpBodyProblem *problem, GError **error)
{
  JsonArray *list = node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
  guint n = list != NULL ? json_array_get_length(list) : 0;
  if (n < 1 || n > AM_HTTP_MAX_POOLS)
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "pools: expected a list of 1 to %d pools, first preferred: "
                "[{\"url\":..,\"user\":..,\"password\":..}]",
                AM_HTTP_MAX_POOLS);
  for (guint i = 0; i < n; i++)
    if (!read_pool(json_array_get_element(list, i), i, &b->pools[i], problem, error))
      return FALSE;
  b->request.pools = b->pools;
  b->request.n_pools = n;
  return TRUE;
}

/* ---- the fleet's selection and pacing ------------------------------------------ */

static gboolean
read_hosts(JsonNode *node, AmHttpActionBody *b, AmHttpBodyProblem *problem, GError **error)
{
  JsonArray *list = JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
  guint n = list != NULL ? json_array_get_length(list) : 0;
  if (n < 1 || n > HOSTS_MAX)
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "hosts: expected a list of 1 to %d addresses, hosts or names", HOSTS_MAX);
  b->hosts = g_new0(char *, n + 1);
  for (guint i = 0; i < n; i++) {
    JsonNode *item = json_array_get_element(list, i);
    const char *key = is_string(item) ? json_node_get_string(item) : NULL;
    g_autoptr(GError) local = NULL;
    if (key == NULL || !am_http_parse_miner_key("hosts", key, &local))
      return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                  "hosts[%u]: expected a miner's address, host or name as a string", i);
    b->hosts[i] = g_strdup(key);
  }
  return TRUE;
}

static gboolean
read_filter_text(JsonNode *node, const char *name, char **out, AmHttpBodyProblem *problem,
                 GError **error)
{
  g_autoptr(GError) local = NULL;
  if (!is_string(node) || !am_http_parse_text(name, json_node_get_string(node), &local))
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "%s: expected a search text of 1 to %d characters", name, AM_HTTP_VALUE_MAX);
  *out = g_strdup(json_node_get_string(node));
  return TRUE;
}

static gboolean
read_states(JsonNode *node, AmHttpActionBody *b, AmHttpBodyProblem *problem, GError **error)
{
  g_autoptr(GError) local = NULL;
  if (!is_string(node))
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "state: expected a string such as \"online\" or \"online,paused\"");
  if (!am_http_parse_states("state", json_node_get_string(node), &b->states, &local))
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER, "%s", local->message);
  return TRUE;
}

static gboolean
read_batch(JsonNode *node, AmHttpActionBody *b, AmHttpBodyProblem *problem, GError **error)
{
  if (!is_int(node) || json_node_get_int(node) < 1 || json_node_get_int(node) > HOSTS_MAX)
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "batch: expected how many miners to act on at once, 1 to %d", HOSTS_MAX);
  b->batch = (guint)json_node_get_int(node);
  return TRUE;
}

/* "30s", "5m", "90" (seconds) or a number of seconds; 0 is allowed. */
static gboolean
read_interval(JsonNode *node, AmHttpActionBody *b, AmHttpBodyProblem *problem, GError **error)
{
  guint seconds = 0;
  gboolean ok = FALSE;
  if (is_int(node) && json_node_get_int(node) >= 0 && json_node_get_int(node) <= INTERVAL_MAX_S) {
    seconds = (guint)json_node_get_int(node);
    ok = TRUE;
  } else if (is_string(node)) {
    const char *text = json_node_get_string(node);
    ok = g_str_equal(text, "0") || g_str_equal(text, "0s") ||
         (am_http_parse_step("interval", text, &seconds, NULL) && seconds <= INTERVAL_MAX_S);
  }
  if (!ok)
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER,
                "interval: expected the time between batches, \"30s\", \"5m\" or seconds, "
                "up to a day");
  b->interval_ms = seconds * 1000;
  return TRUE;
}

static gboolean
read_dry_run(JsonNode *node, AmHttpActionBody *b, AmHttpBodyProblem *problem, GError **error)
{
  if (!is_bool(node))
    return fail(error, problem, AM_HTTP_BODY_BAD_PARAMETER, "dry_run: expected true or false");
  b->dry_run = json_node_get_boolean(node);
  return TRUE;
}

/* One fleet member; FALSE with *@known FALSE when @name is none. */
static gboolean
read_fleet_member(const char *name, JsonNode *value, AmHttpActionBody *b, gboolean *known,
                  AmHttpBodyProblem *problem, GError **error)
{
  *known = TRUE;
  if (g_str_equal(name, "hosts"))
    return read_hosts(value, b, problem, error);
  if (g_str_equal(name, "model"))
    return read_filter_text(value, "model", &b->model, problem, error);
  if (g_str_equal(name, "q"))
    return read_filter_text(value, "q", &b->q, problem, error);
  if (g_str_equal(name, "state"))
    return read_states(value, b, problem, error);
  if (g_str_equal(name, "batch"))
    return read_batch(value, b, problem, error);
  if (g_str_equal(name, "interval"))
    return read_interval(value, b, problem, error);
  if (g_str_equal(name, "dry_run"))
    return read_dry_run(value, b, problem, error);
  *known = FALSE;
  return FALSE;
}

/* ---- the body ------------------------------------------------------------------ */

/* The parameter member each action takes (NULL: none). */
static const char *
parameter_of(AmActionKind kind)
{
  switch (kind) {
  case AM_ACTION_POWER_TARGET:
    return "watts";
  case AM_ACTION_WORK_MODE:
    return "mode";
  case AM_ACTION_LOCATE:
    return "on";
  case AM_ACTION_POOLS:
    return "pools";
  default:
    return NULL;
  }
}

static gboolean
read_parameter(JsonObject *obj, AmHttpActionBody *b, AmHttpBodyProblem *problem, GError **error)
{
  const char *name = parameter_of(b->request.kind);
  JsonNode *value = name != NULL ? json_object_get_member(obj, name) : NULL;
  switch (b->request.kind) {
  case AM_ACTION_POWER_TARGET:
    return read_watts(value, &b->request, problem, error);
  case AM_ACTION_WORK_MODE:
    return read_mode(value, &b->request, problem, error);
  case AM_ACTION_LOCATE:
    return read_on(value, &b->request, problem, error);
  case AM_ACTION_POOLS:
    return read_pools(value, b, problem, error);
  default:
    return TRUE;
  }
}

static gboolean
read_action(JsonObject *obj, AmHttpActionBody *b, AmHttpBodyProblem *problem, GError **error)
{
  JsonNode *node = json_object_get_member(obj, "action");
  if (node == NULL || !is_string(node))
    return fail(error, problem, AM_HTTP_BODY_INVALID,
                "action: missing; the body names what to do, as in {\"action\":\"pause\"}");
  b->request.kind = am_action_kind_from_string(json_node_get_string(node));
  if (b->request.kind == AM_ACTION_NONE) {
    g_autofree char *name = g_strescape(json_node_get_string(node), NULL);
    return fail(error, problem, AM_HTTP_BODY_UNKNOWN_ACTION,
                "action: unknown action \"%.64s\"; expected reboot, restart, pause, resume, "
                "power_target, work_mode, locate or pools",
                name);
  }
  return TRUE;
}

/* Every member is known: a typo ("wats") must not send an action that
 * lacks what the user meant. */
static gboolean
check_members(JsonObject *obj, gboolean fleet, AmHttpActionBody *b, AmHttpBodyProblem *problem,
              GError **error)
{
  const char *param = parameter_of(b->request.kind);
  JsonObjectIter it;
  const char *name;
  JsonNode *value;
  json_object_iter_init(&it, obj);
  while (json_object_iter_next(&it, &name, &value)) {
    if (g_str_equal(name, "action") || g_strcmp0(name, param) == 0)
      continue;
    gboolean known = FALSE;
    if (fleet && read_fleet_member(name, value, b, &known, problem, error))
      continue;
    if (known)
      return FALSE;
    g_autofree char *escaped = g_strescape(name, NULL);
    return fail(error, problem, AM_HTTP_BODY_INVALID, "%.64s: unknown member for %s%s", escaped,
                am_action_kind_to_string(b->request.kind),
                param != NULL ? "" : " (it takes no parameter)");
  }
  return TRUE;
}

gboolean
am_http_action_body_parse(const char *data, gsize len, gboolean fleet, AmHttpActionBody *out,
                          AmHttpBodyProblem *problem, GError **error)
{
  memset(out, 0, sizeof *out);
  out->request.struct_size = sizeof(AmActionRequest);
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) local = NULL;
  if (len == 0)
    return fail(error, problem, AM_HTTP_BODY_INVALID,
                "the body is empty: send a JSON object such as {\"action\":\"pause\"}");
  if (memchr(data, '\0', len) != NULL || !g_utf8_validate(data, (gssize)len, NULL) ||
      !json_parser_load_from_data(parser, data, (gssize)len, &local))
    return fail(error, problem, AM_HTTP_BODY_INVALID, "the body is not valid JSON%s%s",
                local != NULL ? ": " : "", local != NULL ? local->message : "");
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return fail(error, problem, AM_HTTP_BODY_INVALID,
                "the body must be a JSON object such as {\"action\":\"pause\"}");
  JsonObject *obj = json_node_get_object(root);
  if (read_action(obj, out, problem, error) && read_parameter(obj, out, problem, error) &&
      check_members(obj, fleet, out, problem, error))
    return TRUE;
  am_http_action_body_clear(out);
  return FALSE;
}

/* ---- cross-site checks ------------------------------------------------------------ */

gboolean
am_http_content_type_is_json(const char *value)
{
  if (value == NULL)
    return FALSE;
  while (*value == ' ' || *value == '\t')
    value++;
  gsize n = strlen("application/json");
  if (g_ascii_strncasecmp(value, "application/json", n) != 0)
    return FALSE;
  const char *rest = value + n;
  while (*rest == ' ' || *rest == '\t')
    rest++;
  return *rest == '\0' || *rest == ';';
}

gboolean
am_http_origin_allowed(const char *origin, const char *scheme, const char *host)
{
  if (origin == NULL)
    return TRUE;
  if (scheme == NULL || host == NULL || *host == '\0')
    return FALSE;
  g_autofree char *own = g_strconcat(scheme, "://", host, NULL);
  /* Scheme and host are case-insensitive; a browser sends them lower case. */
  return g_ascii_strcasecmp(origin, own) == 0;
}

/* ---- the fleet's miners ----------------------------------------------------------- */

static gboolean
miner_is(const AmHttpMiner *m, const char *key)
{
  return g_strcmp0(m->address, key) == 0 || g_strcmp0(m->host, key) == 0 ||
         g_strcmp0(m->name, key) == 0;
}

/* Every listed host names a miner: a typo must not shrink the selection
 * without a word. */
static gboolean
check_hosts_known(GPtrArray *miners, char **hosts, GError **error)
{
  for (guint i = 0; hosts != NULL && hosts[i] != NULL; i++) {
    gboolean found = FALSE;
    for (guint j = 0; j < miners->len && !found; j++)
      found = miner_is(miners->pdata[j], hosts[i]);
    if (!found) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "hosts: no miner %s (give addresses, hosts or names as /api/miners lists them)",
                  hosts[i]);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
listed(const AmHttpMiner *m, char **hosts)
{
  if (hosts == NULL)
    return TRUE;
  for (guint i = 0; hosts[i] != NULL; i++)
    if (miner_is(m, hosts[i]))
      return TRUE;
  return FALSE;
}

gboolean
am_http_fleet_select(GPtrArray *miners, const AmHttpActionBody *b, GPtrArray *keys, GError **error)
{
  if (!check_hosts_known(miners, b->hosts, error))
    return FALSE;
  AmHttpMinerFilter filter = {.states = b->states, .model = b->model, .q = b->q};
  guint before = keys->len;
  for (guint i = 0; i < miners->len; i++) {
    const AmHttpMiner *m = miners->pdata[i];
    if (listed(m, b->hosts) && am_http_miner_matches(m, &filter))
      g_ptr_array_add(keys, m->address);
  }
  if (keys->len == before) {
    g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                "no miner matches this selection (hosts, model, state, q): nothing to do");
    return FALSE;
  }
  return TRUE;
}

/* ---- replies ---------------------------------------------------------------------- */

guint
am_http_action_error_status(const GError *error, const char **code)
{
  if (error->domain == AM_ERROR) {
    switch (error->code) {
    case AM_ERROR_NOT_FOUND:
      *code = "not_found";
      return 404;
    case AM_ERROR_UNSUPPORTED:
      *code = "unsupported";
      return 409;
    case AM_ERROR_BUSY:
      *code = "busy";
      return 429;
    case AM_ERROR_CONFIG:
    case AM_ERROR_PARSE:
      *code = "invalid_parameter";
      return 400;
    default:
      break;
    }
  }
  *code = "action_failed";
  return 502;
}

guint
am_http_retry_after_s(const char *message)
{
  const char *at = message != NULL ? strstr(message, "try again in ") : NULL;
  if (at == NULL)
    return 0;
  at += strlen("try again in ");
  char *end = NULL;
  guint64 seconds = g_ascii_strtoull(at, &end, 10);
  if (end == at || !g_str_has_prefix(end, " s") || seconds > 24 * 3600)
    return 0;
  /* "try again in 0 s" still means not yet. */
  return MAX((guint)seconds, 1);
}

void
am_http_action_scrub(JsonNode *node)
{
  if (node == NULL)
    return;
  if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *list = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(list); i++)
      am_http_action_scrub(json_array_get_element(list, i));
  } else if (JSON_NODE_HOLDS_OBJECT(node)) {
    JsonObject *obj = json_node_get_object(node);
    if (json_object_has_member(obj, "password"))
      json_object_remove_member(obj, "password");
    JsonObjectIter it;
    const char *name;
    JsonNode *value;
    json_object_iter_init(&it, obj);
    while (json_object_iter_next(&it, &name, &value))
      am_http_action_scrub(value);
  }
}

/* ---- action_tokens_file= ---------------------------------------------------------- */

void
am_http_named_token_free(AmHttpNamedToken *t)
{
  if (t == NULL)
    return;
  if (t->token != NULL)
    memset(t->token, 0, strlen(t->token));
  g_free(t->token);
  g_free(t->name);
  g_free(t);
}

gboolean
am_http_token_name_is_valid(const char *name)
{
  gsize len = name != NULL ? strlen(name) : 0;
  if (len == 0 || len > 64)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (g_ascii_isspace(*p) || g_ascii_iscntrl(*p) || *p == '"' || *p == '\'' || *p == '\\')
      return FALSE;
  return TRUE;
}

static gboolean
token_listed(GPtrArray *tokens, const char *name, const char *token)
{
  for (guint i = 0; i < tokens->len; i++) {
    const AmHttpNamedToken *t = tokens->pdata[i];
    if (g_str_equal(t->name, name) || g_str_equal(t->token, token))
      return TRUE;
  }
  return FALSE;
}

GPtrArray *
am_http_named_tokens_parse(const char *text, const char *path, GError **error)
{
  g_autoptr(GPtrArray) tokens =
      g_ptr_array_new_with_free_func((GDestroyNotify)am_http_named_token_free);
  g_auto(GStrv) lines = g_strsplit(text != NULL ? text : "", "\n", -1);
  for (guint n = 0; lines[n] != NULL; n++) {
    char *line = g_strstrip(lines[n]);
    if (*line == '\0' || *line == '#')
      continue;
    g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
    const char *fields[3] = {NULL, NULL, NULL};
    guint count = 0;
    for (guint w = 0; words[w] != NULL; w++)
      if (*words[w] != '\0' && count++ < 3)
        fields[count - 1] = words[w];
    if (count != 2 || !am_http_token_name_is_valid(fields[0])) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "%s line %u: expected NAME TOKEN (a name of 1 to 64 characters without "
                  "spaces or quotes, one space, the token)",
                  path, n + 1);
      return NULL;
    }
    if (token_listed(tokens, fields[0], fields[1])) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "%s line %u: the name %s or its token is already listed: each name and "
                  "token once",
                  path, n + 1, fields[0]);
      return NULL;
    }
    AmHttpNamedToken *t = g_new0(AmHttpNamedToken, 1);
    t->name = g_strdup(fields[0]);
    t->token = g_strdup(fields[1]);
    g_ptr_array_add(tokens, t);
  }
  return g_steal_pointer(&tokens);
}
