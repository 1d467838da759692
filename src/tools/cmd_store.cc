// `edgeloop label`, `edgeloop label import`, `edgeloop dataset export`: operator answers and
// maintenance records into the store, labelled field windows out of it (src/collector).
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "edgeloop/collector/dataset_export.h"
#include "edgeloop/data/csv.h"
#include "edgeloop/registry/manifest.h"
#include "edgeloop/server/store_routes.h"
#include "edgeloop/store/drift.h"
#include "edgeloop/store/store.h"
#include "tools/command.h"

namespace edgeloop::tools {
namespace {

int Label(int argc, char** argv) {
  std::string db = "edgeloop.db", device, label, by;
  int64_t seq = 0, alarm = 0;
  bool confirm = false, reject = false, json_out = false;
  Flags flags("edgeloop label --db URL (--device ID --seq N --label CLASS | --alarm ID --confirm|--reject) [--by NAME]",
              "Records an operator's answer: the true class of one result, or a verdict on an alarm (a\n"
              "confirmed alarm labels the window that raised it). These labels feed 'dataset export'.");
  flags.String("--db", &db, "store: SQLite file or postgresql://...");
  flags.String("--device", &device, "device id of the result");
  flags.Int("--seq", &seq, "result sequence number");
  flags.String("--label", &label, "the true class of the result");
  flags.Int("--alarm", &alarm, "alarm id (GET /v1/alarms)");
  flags.Bool("--confirm", &confirm, "the alarm was real");
  flags.Bool("--reject", &reject, "the alarm was false");
  flags.String("--by", &by, "who answers (recorded)");
  flags.Bool("--json", &json_out, "print the stored label as JSON");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  store::Label l;
  l.by = by.empty() ? (std::getenv("USER") != nullptr ? std::getenv("USER") : "cli") : by;
  if (alarm > 0) {
    if (confirm == reject) return UsageError(argv[0], Status::InvalidArgument("--alarm needs exactly one of --confirm, --reject"));
    l.alarm_id = alarm;
    l.verdict = confirm ? "confirm" : "reject";
  } else {
    if (device.empty() || seq <= 0 || label.empty()) {
      return UsageError(argv[0], Status::InvalidArgument("give --device, --seq and --label, or --alarm with --confirm/--reject"));
    }
    l.device_id = device;
    l.seq = seq;
    l.label = label;
  }
  auto st = store::Store::Open(db);
  if (!st.ok()) return Fail(argv[0], st.status());
  auto added = (*st)->AddLabel(std::move(l));
  if (!added.ok()) return Fail(argv[0], added.status());
  if (json_out) {
    std::printf("%s\n", server::StoreRoutes::ToJson(*added).dump().c_str());
  } else if (added->alarm_id) {
    std::printf("alarm %lld %s (device %s) by %s\n", static_cast<long long>(*added->alarm_id), added->verdict.c_str(),
                added->device_id.c_str(), added->by.c_str());
  } else {
    std::printf("result %s seq %lld labelled '%s' by %s\n", added->device_id.c_str(), static_cast<long long>(*added->seq),
                added->label.c_str(), added->by.c_str());
  }
  return 0;
}

int LabelImport(int argc, char** argv) {
  std::string db = "edgeloop.db", by = "maintenance-import";
  Flags flags("edgeloop label import maintenance.csv --db URL [--by NAME]",
              "Imports maintenance records 'device_id,start,end,label' (RFC 3339 times): every stored window\n"
              "of that device in [start, end) gets the label (below operator labels in priority).");
  flags.String("--db", &db, "store: SQLite file or postgresql://...");
  flags.String("--by", &by, "recorded as the author");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(1, 1, "the maintenance CSV"); !s.ok()) return UsageError(argv[0], s);
  auto st = store::Store::Open(db);
  if (!st.ok()) return Fail(argv[0], st.status());
  auto n = collector::ImportMaintenanceCsv(**st, flags.positional()[0], by);
  if (!n.ok()) return Fail(argv[0], n.status());
  std::printf("imported %lld maintenance label(s)\n", static_cast<long long>(*n));
  return 0;
}

Status ParseTimeFlag(const std::string& name, const std::string& text, int64_t* ms) {
  if (text.empty()) return Status::Ok();
  auto t = registry::ParseRfc3339(text);
  if (!t.ok()) return Status::InvalidArgument(name + ": '" + text + "' is not an RFC 3339 time");
  *ms = *t;
  return Status::Ok();
}

int DatasetExport(int argc, char** argv) {
  std::string db = "edgeloop.db", out, since, until, sources = "operator,maintenance", labels;
  double min_conf = -1;
  bool balance = false, json_out = false;
  int64_t seed = 1;
  collector::ExportOptions o;
  Flags flags("edgeloop dataset export --db URL -o data.csv [filters]",
              "Writes the labelled field windows (full windows the agents uploaded) as a training CSV\n"
              "(wide layout: label,f0..fN). Label sources: operator (answers and confirmed alarms),\n"
              "maintenance (imported ranges), prediction (the model's own confident predictions, with\n"
              "--min-confidence). When several sources label one window: operator > maintenance > prediction.");
  flags.String("--db", &db, "store: SQLite file or postgresql://...");
  flags.String("--output", &out, "CSV to write", "-o");
  flags.String("--device", &o.query.device_id, "only this device");
  flags.String("--since", &since, "only windows at or after this RFC 3339 time");
  flags.String("--until", &until, "only windows before this RFC 3339 time");
  flags.String("--sources", &sources, "comma-separated: operator, maintenance, prediction");
  flags.Double("--min-confidence", &min_conf, "with source 'prediction': confidence threshold");
  flags.String("--labels", &labels, "comma-separated class order (e.g. the model's); others are skipped");
  flags.Bool("--balance", &balance, "cap every class at the smallest class's count");
  flags.Int("--seed", &seed, "seed for --balance");
  flags.Bool("--json", &json_out, "print the report as JSON");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  if (out.empty()) return UsageError(argv[0], Status::InvalidArgument("-o data.csv is required"));
  if (Status s = ParseTimeFlag("--since", since, &o.query.since_ms); !s.ok()) return UsageError(argv[0], s);
  if (Status s = ParseTimeFlag("--until", until, &o.query.until_ms); !s.ok()) return UsageError(argv[0], s);
  o.operator_labels = o.maintenance_labels = false;
  bool prediction = false;
  std::stringstream ss(sources);
  for (std::string s; std::getline(ss, s, ',');) {
    if (s == "operator") o.operator_labels = true;
    else if (s == "maintenance") o.maintenance_labels = true;
    else if (s == "prediction") prediction = true;
    else return UsageError(argv[0], Status::InvalidArgument("--sources: unknown source '" + s + "'"));
  }
  if (prediction) {
    if (min_conf < 0 || min_conf > 1) {
      return UsageError(argv[0], Status::InvalidArgument("source 'prediction' needs --min-confidence in [0, 1]"));
    }
    o.min_confidence = min_conf;
  }
  std::stringstream ls(labels);
  for (std::string s; std::getline(ls, s, ',');) {
    if (!s.empty()) o.labels.push_back(s);
  }
  o.balance = balance;
  o.seed = static_cast<uint64_t>(seed);
  auto st = store::Store::Open(db);
  if (!st.ok()) return Fail(argv[0], st.status());
  collector::ExportReport rep;
  auto d = collector::ExportDataset(**st, o, &rep);
  if (!d.ok()) return Fail(argv[0], d.status());
  if (Status s = data::WriteCsvFile(*d, out); !s.ok()) return Fail(argv[0], s);
  nlohmann::json j{{"output", out},
                   {"windows", rep.windows},
                   {"length", d->length},
                   {"skipped_length", rep.skipped_length},
                   {"skipped_label", rep.skipped_label},
                   {"dropped_balance", rep.dropped_balance},
                   {"per_class", nlohmann::json::object()},
                   {"per_source", nlohmann::json::object()}};
  for (const auto& [k, v] : rep.per_class) j["per_class"][k] = v;
  for (const auto& [k, v] : rep.per_source) j["per_source"][k] = v;
  if (json_out) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("wrote %lld window(s) of %d readings to %s\n", static_cast<long long>(rep.windows), d->length, out.c_str());
    for (const auto& [k, v] : rep.per_class) std::printf("  class %-16s %lld\n", k.c_str(), static_cast<long long>(v));
    for (const auto& [k, v] : rep.per_source) std::printf("  source %-15s %lld\n", k.c_str(), static_cast<long long>(v));
  }
  return 0;
}

