// CSV files of labelled windows, in the two layouts people have:
//
//   wide:     label,f0,f1,...,fN-1          one reading per column (any feature column names; the
//                                           label column may be anywhere); multi-channel windows
//                                           are interleaved time-major (f0 = t0/x, f1 = t0/y, ...)
//   features: features,label                the reference tutorial's pandas layout: one quoted
//             "[0.1, 0.2, ...]",normal      JSON list per window (either column order)
//
// The layout is detected from the header row. A leading unnamed column (what pandas writes for
// its index unless index=False) is ignored and noted in the report. The number of channels is not
// in the file, so the reader takes it as an option.
//
// Reading never drops or guesses silently: a bad number, a wrong field count, an unknown label
// (when a label set is given), an empty cell, NaN or Inf, a malformed list or quote is an error
// naming file, line, column number and column name:
//   "data.csv:12: column 5 ('f3'): 'abc' is not a number"
// With skip_bad_rows the reader goes on and the report counts skipped rows per reason and keeps the
// first few messages. Blank lines carry no data and are counted, not errors.
//
// Label order (the class index of each name): the order of options.labels when given; otherwise
// CanonicalLabelOrder (dataset.h) of the labels seen: normal < warning < failure, integers
// numerically, anything else lexicographically. Never row order.
// Thread-safety: free functions on values.
#ifndef EDGELOOP_DATA_CSV_H_
#define EDGELOOP_DATA_CSV_H_

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "edgeloop/common/status.h"
#include "edgeloop/data/dataset.h"

namespace edgeloop::data {

enum class CsvLayout { kAuto, kWide, kFeatures };

// Why a row was rejected.
enum class RowError {
  kBadNumber,     // a cell or list element that is not a number
  kFieldCount,    // more or fewer fields than the header
  kUnknownLabel,  // a label outside options.labels
  kEmptyCell,     // an empty feature or label cell
  kNaN,           // a NaN reading
  kInf,           // an infinite reading, or one outside float32's range
  kBadList,       // a features cell that is not a JSON list of numbers
  kListLength,    // a features list of a different length than the others
  kBadQuote,      // an unterminated quote or text after a closing quote
};
inline constexpr size_t kNumRowErrors = 9;
// "bad number", "field count", ... (for reports).
const char* RowErrorName(RowError e);

struct CsvReadOptions {
  int channels = 1;                 // readings per time step; the feature count must be a multiple
  int length = 0;                   // expected readings per channel; 0 = whatever the file has
  std::vector<std::string> labels;  // the allowed labels in class order; empty = from the file
  bool skip_bad_rows = false;       // skip and count bad rows instead of failing on the first
  size_t max_examples = 5;          // messages kept in the report
};

struct CsvReadReport {
  CsvLayout layout = CsvLayout::kAuto;
  size_t rows = 0;          // data records seen (not counting the header and blank lines)
  size_t rows_kept = 0;
  size_t rows_skipped = 0;
  std::array<size_t, kNumRowErrors> skipped_by_reason{};
  std::vector<std::string> examples;  // the first max_examples error messages
  size_t blank_lines = 0;
  bool ignored_index_column = false;  // a leading unnamed (pandas index) column was ignored

  // One line, e.g. "10000 rows, 9997 kept, 3 skipped (2 bad number, 1 NaN)".
  std::string Summary() const;
};

// Parses CSV text. `name` is used in messages (usually the path). `report` may be null.
// Errors: InvalidArgument naming name:line, column and column name (see above).
Result<Dataset> ReadCsv(std::string_view text, const std::string& name, const CsvReadOptions& options,
                        CsvReadReport* report = nullptr);
// Reads the file through Env::Default(). Errors: NotFound/IOError from the file system, else as
// ReadCsv.
Result<Dataset> ReadCsvFile(const std::string& path, const CsvReadOptions& options,
                            CsvReadReport* report = nullptr);

// Serialises `d` (kAuto = kWide). Readings are written in the shortest form that reads back to
// the same float, so ReadCsv(WriteCsv(d)) == d.
std::string WriteCsv(const Dataset& d, CsvLayout layout = CsvLayout::kWide);
// WriteCsv, then an atomic replace of `path`.
Status WriteCsvFile(const Dataset& d, const std::string& path, CsvLayout layout = CsvLayout::kWide);

}  // namespace edgeloop::data

#endif  // EDGELOOP_DATA_CSV_H_
