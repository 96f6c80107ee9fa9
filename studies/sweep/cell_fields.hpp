#pragma once
// A checkpointed cell as a list of named members, written once per cell type and used both ways:
// to JSON (the checkpoint's value) and back, each field through read_checkpoint_field (type- and
// range-checked, studies/io/output.hpp). A study lists its cell's members as
//
//   template <class C>  // Cell or const Cell
//   auto fields_of(C& c) { return std::make_tuple(field("M", c.M), field("rep", c.rep), ...); }
//
// and writes fields_to_json(fields_of(cell)) and fields_from_json(j, fields_of(cell)).
#include <nlohmann/json.hpp>
#include <tuple>

#include "studies/io/output.hpp"

namespace attnrate {

/// One member of a cell and its name in the checkpoint.
template <class T>
struct CellField {
  const char* name;
  T& value;
};

template <class T>
CellField<T> field(const char* name, T& value) {
  return {name, value};
}

/// The fields as one JSON object (name -> value).
template <class... T>
nlohmann::json fields_to_json(const std::tuple<CellField<T>...>& fields) {
  nlohmann::json j = nlohmann::json::object();
  std::apply([&j](const auto&... f) { ((j[f.name] = f.value), ...); }, fields);
  return j;
}

/// Reads every field from `j` in order; throws InputError naming the first missing or invalid one.
template <class... T>
void fields_from_json(const nlohmann::json& j, const std::tuple<CellField<T>...>& fields) {
  std::apply([&j](const auto&... f) { (read_checkpoint_field(j, f.name, f.value), ...); }, fields);
}

/// A cell with a base group of fields and an optional one (e.g. an adaptive schedule's), written
/// as one object: base_of(cell) and, when `with_group`, group_of(cell). base_of and group_of take
/// the cell by reference, const or not (generic lambdas over the study's field lists).
template <class Cell, class BaseOf, class GroupOf>
nlohmann::json grouped_fields_to_json(const Cell& c, BaseOf base_of, GroupOf group_of, bool with_group) {
  nlohmann::json j = fields_to_json(base_of(c));
  if (with_group) j.update(fields_to_json(group_of(c)));
  return j;
}

/// The cell back from grouped_fields_to_json's object, base fields first.
template <class Cell, class BaseOf, class GroupOf>
Cell grouped_fields_from_json(const nlohmann::json& j, BaseOf base_of, GroupOf group_of, bool with_group) {
  Cell c;
  fields_from_json(j, base_of(c));
  if (with_group) fields_from_json(j, group_of(c));
  return c;
}

}  // namespace attnrate
