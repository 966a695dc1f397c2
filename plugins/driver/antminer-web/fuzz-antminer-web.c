/* libFuzzer harness: any bytes through the repairs and JSON parser the
 * module applies to a CGI body, then through the antminer-web normalizer
 * (as stats alone, as summary alone, and as every reply at once), the
 * identity reader, the mode and light readers, the JSON form, and the
 * judge of the answers to the action writes. Built by tests/fuzz/meson.build with
 * -Dfuzzing=true. */
#include "am-antminer-web-action.h"
#include "am-antminer-web-parse.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse_and_finish(const AmAntminerWebReplies *replies)
{
  AmSample *sample = am_antminer_web_parse(replies, NULL);
  if (sample == NULL)
    return;
  am_sample_finish(sample);
  json_node_unref(am_sample_to_json(sample));
  am_sample_unref(sample);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  am_antminer_web_check_reply(AM_ACTION_PAUSE, FALSE, (const char *)data, size, NULL);
  am_antminer_web_check_reply(AM_ACTION_LOCATE, TRUE, (const char *)data, size, NULL);
  JsonNode *root = am_rpc_parse((const char *)data, size, NULL);
  if (root == NULL)
    return 0;
  if (JSON_NODE_HOLDS_OBJECT(root)) {
    JsonObject *o = json_node_get_object(root);
    AmAntminerWebReplies stats = {.stats = o}, summary = {.summary = o};
    AmAntminerWebReplies all = {
        .summary = o, .stats = o, .pools = o, .system_info = o, .miner_conf = o, .blink = o};
    parse_and_finish(&stats);
    parse_and_finish(&summary);
    parse_and_finish(&all);
    AmSample *identity = am_sample_new();
    am_antminer_web_read_system_info(identity, o);
    am_sample_unref(identity);
  }
  json_node_unref(root);
  return 0;
}
