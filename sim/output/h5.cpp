// RAII handles and typed helpers over the HDF5 C API.
#include "output/h5.hpp"

#include "core/memory.hpp"

#include <H5DSpublic.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace csei::h5 {
namespace {

void quiet_hdf5() {
  // HDF5 prints its own error stack by default; errors are reported through OutputError instead.
  // Its exit handler is off: after a failed close (a full disk) it would flush the file again at
  // exit and crash; the operating system releases what is left.
  static std::once_flag once;
  std::call_once(once, [] {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

/// The system's reason for the failure on HDF5's error stack, if its file driver recorded one
/// ("errno = 28, error message = 'No space left on device'"): ": <reason>", else "".
std::string system_reason() {
  std::string found;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        auto& text = *static_cast<std::string*>(out);
        if (!text.empty() || !e->desc) return 0;
        const std::string d = e->desc;
        const auto at = d.find("errno = ");
        if (at == std::string::npos) return 0;
        const int err = std::atoi(d.c_str() + at + 8);
        if (err > 0) text = std::strerror(err);
        return 0;
      },
      &found);
  return found.empty() ? std::string() : ": " + found;
}

Handle scalar_space() {
  return Handle(H5Screate(H5S_SCALAR), H5Sclose, "dataspace");
}

Handle simple_space(const std::vector<hsize_t>& dims, const std::vector<hsize_t>* max = nullptr) {
  return Handle(
      H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max ? max->data() : nullptr),
      H5Sclose, "dataspace");
}

template <class T>
void write_attribute(const Location& at, const std::string& name, hid_t file_type, hid_t mem_type,
                     const T& value) {
  if (H5Aexists(at.id(), name.c_str()) > 0)
    check(H5Adelete(at.id(), name.c_str()), "attribute " + name);
  Handle space = scalar_space();
  Handle attr(H5Acreate2(at.id(), name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, "attribute " + name);
  check(H5Awrite(attr.id(), mem_type, &value), "attribute " + name);
}

/// Opens attribute `name` to read one value of type class `cls` (H5T_STRING: a variable-length
/// string; H5T_INTEGER or H5T_FLOAT: a number of either class). An attribute holding another
/// number of values (an array), or of another type, is refused before anything is read into the
/// single value.
Handle open_attribute(const Location& at, const std::string& name, H5T_class_t cls) {
  Handle attr(H5Aopen(at.id(), name.c_str(), H5P_DEFAULT), H5Aclose, "attribute " + name);
  Handle space(H5Aget_space(attr.id()), H5Sclose, "dataspace of attribute " + name);
  const hssize_t n = H5Sget_simple_extent_npoints(space.id());
  if (n != 1)
    throw OutputError("attribute " + name + " holds " + std::to_string(n) +
                      " values; expected one");
  Handle type(H5Aget_type(attr.id()), H5Tclose, "type of attribute " + name);
  const H5T_class_t c = H5Tget_class(type.id());
  const bool number = c == H5T_INTEGER || c == H5T_FLOAT;
  const bool ok = cls == H5T_STRING ? c == H5T_STRING && H5Tis_variable_str(type.id()) > 0 : number;
  if (!ok)
    throw OutputError("attribute " + name + " is not " +
                      (cls == H5T_STRING ? "a variable-length string" : "a number"));
  return attr;
}

/// The number of values of dataset `ds` (dataspace `space`), checked before anything is
/// allocated for them: at most what the file can hold for it (its stored bytes expanded by the
/// best compression ratio deflate reaches, plus a little for fill values) and what memory
/// allows. `value_bytes`: bytes per value in memory.
std::size_t checked_points(hid_t ds, hid_t space, std::size_t value_bytes,
                           const std::string& name) {
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) throw OutputError("dataspace of " + name);
  const auto points = static_cast<std::uint64_t>(n);
  const std::uint64_t stored = H5Dget_storage_size(ds);
  constexpr std::uint64_t kMaxRatio = 1100, kSlack = 1 << 16;
  const double bytes = static_cast<double>(points) * static_cast<double>(value_bytes);
  if (bytes > static_cast<double>(stored) * kMaxRatio + kSlack)
    throw OutputError("dataset " + name + " declares " + std::to_string(points) +
                      " values but the file stores only " + std::to_string(stored) +
                      " bytes for it");
  if (bytes > static_cast<double>(memory_limit_bytes()))
    throw OutputError("dataset " + name + " would need " + format_bytes(bytes) +
                      " of memory, more than there is");
  return static_cast<std::size_t>(points);
}

} // namespace

