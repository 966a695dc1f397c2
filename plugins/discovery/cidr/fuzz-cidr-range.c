/* libFuzzer harness for the ranges=/exclude= parser: any bytes, split at the
 * first NUL into ranges and exclude, must parse or fail cleanly, and a set
 * that parses must be consistent (every nth host is in it). */
#include "am-cidr-range.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
  if (size > 4096)
    return 0;
  g_autofree char *text = g_strndup((const char *)data, size);
  const char *exclude = NULL;
  if (strlen(text) < size)
    exclude = (const char *)data + strlen(text) + 1;
  g_autofree char *exclude_copy =
      exclude != NULL ? g_strndup(exclude, size - (gsize)(exclude - (const char *)data)) : NULL;
  GError *error = NULL;
  AmRangeSet *set = am_range_set_parse(text, exclude_copy, 65536, &error);
  if (set == NULL) {
    g_assert(error != NULL && error->message[0] != '\0');
    g_error_free(error);
    return 0;
  }
  g_assert(set->n_hosts <= 65536);
  char buf[64];
  for (guint64 i = 0; i < set->n_hosts; i += 1 + set->n_hosts / 16)
    g_assert(am_range_set_contains(set, am_range_set_nth(set, i, buf, sizeof buf)));
  g_free(am_range_set_to_string(set));
  am_range_set_free(set);
  return 0;
}
