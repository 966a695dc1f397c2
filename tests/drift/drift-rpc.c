/* Drift adapters for the drivers that read the cgminer RPC (TCP 4028),
 * alone or with a web API beside it. Each set is one poll as the driver's
 * own test reads it; the slots are the members of its replies struct. */
#include "drift.h"

#include "plugins/driver/antminer/am-antminer-parse.h"
#include "plugins/driver/auradine/am-auradine-parse.h"
#include "plugins/driver/avalon/am-avalon-parse.h"
#include "plugins/driver/braiins/am-braiins-parse.h"
#include "plugins/driver/generic/am-generic-parse.h"
#include "plugins/driver/goldshell/am-goldshell-parse.h"
#include "plugins/driver/luxos/am-luxos-parse.h"
#include "plugins/driver/sealminer/am-sealminer-parse.h"
#include "plugins/driver/whatsminer/am-whatsminer-parse.h"

#define O(i) am_drift_object(r[i])

/* ---- antminer: version, stats (required), pools, summary ---------------- */

static AmSample *
parse_antminer(JsonNode *const *r, GError **error)
{
  return am_antminer_parse(O(0), O(1), O(2), O(3), NULL, error);
}

#define ANTMINER(set, v, s, p, sum)                                                                \
  static const AmDriftSet antminer_##set = {                                                       \
      "antminer", #set, parse_antminer, {v, s, p, sum}, {"1:STATS"}}

ANTMINER(s9, "bmminer/s9_version.json", "bmminer/s9_stats.json", "bmminer/s9_pools.json", NULL);
ANTMINER(s17pro, NULL, "bmminer/s17pro_stats.json", "bmminer/s17pro_pools.json", NULL);
ANTMINER(s19pro, "bmminer/s19pro_version.json", "bmminer/s19pro_stats.json", NULL, NULL);
ANTMINER(d3_blissz, NULL, "cgminer/d3-blissz_stats.json", "cgminer/d3-blissz_pools.json", NULL);
ANTMINER(e3, NULL, "cgminer/e3_stats.json", "cgminer/e3_pools.json", NULL);
ANTMINER(l3plus, NULL, "cgminer/l3plus_stats.json", "cgminer/l3plus_pools.json", NULL);
ANTMINER(z11_chipless, NULL, "cgminer/z11-chipless_stats.json", NULL, NULL);
ANTMINER(hiveon_s9, "hiveon/s9_version.json", "hiveon/s9_stats.json", NULL, NULL);
ANTMINER(vnish_s9, "vnish/s9-3.8.6_version.json", "vnish/s9-3.8.6_stats.json", NULL, NULL);
ANTMINER(asicrs_v2020, "bmminer/asicrs-v2020_version.json", "bmminer/asicrs-v2020_stats.json",
         "bmminer/asicrs-v2020_pools.json", "bmminer/asicrs-v2020_summary.json");

/* ---- avalon: version, summary, pools, stats ----------------------------- */

static AmSample *
parse_avalon(JsonNode *const *r, GError **error)
{
  AmAvalonReplies x = {.version = O(0), .summary = O(1), .pools = O(2), .stats = O(3)};
  return am_avalon_parse(&x, error);
}

static const AmDriftSet avalon_q = {"avalon",
                                    "asicrs-q",
                                    parse_avalon,
                                    {"avalon/asicrs-version.json", "avalon/asicrs-summary.json",
                                     "avalon/asicrs-pools.json", "avalon/asicrs-stats.json"},
                                    {0}};
/* Alone, the stats reply is the reading: its MM ID string is required. */
static const AmDriftSet avalon_litestats = {"avalon",
                                            "asicrs-litestats",
                                            parse_avalon,
                                            {[3] = "avalon/asicrs-litestats.json"},
                                            {"3:STATS", "3:STATS/[]/MM ID0:Summary"}};
static const AmDriftSet avalon_a = {"avalon",
                                    "asicrs-a",
                                    parse_avalon,
                                    {[3] = "avalon/asicrs-avalon_a_stats.json"},
                                    {"3:STATS", "3:STATS/[]/MM ID0"}};
static const AmDriftSet avalon_7xx = {
    "avalon", "7xx-summary", parse_avalon, {[1] = "avalon/avalon7xx_summary.json"}, {"1:SUMMARY"}};

/* ---- braiins (cgminer API): version, summary (required), pools, temps,
 * fans ------------------------------------------------------------------ */

static AmSample *
parse_braiins(JsonNode *const *r, GError **error)
{
  AmBraiinsReplies x = {
      .version = O(0), .summary = O(1), .pools = O(2), .temps = O(3), .fans = O(4)};
  return am_braiins_parse(&x, error);
}

static const AmDriftSet braiins_bos = {
    "braiins-rpc",
    "s9-bos-0.2.0",
    parse_braiins,
    {"bosminer/s9-bos-0.2.0_version.json", "bosminer/s9-bos-0.2.0_summary.json",
     "bosminer/s9-bos-0.2.0_pools.json", "bosminer/s9-bos-0.2.0_temps.json",
     "bosminer/s9-bos-0.2.0_fans.json"},
    {"1:SUMMARY"}};
