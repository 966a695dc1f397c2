/* libFuzzer harness: any bytes through the strict reader the module
 * applies to a web API body and through the RPC repairs and parser, then
 * (as every reply of a poll at once) through the normalizer, match() and
 * what the core does with the sample. Built by tests/fuzz/meson.build
 * with -Dfuzzing=true. */
#include "../common/am-driver-fuzz.h"
#include "am-auradine-parse.h"

#include <stdint.h>

/* The same object as every reply, RPC and web alike. */
static void
parse_as_everything(JsonObject *reply, const AmFingerprint *fp)
{
  (void)am_auradine_match(fp);
  (void)am_auradine_token(reply, NULL);
  AmAuradineReplies all = {reply, reply, reply, reply, reply, reply, reply,
                           reply, reply, reply, reply, reply, reply};
  am_driver_fuzz_consume(am_auradine_parse(&all, NULL));
  AmAuradineReplies web_only = {
      .ipreport = reply, .temperature = reply, .psu = reply, .mode = reply, .led = reply};
  am_driver_fuzz_consume(am_auradine_parse(&web_only, NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  AmFingerprint page = {.struct_size = sizeof(AmFingerprint),
                        .http_title = text,
                        .http_body = text,
                        .description = text};
  (void)am_auradine_match(&page);

  JsonObject *body = am_auradine_parse_body("fuzz", (const char *)data, size, NULL);
  if (body != NULL) {
    AmFingerprint fp = {.struct_size = sizeof(AmFingerprint), .rpc_open = TRUE};
    parse_as_everything(body, &fp);
    json_object_unref(body);
  }
  am_driver_fuzz_reply(data, size, parse_as_everything);
  return 0;
}
