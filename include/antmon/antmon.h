/* Everything a plugin needs: include this one header. */
#pragma once

#include <antmon/action.h>
#include <antmon/alert.h>
#include <antmon/config.h>
#include <antmon/context.h>
#include <antmon/deadline.h>
#include <antmon/error.h>
#include <antmon/json.h>
#include <antmon/miner.h>
#include <antmon/plugin.h>
#include <antmon/rpc.h>
#include <antmon/sample.h>
#include <antmon/version.h>
#include <antmon/work.h>
#include <gmodule.h>
