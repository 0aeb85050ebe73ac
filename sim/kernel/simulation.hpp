// The simulation kernel: adoption state as structure-of-arrays and the synchronous step.
//
// A step has two phases: decide (every organisation reads the state at the end of the previous
// step and decides, in parallel) and apply (new adopters update their neighbours' counts of
// adopted neighbours with integer atomics). The per-step cost is a scan of the organisations plus
// the links of the new adopters only; the network is never re-scanned.
#pragma once

#include "scenario/scenario.hpp"
#include "world/world.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace csei {

/// Per-innovation state, one entry per organisation.
struct AdoptionState {
  std::vector<std::int32_t> adopted_at;         // step of adoption, or kNever
  std::vector<std::int32_t> adopted_neighbours; // count among the organisation's neighbours
  std::int64_t adopters = 0;                    // total
  static constexpr std::int32_t kNever = -1;
};

/// Counts of one step, laid out [innovation][territory].
struct StepCounts {
  std::int64_t step = 0;
  std::size_t innovations = 0, territories = 0;
  std::span<const std::int64_t> adopters;     // cumulative at the end of the step
  std::span<const std::int64_t> new_adopters; // adoptions during the step
};

class Simulation {
public:
  /// Keeps references: scenario and world must outlive the simulation.
  Simulation(const Scenario& scenario, const World& world);

  /// Step 0: the pioneers adopt. Must be called once, before step().
  void initialise();
  /// Advance one step.
  void step();

  [[nodiscard]] std::int64_t current_step() const { return step_; }
  [[nodiscard]] StepCounts counts() const;
  [[nodiscard]] const AdoptionState& state(std::size_t innovation) const {
    return state_[innovation];
  }

private:
  void adopt(std::size_t k, std::span<const OrgId> adopters);
  void step_innovation(std::size_t k);

  const Scenario& scenario_;
  const World& world_;
  std::int64_t step_ = -1;
  std::vector<AdoptionState> state_;
  std::vector<std::int64_t> adopters_;             // [I*T]
  std::vector<std::int64_t> new_adopters_;         // [I*T]
  std::vector<std::vector<OrgId>> block_adopters_; // decide-phase scratch, one list per block
  std::vector<OrgId> step_adopters_;               // this step's new adopters, sorted
};

/// Chooses the pioneers of innovation k: distinct organisations, uniformly among the eligible
/// ones, from the (seed, pioneers, k) stream; sorted.
[[nodiscard]] std::vector<OrgId> choose_pioneers(const Scenario& scenario, const World& world,
                                                 std::size_t k);

} // namespace csei
