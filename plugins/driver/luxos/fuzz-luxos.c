/* libFuzzer harness: any bytes through the RPC repairs and parser, then
 * through the luxos normalizer and match() as every reply at once, and
 * through the action readers (session id, profile choice). */
#include "../common/am-driver-fuzz.h"
#include "am-luxos-action.h"
#include "am-luxos-parse.h"

static void
fuzz_luxos(JsonObject *o, const AmFingerprint *fp)
{
  (void)am_luxos_match(fp);
  AmLuxosReplies replies = {o, o, o, o, o, o, o, o, o, o, o, o, {o, o, o, o}};
  am_driver_fuzz_consume(am_luxos_parse(&replies, NULL));
  g_free(am_luxos_session_id(o));
  g_free(am_luxos_pick_profile(o, 3000, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  am_driver_fuzz_reply(data, size, fuzz_luxos);
  return 0;
}