Handle string_type() {
  Handle t(H5Tcopy(H5T_C_S1), H5Tclose, "string type");
  check(H5Tset_size(t.id(), H5T_VARIABLE), "string type");
  check(H5Tset_cset(t.id(), H5T_CSET_UTF8), "string type");
  return t;
}

Handle dataspace(const std::vector<hsize_t>& dims) {
  return simple_space(dims);
}

void check(herr_t status, const std::string& what) {
  if (status < 0) throw OutputError("HDF5 failure: " + what + system_reason());
}

Handle::Handle(hid_t id, Closer closer, const std::string& what) : id_(id), close_(closer) {
  quiet_hdf5();
  if (id < 0) throw OutputError("HDF5 failure: " + what + system_reason());
}

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    close();
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

Handle::~Handle() {
  close();
}

void Handle::close() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = H5I_INVALID_HID;
}

void Location::attribute(const std::string& name, const std::string& value) {
  Handle type = string_type();
  const char* p = value.c_str();
  write_attribute(*this, name, type.id(), type.id(), p);
}
void Location::attribute(const std::string& name, std::int64_t value) {
  write_attribute(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, value);
}
void Location::attribute(const std::string& name, std::uint64_t value) {
  write_attribute(*this, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, value);
}
void Location::attribute(const std::string& name, double value) {
  write_attribute(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, value);
}

bool Location::has_attribute(const std::string& name) const {
  return H5Aexists(id(), name.c_str()) > 0;
}

std::string Location::string_attribute(const std::string& name) const {
  Handle attr = open_attribute(*this, name, H5T_STRING);
  Handle type = string_type();
  char* p = nullptr;
  check(H5Aread(attr.id(), type.id(), &p), "reading attribute " + name);
  std::string out = p ? p : "";
  H5free_memory(p);
  return out;
}

std::int64_t Location::int_attribute(const std::string& name) const {
  Handle attr = open_attribute(*this, name, H5T_INTEGER);
  std::int64_t v = 0;
  check(H5Aread(attr.id(), H5T_NATIVE_INT64, &v), "reading attribute " + name);
  return v;
}

double Location::double_attribute(const std::string& name) const {
  Handle attr = open_attribute(*this, name, H5T_FLOAT);
  double v = 0;
  check(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v), "reading attribute " + name);
  return v;
}

Group::Group(const Location& parent, const std::string& name, bool create) {
  handle_ =
      create ? Handle(H5Gcreate2(parent.id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                      H5Gclose, "creating group " + name)
             : Handle(H5Gopen2(parent.id(), name.c_str(), H5P_DEFAULT), H5Gclose,
                      "opening group " + name);
}

File::File(const std::string& path, Mode mode) {
  quiet_hdf5();
  if (mode == Mode::create) {
    handle_ = Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                     "creating " + path);
  } else {
    if (H5Fis_hdf5(path.c_str()) <= 0) throw OutputError(path + ": not an HDF5 file");
    handle_ =
        Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "opening " + path);
  }
}

namespace {

/// Refuses HDF5 external links, and datasets stored in other files (external storage) or made
/// of other files (virtual datasets), anywhere in an input file: they are not followed.
struct Foreign {
  std::string what;
};

herr_t visit_link(hid_t g, const char* name, const H5L_info_t* info, void* data) {
  auto& f = *static_cast<Foreign*>(data);
  if (info->type == H5L_TYPE_EXTERNAL) {
    f.what = std::string("/") + name + " is an external link";
    return 1;
  }
  if (info->type != H5L_TYPE_HARD) return 0;
  const htri_t is_dataset =
      H5Lexists(g, name, H5P_DEFAULT) > 0 ? (H5Oexists_by_name(g, name, H5P_DEFAULT) > 0) : 0;
  if (is_dataset <= 0) return 0;
  const hid_t obj = H5Oopen(g, name, H5P_DEFAULT);
  if (obj < 0) return 0;
  if (H5Iget_type(obj) == H5I_DATASET) {
    const hid_t dcpl = H5Dget_create_plist(obj);
    if (dcpl >= 0) {
      if (H5Pget_layout(dcpl) == H5D_VIRTUAL)
        f.what = std::string("/") + name + " is a virtual dataset";
      else if (H5Pget_external_count(dcpl) > 0)
        f.what = std::string("/") + name + " is stored in external files";
      H5Pclose(dcpl);
    }
  }
  H5Oclose(obj);
  return f.what.empty() ? 0 : 1;
}

} // namespace

