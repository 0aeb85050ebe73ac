// The HDF5 readers on hostile files: attributes that hold arrays or the wrong type, datasets
// that declare more values than the file holds. Each is an OutputError before anything is
// read into memory that would not fit it.
#include "core/error.hpp"
#include "helpers.hpp"
#include "output/h5.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <unistd.h>

using namespace csei;

namespace {

std::filesystem::path temp_h5(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("csei-h5read-" + std::to_string(::getpid()) + "-" + name + ".h5");
}

/// A 1-D attribute of four values of `type`.
void array_attribute(const h5::File& f, const std::string& name, hid_t file_type, hid_t mem_type,
                     const void* values) {
  const hsize_t dims[1] = {4};
  h5::Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose, "space");
  h5::Handle attr(H5Acreate2(f.id(), name.c_str(), file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                  H5Aclose, "attr");
  h5::check(H5Awrite(attr.id(), mem_type, values), "write");
}

/// A chunked dataset that declares `n` values and stores none.
void huge_dataset(const h5::File& f, const std::string& name, hid_t type, hsize_t n) {
  const hsize_t dims[1] = {n}, max[1] = {H5S_UNLIMITED}, chunk[1] = {4};
  h5::Handle space(H5Screate_simple(1, dims, max), H5Sclose, "space");
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "dcpl");
  h5::check(H5Pset_chunk(dcpl.id(), 1, chunk), "chunk");
  h5::Handle ds(
      H5Dcreate2(f.id(), name.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
      H5Dclose, "dataset");
}

} // namespace

TEST_CASE("attribute readers refuse arrays and wrong types", "[output]") {
  const auto path = temp_h5("attr");
  {
    h5::File f(path.string(), h5::File::Mode::create);
    const std::int64_t ints[4] = {1, 2, 3, 4};
    const double doubles[4] = {1, 2, 3, 4};
    array_attribute(f, "ints", H5T_STD_I64LE, H5T_NATIVE_INT64, ints);
    array_attribute(f, "doubles", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, doubles);
    h5::Handle t = h5::string_type();
    const char* strings[4] = {"a", "b", "c", "d"};
    array_attribute(f, "strings", t.id(), t.id(), strings);
    f.attribute("one", std::int64_t{7});
    f.attribute("text", std::string("seven"));
    f.close();
  }
  const h5::File f(path.string(), h5::File::Mode::read);
  CHECK_THROWS_WITH(f.int_attribute("ints"), Catch::Contains("holds 4 values; expected one"));
  CHECK_THROWS_AS(f.double_attribute("doubles"), OutputError);
  CHECK_THROWS_AS(f.string_attribute("strings"), OutputError);
  CHECK_THROWS_WITH(f.string_attribute("one"), Catch::Contains("not a variable-length string"));
  CHECK_THROWS_WITH(f.int_attribute("text"), Catch::Contains("not a number"));
  CHECK(f.int_attribute("one") == 7);
  CHECK(f.double_attribute("one") == 7.0);
  CHECK(f.string_attribute("text") == "seven");
  std::filesystem::remove(path);
}

TEST_CASE("dataset readers refuse extents the file cannot hold", "[output]") {
  const auto path = temp_h5("extent");
  {
    h5::File f(path.string(), h5::File::Mode::create);
    huge_dataset(f, "ints", H5T_STD_I64LE, hsize_t{1} << 40);
    huge_dataset(f, "doubles", H5T_IEEE_F64LE, hsize_t{1} << 40);
    h5::Handle t = h5::string_type();
    huge_dataset(f, "strings", t.id(), hsize_t{1} << 40);
    huge_dataset(f, "fill", H5T_STD_I64LE, 100); // unwritten, small: fill values
    f.close();
  }
  const h5::File f(path.string(), h5::File::Mode::read);
  CHECK_THROWS_WITH(h5::read_int64(f, "ints"), Catch::Contains("declares 1099511627776 values"));
  CHECK_THROWS_WITH(h5::read_double(f, "doubles"), Catch::Contains("declares"));
  CHECK_THROWS_WITH(h5::read_strings(f, "strings"), Catch::Contains("declares"));
  CHECK(h5::read_int64(f, "fill") == std::vector<std::int64_t>(100, 0));
  std::filesystem::remove(path);
}
