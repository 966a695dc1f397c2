/* [credentials:NAME] groups: which miners each one matches (CIDRs, ranges,
 * globs, models, drivers), the order a miner's login is chosen in, secrets
 * from files and the environment, and every refusal by its full text, which
 * is what a user reads before antmon exits. */
#include "am-config-file.h"
#include "am-context-private.h"
#include "am-credentials.h"
#include "am-instances.h"
#include "am-selector.h"
#include "am-test-util.h"
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

/* Present in every group of the bad-value table: no message may show it. */
#define SECRET "Sup3r-Secret-w2"
#define EXPECTED_HOSTS                                                                             \
  "expected a CIDR (10.0.0.0/16, fd00::/64), a range (10.0.1.10-10.0.1.99), an address, a host "   \
  "name or a glob of letters, digits, '.', ':', '-', '_', '*' and '?' (10.0.2.*)"

static char *tmp_dir;

/* ---- helpers ----------------------------------------------------------- */

static char *
write_file(const char *name, const char *content, int mode)
{
  char *path = g_build_filename(tmp_dir, name, NULL);
  g_assert_true(g_file_set_contents(path, content, -1, NULL));
  g_assert_cmpint(g_chmod(path, mode), ==, 0);
  return path;
}

/* Loads @text as the whole antmon.ini, the way the daemon and the CLI do. */
static AmConfigFile *
load_ini(const char *text, GError **error)
{
  g_autofree char *path = write_file("antmon.ini", text, 0600);
  return am_config_file_load(path, error);
}

static AmConfigFile *
load_ok(const char *text)
{
  g_autoptr(GError) error = NULL;
  AmConfigFile *config = load_ini(text, &error);
  g_assert_no_error(error);
  g_assert_nonnull(config->credentials);
  return config;
}

/* The name of the first group matching, or NULL. */
static const char *
group_for(AmConfigFile *config, const char *host, const char *model, const char *driver)
{
  const char *name = NULL;
  gboolean found =
      am_credentials_lookup(config->credentials, host, model, driver, NULL, NULL, &name);
  g_assert_cmpint(found, ==, name != NULL);
  return name;
}

/* ---- which hosts a group matches --------------------------------------- */

static void
test_cidr_v4(void)
{
  g_autoptr(AmConfigFile) config = load_ok("[credentials:net]\n"
                                           "hosts=10.0.0.0/16;192.168.7.9/32\n"
                                           "password=x\n");
  g_assert_cmpstr(group_for(config, "10.0.0.0", NULL, NULL), ==, "net");
  g_assert_cmpstr(group_for(config, "10.0.0.1", NULL, NULL), ==, "net");
  g_assert_cmpstr(group_for(config, "10.0.255.255", NULL, NULL), ==, "net");
  g_assert_cmpstr(group_for(config, "192.168.7.9", NULL, NULL), ==, "net");
  g_assert_null(group_for(config, "10.1.0.0", NULL, NULL));
  g_assert_null(group_for(config, "9.255.255.255", NULL, NULL));
  g_assert_null(group_for(config, "192.168.7.10", NULL, NULL));
  g_assert_null(group_for(config, "miner.example", NULL, NULL));
  /* The same address reached over an IPv6 socket. */
  g_assert_cmpstr(group_for(config, "::ffff:10.0.3.4", NULL, NULL), ==, "net");

  g_autoptr(AmConfigFile) all = load_ok("[credentials:all]\nhosts=0.0.0.0/0\nuser=u\n");
  g_assert_cmpstr(group_for(all, "255.255.255.255", NULL, NULL), ==, "all");
  g_assert_null(group_for(all, "fd00::1", NULL, NULL));
}

static void
test_cidr_v6(void)
{
  g_autoptr(AmConfigFile) config = load_ok("[credentials:v6]\n"
                                           "hosts=fd00:1::/64;2001:db8::7/128\n"
                                           "password=x\n");
  g_assert_cmpstr(group_for(config, "fd00:1::5", NULL, NULL), ==, "v6");
  g_assert_cmpstr(group_for(config, "[fd00:1::5]", NULL, NULL), ==, "v6");
  g_assert_cmpstr(group_for(config, "FD00:1:0:0:ffff:ffff:ffff:ffff", NULL, NULL), ==, "v6");
  g_assert_cmpstr(group_for(config, "2001:db8::7", NULL, NULL), ==, "v6");
  g_assert_null(group_for(config, "fd00:1:0:1::", NULL, NULL));
  g_assert_null(group_for(config, "2001:db8::8", NULL, NULL));
  g_assert_null(group_for(config, "10.0.0.1", NULL, NULL));
}

