/* Crash safety: a child process ingests batch after batch through the
 * plugin, printing "committed K" after each write_batch() returns; the test
 * kills it with SIGKILL at random points (almost always in the middle of a
 * transaction, since the child does nothing else), several times. The file
 * must pass PRAGMA integrity_check, every batch the child reported must be
 * there in full, and at most the one batch in flight per kill may be
 * missing from the reported count.
 *
 * The child is this program: test-store-sqlite-crash --ingest DIR FIRST. */
#include "am-sqlite-store.h"
#include "am-sqlite-test-util.h"
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#define T0 1714550400.0
#define MINERS 500
#define ROUNDS 6
/* Batch numbers of round r start here, so rounds never share a time (all
 * rounds fit in the default raw_retention, so nothing is pruned). */
#define ROUND_SPAN 1000

static double
batch_time(gint64 k)
{
  return T0 + 30.0 * (double)k;
}

/* ---- the child --------------------------------------------------------- */

static int
ingest(const char *dir, gint64 first)
{
  AmStoreFixture fx = {0};
  fx.dir = g_strdup(dir);
  fx.ctx = am_context_new(dir, "crash.ini");
  g_autoptr(GError) error = NULL;
  if (!am_store_fixture_open(&fx, NULL, &error)) {
    fprintf(stderr, "child: %s\n", error->message);
    return 1;
  }
  const AmStoreVTable *vt = am_store_test_info()->vtable.store;
  for (gint64 k = first; k < first + ROUND_SPAN; k++) {
    g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func((GDestroyNotify)am_sample_unref);
    for (guint m = 0; m < MINERS; m++) {
      g_autofree char *host = g_strdup_printf("10.2.%u.%u", m / 250, m % 250 + 1);
      g_ptr_array_add(batch, am_store_test_sample(host, 4028, batch_time(k), 100, 3250, 3, 2));
    }
    if (!vt->write_batch(fx.self, (AmSample *const *)batch->pdata, batch->len, NULL, 0, &error)) {
      fprintf(stderr, "child: %s\n", error->message);
      return 1;
    }
    printf("committed %" G_GINT64_FORMAT "\n", k);
    fflush(stdout);
  }
  return 0;
}

/* ---- the test ---------------------------------------------------------- */

static GSubprocess *
spawn_child(const char *self, const char *dir, gint64 first, GError **error)
{
  g_autofree char *first_text = g_strdup_printf("%" G_GINT64_FORMAT, first);
  const char *argv[] = {self, "--ingest", dir, first_text, NULL};
  return g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, error);
}

/* Reads one "committed K" line into @committed; FALSE at the end. */
static gboolean
read_commit(GDataInputStream *in, GArray *committed)
{
  g_autofree char *line = g_data_input_stream_read_line(in, NULL, NULL, NULL);
  if (line == NULL)
    return FALSE;
  gint64 k = 0;
  g_assert_cmpint(sscanf(line, "committed %" G_GINT64_FORMAT, &k), ==, 1);
  g_array_append_val(committed, k);
  return TRUE;
}

/* Reads @stop "committed" lines, kills the child, and reads what it printed
 * before it died. Returns every batch number it reported. */
static GArray *
run_round(GSubprocess *child, guint stop)
{
  GArray *committed = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GDataInputStream) in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(child));
  while (committed->len < stop)
    if (!read_commit(in, committed))
      g_error("the ingesting child ended early");
  /* Somewhere in the next batch: building it, inserting, committing,
   * rolling up or checkpointing. */
  g_usleep((gulong)g_test_rand_int_range(0, 30000));
  g_subprocess_force_exit(child); /* SIGKILL */
  g_autoptr(GError) error = NULL;
  g_subprocess_wait(child, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_if_signaled(child));
  g_assert_cmpint(g_subprocess_get_term_sig(child), ==, 9);
  while (read_commit(in, committed))
    ;
  return committed;
}

static gint64
count_int(sqlite3 *db, const char *sql, gint64 arg)
{
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64(st, 1, arg);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  gint64 n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static void
check_database(const char *path, GArray **rounds)
{
  sqlite3 *db = NULL;
  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  g_assert_cmpstr((const char *)sqlite3_column_text(st, 0), ==, "ok");
  sqlite3_finalize(st);

  for (guint r = 0; r < ROUNDS; r++) {
    GArray *committed = rounds[r];
    for (guint i = 0; i < committed->len; i++) {
      gint64 t_ms = (gint64)(batch_time(g_array_index(committed, gint64, i)) * 1000);
      g_assert_cmpint(count_int(db, "SELECT count(*) FROM samples WHERE t = ?1", t_ms), ==, MINERS);
      /* Each sample's detail decodes, its 3 chains included (a few miners
       * per batch: decoding follows delta frames back to a key frame). */
      for (gint64 miner = 1; miner <= MINERS; miner += MINERS / 4) {
        g_autoptr(AmSample) s = am_sample_new();
        g_autoptr(GError) error = NULL;
        g_assert_true(am_sqlite_read_detail(db, miner, t_ms, s, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(s->chains->len, ==, 3);
      }
    }
    /* Whole batches only, and at most the one in flight beyond those
     * reported (it may have committed just before the kill). */
    gint64 lo = (gint64)(batch_time((gint64)r * ROUND_SPAN) * 1000);
    gint64 rows = count_int(db, "SELECT count(*) FROM samples WHERE t >= ?1", lo) -
                  count_int(db, "SELECT count(*) FROM samples WHERE t >= ?1",
                            (gint64)(batch_time((gint64)(r + 1) * ROUND_SPAN) * 1000));
    g_assert_cmpint(rows % MINERS, ==, 0);
    g_assert_cmpint(rows / MINERS, >=, committed->len);
    g_assert_cmpint(rows / MINERS, <=, committed->len + 1);
    g_test_message("round %u: %u commits reported, %" G_GINT64_FORMAT " batches stored", r,
                   committed->len, rows / MINERS);
  }
  sqlite3_close(db);
}

static void
test_kill_during_ingest(gconstpointer data)
{
  const char *self = data;
  AmStoreFixture fx;
  am_store_fixture_init(&fx);
  GArray *rounds[ROUNDS];
  for (guint r = 0; r < ROUNDS; r++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) child = spawn_child(self, fx.dir, (gint64)r * ROUND_SPAN, &error);
    g_assert_no_error(error);
    guint stop = (guint)g_test_rand_int_range(2, 25);
    rounds[r] = run_round(child, stop);
  }
  check_database(fx.path, rounds);

  /* And antmon starts on it again and answers. */
  g_autoptr(GError) error = NULL;
  g_assert_true(am_store_fixture_open(&fx, NULL, &error));
  g_autoptr(JsonObject) latest = am_store_test_query(&fx, &error, "latest", NULL);
  g_assert_no_error(error);
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(latest, "rows")), ==, MINERS);
  for (guint r = 0; r < ROUNDS; r++)
    g_array_unref(rounds[r]);
  am_store_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
  if (argc == 4 && g_str_equal(argv[1], "--ingest"))
    return ingest(argv[2], g_ascii_strtoll(argv[3], NULL, 10));
  g_test_init(&argc, &argv, NULL);
  g_autofree char *self = g_canonicalize_filename(argv[0], NULL);
  g_test_add_data_func("/store/sqlite/crash/kill-during-ingest", self, test_kill_during_ingest);
  return g_test_run();
}
