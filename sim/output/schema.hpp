// The tables of output/SCHEMA.md that come from declarations in the kernel: the per-step series
// (kernel/series.hpp) and the summary metrics (kernel/summary.hpp), as Markdown. `csei schema`
// prints them; a test checks that SCHEMA.md holds them as printed.
#pragma once

#include <string>

namespace csei {

/// The table of /series datasets, one row per series, in file order.
[[nodiscard]] std::string series_markdown();
/// The table of /summary datasets, one row per metric, in file order.
[[nodiscard]] std::string summary_markdown();
/// The /policy series (kPolicySeries).
[[nodiscard]] std::string policy_markdown();

/// The markers around each generated table in SCHEMA.md.
[[nodiscard]] std::string begin_marker(const std::string& table);
[[nodiscard]] std::string end_marker(const std::string& table);

} // namespace csei