static void
test_ranges(void)
{
  g_autoptr(AmConfigFile) config = load_ok("[credentials:r]\n"
                                           "hosts=10.0.1.10-10.0.1.99;fd00::10-fd00::1:0\n"
                                           "password=x\n");
  g_assert_null(group_for(config, "10.0.1.9", NULL, NULL));
  g_assert_cmpstr(group_for(config, "10.0.1.10", NULL, NULL), ==, "r");
  g_assert_cmpstr(group_for(config, "10.0.1.55", NULL, NULL), ==, "r");
  g_assert_cmpstr(group_for(config, "10.0.1.99", NULL, NULL), ==, "r");
  g_assert_null(group_for(config, "10.0.1.100", NULL, NULL));
  g_assert_null(group_for(config, "fd00::f", NULL, NULL));
  g_assert_cmpstr(group_for(config, "fd00::ffff", NULL, NULL), ==, "r");
  g_assert_cmpstr(group_for(config, "fd00::1:0", NULL, NULL), ==, "r");
  g_assert_null(group_for(config, "fd00::1:1", NULL, NULL));

  /* A range spanning octets compares as one number. */
  g_autoptr(AmConfigFile) wide = load_ok("[credentials:w]\nhosts=10.0.1.250-10.0.2.5\nuser=u\n");
  g_assert_cmpstr(group_for(wide, "10.0.1.251", NULL, NULL), ==, "w");
  g_assert_cmpstr(group_for(wide, "10.0.2.0", NULL, NULL), ==, "w");
  g_assert_null(group_for(wide, "10.0.2.6", NULL, NULL));
  g_assert_null(group_for(wide, "10.0.1.5", NULL, NULL));
}

static void
test_host_globs(void)
{
  g_autoptr(AmConfigFile) config = load_ok("[credentials:g]\n"
                                           "hosts=10.0.2.*;rack1-??.farm;pool-a.example\n"
                                           "password=x\n");
  g_assert_cmpstr(group_for(config, "10.0.2.7", NULL, NULL), ==, "g");
  g_assert_cmpstr(group_for(config, "10.0.2.254", NULL, NULL), ==, "g");
  g_assert_null(group_for(config, "10.0.3.7", NULL, NULL));
  g_assert_null(group_for(config, "110.0.2.7", NULL, NULL));
  /* Names compare without case, as DNS does. */
  g_assert_cmpstr(group_for(config, "RACK1-07.farm", NULL, NULL), ==, "g");
  g_assert_null(group_for(config, "rack1-107.farm", NULL, NULL));
  g_assert_cmpstr(group_for(config, "Pool-A.example", NULL, NULL), ==, "g");
  g_assert_null(group_for(config, "pool-b.example", NULL, NULL));
}

/* ---- models and drivers ------------------------------------------------ */

static void
test_model_globs(void)
{
  g_autoptr(AmConfigFile) config = load_ok("[credentials:s19]\n"
                                           "model=Antminer S19*;Antminer T19\n"
                                           "password=x\n");
  g_assert_cmpstr(group_for(config, "10.0.0.1", "Antminer S19 Pro", NULL), ==, "s19");
  g_assert_cmpstr(group_for(config, "10.0.0.1", "antminer s19j pro", NULL), ==, "s19");
  g_assert_cmpstr(group_for(config, "10.0.0.1", "Antminer T19", NULL), ==, "s19");
  g_assert_null(group_for(config, "10.0.0.1", "Antminer T19 Hydro", NULL));
  g_assert_null(group_for(config, "10.0.0.1", "Antminer S21", NULL));
  /* Before the first sample the model is unknown: no model group yet. */
  g_assert_null(group_for(config, "10.0.0.1", NULL, NULL));
}

static void
test_hosts_model_and_driver_together(void)
{
  g_autoptr(AmConfigFile) config = load_ok("[credentials:both]\n"
                                           "hosts=10.0.0.0/24\n"
                                           "model=*S19*\n"
                                           "driver=braiins;Antminer-Web\n"
                                           "password=x\n");
  g_assert_cmpstr(group_for(config, "10.0.0.5", "Antminer S19", "braiins"), ==, "both");
  g_assert_cmpstr(group_for(config, "10.0.0.5", "Antminer S19", "antminer-web"), ==, "both");
  g_assert_null(group_for(config, "10.0.1.5", "Antminer S19", "braiins"));
  g_assert_null(group_for(config, "10.0.0.5", "Antminer S21", "braiins"));
  g_assert_null(group_for(config, "10.0.0.5", "Antminer S19", "luxos"));
  g_assert_null(group_for(config, "10.0.0.5", "Antminer S19", NULL));
}

/* ---- order ------------------------------------------------------------- */

static void
test_first_match_wins(void)
{
  const char *broad_first = "[credentials:farm]\nhosts=10.0.0.0/8\nuser=farm\npassword=f\n"
                            "[credentials:rack]\nhosts=10.0.1.0/24\nuser=rack\npassword=r\n";
  g_autoptr(AmConfigFile) config = load_ok(broad_first);
  const char *user = NULL, *password = NULL, *name = NULL;
  g_assert_true(
      am_credentials_lookup(config->credentials, "10.0.1.5", NULL, NULL, &user, &password, &name));
  g_assert_cmpstr(name, ==, "farm");
  g_assert_cmpstr(user, ==, "farm");
  g_assert_cmpstr(password, ==, "f");

  /* Written the other way round, the narrower group comes first and wins. */
  const char *narrow_first = "[credentials:rack]\nhosts=10.0.1.0/24\nuser=rack\npassword=r\n"
                             "[credentials:farm]\nhosts=10.0.0.0/8\nuser=farm\npassword=f\n";
  g_autoptr(AmConfigFile) other = load_ok(narrow_first);
  g_assert_true(
      am_credentials_lookup(other->credentials, "10.0.1.5", NULL, NULL, &user, &password, &name));
  g_assert_cmpstr(name, ==, "rack");
  g_assert_cmpstr(user, ==, "rack");
  g_assert_cmpstr(password, ==, "r");
  g_assert_cmpstr(group_for(other, "10.0.2.5", NULL, NULL), ==, "farm");
}

