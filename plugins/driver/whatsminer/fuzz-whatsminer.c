/* libFuzzer harness: any bytes through
 *  - the RPC repairs and parser, then the v1/v2 normalizer and match() as
 *    every reply at once;
 *  - the API v3 frame decoder (header, size cap, body) and, when the bytes
 *    make a reply, the v3 normalizer with it as every reply;
 *  - the v3 body parser on the bytes as they are (the recorded v3 replies
 *    are bodies, so the seeds reach the normalizer without a header). */
#include "../common/am-driver-fuzz.h"
#include "am-whatsminer-parse.h"
#include "am-whatsminer-v3-parse.h"
#include "am-whatsminer-v3.h"

static void
fuzz_whatsminer(JsonObject *o, const AmFingerprint *fp)
{
  (void)am_whatsminer_match(fp);
  (void)am_whatsminer_v3_match(fp, AM_WHATSMINER_V3_DEFAULT_PORT);
  AmWhatsminerReplies replies = {o, o, o, o, o, o, o, o};
  am_driver_fuzz_consume(am_whatsminer_parse(&replies, NULL));
}

static void
fuzz_v3_reply(JsonObject *o)
{
  if (o == NULL)
    return;
  (void)am_whatsminer_v3_check(o, NULL);
  static const char *const failed[] = {"get.miner.status pools: timed out after 1.0 s", "x", NULL};
  AmWhatsminerV3Replies replies = {o, o, o, o, failed};
  am_driver_fuzz_consume(am_whatsminer_v3_parse(&replies, NULL));
  json_object_unref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  am_driver_fuzz_reply(data, size, fuzz_whatsminer);
  /* A small cap as well as the real one, so the TOO_LARGE path is hit. */
  fuzz_v3_reply(am_whatsminer_v3_decode(data, size, AM_WHATSMINER_V3_MAX_BODY, NULL));
  JsonObject *small = am_whatsminer_v3_decode(data, size, 64, NULL);
  if (small != NULL)
    json_object_unref(small);
  if (size > 0)
    fuzz_v3_reply(am_whatsminer_v3_parse_body((const char *)data, size, NULL));
  return 0;
}
