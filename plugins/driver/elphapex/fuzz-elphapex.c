/* libFuzzer harness: any bytes through the body reader the module applies
 * to every CGI reply, then through the elphapex normalizer (as stats alone,
 * as summary alone, and as every reply at once) and what the core does
 * with the sample; the same bytes also serve as the realm match() reads.
 * Built by tests/fuzz/meson.build with -Dfuzzing=true. */
#include "am-elphapex-parse.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse_and_finish(const AmElphapexReplies *replies)
{
  AmSample *sample = am_elphapex_parse(replies, NULL);
  if (sample == NULL)
    return;
  am_sample_finish(sample);
  json_node_unref(am_sample_to_json(sample));
  am_sample_unref(sample);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *realm = g_strndup((const char *)data, size);
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint),
                      .http_open = TRUE,
                      .http_status = 401,
                      .http_realm = realm};
  (void)am_elphapex_match(&fp);

  JsonObject *o = am_elphapex_parse_body(AM_ELPHAPEX_STATS, (const char *)data, size, NULL);
  if (o == NULL)
    return 0;
  AmElphapexReplies stats = {.reply[AM_ELPHAPEX_STATS] = o};
  AmElphapexReplies summary = {.reply[AM_ELPHAPEX_SUMMARY] = o};
  AmElphapexReplies all;
  for (guint i = 0; i < AM_ELPHAPEX_N_ENDPOINTS; i++)
    all.reply[i] = o;
  parse_and_finish(&stats);
  parse_and_finish(&summary);
  parse_and_finish(&all);
  json_object_unref(o);
  return 0;
}
