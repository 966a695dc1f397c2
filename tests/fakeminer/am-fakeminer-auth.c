/* HTTP logins, as the firmware families do them, one per [http] section.
 *
 *   auth=digest  RFC 7616 Digest, MD5, qop=auth (Antminer, Elphapex): every
 *                request without a valid Authorization gets 401 and a
 *                WWW-Authenticate challenge with realm=.
 *   auth=token   a login route checks user=/password= in the request's
 *                parameters (a JSON body, usually) and answers login_reply=
 *                with the token in it; then token_header= carries the token,
 *                raw or after token_scheme= (Auradine "Token:", Braiins
 *                "Authorization:", Proto "Authorization: Bearer").
 *   auth=cookie  the login route sets cookie= (Iceriver, SealMiner).
 *   auth=jwt     a token shaped as a JWT, sent as "Authorization: Bearer"
 *                (Goldshell).
 *
 * Nothing is remembered between requests: the nonce and the tokens are
 * digests of the miner's label and the credentials, so any number of
 * clients and connections agree without state, and a token from another
 * miner or another password is refused.
 */
#include "am-fakeminer.h"
#include <string.h>

typedef enum { KIND_NONE, KIND_DIGEST, KIND_TOKEN, KIND_COOKIE, KIND_JWT } Kind;

/* What each kind needs and how its token travels. */
static const struct {
  const char *name;
  gboolean login_route; /* has a login= route */
  const char *header;   /* default token_header= */
  const char *scheme;   /* default token_scheme= */
} kinds[] = {
    [KIND_NONE] = {"none", FALSE, NULL, NULL},
    [KIND_DIGEST] = {"digest", FALSE, NULL, NULL},
    [KIND_TOKEN] = {"token", TRUE, "Authorization", NULL},
    [KIND_COOKIE] = {"cookie", TRUE, NULL, NULL},
    [KIND_JWT] = {"jwt", TRUE, "Authorization", "Bearer"},
};

struct _AmFmAuth {
  Kind kind;
  char *user;
  char *password;
  char *realm;          /* digest */
  char *login;          /* "POST /token" */
  char *user_field;     /* the login's parameter names; "" = not asked */
  char *password_field; /* (Proto logs in with a password only) */
  char *token_header;
  char *token_scheme;
  char *cookie;
  GStrv public_routes; /* "GET /" ...: open without a login */
  char *login_reply_file;
  char *login_denied_file;
  char *denied_file;
  int login_denied_status;
  int denied_status;
  GBytes *login_reply; /* read by am_fm_auth_finish() */
  GBytes *login_denied;
  GBytes *denied;
};

AmFmAuth *
am_fm_auth_new(void)
{
  AmFmAuth *auth = g_new0(AmFmAuth, 1);
  auth->user_field = g_strdup("user");
  auth->password_field = g_strdup("password");
  auth->login_denied_status = 401;
  auth->denied_status = 401;
  return auth;
}

void
am_fm_auth_free(AmFmAuth *auth)
{
  if (auth == NULL)
    return;
  char **strings[] = {&auth->user,         &auth->password,         &auth->realm,
                      &auth->login,        &auth->user_field,       &auth->password_field,
                      &auth->token_header, &auth->token_scheme,     &auth->cookie,
                      &auth->denied_file,  &auth->login_reply_file, &auth->login_denied_file};
  for (gsize i = 0; i < G_N_ELEMENTS(strings); i++)
    g_free(*strings[i]);
  g_strfreev(auth->public_routes);
  g_clear_pointer(&auth->login_reply, g_bytes_unref);
  g_clear_pointer(&auth->login_denied, g_bytes_unref);
  g_clear_pointer(&auth->denied, g_bytes_unref);
  g_free(auth);
}

gboolean
am_fm_auth_is_none(AmFmAuth *auth)
{
  return auth == NULL || auth->kind == KIND_NONE;
}

/* ---- settings ---- */

static gboolean
set_kind(AmFmAuth *auth, const char *value, GError **error)
{
  for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
    if (g_str_equal(value, kinds[k].name)) {
      auth->kind = (Kind)k;
      return TRUE;
    }
  }
  g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE,
              "auth=%s: expected none, digest, token, cookie or jwt", value);
  return FALSE;
}

