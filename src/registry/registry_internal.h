// Helpers shared by registry.cc and channels.cc. "Locked" functions expect the caller to hold the
// Db lock (and, for writes, an open transaction). Internal to src/registry.
#ifndef EDGELOOP_REGISTRY_REGISTRY_INTERNAL_H_
#define EDGELOOP_REGISTRY_REGISTRY_INTERNAL_H_

#include <optional>
#include <string>

#include "edgeloop/common/status.h"
#include "edgeloop/registry/api_types.h"
#include "registry/db.h"

namespace edgeloop::registry {

// A share is only for the canary, in [0, 1]; stable takes none (or exactly 1).
Status CheckShare(const std::string& channel, std::optional<double> share);
// The share a move records: the given one; for a canary without one, the canary's current share,
// else 0.1; 1 for stable.
Result<double> ResolveShareLocked(Db* db, const std::string& model, const std::string& channel,
                                  std::optional<double> share);
Status InsertChannelEventLocked(Db* db, const std::string& model, const std::string& channel, int64_t version,
                                double share, const std::string& action, const std::string& at, const Actor& actor);
// The event the channel currently points at (its newest event not rolled back), if any.
Result<std::optional<ChannelEvent>> CurrentEventLocked(Db* db, const std::string& model, const std::string& channel);
Result<std::string> ReadManifestLocked(Db* db, const std::string& model, int64_t version);

}  // namespace edgeloop::registry

#endif  // EDGELOOP_REGISTRY_REGISTRY_INTERNAL_H_
