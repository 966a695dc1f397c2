/* libFuzzer harness: any bytes through the RPC repairs and parser (as the
 * core reads cgminer replies), then through match() on a fingerprint made
 * from them and through the normalizer as each RPC reply, as /mcb/status,
 * and as all at once; the raw bytes also go through the login and status
 * body readers and serve as the page text match() reads. Built by
 * tests/fuzz/meson.build with -Dfuzzing=true. */
#include "../common/am-driver-fuzz.h"
#include "am-goldshell-parse.h"

#include <stdint.h>

static void
fuzz_reply(JsonObject *reply, const AmFingerprint *fp)
{
  (void)am_goldshell_match(fp);
  AmGoldshellReplies each[] = {{.summary = reply},
                               {.devs = reply},
                               {.devdetails = reply},
                               {.pools = reply},
                               {.status = reply}};
  for (guint i = 0; i < G_N_ELEMENTS(each); i++)
    am_driver_fuzz_consume(am_goldshell_parse(&each[i], NULL));
  AmGoldshellReplies all = {reply, reply, reply, reply, reply};
  am_driver_fuzz_consume(am_goldshell_parse(&all, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint),
                      .http_open = TRUE,
                      .http_status = 200,
                      .http_title = text,
                      .http_body = text};
  (void)am_goldshell_match(&fp);
  g_free(am_goldshell_model(text));
  g_free(am_goldshell_token((const char *)data, size, NULL));
  JsonObject *status =
      am_goldshell_parse_body(AM_GOLDSHELL_STATUS_PATH, (const char *)data, size, NULL);
  if (status != NULL) {
    AmGoldshellReplies replies = {.status = status};
    am_driver_fuzz_consume(am_goldshell_parse(&replies, NULL));
    json_object_unref(status);
  }
  am_driver_fuzz_reply(data, size, fuzz_reply);
  return 0;
}
