/* `antmon export`, run as a user runs it, on a database this test wrote
 * through the real store-sqlite.so. */
#include "am-context-private.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <string.h>

#define T0 1714550400 /* 2024-05-01T08:00:00Z */

typedef struct {
  char *dir;
  char *ini;
} Fixture;

static AmSample *
make_sample(const char *host, gint64 when_s, double ths)
{
  AmSample *s = am_sample_new();
  am_sample_set(s, &s->host, host);
  s->port = 4028;
  s->when_us = when_s * G_USEC_PER_SEC;
  am_sample_set(s, &s->driver, "antminer");
  am_sample_set(s, &s->model, "Antminer S9");
  s->hashrate_ths = ths;
  s->power_w = 1350;
  s->elapsed_s = when_s - T0 + 600;
  am_sample_add_temp(s, 61.0);
  am_sample_add_fan(s, 4800);
  AmChain *c = am_sample_add_chain(s, 6);
  c->hashrate_ths = ths;
  am_sample_finish(s);
  return s;
}

/* A hydro miner that reports the fields of plugin ABI 1.2: asleep, a work
 * mode that needs CSV quoting, one error and two notices; @partial for a
 * poll that lost a reply. */
static AmSample *
make_hydro_sample(gint64 when_s, gboolean partial)
{
  AmSample *s = make_sample("10.0.0.3", when_s, 100);
  s->mining = AM_MINING_SLEEPING;
  am_sample_set(s, &s->work_mode, "eco, \"quiet\"");
  s->power_limit_w = 5500;
  s->water_temp_in_c = 38.5;
  s->water_temp_out_c = 46;
  s->psu_power_in_w = 5600;
  s->psu_power_out_w = 5400;
  s->psu_fan_rpm = 3000;
  s->best_share = 123456789;
  s->found_blocks = 2;
  s->partial = partial;
  am_sample_add_error(s, "110", "fan lost", "fan", AM_ERROR_SEVERITY_ERROR);
  am_sample_add_error(s, "5", "tuning", NULL, AM_ERROR_SEVERITY_INFO);
  am_sample_add_error(s, "6", "tuned", NULL, AM_ERROR_SEVERITY_INFO);
  AmChain *c = &g_array_index(s->chains, AmChain, 0);
  c->voltage_v = 13.2;
  c->frequency_mhz = 610;
  return s;
}

/* Writes 10.0.0.1 and 10.0.0.2, one sample each every 30 s for 10 minutes
 * (20 each), and two samples of 10.0.0.3 (the second partial), with the
 * store plugin itself. */
static void
write_history(const char *dir)
{
  g_autofree char *so = g_build_filename(g_getenv("ANTMON_PLUGIN_DIR"), "store-sqlite.so", NULL);
  g_autoptr(GError) error = NULL;
  AmLoadedPlugin *plugin = am_plugin_load_file(so, &error);
  g_assert_no_error(error);
  g_autoptr(AmContext) ctx = am_context_new(dir, "export.ini");
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_key_file_set_string(kf, "store:sqlite", "path", "history.db");
  gpointer self = plugin->info->create(ctx, kf, "store:sqlite", &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func((GDestroyNotify)am_sample_unref);
  for (gint64 i = 0; i < 20; i++) {
    g_ptr_array_add(batch, make_sample("10.0.0.1", T0 + 30 * i, 13.0 + i * 0.1));
    g_ptr_array_add(batch, make_sample("10.0.0.2", T0 + 30 * i + 1, 14.0));
  }
  g_ptr_array_add(batch, make_hydro_sample(T0 + 5, FALSE));
  g_ptr_array_add(batch, make_hydro_sample(T0 + 35, TRUE));
  g_assert_true(plugin->info->vtable.store->write_batch(self, (AmSample *const *)batch->pdata,
                                                        batch->len, NULL, 0, &error));
  g_assert_no_error(error);
  plugin->info->destroy(self);
  am_loaded_plugin_free(plugin);
}

static void
setup(Fixture *f, gconstpointer data)
{
  (void)data;
  f->dir = g_dir_make_tmp("antmon-export-XXXXXX", NULL);
  f->ini = g_build_filename(f->dir, "antmon.ini", NULL);
  g_autofree char *text =
      g_strdup_printf("[core]\nstate_dir=%s\n[store:sqlite]\npath=history.db\n", f->dir);
  g_assert_true(g_file_set_contents(f->ini, text, -1, NULL));
  write_history(f->dir);
}

static void
teardown(Fixture *f, gconstpointer data)
{
  (void)data;
  const char *names[] = {"history.db", "history.db-wal", "history.db-shm", "antmon.ini",
                         "other.ini"};
  for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *path = g_build_filename(f->dir, names[i], NULL);
    g_unlink(path);
  }
  g_rmdir(f->dir);
  g_free(f->dir);
  g_free(f->ini);
}

