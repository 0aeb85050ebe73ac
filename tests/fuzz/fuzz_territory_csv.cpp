// Fuzz target: the territory table reader and the parent table reader (CSV text). Anything but
// an input error escaping them is a finding.
#include "core/error.hpp"
#include "fuzz.hpp"
#include "scenario/territory_csv.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)csei::parse_territory_csv(text, "fuzz.csv");
  } catch (const csei::InputError&) {
  } catch (const std::exception& e) {
    csei::fuzz::finding(std::string("the territory reader threw ") + e.what());
  }
  try {
    (void)csei::parse_parent_csv(text, "fuzz.csv");
  } catch (const csei::InputError&) {
  } catch (const std::exception& e) {
    csei::fuzz::finding(std::string("the parent table reader threw ") + e.what());
  }
  return 0;
}
