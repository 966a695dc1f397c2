/* Whatsminer write commands, the pure part; see am-whatsminer-action.h.
 * Crypto from nettle (AES-256, SHA-256) and libcrypt (MD5-crypt); base64
 * from GLib. */
#include "am-whatsminer-action.h"

#include <crypt.h>
#include <nettle/aes.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>

#define AES_BLOCK 16

/* ---- which actions ------------------------------------------------------- */

static const char *
extra_string(const AmSample *sample, const char *key)
{
  if (sample == NULL || sample->extras == NULL || !json_object_has_member(sample->extras, key))
    return NULL;
  JsonNode *node = json_object_get_member(sample->extras, key);
  if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(node);
}

/* "2.0.4" < "2.0.5": compares dotted numbers; FALSE when unparsable. */
static gboolean
version_below(const char *version, guint major, guint minor, guint micro)
{
  guint v[3] = {0, 0, 0};
  if (version == NULL || sscanf(version, "%u.%u.%u", &v[0], &v[1], &v[2]) < 2)
    return FALSE;
  guint want[3] = {major, minor, micro};
  for (guint i = 0; i < 3; i++)
    if (v[i] != want[i])
      return v[i] < want[i];
  return FALSE;
}

AmActionSet
am_whatsminer_actions(const AmSample *sample)
{
  AmActionSet all = 0;
  for (guint k = AM_ACTION_REBOOT; k < AM_ACTION_LAST; k++)
    all |= AM_ACTION_BIT(k);
  if (sample == NULL)
    return all;
  /* v3: the poll's get.device.info says whether writes are on at all. */
  if (g_strcmp0(extra_string(sample, "x_whatsminer_api"), "v3") == 0) {
    if (g_strcmp0(extra_string(sample, "x_whatsminer_apiswitch"), "0") == 0)
      return 0;
    return all;
  }
  /* v2: adjust_power_limit came with API 2.0.5. */
  if (version_below(extra_string(sample, "x_whatsminer_api_version"), 2, 0, 5))
    all &= ~AM_ACTION_BIT(AM_ACTION_POWER_TARGET);
  return all;
}

/* ---- validation ----------------------------------------------------------- */

gboolean
am_whatsminer_action_validate(const AmActionRequest *r, GError **error)
{
  switch (r->kind) {
  case AM_ACTION_REBOOT:
  case AM_ACTION_RESTART:
  case AM_ACTION_PAUSE:
  case AM_ACTION_RESUME:
  case AM_ACTION_LOCATE:
    return TRUE;
  case AM_ACTION_POWER_TARGET:
    if (r->watts < AM_WHATSMINER_MIN_WATTS || r->watts > AM_WHATSMINER_MAX_WATTS) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "power target %u W is outside %u..%u W, the range of Whatsminer models", r->watts,
                  AM_WHATSMINER_MIN_WATTS, AM_WHATSMINER_MAX_WATTS);
      return FALSE;
    }
    return TRUE;
  case AM_ACTION_WORK_MODE:
    if (g_strcmp0(r->mode, AM_WORK_MODE_LOW) != 0 && g_strcmp0(r->mode, AM_WORK_MODE_NORMAL) != 0 &&
        g_strcmp0(r->mode, AM_WORK_MODE_HIGH) != 0) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG,
                  "work mode \"%s\": expected low, normal or high", r->mode ? r->mode : "");
      return FALSE;
    }
    return TRUE;
  case AM_ACTION_POOLS:
    if (r->pools == NULL || r->n_pools < 1 || r->n_pools > 3) {
      g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "a Whatsminer takes 1 to 3 pools, %u given",
                  r->pools ? r->n_pools : 0);
      return FALSE;
    }
    for (guint i = 0; i < r->n_pools; i++)
      if (r->pools[i].url == NULL || *r->pools[i].url == '\0' || r->pools[i].user == NULL ||
          *r->pools[i].user == '\0') {
        g_set_error(error, AM_ERROR, AM_ERROR_CONFIG, "pool %u needs a URL and a user", i + 1);
        return FALSE;
      }
    return TRUE;
  default:
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "action %d is not one a Whatsminer knows",
                (int)r->kind);
    return FALSE;
  }
}

