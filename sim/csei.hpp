// The simulator as a library (csei::sim): everything a program needs to load a scenario, build
// its world, run it and write or export the run. Installed as <csei/csei.hpp>; the headers it
// includes are under <csei/...> (e.g. <csei/kernel/summary.hpp>).
#pragma once

#include "core/error.hpp"
#include "kernel/series.hpp"
#include "kernel/simulation.hpp"
#include "kernel/summary.hpp"
#include "output/export.hpp"
#include "output/run_writer.hpp"
#include "scenario/load.hpp"
#include "world/world.hpp"