static void
test_disabled_group_is_skipped(void)
{
  g_autoptr(AmConfigFile) config =
      load_ok("[credentials:off]\nhosts=10.0.0.0/8\nuser=off\nenabled=false\n"
              "[credentials:on]\nhosts=10.0.0.0/8\nuser=on\n");
  g_assert_cmpuint(am_credentials_get_n_groups(config->credentials), ==, 1);
  g_assert_cmpstr(group_for(config, "10.1.2.3", NULL, NULL), ==, "on");
}

/* ---- applying to a miner ----------------------------------------------- */

static void
test_apply_order(void)
{
  g_autoptr(AmConfigFile) config = load_ok("[miner:own]\n"
                                           "host=10.0.1.7\n"
                                           "username=mine\n"
                                           "password=m\n"
                                           "[miner:plain]\n"
                                           "host=10.0.1.8\n"
                                           "[credentials:s19]\n"
                                           "hosts=10.0.1.0/24\n"
                                           "model=Antminer S19*\n"
                                           "user=s19\n"
                                           "password=s\n"
                                           "[credentials:rack]\n"
                                           "hosts=10.0.1.0/24\n"
                                           "user=rack\n"
                                           "password=r\n");
  AmCredentials *c = config->credentials;

  /* The miner's own login wins over every group. */
  g_autoptr(AmMiner) own = am_miner_new("10.0.1.7", 4028);
  g_assert_cmpstr(am_credentials_apply(c, own, "Antminer S19", "antminer"), ==, "miner");
  g_assert_cmpstr(am_miner_get_username(own), ==, "mine");
  g_assert_cmpstr(am_miner_get_password(own), ==, "m");

  /* Added by host: the model group cannot match yet, the rack group does. */
  g_autoptr(AmMiner) plain = am_miner_new("10.0.1.8", 4028);
  g_assert_cmpstr(am_credentials_apply(c, plain, NULL, NULL), ==, "credentials:rack");
  g_assert_cmpstr(am_miner_get_username(plain), ==, "rack");
  g_assert_cmpstr(am_miner_get_password(plain), ==, "r");
  /* Its first sample says S19: the earlier, model group now comes first. */
  g_assert_cmpstr(am_credentials_apply(c, plain, "Antminer S19j", "antminer"), ==,
                  "credentials:s19");
  g_assert_cmpstr(am_miner_get_username(plain), ==, "s19");
  g_assert_cmpstr(am_miner_get_password(plain), ==, "s");
  /* Applying again changes nothing: the strings a driver holds stay valid. */
  const char *held = am_miner_get_password(plain);
  am_credentials_apply(c, plain, "Antminer S19j", "antminer");
  g_assert_true(am_miner_get_password(plain) == held);

  /* No group: no login, so the driver's [driver:NAME] or factory one applies. */
  g_autoptr(AmMiner) outside = am_miner_new("10.0.9.9", 4028);
  am_miner_set_credentials(outside, "stale", "stale");
  g_assert_null(am_credentials_apply(c, outside, "Antminer S19", "antminer"));
  g_assert_null(am_miner_get_username(outside));
  g_assert_null(am_miner_get_password(outside));

  /* Own logins are by address: the same host on another port is another miner. */
  g_autoptr(AmMiner) other_port = am_miner_new("10.0.1.7", 4029);
  g_assert_cmpstr(am_credentials_apply(c, other_port, NULL, NULL), ==, "credentials:rack");

  /* Without a configuration nothing is touched. */
  g_assert_null(am_credentials_apply(NULL, own, NULL, NULL));
  g_assert_cmpstr(am_miner_get_username(own), ==, "mine");
}

static void
test_user_only_group(void)
{
  /* A group may set only one half; the driver fills in the other. */
  g_autoptr(AmConfigFile) config = load_ok("[credentials:u]\nhosts=10.0.0.0/8\nusername=admin\n");
  g_autoptr(AmMiner) miner = am_miner_new("10.2.3.4", 80);
  am_credentials_apply(config->credentials, miner, NULL, NULL);
  g_assert_cmpstr(am_miner_get_username(miner), ==, "admin");
  g_assert_null(am_miner_get_password(miner));
}

/* ---- secrets ----------------------------------------------------------- */

