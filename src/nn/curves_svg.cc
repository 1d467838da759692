// CurvesSvg (edgeloop/nn/train_job.h): loss and accuracy per epoch, training and validation, as
// two side-by-side line charts with gridlines, axis labels, a legend and the epoch whose weights
// the model keeps marked.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "edgeloop/nn/train_job.h"

namespace edgeloop::nn {
namespace {

constexpr const char* kTrainColor = "#2563eb";
constexpr const char* kValColor = "#ea580c";

std::string Fmt(const char* f, double v) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A "nice" tick step (1, 2 or 5 x 10^n) for about `target` ticks over `range`.
double NiceStep(double range, int target) {
  if (!(range > 0)) return 1;
  const double raw = range / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

struct Series {
  std::vector<double> values;  // NaN = no point
  const char* color;
  const char* name;
  bool dashed;
};

// One chart at (x0, y0) of size w x h (the plot area inside its margins).
std::string Chart(double x0, double y0, double w, double h, const std::string& title, const std::vector<Series>& series,
                  int epochs, int marked_epoch, bool unit_range) {
  double lo = INFINITY, hi = -INFINITY;
  for (const Series& s : series) {
    for (double v : s.values) {
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (unit_range) {
    hi = std::min(1.0, hi + 0.02);
    lo = std::max(0.0, lo - 0.02);
  } else {
    lo = std::max(0.0, lo - 0.05 * (hi - lo));
    hi = hi + 0.05 * (hi - lo);
  }
  if (hi - lo < 1e-9) hi = lo + 1;
  const double step = NiceStep(hi - lo, 5);
  lo = std::floor(lo / step) * step;
  hi = std::ceil(hi / step) * step;
  auto px = [&](double epoch) { return x0 + (epochs > 1 ? (epoch - 1) / (epochs - 1) : 0.5) * w; };
  auto py = [&](double v) { return y0 + h - (v - lo) / (hi - lo) * h; };
  std::string o;
  o += "<text x=\"" + Fmt("%.1f", x0) + "\" y=\"" + Fmt("%.1f", y0 - 14) +
       "\" class=\"title\">" + Escape(title) + "</text>\n";
  o += "<rect x=\"" + Fmt("%.1f", x0) + "\" y=\"" + Fmt("%.1f", y0) + "\" width=\"" + Fmt("%.1f", w) + "\" height=\"" +
       Fmt("%.1f", h) + "\" class=\"plot\"/>\n";
  const int digits = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  const std::string tick_fmt = "%." + std::to_string(digits) + "f";
  for (double v = lo; v <= hi + step * 0.5; v += step) {
    const double y = py(v);
    o += "<line x1=\"" + Fmt("%.1f", x0) + "\" x2=\"" + Fmt("%.1f", x0 + w) + "\" y1=\"" + Fmt("%.1f", y) + "\" y2=\"" +
         Fmt("%.1f", y) + "\" class=\"grid\"/>\n";
    o += "<text x=\"" + Fmt("%.1f", x0 - 8) + "\" y=\"" + Fmt("%.1f", y + 4) + "\" class=\"ytick\">" +
         Fmt(tick_fmt.c_str(), v) + "</text>\n";
  }
  const double estep = std::max(1.0, NiceStep(std::max(1, epochs - 1), 6));
  for (double e = 1; e <= epochs + 1e-9; e += estep) {
    o += "<text x=\"" + Fmt("%.1f", px(e)) + "\" y=\"" + Fmt("%.1f", y0 + h + 18) + "\" class=\"xtick\">" +
         Fmt("%.0f", e) + "</text>\n";
  }
  o += "<text x=\"" + Fmt("%.1f", x0 + w / 2) + "\" y=\"" + Fmt("%.1f", y0 + h + 38) + "\" class=\"xtick\">epoch</text>\n";
  if (marked_epoch >= 1) {
    const double x = px(marked_epoch);
    o += "<line x1=\"" + Fmt("%.1f", x) + "\" x2=\"" + Fmt("%.1f", x) + "\" y1=\"" + Fmt("%.1f", y0) + "\" y2=\"" +
         Fmt("%.1f", y0 + h) + "\" class=\"best\"/>\n";
  }
  for (const Series& s : series) {
    std::string path;
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (!std::isfinite(s.values[i])) continue;
      path += (path.empty() ? "M" : " L") + Fmt("%.1f", px(static_cast<double>(i + 1))) + "," + Fmt("%.1f", py(s.values[i]));
    }
    if (path.empty()) continue;
    o += std::string("<path d=\"") + path + "\" fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"2.2\"" +
         (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + " stroke-linejoin=\"round\"/>\n";
    if (s.values.size() <= 60) {
      for (size_t i = 0; i < s.values.size(); ++i) {
        if (!std::isfinite(s.values[i])) continue;
        o += std::string("<circle cx=\"") + Fmt("%.1f", px(static_cast<double>(i + 1))) + "\" cy=\"" +
             Fmt("%.1f", py(s.values[i])) + "\" r=\"3\" fill=\"" + s.color + "\"><title>" + s.name + " epoch " +
             std::to_string(i + 1) + ": " + Fmt("%.4f", s.values[i]) + "</title></circle>\n";
      }
    }
  }
  return o;
}

}  // namespace

std::string CurvesSvg(const TrainHistory& history, const std::string& title) {
  const int epochs = static_cast<int>(history.epochs.size());
  Series loss{{}, kTrainColor, "training loss", false}, val_loss{{}, kValColor, "validation loss", true};
  Series acc{{}, kTrainColor, "training accuracy", false}, val_acc{{}, kValColor, "validation accuracy", true};
  bool have_val = false;
  for (const EpochStats& e : history.epochs) {
    loss.values.push_back(e.loss);
    val_loss.values.push_back(e.val_loss);
    acc.values.push_back(e.accuracy);
    val_acc.values.push_back(e.val_accuracy);
    have_val = have_val || std::isfinite(e.val_loss);
  }
  const double width = 980, height = 430;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"980\" height=\"430\" viewBox=\"0 0 980 430\" "
                    "font-family=\"Helvetica, Arial, sans-serif\">\n";
  svg +=
      "<style>.title{font-size:15px;font-weight:600;fill:#111827}.plot{fill:#ffffff;stroke:#d1d5db}"
      ".grid{stroke:#e5e7eb;stroke-width:1}.ytick{font-size:11px;fill:#4b5563;text-anchor:end}"
      ".xtick{font-size:11px;fill:#4b5563;text-anchor:middle}.best{stroke:#16a34a;stroke-width:1.5;"
      "stroke-dasharray:3 3}.legend{font-size:12px;fill:#374151}.head{font-size:17px;font-weight:700;fill:#111827}"
      ".sub{font-size:12px;fill:#6b7280}</style>\n";
  svg += "<rect width=\"" + Fmt("%.0f", width) + "\" height=\"" + Fmt("%.0f", height) + "\" fill=\"#f9fafb\"/>\n";
  svg += "<text x=\"24\" y=\"30\" class=\"head\">Training curves</text>\n";
  std::string sub = Escape(title) + " \u2014 " + std::to_string(epochs) + " epochs";
  if (history.weights_epoch > 0 && have_val) {
    const EpochStats& b = history.epochs[static_cast<size_t>(history.weights_epoch - 1)];
    sub += ", weights of epoch " + std::to_string(history.weights_epoch) + " (val_loss " + Fmt("%.4f", b.val_loss) +
           ", val_accuracy " + Fmt("%.4f", b.val_accuracy) + ")";
  }
  if (history.early_stopped) sub += ", stopped early";
  svg += "<text x=\"24\" y=\"50\" class=\"sub\">" + sub + "</text>\n";
  const int mark = have_val ? history.weights_epoch : 0;
  svg += Chart(70, 100, 380, 250, "Loss", {loss, val_loss}, epochs, mark, false);
  svg += Chart(570, 100, 380, 250, "Accuracy", {acc, val_acc}, epochs, mark, true);
  // Legend.
  double lx = 70;
  const double ly = 410;
  auto item = [&](const char* color, bool dashed, const std::string& name) {
    svg += std::string("<line x1=\"") + Fmt("%.0f", lx) + "\" x2=\"" + Fmt("%.0f", lx + 28) + "\" y1=\"" +
           Fmt("%.0f", ly - 4) + "\" y2=\"" + Fmt("%.0f", ly - 4) + "\" stroke=\"" + color + "\" stroke-width=\"2.2\"" +
           (dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    svg += "<text x=\"" + Fmt("%.0f", lx + 34) + "\" y=\"" + Fmt("%.0f", ly) + "\" class=\"legend\">" + name + "</text>\n";
    lx += 60 + 7.0 * static_cast<double>(name.size());
  };
  item(kTrainColor, false, "training");
  if (have_val) {
    item(kValColor, true, "validation");
    item("#16a34a", true, "kept weights (epoch " + std::to_string(history.weights_epoch) + ")");
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace edgeloop::nn
