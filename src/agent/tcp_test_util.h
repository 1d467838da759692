// For the tests of batched sends (tcp_batch_test.cc, mqtt_link_test.cc): what a socket sent.
#ifndef EDGELOOP_AGENT_TCP_TEST_UTIL_H_
#define EDGELOOP_AGENT_TCP_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <linux/tcp.h>  // struct tcp_info with tcpi_segs_out
#include <sys/socket.h>

#include <cstdint>

namespace edgeloop::agent {

// The TCP segments the socket has sent so far (TCP_INFO).
inline uint64_t SegmentsOut(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  EXPECT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len), 0);
  return info.tcpi_segs_out;
}

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_TCP_TEST_UTIL_H_