static void
test_password_file_private(void)
{
  g_autofree char *secret = write_file("rack.pass", SECRET "\n", 0600);
  g_autofree char *text =
      g_strdup_printf("[credentials:f]\nhosts=10.0.0.0/8\npassword_file=%s\n", secret);
  g_autoptr(AmConfigFile) config = load_ok(text);
  const char *password = NULL;
  g_assert_true(
      am_credentials_lookup(config->credentials, "10.0.0.1", NULL, NULL, NULL, &password, NULL));
  g_assert_cmpstr(password, ==, SECRET);

  /* Readable by the owner's group is fine (a service group may need it). */
  g_assert_cmpint(g_chmod(secret, 0640), ==, 0);
  g_autoptr(AmConfigFile) group_readable = load_ok(text);
  g_assert_cmpuint(am_credentials_get_n_groups(group_readable->credentials), ==, 1);
}

static void
test_password_file_world_readable(void)
{
  g_autofree char *secret = write_file("open.pass", SECRET "\n", 0644);
  g_autofree char *ini = g_build_filename(tmp_dir, "antmon.ini", NULL);
  g_autofree char *text =
      g_strdup_printf("[credentials:f]\nhosts=10.0.0.0/8\npassword_file=%s\n", secret);
  g_autoptr(GError) error = NULL;
  g_assert_null(load_ini(text, &error));
  g_autofree char *expected = g_strdup_printf(
      "%s: [credentials:f] password_file=%s: expected a file that others cannot read or write, "
      "but its mode is 0644: run chmod 600 %s",
      ini, secret, secret);
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_cmpstr(error->message, ==, expected);
  g_assert_null(strstr(error->message, SECRET));

  /* World-writable is refused too: anyone could swap the login. */
  g_clear_error(&error);
  g_assert_cmpint(g_chmod(secret, 0602), ==, 0);
  g_assert_null(load_ini(text, &error));
  g_assert_nonnull(strstr(error->message, "its mode is 0602"));
}

static void
test_password_env(void)
{
  g_setenv("AM_TEST_RACK_PASSWORD", SECRET, TRUE);
  g_autoptr(AmConfigFile) config = load_ok("[credentials:e]\nhosts=10.0.0.0/8\n"
                                           "user=root\npassword=${AM_TEST_RACK_PASSWORD}\n");
  const char *password = NULL;
  g_assert_true(
      am_credentials_lookup(config->credentials, "10.0.0.1", NULL, NULL, NULL, &password, NULL));
  g_assert_cmpstr(password, ==, SECRET);

  g_unsetenv("AM_TEST_RACK_PASSWORD");
  g_autoptr(GError) error = NULL;
  g_autofree char *ini = g_build_filename(tmp_dir, "antmon.ini", NULL);
  g_assert_null(
      load_ini("[credentials:e]\nhosts=10.0.0.0/8\npassword=${AM_TEST_RACK_PASSWORD}\n", &error));
  g_autofree char *expected = g_strdup_printf(
      "%s: [credentials:e] password: environment variable AM_TEST_RACK_PASSWORD is not set", ini);
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_cmpstr(error->message, ==, expected);
}

/* ---- bad values -------------------------------------------------------- */

/* Each case is one group (with SECRET as its password unless the case says
 * otherwise) and the message after "PATH: ". */
static const struct {
  const char *group;
  const char *message;
} bad_cases[] = {
    {"[credentials:a]\nhosts=10.0.1.5/16\npassword=" SECRET "\n",
     "[credentials:a] hosts=10.0.1.5/16: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=10.0.0.0/33\npassword=" SECRET "\n",
     "[credentials:a] hosts=10.0.0.0/33: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=10.0.0.0/\npassword=" SECRET "\n",
     "[credentials:a] hosts=10.0.0.0/: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=fd00::1/64\npassword=" SECRET "\n",
     "[credentials:a] hosts=fd00::1/64: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=fd00::/129\npassword=" SECRET "\n",
     "[credentials:a] hosts=fd00::/129: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=300.1.1.1\npassword=" SECRET "\n",
     "[credentials:a] hosts=300.1.1.1: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=10.0.1\npassword=" SECRET "\n",
     "[credentials:a] hosts=10.0.1: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=10.0.1.99-10.0.1.10\npassword=" SECRET "\n",
     "[credentials:a] hosts=10.0.1.99-10.0.1.10: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=10.0.0.1-fd00::1\npassword=" SECRET "\n",
     "[credentials:a] hosts=10.0.0.1-fd00::1: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=10.0.0.1-\npassword=" SECRET "\n",
     "[credentials:a] hosts=10.0.0.1-: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=10.0.0.1,10.0.0.2\npassword=" SECRET "\n",
     "[credentials:a] hosts=10.0.0.1,10.0.0.2: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=fd00::g\npassword=" SECRET "\n",
     "[credentials:a] hosts=fd00::g: " EXPECTED_HOSTS},
    {"[credentials:a]\nhosts=\npassword=" SECRET "\n",
     "[credentials:a] hosts is empty: expected a ';' list of one item or more"},
    {"[credentials:a]\nhosts=10.0.0.0/8\nmodel=;\npassword=" SECRET "\n",
     "[credentials:a] model is empty: expected a ';' list of one item or more"},
    {"[credentials:a]\ndriver=braiins/os\npassword=" SECRET "\n",
     "[credentials:a] driver=braiins/os: expected driver names of letters, digits, '-' and '_' "
     "(see `antmon plugins`)"},
    {"[credentials:a]\nuser=root\npassword=" SECRET "\n",
     "[credentials:a] sets none of hosts=, model= and driver=: expected at least one, or the "
     "group matches no miner"},
    {"[credentials:a]\nhosts=10.0.0.0/8\n",
     "[credentials:a] sets neither user= nor password=: expected at least one"},
    {"[credentials:]\nhosts=10.0.0.0/8\npassword=" SECRET "\n",
     "[credentials:] expected a name after 'credentials:'"},
    {"[credentials:a]\nhosts=10.0.0.0/8\npassword=" SECRET "\npassword_file=/etc/x\n",
     "[credentials:a] password and password_file are both set: keep one"},
    {"[credentials:a]\nhosts=10.0.0.0/8\nuser=a\nusername=b\npassword=" SECRET "\n",
     "[credentials:a] user and username are both set: keep one"},
    {"[credentials:a]\nhosts=10.0.0.0/8\npassword=" SECRET "$\n",
     "[credentials:a] password: expected ${NAME} after '$' (write $$ for a literal $)"},
    {"[credentials:a]\nhosts=10.0.0.0/8\npassword_file=/nonexistent/rack.pass\n",
     "[credentials:a] password_file=/nonexistent/rack.pass: expected a readable file (No such "
     "file or directory)"},
    {"[credentials:a]\nhosts=10.0.0.0/8\npassword=" SECRET "\nenabled=maybe\n",
     "[credentials:a] enabled=maybe: expected true or false (or yes/no, 1/0)"},
};

