#include "plots/convergence_plot.hpp"
