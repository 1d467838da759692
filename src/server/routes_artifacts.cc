// Registry routes: artifact downloads, streamed from disk with ETag and Range support.
#include <memory>

#include "edgeloop/server/registry_routes.h"
#include "server/routes_util.h"

namespace edgeloop::server {

void RegistryRoutes::GetArtifact(RequestContext& ctx) {
  auto name = ModelParam(ctx);
  if (!name) return;
  auto version = VersionParam(ctx);
  if (!version) return;
  auto opened = registry_->OpenArtifact(*name, *version);
  if (!opened.ok()) return SendStatus(ctx.res, opened.status());
  // Shared by the content provider, which httplib copies; the file closes with the last copy.
  std::shared_ptr<registry::ArtifactFile> file = std::move(*opened);
  const uint64_t size = file->size();
  const std::string etag = "\"" + file->sha256() + "\"";
  auto count = [this](int status) {
    metrics_->GetCounter("edgeloop_registry_downloads_total", "Artifact downloads by HTTP status.",
                         {{"status", std::to_string(status)}})
        .Increment();
  };

  ctx.res.set_header("ETag", etag);
  ctx.res.set_header("Accept-Ranges", "bytes");
  // A version's bytes never change. Not "public": a shared cache must not serve them without the
  // token unless its operator decides so.
  ctx.res.set_header("Cache-Control", "max-age=31536000, immutable");
  if (ctx.req.has_header("If-None-Match") && IfNoneMatchHits(ctx.req.get_header_value("If-None-Match"), etag)) {
    ctx.res.status = 304;
    count(304);
    return;
  }

  ByteRange range{0, size == 0 ? 0 : size - 1};
  RangeKind kind = RangeKind::kNone;
  // If-Range: resume only if the client's partial copy is of these very bytes.
  const bool range_valid = !ctx.req.has_header("If-Range") || ctx.req.get_header_value("If-Range") == etag;
  if (ctx.req.has_header("Range") && range_valid) kind = ParseRange(ctx.req.get_header_value("Range"), size, &range);
  if (kind == RangeKind::kUnsatisfiable) {
    ctx.res.set_header("Content-Range", "bytes */" + std::to_string(size));
    count(416);
    return SendError(ctx.res, 416, "RangeNotSatisfiable",
                     "range '" + ctx.req.get_header_value("Range").substr(0, 60) + "' is outside the artifact (" +
                         std::to_string(size) + " bytes)");
  }
  uint64_t first = 0, length = size;
  if (kind == RangeKind::kSatisfiable) {
    first = range.first;
    length = range.length();
    ctx.res.status = 206;
    ctx.res.set_header("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) +
                                            "/" + std::to_string(size));
  } else {
    ctx.res.status = 200;
  }
  count(ctx.res.status);
  ctx.res.set_header("Content-Disposition",
                     "attachment; filename=\"" + *name + "-v" + std::to_string(*version) + ".tflite\"");
  Counter* bytes_sent = &metrics_->GetCounter("edgeloop_registry_download_bytes_total", "Artifact bytes sent.");
  ctx.res.set_content_provider(
      static_cast<size_t>(length), "application/octet-stream",
      [file, first, length, bytes_sent](size_t offset, size_t want, httplib::DataSink& sink) {
        constexpr size_t kChunk = 256 * 1024;
        auto buf = std::make_unique_for_overwrite<uint8_t[]>(kChunk);
        size_t todo = std::min<uint64_t>(want, length - offset);
        while (todo > 0) {
          auto n = file->ReadAt(first + offset, std::span<uint8_t>(buf.get(), std::min(todo, kChunk)));
          if (!n.ok() || *n == 0) return false;  // the file shrank or failed: abort the response
          if (!sink.write(reinterpret_cast<const char*>(buf.get()), *n)) return false;
          bytes_sent->Increment(static_cast<double>(*n));
          offset += *n;
          todo -= *n;
        }
        return true;
      });
}

}  // namespace edgeloop::server
