#pragma once
// The files every study writes the same way: the parameters it records, cells.csv and
// summary.json. Only rank 0 writes (StudyContext::share); every rank returns the same summary.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "studies/io/output.hpp"
#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"

namespace attnrate {

/// An option's text as JSON: a number when the whole text is one (an integer that fits 64 bits
/// as an integer, else a finite decimal as a double), otherwise the text ("auto", lists, grids,
/// names).
nlohmann::json option_value_json(const std::string& text);

/// Every option as given or defaulted, each through option_value_json: summary.json's
/// "parameters" and the input of the run's fingerprint.
nlohmann::json parameters_json(const Settings& settings);

/// A summary's fixed part: {"study": study, "parameters": parameters, "quantities": []}.
nlohmann::json start_summary(const std::string& study, const nlohmann::json& parameters);

/// Writes the table as ctx.out/cells.csv.
void write_cells_csv(const CsvTable& table, const StudyContext& ctx);

/// What a reader of a finished study should not miss, one sentence each (the console prints them
/// as warnings, verify's reports beside the claim): data-driven ridge penalties that ended at an
/// end of the extended lambda grid ("lambda_at_grid_edge" with at_edge > 0).
std::vector<std::string> summary_warnings(const nlohmann::json& summary);

/// Adds "wall_seconds" (since t0) and "build" to the summary, writes it as ctx.out/summary.json
/// and returns it.
nlohmann::json finish_summary(nlohmann::json summary, std::chrono::steady_clock::time_point t0,
                              const StudyContext& ctx);

}  // namespace attnrate
