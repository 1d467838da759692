#include "edgeloop/server/http_util.h"

#include <gtest/gtest.h>

namespace edgeloop::server {
namespace {

TEST(HttpUtil, ParseRangeTable) {
  struct Case {
    const char* header;
    uint64_t size;
    RangeKind kind;
    uint64_t first, last;
  } cases[] = {
      {"bytes=0-99", 1000, RangeKind::kSatisfiable, 0, 99},
      {"bytes=100-", 1000, RangeKind::kSatisfiable, 100, 999},
      {"bytes=-10", 1000, RangeKind::kSatisfiable, 990, 999},
      {"bytes=-5000", 1000, RangeKind::kSatisfiable, 0, 999},
      {"bytes=990-5000", 1000, RangeKind::kSatisfiable, 990, 999},  // clamped, never read past the end
      {"bytes=999-999", 1000, RangeKind::kSatisfiable, 999, 999},
      {" bytes = 5-6 ", 1000, RangeKind::kNone, 0, 0},
      {"bytes=1000-", 1000, RangeKind::kUnsatisfiable, 0, 0},
      {"bytes=5000-6000", 1000, RangeKind::kUnsatisfiable, 0, 0},
      {"bytes=-0", 1000, RangeKind::kUnsatisfiable, 0, 0},
      {"bytes=0-", 0, RangeKind::kUnsatisfiable, 0, 0},
      {"bytes=9-5", 1000, RangeKind::kNone, 0, 0},  // invalid: ignored
      {"bytes=0-1,5-6", 1000, RangeKind::kNone, 0, 0},  // several: whole resource
      {"items=0-5", 1000, RangeKind::kNone, 0, 0},
      {"bytes=a-b", 1000, RangeKind::kNone, 0, 0},
      {"bytes=99999999999999999999999-", 1000, RangeKind::kNone, 0, 0},
      {"", 1000, RangeKind::kNone, 0, 0},
  };
  for (const Case& c : cases) {
    ByteRange r;
    RangeKind kind = ParseRange(c.header, c.size, &r);
    EXPECT_EQ(kind, c.kind) << c.header;
    if (kind == RangeKind::kSatisfiable && c.kind == RangeKind::kSatisfiable) {
      EXPECT_EQ(r.first, c.first) << c.header;
      EXPECT_EQ(r.last, c.last) << c.header;
    }
  }
}

TEST(HttpUtil, IfNoneMatch) {
  const std::string etag = "\"abc\"";
  EXPECT_TRUE(IfNoneMatchHits("\"abc\"", etag));
  EXPECT_TRUE(IfNoneMatchHits("W/\"abc\"", etag));
  EXPECT_TRUE(IfNoneMatchHits("\"x\", \"abc\"", etag));
  EXPECT_TRUE(IfNoneMatchHits("*", etag));
  EXPECT_FALSE(IfNoneMatchHits("\"abcd\"", etag));
  EXPECT_FALSE(IfNoneMatchHits("abc", etag));
  EXPECT_FALSE(IfNoneMatchHits("", etag));
}

TEST(HttpUtil, BearerTokenAndBodies) {
  httplib::Request req;
  EXPECT_EQ(BearerToken(req), "");
  req.set_header("Authorization", "Bearer elt_123 ");
  EXPECT_EQ(BearerToken(req), "elt_123");
  httplib::Request lower;
  lower.set_header("Authorization", "bearer abc");
  EXPECT_EQ(BearerToken(lower), "abc");
  httplib::Request basic;
  basic.set_header("Authorization", "Basic dXNlcjpwYXNz");
  EXPECT_EQ(BearerToken(basic), "");

  httplib::Request body;
  body.body = "{\"version\": 3}";
  EXPECT_TRUE(ParseJsonObjectBody(body).ok());
  body.body = "[1]";
  EXPECT_FALSE(ParseJsonObjectBody(body).ok());
  body.body = "{oops";
  EXPECT_EQ(ParseJsonObjectBody(body).status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpUtil, ErrorsAreJson) {
  httplib::Response res;
  SendStatus(res, Status::NotFound("model 'x' does not exist"));
  EXPECT_EQ(res.status, 404);
  auto j = nlohmann::json::parse(res.body);
  EXPECT_EQ(j["error"]["code"], "NotFound");
  EXPECT_EQ(j["error"]["message"], "model 'x' does not exist");
  // Messages quoting client bytes that are not UTF-8 still make valid JSON.
  SendError(res, 400, "InvalidArgument", std::string("bad \xff\xfe name"));
  EXPECT_NO_THROW(nlohmann::json::parse(res.body));
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kCorruption), 500);
}

}  // namespace
}  // namespace edgeloop::server