int DriftBaselineCmd(int argc, char** argv) {
  std::string db = "edgeloop.db", model;
  Flags flags("edgeloop drift baseline TRAINING.csv --model NAME --db URL",
              "Computes the training set's class mix and input statistics (mean, std, spectral bands;\n"
              "decile bins) and stores them as the model's drift baseline.");
  flags.String("--db", &db, "store: SQLite file or postgresql://...");
  flags.String("--model", &model, "model name the baseline belongs to");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(1, 1, "the training CSV"); !s.ok()) return UsageError(argv[0], s);
  if (model.empty()) return UsageError(argv[0], Status::InvalidArgument("--model NAME is required"));
  auto d = data::ReadCsvFile(flags.positional()[0], data::CsvReadOptions{});
  if (!d.ok()) return Fail(argv[0], d.status());
  auto b = store::ComputeBaseline(*d, model);
  if (!b.ok()) return Fail(argv[0], b.status());
  auto st = store::Store::Open(db);
  if (!st.ok()) return Fail(argv[0], st.status());
  if (Status s = (*st)->SetModelInfo(model, 0, b->ToJson().dump()); !s.ok()) return Fail(argv[0], s);
  std::printf("drift baseline for '%s' from %lld training windows stored\n", model.c_str(), static_cast<long long>(b->windows));
  return 0;
}

