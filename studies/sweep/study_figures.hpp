#pragma once
// A study's figures go where its other outputs go: ctx.out/<stem>.png and .svg, written by rank
// 0 only (StudyContext::share). Each writer returns "<stem>.png", the name summary.json records;
// with StudyContext::figures false nothing is drawn and finish_summary drops the names.
#include <string>

#include "plots/convergence_plot.hpp"
#include "plots/sample_complexity_plot.hpp"
#include "plots/slope_plot.hpp"
#include "studies/sweep/study.hpp"

namespace attnrate {

std::string write_study_figure(const ConvergenceFigure& figure, const std::string& stem, const StudyContext& ctx);
std::string write_study_figure(const SampleComplexityFigure& figure, const std::string& stem,
                               const StudyContext& ctx);
std::string write_study_figure(const SlopeFigure& figure, const std::string& stem, const StudyContext& ctx);

}  // namespace attnrate
