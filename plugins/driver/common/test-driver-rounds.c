/* Fewer round trips (am-driver-learn.c, am-driver-poll.c) through the
 * Antminer module against an in-process cgminer server on 127.0.0.1 that
 * serves the fake fleet's S19 Pro replies and counts connections:
 *  - joined commands answered: one connection per poll, "version" once;
 *  - joined refused (missing a member, closed on): the commands one by one, and
 *    from then on no joined command is tried on that miner;
 *  - a firmware change: joined commands are tried again;
 *  - uptime going backwards (a restart): "version" is asked again, and the
 *    sample already shows the new one. */
#include "am-driver-test-util.h"
#include "am-plugin-loader.h"
#include "am-test-fleet.h"
#include "am-test-util.h"

#include <string.h>

typedef enum {
  JOINED_ANSWER,  /* as cgminer: {"stats":[<reply>],"pools":[<reply>],"id":1} */
  JOINED_REFUSE,  /* "Invalid command" for the whole */
  JOINED_PARTIAL, /* the last command's member missing */
  JOINED_CLOSE,   /* the connection closed without a word */
} JoinedMode;

/* What the server answers; changed by the tests between polls (the server
 * thread reads it under the AmTestRpc lock, polls run one at a time). */
typedef struct {
  GHashTable *files; /* command -> the S19 Pro profile's text */
  JoinedMode joined;
  char *elapsed;     /* replaces the recorded uptime 82852 */
  char *description; /* replaces "cgminer 1.0.0" in every reply */
  char *build;       /* replaces the version reply's CompileTime */
} Miner;

#define RECORDED_BUILD "Wed Oct 21 10:18:10 CST 2020"

static const char invalid_command[] =
    "{\"STATUS\":[{\"STATUS\":\"E\",\"When\":1,\"Code\":14,\"Msg\":\"Invalid command\","
    "\"Description\":\"cgminer 1.0.0\"}],\"id\":1}";

static char *
replace(const char *text, const char *from, const char *to)
{
  g_auto(GStrv) parts = g_strsplit(text, from, -1);
  return g_strjoinv(to, parts);
}

/* @command's reply as this miner sends it now, or NULL when unknown. */
static char *
single_reply(Miner *m, const char *command)
{
  const char *file = g_hash_table_lookup(m->files, command);
  if (file == NULL)
    return NULL;
  g_autofree char *a = replace(file, "82852", m->elapsed);
  g_autofree char *b = replace(a, "cgminer 1.0.0", m->description);
  return strcmp(command, "version") == 0 ? replace(b, RECORDED_BUILD, m->build)
                                         : g_steal_pointer(&b);
}

static char *
joined_reply(Miner *m, const char *joined)
{
  g_auto(GStrv) commands = g_strsplit(joined, "+", -1);
  guint n = g_strv_length(commands) - (m->joined == JOINED_PARTIAL ? 1 : 0);
  GString *out = g_string_new("{");
  for (guint i = 0; i < n; i++) {
    g_autofree char *reply = single_reply(m, commands[i]);
    g_string_append_printf(out, "\"%s\":[%s],", commands[i], reply ? reply : invalid_command);
  }
  g_string_append(out, "\"id\":1}");
  return g_string_free(out, FALSE);
}

static GBytes *
answer(gpointer user_data, JsonObject *request)
{
  Miner *m = user_data;
  const char *command = request != NULL ? am_json_string(request, "command") : NULL;
  if (command == NULL)
    return NULL;
  g_autofree char *text = NULL;
  if (strchr(command, '+') == NULL)
    text = single_reply(m, command);
  else if (m->joined == JOINED_CLOSE)
    return NULL;
  else if (m->joined != JOINED_REFUSE)
    text = joined_reply(m, command);
  return am_test_rpc_text(text != NULL ? text : invalid_command, TRUE);
}

static void
miner_init(Miner *m, JoinedMode joined)
{
  g_autofree char *dir = am_test_profile_dir("antminer-s19pro");
  m->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  const char *commands[] = {"version", "stats", "pools", "summary"};
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
    g_autofree char *name = g_strconcat(commands[i], ".json", NULL);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_hash_table_replace(m->files, g_strdup(commands[i]), g_strchomp(text));
  }
  m->joined = joined;
  m->elapsed = g_strdup("82852");
  m->description = g_strdup("cgminer 1.0.0");
  m->build = g_strdup(RECORDED_BUILD);
}

static void
miner_clear(Miner *m)
{
  g_hash_table_unref(m->files);
  g_free(m->elapsed);
  g_free(m->description);
  g_free(m->build);
}

