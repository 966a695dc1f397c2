/* STUB: replaced by the config implementation. */
#include <antmon/config.h>
