// HDF5 fuzzing by edits (h5_edit.hpp).
#include "h5_edit.hpp"

#include "cli/commands.hpp"
#include "cli/sweep_command.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <hdf5.h>
#include <iterator>
#include <limits>
#include <vector>

namespace csei::fuzz {
namespace {

constexpr std::int64_t kInts[] = {0,
                                  1,
                                  -1,
                                  2,
                                  3,
                                  7,
                                  100,
                                  1'000'000,
                                  std::numeric_limits<std::int32_t>::max(),
                                  std::int64_t{1} << 32,
                                  std::int64_t{1} << 40,
                                  std::numeric_limits<std::int64_t>::max(),
                                  std::numeric_limits<std::int64_t>::min(),
                                  -2};

std::int64_t some_int(Bytes& b) {
  const std::uint8_t k = b.byte();
  if (k < 200) return kInts[k % std::size(kInts)];
  return static_cast<std::int64_t>(b.u64());
}

double some_double(Bytes& b) {
  const std::uint8_t k = b.byte();
  constexpr double kDoubles[] = {0.0,
                                 1.0,
                                 -1.0,
                                 0.5,
                                 12.0,
                                 1e308,
                                 -0.0,
                                 std::numeric_limits<double>::quiet_NaN(),
                                 1e-300,
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity(),
                                 3.0};
  if (k < 200) return kDoubles[k % std::size(kDoubles)];
  const std::uint64_t bits = b.u64();
  double d = 0;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

struct Closer {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Closer() {
    if (id >= 0) close(id);
  }
};

hid_t vlen_string() {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

/// Parent group path and link name of an object path.
std::pair<std::string, std::string> split(const std::string& path) {
  const auto slash = path.rfind('/');
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

/// Writes values of a type chosen by `b` for `n` elements to `target` (a dataset or an
/// attribute; `write` does the call). Returns the file type made (closed by the caller).
enum class Kind { int64, int32, float64, float32, vstring, fstring, count };

struct Values {
  Kind kind = Kind::int64;
  std::vector<std::int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  std::vector<const char*> ptrs;
  std::string fixed;
  std::size_t fixed_size = 1;
  hid_t file_type = -1, mem_type = -1;
  bool own_types = false;

  Values(Bytes& b, std::size_t n) {
    kind = static_cast<Kind>(b.byte() % static_cast<int>(Kind::count));
    n = std::min<std::size_t>(n, 1 << 16);
    switch (kind) {
    case Kind::int64:
    case Kind::int32:
      for (std::size_t i = 0; i < n; ++i)
        ints.push_back(i < 64 ? some_int(b) : ints[i % 64]);
      file_type = kind == Kind::int64 ? H5T_STD_I64LE : H5T_STD_I32LE;
      mem_type = H5T_NATIVE_INT64;
      break;
    case Kind::float64:
    case Kind::float32:
      for (std::size_t i = 0; i < n; ++i)
        doubles.push_back(i < 64 ? some_double(b) : doubles[i % 64]);
      file_type = kind == Kind::float64 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
      mem_type = H5T_NATIVE_DOUBLE;
      break;
    case Kind::vstring:
      for (std::size_t i = 0; i < n; ++i)
        strings.push_back(i < 64 ? b.text(40) : strings[i % 64]);
      for (const auto& s : strings)
        ptrs.push_back(s.c_str());
      file_type = mem_type = vlen_string();
      own_types = true;
      break;
    case Kind::fstring:
      fixed_size = 1 + b.byte() % 8;
      for (std::size_t i = 0; i < n * fixed_size; ++i)
        fixed.push_back(i < 256 ? static_cast<char>(b.byte()) : 'x');
      file_type = H5Tcopy(H5T_C_S1);
      H5Tset_size(file_type, fixed_size);
      mem_type = file_type;
      own_types = true;
      break;
    case Kind::count:
      break;
    }
  }
  ~Values() {
    if (own_types) H5Tclose(file_type);
  }
  Values(const Values&) = delete;
  Values& operator=(const Values&) = delete;

  [[nodiscard]] const void* data() const {
    switch (kind) {
    case Kind::int64:
    case Kind::int32:
      return ints.data();
    case Kind::float64:
    case Kind::float32:
      return doubles.data();
    case Kind::vstring:
      return ptrs.data();
    default:
      return fixed.data();
    }
  }
};

std::vector<hsize_t> some_dims(Bytes& b, int max_rank, hsize_t max_len) {
  const int rank = b.byte() % (max_rank + 1);
  std::vector<hsize_t> dims;
  for (int i = 0; i < rank; ++i)
    dims.push_back(b.byte() % (max_len + 1));
  return dims;
}

hsize_t count(const std::vector<hsize_t>& dims) {
  hsize_t n = 1;
  for (auto d : dims)
    n *= d;
  return n;
}

hid_t space_of(const std::vector<hsize_t>& dims) {
  return dims.empty() ? H5Screate(H5S_SCALAR)
                      : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
}

void set_attribute(hid_t file, const std::string& object, const std::string& name, Bytes& b) {
  const hid_t obj = H5Oopen(file, object.c_str(), H5P_DEFAULT);
  if (obj < 0) return;
  const Closer close_obj{obj, H5Oclose};
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  const auto dims = some_dims(b, 2, 4);
  const Values v(b, count(dims));
  const hid_t space = space_of(dims);
  const Closer close_space{space, H5Sclose};
  const hid_t attr = H5Acreate2(obj, name.c_str(), v.file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0) return;
  const Closer close_attr{attr, H5Aclose};
  if (count(dims) > 0) H5Awrite(attr, v.mem_type, v.data());
}

void set_int_attribute(hid_t file, const std::string& object, const std::string& name,
                       std::int64_t value) {
  const hid_t obj = H5Oopen(file, object.c_str(), H5P_DEFAULT);
  if (obj < 0) return;
  const Closer close_obj{obj, H5Oclose};
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  const hid_t space = H5Screate(H5S_SCALAR);
  const Closer close_space{space, H5Sclose};
  const hid_t attr = H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0) return;
  const Closer close_attr{attr, H5Aclose};
  H5Awrite(attr, H5T_NATIVE_INT64, &value);
}

/// Replaces the object at `path` by a dataset made by `make(parent, name)`.
template <class F>
void replace(hid_t file, const std::string& path, F&& make) {
  const auto [parent, name] = split(path);
  const hid_t g = H5Oopen(file, parent.c_str(), H5P_DEFAULT);
  if (g < 0) return;
  const Closer close_g{g, H5Oclose};
  if (H5Lexists(g, name.c_str(), H5P_DEFAULT) > 0) H5Ldelete(g, name.c_str(), H5P_DEFAULT);
  make(g, name);
}

void new_dataset(hid_t g, const std::string& name, Bytes& b) {
  const auto dims = some_dims(b, 4, 6);
  const Values v(b, count(dims));
  const hid_t space = space_of(dims);
  const Closer close_space{space, H5Sclose};
  const hid_t ds =
      H5Dcreate2(g, name.c_str(), v.file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (ds < 0) return;
  const Closer close_ds{ds, H5Dclose};
  if (count(dims) > 0) H5Dwrite(ds, v.mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
}

void huge_dataset(hid_t g, const std::string& name, Bytes& b) {
  const int rank = 1 + b.byte() % 3;
  std::vector<hsize_t> dims, chunk, max;
  for (int i = 0; i < rank; ++i) {
    const int bits = b.byte() % 44;
    dims.push_back((hsize_t{1} << bits) + b.byte() % 3);
    chunk.push_back(std::min<hsize_t>(dims.back(), 4));
    max.push_back(H5S_UNLIMITED);
  }
  const std::uint8_t t = b.byte() % 3;
  hid_t type = t == 0 ? H5T_STD_I64LE : t == 1 ? H5T_IEEE_F64LE : vlen_string();
  const hid_t space = H5Screate_simple(rank, dims.data(), max.data());
  const Closer close_space{space, H5Sclose};
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  const Closer close_dcpl{dcpl, H5Pclose};
  H5Pset_chunk(dcpl, rank, chunk.data());
  const hid_t ds = H5Dcreate2(g, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds >= 0) H5Dclose(ds);
  if (t == 2) H5Tclose(type);
}

void virtual_dataset(hid_t g, const std::string& name) {
  const hsize_t dims[1] = {4};
  const hid_t space = H5Screate_simple(1, dims, nullptr);
  const Closer close_space{space, H5Sclose};
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  const Closer close_dcpl{dcpl, H5Pclose};
  H5Pset_virtual(dcpl, space, "elsewhere.h5", "/x", space);
  const hid_t ds =
      H5Dcreate2(g, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds >= 0) H5Dclose(ds);
}

void external_storage(hid_t g, const std::string& name) {
  const hsize_t dims[1] = {4};
  const hid_t space = H5Screate_simple(1, dims, nullptr);
  const Closer close_space{space, H5Sclose};
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  const Closer close_dcpl{dcpl, H5Pclose};
  H5Pset_external(dcpl, "elsewhere.bin", 0, 32);
  const hid_t ds =
      H5Dcreate2(g, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds >= 0) H5Dclose(ds);
}

void write_element(hid_t file, const std::string& path, Bytes& b) {
  const hid_t ds = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  if (ds < 0) return;
  const Closer close_ds{ds, H5Dclose};
  const hid_t space = H5Dget_space(ds);
  const Closer close_space{space, H5Sclose};
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (n <= 0 || rank < 0 || rank > 8) return;
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), coord(dims.size());
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  hsize_t at = b.u16() % static_cast<hsize_t>(n);
  if (b.byte() % 2) at = static_cast<hsize_t>(n) - 1 - at % 4; // the last ones are read most
  for (std::size_t i = dims.size(); i-- > 0;) {
    coord[i] = at % dims[i];
    at /= dims[i];
  }
  if (rank > 0) H5Sselect_elements(space, H5S_SELECT_SET, 1, coord.data());
  const hsize_t one[1] = {1};
  const hid_t mem = H5Screate_simple(1, one, nullptr);
  const Closer close_mem{mem, H5Sclose};
  const hid_t type = H5Dget_type(ds);
  const Closer close_type{type, H5Tclose};
  switch (H5Tget_class(type)) {
  case H5T_INTEGER: {
    const std::int64_t v = some_int(b);
    H5Dwrite(ds, H5T_NATIVE_INT64, mem, space, H5P_DEFAULT, &v);
    break;
  }
  case H5T_FLOAT: {
    const double v = some_double(b);
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, &v);
    break;
  }
  case H5T_STRING: {
    const std::string s = b.text(60);
    const char* p = s.c_str();
    const hid_t t = vlen_string();
    H5Dwrite(ds, t, mem, space, H5P_DEFAULT, &p);
    H5Tclose(t);
    break;
  }
  default:
    break;
  }
}

herr_t collect(hid_t, const char* name, const H5O_info_t* info, void* data) {
  auto* out = static_cast<std::vector<std::pair<std::string, bool>>*>(data);
  std::string path = "/";
  if (std::strcmp(name, ".") != 0) path.append(name);
  out->emplace_back(path, info->type == H5O_TYPE_DATASET);
  return 0;
}

herr_t collect_attr(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

} // namespace

H5Editor::H5Editor(const std::filesystem::path& base) {
  std::ifstream in(base, std::ios::binary);
  bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (bytes_.empty()) finding("no base file " + base.string());
  const hid_t f = H5Fopen(base.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) finding("cannot open " + base.string());
  std::vector<std::pair<std::string, bool>> found;
  H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, collect, &found, H5O_INFO_BASIC);
  for (const auto& [path, dataset] : found) {
    objects_.push_back({path, dataset});
    const hid_t obj = H5Oopen(f, path.c_str(), H5P_DEFAULT);
    std::vector<std::string> names;
    H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attr, &names);
    H5Oclose(obj);
    for (const auto& n : names)
      attributes_.push_back({path, n});
  }
  H5Fclose(f);
}

void H5Editor::apply(const std::filesystem::path& out, Bytes b) const {
  write_file(out, bytes_);
  if (b.empty()) return;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t f = H5Fopen(out.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) finding("cannot open the copy of the base file");
  for (int edits = 0; edits < 16 && !b.empty(); ++edits) {
    const Object& obj = objects_[b.pick(objects_.size())];
    const Attribute& attr = attributes_[b.pick(attributes_.size())];
    switch (b.byte() % 12) {
    case 0:
      set_attribute(f, attr.object, attr.name, b);
      break;
    case 1:
      set_int_attribute(f, attr.object, attr.name, some_int(b));
      break;
    case 2:
      if (const hid_t o = H5Oopen(f, attr.object.c_str(), H5P_DEFAULT); o >= 0) {
        H5Adelete(o, attr.name.c_str());
        H5Oclose(o);
      }
      break;
    case 3:
      if (obj.path != "/")
        replace(f, obj.path, [&](hid_t g, const std::string& n) { new_dataset(g, n, b); });
      break;
    case 4:
    case 5:
      write_element(f, obj.path, b);
      break;
    case 6:
      if (obj.path != "/") H5Ldelete(f, obj.path.c_str(), H5P_DEFAULT);
      break;
    case 7:
      if (obj.path != "/")
        replace(f, obj.path, [&](hid_t g, const std::string& n) { huge_dataset(g, n, b); });
      break;
    case 8:
      if (obj.path != "/")
        replace(f, obj.path, [&](hid_t g, const std::string& n) {
          H5Lcreate_external("elsewhere.h5", "/x", g, n.c_str(), H5P_DEFAULT, H5P_DEFAULT);
        });
      break;
    case 9: {
      const std::string target = objects_[b.pick(objects_.size())].path;
      if (obj.path != "/")
        replace(f, obj.path, [&](hid_t g, const std::string& n) {
          H5Lcreate_soft(b.byte() % 4 == 0 ? "/nowhere" : target.c_str(), g, n.c_str(), H5P_DEFAULT,
                         H5P_DEFAULT);
        });
      break;
    }
    case 10:
      if (obj.path != "/")
        replace(f, obj.path, [&](hid_t g, const std::string& n) { virtual_dataset(g, n); });
      break;
    default:
      if (obj.path != "/")
        replace(f, obj.path, [&](hid_t g, const std::string& n) { external_storage(g, n); });
      break;
    }
  }
  if (H5Fclose(f) < 0) finding("cannot close the edited file");
}

namespace {
constexpr const char* kScenario = R"(name = "fuzz"
seed = 3
[time]
steps = 4
steps_per_year = 12
[territories]
list = [
  { code = "AA", name = "Alpha", population = 1000, lat = 48.0, lon = 2.0 },
  { code = "BB", name = "Beta", population = 500, lat = 50.0, lon = 8.0 },
]
[organisations]
total = 40
split = "population"
[network]
kind = "partners"
partners = 3
[[innovations]]
name = "one"
rule = "bass"
p = 0.05
q = 1.5
pioneers = 2
[[innovations]]
name = "two"
rule = "threshold"
threshold = { kind = "uniform", min = 0.05, max = 0.4 }
pioneers = 5
)";
} // namespace

std::filesystem::path make_run_file() {
  const auto scenario = work_dir() / "base.toml";
  write_file(scenario, kScenario);
  RunOptions o;
  o.scenario = scenario.string();
  o.output = (work_dir() / "base-run.h5").string();
  o.threads = 1;
  o.progress = false;
  o.format = "table";
  if (run_command([&] { return command_run(o); }) != 0) finding("cannot make the base run file");
  return o.output;
}

std::filesystem::path make_sweep_file() {
  const auto scenario = work_dir() / "base.toml";
  write_file(scenario, kScenario);
  const auto sweep = work_dir() / "base-sweep.toml";
  write_file(sweep, "name = \"fuzz\"\nscenario = \"" + scenario.string() +
                        "\"\nseed = 3\n[design]\nkind = \"lhs\"\nsamples = 2\n"
                        "[[parameters]]\nkey = \"innovations[0].q\"\nrange = [0.5, 2.0]\n"
                        "[outcomes]\nmetrics = [\"*.final_share\"]\nseries = \"territories\"\n");
  SweepOptions o;
  o.file = sweep.string();
  o.output = (work_dir() / "base-sweep.h5").string();
  o.threads = 1;
  o.progress = false;
  o.format = "table";
  if (run_command([&] { return command_sweep(o); }) != 0)
    finding("cannot make the base sweep file");
  return o.output;
}

const H5Editor& run_file_editor() {
  static const H5Editor editor(make_run_file());
  return editor;
}

const H5Editor& sweep_file_editor() {
  static const H5Editor editor(make_sweep_file());
  return editor;
}

} // namespace csei::fuzz