static void
test_bad_values(void)
{
  g_autofree char *ini = g_build_filename(tmp_dir, "antmon.ini", NULL);
  for (guint i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
    g_autoptr(GError) error = NULL;
    g_test_message("case %u: %s", i, bad_cases[i].message);
    g_assert_null(load_ini(bad_cases[i].group, &error));
    g_autofree char *expected = g_strdup_printf("%s: %s", ini, bad_cases[i].message);
    g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
    g_assert_cmpstr(error->message, ==, expected);
    g_assert_null(strstr(error->message, SECRET));
  }
}

/* A disabled group is still checked: turning it on later must not be the
 * moment a typo stops the daemon. */
static void
test_disabled_group_is_checked(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_null(load_ini("[credentials:off]\nhosts=10.0.0.0/33\nuser=u\nenabled=false\n", &error));
  g_assert_error(error, AM_ERROR, AM_ERROR_CONFIG);
  g_assert_nonnull(strstr(error->message, "[credentials:off] hosts=10.0.0.0/33: expected"));
}

static void
test_unknown_key_warns(void)
{
  if (g_test_subprocess()) {
    g_log_set_always_fatal(G_LOG_FATAL_MASK); /* let the warning through */
    g_autoptr(AmConfigFile) config =
        load_ok("[credentials:a]\nhosts=10.0.0.0/8\nmodel=S19*\ndriver=braiins\n"
                "user=u\npassword_file=\npasword=x\nenabled=true\n");
    g_assert_cmpuint(am_config_file_warn_unknown(config, NULL), ==, 1);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr("*antmon.ini: [credentials:a] unknown key 'pasword'\n*");
  g_test_trap_assert_stderr_unmatched("*unknown group*");
}

/* ---- a farm ------------------------------------------------------------ */

/* 5,000 miners in 25 racks of 200 (10.R.0.1 .. 10.R.0.200), one group per
 * rack plus a glob and a model group in front that match none of them:
 * every miner gets its rack's login. (Speed is the design, not asserted:
 * each lookup compares numbers, see am-host-set.c.) */
static void
test_farm(void)
{
  g_autoptr(GString) ini = g_string_new("[credentials:names]\nhosts=rack*.farm\nuser=n\n"
                                        "[credentials:s9]\nmodel=Antminer S9*\nuser=s9\n");
  for (guint rack = 0; rack < 25; rack++)
    g_string_append_printf(ini,
                           "[credentials:rack%u]\nhosts=10.%u.0.1-10.%u.0.200\n"
                           "user=root\npassword=pw%u\n",
                           rack, rack, rack, rack);
  g_autoptr(AmConfigFile) config = load_ok(ini->str);
  g_assert_cmpuint(am_credentials_get_n_groups(config->credentials), ==, 27);

  guint matched = 0;
  for (guint i = 0; i < 5000; i++) {
    guint rack = i / 200, unit = i % 200 + 1;
    g_autofree char *host = g_strdup_printf("10.%u.0.%u", rack, unit);
    g_autofree char *want = g_strdup_printf("pw%u", rack);
    const char *password = NULL;
    if (am_credentials_lookup(config->credentials, host, "Antminer S19", "antminer", NULL,
                              &password, NULL) &&
        g_strcmp0(password, want) == 0)
      matched++;
  }
  g_assert_cmpuint(matched, ==, 5000);
  g_assert_null(group_for(config, "10.0.0.201", "Antminer S19", "antminer"));
  g_assert_null(group_for(config, "10.25.0.1", "Antminer S19", "antminer"));
}

/* The example documented in antmon.ini, uncommented, loads and means what
 * its comments say. */
static void
test_documented_example(void)
{
  g_setenv("RACK_S19_PASSWORD", SECRET, TRUE);
  g_autoptr(AmConfigFile) config =
      load_ok("[credentials:rack-s19]\n"
              "hosts=10.0.0.0/16;10.1.0.10-10.1.0.99;10.2.0.*;fd00:1::/64\n"
              "model=Antminer S19*;Antminer T19*\n"
              "driver=antminer-web;antminer\n"
              "user=root\n"
              "password=${RACK_S19_PASSWORD}\n"
              "enabled=true\n");
  g_unsetenv("RACK_S19_PASSWORD");
  const char *user = NULL, *password = NULL;
  g_assert_true(am_credentials_lookup(config->credentials, "10.1.0.50", "Antminer S19k Pro",
                                      "antminer", &user, &password, NULL));
  g_assert_cmpstr(user, ==, "root");
  g_assert_cmpstr(password, ==, SECRET);
  g_assert_cmpstr(group_for(config, "fd00:1::9", "Antminer T19", "antminer-web"), ==, "rack-s19");
  g_assert_null(group_for(config, "10.1.0.50", "Antminer S21", "antminer"));
  g_assert_null(group_for(config, "10.1.0.50", "Antminer S19", "braiins"));
  g_assert_null(group_for(config, "10.3.0.1", "Antminer S19", "antminer"));
}

/* ---- the antmon command ------------------------------------------------ */

/* Runs `antmon check-config -c @ini` with the test plugins (whose one good
 * driver is "good"); returns its exit status, and its stdout and stderr
 * together in @output. */
static int
check_config(const char *ini, char **output)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_setenv(launcher, "ANTMON_PLUGIN_DIR", g_getenv("ANTMON_TEST_PLUGIN_DIR"),
                               TRUE);
  g_autoptr(GSubprocess) proc = g_subprocess_launcher_spawn(
      launcher, &error, g_getenv("ANTMON_BIN"), "check-config", "-c", ini, NULL);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, output, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_if_exited(proc));
  return g_subprocess_get_exit_status(proc);
}

