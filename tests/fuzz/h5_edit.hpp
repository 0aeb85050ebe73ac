// HDF5 fuzzing by edits: the run and sweep file targets start from a valid file that csei wrote
// (made once, at start-up, from a small scenario) and read each fuzz input as a list of edits
// made with the HDF5 library: attributes and datasets replaced by others of any type, shape and
// value (huge declared extents included), single values overwritten, objects deleted or replaced
// by external, soft or virtual links and external storage. The files stay well-formed HDF5, so
// what is fuzzed is csei's readers, not the HDF5 library's own decoder.
#pragma once

#include "fuzz.hpp"

#include <filesystem>
#include <string>

namespace csei::fuzz {

class H5Editor {
public:
  /// Learns the objects and attributes of `base` (a valid file) and keeps its bytes.
  explicit H5Editor(const std::filesystem::path& base);
  /// Writes the base file to `out` and applies the edits that `input` describes.
  void apply(const std::filesystem::path& out, Bytes input) const;

private:
  struct Object {
    std::string path;
    bool dataset = false;
  };
  struct Attribute {
    std::string object, name;
  };
  std::string bytes_;
  std::vector<Object> objects_;
  std::vector<Attribute> attributes_;
};

/// Makes the base files from a small scenario with `csei run` and `csei sweep` (in work_dir()).
std::filesystem::path make_run_file();
std::filesystem::path make_sweep_file();

/// The editors of those base files, each made once on first use (call from
/// LLVMFuzzerInitialize, so that making the file is not part of the first input's run).
const H5Editor& run_file_editor();
const H5Editor& sweep_file_editor();

} // namespace csei::fuzz
