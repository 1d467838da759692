// Sending a batch of MQTT messages as one TCP segment through a client library that does not show
// its socket (Paho's MQTTClient writes each PUBLISH with its own writev).
//
// Each writev on its own is a TCP segment: the whole send path runs once per message, and on the
// device's link (often metered) each one is a packet. With TCP_CORK set around the batch, the
// writes only fill the socket buffer and the batch goes out when the cork is pulled: one segment
// (or as few as the MSS allows).
//
// Finding the socket: the connected stream sockets of the process are listed (/proc/self/fd)
// before and after the library connects; the one that appeared, whose peer has the broker's port,
// is the library's. None or more than one such: there is nothing to cork, and messages go one
// segment each as before. A socket is known by its inode, checked again before each cork, so a
// descriptor number the library has closed and the process reused is never corked.
#ifndef EDGELOOP_AGENT_TCP_BATCH_H_
#define EDGELOOP_AGENT_TCP_BATCH_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace edgeloop::agent {

struct SocketId {
  int fd = -1;
  ino_t inode = 0;
  bool known() const { return fd >= 0; }
};

// The inodes of the process's open sockets.
std::vector<ino_t> OpenSockets();
// The one connected TCP socket not in `before` whose peer port is `peer_port`; unknown if none or
// several.
SocketId FindNewPeerSocket(const std::vector<ino_t>& before, int peer_port);
// The port of a tcp://, ssl://, mqtt:// or mqtts:// URI: the explicit one, else the scheme's
// (1883, 8883); 0 for anything else.
int UriPort(const std::string& uri);

// Holds the socket's outgoing segments while on (TCP_CORK). On: false (and nothing set) when
// `s` is unknown or its descriptor no longer is that socket. Off sends what was held.
bool SetCork(const SocketId& s, bool on);

}  // namespace edgeloop::agent

#endif  // EDGELOOP_AGENT_TCP_BATCH_H_