void refuse_foreign_data(const File& file, const std::string& name) {
  const hid_t fid = file.id();
  Foreign found;
  H5Lvisit(fid, H5_INDEX_NAME, H5_ITER_NATIVE, &visit_link, &found);
  if (!found.what.empty())
    throw InputError({name, 0, 0, ""},
                     found.what + ": links to other files are refused in an input file");
}

void File::close() {
  const hid_t id = handle_.release();
  if (id >= 0) check(H5Fclose(id), "closing the file");
}

void File::flush() {
  check(H5Fflush(id(), H5F_SCOPE_LOCAL), "flushing file");
}

void write_strings(const Location& at, const std::string& name, const std::vector<std::string>& v,
                   const std::vector<hsize_t>& dims) {
  Handle type = string_type();
  Handle space = simple_space(dims.empty() ? std::vector<hsize_t>{v.size()} : dims);
  Handle ds(H5Dcreate2(at.id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT),
            H5Dclose, "creating dataset " + name);
  std::vector<const char*> ptrs;
  ptrs.reserve(v.size());
  for (const auto& s : v)
    ptrs.push_back(s.c_str());
  if (!v.empty())
    check(H5Dwrite(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
          "writing " + name);
}

namespace {
template <class T>
void write_vector(const Location& at, const std::string& name, const std::vector<T>& v,
                  const std::vector<hsize_t>& dims, hid_t file_type, hid_t mem_type) {
  Handle space = simple_space(dims.empty() ? std::vector<hsize_t>{v.size()} : dims);
  Handle ds(H5Dcreate2(at.id(), name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT),
            H5Dclose, "creating dataset " + name);
  if (!v.empty())
    check(H5Dwrite(ds.id(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "writing " + name);
}
} // namespace

void write_int64(const Location& at, const std::string& name, const std::vector<std::int64_t>& v,
                 const std::vector<hsize_t>& dims) {
  write_vector(at, name, v, dims, H5T_STD_I64LE, H5T_NATIVE_INT64);
}
void write_double(const Location& at, const std::string& name, const std::vector<double>& v,
                  const std::vector<hsize_t>& dims) {
  write_vector(at, name, v, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
}

std::vector<double> read_double(const Location& at, const std::string& name) {
  Handle ds(H5Dopen2(at.id(), name.c_str(), H5P_DEFAULT), H5Dclose, "opening dataset " + name);
  Handle space(H5Dget_space(ds.id()), H5Sclose, "dataspace of " + name);
  std::vector<double> out(checked_points(ds.id(), space.id(), sizeof(double), name));
  if (!out.empty())
    check(H5Dread(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
          "reading " + name);
  return out;
}

std::vector<std::string> read_strings(const Location& at, const std::string& name) {
  Handle ds(H5Dopen2(at.id(), name.c_str(), H5P_DEFAULT), H5Dclose, "opening dataset " + name);
  Handle space(H5Dget_space(ds.id()), H5Sclose, "dataspace of " + name);
  const std::size_t n = checked_points(ds.id(), space.id(), sizeof(char*), name);
  std::vector<char*> ptrs(n, nullptr);
  Handle type = string_type();
  if (n > 0)
    check(H5Dread(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
          "reading " + name);
  std::vector<std::string> out;
  for (char* p : ptrs) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

std::vector<std::int64_t> read_int64(const Location& at, const std::string& name,
                                     std::vector<hsize_t>* dims) {
  Handle ds(H5Dopen2(at.id(), name.c_str(), H5P_DEFAULT), H5Dclose, "opening dataset " + name);
  Handle space(H5Dget_space(ds.id()), H5Sclose, "dataspace of " + name);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  std::vector<hsize_t> d(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.id(), d.data(), nullptr);
  if (dims) *dims = d;
  std::vector<std::int64_t> out(checked_points(ds.id(), space.id(), sizeof(std::int64_t), name));
  if (!out.empty())
    check(H5Dread(ds.id(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
          "reading " + name);
  return out;
}

Dataset::Dataset(const Location& parent, const std::string& name) {
  handle_ =
      Handle(H5Dopen2(parent.id(), name.c_str(), H5P_DEFAULT), H5Dclose, "opening dataset " + name);
}

std::vector<hsize_t> Dataset::dims() const {
  Handle space(H5Dget_space(id()), H5Sclose, "dataspace");
  const int rank = H5Sget_simple_extent_ndims(space.id());
  std::vector<hsize_t> d(static_cast<std::size_t>(std::max(rank, 0)));
  check(H5Sget_simple_extent_dims(space.id(), d.data(), nullptr), "dataspace dims");
  return d;
}

void overwrite_strings(const Dataset& ds, const std::vector<std::string>& v) {
  Handle type = string_type();
  std::vector<const char*> ptrs;
  ptrs.reserve(v.size());
  for (const auto& x : v)
    ptrs.push_back(x.c_str());
  if (!v.empty())
    check(H5Dwrite(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
          "writing strings");
}

void make_scale(const Location& scale, const std::string& name) {
  check(H5DSset_scale(scale.id(), name.c_str()), "dimension scale " + name);
}

void attach_scale(const Location& ds, const Location& scale, unsigned axis) {
  check(H5DSattach_scale(ds.id(), scale.id(), axis), "attaching a dimension scale");
}

std::vector<hsize_t> chunk_shape(const std::vector<hsize_t>& dims, std::size_t value_bytes,
                                 std::size_t budget_bytes) {
  // `room`: values a chunk can still take. Each axis, innermost first, takes what fits of it;
  // room / taken >= 1 always, so the product of the chunk never exceeds the budget.
  hsize_t room = std::max<hsize_t>(1, budget_bytes / std::max<std::size_t>(1, value_bytes));
  std::vector<hsize_t> chunk(dims.size(), 1);
  for (std::size_t a = dims.size(); a-- > 0;) {
    chunk[a] = std::max<hsize_t>(1, std::min(dims[a], room));
    room /= chunk[a];
  }
  return chunk;
}

RowWriter::RowWriter(const Location& at, const std::string& name, std::vector<hsize_t> dims,
                     const std::vector<hsize_t>& chunk, Type type, std::size_t cache_bytes)
    : dims_(std::move(dims)), type_(type) {
  // Fixed size, except axes of length 0 (no clusters): a chunk of 1 needs them extendible.
  std::vector<hsize_t> max = dims_;
  for (auto& m : max)
    if (m == 0) m = H5S_UNLIMITED;
  Handle space = simple_space(dims_, &max);
  Handle create(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "dataset properties");
  check(H5Pset_chunk(create.id(), static_cast<int>(chunk.size()), chunk.data()),
        "chunking " + name);
  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
    check(H5Pset_shuffle(create.id()), "shuffle filter");
    check(H5Pset_deflate(create.id(), 4), "deflate filter");
  }
  Handle access(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, "dataset access properties");
  // w0 = 1: chunks written whole leave the cache first (each is written once, then done).
  check(H5Pset_chunk_cache(access.id(), 521, cache_bytes, 1.0), "chunk cache of " + name);
  handle_ =
      Handle(H5Dcreate2(at.id(), name.c_str(), type == Type::int64 ? H5T_STD_I64LE : H5T_IEEE_F64LE,
                        space.id(), H5P_DEFAULT, create.id(), access.id()),
             H5Dclose, "creating dataset " + name);
}

void RowWriter::write(hsize_t row, std::span<const std::int64_t> values) {
  if (type_ != Type::int64) throw OutputError("HDF5 misuse: integers into a float64 dataset");
  write(row, values.data(), values.size(), H5T_NATIVE_INT64);
}
void RowWriter::write(hsize_t row, std::span<const double> values) {
  if (type_ != Type::float64) throw OutputError("HDF5 misuse: reals into an int64 dataset");
  write(row, values.data(), values.size(), H5T_NATIVE_DOUBLE);
}

void RowWriter::write(hsize_t row, const void* data, std::size_t size, hid_t mem_type) {
  if (dims_.empty() || row >= dims_[0]) throw OutputError("HDF5 misuse: row past the dataset");
  std::vector<hsize_t> start(dims_.size(), 0), count = dims_;
  start[0] = row;
  count[0] = 1;
  hsize_t cells = 1;
  for (std::size_t a = 1; a < dims_.size(); ++a)
    cells *= dims_[a];
  if (size != cells)
    throw OutputError("HDF5 misuse: a row of " + std::to_string(size) + " values for " +
                      std::to_string(cells));
  if (cells == 0) return; // nothing to write in an empty row (e.g. no clusters)
  Handle file_space(H5Dget_space(id()), H5Sclose, "dataspace");
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                            nullptr),
        "selecting row");
  Handle mem_space = simple_space(count);
  check(H5Dwrite(id(), mem_type, mem_space.id(), file_space.id(), H5P_DEFAULT, data),
        "writing row");
}

} // namespace csei::h5
