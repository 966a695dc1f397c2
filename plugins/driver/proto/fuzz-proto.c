/* libFuzzer harness: any bytes through the strict JSON reader the module
 * applies to each Proto reply and to the login reply, then through the
 * normalizer (as every reply at once, and as each reply alone) and what
 * the core does with the sample; the same bytes also serve as the page
 * match() reads. Built by tests/fuzz/meson.build with -Dfuzzing=true. */
#include "../common/am-driver-fuzz.h"
#include "am-proto-parse.h"

#include <stdint.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *page = g_strndup((const char *)data, size);
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint),
                      .http_open = TRUE,
                      .http_status = 200,
                      .http_title = page,
                      .http_body = page};
  (void)am_proto_match(&fp);
  g_free(am_proto_parse_login((const char *)data, size, NULL));

  AmProtoReplies all = {0};
  for (guint i = 0; i < AM_PROTO_N_ENDPOINTS; i++) {
    all.replies[i] = am_proto_parse_body(i, (const char *)data, size, NULL);
    if (all.replies[i] == NULL)
      continue;
    AmProtoReplies alone = {0};
    alone.replies[i] = all.replies[i];
    am_driver_fuzz_consume(am_proto_parse(&alone, NULL));
  }
  am_driver_fuzz_consume(am_proto_parse(&all, NULL));
  for (guint i = 0; i < AM_PROTO_N_ENDPOINTS; i++)
    if (all.replies[i] != NULL)
      json_node_unref(all.replies[i]);
  return 0;
}
