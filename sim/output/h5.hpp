// A thin RAII layer over the HDF5 C API: handles that close themselves, and HDF5 failures turned
// into OutputError at this one boundary.
#pragma once

#include "core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <hdf5.h>
#include <span>
#include <string>
#include <vector>

namespace csei::h5 {

/// Owns one hid_t and closes it with the matching H5*close.
class Handle {
public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer, const std::string& what);
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  ~Handle();

  [[nodiscard]] hid_t id() const { return id_; }
  void close();
  /// Gives up ownership: the caller closes the id.
  [[nodiscard]] hid_t release() {
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

/// Throws OutputError(what) if status < 0.
void check(herr_t status, const std::string& what);

class File;

/// A group or file: the place datasets and attributes hang from.
class Location {
public:
  [[nodiscard]] hid_t id() const { return handle_.id(); }

  void attribute(const std::string& name, const std::string& value);
  void attribute(const std::string& name, std::int64_t value);
  void attribute(const std::string& name, std::uint64_t value);
  void attribute(const std::string& name, double value);

  [[nodiscard]] std::string string_attribute(const std::string& name) const;
  [[nodiscard]] std::int64_t int_attribute(const std::string& name) const;
  [[nodiscard]] double double_attribute(const std::string& name) const;
  [[nodiscard]] bool has_attribute(const std::string& name) const;
  /// Closes the group, dataset or file now (a file: its data reaches the disk, checked).
  void close() { handle_.close(); }

protected:
  Handle handle_;
};

class Group : public Location {
public:
  Group(const Location& parent, const std::string& name, bool create);
};

class File : public Location {
public:
  enum class Mode { create, read };
  File(const std::string& path, Mode mode);
  void flush();
  /// Closes the file and checks that it was written (every object in it must be closed first).
  void close();
};

/// Throws InputError (naming `name`) if the file has an external link, a virtual dataset or a
/// dataset stored in external files: input files are read only from themselves.
void refuse_foreign_data(const File& file, const std::string& name);

/// A simple dataspace of the given shape.
Handle dataspace(const std::vector<hsize_t>& dims);
/// Variable-length UTF-8 strings.
Handle string_type();

/// Fixed-size datasets written at once; `dims` gives the shape (default: one axis of v.size()).
void write_strings(const Location& at, const std::string& name, const std::vector<std::string>& v,
                   const std::vector<hsize_t>& dims = {});
void write_int64(const Location& at, const std::string& name, const std::vector<std::int64_t>& v,
                 const std::vector<hsize_t>& dims = {});
void write_double(const Location& at, const std::string& name, const std::vector<double>& v,
                  const std::vector<hsize_t>& dims = {});
/// Reads a whole float64 dataset.
std::vector<double> read_double(const Location& at, const std::string& name);

std::vector<std::string> read_strings(const Location& at, const std::string& name);
/// Reads a whole integer dataset; `dims` receives its shape.
std::vector<std::int64_t> read_int64(const Location& at, const std::string& name,
                                     std::vector<hsize_t>* dims = nullptr);

/// An open dataset (attributes hang from it like from a group).
class Dataset : public Location {
public:
  Dataset(const Location& parent, const std::string& name);
  explicit Dataset(Handle handle) { handle_ = std::move(handle); }
  /// Its shape.
  [[nodiscard]] std::vector<hsize_t> dims() const;
};

/// Overwrites the whole string dataset `ds` (v has as many strings as ds has elements).
void overwrite_strings(const Dataset& ds, const std::vector<std::string>& v);

/// Dimension scales (H5DS, the netCDF-4 dimension model): makes `scale` a dimension scale named
/// `name`, and attaches a scale to axis `axis` of a dataset.
void make_scale(const Location& scale, const std::string& name);
void attach_scale(const Location& ds, const Location& scale, unsigned axis);

/// A chunk shape for a dataset of shape `dims` whose chunks hold at most `budget_bytes`: the
/// innermost axes whole as far as they fit, then as many outer entries (rows, along the first
/// axis) as fit; an axis of length 0 gets a chunk of 1.
[[nodiscard]] std::vector<hsize_t> chunk_shape(const std::vector<hsize_t>& dims,
                                               std::size_t value_bytes, std::size_t budget_bytes);

/// A dataset of shape [rows, d1, d2, ...] (int64 or float64), created at its full shape,
/// chunked by `chunk`, compressed, and written one row (one time step) at a time by hyperslab.
/// Its chunk cache (on the dataset access property list) holds `cache_bytes`, which must be at
/// least one chunk, so a chunk is compressed once, when it is complete, not at every row.
class RowWriter : public Location {
public:
  enum class Type { int64, float64 };
  RowWriter(const Location& at, const std::string& name, std::vector<hsize_t> dims,
            const std::vector<hsize_t>& chunk, Type type, std::size_t cache_bytes);
  void write(hsize_t row, std::span<const std::int64_t> values);
  void write(hsize_t row, std::span<const double> values);
  [[nodiscard]] const std::vector<hsize_t>& dims() const { return dims_; }

private:
  void write(hsize_t row, const void* data, std::size_t size, hid_t mem_type);
  std::vector<hsize_t> dims_;
  Type type_;
};

} // namespace csei::h5
