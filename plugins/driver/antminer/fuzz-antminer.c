/* libFuzzer harness: any bytes through the RPC repairs and parser, then
 * through the antminer normalizer (as stats alone, and as every reply at
 * once) and match(). */
#include "../common/am-driver-fuzz.h"
#include "am-antminer-parse.h"

static void
fuzz_antminer(JsonObject *o, const AmFingerprint *fp)
{
  (void)am_antminer_match(fp);
  am_driver_fuzz_consume(am_antminer_parse(NULL, o, NULL, NULL, NULL, NULL));
  am_driver_fuzz_consume(am_antminer_parse(o, o, o, o, NULL, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  am_driver_fuzz_reply(data, size, fuzz_antminer);
  return 0;
}
