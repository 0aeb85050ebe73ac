// Workshop mode: the QR code of the join address (libqrencode), drawn for a terminal and as SVG
// from the same matrix.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace csei::workshop {

/// A QR code: size x size modules, row by row, true where dark.
struct QrMatrix {
  int size = 0;
  std::vector<bool> dark;
  [[nodiscard]] bool at(int x, int y) const {
    return x >= 0 && y >= 0 && x < size && y < size &&
           dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) +
                static_cast<std::size_t>(x)];
  }
};

/// The QR code of `text` (byte mode, error correction M); throws std::runtime_error if the text
/// does not fit a QR code.
[[nodiscard]] QrMatrix qr_encode(std::string_view text);
/// The code in half blocks, two rows of modules a line, with a quiet zone of 2 modules; light
/// modules are drawn (full blocks), so it reads on a dark terminal.
[[nodiscard]] std::string qr_terminal(const QrMatrix& qr);
/// The code as an SVG image (one path, a quiet zone of 4 modules), `pixels` wide.
[[nodiscard]] std::string qr_svg(const QrMatrix& qr, int pixels = 256);

} // namespace csei::workshop
