#include "studies/sweep/study_figures.hpp"

namespace attnrate {
namespace {

template <class Figure>
std::string write_on_root(const Figure& figure, const std::string& stem, const StudyContext& ctx,
                          void (*writer)(const Figure&, const std::filesystem::path&)) {
  if (ctx.share.root() && ctx.figures) writer(figure, ctx.out / stem);
  return stem + ".png";
}

}  // namespace

std::string write_study_figure(const ConvergenceFigure& figure, const std::string& stem, const StudyContext& ctx) {
  return write_on_root(figure, stem, ctx, write_convergence_figure);
}

std::string write_study_figure(const SampleComplexityFigure& figure, const std::string& stem,
                               const StudyContext& ctx) {
  return write_on_root(figure, stem, ctx, write_sample_complexity_figure);
}

std::string write_study_figure(const SlopeFigure& figure, const std::string& stem, const StudyContext& ctx) {
  return write_on_root(figure, stem, ctx, write_slope_figure);
}

}  // namespace attnrate
