/* Whatsminer write commands, as btminer checks them (the vendor's API
 * documents 2.0.x and 3.0.x; pyasic and asic-rs as clients).
 *
 * API v2 (the RPC port): {"command":"get_token"} answers time, salt and
 * newsalt. A write is {"enc":1,"data":BASE64}: the command JSON, with
 * "token" = the hash part of MD5-crypt(key + time, "$1$newsalt$"), where
 * key = the hash part of MD5-crypt(password, "$1$salt$"), AES-256-ECB
 * encrypted under SHA-256(key), zero-padded. The reply is {"enc":BASE64}
 * of the STATUS JSON, the same way. The salt is fixed per miner (it salts
 * the stored password); newsalt and time change per token.
 *
 * API v3 (4433): {"cmd","ts","token","account","param"}, token = the first
 * 8 characters of base64(SHA-256(cmd + password + salt + ts)), the salt
 * being the one get.device.info serves; set.miner.pools' param is
 * AES-256-ECB under that SHA-256 digest, zero-padded, base64.
 *
 * The password is [write] password= (v2 factory "admin", v3 "super").
 * Crypto from nettle and libcrypt, as in Debian; never libantmon.
 */
#include "am-fakeminer.h"
#include <crypt.h>
#include <nettle/aes.h>
#include <nettle/sha2.h>
#include <string.h>

#define AES_BLOCK 16

/* ---- crypto ---- */

static void
sha256_of(const char *text, guint8 out[SHA256_DIGEST_SIZE])
{
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, strlen(text), (const guint8 *)text);
  sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

/* The hash part of MD5-crypt(@phrase, "$1$@salt$"), or NULL. */
static char *
md5_crypt_hash(const char *phrase, const char *salt)
{
  g_autofree char *setting = g_strdup_printf("$1$%s$", salt);
  g_autofree struct crypt_data *data = g_new0(struct crypt_data, 1);
  /* crypt_rn: the sanitizers' runtime defines crypt_r (see the driver). */
  const char *out = crypt_rn(phrase, setting, data, (int)sizeof *data);
  const char *hash = out != NULL && out[0] == '$' ? strrchr(out, '$') : NULL;
  return hash != NULL && hash[1] != '\0' ? g_strdup(hash + 1) : NULL;
}

static char *
aes_encrypt_base64(const guint8 key[32], const char *plain)
{
  gsize len = strlen(plain);
  gsize padded = (len + AES_BLOCK - 1) / AES_BLOCK * AES_BLOCK;
  g_autofree guint8 *buf = g_malloc0(MAX(padded, AES_BLOCK));
  memcpy(buf, plain, len);
  struct aes256_ctx ctx;
  aes256_set_encrypt_key(&ctx, key);
  aes256_encrypt(&ctx, padded, buf, buf); /* nettle's block calls are ECB */
  return g_base64_encode(buf, padded);
}

/* The text of a zero-padded AES-256-ECB base64 message, or NULL when it
 * does not decrypt to text (another key). */
static char *
aes_decrypt_base64(const guint8 key[32], const char *data)
{
  gsize len = 0;
  g_autofree guint8 *buf = g_base64_decode(data, &len);
  if (len == 0 || len % AES_BLOCK != 0)
    return NULL;
  struct aes256_ctx ctx;
  aes256_set_decrypt_key(&ctx, key);
  aes256_decrypt(&ctx, len, buf, buf);
  while (len > 0 && buf[len - 1] == '\0')
    len--;
  if (!g_utf8_validate((const char *)buf, (gssize)len, NULL) || memchr(buf, '\0', len) != NULL)
    return NULL;
  return g_strndup((const char *)buf, len);
}

static const char *
password_of(AmFmMiner *miner, const char *factory)
{
  const char *p = am_fm_profile_get_write_setting(miner->profile, "password");
  return p != NULL ? p : factory;
}