/* ---- JSON helpers ------------------------------------------------------- */

static char *
node_to_string(JsonNode *root)
{
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, NULL);
}

static void
add_string(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value);
}

static void
add_int(JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

/* The locate pattern both APIs take: red, 200 ms cycle, 100 ms lit, as
 * pyasic and asic-rs send it. */
static void
add_led_pattern(JsonBuilder *b)
{
  add_string(b, "color", "red");
  add_int(b, "period", 200);
  add_int(b, "duration", 100);
  add_int(b, "start", 0);
}

/* ---- API v2 ---------------------------------------------------------------- */

static const char *
v2_cmd(const AmActionRequest *r)
{
  switch (r->kind) {
  case AM_ACTION_REBOOT:
    return "reboot";
  case AM_ACTION_RESTART:
    return "restart_btminer";
  case AM_ACTION_PAUSE:
    return "power_off";
  case AM_ACTION_RESUME:
    return "power_on";
  case AM_ACTION_POWER_TARGET:
    return "adjust_power_limit";
  case AM_ACTION_WORK_MODE:
    if (g_strcmp0(r->mode, AM_WORK_MODE_LOW) == 0)
      return "set_low_power";
    return g_strcmp0(r->mode, AM_WORK_MODE_HIGH) == 0 ? "set_high_power" : "set_normal_power";
  case AM_ACTION_LOCATE:
    return "set_led";
  case AM_ACTION_POOLS:
    return "update_pools";
  default:
    return NULL;
  }
}

/* update_pools takes pool1..3, worker1..3 and passwd1..3, all strings;
 * the slots not given are sent empty, as asic-rs does. */
static void
add_v2_pools(JsonBuilder *b, const AmActionRequest *r)
{
  for (guint i = 0; i < 3; i++) {
    const AmPoolSetting *p = i < r->n_pools ? &r->pools[i] : NULL;
    g_autofree char *pool = g_strdup_printf("pool%u", i + 1);
    g_autofree char *worker = g_strdup_printf("worker%u", i + 1);
    g_autofree char *passwd = g_strdup_printf("passwd%u", i + 1);
    add_string(b, pool, p ? p->url : "");
    add_string(b, worker, p ? p->user : "");
    add_string(b, passwd, p && p->password ? p->password : "");
  }
}

char *
am_whatsminer_v2_command(const AmActionRequest *r, const char *token, GError **error)
{
  if (!am_whatsminer_action_validate(r, error))
    return NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "cmd", v2_cmd(r));
  if (r->kind == AM_ACTION_PAUSE) {
    /* Answer before the hash boards go down (a string, as the API wants). */
    add_string(b, "respbefore", "true");
  } else if (r->kind == AM_ACTION_POWER_TARGET) {
    g_autofree char *watts = g_strdup_printf("%u", r->watts);
    add_string(b, "power_limit", watts);
  } else if (r->kind == AM_ACTION_LOCATE) {
    if (r->on)
      add_led_pattern(b);
    else
      add_string(b, "param", "auto");
  } else if (r->kind == AM_ACTION_POOLS) {
    add_v2_pools(b, r);
  }
  if (token != NULL)
    add_string(b, "token", token);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return node_to_string(root);
}

/* Characters MD5-crypt takes in a salt; anything else (a "$") would change
 * what crypt() reads as the salt. */
static gboolean
is_salt(const char *salt)
{
  if (salt == NULL || *salt == '\0' || strlen(salt) > 16)
    return FALSE;
  for (const char *c = salt; *c != '\0'; c++)
    if (!g_ascii_isalnum(*c) && *c != '.' && *c != '/')
      return FALSE;
  return TRUE;
}

/* The hash part ("$1$salt$HASH" -> HASH) of MD5-crypt(@phrase, @salt). */
static char *
md5_crypt_hash(const char *phrase, const char *salt, GError **error)
{
  g_autofree char *setting = g_strdup_printf("$1$%s$", salt);
  g_autofree struct crypt_data *data = g_new0(struct crypt_data, 1);
  /* crypt_rn, not crypt_r: the sanitizers' runtime defines crypt_r, which
   * lets the linker drop libcrypt, and its stand-in then has nothing to
   * call. crypt_rn also fails with NULL rather than a "*0" string. */
  const char *out = crypt_rn(phrase, setting, data, (int)sizeof *data);
  const char *hash = out != NULL && out[0] == '$' ? strrchr(out, '$') : NULL;
  if (hash == NULL || hash[1] == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "MD5-crypt refused the salt \"%s\"", salt);
    return NULL;
  }
  return g_strdup(hash + 1);
}

