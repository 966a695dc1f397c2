/* Hand-made miners for the HTTP plugin's unit tests. */
#include "am-http-test-fleet.h"

#include <string.h>

static AmSample *
make_sample(const AmTestMinerSpec *spec, const char *host, guint16 port)
{
  AmSample *s = am_sample_new();
  am_sample_set(s, &s->host, host);
  s->port = port;
  s->when_us = AM_TEST_NOW_US - spec->age_s * G_USEC_PER_SEC;
  am_sample_set(s, &s->model, spec->model);
  am_sample_set(s, &s->firmware, "bmminer");
  am_sample_set(s, &s->algorithm, spec->algorithm != NULL ? spec->algorithm : "sha256d");
  s->hashrate_ths = spec->hashrate_ths;
  s->hashrate_ideal_ths = spec->ideal_ths;
  s->power_w = spec->power_w;
  s->power_source = AM_POWER_SOURCE_REPORTED;
  s->elapsed_s = 3600;
  s->accepted = 1000;
  s->rejected = 3;
  s->hw_errors = 12;
  am_sample_add_temp(s, spec->temp_c);
  am_sample_add_temp(s, spec->temp_c - 5);
  am_sample_add_fan(s, 4800);
  am_sample_add_fan(s, 5040);
  for (gint i = 0; i < 3; i++) {
    AmChain *c = am_sample_add_chain(s, 6 + i);
    c->hashrate_ths = spec->hashrate_ths / 3;
    c->chips = i == 2 ? 60 : 63;
    c->chips_expected = 63;
    c->chips_failed = i == 1 ? 2 : 0;
    c->temp_board_c = spec->temp_c - i;
    c->temp_chip_c = spec->temp_c + 10 - i;
  }
  am_sample_finish(s);
  return s;
}

AmHttpMiner *
am_test_miner(const AmTestMinerSpec *spec)
{
  const char *colon = strrchr(spec->address, ':');
  g_autofree char *host = g_strndup(spec->address, colon - spec->address);
  guint16 port = (guint16)g_ascii_strtoull(colon + 1, NULL, 10);
  g_autoptr(AmSample) sample = spec->model != NULL ? make_sample(spec, host, port) : NULL;
  AmMinerView view = {
      .struct_size = sizeof(AmMinerView),
      .address = spec->address,
      .host = host,
      .port = port,
      .name = spec->name,
      .state = spec->state,
      .state_reason = g_str_equal(spec->state, "offline") ? "connection refused" : NULL,
      .last_error = g_str_equal(spec->state, "offline") ? "refused" : NULL,
      .last_seen_us = sample != NULL ? AM_TEST_NOW_US - spec->age_s * G_USEC_PER_SEC : 0,
      .failures = g_str_equal(spec->state, "offline") ? 3 : 0,
      .driver = sample != NULL ? "antminer" : NULL,
      .source = "static",
      .sample = sample,
      .actions = spec->actions,
  };
  return am_http_miner_new(&view);
}
