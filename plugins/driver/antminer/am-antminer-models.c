/* The Antminer model table. Numbers are Bitmain spec-sheet facts (nominal
 * hashrate, wall power, boards, chips per board, fans); -1 marks what we
 * could not confirm, so the sample says "unknown" instead of raising a false
 * "chips missing" or "fan stopped" alarm. */
#include "am-antminer-models.h"

#include <math.h>

/* Units of the "GHS" keys on non-SHA-256 models. Foreman's multipliers
 * (0.001 for D3, E3 and L3+; 1e-9 for Z11) agree with the replies we hold:
 *  - L3+, D3, E3: "GHS 5s" and every chain_rateN are MH/s (the L3+'s four
 *    chain rates 126.12 + 125.79 + 126.06 + 126.59 add up to its 504.56).
 *  - Z11: "GHS 5s" 145474.39 is Sol/s (the Z11 is a 135 kSol/s machine),
 *    while its chain rates 42.59 + 47.84 + 55.04 = 145.47 are kSol/s: the
 *    chain keys are a thousand times the total's unit. We report equihash in
 *    "TH/s" meaning 1e12 Sol/s, so that Z11 is 1.4547439e-7. */
#define GH_IS_MH 1e-3
#define GH_IS_SOL 1e-9
#define GH_IS_KSOL 1e-6

#define SHA(name_, alias_, ths, watts, chains_, chips, fans_)                                      \
  {                                                                                                \
    .name = name_, .aliases = {alias_, NULL}, .algorithm = "sha256d", .total_unit_scale = 1.0,     \
    .chain_unit_scale = 1.0, .nominal_ths = ths, .nominal_w = watts, .chains = chains_,            \
    .chips_per_chain = chips, .fans = fans_                                                        \
  }

#define HYDRO(name_, alias_, ths, watts, chains_, chips)                                           \
  {                                                                                                \
    .name = name_, .aliases = {alias_, NULL}, .algorithm = "sha256d", .total_unit_scale = 1.0,     \
    .chain_unit_scale = 1.0, .nominal_ths = ths, .nominal_w = watts, .chains = chains_,            \
    .chips_per_chain = chips, .fans = 0, .hydro = TRUE                                             \
  }