/* What an operator sees: a farm's groups pass `antmon check-config` with no
 * warning and no secret printed; a bad one stops it with file, group, key
 * and what was expected. */
static void
test_check_config(void)
{
  g_autofree char *secret = write_file("farm.pass", SECRET "\n", 0600);
  g_autofree char *good_text = g_strdup_printf("[credentials:s19]\n"
                                               "hosts=10.0.0.0/16;10.1.0.10-10.1.0.99;10.2.0.*\n"
                                               "model=Antminer S19*\n"
                                               "driver=good\n"
                                               "user=root\n"
                                               "password_file=%s\n",
                                               secret);
  g_autofree char *good = write_file("good.ini", good_text, 0600);
  g_autofree char *output = NULL;
  g_assert_cmpint(check_config(good, &output), ==, 0);
  g_autofree char *ok = g_strdup_printf("%s: OK (0 warnings,", good);
  g_assert_nonnull(strstr(output, ok));
  g_assert_null(strstr(output, SECRET));

  g_autofree char *bad = write_file("bad.ini",
                                    "[credentials:s19]\nhosts=10.0.0.0/16;10.0.1.0/33\n"
                                    "user=root\npassword=" SECRET "\n",
                                    0600);
  g_autofree char *refused = NULL;
  g_assert_cmpint(check_config(bad, &refused), ==, 2);
  g_autofree char *message = g_strdup_printf("antmon: %s: [credentials:s19] hosts=10.0.1.0/33: "
                                             "expected a CIDR",
                                             bad);
  g_assert_nonnull(strstr(refused, message));
  g_assert_null(strstr(refused, SECRET));

  /* A driver= that names no installed driver would never match: a warning. */
  g_autofree char *typo =
      write_file("typo.ini", "[credentials:t]\ndriver=good;antminer_web\nuser=root\n", 0600);
  g_autofree char *warned = NULL;
  g_assert_cmpint(check_config(typo, &warned), ==, 0);
  g_autofree char *warning = g_strdup_printf(
      "%s: [credentials:t] driver=antminer_web: no driver plugin named 'antminer_web' is "
      "installed",
      typo);
  g_assert_nonnull(strstr(warned, warning));
  g_autofree char *one = g_strdup_printf("%s: OK (1 warning,", typo);
  g_assert_nonnull(strstr(warned, one));
}

/* ---- a driver logs in with a group's login ----------------------------- */

/* tests/fakeminer/profiles/elphapex-dg1 (web API behind digest auth) copied
 * to @dir with its factory password root/root changed to @password.
 * Returns: (transfer full) the copy's path. */