int DriftCmd(int argc, char** argv) {
  std::string db = "edgeloop.db", model, device, since;
  bool json_out = false;
  Flags flags("edgeloop drift --model NAME --db URL [--device ID] [--since RFC3339] [--json]",
              "Compares recent results (default: the last 24 h) with the model's training baseline: predicted\n"
              "class mix and the population stability index of input statistics. Exit 0 ok/insufficient,\n"
              "3 warning, 4 drift.");
  flags.String("--db", &db, "store: SQLite file or postgresql://...");
  flags.String("--model", &model, "model whose baseline to compare with");
  flags.String("--device", &device, "one device (default: the fleet)");
  flags.String("--since", &since, "start of the recent period");
  flags.Bool("--json", &json_out, "print the report as JSON (the GET /v1/drift shape)");
  int code = 0;
  if (!ParseFlags(flags, argc, argv, &code)) return code;
  if (Status s = flags.ExpectPositional(0, 0, "nothing"); !s.ok()) return UsageError(argv[0], s);
  if (model.empty()) return UsageError(argv[0], Status::InvalidArgument("--model NAME is required"));
  int64_t since_ms = 0;
  if (Status s = ParseTimeFlag("--since", since, &since_ms); !s.ok()) return UsageError(argv[0], s);
  if (since_ms == 0) {
    since_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                   .count() - 24 * 3600 * 1000;
  }
  auto st = store::Store::Open(db);
  if (!st.ok()) return Fail(argv[0], st.status());
  auto info = (*st)->GetModelInfo(model, 0);
  if (!info.ok()) return Fail(argv[0], info.status().WithPrefix("drift (run 'edgeloop drift baseline' first)"));
  auto b = store::DriftBaseline::FromJson(nlohmann::json::parse(*info, nullptr, false));
  if (!b.ok()) return Fail(argv[0], b.status());
  auto r = store::ComputeDrift(**st, *b, device, since_ms);
  if (!r.ok()) return Fail(argv[0], r.status());
  if (json_out) {
    std::printf("%s\n", r->ToJson().dump().c_str());
  } else {
    std::printf("drift of '%s' on %s since %s: %s (%lld results, %lld windows)\n", model.c_str(),
                device.empty() ? "the fleet" : device.c_str(), registry::FormatRfc3339(since_ms).c_str(), r->status.c_str(),
                static_cast<long long>(r->results), static_cast<long long>(r->windows));
    std::printf("  class mix PSI %.4f\n", r->class_mix_psi);
    for (const auto& [k, v] : r->training_mix) {
      double recent = r->recent_mix.count(k) ? r->recent_mix.at(k) : 0.0;
      std::printf("    %-16s training %.3f recent %.3f\n", k.c_str(), v, recent);
    }
    for (size_t i = 0; i < r->psi.size(); ++i) std::printf("  PSI %-6s %.4f\n", store::DriftStatName(static_cast<int>(i)), r->psi[i]);
  }
  return r->status == "drift" ? 4 : r->status == "warning" ? 3 : 0;
}

}  // namespace

EL_COMMAND("drift baseline", "store a model's training baseline (class mix, input statistics) for drift", DriftBaselineCmd);
EL_COMMAND("drift", "compare recent fleet data with the training baseline (class mix, PSI)", DriftCmd);
EL_COMMAND("label", "record an operator's answer: a result's true class or an alarm verdict", Label);
EL_COMMAND("label import", "import maintenance records (device, time range, label) as labels", LabelImport);
EL_COMMAND("dataset export", "write labelled field windows from the store as a training CSV", DatasetExport);

}  // namespace edgeloop::tools
