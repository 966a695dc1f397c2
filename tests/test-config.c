/* antmon.ini: the typed getters, ${VAR} and secrets, loading [core] and
 * [miner:NAME], and the unknown group/key warnings. Every error is checked
 * by its full text, because that text is what a user reads before antmon
 * exits. */
#include "am-config-file.h"
#include "am-plugin-loader.h"
#include "am-test-util.h"
#include <errno.h>
#include <glib/gstdio.h>

#define EXPECTED_HOST                                                                              \
  "expected HOST, HOST:PORT or [IPv6]:PORT, where HOST is a name of letters, digits, '-' and '.' " \
  "or an IP address"
#define EXPECTED_IPV4 "expected an IPv4 address of four numbers from 0 to 255 without leading zeros"
#define EXPECTED_DURATION "expected a duration such as 500ms, 30s, 5m, 2h or 7d"

static char *tmp_dir;

/* ---- helpers ----------------------------------------------------------- */

static GKeyFile *
keyfile(const char *text)
{
  GKeyFile *kf = g_key_file_new();
  g_assert_true(g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, NULL));
  return kf;
}

/* A key file with one group [t] holding k=@value. */
static GKeyFile *
one_key(const char *value)
{
  g_autofree char *text = g_strdup_printf("[t]\nk=%s\n", value);
  return keyfile(text);
}

static char *
write_tmp(const char *name, const char *content)
{
  char *path = g_build_filename(tmp_dir, name, NULL);
  g_assert_true(g_file_set_contents(path, content, -1, NULL));
  return path;
}

static void
assert_config_error(const GError *error, const char *message)
{
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_cmpstr(error->message, ==, message);
}

static void
remove_tmp_dir(void)
{
  g_autoptr(GDir) dir = g_dir_open(tmp_dir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *path = g_build_filename(tmp_dir, name, NULL);
    g_unlink(path);
  }
  g_rmdir(tmp_dir);
}

/* ---- scalar getters ---------------------------------------------------- */

static void
test_bool(void)
{
  static const struct {
    const char *text;
    gboolean value;
  } good[] = {{"true", TRUE}, {"TRUE", TRUE},   {"yes", TRUE}, {"Yes", TRUE},
              {"1", TRUE},    {"false", FALSE}, {"No", FALSE}, {"0", FALSE}};
  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autoptr(GKeyFile) kf = one_key(good[i].text);
    gboolean value = !good[i].value;
    g_assert_true(am_config_get_bool(kf, "t", "k", !good[i].value, &value, NULL));
    g_assert_cmpint(value, ==, good[i].value);
  }

  g_autoptr(GKeyFile) kf = keyfile("[t]\nbad=maybe\nempty=\n");
  gboolean value = FALSE;
  g_assert_true(am_config_get_bool(kf, "t", "absent", TRUE, &value, NULL));
  g_assert_true(value);
  g_assert_true(am_config_get_bool(kf, "no-such-group", "k", TRUE, &value, NULL));
  g_assert_true(value);

  g_autoptr(GError) error = NULL;
  g_assert_false(am_config_get_bool(kf, "t", "bad", TRUE, &value, &error));
  assert_config_error(error, "[t] bad=maybe: expected true or false (or yes/no, 1/0)");
  g_clear_error(&error);
  g_assert_false(am_config_get_bool(kf, "t", "empty", TRUE, &value, &error));
  assert_config_error(error, "[t] empty=: expected true or false (or yes/no, 1/0)");
}

static void
test_uint(void)
{
  guint value = 0;
  g_autoptr(GKeyFile) kf = keyfile("[t]\nk=  42  \nmax=65535\n");
  g_assert_true(am_config_get_uint(kf, "t", "k", 7, 1, 100, &value, NULL));
  g_assert_cmpuint(value, ==, 42);
  g_assert_true(am_config_get_uint(kf, "t", "max", 7, 1, 65535, &value, NULL));
  g_assert_cmpuint(value, ==, 65535);
  g_assert_true(am_config_get_uint(kf, "t", "absent", 7, 1, 100, &value, NULL));
  g_assert_cmpuint(value, ==, 7);

  static const char *const bad[] = {
      "0", "70000", "-1", "abc", "", "1.5", "+5", "0x10", "1e3", "12 3", "99999999999999999999999"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GKeyFile) bad_kf = one_key(bad[i]);
    g_autoptr(GError) error = NULL;
    value = 99;
    g_assert_false(am_config_get_uint(bad_kf, "t", "k", 7, 1, 65535, &value, &error));
    g_autofree char *message =
        g_strdup_printf("[t] k=%s: expected an integer from 1 to 65535", bad[i]);
    assert_config_error(error, message);
    g_assert_cmpuint(value, ==, 99);
  }
}

/* Sizes: binary and decimal units, bytes; what is derived from the
 * memory budget when a store's queue_size is empty or "auto". */
static void
test_size_and_budget(void)
{
  static const struct {
    const char *text;
    gint64 bytes;
  } good[] = {{"0", 0},        {"65536", 65536},  {"64KiB", 65536},     {"4MiB", 4194304},
              {"4m", 4194304}, {"2 MB", 2000000}, {"1GiB", 1073741824}, {" 512KiB ", 524288}};
  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    gint64 bytes = -1;
    g_assert_true(am_parse_size(good[i].text, &bytes));
    g_assert_cmpint(bytes, ==, good[i].bytes);
  }
  static const char *const bad[] = {"", "MiB", "-1", "4 parsecs", "1.5MiB", "99999999999GiB"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    gint64 bytes = -1;
    g_assert_false(am_parse_size(bad[i], &bytes));
  }
  g_autofree char *shown = am_format_size(4194304);
  g_assert_cmpstr(shown, ==, "4MiB");

  guint queue = 0;
  g_autoptr(GKeyFile) defaults = keyfile("[store:x]\nqueue_size=\n");
  g_assert_true(am_config_get_store_queue_size(defaults, "store:x", &queue, NULL));
  g_assert_cmpuint(queue, ==, 64 * 1024 * 1024 / 4 / AM_STORE_SAMPLE_BYTES);
  g_autoptr(GKeyFile) bigger =
      keyfile("[core]\nmemory_budget=256MiB\n[store:x]\nqueue_size=auto\n");
  g_assert_true(am_config_get_store_queue_size(bigger, "store:x", &queue, NULL));
  g_assert_cmpuint(queue, ==, 256 * 1024 * 1024 / 4 / AM_STORE_SAMPLE_BYTES);
  g_assert_cmpint(am_config_get_memory_budget(bigger), ==, 256 * 1024 * 1024);
  g_autoptr(GKeyFile) fixed = keyfile("[store:x]\nqueue_size=5000\n");
  g_assert_true(am_config_get_store_queue_size(fixed, "store:x", &queue, NULL));
  g_assert_cmpuint(queue, ==, 5000);
}

