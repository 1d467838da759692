// Store over SqlConn: the queries, written once for SQLite and PostgreSQL.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "edgeloop/store/store.h"
#include "store/schema.h"
#include "store/sql_conn.h"

namespace edgeloop::store {

SqlValue V(int64_t v) { return std::to_string(v); }
SqlValue V(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}
SqlValue V(std::string v) { return SqlValue(std::move(v)); }
SqlValue V(const char* v) { return SqlValue(std::string(v)); }
int64_t CellInt(const SqlValue& v) { return v ? std::strtoll(v->c_str(), nullptr, 10) : 0; }
double CellDouble(const SqlValue& v) { return v ? std::strtod(v->c_str(), nullptr) : 0.0; }
std::string CellText(const SqlValue& v) { return v ? *v : std::string(); }

std::string EncodeFloats(const std::vector<float>& v) {
  std::string out;
  out.reserve(v.size() * 10);
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    auto r = std::to_chars(buf, buf + sizeof(buf), v[i]);
    out.append(buf, r.ptr);
  }
  return out;
}

Result<std::vector<float>> DecodeFloats(const std::string& text) {
  std::vector<float> out;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    float f = 0;
    auto r = std::from_chars(p, end, f);
    if (r.ec != std::errc()) return Status::Corruption("store: bad float list near '" + std::string(p, std::min<size_t>(16, end - p)) + "'");
    out.push_back(f);
    p = r.ptr;
    if (p < end) {
      if (*p != ',') return Status::Corruption("store: bad float list: expected ','");
      ++p;
    }
  }
  return out;
}

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Text PostgreSQL accepts (no NUL, valid UTF-8): bytes outside printable ASCII become \xNN.
std::string SafeText(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  static const char* kHex = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (c == '\n' || c == '\t') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ScoresJson(const std::vector<std::pair<std::string, float>>& scores) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : scores) j[k] = v;
  return j.dump();
}

std::vector<std::pair<std::string, float>> ParseScores(const std::string& text) {
  std::vector<std::pair<std::string, float>> out;
  auto j = nlohmann::ordered_json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_number()) out.emplace_back(it.key(), it.value().get<float>());
  }
  return out;
}

constexpr const char* kResultCols =
    "device_id, seq, fleet, timestamp_ms, prediction, confidence, scores, inference_ms, model_name, model_version, "
    "raw_data, win, win_reason, received_ms";

ResultRow RowToResult(const std::vector<SqlValue>& r) {
  ResultRow out;
  mqtt::ResultMessage& m = out.msg;
  m.device_id = CellText(r[0]);
  m.seq = CellInt(r[1]);
  out.fleet = CellText(r[2]);
  m.timestamp_ms = CellInt(r[3]);
  m.prediction = CellText(r[4]);
  m.confidence = static_cast<float>(CellDouble(r[5]));
  m.all_scores = ParseScores(CellText(r[6]));
  m.inference_ms = CellDouble(r[7]);
  m.model.name = CellText(r[8]);
  m.model.version = CellInt(r[9]);
  if (auto raw = DecodeFloats(CellText(r[10])); raw.ok()) m.raw_data = std::move(*raw);
  if (r[11]) {
    if (auto w = DecodeFloats(*r[11]); w.ok()) m.window = std::move(*w);
  }
  std::string reason = CellText(r[12]);
  m.window_reason = reason == "low_confidence" ? mqtt::UploadReason::kLowConfidence
                    : reason == "alarm"        ? mqtt::UploadReason::kAlarm
                    : reason == "random"       ? mqtt::UploadReason::kRandom
                                               : mqtt::UploadReason::kNone;
  out.received_ms = CellInt(r[13]);
  return out;
}

class SqlStore : public Store {
 public:
  explicit SqlStore(std::unique_ptr<SqlConn> conn) : conn_(std::move(conn)) {}

