/* STUB */
#include <glib.h>
