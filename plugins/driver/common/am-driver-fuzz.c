/* Shared by the drivers' libFuzzer harnesses. */
#include "am-driver-fuzz.h"
#include "am-cgminer-common.h"

void
am_driver_fuzz_reply(const uint8_t *data, size_t size, AmDriverFuzzFunc func)
{
  JsonNode *root = am_rpc_parse((const char *)data, size, NULL);
  if (root == NULL)
    return;
  if (JSON_NODE_HOLDS_OBJECT(root)) {
    JsonObject *reply = json_node_get_object(root);
    AmFingerprint fp = {.struct_size = sizeof(AmFingerprint), .rpc_open = TRUE};
    fp.version_reply = reply;
    fp.version = am_cgminer_section(reply, "VERSION");
    fp.description = am_cgminer_description(reply);
    func(reply, &fp);
  }
  json_node_unref(root);
}

void
am_driver_fuzz_consume(AmSample *sample)
{
  if (sample == NULL)
    return;
  am_sample_finish(sample);
  json_node_unref(am_sample_to_json(sample));
  am_sample_unref(sample);
}