  Status Init() {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn_->dialect() == Dialect::kPostgres) {
      // Several collectors may open a fresh database at once; serialise the CREATEs.
      EL_RETURN_IF_ERROR(conn_->Begin());
      Status st = conn_->Exec("SELECT pg_advisory_xact_lock(4242)", {}).status();
      if (st.ok()) st = conn_->Exec(SchemaSql(Dialect::kPostgres)).status();
      if (!st.ok()) {
        conn_->Rollback();
        return st;
      }
      return conn_->Commit();
    }
    return conn_->Exec(SchemaSql(Dialect::kSqlite)).status();
  }

  std::string backend() const override { return conn_->dialect() == Dialect::kSqlite ? "sqlite" : "postgresql"; }

  Status Write(const Batch& batch, WriteCounts* counts) override {
    WriteCounts c;
    std::lock_guard<std::mutex> lock(mu_);
    EL_RETURN_IF_ERROR(conn_->Begin());
    Status st = WriteLocked(batch, &c);
    if (st.ok()) st = conn_->Commit();
    if (!st.ok()) {
      conn_->Rollback();
      device_cache_.clear();  // the cache may describe rows that were rolled back
      return st;
    }
    if (counts != nullptr) *counts = c;
    return Status::Ok();
  }

  Result<std::vector<DeviceSummary>> Devices() override {
    std::lock_guard<std::mutex> lock(mu_);
    EL_ASSIGN_OR_RETURN(SqlRows rows,
                        conn_->Exec("SELECT d.device_id, d.fleet, d.online, d.last_seen_ms, d.model_name, d.model_version, "
                                    "(SELECT COUNT(*) FROM results r WHERE r.device_id = d.device_id), "
                                    "(SELECT COUNT(*) FROM alarm_events a WHERE a.device_id = d.device_id AND a.event = 'raised' "
                                    " AND NOT EXISTS (SELECT 1 FROM alarm_events c WHERE c.device_id = a.device_id "
                                    " AND c.label = a.label AND c.event = 'cleared' AND c.seq > a.seq)) "
                                    "FROM devices d ORDER BY d.device_id",
                                    {}));
    std::vector<DeviceSummary> out;
    for (const auto& r : rows.rows) {
      DeviceSummary d;
      d.device_id = CellText(r[0]);
      d.fleet = CellText(r[1]);
      d.online = CellInt(r[2]) != 0;
      d.last_seen_ms = CellInt(r[3]);
      d.model.name = CellText(r[4]);
      d.model.version = CellInt(r[5]);
      d.results = CellInt(r[6]);
      d.alarms_open = CellInt(r[7]);
      out.push_back(std::move(d));
    }
    return out;
  }

  Result<std::vector<ResultRow>> Results(const ResultQuery& q) override {
    std::string sql = std::string("SELECT ") + kResultCols + " FROM results WHERE 1=1";
    std::vector<SqlValue> p;
    AddFilters(q, &sql, &p);
    sql += q.oldest_first ? " ORDER BY timestamp_ms ASC, device_id, seq" : " ORDER BY timestamp_ms DESC, seq DESC";
    if (q.limit > 0) {
      sql += " LIMIT ?";
      p.push_back(V(q.limit));
    }
    std::lock_guard<std::mutex> lock(mu_);
    EL_ASSIGN_OR_RETURN(SqlRows rows, conn_->Exec(sql, p));
    std::vector<ResultRow> out;
    out.reserve(rows.rows.size());
    for (const auto& r : rows.rows) out.push_back(RowToResult(r));
    return out;
  }

  Result<int64_t> CountResults(const std::string& device_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    SqlRows rows;
    if (device_id.empty()) {
      EL_ASSIGN_OR_RETURN(rows, conn_->Exec("SELECT COUNT(*) FROM results", {}));
    } else {
      EL_ASSIGN_OR_RETURN(rows, conn_->Exec("SELECT COUNT(*) FROM results WHERE device_id = ?", {V(device_id)}));
    }
    return rows.rows.empty() ? int64_t{0} : CellInt(rows.rows[0][0]);
  }

  Result<std::vector<StatsBucket>> ResultStats(int64_t since_ms, int64_t bucket_s, const std::string& device_id) override {
    if (bucket_s <= 0) return Status::InvalidArgument("store: bucket_s must be > 0");
    std::string sql = "SELECT (timestamp_ms - ?) / ? AS b, prediction, COUNT(*) FROM results WHERE timestamp_ms >= ?";
    std::vector<SqlValue> p = {V(since_ms), V(bucket_s * 1000), V(since_ms)};
    if (!device_id.empty()) {
      sql += " AND device_id = ?";
      p.push_back(V(device_id));
    }
    sql += " GROUP BY b, prediction ORDER BY b, prediction";
    std::lock_guard<std::mutex> lock(mu_);
    EL_ASSIGN_OR_RETURN(SqlRows rows, conn_->Exec(sql, p));
    std::vector<StatsBucket> out;
    for (const auto& r : rows.rows) {
      int64_t start = since_ms + CellInt(r[0]) * bucket_s * 1000;
      if (out.empty() || out.back().start_ms != start) out.push_back(StatsBucket{start, {}});
      out.back().counts.emplace_back(CellText(r[1]), CellInt(r[2]));
    }
    return out;
  }

  Result<std::vector<AlarmView>> Alarms(bool open_only, int64_t limit) override {
    std::string sql =
        "SELECT * FROM (SELECT a.id, a.device_id, a.fleet, a.timestamp_ms, "
        "(SELECT MIN(c.timestamp_ms) FROM alarm_events c WHERE c.device_id = a.device_id AND c.label = a.label "
        " AND c.event = 'cleared' AND c.seq > a.seq) AS cleared, "
        "a.label, a.score, a.seq, a.result_seq, "
        "(SELECT l.verdict FROM labels l WHERE l.alarm_id = a.id ORDER BY l.id DESC LIMIT 1) "
        "FROM alarm_events a WHERE a.event = 'raised') v";
    if (open_only) sql += " WHERE cleared IS NULL";
    sql += " ORDER BY 4 DESC, 1 DESC LIMIT ?";
    std::lock_guard<std::mutex> lock(mu_);
    EL_ASSIGN_OR_RETURN(SqlRows rows, conn_->Exec(sql, {V(limit > 0 ? limit : int64_t{1000})}));
    std::vector<AlarmView> out;
    for (const auto& r : rows.rows) {
      AlarmView a;
      a.id = CellInt(r[0]);
      a.device_id = CellText(r[1]);
      a.fleet = CellText(r[2]);
      a.raised_ms = CellInt(r[3]);
      if (r[4]) a.cleared_ms = CellInt(r[4]);
      a.label = CellText(r[5]);
      a.score = CellDouble(r[6]);
      a.seq = CellInt(r[7]);
      a.result_seq = CellInt(r[8]);
      a.verdict = CellText(r[9]);
      out.push_back(std::move(a));
    }
    return out;
  }

  Result<Label> AddLabel(Label l) override {
    int targets = (l.seq.has_value() ? 1 : 0) + (l.alarm_id.has_value() ? 1 : 0) + (l.end_ms > l.start_ms ? 1 : 0);
    if (targets != 1) {
      return Status::InvalidArgument("label: give exactly one target: device_id+seq, alarm_id, or a device time range");
    }
    if (l.alarm_id) {
      if (l.verdict == "confirm") l.verdict = "confirmed";
      if (l.verdict == "reject") l.verdict = "rejected";
      if (l.verdict != "confirmed" && l.verdict != "rejected") {
        return Status::InvalidArgument("label: field 'verdict': must be 'confirm' or 'reject'");
      }
    } else {
      if (l.device_id.empty()) return Status::InvalidArgument("label: field 'device_id': required");
      if (Status s = mqtt::ValidateName("label", l.label); !s.ok()) {
        return Status::InvalidArgument("label: field 'label': " + s.message());
      }
    }
    if (l.source.empty()) l.source = "operator";
    if (l.source != "operator" && l.source != "maintenance") {
      return Status::InvalidArgument("label: field 'source': must be 'operator' or 'maintenance'");
    }
    l.created_ms = NowMs();
    std::lock_guard<std::mutex> lock(mu_);
    if (l.seq) {
      EL_ASSIGN_OR_RETURN(SqlRows r, conn_->Exec("SELECT 1 FROM results WHERE device_id = ? AND seq = ?",
                                                 {V(l.device_id), V(*l.seq)}));
      if (r.rows.empty()) {
        return Status::NotFound("label: no result " + l.device_id + " seq " + std::to_string(*l.seq));
      }
    }
    if (l.alarm_id) {
      EL_ASSIGN_OR_RETURN(SqlRows r, conn_->Exec("SELECT device_id, label FROM alarm_events WHERE id = ? AND event = 'raised'",
                                                 {V(*l.alarm_id)}));
      if (r.rows.empty()) return Status::NotFound("label: no alarm with id " + std::to_string(*l.alarm_id));
      l.device_id = CellText(r.rows[0][0]);
      if (l.label.empty()) l.label = CellText(r.rows[0][1]);
    }
    EL_ASSIGN_OR_RETURN(
        SqlRows r,
        conn_->Exec("INSERT INTO labels (device_id, seq, alarm_id, start_ms, end_ms, label, verdict, source, by_whom, "
                    "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    {V(l.device_id), l.seq ? V(*l.seq) : SqlValue(), l.alarm_id ? V(*l.alarm_id) : SqlValue(),
                     V(l.start_ms), V(l.end_ms), V(l.label), V(l.verdict), V(l.source), V(l.by), V(l.created_ms)}));
    if (!r.rows.empty()) l.id = CellInt(r.rows[0][0]);
    return l;
  }

  Result<std::vector<Label>> Labels(int64_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    EL_ASSIGN_OR_RETURN(SqlRows rows,
                        conn_->Exec("SELECT id, device_id, seq, alarm_id, start_ms, end_ms, label, verdict, source, by_whom, "
                                    "created_ms FROM labels ORDER BY id DESC LIMIT ?",
                                    {V(limit > 0 ? limit : int64_t{1000})}));
    std::vector<Label> out;
    for (const auto& r : rows.rows) {
      Label l;
      l.id = CellInt(r[0]);
      l.device_id = CellText(r[1]);
      if (r[2]) l.seq = CellInt(r[2]);
      if (r[3]) l.alarm_id = CellInt(r[3]);
      l.start_ms = CellInt(r[4]);
      l.end_ms = CellInt(r[5]);
      l.label = CellText(r[6]);
      l.verdict = CellText(r[7]);
      l.source = CellText(r[8]);
      l.by = CellText(r[9]);
      l.created_ms = CellInt(r[10]);
      out.push_back(std::move(l));
    }
    return out;
  }

  Result<std::vector<LabelledWindow>> LabelledWindows(const ResultQuery& q, std::optional<double> min_confidence) override {
    // Priority when several sources label one window: operator > maintenance > prediction.
    std::map<std::pair<std::string, int64_t>, std::pair<int, LabelledWindow>> best;
    auto add = [&](const std::vector<SqlValue>& r, const std::string& label, const std::string& source, int rank) {
      LabelledWindow w;
      w.device_id = CellText(r[0]);
      w.seq = CellInt(r[1]);
      w.timestamp_ms = CellInt(r[2]);
      w.confidence = static_cast<float>(CellDouble(r[3]));
      auto win = DecodeFloats(CellText(r[4]));
      if (!win.ok() || win->empty()) return;
      w.window = std::move(*win);
      w.label = label;
      w.source = source;
      auto key = std::make_pair(w.device_id, w.seq);
      auto it = best.find(key);
      if (it == best.end() || it->second.first < rank) best[key] = {rank, std::move(w)};
    };
    const std::string cols = "r.device_id, r.seq, r.timestamp_ms, r.confidence, r.win";
    std::string filt;
    std::vector<SqlValue> fp;
    AddFilters(q, &filt, &fp, "r.");
    std::lock_guard<std::mutex> lock(mu_);
    {  // operator labels on results (newest label wins: ascending id, later rows overwrite)
      EL_ASSIGN_OR_RETURN(SqlRows rows, conn_->Exec("SELECT " + cols + ", l.label FROM results r JOIN labels l ON "
                                                   "l.device_id = r.device_id AND l.seq = r.seq WHERE r.win IS NOT NULL" +
                                                       filt + " ORDER BY l.id",
                                                   fp));
      for (const auto& r : rows.rows) {
        best.erase({CellText(r[0]), CellInt(r[1])});
        add(r, CellText(r[5]), "operator", 3);
      }
    }
    {  // confirmed alarms label the result that raised them
      EL_ASSIGN_OR_RETURN(SqlRows rows,
                          conn_->Exec("SELECT " + cols + ", a.label FROM results r JOIN alarm_events a ON a.device_id = "
                                      "r.device_id AND a.result_seq = r.seq JOIN labels l ON l.alarm_id = a.id WHERE "
                                      "l.verdict = 'confirmed' AND r.win IS NOT NULL" + filt,
                                      fp));
      for (const auto& r : rows.rows) add(r, CellText(r[5]), "operator", 2);
    }
    {  // maintenance ranges
      EL_ASSIGN_OR_RETURN(SqlRows rows,
                          conn_->Exec("SELECT " + cols + ", l.label FROM results r JOIN labels l ON l.device_id = "
                                      "r.device_id AND l.seq IS NULL AND l.alarm_id IS NULL AND r.timestamp_ms >= "
                                      "l.start_ms AND r.timestamp_ms < l.end_ms WHERE r.win IS NOT NULL" + filt,
                                      fp));
      for (const auto& r : rows.rows) add(r, CellText(r[5]), "maintenance", 1);
    }
    if (min_confidence) {
      std::vector<SqlValue> p = fp;
      p.push_back(V(*min_confidence));
      EL_ASSIGN_OR_RETURN(SqlRows rows, conn_->Exec("SELECT " + cols + ", r.prediction FROM results r WHERE r.win IS NOT "
                                                   "NULL" + filt + " AND r.confidence >= ?",
                                                   p));
      for (const auto& r : rows.rows) add(r, CellText(r[5]), "prediction", 0);
    }
    std::vector<LabelledWindow> out;
    out.reserve(best.size());
    for (auto& [k, v] : best) out.push_back(std::move(v.second));
    std::sort(out.begin(), out.end(), [](const LabelledWindow& a, const LabelledWindow& b) {
      return a.timestamp_ms != b.timestamp_ms ? a.timestamp_ms < b.timestamp_ms
                                              : (a.device_id != b.device_id ? a.device_id < b.device_id : a.seq < b.seq);
    });
    return out;
  }

  Result<std::vector<StoredStatus>> Statuses(const std::string& device_id, int64_t since_ms, int64_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string sql = "SELECT fleet, body, received_ms, timestamp_ms FROM status_events WHERE timestamp_ms >= ?";
    std::vector<SqlValue> params = {V(since_ms)};
    if (!device_id.empty()) {
      sql += " AND device_id = ?";
      params.push_back(V(device_id));
    }
    sql += " ORDER BY timestamp_ms, id";
    if (limit > 0) {
      sql += " LIMIT ?";
      params.push_back(V(limit));
    }
    EL_ASSIGN_OR_RETURN(SqlRows rows, conn_->Exec(sql, params));
    std::vector<StoredStatus> out;
    out.reserve(rows.rows.size());
    for (const auto& r : rows.rows) {
      auto m = mqtt::StatusFromJson(CellText(r[1]));
      if (!m.ok()) return Status::Corruption("store: status_events: " + m.status().message());
      if (m->timestamp_ms == 0) m->timestamp_ms = CellInt(r[3]);
      out.push_back(StoredStatus{CellText(r[0]), std::move(*m), CellInt(r[2])});
    }
    return out;
  }

  Result<std::vector<DeadLetter>> DeadLetters(int64_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    EL_ASSIGN_OR_RETURN(SqlRows rows, conn_->Exec("SELECT id, topic, payload, reason, received_ms FROM dead_letters "
                                                 "ORDER BY id DESC LIMIT ?",
                                                 {V(limit > 0 ? limit : int64_t{1000})}));
    std::vector<DeadLetter> out;
    for (const auto& r : rows.rows) {
      out.push_back(DeadLetter{CellInt(r[0]), CellText(r[1]), CellText(r[2]), CellText(r[3]), CellInt(r[4])});
    }
    return out;
  }

  Result<int64_t> CountDeadLetters() override {
    std::lock_guard<std::mutex> lock(mu_);
    EL_ASSIGN_OR_RETURN(SqlRows rows, conn_->Exec("SELECT COUNT(*) FROM dead_letters", {}));
    return rows.rows.empty() ? int64_t{0} : CellInt(rows.rows[0][0]);
  }

  Status SetModelInfo(const std::string& name, int64_t version, const std::string& json) override {
    std::lock_guard<std::mutex> lock(mu_);
    return conn_
        ->Exec("INSERT INTO models (name, version, info) VALUES (?, ?, ?) ON CONFLICT (name, version) DO UPDATE SET "
               "info = excluded.info",
               {V(name), V(version), V(json)})
        .status();
  }

  Result<std::string> GetModelInfo(const std::string& name, int64_t version) override {
    std::lock_guard<std::mutex> lock(mu_);
    EL_ASSIGN_OR_RETURN(SqlRows rows, conn_->Exec("SELECT info FROM models WHERE name = ? AND version = ?",
                                                 {V(name), V(version)}));
    if (rows.rows.empty()) {
      return Status::NotFound("store: no information for model '" + name + "' version " + std::to_string(version));
    }
    return CellText(rows.rows[0][0]);
  }

  Status AddRetrainDecision(RetrainDecision d) override {
    if (d.time_ms == 0) d.time_ms = NowMs();
    std::lock_guard<std::mutex> lock(mu_);
    return conn_
        ->Exec("INSERT INTO retrain_decisions (time_ms, model, candidate_version, champion_version, candidate_accuracy, "
               "champion_accuracy, decision, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               {V(d.time_ms), V(d.model), V(d.candidate_version), V(d.champion_version), V(d.candidate_accuracy),
                V(d.champion_accuracy), V(d.decision), V(d.reason)})
        .status();
  }

  Result<std::vector<RetrainDecision>> RetrainDecisions(int64_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    EL_ASSIGN_OR_RETURN(SqlRows rows,
                        conn_->Exec("SELECT id, time_ms, model, candidate_version, champion_version, candidate_accuracy, "
                                    "champion_accuracy, decision, reason FROM retrain_decisions ORDER BY id DESC LIMIT ?",
                                    {V(limit > 0 ? limit : int64_t{1000})}));
    std::vector<RetrainDecision> out;
    for (const auto& r : rows.rows) {
      out.push_back(RetrainDecision{CellInt(r[0]), CellInt(r[1]), CellText(r[2]), CellInt(r[3]), CellInt(r[4]),
                                    CellDouble(r[5]), CellDouble(r[6]), CellText(r[7]), CellText(r[8])});
    }
    return out;
  }

 private:
  static void AddFilters(const ResultQuery& q, std::string* sql, std::vector<SqlValue>* p, const std::string& t = "") {
    if (!q.device_id.empty()) {
      *sql += " AND " + t + "device_id = ?";
      p->push_back(V(q.device_id));
    }
    if (q.since_ms > 0) {
      *sql += " AND " + t + "timestamp_ms >= ?";
      p->push_back(V(q.since_ms));
    }
    if (q.until_ms > 0) {
      *sql += " AND " + t + "timestamp_ms < ?";
      p->push_back(V(q.until_ms));
    }
    if (q.before_seq) {
      *sql += " AND " + t + "seq < ?";
      p->push_back(V(*q.before_seq));
    }
    if (q.with_window_only) *sql += " AND " + t + "win IS NOT NULL";
  }

  // REQUIRES: mu_ held, a transaction open.
  Status WriteLocked(const Batch& b, WriteCounts* c) {
    // PostgreSQL: one multi-row INSERT per chunk (a round trip per row would dominate); SQLite:
    // the cached single-row statement (no round trips, so rows are as cheap one by one).
    const size_t chunk = conn_->dialect() == Dialect::kPostgres ? 500 : 1;
    for (size_t i = 0; i < b.results.size(); i += chunk) {
      const size_t end = std::min(b.results.size(), i + chunk);
      std::string sql = std::string("INSERT INTO results (") + kResultCols + ") VALUES ";
      std::vector<SqlValue> p;
      p.reserve((end - i) * 14);
      for (size_t k = i; k < end; ++k) {
        const StoredResult& r = b.results[k];
        const mqtt::ResultMessage& m = r.msg;
        sql += k == i ? "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        for (SqlValue& v : std::vector<SqlValue>{
                 V(m.device_id), V(m.seq), V(r.fleet), V(m.timestamp_ms), V(m.prediction),
                 V(static_cast<double>(m.confidence)), V(ScoresJson(m.all_scores)), V(m.inference_ms), V(m.model.name),
                 V(m.model.version), V(EncodeFloats(m.raw_data)), m.window.empty() ? SqlValue() : V(EncodeFloats(m.window)),
                 V(mqtt::UploadReasonName(m.window_reason)), V(r.received_ms)}) {
          p.push_back(std::move(v));
        }
      }
      sql += " ON CONFLICT (device_id, seq) DO NOTHING";
      EL_ASSIGN_OR_RETURN(SqlRows rows, conn_->Exec(sql, p));
      // A batch may carry the same (device, seq) twice; the second counts as a duplicate either way.
      c->results_inserted += rows.affected;
      c->results_duplicate += static_cast<int64_t>(end - i) - rows.affected;
      for (size_t k = i; k < end; ++k) {
        const mqtt::ResultMessage& m = b.results[k].msg;
        EL_RETURN_IF_ERROR(TouchDevice(m.device_id, b.results[k].fleet, m.timestamp_ms, m.model, std::nullopt));
      }
    }
    for (const StoredAlarm& a : b.alarms) {
      const mqtt::AlarmMessage& m = a.msg;
      EL_ASSIGN_OR_RETURN(
          SqlRows rows,
          conn_->Exec("INSERT INTO alarm_events (device_id, seq, fleet, timestamp_ms, event, label, score, threshold, "
                      "result_seq, model_name, model_version, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                      "ON CONFLICT (device_id, seq) DO NOTHING",
                      {V(m.device_id), V(m.seq), V(a.fleet), V(m.timestamp_ms), V(mqtt::AlarmEventName(m.event)),
                       V(m.label), V(static_cast<double>(m.score)), V(static_cast<double>(m.threshold)), V(m.result_seq),
                       V(m.model.name), V(m.model.version), V(a.received_ms)}));
      if (rows.affected > 0) {
        ++c->alarms_inserted;
      } else {
        ++c->alarms_duplicate;
      }
      EL_RETURN_IF_ERROR(TouchDevice(m.device_id, a.fleet, m.timestamp_ms, m.model, std::nullopt));
    }
    for (const StoredStatus& s : b.statuses) {
      const mqtt::StatusMessage& m = s.msg;
      int64_t t = m.timestamp_ms > 0 ? m.timestamp_ms : s.received_ms;
      EL_RETURN_IF_ERROR(TouchDevice(m.device_id, s.fleet, t, m.model, m.state == "online"));
      EL_RETURN_IF_ERROR(conn_
                             ->Exec("INSERT INTO status_events (device_id, fleet, timestamp_ms, model_name, model_version, "
                                    "body, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                    {V(m.device_id), V(s.fleet), V(t), V(m.model.name), V(m.model.version),
                                     V(SafeText(mqtt::StatusToJson(m))), V(s.received_ms)})
                             .status());
      ++c->statuses;
    }
    for (const DeadLetter& d : b.dead_letters) {
      EL_RETURN_IF_ERROR(conn_
                             ->Exec("INSERT INTO dead_letters (topic, payload, reason, received_ms) VALUES (?, ?, ?, ?)",
                                    {V(SafeText(d.topic)), V(SafeText(d.payload)), V(SafeText(d.reason)), V(d.received_ms)})
                             .status());
      ++c->dead_letters;
    }
    return Status::Ok();
  }

  // Upserts the device row. Results arrive by the thousand per device; the row is rewritten only
  // when something visible changes (model, online state) or a second has passed.
  Status TouchDevice(const std::string& id, const std::string& fleet, int64_t seen_ms, const mqtt::ModelRef& model,
                     std::optional<bool> online) {
    CachedDevice& cd = device_cache_[id];
    bool model_known = !model.name.empty();
    if (cd.known && !online && (!model_known || (cd.model_name == model.name && cd.model_version == model.version)) &&
        seen_ms < cd.last_seen_ms + 1000) {
      return Status::Ok();
    }
    if (model_known) {
      cd.model_name = model.name;
      cd.model_version = model.version;
    }
    std::string sql =
        "INSERT INTO devices (device_id, fleet, last_seen_ms, online, model_name, model_version) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (device_id) DO UPDATE SET fleet = excluded.fleet, "
        "last_seen_ms = CASE WHEN excluded.last_seen_ms > devices.last_seen_ms THEN excluded.last_seen_ms "
        "ELSE devices.last_seen_ms END";
    if (model_known) sql += ", model_name = excluded.model_name, model_version = excluded.model_version";
    if (online) {
      sql += ", online = excluded.online";
    } else {
      sql += ", online = 1";  // a device that sends results is online
    }
    EL_RETURN_IF_ERROR(conn_
                           ->Exec(sql, {V(id), V(fleet), V(seen_ms), V(static_cast<int64_t>(online.value_or(true) ? 1 : 0)),
                                        V(model.name), V(model.version)})
                           .status());
    cd.known = true;
    cd.last_seen_ms = std::max(cd.last_seen_ms, seen_ms);
    return Status::Ok();
  }

  struct CachedDevice {
    bool known = false;
    int64_t last_seen_ms = 0;
    std::string model_name;
    int64_t model_version = 0;
  };

  std::mutex mu_;
  std::unique_ptr<SqlConn> conn_;                        // GUARDED_BY(mu_)
  std::map<std::string, CachedDevice> device_cache_;     // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& url) {
  std::unique_ptr<SqlConn> conn;
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    EL_ASSIGN_OR_RETURN(conn, OpenPostgres(url));
  } else if (url.find("://") != std::string::npos) {
    return Status::InvalidArgument("store: '" + url + "': use a file path, sqlite:PATH or postgresql://...");
  } else {
    EL_ASSIGN_OR_RETURN(conn, OpenSqlite(url));
  }
  auto store = std::make_unique<SqlStore>(std::move(conn));
  EL_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace edgeloop::store
