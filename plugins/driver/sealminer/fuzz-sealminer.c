/* libFuzzer harness: any bytes through the RPC repairs and parser as a
 * BDMiner reply (used as each RPC reply at once, with match() on the
 * fingerprint it makes), and through the strict reader of the web
 * replies, then the normalizer and what the core does with the sample.
 * Built by tests/fuzz/meson.build with -Dfuzzing=true. */
#include "../common/am-driver-fuzz.h"
#include "am-sealminer-parse.h"

#include <stdint.h>

static void
fuzz_rpc(JsonObject *reply, const AmFingerprint *fp)
{
  (void)am_sealminer_match(fp);
  AmSealminerReplies all = {.stats = reply, .summary = reply, .pools = reply, .version = reply};
  am_driver_fuzz_consume(am_sealminer_parse(&all, NULL));
  AmSealminerReplies stats = {.stats = reply, .system_info = reply, .psu_status = reply};
  am_driver_fuzz_consume(am_sealminer_parse(&stats, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  am_driver_fuzz_reply(data, size, fuzz_rpc);
  JsonObject *web =
      am_sealminer_parse_web(AM_SEALMINER_PSU_STATUS_PATH, (const char *)data, size, NULL);
  if (web == NULL)
    return 0;
  AmSealminerReplies replies = {.summary = web, .system_info = web, .psu_status = web};
  am_driver_fuzz_consume(am_sealminer_parse(&replies, NULL));
  json_object_unref(web);
  return 0;
}
