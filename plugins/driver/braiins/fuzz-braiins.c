/* libFuzzer harness: any bytes through the RPC repairs and parser, then
 * through the braiins normalizer and match() as every reply at once. */
#include "../common/am-driver-fuzz.h"
#include "am-braiins-parse.h"

static void
fuzz_braiins(JsonObject *o, const AmFingerprint *fp)
{
  (void)am_braiins_match(fp);
  AmBraiinsReplies replies = {o, o, o, o, o, o};
  am_driver_fuzz_consume(am_braiins_parse(&replies, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  am_driver_fuzz_reply(data, size, fuzz_braiins);
  return 0;
}
