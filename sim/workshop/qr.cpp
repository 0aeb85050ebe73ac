// Workshop mode: QR codes with libqrencode.
#include "workshop/qr.hpp"

#include <memory>
#include <qrencode.h>
#include <stdexcept>

namespace csei::workshop {

QrMatrix qr_encode(std::string_view text) {
  const std::string copy(text);
  const std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString8bit(copy.c_str(), 0, QR_ECLEVEL_M), &QRcode_free);
  if (!code) throw std::runtime_error("cannot make a QR code of '" + copy + "'");
  QrMatrix qr;
  qr.size = code->width;
  const auto n = static_cast<std::size_t>(qr.size) * static_cast<std::size_t>(qr.size);
  qr.dark.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    qr.dark[i] = (code->data[i] & 1) != 0;
  return qr;
}

std::string qr_terminal(const QrMatrix& qr) {
  constexpr int kQuiet = 2;
  std::string out;
  for (int y = -kQuiet; y < qr.size + kQuiet; y += 2) {
    for (int x = -kQuiet; x < qr.size + kQuiet; ++x) {
      const bool top = !qr.at(x, y);        // light: drawn
      const bool bottom = !qr.at(x, y + 1); // light (the quiet zone below too)
      if (top && bottom)
        out += "\u2588";
      else if (top)
        out += "\u2580";
      else if (bottom)
        out += "\u2584";
      else
        out += ' ';
    }
    out += '\n';
  }
  return out;
}

std::string qr_svg(const QrMatrix& qr, int pixels) {
  constexpr int kQuiet = 4;
  const std::string side = std::to_string(qr.size + 2 * kQuiet);
  const std::string px = std::to_string(pixels);
  std::string out;
  out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ")
      .append(side)
      .append(" ")
      .append(side)
      .append("\" width=\"")
      .append(px)
      .append("\" height=\"")
      .append(px)
      .append("\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code of the join "
              "address\"><rect width=\"")
      .append(side)
      .append("\" height=\"")
      .append(side)
      .append("\" fill=\"#fff\"/><path fill=\"#000\" d=\"");
  for (int y = 0; y < qr.size; ++y)
    for (int x = 0; x < qr.size; ++x)
      if (qr.at(x, y)) {
        out.append("M").append(std::to_string(x + kQuiet)).append(" ");
        out.append(std::to_string(y + kQuiet)).append("h1v1h-1z");
      }
  out.append("\"/></svg>");
  return out;
}

} // namespace csei::workshop
