/* libFuzzer harness: any bytes through the strict JSON reader the module
 * applies to an AxeOS body, then through the normalizer (as
 * /api/system/info alone, and as both info and /api/system/asic) and
 * what the core does with the sample; the same bytes also serve as the
 * page title match() reads. Built by tests/fuzz/meson.build with
 * -Dfuzzing=true. */
#include "../common/am-driver-fuzz.h"
#include "am-axeos-parse.h"

#include <stdint.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *title = g_strndup((const char *)data, size);
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint),
                      .http_open = TRUE,
                      .http_status = 200,
                      .http_title = title};
  (void)am_axeos_match(&fp);

  JsonObject *info = am_axeos_parse_body(AM_AXEOS_INFO_PATH, (const char *)data, size, NULL);
  if (info == NULL)
    return 0;
  (void)am_axeos_wants_asic(info);
  AmAxeosReplies alone = {.info = info};
  AmAxeosReplies both = {.info = info, .asic = info};
  am_driver_fuzz_consume(am_axeos_parse(&alone, NULL));
  am_driver_fuzz_consume(am_axeos_parse(&both, NULL));
  json_object_unref(info);
  return 0;
}
