/* libFuzzer harness: any bytes through the RPC repairs and parser, then
 * through the antminer normalizer (as stats alone, and as every reply at
 * once) and match(). Build with -fsanitize=fuzzer,address,undefined and
 * link libantmon; see README.md. */
#include "am-antminer-parse.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse_and_finish(JsonObject *version, JsonObject *stats, JsonObject *pools, JsonObject *summary)
{
  AmSample *sample = am_antminer_parse(version, stats, pools, summary, NULL, NULL);
  if (sample == NULL)
    return;
  am_sample_finish(sample);
  json_node_unref(am_sample_to_json(sample));
  am_sample_unref(sample);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  JsonNode *root = am_rpc_parse((const char *)data, size, NULL);
  if (root == NULL)
    return 0;
  if (JSON_NODE_HOLDS_OBJECT(root)) {
    JsonObject *o = json_node_get_object(root);
    AmFingerprint fp = {.struct_size = sizeof(AmFingerprint), .rpc_open = TRUE};
    fp.version_reply = o;
    (void)am_antminer_match(&fp);

    parse_and_finish(NULL, o, NULL, NULL);
    parse_and_finish(o, o, o, o);
  }
  json_node_unref(root);
  return 0;
}
