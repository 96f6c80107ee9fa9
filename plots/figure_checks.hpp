#pragma once
// Checks every figure writer makes before it draws: names for the messages, something to draw,
// marks on a log axis. All throw std::invalid_argument.
#include <cstddef>
#include <string>
#include <vector>

namespace attnrate {

/// "<kind> <index>" with " ('<label>')" when the label is not empty, e.g. "convergence series 2
/// ('d = 5')": how messages name one series or curve of a figure.
std::string figure_item_name(const std::string& kind, std::size_t index, const std::string& label);

/// Throws "<figure> figure '<title>': no <items> to draw (add at least one <item_type>)" when
/// `count` is 0.
void require_items(const std::string& figure, const std::string& title, std::size_t count, const std::string& items,
                   const std::string& item_type);

/// Throws "<figure> figure '<title>': <field> must be finite and > 0, got <v>" for the first mark
/// that cannot stand on a log axis.
void require_log_marks(const std::string& figure, const std::string& title, const std::vector<double>& marks,
                       const std::string& field);

}  // namespace attnrate