static JsonObject *
parse_object(const char *text, gsize len, JsonParser *parser)
{
  if (!json_parser_load_from_data(parser, text, (gssize)len, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
}

static const char *
string_member(JsonObject *object, const char *name)
{
  JsonNode *node = object ? json_object_get_member(object, name) : NULL;
  return node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
                 json_node_get_value_type(node) == G_TYPE_STRING
             ? json_node_get_string(node)
             : NULL;
}

/* ---- API v2 ---- */

#define V2_TOKENS G_N_ELEMENTS(((AmFmState *)0)->wm_time)

static void
v2_plain(GByteArray *out, const char *status, int code, const char *msg, gint64 when)
{
  g_autofree char *text = g_strdup_printf("{\"STATUS\":\"%s\",\"When\":%" G_GINT64_FORMAT
                                          ",\"Code\":%d,\"Msg\":\"%s\",\"Description\":\"\"}",
                                          status, when, code, msg);
  g_byte_array_append(out, (const guint8 *)text, (guint)strlen(text));
}

/* Eight salt characters from @seed (MD5-crypt takes [a-zA-Z0-9./]). */
static void
make_salt(guint64 seed, char out[9])
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (int i = 0; i < 8; i++) {
    out[i] = alphabet[am_fm_rng_next(&seed) % (sizeof alphabet - 1)];
  }
  out[8] = '\0';
}

static void
v2_get_token(AmFmMiner *miner, gint64 when, GByteArray *out)
{
  AmFmState *st = &miner->state;
  char salt[9], newsalt[9];
  make_salt(miner->seed, salt);
  make_salt(miner->seed ^ g_random_int() ^ ((guint64)g_random_int() << 32), newsalt);
  memmove(st->wm_time[1], st->wm_time[0], sizeof st->wm_time[0] * (V2_TOKENS - 1));
  memmove(st->wm_newsalt[1], st->wm_newsalt[0], sizeof st->wm_newsalt[0] * (V2_TOKENS - 1));
  /* the last four digits of the time, as pyasic's recording shows */
  g_snprintf(st->wm_time[0], sizeof st->wm_time[0], "%04d", (int)(when % 10000));
  g_strlcpy(st->wm_newsalt[0], newsalt, sizeof st->wm_newsalt[0]);
  g_autofree char *text = g_strdup_printf(
      "{\"STATUS\":\"S\",\"When\":%" G_GINT64_FORMAT ",\"Code\":134,\"Msg\":{\"time\":\"%s\","
      "\"salt\":\"%s\",\"newsalt\":\"%s\"},\"Description\":\"\"}",
      when, st->wm_time[0], salt, newsalt);
  g_byte_array_append(out, (const guint8 *)text, (guint)strlen(text));
}

/* Whether @token signs one of the tokens handed out. */
static gboolean
v2_token_valid(AmFmState *st, const char *key, const char *token)
{
  for (guint i = 0; token != NULL && i < V2_TOKENS; i++) {
    if (st->wm_time[i][0] == '\0')
      continue;
    g_autofree char *phrase = g_strconcat(key, st->wm_time[i], NULL);
    g_autofree char *sign = md5_crypt_hash(phrase, st->wm_newsalt[i]);
    if (sign != NULL && g_str_equal(sign, token))
      return TRUE;
  }
  return FALSE;
}

/* update_pools: pool1..3, worker1..3, passwd1..3; empty slots are unused. */
static GPtrArray *
v2_pools(JsonObject *cmd)
{
  GPtrArray *pools = g_ptr_array_new_with_free_func(am_fm_pool_free);
  for (int i = 1; i <= 3; i++) {
    g_autofree char *p = g_strdup_printf("pool%d", i);
    g_autofree char *w = g_strdup_printf("worker%d", i);
    g_autofree char *x = g_strdup_printf("passwd%d", i);
    const char *url = string_member(cmd, p);
    if (url != NULL && *url != '\0')
      g_ptr_array_add(pools, am_fm_pool_new(url, string_member(cmd, w), string_member(cmd, x)));
  }
  return pools;
}

/* Runs a decrypted command; FALSE for one btminer does not know. */
static gboolean
v2_run(AmFmMiner *miner, const char *name, JsonObject *cmd)
{
  AmFmState *st = &miner->state;
  if (g_str_equal(name, "reboot"))
    am_fm_state_act(st, AM_FM_ACT_REBOOT);
  else if (g_str_equal(name, "restart_btminer"))
    am_fm_state_act(st, AM_FM_ACT_RESTART);
  else if (g_str_equal(name, "power_off"))
    am_fm_state_act(st, AM_FM_ACT_PAUSE);
  else if (g_str_equal(name, "power_on"))
    am_fm_state_act(st, AM_FM_ACT_RESUME);
  else if (g_str_equal(name, "adjust_power_limit") && string_member(cmd, "power_limit") != NULL)
    am_fm_state_set_power(st, g_ascii_strtod(string_member(cmd, "power_limit"), NULL));
  else if (g_str_equal(name, "set_low_power"))
    am_fm_state_set_work_mode(st, "low");
  else if (g_str_equal(name, "set_normal_power"))
    am_fm_state_set_work_mode(st, "normal");
  else if (g_str_equal(name, "set_high_power"))
    am_fm_state_set_work_mode(st, "high");
  else if (g_str_equal(name, "set_led"))
    am_fm_state_act(st, g_strcmp0(string_member(cmd, "param"), "auto") == 0 ? AM_FM_ACT_LOCATE_OFF
                                                                            : AM_FM_ACT_LOCATE_ON);
  else if (g_str_equal(name, "update_pools")) {
    GPtrArray *pools = v2_pools(cmd);
    if (pools->len == 0) {
      g_ptr_array_unref(pools);
      return FALSE;
    }
    am_fm_state_set_pools(st, pools);
  } else
    return FALSE;
  st->writes++;
  return TRUE;
}

static void
v2_encrypted_reply(const char *key, const char *status, int code, const char *msg, gint64 when,
                   GByteArray *out)
{
  g_autoptr(GByteArray) plain = g_byte_array_new();
  v2_plain(plain, status, code, msg, when);
  g_byte_array_append(plain, (const guint8 *)"", 1);
  guint8 aes_key[SHA256_DIGEST_SIZE];
  sha256_of(key, aes_key);
  g_autofree char *enc = aes_encrypt_base64(aes_key, (const char *)plain->data);
  g_autofree char *text = g_strdup_printf("{\"enc\":\"%s\"}", enc);
  g_byte_array_append(out, (const guint8 *)text, (guint)strlen(text));
}

static void
v2_write(AmFmMiner *miner, const char *data, gint64 when, GByteArray *out)
{
  AmFmState *st = &miner->state;
  if (!st->write_access) { /* WhatsMinerTool's API switch is off */
    v2_plain(out, "E", 45, "can't access write cmd", when);
    return;
  }
  char salt[9];
  make_salt(miner->seed, salt);
  g_autofree char *key = md5_crypt_hash(password_of(miner, "admin"), salt);
  guint8 aes_key[SHA256_DIGEST_SIZE];
  sha256_of(key, aes_key);
  g_autofree char *plain = data ? aes_decrypt_base64(aes_key, data) : NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *cmd = plain ? parse_object(plain, strlen(plain), parser) : NULL;
  /* Another password gives another key: the data decrypts to noise, and
   * btminer can only say the token does not check out. */
  if (cmd == NULL || !v2_token_valid(st, key, string_member(cmd, "token"))) {
    v2_plain(out, "E", 135, "check token err", when);
    return;
  }
  const char *name = string_member(cmd, "cmd");
  if (name == NULL || !v2_run(miner, name, cmd)) {
    v2_encrypted_reply(key, "E", 14, "invalid cmd", when, out);
    return;
  }
  v2_encrypted_reply(key, "S", 131, "", when, out);
}

gboolean
am_fm_whatsminer_v2(AmFmMiner *miner, const char *buf, gsize len, gint64 when, GByteArray *out)
{
  if (g_strcmp0(am_fm_profile_get_write_family(miner->profile), "whatsminer") != 0)
    return FALSE;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *request = parse_object(buf, len, parser);
  if (request == NULL)
    return FALSE;
  if (g_strcmp0(string_member(request, "command"), "get_token") == 0) {
    v2_get_token(miner, when, out);
    return TRUE;
  }
  if (!json_object_has_member(request, "enc"))
    return FALSE;
  v2_write(miner, string_member(request, "data"), when, out);
  return TRUE;
}

/* ---- API v3 ---- */

/* The salt get.device.info serves now (msg.salt). */
static char *
v3_salt(AmFmMiner *miner)
{
  AmFmVary vary = {.hashrate_scale = 1};
  guint64 rng = 1;
  vary.rng = &rng;
  g_autoptr(GByteArray) text = g_byte_array_new();
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!am_fm_profile_render_route(miner->profile, AM_FM_PROTOCOL_V3, "get.device.info", &vary, text,
                                  NULL))
    return NULL;
  JsonObject *root = parse_object((const char *)text->data, text->len, parser);
  JsonNode *msg = root ? json_object_get_member(root, "msg") : NULL;
  return msg && JSON_NODE_HOLDS_OBJECT(msg)
             ? g_strdup(string_member(json_node_get_object(msg), "salt"))
             : NULL;
}