static void
test_double(void)
{
  double value = 0;
  g_autoptr(GKeyFile) kf = keyfile("[t]\nhalf=0.5\nneg=-2.5\nint=10\n");
  g_assert_true(am_config_get_double(kf, "t", "half", 1, -10, 10, &value, NULL));
  g_assert_cmpfloat(value, ==, 0.5);
  g_assert_true(am_config_get_double(kf, "t", "neg", 1, -10, 10, &value, NULL));
  g_assert_cmpfloat(value, ==, -2.5);
  g_assert_true(am_config_get_double(kf, "t", "int", 1, -10, 10, &value, NULL));
  g_assert_cmpfloat(value, ==, 10);
  g_assert_true(am_config_get_double(kf, "t", "absent", 1.25, -10, 10, &value, NULL));
  g_assert_cmpfloat(value, ==, 1.25);

  static const char *const bad[] = {"abc", "", "nan", "inf", "10.5", "-11", "1,5", "2x"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GKeyFile) bad_kf = one_key(bad[i]);
    g_autoptr(GError) error = NULL;
    g_assert_false(am_config_get_double(bad_kf, "t", "k", 1, -10, 10, &value, &error));
    g_autofree char *message =
        g_strdup_printf("[t] k=%s: expected a number from -10 to 10", bad[i]);
    assert_config_error(error, message);
  }
}

static void
test_duration_parse(void)
{
  static const struct {
    const char *text;
    guint64 ms;
  } good[] = {
      {"250ms", 250}, {"30", 30000},   {"30s", 30000},
      {"5m", 300000}, {"2h", 7200000}, {"7d", G_GUINT64_CONSTANT(604800000)},
      {"0", 0},       {"0ms", 0},      {"18446744073709551615ms", G_MAXUINT64},
  };
  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    guint64 ms = 1;
    g_assert_true(am_parse_duration_ms(good[i].text, &ms));
    g_assert_cmpuint(ms, ==, good[i].ms);
  }

  static const char *const bad[] = {
      "",
      "-5s",
      "5x",
      "s",
      "5 s",
      "1.5s",
      " 5s",
      "5S",
      "5sec",
      "18446744073709551616ms",
      "18446744073709551615s",
      "99999999999999999999999d",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    guint64 ms = 1;
    g_assert_false(am_parse_duration_ms(bad[i], &ms));
    g_assert_cmpuint(ms, ==, 1);
  }
  guint64 ms = 1;
  g_assert_false(am_parse_duration_ms(NULL, &ms));
}

static void
test_duration_get(void)
{
  guint64 ms = 0;
  g_autoptr(GKeyFile) kf = keyfile("[t]\nk=5m\n");
  g_assert_true(am_config_get_duration_ms(kf, "t", "k", 1000, 1000, 86400000, &ms, NULL));
  g_assert_cmpuint(ms, ==, 300000);
  g_assert_true(am_config_get_duration_ms(kf, "t", "absent", 1234, 1000, 86400000, &ms, NULL));
  g_assert_cmpuint(ms, ==, 1234);

  static const struct {
    const char *text;
    const char *expected;
  } bad[] = {
      {"abc", EXPECTED_DURATION},
      {"", EXPECTED_DURATION},
      {"-1s", EXPECTED_DURATION},
      {"500ms", "expected a duration from 1s to 1d"},
      {"2d", "expected a duration from 1s to 1d"},
      {"86401", "expected a duration from 1s to 1d"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GKeyFile) bad_kf = one_key(bad[i].text);
    g_autoptr(GError) error = NULL;
    g_assert_false(am_config_get_duration_ms(bad_kf, "t", "k", 1000, 1000, 86400000, &ms, &error));
    g_autofree char *message = g_strdup_printf("[t] k=%s: %s", bad[i].text, bad[i].expected);
    assert_config_error(error, message);
  }

  /* A range that is not whole seconds reads in milliseconds. */
  g_autoptr(GKeyFile) small = one_key("50ms");
  g_autoptr(GError) error = NULL;
  g_assert_false(am_config_get_duration_ms(small, "t", "k", 100, 100, 1500, &ms, &error));
  assert_config_error(error, "[t] k=50ms: expected a duration from 100ms to 1500ms");
}

/* ---- strings, ${VAR}, lists -------------------------------------------- */

static void
test_string(void)
{
  g_autoptr(GKeyFile) kf = keyfile("[t]\nname=  rack 1  \nempty=\npath=C:\\miners\\n1\n");
  g_autofree char *name = am_config_get_string(kf, "t", "name", "x", NULL);
  g_assert_cmpstr(name, ==, "rack 1");
  g_autofree char *empty = am_config_get_string(kf, "t", "empty", "fallback", NULL);
  g_assert_cmpstr(empty, ==, "fallback");
  g_autofree char *absent = am_config_get_string(kf, "t", "absent", "fallback", NULL);
  g_assert_cmpstr(absent, ==, "fallback");
  g_autoptr(GError) error = NULL;
  g_autofree char *none = am_config_get_string(kf, "t", "absent", NULL, &error);
  g_assert_null(none);
  g_assert_no_error(error);
  /* Backslashes stay as written: no GKeyFile escapes. */
  g_autofree char *path = am_config_get_string(kf, "t", "path", NULL, NULL);
  g_assert_cmpstr(path, ==, "C:\\miners\\n1");
}

