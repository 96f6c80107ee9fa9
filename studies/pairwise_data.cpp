#include "studies/pairwise_data.hpp"
