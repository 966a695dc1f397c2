/* Drift adapters for the drivers that read an HTTP API (and Whatsminer's
 * API v3). Each set is one poll as the driver's own test reads it; the
 * slots are the members (or the endpoint indices) of its replies struct. */
#include "drift.h"

#include "plugins/driver/antminer-web/am-antminer-web-parse.h"
#include "plugins/driver/axeos/am-axeos-parse.h"
#include "plugins/driver/braiins/am-braiins-rest-parse.h"
#include "plugins/driver/elphapex/am-elphapex-parse.h"
#include "plugins/driver/epic/am-epic-parse.h"
#include "plugins/driver/iceriver/am-iceriver-parse.h"
#include "plugins/driver/proto/am-proto-parse.h"
#include "plugins/driver/whatsminer/am-whatsminer-v3-parse.h"

#define O(i) am_drift_object(r[i])
#define A(i) am_drift_array(r[i])

/* ---- antminer-web: summary.cgi, stats.cgi, pools.cgi, system info ------- */

static AmSample *
parse_antminer_web(JsonNode *const *r, GError **error)
{
  AmAntminerWebReplies x = {.summary = O(0), .stats = O(1), .pools = O(2), .system_info = O(3)};
  return am_antminer_web_parse(&x, error);
}

#define CGI(name) "http-cgi/" name ".json"
static const AmDriftSet antminer_web_s23 = {
    "antminer-web",
    "s23hyd",
    parse_antminer_web,
    {CGI("s23hyd_summary"), CGI("s23hyd_stats"), NULL, CGI("s19j_get_system_info")},
    {0}};
static const AmDriftSet antminer_web_s23_stats = {
    "antminer-web",
    "s23hyd-stats+d3-network",
    parse_antminer_web,
    {NULL, CGI("s23hyd_stats"), NULL, CGI("antminer-d3_get_network_info")},
    {"1:STATS"}};
static const AmDriftSet antminer_web_s21 = {
    "antminer-web",
    "s21xphyd-summary+s21-system",
    parse_antminer_web,
    {CGI("s21xphyd_cgi-summary"), NULL, NULL, CGI("s21_cgi-get_system_info")},
    {"0:SUMMARY"}};

/* ---- axeos: /api/system/info (/api/system/asic has no fixture) ----------- */

static AmSample *
parse_axeos(JsonNode *const *r, GError **error)
{
  AmAxeosReplies x = {.info = O(0), .asic = O(1)};
  return am_axeos_parse(&x, error);
}

static const AmDriftSet axeos_bitaxe = {
    "axeos", "bitaxe-v2.0.0", parse_axeos, {"bitaxe/asicrs-v2_0_0_system_info.json"}, {0}};

/* ---- braiins REST: the seven bodies of one poll, per BOS version -------- */

static AmSample *
parse_braiins_rest(JsonNode *const *r, GError **error)
{
  AmBraiinsRestReplies x = {{0}};
  for (guint e = 0; e < AM_BRAIINS_REST_N_ENDPOINTS; e++)
    x.replies[e] = r[e];
  return am_braiins_rest_parse(&x, error);
}

#define BOS(v, name) "braiins-rest/asicrs-" v "_" name ".json"
#define BOS_SET(v)                                                                                 \
  {                                                                                                \
    [AM_BRAIINS_REST_DETAILS] = BOS(v, "miner_details"),                                           \
    [AM_BRAIINS_REST_STATS] = BOS(v, "miner_stats"),                                               \
    [AM_BRAIINS_REST_HASHBOARDS] = BOS(v, "miner_hw_hashboards"),                                  \
    [AM_BRAIINS_REST_COOLING] = BOS(v, "cooling_state"),                                           \
    [AM_BRAIINS_REST_POOLS] = BOS(v, "pools"), [AM_BRAIINS_REST_ERRORS] = BOS(v, "miner_errors"),  \
    [AM_BRAIINS_REST_TUNER] = BOS(v, "performance_tuner_state"),                                   \
  }
static const AmDriftSet braiins_rest_25 = {
    "braiins-rest", "v25.11", parse_braiins_rest, BOS_SET("v25_11"), {0}};
static const AmDriftSet braiins_rest_26 = {
    "braiins-rest", "v26.04", parse_braiins_rest, BOS_SET("v26_04"), {0}};

/* ---- whatsminer API v3: summary (required), device info, edevs, pools --- */

static AmSample *
parse_whatsminer_v3(JsonNode *const *r, GError **error)
{
  AmWhatsminerV3Replies x = {
      .summary = O(0), .device_info = O(1), .edevs = O(2), .pools = O(3), .failed = NULL};
  return am_whatsminer_v3_parse(&x, error);
}

