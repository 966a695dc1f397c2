/* Helpers for the SQLite store's tests and benchmark. */
#include "am-sqlite-test-util.h"
#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

const AmPluginInfo *
am_store_test_info(void)
{
  return am_plugin_get_info();
}

void
am_store_fixture_init(AmStoreFixture *fx)
{
  *fx = (AmStoreFixture){0};
  fx->dir = g_dir_make_tmp("antmon-store-XXXXXX", NULL);
  g_assert_nonnull(fx->dir);
  fx->path = g_build_filename(fx->dir, "antmon.db", NULL);
  fx->ctx = am_context_new(fx->dir, "test.ini");
}

gboolean
am_store_fixture_open(AmStoreFixture *fx, const char *extra_ini, GError **error)
{
  g_autofree char *text = g_strdup_printf("[store:sqlite]\n%s", extra_ini != NULL ? extra_ini : "");
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, NULL));
  fx->self = am_store_test_info()->create(fx->ctx, kf, "store:sqlite", error);
  return fx->self != NULL;
}

void
am_store_fixture_close(AmStoreFixture *fx)
{
  if (fx->self != NULL)
    am_store_test_info()->destroy(fx->self);
  fx->self = NULL;
}

void
am_store_test_rmtree(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
      am_store_test_rmtree(path);
    else
      g_unlink(path);
  }
  g_rmdir(dir);
}

void
am_store_fixture_clear(AmStoreFixture *fx)
{
  am_store_fixture_close(fx);
  am_context_free(fx->ctx);
  if (fx->dir != NULL)
    am_store_test_rmtree(fx->dir);
  g_free(fx->dir);
  g_free(fx->path);
  *fx = (AmStoreFixture){0};
}

AmSample *
am_store_test_sample(const char *host, guint16 port, double when_s, double ths, double watts,
                     guint n_chains, guint n_pools)
{
  AmSample *s = am_sample_new();
  am_sample_set(s, &s->host, host);
  s->port = port;
  s->when_us = (gint64)llround(when_s * G_USEC_PER_SEC);
  am_sample_set(s, &s->driver, "antminer");
  am_sample_set(s, &s->model, "Antminer S19 Pro");
  am_sample_set(s, &s->firmware, "bmminer");
  am_sample_set(s, &s->mac, "02:00:00:00:00:01");
  am_sample_set(s, &s->algorithm, "sha256d");
  s->hashrate_avg_ths = ths;
  s->hashrate_ideal_ths = 110.0;
  s->power_w = watts;
  s->power_source = AM_POWER_SOURCE_REPORTED;
  s->elapsed_s = (gint64)when_s % 86400;
  s->accepted = 1000, s->rejected = 3, s->hw_errors = 12;
  for (guint i = 0; i < n_chains; i++) {
    AmChain *c = am_sample_add_chain(s, (gint)i + 1);
    c->hashrate_ths = isfinite(ths) ? ths / n_chains : NAN;
    c->chips = c->chips_expected = c->chips_ok = 76;
    c->chips_failed = 0;
    c->hw_errors = 4;
    c->temp_board_c = 60.0 + i;
    c->temp_chip_c = 75.0 + i;
    am_sample_add_temp(s, 60.0 + i);
    am_sample_add_chip_temp(s, 75.0 + i);
  }
  am_sample_add_fan(s, 5400);
  am_sample_add_fan(s, 5520);
  for (guint i = 0; i < n_pools; i++) {
    g_autofree char *url = g_strdup_printf("stratum+tcp://pool%u.example:3333", i);
    AmPool *p = am_sample_add_pool(s, url, "farm.worker1");
    am_sample_set(NULL, &p->status, "Alive");
    p->priority = (gint)i;
    p->active = i == 0;
    p->accepted = 500, p->rejected = 1, p->stale = 0;
  }
  am_sample_finish(s);
  /* finish() sums the chains when the firmware gave no total; make the
   * total exactly what the test asked for (NAN included). */
  s->hashrate_ths = ths;
  return s;
}

void
am_store_test_write(AmStoreFixture *fx, GPtrArray *samples, GPtrArray *events)
{
  g_autoptr(GError) error = NULL;
  const AmStoreVTable *vt = am_store_test_info()->vtable.store;
  gboolean ok =
      vt->write_batch(fx->self, samples != NULL ? (AmSample *const *)samples->pdata : NULL,
                      samples != NULL ? samples->len : 0,
                      events != NULL ? (const AmEvent *const *)events->pdata : NULL,
                      events != NULL ? events->len : 0, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
}

JsonObject *
am_store_test_query(AmStoreFixture *fx, GError **error, const char *query, ...)
{
  g_autoptr(GHashTable) params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  va_list args;
  va_start(args, query);
  const char *key;
  while ((key = va_arg(args, const char *)) != NULL) {
    const char *value = va_arg(args, const char *);
    g_hash_table_insert(params, g_strdup(key), g_strdup(value));
  }
  va_end(args);
  JsonNode *node = am_store_test_info()->vtable.store->query(fx->self, query, params, error);
  if (node == NULL)
    return NULL;
  g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
  JsonObject *obj = json_object_ref(json_node_get_object(node));
  json_node_unref(node);
  return obj;
}

AmEvent *
am_store_test_event(double when_s, const char *miner, const char *kind, const char *name,
                    const char *detail)
{
  const char *strings[] = {miner, kind, name, detail};
  gsize size = sizeof(AmEvent);
  for (gsize i = 0; i < G_N_ELEMENTS(strings); i++)
    size += strings[i] != NULL ? strlen(strings[i]) + 1 : 0;
  AmEvent *e = g_malloc0(size);
  char *p = (char *)(e + 1);
  const char **fields[] = {&e->miner_host, &e->kind, &e->name, &e->detail};
  for (gsize i = 0; i < G_N_ELEMENTS(strings); i++) {
    if (strings[i] == NULL)
      continue;
    strcpy(p, strings[i]);
    *fields[i] = p;
    p += strlen(strings[i]) + 1;
  }
  e->struct_size = sizeof(AmEvent);
  e->when_us = (gint64)llround(when_s * G_USEC_PER_SEC);
  return e;
}
