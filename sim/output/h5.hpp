// A thin RAII layer over the HDF5 C API: handles that close themselves, and HDF5 failures turned
// into OutputError at this one boundary.
#pragma once

#include "core/error.hpp"

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
  void close() { handle_.close(); }
};

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

/// A dataset of shape [unlimited, d1, d2, ...] (int64 or float64), chunked and compressed, grown
/// one row (one time step) at a time.
class RowAppender {
public:
  enum class Type { int64, float64 };
  RowAppender(const Location& at, const std::string& name, std::vector<hsize_t> row_shape,
              hsize_t chunk_rows, Type type = Type::int64);
  void append(std::span<const std::int64_t> row);
  void append(std::span<const double> row);
  [[nodiscard]] hsize_t rows() const { return rows_; }

private:
  void append(const void* data, hid_t mem_type);
  Handle dataset_;
  std::vector<hsize_t> row_shape_;
  hsize_t rows_ = 0;
};

} // namespace csei::h5
