// Fuzz target: the scenario loader, TOML text and `--set` overrides. The input is the scenario's
// text; lines after a line "#%set" (a TOML comment) are overrides, one per line. Relative paths
// (extends, territory tables) are read against scenarios/. Anything but an input error escaping
// the loader is a finding.
#include "core/error.hpp"
#include "fuzz.hpp"
#include "scenario/load.hpp"

#include <new>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view text = input;
  std::vector<std::string> overrides;
  constexpr std::string_view mark = "\n#%set\n";
  if (const auto at = input.find(mark); at != std::string_view::npos) {
    text = input.substr(0, at + 1);
    std::string_view rest = input.substr(at + mark.size());
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      overrides.emplace_back(rest.substr(0, nl));
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
  }
  try {
    (void)csei::load_scenario_text(text, "fuzz.toml",
                                   std::filesystem::path(CSEI_SOURCE_DIR) / "scenarios", overrides);
  } catch (const csei::InputError&) {
  } catch (const std::exception& e) {
    csei::fuzz::finding(std::string("the scenario loader threw ") + e.what());
  }
  return 0;
}
