/* libFuzzer harness: any bytes through the RPC repairs and parser, then
 * through the whatsminer normalizer and match() as every reply at once. */
#include "../common/am-driver-fuzz.h"
#include "am-whatsminer-parse.h"

static void
fuzz_whatsminer(JsonObject *o, const AmFingerprint *fp)
{
  (void)am_whatsminer_match(fp);
  AmWhatsminerReplies replies = {o, o, o, o, o, o};
  am_driver_fuzz_consume(am_whatsminer_parse(&replies, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  am_driver_fuzz_reply(data, size, fuzz_whatsminer);
  return 0;
}