static const AmDriftSet braiins_bosplus = {
    "braiins-rpc",
    "s9-bosplus-0.2.0",
    parse_braiins,
    {"bosminer/s9-bosplus-0.2.0_version.json", "bosminer/s9-bosplus-0.2.0_summary.json", NULL,
     "bosminer/s9-bosplus-0.2.0_temps.json", "bosminer/s9-bosplus-0.2.0_fans.json"},
    {"1:SUMMARY"}};

/* ---- luxos: every reply of one poll and voltageget 0..2 ----------------- */

static AmSample *
parse_luxos(JsonNode *const *r, GError **error)
{
  AmLuxosReplies x = {.version = O(0),
                      .summary = O(1),
                      .pools = O(2),
                      .stats = O(3),
                      .fans = O(4),
                      .power = O(5),
                      .config = O(6),
                      .devs = O(7),
                      .temps = O(8),
                      .profiles = O(9),
                      .events = O(10),
                      .voltages = {O(11), O(12), O(13)}};
  return am_luxos_parse(&x, error);
}

#define LUX(name) "luxminer/asicrs-v1_" name ".json"
static const AmDriftSet luxos_s19k = {
    "luxos",
    "asicrs-s19k-pro",
    parse_luxos,
    {LUX("version"), LUX("summary"), LUX("pools"), LUX("stats"), LUX("fans"), LUX("power"),
     LUX("config"), LUX("devs"), LUX("temps"), LUX("profiles"), LUX("events"), LUX("voltageget_0"),
     LUX("voltageget_1"), LUX("voltageget_2")},
    {"1:SUMMARY"}};

/* ---- whatsminer (API v1/v2): summary (required), pools, status, devs,
 * get_psu, get_error_code ---------------------------------------------- */

static AmSample *
parse_whatsminer(JsonNode *const *r, GError **error)
{
  AmWhatsminerReplies x = {.summary = O(0),
                           .pools = O(1),
                           .status = O(2),
                           .devs = O(3),
                           .get_psu = O(4),
                           .get_error_code = O(5)};
  return am_whatsminer_parse(&x, error);
}

#define BT(name) "btminer/asicrs-" name ".json"
static const AmDriftSet whatsminer_v1 = {
    "whatsminer",
    "asicrs-v1",
    parse_whatsminer,
    {BT("v1_summary"), BT("v1_pools"), BT("v1_status"), BT("v1_devs"), BT("v1_get_psu")},
    {"0:SUMMARY"}};
static const AmDriftSet whatsminer_v1_errors = {"whatsminer",
                                                "asicrs-v1-errors",
                                                parse_whatsminer,
                                                {BT("v1_summary_with_errors")},
                                                {"0:SUMMARY"}};
static const AmDriftSet whatsminer_v2 = {"whatsminer",
                                         "asicrs-v2",
                                         parse_whatsminer,
                                         {BT("v2_summary"), BT("v2_pools"), BT("v2_status"),
                                          BT("v2_devs"), BT("v2_get_psu"), BT("v2_get_error_code")},
                                         {"0:SUMMARY"}};
static const AmDriftSet whatsminer_v2_errors = {
    "whatsminer",
    "asicrs-v2-errors",
    parse_whatsminer,
    {BT("v2_summary"), [5] = BT("v2_get_error_code_with_errors")},
    {"0:SUMMARY"}};
static const AmDriftSet whatsminer_m20s = {
    "whatsminer",
    "m20s",
    parse_whatsminer,
    {"btminer/m20s_summary.json", "btminer/m20s_pools.json", "btminer/unknown-model_status.json"},
    {"0:SUMMARY"}};
static const AmDriftSet whatsminer_m3 = {"whatsminer",
                                         "m3",
                                         parse_whatsminer,
                                         {"btminer/m3_summary.json", "btminer/m3_pools.json"},
                                         {"0:SUMMARY"}};

/* ---- generic: version, summary, pools, devs, stats ---------------------- */

static AmSample *
parse_generic(JsonNode *const *r, GError **error)
{
  AmGenericReplies x = {
      .version = O(0), .summary = O(1), .pools = O(2), .devs = O(3), .stats = O(4)};
  return am_generic_parse(&x, error);
}

#define GENERIC(set, v, sum, p, st, req)                                                           \
  static const AmDriftSet generic_##set = {                                                        \
      "generic", #set, parse_generic, {v, sum, p, NULL, st}, {req}}

GENERIC(d3, "cgminer/d3_version.json", NULL, "cgminer/d3-blissz_pools.json",
        "cgminer/d3-blissz_stats.json", "4:STATS");
GENERIC(e3, NULL, NULL, "cgminer/e3_pools.json", "cgminer/e3_stats.json", "4:STATS");
GENERIC(l3plus, NULL, NULL, "cgminer/l3plus_pools.json", "cgminer/l3plus_stats.json", "4:STATS");
GENERIC(z11_chipless, NULL, NULL, NULL, "cgminer/z11-chipless_stats.json", "4:STATS");
GENERIC(m20s, NULL, "btminer/m20s_summary.json", "btminer/m20s_pools.json", NULL, "1:SUMMARY");
GENERIC(m3, NULL, "btminer/m3_summary.json", "btminer/m3_pools.json", NULL, "1:SUMMARY");