gboolean
am_whatsminer_v2_keys(const char *password, const char *salt, const char *newsalt, const char *time,
                      char **key_out, char **sign_out, GError **error)
{
  if (!is_salt(salt) || !is_salt(newsalt)) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        "get_token gave a salt MD5-crypt cannot take");
    return FALSE;
  }
  g_autofree char *key = md5_crypt_hash(password, salt, error);
  if (key == NULL)
    return FALSE;
  g_autofree char *phrase = g_strconcat(key, time, NULL);
  char *sign = md5_crypt_hash(phrase, newsalt, error);
  if (sign == NULL)
    return FALSE;
  *key_out = g_steal_pointer(&key);
  *sign_out = sign;
  return TRUE;
}

static void
sha256_of(const char *text, gsize len, guint8 out[SHA256_DIGEST_SIZE])
{
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, len, (const guint8 *)text);
  sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

/* AES-256-ECB of @len bytes zero-padded to whole blocks, base64. */
static char *
aes_ecb_base64(const guint8 key[32], const char *plain, gsize len)
{
  gsize padded = (len + AES_BLOCK - 1) / AES_BLOCK * AES_BLOCK;
  g_autofree guint8 *buf = g_malloc0(MAX(padded, 1));
  memcpy(buf, plain, len);
  struct aes256_ctx ctx;
  aes256_set_encrypt_key(&ctx, key);
  aes256_encrypt(&ctx, padded, buf, buf); /* nettle's block calls are ECB */
  return g_base64_encode(buf, padded);
}

char *
am_whatsminer_v2_encrypt(const char *key, const char *plaintext)
{
  guint8 aes_key[SHA256_DIGEST_SIZE];
  sha256_of(key, strlen(key), aes_key);
  return aes_ecb_base64(aes_key, plaintext, strlen(plaintext));
}

char *
am_whatsminer_v2_decrypt(const char *key, const char *data, GError **error)
{
  gsize len = 0;
  g_autofree guint8 *buf = g_base64_decode(data, &len);
  if (len == 0 || len % AES_BLOCK != 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "encrypted reply of %" G_GSIZE_FORMAT " bytes is not whole AES blocks", len);
    return NULL;
  }
  guint8 aes_key[SHA256_DIGEST_SIZE];
  sha256_of(key, strlen(key), aes_key);
  struct aes256_ctx ctx;
  aes256_set_decrypt_key(&ctx, aes_key);
  aes256_decrypt(&ctx, len, buf, buf);
  while (len > 0 && buf[len - 1] == '\0')
    len--;
  if (!g_utf8_validate((const char *)buf, len, NULL) || memchr(buf, '\0', len) != NULL) {
    g_set_error_literal(error, AM_ERROR, AM_ERROR_PARSE,
                        "the encrypted reply does not decrypt to text (another password?)");
    return NULL;
  }
  return g_strndup((const char *)buf, len);
}

char *
am_whatsminer_v2_envelope(const char *key, const char *plaintext)
{
  g_autofree char *data = am_whatsminer_v2_encrypt(key, plaintext);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_int(b, "enc", 1);
  add_string(b, "data", data);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return node_to_string(root);
}

JsonObject *
am_whatsminer_v2_open_reply(JsonObject *reply, const char *key, GError **error)
{
  const char *enc = am_json_string(reply, "enc");
  if (enc == NULL)
    return json_object_ref(reply);
  g_autofree char *text = am_whatsminer_v2_decrypt(key, enc, error);
  if (text == NULL)
    return NULL;
  g_autoptr(JsonNode) root = am_rpc_parse(text, strlen(text), error);
  if (root == NULL)
    return NULL;
  return json_object_ref(json_node_get_object(root));
}

