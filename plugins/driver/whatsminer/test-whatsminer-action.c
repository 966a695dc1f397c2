/* Whatsminer actions: the crypto against vectors computed independently
 * (openssl passwd -1, openssl enc -aes-256-ecb -nopad, python3 hashlib, at
 * test-writing time, pasted as literals), the exact request of every
 * action on both APIs, the reading of refusals, actions() on samples of
 * each API, the poll fields that confirm actions, and the built module
 * against in-process v2 and v3 servers on 127.0.0.1 that check the token
 * as the firmware does (their own password, salt and MD5-crypt/SHA-256),
 * decrypt, record and answer. */
#include "../common/am-driver-test-util.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"
#include "am-whatsminer-action.h"
#include "am-whatsminer-parse.h"
#include "am-whatsminer-v3-parse.h"
#include "am-whatsminer-v3.h"

#include <glib/gstdio.h>
#include <math.h>
#include <nettle/aes.h>
#include <string.h>

/* ---- vectors -------------------------------------------------------------- */

/* openssl passwd -1 -salt BQ5hoXV9 admin -> $1$BQ5hoXV9$RxmaDUO33TS7O26yeMHZ81;
 * openssl passwd -1 -salt jbzkfQls RxmaDUO33TS7O26yeMHZ811700000123 ->
 * $1$jbzkfQls$MgXJGssLtrboLFVDxdjr9/ */
#define V2_SALT "BQ5hoXV9"
#define V2_NEWSALT "jbzkfQls"
#define V2_TIME "1700000123"
#define V2_KEY "RxmaDUO33TS7O26yeMHZ81"
#define V2_SIGN "MgXJGssLtrboLFVDxdjr9/"
/* openssl enc -aes-256-ecb -nopad -K sha256(V2_KEY) of the zero-padded
 * {"cmd":"reboot","token":"MgXJGssLtrboLFVDxdjr9/"}, base64 */
#define V2_REBOOT_ENC                                                                              \
  "eueoy6m7l/fNCJ0Xjzk3qmHyO9aOPvqQOQJt2qFJI9mY5fsYIpW2wdXmcYJnL5uIAHplq5zYpvUof8m24K84GA=="
/* the same of {"STATUS":"S","When":1,"Code":131,"Msg":"","Description":""} */
#define V2_OK_ENC                                                                                  \
  "C/UGIQ8LwD66stwLyOOcM27JW4FSdla+MfKblRP1NmxkDccE1JMiZaNvUztu0c+NQG0x+tZqOpdmf84k1uXajw=="
#define V2_OK_PLAIN "{\"STATUS\":\"S\",\"When\":1,\"Code\":131,\"Msg\":\"\",\"Description\":\"\"}"

/* python3: base64(sha256(b"set.miner.power_limitsuper5QAHiKMb1700000000"))[:8] */
#define V3_SALT "5QAHiKMb"
#define V3_TS 1700000000
#define V3_TOKEN_POWER "KE+jT6oZ"
/* ...(b"set.miner.poolssecret5QAHiKMb1700000000"), and openssl enc of the
 * zero-padded pools JSON under that digest */
#define V3_TOKEN_POOLS "nUJQMbgl"
#define V3_POOLS_ENC                                                                               \
  "vehcLQ6/oQa4/OT/x9sAFm0M6MT65rkVAE4AVezZDU75iy4qN9Jln9MuCMeKXQOqdC7gqD8fvUVFn8Qd5jrloUhtz50RP"  \
  "39awwGvCtkX5O8="

static const AmPoolSetting one_pool[] = {{"stratum+tcp://pool.example:3333", "acct.w1", "x"}};
static const AmPoolSetting two_pools[] = {{"stratum+tcp://a.example:3333", "acct.w1", NULL},
                                          {"stratum+tcp://b.example:443", "acct.w2", "p2"}};

static AmActionRequest
req(AmActionKind kind)
{
  return (AmActionRequest){.struct_size = sizeof(AmActionRequest), .kind = kind};
}

/* ---- crypto ------------------------------------------------------------- */