static char *
copy_profile_with_password(const char *dir, const char *password)
{
  g_autofree char *source = am_test_profile_dir("elphapex-dg1");
  char *copy = g_build_filename(tmp_dir, dir, NULL);
  g_assert_cmpint(g_mkdir(copy, 0700), ==, 0);
  g_autoptr(GDir) files = g_dir_open(source, 0, NULL);
  g_assert_nonnull(files);
  const char *name;
  while ((name = g_dir_read_name(files)) != NULL) {
    g_autofree char *from = g_build_filename(source, name, NULL);
    g_autofree char *to = g_build_filename(copy, name, NULL);
    g_autofree char *content = NULL;
    g_assert_true(g_file_get_contents(from, &content, NULL, NULL));
    if (g_str_equal(name, "profile.ini")) {
      g_autofree char *line = g_strdup_printf("password=%s\n", password);
      g_auto(GStrv) parts = g_strsplit(content, "password=root\n", 2);
      g_assert_cmpuint(g_strv_length(parts), ==, 2);
      g_free(content);
      content = g_strjoin(line, parts[0], parts[1], NULL);
    }
    g_assert_true(g_file_set_contents(to, content, -1, NULL));
  }
  return copy;
}

typedef struct {
  GMainLoop *loop;
  AmSample *sample;
  GError *error;
} PollWait;

static void
polled(GObject *source, GAsyncResult *result, gpointer user_data)
{
  PollWait *w = user_data;
  (void)source;
  w->sample = am_driver_poll_finish(result, &w->error);
  g_main_loop_quit(w->loop);
}

/* One poll of @miner by @driver; returns the sample or NULL with @error. */
static AmSample *
poll_once(AmInstance *driver, AmMiner *miner, GError **error)
{
  PollWait w = {.loop = g_main_loop_new(NULL, FALSE)};
  am_driver_poll_async(driver, miner, NULL, polled, &w);
  g_main_loop_run(w.loop);
  g_main_loop_unref(w.loop);
  if (w.error != NULL)
    g_propagate_error(error, w.error);
  return w.sample;
}

/* A farm whose Elphapex units no longer take the factory root/root: the
 * real driver, polling a fake unit over HTTP digest, is refused without
 * the [credentials:NAME] login and gets in once it is applied. */
static void
test_driver_logs_in_with_group(void)
{
  g_autofree char *profile = copy_profile_with_password("dg1-farm", "farm-pw");
  guint16 http_port = am_test_free_port();
  g_autofree char *fleet_text = g_strdup_printf("127.0.0.1 %s http_port=%u\n", profile, http_port);
  AmTestFleet *fleet = am_test_fleet_start(fleet_text);

  g_autoptr(AmConfigFile) config = load_ok("[credentials:dg1]\n"
                                           "hosts=127.0.0.0/8\n"
                                           "driver=elphapex\n"
                                           "user=root\n"
                                           "password=farm-pw\n");
  g_auto(GStrv) dirs = am_plugin_dirs(NULL);
  g_autoptr(AmPluginSet) plugins = am_plugin_set_load(dirs);
  g_autoptr(AmContext) ctx = am_context_new(tmp_dir, NULL);
  g_autoptr(AmInstances) instances = am_instances_new();
  am_instances_create_kind(instances, plugins, AM_PLUGIN_KIND_DRIVER, ctx, config->kf,
                           config->path);
  AmInstance *elphapex = am_instances_find_driver(instances, "elphapex");
  g_assert_nonnull(elphapex);

  /* On a port other than 4028 the driver speaks HTTP to that port. */
  g_autoptr(AmMiner) miner = am_miner_new("127.0.0.1", http_port);
  am_miner_set_timeout_ms(miner, 5000);

  /* Added by host, before its driver is known: the group asks for the
   * elphapex driver, so no login yet, and the factory root/root the driver
   * falls back to is refused, as the unit refuses it. */
  g_assert_null(am_credentials_apply(config->credentials, miner, NULL, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(AmSample) refused = poll_once(elphapex, miner, &error);
  g_assert_null(refused);
  g_assert_error(error, AM_ERROR, AM_ERROR_AUTH);
  g_clear_error(&error);

  /* Identified as an Elphapex: the group's login applies and gets in. */
  g_assert_cmpstr(am_credentials_apply(config->credentials, miner, NULL, "elphapex"), ==,
                  "credentials:dg1");
  g_autoptr(AmSample) sample = poll_once(elphapex, miner, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(sample->model, ==, "Elphapex DG-Home1");

  am_test_fleet_stop(fleet);
}

/* ---- the daemon --------------------------------------------------------- */

typedef struct {
  GDataInputStream *err;
  GString *seen;
  char *line;
  gboolean eof;
} DaemonLog;

static void
on_daemon_line(GObject *stream, GAsyncResult *result, gpointer user_data)
{
  DaemonLog *log = user_data;
  log->line =
      g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(stream), result, NULL, NULL);
  if (log->line == NULL) {
    log->line = g_strdup("");
    log->eof = TRUE;
  }
}

/* Reads the daemon's log until a line holds @needle @times times. FALSE
 * at its end. */
static gboolean
daemon_wait_for(DaemonLog *log, const char *needle, guint times)
{
  for (guint found = 0; found < times;) {
    g_data_input_stream_read_line_async(log->err, G_PRIORITY_DEFAULT, NULL, on_daemon_line, log);
    while (log->line == NULL)
      g_main_context_iteration(NULL, TRUE);
    g_string_append_printf(log->seen, "%s\n", log->line);
    if (strstr(log->line, needle) != NULL)
      found++;
    g_clear_pointer(&log->line, g_free);
    if (log->eof)
      return FALSE;
  }
  return TRUE;
}

/* The daemon gives each configured miner its login: one without its own
 * gets the group's and is reached; one whose [miner:NAME] login is its
 * own (and wrong) keeps it, so the group does not hide the mistake. Even
 * at log_level=debug no password appears in the log. */
static void
test_daemon_applies_groups(void)
{
  g_autofree char *profile = copy_profile_with_password("dg1-daemon", "farm-pw");
  guint16 port_a = am_test_free_port(), port_b = am_test_free_port();
  g_autofree char *fleet_text = g_strdup_printf(
      "127.0.0.1 %s http_port=%u\n127.0.0.2 %s http_port=%u\n", profile, port_a, profile, port_b);
  AmTestFleet *fleet = am_test_fleet_start(fleet_text);

  g_autofree char *state = g_build_filename(tmp_dir, "state", NULL);
  g_autofree char *ini_text =
      g_strdup_printf("[core]\nstate_dir=%s\ninterval=1s\npoll_timeout=2s\nlog_level=debug\n"
                      "[miner:grouped]\nhost=127.0.0.1:%u\ndriver=elphapex\n"
                      "[miner:own]\nhost=127.0.0.2:%u\ndriver=elphapex\n"
                      "username=root\npassword=own-wrong-pw\n"
                      "[credentials:dg1]\nhosts=127.0.0.0/8\ndriver=elphapex\n"
                      "user=root\npassword=farm-pw\n",
                      state, port_a, port_b);
  g_autofree char *ini = write_file("daemon.ini", ini_text, 0600);

  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                                                 g_getenv("ANTMON_BIN"), "run", "-c", ini, NULL);
  g_assert_no_error(error);
  DaemonLog log = {.err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(proc)),
                   .seen = g_string_new(NULL)};
  /* Five poll passes (one a second): each miner has had its chances. */
  g_assert_true(daemon_wait_for(&log, "poll pass:", 5));

  g_subprocess_send_signal(proc, SIGTERM);
  while (daemon_wait_for(&log, "\x01", 1))
    ;
  g_subprocess_wait(proc, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 0);

  /* Reached: online, or degraded as this unit recorded at boot (0 H/s) is. */
  g_autofree char *reached = g_strdup_printf("127.0.0.1:%u: unreachable -> ", port_a);
  g_autofree char *own_reached = g_strdup_printf("127.0.0.2:%u: unreachable -> ", port_b);
  if (strstr(log.seen->str, reached) == NULL)
    g_test_message("daemon log:\n%s", log.seen->str);
  g_assert_nonnull(strstr(log.seen->str, reached));
  g_assert_null(strstr(log.seen->str, own_reached));
  /* The one left is refused for its login, not for anything else. */
  g_assert_nonnull(strstr(log.seen->str, "1 ok, 1 failed (auth 1)"));
  g_assert_null(strstr(log.seen->str, "farm-pw"));
  g_assert_null(strstr(log.seen->str, "own-wrong-pw"));

  g_object_unref(log.err);
  g_string_free(log.seen, TRUE);
  am_test_fleet_stop(fleet);
}