/* STATUS as btminer lays it out (a string), or the cgminer array's. */
static JsonObject *
status_holder(JsonObject *reply)
{
  JsonArray *array = am_json_array(reply, "STATUS");
  if (array != NULL && json_array_get_length(array) > 0) {
    JsonNode *first = json_array_get_element(array, 0);
    return JSON_NODE_HOLDS_OBJECT(first) ? json_node_get_object(first) : NULL;
  }
  return reply;
}

gboolean
am_whatsminer_v2_check_reply(JsonObject *reply, const char *address, const char *user,
                             GError **error)
{
  JsonObject *holder = reply != NULL ? status_holder(reply) : NULL;
  const char *status = am_json_string(holder, "STATUS");
  if (status == NULL) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: the reply has no STATUS", address);
    return FALSE;
  }
  if (g_strcmp0(status, "S") == 0 || g_strcmp0(status, "I") == 0)
    return TRUE;
  gint64 code = json_object_has_member(holder, "Code") ? am_json_int(holder, "Code", -1) : -1;
  const char *msg = am_json_string(holder, "Msg");
  if (msg == NULL)
    msg = "(no message)";
  if (strstr(msg, "can't access write cmd") != NULL || code == 45)
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "%s: Whatsminer refused the write command (%s): enable API write access in "
                "WhatsMinerTool (Remote Ctrl, Miner API Switch)",
                address, msg);
  else if (code == 135)
    g_set_error(error, AM_ERROR, AM_ERROR_AUTH,
                "%s: %s was refused by the Whatsminer API (%s): check the password", address, user,
                msg);
  else if (code == 14)
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "%s: this firmware does not know the command (%s)", address, msg);
  else
    g_set_error(error, AM_ERROR, AM_ERROR_API, "%s: API error code %" G_GINT64_FORMAT ": %s",
                address, code, msg);
  return FALSE;
}

gboolean
am_whatsminer_v2_read_token(JsonObject *reply, const char *address, char **time_out,
                            char **salt_out, char **newsalt_out, GError **error)
{
  if (!am_whatsminer_v2_check_reply(reply, address, AM_WHATSMINER_V2_USER, error))
    return FALSE;
  JsonObject *msg = am_json_object(reply, "Msg");
  const char *time = am_json_string(msg, "time");
  const char *salt = am_json_string(msg, "salt");
  const char *newsalt = am_json_string(msg, "newsalt");
  if (time == NULL || !is_salt(salt) || !is_salt(newsalt)) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE,
                "%s: get_token gave no time, salt and newsalt MD5-crypt can take", address);
    return FALSE;
  }
  *time_out = g_strdup(time);
  *salt_out = g_strdup(salt);
  *newsalt_out = g_strdup(newsalt);
  return TRUE;
}

/* ---- API v3 ---------------------------------------------------------------- */

const char *
am_whatsminer_v3_action_cmd(const AmActionRequest *r)
{
  switch (r->kind) {
  case AM_ACTION_REBOOT:
    return "set.system.reboot";
  case AM_ACTION_RESTART:
  case AM_ACTION_PAUSE:
  case AM_ACTION_RESUME:
    return "set.miner.service";
  case AM_ACTION_POWER_TARGET:
    return "set.miner.power_limit";
  case AM_ACTION_WORK_MODE:
    return "set.miner.power_mode";
  case AM_ACTION_LOCATE:
    return "set.system.led";
  case AM_ACTION_POOLS:
    return "set.miner.pools";
  default:
    return NULL;
  }
}

char *
am_whatsminer_v3_token(const char *cmd, const char *password, const char *salt, gint64 ts,
                       guint8 key_out[32])
{
  g_autofree char *text = g_strdup_printf("%s%s%s%" G_GINT64_FORMAT, cmd, password, salt, ts);
  sha256_of(text, strlen(text), key_out);
  g_autofree char *b64 = g_base64_encode(key_out, SHA256_DIGEST_SIZE);
  return g_strndup(b64, 8);
}

/* [{"pool":URL,"worker":USER,"passwd":PASSWORD}, ...] as JSON text. */
static char *
v3_pools_json(const AmActionRequest *r)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (guint i = 0; i < r->n_pools; i++) {
    json_builder_begin_object(b);
    add_string(b, "pool", r->pools[i].url);
    add_string(b, "worker", r->pools[i].user);
    add_string(b, "passwd", r->pools[i].password ? r->pools[i].password : "");
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return node_to_string(root);
}