static void
test_v2_keys(void)
{
  g_autofree char *key = NULL, *sign = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(am_whatsminer_v2_keys("admin", V2_SALT, V2_NEWSALT, V2_TIME, &key, &sign, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(key, ==, V2_KEY);
  g_assert_cmpstr(sign, ==, V2_SIGN);
  /* A salt crypt() would read otherwise is refused, not used. */
  g_assert_false(am_whatsminer_v2_keys("admin", "a$b", V2_NEWSALT, V2_TIME, &key, &sign, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
}

static void
test_v2_aes(void)
{
  g_autofree char *enc =
      am_whatsminer_v2_encrypt(V2_KEY, "{\"cmd\":\"reboot\",\"token\":\"" V2_SIGN "\"}");
  g_assert_cmpstr(enc, ==, V2_REBOOT_ENC);
  g_autoptr(GError) error = NULL;
  g_autofree char *plain = am_whatsminer_v2_decrypt(V2_KEY, V2_OK_ENC, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(plain, ==, V2_OK_PLAIN);
  /* Another key gives bytes that are no text. */
  g_assert_null(am_whatsminer_v2_decrypt("another", V2_OK_ENC, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_clear_error(&error);
  g_assert_null(am_whatsminer_v2_decrypt(V2_KEY, "AAAA", &error)); /* 3 bytes */
  g_assert_error(error, AM_ERROR, AM_ERROR_PARSE);
  g_autofree char *env = am_whatsminer_v2_envelope(V2_KEY, V2_OK_PLAIN);
  g_assert_cmpstr(env, ==, "{\"enc\":1,\"data\":\"" V2_OK_ENC "\"}");
}

static void
test_v3_token(void)
{
  guint8 key[32];
  g_autofree char *t1 =
      am_whatsminer_v3_token("set.miner.power_limit", "super", V3_SALT, V3_TS, key);
  g_assert_cmpstr(t1, ==, V3_TOKEN_POWER);
  g_autofree char *t2 = am_whatsminer_v3_token("set.miner.pools", "secret", V3_SALT, V3_TS, key);
  g_assert_cmpstr(t2, ==, V3_TOKEN_POOLS);
  g_assert_cmpuint(key[0], ==, 0x9d); /* the digest: 9d425031... */
  g_assert_cmpuint(key[31], ==, 0xd5);
}

/* ---- requests ------------------------------------------------------------ */

static char *
v2_text(AmActionRequest r)
{
  g_autoptr(GError) error = NULL;
  char *text = am_whatsminer_v2_command(&r, "T", &error);
  g_assert_no_error(error);
  return text;
}

static void
test_v2_requests(void)
{
  struct {
    AmActionRequest r;
    const char *want;
  } cases[] = {
      {req(AM_ACTION_REBOOT), "{\"cmd\":\"reboot\",\"token\":\"T\"}"},
      {req(AM_ACTION_RESTART), "{\"cmd\":\"restart_btminer\",\"token\":\"T\"}"},
      {req(AM_ACTION_PAUSE), "{\"cmd\":\"power_off\",\"respbefore\":\"true\",\"token\":\"T\"}"},
      {req(AM_ACTION_RESUME), "{\"cmd\":\"power_on\",\"token\":\"T\"}"},
      {{.kind = AM_ACTION_POWER_TARGET, .watts = 3000},
       "{\"cmd\":\"adjust_power_limit\",\"power_limit\":\"3000\",\"token\":\"T\"}"},
      {{.kind = AM_ACTION_WORK_MODE, .mode = "low"}, "{\"cmd\":\"set_low_power\",\"token\":\"T\"}"},
      {{.kind = AM_ACTION_WORK_MODE, .mode = "normal"},
       "{\"cmd\":\"set_normal_power\",\"token\":\"T\"}"},
      {{.kind = AM_ACTION_WORK_MODE, .mode = "high"},
       "{\"cmd\":\"set_high_power\",\"token\":\"T\"}"},
      {{.kind = AM_ACTION_LOCATE, .on = TRUE},
       "{\"cmd\":\"set_led\",\"color\":\"red\",\"period\":200,\"duration\":100,\"start\":0,"
       "\"token\":\"T\"}"},
      {{.kind = AM_ACTION_LOCATE, .on = FALSE},
       "{\"cmd\":\"set_led\",\"param\":\"auto\",\"token\":\"T\"}"},
      {{.kind = AM_ACTION_POOLS, .pools = two_pools, .n_pools = 2},
       "{\"cmd\":\"update_pools\",\"pool1\":\"stratum+tcp://a.example:3333\",\"worker1\":"
       "\"acct.w1\",\"passwd1\":\"\",\"pool2\":\"stratum+tcp://b.example:443\",\"worker2\":"
       "\"acct.w2\",\"passwd2\":\"p2\",\"pool3\":\"\",\"worker3\":\"\",\"passwd3\":\"\","
       "\"token\":\"T\"}"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = v2_text(cases[i].r);
    g_assert_cmpstr(text, ==, cases[i].want);
  }
}

static char *
v3_text(AmActionRequest r, const char *password)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node =
      am_whatsminer_v3_write_request(&r, "super", password, V3_SALT, V3_TS, &error);
  g_assert_no_error(error);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, node);
  return json_generator_to_data(gen, NULL);
}

/* {"cmd":C,"ts":1700000000,"token":<any 8>,"account":"super"<tail>} */
static void
assert_v3(const char *text, const char *cmd, const char *tail)
{
  g_autofree char *head = g_strdup_printf("{\"cmd\":\"%s\",\"ts\":1700000000,\"token\":\"", cmd);
  g_assert_true(g_str_has_prefix(text, head));
  const char *after = text + strlen(head) + 8;
  g_autofree char *rest = g_strdup_printf("\",\"account\":\"super\"%s}", tail);
  g_assert_cmpstr(after, ==, rest);
}

static void
test_v3_requests(void)
{
  struct {
    AmActionRequest r;
    const char *cmd, *tail;
  } cases[] = {
      {req(AM_ACTION_REBOOT), "set.system.reboot", ""},
      {req(AM_ACTION_RESTART), "set.miner.service", ",\"param\":\"restart\""},
      {req(AM_ACTION_PAUSE), "set.miner.service", ",\"param\":\"stop\""},
      {req(AM_ACTION_RESUME), "set.miner.service", ",\"param\":\"start\""},
      {{.kind = AM_ACTION_POWER_TARGET, .watts = 3000}, "set.miner.power_limit", ",\"param\":3000"},
      {{.kind = AM_ACTION_WORK_MODE, .mode = "high"},
       "set.miner.power_mode",
       ",\"param\":\"high\""},
      {{.kind = AM_ACTION_LOCATE, .on = TRUE},
       "set.system.led",
       ",\"param\":[{\"color\":\"red\",\"period\":200,\"duration\":100,\"start\":0}]"},
      {{.kind = AM_ACTION_LOCATE, .on = FALSE}, "set.system.led", ",\"param\":\"auto\""},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = v3_text(cases[i].r, "super");
    assert_v3(text, cases[i].cmd, cases[i].tail);
  }
  g_autofree char *power = v3_text(cases[4].r, "super");
  g_assert_nonnull(strstr(power, "\"token\":\"" V3_TOKEN_POWER "\""));
  /* Pools: the param encrypted under the token's digest. */
  AmActionRequest pools = {.kind = AM_ACTION_POOLS, .pools = one_pool, .n_pools = 1};
  g_autofree char *text = v3_text(pools, "secret");
  g_assert_cmpstr(text, ==,
                  "{\"cmd\":\"set.miner.pools\",\"ts\":1700000000,\"token\":\"" V3_TOKEN_POOLS
                  "\",\"account\":\"super\",\"param\":\"" V3_POOLS_ENC "\"}");
}

static void
assert_invalid(AmActionRequest r, gint code, const char *says)
{
  g_autoptr(GError) error = NULL;
  g_assert_false(am_whatsminer_action_validate(&r, &error));
  g_assert_error(error, AM_ERROR, code);
  g_assert_nonnull(strstr(error->message, says));
  g_clear_error(&error);
  g_assert_null(am_whatsminer_v2_command(&r, "T", &error));
  g_clear_error(&error);
  g_assert_null(am_whatsminer_v3_write_request(&r, "super", "s", "x", 1, &error));
}

static void
test_validate(void)
{
  AmPoolSetting no_user[] = {{"stratum+tcp://a:1", "", NULL}};
  assert_invalid((AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 999}, AM_ERROR_CONFIG,
                 "999 W is outside 1000..12000 W");
  assert_invalid((AmActionRequest){.kind = AM_ACTION_POWER_TARGET, .watts = 12001}, AM_ERROR_CONFIG,
                 "12001 W");
  assert_invalid((AmActionRequest){.kind = AM_ACTION_WORK_MODE, .mode = "turbo"}, AM_ERROR_CONFIG,
                 "\"turbo\": expected low, normal or high");
  assert_invalid((AmActionRequest){.kind = AM_ACTION_POOLS, .pools = one_pool, .n_pools = 0},
                 AM_ERROR_CONFIG, "1 to 3 pools, 0 given");
  assert_invalid((AmActionRequest){.kind = AM_ACTION_POOLS, .pools = one_pool, .n_pools = 4},
                 AM_ERROR_CONFIG, "4 given");
  assert_invalid((AmActionRequest){.kind = AM_ACTION_POOLS, .pools = no_user, .n_pools = 1},
                 AM_ERROR_CONFIG, "pool 1 needs a URL and a user");
  assert_invalid(req(AM_ACTION_NONE), AM_ERROR_UNSUPPORTED, "not one a Whatsminer knows");
  AmActionRequest edge = {.kind = AM_ACTION_POWER_TARGET, .watts = 1000};
  g_assert_true(am_whatsminer_action_validate(&edge, NULL));
}

/* ---- replies ------------------------------------------------------------ */

static void
assert_v2_refusal(const char *reply, gint code, const char *says)
{
  g_autoptr(JsonObject) obj = am_test_object_from_string(reply);
  g_autoptr(GError) error = NULL;
  g_assert_false(am_whatsminer_v2_check_reply(obj, "10.0.0.5:4028", "admin", &error));
  g_assert_error(error, AM_ERROR, code);
  g_assert_cmpstr(error->message, ==, says);
}

static void
test_v2_replies(void)
{
  g_autoptr(JsonObject) ok = am_test_object_from_string(V2_OK_PLAIN);
  g_assert_true(am_whatsminer_v2_check_reply(ok, "a", "admin", NULL));
  assert_v2_refusal("{\"STATUS\":\"E\",\"When\":1,\"Code\":45,\"Msg\":\"can't access write cmd\"}",
                    AM_ERROR_UNSUPPORTED,
                    "10.0.0.5:4028: Whatsminer refused the write command (can't access write "
                    "cmd): enable API write access in WhatsMinerTool (Remote Ctrl, Miner API "
                    "Switch)");
  assert_v2_refusal("{\"STATUS\":\"E\",\"When\":1,\"Code\":135,\"Msg\":\"check token err\"}",
                    AM_ERROR_AUTH,
                    "10.0.0.5:4028: admin was refused by the Whatsminer API (check token err): "
                    "check the password");
  assert_v2_refusal("{\"STATUS\":\"E\",\"When\":1,\"Code\":14,\"Msg\":\"invalid cmd\"}",
                    AM_ERROR_UNSUPPORTED,
                    "10.0.0.5:4028: this firmware does not know the command (invalid cmd)");
  assert_v2_refusal("{\"STATUS\":\"E\",\"When\":1,\"Code\":132,\"Msg\":\"power limit error\"}",
                    AM_ERROR_API, "10.0.0.5:4028: API error code 132: power limit error");
  /* The cgminer layout too. */
  assert_v2_refusal("{\"STATUS\":[{\"STATUS\":\"E\",\"Code\":14,\"Msg\":\"invalid cmd\"}]}",
                    AM_ERROR_UNSUPPORTED,
                    "10.0.0.5:4028: this firmware does not know the command (invalid cmd)");

  g_autoptr(JsonObject) token = am_test_object_from_string(
      "{\"STATUS\":\"S\",\"When\":1,\"Code\":134,\"Msg\":{\"time\":\"" V2_TIME
      "\",\"salt\":\"" V2_SALT "\",\"newsalt\":\"" V2_NEWSALT "\"},\"Description\":\"\"}");
  g_autofree char *time = NULL, *salt = NULL, *newsalt = NULL;
  g_assert_true(am_whatsminer_v2_read_token(token, "a", &time, &salt, &newsalt, NULL));
  g_assert_cmpstr(time, ==, V2_TIME);
  g_assert_cmpstr(newsalt, ==, V2_NEWSALT);

  g_autoptr(JsonObject) enc = am_test_object_from_string("{\"enc\":\"" V2_OK_ENC "\"}");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) open = am_whatsminer_v2_open_reply(enc, V2_KEY, &error);
  g_assert_no_error(error);
  g_assert_cmpint(am_json_int(open, "Code", 0), ==, 131);
}

static void
assert_v3_refusal(const char *reply, gint code, const char *says)
{
  g_autoptr(JsonObject) obj = am_test_object_from_string(reply);
  g_autoptr(GError) error = NULL;
  g_assert_false(
      am_whatsminer_v3_check_write(obj, "10.0.0.5:4433", "super", "set.miner.power_mode", &error));
  g_assert_error(error, AM_ERROR, code);
  g_assert_cmpstr(error->message, ==, says);
}

static void
test_v3_replies(void)
{
  g_autoptr(JsonObject) ok = am_test_object_from_string("{\"code\":0,\"msg\":\"ok\"}");
  g_assert_true(am_whatsminer_v3_check_write(ok, "a", "super", "x", NULL));
  assert_v3_refusal("{\"code\":-4,\"msg\":\"no permission\"}", AM_ERROR_AUTH,
                    "10.0.0.5:4433: super was refused by the Whatsminer API v3 (no permission): "
                    "check the password");
  assert_v3_refusal("{\"code\":-2,\"msg\":\"invalid command\"}", AM_ERROR_UNSUPPORTED,
                    "10.0.0.5:4433: this firmware does not know set.miner.power_mode (invalid "
                    "command)");
  assert_v3_refusal("{\"code\":-1,\"msg\":\"power limit out of range\"}", AM_ERROR_API,
                    "10.0.0.5:4433: API error code -1: power limit out of range");

  g_autoptr(GError) error = NULL;
  char *salt = NULL;
  g_autoptr(JsonObject) off = am_test_object_from_string(
      "{\"code\":0,\"msg\":{\"salt\":\"x\",\"system\":{\"apiswitch\":\"0\"}}}");
  g_assert_false(am_whatsminer_v3_read_salt(off, "h:4433", &salt, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "WhatsMinerTool"));
  g_clear_error(&error);
  g_autoptr(JsonObject) none = am_test_object_from_string("{\"code\":0,\"msg\":{}}");
  g_assert_false(am_whatsminer_v3_read_salt(none, "h:4433", &salt, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
}

/* ---- actions() and the poll fields that confirm them ------------------- */

static JsonObject *
fixture(const char *name)
{
  g_autofree char *relpath = g_build_filename("fixtures", name, NULL);
  g_autofree char *path = am_test_path(relpath);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(json_parser_load_from_file(parser, path, &error));
  return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

static AmSample *
v3_sample(JsonObject *device_info)
{
  g_autoptr(JsonObject) summary = fixture("whatsminer-v3/asicrs-v3_get_miner_status_summary.json");
  AmWhatsminerV3Replies r = {.summary = summary, .device_info = device_info};
  g_autoptr(GError) error = NULL;
  AmSample *s = am_whatsminer_v3_parse(&r, &error);
  g_assert_no_error(error);
  return s;
}

static AmSample *
v2_sample(const char *status_file, JsonObject *miner_info)
{
  g_autoptr(JsonObject) summary = fixture("btminer/asicrs-v2_summary.json");
  g_autoptr(JsonObject) status = fixture(status_file);
  AmWhatsminerReplies r = {.summary = summary, .status = status, .get_miner_info = miner_info};
  g_autoptr(GError) error = NULL;
  AmSample *s = am_whatsminer_parse(&r, &error);
  g_assert_no_error(error);
  return s;
}

#define ALL_ACTIONS 0x1feu

static void
test_actions(void)
{
  g_assert_cmphex(am_whatsminer_actions(NULL), ==, ALL_ACTIONS);
  /* v3 (the recorded device info says apiswitch "1"). */
  g_autoptr(JsonObject) info = fixture("whatsminer-v3/asicrs-v3_get_device_info.json");
  g_autoptr(AmSample) v3 = v3_sample(info);
  g_assert_cmphex(am_whatsminer_actions(v3), ==, ALL_ACTIONS);
  /* HAND-MADE edit: the API switched off. */
  json_object_set_string_member(
      json_object_get_object_member(json_object_get_object_member(info, "msg"), "system"),
      "apiswitch", "0");
  g_autoptr(AmSample) off = v3_sample(info);
  g_assert_cmphex(am_whatsminer_actions(off), ==, 0);
  /* v2 (no API version told: everything). */
  g_autoptr(AmSample) v2 = v2_sample("btminer/asicrs-v2_status.json", NULL);
  g_assert_cmphex(am_whatsminer_actions(v2), ==, ALL_ACTIONS);
  /* API 2.0.4 lacks adjust_power_limit; 2.0.5 has it. */
  am_sample_set_extra(v2, "api_version", json_node_init_string(json_node_alloc(), "2.0.4"));
  g_assert_cmphex(am_whatsminer_actions(v2), ==,
                  ALL_ACTIONS & ~AM_ACTION_BIT(AM_ACTION_POWER_TARGET));
  am_sample_set_extra(v2, "api_version", json_node_init_string(json_node_alloc(), "2.0.5"));
  g_assert_cmphex(am_whatsminer_actions(v2), ==, ALL_ACTIONS);
}

static void
test_poll_fields(void)
{
  /* v2: asic-rs's summary (Power Limit 3300, Power Mode Normal) and
   * status (power_mode "low", mineroff "false"); get_miner_info as
   * asic-rs recorded it (/work/shared/fixtures/btminer/
   * asicrs-v2_get_miner_info.json, ledstat "auto"). */
  g_autoptr(JsonObject) info = am_test_object_from_string(
      "{\"Code\":131,\"Description\":\"\",\"Msg\":{\"hostname\":\"WhatsMiner\",\"ledstat\":"
      "\"auto\",\"mac\":\"D4:01:02:03:04:05\"},\"STATUS\":\"S\",\"When\":1773871985}");
  g_autoptr(AmSample) v2 = v2_sample("btminer/asicrs-v2_status.json", info);
  g_assert_cmpint(v2->mining, ==, AM_MINING_HASHING);
  g_assert_cmpfloat(v2->power_limit_w, ==, 3300);
  g_assert_cmpstr(v2->work_mode, ==, "low"); /* status wins over the summary */
  g_assert_cmpint(v2->locate, ==, FALSE);
  /* HAND-MADE: a set_led pattern. */
  json_object_set_string_member(json_object_get_object_member(info, "Msg"), "ledstat", "manual");
  g_autoptr(AmSample) lit = v2_sample("btminer/asicrs-v2_status.json", info);
  g_assert_cmpint(lit->locate, ==, TRUE);
  /* Without get_miner_info the light is unknown. */
  g_autoptr(AmSample) dark = v2_sample("btminer/unknown-model_status.json", NULL);
  g_assert_cmpint(dark->locate, ==, AM_UNKNOWN);
  g_assert_cmpstr(dark->work_mode, ==, "normal");

  /* v3: summary power-limit, device info power.mode "1", ledstatus
   * "auto", working "true". */
  g_autoptr(JsonObject) dev = fixture("whatsminer-v3/asicrs-v3_get_device_info.json");
  g_autoptr(AmSample) v3 = v3_sample(dev);
  g_assert_cmpint(v3->mining, ==, AM_MINING_HASHING);
  g_assert_false(isnan(v3->power_limit_w));
  g_assert_cmpstr(v3->work_mode, ==, "normal");
  g_assert_cmpint(v3->locate, ==, FALSE);
  /* HAND-MADE: stopped by set.miner.service stop, a manual light. */
  JsonObject *msg = json_object_get_object_member(dev, "msg");
  json_object_set_string_member(json_object_get_object_member(msg, "miner"), "working", "false");
  json_object_set_string_member(json_object_get_object_member(msg, "system"), "ledstatus",
                                "manual");
  g_autoptr(AmSample) paused = v3_sample(dev);
  am_sample_finish(paused);
  g_assert_cmpint(paused->mining, ==, AM_MINING_PAUSED);
  g_assert_cmpint(paused->locate, ==, TRUE);
}

/* ---- fake firmware ------------------------------------------------------ */

typedef enum {
  FAKE_OK,
  FAKE_WRITE_OFF,   /* v2 "can't access write cmd"; v3 apiswitch "0" */
  FAKE_UNKNOWN_CMD, /* v2 Code 14; v3 -2 */
  FAKE_API_ERROR,   /* a firmware error with its own message */
  FAKE_CLOSE,       /* read the write, close without a reply (a reboot) */
} FakeMode;

typedef struct {
  GSocketService *service;
  guint16 port;
  gboolean v3;
  const char *password; /* the miner's own */
  FakeMode mode;
  gint active;
  GMutex lock;
  GPtrArray *writes; /* char*: the write as the firmware decoded it */
} Fake;

static void
record(Fake *f, const char *text)
{
  g_mutex_lock(&f->lock);
  g_ptr_array_add(f->writes, g_strdup(text));
  g_mutex_unlock(&f->lock);
}

/* Reads until the bytes parse as one JSON object (v2 has no framing). */
static JsonObject *
read_v2_request(GInputStream *in)
{
  GString *buf = g_string_new(NULL);
  char chunk[4096];
  gssize n;
  JsonObject *obj = NULL;
  while (obj == NULL && buf->len < 65536 &&
         (n = g_input_stream_read(in, chunk, sizeof chunk, NULL, NULL)) > 0) {
    g_string_append_len(buf, chunk, n);
    g_autoptr(JsonParser) p = json_parser_new();
    if (json_parser_load_from_data(p, buf->str, buf->len, NULL) &&
        JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
      obj = json_object_ref(json_node_get_object(json_parser_get_root(p)));
  }
  g_string_free(buf, TRUE);
  return obj;
}

static void
write_text(GOutputStream *out, const char *text)
{
  g_output_stream_write_all(out, text, strlen(text), NULL, NULL, NULL);
}

/* The firmware's side of a v2 write: its own key and sign from its own
 * password and the salts it handed out, decrypt, check the token. */
static void
serve_v2(Fake *f, GInputStream *in, GOutputStream *out)
{
  g_autoptr(JsonObject) request = read_v2_request(in);
  if (request == NULL)
    return;
  if (g_strcmp0(am_json_string(request, "command"), "get_token") == 0) {
    write_text(out,
               "{\"STATUS\":\"S\",\"When\":1,\"Code\":134,\"Msg\":{\"time\":\"" V2_TIME
               "\",\"salt\":\"" V2_SALT "\",\"newsalt\":\"" V2_NEWSALT "\"},\"Description\":\"\"}");
    return;
  }
  g_autofree char *key = NULL, *sign = NULL;
  g_assert_true(
      am_whatsminer_v2_keys(f->password, V2_SALT, V2_NEWSALT, V2_TIME, &key, &sign, NULL));
  const char *data = am_json_string(request, "data");
  g_autofree char *plain = data && am_json_int(request, "enc", 0) == 1
                               ? am_whatsminer_v2_decrypt(key, data, NULL)
                               : NULL;
  g_autoptr(JsonParser) p = json_parser_new();
  JsonObject *cmd = NULL;
  if (plain != NULL && json_parser_load_from_data(p, plain, -1, NULL))
    cmd = json_node_get_object(json_parser_get_root(p));
  if (cmd == NULL || g_strcmp0(am_json_string(cmd, "token"), sign) != 0) {
    write_text(out, "{\"STATUS\":\"E\",\"When\":1,\"Code\":135,\"Msg\":\"check token err\","
                    "\"Description\":\"\"}");
    return;
  }
  record(f, plain);
  const char *reply = V2_OK_PLAIN;
  switch (f->mode) {
  case FAKE_WRITE_OFF:
    write_text(out, "{\"STATUS\":\"E\",\"When\":1,\"Code\":45,\"Msg\":\"can't access write cmd\"}");
    return;
  case FAKE_CLOSE:
    return;
  case FAKE_UNKNOWN_CMD:
    reply =
        "{\"STATUS\":\"E\",\"When\":1,\"Code\":14,\"Msg\":\"invalid cmd\",\"Description\":\"\"}";
    break;
  case FAKE_API_ERROR:
    reply = "{\"STATUS\":\"E\",\"When\":1,\"Code\":132,\"Msg\":\"power limit error\"}";
    break;
  case FAKE_OK:
    break;
  }
  g_autofree char *enc = am_whatsminer_v2_encrypt(key, reply);
  g_autofree char *wrapped = g_strdup_printf("{\"enc\":\"%s\"}", enc);
  write_text(out, wrapped);
}

static void
write_frame_text(GOutputStream *out, const char *text)
{
  g_autoptr(JsonNode) node = json_from_string(text, NULL);
  g_autoptr(GBytes) frame = am_whatsminer_v3_encode_node(node);
  gsize len = 0;
  const void *data = g_bytes_get_data(frame, &len);
  g_output_stream_write_all(out, data, len, NULL, NULL, NULL);
}

/* The pools param: AES-256-ECB under the token's digest, zero padding. */
static char *
v3_decrypt_param(const guint8 key[32], const char *b64)
{
  gsize len = 0;
  g_autofree guint8 *buf = g_base64_decode(b64, &len);
  g_assert_cmpuint(len % 16, ==, 0);
  struct aes256_ctx ctx;
  aes256_set_decrypt_key(&ctx, key);
  aes256_decrypt(&ctx, len, buf, buf);
  while (len > 0 && buf[len - 1] == '\0') /* the zero padding */
    len--;
  return g_strndup((const char *)buf, len);
}

static void
serve_v3(Fake *f, GInputStream *in, GOutputStream *out)
{
  guint8 header[4];
  gsize got = 0;
  if (!g_input_stream_read_all(in, header, 4, &got, NULL, NULL) || got < 4)
    return;
  guint32 len = header[0] | header[1] << 8 | header[2] << 16 | (guint32)header[3] << 24;
  g_autofree char *body = g_malloc0(len + 1);
  if (len > 65536 || !g_input_stream_read_all(in, body, len, &got, NULL, NULL) || got < len)
    return;
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, body, len, NULL));
  JsonObject *request = json_node_get_object(json_parser_get_root(p));
  const char *cmd = am_json_string(request, "cmd");
  if (g_strcmp0(cmd, "get.device.info") == 0) {
    write_frame_text(out, f->mode == FAKE_WRITE_OFF
                              ? "{\"code\":0,\"msg\":{\"salt\":\"" V3_SALT
                                "\",\"system\":{\"apiswitch\":\"0\"}}}"
                              : "{\"code\":0,\"msg\":{\"salt\":\"" V3_SALT
                                "\",\"system\":{\"apiswitch\":\"1\",\"ledstatus\":\"auto\"}}}");
    return;
  }
  guint8 key[32];
  g_autofree char *token =
      am_whatsminer_v3_token(cmd, f->password, V3_SALT, am_json_int(request, "ts", 0), key);
  if (g_strcmp0(am_json_string(request, "account"), "super") != 0 ||
      g_strcmp0(am_json_string(request, "token"), token) != 0) {
    write_frame_text(out, "{\"code\":-4,\"msg\":\"no permission\",\"desc\":\"\",\"when\":1}");
    return;
  }
  /* Recorded without ts and token (they change), the pools decrypted. */
  json_object_remove_member(request, "ts");
  json_object_remove_member(request, "token");
  if (g_strcmp0(cmd, "set.miner.pools") == 0) {
    g_autofree char *plain = v3_decrypt_param(key, am_json_string(request, "param"));
    json_object_set_string_member(request, "param", plain);
  }
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, json_parser_get_root(p));
  g_autofree char *text = json_generator_to_data(gen, NULL);
  record(f, text);
  switch (f->mode) {
  case FAKE_CLOSE:
    return;
  case FAKE_UNKNOWN_CMD:
    write_frame_text(out, "{\"code\":-2,\"msg\":\"invalid command\"}");
    return;
  case FAKE_API_ERROR:
    write_frame_text(out, "{\"code\":-1,\"msg\":\"power limit out of range\"}");
    return;
  default:
    write_frame_text(out, "{\"code\":0,\"msg\":\"ok\",\"desc\":\"set\",\"when\":1}");
  }
}

static gboolean
serve(GThreadedSocketService *service, GSocketConnection *connection, GObject *source,
      gpointer user_data)
{
  Fake *f = user_data;
  (void)service;
  (void)source;
  g_atomic_int_inc(&f->active);
  GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
  GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
  if (f->v3)
    serve_v3(f, in, out);
  else
    serve_v2(f, in, out);
  g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
  g_atomic_int_add(&f->active, -1);
  return TRUE;
}

static void
fake_start(Fake *f, gboolean v3, const char *password)
{
  *f = (Fake){.v3 = v3, .password = password, .writes = g_ptr_array_new_with_free_func(g_free)};
  g_mutex_init(&f->lock);
  f->service = g_threaded_socket_service_new(4);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_socket_listener_add_address(G_SOCKET_LISTENER(f->service), address, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error(error);
  f->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_signal_connect(f->service, "run", G_CALLBACK(serve), f);
  g_socket_service_start(f->service);
}

static void
fake_stop(Fake *f)
{
  g_socket_service_stop(f->service);
  g_socket_listener_close(G_SOCKET_LISTENER(f->service));
  for (guint i = 0; i < 500 && g_atomic_int_get(&f->active) > 0; i++)
    g_usleep(10000);
  g_object_unref(f->service);
  g_ptr_array_unref(f->writes);
  g_mutex_clear(&f->lock);
}

/* ---- the module ---------------------------------------------------------- */

typedef struct {
  AmLoadedPlugin *plugin;
  const AmDriverVTable *vt;
  gpointer self;
} Module;

static void
module_open(Module *m, const char *ini)
{
  const char *dir = g_getenv("ANTMON_PLUGIN_DIR");
  g_assert_nonnull(dir);
  g_autofree char *path = g_build_filename(dir, "driver-whatsminer.so", NULL);
  g_autoptr(GError) error = NULL;
  m->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  m->vt = m->plugin->info->vtable.driver;
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, ini, -1, G_KEY_FILE_NONE, NULL));
  m->self = m->plugin->info->create(NULL, kf, "driver:whatsminer", &error);
  g_assert_no_error(error);
}

static void
module_close(Module *m)
{
  m->plugin->info->destroy(m->self);
  am_loaded_plugin_free(m->plugin);
}

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  *(GAsyncResult **)user_data = g_object_ref(result);
}

static gboolean
module_act(Module *m, AmMiner *miner, const AmActionRequest *r, GError **error)
{
  GAsyncResult *result = NULL;
  m->vt->act_async(m->self, miner, r, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  gboolean ok = m->vt->act_finish(m->self, result, error);
  g_object_unref(result);
  return ok;
}

static char *
ini(const char *api, guint16 v3_port, const char *password)
{
  return g_strdup_printf("[driver:whatsminer]\napi=%s\nv3_port=%u\n%s%s\n", api, v3_port,
                         password ? "password=" : "", password ? password : "");
}

static const AmActionRequest every_action[] = {
    {.kind = AM_ACTION_REBOOT},
    {.kind = AM_ACTION_RESTART},
    {.kind = AM_ACTION_PAUSE},
    {.kind = AM_ACTION_RESUME},
    {.kind = AM_ACTION_POWER_TARGET, .watts = 3200},
    {.kind = AM_ACTION_WORK_MODE, .mode = "high"},
    {.kind = AM_ACTION_LOCATE, .on = TRUE},
    {.kind = AM_ACTION_LOCATE, .on = FALSE},
    {.kind = AM_ACTION_POOLS, .pools = two_pools, .n_pools = 2},
};

static void
test_module_v2(void)
{
  Fake f;
  fake_start(&f, FALSE, "admin");
  Module m;
  g_autofree char *cfg = ini("v2", 4433, NULL);
  module_open(&m, cfg);
  g_assert_cmphex(m.vt->actions(m.self, NULL, NULL), ==, ALL_ACTIONS);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  for (guint i = 0; i < G_N_ELEMENTS(every_action); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_true(module_act(&m, miner, &every_action[i], &error));
    g_assert_no_error(error);
    /* Exactly what the builder makes, signed with the factory password. */
    g_autofree char *want = am_whatsminer_v2_command(&every_action[i], V2_SIGN, NULL);
    g_assert_cmpuint(f.writes->len, ==, i + 1);
    g_assert_cmpstr(f.writes->pdata[i], ==, want);
  }
  g_assert_cmpstr(f.writes->pdata[0], ==, "{\"cmd\":\"reboot\",\"token\":\"" V2_SIGN "\"}");

  /* Refusals, each the operator's words. */
  g_autoptr(GError) error = NULL;
  f.mode = FAKE_WRITE_OFF;
  g_assert_false(module_act(&m, miner, &every_action[1], &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "enable API write access in WhatsMinerTool"));
  g_clear_error(&error);
  f.mode = FAKE_UNKNOWN_CMD;
  g_assert_false(module_act(&m, miner, &every_action[4], &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  f.mode = FAKE_API_ERROR;
  g_assert_false(module_act(&m, miner, &every_action[4], &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "power limit error"));
  g_clear_error(&error);
  /* A reboot that goes down without answering was taken; a restart was not. */
  f.mode = FAKE_CLOSE;
  g_assert_true(module_act(&m, miner, &every_action[0], &error));
  g_assert_no_error(error);
  g_assert_false(module_act(&m, miner, &every_action[1], &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_RESET);
  g_clear_error(&error);

  /* The miner's own password, wrong: AUTH naming admin, no secret. */
  f.mode = FAKE_OK;
  am_miner_set_credentials(miner, NULL, "s3cret-pw");
  g_assert_false(module_act(&m, miner, &every_action[0], &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_nonnull(strstr(error->message, "admin was refused"));
  g_assert_null(strstr(error->message, "s3cret"));
  g_clear_error(&error);
  /* A bad request never reaches the miner. */
  guint before = f.writes->len;
  AmActionRequest bad = {.kind = AM_ACTION_POWER_TARGET, .watts = 50};
  g_assert_false(module_act(&m, miner, &bad, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_cmpuint(f.writes->len, ==, before);
  module_close(&m);
  fake_stop(&f);
}

/* With @cfg as the driver's group, a miner without a password of its own
 * pauses on a fake whose admin password is @password: @cfg's stood in. */
static void
assert_driver_password_used(const char *cfg, const char *password)
{
  Fake f;
  fake_start(&f, FALSE, password);
  Module m;
  module_open(&m, cfg);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  g_autoptr(GError) error = NULL;
  g_assert_true(module_act(&m, miner, &every_action[2], &error));
  g_assert_no_error(error);
  g_assert_cmpuint(f.writes->len, ==, 1);
  module_close(&m);
  fake_stop(&f);
}

/* The driver's password= stands in for a miner without one. */
static void
test_module_v2_driver_password(void)
{
  g_autofree char *cfg = ini("auto", 4433, "farmpw");
  assert_driver_password_used(cfg, "farmpw");
}

/* password_file= is read as password= is, its trailing newline dropped. */
static void
test_module_v2_driver_password_file(void)
{
  g_autofree char *dir = g_dir_make_tmp("antmon-wm-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "wm.pass", NULL);
  g_assert_true(g_file_set_contents(path, "filepw\n", -1, NULL));
  g_assert_cmpint(g_chmod(path, 0600), ==, 0);
  g_autofree char *cfg =
      g_strdup_printf("[driver:whatsminer]\napi=v2\nv3_port=4433\npassword_file=%s\n", path);
  assert_driver_password_used(cfg, "filepw");
  g_unlink(path);
  g_rmdir(dir);
}

static const char *const v3_want[] = {
    "{\"cmd\":\"set.system.reboot\",\"account\":\"super\"}",
    "{\"cmd\":\"set.miner.service\",\"account\":\"super\",\"param\":\"restart\"}",
    "{\"cmd\":\"set.miner.service\",\"account\":\"super\",\"param\":\"stop\"}",
    "{\"cmd\":\"set.miner.service\",\"account\":\"super\",\"param\":\"start\"}",
    "{\"cmd\":\"set.miner.power_limit\",\"account\":\"super\",\"param\":3200}",
    "{\"cmd\":\"set.miner.power_mode\",\"account\":\"super\",\"param\":\"high\"}",
    "{\"cmd\":\"set.system.led\",\"account\":\"super\",\"param\":[{\"color\":\"red\",\"period\":"
    "200,\"duration\":100,\"start\":0}]}",
    "{\"cmd\":\"set.system.led\",\"account\":\"super\",\"param\":\"auto\"}",
    "{\"cmd\":\"set.miner.pools\",\"account\":\"super\",\"param\":\"[{\\\"pool\\\":\\\"stratum+"
    "tcp://"
    "a.example:3333\\\",\\\"worker\\\":\\\"acct.w1\\\",\\\"passwd\\\":\\\"\\\"},{\\\"pool\\\":"
    "\\\"stratum+tcp://"
    "b.example:443\\\",\\\"worker\\\":\\\"acct.w2\\\",\\\"passwd\\\":\\\"p2\\\"}]\"}",
};

static void
test_module_v3(void)
{
  Fake f;
  fake_start(&f, TRUE, "super");
  Module m;
  g_autofree char *cfg = ini("v3", 4433, NULL);
  module_open(&m, cfg);
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", f.port);
  G_STATIC_ASSERT(G_N_ELEMENTS(v3_want) == G_N_ELEMENTS(every_action));
  for (guint i = 0; i < G_N_ELEMENTS(every_action); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_true(module_act(&m, miner, &every_action[i], &error));
    g_assert_no_error(error);
    g_assert_cmpuint(f.writes->len, ==, i + 1);
    g_assert_cmpstr(f.writes->pdata[i], ==, v3_want[i]);
  }
  g_autoptr(GError) error = NULL;
  f.mode = FAKE_WRITE_OFF;
  g_assert_false(module_act(&m, miner, &every_action[2], &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "apiswitch 0"));
  g_clear_error(&error);
  f.mode = FAKE_UNKNOWN_CMD;
  g_assert_false(module_act(&m, miner, &every_action[5], &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "does not know set.miner.power_mode"));
  g_clear_error(&error);
  f.mode = FAKE_API_ERROR;
  g_assert_false(module_act(&m, miner, &every_action[4], &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_API);
  g_assert_nonnull(strstr(error->message, "power limit out of range"));
  g_clear_error(&error);
  f.mode = FAKE_CLOSE;
  g_assert_true(module_act(&m, miner, &every_action[0], &error));
  g_clear_error(&error);
  f.mode = FAKE_OK;
  am_miner_set_credentials(miner, "super", "wrong-pw");
  g_assert_false(module_act(&m, miner, &every_action[0], &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_assert_nonnull(strstr(error->message, "super was refused"));
  g_assert_null(strstr(error->message, "wrong-pw"));
  module_close(&m);
  fake_stop(&f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/whatsminer-action/crypto/v2-keys", test_v2_keys);
  g_test_add_func("/whatsminer-action/crypto/v2-aes", test_v2_aes);
  g_test_add_func("/whatsminer-action/crypto/v3-token", test_v3_token);
  g_test_add_func("/whatsminer-action/request/v2", test_v2_requests);
  g_test_add_func("/whatsminer-action/request/v3", test_v3_requests);
  g_test_add_func("/whatsminer-action/request/validate", test_validate);
  g_test_add_func("/whatsminer-action/reply/v2", test_v2_replies);
  g_test_add_func("/whatsminer-action/reply/v3", test_v3_replies);
  g_test_add_func("/whatsminer-action/actions", test_actions);
  g_test_add_func("/whatsminer-action/poll-fields", test_poll_fields);
  g_test_add_func("/whatsminer-action/module/v2", test_module_v2);
  g_test_add_func("/whatsminer-action/module/v2-driver-password", test_module_v2_driver_password);
  g_test_add_func("/whatsminer-action/module/v2-driver-password-file",
                  test_module_v2_driver_password_file);
  g_test_add_func("/whatsminer-action/module/v3", test_module_v3);
  return g_test_run();
}
