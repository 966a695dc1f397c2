/* STUB: replaced by the config implementation. */
#include "am-config-file.h"
