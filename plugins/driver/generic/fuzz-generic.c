/* libFuzzer harness: any bytes through the RPC repairs and parser, then
 * through the generic normalizer and match() as every reply at once. */
#include "../common/am-driver-fuzz.h"
#include "am-generic-parse.h"

static void
fuzz_generic(JsonObject *o, const AmFingerprint *fp)
{
  (void)am_generic_match(fp);
  AmGenericReplies replies = {o, o, o, o, o};
  am_driver_fuzz_consume(am_generic_parse(&replies, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  am_driver_fuzz_reply(data, size, fuzz_generic);
  return 0;
}
