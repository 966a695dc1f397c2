/* libFuzzer harness: arbitrary bytes through the repairs, the parser and the
 * STATUS check, as they would arrive from a miner's socket. */
#include <antmon/antmon.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* The repair alone must always produce a NUL-terminated text of the length
   * it reports. */
  gsize fixed_len = 0;
  g_autofree char *fixed = am_rpc_repair((const char *)data, size, &fixed_len);
  g_assert(fixed != NULL && fixed[fixed_len] == '\0');

  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = am_rpc_parse((const char *)data, size, &error);
  if (root == NULL) {
    g_assert(error != NULL && error->domain == AM_ERROR);
    return 0;
  }
  g_assert(JSON_NODE_HOLDS_OBJECT(root));
  g_autoptr(GError) status_error = NULL;
  if (!am_rpc_check_status(json_node_get_object(root), &status_error))
    g_assert(g_error_matches(status_error, AM_ERROR, AM_ERROR_API));
  return 0;
}
