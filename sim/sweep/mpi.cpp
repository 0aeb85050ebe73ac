// MPI session (OpenMPI from Debian), or a single rank when not under mpirun.
#include "sweep/mpi.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#ifdef CSEI_HAVE_MPI
#define OMPI_SKIP_MPICXX 1 // the C API only: no deprecated C++ bindings to link
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace csei::mpi {
namespace {

int env_int(const char* name, int def) {
  const char* v = std::getenv(name);
  if (!v || !*v) return def;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  return end && *end == '\0' && x > 0 && x < 1'000'000 ? static_cast<int>(x) : def;
}

#ifdef CSEI_HAVE_MPI
constexpr std::size_t kPiece = std::size_t{1} << 30; // bytes per MPI message

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI failure: ") + what);
}
#endif

} // namespace

bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (const char* s = std::getenv(v); s && *s) return true;
  return false;
}

bool available() {
#ifdef CSEI_HAVE_MPI
  return true;
#else
  return false;
#endif
}

int local_ranks() {
  return env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("MPI_LOCALNRANKS", 1));
}

Session::Session() {
#ifdef CSEI_HAVE_MPI
  if (!launched_by_mpirun()) return;
  int provided = 0;
  // Only the main thread calls MPI, and never while the runs are going.
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  active_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
#endif
}

Session::~Session() {
#ifdef CSEI_HAVE_MPI
  if (active_) MPI_Finalize();
#endif
}

void Session::barrier() const {
#ifdef CSEI_HAVE_MPI
  if (active_) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

std::string Session::broadcast(const std::string& bytes) const {
#ifdef CSEI_HAVE_MPI
  if (!active_ || size_ == 1) return bytes;
  std::uint64_t n = bytes.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  std::string out = rank_ == 0 ? bytes : std::string(n, '\0');
  for (std::size_t off = 0; off < n; off += kPiece) {
    const auto len = static_cast<int>(std::min<std::size_t>(kPiece, n - off));
    check(MPI_Bcast(out.data() + off, len, MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
  }
  return out;
#else
  return bytes;
#endif
}

std::string Session::all_gather(const std::string& bytes) const {
  if (!active_ || size_ == 1) return bytes;
  std::string all;
  if (rank_ == 0) {
    all = bytes;
    for (int from = 1; from < size_; ++from)
      all += receive(from);
  } else {
    send(bytes, 0);
  }
  return broadcast(all);
}

std::int64_t Session::max(std::int64_t value) const {
#ifdef CSEI_HAVE_MPI
  if (!active_ || size_ == 1) return value;
  std::int64_t out = value;
  check(MPI_Allreduce(&value, &out, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
#else
  return value;
#endif
}

void Session::send(const std::string& bytes, int to) const {
#ifdef CSEI_HAVE_MPI
  if (!active_) return;
  std::uint64_t n = bytes.size();
  check(MPI_Send(&n, 1, MPI_UINT64_T, to, 0, MPI_COMM_WORLD), "MPI_Send");
  for (std::size_t off = 0; off < n; off += kPiece) {
    const auto len = static_cast<int>(std::min<std::size_t>(kPiece, n - off));
    check(MPI_Send(bytes.data() + off, len, MPI_CHAR, to, 1, MPI_COMM_WORLD), "MPI_Send");
  }
#else
  (void)bytes;
  (void)to;
#endif
}

std::string Session::receive(int from) const {
#ifdef CSEI_HAVE_MPI
  if (!active_) return {};
  std::uint64_t n = 0;
  check(MPI_Recv(&n, 1, MPI_UINT64_T, from, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  std::string out(n, '\0');
  for (std::size_t off = 0; off < n; off += kPiece) {
    const auto len = static_cast<int>(std::min<std::size_t>(kPiece, n - off));
    check(MPI_Recv(out.data() + off, len, MPI_CHAR, from, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
          "MPI_Recv");
  }
  return out;
#else
  (void)from;
  return {};
#endif
}

void Session::abort(int code) const {
#ifdef CSEI_HAVE_MPI
  if (active_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

} // namespace csei::mpi
