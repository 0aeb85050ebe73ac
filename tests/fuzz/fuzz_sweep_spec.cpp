// Fuzz target: the sweep file reader (TOML text, with its base scenario read against
// scenarios/sweeps/). Anything but an input error escaping it is a finding.
#include "core/error.hpp"
#include "fuzz.hpp"
#include "sweep/spec.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)csei::sweep::load_sweep_text(
        text, "fuzz.toml", std::filesystem::path(CSEI_SOURCE_DIR) / "scenarios" / "sweeps");
  } catch (const csei::InputError&) {
  } catch (const std::exception& e) {
    csei::fuzz::finding(std::string("the sweep reader threw ") + e.what());
  }
  return 0;
}
