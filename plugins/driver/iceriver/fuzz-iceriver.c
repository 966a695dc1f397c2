/* libFuzzer harness: any bytes through the body reader the module applies
 * to the login and userpanel replies, then through the normalizer and
 * what the core does with the sample; the same bytes also serve as the
 * page title and body match() reads, and as the softver1, runtime and
 * rate strings. Built by tests/fuzz/meson.build with -Dfuzzing=true. */
#include "../common/am-driver-fuzz.h"
#include "am-iceriver-parse.h"

#include <stdint.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint),
                      .http_open = TRUE,
                      .http_status = 200,
                      .http_title = text};
  (void)am_iceriver_match(&fp);
  fp.http_title = NULL;
  fp.http_body = text;
  (void)am_iceriver_match(&fp);
  g_free(am_iceriver_model(text));
  gint64 seconds = 0;
  (void)am_iceriver_parse_runtime(text, &seconds);
  (void)am_iceriver_rate_ths(text, "G");

  (void)am_iceriver_check_login((const char *)data, size, NULL);
  JsonObject *panel =
      am_iceriver_parse_body(AM_ICERIVER_PANEL_PATH, (const char *)data, size, NULL);
  if (panel == NULL)
    return 0;
  am_driver_fuzz_consume(am_iceriver_parse(panel, NULL));
  /* The same object as data, so the section readers see fuzzed input even
   * when the bytes lack the {"data":...} wrapper. */
  g_autoptr(JsonObject) wrapped = json_object_new();
  json_object_set_object_member(wrapped, "data", json_object_ref(panel));
  am_driver_fuzz_consume(am_iceriver_parse(wrapped, NULL));
  json_object_unref(panel);
  return 0;
}
