#include "estimators/random_features/random_feature_mlp.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "estimators/common/blas.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/parallel_errors.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/feature_ridge.hpp"

namespace attnrate {
namespace {

// Z (D x count): column s = [x_0; x_1; ...; x_N; 1] of sample first+s. Keys of one sample are
// contiguous in memory (d x N column-major = x_1; ...; x_N stacked), so each column is two copies.
void build_z(const AttentionInputs& in, std::size_t first, std::size_t count, arma::mat& Z) {
  const std::size_t d = in.d, N = in.N, D = (N + 1) * d + 1;
  Z.set_size(D, count);
  for (std::size_t s = 0; s < count; ++s) {
    double* z = Z.colptr(s);
    std::memcpy(z, in.query.colptr(first + s), d * sizeof(double));
    std::memcpy(z + d, in.keys.colptr((first + s) * N), N * d * sizeof(double));
    z[D - 1] = 1.0;
  }
}

// T (count x P) = sigma(Z^T W): one GEMM, then the activation in place.
void mlp_block(const arma::mat& W, MlpActivation act, const AttentionInputs& in, std::size_t first,
               std::size_t count, arma::mat& Z, arma::mat& T) {
  build_z(in, first, count, Z);
  T = Z.t() * W;
  if (act == MlpActivation::relu) T.transform([](double v) { return v > 0.0 ? v : 0.0; });
  else T.transform([](double v) { return std::exp(v); });
}

// Calls use(first, count, T) for every block of at most o.block_samples samples, T the count x P
// features of samples [first, first+count); blocks are spread over the threads, each with its own
// buffers, so `use` must write only what belongs to its block.
template <class Use>
void for_each_feature_block(const arma::mat& W, const RfMlpOptions& o, const AttentionInputs& in, const Use& use) {
  const std::size_t n = in.n(), B = o.block_samples;
  const std::size_t blocks = (n + B - 1) / B;
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  pin_blas_to_one_thread();
  struct Scratch {
    arma::mat Z, T;
  };
  parallel_for_blocks(
      threads, blocks, [] { return Scratch{}; },
      [&](std::size_t b, Scratch& w) {
        const std::size_t first = b * B, count = std::min(B, n - first);
        mlp_block(W, o.activation, in, first, count, w.Z, w.T);
        use(first, count, w.T);
      });
}

}  // namespace

MlpActivation parse_mlp_activation(std::string_view name) {
  if (name == "relu") return MlpActivation::relu;
  if (name == "exp") return MlpActivation::exp;
  throw InputError("unknown MLP activation '" + std::string(name) + "'; valid: relu, exp");
}

const char* to_string(MlpActivation a) noexcept {
  switch (a) {
    case MlpActivation::relu: return "relu";
    case MlpActivation::exp: return "exp";
  }
  return "?";
}

RandomFeatureMlp::RandomFeatureMlp(int d, int N, const RfMlpOptions& options) : d_(d), N_(N), options_(options) {
  if (d < 1) throw InputError("RandomFeatureMlp: d = " + std::to_string(d) + " is not allowed; need d >= 1");
  if (N < 1) throw InputError("RandomFeatureMlp: N = " + std::to_string(N) + " is not allowed; need N >= 1");
  if (options.width == 0 && options.match_heads < 1)
    throw InputError("RandomFeatureMlp: match_heads = " + std::to_string(options.match_heads) +
                     " is not allowed when width = 0; need >= 1 (or give width)");
  if (options.block_samples < 1) throw InputError("RandomFeatureMlp: block_samples = 0 is not allowed; need >= 1");
  if (options.threads < 0)
    throw InputError("RandomFeatureMlp: threads = " + std::to_string(options.threads) +
                     " is not allowed; need >= 0 (0 = all)");
  const std::size_t P =
      options.width > 0 ? options.width : static_cast<std::size_t>(options.match_heads) * (d + 1);
  const std::size_t D = input_dim();
  const double scale = 1.0 / std::sqrt(static_cast<double>(N + 1) * d);
  Rng rng(options.seed);
  W_.set_size(D, P);
  for (double& v : W_) v = scale * rng.normal();  // column-major: neuron by neuron
}

void RandomFeatureMlp::check_inputs(const AttentionInputs& in, const char* where) const {
  const std::string w = std::string("RandomFeatureMlp::") + where;
  if (in.d != d_ || static_cast<int>(in.query.n_rows) != d_ || static_cast<int>(in.keys.n_rows) != d_)
    throw InputError(w + ": inputs have d = " + std::to_string(in.d) + " (query rows " +
                     std::to_string(in.query.n_rows) + ", key rows " + std::to_string(in.keys.n_rows) +
                     ") but the model was built for d = " + std::to_string(d_));
  if (in.N != N_)
    throw InputError(w + ": inputs have N = " + std::to_string(in.N) + " keys per sample but the model was built for N = " +
                     std::to_string(N_));
  if (in.keys.n_cols != in.n() * static_cast<std::size_t>(in.N))
    throw InputError(w + ": keys has " + std::to_string(in.keys.n_cols) + " columns; need n*N = " +
                     std::to_string(in.n() * static_cast<std::size_t>(in.N)));
  if (!in.query.is_finite() || !in.keys.is_finite())
    throw InputError(w + ": inputs contain NaN or infinite values; all must be finite");
}

void RandomFeatureMlp::check_finite_outputs(const arma::mat& values, const char* where, std::size_t sample_offset) const {
  // Finite inputs can still overflow: <w_k, z> for inputs near 1e154 and beyond, exp above 709.78.
  if (values.is_finite()) return;
  const std::size_t n = values.n_rows;
  const std::size_t sample = first_non_finite_sample(values.memptr(), values.n_elem, [n](std::size_t t) { return t % n; });
  throw InputError(std::string("RandomFeatureMlp::") + where + ": sample " + std::to_string(sample_offset + sample) +
                   " (0-based): the features are not finite: the pre-activations " +
                   "<w_k, z> overflow" + (options_.activation == MlpActivation::exp ? " exp (above 709.78)" : "") +
                   " for inputs this large; scale the inputs down");
}

arma::mat RandomFeatureMlp::features(const AttentionInputs& in) const { return features(in, 0); }

arma::mat RandomFeatureMlp::features(const AttentionInputs& in, std::size_t sample_offset) const {
  check_inputs(in, "features");
  arma::mat Phi(in.n(), feature_count(), arma::fill::none);
  for_each_feature_block(W_, options_, in, [&Phi](std::size_t first, std::size_t count, const arma::mat& T) {
    Phi.rows(first, first + count - 1) = T;
  });
  check_finite_outputs(Phi, "features", sample_offset);
  return Phi;
}

RidgeFit RandomFeatureMlp::fit(const AttentionInputs& in, const arma::vec& y, const RidgeFitOptions& ridge) {
  require_one_target_per_sample("RandomFeatureMlp::fit", y, in.n());
  return fit_features(features(in), y, ridge);
}

void RandomFeatureMlp::set_coefficients(const arma::vec& a) {
  restore_feature_coefficients("RandomFeatureMlp::set_coefficients", a, feature_count(), "P", coef_);
}

RidgeFit RandomFeatureMlp::fit_features(const arma::mat& Phi, const arma::vec& y, const RidgeFitOptions& ridge) {
  return fit_feature_ridge("RandomFeatureMlp::fit_features", Phi, feature_count(), "P", y, ridge, coef_);
}

arma::vec RandomFeatureMlp::predict(const AttentionInputs& in) const {
  if (!fitted()) throw std::logic_error("RandomFeatureMlp::predict called before fit");
  check_inputs(in, "predict");
  arma::vec out(in.n());
  for_each_feature_block(W_, options_, in,
                         [this, &out](std::size_t first, std::size_t count, const arma::mat& T) {
                           out.subvec(first, first + count - 1) = T * coef_;
                         });
  check_finite_outputs(out, "predict", 0);
  return out;
}

}  // namespace attnrate