static gboolean
set_status(int *status, const char *key, const char *value, GError **error)
{
  guint64 v = 0;
  if (!g_ascii_string_to_unsigned(value, 10, 200, 599, &v, NULL)) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE, "%s=%s: expected an HTTP status", key,
                value);
    return FALSE;
  }
  *status = (int)v;
  return TRUE;
}

gboolean
am_fm_auth_set(AmFmAuth *auth, const char *key, const char *value, gboolean *known, GError **error)
{
  const struct {
    const char *key;
    char **field;
  } strings[] = {
      {"user", &auth->user},
      {"password", &auth->password},
      {"realm", &auth->realm},
      {"login", &auth->login},
      {"user_field", &auth->user_field},
      {"password_field", &auth->password_field},
      {"token_header", &auth->token_header},
      {"token_scheme", &auth->token_scheme},
      {"cookie", &auth->cookie},
      {"login_reply", &auth->login_reply_file},
      {"login_denied", &auth->login_denied_file},
      {"denied", &auth->denied_file},
  };
  *known = TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS(strings); i++) {
    if (g_str_equal(key, strings[i].key)) {
      g_free(*strings[i].field);
      *strings[i].field = g_strdup(value);
      return TRUE;
    }
  }
  if (g_str_equal(key, "auth"))
    return set_kind(auth, value, error);
  if (g_str_equal(key, "public")) {
    g_strfreev(auth->public_routes);
    auth->public_routes = g_strsplit(value, ";", -1);
    for (gsize i = 0; auth->public_routes[i] != NULL; i++)
      g_strstrip(auth->public_routes[i]);
    return TRUE;
  }
  if (g_str_equal(key, "login_denied_status"))
    return set_status(&auth->login_denied_status, key, value, error);
  if (g_str_equal(key, "denied_status"))
    return set_status(&auth->denied_status, key, value, error);
  *known = FALSE;
  return TRUE;
}

static gboolean
read_file(const char *dir, const char *name, GBytes **out, GError **error)
{
  if (name == NULL)
    return TRUE;
  if (name[0] == '\0' || strchr(name, '/') != NULL) {
    g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE,
                "'%s': a reply file is a plain name in the profile directory", name);
    return FALSE;
  }
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, error))
    return FALSE;
  *out = g_bytes_new_take(g_steal_pointer(&data), len);
  return TRUE;
}

static gboolean
missing(const char *what, const char *kind, GError **error)
{
  g_set_error(error, AM_FM_ERROR, AM_FM_ERROR_PROFILE, "auth=%s needs %s=", kind, what);
  return FALSE;
}

gboolean
am_fm_auth_finish(AmFmAuth *auth, const char *dir, GError **error)
{
  if (auth->kind == KIND_NONE)
    return TRUE;
  const char *name = kinds[auth->kind].name;
  if (auth->user == NULL && auth->kind == KIND_DIGEST)
    return missing("user", name, error);
  if (auth->password == NULL)
    return missing("password", name, error);
  if (auth->kind == KIND_DIGEST && auth->realm == NULL)
    return missing("realm", name, error);
  if (kinds[auth->kind].login_route) {
    if (auth->login == NULL)
      return missing("login", name, error);
    if (auth->login_reply_file == NULL)
      return missing("login_reply", name, error);
    if (auth->kind == KIND_COOKIE && auth->cookie == NULL)
      return missing("cookie", name, error);
  }
  if (auth->token_header == NULL && kinds[auth->kind].header != NULL)
    auth->token_header = g_strdup(kinds[auth->kind].header);
  if (auth->token_scheme == NULL && kinds[auth->kind].scheme != NULL)
    auth->token_scheme = g_strdup(kinds[auth->kind].scheme);
  if (auth->user == NULL)
    auth->user = g_strdup("");
  return read_file(dir, auth->login_reply_file, &auth->login_reply, error) &&
         read_file(dir, auth->login_denied_file, &auth->login_denied, error) &&
         read_file(dir, auth->denied_file, &auth->denied, error);
}

/* ---- tokens ---- */

static char *
md5_hex(const char *text)
{
  return g_compute_checksum_for_string(G_CHECKSUM_MD5, text, -1);
}

static char *
base64url(const char *text)
{
  char *s = g_base64_encode((const guchar *)text, strlen(text));
  g_strdelimit(s, "+", '-');
  g_strdelimit(s, "/", '_');
  char *pad = strchr(s, '=');
  if (pad != NULL)
    *pad = '\0';
  return s;
}