typedef struct {
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear(Run *r)
{
  g_free(r->out);
  g_free(r->err);
}

/* Runs `antmon export -c INI ARGS...`. */
static Run run_export(Fixture *f, ...) G_GNUC_NULL_TERMINATED;

static Run
run_export(Fixture *f, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("ANTMON_BIN"));
  g_ptr_array_add(argv, "export");
  g_ptr_array_add(argv, "-c");
  g_ptr_array_add(argv, f->ini);
  va_list args;
  va_start(args, f);
  for (const char *a = va_arg(args, const char *); a != NULL; a = va_arg(args, const char *))
    g_ptr_array_add(argv, (gpointer)a);
  va_end(args);
  g_ptr_array_add(argv, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc =
      g_subprocess_newv((const char *const *)argv->pdata,
                        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error(error);
  Run r = {0};
  g_subprocess_communicate_utf8(proc, NULL, NULL, &r.out, &r.err, &error);
  g_assert_no_error(error);
  r.status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
  return r;
}

static char **
lines_of(const char *text)
{
  g_autofree char *trimmed = g_strstrip(g_strdup(text));
  return g_strsplit(trimmed, "\n", -1);
}

static void
test_csv(Fixture *f, gconstpointer data)
{
  (void)data;
  Run r = run_export(f, NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_auto(GStrv) lines = lines_of(r.out);
  g_assert_cmpuint(g_strv_length(lines), ==, 43);
  g_assert_cmpstr(lines[0], ==,
                  "time,epoch,miner,hashrate_ths,power_w,temp_max_c,avg_temp_c,avg_fan_rpm,"
                  "elapsed_s,mining,work_mode,power_limit_w,water_temp_in_c,water_temp_out_c,"
                  "psu_power_in_w,psu_power_out_w,psu_fan_rpm,chain_voltage_v,chain_frequency_mhz,"
                  "best_share,found_blocks,partial,errors_error,errors_warning,errors_info,"
                  "errors_unknown");
  /* A miner that reports none of the new fields: empty, and a whole poll. */
  g_assert_cmpstr(lines[1], ==,
                  "2024-05-01T08:00:00.000Z,1714550400.000,10.0.0.1:4028,13,1350,61,61,4800,600,"
                  ",,,,,,,,,,,,false,,,,");
  g_assert_cmpstr(lines[2], ==,
                  "2024-05-01T08:00:30.000Z,1714550430.000,10.0.0.1:4028,13.1,1350,61,61,4800,630,"
                  ",,,,,,,,,,,,false,,,,");
  g_assert_cmpstr(lines[41], ==,
                  "2024-05-01T08:00:05.000Z,1714550405.000,10.0.0.3:4028,100,1350,61,61,4800,605,"
                  "sleeping,\"eco, \"\"quiet\"\"\",5500,38.5,46,5600,5400,3000,13.2,610,"
                  "123456789,2,false,1,0,2,0");
  g_assert_true(g_str_has_suffix(lines[42], ",123456789,2,true,1,0,2,0"));
  g_assert_true(
      g_str_has_prefix(lines[21], "2024-05-01T08:00:01.000Z,1714550401.000,10.0.0.2:4028,14,"));
  run_clear(&r);
}

static void
test_json(Fixture *f, gconstpointer data)
{
  (void)data;
  Run r = run_export(f, "--format", "json", "--miner", "10.0.0.2", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(json_parser_load_from_data(parser, r.out, -1, &error));
  JsonArray *rows = json_node_get_array(json_parser_get_root(parser));
  g_assert_cmpuint(json_array_get_length(rows), ==, 20);
  JsonObject *first = json_array_get_object_element(rows, 0);
  g_assert_cmpstr(json_object_get_string_member(first, "time"), ==, "2024-05-01T08:00:01.000Z");
  g_assert_cmpfloat(json_object_get_double_member(first, "epoch"), ==, T0 + 1);
  g_assert_cmpstr(json_object_get_string_member(first, "miner"), ==, "10.0.0.2:4028");
  g_assert_cmpfloat(json_object_get_double_member(first, "hashrate_ths"), ==, 14.0);
  g_assert_cmpint(json_object_get_int_member(first, "elapsed_s"), ==, 601);
  g_assert_true(json_object_get_null_member(first, "power_limit_w"));
  g_assert_true(json_object_get_null_member(first, "mining"));
  g_assert_false(json_object_get_boolean_member(first, "partial"));
  run_clear(&r);
}

/* --since/--until in either form, and --step for per-minute averages. */
static void
test_range_and_step(Fixture *f, gconstpointer data)
{
  (void)data;
  Run r = run_export(f, "--miner", "10.0.0.1:4028", "--since", "2024-05-01T08:02:00Z", "--until",
                     "1714550640", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_auto(GStrv) lines = lines_of(r.out);
  /* 08:02:00 to 08:04:00, until exclusive: 4 samples. */
  g_assert_cmpuint(g_strv_length(lines), ==, 5);
  g_assert_true(g_str_has_prefix(lines[1], "2024-05-01T08:02:00.000Z,"));
  g_assert_true(g_str_has_prefix(lines[4], "2024-05-01T08:03:30.000Z,"));
  run_clear(&r);

  r = run_export(f, "--miner", "10.0.0.1", "--step", "60", "--format", "json", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, r.out, -1, NULL));
  JsonArray *rows = json_node_get_array(json_parser_get_root(parser));
  g_assert_cmpuint(json_array_get_length(rows), ==, 10);
  JsonObject *second = json_array_get_object_element(rows, 1);
  g_assert_cmpstr(json_object_get_string_member(second, "time"), ==, "2024-05-01T08:01:00.000Z");
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(second, "hashrate_ths"), 13.25,
                                 1e-9);
  run_clear(&r);
}

/* The new series averaged per minute; the other new fields are not. */
static void
test_abi12_step(Fixture *f, gconstpointer data)
{
  (void)data;
  Run r = run_export(f, "--miner", "10.0.0.3", "--step", "60", "--format", "json", NULL);
  g_assert_cmpint(r.status, ==, 0);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, r.out, -1, NULL));
  JsonArray *rows = json_node_get_array(json_parser_get_root(parser));
  g_assert_cmpuint(json_array_get_length(rows), ==, 1);
  JsonObject *row = json_array_get_object_element(rows, 0);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(row, "power_limit_w"), 5500, 1e-9);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(row, "water_temp_in_c"), 38.5, 1e-9);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(row, "psu_power_out_w"), 5400, 1e-9);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(row, "chain_voltage_v"), 13.2, 1e-9);
  g_assert_cmpfloat_with_epsilon(json_object_get_double_member(row, "chain_frequency_mhz"), 610,
                                 1e-9);
  g_assert_true(json_object_get_null_member(row, "mining"));
  g_assert_true(json_object_get_null_member(row, "partial"));
  run_clear(&r);
}

