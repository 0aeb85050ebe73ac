// The per-step series of a run, declared once: name, dimensions, type, units, description and
// where each row comes from in StepCounts. The run file writer (output/run_writer.cpp), its
// documentation (output/SCHEMA.md, checked against this table by the tests) and the analysis
// package (through the attributes written from it) all follow this table: a new series is one
// line here, plus its field in StepCounts.
#pragma once

#include "kernel/simulation.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

namespace csei {

/// The axes of a series after `step`; each is a dimension scale of the same name in the file.
enum class SeriesDim : std::uint8_t { innovation, territory, cluster, legal_form, event };

inline constexpr std::array<std::string_view, 5> kSeriesDimNames = {
    "innovation", "territory", "cluster", "legal_form", "event"};
/// The letters SCHEMA.md writes shapes with: I innovations, T territories, C cluster slots,
/// F legal forms, E the scenario's events (`[[events]]` entries, in file order).
inline constexpr std::array<std::string_view, 5> kSeriesDimLetters = {"I", "T", "C", "F", "E"};

[[nodiscard]] constexpr std::string_view dim_name(SeriesDim d) {
  return kSeriesDimNames[static_cast<std::size_t>(d)];
}

enum class SeriesType : std::uint8_t { int64, float64 };

/// One series: a dataset [S+1, dims...] in /series (kSeries) or /policy (kPolicySeries), one row
/// per step.
struct SeriesDef {
  using IntRow = std::span<const std::int64_t> StepCounts::*;
  using RealRow = std::span<const double> StepCounts::*;
  static constexpr std::size_t kMaxRank = 3;

  std::string_view name;
  std::array<SeriesDim, kMaxRank> dims{};
  std::size_t rank = 0; // axes after step
  SeriesType type = SeriesType::int64;
  std::string_view units;
  std::string_view description;
  IntRow int_row = nullptr;   // set for int64 series
  RealRow real_row = nullptr; // set for float64 series

  constexpr SeriesDef(std::string_view n, std::initializer_list<SeriesDim> d, IntRow row,
                      std::string_view u, std::string_view desc)
      : name(n), rank(d.size()), type(SeriesType::int64), units(u), description(desc),
        int_row(row) {
    set_dims(d);
  }
  constexpr SeriesDef(std::string_view n, std::initializer_list<SeriesDim> d, RealRow row,
                      std::string_view u, std::string_view desc)
      : name(n), rank(d.size()), type(SeriesType::float64), units(u), description(desc),
        real_row(row) {
    set_dims(d);
  }

