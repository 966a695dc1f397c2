/* AmSample: one normalized reading of one miner, the single shape every
 * driver produces and every consumer (cache, store, alerts, HTTP) reads.
 *
 * Units are fixed here and nowhere else: hashrate in TH/s, temperatures in
 * degrees Celsius, fans in RPM, power in W, times in seconds. "Unknown" is
 * NAN for doubles and AM_UNKNOWN (-1) for counts, never 0: the JSON form
 * writes null for both.
 *
 * Ownership: samples are created by am_sample_new() (never by size, so the
 * core may append fields in a later ABI minor) and are reference counted.
 * A driver fills the raw fields, then the core calls am_sample_finish() to
 * derive the summary fields (temp_max_c, averages, efficiency, status). After
 * that a sample is read-only and may be shared across threads. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define AM_UNKNOWN (-1)

/* Readings outside (AM_TEMP_MIN_C, AM_TEMP_MAX_C) are sensor faults
 * (0, -83, 255 are all seen on real S9s) and are dropped, never averaged. */
#define AM_TEMP_MIN_C 0.0
#define AM_TEMP_MAX_C 150.0

/* A sample is "degraded" when hashrate falls under this share of ideal. */
#define AM_DEGRADED_HASHRATE_RATIO 0.8

typedef enum {
  AM_POWER_SOURCE_UNKNOWN = 0,
  AM_POWER_SOURCE_REPORTED,  /* the firmware measured it */
  AM_POWER_SOURCE_ESTIMATED, /* hashrate x a J/TH table */
} AmPowerSource;

typedef enum {
  AM_SAMPLE_STATUS_OK = 0,
  AM_SAMPLE_STATUS_DEGRADED, /* see AmSample.problems for why */
} AmSampleStatus;

/* What the miner says it is doing (ABI 1.2). A miner paused or asleep on
 * purpose is not failing: no hashrate-drop or hardware alert fires for it. */
typedef enum {
  AM_MINING_UNKNOWN = 0, /* the firmware does not say */
  AM_MINING_HASHING,
  AM_MINING_PAUSED,   /* stopped by a command (pause, curtail, service stop) */
  AM_MINING_SLEEPING, /* a sleep or low-power mode the firmware keeps */
  AM_MINING_STARTING, /* booting, tuning or ramping up */
} AmMiningState;

/* How much a vendor error matters (ABI 1.2). */
typedef enum {
  AM_ERROR_SEVERITY_UNKNOWN = 0,
  AM_ERROR_SEVERITY_INFO,
  AM_ERROR_SEVERITY_WARNING,
  AM_ERROR_SEVERITY_ERROR, /* makes the sample degraded */
} AmErrorSeverity;

/* One error the firmware reports (ABI 1.2): Whatsminer error codes, Braiins
 * miner/errors, ePIC and Proto messages, ... Strings may be NULL. */
typedef struct {
  char *code;      /* the vendor's code, as text ("110", "E0112") */
  char *message;   /* the vendor's words, or antmon's for a known code */
  char *component; /* "fan", "psu", "hashboard 2", ... */
  AmErrorSeverity severity;
  gint64 since_s; /* UTC seconds, AM_UNKNOWN when not told */
  gpointer reserved[2];
} AmMinerError;

/* One hashboard (chain). Unknown fields are NAN / AM_UNKNOWN. */
typedef struct {
  gint index;          /* the firmware's own slot number (S9: 6..8) */
  double hashrate_ths; /* current */
  gint chips;          /* chips found on the chain */
  gint chips_expected; /* chips the model should have, when known */
  gint chips_ok;
  gint chips_failed;
  gint64 hw_errors;
  double temp_board_c; /* hottest valid PCB reading */
  double temp_chip_c;  /* hottest valid chip reading */
  double power_w;
  /* ABI 1.2: these four take the place of four reserved pointers, so an
   * AmChain has the same size for a 1.1 plugin (64-bit targets only; the
   * size is asserted in am-sample.c). Serials are in AmSample.chain_serials. */
  double voltage_v;
  double frequency_mhz;
  double temp_inlet_c;  /* chip temperature at the air/water inlet side */
  double temp_outlet_c; /* ... and at the outlet side */
} AmChain;

typedef struct {
  char *url;
  char *user;
  char *status;  /* as the firmware says it: "Alive", "Dead", ... */
  gint priority; /* AM_UNKNOWN when not told */
  gint64 accepted;
  gint64 rejected;
  gint64 stale;
  gboolean active; /* the pool currently receiving work */
  gpointer reserved[4];
} AmPool;

typedef struct _AmSample AmSample;

struct _AmSample {
  /*< private >*/
  gint ref_count;

  /*< public >*/
  /* Identity. Strings are owned by the sample (set them with am_sample_set()). */
  char *host;
  guint16 port;
  gint64 when_us; /* collector's UTC wall clock, g_get_real_time() */
  char *driver;
  char *firmware;         /* "bmminer", "BOSminer+", "Hiveon", "VNish", ... */
  char *firmware_version; /* as reported */
  char *model;            /* "Antminer S19 Pro", suffixes removed */
  char *mac;
  char *serial;
  char *hostname;
  char *algorithm; /* "sha256d", "scrypt", "x11", "ethash", "equihash" */

  /* Hashrate, TH/s of the algorithm above (an L3+ at 504 MH/s: 0.000504). */
  double hashrate_ths;       /* current (5 s) */
  double hashrate_avg_ths;   /* average since start */
  double hashrate_ideal_ths; /* nominal / ideal */

