/* LuxOS (Luxor's LUXminer firmware for Antminers): the pure normalizer.
 * JSON replies in, AmSample out; no I/O. */
#pragma once

#include <antmon/antmon.h>

G_BEGIN_DECLS

#define AM_LUXOS_MAX_BOARDS 4

/* The replies one poll gathers; any may be NULL (not answered). */
typedef struct {
  JsonObject *version;
  JsonObject *summary; /* required */
  JsonObject *pools;
  JsonObject *stats;    /* Antminer-style data block: chain_rateN, tempN, ... */
  JsonObject *fans;     /* FANS[].RPM */
  JsonObject *power;    /* POWER[0].Watts */
  JsonObject *config;   /* CONFIG[0].MACAddr */
  JsonObject *atm;      /* ATM[0].Enabled: LuxOS's thermal management */
  JsonObject *devs;     /* DEVS[]: board serials (ASC n is STATS slot n+1) */
  JsonObject *temps;    /* TEMPS[]: intake/exhaust sensors per board */
  JsonObject *profiles; /* PROFILES[]: the active profile's nominal watts */
  JsonObject *events;   /* EVENTS[]: LuxOS's event codes -> errors */
  /* voltageget <board> replies (VOLTAGE[0].Board/Voltage); any may be NULL. */
  JsonObject *voltages[AM_LUXOS_MAX_BOARDS];
} AmLuxosReplies;

/* SUPPORTED when the version reply has a LUXminer key or the Description
 * is LUXminer; else UNSUPPORTED. Pure. */
AmMatch am_luxos_match(const AmFingerprint *fp);

/* Returns: (transfer full) the sample, or NULL with AM_ERROR_UNSUPPORTED (no
 * summary answer) or AM_ERROR_PARSE (a summary reply without SUMMARY). */
AmSample *am_luxos_parse(const AmLuxosReplies *replies, GError **error);

G_END_DECLS
