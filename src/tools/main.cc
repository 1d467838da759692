// edgeloop: every tool and the server, as subcommands (like git).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "tools/command.h"

namespace edgeloop::tools {

std::vector<Command>& CommandTable() {
  static std::vector<Command> table;
  return table;
}

CommandRegistrar::CommandRegistrar(const char* name, const char* summary, CommandFn run) {
  CommandTable().push_back(Command{name, summary, run});
}

int Fail(const char* command, const Status& status) {
  std::fprintf(stderr, "%s: error: %s\n", command, status.message().c_str());
  return 1;
}

int UsageError(const char* command, const Status& status) {
  std::fprintf(stderr, "%s: error: %s\n(try '%s --help')\n", command, status.message().c_str(), command);
  return 2;
}

bool ParseFlags(Flags& flags, int argc, char** argv, int* exit_code) {
  Status s = flags.Parse(argc, argv);
  if (!s.ok()) {
    *exit_code = UsageError(argv[0], s);
    return false;
  }
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    *exit_code = 0;
    return false;
  }
  return true;
}

namespace {

void PrintHelp() {
  std::vector<Command> cmds = CommandTable();
  std::sort(cmds.begin(), cmds.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
  std::printf(
      "usage: edgeloop <command> [options]\n\n"
      "edgeloop closes the cloud-to-edge ML loop for industrial sensors: train a 1-D CNN on vibration\n"
      "windows, quantize it to INT8 TFLite, publish it to a signed registry, run it on devices, collect\n"
      "their results over MQTT and retrain. 'edgeloop <command> --help' explains each command.\n\ncommands:\n");
  for (const Command& c : cmds) std::printf("  %-20s %s\n", c.name.c_str(), c.summary.c_str());
}

}  // namespace
}  // namespace edgeloop::tools

int main(int argc, char** argv) {
  using edgeloop::tools::CommandTable;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    edgeloop::tools::PrintHelp();
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("edgeloop %s\n", EDGELOOP_VERSION);
    return 0;
  }
  // Longest match: "data generate" before "data".
  const edgeloop::tools::Command* best = nullptr;
  int best_words = 0;
  for (const auto& c : CommandTable()) {
    std::string joined;
    int words = 0;
    for (int i = 1; i < argc && words < 3; ++i) {
      if (words > 0) joined += ' ';
      joined += argv[i];
      ++words;
      if (joined == c.name && words > best_words) {
        best = &c;
        best_words = words;
      }
    }
  }
  if (best == nullptr) {
    std::fprintf(stderr, "edgeloop: unknown command '%s' (see 'edgeloop --help')\n", argv[1]);
    return 2;
  }
  std::string full = "edgeloop " + best->name;
  // argv[best_words] becomes argv[0] of the command, holding its full name.
  char** sub_argv = argv + best_words;
  sub_argv[0] = full.data();
  return best->run(argc - best_words, sub_argv);
}