static gboolean
v3_run(AmFmMiner *miner, const char *cmd, JsonNode *param, const guint8 key[32])
{
  AmFmState *st = &miner->state;
  const char *text =
      param && JSON_NODE_HOLDS_VALUE(param) && json_node_get_value_type(param) == G_TYPE_STRING
          ? json_node_get_string(param)
          : NULL;
  if (g_str_equal(cmd, "set.system.reboot")) {
    am_fm_state_act(st, AM_FM_ACT_REBOOT);
  } else if (g_str_equal(cmd, "set.miner.service")) {
    if (g_strcmp0(text, "restart") == 0)
      am_fm_state_act(st, AM_FM_ACT_RESTART);
    else if (g_strcmp0(text, "stop") == 0)
      am_fm_state_act(st, AM_FM_ACT_PAUSE);
    else if (g_strcmp0(text, "start") == 0)
      am_fm_state_act(st, AM_FM_ACT_RESUME);
    else
      return FALSE;
  } else if (g_str_equal(cmd, "set.miner.power_limit")) {
    double watts = text                                    ? g_ascii_strtod(text, NULL)
                   : param && JSON_NODE_HOLDS_VALUE(param) ? json_node_get_double(param)
                                                           : 0;
    if (!(watts > 0))
      return FALSE;
    am_fm_state_set_power(st, watts);
  } else if (g_str_equal(cmd, "set.miner.power_mode")) {
    if (g_strcmp0(text, "low") != 0 && g_strcmp0(text, "normal") != 0 &&
        g_strcmp0(text, "high") != 0)
      return FALSE;
    am_fm_state_set_work_mode(st, text);
  } else if (g_str_equal(cmd, "set.system.led")) {
    gboolean pattern = param != NULL && JSON_NODE_HOLDS_ARRAY(param);
    if (!pattern && g_strcmp0(text, "auto") != 0)
      return FALSE;
    am_fm_state_act(st, pattern ? AM_FM_ACT_LOCATE_ON : AM_FM_ACT_LOCATE_OFF);
  } else if (g_str_equal(cmd, "set.miner.pools")) {
    g_autofree char *plain = text ? aes_decrypt_base64(key, text) : NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    GPtrArray *pools = plain && json_parser_load_from_data(parser, plain, -1, NULL)
                           ? am_fm_find_pools(json_parser_get_root(parser))
                           : NULL;
    if (pools == NULL)
      return FALSE;
    am_fm_state_set_pools(st, pools);
  } else {
    return FALSE;
  }
  st->writes++;
  return TRUE;
}

