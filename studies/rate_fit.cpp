#include "studies/rate_fit.hpp"