/* The token this miner issues for these credentials; for jwt in the JWT
 * form (header.payload.signature), as Goldshell's login returns. */
static char *
token_for(const AmFmAuth *auth, const char *secret)
{
  g_autofree char *material =
      g_strconcat(secret, "\n", auth->user, "\n", auth->password, "\n", auth->login, NULL);
  g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, material, -1);
  if (auth->kind != KIND_JWT)
    return g_strndup(digest, 32);
  g_autofree char *payload_json = g_strdup_printf("{\"username\":\"%s\"}", auth->user);
  g_autofree char *header = base64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
  g_autofree char *payload = base64url(payload_json);
  return g_strconcat(header, ".", payload, ".", digest, NULL);
}

static char *
nonce_for(const char *secret)
{
  g_autofree char *material = g_strconcat("nonce:", secret, NULL);
  return md5_hex(material);
}

/* ---- replies ---- */

static void
reply_bytes(AmFmHttpReply *reply, int status, GBytes *bytes, const char *fallback)
{
  reply->status = status;
  if (bytes != NULL) {
    gsize len = 0;
    const guint8 *data = g_bytes_get_data(bytes, &len);
    g_byte_array_append(reply->body, data, (guint)len);
    reply->content_type = "application/json";
  } else {
    g_byte_array_append(reply->body, (const guint8 *)fallback, (guint)strlen(fallback));
    reply->content_type = "text/plain";
  }
}

/* login_reply= with every "{{token}}" replaced. */
static void
reply_login(const AmFmAuth *auth, const char *token, AmFmHttpReply *reply)
{
  gsize len = 0;
  const char *data = g_bytes_get_data(auth->login_reply, &len);
  g_autofree char *text = g_strndup(data, len);
  g_auto(GStrv) parts = g_strsplit(text, "{{token}}", -1);
  g_autofree char *joined = g_strjoinv(token, parts);
  reply->status = 200;
  reply->content_type = "application/json";
  g_byte_array_append(reply->body, (const guint8 *)joined, (guint)strlen(joined));
  if (auth->kind == KIND_COOKIE)
    g_string_append_printf(reply->headers, "Set-Cookie: %s=%s; Path=/\r\n", auth->cookie, token);
}

static void
reply_challenge(const AmFmAuth *auth, const char *secret, AmFmHttpReply *reply)
{
  g_autofree char *nonce = nonce_for(secret);
  g_string_append_printf(reply->headers,
                         "WWW-Authenticate: Digest realm=\"%s\", qop=\"auth\", nonce=\"%s\", "
                         "algorithm=MD5\r\n",
                         auth->realm, nonce);
  reply_bytes(reply, 401, NULL, "Unauthorized");
}

/* ---- checks ---- */

/* The parameters of a Digest header: name=value or name="value", by commas. */
static GHashTable *
digest_params(const char *text)
{
  GHashTable *params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  const char *p = text;
  for (;;) {
    while (*p == ' ' || *p == ',' || *p == '\t')
      p++;
    const char *eq = strchr(p, '=');
    if (*p == '\0' || eq == NULL)
      break;
    g_autofree char *name = g_strstrip(g_strndup(p, (gsize)(eq - p)));
    GString *value = g_string_new(NULL);
    p = eq + 1;
    if (*p == '"') {
      for (p++; *p != '\0' && *p != '"'; p++) {
        if (*p == '\\' && p[1] != '\0')
          p++;
        g_string_append_c(value, *p);
      }
      if (*p == '"')
        p++;
    } else {
      while (*p != '\0' && *p != ',')
        g_string_append_c(value, *p++);
      g_strchomp(value->str);
      value->len = strlen(value->str);
    }
    g_hash_table_insert(params, g_ascii_strdown(name, -1), g_string_free(value, FALSE));
  }
  return params;
}