gboolean
am_fm_whatsminer_v3(AmFmMiner *miner, const char *cmd, const char *payload, gsize len, gint64 when,
                    GByteArray *out)
{
  if (!g_str_has_prefix(cmd, "set.") ||
      g_strcmp0(am_fm_profile_get_write_family(miner->profile), "whatsminer") != 0)
    return FALSE;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *request = parse_object(payload, len, parser);
  JsonNode *ts = request ? json_object_get_member(request, "ts") : NULL;
  const char *token = string_member(request, "token");
  g_autofree char *salt = v3_salt(miner);
  guint8 key[SHA256_DIGEST_SIZE];
  gboolean signed_ok = FALSE;
  if (ts != NULL && JSON_NODE_HOLDS_VALUE(ts) && token != NULL && salt != NULL &&
      g_strcmp0(string_member(request, "account"), "super") == 0) {
    g_autofree char *text = g_strdup_printf(
        "%s%s%s%" G_GINT64_FORMAT, cmd, password_of(miner, "super"), salt, json_node_get_int(ts));
    sha256_of(text, key);
    g_autofree char *b64 = g_base64_encode(key, SHA256_DIGEST_SIZE);
    signed_ok = strncmp(b64, token, 8) == 0 && strlen(token) == 8;
  }
  /* API switch off: writes are refused like a bad token (not recorded). */
  if (!signed_ok || !miner->state.write_access) {
    am_fm_v3_error(AM_FM_V3_ACCESS_DENIED, "no permission", cmd, when, out);
    return TRUE;
  }
  JsonNode *param = json_object_get_member(request, "param");
  if (!v3_run(miner, cmd, param, key)) {
    am_fm_v3_error(AM_FM_V3_INVALID_COMMAND, "invalid command", cmd, when, out);
    return TRUE;
  }
  am_fm_v3_error(0, "ok", cmd, when, out);
  return TRUE;
}
