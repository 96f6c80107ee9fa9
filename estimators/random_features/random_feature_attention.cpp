#include "estimators/random_features/random_feature_attention.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "estimators/common/blas.hpp"
#include "estimators/common/enum_names.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/parallel_errors.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/feature_ridge.hpp"

namespace attnrate {
namespace {

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Per-thread buffers, reused across blocks (set_size keeps memory when the size is unchanged).
// Q: (d+1) x count augmented queries; G: M(d+1) x count, column s stacks W_m^T xt_0 over heads;
// K: (d+1) x count*N augmented keys; S: N x M scores, then attention weights, of one sample.
using Workspace = RandomFeatureAttention::BlockScratch;

// ST (N x M, column m = head m) from scores to attention weights a_{m,i}.
void activate(arma::mat& ST, RfaActivation act) {
  const double invN = 1.0 / static_cast<double>(ST.n_rows);
  switch (act) {
    case RfaActivation::relu: {
      // Branch-free: the signs of the scores are random, so a branch per entry mispredicts half
      // the time (that cost more than the two GEMMs of the sample). max(0, v/N) in this order is
      // (0 < v/N) ? v/N : +0, one maxpd: the same bits as v > 0 ? v/N : 0 (also for -0 and NaN).
      double* x = ST.memptr();
      const arma::uword n = ST.n_elem;
      for (arma::uword i = 0; i < n; ++i) x[i] = std::max(0.0, x[i] * invN);
      return;
    }
    case RfaActivation::exp:
      ST.transform([invN](double v) { return std::exp(v) * invN; });
      return;
    case RfaActivation::softmax:
      for (arma::uword m = 0; m < ST.n_cols; ++m) {
        double* col = ST.colptr(m);
        double mx = col[0];
        for (arma::uword i = 1; i < ST.n_rows; ++i) mx = std::max(mx, col[i]);
        double sum = 0.0;
        for (arma::uword i = 0; i < ST.n_rows; ++i) sum += (col[i] = std::exp(col[i] - mx));
        const double inv = 1.0 / sum;
        for (arma::uword i = 0; i < ST.n_rows; ++i) col[i] *= inv;
      }
      return;
  }
}

// Features of samples [first, first+count) into F (M(d+1) x count, column-major at F).
void rfa_block(const arma::mat& Wstack, int d, int M, RfaActivation act, const AttentionInputs& in,
               std::size_t first, std::size_t count, double* F, Workspace& ws) {
  const arma::uword d1 = d + 1, N = in.N, P = static_cast<arma::uword>(M) * d1;
  ws.Q.set_size(d1, count);
  ws.Q.rows(0, d - 1) = in.query.cols(first, first + count - 1);
  ws.Q.row(d).ones();
  ws.G = Wstack * ws.Q;  // all heads of the block: one GEMM
  ws.K.set_size(d1, count * N);
  ws.K.rows(0, d - 1) = in.keys.cols(first * N, (first + count) * N - 1);
  ws.K.row(d).ones();
  for (std::size_t s = 0; s < count; ++s) {
    const arma::mat Gs(ws.G.colptr(s), d1, M, false, true);      // column m = W_m^T xt_0
    const arma::mat Ks(ws.K.colptr(s * N), d1, N, false, true);  // augmented keys
    arma::mat Fs(F + s * P, d1, M, false, true);
    // An infinite W_m^T xt_0 (a query near the top of the double range) can make a score
    // inf - inf = NaN, which relu would turn into 0: such a sample's features are NaN, so the
    // caller's finiteness check names it instead of fitting zeros.
    if (!Gs.is_finite()) {
      Fs.fill(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    ws.S = Ks.t() * Gs;  // S(i, m) = xt_0^T W_m xt_i
    activate(ws.S, act);
    Fs = Ks * ws.S;  // column m = sum_i a_{m,i} xt_i = phi_m
  }
}

// Finite inputs can still give infinite features: exp scores above log(DBL_MAX) = 709.78, or
// scores x_0^T W_m x_i that overflow for inputs near 1e154 and beyond. The ridge downstream would
// only see "non-finite features", so say here what overflowed and what the user can change.
// sample_of(t) is the sample of F[t]; the lowest with a non-finite value is named (0-based, in the
// order of the caller's data).
template <class SampleOf>
void check_finite_features(const double* F, std::size_t count, const RfaOptions& o, const std::string& where,
                           SampleOf sample_of) {
  const std::size_t sample = first_non_finite_sample(F, count, sample_of);
  if (sample != std::numeric_limits<std::size_t>::max()) {
    const std::string at = where + ": sample " + std::to_string(sample) + " (0-based): ";
    if (o.activation == RfaActivation::exp)
      throw InputError(at + "exp scores overflow: some score x_0^T W_m x_i exceeds 709.78, above which exp is "
                       "infinite (tau = " + num(o.tau) + (o.law == WeightLaw::biased ? ", mu = " + num(o.mu) : "") +
                       "); lower tau" + (o.law == WeightLaw::biased ? " or mu" : "") +
                       ", scale the inputs down, or use the softmax (normalised) or relu activation");
    throw InputError(at + "the features are not finite: the scores x_0^T W_m x_i overflow for inputs this "
                     "large; scale the inputs down (their squares must stay far below 1.8e308)");
  }
}

std::size_t block_count(std::size_t n, std::size_t B) { return (n + B - 1) / B; }

// Calls use(first, count, Fb) for every block of at most o.block_samples samples, Fb the P x count
// features of samples [first, first+count); blocks are spread over the threads, each with its own
// workspace, so `use` must write only what belongs to its block.
template <class Use>
void for_each_feature_block(const arma::mat& Wstack, int d, const RfaOptions& o, const AttentionInputs& in,
                            std::size_t P, const Use& use) {
  const std::size_t n = in.n(), B = o.block_samples;
  const std::size_t blocks = block_count(n, B);
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  pin_blas_to_one_thread();
  struct Scratch {
    Workspace ws;
    arma::mat F;
  };
  parallel_for_blocks(
      threads, blocks, [&] { return Scratch{Workspace{}, arma::mat(P, B, arma::fill::none)}; },
      [&](std::size_t b, Scratch& w) {
        const std::size_t first = b * B, count = std::min(B, n - first);
        rfa_block(Wstack, d, o.heads, o.activation, in, first, count, w.F.memptr(), w.ws);
        use(first, count, arma::mat(w.F.memptr(), P, count, false, true));
      });
}

}  // namespace

namespace {
constexpr auto rfa_activation_names = enum_names<RfaActivation>({"relu", "exp", "softmax"});
constexpr auto weight_law_names = enum_names<WeightLaw>({"zero-mean", "biased"});
}  // namespace

RfaActivation parse_rfa_activation(std::string_view name) {
  if (const auto a = rfa_activation_names.find(name)) return *a;
  throw InputError("unknown attention activation '" + std::string(name) + "'; valid: " + rfa_activation_names.list());
}

WeightLaw parse_weight_law(std::string_view name) {
  if (const auto law = weight_law_names.find(name)) return *law;
  throw InputError("unknown weight law '" + std::string(name) + "'; valid: " + weight_law_names.list());
}

const char* to_string(RfaActivation a) noexcept { return rfa_activation_names.name(a); }

const char* to_string(WeightLaw law) noexcept { return weight_law_names.name(law); }

RandomFeatureAttention::RandomFeatureAttention(int d, const RfaOptions& options) : d_(d), options_(options) {
  if (d < 1) throw InputError("RandomFeatureAttention: d = " + std::to_string(d) + " is not allowed; need d >= 1");
  if (options.heads < 1)
    throw InputError("RandomFeatureAttention: heads = " + std::to_string(options.heads) +
                     " is not allowed; need heads >= 1");
  if (!(options.tau >= 0.0) || !std::isfinite(options.tau))
    throw InputError("RandomFeatureAttention: tau = " + num(options.tau) + " is not allowed; need a finite tau >= 0");
  if (!std::isfinite(options.mu))
    throw InputError("RandomFeatureAttention: mu = " + num(options.mu) + " is not allowed; need a finite mu");
  if (options.block_samples < 1)
    throw InputError("RandomFeatureAttention: block_samples = 0 is not allowed; need >= 1");
  if (options.threads < 0)
    throw InputError("RandomFeatureAttention: threads = " + std::to_string(options.threads) +
                     " is not allowed; need >= 0 (0 = all)");
  const arma::uword d1 = d + 1, M = options.heads;
  const bool biased = options.law == WeightLaw::biased;
  Rng rng(options.seed);
  W_.set_size(d1, d1, M);
  for (arma::uword m = 0; m < M; ++m)
    for (arma::uword c = 0; c < d1; ++c)
      for (arma::uword r = 0; r < d1; ++r)
        W_(r, c, m) = options.tau * rng.normal() + (biased && r == c && r < d1 - 1 ? options.mu : 0.0);
  Wstack_.set_size(M * d1, d1);
  for (arma::uword m = 0; m < M; ++m) Wstack_.rows(m * d1, m * d1 + d1 - 1) = W_.slice(m).t();
}

void RandomFeatureAttention::check_inputs(const AttentionInputs& in, const char* where, bool values) const {
  const std::string w = std::string("RandomFeatureAttention::") + where;
  if (in.d != d_ || static_cast<int>(in.query.n_rows) != d_ || static_cast<int>(in.keys.n_rows) != d_)
    throw InputError(w + ": inputs have d = " + std::to_string(in.d) + " (query rows " +
                     std::to_string(in.query.n_rows) + ", key rows " + std::to_string(in.keys.n_rows) +
                     ") but the model was built for d = " + std::to_string(d_));
  if (in.N < 1) throw InputError(w + ": N = " + std::to_string(in.N) + " keys per sample; need N >= 1");
  if (in.keys.n_cols != in.n() * static_cast<std::size_t>(in.N))
    throw InputError(w + ": keys has " + std::to_string(in.keys.n_cols) + " columns; need n*N = " +
                     std::to_string(in.n() * static_cast<std::size_t>(in.N)));
  if (values && (!in.query.is_finite() || !in.keys.is_finite()))
    throw InputError(w + ": inputs contain NaN or infinite values; all must be finite");
}

arma::mat RandomFeatureAttention::features(const AttentionInputs& in) const {
  check_inputs(in, "features");
  arma::mat Phi(in.n(), feature_count(), arma::fill::none);
  for_each_feature_block(Wstack_, d_, options_, in, feature_count(),
                         [&Phi](std::size_t first, std::size_t count, const arma::mat& Fb) {
                           Phi.rows(first, first + count - 1) = Fb.t();
                         });
  check_finite_features(Phi.memptr(), Phi.n_elem, options_, "RandomFeatureAttention::features",
                        [n = in.n()](std::size_t t) { return t % n; });  // Phi is n x P
  return Phi;
}

arma::mat RandomFeatureAttention::scores(const AttentionInputs& in, std::size_t sample) const {
  check_inputs(in, "scores");
  if (sample >= in.n())
    throw InputError("RandomFeatureAttention::scores: sample " + std::to_string(sample) + " out of range [0, " +
                     std::to_string(in.n()) + ")");
  const arma::uword d1 = d_ + 1, N = in.N;
  arma::vec q(d1);
  q.head(d_) = in.query.col(sample);
  q[d_] = 1.0;
  arma::mat K(d1, N);
  K.rows(0, d_ - 1) = in.keys.cols(sample * N, sample * N + N - 1);
  K.row(d_).ones();
  arma::vec g = Wstack_ * q;
  const arma::mat G(g.memptr(), d1, options_.heads, false, true);
  return G.t() * K;
}

arma::mat RandomFeatureAttention::attention_weights(const AttentionInputs& in, std::size_t sample) const {
  arma::mat ST = scores(in, sample).t();
  activate(ST, options_.activation);
  return ST.t();
}

RidgeFit RandomFeatureAttention::fit(const AttentionInputs& in, const arma::vec& y, const RidgeFitOptions& ridge) {
  require_one_target_per_sample("RandomFeatureAttention::fit", y, in.n());
  return fit_features(features(in), y, ridge);
}

void RandomFeatureAttention::set_coefficients(const arma::vec& w) {
  restore_feature_coefficients("RandomFeatureAttention::set_coefficients", w, feature_count(), "M(d+1)", coef_);
}

RidgeFit RandomFeatureAttention::fit_features(const arma::mat& Phi, const arma::vec& y, const RidgeFitOptions& ridge) {
  return fit_feature_ridge("RandomFeatureAttention::fit_features", Phi, feature_count(), "M(d+1)", y, ridge, coef_);
}

void RandomFeatureAttention::feature_block(const AttentionInputs& in, std::size_t first, std::size_t count,
                                           double* PhiT) const {
  BlockScratch scratch;
  feature_block(in, first, count, PhiT, scratch);
}

void RandomFeatureAttention::feature_block(const AttentionInputs& in, std::size_t first, std::size_t count,
                                           double* PhiT, BlockScratch& ws) const {
  block_features(in, first, count, PhiT, ws, 0);
}

void RandomFeatureAttention::block_features(const AttentionInputs& in, std::size_t first, std::size_t count,
                                            double* PhiT, BlockScratch& ws, std::size_t sample_offset) const {
  // Shapes and the block's own tokens only: a whole-data check per block would cost O(n) each time.
  const std::string w = "RandomFeatureAttention::feature_block";
  check_inputs(in, "feature_block", false);
  if (count == 0 || first > in.n() || count > in.n() - first)
    throw InputError(w + ": samples [" + std::to_string(first) + ", " + std::to_string(first + count) +
                     ") are not a non-empty range of the " + std::to_string(in.n()) + " samples");
  const std::size_t N = in.N;
  if (!in.query.cols(first, first + count - 1).is_finite() ||
      !in.keys.cols(first * N, (first + count) * N - 1).is_finite())
    throw InputError(w + ": samples [" + std::to_string(first) + ", " + std::to_string(first + count) +
                     ") contain NaN or infinite values; all must be finite");
  rfa_block(Wstack_, d_, options_.heads, options_.activation, in, first, count, PhiT, ws);
  check_finite_features(PhiT, count * feature_count(), options_, w,
                        [first, sample_offset, P = feature_count()](std::size_t t) {
                          return sample_offset + first + t / P;  // P x count
                        });
}

RidgeFit RandomFeatureAttention::fit_streaming(std::size_t n, const SampleSource& source, const RidgeFitOptions& ridge,
                                               const StreamingRidgeOptions& stream) {
  if (!source) throw InputError("RandomFeatureAttention::fit_streaming: the sample source is empty");
  StreamingRidgeOptions so = stream;
  if (so.threads == 0) so.threads = options_.threads;
  const std::size_t P = feature_count();
  const FeatureBlockSource features = [&](std::size_t first, std::size_t count, double* PhiT, double* y) {
    AttentionInputs block;
    arma::vec yb;
    source(first, count, block, yb);
    if (block.n() != count || yb.n_elem != count)
      throw InputError("RandomFeatureAttention::fit_streaming: the source returned " + std::to_string(block.n()) +
                       " samples and " + std::to_string(yb.n_elem) + " responses for samples [" +
                       std::to_string(first) + ", " + std::to_string(first + count) + "); need " +
                       std::to_string(count) + " of each");
    BlockScratch scratch;
    block_features(block, 0, count, PhiT, scratch, first);  // messages name the sample in all n
    std::copy(yb.begin(), yb.end(), y);
  };
  RidgeFit f = ridge_fit_streaming(n, P, features, ridge, so);
  coef_ = f.solution.w;
  return f;
}

arma::vec RandomFeatureAttention::predict(const AttentionInputs& in) const {
  if (!fitted()) throw std::logic_error("RandomFeatureAttention::predict called before fit");
  check_inputs(in, "predict");
  arma::vec out(in.n());
  for_each_feature_block(Wstack_, d_, options_, in, feature_count(),
                         [this, &out](std::size_t first, std::size_t count, const arma::mat& Fb) {
                           out.subvec(first, first + count - 1) = Fb.t() * coef_;
                         });
  check_finite_features(out.memptr(), out.n_elem, options_, "RandomFeatureAttention::predict",
                        [](std::size_t t) { return t; });
  return out;
}

}  // namespace attnrate