/* ---- goldshell: one composite file (SUMMARY, DEVS, DEVDETAILS of the RPC
 * and /mcb/status's object under "status"), split as its test splits it -- */

/* The @section of @composite as a whole RPC reply with an S status. */
static JsonObject *
goldshell_rpc(JsonObject *composite, const char *section)
{
  if (composite == NULL || !json_object_has_member(composite, section))
    return NULL;
  JsonObject *reply = json_object_new();
  JsonObject *status = json_object_new();
  json_object_set_string_member(status, "STATUS", "S");
  json_object_set_string_member(status, "Description", "cgminer 4.10.0");
  JsonArray *header = json_array_new();
  json_array_add_object_element(header, status);
  json_object_set_array_member(reply, "STATUS", header);
  json_object_set_member(reply, section,
                         json_node_copy(json_object_get_member(composite, section)));
  return reply;
}

static AmSample *
parse_goldshell(JsonNode *const *r, GError **error)
{
  JsonObject *composite = O(0);
  JsonObject *summary = goldshell_rpc(composite, "SUMMARY");
  JsonObject *devs = goldshell_rpc(composite, "DEVS");
  JsonObject *devdetails = goldshell_rpc(composite, "DEVDETAILS");
  JsonObject *status = composite != NULL && json_object_has_member(composite, "status")
                           ? json_object_get_object_member(composite, "status")
                           : NULL;
  AmGoldshellReplies x = {
      .summary = summary, .devs = devs, .devdetails = devdetails, .status = status};
  AmSample *sample = am_goldshell_parse(&x, error);
  g_clear_pointer(&summary, json_object_unref);
  g_clear_pointer(&devs, json_object_unref);
  g_clear_pointer(&devdetails, json_object_unref);
  return sample;
}

static const AmDriftSet goldshell_ari31 = {"goldshell",
                                           "ari31-2.2.3",
                                           parse_goldshell,
                                           {"goldshell/ari31-2.2.3_mcb-status+rpc_composite.json"},
                                           {0}};

/* ---- auradine: the RPC replies and the web API's, all of one poll ------- */

static AmSample *
parse_auradine(JsonNode *const *r, GError **error)
{
  AmAuradineReplies x = {.version = O(0),
                         .summary = O(1),
                         .devs = O(2),
                         .pools = O(3),
                         .asccount = O(4),
                         .ipreport = O(5),
                         .temperature = O(6),
                         .fan = O(7),
                         .psu = O(8),
                         .mode = O(9),
                         .led = O(10),
                         .voltage = O(11),
                         .frequency = O(12)};
  return am_auradine_parse(&x, error);
}

#define AUR(name) "auradine/asicrs-v1_" name ".json"
static const AmDriftSet auradine_v1 = {"auradine",
                                       "asicrs-v1",
                                       parse_auradine,
                                       {AUR("version"), AUR("summary"), AUR("devs"), AUR("pools"),
                                        AUR("asccount"), AUR("ipreport"), AUR("temperature"),
                                        AUR("fan"), AUR("psu"), AUR("mode"), AUR("led"),
                                        AUR("voltage"), AUR("frequency")},
                                       {0}};

/* ---- sealminer: stats, summary, pools, version and the two web replies -- */

static AmSample *
parse_sealminer(JsonNode *const *r, GError **error)
{
  AmSealminerReplies x = {.stats = O(0),
                          .summary = O(1),
                          .pools = O(2),
                          .version = O(3),
                          .system_info = O(4),
                          .psu_status = O(5)};
  return am_sealminer_parse(&x, error);
}

#define SEAL(name) "sealminer/asicrs-v2025_" name ".json"
static const AmDriftSet sealminer_v2025 = {"sealminer",
                                           "asicrs-v2025",
                                           parse_sealminer,
                                           {SEAL("stats"), SEAL("summary"), SEAL("pools"),
                                            SEAL("version"), SEAL("get_system_info"),
                                            SEAL("miner_psu_status")},
                                           {0}};

const AmDriftSet *const am_drift_rpc_sets[] = {
    &antminer_s9,
    &antminer_s17pro,
    &antminer_s19pro,
    &antminer_d3_blissz,
    &antminer_e3,
    &antminer_l3plus,
    &antminer_z11_chipless,
    &antminer_hiveon_s9,
    &antminer_vnish_s9,
    &antminer_asicrs_v2020,
    &avalon_q,
    &avalon_litestats,
    &avalon_a,
    &avalon_7xx,
    &braiins_bos,
    &braiins_bosplus,
    &luxos_s19k,
    &whatsminer_v1,
    &whatsminer_v1_errors,
    &whatsminer_v2,
    &whatsminer_v2_errors,
    &whatsminer_m20s,
    &whatsminer_m3,
    &generic_d3,
    &generic_e3,
    &generic_l3plus,
    &generic_z11_chipless,
    &generic_m20s,
    &generic_m3,
    &goldshell_ari31,
    &auradine_v1,
    &sealminer_v2025,
    NULL,
};