  [[nodiscard]] constexpr std::span<const SeriesDim> axes() const { return {dims.data(), rank}; }
  [[nodiscard]] constexpr bool has(SeriesDim d) const {
    for (const SeriesDim x : axes())
      if (x == d) return true;
    return false;
  }

private:
  constexpr void set_dims(std::initializer_list<SeriesDim> d) {
    std::size_t i = 0;
    for (const SeriesDim x : d)
      dims[i++] = x;
  }
};

/// The series, in file order. Units: "organisations" counts organisations (or adoptions, for
/// counts of events during a step).
inline constexpr std::array kSeries = {
    // clang-format off
    // name, dimensions after step, row in StepCounts, units, description
    SeriesDef{"adopters", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::adopters, "organisations", "current adopters at the end of each step (abandoners no longer count)"},
    SeriesDef{"new_adopters", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::new_adopters, "organisations", "adoptions during the step (row 0: pioneers and seeded adopters); cumsum(new_adopters) - abandoned = adopters"},
    SeriesDef{"aware", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::aware, "organisations", "organisations aware of the innovation or beyond (cumulative: includes adopters and abandoners); without an awareness stage, those who ever adopted"},
    SeriesDef{"abandoned", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::abandoned, "organisations", "cumulative abandonments"},
    SeriesDef{"member_adopters", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::member_adopters, "organisations", "adopters that are cluster members"},
    SeriesDef{"members", {SeriesDim::territory}, &StepCounts::members, "organisations", "cluster members (non-members = /territories/organisations - members)"},
    SeriesDef{"adopters_by_form", {SeriesDim::innovation, SeriesDim::legal_form}, &StepCounts::adopters_by_form, "organisations", "adopters by legal form"},
    SeriesDef{"jobs", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::jobs, "jobs", "jobs created by adoption: adopters x the innovation's jobs_per_adopter"},
    SeriesDef{"impact", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::impact, "impact unit of the scenario (e.g. t CO2e a year)", "ecological impact of adopters: impact_per_job x the adopters' jobs"},
    SeriesDef{"transfers", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::transfers, "organisations", "adoptions during the step whose decisive influence (largest weighted adopted count) came through a bridge or distant link (bridge_transfers + distant_transfers)"},
    SeriesDef{"bridge_transfers", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::bridge_transfers, "organisations", "adoptions during the step whose decisive influence came through a bridge link (between members of two clusters)"},
    SeriesDef{"distant_transfers", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::distant_transfers, "organisations", "adoptions during the step whose decisive influence came through a distant link (another territory, outside clusters)"},
    SeriesDef{"suited_members", {SeriesDim::innovation, SeriesDim::territory}, &StepCounts::suited_members, "organisations", "cluster members of the legal forms the innovation suits"},
    SeriesDef{"cluster_members", {SeriesDim::cluster}, &StepCounts::cluster_members, "organisations", "members per cluster slot"},
    SeriesDef{"cluster_adopters", {SeriesDim::innovation, SeriesDim::cluster}, &StepCounts::cluster_adopters, "organisations", "adopters per cluster slot"},
    // clang-format on
};

/// The policy series, in /policy: what the policy events cost (output/SCHEMA.md, "Policy costs").
inline constexpr std::array kPolicySeries = {
    // clang-format off
    SeriesDef{"spending", {SeriesDim::event, SeriesDim::territory}, &StepCounts::spending, "EUR", "public spending during the step by event and territory, in real euros (model quantities x [organisations] represents x the [policy_costs] unit costs)"},
    // clang-format on
};

/// The table is checked when compiled: one accessor per series, names unique and not those of
/// the coordinate datasets that share /series.
[[nodiscard]] consteval bool series_table_ok() {
  constexpr std::array<std::string_view, 7> coordinates = {
      "step", "year", "innovation", "territory", "territory_name", "cluster", "legal_form"};
  for (std::size_t i = 0; i < kSeries.size(); ++i) {
    const SeriesDef& s = kSeries[i];
    if ((s.int_row == nullptr) == (s.real_row == nullptr) || s.name.empty()) return false;
    if (s.has(SeriesDim::event)) return false; // the event axis belongs to /policy
    for (std::size_t j = 0; j < i; ++j)
      if (kSeries[j].name == s.name) return false;
    for (const auto c : coordinates)
      if (c == s.name) return false;
  }
  for (const SeriesDef& s : kPolicySeries)
    if ((s.int_row == nullptr) == (s.real_row == nullptr) || s.name.empty() || s.name == "event" ||
        s.name == "action")
      return false;
  return true;
}
static_assert(series_table_ok(), "kSeries: a series without its row, or a name used twice");

/// The sizes of the series axes of one run.
struct SeriesExtents {
  std::size_t innovations = 0, territories = 0, clusters = 0, legal_forms = kLegalFormCount,
              events = 0;

  [[nodiscard]] constexpr std::size_t of(SeriesDim d) const {
    switch (d) {
    case SeriesDim::innovation:
      return innovations;
    case SeriesDim::territory:
      return territories;
    case SeriesDim::cluster:
      return clusters;
    case SeriesDim::legal_form:
      return legal_forms;
    case SeriesDim::event:
      return events;
    }
    return 0;
  }
  /// Values in one row of `s`.
  [[nodiscard]] constexpr std::size_t cells(const SeriesDef& s) const {
    std::size_t n = 1;
    for (const SeriesDim d : s.axes())
      n *= of(d);
    return n;
  }
};

/// Bytes of one value of a series in the file and in memory.
[[nodiscard]] constexpr std::size_t value_bytes(SeriesType) {
  return 8; // int64 and float64
}

} // namespace csei