static void
test_string_env(void)
{
  g_setenv("AM_TEST_HOST", "rig.example.com", TRUE);
  g_setenv("AM_TEST_EMPTY", "", TRUE);
  g_unsetenv("AM_TEST_UNSET");
  g_autoptr(GKeyFile) kf =
      keyfile("[t]\nset=http://${AM_TEST_HOST}:80/\ndollar=pa$$word$$\nempty=<${AM_TEST_EMPTY}>\n"
              "unset=${AM_TEST_UNSET}/x\nlone=pa$word\nopen=${AM_TEST_HOST\nbadname=${1X}\n"
              "trailing=cost$\n");

  g_autofree char *set = am_config_get_string(kf, "t", "set", NULL, NULL);
  g_assert_cmpstr(set, ==, "http://rig.example.com:80/");
  g_autofree char *dollar = am_config_get_string(kf, "t", "dollar", NULL, NULL);
  g_assert_cmpstr(dollar, ==, "pa$word$");
  g_autofree char *empty = am_config_get_string(kf, "t", "empty", NULL, NULL);
  g_assert_cmpstr(empty, ==, "<>");

  g_autoptr(GError) error = NULL;
  g_assert_null(am_config_get_string(kf, "t", "unset", "fallback", &error));
  assert_config_error(error, "[t] unset: environment variable AM_TEST_UNSET is not set");

  static const char *const malformed[] = {"lone", "open", "badname", "trailing"};
  for (guint i = 0; i < G_N_ELEMENTS(malformed); i++) {
    g_clear_error(&error);
    g_assert_null(am_config_get_string(kf, "t", malformed[i], "fallback", &error));
    g_autofree char *message = g_strdup_printf(
        "[t] %s: expected ${NAME} after '$' (write $$ for a literal $)", malformed[i]);
    assert_config_error(error, message);
  }
}

static void
test_list(void)
{
  g_setenv("AM_TEST_DIRS", "/a;/b", TRUE);
  g_unsetenv("AM_TEST_UNSET");
  g_autoptr(GKeyFile) kf = keyfile("[t]\nitems= one ; two;;three ;\nempty=\nonly=;; ;\n"
                                   "env=${AM_TEST_DIRS};/c\nunset=/a;${AM_TEST_UNSET}\n");

  g_auto(GStrv) items = am_config_get_list(kf, "t", "items", NULL);
  const char *const want_items[] = {"one", "two", "three", NULL};
  g_assert_cmpstrv(items, want_items);

  const char *const want_none[] = {NULL};
  g_auto(GStrv) empty = am_config_get_list(kf, "t", "empty", NULL);
  g_assert_cmpstrv(empty, want_none);
  g_auto(GStrv) only = am_config_get_list(kf, "t", "only", NULL);
  g_assert_cmpstrv(only, want_none);
  g_auto(GStrv) absent = am_config_get_list(kf, "t", "absent", NULL);
  g_assert_cmpstrv(absent, want_none);

  g_auto(GStrv) env = am_config_get_list(kf, "t", "env", NULL);
  const char *const want_env[] = {"/a", "/b", "/c", NULL};
  g_assert_cmpstrv(env, want_env);

  g_autoptr(GError) error = NULL;
  g_assert_null(am_config_get_list(kf, "t", "unset", &error));
  assert_config_error(error, "[t] unset: environment variable AM_TEST_UNSET is not set");
}

/* ---- secrets ----------------------------------------------------------- */

static void
test_secret_inline(void)
{
  g_setenv("AM_TEST_PASS", "s3cret", TRUE);
  g_unsetenv("AM_TEST_UNSET");
  g_autoptr(GKeyFile) kf = keyfile("[plain]\npassword=hunter2\n[env]\npassword=${AM_TEST_PASS}$$\n"
                                   "[none]\nuser=x\n[empty]\npassword=\npassword_file=\n"
                                   "[unset]\npassword=${AM_TEST_UNSET}\n");

  g_autofree char *plain = am_config_get_secret(kf, "plain", "password", NULL);
  g_assert_cmpstr(plain, ==, "hunter2");
  g_autofree char *env = am_config_get_secret(kf, "env", "password", NULL);
  g_assert_cmpstr(env, ==, "s3cret$");

  g_autoptr(GError) error = NULL;
  g_assert_null(am_config_get_secret(kf, "none", "password", &error));
  g_assert_no_error(error);
  g_assert_null(am_config_get_secret(kf, "empty", "password", &error));
  g_assert_no_error(error);
  g_assert_null(am_config_get_secret(kf, "absent-group", "password", &error));
  g_assert_no_error(error);

  /* The message names the variable, never the value around it. */
  g_assert_null(am_config_get_secret(kf, "unset", "password", &error));
  assert_config_error(error, "[unset] password: environment variable AM_TEST_UNSET is not set");
}