static void
test_errors(Fixture *f, gconstpointer data)
{
  (void)data;
  Run r = run_export(f, "--format", "xml", NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "--format=xml: expected csv or json"));
  run_clear(&r);
  r = run_export(f, "--since", "last tuesday", NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "--since=last tuesday: expected epoch seconds"));
  run_clear(&r);

  /* A configuration without a store group. */
  g_autofree char *other = g_build_filename(f->dir, "other.ini", NULL);
  g_assert_true(g_file_set_contents(other, "[core]\ninterval=30s\n", -1, NULL));
  g_free(f->ini);
  f->ini = g_strdup(other);
  r = run_export(f, NULL);
  g_assert_cmpint(r.status, ==, 2);
  g_assert_nonnull(strstr(r.err, "has no enabled [store:...] group"));
  run_clear(&r);
  g_free(f->ini);
  f->ini = g_build_filename(f->dir, "antmon.ini", NULL);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(path, func) g_test_add(path, Fixture, NULL, setup, func, teardown)
  ADD("/store-export/csv", test_csv);
  ADD("/store-export/json", test_json);
  ADD("/store-export/range-and-step", test_range_and_step);
  ADD("/store-export/abi12-step", test_abi12_step);
  ADD("/store-export/errors", test_errors);
#undef ADD
  return g_test_run();
}
