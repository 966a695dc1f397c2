/* Shared by the drivers' libFuzzer harnesses: any bytes through the RPC
 * repairs and parser, then (when they make a JSON object) through one
 * driver's match() and normalizer. */
#pragma once

#include <antmon/antmon.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Called with the parsed reply and a fingerprint built from it, the way the
 * core's selector builds one. */
typedef void (*AmDriverFuzzFunc)(JsonObject *reply, const AmFingerprint *fp);

/* Parses @size bytes of @data as a miner reply; calls @func when the
 * result is a JSON object. Frees everything. */
void am_driver_fuzz_reply(const uint8_t *data, size_t size, AmDriverFuzzFunc func);

/* Finishes, serialises and frees @sample (NULL is fine): what the core does
 * with every sample a driver returns. */
void am_driver_fuzz_consume(AmSample *sample);
