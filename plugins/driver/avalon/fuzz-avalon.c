/* libFuzzer harness: the raw bytes as an "MM ID" string, then the bytes
 * through the RPC repairs and parser and the avalon normalizer and match()
 * as every reply at once. */
#include "../common/am-driver-fuzz.h"
#include "am-avalon-action.h"
#include "am-avalon-parse.h"

static void
fuzz_mm_string(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  g_autoptr(GHashTable) mm = am_avalon_mm_parse(text);
  static const char *const keys[] = {"PS", "MGHS", "Temp", "FanR", "PVT_T0", "GHSavg"};
  for (gsize k = 0; k < G_N_ELEMENTS(keys); k++) {
    /* A few indices, past the end included: every call splits the value. */
    guint n = MIN(am_avalon_mm_count(mm, keys[k]), 8);
    double v;
    for (guint i = 0; i <= n; i++)
      (void)am_avalon_mm_number(mm, keys[k], i, &v);
  }
}

static void
fuzz_avalon(JsonObject *o, const AmFingerprint *fp)
{
  (void)am_avalon_match(fp);
  /* The answer reader of the actions, as an ascset and a restart answer. */
  AmAvalonActionCall ascset = {.command = "ascset", .parameter = (char *)"0,led,1-1"};
  AmAvalonActionCall restart = {.command = "restart"};
  GError *error = NULL;
  if (!am_avalon_action_check(&ascset, o, &error))
    g_clear_error(&error);
  (void)am_avalon_action_check(&restart, o, NULL);
  AmAvalonReplies replies = {o, o, o, o};
  am_driver_fuzz_consume(am_avalon_parse(&replies, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fuzz_mm_string(data, size);
  am_driver_fuzz_reply(data, size, fuzz_avalon);
  return 0;
}
