#pragma once
// The named studies of `attnrate study NAME`, `attnrate list` and the claims files. Each study
// file defines one StudyDefinition (studies/study_definition.hpp): its options, quantities, a
// check of the options that does no work, and its runner, which runs its cells through the sweep
// engine (studies/sweep/sweep.hpp) and writes summary.json, cells.csv, figures and checkpoints.
// The summary's "quantities" array holds the measurements (theory/claims/measurement.hpp) that
// claims select by quantity and select keys; a study never judges them. Adding a study = its
// file and one entry in registry.cpp.
#include <string>
#include <vector>

#include "studies/study_definition.hpp"
#include "theory/claims/claims_file.hpp"

namespace attnrate {

const std::vector<StudyDefinition>& all_studies();
/// Throws InputError naming the closest study when `name` is unknown.
const StudyDefinition& find_study(const std::string& name);
/// What the studies offer to claims files (options and quantities with their select keys).
StudyCatalog study_catalog();

}  // namespace attnrate
