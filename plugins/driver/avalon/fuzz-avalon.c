/* libFuzzer harness: the raw bytes as an "MM ID" string, then the bytes
 * through the RPC repairs and parser and the avalon normalizer and match()
 * as every reply at once. */
#include "../common/am-cgminer-common.h"
#include "am-avalon-parse.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_mm_string(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  g_autoptr(GHashTable) mm = am_avalon_mm_parse(text);
  static const char *const keys[] = {"PS", "MGHS", "Temp", "FanR", "PVT_T0", "GHSavg"};
  for (gsize k = 0; k < G_N_ELEMENTS(keys); k++) {
    /* A few indices, past the end included: every call splits the value. */
    guint n = MIN(am_avalon_mm_count(mm, keys[k]), 8);
    double v;
    for (guint i = 0; i <= n; i++)
      (void)am_avalon_mm_number(mm, keys[k], i, &v);
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fuzz_mm_string(data, size);
  JsonNode *root = am_rpc_parse((const char *)data, size, NULL);
  if (root == NULL)
    return 0;
  if (JSON_NODE_HOLDS_OBJECT(root)) {
    JsonObject *o = json_node_get_object(root);
    AmFingerprint fp = {.struct_size = sizeof(AmFingerprint), .rpc_open = TRUE};
    fp.version_reply = o;
    fp.version = am_cgminer_section(o, "VERSION");
    fp.description = am_cgminer_description(o);
    (void)am_avalon_match(&fp);

    AmAvalonReplies r = {o, o, o, o};
    AmSample *s = am_avalon_parse(&r, NULL);
    if (s != NULL) {
      am_sample_finish(s);
      json_node_unref(am_sample_to_json(s));
      am_sample_unref(s);
    }
  }
  json_node_unref(root);
  return 0;
}