static void
set(char **field, const char *value)
{
  g_free(*field);
  *field = g_strdup(value);
}

/* ---- the Antminer module ------------------------------------------------- */

typedef struct {
  AmLoadedPlugin *plugin;
  gpointer self;
  AmTestRpc rpc;
  Miner miner_state;
  AmMiner *miner;
  guint seen; /* requests already returned by asked() */
} Fixture;

static void
fixture_start(Fixture *f, JoinedMode joined)
{
  g_autofree char *path =
      g_build_filename(g_getenv("ANTMON_PLUGIN_DIR"), "driver-antminer.so", NULL);
  g_autoptr(GError) error = NULL;
  f->plugin = am_plugin_load_file(path, &error);
  g_assert_no_error(error);
  f->self = f->plugin->info->create(NULL, NULL, "driver:antminer", &error);
  g_assert_no_error(error);
  miner_init(&f->miner_state, joined);
  am_test_rpc_start(&f->rpc, answer, &f->miner_state);
  f->miner = am_test_local_miner(f->rpc.port);
  f->seen = 0;
}

static void
fixture_stop(Fixture *f)
{
  am_miner_unref(f->miner);
  am_test_rpc_stop(&f->rpc);
  miner_clear(&f->miner_state);
  f->plugin->info->destroy(f->self);
  am_loaded_plugin_free(f->plugin);
}

static void
on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  (void)source;
  *(GAsyncResult **)user_data = g_object_ref(result);
}

