/* libFuzzer harness: any bytes as one IP report datagram. A report that
 * parses must carry a usable address (or be Elphapex's, which has none)
 * and only well-formed text. Built by tests/fuzz/meson.build with
 * -Dfuzzing=true. */
#include "am-ipreport-parse.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *text, gsize size)
{
  g_assert_cmpuint(strnlen(text, size), <, size);
  for (const char *p = text; *p != '\0'; p++)
    g_assert_true(g_ascii_isprint(*p));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  AmIpreport r;
  GError *error = NULL;
  AmIpreportResult result = am_ipreport_parse(data, size, &r, &error);
  if (result == AM_IPREPORT_INVALID) {
    g_assert_nonnull(error);
    g_assert_true(g_utf8_validate(error->message, -1, NULL));
    g_error_free(error);
    return 0;
  }
  g_assert_null(error);
  if (result == AM_IPREPORT_IGNORED)
    return 0;
  char again[16];
  if (r.family != AM_IPREPORT_ELPHAPEX)
    g_assert_true(am_ipreport_parse_ipv4(r.ip, strlen(r.ip), again));
  g_assert_true(r.mac[0] == '\0' || strlen(r.mac) == 17);
  check_text(r.ip, sizeof r.ip);
  check_text(r.mac, sizeof r.mac);
  check_text(r.hostname, sizeof r.hostname);
  check_text(r.model, sizeof r.model);
  check_text(r.serial, sizeof r.serial);
  g_assert_cmpstr(am_ipreport_family_name(r.family), !=, "unknown");
  return 0;
}