static gboolean
digest_valid(const AmFmAuth *auth, const char *secret, const AmFmHttpRequest *request)
{
  g_autofree char *header = am_fm_http_header(request, "Authorization");
  if (header == NULL || g_ascii_strncasecmp(header, "Digest ", 7) != 0)
    return FALSE;
  g_autoptr(GHashTable) p = digest_params(header + 7);
  const char *nc = g_hash_table_lookup(p, "nc");
  const char *cnonce = g_hash_table_lookup(p, "cnonce");
  const char *response = g_hash_table_lookup(p, "response");
  g_autofree char *nonce = nonce_for(secret);
  if (g_strcmp0(g_hash_table_lookup(p, "username"), auth->user) != 0 ||
      g_strcmp0(g_hash_table_lookup(p, "realm"), auth->realm) != 0 ||
      g_strcmp0(g_hash_table_lookup(p, "nonce"), nonce) != 0 ||
      g_strcmp0(g_hash_table_lookup(p, "uri"), request->target) != 0 ||
      g_strcmp0(g_hash_table_lookup(p, "qop"), "auth") != 0 || nc == NULL || cnonce == NULL ||
      response == NULL)
    return FALSE;
  g_autofree char *a1 = g_strjoin(":", auth->user, auth->realm, auth->password, NULL);
  g_autofree char *a2 = g_strjoin(":", request->method, request->target, NULL);
  g_autofree char *ha1 = md5_hex(a1);
  g_autofree char *ha2 = md5_hex(a2);
  g_autofree char *all = g_strjoin(":", ha1, nonce, nc, cnonce, "auth", ha2, NULL);
  g_autofree char *expected = md5_hex(all);
  return g_ascii_strcasecmp(response, expected) == 0;
}

/* The value of cookie @name in a "Cookie: a=1; b=2" header. */
static char *
cookie_value(const char *header, const char *name)
{
  g_auto(GStrv) pairs = g_strsplit(header, ";", -1);
  gsize len = strlen(name);
  for (gsize i = 0; pairs[i] != NULL; i++) {
    const char *pair = g_strstrip(pairs[i]);
    if (strncmp(pair, name, len) == 0 && pair[len] == '=')
      return g_strdup(pair + len + 1);
  }
  return NULL;
}

/* The token the request carries, or NULL. */
static char *
carried_token(const AmFmAuth *auth, const AmFmHttpRequest *request)
{
  if (auth->kind == KIND_COOKIE) {
    g_autofree char *header = am_fm_http_header(request, "Cookie");
    return header != NULL ? cookie_value(header, auth->cookie) : NULL;
  }
  g_autofree char *header = am_fm_http_header(request, auth->token_header);
  if (header == NULL || auth->token_scheme == NULL)
    return g_steal_pointer(&header);
  gsize len = strlen(auth->token_scheme);
  if (g_ascii_strncasecmp(header, auth->token_scheme, len) != 0 || header[len] != ' ')
    return NULL;
  return g_strstrip(g_strdup(header + len + 1));
}

static gboolean
credentials_match(const AmFmAuth *auth, GHashTable *params)
{
  if (auth->user_field[0] != '\0' &&
      g_strcmp0(g_hash_table_lookup(params, auth->user_field), auth->user) != 0)
    return FALSE;
  return g_strcmp0(g_hash_table_lookup(params, auth->password_field), auth->password) == 0;
}

static gboolean
is_public(const AmFmAuth *auth, const char *route)
{
  return auth->public_routes != NULL &&
         g_strv_contains((const char *const *)auth->public_routes, route);
}

gboolean
am_fm_auth_handle(AmFmAuth *auth, const char *secret, const AmFmHttpRequest *request,
                  AmFmHttpReply *reply)
{
  if (am_fm_auth_is_none(auth))
    return FALSE;
  /* HEAD is a GET without the body: the same route, the same login. */
  const char *method = g_str_equal(request->method, "HEAD") ? "GET" : request->method;
  g_autofree char *route = g_strconcat(method, " ", request->path, NULL);
  if (is_public(auth, route))
    return FALSE;
  if (auth->kind == KIND_DIGEST) {
    if (digest_valid(auth, secret, request))
      return FALSE;
    reply_challenge(auth, secret, reply);
    return TRUE;
  }
  g_autofree char *token = token_for(auth, secret);
  if (g_str_equal(route, auth->login)) {
    if (credentials_match(auth, request->params))
      reply_login(auth, token, reply);
    else
      reply_bytes(reply, auth->login_denied_status, auth->login_denied, "Unauthorized");
    return TRUE;
  }
  g_autofree char *carried = carried_token(auth, request);
  if (g_strcmp0(carried, token) == 0)
    return FALSE;
  reply_bytes(reply, auth->denied_status, auth->denied, "Unauthorized");
  return TRUE;
}