/* ---- main -------------------------------------------------------------- */

/* Removes @path and, for a directory, what it holds (the profile copy). */
static void
remove_tree(const char *path)
{
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *child = g_build_filename(path, name, NULL);
    remove_tree(child);
  }
  g_remove(path);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp("am-test-credentials-XXXXXX", NULL);
  g_assert_nonnull(tmp_dir);

  g_test_add_func("/credentials/cidr-v4", test_cidr_v4);
  g_test_add_func("/credentials/cidr-v6", test_cidr_v6);
  g_test_add_func("/credentials/ranges", test_ranges);
  g_test_add_func("/credentials/host-globs", test_host_globs);
  g_test_add_func("/credentials/model-globs", test_model_globs);
  g_test_add_func("/credentials/hosts-model-driver", test_hosts_model_and_driver_together);
  g_test_add_func("/credentials/first-match-wins", test_first_match_wins);
  g_test_add_func("/credentials/disabled-skipped", test_disabled_group_is_skipped);
  g_test_add_func("/credentials/disabled-checked", test_disabled_group_is_checked);
  g_test_add_func("/credentials/apply-order", test_apply_order);
  g_test_add_func("/credentials/user-only", test_user_only_group);
  g_test_add_func("/credentials/password-file", test_password_file_private);
  g_test_add_func("/credentials/password-file-world-readable", test_password_file_world_readable);
  g_test_add_func("/credentials/password-env", test_password_env);
  g_test_add_func("/credentials/bad-values", test_bad_values);
  g_test_add_func("/credentials/unknown-key", test_unknown_key_warns);
  g_test_add_func("/credentials/farm", test_farm);
  g_test_add_func("/credentials/documented-example", test_documented_example);
  g_test_add_func("/credentials/check-config", test_check_config);
  g_test_add_func("/credentials/driver-logs-in", test_driver_logs_in_with_group);
  g_test_add_func("/credentials/daemon", test_daemon_applies_groups);

  int status = g_test_run();
  remove_tree(tmp_dir); /* a subprocess test made and removes its own */
  return status;
}
