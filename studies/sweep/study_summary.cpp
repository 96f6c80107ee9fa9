#include "studies/sweep/study_summary.hpp"

namespace attnrate {

nlohmann::json parameters_json(const Settings& settings) {
  nlohmann::json p;
  for (const auto& [k, v] : settings.all()) p[k] = v;
  return p;
}

nlohmann::json start_summary(const std::string& study, const nlohmann::json& parameters) {
  nlohmann::json summary;
  summary["study"] = study;
  summary["parameters"] = parameters;
  summary["quantities"] = nlohmann::json::array();
  return summary;
}

void write_cells_csv(const CsvTable& table, const StudyContext& ctx) {
  if (ctx.share.root()) write_file_atomic(ctx.out / "cells.csv", table.str());
}

nlohmann::json finish_summary(nlohmann::json summary, std::chrono::steady_clock::time_point t0,
                              const StudyContext& ctx) {
  summary["wall_seconds"] = seconds_since(t0);
  summary["build"] = build_info();
  if (ctx.share.root()) write_file_atomic(ctx.out / "summary.json", summary.dump(2) + "\n");
  return summary;
}

}  // namespace attnrate
