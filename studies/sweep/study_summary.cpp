#include "studies/sweep/study_summary.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace attnrate {

nlohmann::json option_value_json(const std::string& text) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (std::int64_t i = 0; !text.empty() && std::from_chars(first, last, i) == std::from_chars_result{last, std::errc{}})
    return i;
  if (std::uint64_t u = 0; !text.empty() && std::from_chars(first, last, u) == std::from_chars_result{last, std::errc{}})
    return u;
  // Decimal notation only: from_chars would also take "inf", "nan" and hexadecimal floats.
  const bool decimal = !text.empty() && text.find_first_not_of("0123456789+-.eE") == std::string::npos;
  if (double x = 0.0; decimal && std::from_chars(first, last, x) == std::from_chars_result{last, std::errc{}} &&
                      std::isfinite(x))
    return x;
  return text;
}

nlohmann::json parameters_json(const Settings& settings) {
  nlohmann::json p;
  for (const auto& [k, v] : settings.all()) p[k] = option_value_json(v);
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

void drop_figure_names(nlohmann::json& summary) {
  for (const char* key : {"figure", "figures", "figure_note"}) summary.erase(key);
  if (const auto q = summary.find("quantities"); q != summary.end() && q->is_array())
    for (nlohmann::json& m : *q)
      if (const auto d = m.find("details"); d != m.end() && d->is_object()) d->erase("figure");
}

nlohmann::json finish_summary(nlohmann::json summary, std::chrono::steady_clock::time_point t0,
                              const StudyContext& ctx) {
  if (!ctx.figures) drop_figure_names(summary);
  summary["wall_seconds"] = seconds_since(t0);
  summary["build"] = build_info();
  if (ctx.share.root()) write_file_atomic(ctx.out / "summary.json", summary.dump(2) + "\n");
  return summary;
}

std::vector<std::string> summary_warnings(const nlohmann::json& summary) {
  std::vector<std::string> out;
  const auto edges = summary.find("lambda_at_grid_edge");
  if (edges != summary.end() && edges->is_object()) {
    const auto at_edge = edges->value("at_edge", std::uint64_t{0}), choices = edges->value("choices", std::uint64_t{0});
    if (at_edge > 0) {
      std::string ends;
      if (edges->contains("at_lower_end") && edges->contains("at_upper_end"))
        ends = " (" + std::to_string(edges->value("at_lower_end", std::uint64_t{0})) + " at the smallest penalty, " +
               std::to_string(edges->value("at_upper_end", std::uint64_t{0})) + " at the largest)";
      out.push_back(std::to_string(at_edge) + " of " + std::to_string(choices) +
                    " data-driven ridge penalties ended at an end of the lambda grid" + ends +
                    ", extended by 4 decades (cells.csv: " + edges->value("column", std::string("lambda_at_edge")) +
                    "); the best penalty may lie beyond it");
    }
  }
  return out;
}

}  // namespace attnrate