/* The "param" member of a write, if the command has one. */
static void
add_v3_param(JsonBuilder *b, const AmActionRequest *r, const guint8 key[32])
{
  switch (r->kind) {
  case AM_ACTION_RESTART:
    add_string(b, "param", "restart");
    break;
  case AM_ACTION_PAUSE:
    add_string(b, "param", "stop");
    break;
  case AM_ACTION_RESUME:
    add_string(b, "param", "start");
    break;
  case AM_ACTION_POWER_TARGET:
    add_int(b, "param", r->watts);
    break;
  case AM_ACTION_WORK_MODE:
    add_string(b, "param", r->mode);
    break;
  case AM_ACTION_LOCATE:
    if (!r->on) {
      add_string(b, "param", "auto");
      break;
    }
    json_builder_set_member_name(b, "param");
    json_builder_begin_array(b);
    json_builder_begin_object(b);
    add_led_pattern(b);
    json_builder_end_object(b);
    json_builder_end_array(b);
    break;
  case AM_ACTION_POOLS: {
    /* Pool passwords travel encrypted under the token's digest. */
    g_autofree char *plain = v3_pools_json(r);
    g_autofree char *enc = aes_ecb_base64(key, plain, strlen(plain));
    add_string(b, "param", enc);
    break;
  }
  default:
    break;
  }
}

JsonNode *
am_whatsminer_v3_write_request(const AmActionRequest *r, const char *account, const char *password,
                               const char *salt, gint64 ts, GError **error)
{
  if (!am_whatsminer_action_validate(r, error))
    return NULL;
  const char *cmd = am_whatsminer_v3_action_cmd(r);
  guint8 key[SHA256_DIGEST_SIZE];
  g_autofree char *token = am_whatsminer_v3_token(cmd, password, salt, ts, key);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_string(b, "cmd", cmd);
  add_int(b, "ts", ts);
  add_string(b, "token", token);
  add_string(b, "account", account);
  add_v3_param(b, r, key);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

gboolean
am_whatsminer_v3_read_salt(JsonObject *reply, const char *address, char **salt_out, GError **error)
{
  JsonObject *msg = am_json_object(reply, "msg");
  const char *apiswitch = am_json_string(am_json_object(msg, "system"), "apiswitch");
  if (g_strcmp0(apiswitch, "0") == 0) {
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED,
                "%s: the Whatsminer API is switched off (apiswitch 0): enable it in "
                "WhatsMinerTool (Remote Ctrl, Miner API Switch)",
                address);
    return FALSE;
  }
  const char *salt = am_json_string(msg, "salt");
  if (salt == NULL || *salt == '\0') {
    g_set_error(error, AM_ERROR, AM_ERROR_API,
                "%s: get.device.info gave no salt, which every write needs", address);
    return FALSE;
  }
  *salt_out = g_strdup(salt);
  return TRUE;
}

gboolean
am_whatsminer_v3_check_write(JsonObject *reply, const char *address, const char *account,
                             const char *cmd, GError **error)
{
  JsonNode *code_node = reply != NULL ? json_object_get_member(reply, "code") : NULL;
  if (code_node == NULL || !JSON_NODE_HOLDS_VALUE(code_node) ||
      json_node_get_value_type(code_node) != G_TYPE_INT64) {
    g_set_error(error, AM_ERROR, AM_ERROR_PARSE, "%s: not a v3 reply (no integer \"code\")",
                address);
    return FALSE;
  }
  gint64 code = json_node_get_int(code_node);
  if (code == 0)
    return TRUE;
  const char *msg = am_json_string(reply, "msg");
  if (msg == NULL)
    msg = "(no message)";
  if (code == -4)
    g_set_error(error, AM_ERROR, AM_ERROR_AUTH,
                "%s: %s was refused by the Whatsminer API v3 (%s): check the password", address,
                account, msg);
  else if (code == -2)
    g_set_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED, "%s: this firmware does not know %s (%s)",
                address, cmd, msg);
  else
    g_set_error(error, AM_ERROR, AM_ERROR_API, "%s: API error code %" G_GINT64_FORMAT ": %s",
                address, code, msg);
  return FALSE;
}