static void
test_secret_file(void)
{
  g_autofree char *one = write_tmp("one.pw", "s3cret\n");
  g_autofree char *two = write_tmp("two.pw", "two\n\n");
  g_autofree char *crlf = write_tmp("crlf.pw", "dos\r\n");
  g_autofree char *bare = write_tmp("bare.pw", "no newline");
  g_setenv("AM_TEST_DIR", tmp_dir, TRUE);
  g_autofree char *text =
      g_strdup_printf("[one]\npassword_file=%s\n[two]\npassword_file=%s\n[crlf]\npassword_file=%s\n"
                      "[bare]\ntoken_file=%s\n[env]\npassword_file=${AM_TEST_DIR}/one.pw\n"
                      "[empty-inline]\npassword=\npassword_file=%s\n",
                      one, two, crlf, bare, one);
  g_autoptr(GKeyFile) kf = keyfile(text);

  static const struct {
    const char *group, *key, *want;
  } cases[] = {
      {"one", "password", "s3cret"}, {"two", "password", "two\n"},
      {"crlf", "password", "dos"},   {"bare", "token", "no newline"},
      {"env", "password", "s3cret"}, {"empty-inline", "password", "s3cret"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *secret = am_config_get_secret(kf, cases[i].group, cases[i].key, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(secret, ==, cases[i].want);
  }
}

static void
test_secret_file_missing(void)
{
  g_autofree char *path = g_build_filename(tmp_dir, "missing.pw", NULL);
  g_autofree char *text = g_strdup_printf("[sink:email]\npassword_file=%s\n", path);
  g_autoptr(GKeyFile) kf = keyfile(text);
  g_autoptr(GError) error = NULL;
  g_assert_null(am_config_get_secret(kf, "sink:email", "password", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_autofree char *prefix =
      g_strdup_printf("[sink:email] password_file=%s: expected a readable file (", path);
  g_assert_true(g_str_has_prefix(error->message, prefix));
  g_assert_nonnull(strstr(error->message, g_strerror(ENOENT)));
}

static void
test_secret_both(void)
{
  g_autoptr(GKeyFile) kf = keyfile("[sink:email]\npassword=x\npassword_file=/etc/hostname\n");
  g_autoptr(GError) error = NULL;
  g_assert_null(am_config_get_secret(kf, "sink:email", "password", &error));
  assert_config_error(error, "[sink:email] password and password_file are both set: keep one");
}

/* ---- host and port ----------------------------------------------------- */

static void
test_host_port_good(void)
{
  static const struct {
    const char *text;
    const char *host;
    guint16 port;
  } cases[] = {
      {"miner.local", "miner.local", 4028}, {"rig-07.example.com:4029", "rig-07.example.com", 4029},
      {"10.0.0.1", "10.0.0.1", 4028},       {"10.0.0.1:80", "10.0.0.1", 80},
      {"0.0.0.0:65535", "0.0.0.0", 65535},  {"localhost:1", "localhost", 1},
      {"[::1]:8080", "::1", 8080},          {"[::1]", "::1", 4028},
      {"fe80::1", "fe80::1", 4028},         {"::ffff:10.0.0.1", "::ffff:10.0.0.1", 4028},
      {"1.2.3.4a", "1.2.3.4a", 4028},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GKeyFile) kf = one_key(cases[i].text);
    g_autofree char *host = NULL;
    guint16 port = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(am_config_get_host_port(kf, "t", "k", NULL, 4028, &host, &port, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(host, ==, cases[i].host);
    g_assert_cmpuint(port, ==, cases[i].port);
  }

  g_setenv("AM_TEST_LISTEN", "127.0.0.1:9090", TRUE);
  g_autoptr(GKeyFile) kf = keyfile("[t]\nenv=${AM_TEST_LISTEN}\nempty=\n");
  g_autofree char *host = NULL;
  guint16 port = 0;
  g_assert_true(am_config_get_host_port(kf, "t", "env", NULL, 1, &host, &port, NULL));
  g_assert_cmpstr(host, ==, "127.0.0.1");
  g_assert_cmpuint(port, ==, 9090);
  g_clear_pointer(&host, g_free);

  /* Absent or empty: the fallback, itself split; no fallback: NULL. */
  g_assert_true(am_config_get_host_port(kf, "t", "empty", "[::]:8080", 1, &host, &port, NULL));
  g_assert_cmpstr(host, ==, "::");
  g_assert_cmpuint(port, ==, 8080);
  g_clear_pointer(&host, g_free);
  g_assert_true(am_config_get_host_port(kf, "t", "absent", "0.0.0.0", 8080, &host, &port, NULL));
  g_assert_cmpstr(host, ==, "0.0.0.0");
  g_assert_cmpuint(port, ==, 8080);
  g_clear_pointer(&host, g_free);
  g_assert_true(am_config_get_host_port(kf, "t", "absent", NULL, 4028, &host, &port, NULL));
  g_assert_null(host);
  g_assert_cmpuint(port, ==, 4028);
}

static void
test_host_port_bad(void)
{
  static const struct {
    const char *text;
    const char *expected;
  } cases[] = {
      {"300.1.1.1:99999", EXPECTED_IPV4},
      {"300.1.1.1", EXPECTED_IPV4},
      {"1.2.3", EXPECTED_IPV4},
      {"1.2.3.4.5", EXPECTED_IPV4},
      {"01.2.3.4", EXPECTED_IPV4},
      {"1..2.3", EXPECTED_IPV4},
      {"10.0.0.1:0", "expected a port from 1 to 65535"},
      {"10.0.0.1:70000", "expected a port from 1 to 65535"},
      {"rig:", "expected a port from 1 to 65535"},
      {"rig:-1", "expected a port from 1 to 65535"},
      {"rig:http", "expected a port from 1 to 65535"},
      {"[::1]:0", "expected a port from 1 to 65535"},
      {"bad_name", EXPECTED_HOST},
      {"-rig.example.com", EXPECTED_HOST},
      {"rig-.example.com", EXPECTED_HOST},
      {"rig..example.com", EXPECTED_HOST},
      {"rig.example.com.", EXPECTED_HOST},
      {":4028", EXPECTED_HOST},
      {"[::1", EXPECTED_HOST},
      {"[::1]x", EXPECTED_HOST},
      {"[10.0.0.1]:80", "expected an IPv6 address inside [ ]"},
      {"[]:80", "expected an IPv6 address inside [ ]"},
      {"1::2::3", "expected an IPv6 address (write [ADDRESS]:PORT to give a port)"},
      {"::1:80:x", "expected an IPv6 address (write [ADDRESS]:PORT to give a port)"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GKeyFile) kf = one_key(cases[i].text);
    g_autofree char *host = NULL;
    guint16 port = 7;
    g_autoptr(GError) error = NULL;
    g_assert_false(am_config_get_host_port(kf, "t", "k", NULL, 4028, &host, &port, &error));
    g_autofree char *message = g_strdup_printf("[t] k=%s: %s", cases[i].text, cases[i].expected);
    assert_config_error(error, message);
    g_assert_null(host);
  }

  /* A 64-character label is one too many (RFC 1123). */
  g_autofree char *label = g_strnfill(64, 'a');
  g_autoptr(GKeyFile) kf = one_key(label);
  g_autofree char *host = NULL;
  guint16 port;
  g_autoptr(GError) error = NULL;
  g_assert_false(am_config_get_host_port(kf, "t", "k", NULL, 4028, &host, &port, &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  label[63] = '\0';
  g_autoptr(GKeyFile) ok = one_key(label);
  g_assert_true(am_config_get_host_port(ok, "t", "k", NULL, 4028, &host, &port, NULL));
  g_assert_cmpstr(host, ==, label);
}

/* ---- group names ------------------------------------------------------- */

static void
test_split_group(void)
{
  static const struct {
    const char *group;
    gboolean ok;
    const char *kind, *name, *instance;
  } cases[] = {
      {"sink:webhook:ops", TRUE, "sink", "webhook", "ops"},
      {"driver:antminer", TRUE, "driver", "antminer", NULL},
      {"discovery:cidr", TRUE, "discovery", "cidr", NULL},
      {"store:sqlite", TRUE, "store", "sqlite", NULL},
      {"http:api:lan", TRUE, "http", "api", "lan"},
      {"core", FALSE},
      {"miner:rack1", FALSE},
      {"alert:hot", FALSE},
      {"sinks:webhook", FALSE},
      {"Sink:webhook", FALSE},
      {"sink", FALSE},
      {"sink:", FALSE},
      {"sink::ops", FALSE},
      {"sink:webhook:", FALSE},
      {"sink:webhook:ops:extra", FALSE},
      {"", FALSE},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *kind = NULL;
    g_autofree char *name = NULL;
    g_autofree char *instance = NULL;
    g_assert_cmpint(am_config_split_group(cases[i].group, &kind, &name, &instance), ==,
                    cases[i].ok);
    g_assert_cmpstr(kind, ==, cases[i].kind);
    g_assert_cmpstr(name, ==, cases[i].name);
    g_assert_cmpstr(instance, ==, cases[i].instance);
  }
  g_assert_true(am_config_split_group("sink:webhook:ops", NULL, NULL, NULL));
}

/* ---- loading a file ---------------------------------------------------- */

static void
test_load_missing(void)
{
  g_autofree char *path = g_build_filename(tmp_dir, "no-such.ini", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  g_assert_null(config);
  g_autofree char *message = g_strdup_printf("%s: cannot read: %s", path, g_strerror(ENOENT));
  assert_config_error(error, message);
}

static void
test_load_syntax_error(void)
{
  g_autofree char *path = am_test_path("config/syntax-error.ini");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  g_assert_null(config);
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_autofree char *prefix = g_strdup_printf("%s:4: ", path);
  g_assert_true(g_str_has_prefix(error->message, prefix));
  g_assert_nonnull(strstr(error->message, "this line has no equals sign"));

  /* A key before any group is reported on its line too. */
  g_autofree char *early = write_tmp("early.ini", "# comment\n\ninterval=5s\n[core]\n");
  g_clear_error(&error);
  g_assert_null(am_config_file_load(early, &error));
  g_autofree char *early_prefix = g_strdup_printf("%s:3: ", early);
  g_assert_true(g_str_has_prefix(error->message, early_prefix));
}

static void
test_load_defaults(void)
{
  static const char *const texts[] = {"", "# nothing but a comment\n", "[core]\n",
                                      "[core]\nstate_dir=\nplugin_dir=\nlog_level=\n"};
  for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
    g_autofree char *path = write_tmp("defaults.ini", texts[i]);
    g_autoptr(GError) error = NULL;
    g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(config->path, ==, path);
    g_assert_nonnull(config->core.plugin_dirs);
    g_assert_cmpuint(g_strv_length(config->core.plugin_dirs), ==, 0);
    g_assert_cmpstr(config->core.state_dir, ==, "./var");
    g_assert_cmpstr(config->core.log_level, ==, "message");
    g_assert_cmpuint(config->core.interval_ms, ==, 30000);
    g_assert_cmpuint(config->core.poll_timeout_ms, ==, 10000);
    g_assert_cmpuint(config->core.max_inflight, ==, 256);
    g_assert_cmpuint(config->core.offline_after, ==, 3);
    g_assert_cmpint(config->core.memory_budget, ==, 64 * 1024 * 1024);
    g_assert_cmpuint(config->core.miners->len, ==, 0);
  }
}

static void
test_load_core(void)
{
  g_setenv("AM_TEST_HOME", "/home/test", TRUE);
  g_autofree char *path = am_test_path("config/core-full.ini");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  g_assert_no_error(error);
  const char *const dirs[] = {"/opt/antmon/plugins", "/home/test/plugins", NULL};
  g_assert_cmpstrv(config->core.plugin_dirs, dirs);
  g_assert_cmpstr(config->core.state_dir, ==, "/home/test/state");
  g_assert_cmpstr(config->core.log_level, ==, "debug");
  g_assert_cmpuint(config->core.interval_ms, ==, 60000);
  g_assert_cmpuint(config->core.poll_timeout_ms, ==, 250);
  g_assert_cmpuint(config->core.max_inflight, ==, 16);
  g_assert_cmpuint(config->core.offline_after, ==, 5);
  g_assert_nonnull(config->kf);
}

static void
test_load_core_bad(void)
{
  g_unsetenv("AM_TEST_UNSET");
  static const struct {
    const char *line;
    const char *message;
  } cases[] = {
      {"interval=abc", "[core] interval=abc: " EXPECTED_DURATION},
      {"interval=", "[core] interval=: " EXPECTED_DURATION},
      {"interval=500ms", "[core] interval=500ms: expected a duration from 1s to 1d"},
      {"interval=2d", "[core] interval=2d: expected a duration from 1s to 1d"},
      {"poll_timeout=50ms", "[core] poll_timeout=50ms: expected a duration from 100ms to 5m"},
      {"poll_timeout=6m", "[core] poll_timeout=6m: expected a duration from 100ms to 5m"},
      {"max_inflight=0", "[core] max_inflight=0: expected an integer from 1 to 65535"},
      {"max_inflight=65536", "[core] max_inflight=65536: expected an integer from 1 to 65535"},
      {"offline_after=0", "[core] offline_after=0: expected an integer from 1 to 1000"},
      {"offline_after=1001", "[core] offline_after=1001: expected an integer from 1 to 1000"},
      {"offline_after=-1", "[core] offline_after=-1: expected an integer from 1 to 1000"},
      {"memory_budget=lots", "[core] memory_budget=lots: expected a size such as 4MiB, 512KiB or "
                             "0, from 16MiB to 1024GiB"},
      {"memory_budget=8MiB", "[core] memory_budget=8MiB: expected a size such as 4MiB, 512KiB or "
                             "0, from 16MiB to 1024GiB"},
      {"log_level=loud",
       "[core] log_level=loud: expected one of error, critical, warning, message, info, debug"},
      {"state_dir=${AM_TEST_UNSET}/var",
       "[core] state_dir: environment variable AM_TEST_UNSET is not set"},
      {"plugin_dir=/a;${AM_TEST_UNSET}",
       "[core] plugin_dir: environment variable AM_TEST_UNSET is not set"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf("[core]\n%s\n", cases[i].line);
    g_autofree char *path = write_tmp("core-bad.ini", text);
    g_autoptr(GError) error = NULL;
    g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
    g_assert_null(config);
    g_autofree char *message = g_strdup_printf("%s: %s", path, cases[i].message);
    assert_config_error(error, message);
  }

  /* Each level is accepted, in any case. */
  static const char *const levels[] = {"error", "critical", "Warning", "message", "INFO", "debug"};
  for (guint i = 0; i < G_N_ELEMENTS(levels); i++) {
    g_autofree char *text = g_strdup_printf("[core]\nlog_level=%s\n", levels[i]);
    g_autofree char *path = write_tmp("levels.ini", text);
    g_autoptr(AmConfigFile) config = am_config_file_load(path, NULL);
    g_assert_nonnull(config);
    g_autofree char *lower = g_ascii_strdown(levels[i], -1);
    g_assert_cmpstr(config->core.log_level, ==, lower);
  }
}

static const AmStaticMiner *
miner_at(AmConfigFile *config, guint index)
{
  g_assert_cmpuint(index, <, config->core.miners->len);
  return config->core.miners->pdata[index];
}

static void
test_load_miners(void)
{
  g_setenv("AM_TEST_MINER_PASSWORD", "root", TRUE);
  g_autofree char *path = am_test_path("config/miners.ini");
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  g_assert_no_error(error);
  /* In file order; the disabled one is left out. */
  g_assert_cmpuint(config->core.miners->len, ==, 5);

  static const struct {
    const char *name, *host;
    guint16 port;
    const char *driver, *username, *password;
  } want[] = {
      {"plain", "10.0.0.5", 4028},
      {"with-port", "10.0.0.6", 4029, "antminer", "root", "root"},
      {"override", "rig-07.example.com", 5000},
      {"v6", "::1", 4030},
      {"bare-v6", "fe80::1", 4028},
  };
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    const AmStaticMiner *m = miner_at(config, i);
    g_assert_cmpstr(m->name, ==, want[i].name);
    g_assert_cmpstr(m->host, ==, want[i].host);
    g_assert_cmpuint(m->port, ==, want[i].port);
    g_assert_cmpstr(m->driver, ==, want[i].driver);
    g_assert_cmpstr(m->username, ==, want[i].username);
    g_assert_cmpstr(m->password, ==, want[i].password);
  }
}

static void
test_load_miner_password_file(void)
{
  g_autofree char *secret = write_tmp("miner.pw", "admin\n");
  g_autofree char *text =
      g_strdup_printf("[miner:web]\nhost=10.0.0.7\nusername=admin\npassword_file=%s\n", secret);
  g_autofree char *path = write_tmp("miner-pw.ini", text);
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(miner_at(config, 0)->password, ==, "admin");
}

static void
test_load_miner_bad(void)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
      {"[miner:x]\ndriver=antminer\n",
       "[miner:x] host is missing: expected host=ADDRESS or host=ADDRESS:PORT"},
      {"[miner:x]\nhost=\n",
       "[miner:x] host is missing: expected host=ADDRESS or host=ADDRESS:PORT"},
      {"[miner:x]\nhost=300.1.1.1\n", "[miner:x] host=300.1.1.1: " EXPECTED_IPV4},
      {"[miner:x]\nhost=10.0.0.1:70000\n",
       "[miner:x] host=10.0.0.1:70000: expected a port from 1 to 65535"},
      {"[miner:x]\nhost=10.0.0.1\nport=0\n",
       "[miner:x] port=0: expected an integer from 1 to 65535"},
      {"[miner:x]\nhost=10.0.0.1\nenabled=maybe\n",
       "[miner:x] enabled=maybe: expected true or false (or yes/no, 1/0)"},
      {"[miner:x]\nhost=10.0.0.1\npassword=a\npassword_file=/b\n",
       "[miner:x] password and password_file are both set: keep one"},
      /* A disabled miner is still checked: a typo should not hide. */
      {"[miner:x]\nhost=10.0.0.1\nport=99999\nenabled=false\n",
       "[miner:x] port=99999: expected an integer from 1 to 65535"},
      {"[miner:]\nhost=10.0.0.1\n", "[miner:] expected a name after 'miner:'"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = write_tmp("miner-bad.ini", cases[i].text);
    g_autoptr(GError) error = NULL;
    g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
    g_assert_null(config);
    g_autofree char *message = g_strdup_printf("%s: %s", path, cases[i].message);
    assert_config_error(error, message);
  }
}

static void
test_prefix_error(void)
{
  g_autofree char *path = write_tmp("antmon.ini", "[sink:email]\nport=abc\n");
  g_autoptr(AmConfigFile) config = am_config_file_load(path, NULL);
  g_assert_nonnull(config);

  /* What main does when a plugin's create() rejects a value. */
  g_autoptr(GError) error = NULL;
  guint port;
  g_assert_false(am_config_get_uint(config->kf, "sink:email", "port", 25, 1, 65535, &port, &error));
  am_config_file_prefix_error(config, &error);
  g_autofree char *message =
      g_strdup_printf("%s: [sink:email] port=abc: expected an integer from 1 to 65535", path);
  assert_config_error(error, message);

  /* Other errors are not about the file and stay as they are. */
  g_autoptr(GError) other = g_error_new(AM_ERROR, AM_ERROR_REFUSED, "connection refused");
  am_config_file_prefix_error(config, &other);
  g_assert_cmpstr(other->message, ==, "connection refused");
  am_config_file_prefix_error(config, NULL);
}

/* ---- unknown groups and keys ------------------------------------------- */

static const AmPluginInfo fake_driver = {
    .name = "fake",
    .kind = AM_PLUGIN_KIND_DRIVER,
    .sample_config = "# The fake driver.\n"
                     "[driver:fake]\n"
                     "# How long one poll may take.\n"
                     "timeout=5s\n"
                     "username=\n"
                     "password=\n",
};

static const AmPluginInfo broken_sample_sink = {
    .name = "broken",
    .kind = AM_PLUGIN_KIND_SINK,
    .sample_config = "this is not a key file\n",
};

static GPtrArray *
fake_plugins(void)
{
  GPtrArray *plugins = g_ptr_array_new();
  g_ptr_array_add(plugins, (gpointer)&fake_driver);
  g_ptr_array_add(plugins, (gpointer)&broken_sample_sink);
  return plugins;
}

/* Warnings are fatal in a test: let them through to stderr. */
static void
allow_warnings(void)
{
  g_log_set_always_fatal(G_LOG_FATAL_MASK);
}

static void
test_warn_unknown(void)
{
  g_autofree char *path = am_test_path("config/unknown.ini");
  if (g_test_subprocess()) {
    allow_warnings();
    g_autoptr(AmConfigFile) config = am_config_file_load(path, NULL);
    g_assert_nonnull(config);
    g_autoptr(GPtrArray) plugins = fake_plugins();
    g_assert_cmpuint(am_config_file_warn_unknown(config, plugins), ==, 6);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_autofree char *core = g_strdup_printf("*%s: [core] unknown key 'intervall'\n*", path);
  g_test_trap_assert_stderr(core);
  g_autofree char *miner = g_strdup_printf("*%s: [miner:a] unknown key 'colour'\n*", path);
  g_test_trap_assert_stderr(miner);
  g_autofree char *sink =
      g_strdup_printf("*%s: [sink:nope] no sink plugin named 'nope' is installed\n*", path);
  g_test_trap_assert_stderr(sink);
  g_autofree char *group = g_strdup_printf(
      "*%s: [bogus] unknown group: expected [core], [miner:NAME], [alert:NAME] or [KIND:PLUGIN] "
      "with KIND one of discovery, driver, store, sink, http\n*",
      path);
  g_test_trap_assert_stderr(group);
  g_autofree char *plugin_key =
      g_strdup_printf("*%s: [driver:fake] unknown key 'retries'\n*", path);
  g_test_trap_assert_stderr(plugin_key);
  g_autofree char *alert_key = g_strdup_printf("*%s: [alert:hot] unknown key 'anything'\n*", path);
  g_test_trap_assert_stderr(alert_key);

  /* Known keys (a rule's type= and thresholds included) and a second
   * instance raise nothing. */
  g_test_trap_assert_stderr_unmatched("*'interval'*");
  g_test_trap_assert_stderr_unmatched("*'type'*");
  g_test_trap_assert_stderr_unmatched("*'warning'*");
  g_test_trap_assert_stderr_unmatched("*'timeout'*");
  g_test_trap_assert_stderr_unmatched("*'enabled'*");
  g_test_trap_assert_stderr_unmatched("*password_file*");
  g_test_trap_assert_stderr_unmatched("*driver:fake:second*");
  g_test_trap_assert_stderr_unmatched("*'url'*");
}

static void
test_warn_broken_sample(void)
{
  g_autofree char *path = write_tmp("broken.ini", "[sink:broken]\nanything=1\n");
  if (g_test_subprocess()) {
    allow_warnings();
    g_autoptr(AmConfigFile) config = am_config_file_load(path, NULL);
    g_autoptr(GPtrArray) plugins = fake_plugins();
    g_assert_cmpuint(am_config_file_warn_unknown(config, plugins), ==, 1);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_autofree char *pattern = g_strdup_printf(
      "*%s: [sink:broken] keys not checked: the broken plugin's sample_config does not load: *",
      path);
  g_test_trap_assert_stderr(pattern);
  g_test_trap_assert_stderr_unmatched("*'anything'*");
}

static void
test_warn_clean(void)
{
  /* No subprocess: any warning here would abort the test. */
  g_autofree char *path = write_tmp(
      "clean.ini",
      "[core]\ninterval=5s\n[miner:a]\nhost=10.0.0.5\npassword_file=\n"
      "[driver:fake]\ntimeout=1s\npassword=x\n[alert:hot]\ntype=temperature\nwarning=80\n");
  g_autoptr(AmConfigFile) config = am_config_file_load(path, NULL);
  g_assert_nonnull(config);
  g_autoptr(GPtrArray) plugins = fake_plugins();
  g_assert_cmpuint(am_config_file_warn_unknown(config, plugins), ==, 0);
}

/* ---- the shipped antmon.ini -------------------------------------------- */

static char *
shipped_ini_path(void)
{
  return g_test_build_filename(G_TEST_DIST, "..", "antmon.ini", NULL);
}

static void
test_shipped_loads(void)
{
  g_autofree char *path = shipped_ini_path();
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  g_assert_no_error(error);
  g_assert_nonnull(config);
}

/* The plugin groups of @config whose module is in none of @dirs. */
static char *
missing_plugins(AmConfigFile *config, char **dirs)
{
  g_autoptr(GString) missing = g_string_new(NULL);
  g_auto(GStrv) groups = g_key_file_get_groups(config->kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++) {
    g_autofree char *kind = NULL;
    g_autofree char *name = NULL;
    if (!am_config_split_group(groups[i], &kind, &name, NULL))
      continue;
    g_autofree char *file = g_strdup_printf("%s-%s.so", kind, name);
    gboolean found = FALSE;
    for (guint d = 0; dirs[d] != NULL && !found; d++) {
      g_autofree char *candidate = g_build_filename(dirs[d], file, NULL);
      found = g_file_test(candidate, G_FILE_TEST_EXISTS);
    }
    if (!found)
      g_string_append_printf(missing, "%s%s", missing->len > 0 ? ", " : "", file);
  }
  return missing->len > 0 ? g_string_free(g_steal_pointer(&missing), FALSE) : NULL;
}

static void
test_shipped_no_warnings(void)
{
  g_autofree char *path = shipped_ini_path();
  g_autoptr(GError) error = NULL;
  g_autoptr(AmConfigFile) config = am_config_file_load(path, &error);
  g_assert_no_error(error);
  g_auto(GStrv) dirs = am_plugin_dirs(config->core.plugin_dirs);
  if (g_test_subprocess()) {
    allow_warnings();
    g_autoptr(AmPluginSet) set = am_plugin_set_load(dirs);
    g_autoptr(GPtrArray) infos = am_plugin_set_infos(set);
    g_assert_cmpuint(am_config_file_warn_unknown(config, infos), ==, 0);
    return;
  }
  /* Every plugin antmon.ini configures is built in this tree, so a group
   * naming a plugin that does not exist is a real mistake. */
  g_autofree char *missing = missing_plugins(config, dirs);
  g_assert_null(missing);
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr_unmatched("*antmon.ini*");
}

/* Every key of every plugin's sample.ini is in antmon.ini, in its group,
 * set or commented ("key=" or "#key="): the shipped file is the reference. */
static gboolean
shipped_has_key(char **lines, const char *group, const char *key)
{
  g_autofree char *header = g_strdup_printf("[%s]", group);
  gboolean in_group = FALSE;
  for (guint i = 0; lines[i] != NULL; i++) {
    const char *line = lines[i];
    if (line[0] == '[') {
      in_group = g_str_has_prefix(line, header);
      continue;
    }
    if (!in_group)
      continue;
    while (*line == '#' || *line == ' ')
      line++;
    if (g_str_has_prefix(line, key) && line[strlen(key)] == '=')
      return TRUE;
  }
  return FALSE;
}

static void
test_shipped_every_key(void)
{
  g_autofree char *path = shipped_ini_path();
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  g_autoptr(AmPluginSet) set = am_plugin_set_load(dirs);
  g_assert_cmpuint(set->loaded->len, >, 0);
  guint checked = 0;
  for (guint p = 0; p < set->loaded->len; p++) {
    const AmPluginInfo *info = ((AmLoadedPlugin *)set->loaded->pdata[p])->info;
    g_autoptr(GKeyFile) sample = g_key_file_new();
    g_assert_true(
        g_key_file_load_from_data(sample, info->sample_config, -1, G_KEY_FILE_NONE, NULL));
    g_autofree char *group = g_key_file_get_start_group(sample);
    g_auto(GStrv) keys = g_key_file_get_keys(sample, group, NULL, NULL);
    for (guint k = 0; keys != NULL && keys[k] != NULL; k++) {
      if (!shipped_has_key(lines, group, keys[k]))
        g_error("antmon.ini lacks [%s] %s= (from the %s plugin's sample.ini)", group, keys[k],
                info->name);
      checked++;
    }
  }
  g_assert_cmpuint(checked, >, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* A subprocess test must see the files its parent wrote. */
  gboolean subprocess = g_test_subprocess();
  if (subprocess)
    tmp_dir = g_strdup(g_getenv("AM_TEST_CONFIG_TMP"));
  else {
    tmp_dir = g_dir_make_tmp("antmon-test-config-XXXXXX", NULL);
    g_setenv("AM_TEST_CONFIG_TMP", tmp_dir, TRUE);
  }
  g_assert_nonnull(tmp_dir);

  g_test_add_func("/config/bool", test_bool);
  g_test_add_func("/config/uint", test_uint);
  g_test_add_func("/config/double", test_double);
  g_test_add_func("/config/size-and-budget", test_size_and_budget);
  g_test_add_func("/config/duration/parse", test_duration_parse);
  g_test_add_func("/config/duration/get", test_duration_get);
  g_test_add_func("/config/string", test_string);
  g_test_add_func("/config/string/env", test_string_env);
  g_test_add_func("/config/list", test_list);
  g_test_add_func("/config/secret/inline", test_secret_inline);
  g_test_add_func("/config/secret/file", test_secret_file);
  g_test_add_func("/config/secret/file-missing", test_secret_file_missing);
  g_test_add_func("/config/secret/both", test_secret_both);
  g_test_add_func("/config/host-port/good", test_host_port_good);
  g_test_add_func("/config/host-port/bad", test_host_port_bad);
  g_test_add_func("/config/split-group", test_split_group);
  g_test_add_func("/config/load/missing", test_load_missing);
  g_test_add_func("/config/load/syntax-error", test_load_syntax_error);
  g_test_add_func("/config/load/defaults", test_load_defaults);
  g_test_add_func("/config/load/core", test_load_core);
  g_test_add_func("/config/load/core-bad", test_load_core_bad);
  g_test_add_func("/config/load/miners", test_load_miners);
  g_test_add_func("/config/load/miner-password-file", test_load_miner_password_file);
  g_test_add_func("/config/load/miner-bad", test_load_miner_bad);
  g_test_add_func("/config/prefix-error", test_prefix_error);
  g_test_add_func("/config/warn/unknown", test_warn_unknown);
  g_test_add_func("/config/warn/broken-sample", test_warn_broken_sample);
  g_test_add_func("/config/warn/clean", test_warn_clean);
  g_test_add_func("/config/shipped/loads", test_shipped_loads);
  g_test_add_func("/config/shipped/no-warnings", test_shipped_no_warnings);
  g_test_add_func("/config/shipped/every-key", test_shipped_every_key);

  int status = g_test_run();
  if (!subprocess)
    remove_tmp_dir();
  g_free(tmp_dir);
  return status;
}
