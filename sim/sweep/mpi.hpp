// A thin layer over MPI for distributed sweeps. MPI is initialised only when the process was
// started by mpirun (OpenMPI's OMPI_COMM_WORLD_SIZE, or PMI/PMIx variables), so a plain `csei`
// never touches it; without MPI support compiled in, a session is a single rank.
#pragma once

#include <cstdint>
#include <string>

namespace csei::mpi {

/// Whether this process was started by mpirun / an MPI launcher.
[[nodiscard]] bool launched_by_mpirun();
/// Whether csei was built with MPI.
[[nodiscard]] bool available();
/// Processes of this job on this machine (1 outside MPI).
[[nodiscard]] int local_ranks();

class Session {
public:
  /// Initialises MPI if launched by mpirun (and built with MPI); else a single rank.
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  [[nodiscard]] bool active() const { return active_; }
  [[nodiscard]] int rank() const { return rank_; }
  [[nodiscard]] int size() const { return size_; }

  void barrier() const;
  /// Rank 0's `bytes`, on every rank.
  [[nodiscard]] std::string broadcast(const std::string& bytes) const;
  /// Every rank's `bytes`, concatenated in rank order, on every rank.
  [[nodiscard]] std::string all_gather(const std::string& bytes) const;
  /// The largest of the ranks' values, on every rank.
  [[nodiscard]] std::int64_t max(std::int64_t value) const;
  /// Point to point, any size (sent in pieces).
  void send(const std::string& bytes, int to) const;
  [[nodiscard]] std::string receive(int from) const;
  /// Ends every rank of the job (after an error only some ranks saw).
  [[noreturn]] void abort(int code) const;

private:
  bool active_ = false;
  int rank_ = 0, size_ = 1;
};

} // namespace csei::mpi
