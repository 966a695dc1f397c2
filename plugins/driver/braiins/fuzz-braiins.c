/* libFuzzer harness: any bytes through the RPC repairs and parser, then
 * through the braiins RPC normalizer and match() as every reply at once;
 * the same bytes through the REST reader, login reader and normalizer as
 * every endpoint's body, and as the web page match() reads; and through
 * the GraphQL login reader, answer reader and normalizer as every query's
 * answer, and as LuCI's network answer; and through the GraphQL mutation
 * answer reader and the REST actions/locate body (a bare boolean). */
#include "../common/am-driver-fuzz.h"
#include "am-braiins-action.h"
#include "am-braiins-graphql-parse.h"
#include "am-braiins-parse.h"
#include "am-braiins-rest-parse.h"

static void
fuzz_braiins(JsonObject *o, const AmFingerprint *fp)
{
  (void)am_braiins_match(fp);
  AmBraiinsReplies replies = {o, o, o, o, o, o};
  am_driver_fuzz_consume(am_braiins_parse(&replies, NULL));
}

static void
fuzz_rest(const uint8_t *data, size_t size)
{
  g_autofree char *page = g_strndup((const char *)data, size);
  AmFingerprint fp = {.struct_size = sizeof(AmFingerprint),
                      .http_open = TRUE,
                      .http_status = 200,
                      .http_title = page,
                      .http_body = page};
  (void)am_braiins_match(&fp);

  char *token = NULL;
  gint64 timeout_s = 0;
  if (am_braiins_rest_parse_login((const char *)data, size, &token, &timeout_s, NULL))
    g_free(token);

  /* The one endpoint that may answer a bare value. */
  JsonNode *locate = am_braiins_rest_parse_body(am_braiins_rest_path(AM_BRAIINS_REST_LOCATE),
                                                (const char *)data, size, NULL);
  if (locate != NULL) {
    AmBraiinsRestReplies only = {.replies[AM_BRAIINS_REST_LOCATE] = locate};
    am_driver_fuzz_consume(am_braiins_rest_parse(&only, NULL));
    json_node_unref(locate);
  }

  JsonNode *root = am_braiins_rest_parse_body("/fuzz", (const char *)data, size, NULL);
  if (root == NULL)
    return;
  AmBraiinsRestReplies replies;
  for (guint i = 0; i < AM_BRAIINS_REST_N_ENDPOINTS; i++)
    replies.replies[i] = root;
  am_driver_fuzz_consume(am_braiins_rest_parse(&replies, NULL));
  json_node_unref(root);
}

static void
fuzz_graphql(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  gboolean refused = FALSE;
  (void)am_braiins_gql_parse_login(text, size, &refused, NULL);
  (void)am_braiins_gql_parse_mutation(text, size, NULL);
  g_free(am_braiins_gql_parse_lan_mac(text, size));

  JsonNode *root = am_braiins_gql_parse_body("fuzz", text, size, NULL);
  if (root == NULL)
    return;
  (void)am_braiins_gql_knows_board_serials(root);
  AmBraiinsGqlReplies replies;
  for (guint i = 0; i < AM_BRAIINS_GQL_N_QUERIES; i++)
    replies.replies[i] = root;
  am_driver_fuzz_consume(am_braiins_gql_parse(&replies, NULL));
  json_node_unref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  am_driver_fuzz_reply(data, size, fuzz_braiins);
  fuzz_rest(data, size);
  fuzz_graphql(data, size);
  return 0;
}
