// Fuzzes the CSV reader (include/edgeloop/data/csv.h) on arbitrary bytes: training, calibration,
// golden and maintenance files come from people and other tools. It must never crash, hang or
// leak; an error must name the file and a line; with skip_bad_rows a report's counts must add up;
// and whatever it accepts must be a valid dataset that survives WriteCsv -> ReadCsv unchanged.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "edgeloop/data/csv.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckAccepted(const edgeloop::data::Dataset& d, const edgeloop::data::CsvReadOptions& o) {
  using namespace edgeloop::data;
  Check(d.Validate().ok());
  CsvReadOptions again_options;
  again_options.channels = o.channels;
  again_options.labels = d.labels;
  auto again = ReadCsv(WriteCsv(d), "again.csv", again_options);
  Check(again.ok());
  Check(again->length == d.length && again->channels == d.channels && again->labels == d.labels);
  Check(again->y == d.y);
  Check(again->x.size() == d.x.size() &&
        (d.x.empty() || std::memcmp(again->x.data(), d.x.data(), d.x.size() * sizeof(float)) == 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeloop::data;
  if (size < 1) return 0;
  // The first byte picks the options; the rest is the file.
  const uint8_t knobs = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  CsvReadOptions o;
  o.channels = (knobs & 1) ? 3 : 1;
  o.skip_bad_rows = (knobs & 2) != 0;
  if (knobs & 4) o.labels = {"normal", "warning", "failure"};
  if (knobs & 8) o.length = 4;

  CsvReadReport report;
  auto d = ReadCsv(text, "fuzz.csv", o, &report);
  if (!d.ok()) {
    Check(d.status().message().find("fuzz.csv") != std::string::npos);
    return 0;
  }
  size_t by_reason = 0;
  for (size_t n : report.skipped_by_reason) by_reason += n;
  Check(by_reason == report.rows_skipped);
  Check(report.rows_kept + report.rows_skipped == report.rows);
  Check(report.rows_kept == d->size());
  if (!o.skip_bad_rows) Check(report.rows_skipped == 0);
  if (d->size() > 0) CheckAccepted(*d, o);
  return 0;
}