static const AmAntminerModel models[] = {
    /* S9 family: three boards of 63 BM1387 chips, two fans. */
    SHA("Antminer S9", NULL, 13.5, 1323, 3, 63, 2),
    SHA("Antminer S9i", NULL, 14.0, 1320, 3, 63, 2),
    SHA("Antminer S9j", NULL, 14.5, 1350, 3, 63, 2),
    SHA("Antminer T9", NULL, 12.5, 1576, 3, -1, 2),
    SHA("Antminer T9+", NULL, 10.5, 1432, 3, -1, 2),
    SHA("Antminer S11", NULL, 20.5, 1530, -1, -1, -1),
    SHA("Antminer S15", NULL, 28.0, 1596, -1, -1, -1),
    SHA("Antminer T15", NULL, 23.0, 1541, -1, -1, -1),
    /* 17 series: three boards, four fans. */
    SHA("Antminer S17", NULL, 56.0, 2520, 3, 48, 4),
    SHA("Antminer S17 Pro", NULL, 53.0, 2094, 3, 48, 4),
    SHA("Antminer S17+", NULL, 73.0, 2920, 3, 65, 4),
    SHA("Antminer S17e", NULL, 64.0, 2880, 3, 135, 4),
    SHA("Antminer T17", NULL, 40.0, 2200, 3, 30, 4),
    SHA("Antminer T17+", NULL, 64.0, 3200, 3, 44, 4),
    SHA("Antminer T17e", NULL, 53.0, 2915, 3, 78, 4),
    /* 19 series. */
    SHA("Antminer S19", NULL, 95.0, 3250, 3, 76, 4),
    SHA("Antminer S19 Pro", NULL, 110.0, 3250, 3, 114, 4),
    SHA("Antminer S19j", NULL, 90.0, 3100, 3, 114, 4),
    SHA("Antminer S19j Pro", NULL, 100.0, 2950, 3, 126, 4),
    SHA("Antminer S19k Pro", NULL, 120.0, 2760, 3, 77, 4),
    SHA("Antminer S19 XP", NULL, 140.0, 3010, 3, 110, 4),
    SHA("Antminer T19", NULL, 84.0, 3150, 3, 76, 4),
    HYDRO("Antminer S19 Hydro", "Antminer S19 Hyd.", 158.0, 5451, 4, 104),
    HYDRO("Antminer S19 Pro Hydro", "Antminer S19 Pro Hyd.", 177.0, 5221, 4, 180),
    HYDRO("Antminer S19 XP Hydro", "Antminer S19 XP Hyd.", 255.0, 5304, 3, 204),
    /* 21 series. */
    SHA("Antminer S21", NULL, 200.0, 3500, 3, 108, 4),
    SHA("Antminer S21 Pro", NULL, 234.0, 3510, 3, 65, 4),
    SHA("Antminer S21 XP", NULL, 270.0, 3645, 3, -1, 4),
    SHA("Antminer T21", NULL, 190.0, 3610, 3, 108, 4),
    HYDRO("Antminer S21 Hydro", "Antminer S21 Hyd.", 335.0, 5360, -1, -1),
    /* Older non-SHA-256 models (see the unit notes above). */
    {.name = "Antminer L3+",
     .algorithm = "scrypt",
     .total_unit_scale = GH_IS_MH,
     .chain_unit_scale = GH_IS_MH,
     .nominal_ths = 504e-6, /* 504 MH/s */
     .nominal_w = 800,
     .chains = 4,
     .chips_per_chain = 72,
     .fans = 2,
     .temp3n_keys = TRUE},
    {.name = "Antminer D3",
     .algorithm = "x11",
     .total_unit_scale = GH_IS_MH,
     .chain_unit_scale = GH_IS_MH,
     .nominal_ths = 19.3e-3, /* 19.3 GH/s */
     .nominal_w = 1350,
     .chains = 3,
     .chips_per_chain = 60,
     .fans = 2},
    /* The one E3 reply has nine chain slots of two chips each; we could not
     * confirm that layout, so boards and chips stay unknown. */
    {.name = "Antminer E3",
     .algorithm = "ethash",
     .total_unit_scale = GH_IS_MH,
     .chain_unit_scale = GH_IS_MH,
     .nominal_ths = 190e-6, /* 190 MH/s */
     .nominal_w = 760,
     .chains = -1,
     .chips_per_chain = -1,
     .fans = 2},
    {.name = "Antminer Z11",
     .algorithm = "equihash",
     .total_unit_scale = GH_IS_SOL,
     .chain_unit_scale = GH_IS_KSOL,
     .nominal_ths = 135e3 * 1e-12, /* 135 kSol/s */
     .nominal_w = 1418,
     .chains = 3,
     .chips_per_chain = -1,
     .fans = 2},
};

/* "Antminer S19JPRO" and "Antminer S19j Pro" compare equal: Bitmain's own
 * Type strings differ only in case and spacing between firmware builds. */
static gboolean
same_name(const char *a, const char *b)
{
  while (*a != '\0' || *b != '\0') {
    while (*a == ' ')
      a++;
    while (*b == ' ')
      b++;
    if (g_ascii_tolower(*a) != g_ascii_tolower(*b))
      return FALSE;
    if (*a == '\0')
      return TRUE;
    a++;
    b++;
  }
  return TRUE;
}

const AmAntminerModel *
am_antminer_model_lookup(const char *model_name)
{
  if (model_name == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS(models); i++) {
    if (same_name(model_name, models[i].name))
      return &models[i];
    for (gsize a = 0; models[i].aliases[a] != NULL; a++)
      if (same_name(model_name, models[i].aliases[a]))
        return &models[i];
  }
  return NULL;
}

double
am_antminer_model_jth(const AmAntminerModel *model)
{
  if (model == NULL || !(model->nominal_ths > 0) || !(model->nominal_w > 0))
    return NAN;
  return model->nominal_w / model->nominal_ths;
}

const AmAntminerModel *
am_antminer_models(guint *n_models)
{
  *n_models = G_N_ELEMENTS(models);
  return models;
}