#define V3(name) "whatsminer-v3/asicrs-v3_" name ".json"
static const AmDriftSet whatsminer_v3 = {"whatsminer-v3",
                                         "asicrs-v3",
                                         parse_whatsminer_v3,
                                         {V3("get_miner_status_summary"), V3("get_device_info"),
                                          V3("get_miner_status_edevs"),
                                          V3("get_miner_status_pools")},
                                         {"0:msg", "0:msg/summary"}};
static const AmDriftSet whatsminer_v3_errors = {
    "whatsminer-v3",
    "asicrs-v3-errors",
    parse_whatsminer_v3,
    {V3("get_miner_status_summary"), V3("get_device_info_with_errors")},
    {"0:msg", "0:msg/summary"}};

/* ---- elphapex: the seven CGI replies, indexed by endpoint --------------- */

static AmSample *
parse_elphapex(JsonNode *const *r, GError **error)
{
  AmElphapexReplies x = {{0}};
  for (guint e = 0; e < AM_ELPHAPEX_N_ENDPOINTS; e++)
    x.reply[e] = O(e);
  return am_elphapex_parse(&x, error);
}

#define ELP(name) "elphapex/asicrs-v1_" name ".json"
static const AmDriftSet elphapex_v1 = {"elphapex",
                                       "asicrs-v1",
                                       parse_elphapex,
                                       {
                                           [AM_ELPHAPEX_STATS] = ELP("stats"),
                                           [AM_ELPHAPEX_SUMMARY] = ELP("summary"),
                                           [AM_ELPHAPEX_POOLS] = ELP("pools"),
                                           [AM_ELPHAPEX_SYSTEM_INFO] = ELP("get_system_info"),
                                           [AM_ELPHAPEX_POWER] = ELP("get_power"),
                                           [AM_ELPHAPEX_BLINK] = ELP("get_blink_status"),
                                           [AM_ELPHAPEX_MINER_CONF] = ELP("get_miner_conf"),
                                       },
                                       {0}};

/* ---- iceriver: the userpanel reply; its data object is required --------- */

static AmSample *
parse_iceriver(JsonNode *const *r, GError **error)
{
  return am_iceriver_parse(O(0), error);
}

static const AmDriftSet iceriver_ks5l = {
    "iceriver", "ks5l", parse_iceriver, {"iceriver/ks5l_user-userpanel-post4.json"}, {"0:data"}};

/* ---- epic: /summary (required), /capabilities, /temps, /network,
 * /hashrate, /temps/chip ------------------------------------------------ */

static AmSample *
parse_epic(JsonNode *const *r, GError **error)
{
  AmEpicReplies x = {.summary = O(0),
                     .capabilities = O(1),
                     .temps = A(2),
                     .network = O(3),
                     .hashrate = A(4),
                     .chip_temps = A(5)};
  return am_epic_parse(&x, error);
}

#define EPIC(name) "epic/asicrs-v1_" name ".json"
static const AmDriftSet epic_v1 = {"epic",
                                   "asicrs-v1",
                                   parse_epic,
                                   {EPIC("summary"), EPIC("capabilities"), EPIC("temps"),
                                    EPIC("network"), EPIC("chip_hashrates"), EPIC("chip_temps")},
                                   {0}};

/* ---- proto: the eight GETs of one poll, indexed by endpoint ------------- */

static AmSample *
parse_proto(JsonNode *const *r, GError **error)
{
  AmProtoReplies x = {{0}};
  for (guint e = 0; e < AM_PROTO_N_ENDPOINTS; e++)
    x.replies[e] = r[e];
  return am_proto_parse(&x, error);
}

#define PROTO(name) "proto/asicrs-v1_" name ".json"
static const AmDriftSet proto_v1 = {"proto",
                                    "asicrs-v1",
                                    parse_proto,
                                    {
                                        [AM_PROTO_MINING] = PROTO("mining"),
                                        [AM_PROTO_TELEMETRY] = PROTO("telemetry_full"),
                                        [AM_PROTO_HARDWARE] = PROTO("hardware"),
                                        [AM_PROTO_COOLING] = PROTO("cooling"),
                                        [AM_PROTO_POOLS] = PROTO("pools"),
                                        [AM_PROTO_ERRORS] = PROTO("errors"),
                                        [AM_PROTO_SYSTEM] = PROTO("system"),
                                        [AM_PROTO_NETWORK] = PROTO("network"),
                                    },
                                    {0}};

const AmDriftSet *const am_drift_web_sets[] = {
    &antminer_web_s23,
    &antminer_web_s23_stats,
    &antminer_web_s21,
    &axeos_bitaxe,
    &braiins_rest_25,
    &braiins_rest_26,
    &whatsminer_v3,
    &whatsminer_v3_errors,
    &elphapex_v1,
    &iceriver_ks5l,
    &epic_v1,
    &proto_v1,
    NULL,
};
