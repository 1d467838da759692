// The subcommand table of the `edgeloop` executable. Each src/tools/cmd_*.cc file registers its
// commands with EL_COMMAND at static-initialisation time; main.cc dispatches on the longest match
// of the leading words ("data generate", "edgetpu check", "train").
//
// Conventions every command keeps: `--help` explains; errors go to stderr as
// "edgeloop <command>: error: <message naming file/line/field>"; exit 0 on success, 1 on failure,
// 2 on a usage error. No logic lives in src/tools: commands parse flags and call a module.
#ifndef EDGELOOP_TOOLS_COMMAND_H_
#define EDGELOOP_TOOLS_COMMAND_H_

#include <string>
#include <vector>

#include "edgeloop/common/flags.h"
#include "edgeloop/common/status.h"

namespace edgeloop::tools {

// argv[0] is the full command name ("edgeloop data generate"); flags follow from argv[1].
using CommandFn = int (*)(int argc, char** argv);

struct Command {
  std::string name;     // "data generate"
  std::string summary;  // one line for `edgeloop --help`
  CommandFn run;
};

std::vector<Command>& CommandTable();

struct CommandRegistrar {
  CommandRegistrar(const char* name, const char* summary, CommandFn run);
};

// Prints "edgeloop <command>: error: <status message>" and returns the exit code for it
// (2 for InvalidArgument raised by flag parsing is the caller's choice via UsageError).
int Fail(const char* command, const Status& status);
// Prints the error and "try --help", returns 2.
int UsageError(const char* command, const Status& status);
// Common flag handling: parses, prints help (returns 0 via *exit_code) or a usage error.
// Returns true when the command should go on.
bool ParseFlags(Flags& flags, int argc, char** argv, int* exit_code);

}  // namespace edgeloop::tools

#define EL_TOOLS_CONCAT_INNER_(a, b) a##b
#define EL_TOOLS_CONCAT_(a, b) EL_TOOLS_CONCAT_INNER_(a, b)
#define EL_COMMAND(name, summary, fn) \
  static ::edgeloop::tools::CommandRegistrar EL_TOOLS_CONCAT_(el_command_, __LINE__)(name, summary, fn)

#endif  // EDGELOOP_TOOLS_COMMAND_H_