/* One poll; it must give a whole sample. */
static AmSample *
poll_once(Fixture *f)
{
  const AmDriverVTable *v = f->plugin->info->vtable.driver;
  GAsyncResult *result = NULL;
  v->poll_async(f->self, f->miner, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration(NULL, TRUE);
  g_autoptr(GError) error = NULL;
  AmSample *sample = v->poll_finish(f->self, result, &error);
  g_object_unref(result);
  g_assert_no_error(error);
  g_assert_false(sample->partial);
  return sample;
}

/* The commands asked since the last call, one connection each, as
 * "a+b;c" (the parameters left out). */
static char *
asked(Fixture *f)
{
  g_autofree char *all = am_test_rpc_received(&f->rpc);
  g_auto(GStrv) requests = g_strsplit(all, ";", -1);
  GString *out = g_string_new(NULL);
  guint n = all[0] != '\0' ? g_strv_length(requests) : 0;
  for (guint i = f->seen; i < n; i++) {
    char *bar = strchr(requests[i], '|');
    if (bar != NULL)
      *bar = '\0';
    g_string_append_printf(out, "%s%s", out->len > 0 ? ";" : "", requests[i]);
  }
  f->seen = n;
  return g_string_free(out, FALSE);
}

static void
assert_asked(Fixture *f, const char *expected)
{
  g_autofree char *got = asked(f);
  g_assert_cmpstr(got, ==, expected);
}

/* The sample has what all four replies give: the version's model and
 * build, the stats' boards, the summary's uptime, the pools. */
static void
assert_whole(AmSample *s, const char *build, gint64 elapsed)
{
  g_assert_cmpstr(s->model, ==, "Antminer S19 Pro");
  g_assert_cmpstr(s->firmware_version, ==, build);
  g_assert_cmpint(s->elapsed_s, ==, elapsed);
  g_assert_cmpuint(s->pools->len, >, 0);
  g_assert_cmpuint(s->chains->len, ==, 3);
}

/* ---- the tests --------------------------------------------------------- */

static void
test_joined_answered(void)
{
  Fixture f;
  fixture_start(&f, JOINED_ANSWER);
  g_autoptr(AmSample) first = poll_once(&f);
  assert_asked(&f, "version+stats+pools+summary");
  assert_whole(first, RECORDED_BUILD, 82852);
  set(&f.miner_state.elapsed, "82900");
  g_autoptr(AmSample) second = poll_once(&f);
  assert_asked(&f, "stats+pools+summary"); /* the version kept */
  assert_whole(second, RECORDED_BUILD, 82900);

  /* The raw view still shows each command on its own (looking at it once
   * keeps the next polls' replies). */
  g_autoptr(JsonNode) before = am_miner_raw_to_json(f.miner);
  g_autoptr(AmSample) third = poll_once(&f);
  g_autoptr(JsonNode) raw = am_miner_raw_to_json(f.miner);
  JsonObject *views = json_node_get_object(raw);
  g_assert_true(json_object_has_member(views, "stats"));
  g_assert_true(json_object_has_member(views, "summary"));
  g_assert_false(json_object_has_member(views, "stats+pools+summary"));
  /* The kept version too, though not asked again. */
  const char *version = am_json_string(json_object_get_object_member(views, "version"), "text");
  g_assert_nonnull(strstr(version, "Antminer S19 Pro"));
  const char *text = am_json_string(json_object_get_object_member(views, "summary"), "text");
  g_assert_nonnull(strstr(text, "\"SUMMARY\""));
  fixture_stop(&f);
}

static void
check_fallback(JoinedMode mode)
{
  Fixture f;
  fixture_start(&f, mode);
  g_autoptr(AmSample) first = poll_once(&f);
  assert_asked(&f, "version+stats+pools+summary;version;stats;pools;summary");
  assert_whole(first, RECORDED_BUILD, 82852);
  g_autoptr(AmSample) second = poll_once(&f);
  assert_asked(&f, "stats;pools;summary"); /* remembered: no joined try */
  assert_whole(second, RECORDED_BUILD, 82852);
  fixture_stop(&f);
}

static void
test_joined_refused(void)
{
  check_fallback(JOINED_REFUSE);
}

static void
test_joined_closed(void)
{
  check_fallback(JOINED_CLOSE);
}

static void
test_joined_lacks_member(void)
{
  check_fallback(JOINED_PARTIAL);
}

/* A firmware upgrade on a miner that refused joined commands: the change is
 * seen in what the firmware says of itself, "version" is read again at
 * once, and the next poll tries joined commands (which the new one takes). */
static void
test_firmware_change_tries_joined(void)
{
  Fixture f;
  fixture_start(&f, JOINED_REFUSE);
  g_autoptr(AmSample) first = poll_once(&f);
  g_autoptr(AmSample) second = poll_once(&f);
  assert_asked(&f, "version+stats+pools+summary;version;stats;pools;summary;stats;pools;summary");

  set(&f.miner_state.description, "cgminer 2.0.0");
  set(&f.miner_state.build, "Mon Mar 4 2024");
  f.miner_state.joined = JOINED_ANSWER;
  g_autoptr(AmSample) third = poll_once(&f);
  assert_asked(&f, "stats;pools;summary;version");
  assert_whole(third, "Mon Mar 4 2024", 82852);
  g_autoptr(AmSample) fourth = poll_once(&f);
  assert_asked(&f, "stats+pools+summary");
  assert_whole(fourth, "Mon Mar 4 2024", 82852);
  fixture_stop(&f);
}

/* Uptime going backwards is a restart: "version" is asked again in the same
 * poll, so the sample names what runs now, and kept again after. */
static void
test_restart_asks_version(void)
{
  Fixture f;
  fixture_start(&f, JOINED_ANSWER);
  g_autoptr(AmSample) first = poll_once(&f);
  set(&f.miner_state.elapsed, "83000");
  g_autoptr(AmSample) second = poll_once(&f);
  assert_asked(&f, "version+stats+pools+summary;stats+pools+summary");

  set(&f.miner_state.elapsed, "120");
  set(&f.miner_state.build, "Tue Jan 2 2024");
  g_autoptr(AmSample) third = poll_once(&f);
  assert_asked(&f, "stats+pools+summary;version");
  assert_whole(third, "Tue Jan 2 2024", 120);
  set(&f.miner_state.elapsed, "150");
  g_autoptr(AmSample) fourth = poll_once(&f);
  assert_asked(&f, "stats+pools+summary");
  assert_whole(fourth, "Tue Jan 2 2024", 150);
  fixture_stop(&f);
}

/* The miner's "rpc.rounds" note set to "single" (the benchmark's reference):
 * every command on its own connection, "version" on every poll. */
static void
test_single_rounds(void)
{
  Fixture f;
  fixture_start(&f, JOINED_ANSWER);
  am_miner_set_note(f.miner, "rpc.rounds", "single");
  g_autoptr(AmSample) first = poll_once(&f);
  g_autoptr(AmSample) second = poll_once(&f);
  assert_asked(&f, "version;stats;pools;summary;version;stats;pools;summary");
  assert_whole(second, RECORDED_BUILD, 82852);
  fixture_stop(&f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/driver-rounds/joined-answered", test_joined_answered);
  g_test_add_func("/driver-rounds/joined-refused", test_joined_refused);
  g_test_add_func("/driver-rounds/joined-lacks-member", test_joined_lacks_member);
  g_test_add_func("/driver-rounds/joined-closed", test_joined_closed);
  g_test_add_func("/driver-rounds/firmware-change-tries-joined", test_firmware_change_tries_joined);
  g_test_add_func("/driver-rounds/restart-asks-version", test_restart_asks_version);
  g_test_add_func("/driver-rounds/single-rounds", test_single_rounds);
  return g_test_run();
}