  double power_w;
  AmPowerSource power_source;
  gint64 elapsed_s; /* miner uptime */

  /* Lists: add with the am_sample_add_*() helpers, which drop bad readings. */
  GArray *temps_c;        /* double: one board/PCB temperature per working board */
  GArray *chip_temps_c;   /* double: hottest chip per working board */
  GArray *fans_rpm;       /* double: fans that exist and spin */
  gboolean liquid_cooled; /* no fans is normal, not a fault */
  GArray *chains;         /* AmChain */
  GPtrArray *pools;       /* AmPool* */

  gint64 accepted;
  gint64 rejected;
  gint64 hw_errors;
  gint chains_expected; /* AM_UNKNOWN when the driver does not know */
  gint fans_expected;   /* fan slots of an air-cooled model; AM_UNKNOWN if not known */

  /* Firmware-specific extras, keys "x_<driver>_<key>", any JSON value. */
  JsonObject *extras;

  /* Derived by am_sample_finish(); drivers leave these alone. */
  double efficiency_jth;
  double temp_max_c;
  double avg_temp_c;
  double avg_fan_rpm;
  AmSampleStatus status;
  GPtrArray *problems; /* char*: human-readable reasons for "degraded" */

  /* ABI 1.2. A 1.1 plugin never sees these: samples are only made by
   * am_sample_new(), and the new members follow all the old ones. */
  AmMiningState mining;
  double power_limit_w;   /* the power target the firmware works to */
  char *work_mode;        /* "low", "normal", "high", or the firmware's profile name */
  double water_temp_in_c; /* hydro models: coolant in and out */
  double water_temp_out_c;
  double psu_power_in_w; /* the PSU's own readings */
  double psu_power_out_w;
  double psu_fan_rpm;
  char *psu_serial;
  double best_share; /* best share difficulty since start */
  gint64 found_blocks;
  GPtrArray *errors;        /* AmMinerError*: add with am_sample_add_error() */
  GPtrArray *chain_serials; /* char*, parallel to chains (NULL: unknown) */
  /* Some replies of this poll failed to parse or to arrive: the rest is
   * real, the problems name what is missing, the raw replies are kept. */
  gboolean partial;

  /* ABI 1.3: the locate (fault) light as the firmware reports it: TRUE on,
   * FALSE off, AM_UNKNOWN when it does not say. */
  gint locate;

  gpointer reserved[16];
};

/* Returns: (transfer full) a sample with every field unknown and when_us now. */
AmSample *am_sample_new(void);
AmSample *am_sample_ref(AmSample *sample);
void am_sample_unref(AmSample *sample);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AmSample, am_sample_unref)

/* Replaces the string at @field (one of the sample's char* members) with a
 * copy of @value (NULL clears it). */
void am_sample_set(AmSample *sample, char **field, const char *value);

/* Add one reading each; out-of-range temperatures and fans at or below zero
 * are dropped. Return TRUE when the reading was kept. */
gboolean am_sample_add_temp(AmSample *sample, double celsius);
gboolean am_sample_add_chip_temp(AmSample *sample, double celsius);
gboolean am_sample_add_fan(AmSample *sample, double rpm);

/* TRUE when @celsius is a plausible sensor reading. */
gboolean am_temp_is_valid(double celsius);

/* Appends a chain with every field unknown and returns it. The pointer is
 * valid until the next am_sample_add_chain(). (transfer none) */
AmChain *am_sample_add_chain(AmSample *sample, gint index);

/* Sets the serial of the chain at position @pos in sample->chains. */
void am_sample_set_chain_serial(AmSample *sample, guint pos, const char *serial);

/* Appends a vendor error (strings copied; any may be NULL) and returns it.
 * Errors of severity AM_ERROR_SEVERITY_ERROR make the sample degraded, with the
 * code and message as the reason. (transfer none) */
AmMinerError *am_sample_add_error(AmSample *sample, const char *code, const char *message,
                                  const char *component, AmErrorSeverity severity);

/* Marks the sample partial: what was read stands, @format says what was not
 * (it becomes a problem, so the sample is also degraded). */
void am_sample_mark_partial(AmSample *sample, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* "hashing", "paused", "sleeping", "starting", or NULL for unknown. */
const char *am_mining_state_name(AmMiningState state);
/* "info", "warning", "error", or NULL. */
const char *am_error_severity_name(AmErrorSeverity severity);

/* Appends a pool (url and user copied) and returns it. (transfer none) */
AmPool *am_sample_add_pool(AmSample *sample, const char *url, const char *user);

/* Sets extras["x_<driver>_<key>"]. (@node transfer full) */
void am_sample_set_extra(AmSample *sample, const char *key, JsonNode *node);

/* Records a reason for "degraded" (printf-style). */
void am_sample_add_problem(AmSample *sample, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Derives efficiency, temperature and fan summaries, hashrate totals from
 * chains when the firmware gave none, and status/problems. Idempotent. */
void am_sample_finish(AmSample *sample);

/* The sample as the API and `antmon query --json` print it.
 * Returns: (transfer full) a JSON object node. */
JsonNode *am_sample_to_json(const AmSample *sample);

/* Formats @when_us as ISO 8601 UTC with a Z ("2026-11-24T10:00:00Z").
 * Returns: (transfer full). */
char *am_time_to_iso8601(gint64 when_us);

G_END_DECLS
