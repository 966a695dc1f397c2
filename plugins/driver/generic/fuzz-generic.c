/* libFuzzer harness: any bytes through the RPC repairs and parser, then
 * through the generic normalizer and match() as every reply at once. */
#include "../common/am-cgminer-common.h"
#include "am-generic-parse.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    fp.version = am_cgminer_section(o, "VERSION");
    fp.description = am_cgminer_description(o);
    (void)am_generic_match(&fp);

    AmGenericReplies r = {o, o, o, o, o};
    AmSample *s = am_generic_parse(&r, NULL);
    if (s != NULL) {
      am_sample_finish(s);
      json_node_unref(am_sample_to_json(s));
      am_sample_unref(s);
    }
  }
  json_node_unref(root);
  return 0;
}
