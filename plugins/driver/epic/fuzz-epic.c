/* libFuzzer harness: any bytes through the strict JSON reader the module
 * applies to a PowerPlay body, then through the normalizer in every slot
 * the shape fits (an object as /summary, /capabilities and /network; an
 * array as /temps, /hashrate and /temps/chip beside a small /summary) and
 * what the core does with the sample; the same bytes also serve as the
 * page title and body match() reads. Built by tests/fuzz/meson.build with
 * -Dfuzzing=true. */
#include "../common/am-driver-fuzz.h"
#include "am-epic-action.h"
#include "am-epic-parse.h"

#include <stdint.h>

/* HAND-MADE: the least /summary that names two boards. */
static const char summary_text[] =
    "{\"HBs\":[{\"Index\":0,\"Hashrate\":[1.0e6,100,1],\"Temperature\":60},"
    "{\"Index\":1,\"Hashrate\":[2.0e6,100,1]}],"
    "\"HBStatus\":[{\"Index\":0,\"Detected\":true,\"Enabled\":true}]}";

static void
fuzz_match(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint),
                      .http_open = TRUE,
                      .http_on_rpc_port = TRUE,
                      .http_status = 200,
                      .http_title = text,
                      .http_body = text};
  (void)am_epic_match(&fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fuzz_match(data, size);
  /* The answer reader of the actions (POST /miner, /coin, ...). */
  GError *error = NULL;
  if (!am_epic_action_check("/miner", (const char *)data, size, &error))
    g_error_free(error);
  JsonNode *node = am_epic_parse_body(AM_EPIC_SUMMARY_PATH, (const char *)data, size, NULL);
  if (node == NULL)
    return 0;
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    JsonObject *obj = json_node_get_object(node);
    AmEpicReplies alone = {.summary = obj};
    AmEpicReplies all = {.summary = obj, .capabilities = obj, .network = obj};
    am_driver_fuzz_consume(am_epic_parse(&alone, NULL));
    am_driver_fuzz_consume(am_epic_parse(&all, NULL));
  } else if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonNode *summary =
        am_epic_parse_body(AM_EPIC_SUMMARY_PATH, summary_text, sizeof(summary_text) - 1, NULL);
    JsonArray *array = json_node_get_array(node);
    AmEpicReplies lists = {.summary = json_node_get_object(summary),
                           .temps = array,
                           .hashrate = array,
                           .chip_temps = array};
    am_driver_fuzz_consume(am_epic_parse(&lists, NULL));
    json_node_unref(summary);
  }
  json_node_unref(node);
  return 0;
}
