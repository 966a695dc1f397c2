/* Hand-made miners for the HTTP plugin's unit tests. */
#pragma once

#include "am-http-model.h"

/* 2026-11-24T10:00:00Z in microseconds. */
#define AM_TEST_NOW_US (G_GINT64_CONSTANT(1795514400) * G_USEC_PER_SEC)

typedef struct {
  const char *address; /* "host:port" */
  const char *name;
  const char *state;
  const char *model; /* NULL: no sample */
  const char *algorithm;
  double hashrate_ths;
  double ideal_ths;
  double power_w;
  double temp_c; /* one board at this, a second 5 degC cooler */
  gint64 age_s;  /* since the last good poll */
  AmActionSet actions;
} AmTestMinerSpec;

/* Returns: (transfer full) a miner as the core would describe it. */
AmHttpMiner *am_test_miner(const AmTestMinerSpec *spec);
