// The store's HTTP API under /v1 (the contract with the dashboard, issue 7): devices, results,
// result stats, alarms, labels, dead letters, retrain decisions. Reads take any valid token;
// writes (POST /v1/labels) take an admin token.
//
//   GET  /v1/devices                                   {"devices":[...]}
//   GET  /v1/results?device=ID&limit=N[&before_seq=S]  {"results":[...]}
//   GET  /v1/results/stats?since=RFC3339&bucket_s=60[&device=ID]
//   GET  /v1/alarms?state=open|all&limit=N             {"alarms":[...]}
//   POST /v1/labels  {"device_id","seq","label","by"} | {"alarm_id","verdict":"confirm"|"reject","by"}
//                    | {"device_id","start","end","label","source":"maintenance"}  -> 201 {"label":{...}}
//   GET  /v1/labels?limit=N                            {"labels":[...]}
//   GET  /v1/dead-letters?limit=N                      {"dead_letters":[...],"total":N}
//   GET  /v1/retrain/decisions?limit=N                 {"decisions":[...]}
//   GET  /v1/drift?device=ID|fleet[&model=NAME][&since=RFC3339, default 24 h ago]  (store/drift.h)
//
// A device is "online" when its latest status message says so (its will says "offline").
// Thread-safety: handlers run concurrently; the store serialises itself.
#ifndef EDGELOOP_SERVER_STORE_ROUTES_H_
#define EDGELOOP_SERVER_STORE_ROUTES_H_

#include <functional>
#include <nlohmann/json.hpp>

#include "edgeloop/server/api_server.h"
#include "edgeloop/store/store.h"

namespace edgeloop::server {

class StoreRoutes : public RouteProvider {
 public:
  // `store` must outlive the routes (and the server they are registered on).
  explicit StoreRoutes(store::Store* store) : store_(store) {}
  void RegisterRoutes(ApiServer& server) override;

  // JSON forms shared with the CLI.
  static nlohmann::json ToJson(const store::Label& l);
  static nlohmann::json ToJson(const store::AlarmView& a);
  static nlohmann::json ToJson(const store::ResultRow& r);
  // Parses a POST /v1/labels body. Errors: InvalidArgument naming the field.
  static Result<store::Label> LabelFromJson(const nlohmann::json& body);

 private:
  void Devices(RequestContext& ctx);
  void Results(RequestContext& ctx);
  void Stats(RequestContext& ctx);
  void Alarms(RequestContext& ctx);
  void PostLabel(RequestContext& ctx);
  void ListLabels(RequestContext& ctx);
  void DeadLetters(RequestContext& ctx);
  void Decisions(RequestContext& ctx);
  void Drift(RequestContext& ctx);

  store::Store* store_;  // must outlive this
};

}  // namespace edgeloop::server

#endif  // EDGELOOP_SERVER_STORE_ROUTES_H_
